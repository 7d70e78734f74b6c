//! One mechanism for the checked `step` and multi-step `forward` of every neuron model.
//!
//! A model implements [`StepLayer`] (its unchecked per-step update, the Norse-style pure step
//! function) and [`Neuron`] (its size and the names used in error messages); [`Neuron`] then
//! provides the shape-checked single step [`Neuron::step`] and the multi-step
//! [`Neuron::forward`] / [`Neuron::forward_with`] over `[batch, time, features...]`, with the
//! state after every step recorded on request ([`NeuronOutput::traced`]).
//!
//! ```
//! use burn::prelude::*;
//! use snn_core::neuron::{LifConfig, Neuron};
//!
//! let device = Device::flex();
//! let lif = LifConfig::new(3).init(&device).unwrap();
//! let x = Tensor::<3>::ones([2, 20, 3], &device) * 4.0;
//! let out = Neuron::forward_with(&lif, x, None, true).unwrap();
//! let v = out.traced(|s| s.v.clone()).unwrap(); // membrane after every step, [2, 20, 3]
//! assert_eq!(v.dims(), [2, 20, 3]);
//! ```

use burn::module::Param;
use burn::prelude::*;

use super::shape;
use crate::error::Result;
use crate::lift::StepLayer;

/// The names a model's checked entry points use in their errors, e.g.
/// `"LifAdEx::step input"`. Build them with [`neuron_contexts!`](crate::neuron_contexts).
#[derive(Clone, Copy, Debug)]
pub struct Contexts {
    /// The single-step input.
    pub step_input: &'static str,
    /// The single-step state.
    pub step_state: &'static str,
    /// The multi-step input.
    pub forward_input: &'static str,
    /// The multi-step initial state.
    pub forward_state: &'static str,
}

/// The [`Contexts`] of a model named `$name`: `neuron_contexts!("LifAdEx")`.
#[macro_export]
macro_rules! neuron_contexts {
    ($name:literal) => {
        $crate::neuron::Contexts {
            step_input: concat!($name, "::step input"),
            step_state: concat!($name, "::step state"),
            forward_input: concat!($name, "::forward input"),
            forward_state: concat!($name, "::forward state"),
        }
    };
}

/// A per-neuron parameter `[size]` filled with `value`, trainable when `learn` is set: how every
/// model stores its time constants and thresholds.
pub(crate) fn per_neuron(
    size: usize,
    value: f64,
    learn: bool,
    device: &Device,
) -> Param<Tensor<1>> {
    Param::from_tensor(Tensor::full([size], value, device)).set_require_grad(learn)
}

/// Per-neuron values for one of a layer's parameters, checked: `values` must be `[size]` and
/// each value pass `check` (which may map it, e.g. an inverse time constant to a time
/// constant). Returns the checked values as a `Param` with the given trainability, on the
/// device of `values`. Read once, when a layer is given per-neuron values (peers' tensor
/// parameters), never per step.
pub(crate) fn per_neuron_values(
    field: &'static str,
    values: Tensor<1>,
    size: usize,
    learn: bool,
    check: impl Fn(f64) -> Result<f64>,
) -> Result<Param<Tensor<1>>> {
    let dims = values.dims();
    if dims != [size] {
        return Err(crate::SnnError::ShapeMismatch {
            context: field,
            expected: format!("[{size}] (one value per neuron)"),
            actual: dims.to_vec(),
        });
    }
    let device = values.device();
    let host = values.into_data().convert::<f64>();
    let checked = host
        .iter::<f64>()
        .map(check)
        .collect::<Result<Vec<f64>>>()?;
    let tensor = Tensor::<1>::from_data(TensorData::new(checked, [size]), &device);
    Ok(Param::from_tensor(tensor).set_require_grad(learn))
}

/// A neuron model's state between steps: every tensor in it is `[batch, size]`.
pub trait NeuronState: Clone {
    /// Checks that every tensor of the state is `[batch, size]`; the error names `context`.
    fn check(&self, batch: usize, size: usize, context: &'static str) -> Result<()>;
}

/// A state with a membrane potential `v`: what a refractory period holds
/// ([`crate::neuron::Refractory`]) and what Norse's `voltage_accumulator` sums. Every model
/// state of the crate with a membrane implements it.
pub trait MembraneState: NeuronState {
    /// The membrane potential `v`, `[batch, size]`.
    fn membrane(&self) -> &Tensor<2>;
    /// The state with its membrane replaced by `v`.
    fn with_membrane(self, v: Tensor<2>) -> Self;
}

/// [`MembraneState`] for states that keep their membrane in a field `v` (invoked in
/// `neuron/mod.rs`, above every model).
macro_rules! membrane_in_v {
    ($($state:ty),* $(,)?) => {$(
        impl MembraneState for $state {
            fn membrane(&self) -> &Tensor<2> {
                &self.v
            }
            // a state whose only field is `v` makes the update a no-op
            #[allow(clippy::needless_update)]
            fn with_membrane(self, v: Tensor<2>) -> Self {
                Self { v, ..self }
            }
        }
    )*};
}
pub(crate) use membrane_in_v;

/// [`MembraneState`] for wrapper states (a recurrent cell's, a refractory period's) whose
/// membrane is the one of the wrapped state in their field `neuron`.
macro_rules! membrane_in_neuron {
    ($($state:ident),* $(,)?) => {$(
        impl<S: MembraneState> MembraneState for $state<S> {
            fn membrane(&self) -> &Tensor<2> {
                self.neuron.membrane()
            }
            fn with_membrane(self, v: Tensor<2>) -> Self {
                Self {
                    neuron: self.neuron.with_membrane(v),
                    ..self
                }
            }
        }
    )*};
}
pub(crate) use membrane_in_neuron;

/// Checks that each of `tensors` is `[batch, size]`: the body of most [`NeuronState::check`]s.
pub fn check_state_tensors<'a>(
    tensors: impl IntoIterator<Item = &'a Tensor<2>>,
    batch: usize,
    size: usize,
    context: &'static str,
) -> Result<()> {
    tensors
        .into_iter()
        .try_for_each(|t| shape::state(t, batch, size, context))
}

/// One optional part of a model's state (a synaptic current, a refractory countdown) that is
/// present exactly when the layer's configuration has it.
pub(crate) struct StatePart {
    /// What the layer has, with its config field: `"synaptic current (tau_syn_ms)"`.
    pub layer: &'static str,
    /// The part of the state, with its field: `"current (i)"`.
    pub state: &'static str,
    /// Whether the state given carries it.
    pub carried: bool,
    /// Whether the layer needs it.
    pub wanted: bool,
}

/// Rejects a state whose optional parts are not the layer's: a missing part would make the layer
/// silently another model (no current, no refractoriness), an extra one would be ignored.
pub(crate) fn check_state_parts(
    context: &'static str,
    parts: impl IntoIterator<Item = StatePart>,
) -> Result<()> {
    for part in parts {
        if part.carried != part.wanted {
            let reason = if part.wanted {
                format!(
                    "the layer has a {}, the state carries no {}",
                    part.layer, part.state
                )
            } else {
                format!(
                    "the layer has no {}, the state carries a {}",
                    part.layer, part.state
                )
            };
            return Err(crate::SnnError::Rejected {
                field: context,
                reason,
            });
        }
    }
    Ok(())
}

/// A layer of `size` neurons that advances by [`StepLayer::advance`] on `[batch, size]` tensors.
///
/// The provided methods add what users call: shape checks with typed errors, any feature shape
/// (`[batch, features...]`), and the unrolled time loop.
pub trait Neuron: StepLayer<State: NeuronState> {
    /// Error-message names of the entry points.
    const CONTEXTS: Contexts;

    /// Number of neurons: the product of the feature dimensions of the input.
    fn neurons(&self) -> usize;

    /// Number of input features per step: [`Neuron::neurons`] unless the layer maps its input
    /// through weights (the recurrent cells, whose input is `[batch, (time,) inputs]` and whose
    /// output is `[batch, (time,) neurons]`). Such a layer takes flat features only: its output
    /// has `neurons` features where the input has `inputs`.
    fn inputs(&self) -> usize {
        self.neurons()
    }

    /// Checks a state given by the caller: every tensor `[batch, neurons]` and, where the kind
    /// of state depends on the configuration (Spyx's `Alif` and `CubaLif` carry a second
    /// tensor), that it is this layer's kind. A typed error, never a panic later in the step.
    fn check_state(&self, state: &Self::State, batch: usize, context: &'static str) -> Result<()> {
        state.check(batch, self.neurons(), context)
    }

    /// One step. `input`: `[batch, features...]` with `neurons()` features in all; `state` from
    /// [`StepLayer::initial_state`] or a previous step. Returns the output shaped like `input`
    /// and the new state.
    fn step<const D: usize>(
        &self,
        input: Tensor<D>,
        state: Self::State,
    ) -> Result<(Tensor<D>, Self::State)> {
        let dims = input.dims();
        let x = shape::step(input, self.inputs(), Self::CONTEXTS.step_input)?;
        let out_dims = shape::output_dims(
            dims,
            self.inputs(),
            self.neurons(),
            Self::CONTEXTS.step_input,
        )?;
        self.check_state(&state, dims[0], Self::CONTEXTS.step_state)?;
        let (y, state) = self.advance(&self.prepare(), x, state);
        Ok((y.reshape(out_dims), state))
    }

    /// Runs a sequence `[batch, time, features...]` from the resting state.
    fn forward<const D: usize>(&self, input: Tensor<D>) -> Result<NeuronOutput<Self::State, D>> {
        self.forward_with(input, None, false)
    }

    /// The checks every multi-step path makes before it runs: `input` as `[batch, time, inputs]`,
    /// the output's dims, and `state` checked against the batch (the resting state if `None`).
    /// [`Neuron::forward_with`] and the fused paths of `Lif` and `Li` share it.
    fn sequence_input<const D: usize>(
        &self,
        input: Tensor<D>,
        state: Option<Self::State>,
    ) -> Result<(Tensor<3>, [usize; D], Self::State)> {
        let in_dims = input.dims();
        let size = self.neurons();
        let x = shape::sequence(input, self.inputs(), Self::CONTEXTS.forward_input)?;
        let dims = shape::output_dims(in_dims, self.inputs(), size, Self::CONTEXTS.forward_input)?;
        let state = match state {
            Some(state) => {
                self.check_state(&state, dims[0], Self::CONTEXTS.forward_state)?;
                state
            }
            None => self.initial_state(dims[0]),
        };
        Ok((x, dims, state))
    }

    /// Runs a whole sequence `x` `[batch, time, inputs]` from a checked `state` by a faster
    /// route than the step loop, where the layer has one (the fused op of [`crate::Lif`] and
    /// [`crate::Li`]); it must give the outputs and final state of the step loop.
    /// [`Neuron::forward_with`] tries it whenever nothing is recorded. The default has none: it
    /// declines and gives the operands back, and the step loop runs.
    fn forward_fused(&self, x: Tensor<3>, state: Self::State) -> FusedRun<Self::State> {
        FusedRun::Declined(x, state)
    }

    /// Whether [`Neuron::forward_fused_recurrent`] takes a fused route on `device` (the fused
    /// recurrent op of [`crate::Lif`] on the CPU backends and wgpu). [`crate::neuron::Recurrent`] asks before it
    /// projects its input for that route. Default false.
    fn fused_recurrent_path(&self, device: &Device) -> bool {
        let _ = device;
        false
    }

    /// Runs this layer inside a recurrent cell over a whole sequence: the current of step `t`
    /// is `x[:, t, :] + z_{t−1}·w_recᵀ`, where `z` is the layer's own output (`z0` before the
    /// first step), `x` `[batch, time, neurons]` the projected input and `w_rec`
    /// `[neurons (receiver), neurons (sender)]` the recurrent weights. Returns the outputs
    /// `[batch, time, neurons]` and the final state; `state` must be checked. The default is
    /// the step loop ([`recurrent_step_loop`]); a layer with a fused route overrides it.
    fn forward_fused_recurrent(
        &self,
        x: Tensor<3>,
        w_rec: Tensor<2>,
        z0: Tensor<2>,
        state: Self::State,
    ) -> (Tensor<3>, Self::State) {
        recurrent_step_loop(self, x, w_rec, z0, state)
    }

    /// Runs a sequence from `state` (the resting state if `None`), keeping the state after every
    /// step when `record` is set. Without `record`, a layer's [`Neuron::forward_fused`] route
    /// runs when it has one.
    fn forward_with<const D: usize>(
        &self,
        input: Tensor<D>,
        state: Option<Self::State>,
        record: bool,
    ) -> Result<NeuronOutput<Self::State, D>> {
        let (x, dims, state) = self.sequence_input(input, state)?;
        let (x, state) = if record {
            (x, state)
        } else {
            match self.forward_fused(x, state) {
                FusedRun::Ran(output, state) => {
                    return Ok(NeuronOutput {
                        spikes: output.reshape(dims),
                        state,
                        trace: Vec::new(),
                        dims,
                    });
                }
                FusedRun::Declined(x, state) => (x, state),
            }
        };
        let prepared = self.prepare();
        let run = shape::unroll(x, dims, state, record, |x_t, s| {
            self.advance(&prepared, x_t, s)
        });
        Ok(NeuronOutput {
            spikes: run.output,
            state: run.state,
            trace: run.trace,
            dims,
        })
    }
}

/// The step loop of [`Neuron::forward_fused_recurrent`]: `layer`'s own step driven by
/// `x[:, t, :] + z_{t−1}·w_recᵀ` (`w_rec` `[receiver, sender]`), for layers without a fused route or devices without the op.
pub fn recurrent_step_loop<L: StepLayer + ?Sized>(
    layer: &L,
    x: Tensor<3>,
    w_rec: Tensor<2>,
    z0: Tensor<2>,
    state: L::State,
) -> (Tensor<3>, L::State) {
    let [batch, time, size] = x.dims();
    if time == 0 {
        return (x, state);
    }
    let prepared = layer.prepare();
    let w_rec_t = w_rec.transpose();
    let (mut z, mut state) = (z0, state);
    let mut outputs = Vec::with_capacity(time);
    for t in 0..time {
        let x_t = x.clone().slice(s![.., t, ..]).reshape([batch, size]);
        let (z_t, next) = layer.advance(&prepared, x_t + z.matmul(w_rec_t.clone()), state);
        (z, state) = (z_t.clone(), next);
        outputs.push(z_t);
    }
    (Tensor::stack(outputs, 1), state)
}

/// What [`Neuron::forward_fused`] did with a sequence.
#[derive(Clone, Debug)]
pub enum FusedRun<S> {
    /// It ran: the outputs `[batch, time, neurons]` and the final state.
    Ran(Tensor<3>, S),
    /// The layer has no faster route here: the operands `x` and `state`, given back for the
    /// step loop.
    Declined(Tensor<3>, S),
}

/// The result of [`Neuron::forward`], for every model: the output of every step, the final
/// state and, when recorded, the state after every step. Models add accessors for the fields
/// of their state (`out.v()` for [`crate::Lif`]).
#[derive(Clone, Debug)]
pub struct NeuronOutput<S, const D: usize> {
    /// The output of every step, `[batch, time, features...]`: the spikes of a spiking model,
    /// the membrane of a non-spiking readout ([`crate::Li`]).
    pub spikes: Tensor<D>,
    /// The state after the last step.
    pub state: S,
    /// The state after every step, if recording was asked for (empty otherwise).
    pub trace: Vec<S>,
    dims: [usize; D],
}

impl<S, const D: usize> NeuronOutput<S, D> {
    /// One field of the recorded states stacked to `[batch, time, features...]`, e.g.
    /// `out.traced(|s| s.v.clone())`; `None` if nothing was recorded.
    pub fn traced(&self, field: impl Fn(&S) -> Tensor<2>) -> Option<Tensor<D>> {
        shape::stack_trace(&self.trace, self.dims, |s| Some(field(s)))
    }
}

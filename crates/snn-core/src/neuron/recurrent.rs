//! Recurrent cells with trainable recurrent weights (Norse's `*RecurrentCell`).

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;

use super::layer::{Contexts, FusedRun, Neuron, NeuronState};
use super::lif::{Lif, LifConfig};
use super::lsnn::{Lsnn, LsnnConfig};
use super::shape;
use crate::error::{SnnError, nonzero};
use crate::lift::StepLayer;

/// Configuration of a [`Recurrent`] cell: `hidden_size` neurons driven by `input_size` input
/// features through trainable input weights `W_in` (`[hidden, input]`) and by their own spikes
/// of the previous step through trainable recurrent weights `W_rec` (`[hidden, hidden]`).
///
/// Each step feeds the neuron the current
///
/// ```text
/// c = W_in·x + W_rec·z_prev        (torch's linear: x @ W_inᵀ + z_prev @ W_recᵀ)
/// ```
///
/// exactly where its feed-forward step takes its input, so [`LifRecurrent`] is Norse's
/// `lif_step` (`LIFRecurrentCell`) and [`LsnnRecurrent`] Norse's `lsnn_step`
/// (`LSNNRecurrentCell`). Without autapses the diagonal of `W_rec` is masked to zero at every
/// step, so neither the forward pass nor the gradient (nor an optimizer step) ever uses it:
/// Norse zeroes the diagonal once and masks its gradient with a hook.
#[derive(Config, Debug)]
pub struct RecurrentConfig {
    /// Input features per step.
    pub input_size: usize,
    /// Number of neurons.
    pub hidden_size: usize,
    /// Keep self-connections (the diagonal of `W_rec`). Default false (Norse).
    #[config(default = false)]
    pub autapses: bool,
    /// Train `W_in` and `W_rec` (and the bias). Default true.
    #[config(default = true)]
    pub learn_weights: bool,
    /// Add a trainable input bias `b` (`[hidden]`) to the current: `c = W_in·x + b + W_rec·z_prev`,
    /// as a `Linear(input, hidden)` in front of the cell would (snnTorch's and the benchmark
    /// workloads' `fc1`). Drawn as torch's `Linear` bias, `U(−1/√input, 1/√input)`. Default
    /// false (Norse's cells have none).
    #[config(default = false)]
    pub bias: bool,
}

impl RecurrentConfig {
    /// Checks the sizes.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("input_size", self.input_size)?;
        nonzero("hidden_size", self.hidden_size).map(drop)
    }

    /// Wraps `neuron` (which must have `hidden_size` neurons) with weights drawn as Norse's
    /// `SNNRecurrentCell` does: `N(0, 1)·√(2/hidden_size)` for both matrices.
    pub fn init<N: Neuron + Module>(
        &self,
        neuron: N,
        device: &Device,
    ) -> crate::Result<Recurrent<N>> {
        self.validate()?;
        if neuron.neurons() != self.hidden_size {
            return Err(SnnError::ShapeMismatch {
                context: "RecurrentConfig::init neuron",
                expected: format!(
                    "a neuron layer of hidden_size = {} neurons",
                    self.hidden_size
                ),
                actual: vec![neuron.neurons()],
            });
        }
        let scale = (2.0 / self.hidden_size as f64).sqrt();
        let draw = |rows, cols| {
            Tensor::<2>::random([rows, cols], Distribution::Normal(0.0, 1.0), device)
                .mul_scalar(scale)
        };
        let (h, i) = (self.hidden_size, self.input_size);
        let bound = 1.0 / (i as f64).sqrt();
        let bias = self.bias.then(|| {
            Param::from_tensor(Tensor::<1>::random(
                [h],
                Distribution::Uniform(-bound, bound),
                device,
            ))
            .set_require_grad(self.learn_weights)
        });
        Ok(Recurrent {
            input_weights: Param::from_tensor(draw(h, i)).set_require_grad(self.learn_weights),
            input_bias: bias,
            recurrent_weights: Param::from_tensor(draw(h, h)).set_require_grad(self.learn_weights),
            neuron,
            config: self.clone(),
        })
    }

    /// Norse's `LIFRecurrentCell(input_size, hidden_size)` with `lif` as its neuron parameters
    /// (its size is set to `hidden_size`; the reset is detached, as Norse's `lif_step` does).
    pub fn init_lif(&self, lif: &LifConfig, device: &Device) -> crate::Result<LifRecurrent> {
        let lif = LifConfig {
            size: self.hidden_size,
            detach_reset: true,
            ..lif.clone()
        };
        self.init(lif.init(device)?, device)
    }

    /// Norse's `LSNNRecurrentCell(input_size, hidden_size)` with `lsnn` as its neuron parameters
    /// (its size is set to `hidden_size`; reset and threshold jump are detached, as Norse's
    /// `lsnn_step` does).
    pub fn init_lsnn(&self, lsnn: &LsnnConfig, device: &Device) -> crate::Result<LsnnRecurrent> {
        let lsnn = LsnnConfig {
            size: self.hidden_size,
            detach_reset: true,
            ..lsnn.clone()
        };
        self.init(lsnn.init(device)?, device)
    }
}

/// A recurrent cell: a neuron layer `N` fed through trainable input and recurrent weights; see
/// [`RecurrentConfig`]. Its input is `[batch, (time,) input_size]`, its output the spikes
/// `[batch, (time,) hidden_size]`.
#[derive(Module, Debug)]
pub struct Recurrent<N: Module> {
    /// `W_in`, `[hidden_size, input_size]` (row = receiving neuron).
    pub input_weights: Param<Tensor<2>>,
    /// `W_rec`, `[hidden_size, hidden_size]` (row = receiving neuron, column = sender).
    pub recurrent_weights: Param<Tensor<2>>,
    /// The input bias `[hidden_size]`, if the config asks for one.
    pub input_bias: Option<Param<Tensor<1>>>,
    /// The neurons.
    pub neuron: N,
    #[module(skip)]
    config: RecurrentConfig,
}

/// Norse's `LIFRecurrentCell` (`lif_step`).
pub type LifRecurrent = Recurrent<Lif>;
/// Norse's `LSNNRecurrentCell` (`lsnn_step`).
pub type LsnnRecurrent = Recurrent<Lsnn>;

/// State of a [`Recurrent`] cell: the spikes of the last step and the neurons' own state.
#[derive(Clone, Debug)]
pub struct RecurrentState<S> {
    /// Spikes of the previous step, `[batch, hidden_size]` (Norse's `state.z`).
    pub z: Tensor<2>,
    /// The neuron layer's state.
    pub neuron: S,
}

impl<S: NeuronState> NeuronState for RecurrentState<S> {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        shape::state(&self.z, batch, size, context)?;
        self.neuron.check(batch, size, context)
    }
}

/// The per-sequence constants of a [`Recurrent`] cell: the transposed (and masked) weights and
/// the neuron's own.
#[derive(Clone, Debug)]
pub struct RecurrentDynamics<P> {
    /// `W_inᵀ`, `[input, hidden]`.
    w_in_t: Tensor<2>,
    /// `W_recᵀ` (diagonal zeroed without autapses), `[hidden, hidden]`.
    w_rec_t: Tensor<2>,
    /// The input bias as a row, `[1, hidden]`.
    bias: Option<Tensor<2>>,
    neuron: P,
}

impl<N: Neuron + Module> Recurrent<N> {
    /// The configuration the cell was built from.
    pub fn config(&self) -> &RecurrentConfig {
        &self.config
    }

    /// The same cell with the given weights (`W_in`: `[hidden_size, input_size]`, `W_rec`:
    /// `[hidden_size, hidden_size]`, torch's `[out, in]` layout), trainable if the config says so.
    pub fn with_weights(
        self,
        input_weights: Tensor<2>,
        recurrent_weights: Tensor<2>,
    ) -> crate::Result<Self> {
        let (h, i) = (self.config.hidden_size, self.config.input_size);
        let check = |w: &Tensor<2>, want: [usize; 2], context| {
            if w.dims() == want {
                Ok(())
            } else {
                Err(SnnError::ShapeMismatch {
                    context,
                    expected: format!("{want:?}"),
                    actual: w.dims().to_vec(),
                })
            }
        };
        check(
            &input_weights,
            [h, i],
            "Recurrent::with_weights input_weights",
        )?;
        check(
            &recurrent_weights,
            [h, h],
            "Recurrent::with_weights recurrent_weights",
        )?;
        let learn = self.config.learn_weights;
        Ok(Self {
            input_weights: Param::from_tensor(input_weights).set_require_grad(learn),
            recurrent_weights: Param::from_tensor(recurrent_weights).set_require_grad(learn),
            ..self
        })
    }

    /// The resting state for a batch: no previous spikes, the neurons' resting state.
    pub fn init_state(&self, batch: usize) -> RecurrentState<N::State> {
        StepLayer::initial_state(self, batch)
    }

    /// The recurrent weights as used: the diagonal zeroed unless autapses are allowed.
    pub fn effective_recurrent_weights(&self) -> Tensor<2> {
        let w = self.recurrent_weights.val();
        if self.config.autapses {
            w
        } else {
            let h = self.config.hidden_size;
            w * Tensor::<2>::eye(h, &self.input_weights.val().device())
                .neg()
                .add_scalar(1.0)
        }
    }
}

impl<N: Neuron + Module> StepLayer for Recurrent<N> {
    type State = RecurrentState<N::State>;
    type Prepared = RecurrentDynamics<N::Prepared>;
    fn prepare(&self) -> Self::Prepared {
        RecurrentDynamics {
            w_in_t: self.input_weights.val().transpose(),
            w_rec_t: self.effective_recurrent_weights().transpose(),
            bias: self.input_bias.as_ref().map(|b| b.val().unsqueeze()),
            neuron: self.neuron.prepare(),
        }
    }
    fn initial_state(&self, batch: usize) -> Self::State {
        let device = self.input_weights.val().device();
        RecurrentState {
            z: Tensor::zeros([batch, self.config.hidden_size], &device),
            neuron: self.neuron.initial_state(batch),
        }
    }
    fn advance(
        &self,
        p: &Self::Prepared,
        x: Tensor<2>,
        s: Self::State,
    ) -> (Tensor<2>, Self::State) {
        let mut current = x.matmul(p.w_in_t.clone());
        if let Some(bias) = &p.bias {
            current = current + bias.clone();
        }
        let current = current + s.z.matmul(p.w_rec_t.clone());
        let (z, neuron) = self.neuron.advance(&p.neuron, current, s.neuron);
        (z.clone(), RecurrentState { z, neuron })
    }
}

impl<N: Neuron + Module> Neuron for Recurrent<N> {
    const CONTEXTS: Contexts = crate::neuron_contexts!("Recurrent");
    /// The fused route where the neuron layer has one ([`Neuron::fused_recurrent_path`]: a
    /// [`Lif`] on a CPU backend or wgpu): the input projection for all steps at once (event-driven for
    /// sparse binary input, [`crate::sparse::spike_linear`]), then the fused recurrent op
    /// ([`crate::fused::recurrent_leaky_sequence`]).
    fn forward_fused(
        &self,
        x: Tensor<3>,
        state: RecurrentState<N::State>,
    ) -> FusedRun<RecurrentState<N::State>> {
        if !self.neuron.fused_recurrent_path(&x.device()) {
            return FusedRun::Declined(x, state);
        }
        let [batch, time, _] = x.dims();
        let h = self.config.hidden_size;
        let bias = self.input_bias.as_ref().map(Param::val);
        let current = crate::sparse::spike_linear(x, self.input_weights.val().transpose(), bias)
            .expect("the input was checked against input_size");
        let w_rec = self.effective_recurrent_weights();
        let (spikes, neuron) =
            self.neuron
                .forward_fused_recurrent(current, w_rec, state.z.clone(), state.neuron);
        let z = if time == 0 {
            state.z
        } else {
            spikes
                .clone()
                .slice(s![.., time - 1, ..])
                .reshape([batch, h])
        };
        FusedRun::Ran(spikes, RecurrentState { z, neuron })
    }
    fn neurons(&self) -> usize {
        self.config.hidden_size
    }
    fn inputs(&self) -> usize {
        self.config.input_size
    }
}

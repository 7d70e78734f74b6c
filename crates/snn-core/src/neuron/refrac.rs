//! An absolute refractory period for the LIF family (Norse's `lif_refrac` and `lif_adex_refrac`):
//! one mechanism, [`Refractory`], that wraps any model implementing [`RefractoryNeuron`]
//! ([`Lif`], [`LifEx`], [`LifAdEx`]).
//!
//! # Equations (Norse 1.1.0 `compute_refractory_update`)
//!
//! The state gains a refractory counter `ρ` (in steps, 0 at rest). Each step runs the wrapped
//! model's own step (giving spikes `z'` and membrane `v'`), then, with `v` the membrane before the
//! step:
//!
//! ```text
//! m = H(ρ)                          (strict; refractory while ρ > 0)
//! v ← (1 − m)·v' + m·v              (the membrane is held while refractory)
//! z = (1 − m)·z'                    (no spikes while refractory)
//! ρ ← (1 − z)·relu(ρ − m) + z·ρ_reset
//! ```
//!
//! `m` is Norse's `threshold(ρ, method, alpha)`: the spike function, so its backward is the
//! model's surrogate at `ρ`, as in Norse. Everything else in the wrapped state (synaptic
//! current, adaptation) keeps evolving while refractory. In particular, for AdEx, a suppressed
//! spike (`z' = 1` while `m = 1`) still adds `adaptation_spike` to `a`, as Norse does.
//!
//! # Refractory period in ms and Norse's `rho_reset`
//!
//! A spike at step `t` sets `ρ = ρ_reset`; steps `t+1 … t+ρ_reset` are refractory (their
//! `ρ` before the step is `ρ_reset, …, 1`) and step `t+ρ_reset+1` may spike again. So the
//! period is `refractory_ms = ρ_reset · dt_ms`, and `ρ_reset = refractory_ms / dt_ms`
//! (Norse's default `rho_reset = 5` at `dt = 1 ms` is 5 ms).
//!
//! `refractory_ms` must be finite, `>= 0` ([`SnnError::OutOfRange`] otherwise) and a whole
//! number of steps ([`SnnError::Invalid`] otherwise, which also rules out a positive period
//! shorter than `dt_ms`): the counter lives on the step grid, and a fractional Norse
//! `rho_reset = r` silently rounds the period up to `⌈r⌉` steps, which this port refuses rather
//! than reproduce. `refractory_ms = 0` gives the wrapped model unchanged.
//!
//! Each neuron may have a period of its own (Norse takes a tensor `rho_reset`): see
//! [`PerNeuronRefractory`], with every value checked by the same rules.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::adex::{LifAdEx, LifAdExConfig, LifAdExDynamics, LifAdExState, lif_adex_step};
use super::layer::{Contexts, MembraneState, Neuron, NeuronState, per_neuron_values};
use super::leaky::Coefficient;
use super::lif::{Lif, LifConfig, LifDynamics, LifState, lif_step};
use super::lif_ex::LifEx;
use super::shape;
use crate::error::SnnError;
use crate::lift::StepLayer;
use crate::spike::spike_with;
use crate::surrogate::Surrogate;

/// A neuron model that [`Refractory`] can wrap: a membrane in its state, a time step, a surrogate.
pub trait RefractoryNeuron: Neuron<State: MembraneState> {
    /// Error-message names of the refractory model's entry points, e.g. `"LifRefrac::step input"`.
    const REFRACTORY_CONTEXTS: Contexts;
    /// The model's step in ms.
    fn dt_ms(&self) -> f64;
    /// The model's surrogate, used for the backward of the refractory mask `H(ρ)` as well.
    fn surrogate(&self) -> Surrogate;
}

impl RefractoryNeuron for Lif {
    const REFRACTORY_CONTEXTS: Contexts = crate::neuron_contexts!("LifRefrac");
    fn dt_ms(&self) -> f64 {
        self.config().dt_ms
    }
    fn surrogate(&self) -> Surrogate {
        self.config().surrogate
    }
}

impl RefractoryNeuron for LifEx {
    const REFRACTORY_CONTEXTS: Contexts = crate::neuron_contexts!("LifExRefrac");
    fn dt_ms(&self) -> f64 {
        self.config().dt_ms
    }
    fn surrogate(&self) -> Surrogate {
        self.config().surrogate
    }
}

impl RefractoryNeuron for LifAdEx {
    const REFRACTORY_CONTEXTS: Contexts = crate::neuron_contexts!("LifAdExRefrac");
    fn dt_ms(&self) -> f64 {
        self.config().dt_ms
    }
    fn surrogate(&self) -> Surrogate {
        self.config().surrogate
    }
}

/// The refractory counter reset `ρ_reset` (in steps) of a period of `refractory_ms` at `dt_ms`;
/// see the module docs of `neuron/refrac.rs` (a private module) for the rules.
pub fn refractory_steps(refractory_ms: f64, dt_ms: f64) -> crate::Result<f32> {
    if !(refractory_ms.is_finite() && refractory_ms >= 0.0) {
        return Err(SnnError::out_of_range(
            "refractory_ms",
            "[0, ∞)",
            refractory_ms,
        ));
    }
    let dt_ms = crate::error::positive("dt_ms", dt_ms)?;
    let steps = refractory_ms / dt_ms;
    let whole = steps.round();
    if (steps - whole).abs() > 1e-6 * whole.max(1.0) {
        return Err(SnnError::Invalid {
            field: "refractory_ms",
            value: refractory_ms,
            reason: format!(
                "the refractory period must be a whole number of steps of dt_ms = {dt_ms} \
                 (it is {steps} steps)"
            ),
        });
    }
    Ok(whole as f32)
}

/// Norse's `rho_reset` (steps) as a period in ms at `dt_ms`, checked as in [`refractory_steps`].
pub(crate) fn norse_rho_reset(rho_reset: f64, dt_ms: f64) -> crate::Result<f64> {
    if !(rho_reset.is_finite() && rho_reset >= 0.0) {
        return Err(SnnError::out_of_range("rho_reset", "[0, ∞)", rho_reset));
    }
    if rho_reset.fract() != 0.0 {
        return Err(SnnError::Invalid {
            field: "rho_reset",
            value: rho_reset,
            reason: "the refractory counter must be a whole number of steps".into(),
        });
    }
    Ok(rho_reset * dt_ms)
}

/// A neuron model `M` with an absolute refractory period (Norse's `lif_refrac` and
/// `lif_adex_refrac`); see the module docs of `neuron/refrac.rs` for the equations. Built from
/// [`LifRefracConfig`] / [`LifAdExRefracConfig`], or by [`Refractory::new`] around any
/// [`RefractoryNeuron`].
#[derive(Module, Debug)]
pub struct Refractory<M> {
    /// The wrapped model, with its parameters.
    pub neuron: M,
    refractory_ms: f64,
    rho_reset: f32,
    rho_reset_per_neuron: Option<Param<Tensor<1>>>,
}

/// LIF with a refractory period (Norse `lif_refrac_feed_forward_step`, `LIFRefracCell`).
pub type LifRefrac = Refractory<Lif>;
/// Adaptive exponential LIF with a refractory period (Norse `lif_adex_refrac_feed_forward_step`).
pub type LifAdExRefrac = Refractory<LifAdEx>;

/// State of a [`Refractory`] model: the wrapped model's state and the counter `ρ`.
#[derive(Clone, Debug)]
pub struct RefractoryState<S> {
    /// The wrapped model's state.
    pub neuron: S,
    /// Refractory counter `ρ` in steps, `[batch, size]` (refractory while `ρ > 0`).
    pub rho: Tensor<2>,
}

/// State of a [`LifRefrac`] layer (Norse's `LIFRefracFeedForwardState`).
pub type LifRefracState = RefractoryState<LifState>;
/// State of a [`LifAdExRefrac`] layer (Norse's `LIFAdExRefracFeedForwardState`).
pub type LifAdExRefracState = RefractoryState<LifAdExState>;

impl<S: NeuronState> NeuronState for RefractoryState<S> {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        self.neuron.check(batch, size, context)?;
        shape::state(&self.rho, batch, size, context)
    }
}

impl<S> RefractoryState<S> {
    /// The wrapped state, not refractory (`ρ = 0`).
    pub fn resting(neuron: S, batch: usize, size: usize, device: &Device) -> Self {
        Self {
            neuron,
            rho: Tensor::zeros([batch, size], device),
        }
    }
}

/// The per-step constants of a [`Refractory`] model: the wrapped model's and `ρ_reset`.
#[derive(Clone, Debug)]
pub struct RefractoryDynamics<P> {
    /// The wrapped model's constants.
    pub neuron: P,
    rho_reset: Coefficient,
    surrogate: Surrogate,
}

/// `LifRefrac`'s per-step constants.
pub type LifRefracDynamics = RefractoryDynamics<LifDynamics>;
/// `LifAdExRefrac`'s per-step constants.
pub type LifAdExRefracDynamics = RefractoryDynamics<LifAdExDynamics>;

/// One refractory step around `neuron_step` (the wrapped model's pure step function), state in
/// and state out: `input` and the state are `[batch, size]`. No shape checks.
pub fn refractory_step<S: MembraneState, P>(
    input: Tensor<2>,
    state: RefractoryState<S>,
    dynamics: &RefractoryDynamics<P>,
    neuron_step: impl FnOnce(Tensor<2>, S, &P) -> (Tensor<2>, S),
) -> (Tensor<2>, RefractoryState<S>) {
    let held = state.neuron.membrane().clone();
    let (z, next) = neuron_step(input, state.neuron, &dynamics.neuron);
    let mask = spike_with(state.rho.clone(), dynamics.surrogate, false);
    let free = mask.clone().neg().add_scalar(1.0);
    let v = free.clone() * next.membrane().clone() + mask.clone() * held;
    let z = free * z;
    let rho = countdown(state.rho, mask, &z, &dynamics.rho_reset);
    (
        z,
        RefractoryState {
            neuron: next.with_membrane(v),
            rho,
        },
    )
}

/// Norse's refractory counter update `ρ ← (1 − z)·relu(ρ − m) + z·ρ_reset`, with `m = H(ρ)` the
/// mask of the step, `z` its spikes and `ρ_reset` shared or per neuron.
pub(crate) fn countdown(
    rho: Tensor<2>,
    mask: Tensor<2>,
    z: &Tensor<2>,
    rho_reset: &Coefficient,
) -> Tensor<2> {
    let counting = z.clone().neg().add_scalar(1.0) * relu(rho - mask);
    counting + rho_reset.times(z.clone())
}

/// The parts of a refractory model that [`PerNeuronRefractory`] sets: its size, its step in
/// ms, and the slot for one counter reset per neuron (empty: every neuron has the shared one).
pub struct RefractoryParts<'a> {
    /// Number of neurons.
    pub size: usize,
    /// The model's step in ms.
    pub dt_ms: f64,
    /// `ρ_reset` per neuron in steps, `[size]`.
    pub rho_reset: &'a mut Option<Param<Tensor<1>>>,
}

/// One refractory period per neuron (Norse's tensor `rho_reset`) for the refractory models
/// ([`LifRefrac`], [`LifAdExRefrac`], [`crate::neuron::LifMcRefrac`]). Each value obeys the
/// rules of the shared one (finite, `>= 0`, a whole number of steps); the values are saved with
/// the layer and not trained, and replace the shared period for every neuron.
pub trait PerNeuronRefractory: Sized {
    /// The model's refractory parts.
    fn refractory_parts(&mut self) -> RefractoryParts<'_>;

    /// The per-neuron `ρ_reset` in steps, `[size]`; `None` when every neuron has the shared one.
    fn rho_reset_per_neuron(&self) -> Option<Tensor<1>>;

    /// The same layer with one refractory period per neuron, in ms, `[size]`.
    ///
    /// # Errors
    /// [`SnnError::ShapeMismatch`] unless `[size]`; those of [`refractory_steps`] for a value.
    fn with_refractory_ms(mut self, refractory_ms: Tensor<1>) -> crate::Result<Self> {
        let parts = self.refractory_parts();
        let dt_ms = parts.dt_ms;
        *parts.rho_reset = Some(per_neuron_values(
            "refractory_ms",
            refractory_ms,
            parts.size,
            false,
            |ms| refractory_steps(ms, dt_ms).map(f64::from),
        )?);
        Ok(self)
    }

    /// Norse's tensor `rho_reset`: one counter reset per neuron in steps, `[size]`, each a
    /// whole number `>= 0`.
    ///
    /// # Errors
    /// [`SnnError::ShapeMismatch`] unless `[size]`; [`SnnError::OutOfRange`] or
    /// [`SnnError::Invalid`] for a value (as [`LifRefracConfig::from_norse`]).
    fn with_norse_rho_reset(mut self, rho_reset: Tensor<1>) -> crate::Result<Self> {
        let parts = self.refractory_parts();
        let dt_ms = parts.dt_ms;
        *parts.rho_reset = Some(per_neuron_values(
            "rho_reset",
            rho_reset,
            parts.size,
            false,
            |rho| norse_rho_reset(rho, dt_ms).map(|_| rho),
        )?);
        Ok(self)
    }
}

/// The counter reset a step uses: the per-neuron values where set, else the shared one.
pub(crate) fn counter_reset(per_neuron: &Option<Param<Tensor<1>>>, shared: f32) -> Coefficient {
    Coefficient::of(per_neuron.as_ref().map(Param::val), f64::from(shared))
}

/// One LIF step with a refractory period (Norse's `lif_refrac_feed_forward_step`).
pub fn lif_refrac_step(
    input: Tensor<2>,
    state: LifRefracState,
    dynamics: &LifRefracDynamics,
) -> (Tensor<2>, LifRefracState) {
    refractory_step(input, state, dynamics, lif_step)
}

/// One AdEx step with a refractory period (Norse's `lif_adex_refrac_feed_forward_step`).
pub fn lif_adex_refrac_step(
    input: Tensor<2>,
    state: LifAdExRefracState,
    dynamics: &LifAdExRefracDynamics,
) -> (Tensor<2>, LifAdExRefracState) {
    refractory_step(input, state, dynamics, lif_adex_step)
}

impl<M: RefractoryNeuron> Refractory<M> {
    /// Wraps `neuron` with a refractory period of `refractory_ms` (a whole number of the
    /// model's steps, see [`refractory_steps`]).
    pub fn new(neuron: M, refractory_ms: f64) -> crate::Result<Self> {
        let rho_reset = refractory_steps(refractory_ms, neuron.dt_ms())?;
        Ok(Self {
            neuron,
            refractory_ms,
            rho_reset,
            rho_reset_per_neuron: None,
        })
    }

    /// The shared refractory period in ms (per-neuron periods, when set, replace it:
    /// [`PerNeuronRefractory::rho_reset_per_neuron`]).
    pub fn refractory_ms(&self) -> f64 {
        self.refractory_ms
    }

    /// The shared counter reset `ρ_reset` in steps (Norse's `rho_reset`).
    pub fn rho_reset(&self) -> f32 {
        self.rho_reset
    }

    /// Resolves the wrapped model's constants and `ρ_reset`.
    pub fn dynamics(&self) -> RefractoryDynamics<M::Prepared> {
        RefractoryDynamics {
            neuron: self.neuron.prepare(),
            rho_reset: counter_reset(&self.rho_reset_per_neuron, self.rho_reset),
            surrogate: self.neuron.surrogate(),
        }
    }

    /// The wrapped model's initial state, not refractory.
    pub fn init_state(&self, batch: usize) -> RefractoryState<M::State> {
        let neuron = self.neuron.initial_state(batch);
        let device = neuron.membrane().device();
        RefractoryState::resting(neuron, batch, self.neuron.neurons(), &device)
    }
}

impl<M: RefractoryNeuron> StepLayer for Refractory<M> {
    type State = RefractoryState<M::State>;
    type Prepared = RefractoryDynamics<M::Prepared>;
    fn prepare(&self) -> Self::Prepared {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> Self::State {
        self.init_state(batch)
    }
    fn advance(
        &self,
        p: &Self::Prepared,
        x: Tensor<2>,
        s: Self::State,
    ) -> (Tensor<2>, Self::State) {
        refractory_step(x, s, p, |x, s, q| self.neuron.advance(q, x, s))
    }
}

impl<M: RefractoryNeuron> PerNeuronRefractory for Refractory<M> {
    fn refractory_parts(&mut self) -> RefractoryParts<'_> {
        RefractoryParts {
            size: self.neuron.neurons(),
            dt_ms: self.neuron.dt_ms(),
            rho_reset: &mut self.rho_reset_per_neuron,
        }
    }
    fn rho_reset_per_neuron(&self) -> Option<Tensor<1>> {
        self.rho_reset_per_neuron.as_ref().map(Param::val)
    }
}

impl<M: RefractoryNeuron> Neuron for Refractory<M> {
    const CONTEXTS: Contexts = M::REFRACTORY_CONTEXTS;
    fn neurons(&self) -> usize {
        self.neuron.neurons()
    }
}

/// Configuration of a [`LifRefrac`] layer: a [`LifConfig`] and a refractory period.
#[derive(Config, Debug)]
pub struct LifRefracConfig {
    /// The LIF neuron (Norse's `LIFRefracParameters.lif`).
    pub lif: LifConfig,
    /// Absolute refractory period in ms, a whole number of `lif.dt_ms` steps, `>= 0`.
    /// Default 5 (Norse's `rho_reset = 5` steps at `dt = 1 ms`).
    #[config(default = 5.0)]
    pub refractory_ms: f64,
}

impl LifRefracConfig {
    /// Norse's `LIFRefracParameters(lif, rho_reset)`: `rho_reset` in steps of `lif.dt_ms`, a
    /// whole number `>= 0`.
    pub fn from_norse(lif: LifConfig, rho_reset: f64) -> crate::Result<Self> {
        let refractory_ms = norse_rho_reset(rho_reset, lif.dt_ms)?;
        Ok(Self::new(lif).with_refractory_ms(refractory_ms))
    }

    /// Checks the LIF config and the refractory period.
    pub fn validate(&self) -> crate::Result<()> {
        self.lif.validate()?;
        refractory_steps(self.refractory_ms, self.lif.dt_ms).map(drop)
    }

    /// Builds the layer on `device`, after [`LifRefracConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<LifRefrac> {
        self.validate()?;
        Refractory::new(self.lif.init(device)?, self.refractory_ms)
    }
}

/// Configuration of a [`LifAdExRefrac`] layer: a [`LifAdExConfig`] and a refractory period.
#[derive(Config, Debug)]
pub struct LifAdExRefracConfig {
    /// The AdEx neuron (Norse's `LIFAdExRefracParameters.lif_adex`).
    pub adex: LifAdExConfig,
    /// Absolute refractory period in ms, a whole number of `adex.dt_ms` steps, `>= 0`.
    /// Default 5 (Norse's `rho_reset = 5` steps at `dt = 1 ms`).
    #[config(default = 5.0)]
    pub refractory_ms: f64,
}

impl LifAdExRefracConfig {
    /// Norse's `LIFAdExRefracParameters(lif_adex, rho_reset)`: `rho_reset` in steps of
    /// `adex.dt_ms`, a whole number `>= 0`.
    pub fn from_norse(adex: LifAdExConfig, rho_reset: f64) -> crate::Result<Self> {
        let refractory_ms = norse_rho_reset(rho_reset, adex.dt_ms)?;
        Ok(Self::new(adex).with_refractory_ms(refractory_ms))
    }

    /// Checks the AdEx config and the refractory period.
    pub fn validate(&self) -> crate::Result<()> {
        self.adex.validate()?;
        refractory_steps(self.refractory_ms, self.adex.dt_ms).map(drop)
    }

    /// Builds the layer on `device`, after [`LifAdExRefracConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<LifAdExRefrac> {
        self.validate()?;
        Refractory::new(self.adex.init(device)?, self.refractory_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_in_steps() {
        assert_eq!(refractory_steps(5.0, 1.0).unwrap(), 5.0);
        assert_eq!(refractory_steps(2.0, 0.5).unwrap(), 4.0);
        assert_eq!(refractory_steps(0.0, 0.1).unwrap(), 0.0);
        assert_eq!(refractory_steps(0.3, 0.1).unwrap(), 3.0); // 0.3/0.1 = 2.9999999999999996
        assert!(matches!(
            refractory_steps(0.5, 1.0),
            Err(SnnError::Invalid { .. })
        ));
        assert!(matches!(
            refractory_steps(-1.0, 1.0),
            Err(SnnError::OutOfRange { .. })
        ));
    }

    #[test]
    fn held_membrane_and_silence_by_hand() {
        // box LIF, exact decay β = 0.5, input 0.8, reset to 0.25, refractory 2 steps
        let device = Device::flex();
        let lif = LifConfig::box_model(1)
            .with_discretization(super::super::Discretization::ExactDecay)
            .with_tau_mem_ms(1.0 / 2f64.ln())
            .with_v_reset(0.25);
        let layer = LifRefracConfig::new(lif)
            .with_refractory_ms(2.0)
            .init(&device)
            .unwrap();
        let x = Tensor::<3>::full([1, 7, 1], 0.8, &device);
        let out = Neuron::forward_with(&layer, x, None, true).unwrap();
        let vals = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
        // v: 0.8, 1.2 (spike -> 0.25, ρ = 2), held 0.25 (ρ 2 -> 1), held 0.25 (ρ 1 -> 0),
        // 0.125 + 0.8, 0.4625 + 0.8 (spike -> 0.25, ρ = 2), held 0.25
        assert_eq!(vals(out.spikes.clone()), vec![0., 1., 0., 0., 0., 1., 0.]);
        assert_eq!(
            vals(out.traced(|s| s.rho.clone()).unwrap()),
            vec![0., 2., 1., 0., 0., 2., 1.]
        );
        let v = vals(out.traced(|s| s.neuron.v.clone()).unwrap());
        let want = [0.8, 0.25, 0.25, 0.25, 0.925, 0.25, 0.25];
        for (g, w) in v.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{v:?}");
        }
    }
}

//! mlGeNN's neuron models (`ml_genn/neurons/`): [`MlgennLif`] (`LeakyIntegrateFire`, with
//! refractoriness), [`MlgennAlif`] (`AdaptiveLeakyIntegrateFire`) and [`FewSpikeRelu`].
//!
//! Each follows the GeNN code strings mlGeNN generates, in GeNN's order within a step:
//! `sim_code` (integrate), then `threshold_condition_code` (`>=`, so a neuron fires at the
//! threshold), then `reset_code`. `Isyn` is the layer's input at the step. The leaky
//! integrate-and-fire step is shared with the input neuron
//! [`crate::encode::LeakyIntegrateFireInput`] and the few-spike threshold step with
//! [`crate::encode::FewSpikeReluInput`].

use super::layer::per_neuron;
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron, NeuronState, check_state_tensors};
use super::leaky::Membrane;
use super::reset_to_value;
use crate::dynamics::{Discretization, decay_factor};
use crate::error::{SnnError, finite, nonzero, positive};
use crate::lift::StepLayer;
use crate::spike::spike_with;
use crate::surrogate::Surrogate;

/// Checks the parameters shared by mlGeNN's leaky integrate-and-fire models (neuron and input).
///
/// A refractory period must be finite and `>= 0`. A period shorter than `dt` is allowed, as in
/// GeNN: it is counted down once before the next threshold check, so it blocks no spike, but
/// without `integrate_during_refrac` it still skips one step of integration.
pub(crate) fn validate_genn_lif(
    dt_ms: f64,
    tau_mem_ms: f64,
    tau_refrac_ms: Option<f64>,
    v_thresh: f64,
    v_reset: f64,
    v_init: f64,
) -> crate::Result<()> {
    positive("dt_ms", dt_ms)?;
    positive("tau_mem_ms", tau_mem_ms)?;
    if let Some(tau) = tau_refrac_ms
        && !(tau.is_finite() && tau >= 0.0)
    {
        return Err(SnnError::OutOfRange {
            field: "tau_refrac_ms",
            allowed: "[0, ∞)",
            value: tau,
        });
    }
    finite("v_thresh", v_thresh)?;
    finite("v_reset", v_reset)?;
    finite("v_init", v_init).map(drop)
}

/// mlGeNN's leaky integrate-and-fire step, resolved for one sequence (the GeNN code of
/// `LeakyIntegrateFire` and `AdaptiveLeakyIntegrateFire`; see [`MlgennLifConfig`]).
#[derive(Clone, Debug)]
pub(crate) struct GennLif {
    /// `α·V + Isyn`, or `α·V + (1 − α)·Isyn` with `scale_i`.
    pub membrane: Membrane,
    /// `[1, size]`.
    pub v_thresh: Tensor<2>,
    pub v_reset: f32,
    pub relative_reset: bool,
    /// `(τ_refrac, dt)` in ms, if refractory.
    pub refrac: Option<(f64, f64)>,
    pub integrate_during_refrac: bool,
    pub surrogate: Surrogate,
    pub detach_reset: bool,
}

impl GennLif {
    /// One step from the membrane `v` and refractory countdown `refrac` (present iff the model
    /// is refractory), with the threshold raised by `offset` (ALIF's `β·A`). Returns the spikes,
    /// the membrane and the countdown.
    pub(crate) fn step(
        &self,
        x: Tensor<2>,
        v: Tensor<2>,
        refrac: Option<Tensor<2>>,
        offset: Option<Tensor<2>>,
    ) -> (Tensor<2>, Tensor<2>, Option<Tensor<2>>) {
        let mut can_fire = None;
        let (v, refrac) = match (refrac, self.refrac) {
            (Some(r), Some((_, dt))) => {
                let counting = r.clone().greater_elem(0.0);
                let v = if self.integrate_during_refrac {
                    self.membrane.integrate(v, x)
                } else {
                    self.membrane
                        .integrate(v.clone(), x)
                        .mask_where(counting.clone(), v)
                };
                let r = r.clone().mask_where(counting, r.sub_scalar(dt));
                can_fire = Some(r.clone().lower_equal_elem(0.0).float());
                (v, Some(r))
            }
            _ => (self.membrane.integrate(v, x), None),
        };
        let threshold = match offset {
            Some(offset) => self.v_thresh.clone() + offset,
            None => self.v_thresh.clone(),
        };
        let mut z = spike_with(v.clone() - threshold, self.surrogate, true);
        if let Some(mask) = can_fire {
            z = z * mask;
        }
        let fired = if self.detach_reset {
            z.clone().detach()
        } else {
            z.clone()
        };
        let v = if self.relative_reset {
            v - fired * self.v_thresh.clone().sub_scalar(self.v_reset)
        } else {
            reset_to_value(v, fired, self.v_reset)
        };
        let refrac = match (refrac, self.refrac) {
            (Some(r), Some((tau, _))) => {
                Some(r.mask_fill(z.clone().detach().greater_elem(0.0), tau))
            }
            (r, _) => r,
        };
        (z, v, refrac)
    }
}

/// Configuration of an [`MlgennLif`] layer: mlGeNN's `LeakyIntegrateFire` neuron.
///
/// Per step of `dt` with input `Isyn` = `x`, with `α = exp(−dt/τ_mem)` (GeNN's `Alpha`):
///
/// ```text
/// v ← α·v + x                                 (scale_i = false, the default)
/// v ← α·v + (1 − α)·x                         (scale_i = true)
/// z = H(v − v_thresh)                         (GeNN `V >= Vthresh`: fires at the threshold)
/// v ← v − (v_thresh − v_reset) where z = 1    (relative_reset = true, the default)
/// v ← v_reset where z = 1                     (relative_reset = false)
/// ```
///
/// With a refractory period `τ_refrac` (a countdown `r`, 0 at the start), in GeNN's order:
///
/// ```text
/// integrate_during_refrac:   v ← update(v);  r ← r − dt where r > 0
/// otherwise:                 where r > 0: r ← r − dt, else v ← update(v)
/// z = H(v − v_thresh) · [r ≤ 0]               (GeNN `... && RefracTime <= 0.0`)
/// reset v as above;  r ← τ_refrac where z = 1
/// ```
///
/// The mlGeNN defaults: `v_thresh = 1`, `v_reset = 0`, `v = 0`, `tau_mem = 20 ms`,
/// `tau_refrac = None`, `relative_reset = True`, `integrate_during_refrac = True`,
/// `scale_i = False`; `dt = 1 ms`. mlGeNN trains with EventProp or e-prop and has no surrogate;
/// the spike here is [`crate::spike::spike_with`] with `surrogate` backward (default the crate's
/// SuperSpike, `alpha = 100`), so the layer also trains with BPTT.
#[derive(Config, Debug)]
pub struct MlgennLifConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Simulation step in ms. Default 1 (mlGeNN's default `dt`).
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Membrane time constant `τ_mem` in ms (mlGeNN `tau_mem`). Default 20.
    #[config(default = 20.0)]
    pub tau_mem_ms: f64,
    /// Refractory period `τ_refrac` in ms (mlGeNN `tau_refrac`), or `None`. Default `None`.
    #[config(default = "None")]
    pub tau_refrac_ms: Option<f64>,
    /// Firing threshold (mlGeNN `v_thresh`). Default 1.
    #[config(default = 1.0)]
    pub v_thresh: f64,
    /// Reset potential (mlGeNN `v_reset`): with `relative_reset`, a spike subtracts
    /// `v_thresh − v_reset`; without, it sets `v = v_reset`. Default 0.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Initial membrane potential (mlGeNN `v`). Default 0.
    #[config(default = 0.0)]
    pub v_init: f64,
    /// Subtract `v_thresh − v_reset` after a spike instead of setting `v_reset`. Default true.
    #[config(default = true)]
    pub relative_reset: bool,
    /// Keep integrating the input during the refractory period. Default true.
    #[config(default = true)]
    pub integrate_during_refrac: bool,
    /// Scale the input by `1 − α` (exact integration of a constant current). Default false.
    #[config(default = false)]
    pub scale_i: bool,
    /// Surrogate derivative of the spike. Default SuperSpike with `alpha = 100`.
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Stop gradients through the reset. Default false.
    #[config(default = false)]
    pub detach_reset: bool,
    /// Train `τ_mem` (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
    /// Train `v_thresh` (per neuron). Default false.
    #[config(default = false)]
    pub learn_threshold: bool,
}

impl MlgennLifConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        validate_genn_lif(
            self.dt_ms,
            self.tau_mem_ms,
            self.tau_refrac_ms,
            self.v_thresh,
            self.v_reset,
            self.v_init,
        )?;
        self.surrogate.validate()
    }

    /// Builds the layer on `device`, after [`MlgennLifConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<MlgennLif> {
        self.validate()?;
        Ok(MlgennLif {
            tau_mem_ms: per_neuron(self.size, self.tau_mem_ms, self.learn_tau, device),
            v_thresh: per_neuron(self.size, self.v_thresh, self.learn_threshold, device),
            config: self.clone(),
        })
    }
}

/// A layer of mlGeNN leaky integrate-and-fire neurons; see [`MlgennLifConfig`].
#[derive(Module, Debug)]
pub struct MlgennLif {
    /// Membrane time constant per neuron, ms, `[size]`.
    pub tau_mem_ms: Param<Tensor<1>>,
    /// Threshold per neuron, `[size]`.
    pub v_thresh: Param<Tensor<1>>,
    #[module(skip)]
    config: MlgennLifConfig,
}

/// State of an [`MlgennLif`] layer: GeNN's `V` and `RefracTime`.
#[derive(Clone, Debug)]
pub struct MlgennLifState {
    /// Membrane potential `V`, `[batch, size]`.
    pub v: Tensor<2>,
    /// Refractory countdown `RefracTime` in ms, `[batch, size]` (`None` without `tau_refrac`).
    pub refrac: Option<Tensor<2>>,
}

impl MlgennLifState {
    /// `v = 0` and, if `refractory`, `RefracTime = 0`.
    pub fn zeros(batch: usize, size: usize, refractory: bool, device: &Device) -> Self {
        let v = Tensor::zeros([batch, size], device);
        let refrac = refractory.then(|| v.clone());
        Self { v, refrac }
    }
}

impl NeuronState for MlgennLifState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors(
            [&self.v].into_iter().chain(&self.refrac),
            batch,
            size,
            context,
        )
    }
}

/// The per-step constants of an [`MlgennLif`] layer.
#[derive(Clone, Debug)]
pub struct MlgennLifDynamics {
    lif: GennLif,
}

/// The resolved GeNN LIF of a layer: `α = exp(−dt/τ)` from the (possibly learned) `τ_mem`.
fn genn_lif(tau_mem_ms: Tensor<1>, v_thresh: Tensor<1>, c: &MlgennLifConfig) -> GennLif {
    let discretization = if c.scale_i {
        Discretization::ExactDecayScaledInput
    } else {
        Discretization::ExactDecay
    };
    GennLif {
        membrane: Membrane::leaky(tau_mem_ms, c.dt_ms, 0.0, discretization),
        v_thresh: v_thresh.unsqueeze::<2>(),
        v_reset: c.v_reset as f32,
        relative_reset: c.relative_reset,
        refrac: c.tau_refrac_ms.map(|tau| (tau, c.dt_ms)),
        integrate_during_refrac: c.integrate_during_refrac,
        surrogate: c.surrogate,
        detach_reset: c.detach_reset,
    }
}

/// A state carries the refractory countdown exactly when the layer is refractory: without it a
/// refractory layer would silently stop being one.
fn refractory_kind(
    has_countdown: bool,
    tau_refrac_ms: Option<f64>,
    context: &'static str,
) -> crate::Result<()> {
    if has_countdown == tau_refrac_ms.is_some() {
        return Ok(());
    }
    Err(SnnError::Rejected {
        field: context,
        reason: if has_countdown {
            "the layer has no refractory period (tau_refrac_ms), the state carries a countdown"
                .into()
        } else {
            "the layer is refractory (tau_refrac_ms), the state carries no countdown (refrac: None)"
                .into()
        },
    })
}

/// One step of mlGeNN's `LeakyIntegrateFire`, state in and state out: `input` (`Isyn`) and the
/// state are `[batch, size]`; returns the spikes and the new state. No shape checks.
pub fn mlgenn_lif_step(
    input: Tensor<2>,
    state: MlgennLifState,
    dynamics: &MlgennLifDynamics,
) -> (Tensor<2>, MlgennLifState) {
    let (z, v, refrac) = dynamics.lif.step(input, state.v, state.refrac, None);
    (z, MlgennLifState { v, refrac })
}

impl MlgennLif {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &MlgennLifConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The initial state: `v = v_init`, no refractory countdown.
    pub fn init_state(&self, batch: usize) -> MlgennLifState {
        let device = self.v_thresh.val().device();
        let c = &self.config;
        let mut state = MlgennLifState::zeros(batch, c.size, c.tau_refrac_ms.is_some(), &device);
        state.v = state.v.add_scalar(c.v_init);
        state
    }

    /// Resolves `α` and the threshold for [`mlgenn_lif_step`].
    pub fn dynamics(&self) -> MlgennLifDynamics {
        MlgennLifDynamics {
            lif: genn_lif(self.tau_mem_ms.val(), self.v_thresh.val(), &self.config),
        }
    }
}

impl StepLayer for MlgennLif {
    type State = MlgennLifState;
    type Prepared = MlgennLifDynamics;
    fn prepare(&self) -> MlgennLifDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> MlgennLifState {
        self.init_state(batch)
    }
    fn advance(
        &self,
        p: &MlgennLifDynamics,
        x: Tensor<2>,
        s: MlgennLifState,
    ) -> (Tensor<2>, MlgennLifState) {
        mlgenn_lif_step(x, s, p)
    }
}

impl Neuron for MlgennLif {
    const CONTEXTS: Contexts = crate::neuron_contexts!("MlgennLif");
    fn neurons(&self) -> usize {
        self.size()
    }
    fn check_state(
        &self,
        state: &MlgennLifState,
        batch: usize,
        context: &'static str,
    ) -> crate::Result<()> {
        refractory_kind(state.refrac.is_some(), self.config.tau_refrac_ms, context)?;
        state.check(batch, self.size(), context)
    }
}

/// Configuration of an [`MlgennAlif`] layer: mlGeNN's `AdaptiveLeakyIntegrateFire`, a LIF
/// neuron whose threshold rises with an adaptation variable `A` (Bellec et al. 2018).
///
/// Per step of `dt` with input `x`, `α = exp(−dt/τ_mem)`, `ρ = exp(−dt/τ_adapt)`:
///
/// ```text
/// v ← α·v + x;   A ← ρ·A                      (sim_code; refractoriness as in MlgennLif)
/// z = H(v − (v_thresh + β·A))                 (GeNN `V >= (Vthresh + (Beta * A))`)
/// v ← v − (v_thresh − v_reset) where z = 1    (relative_reset; else v ← v_reset)
/// A ← A + z
/// ```
///
/// Note that the relative reset subtracts `v_thresh − v_reset`, not the adapted threshold, as
/// mlGeNN does. `A` decays also during the refractory period. The mlGeNN defaults:
/// `v_thresh = 1`, `v_reset = 0`, `v = 0`, `a = 0`, `beta = 0.0174`, `tau_mem = 20 ms`,
/// `tau_refrac = None`, `tau_adapt = 2000 ms`, `relative_reset = True`,
/// `integrate_during_refrac = True` (no `scale_i`).
#[derive(Config, Debug)]
pub struct MlgennAlifConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Simulation step in ms. Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Membrane time constant `τ_mem` in ms. Default 20.
    #[config(default = 20.0)]
    pub tau_mem_ms: f64,
    /// Adaptation time constant `τ_adapt` in ms (mlGeNN `tau_adapt`). Default 2000.
    #[config(default = 2000.0)]
    pub tau_adapt_ms: f64,
    /// Adaptation strength `β` (mlGeNN `beta`; threshold units per unit of `A`). Default 0.0174.
    #[config(default = 0.0174)]
    pub beta: f64,
    /// Refractory period `τ_refrac` in ms, or `None`. Default `None`.
    #[config(default = "None")]
    pub tau_refrac_ms: Option<f64>,
    /// Firing threshold (mlGeNN `v_thresh`). Default 1.
    #[config(default = 1.0)]
    pub v_thresh: f64,
    /// Reset potential (mlGeNN `v_reset`). Default 0.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Initial membrane potential (mlGeNN `v`). Default 0.
    #[config(default = 0.0)]
    pub v_init: f64,
    /// Initial adaptation (mlGeNN `a`). Default 0.
    #[config(default = 0.0)]
    pub a_init: f64,
    /// Subtract `v_thresh − v_reset` after a spike instead of setting `v_reset`. Default true.
    #[config(default = true)]
    pub relative_reset: bool,
    /// Keep integrating the input during the refractory period. Default true.
    #[config(default = true)]
    pub integrate_during_refrac: bool,
    /// Surrogate derivative of the spike. Default SuperSpike with `alpha = 100`.
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Stop gradients through the reset and the adaptation jump. Default false.
    #[config(default = false)]
    pub detach_reset: bool,
    /// Train `τ_mem` and `τ_adapt` (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
}

impl MlgennAlifConfig {
    fn lif(&self) -> MlgennLifConfig {
        MlgennLifConfig {
            size: self.size,
            dt_ms: self.dt_ms,
            tau_mem_ms: self.tau_mem_ms,
            tau_refrac_ms: self.tau_refrac_ms,
            v_thresh: self.v_thresh,
            v_reset: self.v_reset,
            v_init: self.v_init,
            relative_reset: self.relative_reset,
            integrate_during_refrac: self.integrate_during_refrac,
            scale_i: false,
            surrogate: self.surrogate,
            detach_reset: self.detach_reset,
            learn_tau: self.learn_tau,
            learn_threshold: false,
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        self.lif().validate()?;
        positive("tau_adapt_ms", self.tau_adapt_ms)?;
        finite("beta", self.beta)?;
        finite("a_init", self.a_init).map(drop)
    }

    /// Builds the layer on `device`, after [`MlgennAlifConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<MlgennAlif> {
        self.validate()?;
        let lif = self.lif().init(device)?;
        Ok(MlgennAlif {
            tau_adapt_ms: per_neuron(self.size, self.tau_adapt_ms, self.learn_tau, device),
            lif,
            config: self.clone(),
        })
    }
}

/// A layer of mlGeNN adaptive leaky integrate-and-fire neurons; see [`MlgennAlifConfig`].
#[derive(Module, Debug)]
pub struct MlgennAlif {
    /// The membrane part (its `tau_mem_ms` and `v_thresh`).
    pub lif: MlgennLif,
    /// Adaptation time constant per neuron, ms, `[size]`.
    pub tau_adapt_ms: Param<Tensor<1>>,
    #[module(skip)]
    config: MlgennAlifConfig,
}

/// State of an [`MlgennAlif`] layer: GeNN's `V`, `A` and `RefracTime`.
#[derive(Clone, Debug)]
pub struct MlgennAlifState {
    /// Membrane potential `V`, `[batch, size]`.
    pub v: Tensor<2>,
    /// Adaptation `A`, `[batch, size]`.
    pub a: Tensor<2>,
    /// Refractory countdown in ms, `[batch, size]` (`None` without `tau_refrac`).
    pub refrac: Option<Tensor<2>>,
}

impl MlgennAlifState {
    /// `v = 0`, `A = 0` and, if `refractory`, `RefracTime = 0`.
    pub fn zeros(batch: usize, size: usize, refractory: bool, device: &Device) -> Self {
        let MlgennLifState { v, refrac } = MlgennLifState::zeros(batch, size, refractory, device);
        Self {
            a: v.clone(),
            v,
            refrac,
        }
    }
}

impl NeuronState for MlgennAlifState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        let tensors = [&self.v, &self.a].into_iter().chain(&self.refrac);
        check_state_tensors(tensors, batch, size, context)
    }
}

/// The per-step constants of an [`MlgennAlif`] layer.
#[derive(Clone, Debug)]
pub struct MlgennAlifDynamics {
    lif: GennLif,
    /// `ρ = exp(−dt/τ_adapt)`, `[1, size]`.
    rho: Tensor<2>,
    beta: f32,
}

/// One step of mlGeNN's `AdaptiveLeakyIntegrateFire`, state in and state out. No shape checks.
pub fn mlgenn_alif_step(
    input: Tensor<2>,
    state: MlgennAlifState,
    dynamics: &MlgennAlifDynamics,
) -> (Tensor<2>, MlgennAlifState) {
    let d = dynamics;
    let a = state.a * d.rho.clone();
    let offset = a.clone().mul_scalar(d.beta);
    let (z, v, refrac) = d.lif.step(input, state.v, state.refrac, Some(offset));
    let jump = if d.lif.detach_reset {
        z.clone().detach()
    } else {
        z.clone()
    };
    (
        z,
        MlgennAlifState {
            v,
            a: a + jump,
            refrac,
        },
    )
}

impl MlgennAlif {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &MlgennAlifConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The initial state: `v = v_init`, `A = a_init`, no refractory countdown.
    pub fn init_state(&self, batch: usize) -> MlgennAlifState {
        let MlgennLifState { v, refrac } = self.lif.init_state(batch);
        let a = v.zeros_like().add_scalar(self.config.a_init);
        MlgennAlifState { v, a, refrac }
    }

    /// Resolves `α`, `ρ` and the threshold for [`mlgenn_alif_step`].
    pub fn dynamics(&self) -> MlgennAlifDynamics {
        let rho = decay_factor(self.tau_adapt_ms.val(), self.config.dt_ms).unsqueeze::<2>();
        MlgennAlifDynamics {
            lif: self.lif.dynamics().lif,
            rho,
            beta: self.config.beta as f32,
        }
    }
}

impl StepLayer for MlgennAlif {
    type State = MlgennAlifState;
    type Prepared = MlgennAlifDynamics;
    fn prepare(&self) -> MlgennAlifDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> MlgennAlifState {
        self.init_state(batch)
    }
    fn advance(
        &self,
        p: &MlgennAlifDynamics,
        x: Tensor<2>,
        s: MlgennAlifState,
    ) -> (Tensor<2>, MlgennAlifState) {
        mlgenn_alif_step(x, s, p)
    }
}

impl Neuron for MlgennAlif {
    const CONTEXTS: Contexts = crate::neuron_contexts!("MlgennAlif");
    fn neurons(&self) -> usize {
        self.size()
    }
    fn check_state(
        &self,
        state: &MlgennAlifState,
        batch: usize,
        context: &'static str,
    ) -> crate::Result<()> {
        refractory_kind(state.refrac.is_some(), self.config.tau_refrac_ms, context)?;
        state.check(batch, self.size(), context)
    }
}

/// The largest `k`: GeNN computes the thresholds with a 32-bit `1 << (k − 1)`.
pub(crate) const FEW_SPIKE_MAX_K: usize = 31;

/// The few-spike threshold of bit `bit`: `α·2^−(bit + 1)` in `f32` (GeNN's
/// `Scale * (1 << (k − 1 − p))` with `Scale = α·2^−k`; exact, a power-of-two shift).
pub(crate) fn few_spike_threshold(alpha: f64, bit: usize) -> f32 {
    (alpha as f32) * 0.5f32.powi(bit as i32 + 1)
}

/// The few-spike firing step: `z = H(v − h)` with `H(0) = 1` (GeNN `V >= hT`), `v ← v − z·h`.
pub(crate) fn few_spike_fire(v: Tensor<2>, h: f32, surrogate: Surrogate) -> (Tensor<2>, Tensor<2>) {
    let z = spike_with(v.clone().sub_scalar(h), surrogate, true);
    let v = v - z.clone().mul_scalar(h);
    (z, v)
}

/// Configuration of a [`FewSpikeRelu`] layer: mlGeNN's `FewSpikeRelu` neuron, the few-spike
/// (FS) coding of a ReLU activation in `k` steps (Stöckl & Maass 2021).
///
/// The layer works in presentations of `k` steps, `p = 0, …, k − 1` (the step count of the
/// state modulo `k`; mlGeNN's compiler resets the time at each presentation). Spikes from the
/// FS layer upstream arrive one step after they were sent, so the input `x` at step `p` (the
/// weighted sum of the upstream spikes) carries the upstream bit sent at `p − 1`, and at `p = 0`
/// the last bit of the previous presentation. GeNN's code, with `k`, `Scale = α·2^−k` and
/// `SrcScale = α_src·2^−k`:
///
/// ```text
/// d = SrcScale · 2^((k − p) mod k)                       (the weight of the bit received)
/// Fx ← Fx + x·d
/// if p = 0:  V ← Fx;  Fx ← 0                             (start encoding what was decoded)
/// h = Scale · 2^(k − 1 − p) = α·2^−(p + 1)
/// z = H(V − h)   (fires at V = h);   V ← V − z·h
/// ```
///
/// With a signed upstream input (`source_signed`, a [`crate::encode::FewSpikeReluInput`] with
/// `signed_input`, `k` even) the weight is `d = ∓SrcScale·2^(((k − p) mod k) / 2)` (integer
/// division), `−` on even `p` and `+` on odd `p`, with `SrcScale = α_src·2^−k/2`. So a layer
/// decodes a presentation of its input while it encodes the previous one: a network of `L` FS
/// layers is a pipeline `L` presentations deep. `Fx` (the decoded input, mlGeNN's output
/// variable of the population) is in the state.
///
/// The mlGeNN defaults: `k = 10`, `alpha = 25`; `α_src` is the upstream layer's `alpha` (its
/// own when there is none upstream, as mlGeNN does). The spike uses
/// [`crate::spike::spike_with`]; mlGeNN converts trained ANNs and has no surrogate, the default
/// here is the straight-through estimator.
#[derive(Config, Debug)]
pub struct FewSpikeReluConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Steps `k` per presentation, 1 to 31 (even with `source_signed`). Default 10.
    #[config(default = 10)]
    pub k: usize,
    /// Scale `α` of the layer's activations. Default 25.
    #[config(default = 25.0)]
    pub alpha: f64,
    /// Scale `α_src` of the upstream FS layer, or `None` for the layer's own `alpha`.
    /// Default `None`.
    #[config(default = "None")]
    pub source_alpha: Option<f64>,
    /// The upstream layer is a signed FS input. Default false.
    #[config(default = false)]
    pub source_signed: bool,
    /// Surrogate derivative of the spike. Default straight-through.
    #[config(default = "Surrogate::StraightThrough")]
    pub surrogate: Surrogate,
}

impl FewSpikeReluConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        nonzero("k", self.k)?;
        if self.k > FEW_SPIKE_MAX_K {
            return Err(SnnError::out_of_range("k", "1..=31", self.k as f64));
        }
        if self.source_signed && !self.k.is_multiple_of(2) {
            return Err(SnnError::out_of_range(
                "k",
                "even values in 2..=30 (source_signed)",
                self.k as f64,
            ));
        }
        positive("alpha", self.alpha)?;
        if let Some(source_alpha) = self.source_alpha {
            positive("source_alpha", source_alpha)?;
        }
        self.surrogate.validate()
    }

    /// Builds the layer for `device` (where its state lives) after
    /// [`FewSpikeReluConfig::validate`]. It has no parameters.
    pub fn init(&self, device: &Device) -> crate::Result<FewSpikeRelu> {
        self.validate()?;
        Ok(FewSpikeRelu {
            config: self.clone(),
            device: device.clone(),
        })
    }
}

/// A layer of mlGeNN few-spike ReLU neurons; see [`FewSpikeReluConfig`].
#[derive(Clone, Debug)]
pub struct FewSpikeRelu {
    config: FewSpikeReluConfig,
    device: Device,
}

/// State of a [`FewSpikeRelu`] layer: GeNN's `Fx` and `V`, and the steps taken.
#[derive(Clone, Debug)]
pub struct FewSpikeReluState {
    /// Decoded input `Fx`, `[batch, size]`.
    pub fx: Tensor<2>,
    /// Membrane `V` (what is left to encode), `[batch, size]`.
    pub v: Tensor<2>,
    /// Steps taken; the step within the presentation is `step mod k`.
    pub step: usize,
}

impl FewSpikeReluState {
    /// `Fx = 0`, `V = 0`, at step 0.
    pub fn zeros(batch: usize, size: usize, device: &Device) -> Self {
        let v = Tensor::zeros([batch, size], device);
        Self {
            fx: v.clone(),
            v,
            step: 0,
        }
    }
}

impl NeuronState for FewSpikeReluState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors([&self.fx, &self.v], batch, size, context)
    }
}

/// The per-step constants of a [`FewSpikeRelu`] layer: per step `p`, the weight `d(p)` of the
/// input and the threshold `h(p)`, in `f32` as GeNN computes them.
#[derive(Clone, Debug)]
pub struct FewSpikeReluDynamics {
    /// `d(p)`, `k` values.
    pub weights: Vec<f32>,
    /// `h(p)`, `k` values.
    pub thresholds: Vec<f32>,
    surrogate: Surrogate,
}

/// One few-spike ReLU step, state in and state out. No shape checks.
pub fn few_spike_relu_step(
    input: Tensor<2>,
    state: FewSpikeReluState,
    dynamics: &FewSpikeReluDynamics,
) -> (Tensor<2>, FewSpikeReluState) {
    let k = dynamics.thresholds.len();
    let p = state.step % k;
    let fx = state.fx + input.mul_scalar(dynamics.weights[p]);
    let (fx, v) = if p == 0 {
        (fx.zeros_like(), fx)
    } else {
        (fx, state.v)
    };
    let (z, v) = few_spike_fire(v, dynamics.thresholds[p], dynamics.surrogate);
    let step = state.step + 1;
    (z, FewSpikeReluState { fx, v, step })
}

impl FewSpikeRelu {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &FewSpikeReluConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The input weights `d(p)` and thresholds `h(p)` for [`few_spike_relu_step`].
    pub fn dynamics(&self) -> FewSpikeReluDynamics {
        let c = &self.config;
        let k = c.k;
        let source_alpha = c.source_alpha.unwrap_or(c.alpha);
        let weights = (0..k)
            .map(|p| {
                let shift = (k - p) % k;
                if c.source_signed {
                    // GeNN: SrcScale = α_src·2^(−k/2), d = ±SrcScale·(1 << (shift / 2))
                    let src_scale = (source_alpha * 0.5f64.powi((k / 2) as i32)) as f32;
                    let sign = if p % 2 == 0 { -1.0 } else { 1.0 };
                    sign * src_scale * (1u32 << (shift / 2)) as f32
                } else {
                    let src_scale = (source_alpha * 0.5f64.powi(k as i32)) as f32;
                    src_scale * (1u32 << shift) as f32
                }
            })
            .collect();
        let thresholds = (0..k).map(|p| few_spike_threshold(c.alpha, p)).collect();
        FewSpikeReluDynamics {
            weights,
            thresholds,
            surrogate: c.surrogate,
        }
    }
}

impl StepLayer for FewSpikeRelu {
    type State = FewSpikeReluState;
    type Prepared = FewSpikeReluDynamics;
    fn prepare(&self) -> FewSpikeReluDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> FewSpikeReluState {
        FewSpikeReluState::zeros(batch, self.size(), &self.device)
    }
    fn advance(
        &self,
        p: &FewSpikeReluDynamics,
        x: Tensor<2>,
        s: FewSpikeReluState,
    ) -> (Tensor<2>, FewSpikeReluState) {
        few_spike_relu_step(x, s, p)
    }
}

impl Neuron for FewSpikeRelu {
    const CONTEXTS: Contexts = crate::neuron_contexts!("FewSpikeRelu");
    fn neurons(&self) -> usize {
        self.size()
    }
}

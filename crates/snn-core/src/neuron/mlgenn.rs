//! mlGeNN's neuron models (`ml_genn/neurons/`): `LeakyIntegrateFire` (a [`Lif`] built from
//! [`MlgennLifConfig`], mlGeNN's parameters), [`MlgennAlif`] (`AdaptiveLeakyIntegrateFire`) and
//! [`FewSpikeRelu`].
//!
//! Each follows the GeNN code strings mlGeNN generates, in GeNN's order within a step:
//! `sim_code` (integrate), then `threshold_condition_code` (`>=`, so a neuron fires at the
//! threshold), then `reset_code`. `Isyn` is the layer's input at the step. The leaky
//! integrate-and-fire step is [`crate::lif_step`] (with the options [`LifConfig::mlgenn`] sets),
//! shared with [`MlgennAlif`] and the input neuron [`crate::encode::LeakyIntegrateFireInput`];
//! the few-spike threshold step is shared with [`crate::encode::FewSpikeReluInput`].

use super::layer::per_neuron;
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron, NeuronState, check_state_tensors};
use super::lif::{Lif, LifConfig, LifDynamics, LifState, lif_step_with};
use crate::dynamics::{Discretization, Reset, decay_factor};
use crate::error::{SnnError, finite, nonzero, positive};
use crate::lift::StepLayer;
use crate::spike::spike_with;
use crate::surrogate::Surrogate;

/// mlGeNN's `LeakyIntegrateFire` neuron under mlGeNN's parameter names: [`MlgennLifConfig::init`]
/// builds the [`Lif`] it describes ([`MlgennLifConfig::lif_config`], the options of
/// [`LifConfig::mlgenn`]).
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
    /// Checks every field under mlGeNN's names; the error names the first bad one.
    ///
    /// A refractory period must be finite and `>= 0`. A period shorter than `dt` is allowed, as
    /// in GeNN: it is counted down once before the next threshold check, so it blocks no spike,
    /// but without `integrate_during_refrac` it still skips one step of integration.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        positive("dt_ms", self.dt_ms)?;
        positive("tau_mem_ms", self.tau_mem_ms)?;
        if let Some(tau) = self.tau_refrac_ms
            && !(tau.is_finite() && tau >= 0.0)
        {
            return Err(SnnError::OutOfRange {
                field: "tau_refrac_ms",
                allowed: "[0, ∞)",
                value: tau,
            });
        }
        finite("v_thresh", self.v_thresh)?;
        finite("v_reset", self.v_reset)?;
        finite("v_init", self.v_init)?;
        self.surrogate.validate()
    }

    /// The [`LifConfig`] of these parameters: the one mapping from mlGeNN's names to the LIF
    /// family's options, for the neuron and the input neuron
    /// ([`crate::encode::LeakyIntegrateFireInputConfig::neuron`]).
    pub fn lif_config(&self) -> LifConfig {
        LifConfig::mlgenn(self.size)
            .with_dt_ms(self.dt_ms)
            .with_tau_mem_ms(self.tau_mem_ms)
            .with_refractory_ms(self.tau_refrac_ms)
            .with_integrate_during_refrac(self.integrate_during_refrac)
            .with_threshold(self.v_thresh)
            .with_v_reset(self.v_reset)
            .with_v_init(self.v_init)
            .with_reset(if self.relative_reset {
                Reset::Relative
            } else {
                Reset::ToValue
            })
            .with_discretization(if self.scale_i {
                Discretization::ExactDecayScaledInput
            } else {
                Discretization::ExactDecay
            })
            .with_surrogate(self.surrogate)
            .with_detach_reset(self.detach_reset)
            .with_learn_tau(self.learn_tau)
            .with_learn_threshold(self.learn_threshold)
    }

    /// Builds the [`Lif`] layer on `device`, after [`MlgennLifConfig::validate`]. Its
    /// threshold is mlGeNN's `v_thresh`; its state carries `RefracTime` as
    /// [`LifState::refrac`].
    pub fn init(&self, device: &Device) -> crate::Result<Lif> {
        self.validate()?;
        self.lif_config().init(device)
    }
}

/// The layer an [`MlgennLifConfig`] builds: a [`Lif`].
#[deprecated(
    note = "mlGeNN's LIF is a `Lif`: `MlgennLifConfig::init` and `LifConfig::mlgenn` build one"
)]
pub type MlgennLif = Lif;

/// Configuration of an [`MlgennAlif`] layer: mlGeNN's `AdaptiveLeakyIntegrateFire`, a LIF
/// neuron whose threshold rises with an adaptation variable `A` (Bellec et al. 2018).
///
/// Per step of `dt` with input `x`, `α = exp(−dt/τ_mem)`, `ρ = exp(−dt/τ_adapt)`:
///
/// ```text
/// v ← α·v + x;   A ← ρ·A                      (sim_code; refractoriness as in MlgennLifConfig)
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
    /// The membrane part (its `tau_mem_ms` and `threshold`, mlGeNN's `v_thresh`).
    pub lif: Lif,
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
    pub(crate) refrac: Option<Tensor<2>>,
}

impl MlgennAlifState {
    /// The refractory countdown in ms (`None` without `tau_refrac`).
    pub fn refrac(&self) -> Option<&Tensor<2>> {
        self.refrac.as_ref()
    }

    /// `v = 0`, `A = 0` and, if `refractory`, `RefracTime = 0`.
    #[deprecated(note = "whether the state carries a countdown is the layer's: use \
                `MlgennAlif::init_state` or `MlgennAlif::state_from`")]
    pub fn zeros(batch: usize, size: usize, refractory: bool, device: &Device) -> Self {
        let v = Tensor::zeros([batch, size], device);
        Self {
            a: v.clone(),
            refrac: refractory.then(|| v.clone()),
            v,
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
    lif: LifDynamics,
    /// `ρ = exp(−dt/τ_adapt)`, `[1, size]`.
    rho: Tensor<2>,
    beta: f32,
    detach_reset: bool,
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
    let lif_state = LifState {
        v: state.v,
        i: None,
        refrac: state.refrac,
    };
    let (z, LifState { v, refrac, .. }) = lif_step_with(input, lif_state, &d.lif, Some(offset));
    let jump = if d.detach_reset {
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

    /// A state of this layer from its parts, each `[batch, size]`: the countdown `refrac` (ms)
    /// exactly when the layer has a refractory period (`tau_refrac`).
    ///
    /// # Errors
    /// [`crate::SnnError::Rejected`] for a missing or an extra countdown,
    /// [`crate::SnnError::ShapeMismatch`] for a tensor that is not `[batch, size]`.
    pub fn state_from(
        &self,
        v: Tensor<2>,
        a: Tensor<2>,
        refrac: Option<Tensor<2>>,
    ) -> crate::Result<MlgennAlifState> {
        let state = MlgennAlifState { v, a, refrac };
        self.check_state(&state, state.v.dims()[0], "MlgennAlif::state_from")?;
        Ok(state)
    }

    /// The initial state: `v = v_init`, `A = a_init`, no refractory countdown.
    pub fn init_state(&self, batch: usize) -> MlgennAlifState {
        let LifState { v, refrac, .. } = self.lif.init_state(batch);
        let a = v.zeros_like().add_scalar(self.config.a_init);
        MlgennAlifState { v, a, refrac }
    }

    /// Resolves `α`, `ρ` and the threshold for [`mlgenn_alif_step`].
    pub fn dynamics(&self) -> MlgennAlifDynamics {
        let rho = decay_factor(self.tau_adapt_ms.val(), self.config.dt_ms).unsqueeze::<2>();
        MlgennAlifDynamics {
            lif: self.lif.dynamics(),
            rho,
            beta: self.config.beta as f32,
            detach_reset: self.config.detach_reset,
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
        let lif_state = LifState {
            v: state.v.clone(),
            i: None,
            refrac: state.refrac.clone(),
        };
        self.lif.check_state(&lif_state, batch, context)?;
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

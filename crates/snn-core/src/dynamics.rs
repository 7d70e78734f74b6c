//! The ground floor of the crate: what a leaky neuron *is*, independent of how a step is run.
//!
//! Every implementation of the leaky recurrence (the reference step of [`crate::neuron`], the
//! fused CPU loops and CubeCL kernel of [`crate::fused`], the NIR export of `snn-nir`) reads
//! its description from here: the discretization, the reset, the firing flags
//! ([`FiringSpec`]), the forms of the recurrence ([`LeakySpec`]) and its per-neuron
//! coefficients ([`LeakyCoefficients`]), derived from the time constants **once**, by
//! [`LeakyCoefficients::resolve`]. Nothing in this module imports the ops or the models above
//! it.
//!
//! # The recurrence
//!
//! ```text
//! c  = i + x                       (x alone without a synapse)
//! i' = c − k_syn·c  | α·c          (synapse Euler | exact; 0 without a synapse)
//! u  = v + ((v_leak − v) + c)·k    (EulerScaled)
//!    | v + (v_leak − v)·k + c      (EulerUnscaled)
//!    | β·v + gain·c + rest         (Exact)
//! z  = H(u − threshold)            (strict, or ≥ with fire_at_threshold)
//! v' = u − z·threshold | (1 − z)·u + z·v_reset | u      (reset Subtract | ToValue | None)
//! ```
//!
//! With `reset_delay` (snnTorch) the reset of the previous step's spike (detached) is applied
//! during the step instead, and `v' = u`. A leaky integrator (LI readout) has no firing: its
//! output is `u`.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, euler_time_constant, finite, positive};
use crate::surrogate::Surrogate;

/// How the leaky membrane equation `τ_mem dv/dt = (v_leak − v) + I` is stepped with `dt`.
///
/// The synaptic current, where a model has one, follows `τ_syn di/dt = −i` with the same choice
/// (`i ← i − (dt/τ_syn)·i` for Euler, `i ← e^(−dt/τ_syn)·i` otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Discretization {
    /// Explicit forward Euler, as Norse: `v ← v + (dt/τ_mem)·((v_leak − v) + I)`.
    /// The input is scaled by `dt/τ_mem`. Needs `dt ≤ τ`.
    ForwardEuler,
    /// Forward Euler for the leak with the input added unscaled, as SpikingJelly's
    /// `decay_input=False`: `v ← v + (dt/τ_mem)·(v_leak − v) + I`. Needs `dt ≤ τ`.
    ForwardEulerUnscaledInput,
    /// Exact exponential decay with the input added unscaled, as snnTorch's `beta` and mlGeNN's
    /// default: `v ← β·v + (1 − β)·v_leak + I`, `β = e^(−dt/τ_mem)`.
    ExactDecay,
    /// Exact integration of a current held constant over the step, as mlGeNN's `scale_i=True`:
    /// `v ← β·v + (1 − β)·(v_leak + I)`.
    ExactDecayScaledInput,
}

impl Discretization {
    /// One of the two forward-Euler forms (whose time constants must be at least `dt`).
    pub fn is_euler(self) -> bool {
        matches!(
            self,
            Discretization::ForwardEuler | Discretization::ForwardEulerUnscaledInput
        )
    }
}

/// How the membrane is reset after a spike `z` (0 or 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reset {
    /// `v ← v − z·threshold`: snnTorch `reset_mechanism="subtract"`, Norse `reset_subtract`,
    /// mlGeNN `relative_reset=True` (with `v_reset = 0`), SpikingJelly's soft reset.
    Subtract,
    /// `v ← (1 − z)·v + z·v_reset`: Norse's default, snnTorch `reset_mechanism="zero"` (with
    /// `v_reset = 0`), SpikingJelly's hard reset, mlGeNN's default.
    ToValue,
    /// `v ← v − z·(threshold − v_reset)`: mlGeNN's `relative_reset=True`, which lands a neuron
    /// that was exactly at the threshold on `v_reset`. Equal to [`Reset::Subtract`] when
    /// `v_reset = 0`. The fused op does not take it (the layer runs the reference step).
    Relative,
    /// No reset.
    None,
}

impl Reset {
    /// SpikingJelly's reset from its `v_reset`: `Some(v)` is a hard reset to `v`, `None` a soft
    /// (subtractive) reset with the potential's resting value taken as 0. Returns the reset and
    /// the reset (and resting) potential.
    pub(crate) fn spikingjelly(v_reset: Option<f64>) -> (Self, f64) {
        match v_reset {
            Some(v) => (Self::ToValue, v),
            None => (Self::Subtract, 0.0),
        }
    }
}

/// How a layer runs its time loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Execution {
    /// The fused multi-step op ([`crate::fused::leaky_sequence`]) when the backend and the
    /// configuration support it, else the reference step loop. The default.
    #[default]
    Auto,
    /// Always the reference step-by-step composition of tensor ops (one small graph per step).
    Reference,
}

/// The membrane update form (see the module docs); each [`Discretization`] maps to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembraneForm {
    /// `u = v + ((v_leak − v) + c)·k`: [`Discretization::ForwardEuler`].
    EulerScaled,
    /// `u = v + (v_leak − v)·k + c`: [`Discretization::ForwardEulerUnscaledInput`].
    EulerUnscaled,
    /// `u = β·v + gain·c + rest`: [`Discretization::ExactDecay`] (gain 1) and
    /// [`Discretization::ExactDecayScaledInput`] (gain `1 − β`), `rest = (1 − β)·v_leak`.
    Exact,
}

/// The synaptic current form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynapseForm {
    /// No current: the input drives the membrane directly.
    None,
    /// `i' = c − k_syn·c`, `k_syn = dt/τ_syn`.
    Euler,
    /// `i' = α·c`, `α = e^(−dt/τ_syn)`.
    Exact,
}

/// Threshold crossing and reset of a spiking layer (absent for the LI readout). The threshold
/// itself is per neuron: a tensor beside the spec ([`Coef::Threshold`] in the fused op).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FiringSpec {
    /// The reset after a spike.
    pub reset: Reset,
    /// The potential of a [`Reset::ToValue`] reset, shared by every neuron (the reference step
    /// takes per-neuron values beside it; the fused op reads [`Coef::VReset`], filled from this
    /// value unless the layer gives one per neuron).
    pub v_reset: f32,
    /// The surrogate derivative used backward.
    pub surrogate: Surrogate,
    /// `H(0) = 1` (`u ≥ threshold` fires).
    pub fire_at_threshold: bool,
    /// No gradient through the reset.
    pub detach_reset: bool,
    /// snnTorch's delayed reset: the previous step's spike (detached) resets during this step and
    /// the carried membrane keeps this step's spike.
    pub reset_delay: bool,
    /// Spyx's order: the spike of a step is read from the membrane carried in from the previous
    /// step, `z = H(v − threshold)`, and resets the membrane integrated in this step (with its
    /// surrogate gradient unless `detach_reset`). Takes precedence over `reset_delay`.
    pub spike_from_previous: bool,
    /// A refractory countdown after each spike (mlGeNN / GeNN), or `None`.
    pub refractory: Option<Refractory>,
}

impl FiringSpec {
    /// Whether the fused op ([`crate::fused::leaky_sequence`]) runs this firing: not the
    /// relative reset, the previous-membrane spike or a refractory period, which only the
    /// reference step implements.
    pub fn fused_supported(&self) -> bool {
        self.reset != Reset::Relative && !self.spike_from_previous && self.refractory.is_none()
    }
}

/// A refractory period counted down in ms, in GeNN's order within a step (see
/// [`crate::LifConfig::refractory_ms`]). The countdown is a state tensor (`LifState::refrac`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Refractory {
    /// The period `τ_refrac` in ms set after each spike (finite, `>= 0`).
    pub period_ms: f64,
    /// The step `dt` in ms by which the countdown falls each step.
    pub dt_ms: f64,
    /// Keep integrating the input while the countdown runs (mlGeNN's
    /// `integrate_during_refrac`); otherwise the membrane is held.
    pub integrate: bool,
}

/// The shape of the leaky recurrence: forms, `v_leak` and the firing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakySpec {
    /// Membrane update form.
    pub membrane: MembraneForm,
    /// Synaptic current form.
    pub synapse: SynapseForm,
    /// Resting potential `v_leak` shared by every neuron (used by the Euler forms; the exact
    /// form uses [`Coef::Rest`]). The fused op reads [`Coef::VLeak`], filled from this value
    /// unless the coefficients carry one per neuron.
    pub v_leak: f32,
    /// Threshold and reset; `None` for a leaky integrator whose output is the membrane.
    pub firing: Option<FiringSpec>,
}

/// The rows of the stacked coefficient tensor `[COEFFICIENTS, size]`
/// ([`LeakyCoefficients::stacked`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Coef {
    /// `k = dt/τ_mem` (Euler forms) or `β = e^(−dt/τ_mem)` (exact form).
    Membrane = 0,
    /// Input gain of the exact form (1, or `1 − β` with scaled input).
    Gain = 1,
    /// Resting drive `(1 − β)·v_leak` of the exact form.
    Rest = 2,
    /// `k_syn = dt/τ_syn` (Euler), `α = e^(−dt/τ_syn)` (exact), 0 without a synapse.
    Synapse = 3,
    /// The firing threshold (0 for the LI readout).
    Threshold = 4,
    /// The resting potential `v_leak` of the Euler forms (the exact form reads [`Coef::Rest`]).
    VLeak = 5,
    /// The potential of a reset to a value (0 for the LI readout).
    VReset = 6,
}

/// Number of rows of the stacked coefficient tensor.
pub const COEFFICIENTS: usize = 7;

/// The per-neuron coefficients of the leaky recurrence, each `[size]`, resolved for one `dt`.
///
/// This is the one place the coefficients are derived from the time constants: the reference
/// step takes them as they are, the fused op stacked ([`LeakyCoefficients::stacked`]), the NIR
/// export as forward-Euler fractions ([`LeakyCoefficients::euler_fractions`]). They keep the
/// gradient of the time constants (the reference path trains them); the stacked form drops it.
#[derive(Clone, Debug)]
pub struct LeakyCoefficients {
    /// The membrane form.
    pub membrane: MembraneForm,
    /// `k = dt/τ_mem` (Euler forms, `τ` held at `dt` at least) or `β = e^(−dt/τ_mem)` (exact
    /// form, `τ` held above a microsecond so that a learned time constant cannot flip sign).
    pub decay: Tensor<1>,
    /// Input gain of the exact form: `1 − β` with scaled input, `None` for 1.
    pub gain: Option<Tensor<1>>,
    /// Resting drive `(1 − β)·v_leak` of the exact form, `None` for 0 (also when `v_leak = 0`).
    pub rest: Option<Tensor<1>>,
    /// The synaptic current's form and coefficient (`k_syn` Euler, `α` exact), `None` without a
    /// synapse.
    pub synapse: Option<(SynapseForm, Tensor<1>)>,
    /// One resting potential per neuron ([`LeakyCoefficients::with_v_leak_per_neuron`]), which
    /// the Euler forms read in the membrane step; `None`: the scalar `v_leak` of
    /// [`LeakyCoefficients::resolve`].
    pub v_leak_per_neuron: Option<Tensor<1>>,
}

impl LeakyCoefficients {
    /// Resolves `τ_mem` and `τ_syn` (`[size]`, ms) for the given step and discretization.
    pub fn resolve(
        tau_mem_ms: Tensor<1>,
        tau_syn_ms: Option<Tensor<1>>,
        dt_ms: f64,
        v_leak: f64,
        discretization: Discretization,
    ) -> Self {
        let synapse = tau_syn_ms.map(|tau| synapse_coefficient(tau, dt_ms, discretization));
        let tau = tau_mem_ms;
        let (membrane, decay, gain, rest) = match discretization {
            Discretization::ForwardEuler => (
                MembraneForm::EulerScaled,
                euler_fraction(tau, dt_ms),
                None,
                None,
            ),
            Discretization::ForwardEulerUnscaledInput => (
                MembraneForm::EulerUnscaled,
                euler_fraction(tau, dt_ms),
                None,
                None,
            ),
            Discretization::ExactDecay | Discretization::ExactDecayScaledInput => {
                let beta = decay_factor(tau, dt_ms);
                let one_minus_beta = beta.clone().neg().add_scalar(1.0);
                let rest = (v_leak != 0.0).then(|| one_minus_beta.clone().mul_scalar(v_leak));
                let gain = (discretization == Discretization::ExactDecayScaledInput)
                    .then_some(one_minus_beta);
                (MembraneForm::Exact, beta, gain, rest)
            }
        };
        Self {
            membrane,
            decay,
            gain,
            rest,
            synapse,
            v_leak_per_neuron: None,
        }
    }

    /// The coefficients with one resting potential `v_leak` per neuron (`[size]`) in place of
    /// the scalar they were resolved with, when given: the exact form's resting drive becomes
    /// `(1 − β)·v_leak`, the Euler forms step with `v_leak` itself. `None` leaves them as they
    /// are.
    pub fn with_v_leak_per_neuron(self, v_leak: Option<Tensor<1>>) -> Self {
        let Some(v_leak) = v_leak else {
            return self;
        };
        let rest = (self.membrane == MembraneForm::Exact)
            .then(|| self.decay.clone().neg().add_scalar(1.0) * v_leak.clone());
        Self {
            rest,
            v_leak_per_neuron: Some(v_leak),
            ..self
        }
    }

    /// The synaptic current form.
    pub fn synapse_form(&self) -> SynapseForm {
        self.synapse
            .as_ref()
            .map_or(SynapseForm::None, |(form, _)| *form)
    }

    /// The [`LeakySpec`] of these coefficients with `v_leak` and the firing.
    pub fn spec(&self, v_leak: f64, firing: Option<FiringSpec>) -> LeakySpec {
        LeakySpec {
            membrane: self.membrane,
            synapse: self.synapse_form(),
            v_leak: v_leak as f32,
            firing,
        }
    }

    /// The coefficients stacked as the fused op reads them, `[COEFFICIENTS, size]` (rows in
    /// [`Coef`] order; gain 1, rest 0, synapse 0 and threshold 0 where absent), detached.
    /// `spec` is [`LeakyCoefficients::spec`]'s: its `v_leak` and reset potential fill their rows
    /// unless the coefficients carry a per-neuron `v_leak` or `v_reset` gives one per neuron.
    pub fn stacked(
        &self,
        spec: &LeakySpec,
        threshold: Option<Tensor<1>>,
        v_reset: Option<Tensor<1>>,
    ) -> Tensor<2> {
        let a = self.decay.clone().detach();
        let zeros = a.zeros_like();
        let or = |t: &Option<Tensor<1>>, absent: Tensor<1>| {
            t.as_ref().map_or(absent, |t| t.clone().detach())
        };
        let gain = or(&self.gain, a.ones_like());
        let rest = or(&self.rest, zeros.clone());
        let syn = or(
            &self.synapse.as_ref().map(|(_, s)| s.clone()),
            zeros.clone(),
        );
        let full = |value: f32| zeros.clone().add_scalar(value);
        let v_leak = or(&self.v_leak_per_neuron, full(spec.v_leak));
        let v_reset = or(&v_reset, full(spec.firing.map_or(0.0, |f| f.v_reset)));
        let threshold = or(&threshold, zeros);
        Tensor::stack(vec![a, gain, rest, syn, threshold, v_leak, v_reset], 0)
    }

    /// The membrane update written as one forward-Euler step `v + a·((v_leak − v) + r·c)`, as
    /// NIR defines its neurons: per neuron, the fraction `a` of the gap to rest closed per step
    /// (`k`, or `1 − β`) and the input gain `a·r` (`k` or 1 for Euler, `gain` for exact).
    pub fn euler_fractions(&self) -> (Tensor<1>, Tensor<1>) {
        match self.membrane {
            MembraneForm::EulerScaled => (self.decay.clone(), self.decay.clone()),
            MembraneForm::EulerUnscaled => (self.decay.clone(), self.decay.ones_like()),
            MembraneForm::Exact => {
                let a = self.decay.clone().neg().add_scalar(1.0);
                let gain = self.gain.clone().unwrap_or_else(|| a.ones_like());
                (a, gain)
            }
        }
    }

    /// The synaptic decay as a forward-Euler fraction `a_syn` (`i ← i − a_syn·i`): `k_syn`, or
    /// `1 − α`; `None` without a synapse.
    pub fn synapse_euler_fraction(&self) -> Option<Tensor<1>> {
        self.synapse.as_ref().map(|(form, s)| match form {
            SynapseForm::Exact => s.clone().neg().add_scalar(1.0),
            _ => s.clone(),
        })
    }
}

/// The synaptic current's form and coefficient for `τ_syn` (`[size]`, ms): `k_syn = dt/τ_syn`
/// (Euler) or `α = e^(−dt/τ_syn)`; what [`LeakyCoefficients::resolve`] puts in `synapse`.
pub fn synapse_coefficient(
    tau_syn_ms: Tensor<1>,
    dt_ms: f64,
    discretization: Discretization,
) -> (SynapseForm, Tensor<1>) {
    if discretization.is_euler() {
        (SynapseForm::Euler, euler_fraction(tau_syn_ms, dt_ms))
    } else {
        (SynapseForm::Exact, decay_factor(tau_syn_ms, dt_ms))
    }
}

/// `dt/τ` for `τ` in ms, with a learned `τ` below `dt` held at `dt` (Euler would overshoot): the
/// forward-Euler decay fraction of every time constant of the crate.
pub fn euler_fraction<const D: usize>(tau_ms: Tensor<D>, dt_ms: f64) -> Tensor<D> {
    tau_ms.clamp_min(dt_ms).recip().mul_scalar(dt_ms)
}

/// `e^(−dt/τ)`, with `τ` held above `1e-3` (a microsecond for `τ` in ms) so that a learned time
/// constant cannot flip sign: the exact decay factor of every time constant of the crate.
pub fn decay_factor<const D: usize>(tau_ms: Tensor<D>, dt_ms: f64) -> Tensor<D> {
    tau_ms.clamp_min(1e-3).recip().mul_scalar(-dt_ms).exp()
}

/// The leaky sub-threshold parameters shared by the LIF-like configs, checked together.
pub(crate) struct LeakyParams {
    pub dt_ms: f64,
    pub tau_mem_ms: f64,
    pub tau_syn_ms: Option<f64>,
    pub v_leak: f64,
    pub discretization: Discretization,
}

impl LeakyParams {
    /// Time constants and step must be positive; forward Euler needs `dt <= τ` (beyond it the
    /// decay factor `1 − dt/τ` is negative and the membrane oscillates).
    pub(crate) fn validate(&self) -> Result<()> {
        let dt = positive("dt_ms", self.dt_ms)?;
        let taus = [
            ("tau_mem_ms", Some(self.tau_mem_ms)),
            ("tau_syn_ms", self.tau_syn_ms),
        ];
        for (field, tau) in taus {
            let Some(tau) = tau else { continue };
            if self.discretization.is_euler() {
                euler_time_constant(field, tau, dt)?;
            } else {
                positive(field, tau)?;
            }
        }
        finite("v_leak", self.v_leak).map(drop)
    }
}

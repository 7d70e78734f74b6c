//! The reference step of the leaky family, as tensor ops: the sub-threshold membrane update,
//! the synaptic current, and firing with its reset. Each model resolves its config into these
//! once per sequence (from the coefficients of [`crate::dynamics::LeakyCoefficients`], the
//! derivation the fused op shares), so the per-step work is a few element-wise tensor ops.

use burn::prelude::*;

use super::layer::per_neuron_values;
use super::layer::{NeuronState, check_state_tensors};
use crate::dynamics::{
    Discretization, FiringSpec, LeakyCoefficients, MembraneForm, Reset, SynapseForm,
    synapse_coefficient,
};
use crate::error::{Result, SnnError, euler_time_constant, positive};
use crate::spike::{heaviside, spike_with};
use burn::module::Param;

/// State of a leaky neuron without firing or with an exponential term between steps:
/// [`crate::LiState`] and [`crate::neuron::LifExState`].
///
/// Whether it carries the current `i` is the layer's configuration (`tau_syn_ms`), so only the
/// layer builds one: `init_state` (then set `v` as wanted) or [`crate::Li::state_from`] /
/// [`crate::neuron::LifEx::state_from`], which refuse a missing or an extra current.
#[derive(Clone, Debug)]
pub struct LeakyState {
    /// Membrane potential, `[batch, size]`.
    pub v: Tensor<2>,
    /// Synaptic current after its decay, `[batch, size]` (`None` for models without one).
    pub(crate) i: Option<Tensor<2>>,
}

impl LeakyState {
    /// The resting state with a synaptic current: `v = 0`, `i = 0`.
    #[deprecated(
        note = "whether the state carries a current is the layer's: use the layer's `init_state` \
                or `state_from`"
    )]
    pub fn zeros(batch: usize, size: usize, device: &Device) -> Self {
        Self::resting(batch, size, true, device)
    }

    /// The synaptic current after its decay (`None` for a layer without one).
    pub fn i(&self) -> Option<&Tensor<2>> {
        self.i.as_ref()
    }

    /// The parts `(v, i)`.
    pub fn into_parts(self) -> (Tensor<2>, Option<Tensor<2>>) {
        (self.v, self.i)
    }

    /// Checks the state for a layer of `size` neurons that has a synaptic current exactly when
    /// `with_current`: the parts, then every tensor `[batch, size]`.
    pub(crate) fn check_for(
        &self,
        with_current: bool,
        batch: usize,
        size: usize,
        context: &'static str,
    ) -> Result<()> {
        super::layer::check_state_parts(
            context,
            [super::layer::StatePart {
                layer: "synaptic current (tau_syn_ms)",
                state: "current (i)",
                carried: self.i.is_some(),
                wanted: with_current,
            }],
        )?;
        self.check(batch, size, context)
    }

    /// The resting state, with a zero current or none.
    pub(crate) fn resting(batch: usize, size: usize, with_current: bool, device: &Device) -> Self {
        let v = Tensor::zeros([batch, size], device);
        let i = with_current.then(|| v.clone());
        Self { v, i }
    }
}

impl NeuronState for LeakyState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> Result<()> {
        check_state_tensors([&self.v].into_iter().chain(&self.i), batch, size, context)
    }
}

/// Converts Norse's parametrization (inverse time constants in 1/s, `dt` in s) to
/// `(dt_ms, tau_mem_ms, tau_syn_ms)`.
pub(crate) fn from_norse(
    tau_mem_inv: f64,
    tau_syn_inv: Option<f64>,
    dt_s: f64,
) -> Result<(f64, f64, Option<f64>)> {
    let tau_mem_inv = positive("tau_mem_inv", tau_mem_inv)?;
    let tau_syn_inv = tau_syn_inv
        .map(|inv| positive("tau_syn_inv", inv))
        .transpose()?;
    let dt_s = positive("dt", dt_s)?;
    Ok((
        dt_s * 1e3,
        1e3 / tau_mem_inv,
        tau_syn_inv.map(|inv| 1e3 / inv),
    ))
}

/// A constant of a step shared by all neurons or one per neuron (`[1, size]`): a resting
/// potential, a decay, Izhikevich's `a·h`, `b` and `d`. The shared one enters as a scalar, as
/// torch uses a Python float, and both kinds give the same f32 operation.
#[derive(Clone, Debug)]
// built once per sequence, never stored in bulk: the size of the variants does not matter
#[allow(clippy::large_enum_variant)]
pub(crate) enum Coefficient {
    Shared(f32),
    PerNeuron(Tensor<2>),
}

impl Coefficient {
    /// `x · self`.
    pub(crate) fn times(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Shared(k) => x.mul_scalar(*k),
            Self::PerNeuron(k) => x * k.clone(),
        }
    }

    /// `x + self`.
    pub(crate) fn plus(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Shared(k) => x.add_scalar(*k),
            Self::PerNeuron(k) => x + k.clone(),
        }
    }

    /// `x / self`.
    pub(crate) fn dividing(&self, x: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Shared(k) => x.div_scalar(*k),
            Self::PerNeuron(k) => x / k.clone(),
        }
    }

    /// `self − v`, written `−v + self` as torch evaluates Norse's `(v_leak - v)`.
    pub(crate) fn minus(&self, v: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Shared(k) => v.neg().add_scalar(*k),
            Self::PerNeuron(k) => v.neg() + k.clone(),
        }
    }

    /// `v − self`.
    pub(crate) fn below(&self, v: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Shared(k) => v.sub_scalar(*k),
            Self::PerNeuron(k) => v - k.clone(),
        }
    }

    /// `(1 − z)·v + z·self`: the membrane `v` set to this value where `z` spiked (as
    /// [`reset_to_value`] for a shared value).
    pub(crate) fn reset(&self, v: Tensor<2>, z: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Shared(k) => reset_to_value(v, z, *k),
            Self::PerNeuron(k) => z.clone().neg().add_scalar(1.0) * v + z * k.clone(),
        }
    }

    /// The shared value, or the per-neuron row of `per_neuron` (`[size]`).
    pub(crate) fn of(per_neuron: Option<Tensor<1>>, shared: f64) -> Self {
        match per_neuron {
            Some(values) => Self::PerNeuron(values.unsqueeze::<2>()),
            None => Self::Shared(shared as f32),
        }
    }
}

/// The sub-threshold membrane update, resolved for one `dt`. Coefficients are `[1, size]`.
#[derive(Clone, Debug)]
// built once per sequence, never stored in bulk: the size of the variants does not matter
#[allow(clippy::large_enum_variant)]
pub(crate) enum Membrane {
    /// `v + k·((v_leak − v) + I)` with `k = dt/τ` (Norse's operation order, for bit parity), or
    /// `v + k·(v_leak − v) + I` when the input is not scaled.
    Euler {
        k: Tensor<2>,
        v_leak: Coefficient,
        scale_input: bool,
    },
    /// `β·v + gain·I + rest`, `gain` 1 when `None`, `rest = (1 − β)·v_leak` omitted when zero.
    Exact {
        beta: Tensor<2>,
        gain: Option<Tensor<2>>,
        rest: Option<Tensor<2>>,
    },
    /// `v + I`: a perfect integrator (no leak).
    Perfect,
}

impl Membrane {
    /// The membrane update of resolved coefficients (`v_leak` is read by the Euler forms unless
    /// the coefficients carry one per neuron).
    pub(crate) fn from_coefficients(c: &LeakyCoefficients, v_leak: f64) -> Self {
        let row = |t: &Tensor<1>| t.clone().unsqueeze::<2>();
        match c.membrane {
            MembraneForm::EulerScaled | MembraneForm::EulerUnscaled => Self::Euler {
                k: row(&c.decay),
                v_leak: match &c.v_leak_per_neuron {
                    Some(per_neuron) => Coefficient::PerNeuron(row(per_neuron)),
                    None => Coefficient::Shared(v_leak as f32),
                },
                scale_input: c.membrane == MembraneForm::EulerScaled,
            },
            MembraneForm::Exact => Self::Exact {
                beta: row(&c.decay),
                gain: c.gain.as_ref().map(row),
                rest: c.rest.as_ref().map(row),
            },
        }
    }

    /// One sub-threshold step of the membrane `v` driven by the current `i`.
    pub(crate) fn integrate(&self, v: Tensor<2>, i: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Euler {
                k,
                v_leak,
                scale_input: true,
            } => {
                let drive = v_leak.minus(v.clone()) + i;
                v + drive * k.clone()
            }
            Self::Euler {
                k,
                v_leak,
                scale_input: false,
            } => {
                let leak = v_leak.minus(v.clone()) * k.clone();
                v + leak + i
            }
            Self::Exact { beta, gain, rest } => {
                let i = match gain {
                    Some(gain) => i * gain.clone(),
                    None => i,
                };
                let v = v * beta.clone() + i;
                match rest {
                    Some(rest) => v + rest.clone(),
                    None => v,
                }
            }
            Self::Perfect => v + i,
        }
    }
}

/// The sub-threshold dynamics of the leaky family (membrane and optional synaptic current),
/// resolved once per sequence: what LIF and LI share.
#[derive(Clone, Debug)]
pub(crate) struct Leaky {
    membrane: Membrane,
    synapse: Option<Synapse>,
}

impl Leaky {
    /// A membrane update without a synaptic current.
    pub(crate) fn from_membrane(membrane: Membrane) -> Self {
        Self {
            membrane,
            synapse: None,
        }
    }

    /// The reference step of resolved coefficients (`v_leak` is read by the Euler forms).
    pub(crate) fn from_coefficients(c: LeakyCoefficients, v_leak: f64) -> Self {
        Self {
            membrane: Membrane::from_coefficients(&c, v_leak),
            synapse: c
                .synapse
                .map(|(form, s)| Synapse::from_coefficient(form, s)),
        }
    }

    /// The current that drives the membrane during this step (`i + x`, or `x` without a
    /// synapse) and the decayed current carried to the next step. A missing `i` counts as zero.
    pub(crate) fn current(
        &self,
        i: Option<Tensor<2>>,
        x: Tensor<2>,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        match &self.synapse {
            Some(synapse) => {
                let i = match i {
                    Some(i) => i + x,
                    None => x,
                };
                (i.clone(), Some(synapse.decay(i)))
            }
            None => (x, None),
        }
    }

    /// The decay of the current `i` over one step without input (`None` without a synapse).
    pub(crate) fn decay_current(&self, i: Tensor<2>) -> Option<Tensor<2>> {
        self.synapse.as_ref().map(|synapse| synapse.decay(i))
    }

    /// One sub-threshold step of the membrane driven by `current`.
    pub(crate) fn integrate(&self, v: Tensor<2>, current: Tensor<2>) -> Tensor<2> {
        self.membrane.integrate(v, current)
    }
}

/// The synaptic current `i`: it jumps by the input, drives the membrane in the same step, then
/// decays (Norse's order: `i ← i + x`, `v ← f(v, i)`, `i ← i − (dt/τ_syn)·i`).
#[derive(Clone, Debug)]
pub(crate) enum Synapse {
    /// `i − k·i` with `k = dt/τ_syn`.
    Euler { k: Tensor<2> },
    /// `α·i` with `α = e^(−dt/τ_syn)`.
    Exact { alpha: Tensor<2> },
}

impl Synapse {
    /// Resolves `τ_syn` (`[size]`, ms).
    pub(crate) fn new(tau_ms: Tensor<1>, dt_ms: f64, discretization: Discretization) -> Self {
        let (form, s) = synapse_coefficient(tau_ms, dt_ms, discretization);
        Self::from_coefficient(form, s)
    }

    /// The synapse of a resolved coefficient (`k_syn` Euler, `α` exact).
    fn from_coefficient(form: SynapseForm, s: Tensor<1>) -> Self {
        let s = s.unsqueeze::<2>();
        match form {
            SynapseForm::Exact => Self::Exact { alpha: s },
            _ => Self::Euler { k: s },
        }
    }

    /// The decay of the current over one step.
    pub(crate) fn decay(&self, i: Tensor<2>) -> Tensor<2> {
        match self {
            Self::Euler { k } => i.clone() - i * k.clone(),
            Self::Exact { alpha } => i * alpha.clone(),
        }
    }
}

/// Threshold crossing and reset, resolved for one sequence: the per-neuron threshold and the
/// flags of the ground floor's [`FiringSpec`].
#[derive(Clone, Debug)]
pub(crate) struct Firing {
    /// `[1, size]`.
    pub threshold: Tensor<2>,
    pub spec: FiringSpec,
    /// Per-neuron reset values `[1, size]` (Izhikevich's `c` per neuron), in place of the
    /// spec's scalar `v_reset` when given.
    pub v_reset: Option<Tensor<2>>,
}

impl Firing {
    /// One step without refractoriness or threshold offset: see [`Firing::step_with`].
    pub(crate) fn step(
        &self,
        v: Tensor<2>,
        integrate: impl FnOnce(Tensor<2>) -> Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>) {
        let (z, v, _) = self.step_with(v, None, None, integrate);
        (z, v)
    }

    /// One step: `integrate` is the sub-threshold update of the membrane `v` left by the
    /// previous step, `refrac` the refractory countdown (present iff `spec.refractory` is) and
    /// `offset` a raise of the threshold for this step's spike (an adaptive threshold; the
    /// reset still uses the plain threshold). Returns the spikes, the membrane to carry to the
    /// next step and the countdown.
    ///
    /// - Immediate (Norse, mlGeNN, SpikingJelly): integrate, fire, reset at once; the carried
    ///   membrane is the reset one. A refractory countdown follows GeNN's order: the membrane
    ///   is held (unless `integrate`) and the countdown falls by `dt` while it is positive, a
    ///   neuron fires only when it is `<= 0`, and a spike sets it to the period.
    /// - `reset_delay` (snnTorch's default): the reset of the previous step's spike
    ///   `H(v − threshold)` (no gradient, as snnTorch detaches it) is applied during this step,
    ///   before the leak for `ToValue` and after it for the subtractive resets, exactly as
    ///   snnTorch's `Leaky` does; the carried membrane still holds this step's spike.
    /// - `spike_from_previous` (Spyx): the spike is `H(v − threshold)` of the membrane carried
    ///   in, with its surrogate gradient, and resets the membrane integrated in this step.
    pub(crate) fn step_with(
        &self,
        v: Tensor<2>,
        refrac: Option<Tensor<2>>,
        offset: Option<Tensor<2>>,
        integrate: impl FnOnce(Tensor<2>) -> Tensor<2>,
    ) -> (Tensor<2>, Tensor<2>, Option<Tensor<2>>) {
        let spec = &self.spec;
        if spec.spike_from_previous {
            let z = self.spike(v.clone(), offset);
            let v = self.reset_around(v, self.for_reset(&z), integrate);
            return (z, v, refrac);
        }
        if spec.reset_delay {
            let fired = heaviside(v.clone() - self.threshold.clone(), spec.fire_at_threshold);
            let v = self.reset_around(v, fired, integrate);
            let z = self.spike(v.clone(), offset);
            return (z, v, refrac);
        }
        let (v, refrac, can_fire) = match (refrac, spec.refractory) {
            (Some(r), Some(refractory)) => {
                let counting = r.clone().greater_elem(0.0);
                let v = if refractory.integrate {
                    integrate(v)
                } else {
                    integrate(v.clone()).mask_where(counting.clone(), v)
                };
                let r = r
                    .clone()
                    .mask_where(counting, r.sub_scalar(refractory.dt_ms));
                let can_fire = r.clone().lower_equal_elem(0.0).float();
                (v, Some(r), Some(can_fire))
            }
            (refrac, _) => (integrate(v), refrac, None),
        };
        let mut z = self.spike(v.clone(), offset);
        if let Some(mask) = can_fire {
            z = z * mask;
        }
        let v = self.reset(v, self.for_reset(&z));
        let refrac = match (refrac, spec.refractory) {
            (Some(r), Some(refractory)) => {
                Some(r.mask_fill(z.clone().detach().greater_elem(0.0), refractory.period_ms))
            }
            (r, _) => r,
        };
        (z, v, refrac)
    }

    /// `H(v − threshold − offset)`, Heaviside forward and surrogate backward.
    fn spike(&self, v: Tensor<2>, offset: Option<Tensor<2>>) -> Tensor<2> {
        let threshold = match offset {
            Some(offset) => self.threshold.clone() + offset,
            None => self.threshold.clone(),
        };
        spike_with(
            v - threshold,
            self.spec.surrogate,
            self.spec.fire_at_threshold,
        )
    }

    /// The spike as the reset sees it: detached with `detach_reset`.
    fn for_reset(&self, z: &Tensor<2>) -> Tensor<2> {
        if self.spec.detach_reset {
            z.clone().detach()
        } else {
            z.clone()
        }
    }

    /// The membrane `v` reset where `fired` is 1.
    fn reset(&self, v: Tensor<2>, fired: Tensor<2>) -> Tensor<2> {
        match self.spec.reset {
            Reset::ToValue => self.reset_potential().reset(v, fired),
            Reset::Subtract => v - fired * self.threshold.clone(),
            Reset::Relative => v - fired * self.reset_potential().below(self.threshold.clone()),
            Reset::None => v,
        }
    }

    /// `v_reset`: the per-neuron values where given, else the spec's shared one.
    fn reset_potential(&self) -> Coefficient {
        match &self.v_reset {
            Some(v_reset) => Coefficient::PerNeuron(v_reset.clone()),
            None => Coefficient::Shared(self.spec.v_reset),
        }
    }

    /// A reset by a spike known before this step's integration: a reset to a value is applied
    /// before the leak (the membrane starts the step at `v_reset`), a subtraction after it.
    fn reset_around(
        &self,
        v: Tensor<2>,
        fired: Tensor<2>,
        integrate: impl FnOnce(Tensor<2>) -> Tensor<2>,
    ) -> Tensor<2> {
        match self.spec.reset {
            Reset::ToValue => integrate(self.reset(v, fired)),
            _ => self.reset(integrate(v), fired),
        }
    }
}

/// `(1 − z)·v + z·v_reset`: the membrane `v` set to `v_reset` where `z` spiked.
pub(crate) fn reset_to_value(v: Tensor<2>, z: Tensor<2>, v_reset: f32) -> Tensor<2> {
    let kept = z.clone().neg().add_scalar(1.0) * v;
    if v_reset == 0.0 {
        kept
    } else {
        kept + z.mul_scalar(v_reset)
    }
}

/// What [`LeakyTimeConstants`] needs of a layer: its size, step, form and trainability, and its
/// time-constant parameters.
pub struct LeakyParts<'a> {
    /// Number of neurons.
    pub size: usize,
    /// The step in ms.
    pub dt_ms: f64,
    /// The membrane form (the Euler forms need `τ ≥ dt`).
    pub discretization: Discretization,
    /// Whether the time constants train.
    pub learn: bool,
    /// `τ_mem` per neuron, ms.
    pub tau_mem_ms: &'a mut Param<Tensor<1>>,
    /// `τ_syn` per neuron, ms (`None` without a synaptic current).
    pub tau_syn_ms: Option<&'a mut Param<Tensor<1>>>,
}

/// Per-neuron time constants for the leaky family ([`crate::Lif`], [`crate::Li`],
/// [`crate::neuron::LifEx`], [`crate::neuron::LifAdEx`]): the peers take a tensor for each
/// (Norse's `LIFParameters`/`LIParameters`/`LIFExParameters`/`LIFAdExParameters`), so a layer built from a
/// config's scalars can be given one value per neuron. Each value is checked as the config checks
/// its scalar (positive; at least `dt` for the forward-Euler forms); the values live in the
/// layer's parameters, not in its config.
pub trait LeakyTimeConstants: Sized {
    /// The layer's size, step, form, trainability and time-constant parameters.
    fn leaky_parts(&mut self) -> LeakyParts<'_>;

    /// The same layer with one membrane time constant per neuron, ms, `[size]`.
    ///
    /// # Errors
    /// [`SnnError::ShapeMismatch`] unless `[size]`; [`SnnError::NotPositive`] or
    /// [`SnnError::UnstableEuler`] for a bad value.
    fn with_tau_mem_ms(mut self, tau_mem_ms: Tensor<1>) -> Result<Self> {
        let parts = self.leaky_parts();
        *parts.tau_mem_ms = time_constants("tau_mem_ms", tau_mem_ms, &parts)?;
        Ok(self)
    }

    /// The same layer with one synaptic time constant per neuron, ms, `[size]`.
    ///
    /// # Errors
    /// [`SnnError::Rejected`] for a layer without a synaptic current, and those of
    /// [`LeakyTimeConstants::with_tau_mem_ms`].
    fn with_tau_syn_ms(mut self, tau_syn_ms: Tensor<1>) -> Result<Self> {
        let parts = self.leaky_parts();
        let values = time_constants("tau_syn_ms", tau_syn_ms, &parts)?;
        let Some(tau) = parts.tau_syn_ms else {
            return Err(SnnError::Rejected {
                field: "tau_syn_ms",
                reason: "the layer has no synaptic current (its config's tau_syn_ms is None)"
                    .into(),
            });
        };
        *tau = values;
        Ok(self)
    }

    /// Norse's tensor time constants: `tau_mem_inv` and, with a synaptic current,
    /// `tau_syn_inv`, in 1/s, `[size]` (the layer's `dt` stays). Build the layer with the
    /// config's `from_norse` first.
    ///
    /// # Errors
    /// Those of [`LeakyTimeConstants::with_tau_mem_ms`] and
    /// [`LeakyTimeConstants::with_tau_syn_ms`].
    fn with_norse_time_constants(
        self,
        tau_mem_inv: Tensor<1>,
        tau_syn_inv: Option<Tensor<1>>,
    ) -> Result<Self> {
        let layer = self.with_tau_mem_ms(tau_mem_inv.recip().mul_scalar(1e3))?;
        match tau_syn_inv {
            Some(inv) => layer.with_tau_syn_ms(inv.recip().mul_scalar(1e3)),
            None => Ok(layer),
        }
    }
}

/// Per-neuron thresholds (Norse's tensor `v_th`, snnTorch's tensor `threshold`) for the layers
/// that keep their threshold as a `[size]` parameter ([`crate::Lif`], [`crate::Iaf`], [`crate::neuron::LifEx`],
/// [`crate::neuron::LifAdEx`], [`crate::neuron::Spyx`], [`crate::neuron::Izhikevich`]). The values live in the layer's parameters, not in its config.
pub trait PerNeuronThreshold: Sized {
    /// The layer's size, whether its threshold trains, and the threshold parameter.
    fn threshold_parts(&mut self) -> (usize, bool, &mut Param<Tensor<1>>);

    /// The same layer with one threshold per neuron, `[size]`, finite.
    ///
    /// # Errors
    /// [`SnnError::ShapeMismatch`] unless `[size]`, [`SnnError::NotFinite`].
    fn with_threshold(mut self, threshold: Tensor<1>) -> Result<Self> {
        let (size, learn, param) = self.threshold_parts();
        *param = per_neuron_values("threshold", threshold, size, learn, |v| {
            crate::error::finite("threshold", v)
        })?;
        Ok(self)
    }
}

/// The per-neuron potentials of a layer ([`PerNeuronPotentials`]): its size and the slots for
/// one `v_leak` and one `v_reset` per neuron (an empty slot: the config's scalar). A layer
/// without a resting potential (`Iaf`) or without a reset (`Li`) has no slot for it.
pub struct PotentialParts<'a> {
    /// Number of neurons.
    pub size: usize,
    /// Resting potential per neuron, `[size]`; `None` for a layer without a leak.
    pub v_leak: Option<&'a mut Option<Param<Tensor<1>>>>,
    /// Reset potential per neuron, `[size]`; `None` for a layer that does not fire.
    pub v_reset: Option<&'a mut Option<Param<Tensor<1>>>>,
}

/// Per-neuron resting and reset potentials (Norse's tensor `v_leak` and `v_reset`; NIR's
/// per-neuron `v_leak` and `v_reset`) for the layers that keep them as optional `[size]`
/// constants: both for [`crate::Lif`], [`crate::neuron::LifEx`] and
/// [`crate::neuron::LifAdEx`], `v_leak` for [`crate::Li`], `v_reset` for [`crate::Iaf`]. The
/// values are saved with the layer and not trained; the fused op of `Lif` and `Li` reads them
/// per neuron ([`crate::dynamics::Coef::VLeak`], [`crate::dynamics::Coef::VReset`]).
pub trait PerNeuronPotentials: Sized {
    /// The layer's size and its potential slots.
    fn potential_parts(&mut self) -> PotentialParts<'_>;

    /// The per-neuron `(v_leak, v_reset)`, each `None` when every neuron has the config's value.
    fn potentials(&self) -> (Option<&Param<Tensor<1>>>, Option<&Param<Tensor<1>>>);

    /// The same layer with one resting potential `v_leak` per neuron, `[size]`, finite.
    ///
    /// # Errors
    /// [`SnnError::ShapeMismatch`] unless `[size]`, [`SnnError::NotFinite`];
    /// [`SnnError::Rejected`] for a layer without a leak (`Iaf`).
    fn with_v_leak(mut self, v_leak: Tensor<1>) -> Result<Self> {
        let parts = self.potential_parts();
        let value = checked_potential("v_leak", v_leak, parts.size)?;
        *slot("v_leak", parts.v_leak, "the layer has no leak")? = Some(value);
        Ok(self)
    }

    /// The same layer with one reset potential `v_reset` per neuron, `[size]`, finite (also
    /// the relative reset's offset).
    ///
    /// # Errors
    /// [`SnnError::ShapeMismatch`] unless `[size]`, [`SnnError::NotFinite`];
    /// [`SnnError::Rejected`] for a layer that does not fire (`Li`).
    fn with_v_reset(mut self, v_reset: Tensor<1>) -> Result<Self> {
        let parts = self.potential_parts();
        let value = checked_potential("v_reset", v_reset, parts.size)?;
        *slot("v_reset", parts.v_reset, "the layer does not fire")? = Some(value);
        Ok(self)
    }

    /// The per-neuron resting potentials `[size]`; `None` when every neuron rests at the
    /// config's `v_leak`.
    fn v_leak_per_neuron(&self) -> Option<Tensor<1>> {
        self.potentials().0.map(Param::val)
    }

    /// The per-neuron reset potentials `[size]`; `None` when every neuron resets to the
    /// config's `v_reset`.
    fn v_reset_per_neuron(&self) -> Option<Tensor<1>> {
        self.potentials().1.map(Param::val)
    }
}

/// The layer's slot for `field`, or [`SnnError::Rejected`] with `reason` when it has none.
fn slot<'a>(
    field: &'static str,
    slot: Option<&'a mut Option<Param<Tensor<1>>>>,
    reason: &str,
) -> Result<&'a mut Option<Param<Tensor<1>>>> {
    slot.ok_or_else(|| SnnError::Rejected {
        field,
        reason: reason.into(),
    })
}

/// A per-neuron potential, checked: `[size]` and finite; a constant (not trained).
fn checked_potential(
    field: &'static str,
    values: Tensor<1>,
    size: usize,
) -> Result<Param<Tensor<1>>> {
    per_neuron_values(field, values, size, false, |v| {
        crate::error::finite(field, v)
    })
}

/// [`PerNeuronPotentials`] for a layer with the fields `v_leak_per_neuron` and
/// `v_reset_per_neuron` (visible to `neuron`) and a `size()` (invoked in `neuron/mod.rs`).
macro_rules! per_neuron_potentials {
    ($($layer:ty),* $(,)?) => {$(
        impl $crate::neuron::PerNeuronPotentials for $layer {
            fn potential_parts(&mut self) -> $crate::neuron::PotentialParts<'_> {
                $crate::neuron::PotentialParts {
                    size: self.size(),
                    v_leak: Some(&mut self.v_leak_per_neuron),
                    v_reset: Some(&mut self.v_reset_per_neuron),
                }
            }
            fn potentials(
                &self,
            ) -> (
                Option<&burn::module::Param<burn::prelude::Tensor<1>>>,
                Option<&burn::module::Param<burn::prelude::Tensor<1>>>,
            ) {
                (self.v_leak_per_neuron.as_ref(), self.v_reset_per_neuron.as_ref())
            }
        }
    )*};
}
pub(crate) use per_neuron_potentials;

/// [`LeakyTimeConstants`] for layers whose config has `size`, `dt_ms`, `learn_tau` and (unless
/// the model has one fixed form, `forward_euler:`) `discretization`, and which keep `tau_mem_ms`
/// and an optional `tau_syn_ms` as parameters (invoked in `neuron/mod.rs` for `Lif`, `Li` and
/// `LifEx`).
macro_rules! leaky_time_constants {
    (@impl $layer:ty, $c:ident, $discretization:expr) => {
        impl LeakyTimeConstants for $layer {
            fn leaky_parts(&mut self) -> LeakyParts<'_> {
                let $c = self.config();
                let (size, dt_ms, discretization, learn) =
                    ($c.size, $c.dt_ms, $discretization, $c.learn_tau);
                LeakyParts {
                    size,
                    dt_ms,
                    discretization,
                    learn,
                    tau_mem_ms: &mut self.tau_mem_ms,
                    tau_syn_ms: self.tau_syn_ms.as_mut(),
                }
            }
        }
    };
    (forward_euler: $($layer:ty),* $(,)?) => {$(
        $crate::neuron::leaky::leaky_time_constants!(
            @impl $layer, c, $crate::dynamics::Discretization::ForwardEuler
        );
    )*};
    ($($layer:ty),* $(,)?) => {$(
        $crate::neuron::leaky::leaky_time_constants!(@impl $layer, c, c.discretization);
    )*};
}
pub(crate) use leaky_time_constants;

/// Time constants in ms for `parts`, checked: positive, and at least `dt` for the Euler forms.
fn time_constants(
    field: &'static str,
    values: Tensor<1>,
    parts: &LeakyParts<'_>,
) -> Result<Param<Tensor<1>>> {
    let (dt_ms, euler) = (parts.dt_ms, parts.discretization.is_euler());
    per_neuron_values(field, values, parts.size, parts.learn, |tau| {
        if euler {
            euler_time_constant(field, tau, dt_ms)
        } else {
            positive(field, tau)
        }
    })
}

//! Leaky integrate-and-fire neurons, with or without a synaptic current: one family, with each
//! peer's LIF as a constructor of [`LifConfig`] (Norse, snnTorch, SpikingJelly, Spyx, mlGeNN)
//! and their semantic differences as documented options.

use super::layer::{per_neuron, per_neuron_values};
use burn::module::Param;
use burn::prelude::*;

use super::layer::{
    Contexts, FusedRun, Neuron, NeuronOutput, NeuronState, StatePart, check_state_parts,
    check_state_tensors,
};
use super::leaky::{Firing, Leaky, Membrane, from_norse};
use crate::dynamics::{
    Discretization, Execution, FiringSpec, LeakyCoefficients, LeakyParams, LeakySpec, Refractory,
    Reset,
};
use crate::error::{SnnError, finite, nonzero};
use crate::fused;
use crate::lift::StepLayer;
use crate::surrogate::Surrogate;

/// Configuration of a [`Lif`] layer.
///
/// Equations, per step of `dt_ms` with input `x` (one value per neuron):
///
/// ```text
/// i ← i + x                       (synaptic current; without `tau_syn_ms`, i = x)
/// v ← membrane update of v by i   (see `Discretization`; Euler: v + dt/τ_mem·((v_leak − v) + i))
/// i ← decay of i over dt          (Euler: i − dt/τ_syn·i)
/// z = H(v − threshold)            (H(0) = 0 unless `fire_at_threshold`)
/// v ← reset of v by z             (see `Reset`)
/// ```
///
/// The peers' LIFs differ in where they read the spike and when they reset; each difference
/// is an option of this one family:
///
/// | option | meaning | peer |
/// |---|---|---|
/// | `reset_delay` | the reset of a spike is applied in the next step | snnTorch `Leaky` |
/// | `spike_from_previous` | the spike is read from the membrane carried in | Spyx `LIF` |
/// | `fire_at_threshold` | `v = threshold` fires (`>=`) | SpikingJelly, mlGeNN |
/// | `reset = Relative` | subtract `threshold − v_reset` | mlGeNN `relative_reset` |
/// | `refractory_ms`, `integrate_during_refrac` | GeNN's refractory countdown | mlGeNN |
/// | `v_init` | the membrane of the initial state | mlGeNN `v` |
///
/// The defaults are Norse's `LIFParameters` (`lif_feed_forward_step`): `τ_mem = 10 ms`,
/// `τ_syn = 5 ms`, forward Euler with `dt = 1 ms`, threshold 1, reset to 0, SuperSpike.
/// [`LifConfig::box_model`] drops the current (Norse `lif_box`), [`LifConfig::from_beta`] gives
/// snnTorch's `Leaky`, [`LifConfig::from_norse`] takes Norse's inverse time constants in 1/s.
#[derive(Config, Debug)]
pub struct LifConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Integration step in ms. Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Membrane time constant `τ_mem` in ms. Default 10 (Norse's `tau_mem_inv = 100 /s`).
    #[config(default = 10.0)]
    pub tau_mem_ms: f64,
    /// Synaptic current time constant `τ_syn` in ms, or `None` for the current-free ("box")
    /// model where the input drives the membrane directly. Default `Some(5.0)` (Norse's
    /// `tau_syn_inv = 200 /s`).
    #[config(default = "Some(5.0)")]
    pub tau_syn_ms: Option<f64>,
    /// Firing threshold `v_th` (dimensionless). Default 1.
    #[config(default = 1.0)]
    pub threshold: f64,
    /// Resting (leak) potential `v_leak`. Default 0.
    #[config(default = 0.0)]
    pub v_leak: f64,
    /// Potential after a [`Reset::ToValue`] reset. Default 0.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Reset after a spike. Default [`Reset::ToValue`] (Norse).
    #[config(default = "Reset::ToValue")]
    pub reset: Reset,
    /// Membrane discretization. Default [`Discretization::ForwardEuler`] (Norse).
    #[config(default = "Discretization::ForwardEuler")]
    pub discretization: Discretization,
    /// Apply a spike's reset during the next step, as snnTorch does (see [`Lif`]). Default false.
    #[config(default = false)]
    pub reset_delay: bool,
    /// Stop gradients through the reset (SpikingJelly's `detach_reset`, Norse's recurrent
    /// `lif_step`). Default false: gradients flow through the reset, as in Norse's
    /// `lif_feed_forward_step`.
    #[config(default = false)]
    pub detach_reset: bool,
    /// Surrogate derivative of the spike. Default SuperSpike with `alpha = 100` (Norse).
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Spike when `v − threshold = 0` exactly too (SpikingJelly's `>=`). Default false.
    #[config(default = false)]
    pub fire_at_threshold: bool,
    /// Read the spike from the membrane carried in from the previous step and reset the
    /// membrane integrated in this step with it, surrogate gradient included (Spyx's order:
    /// `z = H(v − θ); v ← β·v + x − z·θ`). Default false.
    #[config(default = false)]
    pub spike_from_previous: bool,
    /// Refractory period in ms after each spike, counted down by `dt` in GeNN's order (see
    /// [`Lif`]), or `None`. The state then carries the countdown ([`LifState::refrac`]). Not
    /// with `reset_delay` or `spike_from_previous`. Default `None`.
    #[config(default = "None")]
    pub refractory_ms: Option<f64>,
    /// Keep integrating the input while refractory (mlGeNN's `integrate_during_refrac`);
    /// otherwise the membrane is held. Default true.
    #[config(default = true)]
    pub integrate_during_refrac: bool,
    /// Membrane potential of the initial state (mlGeNN's `v`). Default 0.
    #[config(default = 0.0)]
    pub v_init: f64,
    /// Train the time constants (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
    /// Train the threshold (per neuron). Default false.
    #[config(default = false)]
    pub learn_threshold: bool,
    /// How [`Lif::forward`] runs the time loop. Default [`Execution::Auto`]: the fused
    /// multi-step op ([`crate::fused`]) when the backend and this configuration support it (see
    /// [`Lif::fused_path`]), else the reference step loop; [`Execution::Reference`] forces the
    /// step-by-step composition. Both give the same spikes and gradients.
    #[config(default = "Execution::Auto")]
    pub execution: Execution,
}

impl LifConfig {
    /// The current-free LIF ("box" model, Norse `lif_box`): `v ← v + dt/τ_mem·((v_leak − v) + x)`.
    pub fn box_model(size: usize) -> Self {
        Self::new(size).with_tau_syn_ms(None)
    }

    /// Norse's parametrization: inverse time constants in 1/s and `dt` in s
    /// (`LIFParameters(tau_syn_inv, tau_mem_inv)`, `dt = 0.001`). `tau_syn_inv = None` gives the
    /// box model.
    pub fn from_norse(
        size: usize,
        tau_mem_inv: f64,
        tau_syn_inv: Option<f64>,
        dt_s: f64,
    ) -> crate::Result<Self> {
        let (dt_ms, tau_mem_ms, tau_syn_ms) = from_norse(tau_mem_inv, tau_syn_inv, dt_s)?;
        Ok(Self::new(size)
            .with_dt_ms(dt_ms)
            .with_tau_mem_ms(tau_mem_ms)
            .with_tau_syn_ms(tau_syn_ms))
    }

    /// snnTorch's `Leaky(beta, threshold=1)`: decay `β = e^(−dt/τ_mem)` per step of 1 ms, input
    /// added unscaled, subtractive reset applied in the next step, arctan surrogate (alpha 2),
    /// no synaptic current. `β` must lie in (0, 1).
    pub fn from_beta(size: usize, beta: f64) -> crate::Result<Self> {
        if !(beta > 0.0 && beta < 1.0) {
            return Err(SnnError::OutOfRange {
                field: "beta",
                allowed: "(0, 1)",
                value: beta,
            });
        }
        Ok(Self::new(size)
            .with_tau_syn_ms(None)
            .with_tau_mem_ms(-1.0 / beta.ln())
            .with_discretization(Discretization::ExactDecay)
            .with_reset(Reset::Subtract)
            .with_reset_delay(true)
            .with_surrogate(Surrogate::arctan()))
    }

    /// SpikingJelly's `LIFNode(tau, decay_input, v_threshold, v_reset)` (2.0.0): steps of 1 with
    /// `h = v + (x − (v − v_reset))/τ` (`decay_input`) or `h = v − (v − v_reset)/τ + x`, spikes
    /// at `h ≥ v_threshold` (non-strict), a hard reset to `v_reset` or, with `v_reset = None`, a
    /// soft (subtractive) reset and a leak towards 0. Sigmoid surrogate (alpha 4), no synaptic
    /// current. `τ` (in steps) must be at least 1.
    pub fn from_spikingjelly(
        size: usize,
        tau: f64,
        decay_input: bool,
        v_threshold: f64,
        v_reset: Option<f64>,
    ) -> Self {
        let (reset, v_reset) = Reset::spikingjelly(v_reset);
        Self::new(size)
            .with_tau_syn_ms(None)
            .with_tau_mem_ms(tau)
            .with_discretization(if decay_input {
                Discretization::ForwardEuler
            } else {
                Discretization::ForwardEulerUnscaledInput
            })
            .with_threshold(v_threshold)
            .with_v_leak(v_reset)
            .with_v_reset(v_reset)
            .with_reset(reset)
            .with_fire_at_threshold(true)
            .with_surrogate(Surrogate::sigmoid())
    }

    /// Spyx's `spyx.nn.LIF((size,), beta, threshold=1)` (Spyx 1.0.0), in steps of 1:
    /// `z = H(V − θ)` of the membrane carried in, then `V ← β·V + x − z·θ`, strict `H`, the
    /// surrogate gradient through the reset, Spyx's default `superspike(k=25)`, no synaptic
    /// current. `β` must lie in (0, 1).
    ///
    /// Spyx trains `β` itself (clipped to `[0, 1]` each step); here the trained parameter is
    /// `τ_mem = −1/ln β` (`learn_tau`): the same forward, another parametrization of the
    /// gradient.
    pub fn spyx(size: usize, beta: f64) -> crate::Result<Self> {
        Ok(Self::from_beta(size, beta)?
            .with_reset_delay(false)
            .with_spike_from_previous(true)
            .with_surrogate(Surrogate::SuperSpike { alpha: 25.0 }))
    }

    /// mlGeNN's `LeakyIntegrateFire()` with its defaults: `τ_mem = 20 ms`, `dt = 1 ms`,
    /// `v ← α·v + x` with `α = e^(−dt/τ_mem)` ([`Discretization::ExactDecay`]; mlGeNN's
    /// `scale_i = True` is [`Discretization::ExactDecayScaledInput`]), fires at `v >= v_thresh`,
    /// relative reset ([`Reset::Relative`]; `relative_reset = False` is [`Reset::ToValue`]),
    /// `v_thresh = 1`, `v_reset = 0`, `v = 0`, no refractory period (`tau_refrac` is
    /// [`LifConfig::refractory_ms`], with `integrate_during_refrac` default true), no synaptic
    /// current. mlGeNN trains with EventProp or e-prop and has no surrogate; the spike here has
    /// the crate's default SuperSpike (`alpha = 100`) backward, so the layer also trains with
    /// BPTT.
    pub fn mlgenn(size: usize) -> Self {
        Self::new(size)
            .with_tau_syn_ms(None)
            .with_tau_mem_ms(20.0)
            .with_discretization(Discretization::ExactDecay)
            .with_reset(Reset::Relative)
            .with_fire_at_threshold(true)
    }

    /// The firing of this configuration, as the reference step and the fused op read it.
    pub fn firing_spec(&self) -> FiringSpec {
        let c = self;
        FiringSpec {
            reset: c.reset,
            v_reset: c.v_reset as f32,
            surrogate: c.surrogate,
            fire_at_threshold: c.fire_at_threshold,
            detach_reset: c.detach_reset,
            reset_delay: c.reset_delay,
            spike_from_previous: c.spike_from_previous,
            refractory: c.refractory_ms.map(|period_ms| Refractory {
                period_ms,
                dt_ms: c.dt_ms,
                integrate: c.integrate_during_refrac,
            }),
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        LeakyParams {
            dt_ms: self.dt_ms,
            tau_mem_ms: self.tau_mem_ms,
            tau_syn_ms: self.tau_syn_ms,
            v_leak: self.v_leak,
            discretization: self.discretization,
        }
        .validate()?;
        finite("threshold", self.threshold)?;
        finite("v_reset", self.v_reset)?;
        finite("v_init", self.v_init)?;
        if let Some(period) = self.refractory_ms {
            // a period shorter than dt is allowed, as in GeNN: it is counted down once before
            // the next threshold check, so it blocks no spike, but without
            // `integrate_during_refrac` it still holds the membrane for one step
            if !(period.is_finite() && period >= 0.0) {
                return Err(SnnError::out_of_range("refractory_ms", "[0, ∞)", period));
            }
            if self.reset_delay || self.spike_from_previous {
                return Err(SnnError::Rejected {
                    field: "refractory_ms",
                    reason: "a refractory period needs the immediate reset (no reset_delay, no \
                             spike_from_previous)"
                        .into(),
                });
            }
        }
        self.surrogate.validate()
    }

    /// Builds the layer on `device`, after [`LifConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<Lif> {
        self.validate()?;
        Ok(Lif {
            tau_mem_ms: per_neuron(self.size, self.tau_mem_ms, self.learn_tau, device),
            tau_syn_ms: self
                .tau_syn_ms
                .map(|tau| per_neuron(self.size, tau, self.learn_tau, device)),
            threshold: per_neuron(self.size, self.threshold, self.learn_threshold, device),
            v_leak_per_neuron: None,
            v_reset_per_neuron: None,
            config: self.clone(),
        })
    }
}

/// A layer of leaky integrate-and-fire neurons; see [`LifConfig`] for the equations.
///
/// With `reset_delay` (snnTorch), the membrane carried in the state and recorded in traces is the
/// one before the reset: snnTorch's `mem`, which still contains the spike of the step.
#[derive(Module, Debug)]
pub struct Lif {
    /// Membrane time constant per neuron, ms, `[size]`.
    pub tau_mem_ms: Param<Tensor<1>>,
    /// Synaptic time constant per neuron, ms, `[size]` (`None` for the box model).
    pub tau_syn_ms: Option<Param<Tensor<1>>>,
    /// Threshold per neuron, `[size]`.
    pub threshold: Param<Tensor<1>>,
    /// Resting potential per neuron, `[size]`, when
    /// [`with_v_leak`](super::PerNeuronPotentials::with_v_leak) gave one (a constant, not
    /// trained); `None`: the config's `v_leak`.
    pub(super) v_leak_per_neuron: Option<Param<Tensor<1>>>,
    /// Reset potential per neuron, `[size]`, when
    /// [`with_v_reset`](super::PerNeuronPotentials::with_v_reset) gave one; `None`: the
    /// config's `v_reset`.
    pub(super) v_reset_per_neuron: Option<Param<Tensor<1>>>,
    #[module(skip)]
    config: LifConfig,
}

/// State of a [`Lif`] layer between steps, every tensor `[batch, size]`.
///
/// Which optional parts it carries (the current `i`, the refractory countdown) is the layer's
/// configuration, so only the layer builds one: [`Lif::init_state`] (then set `v` as wanted)
/// or [`Lif::state_from`], which refuses parts the layer does not have or lacks. A state
/// built for one layer and given to another of a different configuration is refused by
/// [`Neuron::check_state`] before any step.
#[derive(Clone, Debug)]
pub struct LifState {
    /// Membrane potential.
    pub v: Tensor<2>,
    /// Synaptic current after its decay (`None` for the box model, `tau_syn_ms = None`).
    pub(crate) i: Option<Tensor<2>>,
    /// Refractory countdown in ms, GeNN's `RefracTime` (`None` without `refractory_ms`).
    pub(crate) refrac: Option<Tensor<2>>,
}

impl LifState {
    /// The synaptic current after its decay (`None` for the box model, `tau_syn_ms = None`).
    pub fn i(&self) -> Option<&Tensor<2>> {
        self.i.as_ref()
    }

    /// The refractory countdown in ms, GeNN's `RefracTime` (`None` without `refractory_ms`).
    pub fn refrac(&self) -> Option<&Tensor<2>> {
        self.refrac.as_ref()
    }

    /// The parts `(v, i, refrac)`.
    pub fn into_parts(self) -> (Tensor<2>, Option<Tensor<2>>, Option<Tensor<2>>) {
        (self.v, self.i, self.refrac)
    }
}

impl NeuronState for LifState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        let tensors = [&self.v].into_iter().chain(&self.i).chain(&self.refrac);
        check_state_tensors(tensors, batch, size, context)
    }
}

/// Output of [`Lif`]'s [`Neuron::forward`]: the spikes, the final state and, when recorded,
/// the state after every step.
pub type LifOutput<const D: usize> = NeuronOutput<LifState, D>;

impl<const D: usize> NeuronOutput<LifState, D> {
    /// The membrane after every step (after its reset), `[batch, time, features...]`, if
    /// recording was asked for.
    pub fn v(&self) -> Option<Tensor<D>> {
        self.traced(|s| s.v.clone())
    }

    /// The synaptic current after every step, if recording was asked for and the model has
    /// one.
    pub fn i(&self) -> Option<Tensor<D>> {
        self.trace.first()?.i.as_ref()?;
        self.traced(|s| {
            s.i.clone()
                .expect("every state of a layer has the same parts")
        })
    }
}

/// The per-step constants of a [`Lif`] layer, resolved once per sequence by [`Lif::dynamics`].
#[derive(Clone, Debug)]
pub struct LifDynamics {
    pub(crate) leaky: Leaky,
    pub(crate) firing: Firing,
}

impl LifDynamics {
    /// The dynamics of `config` with the membrane decay `β` given as one single-precision
    /// constant for every neuron instead of derived from `τ_mem` per neuron: mlGeNN's input
    /// neuron, for which GeNN computes `Alpha` in f64 and passes it as a float. For the
    /// exact-decay forms without a synaptic current or a leak potential, which is what mlGeNN
    /// has; the threshold is `config.threshold`.
    pub(crate) fn with_constant_decay(config: &LifConfig, beta: f32, device: &Device) -> Self {
        let full = |value: f32| Tensor::<2>::full([1, config.size], value, device);
        let scaled = config.discretization == Discretization::ExactDecayScaledInput;
        LifDynamics {
            leaky: Leaky::from_membrane(Membrane::Exact {
                beta: full(beta),
                gain: scaled.then(|| full(1.0 - beta)),
                rest: None,
            }),
            firing: Firing {
                threshold: full(config.threshold as f32),
                spec: config.firing_spec(),
                v_reset: None,
            },
        }
    }
}

/// One LIF step, state in and state out (Norse's `lif_feed_forward_step`): `input` and the
/// state are `[batch, size]`; returns the spikes `[batch, size]` and the new state.
///
/// No shape checks: [`Neuron::step`] is the checked entry point.
pub fn lif_step(
    input: Tensor<2>,
    state: LifState,
    dynamics: &LifDynamics,
) -> (Tensor<2>, LifState) {
    lif_step_with(input, state, dynamics, None)
}

/// [`lif_step`] with the threshold of this step's spike raised by `offset` `[batch, size]`
/// (an adaptive threshold, mlGeNN's ALIF `β·A`; the reset keeps the plain threshold).
pub(crate) fn lif_step_with(
    input: Tensor<2>,
    state: LifState,
    dynamics: &LifDynamics,
    offset: Option<Tensor<2>>,
) -> (Tensor<2>, LifState) {
    let (current, carried) = dynamics.leaky.current(state.i, input);
    let (z, v, refrac) = dynamics
        .firing
        .step_with(state.v, state.refrac, offset, |v| {
            dynamics.leaky.integrate(v, current)
        });
    (
        z,
        LifState {
            v,
            i: carried,
            refrac,
        },
    )
}

impl Lif {
    /// The configuration the layer was built from. Per-neuron values given with the
    /// `with_*` methods of the layer ([`LeakyTimeConstants`](super::LeakyTimeConstants),
    /// [`PerNeuronThreshold`](super::PerNeuronThreshold), [`Lif::with_beta`]) live in its parameters, not in the
    /// configuration.
    pub fn config(&self) -> &LifConfig {
        &self.config
    }

    /// snnTorch's tensor `beta` (`Leaky(beta=tensor)`): one decay factor per step per neuron,
    /// in (0, 1), `[size]`, as `τ_mem = −dt/ln β`. For a layer built with
    /// [`LifConfig::from_beta`] (the exact-decay form).
    ///
    /// # Errors
    /// [`SnnError::OutOfRange`] for a `β` outside (0, 1), [`SnnError::ShapeMismatch`] unless
    /// `[size]`.
    pub fn with_beta(self, beta: Tensor<1>) -> crate::Result<Self> {
        let c = &self.config;
        let dt_ms = c.dt_ms;
        let tau_mem_ms = per_neuron_values("beta", beta, c.size, c.learn_tau, |beta| {
            if beta > 0.0 && beta < 1.0 {
                Ok(-dt_ms / beta.ln())
            } else {
                Err(SnnError::out_of_range("beta", "(0, 1)", beta))
            }
        })?;
        Ok(Self { tau_mem_ms, ..self })
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The initial state for a batch, on the layer's device: `v = v_init`, `i = 0` and a zero
    /// refractory countdown where the layer has them.
    pub fn init_state(&self, batch: usize) -> LifState {
        let device = self.threshold.val().device();
        let c = &self.config;
        let zeros = || Tensor::<2>::zeros([batch, c.size], &device);
        LifState {
            v: Tensor::full([batch, c.size], c.v_init, &device),
            i: c.tau_syn_ms.is_some().then(zeros),
            refrac: c.refractory_ms.is_some().then(zeros),
        }
    }

    /// A state of this layer from its parts, each `[batch, size]`: the current `i` exactly when
    /// the layer has a synaptic current (`tau_syn_ms`), the countdown `refrac` (ms) exactly
    /// when it has a refractory period (`refractory_ms`).
    ///
    /// # Errors
    /// [`crate::SnnError::Rejected`] for a missing or an extra part,
    /// [`crate::SnnError::ShapeMismatch`] for a tensor that is not `[batch, size]`.
    pub fn state_from(
        &self,
        v: Tensor<2>,
        i: Option<Tensor<2>>,
        refrac: Option<Tensor<2>>,
    ) -> crate::Result<LifState> {
        let state = LifState { v, i, refrac };
        self.check_state(&state, state.v.dims()[0], "Lif::state_from")?;
        Ok(state)
    }

    /// Resolves the decay factors and threshold for [`lif_step`].
    pub fn dynamics(&self) -> LifDynamics {
        let c = &self.config;
        LifDynamics {
            leaky: Leaky::from_coefficients(self.coefficients(), c.v_leak),
            firing: Firing {
                threshold: self.threshold.val().unsqueeze::<2>(),
                spec: self.config.firing_spec(),
                v_reset: self
                    .v_reset_per_neuron
                    .as_ref()
                    .map(|v| v.val().unsqueeze::<2>()),
            },
        }
    }

    /// Whether [`Neuron::forward`] on `device` takes the fused multi-step op: with
    /// [`Execution::Auto`], on a backend the op supports ([`fused::backend_supported`]: ndarray,
    /// flex and, with the `gpu` feature, wgpu), for a firing the op runs
    /// ([`FiringSpec::fused_supported`]: not the relative reset, `spike_from_previous` or a
    /// refractory period), and with no parameter trained (`learn_tau` / `learn_threshold` on an
    /// autodiff device need the parameter gradients, which only the reference path computes).
    /// Per-neuron potentials ([`PerNeuronPotentials`](super::PerNeuronPotentials)) are
    /// coefficient rows of the op. [`Neuron::forward_with`] with `record` always takes the
    /// reference path.
    pub fn fused_path(&self, device: &Device) -> bool {
        let trains = |p: &Param<Tensor<1>>| p.is_require_grad() && device.is_autodiff();
        self.config.execution == Execution::Auto
            && self.config.firing_spec().fused_supported()
            && fused::backend_supported(device)
            && !trains(&self.tau_mem_ms)
            && !self.tau_syn_ms.as_ref().is_some_and(trains)
            && !trains(&self.threshold)
    }

    /// The whole sequence through the fused op: `x` `[batch, time, size]` from a checked state.
    fn sequence_fused(&self, x: Tensor<3>, state: LifState) -> (Tensor<3>, LifState) {
        let (coef, spec) = self.fused_operands();
        let i0 = state.i.unwrap_or_else(|| state.v.zeros_like());
        let (spikes, v, i) = fused::leaky_sequence(x, state.v, i0, coef, spec);
        let state = LifState {
            v,
            i: self.tau_syn_ms.is_some().then_some(i),
            refrac: None,
        };
        (spikes, state)
    }

    /// The layer's coefficients for `dt` (the one derivation the reference step and the fused
    /// op share).
    fn coefficients(&self) -> LeakyCoefficients {
        let c = &self.config;
        LeakyCoefficients::resolve(
            self.tau_mem_ms.val(),
            self.tau_syn_ms.as_ref().map(Param::val),
            c.dt_ms,
            c.v_leak,
            c.discretization,
        )
        .with_v_leak_per_neuron(self.v_leak_per_neuron.as_ref().map(Param::val))
    }

    /// The coefficient tensor `[COEFFICIENTS, size]` and the [`LeakySpec`] with which this
    /// layer calls [`fused::leaky_sequence`] (for running or benchmarking the fused op on its
    /// own; the coefficients are detached).
    pub fn fused_operands(&self) -> (Tensor<2>, LeakySpec) {
        let c = &self.config;
        let coefficients = self.coefficients();
        let spec = coefficients.spec(c.v_leak, Some(self.config.firing_spec()));
        let v_reset = self.v_reset_per_neuron.as_ref().map(Param::val);
        (
            coefficients.stacked(&spec, Some(self.threshold.val()), v_reset),
            spec,
        )
    }
}

impl super::PerNeuronThreshold for Lif {
    fn threshold_parts(&mut self) -> (usize, bool, &mut Param<Tensor<1>>) {
        (
            self.config.size,
            self.config.learn_threshold,
            &mut self.threshold,
        )
    }
}

impl StepLayer for Lif {
    type State = LifState;
    type Prepared = LifDynamics;
    fn prepare(&self) -> LifDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> LifState {
        self.init_state(batch)
    }
    fn advance(&self, p: &LifDynamics, x: Tensor<2>, s: LifState) -> (Tensor<2>, LifState) {
        lif_step(x, s, p)
    }
}

impl Neuron for Lif {
    const CONTEXTS: Contexts = crate::neuron_contexts!("Lif");
    fn neurons(&self) -> usize {
        self.size()
    }
    fn check_state(
        &self,
        state: &LifState,
        batch: usize,
        context: &'static str,
    ) -> crate::Result<()> {
        let c = &self.config;
        check_state_parts(
            context,
            [
                StatePart {
                    layer: "synaptic current (tau_syn_ms)",
                    state: "current (i)",
                    carried: state.i.is_some(),
                    wanted: c.tau_syn_ms.is_some(),
                },
                StatePart {
                    layer: "refractory period (refractory_ms)",
                    state: "countdown (refrac)",
                    carried: state.refrac.is_some(),
                    wanted: c.refractory_ms.is_some(),
                },
            ],
        )?;
        state.check(batch, self.size(), context)
    }
    fn fused_recurrent_path(&self, device: &Device) -> bool {
        self.fused_path(device) && fused::recurrent_supported(device)
    }
    fn forward_fused_recurrent(
        &self,
        x: Tensor<3>,
        w_rec: Tensor<2>,
        z0: Tensor<2>,
        state: LifState,
    ) -> (Tensor<3>, LifState) {
        if !self.fused_recurrent_path(&x.device()) {
            return super::layer::recurrent_step_loop(self, x, w_rec, z0, state);
        }
        let (coef, spec) = self.fused_operands();
        let i0 = state.i.unwrap_or_else(|| state.v.zeros_like());
        let (spikes, v, i) = fused::recurrent_leaky_sequence(x, z0, state.v, i0, w_rec, coef, spec);
        let state = LifState {
            v,
            i: self.tau_syn_ms.is_some().then_some(i),
            refrac: None,
        };
        (spikes, state)
    }
    fn forward_fused(&self, x: Tensor<3>, state: LifState) -> FusedRun<LifState> {
        if self.fused_path(&x.device()) {
            let (output, state) = self.sequence_fused(x, state);
            FusedRun::Ran(output, state)
        } else {
            FusedRun::Declined(x, state)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: LifConfig, input: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let device = Device::flex();
        let lif = config.init(&device).unwrap();
        let x = Tensor::<1>::from_floats(input, &device).reshape([1, input.len(), 1]);
        let out = lif.forward_with(x, None, true).unwrap();
        let values = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
        let v = out.v().unwrap();
        (values(out.spikes), values(v))
    }

    #[test]
    fn snntorch_delayed_subtractive_reset_by_hand() {
        // beta 0.5, threshold 1, constant input 0.8: mem = 0.5 mem + 0.8 - spk_prev
        let (z, v) = run(LifConfig::from_beta(1, 0.5).unwrap(), &[0.8; 4]);
        assert_eq!(z, vec![0.0, 1.0, 0.0, 0.0]);
        let want = [0.8, 1.2, 0.5 * 1.2 + 0.8 - 1.0, 0.5 * 0.4 + 0.8];
        for (g, w) in v.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{v:?}");
        }
    }

    #[test]
    fn immediate_reset_to_value_by_hand() {
        // box model, exact decay, beta 0.5 (tau = dt / ln 2), input 0.8, reset to 0.25
        let config = LifConfig::box_model(1)
            .with_discretization(Discretization::ExactDecay)
            .with_tau_mem_ms(1.0 / 2f64.ln())
            .with_v_reset(0.25);
        let (z, v) = run(config, &[0.8; 3]);
        assert_eq!(z, vec![0.0, 1.0, 0.0]);
        let want = [0.8, 0.25, 0.5 * 0.25 + 0.8];
        for (g, w) in v.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{v:?}");
        }
    }

    #[test]
    fn euler_box_model_relaxes_to_the_input() {
        // no spikes (threshold far away): v -> v_leak + x for a constant x
        let config = LifConfig::box_model(1)
            .with_threshold(100.0)
            .with_v_leak(-0.5);
        let (_, v) = run(config, &[2.0; 200]);
        assert!((v[199] - 1.5).abs() < 1e-4, "{}", v[199]);
        // first step: v = 0 + 0.1 * ((-0.5 - 0) + 2)
        assert!((v[0] - 0.15).abs() < 1e-7, "{}", v[0]);
    }

    #[test]
    fn learnable_parameters_get_gradients_only_when_asked() {
        let device = Device::flex().autodiff();
        // the input is tracked so that backward has a graph even when no parameter learns
        let x = (Tensor::<3>::ones([2, 20, 3], &device) * 0.6).require_grad();
        let grads_of = |config: LifConfig| {
            let lif = config.init(&device).unwrap();
            let grads = lif.forward(x.clone()).unwrap().spikes.sum().backward();
            (
                lif.tau_mem_ms.val().grad(&grads).is_some(),
                lif.threshold.val().grad(&grads).is_some(),
            )
        };
        assert_eq!(grads_of(LifConfig::new(3)), (false, false));
        assert_eq!(
            grads_of(LifConfig::new(3).with_learn_tau(true)),
            (true, false)
        );
        assert_eq!(
            grads_of(LifConfig::new(3).with_learn_threshold(true)),
            (false, true)
        );
    }

    #[test]
    fn step_and_forward_agree() {
        let device = Device::flex();
        let lif = LifConfig::new(2).init(&device).unwrap();
        let x = Tensor::<3>::from_floats([[[0.9, 0.2], [0.7, 0.1], [1.5, 0.0]]], &device);
        let whole = lif.forward(x.clone()).unwrap().spikes.into_data();
        let mut state = lif.init_state(1);
        let mut steps = Vec::new();
        for t in 0..3 {
            let (z, next) = lif
                .step(
                    x.clone().slice([0..1, t..t + 1, 0..2]).reshape([1, 2]),
                    state,
                )
                .unwrap();
            steps.extend(z.into_data().try_to_vec::<f32>().unwrap());
            state = next;
        }
        assert_eq!(whole.try_to_vec::<f32>().unwrap(), steps);
    }

    #[test]
    fn peer_options_outside_the_fused_op_take_the_reference_loop() {
        let device = Device::flex();
        let fused = |config: LifConfig| config.init(&device).unwrap().fused_path(&device);
        assert!(fused(LifConfig::new(2)));
        assert!(fused(LifConfig::from_beta(2, 0.9).unwrap()));
        assert!(!fused(LifConfig::mlgenn(2)), "relative reset");
        assert!(!fused(
            LifConfig::mlgenn(2)
                .with_reset(Reset::ToValue)
                .with_refractory_ms(Some(1.0))
        ));
        assert!(fused(LifConfig::mlgenn(2).with_reset(Reset::ToValue)));
        assert!(
            !fused(LifConfig::spyx(2, 0.9).unwrap()),
            "spike_from_previous"
        );
    }

    #[test]
    #[should_panic(expected = "FiringSpec::fused_supported")]
    fn the_fused_op_refuses_a_firing_it_does_not_run() {
        let device = Device::flex();
        let lif = LifConfig::spyx(2, 0.9).unwrap().init(&device).unwrap();
        let (coef, spec) = lif.fused_operands();
        let v = Tensor::<2>::zeros([1, 2], &device);
        let x = Tensor::<3>::ones([1, 3, 2], &device);
        let _ = fused::leaky_sequence(x, v.clone(), v, coef, spec);
    }

    #[test]
    fn refractory_needs_the_immediate_reset_and_a_period_in_range() {
        let err = LifConfig::from_beta(1, 0.5)
            .unwrap()
            .with_refractory_ms(Some(2.0))
            .validate()
            .unwrap_err();
        assert!(
            matches!(
                err,
                SnnError::Rejected {
                    field: "refractory_ms",
                    ..
                }
            ),
            "{err}"
        );
        let err = LifConfig::mlgenn(1)
            .with_refractory_ms(Some(-1.0))
            .validate()
            .unwrap_err();
        assert!(
            matches!(
                err,
                SnnError::OutOfRange {
                    field: "refractory_ms",
                    ..
                }
            ),
            "{err}"
        );
        let err = LifConfig::mlgenn(1)
            .with_v_init(f64::NAN)
            .validate()
            .unwrap_err();
        assert!(
            matches!(
                err,
                SnnError::NotFinite {
                    field: "v_init",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_state_of_another_kind_is_a_typed_error() {
        let device = Device::flex();
        let x = Tensor::<3>::ones([1, 2, 2], &device);
        // a box model given a current, a model with a synapse given none
        let box_model = LifConfig::box_model(2).init(&device).unwrap();
        let with_current = LifConfig::new(2).init(&device).unwrap();
        let err = box_model
            .forward_with(x.clone(), Some(with_current.init_state(1)), false)
            .unwrap_err();
        assert!(
            matches!(&err, SnnError::Rejected { reason, .. } if reason.contains("has no synaptic current")),
            "{err}"
        );
        let err = with_current
            .forward_with(x, Some(box_model.init_state(1)), false)
            .unwrap_err();
        assert!(matches!(err, SnnError::Rejected { .. }), "{err}");
    }

    #[test]
    fn relative_reset_and_initial_membrane_by_hand() {
        // mlGeNN: α = e^(−1/20), v_init 0.5, threshold 1, v_reset 0.25: v = 0.5α + 0.6 ≥ 1?
        // 0.5α ≈ 0.4756, so v ≈ 1.0756 fires and drops by 1 − 0.25 to ≈ 0.3256
        let config = LifConfig::mlgenn(1).with_v_init(0.5).with_v_reset(0.25);
        let (z, v) = run(config, &[0.6]);
        let a = (-1.0f32 / 20.0).exp();
        assert_eq!(z, vec![1.0]);
        assert!((v[0] - (0.5 * a + 0.6 - 0.75)).abs() < 1e-6, "{v:?}");
    }
}

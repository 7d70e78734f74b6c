//! Leaky integrate-and-fire neurons, with or without a synaptic current.

use super::layer::per_neuron;
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron};
use super::leaky::{Firing, Leaky, LeakyState, from_norse};
use crate::dynamics::{
    Discretization, Execution, FiringSpec, LeakyCoefficients, LeakyParams, LeakySpec, Reset,
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
    #[module(skip)]
    config: LifConfig,
}

/// State of a [`Lif`] layer between steps (`i` is `None` for the box model).
pub type LifState = LeakyState;

/// Output of [`Lif::forward`].
#[derive(Clone, Debug)]
pub struct LifOutput<const D: usize> {
    /// Spikes, `[batch, time, features...]` like the input.
    pub spikes: Tensor<D>,
    /// The state after the last step.
    pub state: LifState,
    /// Membrane after each step (after its reset), if recording was asked for.
    pub v: Option<Tensor<D>>,
    /// Synaptic current after each step, if recording was asked for and the model has one.
    pub i: Option<Tensor<D>>,
}

/// The per-step constants of a [`Lif`] layer, resolved once per sequence by [`Lif::dynamics`].
#[derive(Clone, Debug)]
pub struct LifDynamics {
    leaky: Leaky,
    firing: Firing,
}

/// One LIF step, state in and state out (Norse's `lif_feed_forward_step`): `input` and the
/// state are `[batch, size]`; returns the spikes `[batch, size]` and the new state.
///
/// No shape checks: [`Lif::step`] is the checked entry point.
pub fn lif_step(
    input: Tensor<2>,
    state: LifState,
    dynamics: &LifDynamics,
) -> (Tensor<2>, LifState) {
    let (current, carried) = dynamics.leaky.current(state.i, input);
    let (z, v) = dynamics
        .firing
        .step(state.v, |v| dynamics.leaky.integrate(v, current));
    (z, LifState { v, i: carried })
}

impl Lif {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &LifConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The resting state for a batch, on the layer's device.
    pub fn init_state(&self, batch: usize) -> LifState {
        let device = self.threshold.val().device();
        LeakyState::resting(batch, self.size(), self.tau_syn_ms.is_some(), &device)
    }

    /// Resolves the decay factors and threshold for [`lif_step`].
    pub fn dynamics(&self) -> LifDynamics {
        let c = &self.config;
        LifDynamics {
            leaky: Leaky::from_coefficients(self.coefficients(), c.v_leak),
            firing: Firing {
                threshold: self.threshold.val().unsqueeze::<2>(),
                spec: self.firing_spec(),
            },
        }
    }

    /// One step. `input`: `[batch, features...]` with `size` features; `state` from
    /// [`Lif::init_state`] or a previous step. Returns spikes shaped like `input`.
    pub fn step<const D: usize>(
        &self,
        input: Tensor<D>,
        state: LifState,
    ) -> crate::Result<(Tensor<D>, LifState)> {
        Neuron::step(self, input, state)
    }

    /// Runs a sequence from the resting state. `input`: `[batch, time, features...]` with
    /// `size` features. Returns spikes of the same shape and the final state.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> crate::Result<LifOutput<D>> {
        self.forward_with(input, None, false)
    }

    /// Whether [`Lif::forward`] on `device` takes the fused multi-step op: with
    /// [`Execution::Auto`], on a backend the op supports ([`fused::backend_supported`]: ndarray,
    /// flex and, with the `gpu` feature, wgpu), and with no parameter trained (`learn_tau` / `learn_threshold` on an autodiff
    /// device need the parameter gradients, which only the reference path computes).
    /// [`Lif::forward_with`] with `record` always takes the reference path.
    pub fn fused_path(&self, device: &Device) -> bool {
        let trains = |p: &Param<Tensor<1>>| p.is_require_grad() && device.is_autodiff();
        self.config.execution == Execution::Auto
            && fused::backend_supported(device)
            && !trains(&self.tau_mem_ms)
            && !self.tau_syn_ms.as_ref().is_some_and(trains)
            && !trains(&self.threshold)
    }

    /// Runs a sequence from `state` (the resting state if `None`), recording the membrane and
    /// current after every step when `record` is set.
    ///
    /// Without `record`, this runs the fused op when [`Lif::fused_path`] allows it.
    pub fn forward_with<const D: usize>(
        &self,
        input: Tensor<D>,
        state: Option<LifState>,
        record: bool,
    ) -> crate::Result<LifOutput<D>> {
        if !record && self.fused_path(&input.device()) {
            return self.forward_fused(input, state);
        }
        let run = Neuron::forward_with(self, input, state, record)?;
        let i = (self.tau_syn_ms.is_some())
            .then(|| run.traced(|s| s.i.clone().expect("a model with a synapse carries i")))
            .flatten();
        Ok(LifOutput {
            v: run.traced(|s| s.v.clone()),
            i,
            spikes: run.spikes,
            state: run.state,
        })
    }
}

impl Lif {
    /// [`Lif::forward_with`] through the fused op (same checks, same results).
    fn forward_fused<const D: usize>(
        &self,
        input: Tensor<D>,
        state: Option<LifState>,
    ) -> crate::Result<LifOutput<D>> {
        let (x, dims, state) = self.sequence_input(input, state)?;
        let (coef, spec) = self.fused_operands();
        let i0 = state.i.unwrap_or_else(|| state.v.zeros_like());
        let (spikes, v, i) = fused::leaky_sequence(x, state.v, i0, coef, spec);
        Ok(LifOutput {
            spikes: spikes.reshape(dims),
            state: LifState {
                v,
                i: self.tau_syn_ms.is_some().then_some(i),
            },
            v: None,
            i: None,
        })
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
    }

    /// The coefficient tensor `[COEFFICIENTS, size]` and the [`LeakySpec`] with which this
    /// layer calls [`fused::leaky_sequence`] (for running or benchmarking the fused op on its
    /// own; the coefficients are detached).
    pub fn fused_operands(&self) -> (Tensor<2>, LeakySpec) {
        let c = &self.config;
        let coefficients = self.coefficients();
        (
            coefficients.stacked(Some(self.threshold.val())),
            coefficients.spec(c.v_leak, Some(self.firing_spec())),
        )
    }

    /// The firing flags of the config.
    fn firing_spec(&self) -> FiringSpec {
        let c = &self.config;
        FiringSpec {
            reset: c.reset,
            v_reset: c.v_reset as f32,
            surrogate: c.surrogate,
            fire_at_threshold: c.fire_at_threshold,
            detach_reset: c.detach_reset,
            reset_delay: c.reset_delay,
        }
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
        (values(out.spikes), values(out.v.unwrap()))
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
}

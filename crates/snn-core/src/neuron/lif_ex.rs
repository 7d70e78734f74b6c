//! Norse's exponential LIF (`lif_ex`).

use super::layer::{per_neuron, per_neuron_values};
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron};
use super::leaky::{Coefficient, Firing, Leaky, LeakyState, from_norse};
use crate::dynamics::{Discretization, FiringSpec, LeakyCoefficients, LeakyParams, Reset};
use crate::error::{finite, nonzero, positive};
use crate::lift::StepLayer;
use crate::surrogate::Surrogate;

/// Configuration of a [`LifEx`] layer: the exponential integrate-and-fire neuron, with a
/// synaptic current (Norse 1.1.0 `lif_ex_feed_forward_step`, `LIFExParameters`, `LIFExCell`) or
/// without one ([`LifExConfig::box_model`]: the input drives the membrane directly, as in
/// Norse's `lif_ex_current_encoder`).
///
/// The membrane follows `τ_mem dv/dt = (v_leak − v) + Δ_T·exp((v − v_th)/Δ_T) + i` (Fourcaux-Trocmé
/// et al. 2003; Gerstner et al., *Neuronal Dynamics* §5.2): the exponential term makes the
/// upstroke self-accelerating once `v` nears `v_th`. Forward Euler with step `dt_ms`, in Norse's
/// update order:
///
/// ```text
/// i_jump = i + x                         (without a synapse: i_jump = x)
/// v_dec  = v + dt/τ_mem·((v_leak − v) + Δ_T·exp((v − v_th)/Δ_T) + i_jump)
/// i      ← i_jump − dt/τ_syn·i_jump
/// z      = H(v_dec − v_th)               (strict)
/// v      ← (1 − z)·v_dec + z·v_reset     (gradients flow through the reset, as in Norse)
/// ```
///
/// Voltages are dimensionless (Norse's defaults put the threshold at 1). The defaults are
/// Norse's `LIFExParameters`: `Δ_T = 0.5`, `τ_mem = 10 ms` (`tau_mem_inv = 100 /s`),
/// `τ_syn = 5 ms` (`tau_syn_inv = 200 /s`), `v_leak = 0`, `v_th = 1`, `v_reset = 0`,
/// SuperSpike, `dt = 1 ms`. [`LifExConfig::from_norse`] takes Norse's inverse time constants.
///
/// The layer starts at `v = v_leak`, `i = 0`, as Norse's `LIFExCell` does.
#[derive(Config, Debug)]
pub struct LifExConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Integration step in ms. Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Membrane time constant `τ_mem` in ms. Default 10 (Norse `tau_mem_inv = 100 /s`).
    #[config(default = 10.0)]
    pub tau_mem_ms: f64,
    /// Synaptic current time constant `τ_syn` in ms, or `None` for no synaptic current (the
    /// input drives the membrane directly). Default `Some(5.0)` (Norse `tau_syn_inv = 200 /s`).
    #[config(default = "Some(5.0)")]
    pub tau_syn_ms: Option<f64>,
    /// Sharpness `Δ_T` of the exponential upstroke (same unit as `v`), `> 0`. Default 0.5
    /// (Norse `delta_T`).
    #[config(default = 0.5)]
    pub delta_t: f64,
    /// Threshold `v_th`: where spikes are detected and the centre of the exponential term.
    /// Default 1.
    #[config(default = 1.0)]
    pub threshold: f64,
    /// Resting (leak) potential `v_leak`. Default 0.
    #[config(default = 0.0)]
    pub v_leak: f64,
    /// Potential after a spike. Default 0.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Surrogate derivative of the spike. Default SuperSpike with `alpha = 100` (Norse's nominal
    /// value; Norse 1.1.0's backward behaves as `alpha = 1`).
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Train `τ_mem` and `τ_syn` (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
    /// Train the threshold (per neuron; it moves the exponential term with it). Default false.
    #[config(default = false)]
    pub learn_threshold: bool,
}

impl LifExConfig {
    /// The exponential LIF without a synaptic current: the input drives the membrane directly
    /// (Norse's `lif_ex_current_encoder`).
    pub fn box_model(size: usize) -> Self {
        Self::new(size).with_tau_syn_ms(None)
    }

    /// Norse's parametrization: inverse time constants in 1/s and `dt` in s
    /// (`LIFExParameters(tau_syn_inv, tau_mem_inv)`, `dt = 0.001`); `tau_syn_inv = None` gives
    /// the model without a synaptic current.
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

    /// Checks every field; the error names the first bad one: time constants and `dt_ms` must be
    /// positive with `dt_ms <= τ` (forward Euler), `delta_t` positive, potentials finite.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        LeakyParams {
            dt_ms: self.dt_ms,
            tau_mem_ms: self.tau_mem_ms,
            tau_syn_ms: self.tau_syn_ms,
            v_leak: self.v_leak,
            discretization: Discretization::ForwardEuler,
        }
        .validate()?;
        positive("delta_t", self.delta_t)?;
        finite("threshold", self.threshold)?;
        finite("v_reset", self.v_reset)?;
        self.surrogate.validate()
    }

    /// Builds the layer on `device`, after [`LifExConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<LifEx> {
        self.validate()?;
        Ok(LifEx {
            tau_mem_ms: per_neuron(self.size, self.tau_mem_ms, self.learn_tau, device),
            tau_syn_ms: self
                .tau_syn_ms
                .map(|tau| per_neuron(self.size, tau, self.learn_tau, device)),
            threshold: per_neuron(self.size, self.threshold, self.learn_threshold, device),
            v_leak_per_neuron: None,
            v_reset_per_neuron: None,
            delta_t_per_neuron: None,
            config: self.clone(),
        })
    }
}

/// A layer of exponential LIF neurons; see [`LifExConfig`] for the equations.
#[derive(Module, Debug)]
pub struct LifEx {
    /// Membrane time constant per neuron, ms, `[size]`.
    pub tau_mem_ms: Param<Tensor<1>>,
    /// Synaptic time constant per neuron, ms, `[size]`.
    pub tau_syn_ms: Option<Param<Tensor<1>>>,
    /// Threshold per neuron, `[size]`.
    pub threshold: Param<Tensor<1>>,
    /// Resting potential per neuron, `[size]` (a constant), when
    /// [`with_v_leak`](super::PerNeuronPotentials::with_v_leak) gave one.
    pub(super) v_leak_per_neuron: Option<Param<Tensor<1>>>,
    /// Reset potential per neuron, `[size]` (a constant), when
    /// [`with_v_reset`](super::PerNeuronPotentials::with_v_reset) gave one.
    pub(super) v_reset_per_neuron: Option<Param<Tensor<1>>>,
    /// Sharpness `Δ_T` per neuron, `[size]` (a constant), when [`LifEx::with_delta_t`] gave
    /// one; `None`: the config's `delta_t`.
    delta_t_per_neuron: Option<Param<Tensor<1>>>,
    #[module(skip)]
    config: LifExConfig,
}

/// State of a [`LifEx`] layer between steps: membrane `v` and synaptic current `i` (always
/// present; a missing `i` counts as zero). Norse's `LIFExFeedForwardState`.
pub type LifExState = LeakyState;

/// The per-step constants of a [`LifEx`] layer, resolved once per sequence by
/// [`LifEx::dynamics`]. Also the sub-threshold and firing part of [`crate::neuron::LifAdEx`].
#[derive(Clone, Debug)]
pub struct LifExDynamics {
    leaky: Leaky,
    firing: Firing,
    /// `Δ_T`, shared or per neuron.
    delta_t: Coefficient,
}

impl LifExDynamics {
    /// One exponential-LIF step with an extra current `a` subtracted from the drive (AdEx's
    /// adaptation; `None` for the plain model). `v`, `i` are the state before the step. Returns
    /// the spikes, the membrane after its reset and the decayed synaptic current (`None`
    /// without a synapse).
    pub(crate) fn step(
        &self,
        x: Tensor<2>,
        v: Tensor<2>,
        i: Option<Tensor<2>>,
        a: Option<Tensor<2>>,
    ) -> (Tensor<2>, Tensor<2>, Option<Tensor<2>>) {
        let (i_jump, carried) = self.leaky.current(i, x);
        let threshold = &self.firing.threshold;
        let (z, v) = self.firing.step(v, |v| {
            // Δ_T·exp((v − v_th)/Δ_T), Norse's operation order
            let exponential = self
                .delta_t
                .times(self.delta_t.dividing(v.clone() - threshold.clone()).exp());
            let drive = exponential + i_jump;
            let drive = match a {
                Some(a) => drive - a,
                None => drive,
            };
            self.leaky.integrate(v, drive)
        });
        (z, v, carried)
    }
}

/// One exponential-LIF step, state in and state out (Norse's `lif_ex_feed_forward_step`):
/// `input` and the state are `[batch, size]`; returns the spikes and the new state.
///
/// No shape checks: [`LifEx::step`] is the checked entry point.
pub fn lif_ex_step(
    input: Tensor<2>,
    state: LifExState,
    dynamics: &LifExDynamics,
) -> (Tensor<2>, LifExState) {
    let (z, v, i) = dynamics.step(input, state.v, state.i, None);
    (z, LifExState { v, i })
}

impl LifEx {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &LifExConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The same layer with one sharpness `Δ_T` per neuron, `[size]`, each positive (Norse's
    /// tensor `delta_T`; a constant, not trained).
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`, [`crate::SnnError::NotPositive`].
    pub fn with_delta_t(mut self, delta_t: Tensor<1>) -> crate::Result<Self> {
        let check = |d| positive("delta_t", d);
        let size = self.config.size;
        self.delta_t_per_neuron = Some(per_neuron_values("delta_t", delta_t, size, false, check)?);
        Ok(self)
    }

    /// A state of this layer from its parts, each `[batch, size]`: the current `i` exactly when
    /// the layer has a synaptic current (`tau_syn_ms`).
    ///
    /// # Errors
    /// [`crate::SnnError::Rejected`] for a missing or an extra current,
    /// [`crate::SnnError::ShapeMismatch`] for a tensor that is not `[batch, size]`.
    pub fn state_from(&self, v: Tensor<2>, i: Option<Tensor<2>>) -> crate::Result<LifExState> {
        let state = LeakyState { v, i };
        self.check_state(&state, state.v.dims()[0], "LifEx::state_from")?;
        Ok(state)
    }

    /// The initial state for a batch, on the layer's device: `v = v_leak` and, with a synapse,
    /// `i = 0`.
    pub fn init_state(&self, batch: usize) -> LifExState {
        let device = self.threshold.val().device();
        let with_current = self.tau_syn_ms.is_some();
        let mut state = LeakyState::resting(batch, self.size(), with_current, &device);
        if let Some(v_leak) = &self.v_leak_per_neuron {
            state.v = state.v + v_leak.val().unsqueeze::<2>();
        } else if self.config.v_leak != 0.0 {
            state.v = state.v.add_scalar(self.config.v_leak);
        }
        state
    }

    /// Resolves the decay factors and threshold for [`lif_ex_step`].
    pub fn dynamics(&self) -> LifExDynamics {
        let c = &self.config;
        LifExDynamics {
            leaky: Leaky::from_coefficients(self.coefficients(), c.v_leak),
            firing: Firing {
                threshold: self.threshold.val().unsqueeze::<2>(),
                spec: FiringSpec {
                    reset: Reset::ToValue,
                    v_reset: c.v_reset as f32,
                    surrogate: c.surrogate,
                    fire_at_threshold: false,
                    detach_reset: false,
                    reset_delay: false,
                    spike_from_previous: false,
                    refractory: None,
                },
                v_reset: self
                    .v_reset_per_neuron
                    .as_ref()
                    .map(|v| v.val().unsqueeze::<2>()),
            },
            delta_t: Coefficient::of(self.delta_t_per_neuron.as_ref().map(Param::val), c.delta_t),
        }
    }

    /// The membrane's coefficients (forward Euler), with the per-neuron `v_leak` if given.
    fn coefficients(&self) -> LeakyCoefficients {
        let c = &self.config;
        LeakyCoefficients::resolve(
            self.tau_mem_ms.val(),
            self.tau_syn_ms.as_ref().map(Param::val),
            c.dt_ms,
            c.v_leak,
            Discretization::ForwardEuler,
        )
        .with_v_leak_per_neuron(self.v_leak_per_neuron.as_ref().map(Param::val))
    }
}

impl super::PerNeuronThreshold for LifEx {
    fn threshold_parts(&mut self) -> (usize, bool, &mut Param<Tensor<1>>) {
        (
            self.config.size,
            self.config.learn_threshold,
            &mut self.threshold,
        )
    }
}

impl StepLayer for LifEx {
    type State = LifExState;
    type Prepared = LifExDynamics;
    fn prepare(&self) -> LifExDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> LifExState {
        self.init_state(batch)
    }
    fn advance(&self, p: &LifExDynamics, x: Tensor<2>, s: LifExState) -> (Tensor<2>, LifExState) {
        lif_ex_step(x, s, p)
    }
}

impl Neuron for LifEx {
    const CONTEXTS: Contexts = crate::neuron_contexts!("LifEx");
    fn neurons(&self) -> usize {
        self.size()
    }
    fn check_state(
        &self,
        state: &LifExState,
        batch: usize,
        context: &'static str,
    ) -> crate::Result<()> {
        state.check_for(self.tau_syn_ms.is_some(), batch, self.size(), context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_steps_by_hand() {
        // one neuron, x = 1 then 0, defaults: k_mem = 0.1, k_syn = 0.2, Δ_T = 0.5, v_th = 1
        let device = Device::flex();
        let lif = LifExConfig::new(1).init(&device).unwrap();
        let x = Tensor::<3>::from_floats([[[1.0], [0.0]]], &device);
        let out = Neuron::forward_with(&lif, x, None, true).unwrap();
        let v = out.traced(|s| s.v.clone()).unwrap();
        let v = v.into_data().try_to_vec::<f32>().unwrap();
        let exp = |v: f64| 0.5 * ((v - 1.0) / 0.5).exp();
        // step 1: i_jump = 1, v = 0 + 0.1·(0 + e(0) + 1); i = 0.8
        let v1 = 0.1 * (exp(0.0) + 1.0);
        // step 2: i_jump = 0.8, v = v1 + 0.1·(−v1 + e(v1) + 0.8)
        let v2 = v1 + 0.1 * (-v1 + exp(v1) + 0.8);
        assert!((v[0] as f64 - v1).abs() < 1e-6, "{v:?}");
        assert!((v[1] as f64 - v2).abs() < 1e-6, "{v:?}");
    }

    #[test]
    fn from_norse_gives_the_defaults() {
        let c = LifExConfig::from_norse(2, 100.0, Some(200.0), 0.001).unwrap();
        assert!((c.tau_mem_ms - 10.0).abs() < 1e-12);
        assert!((c.tau_syn_ms.unwrap() - 5.0).abs() < 1e-12);
        assert!((c.dt_ms - 1.0).abs() < 1e-12);
    }
}

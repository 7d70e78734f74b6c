//! Leaky integrator: the non-spiking readout layer.

use super::layer::per_neuron;
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, FusedRun, Neuron, NeuronOutput};
use super::leaky::{Leaky, LeakyState, from_norse};
use crate::dynamics::{Discretization, Execution, LeakyCoefficients, LeakyParams, LeakySpec};
use crate::error::nonzero;
use crate::fused;
use crate::lift::StepLayer;

/// Configuration of an [`Li`] layer (Norse `li_feed_forward_step`, mlGeNN `LeakyIntegrate`).
///
/// Per step of `dt_ms` with input `x`:
///
/// ```text
/// i ← i + x                       (without `tau_syn_ms`, i = x: Norse `li_box`)
/// v ← membrane update of v by i   (Euler: v + dt/τ_mem·((v_leak − v) + i))
/// i ← decay of i over dt
/// ```
///
/// The output is the membrane `v` after each step. Defaults: Norse's `LIParameters`
/// (`τ_mem = 10 ms`, `τ_syn = 5 ms`, forward Euler, `dt = 1 ms`).
#[derive(Config, Debug)]
pub struct LiConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Integration step in ms. Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Membrane time constant `τ_mem` in ms. Default 10.
    #[config(default = 10.0)]
    pub tau_mem_ms: f64,
    /// Synaptic current time constant `τ_syn` in ms, or `None` for no current. Default 5.
    #[config(default = "Some(5.0)")]
    pub tau_syn_ms: Option<f64>,
    /// Resting (leak) potential. Default 0.
    #[config(default = 0.0)]
    pub v_leak: f64,
    /// Membrane discretization. Default [`Discretization::ForwardEuler`] (Norse);
    /// [`Discretization::ExactDecay`] is mlGeNN's `LeakyIntegrate`.
    #[config(default = "Discretization::ForwardEuler")]
    pub discretization: Discretization,
    /// Train the time constants (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
    /// How [`Li::forward`] runs the time loop. Default [`Execution::Auto`]: the fused
    /// multi-step op ([`crate::fused`]) when the backend and this configuration support it (see
    /// [`Li::fused_path`]), else the reference step loop; [`Execution::Reference`] forces the
    /// step-by-step composition. Both give the same output and gradients.
    #[config(default = "Execution::Auto")]
    pub execution: Execution,
}

impl LiConfig {
    /// Norse's parametrization: inverse time constants in 1/s, `dt` in s.
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

    /// mlGeNN's `LeakyIntegrate(tau_mem=20, scale_i)` readout (GeNN model code, `Alpha =
    /// exp(−dt/tau_mem)`): `V = Alpha·V + Isyn`, or with `scale_i` `V = Alpha·V + (1 −
    /// Alpha)·Isyn`; no synaptic current, `dt = 1 ms`. mlGeNN's `bias` is a constant input: give
    /// it as the bias of the layer that feeds this one.
    pub fn mlgenn(size: usize, scale_i: bool) -> Self {
        Self::new(size)
            .with_tau_mem_ms(20.0)
            .with_tau_syn_ms(None)
            .with_discretization(if scale_i {
                Discretization::ExactDecayScaledInput
            } else {
                Discretization::ExactDecay
            })
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
        .validate()
    }

    /// Builds the layer on `device`, after [`LiConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<Li> {
        self.validate()?;
        Ok(Li {
            tau_mem_ms: per_neuron(self.size, self.tau_mem_ms, self.learn_tau, device),
            tau_syn_ms: self
                .tau_syn_ms
                .map(|tau| per_neuron(self.size, tau, self.learn_tau, device)),
            v_leak_per_neuron: None,
            config: self.clone(),
        })
    }
}

/// A layer of leaky integrators; see [`LiConfig`].
#[derive(Module, Debug)]
pub struct Li {
    /// Membrane time constant per neuron, ms, `[size]`.
    pub tau_mem_ms: Param<Tensor<1>>,
    /// Synaptic time constant per neuron, ms, `[size]`.
    pub tau_syn_ms: Option<Param<Tensor<1>>>,
    /// Resting potential per neuron, `[size]`, when
    /// [`with_v_leak`](super::PerNeuronPotentials::with_v_leak) gave one (a constant, not
    /// trained); `None`: the config's `v_leak`.
    v_leak_per_neuron: Option<Param<Tensor<1>>>,
    #[module(skip)]
    config: LiConfig,
}

/// State of an [`Li`] layer between steps (`i` is `None` without a synaptic current).
pub type LiState = LeakyState;

/// Output of [`Li`]'s [`Neuron::forward`]: its output (`spikes`) is the membrane after every
/// step, also given by [`NeuronOutput::v`](NeuronOutput#method.v-1).
pub type LiOutput<const D: usize> = NeuronOutput<LiState, D>;

impl<const D: usize> NeuronOutput<LiState, D> {
    /// The membrane after every step, `[batch, time, features...]`: the readout's output.
    pub fn v(&self) -> Tensor<D> {
        self.spikes.clone()
    }
}

/// The per-step constants of an [`Li`] layer, resolved by [`Li::dynamics`].
#[derive(Clone, Debug)]
pub struct LiDynamics {
    leaky: Leaky,
}

/// One leaky-integrator step, state in and state out (Norse's `li_feed_forward_step`):
/// returns the new membrane `[batch, size]` and the new state.
pub fn li_step(input: Tensor<2>, state: LiState, dynamics: &LiDynamics) -> (Tensor<2>, LiState) {
    let (current, carried) = dynamics.leaky.current(state.i, input);
    let v = dynamics.leaky.integrate(state.v, current);
    (v.clone(), LiState { v, i: carried })
}

impl Li {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &LiConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The resting state for a batch, on the layer's device.
    pub fn init_state(&self, batch: usize) -> LiState {
        let device = self.tau_mem_ms.val().device();
        LeakyState::resting(batch, self.size(), self.tau_syn_ms.is_some(), &device)
    }

    /// A state of this layer from its parts, each `[batch, size]`: the current `i` exactly when
    /// the layer has a synaptic current (`tau_syn_ms`).
    ///
    /// # Errors
    /// [`crate::SnnError::Rejected`] for a missing or an extra current,
    /// [`crate::SnnError::ShapeMismatch`] for a tensor that is not `[batch, size]`.
    pub fn state_from(&self, v: Tensor<2>, i: Option<Tensor<2>>) -> crate::Result<LiState> {
        let state = LeakyState { v, i };
        self.check_state(&state, state.v.dims()[0], "Li::state_from")?;
        Ok(state)
    }

    /// Resolves the decay factors for [`li_step`].
    pub fn dynamics(&self) -> LiDynamics {
        let c = &self.config;
        LiDynamics {
            leaky: Leaky::from_coefficients(self.coefficients(), c.v_leak),
        }
    }

    /// Whether [`Neuron::forward`] on `device` takes the fused multi-step op: with
    /// [`Execution::Auto`], on a backend the op supports ([`fused::backend_supported`]), and
    /// unless the time constants are trained on an autodiff device.
    pub fn fused_path(&self, device: &Device) -> bool {
        let trains = |p: &Param<Tensor<1>>| p.is_require_grad() && device.is_autodiff();
        self.config.execution == Execution::Auto
            && fused::backend_supported(device)
            && !trains(&self.tau_mem_ms)
            && !self.tau_syn_ms.as_ref().is_some_and(trains)
    }

    /// The whole sequence through the fused op: `x` `[batch, time, size]` from a checked state.
    fn sequence_fused(&self, x: Tensor<3>, state: LiState) -> (Tensor<3>, LiState) {
        let (coef, spec) = self.fused_operands();
        let i0 = state.i.unwrap_or_else(|| state.v.zeros_like());
        let (v_seq, v, i) = fused::leaky_sequence(x, state.v, i0, coef, spec);
        let state = LiState {
            v,
            i: self.tau_syn_ms.is_some().then_some(i),
        };
        (v_seq, state)
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

    /// The coefficient tensor `[COEFFICIENTS, size]` and the [`LeakySpec`] (no firing) with
    /// which this layer calls [`fused::leaky_sequence`], like [`crate::Lif::fused_operands`].
    pub fn fused_operands(&self) -> (Tensor<2>, LeakySpec) {
        let c = &self.config;
        let coefficients = self.coefficients();
        let spec = coefficients.spec(c.v_leak, None);
        (coefficients.stacked(&spec, None, None), spec)
    }
}

/// `v_leak` per neuron; an integrator has no reset.
impl super::PerNeuronPotentials for Li {
    fn potential_parts(&mut self) -> super::PotentialParts<'_> {
        super::PotentialParts {
            size: self.size(),
            v_leak: Some(&mut self.v_leak_per_neuron),
            v_reset: None,
        }
    }
    fn potentials(&self) -> (Option<&Param<Tensor<1>>>, Option<&Param<Tensor<1>>>) {
        (self.v_leak_per_neuron.as_ref(), None)
    }
}

impl StepLayer for Li {
    type State = LiState;
    type Prepared = LiDynamics;
    fn prepare(&self) -> LiDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> LiState {
        self.init_state(batch)
    }
    fn advance(&self, p: &LiDynamics, x: Tensor<2>, s: LiState) -> (Tensor<2>, LiState) {
        li_step(x, s, p)
    }
}

impl Neuron for Li {
    const CONTEXTS: Contexts = crate::neuron_contexts!("Li");
    fn neurons(&self) -> usize {
        self.size()
    }
    fn check_state(
        &self,
        state: &LiState,
        batch: usize,
        context: &'static str,
    ) -> crate::Result<()> {
        state.check_for(self.tau_syn_ms.is_some(), batch, self.size(), context)
    }
    fn forward_fused(&self, x: Tensor<3>, state: LiState) -> FusedRun<LiState> {
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

    #[test]
    fn mlgenn_leaky_integrate_by_hand() {
        let device = Device::flex();
        let x = Tensor::<3>::from_floats([[[1.0], [0.0], [2.0]]], &device);
        let run = |scale_i: bool| {
            let li = LiConfig::mlgenn(1, scale_i).init(&device).unwrap();
            li.forward(x.clone())
                .unwrap()
                .spikes
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        let a = (-1.0f64 / 20.0).exp();
        // V = Alpha·V + Isyn: 1, Alpha, Alpha² + 2
        let plain = [1.0, a, a * a + 2.0];
        // V = Alpha·V + (1 − Alpha)·Isyn
        let g = 1.0 - a;
        let scaled = [g, a * g, a * a * g + 2.0 * g];
        for (got, want) in [(run(false), plain), (run(true), scaled)] {
            for (g, w) in got.iter().zip(want) {
                assert!((f64::from(*g) - w).abs() < 1e-6, "{got:?} vs {want:?}");
            }
        }
    }
}

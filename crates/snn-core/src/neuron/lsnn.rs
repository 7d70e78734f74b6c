//! Norse's LSNN: LIF with an adaptive threshold (Bellec et al. 2018).

use super::layer::per_neuron;
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron, NeuronState, check_state_tensors, per_neuron_values};
use super::leaky::{Coefficient, LeakyParts, Membrane, Synapse};
use crate::dynamics::{Discretization, LeakyCoefficients, LeakyParams, euler_fraction};
use crate::error::{euler_time_constant, finite, nonzero, positive};
use crate::lift::StepLayer;
use crate::spike::spike_with;
use crate::surrogate::Surrogate;

/// Configuration of an [`Lsnn`] layer: a LIF neuron whose threshold `b` jumps by `β` at every
/// spike and relaxes back to `v_th` (Bellec et al. 2018, "Long short-term memory and
/// learning-to-learn in networks of spiking neurons").
///
/// Equations, per step of `dt_ms` (forward Euler, Norse's `lsnn_feed_forward_step` order):
///
/// ```text
/// v' = v + dt/τ_mem·((v_leak − v) + i)      (membrane, driven by the current of the last step)
/// i' = i − dt/τ_syn·i                       (current decay)
/// b' = b + dt/τ_adapt·(v_th − b)            (threshold relaxes to v_th)
/// z  = H(v' − b')                           (strict: H(0) = 0)
/// v  ← (1 − z)·v' + z·v_reset
/// b  ← b' + β·z
/// i  ← i' + x                               (the input enters AFTER the voltage update, so it
///                                            drives the membrane one step later than in Lif)
/// ```
///
/// The resting state has `b = v_th` (Norse's `LSNNCell.initial_state`). The defaults are Norse's
/// `LSNNParameters`: `τ_mem = 10 ms`, `τ_syn = 5 ms`, `tau_adapt_inv = 1/800` (in Norse's 1/s,
/// i.e. `τ_adapt = 800 s` with Norse's `dt = 1 ms`: Norse's default adapts very slowly; Bellec
/// et al. used hundreds of ms), `β = 1.8`, `v_th = 1`, `v_reset = v_leak = 0`, SuperSpike.
#[derive(Config, Debug)]
pub struct LsnnConfig {
    /// Number of neurons.
    pub size: usize,
    /// Integration step in ms. Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Membrane time constant `τ_mem` in ms. Default 10 (Norse `tau_mem_inv = 100 /s`).
    #[config(default = 10.0)]
    pub tau_mem_ms: f64,
    /// Synaptic current time constant `τ_syn` in ms. Default 5 (Norse `tau_syn_inv = 200 /s`).
    #[config(default = 5.0)]
    pub tau_syn_ms: f64,
    /// Threshold adaptation time constant `τ_adapt` in ms. Default 800 000 (Norse's
    /// `tau_adapt_inv = 1/800` in 1/s).
    #[config(default = 800_000.0)]
    pub tau_adapt_ms: f64,
    /// Resting threshold `v_th`: the value `b` relaxes to (dimensionless). Default 1.
    #[config(default = 1.0)]
    pub threshold: f64,
    /// Threshold jump per spike `β` (dimensionless). Default 1.8 (Norse). Must be finite.
    #[config(default = 1.8)]
    pub beta: f64,
    /// Leak potential. Default 0.
    #[config(default = 0.0)]
    pub v_leak: f64,
    /// Potential after a spike. Default 0.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Stop gradients through the reset and the threshold jump (Norse's recurrent `lsnn_step`
    /// detaches both; its `lsnn_feed_forward_step` does not). Default false.
    #[config(default = false)]
    pub detach_reset: bool,
    /// Surrogate derivative of the spike. Default SuperSpike `alpha = 100` (Norse).
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Train `τ_mem`, `τ_syn` and `τ_adapt` (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
    /// Train the resting threshold `v_th` (per neuron). Default false.
    #[config(default = false)]
    pub learn_threshold: bool,
}

impl LsnnConfig {
    /// Norse's parametrization (`LSNNParameters(tau_syn_inv, tau_mem_inv, tau_adapt_inv)`,
    /// inverse time constants in 1/s, `dt` in s).
    pub fn from_norse(
        size: usize,
        tau_syn_inv: f64,
        tau_mem_inv: f64,
        tau_adapt_inv: f64,
        dt_s: f64,
    ) -> crate::Result<Self> {
        let (dt_ms, tau_mem_ms, tau_syn_ms) =
            super::leaky::from_norse(tau_mem_inv, Some(tau_syn_inv), dt_s)?;
        let tau_adapt_inv = positive("tau_adapt_inv", tau_adapt_inv)?;
        Ok(Self {
            dt_ms,
            tau_mem_ms,
            tau_syn_ms: tau_syn_ms.unwrap_or(5.0),
            tau_adapt_ms: 1e3 / tau_adapt_inv,
            ..Self::new(size)
        })
    }

    /// Checks every field; the error names the first bad one. Forward Euler needs
    /// `dt ≤ τ` for each time constant.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        LeakyParams {
            dt_ms: self.dt_ms,
            tau_mem_ms: self.tau_mem_ms,
            tau_syn_ms: Some(self.tau_syn_ms),
            v_leak: self.v_leak,
            discretization: super::Discretization::ForwardEuler,
        }
        .validate()?;
        euler_time_constant("tau_adapt_ms", self.tau_adapt_ms, self.dt_ms)?;
        finite("threshold", self.threshold)?;
        finite("beta", self.beta)?;
        finite("v_reset", self.v_reset)?;
        self.surrogate.validate()
    }

    /// Builds the layer on `device`, after [`LsnnConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<Lsnn> {
        self.validate()?;
        Ok(Lsnn {
            tau_mem_ms: per_neuron(self.size, self.tau_mem_ms, self.learn_tau, device),
            tau_syn_ms: per_neuron(self.size, self.tau_syn_ms, self.learn_tau, device),
            tau_adapt_ms: per_neuron(self.size, self.tau_adapt_ms, self.learn_tau, device),
            threshold: per_neuron(self.size, self.threshold, self.learn_threshold, device),
            beta_per_neuron: None,
            v_leak_per_neuron: None,
            v_reset_per_neuron: None,
            config: self.clone(),
        })
    }
}

/// A layer of LSNN neurons (LIF with an adaptive threshold); see [`LsnnConfig`].
///
/// Matches Norse's `LSNNCell` / `lsnn_feed_forward_step`. For Norse's `LSNNRecurrentCell`
/// (`lsnn_step`) wrap it in a [`crate::neuron::Recurrent`] (see [`crate::neuron::LsnnRecurrent`]).
#[derive(Module, Debug)]
pub struct Lsnn {
    /// Membrane time constant per neuron, ms, `[size]`.
    pub tau_mem_ms: Param<Tensor<1>>,
    /// Synaptic time constant per neuron, ms, `[size]`.
    pub tau_syn_ms: Param<Tensor<1>>,
    /// Threshold adaptation time constant per neuron, ms, `[size]`.
    pub tau_adapt_ms: Param<Tensor<1>>,
    /// Resting threshold `v_th` per neuron, `[size]`.
    pub threshold: Param<Tensor<1>>,
    /// Threshold jump per neuron, `[size]`, when [`Lsnn::with_beta`] gave one (a constant, not
    /// trained); `None`: the config's `beta`.
    beta_per_neuron: Option<Param<Tensor<1>>>,
    /// Resting potential per neuron, `[size]`, when
    /// [`with_v_leak`](super::PerNeuronPotentials::with_v_leak) gave one; `None`: the config's.
    pub(super) v_leak_per_neuron: Option<Param<Tensor<1>>>,
    /// Reset potential per neuron, `[size]`, when
    /// [`with_v_reset`](super::PerNeuronPotentials::with_v_reset) gave one; `None`: the
    /// config's.
    pub(super) v_reset_per_neuron: Option<Param<Tensor<1>>>,
    #[module(skip)]
    config: LsnnConfig,
}

/// State of an [`Lsnn`] layer (Norse's `LSNNFeedForwardState`), every tensor `[batch, size]`.
#[derive(Clone, Debug)]
pub struct LsnnState {
    /// Membrane potential.
    pub v: Tensor<2>,
    /// Synaptic current (already holding the last input).
    pub i: Tensor<2>,
    /// Adaptive threshold `b`.
    pub b: Tensor<2>,
}

impl LsnnState {
    /// `v = 0`, `i = 0` and the threshold at `threshold` (`v_th`, the resting state).
    pub fn zeros(batch: usize, size: usize, threshold: f64, device: &Device) -> Self {
        let v = Tensor::zeros([batch, size], device);
        Self {
            i: v.clone(),
            b: Tensor::full([batch, size], threshold, device),
            v,
        }
    }
}

impl NeuronState for LsnnState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors([&self.v, &self.i, &self.b], batch, size, context)
    }
}

/// The per-step constants of an [`Lsnn`] layer, resolved by [`Lsnn::dynamics`].
#[derive(Clone, Debug)]
pub struct LsnnDynamics {
    membrane: Membrane,
    synapse: Synapse,
    /// `dt/τ_adapt`, `[1, size]`.
    k_adapt: Tensor<2>,
    /// `v_th`, `[1, size]`.
    threshold: Tensor<2>,
    /// `β`, shared or per neuron.
    beta: Coefficient,
    /// `v_reset`, shared or per neuron.
    v_reset: Coefficient,
    surrogate: Surrogate,
    detach_reset: bool,
}

/// One LSNN step (Norse's `lsnn_feed_forward_step`): `input` `[batch, size]` is added to the
/// current after the voltage update. Returns the spikes and the new state. No shape checks.
pub fn lsnn_step(input: Tensor<2>, state: LsnnState, d: &LsnnDynamics) -> (Tensor<2>, LsnnState) {
    let LsnnState { v, i, b } = state;
    let v = d.membrane.integrate(v, i.clone());
    let i = d.synapse.decay(i);
    let b = b.clone() + (d.threshold.clone() - b) * d.k_adapt.clone();
    let z = spike_with(v.clone() - b.clone(), d.surrogate, false);
    let fired = if d.detach_reset {
        z.clone().detach()
    } else {
        z.clone()
    };
    let v = d.v_reset.reset(v, fired.clone());
    let b = b + d.beta.times(fired);
    (z, LsnnState { v, i: i + input, b })
}

impl Lsnn {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &LsnnConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The resting state for a batch (`b = v_th`, per neuron), on the layer's device.
    pub fn init_state(&self, batch: usize) -> LsnnState {
        let threshold = self.threshold.val();
        let v = Tensor::zeros([batch, self.config.size], &threshold.device());
        LsnnState {
            i: v.clone(),
            b: threshold.detach().unsqueeze::<2>().repeat_dim(0, batch),
            v,
        }
    }

    /// Resolves the decay factors for [`lsnn_step`].
    pub fn dynamics(&self) -> LsnnDynamics {
        let c = &self.config;
        let euler = Discretization::ForwardEuler;
        let per_neuron = |p: &Option<Param<Tensor<1>>>| p.as_ref().map(Param::val);
        let membrane =
            LeakyCoefficients::resolve(self.tau_mem_ms.val(), None, c.dt_ms, c.v_leak, euler)
                .with_v_leak_per_neuron(per_neuron(&self.v_leak_per_neuron));
        LsnnDynamics {
            membrane: Membrane::from_coefficients(&membrane, c.v_leak),
            synapse: Synapse::new(self.tau_syn_ms.val(), c.dt_ms, euler),
            k_adapt: euler_fraction(self.tau_adapt_ms.val(), c.dt_ms).unsqueeze::<2>(),
            threshold: self.threshold.val().unsqueeze::<2>(),
            beta: Coefficient::of(per_neuron(&self.beta_per_neuron), c.beta),
            v_reset: Coefficient::of(per_neuron(&self.v_reset_per_neuron), c.v_reset),
            surrogate: c.surrogate,
            detach_reset: c.detach_reset,
        }
    }
}

impl Lsnn {
    /// The same layer with one threshold jump `β` per neuron, `[size]`, finite (Norse's tensor
    /// `beta`; a constant, not trained).
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`, [`crate::SnnError::NotFinite`].
    pub fn with_beta(mut self, beta: Tensor<1>) -> crate::Result<Self> {
        let size = self.config.size;
        let check = |b| finite("beta", b);
        self.beta_per_neuron = Some(per_neuron_values("beta", beta, size, false, check)?);
        Ok(self)
    }

    /// The same layer with one adaptation time constant `τ_adapt` per neuron, ms, `[size]`
    /// (Norse's tensor `tau_adapt_inv` is `1e3 / τ_adapt`), each at least `dt` (forward Euler);
    /// trained with `learn_tau`.
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`; [`crate::SnnError::NotPositive`] or
    /// [`crate::SnnError::UnstableEuler`] for a bad value.
    pub fn with_tau_adapt_ms(mut self, tau_adapt_ms: Tensor<1>) -> crate::Result<Self> {
        let c = &self.config;
        let (size, dt_ms, learn) = (c.size, c.dt_ms, c.learn_tau);
        let check = |t| euler_time_constant("tau_adapt_ms", t, dt_ms);
        self.tau_adapt_ms = per_neuron_values("tau_adapt_ms", tau_adapt_ms, size, learn, check)?;
        Ok(self)
    }
}

/// `τ_mem` and `τ_syn` per neuron (forward Euler); `τ_adapt` through [`Lsnn::with_tau_adapt_ms`].
impl super::LeakyTimeConstants for Lsnn {
    fn leaky_parts(&mut self) -> LeakyParts<'_> {
        let c = &self.config;
        LeakyParts {
            size: c.size,
            dt_ms: c.dt_ms,
            discretization: Discretization::ForwardEuler,
            learn: c.learn_tau,
            tau_mem_ms: &mut self.tau_mem_ms,
            tau_syn_ms: Some(&mut self.tau_syn_ms),
        }
    }
}

/// The resting threshold `v_th` per neuron (the value `b` relaxes to, and `b`'s resting state).
impl super::PerNeuronThreshold for Lsnn {
    fn threshold_parts(&mut self) -> (usize, bool, &mut Param<Tensor<1>>) {
        (
            self.config.size,
            self.config.learn_threshold,
            &mut self.threshold,
        )
    }
}

impl StepLayer for Lsnn {
    type State = LsnnState;
    type Prepared = LsnnDynamics;
    fn prepare(&self) -> LsnnDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> LsnnState {
        self.init_state(batch)
    }
    fn advance(&self, p: &LsnnDynamics, x: Tensor<2>, s: LsnnState) -> (Tensor<2>, LsnnState) {
        lsnn_step(x, s, p)
    }
}

impl Neuron for Lsnn {
    const CONTEXTS: Contexts = crate::neuron_contexts!("Lsnn");
    fn neurons(&self) -> usize {
        self.config.size
    }
}

//! spikelearn's `SpikingRecLayer`: LIF with fixed recurrent weights.

use super::layer::per_neuron;
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron, NeuronState, check_state_tensors};
use crate::dynamics::decay_factor;
use crate::error::{SnnError, finite, nonzero, positive};
use crate::lift::StepLayer;
use crate::spike::spike_with;
use crate::surrogate::Surrogate;

/// Configuration of a [`SpikingRecLayer`]: spikelearn's (Argonne) `SpikingRecLayer(N, tau,
/// Wrec, v0)`, LIF neurons with a fixed (non-trainable) recurrent interaction such as
/// cross-inhibition; with zero recurrent weights it is spikelearn's `SpikingLayer(N, tau, v0,
/// refr)`.
///
/// Equations, per time step (time in steps, no `dt`), input `x`, spikes of the previous step
/// `s`:
///
/// ```text
/// a = e^(−1/τ),  b = 1 − a
/// x_tot = x + W_rec·s                      (W_rec row = receiving neuron)
/// v ← (1 − s)·(a·v + b·x_tot)              (refractory: a neuron that spiked sits out a step)
/// v ← (1 − s)·a·v + b·x_tot                (not refractory: reset to 0, then integrate)
/// s ← H(v − v0)                            (non-strict: spikes at v = v0, spikelearn's `hard`)
/// ```
///
/// The reset is delayed: the membrane that crossed `v0` is kept (and recorded) in the step of the
/// spike and cleared in the next. spikelearn is NumPy-only; here the spike has a surrogate
/// gradient and the reset is not detached.
///
/// Why not a [`crate::Lif`] option: two semantics no other peer's LIF has. The late reset
/// multiplies by `1 − s` with the spike *with* its surrogate gradient (snnTorch's late reset,
/// the family's `reset_delay`, is detached), and the refractory step zeroes the membrane
/// integrated in that step, input included (GeNN's refractory countdown, the family's
/// `refractory_ms`, holds the membrane). The fixed recurrent interaction `W_rec·s` reads the
/// spikes kept in the state.
#[derive(Config, Debug)]
pub struct SpikingRecLayerConfig {
    /// Number of neurons `N`.
    pub size: usize,
    /// Membrane decay time `τ` in time steps (spikelearn's `tau`). Must be positive.
    pub tau_steps: f64,
    /// Threshold `v0`. Default 1 (spikelearn).
    #[config(default = 1.0)]
    pub v0: f64,
    /// Refractory step after a spike (spikelearn's `refr`). Default true (`SpikingRecLayer`
    /// always passes the default true).
    #[config(default = true)]
    pub refractory: bool,
    /// Surrogate derivative of the spike. Default SuperSpike `alpha = 100`.
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Train `τ` (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
}

impl SpikingRecLayerConfig {
    /// Checks every field.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        positive("tau_steps", self.tau_steps)?;
        finite("v0", self.v0)?;
        self.surrogate.validate()
    }

    /// Builds the layer on `device` with zero recurrent weights (spikelearn's `SpikingLayer`);
    /// set them with [`SpikingRecLayer::with_recurrent_weights`] or
    /// [`SpikingRecLayer::with_cross_inhibition`].
    pub fn init(&self, device: &Device) -> crate::Result<SpikingRecLayer> {
        self.validate()?;
        let n = self.size;
        Ok(SpikingRecLayer {
            tau_steps: per_neuron(n, self.tau_steps, self.learn_tau, device),
            w_rec: Param::from_tensor(Tensor::zeros([n, n], device)).set_require_grad(false),
            config: self.clone(),
        })
    }
}

/// spikelearn's `SpikingRecLayer`; see [`SpikingRecLayerConfig`].
#[derive(Module, Debug)]
pub struct SpikingRecLayer {
    /// Decay time per neuron, in steps, `[size]`.
    pub tau_steps: Param<Tensor<1>>,
    /// Fixed recurrent weights `W_rec`, `[size, size]` (row = receiving neuron); never trained.
    pub w_rec: Param<Tensor<2>>,
    #[module(skip)]
    config: SpikingRecLayerConfig,
}

/// State of a [`SpikingRecLayer`], every tensor `[batch, size]`.
#[derive(Clone, Debug)]
pub struct SpikingRecState {
    /// Membrane potential.
    pub v: Tensor<2>,
    /// Spikes of the last step.
    pub s: Tensor<2>,
}

impl SpikingRecState {
    /// `v = 0`, no spikes (spikelearn's `reset()`).
    pub fn zeros(batch: usize, size: usize, device: &Device) -> Self {
        let v = Tensor::zeros([batch, size], device);
        Self { s: v.clone(), v }
    }
}

impl NeuronState for SpikingRecState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors([&self.v, &self.s], batch, size, context)
    }
}

/// The per-sequence constants of a [`SpikingRecLayer`].
#[derive(Clone, Debug)]
pub struct SpikingRecDynamics {
    /// `a = e^(−1/τ)`, `[1, size]`.
    a: Tensor<2>,
    /// `b = 1 − a`, `[1, size]`.
    b: Tensor<2>,
    /// `W_recᵀ`, `[size, size]`.
    w_rec_t: Tensor<2>,
    v0: f32,
    refractory: bool,
    surrogate: Surrogate,
}

/// One step of spikelearn's `SpikingRecLayer.__call__`. No shape checks.
pub fn spiking_rec_step(
    input: Tensor<2>,
    state: SpikingRecState,
    d: &SpikingRecDynamics,
) -> (Tensor<2>, SpikingRecState) {
    let SpikingRecState { v, s } = state;
    let x = input + s.clone().matmul(d.w_rec_t.clone());
    let keep = s.neg().add_scalar(1.0);
    let v = if d.refractory {
        keep * (v * d.a.clone() + x * d.b.clone())
    } else {
        keep * v * d.a.clone() + x * d.b.clone()
    };
    let s = spike_with(v.clone().sub_scalar(d.v0), d.surrogate, true);
    (s.clone(), SpikingRecState { v, s })
}

impl SpikingRecLayer {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &SpikingRecLayerConfig {
        &self.config
    }

    /// The same layer with fixed recurrent weights `w` (`[size, size]`, row = receiving neuron,
    /// spikelearn's `Wrec`).
    pub fn with_recurrent_weights(self, w: Tensor<2>) -> crate::Result<Self> {
        let n = self.config.size;
        if w.dims() != [n, n] {
            return Err(SnnError::ShapeMismatch {
                context: "SpikingRecLayer::with_recurrent_weights w_rec",
                expected: format!("[{n}, {n}]"),
                actual: w.dims().to_vec(),
            });
        }
        Ok(Self {
            w_rec: Param::from_tensor(w).set_require_grad(false),
            ..self
        })
    }

    /// The same layer with every neuron inhibiting every other by `strength`
    /// (`W_rec = −strength·(1 − I)`): a winner-take-all circuit.
    pub fn with_cross_inhibition(self, strength: f64) -> crate::Result<Self> {
        let strength = finite("strength", strength)?;
        let n = self.config.size;
        let device = self.tau_steps.val().device();
        let w = Tensor::<2>::eye(n, &device)
            .sub_scalar(1.0)
            .mul_scalar(strength);
        self.with_recurrent_weights(w)
    }

    /// The resting state on the layer's device.
    pub fn init_state(&self, batch: usize) -> SpikingRecState {
        SpikingRecState::zeros(batch, self.config.size, &self.tau_steps.val().device())
    }

    /// Resolves the decay factors for [`spiking_rec_step`].
    pub fn dynamics(&self) -> SpikingRecDynamics {
        // τ in steps: one step is dt = 1
        let a = decay_factor(self.tau_steps.val(), 1.0).unsqueeze::<2>();
        SpikingRecDynamics {
            b: a.clone().neg().add_scalar(1.0),
            a,
            // fixed weights: no gradient reaches them even if the caller made them trainable
            w_rec_t: self.w_rec.val().detach().transpose(),
            v0: self.config.v0 as f32,
            refractory: self.config.refractory,
            surrogate: self.config.surrogate,
        }
    }
}

impl StepLayer for SpikingRecLayer {
    type State = SpikingRecState;
    type Prepared = SpikingRecDynamics;
    fn prepare(&self) -> SpikingRecDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> SpikingRecState {
        self.init_state(batch)
    }
    fn advance(
        &self,
        p: &SpikingRecDynamics,
        x: Tensor<2>,
        s: SpikingRecState,
    ) -> (Tensor<2>, SpikingRecState) {
        spiking_rec_step(x, s, p)
    }
}

impl Neuron for SpikingRecLayer {
    const CONTEXTS: Contexts = crate::neuron_contexts!("SpikingRecLayer");
    fn neurons(&self) -> usize {
        self.config.size
    }
}

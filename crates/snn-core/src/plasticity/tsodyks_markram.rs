//! Tsodyks-Markram short-term synaptic plasticity (depression and facilitation), as Norse's
//! `norse.torch.functional.tsodyks_makram` (`TsodyksMakramParameters`, `stp_step`; Norse
//! spells the name "Makram").

use crate::neuron::per_neuron;
use burn::module::Param;
use burn::prelude::*;

use crate::error::{SnnError, euler_time_constant, nonzero, positive};
use crate::lift::StepLayer;
use crate::neuron::{Contexts, Neuron, NeuronOutput, NeuronState, check_state_tensors};

/// Configuration of a [`TsodyksMarkram`] synapse layer.
///
/// Each synapse has a utilization `u` (release probability) and a fraction `x` of available
/// resources. Per step of `dt_ms`, with presynaptic spikes `z` (0/1), forward Euler in Norse's
/// order (`u` first, then `x` with the new `u`):
///
/// ```text
/// u⁺  = u + dt/τ_f·(−u) + U·(1 − u)·z        (facilitation: u jumps by U·(1 − u) per spike)
/// x⁺  = x + dt/τ_d·(1 − x) − u⁺·x·z           (depression: a spike uses u⁺·x of the resources)
/// out = u⁺·x·z                                (the efficacy of this step's spike, with the OLD x)
/// ```
///
/// `u` relaxes to 0 between spikes and `x` to 1. The output is meant to drive a postsynaptic
/// current (Norse's tests filter it with `τ_s`: `i ← i − dt/τ_s·i + out`; that filter is not part
/// of `stp_step` and not of this layer). Defaults: Norse's `TsodyksMakramParameters` (a
/// depressing synapse): `τ_f = 50 ms`, `τ_d = 750 ms`, `U = 0.45`, `dt = 1 ms`. Norse's test of a
/// facilitating synapse uses `τ_f = 750 ms`, `τ_d = 50 ms`, `U = 0.15`.
#[derive(Config, Debug)]
pub struct TsodyksMarkramConfig {
    /// Number of synapses: the product of the input's feature dimensions.
    pub size: usize,
    /// Integration step in ms. Default 1 (Norse `dt = 0.001 s`).
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Facilitation time constant `τ_f` in ms (decay of `u`). Default 50 (Norse
    /// `tau_f_inv = 20 /s`).
    #[config(default = 50.0)]
    pub tau_f_ms: f64,
    /// Depression (recovery) time constant `τ_d` in ms (recovery of `x`). Default 750 (Norse
    /// `tau_d_inv = 1/0.75 /s`).
    #[config(default = 750.0)]
    pub tau_d_ms: f64,
    /// Utilization increment `U` per spike, in `[0, 1]` (Norse `U`). Default 0.45.
    #[config(default = 0.45)]
    pub u_increment: f64,
}

impl TsodyksMarkramConfig {
    /// Norse's parametrization: inverse time constants in 1/s and `dt` in s
    /// (`TsodyksMakramParameters(tau_f_inv, tau_s_inv, tau_d_inv, U)` without the unused
    /// `tau_s_inv`).
    pub fn from_norse(
        size: usize,
        tau_f_inv: f64,
        tau_d_inv: f64,
        u: f64,
        dt_s: f64,
    ) -> crate::Result<Self> {
        let tau_f_inv = positive("tau_f_inv", tau_f_inv)?;
        let tau_d_inv = positive("tau_d_inv", tau_d_inv)?;
        let dt_s = positive("dt", dt_s)?;
        Ok(Self::new(size)
            .with_dt_ms(dt_s * 1e3)
            .with_tau_f_ms(1e3 / tau_f_inv)
            .with_tau_d_ms(1e3 / tau_d_inv)
            .with_u_increment(u))
    }

    /// Checks every field; the error names the first bad one. Forward Euler needs `dt <= τ`.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        let dt = positive("dt_ms", self.dt_ms)?;
        for (field, tau) in [("tau_f_ms", self.tau_f_ms), ("tau_d_ms", self.tau_d_ms)] {
            euler_time_constant(field, tau, dt)?;
        }
        let u = self.u_increment;
        if !(0.0..=1.0).contains(&u) {
            return Err(SnnError::out_of_range("u_increment", "[0, 1]", u));
        }
        Ok(())
    }

    /// Builds the layer on `device`, after [`TsodyksMarkramConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<TsodyksMarkram> {
        self.validate()?;
        Ok(TsodyksMarkram {
            tau_f_ms: per_neuron(self.size, self.tau_f_ms, false, device),
            tau_d_ms: per_neuron(self.size, self.tau_d_ms, false, device),
            u_increment: per_neuron(self.size, self.u_increment, false, device),
            config: self.clone(),
        })
    }
}

/// A layer of Tsodyks-Markram synapses; see [`TsodyksMarkramConfig`] for the equations.
///
/// Input: presynaptic spikes `[batch, features...]`; output: the efficacy `u⁺·x·z` of each spike,
/// shaped like the input. It implements [`Neuron`], so `step`, `forward` and `forward_with`
/// (with `out.traced(|s| s.u.clone())`) come with shape checks.
#[derive(Module, Debug)]
pub struct TsodyksMarkram {
    /// Facilitation time constant per synapse, ms, `[size]`.
    pub tau_f_ms: Param<Tensor<1>>,
    /// Depression time constant per synapse, ms, `[size]`.
    pub tau_d_ms: Param<Tensor<1>>,
    /// Utilization increment `U` per synapse, `[size]`.
    pub u_increment: Param<Tensor<1>>,
    #[module(skip)]
    config: TsodyksMarkramConfig,
}

/// State of Tsodyks-Markram synapses (Norse's `TsodyksMakramState`), each `[batch, size]`.
#[derive(Clone, Debug)]
pub struct StpState {
    /// Utilization `u`.
    pub u: Tensor<2>,
    /// Fraction of available resources `x`.
    pub x: Tensor<2>,
}

impl StpState {
    /// The resting state: `u = 0`, `x = 1` (as Norse's tests start).
    pub fn resting(batch: usize, size: usize, device: &Device) -> Self {
        Self {
            u: Tensor::zeros([batch, size], device),
            x: Tensor::ones([batch, size], device),
        }
    }
}

impl NeuronState for StpState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors([&self.u, &self.x], batch, size, context)
    }
}

/// The per-step constants of a [`TsodyksMarkram`] layer (`[1, size]` each).
#[derive(Clone, Debug)]
pub struct StpDynamics {
    /// `dt/τ_f`.
    k_f: Tensor<2>,
    /// `dt/τ_d`.
    k_d: Tensor<2>,
    /// `U`.
    u_increment: Tensor<2>,
}

/// One Tsodyks-Markram step, state in and state out (Norse `stp_step`): `z` and the state are
/// `[batch, size]`; returns the efficacy `u⁺·x·z` and the new state.
///
/// No shape checks: [`TsodyksMarkram::step`] is the checked entry point.
pub fn stp_step(z: Tensor<2>, state: StpState, dynamics: &StpDynamics) -> (Tensor<2>, StpState) {
    let StpState { u, x } = state;
    let jump = u.clone().neg().add_scalar(1.0) * dynamics.u_increment.clone() * z.clone();
    let u = u.clone() - u * dynamics.k_f.clone() + jump;
    let used = u.clone() * x.clone() * z;
    let x_new = x.clone() + x.neg().add_scalar(1.0) * dynamics.k_d.clone() - used.clone();
    (used, StpState { u, x: x_new })
}

impl TsodyksMarkram {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &TsodyksMarkramConfig {
        &self.config
    }

    /// Number of synapses.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The resting state (`u = 0`, `x = 1`) for a batch, on the layer's device.
    pub fn init_state(&self, batch: usize) -> StpState {
        StpState::resting(batch, self.size(), &self.tau_f_ms.val().device())
    }

    /// Resolves `dt/τ_f`, `dt/τ_d` and `U` for [`stp_step`].
    pub fn dynamics(&self) -> StpDynamics {
        let dt = self.config.dt_ms;
        let k = |tau: &Param<Tensor<1>>| tau.val().recip().mul_scalar(dt).unsqueeze::<2>();
        StpDynamics {
            k_f: k(&self.tau_f_ms),
            k_d: k(&self.tau_d_ms),
            u_increment: self.u_increment.val().unsqueeze::<2>(),
        }
    }

    /// One step: spikes `[batch, features...]` with `size` features in all; returns the
    /// efficacies shaped like the input and the new state.
    pub fn step<const D: usize>(
        &self,
        z: Tensor<D>,
        state: StpState,
    ) -> crate::Result<(Tensor<D>, StpState)> {
        Neuron::step(self, z, state)
    }

    /// Runs a spike sequence `[batch, time, features...]` from `state` (the resting state if
    /// `None`), recording `u` and `x` after every step when `record` is set.
    pub fn forward_with<const D: usize>(
        &self,
        z: Tensor<D>,
        state: Option<StpState>,
        record: bool,
    ) -> crate::Result<NeuronOutput<StpState, D>> {
        Neuron::forward_with(self, z, state, record)
    }
}

impl StepLayer for TsodyksMarkram {
    type State = StpState;
    type Prepared = StpDynamics;
    fn prepare(&self) -> StpDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> StpState {
        self.init_state(batch)
    }
    fn advance(&self, p: &StpDynamics, z: Tensor<2>, s: StpState) -> (Tensor<2>, StpState) {
        stp_step(z, s, p)
    }
}

impl Neuron for TsodyksMarkram {
    const CONTEXTS: Contexts = crate::neuron_contexts!("TsodyksMarkram");
    fn neurons(&self) -> usize {
        self.size()
    }
}

//! Norse's multicompartment LIF (`lif_mc`).

use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron};
use super::leaky::Coefficient;
use super::lif::{Lif, LifConfig, LifDynamics, LifState, lif_step};
use super::refrac::{
    PerNeuronRefractory, RefractoryParts, RefractoryState, countdown, counter_reset,
    norse_rho_reset, refractory_steps,
};
use crate::error::{SnnError, finite};
use crate::lift::StepLayer;
use crate::spike::spike_with;
use crate::surrogate::Surrogate;

/// Configuration of a [`LifMc`] layer: `size` LIF compartments whose membranes are coupled by
/// the conductance matrix `G` (`g_coupling`, `[size, size]`, row = receiving compartment).
///
/// Each step first couples the membranes, then runs the LIF step of [`LifConfig`] (Norse's
/// `lif_mc_feed_forward_step`):
///
/// ```text
/// v ← v + dt·G·v            (forward Euler of dv/dt = G v; torch: v + dt·(v @ Gᵀ))
/// (z, v, i) ← LIF step of (v, i) with input x   (see LifConfig: i += x, v += dt/τ_mem·(v_leak − v + i), …)
/// ```
///
/// `G` is in 1/ms (Norse's is in 1/s with `dt` in s: divide it by 1000, or use
/// [`LifMc::with_coupling_norse`]). The coupling starts at zero (a plain LIF layer) and is
/// trainable when `learn_coupling` is set (Norse's `LIFMCRecurrentCell` makes it a parameter
/// with a random `N(0,1)/√size` start; set it with [`LifMc::with_coupling`]).
///
/// Not ported: Norse's recurrent `lif_mc_step` applies the coupling after the LIF step of the
/// recurrent `lif_step` instead of before. Norse's refractory variant is [`LifMcRefrac`], a
/// model of its own (it is not this step with a refractory period).
#[derive(Config, Debug)]
pub struct LifMcConfig {
    /// The LIF compartments (Norse `LIFParameters` defaults); its `size` is the compartment count.
    pub lif: LifConfig,
    /// Train the coupling matrix. Default true (Norse makes it a `Parameter`).
    #[config(default = true)]
    pub learn_coupling: bool,
}

impl LifMcConfig {
    /// Norse's defaults for `size` compartments, no coupling yet.
    pub fn with_size(size: usize) -> Self {
        Self::new(LifConfig::new(size))
    }

    /// Checks the compartments' parameters.
    pub fn validate(&self) -> crate::Result<()> {
        self.lif.validate()
    }

    /// Builds the layer on `device` with `G = 0`.
    pub fn init(&self, device: &Device) -> crate::Result<LifMc> {
        let lif = self.lif.init(device)?;
        let n = self.lif.size;
        Ok(LifMc {
            lif,
            g_coupling: Param::from_tensor(Tensor::zeros([n, n], device))
                .set_require_grad(self.learn_coupling),
            config: self.clone(),
        })
    }
}

/// A layer of coupled LIF compartments; see [`LifMcConfig`]. State: [`LifState`].
#[derive(Module, Debug)]
pub struct LifMc {
    /// The compartments' LIF dynamics (time constants, threshold).
    pub lif: Lif,
    /// Coupling conductances `G`, 1/ms, `[size, size]` (row = receiving compartment).
    pub g_coupling: Param<Tensor<2>>,
    #[module(skip)]
    config: LifMcConfig,
}

/// The per-sequence constants of a [`LifMc`] layer.
#[derive(Clone, Debug)]
pub struct LifMcDynamics {
    lif: LifDynamics,
    /// `dt·Gᵀ`, `[size, size]`.
    coupling_t: Tensor<2>,
}

/// One multicompartment step (Norse's `lif_mc_feed_forward_step`): couple, then [`lif_step`].
/// No shape checks.
pub fn lif_mc_step(input: Tensor<2>, state: LifState, d: &LifMcDynamics) -> (Tensor<2>, LifState) {
    let v = state.v.clone() + state.v.matmul(d.coupling_t.clone());
    lif_step(input, LifState { v, ..state }, &d.lif)
}

impl LifMc {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &LifMcConfig {
        &self.config
    }

    /// The same layer with coupling `g` (1/ms, `[size, size]`, row = receiving compartment).
    pub fn with_coupling(self, g: Tensor<2>) -> crate::Result<Self> {
        let n = self.config.lif.size;
        if g.dims() != [n, n] {
            return Err(SnnError::ShapeMismatch {
                context: "LifMc::with_coupling g_coupling",
                expected: format!("[{n}, {n}]"),
                actual: g.dims().to_vec(),
            });
        }
        let values = g.clone().into_data().convert::<f32>();
        if let Some(bad) = values.iter::<f32>().find(|x| !x.is_finite()) {
            finite("g_coupling", bad.into())?;
        }
        Ok(Self {
            g_coupling: Param::from_tensor(g).set_require_grad(self.config.learn_coupling),
            ..self
        })
    }

    /// [`LifMc::with_coupling`] with Norse's coupling in 1/s.
    pub fn with_coupling_norse(self, g_per_s: Tensor<2>) -> crate::Result<Self> {
        self.with_coupling(g_per_s.div_scalar(1e3))
    }

    /// Resolves the constants for [`lif_mc_step`].
    pub fn dynamics(&self) -> LifMcDynamics {
        LifMcDynamics {
            lif: self.lif.dynamics(),
            coupling_t: self
                .g_coupling
                .val()
                .transpose()
                .mul_scalar(self.config.lif.dt_ms),
        }
    }
}

impl StepLayer for LifMc {
    type State = LifState;
    type Prepared = LifMcDynamics;
    fn prepare(&self) -> LifMcDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> LifState {
        self.lif.init_state(batch)
    }
    fn advance(&self, p: &LifMcDynamics, x: Tensor<2>, s: LifState) -> (Tensor<2>, LifState) {
        lif_mc_step(x, s, p)
    }
}

impl Neuron for LifMc {
    const CONTEXTS: Contexts = crate::neuron_contexts!("LifMc");
    fn neurons(&self) -> usize {
        self.config.lif.size
    }
}

/// Norse's refractory multicompartment LIF (`lif_mc_refrac_feed_forward_step`,
/// `LIFMCRefracRecurrentCell` without its recurrent weights): [`LifMc`]'s compartments and
/// coupling with a refractory counter `ρ` (in steps, as in [`crate::neuron::LifRefrac`]). Its step
/// is not [`lif_mc_step`] with a refractory period. With `m = H(ρ)` (strict, the surrogate of the
/// LIF backward) and `k = dt/τ_mem`, `k_syn = dt/τ_syn`, `v`, `i`, `ρ` the state before the step:
///
/// ```text
/// v_dec = v + (1 − m)·k·((v_leak − v) + i) + dt·G·v
/// i_dec = i − k_syn·i
/// z     = H(v_dec − v_th)                     (strict)
/// v     ← (1 − z)·v_dec + z·v_reset
/// i     ← i_dec + x
/// ρ     ← (1 − z)·relu(ρ − m) + z·ρ_reset
/// ```
///
/// Norse's quirks, kept because they are the model's definition there:
/// - the input enters the current *after* the voltage update, so it reaches the membrane one
///   step later than in [`LifMc`] (as in Norse's `lsnn`);
/// - while refractory the leak and the current are held, but the coupling is not, and neither
///   is the spike: a refractory compartment that the coupling pushes over threshold fires.
///
/// Norse adds `v @ g_coupling.T` without `dt` here (its other `lif_mc` functions multiply by
/// `dt`), so its `g_coupling` is per step: [`LifMcRefrac::from_norse`] takes it as that, and the
/// layer's `g_coupling` stays in 1/ms like [`LifMc`]'s. Needs a synaptic current
/// (`lif.tau_syn_ms`). State: [`LifMcRefracState`], resting at `v = v_leak`, `i = 0`, `ρ = 0`.
#[derive(Module, Debug)]
pub struct LifMcRefrac {
    /// The compartments and their coupling.
    pub mc: LifMc,
    rho_reset: f32,
    rho_reset_per_neuron: Option<Param<Tensor<1>>>,
}

/// State of a [`LifMcRefrac`] layer (Norse's `LIFMCRefracRecurrentState` without the recurrent
/// part): the LIF state and the counter `ρ`.
pub type LifMcRefracState = RefractoryState<LifState>;

/// The per-sequence constants of a [`LifMcRefrac`] layer.
#[derive(Clone, Debug)]
pub struct LifMcRefracDynamics {
    mc: LifMcDynamics,
    rho_reset: Coefficient,
    surrogate: Surrogate,
}

/// One step of [`LifMcRefrac`] (Norse's `lif_mc_refrac_feed_forward_step`); see its docs for the
/// equations. `input` and the state are `[batch, size]`. No shape checks.
pub fn lif_mc_refrac_step(
    input: Tensor<2>,
    state: LifMcRefracState,
    d: &LifMcRefracDynamics,
) -> (Tensor<2>, LifMcRefracState) {
    let LifState { v, i, refrac } = state.neuron;
    let lif = &d.mc.lif;
    let mask = spike_with(state.rho.clone(), d.surrogate, false);
    let free = mask.clone().neg().add_scalar(1.0);
    let coupled = v.clone().matmul(d.mc.coupling_t.clone());
    // the current drives this step's membrane as it was carried in; the input joins it after
    let current = i.unwrap_or_else(|| v.zeros_like());
    let decayed = lif.leaky.decay_current(current.clone());
    let (z, v) = lif.firing.step(v, |v| {
        let leak_and_current = lif.leaky.integrate(v.clone(), current) - v.clone();
        v + leak_and_current * free + coupled
    });
    let i = decayed.map(|i| i + input);
    let rho = countdown(state.rho, mask, &z, &d.rho_reset);
    let neuron = LifState { v, i, refrac };
    (z, LifMcRefracState { neuron, rho })
}

impl LifMcRefrac {
    /// `mc` with a refractory period of `refractory_ms`, a whole number of `dt_ms` steps `>= 0`.
    ///
    /// # Errors
    /// [`SnnError::Rejected`] without a synaptic current, and the errors of
    /// [`crate::neuron::refractory_steps`].
    pub fn new(mc: LifMc, refractory_ms: f64) -> crate::Result<Self> {
        let lif = &mc.config.lif;
        if lif.tau_syn_ms.is_none() {
            return Err(SnnError::Rejected {
                field: "lif.tau_syn_ms",
                reason: "LifMcRefrac needs a synaptic current (the input enters it)".into(),
            });
        }
        let rho_reset = refractory_steps(refractory_ms, lif.dt_ms)?;
        Ok(Self {
            mc,
            rho_reset,
            rho_reset_per_neuron: None,
        })
    }

    /// Norse's parametrization: `LIFRefracParameters(lif, rho_reset)` (`rho_reset` in steps, a
    /// whole number) and `g_coupling` as `lif_mc_refrac_feed_forward_step` uses it, per step
    /// (`[size, size]`, row = receiving compartment).
    pub fn from_norse(
        lif: LifConfig,
        rho_reset: f64,
        g_coupling: Tensor<2>,
    ) -> crate::Result<Self> {
        let refractory_ms = norse_rho_reset(rho_reset, lif.dt_ms)?;
        let dt_ms = lif.dt_ms;
        let mc = LifMcConfig::new(lif)
            .init(&g_coupling.device())?
            .with_coupling(g_coupling.div_scalar(dt_ms))?;
        Self::new(mc, refractory_ms)
    }

    /// The shared counter reset `ρ_reset` in steps (per-neuron values, when set, replace it:
    /// [`PerNeuronRefractory::rho_reset_per_neuron`]).
    pub fn rho_reset(&self) -> f32 {
        self.rho_reset
    }

    /// Resolves the constants for [`lif_mc_refrac_step`].
    pub fn dynamics(&self) -> LifMcRefracDynamics {
        LifMcRefracDynamics {
            mc: self.mc.dynamics(),
            rho_reset: counter_reset(&self.rho_reset_per_neuron, self.rho_reset),
            surrogate: self.mc.config.lif.surrogate,
        }
    }

    /// The resting state for a batch: `v = v_leak`, `i = 0`, not refractory.
    pub fn init_state(&self, batch: usize) -> LifMcRefracState {
        let neuron = self.mc.lif.init_state(batch);
        let device = neuron.v.device();
        RefractoryState::resting(neuron, batch, self.mc.config.lif.size, &device)
    }
}

impl PerNeuronRefractory for LifMcRefrac {
    fn refractory_parts(&mut self) -> RefractoryParts<'_> {
        RefractoryParts {
            size: self.mc.config.lif.size,
            dt_ms: self.mc.config.lif.dt_ms,
            rho_reset: &mut self.rho_reset_per_neuron,
        }
    }
    fn rho_reset_per_neuron(&self) -> Option<Tensor<1>> {
        self.rho_reset_per_neuron.as_ref().map(Param::val)
    }
}

impl StepLayer for LifMcRefrac {
    type State = LifMcRefracState;
    type Prepared = LifMcRefracDynamics;
    fn prepare(&self) -> LifMcRefracDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> LifMcRefracState {
        self.init_state(batch)
    }
    fn advance(
        &self,
        p: &LifMcRefracDynamics,
        x: Tensor<2>,
        s: LifMcRefracState,
    ) -> (Tensor<2>, LifMcRefracState) {
        lif_mc_refrac_step(x, s, p)
    }
}

impl Neuron for LifMcRefrac {
    const CONTEXTS: Contexts = crate::neuron_contexts!("LifMcRefrac");
    fn neurons(&self) -> usize {
        self.mc.config.lif.size
    }
}

//! Norse's multicompartment LIF (`lif_mc`).

use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron};
use super::lif::{Lif, LifConfig, LifDynamics, LifState, lif_step};
use crate::error::{SnnError, finite};
use crate::lift::StepLayer;

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
/// recurrent `lif_step` instead of before; `lif_mc_refrac_*` add a refractory counter and,
/// unlike the other `lif_mc` functions, add the coupling term without `dt` and the input after
/// the voltage update.
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

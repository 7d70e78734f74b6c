//! Norse's conductance-based LIF (`coba_lif`).

use super::layer::{per_neuron, per_neuron_values};
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron, NeuronState, check_state_tensors};
use super::leaky::Coefficient;
use crate::dynamics::euler_fraction;
use crate::error::{euler_time_constant, finite, nonzero, positive};
use crate::lift::StepLayer;
use crate::spike::spike_with;
use crate::surrogate::Surrogate;

/// Configuration of a [`CobaLif`] layer: LIF neurons driven by an excitatory conductance `g_e`
/// and an inhibitory one `g_i`, each pulling the membrane towards its reversal potential.
///
/// Equations, per step of `dt_ms` (forward Euler, Norse's `coba_lif_feed_forward_step` order),
/// input `x` per neuron (its positive part excites, its negative part inhibits):
///
/// ```text
/// g_e ← g_e + relu(x);          g_i ← g_i + relu(−x)
/// g_e ← g_e − dt/τ_e·g_e;       g_i ← g_i − dt/τ_i·g_i
/// v'  = v + dt/C_m·( g_l·(v_rest − v) + g_e·(E_e − v) + g_i·(E_i − v) )
/// z   = H(v' − v_th)            (strict)
/// v   ← (1 − z)·v' + z·v_reset  (gradient through z unless `detach_reset`, as Norse)
/// ```
///
/// Units: time in ms, potentials in mV, conductances in µS, capacitance in nF (so that
/// `dt/C_m · g·v` is in mV). The defaults are Norse's `CobaLIFParameters` read in those units:
/// `τ_e = τ_i = 5 ms`, `C_m = 0.2 nF`, `g_l = 0.25 µS` (Norse's `1/20 · 1/0.2`: a membrane time
/// constant `C_m/g_l = 0.8 ms`), `E_e = 60 mV`, `E_i = −100 mV`, `v_rest = −20 mV`,
/// `v_reset = −70 mV`, `v_th = −10 mV`.
///
/// Deliberate differences from Norse: the default step is 0.1 ms (Norse's default `dt = 0.001`
/// in the same time unit as its time constants is a 1 µs step; set `dt_ms = 0.001` for it), and
/// the resting state starts at `v_rest` (Norse's `CobaLIFCell` starts at `v = 0`, above its
/// default threshold, so every neuron fires at the first step). Norse's recurrent
/// `coba_lif_step` is not ported: in Norse 1.1.0 it overwrites the input's conductance jump with
/// the recurrent one, so its input is lost.
#[derive(Config, Debug)]
pub struct CobaLifConfig {
    /// Number of neurons.
    pub size: usize,
    /// Integration step in ms. Default 0.1.
    #[config(default = 0.1)]
    pub dt_ms: f64,
    /// Excitatory conductance time constant `τ_e`, ms. Default 5 (Norse `tau_syn_exc_inv = 1/5`).
    #[config(default = 5.0)]
    pub tau_syn_exc_ms: f64,
    /// Inhibitory conductance time constant `τ_i`, ms. Default 5 (Norse `tau_syn_inh_inv = 1/5`).
    #[config(default = 5.0)]
    pub tau_syn_inh_ms: f64,
    /// Membrane capacitance `C_m`, nF. Default 0.2 (Norse `c_m_inv = 1/0.2`).
    #[config(default = 0.2)]
    pub c_m: f64,
    /// Leak conductance `g_l`, µS. Default 0.25 (Norse `1/20 · 1/0.2`).
    #[config(default = 0.25)]
    pub g_l: f64,
    /// Excitatory reversal potential `E_e`, mV. Default 60.
    #[config(default = 60.0)]
    pub e_rev_e: f64,
    /// Inhibitory reversal potential `E_i`, mV. Default −100.
    #[config(default = "-100.0")]
    pub e_rev_i: f64,
    /// Resting potential `v_rest`, mV (also the initial membrane). Default −20.
    #[config(default = "-20.0")]
    pub v_rest: f64,
    /// Potential after a spike `v_reset`, mV. Default −70.
    #[config(default = "-70.0")]
    pub v_reset: f64,
    /// Threshold `v_th`, mV. Default −10.
    #[config(default = "-10.0")]
    pub v_thresh: f64,
    /// Surrogate derivative of the spike (its argument is `v − v_th` in mV). Default SuperSpike
    /// `alpha = 100` (Norse).
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Stop gradients through the reset (as Lif's `detach_reset`). Default false (Norse).
    #[config(default = false)]
    pub detach_reset: bool,
    /// Train `τ_e` and `τ_i` (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
}

impl CobaLifConfig {
    /// Norse's parametrization (`CobaLIFParameters(tau_syn_exc_inv, tau_syn_inh_inv, c_m_inv,
    /// ...)`, `dt`), read as [`crate::LifConfig::from_norse`] reads Norse: inverse time
    /// constants in 1/s and `dt` in s. So `τ_e = 1000/tau_syn_exc_inv` ms,
    /// `τ_i = 1000/tau_syn_inh_inv` ms, `dt_ms = 1000·dt` and `c_m = 1000/c_m_inv`, which keeps
    /// Norse's `dt·c_m_inv` as this layer's `dt_ms/c_m`. Norse's defaults (`0.2`, `0.2`, `5`,
    /// `dt = 0.001`) give 5 s conductances, a 1 ms step and an 800 ms membrane (`c_m/g_l`);
    /// `g_l`, the reversal potentials, `v_rest`, `v_reset` and `v_thresh` carry over unchanged
    /// (their defaults here are Norse's).
    ///
    /// Norse's `CobaLIFCell` starts at `v = 0`, above its default threshold; this layer's
    /// resting state starts at `v_rest`. Pass Norse's state to `forward_with` to start where
    /// Norse does.
    pub fn from_norse(
        size: usize,
        tau_syn_exc_inv: f64,
        tau_syn_inh_inv: f64,
        c_m_inv: f64,
        dt_s: f64,
    ) -> crate::Result<Self> {
        let exc = positive("tau_syn_exc_inv", tau_syn_exc_inv)?;
        let inh = positive("tau_syn_inh_inv", tau_syn_inh_inv)?;
        let c_m_inv = positive("c_m_inv", c_m_inv)?;
        let dt_s = positive("dt", dt_s)?;
        Ok(Self::new(size)
            .with_dt_ms(dt_s * 1e3)
            .with_tau_syn_exc_ms(1e3 / exc)
            .with_tau_syn_inh_ms(1e3 / inh)
            .with_c_m(1e3 / c_m_inv))
    }

    /// Checks every field; the error names the first bad one. Forward Euler needs `dt` no longer
    /// than each conductance time constant and than the membrane's `C_m/g_l`.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        let dt = positive("dt_ms", self.dt_ms)?;
        let c_m = positive("c_m", self.c_m)?;
        let g_l = positive("g_l", self.g_l)?;
        for (field, tau) in [
            ("tau_syn_exc_ms", self.tau_syn_exc_ms),
            ("tau_syn_inh_ms", self.tau_syn_inh_ms),
            ("c_m / g_l", c_m / g_l),
        ] {
            euler_time_constant(field, tau, dt)?;
        }
        for (field, value) in [
            ("e_rev_e", self.e_rev_e),
            ("e_rev_i", self.e_rev_i),
            ("v_rest", self.v_rest),
            ("v_reset", self.v_reset),
            ("v_thresh", self.v_thresh),
        ] {
            finite(field, value)?;
        }
        self.surrogate.validate()
    }

    /// Builds the layer on `device`, after [`CobaLifConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<CobaLif> {
        self.validate()?;
        Ok(CobaLif {
            tau_syn_exc_ms: per_neuron(self.size, self.tau_syn_exc_ms, self.learn_tau, device),
            tau_syn_inh_ms: per_neuron(self.size, self.tau_syn_inh_ms, self.learn_tau, device),
            constants: CobaLifConstants::default(),
            config: self.clone(),
        })
    }
}

/// A layer of conductance-based LIF neurons; see [`CobaLifConfig`].
#[derive(Module, Debug)]
pub struct CobaLif {
    /// Excitatory conductance time constant per neuron, ms, `[size]`.
    pub tau_syn_exc_ms: Param<Tensor<1>>,
    /// Inhibitory conductance time constant per neuron, ms, `[size]`.
    pub tau_syn_inh_ms: Param<Tensor<1>>,
    /// The constants given per neuron ([`CobaLif::with_per_neuron`]).
    constants: CobaLifConstants,
    #[module(skip)]
    config: CobaLifConfig,
}

/// The constants of a [`CobaLif`] given one value per neuron (saved with the layer, not
/// trained), each `[size]`; `None`: the config's value for every neuron.
#[derive(Module, Debug, Default)]
struct CobaLifConstants {
    c_m: Option<Param<Tensor<1>>>,
    g_l: Option<Param<Tensor<1>>>,
    e_rev_e: Option<Param<Tensor<1>>>,
    e_rev_i: Option<Param<Tensor<1>>>,
    v_rest: Option<Param<Tensor<1>>>,
    v_reset: Option<Param<Tensor<1>>>,
    v_thresh: Option<Param<Tensor<1>>>,
}

/// One value per neuron (`[size]`) for any of a [`CobaLif`]'s parameters, as Norse takes a
/// tensor for each of `CobaLIFParameters`; a `None` field keeps what the layer has. Units as in
/// [`CobaLifConfig`] (Norse's `c_m_inv` in 1/s is `1000 / c_m`, `tau_syn_*_inv` is
/// `1000 / tau_syn_*_ms`).
#[derive(Clone, Debug, Default)]
pub struct CobaLifPerNeuron {
    /// Excitatory conductance time constant, ms (trained with `learn_tau`).
    pub tau_syn_exc_ms: Option<Tensor<1>>,
    /// Inhibitory conductance time constant, ms (trained with `learn_tau`).
    pub tau_syn_inh_ms: Option<Tensor<1>>,
    /// Membrane capacitance.
    pub c_m: Option<Tensor<1>>,
    /// Leak conductance.
    pub g_l: Option<Tensor<1>>,
    /// Excitatory reversal potential.
    pub e_rev_e: Option<Tensor<1>>,
    /// Inhibitory reversal potential.
    pub e_rev_i: Option<Tensor<1>>,
    /// Resting potential (also the resting state's membrane).
    pub v_rest: Option<Tensor<1>>,
    /// Reset potential.
    pub v_reset: Option<Tensor<1>>,
    /// Threshold.
    pub v_thresh: Option<Tensor<1>>,
}

/// State of a [`CobaLif`] layer (Norse's `CobaLIFFeedForwardState`), every tensor
/// `[batch, size]`.
#[derive(Clone, Debug)]
pub struct CobaLifState {
    /// Membrane potential, mV.
    pub v: Tensor<2>,
    /// Excitatory conductance, µS.
    pub g_e: Tensor<2>,
    /// Inhibitory conductance, µS.
    pub g_i: Tensor<2>,
}

impl CobaLifState {
    /// Everything at 0 (Norse's `CobaLIFCell` start; the layer itself starts at `v_rest`).
    pub fn zeros(batch: usize, size: usize, device: &Device) -> Self {
        Self::resting(batch, size, 0.0, device)
    }

    /// `v = v_rest`, no conductance.
    pub fn resting(batch: usize, size: usize, v_rest: f64, device: &Device) -> Self {
        let g = Tensor::zeros([batch, size], device);
        Self {
            v: Tensor::full([batch, size], v_rest, device),
            g_e: g.clone(),
            g_i: g,
        }
    }
}

impl NeuronState for CobaLifState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors([&self.v, &self.g_e, &self.g_i], batch, size, context)
    }
}

/// The per-step constants of a [`CobaLif`] layer, resolved by [`CobaLif::dynamics`].
#[derive(Clone, Debug)]
pub struct CobaLifDynamics {
    /// `dt/τ_e`, `dt/τ_i`, `[1, size]`.
    k_exc: Tensor<2>,
    k_inh: Tensor<2>,
    /// `dt/C_m`, shared or per neuron, as each of the constants below.
    k_mem: Coefficient,
    g_l: Coefficient,
    e_rev_e: Coefficient,
    e_rev_i: Coefficient,
    v_rest: Coefficient,
    v_reset: Coefficient,
    v_thresh: Coefficient,
    surrogate: Surrogate,
    detach_reset: bool,
}

/// One conductance-based LIF step (Norse's `coba_lif_feed_forward_step`), `input` and state
/// `[batch, size]`. Returns the spikes and the new state. No shape checks.
pub fn coba_lif_step(
    input: Tensor<2>,
    state: CobaLifState,
    d: &CobaLifDynamics,
) -> (Tensor<2>, CobaLifState) {
    let CobaLifState { v, g_e, g_i } = state;
    let g_e = g_e + input.clone().clamp_min(0.0);
    let g_i = g_i + input.neg().clamp_min(0.0);
    let g_e = g_e.clone() - g_e * d.k_exc.clone();
    let g_i = g_i.clone() - g_i * d.k_inh.clone();
    let drive = d.g_l.times(d.v_rest.minus(v.clone()))
        + g_e.clone() * d.e_rev_e.minus(v.clone())
        + g_i.clone() * d.e_rev_i.minus(v.clone());
    let v = v + d.k_mem.times(drive);
    let z = spike_with(d.v_thresh.below(v.clone()), d.surrogate, false);
    let fired = if d.detach_reset {
        z.clone().detach()
    } else {
        z.clone()
    };
    let v = d.v_reset.reset(v, fired);
    (z, CobaLifState { v, g_e, g_i })
}

impl CobaLif {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &CobaLifConfig {
        &self.config
    }

    /// The resting state (`v = v_rest`, no conductance) on the layer's device.
    pub fn init_state(&self, batch: usize) -> CobaLifState {
        let device = self.tau_syn_exc_ms.val().device();
        let rest = CobaLifState::resting(batch, self.config.size, self.config.v_rest, &device);
        match &self.constants.v_rest {
            Some(v_rest) => CobaLifState {
                v: v_rest.val().unsqueeze::<2>().repeat_dim(0, batch),
                ..rest
            },
            None => rest,
        }
    }

    /// The same layer with the given parameters per neuron (see [`CobaLifPerNeuron`]), each
    /// checked as the config checks its scalar: `c_m` and `g_l` positive with `c_m/g_l ≥ dt`
    /// (forward Euler) for every neuron, time constants `≥ dt`, potentials finite.
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`; [`crate::SnnError::NotPositive`],
    /// [`crate::SnnError::UnstableEuler`] or [`crate::SnnError::NotFinite`] naming the field.
    pub fn with_per_neuron(mut self, p: CobaLifPerNeuron) -> crate::Result<Self> {
        let c = self.config.clone();
        let (n, dt, learn) = (c.size, c.dt_ms, c.learn_tau);
        let tau = |field: &'static str, values| {
            per_neuron_values(field, values, n, learn, |t| {
                euler_time_constant(field, t, dt)
            })
        };
        if let Some(values) = p.tau_syn_exc_ms {
            self.tau_syn_exc_ms = tau("tau_syn_exc_ms", values)?;
        }
        if let Some(values) = p.tau_syn_inh_ms {
            self.tau_syn_inh_ms = tau("tau_syn_inh_ms", values)?;
        }
        let constant = |field: &'static str, values: Option<Tensor<1>>, positive_only: bool| {
            values
                .map(|v| {
                    per_neuron_values(field, v, n, false, |x| {
                        if positive_only {
                            positive(field, x)
                        } else {
                            finite(field, x)
                        }
                    })
                })
                .transpose()
        };
        let k = &mut self.constants;
        let given = [
            (&mut k.c_m, constant("c_m", p.c_m, true)?),
            (&mut k.g_l, constant("g_l", p.g_l, true)?),
            (&mut k.e_rev_e, constant("e_rev_e", p.e_rev_e, false)?),
            (&mut k.e_rev_i, constant("e_rev_i", p.e_rev_i, false)?),
            (&mut k.v_rest, constant("v_rest", p.v_rest, false)?),
            (&mut k.v_reset, constant("v_reset", p.v_reset, false)?),
            (&mut k.v_thresh, constant("v_thresh", p.v_thresh, false)?),
        ];
        for (slot, value) in given {
            if value.is_some() {
                *slot = value;
            }
        }
        // the membrane's time constant c_m/g_l, per neuron, must be at least dt
        let host = |p: &Option<Param<Tensor<1>>>, shared: f64| match p {
            Some(p) => p.val().into_data().convert::<f64>().iter::<f64>().collect(),
            None => vec![shared; n],
        };
        let (c_m, g_l) = (host(&k.c_m, c.c_m), host(&k.g_l, c.g_l));
        for (c_m, g_l) in c_m.iter().zip(&g_l) {
            euler_time_constant("c_m / g_l", c_m / g_l, dt)?;
        }
        Ok(self)
    }

    /// Resolves the decay factors for [`coba_lif_step`].
    pub fn dynamics(&self) -> CobaLifDynamics {
        let c = &self.config;
        let k = |tau: &Param<Tensor<1>>| euler_fraction(tau.val(), c.dt_ms).unsqueeze::<2>();
        let constant = |p: &Option<Param<Tensor<1>>>, shared: f64| {
            Coefficient::of(p.as_ref().map(Param::val), shared)
        };
        let p = &self.constants;
        // dt/C_m: in f64 for the shared value, as before; per neuron on the device
        let k_mem = match &p.c_m {
            Some(c_m) => {
                Coefficient::PerNeuron(c_m.val().recip().mul_scalar(c.dt_ms).unsqueeze::<2>())
            }
            None => Coefficient::Shared((c.dt_ms / c.c_m) as f32),
        };
        CobaLifDynamics {
            k_exc: k(&self.tau_syn_exc_ms),
            k_inh: k(&self.tau_syn_inh_ms),
            k_mem,
            g_l: constant(&p.g_l, c.g_l),
            e_rev_e: constant(&p.e_rev_e, c.e_rev_e),
            e_rev_i: constant(&p.e_rev_i, c.e_rev_i),
            v_rest: constant(&p.v_rest, c.v_rest),
            v_reset: constant(&p.v_reset, c.v_reset),
            v_thresh: constant(&p.v_thresh, c.v_thresh),
            surrogate: c.surrogate,
            detach_reset: c.detach_reset,
        }
    }
}

impl StepLayer for CobaLif {
    type State = CobaLifState;
    type Prepared = CobaLifDynamics;
    fn prepare(&self) -> CobaLifDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> CobaLifState {
        self.init_state(batch)
    }
    fn advance(
        &self,
        p: &CobaLifDynamics,
        x: Tensor<2>,
        s: CobaLifState,
    ) -> (Tensor<2>, CobaLifState) {
        coba_lif_step(x, s, p)
    }
}

impl Neuron for CobaLif {
    const CONTEXTS: Contexts = crate::neuron_contexts!("CobaLif");
    fn neurons(&self) -> usize {
        self.config.size
    }
}

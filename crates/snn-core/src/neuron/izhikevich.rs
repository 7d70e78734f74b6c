//! Izhikevich's model with every Norse behaviour preset.
//!
//! Izhikevich (2004, "Which model to use for cortical spiking neurons?") reproduces twenty firing
//! patterns of cortical neurons with two variables and four parameters `a, b, c, d`:
//!
//! ```text
//! v' = 0.04 v² + 5 v + 140 − u + I        (v: membrane potential, mV)
//! u' = a (b v − u)                        (u: recovery variable, mV)
//! if v ≥ 30 mV:  v ← c,  u ← u + d
//! ```
//!
//! with time in ms. This module ports Norse 1.1.0's version
//! (`norse.torch.functional.izhikevich`): [`IzhikevichConfig`] / [`Izhikevich`] are
//! `IzhikevichParameters` / `module.Izhikevich`, [`izhikevich_step`] is
//! `izhikevich_feed_forward_step`, and [`IzhikevichPreset`] names Norse's twenty
//! `IzhikevichSpikingBehavior` presets, each with the input schedule of Izhikevich's figure
//! (as Norse's tests write it) in [`IzhikevichPreset::standard_input`].
//!
//! ```
//! use burn::prelude::*;
//! use snn_core::neuron::{IzhikevichConfig, IzhikevichPreset, Neuron};
//!
//! let device = Device::flex();
//! let preset = IzhikevichPreset::TonicSpiking;
//! let neuron = IzhikevichConfig::from_preset(1, preset).init(&device).unwrap();
//! let input = preset.standard_input();                     // 400 steps, 14 mV/ms after 10 ms
//! let out = Neuron::forward(&neuron, input.tensor(&device)).unwrap();
//! let spikes = out.spikes.sum().into_scalar::<f32>();
//! assert!(spikes > 3.0);
//! ```

use burn::module::Param;
use burn::prelude::*;

use super::layer::{per_neuron, per_neuron_values};

use super::layer::{Contexts, Neuron, NeuronOutput, NeuronState, check_state_tensors};
use super::leaky::{Coefficient, Firing};
use crate::dynamics::{FiringSpec, Reset};
use crate::error::{finite, nonzero, positive};
use crate::lift::StepLayer;
use crate::surrogate::Surrogate;

mod presets;
pub use presets::{IzhikevichInput, IzhikevichPreset};

/// Configuration of an [`Izhikevich`] layer (Norse `IzhikevichParameters`).
///
/// Units: `v`, `u`, `c`, `d` and the threshold in mV; the input current `I` (like `bias`) in
/// mV/ms; `a` in 1/ms (Izhikevich's time base), `b` dimensionless, `sq` in 1/(mV·ms), `mn` in
/// 1/ms.
///
/// Per step, with the model step `h = tau_inv · dt` (see [`IzhikevichConfig::step_ms`]) and both
/// updates reading the **old** `v` and `u` (Norse's order):
///
/// ```text
/// v' = v + h·(sq·v² + mn·v + bias − u + I)
/// u' = u + h·a·(b·v − u)
/// z  = H(v' − v_th)                      (strict: H(0) = 0)
/// v  = (1 − z)·v' + z·c
/// u  = (1 − z)·u' + z·(u' + d)           (= u' + z·d)
/// ```
///
/// The reset uses the spike `z` itself (not detached, as Norse), so gradients flow through it
/// unless `detach_reset` is set.
///
/// **Time base.** Norse writes the equations as `τ·dv/dt = f(v, u, I)` with `τ = 1/tau_inv`, so
/// one step of `dt` advances Izhikevich's ms-based equations by `h = tau_inv·dt` ms:
/// `tau_inv = 1000 /s` runs them in real time, Norse's default `tau_inv = 250 /s` with
/// `dt = 1 ms` is Izhikevich's forward-Euler scheme with a 0.25 ms step. Norse's tests and
/// Izhikevich's figures read the time axis in model time (0.25 ms per step).
///
/// **Operation order** (for bit parity with Norse's float32 traces): torch folds the
/// Python-float constants in float64 (`tau_inv·dt` and `tau_inv·dt·a`), casts each once to f32,
/// and computes `sq·(v·v)`; [`Izhikevich::dynamics`] does the same. Other orders drift by up to
/// 0.07 mV around spike upstrokes (spike times stay the same).
///
/// The defaults are Norse's with the tonic-spiking `a, b, c, d` and initial state; every Norse
/// preset is [`IzhikevichConfig::from_preset`].
#[derive(Config, Debug)]
pub struct IzhikevichConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// `a`: time scale of the recovery variable `u`, 1/ms (smaller is slower). Default 0.02.
    #[config(default = 0.02)]
    pub a: f64,
    /// `b`: sensitivity of `u` to the sub-threshold `v` (dimensionless). Default 0.2.
    #[config(default = 0.2)]
    pub b: f64,
    /// `c`: after-spike reset value of `v`, mV. Default −65.
    #[config(default = "-65.0")]
    pub c: f64,
    /// `d`: after-spike increment of `u`, mV. Default 6.
    #[config(default = 6.0)]
    pub d: f64,
    /// Coefficient of `v²`, 1/(mV·ms). Default 0.04 (Norse `sq`).
    #[config(default = 0.04)]
    pub sq: f64,
    /// Coefficient of `v`, 1/ms. Default 5 (Norse `mn`).
    #[config(default = 5.0)]
    pub mn: f64,
    /// Constant drive, mV/ms. Default 140 (Norse `bias`).
    #[config(default = 140.0)]
    pub bias: f64,
    /// Spike threshold (peak) `v_th`, mV. Default 30.
    #[config(default = 30.0)]
    pub v_th: f64,
    /// Norse's inverse time constant `tau_inv` in 1/s: the model step is
    /// `h = tau_inv · dt` ms (see the time base above). Default 250 (h = 0.25 ms at dt = 1 ms).
    #[config(default = 250.0)]
    pub tau_inv: f64,
    /// Length of a step in ms (Norse's `dt = 0.001` s). Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Initial membrane potential `v`, mV (the state [`Izhikevich::init_state`] starts from).
    /// Default −70 (tonic spiking).
    #[config(default = "-70.0")]
    pub v_init: f64,
    /// Initial recovery variable `u`, mV. Default −14 (`b · v_init` for tonic spiking).
    #[config(default = "-14.0")]
    pub u_init: f64,
    /// Stop gradients through the reset. Default false (Norse's feed-forward step).
    #[config(default = false)]
    pub detach_reset: bool,
    /// Surrogate derivative of the spike. Default SuperSpike with `alpha = 100` (Norse's
    /// `method="super"`; Norse 1.1.0's backward ignores alpha, which `alpha = 1` reproduces).
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Train the threshold (per neuron). Default false.
    #[config(default = false)]
    pub learn_threshold: bool,
}

impl IzhikevichConfig {
    /// A layer of `size` neurons with the parameters and initial state of a Norse preset.
    pub fn from_preset(size: usize, preset: IzhikevichPreset) -> Self {
        let p = preset.spec();
        Self {
            a: p.a,
            b: p.b,
            c: p.c,
            d: p.d,
            mn: p.mn,
            bias: p.bias,
            tau_inv: p.tau_inv,
            v_init: p.v0 as f64,
            u_init: preset.initial_u() as f64,
            ..Self::new(size)
        }
    }

    /// Norse's `IzhikevichParameters(a, b, c, d, tau_inv=...)` with Norse's `dt` in seconds.
    pub fn from_norse(
        size: usize,
        [a, b, c, d]: [f64; 4],
        tau_inv: f64,
        dt_s: f64,
    ) -> crate::Result<Self> {
        let dt_s = positive("dt", dt_s)?;
        Ok(Self {
            a,
            b,
            c,
            d,
            tau_inv,
            dt_ms: dt_s * 1e3,
            ..Self::new(size)
        })
    }

    /// The model step `h = tau_inv · dt` in ms (Izhikevich's time base), computed in f64 as
    /// Norse does (`250 · 0.001 = 0.25`).
    pub fn step_ms(&self) -> f64 {
        self.tau_inv * (self.dt_ms * 1e-3)
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        positive("tau_inv", self.tau_inv)?;
        positive("dt_ms", self.dt_ms)?;
        let finite_fields = [
            ("a", self.a),
            ("b", self.b),
            ("c", self.c),
            ("d", self.d),
            ("sq", self.sq),
            ("mn", self.mn),
            ("bias", self.bias),
            ("v_th", self.v_th),
            ("v_init", self.v_init),
            ("u_init", self.u_init),
        ];
        for (field, value) in finite_fields {
            finite(field, value)?;
        }
        self.surrogate.validate()
    }

    /// Builds the layer on `device`, after [`IzhikevichConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<Izhikevich> {
        self.validate()?;
        Ok(Izhikevich {
            threshold: per_neuron(self.size, self.v_th, self.learn_threshold, device),
            recovery: None,
            membrane: None,
            tau_inv: None,
            config: self.clone(),
        })
    }
}

/// A layer of Izhikevich neurons (Norse `Izhikevich` / `IzhikevichCell`); see
/// [`IzhikevichConfig`] for the equations. The neurons share the config's `a, b, c, d` unless
/// [`Izhikevich::with_recovery`] gives them one each (Izhikevich's 2003 network of randomly
/// varied cortical cells; Norse's `IzhikevichParameters` with tensors); the threshold is a
/// per-neuron parameter, trainable with `learn_threshold`.
#[derive(Module, Debug)]
pub struct Izhikevich {
    /// Spike threshold per neuron, mV, `[size]`.
    pub threshold: Param<Tensor<1>>,
    /// Per-neuron `a, b, c, d` as the rows of a `[4, size]` constant (not trained), when given
    /// by [`Izhikevich::with_recovery`]; `None`: the config's scalars.
    recovery: Option<Param<Tensor<2>>>,
    /// Per-neuron `sq, mn, bias` as the rows of a `[3, size]` constant (not trained), when
    /// given by [`Izhikevich::with_membrane`]; `None`: the config's scalars.
    membrane: Option<Param<Tensor<2>>>,
    /// Per-neuron `tau_inv`, 1/s, `[size]` (a constant), when given by
    /// [`Izhikevich::with_membrane`]; `None`: the config's.
    tau_inv: Option<Param<Tensor<1>>>,
    #[module(skip)]
    config: IzhikevichConfig,
}

/// Per-neuron values of Izhikevich's four parameters for [`Izhikevich::with_recovery`], each
/// `[size]`; a `None` keeps the config's value for every neuron.
#[derive(Clone, Debug, Default)]
pub struct IzhikevichRecovery {
    /// Time scale of `u`, 1/ms.
    pub a: Option<Tensor<1>>,
    /// Sensitivity of `u` to `v`.
    pub b: Option<Tensor<1>>,
    /// After-spike reset value of `v`, mV.
    pub c: Option<Tensor<1>>,
    /// After-spike increment of `u`, mV.
    pub d: Option<Tensor<1>>,
}

/// Per-neuron values of the membrane's constants and time base for
/// [`Izhikevich::with_membrane`], each `[size]`; a `None` keeps the config's value for every
/// neuron. Units as in [`IzhikevichConfig`].
#[derive(Clone, Debug, Default)]
pub struct IzhikevichMembrane {
    /// Coefficient of `v²`, 1/(mV·ms).
    pub sq: Option<Tensor<1>>,
    /// Coefficient of `v`, 1/ms.
    pub mn: Option<Tensor<1>>,
    /// Constant drive, mV/ms.
    pub bias: Option<Tensor<1>>,
    /// Norse's inverse time constant, 1/s (the model step is `tau_inv · dt`), positive.
    pub tau_inv: Option<Tensor<1>>,
}

/// State of an [`Izhikevich`] layer between steps (Norse `IzhikevichState`).
#[derive(Clone, Debug)]
pub struct IzhikevichState {
    /// Membrane potential `v`, mV, `[batch, size]`.
    pub v: Tensor<2>,
    /// Recovery variable `u`, mV, `[batch, size]`.
    pub u: Tensor<2>,
}

impl IzhikevichState {
    /// `v = 0`, `u = 0` (not a resting state of the model: use [`IzhikevichState::full`] or
    /// [`Izhikevich::init_state`] for a preset's initial state).
    pub fn zeros(batch: usize, size: usize, device: &Device) -> Self {
        Self::full(batch, size, 0.0, 0.0, device)
    }

    /// Every neuron at `v` and `u` (mV).
    pub fn full(batch: usize, size: usize, v: f32, u: f32, device: &Device) -> Self {
        Self {
            v: Tensor::full([batch, size], v, device),
            u: Tensor::full([batch, size], u, device),
        }
    }
}

impl NeuronState for IzhikevichState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors([&self.v, &self.u], batch, size, context)
    }
}

/// Output of [`Izhikevich`]'s [`Neuron::forward`].
pub type IzhikevichOutput<const D: usize> = NeuronOutput<IzhikevichState, D>;

impl<const D: usize> NeuronOutput<IzhikevichState, D> {
    /// `v` after every step (after its reset), if recording was asked for.
    pub fn v(&self) -> Option<Tensor<D>> {
        self.traced(|s| s.v.clone())
    }

    /// `u` after every step (after its reset), if recording was asked for.
    pub fn u(&self) -> Option<Tensor<D>> {
        self.traced(|s| s.u.clone())
    }
}

/// The per-step constants of an [`Izhikevich`] layer, resolved by [`Izhikevich::dynamics`]: each
/// product of config constants folded in f64 and cast to f32 once, as torch does.
#[derive(Clone, Debug)]
pub struct IzhikevichDynamics {
    /// `h = tau_inv·dt`, folded in f64, or per neuron.
    h: Coefficient,
    /// `h·a`, folded in f64 (torch's `tau_inv * dt * a`), or per neuron.
    h_a: Coefficient,
    sq: Coefficient,
    mn: Coefficient,
    bias: Coefficient,
    b: Coefficient,
    d: Coefficient,
    detach_reset: bool,
    /// Threshold crossing and the reset of `v` to `c`.
    firing: Firing,
}

/// One Izhikevich step, state in and state out (Norse's `izhikevich_feed_forward_step`):
/// `input` is the current `I` (mV/ms), `[batch, size]`. Returns the spikes and the new state.
///
/// Operation order as torch evaluates Norse's expression:
/// `v + h·((((sq·(v·v) + mn·v) + bias) − u) + I)` and `u + (h·a)·(b·v − u)`.
pub fn izhikevich_step(
    input: Tensor<2>,
    state: IzhikevichState,
    dynamics: &IzhikevichDynamics,
) -> (Tensor<2>, IzhikevichState) {
    let p = dynamics;
    let IzhikevichState { v, u } = state;
    let recovered = u.clone() + p.h_a.times(p.b.times(v.clone()) - u.clone());
    let (z, v) = p.firing.step(v, |v| {
        let drive = p
            .bias
            .plus(p.sq.times(v.clone() * v.clone()) + p.mn.times(v.clone()))
            - u
            + input;
        v + p.h.times(drive)
    });
    let fired = if p.detach_reset {
        z.clone().detach()
    } else {
        z.clone()
    };
    // (1 − z)·u' + z·(u' + d) is u' + z·d, bit for bit, for z ∈ {0, 1}, with the same gradient
    let u = recovered + p.d.times(fired);
    (z, IzhikevichState { v, u })
}

impl Izhikevich {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &IzhikevichConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The initial state `v = v_init`, `u = u_init` for a batch, on the layer's device.
    pub fn init_state(&self, batch: usize) -> IzhikevichState {
        let c = &self.config;
        IzhikevichState::full(
            batch,
            self.size(),
            c.v_init as f32,
            c.u_init as f32,
            &self.threshold.val().device(),
        )
    }

    /// The same layer with one `a`, `b`, `c` and/or `d` per neuron (each `[size]`, finite);
    /// the parameters not given keep the config's value. The values are constants of the
    /// layer, saved with it and not trained.
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`, [`crate::SnnError::NotFinite`].
    pub fn with_recovery(self, values: IzhikevichRecovery) -> crate::Result<Self> {
        let c = &self.config;
        let rows = [
            ("a", values.a, c.a),
            ("b", values.b, c.b),
            ("c", values.c, c.c),
            ("d", values.d, c.d),
        ];
        let recovery = self.constant_rows(rows, finite)?;
        Ok(Self {
            recovery: Some(recovery),
            ..self
        })
    }

    /// The same layer with one `sq`, `mn`, `bias` and/or `tau_inv` per neuron (each `[size]`;
    /// `tau_inv` positive, the others finite); the ones not given keep the config's value.
    /// Constants of the layer, saved with it and not trained.
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`, [`crate::SnnError::NotFinite`],
    /// [`crate::SnnError::NotPositive`] for `tau_inv`.
    pub fn with_membrane(mut self, values: IzhikevichMembrane) -> crate::Result<Self> {
        let c = &self.config;
        if let Some(tau_inv) = values.tau_inv {
            let check = |v| positive("tau_inv", v);
            self.tau_inv = Some(per_neuron_values("tau_inv", tau_inv, c.size, false, check)?);
        }
        if values.sq.is_some() || values.mn.is_some() || values.bias.is_some() {
            let rows = [
                ("sq", values.sq, c.sq),
                ("mn", values.mn, c.mn),
                ("bias", values.bias, c.bias),
            ];
            self.membrane = Some(self.constant_rows(rows, finite)?);
        }
        Ok(self)
    }

    /// `[R, size]` rows of per-neuron constants (the given values, checked, or the config's
    /// value for every neuron), as a constant parameter.
    fn constant_rows<const R: usize>(
        &self,
        rows: [(&'static str, Option<Tensor<1>>, f64); R],
        check: impl Fn(&'static str, f64) -> crate::Result<f64>,
    ) -> crate::Result<Param<Tensor<2>>> {
        let size = self.config.size;
        let device = self.threshold.val().device();
        let rows = rows
            .into_iter()
            .map(|(field, given, shared)| match given {
                Some(t) => per_neuron_values(field, t, size, false, |v| check(field, v))
                    .map(|p| p.val().to_device(&device)),
                None => Ok(Tensor::full([size], shared, &device)),
            })
            .collect::<crate::Result<Vec<_>>>()?;
        Ok(Param::from_tensor(Tensor::stack::<2>(rows, 0)).set_require_grad(false))
    }

    /// The per-neuron `a, b, c, d` (`[size]` each), whether given by
    /// [`Izhikevich::with_recovery`] or the config's values for every neuron.
    pub fn recovery(&self) -> [Tensor<1>; 4] {
        let c = &self.config;
        let device = self.threshold.val().device();
        match &self.recovery {
            Some(rows) => {
                let rows = rows.val();
                std::array::from_fn(|k| rows.clone().slice([k..k + 1, 0..c.size]).reshape([c.size]))
            }
            None => [c.a, c.b, c.c, c.d].map(|v| Tensor::full([c.size], v, &device)),
        }
    }

    /// Resolves the constants for [`izhikevich_step`].
    pub fn dynamics(&self) -> IzhikevichDynamics {
        let c = &self.config;
        let h = c.step_ms();
        // the model step: folded in f64 from the config's scalars (torch's Python floats), or
        // per neuron in f32 (torch's float32 tensor `tau_inv` times the Python float `dt`)
        let h_row = self.tau_inv.as_ref().map(|tau_inv| {
            tau_inv
                .val()
                .mul_scalar((c.dt_ms * 1e-3) as f32)
                .unsqueeze::<2>()
        });
        // `h·a`: per neuron in f32 as soon as either factor is a tensor
        let (h_a, b, v_reset, d) = match &self.recovery {
            None => (
                match &h_row {
                    Some(h) => Coefficient::PerNeuron(h.clone().mul_scalar(c.a as f32)),
                    None => Coefficient::Shared((h * c.a) as f32),
                },
                Coefficient::Shared(c.b as f32),
                None,
                Coefficient::Shared(c.d as f32),
            ),
            Some(_) => {
                let [a, b, reset, d] = self.recovery().map(|t| t.unsqueeze::<2>());
                (
                    Coefficient::PerNeuron(match &h_row {
                        Some(h) => h.clone() * a,
                        None => a.mul_scalar(h as f32),
                    }),
                    Coefficient::PerNeuron(b),
                    Some(reset),
                    Coefficient::PerNeuron(d),
                )
            }
        };
        let [sq, mn, bias] = match &self.membrane {
            Some(rows) => {
                let rows = rows.val();
                std::array::from_fn(|k| {
                    Coefficient::PerNeuron(rows.clone().slice([k..k + 1, 0..c.size]))
                })
            }
            None => [c.sq, c.mn, c.bias].map(|v| Coefficient::Shared(v as f32)),
        };
        IzhikevichDynamics {
            h: h_row.map_or(Coefficient::Shared(h as f32), Coefficient::PerNeuron),
            h_a,
            sq,
            mn,
            bias,
            b,
            d,
            detach_reset: c.detach_reset,
            firing: Firing {
                threshold: self.threshold.val().unsqueeze::<2>(),
                spec: FiringSpec {
                    reset: Reset::ToValue,
                    v_reset: c.c as f32,
                    surrogate: c.surrogate,
                    fire_at_threshold: false,
                    detach_reset: c.detach_reset,
                    reset_delay: false,
                    spike_from_previous: false,
                    refractory: None,
                },
                v_reset,
            },
        }
    }
}

/// Norse's tensor `v_th`.
impl super::PerNeuronThreshold for Izhikevich {
    fn threshold_parts(&mut self) -> (usize, bool, &mut Param<Tensor<1>>) {
        (
            self.config.size,
            self.config.learn_threshold,
            &mut self.threshold,
        )
    }
}

impl StepLayer for Izhikevich {
    type State = IzhikevichState;
    type Prepared = IzhikevichDynamics;
    fn prepare(&self) -> IzhikevichDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> IzhikevichState {
        self.init_state(batch)
    }
    fn advance(
        &self,
        p: &IzhikevichDynamics,
        x: Tensor<2>,
        s: IzhikevichState,
    ) -> (Tensor<2>, IzhikevichState) {
        izhikevich_step(x, s, p)
    }
}

impl Neuron for Izhikevich {
    const CONTEXTS: Contexts = crate::neuron_contexts!("Izhikevich");
    fn neurons(&self) -> usize {
        self.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One step by hand from v = −70, u = −14, I = 14 (tonic spiking, h = 0.25):
    /// v' = −70 + 0.25·(196 − 350 + 140 + 14 + 14) = −66.5, u' = −14 + 0.005·(−14 + 14) = −14.
    #[test]
    fn one_step_by_hand() {
        let device = Device::flex();
        let n = IzhikevichConfig::from_preset(1, IzhikevichPreset::TonicSpiking)
            .init(&device)
            .unwrap();
        let x = Tensor::<2>::from_floats([[14.0]], &device);
        let (z, s) = n.step(x, n.init_state(1)).unwrap();
        let get = |t: Tensor<2>| t.into_scalar::<f32>();
        assert_eq!(get(z), 0.0);
        assert_eq!(get(s.v), -66.5);
        assert_eq!(get(s.u), -14.0);
    }

    /// Above threshold: v = 20, u = 0, I = 0 gives v' = 20 + 0.25·(16 + 100 + 140) = 84 > 30,
    /// so z = 1, v = c = −65, u = 0 + 0.005·(0.2·20) + 6 = 6.02.
    #[test]
    fn spike_and_reset_by_hand() {
        let device = Device::flex();
        let n = IzhikevichConfig::new(1).init(&device).unwrap();
        let state = IzhikevichState::full(1, 1, 20.0, 0.0, &device);
        let (z, s) = n.step(Tensor::<2>::zeros([1, 1], &device), state).unwrap();
        let get = |t: Tensor<2>| t.into_scalar::<f32>();
        assert_eq!(get(z), 1.0);
        assert_eq!(get(s.v), -65.0);
        assert!((get(s.u) - 6.02).abs() < 1e-6);
    }

    #[test]
    fn every_name_round_trips() {
        for p in IzhikevichPreset::ALL {
            assert_eq!(IzhikevichPreset::from_name(p.name()), Ok(p));
            assert_eq!(p.norse_name().parse::<IzhikevichPreset>(), Ok(p));
        }
    }
}

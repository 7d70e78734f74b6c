//! Norse's adaptive exponential LIF (`lif_adex`). Its refractory variant is
//! [`crate::neuron::LifAdExRefrac`].

use super::layer::{per_neuron, per_neuron_values};
use burn::module::Param;
use burn::prelude::*;

use super::PerNeuronPotentials;
use super::layer::{Contexts, Neuron, NeuronState, check_state_tensors};
use super::leaky::Coefficient;
use super::lif_ex::{LifEx, LifExConfig, LifExDynamics};
use crate::error::{euler_time_constant, finite, positive};
use crate::lift::StepLayer;
use crate::surrogate::Surrogate;

/// Configuration of a [`LifAdEx`] layer: the adaptive exponential integrate-and-fire neuron
/// (Brette & Gerstner 2005) with a synaptic current, as Norse 1.1.0's
/// `lif_adex_feed_forward_step` (`LIFAdExParameters`, `LIFAdExCell`).
///
/// ```text
/// τ_mem dv/dt = (v_leak − v) + Δ_T·exp((v − v_th)/Δ_T) + i − a
/// τ_syn di/dt = −i
/// τ_ada da/dt = c·(v − v_leak) − a          c = adaptation_current
/// on a spike: v ← v_reset, a ← a + b        b = adaptation_spike
/// ```
///
/// Forward Euler with step `dt_ms`, in Norse's update order (every right-hand side uses the
/// state *before* the step; in particular `a` is driven by the old `v`):
///
/// ```text
/// i_jump = i + x
/// v_dec  = v + dt/τ_mem·((v_leak − v) + Δ_T·exp((v − v_th)/Δ_T) + i_jump − a)
/// i      ← i_jump − dt/τ_syn·i_jump
/// a_dec  = a + dt/τ_ada·(c·(v − v_leak) − a)
/// z      = H(v_dec − v_th)               (strict)
/// v      ← (1 − z)·v_dec + z·v_reset     (gradients flow through the reset)
/// a      ← a_dec + z·b
/// ```
///
/// Voltages and currents are dimensionless (Norse's defaults put the threshold at 1; its
/// docstring's nS / nA / mV units refer to its `bio_default`, which this port does not use).
/// The defaults are Norse's `LIFAdExParameters`: `c = 4`, `b = 0.02`, `Δ_T = 0.5`,
/// `τ_ada = 500 ms` (`tau_ada_inv = 2 /s`), `τ_mem = 10 ms`, `τ_syn = 5 ms`, `v_leak = 0`,
/// `v_th = 1`, `v_reset = 0`, SuperSpike, `dt = 1 ms`.
///
/// The layer starts at `v = v_leak`, `i = 0`, `a = 0`, as Norse's `LIFAdExCell` does.
#[derive(Config, Debug)]
pub struct LifAdExConfig {
    /// Number of neurons: the product of the input's feature dimensions.
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
    /// Adaptation time constant `τ_ada` in ms. Default 500 (Norse `tau_ada_inv = 2 /s`).
    #[config(default = 500.0)]
    pub tau_ada_ms: f64,
    /// Sub-threshold adaptation coupling `c` (adaptation per unit of `v − v_leak`). Default 4
    /// (Norse `adaptation_current`).
    #[config(default = 4.0)]
    pub adaptation_current: f64,
    /// Spike-triggered adaptation increment `b`. Default 0.02 (Norse `adaptation_spike`).
    #[config(default = 0.02)]
    pub adaptation_spike: f64,
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
    /// Train `τ_mem`, `τ_syn` and `τ_ada` (per neuron). Default false.
    #[config(default = false)]
    pub learn_tau: bool,
    /// Train the threshold (per neuron). Default false.
    #[config(default = false)]
    pub learn_threshold: bool,
}

impl LifAdExConfig {
    /// Norse's parametrization: inverse time constants in 1/s and `dt` in s
    /// (`LIFAdExParameters(tau_ada_inv, tau_syn_inv, tau_mem_inv)`, `dt = 0.001`).
    pub fn from_norse(
        size: usize,
        tau_mem_inv: f64,
        tau_syn_inv: f64,
        tau_ada_inv: f64,
        dt_s: f64,
    ) -> crate::Result<Self> {
        let ex = LifExConfig::from_norse(size, tau_mem_inv, Some(tau_syn_inv), dt_s)?;
        let tau_ada_inv = positive("tau_ada_inv", tau_ada_inv)?;
        Ok(Self::new(size)
            .with_dt_ms(ex.dt_ms)
            .with_tau_mem_ms(ex.tau_mem_ms)
            .with_tau_syn_ms(ex.tau_syn_ms.expect("a tau_syn_inv was given"))
            .with_tau_ada_ms(1e3 / tau_ada_inv))
    }

    /// The exponential-LIF part of the model (everything but the adaptation).
    pub fn lif_ex(&self) -> LifExConfig {
        LifExConfig {
            size: self.size,
            dt_ms: self.dt_ms,
            tau_mem_ms: self.tau_mem_ms,
            tau_syn_ms: Some(self.tau_syn_ms),
            delta_t: self.delta_t,
            threshold: self.threshold,
            v_leak: self.v_leak,
            v_reset: self.v_reset,
            surrogate: self.surrogate,
            learn_tau: self.learn_tau,
            learn_threshold: self.learn_threshold,
        }
    }

    /// Checks every field; the error names the first bad one: [`LifExConfig::validate`], then
    /// `τ_ada` positive with `dt_ms <= τ_ada` (forward Euler), `c` and `b` finite.
    pub fn validate(&self) -> crate::Result<()> {
        self.lif_ex().validate()?;
        euler_time_constant("tau_ada_ms", self.tau_ada_ms, self.dt_ms)?;
        finite("adaptation_current", self.adaptation_current)?;
        finite("adaptation_spike", self.adaptation_spike).map(drop)
    }

    /// Builds the layer on `device`, after [`LifAdExConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<LifAdEx> {
        self.validate()?;
        Ok(LifAdEx {
            lif_ex: self.lif_ex().init(device)?,
            tau_ada_ms: per_neuron(self.size, self.tau_ada_ms, self.learn_tau, device),
            adaptation_current_per_neuron: None,
            adaptation_spike_per_neuron: None,
            config: self.clone(),
        })
    }
}

/// A layer of adaptive exponential LIF neurons; see [`LifAdExConfig`] for the equations.
#[derive(Module, Debug)]
pub struct LifAdEx {
    /// The exponential-LIF part: `τ_mem`, `τ_syn` and the threshold per neuron.
    pub lif_ex: LifEx,
    /// Adaptation time constant per neuron, ms, `[size]`.
    pub tau_ada_ms: Param<Tensor<1>>,
    /// Subthreshold coupling `a` per neuron, `[size]` (a constant), when
    /// [`LifAdEx::with_adaptation_current`] gave one; `None`: the config's.
    adaptation_current_per_neuron: Option<Param<Tensor<1>>>,
    /// Spike-triggered increment `b` per neuron, `[size]` (a constant), when
    /// [`LifAdEx::with_adaptation_spike`] gave one; `None`: the config's.
    adaptation_spike_per_neuron: Option<Param<Tensor<1>>>,
    #[module(skip)]
    config: LifAdExConfig,
}

/// State of a [`LifAdEx`] layer between steps (Norse's `LIFAdExFeedForwardState`).
#[derive(Clone, Debug)]
pub struct LifAdExState {
    /// Membrane potential, `[batch, size]`.
    pub v: Tensor<2>,
    /// Synaptic current after its decay, `[batch, size]`.
    pub i: Tensor<2>,
    /// Adaptation current, `[batch, size]`.
    pub a: Tensor<2>,
}

impl LifAdExState {
    /// The all-zero state `v = i = a = 0` (Norse's functional default).
    pub fn zeros(batch: usize, size: usize, device: &Device) -> Self {
        let v = Tensor::zeros([batch, size], device);
        Self {
            i: v.clone(),
            a: v.clone(),
            v,
        }
    }
}

impl NeuronState for LifAdExState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors([&self.v, &self.i, &self.a], batch, size, context)
    }
}

/// The per-step constants of a [`LifAdEx`] layer, resolved once per sequence by
/// [`LifAdEx::dynamics`].
#[derive(Clone, Debug)]
pub struct LifAdExDynamics {
    lif_ex: LifExDynamics,
    /// `dt/τ_ada`, `[1, size]`.
    k_ada: Tensor<2>,
    /// `1/τ_ada` in 1/s (Norse's `tau_ada_inv`), `[1, size]`: what Norse's current encoder
    /// multiplies by in place of `dt/τ_ada` ([`lif_adex_current_encoder_step`]).
    tau_ada_inv_s: Tensor<2>,
    /// `a`, shared or per neuron.
    coupling: Coefficient,
    /// `b`, shared or per neuron.
    spike_increment: Coefficient,
    v_leak: Coefficient,
}

/// One adaptive-exponential-LIF step, state in and state out (Norse's
/// `lif_adex_feed_forward_step`): `input` and the state are `[batch, size]`; returns the spikes
/// and the new state.
///
/// No shape checks: [`LifAdEx::step`] is the checked entry point.
pub fn lif_adex_step(
    input: Tensor<2>,
    state: LifAdExState,
    dynamics: &LifAdExDynamics,
) -> (Tensor<2>, LifAdExState) {
    let d = dynamics;
    // the adaptation follows the membrane before this step's update, as in Norse
    let drive = d.coupling.times(d.v_leak.below(state.v.clone())) - state.a.clone();
    let a_decayed = state.a.clone() + drive * d.k_ada.clone();
    let (z, v, i) = d.lif_ex.step(input, state.v, Some(state.i), Some(state.a));
    let i = i.expect("AdEx's exponential LIF has a synaptic current (tau_syn_ms is not optional)");
    let a = a_decayed + d.spike_increment.times(z.clone());
    (z, LifAdExState { v, i, a })
}

/// One step of Norse 1.1's `lif_adex_current_encoder(input_current, voltage, adaptation, p, dt)`:
/// the current-free AdEx membrane driven by `current`, with Norse's encoder update of the
/// adaptation. `current`, `v` and `a` are `[batch, size]`; returns the spikes, `v` and `a`.
///
/// ```text
/// v ← v + dt/τ_mem·((v_leak − v) + Δ_T·exp((v − v_th)/Δ_T) + current − a)
/// z = H(v − v_th);   v ← (1 − z)·v + z·v_reset
/// a ← τ_ada⁻¹·(c·(v − v_leak) − a) + z·b           τ_ada⁻¹ in 1/s, no dt
/// ```
///
/// **Norse's quirk, reproduced for parity:** the encoder's adaptation update is not the model's
/// ([`lif_adex_step`]): it has no `dt` and no `a +`, and it reads the membrane after the reset.
/// With the defaults (`τ_ada⁻¹ = 2 /s`) it is `a ← −2a + 8v`, which doubles `|a|` every step;
/// every neuron then spikes on every other step within about 8 steps. The layer's own
/// [`LifAdEx::forward`](crate::neuron::Neuron::forward) is the stable model. Norse resets with
/// `v − z·(v − v_reset)`, equal to the form here up to rounding when `v_reset ≠ 0`. No shape
/// checks: [`crate::encode::lif_adex_current_encoder`] is the checked entry point.
pub fn lif_adex_current_encoder_step(
    current: Tensor<2>,
    v: Tensor<2>,
    a: Tensor<2>,
    dynamics: &LifAdExDynamics,
) -> (Tensor<2>, Tensor<2>, Tensor<2>) {
    let d = dynamics;
    // the synaptic current is not part of the encoder: with no carried current the drive is
    // the input itself, and the decayed current is dropped
    let (z, v, _) = d.lif_ex.step(current, v, None, Some(a.clone()));
    let drive = d.coupling.times(d.v_leak.below(v.clone())) - a;
    let a = drive * d.tau_ada_inv_s.clone() + d.spike_increment.times(z.clone());
    (z, v, a)
}

impl LifAdEx {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &LifAdExConfig {
        &self.config
    }

    /// The same layer with one adaptation time constant `τ_ada` per neuron, ms, `[size]`
    /// (Norse's tensor `tau_ada_inv` is `1000 / τ_ada`), each at least `dt` (forward Euler, as
    /// [`LifAdExConfig::validate`] asks of the scalar); it keeps the config's `learn_tau`.
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`, [`crate::SnnError::NotPositive`],
    /// [`crate::SnnError::UnstableEuler`].
    pub fn with_tau_ada_ms(self, tau_ada_ms: Tensor<1>) -> crate::Result<Self> {
        let c = &self.config;
        let dt_ms = c.dt_ms;
        let tau_ada_ms = per_neuron_values("tau_ada_ms", tau_ada_ms, c.size, c.learn_tau, |tau| {
            euler_time_constant("tau_ada_ms", tau, dt_ms)
        })?;
        Ok(Self { tau_ada_ms, ..self })
    }

    /// The same layer with one subthreshold coupling `a` per neuron, `[size]`, finite (Norse's
    /// tensor `adaptation_current`; a constant, not trained).
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`, [`crate::SnnError::NotFinite`].
    pub fn with_adaptation_current(mut self, a: Tensor<1>) -> crate::Result<Self> {
        self.adaptation_current_per_neuron = Some(self.constant("adaptation_current", a)?);
        Ok(self)
    }

    /// The same layer with one spike-triggered increment `b` per neuron, `[size]`, finite
    /// (Norse's tensor `adaptation_spike`; a constant, not trained).
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] unless `[size]`, [`crate::SnnError::NotFinite`].
    pub fn with_adaptation_spike(mut self, b: Tensor<1>) -> crate::Result<Self> {
        self.adaptation_spike_per_neuron = Some(self.constant("adaptation_spike", b)?);
        Ok(self)
    }

    /// The same layer with one sharpness `Δ_T` per neuron ([`LifEx::with_delta_t`]).
    ///
    /// # Errors
    /// Those of [`LifEx::with_delta_t`].
    pub fn with_delta_t(self, delta_t: Tensor<1>) -> crate::Result<Self> {
        Ok(Self {
            lif_ex: self.lif_ex.with_delta_t(delta_t)?,
            ..self
        })
    }

    /// A per-neuron constant of this layer, checked: `[size]` and finite.
    fn constant(&self, field: &'static str, values: Tensor<1>) -> crate::Result<Param<Tensor<1>>> {
        per_neuron_values(field, values, self.config.size, false, |v| finite(field, v))
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The initial state for a batch, on the layer's device: `v = v_leak`, `i = a = 0`.
    pub fn init_state(&self, batch: usize) -> LifAdExState {
        let ex = self.lif_ex.init_state(batch);
        LifAdExState {
            a: Tensor::zeros_like(&ex.v),
            i: Tensor::zeros_like(&ex.v),
            v: ex.v,
        }
    }

    /// Resolves the decay factors and threshold for [`lif_adex_step`].
    pub fn dynamics(&self) -> LifAdExDynamics {
        let c = &self.config;
        let per_neuron = |p: &Option<Param<Tensor<1>>>| p.as_ref().map(Param::val);
        LifAdExDynamics {
            lif_ex: self.lif_ex.dynamics(),
            // a learned τ below dt would make Euler overshoot: hold it at dt
            k_ada: self
                .tau_ada_ms
                .val()
                .unsqueeze::<2>()
                .clamp_min(c.dt_ms)
                .recip()
                .mul_scalar(c.dt_ms),
            tau_ada_inv_s: self
                .tau_ada_ms
                .val()
                .unsqueeze::<2>()
                .recip()
                .mul_scalar(1e3),
            coupling: Coefficient::of(
                per_neuron(&self.adaptation_current_per_neuron),
                c.adaptation_current,
            ),
            spike_increment: Coefficient::of(
                per_neuron(&self.adaptation_spike_per_neuron),
                c.adaptation_spike,
            ),
            v_leak: Coefficient::of(self.lif_ex.v_leak_per_neuron(), c.v_leak),
        }
    }
}

/// The exponential-LIF part's thresholds.
impl super::PerNeuronThreshold for LifAdEx {
    fn threshold_parts(&mut self) -> (usize, bool, &mut Param<Tensor<1>>) {
        self.lif_ex.threshold_parts()
    }
}

/// The exponential-LIF part's potentials (the adaptation reads the same `v_leak`).
impl super::PerNeuronPotentials for LifAdEx {
    fn potential_parts(&mut self) -> super::PotentialParts<'_> {
        self.lif_ex.potential_parts()
    }
    fn potentials(&self) -> (Option<&Param<Tensor<1>>>, Option<&Param<Tensor<1>>>) {
        self.lif_ex.potentials()
    }
}

/// The exponential-LIF part's `τ_mem` and `τ_syn`.
impl super::LeakyTimeConstants for LifAdEx {
    fn leaky_parts(&mut self) -> super::LeakyParts<'_> {
        self.lif_ex.leaky_parts()
    }
}

impl StepLayer for LifAdEx {
    type State = LifAdExState;
    type Prepared = LifAdExDynamics;
    fn prepare(&self) -> LifAdExDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> LifAdExState {
        self.init_state(batch)
    }
    fn advance(
        &self,
        p: &LifAdExDynamics,
        x: Tensor<2>,
        s: LifAdExState,
    ) -> (Tensor<2>, LifAdExState) {
        lif_adex_step(x, s, p)
    }
}

impl Neuron for LifAdEx {
    const CONTEXTS: Contexts = crate::neuron_contexts!("LifAdEx");
    fn neurons(&self) -> usize {
        self.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adaptation_by_hand() {
        // one neuron, strong input: it fires on the first step; a follows the old v, then jumps
        let device = Device::flex();
        let adex = LifAdExConfig::new(1).init(&device).unwrap();
        // the second input cancels the carried current (0.8·20): i_jump = 0
        let x = Tensor::<3>::from_floats([[[20.0], [-16.0], [0.0]]], &device);
        let out = Neuron::forward_with(&adex, x, None, true).unwrap();
        let z = out.spikes.clone().into_data().try_to_vec::<f32>().unwrap();
        let a = out.traced(|s| s.a.clone()).unwrap();
        let a = a.into_data().try_to_vec::<f32>().unwrap();
        // step 1: v_dec = 0.1·(0.5·e^-2 + 20) > 1 -> spike; a = 0 + 0.002·(4·0 − 0) + 0.02
        assert_eq!(z, vec![1.0, 0.0, 0.0]);
        let v = out.traced(|s| s.v.clone()).unwrap();
        let v = v.into_data().try_to_vec::<f32>().unwrap();
        assert!((a[0] - 0.02).abs() < 1e-7, "{a:?}");
        // step 2: old v = 0 (reset): a = 0.02 + 0.002·(0 − 0.02)
        let a2 = 0.02 - 0.002 * 0.02;
        assert!((a[1] - a2).abs() < 1e-7, "{a:?}");
        // v2 = 0.1·(0.5·e^-2 + 0 − 0.02); step 3: a = a2 + 0.002·(4·v2 − a2) (the old v)
        let v2 = 0.1 * (0.5 * (-2f32).exp() - 0.02);
        assert!((v[1] - v2).abs() < 1e-7, "{v:?}");
        assert!(
            (a[2] - (a2 + 0.002 * (4.0 * v2 - a2))).abs() < 1e-7,
            "{a:?}"
        );
    }

    #[test]
    fn no_adaptation_is_the_exponential_lif() {
        let device = Device::flex();
        let config = LifAdExConfig::new(3)
            .with_adaptation_current(0.0)
            .with_adaptation_spike(0.0);
        let adex = config.init(&device).unwrap();
        let ex = config.lif_ex().init(&device).unwrap();
        let x = Tensor::<3>::from_floats(
            [[
                [0.9, 2.0, 3.5],
                [0.7, 1.1, 0.0],
                [1.5, 0.0, 4.0],
                [0.2, 2.2, 1.0],
            ]],
            &device,
        );
        let want = Neuron::forward_with(&ex, x.clone(), None, true).unwrap();
        let got = Neuron::forward_with(&adex, x, None, true).unwrap();
        let vals = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(vals(got.spikes.clone()), vals(want.spikes.clone()));
        assert_eq!(
            vals(got.traced(|s| s.v.clone()).unwrap()),
            vals(want.traced(|s| s.v.clone()).unwrap())
        );
    }
}

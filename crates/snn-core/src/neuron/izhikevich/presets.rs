//! The data of Norse's twenty Izhikevich behaviour presets: each preset's parameters and initial
//! state, and the input schedule of Izhikevich's (2004) figure as Norse's tests write it. Kept
//! apart from the model ([`super`]), whose equations do not depend on them.

use std::fmt;
use std::str::FromStr;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::SnnError;

/// Norse's twenty named Izhikevich behaviours (`norse.torch.functional.izhikevich.*`), the
/// panels (A)–(T) of Izhikevich (2004), Fig. 1.
///
/// Each has Norse's parameters and initial state ([`IzhikevichConfig::from_preset`](super::IzhikevichConfig::from_preset)) and the
/// standard input schedule ([`IzhikevichPreset::standard_input`]). Names (serde, [`FromStr`],
/// [`IzhikevichPreset::from_name`]) are snake_case ([`IzhikevichPreset::name`]); Norse's own
/// spellings `class_1_exc`, `class_2_exc`, `dap` and `accomodation` are accepted too. An unknown
/// name is [`SnnError::UnknownName`] (through serde, its message).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum IzhikevichPreset {
    /// (A) tonic spiking: `a=0.02, b=0.2, c=−65, d=6`, v₀ = −70.
    TonicSpiking,
    /// (B) phasic spiking: `0.02, 0.25, −65, 6`, v₀ = −64.
    PhasicSpiking,
    /// (C) tonic bursting: `0.02, 0.2, −50, 2`, v₀ = −70.
    TonicBursting,
    /// (D) phasic bursting: `0.02, 0.25, −55, 0.05`, `tau_inv = 200` (h = 0.2 ms), v₀ = −64.
    PhasicBursting,
    /// (E) mixed mode: `0.02, 0.2, −55, 4`, v₀ = −70.
    MixedMode,
    /// (F) spike-frequency adaptation: `0.01, 0.2, −65, 8`, v₀ = −70.
    SpikeFrequencyAdaptation,
    /// (G) class 1 excitability: `0.02, −0.1, −55, 6`, `mn = 4.1, bias = 108`, v₀ = −60
    /// (Norse `class_1_exc`).
    Class1Excitability,
    /// (H) class 2 excitability: `0.2, 0.26, −65, 0`, v₀ = −64 (Norse `class_2_exc`).
    Class2Excitability,
    /// (I) spike latency: `0.02, 0.2, −65, 6`, v₀ = −70.
    SpikeLatency,
    /// (J) subthreshold oscillations: `0.05, 0.26, −60, 0`, v₀ = −62.
    SubthresholdOscillation,
    /// (K) resonator: `0.1, 0.26, −60, −1`, v₀ = −62.
    Resonator,
    /// (L) integrator: `0.02, −0.1, −55, 6`, `mn = 4.1, bias = 108`, v₀ = −60.
    Integrator,
    /// (M) rebound spike: `0.03, 0.25, −60, 4`, `tau_inv = 200`, v₀ = −64.
    ReboundSpike,
    /// (N) rebound burst: `0.03, 0.25, −52, 0`, `tau_inv = 200`, v₀ = −64.
    ReboundBurst,
    /// (O) threshold variability: `0.03, 0.25, −60, 4`, v₀ = −64.
    ThresholdVariability,
    /// (P) bistability: `0.1, 0.26, −60, 0`, v₀ = −61.
    Bistability,
    /// (Q) depolarizing after-potential: `1, 0.2, −60, −21`, `tau_inv = 100` (h = 0.1 ms),
    /// v₀ = −70 (Norse `dap`).
    DepolarizingAfterPotential,
    /// (R) accommodation: `0.02, 1, −55, 4`, `tau_inv = 500` (h = 0.5 ms), v₀ = −65, u₀ = −16
    /// (Norse `accomodation`). Izhikevich's figure uses `u' = a·b·(v + 65)` for this panel;
    /// Norse (and this port) keep the standard `u' = a·(b·v − u)`.
    Accommodation,
    /// (S) inhibition-induced spiking: `−0.02, −1, −60, 8`, v₀ = −63.8.
    InhibitionInducedSpiking,
    /// (T) inhibition-induced bursting: `−0.026, −1, −45, −2`, v₀ = −63.8.
    InhibitionInducedBursting,
}

/// Parameters and initial `v` of a preset, as Norse writes them (`mn`, `bias` default 5, 140;
/// `tau_inv` default 250).
pub(super) struct PresetSpec {
    pub(super) a: f64,
    pub(super) b: f64,
    pub(super) c: f64,
    pub(super) d: f64,
    pub(super) mn: f64,
    pub(super) bias: f64,
    pub(super) tau_inv: f64,
    pub(super) v0: f32,
}

const fn spec(a: f64, b: f64, c: f64, d: f64, tau_inv: f64, v0: f32) -> PresetSpec {
    PresetSpec {
        a,
        b,
        c,
        d,
        mn: 5.0,
        bias: 140.0,
        tau_inv,
        v0,
    }
}

/// The standard input current of a preset: one value per step.
#[derive(Clone, Debug, PartialEq)]
pub struct IzhikevichInput {
    /// The current `I` (mV/ms) of each step, evaluated at `t_k = k · schedule_step_ms`.
    pub currents: Vec<f32>,
    /// Number of steps (`currents.len()`).
    pub steps: usize,
    /// Spacing of the schedule's time grid in ms (the `np.arange` step of Norse's test, the
    /// `tau` of Izhikevich's figure). It equals the model step [`IzhikevichConfig::step_ms`](super::IzhikevichConfig::step_ms)
    /// except for Norse's phasic bursting (0.25 vs 0.2), spike latency (0.2 vs 0.25) and
    /// inhibition-induced spiking/bursting (0.5 vs 0.25), where Norse's test and preset disagree.
    pub schedule_step_ms: f64,
}

impl IzhikevichInput {
    /// The currents as a `[1, steps, 1]` sequence (one batch, one neuron).
    pub fn tensor(&self, device: &Device) -> Tensor<3> {
        Tensor::<1>::from_floats(self.currents.as_slice(), device).reshape([1, self.steps, 1])
    }

    /// The schedule time `t_k` of each step in ms.
    pub fn times_ms(&self) -> Vec<f64> {
        (0..self.steps)
            .map(|k| k as f64 * self.schedule_step_ms)
            .collect()
    }
}

impl IzhikevichPreset {
    /// Every preset, in the order of Izhikevich's figure (A)–(T).
    pub const ALL: [Self; 20] = [
        Self::TonicSpiking,
        Self::PhasicSpiking,
        Self::TonicBursting,
        Self::PhasicBursting,
        Self::MixedMode,
        Self::SpikeFrequencyAdaptation,
        Self::Class1Excitability,
        Self::Class2Excitability,
        Self::SpikeLatency,
        Self::SubthresholdOscillation,
        Self::Resonator,
        Self::Integrator,
        Self::ReboundSpike,
        Self::ReboundBurst,
        Self::ThresholdVariability,
        Self::Bistability,
        Self::DepolarizingAfterPotential,
        Self::Accommodation,
        Self::InhibitionInducedSpiking,
        Self::InhibitionInducedBursting,
    ];

    /// The preset's name (snake_case), as serde writes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::TonicSpiking => "tonic_spiking",
            Self::PhasicSpiking => "phasic_spiking",
            Self::TonicBursting => "tonic_bursting",
            Self::PhasicBursting => "phasic_bursting",
            Self::MixedMode => "mixed_mode",
            Self::SpikeFrequencyAdaptation => "spike_frequency_adaptation",
            Self::Class1Excitability => "class_1_excitability",
            Self::Class2Excitability => "class_2_excitability",
            Self::SpikeLatency => "spike_latency",
            Self::SubthresholdOscillation => "subthreshold_oscillation",
            Self::Resonator => "resonator",
            Self::Integrator => "integrator",
            Self::ReboundSpike => "rebound_spike",
            Self::ReboundBurst => "rebound_burst",
            Self::ThresholdVariability => "threshold_variability",
            Self::Bistability => "bistability",
            Self::DepolarizingAfterPotential => "depolarizing_after_potential",
            Self::Accommodation => "accommodation",
            Self::InhibitionInducedSpiking => "inhibition_induced_spiking",
            Self::InhibitionInducedBursting => "inhibition_induced_bursting",
        }
    }

    /// The name of Norse's preset object (`norse.torch.functional.izhikevich.<name>`).
    pub fn norse_name(self) -> &'static str {
        match self {
            Self::Class1Excitability => "class_1_exc",
            Self::Class2Excitability => "class_2_exc",
            Self::DepolarizingAfterPotential => "dap",
            Self::Accommodation => "accomodation",
            other => other.name(),
        }
    }

    /// The preset called `name` ([`IzhikevichPreset::name`] or Norse's spelling).
    pub fn from_name(name: &str) -> crate::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name() == name || p.norse_name() == name)
            .ok_or_else(|| SnnError::UnknownName {
                what: "Izhikevich preset",
                name: name.to_owned(),
                known: Self::ALL.map(Self::name).join(", "),
            })
    }

    pub(super) fn spec(self) -> PresetSpec {
        match self {
            Self::TonicSpiking => spec(0.02, 0.2, -65.0, 6.0, 250.0, -70.0),
            Self::PhasicSpiking => spec(0.02, 0.25, -65.0, 6.0, 250.0, -64.0),
            Self::TonicBursting => spec(0.02, 0.2, -50.0, 2.0, 250.0, -70.0),
            Self::PhasicBursting => spec(0.02, 0.25, -55.0, 0.05, 200.0, -64.0),
            Self::MixedMode => spec(0.02, 0.2, -55.0, 4.0, 250.0, -70.0),
            Self::SpikeFrequencyAdaptation => spec(0.01, 0.2, -65.0, 8.0, 250.0, -70.0),
            Self::Class1Excitability | Self::Integrator => PresetSpec {
                mn: 4.1,
                bias: 108.0,
                ..spec(0.02, -0.1, -55.0, 6.0, 250.0, -60.0)
            },
            Self::Class2Excitability => spec(0.2, 0.26, -65.0, 0.0, 250.0, -64.0),
            Self::SpikeLatency => spec(0.02, 0.2, -65.0, 6.0, 250.0, -70.0),
            Self::SubthresholdOscillation => spec(0.05, 0.26, -60.0, 0.0, 250.0, -62.0),
            Self::Resonator => spec(0.1, 0.26, -60.0, -1.0, 250.0, -62.0),
            Self::ReboundSpike => spec(0.03, 0.25, -60.0, 4.0, 200.0, -64.0),
            Self::ReboundBurst => spec(0.03, 0.25, -52.0, 0.0, 200.0, -64.0),
            Self::ThresholdVariability => spec(0.03, 0.25, -60.0, 4.0, 250.0, -64.0),
            Self::Bistability => spec(0.1, 0.26, -60.0, 0.0, 250.0, -61.0),
            Self::DepolarizingAfterPotential => spec(1.0, 0.2, -60.0, -21.0, 100.0, -70.0),
            Self::Accommodation => spec(0.02, 1.0, -55.0, 4.0, 500.0, -65.0),
            Self::InhibitionInducedSpiking => spec(-0.02, -1.0, -60.0, 8.0, 250.0, -63.8),
            Self::InhibitionInducedBursting => spec(-0.026, -1.0, -45.0, -2.0, 250.0, -63.8),
        }
    }

    /// Norse's initial `u`: `v₀·b` computed in f32 (torch multiplies the f32 tensor by the
    /// Python float cast to f32), except accommodation's `u₀ = −16`.
    pub(super) fn initial_u(self) -> f32 {
        match self {
            Self::Accommodation => -16.0,
            _ => {
                let p = self.spec();
                p.v0 * p.b as f32
            }
        }
    }

    /// The schedule's time grid: its step in ms and its standard number of steps (the length
    /// of Norse's `np.arange(0, T, step)`, or of Izhikevich's `0:tau:400` for accommodation).
    fn grid(self) -> (f64, usize) {
        match self {
            Self::TonicSpiking | Self::Integrator | Self::ThresholdVariability => (0.25, 400),
            Self::PhasicSpiking | Self::PhasicBursting | Self::SubthresholdOscillation => {
                (0.25, 800)
            }
            Self::TonicBursting => (0.25, 880),
            Self::MixedMode => (0.25, 640),
            Self::SpikeFrequencyAdaptation => (0.25, 340),
            Self::Class1Excitability | Self::Class2Excitability | Self::Bistability => (0.25, 1200),
            Self::SpikeLatency => (0.2, 500),
            Self::Resonator => (0.25, 1600),
            Self::ReboundSpike | Self::ReboundBurst => (0.2, 1000),
            Self::DepolarizingAfterPotential => (0.1, 500),
            Self::Accommodation => (0.5, 801),
            Self::InhibitionInducedSpiking | Self::InhibitionInducedBursting => (0.5, 700),
        }
    }

    /// The standard input current (mV/ms) at schedule time `t_ms`, as Norse's test (or, for
    /// accommodation, Izhikevich's figure code) computes it: in f64, then cast to f32 once.
    /// Times derived from the sequence end (`T1 = ts[-1]/10`...) use the standard length.
    pub fn input_current(self, t_ms: f64) -> f32 {
        let t = t_ms;
        let (grid, steps) = self.grid();
        let last = (steps - 1) as f64 * grid; // numpy's ts[-1]
        let after = |t1: f64, i: f64| if t > t1 { i } else { 0.0 };
        let pulse = |start: f64, width: f64| t > start && t < start + width;
        let current = match self {
            Self::TonicSpiking => after(last / 10.0, 14.0),
            Self::PhasicSpiking => after(20.0, 0.5),
            Self::TonicBursting => after(25.0, 15.0),
            Self::PhasicBursting => after(20.0, 0.6),
            Self::MixedMode => after(last / 10.0, 10.0),
            Self::SpikeFrequencyAdaptation => after(last / 10.0, 30.0),
            Self::Class1Excitability => after(30.0, 0.075 * (t - 30.0)),
            Self::Class2Excitability => {
                if t > 30.0 {
                    -0.5 + 0.015 * (t - 30.0)
                } else {
                    -0.5
                }
            }
            Self::SpikeLatency => {
                if pulse(last / 10.0, 3.0) {
                    7.4
                } else {
                    0.0
                }
            }
            Self::SubthresholdOscillation => {
                if pulse(last / 10.0, 5.0) {
                    2.0
                } else {
                    0.0
                }
            }
            Self::Resonator => {
                let t1 = last / 10.0;
                let t3 = 0.7 * last;
                if [t1, t1 + 20.0, t3, t3 + 40.0]
                    .into_iter()
                    .any(|s| pulse(s, 4.0))
                {
                    0.65
                } else {
                    0.0
                }
            }
            Self::Integrator => {
                let t1 = last / 11.0;
                let t3 = 0.7 * last;
                if [t1, t1 + 5.0, t3, t3 + 10.0]
                    .into_iter()
                    .any(|s| pulse(s, 2.0))
                {
                    9.0
                } else {
                    0.0
                }
            }
            Self::ReboundSpike | Self::ReboundBurst => {
                if pulse(20.0, 5.0) {
                    -15.0
                } else {
                    0.0
                }
            }
            Self::ThresholdVariability => {
                if pulse(10.0, 5.0) || pulse(80.0, 5.0) {
                    1.0
                } else if pulse(80.0 - 10.0, 5.0) {
                    -6.0
                } else {
                    0.0
                }
            }
            Self::Bistability => {
                if pulse(last / 8.0, 5.0) || pulse(216.0, 5.0) {
                    1.24
                } else {
                    0.24
                }
            }
            Self::DepolarizingAfterPotential => {
                if (t - 10.0).abs() < 1.0 {
                    20.0
                } else {
                    0.0
                }
            }
            Self::Accommodation => {
                if t < 200.0 {
                    t / 25.0
                } else if t < 300.0 {
                    0.0
                } else if t < 312.5 {
                    (t - 300.0) / 12.5 * 4.0
                } else {
                    0.0
                }
            }
            Self::InhibitionInducedSpiking | Self::InhibitionInducedBursting => {
                if !(50.0..=250.0).contains(&t) {
                    80.0
                } else {
                    75.0
                }
            }
        };
        current as f32
    }

    /// The standard input: the schedule of Izhikevich's figure as Norse's test writes it, over
    /// its standard number of steps.
    pub fn standard_input(self) -> IzhikevichInput {
        self.input_for_steps(self.grid().1)
    }

    /// The standard schedule evaluated for `steps` steps (`t_k = k · schedule_step_ms`, past the
    /// standard end too, as the golden files do).
    pub fn input_for_steps(self, steps: usize) -> IzhikevichInput {
        let grid = self.grid().0;
        IzhikevichInput {
            currents: (0..steps)
                .map(|k| self.input_current(k as f64 * grid))
                .collect(),
            steps,
            schedule_step_ms: grid,
        }
    }
}

impl fmt::Display for IzhikevichPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IzhikevichPreset {
    type Err = SnnError;
    fn from_str(name: &str) -> crate::Result<Self> {
        Self::from_name(name)
    }
}

impl TryFrom<String> for IzhikevichPreset {
    type Error = SnnError;
    fn try_from(name: String) -> crate::Result<Self> {
        Self::from_name(&name)
    }
}

impl From<IzhikevichPreset> for String {
    fn from(preset: IzhikevichPreset) -> String {
        preset.name().to_owned()
    }
}

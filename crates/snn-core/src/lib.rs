//! # snn-core
//!
//! Spiking neuron layers for [burn](https://burn.dev), with surrogate-gradient training that runs
//! unchanged on the CPU (ndarray, flex) and the GPU (wgpu, with the `gpu` feature).
//!
//! * [`spike()`]: the spike function, a custom autodiff op: exact Heaviside forward, a chosen
//!   [`Surrogate`] derivative backward.
//! * [`neuron`]: the neuron zoo as burn modules, each with a `Config`, a pure step function and
//!   the shared [`neuron::Neuron`] surface (checked `step`, multi-step `forward`, recorded state,
//!   one [`NeuronOutput`] for every model; `use snn_core::prelude::*`): [`Lif`], one family for
//!   every peer's LIF (constructors [`LifConfig::from_norse`], [`LifConfig::from_beta`],
//!   [`LifConfig::from_spikingjelly`], [`LifConfig::spyx`], [`LifConfig::mlgenn`]), [`Li`]
//!   (leaky integrator readout), [`Iaf`], and the exponential, adaptive, Izhikevich, LSNN and
//!   recurrent, conductance-based, multicompartment, Spyx (IF, LI, ALIF, CuBaLIF), mlGeNN ALIF
//!   and few-spike, spikelearn and Tempotron models.
//! * [`encode`]: data to spikes: Poisson, rate, latency, delta, population, current encoders,
//!   Gaussian tuning, and mlGeNN's input neurons.
//! * [`fused`]: the whole time loop of a LIF or LI layer as one op (CPU loops, CubeCL kernels);
//!   [`sparse`]: the event-driven input layer for spike inputs; [`optim::FusedAdamConfig`]:
//!   burn's Adam fused into one pass on the CPU backends.
//! * [`plasticity`] (STDP, Tsodyks-Markram), [`receptive_field`], [`logic`] (spike logic ops),
//!   [`lift`] (per-step layers over time, Norse's `Lift` and `SequentialState`).
//!
//! Time is in milliseconds, sequences are batch-major, spikes are `0.0`/`1.0` floats.
//!
//! The crate is built in floors that import downward only (`docs/architecture.md`): the ground
//! floor ([`dynamics`]: what a leaky neuron is and the one derivation of its coefficients;
//! [`surrogate`]: each formula once per target; [`host`]: CPU host access; [`error`]), the ops
//! above it ([`spike()`], [`fused`], [`sparse`], [`optim`]) and the models on top ([`neuron`],
//! [`encode`], [`plasticity`], [`receptive_field`], [`lift`], [`logic`]).
//!
//! ```
//! use burn::prelude::*;
//! use snn_core::prelude::*;
//! use snn_core::{LifConfig, LiConfig};
//!
//! # fn main() -> Result<(), snn_core::SnnError> {
//! let device = Device::flex();
//! let lif = LifConfig::new(3).init(&device)?;          // Norse defaults: tau_mem 10 ms, tau_syn 5 ms
//! let readout = LiConfig::new(3).init(&device)?;
//! let current = Tensor::<3>::ones([2, 20, 3], &device) * 4.0; // [batch, time, neurons]
//! let out = lif.forward(current)?;
//! assert_eq!(out.spikes.dims(), [2, 20, 3]);
//! assert!(out.spikes.clone().sum().into_scalar::<f32>() > 0.0);
//! let trace = readout.forward(out.spikes)?.v();         // membrane trace [2, 20, 3]
//! assert_eq!(trace.dims(), [2, 20, 3]);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod dynamics;
pub mod encode;
pub mod error;
pub mod fused;
pub mod host;
#[deprecated(note = "moved to `snn_core::encode`")]
pub mod input;
pub mod lift;
pub mod logic;
pub mod neuron;
pub mod optim;
pub mod plasticity;
pub mod receptive_field;
pub mod sparse;
pub mod spike;
pub mod surrogate;

pub use error::{Result, SnnError};

/// What a model user imports: `use snn_core::prelude::*;` brings the [`Neuron`] trait, whose
/// `forward` / `forward_with` / `step` every model is run by, and [`lift::StepLayer`].
pub mod prelude {
    pub use crate::lift::StepLayer;
    pub use crate::neuron::{
        LeakyTimeConstants, Neuron, NeuronOutput, NeuronState, PerNeuronPotentials,
        PerNeuronRefractory, PerNeuronThreshold,
    };
}
pub use neuron::{
    Discretization, Iaf, IafConfig, IafDynamics, IafOutput, IafState, LeakyState, Li, LiConfig,
    LiDynamics, LiOutput, LiState, Lif, LifConfig, LifDynamics, LifOutput, LifState, Neuron,
    NeuronOutput, Reset, iaf_step, li_step, lif_step,
};
pub use spike::{heaviside, spike, spike_with};
pub use surrogate::Surrogate;

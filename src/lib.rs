//! # burn-snn
//!
//! Spiking neural networks on [burn](https://burn.dev): neuron layers with surrogate-gradient
//! training that run unchanged on the CPU (ndarray, flex) and the GPU (wgpu, `gpu` feature).
//!
//! This facade re-exports the workspace's crates:
//! * [`core`] (`snn-core`): the spike op, surrogates, neuron layers;
//! * [`losses`] (`snn-losses`): readout losses and accuracy;
//! * [`train`] (`snn-train`): datasets, models and training with burn's `Learner`;
//! * [`nir`] (`snn-nir`): import and export in the Neuromorphic Intermediate Representation;
//! * [`graph`] (`snn-graph`): spikelearn's host-side network simulator with local learning.
//!
//! ```
//! use burn::prelude::*;
//! use burn_snn::core::prelude::*;
//! use burn_snn::core::{LifConfig, Surrogate};
//!
//! # fn main() -> Result<(), burn_snn::core::SnnError> {
//! let device = Device::flex();
//! // snnTorch's Leaky(beta=0.9) with a fast-sigmoid surrogate
//! let lif = LifConfig::from_beta(4, 0.9)?
//!     .with_surrogate(Surrogate::fast_sigmoid())
//!     .init(&device)?;
//! let spikes = lif.forward(Tensor::<3>::ones([1, 10, 4], &device) * 0.5)?.spikes;
//! // membrane 0.5, 0.95, 1.355 -> first spike at the third step
//! let first = spikes.slice([0..1, 0..3, 0..1]).into_data().try_to_vec::<f32>().unwrap();
//! assert_eq!(first, vec![0.0, 0.0, 1.0]);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub use snn_core as core;
pub use snn_graph as graph;
pub use snn_losses as losses;
pub use snn_nir as nir;
pub use snn_train as train;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The user guide's pages, compiled and run as doctests.
#[cfg(doctest)]
pub mod guide_doctests;

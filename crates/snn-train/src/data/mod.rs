//! Datasets and batchers.
//!
//! * [`digits`]: the shipped 8x8 digits (current, rate or latency encoding).
//! * [`events`]: event samples and their binning into `[batch, time, units]` tensors.
//! * [`shd`]: Spiking Heidelberg Digits / Spiking Speech Commands HDF5 files.
//! * [`nmnist`]: N-MNIST binary event files.
//! * [`randman`]: Zenke & Vogels' random-manifold spike-timing datasets.

use burn::prelude::*;

pub mod digits;
pub mod events;
pub mod nmnist;
pub mod randman;
pub mod shd;

pub use digits::{DigitBatch, DigitBatcher, DigitItem, DigitsDataset, Encoding};
pub use events::{
    BinConfig, EventBatch, EventBatcher, EventDataset, EventSample, TimeBins, TimeUnit, bin_events,
    bin_events_to_vec,
};
pub use nmnist::{read_nmnist, read_nmnist_folder, write_nmnist};
pub use randman::RandmanConfig;
pub use shd::{read_shd, write_shd};

/// What every batcher here gives and every classifier trains on: an input sequence and the
/// class of each sample.
#[derive(Clone, Debug)]
pub struct SpikeBatch {
    /// Input currents or spikes, `[batch, time, features]`.
    pub inputs: Tensor<3>,
    /// Class indices, `[batch]`.
    pub targets: Tensor<1, Int>,
}

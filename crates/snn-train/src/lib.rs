//! # snn-train
//!
//! Trains spiking networks with burn's `SupervisedTraining` + `Learner`. The same code trains on
//! the CPU (ndarray, flex) or the GPU (wgpu, with the `gpu` feature): the device decides.
//!
//! * [`data`]: the shipped 8x8 digits dataset and its batcher (constant-current encoding).
//! * [`model`]: [`SnnClassifier`], `Linear -> Lif -> Linear -> Li`.
//! * [`train()`]: the training run, with checkpoints and metrics, and the held-out accuracy.
//! * the `snn-train` binary: the command-line entry (`cargo run --release -p snn-train -- --help`).
//!
//! * [`plot`] (feature `plot`, on by default): spike rasters, traces, histograms and training
//!   curves as PNG or SVG; a training run writes `curves.png` and `curves.svg`.
//!
//! A short run on 200 of the shipped digits (the full run: `TrainConfig::digits()` on all of
//! them, 15 epochs):
//!
//! ```
//! use burn::prelude::*;
//! use snn_train::{DigitsDataset, TrainConfig, train};
//!
//! # fn main() -> Result<(), snn_train::TrainError> {
//! let data = DigitsDataset::load(DigitsDataset::shipped_path())?;
//! let few = DigitsDataset::from_items(data.items()[..200].to_vec());
//! let out = std::env::temp_dir().join(format!("snn-train-doc-{}", std::process::id()));
//! let report = train(&TrainConfig::digits().with_epochs(1).with_batch_size(50), &few, &Device::flex(), &out)?;
//! println!("test accuracy {:.1} %", 100.0 * report.test_accuracy);
//! assert_eq!(report.summary.epochs.len(), 1);
//! # std::fs::remove_dir_all(&out).ok();
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]
#![allow(deprecated)] // burn 0.22 deprecates the ndarray backend, which we support.

pub mod checkpoint;
pub mod data;
pub mod error;
pub mod loader;
pub mod metric;
pub mod model;
pub mod nir;
#[cfg(feature = "plot")]
pub mod plot;
pub mod renderer;
pub mod report;
pub mod train;

pub use data::{DigitBatch, DigitBatcher, DigitItem, DigitsDataset, Encoding, SpikeBatch};
pub use error::{Result, TrainError};
pub use model::{SnnClassifier, SnnClassifierConfig, SnnClassifierOutput};
pub use report::{EpochMetrics, RunSummary};
pub use train::{
    Resume, TrainConfig, TrainReport, evaluate, train, train_data_parallel, train_events,
    train_from, train_randman,
};

use burn::prelude::Device;

/// The backends a run can use, by name: `ndarray`, `flex`, `wgpu` (with the `gpu` feature).
pub fn device_by_name(name: &str) -> Result<Device> {
    match name {
        "ndarray" => Ok(Device::ndarray()),
        "flex" => Ok(Device::flex()),
        #[cfg(feature = "gpu")]
        "wgpu" => Ok(Device::wgpu(Default::default())),
        #[cfg(not(feature = "gpu"))]
        "wgpu" => Err(TrainError::Setting {
            field: "backend",
            message: "wgpu needs the `gpu` feature: cargo run --release -p snn-train --features gpu -- --backend wgpu".into(),
        }),
        other => Err(TrainError::Setting {
            field: "backend",
            message: format!("unknown backend `{other}` (ndarray, flex, wgpu)"),
        }),
    }
}

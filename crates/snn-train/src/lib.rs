//! # snn-train
//!
//! Trains spiking networks with burn's `SupervisedTraining` + `Learner`. The same code trains on
//! the CPU (ndarray, flex) or the GPU (wgpu, with the `gpu` feature): the device decides.
//!
//! * [`config`]: [`TrainConfig`], the datasets ([`DatasetKind`]) and how a run starts
//!   ([`Resume`], [`RunOptions`]).
//! * [`data`]: the datasets and their batchers: the 8x8 digits shipped inside the crate
//!   ([`DigitsDataset::shipped`]), randman, SHD/SSC, N-MNIST.
//! * [`model`]: [`SnnClassifier`], `Linear -> Lif -> Linear -> Li`.
//! * [`train()`]: the training run: train, validation and test splits, checkpoints, metrics,
//!   and the test accuracy, evaluated once after training.
//! * [`run_folder`]: the run folder a run owns, its manifest `run.json`, checked resumes.
//! * the `snn-train` binary (feature `cli`, on by default): the command-line entry
//!   (`cargo run --release -p snn-train -- --help`).
//!
//! * [`plot`] (feature `plot`, on by default): spike rasters, traces, histograms and training
//!   curves as PNG or SVG; a training run writes `curves.png` and `curves.svg`.
//!
//! A short run on 200 of the shipped digits (the full run: `TrainConfig::digits()` on all of
//! them, 30 epochs):
//!
//! ```
//! use burn::prelude::*;
//! use snn_train::{DigitsDataset, TrainConfig, train};
//!
//! # fn main() -> Result<(), snn_train::TrainError> {
//! let data = DigitsDataset::shipped();
//! let few = DigitsDataset::from_items(data.items()[..200].to_vec());
//! let out = std::env::temp_dir().join(format!("snn-train-doc-{}", std::process::id()));
//! # std::fs::remove_dir_all(&out).ok();
//! let report = train(&TrainConfig::digits().with_epochs(1).with_batch_size(50), &few, &Device::flex(), &out)?;
//! println!("test accuracy {:.1} %", 100.0 * report.test_accuracy);
//! assert_eq!(report.summary.epochs.len(), 1);
//! # std::fs::remove_dir_all(&out).ok();
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod error;
pub mod history;
pub mod loader;
pub mod metric;
pub mod model;
pub mod nir;
#[cfg(feature = "plot")]
pub mod plot;
pub mod renderer;
pub mod report;
pub mod run_folder;
pub mod train;

pub use config::{DatasetKind, LrSchedule, Resume, RunOptions, TrainConfig};
pub use data::{DigitBatch, DigitBatcher, DigitItem, DigitsDataset, Encoding, SpikeBatch};
pub use error::{Result, TrainError};
pub use history::EpochMetrics;
pub use model::{SnnClassifier, SnnClassifierConfig, SnnClassifierOutput};
pub use report::{RunSummary, SplitSizes};
pub use train::{
    TrainReport, evaluate, train, train_data_parallel, train_events, train_from, train_randman,
};

use burn::prelude::Device;

/// The backends a run can use, by name: `ndarray`, `flex`, `wgpu` (with the `gpu` feature).
pub fn device_by_name(name: &str) -> Result<Device> {
    match name {
        // burn 0.22 deprecates the ndarray backend, which we support (the default backend)
        #[allow(deprecated)]
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

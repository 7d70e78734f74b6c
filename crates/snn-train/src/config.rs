//! The settings of a training run and the datasets it can train on: the leaf every other module
//! of this crate imports (it imports none of them but [`crate::data`] and [`crate::error`]).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{DigitBatcher, Encoding, digits, nmnist, shd};
use crate::error::TrainError;
use crate::model::SnnClassifierConfig;

/// The datasets the `snn-train` tool trains on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetKind {
    /// The 8x8 handwritten digits shipped with the crate ([`crate::DigitsDataset`]).
    Digits,
    /// Zenke & Vogels' random manifolds, generated from the seed ([`crate::data::RandmanConfig`]).
    Randman,
    /// Spiking Heidelberg Digits (HDF5, 700 units, 20 classes).
    Shd,
    /// Spiking Speech Commands (HDF5, 700 units, 35 classes).
    Ssc,
    /// N-MNIST (folders of digit sub-folders of `.bin` files, 2312 units, 10 classes).
    Nmnist,
}

impl DatasetKind {
    /// Every kind, in the order the help text lists them.
    pub const ALL: [DatasetKind; 5] = [
        DatasetKind::Digits,
        DatasetKind::Randman,
        DatasetKind::Shd,
        DatasetKind::Ssc,
        DatasetKind::Nmnist,
    ];

    /// The name on the command line and in `run.json` (`digits`, `randman`, `shd`, `ssc`,
    /// `nmnist`).
    pub fn name(self) -> &'static str {
        match self {
            DatasetKind::Digits => "digits",
            DatasetKind::Randman => "randman",
            DatasetKind::Shd => "shd",
            DatasetKind::Ssc => "ssc",
            DatasetKind::Nmnist => "nmnist",
        }
    }

    /// The kind called `name`.
    pub fn from_name(name: &str) -> crate::Result<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
            .ok_or_else(|| TrainError::Setting {
                field: "dataset",
                message: format!(
                    "unknown dataset `{name}` ({})",
                    Self::ALL.map(Self::name).join(", ")
                ),
            })
    }

    /// Input units and classes of the file-based kinds and of the digits (randman's follow its
    /// [`crate::data::RandmanConfig`]).
    pub fn shape(self) -> Option<(usize, usize)> {
        match self {
            DatasetKind::Digits => Some((digits::PIXELS, digits::CLASSES)),
            DatasetKind::Randman => None,
            DatasetKind::Shd => Some((shd::SHD_UNITS, shd::SHD_CLASSES)),
            DatasetKind::Ssc => Some((shd::SHD_UNITS, shd::SSC_CLASSES)),
            DatasetKind::Nmnist => Some((nmnist::NMNIST_UNITS, nmnist::NMNIST_CLASSES)),
        }
    }
}

impl std::fmt::Display for DatasetKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How the learning rate moves over a run (burn's schedulers).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum LrSchedule {
    /// The learning rate stays at [`TrainConfig::learning_rate`].
    Constant,
    /// burn's cosine annealing from [`TrainConfig::learning_rate`] down to
    /// `final_fraction × learning_rate` over all the run's batches (PyTorch's
    /// `CosineAnnealingLR`, one step per batch).
    Cosine {
        /// The final learning rate as a fraction of the initial one, in `[0, 1]`.
        final_fraction: f64,
    },
}

/// Settings of a training run.
#[derive(Config, Debug)]
pub struct TrainConfig {
    /// The classifier (inputs 64, classes 10 for the digits).
    pub model: SnnClassifierConfig,
    /// Passes over the training split. Default 30.
    #[config(default = 30)]
    pub epochs: usize,
    /// Samples per batch. Default 32.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Adam's initial learning rate. Default 1e-2.
    #[config(default = 1e-2)]
    pub learning_rate: f64,
    /// How the learning rate moves over the run. Default: cosine annealing to 0.
    #[config(default = "LrSchedule::Cosine { final_fraction: 0.0 }")]
    pub lr_schedule: LrSchedule,
    /// Time steps each sample is presented for (the digits: each image as a constant current;
    /// the event datasets: time bins). Default 20.
    #[config(default = 20)]
    pub time_steps: usize,
    /// How images become input sequences. Default [`Encoding::Current`].
    #[config(default = "Encoding::Current")]
    pub encoding: Encoding,
    /// Fraction of each class held out as the test split, evaluated once after training.
    /// Default 0.2. Unused when the dataset comes with its own test files.
    #[config(default = 0.2)]
    pub test_fraction: f64,
    /// Fraction of the training data (what the test split leaves) held out for validation: the
    /// curves and every per-epoch choice are made on it, never on the test split. Default 0.1.
    #[config(default = 0.1)]
    pub valid_fraction: f64,
    /// Seed of the splits, the shuffles and the weights. Default 42.
    #[config(default = 42)]
    pub seed: u64,
}

impl TrainConfig {
    /// The default run on the shipped digits: 64 inputs, 10 classes.
    pub fn digits() -> Self {
        Self::new(SnnClassifierConfig::new(digits::PIXELS, digits::CLASSES))
    }

    /// The batcher this configuration presents the images with.
    pub fn batcher(&self) -> DigitBatcher {
        DigitBatcher {
            time_steps: self.time_steps,
            encoding: self.encoding,
        }
    }

    /// Checks every setting that does not depend on the data.
    pub fn validate(&self) -> crate::Result<()> {
        let positive = |field, value: usize| {
            if value == 0 {
                Err(TrainError::Setting {
                    field,
                    message: "must be at least 1".into(),
                })
            } else {
                Ok(())
            }
        };
        positive("epochs", self.epochs)?;
        positive("batch_size", self.batch_size)?;
        positive("time_steps", self.time_steps)?;
        positive("hidden", self.model.hidden)?;
        for &size in &self.model.more_hidden {
            positive("hidden", size)?;
        }
        // burn's cosine scheduler takes initial rates in (0, 1]
        if !(self.learning_rate.is_finite()
            && self.learning_rate > 0.0
            && self.learning_rate <= 1.0)
        {
            return Err(TrainError::Setting {
                field: "learning_rate",
                message: format!("must lie in (0, 1], got {}", self.learning_rate),
            });
        }
        if let LrSchedule::Cosine { final_fraction } = self.lr_schedule
            && !(0.0..=1.0).contains(&final_fraction)
        {
            return Err(TrainError::Setting {
                field: "lr_schedule",
                message: format!("final_fraction must lie in [0, 1], got {final_fraction}"),
            });
        }
        for (field, value) in [
            ("test_fraction", self.test_fraction),
            ("valid_fraction", self.valid_fraction),
        ] {
            if !(value > 0.0 && value < 1.0) {
                return Err(TrainError::Setting {
                    field,
                    message: format!("must lie in (0, 1), got {value}"),
                });
            }
        }
        Ok(())
    }

    /// Checks that the model fits a dataset of `inputs` features and `classes` classes.
    pub fn check_model(&self, dataset: &str, inputs: usize, classes: usize) -> crate::Result<()> {
        if self.model.inputs != inputs || self.model.classes != classes {
            return Err(TrainError::Setting {
                field: "model",
                message: format!(
                    "{dataset} needs inputs {inputs} and classes {classes}, got {} and {}",
                    self.model.inputs, self.model.classes
                ),
            });
        }
        Ok(())
    }

    /// The fields a resumed run may change: the run's length. Everything else (model, data,
    /// splits, seed, batches, learning rate and its schedule) must match the stored run, or the
    /// resumed run would train another network on other data than the checkpoint's.
    pub const RESUMABLE_CHANGES: [&'static str; 1] = ["epochs"];
}

/// Where a run starts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Resume {
    /// From freshly initialized weights.
    #[default]
    Fresh,
    /// From the checkpoint written after this epoch (counting from 1).
    FromEpoch(usize),
    /// From the newest complete checkpoint in the folder, or fresh if there is none.
    Latest,
}

/// How a run treats its output folder, with where it starts ([`Resume`]).
///
/// A run owns only what it writes. A fresh run refuses a folder that holds a previous run (unless
/// `overwrite`) or anything that is not a run's (unless `allow_foreign_files`); see
/// [`crate::run_folder`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Where the run starts. Default [`Resume::Fresh`].
    pub resume: Resume,
    /// Start over in a folder that holds a previous run: its files (those its manifest lists)
    /// are removed first. Default false.
    pub overwrite: bool,
    /// Write into a folder that also holds files that are not a run's; they are left alone
    /// (the run refuses if one of them is in the way of a file it writes). Default false.
    pub allow_foreign_files: bool,
    /// The file or folder the data were read from, recorded in `run.json` and compared on a
    /// resume (with the data's size and content hash). Default: none (the digits entry uses the
    /// dataset's own source).
    pub data_source: Option<std::path::PathBuf>,
    /// The dataset's name in `run.json` for [`crate::train_events`] (`shd`, `ssc`, `nmnist`).
    /// Default: `events`.
    pub dataset: Option<String>,
}

impl From<Resume> for RunOptions {
    fn from(resume: Resume) -> Self {
        Self {
            resume,
            ..Self::default()
        }
    }
}

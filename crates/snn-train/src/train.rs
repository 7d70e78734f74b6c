//! Training the digits classifier with burn's `SupervisedTraining` + `Learner`, on any device.

use std::path::PathBuf;
use std::time::Instant;

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{Learner, SupervisedTraining};

use crate::data::{DigitBatcher, DigitsDataset, digits};
use crate::error::TrainError;
use crate::model::{SnnClassifier, SnnClassifierConfig};
use crate::renderer::EpochRenderer;

/// Settings of a training run.
#[derive(Config, Debug)]
pub struct TrainConfig {
    /// The classifier (inputs 64, classes 10 for the digits).
    pub model: SnnClassifierConfig,
    /// Passes over the training split. Default 15.
    #[config(default = 15)]
    pub epochs: usize,
    /// Samples per batch. Default 32.
    #[config(default = 32)]
    pub batch_size: usize,
    /// Adam learning rate. Default 1e-2.
    #[config(default = 1e-2)]
    pub learning_rate: f64,
    /// Time steps each image is presented for. Default 10.
    #[config(default = 10)]
    pub time_steps: usize,
    /// Fraction of each class held out for testing. Default 0.2.
    #[config(default = 0.2)]
    pub test_fraction: f64,
    /// Seed of the split, the shuffles and the weights. Default 42.
    #[config(default = 42)]
    pub seed: u64,
}

impl TrainConfig {
    /// The default run on the shipped digits: 64 inputs, 10 classes.
    pub fn digits() -> Self {
        Self::new(SnnClassifierConfig::new(digits::PIXELS, digits::CLASSES))
    }

    fn validate(&self) -> crate::Result<()> {
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
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(TrainError::Setting {
                field: "learning_rate",
                message: format!("must be finite and > 0, got {}", self.learning_rate),
            });
        }
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(TrainError::Setting {
                field: "test_fraction",
                message: format!("must lie in (0, 1), got {}", self.test_fraction),
            });
        }
        if self.model.inputs != digits::PIXELS || self.model.classes != digits::CLASSES {
            return Err(TrainError::Setting {
                field: "model",
                message: format!(
                    "the digits need inputs {} and classes {}, got {} and {}",
                    digits::PIXELS,
                    digits::CLASSES,
                    self.model.inputs,
                    self.model.classes
                ),
            });
        }
        Ok(())
    }
}

/// The outcome of [`train`].
#[derive(Debug)]
pub struct TrainReport {
    /// The trained model (inference mode).
    pub model: SnnClassifier,
    /// Accuracy on the held-out split.
    pub test_accuracy: f64,
    /// Number of held-out samples.
    pub test_samples: usize,
    /// Wall time of the training, seconds.
    pub seconds: f64,
}

/// Trains the classifier on `data` (split by `config.test_fraction`) on `device` (plain or
/// autodiff: training uses `device.autodiff()`), writing burn's checkpoints, logs and the
/// config under `dir`, and evaluates it on the held-out split.
pub fn train(
    config: &TrainConfig,
    data: &DigitsDataset,
    device: &Device,
    dir: impl Into<PathBuf>,
) -> crate::Result<TrainReport> {
    config.validate()?;
    let dir = dir.into();
    std::fs::create_dir_all(&dir).map_err(|source| TrainError::Io {
        path: dir.clone(),
        source,
    })?;
    config
        .save(dir.join("config.json"))
        .map_err(|source| TrainError::Io {
            path: dir.join("config.json"),
            source,
        })?;
    let (train_set, test_set) = data.split(config.test_fraction, config.seed);
    let test_samples = test_set.len();
    let batcher = DigitBatcher {
        time_steps: config.time_steps,
    };
    let plain = device.clone().without_autodiff();
    plain.seed(config.seed);
    let dl_train = DataLoaderBuilder::new(batcher.clone())
        .batch_size(config.batch_size)
        .shuffle(config.seed)
        .num_workers(1)
        .set_device(plain.clone())
        .build(train_set);
    let dl_test = DataLoaderBuilder::new(batcher.clone())
        .batch_size(256)
        .num_workers(1)
        .set_device(plain.clone())
        .build(test_set.clone());
    let model = config.model.init(&plain.clone().autodiff())?;

    let started = Instant::now();
    let training = SupervisedTraining::new(dir.to_string_lossy().to_string(), dl_train, dl_test)
        .metrics((AccuracyMetric::new(), LossMetric::new()))
        .num_epochs(config.epochs)
        .renderer(Box::new(EpochRenderer::new()))
        .summary();
    let result = training.launch(Learner::new(
        model,
        AdamConfig::new().init(),
        config.learning_rate,
    ));
    if let Some(error) = result.error {
        return Err(TrainError::Learner(format!("{error:?}")));
    }
    let seconds = started.elapsed().as_secs_f64();
    let model = result.model;
    let test_accuracy = evaluate(&model, &test_set, &batcher, &plain)?;
    Ok(TrainReport {
        model,
        test_accuracy,
        test_samples,
        seconds,
    })
}

/// Accuracy of `model` on `data`.
pub fn evaluate(
    model: &SnnClassifier,
    data: &DigitsDataset,
    batcher: &DigitBatcher,
    device: &Device,
) -> crate::Result<f64> {
    use burn::data::dataloader::batcher::Batcher;
    let model = model.valid();
    let mut correct = 0.0;
    for chunk in data.items().chunks(256) {
        let batch = batcher.batch(chunk.to_vec(), device);
        let logits = model.logits(batch.inputs)?;
        correct += snn_losses::accuracy(logits, batch.targets) * chunk.len() as f64;
    }
    Ok(correct / data.len().max(1) as f64)
}

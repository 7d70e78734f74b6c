//! Training the digits classifier with burn's `SupervisedTraining` + `Learner`, on any device.

use std::path::PathBuf;
use std::time::Instant;

use std::io::IsTerminal;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;

use burn::prelude::*;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{ExecutionStrategy, Learner, MultiDeviceOptim, SupervisedTraining};
use snn_core::optim::FusedAdamConfig;

use crate::checkpoint;
use crate::data::{
    BinConfig, DigitBatcher, DigitsDataset, Encoding, EventBatcher, EventDataset, RandmanConfig,
    SpikeBatch, digits,
};
use crate::error::TrainError;
use crate::loader::EpochLoader;
use crate::metric::FiringRateMetric;
use crate::model::{HIDDEN, SnnClassifier, SnnClassifierConfig};
use crate::renderer::EpochRenderer;
use crate::report::{self, RunSummary};

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
    /// How images become input sequences. Default [`Encoding::Current`].
    #[config(default = "Encoding::Current")]
    pub encoding: Encoding,
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

    /// The batcher this configuration presents the images with.
    pub fn batcher(&self) -> DigitBatcher {
        DigitBatcher {
            time_steps: self.time_steps,
            encoding: self.encoding,
        }
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
        Ok(())
    }

    /// Checks that the model fits a dataset of `inputs` features and `classes` classes.
    fn check_model(&self, dataset: &str, inputs: usize, classes: usize) -> crate::Result<()> {
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
    /// Wall time of the training, seconds (this run only, after any resume).
    pub seconds: f64,
    /// The per-epoch metrics and the outcome, as written to `report.json`.
    pub summary: RunSummary,
}

/// Where a run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// From freshly initialized weights (any old checkpoints in the folder are ignored).
    Fresh,
    /// From the checkpoint written after this epoch (counting from 1).
    FromEpoch(usize),
    /// From the newest complete checkpoint in the folder, or fresh if there is none.
    Latest,
}

/// Trains the classifier on `data` (split by `config.test_fraction`) on `device` (plain or
/// autodiff: training uses `device.autodiff()`), writing burn's checkpoints, logs, the config and
/// `report.json` under `dir`, and evaluates it on the held-out split. See [`train_from`].
pub fn train(
    config: &TrainConfig,
    data: &DigitsDataset,
    device: &Device,
    dir: impl Into<PathBuf>,
) -> crate::Result<TrainReport> {
    train_from(config, data, device, dir, Resume::Fresh)
}

/// [`train`], starting as `resume` says. A resumed run replays exactly the batches the
/// uninterrupted run would have seen (see [`crate::loader::EpochLoader`]) and restores the model
/// and optimizer state, so it ends with the same weights.
///
/// The initial weights come from `config.seed` through a host generator, not from the device's
/// generator, so a seed gives the same network on every backend and in concurrent runs.
pub fn train_from(
    config: &TrainConfig,
    data: &DigitsDataset,
    device: &Device,
    dir: impl Into<PathBuf>,
    resume: Resume,
) -> crate::Result<TrainReport> {
    train_data_parallel(config, data, std::slice::from_ref(device), dir, resume)
}

/// [`train_from`] on several devices at once with burn's multi-device data parallelism
/// (`ExecutionStrategy::MultiDevice`, optimizer on the first device): each batch is split across
/// `devices` (e.g. every GPU of a machine: `Device::wgpu(0)`, `Device::wgpu(1)`...), their
/// gradients summed on the first. One device is plain single-device training.
pub fn train_data_parallel(
    config: &TrainConfig,
    data: &DigitsDataset,
    devices: &[Device],
    dir: impl Into<PathBuf>,
    resume: Resume,
) -> crate::Result<TrainReport> {
    config.validate()?;
    config.check_model("the digits", digits::PIXELS, digits::CLASSES)?;
    let (train_set, test_set) = data.split(config.test_fraction, config.seed);
    fit(
        config,
        (train_set.items().to_vec(), test_set.items().to_vec()),
        config.batcher(),
        devices,
        dir.into(),
        resume,
    )
}

/// Trains on Zenke & Vogels' random-manifold task generated by `randman` (its samples, shuffled
/// by the generator, split `test_fraction` for testing): the model needs `randman.nb_units`
/// inputs and `randman.nb_classes` classes. Otherwise as [`train_data_parallel`].
pub fn train_randman(
    config: &TrainConfig,
    randman: &RandmanConfig,
    devices: &[Device],
    dir: impl Into<PathBuf>,
    resume: Resume,
) -> crate::Result<TrainReport> {
    config.validate()?;
    config.check_model("randman", randman.nb_units, randman.nb_classes)?;
    let mut samples = randman.generate()?.into_samples();
    let n_test = ((samples.len() as f64) * config.test_fraction).round() as usize;
    let test = samples.split_off(samples.len() - n_test.min(samples.len()));
    fit(
        config,
        (samples, test),
        randman.batcher()?,
        devices,
        dir.into(),
        resume,
    )
}

/// Trains on binned event data: SHD or SSC files ([`crate::data::read_shd`]), N-MNIST folders
/// ([`crate::data::read_nmnist_folder`]) or samples of your own. `bins` turns each sample into
/// `[time_bins, units]` (the model needs `bins.units` inputs; the datasets were validated against
/// `config.model.classes` classes when built). Without a `test` set, `config.test_fraction` of
/// `train` is held out after a shuffle seeded by `config.seed`. Otherwise as
/// [`train_data_parallel`].
pub fn train_events(
    config: &TrainConfig,
    train: EventDataset,
    test: Option<EventDataset>,
    bins: BinConfig,
    devices: &[Device],
    dir: impl Into<PathBuf>,
    resume: Resume,
) -> crate::Result<TrainReport> {
    config.validate()?;
    config.check_model("the event data", bins.units, config.model.classes)?;
    let batcher = EventBatcher::new(bins)?;
    let mut samples = train.into_samples();
    let test = match test {
        Some(test) => test.into_samples(),
        None => {
            snn_core::encode::SpikeRng::new(config.seed).shuffle(&mut samples);
            let n_test = ((samples.len() as f64) * config.test_fraction).round() as usize;
            samples.split_off(samples.len() - n_test.min(samples.len()))
        }
    };
    if samples.is_empty() || test.is_empty() {
        return Err(TrainError::Setting {
            field: "data",
            message: format!(
                "training needs samples in both splits, got {} for training and {} for testing",
                samples.len(),
                test.len()
            ),
        });
    }
    fit(
        config,
        (samples, test),
        batcher,
        devices,
        dir.into(),
        resume,
    )
}

/// The training run shared by every dataset: `(train, test)` items batched by `batcher`.
fn fit<I, B>(
    config: &TrainConfig,
    (train_items, test_items): (Vec<I>, Vec<I>),
    batcher: B,
    devices: &[Device],
    dir: PathBuf,
    resume: Resume,
) -> crate::Result<TrainReport>
where
    I: Send + Sync + Clone + std::fmt::Debug + 'static,
    B: Batcher<I, SpikeBatch> + Clone + 'static,
{
    let Some(device) = devices.first() else {
        return Err(TrainError::Setting {
            field: "devices",
            message: "at least one device is needed".into(),
        });
    };
    let io = |path: &std::path::Path| {
        let path = path.to_path_buf();
        move |source| TrainError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let start = match resume {
        Resume::Fresh => 0,
        Resume::FromEpoch(epoch) => {
            checkpoint::check_complete(&dir, epoch)?;
            epoch
        }
        Resume::Latest => checkpoint::latest_complete(&dir).unwrap_or(0),
    };
    if start >= config.epochs {
        return Err(TrainError::Setting {
            field: "epochs",
            message: format!(
                "the run resumes after epoch {start}, so `epochs` must exceed it, got {}",
                config.epochs
            ),
        });
    }
    if start == 0 {
        // a fresh run must not mix its metric logs with an older run's
        for split in ["train", "valid"] {
            let logs = dir.join(split);
            if logs.exists() {
                std::fs::remove_dir_all(&logs).map_err(io(&logs))?;
            }
        }
    }
    config
        .save(dir.join("config.json"))
        .map_err(io(&dir.join("config.json")))?;
    let test_samples = test_items.len();
    let plain = device.clone().without_autodiff();
    let dl_train = EpochLoader::new(
        InMemDataset::new(train_items),
        batcher.clone(),
        config.batch_size,
        Some(config.seed),
        &plain,
    )
    .starting_epoch(start)
    .into_arc();
    let dl_test = EpochLoader::new(
        InMemDataset::new(test_items.clone()),
        batcher.clone(),
        256,
        None,
        &plain,
    )
    .into_arc();
    let model = config
        .model
        .init_seeded(&plain.clone().autodiff(), config.seed)?;

    let started = Instant::now();
    let mut training =
        SupervisedTraining::new(dir.to_string_lossy().to_string(), dl_train, dl_test)
            .metrics((AccuracyMetric::new(), LossMetric::new()))
            .metric_train_numeric(FiringRateMetric::new(HIDDEN))
            .metric_valid_numeric(FiringRateMetric::new(HIDDEN))
            .with_default_checkpointers()
            .num_epochs(config.epochs)
            .summary();
    if start > 0 {
        training = training.checkpoint(start);
    }
    if devices.len() > 1 {
        let devices = devices.iter().map(|d| d.clone().autodiff()).collect();
        training = training.with_training_strategy(
            ExecutionStrategy::multi(devices, MultiDeviceOptim::OptimMainDevice).into(),
        );
    }
    // burn's terminal dashboard when a person watches, one line per epoch in logs and pipes
    if !std::io::stdout().is_terminal() {
        training = training.renderer(Box::new(EpochRenderer::new()));
    }
    let result = training.launch(Learner::new(
        model,
        // burn's Adam, with the update fused into one pass on the CPU backends (bit-equal)
        FusedAdamConfig::new().init(),
        config.learning_rate,
    ));
    if let Some(error) = result.error {
        return Err(TrainError::Learner(format!("{error:?}")));
    }
    let seconds = started.elapsed().as_secs_f64();
    let model = result.model;
    let test_accuracy = evaluate(&model, &test_items, &batcher, &plain)?;
    let summary = RunSummary {
        backend: format!("{plain:?}"),
        resumed_after_epoch: start,
        epochs: report::epoch_metrics(&dir, config.epochs)?,
        test_accuracy,
        test_samples,
        seconds,
        config: config.clone(),
    };
    report::write_json(&dir.join("report.json"), &summary)?;
    // the loss and accuracy per epoch as figures beside the report
    #[cfg(feature = "plot")]
    for name in ["curves.png", "curves.svg"] {
        let options = crate::plot::PlotOptions::new("Training curves").with_size(900, 400);
        crate::plot::training_curves(dir.join(name), &summary.epochs, &options)?;
    }
    Ok(TrainReport {
        model,
        test_accuracy,
        test_samples,
        seconds,
        summary,
    })
}

/// Accuracy of `model` on `items` batched by `batcher` (e.g. `data.items()` and
/// [`TrainConfig::batcher`] for the digits).
pub fn evaluate<I: Clone>(
    model: &SnnClassifier,
    items: &[I],
    batcher: &impl Batcher<I, SpikeBatch>,
    device: &Device,
) -> crate::Result<f64> {
    let model = model.valid();
    let mut correct = 0.0;
    for chunk in items.chunks(256) {
        let batch = batcher.batch(chunk.to_vec(), device);
        let logits = model.logits(batch.inputs)?;
        correct += snn_losses::accuracy(logits, batch.targets) * chunk.len() as f64;
    }
    Ok(correct / items.len().max(1) as f64)
}

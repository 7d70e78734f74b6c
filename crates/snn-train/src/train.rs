//! Training the classifier with burn's `SupervisedTraining` + `Learner`, on any device.
//!
//! Every entry ([`train_from`] for the digits, [`train_randman`], [`train_events`]) splits its
//! data three ways — the weights learn from `train`, the per-epoch metrics and curves come from
//! `valid` (carved from the training data), and `test` is evaluated once, after the last epoch —
//! then runs the same steps: claim the output folder ([`RunFolder::claim`]), build the loaders,
//! run burn's learner, evaluate and report.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use burn::data::dataloader::DataLoader;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLrScheduler;
use burn::prelude::*;
use burn::train::metric::{AccuracyMetric, LossMetric};
use burn::train::{ExecutionStrategy, Learner, MultiDeviceOptim, SupervisedTraining};
use snn_core::encode::SpikeRng;
use snn_core::optim::FusedAdamConfig;

use crate::checkpoint;
use crate::config::{DatasetKind, LrSchedule, RunOptions, TrainConfig};
use crate::data::{
    BinConfig, DigitsDataset, EventBatcher, EventDataset, EventSample, RandmanConfig, SpikeBatch,
    digits,
};
use crate::error::TrainError;
use crate::loader::EpochLoader;
use crate::metric::FiringRateMetric;
use crate::model::{HIDDEN, SnnClassifier};
use crate::renderer::EpochRenderer;
use crate::report::{self, RunSummary, SplitSizes};
use crate::run_folder::{ContentHash, DataIdentity, RunFolder};

use crate::config::Resume;

/// The log files burn's metric logger writes per split and epoch for the metrics
/// [`run_learner`] registers (`Accuracy`, `Loss`, and the hidden layer's firing rate).
const METRIC_LOGS: [&str; 3] = ["Accuracy.log", "Loss.log", "Firing_rate_hidden.log"];

/// The outcome of a training run.
#[derive(Debug)]
pub struct TrainReport {
    /// The trained model (inference mode).
    pub model: SnnClassifier,
    /// Accuracy on the test split, evaluated once after the last epoch.
    pub test_accuracy: f64,
    /// Number of test samples.
    pub test_samples: usize,
    /// Wall time of the training, seconds (this run only, after any resume).
    pub seconds: f64,
    /// The per-epoch metrics and the outcome, as written to `report.json`.
    pub summary: RunSummary,
}

/// A run's three splits.
struct Splits<I> {
    train: Vec<I>,
    valid: Vec<I>,
    test: Vec<I>,
}

impl<I> Splits<I> {
    fn sizes(&self) -> SplitSizes {
        SplitSizes {
            train: self.train.len(),
            valid: self.valid.len(),
            test: self.test.len(),
        }
    }

    fn check_not_empty(&self) -> crate::Result<()> {
        if self.train.is_empty() || self.valid.is_empty() || self.test.is_empty() {
            return Err(TrainError::Setting {
                field: "data",
                message: format!(
                    "training needs samples in every split, got {} for training, {} for \
                     validation and {} for testing",
                    self.train.len(),
                    self.valid.len(),
                    self.test.len()
                ),
            });
        }
        Ok(())
    }
}

/// Moves the last `fraction` of `items` (rounded) into a new vector.
fn hold_out<I>(items: &mut Vec<I>, fraction: f64) -> Vec<I> {
    let n = ((items.len() as f64) * fraction).round() as usize;
    items.split_off(items.len() - n.min(items.len()))
}

/// Trains the classifier on the digits `data` into the fresh folder `dir` on `device` (plain or
/// autodiff: training uses `device.autodiff()`). See [`train_from`].
pub fn train(
    config: &TrainConfig,
    data: &DigitsDataset,
    device: &Device,
    dir: impl Into<PathBuf>,
) -> crate::Result<TrainReport> {
    train_from(config, data, device, dir, Resume::Fresh)
}

/// Trains on the digits `data`, starting as `options` say ([`Resume`] alone for the common
/// case). The data are split by class: `config.test_fraction` of each class for the test split,
/// then `config.valid_fraction` of the rest for validation, each by a shuffle seeded with
/// `config.seed`. A resumed run replays exactly the batches the uninterrupted run would have
/// seen (see [`crate::loader::EpochLoader`]) and restores the model and optimizer state, so it
/// ends with the same weights.
///
/// The initial weights come from `config.seed` through a host generator, not from the device's
/// generator, so a seed gives the same network on every backend and in concurrent runs.
pub fn train_from(
    config: &TrainConfig,
    data: &DigitsDataset,
    device: &Device,
    dir: impl Into<PathBuf>,
    options: impl Into<RunOptions>,
) -> crate::Result<TrainReport> {
    train_data_parallel(config, data, std::slice::from_ref(device), dir, options)
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
    options: impl Into<RunOptions>,
) -> crate::Result<TrainReport> {
    config.validate()?;
    config.check_model("the digits", digits::PIXELS, digits::CLASSES)?;
    let options = options.into();
    let (rest, test) = data.split(config.test_fraction, config.seed);
    let (train, valid) = rest.split(config.valid_fraction, config.seed.wrapping_add(1));
    let mut hash = ContentHash::default();
    for item in data.items() {
        for p in item.pixels {
            hash.bytes(&p.to_le_bytes());
        }
        hash.bytes(&[item.label]);
    }
    let identity = data_identity(
        DatasetKind::Digits.name(),
        &options,
        data.source(),
        data.items().len(),
        hash,
    );
    let splits = Splits {
        train: train.items().to_vec(),
        valid: valid.items().to_vec(),
        test: test.items().to_vec(),
    };
    fit(
        config,
        splits,
        config.batcher(),
        devices,
        dir.into(),
        options,
        identity,
    )
}

/// The identity of the data a run trains on: `options.data_source` if given, else `source`.
fn data_identity(
    dataset: &str,
    options: &RunOptions,
    source: Option<&Path>,
    samples: usize,
    hash: ContentHash,
) -> DataIdentity {
    DataIdentity::new(
        dataset,
        options.data_source.as_deref().or(source),
        samples,
        hash.finish(),
    )
}

/// Mixes event samples (times, units, labels) into `hash`.
fn hash_events(hash: &mut ContentHash, samples: &[EventSample]) {
    for sample in samples {
        hash.u64(sample.label as u64).u64(sample.times.len() as u64);
        for (&t, &u) in sample.times.iter().zip(&sample.units) {
            hash.u64(t.to_bits()).u64(u64::from(u));
        }
    }
}

/// Trains on Zenke & Vogels' random-manifold task generated by `randman` (its samples, shuffled
/// by the generator: the last `test_fraction` for testing, then the last `valid_fraction` of the
/// rest for validation): the model needs `randman.nb_units` inputs and `randman.nb_classes`
/// classes. Otherwise as [`train_data_parallel`].
pub fn train_randman(
    config: &TrainConfig,
    randman: &RandmanConfig,
    devices: &[Device],
    dir: impl Into<PathBuf>,
    options: impl Into<RunOptions>,
) -> crate::Result<TrainReport> {
    config.validate()?;
    config.check_model("randman", randman.nb_units, randman.nb_classes)?;
    let options = options.into();
    let mut train = randman.generate()?.into_samples();
    let mut hash = ContentHash::default();
    hash_events(&mut hash, &train);
    let identity = data_identity(
        DatasetKind::Randman.name(),
        &options,
        None,
        train.len(),
        hash,
    );
    let test = hold_out(&mut train, config.test_fraction);
    let valid = hold_out(&mut train, config.valid_fraction);
    fit(
        config,
        Splits { train, valid, test },
        randman.batcher()?,
        devices,
        dir.into(),
        options,
        identity,
    )
}

/// Trains on binned event data: SHD or SSC files ([`crate::data::read_shd`]), N-MNIST folders
/// ([`crate::data::read_nmnist_folder`]) or samples of your own. `bins` turns each sample into
/// `[time_bins, units]` (the model needs `bins.units` inputs; the datasets were validated against
/// `config.model.classes` classes when built). `train` is shuffled by `config.seed`; without a
/// `test` set, its last `config.test_fraction` is held out for testing; then the last
/// `config.valid_fraction` of the rest for validation. Otherwise as [`train_data_parallel`];
/// `options.data_source` names the files in `run.json`.
pub fn train_events(
    config: &TrainConfig,
    train: EventDataset,
    test: Option<EventDataset>,
    bins: BinConfig,
    devices: &[Device],
    dir: impl Into<PathBuf>,
    options: impl Into<RunOptions>,
) -> crate::Result<TrainReport> {
    config.validate()?;
    config.check_model("the event data", bins.units, config.model.classes)?;
    let options = options.into();
    let batcher = EventBatcher::new(bins)?;
    let mut train = train.into_samples();
    let test = test.map(EventDataset::into_samples);
    let mut hash = ContentHash::default();
    hash_events(&mut hash, &train);
    if let Some(test) = &test {
        // a separator, so that moving samples between the files changes the hash
        hash.u64(u64::MAX);
        hash_events(&mut hash, test);
    }
    let samples = train.len() + test.as_ref().map_or(0, Vec::len);
    let identity = data_identity(
        options.dataset.as_deref().unwrap_or("events"),
        &options,
        None,
        samples,
        hash,
    );
    SpikeRng::new(config.seed).shuffle(&mut train);
    let test = match test {
        Some(test) => test,
        None => hold_out(&mut train, config.test_fraction),
    };
    let valid = hold_out(&mut train, config.valid_fraction);
    fit(
        config,
        Splits { train, valid, test },
        batcher,
        devices,
        dir.into(),
        options,
        identity,
    )
}

/// The learning-rate schedule of `config` over `iterations` batches.
fn scheduler(config: &TrainConfig, iterations: usize) -> crate::Result<ModuleLrScheduler> {
    match config.lr_schedule {
        LrSchedule::Constant => Ok(config.learning_rate.into()),
        LrSchedule::Cosine { final_fraction } => {
            CosineAnnealingLrSchedulerConfig::new(config.learning_rate, iterations.max(1))
                .with_min_lr(config.learning_rate * final_fraction)
                .init()
                .map_err(|message| TrainError::Setting {
                    field: "lr_schedule",
                    message,
                })
        }
    }
}

/// The training run shared by every dataset: claims the folder, trains, evaluates, reports.
fn fit<I, B>(
    config: &TrainConfig,
    splits: Splits<I>,
    batcher: B,
    devices: &[Device],
    dir: PathBuf,
    options: RunOptions,
    identity: DataIdentity,
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
    splits.check_not_empty()?;
    let plain = device.clone().without_autodiff();
    // the model first: a resume checks the checkpoint against it before anything is written
    let model = config
        .model
        .init_seeded(&plain.clone().autodiff(), config.seed)?;
    let (folder, start) = RunFolder::claim(
        &dir,
        config,
        identity,
        &options,
        &format!("{plain:?}"),
        |epoch| checkpoint::check_against(&dir, epoch, &model),
    )?;
    // (the claim checked that a resumed run has epochs left)
    let folder = Arc::new(Mutex::new(folder));
    let sizes = splits.sizes();
    let test = splits.test;
    let started = Instant::now();
    let model = run_learner(
        config,
        (splits.train, splits.valid),
        batcher.clone(),
        devices,
        &folder,
        model,
        start,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let test_accuracy = evaluate(&model, &test, &batcher, &plain)?;
    // locked, not unwrapped: burn may still hold a data loader (with its epoch hook, a handle
    // to the folder), and the outputs must be written either way
    let mut folder = folder
        .lock()
        .map_err(|_| TrainError::Learner("the run folder's lock was poisoned".into()))?;
    let epochs = report::epoch_metrics(&folder.learner_dir(), config.epochs)?;
    let valid_accuracy = epochs
        .last()
        .and_then(|e| e.valid.get("Accuracy"))
        .map_or(f64::NAN, |&fraction| fraction);
    let summary = RunSummary {
        backend: format!("{plain:?}"),
        resumed_after_epoch: start,
        epochs,
        splits: sizes,
        valid_accuracy,
        test_accuracy,
        test_samples: sizes.test,
        seconds,
        config: config.clone(),
    };
    write_outputs(&mut folder, &model, &summary)?;
    Ok(TrainReport {
        model,
        test_accuracy,
        test_samples: sizes.test,
        seconds,
        summary,
    })
}

/// Runs burn's learner from epoch `start` on the train and validation splits; its checkpoints
/// and metric logs go to the run's learner folder, whose files the manifest lists after every
/// epoch.
fn run_learner<I, B>(
    config: &TrainConfig,
    (train, valid): (Vec<I>, Vec<I>),
    batcher: B,
    devices: &[Device],
    folder: &Arc<Mutex<RunFolder>>,
    model: SnnClassifier,
    start: usize,
) -> crate::Result<SnnClassifier>
where
    I: Send + Sync + Clone + std::fmt::Debug + 'static,
    B: Batcher<I, SpikeBatch> + Clone + 'static,
{
    let plain = devices[0].clone().without_autodiff();
    let iterations = config.epochs * train.len().div_ceil(config.batch_size);
    let learner_dir = folder
        .lock()
        .map_err(|_| TrainError::Learner("the run folder's lock was poisoned".into()))?
        .learner_dir();
    let on_epoch = {
        let folder = folder.clone();
        // lists what the run wrote so far and what the epoch will write; a failure here shows
        // again when the run finishes
        move |epoch: usize| {
            if let Ok(mut folder) = folder.lock() {
                let _ = folder.announce_epoch(epoch + 1, &METRIC_LOGS);
            }
        }
    };
    let dl_train = EpochLoader::new(
        InMemDataset::new(train),
        batcher.clone(),
        config.batch_size,
        Some(config.seed),
        &plain,
    )
    .starting_epoch(start)
    .on_epoch(on_epoch)
    .into_arc();
    let dl_valid: Arc<dyn DataLoader<SpikeBatch>> =
        EpochLoader::new(InMemDataset::new(valid), batcher, 256, None, &plain).into_arc();
    let mut training = SupervisedTraining::new(learner_dir, dl_train, dl_valid)
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
        scheduler(config, iterations)?,
    ));
    if let Some(error) = result.error {
        return Err(TrainError::Learner(format!("{error:?}")));
    }
    Ok(result.model)
}

/// Writes the report, the model, the curves and the final manifest, each atomically.
fn write_outputs(
    folder: &mut RunFolder,
    model: &SnnClassifier,
    summary: &RunSummary,
) -> crate::Result<()> {
    use burn::module::Module;
    let root = folder.root().to_path_buf();
    folder.announce_outputs()?;
    report::write_json(&root.join("report.json"), summary)?;
    let model_path = root.join("model.bpk");
    report::write_atomically(&model_path, |partial| {
        model
            .clone()
            .save_file(partial)
            .map_err(|e| TrainError::Learner(format!("saving {}: {e:?}", model_path.display())))
    })?;
    // the loss and accuracy per epoch as figures beside the report
    #[cfg(feature = "plot")]
    for name in ["curves.png", "curves.svg"] {
        let options = crate::plot::PlotOptions::new("Training curves (train and validation)")
            .with_size(900, 400);
        report::write_atomically(&root.join(name), |partial| {
            Ok(crate::plot::training_curves(
                partial,
                &summary.epochs,
                &options,
            )?)
        })?;
    }
    folder.finish()
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

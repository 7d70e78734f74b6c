//! `snn-train`: trains a spiking classifier on the shipped 8x8 digits and reports its accuracy
//! on a held-out stratified 20 % split.
//!
//! Exit codes: 0 success, 2 a bad option or setting, 3 a dataset that cannot be read, 4 a
//! checkpoint that cannot be resumed from, 1 anything else (a write failure, a training error).

use std::process::ExitCode;

use snn_core::{Discretization, LifConfig};
use snn_losses::ClassificationLoss;
use snn_train::SnnClassifierConfig;
use snn_train::data::{
    BinConfig, EventDataset, RandmanConfig, nmnist, read_nmnist_folder, read_shd, shd,
};
use snn_train::{
    DigitsDataset, Encoding, Resume, TrainConfig, TrainError, device_by_name, train_events,
    train_from, train_randman,
};

const USAGE: &str = "\
usage: snn-train [options]
       snn-train nir (info FILE.nir | export ...)   NIR files: `snn-train nir --help`

Trains Linear(inputs->H) -> LIF -> Linear(H->classes) -> LI on a dataset and prints the
held-out accuracy: by default the 8x8 digits (datasets/digits), each image presented as a
constant input current.

options:
  --dataset NAME     digits (default); randman (Zenke & Vogels' random manifolds, generated:
                     10 classes, 20 units, 100 steps, 1000 samples a class, seeded by --seed);
                     shd or ssc (Spiking Heidelberg Digits / Speech Commands HDF5 files, 700
                     units, 20 / 35 classes, binned into --time-steps bins (default 100) over
                     1.4 s); nmnist (N-MNIST folders of digit sub-folders of .bin files, 2312
                     units, binned into --time-steps bins (default 30) over 300 ms). For every
                     dataset but digits the hidden LIF has tau_mem 20 ms, tau_syn 10 ms unless
                     --model is given. shd, ssc and nmnist need --data.
  --backend NAME     ndarray (default), flex, or wgpu (needs --features gpu)
  --epochs N         passes over the training split (default 15)
  --hidden H         hidden LIF neurons (default 128)
  --time-steps T     steps per image (default 10)
  --encoding NAME    current (default: pixels as constant currents), rate (Bernoulli spikes),
                     latency (one spike per pixel, brighter earlier)
  --model NAME       the hidden LIF layer: norse (default: tau_mem 10 ms, tau_syn 5 ms, reset to
                     0, SuperSpike), snntorch (Leaky, beta 0.95, subtractive reset, arctan),
                     spikingjelly (LIFNode, tau 2, hard reset, sigmoid surrogate)
  --batch-size B     (default 32)
  --lr X             Adam learning rate (default 0.01)
  --seed S           split, shuffle and weight seed (default 42)
  --loss NAME        max-membrane (default), integral-ce, count-ce, rate-ce, mse-count,
                     mse-spikerate, mse-membrane (snn_losses::ClassificationLoss, peer defaults)
  --data PATH        digits.csv.gz (default: the shipped file); for shd/ssc the training .h5
                     file, for nmnist the training folder (e.g. Train/)
  --test-data PATH   shd/ssc/nmnist: the test file or folder (default: hold out 20 % of --data)
  --out DIR          checkpoints, logs, config, report.json and model (default artifacts/<dataset>)
  --resume WHAT      latest (newest complete checkpoint in --out, or fresh if none), an epoch
                     number, or none (default: a fresh run)
  -h, --help         this text";

/// The `--dataset` names.
const DATASETS: [&str; 5] = ["digits", "randman", "shd", "ssc", "nmnist"];

struct Args {
    backend: String,
    dataset: String,
    model_given: bool,
    data_given: bool,
    time_steps_given: bool,
    test_data: Option<std::path::PathBuf>,
    resume: Resume,
    data: std::path::PathBuf,
    out: std::path::PathBuf,
    config: TrainConfig,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, TrainError> {
    let mut parsed = Args {
        backend: "ndarray".into(),
        dataset: "digits".into(),
        model_given: false,
        data_given: false,
        time_steps_given: false,
        test_data: None,
        resume: Resume::Fresh,
        data: DigitsDataset::shipped_path(),
        out: "artifacts/digits".into(),
        config: TrainConfig::digits(),
    };
    let bad = |field: &'static str, message: String| TrainError::Setting { field, message };
    let mut out_given = false;
    while let Some(flag) = args.next() {
        if flag == "-h" || flag == "--help" {
            return Ok(None);
        }
        let value = args
            .next()
            .ok_or_else(|| bad("arguments", format!("{flag} needs a value")))?;
        let number = |field: &'static str| {
            value
                .parse::<f64>()
                .map_err(|_| bad(field, format!("`{value}` is not a number")))
        };
        let count = |field: &'static str| {
            value
                .parse::<usize>()
                .map_err(|_| bad(field, format!("`{value}` is not a whole number")))
        };
        let c = parsed.config.clone();
        parsed.config = match flag.as_str() {
            "--backend" => {
                parsed.backend = value.clone();
                c
            }
            "--data" => {
                parsed.data = value.clone().into();
                parsed.data_given = true;
                c
            }
            "--test-data" => {
                parsed.test_data = Some(value.clone().into());
                c
            }
            "--out" => {
                parsed.out = value.clone().into();
                out_given = true;
                c
            }
            "--dataset" => {
                if !DATASETS.contains(&value.as_str()) {
                    return Err(bad(
                        "dataset",
                        format!("unknown dataset `{value}` ({})", DATASETS.join(", ")),
                    ));
                }
                parsed.dataset = value.clone();
                c
            }
            "--resume" => {
                parsed.resume = match value.as_str() {
                    "latest" => Resume::Latest,
                    "none" => Resume::Fresh,
                    _ => Resume::FromEpoch(count("resume")?),
                };
                c
            }
            "--encoding" => c.with_encoding(Encoding::from_name(&value)?),
            "--model" => {
                parsed.model_given = true;
                let lif = lif_by_name(&value)?;
                let model = c.model.clone().with_lif(lif);
                TrainConfig { model, ..c }
            }
            "--epochs" => c.with_epochs(count("epochs")?),
            "--hidden" => {
                let model = c.model.clone().with_hidden(count("hidden")?);
                TrainConfig { model, ..c }
            }
            "--time-steps" => {
                parsed.time_steps_given = true;
                c.with_time_steps(count("time_steps")?)
            }
            "--batch-size" => c.with_batch_size(count("batch_size")?),
            "--lr" => c.with_learning_rate(number("learning_rate")?),
            "--seed" => c.with_seed(count("seed")? as u64),
            "--loss" => {
                let model = c.model.clone().with_loss(loss_by_name(&value)?);
                TrainConfig { model, ..c }
            }
            other => {
                return Err(bad(
                    "arguments",
                    format!("unknown option `{other}`\n\n{USAGE}"),
                ));
            }
        };
    }
    if !out_given {
        parsed.out = std::path::Path::new("artifacts").join(&parsed.dataset);
    }
    Ok(Some(parsed))
}

/// The `--model` presets of the hidden layer (its size is set by `--hidden`).
fn lif_by_name(name: &str) -> Result<LifConfig, TrainError> {
    Ok(match name {
        "norse" => LifConfig::new(1),
        "snntorch" => LifConfig::from_beta(1, 0.95)?,
        "spikingjelly" => LifConfig::from_spikingjelly(1, 2.0, true, 1.0, Some(0.0)),
        other => {
            return Err(TrainError::Setting {
                field: "model",
                message: format!("unknown model `{other}` (norse, snntorch, spikingjelly)"),
            });
        }
    })
}

/// The `--loss` names, each with its peer's default parameters.
fn loss_by_name(name: &str) -> Result<ClassificationLoss, TrainError> {
    Ok(match name {
        "max-membrane" => ClassificationLoss::MaxMembraneCrossEntropy,
        "integral-ce" => ClassificationLoss::IntegralCrossEntropy { smoothing: 0.3 },
        "count-ce" => ClassificationLoss::CountCrossEntropy,
        "rate-ce" => ClassificationLoss::RateCrossEntropy,
        "mse-count" => ClassificationLoss::MseCount {
            correct_rate: 1.0,
            incorrect_rate: 0.0,
        },
        "mse-spikerate" => ClassificationLoss::MseSpikeRate {
            sparsity: 0.25,
            smoothing: 0.0,
        },
        "mse-membrane" => ClassificationLoss::MseMembrane {
            on_target: 1.0,
            off_target: 0.0,
        },
        other => {
            return Err(TrainError::Setting {
                field: "loss",
                message: format!("unknown loss `{other}`"),
            });
        }
    })
}

/// An event dataset read from `--data` (and `--test-data`), with its binning defaults.
struct EventData {
    train: EventDataset,
    test: Option<EventDataset>,
    units: usize,
    classes: usize,
    /// The binning window, in the files' time unit (s for SHD/SSC, µs for N-MNIST).
    max_time: f64,
    /// Time bins when `--time-steps` is not given.
    default_steps: usize,
}

impl EventData {
    fn load(args: &Args) -> Result<Self, TrainError> {
        if !args.data_given {
            return Err(TrainError::Setting {
                field: "data",
                message: format!(
                    "--dataset {} needs --data (the training file or folder)",
                    args.dataset
                ),
            });
        }
        let (units, classes, max_time, default_steps) = match args.dataset.as_str() {
            "shd" => (shd::SHD_UNITS, shd::SHD_CLASSES, 1.4, 100),
            "ssc" => (shd::SHD_UNITS, shd::SSC_CLASSES, 1.4, 100),
            _ => (nmnist::NMNIST_UNITS, nmnist::NMNIST_CLASSES, 300_000.0, 30),
        };
        let read = |path: &std::path::Path| -> Result<EventDataset, TrainError> {
            let samples = if args.dataset == "nmnist" {
                read_nmnist_folder(path)?
            } else {
                read_shd(path, classes)?
            };
            EventDataset::new(samples, units, classes)
        };
        Ok(Self {
            train: read(&args.data)?,
            test: args.test_data.as_deref().map(read).transpose()?,
            units,
            classes,
            max_time,
            default_steps,
        })
    }
}

/// A failure and the exit code it gets: where in the run it happened decides the code.
struct Failure(TrainError, u8);

/// Exit code 2: a bad option or setting.
fn setting(e: TrainError) -> Failure {
    Failure(e, 2)
}

fn run() -> Result<(), Failure> {
    let Some(args) = parse(std::env::args().skip(1)).map_err(setting)? else {
        println!("{USAGE}");
        return Ok(());
    };
    let device = device_by_name(&args.backend).map_err(setting)?;
    let devices = std::slice::from_ref(&device);
    // the paper's hidden neuron (Zenke & Vogels) for the spike-timing datasets: single input
    // spikes must be able to drive it
    let event_model = |model: SnnClassifierConfig| {
        if args.model_given {
            model
        } else {
            model.with_lif(
                LifConfig::new(1)
                    .with_tau_mem_ms(20.0)
                    .with_tau_syn_ms(Some(10.0))
                    .with_discretization(Discretization::ExactDecay),
            )
        }
    };
    let trained = match args.dataset.as_str() {
        "randman" => {
            let randman = RandmanConfig::new().with_seed(args.config.seed);
            let model = event_model(SnnClassifierConfig {
                inputs: randman.nb_units,
                classes: randman.nb_classes,
                ..args.config.model.clone()
            });
            let config = TrainConfig {
                model,
                ..args.config.clone()
            };
            println!(
                "training on {} (randman, {} epochs, {} hidden LIF neurons)",
                args.backend, config.epochs, config.model.hidden
            );
            train_randman(&config, &randman, devices, &args.out, args.resume)
        }
        "shd" | "ssc" | "nmnist" => {
            let events = EventData::load(&args).map_err(|e| match e {
                TrainError::Setting { .. } => Failure(e, 2),
                _ => Failure(e, 3),
            })?;
            let time_steps = if args.time_steps_given {
                args.config.time_steps
            } else {
                events.default_steps
            };
            let model = event_model(SnnClassifierConfig {
                inputs: events.units,
                classes: events.classes,
                ..args.config.model.clone()
            });
            let config = TrainConfig {
                model,
                ..args.config.clone().with_time_steps(time_steps)
            };
            let bins = BinConfig::count(time_steps, events.units)
                .with_max_time(events.max_time)
                .with_binary(true);
            println!(
                "training on {} ({}, {} training samples, {} epochs, {} hidden LIF neurons, {} \
                 time bins)",
                args.backend,
                args.dataset,
                events.train.samples().len(),
                config.epochs,
                config.model.hidden,
                time_steps
            );
            train_events(
                &config,
                events.train,
                events.test,
                bins,
                devices,
                &args.out,
                args.resume,
            )
        }
        _ => {
            let data = DigitsDataset::load(&args.data).map_err(|e| Failure(e, 3))?;
            println!(
                "training on {} ({} images, {} epochs, {} hidden LIF neurons, {} steps per image)",
                args.backend,
                data.items().len(),
                args.config.epochs,
                args.config.model.hidden,
                args.config.time_steps
            );
            train_from(&args.config, &data, &device, &args.out, args.resume)
        }
    };
    let report = trained.map_err(|e| {
        let code = match e {
            TrainError::Setting { .. } | TrainError::Snn(_) => 2,
            TrainError::Checkpoint { .. } => 4,
            _ => 1,
        };
        Failure(e, code)
    })?;
    let model_path = args.out.join("model");
    use burn::module::Module;
    report.model.clone().save_file(&model_path).map_err(|e| {
        let message = format!("saving {}: {e:?}", model_path.display());
        Failure(TrainError::Learner(message), 1)
    })?;
    println!(
        "test accuracy: {:.2} % on {} held-out samples ({:.1} s of training; model in {}.bpk, \
         metrics per epoch in {})",
        100.0 * report.test_accuracy,
        report.test_samples,
        report.seconds,
        model_path.display(),
        args.out.join("report.json").display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "nir") {
        return ExitCode::from(snn_nir::cli::run(
            &args[1..],
            snn_train::nir::export_request,
        ));
    }
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(e, code)) => {
            eprintln!("error: {e}");
            ExitCode::from(code)
        }
    }
}

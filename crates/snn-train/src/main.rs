//! `snn-train`: trains a spiking classifier (by default on the 8x8 digits shipped inside the
//! crate) and reports its accuracy on a test split evaluated once after training; `snn-train nir`
//! reads and writes NIR files.
//!
//! Exit codes: 0 success, 2 a bad option or setting (or an output folder that is not the run's
//! to write), 3 a dataset or file that cannot be read, 4 a checkpoint that cannot be resumed
//! from (missing, damaged, or made with other settings or data), 1 anything else (a write
//! failure, a training error).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use snn_core::{Discretization, LifConfig};
use snn_losses::ClassificationLoss;
use snn_nir::cli::{CliError, ExportRequest};
use snn_train::data::events::ReadLimits;
use snn_train::data::nmnist::read_nmnist_folder_with_limits;
use snn_train::data::shd::read_shd_with_limits;
use snn_train::data::{BinConfig, EventDataset, RandmanConfig, digits, nmnist, shd};
use snn_train::{
    DatasetKind, DigitsDataset, Encoding, Resume, RunOptions, SnnClassifierConfig, TrainConfig,
    TrainError, TrainReport, device_by_name, train_data_parallel, train_events, train_randman,
};

/// Trains spiking neural networks on burn (CPU or GPU) and converts them to and from NIR.
#[derive(Parser, Debug)]
#[command(
    name = "snn-train",
    version,
    about,
    long_about = "Trains Linear(inputs->H) -> LIF -> Linear(H->classes) -> LI on a dataset and \
                  prints the accuracy on its test split, evaluated once after training: by \
                  default the 8x8 digits shipped inside the tool, each image presented as a \
                  constant input current. Without a subcommand, `train` runs.\n\nExit codes: 0 \
                  success, 2 a bad option or setting, 3 a dataset that cannot be read, 4 a \
                  checkpoint that cannot be resumed from, 1 anything else.",
    args_conflicts_with_subcommands = true,
    // a later `--epochs 2` overrides an earlier `--epochs 1`, as in most tools
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    train: TrainArgs,
}

// parsed once per process: the size difference between the variants does not matter
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Trains a spiking classifier (the default when no subcommand is given).
    Train(TrainArgs),
    /// Reads and writes NIR (Neuromorphic Intermediate Representation) files.
    Nir {
        #[command(subcommand)]
        command: NirCommand,
    },
}

#[derive(Subcommand, Debug)]
enum NirCommand {
    /// Prints a NIR graph: version, metadata, nodes with their type and parameter shapes (nested
    /// graphs indented), edges.
    Info {
        /// The NIR file.
        file: PathBuf,
    },
    /// Writes a trained classifier (Linear -> LIF -> Linear -> LI) as NIR.
    Export(ExportArgs),
}

// The struct's own group would hold every field (and refuse `--checkpoint` with `--out`), so
// it is skipped and only the two sources form the one-of group.
#[derive(Args, Debug)]
#[group(skip)]
#[command(group = clap::ArgGroup::new("source").required(true).multiple(false))]
struct ExportArgs {
    /// A training output folder (config.json and model.bpk, as --out of a run).
    #[arg(long, value_name = "DIR", group = "source")]
    checkpoint: Option<PathBuf>,
    /// The model file (model.bpk); its config.json is read from its folder.
    #[arg(long, value_name = "FILE", group = "source")]
    model: Option<PathBuf>,
    /// The time step the NIR parameters are computed for, in ms (default: the model's own);
    /// import the file with this dt.
    #[arg(long, value_name = "X")]
    dt_ms: Option<f64>,
    /// The NIR file to write.
    #[arg(long, value_name = "FILE.nir")]
    out: PathBuf,
}

const MODELS: [&str; 3] = ["norse", "snntorch", "spikingjelly"];
const LOSSES: [&str; 7] = [
    "max-membrane",
    "integral-ce",
    "count-ce",
    "rate-ce",
    "mse-count",
    "mse-spikerate",
    "mse-membrane",
];

#[derive(Args, Clone, Debug)]
struct TrainArgs {
    /// digits (shipped 8x8 digits); randman (Zenke & Vogels' random manifolds, generated: 10
    /// classes, 20 units, 100 steps, 1000 samples a class, seeded by --seed); shd or ssc (Spiking
    /// Heidelberg Digits / Speech Commands HDF5 files, 700 units, 20 / 35 classes, binned into
    /// --time-steps bins (default 100) over 1.4 s); nmnist (N-MNIST folders of digit sub-folders
    /// of .bin files, 2312 units, binned into --time-steps bins (default 30) over 300 ms). For
    /// every dataset but digits the hidden LIF has tau_mem 20 ms, tau_syn 10 ms unless --model is
    /// given, and for shd and ssc the hidden layer is recurrent (--feed-forward turns that off).
    /// shd, ssc and nmnist need --data.
    #[arg(long, value_name = "NAME", default_value = "digits", value_parser = PossibleValuesParser::new(DatasetKind::ALL.map(DatasetKind::name)))]
    dataset: String,
    /// The burn backend: ndarray, flex, or wgpu (needs the `gpu` feature).
    #[arg(long, value_name = "NAME", default_value = "ndarray", value_parser = PossibleValuesParser::new(["ndarray", "flex", "wgpu"]))]
    backend: String,
    /// Passes over the training split [default: 30].
    #[arg(long, value_name = "N")]
    epochs: Option<usize>,
    /// Hidden LIF neurons, one size per hidden layer: 128, or 256,256 for two layers
    /// [default: 128].
    #[arg(long, value_name = "H[,H...]", value_parser = parse_hidden)]
    hidden: Option<HiddenSizes>,
    /// Give every hidden layer trainable recurrent weights on its own previous spikes (full
    /// BPTT; the fused recurrent op on ndarray and flex) [default: on for shd and ssc, off
    /// otherwise].
    #[arg(long)]
    recurrent: bool,
    /// No recurrent weights, also for shd and ssc.
    #[arg(long, conflicts_with = "recurrent")]
    feed_forward: bool,
    /// Time steps per sample [default: 20 for digits, 100 for shd/ssc, 30 for nmnist].
    #[arg(long, value_name = "T")]
    time_steps: Option<usize>,
    /// current (pixels as constant currents), rate (Bernoulli spikes), latency (one spike per
    /// pixel, brighter earlier: snnTorch's logarithmic code with tau 5, normalize and clip)
    /// [default: current].
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(["current", "rate", "latency"]))]
    encoding: Option<String>,
    /// The hidden LIF layer: norse (tau_mem 10 ms, tau_syn 5 ms, reset to 0, SuperSpike; the
    /// digits default), snntorch (Leaky, beta 0.95, subtractive reset, arctan), spikingjelly
    /// (LIFNode, tau 2, hard reset, sigmoid surrogate).
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(MODELS))]
    model: Option<String>,
    /// Samples per batch [default: 32].
    #[arg(long, value_name = "B")]
    batch_size: Option<usize>,
    /// Adam's initial learning rate, cosine-annealed to 0 over the run [default: 0.01].
    #[arg(long, value_name = "X")]
    lr: Option<f64>,
    /// Seed of the splits, the shuffles and the weights [default: 42].
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// The loss on the readout membrane (snn_losses::ClassificationLoss, peer defaults)
    /// [default: max-membrane].
    #[arg(long, value_name = "NAME", value_parser = PossibleValuesParser::new(LOSSES))]
    loss: Option<String>,
    /// digits: a digits.csv.gz of your own (default: the shipped digits); shd/ssc: the training
    /// .h5 file; nmnist: the training folder (e.g. Train/).
    #[arg(long, value_name = "PATH")]
    data: Option<PathBuf>,
    /// shd/ssc/nmnist: the test file or folder (default: hold out --test-fraction of --data).
    #[arg(long, value_name = "PATH")]
    test_data: Option<PathBuf>,
    /// The run folder: run.json (the manifest), config.json, report.json, model.bpk,
    /// curves.png/svg, and burn's checkpoints and logs under learner/ [default: artifacts/DATASET].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// latest (newest complete checkpoint in --out, or a fresh run if none), an epoch number, or
    /// none (a fresh run). A resume must keep every setting but --epochs (and --backend).
    #[arg(long, value_name = "WHAT", default_value = "none", value_parser = parse_resume)]
    resume: Resume,
    /// Start a fresh run in a folder that holds a previous run: removes exactly the files its
    /// run.json lists first.
    #[arg(long)]
    overwrite: bool,
    /// Write into a folder that also holds files that are not a run's (they are never removed
    /// or written over).
    #[arg(long)]
    allow_foreign_files: bool,
    /// The most bytes read from one data file, and decoded from it [default: 16 GiB for
    /// shd/ssc, 64 MiB per N-MNIST file, 64 MiB decompressed for a digits file]. A file beyond
    /// it is refused (exit 3) before it is read.
    #[arg(long, value_name = "BYTES")]
    max_file_bytes: Option<u64>,
}

/// The `--hidden` sizes, one per hidden layer.
#[derive(Clone, Debug)]
struct HiddenSizes(Vec<usize>);

fn parse_hidden(value: &str) -> Result<HiddenSizes, String> {
    value
        .split(',')
        .map(|size| {
            size.trim()
                .parse()
                .map_err(|_| format!("`{size}` is not a layer size (H or H,H,...)"))
        })
        .collect::<Result<_, _>>()
        .map(HiddenSizes)
}

fn parse_resume(value: &str) -> Result<Resume, String> {
    match value {
        "latest" => Ok(Resume::Latest),
        "none" => Ok(Resume::Fresh),
        number => number
            .parse()
            .map(Resume::FromEpoch)
            .map_err(|_| format!("`{number}` is not latest, none or an epoch number")),
    }
}

/// The `--model` presets of the hidden layer (its size is set by `--hidden`).
fn lif_by_name(name: &str) -> Result<LifConfig, TrainError> {
    Ok(match name {
        "snntorch" => LifConfig::from_beta(1, 0.95)?,
        "spikingjelly" => LifConfig::from_spikingjelly(1, 2.0, true, 1.0, Some(0.0)),
        _ => LifConfig::new(1),
    })
}

/// The `--loss` names, each with its peer's default parameters.
fn loss_by_name(name: &str) -> ClassificationLoss {
    match name {
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
        _ => ClassificationLoss::MaxMembraneCrossEntropy,
    }
}

/// A failure and the exit code it gets.
struct Failure(String, u8);

impl Failure {
    /// The exit code of an error: where the run was decides between a dataset error (3, while
    /// reading the data) and anything else.
    fn of(e: TrainError, reading_data: bool) -> Self {
        let code = match &e {
            TrainError::Setting { .. } | TrainError::Snn(_) | TrainError::Folder { .. } => 2,
            TrainError::Checkpoint { .. } | TrainError::ResumeMismatch { .. } => 4,
            _ if reading_data => 3,
            _ => 1,
        };
        Failure(e.to_string(), code)
    }

    fn setting(e: TrainError) -> Self {
        Failure(e.to_string(), 2)
    }
}

impl From<CliError> for Failure {
    fn from(e: CliError) -> Self {
        let code = e.code();
        Failure(e.to_string(), code)
    }
}

/// The training configuration the options ask for, on `dataset` with `inputs` and `classes`.
fn train_config(
    args: &TrainArgs,
    dataset: DatasetKind,
    (inputs, classes): (usize, usize),
) -> Result<TrainConfig, TrainError> {
    let mut model = SnnClassifierConfig::new(inputs, classes);
    if let Some(name) = &args.model {
        model = model.with_lif(lif_by_name(name)?);
    } else if dataset != DatasetKind::Digits {
        // the paper's hidden neuron (Zenke & Vogels) for the spike-timing datasets: single input
        // spikes must be able to drive it
        model = model.with_lif(
            LifConfig::new(1)
                .with_tau_mem_ms(20.0)
                .with_tau_syn_ms(Some(10.0))
                .with_discretization(Discretization::ExactDecay),
        );
    }
    if let Some((&first, more)) = args.hidden.as_ref().and_then(|h| h.0.split_first()) {
        model = model.with_hidden(first).with_more_hidden(more.to_vec());
    }
    // the SHD literature's network (Cramer et al. 2020, Zenke & Vogels 2021): one recurrent
    // hidden LIF layer
    let recurrent_default = matches!(dataset, DatasetKind::Shd | DatasetKind::Ssc);
    model = model.with_recurrent(args.recurrent || (recurrent_default && !args.feed_forward));
    if let Some(loss) = &args.loss {
        model = model.with_loss(loss_by_name(loss));
    }
    let mut config = TrainConfig::new(model);
    let default_steps = match dataset {
        DatasetKind::Shd | DatasetKind::Ssc => 100,
        DatasetKind::Nmnist => 30,
        DatasetKind::Digits | DatasetKind::Randman => config.time_steps,
    };
    config.time_steps = args.time_steps.unwrap_or(default_steps);
    if let Some(epochs) = args.epochs {
        config.epochs = epochs;
    }
    if let Some(batch_size) = args.batch_size {
        config.batch_size = batch_size;
    }
    if let Some(lr) = args.lr {
        config.learning_rate = lr;
    }
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(encoding) = &args.encoding {
        config.encoding = Encoding::from_name(encoding)?;
    }
    config.validate()?;
    Ok(config)
}

/// The hidden layers in words: "128 hidden LIF neurons", "256+256 recurrent hidden LIF
/// neurons".
fn hidden_layers(config: &TrainConfig) -> String {
    let model = &config.model;
    let sizes: Vec<String> = std::iter::once(model.hidden)
        .chain(model.more_hidden.iter().copied())
        .map(|h| h.to_string())
        .collect();
    let kind = if model.recurrent { "recurrent " } else { "" };
    format!("{} {kind}hidden LIF neurons", sizes.join("+"))
}

/// An event dataset read from `--data` (and `--test-data`): SHD, SSC or N-MNIST.
fn read_events(
    args: &TrainArgs,
    dataset: DatasetKind,
    classes: usize,
    units: usize,
) -> Result<(EventDataset, Option<EventDataset>), TrainError> {
    let read = |path: &std::path::Path| -> Result<EventDataset, TrainError> {
        let samples = if dataset == DatasetKind::Nmnist {
            let cap = args.max_file_bytes.unwrap_or(nmnist::NMNIST_MAX_BYTES);
            read_nmnist_folder_with_limits(path, ReadLimits::max_bytes(cap))?
        } else {
            let cap = args.max_file_bytes.unwrap_or(shd::SHD_MAX_BYTES);
            read_shd_with_limits(path, classes, ReadLimits::max_bytes(cap))?
        };
        EventDataset::new(samples, units, classes)
    };
    let data = args.data.as_deref().ok_or_else(|| TrainError::Setting {
        field: "data",
        message: format!("--dataset {dataset} needs --data (the training file or folder)"),
    })?;
    Ok((
        read(data)?,
        args.test_data.as_deref().map(read).transpose()?,
    ))
}

fn run_train(args: &TrainArgs) -> Result<(), Failure> {
    let dataset = DatasetKind::from_name(&args.dataset).map_err(Failure::setting)?;
    let device = device_by_name(&args.backend).map_err(Failure::setting)?;
    let devices = std::slice::from_ref(&device);
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("artifacts").join(dataset.name()));
    let options = RunOptions {
        resume: args.resume,
        overwrite: args.overwrite,
        allow_foreign_files: args.allow_foreign_files,
        // randman is generated from the seed: it has no source file
        data_source: args
            .data
            .clone()
            .filter(|_| dataset != DatasetKind::Randman),
        dataset: Some(dataset.name().into()),
    };
    let trained = match dataset {
        DatasetKind::Digits => {
            let data = match &args.data {
                Some(path) => DigitsDataset::load_with_cap(
                    path,
                    args.max_file_bytes
                        .unwrap_or(digits::MAX_DECOMPRESSED_BYTES),
                )
                .map_err(|e| Failure::of(e, true))?,
                None => DigitsDataset::shipped(),
            };
            let config = train_config(args, dataset, (digits::PIXELS, digits::CLASSES))
                .map_err(Failure::setting)?;
            println!(
                "training on {} ({} images, {} epochs, {}, {} steps per image)",
                args.backend,
                data.items().len(),
                config.epochs,
                hidden_layers(&config),
                config.time_steps
            );
            train_data_parallel(&config, &data, devices, &out, options)
        }
        DatasetKind::Randman => {
            let randman = RandmanConfig::new();
            let config = train_config(args, dataset, (randman.nb_units, randman.nb_classes))
                .map_err(Failure::setting)?;
            // the manifold is drawn from the run's seed
            let randman = randman.with_seed(config.seed);
            println!(
                "training on {} (randman, {} epochs, {})",
                args.backend,
                config.epochs,
                hidden_layers(&config)
            );
            train_randman(&config, &randman, devices, &out, options)
        }
        DatasetKind::Shd | DatasetKind::Ssc | DatasetKind::Nmnist => {
            let (units, classes) = dataset.shape().unwrap_or_default();
            let config = train_config(args, dataset, (units, classes)).map_err(Failure::setting)?;
            let (train, test) =
                read_events(args, dataset, classes, units).map_err(|e| Failure::of(e, true))?;
            // the binning window, in the files' time unit (s for SHD/SSC, µs for N-MNIST)
            let max_time = if dataset == DatasetKind::Nmnist {
                300_000.0
            } else {
                1.4
            };
            let bins = BinConfig::count(config.time_steps, units)
                .with_max_time(max_time)
                .with_binary(true);
            println!(
                "training on {} ({dataset}, {} training samples, {} epochs, {}, {} time bins)",
                args.backend,
                train.samples().len(),
                config.epochs,
                hidden_layers(&config),
                config.time_steps
            );
            train_events(&config, train, test, bins, devices, &out, options)
        }
    };
    let report: TrainReport = trained.map_err(|e| Failure::of(e, false))?;
    let splits = report.summary.splits;
    println!(
        "validation accuracy: {:.2} % on {} samples carved from the training data",
        100.0 * report.summary.valid_accuracy,
        splits.valid
    );
    println!(
        "test accuracy: {:.2} % on {} held-out samples ({:.1} s of training on {} samples; run \
         folder {}: model.bpk, report.json, run.json)",
        100.0 * report.test_accuracy,
        report.test_samples,
        report.seconds,
        splits.train,
        out.display()
    );
    Ok(())
}

fn run_nir(command: &NirCommand) -> Result<(), Failure> {
    let text = match command {
        NirCommand::Info { file } => snn_nir::cli::info(file)?,
        NirCommand::Export(args) => {
            let request = ExportRequest {
                checkpoint: args.checkpoint.clone(),
                model: args.model.clone(),
                dt_ms: args.dt_ms,
                out: args.out.clone(),
            };
            snn_nir::cli::export(&request, snn_train::nir::export_request)?
        }
    };
    print!("{text}");
    Ok(())
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // help and version print to stdout and exit 0; usage errors exit 2
            let _ = e.print();
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let result = match &cli.command {
        None => run_train(&cli.train),
        Some(Command::Train(args)) => run_train(args),
        Some(Command::Nir { command }) => run_nir(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message, code)) => {
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}

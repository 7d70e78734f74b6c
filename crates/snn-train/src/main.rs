//! `snn-train`: trains a spiking classifier on the shipped 8x8 digits and reports its accuracy
//! on a held-out stratified 20 % split.

use std::process::ExitCode;

use snn_losses::ClassificationLoss;
use snn_train::{DigitsDataset, TrainConfig, TrainError, device_by_name, train};

const USAGE: &str = "\
usage: snn-train [options]

Trains Linear(64->H) -> LIF -> Linear(H->10) -> LI on the 8x8 digits (datasets/digits),
each image presented as a constant input current, and prints the held-out accuracy.

options:
  --backend NAME     ndarray (default), flex, or wgpu (needs --features gpu)
  --epochs N         passes over the training split (default 15)
  --hidden H         hidden LIF neurons (default 128)
  --time-steps T     steps per image (default 10)
  --batch-size B     (default 32)
  --lr X             Adam learning rate (default 0.01)
  --seed S           split, shuffle and weight seed (default 42)
  --loss NAME        max-membrane (default), integral-ce, count-ce, rate-ce, mse-count,
                     mse-spikerate, mse-membrane (snn_losses::ClassificationLoss, peer defaults)
  --data PATH        digits.csv.gz (default: the shipped file)
  --out DIR          checkpoints, logs, config and model (default artifacts/digits)
  -h, --help         this text";

struct Args {
    backend: String,
    data: std::path::PathBuf,
    out: std::path::PathBuf,
    config: TrainConfig,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<Args>, TrainError> {
    let mut parsed = Args {
        backend: "ndarray".into(),
        data: DigitsDataset::shipped_path(),
        out: "artifacts/digits".into(),
        config: TrainConfig::digits(),
    };
    let bad = |field: &'static str, message: String| TrainError::Setting { field, message };
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
                c
            }
            "--out" => {
                parsed.out = value.clone().into();
                c
            }
            "--epochs" => c.with_epochs(count("epochs")?),
            "--hidden" => {
                let model = c.model.clone().with_hidden(count("hidden")?);
                TrainConfig { model, ..c }
            }
            "--time-steps" => c.with_time_steps(count("time_steps")?),
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
    Ok(Some(parsed))
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

fn run() -> Result<(), TrainError> {
    let Some(args) = parse(std::env::args().skip(1))? else {
        println!("{USAGE}");
        return Ok(());
    };
    let device = device_by_name(&args.backend)?;
    let data = DigitsDataset::load(&args.data)?;
    println!(
        "training on {} ({} images, {} epochs, {} hidden LIF neurons, {} steps per image)",
        args.backend,
        data.items().len(),
        args.config.epochs,
        args.config.model.hidden,
        args.config.time_steps
    );
    let report = train(&args.config, &data, &device, &args.out)?;
    let model_path = args.out.join("model");
    use burn::module::Module;
    report
        .model
        .clone()
        .save_file(&model_path)
        .map_err(|e| TrainError::Learner(format!("saving {}: {e:?}", model_path.display())))?;
    println!(
        "test accuracy: {:.2} % on {} held-out images ({:.1} s of training; model in {}.bpk)",
        100.0 * report.test_accuracy,
        report.test_samples,
        report.seconds,
        model_path.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

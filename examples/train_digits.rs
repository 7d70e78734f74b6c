//! Trains the spiking digits classifier through the library API (the `snn-train` binary does the
//! same with options): `Linear(64→128) → LIF → Linear(128→10) → LI`, each image presented for 20
//! steps, and prints the per-epoch validation metrics, the test accuracy (evaluated once, after
//! training) and where the report went. A second run replaces its own previous run (and only
//! that: see `RunOptions::overwrite`).
//!
//! `cargo run --release --example train_digits [ndarray|flex|wgpu] [current|rate|latency]`
//! (wgpu needs `--features gpu`).

use burn_snn::train::{
    DigitsDataset, Encoding, Resume, RunOptions, TrainConfig, device_by_name, train_from,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "ndarray".into());
    let encoding = Encoding::from_name(&args.next().unwrap_or_else(|| "current".into()))?;
    let device = device_by_name(&backend)?;
    let data = DigitsDataset::shipped();
    let config = TrainConfig::digits().with_encoding(encoding);
    let out = std::path::Path::new("artifacts/train_digits");
    let options = RunOptions {
        overwrite: true,
        ..RunOptions::from(Resume::Fresh)
    };
    let report = train_from(&config, &data, &device, out, options)?;
    for epoch in &report.summary.epochs {
        println!(
            "epoch {:2}: train loss {:.4}, validation accuracy {:.2} %, hidden firing rate {:.4}",
            epoch.epoch,
            epoch.train.get("Loss").copied().unwrap_or(f64::NAN),
            100.0 * epoch.valid.get("Accuracy").copied().unwrap_or(f64::NAN),
            epoch
                .valid
                .get("Firing rate hidden")
                .copied()
                .unwrap_or(f64::NAN),
        );
    }
    println!(
        "{backend}, {encoding:?} encoding: {:.2} % test accuracy after {:.1} s; report in {}",
        100.0 * report.test_accuracy,
        report.seconds,
        out.join("report.json").display()
    );
    Ok(())
}

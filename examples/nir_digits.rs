//! Runs an exported digits classifier (`snn-train nir export`) with burn-snn's own NIR executor
//! on all 1797 shipped digits and prints its accuracy next to the trained model's own: the
//! "burn-snn" rows of the peer round trip in `docs/src/nir.md` (the peers' rows come from
//! `scripts/nir_peer_roundtrip.py`).
//!
//! `cargo run --release --example nir_digits -- digits.nir [RUN_FOLDER] [STEPS_PER_MS]`
//!
//! Each image is a constant current for 20 steps of the model's `dt` (the default `current`
//! encoding); the file is simulated at its `metadata.dt` with `STEPS_PER_MS` times as many
//! steps when it was exported with a finer `--dt-ms`. The class is the argmax of the readout
//! membrane's maximum over time.

use burn::prelude::*;
use burn_snn::losses::Readout;
use burn_snn::nir::{MetaValue, import, read};
use burn_snn::train::{DigitsDataset, nir::load_classifier};

/// Steps per image at the model's own `dt`, as `snn-train` trains it.
const STEPS: usize = 20;

/// The readout's maximum over time, argmax over classes (the classifier's scores), against the
/// labels, in percent.
fn accuracy(trace: Tensor<3>, labels: &Tensor<1, Int>) -> Result<f64, Box<dyn std::error::Error>> {
    let scores = Readout::MaxOverTime.scores(trace, 1)?;
    Ok(100.0 * burn_snn::losses::accuracy(scores, labels.clone()))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .ok_or("usage: nir_digits FILE.nir [RUN_FOLDER] [STEPS_PER_MS]")?;
    let run = args.next().filter(|r| !r.is_empty());
    let substeps: usize = args.next().map_or(Ok(1), |s| s.parse())?;
    #[allow(deprecated)] // burn 0.22 deprecates ndarray, which we support
    let device = Device::ndarray();
    let data = DigitsDataset::shipped();
    let items = data.items();
    let labels: Vec<i64> = items.iter().map(|i| i64::from(i.label)).collect();
    let labels = Tensor::<1, Int>::from_ints(labels.as_slice(), &device);
    let pixels: Vec<f32> = items.iter().flat_map(|i| i.pixels).collect();
    let n = items.len();
    let frame = Tensor::<1>::from_floats(pixels.as_slice(), &device).reshape([n, 1, 64]);

    let graph = read(&file)?;
    let dt_s = match graph.metadata.get("dt") {
        Some(MetaValue::Float(a)) if a.data.len() == 1 => a.data[0],
        _ => return Err("the file has no metadata.dt".into()),
    };
    let net = import(&graph, dt_s, &device)?;
    let nir_scores = net.forward(frame.clone().repeat_dim(1, STEPS * substeps))?;
    println!(
        "burn-snn NIR executor, {file} at dt = {dt_s} s: {:.2} % of {n} digits",
        accuracy(nir_scores, &labels)?
    );
    if let Some(run) = run {
        let run = std::path::Path::new(&run);
        let model = load_classifier(&run.join("config.json"), &run.join("model.bpk"), &device)?;
        let native = model.forward(frame.repeat_dim(1, STEPS))?.readout;
        println!(
            "burn-snn trained model ({}): {:.2} % of {n} digits",
            run.display(),
            accuracy(native, &labels)?
        );
    }
    Ok(())
}

//! Draws the guide's figures of surrogates, encoders, short-term plasticity and a trained network
//! (feature `plot`, on by default), on flex:
//!
//! - `surrogates`: the derivative of each of the 8 surrogates at its default parameters;
//! - `encoders`: one digit under the rate, latency and LIF-current encoders;
//! - `tsodyks_markram`: a depressing and a facilitating synapse under a regular spike train;
//! - `trained_network`, `trained_readout`, `trained_rates`: the digits classifier trained with
//!   rate-coded input (as `snn-train --encoding rate`), then one test digit's input and hidden
//!   spikes, its readout membranes per class, and the hidden layer's firing rates over the
//!   test split.
//!
//! `cargo run --release --example guide_figures [out_dir]` (default `docs/src/figures`) writes
//! each as `.png` and `.svg`; the training run goes to `artifacts/guide_figures`.

use std::path::{Path, PathBuf};

use burn::data::dataloader::batcher::Batcher;
use burn::prelude::*;
use burn_snn::core::encode::{
    LatencyConfig, SpikeRng, constant_current_lif_encode, latency_encode, rate_encode,
};
use burn_snn::core::plasticity::TsodyksMarkramConfig;
use burn_snn::core::{LifConfig, Surrogate};
use burn_snn::train::plot::{
    Panel, PlotOptions, PlotResult, RasterPanel, Trace, png_and_svg, raster_grid, rate_histogram,
    spike_events, trace_grid, traces,
};
use burn_snn::train::{
    DigitBatcher, DigitsDataset, Encoding, Resume, RunOptions, TrainConfig, train_from,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Draws `dir/name.png` and `dir/name.svg` and says so.
fn both(dir: &Path, name: &str, draw: impl Fn(&Path) -> PlotResult<()>) -> Res<()> {
    for path in png_and_svg(dir, name, draw)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The values of a tensor as f64.
fn host<const D: usize>(t: Tensor<D>) -> Res<Vec<f64>> {
    let v = t
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?;
    Ok(v.into_iter().map(f64::from).collect())
}

/// Sample 0 of a `[batch, time, n]` spike tensor as raster events.
fn raster(title: &str, spikes: Tensor<3>, dt_ms: f64) -> Res<RasterPanel> {
    let [_, time, n] = spikes.dims();
    let first = spikes.slice([0..1, 0..time, 0..n]).reshape([time, n]);
    Ok(RasterPanel {
        title: title.into(),
        events: spike_events(first, dt_ms)?,
        neurons: n,
    })
}

fn surrogates(dir: &Path) -> Res<()> {
    let all = [
        ("SuperSpike (α 100)", Surrogate::superspike()),
        ("FastSigmoid (k 25)", Surrogate::fast_sigmoid()),
        ("Arctan (α 2)", Surrogate::arctan()),
        ("ArctanInvPi (k 2, Spyx)", Surrogate::arctan_inv_pi()),
        ("Sigmoid (α 4)", Surrogate::sigmoid()),
        ("Triangle", Surrogate::triangle()),
        ("Boxcar", Surrogate::boxcar()),
        ("StraightThrough", Surrogate::StraightThrough),
    ];
    let (x0, dx, n) = (-1.5, 0.005, 601);
    let panels: Vec<Panel> = all
        .iter()
        .map(|(name, s)| {
            let values = (0..n).map(|k| s.derivative(x0 + k as f64 * dx)).collect();
            Panel {
                title: (*name).into(),
                traces: vec![Trace {
                    x0,
                    ..Trace::new("", dx, values)
                }],
                threshold: None,
            }
        })
        .collect();
    let options = PlotOptions::new("Surrogate derivatives σ'(x), defaults")
        .with_size(900, 1000)
        .with_x_label("x = v − threshold")
        .with_y_label("σ'(x)");
    both(dir, "surrogates", |p| trace_grid(p, &panels, 2, &options))
}

fn encoders(dir: &Path, digit: &[f32], device: &Device) -> Res<()> {
    let steps = 20;
    let frame = Tensor::<1>::from_floats(digit, device).reshape([1, 64]);
    let rate: Tensor<3> = rate_encode(frame.clone(), steps, 1.0, 0.0, &mut SpikeRng::new(1))?;
    // the linear code: the logarithmic one normalizes by the time of the darkest pixel (0),
    // which puts every lit pixel of a digit in the first step or two
    let latency_config = LatencyConfig::new(steps)
        .with_linear(true)
        .with_normalize(true)
        .with_clip(true);
    let latency: Tensor<3> = latency_encode(frame.clone(), &latency_config)?;
    // the pixel intensity (0..1) times 4 as a constant current into Norse's current-free LIF
    // (τ_mem 10 ms): a white pixel fires after 3 ms, one at 0.3 after 18 ms, darker never
    let lif = LifConfig::box_model(64).init(device)?;
    let current: Tensor<3> = constant_current_lif_encode(frame * 4.0, steps, &lif)?;
    let panels = [
        raster("rate (Bernoulli, p = intensity)", rate, 1.0)?,
        raster("latency (linear, normalized)", latency, 1.0)?,
        raster("constant current → LIF", current, 1.0)?,
    ];
    let options = PlotOptions::new("One digit (64 pixels) under three encoders, 20 steps")
        .with_size(1050, 450)
        .with_y_label("pixel");
    both(dir, "encoders", |p| raster_grid(p, &panels, 3, &options))
}

fn tsodyks_markram(dir: &Path, device: &Device) -> Res<()> {
    let steps = 600;
    // a presynaptic spike every 40 ms from t = 20 ms
    let train: Vec<f32> = (0..steps)
        .map(|t| if t >= 20 && t % 40 == 20 { 1.0 } else { 0.0 })
        .collect();
    let x = Tensor::<1>::from_floats(train.as_slice(), device).reshape([1, steps, 1]);
    let spikes: Vec<f64> = train.iter().map(|&z| f64::from(z)).collect();
    let synapses = [
        (
            "depressing (τ_f 50, τ_d 750 ms, U 0.45)",
            TsodyksMarkramConfig::new(1),
        ),
        (
            "facilitating (τ_f 750, τ_d 50 ms, U 0.15)",
            TsodyksMarkramConfig::new(1)
                .with_tau_f_ms(750.0)
                .with_tau_d_ms(50.0)
                .with_u_increment(0.15),
        ),
    ];
    let mut curves = Vec::new();
    for (name, config) in synapses {
        let out = config.init(device)?.forward_with(x.clone(), None, true)?;
        // the efficacy a spike would have now: u·x of the state after each step
        let efficacy = out.traced(|s| s.u.clone() * s.x.clone()).ok_or("state")?;
        curves.push(Trace::new(name, 1.0, host(efficacy)?).with_spikes(&spikes));
    }
    let options = PlotOptions::new("Tsodyks-Markram synapses, a spike every 40 ms")
        .with_y_label("u·x (efficacy of a spike)");
    both(dir, "tsodyks_markram", |p| {
        traces(p, &curves, None, &options)
    })
}

fn trained_network(dir: &Path, device: &Device) -> Res<()> {
    let data = DigitsDataset::shipped();
    let config = TrainConfig::digits().with_encoding(Encoding::Rate);
    let options = RunOptions {
        overwrite: true,
        ..RunOptions::from(Resume::Fresh)
    };
    let report = train_from(&config, &data, device, "artifacts/guide_figures", options)?;
    println!("test accuracy {:.2} %", 100.0 * report.test_accuracy);
    let (_, test) = data.split(config.test_fraction, config.seed);
    let batcher = DigitBatcher {
        time_steps: config.time_steps,
        encoding: config.encoding,
    };
    let batch = batcher.batch(test.items().to_vec(), device);
    let out = report.model.forward(batch.inputs.clone())?;
    let label = test.items()[0].label;
    let dt = config.model.lif.dt_ms;

    let panels = [
        raster("input (64 pixels, rate-coded)", batch.inputs.clone(), dt)?,
        raster("hidden LIF layer (128)", out.spikes.clone(), dt)?,
    ];
    let title = format!("A test digit ({label}) through the trained network");
    let options = PlotOptions::new(title).with_size(1000, 450);
    both(dir, "trained_network", |p| {
        raster_grid(p, &panels, 2, &options)
    })?;

    let [_, time, classes] = out.readout.dims();
    let readout = out.readout.clone().slice([0..1, 0..time, 0..classes]);
    let curves: Vec<Trace> = (0..classes)
        .map(|c| {
            let v = readout
                .clone()
                .slice([0..1, 0..time, c..c + 1])
                .reshape([time]);
            let name = if c == usize::from(label) {
                format!("class {c} (the label)")
            } else {
                format!("class {c}")
            };
            Ok(Trace::new(name, dt, host(v)?))
        })
        .collect::<Res<_>>()?;
    let options = PlotOptions::new(format!(
        "Readout membranes for the test digit {label}: the class is the highest maximum"
    ))
    .with_size(1000, 560)
    .with_y_label("LI membrane");
    both(dir, "trained_readout", |p| {
        traces(p, &curves, None, &options)
    })?;

    // firing rate of each hidden neuron over the whole test split, spikes per step
    let rates = host(out.spikes.mean_dim(1).mean_dim(0).reshape([-1]))?;
    let options = PlotOptions::new("Hidden firing rates of the trained network, test split")
        .with_x_label("spikes per step")
        .with_y_label("neurons");
    both(dir, "trained_rates", |p| {
        rate_histogram(p, &rates, 20, &options)
    })
}

fn main() -> Res<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/src/figures".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let device = Device::flex();
    surrogates(&dir)?;
    let data = DigitsDataset::shipped();
    encoders(&dir, &data.items()[0].pixels, &device)?;
    tsodyks_markram(&dir, &device)?;
    trained_network(&dir, &device)
}

//! Draws the user guide's neuron figures (feature `plot`, on by default): one figure per neuron
//! family, plus a spike raster and a firing-rate histogram of a LIF layer under Poisson input.
//!
//! `cargo run --release --example neuron_figures [out_dir]` (default `docs/src/figures`) writes
//! `lif.{png,svg}`, `adex.{png,svg}`, `lsnn.{png,svg}`, `coba.{png,svg}`, `spyx.{png,svg}`,
//! `raster.{png,svg}` and `rates.{png,svg}`, on flex.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn_snn::core::encode::{SpikeRng, poisson_encode};
use burn_snn::core::neuron::{CobaLifConfig, LifAdExConfig, LsnnConfig, Neuron, SpyxConfig};
use burn_snn::core::{IafConfig, LifConfig};
use burn_snn::train::plot::{
    PlotOptions, PlotResult, Trace, png_and_svg, rate_histogram, spike_events, spike_raster, traces,
};

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Neuron 0 of sample 0 of a `[batch, time, neurons]` trace, as f64.
fn first(t: Tensor<3>) -> Res<Vec<f64>> {
    let [_, steps, _] = t.dims();
    let v = t
        .slice([0..1, 0..steps, 0..1])
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?;
    Ok(v.into_iter().map(f64::from).collect())
}

/// Draws `dir/name.png` and `dir/name.svg` and says so.
fn both(dir: &Path, name: &str, draw: impl Fn(&Path) -> PlotResult<()>) -> Res<()> {
    for path in png_and_svg(dir, name, draw)? {
        println!("wrote {}", path.display());
    }
    Ok(())
}

fn main() -> Res<()> {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/src/figures".into()),
    );
    std::fs::create_dir_all(&dir)?;
    let device = Device::flex();
    let steps = 100;
    let constant = |value: f32| Tensor::<3>::ones([1, steps, 1], &device) * value;

    // LIF, LI and IAF: the membrane under a constant input
    let norse = LifConfig::new(1)
        .init(&device)?
        .forward_with(constant(0.15), None, true)?;
    let snntorch =
        LifConfig::from_beta(1, 0.9)?
            .init(&device)?
            .forward_with(constant(0.15), None, true)?;
    let iaf = IafConfig::new(1)
        .init(&device)?
        .forward_with(constant(0.15), None, true)?;
    let lif_traces = vec![
        Trace::new(
            "LifConfig::new (Norse: τ_mem 10 ms, τ_syn 5 ms)",
            1.0,
            first(norse.v().ok_or("v")?)?,
        ),
        Trace::new(
            "LifConfig::from_beta(0.9) (snnTorch Leaky)",
            1.0,
            first(snntorch.v().ok_or("v")?)?,
        ),
        // recorded after its reset, the IAF membrane never shows the crossing: its spikes are
        // marked above the panel
        Trace::new("IafConfig::new", 1.0, first(iaf.v().ok_or("v")?)?)
            .with_spikes(&first(iaf.spikes.clone())?),
    ];
    let options =
        PlotOptions::new("LIF and IAF membrane potential, constant input 0.15").with_y_label("v");
    both(&dir, "lif", |p| traces(p, &lif_traces, Some(1.0), &options))?;

    // AdEx: spike-frequency adaptation under a step of current
    let adex = LifAdExConfig::new(1).init(&device)?;
    let out = adex.forward_with(constant(0.4), None, true)?;
    let v = first(out.traced(|s| s.v.clone()).ok_or("v")?)?;
    let a = first(out.traced(|s| s.a.clone()).ok_or("a")?)?;
    let adex_traces = vec![
        Trace::new("v", 1.0, v),
        Trace::new("a (adaptation current)", 1.0, a),
    ];
    let options =
        PlotOptions::new("LifAdEx (Norse defaults), constant input 0.4").with_y_label("value");
    both(&dir, "adex", |p| {
        traces(p, &adex_traces, Some(1.0), &options)
    })?;

    // LSNN: the threshold rises with every spike (a short adaptation time constant to show it)
    let lsnn = LsnnConfig::new(1).with_tau_adapt_ms(50.0).init(&device)?;
    let out = lsnn.forward_with(constant(0.6), None, true)?;
    let v = first(out.traced(|s| s.v.clone()).ok_or("v")?)?;
    let b = first(out.traced(|s| s.b.clone()).ok_or("b")?)?;
    let lsnn_traces = vec![Trace::new("v", 1.0, v), Trace::new("b (threshold)", 1.0, b)];
    let options =
        PlotOptions::new("Lsnn (τ_adapt 50 ms, β 1.8), constant input 0.6").with_y_label("value");
    both(&dir, "lsnn", |p| traces(p, &lsnn_traces, None, &options))?;

    // Conductance-based LIF: excitatory Poisson input, 0.1 ms steps
    let coba_config = CobaLifConfig::new(1);
    let coba = coba_config.init(&device)?;
    let coba_steps = 1000;
    let mut rng = SpikeRng::new(3);
    let drive: Tensor<3> = poisson_encode(
        Tensor::<2>::ones([1, 1], &device),
        coba_steps,
        400.0,
        coba_config.dt_ms,
        &mut rng,
    )?;
    let out = coba.forward_with(drive * 0.012, None, true)?;
    let v = first(out.traced(|s| s.v.clone()).ok_or("v")?)?;
    let g = first(out.traced(|s| s.g_e.clone()).ok_or("g_e")?)?;
    let coba_traces = vec![
        Trace::new("v (mV)", coba_config.dt_ms, v),
        Trace::new(
            "g_e (µS) × 1000",
            coba_config.dt_ms,
            g.iter().map(|x| x * 1000.0).collect(),
        ),
    ];
    let options = PlotOptions::new("CobaLif (Norse defaults), Poisson input 400 Hz × 0.012 µS")
        .with_y_label("value");
    both(&dir, "coba", |p| {
        traces(p, &coba_traces, Some(coba_config.v_thresh), &options)
    })?;

    // Spyx's models under one input
    let spyx_lif =
        LifConfig::spyx(1, 0.8)?
            .init(&device)?
            .forward_with(constant(0.3), None, true)?;
    let mut spyx_traces = vec![Trace::new(
        "LIF (β 0.8, LifConfig::spyx)",
        1.0,
        first(spyx_lif.v().ok_or("v")?)?,
    )];
    for (name, config) in [
        ("ALIF (β 0.8, γ 0.9)", SpyxConfig::alif(1, 0.8, 0.9)),
        ("CuBaLIF (α 0.5, β 0.8)", SpyxConfig::cuba_lif(1, 0.5, 0.8)),
        ("LI (β 0.8)", SpyxConfig::li(1, 0.8)),
    ] {
        let layer = config.init(&device)?;
        let out = layer.forward_with(constant(0.3), None, true)?;
        spyx_traces.push(Trace::new(
            name,
            1.0,
            first(out.traced(|s| s.v.clone()).ok_or("v")?)?,
        ));
    }
    let options = PlotOptions::new("Spyx layers, constant input 0.3").with_y_label("V");
    both(&dir, "spyx", |p| {
        traces(p, &spyx_traces, Some(1.0), &options)
    })?;

    // A raster and the firing rates of 50 LIF neurons under Poisson input of rising rates
    let neurons = 50;
    let rates_in: Vec<f32> = (0..neurons).map(|k| k as f32 / neurons as f32).collect();
    let x = Tensor::<1>::from_floats(rates_in.as_slice(), &device).reshape([1, neurons]);
    let input: Tensor<3> = poisson_encode(x, 200, 400.0, 1.0, &mut rng)?;
    let lif = LifConfig::new(neurons).init(&device)?;
    let spikes = lif.forward(input * 0.6)?.spikes;
    let sample: Tensor<2> = spikes
        .clone()
        .slice([0..1, 0..200, 0..neurons])
        .reshape([200, neurons]);
    let events = spike_events(sample, 1.0)?;
    let options =
        PlotOptions::new("LIF layer under Poisson input (rate rising with the neuron index)");
    both(&dir, "raster", |p| {
        spike_raster(p, &events, neurons, &options)
    })?;
    let rates: Vec<f64> = spikes
        .sum_dim(1)
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("{e:?}"))?
        .into_iter()
        .map(|count| f64::from(count) / 0.2) // 200 steps of 1 ms: spikes per second
        .collect();
    let options = PlotOptions::new("Firing rates of the 50 neurons").with_x_label("rate (Hz)");
    both(&dir, "rates", |p| rate_histogram(p, &rates, 12, &options))?;
    Ok(())
}

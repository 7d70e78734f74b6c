//! Simulates every Izhikevich preset (Izhikevich 2004, Fig. 1, with Norse's parameters) under
//! its standard input and writes the traces to a CSV, one row per preset and step:
//!
//! ```text
//! preset,step,time_ms,input,v,u,spike
//! tonic_spiking,0,0,0,-70,-14,0
//! ```
//!
//! * `preset`: the preset's name (`IzhikevichPreset::name`);
//! * `step`: the step index `k`;
//! * `time_ms`: the schedule time `t_k = k · schedule_step_ms` at which the input was evaluated
//!   (the time axis of Norse's tests and Izhikevich's figure);
//! * `input`: the current `I` (mV/ms) of step `k`;
//! * `v`, `u`: the state after step `k` (mV, after the reset: `v = c` at a spike);
//! * `spike`: 1 if the neuron fired at step `k`.
//!
//! `cargo run --release --example izhikevich_gallery [out.csv] [ndarray|flex|wgpu]`
//! (default `docs/src/figures/izhikevich_gallery.csv` on ndarray). Prints one line per preset
//! with its spike count. With the `plot` feature (on by default) it also draws the membrane
//! potential of every preset in one grid, `izhikevich_gallery.png` and `.svg` beside the CSV.

use std::fmt::Write as _;
use std::path::PathBuf;

use burn::prelude::*;
use burn_snn::core::neuron::{IzhikevichConfig, IzhikevichPreset, Neuron};
use burn_snn::train::device_by_name;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "docs/src/figures/izhikevich_gallery.csv".into()),
    );
    let backend = args.next().unwrap_or_else(|| "ndarray".into());
    let device = device_by_name(&backend)?;
    let read = |t: Tensor<3>| -> Result<Vec<f32>, String> {
        t.into_data()
            .try_to_vec::<f32>()
            .map_err(|e| format!("reading a trace: {e:?}"))
    };

    #[cfg(feature = "plot")]
    let mut panels = Vec::new();
    let mut csv = String::from("preset,step,time_ms,input,v,u,spike\n");
    println!("Izhikevich presets on {backend} (Norse parameters, standard inputs):");
    for preset in IzhikevichPreset::ALL {
        let config = IzhikevichConfig::from_preset(1, preset);
        let neuron = config.init(&device)?;
        let input = preset.standard_input();
        let out = neuron.forward_with(input.tensor(&device), None, true)?;
        let v = read(out.v().ok_or("v was not recorded")?)?;
        let u = read(out.u().ok_or("u was not recorded")?)?;
        let spikes = read(out.spikes)?;
        for (k, t) in input.times_ms().into_iter().enumerate() {
            writeln!(
                csv,
                "{},{k},{t},{},{},{},{}",
                preset.name(),
                input.currents[k],
                v[k],
                u[k],
                spikes[k]
            )?;
        }
        #[cfg(feature = "plot")]
        panels.push(burn_snn::train::plot::Panel {
            title: preset.name().replace('_', " "),
            traces: vec![burn_snn::train::plot::Trace::new(
                "v (mV)",
                input.schedule_step_ms,
                v.iter().map(|&x| f64::from(x)).collect(),
            )],
            threshold: None,
        });
        let count = spikes.iter().filter(|&&z| z > 0.0).count();
        println!(
            "  {:<30} {:>5} steps of {:>4} ms (model step {} ms): {count:>3} spikes",
            preset.name(),
            input.steps,
            input.schedule_step_ms,
            config.step_ms(),
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, csv)?;
    println!("wrote {}", path.display());
    #[cfg(feature = "plot")]
    for ext in ["png", "svg"] {
        use burn_snn::train::plot::{PlotOptions, trace_grid};
        let figure = path.with_extension(ext);
        let options =
            PlotOptions::new("Izhikevich presets: membrane potential under the standard input")
                .with_size(1100, 2400)
                .with_y_label("v (mV)");
        trace_grid(&figure, &panels, 2, &options)?;
        println!("wrote {}", figure.display());
    }
    Ok(())
}

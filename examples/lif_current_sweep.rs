//! Drives Norse-default LIF neurons with constant currents and prints their firing rates:
//! the f-I curve of the model, on the CPU (or `--features gpu` and the argument `wgpu`).
//!
//! `cargo run --release --example lif_current_sweep [ndarray|flex|wgpu]`

use burn::prelude::*;
use burn_snn::core::{LifConfig, Neuron};
use burn_snn::train::device_by_name;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let backend = std::env::args().nth(1).unwrap_or_else(|| "ndarray".into());
    let device = device_by_name(&backend)?;
    let currents: Vec<f32> = (0..=10).map(|k| k as f32 * 0.1).collect();
    let steps = 1000; // 1 s at dt = 1 ms
    let lif = LifConfig::new(currents.len()).init(&device)?;
    let input = Tensor::<1>::from_floats(currents.as_slice(), &device)
        .reshape([1, 1, currents.len()])
        .repeat_dim(1, steps);
    let spikes = lif.forward(input)?.spikes;
    let counts = spikes
        .sum_dim(1)
        .into_data()
        .try_to_vec::<f32>()
        .map_err(|e| format!("reading the spike counts: {e:?}"))?;
    println!("LIF (tau_mem 10 ms, tau_syn 5 ms, threshold 1) on {backend}: rate vs input current");
    for (current, count) in currents.iter().zip(counts) {
        println!("  I = {current:.1}  ->  {count:4.0} Hz");
    }
    Ok(())
}

//! Trains a spiking network on Zenke & Vogels' random-manifold task (randman, 2021): 10 classes
//! of smooth 1-D manifolds, 20 input units firing one spike each in 100 steps, 1000 samples a
//! class; 80 % train, 20 % test. `Linear(20→128) → LIF → Linear(128→10) → LI` (hidden τ_mem 20 ms,
//! τ_syn 10 ms as in the paper), max-membrane cross-entropy, Adam (lr 0.005), a hand-written loop (burn's `Learner` serves the digits in `snn-train`).
//!
//! `cargo run --release --example train_randman [ndarray|flex|wgpu] [epochs (20)]`

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn_snn::core::{Discretization, LiConfig, LifConfig};
use burn_snn::train::data::{EventBatch, RandmanConfig};
use burn_snn::train::{SnnClassifierConfig, device_by_name};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "ndarray".into());
    let epochs: usize = args.next().map_or(Ok(20), |e| e.parse())?;
    let device = device_by_name(&backend)?;
    let randman = RandmanConfig::new();
    let mut samples = randman.generate()?.into_samples(); // shuffled by the generator
    let test = samples.split_off(samples.len() * 4 / 5);
    let batcher = randman.batcher()?;
    // Zenke & Vogels' hidden neuron: τ_mem 20 ms, τ_syn 10 ms, exact decay with the input added
    // unscaled (their `beta·mem + syn`), so that single input spikes can drive it. The readout
    // keeps Norse's Euler integrator (input scaled by dt/τ): unscaled, its gain of about 200
    // per hidden spike makes the max-membrane cross-entropy start near 100 and Adam diverge.
    let lif = LifConfig::new(1)
        .with_tau_mem_ms(20.0)
        .with_tau_syn_ms(Some(10.0))
        .with_discretization(Discretization::ExactDecay);
    let readout = LiConfig::new(1);
    let config = SnnClassifierConfig::new(randman.nb_units, randman.nb_classes)
        .with_lif(lif)
        .with_readout(readout);
    let train_device = device.clone().autodiff();
    let mut model = config.init_seeded(&train_device, 1)?;
    let mut optim = AdamConfig::new().init();
    let started = std::time::Instant::now();
    for epoch in 1..=epochs {
        let mut total = 0.0;
        for chunk in samples.chunks(256) {
            let batch: EventBatch = batcher.batch(chunk.to_vec(), &train_device);
            let readout = model.forward(batch.inputs)?.readout;
            let loss = config.loss.loss(readout, batch.targets)?;
            total += loss.clone().into_scalar::<f32>() * chunk.len() as f32;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(5e-3, model, grads);
        }
        let accuracy = accuracy(&model.valid(), &test, &batcher, &device)?;
        println!(
            "epoch {epoch:2}: train loss {:.4}, test accuracy {:.2} % ({:.1} s)",
            total / samples.len() as f32,
            100.0 * accuracy,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

fn accuracy(
    model: &burn_snn::train::SnnClassifier,
    samples: &[burn_snn::train::data::EventSample],
    batcher: &burn_snn::train::data::EventBatcher,
    device: &Device,
) -> Result<f64, Box<dyn std::error::Error>> {
    let mut correct = 0.0;
    for chunk in samples.chunks(512) {
        let batch: EventBatch = batcher.batch(chunk.to_vec(), device);
        let logits = model.logits(batch.inputs)?;
        correct += burn_snn::losses::accuracy(logits, batch.targets) * chunk.len() as f64;
    }
    Ok(correct / samples.len() as f64)
}

//! Trains a spiking network on Zenke & Vogels' random-manifold task (randman, 2021): 10 classes
//! of smooth 1-D manifolds, 20 input units firing one spike each in 100 steps, 1000 samples a
//! class, max-membrane cross-entropy, Adam, a hand-written loop (burn's `Learner` serves the
//! same model in `snn-train --dataset randman`).
//!
//! Two settings:
//! * `default`: smoothness alpha 2, spikes over all 100 steps; 80 % train, 20 % test;
//!   `Linear(20→128) → LIF → Linear(128→10) → LI`, hidden τ_mem 20 ms, τ_syn 10 ms (stork's
//!   randman example), batch 256, lr 0.005.
//! * `paper`: the configuration of Zenke & Vogels (2021), section 4 and table 1
//!   ([`RandmanConfig::zenke_vogels_2021`]: alpha 1, spikes in the first 50 steps); 800 / 100
//!   samples a class for training / testing (the paper's second 100 are a validation set, unused
//!   here); 100 hidden neurons with τ_mem 10 ms, τ_syn 5 ms, a readout with τ 20 ms, SuperSpike
//!   with steepness β = 10, batch 250, Adam.
//!
//! `cargo run --release --example train_randman [ndarray|flex|wgpu] [epochs (20)] [default|paper]`

use burn::data::dataloader::batcher::Batcher;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use burn_snn::core::optim::FusedAdamConfig;
use burn_snn::core::{Discretization, LiConfig, LifConfig, Surrogate};
use burn_snn::train::data::{EventBatch, RandmanConfig};
use burn_snn::train::{SnnClassifierConfig, device_by_name};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let backend = args.next().unwrap_or_else(|| "ndarray".into());
    let epochs: usize = args.next().map_or(Ok(20), |e| e.parse())?;
    let paper = match args.next().as_deref() {
        None | Some("default") => false,
        Some("paper") => true,
        Some(other) => return Err(format!("unknown setting `{other}` (default, paper)").into()),
    };
    let device = device_by_name(&backend)?;
    let randman = if paper {
        RandmanConfig::zenke_vogels_2021()
    } else {
        RandmanConfig::new()
    };
    let mut samples = randman.generate()?.into_samples(); // shuffled by the generator
    let mut test = samples.split_off(samples.len() * 4 / 5);
    if paper {
        test.truncate(test.len() / 2); // 100 a class on average: the paper's test set
    }
    let batcher = randman.batcher()?;
    // Zenke & Vogels' hidden neuron: τ_mem 20 ms, τ_syn 10 ms, exact decay with the input added
    // unscaled (their `beta·mem + syn`), so that single input spikes can drive it. The readout
    // keeps Norse's Euler integrator (input scaled by dt/τ): unscaled, its gain of about 200
    // per hidden spike makes the max-membrane cross-entropy start near 100 and Adam diverge.
    let (tau_mem, tau_syn) = if paper { (10.0, 5.0) } else { (20.0, 10.0) };
    let mut lif = LifConfig::new(1)
        .with_tau_mem_ms(tau_mem)
        .with_tau_syn_ms(Some(tau_syn))
        .with_discretization(Discretization::ExactDecay);
    let mut readout = LiConfig::new(1);
    let (mut hidden, mut batch_size, lr) = (128, 256, 5e-3);
    if paper {
        lif = lif.with_surrogate(Surrogate::SuperSpike { alpha: 10.0 });
        readout = readout.with_tau_mem_ms(20.0);
        (hidden, batch_size) = (100, 250);
    }
    let config = SnnClassifierConfig::new(randman.nb_units, randman.nb_classes)
        .with_hidden(hidden)
        .with_lif(lif)
        .with_readout(readout);
    let train_device = device.clone().autodiff();
    let mut model = config.init_seeded(&train_device, 1)?;
    let mut optim = FusedAdamConfig::new().init();
    let started = std::time::Instant::now();
    for epoch in 1..=epochs {
        let mut total = 0.0;
        for chunk in samples.chunks(batch_size) {
            let batch: EventBatch = batcher.batch(chunk.to_vec(), &train_device);
            let readout = model.forward(batch.inputs)?.readout;
            let loss = config.loss.loss(readout, batch.targets)?;
            total += loss.clone().into_scalar::<f32>() * chunk.len() as f32;
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(lr, model, grads);
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

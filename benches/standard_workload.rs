//! The workload the Python peers were measured with (`docs/src/performance.md`; the peers'
//! side is `scripts/peers/`), and the Open Neuromorphic library-benchmark shape scaled to a CPU,
//! each on our optimized path and on our reference path in the same run.
//!
//! **Standard workload.** Bernoulli(0.05) input spikes `[32, 100, 700]` (a fixed seed) →
//! `Linear(700, H)` → LIF (decay 0.95, threshold 1, subtractive reset, fast sigmoid of slope 10)
//! → `Linear(H, 20)` → LI readout (decay 0.95) → cross-entropy on the readout membrane summed over
//! time, Adam (lr 1e-3; [`FusedAdam`](snn_core::optim::FusedAdam) on the optimized path, burn's
//! `Adam` on the reference path, bit-equal updates). `forward`: the network alone on a plain device; `train`: forward,
//! backward and the Adam step on an autodiff device. H = 256, 1024, 4096.
//!
//! **Open Neuromorphic shape.** `Linear(N, N)` + LIF over 500 steps, batch 16, N = 512 and 2048,
//! Bernoulli(0.05) input spikes; forward, and forward + backward of the summed spikes.
//!
//! Paths: `optimized` is what the layers do by default: both `Linear`s are [`SpikeLinear`]s
//! (the same affine map as burn's `Linear`, same parameters and results), which take their
//! event-driven path because their inputs are binary spikes (the 5 % dense input, and the hidden
//! layer's spikes when under `sparse_threshold`), and the fused multi-step LIF and LI ops
//! (`Execution::Auto`). `reference` forces the dense matmul (`sparse_threshold = 0`, i.e.
//! burn's `Linear` computation) and the step-by-step composition (`Execution::Reference`).
//!
//! `cargo bench --bench standard_workload` (`-- standard/` or `-- on/` for one
//! group; `SNN_BENCH_BACKENDS=flex` for one backend). On this 2-core machine, run it alone:
//! the peers' numbers (`scripts/peers/bench.sh`) are taken on an idle machine too.

mod common;

use std::hint::black_box;

use burn::module::Module;
use burn::prelude::*;
use criterion::{BenchmarkId, Criterion};

use common::{PATHS, backends, bench_train, class_targets, slow_group, spikes};
use snn_core::fused::Execution;
use snn_core::sparse::{SpikeLinear, SpikeLinearConfig};
use snn_core::{Discretization, Li, LiConfig, Lif, LifConfig, Neuron, Reset, Surrogate};

const BATCH: usize = 32;
const STEPS: usize = 100;
const INPUTS: usize = 700;
const CLASSES: usize = 20;
const DENSITY: f64 = 0.05;
/// τ for a per-step decay of 0.95 at dt = 1 ms: `e^(−1/τ) = 0.95`.
fn tau_for_decay(decay: f64) -> f64 {
    -1.0 / decay.ln()
}

/// Input → LIF → readout, as the peers' benchmark builds it.
#[derive(Module, Debug)]
struct Net {
    input: SpikeLinear,
    lif: Lif,
    output: Option<SpikeLinear>,
    readout: Option<Li>,
}

fn lif(size: usize, execution: Execution, device: &Device) -> Lif {
    LifConfig::new(size)
        .with_tau_syn_ms(None)
        .with_tau_mem_ms(tau_for_decay(0.95))
        .with_discretization(Discretization::ExactDecay)
        .with_reset(Reset::Subtract)
        .with_surrogate(Surrogate::FastSigmoid { slope: 10.0 })
        .with_execution(execution)
        .init(device)
        .unwrap()
}

impl Net {
    /// The standard workload's network (`readout = true`) or the Open Neuromorphic layer.
    fn new(inputs: usize, hidden: usize, readout: bool, optimized: bool, device: &Device) -> Self {
        let execution = if optimized {
            Execution::Auto
        } else {
            Execution::Reference
        };
        let threshold = if optimized { 0.15 } else { 0.0 };
        Self {
            input: SpikeLinearConfig::new(inputs, hidden)
                .with_sparse_threshold(threshold)
                .init(device)
                .unwrap(),
            lif: lif(hidden, execution, device),
            output: readout.then(|| {
                SpikeLinearConfig::new(hidden, CLASSES)
                    .with_sparse_threshold(threshold)
                    .init(device)
                    .unwrap()
            }),
            readout: readout.then(|| {
                LiConfig::new(CLASSES)
                    .with_tau_syn_ms(None)
                    .with_tau_mem_ms(tau_for_decay(0.95))
                    .with_discretization(Discretization::ExactDecay)
                    .with_execution(execution)
                    .init(device)
                    .unwrap()
            }),
        }
    }

    /// The readout membrane summed over time `[batch, classes]` (standard workload), or the
    /// spike count `[batch, hidden]` (Open Neuromorphic shape).
    fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let spikes = self
            .lif
            .forward(self.input.forward(x).unwrap())
            .unwrap()
            .spikes;
        let out = match (&self.output, &self.readout) {
            (Some(output), Some(readout)) => {
                readout
                    .forward(output.forward(spikes).unwrap())
                    .unwrap()
                    .spikes
            }
            _ => spikes,
        };
        out.sum_dim(1).squeeze_dim(1)
    }
}

fn standard(c: &mut Criterion) {
    let mut group = slow_group(c, "standard");
    for (backend, device) in backends() {
        let train_device = device.clone().autodiff();
        let x = spikes([BATCH, STEPS, INPUTS], 0, DENSITY, &device);
        let x_train = x.clone().to_device(&train_device);
        let targets = class_targets(BATCH, CLASSES, &train_device);
        for hidden in [256, 1024, 4096] {
            for (path, optimized) in PATHS {
                let net = Net::new(INPUTS, hidden, true, optimized, &device);
                group.bench_function(
                    BenchmarkId::new(format!("{backend}/forward/{path}"), hidden),
                    |b| b.iter(|| black_box(net.forward(x.clone()))),
                );
                bench_train(
                    &mut group,
                    BenchmarkId::new(format!("{backend}/train/{path}"), hidden),
                    Net::new(INPUTS, hidden, true, optimized, &train_device),
                    optimized,
                    |net| net.forward(x_train.clone()),
                    &targets,
                );
            }
        }
    }
    group.finish();
}

fn open_neuromorphic(c: &mut Criterion) {
    let mut group = slow_group(c, "on");
    for (backend, device) in backends() {
        let train_device = device.clone().autodiff();
        for n in on_sizes() {
            let x = spikes([16, 500, n], 1, DENSITY, &device);
            let x_train = x.clone().to_device(&train_device);
            for (path, optimized) in PATHS {
                let net = Net::new(n, n, false, optimized, &device);
                group.bench_function(
                    BenchmarkId::new(format!("{backend}/forward/{path}"), n),
                    |b| b.iter(|| black_box(net.forward(x.clone()))),
                );
                let net = Net::new(n, n, false, optimized, &train_device);
                group.bench_function(
                    BenchmarkId::new(format!("{backend}/forward_backward/{path}"), n),
                    |b| {
                        b.iter(|| {
                            let grads = net.forward(x_train.clone()).sum().backward();
                            black_box(net.input.weight.grad(&grads))
                        })
                    },
                );
            }
        }
    }
    group.finish();
}

/// The `on` sizes: 512 and 2048, or the comma-separated list in `ON_SIZES` (e.g. 16384, the
/// Open Neuromorphic GPU size, for `scripts/gpu_bench.sh`).
fn on_sizes() -> Vec<usize> {
    match std::env::var("ON_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|n| n.trim().parse().expect("ON_SIZES: sizes like 512,2048"))
            .collect(),
        Err(_) => vec![512, 2048],
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    standard(&mut c);
    open_neuromorphic(&mut c);
    c.final_summary();
}

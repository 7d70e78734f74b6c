//! The `recurrent` workload the Python peers were measured with (`docs/src/performance.md`; the
//! peers' side is `scripts/peers/`), on our optimized and our reference path in the same run,
//! and the density sweep that placed [`snn_core::fused::DENSE_WEIGHT_GRADIENT`].
//!
//! **recurrent** (the shape of Spiking Heidelberg Digits): Bernoulli(0.05) input spikes
//! `[32, 100, 700]` (a fixed seed) → recurrent LIF layer of H neurons: `I_t = x_t·W_inᵀ + b_in +
//! z_{t−1}·W_recᵀ` (full BPTT through the recurrent spikes; `v = 0.95·v + I`, threshold 1,
//! subtractive reset not differentiated, fast sigmoid of slope 10) → `Linear(H, 20)` → LI
//! readout (decay 0.95) → cross-entropy on the readout summed over time, Adam (lr 1e-3). `train`:
//! forward, backward and the Adam step on an autodiff device; `forward`: the network alone.
//! H = 256, 1024. The `on` workload (the Open Neuromorphic shape) is the `on` group of
//! `benches/standard_workload.rs`.
//!
//! Paths: `optimized` is what the layers do by default: the cell takes the fused recurrent op
//! (`fused::recurrent_leaky_sequence`, event-driven input projection and recurrent current), the
//! readout `SpikeLinear` its event path, the LI readout the fused op, and Adam is
//! [`FusedAdam`](snn_core::optim::FusedAdam). `reference` is the step-by-step composition
//! (`Execution::Reference`: a dense input and recurrent product per step), the dense readout
//! matmul, and burn's `Adam`.
//!
//! **density**: forward + backward of the fused recurrent op alone (H = 1024, batch 32, 100
//! steps) at several spike densities, with the recurrent weight gradient forced to the event
//! loop and to the matrix product; the measured density is in the benchmark name.
//!
//! `cargo bench --bench recurrent_workload` (`-- recurrent/` or `-- density/` for one group;
//! `SNN_BENCH_BACKENDS=flex` for one backend). On this 2-core machine, run it alone.

mod common;

use std::hint::black_box;

use burn::module::Module;
use burn::prelude::*;
use criterion::{BenchmarkId, Criterion};

use common::{PATHS, backends, bench_train, class_targets, slow_group, spikes};
use snn_core::encode::SpikeRng;
use snn_core::fused::{self, Execution};
use snn_core::neuron::{Recurrent, RecurrentConfig};
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

/// The workload's LIF: `v = 0.95·v + I`, threshold 1, subtractive reset (detached), fast
/// sigmoid of slope 10.
fn lif_config(size: usize, execution: Execution) -> LifConfig {
    LifConfig::new(size)
        .with_tau_syn_ms(None)
        .with_tau_mem_ms(tau_for_decay(0.95))
        .with_discretization(Discretization::ExactDecay)
        .with_reset(Reset::Subtract)
        .with_detach_reset(true)
        .with_surrogate(Surrogate::FastSigmoid { slope: 10.0 })
        .with_execution(execution)
}

/// Input → recurrent LIF → readout.
#[derive(Module, Debug)]
struct Net {
    cell: Recurrent<Lif>,
    output: SpikeLinear,
    readout: Li,
}

impl Net {
    fn new(hidden: usize, optimized: bool, device: &Device) -> Self {
        let execution = if optimized {
            Execution::Auto
        } else {
            Execution::Reference
        };
        let lif = lif_config(hidden, execution).init(device).unwrap();
        // the peers' initialization (torch's Linear): U(±1/√fan_in), which sets the hidden
        // spike rate (about 1 %, as the peers report)
        let mut rng = SpikeRng::new(7);
        let mut uniform = |dims: [usize; 2], fan_in: usize| {
            let bound = 1.0 / (fan_in as f32).sqrt();
            let values: Vec<f32> = rng
                .uniform(dims[0] * dims[1])
                .into_iter()
                .map(|u| (2.0 * u - 1.0) * bound)
                .collect();
            Tensor::<1>::from_floats(values.as_slice(), device).reshape(dims)
        };
        let w_in = uniform([hidden, INPUTS], INPUTS);
        let w_rec = uniform([hidden, hidden], hidden);
        let mut cell = RecurrentConfig::new(INPUTS, hidden)
            .with_bias(true)
            .with_autapses(true)
            .init(lif, device)
            .unwrap()
            .with_weights(w_in, w_rec)
            .unwrap();
        cell.input_bias = Some(burn::module::Param::from_tensor(
            uniform([1, hidden], INPUTS).reshape([hidden]),
        ));
        Self {
            cell,
            output: SpikeLinearConfig::new(hidden, CLASSES)
                .with_sparse_threshold(if optimized { 0.15 } else { 0.0 })
                .init(device)
                .unwrap(),
            readout: LiConfig::new(CLASSES)
                .with_tau_syn_ms(None)
                .with_tau_mem_ms(tau_for_decay(0.95))
                .with_discretization(Discretization::ExactDecay)
                .with_execution(execution)
                .init(device)
                .unwrap(),
        }
    }

    /// The readout membrane summed over time, `[batch, classes]`.
    fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let spikes = self.cell.forward(x).unwrap().spikes;
        let out = self.output.forward(spikes).unwrap();
        self.readout
            .forward(out)
            .unwrap()
            .spikes
            .sum_dim(1)
            .squeeze_dim(1)
    }
}

fn recurrent(c: &mut Criterion) {
    let mut group = slow_group(c, "recurrent");
    for (backend, device) in backends() {
        let train_device = device.clone().autodiff();
        let x = spikes([BATCH, STEPS, INPUTS], 0, DENSITY, &device);
        let x_train = x.clone().to_device(&train_device);
        let targets = class_targets(BATCH, CLASSES, &train_device);
        for hidden in [256, 1024] {
            for (path, optimized) in PATHS {
                let net = Net::new(hidden, optimized, &device);
                let rate = net
                    .cell
                    .forward(x.clone())
                    .unwrap()
                    .spikes
                    .mean()
                    .into_scalar::<f32>();
                eprintln!("{backend} H={hidden} {path}: hidden spike rate {rate:.4}");
                group.bench_function(
                    BenchmarkId::new(format!("{backend}/forward/{path}"), hidden),
                    |b| b.iter(|| black_box(net.forward(x.clone()))),
                );
                bench_train(
                    &mut group,
                    BenchmarkId::new(format!("{backend}/train/{path}"), hidden),
                    Net::new(hidden, optimized, &train_device),
                    optimized,
                    |net| net.forward(x_train.clone()),
                    &targets,
                );
            }
        }
    }
    group.finish();
}

/// Forward + backward of the fused recurrent op alone at several spike densities, with the
/// recurrent weight gradient by events (`event`) and by the matrix product (`dense`).
fn density(c: &mut Criterion) {
    let mut group = slow_group(c, "density");
    let hidden = 1024;
    for (backend, device) in backends() {
        let device = device.autodiff();
        let lif = lif_config(hidden, Execution::Auto).init(&device).unwrap();
        let (coef, spec) = lif.fused_operands();
        let w_rec = Tensor::<2>::random(
            [hidden, hidden],
            burn::tensor::Distribution::Normal(0.0, 0.02),
            &device,
        )
        .require_grad();
        let zeros = || Tensor::<2>::zeros([BATCH, hidden], &device);
        // a constant drive d spikes about every 1/d-th step... the measured rate is what counts
        for drive in [0.02f32, 0.05, 0.1, 0.2, 0.4] {
            let x = Tensor::<3>::random(
                [BATCH, STEPS, hidden],
                burn::tensor::Distribution::Uniform(0.0, 2.0 * f64::from(drive)),
                &device,
            )
            .require_grad();
            let run = || {
                let (z, _, _) = fused::recurrent_leaky_sequence(
                    x.clone(),
                    zeros(),
                    zeros(),
                    zeros(),
                    w_rec.clone(),
                    coef.clone(),
                    spec,
                );
                z
            };
            let rate = f64::from(run().mean().into_scalar::<f32>());
            for (kind, above) in [("event", 1.0), ("dense", 0.0)] {
                group.bench_function(
                    BenchmarkId::new(format!("{backend}/{kind}"), format!("{rate:.3}")),
                    |b| {
                        fused::set_dense_weight_gradient_above(above);
                        b.iter(|| {
                            let grads = run().sum().backward();
                            black_box(w_rec.grad(&grads))
                        });
                        fused::set_dense_weight_gradient_above(fused::DENSE_WEIGHT_GRADIENT);
                    },
                );
            }
        }
    }
    group.finish();
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    recurrent(&mut c);
    density(&mut c);
    c.final_summary();
}

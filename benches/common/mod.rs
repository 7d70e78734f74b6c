//! Helpers shared by the workload benchmarks (`mod common;` in each): the input spikes, the
//! backends under test and the criterion group settings.

use std::time::Duration;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};
use snn_core::encode::SpikeRng;
use snn_core::optim::FusedAdamConfig;

/// Bernoulli(`density`) spikes of `shape` from a seeded host generator (the same on every
/// backend).
pub fn spikes(shape: [usize; 3], seed: u64, density: f64, device: &Device) -> Tensor<3> {
    let mut rng = SpikeRng::new(seed);
    let n = shape.iter().product::<usize>();
    let threshold = (density * u64::MAX as f64) as u64;
    let values: Vec<f32> = (0..n)
        .map(|_| f32::from(u8::from(rng.next_u64() < threshold)))
        .collect();
    Tensor::<1>::from_floats(values.as_slice(), device).reshape(shape)
}

/// The backends in `SNN_BENCH_BACKENDS` (default `ndarray,flex`; `wgpu` with `--features gpu`).
pub fn backends() -> Vec<(&'static str, Device)> {
    let wanted = std::env::var("SNN_BENCH_BACKENDS").unwrap_or_else(|_| "ndarray,flex".into());
    let mut out = Vec::new();
    for name in wanted.split(',') {
        #[allow(deprecated)] // burn 0.22 deprecates ndarray, which we still measure
        match name.trim() {
            "ndarray" => out.push(("ndarray", Device::ndarray())),
            "flex" => out.push(("flex", Device::flex())),
            #[cfg(feature = "gpu")]
            "wgpu" => out.push((
                "wgpu",
                Device::wgpu_options()
                    .init()
                    .expect("SNN_BENCH_BACKENDS names wgpu but there is no wgpu adapter"),
            )),
            other => panic!(
                "unknown backend `{other}` in SNN_BENCH_BACKENDS (ndarray, flex; wgpu with \
                 --features gpu)"
            ),
        }
    }
    out
}

/// A benchmark group for steps of tens to thousands of milliseconds: 10 samples, 2 s warm-up,
/// 6 s of measurement (overridable from the command line).
pub fn slow_group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6));
    group
}

/// The two paths every workload measures side by side: what the layers do by default
/// (`optimized`) and the step-by-step composition (`reference`).
pub const PATHS: [(&str, bool); 2] = [("optimized", true), ("reference", false)];

/// The workloads' labels: sample `b` is class `b % classes`.
pub fn class_targets(batch: usize, classes: usize, device: &Device) -> Tensor<1, Int> {
    let targets: Vec<i64> = (0..batch as i64).map(|b| b % classes as i64).collect();
    Tensor::<1, Int>::from_ints(targets.as_slice(), device)
}

/// Registers `id`: repeated train steps of `net` (its `logits`, then [`train_step`]) with the
/// path's Adam: snn-core's fused one on the optimized path, burn's on the reference path.
pub fn bench_train<M: Module>(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: BenchmarkId,
    net: M,
    optimized: bool,
    logits: impl Fn(&M) -> Tensor<2>,
    targets: &Tensor<1, Int>,
) {
    let mut optim = if optimized {
        FusedAdamConfig::new().init()
    } else {
        AdamConfig::new().init()
    };
    let mut net = Some(net);
    group.bench_function(id, |b| {
        b.iter(|| {
            let current = net.take().expect("put back after every step");
            net = Some(train_step(current, &mut optim, &logits, targets));
        })
    });
}

/// One training step of a workload: the `logits` of `net`, cross-entropy against `targets`,
/// backward, one optimizer step at learning rate 1e-3 (the peers' Adam).
fn train_step<M: Module>(
    net: M,
    optim: &mut ModuleOptimizer,
    logits: impl FnOnce(&M) -> Tensor<2>,
    targets: &Tensor<1, Int>,
) -> M {
    let logits = logits(&net);
    let loss = CrossEntropyLossConfig::new()
        .init(&targets.device())
        .forward(logits, targets.clone());
    let grads = GradientsParams::from_grads(loss.backward(), &net);
    optim.step(1e-3, net, grads)
}

//! The event-driven input layer (`SpikeLinear`) against burn's dense `Linear`, on the CPU
//! backends.
//!
//! Workload of the benchmark network's input layer: Linear(700, H) on `[32, 100, 700]`
//! Bernoulli(0.05) spikes, H = 256 / 1024 / 4096. Forward alone on a plain device; forward +
//! backward (of `out.sum()`, gradients of weight and bias, the input being data) on an autodiff
//! device.
//!
//! `cargo bench --bench sparse_input -- --warm-up-time 1 --measurement-time 3`
//!
//! After criterion's measurements, a summary table prints the median times and the dense/event
//! ratio, then a density sweep (H = 1024, forward + backward, event path forced with threshold 1)
//! that locates the crossover behind `DEFAULT_SPARSE_THRESHOLD`.
//! `SPARSE_BENCH_SUMMARY_ONLY=1` skips criterion and prints only the tables.

#![allow(deprecated)] // burn 0.22 deprecates ndarray, which we still support and measure.

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use criterion::{BenchmarkId, Criterion};
use snn_core::sparse::{SparsePath, SpikeLinear, last_path};

const BATCH: usize = 32;
const STEPS: usize = 100;
const D_IN: usize = 700;
const SIZES: [usize; 3] = [256, 1024, 4096];
const DENSITY: f64 = 0.05;

fn spikes(density: f64, device: &Device) -> Tensor<3> {
    Tensor::random(
        [BATCH, STEPS, D_IN],
        Distribution::Bernoulli(density),
        device,
    )
}

/// The two layers with the same parameters; `threshold` is the event layer's density threshold.
fn layers(size: usize, threshold: f32, device: &Device) -> (Linear, SpikeLinear) {
    let dense = LinearConfig::new(D_IN, size).init(device);
    let event = SpikeLinear::from_linear(dense.clone())
        .with_sparse_threshold(threshold)
        .unwrap();
    (dense, event)
}

fn forward(dense: &Linear, event: &SpikeLinear, use_event: bool, x: &Tensor<3>) {
    let out = if use_event {
        event.forward(x.clone()).unwrap()
    } else {
        dense.forward(x.clone())
    };
    black_box(out.into_data());
}

fn forward_backward(dense: &Linear, event: &SpikeLinear, use_event: bool, x: &Tensor<3>) {
    let (out, weight) = if use_event {
        (event.forward(x.clone()).unwrap(), &event.weight)
    } else {
        (dense.forward(x.clone()), &dense.weight)
    };
    let grads = out.sum().backward();
    black_box(weight.grad(&grads).unwrap().into_data());
}

fn backends() -> [(&'static str, Device); 2] {
    [("ndarray", Device::ndarray()), ("flex", Device::flex())]
}

const IMPLS: [(&str, bool); 2] = [("event", true), ("dense", false)];

fn benches(c: &mut Criterion) {
    for (name, device) in backends() {
        let ad = device.clone().autodiff();
        let x = spikes(DENSITY, &device);
        let xa = x.clone().to_device(&ad);
        for size in SIZES {
            let (dense, event) = layers(size, 0.15, &device);
            let (dense_ad, event_ad) = layers(size, 0.15, &ad);
            let mut group = c.benchmark_group(format!("linear700/{name}/H{size}"));
            group.sample_size(10);
            for (label, use_event) in IMPLS {
                group.bench_function(BenchmarkId::new("forward", label), |b| {
                    b.iter(|| forward(&dense, &event, use_event, &x))
                });
                group.bench_function(BenchmarkId::new("forward_backward", label), |b| {
                    b.iter(|| forward_backward(&dense_ad, &event_ad, use_event, &xa))
                });
            }
            group.finish();
        }
    }
}

/// Median wall time of `f` over `runs` runs (after one warm-up run).
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn summary() {
    println!(
        "\nLinear(700, H) on [32, 100, 700] Bernoulli({DENSITY}) spikes\n\
         {:<8} {:>5} | {:>10} {:>10} {:>6} | {:>10} {:>10} {:>6}",
        "backend", "H", "fwd event", "fwd dense", "d/e", "f+b event", "f+b dense", "d/e"
    );
    for (name, device) in backends() {
        let ad = device.clone().autodiff();
        let x = spikes(DENSITY, &device);
        let xa = x.clone().to_device(&ad);
        for size in SIZES {
            let (dense, event) = layers(size, 0.15, &device);
            let (dense_ad, event_ad) = layers(size, 0.15, &ad);
            let runs = 5;
            let fe = median(runs, || forward(&dense, &event, true, &x));
            assert_eq!(last_path(), Some(SparsePath::Event));
            let fd = median(runs, || forward(&dense, &event, false, &x));
            let be = median(runs, || forward_backward(&dense_ad, &event_ad, true, &xa));
            let bd = median(runs, || forward_backward(&dense_ad, &event_ad, false, &xa));
            println!(
                "{:<8} {:>5} | {:>10} {:>10} {:>6.1} | {:>10} {:>10} {:>6.1}",
                name,
                size,
                ms(fe),
                ms(fd),
                fd.as_secs_f64() / fe.as_secs_f64(),
                ms(be),
                ms(bd),
                bd.as_secs_f64() / be.as_secs_f64(),
            );
        }
    }
    let size = 1024;
    println!(
        "\ndensity sweep, H = {size}, forward + backward, event path forced (threshold 1)\n\
         {:<8} {:>7} | {:>10} {:>10} {:>6}",
        "backend", "density", "f+b event", "f+b dense", "d/e"
    );
    for (name, device) in backends() {
        let ad = device.autodiff();
        let (dense_ad, event_ad) = layers(size, 1.0, &ad);
        for density in [0.05, 0.1, 0.15, 0.2, 0.3, 0.5] {
            let xa = spikes(density, &ad);
            let be = median(3, || forward_backward(&dense_ad, &event_ad, true, &xa));
            assert_eq!(last_path(), Some(SparsePath::Event));
            let bd = median(3, || forward_backward(&dense_ad, &event_ad, false, &xa));
            println!(
                "{:<8} {:>7.2} | {:>10} {:>10} {:>6.2}",
                name,
                density,
                ms(be),
                ms(bd),
                bd.as_secs_f64() / be.as_secs_f64(),
            );
        }
    }
}

fn main() {
    let only_summary = std::env::var("SPARSE_BENCH_SUMMARY_ONLY").is_ok_and(|v| v == "1");
    if !only_summary {
        let mut c = Criterion::default().configure_from_args();
        benches(&mut c);
        c.final_summary();
    }
    // Only a benchmark run (`cargo bench` passes `--bench`) prints the long summary: `cargo test
    // --benches` runs this binary without arguments (criterion's test mode), `--list` lists.
    if std::env::args().any(|a| a == "--bench") && !std::env::args().any(|a| a == "--list") {
        summary();
    }
}

//! The LIF layer alone, fused multi-step op against the reference step loop
//! (`Execution::Reference`), on the CPU backends.
//!
//! Workload: batch 32, T = 100 and 500 steps, N = 256 / 1024 / 4096 neurons, snnTorch
//! `Leaky(beta = 0.95)` (delayed subtractive reset, threshold 1) with a fast-sigmoid surrogate of
//! slope 10: `LifConfig::from_beta(N, 0.95)`. Forward alone on a plain device, forward + backward
//! (of `spikes.sum()`) on an autodiff device.
//!
//! `cargo bench --bench lif_fused -- --warm-up-time 1 --measurement-time 3`
//! (`LIF_BENCH_SUMMARY_ONLY=1`: the summary table only; `LIF_BENCH_OP_ONLY=1`: the op's
//! bandwidth only, without the reference runs, which take minutes at T = 500)
//!
//! After criterion's measurements, a summary table prints the median times, the fused/reference
//! ratio and the fused op's achieved bandwidth next to a measured memcpy bandwidth. Bytes moved
//! by the fused forward + backward per neuron and step: the forward reads `x` and writes the
//! spikes and the packed surrogate derivative and spike it keeps (4 + 4 + 3 B), the backward
//! reads those and the output gradient and writes the input gradient (3 + 4 + 4 B): 22 B.
//!
//! Two bandwidth figures: "layer" divides by the layer's forward + backward on an autodiff device
//! (which includes burn building the all-ones gradient of `sum()` and the autodiff bookkeeping),
//! "op" by the op alone: [`FusedLeakyBackend::leaky_forward_saving`] then
//! [`FusedLeakyBackend::leaky_backward`] on the plain device, with the inputs and the output
//! gradient made before the clock starts and handed over (so the op writes over them, as it does
//! inside a network).

#![allow(deprecated)] // the ndarray backend is deprecated in burn 0.22 but still benchmarked

use std::hint::black_box;
use std::time::{Duration, Instant};

use burn::backend::Dispatch;
use burn::prelude::*;
use criterion::{BenchmarkId, Criterion, Throughput};
use snn_core::fused::{Execution, FusedLeakyBackend};
use snn_core::{LifConfig, Neuron, Surrogate};

const BATCH: usize = 32;
const STEPS: [usize; 2] = [100, 500];
const SIZES: [usize; 3] = [256, 1024, 4096];
/// Bytes the fused forward + backward moves per neuron and step (see the module docs).
const FUSED_BYTES_PER_NEURON_STEP: usize = 22;

fn config(size: usize, execution: Execution) -> LifConfig {
    LifConfig::from_beta(size, 0.95)
        .unwrap()
        .with_surrogate(Surrogate::FastSigmoid { slope: 10.0 })
        .with_execution(execution)
}

fn input(steps: usize, size: usize, device: &Device) -> Tensor<3> {
    // currents in [-0.3, 0.6): a firing rate of a few percent to a few tens of percent
    Tensor::random(
        [BATCH, steps, size],
        burn::tensor::Distribution::Uniform(-0.3, 0.6),
        device,
    )
}

fn forward(device: &Device, execution: Execution, x: &Tensor<3>) {
    let size = x.dims()[2];
    let lif = config(size, execution).init(device).unwrap();
    black_box(lif.forward(x.clone()).unwrap().spikes);
}

fn forward_backward(device: &Device, execution: Execution, x: &Tensor<3>) {
    let size = x.dims()[2];
    let lif = config(size, execution).init(device).unwrap();
    let x = x.clone().require_grad();
    let grads = lif.forward(x.clone()).unwrap().spikes.sum().backward();
    black_box(x.grad(&grads).unwrap());
}

/// The fused op alone: forward (keeping the membrane) then backward, on a plain device. The
/// input, the output gradient and the states are made before the clock starts; the op gets the
/// only handle to the input and the output gradient (as inside a network). Returns the op's time.
fn op_forward_backward(device: &Device, x: &Tensor<3>) -> Duration {
    let [batch, _, size] = x.dims();
    let lif = config(size, Execution::Auto).init(device).unwrap();
    let (coef, spec) = lif.fused_operands();
    let zeros = || Tensor::<2>::zeros([batch, size], device).into_dispatch();
    let (v0, i0, v0_back, grad_v, grad_i) = (zeros(), zeros(), zeros(), zeros(), zeros());
    let (coef, coef_back) = (coef.clone().into_dispatch(), coef.into_dispatch());
    let grad_out = x.ones_like().into_dispatch();
    let x = (x.clone() + 0.0).into_dispatch();
    let in_place_before = snn_core::fused::in_place_runs();
    let start = Instant::now();
    let (spikes, _, _, u) =
        <Dispatch as FusedLeakyBackend>::leaky_forward_saving(x, v0, i0, coef, spec);
    let (gx, _, _) = <Dispatch as FusedLeakyBackend>::leaky_backward(
        u, v0_back, coef_back, grad_out, grad_v, grad_i, spec,
    );
    let elapsed = start.elapsed();
    black_box((spikes, gx));
    assert_eq!(
        snn_core::fused::in_place_runs() - in_place_before,
        2,
        "the op did not run in place"
    );
    elapsed
}

fn backends() -> [(&'static str, Device); 2] {
    [("ndarray", Device::ndarray()), ("flex", Device::flex())]
}

fn benches(c: &mut Criterion) {
    for (name, device) in backends() {
        for steps in STEPS {
            for size in SIZES {
                let x = input(steps, size, &device);
                let xa = input(steps, size, &device.clone().autodiff());
                let elems = (BATCH * steps * size) as u64;
                let mut group = c.benchmark_group(format!("lif/{name}/T{steps}/N{size}"));
                group.sample_size(10);
                group.throughput(Throughput::Bytes(
                    elems * FUSED_BYTES_PER_NEURON_STEP as u64,
                ));
                for (label, execution) in [
                    ("fused", Execution::Auto),
                    ("reference", Execution::Reference),
                ] {
                    group.bench_function(BenchmarkId::new("forward", label), |b| {
                        b.iter(|| forward(&device, execution, &x))
                    });
                    let ad = device.clone().autodiff();
                    group.bench_function(BenchmarkId::new("forward_backward", label), |b| {
                        b.iter(|| forward_backward(&ad, execution, &xa))
                    });
                }
                group.finish();
            }
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

/// memcpy bandwidth (bytes read + written per second) of a 256 MiB `copy_from_slice`.
fn memcpy_bandwidth() -> f64 {
    let n = 64 << 20;
    let src = vec![1.0f32; n];
    let mut dst = vec![0.0f32; n];
    let t = median(5, || {
        dst.copy_from_slice(black_box(&src));
        black_box(&mut dst);
    });
    (2 * 4 * n) as f64 / t.as_secs_f64()
}

/// Median of `runs` [`op_forward_backward`] times (after one warm-up run).
fn op_median(runs: usize, device: &Device, x: &Tensor<3>) -> Duration {
    let mut times: Vec<Duration> = (0..=runs)
        .map(|_| op_forward_backward(device, x))
        .skip(1)
        .collect();
    times.sort();
    times[runs / 2]
}

/// The op's bandwidth alone (`LIF_BENCH_OP_ONLY=1`: no reference runs, which take minutes).
fn op_summary() {
    let memcpy = memcpy_bandwidth();
    println!(
        "\nmemcpy bandwidth (read + write): {:.2} GB/s\n",
        memcpy / 1e9
    );
    println!(
        "{:<8} {:>4} {:>5} | {:>10} {:>7}",
        "backend", "T", "N", "op f+b", "op %"
    );
    for (name, device) in backends() {
        for steps in STEPS {
            for size in SIZES {
                let x = input(steps, size, &device);
                let op = op_median(9, &device, &x);
                let bytes = (BATCH * steps * size * FUSED_BYTES_PER_NEURON_STEP) as f64;
                println!(
                    "{:<8} {:>4} {:>5} | {:>7.2} ms {:>6.0}%",
                    name,
                    steps,
                    size,
                    op.as_secs_f64() * 1e3,
                    100.0 * bytes / op.as_secs_f64() / memcpy
                );
            }
        }
    }
}

fn summary() {
    let memcpy = memcpy_bandwidth();
    println!(
        "\nmemcpy bandwidth (read + write): {:.2} GB/s\n",
        memcpy / 1e9
    );
    println!(
        "{:<8} {:>4} {:>5} | {:>10} {:>10} {:>6} | {:>10} {:>10} {:>6} | {:>7} {:>10} {:>7}",
        "backend",
        "T",
        "N",
        "fwd fused",
        "fwd ref",
        "ref/f",
        "f+b fused",
        "f+b ref",
        "ref/f",
        "layer %",
        "op f+b",
        "op %"
    );
    for (name, device) in backends() {
        let ad = device.clone().autodiff();
        for steps in STEPS {
            for size in SIZES {
                let x = input(steps, size, &device);
                let xa = input(steps, size, &ad);
                let runs = 5;
                let ff = median(runs, || forward(&device, Execution::Auto, &x));
                let fr = median(runs, || forward(&device, Execution::Reference, &x));
                let bf = median(runs, || forward_backward(&ad, Execution::Auto, &xa));
                let br = median(runs, || forward_backward(&ad, Execution::Reference, &xa));
                let op = op_median(runs, &device, &x);
                let bytes = (BATCH * steps * size * FUSED_BYTES_PER_NEURON_STEP) as f64;
                let share = |d: Duration| 100.0 * bytes / d.as_secs_f64() / memcpy;
                let ms = |d: Duration| format!("{:.2} ms", d.as_secs_f64() * 1e3);
                println!(
                    "{:<8} {:>4} {:>5} | {:>10} {:>10} {:>6.1} | {:>10} {:>10} {:>6.1} | {:>6.0}% {:>10} {:>6.0}%",
                    name,
                    steps,
                    size,
                    ms(ff),
                    ms(fr),
                    fr.as_secs_f64() / ff.as_secs_f64(),
                    ms(bf),
                    ms(br),
                    br.as_secs_f64() / bf.as_secs_f64(),
                    share(bf),
                    ms(op),
                    share(op)
                );
            }
        }
    }
}

fn main() {
    if std::env::var("LIF_BENCH_OP_ONLY").is_ok_and(|v| v == "1") {
        op_summary();
        return;
    }
    let only_summary = std::env::var("LIF_BENCH_SUMMARY_ONLY").is_ok_and(|v| v == "1");
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

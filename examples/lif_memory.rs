//! Activation memory of a LIF layer for a 1000-step sequence: the bytes the autodiff graph keeps
//! for the backward pass, per neuron and step, fused op against the reference step loop; and of
//! a recurrent LIF cell (`Recurrent<Lif>`, input projection included: the fused recurrent op
//! against the cell's step loop).
//!
//! A counting global allocator measures the live heap bytes before the forward pass (input and
//! layer allocated) and after it (the graph holding what the backward needs, plus the output
//! spikes); the output itself (4 bytes per neuron and step) is subtracted, since the next layer
//! needs it whatever the neuron implementation. Then the backward runs, to check the graph was
//! complete.
//!
//! `cargo run --release --example lif_memory`

#![allow(deprecated)] // the ndarray backend is deprecated in burn 0.22 but still measured

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use burn::prelude::*;
use snn_core::fused::Execution;
use snn_core::neuron::RecurrentConfig;
use snn_core::{LiConfig, LifConfig, Neuron, Surrogate};

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const BATCH: usize = 4;
const STEPS: usize = 1000;
const SIZE: usize = 256;

/// Bytes kept per neuron and step after the forward pass (output excluded).
fn kept_per_neuron_step(device: &Device, run: impl Fn(Tensor<3>) -> Tensor<3>) -> f64 {
    let x = Tensor::<3>::random(
        [BATCH, STEPS, SIZE],
        burn::tensor::Distribution::Uniform(-0.3, 0.6),
        device,
    )
    .require_grad();
    // buffers an earlier run gave back would serve this one's output without an allocation
    snn_core::fused::release_spare_buffers();
    let before = LIVE.load(Ordering::SeqCst);
    let out = run(x.clone());
    let after = LIVE.load(Ordering::SeqCst);
    let elems = BATCH * STEPS * SIZE;
    let kept = after as f64 - before as f64 - (4 * elems) as f64;
    let grads = out.sum().backward();
    assert!(x.grad(&grads).is_some());
    kept / elems as f64
}

fn main() {
    println!(
        "bytes kept for the backward per neuron per step (batch {BATCH}, T = {STEPS}, N = {SIZE}):"
    );
    for (name, device) in [("ndarray", Device::ndarray()), ("flex", Device::flex())] {
        let device = device.autodiff();
        let mut row = Vec::new();
        for execution in [Execution::Auto, Execution::Reference] {
            let lif = LifConfig::from_beta(SIZE, 0.95)
                .unwrap()
                .with_surrogate(Surrogate::FastSigmoid { slope: 10.0 })
                .with_execution(execution)
                .init(&device)
                .unwrap();
            let lif_bytes = kept_per_neuron_step(&device, |x| lif.forward(x).unwrap().spikes);
            let norse = LifConfig::new(SIZE)
                .with_execution(execution)
                .init(&device)
                .unwrap();
            let norse_bytes = kept_per_neuron_step(&device, |x| norse.forward(x).unwrap().spikes);
            let li = LiConfig::new(SIZE)
                .with_execution(execution)
                .init(&device)
                .unwrap();
            let li_bytes = kept_per_neuron_step(&device, |x| li.forward(x).unwrap().spikes);
            // snnTorch's RLeaky-style cell: SIZE inputs → SIZE recurrent neurons
            let cell = RecurrentConfig::new(SIZE, SIZE)
                .init(
                    LifConfig::from_beta(SIZE, 0.95)
                        .unwrap()
                        .with_surrogate(Surrogate::FastSigmoid { slope: 10.0 })
                        .with_execution(execution)
                        .init(&device)
                        .unwrap(),
                    &device,
                )
                .unwrap();
            let rec_bytes = kept_per_neuron_step(&device, |x| cell.forward(x).unwrap().spikes);
            row.push((execution, lif_bytes, norse_bytes, li_bytes, rec_bytes));
        }
        for (execution, lif, norse, li, rec) in &row {
            println!(
                "  {name:<8} {execution:<10?} snntorch LIF {lif:6.2} B | norse LIF (synapse) {norse:6.2} B | LI readout {li:6.2} B | recurrent LIF cell {rec:6.2} B"
            );
        }
        let (f, r) = (&row[0], &row[1]);
        println!(
            "  {name:<8} reference/fused: snntorch LIF {:.1}x, norse LIF {:.1}x, recurrent cell {:.1}x",
            r.1 / f.1,
            r.2 / f.2,
            r.4 / f.4
        );
    }
}

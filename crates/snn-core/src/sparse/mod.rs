//! Event-driven input layers for sparse binary spike trains.
//!
//! An input layer of a spiking network multiplies spike trains by a weight matrix:
//! `out[b, t, :] = bias + x[b, t, :] · W` with `x ∈ {0, 1}`. With 5 % of the inputs active (a
//! typical spike density), a dense matmul spends 95 % of its work multiplying by zero. The
//! event-driven form sums only the weight rows of the active inputs:
//!
//! ```text
//! out[b, t, :] = bias + Σ_{i : x[b, t, i] = 1} W[i, :]          (forward)
//! ∂L/∂W[i, :] = Σ_{(b, t) : x[b, t, i] = 1} ∂L/∂out[b, t, :]      (backward, weight)
//! ∂L/∂bias    = Σ_{b, t} ∂L/∂out[b, t, :]
//! ∂L/∂x       = ∂L/∂out · Wᵀ                                      (dense; only if x needs it)
//! ```
//!
//! `∂L/∂x` is a dense product: a matmul, except for a narrow layer (at most
//! 64 outputs, such as a readout) whose input gradient is 32 MiB or more, where a host loop
//! writes it into the buffer of the input it read (see [`host_input_gradients`]).
//!
//! `W` is `[d_input, d_output]`, burn's `Linear` layout, so `W[i, :]` is a contiguous row.
//!
//! [`spike_linear`] (and the [`SpikeLinear`] module built on it) scans the input once per call:
//! when every value is exactly 0.0 or 1.0 and the fraction of ones is at most a threshold
//! ([`DEFAULT_SPARSE_THRESHOLD`], see [`choose_path`]), it takes the event path, and otherwise
//! computes the dense `x · W + b`. The results and gradients are the same up to float summation
//! order. The event list of the forward pass is kept for the backward pass (only indices).
//!
//! Backends: NdArray and Flex run the event path on the CPU (parallel over output rows with
//! rayon, reading tensor memory in place); wgpu keeps the dense matmul (no CubeCL kernel yet).
//! [`last_path`] tells which path the last call on this thread took.

mod cpu;
mod linear;
mod op;

use burn::backend::Dispatch;
use burn::tensor::Tensor;

pub use cpu::{
    ScanOutcome, SpikeEvents, forward as event_forward, grad_weight as event_grad_weight, scan,
};
pub use linear::{SpikeLinear, SpikeLinearConfig};
pub use op::{SparseBackend, SpikeLinearBackward, SpikeLinearState};

use crate::SnnError;

/// The density (fraction of ones) up to which [`spike_linear`] takes the event path.
///
/// The event path does about `density · d_input` row additions per output row where the dense
/// matmul does `d_input` multiply-adds at a higher rate (blocked GEMM). 0.15 covers the usual
/// 1-10 % of spike inputs with a margin: in the density sweep of `benches/sparse_input.rs`
/// (forward + backward of Linear(700, 1024), batch 32 × 100 steps, event path forced vs burn's
/// dense `Linear`, 2 cores, 2026-11-22) the event path was 2.3x (flex) and 1.8x (ndarray) faster
/// at 0.15, still 1.3x faster at 0.30 and slower at 0.50; the margin is for machines and widths
/// where the dense matmul does relatively better. Run the sweep to place the crossover on yours.
pub const DEFAULT_SPARSE_THRESHOLD: f32 = 0.15;

/// The computation [`spike_linear`] uses for one call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SparsePath {
    /// Sum of the weight rows of the active inputs (binary input, density ≤ threshold, CPU backend).
    Event,
    /// The dense matmul `x · W + b` (non-binary or dense input, or a backend without an event path).
    Dense,
}

/// The rule [`spike_linear`] applies on a backend with an event path: [`SparsePath::Event`] iff the
/// input is binary (every value exactly 0.0 or 1.0) and its density (fraction of ones) is at most
/// `threshold`.
pub fn choose_path(density: f64, binary: bool, threshold: f32) -> SparsePath {
    if binary && density <= f64::from(threshold) {
        SparsePath::Event
    } else {
        SparsePath::Dense
    }
}

std::thread_local! {
    static LAST_PATH: core::cell::Cell<Option<SparsePath>> = const { core::cell::Cell::new(None) };
    static HOST_INPUT_GRADIENTS: core::cell::Cell<usize> = const { core::cell::Cell::new(0) };
}

/// How many backward passes on this thread so far computed `∂L/∂x` of a narrow layer with the
/// host loop instead of a matmul (a diagnostic, like [`last_path`]): on ndarray and flex, for a
/// layer with at most 64 outputs whose input gradient takes 32 MiB or more. That loop writes the
/// gradient into the buffer of the spikes the forward pass read (given back once read, when
/// nothing else held them) instead of into fresh pages, which the kernel would fault in and zero.
pub fn host_input_gradients() -> usize {
    HOST_INPUT_GRADIENTS.with(core::cell::Cell::get)
}

pub(crate) fn count_host_input_gradient() {
    HOST_INPUT_GRADIENTS.with(|c| c.set(c.get() + 1));
}

pub(crate) fn set_last_path(path: SparsePath) {
    LAST_PATH.with(|p| p.set(Some(path)));
}

/// The path the last [`spike_linear`] call on this thread took (`None` before the first call).
/// For tests and diagnostics.
pub fn last_path() -> Option<SparsePath> {
    LAST_PATH.with(|p| p.get())
}

/// `input · weight + bias` for a spike input `[..., d_input]` (any rank ≥ 1, e.g.
/// `[batch, time, d_input]`), a weight `[d_input, d_output]` and an optional bias `[d_output]`:
/// the same as `burn::nn::Linear::forward`, event-driven when the input is binary and at most
/// [`DEFAULT_SPARSE_THRESHOLD`] dense (see the [module docs](self)).
///
/// # Errors
/// [`SnnError::ShapeMismatch`] when the input's last axis is not `d_input` or the bias is not
/// `[d_output]`.
///
/// ```
/// use burn::prelude::*;
/// use snn_core::sparse::{SparsePath, last_path, spike_linear};
///
/// let device = Device::flex().autodiff();
/// let x = Tensor::<3>::from_floats([[[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]]], &device);
/// let w = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]], &device)
///     .require_grad();
/// let b = Tensor::<1>::from_floats([0.5, -0.5], &device);
/// let out = spike_linear(x, w.clone(), Some(b)).unwrap(); // [1, 2, 2]
/// assert_eq!(last_path(), Some(SparsePath::Event)); // binary, density 1/8
/// assert_eq!(out.to_data().try_to_vec::<f32>().unwrap(), vec![3.5, 3.5, 0.5, -0.5]);
/// let grads = out.sum().backward();
/// let gw = w.grad(&grads).unwrap().to_data().try_to_vec::<f32>().unwrap();
/// assert_eq!(gw, vec![0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]); // only input 1 fired, once
/// ```
pub fn spike_linear<const D: usize>(
    input: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> crate::Result<Tensor<D>> {
    spike_linear_with(input, weight, bias, DEFAULT_SPARSE_THRESHOLD)
}

/// [`spike_linear`] with an explicit density threshold in `[0, 1]` (0: only all-zero inputs take
/// the event path; 1: every binary input does).
///
/// # Errors
/// As [`spike_linear`], plus [`SnnError::OutOfRange`] for a threshold outside `[0, 1]`.
pub fn spike_linear_with<const D: usize>(
    input: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
    threshold: f32,
) -> crate::Result<Tensor<D>> {
    const CONTEXT: &str = "spike_linear input";
    check_threshold(threshold)?;
    let [d_input, d_output] = weight.dims();
    let dims = input.dims();
    if D == 0 || dims[D - 1] != d_input {
        return Err(SnnError::ShapeMismatch {
            context: CONTEXT,
            expected: format!("[..., {d_input}]"),
            actual: dims.to_vec(),
        });
    }
    if let Some(b) = &bias
        && b.dims() != [d_output]
    {
        return Err(SnnError::ShapeMismatch {
            context: "spike_linear bias",
            expected: format!("[{d_output}]"),
            actual: b.dims().to_vec(),
        });
    }
    let rows: usize = dims[..D - 1].iter().product();
    let x: Tensor<2> = input.reshape([rows, d_input]);
    let out = Tensor::<2>::from_dispatch(match bias {
        Some(bias) => <Dispatch as SparseBackend>::spike_linear(
            x.into_dispatch(),
            weight.into_dispatch(),
            bias.into_dispatch(),
            threshold,
        ),
        None => <Dispatch as SparseBackend>::spike_linear_no_bias(
            x.into_dispatch(),
            weight.into_dispatch(),
            threshold,
        ),
    });
    let mut out_dims = dims;
    out_dims[D - 1] = d_output;
    Ok(out.reshape(out_dims))
}

pub(crate) fn check_threshold(threshold: f32) -> crate::Result<f32> {
    if (0.0..=1.0).contains(&threshold) {
        Ok(threshold)
    } else {
        Err(SnnError::out_of_range(
            "sparse_threshold",
            "[0, 1]",
            f64::from(threshold),
        ))
    }
}

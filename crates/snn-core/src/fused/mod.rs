//! Fused multi-step neuron ops: the whole time loop of a LIF or LI layer as one op.
//!
//! The reference path of a layer ([`crate::neuron::Neuron::forward_with`]) runs one small graph
//! of element-wise tensor ops per time step; on an autodiff device every one of them keeps its
//! inputs for the backward pass. The fused op [`leaky_sequence`] runs the whole sequence in one
//! call: forward, one loop over time per neuron; backward (backprop through time with the
//! surrogate derivative), one loop over time in reverse per neuron.
//!
//! # The recurrence
//!
//! Every [`Lif`](crate::Lif) and [`Li`](crate::Li) variant is one per-neuron linear recurrence
//! with a threshold (the equations are in [`crate::dynamics`]), described by a [`LeakySpec`] (the
//! forms and flags) and a coefficient tensor `[COEFFICIENTS, size]` (one row per [`Coef`]),
//! both from [`LeakyCoefficients`], the derivation the reference path uses too, so the spikes
//! are bit-equal.
//!
//! # What the backward pass keeps
//!
//! The reverse loop needs, at every step, the surrogate derivative `σ'(u − θ)` and the spike;
//! the CPU loops keep exactly that, packed into **3 bytes per neuron and step** (`σ'` as a
//! 23-bit fixed-point fraction of the surrogate's peak, [`Surrogate::peak`](crate::Surrogate::peak), and the spike bit;
//! absolute error of `σ'` at most `2.4e-7 · peak`, the order of f32 rounding, so the gradients
//! match the reference within 1e-5 while the spikes are exact). Only an undetached reset to a
//! value (Norse's default LIF, whose gradient carries `(v_reset − u)·σ'`) keeps the pre-reset
//! membrane `u` as f32 instead (4 bytes), from which the spikes and `σ'` are recomputed
//! bit-exactly. Plus the initial membrane and the coefficients (per neuron, not per step). The
//! LI readout is linear: its backward keeps nothing per step. The CubeCL kernel keeps `u` (4
//! bytes). The reference path keeps several f32 tensors per neuron and step (the spike op's
//! input, the spikes, the reset's operands...): 10.8 bytes for snnTorch's LIF
//! (`examples/lif_memory.rs`).
//!
//! # Implementations
//!
//! * CPU ([`burn::backend::NdArray`], [`burn::backend::Flex`]): one tight loop over raw `f32`
//!   slices (`cpu/`), parallel over batch × chunks of neurons with rayon, neurons contiguous
//!   and the time loop outside the neuron loop. NdArray and Flex tensors are read in place
//!   (no copy) when contiguous, and the outputs are built from the result `Vec`s without a copy.
//! * wgpu (feature `gpu`): CubeCL kernels (`cube.rs`), one thread per (batch, neuron) with the time
//!   loop inside, as a lazy Fusion operation.
//! * Autodiff: a hand-written [`Backward`](burn::backend::autodiff::ops::Backward) (`autodiff.rs`).
//! * Any other backend: [`backend_supported`] is false and the layers run their reference step
//!   loop.
//!
//! The layers pick the fused path by themselves ([`Execution::Auto`], the default) when the
//! backend and configuration allow it ([`crate::Lif::fused_path`], [`crate::Li::fused_path`]);
//! [`Execution::Reference`] forces the step-by-step composition.

mod autodiff;
pub(crate) mod cpu;
#[cfg(feature = "gpu")]
mod cube;
mod recurrent;
mod saved;

use std::cell::Cell;

use burn::backend::{Dispatch, DispatchDevice};
use burn::prelude::*;

pub use crate::dynamics::{
    COEFFICIENTS, Coef, Execution, FiringSpec, LeakyCoefficients, LeakySpec, MembraneForm,
    SynapseForm,
};

pub use cpu::{
    DENSE_WEIGHT_GRADIENT, dense_weight_gradient_above, set_dense_weight_gradient_above,
};
pub use extension::FusedLeakyBackend;
pub use recurrent::{FusedRecurrentBackend, recurrent_leaky_sequence, recurrent_supported};

/// The extension trait in a module of its own: burn 0.22 deprecates the NdArray backend, and the
/// `#[backend_extension]` expansion names it.
mod extension {
    #![allow(deprecated)]

    use burn::backend::backend_extension;
    use burn::backend::tensor::FloatTensor;

    use super::LeakySpec;
    #[cfg(feature = "gpu")]
    use super::cube;
    use crate::spike::SpikeBackend;

    /// The fused multi-step leaky recurrence as a burn backend extension.
    ///
    /// Users call [`leaky_sequence`](super::leaky_sequence); [`FusedLeakyBackend::leaky_forward_saving`] and
    /// [`FusedLeakyBackend::leaky_backward`] are the pieces the `Autodiff` implementation is built
    /// from (they are not meant to be called on an autodiff backend).
    #[backend_extension(
        Autodiff,
        NdArray,
        Flex,
        Cube: cfg(feature = "gpu"),
        Fusion: cfg(feature = "gpu")
    )]
    pub trait FusedLeakyBackend: SpikeBackend {
        /// Runs the recurrence over `x` `[batch, time, size]` from `v0`, `i0` `[batch, size]` with
        /// `coef` `[COEFFICIENTS, size]`. Returns the output (spikes, or the membrane for a
        /// leaky integrator) `[batch, time, size]` and the final `v` and `i` `[batch, size]`.
        #[fusion(meta = |x, v0, _i0, _coef, _spec| cube::forward_meta(x, v0))]
        fn leaky_forward(
            x: FloatTensor<Self>,
            v0: FloatTensor<Self>,
            i0: FloatTensor<Self>,
            coef: FloatTensor<Self>,
            spec: LeakySpec,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

        /// [`FusedLeakyBackend::leaky_forward`] that also returns what the backward pass needs, in a
        /// form private to the backend that only [`FusedLeakyBackend::leaky_backward`] reads: the
        /// pre-reset membrane `u` `[batch, time, size]`, or on the CPU backends usually the packed
        /// surrogate derivatives and spikes (see the module docs); a one-element placeholder for a
        /// leaky integrator, whose backward needs nothing.
        #[fusion(meta = |x, v0, _i0, _coef, spec| cube::forward_saving_meta(x, v0, spec))]
        fn leaky_forward_saving(
            x: FloatTensor<Self>,
            v0: FloatTensor<Self>,
            i0: FloatTensor<Self>,
            coef: FloatTensor<Self>,
            spec: LeakySpec,
        ) -> (
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
        );

        /// Backprop through time: from what [`FusedLeakyBackend::leaky_forward_saving`] kept (`u`)
        /// and the upstream gradients of the output `[batch, time, size]` and of the final `v` and
        /// `i` `[batch, size]`, the gradients of `x`, `v0` and `i0`.
        #[allow(clippy::too_many_arguments)]
        #[fusion(meta = |_u, v0, _coef, grad_out, _gv, _gi, _spec| cube::forward_meta(grad_out, v0))]
        fn leaky_backward(
            u: FloatTensor<Self>,
            v0: FloatTensor<Self>,
            coef: FloatTensor<Self>,
            grad_out: FloatTensor<Self>,
            grad_v: FloatTensor<Self>,
            grad_i: FloatTensor<Self>,
            spec: LeakySpec,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
    }
}

thread_local! {
    static LAUNCHES: Cell<usize> = const { Cell::new(0) };
    static IN_PLACE: Cell<usize> = const { Cell::new(0) };
}

/// How many fused forward ops the backends ran on this thread so far (a diagnostic: tests
/// compare it before and after a layer call to check that the fused path was taken).
pub fn launches() -> usize {
    LAUNCHES.with(Cell::get)
}

pub(crate) fn count_launch() {
    LAUNCHES.with(|c| c.set(c.get() + 1));
}

/// How many fused forward or backward passes on the CPU backends wrote their result over their
/// input sequence (the layer input, or the output gradient) on this thread so far, because the
/// op held the only handle to it (a diagnostic, like [`launches`]).
pub fn in_place_runs() -> usize {
    IN_PLACE.with(Cell::get)
}

/// Frees the spare buffers the CPU backends keep for reuse and returns how many bytes they held.
///
/// The fused neuron ops and the event-driven input layer write their large results into buffers
/// that earlier backward passes gave back, instead of asking the kernel for fresh (faulted-in,
/// zeroed) pages every step; at most 8 such buffers and 1 GiB wait between steps. Call this after
/// training when the process goes on with other work and wants that memory back. Nothing
/// else changes: later calls allocate afresh and start keeping buffers again.
pub fn release_spare_buffers() -> usize {
    crate::host::buffer::release_spare()
}

pub(crate) fn count_in_place() {
    IN_PLACE.with(|c| c.set(c.get() + 1));
}

/// Whether the fused op runs on `device` (with or without autodiff): ndarray, flex and, with
/// the `gpu` feature, the CubeCL devices (wgpu). Elsewhere the layers use their reference step
/// loop.
pub fn backend_supported(device: &Device) -> bool {
    let inner = device.clone().without_autodiff();
    matches!(
        inner.as_dispatch(),
        DispatchDevice::NdArray(_) | DispatchDevice::Flex(_)
    ) || is_cube(&inner)
}

/// A CubeCL (wgpu) device, where the op is a lazy Fusion operation.
pub(crate) fn is_cube(device: &Device) -> bool {
    #[cfg(feature = "gpu")]
    if matches!(device.as_dispatch(), DispatchDevice::Cube(_)) {
        return true;
    }
    let _ = device;
    false
}

/// Runs the fused recurrence (see the module docs) over `x` `[batch, time, size]` from the
/// state `v0`, `i0` `[batch, size]` (`i0` is ignored without a synapse; pass zeros) with the
/// coefficients `coef` `[COEFFICIENTS, size]` (from [`LeakyCoefficients::stacked`]). Returns the output
/// (spikes or, for a leaky integrator, the membrane) `[batch, time, size]`, and the final `v`
/// and `i` `[batch, size]`.
///
/// On an autodiff device, gradients flow to `x`, `v0` and `i0` (from the output and from the
/// final state); `coef` is treated as a constant. Panics on a backend where
/// [`backend_supported`] is false, on non-f32 tensors, and on a firing the op does not run
/// ([`FiringSpec::fused_supported`](crate::dynamics::FiringSpec::fused_supported) false).
pub fn leaky_sequence(
    x: Tensor<3>,
    v0: Tensor<2>,
    i0: Tensor<2>,
    coef: Tensor<2>,
    spec: LeakySpec,
) -> (Tensor<3>, Tensor<2>, Tensor<2>) {
    assert!(
        spec.firing.is_none_or(|f| f.fused_supported()),
        "fused::leaky_sequence: the relative reset, the previous-membrane spike and the \
         refractory period run only in the reference step (FiringSpec::fused_supported)"
    );
    // On CubeCL devices the op is queued on the Fusion stream and the kernel runs when the
    // stream is flushed (maybe on another thread), so it is counted here, when it is queued.
    if is_cube(&x.device().without_autodiff()) {
        count_launch();
    }
    let (out, v, i) = <Dispatch as FusedLeakyBackend>::leaky_forward(
        x.into_dispatch(),
        v0.into_dispatch(),
        i0.into_dispatch(),
        coef.detach().into_dispatch(),
        spec,
    );
    (
        Tensor::from_dispatch(out),
        Tensor::from_dispatch(v),
        Tensor::from_dispatch(i),
    )
}

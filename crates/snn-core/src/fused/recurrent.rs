//! The fused recurrent leaky op: a LIF layer driven by its input and by its own spikes of the
//! previous step through trainable recurrent weights, the whole time loop as one op.
//!
//! Each step's current is `c_t = x_t + z_{t−1}·W_recᵀ` (`x` is the input projection, computed
//! for all steps by one product before the op), then the step of [`crate::dynamics`]. The
//! reference path ([`crate::Recurrent`]'s step loop) runs a dense `[batch, H]·[H, H]` product
//! and a small graph of element-wise ops per step and keeps their operands for the backward
//! pass; the op instead
//!
//! * adds, per step and batch row, the rows of `W_recᵀ` of the neurons that spiked (an event
//!   list: SNN hidden layers fire at 1-5 %), and keeps only the pre-reset membrane (4 bytes per
//!   neuron and step);
//! * runs backprop through time in reverse with the surrogate derivative, one dense product per
//!   step for the gradient sent back through the recurrent weights, and accumulates the gradient
//!   of `W_rec` after the loop: event by event on the CPU (one product above
//!   [`DENSE_WEIGHT_GRADIENT`](crate::fused::DENSE_WEIGHT_GRADIENT) activity), one product on
//!   wgpu.
//!
//! It runs on ndarray and flex (the loops of `cpu/recurrent.rs`) and on wgpu (the CubeCL kernels
//! of `cube.rs`: one cube per batch row, a storage barrier per step, the `W_rec` gradient as one
//! product after the loop); [`recurrent_supported`] says where. Elsewhere the layer runs its
//! reference step loop.

use burn::backend::Dispatch;
use burn::prelude::*;

use crate::dynamics::LeakySpec;

pub use extension::FusedRecurrentBackend;

/// The extension trait in a module of its own: burn 0.22 deprecates the NdArray backend, and the
/// `#[backend_extension]` expansion names it.
mod extension {
    #![allow(deprecated)]

    use burn::backend::backend_extension;
    use burn::backend::tensor::FloatTensor;

    use crate::dynamics::LeakySpec;
    #[cfg(feature = "gpu")]
    use crate::fused::cube;
    use crate::spike::SpikeBackend;

    /// The fused recurrent leaky layer as a burn backend extension (CPU backends, CubeCL with
    /// `gpu`, and autodiff).
    ///
    /// Users call [`recurrent_leaky_sequence`](super::recurrent_leaky_sequence); the `_saving`
    /// forward and the backward are the pieces the `Autodiff` implementation is built from.
    #[backend_extension(
        Autodiff,
        NdArray,
        Flex,
        Cube: cfg(feature = "gpu"),
        Fusion: cfg(feature = "gpu")
    )]
    pub trait FusedRecurrentBackend: SpikeBackend {
        /// Runs the layer over `x` `[batch, time, size]` from the previous spikes `z0` and the
        /// state `v0`, `i0` `[batch, size]`, with the recurrent weights `w_rec`
        /// `[size (receiver), size (sender)]` and the coefficients `coef`
        /// `[COEFFICIENTS, size]`. Returns the spikes `[batch, time, size]` and the final `v`
        /// and `i` `[batch, size]`.
        #[fusion(meta = |x, _z0, v0, _i0, _w, _coef, _spec| cube::recurrent_forward_meta(x, v0))]
        fn recurrent_forward(
            x: FloatTensor<Self>,
            z0: FloatTensor<Self>,
            v0: FloatTensor<Self>,
            i0: FloatTensor<Self>,
            w_rec: FloatTensor<Self>,
            coef: FloatTensor<Self>,
            spec: LeakySpec,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

        /// [`FusedRecurrentBackend::recurrent_forward`] that also returns the pre-reset
        /// membrane `[batch, time, size]`, which the backward reads.
        #[allow(clippy::type_complexity)]
        #[fusion(meta = |x, _z0, v0, _i0, _w, _coef, _spec| cube::recurrent_forward_saving_meta(x, v0))]
        fn recurrent_forward_saving(
            x: FloatTensor<Self>,
            z0: FloatTensor<Self>,
            v0: FloatTensor<Self>,
            i0: FloatTensor<Self>,
            w_rec: FloatTensor<Self>,
            coef: FloatTensor<Self>,
            spec: LeakySpec,
        ) -> (
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
        );

        /// Backprop through time from the kept membrane `u` and the upstream gradients of the
        /// spikes `[batch, time, size]` and of the final `v`, `i` `[batch, size]`: the gradients
        /// of `x`, `z0`, `v0`, `i0` and `w_rec`.
        #[allow(clippy::too_many_arguments, clippy::type_complexity)]
        #[fusion(meta = |_u, _z0, v0, w, _coef, grad_out, _gv, _gi, _spec| cube::recurrent_backward_meta(grad_out, v0, w))]
        fn recurrent_backward(
            u: FloatTensor<Self>,
            z0: FloatTensor<Self>,
            v0: FloatTensor<Self>,
            w_rec: FloatTensor<Self>,
            coef: FloatTensor<Self>,
            grad_out: FloatTensor<Self>,
            grad_v: FloatTensor<Self>,
            grad_i: FloatTensor<Self>,
            spec: LeakySpec,
        ) -> (
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
            FloatTensor<Self>,
        );
    }
}

/// Whether [`recurrent_leaky_sequence`] runs on `device` (with or without autodiff): ndarray,
/// flex and, with the `gpu` feature, the CubeCL devices (wgpu).
pub fn recurrent_supported(device: &Device) -> bool {
    super::backend_supported(device)
}

/// Runs the fused recurrent layer (see the module docs) over the input currents `x`
/// `[batch, time, size]` from the previous spikes `z0` and the state `v0`, `i0`
/// `[batch, size]` (`i0` is ignored without a synapse; pass zeros), with the recurrent weights
/// `w_rec` `[size, size]` (row = receiver, column = sender, the layout of a `Linear`'s
/// torch-style weight; already masked if autapses are excluded)
/// and the coefficients `coef` `[COEFFICIENTS, size]` of a spiking `spec`. Returns the spikes
/// `[batch, time, size]` and the final `v` and `i` `[batch, size]`.
///
/// On an autodiff device, gradients flow to `x`, `z0`, `v0`, `i0` and `w_rec`; `coef` is a
/// constant. Panics where [`recurrent_supported`] is false, on a readout `spec` (no firing), on
/// a firing the fused ops do not run
/// ([`FiringSpec::fused_supported`](crate::dynamics::FiringSpec::fused_supported)), and on
/// inconsistent shapes.
pub fn recurrent_leaky_sequence(
    x: Tensor<3>,
    z0: Tensor<2>,
    v0: Tensor<2>,
    i0: Tensor<2>,
    w_rec: Tensor<2>,
    coef: Tensor<2>,
    spec: LeakySpec,
) -> (Tensor<3>, Tensor<2>, Tensor<2>) {
    assert!(
        spec.firing.is_some_and(|f| f.fused_supported()),
        "fused::recurrent_leaky_sequence: a spiking layer whose firing the fused ops run \
         (FiringSpec::fused_supported)"
    );
    let [batch, _, size] = x.dims();
    for (name, dims, want) in [
        ("z0", z0.dims(), [batch, size]),
        ("v0", v0.dims(), [batch, size]),
        ("i0", i0.dims(), [batch, size]),
        ("w_rec", w_rec.dims(), [size, size]),
    ] {
        assert_eq!(dims, want, "fused::recurrent_leaky_sequence: {name}");
    }
    // on CubeCL devices the op is queued on the Fusion stream: counted when it is queued
    if super::is_cube(&x.device().without_autodiff()) {
        super::count_launch();
    }
    let (out, v, i) = <Dispatch as FusedRecurrentBackend>::recurrent_forward(
        x.into_dispatch(),
        z0.into_dispatch(),
        v0.into_dispatch(),
        i0.into_dispatch(),
        w_rec.into_dispatch(),
        coef.detach().into_dispatch(),
        spec,
    );
    (
        Tensor::from_dispatch(out),
        Tensor::from_dispatch(v),
        Tensor::from_dispatch(i),
    )
}

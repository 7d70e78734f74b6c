//! The spike function: Heaviside forward, surrogate derivative backward, as a custom autodiff op.
//!
//! [`spike`] computes `z = H(x)` exactly (0.0 or 1.0) on every backend. On an autodiff device it
//! registers its own backward step, which multiplies the upstream gradient by the chosen
//! [`Surrogate`] derivative `σ'(x)`: `∂L/∂x = ∂L/∂z · σ'(x)`. No detach or straight-through
//! composition of tensor ops is involved: the op is a node of burn's autodiff graph with a
//! hand-written [`Backward`] implementation.
//!
//! The op is a burn backend extension ([`SpikeBackend`]). `Autodiff<B, C>` overrides
//! [`SpikeBackend::spike`] to register the backward step; the plain backends run
//! [`SpikeBackend::heaviside`] (a default body of tensor ops, on every backend) forward and
//! [`SpikeBackend::surrogate_backward`] backward.
//!
//! # Where the surrogate formulas live
//!
//! Each formula `σ'` is written once per target, and this module spells none of them:
//!
//! * host scalars: [`crate::surrogate`]'s `host_derivative` (`f32` and `f64`), which
//!   [`Surrogate::derivative`] and the CPU loops call. Here `cpu.rs` runs it over raw `f32`
//!   slices for NdArray and Flex (in place over the gradient when the op holds its only handle,
//!   parallel over chunks with rayon for large tensors);
//! * CubeCL: `crate::surrogate::cube::derivative`, a `#[cube]` function (feature `gpu`). Here
//!   `cube.rs` launches it as an element-wise kernel for `CubeBackend`, which the `Fusion`
//!   selector wraps into a lazy custom operation on wgpu devices.
//!
//! Both read the parameters of `Surrogate::kernel_parameters`. `surrogate_backward` has no
//! default body: a backend added to `#[backend_extension]` must implement it with one of the
//! two. On `Autodiff` it runs the inner backend's and is tracked with respect to the gradient
//! only (it is linear in it; `x` is a constant).

use burn::backend::{
    Dispatch,
    autodiff::{
        Autodiff,
        checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
        grads::Gradients,
        ops::{Backward, Ops, OpsKind},
    },
    tensor::FloatTensor,
};
use burn::tensor::Tensor;

use crate::surrogate::Surrogate;

mod cpu;
#[cfg(feature = "gpu")]
mod cube;

pub use extension::SpikeBackend;

/// The extension trait in a module of its own: burn 0.22 deprecates the NdArray backend, and the
/// `#[backend_extension]` expansion names it.
mod extension {
    #![allow(deprecated)]

    use burn::backend::{
        Backend, TensorMetadata, backend_extension, get_or_init_device_settings,
        tensor::FloatTensor,
    };

    use crate::surrogate::Surrogate;

    /// Backend extension implementing the spike function and its surrogate backward pass.
    ///
    /// Users call [`spike`](crate::spike()) / [`spike_with`](crate::spike::spike_with); this
    /// trait is the extension point for backends.
    #[backend_extension(
        Autodiff,
        NdArray,
        Flex,
        Cube: cfg(feature = "gpu"),
        Fusion: cfg(feature = "gpu")
    )]
    pub trait SpikeBackend: Backend {
        /// Heaviside step of `x`: 1.0 where `x > 0` (or `x >= 0` when `fire_at_zero`), else 0.0,
        /// in `x`'s float dtype.
        #[fusion(default)]
        fn heaviside(x: FloatTensor<Self>, fire_at_zero: bool) -> FloatTensor<Self> {
            let dtype = x.dtype();
            let bool_dtype = get_or_init_device_settings::<Self>(&x.device()).bool_dtype;
            let mask = if fire_at_zero {
                Self::float_greater_equal_elem(x, 0.0f32.into(), bool_dtype)
            } else {
                Self::float_greater_elem(x, 0.0f32.into(), bool_dtype)
            };
            Self::bool_into_float(mask, dtype.into())
        }

        /// `grad · σ'(x)`: the backward pass of the spike function for the given surrogate, in
        /// `x`'s shape and float dtype (`grad` has `x`'s shape).
        ///
        /// Every backend implements it with the surrogate formulas of [`crate::surrogate`]: the
        /// host loop on NdArray and Flex, the CubeCL kernel on `CubeBackend` (a lazy custom
        /// operation on wgpu devices). On `Autodiff` the result is tracked with respect to `grad`
        /// (it is linear in `grad`) and `x` is treated as a constant: there is no second
        /// derivative of `σ`. No default body: a backend must supply one of the two spellings.
        #[fusion(dtype = x, shape = x)]
        fn surrogate_backward(
            x: FloatTensor<Self>,
            grad: FloatTensor<Self>,
            surrogate: Surrogate,
        ) -> FloatTensor<Self>;

        /// The spike function. On plain backends this is [`SpikeBackend::heaviside`]; the
        /// `Autodiff` implementation records the surrogate backward step.
        #[fusion(default)]
        fn spike(
            x: FloatTensor<Self>,
            surrogate: Surrogate,
            fire_at_zero: bool,
        ) -> FloatTensor<Self> {
            let _ = surrogate;
            Self::heaviside(x, fire_at_zero)
        }
    }
}

#[allow(deprecated)] // burn 0.22 deprecates the NdArray backend, which this crate still serves
impl SpikeBackend for burn::backend::NdArray {
    fn surrogate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        surrogate: Surrogate,
    ) -> FloatTensor<Self> {
        cpu::surrogate_backward::<Self>(x, grad, surrogate)
    }
}

impl SpikeBackend for burn::backend::Flex {
    fn surrogate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        surrogate: Surrogate,
    ) -> FloatTensor<Self> {
        cpu::surrogate_backward::<Self>(x, grad, surrogate)
    }
}

// The `Fusion<CubeBackend>` implementation (what wgpu devices run) is generated by the `Fusion`
// selector: `heaviside` and `spike` from the default bodies, `surrogate_backward` as a lazy
// custom operation that runs this kernel.
#[cfg(feature = "gpu")]
impl SpikeBackend for burn::backend::wgpu::CubeBackend {
    fn surrogate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        surrogate: Surrogate,
    ) -> FloatTensor<Self> {
        cube::surrogate_backward(x, grad, surrogate)
    }
}

/// The backward step of the spike op: `grad_x = grad_z · σ'(x)`.
#[derive(Debug)]
struct SpikeBackward;

impl<B: SpikeBackend> Backward<B, 1> for SpikeBackward {
    /// The op's input `x` (kept rather than recomputed: the op is cheap but `x` is needed
    /// anyway by the neuron dynamics) and the surrogate.
    type State = (FloatTensor<B>, Surrogate);

    fn backward(
        self,
        ops: Ops<Self::State, 1>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [parent] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (x, surrogate) = ops.state;
        if let Some(parent) = parent {
            grads.register::<B>(parent.id, B::surrogate_backward(x, grad, surrogate));
        }
    }
}

/// The backward step of [`SpikeBackend::surrogate_backward`] itself on an autodiff backend:
/// linear in `grad`, so `grad`'s gradient is the same op on the upstream gradient; `x` is a
/// constant.
#[derive(Debug)]
struct SurrogateBackwardBackward;

impl<B: SpikeBackend> Backward<B, 2> for SurrogateBackwardBackward {
    type State = (FloatTensor<B>, Surrogate);

    fn backward(
        self,
        ops: Ops<Self::State, 2>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [_x, grad_parent] = ops.parents;
        let upstream = grads.consume::<B>(&ops.node);
        let (x, surrogate) = ops.state;
        if let Some(parent) = grad_parent {
            grads.register::<B>(parent.id, B::surrogate_backward(x, upstream, surrogate));
        }
    }
}

impl<B: SpikeBackend, C: CheckpointStrategy> SpikeBackend for Autodiff<B, C> {
    fn surrogate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        surrogate: Surrogate,
    ) -> FloatTensor<Self> {
        match SurrogateBackwardBackward
            .prepare::<C>([x.node(), grad.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let x = x.into_primitive();
                let out = B::surrogate_backward(x.clone(), grad.into_primitive(), surrogate);
                prep.finish((x, surrogate), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::surrogate_backward(
                x.into_primitive(),
                grad.into_primitive(),
                surrogate,
            )),
        }
    }

    fn spike(x: FloatTensor<Self>, surrogate: Surrogate, fire_at_zero: bool) -> FloatTensor<Self> {
        match SpikeBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let x = x.into_primitive();
                let z = B::heaviside(x.clone(), fire_at_zero);
                prep.finish((x, surrogate), z)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::heaviside(x.into_primitive(), fire_at_zero)),
        }
    }
}

/// Spikes `z = H(x)` with the strict Heaviside (`1.0` where `x > 0`), as Norse, snnTorch, Spyx and
/// NIR define it; backward `∂L/∂x = ∂L/∂z · σ'(x)` with `σ'` given by `surrogate`.
///
/// `x` is the membrane potential minus the threshold, of any shape; the output has its shape.
///
/// ```
/// use burn::prelude::*;
/// use snn_core::{Surrogate, spike};
///
/// let device = Device::flex().autodiff();
/// let v_minus_thr = Tensor::<1>::from_floats([-0.5, 0.0, 0.25], &device).require_grad();
/// let z = spike(v_minus_thr.clone(), Surrogate::FastSigmoid { slope: 2.0 });
/// assert_eq!(z.to_data().try_to_vec::<f32>().unwrap(), vec![0.0, 0.0, 1.0]);
/// let grads = z.sum().backward();
/// let g = v_minus_thr.grad(&grads).unwrap().to_data().try_to_vec::<f32>().unwrap();
/// // 1 / (1 + 2|x|)^2
/// assert_eq!(g, vec![0.25, 1.0, 1.0 / 2.25]);
/// ```
pub fn spike<const D: usize>(x: Tensor<D>, surrogate: Surrogate) -> Tensor<D> {
    spike_with(x, surrogate, false)
}

/// [`spike`] with a choice of the Heaviside at zero: `fire_at_zero = true` gives `H(0) = 1`
/// (`x >= 0`), as SpikingJelly defines it; `false` is the strict `x > 0` of [`spike`].
pub fn spike_with<const D: usize>(
    x: Tensor<D>,
    surrogate: Surrogate,
    fire_at_zero: bool,
) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as SpikeBackend>::spike(
        x.into_dispatch(),
        surrogate,
        fire_at_zero,
    ))
}

/// The Heaviside step alone, with no gradient path (`fire_at_zero` as in [`spike_with`]).
/// Used where a peer detaches the spike, e.g. snnTorch's delayed reset.
pub fn heaviside<const D: usize>(x: Tensor<D>, fire_at_zero: bool) -> Tensor<D> {
    Tensor::from_dispatch(<Dispatch as SpikeBackend>::heaviside(
        x.detach().into_dispatch(),
        fire_at_zero,
    ))
}

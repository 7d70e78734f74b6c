//! The spike function: Heaviside forward, surrogate derivative backward, as a custom autodiff op.
//!
//! [`spike`] computes `z = H(x)` exactly (0.0 or 1.0) on every backend. On an autodiff device it
//! registers its own backward step, which multiplies the upstream gradient by the chosen
//! [`Surrogate`] derivative `σ'(x)`: `∂L/∂x = ∂L/∂z · σ'(x)`. No detach or straight-through
//! composition of tensor ops is involved: the op is a node of burn's autodiff graph with a
//! hand-written [`Backward`] implementation.
//!
//! The op is a burn backend extension ([`SpikeBackend`]). The tensor formulas live in the trait's
//! default bodies, which every backend listed in `#[backend_extension]` uses: NdArray, Flex, and
//! with the `gpu` feature the CubeCL backend (wgpu) behind Fusion. `Autodiff<B, C>` overrides
//! [`SpikeBackend::spike`] to register the backward step. A backend can override
//! [`SpikeBackend::heaviside`] or [`SpikeBackend::surrogate_backward`] with a fused kernel
//! without touching the autodiff logic.

use burn::backend::{
    Backend, Dispatch, TensorMetadata,
    autodiff::{
        Autodiff,
        checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
        grads::Gradients,
        ops::{Backward, Ops, OpsKind},
    },
    backend_extension, get_or_init_device_settings,
    tensor::FloatTensor,
};
use burn::tensor::Tensor;

use crate::surrogate::Surrogate;

/// Backend extension implementing the spike function and its surrogate backward pass.
///
/// Users call [`spike`] / [`spike_with`]; this trait is the extension point for backends.
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

    /// `grad · σ'(x)`: the backward pass of the spike function for the given surrogate.
    #[fusion(default)]
    fn surrogate_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        surrogate: Surrogate,
    ) -> FloatTensor<Self> {
        let derivative = match surrogate {
            // 1 / (1 + k|x|)^2
            Surrogate::SuperSpike { alpha: k } | Surrogate::FastSigmoid { slope: k } => {
                let d = Self::float_add_scalar(
                    Self::float_mul_scalar(Self::float_abs(x), k.into()),
                    1.0f32.into(),
                );
                Self::float_recip(Self::float_mul(d.clone(), d))
            }
            // (alpha/2) / (1 + (pi/2 alpha x)^2)
            Surrogate::Arctan { alpha } => {
                let u = Self::float_mul_scalar(x, (core::f32::consts::FRAC_PI_2 * alpha).into());
                let d = Self::float_add_scalar(Self::float_mul(u.clone(), u), 1.0f32.into());
                Self::float_mul_scalar(Self::float_recip(d), (alpha / 2.0).into())
            }
            // 1 / (pi (1 + (k pi x)^2))  (Spyx's arctan)
            Surrogate::ArctanInvPi { k } => {
                let u = Self::float_mul_scalar(x, (k * core::f32::consts::PI).into());
                let d = Self::float_add_scalar(Self::float_mul(u.clone(), u), 1.0f32.into());
                Self::float_recip(Self::float_mul_scalar(d, core::f32::consts::PI.into()))
            }
            // alpha s (1 - s), s = sigmoid(alpha x)
            Surrogate::Sigmoid { alpha } => {
                let s = Self::sigmoid(Self::float_mul_scalar(x, alpha.into()));
                let one_minus_s = Self::float_add_scalar(Self::float_neg(s.clone()), 1.0f32.into());
                Self::float_mul_scalar(Self::float_mul(s, one_minus_s), alpha.into())
            }
            // h max(0, 1 - k|x|)
            Surrogate::Triangle { k, height } => {
                let ramp = Self::float_add_scalar(
                    Self::float_mul_scalar(Self::float_abs(x), (-k).into()),
                    1.0f32.into(),
                );
                Self::float_mul_scalar(Self::float_clamp_min(ramp, 0.0f32.into()), height.into())
            }
            // h where |x| < w/2
            Surrogate::Boxcar { width, height } => {
                let dtype = x.dtype();
                let bool_dtype = get_or_init_device_settings::<Self>(&x.device()).bool_dtype;
                let inside =
                    Self::float_lower_elem(Self::float_abs(x), (width / 2.0).into(), bool_dtype);
                Self::float_mul_scalar(Self::bool_into_float(inside, dtype.into()), height.into())
            }
            Surrogate::StraightThrough => return grad,
        };
        Self::float_mul(grad, derivative)
    }

    /// The spike function. On plain backends this is [`SpikeBackend::heaviside`]; the
    /// `Autodiff` implementation records the surrogate backward step.
    #[fusion(default)]
    fn spike(x: FloatTensor<Self>, surrogate: Surrogate, fire_at_zero: bool) -> FloatTensor<Self> {
        let _ = surrogate;
        Self::heaviside(x, fire_at_zero)
    }
}

impl SpikeBackend for burn::backend::NdArray {}
impl SpikeBackend for burn::backend::Flex {}
// The `Fusion<CubeBackend>` implementation (what wgpu devices run) is generated by the `Fusion`
// selector from the default bodies.
#[cfg(feature = "gpu")]
impl SpikeBackend for burn::backend::wgpu::CubeBackend {}

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

impl<B: SpikeBackend, C: CheckpointStrategy> SpikeBackend for Autodiff<B, C> {
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

//! Adam with a fused update on the CPU backends.
//!
//! burn's [`Adam`](burn::optim::Adam) updates a parameter with a chain of about ten tensor ops,
//! each of which reads its operands and writes a new tensor: for the 700 × 4096 input weight of
//! the standard benchmark that is ~11 MB per op, and every fresh buffer costs page faults. On
//! ndarray and flex, [`FusedAdam`] runs the whole update in one pass over the four arrays
//! (parameter, gradient, both moments), writing the parameter and the moments over their old
//! values when the optimizer holds the only handle to them (the usual case). On every other device
//! (wgpu included) it composes burn's tensor ops in burn's order.
//!
//! The update is burn's `AdamConfig` (without AMSGrad) with the same f32 operations in the same
//! order, so the parameters are bit-equal to burn's Adam (`tests/integration/optim.rs`), and the
//! state is burn's [`AdamState`], so a checkpoint of one resumes with the other:
//!
//! ```text
//! g  ← g + λ·p                                  (weight decay λ, if set)
//! m  ← β₁·m + (1 − β₁)·g                        (m = (1 − β₁)·g at the first step)
//! v  ← β₂·v + (1 − β₂)·g²
//! c₂ = √(1 − β₂ᵗ),  f = c₂ / (1 − β₁ᵗ)
//! p  ← p − lr · (f·m) / (√v + ε·c₂)
//! ```
//!
//! ```
//! use burn::optim::GradientsParams;
//! use burn::prelude::*;
//! use snn_core::optim::FusedAdamConfig;
//!
//! let device = Device::flex().autodiff();
//! let layer = burn::nn::LinearConfig::new(4, 2).init(&device);
//! let mut optim = FusedAdamConfig::new().init();
//! let loss = layer.forward(Tensor::<2>::ones([3, 4], &device)).sum();
//! let grads = GradientsParams::from_grads(loss.backward(), &layer);
//! let layer = optim.step(1e-2, layer, grads);
//! # let _ = layer;
//! ```

use std::borrow::Cow;
use std::cell::Cell;

use burn::backend::{DispatchDevice, tensor::FloatTensor};
use burn::config::Config;
use burn::optim::{AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer};
use burn::prelude::*;
use rayon::prelude::*;

use crate::host::{HostTensor, Shared, f32s_of};

/// Configuration of [`FusedAdam`]: burn's [`AdamConfig`](burn::optim::AdamConfig) without
/// AMSGrad, with the same defaults.
#[derive(Config, Debug)]
pub struct FusedAdamConfig {
    /// Decay of the first moment `β₁`. Default 0.9.
    #[config(default = 0.9)]
    pub beta_1: f32,
    /// Decay of the second moment `β₂`. Default 0.999.
    #[config(default = 0.999)]
    pub beta_2: f32,
    /// `ε` added to `√v` (scaled by `√(1 − β₂ᵗ)`, as burn does). Default 1e-5 (burn's).
    #[config(default = 1e-5)]
    pub epsilon: f32,
    /// L2 weight decay `λ` added to the gradient as `λ·p` (burn's `WeightDecayConfig`). Default
    /// none.
    pub weight_decay: Option<f32>,
}

impl FusedAdamConfig {
    /// The optimizer alone.
    pub fn build(&self) -> FusedAdam {
        FusedAdam {
            beta_1: self.beta_1,
            beta_2: self.beta_2,
            epsilon: self.epsilon,
            weight_decay: self.weight_decay,
        }
    }

    /// A module optimizer (what `AdamConfig::init` returns), for `Optimizer::step` or a
    /// `Learner`; gradient clipping can be added with `with_grad_clipping`.
    pub fn init(&self) -> ModuleOptimizer {
        ModuleOptimizer::from(self.build())
    }
}

/// Adam whose update is one fused pass on the CPU backends (see the module docs).
#[derive(Clone, Debug)]
pub struct FusedAdam {
    beta_1: f32,
    beta_2: f32,
    epsilon: f32,
    weight_decay: Option<f32>,
}

/// The scalars of one update, in f32 as burn computes them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamStep {
    /// Learning rate (f32, as `grad.mul_scalar(lr)` casts it).
    pub lr: f32,
    /// `β₁`.
    pub beta_1: f32,
    /// `β₂`.
    pub beta_2: f32,
    /// `1 − β₁`.
    pub one_minus_beta_1: f32,
    /// `1 − β₂`.
    pub one_minus_beta_2: f32,
    /// `f = √(1 − β₂ᵗ) / (1 − β₁ᵗ)`.
    pub combined_factor: f32,
    /// `ε·√(1 − β₂ᵗ)`.
    pub epsilon_scaled: f32,
    /// Weight decay `λ` (0: none, and then not applied at all).
    pub weight_decay: f32,
    /// Whether `m`, `v` are zero (the first step): burn then computes `(1 − β₁)·g` without the
    /// `β₁·m` term, which the fused loop reproduces exactly (`0 + x = x`).
    pub first: bool,
}

impl AdamStep {
    fn new(adam: &FusedAdam, lr: LearningRate, time: usize, first: bool) -> Self {
        // burn's expressions (`AdaptiveMomentum::transform`), in f32
        let t = time as i32;
        let bias_correction2_sqrt = (1.0 - adam.beta_2.powi(t)).sqrt();
        Self {
            lr: lr as f32,
            beta_1: adam.beta_1,
            beta_2: adam.beta_2,
            one_minus_beta_1: 1.0 - adam.beta_1,
            one_minus_beta_2: 1.0 - adam.beta_2,
            combined_factor: bias_correction2_sqrt / (1.0 - adam.beta_1.powi(t)),
            epsilon_scaled: adam.epsilon * bias_correction2_sqrt,
            weight_decay: adam.weight_decay.unwrap_or(0.0),
            first,
        }
    }

    /// One element: `(p, m, v)` after the update, burn's operation order.
    #[inline(always)]
    fn apply(&self, p: f32, g: f32, m: f32, v: f32) -> (f32, f32, f32) {
        let g = if self.weight_decay != 0.0 {
            p * self.weight_decay + g
        } else {
            g
        };
        let (m, v) = if self.first {
            (g * self.one_minus_beta_1, (g * g) * self.one_minus_beta_2)
        } else {
            (
                m * self.beta_1 + g * self.one_minus_beta_1,
                v * self.beta_2 + (g * g) * self.one_minus_beta_2,
            )
        };
        let update = (m * self.combined_factor) / (v.sqrt() + self.epsilon_scaled);
        (p - update * self.lr, m, v)
    }
}

pub use extension::AdamBackend;

/// The extension trait in a module of its own: burn 0.22 deprecates the NdArray backend, and the
/// `#[backend_extension]` expansion names it.
mod extension {
    #![allow(deprecated)]

    use burn::backend::{Backend, backend_extension, tensor::FloatTensor};

    use super::AdamStep;

    /// The fused Adam update as a backend extension: ndarray and flex only (other devices never call
    /// it, see [`FusedAdam`](super::FusedAdam)).
    #[backend_extension(NdArray, Flex)]
    pub trait AdamBackend: Backend {
        /// `(p, m, v)` after one update from the gradient `grad` (all four of one shape).
        fn adam_update(
            param: FloatTensor<Self>,
            grad: FloatTensor<Self>,
            moment_1: FloatTensor<Self>,
            moment_2: FloatTensor<Self>,
            step: AdamStep,
        ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
    }
}

thread_local! {
    static FUSED_UPDATES: Cell<usize> = const { Cell::new(0) };
}

/// How many parameter updates ran the fused CPU loop on this thread so far (a diagnostic, like
/// [`crate::fused::launches`]: tests compare it before and after a step).
pub fn fused_updates() -> usize {
    FUSED_UPDATES.with(Cell::get)
}

/// Elements per parallel work item (256 KiB of each array).
const ADAM_CHUNK: usize = 1 << 16;

/// An array the update writes: over its own buffer when the optimizer holds its only handle,
/// else into a new one (the old values read from the shared tensor).
enum Target<'a> {
    InPlace(Vec<f32>),
    Copy(Cow<'a, [f32]>, Vec<f32>),
}

fn target<B: HostTensor>(t: &mut Option<FloatTensor<B>>) -> Target<'_> {
    match B::into_unique_f32s(t.take().expect("tensor")) {
        Ok(values) => Target::InPlace(values),
        Err(shared) => {
            let values = f32s_of::<B>(t.insert(shared), "the fused Adam update");
            let out = crate::host::buffer::zeroed(values.len());
            Target::Copy(values, out)
        }
    }
}

/// Elements the update loads onto the stack at a time: there the loop reads and writes arrays
/// nothing else can alias, so the compiler vectorizes it (over the raw pointers, which in place
/// read and write the same memory, it stayed scalar: 6 % of a train step at H = 256).
const ADAM_BLOCK: usize = 256;

impl Target<'_> {
    /// The handles to read the old values from and write the new ones to (one buffer in place).
    fn lanes(&mut self) -> (Shared<'_, f32>, Shared<'_, f32>) {
        match self {
            Target::InPlace(values) => {
                let both = Shared::new(values);
                (both.reader(), both)
            }
            Target::Copy(values, out) => {
                assert_eq!(values.len(), out.len(), "fused Adam: copy target size");
                (Shared::read_only(values), Shared::new(out))
            }
        }
    }

    fn finish<B: HostTensor>(self, shape: Vec<usize>, device: &B::Device) -> FloatTensor<B> {
        match self {
            Target::InPlace(values) | Target::Copy(_, values) => {
                B::from_host_f32s(values, shape, device)
            }
        }
    }
}

/// The CPU backends (ndarray, flex): the fused loop.
impl<B: HostTensor> AdamBackend for B {
    fn adam_update(
        param: FloatTensor<B>,
        grad: FloatTensor<B>,
        moment_1: FloatTensor<B>,
        moment_2: FloatTensor<B>,
        step: AdamStep,
    ) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
        use burn::backend::TensorMetadata;
        FUSED_UPDATES.with(|c| c.set(c.get() + 1));
        let shape: Vec<usize> = param.shape().to_vec();
        let n = shape.iter().product::<usize>();
        let device = param.device();
        let (mut p, mut m, mut v) = (Some(param), Some(moment_1), Some(moment_2));
        let g = f32s_of::<B>(&grad, "the fused Adam update");
        let (mut pt, mut mt, mut vt) = (
            target::<B>(&mut p),
            target::<B>(&mut m),
            target::<B>(&mut v),
        );
        let ((pr, pw), (mr, mw), (vr, vw)) = (pt.lanes(), mt.lanes(), vt.lanes());
        let gr = Shared::read_only(&g);
        // The loop reads and writes elements 0..n of all four arrays: a wrong-sized one (an
        // optimizer record of another shape, loaded on resume) must stop here, with its name
        // (the shared slices would stop it too, without one).
        for (name, lanes) in [
            ("param", pr),
            ("grad", gr),
            ("moment_1", mr),
            ("moment_2", vr),
        ] {
            assert!(
                lanes.len() == n,
                "fused Adam: {name} has {} elements, the parameter's shape {shape:?} has {n}",
                lanes.len()
            );
        }
        (0..n.div_ceil(ADAM_CHUNK)).into_par_iter().for_each(|c| {
            let (start, len) = (c * ADAM_CHUNK, ADAM_CHUNK.min(n - c * ADAM_CHUNK));
            crate::host::simd::widest(
                #[inline(always)]
                || {
                    let mut blocks = [[0f32; ADAM_BLOCK]; 4];
                    let [bp, bg, bm, bv] = &mut blocks;
                    let mut j = start;
                    while j < start + len {
                        let n = ADAM_BLOCK.min(start + len - j);
                        let (bp, bg, bm, bv) =
                            (&mut bp[..n], &mut bg[..n], &mut bm[..n], &mut bv[..n]);
                        // SAFETY: elements j..j + n lie inside every array and belong to this
                        // item; in place, each block is read whole before it is written
                        unsafe {
                            bp.copy_from_slice(pr.read(j, n));
                            bg.copy_from_slice(gr.read(j, n));
                            bm.copy_from_slice(mr.read(j, n));
                            bv.copy_from_slice(vr.read(j, n));
                        }
                        for k in 0..n {
                            (bp[k], bm[k], bv[k]) = step.apply(bp[k], bg[k], bm[k], bv[k]);
                        }
                        // SAFETY: as above
                        unsafe {
                            pw.write(j, n).copy_from_slice(bp);
                            mw.write(j, n).copy_from_slice(bm);
                            vw.write(j, n).copy_from_slice(bv);
                        }
                        j += n;
                    }
                },
            )
        });
        drop(g);
        (
            pt.finish::<B>(shape.clone(), &device),
            mt.finish::<B>(shape.clone(), &device),
            vt.finish::<B>(shape, &device),
        )
    }
}

impl FusedAdam {
    /// burn's tensor-op composition of the same update, for devices without the fused loop.
    fn composed<const D: usize>(
        &self,
        step: &AdamStep,
        param: Tensor<D>,
        grad: Tensor<D>,
        moments: Option<(Tensor<D>, Tensor<D>)>,
    ) -> (Tensor<D>, Tensor<D>, Tensor<D>) {
        let grad = match self.weight_decay {
            Some(decay) => param.clone().mul_scalar(decay).add(grad),
            None => grad,
        };
        let (m, v) = match moments {
            Some((m, v)) => (
                m.mul_scalar(step.beta_1)
                    .add(grad.clone().mul_scalar(step.one_minus_beta_1)),
                v.mul_scalar(step.beta_2)
                    .add(grad.square().mul_scalar(step.one_minus_beta_2)),
            ),
            None => (
                grad.clone().mul_scalar(step.one_minus_beta_1),
                grad.square().mul_scalar(step.one_minus_beta_2),
            ),
        };
        let update = m
            .clone()
            .mul_scalar(step.combined_factor)
            .div(v.clone().sqrt().add_scalar(step.epsilon_scaled));
        (param - update.mul_scalar(step.lr), m, v)
    }
}

/// Whether `device` runs the fused loop (plain ndarray or flex, f32).
fn fused_device(device: &Device) -> bool {
    matches!(
        device.as_dispatch(),
        DispatchDevice::NdArray(_) | DispatchDevice::Flex(_)
    )
}

impl Optimizer for FusedAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let previous = state.map(|s| s.momentum);
        let time = previous.as_ref().map_or(1, |s| s.time + 1);
        let step = AdamStep::new(self, lr, time, previous.is_none());
        let moments = previous.map(|s| (s.moment_1, s.moment_2));
        let fused = fused_device(&tensor.device())
            && tensor.dtype() == burn::tensor::DType::F32
            && grad.dtype() == burn::tensor::DType::F32;
        let (param, m, v) = if fused {
            let (m, v) = moments.unwrap_or_else(|| (tensor.zeros_like(), tensor.zeros_like()));
            let (p, m, v) = <burn::backend::Dispatch as AdamBackend>::adam_update(
                tensor.into_dispatch(),
                grad.into_dispatch(),
                m.into_dispatch(),
                v.into_dispatch(),
                step,
            );
            (
                Tensor::from_dispatch(p),
                Tensor::from_dispatch(m),
                Tensor::from_dispatch(v),
            )
        } else {
            self.composed(&step, tensor, grad, moments)
        };
        let state = AdamState::new(AdaptiveMomentumState::new(time, m, v));
        (param, Some(state))
    }

    fn to_device<const D: usize>(mut state: Self::State<D>, device: &Device) -> Self::State<D> {
        state.momentum = state.momentum.to_device(device);
        state
    }
}

#[cfg(test)]
#[allow(deprecated)] // the tests run on burn 0.22's deprecated NdArray backend too
mod tests {
    use burn::backend::flex::Flex;
    use burn::backend::ndarray::NdArray;

    use super::*;

    fn step() -> AdamStep {
        AdamStep::new(&FusedAdamConfig::new().build(), 1e-2, 1, true)
    }

    /// One update of a 4-element parameter on backend `B` with the given sizes of the gradient
    /// and the moments.
    fn update<B: HostTensor>(grad: usize, moment_1: usize, moment_2: usize) -> Vec<f32> {
        let tensor = |n: usize| B::from_host_f32s(vec![0.5; n], vec![n], &Default::default());
        let (p, _, _) = B::adam_update(
            tensor(4),
            tensor(grad),
            tensor(moment_1),
            tensor(moment_2),
            step(),
        );
        B::host_f32s(&p).expect("host values").into_owned()
    }

    #[test]
    fn right_sizes_update_on_both_backends() {
        let (a, b) = (update::<NdArray>(4, 4, 4), update::<Flex>(4, 4, 4));
        assert_eq!(a, b);
        assert!(a.iter().all(|&p| p < 0.5), "{a:?}");
    }

    #[test]
    #[should_panic(
        expected = "fused Adam: moment_1 has 3 elements, the parameter's shape [4] has 4"
    )]
    fn short_moment_1_panics_on_ndarray() {
        update::<NdArray>(4, 3, 4);
    }

    #[test]
    #[should_panic(
        expected = "fused Adam: moment_1 has 3 elements, the parameter's shape [4] has 4"
    )]
    fn short_moment_1_panics_on_flex() {
        update::<Flex>(4, 3, 4);
    }

    #[test]
    #[should_panic(
        expected = "fused Adam: moment_2 has 2 elements, the parameter's shape [4] has 4"
    )]
    fn short_moment_2_panics_on_ndarray() {
        update::<NdArray>(4, 4, 2);
    }

    #[test]
    #[should_panic(
        expected = "fused Adam: moment_2 has 2 elements, the parameter's shape [4] has 4"
    )]
    fn short_moment_2_panics_on_flex() {
        update::<Flex>(4, 4, 2);
    }

    #[test]
    #[should_panic(expected = "fused Adam: grad has 1 elements, the parameter's shape [4] has 4")]
    fn short_grad_panics_on_ndarray() {
        update::<NdArray>(1, 4, 4);
    }

    #[test]
    #[should_panic(expected = "fused Adam: grad has 1 elements, the parameter's shape [4] has 4")]
    fn short_grad_panics_on_flex() {
        update::<Flex>(1, 4, 4);
    }

    #[test]
    #[should_panic(
        expected = "fused Adam: moment_1 has 5 elements, the parameter's shape [4] has 4"
    )]
    fn long_moment_panics() {
        update::<Flex>(4, 5, 4);
    }
}

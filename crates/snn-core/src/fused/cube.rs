//! The fused recurrence as CubeCL kernels (wgpu), for [`CubeBackend`]; the `Fusion` selector of
//! `#[backend_extension]` wraps them into lazy custom operations for `Fusion<CubeBackend>`, the
//! backend of wgpu devices.
//!
//! One unit per (batch, neuron) runs the whole time loop (forward) or the reverse time loop
//! (backward) of its neuron. The arithmetic is the CPU loops' (`cpu/scalar.rs`), operation for
//! operation, so spikes are bit-equal to the CPU loops and the reference path wherever the GPU
//! rounds like the CPU (no fused multiply-add). The forms, the reset, the delay and the
//! surrogate are compile-time parameters of the kernels (one kernel per combination); the
//! coefficients (`v_leak` and `v_reset` among them) and the surrogate parameters are runtime
//! values.
//!
//! Layout: every tensor is made contiguous first; `x`, the output, `u` and the output gradient
//! are `[batch, time, size]`, states `[batch, size]`, `coef` `[COEFFICIENTS, size]`.

#![allow(clippy::too_many_arguments)]

use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::fusion::custom::TensorSpec;
use burn::backend::ops::FloatTensorOps;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::{
    CubeBackend, kernel::into_contiguous, ops::numeric::empty_device_contiguous_dtype,
    tensor::CubeTensor,
};
use cubecl::{calculate_cube_count_elemwise, prelude::*};

use super::{
    COEFFICIENTS, Coef, FusedLeakyBackend, FusedRecurrentBackend, LeakySpec, MembraneForm,
    SynapseForm,
};
use crate::dynamics::Reset;
use crate::surrogate::Surrogate;

const EULER_SCALED: u32 = 0;
const EULER_UNSCALED: u32 = 1;
const EXACT: u32 = 2;

const SYN_NONE: u32 = 0;
const SYN_EULER: u32 = 1;

const RESET_SUBTRACT: u32 = 0;
const RESET_TO_VALUE: u32 = 1;

/// Output metadata of the forward op: the sequence like `x`, the final `v` and `i` like `v0`.
pub(super) fn forward_meta(
    x: &TensorSpec,
    v0: &TensorSpec,
) -> (TensorSpec, TensorSpec, TensorSpec) {
    (x.clone(), v0.clone(), v0.clone())
}

/// [`forward_meta`] plus the saved `u`: like `x` for a spiking layer, one element for a readout.
pub(super) fn forward_saving_meta(
    x: &TensorSpec,
    v0: &TensorSpec,
    spec: &LeakySpec,
) -> (TensorSpec, TensorSpec, TensorSpec, TensorSpec) {
    let saved = if spec.firing.is_some() {
        x.clone()
    } else {
        TensorSpec::new(burn::tensor::Shape::from(vec![1]), x.dtype)
    };
    (x.clone(), v0.clone(), v0.clone(), saved)
}

// the kernels index the coefficient rows by number
const _: () = assert!(
    Coef::Membrane as usize == 0
        && Coef::Gain as usize == 1
        && Coef::Rest as usize == 2
        && Coef::Synapse as usize == 3
        && Coef::Threshold as usize == 4
        && Coef::VLeak as usize == 5
        && Coef::VReset as usize == 6
        && COEFFICIENTS == 7
);

/// `H(s)`: 1 where `s > 0` (`s ≥ 0` with `at_zero`), else 0.
#[cube]
fn heaviside<F: Float>(s: F, #[comptime] at_zero: bool) -> F {
    let hit = if at_zero {
        s >= F::new(0.0)
    } else {
        s > F::new(0.0)
    };
    select(hit, F::new(1.0), F::new(0.0))
}

/// The membrane update `u(v, c)` in the reference's operation order.
#[cube]
fn integrate<F: Float>(v: F, c: F, a: F, gain: F, rest: F, v_leak: F, #[comptime] m: u32) -> F {
    let mut u = v * a + c * gain + rest;
    if comptime!(m == EULER_SCALED) {
        u = v + ((v_leak - v) + c) * a;
    } else if comptime!(m == EULER_UNSCALED) {
        u = v + (v_leak - v) * a + c;
    }
    u
}

/// `gu·∂u/∂v` of the membrane update.
#[cube]
fn integrate_grad_v<F: Float>(gu: F, a: F, #[comptime] m: u32) -> F {
    let mut g = gu * a;
    if comptime!(m != EXACT) {
        g = gu - gu * a;
    }
    g
}

/// `gu·∂u/∂c` of the membrane update.
#[cube]
fn integrate_grad_c<F: Float>(gu: F, a: F, gain: F, #[comptime] m: u32) -> F {
    let mut g = gu * gain;
    if comptime!(m == EULER_SCALED) {
        g = gu * a;
    } else if comptime!(m == EULER_UNSCALED) {
        g = gu;
    }
    g
}

/// The compile-time codes of a [`LeakySpec`] that pick a kernel's code paths: one compiled
/// kernel per distinct value (the cache key of `launch`).
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
struct StepCodes {
    /// [`MembraneForm`]: [`EULER_SCALED`], [`EULER_UNSCALED`] or [`EXACT`].
    membrane: u32,
    /// [`SynapseForm`]: [`SYN_NONE`], [`SYN_EULER`] or 2 (exact).
    synapse: u32,
    /// A spiking layer (else a readout, which has no reset).
    firing: bool,
    /// [`RESET_SUBTRACT`], [`RESET_TO_VALUE`] or 2 (none).
    reset: u32,
    /// Fire at `v = threshold` (`H(0) = 1`).
    at_zero: bool,
    /// snnTorch's delayed reset (by the previous step's spike).
    delay: bool,
    /// The surrogate's kernel code ([`Surrogate::kernel_parameters`]); 0 in the forward
    /// kernels, which do not read it, so that they compile once for every surrogate.
    surrogate: u32,
}

impl StepCodes {
    /// The codes of `spec`, for a forward kernel.
    fn forward(spec: &LeakySpec) -> Self {
        let membrane = match spec.membrane {
            MembraneForm::EulerScaled => EULER_SCALED,
            MembraneForm::EulerUnscaled => EULER_UNSCALED,
            MembraneForm::Exact => EXACT,
        };
        let synapse = match spec.synapse {
            SynapseForm::None => SYN_NONE,
            SynapseForm::Euler => SYN_EULER,
            SynapseForm::Exact => 2,
        };
        let (firing, reset, at_zero, delay) = match spec.firing {
            Some(f) => (
                true,
                match f.reset {
                    Reset::Subtract => RESET_SUBTRACT,
                    Reset::ToValue => RESET_TO_VALUE,
                    Reset::None => 2,
                    // refused by `leaky_sequence` (`FiringSpec::fused_supported`) before any launch
                    Reset::Relative => unreachable!("the fused op has no relative reset"),
                },
                f.fire_at_threshold,
                f.reset_delay,
            ),
            None => (false, 2, false, false),
        };
        Self {
            membrane,
            synapse,
            firing,
            reset,
            at_zero,
            delay,
            surrogate: 0,
        }
    }

    /// The codes of `spec` for a backward kernel, with the surrogate's code, and the surrogate's
    /// runtime parameters `(p1, p2)`.
    fn backward(spec: &LeakySpec) -> (Self, f32, f32) {
        let (kind, p1, p2) = spec
            .firing
            .map_or(Surrogate::StraightThrough, |f| f.surrogate)
            .kernel_parameters::<f32>();
        let codes = Self {
            surrogate: kind as u32,
            ..Self::forward(spec)
        };
        (codes, p1, p2)
    }
}

/// A neuron's coefficients, one per [`Coef`] row, as the step functions read them.
#[derive(CubeType, Clone)]
struct StepCoefficients<F: Float> {
    a: F,
    gain: F,
    rest: F,
    ks: F,
    thr: F,
    vl: F,
    vr: F,
}

/// Neuron `n`'s coefficients from `coef` `[COEFFICIENTS, size]`.
#[cube]
fn step_coefficients<F: Float>(coef: &Tensor<F>, size: usize, n: usize) -> StepCoefficients<F> {
    StepCoefficients::<F> {
        a: coef[n],
        gain: coef[size + n],
        rest: coef[2 * size + n],
        ks: coef[3 * size + n],
        thr: coef[4 * size + n],
        vl: coef[5 * size + n],
        vr: coef[6 * size + n],
    }
}

/// One forward step of one neuron (`cpu/scalar.rs`'s `StepRule::fire`, operation for
/// operation): from the input `xt`, updates `v`, `i` and (delayed reset) `fired`, writes the
/// pre-reset membrane to `u` and returns the output (the spike, or a readout's membrane).
#[cube]
fn forward_step<F: Float>(
    xt: F,
    v: &mut F,
    i: &mut F,
    fired: &mut F,
    u: &mut F,
    k: &StepCoefficients<F>,
    #[comptime] codes: StepCodes,
) -> F {
    let mut c = xt;
    if comptime!(codes.synapse != SYN_NONE) {
        c = *i + xt;
    }
    if comptime!(codes.synapse == SYN_EULER) {
        *i = c - c * k.ks;
    } else {
        *i = c * k.ks;
    }
    let mut vj = *v;
    if comptime!(codes.delay && codes.reset == RESET_TO_VALUE) {
        // reset to value before the leak, by the previous (detached) spike
        vj = (F::new(1.0) - *fired) * *v + *fired * k.vr;
    }
    let mut un = integrate::<F>(vj, c, k.a, k.gain, k.rest, k.vl, comptime!(codes.membrane));
    if comptime!(codes.delay && codes.reset == RESET_SUBTRACT) {
        un -= *fired * k.thr;
    }
    *u = un;
    let mut out = un;
    if comptime!(codes.firing) {
        let z = heaviside::<F>(un - k.thr, comptime!(codes.at_zero));
        out = z;
        if comptime!(codes.delay) {
            *fired = z;
            *v = un;
        } else if comptime!(codes.reset == RESET_SUBTRACT) {
            *v = un - z * k.thr;
        } else if comptime!(codes.reset == RESET_TO_VALUE) {
            *v = (F::new(1.0) - z) * un + z * k.vr;
        } else {
            *v = un;
        }
    } else {
        *v = un;
    }
    out
}

/// One reverse step of one neuron (`cpu/scalar.rs`'s `StepRule::fire_grad`): from the output
/// gradient `go`, the pre-reset membrane `u` and (delayed reset to a value) the previous
/// step's pre-reset membrane `prev`, updates the carried `gv`, `gi` one step back and returns
/// the input gradient.
#[cube]
fn backward_step<F: Float>(
    go: F,
    u: F,
    prev: F,
    gv: &mut F,
    gi: &mut F,
    k: &StepCoefficients<F>,
    keep: F,
    p1: F,
    p2: F,
    #[comptime] codes: StepCodes,
) -> F {
    // the upstream gradient of the pre-reset membrane u
    let mut gu = *gv + go;
    // the membrane carried into the step's leak (from a delayed ToValue reset)
    let mut carry = F::new(1.0);
    if comptime!(codes.firing) {
        let s = u - k.thr;
        let sg = crate::surrogate::cube::derivative::<F>(s, p1, p2, comptime!(codes.surrogate));
        if comptime!(codes.delay) {
            gu = *gv + go * sg;
            if comptime!(codes.reset == RESET_TO_VALUE) {
                carry = F::new(1.0) - heaviside::<F>(prev - k.thr, comptime!(codes.at_zero));
            }
        } else {
            let z = heaviside::<F>(s, comptime!(codes.at_zero));
            let mut gu_reset = *gv;
            let mut gz_reset = F::new(0.0);
            if comptime!(codes.reset == RESET_SUBTRACT) {
                gz_reset = -k.thr * *gv;
            } else if comptime!(codes.reset == RESET_TO_VALUE) {
                gu_reset = (F::new(1.0) - z) * *gv;
                gz_reset = (k.vr - u) * *gv;
            }
            let gz = go + gz_reset * keep;
            gu = gu_reset + gz * sg;
        }
    }
    let g = integrate_grad_v::<F>(gu, k.a, comptime!(codes.membrane));
    let mut gc = integrate_grad_c::<F>(gu, k.a, k.gain, comptime!(codes.membrane));
    if comptime!(codes.synapse == SYN_EULER) {
        gc += *gi - *gi * k.ks;
    } else {
        gc += *gi * k.ks;
    }
    *gi = gc;
    if comptime!(codes.firing && codes.delay && codes.reset == RESET_TO_VALUE) {
        *gv = g * carry;
    } else {
        *gv = g;
    }
    gc
}

/// Forward: one unit per (batch, neuron), time loop inside (`cpu/forward.rs`'s `forward_item`).
#[cube(launch)]
fn leaky_forward_kernel<F: Float>(
    x: &Tensor<F>,
    v0: &Tensor<F>,
    i0: &Tensor<F>,
    coef: &Tensor<F>,
    out: &mut Tensor<F>,
    v_fin: &mut Tensor<F>,
    i_fin: &mut Tensor<F>,
    saved: &mut Tensor<F>,
    #[comptime] codes: StepCodes,
    #[comptime] saving: bool,
    #[define(F)] _dtype: ElemType,
) {
    let batch = x.shape(0);
    let time = x.shape(1);
    let size = x.shape(2);
    let pos = ABSOLUTE_POS;
    if pos >= batch * size {
        terminate!();
    }
    let b = pos / size;
    let n = pos % size;
    let k = step_coefficients::<F>(coef, size, n);
    let mut v = v0[pos];
    let mut i = F::new(0.0);
    if comptime!(codes.synapse != SYN_NONE) {
        i = i0[pos];
    }
    let mut fired = F::new(0.0);
    if comptime!(codes.delay) {
        fired = heaviside::<F>(v - k.thr, comptime!(codes.at_zero));
    }
    for t in 0..time {
        let idx = (b * time + t) * size + n;
        let mut u = F::new(0.0);
        out[idx] = forward_step::<F>(x[idx], &mut v, &mut i, &mut fired, &mut u, &k, codes);
        if comptime!(codes.firing && saving) {
            saved[idx] = u;
        }
    }
    v_fin[pos] = v;
    i_fin[pos] = i;
}

/// Backward (BPTT): one unit per (batch, neuron), reverse time loop inside (`cpu/backward.rs`'s
/// `backward_item`). `ginit` gets the gradients of `v0` and `i0`.
#[cube(launch)]
fn leaky_backward_kernel<F: Float>(
    u_all: &Tensor<F>,
    v0: &Tensor<F>,
    coef: &Tensor<F>,
    grad_out: &Tensor<F>,
    grad_v: &Tensor<F>,
    grad_i: &Tensor<F>,
    gx: &mut Tensor<F>,
    gv0: &mut Tensor<F>,
    gi0: &mut Tensor<F>,
    keep_reset_grad: InputScalar,
    p1: InputScalar,
    p2: InputScalar,
    #[comptime] codes: StepCodes,
    #[define(F)] _dtype: ElemType,
) {
    let batch = grad_out.shape(0);
    let time = grad_out.shape(1);
    let size = grad_out.shape(2);
    let pos = ABSOLUTE_POS;
    if pos >= batch * size {
        terminate!();
    }
    let b = pos / size;
    let n = pos % size;
    let keep = keep_reset_grad.get::<F>();
    let p1 = p1.get::<F>();
    let p2 = p2.get::<F>();
    let k = step_coefficients::<F>(coef, size, n);
    let mut gv = grad_v[pos];
    let mut gi = F::new(0.0);
    if comptime!(codes.synapse != SYN_NONE) {
        gi = grad_i[pos];
    }
    for r in 0..time {
        let t = time - 1 - r;
        let idx = (b * time + t) * size + n;
        let mut u = F::new(0.0);
        let mut prev = F::new(0.0);
        if comptime!(codes.firing) {
            u = u_all[idx];
            if comptime!(codes.delay && codes.reset == RESET_TO_VALUE) {
                prev = v0[pos];
                if t > 0 {
                    prev = u_all[idx - size];
                }
            }
        }
        gx[idx] = backward_step::<F>(
            grad_out[idx],
            u,
            prev,
            &mut gv,
            &mut gi,
            &k,
            keep,
            p1,
            p2,
            codes,
        );
    }
    gv0[pos] = gv;
    if comptime!(codes.synapse != SYN_NONE) {
        gi0[pos] = gi;
    } else {
        gi0[pos] = F::new(0.0);
    }
}

/// 1 where the reset passes its gradient on, 0 where it is detached (and for a readout).
fn keep_reset_grad(spec: &LeakySpec) -> f32 {
    match spec.firing {
        Some(f) if !f.detach_reset => 1.0,
        _ => 0.0,
    }
}

fn dims(t: &CubeTensor) -> [usize; 3] {
    let shape = t.meta.shape();
    assert_eq!(
        shape.num_dims(),
        3,
        "fused op: the input must be [batch, time, size]"
    );
    [shape[0], shape[1], shape[2]]
}

fn empty(like: &CubeTensor, shape: Vec<usize>) -> CubeTensor {
    empty_device_contiguous_dtype(
        like.client.clone(),
        like.device.clone(),
        burn::tensor::Shape::from(shape),
        like.dtype,
    )
}

/// Launches the forward kernel; returns `(out, v, i, saved)` (`saved` is a one-element
/// placeholder when not saving or for a readout).
fn forward(
    x: CubeTensor,
    v0: CubeTensor,
    i0: CubeTensor,
    coef: CubeTensor,
    spec: LeakySpec,
    saving: bool,
) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
    let [batch, time, size] = dims(&x);
    let (x, v0, i0, coef) = (
        into_contiguous(x),
        into_contiguous(v0),
        into_contiguous(i0),
        into_contiguous(coef),
    );
    assert_eq!(
        coef.meta.shape().num_elements(),
        COEFFICIENTS * size,
        "fused forward: coefficients"
    );
    let codes = StepCodes::forward(&spec);
    let save = saving && codes.firing;
    let out = empty(&x, vec![batch, time, size]);
    let v_fin = empty(&x, vec![batch, size]);
    let i_fin = empty(&x, vec![batch, size]);
    let saved = empty(
        &x,
        if save {
            vec![batch, time, size]
        } else {
            vec![1]
        },
    );
    let units = batch * size;
    if units > 0 {
        let client = x.client.clone();
        let st = dtype_to_storage_type(x.dtype);
        let cube_dim = CubeDim::new(&client, units);
        let cube_count = calculate_cube_count_elemwise(&client, units, cube_dim);
        leaky_forward_kernel::launch(
            &client,
            cube_count,
            cube_dim,
            x.into_tensor_arg(),
            v0.into_tensor_arg(),
            i0.into_tensor_arg(),
            coef.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            v_fin.clone().into_tensor_arg(),
            i_fin.clone().into_tensor_arg(),
            saved.clone().into_tensor_arg(),
            codes,
            save,
            st,
        );
    }
    (out, v_fin, i_fin, saved)
}

impl FusedLeakyBackend for CubeBackend {
    fn leaky_forward(
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        i0: FloatTensor<Self>,
        coef: FloatTensor<Self>,
        spec: LeakySpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (out, v, i, _) = forward(x, v0, i0, coef, spec, false);
        (out, v, i)
    }

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
    ) {
        forward(x, v0, i0, coef, spec, true)
    }

    fn leaky_backward(
        u: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        coef: FloatTensor<Self>,
        grad_out: FloatTensor<Self>,
        grad_v: FloatTensor<Self>,
        grad_i: FloatTensor<Self>,
        spec: LeakySpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let [batch, time, size] = dims(&grad_out);
        let (u, v0, coef, grad_out, grad_v, grad_i) = (
            into_contiguous(u),
            into_contiguous(v0),
            into_contiguous(coef),
            into_contiguous(grad_out),
            into_contiguous(grad_v),
            into_contiguous(grad_i),
        );
        let (codes, p1, p2) = StepCodes::backward(&spec);
        let gx = empty(&grad_out, vec![batch, time, size]);
        let gv0 = empty(&grad_out, vec![batch, size]);
        let gi0 = empty(&grad_out, vec![batch, size]);
        let units = batch * size;
        if units > 0 {
            let client = grad_out.client.clone();
            let st = dtype_to_storage_type(grad_out.dtype);
            let cube_dim = CubeDim::new(&client, units);
            let cube_count = calculate_cube_count_elemwise(&client, units, cube_dim);
            leaky_backward_kernel::launch(
                &client,
                cube_count,
                cube_dim,
                u.into_tensor_arg(),
                v0.into_tensor_arg(),
                coef.into_tensor_arg(),
                grad_out.into_tensor_arg(),
                grad_v.into_tensor_arg(),
                grad_i.into_tensor_arg(),
                gx.clone().into_tensor_arg(),
                gv0.clone().into_tensor_arg(),
                gi0.clone().into_tensor_arg(),
                InputScalar::new(keep_reset_grad(&spec), st),
                InputScalar::new(p1, st),
                InputScalar::new(p2, st),
                codes,
                st,
            );
        }
        (gx, gv0, gi0)
    }
}

/// Output metadata of the recurrent forward: the spikes like `x`, the final `v` and `i` like
/// `v0`.
pub(super) fn recurrent_forward_meta(
    x: &TensorSpec,
    v0: &TensorSpec,
) -> (TensorSpec, TensorSpec, TensorSpec) {
    forward_meta(x, v0)
}

/// [`recurrent_forward_meta`] plus the kept pre-reset membrane, like `x`.
pub(super) fn recurrent_forward_saving_meta(
    x: &TensorSpec,
    v0: &TensorSpec,
) -> (TensorSpec, TensorSpec, TensorSpec, TensorSpec) {
    (x.clone(), v0.clone(), v0.clone(), x.clone())
}

/// Output metadata of the recurrent backward: the gradients of `x` (like the output gradient),
/// `z0`, `v0`, `i0` (like `v0`) and `w_rec`.
pub(super) fn recurrent_backward_meta(
    grad_out: &TensorSpec,
    v0: &TensorSpec,
    w_rec: &TensorSpec,
) -> (TensorSpec, TensorSpec, TensorSpec, TensorSpec, TensorSpec) {
    (
        grad_out.clone(),
        v0.clone(),
        v0.clone(),
        v0.clone(),
        w_rec.clone(),
    )
}

/// Forward of the recurrent layer (`cpu/recurrent.rs`'s `forward_row`): one cube per batch row,
/// whose units stride over its neurons. Per step, each neuron adds the `W_rec` entries of the
/// senders that spiked on the previous step, in sender order as the CPU loop does (the spikes
/// are read back from the output after a storage barrier; the branch on a sender's spike is
/// the same for every unit of the cube, so only spiking senders cost a load), then takes
/// [`forward_step`]. The carried state lives in `v_fin`, `i_fin` between steps.
#[cube(launch)]
fn recurrent_forward_kernel<F: Float>(
    x: &Tensor<F>,
    z0: &Tensor<F>,
    v0: &Tensor<F>,
    i0: &Tensor<F>,
    w_rec: &Tensor<F>,
    coef: &Tensor<F>,
    out: &mut Tensor<F>,
    v_fin: &mut Tensor<F>,
    i_fin: &mut Tensor<F>,
    saved: &mut Tensor<F>,
    #[comptime] codes: StepCodes,
    #[comptime] saving: bool,
    #[define(F)] _dtype: ElemType,
) {
    let time = x.shape(1);
    let size = x.shape(2);
    let b = CUBE_POS;
    let row = b * size;
    for n in range_stepped(UNIT_POS as usize, size, CUBE_DIM as usize) {
        v_fin[row + n] = v0[row + n];
        let mut i = F::new(0.0);
        if comptime!(codes.synapse != SYN_NONE) {
            i = i0[row + n];
        }
        i_fin[row + n] = i;
    }
    for t in 0..time {
        let base = (b * time + t) * size;
        for n in range_stepped(UNIT_POS as usize, size, CUBE_DIM as usize) {
            let mut rec = F::new(0.0);
            for j in 0..size {
                let zj = if t == 0 {
                    z0[row + j]
                } else {
                    out[base - size + j]
                };
                if zj != F::new(0.0) {
                    if zj == F::new(1.0) {
                        rec += w_rec[n * size + j];
                    } else {
                        rec += zj * w_rec[n * size + j];
                    }
                }
            }
            let k = step_coefficients::<F>(coef, size, n);
            let mut v = v_fin[row + n];
            let mut i = i_fin[row + n];
            let mut fired = F::new(0.0);
            if comptime!(codes.delay) {
                fired = if t == 0 {
                    heaviside::<F>(v0[row + n] - k.thr, comptime!(codes.at_zero))
                } else {
                    out[base - size + n]
                };
            }
            let mut u = F::new(0.0);
            out[base + n] = forward_step::<F>(
                x[base + n] + rec,
                &mut v,
                &mut i,
                &mut fired,
                &mut u,
                &k,
                codes,
            );
            v_fin[row + n] = v;
            i_fin[row + n] = i;
            if saving {
                saved[base + n] = u;
            }
        }
        sync_storage();
    }
}

/// Backward of the recurrent layer (BPTT, `cpu/recurrent.rs`'s `reverse_group`): one cube per
/// batch row. Per step, last to first: each neuron's [`backward_step`] from its output gradient
/// plus the gradient its spike got from the next step's currents (`gz0`, which holds that
/// gradient between steps and the gradient of `z0` at the end); then, after a barrier,
/// `gz0[j] = Σ_i gc_t[i] · W_rec[i, j]`. It also writes the presynaptic spikes `zprev`
/// `[batch, time, size]` (`z0`, then the spikes recomputed from `u`) for the weight gradient.
#[cube(launch)]
fn recurrent_backward_kernel<F: Float>(
    u_all: &Tensor<F>,
    z0: &Tensor<F>,
    v0: &Tensor<F>,
    w_rec: &Tensor<F>,
    coef: &Tensor<F>,
    grad_out: &Tensor<F>,
    grad_v: &Tensor<F>,
    grad_i: &Tensor<F>,
    gx: &mut Tensor<F>,
    gz0: &mut Tensor<F>,
    gv0: &mut Tensor<F>,
    gi0: &mut Tensor<F>,
    zprev: &mut Tensor<F>,
    keep_reset_grad: InputScalar,
    p1: InputScalar,
    p2: InputScalar,
    #[comptime] codes: StepCodes,
    #[define(F)] _dtype: ElemType,
) {
    let time = grad_out.shape(1);
    let size = grad_out.shape(2);
    let b = CUBE_POS;
    let row = b * size;
    let keep = keep_reset_grad.get::<F>();
    let p1 = p1.get::<F>();
    let p2 = p2.get::<F>();
    for n in range_stepped(UNIT_POS as usize, size, CUBE_DIM as usize) {
        gv0[row + n] = grad_v[row + n];
        let mut gi = F::new(0.0);
        if comptime!(codes.synapse != SYN_NONE) {
            gi = grad_i[row + n];
        }
        gi0[row + n] = gi;
        gz0[row + n] = F::new(0.0);
    }
    for r in 0..time {
        let t = time - 1 - r;
        let base = (b * time + t) * size;
        for n in range_stepped(UNIT_POS as usize, size, CUBE_DIM as usize) {
            let k = step_coefficients::<F>(coef, size, n);
            let u = u_all[base + n];
            let mut prev = F::new(0.0);
            if comptime!(codes.delay && codes.reset == RESET_TO_VALUE) {
                prev = v0[row + n];
                if t > 0 {
                    prev = u_all[base - size + n];
                }
            }
            let mut gv = gv0[row + n];
            let mut gi = gi0[row + n];
            gx[base + n] = backward_step::<F>(
                grad_out[base + n] + gz0[row + n],
                u,
                prev,
                &mut gv,
                &mut gi,
                &k,
                keep,
                p1,
                p2,
                codes,
            );
            gv0[row + n] = gv;
            gi0[row + n] = gi;
            if t + 1 < time {
                zprev[base + size + n] = heaviside::<F>(u - k.thr, comptime!(codes.at_zero));
            }
            if t == 0 {
                zprev[base + n] = z0[row + n];
            }
        }
        sync_storage();
        for j in range_stepped(UNIT_POS as usize, size, CUBE_DIM as usize) {
            let mut sum = F::new(0.0);
            for i in 0..size {
                sum += gx[base + i] * w_rec[i * size + j];
            }
            gz0[row + j] = sum;
        }
        sync_storage();
    }
}

/// Units per cube of the recurrent kernels (one cube per batch row; the units stride over the
/// neurons): at most 256.
const RECURRENT_UNITS: usize = 256;

fn recurrent_dims(x: &CubeTensor, z0: &CubeTensor, w_rec: &CubeTensor) -> [usize; 3] {
    let [batch, time, size] = dims(x);
    assert_eq!(
        z0.meta.shape().as_slice(),
        &[batch, size],
        "fused recurrent op: z0"
    );
    assert_eq!(
        w_rec.meta.shape().as_slice(),
        &[size, size],
        "fused recurrent op: w_rec"
    );
    [batch, time, size]
}

/// Launches the recurrent forward kernel; returns `(spikes, v, i, saved)` (`saved` a
/// one-element placeholder when not saving).
fn recurrent_forward(
    x: CubeTensor,
    z0: CubeTensor,
    v0: CubeTensor,
    i0: CubeTensor,
    w_rec: CubeTensor,
    coef: CubeTensor,
    spec: LeakySpec,
    saving: bool,
) -> (CubeTensor, CubeTensor, CubeTensor, CubeTensor) {
    let [batch, time, size] = recurrent_dims(&x, &z0, &w_rec);
    let (x, z0, v0, i0, w_rec, coef) = (
        into_contiguous(x),
        into_contiguous(z0),
        into_contiguous(v0),
        into_contiguous(i0),
        into_contiguous(w_rec),
        into_contiguous(coef),
    );
    assert_eq!(
        coef.meta.shape().num_elements(),
        COEFFICIENTS * size,
        "fused recurrent forward: coefficients"
    );
    let codes = StepCodes::forward(&spec);
    assert!(codes.firing, "fused recurrent op: a spiking layer");
    let out = empty(&x, vec![batch, time, size]);
    let v_fin = empty(&x, vec![batch, size]);
    let i_fin = empty(&x, vec![batch, size]);
    let saved = empty(
        &x,
        if saving {
            vec![batch, time, size]
        } else {
            vec![1]
        },
    );
    if batch > 0 && size > 0 {
        let client = x.client.clone();
        let st = dtype_to_storage_type(x.dtype);
        recurrent_forward_kernel::launch(
            &client,
            CubeCount::Static(batch as u32, 1, 1),
            CubeDim::new(&client, size.clamp(1, RECURRENT_UNITS)),
            x.into_tensor_arg(),
            z0.into_tensor_arg(),
            v0.into_tensor_arg(),
            i0.into_tensor_arg(),
            w_rec.into_tensor_arg(),
            coef.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            v_fin.clone().into_tensor_arg(),
            i_fin.clone().into_tensor_arg(),
            saved.clone().into_tensor_arg(),
            codes,
            saving,
            st,
        );
    }
    (out, v_fin, i_fin, saved)
}

impl FusedRecurrentBackend for CubeBackend {
    fn recurrent_forward(
        x: FloatTensor<Self>,
        z0: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        i0: FloatTensor<Self>,
        w_rec: FloatTensor<Self>,
        coef: FloatTensor<Self>,
        spec: LeakySpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (out, v, i, _) = recurrent_forward(x, z0, v0, i0, w_rec, coef, spec, false);
        (out, v, i)
    }

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
    ) {
        recurrent_forward(x, z0, v0, i0, w_rec, coef, spec, true)
    }

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
    ) {
        let [batch, time, size] = recurrent_dims(&grad_out, &z0, &w_rec);
        let (u, z0, v0, w_rec, coef, grad_out, grad_v, grad_i) = (
            into_contiguous(u),
            into_contiguous(z0),
            into_contiguous(v0),
            into_contiguous(w_rec),
            into_contiguous(coef),
            into_contiguous(grad_out),
            into_contiguous(grad_v),
            into_contiguous(grad_i),
        );
        let (codes, p1, p2) = StepCodes::backward(&spec);
        assert!(codes.firing, "fused recurrent op: a spiking layer");
        let gx = empty(&grad_out, vec![batch, time, size]);
        let gz0 = empty(&grad_out, vec![batch, size]);
        let gv0 = empty(&grad_out, vec![batch, size]);
        let gi0 = empty(&grad_out, vec![batch, size]);
        let zprev = empty(&grad_out, vec![batch, time, size]);
        if batch > 0 && size > 0 && time > 0 {
            let client = grad_out.client.clone();
            let st = dtype_to_storage_type(grad_out.dtype);
            recurrent_backward_kernel::launch(
                &client,
                CubeCount::Static(batch as u32, 1, 1),
                CubeDim::new(&client, size.clamp(1, RECURRENT_UNITS)),
                u.into_tensor_arg(),
                z0.into_tensor_arg(),
                v0.into_tensor_arg(),
                w_rec.clone().into_tensor_arg(),
                coef.into_tensor_arg(),
                grad_out.into_tensor_arg(),
                grad_v.into_tensor_arg(),
                grad_i.into_tensor_arg(),
                gx.clone().into_tensor_arg(),
                gz0.clone().into_tensor_arg(),
                gv0.clone().into_tensor_arg(),
                gi0.clone().into_tensor_arg(),
                zprev.clone().into_tensor_arg(),
                InputScalar::new(keep_reset_grad(&spec), st),
                InputScalar::new(p1, st),
                InputScalar::new(p2, st),
                codes,
                st,
            );
        }
        // ∂L/∂W_rec[i, j] = Σ_{b,t} gc_t[b, i] · z_{t−1}[b, j]: one product over all steps
        let steps = burn::backend::Shape::new([batch * time, size]);
        let gw = Self::float_matmul(
            Self::float_transpose(Self::float_reshape(gx.clone(), steps.clone())),
            Self::float_reshape(zprev, steps),
        );
        (gx, gz0, gv0, gi0, gw)
    }
}

//! The fused recurrence on raw `f32` slices, shared by the NdArray and Flex backends.
//!
//! Layout: `x`, the output and `u` are `[batch, time, size]` contiguous; states are
//! `[batch, size]`; `coef` is `[COEFFICIENTS, size]`. Work is split into (batch, chunk of
//! `CHUNK` neurons) items run in parallel with rayon; each item loops over time (stride `size`)
//! with the neuron loop innermost, so the inner loop reads and writes contiguous runs and has no
//! data-dependent branches (spikes are comparisons turned into 0.0/1.0).
//!
//! The membrane form, the delayed reset and the surrogate are compile-time parameters of the
//! loops (one instance per combination); the remaining flags are loop-invariant selects.

/// Runs the caller's local `run!(M, DELAY)` with the compile-time membrane form and delay flag
/// of `$membrane` and `$delay` (one monomorphized loop per combination). The caller has
/// `MembraneForm` and the form constants (`EULER_SCALED`, ...) in scope.
macro_rules! with_form {
    ($membrane:expr, $delay:expr, $run:ident) => {
        match ($membrane, $delay) {
            (MembraneForm::EulerScaled, false) => $run!(EULER_SCALED, false),
            (MembraneForm::EulerScaled, true) => $run!(EULER_SCALED, true),
            (MembraneForm::EulerUnscaled, false) => $run!(EULER_UNSCALED, false),
            (MembraneForm::EulerUnscaled, true) => $run!(EULER_UNSCALED, true),
            (MembraneForm::Exact, false) => $run!(EXACT, false),
            (MembraneForm::Exact, true) => $run!(EXACT, true),
        }
    };
}

mod backward;
mod forward;
mod recurrent;
mod scalar;

pub use recurrent::{
    DENSE_WEIGHT_GRADIENT, dense_weight_gradient_above, set_dense_weight_gradient_above,
};

use backward::backward;
use forward::forward;

use std::borrow::Cow;

use burn::backend::TensorMetadata;
use burn::backend::flex::Flex;
#[allow(deprecated)] // burn 0.22 deprecates the NdArray backend, which this op still serves
use burn::backend::ndarray::NdArray;
use burn::backend::tensor::FloatTensor;
use burn::tensor::Shape;

use super::saved::SavedForm;
use super::{FusedLeakyBackend, FusedRecurrentBackend, LeakySpec, count_launch};
use crate::host::{HostTensor, Shared, f32s_of};
use crate::surrogate::Surrogate;

/// Neurons per work item: 16 cache lines of f32, a multiple of every SIMD width.
const CHUNK: usize = 256;

/// How many time steps ahead the loops hint the caches to fetch their rows (see
/// [`crate::host::simd::prefetch`]).
const PREFETCH_STEPS: usize = 4;

const EULER_SCALED: u8 = 0;
const EULER_UNSCALED: u8 = 1;
const EXACT: u8 = 2;

/// The loops' handle on a buffer their work items share; each item reads and writes only its
/// own batch row and neuron chunk.
type Buf<'a> = Shared<'a, f32>;

/// A `[batch, time, size]` input of the loops: borrowed, or owned by a tensor nobody else holds,
/// in which case the loop writes its result over it (each step's values are read before that
/// step's result is written) and allocates no output buffer.
pub(crate) enum Sequence<'a> {
    /// Read only (borrowed, or copied when the tensor was not contiguous); the result goes to a
    /// new buffer.
    Shared(Cow<'a, [f32]>),
    /// Read, then overwritten with the result.
    InPlace(&'a mut [f32]),
}

impl Sequence<'_> {
    fn len(&self) -> usize {
        match self {
            Sequence::Shared(s) => s.len(),
            Sequence::InPlace(s) => s.len(),
        }
    }

    /// The values to read and the buffer to write, as slices: in place, only the sequence itself
    /// (read each step before writing it); else the borrowed values and a new buffer put in
    /// `fresh` (every element of which the caller writes).
    fn split<'s>(&'s mut self, fresh: &'s mut Vec<f32>) -> (Option<&'s [f32]>, &'s mut [f32]) {
        match self {
            Sequence::InPlace(values) => {
                super::count_in_place();
                (None, &mut **values)
            }
            Sequence::Shared(values) => {
                *fresh = crate::host::buffer::overwritable(values.len());
                (Some(&**values), &mut fresh[..])
            }
        }
    }

    /// The handle to read from and the handle to write to: the sequence itself in place, else
    /// a new buffer put in `out`.
    fn pointers<'s>(&'s mut self, out: &'s mut Vec<f32>) -> (Buf<'s>, Buf<'s>) {
        match self {
            Sequence::Shared(s) => {
                // every element is written (each item writes its rows at every step)
                *out = crate::host::buffer::overwritable(s.len());
                (Shared::read_only(s), Shared::new(out))
            }
            Sequence::InPlace(s) => {
                super::count_in_place();
                // both from one mutable borrow: reads of a step come before its writes
                let both = Shared::new(s);
                (both.reader(), both)
            }
        }
    }
}

/// Sizes of one call.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dims {
    pub batch: usize,
    pub time: usize,
    pub size: usize,
}

impl Dims {
    fn items(&self) -> usize {
        self.batch * self.size.div_ceil(CHUNK)
    }
    /// `(batch, first neuron, neurons)` of a work item.
    fn item(&self, w: usize) -> (usize, usize, usize) {
        let chunks = self.size.div_ceil(CHUNK);
        let (b, c) = (w / chunks, w % chunks);
        let n0 = c * CHUNK;
        (b, n0, CHUNK.min(self.size - n0))
    }
}

/// Runs `$body` for every work item `$w` of `$dims` in parallel, compiled for the widest SIMD
/// the CPU has ([`crate::host::simd::widest`]; the item functions are `#[inline(always)]`).
macro_rules! for_each_item {
    ($dims:expr, |$w:ident| $body:expr) => {
        (0..$dims.items()).into_par_iter().for_each(|$w| {
            crate::host::simd::widest(
                #[inline(always)]
                || $body,
            )
        })
    };
}

pub(crate) use for_each_item;

/// Hints the caches to fetch elements `at..at + len` of a loop's sequence and of its output
/// (one buffer when the loop runs in place).
#[inline(always)]
fn prefetch_rows(read: Buf<'_>, write: Buf<'_>, at: usize, len: usize) {
    read.prefetch(at, len);
    if !read.same_buffer(write) {
        write.prefetch(at, len);
    }
}

/// The layer's surrogate (unused by a leaky integrator).
fn surrogate_of(spec: &LeakySpec) -> Surrogate {
    spec.firing
        .map(|f| f.surrogate)
        .unwrap_or(Surrogate::StraightThrough)
}

fn dims_of<B: HostTensor>(x: &FloatTensor<B>) -> Dims {
    let shape: Shape = x.shape();
    assert_eq!(
        shape.num_dims(),
        3,
        "fused op: the input must be [batch, time, size]"
    );
    Dims {
        batch: shape[0],
        time: shape[1],
        size: shape[2],
    }
}

/// Runs `run` over the sequence tensor `seq` `[batch, time, size]`, which this op consumes: over
/// its own buffer when the op holds the only handle (the result replaces the values), else from
/// a borrowed view into the new buffer `run` returns. Gives the result as a tensor and what else
/// `run` returns.
fn over_sequence<B: HostTensor, R>(
    seq: FloatTensor<B>,
    d: Dims,
    run: impl FnOnce(Sequence<'_>) -> (Option<Vec<f32>>, R),
) -> (FloatTensor<B>, R) {
    let device = seq.device();
    let shape = vec![d.batch, d.time, d.size];
    match B::into_unique_f32s(seq) {
        Ok(mut values) => {
            let (_, rest) = run(Sequence::InPlace(&mut values));
            (B::from_host_f32s(values, shape, &device), rest)
        }
        Err(seq) => {
            let (out, rest) = run(Sequence::Shared(f32s_of::<B>(&seq, "the fused op")));
            let out = out.expect("a new buffer when not in place");
            (B::from_host_f32s(out, shape, &device), rest)
        }
    }
}

/// The `[v, i]` pair of `[batch, size]` tensors from the loops' state buffer (`v` then `i`).
fn state_pair<B: HostTensor>(
    mut both: Vec<f32>,
    d: Dims,
    device: &B::Device,
) -> (FloatTensor<B>, FloatTensor<B>) {
    let plane = d.batch * d.size;
    let i = both.split_off(plane);
    let shape = vec![d.batch, d.size];
    (
        B::from_host_f32s(both, shape.clone(), device),
        B::from_host_f32s(i, shape, device),
    )
}

fn run_forward<B: HostTensor>(
    x: FloatTensor<B>,
    v0: FloatTensor<B>,
    i0: FloatTensor<B>,
    coef: FloatTensor<B>,
    spec: LeakySpec,
    saving: bool,
) -> (
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    Option<FloatTensor<B>>,
) {
    count_launch();
    let d = dims_of::<B>(&x);
    let device = x.device();
    let (v0s, i0s, coefs) = (
        f32s_of::<B>(&v0, "the fused op"),
        f32s_of::<B>(&i0, "the fused op"),
        f32s_of::<B>(&coef, "the fused op"),
    );
    // x is not needed after this op (the backward keeps σ' or the membrane, not the input), so when
    // the caller handed over its only handle, the output is written over it.
    let (out, (fin, saved)) = over_sequence::<B, _>(x, d, |x| {
        let (out, fin, saved) = forward(x, &v0s, &i0s, &coefs, &spec, d, saving);
        (out, (fin, saved))
    });
    let (v_fin, i_fin) = state_pair::<B>(fin, d, &device);
    let saved = saved.map(|s| {
        let shape = match SavedForm::of(&spec) {
            // packed words, one-dimensional
            SavedForm::Surrogate { .. } => vec![s.len()],
            _ => vec![d.batch, d.time, d.size],
        };
        B::from_host_f32s(s, shape, &device)
    });
    (out, v_fin, i_fin, saved)
}

#[allow(clippy::type_complexity)]
fn run_backward<B: HostTensor>(
    u: FloatTensor<B>,
    v0: FloatTensor<B>,
    coef: FloatTensor<B>,
    grad_out: FloatTensor<B>,
    grad_v: FloatTensor<B>,
    grad_i: FloatTensor<B>,
    spec: LeakySpec,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let d = dims_of::<B>(&grad_out);
    let device = grad_out.device();
    let (saved, v0s, coefs) = (
        f32s_of::<B>(&u, "the fused op"),
        f32s_of::<B>(&v0, "the fused op"),
        f32s_of::<B>(&coef, "the fused op"),
    );
    let (gvs, gis) = (
        f32s_of::<B>(&grad_v, "the fused op"),
        f32s_of::<B>(&grad_i, "the fused op"),
    );
    // the output gradient is consumed here: written over with the input gradient when this op
    // holds its only handle
    let (gx, ginit) = over_sequence::<B, _>(grad_out, d, |go| {
        backward(&saved, &v0s, &coefs, &spec, d, go, &gvs, &gis)
    });
    let (gv, gi) = state_pair::<B>(ginit, d, &device);
    drop(saved);
    B::give_back(u);
    (gx, gv, gi)
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn run_recurrent_forward<B: HostTensor>(
    x: FloatTensor<B>,
    z0: FloatTensor<B>,
    v0: FloatTensor<B>,
    i0: FloatTensor<B>,
    w_rec: FloatTensor<B>,
    coef: FloatTensor<B>,
    spec: LeakySpec,
    saving: bool,
) -> (
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    Option<FloatTensor<B>>,
) {
    count_launch();
    let tt = std::time::Instant::now();
    let d = dims_of::<B>(&x);
    let device = x.device();
    let op = "the fused recurrent op";
    let (z0s, v0s, i0s) = (
        f32s_of::<B>(&z0, op),
        f32s_of::<B>(&v0, op),
        f32s_of::<B>(&i0, op),
    );
    let (ws, coefs) = (f32s_of::<B>(&w_rec, op), f32s_of::<B>(&coef, op));
    let (out, (fin, kept)) = over_sequence::<B, _>(x, d, |x| {
        let (out, fin, kept) =
            recurrent::forward(x, &z0s, &v0s, &i0s, &ws, &coefs, &spec, d, saving);
        (out, (fin, kept))
    });
    let (v_fin, i_fin) = state_pair::<B>(fin, d, &device);
    let kept = kept.map(|u| B::from_host_f32s(u, vec![d.batch, d.time, d.size], &device));
    if std::env::var_os("SNN_PROF").is_some() {
        eprintln!("rec fwd {:.2}", tt.elapsed().as_secs_f64() * 1e3);
    }
    (out, v_fin, i_fin, kept)
}

#[allow(clippy::type_complexity, clippy::too_many_arguments)]
fn run_recurrent_backward<B: HostTensor>(
    u: FloatTensor<B>,
    z0: FloatTensor<B>,
    v0: FloatTensor<B>,
    w_rec: FloatTensor<B>,
    coef: FloatTensor<B>,
    grad_out: FloatTensor<B>,
    grad_v: FloatTensor<B>,
    grad_i: FloatTensor<B>,
    spec: LeakySpec,
) -> (
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
    FloatTensor<B>,
) {
    let tt = std::time::Instant::now();
    let d = dims_of::<B>(&grad_out);
    let device = grad_out.device();
    let op = "the fused recurrent op";
    let (us, z0s, v0s) = (
        f32s_of::<B>(&u, op),
        f32s_of::<B>(&z0, op),
        f32s_of::<B>(&v0, op),
    );
    let (ws, coefs) = (f32s_of::<B>(&w_rec, op), f32s_of::<B>(&coef, op));
    let (gvs, gis) = (f32s_of::<B>(&grad_v, op), f32s_of::<B>(&grad_i, op));
    let (gx, rest) = over_sequence::<B, _>(grad_out, d, |go| {
        let g = recurrent::backward(&us, &z0s, &v0s, &ws, &coefs, &spec, d, go, &gvs, &gis);
        (g.x, (g.init, g.z0, g.w_rec))
    });
    let (init, gz0, gw) = rest;
    let (gv, gi) = state_pair::<B>(init, d, &device);
    let gz0 = B::from_host_f32s(gz0, vec![d.batch, d.size], &device);
    let gw = B::from_host_f32s(gw, vec![d.size, d.size], &device);
    drop(us);
    B::give_back(u);
    if std::env::var_os("SNN_PROF").is_some() {
        eprintln!("rec bwd all {:.2}", tt.elapsed().as_secs_f64() * 1e3);
    }
    (gx, gz0, gv, gi, gw)
}

macro_rules! cpu_backend {
    ($backend:ty) => {
        // burn 0.22 deprecates the NdArray backend, one of the two this serves
        #[allow(deprecated)]
        impl FusedLeakyBackend for $backend {
            fn leaky_forward(
                x: FloatTensor<Self>,
                v0: FloatTensor<Self>,
                i0: FloatTensor<Self>,
                coef: FloatTensor<Self>,
                spec: LeakySpec,
            ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
                let (out, v, i, _) = run_forward::<Self>(x, v0, i0, coef, spec, false);
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
                let device = x.device();
                let (out, v, i, saved) = run_forward::<Self>(x, v0, i0, coef, spec, true);
                let saved =
                    saved.unwrap_or_else(|| Self::from_host_f32s(vec![0.0], vec![1], &device));
                (out, v, i, saved)
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
                run_backward::<Self>(u, v0, coef, grad_out, grad_v, grad_i, spec)
            }
        }

        #[allow(deprecated)]
        impl FusedRecurrentBackend for $backend {
            fn recurrent_forward(
                x: FloatTensor<Self>,
                z0: FloatTensor<Self>,
                v0: FloatTensor<Self>,
                i0: FloatTensor<Self>,
                w_rec: FloatTensor<Self>,
                coef: FloatTensor<Self>,
                spec: LeakySpec,
            ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
                let (out, v, i, _) =
                    run_recurrent_forward::<Self>(x, z0, v0, i0, w_rec, coef, spec, false);
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
                let (out, v, i, u) =
                    run_recurrent_forward::<Self>(x, z0, v0, i0, w_rec, coef, spec, true);
                (out, v, i, u.expect("kept when saving"))
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
                run_recurrent_backward::<Self>(
                    u, z0, v0, w_rec, coef, grad_out, grad_v, grad_i, spec,
                )
            }
        }
    };
}

cpu_backend!(NdArray);
cpu_backend!(Flex);

#[cfg(test)]
#[allow(deprecated)] // the tests run on burn 0.22's deprecated NdArray backend too
mod tests {
    use burn::backend::{Dispatch, TensorMetadata};
    use burn::prelude::*;

    use super::super::FusedLeakyBackend;
    use super::SavedForm;
    use crate::LifConfig;
    use crate::Neuron;

    /// Bytes per neuron and step of the tensor the forward keeps for the backward.
    fn kept_bytes(config: LifConfig, device: &Device) -> f64 {
        let [batch, time, size] = [3, 50, 300];
        let lif = config.init(device).unwrap();
        let (coef, spec) = lif.fused_operands();
        let x = Tensor::<3>::ones([batch, time, size], device);
        let zeros = || Tensor::<2>::zeros([batch, size], device).into_dispatch();
        let (_, _, _, kept) = <Dispatch as FusedLeakyBackend>::leaky_forward_saving(
            x.into_dispatch(),
            zeros(),
            zeros(),
            coef.into_dispatch(),
            spec,
        );
        let kept = kept.shape().num_elements();
        (4 * kept) as f64 / (batch * time * size) as f64
    }

    /// One training-like step of an snnTorch LIF on an autodiff device: the spikes and the
    /// input gradient of `spikes · w` (a weighted sum, so the output gradient is not uniform).
    fn lif_step(device: &Device, dims: [usize; 3]) -> (Vec<f32>, Vec<f32>) {
        let [batch, time, size] = dims;
        let n = batch * time * size;
        let lif = LifConfig::from_beta(size, 0.95)
            .unwrap()
            .init(device)
            .unwrap();
        let wave = |k: usize, scale: f32| {
            (0..n)
                .map(|i| ((i * k % 997) as f32 / 997.0 - 0.4) * scale)
                .collect::<Vec<_>>()
        };
        let x = Tensor::<3>::from_data(TensorData::new(wave(7, 1.5), dims), device).require_grad();
        let w = Tensor::<3>::from_data(TensorData::new(wave(13, 1.0), dims), device);
        let spikes = lif.forward(x.clone()).unwrap().spikes;
        let grads = (spikes.clone() * w).sum().backward();
        let gx = x.grad(&grads).unwrap();
        let values = |t: Tensor<3>| t.into_data().try_into_vec::<f32>().unwrap();
        (values(spikes), values(gx))
    }

    #[test]
    fn kept_buffers_are_reused_and_written_over_whole() {
        // an odd size no other test uses: the spare list is shared by the whole process
        let dims = [3, 61, 8197];
        let total = dims.iter().product::<usize>();
        let words = SavedForm::of(
            &LifConfig::from_beta(8197, 0.95)
                .unwrap()
                .init(&Device::flex())
                .unwrap()
                .fused_operands()
                .1,
        )
        .words(total);
        assert!(words * 4 >= 4 << 20, "large enough to be kept for reuse");
        let _alone = crate::host::buffer::tests::spare_list_to_myself();
        for device in [Device::ndarray(), Device::flex()] {
            let device = device.autodiff();
            let first = lif_step(&device, dims);
            // the last of the op's autodiff nodes gave the kept buffer back: poison it, and a
            // spare output-sized buffer, with NaN; a second step must not see either
            let mut kept = crate::host::buffer::overwritable(words);
            assert!(
                kept.iter().any(|&v| v != 0.0),
                "{device:?}: the kept buffer came back (a fresh one is all zeros)"
            );
            kept.fill(f32::NAN);
            crate::host::buffer::recycle(kept);
            let mut out = crate::host::buffer::overwritable(total);
            out.fill(f32::NAN);
            crate::host::buffer::recycle(out);
            let second = lif_step(&device, dims);
            assert!(first.0 == second.0, "{device:?}: spikes differ after reuse");
            assert!(
                first.1 == second.1,
                "{device:?}: gradients differ after reuse"
            );
            assert!(first.1.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn snntorch_lif_keeps_three_bytes_and_norse_lif_four() {
        for device in [Device::ndarray(), Device::flex()] {
            let snntorch = LifConfig::from_beta(300, 0.95).unwrap();
            assert_eq!(kept_bytes(snntorch, &device), 3.0, "{device:?}");
            // Norse's LIF resets to a value with the gradient through the spike: keeps `u`
            assert_eq!(kept_bytes(LifConfig::new(300), &device), 4.0, "{device:?}");
        }
    }
}

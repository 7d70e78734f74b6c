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

use std::borrow::Cow;

use burn::backend::flex::{Flex, FlexTensor};
use burn::backend::ndarray::{NdArray, NdArrayTensor};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, TensorMetadata};
use burn::tensor::{Shape, TensorData};
use rayon::prelude::*;

use super::saved::{self, Packed, PackedOut, SavedForm};
use super::{
    COEFFICIENTS, Coef, FiringSpec, FusedLeakyBackend, LeakySpec, MembraneForm, SynapseForm,
    count_launch,
};
use crate::neuron::Reset;
use crate::surrogate::Surrogate;

/// Neurons per work item: 16 cache lines of f32, a multiple of every SIMD width.
const CHUNK: usize = 256;

/// How many time steps ahead the loops hint the caches to fetch their rows (see
/// [`crate::simd::prefetch`]).
const PREFETCH_STEPS: usize = 4;

const EULER_SCALED: u8 = 0;
const EULER_UNSCALED: u8 = 1;
const EXACT: u8 = 2;

// The work items write disjoint indices (their own batch row and neuron chunk) through `Out`.
use crate::host_buffer::Out;

/// A read-only raw pointer that work items share (the input sequence, which may also be the
/// output buffer when the op runs in place).
#[derive(Clone, Copy)]
struct In(*const f32);
// SAFETY: items read disjoint ranges; in place, each item reads a range before writing it.
unsafe impl Send for In {}
unsafe impl Sync for In {}

impl In {
    /// `len` elements from `offset`.
    ///
    /// SAFETY: the range lies inside the buffer, and nothing writes it while the slice lives.
    unsafe fn slice<'a>(self, offset: usize, len: usize) -> &'a [f32] {
        unsafe { std::slice::from_raw_parts(self.0.add(offset), len) }
    }
}

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

    /// The pointer to read from, the pointer to write to, and the new buffer behind the latter
    /// (`None` in place).
    fn pointers(&mut self) -> (In, Out, Option<Vec<f32>>) {
        match self {
            Sequence::Shared(s) => {
                // every element is written (each item writes its rows at every step)
                let mut out = crate::host_buffer::overwritable(s.len());
                (In(s.as_ptr()), Out(out.as_mut_ptr()), Some(out))
            }
            Sequence::InPlace(s) => {
                super::count_in_place();
                // both from one mutable pointer: a shared borrow's pointer may not be written
                // through once the mutable one exists
                let p = s.as_mut_ptr();
                (In(p.cast_const()), Out(p), None)
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

/// The per-neuron coefficients of one chunk.
struct Chunk<'a> {
    a: &'a [f32],
    gain: &'a [f32],
    rest: &'a [f32],
    syn: &'a [f32],
    thr: &'a [f32],
}

impl<'a> Chunk<'a> {
    #[inline(always)]
    fn new(coef: &'a [f32], size: usize, n0: usize, len: usize) -> Self {
        let row = |r: Coef| &coef[r as usize * size + n0..r as usize * size + n0 + len];
        Self {
            a: row(Coef::Membrane),
            gain: row(Coef::Gain),
            rest: row(Coef::Rest),
            syn: row(Coef::Synapse),
            thr: row(Coef::Threshold),
        }
    }
}

/// The membrane update `u(v, c)` in the reference's operation order.
#[inline(always)]
fn integrate<const M: u8>(v: f32, c: f32, a: f32, gain: f32, rest: f32, v_leak: f32) -> f32 {
    match M {
        EULER_SCALED => v + ((v_leak - v) + c) * a,
        EULER_UNSCALED => v + (v_leak - v) * a + c,
        _ => v * a + c * gain + rest,
    }
}

/// `(∂u/∂v, ∂u/∂c)` times `gu`.
#[inline(always)]
fn integrate_grad<const M: u8>(gu: f32, a: f32, gain: f32) -> (f32, f32) {
    match M {
        EULER_SCALED => (gu - gu * a, gu * a),
        EULER_UNSCALED => (gu - gu * a, gu),
        _ => (gu * a, gu * gain),
    }
}

/// The step's input current `c = x (+ i)` and the synaptic current carried to the next step
/// (`c − c·k_syn` Euler, `c·α` exact; the coefficient is 0 without a synapse).
#[inline(always)]
fn synapse(x: f32, i: f32, k_syn: f32, syn: bool, euler: bool) -> (f32, f32) {
    let c = if syn { i + x } else { x };
    (c, if euler { c - c * k_syn } else { c * k_syn })
}

/// `∂i_next/∂c` times `gi`: the gradient the carried synaptic current sends back to `c`.
#[inline(always)]
fn synapse_grad(gi: f32, k_syn: f32, euler: bool) -> f32 {
    if euler { gi - gi * k_syn } else { gi * k_syn }
}

#[inline(always)]
fn heaviside(s: f32, at_zero: bool) -> f32 {
    // loop-invariant select, no data-dependent branch
    let strict = (s > 0.0) as u32 as f32;
    let wide = (s >= 0.0) as u32 as f32;
    if at_zero { wide } else { strict }
}

/// The surrogate derivative `σ'(s)` as a closure (the formulas of
/// [`crate::spike::SpikeBackend::surrogate_backward`]), handed to `$body` as `$f`; with a
/// leading `needed` flag, a closure returning 0 when the flag is false (one instance of `$body`
/// instead of one per surrogate, for loops that do not evaluate it).
macro_rules! with_surrogate {
    ($needed:expr, $surrogate:expr, |$f:ident| $body:expr) => {
        if $needed {
            with_surrogate!($surrogate, |$f| $body)
        } else {
            let $f = |_: f32| 0.0f32;
            $body
        }
    };
    ($surrogate:expr, |$f:ident| $body:expr) => {
        match $surrogate {
            Surrogate::SuperSpike { alpha: k } | Surrogate::FastSigmoid { slope: k } => {
                let $f = move |s: f32| {
                    let d = s.abs() * k + 1.0;
                    1.0 / (d * d)
                };
                $body
            }
            Surrogate::Arctan { alpha } => {
                let scale = core::f32::consts::FRAC_PI_2 * alpha;
                let half = alpha / 2.0;
                let $f = move |s: f32| {
                    let u = s * scale;
                    half / (u * u + 1.0)
                };
                $body
            }
            Surrogate::ArctanInvPi { k } => {
                let scale = k * core::f32::consts::PI;
                let $f = move |s: f32| {
                    let u = s * scale;
                    1.0 / ((u * u + 1.0) * core::f32::consts::PI)
                };
                $body
            }
            Surrogate::Sigmoid { alpha } => {
                let $f = move |s: f32| {
                    let sig = 1.0 / (1.0 + (-(s * alpha)).exp());
                    sig * (1.0 - sig) * alpha
                };
                $body
            }
            Surrogate::Triangle { k, height } => {
                let $f = move |s: f32| (s.abs() * -k + 1.0).max(0.0) * height;
                $body
            }
            Surrogate::Boxcar { width, height } => {
                let half = width / 2.0;
                let $f = move |s: f32| if s.abs() < half { height } else { 0.0 };
                $body
            }
            Surrogate::StraightThrough => {
                let $f = |_: f32| 1.0f32;
                $body
            }
        }
    };
}

/// Runs `$body` for every work item `$w` of `$dims` in parallel, compiled for the widest SIMD
/// the CPU has ([`crate::simd::widest`]; the item functions are `#[inline(always)]`).
macro_rules! for_each_item {
    ($dims:expr, |$w:ident| $body:expr) => {
        (0..$dims.items()).into_par_iter().for_each(|$w| {
            crate::simd::widest(
                #[inline(always)]
                || $body,
            )
        })
    };
}

/// The forward loop of one work item (`#[inline(always)]`: compiled inside
/// [`crate::simd::widest`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_item<const M: u8, const DELAY: bool, S: Fn(f32) -> f32>(
    x: In,
    v0: &[f32],
    i0: &[f32],
    coef: &[f32],
    spec: &LeakySpec,
    d: Dims,
    w: usize,
    out: Out,
    fin: Out,
    saved: SavedOut,
    surrogate: S,
) {
    let (b, n0, len) = d.item(w);
    let k = Chunk::new(coef, d.size, n0, len);
    let state = b * d.size + n0;
    let mut v = [0f32; CHUNK];
    let mut i = [0f32; CHUNK];
    let mut fired = [0f32; CHUNK];
    let (v, i, fired) = (&mut v[..len], &mut i[..len], &mut fired[..len]);
    v.copy_from_slice(&v0[state..state + len]);
    let syn = spec.synapse != SynapseForm::None;
    let syn_euler = spec.synapse == SynapseForm::Euler;
    if syn {
        i.copy_from_slice(&i0[state..state + len]);
    }
    let vl = spec.v_leak;
    let firing = spec.firing;
    let (reset, v_reset, at_zero, delay_to_value) = match firing {
        Some(f) => (
            f.reset,
            f.v_reset,
            f.fire_at_threshold,
            f.reset == Reset::ToValue,
        ),
        None => (Reset::None, 0.0, false, false),
    };
    if DELAY {
        for j in 0..len {
            fired[j] = heaviside(v[j] - k.thr[j], at_zero);
        }
    }
    let (reset_subtract, reset_to_value) = (reset == Reset::Subtract, reset == Reset::ToValue);
    let subtract_delayed = DELAY && reset_subtract;
    // The loops write only to these stack buffers (and `v`, `i`, `fired`), which nothing else
    // can alias, so the compiler vectorizes them without runtime overlap checks; each step's
    // results are then copied out whole.
    let mut z_buf = [0f32; CHUNK];
    let mut u_buf = [0f32; CHUNK];
    let mut word_buf = [0u32; CHUNK];
    let (zs, us, words) = (&mut z_buf[..len], &mut u_buf[..len], &mut word_buf[..len]);
    for t in 0..d.time {
        let base = (b * d.time + t) * d.size + n0;
        if t + PREFETCH_STEPS < d.time {
            let ahead = base + PREFETCH_STEPS * d.size;
            prefetch_rows(x, out, ahead, len);
            saved.prefetch(ahead, len);
        }
        // SAFETY: [base, base + len) belongs to this item; in place, `xs` is last read before
        // the step's output is written below.
        let xs = unsafe { x.slice(base, len) };
        if firing.is_none() {
            // leaky integrator: the output is the membrane
            for j in 0..len {
                let c;
                (c, i[j]) = synapse(xs[j], i[j], k.syn[j], syn, syn_euler);
                let u = integrate::<M>(v[j], c, k.a[j], k.gain[j], k.rest[j], vl);
                zs[j] = u;
                v[j] = u;
            }
        } else {
            // Every condition below is loop-invariant: the compiler turns them into selects.
            for j in 0..len {
                let c;
                (c, i[j]) = synapse(xs[j], i[j], k.syn[j], syn, syn_euler);
                let thr = k.thr[j];
                let vj = if DELAY && delay_to_value {
                    // reset to value before the leak, by the previous (detached) spike
                    (1.0 - fired[j]) * v[j] + fired[j] * v_reset
                } else {
                    v[j]
                };
                let mut u = integrate::<M>(vj, c, k.a[j], k.gain[j], k.rest[j], vl);
                if subtract_delayed {
                    u -= fired[j] * thr;
                }
                let z = heaviside(u - thr, at_zero);
                zs[j] = z;
                us[j] = u;
                if DELAY {
                    fired[j] = z;
                    v[j] = u;
                } else {
                    let sub = u - z * thr;
                    let to_value = (1.0 - z) * u + z * v_reset;
                    // bools, not a `match`: a `match` on the enum stays a branch in the loop
                    v[j] = if reset_subtract {
                        sub
                    } else if reset_to_value {
                        to_value
                    } else {
                        u
                    };
                }
            }
        }
        // SAFETY: [base, base + len) of the output and saved buffers belongs to this item only.
        unsafe {
            out.slice(base, len).copy_from_slice(zs);
            match saved {
                SavedOut::Nothing => {}
                SavedOut::Membrane(saved) => saved.slice(base, len).copy_from_slice(us),
                SavedOut::Packed(saved) => {
                    for j in 0..len {
                        words[j] = saved::encode(surrogate(us[j] - k.thr[j]), zs[j], saved.scale);
                    }
                    saved.write(base, words);
                }
            }
        }
    }
    // SAFETY: [state, state + len) of each final-state plane belongs to this item.
    unsafe {
        fin.slice(state, len).copy_from_slice(v);
        fin.slice(d.batch * d.size + state, len).copy_from_slice(i);
    }
}

/// The reverse (BPTT) loop of one work item (`#[inline(always)]`: compiled inside
/// [`crate::simd::widest`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_item<const M: u8, const DELAY: bool, S: Fn(f32) -> f32>(
    saved: SavedIn<'_>,
    v0: &[f32],
    coef: &[f32],
    spec: &LeakySpec,
    d: Dims,
    w: usize,
    grad_out: In,
    grad_v: &[f32],
    grad_i: &[f32],
    surrogate: S,
    gx: Out,
    ginit: Out,
) {
    let (b, n0, len) = d.item(w);
    let k = Chunk::new(coef, d.size, n0, len);
    let state = b * d.size + n0;
    let syn = spec.synapse != SynapseForm::None;
    let syn_euler = spec.synapse == SynapseForm::Euler;
    let mut gv = [0f32; CHUNK];
    let mut gi = [0f32; CHUNK];
    let (gv, gi) = (&mut gv[..len], &mut gi[..len]);
    gv.copy_from_slice(&grad_v[state..state + len]);
    if syn {
        gi.copy_from_slice(&grad_i[state..state + len]);
    }
    let firing = spec.firing;
    let (reset, v_reset, at_zero, detach) = match firing {
        Some(FiringSpec {
            reset,
            v_reset,
            fire_at_threshold,
            detach_reset,
            ..
        }) => (reset, v_reset, fire_at_threshold, detach_reset),
        None => (Reset::None, 0.0, false, true),
    };
    let keep_reset_grad = if detach { 0.0 } else { 1.0 };
    let (reset_subtract, reset_to_value) = (reset == Reset::Subtract, reset == Reset::ToValue);
    // the step's input gradient, computed on the stack and copied out (see `forward_item`)
    let mut gx_buf = [0f32; CHUNK];
    let gxs = &mut gx_buf[..len];
    // the step's σ', spike, membrane (Membrane form only; zeros otherwise, where it is not
    // used) and the previous step's spike, unpacked onto the stack before the step's loop
    let (mut sg_buf, mut z_buf) = ([0f32; CHUNK], [0f32; CHUNK]);
    let (mut u_buf, mut prev_buf) = ([0f32; CHUNK], [0f32; CHUNK]);
    let (sgs, zs) = (&mut sg_buf[..len], &mut z_buf[..len]);
    let (us, prev) = (&mut u_buf[..len], &mut prev_buf[..len]);
    for t in (0..d.time).rev() {
        let base = (b * d.time + t) * d.size + n0;
        if t >= PREFETCH_STEPS {
            let ahead = base - PREFETCH_STEPS * d.size;
            prefetch_rows(grad_out, gx, ahead, len);
            saved.prefetch(ahead, len);
        }
        // SAFETY: as in `forward_item`: this item's range, read before `gx` is written.
        let go = unsafe { grad_out.slice(base, len) };
        if firing.is_none() {
            for j in 0..len {
                let gu = gv[j] + go[j];
                let (gvp, gc) = integrate_grad::<M>(gu, k.a[j], k.gain[j]);
                let gc = gc + synapse_grad(gi[j], k.syn[j], syn_euler);
                gxs[j] = gc;
                gi[j] = gc;
                gv[j] = gvp;
            }
            // SAFETY: [base, base + len) of the input gradient belongs to this item only.
            unsafe { gx.slice(base, len).copy_from_slice(gxs) };
            continue;
        }
        match saved {
            SavedIn::Membrane(u_all) => {
                us.copy_from_slice(&u_all[base..base + len]);
                for j in 0..len {
                    let s = us[j] - k.thr[j];
                    sgs[j] = surrogate(s);
                    zs[j] = heaviside(s, at_zero);
                }
            }
            SavedIn::Packed(packed) => packed.decode_run(base, sgs, zs),
        }
        if DELAY && reset_to_value {
            // the spike of the previous step, which reset the membrane carried into this one
            match saved {
                _ if t == 0 => {
                    for j in 0..len {
                        prev[j] = heaviside(v0[state + j] - k.thr[j], at_zero);
                    }
                }
                SavedIn::Membrane(u_all) => {
                    for j in 0..len {
                        prev[j] = heaviside(u_all[base - d.size + j] - k.thr[j], at_zero);
                    }
                }
                SavedIn::Packed(packed) => packed.spikes_run(base - d.size, prev),
            }
        }
        for j in 0..len {
            let thr = k.thr[j];
            let sg = sgs[j];
            let gu = if DELAY {
                // the reset was applied before this step's leak, by the detached previous spike
                gv[j] + go[j] * sg
            } else {
                let (u, z) = (us[j], zs[j]);
                // bools, not a `match` (see `forward_item`)
                let (gu_reset, gz_reset) = if reset_subtract {
                    (gv[j], -thr * gv[j])
                } else if reset_to_value {
                    ((1.0 - z) * gv[j], (v_reset - u) * gv[j])
                } else {
                    (gv[j], 0.0)
                };
                let gz = go[j] + gz_reset * keep_reset_grad;
                gu_reset + gz * sg
            };
            let (g, gc) = integrate_grad::<M>(gu, k.a[j], k.gain[j]);
            let gc = gc + synapse_grad(gi[j], k.syn[j], syn_euler);
            gxs[j] = gc;
            gi[j] = gc;
            gv[j] = if DELAY && reset_to_value {
                // the delayed reset to a value cut the membrane's path where the spike fired
                g * (1.0 - prev[j])
            } else {
                g
            };
        }
        // SAFETY: as above.
        unsafe { gx.slice(base, len).copy_from_slice(gxs) };
    }
    // SAFETY: this item's slots of the initial-state gradient planes.
    unsafe {
        ginit.slice(state, len).copy_from_slice(gv);
        let gi_out = ginit.slice(d.batch * d.size + state, len);
        if syn {
            gi_out.copy_from_slice(gi);
        } else {
            gi_out.fill(0.0);
        }
    }
}

/// Forward over all items. `out` `[B,T,N]`, `fin` `[2,B,N]` (v then i), `saved` `[B,T,N]`.
pub(crate) fn forward(
    mut x: Sequence<'_>,
    v0: &[f32],
    i0: &[f32],
    coef: &[f32],
    spec: &LeakySpec,
    d: Dims,
    saving: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Option<Vec<f32>>) {
    let total = d.batch * d.time * d.size;
    assert_eq!(x.len(), total, "fused forward: input size");
    assert_eq!(
        coef.len(),
        COEFFICIENTS * d.size,
        "fused forward: coefficients"
    );
    let (xp, o, out) = x.pointers();
    let mut fin = vec![0f32; 2 * d.batch * d.size];
    let form = if saving {
        SavedForm::of(spec)
    } else {
        SavedForm::Nothing
    };
    // every element is written (each item writes its rows at every step); the backward gives
    // the buffer back (`give_back`) for the next forward of the same size
    let mut saved =
        (form != SavedForm::Nothing).then(|| crate::host_buffer::overwritable(form.words(total)));
    let f = Out(fin.as_mut_ptr());
    let s = match (form, saved.as_mut()) {
        (SavedForm::Membrane, Some(buffer)) => SavedOut::Membrane(Out(buffer.as_mut_ptr())),
        (SavedForm::Surrogate { scale, .. }, Some(buffer)) => {
            SavedOut::Packed(PackedOut::new(buffer, total, scale))
        }
        _ => SavedOut::Nothing,
    };
    let delay = spec.firing.is_some_and(|f| f.reset_delay);
    // the packed form stores σ': then the surrogate runs in the forward loop
    let packed = matches!(s, SavedOut::Packed(_));
    macro_rules! run {
        ($m:expr, $delay:expr) => {
            with_surrogate!(packed, surrogate_of(spec), |sg| for_each_item!(d, |w| {
                forward_item::<$m, $delay, _>(xp, v0, i0, coef, spec, d, w, o, f, s, sg)
            }))
        };
    }
    match (spec.membrane, delay) {
        (MembraneForm::EulerScaled, false) => run!(EULER_SCALED, false),
        (MembraneForm::EulerScaled, true) => run!(EULER_SCALED, true),
        (MembraneForm::EulerUnscaled, false) => run!(EULER_UNSCALED, false),
        (MembraneForm::EulerUnscaled, true) => run!(EULER_UNSCALED, true),
        (MembraneForm::Exact, false) => run!(EXACT, false),
        (MembraneForm::Exact, true) => run!(EXACT, true),
    }
    (out, fin, saved)
}

/// Where the forward loop writes what the backward needs (see [`SavedForm`]).
#[derive(Clone, Copy)]
enum SavedOut {
    Nothing,
    Membrane(Out),
    Packed(PackedOut),
}

/// What the backward loop reads (see [`SavedForm`]).
#[derive(Clone, Copy)]
enum SavedIn<'a> {
    Membrane(&'a [f32]),
    Packed(Packed<'a>),
}

impl SavedOut {
    /// Hints the caches to fetch elements `at..at + len` (see [`crate::simd::prefetch`]).
    #[inline(always)]
    fn prefetch(self, at: usize, len: usize) {
        match self {
            SavedOut::Nothing => {}
            SavedOut::Membrane(saved) => crate::simd::prefetch(saved.0.wrapping_add(at), len),
            SavedOut::Packed(saved) => saved.prefetch(at, len),
        }
    }
}

impl SavedIn<'_> {
    /// Hints the caches to fetch elements `at..at + len` (see [`crate::simd::prefetch`]); nothing
    /// for a leaky integrator's one-element placeholder.
    #[inline(always)]
    fn prefetch(self, at: usize, len: usize) {
        match self {
            SavedIn::Membrane(u_all) => {
                if let Some(row) = u_all.get(at..at + len) {
                    crate::simd::prefetch(row.as_ptr(), len)
                }
            }
            SavedIn::Packed(packed) => packed.prefetch(at, len),
        }
    }
}

/// Hints the caches to fetch elements `at..at + len` of a loop's sequence and of its output
/// (one buffer when the loop runs in place).
#[inline(always)]
fn prefetch_rows(read: In, write: Out, at: usize, len: usize) {
    crate::simd::prefetch(read.0.wrapping_add(at), len);
    if read.0 != write.0.cast_const() {
        crate::simd::prefetch(write.0.wrapping_add(at), len);
    }
}

/// The layer's surrogate (unused by a leaky integrator).
fn surrogate_of(spec: &LeakySpec) -> Surrogate {
    spec.firing
        .map(|f| f.surrogate)
        .unwrap_or(Surrogate::StraightThrough)
}

/// Backward over all items. Returns `gx` `[B,T,N]` and the initial-state gradients `[2,B,N]`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn backward(
    saved: &[f32],
    v0: &[f32],
    coef: &[f32],
    spec: &LeakySpec,
    d: Dims,
    mut grad_out: Sequence<'_>,
    grad_v: &[f32],
    grad_i: &[f32],
) -> (Option<Vec<f32>>, Vec<f32>) {
    let total = d.batch * d.time * d.size;
    assert_eq!(
        grad_out.len(),
        total,
        "fused backward: output gradient size"
    );
    let (gop, gxp, gx) = grad_out.pointers();
    let mut ginit = vec![0f32; 2 * d.batch * d.size];
    let gip = Out(ginit.as_mut_ptr());
    let form = SavedForm::of(spec);
    if spec.firing.is_some() {
        assert_eq!(saved.len(), form.words(total), "fused backward: saved size");
    }
    let delay = spec.firing.is_some_and(|f| f.reset_delay);
    let saved = match form {
        SavedForm::Surrogate { step, .. } => SavedIn::Packed(Packed::new(saved, total, step)),
        SavedForm::Membrane | SavedForm::Nothing => SavedIn::Membrane(saved),
    };
    // the Membrane form recomputes σ' from u; the packed form stored it
    let recompute = matches!(saved, SavedIn::Membrane(_)) && spec.firing.is_some();
    macro_rules! run {
        ($m:expr, $delay:expr) => {
            with_surrogate!(recompute, surrogate_of(spec), |sg| for_each_item!(d, |w| {
                backward_item::<$m, $delay, _>(
                    saved, v0, coef, spec, d, w, gop, grad_v, grad_i, sg, gxp, gip,
                )
            }))
        };
    }
    match (spec.membrane, delay) {
        (MembraneForm::EulerScaled, false) => run!(EULER_SCALED, false),
        (MembraneForm::EulerScaled, true) => run!(EULER_SCALED, true),
        (MembraneForm::EulerUnscaled, false) => run!(EULER_UNSCALED, false),
        (MembraneForm::EulerUnscaled, true) => run!(EULER_UNSCALED, true),
        (MembraneForm::Exact, false) => run!(EXACT, false),
        (MembraneForm::Exact, true) => run!(EXACT, true),
    }
    (gx, ginit)
}

/// Raw f32 access to a CPU backend's tensors: borrowed in place when contiguous, and results
/// wrapped without a copy.
pub(crate) trait CpuTensor: Backend {
    /// The elements in row-major order (borrowed when the tensor is contiguous f32).
    fn f32s(t: &FloatTensor<Self>) -> Cow<'_, [f32]>;
    /// A tensor whose buffer this op owns alone, for writing over it.
    type Unique;
    /// The tensor as [`CpuTensor::Unique`] when it is f32, contiguous in row-major order and
    /// its buffer held by nobody else (and is exactly its size); the tensor back otherwise.
    fn take_unique(t: FloatTensor<Self>) -> Result<Self::Unique, FloatTensor<Self>>;
    /// The elements of a unique tensor, row-major.
    fn unique_values(u: &mut Self::Unique) -> &mut [f32];
    /// The unique tensor as a tensor again.
    fn from_unique(u: Self::Unique) -> FloatTensor<Self>;
    /// The unique tensor's buffer as a `Vec` (no copy).
    fn into_f32s(u: Self::Unique) -> Vec<f32>;
    /// A tensor owning `data` (no copy).
    fn from_f32s(data: Vec<f32>, shape: Vec<usize>) -> FloatTensor<Self>;
}

impl CpuTensor for NdArray {
    fn f32s(t: &NdArrayTensor) -> Cow<'_, [f32]> {
        match t {
            NdArrayTensor::F32(storage) => {
                let view = storage.view();
                match view.to_slice() {
                    Some(s) => Cow::Borrowed(s),
                    None => Cow::Owned(view.iter().copied().collect()),
                }
            }
            other => panic!("the fused op runs on f32 tensors, got {:?}", other.dtype()),
        }
    }
    type Unique = burn::backend::ndarray::SharedArray<f32>;
    fn take_unique(t: NdArrayTensor) -> Result<Self::Unique, NdArrayTensor> {
        match t {
            NdArrayTensor::F32(storage) if storage.is_unique() => {
                // unique and owned: no copy
                let array = storage.into_owned();
                if array.is_standard_layout() {
                    Ok(array)
                } else {
                    Err(NdArrayTensor::from(array))
                }
            }
            other => Err(other),
        }
    }
    fn unique_values(u: &mut Self::Unique) -> &mut [f32] {
        // standard layout (checked), unique: a view of the buffer, no copy
        u.as_slice_mut().expect("standard layout")
    }
    fn from_unique(u: Self::Unique) -> NdArrayTensor {
        NdArrayTensor::from(u)
    }
    fn into_f32s(u: Self::Unique) -> Vec<f32> {
        // standard layout and unique (checked by `take_unique`): the buffer itself, from offset 0
        u.into_owned().into_raw_vec_and_offset().0
    }
    fn from_f32s(data: Vec<f32>, shape: Vec<usize>) -> NdArrayTensor {
        NdArrayTensor::from_data(TensorData::new(data, shape))
    }
}

impl CpuTensor for Flex {
    fn f32s(t: &FlexTensor) -> Cow<'_, [f32]> {
        match t.as_slice::<f32>() {
            Some(s) => Cow::Borrowed(s),
            None if t.dtype() == burn::tensor::DType::F32 => Cow::Owned(
                t.to_contiguous()
                    .as_slice::<f32>()
                    .expect("contiguous")
                    .to_vec(),
            ),
            None => Cow::Owned(
                t.clone()
                    .into_data()
                    .convert::<f32>()
                    .into_vec::<f32>()
                    .expect("f32 data"),
            ),
        }
    }
    type Unique = FlexTensor;
    fn take_unique(t: FlexTensor) -> Result<FlexTensor, FlexTensor> {
        let whole = t.is_unique()
            && t.is_contiguous()
            && t.layout().start_offset() == 0
            && t.dtype() == burn::tensor::DType::F32
            && t.bytes().len() == t.layout().num_elements() * size_of::<f32>();
        if whole { Ok(t) } else { Err(t) }
    }
    fn unique_values(u: &mut FlexTensor) -> &mut [f32] {
        u.try_storage_mut::<f32>().expect("checked unique")
    }
    fn from_unique(u: FlexTensor) -> FlexTensor {
        u
    }
    fn into_f32s(u: FlexTensor) -> Vec<f32> {
        // unique, contiguous from offset 0 and exactly its size (checked by `take_unique`):
        // `into_data` unwraps the buffer, and a buffer allocated as f32 converts without a copy
        u.into_data().try_into_vec::<f32>().expect("checked f32")
    }
    fn from_f32s(data: Vec<f32>, shape: Vec<usize>) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(data, shape))
    }
}

fn dims_of<B: Backend>(x: &FloatTensor<B>) -> Dims {
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
fn over_sequence<B: CpuTensor, R>(
    seq: FloatTensor<B>,
    d: Dims,
    run: impl FnOnce(Sequence<'_>) -> (Option<Vec<f32>>, R),
) -> (FloatTensor<B>, R) {
    match B::take_unique(seq) {
        Ok(mut unique) => {
            let (_, rest) = run(Sequence::InPlace(B::unique_values(&mut unique)));
            (B::from_unique(unique), rest)
        }
        Err(seq) => {
            let (out, rest) = run(Sequence::Shared(B::f32s(&seq)));
            let out = out.expect("a new buffer when not in place");
            (B::from_f32s(out, vec![d.batch, d.time, d.size]), rest)
        }
    }
}

/// The `[v, i]` pair of `[batch, size]` tensors from the loops' state buffer (`v` then `i`).
fn state_pair<B: CpuTensor>(mut both: Vec<f32>, d: Dims) -> (FloatTensor<B>, FloatTensor<B>) {
    let plane = d.batch * d.size;
    let i = both.split_off(plane);
    let shape = vec![d.batch, d.size];
    (B::from_f32s(both, shape.clone()), B::from_f32s(i, shape))
}

fn run_forward<B: CpuTensor>(
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
    let (v0s, i0s, coefs) = (B::f32s(&v0), B::f32s(&i0), B::f32s(&coef));
    // x is not needed after this op (the backward keeps σ' or the membrane, not the input), so when
    // the caller handed over its only handle, the output is written over it.
    let (out, (fin, saved)) = over_sequence::<B, _>(x, d, |x| {
        let (out, fin, saved) = forward(x, &v0s, &i0s, &coefs, &spec, d, saving);
        (out, (fin, saved))
    });
    let (v_fin, i_fin) = state_pair::<B>(fin, d);
    let saved = saved.map(|s| {
        let shape = match SavedForm::of(&spec) {
            // packed words, one-dimensional
            SavedForm::Surrogate { .. } => vec![s.len()],
            _ => vec![d.batch, d.time, d.size],
        };
        B::from_f32s(s, shape)
    });
    (out, v_fin, i_fin, saved)
}

#[allow(clippy::type_complexity)]
fn run_backward<B: CpuTensor>(
    u: FloatTensor<B>,
    v0: FloatTensor<B>,
    coef: FloatTensor<B>,
    grad_out: FloatTensor<B>,
    grad_v: FloatTensor<B>,
    grad_i: FloatTensor<B>,
    spec: LeakySpec,
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
    let d = dims_of::<B>(&grad_out);
    let (saved, v0s, coefs) = (B::f32s(&u), B::f32s(&v0), B::f32s(&coef));
    let (gvs, gis) = (B::f32s(&grad_v), B::f32s(&grad_i));
    // the output gradient is consumed here: written over with the input gradient when this op
    // holds its only handle
    let (gx, ginit) = over_sequence::<B, _>(grad_out, d, |go| {
        backward(&saved, &v0s, &coefs, &spec, d, go, &gvs, &gis)
    });
    let (gv, gi) = state_pair::<B>(ginit, d);
    drop(saved);
    give_back::<B>(u);
    (gx, gv, gi)
}

/// [`give_back`] for a tensor of any backend: a no-op unless it is an NdArray or Flex tensor
/// (the autodiff wrapper, generic over its inner backend, calls this when its saved state goes).
pub(crate) fn give_back_any<B: Backend>(kept: FloatTensor<B>) {
    let kept: Box<dyn std::any::Any> = Box::new(kept);
    match kept.downcast::<NdArrayTensor>() {
        Ok(t) => give_back::<NdArray>(*t),
        Err(kept) => {
            if let Ok(t) = kept.downcast::<FlexTensor>() {
                give_back::<Flex>(*t)
            }
        }
    }
}

/// Gives the buffer of `kept` (what a forward kept for its backward) back to
/// [`crate::host_buffer::recycle`] when nothing else holds it; otherwise just drops this handle.
pub(crate) fn give_back<B: CpuTensor>(kept: FloatTensor<B>) {
    if let Ok(unique) = B::take_unique(kept) {
        crate::host_buffer::recycle(B::into_f32s(unique));
    }
}

macro_rules! cpu_backend {
    ($backend:ty) => {
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
                let (out, v, i, saved) = run_forward::<Self>(x, v0, i0, coef, spec, true);
                let saved = saved.unwrap_or_else(|| Self::from_f32s(vec![0.0], vec![1]));
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
    };
}

cpu_backend!(NdArray);
cpu_backend!(Flex);

#[cfg(test)]
mod tests {
    use burn::backend::{Dispatch, TensorMetadata};
    use burn::prelude::*;

    use super::super::FusedLeakyBackend;
    use super::SavedForm;
    use crate::LifConfig;

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
        let values = |t: Tensor<3>| t.into_data().into_vec::<f32>().unwrap();
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
        let _alone = crate::host_buffer::tests::spare_list_to_myself();
        for device in [Device::ndarray(), Device::flex()] {
            let device = device.autodiff();
            let first = lif_step(&device, dims);
            // the last of the op's autodiff nodes gave the kept buffer back: poison it, and a
            // spare output-sized buffer, with NaN; a second step must not see either
            let mut kept = crate::host_buffer::overwritable(words);
            assert!(
                kept.iter().any(|&v| v != 0.0),
                "{device:?}: the kept buffer came back (a fresh one is all zeros)"
            );
            kept.fill(f32::NAN);
            crate::host_buffer::recycle(kept);
            let mut out = crate::host_buffer::overwritable(total);
            out.fill(f32::NAN);
            crate::host_buffer::recycle(out);
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

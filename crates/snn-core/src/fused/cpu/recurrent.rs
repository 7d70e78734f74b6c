//! The fused recurrent leaky layer on host slices: the per-neuron step of [`StepRule`] driven
//! by `x` plus the recurrent current of the previous step's spikes.
//!
//! * Forward: one work item per batch row (rows are independent), time loop inside. Each step's
//!   recurrent current is the sum of the rows of `W_recᵀ` (`[sender, receiver]`) of the
//!   neurons that spiked on the previous step, an event list: at 1-5 % activity that is 20-100x
//!   fewer adds than the dense product.
//! * Backward (BPTT): rows are independent here too, but a step's spike gradient needs the
//!   next step's current gradient of every neuron of its row. Each thread takes a group of rows
//!   through all the steps in reverse: per step, each row's reverse step of
//!   [`StepRule::fire_grad`], then one matrix product `[rows, H]·W_rec` that sends the current
//!   gradients back to the previous step's spikes (dense: the surrogate makes the
//!   gradients dense). After the loop, the gradient of `W_rec` accumulates the current gradients
//!   event by event (into the rows of its transpose, one per sender, transposed once), or by one
//!   matrix product where the spikes are denser than [`DENSE_WEIGHT_GRADIENT`].
//!
//! What the backward keeps: the pre-reset membrane `u` (4 bytes per neuron and step), from which
//! the spikes and the surrogate derivative are recomputed bit-exactly.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::scalar::{Chunk, StepRule, heaviside};
use super::{Dims, EULER_SCALED, EULER_UNSCALED, EXACT};
use crate::dynamics::{Coef, LeakySpec, MembraneForm};
use crate::host::gemm::{PARALLEL_MIN_MACS, Strided, matmul, matmul_on};
use crate::surrogate::with_surrogate;

/// The default of [`dense_weight_gradient_above`]: above this fraction of nonzero presynaptic
/// values (spikes, and the initial `z`), the gradient of the recurrent weights is one matrix
/// product instead of one row add per spike. Measured with
/// `cargo bench --bench recurrent_workload -- density` (H = 1024, batch 32, 100 steps, flex,
/// forward + backward of the op, ms, event loop / matrix product; 2026-12-06, 2 cores, AVX-512,
/// with the events grouped by sender): 97.6 / 142 at 2.2 % activity, 143 / 131 at 7.9 %,
/// 206 / 172 at 18.7 %, 287 / 192 at 39.5 %; the two cross near 6.5 %.
pub const DENSE_WEIGHT_GRADIENT: f64 = 0.065;

/// The current threshold, as `f64` bits (`DENSE_WEIGHT_GRADIENT` until set).
static DENSE_ABOVE: AtomicU64 = AtomicU64::new(DENSE_WEIGHT_GRADIENT.to_bits());

/// The spike density above which the fused recurrent op computes the recurrent weight
/// gradient by a matrix product rather than event by event (process-wide;
/// [`DENSE_WEIGHT_GRADIENT`] unless [`set_dense_weight_gradient_above`] changed it).
pub fn dense_weight_gradient_above() -> f64 {
    f64::from_bits(DENSE_ABOVE.load(Ordering::Relaxed))
}

/// Sets [`dense_weight_gradient_above`] (clamped to `[0, 1]`; 0 always takes the product, 1
/// never): for benchmarks that compare the two, and for machines whose crossover differs. Both
/// give the same gradient up to summation order.
pub fn set_dense_weight_gradient_above(density: f64) {
    let density = if density.is_nan() {
        DENSE_WEIGHT_GRADIENT
    } else {
        density.clamp(0.0, 1.0)
    };
    DENSE_ABOVE.store(density.to_bits(), Ordering::Relaxed);
}

/// Senders per work item of the event-driven weight gradient: each item owns these rows of the
/// gradient, so no two items write the same element.
const SENDERS_PER_ITEM: usize = 16;

/// The threshold row of the coefficients.
fn thresholds(coef: &[f32], size: usize) -> &[f32] {
    let r = Coef::Threshold as usize;
    &coef[r * size..(r + 1) * size]
}

/// The nonzero entries of `z` as `(index, value)`: the senders whose rows the next step adds.
fn events_of(z: &[f32], events: &mut Vec<(usize, f32)>) {
    events.clear();
    events.extend(
        z.iter()
            .enumerate()
            .filter(|(_, z)| **z != 0.0)
            .map(|(j, z)| (j, *z)),
    );
}

/// `rec = Σ z_j · W_recᵀ[j, :]` over the events.
#[inline(always)]
fn recurrent_current(events: &[(usize, f32)], w_rec_t: &[f32], rec: &mut [f32]) {
    let h = rec.len();
    rec.fill(0.0);
    for &(j, z) in events {
        let row = &w_rec_t[j * h..(j + 1) * h];
        if z == 1.0 {
            for (r, w) in rec.iter_mut().zip(row) {
                *r += w;
            }
        } else {
            for (r, w) in rec.iter_mut().zip(row) {
                *r += z * w;
            }
        }
    }
}

/// The operands every row of the forward shares.
struct Operands<'a> {
    z0: &'a [f32],
    w_rec_t: &'a [f32],
    coef: &'a [f32],
    rule: StepRule,
    d: Dims,
}

/// One batch row's output: its `[time, size]` blocks of the output (holding the input when the
/// op runs in place) and of the kept membrane, and its final state rows.
struct RowOut<'a> {
    b: usize,
    out: &'a mut [f32],
    kept: Option<&'a mut [f32]>,
    v: &'a mut [f32],
    i: &'a mut [f32],
}

/// The forward loop of one batch row (`#[inline(always)]`: compiled inside
/// [`crate::host::simd::widest`]). `x` is the row's input block, `None` when it runs in place
/// over `row.out`. `row.v`, `row.i` hold the initial state and end with the final one.
#[inline(always)]
fn forward_row<const M: u8, const DELAY: bool>(
    s: &Operands<'_>,
    x: Option<&[f32]>,
    row: RowOut<'_>,
) {
    let h = s.d.size;
    let k = Chunk::new(s.coef, h, 0, h);
    let mut fired = vec![0f32; h];
    if DELAY {
        for ((f, v), thr) in fired.iter_mut().zip(row.v.iter()).zip(k.thr) {
            *f = heaviside(v - thr, s.rule.at_zero);
        }
    }
    let mut events = Vec::with_capacity(h);
    events_of(&s.z0[row.b * h..(row.b + 1) * h], &mut events);
    let (mut rec, mut c) = (vec![0f32; h], vec![0f32; h]);
    let (mut zs, mut us) = (vec![0f32; h], vec![0f32; h]);
    let mut kept = row.kept;
    for t in 0..s.d.time {
        let at = t * h..(t + 1) * h;
        recurrent_current(&events, s.w_rec_t, &mut rec);
        // c = x + rec, the reference's order: the input projection plus the recurrent product
        let xs = match x {
            Some(x) => &x[at.clone()],
            None => &row.out[at.clone()],
        };
        for ((c, x), r) in c.iter_mut().zip(xs).zip(&rec) {
            *c = x + r;
        }
        s.rule
            .fire::<M, DELAY>(&k, &c, row.v, row.i, &mut fired, &mut zs, &mut us);
        row.out[at.clone()].copy_from_slice(&zs);
        if let Some(kept) = kept.as_deref_mut() {
            kept[at].copy_from_slice(&us);
        }
        events_of(&zs, &mut events);
    }
}

/// Forward over all rows: `x` `[B,T,H]` (overwritten with the spikes when `in_place`, else read
/// and the spikes returned in a new buffer), `z0`, `v0`, `i0` `[B,H]`, `w_rec` `[H,H]`
/// (`[receiver, sender]`), `coef` `[COEFFICIENTS,H]`. Returns the new output buffer (not in place), the final state
/// `[2,B,H]` (v then i) and, when `saving`, the pre-reset membrane `[B,T,H]`.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward(
    x: super::Sequence<'_>,
    z0: &[f32],
    v0: &[f32],
    i0: &[f32],
    w_rec: &[f32],
    coef: &[f32],
    spec: &LeakySpec,
    d: Dims,
    saving: bool,
) -> (Option<Vec<f32>>, Vec<f32>, Option<Vec<f32>>) {
    let (h, plane, total) = (d.size, d.batch * d.size, d.batch * d.time * d.size);
    assert!(spec.firing.is_some(), "fused recurrent op: a spiking layer");
    assert_eq!(x.len(), total, "fused recurrent forward: input size");
    assert!(
        z0.len() == plane && v0.len() == plane && i0.len() == plane,
        "fused recurrent forward: state size"
    );
    assert_eq!(w_rec.len(), h * h, "fused recurrent forward: weights");
    assert_eq!(
        coef.len(),
        crate::dynamics::COEFFICIENTS * h,
        "fused recurrent forward: coefficients"
    );
    // the event loop adds rows of W_recᵀ (one per sender): transposed once per sequence
    let w_rec_t = crate::host::transpose(w_rec, h, h);
    let s = Operands {
        z0,
        w_rec_t: &w_rec_t,
        coef,
        rule: StepRule::of(spec),
        d,
    };
    let mut fin = Vec::with_capacity(2 * plane);
    fin.extend_from_slice(v0);
    if s.rule.synapse() {
        fin.extend_from_slice(i0);
    } else {
        fin.resize(2 * plane, 0.0);
    }
    // every element is written (each row writes its whole block)
    let mut kept = saving.then(|| crate::host::buffer::overwritable(total));
    let mut fresh = Vec::new();
    let mut x = x;
    let (input, out) = x.split(&mut fresh);
    let block = d.time * h;
    let (v_fin, i_fin) = fin.split_at_mut(plane);
    let mut kept_rows: Vec<Option<&mut [f32]>> = match kept.as_mut() {
        Some(k) => k.chunks_mut(block).map(Some).collect(),
        None => (0..d.batch).map(|_| None).collect(),
    };
    let rows: Vec<RowOut<'_>> = out
        .chunks_mut(block)
        .zip(kept_rows.drain(..))
        .zip(v_fin.chunks_mut(h).zip(i_fin.chunks_mut(h)))
        .enumerate()
        .map(|(b, ((out, kept), (v, i)))| RowOut { b, out, kept, v, i })
        .collect();
    let delay = spec.firing.is_some_and(|f| f.reset_delay);
    macro_rules! run {
        ($m:expr, $delay:expr) => {
            rows.into_par_iter().for_each(|row| {
                let x = input.map(|x| &x[row.b * block..(row.b + 1) * block]);
                crate::host::simd::widest(
                    #[inline(always)]
                    || forward_row::<$m, $delay>(&s, x, row),
                )
            })
        };
    }
    with_form!(spec.membrane, delay, run);
    // the transposed weights serve the next sequence's transpose
    crate::host::buffer::recycle(w_rec_t);
    let out = input.is_some().then_some(fresh);
    (out, fin, kept)
}

/// What the reverse loop reads for every row.
struct Reverse<'a> {
    kept: &'a [f32],
    v0: &'a [f32],
    coef: &'a [f32],
    rule: StepRule,
    d: Dims,
}

/// One batch row's slice of the reverse loop's buffers at one step.
struct RowGrad<'a> {
    b: usize,
    /// The row's `[time, size]` block of the input gradient (holding the output gradient when
    /// the op runs in place).
    gx: &'a mut [f32],
    gv: &'a mut [f32],
    gi: &'a mut [f32],
    /// The gradient the next step's current sends to this step's spikes.
    grec: &'a [f32],
}

/// Scratch rows of one reverse step.
struct Scratch {
    go: Vec<f32>,
    sg: Vec<f32>,
    z: Vec<f32>,
    u: Vec<f32>,
    prev: Vec<f32>,
    gc: Vec<f32>,
}

impl Scratch {
    fn new(h: usize) -> Self {
        let row = || vec![0f32; h];
        Self {
            go: row(),
            sg: row(),
            z: row(),
            u: row(),
            prev: row(),
            gc: row(),
        }
    }
}

/// The reverse step `t` of one row (`#[inline(always)]`, see [`forward_row`]): from the output
/// gradient (`go`, read from `row.gx` in place or from `grad_out`) plus `row.grec`, the input
/// gradient written to `row.gx`, carrying `row.gv`, `row.gi` one step back.
#[inline(always)]
fn reverse_row<const M: u8, const DELAY: bool, S: Fn(f32) -> f32>(
    r: &Reverse<'_>,
    t: usize,
    grad_out: Option<&[f32]>,
    row: RowGrad<'_>,
    surrogate: S,
    scratch: &mut Scratch,
) {
    let h = r.d.size;
    let k = Chunk::new(r.coef, h, 0, h);
    let at = t * h..(t + 1) * h;
    let row_base = row.b * r.d.time * h;
    let go_t = match grad_out {
        Some(g) => &g[row_base + at.start..row_base + at.end],
        None => &row.gx[at.clone()],
    };
    for ((go, g), rec) in scratch.go.iter_mut().zip(go_t).zip(row.grec) {
        *go = g + rec;
    }
    let u_t = &r.kept[row_base + at.start..row_base + at.end];
    scratch.u.copy_from_slice(u_t);
    for j in 0..h {
        let s = scratch.u[j] - k.thr[j];
        scratch.sg[j] = surrogate(s);
        scratch.z[j] = heaviside(s, r.rule.at_zero);
    }
    if r.rule.delayed_to_value::<DELAY>() {
        // the spike of the previous step, which reset the membrane carried into this one
        for j in 0..h {
            let before = if t == 0 {
                r.v0[row.b * h + j]
            } else {
                r.kept[row_base + at.start - h + j]
            };
            scratch.prev[j] = heaviside(before - k.thr[j], r.rule.at_zero);
        }
    }
    r.rule.fire_grad::<M, DELAY>(
        &k,
        &scratch.go,
        &scratch.sg,
        &scratch.z,
        &scratch.u,
        &scratch.prev,
        row.gv,
        row.gi,
        &mut scratch.gc,
    );
    row.gx[at].copy_from_slice(&scratch.gc);
}

/// A group of consecutive batch rows that one thread takes through the whole reverse loop:
/// their `[rows, time, size]` block of the input gradient, their `[rows, size]` carried state
/// gradients and the gradient sent back to their previous spikes.
struct Group<'a> {
    b0: usize,
    gx: &'a mut [f32],
    gv: &'a mut [f32],
    gi: &'a mut [f32],
    grec: &'a mut [f32],
}

/// The reverse loop of one [`Group`]: per step (last to first), each row's reverse step, then
/// `grec = gc_t · W_rec`, the current gradients of step `t` sent back to the spikes of step
/// `t − 1` (to `z0` at `t = 0`), by one product over the group's rows (`pool_product`: on the
/// rayon pool, else on this thread). `W_rec` itself (`[receiver, sender]`) is the product's right
/// operand, already in the layout its kernel reads, so it is not repacked at every step (the
/// strided view of `W_recᵀ` was: 1.8x slower at H = 1024).
fn reverse_group<const M: u8, const DELAY: bool, S: Fn(f32) -> f32 + Copy>(
    r: &Reverse<'_>,
    upstream: Option<&[f32]>,
    w_rec: &[f32],
    g: Group<'_>,
    surrogate: S,
    pool_product: bool,
) {
    let (h, block) = (r.d.size, r.d.time * r.d.size);
    let rows = g.gv.len() / h;
    let mut scratch = Scratch::new(h);
    for t in (0..r.d.time).rev() {
        crate::host::simd::widest(
            #[inline(always)]
            || {
                for k in 0..rows {
                    let row = RowGrad {
                        b: g.b0 + k,
                        gx: &mut g.gx[k * block..(k + 1) * block],
                        gv: &mut g.gv[k * h..(k + 1) * h],
                        gi: &mut g.gi[k * h..(k + 1) * h],
                        grec: &g.grec[k * h..(k + 1) * h],
                    };
                    reverse_row::<M, DELAY, _>(r, t, upstream, row, surrogate, &mut scratch);
                }
            },
        );
        let gc_t = Strided {
            rows,
            cols: h,
            offset: t * h,
            row_stride: block,
            col_stride: 1,
        };
        matmul_on(
            g.grec,
            Strided::dense(rows, h, 0),
            g.gx,
            gc_t,
            w_rec,
            Strided::dense(h, h, 0),
            false,
            pool_product,
        );
    }
}

/// The gradients of the fused recurrent op.
pub(super) struct Gradients {
    /// Of `x`, `[B,T,H]`; `None` when written over the output gradient in place.
    pub(super) x: Option<Vec<f32>>,
    /// Of the initial state, `[2,B,H]` (v then i).
    pub(super) init: Vec<f32>,
    /// Of the initial spikes `z0`, `[B,H]`.
    pub(super) z0: Vec<f32>,
    /// Of `W_rec`, `[H,H]` (`[receiver, sender]`).
    pub(super) w_rec: Vec<f32>,
}

/// Backprop through time over all rows (see the module docs): from the kept membrane `[B,T,H]`,
/// `z0`, `v0` `[B,H]`, `w_rec` (`[receiver, sender]`), `coef`, and the upstream gradients of
/// the spikes `[B,T,H]` (consumed, written over in place when the op holds it alone) and of
/// the final `v`, `i`.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
    kept: &[f32],
    z0: &[f32],
    v0: &[f32],
    w_rec: &[f32],
    coef: &[f32],
    spec: &LeakySpec,
    d: Dims,
    grad_out: super::Sequence<'_>,
    grad_v: &[f32],
    grad_i: &[f32],
) -> Gradients {
    let (h, plane, total) = (d.size, d.batch * d.size, d.batch * d.time * d.size);
    assert!(spec.firing.is_some(), "fused recurrent op: a spiking layer");
    assert!(
        kept.len() == total && grad_out.len() == total,
        "fused recurrent backward: sequence sizes"
    );
    assert!(
        z0.len() == plane && v0.len() == plane && grad_v.len() == plane && grad_i.len() == plane,
        "fused recurrent backward: state sizes"
    );
    assert_eq!(w_rec.len(), h * h, "fused recurrent backward: weights");
    assert_eq!(
        coef.len(),
        crate::dynamics::COEFFICIENTS * h,
        "fused recurrent backward: coefficients"
    );
    let r = Reverse {
        kept,
        v0,
        coef,
        rule: StepRule::of(spec),
        d,
    };
    let mut gv = grad_v.to_vec();
    let mut gi = if r.rule.synapse() {
        grad_i.to_vec()
    } else {
        vec![0f32; plane]
    };
    let mut grec = vec![0f32; plane];
    let mut fresh = Vec::new();
    let mut grad_out = grad_out;
    let (upstream, gx) = grad_out.split(&mut fresh);
    let block = d.time * h;
    let delay = spec.firing.is_some_and(|f| f.reset_delay);
    let surrogate = spec
        .firing
        .map(|f| f.surrogate)
        .expect("checked above: a spiking layer");
    // Batch rows are independent in the reverse loop as in the forward (`W_rec` is only read):
    // each thread takes a group of rows through every step, with its own `[rows, H]·W_rec`
    // product, and no barrier between steps (spreading each step's rows and then its product
    // over the pool took two barriers per step)
    let groups = rayon::current_num_threads().clamp(1, d.batch.max(1));
    let rows_per_group = d.batch.div_ceil(groups).max(1);
    // a single group (a batch of one row per thread or less) gives the product to the pool
    let pool_product = d.batch <= rows_per_group && d.batch * h * h >= PARALLEL_MIN_MACS;
    let groups: Vec<Group<'_>> = gx
        .chunks_mut(rows_per_group * block)
        .zip(gv.chunks_mut(rows_per_group * h))
        .zip(gi.chunks_mut(rows_per_group * h))
        .zip(grec.chunks_mut(rows_per_group * h))
        .enumerate()
        .map(|(g, (((gx, gv), gi), grec))| Group {
            b0: g * rows_per_group,
            gx,
            gv,
            gi,
            grec,
        })
        .collect();
    macro_rules! run {
        ($m:expr, $delay:expr) => {
            with_surrogate!(surrogate, |sg| groups.into_par_iter().for_each(|g| {
                reverse_group::<$m, $delay, _>(&r, upstream, w_rec, g, sg, pool_product)
            }))
        };
    }
    with_form!(spec.membrane, delay, run);
    let w_rec_grad = weight_gradient(&r, z0, gx);
    let mut init = gv;
    init.extend_from_slice(&gi);
    let x = upstream.is_some().then_some(fresh);
    Gradients {
        x,
        init,
        z0: grec,
        w_rec: w_rec_grad,
    }
}

/// The presynaptic value of sender `j` at step `t` of row `b`: `z0` at `t = 0`, else the spike
/// recomputed from the kept membrane of step `t − 1`.
#[inline(always)]
fn presynaptic(r: &Reverse<'_>, z0: &[f32], thr: &[f32], b: usize, t: usize, j: usize) -> f32 {
    let h = r.d.size;
    if t == 0 {
        z0[b * h + j]
    } else {
        heaviside(
            r.kept[(b * r.d.time + t - 1) * h + j] - thr[j],
            r.rule.at_zero,
        )
    }
}

/// The presynaptic events of batch row `b`, `(sender, b·T + t, value)` for every nonzero
/// presynaptic value of step `t` (see [`presynaptic`]), in step order.
fn row_events(r: &Reverse<'_>, z0: &[f32], thr: &[f32], b: usize) -> Vec<(usize, usize, f32)> {
    let (h, time) = (r.d.size, r.d.time);
    let mut events = Vec::new();
    for t in 0..time {
        for j in 0..h {
            let z = presynaptic(r, z0, thr, b, t, j);
            if z != 0.0 {
                events.push((j, b * time + t, z));
            }
        }
    }
    events
}

/// `∂L/∂W_rec[i, j] = Σ_{b,t} gc_t[b, i] · z_{t−1}[b, j]` from the input gradients `gx`
/// `[B,T,H]`: one row add per presynaptic event into the rows of `W_recᵀ` (the events found in
/// one scan and grouped by sender, so each sender's row is owned by one work item), transposed
/// once at the end; or one matrix product where the events are denser than
/// [`dense_weight_gradient_above`]. Both sum each element in the order of `(b, t)`.
fn weight_gradient(r: &Reverse<'_>, z0: &[f32], gx: &[f32]) -> Vec<f32> {
    let d = r.d;
    let h = d.size;
    let thr = thresholds(r.coef, h);
    let steps = d.batch * d.time;
    let per_row: Vec<Vec<(usize, usize, f32)>> = (0..d.batch)
        .into_par_iter()
        .map(|b| row_events(r, z0, thr, b))
        .collect();
    let events: usize = per_row.iter().map(Vec::len).sum();
    let mut grad = vec![0f32; h * h];
    if events as f64 > dense_weight_gradient_above() * (steps * h) as f64 {
        // zprev [B·T, H], then grad = gxᵀ · zprev
        let mut zprev = vec![0f32; steps * h];
        for (j, bt, z) in per_row.into_iter().flatten() {
            zprev[bt * h + j] = z;
        }
        matmul(
            &mut grad,
            Strided::dense(h, h, 0),
            gx,
            Strided::dense(steps, h, 0).transposed(),
            &zprev,
            Strided::dense(steps, h, 0),
            false,
        );
        return grad;
    }
    // the events grouped by sender (a counting sort, stable: each sender keeps (b, t) order)
    let mut start = vec![0usize; h + 1];
    for &(j, _, _) in per_row.iter().flatten() {
        start[j + 1] += 1;
    }
    for j in 0..h {
        start[j + 1] += start[j];
    }
    let mut next = start.clone();
    let mut by_sender = vec![(0usize, 0f32); events];
    for (j, bt, z) in per_row.into_iter().flatten() {
        by_sender[next[j]] = (bt, z);
        next[j] += 1;
    }
    grad.par_chunks_mut(SENDERS_PER_ITEM * h)
        .enumerate()
        .for_each(|(item, rows)| {
            crate::host::simd::widest(
                #[inline(always)]
                || {
                    for (s, row) in rows.chunks_mut(h).enumerate() {
                        let j = item * SENDERS_PER_ITEM + s;
                        for &(bt, z) in &by_sender[start[j]..start[j + 1]] {
                            let gc = &gx[bt * h..(bt + 1) * h];
                            for (g, c) in row.iter_mut().zip(gc) {
                                *g += z * c;
                            }
                        }
                    }
                },
            )
        });
    crate::host::transpose(&grad, h, h)
}

//! The reverse (BPTT) loop: one work item per (batch row, chunk of neurons), time loop in
//! reverse outside the neuron loop.

use rayon::prelude::*;

use super::scalar::{Chunk, StepRule, heaviside};
use super::{
    Buf, CHUNK, Dims, EULER_SCALED, EULER_UNSCALED, EXACT, PREFETCH_STEPS, Sequence, for_each_item,
    prefetch_rows, surrogate_of,
};
use crate::dynamics::{LeakySpec, MembraneForm};
use crate::fused::saved::{Packed, SavedForm};
use crate::host::Shared;
use crate::surrogate::with_surrogate;

/// The reverse (BPTT) loop of one work item (`#[inline(always)]`: compiled inside
/// [`crate::host::simd::widest`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_item<const M: u8, const DELAY: bool, S: Fn(f32) -> f32>(
    saved: SavedIn<'_>,
    v0: &[f32],
    coef: &[f32],
    spec: &LeakySpec,
    d: Dims,
    w: usize,
    grad_out: Buf<'_>,
    grad_v: &[f32],
    grad_i: &[f32],
    surrogate: S,
    gx: Buf<'_>,
    ginit: Buf<'_>,
) {
    let (b, n0, len) = d.item(w);
    let k = Chunk::new(coef, d.size, n0, len);
    let state = b * d.size + n0;
    let rule = StepRule::of(spec);
    let mut gv = [0f32; CHUNK];
    let mut gi = [0f32; CHUNK];
    let (gv, gi) = (&mut gv[..len], &mut gi[..len]);
    gv.copy_from_slice(&grad_v[state..state + len]);
    if rule.synapse() {
        gi.copy_from_slice(&grad_i[state..state + len]);
    }
    let firing = spec.firing.is_some();
    let at_zero = rule.at_zero;
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
        let go = unsafe { grad_out.read(base, len) };
        if !firing {
            rule.integrate_grad::<M>(&k, go, gv, gi, gxs);
            // SAFETY: [base, base + len) of the input gradient belongs to this item only.
            unsafe { gx.write(base, len).copy_from_slice(gxs) };
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
        if rule.delayed_to_value::<DELAY>() {
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
        rule.fire_grad::<M, DELAY>(&k, go, sgs, zs, us, prev, gv, gi, gxs);
        // SAFETY: as above.
        unsafe { gx.write(base, len).copy_from_slice(gxs) };
    }
    // SAFETY: this item's slots of the initial-state gradient planes.
    unsafe {
        ginit.write(state, len).copy_from_slice(gv);
        let gi_out = ginit.write(d.batch * d.size + state, len);
        if rule.synapse() {
            gi_out.copy_from_slice(gi);
        } else {
            gi_out.fill(0.0);
        }
    }
}

/// Backward over all items. Returns `gx` `[B,T,N]` and the initial-state gradients `[2,B,N]`.
#[allow(clippy::too_many_arguments)]
pub(super) fn backward(
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
    let in_place = matches!(grad_out, Sequence::InPlace(_));
    let mut gx = Vec::new();
    let (gop, gxp) = grad_out.pointers(&mut gx);
    let mut ginit = vec![0f32; 2 * d.batch * d.size];
    let gip = Shared::new(&mut ginit);
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
    with_form!(spec.membrane, delay, run);
    ((!in_place).then_some(gx), ginit)
}

/// What the backward loop reads (see [`SavedForm`]).
#[derive(Clone, Copy)]
enum SavedIn<'a> {
    Membrane(&'a [f32]),
    Packed(Packed<'a>),
}

impl SavedIn<'_> {
    /// Hints the caches to fetch elements `at..at + len` (see [`crate::host::simd::prefetch`]); nothing
    /// for a leaky integrator's one-element placeholder.
    #[inline(always)]
    fn prefetch(self, at: usize, len: usize) {
        match self {
            SavedIn::Membrane(u_all) => {
                if let Some(row) = u_all.get(at..at + len) {
                    crate::host::simd::prefetch(row.as_ptr(), len)
                }
            }
            SavedIn::Packed(packed) => packed.prefetch(at, len),
        }
    }
}

//! The forward loop: one work item per (batch row, chunk of neurons), time loop outside the
//! neuron loop.

use rayon::prelude::*;

use super::scalar::{Chunk, StepRule, heaviside};
use super::{
    Buf, CHUNK, Dims, EULER_SCALED, EULER_UNSCALED, EXACT, PREFETCH_STEPS, Sequence, for_each_item,
    prefetch_rows, surrogate_of,
};
use crate::dynamics::{COEFFICIENTS, LeakySpec, MembraneForm};
use crate::fused::saved::{self, PackedOut, SavedForm};
use crate::host::Shared;
use crate::surrogate::with_surrogate;

/// The forward loop of one work item (`#[inline(always)]`: compiled inside
/// [`crate::host::simd::widest`]).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_item<const M: u8, const DELAY: bool, S: Fn(f32) -> f32>(
    x: Buf<'_>,
    v0: &[f32],
    i0: &[f32],
    coef: &[f32],
    spec: &LeakySpec,
    d: Dims,
    w: usize,
    out: Buf<'_>,
    fin: Buf<'_>,
    saved: SavedOut<'_>,
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
    let rule = StepRule::of(spec);
    if rule.synapse() {
        i.copy_from_slice(&i0[state..state + len]);
    }
    let firing = spec.firing.is_some();
    if DELAY {
        for j in 0..len {
            fired[j] = heaviside(v[j] - k.thr[j], rule.at_zero);
        }
    }
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
        let xs = unsafe { x.read(base, len) };
        if firing {
            rule.fire::<M, DELAY>(&k, xs, v, i, fired, zs, us);
        } else {
            // leaky integrator: the output is the membrane
            rule.integrate::<M>(&k, xs, v, i, zs);
        }
        // SAFETY: [base, base + len) of the output and saved buffers belongs to this item only.
        unsafe {
            out.write(base, len).copy_from_slice(zs);
            match saved {
                SavedOut::Nothing => {}
                SavedOut::Membrane(saved) => saved.write(base, len).copy_from_slice(us),
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
        fin.write(state, len).copy_from_slice(v);
        fin.write(d.batch * d.size + state, len).copy_from_slice(i);
    }
}

/// Forward over all items. `out` `[B,T,N]`, `fin` `[2,B,N]` (v then i), `saved` `[B,T,N]`.
pub(super) fn forward(
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
    let in_place = matches!(x, Sequence::InPlace(_));
    let mut out = Vec::new();
    let (xp, o) = x.pointers(&mut out);
    let mut fin = vec![0f32; 2 * d.batch * d.size];
    let form = if saving {
        SavedForm::of(spec)
    } else {
        SavedForm::Nothing
    };
    // every element is written (each item writes its rows at every step); the backward gives
    // the buffer back (`give_back`) for the next forward of the same size
    let mut saved =
        (form != SavedForm::Nothing).then(|| crate::host::buffer::overwritable(form.words(total)));
    let f = Shared::new(&mut fin);
    let s = match (form, saved.as_mut()) {
        (SavedForm::Membrane, Some(buffer)) => SavedOut::Membrane(Shared::new(buffer)),
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
    with_form!(spec.membrane, delay, run);
    ((!in_place).then_some(out), fin, saved)
}

/// Where the forward loop writes what the backward needs (see [`SavedForm`]).
#[derive(Clone, Copy)]
enum SavedOut<'a> {
    Nothing,
    Membrane(Buf<'a>),
    Packed(PackedOut<'a>),
}

impl SavedOut<'_> {
    /// Hints the caches to fetch elements `at..at + len` (see [`crate::host::simd::prefetch`]).
    #[inline(always)]
    fn prefetch(self, at: usize, len: usize) {
        match self {
            SavedOut::Nothing => {}
            SavedOut::Membrane(saved) => saved.prefetch(at, len),
            SavedOut::Packed(saved) => saved.prefetch(at, len),
        }
    }
}

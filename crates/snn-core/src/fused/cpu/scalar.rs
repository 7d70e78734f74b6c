//! The per-neuron arithmetic of the loops, in the reference path's operation order (so that
//! the spikes are bit-equal to it): one `#[inline(always)]` function per piece of the
//! recurrence of [`crate::dynamics`], and the coefficients of one chunk of neurons.

use super::{EULER_SCALED, EULER_UNSCALED};
use crate::dynamics::Coef;

/// The per-neuron coefficients of one chunk.
pub(super) struct Chunk<'a> {
    pub(super) a: &'a [f32],
    pub(super) gain: &'a [f32],
    pub(super) rest: &'a [f32],
    pub(super) syn: &'a [f32],
    pub(super) thr: &'a [f32],
}

impl<'a> Chunk<'a> {
    #[inline(always)]
    pub(super) fn new(coef: &'a [f32], size: usize, n0: usize, len: usize) -> Self {
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
pub(super) fn integrate<const M: u8>(
    v: f32,
    c: f32,
    a: f32,
    gain: f32,
    rest: f32,
    v_leak: f32,
) -> f32 {
    match M {
        EULER_SCALED => v + ((v_leak - v) + c) * a,
        EULER_UNSCALED => v + (v_leak - v) * a + c,
        _ => v * a + c * gain + rest,
    }
}

/// `(∂u/∂v, ∂u/∂c)` times `gu`.
#[inline(always)]
pub(super) fn integrate_grad<const M: u8>(gu: f32, a: f32, gain: f32) -> (f32, f32) {
    match M {
        EULER_SCALED => (gu - gu * a, gu * a),
        EULER_UNSCALED => (gu - gu * a, gu),
        _ => (gu * a, gu * gain),
    }
}

/// The step's input current `c = x (+ i)` and the synaptic current carried to the next step
/// (`c − c·k_syn` Euler, `c·α` exact; the coefficient is 0 without a synapse).
#[inline(always)]
pub(super) fn synapse(x: f32, i: f32, k_syn: f32, syn: bool, euler: bool) -> (f32, f32) {
    let c = if syn { i + x } else { x };
    (c, if euler { c - c * k_syn } else { c * k_syn })
}

/// `∂i_next/∂c` times `gi`: the gradient the carried synaptic current sends back to `c`.
#[inline(always)]
pub(super) fn synapse_grad(gi: f32, k_syn: f32, euler: bool) -> f32 {
    if euler { gi - gi * k_syn } else { gi * k_syn }
}

#[inline(always)]
pub(super) fn heaviside(s: f32, at_zero: bool) -> f32 {
    // loop-invariant select, no data-dependent branch
    let strict = (s > 0.0) as u32 as f32;
    let wide = (s >= 0.0) as u32 as f32;
    if at_zero { wide } else { strict }
}

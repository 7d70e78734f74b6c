//! The per-neuron arithmetic of the loops, in the reference path's operation order (so that
//! the spikes are bit-equal to it): one `#[inline(always)]` function per piece of the
//! recurrence of [`crate::dynamics`], and the coefficients of one chunk of neurons.

use super::{EULER_SCALED, EULER_UNSCALED};
use crate::dynamics::{Coef, LeakySpec, Reset, SynapseForm};

/// The per-neuron coefficients of one chunk.
pub(super) struct Chunk<'a> {
    pub(super) a: &'a [f32],
    pub(super) gain: &'a [f32],
    pub(super) rest: &'a [f32],
    pub(super) syn: &'a [f32],
    pub(super) thr: &'a [f32],
    pub(super) v_leak: &'a [f32],
    pub(super) v_reset: &'a [f32],
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
            v_leak: row(Coef::VLeak),
            v_reset: row(Coef::VReset),
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

/// The loop-invariant flags of one layer's step, read once from its [`LeakySpec`]: every
/// condition in [`StepRule::fire`] and [`StepRule::fire_grad`] is one of these, which the
/// compiler turns into selects, so the neuron loops have no data-dependent branch.
#[derive(Clone, Copy, Debug)]
pub(super) struct StepRule {
    syn: bool,
    syn_euler: bool,
    reset_subtract: bool,
    reset_to_value: bool,
    pub(super) at_zero: bool,
    /// 1 when the reset's gradient flows (`detach_reset` false), 0 otherwise.
    keep_reset_grad: f32,
}

impl StepRule {
    pub(super) fn of(spec: &LeakySpec) -> Self {
        let (reset, at_zero, detach) = match spec.firing {
            Some(f) => (f.reset, f.fire_at_threshold, f.detach_reset),
            None => (Reset::None, false, true),
        };
        Self {
            syn: spec.synapse != SynapseForm::None,
            syn_euler: spec.synapse == SynapseForm::Euler,
            reset_subtract: reset == Reset::Subtract,
            reset_to_value: reset == Reset::ToValue,
            at_zero,
            keep_reset_grad: if detach { 0.0 } else { 1.0 },
        }
    }

    /// Whether the layer carries a synaptic current.
    pub(super) fn synapse(&self) -> bool {
        self.syn
    }

    /// Whether the delayed reset (`DELAY`) resets to a value, cutting the membrane's gradient
    /// where the previous step spiked.
    pub(super) fn delayed_to_value<const DELAY: bool>(&self) -> bool {
        DELAY && self.reset_to_value
    }

    /// One step of a leaky integrator (no threshold) for a chunk: the membrane `us` (its
    /// output) from the input `xs`, carrying `v` and `i`.
    #[inline(always)]
    pub(super) fn integrate<const M: u8>(
        &self,
        k: &Chunk<'_>,
        xs: &[f32],
        v: &mut [f32],
        i: &mut [f32],
        us: &mut [f32],
    ) {
        for j in 0..us.len() {
            let c;
            (c, i[j]) = synapse(xs[j], i[j], k.syn[j], self.syn, self.syn_euler);
            let u = integrate::<M>(v[j], c, k.a[j], k.gain[j], k.rest[j], k.v_leak[j]);
            us[j] = u;
            v[j] = u;
        }
    }

    /// One step of a spiking layer for a chunk: spikes `zs` and pre-reset membrane `us` from
    /// the input `xs`, carrying `v`, `i` and (delayed reset) the previous spike `fired`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn fire<const M: u8, const DELAY: bool>(
        &self,
        k: &Chunk<'_>,
        xs: &[f32],
        v: &mut [f32],
        i: &mut [f32],
        fired: &mut [f32],
        zs: &mut [f32],
        us: &mut [f32],
    ) {
        let subtract_delayed = DELAY && self.reset_subtract;
        let delay_to_value = DELAY && self.reset_to_value;
        for j in 0..zs.len() {
            let c;
            (c, i[j]) = synapse(xs[j], i[j], k.syn[j], self.syn, self.syn_euler);
            let thr = k.thr[j];
            let vj = if delay_to_value {
                // reset to value before the leak, by the previous (detached) spike
                (1.0 - fired[j]) * v[j] + fired[j] * k.v_reset[j]
            } else {
                v[j]
            };
            let mut u = integrate::<M>(vj, c, k.a[j], k.gain[j], k.rest[j], k.v_leak[j]);
            if subtract_delayed {
                u -= fired[j] * thr;
            }
            let z = heaviside(u - thr, self.at_zero);
            zs[j] = z;
            us[j] = u;
            if DELAY {
                fired[j] = z;
                v[j] = u;
            } else {
                let sub = u - z * thr;
                let to_value = (1.0 - z) * u + z * k.v_reset[j];
                // bools, not a `match`: a `match` on the enum stays a branch in the loop
                v[j] = if self.reset_subtract {
                    sub
                } else if self.reset_to_value {
                    to_value
                } else {
                    u
                };
            }
        }
    }

    /// The reverse of [`StepRule::integrate`]: the input gradient `gxs` from the output
    /// gradient `go`, carrying the state gradients `gv` and `gi` one step back.
    #[inline(always)]
    pub(super) fn integrate_grad<const M: u8>(
        &self,
        k: &Chunk<'_>,
        go: &[f32],
        gv: &mut [f32],
        gi: &mut [f32],
        gxs: &mut [f32],
    ) {
        for j in 0..gxs.len() {
            let gu = gv[j] + go[j];
            let (gvp, gc) = integrate_grad::<M>(gu, k.a[j], k.gain[j]);
            let gc = gc + synapse_grad(gi[j], k.syn[j], self.syn_euler);
            gxs[j] = gc;
            gi[j] = gc;
            gv[j] = gvp;
        }
    }

    /// The reverse of [`StepRule::fire`]: the input gradient `gxs` from the spike gradient
    /// `go`, the step's surrogate derivative `sgs`, spike `zs`, pre-reset membrane `us` (used by
    /// an undetached reset to a value only) and, for the delayed reset to a value, the previous
    /// step's spike `prev`; carries `gv` and `gi` one step back.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn fire_grad<const M: u8, const DELAY: bool>(
        &self,
        k: &Chunk<'_>,
        go: &[f32],
        sgs: &[f32],
        zs: &[f32],
        us: &[f32],
        prev: &[f32],
        gv: &mut [f32],
        gi: &mut [f32],
        gxs: &mut [f32],
    ) {
        let delay_to_value = DELAY && self.reset_to_value;
        for j in 0..gxs.len() {
            let thr = k.thr[j];
            let sg = sgs[j];
            let gu = if DELAY {
                // the reset was applied before this step's leak, by the detached previous spike
                gv[j] + go[j] * sg
            } else {
                let (u, z) = (us[j], zs[j]);
                // bools, not a `match` (see `fire`)
                let (gu_reset, gz_reset) = if self.reset_subtract {
                    (gv[j], -thr * gv[j])
                } else if self.reset_to_value {
                    ((1.0 - z) * gv[j], (k.v_reset[j] - u) * gv[j])
                } else {
                    (gv[j], 0.0)
                };
                let gz = go[j] + gz_reset * self.keep_reset_grad;
                gu_reset + gz * sg
            };
            let (g, gc) = integrate_grad::<M>(gu, k.a[j], k.gain[j]);
            let gc = gc + synapse_grad(gi[j], k.syn[j], self.syn_euler);
            gxs[j] = gc;
            gi[j] = gc;
            gv[j] = if delay_to_value {
                // the delayed reset to a value cut the membrane's path where the spike fired
                g * (1.0 - prev[j])
            } else {
                g
            };
        }
    }
}

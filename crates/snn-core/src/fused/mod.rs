//! Fused multi-step neuron ops: the whole time loop of a LIF or LI layer as one op.
//!
//! The reference path of a layer ([`crate::neuron::Neuron::forward_with`]) runs one small graph
//! of element-wise tensor ops per time step; on an autodiff device every one of them keeps its
//! inputs for the backward pass. The fused op [`leaky_sequence`] runs the whole sequence in one
//! call: forward, one loop over time per neuron; backward (backprop through time with the
//! surrogate derivative), one loop over time in reverse per neuron.
//!
//! # The recurrence
//!
//! Every [`Lif`](crate::Lif) and [`Li`](crate::Li) variant is one per-neuron linear recurrence
//! with a threshold, described by a [`LeakySpec`] (the forms and flags) and a coefficient tensor
//! `[COEFFICIENTS, size]` (one row per [`Coef`], computed once per sequence from the layer's
//! parameters with the same tensor expressions as the reference path, so the spikes are bit-equal):
//!
//! ```text
//! c  = i + x                       (x alone without a synapse)
//! i' = c − k_syn·c  | α·c          (synapse Euler | exact; 0 without a synapse)
//! u  = v + ((v_leak − v) + c)·k    (EulerScaled)
//!    | v + (v_leak − v)·k + c      (EulerUnscaled)
//!    | β·v + gain·c + rest         (Exact)
//! z  = H(u − threshold)            (strict, or ≥ with fire_at_threshold)
//! v' = u − z·threshold | (1 − z)·u + z·v_reset | u      (reset Subtract | ToValue | None)
//! ```
//!
//! With `reset_delay` (snnTorch) the reset of the previous step's spike (detached) is applied
//! during the step instead, and `v' = u`. The LI readout has no firing: its output is `u`.
//!
//! # What the backward pass keeps
//!
//! The reverse loop needs, at every step, the surrogate derivative `σ'(u − θ)` and the spike;
//! the CPU loops keep exactly that, packed into **3 bytes per neuron and step** (`σ'` as a
//! 23-bit fixed-point fraction of the surrogate's peak, [`Surrogate::peak`], and the spike bit;
//! absolute error of `σ'` at most `2.4e-7 · peak`, the order of f32 rounding, so the gradients
//! match the reference within 1e-5 while the spikes are exact). Only an undetached reset to a
//! value (Norse's default LIF, whose gradient carries `(v_reset − u)·σ'`) keeps the pre-reset
//! membrane `u` as f32 instead (4 bytes), from which the spikes and `σ'` are recomputed
//! bit-exactly. Plus the initial membrane and the coefficients (per neuron, not per step). The
//! LI readout is linear: its backward keeps nothing per step. The CubeCL kernel keeps `u` (4
//! bytes). The reference path keeps several f32 tensors per neuron and step (the spike op's
//! input, the spikes, the reset's operands...): 10.8 bytes for snnTorch's LIF
//! (`examples/lif_memory.rs`).
//!
//! # Implementations
//!
//! * CPU ([`burn::backend::NdArray`], [`burn::backend::Flex`]): one tight loop over raw `f32`
//!   slices (`cpu.rs`), parallel over batch × chunks of neurons with rayon, neurons contiguous
//!   and the time loop outside the neuron loop. NdArray and Flex tensors are read in place
//!   (no copy) when contiguous, and the outputs are built from the result `Vec`s without a copy.
//! * wgpu (feature `gpu`): CubeCL kernels (`cube.rs`), one thread per (batch, neuron) with the time
//!   loop inside, as a lazy Fusion operation.
//! * Autodiff: a hand-written [`Backward`](burn::backend::autodiff::ops::Backward) (`autodiff.rs`).
//! * Any other backend: [`backend_supported`] is false and the layers run their reference step
//!   loop.
//!
//! The layers pick the fused path by themselves ([`Execution::Auto`], the default) when the
//! backend and configuration allow it ([`crate::Lif::fused_path`], [`crate::Li::fused_path`]);
//! [`Execution::Reference`] forces the step-by-step composition.

mod autodiff;
pub(crate) mod cpu;
#[cfg(feature = "gpu")]
mod cube;
mod saved;

use std::cell::Cell;

use burn::backend::{Dispatch, DispatchDevice, backend_extension, tensor::FloatTensor};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::neuron::{Discretization, Reset};
use crate::spike::SpikeBackend;
use crate::surrogate::Surrogate;

/// How a layer runs its time loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Execution {
    /// The fused multi-step op ([`leaky_sequence`]) when the backend and the configuration
    /// support it, else the reference step loop. The default.
    #[default]
    Auto,
    /// Always the reference step-by-step composition of tensor ops (one small graph per step).
    Reference,
}

/// The membrane update form (see the module docs); each [`Discretization`] maps to one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembraneForm {
    /// `u = v + ((v_leak − v) + c)·k`: [`Discretization::ForwardEuler`].
    EulerScaled,
    /// `u = v + (v_leak − v)·k + c`: [`Discretization::ForwardEulerUnscaledInput`].
    EulerUnscaled,
    /// `u = β·v + gain·c + rest`: [`Discretization::ExactDecay`] (gain 1) and
    /// [`Discretization::ExactDecayScaledInput`] (gain `1 − β`), `rest = (1 − β)·v_leak`.
    Exact,
}

/// The synaptic current form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SynapseForm {
    /// No current: the input drives the membrane directly.
    None,
    /// `i' = c − k_syn·c`, `k_syn = dt/τ_syn`.
    Euler,
    /// `i' = α·c`, `α = e^(−dt/τ_syn)`.
    Exact,
}

/// Threshold crossing and reset of a spiking layer (absent for the LI readout).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FiringSpec {
    /// The reset after a spike.
    pub reset: Reset,
    /// The potential of a [`Reset::ToValue`] reset.
    pub v_reset: f32,
    /// The surrogate derivative used backward.
    pub surrogate: Surrogate,
    /// `H(0) = 1` (`u ≥ threshold` fires).
    pub fire_at_threshold: bool,
    /// No gradient through the reset.
    pub detach_reset: bool,
    /// snnTorch's delayed reset: the previous step's spike (detached) resets during this step and
    /// the carried membrane keeps this step's spike.
    pub reset_delay: bool,
}

/// The shape of the recurrence run by [`leaky_sequence`]: forms, `v_leak` and the firing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LeakySpec {
    /// Membrane update form.
    pub membrane: MembraneForm,
    /// Synaptic current form.
    pub synapse: SynapseForm,
    /// Resting potential `v_leak` (used by the Euler forms; the exact form uses [`Coef::Rest`]).
    pub v_leak: f32,
    /// Threshold and reset; `None` for a leaky integrator whose output is the membrane.
    pub firing: Option<FiringSpec>,
}

/// The rows of the coefficient tensor `[COEFFICIENTS, size]` of [`leaky_sequence`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(usize)]
pub enum Coef {
    /// `k = dt/τ_mem` (Euler forms) or `β = e^(−dt/τ_mem)` (exact form).
    Membrane = 0,
    /// Input gain of the exact form (1, or `1 − β` with scaled input).
    Gain = 1,
    /// Resting drive `(1 − β)·v_leak` of the exact form.
    Rest = 2,
    /// `k_syn = dt/τ_syn` (Euler), `α = e^(−dt/τ_syn)` (exact), 0 without a synapse.
    Synapse = 3,
    /// The firing threshold (0 for the LI readout).
    Threshold = 4,
}

/// Number of rows of the coefficient tensor.
pub const COEFFICIENTS: usize = 5;

/// The fused multi-step leaky recurrence as a burn backend extension.
///
/// Users call [`leaky_sequence`]; [`FusedLeakyBackend::leaky_forward_saving`] and
/// [`FusedLeakyBackend::leaky_backward`] are the pieces the `Autodiff` implementation is built
/// from (they are not meant to be called on an autodiff backend).
#[backend_extension(
    Autodiff,
    NdArray,
    Flex,
    Cube: cfg(feature = "gpu"),
    Fusion: cfg(feature = "gpu")
)]
pub trait FusedLeakyBackend: SpikeBackend {
    /// Runs the recurrence over `x` `[batch, time, size]` from `v0`, `i0` `[batch, size]` with
    /// `coef` `[COEFFICIENTS, size]`. Returns the output (spikes, or the membrane for a
    /// leaky integrator) `[batch, time, size]` and the final `v` and `i` `[batch, size]`.
    #[fusion(meta = |x, v0, _i0, _coef, _spec| cube::forward_meta(x, v0))]
    fn leaky_forward(
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        i0: FloatTensor<Self>,
        coef: FloatTensor<Self>,
        spec: LeakySpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// [`FusedLeakyBackend::leaky_forward`] that also returns what the backward pass needs, in a
    /// form private to the backend that only [`FusedLeakyBackend::leaky_backward`] reads: the
    /// pre-reset membrane `u` `[batch, time, size]`, or on the CPU backends usually the packed
    /// surrogate derivatives and spikes (see the module docs); a one-element placeholder for a
    /// leaky integrator, whose backward needs nothing.
    #[fusion(meta = |x, v0, _i0, _coef, spec| cube::forward_saving_meta(x, v0, spec))]
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
    );

    /// Backprop through time: from what [`FusedLeakyBackend::leaky_forward_saving`] kept (`u`)
    /// and the upstream gradients of the output `[batch, time, size]` and of the final `v` and
    /// `i` `[batch, size]`, the gradients of `x`, `v0` and `i0`.
    #[allow(clippy::too_many_arguments)]
    #[fusion(meta = |_u, v0, _coef, grad_out, _gv, _gi, _spec| cube::forward_meta(grad_out, v0))]
    fn leaky_backward(
        u: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        coef: FloatTensor<Self>,
        grad_out: FloatTensor<Self>,
        grad_v: FloatTensor<Self>,
        grad_i: FloatTensor<Self>,
        spec: LeakySpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

thread_local! {
    static LAUNCHES: Cell<usize> = const { Cell::new(0) };
    static IN_PLACE: Cell<usize> = const { Cell::new(0) };
}

/// How many fused forward ops the backends ran on this thread so far (a diagnostic: tests
/// compare it before and after a layer call to check that the fused path was taken).
pub fn launches() -> usize {
    LAUNCHES.with(Cell::get)
}

pub(crate) fn count_launch() {
    LAUNCHES.with(|c| c.set(c.get() + 1));
}

/// How many fused forward or backward passes on the CPU backends wrote their result over their
/// input sequence (the layer input, or the output gradient) on this thread so far, because the
/// op held the only handle to it (a diagnostic, like [`launches`]).
pub fn in_place_runs() -> usize {
    IN_PLACE.with(Cell::get)
}

/// Frees the spare buffers the CPU backends keep for reuse and returns how many bytes they held.
///
/// The fused neuron ops and the event-driven input layer write their large results into buffers
/// that earlier backward passes gave back, instead of asking the kernel for fresh (faulted-in,
/// zeroed) pages every step; at most 8 such buffers and 1 GiB wait between steps. Call this after
/// training when the process goes on with other work and wants that memory back. Nothing
/// else changes: later calls allocate afresh and start keeping buffers again.
pub fn release_spare_buffers() -> usize {
    crate::host_buffer::release_spare()
}

pub(crate) fn count_in_place() {
    IN_PLACE.with(|c| c.set(c.get() + 1));
}

/// Whether the fused op runs on `device` (with or without autodiff): ndarray, flex and, with
/// the `gpu` feature, the CubeCL devices (wgpu). Elsewhere the layers use their reference step
/// loop.
pub fn backend_supported(device: &Device) -> bool {
    let inner = device.clone().without_autodiff();
    matches!(
        inner.as_dispatch(),
        DispatchDevice::NdArray(_) | DispatchDevice::Flex(_)
    ) || is_cube(&inner)
}

/// A CubeCL (wgpu) device, where the op is a lazy Fusion operation.
fn is_cube(device: &Device) -> bool {
    #[cfg(feature = "gpu")]
    if matches!(device.as_dispatch(), DispatchDevice::Cube(_)) {
        return true;
    }
    let _ = device;
    false
}

/// Runs the fused recurrence (see the module docs) over `x` `[batch, time, size]` from the
/// state `v0`, `i0` `[batch, size]` (`i0` is ignored without a synapse; pass zeros) with the
/// coefficients `coef` `[COEFFICIENTS, size]` (from [`leaky_coefficients`]). Returns the output
/// (spikes or, for a leaky integrator, the membrane) `[batch, time, size]`, and the final `v`
/// and `i` `[batch, size]`.
///
/// On an autodiff device, gradients flow to `x`, `v0` and `i0` (from the output and from the
/// final state); `coef` is treated as a constant. Panics on a backend where
/// [`backend_supported`] is false and on non-f32 tensors.
pub fn leaky_sequence(
    x: Tensor<3>,
    v0: Tensor<2>,
    i0: Tensor<2>,
    coef: Tensor<2>,
    spec: LeakySpec,
) -> (Tensor<3>, Tensor<2>, Tensor<2>) {
    // On CubeCL devices the op is queued on the Fusion stream and the kernel runs when the
    // stream is flushed (maybe on another thread), so it is counted here, when it is queued.
    if is_cube(&x.device().without_autodiff()) {
        count_launch();
    }
    let (out, v, i) = <Dispatch as FusedLeakyBackend>::leaky_forward(
        x.into_dispatch(),
        v0.into_dispatch(),
        i0.into_dispatch(),
        coef.detach().into_dispatch(),
        spec,
    );
    (
        Tensor::from_dispatch(out),
        Tensor::from_dispatch(v),
        Tensor::from_dispatch(i),
    )
}

/// The coefficient tensor `[COEFFICIENTS, size]` and the forms of a leaky layer, from its
/// per-neuron time constants (ms), threshold (`None` for a readout), `dt`, `v_leak` and
/// discretization. The expressions are the reference path's (`neuron::dynamics`), so the
/// coefficients are bit-equal to the ones the step loop uses.
pub fn leaky_coefficients(
    tau_mem_ms: Tensor<1>,
    tau_syn_ms: Option<Tensor<1>>,
    threshold: Option<Tensor<1>>,
    dt_ms: f64,
    v_leak: f64,
    discretization: Discretization,
) -> (Tensor<2>, MembraneForm, SynapseForm) {
    let tau = tau_mem_ms.detach();
    let zeros = tau.zeros_like();
    let ones = tau.ones_like();
    let euler = matches!(
        discretization,
        Discretization::ForwardEuler | Discretization::ForwardEulerUnscaledInput
    );
    // the same expressions as `Membrane::leaky` / `Synapse::new` / `decay_factor`
    let euler_k = |tau: Tensor<1>| tau.clamp_min(dt_ms).recip().mul_scalar(dt_ms);
    let decay = |tau: Tensor<1>| tau.clamp_min(1e-3).recip().mul_scalar(-dt_ms).exp();
    let (membrane, a, gain, rest) = match discretization {
        Discretization::ForwardEuler => (
            MembraneForm::EulerScaled,
            euler_k(tau),
            ones.clone(),
            zeros.clone(),
        ),
        Discretization::ForwardEulerUnscaledInput => (
            MembraneForm::EulerUnscaled,
            euler_k(tau),
            ones.clone(),
            zeros.clone(),
        ),
        Discretization::ExactDecay | Discretization::ExactDecayScaledInput => {
            let beta = decay(tau);
            let one_minus_beta = beta.clone().neg().add_scalar(1.0);
            let rest = if v_leak != 0.0 {
                one_minus_beta.clone().mul_scalar(v_leak)
            } else {
                zeros.clone()
            };
            let gain = if discretization == Discretization::ExactDecayScaledInput {
                one_minus_beta
            } else {
                ones.clone()
            };
            (MembraneForm::Exact, beta, gain, rest)
        }
    };
    let (synapse, s) = match tau_syn_ms.map(|t| t.detach()) {
        None => (SynapseForm::None, zeros.clone()),
        Some(tau) if euler => (SynapseForm::Euler, euler_k(tau)),
        Some(tau) => (SynapseForm::Exact, decay(tau)),
    };
    let threshold = threshold.map(|t| t.detach()).unwrap_or(zeros);
    let coef = Tensor::stack(vec![a, gain, rest, s, threshold], 0);
    (coef, membrane, synapse)
}

//! Constant-current LIF encoding (Norse).

use burn::prelude::*;

use super::{first_spike_only, repeat_in_time};
use crate::error::{Result, SnnError};
use crate::neuron::{Lif, LifAdEx, Neuron, lif_adex_current_encoder_step};

/// Norse `constant_current_lif_encode(input_current, seq_length, p, dt)`: each feature's value
/// is a constant current injected into a LIF neuron for `steps` steps; the output is its spikes.
///
/// Norse uses the current-free LIF (`v ← v + dt/τ_mem·((v_leak − v) + I)`, reset to `v_reset`):
/// build `lif` with [`crate::LifConfig::box_model`] (or [`crate::LifConfig::from_norse`] with no
/// synaptic time constant) and `size` = the number of features. `current`: `[batch, features...]`.
pub fn constant_current_lif_encode<const D: usize, const E: usize>(
    current: Tensor<D>,
    steps: usize,
    lif: &Lif,
) -> Result<Tensor<E>> {
    let input: Tensor<E> = repeat_in_time(current, steps, "constant_current_lif_encode")?;
    Ok(Neuron::forward(lif, input)?.spikes)
}

/// Norse `spike_latency_lif_encode`: [`constant_current_lif_encode`] keeping only each neuron's
/// first spike, so that a stronger current means an earlier single spike.
pub fn spike_latency_lif_encode<const D: usize, const E: usize>(
    current: Tensor<D>,
    steps: usize,
    lif: &Lif,
) -> Result<Tensor<E>> {
    first_spike_only(constant_current_lif_encode(current, steps, lif)?)
}

/// The traces of [`lif_adex_current_encoder`], each `[batch, steps, size]`.
#[derive(Clone, Debug)]
pub struct AdExEncoding {
    /// The spikes.
    pub spikes: Tensor<3>,
    /// The membrane after each step (after its reset).
    pub v: Tensor<3>,
    /// The adaptation current after each step.
    pub a: Tensor<3>,
}

/// Norse's `lif_adex_current_encoder` called `steps` times with the same `current`
/// (`[batch, size]`), from the membrane `v0` and adaptation `a0` (`[batch, size]`; `v_leak` and
/// 0 when `None`): the AdEx neurons of `layer` without their synaptic current, stepped by
/// [`lif_adex_current_encoder_step`]. That step keeps Norse's encoder update of the adaptation,
/// which is unstable with Norse's defaults; read its documentation before using it for more
/// than parity with Norse.
///
/// # Errors
/// [`SnnError::ZeroSize`] for `steps = 0`, [`SnnError::ShapeMismatch`] when `current`, `v0` or
/// `a0` is not `[batch, layer.size()]`.
pub fn lif_adex_current_encoder(
    current: Tensor<2>,
    steps: usize,
    layer: &LifAdEx,
    v0: Option<Tensor<2>>,
    a0: Option<Tensor<2>>,
) -> Result<AdExEncoding> {
    const CONTEXT: &str = "lif_adex_current_encoder";
    if steps == 0 {
        return Err(SnnError::ZeroSize { field: "steps" });
    }
    let [batch, _] = current.dims();
    let expected = [batch, layer.size()];
    for t in [Some(&current), v0.as_ref(), a0.as_ref()]
        .into_iter()
        .flatten()
    {
        if t.dims() != expected {
            return Err(SnnError::ShapeMismatch {
                context: CONTEXT,
                expected: format!("{expected:?}"),
                actual: t.dims().to_vec(),
            });
        }
    }
    let resting = layer.init_state(batch);
    let mut v = v0.unwrap_or(resting.v);
    let mut a = a0.unwrap_or(resting.a);
    let dynamics = layer.dynamics();
    let (mut zs, mut vs, mut as_) = (vec![], vec![], vec![]);
    for _ in 0..steps {
        let (z, v_next, a_next) = lif_adex_current_encoder_step(current.clone(), v, a, &dynamics);
        (v, a) = (v_next, a_next);
        zs.push(z);
        vs.push(v.clone());
        as_.push(a.clone());
    }
    let time = |ts: Vec<Tensor<2>>| Tensor::stack::<3>(ts, 1);
    Ok(AdExEncoding {
        spikes: time(zs),
        v: time(vs),
        a: time(as_),
    })
}

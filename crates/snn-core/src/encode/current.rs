//! Constant-current LIF encoding (Norse).

use burn::prelude::*;

use super::{first_spike_only, repeat_in_time};
use crate::error::Result;
use crate::neuron::{Lif, Neuron};

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

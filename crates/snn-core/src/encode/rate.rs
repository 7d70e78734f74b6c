//! Rate coding: Bernoulli spikes with a probability per step (Norse's Poisson encoder,
//! snnTorch's `spikegen.rate`).

use burn::prelude::*;

use super::{SpikeRng, repeat_in_time};
use crate::error::{Result, positive};

/// `[batch, steps, features...]` spikes: 1.0 where a uniform draw is below the probability.
fn bernoulli<const E: usize>(probability: Tensor<E>, rng: &mut SpikeRng) -> Tensor<E> {
    let dims = probability.dims();
    let n = dims.iter().product();
    let draws =
        Tensor::<1>::from_floats(rng.uniform(n).as_slice(), &probability.device()).reshape(dims);
    draws.lower(probability).float()
}

/// Norse `poisson_encode(x, seq_length, f_max, dt)`: at every step each feature spikes with
/// probability `p = f_max · dt · x` (strict `uniform < p`), so `x = 1` fires at `f_max` Hz.
///
/// `x`: `[batch, features...]`, values in `[0, 1]`; `f_max_hz` in Hz (Norse default 100),
/// `dt_ms` in ms (Norse default 1). Returns `[batch, steps, features...]`.
pub fn poisson_encode<const D: usize, const E: usize>(
    x: Tensor<D>,
    steps: usize,
    f_max_hz: f64,
    dt_ms: f64,
    rng: &mut SpikeRng,
) -> Result<Tensor<E>> {
    positive("f_max_hz", f_max_hz)?;
    positive("dt_ms", dt_ms)?;
    let p: Tensor<E> = repeat_in_time(x, steps, "poisson_encode")?;
    Ok(bernoulli(p * (f_max_hz * dt_ms * 1e-3), rng))
}

/// Norse `signed_poisson_encode`: spikes of the sign of `x` (`±1.0`) with probability
/// `f_max · dt · |x|`.
pub fn signed_poisson_encode<const D: usize, const E: usize>(
    x: Tensor<D>,
    steps: usize,
    f_max_hz: f64,
    dt_ms: f64,
    rng: &mut SpikeRng,
) -> Result<Tensor<E>> {
    let sign: Tensor<E> = repeat_in_time(x.clone().sign(), steps, "signed_poisson_encode")?;
    let spikes: Tensor<E> = poisson_encode(x.abs(), steps, f_max_hz, dt_ms, rng)?;
    Ok(spikes * sign)
}

/// snnTorch `spikegen.rate(data, num_steps, gain, offset)`: Bernoulli spikes with probability
/// `clamp(gain · x + offset, 0, 1)` at every step (snnTorch defaults: gain 1, offset 0).
pub fn rate_encode<const D: usize, const E: usize>(
    x: Tensor<D>,
    steps: usize,
    gain: f64,
    offset: f64,
    rng: &mut SpikeRng,
) -> Result<Tensor<E>> {
    crate::error::finite("gain", gain)?;
    crate::error::finite("offset", offset)?;
    let p: Tensor<E> = repeat_in_time(x, steps, "rate_encode")?;
    Ok(bernoulli((p * gain + offset).clamp(0.0, 1.0), rng))
}

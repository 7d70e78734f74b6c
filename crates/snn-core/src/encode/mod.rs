//! Encoders: turning data into spikes.
//!
//! Each encoder takes `[batch, features...]` and returns `[batch, time, features...]` (the output
//! rank is the input rank plus one, checked at run time: write the output type, e.g.
//! `let spikes: Tensor<3> = poisson_encode(x, ...)?`). Random encoders draw from a seeded
//! host-side generator ([`SpikeRng`]), so the same seed gives the same spikes on every backend.
//!
//! | function | peer |
//! | --- | --- |
//! | [`poisson_encode`], [`signed_poisson_encode`] | Norse `poisson_encode`, `signed_poisson_encode` |
//! | [`rate_encode`] | snnTorch `spikegen.rate` |
//! | [`constant_current_lif_encode`], [`spike_latency_lif_encode`] | Norse |
//! | [`first_spike_only`] | Norse `spike_latency_encode` |
//! | [`latency_encode`], [`latency_code`] | snnTorch `spikegen.latency`, `latency_code` |
//! | [`delta_encode`] | snnTorch `spikegen.delta` |
//! | [`population_encode`] | Norse `population_encode` |
//! | [`GaussianTuning`] | SpikingJelly `GaussianTuning` (Bohte et al. 2002) |

mod current;
mod delta;
mod gaussian_tuning;
mod latency;
mod population;
mod rate;
mod rng;

pub use current::{constant_current_lif_encode, spike_latency_lif_encode};
pub use delta::delta_encode;
pub use gaussian_tuning::{GaussianTuning, GaussianTuningEvents};
pub use latency::{LatencyConfig, first_spike_only, latency_code, latency_encode};
pub use population::population_encode;
pub use rate::{poisson_encode, rate_encode, signed_poisson_encode};
pub use rng::SpikeRng;

use burn::prelude::*;

use crate::error::{Result, SnnError};

/// Checks that the output rank `E` is the input rank `D` plus one.
pub(crate) fn check_rank<const D: usize, const E: usize>(
    dims: &[usize],
    context: &'static str,
) -> Result<()> {
    if E != D + 1 || D == 0 {
        return Err(SnnError::RankMismatch {
            context,
            expected: "input rank >= 1 and output rank = input rank + 1",
            actual: E,
            shape: dims.to_vec(),
        });
    }
    Ok(())
}

/// `[batch, features...]` -> `[batch, steps, features...]`, the input repeated at every step.
pub(crate) fn repeat_in_time<const D: usize, const E: usize>(
    x: Tensor<D>,
    steps: usize,
    context: &'static str,
) -> Result<Tensor<E>> {
    let dims = x.dims();
    check_rank::<D, E>(&dims, context)?;
    if steps == 0 {
        return Err(SnnError::ZeroSize { field: "steps" });
    }
    let batch = dims[0];
    let features: usize = dims[1..].iter().product();
    let mut out = [0usize; E];
    out[0] = batch;
    out[1] = steps;
    out[2..].copy_from_slice(&dims[1..]);
    Ok(x.reshape([batch, 1, features])
        .repeat_dim(1, steps)
        .reshape(out))
}

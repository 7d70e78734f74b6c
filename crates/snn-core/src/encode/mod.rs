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
//!
//! # Input neurons (mlGeNN)
//!
//! mlGeNN's input populations (`ml_genn/neurons/`), which turn data into spikes.
//!
//! | mlGeNN | here | code |
//! |---|---|---|
//! | `BinarySpikeInput(signed_spikes)` | [`BinarySpikeInput`] | spike while `x > 0` (`−1` while `x < 0`, signed) |
//! | `PoissonInput(signed_spikes)` | [`PoissonInput`] | Poisson spikes at rate `|x|` per ms, seeded |
//! | `IntegrateFireInput` | [`IntegrateFireInput`] | IF neuron driven by `x`, differentiable |
//! | `LeakyIntegrateFireInput` | [`LeakyIntegrateFireInput`] | LIF neuron driven by `x`, differentiable |
//! | `FewSpikeReluInput` | [`FewSpikeReluInput`] | binary digits of `relu(x)/α` in `k` steps (Stöckl & Maass 2021) |
//! | `SpikeInput(max_spikes)` | [`SpikeInput`] | recorded `(time, neuron)` events to a dense tensor |
//!
//! The tensor-driven inputs take a static input `[batch, features...]` and give spikes
//! `[batch, time, features...]` (batch-major, time on axis 1). Like mlGeNN's `InputBase`
//! (`ml_genn/neurons/input.py`) they also take a sequence of `input_frames` frames,
//! `[batch, input_frames, features...]`, each frame shown for `input_frame_timesteps` steps;
//! at step `t` the neurons see frame `min(⌊t / input_frame_timesteps⌋, input_frames − 1)`,
//! so the last frame is held once the frames run out. `forward` is generic over the output
//! rank: `D + 1` for a static input, `D` for frames; a wrong rank is a
//! [`crate::SnnError::RankMismatch`].
//!
//! Spikes are `f32` tensors of exactly `0.0` and `1.0`, with `−1.0` for the negative spikes of
//! the signed codes. The inputs hold no tensors: [`BinarySpikeInputConfig::init`] and the
//! others take no device, and the spikes are made on the device of the input tensor
//! ([`SpikeInput::dense`] takes the device).
//!
//! ```
//! use burn::prelude::*;
//! use snn_core::encode::{BinarySpikeInputConfig, PoissonInputConfig};
//!
//! # fn main() -> Result<(), snn_core::SnnError> {
//! let device = Device::flex();
//! let x = Tensor::<2>::from_floats([[0.5, 0.0, -0.2]], &device); // [batch, features]
//! let binary = BinarySpikeInputConfig::new(3).with_signed_spikes(true).init()?;
//! let z: Tensor<3> = binary.forward(x.clone(), 4)?; // [batch, time, features]
//! assert_eq!(z.into_data().try_to_vec::<f32>().unwrap()[..3], [1.0, 0.0, -1.0]);
//! let poisson = PoissonInputConfig::new(3).init()?;
//! let z: Tensor<3> = poisson.forward(x, 100, 42)?; // rate |x| spikes per ms, seed 42
//! assert_eq!(z.dims(), [1, 100, 3]);
//! # Ok(())
//! # }
//! ```

mod current;
mod delta;
mod gaussian_tuning;
mod latency;
mod population;
mod rate;
mod rng;

// mlGeNN's input neurons (`snn_core::input` until 0.1)
mod binary;
mod few_spike;
mod integrate_fire;
mod leaky_integrate_fire;
mod poisson;
mod present;
mod spike_events;

pub use binary::{BinarySpikeInput, BinarySpikeInputConfig};
pub use few_spike::{FewSpikeReluInput, FewSpikeReluInputConfig};
pub use integrate_fire::{IntegrateFireInput, IntegrateFireInputConfig};
pub use leaky_integrate_fire::{LeakyIntegrateFireInput, LeakyIntegrateFireInputConfig};
pub use poisson::{PoissonInput, PoissonInputConfig};
pub use spike_events::{SpikeInput, SpikeInputConfig};

pub use current::{
    AdExEncoding, constant_current_lif_encode, lif_adex_current_encoder, spike_latency_lif_encode,
};
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

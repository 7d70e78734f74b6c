//! Input neurons: mlGeNN's input populations (`ml_genn/neurons/`), which turn data into spikes.
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
//! use snn_core::input::{BinarySpikeInputConfig, PoissonInputConfig};
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

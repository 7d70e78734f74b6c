//! mlGeNN's `BinarySpikeInput` (`ml_genn/neurons/binary_spike_input.py`).

use burn::prelude::*;

use super::present::{Context, Presentation};

/// Configuration of a [`BinarySpikeInput`]: a neuron that spikes at every step its input is
/// positive (mlGeNN `BinarySpikeInput`).
///
/// With input `x` (the frame shown at the step, see [`crate::encode`]):
///
/// ```text
/// z = 1    if x > 0
/// z = −1   if x < 0 and signed_spikes   (mlGeNN's "negative spike")
/// z = 0    otherwise (x = 0, NaN, or x < 0 without signed_spikes)
/// ```
///
/// The mlGeNN defaults: `signed_spikes = false`, `input_frames = 1`,
/// `input_frame_timesteps = 1`. mlGeNN rejects `signed_spikes` with `input_frames > 1` (a GeNN
/// limitation); here the combination works.
#[derive(Config, Debug)]
pub struct BinarySpikeInputConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Emit a `−1` spike where the input is negative. Default false.
    #[config(default = false)]
    pub signed_spikes: bool,
    /// Frames per input (1: a static input `[batch, features...]`). Default 1.
    #[config(default = 1)]
    pub input_frames: usize,
    /// Steps each frame is shown for. Default 1.
    #[config(default = 1)]
    pub input_frame_timesteps: usize,
}

impl BinarySpikeInputConfig {
    fn presentation(&self) -> Presentation {
        Presentation {
            size: self.size,
            frames: self.input_frames,
            frame_timesteps: self.input_frame_timesteps,
        }
    }

    /// Checks every field (`size`, `input_frames`, `input_frame_timesteps` at least 1).
    pub fn validate(&self) -> crate::Result<()> {
        self.presentation().validate()
    }

    /// Builds the input after [`BinarySpikeInputConfig::validate`]. It holds no tensors: the
    /// spikes are made on the device of the input tensor.
    pub fn init(&self) -> crate::Result<BinarySpikeInput> {
        self.validate()?;
        Ok(BinarySpikeInput {
            config: self.clone(),
        })
    }
}

/// Binary spike input; see [`BinarySpikeInputConfig`] for the equations.
#[derive(Clone, Debug)]
pub struct BinarySpikeInput {
    config: BinarySpikeInputConfig,
}

impl BinarySpikeInput {
    /// The configuration the input was built from.
    pub fn config(&self) -> &BinarySpikeInputConfig {
        &self.config
    }

    /// Spikes for `num_steps` steps, `[batch, num_steps, features...]`.
    ///
    /// `input` is `[batch, features...]` (output rank `DO = D + 1`) with one frame, or
    /// `[batch, input_frames, features...]` (`DO = D`) with more. No gradient flows to `input`.
    pub fn forward<const D: usize, const DO: usize>(
        &self,
        input: Tensor<D>,
        num_steps: usize,
    ) -> crate::Result<Tensor<DO>> {
        let context = Context {
            input: "BinarySpikeInput::forward input",
            output: "BinarySpikeInput::forward output",
        };
        let presented =
            self.config
                .presentation()
                .present::<D, DO>(input.detach(), num_steps, context)?;
        let x = presented.per_step();
        let mut z = x.clone().greater_elem(0.0).float();
        if self.config.signed_spikes {
            z = z - x.lower_elem(0.0).float();
        }
        Ok(presented.unflatten(z))
    }
}

//! mlGeNN's `IntegrateFireInput` (`ml_genn/neurons/integrate_fire_input.py`, with the
//! dynamics of `integrate_fire.py`).

use burn::prelude::*;

use super::present::{Context, Presentation};
use crate::error::finite;
use crate::neuron::{IafConfig, IafState, Reset, iaf_step};
use crate::surrogate::Surrogate;

/// Configuration of an [`IntegrateFireInput`]: integrate-and-fire neurons driven directly by
/// the input (mlGeNN `IntegrateFireInput`, GeNN code of `IntegrateFire` with `Isyn` replaced
/// by the input).
///
/// Per step with input `x` (the frame shown at the step, see [`crate::encode`]), from
/// `v = v_init`:
///
/// ```text
/// v ← v + x
/// z = H(v − v_thresh)          (fires at v = v_thresh: GeNN's `V >= Vthresh`)
/// v ← v_reset where z = 1
/// ```
///
/// The spike is [`crate::spike::spike_with`] (Heaviside forward, `surrogate` backward), so
/// gradients reach the input. The mlGeNN defaults: `v_thresh = 1`, `v_reset = 0`, `v = 0`,
/// `input_frames = 1`, `input_frame_timesteps = 1`. mlGeNN has no surrogate (it trains with
/// EventProp or e-prop); the default here is the crate's SuperSpike with `alpha = 100`.
#[derive(Config, Debug)]
pub struct IntegrateFireInputConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Firing threshold (mlGeNN `v_thresh`). Default 1.
    #[config(default = 1.0)]
    pub v_thresh: f64,
    /// Membrane potential after a spike (mlGeNN `v_reset`). Default 0.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Initial membrane potential (mlGeNN `v`). Default 0.
    #[config(default = 0.0)]
    pub v_init: f64,
    /// Frames per input (1: a static input `[batch, features...]`). Default 1.
    #[config(default = 1)]
    pub input_frames: usize,
    /// Steps each frame is shown for. Default 1.
    #[config(default = 1)]
    pub input_frame_timesteps: usize,
    /// Surrogate derivative of the spike. Default SuperSpike with `alpha = 100`.
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Stop gradients through the reset. Default false.
    #[config(default = false)]
    pub detach_reset: bool,
}

impl IntegrateFireInputConfig {
    fn presentation(&self) -> Presentation {
        Presentation {
            size: self.size,
            frames: self.input_frames,
            frame_timesteps: self.input_frame_timesteps,
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        self.presentation().validate()?;
        finite("v_thresh", self.v_thresh)?;
        finite("v_reset", self.v_reset)?;
        finite("v_init", self.v_init)?;
        self.surrogate.validate()
    }

    /// Builds the input after [`IntegrateFireInputConfig::validate`]. It holds no tensors: the
    /// spikes are made on the device of the input tensor.
    pub fn init(&self) -> crate::Result<IntegrateFireInput> {
        self.validate()?;
        Ok(IntegrateFireInput {
            config: self.clone(),
        })
    }
}

/// Integrate-and-fire input; see [`IntegrateFireInputConfig`] for the equations.
#[derive(Clone, Debug)]
pub struct IntegrateFireInput {
    config: IntegrateFireInputConfig,
}

impl IntegrateFireInput {
    /// The configuration the input was built from.
    pub fn config(&self) -> &IntegrateFireInputConfig {
        &self.config
    }

    /// Spikes for `num_steps` steps, `[batch, num_steps, features...]`, from `v = v_init`.
    ///
    /// `input` is `[batch, features...]` (output rank `DO = D + 1`) with one frame, or
    /// `[batch, input_frames, features...]` (`DO = D`) with more. Differentiable in `input`.
    pub fn forward<const D: usize, const DO: usize>(
        &self,
        input: Tensor<D>,
        num_steps: usize,
    ) -> crate::Result<Tensor<DO>> {
        let c = &self.config;
        let context = Context {
            input: "IntegrateFireInput::forward input",
            output: "IntegrateFireInput::forward output",
        };
        let presented = c
            .presentation()
            .present::<D, DO>(input, num_steps, context)?;
        let [batch, _, size] = presented.frames.dims();
        let device = presented.frames.device();
        // the dynamics are those of the crate's IAF layer with GeNN's `>=` threshold
        let iaf = IafConfig::new(size)
            .with_threshold(c.v_thresh)
            .with_v_reset(c.v_reset)
            .with_reset(Reset::ToValue)
            .with_fire_at_threshold(true)
            .with_surrogate(c.surrogate)
            .with_detach_reset(c.detach_reset)
            .init(&device)?;
        let dynamics = iaf.dynamics();
        let state = IafState {
            v: Tensor::<2>::full([batch, size], c.v_init, &device),
        };
        Ok(presented.drive(state, |x, s| iaf_step(x, s, &dynamics)))
    }
}

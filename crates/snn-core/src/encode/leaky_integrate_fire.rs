//! mlGeNN's `LeakyIntegrateFireInput` (`ml_genn/neurons/leaky_integrate_fire_input.py`, with
//! the dynamics of `leaky_integrate_fire.py`).

use burn::prelude::*;

use super::present::{Context, Presentation};
use crate::neuron::{LifConfig, LifDynamics, LifState, MlgennLifConfig, lif_step};
use crate::surrogate::Surrogate;

/// Configuration of a [`LeakyIntegrateFireInput`]: leaky integrate-and-fire neurons driven
/// directly by the input (mlGeNN `LeakyIntegrateFireInput`, GeNN code of `LeakyIntegrateFire`
/// with `Isyn` replaced by the input). The neurons are the LIF family's step
/// ([`crate::lif_step`] with [`LeakyIntegrateFireInputConfig::lif_config`]) driven by the
/// presented frames: no second copy of the model.
///
/// Per step of `dt` with input `x` (the frame shown at the step, see [`crate::encode`]), from
/// `v = v_init`, with `α = exp(−dt/τ_mem)`:
///
/// ```text
/// v ← α·v + x                  (scale_i = false, the default)
/// v ← α·v + (1 − α)·x          (scale_i = true)
/// z = H(v − v_thresh)          (fires at v = v_thresh: GeNN's `V >= Vthresh`)
/// v ← v − (v_thresh − v_reset) where z = 1   (relative_reset = true, the default)
/// v ← v_reset where z = 1                    (relative_reset = false)
/// ```
///
/// With a refractory period `τ_refrac` (a countdown `r`, 0 at the start), in GeNN's order:
///
/// ```text
/// integrate_during_refrac:   v ← update(v);  r ← r − dt where r > 0
/// otherwise:                 where r > 0: r ← r − dt, else v ← update(v)
/// z = H(v − v_thresh) · [r ≤ 0]
/// reset v as above;  r ← τ_refrac where z = 1
/// ```
///
/// The spike is [`crate::spike::spike_with`] (Heaviside forward, `surrogate` backward), so
/// gradients reach the input. The mlGeNN defaults: `v_thresh = 1`, `v_reset = 0`, `v = 0`,
/// `tau_mem = 20 ms`, `tau_refrac = None`, `relative_reset = true`,
/// `integrate_during_refrac = true`, `scale_i = false`, `input_frames = 1`,
/// `input_frame_timesteps = 1`, `dt = 1 ms`. mlGeNN has no surrogate; the default here is the
/// crate's SuperSpike with `alpha = 100`.
#[derive(Config, Debug)]
pub struct LeakyIntegrateFireInputConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Simulation step in ms. Default 1 (mlGeNN's default `dt`).
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Membrane time constant `τ_mem` in ms (mlGeNN `tau_mem`). Default 20.
    #[config(default = 20.0)]
    pub tau_mem_ms: f64,
    /// Refractory period `τ_refrac` in ms (mlGeNN `tau_refrac`), or `None` for none.
    /// Default `None`.
    #[config(default = "None")]
    pub tau_refrac_ms: Option<f64>,
    /// Firing threshold (mlGeNN `v_thresh`). Default 1.
    #[config(default = 1.0)]
    pub v_thresh: f64,
    /// Reset potential (mlGeNN `v_reset`): with `relative_reset`, a spike subtracts
    /// `v_thresh − v_reset`; without, it sets `v = v_reset`. Default 0.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Initial membrane potential (mlGeNN `v`). Default 0.
    #[config(default = 0.0)]
    pub v_init: f64,
    /// Subtract `v_thresh − v_reset` after a spike instead of setting `v_reset`. Default true.
    #[config(default = true)]
    pub relative_reset: bool,
    /// Keep integrating the input during the refractory period. Default true.
    #[config(default = true)]
    pub integrate_during_refrac: bool,
    /// Scale the input by `1 − α` (exact integration of a constant current). Default false.
    #[config(default = false)]
    pub scale_i: bool,
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

impl LeakyIntegrateFireInputConfig {
    fn presentation(&self) -> Presentation {
        Presentation {
            size: self.size,
            frames: self.input_frames,
            frame_timesteps: self.input_frame_timesteps,
        }
    }

    /// The neurons' parameters under mlGeNN's names: the [`MlgennLifConfig`] of the
    /// `LeakyIntegrateFire` neuron this input is.
    pub fn neuron(&self) -> MlgennLifConfig {
        MlgennLifConfig::new(self.size)
            .with_dt_ms(self.dt_ms)
            .with_tau_mem_ms(self.tau_mem_ms)
            .with_tau_refrac_ms(self.tau_refrac_ms)
            .with_v_thresh(self.v_thresh)
            .with_v_reset(self.v_reset)
            .with_v_init(self.v_init)
            .with_relative_reset(self.relative_reset)
            .with_integrate_during_refrac(self.integrate_during_refrac)
            .with_scale_i(self.scale_i)
            .with_surrogate(self.surrogate)
            .with_detach_reset(self.detach_reset)
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        self.presentation().validate()?;
        self.neuron().validate()
    }

    /// The [`LifConfig`] of these parameters: the LIF family's options for mlGeNN's neuron
    /// (see [`LifConfig::mlgenn`]).
    pub fn lif_config(&self) -> LifConfig {
        self.neuron().lif_config()
    }

    /// The membrane decay per step, `α = exp(−dt/τ_mem)`.
    pub fn alpha(&self) -> f64 {
        (-self.dt_ms / self.tau_mem_ms).exp()
    }

    /// Builds the input after [`LeakyIntegrateFireInputConfig::validate`]. It holds no
    /// tensors: the spikes are made on the device of the input tensor.
    pub fn init(&self) -> crate::Result<LeakyIntegrateFireInput> {
        self.validate()?;
        Ok(LeakyIntegrateFireInput {
            config: self.clone(),
        })
    }
}

/// Leaky integrate-and-fire input; see [`LeakyIntegrateFireInputConfig`] for the equations.
#[derive(Clone, Debug)]
pub struct LeakyIntegrateFireInput {
    config: LeakyIntegrateFireInputConfig,
}

impl LeakyIntegrateFireInput {
    /// The configuration the input was built from.
    pub fn config(&self) -> &LeakyIntegrateFireInputConfig {
        &self.config
    }

    /// Spikes for `num_steps` steps, `[batch, num_steps, features...]`, from `v = v_init` and
    /// no refractory countdown.
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
            input: "LeakyIntegrateFireInput::forward input",
            output: "LeakyIntegrateFireInput::forward output",
        };
        let presented = c
            .presentation()
            .present::<D, DO>(input, num_steps, context)?;
        let [batch, _, size] = presented.frames.dims();
        let device = presented.frames.device();
        // the step of mlGeNN's LeakyIntegrateFire neuron (crate::lif_step with the options of
        // LifConfig::mlgenn), with α computed in f64 and passed as a single-precision
        // parameter, as GeNN does
        let dynamics = LifDynamics::with_constant_decay(&c.lif_config(), c.alpha() as f32, &device);
        let v = Tensor::<2>::full([batch, size], c.v_init, &device);
        let state = LifState {
            refrac: c.tau_refrac_ms.map(|_| v.zeros_like()),
            i: None,
            v,
        };
        Ok(presented.drive(state, |x, s| lif_step(x, s, &dynamics)))
    }
}

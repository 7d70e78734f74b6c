//! mlGeNN's `PoissonInput` (`ml_genn/neurons/poisson_input.py`).

use burn::prelude::*;
use rayon::prelude::*;

use super::SpikeRng;
use super::present::{Context, Presentation};
use crate::error::{SnnError, positive};

/// Configuration of a [`PoissonInput`]: a Poisson spike source whose rate is the magnitude of
/// its input (mlGeNN `PoissonInput`).
///
/// With input `x` (the frame shown at the step, a rate in spikes per ms: `x = 1` is 1000 Hz)
/// and a uniform draw `u ∈ [0, 1)` per neuron and step:
///
/// ```text
/// s = u ≥ exp(−|x|·dt)            (P(s) = 1 − exp(−|x|·dt), GeNN's gennrand_uniform())
/// z = 1    if x > 0 and s
/// z = −1   if x < 0 and s and signed_spikes
/// z = 0    otherwise
/// ```
///
/// The mlGeNN defaults: `signed_spikes = false`, `input_frames = 1`,
/// `input_frame_timesteps = 1`, and the simulation's `dt = 1 ms`. mlGeNN rejects
/// `signed_spikes` with `input_frames > 1` (a GeNN limitation); here the combination works.
///
/// # Random numbers
///
/// The uniforms come from the host generator [`SpikeRng`](crate::encode::SpikeRng), not from
/// the backend's generator: the uniform of element `i` (row-major over
/// `[batch, steps, features]`) is the `i`-th `f32` uniform of
/// `SpikeRng::new(seed ^ 0x5EED_5EED_5EED_5EED)`. So [`PoissonInput::forward`] with the same
/// seed gives the same spikes on every call, independent of the thread count and of other
/// threads drawing random numbers. The comparison with `exp(−|x|·dt)` runs on the device, so
/// two backends agree except where a draw falls within an ulp of `exp` (backends may round
/// `exp` differently).
#[derive(Config, Debug)]
pub struct PoissonInputConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Simulation step in ms. Default 1 (mlGeNN's default `dt`).
    #[config(default = 1.0)]
    pub dt_ms: f64,
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

impl PoissonInputConfig {
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
        positive("dt_ms", self.dt_ms).map(drop)
    }

    /// Builds the input after [`PoissonInputConfig::validate`]. It holds no tensors: the
    /// spikes are made on the device of the input tensor.
    pub fn init(&self) -> crate::Result<PoissonInput> {
        self.validate()?;
        Ok(PoissonInput {
            config: self.clone(),
        })
    }
}

/// Poisson spike input; see [`PoissonInputConfig`] for the equations.
#[derive(Clone, Debug)]
pub struct PoissonInput {
    config: PoissonInputConfig,
}

impl PoissonInput {
    /// The configuration the input was built from.
    pub fn config(&self) -> &PoissonInputConfig {
        &self.config
    }

    /// The probability of a spike per step at rate `rate` (spikes per ms):
    /// `1 − exp(−|rate|·dt)`.
    pub fn spike_probability(&self, rate: f64) -> f64 {
        -(-rate.abs() * self.config.dt_ms).exp_m1()
    }

    /// Spikes for `num_steps` steps, `[batch, num_steps, features...]`, drawn with `seed`.
    ///
    /// `input` holds rates in spikes per ms: `[batch, features...]` (output rank `DO = D + 1`)
    /// with one frame, or `[batch, input_frames, features...]` (`DO = D`) with more. A NaN or
    /// infinite rate is an error ([`SnnError::NotFinite`]; checking it reads one value back from
    /// the device). No gradient flows to `input`.
    pub fn forward<const D: usize, const DO: usize>(
        &self,
        input: Tensor<D>,
        num_steps: usize,
        seed: u64,
    ) -> crate::Result<Tensor<DO>> {
        let context = Context {
            input: "PoissonInput::forward input",
            output: "PoissonInput::forward output",
        };
        let presented =
            self.config
                .presentation()
                .present::<D, DO>(input.detach(), num_steps, context)?;
        check_finite(&presented.frames)?;
        let x = presented.per_step();
        let dims = x.dims();
        let device = x.device();
        let draws = uniforms(seed, dims.iter().product());
        let u = Tensor::<3>::from_data(TensorData::new(draws, dims), &device);
        let keep = x.clone().abs().mul_scalar(-self.config.dt_ms).exp();
        let fired = u.greater_equal(keep).float();
        let mut z = fired.clone() * x.clone().greater_elem(0.0).float();
        if self.config.signed_spikes {
            z = z - fired * x.lower_elem(0.0).float();
        }
        Ok(presented.unflatten(z))
    }
}

/// Rejects NaN and infinite rates.
fn check_finite(x: &Tensor<3>) -> crate::Result<()> {
    let any = |mask: Tensor<3, Bool>| mask.any().float().into_scalar::<f32>() > 0.0;
    if any(x.clone().is_nan()) {
        return Err(SnnError::NotFinite {
            field: "PoissonInput input rate",
            value: f64::NAN,
        });
    }
    if any(x.clone().is_inf()) {
        return Err(SnnError::NotFinite {
            field: "PoissonInput input rate",
            value: f64::INFINITY,
        });
    }
    Ok(())
}

/// Key of the Poisson input's stream: `PoissonInput::forward(.., seed)` does not repeat the
/// draws of an encoder given `SpikeRng::new(seed)`.
const POISSON_KEY: u64 = 0x5EED_5EED_5EED_5EED;

/// Draws per parallel chunk: each chunk jumps ahead to its own part of the one stream.
const CHUNK: usize = 1 << 16;

/// `n` uniforms in `[0, 1)`: element `i` is the `i`-th [`SpikeRng::next_f32`] of
/// `SpikeRng::new(seed ^ POISSON_KEY)`, so it depends only on `(seed, i)`. Fixed-size chunks
/// are drawn in parallel, each from a generator advanced to its first element, which gives the
/// sequential stream whatever the number of threads.
fn uniforms(seed: u64, n: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; n];
    out.par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(chunk, values)| {
            let mut rng = SpikeRng::new(seed ^ POISSON_KEY);
            rng.advance((chunk * CHUNK) as u128);
            values.iter_mut().for_each(|v| *v = rng.next_f32());
        });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniforms_are_in_range_and_seeded() {
        let a = uniforms(7, 10_000);
        assert!(a.iter().all(|&u| (0.0..1.0).contains(&u)));
        let mean = a.iter().map(|&u| f64::from(u)).sum::<f64>() / a.len() as f64;
        assert!((mean - 0.5).abs() < 0.02, "{mean}");
        assert_eq!(a, uniforms(7, 10_000));
        assert_ne!(a, uniforms(8, 10_000));
    }

    #[test]
    fn parallel_chunks_give_the_sequential_stream() {
        let n = 3 * CHUNK + 5;
        let sequential = SpikeRng::new(7 ^ POISSON_KEY).uniform(n);
        assert_eq!(uniforms(7, n), sequential);
        assert_eq!(uniforms(7, 10), sequential[..10]);
    }
}

//! mlGeNN's `FewSpikeReluInput` (`ml_genn/neurons/few_spike_relu_input.py`): the few-spike
//! (FS) coding of Stöckl & Maass 2021.

use burn::prelude::*;

use super::present::{Context, Presentation};
use crate::error::{SnnError, nonzero, positive};
use crate::neuron::{FEW_SPIKE_MAX_K as MAX_K, few_spike_fire, few_spike_threshold};
use crate::surrogate::Surrogate;

/// Configuration of a [`FewSpikeReluInput`]: few-spike coding of a ReLU activation in `k`
/// steps (Stöckl & Maass 2021, "Optimized spiking neurons can classify images with high
/// accuracy through temporal coding with two spikes"; mlGeNN `FewSpikeReluInput`).
///
/// The membrane starts at the input, `v = x`, and step `p = 0, …, k − 1` has the threshold
/// `h(p)`; the spikes are the binary digits of `x / α`:
///
/// ```text
/// h(p) = α · 2^−(p + 1)            (GeNN: Scale · 2^(k − 1 − p), Scale = α · 2^−k)
/// z(p) = H(v − h(p))               (fires at v = h(p): GeNN's `V >= hT`)
/// v ← v − z(p)·h(p)
/// ```
///
/// so that `Σ_p z(p)·h(p) = q·⌊x / q⌋` with the step `q = α·2^−k`, for `0 ≤ x < α`: the ReLU of
/// `x` rounded down to `q`. Negative inputs give no spike; inputs `≥ α` saturate at `α − q`.
///
/// With `signed_input`, `k` must be even: even steps `p = 2j` encode the positive part and odd
/// steps `p = 2j + 1` the negative part, both with the threshold `h = α · 2^−(j + 1)`:
///
/// ```text
/// even p:  z(p) = [v ≥ h],  v ← v − z·h       (spike +1)
/// odd p:   z(p) = [v < −h], v ← v + z·h       (spike −1 here; GeNN emits a plain spike whose
///                                              sign the step's parity gives)
/// ```
///
/// so `Σ_p z(p)·h(p)` is `x` rounded toward zero to the step `α·2^−k/2`. mlGeNN's odd `k` with
/// `signed_input` shifts by a negative amount in its last step (undefined in C), so it is
/// rejected here.
///
/// The mlGeNN defaults: `k = 10`, `alpha = 25`, `signed_input = false`. The input is static
/// (mlGeNN's FS input has no `input_frames`); the output has exactly `k` steps. Not
/// differentiable (FS networks are converted from trained ANNs).
#[derive(Config, Debug)]
pub struct FewSpikeReluInputConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Steps `k` to encode over, 1 to 31 (even with `signed_input`). Default 10.
    #[config(default = 10)]
    pub k: usize,
    /// Scale `α` of the activations (the largest value coded is `α − q`). Default 25.
    #[config(default = 25.0)]
    pub alpha: f64,
    /// Encode negative inputs too (on the odd steps). Default false.
    #[config(default = false)]
    pub signed_input: bool,
}

impl FewSpikeReluInputConfig {
    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        nonzero("k", self.k)?;
        if self.k > MAX_K {
            return Err(SnnError::out_of_range("k", "1..=31", self.k as f64));
        }
        if self.signed_input && !self.k.is_multiple_of(2) {
            return Err(SnnError::out_of_range(
                "k",
                "even values in 2..=30 (signed_input)",
                self.k as f64,
            ));
        }
        positive("alpha", self.alpha).map(drop)
    }

    /// Builds the input after [`FewSpikeReluInputConfig::validate`]. It holds no tensors: the
    /// spikes are made on the device of the input tensor.
    pub fn init(&self) -> crate::Result<FewSpikeReluInput> {
        self.validate()?;
        Ok(FewSpikeReluInput {
            config: self.clone(),
        })
    }
}

/// Few-spike ReLU input; see [`FewSpikeReluInputConfig`] for the code.
#[derive(Clone, Debug)]
pub struct FewSpikeReluInput {
    config: FewSpikeReluInputConfig,
}

impl FewSpikeReluInput {
    /// The configuration the input was built from.
    pub fn config(&self) -> &FewSpikeReluInputConfig {
        &self.config
    }

    /// The threshold `h(p)` of each of the `k` steps, in `f32` as GeNN computes it: a
    /// spike train `z` decodes to `Σ_p z(p)·h(p)`.
    pub fn thresholds(&self) -> Vec<f32> {
        let c = &self.config;
        (0..c.k)
            .map(|p| {
                let bit = if c.signed_input { p / 2 } else { p };
                few_spike_threshold(c.alpha, bit)
            })
            .collect()
    }

    /// The quantization step `q`: `α·2^−k`, or `α·2^−k/2` with `signed_input`.
    pub fn step(&self) -> f64 {
        let c = &self.config;
        let bits = if c.signed_input { c.k / 2 } else { c.k };
        c.alpha * 0.5f64.powi(bits as i32)
    }

    /// The spikes, `[batch, k, features...]`, of a static input `[batch, features...]`
    /// (output rank `DO = D + 1`). Spikes are `1.0`, or `−1.0` on the negative (odd) steps of
    /// `signed_input`. No gradient flows to `input`.
    pub fn forward<const D: usize, const DO: usize>(
        &self,
        input: Tensor<D>,
    ) -> crate::Result<Tensor<DO>> {
        let c = &self.config;
        let context = Context {
            input: "FewSpikeReluInput::forward input",
            output: "FewSpikeReluInput::forward output",
        };
        let presentation = Presentation {
            size: c.size,
            frames: 1,
            frame_timesteps: 1,
        };
        let presented = presentation.present::<D, DO>(input.detach(), c.k, context)?;
        let [batch, _, size] = presented.frames.dims();
        let mut v = presented.frames.clone().reshape([batch, size]);
        let mut spikes = Vec::with_capacity(c.k);
        for (p, h) in self.thresholds().into_iter().enumerate() {
            if c.signed_input && p % 2 == 1 {
                let z = v.clone().lower_elem(-h).float();
                v = v + z.clone().mul_scalar(h);
                spikes.push(z.neg());
            } else {
                // the firing step of mlGeNN's FewSpikeRelu neuron; the input is detached, so
                // the surrogate is never used
                let (z, next) = few_spike_fire(v, h, Surrogate::StraightThrough);
                v = next;
                spikes.push(z);
            }
        }
        Ok(presented.stack(spikes))
    }
}

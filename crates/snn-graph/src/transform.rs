//! spikelearn's input transforms (`spikelearn.transforms`): what a synapse applies to its
//! presynaptic input (and, documented, to its modulator) before using it.

use snn_core::error::positive;

/// An input transform of a [`Synapse`](crate::Synapse) (spikelearn's `transform` and
/// `transform_mod` arguments), with its state.
///
/// Per step with input `x` and state `value` (0 at rest):
///
/// ```text
/// pass-through: value ← x
/// low-pass:     value ← (1 − β)·x + β·value,   β = e^(−1/τ)   (τ in steps)
/// ```
///
/// The output is the new `value`, or with `delay` the value from before this step's update
/// (0 on the first step): spikelearn's `BaseTrace.__call__`.
///
/// **Deliberate difference:** spikelearn 0.1.2's `PassThrough` never stores `x` and so always
/// outputs zeros; here it passes its input through, as its documentation says.
#[derive(Clone, Debug, PartialEq)]
pub struct Transform {
    kind: TransformKind,
    delay: bool,
    value: Vec<f32>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum TransformKind {
    PassThrough,
    LowPass { beta: f32 },
}

impl Transform {
    /// spikelearn's `PassThrough(N, delay)`: the input itself, or last step's with `delay`.
    pub fn pass_through(size: usize, delay: bool) -> Self {
        Self {
            kind: TransformKind::PassThrough,
            delay,
            value: vec![0.0; size],
        }
    }

    /// spikelearn's `LowPass(N, tau, delay)`: an exponential moving average with time constant
    /// `tau` steps (`> 0`).
    pub fn low_pass(size: usize, tau: f64, delay: bool) -> snn_core::Result<Self> {
        let tau = positive("tau", tau)?;
        Ok(Self {
            kind: TransformKind::LowPass {
                beta: (-1.0 / tau).exp() as f32,
            },
            delay,
            value: vec![0.0; size],
        })
    }

    /// The number of values it transforms.
    pub fn size(&self) -> usize {
        self.value.len()
    }

    /// One step: updates the state with `x` (of [`size`](Self::size)) and returns the output.
    pub fn apply(&mut self, x: &[f32]) -> Vec<f32> {
        let before = self.delay.then(|| self.value.clone());
        match self.kind {
            TransformKind::PassThrough => self.value.copy_from_slice(x),
            TransformKind::LowPass { beta } => {
                for (v, x) in self.value.iter_mut().zip(x) {
                    *v = (1.0 - beta) * x + beta * *v;
                }
            }
        }
        before.unwrap_or_else(|| self.value.clone())
    }

    /// Back to rest (`value = 0`).
    pub fn reset(&mut self) {
        self.value.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delay_returns_the_value_before_the_update() {
        let mut now = Transform::pass_through(2, false);
        let mut late = Transform::pass_through(2, true);
        assert_eq!(now.apply(&[1.0, 2.0]), [1.0, 2.0]);
        assert_eq!(late.apply(&[1.0, 2.0]), [0.0, 0.0]);
        assert_eq!(late.apply(&[3.0, 4.0]), [1.0, 2.0]);
        // low-pass with tau = 1 step: beta = e^-1
        let beta = (-1f32).exp();
        let mut lp = Transform::low_pass(1, 1.0, false).unwrap();
        assert!((lp.apply(&[1.0])[0] - (1.0 - beta)).abs() < 1e-7);
        lp.reset();
        assert!((lp.apply(&[2.0])[0] - 2.0 * (1.0 - beta)).abs() < 1e-6);
        assert!(Transform::low_pass(1, 0.0, false).is_err());
    }
}

//! Spyx's `spyx.fn` losses, regularizers and accuracy (Spyx 1.0.0), same semantics and defaults.
//!
//! Traces are `[batch, time, classes]` with `time_axis` 1 (Spyx's default), or any axis via
//! `time_axis`. Every function checks its targets and parameters and returns a typed error.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Result, in_range};
use crate::trace::{
    Over, batch_major, check_targets, over_time, smooth_one_hot, soft_cross_entropy,
};

/// The penalty applied to the excess activity in [`sparsity_reg`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Norm {
    /// `0.5·e²` where `|e| ≤ δ`, else `δ·(|e| − 0.5·δ)` (optax's `huber_loss`; Spyx's default,
    /// `δ = 1`).
    Huber {
        /// `δ`.
        delta: f32,
    },
    /// `e²`.
    Squared,
    /// `|e|`.
    Absolute,
}

impl Default for Norm {
    fn default() -> Self {
        Self::Huber { delta: 1.0 }
    }
}

impl Norm {
    /// Applies the norm element-wise.
    pub fn apply<const D: usize>(&self, e: Tensor<D>) -> Tensor<D> {
        match *self {
            Self::Huber { delta } => {
                let abs = e.clone().abs();
                let quadratic = e.clone() * e * 0.5;
                let linear = (abs.clone() - 0.5 * delta) * delta;
                quadratic.mask_where(abs.greater_elem(delta), linear)
            }
            Self::Squared => e.clone() * e,
            Self::Absolute => e.abs(),
        }
    }
}

/// Flattens `[batch, ...]` to `[batch, units]`.
fn per_sample<const D: usize>(x: Tensor<D>) -> Tensor<2> {
    let dims = x.dims();
    let batch = dims[0];
    let units = dims[1..].iter().product::<usize>().max(1);
    x.reshape([batch, units])
}

/// Spyx `silence_reg(min_spikes)`: penalizes units that fire less than `min_spikes` on average
/// over the batch. `x` `[batch, ...]` (spikes or traces, any rank):
/// `Σ_j max(0, min_spikes − mean_b x[b, j])²`. Returns a `[1]` tensor.
pub fn silence_reg<const D: usize>(x: Tensor<D>, min_spikes: f64) -> Tensor<1> {
    let mean = per_sample(x).mean_dim(0);
    let deficit = (mean.neg() + min_spikes).clamp_min(0.0);
    (deficit.clone() * deficit).sum()
}

/// Spyx `sparsity_reg(max_spikes, norm)`: penalizes samples whose mean activity exceeds
/// `max_spikes`. `x` `[batch, ...]`: `Σ_b norm(max(0, mean_j x[b, j] − max_spikes))`.
/// Spyx's default norm is [`Norm::Huber`] with `δ = 1`.
pub fn sparsity_reg<const D: usize>(x: Tensor<D>, max_spikes: f64, norm: Norm) -> Tensor<1> {
    sparsity_reg_with(x, max_spikes, |e| norm.apply(e))
}

/// [`sparsity_reg`] with any norm: `norm` maps the excess activity per sample (`[batch]`,
/// `>= 0`) to penalties, which are summed.
pub fn sparsity_reg_with<const D: usize>(
    x: Tensor<D>,
    max_spikes: f64,
    norm: impl Fn(Tensor<1>) -> Tensor<1>,
) -> Tensor<1> {
    let flat = per_sample(x);
    let [batch, _] = flat.dims();
    let mean = flat.mean_dim(1).reshape([batch]);
    let excess = (mean - max_spikes).clamp_min(0.0);
    norm(excess).sum()
}

/// Spyx `integral_accuracy(time_axis)`: the class with the largest sum over time is the
/// prediction. Returns the accuracy and the predictions `[batch]`.
pub fn integral_accuracy(
    traces: Tensor<3>,
    targets: Tensor<1, Int>,
    time_axis: usize,
) -> Result<(f64, Tensor<1, Int>)> {
    const CONTEXT: &str = "integral_accuracy";
    let traces = batch_major(traces, time_axis, CONTEXT)?;
    let [batch, _, classes] = traces.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    let predictions = over_time(traces, Over::Sum).argmax(1).reshape([batch]);
    let correct = predictions
        .clone()
        .equal(targets)
        .int()
        .sum()
        .into_scalar::<i64>();
    Ok((correct as f64 / batch.max(1) as f64, predictions))
}

/// Spyx `integral_crossentropy(smoothing=0.3, time_axis=1)`: softmax cross-entropy of the sums
/// over time, against one-hot labels smoothed to `one_hot·(1 − s) + s/classes`, averaged over the
/// batch. `smoothing` must lie in `[0, 1)`.
pub fn integral_crossentropy(
    traces: Tensor<3>,
    targets: Tensor<1, Int>,
    smoothing: f64,
    time_axis: usize,
) -> Result<Tensor<1>> {
    const CONTEXT: &str = "integral_crossentropy";
    in_range(CONTEXT, "smoothing", smoothing, 0.0, 1.0, false, "[0, 1)")?;
    let traces = batch_major(traces, time_axis, CONTEXT)?;
    let [batch, _, classes] = traces.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    let labels = smooth_one_hot(targets, classes, smoothing);
    Ok(soft_cross_entropy(over_time(traces, Over::Sum), labels))
}

/// Spyx `mse_spikerate(sparsity=0.25, smoothing=0.0, time_axis=1)`: squared error between the
/// mean over time of each class's trace and the target `smooth_labels(one_hot)·sparsity·T`,
/// averaged over batch and classes (no factor 1/2, as optax's `squared_error`).
/// `smoothing` must lie in `[0, 1)` and `sparsity` in `[0, 1]`.
pub fn mse_spikerate(
    traces: Tensor<3>,
    targets: Tensor<1, Int>,
    sparsity: f64,
    smoothing: f64,
    time_axis: usize,
) -> Result<Tensor<1>> {
    const CONTEXT: &str = "mse_spikerate";
    in_range(CONTEXT, "smoothing", smoothing, 0.0, 1.0, false, "[0, 1)")?;
    in_range(CONTEXT, "sparsity", sparsity, 0.0, 1.0, true, "[0, 1]")?;
    let traces = batch_major(traces, time_axis, CONTEXT)?;
    let [batch, time, classes] = traces.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    let target = smooth_one_hot(targets, classes, smoothing) * (sparsity * time as f64);
    let error = over_time(traces, Over::Mean) - target;
    Ok((error.clone() * error).mean())
}

/// Spyx's factory `integral_crossentropy(smoothing=0.3, time_axis=1)` as a value: the default is
/// Spyx's defaults, so `IntegralCrossEntropy::default().forward(traces, targets)` is Spyx's
/// `integral_crossentropy()(traces, targets)` (see [`integral_crossentropy`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegralCrossEntropy {
    /// Label smoothing in `[0, 1)`. Default 0.3.
    pub smoothing: f64,
    /// The time axis of the traces. Default 1 (`[batch, time, classes]`).
    pub time_axis: usize,
}

impl Default for IntegralCrossEntropy {
    fn default() -> Self {
        Self {
            smoothing: 0.3,
            time_axis: 1,
        }
    }
}

impl IntegralCrossEntropy {
    /// The loss of `traces` (`[batch, time, classes]` for the default axis) against `targets`
    /// `[batch]`, a `[1]` tensor.
    pub fn forward(&self, traces: Tensor<3>, targets: Tensor<1, Int>) -> Result<Tensor<1>> {
        integral_crossentropy(traces, targets, self.smoothing, self.time_axis)
    }
}

/// Spyx's factory `mse_spikerate(sparsity=0.25, smoothing=0.0, time_axis=1)` as a value with
/// Spyx's defaults (see [`mse_spikerate`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct MseSpikerate {
    /// The target fraction of steps the correct class fires, in `[0, 1]`. Default 0.25.
    pub sparsity: f64,
    /// Label smoothing in `[0, 1)`. Default 0.
    pub smoothing: f64,
    /// The time axis of the traces. Default 1.
    pub time_axis: usize,
}

impl Default for MseSpikerate {
    fn default() -> Self {
        Self {
            sparsity: 0.25,
            smoothing: 0.0,
            time_axis: 1,
        }
    }
}

impl MseSpikerate {
    /// The loss of `traces` against `targets` `[batch]`, a `[1]` tensor.
    pub fn forward(&self, traces: Tensor<3>, targets: Tensor<1, Int>) -> Result<Tensor<1>> {
        mse_spikerate(
            traces,
            targets,
            self.sparsity,
            self.smoothing,
            self.time_axis,
        )
    }
}

/// Spyx's factory `integral_accuracy(time_axis=1)` as a value with Spyx's default (see
/// [`integral_accuracy`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct IntegralAccuracy {
    /// The time axis of the traces. Default 1.
    pub time_axis: usize,
}

impl Default for IntegralAccuracy {
    fn default() -> Self {
        Self { time_axis: 1 }
    }
}

impl IntegralAccuracy {
    /// The accuracy and the predictions `[batch]`.
    pub fn forward(
        &self,
        traces: Tensor<3>,
        targets: Tensor<1, Int>,
    ) -> Result<(f64, Tensor<1, Int>)> {
        integral_accuracy(traces, targets, self.time_axis)
    }
}

#[cfg(test)]
mod factory_tests {
    use super::*;

    fn data() -> (Tensor<3>, Tensor<1, Int>) {
        let device = Device::flex();
        let values: Vec<f32> = (0..2 * 5 * 3)
            .map(|k| ((k * 7 % 11) as f32) / 10.0)
            .collect();
        let traces = Tensor::<1>::from_floats(values.as_slice(), &device).reshape([2, 5, 3]);
        (traces, Tensor::from_ints([2, 0], &device))
    }

    #[test]
    fn defaults_are_spyx_1_0_defaults() {
        // spyx/fn.py 1.0.0: integral_crossentropy(smoothing=0.3, time_axis=1),
        // mse_spikerate(sparsity=0.25, smoothing=0.0, time_axis=1), integral_accuracy(time_axis=1)
        assert_eq!(
            IntegralCrossEntropy::default(),
            IntegralCrossEntropy {
                smoothing: 0.3,
                time_axis: 1
            }
        );
        assert_eq!(
            MseSpikerate::default(),
            MseSpikerate {
                sparsity: 0.25,
                smoothing: 0.0,
                time_axis: 1
            }
        );
        assert_eq!(IntegralAccuracy::default().time_axis, 1);
    }

    #[test]
    fn factories_compute_the_functions_with_their_parameters() {
        let (traces, targets) = data();
        let scalar = |t: Tensor<1>| t.into_scalar::<f32>();
        let ce = IntegralCrossEntropy::default()
            .forward(traces.clone(), targets.clone())
            .unwrap();
        let want = scalar(integral_crossentropy(traces.clone(), targets.clone(), 0.3, 1).unwrap());
        assert_eq!(scalar(ce), want);
        let other = integral_crossentropy(traces.clone(), targets.clone(), 0.0, 1).unwrap();
        assert_ne!(want, scalar(other), "smoothing must matter here");
        let mse = MseSpikerate::default()
            .forward(traces.clone(), targets.clone())
            .unwrap();
        let want = mse_spikerate(traces.clone(), targets.clone(), 0.25, 0.0, 1).unwrap();
        assert_eq!(scalar(mse), scalar(want));
        let (acc, _) = IntegralAccuracy::default()
            .forward(traces.clone(), targets.clone())
            .unwrap();
        assert_eq!(acc, integral_accuracy(traces, targets, 1).unwrap().0);
        // a bad parameter is a typed error, as for the functions
        let bad = IntegralCrossEntropy {
            smoothing: 1.5,
            ..Default::default()
        };
        let (traces, targets) = data();
        assert!(bad.forward(traces, targets).is_err());
    }
}

//! Traces `[batch, time, classes]` with a movable time axis, targets and their checks.

use burn::prelude::*;

use crate::error::{LossError, Result};

/// Brings a rank-3 trace to `[batch, time, classes]`: `time_axis` 0 reads `[time, batch,
/// classes]` (snnTorch's and Norse's layout), 1 is already batch-major (the default everywhere
/// here, and Spyx's), 2 reads `[batch, classes, time]`.
pub fn batch_major(trace: Tensor<3>, time_axis: usize, context: &'static str) -> Result<Tensor<3>> {
    match time_axis {
        0 => Ok(trace.swap_dims(0, 1)),
        1 => Ok(trace),
        2 => Ok(trace.swap_dims(1, 2)),
        _ => Err(LossError::TimeAxis {
            context,
            time_axis,
            rank: 3,
            shape: trace.dims().to_vec(),
        }),
    }
}

/// How a trace is summarized over time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Over {
    Sum,
    Mean,
    Max,
}

/// Reduces the time axis of a batch-major trace: `[batch, time, classes] -> [batch, classes]`.
pub(crate) fn over_time(trace: Tensor<3>, how: Over) -> Tensor<2> {
    let [batch, _, classes] = trace.dims();
    let reduced = match how {
        Over::Sum => trace.sum_dim(1),
        Over::Mean => trace.mean_dim(1),
        Over::Max => trace.max_dim(1),
    };
    reduced.reshape([batch, classes])
}

/// Checks that there is one target per sample and that every label is in `0..classes`.
/// Reads the labels back to the host (a small synchronization on GPU devices).
pub fn check_targets(
    targets: &Tensor<1, Int>,
    batch: usize,
    classes: usize,
    context: &'static str,
) -> Result<()> {
    let n = targets.dims()[0];
    if n != batch {
        return Err(LossError::BatchMismatch {
            context,
            batch,
            targets: n,
        });
    }
    let labels = targets
        .to_data()
        .convert::<i64>()
        .try_to_vec::<i64>()
        .unwrap_or_default();
    match labels
        .iter()
        .enumerate()
        .find(|(_, l)| **l < 0 || **l as usize >= classes)
    {
        Some((index, &label)) => Err(LossError::LabelOutOfRange {
            context,
            label,
            index,
            classes,
        }),
        None => Ok(()),
    }
}

/// `one_hot(targets) · (1 − smoothing) + smoothing / classes` (optax's `smooth_labels`),
/// `[batch, classes]`, no gradient.
pub(crate) fn smooth_one_hot(targets: Tensor<1, Int>, classes: usize, smoothing: f64) -> Tensor<2> {
    let device = targets.device();
    let batch = targets.dims()[0];
    let class_index = Tensor::<1, Int>::arange(0..classes as i64, &device).reshape([1, classes]);
    let one_hot = targets.reshape([batch, 1]).equal(class_index).float();
    if smoothing == 0.0 {
        one_hot
    } else {
        one_hot * (1.0 - smoothing) + smoothing / classes as f64
    }
}

/// `on` at the target class and `off` elsewhere, `[batch, classes]`, no gradient.
pub(crate) fn target_values(
    targets: Tensor<1, Int>,
    classes: usize,
    on: f64,
    off: f64,
) -> Tensor<2> {
    smooth_one_hot(targets, classes, 0.0) * (on - off) + off
}

/// Mean over the batch of the cross-entropy between `softmax(logits)` and the target
/// distribution `labels` (both `[batch, classes]`).
pub(crate) fn soft_cross_entropy(logits: Tensor<2>, labels: Tensor<2>) -> Tensor<1> {
    let log_p = burn::tensor::activation::log_softmax(logits, 1);
    (log_p * labels).sum_dim(1).mean().neg()
}

/// Sums groups of `outputs / classes` consecutive outputs into one score per class (snnTorch's
/// population code): `[batch, outputs] -> [batch, classes]`.
pub(crate) fn population(
    scores: Tensor<2>,
    classes: usize,
    context: &'static str,
) -> Result<Tensor<2>> {
    let [batch, outputs] = scores.dims();
    if classes == 0 || outputs % classes != 0 {
        return Err(LossError::Shape {
            context,
            expected: format!("a number of outputs divisible by the {classes} classes"),
            actual: vec![batch, outputs],
        });
    }
    Ok(scores
        .reshape([batch, classes, outputs / classes])
        .sum_dim(2)
        .reshape([batch, classes]))
}

//! snnTorch's `functional` losses, regularizer and accuracy (snnTorch 1.0.0).
//!
//! snnTorch takes time-major `[time, batch, outputs]` recordings; here traces are batch-major
//! `[batch, time, outputs]` (`time_axis` 1) and `time_axis = 0` accepts snnTorch's layout
//! unchanged. `population` is snnTorch's `population_code=True, num_classes=...`: consecutive
//! groups of `outputs / classes` neurons vote for one class.

use burn::prelude::*;

use crate::error::{Result, in_range};
use crate::trace::{
    Over, batch_major, check_targets, over_time, population, smooth_one_hot, soft_cross_entropy,
    target_values,
};

/// Class scores `[batch, classes]` of spike counts, pooled by population if asked.
fn counts(
    spikes: Tensor<3>,
    population_classes: Option<usize>,
    context: &'static str,
) -> Result<Tensor<2>> {
    let counts = over_time(spikes, Over::Sum);
    match population_classes {
        Some(classes) => population(counts, classes, context),
        None => Ok(counts),
    }
}

/// snnTorch `ce_rate_loss()`: the softmax cross-entropy of the outputs at every step, averaged
/// over the steps and the batch.
pub fn ce_rate_loss(
    spikes: Tensor<3>,
    targets: Tensor<1, Int>,
    time_axis: usize,
) -> Result<Tensor<1>> {
    const CONTEXT: &str = "ce_rate_loss";
    let spikes = batch_major(spikes, time_axis, CONTEXT)?;
    let [batch, _, classes] = spikes.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    let log_p = burn::tensor::activation::log_softmax(spikes, 2);
    let one_hot = smooth_one_hot(targets, classes, 0.0).reshape([batch, 1, classes]);
    Ok((log_p * one_hot).sum_dim(2).mean().neg())
}

/// snnTorch `ce_count_loss(population_code, num_classes)`: softmax cross-entropy of the spike
/// counts.
pub fn ce_count_loss(
    spikes: Tensor<3>,
    targets: Tensor<1, Int>,
    population_classes: Option<usize>,
    time_axis: usize,
) -> Result<Tensor<1>> {
    const CONTEXT: &str = "ce_count_loss";
    let spikes = batch_major(spikes, time_axis, CONTEXT)?;
    let scores = counts(spikes, population_classes, CONTEXT)?;
    let [batch, classes] = scores.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    Ok(soft_cross_entropy(
        scores,
        smooth_one_hot(targets, classes, 0.0),
    ))
}

/// snnTorch `ce_max_membrane_loss()`: softmax cross-entropy of each output's maximum membrane
/// over time (from SpyTorch).
pub fn ce_max_membrane_loss(
    membrane: Tensor<3>,
    targets: Tensor<1, Int>,
    time_axis: usize,
) -> Result<Tensor<1>> {
    const CONTEXT: &str = "ce_max_membrane_loss";
    let membrane = batch_major(membrane, time_axis, CONTEXT)?;
    let [batch, _, classes] = membrane.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    Ok(soft_cross_entropy(
        over_time(membrane, Over::Max),
        smooth_one_hot(targets, classes, 0.0),
    ))
}

/// snnTorch `mse_count_loss(correct_rate=1, incorrect_rate=0)`: mean squared error between the
/// spike counts and the target counts `⌊T·correct_rate⌋` (target class) and
/// `⌊T·incorrect_rate⌋` (others), divided by `T`. With a population code the targets are scaled
/// by the group size, as snnTorch does. Rates must lie in `[0, 1]`.
pub fn mse_count_loss(
    spikes: Tensor<3>,
    targets: Tensor<1, Int>,
    correct_rate: f64,
    incorrect_rate: f64,
    population_classes: Option<usize>,
    time_axis: usize,
) -> Result<Tensor<1>> {
    const CONTEXT: &str = "mse_count_loss";
    in_range(
        CONTEXT,
        "correct_rate",
        correct_rate,
        0.0,
        1.0,
        true,
        "[0, 1]",
    )?;
    in_range(
        CONTEXT,
        "incorrect_rate",
        incorrect_rate,
        0.0,
        1.0,
        true,
        "[0, 1]",
    )?;
    let spikes = batch_major(spikes, time_axis, CONTEXT)?;
    let [_, time, outputs] = spikes.dims();
    let scores = counts(spikes, population_classes, CONTEXT)?;
    let [batch, classes] = scores.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    let group = (outputs / classes) as f64;
    // snnTorch truncates the target counts to integers
    let on = (time as f64 * correct_rate * group).trunc();
    let off = (time as f64 * incorrect_rate * group).trunc();
    let error = scores - target_values(targets, classes, on, off);
    Ok((error.clone() * error).mean() / time as f64)
}

/// snnTorch `mse_membrane_loss(on_target=1, off_target=0)`: mean squared error between the
/// membrane at every step and `on_target` (target class) / `off_target` (others), averaged over
/// steps, batch and outputs.
pub fn mse_membrane_loss(
    membrane: Tensor<3>,
    targets: Tensor<1, Int>,
    on_target: f64,
    off_target: f64,
    time_axis: usize,
) -> Result<Tensor<1>> {
    const CONTEXT: &str = "mse_membrane_loss";
    let membrane = batch_major(membrane, time_axis, CONTEXT)?;
    let [batch, _, classes] = membrane.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    let target =
        target_values(targets, classes, on_target, off_target).reshape([batch, 1, classes]);
    let error = membrane - target;
    Ok((error.clone() * error).mean())
}

/// snnTorch `l1_rate_sparsity(Lambda=1e-5)`: `λ · Σ spikes` over everything.
pub fn l1_rate_sparsity<const D: usize>(spikes: Tensor<D>, lambda: f64) -> Tensor<1> {
    spikes.sum() * lambda
}

/// snnTorch `accuracy_rate(spk_out, targets, population_code, num_classes)`: the class with the
/// most spikes is the prediction.
pub fn accuracy_rate(
    spikes: Tensor<3>,
    targets: Tensor<1, Int>,
    population_classes: Option<usize>,
    time_axis: usize,
) -> Result<f64> {
    const CONTEXT: &str = "accuracy_rate";
    let spikes = batch_major(spikes, time_axis, CONTEXT)?;
    let scores = counts(spikes, population_classes, CONTEXT)?;
    let [batch, classes] = scores.dims();
    check_targets(&targets, batch, classes, CONTEXT)?;
    Ok(crate::accuracy(scores, targets))
}

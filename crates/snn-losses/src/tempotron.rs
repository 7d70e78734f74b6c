//! The Tempotron's MSE loss (Gütig & Sompolinsky 2006; SpikingJelly `Tempotron.mse_loss`).

use burn::prelude::*;

use crate::error::Result;
use crate::trace::{check_targets, smooth_one_hot};

/// SpikingJelly `Tempotron.mse_loss(v_max, v_threshold, label, num_classes)`: for every output
/// whose decision is wrong (it fired, `v_max ≥ threshold`, but is not the label's, or the
/// reverse), the squared distance of its maximal potential to the threshold, summed and divided
/// by the batch size: `Σ ((v_max − θ)·wrong)² / batch`. `v_max` is `[batch, classes]`.
pub fn tempotron_mse_loss(
    v_max: Tensor<2>,
    threshold: f64,
    targets: Tensor<1, Int>,
) -> Result<Tensor<1>> {
    let [batch, classes] = v_max.dims();
    check_targets(&targets, batch, classes, "tempotron_mse_loss")?;
    let fired = v_max.clone().detach().greater_equal_elem(threshold).float();
    let wanted = smooth_one_hot(targets, classes, 0.0);
    let wrong = (fired - wanted).abs();
    let error = (v_max - threshold) * wrong;
    Ok((error.clone() * error).sum() / batch as f64)
}

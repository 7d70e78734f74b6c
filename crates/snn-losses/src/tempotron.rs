//! The Tempotron's MSE loss (Gütig & Sompolinsky 2006; SpikingJelly `Tempotron.mse_loss`).

use burn::prelude::*;

use crate::error::Result;
use crate::trace::{check_targets, smooth_one_hot};

/// SpikingJelly `Tempotron.mse_loss(v_max, v_threshold, label, num_classes)`: for every output
/// whose decision is wrong (it fired, `v_max ≥ threshold`, but is not the label's, or the
/// reverse), the squared distance of its maximal potential to the threshold, summed and divided
/// by the batch size: `Σ ((v_max − θ)·wrong)² / batch`. `v_max` is `[batch, classes]`. One
/// threshold for every output; [`tempotron_mse_loss_per_class`] takes one per output.
pub fn tempotron_mse_loss(
    v_max: Tensor<2>,
    threshold: f64,
    targets: Tensor<1, Int>,
) -> Result<Tensor<1>> {
    let [_, classes] = v_max.dims();
    let thresholds = Tensor::<1>::full([classes], threshold, &v_max.device());
    tempotron_mse_loss_per_class(v_max, thresholds, targets)
}

/// [`tempotron_mse_loss`] with one threshold per output, `thresholds` `[classes]` (SpikingJelly
/// accepts a tensor `v_threshold`, broadcast against `v_max`'s last axis; the thresholds are
/// constants here, as there). A `thresholds` of another length is a [`LossError::Shape`].
///
/// [`LossError::Shape`]: crate::LossError::Shape
pub fn tempotron_mse_loss_per_class(
    v_max: Tensor<2>,
    thresholds: Tensor<1>,
    targets: Tensor<1, Int>,
) -> Result<Tensor<1>> {
    const CONTEXT: &str = "tempotron_mse_loss";
    let [batch, classes] = v_max.dims();
    if thresholds.dims() != [classes] {
        return Err(crate::LossError::Shape {
            context: CONTEXT,
            expected: format!("thresholds [{classes}] (one per output)"),
            actual: thresholds.dims().to_vec(),
        });
    }
    check_targets(&targets, batch, classes, CONTEXT)?;
    let theta = thresholds.detach().reshape([1, classes]);
    let fired = v_max.clone().detach().greater_equal(theta.clone()).float();
    let wanted = smooth_one_hot(targets, classes, 0.0);
    let wrong = (fired - wanted).abs();
    let error = (v_max - theta) * wrong;
    Ok((error.clone() * error).sum() / batch as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_class_thresholds_by_hand() {
        let device = Device::flex();
        // two samples, three outputs
        let v_max = Tensor::<2>::from_floats([[1.2, 0.4, 0.9], [0.2, 1.5, 0.7]], &device);
        let targets = Tensor::<1, Int>::from_ints([0, 2], &device);
        let thresholds = Tensor::<1>::from_floats([1.0, 1.0, 0.8], &device);
        let loss = tempotron_mse_loss_per_class(v_max.clone(), thresholds, targets.clone())
            .unwrap()
            .into_scalar::<f32>();
        // sample 0: output 0 fired (label, right), 1 silent (right), 2 fired at 0.9 ≥ 0.8 (wrong):
        // (0.9 − 0.8)²; sample 1: output 1 fired (wrong): (1.5 − 1)², output 2 silent at
        // 0.7 < 0.8 but is the label (wrong): (0.7 − 0.8)²
        let want = (0.1f32.powi(2) + 0.5f32.powi(2) + 0.1f32.powi(2)) / 2.0;
        assert!((loss - want).abs() < 1e-6, "{loss} vs {want}");
        // one threshold for all: output 2 of sample 0 (0.9 < 1) is silent, so right
        let scalar = tempotron_mse_loss(v_max.clone(), 1.0, targets.clone())
            .unwrap()
            .into_scalar::<f32>();
        let want = (0.5f32.powi(2) + 0.3f32.powi(2)) / 2.0;
        assert!((scalar - want).abs() < 1e-6, "{scalar} vs {want}");
        // a threshold per output of the wrong length is a typed error
        let two = Tensor::<1>::from_floats([1.0, 1.0], &device);
        assert!(matches!(
            tempotron_mse_loss_per_class(v_max, two, targets),
            Err(crate::LossError::Shape { .. })
        ));
    }
}

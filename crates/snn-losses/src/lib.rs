//! # snn-losses
//!
//! Readout losses and accuracy for spiking networks. Sequences are batch-major
//! (`[batch, time, classes]`, time axis 1), as everywhere in burn-snn.
//!
//! ```
//! use burn::prelude::*;
//! use snn_losses::{max_over_time, accuracy};
//!
//! let device = Device::flex();
//! // readout membrane of 2 samples, 3 steps, 2 classes
//! let v = Tensor::<3>::from_floats(
//!     [[[0.1, 0.0], [0.5, 0.2], [0.3, 0.1]], [[0.0, 0.4], [0.1, 0.2], [0.0, 0.9]]],
//!     &device,
//! );
//! let logits = max_over_time(v);                       // [2, 2]
//! let targets = Tensor::<1, Int>::from_ints([0, 0], &device);
//! assert_eq!(accuracy(logits, targets), 0.5);
//! ```

use burn::nn::loss::CrossEntropyLossConfig;
use burn::prelude::*;

/// The maximum over time of a readout trace: `[batch, time, classes] -> [batch, classes]`
/// (snnTorch's `ce_max_membrane_loss` reduction). The gradient flows to the maximal step.
pub fn max_over_time(trace: Tensor<3>) -> Tensor<2> {
    let [batch, _, classes] = trace.dims();
    trace.max_dim(1).reshape([batch, classes])
}

/// The mean over time of a readout trace: `[batch, time, classes] -> [batch, classes]`
/// (snnTorch's `ce_rate_loss` reduction on spikes, Spyx's `integral` readouts up to a factor).
pub fn mean_over_time(trace: Tensor<3>) -> Tensor<2> {
    let [batch, _, classes] = trace.dims();
    trace.mean_dim(1).reshape([batch, classes])
}

/// Cross-entropy of the maximum readout membrane over time (snnTorch `ce_max_membrane_loss`):
/// `trace` `[batch, time, classes]`, `targets` class indices `[batch]`. Returns a `[1]` tensor.
pub fn max_membrane_cross_entropy(trace: Tensor<3>, targets: Tensor<1, Int>) -> Tensor<1> {
    let logits = max_over_time(trace);
    CrossEntropyLossConfig::new()
        .init(&logits.device())
        .forward(logits, targets)
}

/// Fraction of rows of `logits` (`[batch, classes]`) whose arg-max is the target (`[batch]`).
pub fn accuracy(logits: Tensor<2>, targets: Tensor<1, Int>) -> f64 {
    let batch = targets.dims()[0];
    if batch == 0 {
        return 0.0;
    }
    let predicted = logits.argmax(1).reshape([batch]);
    let correct = predicted.equal(targets).int().sum().into_scalar::<i64>();
    correct as f64 / batch as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_membrane_cross_entropy_matches_the_formula() {
        let device = Device::flex();
        let v = Tensor::<3>::from_floats([[[0.0, 1.0], [2.0, 0.5]]], &device);
        let loss = max_membrane_cross_entropy(v, Tensor::<1, Int>::from_ints([0], &device))
            .into_scalar::<f32>();
        // logits [2, 1]: -log(e^2 / (e^2 + e^1))
        let want = -(2f64.exp() / (2f64.exp() + 1f64.exp())).ln();
        assert!((f64::from(loss) - want).abs() < 1e-6, "{loss} vs {want}");
    }

    #[test]
    fn mean_over_time_averages_the_time_axis() {
        let device = Device::flex();
        let v = Tensor::<3>::from_floats([[[1.0, 0.0], [0.0, 0.0], [0.5, 3.0]]], &device);
        let m = mean_over_time(v).into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(m, vec![0.5, 1.0]);
    }
}

//! # snn-losses
//!
//! How spikes and membrane traces become a training signal: the losses, regularizers and
//! accuracies of Spyx ([`spyx`]), snnTorch ([`snntorch`]) and Norse ([`norse`]), the Tempotron's
//! loss ([`tempotron`]), mlGeNN-style [`Readout`]s, and [`ClassificationLoss`], one serializable
//! choice among them for training configs.
//!
//! Traces are batch-major `[batch, time, classes]`; every function taking a trace has a
//! `time_axis` argument (1 for that layout, 0 for the time-major layout of snnTorch and Norse).
//! Bad input (labels out of range, a batch mismatch, a time axis beyond the rank, a parameter
//! outside its range) gives a [`LossError`].
//!
//! ```
//! use burn::prelude::*;
//! use snn_losses::{accuracy, spyx};
//!
//! # fn main() -> Result<(), snn_losses::LossError> {
//! let device = Device::flex();
//! // output traces of 2 samples, 3 steps, 2 classes
//! let traces = Tensor::<3>::from_floats(
//!     [[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [[0.0, 1.0], [0.0, 0.0], [0.0, 1.0]]],
//!     &device,
//! );
//! let targets = Tensor::<1, Int>::from_ints([0, 1], &device);
//! let loss = spyx::integral_crossentropy(traces.clone(), targets.clone(), 0.3, 1)?;
//! let (acc, _predictions) = spyx::integral_accuracy(traces, targets, 1)?;
//! assert_eq!(acc, 1.0);
//! assert!(loss.into_scalar::<f32>() > 0.0);
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

pub mod classification;
pub mod error;
pub mod norse;
pub mod readout;
pub mod snntorch;
pub mod spyx;
pub mod tempotron;
pub mod trace;

pub use classification::ClassificationLoss;
pub use error::{LossError, Result};
pub use readout::Readout;
pub use tempotron::{tempotron_mse_loss, tempotron_mse_loss_per_class};

use burn::prelude::*;

/// Fraction of rows of `scores` (`[batch, classes]`) whose arg-max is the target (`[batch]`).
pub fn accuracy(scores: Tensor<2>, targets: Tensor<1, Int>) -> f64 {
    let batch = targets.dims()[0];
    if batch == 0 {
        return 0.0;
    }
    let predicted = scores.argmax(1).reshape([batch]);
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
        let loss = snntorch::ce_max_membrane_loss(v, Tensor::<1, Int>::from_ints([0], &device), 1)
            .unwrap()
            .into_scalar::<f32>();
        // logits [2, 1]: -log(e^2 / (e^2 + e^1))
        let want = -(2f64.exp() / (2f64.exp() + 1f64.exp())).ln();
        assert!((f64::from(loss) - want).abs() < 1e-6, "{loss} vs {want}");
    }

    #[test]
    fn readouts_by_hand() {
        let device = Device::flex();
        // [1 sample, 3 steps, 2 classes]
        let v = Tensor::<3>::from_floats([[[0.0, 1.0], [1.0, 0.0], [0.5, 1.0]]], &device);
        let scores = |r: Readout| {
            r.scores(v.clone(), 1)
                .unwrap()
                .into_data()
                .try_to_vec::<f32>()
                .unwrap()
        };
        assert_eq!(scores(Readout::SpikeCount), vec![1.5, 2.0]);
        assert_eq!(scores(Readout::MeanOverTime), vec![0.5, 2.0 / 3.0]);
        assert_eq!(scores(Readout::MaxOverTime), vec![1.0, 1.0]);
        assert_eq!(scores(Readout::FinalValue), vec![0.5, 1.0]);
        // first value > 0.5: class 0 at step 1, class 1 at step 0
        assert_eq!(scores(Readout::FirstSpikeTime), vec![-1.0, 0.0]);
        let silent = Tensor::<3>::zeros([1, 4, 1], &device);
        let s = Readout::FirstSpikeTime
            .scores(silent, 1)
            .unwrap()
            .into_scalar::<f32>();
        assert_eq!(s, -4.0);
        // time-major input gives the same as batch-major
        let time_major = Readout::SpikeCount
            .scores(v.clone().swap_dims(0, 1), 0)
            .unwrap();
        assert_eq!(
            time_major.into_data().try_to_vec::<f32>().unwrap(),
            vec![1.5, 2.0]
        );
    }

    #[test]
    fn huber_norm_by_hand() {
        let device = Device::flex();
        let e = Tensor::<1>::from_floats([0.5, -0.5, 2.0, -3.0], &device);
        let h = spyx::Norm::default()
            .apply(e)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(h, vec![0.125, 0.125, 1.5, 2.5]);
    }

    #[test]
    fn snntorch_mse_count_truncates_targets() {
        let device = Device::flex();
        // 3 steps, correct_rate 0.5 -> target count trunc(1.5) = 1
        let spikes = Tensor::<3>::from_floats([[[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]], &device);
        let loss = snntorch::mse_count_loss(
            spikes,
            Tensor::<1, Int>::from_ints([0], &device),
            0.5,
            0.0,
            None,
            1,
        )
        .unwrap()
        .into_scalar::<f32>();
        // counts [2, 1], targets [1, 0]: mean((1, 1)^2) / 3
        assert!((loss - 1.0 / 3.0).abs() < 1e-6, "{loss}");
    }
}

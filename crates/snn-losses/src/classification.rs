//! One serializable choice of classification loss, for training configs and burn's `Learner`.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::readout::Readout;
use crate::{snntorch, spyx};

/// A classification loss over an output trace `[batch, time, classes]` (time axis 1), and the
/// readout whose arg-max is the prediction (what an accuracy metric should see).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum ClassificationLoss {
    /// snnTorch `ce_max_membrane_loss`; scores: max over time. The default.
    #[default]
    MaxMembraneCrossEntropy,
    /// Spyx `integral_crossentropy(smoothing)`; scores: sum over time.
    IntegralCrossEntropy {
        /// Label smoothing in `[0, 1)` (Spyx default 0.3).
        smoothing: f64,
    },
    /// snnTorch `ce_count_loss`; scores: spike count.
    CountCrossEntropy,
    /// snnTorch `ce_rate_loss`; scores: spike count.
    RateCrossEntropy,
    /// snnTorch `mse_count_loss(correct_rate, incorrect_rate)`; scores: spike count.
    MseCount {
        /// Target firing rate of the label's output (snnTorch default 1).
        correct_rate: f64,
        /// Target firing rate of the others (default 0).
        incorrect_rate: f64,
    },
    /// Spyx `mse_spikerate(sparsity, smoothing)`; scores: mean over time.
    MseSpikeRate {
        /// Target rate scale (Spyx default 0.25).
        sparsity: f64,
        /// Label smoothing in `[0, 1)` (default 0).
        smoothing: f64,
    },
    /// snnTorch `mse_membrane_loss(on_target, off_target)`; scores: mean over time.
    MseMembrane {
        /// Target membrane of the label's output (default 1).
        on_target: f64,
        /// Target membrane of the others (default 0).
        off_target: f64,
    },
}

impl ClassificationLoss {
    /// The loss of `trace` (`[batch, time, classes]`) against class indices `targets`, `[1]`.
    pub fn loss(&self, trace: Tensor<3>, targets: Tensor<1, Int>) -> Result<Tensor<1>> {
        match *self {
            Self::MaxMembraneCrossEntropy => snntorch::ce_max_membrane_loss(trace, targets, 1),
            Self::IntegralCrossEntropy { smoothing } => {
                spyx::integral_crossentropy(trace, targets, smoothing, 1)
            }
            Self::CountCrossEntropy => snntorch::ce_count_loss(trace, targets, None, 1),
            Self::RateCrossEntropy => snntorch::ce_rate_loss(trace, targets, 1),
            Self::MseCount {
                correct_rate,
                incorrect_rate,
            } => snntorch::mse_count_loss(trace, targets, correct_rate, incorrect_rate, None, 1),
            Self::MseSpikeRate {
                sparsity,
                smoothing,
            } => spyx::mse_spikerate(trace, targets, sparsity, smoothing, 1),
            Self::MseMembrane {
                on_target,
                off_target,
            } => snntorch::mse_membrane_loss(trace, targets, on_target, off_target, 1),
        }
    }

    /// The readout the loss scores classes by.
    pub fn readout(&self) -> Readout {
        match self {
            Self::MaxMembraneCrossEntropy => Readout::MaxOverTime,
            Self::IntegralCrossEntropy { .. }
            | Self::CountCrossEntropy
            | Self::RateCrossEntropy
            | Self::MseCount { .. } => Readout::SpikeCount,
            Self::MseSpikeRate { .. } | Self::MseMembrane { .. } => Readout::MeanOverTime,
        }
    }

    /// Class scores `[batch, classes]` of `trace` by [`ClassificationLoss::readout`].
    pub fn scores(&self, trace: Tensor<3>) -> Tensor<2> {
        match self.readout().scores(trace, 1) {
            Ok(scores) => scores,
            // time axis 1 always exists in a rank-3 trace
            Err(e) => unreachable!("{e}"),
        }
    }
}

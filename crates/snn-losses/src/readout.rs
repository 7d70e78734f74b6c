//! Readouts that turn an output layer's trace into class scores, as mlGeNN's readouts do.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::trace::{Over, batch_major, over_time};

/// How a trace `[batch, time, classes]` becomes scores `[batch, classes]` (mlGeNN's readouts).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Readout {
    /// Number of spikes over time (mlGeNN `SpikeCount`).
    SpikeCount,
    /// The value at the last step (mlGeNN `Var`).
    FinalValue,
    /// The mean over time (mlGeNN `AvgVar`).
    MeanOverTime,
    /// The maximum over time (mlGeNN `MaxVar`, SpyTorch's readout).
    MaxOverTime,
    /// Minus the step of the first spike (`> 0.5`), `−T` for a silent output: the earliest spike
    /// scores highest (mlGeNN `FirstSpikeTime`). Piecewise constant: no useful gradient.
    FirstSpikeTime,
}

impl Readout {
    /// Scores `[batch, classes]` of `trace`, whose time axis is `time_axis`.
    pub fn scores(&self, trace: Tensor<3>, time_axis: usize) -> Result<Tensor<2>> {
        let trace = batch_major(trace, time_axis, "Readout::scores")?;
        Ok(match self {
            Self::SpikeCount => over_time(trace, Over::Sum),
            Self::MeanOverTime => over_time(trace, Over::Mean),
            Self::MaxOverTime => over_time(trace, Over::Max),
            Self::FinalValue => {
                let [batch, time, classes] = trace.dims();
                trace
                    .slice([0..batch, time - 1..time, 0..classes])
                    .reshape([batch, classes])
            }
            Self::FirstSpikeTime => {
                let [batch, time, classes] = trace.dims();
                let device = trace.device();
                let steps = Tensor::<1, Int>::arange(0..time as i64, &device)
                    .float()
                    .reshape([1, time, 1])
                    .expand([batch, time, classes]);
                let never = Tensor::<3>::full([batch, time, classes], time as f64, &device);
                let fired = trace.detach().greater_elem(0.5);
                never
                    .mask_where(fired, steps)
                    .min_dim(1)
                    .reshape([batch, classes])
                    .neg()
            }
        })
    }
}

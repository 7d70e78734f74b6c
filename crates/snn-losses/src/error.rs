//! The error type of `snn-losses`.

use thiserror::Error;

/// What a loss or readout rejects. Each variant names the argument and the bad value or shapes.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LossError {
    /// `time_axis` does not name an axis of the trace.
    #[error("{context}: time_axis {time_axis} is beyond the rank {rank} of the trace {shape:?}")]
    TimeAxis {
        /// The function.
        context: &'static str,
        /// The axis given.
        time_axis: usize,
        /// The trace's rank.
        rank: usize,
        /// The trace's shape.
        shape: Vec<usize>,
    },
    /// The targets do not have one entry per sample.
    #[error("{context}: {batch} samples in the trace but {targets} targets")]
    BatchMismatch {
        /// The function.
        context: &'static str,
        /// Samples in the trace.
        batch: usize,
        /// Targets given.
        targets: usize,
    },
    /// A class label outside `0..classes`.
    #[error("{context}: label {label} at position {index} is outside 0..{classes}")]
    LabelOutOfRange {
        /// The function.
        context: &'static str,
        /// The bad label.
        label: i64,
        /// Its position in the targets.
        index: usize,
        /// The number of classes.
        classes: usize,
    },
    /// A parameter outside its allowed range (smoothing outside [0, 1), a negative rate...).
    #[error("{context}: `{field}` must lie in {allowed}, got {value}")]
    OutOfRange {
        /// The function.
        context: &'static str,
        /// The parameter.
        field: &'static str,
        /// The allowed range, written out.
        allowed: &'static str,
        /// The value given.
        value: f64,
    },
    /// A trace of the wrong shape (e.g. outputs not divisible into population groups).
    #[error("{context}: expected {expected}, got shape {actual:?}")]
    Shape {
        /// The function.
        context: &'static str,
        /// What was expected, written out.
        expected: String,
        /// The shape given.
        actual: Vec<usize>,
    },
}

/// `Result` with [`LossError`].
pub type Result<T> = core::result::Result<T, LossError>;

/// Checks that `value` lies in `[lo, hi)` (or `[lo, hi]` when `hi_inclusive`).
pub(crate) fn in_range(
    context: &'static str,
    field: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    hi_inclusive: bool,
    allowed: &'static str,
) -> Result<f64> {
    let ok = value >= lo && (value < hi || (hi_inclusive && value == hi));
    if ok {
        Ok(value)
    } else {
        Err(LossError::OutOfRange {
            context,
            field,
            allowed,
            value,
        })
    }
}

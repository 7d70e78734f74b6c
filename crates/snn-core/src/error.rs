//! The error type of `snn-core`.

use thiserror::Error;

/// What can go wrong when building or running a layer of `snn-core`.
///
/// Every variant names the offending field or the expected and actual shapes, so that a bad
/// configuration or input is reported where the user made it, not deep inside a backend.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SnnError {
    /// A quantity that must be strictly positive and finite (a time constant, a time step, a
    /// surrogate slope) is not.
    #[error("`{field}` must be finite and greater than 0, got {value}")]
    NotPositive {
        /// The config field, e.g. `tau_mem_ms`.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A quantity that must be finite (a threshold, a reset or leak potential) is NaN or infinite.
    #[error("`{field}` must be finite, got {value}")]
    NotFinite {
        /// The config field, e.g. `threshold`.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// A value lies outside the interval its definition allows.
    #[error("`{field}` must lie in {allowed}, got {value}")]
    OutOfRange {
        /// The field or argument, e.g. `beta`.
        field: &'static str,
        /// The allowed interval, written out.
        allowed: &'static str,
        /// The value given.
        value: f64,
    },
    /// A layer size of zero.
    #[error("`{field}` must be at least 1, got 0")]
    ZeroSize {
        /// The config field, e.g. `size`.
        field: &'static str,
    },
    /// Forward-Euler with a step longer than the time constant overshoots the resting potential
    /// and oscillates: the result would be silently wrong.
    #[error(
        "forward-Euler integration needs dt_ms <= {field}, got dt_ms = {dt_ms} and {field} = {tau_ms}; \
         use a smaller dt_ms or `Discretization::ExactDecay`"
    )]
    UnstableEuler {
        /// The time-constant field, e.g. `tau_mem_ms`.
        field: &'static str,
        /// The step in ms.
        dt_ms: f64,
        /// The time constant in ms.
        tau_ms: f64,
    },
    /// A tensor of the wrong rank reached a layer.
    #[error("{context}: expected a tensor of rank {expected}, got rank {actual} (shape {shape:?})")]
    RankMismatch {
        /// The entry point and argument, e.g. `Lif::forward input`.
        context: &'static str,
        /// The rank (or ranks) expected, written out, e.g. `>= 3`.
        expected: &'static str,
        /// The rank given.
        actual: usize,
        /// The shape given.
        shape: Vec<usize>,
    },
    /// A recorded input event lies outside what the input declares (a time beyond the window,
    /// a neuron id beyond the population).
    #[error("{context}: event {index} has {what} {value}, outside {allowed}")]
    EventOutOfRange {
        /// The entry point, e.g. `SpikeEventInput::dense`.
        context: &'static str,
        /// Which event (its position in the input).
        index: usize,
        /// The bad field, e.g. `time` or `neuron id`.
        what: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range, written out, e.g. `0..100`.
        allowed: String,
    },
    /// More spikes than a declared budget.
    #[error("{context}: {count} spikes exceed the budget max_spikes = {max_spikes}")]
    TooManySpikes {
        /// The entry point.
        context: &'static str,
        /// Spikes given.
        count: usize,
        /// The budget.
        max_spikes: usize,
    },
    /// A tensor of the wrong shape reached a layer.
    #[error("{context}: expected shape {expected}, got {actual:?}")]
    ShapeMismatch {
        /// The entry point and argument, e.g. `Lif::step input`.
        context: &'static str,
        /// The shape expected, written out, e.g. `[batch, time, 128]`.
        expected: String,
        /// The shape given.
        actual: Vec<usize>,
    },
    /// A name (a preset, a model) that is not one of the known ones, e.g. from a config file.
    #[error("unknown {what} `{name}`; known: {known}")]
    UnknownName {
        /// What was looked up, e.g. `Izhikevich preset`.
        what: &'static str,
        /// The name given.
        name: String,
        /// The known names, comma-separated.
        known: String,
    },
    /// A parameter combination that the model's equations do not allow (e.g. a refractory period
    /// shorter than the time step where the model needs at least one step).
    #[error("`{field}` = {value} is invalid: {reason}")]
    Invalid {
        /// The config field.
        field: &'static str,
        /// The value given.
        value: f64,
        /// Why, written out.
        reason: String,
    },
    /// A setting or input that is wrong in a way no single number describes (a duplicate name,
    /// an input given twice, offsets that do not cover the events).
    #[error("`{field}` is invalid: {reason}")]
    Rejected {
        /// The setting or argument.
        field: &'static str,
        /// Why, written out.
        reason: String,
    },
}

impl SnnError {
    /// Shorthand for [`SnnError::OutOfRange`].
    pub(crate) fn out_of_range(field: &'static str, allowed: &'static str, value: f64) -> Self {
        Self::OutOfRange {
            field,
            allowed,
            value,
        }
    }
}

/// `Result` with [`SnnError`].
pub type Result<T> = core::result::Result<T, SnnError>;

/// Checks that `value` is finite and `> 0`.
pub fn positive(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(SnnError::NotPositive { field, value })
    }
}

/// Checks a time constant integrated by forward Euler with step `dt_ms`: finite, `> 0`, and at
/// least `dt_ms` (beyond it the decay factor `1 − dt/τ` is negative and the state oscillates).
pub(crate) fn euler_time_constant(field: &'static str, tau_ms: f64, dt_ms: f64) -> Result<f64> {
    let tau = positive(field, tau_ms)?;
    if dt_ms > tau {
        return Err(SnnError::UnstableEuler {
            field,
            dt_ms,
            tau_ms: tau,
        });
    }
    Ok(tau)
}

/// Checks that `value` is finite.
pub fn finite(field: &'static str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(SnnError::NotFinite { field, value })
    }
}

/// Checks that a size is at least 1.
pub fn nonzero(field: &'static str, value: usize) -> Result<usize> {
    if value == 0 {
        Err(SnnError::ZeroSize { field })
    } else {
        Ok(value)
    }
}

//! The per-epoch metric values of a run: what `report.json` lists and the curves plot. A leaf
//! module, so that the report and the plots both read it without importing each other.

use std::collections::BTreeMap;

use serde::Serialize;

/// One epoch's end-of-epoch metric values by name (`Loss`, `Accuracy`, `Firing rate hidden`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EpochMetrics {
    /// The epoch, counting from 1.
    pub epoch: usize,
    /// Training split metrics by name: `Loss`, `Accuracy` (a fraction, 0 to 1, like every rate
    /// of the report; burn logs it in percent), `Firing rate hidden` (spikes per neuron and
    /// step).
    pub train: BTreeMap<String, f64>,
    /// Validation split metrics (the split carved from the training data; never the test split).
    pub valid: BTreeMap<String, f64>,
}

//! The per-epoch metric values of a run: what `report.json` lists and the curves plot. A leaf
//! module, so that the report and the plots both read it without importing each other.

use std::collections::BTreeMap;

use serde::Serialize;

/// One epoch's end-of-epoch metric values by name (`Loss`, `Accuracy`, `Firing rate hidden`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EpochMetrics {
    /// The epoch, counting from 1.
    pub epoch: usize,
    /// Training split metrics (accuracy in percent, as burn reports it).
    pub train: BTreeMap<String, f64>,
    /// Validation split metrics (the split carved from the training data; never the test split).
    pub valid: BTreeMap<String, f64>,
}

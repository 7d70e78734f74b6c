//! The JSON report of a training run: the metrics of every epoch and the held-out accuracy.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use crate::error::TrainError;
use crate::train::TrainConfig;

/// One epoch's end-of-epoch metric values by name (`Loss`, `Accuracy`, `Firing rate hidden`).
#[derive(Clone, Debug, Default, Serialize)]
pub struct EpochMetrics {
    /// The epoch, counting from 1.
    pub epoch: usize,
    /// Training split metrics (accuracy in percent, as burn reports it).
    pub train: BTreeMap<String, f64>,
    /// Validation (held-out) split metrics.
    pub valid: BTreeMap<String, f64>,
}

/// What `report.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    /// The device the run trained on.
    pub backend: String,
    /// The epoch the run resumed after (0: a fresh run).
    pub resumed_after_epoch: usize,
    /// Every epoch's metrics, those of the run it resumed included.
    pub epochs: Vec<EpochMetrics>,
    /// Accuracy on the held-out split after the last epoch, 0 to 1.
    pub test_accuracy: f64,
    /// Held-out samples.
    pub test_samples: usize,
    /// Wall time of this run's training, seconds.
    pub seconds: f64,
    /// The settings of the run.
    pub config: TrainConfig,
}

/// Reads the end-of-epoch values burn's metric logger wrote to
/// `dir/{train,valid}/epoch-<k>/<metric>.log` (the line tagged `final`) for epochs `1..=epochs`.
pub fn epoch_metrics(dir: &Path, epochs: usize) -> crate::Result<Vec<EpochMetrics>> {
    let mut out = Vec::new();
    for epoch in 1..=epochs {
        let mut metrics = EpochMetrics {
            epoch,
            ..Default::default()
        };
        for (split, values) in [("train", &mut metrics.train), ("valid", &mut metrics.valid)] {
            let folder = dir.join(split).join(format!("epoch-{epoch}"));
            let Ok(entries) = std::fs::read_dir(&folder) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let (Some(name), Some("log")) = (
                    path.file_stem().map(|s| s.to_string_lossy().into_owned()),
                    path.extension().and_then(|e| e.to_str()),
                ) else {
                    continue;
                };
                let text = std::fs::read_to_string(&path).map_err(|source| TrainError::Io {
                    path: path.clone(),
                    source,
                })?;
                let last_final = text
                    .lines()
                    .filter_map(|l| l.strip_suffix(",final"))
                    .filter_map(|v| v.parse::<f64>().ok())
                    .next_back();
                if let Some(value) = last_final {
                    // burn's logger writes `Firing rate hidden` as `Firing_rate_hidden.log`
                    values.insert(name.replace('_', " "), value);
                }
            }
        }
        out.push(metrics);
    }
    Ok(out)
}

/// Writes `value` as pretty JSON to `path`, through a temporary file renamed into place so that
/// an interrupted write never leaves a truncated report.
pub fn write_json(path: &Path, value: &impl Serialize) -> crate::Result<()> {
    let io = |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    };
    let text = serde_json::to_string_pretty(value).map_err(|e| io(std::io::Error::other(e)))?;
    let partial = path.with_extension("json.partial");
    std::fs::write(&partial, text).map_err(io)?;
    std::fs::rename(&partial, path).map_err(io)
}

//! The JSON report of a training run: the metrics of every epoch on the training and validation
//! splits, and the accuracy on the test split, evaluated once after training.

use std::path::Path;

use serde::Serialize;

use crate::config::TrainConfig;
use crate::error::TrainError;
pub use crate::history::EpochMetrics;

/// The number of samples in each split of a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SplitSizes {
    /// Samples the weights learn from.
    pub train: usize,
    /// Samples of the validation split (per-epoch metrics, curves).
    pub valid: usize,
    /// Samples of the test split (evaluated once, after training).
    pub test: usize,
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
    /// The number of samples in each split: `train` (what the weights learn from), `valid`
    /// (the per-epoch metrics' validation split, carved from the training data) and `test`
    /// (held out, evaluated once after the last epoch).
    pub splits: SplitSizes,
    /// Accuracy on the validation split after the last epoch, 0 to 1.
    pub valid_accuracy: f64,
    /// Accuracy on the test split after the last epoch, 0 to 1: the run's result.
    pub test_accuracy: f64,
    /// Test samples.
    pub test_samples: usize,
    /// Wall time of this run's training, seconds.
    pub seconds: f64,
    /// The settings of the run.
    pub config: TrainConfig,
}

/// Reads the end-of-epoch values burn's metric logger wrote to
/// `dir/{train,valid}/epoch-<k>/<metric>.log` (`dir`: the run's learner folder) (the line tagged `final`) for epochs `1..=epochs`.
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
                    let name = name.replace('_', " ");
                    // burn logs accuracy in percent; the report keeps every rate a fraction
                    let value = if name == "Accuracy" {
                        value / 100.0
                    } else {
                        value
                    };
                    values.insert(name, value);
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
    write_atomic(path, text.as_bytes())
}

/// Writes `bytes` to `path` atomically ([`write_atomically`]); the temporary file is created new,
/// never over an existing one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> crate::Result<()> {
    use std::io::Write as _;
    write_atomically(path, |partial| {
        let io = |source| TrainError::Io {
            path: partial.to_path_buf(),
            source,
        };
        let mut file = std::fs::File::create_new(partial).map_err(io)?;
        file.write_all(bytes).map_err(io)
    })
}

/// Writes `path` through a temporary file beside it ([`partial_path`]): `write` fills the
/// temporary file, which is then synced and renamed into place, so a reader sees the old file
/// or the new one, never a part. Every output of a run is written this way.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&Path) -> crate::Result<()>,
) -> crate::Result<()> {
    let io = |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    };
    let partial = partial_path(path);
    write(&partial)?;
    std::fs::File::open(&partial)
        .and_then(|file| file.sync_all())
        .map_err(io)?;
    std::fs::rename(&partial, path).map_err(io)
}

/// A temporary name beside `path` for an atomic write: `.<stem>.<pid>.partial<.ext>` (the
/// extension kept last, for writers that choose the format by it).
pub fn partial_path(path: &Path) -> std::path::PathBuf {
    let (prefix, suffix) = partial_affixes(path);
    path.with_file_name(format!("{prefix}{}{suffix}", std::process::id()))
}

/// The temporary names of `path` are `<prefix><pid><suffix>`: `(".<stem>.", ".partial<.ext>")`.
/// [`partial_path`] writes them, and a run folder recognizes a killed run's leftovers by them.
pub fn partial_affixes(path: &Path) -> (String, String) {
    let stem = path
        .file_stem()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    (format!(".{stem}."), format!(".partial{ext}"))
}

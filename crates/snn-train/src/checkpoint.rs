//! Finding the checkpoints a run can resume from.
//!
//! burn's default checkpointers write `checkpoint/{model,optim,scheduler}-<epoch>.bpk` after each
//! epoch. A run killed while writing them can leave an epoch with some files missing or cut
//! short; such an epoch is not complete and is never resumed from.

use std::path::{Path, PathBuf};

use burn::store::ModuleRecord;

use crate::error::TrainError;

/// The records every complete checkpoint has (the scheduler's too, when the run wrote any).
const RECORDS: [&str; 2] = ["model", "optim"];

fn file(dir: &Path, record: &str, epoch: usize) -> PathBuf {
    dir.join("checkpoint").join(format!("{record}-{epoch}.bpk"))
}

fn writes_scheduler(dir: &Path) -> bool {
    std::fs::read_dir(dir.join("checkpoint")).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("scheduler-"))
    })
}

/// Checks that the checkpoint after `epoch` is complete: every record file exists and the model
/// record loads.
pub fn check_complete(dir: &Path, epoch: usize) -> crate::Result<()> {
    let mut records = RECORDS.to_vec();
    if writes_scheduler(dir) {
        records.push("scheduler");
    }
    for record in records {
        let path = file(dir, record, epoch);
        if !path.is_file() {
            return Err(TrainError::Checkpoint {
                path,
                message: format!("no complete checkpoint for epoch {epoch}"),
            });
        }
    }
    let model = file(dir, "model", epoch);
    ModuleRecord::load(&model).map_err(|e| TrainError::Checkpoint {
        path: model.clone(),
        message: format!("unreadable (interrupted while writing?): {e:?}"),
    })?;
    Ok(())
}

/// The newest epoch with a complete checkpoint in `dir`, if any.
pub fn latest_complete(dir: &Path) -> Option<usize> {
    let entries = std::fs::read_dir(dir.join("checkpoint")).ok()?;
    let mut epochs: Vec<usize> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("model-")?
                .strip_suffix(".bpk")?
                .parse()
                .ok()
        })
        .collect();
    epochs.sort_unstable();
    epochs
        .into_iter()
        .rev()
        .find(|&epoch| check_complete(dir, epoch).is_ok())
}

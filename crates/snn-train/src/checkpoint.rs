//! Finding and checking the checkpoints a run can resume from.
//!
//! burn's default checkpointers write `learner/checkpoint/{model,optim,scheduler}-<epoch>.bpk`
//! (under [`LEARNER_DIR`]) after each epoch. A run killed while writing them
//! can leave an epoch with some files missing or cut short; such an epoch is not complete and is
//! never resumed from. Before a resume, the records are also checked against the model they are
//! loaded into ([`check_against`]): every tensor of the model record must have the model's name
//! and shape, and every optimizer state tensor the shape of its parameter, so that a record of
//! the wrong size is an error here and never reaches burn's loader or the fused Adam update.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use burn::module::Module;

use crate::error::TrainError;
use crate::model::SnnClassifier;

/// The sub-folder of a run folder that burn's learner writes into (checkpoints, metric logs,
/// `experiment.log`); the run creates and owns it ([`crate::run_folder`]).
pub const LEARNER_DIR: &str = "learner";

/// The records every complete checkpoint has (the scheduler's too, when the run wrote any).
const RECORDS: [&str; 2] = ["model", "optim"];

/// The folder of a run's checkpoints.
pub fn folder(dir: &Path) -> PathBuf {
    dir.join(LEARNER_DIR).join("checkpoint")
}

fn file(dir: &Path, record: &str, epoch: usize) -> PathBuf {
    folder(dir).join(format!("{record}-{epoch}.bpk"))
}

fn writes_scheduler(dir: &Path) -> bool {
    std::fs::read_dir(folder(dir)).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("scheduler-"))
    })
}

/// A tensor's name, shape and parameter id, as a burnpack file describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TensorInfo {
    name: String,
    shape: Vec<usize>,
    param_id: Option<u64>,
}

fn unreadable(path: &Path, message: String) -> TrainError {
    TrainError::Checkpoint {
        path: path.to_path_buf(),
        message,
    }
}

/// The tensors a burnpack file declares. burn-pack checks every tensor's byte range against the
/// file's length, so a record cut short is an error here, before any tensor is read.
fn tensors_of(path: &Path) -> crate::Result<Vec<TensorInfo>> {
    let cut_short = |e: burn_pack::Error| {
        unreadable(
            path,
            format!("unreadable (interrupted while writing?): {e:?}"),
        )
    };
    let reader = burn_pack::Reader::from_file_exact(path).map_err(cut_short)?;
    let tensors = reader.into_tensors().map_err(cut_short)?;
    Ok(tensors
        .into_iter()
        .map(|t| TensorInfo {
            name: t.name,
            shape: t.shape.to_vec(),
            param_id: t.param_id,
        })
        .collect())
}

/// Checks that the checkpoint after `epoch` is complete: every record file exists and its tensors
/// lie inside the file, and every optimizer state tensor has the shape of the model parameter it
/// belongs to.
pub fn check_complete(dir: &Path, epoch: usize) -> crate::Result<()> {
    let mut records = RECORDS.to_vec();
    if writes_scheduler(dir) {
        records.push("scheduler");
    }
    for record in &records {
        let path = file(dir, record, epoch);
        if !path.is_file() {
            return Err(TrainError::Checkpoint {
                path,
                message: format!("no complete checkpoint for epoch {epoch}"),
            });
        }
    }
    let model_path = file(dir, "model", epoch);
    let model = tensors_of(&model_path)?;
    let by_id: BTreeMap<u64, &TensorInfo> = model
        .iter()
        .filter_map(|t| Some((t.param_id?, t)))
        .collect();
    let optim_path = file(dir, "optim", epoch);
    for state in tensors_of(&optim_path)? {
        let Some(param) = state.param_id.and_then(|id| by_id.get(&id)) else {
            return Err(unreadable(
                &optim_path,
                format!(
                    "optimizer state `{}` belongs to no parameter of {}",
                    state.name,
                    model_path.display()
                ),
            ));
        };
        if state.shape != param.shape {
            return Err(unreadable(
                &optim_path,
                format!(
                    "optimizer state `{}` has shape {:?}, its parameter `{}` {:?}",
                    state.name, state.shape, param.name, param.shape
                ),
            ));
        }
    }
    if records.contains(&"scheduler") {
        tensors_of(&file(dir, "scheduler", epoch))?;
    }
    Ok(())
}

/// Checks that the model record after `epoch` fits `model`: the same tensors, by name, with the
/// same shapes. [`check_complete`] has checked the optimizer record against the model record.
pub fn check_against(dir: &Path, epoch: usize, model: &SnnClassifier) -> crate::Result<()> {
    let path = file(dir, "model", epoch);
    let stored: BTreeMap<String, Vec<usize>> = tensors_of(&path)?
        .into_iter()
        .map(|t| (t.name, t.shape))
        .collect();
    let bytes = model
        .clone()
        .into_record()
        .into_bytes()
        .map_err(|e| TrainError::Learner(format!("describing the model: {e:?}")))?;
    let reader = burn_pack::Reader::from_bytes(bytes)
        .map_err(|e| TrainError::Learner(format!("describing the model: {e:?}")))?;
    let wanted: BTreeMap<String, Vec<usize>> = reader
        .into_tensors()
        .map_err(|e| TrainError::Learner(format!("describing the model: {e:?}")))?
        .into_iter()
        .map(|t| (t.name, t.shape.to_vec()))
        .collect();
    for (name, shape) in &wanted {
        match stored.get(name) {
            Some(found) if found == shape => {}
            Some(found) => {
                return Err(unreadable(
                    &path,
                    format!("`{name}` has shape {found:?}, the model {shape:?}"),
                ));
            }
            None => return Err(unreadable(&path, format!("no tensor `{name}`"))),
        }
    }
    if let Some(extra) = stored.keys().find(|name| !wanted.contains_key(*name)) {
        return Err(unreadable(
            &path,
            format!("`{extra}` is not a tensor of the model"),
        ));
    }
    Ok(())
}

/// The newest epoch with a complete checkpoint in `dir`, if any.
pub fn latest_complete(dir: &Path) -> Option<usize> {
    let entries = std::fs::read_dir(folder(dir)).ok()?;
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

//! The error type of `snn-train`.

use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong when loading data or training.
#[derive(Debug, Error)]
pub enum TrainError {
    /// A dataset file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A dataset file is malformed.
    #[error("{path}, line {line}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A bad training or model setting.
    #[error("invalid setting `{field}`: {message}")]
    Setting {
        /// The setting, e.g. `epochs`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A layer rejected its configuration or input.
    #[error(transparent)]
    Snn(#[from] snn_core::SnnError),
    /// A checkpoint to resume from is missing, incomplete or unreadable.
    #[error("cannot resume from {path}: {message}")]
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// burn's training loop failed.
    #[error("training failed: {0}")]
    Learner(String),
}

/// `Result` with [`TrainError`].
pub type Result<T> = core::result::Result<T, TrainError>;

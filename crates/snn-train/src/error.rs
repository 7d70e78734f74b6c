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
    /// A resumed run's settings or data differ from the stored run's.
    #[error("cannot resume the run of {path}: it differs in {}", differences.join("; "))]
    ResumeMismatch {
        /// The stored run's manifest.
        path: PathBuf,
        /// One line per differing field: `field: stored X, now Y`.
        differences: Vec<String>,
    },
    /// An output folder that is not the run's to write (holds another run or foreign files).
    #[error("output folder {path} {message}")]
    Folder {
        /// The folder.
        path: PathBuf,
        /// What is in the way.
        message: String,
    },
    /// burn's training loop failed.
    #[error("training failed: {0}")]
    Learner(String),
    /// A file that should be HDF5 does not start with the HDF5 signature.
    #[error("{path} is not an HDF5 file")]
    NotHdf5 {
        /// The file.
        path: PathBuf,
    },
    /// A file is shorter than its own header says (a cut-off download or copy).
    #[error("{path} is truncated: {expected} bytes expected, {found} found")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// The length the format requires, in bytes.
        expected: u64,
        /// The actual length, in bytes.
        found: u64,
    },
    /// A dataset the format requires is absent.
    #[error("{path}: no dataset `{dataset}`")]
    MissingDataset {
        /// The file.
        path: PathBuf,
        /// The dataset's path inside the file, e.g. `spikes/times`.
        dataset: String,
    },
    /// A dataset has another element type or shape than the format requires.
    #[error("{path}: dataset `{dataset}` should be {expected}, found {found}")]
    WrongDtype {
        /// The file.
        path: PathBuf,
        /// The dataset's path inside the file.
        dataset: String,
        /// What the format requires, e.g. `a vlen sequence of f32`.
        expected: String,
        /// What the file holds.
        found: String,
    },
    /// The HDF5 structures of a file are corrupt (reported by the HDF5 reader).
    #[error("{path}: corrupt HDF5 data: {message}")]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// The reader's explanation.
        message: String,
    },
    /// Two arrays that must have one entry per event (or per sample) differ in length.
    #[error("{what}: {expected} entries expected, {found} found")]
    LengthMismatch {
        /// Where, e.g. `shd.h5, sample 3: spikes/units vs spikes/times`.
        what: String,
        /// The length required.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A class label is not below the number of classes.
    #[error("{what}: label {label} is not below the {classes} classes")]
    LabelOutOfRange {
        /// Where, e.g. `shd.h5, sample 3`.
        what: String,
        /// The label found.
        label: usize,
        /// The number of classes.
        classes: usize,
    },
    /// An event names a unit (input channel) beyond the declared number of units.
    #[error("{what}, event {event}: unit {unit} is not below the {units} units")]
    UnitOutOfRange {
        /// Where, e.g. `sample 3` or `shd.h5, sample 3`.
        what: String,
        /// Index of the event within its sample.
        event: usize,
        /// The unit id found.
        unit: u64,
        /// The declared number of units.
        units: usize,
    },
    /// An event time is negative or not finite.
    #[error("{what}, event {event}: invalid time {time}")]
    InvalidEventTime {
        /// Where, e.g. `sample 3`.
        what: String,
        /// Index of the event within its sample.
        event: usize,
        /// The time found, in the sample's unit.
        time: f64,
    },
    /// An event's pixel lies outside the sensor.
    #[error("{path}, event {event}: pixel ({x}, {y}) outside the {width}x{height} sensor")]
    CoordinateOutOfRange {
        /// The file.
        path: PathBuf,
        /// Index of the record within the file.
        event: usize,
        /// Column found.
        x: u16,
        /// Row found.
        y: u16,
        /// Sensor width.
        width: u16,
        /// Sensor height.
        height: u16,
    },
    /// A size read from a file exceeds what the file can hold or a documented cap: refused
    /// before anything of that size is allocated.
    #[error("{path}: {what} of {found} exceeds the limit of {cap}")]
    Limit {
        /// The file.
        path: PathBuf,
        /// What was too large, e.g. `decompressed digits` (bytes).
        what: String,
        /// The size found or declared.
        found: u64,
        /// The limit.
        cap: u64,
    },
    /// A figure could not be drawn or written (feature `plot`).
    #[cfg(feature = "plot")]
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
}

/// `Result` with [`TrainError`].
pub type Result<T> = core::result::Result<T, TrainError>;

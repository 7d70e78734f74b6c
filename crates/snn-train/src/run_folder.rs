//! Run folders: a run owns only what it writes.
//!
//! Every run writes a manifest, `run.json`, into its output folder: the configuration, the
//! identity of the data it trained on, and the list of files and folders it created. The manifest
//! is what makes the folder a run's:
//!
//! * a **fresh run** goes into a folder that does not exist or is empty. A folder that holds a
//!   previous run (a `run.json` of ours) needs [`RunOptions::overwrite`], which removes exactly the
//!   files that manifest lists (and then the folders it lists, once empty); a folder that holds
//!   anything else needs [`RunOptions::allow_foreign_files`], and even then nothing the run did
//!   not create is removed or written over;
//! * a **resumed run** compares the stored configuration and data identity with its own and
//!   refuses any difference but those in [`TrainConfig::RESUMABLE_CHANGES`] (recorded in the
//!   manifest's history).
//!
//! burn's learner writes its checkpoints and metric logs into [`LEARNER_DIR`], a sub-folder the
//! run creates and owns.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{RunOptions, TrainConfig};
use crate::error::TrainError;

/// The manifest's file name.
pub const MANIFEST: &str = "run.json";
pub use crate::checkpoint::LEARNER_DIR;
/// What the manifest's `format` field says.
pub const FORMAT: &str = "burn-snn run";
/// The manifest's version.
pub const VERSION: u32 = 1;
/// The largest run manifest read, in bytes (a run of thousands of epochs lists well under 1 MiB).
pub const MAX_MANIFEST_BYTES: u64 = 64 << 20;
/// The files a run writes at the top of its folder (besides [`LEARNER_DIR`]).
pub const OUTPUTS: [&str; 6] = [
    MANIFEST,
    "config.json",
    "report.json",
    "model.bpk",
    "curves.png",
    "curves.svg",
];

/// What data a run trained on, as far as a resume must be sure it is the same.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataIdentity {
    /// The dataset's name (a [`crate::config::DatasetKind`] name, or `events` for samples of
    /// the caller's own).
    pub dataset: String,
    /// The file or folder it was read from (absolute where it could be resolved); `None` for
    /// generated data and the digits built into the crate.
    pub source: Option<String>,
    /// The size of `source` in bytes (a folder: its files' sizes summed), if it is on disk.
    pub bytes: Option<u64>,
    /// Samples read (test files included).
    pub samples: usize,
    /// FNV-1a 64 of the samples as read (values and labels), as 16 hex digits: the same data
    /// gives the same hash on every machine, other data (almost surely) another.
    pub content_hash: String,
}

impl DataIdentity {
    /// The identity of `samples` of `dataset` read from `source` (`None`: generated or built in).
    pub fn new(dataset: &str, source: Option<&Path>, samples: usize, hash: u64) -> Self {
        let (source, bytes) = match source {
            Some(path) => {
                let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
                (
                    Some(absolute.to_string_lossy().into_owned()),
                    size_on_disk(path),
                )
            }
            None => (None, None),
        };
        Self {
            dataset: dataset.to_string(),
            source,
            bytes,
            samples,
            content_hash: format!("{hash:016x}"),
        }
    }
}

/// Bytes of a file, or of a folder's files (listed by [`walk`], to a bounded depth; symbolic
/// links count their own size, never their target's).
fn size_on_disk(path: &Path) -> Option<u64> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return Some(meta.len());
    }
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    walk(path, path, 8, &mut dirs, &mut files);
    Some(
        files
            .iter()
            .filter_map(|f| std::fs::symlink_metadata(path.join(f)).ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum(),
    )
}

/// FNV-1a, 64 bits: a portable content hash (stable across machines and Rust versions, unlike
/// `std`'s hasher), enough to tell one dataset from another; not a cryptographic hash.
#[derive(Clone, Copy, Debug)]
pub struct ContentHash(u64);

impl Default for ContentHash {
    fn default() -> Self {
        Self(0xCBF2_9CE4_8422_2325)
    }
}

impl ContentHash {
    /// Mixes `bytes` in.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x100_0000_01B3);
        }
        self
    }

    /// Mixes a `u64` in (little-endian bytes).
    pub fn u64(&mut self, value: u64) -> &mut Self {
        self.bytes(&value.to_le_bytes())
    }

    /// The hash so far.
    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// One start of a run: fresh or resumed, with the settings it changed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunStart {
    /// The epoch it started after (0: fresh).
    pub after_epoch: usize,
    /// The device it trained on.
    pub backend: String,
    /// Settings a resume changed: field -> `[stored, new]`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub changed: BTreeMap<String, [serde_json::Value; 2]>,
    /// The process that ran this start. burn writes each checkpoint through a scratch file
    /// named after it (`<file>.<pid>-<n>.tmp`) and renames it when complete; a start killed in
    /// the middle leaves that file, which the pid identifies as the run's own. `None` in
    /// manifests written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
}

/// `run.json`: what makes a folder a run's.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The data the run trains on.
    pub data: DataIdentity,
    /// The run's configuration (as of its latest start).
    pub config: TrainConfig,
    /// Every start of the run, the first one fresh.
    pub starts: Vec<RunStart>,
    /// Folders the run created, relative to the run folder, parents first.
    pub dirs: Vec<String>,
    /// Files the run created, relative to the run folder.
    pub files: Vec<String>,
    /// Whether the run finished (its report and model written).
    pub complete: bool,
}

/// A run's output folder, checked and claimed for one run.
#[derive(Debug)]
pub struct RunFolder {
    root: PathBuf,
    manifest: Manifest,
    /// Files announced for the epoch under way ([`RunFolder::announce_epoch`]), listed before
    /// they exist so that a run killed during the epoch has them in its manifest.
    announced: Vec<String>,
    /// The last epoch announced: with several devices each one's data loader announces the
    /// epoch it starts, and the manifest is written once for it.
    last_announced: usize,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn folder_error(path: &Path, message: String) -> TrainError {
    TrainError::Folder {
        path: path.to_path_buf(),
        message,
    }
}

/// Reads the manifest in `root`, if there is one of ours. A `run.json` that is not a burn-snn
/// manifest is `Ok(None)` (a foreign file); one that is ours but unreadable is an error.
pub fn read_manifest(root: &Path) -> crate::Result<Option<Manifest>> {
    use snn_nir::hdf5_bounds::{BoundError, read_file_capped};
    let path = root.join(MANIFEST);
    let bytes = match read_file_capped(&path, MAX_MANIFEST_BYTES) {
        Ok(bytes) => bytes,
        Err(BoundError::Exceeded(x)) => {
            return Err(TrainError::Limit {
                path,
                what: "run manifest size (bytes)".into(),
                found: x.found,
                cap: x.cap,
            });
        }
        Err(_) => return Ok(None),
    };
    let value: serde_json::Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(_) => return Ok(None),
    };
    if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Ok(None);
    }
    let version = value.get("version").and_then(|v| v.as_u64());
    if version != Some(u64::from(VERSION)) {
        return Err(TrainError::Checkpoint {
            path,
            message: format!(
                "a burn-snn run manifest of version {}, this version reads {VERSION}",
                version.map_or("?".into(), |v| v.to_string())
            ),
        });
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| TrainError::Checkpoint {
            path,
            message: format!("a burn-snn run manifest this version cannot read: {e}"),
        })
}

/// The entries directly inside `root` (empty when it does not exist).
fn entries(root: &Path) -> crate::Result<Vec<String>> {
    match std::fs::read_dir(root) {
        Ok(list) => {
            let mut names: Vec<String> = list
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            names.sort();
            Ok(names)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(io(root)(e)),
    }
}

/// Every file and folder under `dir` (relative to `root`), folders before their contents;
/// symbolic links are listed, never followed. Bounded depth: a run writes at most 3 levels.
fn walk(root: &Path, dir: &Path, depth: usize, dirs: &mut Vec<String>, files: &mut Vec<String>) {
    let Ok(list) = std::fs::read_dir(dir) else {
        return;
    };
    let mut list: Vec<_> = list.flatten().collect();
    list.sort_by_key(|e| e.file_name());
    for entry in list {
        let path = entry.path();
        let relative = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        match entry.file_type() {
            Ok(t) if t.is_dir() && depth > 0 => {
                dirs.push(relative);
                walk(root, &path, depth - 1, dirs, files);
            }
            _ => files.push(relative),
        }
    }
}

impl RunFolder {
    /// Claims `root` for a run of `config` on `data`, as `options` say, before anything is
    /// written: checks the folder (see the module documentation), removes a previous run's files
    /// when overwriting, and for a resume compares the stored run with this one. Writes the
    /// manifest (incomplete) and `config.json`. Returns the folder and the epoch the run starts
    /// after (0: fresh).
    ///
    /// A resume calls `check_checkpoint(epoch)` (e.g. [`crate::checkpoint::check_against`] the
    /// model) once the stored run matched, before anything is written.
    ///
    /// Errors: [`TrainError::Folder`] (a folder that is not the run's to write),
    /// [`TrainError::ResumeMismatch`] (a resume with other settings or data),
    /// [`TrainError::Checkpoint`] (no complete checkpoint to resume from, or one that does not
    /// fit).
    pub fn claim(
        root: &Path,
        config: &TrainConfig,
        data: DataIdentity,
        options: &RunOptions,
        backend: &str,
        check_checkpoint: impl FnOnce(usize) -> crate::Result<()>,
    ) -> crate::Result<(Self, usize)> {
        use crate::config::Resume;
        if root.exists() && !root.is_dir() {
            return Err(folder_error(root, "exists and is not a folder".into()));
        }
        let previous = read_manifest(root)?;
        let start = match options.resume {
            Resume::Fresh => 0,
            Resume::FromEpoch(epoch) => {
                crate::checkpoint::check_complete(root, epoch)?;
                epoch
            }
            Resume::Latest => crate::checkpoint::latest_complete(root).unwrap_or(0),
        };
        if start > 0 {
            let Some(previous) = previous else {
                return Err(TrainError::Checkpoint {
                    path: root.join(MANIFEST),
                    message: "no run manifest: the folder's checkpoints cannot be matched to \
                              this run's settings and data"
                        .into(),
                });
            };
            return Self::resume(
                root,
                previous,
                config,
                data,
                start,
                backend,
                check_checkpoint,
            );
        }
        // a fresh run
        let mut dirs = Vec::new();
        let mut ours: Vec<String> = Vec::new();
        if let Some(previous) = &previous {
            if !options.overwrite && options.resume == Resume::Latest {
                return Err(TrainError::Checkpoint {
                    path: crate::checkpoint::folder(root),
                    message: "the previous run left no complete checkpoint to resume from; \
                              pass --overwrite (without --resume) to start it over"
                        .into(),
                });
            }
            if !options.overwrite {
                return Err(folder_error(
                    root,
                    format!(
                        "holds a previous run ({MANIFEST}); pass --overwrite to remove its files \
                         and start over, or --resume latest to continue it"
                    ),
                ));
            }
            // the previous run's top-level files and folders are not foreign
            ours.extend(previous.dirs.iter().cloned());
            ours.extend(previous.files.iter().cloned());
        }
        let (partials, foreign): (Vec<String>, Vec<String>) = entries(root)?
            .into_iter()
            .filter(|name| !ours.contains(name))
            .partition(|name| is_partial_output(name));
        if let Some(first) = foreign.first()
            && !options.allow_foreign_files
        {
            return Err(folder_error(
                root,
                format!(
                    "is not empty and holds files that are not a run's (e.g. `{first}`); choose \
                     another --out, or pass --allow-foreign-files to write beside them (they \
                     are never removed)"
                ),
            ));
        }
        // even beside foreign files, nothing the run writes may already be there
        let in_the_way = |name: &str| foreign.iter().any(|f| f == name);
        if let Some(name) = OUTPUTS
            .iter()
            .chain(&[LEARNER_DIR])
            .find(|name| in_the_way(name))
        {
            return Err(folder_error(
                root,
                format!(
                    "holds `{name}`, which this run would write and did not create; choose \
                     another --out"
                ),
            ));
        }
        // every check passed: only now is anything removed or written
        if let Some(previous) = &previous {
            Self::remove_run(root, previous)?;
        }
        remove_partial_outputs(root, partials)?;
        std::fs::create_dir_all(root).map_err(io(root))?;
        if !root.join(LEARNER_DIR).exists() {
            dirs.push(LEARNER_DIR.to_string());
        }
        let manifest = Manifest {
            format: FORMAT.into(),
            version: VERSION,
            data,
            config: config.clone(),
            starts: vec![RunStart {
                after_epoch: 0,
                backend: backend.into(),
                changed: BTreeMap::new(),
                pid: Some(std::process::id()),
            }],
            dirs,
            files: Vec::new(),
            complete: false,
        };
        let mut folder = Self {
            root: root.to_path_buf(),
            manifest,
            announced: Vec::new(),
            last_announced: 0,
        };
        folder.start_writing(config)?;
        Ok((folder, 0))
    }

    /// A resume: the stored run must match this one but for the resumable fields.
    fn resume(
        root: &Path,
        mut previous: Manifest,
        config: &TrainConfig,
        data: DataIdentity,
        start: usize,
        backend: &str,
        check_checkpoint: impl FnOnce(usize) -> crate::Result<()>,
    ) -> crate::Result<(Self, usize)> {
        let mut differences = Vec::new();
        let stored = serde_json::to_value(&previous.config).unwrap_or_default();
        let new = serde_json::to_value(config).unwrap_or_default();
        let mut changed = BTreeMap::new();
        diff_json("", &stored, &new, &mut |field, a, b| {
            if TrainConfig::RESUMABLE_CHANGES.contains(&field) {
                changed.insert(field.to_string(), [a.clone(), b.clone()]);
            } else {
                differences.push(format!("{field}: stored {a}, now {b}"));
            }
        });
        let stored_data = serde_json::to_value(&previous.data).unwrap_or_default();
        let new_data = serde_json::to_value(&data).unwrap_or_default();
        diff_json("data", &stored_data, &new_data, &mut |field, a, b| {
            differences.push(format!("{field}: stored {a}, now {b}"));
        });
        if !differences.is_empty() {
            return Err(TrainError::ResumeMismatch {
                path: root.join(MANIFEST),
                differences,
            });
        }
        if start >= config.epochs {
            return Err(TrainError::Setting {
                field: "epochs",
                message: format!(
                    "the run resumes after epoch {start}, so `epochs` must exceed it, got {}",
                    config.epochs
                ),
            });
        }
        check_checkpoint(start)?;
        previous.config = config.clone();
        previous.complete = false;
        // a killed start may have left the temporary file of an atomic write: the run's own, and
        // in the way of the next write of the same output (or, for a checkpoint, never renamed)
        let partials = entries(root)?
            .into_iter()
            .filter(|name| is_partial_output(name));
        remove_partial_outputs(root, partials)?;
        remove_partial_outputs(root, checkpoint_scratch_files(root, &previous))?;
        previous.starts.push(RunStart {
            after_epoch: start,
            backend: backend.into(),
            changed,
            pid: Some(std::process::id()),
        });
        let mut folder = Self {
            root: root.to_path_buf(),
            manifest: previous,
            announced: Vec::new(),
            last_announced: 0,
        };
        folder.start_writing(config)?;
        Ok((folder, start))
    }

    /// Removes exactly the files `previous` lists and the scratch files of its checkpoints that a
    /// killed start left ([`is_checkpoint_scratch`]), then the folders it lists once they are
    /// empty (deepest first), the manifest last. Before removing anything it checks that the
    /// folders the run created hold nothing else: such a file (written after the run, or by a
    /// run killed before it listed it) stops the overwrite with nothing removed.
    fn remove_run(root: &Path, previous: &Manifest) -> crate::Result<()> {
        // the scratch files found by the check below, removed with the listed files (a set:
        // nested listed folders are walked more than once)
        let mut scratch = std::collections::BTreeSet::new();
        for dir in &previous.dirs {
            let path = root.join(dir);
            if !is_inside(root, &path) {
                continue;
            }
            let (mut dirs, mut files) = (Vec::new(), Vec::new());
            walk(root, &path, 4, &mut dirs, &mut files);
            let (own_scratch, files): (Vec<String>, Vec<String>) = files
                .into_iter()
                .partition(|f| is_checkpoint_scratch(f, previous));
            scratch.extend(own_scratch);
            let unlisted = files
                .iter()
                .chain(dirs.iter().filter(|d| !previous.dirs.contains(d)))
                .find(|f| !previous.files.contains(f) && !previous.dirs.contains(f));
            if let Some(file) = unlisted {
                return Err(folder_error(
                    root,
                    format!(
                        "the previous run's folder `{dir}` holds `{file}`, which its manifest \
                         does not list (written after the run, or by a run that was killed); \
                         nothing was removed: move it away and run again"
                    ),
                ));
            }
        }
        remove_partial_outputs(root, scratch)?;
        let (manifest, files): (Vec<&String>, Vec<&String>) =
            previous.files.iter().partition(|f| f.as_str() == MANIFEST);
        for file in files.into_iter().chain(manifest) {
            let path = root.join(file);
            if !is_inside(root, &path) {
                continue; // a crafted manifest may not reach outside the folder
            }
            if std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_file() || m.is_symlink()) {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
        let mut dirs = previous.dirs.clone();
        dirs.sort_by_key(|d| std::cmp::Reverse(d.len()));
        for dir in dirs {
            let path = root.join(&dir);
            if is_inside(root, &path) {
                // fails, harmlessly, on a folder that still holds something
                let _ = std::fs::remove_dir(&path);
            }
        }
        Ok(())
    }

    /// Writes the manifest, listing `config.json` first, then `config.json`, before training
    /// starts.
    fn start_writing(&mut self, config: &TrainConfig) -> crate::Result<()> {
        self.announce(["config.json".to_string()])?;
        let config_path = self.root.join("config.json");
        crate::report::write_json(&config_path, config)?;
        self.record_outputs()
    }

    /// Lists the top-level outputs ([`OUTPUTS`]) in the manifest before the run writes them, so
    /// that a run killed while writing them has them listed (and `--overwrite` removes them).
    pub fn announce_outputs(&mut self) -> crate::Result<()> {
        self.announce(OUTPUTS.iter().map(|name| name.to_string()))
    }

    /// Lists `files` (paths inside the folder) before the run writes them, and writes the
    /// manifest: the one mechanism behind [`RunFolder::announce_epoch`] and
    /// [`RunFolder::announce_outputs`]. Announced files that never appear are dropped when the
    /// run finishes.
    fn announce(&mut self, files: impl IntoIterator<Item = String>) -> crate::Result<()> {
        self.announced.extend(files);
        self.record_outputs()
    }

    /// The folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder burn's learner writes into.
    pub fn learner_dir(&self) -> PathBuf {
        self.root.join(LEARNER_DIR)
    }

    /// The manifest as it stands.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Lists, before epoch `epoch` (counting from 1) starts, the files burn's learner writes
    /// during it (`train|valid/epoch-<epoch>/<metric>.log` for each of `metric_logs`,
    /// `checkpoint/{model,optim,scheduler}-<epoch>.bpk`, `experiment.log`) and their folders, and
    /// writes the manifest: a run killed during the epoch has every file it wrote listed, so
    /// `--overwrite` can remove them. Announced files that never appear are dropped when the run
    /// finishes.
    pub fn announce_epoch(&mut self, epoch: usize, metric_logs: &[&str]) -> crate::Result<()> {
        if epoch <= self.last_announced {
            return Ok(());
        }
        self.last_announced = epoch;
        let learner = LEARNER_DIR;
        let mut dirs = vec![
            format!("{learner}/checkpoint"),
            format!("{learner}/train"),
            format!("{learner}/valid"),
        ];
        let mut files = vec![format!("{learner}/experiment.log")];
        for split in ["train", "valid"] {
            let folder = format!("{learner}/{split}/epoch-{epoch}");
            files.extend(metric_logs.iter().map(|log| format!("{folder}/{log}")));
            dirs.push(folder);
        }
        for record in ["model", "optim", "scheduler"] {
            files.push(format!("{learner}/checkpoint/{record}-{epoch}.bpk"));
        }
        for dir in dirs {
            if !self.manifest.dirs.contains(&dir) {
                self.manifest.dirs.push(dir);
            }
        }
        self.announce(files)
    }

    /// Lists what the run has written so far (the top-level outputs that exist, what burn's
    /// learner wrote under [`LEARNER_DIR`], and the files announced before they are written) in
    /// the manifest and writes it, atomically. Called at the start, before every epoch, before
    /// the outputs and at the end.
    pub fn record_outputs(&mut self) -> crate::Result<()> {
        let mut files: Vec<String> = OUTPUTS
            .iter()
            .filter(|name| self.root.join(name).is_file())
            .map(|name| name.to_string())
            .collect();
        let mut dirs = self.manifest.dirs.clone();
        if self.manifest.dirs.iter().any(|d| d == LEARNER_DIR) {
            // only what burn's learner writes: a file of the user's dropped into the folder
            // stays unlisted, so `--overwrite` refuses to run past it instead of removing it
            let (mut found_dirs, mut found_files) = (Vec::new(), Vec::new());
            walk(
                &self.root,
                &self.learner_dir(),
                4,
                &mut found_dirs,
                &mut found_files,
            );
            files.extend(found_files.into_iter().filter(|f| is_learner_file(f)));
            for dir in found_dirs.into_iter().filter(|d| is_learner_dir(d)) {
                if !dirs.contains(&dir) {
                    dirs.push(dir);
                }
            }
        }
        if !files.iter().any(|f| f == MANIFEST) {
            files.insert(0, MANIFEST.into());
        }
        // a resumed run keeps what earlier starts listed (files may come and go: burn deletes
        // old checkpoints), and only ever adds what is there now
        for file in &self.manifest.files {
            if !files.contains(file) && self.root.join(file).exists() {
                files.push(file.clone());
            }
        }
        files.extend(self.announced.iter().cloned());
        files.sort();
        files.dedup();
        self.manifest.files = files;
        self.manifest.dirs = dirs;
        crate::report::write_json(&self.root.join(MANIFEST), &self.manifest)
    }

    /// Marks the run complete and writes the final manifest.
    pub fn finish(&mut self) -> crate::Result<()> {
        self.manifest.complete = true;
        // the finished run lists exactly the files it leaves behind
        self.announced.clear();
        self.manifest
            .dirs
            .retain(|dir| dir == LEARNER_DIR || self.root.join(dir).is_dir());
        self.record_outputs()
    }
}

/// The parts of `relative` (a path inside the run folder) below [`LEARNER_DIR`].
fn learner_parts(relative: &str) -> Option<Vec<&str>> {
    let rest = relative.strip_prefix(LEARNER_DIR)?.strip_prefix('/')?;
    Some(rest.split('/').collect())
}

/// `epoch-<n>`, the folder of one epoch's metric logs.
fn is_epoch_folder(name: &str) -> bool {
    name.strip_prefix("epoch-").is_some_and(is_number)
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `relative` is one of the folders burn's learner writes (those
/// [`RunFolder::announce_epoch`] lists).
fn is_learner_dir(relative: &str) -> bool {
    match learner_parts(relative).as_deref() {
        Some(["checkpoint" | "train" | "valid"]) => true,
        Some(["train" | "valid", epoch]) => is_epoch_folder(epoch),
        _ => false,
    }
}

/// Whether `relative` is one of the files burn's learner writes (those
/// [`RunFolder::announce_epoch`] lists: `experiment.log`, `checkpoint/<record>-<n>.bpk`,
/// `train|valid/epoch-<n>/<metric>.log`).
fn is_learner_file(relative: &str) -> bool {
    match learner_parts(relative).as_deref() {
        Some(["experiment.log"]) => true,
        Some(["checkpoint", name]) => ["model", "optim", "scheduler"].iter().any(|record| {
            name.strip_prefix(record)
                .and_then(|n| n.strip_prefix('-'))
                .and_then(|n| n.strip_suffix(".bpk"))
                .is_some_and(is_number)
        }),
        Some(["train" | "valid", epoch, log]) => is_epoch_folder(epoch) && log.ends_with(".log"),
        _ => false,
    }
}

/// Whether `name` is the temporary file of an atomic write of one of the run's outputs
/// (`.report.<pid>.partial.json`, see [`crate::report::partial_path`]), left by a run killed
/// while writing it: the run's own, never foreign.
fn is_partial_output(name: &str) -> bool {
    OUTPUTS.iter().any(|output| {
        let (prefix, suffix) = crate::report::partial_affixes(Path::new(output));
        name.strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(&suffix))
            .is_some_and(is_number)
    })
}

/// Whether `relative` is the scratch file of a checkpoint the run lists, left by one of its
/// starts killed while burn wrote it: `<listed checkpoint>.<pid>-<n>.tmp` (burn-pack's
/// `AtomicFile` name) with the pid of one of the run's starts. Nothing else counts, so a
/// foreign file of a similar name still stops an overwrite.
fn is_checkpoint_scratch(relative: &str, run: &Manifest) -> bool {
    let Some((listed, tag)) = relative
        .strip_suffix(".tmp")
        .and_then(|rest| rest.rsplit_once('.'))
    else {
        return false;
    };
    let Some((pid, counter)) = tag.split_once('-') else {
        return false;
    };
    let ours = is_number(pid)
        && pid
            .parse::<u32>()
            .is_ok_and(|pid| run.starts.iter().any(|s| s.pid == Some(pid)));
    ours && is_number(counter) && is_learner_file(listed) && run.files.iter().any(|f| f == listed)
}

/// The checkpoint scratch files ([`is_checkpoint_scratch`]) under the run's checkpoint folder,
/// relative to `root`.
fn checkpoint_scratch_files(root: &Path, run: &Manifest) -> Vec<String> {
    let (mut dirs, mut files) = (Vec::new(), Vec::new());
    let checkpoints = root.join("learner").join("checkpoint");
    if checkpoints.is_dir() {
        walk(root, &checkpoints, 1, &mut dirs, &mut files);
    }
    files
        .into_iter()
        .filter(|f| is_checkpoint_scratch(f, run))
        .collect()
}

/// Removes the temporary files of atomic writes (`names`, relative to `root`, each matching
/// [`is_partial_output`] or [`is_checkpoint_scratch`]) that a killed run left.
fn remove_partial_outputs(
    root: &Path,
    names: impl IntoIterator<Item = String>,
) -> crate::Result<()> {
    for name in names {
        let path = root.join(name);
        std::fs::remove_file(&path).map_err(io(&path))?;
    }
    Ok(())
}

fn is_inside(root: &Path, path: &Path) -> bool {
    use std::path::Component;
    path.strip_prefix(root)
        .is_ok_and(|rest| rest.components().all(|c| matches!(c, Component::Normal(_))))
}

/// Calls `on_difference(field, a, b)` for every leaf where `a` and `b` differ, with dotted field
/// paths (`model.hidden`).
fn diff_json(
    prefix: &str,
    a: &serde_json::Value,
    b: &serde_json::Value,
    on_difference: &mut dyn FnMut(&str, &serde_json::Value, &serde_json::Value),
) {
    use serde_json::Value;
    let join = |key: &str| {
        if prefix.is_empty() {
            key.to_string()
        } else {
            format!("{prefix}.{key}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for key in keys {
                let null = Value::Null;
                diff_json(
                    &join(key),
                    x.get(key).unwrap_or(&null),
                    y.get(key).unwrap_or(&null),
                    on_difference,
                );
            }
        }
        _ if a != b => on_difference(prefix, a, b),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn differences_are_named_by_dotted_path() {
        let a = serde_json::json!({"model": {"hidden": 128, "inputs": 64}, "seed": 1});
        let b = serde_json::json!({"model": {"hidden": 64, "inputs": 64}, "seed": 7});
        let mut found = Vec::new();
        diff_json("", &a, &b, &mut |f, _, _| found.push(f.to_string()));
        assert_eq!(found, ["model.hidden", "seed"]);
    }

    #[test]
    fn only_the_runs_own_temporary_files_count_as_partial_outputs() {
        assert!(is_partial_output(".report.1234.partial.json"));
        assert!(is_partial_output(".model.7.partial.bpk"));
        assert!(!is_partial_output(".report.partial.json"));
        assert!(!is_partial_output(".notes.1234.partial.json"));
        assert!(!is_partial_output("report.json"));
    }

    #[test]
    fn only_scratch_files_of_listed_checkpoints_by_the_runs_starts_are_the_runs() {
        let manifest = |pids: &[Option<u32>]| -> Manifest {
            serde_json::from_value(serde_json::json!({
                "format": FORMAT, "version": VERSION,
                "data": DataIdentity::new("digits", None, 10, 1),
                "config": TrainConfig::digits(),
                "starts": pids.iter().map(|pid| serde_json::json!(
                    {"after_epoch": 0, "backend": "ndarray", "pid": pid})).collect::<Vec<_>>(),
                "dirs": ["learner", "learner/checkpoint"],
                "files": ["learner/checkpoint/optim-2.bpk", "report.json"],
                "complete": false,
            }))
            .unwrap()
        };
        let run = manifest(&[Some(26204), Some(31)]);
        for (name, ours) in [
            ("learner/checkpoint/optim-2.bpk.26204-5.tmp", true),
            ("learner/checkpoint/optim-2.bpk.31-0.tmp", true),
            // another process, an unlisted checkpoint, not burn's name, not a checkpoint
            ("learner/checkpoint/optim-2.bpk.999-5.tmp", false),
            ("learner/checkpoint/model-2.bpk.26204-5.tmp", false),
            ("learner/checkpoint/optim-2.bpk.26204-x.tmp", false),
            ("learner/checkpoint/optim-2.bpk.+26204-5.tmp", false),
            ("learner/checkpoint/optim-2.bpk.26204.tmp", false),
            ("learner/checkpoint/optim-2.bpk.tmp", false),
            ("report.json.26204-5.tmp", false),
        ] {
            assert_eq!(is_checkpoint_scratch(name, &run), ours, "{name}");
        }
        // a manifest from before pids were recorded claims none
        let old = manifest(&[None]);
        assert!(!is_checkpoint_scratch(
            "learner/checkpoint/optim-2.bpk.26204-5.tmp",
            &old
        ));
    }

    #[test]
    fn paths_outside_the_folder_are_not_inside() {
        let root = Path::new("/tmp/run");
        assert!(is_inside(
            root,
            &root.join("learner/checkpoint/model-1.bpk")
        ));
        assert!(!is_inside(root, &root.join("../elsewhere")));
        assert!(!is_inside(root, Path::new("/etc/passwd")));
    }

    #[test]
    fn the_content_hash_is_fnv1a() {
        // FNV-1a 64 of "a" (the published test vector)
        assert_eq!(
            ContentHash::default().bytes(b"a").finish(),
            0xaf63_dc4c_8601_ec8c
        );
    }
}

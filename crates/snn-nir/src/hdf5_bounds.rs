//! Bounds on what an untrusted HDF5 file can make a reader allocate: the checks that the NIR
//! reader ([`read`](mod@crate::read)) and `snn-train`'s SHD/SSC reader both run before they read a
//! dataset or a file, written once here.
//!
//! * [`read_file_capped`]: a file's bytes, refused past a cap from its metadata before reading.
//! * [`declared_bytes`]: a dataset's declared size (elements × element size) against what its
//!   storage in the file can hold: the compact or contiguous bytes (inside the file), or per
//!   allocated chunk its full size (for deflate-only pipelines at most [`DEFLATE_MAX_RATIO`] ×
//!   its stored bytes). A dataset without storage in the file (never written, external,
//!   virtual) holds nothing, so a header claiming 10^11 rows is refused, not filled in.

use std::io::Read as _;
use std::path::Path;

use hdf5_pure::{Dataset, Layout};

/// The most a deflate stream expands (258 bytes from about 2 bits): a chunk whose pipeline is
/// only deflate, shuffle and fletcher32 decodes to at most this many times its stored bytes.
pub const DEFLATE_MAX_RATIO: u64 = 1032;

/// A size beyond its bound: `what` (e.g. `chunk size (bytes)`) was `found`, at most `cap`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exceeded {
    /// What was too large.
    pub what: &'static str,
    /// The size found or declared.
    pub found: u64,
    /// The bound.
    pub cap: u64,
}

/// Why a bounded read failed.
#[derive(Debug)]
pub enum BoundError {
    /// The HDF5 structures could not be read.
    Hdf5(hdf5_pure::Error),
    /// The file could not be read.
    Io(std::io::Error),
    /// A size beyond its bound.
    Exceeded(Exceeded),
}

/// The bytes one read of a file may decode in total: each dataset's bytes are spent against it
/// before the dataset is decoded.
#[derive(Debug)]
pub struct ByteBudget {
    spent: std::cell::Cell<u64>,
    cap: u64,
}

impl ByteBudget {
    /// Nothing spent yet, at most `cap` bytes in all.
    pub fn new(cap: u64) -> Self {
        Self {
            spent: std::cell::Cell::new(0),
            cap,
        }
    }

    /// Spends `bytes` more; refused (`what`, the total, the cap) when the total would pass the
    /// cap, with nothing spent.
    pub fn spend(&self, bytes: u64, what: &'static str) -> Result<(), Exceeded> {
        let total = self.spent.get().saturating_add(bytes);
        if total > self.cap {
            return Err(Exceeded {
                what,
                found: total,
                cap: self.cap,
            });
        }
        self.spent.set(total);
        Ok(())
    }

    /// The bytes left to spend.
    pub fn left(&self) -> u64 {
        self.cap - self.spent.get()
    }
}

/// Runs `f`, turning a panic of the HDF5 parser on a corrupt file into its message: a reader of
/// untrusted files must not bring the process down.
pub fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "unknown panic".into())
    })
}

fn exceeded(what: &'static str, found: u64, cap: u64) -> BoundError {
    BoundError::Exceeded(Exceeded { what, found, cap })
}

/// The bytes of the file at `path`, refused (`Exceeded`, `file size (bytes)`) when it is longer
/// than `max_bytes`: the length is checked from the file's metadata before anything is read,
/// and the read stops one byte past the cap in case the file grows meanwhile (or is a device
/// without a length).
pub fn read_file_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>, BoundError> {
    let file = std::fs::File::open(path).map_err(BoundError::Io)?;
    let len = file.metadata().map_err(BoundError::Io)?.len();
    if len > max_bytes {
        return Err(exceeded("file size (bytes)", len, max_bytes));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(BoundError::Io)?;
    if bytes.len() as u64 > max_bytes {
        return Err(exceeded("file size (bytes)", bytes.len() as u64, max_bytes));
    }
    Ok(bytes)
}

/// The bytes a full read of `ds` decodes (elements × element size), after checking them against
/// what the dataset's storage in a file of `file_len` bytes can hold (see the module docs). A
/// chunk larger than `max_chunk` bytes, or than both the dataset and the file, is refused too:
/// the decoder holds one whole chunk whatever the dataset's size.
pub fn declared_bytes(ds: &Dataset, file_len: u64, max_chunk: u64) -> Result<u64, BoundError> {
    let shape = ds.shape().map_err(BoundError::Hdf5)?;
    let element = ds.element_size().map_err(BoundError::Hdf5)?;
    let declared = shape
        .iter()
        .try_fold(element, |acc, &d| acc.checked_mul(d))
        .unwrap_or(u64::MAX);
    if declared == 0 {
        return Ok(0);
    }
    let stored = match ds.layout().map_err(BoundError::Hdf5)? {
        Layout::Compact { size } => size,
        Layout::Contiguous {
            address: Some(address),
            size,
        } => {
            let end = address.saturating_add(size);
            if end > file_len {
                return Err(exceeded(
                    "end of the contiguous data (byte offset)",
                    end,
                    file_len,
                ));
            }
            size
        }
        Layout::Chunked { chunk_shape, .. } => {
            let chunk_bytes = chunk_shape
                .iter()
                .try_fold(element, |acc, &d| acc.checked_mul(d))
                .unwrap_or(u64::MAX);
            // a chunk larger than both the dataset and the file holds nothing but fill
            let cap = declared.max(file_len).min(max_chunk);
            if chunk_bytes > cap {
                return Err(exceeded("chunk size (bytes)", chunk_bytes, cap));
            }
            chunk_storage(ds, chunk_bytes, file_len)?
        }
        // never written, stored in external files, or virtual: nothing in this file
        _ => 0,
    };
    if declared > stored {
        return Err(exceeded(
            "declared size (bytes) against what its storage in the file holds",
            declared,
            stored,
        ));
    }
    Ok(declared)
}

/// The most bytes the allocated chunks of a chunked dataset decode to, each chunk's stored
/// bytes checked to lie inside the file: per chunk its full size `chunk_bytes`, or for a
/// deflate-only pipeline at most [`DEFLATE_MAX_RATIO`] × its stored bytes. Unallocated chunks
/// count nothing.
fn chunk_storage(ds: &Dataset, chunk_bytes: u64, file_len: u64) -> Result<u64, BoundError> {
    const DEFLATE: u16 = 1;
    const SHUFFLE: u16 = 2;
    const FLETCHER32: u16 = 3;
    let filters = ds.filters();
    let deflate_only = filters
        .iter()
        .all(|&f| matches!(f, DEFLATE | SHUFFLE | FLETCHER32));
    let decoded = |stored: u64| {
        if filters.is_empty() {
            stored.min(chunk_bytes)
        } else if deflate_only {
            // a few bytes of stream header and trailer even for incompressible data
            stored
                .saturating_mul(DEFLATE_MAX_RATIO)
                .saturating_add(1024)
                .min(chunk_bytes)
        } else {
            chunk_bytes
        }
    };
    let Ok(chunks) = ds.chunks() else {
        // an index hdf5-pure cannot list (a v2 B-tree): bound by the file alone
        return Ok(decoded(file_len));
    };
    let mut total = 0u64;
    for chunk in chunks {
        let end = chunk.address.saturating_add(chunk.storage_size);
        if end > file_len {
            return Err(exceeded(
                "end of a chunk's data (byte offset)",
                end,
                file_len,
            ));
        }
        total = total.saturating_add(decoded(chunk.storage_size));
    }
    Ok(total)
}

//! Spiking Heidelberg Digits (SHD) and Spiking Speech Commands (SSC) HDF5 files
//! (Cramer et al. 2020, "The Heidelberg spiking data sets for the systematic evaluation of
//! spiking neural networks").
//!
//! Layout of `shd_train.h5` / `ssc_test.h5` and friends (the parts read here):
//!
//! | dataset        | type                   | shape       | meaning                           |
//! |----------------|------------------------|-------------|-----------------------------------|
//! | `spikes/times` | vlen sequence of `f32` | `[samples]` | spike times of a sample, seconds  |
//! | `spikes/units` | vlen sequence of `u16` | `[samples]` | unit (cochlea channel) per spike  |
//! | `labels`       | `u16`                  | `[samples]` | class: 0..20 (SHD), 0..35 (SSC)   |
//!
//! Both corpora have [`SHD_UNITS`] = 700 units. Files are read with the pure-Rust `hdf5-pure`
//! crate, so no system HDF5 library is needed. hdf5-pure 0.47 keeps its vlen-sequence reader
//! private, so [`vlen_rows`] follows the global-heap references itself (the HDF5 file format's
//! global heap collections, with every offset and size bounds-checked so that a corrupt file
//! gives an error, never a panic).
//!
//! Files are untrusted: every size they declare is checked before anything of that size is
//! allocated, and a breach is a `TrainError::Limit`:
//!
//! * the file's length against [`ReadLimits::max_bytes`] (default [`SHD_MAX_BYTES`]), from its
//!   metadata before it is read;
//! * each dataset's declared size (elements × element size) against what its storage in this
//!   file holds: the compact or contiguous bytes, or the allocated chunks (a filtered chunk at
//!   most its full size, and for deflate-only pipelines at most [`DEFLATE_MAX_RATIO`] × its
//!   stored bytes); a chunk may not exceed both the dataset and the file. A dataset without
//!   storage in the file (never written, external, virtual) holds nothing, so a header
//!   claiming 10^11 samples is refused, not filled in;
//! * each vlen row against the file length, and all rows of a dataset together against the
//!   file length too: h5py stores each row once, so more means many references to one heap
//!   object;
//! * all decoded bytes together against [`ReadLimits::max_bytes`].

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::Path;

/// The HDF5 crate used here, re-exported so that callers (and tests) can inspect or build
/// files with the same version.
pub use hdf5_pure;
use hdf5_pure::{Dataset, Datatype, File, FileBuilder, Layout};
use snn_nir::hdf5_bounds::{BoundError, ByteBudget, catch_panic};

use super::events::{EventSample, ReadLimits, TimeUnit, read_file_capped};
use crate::error::{Result, TrainError};

/// Number of units (input channels) of SHD and SSC.
pub const SHD_UNITS: usize = 700;
/// Number of classes of SHD (digits 0-9 in English and German).
pub const SHD_CLASSES: usize = 20;
/// Number of classes of SSC.
pub const SSC_CLASSES: usize = 35;
/// Default of [`ReadLimits::max_bytes`] for SHD/SSC files: 16 GiB, well above the published
/// files of both corpora. Override it with [`read_shd_with_limits`].
pub const SHD_MAX_BYTES: u64 = 16 << 30;
pub use snn_nir::hdf5_bounds::DEFLATE_MAX_RATIO;

/// Reads an SHD or SSC file: one [`EventSample`] per sample, times in seconds as stored
/// ([`TimeUnit::Second`]), units as stored, label below `classes` ([`SHD_CLASSES`] or
/// [`SSC_CLASSES`]).
///
/// Errors: `Io` (missing or unreadable file), `NotHdf5`, `Truncated` (the file is shorter than
/// its superblock's end-of-file address), `MissingDataset`, `WrongDtype` (e.g. `spikes/times`
/// not a vlen sequence of 4-byte floats), `Hdf5` (corrupt structures), `LengthMismatch`
/// (a sample's times and units differ in length, or the three datasets in sample count),
/// `UnitOutOfRange` (a unit >= 700), `InvalidEventTime`, `LabelOutOfRange`, `Limit` (a size
/// beyond what the file holds or beyond [`SHD_MAX_BYTES`]; see the module docs).
pub fn read_shd(path: impl AsRef<Path>, classes: usize) -> Result<Vec<EventSample>> {
    read_shd_with_limits(path, classes, ReadLimits::max_bytes(SHD_MAX_BYTES))
}

/// [`read_shd`] with another cap on the file size and the decoded bytes ([`ReadLimits`]).
pub fn read_shd_with_limits(
    path: impl AsRef<Path>,
    classes: usize,
    limits: ReadLimits,
) -> Result<Vec<EventSample>> {
    let path = path.as_ref();
    let bytes = read_file_capped(path, limits.max_bytes)?;
    read_shd_bytes_with_limits(&bytes, path, classes, limits)
}

/// [`read_shd`] on the file's bytes; `path` only names the file in errors.
pub fn read_shd_bytes(bytes: &[u8], path: &Path, classes: usize) -> Result<Vec<EventSample>> {
    read_shd_bytes_with_limits(bytes, path, classes, ReadLimits::max_bytes(SHD_MAX_BYTES))
}

/// [`read_shd_with_limits`] on the file's bytes; `path` only names the file in errors.
pub fn read_shd_bytes_with_limits(
    bytes: &[u8],
    path: &Path,
    classes: usize,
    limits: ReadLimits,
) -> Result<Vec<EventSample>> {
    let path_buf = || path.to_path_buf();
    if bytes.len() as u64 > limits.max_bytes {
        return Err(TrainError::Limit {
            path: path_buf(),
            what: "file size (bytes)".into(),
            found: bytes.len() as u64,
            cap: limits.max_bytes,
        });
    }
    if !hdf5_pure::is_hdf5_bytes(bytes) {
        return Err(TrainError::NotHdf5 { path: path_buf() });
    }
    let hdf5 = |e: hdf5_pure::Error| TrainError::Hdf5 {
        path: path_buf(),
        message: e.to_string(),
    };
    let file = guard(path, || File::from_bytes(bytes.to_vec()).map_err(hdf5))?;
    let eof = file.superblock().eof_address;
    if eof > bytes.len() as u64 {
        return Err(TrainError::Truncated {
            path: path_buf(),
            expected: eof,
            found: bytes.len() as u64,
        });
    }
    let mut budget = Budget {
        path,
        bytes: ByteBudget::new(limits.max_bytes),
    };
    guard(path, || read_layout(&file, path, classes, &mut budget))
}

/// Decoded bytes, counted against [`ReadLimits::max_bytes`] (`snn_nir::hdf5_bounds::ByteBudget`,
/// the NIR reader's too), with the file they are read from.
struct Budget<'p> {
    path: &'p Path,
    bytes: ByteBudget,
}

impl Budget<'_> {
    fn spend(&mut self, bytes: u64) -> Result<()> {
        self.bytes
            .spend(bytes, "bytes decoded from the file in total")
            .map_err(|x| TrainError::Limit {
                path: self.path.to_path_buf(),
                what: x.what.into(),
                found: x.found,
                cap: x.cap,
            })
    }

    fn left(&self) -> u64 {
        self.bytes.left()
    }
}

/// Runs a read step, turning a panic inside hdf5-pure on a corrupt file into an `Hdf5` error
/// (`snn_nir::hdf5_bounds::catch_panic`): a reader of untrusted files must not bring the
/// training process down.
fn guard<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    catch_panic(f).unwrap_or_else(|message| {
        Err(TrainError::Hdf5 {
            path: path.to_path_buf(),
            message: format!("the HDF5 reader panicked: {message}"),
        })
    })
}

fn read_layout(
    file: &File,
    path: &Path,
    classes: usize,
    budget: &mut Budget,
) -> Result<Vec<EventSample>> {
    let name = path.display();
    let times = vlen_rows_budgeted(
        file,
        &dataset(file, path, "spikes/times")?,
        path,
        "spikes/times",
        4,
        budget,
    )?;
    let units = vlen_rows_budgeted(
        file,
        &dataset(file, path, "spikes/units")?,
        path,
        "spikes/units",
        2,
        budget,
    )?;
    let labels_ds = dataset(file, path, "labels")?;
    match labels_ds.datatype() {
        Ok(Datatype::FixedPoint {
            size: 2, layout, ..
        }) if !layout.signed => {}
        other => {
            return Err(TrainError::WrongDtype {
                path: path.to_path_buf(),
                dataset: "labels".into(),
                expected: "u16".into(),
                found: format!("{other:?}"),
            });
        }
    }
    budget.spend(declared_bytes(
        file,
        &labels_ds,
        path,
        "labels",
        budget.left(),
    )?)?;
    let labels = labels_ds.read_u16().map_err(|e| TrainError::Hdf5 {
        path: path.to_path_buf(),
        message: format!("labels: {e}"),
    })?;
    for (what, n) in [("spikes/units", units.len()), ("labels", labels.len())] {
        if n != times.len() {
            return Err(TrainError::LengthMismatch {
                what: format!("{name}: samples in {what} vs spikes/times"),
                expected: times.len(),
                found: n,
            });
        }
    }
    let mut samples = Vec::with_capacity(times.len());
    for (k, ((t, u), label)) in times.iter().zip(&units).zip(labels).enumerate() {
        if t.len() / 4 != u.len() / 2 {
            return Err(TrainError::LengthMismatch {
                what: format!("{name}, sample {k}: spikes/units vs spikes/times"),
                expected: t.len() / 4,
                found: u.len() / 2,
            });
        }
        let sample = EventSample::new(
            t.chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
            u.chunks_exact(2)
                .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]])))
                .collect(),
            TimeUnit::Second,
            usize::from(label),
        );
        sample.validate(SHD_UNITS, classes, &format!("{name}, sample {k}"))?;
        samples.push(sample);
    }
    Ok(samples)
}

fn dataset(file: &File, path: &Path, name: &str) -> Result<Dataset> {
    file.dataset(name).map_err(|e| match e {
        hdf5_pure::Error::Format(hdf5_pure::FormatError::PathNotFound(_))
        | hdf5_pure::Error::NotADataset(_)
        | hdf5_pure::Error::NotAGroup(_) => TrainError::MissingDataset {
            path: path.to_path_buf(),
            dataset: name.into(),
        },
        other => TrainError::Hdf5 {
            path: path.to_path_buf(),
            message: format!("{name}: {other}"),
        },
    })
}

/// The raw bytes of each element of a 1-D vlen-sequence dataset whose base type is
/// `elem_size` bytes wide (the rows' lengths are multiples of `elem_size`).
///
/// Each element of such a dataset is a 16-byte reference: u32 element count, u64 address of a
/// global-heap collection ("GCOL"), u32 object index. Needs 8-byte file offsets and lengths
/// (h5py's, PyTables' and hdf5-pure's default). Every read is bounds-checked: a corrupt file
/// gives `Hdf5`, `Truncated` or `WrongDtype`, and a size beyond what the file holds `Limit`
/// (the dataset's declared size against its storage, each row and all rows together against
/// the file length; see the module docs).
pub fn vlen_rows(
    file: &File,
    ds: &Dataset,
    path: &Path,
    name: &str,
    elem_size: usize,
) -> Result<Vec<Vec<u8>>> {
    let mut budget = Budget {
        path,
        bytes: ByteBudget::new(SHD_MAX_BYTES),
    };
    vlen_rows_budgeted(file, ds, path, name, elem_size, &mut budget)
}

/// [`vlen_rows`], the references and rows counted against `budget`.
fn vlen_rows_budgeted(
    file: &File,
    ds: &Dataset,
    path: &Path,
    name: &str,
    elem_size: usize,
    budget: &mut Budget,
) -> Result<Vec<Vec<u8>>> {
    let corrupt = |message: String| TrainError::Hdf5 {
        path: path.to_path_buf(),
        message: format!("{name}: {message}"),
    };
    match ds.datatype() {
        Ok(Datatype::VariableLength {
            is_string: false,
            base_type,
            ..
        }) if base_type.type_size() as usize == elem_size => {}
        other => {
            return Err(TrainError::WrongDtype {
                path: path.to_path_buf(),
                dataset: name.into(),
                expected: format!("a vlen sequence of {elem_size}-byte elements"),
                found: format!("{other:?}"),
            });
        }
    }
    let sb = file.superblock();
    if sb.offset_size != 8 || sb.length_size != 8 {
        return Err(corrupt(format!(
            "{}-byte offsets / {}-byte lengths: only 8-byte ones are handled",
            sb.offset_size, sb.length_size
        )));
    }
    let bytes = file.as_bytes();
    let at = |p: usize, n: usize| -> Result<&[u8]> {
        p.checked_add(n)
            .and_then(|end| bytes.get(p..end))
            .ok_or_else(|| corrupt(format!("global heap read past the end of the file at {p}")))
    };
    let u64_at = |p: usize| -> Result<u64> {
        let b = at(p, 8)?;
        Ok(u64::from_le_bytes([
            b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
        ]))
    };
    // The objects of the global heap collection at `addr`: index -> (data offset, data size).
    let collection = |addr: u64| -> Result<HashMap<u16, (usize, usize)>> {
        let a = usize::try_from(addr).map_err(|_| corrupt(format!("address {addr:#x}")))?;
        if at(a, 4)? != b"GCOL" {
            return Err(corrupt(format!("no global heap collection at {addr:#x}")));
        }
        let size = usize::try_from(u64_at(a + 8)?).unwrap_or(usize::MAX);
        let end = a.saturating_add(size).min(bytes.len());
        let (mut objs, mut p) = (HashMap::new(), a + 16);
        while p + 16 <= end {
            let id = u16::from_le_bytes([bytes[p], bytes[p + 1]]);
            if id == 0 {
                break; // free space: the rest of the collection
            }
            let size = usize::try_from(u64_at(p + 8)?).unwrap_or(usize::MAX);
            objs.insert(id, (p + 16, size));
            p = match size
                .div_ceil(8)
                .checked_mul(8)
                .and_then(|s| s.checked_add(p + 16))
            {
                Some(next) => next,
                None => break,
            };
        }
        Ok(objs)
    };
    // collection address -> (object index -> (data offset, data size))
    let mut heaps: HashMap<u64, HashMap<u16, (usize, usize)>> = HashMap::new();
    budget.spend(declared_bytes(file, ds, path, name, budget.left())?)?;
    let refs = ds.read_raw().map_err(|e| corrupt(e.to_string()))?;
    let file_len = bytes.len() as u64;
    let limit = |what: String, found: u64| TrainError::Limit {
        path: path.to_path_buf(),
        what: format!("`{name}`: {what}"),
        found,
        cap: file_len,
    };
    let mut total = 0u64;
    if refs.len() % 16 != 0 {
        return Err(corrupt(format!(
            "{} reference bytes, not a multiple of 16",
            refs.len()
        )));
    }
    let mut rows = Vec::with_capacity(refs.len() / 16);
    for (k, r) in refs.chunks_exact(16).enumerate() {
        let count = u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as usize;
        let addr = u64::from_le_bytes([r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]]);
        let index = u32::from_le_bytes([r[12], r[13], r[14], r[15]]);
        if count == 0 {
            rows.push(Vec::new());
            continue;
        }
        // checked before the heap is looked at: a row's bytes are a slice of the file, and
        // h5py stores each row once, so all rows together fit in the file too
        let row_bytes = (count as u64).saturating_mul(elem_size as u64);
        if row_bytes > file_len {
            return Err(limit(
                format!("row {k} (bytes) against the file size"),
                row_bytes,
            ));
        }
        total = total.saturating_add(row_bytes);
        if total > file_len {
            return Err(limit(
                format!("bytes of rows 0..={k} together against the file size"),
                total,
            ));
        }
        budget.spend(row_bytes)?;
        let objs = match heaps.entry(addr) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(collection(addr)?),
        };
        let object = u16::try_from(index)
            .ok()
            .and_then(|i| objs.get(&i).copied());
        let Some((off, size)) = object else {
            return Err(corrupt(format!(
                "global heap object {index} missing at {addr:#x}"
            )));
        };
        let n = count
            .checked_mul(elem_size)
            .filter(|&n| n <= size)
            .ok_or_else(|| corrupt(format!("heap object {index} shorter than {count} elements")))?;
        rows.push(at(off, n)?.to_vec());
    }
    Ok(rows)
}

/// The bytes a full read of `ds` decodes, after checking them against what the dataset's
/// storage in this file can hold ([`snn_nir::hdf5_bounds::declared_bytes`], see the module
/// docs); a chunk larger than `max_chunk` bytes is refused too. `name` names the dataset in
/// errors.
fn declared_bytes(
    file: &File,
    ds: &Dataset,
    path: &Path,
    name: &str,
    max_chunk: u64,
) -> Result<u64> {
    let file_len = file.as_bytes().len() as u64;
    snn_nir::hdf5_bounds::declared_bytes(ds, file_len, max_chunk)
        .map_err(|e| bound_error(e, path, name))
}

/// A bounded read's failure as a [`TrainError`]; `name` names the dataset (or the file).
pub(crate) fn bound_error(e: BoundError, path: &Path, name: &str) -> TrainError {
    match e {
        BoundError::Hdf5(e) => TrainError::Hdf5 {
            path: path.to_path_buf(),
            message: format!("{name}: {e}"),
        },
        BoundError::Io(source) => TrainError::Io {
            path: path.to_path_buf(),
            source,
        },
        BoundError::Exceeded(x) => TrainError::Limit {
            path: path.to_path_buf(),
            what: if name.is_empty() {
                x.what.to_string()
            } else {
                format!("`{name}`: {}", x.what)
            },
            found: x.found,
            cap: x.cap,
        },
    }
}

/// Writes samples in the SHD layout (see the module docs): times converted to seconds as f32,
/// units as u16, labels as u16, all datasets contiguous.
///
/// hdf5-pure 0.47 has no public writer for vlen sequences, only for vlen strings. So each row
/// is first written as a vlen *string* of placeholder bytes with the final byte length, under
/// the vlen-sequence datatype; then the placeholders in the global heap are overwritten with
/// the real values and each reference's length field (a byte count for strings) with the
/// element count. Neither the heap objects nor contiguous raw data carry checksums, so the
/// result is a valid HDF5 file, laid out as hdf5-pure lays out its own vlen data.
///
/// Errors: `LengthMismatch` (times vs units of a sample), `UnitOutOfRange` (a unit beyond
/// u16), `Hdf5` (the writer failed), `Io`.
pub fn write_shd(path: impl AsRef<Path>, samples: &[EventSample]) -> Result<()> {
    let path = path.as_ref();
    let bytes = shd_bytes(samples, path)?;
    std::fs::write(path, bytes).map_err(|source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// [`write_shd`] into memory; `path` only names the file in errors.
pub fn shd_bytes(samples: &[EventSample], path: &Path) -> Result<Vec<u8>> {
    let hdf5 = |message: String| TrainError::Hdf5 {
        path: path.to_path_buf(),
        message,
    };
    let mut times = Vec::with_capacity(samples.len());
    let mut units = Vec::with_capacity(samples.len());
    let mut labels = Vec::with_capacity(samples.len());
    for (k, s) in samples.iter().enumerate() {
        let what = format!("{}, sample {k}", path.display());
        s.validate(usize::from(u16::MAX) + 1, usize::from(u16::MAX) + 1, &what)?;
        let to_s = match s.time_unit {
            TimeUnit::Second => 1.0,
            TimeUnit::Millisecond => 1e-3,
            TimeUnit::Microsecond => 1e-6,
            TimeUnit::Step => {
                return Err(TrainError::Setting {
                    field: "time_unit",
                    message: format!("{what}: time steps have no duration in seconds"),
                });
            }
        };
        let t: Vec<u8> = s
            .times
            .iter()
            .flat_map(|&t| ((t * to_s) as f32).to_le_bytes())
            .collect();
        let u: Vec<u8> = s
            .units
            .iter()
            .flat_map(|&u| (u as u16).to_le_bytes())
            .collect();
        times.push(t);
        units.push(u);
        labels.push(s.label as u16);
    }
    let vlen = |base: Datatype| Datatype::VariableLength {
        is_string: false,
        padding: None,
        charset: None,
        base_type: Box::new(base),
    };
    // Placeholder strings of each row's byte length (ASCII, so valid UTF-8).
    let placeholders =
        |rows: &[Vec<u8>]| -> Vec<String> { rows.iter().map(|r| "A".repeat(r.len())).collect() };
    let (pt, pu) = (placeholders(&times), placeholders(&units));
    let mut fb = FileBuilder::new();
    let mut spikes = fb.create_group("spikes");
    spikes
        .create_dataset("times")
        .with_vlen_strings(&pt.iter().map(String::as_str).collect::<Vec<_>>())
        .with_dtype(vlen(hdf5_pure::make_f32_type()));
    spikes
        .create_dataset("units")
        .with_vlen_strings(&pu.iter().map(String::as_str).collect::<Vec<_>>())
        .with_dtype(vlen(hdf5_pure::make_u16_type()));
    fb.add_group(spikes.finish());
    fb.create_dataset("labels").with_u16_data(&labels);
    let mut bytes = fb.finish().map_err(|e| hdf5(e.to_string()))?;
    for (name, rows, elem) in [("spikes/times", &times, 4), ("spikes/units", &units, 2)] {
        let file = File::from_bytes(bytes.clone()).map_err(|e| hdf5(e.to_string()))?;
        let ds = file.dataset(name).map_err(|e| hdf5(e.to_string()))?;
        let Ok(Layout::Contiguous {
            address: Some(data),
            ..
        }) = ds.layout()
        else {
            return Err(hdf5(format!(
                "{name}: hdf5-pure did not store it contiguously"
            )));
        };
        // Where each row's placeholder sits: read the references as they are (byte counts).
        let refs = ds.read_raw().map_err(|e| hdf5(e.to_string()))?;
        let heap_rows = heap_offsets(&file, &refs, path, name)?;
        drop(file);
        for (k, (row, heap)) in rows.iter().zip(heap_rows).enumerate() {
            if let Some(off) = heap {
                bytes[off..off + row.len()].copy_from_slice(row);
            }
            let count = (row.len() / elem) as u32;
            let at = data as usize + 16 * k;
            bytes[at..at + 4].copy_from_slice(&count.to_le_bytes());
        }
    }
    Ok(bytes)
}

/// The file offset of each reference's heap object (`None` for an empty row).
fn heap_offsets(file: &File, refs: &[u8], path: &Path, name: &str) -> Result<Vec<Option<usize>>> {
    let bytes = file.as_bytes();
    let mut out = Vec::with_capacity(refs.len() / 16);
    for r in refs.chunks_exact(16) {
        let count = u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as usize;
        if count == 0 {
            out.push(None);
            continue;
        }
        let addr = u64::from_le_bytes([r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11]]) as usize;
        let index = u32::from_le_bytes([r[12], r[13], r[14], r[15]]) as u16;
        let size = u64::from_le_bytes(bytes[addr + 8..addr + 16].try_into().unwrap_or([0; 8]));
        let (end, mut p) = (addr + size as usize, addr + 16);
        let mut found = None;
        while p + 16 <= end {
            let id = u16::from_le_bytes([bytes[p], bytes[p + 1]]);
            let len = u64::from_le_bytes(bytes[p + 8..p + 16].try_into().unwrap_or([0; 8]));
            if id == index {
                found = Some(p + 16);
                break;
            }
            p += 16 + (len as usize).div_ceil(8) * 8;
        }
        match found {
            Some(off) => out.push(Some(off)),
            None => {
                return Err(TrainError::Hdf5 {
                    path: path.to_path_buf(),
                    message: format!("{name}: writer left no heap object {index}"),
                });
            }
        }
    }
    Ok(out)
}

//! N-MNIST event files (Orchard et al. 2015, "Converting static image datasets to spiking
//! neuromorphic datasets using saccades"), also used by N-Caltech101.
//!
//! A file is a sequence of 40-bit big-endian records, one per event:
//!
//! | bits  | byte                | field                                 |
//! |-------|---------------------|---------------------------------------|
//! | 39-32 | 0                   | x, pixel column (0..34)               |
//! | 31-24 | 1                   | y, pixel row (0..34)                  |
//! | 23    | 2, top bit          | polarity (1 = ON, 0 = OFF)            |
//! | 22-0  | 2 (low 7 bits), 3, 4 | timestamp in microseconds           |
//!
//! A record with `y == 240` is a timestamp-overflow marker, not an event: it adds 2^13 µs to
//! its own and every later timestamp (as Orchard's `Read_Ndataset.m` and tonic's
//! `read_mnist_file` do).
//!
//! Each event becomes unit `polarity * 34 * 34 + y * 34 + x` of [`NMNIST_UNITS`], the flattened
//! `[polarity, y, x]` order of tonic's `ToFrame` on sensor size `(34, 34, 2)`.

use std::path::Path;

use super::events::{EventSample, ReadLimits, TimeUnit, read_file_capped};
use crate::error::{Result, TrainError};

/// Sensor width and height, in pixels.
pub const NMNIST_SIZE: u16 = 34;
/// Units: 34 x 34 pixels x 2 polarities.
pub const NMNIST_UNITS: usize = 2 * 34 * 34;
/// Number of classes (digits).
pub const NMNIST_CLASSES: usize = 10;
/// Bytes per record.
pub const RECORD_BYTES: usize = 5;
/// Timestamp added by an overflow marker, µs.
pub const OVERFLOW_US: u64 = 1 << 13;
/// The `y` value that marks an overflow record.
const OVERFLOW_Y: u8 = 240;
/// Largest timestamp a record holds, µs (23 bits).
pub const MAX_TIMESTAMP_US: u64 = (1 << 23) - 1;
/// Default cap on the size of one N-MNIST file: 64 MiB, about 13 million events, where N-MNIST
/// files hold a few thousand (tens of KiB). A larger file is refused before it is read: its
/// decoded sample would take about 3.4 times its size. Override it with [`read_nmnist_with_limits`] or [`read_nmnist_folder_with_limits`].
pub const NMNIST_MAX_BYTES: u64 = 64 << 20;

/// Reads one N-MNIST file into an [`EventSample`] with times in µs, `xy`, `polarity` and units
/// as in the module docs, labelled `label`. Files over [`NMNIST_MAX_BYTES`] are refused.
///
/// Errors: `Io`, `Limit` (the file is larger than the cap), `Truncated` (length not a multiple
/// of 5 bytes), `CoordinateOutOfRange`.
pub fn read_nmnist(path: impl AsRef<Path>, label: usize) -> Result<EventSample> {
    read_nmnist_with_limits(path, label, ReadLimits::max_bytes(NMNIST_MAX_BYTES))
}

/// [`read_nmnist`] with another cap on the file size ([`ReadLimits::max_bytes`]), checked from
/// the file's metadata before it is read.
pub fn read_nmnist_with_limits(
    path: impl AsRef<Path>,
    label: usize,
    limits: ReadLimits,
) -> Result<EventSample> {
    let path = path.as_ref();
    let bytes = read_file_capped(path, limits.max_bytes)?;
    parse_nmnist(&bytes, path, label)
}

/// [`read_nmnist`] on the file's bytes; `path` only names the file in errors.
pub fn parse_nmnist(bytes: &[u8], path: &Path, label: usize) -> Result<EventSample> {
    if !bytes.len().is_multiple_of(RECORD_BYTES) {
        return Err(TrainError::Truncated {
            path: path.to_path_buf(),
            expected: bytes.len().div_ceil(RECORD_BYTES) as u64 * RECORD_BYTES as u64,
            found: bytes.len() as u64,
        });
    }
    let n = bytes.len() / RECORD_BYTES;
    let (mut times, mut units) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let (mut polarity, mut xy) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut offset = 0u64;
    for (event, r) in bytes.chunks_exact(RECORD_BYTES).enumerate() {
        let (x, y) = (r[0], r[1]);
        let ts = (u64::from(r[2] & 0x7f) << 16) | (u64::from(r[3]) << 8) | u64::from(r[4]);
        if y == OVERFLOW_Y {
            offset += OVERFLOW_US;
            continue;
        }
        let size = NMNIST_SIZE;
        if u16::from(x) >= size || u16::from(y) >= size {
            return Err(TrainError::CoordinateOutOfRange {
                path: path.to_path_buf(),
                event,
                x: x.into(),
                y: y.into(),
                width: size,
                height: size,
            });
        }
        let p = r[2] >> 7 == 1;
        let side = usize::from(size);
        times.push((ts + offset) as f64);
        units.push((usize::from(p) * side * side + usize::from(y) * side + usize::from(x)) as u32);
        polarity.push(p);
        xy.push((u16::from(x), u16::from(y)));
    }
    Ok(EventSample {
        times,
        units,
        time_unit: TimeUnit::Microsecond,
        polarity: Some(polarity),
        xy: Some(xy),
        label,
    })
}

/// Reads a split folder of the N-MNIST archive (e.g. `Train/` or `Test/`): every `*.bin` in
/// each sub-folder named by a digit, labelled with that digit. Folders and files are taken in
/// name order, so the result is the same on every machine; sub-folders whose name is not a
/// number (`__MACOSX`, ...) and files without the `.bin` extension are skipped.
///
/// Errors: those of [`read_nmnist`], `Io` for an unreadable folder, and `LabelOutOfRange` for a
/// numeric folder name of 10 or more.
pub fn read_nmnist_folder(root: impl AsRef<Path>) -> Result<Vec<EventSample>> {
    read_nmnist_folder_with_limits(root, ReadLimits::max_bytes(NMNIST_MAX_BYTES))
}

/// [`read_nmnist_folder`] with another cap on the size of each file ([`ReadLimits`]).
pub fn read_nmnist_folder_with_limits(
    root: impl AsRef<Path>,
    limits: ReadLimits,
) -> Result<Vec<EventSample>> {
    let root = root.as_ref();
    let mut samples = Vec::new();
    for dir in sorted_entries(root)? {
        let Some(label) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        if !dir.is_dir() {
            continue;
        }
        if label >= NMNIST_CLASSES {
            return Err(TrainError::LabelOutOfRange {
                what: dir.display().to_string(),
                label,
                classes: NMNIST_CLASSES,
            });
        }
        for file in sorted_entries(&dir)? {
            if file.extension().is_some_and(|e| e == "bin") && file.is_file() {
                samples.push(read_nmnist_with_limits(&file, label, limits)?);
            }
        }
    }
    Ok(samples)
}

fn sorted_entries(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let io = |source| TrainError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io)?;
    entries.sort();
    Ok(entries)
}

/// Encodes a sample as N-MNIST records: each event's `xy`, `polarity` and time (µs, rounded
/// to the nearest integer), in the sample's order, without overflow markers.
///
/// Errors: `Setting` (no `xy` or `polarity`, or times not in µs), `LengthMismatch`,
/// `InvalidEventTime` (negative, not finite, or beyond the 23-bit timestamp),
/// `CoordinateOutOfRange`.
pub fn nmnist_bytes(sample: &EventSample, path: &Path) -> Result<Vec<u8>> {
    let setting = |message: &str| TrainError::Setting {
        field: "sample",
        message: format!("{}: {message}", path.display()),
    };
    if sample.time_unit != TimeUnit::Microsecond {
        return Err(setting("N-MNIST times are in microseconds"));
    }
    let (Some(xy), Some(polarity)) = (&sample.xy, &sample.polarity) else {
        return Err(setting("an N-MNIST event needs a pixel and a polarity"));
    };
    for (name, len) in [("xy", xy.len()), ("polarity", polarity.len())] {
        if len != sample.times.len() {
            return Err(TrainError::LengthMismatch {
                what: format!("{}: {name} vs times", path.display()),
                expected: sample.times.len(),
                found: len,
            });
        }
    }
    let mut out = Vec::with_capacity(sample.times.len() * RECORD_BYTES);
    for (event, ((&t, &(x, y)), &p)) in sample.times.iter().zip(xy).zip(polarity).enumerate() {
        let ts = t.round();
        if !(ts.is_finite() && ts >= 0.0 && ts <= MAX_TIMESTAMP_US as f64) {
            return Err(TrainError::InvalidEventTime {
                what: path.display().to_string(),
                event,
                time: t,
            });
        }
        if x >= NMNIST_SIZE || y >= NMNIST_SIZE {
            return Err(TrainError::CoordinateOutOfRange {
                path: path.to_path_buf(),
                event,
                x,
                y,
                width: NMNIST_SIZE,
                height: NMNIST_SIZE,
            });
        }
        let ts = ts as u32;
        out.extend_from_slice(&[
            x as u8,
            y as u8,
            (u8::from(p) << 7) | ((ts >> 16) as u8 & 0x7f),
            (ts >> 8) as u8,
            ts as u8,
        ]);
    }
    Ok(out)
}

/// Writes a sample as an N-MNIST file (see [`nmnist_bytes`]).
pub fn write_nmnist(path: impl AsRef<Path>, sample: &EventSample) -> Result<()> {
    let path = path.as_ref();
    let bytes = nmnist_bytes(sample, path)?;
    std::fs::write(path, bytes).map_err(|source| TrainError::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_bit_layout_by_hand() {
        // x = 3, y = 33, ON, t = 0x01_02_03 = 66051 µs; then an overflow marker; then
        // x = 0, y = 0, OFF, t = 0x7f_ff_ff (largest) + 8192.
        let bytes = [
            3, 33, 0x81, 0x02, 0x03, 0, 240, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff,
        ];
        let s = parse_nmnist(&bytes, Path::new("x.bin"), 4).unwrap();
        assert_eq!(s.times, [66051.0, (0x7f_ffff + 8192) as f64]);
        assert_eq!(s.xy.as_deref(), Some(&[(3, 33), (0, 0)][..]));
        assert_eq!(s.polarity.as_deref(), Some(&[true, false][..]));
        assert_eq!(s.units, [34 * 34 + 33 * 34 + 3, 0]);
        assert_eq!(s.label, 4);
    }
}

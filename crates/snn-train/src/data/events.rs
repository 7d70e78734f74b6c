//! Event (spike-list) samples and their binning into dense `[batch, time_bins, units]` tensors.
//!
//! Event-based datasets (SHD/SSC, N-MNIST, randman) store each sample as a list of events: a
//! time and a unit (input channel) per event, sometimes a polarity and a pixel. Networks consume
//! dense spike tensors, so [`bin_events`] counts the events of each unit in consecutive time
//! bins, as tonic's `ToFrame` and the SHD tutorials do.

use std::path::Path;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, DatasetError};
use burn::prelude::*;

use crate::error::{Result, TrainError};

/// The unit in which a sample's event times are stored: the file format's own unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds (SHD and SSC).
    Second,
    /// Milliseconds.
    Millisecond,
    /// Microseconds (N-MNIST and other DVS recordings).
    Microsecond,
    /// Simulation time steps (randman).
    Step,
}

/// One sample of an event-based dataset.
///
/// Event `k` happens at `times[k]` (in [`time_unit`](Self::time_unit), counted from the start of
/// the recording) on unit `units[k]`. Events need not be sorted.
#[derive(Clone, Debug, PartialEq)]
pub struct EventSample {
    /// Event times, in `time_unit`, each finite and `>= 0`.
    pub times: Vec<f64>,
    /// The unit (input channel) of each event; for a camera, the flattened pixel and polarity
    /// (see [`crate::data::nmnist`]).
    pub units: Vec<u32>,
    /// The unit of `times`.
    pub time_unit: TimeUnit,
    /// Polarity of each event (`true` = ON), for DVS recordings.
    pub polarity: Option<Vec<bool>>,
    /// Pixel `(x, y)` of each event, for DVS recordings.
    pub xy: Option<Vec<(u16, u16)>>,
    /// Class index.
    pub label: usize,
}

impl EventSample {
    /// A sample with times and units only.
    pub fn new(times: Vec<f64>, units: Vec<u32>, time_unit: TimeUnit, label: usize) -> Self {
        Self {
            times,
            units,
            time_unit,
            polarity: None,
            xy: None,
            label,
        }
    }

    /// Number of events.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the sample has no event.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Checks that every per-event array has one entry per event, that times are finite and
    /// `>= 0`, that units are below `units` and the label below `classes`. `what` names the
    /// sample in the error (e.g. `sample 3`).
    pub fn validate(&self, units: usize, classes: usize, what: &str) -> Result<()> {
        let n = self.times.len();
        let lengths = [
            ("units", Some(self.units.len())),
            ("polarity", self.polarity.as_ref().map(Vec::len)),
            ("xy", self.xy.as_ref().map(Vec::len)),
        ];
        for (name, len) in lengths {
            if let Some(len) = len
                && len != n
            {
                return Err(TrainError::LengthMismatch {
                    what: format!("{what}: {name} vs times"),
                    expected: n,
                    found: len,
                });
            }
        }
        for (event, (&time, &unit)) in self.times.iter().zip(&self.units).enumerate() {
            if !(time.is_finite() && time >= 0.0) {
                return Err(TrainError::InvalidEventTime {
                    what: what.to_string(),
                    event,
                    time,
                });
            }
            if unit as usize >= units {
                return Err(TrainError::UnitOutOfRange {
                    what: what.to_string(),
                    event,
                    unit: u64::from(unit),
                    units,
                });
            }
        }
        if self.label >= classes {
            return Err(TrainError::LabelOutOfRange {
                what: what.to_string(),
                label: self.label,
                classes,
            });
        }
        Ok(())
    }

    /// The latest event time, or 0 without events.
    pub fn duration(&self) -> f64 {
        self.times.iter().copied().fold(0.0, f64::max)
    }
}

/// Caps on what an event-file reader takes from one file. Sizes a file declares are checked
/// against the file's own length; these caps bound the file itself and what is decoded from
/// it. Each reader has a default ([`crate::data::shd::SHD_MAX_BYTES`],
/// [`crate::data::nmnist::NMNIST_MAX_BYTES`]) and a `_with_limits` variant to override it:
///
/// ```
/// use snn_train::data::events::ReadLimits;
/// use snn_train::data::nmnist::read_nmnist_with_limits;
///
/// // N-Caltech101 recordings are larger than N-MNIST ones
/// let limits = ReadLimits::max_bytes(256 << 20);
/// assert!(read_nmnist_with_limits("absent.bin", 0, limits).is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// The largest file read, in bytes; also the most bytes decoded from one file.
    pub max_bytes: u64,
}

impl ReadLimits {
    /// Limits of at most `max_bytes` per file.
    pub const fn max_bytes(max_bytes: u64) -> Self {
        Self { max_bytes }
    }
}

/// The bytes of the file at `path`, refused with `Limit` when it is longer than `max_bytes`
/// ([`snn_nir::hdf5_bounds::read_file_capped`]: checked from the file's metadata before
/// anything is read).
pub(crate) fn read_file_capped(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    snn_nir::hdf5_bounds::read_file_capped(path, max_bytes)
        .map_err(|e| super::shd::bound_error(e, path, ""))
}

/// How the time axis is cut into bins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TimeBins {
    /// Bins of a fixed width, in the samples' own time unit: event time `t` falls in bin
    /// `floor(t / width)`. Without a `max_time` the batch gets as many bins as its latest event
    /// needs (`floor(t_max / width) + 1`), so batches may differ in length.
    Width(f64),
    /// A fixed number of bins spanning `[0, max_time]`, or, without a `max_time`, each sample's
    /// own `[0, last event time]`: `bin = min(floor(t / span * count), count - 1)`.
    Count(usize),
}

/// How [`bin_events`] turns events into a dense tensor.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BinConfig {
    /// The time bins.
    pub bins: TimeBins,
    /// Events at `t >= max_time` (in the samples' time unit) are dropped, and with
    /// [`TimeBins::Width`] the tensor has `ceil(max_time / width)` bins. `None`: keep every event.
    pub max_time: Option<f64>,
    /// Number of units: the last axis of the tensor. Every event's unit must be below it.
    pub units: usize,
    /// `true`: a bin holds 1.0 if the unit fired at least once in it (a spike tensor);
    /// `false`: the number of events.
    pub binary: bool,
}

impl BinConfig {
    /// Fixed-width bins (in the samples' time unit), counts, no time limit.
    pub fn width(width: f64, units: usize) -> Self {
        Self {
            bins: TimeBins::Width(width),
            max_time: None,
            units,
            binary: false,
        }
    }

    /// A fixed number of bins, counts, no time limit.
    pub fn count(count: usize, units: usize) -> Self {
        Self {
            bins: TimeBins::Count(count),
            max_time: None,
            units,
            binary: false,
        }
    }

    /// Sets the time limit.
    pub fn with_max_time(self, max_time: f64) -> Self {
        Self {
            max_time: Some(max_time),
            ..self
        }
    }

    /// Sets binary (spike) output instead of counts.
    pub fn with_binary(self, binary: bool) -> Self {
        Self { binary, ..self }
    }

    /// Rejects a zero bin count or unit count and a width or time limit that is not finite and
    /// positive.
    pub fn validate(&self) -> Result<()> {
        let setting = |field, message: String| Err(TrainError::Setting { field, message });
        match self.bins {
            TimeBins::Width(w) if !(w.is_finite() && w > 0.0) => {
                return setting("bins", format!("bin width must be finite and > 0, got {w}"));
            }
            TimeBins::Count(0) => return setting("bins", "bin count must be > 0".into()),
            _ => {}
        }
        if let Some(m) = self.max_time
            && !(m.is_finite() && m > 0.0)
        {
            return setting("max_time", format!("must be finite and > 0, got {m}"));
        }
        if self.units == 0 {
            return setting("units", "must be > 0".into());
        }
        Ok(())
    }

    /// The number of time bins for these samples.
    fn time_bins(&self, samples: &[EventSample]) -> Result<usize> {
        Ok(match (self.bins, self.max_time) {
            (TimeBins::Count(n), _) => n,
            (TimeBins::Width(w), Some(m)) => bins_needed(m / w, true)?,
            (TimeBins::Width(w), None) => {
                let t_max = samples
                    .iter()
                    .map(EventSample::duration)
                    .fold(0.0, f64::max);
                bins_needed(t_max / w, false)?
            }
        })
    }
}

/// `ceil(x)` (for a limit) or `floor(x) + 1` (for the latest event), bounded so that a bad time
/// cannot ask for an absurd allocation.
fn bins_needed(x: f64, limit: bool) -> Result<usize> {
    const MAX_BINS: f64 = 1e8;
    let n = if limit { x.ceil() } else { x.floor() + 1.0 };
    if !(n.is_finite() && n <= MAX_BINS) {
        return Err(TrainError::Setting {
            field: "bins",
            message: format!("{n} time bins (more than {MAX_BINS}): is the bin width too small?"),
        });
    }
    Ok((n as usize).max(1))
}

/// Bins one sample into `time_bins * units` values, row-major `[time, unit]`. The sample is
/// validated first (units, times, per-event arrays); `what` names it in errors.
pub fn bin_sample(
    sample: &EventSample,
    config: &BinConfig,
    time_bins: usize,
    what: &str,
) -> Result<Vec<f32>> {
    config.validate()?;
    sample.validate(config.units, usize::MAX, what)?;
    let units = config.units;
    let mut out = vec![0f32; time_bins * units];
    let span = match config.bins {
        TimeBins::Count(_) => config.max_time.unwrap_or_else(|| sample.duration()),
        TimeBins::Width(w) => w,
    };
    for (&t, &u) in sample.times.iter().zip(&sample.units) {
        if config.max_time.is_some_and(|m| t >= m) {
            continue;
        }
        let bin = match config.bins {
            // A sample whose events all sit at t = 0 has a zero span: they go to the first bin.
            TimeBins::Count(n) if span > 0.0 => ((t / span * n as f64).floor() as usize).min(n - 1),
            TimeBins::Count(_) => 0,
            TimeBins::Width(w) => (t / w).floor() as usize,
        };
        if bin >= time_bins {
            continue;
        }
        let cell = &mut out[bin * units + u as usize];
        *cell = if config.binary { 1.0 } else { *cell + 1.0 };
    }
    Ok(out)
}

/// Bins a batch of samples into a dense `[batch, time_bins, units]` tensor on `device`.
///
/// All samples must share one [`TimeUnit`], which is also the unit of the bin width and of
/// `max_time`. Errors: a bad [`BinConfig`] (`Setting`), a unit id not below `config.units`
/// (`UnitOutOfRange`), a negative or non-finite time (`InvalidEventTime`), per-event arrays of
/// different lengths (`LengthMismatch`), mixed time units or an empty batch (`Setting`).
pub fn bin_events(
    samples: &[EventSample],
    config: &BinConfig,
    device: &Device,
) -> Result<Tensor<3>> {
    let (values, [b, t, u]) = bin_events_to_vec(samples, config)?;
    Ok(Tensor::<1>::from_floats(values.as_slice(), device).reshape([b, t, u]))
}

/// [`bin_events`] without a device: the values, row-major, and the shape `[batch, time, units]`.
pub fn bin_events_to_vec(
    samples: &[EventSample],
    config: &BinConfig,
) -> Result<(Vec<f32>, [usize; 3])> {
    config.validate()?;
    let Some(first) = samples.first() else {
        return Err(TrainError::Setting {
            field: "samples",
            message: "cannot bin an empty batch".into(),
        });
    };
    if let Some(s) = samples.iter().find(|s| s.time_unit != first.time_unit) {
        return Err(TrainError::Setting {
            field: "samples",
            message: format!(
                "mixed time units in one batch: {:?} and {:?}",
                first.time_unit, s.time_unit
            ),
        });
    }
    for (k, s) in samples.iter().enumerate() {
        s.validate(config.units, usize::MAX, &format!("sample {k}"))?;
    }
    let time_bins = config.time_bins(samples)?;
    let mut values = Vec::with_capacity(samples.len() * time_bins * config.units);
    for (k, s) in samples.iter().enumerate() {
        values.extend(bin_sample(s, config, time_bins, &format!("sample {k}"))?);
    }
    Ok((values, [samples.len(), time_bins, config.units]))
}

/// A dataset of [`EventSample`]s for burn's `DataLoader`.
#[derive(Clone, Debug)]
pub struct EventDataset {
    samples: Vec<EventSample>,
}

impl EventDataset {
    /// Wraps samples after checking each against `units` and `classes` (see
    /// [`EventSample::validate`]), so that batching them cannot fail later.
    pub fn new(samples: Vec<EventSample>, units: usize, classes: usize) -> Result<Self> {
        for (k, s) in samples.iter().enumerate() {
            s.validate(units, classes, &format!("sample {k}"))?;
        }
        Ok(Self { samples })
    }

    /// The samples.
    pub fn samples(&self) -> &[EventSample] {
        &self.samples
    }

    /// Takes the samples out.
    pub fn into_samples(self) -> Vec<EventSample> {
        self.samples
    }
}

impl Dataset<EventSample> for EventDataset {
    fn get(&self, index: usize) -> core::result::Result<EventSample, DatasetError> {
        self.samples.get(index).cloned().ok_or_else(|| {
            DatasetError::new(std::io::Error::other(format!(
                "index {index} out of {}",
                self.samples.len()
            )))
        })
    }

    fn len(&self) -> usize {
        self.samples.len()
    }
}

/// A batch of binned events: `inputs` `[batch, time_bins, units]`.
pub type EventBatch = super::SpikeBatch;

/// Turns [`EventSample`]s into [`EventBatch`]es with [`bin_events`].
#[derive(Clone, Debug)]
pub struct EventBatcher {
    config: BinConfig,
}

impl EventBatcher {
    /// A batcher binning with `config` (checked here).
    pub fn new(config: BinConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self { config })
    }

    /// The binning.
    pub fn config(&self) -> &BinConfig {
        &self.config
    }
}

impl Batcher<EventSample, EventBatch> for EventBatcher {
    /// # Panics
    /// burn's `Batcher` cannot return an error, so a sample that [`bin_events`] rejects panics
    /// here. Samples from an [`EventDataset`] built with the batcher's unit count never do.
    fn batch(&self, items: Vec<EventSample>, device: &Device) -> EventBatch {
        let labels: Vec<i64> = items.iter().map(|s| s.label as i64).collect();
        let inputs = bin_events(&items, &self.config, device)
            .unwrap_or_else(|e| panic!("EventBatcher: {e}"));
        EventBatch {
            inputs,
            targets: Tensor::<1, Int>::from_ints(labels.as_slice(), device),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(times: &[f64], units: &[u32]) -> EventSample {
        EventSample::new(times.to_vec(), units.to_vec(), TimeUnit::Millisecond, 0)
    }

    #[test]
    fn width_bins_count_events_per_unit() {
        let s = sample(&[0.0, 0.4, 1.0, 2.5, 2.9], &[1, 1, 0, 2, 2]);
        let (v, shape) =
            bin_events_to_vec(std::slice::from_ref(&s), &BinConfig::width(1.0, 3)).unwrap();
        assert_eq!(shape, [1, 3, 3]);
        assert_eq!(v, [0., 2., 0., 1., 0., 0., 0., 0., 2.]);
        let binary = BinConfig::width(1.0, 3)
            .with_binary(true)
            .with_max_time(2.0);
        let (v, shape) = bin_events_to_vec(&[s], &binary).unwrap();
        assert_eq!(shape, [1, 2, 3]);
        assert_eq!(v, [0., 1., 0., 1., 0., 0.]);
    }

    #[test]
    fn count_bins_span_the_sample() {
        // span 4: bins [0,1), [1,2), [2,3), [3,4]; t = 4 lands in the last bin.
        let s = sample(&[0.0, 1.0, 3.9, 4.0], &[0, 0, 0, 0]);
        let (v, _) = bin_events_to_vec(&[s], &BinConfig::count(4, 1)).unwrap();
        assert_eq!(v, [1., 1., 0., 2.]);
    }
}

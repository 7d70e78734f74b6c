//! Dataset readers and generators: SHD/SSC HDF5, N-MNIST events, event binning, randman.
//!
//! Every file read here is written by the test itself (hdf5-pure for HDF5, the N-MNIST writer
//! for event files), so CI needs neither h5py nor downloads. Expected values are written by
//! hand, not taken from our own output.

use std::path::{Path, PathBuf};

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataset::Dataset;
use burn::prelude::*;
use snn_core::encode::SpikeRng;
use snn_train::TrainError;
use snn_train::data::nmnist::{self, NMNIST_SIZE};
use snn_train::data::shd::{self, SHD_CLASSES, SHD_UNITS, hdf5_pure};
use snn_train::data::{
    BinConfig, EventBatcher, EventDataset, EventSample, RandmanConfig, TimeUnit, bin_events,
    bin_events_to_vec,
};

use crate::common::{devices, values};

/// A fresh scratch folder per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burn-snn-datasets-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn ms(times: &[f64], units: &[u32], label: usize) -> EventSample {
    EventSample::new(times.to_vec(), units.to_vec(), TimeUnit::Millisecond, label)
}

// ---------------------------------------------------------------------------------------------
// Binning

#[test]
fn binning_a_batch_gives_hand_computed_counts_on_every_device() {
    // Width 2 ms, 3 units, max time 6 ms -> 3 bins. The event at 6.0 is dropped (t >= max).
    let a = ms(&[0.0, 1.9, 2.0, 5.5, 6.0], &[0, 0, 2, 1, 1], 0);
    let b = ms(&[3.0, 3.5, 3.9], &[2, 2, 2], 1);
    let config = BinConfig::width(2.0, 3).with_max_time(6.0);
    #[rustfmt::skip]
    let want_counts = [
        2., 0., 0.,   0., 0., 1.,   0., 1., 0.,
        0., 0., 0.,   0., 0., 3.,   0., 0., 0.,
    ];
    let want_binary: Vec<f32> = want_counts.iter().map(|&v: &f32| v.min(1.0)).collect();
    for (name, device) in devices() {
        let t = bin_events(&[a.clone(), b.clone()], &config, &device).unwrap();
        assert_eq!(t.dims(), [2, 3, 3], "{name}");
        assert_eq!(values(t), want_counts, "{name}: counts");
        let t = bin_events(&[a.clone(), b.clone()], &config.with_binary(true), &device).unwrap();
        assert_eq!(values(t), want_binary, "{name}: binary");
    }
    // Without a limit the batch gets floor(6.0 / 2) + 1 = 4 bins, and the 6.0 event is kept.
    let (v, shape) = bin_events_to_vec(&[a, b], &BinConfig::width(2.0, 3)).unwrap();
    assert_eq!(shape, [2, 4, 3]);
    assert_eq!(v[9..12], [0., 1., 0.]);
}

#[test]
fn binning_by_bin_count_spans_max_time() {
    // 4 bins over [0, 8): bins of 2, the event at 7.99 in the last bin.
    let s = EventSample::new(
        vec![0.5, 2.0, 7.99],
        vec![1, 0, 1],
        TimeUnit::Microsecond,
        0,
    );
    let config = BinConfig::count(4, 2).with_max_time(8.0);
    let (v, shape) = bin_events_to_vec(&[s], &config).unwrap();
    assert_eq!(shape, [1, 4, 2]);
    assert_eq!(v, [0., 1., 1., 0., 0., 0., 0., 1.]);
}

#[test]
fn binning_errors_are_typed() {
    let config = BinConfig::width(1.0, 3);
    let bad_unit = ms(&[0.0, 1.0], &[2, 3], 0);
    match bin_events_to_vec(&[ms(&[], &[], 0), bad_unit], &config) {
        Err(TrainError::UnitOutOfRange {
            what,
            event: 1,
            unit: 3,
            units: 3,
        }) => assert_eq!(what, "sample 1"),
        other => panic!("expected UnitOutOfRange, got {other:?}"),
    }
    assert!(matches!(
        bin_events_to_vec(&[ms(&[-1.0], &[0], 0)], &config),
        Err(TrainError::InvalidEventTime { event: 0, .. })
    ));
    assert!(matches!(
        bin_events_to_vec(&[ms(&[f64::NAN], &[0], 0)], &config),
        Err(TrainError::InvalidEventTime { .. })
    ));
    assert!(matches!(
        bin_events_to_vec(&[ms(&[1.0, 2.0], &[0], 0)], &config),
        Err(TrainError::LengthMismatch {
            expected: 2,
            found: 1,
            ..
        })
    ));
    let mut with_polarity = ms(&[1.0], &[0], 0);
    with_polarity.polarity = Some(vec![true, false]);
    assert!(matches!(
        bin_events_to_vec(&[with_polarity], &config),
        Err(TrainError::LengthMismatch { .. })
    ));
    for bad in [
        BinConfig::width(0.0, 3),
        BinConfig::width(f64::NAN, 3),
        BinConfig::count(0, 3),
        BinConfig::width(1.0, 0),
        BinConfig::width(1.0, 3).with_max_time(-1.0),
    ] {
        assert!(
            matches!(
                bin_events_to_vec(&[ms(&[1.0], &[0], 0)], &bad),
                Err(TrainError::Setting { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        bin_events_to_vec(&[], &config),
        Err(TrainError::Setting { .. })
    ));
    let us = EventSample::new(vec![1.0], vec![0], TimeUnit::Microsecond, 0);
    assert!(matches!(
        bin_events_to_vec(&[ms(&[1.0], &[0], 0), us], &config),
        Err(TrainError::Setting { .. })
    ));
    // A width far too small for the recording is refused rather than allocating forever.
    assert!(matches!(
        bin_events_to_vec(&[ms(&[1e9], &[0], 0)], &BinConfig::width(1e-3, 1)),
        Err(TrainError::Setting { .. })
    ));
    // EventDataset checks labels too.
    assert!(matches!(
        EventDataset::new(vec![ms(&[1.0], &[0], 5)], 3, 5),
        Err(TrainError::LabelOutOfRange {
            label: 5,
            classes: 5,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// SHD / SSC

fn shd_samples() -> Vec<EventSample> {
    vec![
        EventSample::new(vec![0.1, 0.5, 0.9], vec![3, 699, 0], TimeUnit::Second, 7),
        EventSample::new(vec![], vec![], TimeUnit::Second, 19),
        EventSample::new(vec![0.25; 5], vec![1, 2, 3, 4, 5], TimeUnit::Second, 0),
        EventSample::new(vec![1.5e-3], vec![42], TimeUnit::Second, 12),
    ]
}

fn write_shd_file(dir: &Path) -> PathBuf {
    let path = dir.join("shd_tiny.h5");
    shd::write_shd(&path, &shd_samples()).unwrap();
    path
}

#[test]
fn shd_file_round_trips_in_the_reference_layout() {
    let dir = scratch("shd-roundtrip");
    let path = write_shd_file(&dir);
    // The layout, as an independent HDF5 reader sees it (hdf5-pure's own API, not our helper).
    let file = hdf5_pure::File::open(&path).unwrap();
    let labels = file.dataset("labels").unwrap();
    assert_eq!(labels.read_u16().unwrap(), [7, 19, 0, 12]);
    for (name, size) in [("spikes/times", 4u32), ("spikes/units", 2)] {
        let ds = file.dataset(name).unwrap();
        assert_eq!(ds.shape().unwrap(), [4], "{name}");
        match ds.datatype().unwrap() {
            hdf5_pure::Datatype::VariableLength {
                is_string: false,
                base_type,
                ..
            } => assert_eq!(base_type.type_size(), size, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
        // Each 16-byte reference starts with the element count: 3, 0, 5, 1.
        let counts: Vec<u32> = ds
            .read_raw()
            .unwrap()
            .chunks_exact(16)
            .map(|r| u32::from_le_bytes(r[..4].try_into().unwrap()))
            .collect();
        assert_eq!(counts, [3, 0, 5, 1], "{name}");
    }
    let read = shd::read_shd(&path, SHD_CLASSES).unwrap();
    assert_eq!(read.len(), 4);
    assert_eq!(read[0].times, [0.1f32 as f64, 0.5, 0.9f32 as f64]);
    assert_eq!(read[0].units, [3, 699, 0]);
    assert_eq!(read[0].label, 7);
    assert!(read[1].is_empty());
    assert_eq!(read[1].label, 19);
    assert_eq!(read[2].units, [1, 2, 3, 4, 5]);
    assert_eq!(read[3].times, [1.5e-3f32 as f64]);
    assert!(read.iter().all(|s| s.time_unit == TimeUnit::Second));
    // Times in ms are stored as seconds.
    let in_ms = vec![EventSample::new(
        vec![250.0],
        vec![9],
        TimeUnit::Millisecond,
        1,
    )];
    let p = dir.join("ms.h5");
    shd::write_shd(&p, &in_ms).unwrap();
    assert_eq!(shd::read_shd(&p, 20).unwrap()[0].times, [0.25]);
    // Binned at 0.1 s over 1 s: 10 bins x 700 units.
    let (v, shape) =
        bin_events_to_vec(&read, &BinConfig::width(0.1, SHD_UNITS).with_max_time(1.0)).unwrap();
    assert_eq!(shape, [4, 10, SHD_UNITS]);
    assert_eq!(v[699 + 5 * SHD_UNITS], 1.0, "0.5 s on unit 699 is bin 5");
    assert_eq!(
        v.iter().sum::<f32>(),
        9.0,
        "3 + 0 + 5 + 1 events, all before 1 s"
    );
}

#[test]
fn shd_errors_are_typed() {
    let dir = scratch("shd-errors");
    let good = write_shd_file(&dir);

    match shd::read_shd(dir.join("absent.h5"), 20) {
        Err(TrainError::Io { source, .. }) => {
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound)
        }
        other => panic!("missing file: {other:?}"),
    }

    let text = dir.join("text.h5");
    std::fs::write(&text, "spikes,times\n0.1,3\n").unwrap();
    assert!(matches!(
        shd::read_shd(&text, 20),
        Err(TrainError::NotHdf5 { .. })
    ));

    let bytes = std::fs::read(&good).unwrap();
    let cut = dir.join("cut.h5");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    match shd::read_shd(&cut, 20) {
        Err(TrainError::Truncated {
            expected, found, ..
        }) => {
            assert_eq!(expected, bytes.len() as u64);
            assert_eq!(found, bytes.len() as u64 - 100);
        }
        other => panic!("truncated: {other:?}"),
    }

    // A label of 19 is fine for SHD (20 classes) but not for 10 classes.
    match shd::read_shd(&good, 10) {
        Err(TrainError::LabelOutOfRange {
            label: 19,
            classes: 10,
            what,
        }) => assert!(what.ends_with("sample 1"), "{what}"),
        other => panic!("label: {other:?}"),
    }

    // Missing dataset: a file with labels only.
    let mut fb = hdf5_pure::FileBuilder::new();
    fb.create_dataset("labels").with_u16_data(&[1, 2]);
    let only_labels = dir.join("labels_only.h5");
    fb.write(&only_labels).unwrap();
    match shd::read_shd(&only_labels, 20) {
        Err(TrainError::MissingDataset { dataset, .. }) => assert_eq!(dataset, "spikes/times"),
        other => panic!("missing dataset: {other:?}"),
    }

    // Wrong dtype: spikes/times as a plain f32 array.
    let mut fb = hdf5_pure::FileBuilder::new();
    let mut g = fb.create_group("spikes");
    g.create_dataset("times").with_f32_data(&[0.1, 0.2]);
    g.create_dataset("units").with_u16_data(&[1, 2]);
    fb.add_group(g.finish());
    fb.create_dataset("labels").with_u16_data(&[1, 2]);
    let flat = dir.join("flat.h5");
    fb.write(&flat).unwrap();
    match shd::read_shd(&flat, 20) {
        Err(TrainError::WrongDtype { dataset, .. }) => assert_eq!(dataset, "spikes/times"),
        other => panic!("wrong dtype: {other:?}"),
    }

    // Times/units length mismatch: rewrite the count of sample 0's units reference (3 -> 2).
    let mut patched = bytes.clone();
    let file = hdf5_pure::File::from_bytes(bytes.clone()).unwrap();
    let hdf5_pure::Layout::Contiguous {
        address: Some(refs),
        ..
    } = file.dataset("spikes/units").unwrap().layout().unwrap()
    else {
        panic!("units not contiguous")
    };
    patched[refs as usize..refs as usize + 4].copy_from_slice(&2u32.to_le_bytes());
    let mismatch = dir.join("mismatch.h5");
    std::fs::write(&mismatch, &patched).unwrap();
    match shd::read_shd(&mismatch, 20) {
        Err(TrainError::LengthMismatch {
            expected: 3,
            found: 2,
            what,
        }) => assert!(what.contains("sample 0"), "{what}"),
        other => panic!("length mismatch: {other:?}"),
    }

    // A unit beyond 700.
    let wide = vec![EventSample::new(vec![0.1], vec![700], TimeUnit::Second, 0)];
    let p = dir.join("wide.h5");
    shd::write_shd(&p, &wide).unwrap();
    assert!(matches!(
        shd::read_shd(&p, 20),
        Err(TrainError::UnitOutOfRange {
            unit: 700,
            units: 700,
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------------
// N-MNIST

fn nmnist_sample(label: usize, n: usize) -> EventSample {
    let xy: Vec<(u16, u16)> = (0..n)
        .map(|k| ((k * 7 % 34) as u16, (k * 5 % 34) as u16))
        .collect();
    let polarity: Vec<bool> = (0..n).map(|k| k % 3 == 0).collect();
    let units = xy
        .iter()
        .zip(&polarity)
        .map(|(&(x, y), &p)| u32::from(p) * 1156 + u32::from(y) * 34 + u32::from(x))
        .collect();
    EventSample {
        times: (0..n).map(|k| (k * 1237) as f64).collect(),
        units,
        time_unit: TimeUnit::Microsecond,
        polarity: Some(polarity),
        xy: Some(xy),
        label,
    }
}

#[test]
fn nmnist_round_trips_and_reads_a_folder_tree() {
    let dir = scratch("nmnist");
    // Hand-encoded record: x = 33, y = 2, ON, t = 300000 µs = 0x04_93_E0.
    let one = dir.join("one.bin");
    std::fs::write(&one, [33, 2, 0x80 | 0x04, 0x93, 0xE0]).unwrap();
    let s = nmnist::read_nmnist(&one, 3).unwrap();
    assert_eq!(s.times, [300000.0]);
    assert_eq!(s.units, [1156 + 2 * 34 + 33]);
    let back = nmnist::nmnist_bytes(&s, &one).unwrap();
    assert_eq!(back, [33, 2, 0x84, 0x93, 0xE0]);

    let train = dir.join("Train");
    for digit in [0usize, 7] {
        std::fs::create_dir_all(train.join(digit.to_string())).unwrap();
        for k in 0..3 {
            let path = train.join(format!("{digit}/{:05}.bin", k + 1));
            nmnist::write_nmnist(&path, &nmnist_sample(digit, 10 + k)).unwrap();
        }
    }
    std::fs::create_dir_all(train.join("__MACOSX")).unwrap();
    std::fs::write(train.join("7/readme.txt"), "not an event file").unwrap();
    let all = nmnist::read_nmnist_folder(&train).unwrap();
    assert_eq!(all.len(), 6);
    assert_eq!(
        all.iter().map(|s| s.label).collect::<Vec<_>>(),
        [0, 0, 0, 7, 7, 7]
    );
    assert_eq!(all[4], nmnist_sample(7, 11));
    let data = EventDataset::new(all, nmnist::NMNIST_UNITS, nmnist::NMNIST_CLASSES).unwrap();
    assert_eq!(data.len(), 6);

    std::fs::create_dir_all(train.join("12")).unwrap();
    assert!(matches!(
        nmnist::read_nmnist_folder(&train),
        Err(TrainError::LabelOutOfRange { label: 12, .. })
    ));
}

#[test]
fn nmnist_errors_are_typed() {
    let dir = scratch("nmnist-errors");
    let path = dir.join("bad.bin");
    std::fs::write(&path, [1, 2, 3, 4, 5, 6, 7]).unwrap();
    assert!(matches!(
        nmnist::read_nmnist(&path, 0),
        Err(TrainError::Truncated {
            expected: 10,
            found: 7,
            ..
        })
    ));
    std::fs::write(&path, [0, 0, 0, 0, 1, 34, 3, 0, 0, 2]).unwrap();
    assert!(matches!(
        nmnist::read_nmnist(&path, 0),
        Err(TrainError::CoordinateOutOfRange {
            event: 1,
            x: 34,
            y: 3,
            ..
        })
    ));
    std::fs::write(&path, [5, 34, 0, 0, 1]).unwrap();
    assert!(matches!(
        nmnist::read_nmnist(&path, 0),
        Err(TrainError::CoordinateOutOfRange { y: 34, .. })
    ));
    assert!(matches!(
        nmnist::read_nmnist(dir.join("absent.bin"), 0),
        Err(TrainError::Io { .. })
    ));
    let mut off_sensor = nmnist_sample(0, 2);
    off_sensor.xy = Some(vec![(0, 0), (NMNIST_SIZE, 0)]);
    assert!(matches!(
        nmnist::nmnist_bytes(&off_sensor, &path),
        Err(TrainError::CoordinateOutOfRange { event: 1, .. })
    ));
    let mut late = nmnist_sample(0, 1);
    late.times = vec![(1u64 << 23) as f64];
    assert!(matches!(
        nmnist::nmnist_bytes(&late, &path),
        Err(TrainError::InvalidEventTime { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Fuzzing: mutated and truncated files never panic the readers.

/// The project's seeded generator, so that every run mutates the same way.
struct Rng(SpikeRng);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn below(&mut self, n: usize) -> usize {
        self.0.below(n.max(1) as u64) as usize
    }
}

/// One random mutation: truncation, bit flips, random bytes, an interesting value (0, 0xff,
/// 0x7f, 0x80) written over a few bytes, or a duplicated/deleted span.
fn mutate(rng: &mut Rng, data: &[u8]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        let n = d.len();
        if n == 0 {
            break;
        }
        match rng.below(6) {
            0 => d.truncate(rng.below(n)),
            1 => {
                let i = rng.below(n);
                d[i] ^= 1 << rng.below(8);
            }
            2 => {
                let i = rng.below(n);
                d[i] = rng.next() as u8;
            }
            3 => {
                let i = rng.below(n);
                let v = [0u8, 0xff, 0x7f, 0x80][rng.below(4)];
                for b in d.iter_mut().skip(i).take(1 + rng.below(8)) {
                    *b = v;
                }
            }
            4 => {
                let (i, len) = (rng.below(n), 1 + rng.below(32));
                let span: Vec<u8> = d[i..(i + len).min(n)].to_vec();
                let at = rng.below(n);
                d.splice(at..at, span);
            }
            _ => {
                let i = rng.below(n);
                let end = (i + 1 + rng.below(32)).min(n);
                d.drain(i..end);
            }
        }
    }
    d
}

#[test]
fn fuzzed_files_give_ok_or_a_typed_error_never_a_panic() {
    let path = Path::new("fuzz.h5");
    let shd_good = shd::shd_bytes(&shd_samples(), path).unwrap();
    let nmnist_good = nmnist::nmnist_bytes(&nmnist_sample(1, 40), path).unwrap();
    let mut rng = Rng(SpikeRng::new(0x5eed));
    let (mut shd_ok, mut shd_err, mut guarded) = (0, 0, 0);
    for _ in 0..3000 {
        let bytes = mutate(&mut rng, &shd_good);
        let outcome = std::panic::catch_unwind(|| shd::read_shd_bytes(&bytes, path, SHD_CLASSES));
        match outcome {
            Ok(Ok(samples)) => {
                shd_ok += 1;
                // What reads back must also bin.
                assert!(samples.iter().all(|s| s.units.len() == s.times.len()));
            }
            Ok(Err(TrainError::Hdf5 { message, .. })) if message.contains("panicked") => {
                guarded += 1
            }
            Ok(Err(_)) => shd_err += 1,
            Err(_) => panic!("the SHD reader panicked on {} bytes", bytes.len()),
        }
    }
    let (mut nm_ok, mut nm_err) = (0, 0);
    for _ in 0..3000 {
        let bytes = mutate(&mut rng, &nmnist_good);
        match std::panic::catch_unwind(|| nmnist::parse_nmnist(&bytes, path, 1)) {
            Ok(Ok(s)) => {
                nm_ok += 1;
                assert!(s.units.iter().all(|&u| (u as usize) < nmnist::NMNIST_UNITS));
            }
            Ok(Err(_)) => nm_err += 1,
            Err(_) => panic!("the N-MNIST reader panicked"),
        }
    }
    eprintln!(
        "SHD: {shd_ok} ok, {shd_err} typed errors, {guarded} hdf5-pure panics caught; \
         N-MNIST: {nm_ok} ok, {nm_err} typed errors"
    );
    // Both outcomes must occur, or the mutations are not reaching the parsers.
    assert!(shd_ok > 0 && shd_err > 0 && nm_ok > 0 && nm_err > 0);
}

// ---------------------------------------------------------------------------------------------
// Randman

fn small_randman(seed: u64) -> RandmanConfig {
    RandmanConfig {
        nb_samples: 50,
        seed,
        ..RandmanConfig::new()
    }
}

#[test]
fn randman_is_reproducible_and_well_formed() {
    let config = small_randman(7);
    let a = config.generate().unwrap();
    let b = config.generate().unwrap();
    assert_eq!(a.samples(), b.samples(), "same seed, same data");
    let c = small_randman(8).generate().unwrap();
    assert_ne!(a.samples(), c.samples(), "another seed, other data");

    assert_eq!(a.len(), 10 * 50);
    let mut per_class = [0usize; 10];
    for s in a.samples() {
        per_class[s.label] += 1;
        assert_eq!(s.units, (0..20).collect::<Vec<u32>>(), "one spike per unit");
        assert!(
            s.times.iter().all(|&t| (0.0..100.0).contains(&t)),
            "{:?}",
            s.times
        );
        assert_eq!(s.time_unit, TimeUnit::Step);
    }
    assert_eq!(per_class, [50; 10], "every class, nb_samples each");
    // Shuffled: the labels are not in class order.
    assert!(a.samples().windows(2).any(|w| w[0].label > w[1].label));

    // Min-max standardization per class and unit: the earliest spike is at 0 and the latest
    // just below nb_steps, (max - min) / (max - min + 1e-7) * 100.
    for class in 0..10 {
        for unit in 0..20 {
            let times: Vec<f64> = a
                .samples()
                .iter()
                .filter(|s| s.label == class)
                .map(|s| s.times[unit])
                .collect();
            let lo = times.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = times.iter().copied().fold(0.0, f64::max);
            assert_eq!(lo, 0.0);
            assert!(hi > 99.99 && hi < 100.0, "class {class} unit {unit}: {hi}");
        }
    }

    // Two spikes per unit, a 2-D manifold, half the steps.
    let config = RandmanConfig {
        nb_classes: 3,
        nb_units: 5,
        nb_spikes: 2,
        dim_manifold: 2,
        step_frac: 0.5,
        nb_samples: 20,
        ..RandmanConfig::new()
    };
    let (data, coords) = config.generate_with_coords().unwrap();
    assert_eq!(coords.len(), 60);
    assert!(coords.iter().flatten().all(|&x| (0.0..1.0).contains(&x)));
    for s in data.samples() {
        assert_eq!(s.units, [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
        assert!(s.times.iter().all(|&t| (0.0..50.0).contains(&t)));
    }
}

#[test]
fn randman_settings_are_checked() {
    for bad in [
        RandmanConfig {
            nb_classes: 0,
            ..RandmanConfig::new()
        },
        RandmanConfig {
            nb_units: 0,
            ..RandmanConfig::new()
        },
        RandmanConfig {
            alpha: 0.0,
            ..RandmanConfig::new()
        },
        RandmanConfig {
            step_frac: 1.5,
            ..RandmanConfig::new()
        },
        RandmanConfig {
            prec: f64::NAN,
            ..RandmanConfig::new()
        },
    ] {
        assert!(
            matches!(bad.generate(), Err(TrainError::Setting { .. })),
            "{bad:?}"
        );
    }
}

#[test]
fn randman_batches_through_burns_dataloader() {
    let config = small_randman(3);
    let data = config.generate().unwrap();
    let first = data.samples()[0].clone();
    let loader = DataLoaderBuilder::new(config.batcher().unwrap())
        .batch_size(64)
        .num_workers(1)
        .set_device(Device::flex())
        .build(data);
    let mut seen = 0;
    for (k, batch) in loader.iter().enumerate() {
        let batch = batch.unwrap();
        let [b, t, u] = batch.inputs.dims();
        assert_eq!([t, u], [100, 20]);
        let spikes = values(batch.inputs.clone());
        assert!(spikes.iter().all(|&v| v == 0.0 || v == 1.0));
        assert_eq!(
            spikes.iter().sum::<f32>(),
            (b * 20) as f32,
            "one spike per unit"
        );
        if k == 0 {
            // Unit 0 of the first sample spikes in step floor(t).
            let step = first.times[0].floor() as usize;
            assert_eq!(spikes[step * 20], 1.0);
            let labels = batch
                .targets
                .into_data()
                .convert::<i64>()
                .try_to_vec::<i64>()
                .unwrap();
            assert_eq!(labels[0], first.label as i64);
        }
        seen += b;
    }
    assert_eq!(seen, 500);
    // The EventBatcher refuses a bad binning up front.
    assert!(matches!(
        EventBatcher::new(BinConfig::width(-1.0, 3)),
        Err(TrainError::Setting { .. })
    ));
}

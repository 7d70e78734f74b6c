//! The file readers on crafted files: sizes and links that lie, not only flipped bytes. Each
//! file is a valid HDF5 (or N-MNIST) structure built here — written with hdf5-pure, then header
//! fields located and rewritten, checksums recomputed — and each must give a typed error
//! before anything of the claimed size is allocated: no abort, no stack overflow. The last
//! tests run the built binary on them (exit code 3, no signal).

use std::path::{Path, PathBuf};
use std::process::Command;

use snn_nir::read::ReadLimits as NirLimits;
use snn_nir::{NirError, NirGraph};
use snn_train::TrainError;
use snn_train::data::events::ReadLimits;
use snn_train::data::shd::hdf5_pure::{File, FileBuilder, GroupBuilder, Layout};
use snn_train::data::{EventSample, TimeUnit, nmnist, shd};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("snn-readers-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

// ---- HDF5 surgery -------------------------------------------------------------------------

/// Bob Jenkins' lookup3 `hashlittle` with initial value 0: the checksum of HDF5's version 2
/// object headers.
fn lookup3(data: &[u8]) -> u32 {
    let mut a = 0xdead_beefu32.wrapping_add(data.len() as u32);
    let (mut b, mut c) = (a, a);
    let word = |k: &[u8], i: usize| {
        let mut v = [0u8; 4];
        for (j, slot) in v.iter_mut().enumerate() {
            *slot = k.get(i + j).copied().unwrap_or(0);
        }
        u32::from_le_bytes(v)
    };
    let mut k = data;
    while k.len() > 12 {
        a = a.wrapping_add(word(k, 0));
        b = b.wrapping_add(word(k, 4));
        c = c.wrapping_add(word(k, 8));
        // mix
        a = a.wrapping_sub(c);
        a ^= c.rotate_left(4);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= a.rotate_left(6);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= b.rotate_left(8);
        b = b.wrapping_add(a);
        a = a.wrapping_sub(c);
        a ^= c.rotate_left(16);
        c = c.wrapping_add(b);
        b = b.wrapping_sub(a);
        b ^= a.rotate_left(19);
        a = a.wrapping_add(c);
        c = c.wrapping_sub(b);
        c ^= b.rotate_left(4);
        b = b.wrapping_add(a);
        k = &k[12..];
    }
    if k.is_empty() {
        return c;
    }
    // the last 1..=12 bytes, zero-padded
    a = a.wrapping_add(word(k, 0));
    b = b.wrapping_add(word(k, 4));
    c = c.wrapping_add(word(k, 8));
    // final
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(14));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(11));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(25));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(16));
    a ^= c;
    a = a.wrapping_sub(c.rotate_left(4));
    b ^= a;
    b = b.wrapping_sub(a.rotate_left(14));
    c ^= b;
    c = c.wrapping_sub(b.rotate_left(24));
    c
}

fn find(bytes: &[u8], pattern: &[u8]) -> Vec<usize> {
    bytes
        .windows(pattern.len())
        .enumerate()
        .filter(|(_, w)| *w == pattern)
        .map(|(i, _)| i)
        .collect()
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// The version 2 object header ("OHDR", as hdf5-pure writes them: one chunk) that contains
/// byte `at`: (start, end of its messages = where its checksum sits).
fn ohdr_around(bytes: &[u8], at: usize) -> (usize, usize) {
    let start = *find(&bytes[..at], b"OHDR")
        .last()
        .expect("an object header before");
    let flags = bytes[start + 5];
    let mut p = start + 6;
    if flags & 0x20 != 0 {
        p += 16;
    }
    if flags & 0x10 != 0 {
        p += 4;
    }
    let size_bytes = 1usize << (flags & 3);
    let mut size = [0u8; 8];
    size[..size_bytes].copy_from_slice(&bytes[p..p + size_bytes]);
    let end = p + size_bytes + u64::from_le_bytes(size) as usize;
    assert!(at < end, "byte {at} is not inside the header at {start}");
    (start, end)
}

/// Recomputes the checksum of the object header that contains byte `at`.
fn fix_checksum(bytes: &mut [u8], at: usize) {
    let (start, end) = ohdr_around(bytes, at);
    let sum = lookup3(&bytes[start..end]);
    bytes[end..end + 4].copy_from_slice(&sum.to_le_bytes());
}

/// The messages of the version 2 object header at `start`: (type, body offset, body size).
fn ohdr_messages(bytes: &[u8], start: usize, end: usize) -> Vec<(u8, usize, usize)> {
    let flags = bytes[start + 5];
    let order = if flags & 0x04 != 0 { 2 } else { 0 };
    let mut p = start + 6 + if flags & 0x20 != 0 { 16 } else { 0 };
    p += if flags & 0x10 != 0 { 4 } else { 0 };
    p += 1usize << (flags & 3);
    let mut out = Vec::new();
    while p + 4 + order <= end {
        let kind = bytes[p];
        let size = u16::from_le_bytes([bytes[p + 1], bytes[p + 2]]) as usize;
        out.push((kind, p + 4 + order, size));
        p += 4 + order + size;
    }
    out
}

/// Rewrites the contiguous dataset `name` of the file `bytes`: its dataspace to `dims`, and
/// its storage to `storage` (address, size), or to none (the undefined address) for `None`.
/// Returns the new file, checked to parse to exactly that structure.
fn rewrite_dataset(bytes: &[u8], name: &str, dims: &[u64], storage: Option<(u64, u64)>) -> Vec<u8> {
    let file = File::from_bytes(bytes.to_vec()).unwrap();
    let ds = file.dataset(name).unwrap();
    let old_dims = ds.shape().unwrap();
    let Ok(Layout::Contiguous {
        address: Some(address),
        size,
    }) = ds.layout()
    else {
        panic!("{name} is not contiguous");
    };
    drop(file);
    // the layout message's address and size fields, side by side
    let mut pattern = address.to_le_bytes().to_vec();
    pattern.extend(size.to_le_bytes());
    let hits = find(bytes, &pattern);
    assert_eq!(hits.len(), 1, "{name}: layout fields found at {hits:?}");
    let layout_at = hits[0];
    let mut out = bytes.to_vec();
    let (address, size) = storage.unwrap_or((u64::MAX, size));
    out[layout_at..layout_at + 8].copy_from_slice(&address.to_le_bytes());
    out[layout_at + 8..layout_at + 16].copy_from_slice(&size.to_le_bytes());
    // the dataspace message (type 1) of the same header
    let (start, end) = ohdr_around(bytes, layout_at);
    let (_, body, _) = ohdr_messages(bytes, start, end)
        .into_iter()
        .find(|m| m.0 == 1)
        .expect("a dataspace message");
    let (version, rank, flags) = (out[body], out[body + 1] as usize, out[body + 2]);
    assert_eq!(rank, dims.len(), "{name}: rank");
    let first = body + if version == 1 { 8 } else { 4 };
    for (k, &d) in dims.iter().enumerate() {
        assert_eq!(u64_at(&out, first + 8 * k), old_dims[k]);
        out[first + 8 * k..first + 8 * k + 8].copy_from_slice(&d.to_le_bytes());
        if flags & 1 != 0 {
            // the maximum dimensions follow; keep them at least the new size
            let max = first + 8 * (rank + k);
            if u64_at(&out, max) != u64::MAX {
                out[max..max + 8].copy_from_slice(&d.to_le_bytes());
            }
        }
    }
    fix_checksum(&mut out, layout_at);
    // hdf5-pure reads the rewritten header as intended
    let file = File::from_bytes(out.clone()).unwrap();
    let ds = file.dataset(name).unwrap();
    assert_eq!(ds.shape().unwrap(), dims);
    match (ds.layout().unwrap(), storage) {
        (Layout::Contiguous { address: None, .. }, None) => {}
        (
            Layout::Contiguous {
                address: a,
                size: s,
            },
            Some((address, size)),
        ) => {
            assert_eq!((a, s), (Some(address), size))
        }
        (other, _) => panic!("{name}: {other:?}"),
    }
    out
}

/// The offset in `bytes` of the address field of the link named `name` (a link message of a
/// version 2 object header, as hdf5-pure writes it: name length, name, then the 8-byte address
/// of an object header).
fn link_address_field(bytes: &[u8], name: &str) -> usize {
    let mut pattern = vec![name.len() as u8];
    pattern.extend(name.as_bytes());
    let hits: Vec<usize> = find(bytes, &pattern)
        .into_iter()
        .map(|at| at + pattern.len())
        .filter(|&field| {
            let target = u64_at(bytes, field) as usize;
            bytes.get(target..target + 4) == Some(&b"OHDR"[..])
        })
        .collect();
    assert_eq!(hits.len(), 1, "link `{name}` found at {hits:?}");
    hits[0]
}

// ---- SHD ----------------------------------------------------------------------------------

fn sample(events: usize, label: usize) -> EventSample {
    EventSample::new(
        (0..events).map(|k| k as f64 * 1e-3).collect(),
        (0..events).map(|k| (k % 700) as u32).collect(),
        TimeUnit::Second,
        label,
    )
}

fn shd_file(samples: &[EventSample]) -> Vec<u8> {
    shd::shd_bytes(samples, Path::new("crafted.h5")).unwrap()
}

fn read_shd(bytes: &[u8]) -> Result<Vec<EventSample>, TrainError> {
    shd::read_shd_bytes(bytes, Path::new("crafted.h5"), shd::SHD_CLASSES)
}

/// An SHD file whose `spikes/times` claims 10^11 samples and has no storage: the reader of
/// hdf5-pure would fill 1.6 TB with the fill value (an abort); ours refuses it.
fn storage_less_shd() -> Vec<u8> {
    let good = shd_file(&[sample(3, 1), sample(2, 4)]);
    rewrite_dataset(&good, "spikes/times", &[100_000_000_000], None)
}

#[test]
fn a_storage_less_dataset_claiming_1e11_rows_is_a_limit_error() {
    match read_shd(&storage_less_shd()) {
        Err(TrainError::Limit {
            what, found, cap, ..
        }) => {
            assert!(what.contains("spikes/times"), "{what}");
            assert_eq!((found, cap), (1_600_000_000_000, 0));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_dataset_declaring_more_than_its_contiguous_storage_is_a_limit_error() {
    let good = shd_file(&[sample(3, 1), sample(2, 4)]);
    let file = File::from_bytes(good.clone()).unwrap();
    let Ok(Layout::Contiguous {
        address: Some(address),
        size,
    }) = file.dataset("labels").unwrap().layout()
    else {
        panic!("labels not contiguous")
    };
    drop(file);
    // 10^9 labels over the 4 bytes stored
    let big = rewrite_dataset(&good, "labels", &[1_000_000_000], Some((address, size)));
    match read_shd(&big) {
        Err(TrainError::Limit { found, cap, .. }) => {
            assert_eq!((found, cap), (2_000_000_000, 4))
        }
        other => panic!("{other:?}"),
    }
    // storage that runs past the end of the file
    let past = rewrite_dataset(&good, "labels", &[2], Some((address, 1 << 40)));
    match read_shd(&past) {
        Err(TrainError::Limit { what, cap, .. }) => {
            assert!(what.contains("end of the contiguous data"), "{what}");
            assert_eq!(cap, past.len() as u64);
        }
        other => panic!("{other:?}"),
    }
}

/// The references of the contiguous vlen dataset `name`: (offset of the raw data, rows).
fn vlen_refs(bytes: &[u8], name: &str) -> (usize, usize) {
    let file = File::from_bytes(bytes.to_vec()).unwrap();
    let ds = file.dataset(name).unwrap();
    let Ok(Layout::Contiguous {
        address: Some(address),
        size,
    }) = ds.layout()
    else {
        panic!("{name} not contiguous")
    };
    (address as usize, size as usize / 16)
}

#[test]
fn a_vlen_row_longer_than_the_file_is_a_limit_error() {
    let mut bytes = shd_file(&[sample(3, 1), sample(2, 4)]);
    let (data, _) = vlen_refs(&bytes, "spikes/times");
    // row 0 claims 2^32 - 1 floats, and its heap object as many bytes
    let reference = data;
    let heap = u64_at(&bytes, reference + 4) as usize;
    let index = u16::from_le_bytes([bytes[reference + 12], bytes[reference + 13]]);
    assert_eq!(&bytes[heap..heap + 4], b"GCOL");
    let mut object = heap + 16;
    while u16::from_le_bytes([bytes[object], bytes[object + 1]]) != index {
        object += 16 + (u64_at(&bytes, object + 8) as usize).div_ceil(8) * 8;
    }
    bytes[object + 8..object + 16].copy_from_slice(&(4 * u64::from(u32::MAX)).to_le_bytes());
    bytes[reference..reference + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    match read_shd(&bytes) {
        Err(TrainError::Limit {
            what, found, cap, ..
        }) => {
            assert!(what.contains("row 0"), "{what}");
            assert_eq!((found, cap), (4 * u64::from(u32::MAX), bytes.len() as u64));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn many_references_to_one_heap_object_are_a_limit_error() {
    // one long row and many short ones; then every reference names the long row's object
    let mut samples = vec![sample(4000, 0)];
    samples.extend((0..400).map(|k| sample(1, k % 20)));
    let mut bytes = shd_file(&samples);
    for name in ["spikes/times", "spikes/units"] {
        let (data, rows) = vlen_refs(&bytes, name);
        let first: [u8; 16] = bytes[data..data + 16].try_into().unwrap();
        for k in 1..rows {
            bytes[data + 16 * k..data + 16 * (k + 1)].copy_from_slice(&first);
        }
    }
    // 401 rows of 16,000 bytes: about 6.4 MB from one object of a file far smaller
    assert!(bytes.len() < 200_000, "{}", bytes.len());
    match read_shd(&bytes) {
        Err(TrainError::Limit {
            what, found, cap, ..
        }) => {
            assert!(what.contains("together"), "{what}");
            assert!(found > cap && cap == bytes.len() as u64, "{found} {cap}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn shd_files_over_the_size_cap_are_refused_before_reading() {
    let dir = scratch("shd-cap");
    let path = dir.join("small.h5");
    shd::write_shd(&path, &[sample(3, 1), sample(2, 4)]).unwrap();
    let len = std::fs::metadata(&path).unwrap().len();
    assert_eq!(shd::read_shd(&path, 20).unwrap().len(), 2);
    match shd::read_shd_with_limits(&path, 20, ReadLimits::max_bytes(len - 1)) {
        Err(TrainError::Limit { found, cap, .. }) => assert_eq!((found, cap), (len, len - 1)),
        other => panic!("{other:?}"),
    }
    let fits = ReadLimits::max_bytes(len);
    assert_eq!(shd::read_shd_with_limits(&path, 20, fits).unwrap().len(), 2);
    let _ = std::fs::remove_dir_all(dir);
}

// ---- N-MNIST ------------------------------------------------------------------------------

#[test]
fn nmnist_files_over_the_size_cap_are_refused_before_reading() {
    let dir = scratch("nmnist-cap");
    let digit = dir.join("3");
    std::fs::create_dir_all(&digit).unwrap();
    let mut s = EventSample::new(
        (0..100).map(f64::from).collect(),
        vec![0; 100],
        TimeUnit::Microsecond,
        3,
    );
    s.xy = Some(vec![(1, 2); 100]);
    s.polarity = Some(vec![true; 100]);
    let path = digit.join("one.bin");
    nmnist::write_nmnist(&path, &s).unwrap();
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 500);
    assert_eq!(nmnist::read_nmnist(&path, 3).unwrap().len(), 100);
    let cap = ReadLimits::max_bytes(100);
    for result in [
        nmnist::read_nmnist_with_limits(&path, 3, cap).map(|_| ()),
        nmnist::read_nmnist_folder_with_limits(&dir, cap).map(|_| ()),
    ] {
        match result {
            Err(TrainError::Limit {
                path: p,
                found,
                cap,
                ..
            }) => {
                assert_eq!(p, path);
                assert_eq!((found, cap), (500, 100));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(nmnist::NMNIST_MAX_BYTES, 64 << 20);
    let _ = std::fs::remove_dir_all(dir);
}

// ---- NIR ----------------------------------------------------------------------------------

/// A NIR graph group: `type`, an empty `edges`, and `nodes` holding the given node groups.
fn graph_group(g: &mut GroupBuilder, children: Vec<GroupBuilder>) {
    g.create_dataset("type")
        .with_vlen_strings(&["NIRGraph"])
        .with_shape(&[]);
    g.create_dataset("edges")
        .with_vlen_strings(&[])
        .with_shape(&[0, 2]);
    let mut nodes = g.create_group("nodes");
    for child in children {
        nodes.add_group(child.finish());
    }
    g.add_group(nodes.finish());
}

fn nir_file(build: impl FnOnce(&mut FileBuilder) -> GroupBuilder) -> Vec<u8> {
    let mut file = FileBuilder::new();
    file.create_dataset("version")
        .with_vlen_strings(&["1.0.8"])
        .with_shape(&[]);
    let root = build(&mut file);
    file.add_group(root.finish());
    file.finish().unwrap()
}

/// `node/nodes/loop` is a hard link back to `node`, its own grandparent.
fn cyclic_nir() -> Vec<u8> {
    let mut bytes = nir_file(|file| {
        let mut root = file.create_group("node");
        let mut inner = root.create_group("nodes").create_group("loop");
        graph_group(&mut inner, vec![]);
        graph_group(&mut root, vec![inner]);
        root
    });
    let node = u64_at(&bytes, link_address_field(&bytes, "node"));
    let field = link_address_field(&bytes, "loop");
    bytes[field..field + 8].copy_from_slice(&node.to_le_bytes());
    fix_checksum(&mut bytes, field);
    // hdf5-pure follows the cycle as deep as asked
    let file = File::from_bytes(bytes.clone()).unwrap();
    let deep = "node/nodes/loop/nodes/loop/nodes/loop/nodes/loop";
    assert!(file.group(deep).is_ok());
    bytes
}

#[test]
fn a_hard_link_back_to_an_ancestor_group_is_a_cycle_error() {
    match snn_nir::read_bytes(cyclic_nir()) {
        Err(NirError::LinkCycle { object, first, .. }) => {
            assert_eq!(
                (object.as_str(), first.as_str()),
                ("node/nodes/loop", "node")
            )
        }
        other => panic!("{other:?}"),
    }
}

/// Graphs nested `levels` deep: `node/nodes/g/nodes/g/...`.
fn deep_nir(levels: usize) -> Vec<u8> {
    fn nest(parent: &mut GroupBuilder, levels: usize) -> GroupBuilder {
        let mut g = parent.create_group("g");
        let children = if levels > 0 {
            vec![nest(&mut g, levels - 1)]
        } else {
            vec![]
        };
        graph_group(&mut g, children);
        g
    }
    nir_file(|file| {
        let mut root = file.create_group("node");
        let child = nest(&mut root, levels - 1);
        graph_group(&mut root, vec![child]);
        root
    })
}

#[test]
fn groups_nested_beyond_the_depth_limit_are_a_limit_error() {
    // links from the root: node 1, its nodes 2, the first g 3, ..., the 32nd g 65 > 64
    let bytes = deep_nir(40);
    match snn_nir::read_bytes_unchecked(bytes.clone()) {
        Err(NirError::Limit {
            what, found, cap, ..
        }) => {
            assert!(what.contains("depth"), "{what}");
            assert_eq!((found, cap), (65, 64));
        }
        other => panic!("{other:?}"),
    }
    // a higher cap reads it
    let limits = NirLimits {
        max_depth: 100,
        ..NirLimits::default()
    };
    let graph: NirGraph = limits.read_bytes_unchecked(bytes).unwrap();
    assert_eq!(graph.nodes.len(), 1);
}

/// A Threshold node `t` whose `threshold` is contiguous f32 `[2]`.
fn threshold_nir() -> Vec<u8> {
    nir_file(|file| {
        let mut root = file.create_group("node");
        let mut t = root.create_group("nodes").create_group("t");
        t.create_dataset("type")
            .with_vlen_strings(&["Threshold"])
            .with_shape(&[]);
        t.create_dataset("threshold")
            .with_f32_data(&[1.0, 2.0])
            .with_shape(&[2]);
        graph_group(&mut root, vec![t]);
        root
    })
}

#[test]
fn a_nir_dataset_claiming_more_than_the_file_holds_is_a_limit_error() {
    let good = threshold_nir();
    assert!(snn_nir::read_bytes_unchecked(good.clone()).is_ok());
    let name = "node/nodes/t/threshold";
    let file = File::from_bytes(good.clone()).unwrap();
    let Ok(Layout::Contiguous {
        address: Some(address),
        size,
    }) = file.dataset(name).unwrap().layout()
    else {
        panic!("not contiguous")
    };
    drop(file);
    let big = rewrite_dataset(&good, name, &[1_000_000_000_000], Some((address, size)));
    match snn_nir::read_bytes_unchecked(big) {
        Err(NirError::Limit {
            object, found, cap, ..
        }) => {
            assert_eq!(object, name);
            assert_eq!((found, cap), (4_000_000_000_000, 8));
        }
        other => panic!("{other:?}"),
    }
    let storage_less = rewrite_dataset(&good, name, &[1_000_000_000_000], None);
    match snn_nir::read_bytes_unchecked(storage_less) {
        Err(NirError::Limit { found, cap, .. }) => {
            assert_eq!((found, cap), (4_000_000_000_000, 0))
        }
        other => panic!("{other:?}"),
    }
    // the cap on decoded bytes, overridable
    let tiny = NirLimits {
        max_bytes: 16,
        ..NirLimits::default()
    };
    assert!(matches!(
        tiny.read_bytes_unchecked(good),
        Err(NirError::Limit { .. })
    ));
}

// ---- the binary ---------------------------------------------------------------------------

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_snn-train"))
        .args(args)
        .output()
        .expect("the snn-train binary runs");
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("{args:?} ended by a signal: {:?}", out.status));
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_binary_exits_3_on_crafted_files_without_a_signal() {
    let dir = scratch("binary");
    let shd_path = dir.join("storage_less.h5");
    std::fs::write(&shd_path, storage_less_shd()).unwrap();
    let out = dir.join("run");
    let (code, err) = run(&[
        "--dataset",
        "shd",
        "--data",
        shd_path.to_str().unwrap(),
        "--epochs",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("exceeds the limit"), "{err}");

    let nir_path = dir.join("cyclic.nir");
    std::fs::write(&nir_path, cyclic_nir()).unwrap();
    let (code, err) = run(&["nir", "info", nir_path.to_str().unwrap()]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("cycle"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

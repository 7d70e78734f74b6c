//! Reading NIR's HDF5 layout (what `nir.write` of nir 1.0.8 produces) into a [`NirGraph`].
//!
//! Layout: `/version` (string), `/node` (the root graph group): `type` = `"NIRGraph"`,
//! `edges` (`(E, 2)` strings), `nodes/<name>/` (one group per node: a `type` string plus one
//! dataset per field), optional `metadata/`. Arrays may be contiguous or chunked and
//! gzip-compressed, float32 or float64; integers are int64; scalars are rank-0 datasets.
//!
//! ## Untrusted files
//!
//! A file can claim any size and link its groups in any way, so every size is checked before
//! anything is allocated, each breach a typed error ([`NirError::Limit`],
//! [`NirError::LinkCycle`]) instead of an abort or a stack overflow:
//!
//! * the file's own length against [`ReadLimits::max_bytes`] (from its metadata, before it is
//!   read);
//! * each dataset's declared size (elements × element size) against what its storage in this
//!   file can hold: the compact or contiguous bytes, or per allocated chunk the chunk size
//!   (for deflate-only pipelines at most [`DEFLATE_MAX_RATIO`] × its stored bytes); a chunk may
//!   not exceed both the dataset and the file. A dataset without storage in the file (never
//!   written, external or virtual) holds nothing;
//! * variable-length strings: their total payload against the file length (each string is
//!   stored once, so more means many references to one heap object);
//! * all decoded bytes together against [`ReadLimits::max_bytes`];
//! * group links: at most [`ReadLimits::max_depth`] links below the root, and each group read
//!   once, known by its object-header address (hard links and soft links are followed in the
//!   raw bytes to find it), so a link back to an ancestor is an error.

use std::cell::{Cell, RefCell};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use hdf5_pure::{DType, Dataset, File, Group, VlenStringReadOptions};

use crate::hdf5_bounds::{BoundError, ByteBudget};

use crate::error::{NirError, Result};
use crate::graph::{
    Array, Conv, FloatType, MetaValue, NODE_TYPES, NirGraph, NirNode, Padding, Pool,
};

/// Default of [`ReadLimits::max_bytes`]: 2 GiB.
pub const DEFAULT_MAX_BYTES: u64 = 2 << 30;
/// Default of [`ReadLimits::max_depth`]: 64 HDF5 links below the root, about 31 nested graphs
/// (each nesting is a node group and its `nodes` group).
pub const DEFAULT_MAX_DEPTH: usize = 64;
pub use crate::hdf5_bounds::DEFLATE_MAX_RATIO;

/// Caps on what the reader takes from one NIR file; sizes the file declares are further checked
/// against the file's own length (see the module docs). [`read`] and the other free functions
/// use [`ReadLimits::default`]; to read larger or deeper files, or to refuse smaller ones:
///
/// ```
/// use snn_nir::read::ReadLimits;
///
/// let limits = ReadLimits { max_bytes: 64 << 20, ..ReadLimits::default() };
/// assert!(limits.read("no_such.nir").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadLimits {
    /// The largest file read, and the most dataset bytes decoded from it in total (default
    /// [`DEFAULT_MAX_BYTES`]).
    pub max_bytes: u64,
    /// The most links between the root group and any group read (default
    /// [`DEFAULT_MAX_DEPTH`]).
    pub max_depth: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

impl ReadLimits {
    /// [`read`] under these limits.
    pub fn read(&self, path: impl AsRef<Path>) -> Result<NirGraph> {
        let graph = self.read_unchecked(path)?;
        graph.check()?;
        Ok(graph)
    }

    /// [`read_unchecked`] under these limits.
    pub fn read_unchecked(&self, path: impl AsRef<Path>) -> Result<NirGraph> {
        let bytes = read_file(path.as_ref(), self.max_bytes)?;
        self.read_bytes_unchecked(bytes)
    }

    /// [`read_bytes`] under these limits.
    pub fn read_bytes(&self, bytes: Vec<u8>) -> Result<NirGraph> {
        let graph = self.read_bytes_unchecked(bytes)?;
        graph.check()?;
        Ok(graph)
    }

    /// [`read_bytes_unchecked`] under these limits.
    pub fn read_bytes_unchecked(&self, bytes: Vec<u8>) -> Result<NirGraph> {
        let size = bytes.len() as u64;
        if size > self.max_bytes {
            return Err(NirError::Limit {
                object: "/".into(),
                what: "file size (bytes)".into(),
                found: size,
                cap: self.max_bytes,
            });
        }
        guarded(|| parse(bytes, self))
    }
}

/// Reads a NIR file and checks it ([`NirGraph::check`]): parameter shapes, edge endpoints and
/// the type check along edges, as `nir.read` does. Uses [`ReadLimits::default`].
pub fn read(path: impl AsRef<Path>) -> Result<NirGraph> {
    ReadLimits::default().read(path)
}

/// Reads a NIR file from memory and checks it, like [`read`].
pub fn read_bytes(bytes: Vec<u8>) -> Result<NirGraph> {
    ReadLimits::default().read_bytes(bytes)
}

/// Reads a NIR file without the graph checks (`nir.read(..., type_check=False)`); the
/// per-field checks (types, known node types, array sizes) and the limits still apply.
pub fn read_unchecked(path: impl AsRef<Path>) -> Result<NirGraph> {
    ReadLimits::default().read_unchecked(path)
}

/// [`read_unchecked`] from memory.
///
/// The HDF5 parser is run under `catch_unwind`: a file corrupt enough to make it panic gives
/// [`NirError::Corrupt`] instead of a panic.
pub fn read_bytes_unchecked(bytes: Vec<u8>) -> Result<NirGraph> {
    ReadLimits::default().read_bytes_unchecked(bytes)
}

/// The version string stored in a NIR file (`"1.0.8"`).
pub fn read_version(path: impl AsRef<Path>) -> Result<String> {
    let limits = ReadLimits::default();
    let bytes = read_file(path.as_ref(), limits.max_bytes)?;
    guarded(|| {
        let file = open(bytes)?;
        let reader = Reader::new(&file, &limits);
        reader.scalar_string(&file.root(), "version", "/")
    })
}

/// Runs a read under `catch_unwind`, turning a panic of the HDF5 parser into
/// [`NirError::Corrupt`].
fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::hdf5_bounds::catch_panic(f).unwrap_or_else(|message| {
        Err(NirError::Corrupt {
            message: format!("the HDF5 reader failed: {message}"),
        })
    })
}

/// The file's bytes, refused with [`NirError::Limit`] when it is longer than `max_bytes`
/// ([`crate::hdf5_bounds::read_file_capped`]).
fn read_file(path: &Path, max_bytes: u64) -> Result<Vec<u8>> {
    crate::hdf5_bounds::read_file_capped(path, max_bytes).map_err(|e| match e {
        BoundError::Io(source) => NirError::Io {
            path: path.display().to_string(),
            source,
        },
        BoundError::Hdf5(e) => hdf5(&path.display().to_string(), e),
        BoundError::Exceeded(x) => NirError::Limit {
            object: path.display().to_string(),
            what: x.what.into(),
            found: x.found,
            cap: x.cap,
        },
    })
}

fn open(bytes: Vec<u8>) -> Result<File> {
    let size = bytes.len() as u64;
    let file = File::from_bytes(bytes).map_err(|e| hdf5("/", e))?;
    // hdf5-pure opens a cut file and fails only on a read past its end; check the
    // superblock's end-of-file address up front, as libhdf5 (h5py) does.
    let stored_eof = file.superblock().eof_address;
    if stored_eof > size {
        return Err(NirError::Truncated { size, stored_eof });
    }
    Ok(file)
}

fn parse(bytes: Vec<u8>, limits: &ReadLimits) -> Result<NirGraph> {
    let file = open(bytes)?;
    let reader = Reader::new(&file, limits);
    let root_address = file.superblock().root_group_address;
    reader.enter("/", 0, Some(root_address))?;
    let root = file.group("node").map_err(|e| hdf5("node", e))?;
    let address = reader.child_address(Some(root_address), "node");
    match reader.node(&root, "node", "", 1, address)? {
        NirNode::Graph(g) => Ok(g),
        other => Err(NirError::WrongType {
            node: "/".into(),
            field: "node/type".into(),
            expected: "NIRGraph at the root".into(),
            found: other.type_name().into(),
        }),
    }
}

fn hdf5(object: &str, e: hdf5_pure::Error) -> NirError {
    NirError::Hdf5 {
        object: object.to_string(),
        message: e.to_string(),
    }
}

/// A dataset's contents before it is given a meaning.
enum Raw {
    Float(Array),
    Int(Vec<usize>, Vec<i64>),
    Str(Vec<usize>, Vec<String>),
}

impl Raw {
    fn describe(&self) -> String {
        match self {
            Raw::Float(a) => format!("floats of shape {:?}", a.shape),
            Raw::Int(s, _) => format!("integers of shape {s:?}"),
            Raw::Str(s, _) => format!("strings of shape {s:?}"),
        }
    }
}

struct Reader<'f> {
    file: &'f File,
    links: RawLinks<'f>,
    limits: ReadLimits,
    /// Dataset bytes decoded so far, against `limits.max_bytes`.
    budget: ByteBudget,
    /// Object-header address of each group read -> its HDF5 path.
    visited: RefCell<HashMap<u64, String>>,
    /// Groups read so far, whether or not their address could be followed.
    groups: Cell<u64>,
    /// The links of each group header parsed so far (`None`: not understood).
    link_cache: RefCell<LinkCache>,
}

impl<'f> Reader<'f> {
    fn new(file: &'f File, limits: &ReadLimits) -> Self {
        let sb = file.superblock();
        Self {
            file,
            links: RawLinks {
                bytes: file.as_bytes(),
                base: sb.base_address.get(),
                root: sb.root_group_address,
                offset_size: usize::from(sb.offset_size),
                length_size: usize::from(sb.length_size),
            },
            limits: *limits,
            budget: ByteBudget::new(limits.max_bytes),
            visited: RefCell::new(HashMap::new()),
            groups: Cell::new(0),
            link_cache: RefCell::new(HashMap::new()),
        }
    }

    /// Checks a group before it is read: `depth` links below the root, its object header at
    /// `address` when the raw links could be followed there.
    fn enter(&self, at: &str, depth: usize, address: Option<u64>) -> Result<()> {
        if depth > self.limits.max_depth {
            return Err(NirError::Limit {
                object: at.to_string(),
                what: "group depth (links from the root)".into(),
                found: depth as u64,
                cap: self.limits.max_depth as u64,
            });
        }
        // Every group of a real file has an object header of its own, at least
        // `MIN_GROUP_BYTES` long: more groups than that are links read over and over (a cycle
        // the raw walker could not follow, see `child_address`). Bounds the work whatever the
        // links look like.
        let groups = self.groups.get() + 1;
        let cap = self.links.bytes.len() as u64 / MIN_GROUP_BYTES;
        if groups > cap {
            return Err(NirError::Limit {
                object: at.to_string(),
                what: format!("groups read (one per {MIN_GROUP_BYTES} bytes of the file at most)"),
                found: groups,
                cap,
            });
        }
        self.groups.set(groups);
        if let Some(address) = address {
            match self.visited.borrow_mut().entry(address) {
                Entry::Occupied(first) => {
                    return Err(NirError::LinkCycle {
                        object: at.to_string(),
                        first: first.get().clone(),
                        address,
                    });
                }
                Entry::Vacant(slot) => {
                    slot.insert(at.to_string());
                }
            }
        }
        Ok(())
    }

    /// The object-header address that the link `name` of the group at `parent` leads to, when
    /// the raw bytes can be followed there (see [`RawLinks`]).
    fn child_address(&self, parent: Option<u64>, name: &str) -> Option<u64> {
        self.links
            .resolve(parent?, name, &mut self.link_cache.borrow_mut())
    }

    /// Counts `bytes` more decoded bytes against [`ReadLimits::max_bytes`].
    fn spend(&self, bytes: u64, object: &str) -> Result<()> {
        self.budget
            .spend(bytes, "dataset bytes decoded from the file in total")
            .map_err(|x| NirError::Limit {
                object: object.to_string(),
                what: x.what.into(),
                found: x.found,
                cap: x.cap,
            })
    }

    /// The bytes a full read of `ds` decodes, after checking them against what the dataset's
    /// storage in this file can hold ([`crate::hdf5_bounds::declared_bytes`]; a chunk at most
    /// what the byte budget has left).
    fn declared_bytes(&self, ds: &Dataset, object: &str) -> Result<u64> {
        let file_len = self.file.as_bytes().len() as u64;
        let left = self.budget.left();
        crate::hdf5_bounds::declared_bytes(ds, file_len, left).map_err(|e| match e {
            BoundError::Hdf5(e) => hdf5(object, e),
            BoundError::Io(source) => NirError::Io {
                path: object.to_string(),
                source,
            },
            BoundError::Exceeded(x) => NirError::Limit {
                object: object.to_string(),
                what: x.what.into(),
                found: x.found,
                cap: x.cap,
            },
        })
    }

    /// Reads the dataset `name` of `group` (HDF5 path `at`).
    fn raw(&self, group: &Group, name: &str, at: &str) -> Result<Raw> {
        let object = format!("{at}/{name}");
        let ds = group.dataset(name).map_err(|e| hdf5(&object, e))?;
        let declared = self.declared_bytes(&ds, &object)?;
        let shape64 = ds.shape().map_err(|e| hdf5(&object, e))?;
        let shape: Vec<usize> = shape64.iter().map(|&d| d as usize).collect();
        // the checked declared size bounds the element count, unless the elements have no
        // size: then the product itself is checked
        let numel = shape64
            .iter()
            .try_fold(1u64, |n, &d| n.checked_mul(d))
            .ok_or_else(|| NirError::Corrupt {
                message: format!("dataset `{object}` declares more elements than fit in 64 bits"),
            })?;
        // each string decodes to a `String` of its own beside its bytes
        let per_string = numel.saturating_mul(size_of::<String>() as u64);
        let dtype = ds.dtype().map_err(|e| hdf5(&object, e))?;
        let raw = match dtype {
            DType::F32 | DType::F64 => {
                // decoded as f64 whatever the stored width
                self.spend(declared.max(numel.saturating_mul(8)), &object)?;
                if dtype == DType::F32 {
                    let v = ds.read_f32().map_err(|e| hdf5(&object, e))?;
                    Raw::Float(Array {
                        shape,
                        data: v.into_iter().map(f64::from).collect(),
                        dtype: FloatType::F32,
                    })
                } else {
                    Raw::Float(Array {
                        shape,
                        data: ds.read_f64().map_err(|e| hdf5(&object, e))?,
                        dtype: FloatType::F64,
                    })
                }
            }
            DType::I8
            | DType::I16
            | DType::I32
            | DType::I64
            | DType::U8
            | DType::U16
            | DType::U32 => {
                self.spend(declared.max(numel.saturating_mul(8)), &object)?;
                Raw::Int(shape, ds.read_i64().map_err(|e| hdf5(&object, e))?)
            }
            DType::String => {
                self.spend(
                    declared.saturating_mul(2).saturating_add(per_string),
                    &object,
                )?;
                Raw::Str(shape, self.strings(ds.read_string(), &object)?)
            }
            DType::VariableLengthString => {
                // the references fit the file; their targets may be one heap object referenced
                // many times, which must not decode to more than the file holds
                let payload = ds
                    .vlen_string_payload_size()
                    .map_err(|e| hdf5(&object, e))?;
                let file_len = self.file.as_bytes().len() as u64;
                if payload > file_len {
                    return Err(NirError::Limit {
                        object,
                        what: "variable-length string bytes against the file size".into(),
                        found: payload,
                        cap: file_len,
                    });
                }
                self.spend(
                    declared.saturating_add(payload).saturating_add(per_string),
                    &object,
                )?;
                let options = VlenStringReadOptions::new()
                    .with_max_payload_bytes(usize::try_from(file_len).unwrap_or(usize::MAX));
                Raw::Str(shape, self.strings(ds.read_vlen_strings(options), &object)?)
            }
            other => {
                return Err(NirError::WrongType {
                    node: at.to_string(),
                    field: name.to_string(),
                    expected: "floats, integers or strings".into(),
                    found: format!("HDF5 type {other}"),
                });
            }
        };
        let len = match &raw {
            Raw::Float(a) => a.data.len(),
            Raw::Int(_, v) => v.len(),
            Raw::Str(_, v) => v.len(),
        };
        if len as u64 != numel {
            return Err(NirError::Corrupt {
                message: format!("dataset `{object}` has {len} values for {numel} elements"),
            });
        }
        Ok(raw)
    }

    fn strings(
        &self,
        read: std::result::Result<Vec<String>, hdf5_pure::Error>,
        object: &str,
    ) -> Result<Vec<String>> {
        let v = read.map_err(|e| hdf5(object, e))?;
        // some writers store the NUL terminator inside variable-length strings
        Ok(v.into_iter()
            .map(|mut s| {
                s.truncate(s.trim_end_matches('\0').len());
                s
            })
            .collect())
    }

    fn scalar_string(&self, group: &Group, name: &str, at: &str) -> Result<String> {
        match self.raw(group, name, at)? {
            Raw::Str(_, v) if v.len() == 1 => Ok(v.into_iter().next().unwrap_or_default()),
            other => Err(NirError::WrongType {
                node: at.to_string(),
                field: name.to_string(),
                expected: "one string".into(),
                found: other.describe(),
            }),
        }
    }

    /// Reads the node group `group` (HDF5 path `at`, node path `node` for errors), `depth`
    /// links below the root, its object header at `address` when known.
    fn node(
        &self,
        group: &Group,
        at: &str,
        node: &str,
        depth: usize,
        address: Option<u64>,
    ) -> Result<NirNode> {
        self.enter(at, depth, address)?;
        let datasets = group.datasets().map_err(|e| hdf5(at, e))?;
        if !datasets.iter().any(|d| d == "type") {
            return Err(NirError::MissingField {
                node: display(node),
                field: "type".into(),
            });
        }
        let type_name = self.scalar_string(group, "type", at)?;
        if type_name == "NIRGraph" {
            return self
                .graph(group, at, node, depth, address)
                .map(NirNode::Graph);
        }
        let mut fields = Fields {
            node: display(node),
            values: BTreeMap::new(),
        };
        for name in datasets.iter().filter(|d| *d != "type") {
            fields
                .values
                .insert(name.clone(), self.raw(group, name, at)?);
        }
        fields.build(&type_name)
    }

    fn graph(
        &self,
        group: &Group,
        at: &str,
        node: &str,
        depth: usize,
        address: Option<u64>,
    ) -> Result<NirGraph> {
        let groups = group.groups().map_err(|e| hdf5(at, e))?;
        let datasets = group.datasets().map_err(|e| hdf5(at, e))?;
        let mut graph = NirGraph::default();
        if datasets.iter().any(|d| d == "edges") {
            match self.raw(group, "edges", at)? {
                Raw::Str(shape, flat) if shape.len() == 2 && shape[1] == 2 => {
                    graph.edges = flat
                        .chunks_exact(2)
                        .map(|e| (e[0].clone(), e[1].clone()))
                        .collect();
                }
                // an empty edge list may come back as an empty float array
                Raw::Float(a) if a.data.is_empty() => {}
                other => {
                    return Err(NirError::WrongType {
                        node: display(node),
                        field: "edges".into(),
                        expected: "strings of shape [E, 2]".into(),
                        found: other.describe(),
                    });
                }
            }
        } else {
            return Err(NirError::MissingField {
                node: display(node),
                field: "edges".into(),
            });
        }
        if !groups.iter().any(|g| g == "nodes") {
            return Err(NirError::MissingField {
                node: display(node),
                field: "nodes".into(),
            });
        }
        let nodes_at = format!("{at}/nodes");
        let nodes_address = self.child_address(address, "nodes");
        self.enter(&nodes_at, depth + 1, nodes_address)?;
        let nodes = group.group("nodes").map_err(|e| hdf5(&nodes_at, e))?;
        for name in nodes.groups().map_err(|e| hdf5(&nodes_at, e))? {
            let child_at = format!("{nodes_at}/{name}");
            let child_address = self.child_address(nodes_address, &name);
            let child = nodes.group(&name).map_err(|e| hdf5(&child_at, e))?;
            let child_node = if node.is_empty() {
                name.clone()
            } else {
                format!("{node}/{name}")
            };
            graph.nodes.insert(
                name,
                self.node(&child, &child_at, &child_node, depth + 2, child_address)?,
            );
        }
        if groups.iter().any(|g| g == "metadata") {
            let meta_at = format!("{at}/metadata");
            self.enter(&meta_at, depth + 1, self.child_address(address, "metadata"))?;
            let meta = group.group("metadata").map_err(|e| hdf5(&meta_at, e))?;
            for name in meta.datasets().map_err(|e| hdf5(&meta_at, e))? {
                let value = match self.raw(&meta, &name, &meta_at)? {
                    Raw::Float(a) => MetaValue::Float(a),
                    Raw::Int(s, v) => MetaValue::Int(s, v),
                    Raw::Str(_, v) => MetaValue::Str(v.join("\n")),
                };
                graph.metadata.insert(name, value);
            }
        }
        Ok(graph)
    }
}

/// Parsed links of group headers, by header address (`None`: not understood).
type LinkCache = HashMap<u64, Option<HashMap<String, LinkTarget>>>;

/// Where a link of a group leads.
#[derive(Clone, Debug, PartialEq, Eq)]
enum LinkTarget {
    /// A hard link: the object-header address (relative to the base address).
    Hard(u64),
    /// A soft link: an HDF5 path, absolute or relative to the link's group.
    Soft(String),
}

/// The raw bytes of an HDF5 file, read just far enough to find the object-header address that
/// each link of a group leads to, which hdf5-pure 0.47 keeps private. Understood: version 1 and
/// 2 object headers with their continuation blocks, link messages (compact storage) and
/// symbol tables (version 1 B-tree, symbol nodes, local heap). Anything else — dense link
/// storage in a fractal heap, other offset sizes, an inconsistency — gives `None`, and the
/// reader falls back on the depth limit alone. Every read is bounds-checked and every walk
/// bounded, so a corrupt file costs nothing but that fallback.
struct RawLinks<'a> {
    bytes: &'a [u8],
    /// The base address that stored addresses are relative to.
    base: u64,
    /// The root group's object-header address.
    root: u64,
    offset_size: usize,
    length_size: usize,
}

/// Blocks of one object header followed, at most (continuations).
const MAX_HEADER_BLOCKS: usize = 1024;
/// Messages of one object header read, at most.
const MAX_HEADER_MESSAGES: usize = 1 << 16;
/// Nodes of one group's B-tree visited, at most.
const MAX_BTREE_NODES: usize = 1 << 16;
/// The smallest object header a group can have (signature or version, flags, sizes and one
/// message header), in bytes: the file's length over it bounds how many groups it holds.
const MIN_GROUP_BYTES: u64 = 16;
/// Links looked up to resolve one link, soft links and every part of their paths included, at
/// most: bounds the work a crafted chain of long soft paths can ask for.
const MAX_RESOLVE_STEPS: usize = 64;

impl RawLinks<'_> {
    fn slice(&self, at: u64, len: usize) -> Option<&[u8]> {
        let start = usize::try_from(self.base.checked_add(at)?).ok()?;
        self.bytes.get(start..start.checked_add(len)?)
    }

    fn byte(&self, at: u64) -> Option<u8> {
        self.slice(at, 1).map(|b| b[0])
    }

    /// A little-endian unsigned integer of `size` (1..=8) bytes.
    fn uint(&self, at: u64, size: usize) -> Option<u64> {
        if size > 8 {
            return None;
        }
        let b = self.slice(at, size)?;
        Some(
            b.iter()
                .rev()
                .fold(0u64, |acc, &x| (acc << 8) | u64::from(x)),
        )
    }

    /// An address field, `None` for the undefined address (all bits set).
    fn address(&self, at: u64) -> Option<u64> {
        let undefined = u64::MAX >> (64 - 8 * self.offset_size.clamp(1, 8));
        self.uint(at, self.offset_size).filter(|&a| a != undefined)
    }

    /// The object-header address that link `name` of the group at `parent` leads to, soft
    /// links followed (at most [`MAX_RESOLVE_STEPS`] lookups in all; `None` beyond).
    fn resolve(&self, parent: u64, name: &str, cache: &mut LinkCache) -> Option<u64> {
        let mut steps = MAX_RESOLVE_STEPS;
        self.resolve_within(parent, name, cache, &mut steps)
    }

    /// [`RawLinks::resolve`] with `steps` lookups left.
    fn resolve_within(
        &self,
        parent: u64,
        name: &str,
        cache: &mut LinkCache,
        steps: &mut usize,
    ) -> Option<u64> {
        *steps = steps.checked_sub(1)?;
        let links = cache
            .entry(parent)
            .or_insert_with(|| self.links(parent))
            .as_ref()?;
        match links.get(name)?.clone() {
            LinkTarget::Hard(address) => Some(address),
            LinkTarget::Soft(path) => {
                let mut at = if path.starts_with('/') {
                    self.root
                } else {
                    parent
                };
                for part in path.split('/').filter(|p| !p.is_empty() && *p != ".") {
                    at = self.resolve_within(at, part, cache, steps)?;
                }
                Some(at)
            }
        }
    }

    /// The links of the group whose object header is at `header`: name -> target.
    fn links(&self, header: u64) -> Option<HashMap<String, LinkTarget>> {
        let os = self.offset_size as u64;
        let mut links = HashMap::new();
        for (kind, at, len) in self.messages(header)? {
            match kind {
                // link info: its fractal heap address is defined for dense link storage
                0x0002 => {
                    let flags = self.byte(at + 1)?;
                    let heap = at + 2 + if flags & 1 != 0 { 8 } else { 0 };
                    if self.address(heap).is_some() {
                        return None;
                    }
                }
                0x0006 => {
                    if let Some((name, target)) = self.link_message(at, len) {
                        links.insert(name, target);
                    }
                }
                0x0011 => {
                    let btree = self.address(at)?;
                    let heap = self.address(at + os)?;
                    self.symbol_table(btree, heap, &mut links)?;
                }
                _ => {}
            }
        }
        Some(links)
    }

    /// The messages of the object header at `header` (version 1 or 2), continuation blocks
    /// followed: (type, body address, body length).
    fn messages(&self, header: u64) -> Option<Vec<(u16, u64, usize)>> {
        let (os, ls) = (self.offset_size as u64, self.length_size);
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        // (start, length, whether the block is a version 2 one)
        let mut blocks: Vec<(u64, u64)> = Vec::new();
        let v2 = self.slice(header, 4)? == b"OHDR";
        // version 2: type (1), size (2), flags (1), creation order (2, when tracked)
        // version 1: type (2), size (2), flags (1), reserved (3)
        let (message_header, mut left) = if v2 {
            if self.byte(header + 4)? != 2 {
                return None;
            }
            let flags = self.byte(header + 5)?;
            let mut p = header + 6;
            if flags & 0x20 != 0 {
                p += 16; // access, modification, change and birth times
            }
            if flags & 0x10 != 0 {
                p += 4; // attribute storage phase change values
            }
            let size_bytes = 1usize << (flags & 3);
            let chunk0 = self.uint(p, size_bytes)?;
            blocks.push((p + size_bytes as u64, chunk0));
            (if flags & 0x04 != 0 { 6 } else { 4 }, MAX_HEADER_MESSAGES)
        } else {
            if self.byte(header)? != 1 {
                return None;
            }
            let count = self.uint(header + 2, 2)? as usize;
            blocks.push((header + 16, self.uint(header + 8, 4)?));
            (8, count.min(MAX_HEADER_MESSAGES))
        };
        while let Some((start, len)) = blocks.pop() {
            if !seen.insert(start) || seen.len() > MAX_HEADER_BLOCKS {
                return None;
            }
            let end = start.checked_add(len)?;
            let mut q = start;
            while q + message_header <= end && left > 0 {
                let (kind, size) = if v2 {
                    (u16::from(self.byte(q)?), self.uint(q + 1, 2)?)
                } else {
                    (self.uint(q, 2)? as u16, self.uint(q + 2, 2)?)
                };
                let body = q + message_header;
                if body + size > end {
                    return None;
                }
                left -= 1;
                if kind == 0x0010 {
                    let at = self.address(body)?;
                    let len = self.uint(body + os, ls)?;
                    if v2 {
                        // "OCHK", messages, checksum
                        if self.slice(at, 4)? != b"OCHK" || len < 8 {
                            return None;
                        }
                        blocks.push((at + 4, len - 8));
                    } else {
                        blocks.push((at, len));
                    }
                } else {
                    out.push((kind, body, size as usize));
                }
                q = body + size;
            }
        }
        Some(out)
    }

    /// A link message (version 1): its name and target; `None` for an external link.
    fn link_message(&self, at: u64, len: usize) -> Option<(String, LinkTarget)> {
        let body = self.slice(at, len)?;
        let (&version, &flags) = (body.first()?, body.get(1)?);
        if version != 1 {
            return None;
        }
        let mut p = 2usize;
        let kind = if flags & 0x08 != 0 {
            p += 1;
            *body.get(2)?
        } else {
            0
        };
        if flags & 0x04 != 0 {
            p += 8; // creation order
        }
        if flags & 0x10 != 0 {
            p += 1; // character set
        }
        let size_bytes = 1usize << (flags & 3);
        let name_len = body
            .get(p..p + size_bytes)?
            .iter()
            .rev()
            .try_fold(0usize, |acc, &x| {
                acc.checked_mul(256)?.checked_add(usize::from(x))
            })?;
        p += size_bytes;
        let name = std::str::from_utf8(body.get(p..p.checked_add(name_len)?)?).ok()?;
        p += name_len;
        let target = match kind {
            0 => {
                body.get(p..p + self.offset_size)?;
                LinkTarget::Hard(self.address(at + p as u64)?)
            }
            1 => {
                let n = usize::from(u16::from_le_bytes([*body.get(p)?, *body.get(p + 1)?]));
                let path = body.get(p + 2..p + 2 + n)?;
                LinkTarget::Soft(std::str::from_utf8(path).ok()?.to_string())
            }
            _ => return None,
        };
        Some((name.to_string(), target))
    }

    /// The entries of an old-style group: a version 1 B-tree of symbol-table nodes, the names
    /// in a local heap.
    fn symbol_table(
        &self,
        btree: u64,
        heap: u64,
        links: &mut HashMap<String, LinkTarget>,
    ) -> Option<()> {
        let (os, ls) = (self.offset_size as u64, self.length_size as u64);
        if self.slice(heap, 4)? != b"HEAP" {
            return None;
        }
        let heap_size = self.uint(heap + 8, self.length_size)?;
        let heap_data = self.address(heap + 8 + 2 * ls)?;
        let name_at = |offset: u64| -> Option<String> {
            let max = usize::try_from(heap_size.checked_sub(offset)?).ok()?;
            let raw = self.slice(heap_data.checked_add(offset)?, max)?;
            let end = raw.iter().position(|&b| b == 0)?;
            Some(std::str::from_utf8(&raw[..end]).ok()?.to_string())
        };
        let mut stack = vec![btree];
        let mut seen = HashSet::new();
        while let Some(node) = stack.pop() {
            if !seen.insert(node) || seen.len() > MAX_BTREE_NODES {
                return None;
            }
            // "TREE", node type 0 (group nodes), level, entries used, siblings, keys/children
            if self.slice(node, 4)? != b"TREE" || self.byte(node + 4)? != 0 {
                return None;
            }
            let level = self.byte(node + 5)?;
            let entries = self.uint(node + 6, 2)?;
            let first_child = node + 8 + 2 * os + ls;
            for i in 0..entries {
                let child = self.address(first_child + i * (os + ls))?;
                if level > 0 {
                    stack.push(child);
                    continue;
                }
                // "SNOD", version, reserved, symbol count, entries of 2 offsets + 24 bytes
                if self.slice(child, 4)? != b"SNOD" {
                    return None;
                }
                for k in 0..self.uint(child + 6, 2)? {
                    let entry = child + 8 + k * (2 * os + 24);
                    let name = name_at(self.uint(entry, self.offset_size)?)?;
                    let target = match self.uint(entry + 2 * os, 4)? {
                        // cache type 2: a soft link, its value's heap offset in the scratch pad
                        2 => LinkTarget::Soft(name_at(self.uint(entry + 2 * os + 8, 4)?)?),
                        _ => LinkTarget::Hard(self.address(entry + os)?),
                    };
                    links.insert(name, target);
                }
            }
        }
        Some(())
    }
}

fn display(node: &str) -> String {
    if node.is_empty() {
        "/".into()
    } else {
        node.into()
    }
}

/// A node's datasets by field name, taken one by one while the node is built.
struct Fields {
    node: String,
    values: BTreeMap<String, Raw>,
}

impl Fields {
    fn wrong(&self, field: &str, expected: &str, found: &Raw) -> NirError {
        NirError::WrongType {
            node: self.node.clone(),
            field: field.into(),
            expected: expected.into(),
            found: found.describe(),
        }
    }

    fn take(&mut self, field: &str) -> Result<Raw> {
        self.values
            .remove(field)
            .ok_or_else(|| NirError::MissingField {
                node: self.node.clone(),
                field: field.into(),
            })
    }

    /// A float array (integer data is accepted and converted).
    fn array(&mut self, field: &str) -> Result<Array> {
        match self.take(field)? {
            Raw::Float(a) => Ok(a),
            Raw::Int(shape, v) => Ok(Array {
                shape,
                data: v.into_iter().map(|x| x as f64).collect(),
                dtype: FloatType::F64,
            }),
            other => Err(self.wrong(field, "a float array", &other)),
        }
    }

    /// `field` if present, else zeros shaped like `like` (as `nir.read` fills `v_reset`).
    fn array_or_zeros(&mut self, field: &str, like: &Array) -> Result<Array> {
        if self.values.contains_key(field) {
            self.array(field)
        } else {
            Ok(Array {
                data: vec![0.0; like.numel()],
                ..like.clone()
            })
        }
    }

    /// Non-negative integers of any rank (a scalar gives one value); `rank1` demands `[n]`.
    fn sizes(&mut self, field: &str) -> Result<Vec<usize>> {
        let raw = self.take(field)?;
        let values: Vec<i64> = match &raw {
            Raw::Int(shape, v) if shape.len() <= 1 => v.clone(),
            Raw::Float(a) if a.shape.len() <= 1 && a.data.iter().all(|x| x.fract() == 0.0) => {
                a.data.iter().map(|&x| x as i64).collect()
            }
            other => return Err(self.wrong(field, "integers", other)),
        };
        values
            .into_iter()
            .map(|v| {
                usize::try_from(v).map_err(|_| NirError::InvalidValue {
                    node: self.node.clone(),
                    field: field.into(),
                    reason: format!("{v} is negative"),
                })
            })
            .collect()
    }

    /// `sizes`, a scalar repeated to `dims` entries.
    fn sizes_n(&mut self, field: &str, dims: usize) -> Result<Vec<usize>> {
        let v = self.sizes(field)?;
        Ok(if v.len() == 1 { vec![v[0]; dims] } else { v })
    }

    fn int(&mut self, field: &str) -> Result<i64> {
        match self.take(field)? {
            Raw::Int(_, v) if v.len() == 1 => Ok(v[0]),
            other => Err(self.wrong(field, "one integer", &other)),
        }
    }

    fn padding(&mut self, dims: usize) -> Result<Padding> {
        match self.values.get("padding") {
            Some(Raw::Str(_, v)) if v.len() == 1 => {
                let p = match v[0].as_str() {
                    "same" => Padding::Same,
                    "valid" => Padding::Valid,
                    other => {
                        return Err(NirError::InvalidValue {
                            node: self.node.clone(),
                            field: "padding".into(),
                            reason: format!("`{other}` is not 'same', 'valid' or integers"),
                        });
                    }
                };
                self.values.remove("padding");
                Ok(p)
            }
            _ => Ok(Padding::Explicit(self.sizes_n("padding", dims)?)),
        }
    }

    fn conv(&mut self, dims: usize) -> Result<Conv> {
        let input_shape = if self.values.contains_key("input_shape") {
            Some(self.sizes("input_shape")?)
        } else {
            None
        };
        Ok(Conv {
            input_shape,
            weight: self.array("weight")?,
            stride: self.sizes_n("stride", dims)?,
            padding: self.padding(dims)?,
            dilation: self.sizes_n("dilation", dims)?,
            groups: self.int("groups").and_then(|g| {
                usize::try_from(g).map_err(|_| NirError::InvalidValue {
                    node: self.node.clone(),
                    field: "groups".into(),
                    reason: format!("{g} is negative"),
                })
            })?,
            bias: self.array("bias")?,
        })
    }

    fn pool(&mut self) -> Result<Pool> {
        Ok(Pool {
            kernel_size: self.sizes_n("kernel_size", 2)?,
            stride: self.sizes_n("stride", 2)?,
            padding: self.sizes_n("padding", 2)?,
        })
    }

    fn build(mut self, type_name: &str) -> Result<NirNode> {
        Ok(match type_name {
            "Input" => NirNode::Input {
                shape: self.sizes("shape")?,
            },
            "Output" => NirNode::Output {
                shape: self.sizes("shape")?,
            },
            "Affine" => NirNode::Affine {
                weight: self.array("weight")?,
                bias: self.array("bias")?,
            },
            "Linear" => NirNode::Linear {
                weight: self.array("weight")?,
            },
            "Scale" => NirNode::Scale {
                scale: self.array("scale")?,
            },
            "Threshold" => NirNode::Threshold {
                threshold: self.array("threshold")?,
            },
            "Flatten" => NirNode::Flatten {
                start_dim: self.int("start_dim")?,
                end_dim: self.int("end_dim")?,
                input_type: if self.values.contains_key("input_type") {
                    Some(self.sizes("input_type")?)
                } else {
                    None
                },
            },
            "Conv1d" => NirNode::Conv1d(self.conv(1)?),
            "Conv2d" => NirNode::Conv2d(self.conv(2)?),
            "SumPool2d" => NirNode::SumPool2d(self.pool()?),
            "AvgPool2d" => NirNode::AvgPool2d(self.pool()?),
            "Delay" => NirNode::Delay {
                delay: self.array("delay")?,
            },
            "I" => NirNode::I {
                r: self.array("r")?,
            },
            "IF" => {
                let r = self.array("r")?;
                let v_threshold = self.array("v_threshold")?;
                let v_reset = self.array_or_zeros("v_reset", &v_threshold)?;
                NirNode::If {
                    r,
                    v_threshold,
                    v_reset,
                }
            }
            "LI" => NirNode::Li {
                tau: self.array("tau")?,
                r: self.array("r")?,
                v_leak: self.array("v_leak")?,
            },
            "LIF" => {
                let tau = self.array("tau")?;
                let r = self.array("r")?;
                let v_leak = self.array("v_leak")?;
                let v_threshold = self.array("v_threshold")?;
                let v_reset = self.array_or_zeros("v_reset", &v_threshold)?;
                NirNode::Lif {
                    tau,
                    r,
                    v_leak,
                    v_threshold,
                    v_reset,
                }
            }
            "CubaLI" => NirNode::CubaLi {
                tau_syn: self.array("tau_syn")?,
                tau_mem: self.array("tau_mem")?,
                r: self.array("r")?,
                v_leak: self.array("v_leak")?,
                w_in: self.array("w_in")?,
            },
            "CubaLIF" => {
                let tau_syn = self.array("tau_syn")?;
                let tau_mem = self.array("tau_mem")?;
                let r = self.array("r")?;
                let v_leak = self.array("v_leak")?;
                let v_threshold = self.array("v_threshold")?;
                let v_reset = self.array_or_zeros("v_reset", &v_threshold)?;
                NirNode::CubaLif {
                    tau_syn,
                    tau_mem,
                    r,
                    v_leak,
                    v_threshold,
                    v_reset,
                    w_in: self.array("w_in")?,
                }
            }
            other => {
                return Err(NirError::UnknownNodeType {
                    node: self.node,
                    type_name: other.to_string(),
                    known: NODE_TYPES,
                });
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/nir/");
        std::fs::read(format!("{dir}{name}")).unwrap()
    }

    fn raw_links(file: &File) -> RawLinks<'_> {
        let sb = file.superblock();
        RawLinks {
            bytes: file.as_bytes(),
            base: sb.base_address.get(),
            root: sb.root_group_address,
            offset_size: usize::from(sb.offset_size),
            length_size: usize::from(sb.length_size),
        }
    }

    /// Every member hdf5-pure lists in `group` (at `address`) is a link the raw walker finds,
    /// and the walk agrees below it.
    fn agree(links: &RawLinks, cache: &mut LinkCache, group: &Group, address: u64) -> usize {
        let raw = links.links(address).expect("understood");
        let mut names = group.datasets().unwrap();
        let groups = group.groups().unwrap();
        names.extend(groups.iter().cloned());
        let mut raw_names: Vec<&String> = raw.keys().collect();
        raw_names.sort();
        names.sort();
        assert_eq!(raw_names, names.iter().collect::<Vec<_>>());
        let mut count = 1;
        for name in groups {
            let child = links.resolve(address, &name, cache).unwrap();
            count += agree(links, cache, &group.group(&name).unwrap(), child);
        }
        count
    }

    #[test]
    fn raw_links_agree_with_hdf5_pure_on_h5py_and_hdf5_pure_files() {
        let ours =
            crate::write_bytes(&crate::read_bytes(fixture("recurrent_cubalif.nir")).unwrap())
                .unwrap();
        for bytes in [
            fixture("recurrent_cubalif.nir"),
            fixture("affine_lif.nir"),
            ours,
        ] {
            let file = File::from_bytes(bytes).unwrap();
            let links = raw_links(&file);
            let groups = agree(
                &links,
                &mut HashMap::new(),
                &file.root(),
                file.superblock().root_group_address,
            );
            assert!(groups >= 6, "{groups}");
        }
    }

    /// A symbol-table entry (h5py's layout) of `node/nodes/lif` pointed at `node`.
    #[test]
    fn a_symbol_table_entry_back_to_an_ancestor_is_a_cycle() {
        let mut bytes = fixture("affine_lif.nir");
        let file = File::from_bytes(bytes.clone()).unwrap();
        let links = raw_links(&file);
        let cache = &mut HashMap::new();
        let root = file.superblock().root_group_address;
        let node = links.resolve(root, "node", cache).unwrap();
        let nodes = links.resolve(node, "nodes", cache).unwrap();
        let lif = links.resolve(nodes, "lif", cache).unwrap();
        drop(file);
        let mut patched = 0;
        let snods: Vec<usize> = (0..bytes.len() - 4)
            .filter(|&p| &bytes[p..p + 4] == b"SNOD")
            .collect();
        for snod in snods {
            let count = usize::from(u16::from_le_bytes([bytes[snod + 6], bytes[snod + 7]]));
            for k in 0..count {
                // name offset, header address, cache type, reserved, scratch pad
                let entry = snod + 8 + 40 * k;
                if bytes[entry + 8..entry + 16] == lif.to_le_bytes() {
                    bytes[entry + 8..entry + 16].copy_from_slice(&node.to_le_bytes());
                    // no cached symbol table: readers take the header's
                    bytes[entry + 16..entry + 20].copy_from_slice(&0u32.to_le_bytes());
                    patched += 1;
                }
            }
        }
        assert_eq!(patched, 1);
        assert!(
            File::from_bytes(bytes.clone())
                .unwrap()
                .group("node/nodes/lif/nodes/lif/nodes")
                .is_ok()
        );
        match read_bytes(bytes) {
            Err(NirError::LinkCycle { object, first, .. }) => {
                assert_eq!(
                    (object.as_str(), first.as_str()),
                    ("node/nodes/lif", "node")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn soft_links_resolve_to_their_target() {
        let bytes = fixture("affine_lif.nir");
        let file = File::from_bytes(bytes).unwrap();
        let links = raw_links(&file);
        let cache = &mut HashMap::new();
        let root = file.superblock().root_group_address;
        let node = links.resolve(root, "node", cache).unwrap();
        let nodes = links.resolve(node, "nodes", cache).unwrap();
        let lif = links.resolve(nodes, "lif", cache).unwrap();
        // as if `node/nodes` held soft links
        cache.get_mut(&nodes).unwrap().as_mut().unwrap().extend([
            ("abs".to_string(), LinkTarget::Soft("/node".into())),
            ("rel".to_string(), LinkTarget::Soft("./lif".into())),
            ("up".to_string(), LinkTarget::Soft("lif/../lif".into())),
            (
                "self".to_string(),
                LinkTarget::Soft("/node/nodes/self".into()),
            ),
        ]);
        assert_eq!(links.resolve(nodes, "abs", cache), Some(node));
        assert_eq!(links.resolve(nodes, "rel", cache), Some(lif));
        // `..` is not a link name: an unresolvable path gives no address
        assert_eq!(links.resolve(nodes, "up", cache), None);
        // a soft link to itself ends at the step limit
        assert_eq!(links.resolve(nodes, "self", cache), None);
        // so does a chain whose every part is a soft path of many parts: the steps are counted
        // over the whole resolution, not per soft link
        let long = std::iter::repeat_n("rel2", 40)
            .collect::<Vec<_>>()
            .join("/");
        cache.get_mut(&nodes).unwrap().as_mut().unwrap().extend([
            ("rel2".to_string(), LinkTarget::Soft(".".into())),
            ("long".to_string(), LinkTarget::Soft(long.clone())),
            (
                "longer".to_string(),
                LinkTarget::Soft(format!("long/{long}")),
            ),
        ]);
        assert_eq!(links.resolve(nodes, "long", cache), Some(nodes));
        assert_eq!(links.resolve(nodes, "longer", cache), None);
    }

    #[test]
    fn groups_beyond_one_per_16_bytes_of_the_file_are_a_limit_error() {
        // groups whose address the raw walker cannot follow (`None`) escape the cycle check:
        // their count is bounded by the file's length instead
        let bytes = fixture("affine_lif.nir");
        let cap = bytes.len() as u64 / MIN_GROUP_BYTES;
        let file = File::from_bytes(bytes).unwrap();
        let reader = Reader::new(&file, &ReadLimits::default());
        for _ in 0..cap {
            reader.enter("node", 1, None).unwrap();
        }
        let err = reader.enter("node", 1, None).unwrap_err();
        assert!(
            matches!(&err, NirError::Limit { found, cap: c, .. } if *found == cap + 1 && *c == cap),
            "{err}"
        );
    }
}

//! Reading NIR's HDF5 layout (what `nir.write` of nir 1.0.8 produces) into a [`NirGraph`].
//!
//! Layout: `/version` (string), `/node` (the root graph group): `type` = `"NIRGraph"`,
//! `edges` (`(E, 2)` strings), `nodes/<name>/` (one group per node: a `type` string plus one
//! dataset per field), optional `metadata/`. Arrays may be contiguous or chunked and
//! gzip-compressed, float32 or float64; integers are int64; scalars are rank-0 datasets.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use hdf5_pure::{DType, File, Group};

use crate::error::{NirError, Result};
use crate::graph::{
    Array, Conv, FloatType, MetaValue, NODE_TYPES, NirGraph, NirNode, Padding, Pool,
};

/// Reads a NIR file and checks it ([`NirGraph::check`]): parameter shapes, edge endpoints and
/// the type check along edges, as `nir.read` does.
pub fn read(path: impl AsRef<Path>) -> Result<NirGraph> {
    let graph = read_unchecked(path)?;
    graph.check()?;
    Ok(graph)
}

/// Reads a NIR file from memory and checks it, like [`read`].
pub fn read_bytes(bytes: Vec<u8>) -> Result<NirGraph> {
    let graph = read_bytes_unchecked(bytes)?;
    graph.check()?;
    Ok(graph)
}

/// Reads a NIR file without the graph checks (`nir.read(..., type_check=False)`); the
/// per-field checks (types, known node types, array sizes) still apply.
pub fn read_unchecked(path: impl AsRef<Path>) -> Result<NirGraph> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| NirError::Io {
        path: path.display().to_string(),
        source,
    })?;
    read_bytes_unchecked(bytes)
}

/// [`read_unchecked`] from memory.
///
/// The HDF5 parser is run under `catch_unwind`: a file corrupt enough to make it panic gives
/// [`NirError::Corrupt`] instead of a panic.
pub fn read_bytes_unchecked(bytes: Vec<u8>) -> Result<NirGraph> {
    match catch_unwind(AssertUnwindSafe(|| parse(bytes))) {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(NirError::Corrupt {
                message: format!("the HDF5 reader failed: {message}"),
            })
        }
    }
}

/// The version string stored in a NIR file (`"1.0.8"`).
pub fn read_version(path: impl AsRef<Path>) -> Result<String> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| NirError::Io {
        path: path.display().to_string(),
        source,
    })?;
    catch_unwind(AssertUnwindSafe(|| {
        let file = open(bytes)?;
        let reader = Reader { file: &file };
        reader.scalar_string(&file.root(), "version", "/")
    }))
    .unwrap_or_else(|_| {
        Err(NirError::Corrupt {
            message: "the HDF5 reader failed".into(),
        })
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

fn parse(bytes: Vec<u8>) -> Result<NirGraph> {
    let file = open(bytes)?;
    let reader = Reader { file: &file };
    let root = file.group("node").map_err(|e| hdf5("node", e))?;
    match reader.node(&root, "node", "")? {
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
}

impl Reader<'_> {
    /// Reads the dataset `name` of `group` (HDF5 path `at`).
    fn raw(&self, group: &Group, name: &str, at: &str) -> Result<Raw> {
        let object = format!("{at}/{name}");
        let ds = group.dataset(name).map_err(|e| hdf5(&object, e))?;
        let shape64 = ds.shape().map_err(|e| hdf5(&object, e))?;
        let shape: Vec<usize> = shape64.iter().map(|&d| d as usize).collect();
        // a corrupt header can claim any size: refuse more elements than the file could hold
        // (gzip expands at most ~1032:1), so that a bad file is an error and not an abort
        let limit = self.file.file_size().saturating_mul(1100).max(1 << 16);
        let numel = shape64
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .filter(|&n| n <= limit)
            .ok_or_else(|| NirError::Corrupt {
                message: format!("dataset `{object}` claims the shape {shape64:?}"),
            })? as usize;
        let dtype = ds.dtype().map_err(|e| hdf5(&object, e))?;
        let raw = match dtype {
            DType::F32 => {
                let v = ds.read_f32().map_err(|e| hdf5(&object, e))?;
                Raw::Float(Array {
                    shape,
                    data: v.into_iter().map(f64::from).collect(),
                    dtype: FloatType::F32,
                })
            }
            DType::F64 => Raw::Float(Array {
                shape,
                data: ds.read_f64().map_err(|e| hdf5(&object, e))?,
                dtype: FloatType::F64,
            }),
            DType::I8
            | DType::I16
            | DType::I32
            | DType::I64
            | DType::U8
            | DType::U16
            | DType::U32 => Raw::Int(shape, ds.read_i64().map_err(|e| hdf5(&object, e))?),
            DType::String | DType::VariableLengthString => {
                let v = ds.read_string().map_err(|e| hdf5(&object, e))?;
                // some writers store the NUL terminator inside variable-length strings
                let v = v
                    .into_iter()
                    .map(|s| s.trim_end_matches('\0').to_string())
                    .collect();
                Raw::Str(shape, v)
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
        if len != numel {
            return Err(NirError::Corrupt {
                message: format!("dataset `{object}` has {len} values for {numel} elements"),
            });
        }
        Ok(raw)
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

    /// Reads the node group `group` (HDF5 path `at`, node path `node` for errors).
    fn node(&self, group: &Group, at: &str, node: &str) -> Result<NirNode> {
        let datasets = group.datasets().map_err(|e| hdf5(at, e))?;
        if !datasets.iter().any(|d| d == "type") {
            return Err(NirError::MissingField {
                node: display(node),
                field: "type".into(),
            });
        }
        let type_name = self.scalar_string(group, "type", at)?;
        if type_name == "NIRGraph" {
            return self.graph(group, at, node).map(NirNode::Graph);
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

    fn graph(&self, group: &Group, at: &str, node: &str) -> Result<NirGraph> {
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
        let nodes = group.group("nodes").map_err(|e| hdf5(&nodes_at, e))?;
        for name in nodes.groups().map_err(|e| hdf5(&nodes_at, e))? {
            let child_at = format!("{nodes_at}/{name}");
            let child = nodes.group(&name).map_err(|e| hdf5(&child_at, e))?;
            let child_node = if node.is_empty() {
                name.clone()
            } else {
                format!("{node}/{name}")
            };
            graph
                .nodes
                .insert(name, self.node(&child, &child_at, &child_node)?);
        }
        if groups.iter().any(|g| g == "metadata") {
            let meta_at = format!("{at}/metadata");
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

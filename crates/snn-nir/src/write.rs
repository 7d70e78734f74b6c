//! Writing a [`NirGraph`] in the HDF5 layout of `nir.write` (nir 1.0.8): `version` and every
//! node's `type` as scalar variable-length UTF-8 strings, `edges` as an `(E, 2)` string array,
//! numpy-array fields chunked (one chunk) with gzip level 4, Python ints and tuples (Conv
//! `stride`, `padding`, `dilation`, `input_shape`, `groups`, Flatten `start_dim`/`end_dim`)
//! contiguous, and `metadata` only when it is non-empty. `nir.read` loads the result.

use std::path::Path;

use hdf5_pure::{FileBuilder, GroupBuilder};

use crate::error::{NirError, Result};
use crate::graph::{
    Array, Conv, FloatType, MetaValue, NIR_VERSION, NirGraph, NirNode, Padding, Pool,
};

/// Writes `graph` to `path` after checking it ([`NirGraph::check`]).
pub fn write(path: impl AsRef<Path>, graph: &NirGraph) -> Result<()> {
    let path = path.as_ref();
    let bytes = write_bytes(graph)?;
    std::fs::write(path, bytes).map_err(|source| NirError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// The bytes of the NIR file of `graph` (checked first, like [`write()`]).
pub fn write_bytes(graph: &NirGraph) -> Result<Vec<u8>> {
    graph.check()?;
    write_bytes_unchecked(graph)
}

/// [`write_bytes`] without the graph check: writes graphs that `nir.read` would reject (for
/// tests of readers).
pub fn write_bytes_unchecked(graph: &NirGraph) -> Result<Vec<u8>> {
    let mut file = FileBuilder::new();
    file.create_dataset("version")
        .with_vlen_strings(&[NIR_VERSION])
        .with_shape(&[]);
    let mut root = file.create_group("node");
    fill_graph(&mut root, graph);
    file.add_group(root.finish());
    file.finish().map_err(|e| NirError::Write {
        message: e.to_string(),
    })
}

fn dims(shape: &[usize]) -> Vec<u64> {
    shape.iter().map(|&d| d as u64).collect()
}

/// A numpy array field: chunked as one chunk and gzip-compressed, as `nir.write` stores it
/// (contiguous when empty or rank 0, where a chunk cannot be).
fn float_field(g: &mut GroupBuilder, name: &str, a: &Array) {
    let shape = dims(&a.shape);
    let ds = g.create_dataset(name);
    match a.dtype {
        FloatType::F32 => ds.with_f32_data(&a.to_f32()),
        FloatType::F64 => ds.with_f64_data(&a.data),
    };
    ds.with_shape(&shape);
    if !shape.is_empty() && !shape.contains(&0) {
        ds.with_chunks(&shape).with_deflate(4);
    }
}

/// An int64 numpy array field (chunked, gzip), like `Input.shape`.
fn int_array_field(g: &mut GroupBuilder, name: &str, v: &[usize]) {
    let data: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    let shape = [v.len() as u64];
    let ds = g
        .create_dataset(name)
        .with_i64_data(&data)
        .with_shape(&shape);
    if !v.is_empty() {
        ds.with_chunks(&shape).with_deflate(4);
    }
}

/// An int64 field from a Python int or tuple: contiguous, `[]` for a scalar.
fn int_plain_field(g: &mut GroupBuilder, name: &str, v: &[i64], scalar: bool) {
    let shape: Vec<u64> = if scalar { vec![] } else { vec![v.len() as u64] };
    g.create_dataset(name).with_i64_data(v).with_shape(&shape);
}

fn string_field(g: &mut GroupBuilder, name: &str, s: &str) {
    g.create_dataset(name)
        .with_vlen_strings(&[s])
        .with_shape(&[]);
}

fn fill_graph(g: &mut GroupBuilder, graph: &NirGraph) {
    string_field(g, "type", "NIRGraph");
    let flat: Vec<&str> = graph
        .edges
        .iter()
        .flat_map(|(a, b)| [a.as_str(), b.as_str()])
        .collect();
    g.create_dataset("edges")
        .with_vlen_strings(&flat)
        .with_shape(&[graph.edges.len() as u64, 2]);
    let mut nodes = g.create_group("nodes");
    for (name, node) in &graph.nodes {
        let mut child = nodes.create_group(name);
        fill_node(&mut child, node);
        nodes.add_group(child.finish());
    }
    g.add_group(nodes.finish());
    if !graph.metadata.is_empty() {
        let mut meta = g.create_group("metadata");
        for (name, value) in &graph.metadata {
            match value {
                MetaValue::Float(a) => float_field(&mut meta, name, a),
                MetaValue::Int(shape, v) => {
                    meta.create_dataset(name)
                        .with_i64_data(v)
                        .with_shape(&dims(shape));
                }
                MetaValue::Str(s) => string_field(&mut meta, name, s),
            }
        }
        g.add_group(meta.finish());
    }
}

fn conv_fields(g: &mut GroupBuilder, c: &Conv, scalar: bool) {
    let ints = |v: &[usize]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
    if let Some(s) = &c.input_shape {
        int_plain_field(g, "input_shape", &ints(s), scalar);
    }
    float_field(g, "weight", &c.weight);
    int_plain_field(g, "stride", &ints(&c.stride), scalar);
    match &c.padding {
        Padding::Explicit(p) => int_plain_field(g, "padding", &ints(p), scalar),
        Padding::Same => string_field(g, "padding", "same"),
        Padding::Valid => string_field(g, "padding", "valid"),
    }
    int_plain_field(g, "dilation", &ints(&c.dilation), scalar);
    int_plain_field(g, "groups", &[c.groups as i64], true);
    float_field(g, "bias", &c.bias);
}

fn pool_fields(g: &mut GroupBuilder, p: &Pool) {
    int_array_field(g, "kernel_size", &p.kernel_size);
    int_array_field(g, "stride", &p.stride);
    int_array_field(g, "padding", &p.padding);
}

fn fill_node(g: &mut GroupBuilder, node: &NirNode) {
    if let NirNode::Graph(inner) = node {
        fill_graph(g, inner);
        return;
    }
    string_field(g, "type", node.type_name());
    match node {
        NirNode::Input { shape } | NirNode::Output { shape } => int_array_field(g, "shape", shape),
        NirNode::Flatten {
            start_dim,
            end_dim,
            input_type,
        } => {
            int_plain_field(g, "start_dim", &[*start_dim], true);
            int_plain_field(g, "end_dim", &[*end_dim], true);
            if let Some(t) = input_type {
                int_array_field(g, "input_type", t);
            }
        }
        // Conv1d's fields are Python ints in nir, Conv2d's tuples
        NirNode::Conv1d(c) => conv_fields(g, c, true),
        NirNode::Conv2d(c) => conv_fields(g, c, false),
        NirNode::SumPool2d(p) | NirNode::AvgPool2d(p) => pool_fields(g, p),
        other => {
            for (field, a) in other.arrays() {
                float_field(g, field, a);
            }
        }
    }
}

//! The in-memory NIR graph: one [`NirNode`] variant per NIR node type, parameter arrays with
//! their shapes, edges and metadata, and the structural checks NIR's `nir.read` does
//! (parameter shapes, edges to existing nodes, the type check along every edge).

use std::collections::BTreeMap;

use crate::error::{NirError, Result};

/// The NIR version whose file layout this crate reads and writes.
pub const NIR_VERSION: &str = "1.0.8";

/// Precision a float array is stored with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatType {
    /// `<f4`.
    F32,
    /// `<f8`.
    F64,
}

/// A float parameter array: row-major values (held as `f64`, exact for `f32` data), its shape
/// (`[]` for a scalar) and the precision it is stored with.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Dimensions, `[]` for a scalar.
    pub shape: Vec<usize>,
    /// Row-major values; `data.len()` is the product of `shape`.
    pub data: Vec<f64>,
    /// Stored precision.
    pub dtype: FloatType,
}

impl Array {
    /// An `f32` array. Panics if `data` does not have `shape`'s element count.
    pub fn f32(shape: Vec<usize>, data: &[f32]) -> Self {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "Array::f32");
        Self {
            shape,
            data: data.iter().map(|&x| f64::from(x)).collect(),
            dtype: FloatType::F32,
        }
    }

    /// An `f64` array. Panics if `data` does not have `shape`'s element count.
    pub fn f64(shape: Vec<usize>, data: Vec<f64>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), data.len(), "Array::f64");
        Self {
            shape,
            data,
            dtype: FloatType::F64,
        }
    }

    /// An `f32` array of `shape` filled with `value`.
    pub fn full(shape: Vec<usize>, value: f64) -> Self {
        let n = shape.iter().product();
        Self {
            shape,
            data: vec![value; n],
            dtype: FloatType::F32,
        }
    }

    /// Number of elements.
    pub fn numel(&self) -> usize {
        self.data.len()
    }

    /// The values as `f32`.
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|&x| x as f32).collect()
    }
}

/// Conv padding: explicit sizes per spatial dimension, or PyTorch's `"same"` / `"valid"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Zero padding of this many elements on both sides of each spatial dimension.
    Explicit(Vec<usize>),
    /// Output as large as the input (stride 1).
    Same,
    /// No padding.
    Valid,
}

/// The fields of NIR's `Conv1d` and `Conv2d` (one entry per spatial dimension in the vectors).
#[derive(Clone, Debug, PartialEq)]
pub struct Conv {
    /// Spatial input shape (`N` or `(H, W)`), if the file gives it.
    pub input_shape: Option<Vec<usize>>,
    /// `[C_out, C_in / groups, k...]` (PyTorch layout).
    pub weight: Array,
    /// Stride per spatial dimension.
    pub stride: Vec<usize>,
    /// Padding.
    pub padding: Padding,
    /// Dilation per spatial dimension.
    pub dilation: Vec<usize>,
    /// Groups.
    pub groups: usize,
    /// `[C_out]`.
    pub bias: Array,
}

/// The fields of NIR's `SumPool2d` and `AvgPool2d`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pool {
    /// `(H, W)` window.
    pub kernel_size: Vec<usize>,
    /// `(H, W)` stride.
    pub stride: Vec<usize>,
    /// `(H, W)` zero padding on both sides.
    pub padding: Vec<usize>,
}

/// A metadata value (NIR's `metadata` dicts hold scalars, arrays and strings).
#[derive(Clone, Debug, PartialEq)]
pub enum MetaValue {
    /// A float scalar or array.
    Float(Array),
    /// An integer scalar or array: shape and row-major values.
    Int(Vec<usize>, Vec<i64>),
    /// A string.
    Str(String),
}

/// A NIR graph: named nodes, directed edges (data flows `from → to`; a node's inputs are
/// summed), and metadata. Nodes are kept sorted by name (NIR's meaning does not depend on node
/// order; h5py lists them alphabetically); the order of `edges` is kept.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NirGraph {
    /// Nodes by name.
    pub nodes: BTreeMap<String, NirNode>,
    /// Edges `(from, to)`.
    pub edges: Vec<(String, String)>,
    /// The graph's `metadata` group (written only when non-empty, as `nir.write` does).
    pub metadata: BTreeMap<String, MetaValue>,
}

/// One NIR node. Neuron parameters are per-neuron arrays of the node's shape; time constants
/// are in seconds (NIR's continuous-time ODEs; see the crate docs for the equations).
#[derive(Clone, Debug, PartialEq)]
pub enum NirNode {
    /// Graph input of the given per-sample shape.
    Input {
        /// Per-sample shape.
        shape: Vec<usize>,
    },
    /// Graph output of the given per-sample shape.
    Output {
        /// Per-sample shape.
        shape: Vec<usize>,
    },
    /// `y = W x + b`.
    Affine {
        /// `[out, in]`.
        weight: Array,
        /// `[out]`.
        bias: Array,
    },
    /// `y = W x`.
    Linear {
        /// `[out, in]`.
        weight: Array,
    },
    /// `y = s ⊙ x`.
    Scale {
        /// Per-element scale.
        scale: Array,
    },
    /// `z = H(x − threshold)` (stateless).
    Threshold {
        /// Per-element threshold.
        threshold: Array,
    },
    /// Reshape of the per-sample dimensions `start_dim..=end_dim` into one.
    Flatten {
        /// First flattened dimension (negative counts from the end).
        start_dim: i64,
        /// Last flattened dimension (negative counts from the end).
        end_dim: i64,
        /// Per-sample input shape, if the file gives it.
        input_type: Option<Vec<usize>>,
    },
    /// 1-D convolution (PyTorch cross-correlation) of `[C_in, N]`.
    Conv1d(Conv),
    /// 2-D convolution (PyTorch cross-correlation) of `[C_in, H, W]`.
    Conv2d(Conv),
    /// Window sum of `[C, H, W]`.
    SumPool2d(Pool),
    /// Window mean of `[C, H, W]` (padding counted, as PyTorch's default).
    AvgPool2d(Pool),
    /// `y(t) = x(t − delay)` per element (seconds).
    Delay {
        /// Per-element delay, s.
        delay: Array,
    },
    /// Integrator `dv/dt = r·I`, output `v`.
    I {
        /// Per-neuron resistance.
        r: Array,
    },
    /// Integrate-and-fire `dv/dt = r·I`.
    If {
        /// Per-neuron resistance.
        r: Array,
        /// Per-neuron threshold.
        v_threshold: Array,
        /// Per-neuron reset potential.
        v_reset: Array,
    },
    /// Leaky integrator `τ dv/dt = (v_leak − v) + r·I`, output `v`.
    Li {
        /// Per-neuron time constant, s.
        tau: Array,
        /// Per-neuron resistance.
        r: Array,
        /// Per-neuron leak potential.
        v_leak: Array,
    },
    /// Leaky integrate-and-fire `τ dv/dt = (v_leak − v) + r·I`.
    Lif {
        /// Per-neuron time constant, s.
        tau: Array,
        /// Per-neuron resistance.
        r: Array,
        /// Per-neuron leak potential.
        v_leak: Array,
        /// Per-neuron threshold.
        v_threshold: Array,
        /// Per-neuron reset potential.
        v_reset: Array,
    },
    /// Current-based leaky integrator: `τ_syn di/dt = −i + w_in·I`,
    /// `τ_mem dv/dt = (v_leak − v) + r·i`, output `v`.
    CubaLi {
        /// Per-neuron synaptic time constant, s.
        tau_syn: Array,
        /// Per-neuron membrane time constant, s.
        tau_mem: Array,
        /// Per-neuron resistance.
        r: Array,
        /// Per-neuron leak potential.
        v_leak: Array,
        /// Per-neuron input weight.
        w_in: Array,
    },
    /// Current-based LIF: `τ_syn di/dt = −i + w_in·I`, `τ_mem dv/dt = (v_leak − v) + r·i`.
    CubaLif {
        /// Per-neuron synaptic time constant, s.
        tau_syn: Array,
        /// Per-neuron membrane time constant, s.
        tau_mem: Array,
        /// Per-neuron resistance.
        r: Array,
        /// Per-neuron leak potential.
        v_leak: Array,
        /// Per-neuron threshold.
        v_threshold: Array,
        /// Per-neuron reset potential.
        v_reset: Array,
        /// Per-neuron input weight.
        w_in: Array,
    },
    /// A nested graph (NIR's `NIRGraph` node); edges to it enter its `Input` node, edges from
    /// it leave its `Output` node.
    Graph(NirGraph),
}

/// The NIR type names, as stored in each node's `type` dataset.
pub const NODE_TYPES: &str = "Input, Output, Affine, Linear, Scale, Threshold, Flatten, Conv1d, \
     Conv2d, SumPool2d, AvgPool2d, Delay, I, IF, LI, LIF, CubaLI, CubaLIF, NIRGraph";

impl NirNode {
    /// The NIR type name (`"LIF"`, `"NIRGraph"`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Input { .. } => "Input",
            Self::Output { .. } => "Output",
            Self::Affine { .. } => "Affine",
            Self::Linear { .. } => "Linear",
            Self::Scale { .. } => "Scale",
            Self::Threshold { .. } => "Threshold",
            Self::Flatten { .. } => "Flatten",
            Self::Conv1d(_) => "Conv1d",
            Self::Conv2d(_) => "Conv2d",
            Self::SumPool2d(_) => "SumPool2d",
            Self::AvgPool2d(_) => "AvgPool2d",
            Self::Delay { .. } => "Delay",
            Self::I { .. } => "I",
            Self::If { .. } => "IF",
            Self::Li { .. } => "LI",
            Self::Lif { .. } => "LIF",
            Self::CubaLi { .. } => "CubaLI",
            Self::CubaLif { .. } => "CubaLIF",
            Self::Graph(_) => "NIRGraph",
        }
    }

    /// The node's float parameter arrays, by field name, in NIR's field order.
    pub fn arrays(&self) -> Vec<(&'static str, &Array)> {
        match self {
            Self::Input { .. } | Self::Output { .. } | Self::Flatten { .. } | Self::Graph(_) => {
                vec![]
            }
            Self::SumPool2d(_) | Self::AvgPool2d(_) => vec![],
            Self::Affine { weight, bias } => vec![("weight", weight), ("bias", bias)],
            Self::Linear { weight } => vec![("weight", weight)],
            Self::Scale { scale } => vec![("scale", scale)],
            Self::Threshold { threshold } => vec![("threshold", threshold)],
            Self::Conv1d(c) | Self::Conv2d(c) => vec![("weight", &c.weight), ("bias", &c.bias)],
            Self::Delay { delay } => vec![("delay", delay)],
            Self::I { r } => vec![("r", r)],
            Self::If {
                r,
                v_threshold,
                v_reset,
            } => vec![("r", r), ("v_threshold", v_threshold), ("v_reset", v_reset)],
            Self::Li { tau, r, v_leak } => vec![("tau", tau), ("r", r), ("v_leak", v_leak)],
            Self::Lif {
                tau,
                r,
                v_leak,
                v_threshold,
                v_reset,
            } => vec![
                ("tau", tau),
                ("r", r),
                ("v_leak", v_leak),
                ("v_threshold", v_threshold),
                ("v_reset", v_reset),
            ],
            Self::CubaLi {
                tau_syn,
                tau_mem,
                r,
                v_leak,
                w_in,
            } => vec![
                ("tau_syn", tau_syn),
                ("tau_mem", tau_mem),
                ("r", r),
                ("v_leak", v_leak),
                ("w_in", w_in),
            ],
            Self::CubaLif {
                tau_syn,
                tau_mem,
                r,
                v_leak,
                v_threshold,
                v_reset,
                w_in,
            } => vec![
                ("tau_syn", tau_syn),
                ("tau_mem", tau_mem),
                ("r", r),
                ("v_leak", v_leak),
                ("v_threshold", v_threshold),
                ("v_reset", v_reset),
                ("w_in", w_in),
            ],
        }
    }

    /// Whether every parameter array must share one shape (the neuron-like nodes), as NIR
    /// asserts ("All parameters must have the same shape").
    fn elementwise(&self) -> bool {
        matches!(
            self,
            Self::Scale { .. }
                | Self::Threshold { .. }
                | Self::Delay { .. }
                | Self::I { .. }
                | Self::If { .. }
                | Self::Li { .. }
                | Self::Lif { .. }
                | Self::CubaLi { .. }
                | Self::CubaLif { .. }
        )
    }

    /// Checks the node's own fields (each array's values against its shape, parameter shapes
    /// against each other, ranks, non-zero strides); `name` is the node's path, used in errors.
    pub fn check(&self, name: &str) -> Result<()> {
        let shape_err =
            |field: &str, expected: Vec<usize>, actual: &[usize]| NirError::ParamShape {
                node: name.to_string(),
                field: field.to_string(),
                expected,
                actual: actual.to_vec(),
            };
        // the fields are public: an array built by hand may hold another count than its shape
        for (field, a) in self.arrays() {
            let elements = a.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
            if elements != Some(a.data.len()) {
                return Err(NirError::InvalidValue {
                    node: name.to_string(),
                    field: field.to_string(),
                    reason: format!("{} values for shape {:?}", a.data.len(), a.shape),
                });
            }
        }
        if self.elementwise() {
            // the shape most parameters share is the node's; name the odd one out
            let arrays = self.arrays();
            let count = |s: &Vec<usize>| arrays.iter().filter(|(_, a)| &a.shape == s).count();
            let common = arrays
                .iter()
                .map(|(_, a)| &a.shape)
                .max_by_key(|s| count(s))
                .expect("neuron nodes have parameters");
            if let Some((field, a)) = arrays.iter().find(|(_, a)| &a.shape != common) {
                return Err(shape_err(field, common.clone(), &a.shape));
            }
            return Ok(());
        }
        let invalid = |field: &str, reason: String| NirError::InvalidValue {
            node: name.to_string(),
            field: field.to_string(),
            reason,
        };
        match self {
            Self::Affine { weight, bias } => {
                check_rank(name, "weight", weight, 2)?;
                if bias.shape != [weight.shape[0]] {
                    return Err(shape_err("bias", vec![weight.shape[0]], &bias.shape));
                }
            }
            Self::Linear { weight } => check_rank(name, "weight", weight, 2)?,
            Self::Conv1d(c) | Self::Conv2d(c) => {
                let dims = if matches!(self, Self::Conv1d(_)) {
                    1
                } else {
                    2
                };
                check_rank(name, "weight", &c.weight, dims + 2)?;
                if c.bias.shape != [c.weight.shape[0]] {
                    return Err(shape_err("bias", vec![c.weight.shape[0]], &c.bias.shape));
                }
                let mut fields = vec![("stride", &c.stride), ("dilation", &c.dilation)];
                if let Padding::Explicit(p) = &c.padding {
                    fields.push(("padding", p));
                }
                for (field, v) in fields {
                    if v.len() != dims {
                        return Err(shape_err(field, vec![dims], &[v.len()]));
                    }
                }
                if c.stride.contains(&0) || c.dilation.contains(&0) {
                    return Err(invalid(
                        "stride",
                        "strides and dilations must be positive".into(),
                    ));
                }
                if c.groups == 0 || c.weight.shape[0] % c.groups != 0 {
                    return Err(invalid(
                        "groups",
                        format!("{} does not divide C_out = {}", c.groups, c.weight.shape[0]),
                    ));
                }
                if let Some(s) = &c.input_shape
                    && s.len() != dims
                {
                    return Err(shape_err("input_shape", vec![dims], &[s.len()]));
                }
            }
            Self::SumPool2d(p) | Self::AvgPool2d(p) => {
                for (field, v) in [
                    ("kernel_size", &p.kernel_size),
                    ("stride", &p.stride),
                    ("padding", &p.padding),
                ] {
                    if v.len() != 2 {
                        return Err(shape_err(field, vec![2], &[v.len()]));
                    }
                }
                if p.kernel_size.contains(&0) || p.stride.contains(&0) {
                    return Err(invalid(
                        "kernel_size",
                        "kernel sizes and strides must be positive".into(),
                    ));
                }
            }
            Self::Graph(g) => g.check_at(name)?,
            _ => {}
        }
        Ok(())
    }

    /// The per-sample shape the node takes, where its own fields fix it.
    pub fn input_shape(&self) -> Option<Vec<usize>> {
        match self {
            Self::Input { shape } | Self::Output { shape } => Some(shape.clone()),
            Self::Affine { weight, .. } | Self::Linear { weight } => Some(vec![weight.shape[1]]),
            Self::Flatten { input_type, .. } => input_type.clone(),
            Self::Conv1d(c) | Self::Conv2d(c) => c.input_shape.as_ref().map(|s| {
                let mut shape = vec![c.weight.shape[1] * c.groups];
                shape.extend(s);
                shape
            }),
            Self::SumPool2d(_) | Self::AvgPool2d(_) => None,
            Self::Graph(g) => g
                .io_node(true)
                .map(|(_, n)| n.input_shape())
                .unwrap_or(None),
            _ => self.arrays().first().map(|(_, a)| a.shape.clone()),
        }
    }

    /// The per-sample shape the node gives for the per-sample `input` shape.
    pub fn output_shape_for(&self, name: &str, input: &[usize]) -> Result<Vec<usize>> {
        let bad = |reason: String| NirError::InvalidValue {
            node: name.to_string(),
            field: "input".into(),
            reason,
        };
        match self {
            Self::Affine { weight, .. } | Self::Linear { weight } => Ok(vec![weight.shape[0]]),
            Self::Flatten {
                start_dim, end_dim, ..
            } => flatten_shape(input, *start_dim, *end_dim).ok_or_else(|| {
                bad(format!(
                    "cannot flatten dims {start_dim}..={end_dim} of a shape {input:?}"
                ))
            }),
            Self::Conv1d(c) | Self::Conv2d(c) => {
                let dims = c.stride.len();
                if input.len() != dims + 1 {
                    return Err(bad(format!(
                        "expects [C, {dims} spatial dims], got {input:?}"
                    )));
                }
                let mut out = vec![c.weight.shape[0]];
                for d in 0..dims {
                    let k = c.weight.shape[2 + d];
                    let (begin, end) = conv_padding(c, d);
                    let span = c.dilation[d] * (k - 1) + 1;
                    let padded = input[1 + d] + begin + end;
                    if padded < span {
                        return Err(bad(format!("input {input:?} is smaller than the kernel")));
                    }
                    out.push((padded - span) / c.stride[d] + 1);
                }
                Ok(out)
            }
            Self::SumPool2d(p) | Self::AvgPool2d(p) => {
                if input.len() != 3 {
                    return Err(bad(format!("expects [C, H, W], got {input:?}")));
                }
                let mut out = vec![input[0]];
                for d in 0..2 {
                    let padded = input[1 + d] + 2 * p.padding[d];
                    if padded < p.kernel_size[d] {
                        return Err(bad(format!("input {input:?} is smaller than the window")));
                    }
                    out.push((padded - p.kernel_size[d]) / p.stride[d] + 1);
                }
                Ok(out)
            }
            Self::Graph(g) => Ok(g
                .io_node(false)
                .and_then(|(_, n)| n.input_shape())
                .unwrap_or_else(|| input.to_vec())),
            _ => Ok(self.input_shape().unwrap_or_else(|| input.to_vec())),
        }
    }

    /// The per-sample shape the node gives, where its own fields fix it.
    pub fn output_shape(&self) -> Option<Vec<usize>> {
        match self {
            Self::Affine { weight, .. } | Self::Linear { weight } => Some(vec![weight.shape[0]]),
            Self::Graph(g) => g.io_node(false).and_then(|(_, n)| n.input_shape()),
            _ => {
                let input = self.input_shape()?;
                self.output_shape_for("", &input).ok()
            }
        }
    }
}

/// `(begin, end)` zero padding of spatial dimension `d` of a convolution.
pub(crate) fn conv_padding(c: &Conv, d: usize) -> (usize, usize) {
    match &c.padding {
        Padding::Explicit(p) => (p[d], p[d]),
        Padding::Valid => (0, 0),
        Padding::Same => {
            // PyTorch: total = dilation·(k − 1), the extra element at the end
            let total = c.dilation[d] * (c.weight.shape[2 + d] - 1);
            (total / 2, total - total / 2)
        }
    }
}

/// Shape after flattening dims `start..=end` (negative: from the end) of `shape`.
pub(crate) fn flatten_shape(shape: &[usize], start: i64, end: i64) -> Option<Vec<usize>> {
    let rank = shape.len() as i64;
    let start = if start < 0 { start + rank } else { start };
    let end = if end < 0 { end + rank } else { end };
    if rank == 0 || start < 0 || end >= rank || start > end {
        return None;
    }
    let (start, end) = (start as usize, end as usize);
    let mut out = shape[..start].to_vec();
    out.push(shape[start..=end].iter().product());
    out.extend(&shape[end + 1..]);
    Some(out)
}

fn check_rank(node: &str, field: &str, a: &Array, rank: usize) -> Result<()> {
    if a.shape.len() != rank {
        return Err(NirError::WrongType {
            node: node.to_string(),
            field: field.to_string(),
            expected: format!("an array of rank {rank}"),
            found: format!("shape {:?}", a.shape),
        });
    }
    if a.shape.contains(&0) {
        return Err(NirError::InvalidValue {
            node: node.to_string(),
            field: field.to_string(),
            reason: format!("empty shape {:?}", a.shape),
        });
    }
    Ok(())
}

impl NirGraph {
    /// A graph of `nodes` and `edges`, without metadata.
    pub fn new(
        nodes: impl IntoIterator<Item = (String, NirNode)>,
        edges: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            nodes: nodes.into_iter().collect(),
            edges: edges.into_iter().collect(),
            metadata: BTreeMap::new(),
        }
    }

    /// The graph's single `Input` (`input = true`) or `Output` node, if it has exactly one.
    pub fn io_node(&self, input: bool) -> Option<(&str, &NirNode)> {
        let mut found = self.nodes.iter().filter(|(_, n)| {
            if input {
                matches!(n, NirNode::Input { .. })
            } else {
                matches!(n, NirNode::Output { .. })
            }
        });
        let first = found.next()?;
        found
            .next()
            .is_none()
            .then_some((first.0.as_str(), first.1))
    }

    /// Checks the whole graph (nested graphs included) as `nir.read` with `type_check=True`
    /// does: every node's parameter shapes, every edge's endpoints, and that each edge
    /// connects an output shape to an equal input shape where both are known.
    pub fn check(&self) -> Result<()> {
        self.check_at("")
    }

    fn check_at(&self, path: &str) -> Result<()> {
        let full = |name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}/{name}")
            }
        };
        for (name, node) in &self.nodes {
            node.check(&full(name))?;
        }
        for (from, to) in &self.edges {
            for end in [from, to] {
                if !self.nodes.contains_key(end) {
                    return Err(NirError::UnknownEdgeNode {
                        graph: if path.is_empty() {
                            "/".into()
                        } else {
                            path.to_string()
                        },
                        from: from.clone(),
                        to: to.clone(),
                        missing: end.clone(),
                        known: self.nodes.keys().cloned().collect::<Vec<_>>().join(", "),
                    });
                }
            }
        }
        for (from, to) in &self.edges {
            let out = self.nodes[from].output_shape();
            let inp = self.nodes[to].input_shape();
            if let (Some(out), Some(inp)) = (out, inp)
                && out != inp
            {
                return Err(NirError::TypeMismatch {
                    from: full(from),
                    from_shape: out,
                    to: full(to),
                    to_shape: inp,
                });
            }
        }
        Ok(())
    }
}

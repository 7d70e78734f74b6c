//! NIR → a runnable burn-snn network: [`import`] compiles a [`NirGraph`] for one explicit time
//! step `dt` into a [`NirNetwork`], a graph executor on burn tensor ops.
//!
//! One mechanism runs every graph: nested graphs are inlined (an edge into a nested graph
//! enters its `Input` node, an edge out of it leaves its `Output` node; the names become
//! `outer/inner`), nodes are ordered by a depth-first search from the root `Input`, and an edge
//! that closes a cycle (a back edge of that search) delivers its source's output of the
//! previous step (zero before the first step). Within a step, everything else propagates
//! through the whole graph (no delay per edge), and several edges into one node are summed:
//! the conventions of the NIR peers (norse, snnTorch, SpikingJelly, nirtorch).
//!
//! Every value is carried flattened per sample, `[batch, numel]` (row-major, so `Flatten` is a
//! no-op); convolutions and pools reshape to `[batch, C, (H,) W]` and back.

use std::collections::HashMap;

use burn::prelude::*;
use burn::tensor::module::{avg_pool2d, conv1d, conv2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions};
use snn_core::lift::{StepLayer, run};

use crate::error::{NirError, Result};
use crate::graph::{Array, Conv, NirGraph, NirNode, conv_padding};

mod neuron;
use neuron::NirNeuron;

/// Compiles `graph` into a network that steps by `dt_s` seconds on `device`.
///
/// NIR nodes are continuous-time ODEs; the network integrates them with forward Euler at
/// `dt_s` (see the crate docs for each node's update). `dt` must be given explicitly: NIR
/// files do not say which step they were trained with (`affine_lif.nir` has it in its
/// metadata, most exporters do not), and the exporters disagree about the meaning of `r`.
///
/// The graph must have exactly one `Input` and one `Output` node at the root.
pub fn import(graph: &NirGraph, dt_s: f64, device: &Device) -> Result<NirNetwork> {
    if !(dt_s.is_finite() && dt_s > 0.0) {
        return Err(NirError::BadArgument {
            what: "dt",
            reason: format!("must be a positive number of seconds, got {dt_s}"),
        });
    }
    graph.check()?;
    let mut flat = Flat::default();
    flat.inline(graph, "")?;
    let io = |input: bool| -> Result<usize> {
        let (name, _) = graph.io_node(input).ok_or_else(|| NirError::Unsupported {
            node: "/".into(),
            reason: format!(
                "the root graph must have exactly one {} node",
                if input { "Input" } else { "Output" }
            ),
        })?;
        Ok(flat.index[name])
    };
    let (input, output) = (io(true)?, io(false)?);
    let n = flat.nodes.len();

    // depth-first order from the input; an edge to a node still on the stack is a back edge
    let mut out_edges = vec![Vec::new(); n];
    for (e, &(a, b)) in flat.edges.iter().enumerate() {
        out_edges[a].push((b, e));
    }
    let mut colour = vec![0u8; n]; // 0 new, 1 on the stack, 2 done
    let mut back = vec![false; flat.edges.len()];
    let mut post = Vec::with_capacity(n);
    for root in std::iter::once(input).chain(0..n) {
        if colour[root] != 0 {
            continue;
        }
        // iterative DFS: (node, next out-edge to look at)
        let mut stack = vec![(root, 0usize)];
        colour[root] = 1;
        while let Some(&mut (u, ref mut next)) = stack.last_mut() {
            if let Some(&(v, e)) = out_edges[u].get(*next) {
                *next += 1;
                match colour[v] {
                    0 => {
                        colour[v] = 1;
                        stack.push((v, 0));
                    }
                    1 => back[e] = true,
                    _ => {}
                }
            } else {
                colour[u] = 2;
                post.push(u);
                stack.pop();
            }
        }
    }
    let order: Vec<usize> = post.into_iter().rev().collect();

    let mut incoming = vec![Vec::new(); n];
    for (e, &(a, b)) in flat.edges.iter().enumerate() {
        incoming[b].push((a, back[e]));
    }

    // shapes, in order: a node's input shape is what its forward edges bring
    let mut in_shapes: Vec<Option<Vec<usize>>> = vec![None; n];
    let mut out_shapes: Vec<Option<Vec<usize>>> = vec![None; n];
    for &u in &order {
        let (name, node) = (&flat.nodes[u].0, flat.nodes[u].1);
        let mut shape = if u == input { node.input_shape() } else { None };
        for &(src, is_back) in &incoming[u] {
            if is_back {
                continue;
            }
            let s = out_shapes[src].clone().expect("sources come first");
            match &shape {
                None => shape = Some(s),
                Some(have) if *have != s => {
                    return Err(NirError::TypeMismatch {
                        from: flat.nodes[src].0.clone(),
                        from_shape: s,
                        to: name.clone(),
                        to_shape: have.clone(),
                    });
                }
                _ => {}
            }
        }
        let own = node.input_shape();
        let shape = match (shape, own) {
            (Some(s), Some(own)) if s != own => {
                let from = incoming[u]
                    .iter()
                    .find(|(_, b)| !b)
                    .map(|&(src, _)| flat.nodes[src].0.clone())
                    .unwrap_or_default();
                return Err(NirError::TypeMismatch {
                    from,
                    from_shape: s,
                    to: name.clone(),
                    to_shape: own,
                });
            }
            (Some(s), _) | (None, Some(s)) => s,
            (None, None) => {
                return Err(NirError::Unsupported {
                    node: name.clone(),
                    reason: "its input shape cannot be inferred (no input edge)".into(),
                });
            }
        };
        out_shapes[u] = Some(node.output_shape_for(name, &shape)?);
        in_shapes[u] = Some(shape);
    }
    let in_shapes: Vec<Vec<usize>> = in_shapes.into_iter().map(Option::unwrap).collect();
    let out_shapes: Vec<Vec<usize>> = out_shapes.into_iter().map(Option::unwrap).collect();
    for (e, &(a, b)) in flat.edges.iter().enumerate() {
        if back[e] && out_shapes[a] != in_shapes[b] {
            return Err(NirError::TypeMismatch {
                from: flat.nodes[a].0.clone(),
                from_shape: out_shapes[a].clone(),
                to: flat.nodes[b].0.clone(),
                to_shape: in_shapes[b].clone(),
            });
        }
    }

    let ops = flat
        .nodes
        .iter()
        .enumerate()
        .map(|(u, (name, node))| Op::compile(name, node, &in_shapes[u], dt_s, device))
        .collect::<Result<Vec<_>>>()?;
    let mut recurrent = vec![false; n];
    for (e, &(a, _)) in flat.edges.iter().enumerate() {
        recurrent[a] |= back[e];
    }
    Ok(NirNetwork {
        names: flat.nodes.iter().map(|(name, _)| name.clone()).collect(),
        types: flat
            .nodes
            .iter()
            .map(|(_, node)| node.type_name())
            .collect(),
        ops,
        order,
        incoming,
        recurrent,
        in_shapes,
        out_shapes,
        input,
        output,
        dt_s,
        device: device.clone(),
    })
}

/// The graph with nested graphs inlined.
#[derive(Default)]
struct Flat<'g> {
    nodes: Vec<(String, &'g NirNode)>,
    index: HashMap<String, usize>,
    edges: Vec<(usize, usize)>,
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

impl<'g> Flat<'g> {
    fn inline(&mut self, g: &'g NirGraph, prefix: &str) -> Result<()> {
        for (name, node) in &g.nodes {
            let path = join(prefix, name);
            if let NirNode::Graph(inner) = node {
                self.inline(inner, &path)?;
            } else {
                self.index.insert(path.clone(), self.nodes.len());
                self.nodes.push((path, node));
            }
        }
        for (a, b) in &g.edges {
            let src = Self::endpoint(g, prefix, a, false)?;
            let dst = Self::endpoint(g, prefix, b, true)?;
            self.edges.push((self.index[&src], self.index[&dst]));
        }
        Ok(())
    }

    /// The inlined node an edge to (`entering`) or from `name` attaches to.
    fn endpoint(g: &NirGraph, prefix: &str, name: &str, entering: bool) -> Result<String> {
        let path = join(prefix, name);
        match &g.nodes[name] {
            NirNode::Graph(inner) => {
                let (io, _) = inner
                    .io_node(entering)
                    .ok_or_else(|| NirError::Unsupported {
                        node: path.clone(),
                        reason: "a nested graph needs exactly one Input and one Output node".into(),
                    })?;
                Self::endpoint(inner, &path, io, entering)
            }
            _ => Ok(path),
        }
    }
}

/// `values` as a `[1, n]` row on `device`.
fn row(values: &[f64], device: &Device) -> Tensor<2> {
    let v: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Tensor::<1>::from_floats(v.as_slice(), device).reshape([1, values.len()])
}

/// One node, compiled for a time step.
#[derive(Clone, Debug)]
// one per node, built once: the variants' sizes do not matter
#[allow(clippy::large_enum_variant)]
enum Op {
    /// Input, Output, Flatten.
    Identity,
    /// `x Wᵀ (+ b)`: `w_t` `[in, out]`, `bias` `[1, out]`.
    Dense {
        w_t: Tensor<2>,
        bias: Option<Tensor<2>>,
    },
    Scale(Tensor<2>),
    /// `H(x − threshold)`, strict.
    Threshold(Tensor<2>),
    Conv1d {
        weight: Tensor<3>,
        bias: Tensor<1>,
        options: ConvOptions<1>,
        input: [usize; 2],
    },
    Conv2d {
        weight: Tensor<4>,
        bias: Tensor<1>,
        options: ConvOptions<2>,
        input: [usize; 3],
    },
    /// Average pool, times `scale` (the window size for a sum pool).
    Pool {
        options: AvgPoolOptions<2>,
        scale: f32,
        input: [usize; 3],
    },
    /// `y[t] = Σ_k mask_k ⊙ x[t − k]`, one mask per distinct delay of `k` steps.
    Delay {
        taps: Vec<(usize, Tensor<2>)>,
        longest: usize,
    },
    Neuron(NirNeuron),
}

/// One node's state between steps.
#[derive(Clone, Debug)]
// one per node, built once: the variants' sizes do not matter
#[allow(clippy::large_enum_variant)]
enum NodeState {
    Stateless,
    Neuron(neuron::State),
    /// Past inputs, oldest first (at most `longest`).
    Delay(Vec<Tensor<2>>),
}

impl Op {
    fn compile(
        name: &str,
        node: &NirNode,
        input: &[usize],
        dt: f64,
        device: &Device,
    ) -> Result<Self> {
        if let Some(neuron) = NirNeuron::compile(name, node, dt, device)? {
            return Ok(Op::Neuron(neuron));
        }
        Ok(match node {
            NirNode::Input { .. } | NirNode::Output { .. } | NirNode::Flatten { .. } => {
                Op::Identity
            }
            NirNode::Affine { weight, bias } => Op::Dense {
                w_t: dense_t(weight, device),
                bias: Some(row(&bias.data, device)),
            },
            NirNode::Linear { weight } => Op::Dense {
                w_t: dense_t(weight, device),
                bias: None,
            },
            NirNode::Scale { scale } => Op::Scale(row(&scale.data, device)),
            NirNode::Threshold { threshold } => Op::Threshold(row(&threshold.data, device)),
            NirNode::Conv1d(c) => Op::Conv1d {
                weight: tensor(&c.weight, device).reshape(dims3(&c.weight.shape)),
                bias: tensor(&c.bias, device),
                options: conv_options::<1>(c),
                input: [input[0], input[1]],
            },
            NirNode::Conv2d(c) => Op::Conv2d {
                weight: tensor(&c.weight, device).reshape(dims4(&c.weight.shape)),
                bias: tensor(&c.bias, device),
                options: conv_options::<2>(c),
                input: [input[0], input[1], input[2]],
            },
            NirNode::SumPool2d(p) | NirNode::AvgPool2d(p) => {
                let kernel = [p.kernel_size[0], p.kernel_size[1]];
                let sum = matches!(node, NirNode::SumPool2d(_));
                Op::Pool {
                    options: AvgPoolOptions {
                        kernel_size: kernel,
                        stride: [p.stride[0], p.stride[1]],
                        padding: [(p.padding[0], p.padding[0]), (p.padding[1], p.padding[1])],
                        count_include_pad: true,
                        ceil_mode: false,
                    },
                    scale: if sum {
                        (kernel[0] * kernel[1]) as f32
                    } else {
                        1.0
                    },
                    input: [input[0], input[1], input[2]],
                }
            }
            NirNode::Delay { delay } => {
                let mut steps = Vec::with_capacity(delay.numel());
                for &d in &delay.data {
                    if !(d.is_finite() && d >= 0.0) {
                        return Err(NirError::InvalidValue {
                            node: name.to_string(),
                            field: "delay".into(),
                            reason: format!("must be a non-negative time, found {d}"),
                        });
                    }
                    steps.push((d / dt).round() as usize);
                }
                let mut distinct = steps.clone();
                distinct.sort_unstable();
                distinct.dedup();
                let taps = distinct
                    .iter()
                    .map(|&k| {
                        let mask: Vec<f64> = steps
                            .iter()
                            .map(|&s| if s == k { 1.0 } else { 0.0 })
                            .collect();
                        (k, row(&mask, device))
                    })
                    .collect();
                Op::Delay {
                    taps,
                    longest: distinct.last().copied().unwrap_or(0),
                }
            }
            NirNode::I { .. }
            | NirNode::If { .. }
            | NirNode::Li { .. }
            | NirNode::Lif { .. }
            | NirNode::CubaLi { .. }
            | NirNode::CubaLif { .. } => unreachable!("compiled by NirNeuron"),
            NirNode::Graph(_) => unreachable!("nested graphs are inlined"),
        })
    }

    fn initial_state(&self, batch: usize) -> NodeState {
        match self {
            Op::Neuron(n) => NodeState::Neuron(n.initial_state(batch)),
            Op::Delay { .. } => NodeState::Delay(Vec::new()),
            _ => NodeState::Stateless,
        }
    }

    /// The per-sequence constants of a neuron node.
    fn prepare(&self) -> Option<neuron::Prepared> {
        match self {
            Op::Neuron(n) => Some(n.prepare()),
            _ => None,
        }
    }

    /// One step: `x` is `[batch, numel(input)]`; `prepared` from [`Op::prepare`].
    fn step(
        &self,
        prepared: Option<&neuron::Prepared>,
        x: Tensor<2>,
        state: NodeState,
    ) -> (Tensor<2>, NodeState) {
        let batch = x.dims()[0];
        match (self, state) {
            (Op::Identity, s) => (x, s),
            (Op::Dense { w_t, bias }, s) => {
                let y = x.matmul(w_t.clone());
                (
                    match bias {
                        Some(b) => y + b.clone(),
                        None => y,
                    },
                    s,
                )
            }
            (Op::Scale(k), s) => (x * k.clone(), s),
            (Op::Threshold(th), s) => (snn_core::heaviside(x - th.clone(), false), s),
            (
                Op::Conv1d {
                    weight,
                    bias,
                    options,
                    input,
                },
                s,
            ) => {
                let y = conv1d(
                    x.reshape([batch, input[0], input[1]]),
                    weight.clone(),
                    Some(bias.clone()),
                    options.clone(),
                );
                (y.reshape([batch as i64, -1]), s)
            }
            (
                Op::Conv2d {
                    weight,
                    bias,
                    options,
                    input,
                },
                s,
            ) => {
                let y = conv2d(
                    x.reshape([batch, input[0], input[1], input[2]]),
                    weight.clone(),
                    Some(bias.clone()),
                    options.clone(),
                );
                (y.reshape([batch as i64, -1]), s)
            }
            (
                Op::Pool {
                    options,
                    scale,
                    input,
                },
                s,
            ) => {
                let y = avg_pool2d(
                    x.reshape([batch, input[0], input[1], input[2]]),
                    options.clone(),
                );
                let y = y.reshape([batch as i64, -1]);
                (
                    if *scale == 1.0 {
                        y
                    } else {
                        y.mul_scalar(*scale)
                    },
                    s,
                )
            }
            (Op::Delay { taps, longest }, NodeState::Delay(mut history)) => {
                let mut y = x.zeros_like();
                for (k, mask) in taps {
                    let past = if *k == 0 {
                        Some(x.clone())
                    } else {
                        history.len().checked_sub(*k).map(|i| history[i].clone())
                    };
                    if let Some(past) = past {
                        y = y + past * mask.clone();
                    }
                }
                if *longest > 0 {
                    history.push(x);
                    if history.len() > *longest {
                        history.remove(0);
                    }
                }
                (y, NodeState::Delay(history))
            }
            (Op::Neuron(n), NodeState::Neuron(state)) => {
                let prepared = prepared.expect("neuron nodes are prepared");
                let (y, state) = n.step(prepared, x, state);
                (y, NodeState::Neuron(state))
            }
            (op, s) => unreachable!("state {s:?} does not belong to {op:?}"),
        }
    }
}

fn tensor(a: &Array, device: &Device) -> Tensor<1> {
    Tensor::<1>::from_floats(a.to_f32().as_slice(), device)
}

/// `W` `[out, in]` as `Wᵀ` `[in, out]`.
fn dense_t(w: &Array, device: &Device) -> Tensor<2> {
    tensor(w, device)
        .reshape([w.shape[0], w.shape[1]])
        .transpose()
}

fn dims3(s: &[usize]) -> [usize; 3] {
    [s[0], s[1], s[2]]
}

fn dims4(s: &[usize]) -> [usize; 4] {
    [s[0], s[1], s[2], s[3]]
}

fn conv_options<const N: usize>(c: &Conv) -> ConvOptions<N> {
    ConvOptions {
        stride: std::array::from_fn(|d| c.stride[d]),
        padding: std::array::from_fn(|d| conv_padding(c, d)),
        dilation: std::array::from_fn(|d| c.dilation[d]),
        groups: c.groups,
    }
}

/// A NIR graph compiled for one time step: a burn-snn [`StepLayer`] over `[batch, time,
/// numel(input shape)]` sequences (flattened per sample, row-major), giving the `Output`
/// node's value `[batch, time, numel(output shape)]`. Inference only: the weights are constant
/// tensors, not trainable parameters (the neuron nodes' spikes carry snn-core's default
/// surrogate, SuperSpike; a `Threshold` node's spikes none).
#[derive(Clone, Debug)]
pub struct NirNetwork {
    names: Vec<String>,
    types: Vec<&'static str>,
    ops: Vec<Op>,
    order: Vec<usize>,
    /// Per node: `(source, is back edge)`.
    incoming: Vec<Vec<(usize, bool)>>,
    /// Per node: whether a back edge leaves it (its output is kept for the next step).
    recurrent: Vec<bool>,
    in_shapes: Vec<Vec<usize>>,
    out_shapes: Vec<Vec<usize>>,
    input: usize,
    output: usize,
    dt_s: f64,
    device: Device,
}

/// State of a [`NirNetwork`] between steps: every node's state and the previous outputs of the
/// nodes that recurrent edges leave.
#[derive(Clone, Debug)]
pub struct NirNetworkState {
    nodes: Vec<NodeState>,
    previous: Vec<Option<Tensor<2>>>,
}

impl NirNetwork {
    /// The time step, s.
    pub fn dt_s(&self) -> f64 {
        self.dt_s
    }

    /// Per-sample input shape (the root `Input` node's).
    pub fn input_shape(&self) -> &[usize] {
        &self.in_shapes[self.input]
    }

    /// Per-sample output shape (the root `Output` node's).
    pub fn output_shape(&self) -> &[usize] {
        &self.out_shapes[self.output]
    }

    /// The inlined node names (`rsyn/lif` for a node of a nested graph) in evaluation order,
    /// with their NIR type and per-sample output shape.
    pub fn nodes(&self) -> Vec<(&str, &'static str, &[usize])> {
        self.order
            .iter()
            .map(|&u| {
                (
                    self.names[u].as_str(),
                    self.types[u],
                    self.out_shapes[u].as_slice(),
                )
            })
            .collect()
    }

    /// The edges that close cycles and so deliver the previous step's value, as
    /// `(from, to)` node names.
    pub fn recurrent_edges(&self) -> Vec<(&str, &str)> {
        let mut edges = Vec::new();
        for (to, inc) in self.incoming.iter().enumerate() {
            for &(from, back) in inc {
                if back {
                    edges.push((self.names[from].as_str(), self.names[to].as_str()));
                }
            }
        }
        edges
    }

    fn check_input(&self, input: &Tensor<3>) -> Result<()> {
        let want: usize = self.input_shape().iter().product();
        let dims = input.dims();
        if dims[2] != want || dims[0] == 0 {
            return Err(NirError::BadArgument {
                what: "input",
                reason: format!(
                    "expected [batch, time, {want}] (input shape {:?} flattened), got {dims:?}",
                    self.input_shape()
                ),
            });
        }
        Ok(())
    }

    /// Runs the network over `input` (`[batch, time, numel(input shape)]`) from rest and
    /// returns the `Output` node's values `[batch, time, numel(output shape)]`.
    pub fn forward(&self, input: Tensor<3>) -> Result<Tensor<3>> {
        self.check_input(&input)?;
        Ok(run(self, input, None).0)
    }

    /// Runs the network and returns the outputs of the named nodes (inlined names, see
    /// [`NirNetwork::nodes`]), each `[batch, time, numel(shape)]`.
    pub fn forward_nodes(&self, input: Tensor<3>, nodes: &[&str]) -> Result<Vec<Tensor<3>>> {
        self.check_input(&input)?;
        let picked = nodes
            .iter()
            .map(|name| {
                self.names
                    .iter()
                    .position(|n| n == name)
                    .ok_or_else(|| NirError::BadArgument {
                        what: "node",
                        reason: format!("no node `{name}` (nodes: {})", self.names.join(", ")),
                    })
            })
            .collect::<Result<Vec<_>>>()?;
        let recording = Recording {
            net: self,
            picked: picked.clone(),
        };
        let all = run(&recording, input, None).0;
        let mut start = 0;
        let [batch, time, _] = all.dims();
        Ok(picked
            .iter()
            .map(|&u| {
                let n: usize = self.out_shapes[u].iter().product();
                let part = all.clone().slice([0..batch, 0..time, start..start + n]);
                start += n;
                part
            })
            .collect())
    }

    /// One step of every node: the outputs of all nodes and the new state.
    fn step_all(
        &self,
        prepared: &NirPrepared,
        x: Tensor<2>,
        s: NirNetworkState,
    ) -> (Vec<Option<Tensor<2>>>, NirNetworkState) {
        let batch = x.dims()[0];
        let mut states = s.nodes;
        let mut out: Vec<Option<Tensor<2>>> = vec![None; self.ops.len()];
        for &u in &self.order {
            let mut sum: Option<Tensor<2>> = if u == self.input {
                Some(x.clone())
            } else {
                None
            };
            for &(src, back) in &self.incoming[u] {
                let value = if back {
                    s.previous[src].clone().expect("kept for back edges")
                } else {
                    out[src].clone().expect("sources come first")
                };
                sum = Some(match sum {
                    Some(acc) => acc + value,
                    None => value,
                });
            }
            let input = sum.unwrap_or_else(|| {
                let n = self.in_shapes[u].iter().product();
                Tensor::zeros([batch, n], &self.device)
            });
            let state = std::mem::replace(&mut states[u], NodeState::Stateless);
            let (y, state) = self.ops[u].step(prepared.0[u].as_ref(), input, state);
            states[u] = state;
            out[u] = Some(y);
        }
        let previous = out
            .iter()
            .zip(&self.recurrent)
            .map(|(y, &keep)| if keep { y.clone() } else { None })
            .collect();
        (
            out,
            NirNetworkState {
                nodes: states,
                previous,
            },
        )
    }
}

/// The per-sequence constants of a [`NirNetwork`]'s neuron nodes (their decay factors,
/// thresholds...), resolved once by [`StepLayer::prepare`].
#[derive(Clone, Debug)]
pub struct NirPrepared(Vec<Option<neuron::Prepared>>);

impl StepLayer for NirNetwork {
    type State = NirNetworkState;
    type Prepared = NirPrepared;
    fn prepare(&self) -> NirPrepared {
        NirPrepared(self.ops.iter().map(Op::prepare).collect())
    }
    fn initial_state(&self, batch: usize) -> NirNetworkState {
        NirNetworkState {
            nodes: self.ops.iter().map(|op| op.initial_state(batch)).collect(),
            previous: self
                .recurrent
                .iter()
                .zip(&self.out_shapes)
                .map(|(&keep, shape)| {
                    keep.then(|| {
                        Tensor::zeros([batch, shape.iter().product::<usize>()], &self.device)
                    })
                })
                .collect(),
        }
    }
    fn advance(
        &self,
        prepared: &NirPrepared,
        x: Tensor<2>,
        s: NirNetworkState,
    ) -> (Tensor<2>, NirNetworkState) {
        let (mut out, s) = self.step_all(prepared, x, s);
        (out[self.output].take().expect("every node runs"), s)
    }
}

/// A [`NirNetwork`] whose step output is the named nodes' outputs side by side.
struct Recording<'n> {
    net: &'n NirNetwork,
    picked: Vec<usize>,
}

impl StepLayer for Recording<'_> {
    type State = NirNetworkState;
    type Prepared = NirPrepared;
    fn prepare(&self) -> NirPrepared {
        self.net.prepare()
    }
    fn initial_state(&self, batch: usize) -> NirNetworkState {
        self.net.initial_state(batch)
    }
    fn advance(
        &self,
        prepared: &NirPrepared,
        x: Tensor<2>,
        s: NirNetworkState,
    ) -> (Tensor<2>, NirNetworkState) {
        let (out, s) = self.net.step_all(prepared, x, s);
        let parts = self
            .picked
            .iter()
            .map(|&u| out[u].clone().expect("every node runs"))
            .collect();
        (Tensor::cat(parts, 1), s)
    }
}

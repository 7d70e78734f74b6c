//! burn-snn layers → NIR nodes ([`ToNir`]) and chains of them → a NIR graph ([`sequential`]).
//!
//! Each layer is written so that NIR's forward-Euler update at the exported step `dt`
//! reproduces the layer's own discrete update (see the crate docs for the mapping): importing
//! the file with [`crate::import()`] at the same `dt` gives the same outputs.

use std::collections::BTreeMap;

use burn::nn::Linear;
use burn::prelude::*;
use snn_core::neuron::LifRecurrent;
use snn_core::{Discretization, Iaf, Li, Lif, Reset};

use crate::error::{NirError, Result};
use crate::graph::{Array, MetaValue, NirGraph, NirNode};

/// A burn-snn layer that has a NIR equivalent.
pub trait ToNir {
    /// The layer as one NIR node for steps of `dt_ms` (normally the layer's own `dt_ms`).
    fn to_nir(&self, dt_ms: f64) -> Result<NirNode>;
}

fn values<const D: usize>(t: Tensor<D>) -> Vec<f64> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 data")
        .into_iter()
        .map(f64::from)
        .collect()
}

fn array(values: Vec<f64>, shape: Vec<usize>) -> Array {
    // burn-snn computes in f32: store f32, as NIR's PyTorch exporters do
    let data: Vec<f32> = values.iter().map(|&x| x as f32).collect();
    Array::f32(shape, &data)
}

fn unsupported(layer: &str, reason: impl Into<String>) -> NirError {
    NirError::Unsupported {
        node: layer.to_string(),
        reason: reason.into(),
    }
}

fn check_dt(dt_ms: f64) -> Result<()> {
    if dt_ms.is_finite() && dt_ms > 0.0 {
        Ok(())
    } else {
        Err(NirError::BadArgument {
            what: "dt_ms",
            reason: format!("must be a positive number of milliseconds, got {dt_ms}"),
        })
    }
}

/// NIR's `(τ_mem in s, r)` per neuron reproducing our membrane update at `dt_ms`:
/// NIR's Euler step is `v + (dt/τ)·((v_leak − v) + r·i)`.
fn membrane(tau_ms: &[f64], dt_ms: f64, d: Discretization) -> (Vec<f64>, Vec<f64>) {
    tau_ms
        .iter()
        .map(|&tau| {
            // the step fraction a = dt/τ_nir and the input gain g = a·r of our update
            let (a, gain) = match d {
                // Membrane::leaky holds a learned τ at dt at least
                Discretization::ForwardEuler => {
                    let a = dt_ms / tau.max(dt_ms);
                    (a, a)
                }
                Discretization::ForwardEulerUnscaledInput => (dt_ms / tau.max(dt_ms), 1.0),
                Discretization::ExactDecay => (1.0 - (-dt_ms / tau.max(1e-3)).exp(), 1.0),
                Discretization::ExactDecayScaledInput => {
                    let a = 1.0 - (-dt_ms / tau.max(1e-3)).exp();
                    (a, a)
                }
            };
            (dt_ms / a * 1e-3, gain / a)
        })
        .unzip()
}

/// NIR's `(τ_syn in s, w_in)` per neuron reproducing our current `i ← decay(i) + x`:
/// NIR's Euler step is `i + (dt/τ_syn)·(w_in·x − i)`.
fn synapse(tau_ms: &[f64], dt_ms: f64, d: Discretization) -> (Vec<f64>, Vec<f64>) {
    tau_ms
        .iter()
        .map(|&tau| {
            let a = match d {
                Discretization::ForwardEuler | Discretization::ForwardEulerUnscaledInput => {
                    dt_ms / tau.max(dt_ms)
                }
                _ => 1.0 - (-dt_ms / tau.max(1e-3)).exp(),
            };
            (dt_ms / a * 1e-3, 1.0 / a)
        })
        .unzip()
}

fn firing(layer: &str, reset: Reset, reset_delay: bool, fire_at_threshold: bool) -> Result<()> {
    if reset != Reset::ToValue {
        return Err(unsupported(
            layer,
            format!("NIR neurons reset to v_reset; the {reset:?} reset has no NIR equivalent"),
        ));
    }
    if reset_delay {
        return Err(unsupported(layer, "NIR has no delayed reset (reset_delay)"));
    }
    if fire_at_threshold {
        return Err(unsupported(
            layer,
            "NIR spikes at v > v_threshold, not >= (fire_at_threshold)",
        ));
    }
    Ok(())
}

/// `Affine` (with a bias) or `Linear`; burn's `[in, out]` weight becomes NIR's `[out, in]`.
impl ToNir for Linear {
    fn to_nir(&self, _dt_ms: f64) -> Result<NirNode> {
        let [d_in, d_out] = self.weight.dims();
        let weight = array(values(self.weight.val().transpose()), vec![d_out, d_in]);
        Ok(match &self.bias {
            Some(b) => NirNode::Affine {
                weight,
                bias: array(values(b.val()), vec![d_out]),
            },
            None => NirNode::Linear { weight },
        })
    }
}

/// `LIF` without a synaptic current, `CubaLIF` with one. Needs the reset to `v_reset`
/// without delay and the strict threshold.
impl ToNir for Lif {
    fn to_nir(&self, dt_ms: f64) -> Result<NirNode> {
        check_dt(dt_ms)?;
        let c = self.config();
        firing("Lif", c.reset, c.reset_delay, c.fire_at_threshold)?;
        let n = c.size;
        let (tau_mem, r) = membrane(&values(self.tau_mem_ms.val()), dt_ms, c.discretization);
        let full = |v: f64| Array::full(vec![n], v);
        let v_threshold = array(values(self.threshold.val()), vec![n]);
        Ok(match &self.tau_syn_ms {
            None => NirNode::Lif {
                tau: array(tau_mem, vec![n]),
                r: array(r, vec![n]),
                v_leak: full(c.v_leak),
                v_threshold,
                v_reset: full(c.v_reset),
            },
            Some(tau_syn) => {
                let (tau_syn, w_in) = synapse(&values(tau_syn.val()), dt_ms, c.discretization);
                NirNode::CubaLif {
                    tau_syn: array(tau_syn, vec![n]),
                    tau_mem: array(tau_mem, vec![n]),
                    r: array(r, vec![n]),
                    v_leak: full(c.v_leak),
                    v_threshold,
                    v_reset: full(c.v_reset),
                    w_in: array(w_in, vec![n]),
                }
            }
        })
    }
}

/// `LI` without a synaptic current, `CubaLI` with one.
impl ToNir for Li {
    fn to_nir(&self, dt_ms: f64) -> Result<NirNode> {
        check_dt(dt_ms)?;
        let c = self.config();
        let n = c.size;
        let (tau_mem, r) = membrane(&values(self.tau_mem_ms.val()), dt_ms, c.discretization);
        let v_leak = Array::full(vec![n], c.v_leak);
        Ok(match &self.tau_syn_ms {
            None => NirNode::Li {
                tau: array(tau_mem, vec![n]),
                r: array(r, vec![n]),
                v_leak,
            },
            Some(tau_syn) => {
                let (tau_syn, w_in) = synapse(&values(tau_syn.val()), dt_ms, c.discretization);
                NirNode::CubaLi {
                    tau_syn: array(tau_syn, vec![n]),
                    tau_mem: array(tau_mem, vec![n]),
                    r: array(r, vec![n]),
                    v_leak,
                    w_in: array(w_in, vec![n]),
                }
            }
        })
    }
}

/// `IF` with `r = 1/dt` (our `v ← v + x` is NIR's `v + dt·r·I`).
impl ToNir for Iaf {
    fn to_nir(&self, dt_ms: f64) -> Result<NirNode> {
        check_dt(dt_ms)?;
        let c = self.config();
        firing("Iaf", c.reset, false, c.fire_at_threshold)?;
        let n = c.size;
        Ok(NirNode::If {
            r: Array::full(vec![n], 1e3 / dt_ms),
            v_threshold: array(values(self.threshold.val()), vec![n]),
            v_reset: Array::full(vec![n], c.v_reset),
        })
    }
}

/// A nested `NIRGraph`: `input → w_in (Linear) → lif ⇄ w_rec (Linear) → output`, where the
/// edge `w_rec → lif` closes the cycle (it carries the previous step's spikes, as our
/// recurrent cell does). `w_rec` is the recurrent weight as used (diagonal zeroed without
/// autapses).
impl ToNir for LifRecurrent {
    fn to_nir(&self, dt_ms: f64) -> Result<NirNode> {
        let c = self.config();
        let (h, i) = (c.hidden_size, c.input_size);
        let nodes = [
            ("input", NirNode::Input { shape: vec![i] }),
            (
                "w_in",
                NirNode::Linear {
                    weight: array(values(self.input_weights.val()), vec![h, i]),
                },
            ),
            ("lif", self.neuron.to_nir(dt_ms)?),
            (
                "w_rec",
                NirNode::Linear {
                    weight: array(values(self.effective_recurrent_weights()), vec![h, h]),
                },
            ),
            ("output", NirNode::Output { shape: vec![h] }),
        ];
        let edges = [
            ("input", "w_in"),
            ("w_in", "lif"),
            ("lif", "w_rec"),
            ("w_rec", "lif"),
            ("lif", "output"),
        ];
        Ok(NirNode::Graph(NirGraph::new(
            nodes.into_iter().map(|(k, v)| (k.to_string(), v)),
            edges
                .into_iter()
                .map(|(a, b)| (a.to_string(), b.to_string())),
        )))
    }
}

/// A chain `input → layers... → output` as a NIR graph, with `metadata` `dt` (the step, in
/// seconds) and `source`. Layer names must be unique and not `input` or `output`; the output
/// shape is the last layer's.
pub fn sequential(
    input_shape: Vec<usize>,
    layers: Vec<(String, NirNode)>,
    dt_ms: f64,
) -> Result<NirGraph> {
    check_dt(dt_ms)?;
    let mut nodes = BTreeMap::new();
    let mut edges = Vec::new();
    let mut previous = "input".to_string();
    let mut shape = input_shape.clone();
    nodes.insert(previous.clone(), NirNode::Input { shape: input_shape });
    for (name, node) in layers {
        if nodes.contains_key(&name) || name == "output" {
            return Err(NirError::BadArgument {
                what: "layers",
                reason: format!("the name `{name}` is used twice (or is `input`/`output`)"),
            });
        }
        shape = node.output_shape_for(&name, &shape)?;
        edges.push((previous, name.clone()));
        previous = name.clone();
        nodes.insert(name, node);
    }
    nodes.insert("output".into(), NirNode::Output { shape });
    edges.push((previous, "output".into()));
    let mut graph = NirGraph {
        nodes,
        edges,
        metadata: BTreeMap::new(),
    };
    graph.metadata.insert(
        "dt".into(),
        MetaValue::Float(Array::f64(vec![], vec![dt_ms * 1e-3])),
    );
    graph
        .metadata
        .insert("source".into(), MetaValue::Str("burn-snn".into()));
    graph.check()?;
    Ok(graph)
}

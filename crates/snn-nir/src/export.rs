//! burn-snn layers → NIR nodes ([`ToNir`]) and chains of them → a NIR graph ([`sequential`]).
//!
//! Each layer is written so that NIR's forward-Euler update at the exported step `dt`
//! reproduces the layer's own discrete update (see the crate docs for the mapping): importing
//! the file with [`crate::import()`] at the same `dt` gives the same outputs.

use std::collections::BTreeMap;

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use snn_core::dynamics::{FiringSpec, LeakyCoefficients};
use snn_core::neuron::{LifRecurrent, PerNeuronPotentials};
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

/// NIR's per-neuron parameters of a leaky layer, reproducing its update at `dt_ms`.
struct NirLeaky {
    /// `τ_mem` in s.
    tau_mem: Vec<f64>,
    r: Vec<f64>,
    /// `(τ_syn in s, w_in)` with a synaptic current.
    synapse: Option<(Vec<f64>, Vec<f64>)>,
}

/// The NIR parameters from the coefficients the layer itself steps with
/// ([`LeakyCoefficients`], the one derivation of `snn-core`), written as forward-Euler
/// fractions: NIR's membrane step is `v + (dt/τ)·((v_leak − v) + r·i)`, so `τ = dt/a` and
/// `r = g/a` for our fraction `a` and input gain `g`; its current is `i + (dt/τ_syn)·(w_in·x − i)`,
/// so `τ_syn = dt/a_syn` and `w_in = 1/a_syn` reproduce our `i ← (1 − a_syn)·i + x`.
///
/// With a synaptic current only the product `r·w_in` matters (the current's scale is internal),
/// so the gain is folded into `w_in` and `r = τ_mem/dt = 1/a`: the one `r` snnTorch 1.0's
/// importer accepts (it asserts `r = τ_mem/dt` at its `dt = 1e-4` s), and one Norse honours.
fn leaky(
    tau_mem_ms: &Param<Tensor<1>>,
    tau_syn_ms: Option<&Param<Tensor<1>>>,
    dt_ms: f64,
    d: Discretization,
) -> NirLeaky {
    // v_leak only enters the exact form's resting drive, which NIR carries as `v_leak` itself
    let c = LeakyCoefficients::resolve(tau_mem_ms.val(), tau_syn_ms.map(Param::val), dt_ms, 0.0, d);
    let (a, gain) = c.euler_fractions();
    let (a, gain) = (values(a), values(gain));
    let tau_mem = a.iter().map(|a| dt_ms / a * 1e-3).collect();
    let Some(a_syn) = c.synapse_euler_fraction().map(values) else {
        let r = a.iter().zip(&gain).map(|(a, g)| g / a).collect();
        return NirLeaky {
            tau_mem,
            r,
            synapse: None,
        };
    };
    let tau_syn = a_syn.iter().map(|a_syn| dt_ms / a_syn * 1e-3).collect();
    let w_in = a_syn
        .iter()
        .zip(&gain)
        .map(|(a_syn, g)| g / a_syn)
        .collect();
    NirLeaky {
        tau_mem,
        r: a.iter().map(|a| 1.0 / a).collect(),
        synapse: Some((tau_syn, w_in)),
    }
}

/// What a NIR neuron can say of a spiking layer's firing: the reset to `v_reset` at once, the
/// strict threshold, the spike of the membrane just integrated, no refractoriness.
fn firing(layer: &str, spec: &FiringSpec) -> Result<()> {
    let FiringSpec {
        reset,
        reset_delay,
        fire_at_threshold,
        ..
    } = *spec;
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
    if spec.spike_from_previous {
        return Err(unsupported(
            layer,
            "NIR spikes on the membrane of the step, not the previous one (spike_from_previous)",
        ));
    }
    if spec.refractory.is_some() {
        return Err(unsupported(layer, "NIR's LIF has no refractory period"));
    }
    Ok(())
}

/// A potential of `n` neurons: the layer's per-neuron values where it has them
/// ([`snn_core::neuron::PerNeuronPotentials`]), else the config's `shared` value for all.
fn potential(per_neuron: Option<Tensor<1>>, shared: f64, n: usize) -> Array {
    match per_neuron {
        Some(per_neuron) => array(values(per_neuron), vec![n]),
        None => Array::full(vec![n], shared),
    }
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
        firing("Lif", &c.firing_spec())?;
        let n = c.size;
        let nir = leaky(
            &self.tau_mem_ms,
            self.tau_syn_ms.as_ref(),
            dt_ms,
            c.discretization,
        );
        let v_leak = potential(self.v_leak_per_neuron(), c.v_leak, n);
        let v_reset = potential(self.v_reset_per_neuron(), c.v_reset, n);
        let v_threshold = array(values(self.threshold.val()), vec![n]);
        Ok(match nir.synapse {
            None => NirNode::Lif {
                tau: array(nir.tau_mem, vec![n]),
                r: array(nir.r, vec![n]),
                v_leak,
                v_threshold,
                v_reset,
            },
            Some((tau_syn, w_in)) => NirNode::CubaLif {
                tau_syn: array(tau_syn, vec![n]),
                tau_mem: array(nir.tau_mem, vec![n]),
                r: array(nir.r, vec![n]),
                v_leak,
                v_threshold,
                v_reset,
                w_in: array(w_in, vec![n]),
            },
        })
    }
}

/// `LI` without a synaptic current, `CubaLI` with one.
impl ToNir for Li {
    fn to_nir(&self, dt_ms: f64) -> Result<NirNode> {
        check_dt(dt_ms)?;
        let c = self.config();
        let n = c.size;
        let nir = leaky(
            &self.tau_mem_ms,
            self.tau_syn_ms.as_ref(),
            dt_ms,
            c.discretization,
        );
        let v_leak = potential(self.v_leak_per_neuron(), c.v_leak, n);
        Ok(match nir.synapse {
            None => NirNode::Li {
                tau: array(nir.tau_mem, vec![n]),
                r: array(nir.r, vec![n]),
                v_leak,
            },
            Some((tau_syn, w_in)) => NirNode::CubaLi {
                tau_syn: array(tau_syn, vec![n]),
                tau_mem: array(nir.tau_mem, vec![n]),
                r: array(nir.r, vec![n]),
                v_leak,
                w_in: array(w_in, vec![n]),
            },
        })
    }
}

/// `IF` with `r = 1/dt` (our `v ← v + x` is NIR's `v + dt·r·I`).
impl ToNir for Iaf {
    fn to_nir(&self, dt_ms: f64) -> Result<NirNode> {
        check_dt(dt_ms)?;
        let c = self.config();
        firing("Iaf", &c.firing_spec())?;
        let n = c.size;
        Ok(NirNode::If {
            r: Array::full(vec![n], 1e3 / dt_ms),
            v_threshold: array(values(self.threshold.val()), vec![n]),
            v_reset: potential(self.v_reset_per_neuron(), c.v_reset, n),
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

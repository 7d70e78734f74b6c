//! spikelearn's `SpikingNet`: named inputs, layers and synapses, stepped synchronously.

use std::any::Any;

use super::{LayerInput, NetLayer, NetSynapse};
use snn_core::SnnError;

/// Where a synapse source or a network output comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Input(usize),
    Layer(usize),
}

#[derive(Debug)]
struct Connection {
    synapse: Box<dyn NetSynapse>,
    sources: Vec<Node>,
}

#[derive(Debug)]
struct LayerEntry {
    name: String,
    layer: Box<dyn NetLayer>,
    synapses: Vec<Connection>,
}

/// A spiking network as spikelearn's `SpikingNet`: external inputs, layers, and synapses from one
/// or more sources (inputs or layers) into a layer, all addressed by name.
///
/// Construction checks everything a step would need (names exist and are unique across inputs
/// and layers, each synapse gets as many sources as its kind takes, each source's size and the
/// layer's size match the synapse), so [`step`](Self::step) can only fail on its own inputs.
///
/// # One step (spikelearn's `StreamNet.__call__` then `SpikingNet.update`)
///
/// 1. Every synapse reads its sources: external inputs of *this* step, and the spikes layers
///    produced in the *previous* step (spikelearn gathers all element inputs before calling any
///    element, so every layer-to-layer connection, including a layer onto itself, has a one-step
///    delay and the order layers were added in does not matter).
/// 2. Every layer advances with the outputs of its synapses ([`NetLayer::step`]:
///    [`SpikingLayer`](crate::SpikingLayer) sums them, as `LIFLayer(*x)` does;
///    [`BioLifLayer`](crate::BioLifLayer) sums excitatory and inhibitory ones apart).
/// 3. Every synapse's learning update runs with its postsynaptic layer's new output
///    ([`NetSynapse::update`]); traces move even when learning is off, weights only when it is on.
///
/// Layers and synapses are any [`NetLayer`] and [`NetSynapse`]: the spikelearn kinds of this
/// crate, or a user's own.
///
/// Deliberate differences: inputs are passed by name instead of by position, and inputs and
/// layers share one namespace (spikelearn checks them separately).
#[derive(Debug, Default)]
pub struct SpikingNet {
    inputs: Vec<(String, usize)>,
    layers: Vec<LayerEntry>,
    outputs: Vec<Node>,
}

impl SpikingNet {
    /// An empty network.
    pub fn new() -> Self {
        Self::default()
    }

    fn known(&self) -> String {
        self.inputs
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.layers.iter().map(|l| l.name.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn find(&self, name: &str) -> Option<Node> {
        if let Some(i) = self.inputs.iter().position(|(n, _)| n == name) {
            return Some(Node::Input(i));
        }
        self.layers
            .iter()
            .position(|l| l.name == name)
            .map(Node::Layer)
    }

    fn lookup(&self, name: &str) -> snn_core::Result<Node> {
        self.find(name).ok_or_else(|| SnnError::UnknownName {
            what: "network input or layer",
            name: name.to_string(),
            known: self.known(),
        })
    }

    fn size_of(&self, node: Node) -> usize {
        match node {
            Node::Input(i) => self.inputs[i].1,
            Node::Layer(l) => self.layers[l].layer.size(),
        }
    }

    fn check_new_name(&self, name: &str) -> snn_core::Result<()> {
        if self.find(name).is_some() {
            return Err(SnnError::Rejected {
                field: "name",
                reason: format!("`{name}` is already an input or layer of this network"),
            });
        }
        Ok(())
    }

    /// Declares an external input of `size` values (spikelearn's `add_input`). Errors: a name
    /// already used ([`SnnError::Rejected`]), `size == 0` ([`SnnError::ZeroSize`]).
    pub fn add_input(&mut self, name: &str, size: usize) -> snn_core::Result<()> {
        self.check_new_name(name)?;
        snn_core::error::nonzero("size", size)?;
        self.inputs.push((name.to_string(), size));
        Ok(())
    }

    /// Adds a layer (spikelearn's `add_layer(snl, name)`, name first here). Errors: a name
    /// already used ([`SnnError::Rejected`]), a layer of size 0 ([`SnnError::ZeroSize`]).
    pub fn add_layer(&mut self, name: &str, layer: impl NetLayer) -> snn_core::Result<()> {
        self.check_new_name(name)?;
        snn_core::error::nonzero("size", layer.size())?;
        if layer.output().len() != layer.size() {
            return Err(SnnError::ShapeMismatch {
                context: "SpikingNet::add_layer output",
                expected: format!("{} values (the layer's size)", layer.size()),
                actual: vec![layer.output().len()],
            });
        }
        self.layers.push(LayerEntry {
            name: name.to_string(),
            layer: Box::new(layer),
            synapses: Vec::new(),
        });
        Ok(())
    }

    /// Connects `pre` (one name; for ternary kinds the presynaptic source then the modulator)
    /// to the layer `post` through `synapse` (spikelearn's `add_synapse(pos_name, syn,
    /// *pre_names)`). Errors: an unknown name ([`SnnError::UnknownName`]), `post` naming an
    /// input ([`SnnError::Rejected`]) or the wrong number of sources for the kind
    /// ([`SnnError::Invalid`]), a source or
    /// the layer whose size does not match the synapse ([`SnnError::ShapeMismatch`]).
    pub fn add_synapse(
        &mut self,
        post: &str,
        synapse: impl NetSynapse,
        pre: &[&str],
    ) -> snn_core::Result<()> {
        let post_node = self.lookup(post)?;
        let Node::Layer(post_idx) = post_node else {
            return Err(SnnError::Rejected {
                field: "post",
                reason: format!("`{post}` is an input; a synapse must end on a layer"),
            });
        };
        let sources = pre
            .iter()
            .map(|name| self.lookup(name))
            .collect::<snn_core::Result<Vec<_>>>()?;
        let sizes = synapse.source_sizes();
        let want = sizes.len();
        if sources.len() != want {
            return Err(SnnError::Invalid {
                field: "pre",
                value: sources.len() as f64,
                reason: format!(
                    "this synapse takes {want} source(s) (presynaptic{}), got {}",
                    if want == 2 { ", modulator" } else { "" },
                    sources.len()
                ),
            });
        }
        for ((name, node), want) in pre.iter().zip(&sources).zip(sizes) {
            let got = self.size_of(*node);
            if got != want {
                return Err(SnnError::ShapeMismatch {
                    context: "SpikingNet::add_synapse source",
                    expected: format!("`{name}` of size {want} (the synapse's)"),
                    actual: vec![got],
                });
            }
        }
        let post_size = self.layers[post_idx].layer.size();
        if post_size != synapse.post_size() {
            return Err(SnnError::ShapeMismatch {
                context: "SpikingNet::add_synapse post",
                expected: format!("`{post}` of size {} (the synapse's)", synapse.post_size()),
                actual: vec![post_size],
            });
        }
        self.layers[post_idx].synapses.push(Connection {
            synapse: Box::new(synapse),
            sources,
        });
        Ok(())
    }

    /// Declares `name` (an input or a layer) as a network output, returned by
    /// [`step`](Self::step) in declaration order (spikelearn's `add_output`).
    pub fn add_output(&mut self, name: &str) -> snn_core::Result<()> {
        let node = self.lookup(name)?;
        self.outputs.push(node);
        Ok(())
    }

    fn layer_entry(&self, name: &str) -> snn_core::Result<&LayerEntry> {
        match self.lookup(name)? {
            Node::Layer(l) => Ok(&self.layers[l]),
            Node::Input(_) => Err(SnnError::Rejected {
                field: "name",
                reason: format!("`{name}` is an input, not a layer"),
            }),
        }
    }

    /// The layer called `name`, as its concrete type `T` (e.g.
    /// `net.layer::<SpikingLayer>("hidden")?.v()`). Errors: an unknown name or an input
    /// ([`SnnError::UnknownName`], [`SnnError::Rejected`]), a layer of another type
    /// ([`SnnError::Rejected`]).
    pub fn layer<T: NetLayer>(&self, name: &str) -> snn_core::Result<&T> {
        let layer: &dyn Any = self.layer_entry(name)?.layer.as_ref();
        layer
            .downcast_ref()
            .ok_or_else(|| wrong_type("layer", name))
    }

    /// The output of the layer called `name` after the last step, whatever its type.
    pub fn layer_output(&self, name: &str) -> snn_core::Result<&[f32]> {
        Ok(self.layer_entry(name)?.layer.output())
    }

    /// The synapse number `index` (in `add_synapse` order) into layer `post`, as its concrete
    /// type `T` (e.g. `net.synapse::<Synapse>("out", 0)?.weights()`). Errors as
    /// [`layer`](Self::layer), and [`SnnError::Rejected`] for an index past the last synapse.
    pub fn synapse<T: NetSynapse>(&self, post: &str, index: usize) -> snn_core::Result<&T> {
        let entry = self.layer_entry(post)?;
        let conn = entry
            .synapses
            .get(index)
            .ok_or_else(|| SnnError::Rejected {
                field: "index",
                reason: format!("layer `{post}` has {} synapse(s)", entry.synapses.len()),
            })?;
        let synapse: &dyn Any = conn.synapse.as_ref();
        synapse
            .downcast_ref()
            .ok_or_else(|| wrong_type("synapse", &format!("{post}[{index}]")))
    }

    /// One step with learning on (spikelearn's `snn(*args, learn=True)`); see
    /// [`step_with`](Self::step_with).
    pub fn step(&mut self, inputs: &[(&str, &[f32])]) -> snn_core::Result<Vec<Vec<f32>>> {
        self.step_with(inputs, true)
    }

    /// One step (see the type's docs for the order). `inputs` gives every declared input by
    /// name, each of its declared size. Returns the declared outputs' values of this step.
    ///
    /// Errors: an input name not declared ([`SnnError::UnknownName`]), a declared input
    /// missing or given twice ([`SnnError::Rejected`]), a wrong length
    /// ([`SnnError::ShapeMismatch`]). Nothing is advanced when the inputs are bad. A user's
    /// [`NetSynapse`] whose `step` returns another length than its layer's size is a
    /// [`SnnError::ShapeMismatch`] too, raised before any layer moves; the synapses have then
    /// stepped, so [`reset`](Self::reset) the network before going on.
    pub fn step_with(
        &mut self,
        inputs: &[(&str, &[f32])],
        learn: bool,
    ) -> snn_core::Result<Vec<Vec<f32>>> {
        let mut given: Vec<Option<&[f32]>> = vec![None; self.inputs.len()];
        for (name, values) in inputs {
            let Some(i) = self.inputs.iter().position(|(n, _)| n == name) else {
                return Err(SnnError::UnknownName {
                    what: "network input",
                    name: name.to_string(),
                    known: self
                        .inputs
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            };
            if given[i].is_some() {
                return Err(SnnError::Rejected {
                    field: "inputs",
                    reason: format!("input `{name}` given twice"),
                });
            }
            if values.len() != self.inputs[i].1 {
                return Err(SnnError::ShapeMismatch {
                    context: "SpikingNet::step input",
                    expected: format!("`{name}` of size {}", self.inputs[i].1),
                    actual: vec![values.len()],
                });
            }
            given[i] = Some(values);
        }
        if let Some(i) = given.iter().position(Option::is_none) {
            return Err(SnnError::Rejected {
                field: "inputs",
                reason: format!("input `{}` is missing", self.inputs[i].0),
            });
        }
        let given: Vec<&[f32]> = given.into_iter().flatten().collect();

        // Phase 1: last step's output of every layer, read before any layer moves.
        let previous: Vec<Vec<f32>> = self
            .layers
            .iter()
            .map(|l| l.layer.output().to_vec())
            .collect();
        // Phase 2: every synapse, from last step's outputs (so their order does not matter),
        // then every layer. A user's synapse that returns another length than its layer's size
        // is an error before any layer moves.
        let mut currents = Vec::with_capacity(self.layers.len());
        for entry in &mut self.layers {
            let size = entry.layer.size();
            let mut outputs = Vec::with_capacity(entry.synapses.len());
            for (k, conn) in entry.synapses.iter_mut().enumerate() {
                let sources: Vec<&[f32]> = conn
                    .sources
                    .iter()
                    .map(|node| match *node {
                        Node::Input(i) => given[i],
                        Node::Layer(l) => previous[l].as_slice(),
                    })
                    .collect();
                let out = conn.synapse.step(&sources);
                if out.len() != size {
                    return Err(SnnError::ShapeMismatch {
                        context: "SpikingNet::step synapse output",
                        expected: format!("synapse {k} of layer `{}`: {size} values", entry.name),
                        actual: vec![out.len()],
                    });
                }
                outputs.push((conn.synapse.syn_type(), out));
            }
            currents.push(outputs);
        }
        for (entry, outputs) in self.layers.iter_mut().zip(&currents) {
            let size = entry.layer.size();
            entry.layer.step(LayerInput::new(size, outputs));
        }
        // Phase 3: learning with this step's postsynaptic output.
        for entry in &mut self.layers {
            for conn in &mut entry.synapses {
                conn.synapse.update(entry.layer.output(), learn);
            }
        }
        Ok(self
            .outputs
            .iter()
            .map(|node| match *node {
                Node::Input(i) => given[i].to_vec(),
                Node::Layer(l) => self.layers[l].layer.output().to_vec(),
            })
            .collect())
    }

    /// Back to rest: every layer's potential and spikes and every synapse's traces to 0
    /// (spikelearn's `reset`, which keeps the learnt weights).
    pub fn reset(&mut self) {
        for entry in &mut self.layers {
            entry.layer.reset();
            for conn in &mut entry.synapses {
                conn.synapse.reset();
            }
        }
    }
}

fn wrong_type(what: &'static str, name: &str) -> SnnError {
    SnnError::Rejected {
        field: what,
        reason: format!("`{name}` is a {what} of another type"),
    }
}

//! The open interface of [`SpikingNet`](crate::SpikingNet): what a layer and a synapse do in a
//! step, so that a user's own kinds plug in beside [`SpikingLayer`](crate::SpikingLayer),
//! [`BioLifLayer`](crate::BioLifLayer) and [`Synapse`](crate::Synapse) (spikelearn's duck-typed
//! `__call__` / `update` / `reset` elements, written as traits).

use std::any::Any;
use std::fmt::Debug;

use crate::SynType;

/// The synapse outputs that reach a layer in one step, in `add_synapse` order, each with its
/// synapse's [`SynType`].
#[derive(Clone, Copy, Debug)]
pub struct LayerInput<'a> {
    size: usize,
    outputs: &'a [(SynType, Vec<f32>)],
}

impl<'a> LayerInput<'a> {
    /// The outputs of a layer's synapses (each `size` long) for one step.
    pub fn new(size: usize, outputs: &'a [(SynType, Vec<f32>)]) -> Self {
        Self { size, outputs }
    }

    /// Every synapse's output with its type, in `add_synapse` order.
    pub fn outputs(&self) -> &'a [(SynType, Vec<f32>)] {
        self.outputs
    }

    /// The sum of every output (`0 + out_1 + out_2 + …`, spikelearn's `LIFLayer(*x)`); zeros
    /// without synapses.
    pub fn total(&self) -> Vec<f32> {
        self.sum_where(|_| true)
    }

    /// The sum of the outputs of the synapses of type `syn_type` (spikelearn's
    /// `group_synapses`, as its `BioLIFLayer` reads them); zeros where there are none.
    pub fn total_of(&self, syn_type: SynType) -> Vec<f32> {
        self.sum_where(|t| t == syn_type)
    }

    fn sum_where(&self, keep: impl Fn(SynType) -> bool) -> Vec<f32> {
        let mut total = vec![0.0; self.size];
        for (_, out) in self.outputs.iter().filter(|(t, _)| keep(*t)) {
            for (t, y) in total.iter_mut().zip(out) {
                *t += y;
            }
        }
        total
    }
}

/// A layer of a [`SpikingNet`](crate::SpikingNet): spikelearn's layer element (`__call__`,
/// `out`, `reset`). The net sums nothing itself: each step hands the layer its synapses'
/// outputs ([`LayerInput`]) and reads [`output`](NetLayer::output) afterwards.
///
/// `Any` lets [`SpikingNet::layer`](crate::SpikingNet::layer) return the concrete type.
pub trait NetLayer: Any + Debug + Send {
    /// Number of neurons (the length of every input and of the output).
    fn size(&self) -> usize;
    /// Advances one step with this step's synapse outputs.
    fn step(&mut self, input: LayerInput<'_>);
    /// The output of the last step (spikes for a spiking layer), [`size`](NetLayer::size) long.
    fn output(&self) -> &[f32];
    /// Back to rest.
    fn reset(&mut self);
}

/// A synapse of a [`SpikingNet`](crate::SpikingNet): spikelearn's synapse element (`__call__`,
/// `update(xo, learn)`, `reset`).
///
/// `Any` lets [`SpikingNet::synapse`](crate::SpikingNet::synapse) return the concrete type.
pub trait NetSynapse: Any + Debug + Send {
    /// The size of each source in `add_synapse` order (presynaptic, then a modulator for a
    /// three-factor synapse); the net checks the sources against them.
    fn source_sizes(&self) -> Vec<usize>;
    /// The size of the layer it ends on.
    fn post_size(&self) -> usize;
    /// The sign type the layer sees with the output. Default [`SynType::Hybrid`].
    fn syn_type(&self) -> SynType {
        SynType::Hybrid
    }
    /// This step's output from its sources (of the sizes [`source_sizes`](NetSynapse::source_sizes)
    /// says: the net checks them when the graph is built).
    fn step(&mut self, sources: &[&[f32]]) -> Vec<f32>;
    /// After every layer has stepped: the postsynaptic layer's new output, and whether the
    /// weights may learn. Default: nothing (a static synapse).
    fn update(&mut self, post: &[f32], learn: bool) {
        let _ = (post, learn);
    }
    /// Back to rest (learnt weights stay).
    fn reset(&mut self);
}

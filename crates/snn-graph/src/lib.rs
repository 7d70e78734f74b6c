//! # snn-graph
//!
//! spikelearn's network model: named inputs, layers and synapses stepped together.
//!
//! A port of `spikelearn.SpikingNet` (github.com/spikelearn/spikelearn, `snn.py`,
//! `streamnet/streamnet.py`, `neurons.py`, `synapses.py`, `ternary.py`, `rules.py`, `trace.py`).
//!
//! * [`SpikingNet`]: named external inputs, named layers, synapses from one or more sources into a
//!   layer, one synchronous time step at a time, with local learning after each step.
//! * [`SpikingLayer`]: spikelearn's `LIFLayer` (tau in steps, threshold `v0`, one-step refractory
//!   flag) and, with fixed recurrent weights, its `SpikingRecLayer`.
//! * [`BioLifLayer`]: spikelearn's conductance-like `BioLIFLayer`.
//! * [`Synapse`]: static, one-to-one, STDP, ternary (modulated STDP), static-with-modulator and
//!   MSE synapses with spikelearn's trace ([`Trace`]) and weight ([`WeightLimits`]) clamping,
//!   and its input transforms ([`Transform`]).
//! * [`NetLayer`], [`NetSynapse`]: the traits a layer and a synapse implement, so that a user's
//!   own kinds run in a [`SpikingNet`] beside these.
//!
//! # Representation
//!
//! spikelearn is a NumPy library stepping one unbatched sample; so is this port: all state is
//! plain host `Vec<f32>` (no burn tensors, no device, no autodiff: the learning rules are local
//! and gradient-free). Weight matrices are row-major `[post][pre]` (spikelearn's `W` of shape
//! `(No, Ne)`, applied as `W @ x`). Spikes are `0.0`/`1.0`. Time is counted in steps, as in
//! spikelearn (`tau` is in time steps, there is no `dt`).
//!
//! # Why a crate of its own
//!
//! Everything in `snn-core` is a burn layer or op on tensors that runs on every backend and
//! trains through autodiff; this simulator is neither (host vectors, one sample, local rules),
//! and a tensor port would change its numbers for no user. It moved out of `snn-core`
//! (`snn_core::graph`) so that each crate holds one kind of thing; it shares only `SnnError`
//! and the field checks of [`snn_core::error`].

#![warn(missing_docs)]

mod element;
mod layer;
mod net;
mod synapse;
mod transform;

pub use element::*;
pub use layer::*;
pub use net::*;
pub use synapse::*;
pub use transform::*;

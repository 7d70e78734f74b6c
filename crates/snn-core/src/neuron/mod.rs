//! Spiking and non-spiking neuron layers.
//!
//! Each model comes as a burn module built from a `Config` (`XxxConfig::new(size).init(&device)`)
//! with a multi-step `forward` over `[batch, time, features...]`, a single-step `step` over
//! `[batch, features...]`, a state type with `zeros`, and a pure step function
//! (`lif_step`, `li_step`, `iaf_step`) that takes the state in and gives it back, for users who
//! write their own loops, as in Norse's functional API.
//!
//! `size` is the number of neurons: the product of the feature dimensions of the input. Time
//! constants, thresholds and potentials are per-neuron parameters (`[size]` tensors), trainable
//! when the config's `learn_tau` / `learn_threshold` flag is set.

mod iaf;
mod layer;
mod leaky;
mod li;
mod lif;
mod shape;

// The neuron zoo: each file one model family, re-exported whole.
mod adex;
mod coba;
mod izhikevich;
mod lif_ex;
mod lif_mc;
mod lsnn;
mod mlgenn;
mod recurrent;
mod refrac;
mod spikelearn;
mod spyx;
mod tempotron;
pub use adex::*;
pub use coba::*;
pub use izhikevich::*;
pub use lif_ex::*;
pub use lif_mc::*;
pub use lsnn::*;
pub use mlgenn::*;
pub use recurrent::*;
pub use refrac::*;
pub use spikelearn::*;
pub use spyx::*;
pub use tempotron::*;

pub use crate::dynamics::{Discretization, Reset};

// every model state with a membrane is a `MembraneState` (a refractory period holds it, Norse's
// `voltage_accumulator` sums it)
use burn::prelude::Tensor;
use layer::{membrane_in_neuron, membrane_in_v};
membrane_in_v!(
    LifState,
    LeakyState,
    LifAdExState,
    LsnnState,
    IzhikevichState,
    CobaLifState,
    SpyxState,
    MlgennAlifState,
    FewSpikeReluState,
    IafState,
    SpikingRecState,
);
membrane_in_neuron!(RecurrentState, RefractoryState);
leaky::leaky_time_constants!(Lif, Li);
leaky::leaky_time_constants!(forward_euler: LifEx);
leaky::per_neuron_potentials!(Lif, LifEx, Lsnn);
pub use iaf::{Iaf, IafConfig, IafDynamics, IafOutput, IafState, iaf_step};
pub(crate) use layer::per_neuron;
pub use layer::{
    Contexts, FusedRun, MembraneState, Neuron, NeuronOutput, NeuronState, check_state_tensors,
    recurrent_step_loop,
};
pub use leaky::{
    LeakyParts, LeakyState, LeakyTimeConstants, PerNeuronPotentials, PerNeuronThreshold,
    PotentialParts,
};
pub use li::{Li, LiConfig, LiDynamics, LiOutput, LiState, li_step};
pub use lif::{Lif, LifConfig, LifDynamics, LifOutput, LifState, lif_step};
pub(crate) use mlgenn::{FEW_SPIKE_MAX_K, few_spike_fire, few_spike_threshold};

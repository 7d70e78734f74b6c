//! Cross-crate tests of burn-snn: golden parity with the peer libraries, backend switching,
//! surrogate gradients and bad input. One binary (each test binary links all of burn).
#![allow(deprecated)] // burn 0.22 deprecates ndarray, which we still support and test.

mod backend_switching;
mod bad_input;
mod common;
mod custom_neuron;
mod datasets;
mod encode;
mod fused;
mod fused_recurrent;
mod golden;
mod graph;
mod graph_spikelearn;
mod input_neurons;
mod losses;
mod nir;
mod optim;
mod plasticity;
mod plot;
mod receptive_field;
mod sparse_input;
mod surrogate_grad;
mod training;
mod zoo_exponential;
mod zoo_izhikevich;
mod zoo_recurrent;
mod zoo_spyx_mlgenn;
mod zoo_tempotron;

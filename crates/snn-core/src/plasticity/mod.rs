//! Local learning rules that update weights while the network runs: STDP and Tsodyks-Markram short-term plasticity.
//!
//! * [`stdp`]: spike-timing-dependent plasticity with pre- and postsynaptic traces, for dense
//!   ([`stdp_step_linear`], [`StdpLinear`]) and 2-D convolutional ([`stdp_step_conv2d`], [`StdpConv2d`])
//!   connectivity, with Norse's four weight dependences ([`StdpAlgorithm`]).
//! * [`tsodyks_markram`]: short-term depression and facilitation of a synapse's efficacy
//!   ([`stp_step`], [`TsodyksMarkram`]).
//!
//! These rules are local: they need no autodiff device, and they detach what they are given.

pub mod stdp;
pub mod tsodyks_markram;

pub use stdp::{
    Stdp, StdpAlgorithm, StdpConfig, StdpConv2d, StdpDynamics, StdpLinear, StdpState,
    stdp_step_conv2d, stdp_step_linear,
};
pub use tsodyks_markram::{StpDynamics, StpState, TsodyksMarkram, TsodyksMarkramConfig, stp_step};

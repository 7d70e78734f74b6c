//! # snn-nir: NIR import and export for burn-snn
//!
//! [NIR](https://neuroir.org) (Neuromorphic Intermediate Representation) describes spiking
//! networks as graphs of continuous-time nodes, stored in HDF5. This crate
//!
//! * reads and writes NIR files in the layout of Python's `nir.write` (nir 1.0.8), with the
//!   pure-Rust `hdf5-pure` crate ([`read()`], [`write()`]): the nodes Input, Output, Affine, Linear,
//!   Scale, Threshold, Flatten, Conv1d, Conv2d, SumPool2d, AvgPool2d, Delay, I, IF, LI, LIF,
//!   CubaLI, CubaLIF and nested graphs ([`NirNode`]), with the checks `nir.read` does
//!   (parameter shapes, edges to existing nodes, the type check along edges) as typed
//!   [`NirError`]s;
//! * runs a NIR graph as a burn-snn network at an explicit time step ([`import()`] →
//!   [`NirNetwork`], a [`snn_core::lift::StepLayer`] on any burn device), recurrent cycles
//!   and nested graphs included;
//! * exports burn-snn layers ([`ToNir`]: `Linear`, `Lif`, `Li`, `Iaf`, recurrent LIF) and
//!   chains of them ([`sequential`]); `snn-train` adds `SnnClassifier::to_nir` and the
//!   `snn-train nir info FILE` / `snn-train nir export ...` commands ([`cli`]).
//!
//! ```
//! use burn::nn::LinearConfig;
//! use burn::prelude::*;
//! use snn_core::{LifConfig, Neuron};
//! use snn_nir::{ToNir, import, read_bytes, sequential, write_bytes};
//!
//! let device = Device::ndarray();
//! let fc = LinearConfig::new(3, 4).init(&device);
//! let lif = LifConfig::new(4).with_tau_syn_ms(None).init(&device).unwrap();
//! let dt_ms = lif.config().dt_ms;
//! let graph = sequential(
//!     vec![3],
//!     vec![("fc".into(), fc.to_nir(dt_ms)?), ("lif".into(), lif.to_nir(dt_ms)?)],
//!     dt_ms,
//! )?;
//! let bytes = write_bytes(&graph)?; // or snn_nir::write("net.nir", &graph)
//! let net = import(&read_bytes(bytes)?, dt_ms * 1e-3, &device)?;
//! let x = Tensor::<3>::ones([2, 10, 3], &device); // [batch, time, features]
//! let want = lif.forward(fc.forward(x.clone())).unwrap().spikes;
//! assert_eq!(net.forward(x)?.into_data(), want.into_data());
//! # Ok::<(), snn_nir::NirError>(())
//! ```
//!
//! ## Simulation semantics ([`import()`])
//!
//! NIR nodes are ODEs; [`import()`] integrates them with forward Euler at the `dt` you give (in
//! seconds). The step must be explicit: NIR files rarely say which step they were trained with,
//! and the exporters disagree about `r` (norse ignores it, snnTorch writes `r = τ/dt` for a
//! unit input gain at its hard-coded `dt = 1e-4`). Per step, with `I` the sum of the node's
//! inputs and all state starting at 0:
//!
//! ```text
//! LIF:     v' = v + (dt/τ)·((v_leak − v) + r·I);   z = H(v' − v_threshold);  v = z ? v_reset : v'
//! CubaLIF: i  = i + (dt/τ_syn)·(w_in·I − i)
//!          v' = v + (dt/τ_mem)·((v_leak − v) + r·i)      (the updated current, same step)
//!          z  = H(v' − v_threshold);  v = z ? v_reset : v';   i is not reset
//! LI / CubaLI: as LIF / CubaLIF without firing; the output is v
//! IF:      v' = v + (dt·r)·I;  z = H(v' − v_threshold);  v = z ? v_reset : v'
//! I:       v  = v + (dt·r)·I;  output v
//! Threshold: z = H(I − threshold);   Scale: s ⊙ I;   Delay: I(t − round(delay/dt)), 0 before
//! Affine: W I + b;  Linear: W I;  Conv1d/Conv2d: PyTorch cross-correlation (OIHW);
//! SumPool2d: window sum;  AvgPool2d: window mean (padding counted);  Flatten: reshape
//! H(u) = 1 if u > 0 else 0   (strict, as NIR's docstrings)
//! ```
//!
//! The neuron nodes run as snn-core's layers with these equations (`LIF`/`CubaLIF` a
//! forward-Euler [`snn_core::Lif`], `LI`/`CubaLI` an [`snn_core::Li`], `IF` an
//! [`snn_core::Iaf`], every parameter per neuron), each with a per-neuron gain on its input:
//! `r` (`LIF`, `LI`), `dt·r` (`IF`, `I`), `r·(dt/τ_syn)·w_in` (`CubaLIF`, `CubaLI`, whose
//! current snn-core carries decayed). So the coefficients come from snn-core's one derivation
//! ([`snn_core::dynamics::LeakyCoefficients`]), and as there, forward Euler needs every time
//! constant to be at least `dt`: a file with a shorter one is refused
//! ([`NirError::InvalidValue`]) rather than run with a negative decay.
//!
//! This is the `nir_euler` convention of snnTorch 1.0.0 and SpikingJelly 2.0.0 (and of norse
//! 1.1.0 for CubaLIF); the tests match the peers' runs of seven reference files. Differences
//! from peers: norse ignores LIF `r` and `v_reset` and starts `v` at `v_leak`; SpikingJelly
//! spikes at `v ≥ v_threshold`; norse adds `v_leak` to the CubaLIF current equation (we follow
//! NIR's `τ_syn di/dt = −i + w_in·I`; equal when `v_leak = 0`, as in every reference file).
//! Within a step, input propagates through the whole graph; an edge closing a cycle carries its
//! source's previous-step output; edges into a node are summed.
//!
//! ## Parameter mapping ([`ToNir`])
//!
//! Our layers are discrete-time; each is written so that the NIR Euler step above at the
//! exported `dt` reproduces the layer's own update. With `a = dt/τ` (Euler) or `a = 1 − e^(−dt/τ)`
//! (exact decay), per neuron, NIR units in seconds:
//!
//! | burn-snn | NIR `τ` / `τ_mem` | NIR `r` | NIR `τ_syn`, `w_in` |
//! |---|---|---|---|
//! | `Discretization::ForwardEuler` (Norse) | `τ_mem` | 1 | `τ_syn`, `τ_syn/dt` |
//! | `ForwardEulerUnscaledInput` (SpikingJelly `decay_input=False`) | `τ_mem` | `τ_mem/dt` | `τ_syn`, `τ_syn/dt` |
//! | `ExactDecay` (snnTorch β, mlGeNN) | `dt/(1 − β)` | `1/(1 − β)` | `dt/(1 − α)`, `1/(1 − α)` |
//! | `ExactDecayScaledInput` (mlGeNN `scale_i`) | `dt/(1 − β)` | 1 | `dt/(1 − α)`, `1/(1 − α)` |
//!
//! `v_leak`, `v_threshold` (per neuron, learned or not) and `v_reset` are copied; our current
//! (`i ← i + x`, then decayed) is NIR's `i` because `w_in·dt/τ_syn = 1`. `Lif` without a
//! current is `LIF`, with one `CubaLIF`; `Li` is `LI` or `CubaLI`; `Iaf` is `IF` with
//! `r = 1/dt`; a recurrent LIF cell is a nested graph `input → w_in → lif ⇄ w_rec → output`;
//! `Linear` is `Affine` (with bias) or `Linear` (burn's `[in, out]` weight transposed to
//! NIR's `[out, in]`). The exact-decay rows follow snnTorch's own exporter (`τ = dt/(1 − β)`):
//! they are exact for Euler at the exported `dt`, not for an exact ODE solver. Layers NIR
//! cannot express are refused with [`NirError::Unsupported`]: subtractive or no reset,
//! snnTorch's delayed reset, and `fire_at_threshold` (`≥`). Surrogate gradients are not part
//! of NIR and are not exported.
#![warn(missing_docs)]

pub mod cli;
pub mod error;
pub mod export;
pub mod graph;
pub mod hdf5_bounds;
pub mod import;
pub mod read;
pub mod write;

pub use error::{NirError, Result};
pub use export::{ToNir, sequential};
pub use graph::{Array, Conv, FloatType, MetaValue, NIR_VERSION, NirGraph, NirNode, Padding, Pool};
pub use import::{NirNetwork, NirNetworkState, NirPrepared, import};
pub use read::{ReadLimits, read, read_bytes, read_bytes_unchecked, read_unchecked, read_version};
pub use write::{write, write_bytes, write_bytes_unchecked};

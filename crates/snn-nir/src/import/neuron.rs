//! NIR's neuron nodes (`I`, `IF`, `LI`, `LIF`, `CubaLI`, `CubaLIF`) as the burn-snn layers with
//! the same equations: `LIF`/`CubaLIF` a forward-Euler [`Lif`], `LI`/`CubaLI` a forward-Euler
//! [`Li`], `IF` an [`Iaf`], each with its per-neuron parameters, so that every leaky
//! recurrence the importer runs is snn-core's (one coefficient derivation, one step).
//!
//! What NIR adds to a layer is a per-neuron gain on its input, computed here in f64:
//!
//! * `LIF`, `LI`: `v ← v + (dt/τ)·((v_leak − v) + r·I)` is the Euler membrane driven by `r·I`.
//! * `CubaLIF`, `CubaLI`: NIR updates the current first, `i ← i + (dt/τ_syn)·(w_in·I − i)`, and
//!   drives the membrane with `r·i`. snn-core's current jumps by its input, drives the
//!   membrane, then decays by `dt/τ_syn`, so it carries `r·(1 − dt/τ_syn)·i` between steps:
//!   with the input `r·(dt/τ_syn)·w_in·I` the membrane sees NIR's `r·i` at every step.
//! * `IF`, `I`: `v ← v + (dt·r)·I` is the perfect integrator driven by `(dt·r)·I`.
//!
//! The states start at zero (snn-core's resting state with `v_init = 0`), as NIR's peers do.

use burn::prelude::*;
use snn_core::neuron::{PerNeuronPotentials, PerNeuronThreshold};
use snn_core::prelude::LeakyTimeConstants;
use snn_core::{
    Iaf, IafConfig, IafDynamics, IafState, Li, LiConfig, LiDynamics, LiState, Lif, LifConfig,
    LifDynamics, LifState, SnnError, iaf_step, li_step, lif_step,
};

use crate::error::{NirError, Result};
use crate::graph::{Array, NirNode};

/// A neuron node compiled for one step: the layer and the gain on its input (`[1, n]`).
#[derive(Clone, Debug)]
pub(super) struct NirNeuron {
    gain: Tensor<2>,
    layer: Layer,
}

#[derive(Clone, Debug)]
// one per node, built once: the variants' sizes do not matter
#[allow(clippy::large_enum_variant)]
enum Layer {
    /// `LIF`, `CubaLIF`.
    Lif(Lif),
    /// `LI`, `CubaLI`.
    Li(Li),
    /// `IF`.
    Iaf(Iaf),
    /// `I`: the membrane integrates its input and is the output (NIR's only neuron that
    /// neither leaks nor fires, so no burn-snn layer: `v ← v + x`).
    Integrator,
}

/// A neuron node's per-sequence constants ([`NirNeuron::prepare`]).
#[derive(Clone, Debug)]
// one per node and sequence: the variants' sizes do not matter
#[allow(clippy::large_enum_variant)]
pub(super) enum Prepared {
    Lif(LifDynamics),
    Li(LiDynamics),
    Iaf(IafDynamics),
    Integrator,
}

/// A neuron node's state between steps.
#[derive(Clone, Debug)]
// one per node: the variants' sizes do not matter
#[allow(clippy::large_enum_variant)]
pub(super) enum State {
    Lif(LifState),
    Li(LiState),
    Iaf(IafState),
    /// The integrator's membrane.
    Integrator(Tensor<2>),
}

/// What a node's parameters build: the node and its per-neuron arrays, `dt` in seconds.
struct Build<'a> {
    node: &'a str,
    dt: f64,
    device: &'a Device,
}

impl Build<'_> {
    /// `values` as a `[n]` tensor, `scale` applied in f64.
    fn per_neuron(&self, a: &Array, scale: f64) -> Tensor<1> {
        let v: Vec<f32> = a.data.iter().map(|&x| (x * scale) as f32).collect();
        Tensor::from_floats(v.as_slice(), self.device)
    }

    /// A per-neuron row `[1, n]` of `f` of each neuron's values.
    fn row(&self, n: usize, f: impl Fn(usize) -> f64) -> Tensor<2> {
        let v: Vec<f32> = (0..n).map(|k| f(k) as f32).collect();
        Tensor::<1>::from_floats(v.as_slice(), self.device).reshape([1, n])
    }

    /// A layer's error, named by the NIR field that caused it.
    fn field(&self, field: &str) -> impl Fn(SnnError) -> NirError + '_ {
        let field = field.to_string();
        move |e| NirError::InvalidValue {
            node: self.node.to_string(),
            field: field.clone(),
            reason: e.to_string(),
        }
    }

    /// The forward-Euler [`Lif`] (`tau_syn` with a current) with NIR's per-neuron `τ`
    /// (s → ms), threshold and potentials.
    fn lif(
        &self,
        tau_mem: (&str, &Array),
        tau_syn: Option<&Array>,
        v_leak: &Array,
        v_threshold: &Array,
        v_reset: &Array,
    ) -> Result<Lif> {
        let n = tau_mem.1.numel();
        let init = |dt_ms, tau_syn_ms| {
            LifConfig::new(n)
                .with_dt_ms(dt_ms)
                .with_tau_mem_ms(dt_ms)
                .with_tau_syn_ms(tau_syn_ms)
                .init(self.device)
        };
        self.leaky(init, tau_mem, tau_syn, v_leak)?
            .with_threshold(self.per_neuron(v_threshold, 1.0))
            .map_err(self.field("v_threshold"))?
            .with_v_reset(self.per_neuron(v_reset, 1.0))
            .map_err(self.field("v_reset"))
    }

    /// The forward-Euler [`Li`] with NIR's per-neuron `τ` and `v_leak`.
    fn li(&self, tau_mem: (&str, &Array), tau_syn: Option<&Array>, v_leak: &Array) -> Result<Li> {
        let n = tau_mem.1.numel();
        let init = |dt_ms, tau_syn_ms| {
            LiConfig::new(n)
                .with_dt_ms(dt_ms)
                .with_tau_mem_ms(dt_ms)
                .with_tau_syn_ms(tau_syn_ms)
                .init(self.device)
        };
        self.leaky(init, tau_mem, tau_syn, v_leak)
    }

    /// A leaky layer built by `init(dt_ms, τ_syn in ms if any)` (its config's time constants
    /// are placeholders, `dt`), then given NIR's per-neuron time constants (s → ms, checked by
    /// the layer: positive and at least `dt`, as forward Euler needs) and `v_leak`.
    fn leaky<L: LeakyTimeConstants + PerNeuronPotentials>(
        &self,
        init: impl FnOnce(f64, Option<f64>) -> snn_core::Result<L>,
        tau_mem: (&str, &Array),
        tau_syn: Option<&Array>,
        v_leak: &Array,
    ) -> Result<L> {
        let dt_ms = self.dt * 1e3;
        let layer = init(dt_ms, tau_syn.map(|_| dt_ms)).map_err(self.field(tau_mem.0))?;
        let layer = layer
            .with_tau_mem_ms(self.per_neuron(tau_mem.1, 1e3))
            .map_err(self.field(tau_mem.0))?;
        let layer = match tau_syn {
            Some(tau) => layer
                .with_tau_syn_ms(self.per_neuron(tau, 1e3))
                .map_err(self.field("tau_syn"))?,
            None => layer,
        };
        layer
            .with_v_leak(self.per_neuron(v_leak, 1.0))
            .map_err(self.field("v_leak"))
    }

    /// NIR's input gain of a current-based node: `r·(dt/τ_syn)·w_in` per neuron (see the
    /// module docs).
    fn current_gain(&self, r: &Array, tau_syn: &Array, w_in: &Array) -> Tensor<2> {
        self.row(r.numel(), |k| {
            r.data[k] * (self.dt / tau_syn.data[k]) * w_in.data[k]
        })
    }
}

impl NirNeuron {
    /// The neuron node `node` (named `name`) for steps of `dt` seconds, or `None` for a node
    /// that is not a neuron.
    pub(super) fn compile(
        name: &str,
        node: &NirNode,
        dt: f64,
        device: &Device,
    ) -> Result<Option<Self>> {
        let b = Build {
            node: name,
            dt,
            device,
        };
        let (gain, layer) = match node {
            NirNode::I { r } => (b.row(r.numel(), |k| dt * r.data[k]), Layer::Integrator),
            NirNode::If {
                r,
                v_threshold,
                v_reset,
            } => {
                let iaf = IafConfig::new(r.numel())
                    .with_dt_ms(dt * 1e3)
                    .init(device)
                    .map_err(b.field("r"))?
                    .with_threshold(b.per_neuron(v_threshold, 1.0))
                    .map_err(b.field("v_threshold"))?
                    .with_v_reset(b.per_neuron(v_reset, 1.0))
                    .map_err(b.field("v_reset"))?;
                (b.row(r.numel(), |k| dt * r.data[k]), Layer::Iaf(iaf))
            }
            NirNode::Li { tau, r, v_leak } => (
                b.row(r.numel(), |k| r.data[k]),
                Layer::Li(b.li(("tau", tau), None, v_leak)?),
            ),
            NirNode::Lif {
                tau,
                r,
                v_leak,
                v_threshold,
                v_reset,
            } => (
                b.row(r.numel(), |k| r.data[k]),
                Layer::Lif(b.lif(("tau", tau), None, v_leak, v_threshold, v_reset)?),
            ),
            NirNode::CubaLi {
                tau_syn,
                tau_mem,
                r,
                v_leak,
                w_in,
            } => {
                let li = b.li(("tau_mem", tau_mem), Some(tau_syn), v_leak)?;
                (b.current_gain(r, tau_syn, w_in), Layer::Li(li))
            }
            NirNode::CubaLif {
                tau_syn,
                tau_mem,
                r,
                v_leak,
                v_threshold,
                v_reset,
                w_in,
            } => {
                let lif = b.lif(
                    ("tau_mem", tau_mem),
                    Some(tau_syn),
                    v_leak,
                    v_threshold,
                    v_reset,
                )?;
                (b.current_gain(r, tau_syn, w_in), Layer::Lif(lif))
            }
            _ => return Ok(None),
        };
        Ok(Some(Self { gain, layer }))
    }

    /// The per-sequence constants of the layer.
    pub(super) fn prepare(&self) -> Prepared {
        match &self.layer {
            Layer::Lif(lif) => Prepared::Lif(lif.dynamics()),
            Layer::Li(li) => Prepared::Li(li.dynamics()),
            Layer::Iaf(iaf) => Prepared::Iaf(iaf.dynamics()),
            Layer::Integrator => Prepared::Integrator,
        }
    }

    /// The state at rest (all zeros) for a batch.
    pub(super) fn initial_state(&self, batch: usize) -> State {
        match &self.layer {
            Layer::Lif(lif) => State::Lif(lif.init_state(batch)),
            Layer::Li(li) => State::Li(li.init_state(batch)),
            Layer::Iaf(iaf) => State::Iaf(iaf.init_state(batch)),
            Layer::Integrator => {
                let [_, n] = self.gain.dims();
                State::Integrator(Tensor::zeros([batch, n], &self.gain.device()))
            }
        }
    }

    /// One step of the summed input `x` (`[batch, n]`): the spikes (the membrane for `LI`,
    /// `CubaLI` and `I`) and the new state.
    pub(super) fn step(&self, p: &Prepared, x: Tensor<2>, state: State) -> (Tensor<2>, State) {
        let x = x * self.gain.clone();
        match (p, state) {
            (Prepared::Lif(p), State::Lif(s)) => {
                let (z, s) = lif_step(x, s, p);
                (z, State::Lif(s))
            }
            (Prepared::Li(p), State::Li(s)) => {
                let (v, s) = li_step(x, s, p);
                (v, State::Li(s))
            }
            (Prepared::Iaf(p), State::Iaf(s)) => {
                let (z, s) = iaf_step(x, s, p);
                (z, State::Iaf(s))
            }
            (Prepared::Integrator, State::Integrator(v)) => {
                let v = v + x;
                (v.clone(), State::Integrator(v))
            }
            (p, s) => unreachable!("state {s:?} does not belong to {p:?}"),
        }
    }
}

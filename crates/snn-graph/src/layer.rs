//! spikelearn's `LIFLayer` and `SpikingRecLayer` on host vectors.

use burn::config::Config;

use snn_core::SnnError;
use snn_core::error::{finite, nonzero, positive};

/// Configuration of a [`SpikingLayer`]: spikelearn's `LIFLayer(N, tau, v0=1, refr=True)`.
#[derive(Config, Debug)]
pub struct SpikingLayerConfig {
    /// Number of neurons `N`. Required, at least 1.
    pub size: usize,
    /// Leak time constant `tau`, in time steps (not ms: spikelearn has no `dt`). The membrane
    /// decays by `a = exp(-1 / tau)` per step. Required, `> 0`.
    pub tau: f64,
    /// Firing threshold `v0` (dimensionless, same units as the synaptic input). Default 1.
    #[config(default = 1.0)]
    pub v0: f64,
    /// spikelearn's `refr`: when true a neuron that spiked ignores its input for the next step
    /// (one-step refractory period); when false only its potential is reset. Default true.
    #[config(default = true)]
    pub refractory: bool,
}

impl SpikingLayerConfig {
    /// Checks `size >= 1`, `tau > 0` and a finite `v0`.
    pub fn validate(&self) -> snn_core::Result<()> {
        nonzero("size", self.size)?;
        positive("tau", self.tau)?;
        finite("v0", self.v0)?;
        Ok(())
    }

    /// A plain LIF layer (spikelearn's `LIFLayer` / `SpikingLayer`), at rest.
    pub fn init(&self) -> snn_core::Result<SpikingLayer> {
        self.validate()?;
        let a = (-1.0 / self.tau).exp();
        Ok(SpikingLayer {
            size: self.size,
            a: a as f32,
            b: (1.0 - a) as f32,
            v0: self.v0 as f32,
            refractory: self.refractory,
            w_rec: None,
            v: vec![0.0; self.size],
            s: vec![0.0; self.size],
        })
    }

    /// A LIF layer with fixed recurrent weights (spikelearn's `SpikingRecLayer(N, tau, Wrec,
    /// v0)`), at rest. `w_rec` is row-major `[post][pre]`, `size * size` long; the recurrent
    /// input `w_rec @ s(t-1)` (last step's spikes of this layer) is added to the synaptic input,
    /// e.g. negative off-diagonal weights for cross-inhibition.
    ///
    /// spikelearn's `SpikingRecLayer` always uses `refr=True`; this port keeps the config's flag.
    pub fn init_recurrent(&self, w_rec: Vec<f32>) -> snn_core::Result<SpikingLayer> {
        let mut layer = self.init()?;
        if w_rec.len() != self.size * self.size {
            return Err(SnnError::ShapeMismatch {
                context: "SpikingLayerConfig::init_recurrent w_rec",
                expected: format!(
                    "[{0} * {0}] = {1} weights",
                    self.size,
                    self.size * self.size
                ),
                actual: vec![w_rec.len()],
            });
        }
        if let Some(bad) = w_rec.iter().find(|w| !w.is_finite()) {
            return Err(SnnError::NotFinite {
                field: "w_rec",
                value: f64::from(*bad),
            });
        }
        layer.w_rec = Some(w_rec);
        Ok(layer)
    }
}

/// A layer of LIF neurons as in spikelearn's `LIFLayer` (optionally with `SpikingRecLayer`'s
/// fixed recurrent weights). Build it with [`SpikingLayerConfig`].
///
/// One step with total input `x` (the sum of all synapse outputs, plus `w_rec @ s(t-1)` for the
/// recurrent variant), `a = exp(-1/tau)`, `b = 1 - a`:
///
/// * refractory: `v(t) = (1 - s(t-1)) * (a v(t-1) + b x)`
/// * not refractory: `v(t) = (1 - s(t-1)) * a v(t-1) + b x`
/// * `s(t) = H(v(t) - v0)` with `H(0) = 1` (spikelearn's `hard`: fires at the threshold).
///
/// The reset is deferred: `v` keeps its supra-threshold value in the step it spiked and is zeroed
/// through the `(1 - s)` factor in the next step.
#[derive(Clone, Debug)]
pub struct SpikingLayer {
    size: usize,
    a: f32,
    b: f32,
    v0: f32,
    refractory: bool,
    w_rec: Option<Vec<f32>>,
    v: Vec<f32>,
    s: Vec<f32>,
}

impl SpikingLayer {
    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Membrane potentials after the last step.
    pub fn v(&self) -> &[f32] {
        &self.v
    }

    /// Spikes of the last step (spikelearn's `out` / `s`).
    pub fn spikes(&self) -> &[f32] {
        &self.s
    }

    /// The recurrent weights, `[post][pre]` row-major, if this is a recurrent layer.
    pub fn w_rec(&self) -> Option<&[f32]> {
        self.w_rec.as_deref()
    }

    /// Back to rest: `v = 0`, `s = 0` (spikelearn's `reset`).
    pub fn reset(&mut self) {
        self.v.fill(0.0);
        self.s.fill(0.0);
    }

    /// Advances one step with the summed synaptic input `x` (length [`size`](Self::size)),
    /// returning the new spikes. Unchecked: [`SpikingNet`](super::SpikingNet) checks shapes when
    /// the graph is built.
    pub(crate) fn advance(&mut self, x: &mut [f32]) -> &[f32] {
        let n = self.size;
        if let Some(w) = &self.w_rec {
            // Recurrent input from last step's spikes, before they are overwritten.
            for (o, xo) in x.iter_mut().enumerate() {
                *xo += (0..n).map(|e| w[o * n + e] * self.s[e]).sum::<f32>();
            }
        }
        for ((v, s), x) in self.v.iter_mut().zip(self.s.iter_mut()).zip(x.iter()) {
            let keep = 1.0 - *s;
            *v = if self.refractory {
                keep * (self.a * *v + self.b * x)
            } else {
                keep * self.a * *v + self.b * x
            };
            *s = if *v - self.v0 >= 0.0 { 1.0 } else { 0.0 };
        }
        &self.s
    }
}

//! spikelearn's `LIFLayer` and `SpikingRecLayer` on host vectors.

use burn::config::Config;

use snn_core::SnnError;
use snn_core::error::{finite, nonzero, positive};

use crate::{LayerInput, NetLayer, SynType};

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

    /// Advances one step with the summed synaptic input `x` (length [`size`](Self::size)),
    /// returning the new spikes. Unchecked: [`SpikingNet`](super::SpikingNet) checks shapes when
    /// the graph is built.
    fn advance(&mut self, x: &mut [f32]) -> &[f32] {
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

impl NetLayer for SpikingLayer {
    fn size(&self) -> usize {
        self.size
    }

    /// Sums every synapse output (whatever its type) and advances.
    fn step(&mut self, input: LayerInput<'_>) {
        self.advance(&mut input.total());
    }

    /// The spikes of the last step.
    fn output(&self) -> &[f32] {
        &self.s
    }

    /// Back to rest: `v = 0`, `s = 0` (spikelearn's `reset`).
    fn reset(&mut self) {
        self.v.fill(0.0);
        self.s.fill(0.0);
    }
}

/// Configuration of a [`BioLifLayer`]: spikelearn's `BioLIFLayer(N, nudt, v0=0.5)`.
#[derive(Config, Debug)]
pub struct BioLifLayerConfig {
    /// Number of neurons `N`. Required, at least 1.
    pub size: usize,
    /// The conductance step `ν₀·dt` (spikelearn's `nudt`), dimensionless. Required, `> 0`.
    pub nudt: f64,
    /// Firing threshold `v0`. Default 0.5 (spikelearn).
    #[config(default = 0.5)]
    pub v0: f64,
}

impl BioLifLayerConfig {
    /// Checks `size >= 1`, `nudt > 0` and a finite `v0`.
    pub fn validate(&self) -> snn_core::Result<()> {
        nonzero("size", self.size)?;
        positive("nudt", self.nudt)?;
        finite("v0", self.v0)?;
        Ok(())
    }

    /// The layer at rest.
    pub fn init(&self) -> snn_core::Result<BioLifLayer> {
        self.validate()?;
        let zeros = vec![0.0; self.size];
        Ok(BioLifLayer {
            nudt: self.nudt as f32,
            v0: self.v0 as f32,
            v: zeros.clone(),
            v_old: zeros.clone(),
            s: zeros.clone(),
            nu: zeros.clone(),
            de: zeros,
        })
    }
}

/// spikelearn's conductance-like `BioLIFLayer`: the excitatory and inhibitory synapses are
/// summed apart (`xe` from [`SynType::Exc`] synapses, `xi` from [`SynType::Inh`] ones, which is
/// negative because an inhibitory synapse outputs `−W x`), and per step:
///
/// ```text
/// ν  = 1 + xe + xi                 (total conductance, leak 1)
/// de = xe / ν                      (the reversal-weighted drive)
/// v  = v_old·e^(−nudt·ν) + de·(1 − e^(−nudt·ν))
/// s  = H(v − v0)                   (non-strict, as spikelearn)
/// v_old ← (1 − s)·v                (reset to 0 for the next step; `v` keeps the crossing value)
/// ```
///
/// Hybrid synapses do not enter (spikelearn groups by `'exc'` and `'inh'` only). spikelearn
/// raises when either group is missing; here a missing group is zero. Inhibition strong enough
/// to make `ν <= 0` divides by zero or makes the exponential grow, in spikelearn and here.
#[derive(Clone, Debug)]
pub struct BioLifLayer {
    nudt: f32,
    v0: f32,
    v: Vec<f32>,
    v_old: Vec<f32>,
    s: Vec<f32>,
    nu: Vec<f32>,
    de: Vec<f32>,
}

impl BioLifLayer {
    /// The membrane of the last step (before its reset).
    pub fn v(&self) -> &[f32] {
        &self.v
    }

    /// The total conductance `ν` of the last step.
    pub fn nu(&self) -> &[f32] {
        &self.nu
    }

    /// The drive `de = xe/ν` of the last step.
    pub fn de(&self) -> &[f32] {
        &self.de
    }
}

impl NetLayer for BioLifLayer {
    fn size(&self) -> usize {
        self.v.len()
    }

    fn step(&mut self, input: LayerInput<'_>) {
        let xe = input.total_of(SynType::Exc);
        let xi = input.total_of(SynType::Inh);
        for k in 0..self.v.len() {
            let nu = 1.0 + xe[k] + xi[k];
            let a = (-self.nudt * nu).exp();
            let de = xe[k] / nu;
            let v = self.v_old[k] * a + de * (1.0 - a);
            let s = if v - self.v0 >= 0.0 { 1.0 } else { 0.0 };
            (self.nu[k], self.de[k], self.v[k], self.s[k]) = (nu, de, v, s);
            self.v_old[k] = (1.0 - s) * v;
        }
    }

    fn output(&self) -> &[f32] {
        &self.s
    }

    fn reset(&mut self) {
        for x in [
            &mut self.v,
            &mut self.v_old,
            &mut self.s,
            &mut self.nu,
            &mut self.de,
        ] {
            x.fill(0.0);
        }
    }
}

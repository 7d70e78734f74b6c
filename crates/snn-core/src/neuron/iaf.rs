//! Integrate-and-fire neurons (no leak).

use super::layer::per_neuron;
use burn::module::Param;
use burn::prelude::*;

use super::layer::{Contexts, Neuron, NeuronOutput, NeuronState, check_state_tensors};
use super::leaky::{Firing, Membrane};
use crate::dynamics::{FiringSpec, Reset};
use crate::error::{finite, nonzero, positive};
use crate::lift::StepLayer;
use crate::surrogate::Surrogate;

/// Configuration of an [`Iaf`] layer (Norse `iaf_feed_forward_step`, mlGeNN `IntegrateFire`).
///
/// Per step with input `x`:
///
/// ```text
/// v ← v + x
/// z = H(v − threshold)
/// v ← reset of v by z        (see `Reset`)
/// ```
///
/// There is no time constant; `dt_ms` only records the time base of the sequence.
#[derive(Config, Debug)]
pub struct IafConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// Length of a step in ms (not used by the dynamics). Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Firing threshold. Default 1.
    #[config(default = 1.0)]
    pub threshold: f64,
    /// Potential after a [`Reset::ToValue`] reset. Default 0.
    #[config(default = 0.0)]
    pub v_reset: f64,
    /// Reset after a spike. Default [`Reset::ToValue`] (Norse; mlGeNN's `relative_reset` is
    /// [`Reset::Subtract`]).
    #[config(default = "Reset::ToValue")]
    pub reset: Reset,
    /// Stop gradients through the reset. Default false.
    #[config(default = false)]
    pub detach_reset: bool,
    /// Surrogate derivative of the spike. Default SuperSpike with `alpha = 100` (Norse).
    #[config(default = "Surrogate::SuperSpike { alpha: 100.0 }")]
    pub surrogate: Surrogate,
    /// Spike when `v − threshold = 0` exactly too. Default false.
    #[config(default = false)]
    pub fire_at_threshold: bool,
    /// Train the threshold (per neuron). Default false.
    #[config(default = false)]
    pub learn_threshold: bool,
}

impl IafConfig {
    /// The firing of this configuration: the reset at once, no refractoriness.
    pub fn firing_spec(&self) -> FiringSpec {
        FiringSpec {
            reset: self.reset,
            v_reset: self.v_reset as f32,
            surrogate: self.surrogate,
            fire_at_threshold: self.fire_at_threshold,
            detach_reset: self.detach_reset,
            reset_delay: false,
            spike_from_previous: false,
            refractory: None,
        }
    }

    /// SpikingJelly's `IFNode(v_threshold, v_reset)` (2.0.0): `h = v + x`, spikes at
    /// `h ≥ v_threshold` (non-strict), a hard reset to `v_reset` or, with `v_reset = None`, a
    /// soft (subtractive) reset; Sigmoid surrogate (alpha 4).
    pub fn from_spikingjelly(size: usize, v_threshold: f64, v_reset: Option<f64>) -> Self {
        let (reset, v_reset) = Reset::spikingjelly(v_reset);
        Self::new(size)
            .with_threshold(v_threshold)
            .with_v_reset(v_reset)
            .with_reset(reset)
            .with_fire_at_threshold(true)
            .with_surrogate(Surrogate::sigmoid())
    }

    /// mlGeNN's `IntegrateFire(v_thresh, v_reset)` (GeNN model code: `V += Isyn`, threshold
    /// condition `V >= Vthresh`, reset `V = Vreset`): the non-strict threshold and the reset to a
    /// value. mlGeNN's initial `v` is the state's (zero by default; set it in the state).
    pub fn mlgenn(size: usize, v_thresh: f64, v_reset: f64) -> Self {
        Self::new(size)
            .with_threshold(v_thresh)
            .with_v_reset(v_reset)
            .with_reset(Reset::ToValue)
            .with_fire_at_threshold(true)
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        positive("dt_ms", self.dt_ms)?;
        finite("threshold", self.threshold)?;
        finite("v_reset", self.v_reset)?;
        self.surrogate.validate()
    }

    /// Builds the layer on `device`, after [`IafConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<Iaf> {
        self.validate()?;
        Ok(Iaf {
            threshold: per_neuron(self.size, self.threshold, self.learn_threshold, device),
            v_reset_per_neuron: None,
            config: self.clone(),
        })
    }
}

/// A layer of integrate-and-fire neurons; see [`IafConfig`].
#[derive(Module, Debug)]
pub struct Iaf {
    /// Threshold per neuron, `[size]`.
    pub threshold: Param<Tensor<1>>,
    /// Reset potential per neuron, `[size]`, when
    /// [`with_v_reset`](super::PerNeuronPotentials::with_v_reset) gave one (a constant, not
    /// trained); `None`: the config's `v_reset`.
    v_reset_per_neuron: Option<Param<Tensor<1>>>,
    #[module(skip)]
    config: IafConfig,
}

/// State of an [`Iaf`] layer between steps.
#[derive(Clone, Debug)]
pub struct IafState {
    /// Membrane potential, `[batch, size]`.
    pub v: Tensor<2>,
}

impl IafState {
    /// The resting state `v = 0`.
    pub fn zeros(batch: usize, size: usize, device: &Device) -> Self {
        Self {
            v: Tensor::zeros([batch, size], device),
        }
    }
}

/// Output of [`Iaf`]'s [`Neuron::forward`].
pub type IafOutput<const D: usize> = NeuronOutput<IafState, D>;

impl<const D: usize> NeuronOutput<IafState, D> {
    /// The membrane after every step (after its reset), if recording was asked for.
    pub fn v(&self) -> Option<Tensor<D>> {
        self.traced(|s| s.v.clone())
    }
}

/// The per-step constants of an [`Iaf`] layer, resolved by [`Iaf::dynamics`].
#[derive(Clone, Debug)]
pub struct IafDynamics {
    firing: Firing,
}

/// One integrate-and-fire step, state in and state out (Norse's `iaf_feed_forward_step`).
pub fn iaf_step(
    input: Tensor<2>,
    state: IafState,
    dynamics: &IafDynamics,
) -> (Tensor<2>, IafState) {
    let (z, v) = dynamics
        .firing
        .step(state.v, |v| Membrane::Perfect.integrate(v, input));
    (z, IafState { v })
}

impl Iaf {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &IafConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The resting state for a batch, on the layer's device.
    pub fn init_state(&self, batch: usize) -> IafState {
        IafState::zeros(batch, self.size(), &self.threshold.val().device())
    }

    /// Resolves the threshold for [`iaf_step`].
    pub fn dynamics(&self) -> IafDynamics {
        IafDynamics {
            firing: Firing {
                threshold: self.threshold.val().unsqueeze::<2>(),
                spec: self.config.firing_spec(),
                v_reset: self
                    .v_reset_per_neuron
                    .as_ref()
                    .map(|v| v.val().unsqueeze::<2>()),
            },
        }
    }
}

/// Norse's tensor `v_th`, NIR's per-neuron `v_threshold`.
impl super::PerNeuronThreshold for Iaf {
    fn threshold_parts(&mut self) -> (usize, bool, &mut Param<Tensor<1>>) {
        (
            self.config.size,
            self.config.learn_threshold,
            &mut self.threshold,
        )
    }
}

/// `v_reset` per neuron (Norse's tensor `v_reset`, NIR's per-neuron `v_reset`); a perfect
/// integrator has no resting potential.
impl super::PerNeuronPotentials for Iaf {
    fn potential_parts(&mut self) -> super::PotentialParts<'_> {
        super::PotentialParts {
            size: self.size(),
            v_leak: None,
            v_reset: Some(&mut self.v_reset_per_neuron),
        }
    }
    fn potentials(&self) -> (Option<&Param<Tensor<1>>>, Option<&Param<Tensor<1>>>) {
        (None, self.v_reset_per_neuron.as_ref())
    }
}

impl NeuronState for IafState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors([&self.v], batch, size, context)
    }
}

impl StepLayer for Iaf {
    type State = IafState;
    type Prepared = IafDynamics;
    fn prepare(&self) -> IafDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> IafState {
        self.init_state(batch)
    }
    fn advance(&self, p: &IafDynamics, x: Tensor<2>, s: IafState) -> (Tensor<2>, IafState) {
        iaf_step(x, s, p)
    }
}

impl Neuron for Iaf {
    const CONTEXTS: Contexts = crate::neuron_contexts!("Iaf");
    fn neurons(&self) -> usize {
        self.size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_reset_changes_the_gradient_not_the_spikes() {
        let device = Device::flex().autodiff();
        let run = |detach: bool| {
            let iaf = IafConfig::new(1)
                .with_reset(Reset::Subtract)
                .with_detach_reset(detach)
                .with_surrogate(Surrogate::FastSigmoid { slope: 1.0 })
                .init(&device)
                .unwrap();
            let x =
                Tensor::<3>::from_floats([[[0.6], [0.6], [0.6], [0.6]]], &device).require_grad();
            let out = iaf.forward(x.clone()).unwrap();
            let grads = out.spikes.clone().sum().backward();
            let values = |t: Tensor<3>| t.into_data().try_to_vec::<f32>().unwrap();
            (values(out.spikes), values(x.grad(&grads).unwrap()))
        };
        let (z_attached, g_attached) = run(false);
        let (z_detached, g_detached) = run(true);
        // v: 0.6, 1.2 -> spike -> 0.2, 0.8, 1.4 -> spike
        assert_eq!(z_attached, vec![0.0, 1.0, 0.0, 1.0]);
        assert_eq!(z_attached, z_detached);
        assert_ne!(g_attached, g_detached);
        // detached: each input reaches every later spike through v alone:
        // dz_t/dx_s = 1/(1+|v_t - 1|)^2 for s <= t
        let d = |v: f32| 1.0 / (1.0 + (v - 1.0f32).abs()).powi(2);
        let (d0, d1, d2, d3) = (d(0.6), d(1.2), d(0.8), d(1.4));
        let want = [d0 + d1 + d2 + d3, d1 + d2 + d3, d2 + d3, d3];
        for (g, w) in g_detached.iter().zip(want) {
            assert!((g - w).abs() < 1e-5, "{g_detached:?} vs {want:?}");
        }
    }

    #[test]
    fn mlgenn_integrate_fire_by_hand() {
        let device = Device::flex();
        let x = Tensor::<3>::from_floats([[[0.5], [0.5], [0.25], [0.75], [1.0], [0.5]]], &device);
        let spikes = |config: IafConfig| {
            let out = config.init(&device).unwrap().forward(x.clone()).unwrap();
            out.spikes.into_data().try_to_vec::<f32>().unwrap()
        };
        // GeNN: V += Isyn; V >= Vthresh; V = Vreset. V: 0.5, 1.0 (fires, -> 0.2), 0.45,
        // 1.2 (fires), 1.2 (fires), 0.7
        let ml = spikes(IafConfig::mlgenn(1, 1.0, 0.2));
        assert_eq!(ml, vec![0.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
        // Norse's strict threshold misses V = 1.0 exactly: V 0.5, 1.0, 1.25 (fires, -> 0.2),
        // 0.95, 1.95 (fires), 0.7
        let strict = spikes(IafConfig::mlgenn(1, 1.0, 0.2).with_fire_at_threshold(false));
        assert_eq!(strict, vec![0.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
    }
}

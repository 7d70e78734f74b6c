//! The smallest complete new neuron model, as `docs/architecture.md` describes it: a quadratic
//! integrate-and-fire (QIF) layer built only from snn-core's public pieces. It gets the checked
//! `step`, the multi-step `forward`, typed shape errors and surrogate gradients from the shared
//! machinery, and the tests below hold it to that.

use burn::module::{Module, Param};
use burn::prelude::*;
use snn_core::lift::StepLayer;
use snn_core::neuron::{Contexts, Neuron, NeuronState, check_state_tensors};
use snn_core::{SnnError, Surrogate, neuron_contexts, spike};

use crate::common::values;

// ANCHOR: model
/// Configuration of a [`Qif`] layer.
#[derive(Config, Debug)]
pub struct QifConfig {
    /// Number of neurons.
    pub size: usize,
    /// Membrane time constant τ (ms). Default 10.
    #[config(default = 10.0)]
    pub tau_ms: f64,
    /// Time step (ms). Default 1.
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Spike cut-off `v_peak`. Default 1.
    #[config(default = 1.0)]
    pub v_peak: f64,
    /// Potential after a spike. Default −1.
    #[config(default = -1.0)]
    pub v_reset: f64,
    /// Surrogate derivative of the spike. Default SuperSpike.
    #[config(default = "Surrogate::superspike()")]
    pub surrogate: Surrogate,
}

impl QifConfig {
    /// Builds the layer; `tau_ms` and `dt_ms` must be positive.
    pub fn init(&self, device: &Device) -> snn_core::Result<Qif> {
        let dt = snn_core::error::positive("dt_ms", self.dt_ms)?;
        snn_core::error::positive("tau_ms", self.tau_ms)?;
        Ok(Qif {
            tau_ms: Param::from_tensor(Tensor::full([self.size], self.tau_ms, device)),
            dt_ms: dt,
            config: self.clone(),
        })
    }
}

/// Quadratic integrate-and-fire: `v ← v + (dt/τ)·(v² + I)`, a spike when `v > v_peak`, then
/// `v ← v_reset`. Its own type because the equation is not the leaky one.
#[derive(Module, Debug)]
pub struct Qif {
    /// τ per neuron, `[size]` (ms).
    pub tau_ms: Param<Tensor<1>>,
    dt_ms: f64,
    #[module(skip)]
    config: QifConfig,
}

/// The membrane between steps, `[batch, size]`.
#[derive(Clone, Debug)]
pub struct QifState {
    /// Membrane potential.
    pub v: Tensor<2>,
}

impl NeuronState for QifState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> snn_core::Result<()> {
        check_state_tensors([&self.v], batch, size, context)
    }
}

/// The pure step: one equation, written once.
pub fn qif_step(
    x: Tensor<2>,
    state: QifState,
    k: &Tensor<2>,
    c: &QifConfig,
) -> (Tensor<2>, QifState) {
    let v = state.v.clone() + (state.v.clone() * state.v + x) * k.clone();
    let z = spike(v.clone() - c.v_peak, c.surrogate);
    let v = v * z.clone().neg().add_scalar(1.0) + z.clone() * c.v_reset;
    (z, QifState { v })
}

impl StepLayer for Qif {
    type State = QifState;
    /// `dt/τ` as `[1, size]`, resolved once per sequence.
    type Prepared = Tensor<2>;
    fn prepare(&self) -> Tensor<2> {
        self.tau_ms.val().recip().mul_scalar(self.dt_ms).unsqueeze()
    }
    fn initial_state(&self, batch: usize) -> QifState {
        let device = self.tau_ms.val().device();
        QifState {
            v: Tensor::zeros([batch, self.config.size], &device),
        }
    }
    fn advance(&self, k: &Tensor<2>, x: Tensor<2>, s: QifState) -> (Tensor<2>, QifState) {
        qif_step(x, s, k, &self.config)
    }
}

impl Neuron for Qif {
    const CONTEXTS: Contexts = neuron_contexts!("Qif");
    fn neurons(&self) -> usize {
        self.config.size
    }
}
// ANCHOR_END: model

#[test]
fn a_new_model_gets_the_checked_forward_and_surrogate_gradients() {
    let device = Device::flex().autodiff();
    let qif = QifConfig::new(3).init(&device).unwrap();
    let x = Tensor::<3>::from_floats(
        [[
            [0.0, 0.5, 2.0],
            [0.0, 0.5, 2.0],
            [0.0, 0.5, 2.0],
            [0.0, 0.5, 2.0],
        ]],
        &device,
    )
    .require_grad();
    let out = Neuron::forward_with(&qif, x.clone(), None, true).unwrap();
    // by hand, dt/τ = 0.1: the third neuron v = 0.2, 0.404, 0.6204, 0.8589 ... the second slower
    let v = values(out.traced(|s| s.v.clone()).unwrap());
    assert!(
        (v[2] - 0.2).abs() < 1e-6 && (v[5] - 0.404).abs() < 1e-6,
        "{v:?}"
    );
    let z = values(out.spikes.clone());
    assert_eq!(z[..3], [0.0, 0.0, 0.0]);
    // enough drive fires and resets
    let strong = Tensor::<3>::ones([1, 6, 3], &device) * 6.0;
    let fired = values(Neuron::forward(&qif, strong).unwrap().spikes);
    assert!(fired.contains(&1.0), "{fired:?}");
    // gradients reach the input through the spike op's surrogate
    let grads = out.spikes.sum().backward();
    let gx = values(x.grad(&grads).unwrap());
    assert!(gx.iter().any(|g| *g != 0.0), "{gx:?}");
    // typed errors from the shared checks
    let err = Neuron::forward(&qif, Tensor::<3>::zeros([1, 4, 5], &device)).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
    let bad = QifState {
        v: Tensor::zeros([2, 3], &device),
    };
    let err = Neuron::step(&qif, Tensor::<2>::zeros([1, 3], &device), bad).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
    assert!(QifConfig::new(3).with_tau_ms(0.0).init(&device).is_err());
}

//! Spyx's neuron models (`spyx.nn`, Spyx 1.0.0) other than its LIF: LI, IF, ALIF, CuBaLIF.
//!
//! Spyx's `LIF` is a [`crate::Lif`]: [`crate::LifConfig::spyx`] sets the family's
//! `spike_from_previous` option (the spike read from the membrane of the previous step, the
//! surrogate gradient through the reset). The four here keep one layer type, [`Spyx`], because
//! their equations differ from the LIF family's: they are parametrized by decays per step that
//! are trained themselves and clipped to `[0, 1]` at every step, `IF` has no leak (no finite
//! `τ`), `ALIF` subtracts its *adapted* threshold, and `CuBaLIF` resets before the leak. They
//! share Spyx's update order and a state of at most two tensors; [`SpyxModel`] picks the
//! equations.

use super::layer::{per_neuron, per_neuron_values};
use burn::module::Param;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::layer::{Contexts, Neuron, NeuronState, check_state_tensors};
use super::leaky::Membrane;
use crate::error::{SnnError, finite, nonzero};
use crate::lift::StepLayer;
use crate::spike::spike_with;
use crate::surrogate::Surrogate;

/// Which of Spyx's neurons a [`Spyx`] layer is. With `θ` the threshold, `z` the spike and
/// `β, α, γ` the clipped decays, per step with input `x`:
///
/// ```text
/// If       z = H(V − θ);          V ← V + x − z·θ
/// Li       V ← β·V + x;           output V (no spike)
/// Alif     z = H(V − (θ + Th));   V ← β·V + x − z·(θ + Th);  Th ← γ·Th + (1 − γ)·z
/// CubaLif  z = H(V − θ);          V ← V − z·θ;  I ← α·I + x;  V ← β·V + I
/// ```
///
/// `H` is strict (`H(0) = 0`). Spyx classes `spyx.nn.IF`, `LI`, `ALIF`, `CuBaLIF`; `spyx.nn.LIF`
/// is [`crate::LifConfig::spyx`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SpyxModel {
    /// `spyx.nn.LI(layer_shape, beta)`: a non-spiking leaky readout.
    Li,
    /// `spyx.nn.IF(hidden_shape, threshold, activation)`.
    If,
    /// `spyx.nn.ALIF(hidden_shape, beta, gamma, threshold, activation)`: LIF with a threshold
    /// raised by `Th`, a low-pass filter of the spikes (Bellec et al. 2018).
    Alif,
    /// `spyx.nn.CuBaLIF(hidden_shape, alpha, beta, threshold, activation)`: current-based LIF.
    CubaLif,
}

impl SpyxModel {
    fn has_beta(self) -> bool {
        !matches!(self, Self::If)
    }
    fn spiking(self) -> bool {
        !matches!(self, Self::Li)
    }
}

/// Configuration of a [`Spyx`] layer; see [`SpyxModel`] for the equations.
///
/// Spyx counts time in steps: the decays `β`, `α`, `γ` are per-step factors (no `dt`). They are
/// clipped to `[0, 1]` at every step as Spyx does (so a learned decay that leaves the interval
/// stops there); a configured value outside `[0, 1]` is rejected. Spyx draws a decay left as
/// `None` from a truncated normal around 0.5 per neuron; here every decay is given (default 0.8,
/// Spyx's `LI` default, for `β`; 0.5 for `α` and `γ`) and is the same for all neurons at `init`.
/// Per-neuron values (the ones Spyx drew, or a trained Spyx model's) go in after `init` with
/// [`Spyx::with_beta`], [`Spyx::with_alpha`], [`Spyx::with_gamma`] and
/// [`PerNeuronThreshold::with_threshold`](super::PerNeuronThreshold::with_threshold).
#[derive(Config, Debug)]
pub struct SpyxConfig {
    /// Number of neurons: the product of the input's feature dimensions.
    pub size: usize,
    /// The model.
    pub model: SpyxModel,
    /// Membrane decay per step `β` in `[0, 1]` (all but `If`). Default 0.8.
    #[config(default = 0.8)]
    pub beta: f64,
    /// Synaptic current decay per step `α` in `[0, 1]` (`CubaLif`). Default 0.5.
    #[config(default = 0.5)]
    pub alpha: f64,
    /// Threshold adaptation decay per step `γ` in `[0, 1]` (`Alif`). Default 0.5.
    #[config(default = 0.5)]
    pub gamma: f64,
    /// Firing threshold `θ` (dimensionless; Spyx's `threshold`). Default 1.
    #[config(default = 1.0)]
    pub threshold: f64,
    /// Surrogate derivative of the spike. Default Spyx's `superspike(k=25)`, i.e.
    /// [`Surrogate::SuperSpike`] with `alpha = 25`; Spyx's `arctan(k)` is
    /// [`Surrogate::ArctanInvPi`].
    #[config(default = "Surrogate::SuperSpike { alpha: 25.0 }")]
    pub surrogate: Surrogate,
    /// Train the decays `β`, `α`, `γ` (per neuron), as Spyx's `nnx.Param`s are. Default false.
    #[config(default = false)]
    pub learn_decay: bool,
    /// Train the threshold (per neuron; Spyx keeps it fixed). Default false.
    #[config(default = false)]
    pub learn_threshold: bool,
}

impl SpyxConfig {
    /// `spyx.nn.LI((size,), beta=beta)`.
    pub fn li(size: usize, beta: f64) -> Self {
        Self::new(size, SpyxModel::Li).with_beta(beta)
    }
    /// `spyx.nn.IF((size,), threshold=1)`.
    pub fn if_(size: usize) -> Self {
        Self::new(size, SpyxModel::If)
    }
    /// `spyx.nn.ALIF((size,), beta=beta, gamma=gamma, threshold=1)`.
    pub fn alif(size: usize, beta: f64, gamma: f64) -> Self {
        Self::new(size, SpyxModel::Alif)
            .with_beta(beta)
            .with_gamma(gamma)
    }
    /// `spyx.nn.CuBaLIF((size,), alpha=alpha, beta=beta, threshold=1)`.
    pub fn cuba_lif(size: usize, alpha: f64, beta: f64) -> Self {
        Self::new(size, SpyxModel::CubaLif)
            .with_alpha(alpha)
            .with_beta(beta)
    }

    /// Checks every field the model uses; the error names the first bad one.
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("size", self.size)?;
        let decays = [
            ("beta", self.beta, self.model.has_beta()),
            ("alpha", self.alpha, self.model == SpyxModel::CubaLif),
            ("gamma", self.gamma, self.model == SpyxModel::Alif),
        ];
        for (field, value, used) in decays {
            if used && !(0.0..=1.0).contains(&value) {
                return Err(SnnError::out_of_range(field, "[0, 1]", value));
            }
        }
        finite("threshold", self.threshold)?;
        self.surrogate.validate()
    }

    /// Builds the layer on `device`, after [`SpyxConfig::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<Spyx> {
        self.validate()?;
        let decay = |value: f64, used: bool| {
            used.then(|| per_neuron(self.size, value, self.learn_decay, device))
        };
        Ok(Spyx {
            beta: decay(self.beta, self.model.has_beta()),
            alpha: decay(self.alpha, self.model == SpyxModel::CubaLif),
            gamma: decay(self.gamma, self.model == SpyxModel::Alif),
            threshold: per_neuron(self.size, self.threshold, self.learn_threshold, device),
            config: self.clone(),
        })
    }
}

/// A layer of Spyx neurons; see [`SpyxModel`] for the equations and [`SpyxConfig`] for the
/// parameters. The output of `forward` is the spikes, or the membrane for [`SpyxModel::Li`].
#[derive(Module, Debug)]
pub struct Spyx {
    /// Membrane decay per step, `[size]` (`None` for `If`).
    pub beta: Option<Param<Tensor<1>>>,
    /// Current decay per step, `[size]` (`CubaLif` only).
    pub alpha: Option<Param<Tensor<1>>>,
    /// Threshold adaptation decay per step, `[size]` (`Alif` only).
    pub gamma: Option<Param<Tensor<1>>>,
    /// Threshold `θ` per neuron, `[size]`.
    pub threshold: Param<Tensor<1>>,
    #[module(skip)]
    config: SpyxConfig,
}

/// State of a [`Spyx`] layer: the membrane and what the model carries beside it.
#[derive(Clone, Debug)]
pub struct SpyxState {
    /// Membrane potential `V`, `[batch, size]`.
    pub v: Tensor<2>,
    /// The second half of Spyx's concatenated state, by model.
    pub aux: SpyxAux,
}

/// What a Spyx model carries beside the membrane. A layer checks that a state given to it is
/// its model's kind ([`Neuron::check_state`]).
#[derive(Clone, Debug)]
pub enum SpyxAux {
    /// Nothing: `Li`, `If`.
    None,
    /// The threshold adaptation `Th`, `[batch, size]`: `Alif`.
    Threshold(Tensor<2>),
    /// The synaptic current `I`, `[batch, size]`: `CubaLif`.
    Current(Tensor<2>),
}

impl SpyxAux {
    fn tensor(&self) -> Option<&Tensor<2>> {
        match self {
            Self::None => None,
            Self::Threshold(t) | Self::Current(t) => Some(t),
        }
    }

    /// Whether this is what `model` carries.
    fn belongs_to(&self, model: SpyxModel) -> bool {
        matches!(
            (self, model),
            (Self::None, SpyxModel::Li | SpyxModel::If)
                | (Self::Threshold(_), SpyxModel::Alif)
                | (Self::Current(_), SpyxModel::CubaLif)
        )
    }
}

impl SpyxState {
    /// The resting state of `model`: everything 0, as Spyx's `initial_state`.
    pub fn zeros(batch: usize, size: usize, model: SpyxModel, device: &Device) -> Self {
        let v = Tensor::zeros([batch, size], device);
        let aux = match model {
            SpyxModel::Alif => SpyxAux::Threshold(v.clone()),
            SpyxModel::CubaLif => SpyxAux::Current(v.clone()),
            SpyxModel::Li | SpyxModel::If => SpyxAux::None,
        };
        Self { v, aux }
    }

    /// A state given in Spyx's layout (what a Spyx model's `initial_state` returns or a Spyx
    /// step hands on): `V` `[batch, size]` for `Li` and `If`, `concat([V, Th], -1)` or
    /// `concat([V, I], -1)` `[batch, 2·size]` for `Alif` and `CubaLif`. The inverse of
    /// [`SpyxState::concat`].
    ///
    /// # Errors
    /// [`SnnError::Rejected`] when an `Alif` or `CubaLif` state has an odd width (it cannot be
    /// two halves).
    pub fn from_concat(state: Tensor<2>, model: SpyxModel) -> crate::Result<Self> {
        let [batch, width] = state.dims();
        let halves = || {
            if width % 2 == 1 {
                return Err(SnnError::Rejected {
                    field: "SpyxState::from_concat",
                    reason: format!(
                        "a {model:?} state is concat([V, aux]), two halves; got width {width}"
                    ),
                });
            }
            let half = width / 2;
            Ok((
                state.clone().slice([0..batch, 0..half]),
                state.clone().slice([0..batch, half..width]),
            ))
        };
        Ok(match model {
            SpyxModel::Li | SpyxModel::If => Self {
                v: state.clone(),
                aux: SpyxAux::None,
            },
            SpyxModel::Alif => {
                let (v, th) = halves()?;
                Self {
                    v,
                    aux: SpyxAux::Threshold(th),
                }
            }
            SpyxModel::CubaLif => {
                let (v, i) = halves()?;
                Self {
                    v,
                    aux: SpyxAux::Current(i),
                }
            }
        })
    }

    /// The state in Spyx's layout: `V`, or `concat([V, Th], -1)` / `concat([V, I], -1)`,
    /// `[batch, size]` or `[batch, 2·size]`.
    pub fn concat(&self) -> Tensor<2> {
        match self.aux.tensor() {
            Some(aux) => Tensor::cat(vec![self.v.clone(), aux.clone()], 1),
            None => self.v.clone(),
        }
    }
}

impl NeuronState for SpyxState {
    fn check(&self, batch: usize, size: usize, context: &'static str) -> crate::Result<()> {
        check_state_tensors(
            [&self.v].into_iter().chain(self.aux.tensor()),
            batch,
            size,
            context,
        )
    }
}

/// The per-step constants of a [`Spyx`] layer: the clipped decays (`[1, size]`).
#[derive(Clone, Debug)]
pub struct SpyxDynamics {
    model: SpyxModel,
    /// `β·V + input`, or `V + input` for `If`.
    membrane: Membrane,
    alpha: Option<Tensor<2>>,
    gamma: Option<Tensor<2>>,
    threshold: Tensor<2>,
    surrogate: Surrogate,
}

/// One Spyx step, state in and state out (the `__call__` of `spyx.nn.LIF` and the others):
/// `input` and the state are `[batch, size]`; returns the spikes (the membrane for `Li`) and the
/// new state. The surrogate gradient flows through the reset, as in Spyx.
///
/// No checks: [`Neuron::step`] is the checked entry point (it also checks that the state is
/// the model's kind; here a state of another kind panics).
pub fn spyx_step(
    input: Tensor<2>,
    state: SpyxState,
    dynamics: &SpyxDynamics,
) -> (Tensor<2>, SpyxState) {
    let d = dynamics;
    let spike = |v: Tensor<2>| spike_with(v, d.surrogate, false);
    let SpyxState { v, aux } = state;
    match d.model {
        SpyxModel::Li => {
            let v = d.membrane.integrate(v, input);
            (v.clone(), SpyxState { v, aux })
        }
        SpyxModel::If => {
            let z = spike(v.clone() - d.threshold.clone());
            let v = d.membrane.integrate(v, input) - z.clone() * d.threshold.clone();
            (z, SpyxState { v, aux })
        }
        SpyxModel::Alif => {
            let SpyxAux::Threshold(th) = aux else {
                panic!("spyx_step: an Alif layer needs a SpyxAux::Threshold state")
            };
            let gamma = d.gamma.clone().expect("Alif has gamma");
            let thresh = th.clone() + d.threshold.clone();
            let z = spike(v.clone() - thresh.clone());
            let v = d.membrane.integrate(v, input) - z.clone() * thresh;
            let th = gamma.clone() * th + gamma.neg().add_scalar(1.0) * z.clone();
            (
                z,
                SpyxState {
                    v,
                    aux: SpyxAux::Threshold(th),
                },
            )
        }
        SpyxModel::CubaLif => {
            let SpyxAux::Current(i) = aux else {
                panic!("spyx_step: a CubaLif layer needs a SpyxAux::Current state")
            };
            let alpha = d.alpha.clone().expect("CubaLif has alpha");
            let z = spike(v.clone() - d.threshold.clone());
            let v = v - z.clone() * d.threshold.clone();
            let i = alpha * i + input;
            let v = d.membrane.integrate(v, i.clone());
            (
                z,
                SpyxState {
                    v,
                    aux: SpyxAux::Current(i),
                },
            )
        }
    }
}

impl Spyx {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &SpyxConfig {
        &self.config
    }

    /// Number of neurons.
    pub fn size(&self) -> usize {
        self.config.size
    }

    /// The resting state for a batch, on the layer's device.
    pub fn init_state(&self, batch: usize) -> SpyxState {
        let device = self.threshold.val().device();
        SpyxState::zeros(batch, self.size(), self.config.model, &device)
    }

    /// Resolves the clipped decays for [`spyx_step`].
    pub fn dynamics(&self) -> SpyxDynamics {
        let clipped = |p: &Option<Param<Tensor<1>>>| {
            p.as_ref().map(|p| p.val().clamp(0.0, 1.0).unsqueeze::<2>())
        };
        let membrane = match clipped(&self.beta) {
            Some(beta) => Membrane::Exact {
                beta,
                gain: None,
                rest: None,
            },
            None => Membrane::Perfect,
        };
        SpyxDynamics {
            model: self.config.model,
            membrane,
            alpha: clipped(&self.alpha),
            gamma: clipped(&self.gamma),
            threshold: self.threshold.val().unsqueeze::<2>(),
            surrogate: self.config.surrogate,
        }
    }

    /// Whether the layer spikes (all but `Li`, whose output is its membrane).
    pub fn spiking(&self) -> bool {
        self.config.model.spiking()
    }

    /// The same layer with one membrane decay `β` per neuron, `[size]`, each in `[0, 1]`. Spyx
    /// draws its decays per neuron when a model is built without them (`beta=None`), and a
    /// trained Spyx model has them per neuron; the values keep the config's `learn_decay`.
    ///
    /// # Errors
    /// [`SnnError::ShapeMismatch`] unless `[size]`, [`SnnError::OutOfRange`] outside `[0, 1]`,
    /// [`SnnError::Rejected`] for `If` (no `β`).
    pub fn with_beta(self, beta: Tensor<1>) -> crate::Result<Self> {
        self.with_decay("beta", beta, |layer| &mut layer.beta)
    }

    /// The same layer with one synaptic current decay `α` per neuron (`CubaLif` only); as
    /// [`Spyx::with_beta`].
    ///
    /// # Errors
    /// As [`Spyx::with_beta`]; [`SnnError::Rejected`] for the models without `α`.
    pub fn with_alpha(self, alpha: Tensor<1>) -> crate::Result<Self> {
        self.with_decay("alpha", alpha, |layer| &mut layer.alpha)
    }

    /// The same layer with one threshold adaptation decay `γ` per neuron (`Alif` only); as
    /// [`Spyx::with_beta`].
    ///
    /// # Errors
    /// As [`Spyx::with_beta`]; [`SnnError::Rejected`] for the models without `γ`.
    pub fn with_gamma(self, gamma: Tensor<1>) -> crate::Result<Self> {
        self.with_decay("gamma", gamma, |layer| &mut layer.gamma)
    }

    /// Sets the decay `field` (the parameter `slot` picks) per neuron, if the model has it.
    fn with_decay(
        mut self,
        field: &'static str,
        values: Tensor<1>,
        slot: impl Fn(&mut Self) -> &mut Option<Param<Tensor<1>>>,
    ) -> crate::Result<Self> {
        let (size, learn, model) = (self.size(), self.config.learn_decay, self.config.model);
        let Some(param) = slot(&mut self).as_mut() else {
            return Err(SnnError::Rejected {
                field,
                reason: format!("a {model:?} layer has no `{field}`"),
            });
        };
        *param = per_neuron_values(field, values, size, learn, |v| {
            if (0.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(SnnError::out_of_range(field, "[0, 1]", v))
            }
        })?;
        Ok(self)
    }
}

impl super::PerNeuronThreshold for Spyx {
    fn threshold_parts(&mut self) -> (usize, bool, &mut Param<Tensor<1>>) {
        (
            self.config.size,
            self.config.learn_threshold,
            &mut self.threshold,
        )
    }
}

impl StepLayer for Spyx {
    type State = SpyxState;
    type Prepared = SpyxDynamics;
    fn prepare(&self) -> SpyxDynamics {
        self.dynamics()
    }
    fn initial_state(&self, batch: usize) -> SpyxState {
        self.init_state(batch)
    }
    fn advance(&self, p: &SpyxDynamics, x: Tensor<2>, s: SpyxState) -> (Tensor<2>, SpyxState) {
        spyx_step(x, s, p)
    }
}

impl Neuron for Spyx {
    const CONTEXTS: Contexts = crate::neuron_contexts!("Spyx");
    fn neurons(&self) -> usize {
        self.size()
    }
    fn check_state(
        &self,
        state: &SpyxState,
        batch: usize,
        context: &'static str,
    ) -> crate::Result<()> {
        if !state.aux.belongs_to(self.config.model) {
            let kind = |aux: &SpyxAux| match aux {
                SpyxAux::None => "SpyxAux::None",
                SpyxAux::Threshold(_) => "SpyxAux::Threshold",
                SpyxAux::Current(_) => "SpyxAux::Current",
            };
            let want = match self.config.model {
                SpyxModel::Alif => "SpyxAux::Threshold",
                SpyxModel::CubaLif => "SpyxAux::Current",
                SpyxModel::Li | SpyxModel::If => "SpyxAux::None",
            };
            return Err(SnnError::Rejected {
                field: context,
                reason: format!(
                    "a {:?} layer's state carries {}, got {}",
                    self.config.model,
                    want,
                    kind(&state.aux)
                ),
            });
        }
        state.check(batch, self.size(), context)
    }
}

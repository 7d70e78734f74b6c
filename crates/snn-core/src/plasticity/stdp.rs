//! Spike-timing-dependent plasticity (STDP) with pre- and postsynaptic traces, as Norse's
//! `norse.torch.functional.stdp` (`STDPParameters`, `STDPState`, `stdp_step_linear`,
//! `stdp_step_conv2d`).
//!
//! Per step of `dt_ms`, with presynaptic spikes `z_pre`, postsynaptic spikes `z_post` and the
//! weight `w` (the update order is Norse's: traces first, then the weight, from the new traces):
//!
//! ```text
//! t_pre  ← t_pre  + dt/τ_pre ·(a_pre ·z_pre  − t_pre)      (forward Euler)
//! t_post ← t_post + dt/τ_post·(a_post·z_post − t_post)
//! Δw⁺ = A⁺(w) · Σ_batch z_post ⊗ t_pre                      (post spike after pre activity: LTP)
//! Δw⁻ = A⁻(w) · Σ_batch t_post ⊗ z_pre                      (pre spike after post activity: LTD)
//! w ← w + (Δw⁺ − Δw⁻),  then clamp to [w_min, w_max] if `hardbound`
//! ```
//!
//! `A⁺`/`A⁻` (the weight dependence) are given by [`StdpAlgorithm`]. The convolutional rule sums
//! the same products over every output position of the kernel (Norse's `unfold` + `einsum`).
//!
//! ```
//! use burn::prelude::*;
//! use snn_core::plasticity::{StdpConfig, StdpLinear};
//!
//! let device = Device::flex();
//! let config = StdpConfig::new().with_eta_plus(0.1).with_eta_minus(0.05);
//! let mut syn = StdpLinear::new(Tensor::full([1, 2], 0.5, &device), config).unwrap();
//! let mut traces = syn.init_state(1);
//! let pre = Tensor::<2>::from_floats([[1.0, 0.0]], &device);
//! let post = Tensor::<2>::from_floats([[1.0]], &device);
//! let silent = Tensor::<2>::zeros([1, 1], &device);
//! traces = syn.learn(pre, silent, traces).unwrap();          // input 0 fires
//! let nothing = Tensor::<2>::zeros([1, 2], &device);
//! traces = syn.learn(nothing, post, traces).unwrap();        // then the neuron fires
//! let w = syn.weight().into_data().try_to_vec::<f32>().unwrap();
//! assert!(w[0] > 0.5 && w[1] == 0.5);                        // only the causal input grew
//! # let _ = traces;
//! ```

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::module::unfold4d;
use burn::tensor::ops::UnfoldOptions;
use serde::{Deserialize, Serialize};

use crate::error::{SnnError, euler_time_constant, finite, nonzero, positive};
use crate::spike::heaviside;

/// How the size of an STDP update depends on the current weight (Norse's `stdp_algorithm`).
///
/// The serde names are Norse's strings (`"additive"`, `"additive_step"`,
/// `"multiplicative_pow"`, `"multiplicative_relu"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StdpAlgorithm {
    /// `A⁺ = η⁺`, `A⁻ = η⁻`: weight-independent (bounded only by the hard clamp).
    Additive,
    /// `A⁺ = η⁺·H(w_max − w)`, `A⁻ = η⁻·H(w − w_min)` with `H(0) = 0`: no update past a bound.
    AdditiveStep,
    /// `A⁺ = η⁺·(w_max − w)^μ`, `A⁻ = η⁻·(w − w_min)^μ`: soft bounds of strength `μ`
    /// (`μ = 0` is additive, `μ = 1` multiplicative). A base below 0 (a weight outside the
    /// bounds, possible only without `hardbound`) is taken as 0, where torch gives NaN.
    MultiplicativePow,
    /// `A⁺ = η⁺·relu(w_max − w)`, `A⁻ = η⁻·relu(w − w_min)`: `μ = 1` soft bounds.
    MultiplicativeRelu,
}

impl StdpAlgorithm {
    /// Every variant, in the order of [`StdpAlgorithm::NAMES`].
    pub const ALL: [Self; 4] = [
        Self::Additive,
        Self::AdditiveStep,
        Self::MultiplicativePow,
        Self::MultiplicativeRelu,
    ];
    /// Norse's names of the variants.
    pub const NAMES: [&'static str; 4] = [
        "additive",
        "additive_step",
        "multiplicative_pow",
        "multiplicative_relu",
    ];

    /// The variant with Norse's name `name`, or [`SnnError::UnknownName`].
    pub fn from_name(name: &str) -> crate::Result<Self> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|k| Self::ALL[k])
            .ok_or_else(|| SnnError::UnknownName {
                what: "STDP algorithm",
                name: name.to_string(),
                known: Self::NAMES.join(", "),
            })
    }

    /// Norse's name of the variant.
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|a| *a == self).unwrap_or(0)]
    }
}

/// Parameters of the STDP rule (Norse's `STDPParameters`, with time constants in ms).
///
/// See the [module docs](self) for the equations. The defaults are Norse's: traces with
/// `τ = 50 ms` (`tau_*_inv = 1/50e-3 /s`) and amplitude 1, weights in `[0, 1]`, learning rates
/// `1e-3`, additive rule, hard bounds, `dt = 1 ms`.
///
/// Norse's `convolutional` flag only decides whether `stride`/`padding`/`dilation` are stored;
/// here they always are, and the step function called ([`stdp_step_linear`] or
/// [`stdp_step_conv2d`]) picks the connectivity.
#[derive(Config, Debug)]
pub struct StdpConfig {
    /// Jump of the presynaptic trace per presynaptic spike (`a_pre`). Default 1.
    #[config(default = 1.0)]
    pub a_pre: f64,
    /// Jump of the postsynaptic trace per postsynaptic spike (`a_post`). Default 1.
    #[config(default = 1.0)]
    pub a_post: f64,
    /// Time constant of the presynaptic trace in ms. Default 50 (Norse `tau_pre_inv = 20 /s`).
    #[config(default = 50.0)]
    pub tau_pre_ms: f64,
    /// Time constant of the postsynaptic trace in ms. Default 50 (Norse `tau_post_inv = 20 /s`).
    #[config(default = 50.0)]
    pub tau_post_ms: f64,
    /// Integration step in ms. Default 1 (Norse `dt = 0.001 s`).
    #[config(default = 1.0)]
    pub dt_ms: f64,
    /// Lower weight bound (dimensionless, like the weights). Default 0.
    #[config(default = 0.0)]
    pub w_min: f64,
    /// Upper weight bound; must exceed `w_min`. Default 1.
    #[config(default = 1.0)]
    pub w_max: f64,
    /// Learning rate of potentiation `η⁺` (per pre-then-post pairing, times the trace). Default 1e-3.
    #[config(default = 1e-3)]
    pub eta_plus: f64,
    /// Learning rate of depression `η⁻`. Default 1e-3.
    #[config(default = 1e-3)]
    pub eta_minus: f64,
    /// Weight dependence of the update. Default [`StdpAlgorithm::Additive`].
    #[config(default = "StdpAlgorithm::Additive")]
    pub algorithm: StdpAlgorithm,
    /// Exponent `μ >= 0` of [`StdpAlgorithm::MultiplicativePow`] (ignored by the others, as Norse
    /// fixes it to 0 for the additive rules and 1 for `multiplicative_relu`). Default 0.
    #[config(default = 0.0)]
    pub mu: f64,
    /// Clamp the weights to `[w_min, w_max]` after every update. Default true.
    #[config(default = true)]
    pub hardbound: bool,
    /// Convolution stride `[h, w]` (conv2d rule only). Default `[1, 1]`.
    #[config(default = "[1, 1]")]
    pub stride: [usize; 2],
    /// Zero padding `[h, w]` (conv2d rule only). Default `[0, 0]`.
    #[config(default = "[0, 0]")]
    pub padding: [usize; 2],
    /// Kernel dilation `[h, w]` (conv2d rule only). Default `[1, 1]`.
    #[config(default = "[1, 1]")]
    pub dilation: [usize; 2],
}

impl StdpConfig {
    /// Norse's parametrization: inverse trace time constants in 1/s and `dt` in s
    /// (`STDPParameters(tau_pre_inv, tau_post_inv)`, `dt = 0.001`); the rest keeps its defaults.
    pub fn from_norse(tau_pre_inv: f64, tau_post_inv: f64, dt_s: f64) -> crate::Result<Self> {
        let tau_pre_inv = positive("tau_pre_inv", tau_pre_inv)?;
        let tau_post_inv = positive("tau_post_inv", tau_post_inv)?;
        let dt_s = positive("dt", dt_s)?;
        Ok(Self::new()
            .with_dt_ms(dt_s * 1e3)
            .with_tau_pre_ms(1e3 / tau_pre_inv)
            .with_tau_post_ms(1e3 / tau_post_inv))
    }

    /// Checks every field; the error names the first bad one.
    ///
    /// Forward Euler needs `dt <= τ` for both traces (beyond it a trace overshoots zero).
    pub fn validate(&self) -> crate::Result<()> {
        let dt = positive("dt_ms", self.dt_ms)?;
        for (field, tau) in [
            ("tau_pre_ms", self.tau_pre_ms),
            ("tau_post_ms", self.tau_post_ms),
        ] {
            euler_time_constant(field, tau, dt)?;
        }
        finite("a_pre", self.a_pre)?;
        finite("a_post", self.a_post)?;
        let w_min = finite("w_min", self.w_min)?;
        let w_max = finite("w_max", self.w_max)?;
        if w_min >= w_max {
            return Err(SnnError::Invalid {
                field: "w_min",
                value: w_min,
                reason: format!("the lower weight bound must be below w_max = {w_max}"),
            });
        }
        for (field, value) in [
            ("eta_plus", self.eta_plus),
            ("eta_minus", self.eta_minus),
            ("mu", self.mu),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(SnnError::out_of_range(field, "[0, inf)", value));
            }
        }
        for k in 0..2 {
            nonzero("stride", self.stride[k])?;
            nonzero("dilation", self.dilation[k])?;
        }
        Ok(())
    }

    /// Validates the config and resolves it for [`stdp_step_linear`] / [`stdp_step_conv2d`].
    pub fn dynamics(&self) -> crate::Result<StdpDynamics> {
        self.validate()?;
        Ok(StdpDynamics {
            k_pre: (self.dt_ms / self.tau_pre_ms) as f32,
            k_post: (self.dt_ms / self.tau_post_ms) as f32,
            a_pre: self.a_pre as f32,
            a_post: self.a_post as f32,
            w_min: self.w_min as f32,
            w_max: self.w_max as f32,
            eta_plus: self.eta_plus as f32,
            eta_minus: self.eta_minus as f32,
            algorithm: self.algorithm,
            mu: self.mu as f32,
            hardbound: self.hardbound,
            unfold: UnfoldOptions::new(self.stride, self.padding, self.dilation),
        })
    }
}

/// A validated [`StdpConfig`], resolved once: what the step functions use.
#[derive(Clone, Debug)]
pub struct StdpDynamics {
    k_pre: f32,
    k_post: f32,
    a_pre: f32,
    a_post: f32,
    w_min: f32,
    w_max: f32,
    eta_plus: f32,
    eta_minus: f32,
    algorithm: StdpAlgorithm,
    mu: f32,
    hardbound: bool,
    unfold: UnfoldOptions,
}

impl StdpDynamics {
    /// One Euler step of both traces (Norse `STDPState.decay`).
    fn traces<const D: usize>(
        &self,
        z_pre: Tensor<D>,
        z_post: Tensor<D>,
        state: StdpState<D>,
    ) -> StdpState<D> {
        let step = |t: Tensor<D>, z: Tensor<D>, a: f32, k: f32| {
            t.clone() + (z.mul_scalar(a) - t).mul_scalar(k)
        };
        StdpState {
            t_pre: step(state.t_pre, z_pre, self.a_pre, self.k_pre),
            t_post: step(state.t_post, z_post, self.a_post, self.k_post),
        }
    }

    /// `w + (A⁺(w)·corr⁺ − A⁻(w)·corr⁻)`, clamped if `hardbound`.
    fn update<const D: usize>(
        &self,
        w: Tensor<D>,
        corr_plus: Tensor<D>,
        corr_minus: Tensor<D>,
    ) -> Tensor<D> {
        // distances to the bounds, the arguments of the weight dependence
        let room_up = || w.clone().neg().add_scalar(self.w_max);
        let room_down = || w.clone().sub_scalar(self.w_min);
        let (dw_plus, dw_minus) = match self.algorithm {
            StdpAlgorithm::Additive => (corr_plus, corr_minus),
            StdpAlgorithm::AdditiveStep => (
                corr_plus * heaviside(room_up(), false),
                corr_minus * heaviside(room_down(), false),
            ),
            // torch's pow(x, 0) is 1 for every x, including 0 and negatives
            StdpAlgorithm::MultiplicativePow if self.mu == 0.0 => (corr_plus, corr_minus),
            StdpAlgorithm::MultiplicativePow => (
                corr_plus * room_up().clamp_min(0.0).powf_scalar(self.mu),
                corr_minus * room_down().clamp_min(0.0).powf_scalar(self.mu),
            ),
            StdpAlgorithm::MultiplicativeRelu => (
                corr_plus * room_up().clamp_min(0.0),
                corr_minus * room_down().clamp_min(0.0),
            ),
        };
        let w =
            w.clone() + (dw_plus.mul_scalar(self.eta_plus) - dw_minus.mul_scalar(self.eta_minus));
        if self.hardbound {
            w.clamp(self.w_min, self.w_max)
        } else {
            w
        }
    }
}

/// The traces of an STDP rule (Norse's `STDPState`): `t_pre` shaped like the presynaptic
/// spikes, `t_post` like the postsynaptic ones (`[batch, n]` for the linear rule,
/// `[batch, channels, h, w]` for the conv2d rule).
#[derive(Clone, Debug)]
pub struct StdpState<const D: usize> {
    /// Presynaptic trace.
    pub t_pre: Tensor<D>,
    /// Postsynaptic trace.
    pub t_post: Tensor<D>,
}

impl<const D: usize> StdpState<D> {
    /// Zero traces for presynaptic spikes of shape `pre` and postsynaptic spikes of shape `post`.
    pub fn zeros(pre: [usize; D], post: [usize; D], device: &Device) -> Self {
        Self {
            t_pre: Tensor::zeros(pre, device),
            t_post: Tensor::zeros(post, device),
        }
    }
}

fn expect_shape<const D: usize>(
    t: &Tensor<D>,
    want: [usize; D],
    context: &'static str,
    layout: &str,
) -> crate::Result<()> {
    let got = t.dims();
    if got == want {
        Ok(())
    } else {
        Err(SnnError::ShapeMismatch {
            context,
            expected: format!("{layout} = {want:?}"),
            actual: got.to_vec(),
        })
    }
}

/// One STDP step for dense connectivity (Norse `stdp_step_linear`), state in and state out.
///
/// `z_pre`: `[batch, pre]`, `z_post`: `[batch, post]` (0/1 spikes), `w`: `[post, pre]` (burn's
/// and torch's `Linear` weight layout is `[out, in]`; note that burn's `Linear` stores
/// `[in, out]`), `state` traces `[batch, pre]` / `[batch, post]`. Returns the new weight and
/// traces. The products are summed over the batch, as Norse's `einsum("bi,bj->ij")`. Nothing is
/// tracked for autodiff: every input is detached.
///
/// Errors: [`SnnError::ShapeMismatch`] naming the argument whose shape disagrees.
pub fn stdp_step_linear(
    z_pre: Tensor<2>,
    z_post: Tensor<2>,
    w: Tensor<2>,
    state: StdpState<2>,
    dynamics: &StdpDynamics,
) -> crate::Result<(Tensor<2>, StdpState<2>)> {
    let [batch, pre] = z_pre.dims();
    let [post_batch, post] = z_post.dims();
    if post_batch != batch {
        return Err(SnnError::ShapeMismatch {
            context: "stdp_step_linear z_post",
            expected: format!("[batch = {batch}, post]"),
            actual: vec![post_batch, post],
        });
    }
    expect_shape(&w, [post, pre], "stdp_step_linear w", "[post, pre]")?;
    expect_shape(
        &state.t_pre,
        [batch, pre],
        "stdp_step_linear state.t_pre",
        "[batch, pre]",
    )?;
    expect_shape(
        &state.t_post,
        [batch, post],
        "stdp_step_linear state.t_post",
        "[batch, post]",
    )?;
    let (z_pre, z_post) = (z_pre.detach(), z_post.detach());
    let state = StdpState {
        t_pre: state.t_pre.detach(),
        t_post: state.t_post.detach(),
    };
    let state = dynamics.traces(z_pre.clone(), z_post.clone(), state);
    // Σ_b z_post[b, i]·t_pre[b, j] and Σ_b t_post[b, i]·z_pre[b, j]: [post, pre]
    let corr_plus = z_post.transpose().matmul(state.t_pre.clone());
    let corr_minus = state.t_post.clone().transpose().matmul(z_pre);
    Ok((dynamics.update(w.detach(), corr_plus, corr_minus), state))
}

/// One STDP step for 2-D convolutional connectivity (Norse `stdp_step_conv2d`).
///
/// `z_pre`: `[batch, in_ch, h, w]`, `z_post`: `[batch, out_ch, h_out, w_out]` where
/// `h_out = (h + 2·padding − dilation·(kh − 1) − 1)/stride + 1` (likewise `w_out`), the
/// kernel `w`: `[out_ch, in_ch, kh, kw]` (burn's and torch's `Conv2d` layout), traces shaped like
/// the spikes. Stride, padding and dilation come from the config. Each kernel entry sums the
/// pairings of every output position with the input it sees there (torch's `unfold`, here
/// burn's [`unfold4d`]) and over the batch. Nothing is tracked for autodiff.
///
/// Errors: [`SnnError::ShapeMismatch`] naming the argument whose shape disagrees.
pub fn stdp_step_conv2d(
    z_pre: Tensor<4>,
    z_post: Tensor<4>,
    w: Tensor<4>,
    state: StdpState<4>,
    dynamics: &StdpDynamics,
) -> crate::Result<(Tensor<4>, StdpState<4>)> {
    let [batch, in_ch, h, wd] = z_pre.dims();
    let [out_ch, w_in, kh, kw] = w.dims();
    if w_in != in_ch {
        return Err(SnnError::ShapeMismatch {
            context: "stdp_step_conv2d w",
            expected: format!("[out_ch, in_ch = {in_ch}, kh, kw]"),
            actual: w.dims().to_vec(),
        });
    }
    let o = &dynamics.unfold;
    let out_len = |size: usize, k: usize, d: usize| {
        let span = o.dilation[d] * (k - 1) + 1;
        let padded = size + 2 * o.padding[d];
        (k > 0 && padded >= span).then(|| (padded - span) / o.stride[d] + 1)
    };
    let (Some(h_out), Some(w_out)) = (out_len(h, kh, 0), out_len(wd, kw, 1)) else {
        return Err(SnnError::ShapeMismatch {
            context: "stdp_step_conv2d w",
            expected: format!("a kernel of at least 1x1 that fits the padded input {h}x{wd}"),
            actual: w.dims().to_vec(),
        });
    };
    let post = [batch, out_ch, h_out, w_out];
    let layout = "[batch, out_ch, h_out, w_out]";
    expect_shape(&z_post, post, "stdp_step_conv2d z_post", layout)?;
    let pre = [batch, in_ch, h, wd];
    expect_shape(
        &state.t_pre,
        pre,
        "stdp_step_conv2d state.t_pre",
        "[batch, in_ch, h, w]",
    )?;
    expect_shape(&state.t_post, post, "stdp_step_conv2d state.t_post", layout)?;

    let (z_pre, z_post) = (z_pre.detach(), z_post.detach());
    let state = StdpState {
        t_pre: state.t_pre.detach(),
        t_post: state.t_post.detach(),
    };
    let state = dynamics.traces(z_pre.clone(), z_post.clone(), state);
    let positions = h_out * w_out;
    // [batch, in_ch·kh·kw, positions], channel-major as torch's unfold
    let patches = |x: Tensor<4>| unfold4d(x, [kh, kw], o.clone()).swap_dims(1, 2);
    let per_position = |x: Tensor<4>| x.reshape([batch, out_ch, positions]);
    let correlate = |post: Tensor<4>, pre: Tensor<4>| {
        per_position(post)
            .matmul(patches(pre))
            .sum_dim(0)
            .reshape([out_ch, in_ch, kh, kw])
    };
    let corr_plus = correlate(z_post, state.t_pre.clone());
    let corr_minus = correlate(state.t_post.clone(), z_pre);
    Ok((dynamics.update(w.detach(), corr_plus, corr_minus), state))
}

/// Synapses that learn by STDP while the network runs: dense ([`StdpLinear`], weight
/// `[post, pre]`) or 2-D convolutional ([`StdpConv2d`], weight `[out_ch, in_ch, kh, kw]`).
///
/// `forward` gives the postsynaptic input; after the postsynaptic layer has spiked, `learn`
/// applies one [`stdp_step_linear`] / [`stdp_step_conv2d`] to the weight in place. The weight is
/// a [`Param`] (so it is saved and moved with the module) that never requires a gradient: STDP
/// is a local rule, no autodiff device is needed.
#[derive(Module, Debug)]
pub struct Stdp<const D: usize> {
    /// The weight: `[post, pre]` (dense) or `[out_ch, in_ch, kh, kw]` (conv2d).
    pub weight: Param<Tensor<D>>,
    #[module(skip)]
    config: StdpConfig,
    #[module(skip)]
    dynamics: StdpDynamics,
}

/// Dense STDP synapses, weight `[post, pre]`.
pub type StdpLinear = Stdp<2>;
/// 2-D convolutional STDP synapses, weight `[out_ch, in_ch, kh, kw]`; stride, padding and
/// dilation come from the [`StdpConfig`].
pub type StdpConv2d = Stdp<4>;

impl<const D: usize> Stdp<D> {
    /// Synapses with the initial `weight` and the rule `config` (validated).
    pub fn new(weight: Tensor<D>, config: StdpConfig) -> crate::Result<Self> {
        let dynamics = config.dynamics()?;
        Ok(Self {
            weight: Param::from_tensor(weight.detach()).set_require_grad(false),
            config,
            dynamics,
        })
    }

    /// The rule's configuration.
    pub fn config(&self) -> &StdpConfig {
        &self.config
    }

    /// The current weight.
    pub fn weight(&self) -> Tensor<D> {
        self.weight.val()
    }

    fn set_weight(&mut self, w: Tensor<D>) {
        self.weight = Param::initialized(self.weight.id, w).set_require_grad(false);
    }
}

impl Stdp<2> {
    /// `[pre, post]` sizes.
    fn sizes(&self) -> [usize; 2] {
        let [post, pre] = self.weight.val().dims();
        [pre, post]
    }

    /// Zero traces for a batch, on the weight's device.
    pub fn init_state(&self, batch: usize) -> StdpState<2> {
        let [pre, post] = self.sizes();
        StdpState::zeros([batch, pre], [batch, post], &self.weight.val().device())
    }

    /// The postsynaptic input `z_pre·wᵀ`: `[batch, pre]` in, `[batch, post]` out.
    pub fn forward(&self, z_pre: Tensor<2>) -> crate::Result<Tensor<2>> {
        let [batch, _] = z_pre.dims();
        let [pre, _] = self.sizes();
        expect_shape(
            &z_pre,
            [batch, pre],
            "StdpLinear::forward z_pre",
            "[batch, pre]",
        )?;
        Ok(z_pre.matmul(self.weight.val().transpose()))
    }

    /// One learning step from this step's spikes (`[batch, pre]`, `[batch, post]`): updates the
    /// traces and the weight in place; returns the new traces.
    pub fn learn(
        &mut self,
        z_pre: Tensor<2>,
        z_post: Tensor<2>,
        state: StdpState<2>,
    ) -> crate::Result<StdpState<2>> {
        let (w, state) = stdp_step_linear(z_pre, z_post, self.weight.val(), state, &self.dynamics)?;
        self.set_weight(w);
        Ok(state)
    }
}

impl Stdp<4> {
    /// The postsynaptic input, the convolution of `z_pre` (`[batch, in_ch, h, w]`) with the
    /// weight: `[batch, out_ch, h_out, w_out]`.
    pub fn forward(&self, z_pre: Tensor<4>) -> crate::Result<Tensor<4>> {
        let [_, in_ch, _, _] = z_pre.dims();
        let [_, w_in, _, _] = self.weight.val().dims();
        if in_ch != w_in {
            return Err(SnnError::ShapeMismatch {
                context: "StdpConv2d::forward z_pre",
                expected: format!("[batch, in_ch = {w_in}, h, w]"),
                actual: z_pre.dims().to_vec(),
            });
        }
        let c = &self.config;
        let options = burn::tensor::ops::ConvOptions::new(c.stride, c.padding, c.dilation, 1);
        Ok(burn::tensor::module::conv2d(
            z_pre,
            self.weight.val(),
            None,
            options,
        ))
    }

    /// Zero traces for presynaptic spikes shaped `pre` and postsynaptic ones shaped `post`.
    pub fn init_state(&self, pre: [usize; 4], post: [usize; 4]) -> StdpState<4> {
        StdpState::zeros(pre, post, &self.weight.val().device())
    }

    /// One learning step from this step's spikes (`[batch, in_ch, h, w]`,
    /// `[batch, out_ch, h_out, w_out]`): updates the traces and the weight in place.
    pub fn learn(
        &mut self,
        z_pre: Tensor<4>,
        z_post: Tensor<4>,
        state: StdpState<4>,
    ) -> crate::Result<StdpState<4>> {
        let (w, state) = stdp_step_conv2d(z_pre, z_post, self.weight.val(), state, &self.dynamics)?;
        self.set_weight(w);
        Ok(state)
    }
}

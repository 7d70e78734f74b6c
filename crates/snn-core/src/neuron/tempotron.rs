//! SpikingJelly's Tempotron (Gütig & Sompolinsky 2006).
//!
//! A Tempotron reads one spike time per input neuron and sums, per output neuron, weighted
//! double-exponential postsynaptic potentials (PSPs):
//!
//! ```text
//! K(t)      = (exp(−t/τ) − exp(−t/τ_s)) · [t ≥ 0]                     (psp_kernel)
//! t_max     = τ·τ_s·ln(τ/τ_s) / (τ − τ_s)                              (where K peaks)
//! v0        = θ / K(t_max)                                             (psp_v0: peak PSP = θ)
//! v[b,o](t) = Σ_i W[o,i] · v0 · K(t − s[b,i]) · [s[b,i] ≥ 0]
//! ```
//!
//! Two SpikingJelly versions define two different models, both here:
//!
//! * **0.0.0.0.14** `timing_based.neuron.Tempotron` (the classic API, still the 2.0 GitHub
//!   `Tempotron`): `v` on the integer grid `t = 0..T−1`, its maximum `v_max`, and output spike
//!   "times" (the arg-max of `v`, negative when `v_max < θ`). [`Tempotron::membrane`],
//!   [`Tempotron::v_max`], [`Tempotron::spikes`].
//! * **2.0.0** (PyPI) `timing_based.neuron.Tempotron(..., duration)(spike_times, input_indices,
//!   batch_offsets)`: continuous time, solved exactly between input events, where the first
//!   upward threshold crossing shunts the inputs at and after it. [`Tempotron::continuous`].
//!
//! The Tempotron is not a time-stepped neuron: its input is one spike time per input, not a
//! per-step current, and its membrane is a closed-form sum of kernels. So it does not implement
//! [`StepLayer`](crate::lift::StepLayer) / [`Neuron`](super::Neuron); it is evaluated in one
//! tensor expression (legacy) or by an event solver (2.0), as SpikingJelly does.

use burn::module::Param;
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::softmax;

use crate::error::{SnnError, finite, nonzero, positive};

/// SpikingJelly `Tempotron.psp_kernel(t, tau, tau_s)`: the **unnormalized** double-exponential
/// PSP kernel `K(t) = (exp(−t/τ) − exp(−t/τ_s))·[t ≥ 0]`, elementwise, `t` and the time
/// constants in ms.
///
/// Multiply by [`psp_v0`] for the PSP the Tempotron uses (peak θ). SpikingJelly multiplies by
/// the mask `(t ≥ 0)`; here `t` is clamped at 0 first (as SpikingJelly's GitHub `_psp_kernel`
/// does), which gives the same values and gradients for finite kernels and no `inf·0 = NaN`
/// when `−t/τ_s` is large.
pub fn psp_kernel<const D: usize>(t: Tensor<D>, tau_ms: f64, tau_s_ms: f64) -> Tensor<D> {
    let t = t.clamp_min(0.0).neg();
    t.clone().div_scalar(tau_ms).exp() - t.div_scalar(tau_s_ms).exp()
}

/// Where the kernel [`psp_kernel`] peaks: `t_max = τ·τ_s·ln(τ/τ_s) / (τ − τ_s)` ms.
///
/// Errors: `τ`, `τ_s` not positive ([`SnnError::NotPositive`]) or equal ([`SnnError::Invalid`]:
/// the kernel is identically 0 and SpikingJelly divides by zero).
pub fn psp_peak_time(tau_ms: f64, tau_s_ms: f64) -> crate::Result<f64> {
    positive("tau_mem_ms", tau_ms)?;
    positive("tau_syn_ms", tau_s_ms)?;
    if tau_ms == tau_s_ms {
        return Err(SnnError::Invalid {
            field: "tau_syn_ms",
            value: tau_s_ms,
            reason: "must differ from tau_mem_ms: the PSP kernel exp(-t/tau) - exp(-t/tau_s) \
                     vanishes"
                .into(),
        });
    }
    Ok(tau_ms * tau_s_ms * (tau_ms / tau_s_ms).ln() / (tau_ms - tau_s_ms))
}

/// SpikingJelly's normalization constant `v0 = θ / (exp(−t_max/τ) − exp(−t_max/τ_s))`, so that
/// one input of weight 1 peaks exactly at the threshold `θ` (computed in f64, as the Python
/// float SpikingJelly computes; `τ_s > τ` gives a negative `v0` and a negative kernel, whose
/// product is the same positive PSP).
///
/// Errors as [`psp_peak_time`], and [`SnnError::NotFinite`] for a non-finite threshold.
pub fn psp_v0(tau_ms: f64, tau_s_ms: f64, v_threshold: f64) -> crate::Result<f64> {
    finite("threshold", v_threshold)?;
    let t_max = psp_peak_time(tau_ms, tau_s_ms)?;
    Ok(v_threshold / ((-t_max / tau_ms).exp() - (-t_max / tau_s_ms).exp()))
}

/// Configuration of a [`Tempotron`]: SpikingJelly
/// `Tempotron(in_features, out_features, T, tau=15.0, tau_s=15.0/4, v_threshold=1.0)`.
#[derive(Config, Debug)]
pub struct TempotronConfig {
    /// Number of input neurons (one spike time each).
    pub in_features: usize,
    /// Number of Tempotron (output) neurons.
    pub out_features: usize,
    /// `T`: the simulation window in steps of 1 ms; the legacy membrane is evaluated at
    /// `t = 0, 1, …, T−1` ms, and the 2.0 continuous solver runs over `[0, T]` ms (its `duration`).
    pub steps: usize,
    /// Membrane time constant `τ` (SpikingJelly `tau`) in ms. Default 15.
    #[config(default = 15.0)]
    pub tau_mem_ms: f64,
    /// Synaptic time constant `τ_s` (SpikingJelly `tau_s`) in ms; must differ from `τ`.
    /// Default 3.75 (`15/4`).
    #[config(default = 3.75)]
    pub tau_syn_ms: f64,
    /// Threshold `θ` (SpikingJelly `v_threshold`), positive (SpikingJelly's GitHub version
    /// checks this). Default 1.
    #[config(default = 1.0)]
    pub threshold: f64,
}

impl TempotronConfig {
    /// Checks the sizes, time constants and threshold.
    ///
    /// Errors: a zero size ([`SnnError::ZeroSize`]); `τ`, `τ_s` or `θ` not positive
    /// ([`SnnError::NotPositive`]); `τ = τ_s` ([`SnnError::Invalid`]). `τ_s > τ` is allowed, as
    /// in SpikingJelly (the PSP is symmetric in the two constants).
    pub fn validate(&self) -> crate::Result<()> {
        nonzero("in_features", self.in_features)?;
        nonzero("out_features", self.out_features)?;
        nonzero("steps", self.steps)?;
        positive("threshold", self.threshold)?;
        psp_peak_time(self.tau_mem_ms, self.tau_syn_ms)?;
        Ok(())
    }

    /// The PSP normalization `v0` (peak PSP = θ) of [`psp_v0`].
    pub fn v0(&self) -> crate::Result<f64> {
        psp_v0(self.tau_mem_ms, self.tau_syn_ms, self.threshold)
    }

    /// A Tempotron with weights drawn from `U(−1/√in, 1/√in)`, the range of PyTorch's
    /// `nn.Linear` default initialization (which SpikingJelly keeps).
    pub fn init(&self, device: &Device) -> crate::Result<Tempotron> {
        self.validate()?;
        let bound = 1.0 / (self.in_features as f64).sqrt();
        let weight = Tensor::random(
            [self.out_features, self.in_features],
            Distribution::Uniform(-bound, bound),
            device,
        );
        Ok(Tempotron {
            weight: Param::from_tensor(weight),
            config: self.clone(),
        })
    }
}

/// A layer of Tempotron neurons (SpikingJelly `timing_based.neuron.Tempotron`).
///
/// The only parameter is the weight `W`, `[out_features, in_features]`: the layout of
/// SpikingJelly's `nn.Linear(in_features, out_features, bias=False)` weight (no bias).
#[derive(Module, Debug)]
pub struct Tempotron {
    /// Synaptic weights `[out_features, in_features]`, trainable.
    pub weight: Param<Tensor<2>>,
    #[module(skip)]
    config: TempotronConfig,
}

/// The result of [`Tempotron::continuous`] (SpikingJelly 2.0.0's continuous-time Tempotron),
/// each `[batch, out_features]`.
#[derive(Clone, Debug)]
pub struct TempotronEventOutput {
    /// The maximal membrane potential over `[0, T]`, with the inputs shunted from the first
    /// threshold crossing on. Differentiable with respect to the weight (see
    /// [`Tempotron::continuous`]).
    pub v_max: Tensor<2>,
    /// When `v_max` is reached, in ms.
    pub t_peak: Tensor<2>,
    /// The first upward threshold crossing in ms, `+inf` when the neuron does not fire.
    pub t_spike: Tensor<2>,
}

impl Tempotron {
    /// The configuration the layer was built from.
    pub fn config(&self) -> &TempotronConfig {
        &self.config
    }

    /// Replaces the weight (e.g. SpikingJelly's `fc.weight`), `[out_features, in_features]`.
    ///
    /// Errors: another shape ([`SnnError::ShapeMismatch`]).
    pub fn with_weight(mut self, weight: Tensor<2>) -> crate::Result<Self> {
        let want = [self.config.out_features, self.config.in_features];
        if weight.dims() != want {
            return Err(SnnError::ShapeMismatch {
                context: "Tempotron::with_weight weight",
                expected: format!("{want:?} ([out_features, in_features])"),
                actual: weight.dims().to_vec(),
            });
        }
        self.weight = Param::from_tensor(weight);
        Ok(self)
    }

    fn check_input(&self, in_spikes: &Tensor<2>, context: &'static str) -> crate::Result<()> {
        let [_, n] = in_spikes.dims();
        if n != self.config.in_features {
            return Err(SnnError::ShapeMismatch {
                context,
                expected: format!("[batch, {}]", self.config.in_features),
                actual: in_spikes.dims().to_vec(),
            });
        }
        Ok(())
    }

    fn membrane_unchecked(&self, in_spikes: Tensor<2>) -> crate::Result<Tensor<3>> {
        let [batch, n] = in_spikes.dims();
        let steps = self.config.steps;
        let device = in_spikes.device();
        let v0 = self.config.v0()?;
        let t = Tensor::<1, Int>::arange(0..steps as i64, &device)
            .float()
            .reshape([1, steps, 1]);
        let s = in_spikes.unsqueeze_dim::<3>(1); // [batch, 1, in]
        let present = s.clone().greater_equal_elem(0.0).float();
        // [batch, T, in]: the PSP of every input at every grid time
        let psp = psp_kernel(t - s, self.config.tau_mem_ms, self.config.tau_syn_ms).mul_scalar(v0)
            * present;
        let w = self.weight.val().transpose().unsqueeze_dim::<3>(0).expand([
            batch,
            n,
            self.config.out_features,
        ]);
        Ok(psp.matmul(w))
    }

    /// The membrane potential on the grid `t = 0, 1, …, T−1` ms, **`[batch, T, out_features]`**
    /// (batch-major, time second, as every sequence in this crate; SpikingJelly's
    /// `forward(in_spikes, ret_type='v')` returns `[batch, out_features, T]`).
    ///
    /// `in_spikes` is `[batch, in_features]`: one spike time per input in ms, any real value;
    /// a negative time means "no spike". Times at or beyond `T` are allowed (their PSP starts
    /// after the window), as in SpikingJelly. Gradients flow to the weight and to the spike times.
    ///
    /// Errors: `in_spikes` not `[batch, in_features]` ([`SnnError::ShapeMismatch`]).
    pub fn membrane(&self, in_spikes: Tensor<2>) -> crate::Result<Tensor<3>> {
        self.check_input(&in_spikes, "Tempotron::membrane in_spikes")?;
        self.membrane_unchecked(in_spikes)
    }

    /// The maximal membrane potential over the grid, `[batch, out_features]`
    /// (SpikingJelly `ret_type='v_max'`; its gradient goes to the arg-max time step, as
    /// `max_pool1d`'s does). SpikingJelly's trailing `.squeeze()`, which drops the batch
    /// dimension of a batch of one, is not reproduced.
    ///
    /// Errors as [`Tempotron::membrane`].
    pub fn v_max(&self, in_spikes: Tensor<2>) -> crate::Result<Tensor<2>> {
        self.check_input(&in_spikes, "Tempotron::v_max in_spikes")?;
        Ok(self
            .membrane_unchecked(in_spikes)?
            .max_dim(1)
            .squeeze_dim(1))
    }

    /// The output "spike times" of SpikingJelly `ret_type='spikes'`, `[batch, out_features]`:
    /// the arg-max time step of `v`, positive when `v_max ≥ θ` and negated when not (a peak at
    /// step 0 gives 0 either way: SpikingJelly's sign convention cannot mark it).
    ///
    /// Backward, SpikingJelly's straight-through soft arg-max (so that Tempotrons can be
    /// stacked): the value is `soft + (hard − soft).detach()`, with
    /// `soft = ±Σ_t softmax(T·v)_t · t`, so gradients are those of `soft`. The value equals the
    /// hard arg-max up to float rounding.
    ///
    /// Errors as [`Tempotron::membrane`].
    pub fn spikes(&self, in_spikes: Tensor<2>) -> crate::Result<Tensor<2>> {
        self.check_input(&in_spikes, "Tempotron::spikes in_spikes")?;
        let steps = self.config.steps;
        let device = in_spikes.device();
        let v = self.membrane_unchecked(in_spikes)?;
        let t = Tensor::<1, Int>::arange(0..steps as i64, &device)
            .float()
            .reshape([1, steps, 1]);
        let hard = v.clone().argmax(1).float();
        let soft = (softmax(v.clone().mul_scalar(steps as f64), 1) * t).sum_dim(1);
        let sign = v
            .max_dim(1)
            .greater_equal_elem(self.config.threshold)
            .float()
            .mul_scalar(2.0)
            .sub_scalar(1.0);
        let hard = hard * sign.clone();
        let soft = soft * sign;
        Ok((soft.clone() + (hard - soft).detach()).squeeze_dim(1))
    }

    /// SpikingJelly 2.0.0's continuous-time Tempotron over a compact event list (the layout of
    /// its `GaussianTuning`, see [`GaussianTuningEvents`](crate::encode::GaussianTuningEvents)):
    /// sample `b` owns the events `batch_offsets[b]..batch_offsets[b+1]`, event `k` is a spike of
    /// input `input_indices[k]` at `spike_times[k]` ms. An input may spike several times.
    ///
    /// Per output neuron, exactly (in f64, between consecutive input events the potential is
    /// `A·e^{−t/τ} − B·e^{−t/τ_s}`, whose one extremum is found in closed form):
    /// 1. `t_spike`: the first time `v(t) ≥ θ` on `[0, T]` (bisection to f64 precision on the
    ///    monotone piece that crosses), `+inf` if none;
    /// 2. the input events at or after `t_spike` are shunted (removed); there is no reset;
    /// 3. `v_max`, `t_peak`: the maximum of the remaining potential over `[0, T]` (event times,
    ///    interior extrema and the window's ends are the candidates; the first one wins ties, so
    ///    a neuron that never depolarizes gets `v_max = 0` at `t_peak = 0`).
    ///
    /// The PSP has unit peak here (`v0 = 1/K(t_max)`, "unit-peak PSPs" in SpikingJelly's
    /// notes), where the legacy model scales it to θ; the two agree for θ = 1.
    ///
    /// `v_max` is returned as `Σ_i W[o,i]·c[b,o,i]`, `c` = the summed unit PSPs of input `i`'s
    /// unshunted events at `t_peak`: its value is the solver's and its gradient is
    /// `∂v_max/∂W[o,i] = c[b,o,i]` (the envelope theorem: `t_peak` and the shunted set are held
    /// fixed, as in SpikingJelly's `d(Σ v_max)/dW`). `t_peak` and `t_spike` carry no gradient.
    /// The weight is read back to the host, so this entry point synchronizes a GPU device.
    ///
    /// Errors: `spike_times` and `input_indices` of different lengths
    /// ([`SnnError::ShapeMismatch`]); `batch_offsets` empty, not starting at 0, decreasing or
    /// not ending at the number of events ([`SnnError::Invalid`]); an input index
    /// `≥ in_features`, or a time that is not finite or outside `[0, T)`
    /// ([`SnnError::EventOutOfRange`]).
    pub fn continuous(
        &self,
        spike_times: &[f32],
        input_indices: &[usize],
        batch_offsets: &[usize],
    ) -> crate::Result<TempotronEventOutput> {
        const CONTEXT: &str = "Tempotron::continuous";
        let cfg = &self.config;
        let (n_in, n_out) = (cfg.in_features, cfg.out_features);
        let duration = cfg.steps as f64;
        if spike_times.len() != input_indices.len() {
            return Err(SnnError::ShapeMismatch {
                context: "Tempotron::continuous input_indices",
                expected: format!("[{}] (one per spike time)", spike_times.len()),
                actual: vec![input_indices.len()],
            });
        }
        let offsets_ok = batch_offsets.first() == Some(&0)
            && batch_offsets.windows(2).all(|w| w[0] <= w[1])
            && batch_offsets.last() == Some(&spike_times.len());
        if !offsets_ok {
            return Err(SnnError::Rejected {
                field: "batch_offsets",
                reason: format!(
                    "must start at 0, not decrease and end at the number of events ({}); got \
                     {batch_offsets:?}",
                    spike_times.len()
                ),
            });
        }
        for (k, (&t, &i)) in spike_times.iter().zip(input_indices).enumerate() {
            if i >= n_in {
                return Err(SnnError::EventOutOfRange {
                    context: CONTEXT,
                    index: k,
                    what: "input index",
                    value: i as f64,
                    allowed: format!("0..{n_in}"),
                });
            }
            let t = f64::from(t);
            if !(t.is_finite() && (0.0..duration).contains(&t)) {
                return Err(SnnError::EventOutOfRange {
                    context: CONTEXT,
                    index: k,
                    what: "spike time",
                    value: t,
                    allowed: format!("[0, {duration}) ms"),
                });
            }
        }
        let batch = batch_offsets.len() - 1;
        let device = self.weight.device();
        let weight: Vec<f64> = self
            .weight
            .val()
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .map_err(|e| SnnError::Rejected {
                field: "weight",
                reason: format!("cannot be read back: {e:?}"),
            })?
            .into_iter()
            .map(f64::from)
            .collect();
        let psp = UnitPsp::new(cfg.tau_mem_ms, cfg.tau_syn_ms)?;
        let mut coeff = vec![0.0f32; batch * n_out * n_in];
        let mut t_peak = vec![0.0f32; batch * n_out];
        let mut t_spike = vec![f32::INFINITY; batch * n_out];
        for b in 0..batch {
            let mut events: Vec<(f64, usize)> = (batch_offsets[b]..batch_offsets[b + 1])
                .map(|k| (f64::from(spike_times[k]), input_indices[k]))
                .collect();
            events.sort_by(|x, y| x.0.total_cmp(&y.0));
            for o in 0..n_out {
                let weighted: Vec<(f64, f64)> = events
                    .iter()
                    .map(|&(t, i)| (t, weight[o * n_in + i]))
                    .collect();
                let crossing = psp.first_crossing(&weighted, cfg.threshold, duration);
                let kept = crossing.map_or(weighted.len(), |tc| {
                    weighted.partition_point(|&(t, _)| t < tc)
                });
                let (_, peak) = psp.maximum(&weighted[..kept], duration);
                let row = (b * n_out + o) * n_in;
                for &(t, i) in &events[..kept] {
                    coeff[row + i] += psp.at(peak - t) as f32;
                }
                t_peak[b * n_out + o] = peak as f32;
                if let Some(tc) = crossing {
                    t_spike[b * n_out + o] = tc as f32;
                }
            }
        }
        let coeff =
            Tensor::<1>::from_floats(coeff.as_slice(), &device).reshape([batch, n_out, n_in]);
        let v_max = (coeff * self.weight.val().unsqueeze_dim::<3>(0))
            .sum_dim(2)
            .squeeze_dim(2);
        let grid =
            |v: Vec<f32>| Tensor::<1>::from_floats(v.as_slice(), &device).reshape([batch, n_out]);
        Ok(TempotronEventOutput {
            v_max,
            t_peak: grid(t_peak),
            t_spike: grid(t_spike),
        })
    }
}

/// The unit-peak PSP `v0·K(t)` in f64, and the event solver of [`Tempotron::continuous`].
///
/// Between consecutive event times the potential from the events so far is
/// `v(a + x) = A·e^{−x/τ} − B·e^{−x/τ_s}` (`A = Σ w·v0·e^{−(a−s)/τ}`, `B` likewise with `τ_s`),
/// carried from one interval start to the next, so no exponential of a large time is formed.
struct UnitPsp {
    tau: f64,
    tau_s: f64,
    v0: f64,
}

/// One interval `[a, b]` of the piecewise potential.
struct Piece {
    a: f64,
    b: f64,
    big_a: f64,
    big_b: f64,
}

impl UnitPsp {
    fn new(tau: f64, tau_s: f64) -> crate::Result<Self> {
        Ok(Self {
            tau,
            tau_s,
            v0: psp_v0(tau, tau_s, 1.0)?,
        })
    }

    fn at(&self, x: f64) -> f64 {
        if x <= 0.0 {
            0.0
        } else {
            self.v0 * ((-x / self.tau).exp() - (-x / self.tau_s).exp())
        }
    }

    /// The intervals between the distinct event times (sorted `events`: `(time, weight)`),
    /// covering `[0, duration]`.
    fn pieces(&self, events: &[(f64, f64)], duration: f64) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let (mut big_a, mut big_b, mut a, mut k) = (0.0, 0.0, 0.0, 0);
        while a < duration {
            while k < events.len() && events[k].0 <= a {
                big_a += events[k].1 * self.v0;
                big_b += events[k].1 * self.v0;
                k += 1;
            }
            let b = events.get(k).map_or(duration, |e| e.0.min(duration));
            pieces.push(Piece { a, b, big_a, big_b });
            big_a *= (-(b - a) / self.tau).exp();
            big_b *= (-(b - a) / self.tau_s).exp();
            a = b;
        }
        pieces
    }

    fn value(&self, p: &Piece, t: f64) -> f64 {
        let x = t - p.a;
        p.big_a * (-x / self.tau).exp() - p.big_b * (-x / self.tau_s).exp()
    }

    /// The interior extremum of a piece, where `A/τ·e^{−x/τ} = B/τ_s·e^{−x/τ_s}`.
    fn extremum(&self, p: &Piece) -> Option<f64> {
        let ratio = p.big_b * self.tau / (p.big_a * self.tau_s);
        if p.big_a == 0.0 || ratio.is_nan() || ratio <= 0.0 {
            return None;
        }
        let x = ratio.ln() / (1.0 / self.tau_s - 1.0 / self.tau);
        (x > 0.0 && p.a + x < p.b).then_some(p.a + x)
    }

    /// The first `t` in `[0, duration]` with `v(t) ≥ θ`.
    fn first_crossing(&self, events: &[(f64, f64)], threshold: f64, duration: f64) -> Option<f64> {
        for p in self.pieces(events, duration) {
            let mut knots = vec![p.a];
            knots.extend(self.extremum(&p));
            knots.push(p.b);
            for w in knots.windows(2) {
                let (mut lo, mut hi) = (w[0], w[1]);
                if self.value(&p, lo) < threshold && self.value(&p, hi) >= threshold {
                    // v is monotone on [lo, hi]: bisect until the interval stops shrinking
                    loop {
                        let mid = 0.5 * (lo + hi);
                        if mid <= lo || mid >= hi {
                            break;
                        }
                        if self.value(&p, mid) >= threshold {
                            hi = mid;
                        } else {
                            lo = mid;
                        }
                    }
                    return Some(hi);
                }
            }
        }
        None
    }

    /// The maximum of `v` over `[0, duration]` and where it is reached (the first on ties).
    fn maximum(&self, events: &[(f64, f64)], duration: f64) -> (f64, f64) {
        let mut best = (f64::NEG_INFINITY, 0.0);
        for p in self.pieces(events, duration) {
            let mut candidates = vec![p.a];
            candidates.extend(self.extremum(&p));
            candidates.push(p.b);
            for t in candidates {
                let v = self.value(&p, t);
                if v > best.0 {
                    best = (v, t);
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_normalized_kernel_peaks_at_one() {
        let psp = UnitPsp::new(15.0, 3.75).unwrap();
        let t_max = psp_peak_time(15.0, 3.75).unwrap();
        assert!((psp.at(t_max) - 1.0).abs() < 1e-12);
        assert!(psp.at(t_max - 1e-3) < 1.0 && psp.at(t_max + 1e-3) < 1.0);
        // tau_s > tau: the same positive PSP
        let swapped = UnitPsp::new(3.75, 15.0).unwrap();
        assert!((swapped.at(4.0) - psp.at(4.0)).abs() < 1e-12);
    }

    #[test]
    fn one_input_crosses_where_its_psp_reaches_the_threshold() {
        let psp = UnitPsp::new(15.0, 3.75).unwrap();
        let tc = psp.first_crossing(&[(2.0, 2.0)], 1.0, 50.0).unwrap();
        assert!((2.0 * psp.at(tc - 2.0) - 1.0).abs() < 1e-12);
        assert!(psp.first_crossing(&[(2.0, 0.99)], 1.0, 50.0).is_none());
        let (v, t) = psp.maximum(&[(2.0, 0.8)], 50.0);
        assert!((v - 0.8).abs() < 1e-12);
        assert!((t - 2.0 - psp_peak_time(15.0, 3.75).unwrap()).abs() < 1e-9);
        assert_eq!(psp.maximum(&[(2.0, -0.5)], 50.0), (0.0, 0.0));
    }
}

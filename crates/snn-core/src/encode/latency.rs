//! Latency coding: stronger inputs spike earlier (Norse's first-spike filter, snnTorch's
//! `spikegen.latency`).

use burn::prelude::*;

use super::check_rank;
use crate::error::{SnnError, positive};

/// Norse `spike_latency_encode`: keeps only the first spike of every neuron along the time axis
/// (axis 1 of `[batch, time, features...]`); later spikes are removed.
pub fn first_spike_only<const E: usize>(spikes: Tensor<E>) -> crate::Result<Tensor<E>> {
    if E < 2 {
        return Err(SnnError::RankMismatch {
            context: "first_spike_only",
            expected: ">= 2 ([batch, time, features...])",
            actual: E,
            shape: spikes.dims().to_vec(),
        });
    }
    let seen = spikes.clone().abs().cumsum(1);
    Ok(spikes * seen.equal_elem(1.0).float())
}

/// Settings of snnTorch's latency code (`spikegen.latency` / `latency_code`), with its defaults.
#[derive(Config, Debug)]
pub struct LatencyConfig {
    /// Number of time steps.
    pub steps: usize,
    /// Inputs below it saturate (and are removed with `clip`); in (0, 1). Default 0.01.
    #[config(default = 0.01)]
    pub threshold: f64,
    /// Keeps the logarithm finite. Default 1e-7.
    #[config(default = 1e-7)]
    pub epsilon: f64,
    /// RC time constant of the charging model, in steps. Default 1.
    #[config(default = 1.0)]
    pub tau: f64,
    /// Step of the earliest possible spike. Default 0.
    #[config(default = 0)]
    pub first_spike_time: usize,
    /// Remove the spikes of inputs below `threshold`. Default false.
    #[config(default = false)]
    pub clip: bool,
    /// Stretch the code so that the latest spike falls on the last step. Default false.
    #[config(default = false)]
    pub normalize: bool,
    /// Linear instead of logarithmic code. Default false.
    #[config(default = false)]
    pub linear: bool,
}

impl LatencyConfig {
    fn validate(&self) -> crate::Result<()> {
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(SnnError::out_of_range(
                "threshold",
                "(0, 1)",
                self.threshold,
            ));
        }
        positive("tau", self.tau)?;
        positive("epsilon", self.epsilon)?;
        crate::error::nonzero("steps", self.steps)?;
        if self.first_spike_time + 1 > self.steps {
            return Err(SnnError::out_of_range(
                "first_spike_time",
                "0..=steps-1",
                self.first_spike_time as f64,
            ));
        }
        Ok(())
    }
}

/// A tensor's minimum or maximum over all elements, shaped to broadcast against it.
fn all_min<const D: usize>(t: &Tensor<D>) -> Tensor<D> {
    t.clone().min().reshape([1; D])
}
fn all_max<const D: usize>(t: &Tensor<D>) -> Tensor<D> {
    t.clone().max().reshape([1; D])
}

/// snnTorch `spikegen.latency_code`: the continuous spike time of each input, and which inputs
/// lie below the threshold.
///
/// Logarithmic (default), the firing time of an RC circuit charged by the input:
/// `t = τ·ln(d / (d − threshold))` with `d = max(x, threshold + ε)`; linear:
/// `t = min(τ·(1 − x), τ·(1 − threshold))`. `normalize` rescales with the minimum and maximum over
/// the whole tensor, as snnTorch does (so a batch is normalized together).
pub fn latency_code<const D: usize>(
    data: Tensor<D>,
    config: &LatencyConfig,
) -> crate::Result<(Tensor<D>, Tensor<D, Bool>)> {
    config.validate()?;
    let c = config;
    let fst = c.first_spike_time as f64;
    let last = (c.steps - 1) as f64;
    let below = data.clone().lower_elem(c.threshold);
    let times = if !c.linear {
        let d = data.clamp_min(c.threshold + c.epsilon);
        let mut t = (d.clone() / (d - c.threshold)).log() * c.tau;
        if c.first_spike_time > 0 {
            t = t.clone() - (all_min(&t) / fst - 1.0) * fst;
        }
        if c.normalize {
            let shifted = t - fst;
            t = shifted.clone() * (last - fst) / all_max(&shifted) + fst;
        }
        t
    } else {
        let max = data.clone().max().into_scalar::<f32>();
        if max > 1.0 && !c.normalize {
            return Err(SnnError::out_of_range(
                "data (linear latency without normalize)",
                "[.., 1]",
                f64::from(max),
            ));
        }
        let tau = if c.normalize { last - fst } else { c.tau };
        let mut t = ((data - 1.0) * -tau).clamp_max(-tau * (c.threshold - 1.0)) + fst;
        if c.normalize && t.clone().min().into_scalar::<f32>() < 0.0 {
            let (lo, hi) = (all_min(&t), all_max(&t));
            t = (t - lo.clone()) / (hi - lo) * last;
        }
        t
    };
    Ok((times, below))
}

/// snnTorch `spikegen.latency`: one spike per input at step `round(t)` of [`latency_code`]
/// (round half to even, as `torch.round`). `data` `[batch, features...]` ->
/// `[batch, steps, features...]`.
///
/// A spike time that rounds beyond the last step gives no spike. (snnTorch then also clears the
/// last step of every input; this port does not.)
pub fn latency_encode<const D: usize, const E: usize>(
    data: Tensor<D>,
    config: &LatencyConfig,
) -> crate::Result<Tensor<E>> {
    let dims = data.dims();
    check_rank::<D, E>(&dims, "latency_encode")?;
    let device = data.device();
    let (times, below) = latency_code(data, config)?;
    let steps = config.steps;
    let mut step_dims = [1usize; E];
    step_dims[1] = steps;
    let step_index = Tensor::<1, Int>::arange(0..steps as i64, &device)
        .float()
        .reshape(step_dims);
    let at: Tensor<E> = times.round().unsqueeze_dim(1);
    let spikes = at.equal(step_index).float();
    Ok(if config.clip {
        spikes * below.bool_not().float().unsqueeze_dim::<E>(1)
    } else {
        spikes
    })
}

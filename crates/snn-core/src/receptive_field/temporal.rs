//! Lindeberg's logarithmic distribution of temporal scales.

use burn::prelude::*;

use crate::error::{Result, nonzero, positive};

/// Norse's default base `c` of [`TemporalScaleSpacing::Base`]: `1.41421 ≈ √2`.
#[allow(clippy::approx_constant)] // Norse's literal, kept for parity, not `SQRT_2`.
pub const TEMPORAL_SCALE_DEFAULT_BASE: f64 = 1.41421;

/// How [`temporal_scales`] spaces its `K` scales (Norse's `c` and `max_scale` arguments).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TemporalScaleSpacing {
    /// Norse's `c` (with `max_scale=None`): consecutive variances differ by the factor `c²`,
    /// from `min_scale` up: `τ_max = c^{2(K−1)} τ_min`. Norse recommends `1 < c < 2`.
    Base(f64),
    /// Norse's `max_scale`: `c = (τ_min / τ_max)^{1/(2(K−1))}`, which overrides any base.
    MaxScale(f64),
}

impl Default for TemporalScaleSpacing {
    /// `Base(1.41421)`, Norse's default.
    fn default() -> Self {
        Self::Base(TEMPORAL_SCALE_DEFAULT_BASE)
    }
}

/// `K = n_scales` temporal scales after Lindeberg (2016), "Time-causal and time-recursive
/// spatio-temporal receptive fields", as Norse 1.1.0's `temporal_scale_distribution` computes
/// them (host `f64`):
///
/// ```text
/// τ_k = c^{2(k−K)} τ_max,   k = 1..K,   result_k = √τ_k
/// ```
///
/// `min_scale = τ_min` and `max_scale = τ_max` are variances (time units squared, e.g. ms²); the
/// results are standard deviations (time units). With [`TemporalScaleSpacing::Base`]`(c)`,
/// `τ_max = c^{2(K−1)} τ_min`, so `result_k = c^{k−1} √τ_min`, increasing. With
/// [`TemporalScaleSpacing::MaxScale`]`(τ_max)`, `c = (τ_min/τ_max)^{1/(2(K−1))}` and Norse's
/// formula gives `τ_k = (τ_min/τ_max)^{(k−K)/(K−1)} τ_max`, which runs *down* from
/// `τ_max²/τ_min` to `τ_max` (e.g. `τ_min = 1`, `τ_max = 8`, `K = 4` give `8, 5.66, 4, 2.83`):
/// this is Norse's behaviour, kept for parity. `K = 1` gives `[√τ_min]` either way.
///
/// # Errors
///
/// [`SnnError::ZeroSize`](crate::SnnError::ZeroSize) for `n_scales = 0`;
/// [`SnnError::NotPositive`](crate::SnnError::NotPositive) for `min_scale`, the base `c` or
/// `max_scale` not finite and `> 0`.
pub fn temporal_scales(
    n_scales: usize,
    min_scale: f64,
    spacing: TemporalScaleSpacing,
) -> Result<Vec<f64>> {
    nonzero("n_scales", n_scales)?;
    positive("min_scale", min_scale)?;
    let last = (n_scales - 1) as f64;
    let (c, max_scale) = match spacing {
        TemporalScaleSpacing::Base(c) => {
            positive("c", c)?;
            (c, c.powf(2.0 * last) * min_scale)
        }
        TemporalScaleSpacing::MaxScale(max_scale) => {
            positive("max_scale", max_scale)?;
            if n_scales == 1 {
                return Ok(vec![min_scale.sqrt()]);
            }
            ((min_scale / max_scale).powf(1.0 / (2.0 * last)), max_scale)
        }
    };
    Ok((1..=n_scales)
        .map(|k| (c.powf(2.0 * (k as f64 - n_scales as f64)) * max_scale).sqrt())
        .collect())
}

/// [`temporal_scales`] as a `[n_scales]` float tensor on `device` (Norse
/// `temporal_scale_distribution`, whose arguments are plain numbers too: the result is a
/// constant).
///
/// # Errors
///
/// Those of [`temporal_scales`].
pub fn temporal_scale_distribution(
    n_scales: usize,
    min_scale: f64,
    spacing: TemporalScaleSpacing,
    device: &Device,
) -> Result<Tensor<1>> {
    let host: Vec<f32> = temporal_scales(n_scales, min_scale, spacing)?
        .into_iter()
        .map(|v| v as f32)
        .collect();
    Ok(Tensor::<1>::from_floats(host.as_slice(), device))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_scale_is_the_root_of_the_minimum() {
        for spacing in [
            TemporalScaleSpacing::default(),
            TemporalScaleSpacing::MaxScale(9.0),
        ] {
            assert_eq!(temporal_scales(1, 4.0, spacing).unwrap(), [2.0]);
        }
    }

    #[test]
    fn base_two_doubles_the_scales() {
        let s = temporal_scales(3, 1.0, TemporalScaleSpacing::Base(2.0)).unwrap();
        assert_eq!(s, [1.0, 2.0, 4.0]);
    }
}

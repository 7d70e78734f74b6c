//! Gaussian receptive fields over a value range (Bohte, Kok & La Poutré 2002), as SpikingJelly's
//! `timing_based.encoding.GaussianTuning`.

use burn::prelude::*;

use crate::error::{Result, SnnError, finite, nonzero, positive};

/// `m` Gaussian tuning curves per input feature, evenly covering `[x_min, x_max]`.
///
/// For field `i = 1..m` of feature `f`: centre `μ = x_min + (2i − 3)/2 · (x_max − x_min)/(m − 2)`
/// and variance `σ² = ((x_max − x_min) / 1.5 / (m − 2))²`; a value `x` evokes
/// `y = exp(−(x − μ)² / (2σ²))` and a spike at `T·(1 − y)`: the closer to the centre, the
/// earlier. Values outside `[x_min, x_max]` are allowed (they fire late or not at all), as in
/// SpikingJelly.
#[derive(Clone, Debug)]
pub struct GaussianTuning {
    features: usize,
    fields: usize,
    mu: Vec<f32>,
    sigma2: Vec<f32>,
}

/// Spike events of [`GaussianTuning::events`], in SpikingJelly 2.0's compact layout.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussianTuningEvents {
    /// Spike times in `[0, duration)`, ordered by (sample, feature, value, field).
    pub spike_times: Vec<f32>,
    /// The input neuron of each spike: `(feature · values + value) · fields + field`.
    pub input_indices: Vec<usize>,
    /// Where each sample's events start, `[batch + 1]`.
    pub batch_offsets: Vec<usize>,
}

impl GaussianTuning {
    /// `fields` curves (at least 3) for each feature range `[x_min[f], x_max[f]]`.
    pub fn new(fields: usize, x_min: &[f64], x_max: &[f64]) -> Result<Self> {
        let features = nonzero("x_min.len()", x_min.len())?;
        if x_max.len() != features {
            return Err(SnnError::ShapeMismatch {
                context: "GaussianTuning::new x_max",
                expected: format!("[{features}] (one bound per feature, as x_min)"),
                actual: vec![x_max.len()],
            });
        }
        if fields < 3 {
            return Err(SnnError::out_of_range("fields", ">= 3", fields as f64));
        }
        let (mut mu, mut sigma2) = (Vec::new(), Vec::new());
        for (&lo, &hi) in x_min.iter().zip(x_max) {
            finite("x_min", lo)?;
            let width = positive("x_max - x_min", finite("x_max", hi)? - lo)?;
            let step = width / (fields - 2) as f64;
            for i in 1..=fields {
                mu.push((lo + (2.0 * i as f64 - 3.0) / 2.0 * step) as f32);
                sigma2.push((step / 1.5).powi(2) as f32);
            }
        }
        Ok(Self {
            features,
            fields,
            mu,
            sigma2,
        })
    }

    /// Centres `[features, fields]`.
    pub fn mu(&self, device: &Device) -> Tensor<2> {
        Tensor::<1>::from_floats(self.mu.as_slice(), device).reshape([self.features, self.fields])
    }

    /// Variances `[features, fields]`.
    pub fn sigma2(&self, device: &Device) -> Tensor<2> {
        Tensor::<1>::from_floats(self.sigma2.as_slice(), device)
            .reshape([self.features, self.fields])
    }

    /// Responses `y` in `(0, 1]`: `x` `[batch, features, values]` ->
    /// `[batch, features, values, fields]`.
    pub fn responses(&self, x: Tensor<3>) -> Result<Tensor<4>> {
        let [batch, features, values] = x.dims();
        if features != self.features {
            return Err(SnnError::ShapeMismatch {
                context: "GaussianTuning input",
                expected: format!("[batch, {}, values]", self.features),
                actual: vec![batch, features, values],
            });
        }
        let device = x.device();
        let mu = self.mu(&device).reshape([1, features, 1, self.fields]);
        let sigma2 = self.sigma2(&device).reshape([1, features, 1, self.fields]);
        let d = x.unsqueeze_dim::<4>(3) - mu;
        Ok((d.clone() * d / (sigma2 * -2.0)).exp())
    }

    /// SpikingJelly 0.0.0.0.14 `encode(x, max_spike_time)`: spike times on the integer grid,
    /// `round(T·(1 − y))` (half to even), and `−1` (no spike) where that reaches `T`.
    /// `[batch, features, values]` -> `[batch, features, values, fields]`.
    pub fn spike_times(&self, x: Tensor<3>, max_spike_time: usize) -> Result<Tensor<4>> {
        nonzero("max_spike_time", max_spike_time)?;
        let t_max = max_spike_time as f64;
        let t = (self.responses(x)?.neg() + 1.0).mul_scalar(t_max).round();
        let silent = t.clone().greater_equal_elem(t_max);
        Ok(t.mask_fill(silent, -1.0))
    }

    /// SpikingJelly 2.0 `GaussianTuning(x, duration)`: continuous spike times `duration·(1 − y)`,
    /// keeping those in `[0, duration)`, as a compact event list.
    pub fn events(&self, x: Tensor<3>, duration: f64) -> Result<GaussianTuningEvents> {
        positive("duration", duration)?;
        let [batch, _, values] = x.dims();
        let y = self
            .responses(x)?
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap_or_default();
        let per_sample = self.features * values * self.fields;
        let mut events = GaussianTuningEvents {
            spike_times: Vec::new(),
            input_indices: Vec::new(),
            batch_offsets: vec![0],
        };
        for b in 0..batch {
            for (k, &y) in y[b * per_sample..(b + 1) * per_sample].iter().enumerate() {
                let t = (duration * (1.0 - f64::from(y))) as f32;
                if t >= 0.0 && f64::from(t) < duration {
                    events.spike_times.push(t);
                    // k runs over (feature, value, field), the input index's own order
                    events.input_indices.push(k);
                }
            }
            events.batch_offsets.push(events.spike_times.len());
        }
        Ok(events)
    }
}

//! Random-manifold spike-timing datasets ("randman", Zenke & Vogels 2021, "The remarkable
//! robustness of surrogate gradient learning for instilling complex function in spiking neural
//! networks", Neural Computation 33(4)).
//!
//! Each class is a smooth random manifold of dimension `dim_manifold` embedded in
//! `nb_units` dimensions; a sample is a random point of its class's manifold, and its embedding
//! coordinates become spike times, one spike per unit and per spike manifold. Only the timing
//! carries information: every unit fires exactly `nb_spikes` times in every sample.
//!
//! This follows `make_spiking_dataset` of fzenke/randman
//! (`notebooks/Spiking dataset generation example.ipynb`) with the default `TorchRandman`
//! (`randman/torch_randman.py`):
//!
//! * frequency cutoff `F = min(ceil(prec^(-1/alpha)), max_f_cutoff)` (32 for alpha 2);
//! * spectrum `s_f = 1 / ((f + 1)^alpha + 1)`, `f = 0..F` (torch's `init_spect` with `beta = 0`;
//!   the older numpy version used `1 / (f + 1)^alpha`);
//! * parameters `theta[unit][d][j][f]` uniform in `[0, 1)`, `j = 0..3`, with
//!   `theta[..][..][0][0] = 0` unless `use_bias`;
//! * `g_{u,d}(x) = sum_f theta[u][d][0][f] s_f sin(2 pi (f x theta[u][d][1][f] + theta[u][d][2][f]))`,
//!   embedding `y_u(x) = prod_d g_{u,d}(x_d)` for a point `x` uniform in `[0, 1)^dim`;
//! * per class and spike manifold, each unit's `y` is min-max standardized over the class's
//!   samples, `(y - min) / (max - min + 1e-7)`, and the spike time is
//!   `y * nb_steps * step_frac` (time steps, in `[0, nb_steps)`);
//! * the samples of all classes are shuffled.
//!
//! The random stream differs from numpy's/torch's (the project's PCG64 [`SpikeRng`] here, see
//! [`RandmanConfig::seed`]), so the same seed does not give the Python package's numbers;
//! the algorithm and the distributions are the same.

use burn::config::Config;
use snn_core::encode::SpikeRng;

use super::events::{BinConfig, EventBatcher, EventDataset, EventSample, TimeUnit};
use crate::error::TrainError;

/// Settings of a randman dataset. The defaults are the configuration the paper's randman
/// benchmark is usually quoted with: 10 classes, 20 units, 100 time steps, a one-dimensional
/// manifold, smoothness alpha = 2, one spike per unit, and `make_spiking_dataset`'s 1000
/// samples per class.
#[derive(Config, Debug)]
pub struct RandmanConfig {
    /// Number of classes (one manifold each). Default 10.
    #[config(default = 10)]
    pub nb_classes: usize,
    /// Number of units (embedding dimension). Default 20.
    #[config(default = 20)]
    pub nb_units: usize,
    /// Number of time steps a sample spans. Default 100.
    #[config(default = 100)]
    pub nb_steps: usize,
    /// Fraction of the time steps, from the start, that may hold spikes (`step_frac`),
    /// in `(0, 1]`. Default 1.
    #[config(default = 1.0)]
    pub step_frac: f64,
    /// Intrinsic dimension of each manifold. Default 1.
    #[config(default = 1)]
    pub dim_manifold: usize,
    /// Spikes per unit and sample (one independent manifold per spike). Default 1.
    #[config(default = 1)]
    pub nb_spikes: usize,
    /// Samples per class. Default 1000.
    #[config(default = 1000)]
    pub nb_samples: usize,
    /// Power-law fall-off of the spectrum: larger is smoother. Default 2.
    #[config(default = 2.0)]
    pub alpha: f64,
    /// Precision that sets the frequency cutoff `ceil(prec^(-1/alpha))`. Default 1e-3.
    #[config(default = 1e-3)]
    pub prec: f64,
    /// Upper bound of the frequency cutoff. Default 1000.
    #[config(default = 1000)]
    pub max_f_cutoff: usize,
    /// Keep the constant (zero-frequency) term's amplitude random (`use_bias`). Default false.
    #[config(default = false)]
    pub use_bias: bool,
    /// Shuffle the samples of all classes together. Default true.
    #[config(default = true)]
    pub shuffle: bool,
    /// Seed of the generator ([`SpikeRng::new`]): it draws one seed per (class, spike)
    /// manifold ([`SpikeRng::next_u64`]), then each class's manifold coordinates
    /// ([`SpikeRng::next_f64`]), then the shuffle ([`SpikeRng::shuffle`]; the order of
    /// `make_spiking_dataset`). Default 0.
    #[config(default = 0)]
    pub seed: u64,
}

impl RandmanConfig {
    /// The task of Zenke & Vogels (2021), section 4.1.1, as Zenke's experiment scripts and
    /// stork's `make_tempo_randman` build it: 10 classes, 20 units, a one-dimensional manifold
    /// with smoothness `alpha = 1`, one spike per unit within the first half of 100 steps
    /// (`step_frac = 0.5`), 1000 samples a class (the paper splits them 800 / 100 / 100).
    pub fn zenke_vogels_2021() -> Self {
        Self::new().with_alpha(1.0).with_step_frac(0.5)
    }

    /// Rejects zero sizes, non-finite or non-positive `alpha`, `step_frac` outside `(0, 1]` and
    /// `prec` outside `(0, 1)`.
    pub fn validate(&self) -> crate::Result<()> {
        let sizes = [
            ("nb_classes", self.nb_classes),
            ("nb_units", self.nb_units),
            ("nb_steps", self.nb_steps),
            ("dim_manifold", self.dim_manifold),
            ("nb_spikes", self.nb_spikes),
            ("nb_samples", self.nb_samples),
            ("max_f_cutoff", self.max_f_cutoff),
        ];
        for (field, v) in sizes {
            if v == 0 {
                return Err(TrainError::Setting {
                    field,
                    message: "must be > 0".into(),
                });
            }
        }
        if self.nb_units > u32::MAX as usize {
            return Err(TrainError::Setting {
                field: "nb_units",
                message: format!("{} units do not fit a u32 unit id", self.nb_units),
            });
        }
        let reals = [
            ("alpha", self.alpha, self.alpha > 0.0),
            (
                "step_frac",
                self.step_frac,
                self.step_frac > 0.0 && self.step_frac <= 1.0,
            ),
            ("prec", self.prec, self.prec > 0.0 && self.prec < 1.0),
        ];
        for (field, v, ok) in reals {
            if !(v.is_finite() && ok) {
                return Err(TrainError::Setting {
                    field,
                    message: format!("{v} is out of range"),
                });
            }
        }
        Ok(())
    }

    /// Generates the dataset: `nb_classes * nb_samples` samples, times in time steps
    /// ([`TimeUnit::Step`]), `nb_units * nb_spikes` events each (unit `u` of spike manifold `i`
    /// is event `i * nb_units + u`).
    pub fn generate(&self) -> crate::Result<EventDataset> {
        Ok(self.generate_with_coords()?.0)
    }

    /// [`generate`](Self::generate), plus each sample's intrinsic manifold coordinates
    /// (`dim_manifold` values in `[0, 1)`: the targets of the regression variant).
    pub fn generate_with_coords(&self) -> crate::Result<(EventDataset, Vec<Vec<f64>>)> {
        self.validate()?;
        let mut rng = SpikeRng::new(self.seed);
        let seeds: Vec<u64> = (0..self.nb_classes * self.nb_spikes)
            .map(|_| rng.next_u64())
            .collect();
        let horizon = self.nb_steps as f64 * self.step_frac;
        let mut samples = Vec::with_capacity(self.nb_classes * self.nb_samples);
        let mut coords = Vec::with_capacity(samples.capacity());
        for class in 0..self.nb_classes {
            let xs: Vec<Vec<f64>> = (0..self.nb_samples)
                .map(|_| (0..self.dim_manifold).map(|_| rng.next_f64()).collect())
                .collect();
            let mut times = vec![Vec::with_capacity(self.nb_units * self.nb_spikes); xs.len()];
            for spike in 0..self.nb_spikes {
                let manifold = Randman::new(self, seeds[class * self.nb_spikes + spike]);
                let ys: Vec<Vec<f64>> = xs.iter().map(|x| manifold.eval(x)).collect();
                for unit in 0..self.nb_units {
                    let (lo, hi) = ys
                        .iter()
                        .map(|y| y[unit])
                        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                            (lo.min(v), hi.max(v))
                        });
                    for (t, y) in times.iter_mut().zip(&ys) {
                        t.push((y[unit] - lo) / (hi - lo + 1e-7) * horizon);
                    }
                }
            }
            let units: Vec<u32> = (0..self.nb_spikes)
                .flat_map(|_| 0..self.nb_units as u32)
                .collect();
            for (t, x) in times.into_iter().zip(xs) {
                samples.push(EventSample::new(t, units.clone(), TimeUnit::Step, class));
                coords.push(x);
            }
        }
        if self.shuffle {
            // One permutation for both lists.
            let mut pairs: Vec<(EventSample, Vec<f64>)> = samples.into_iter().zip(coords).collect();
            rng.shuffle(&mut pairs);
            (samples, coords) = pairs.into_iter().unzip();
        }
        Ok((
            EventDataset::new(samples, self.nb_units, self.nb_classes)?,
            coords,
        ))
    }

    /// The binning for these samples: one bin per time step (spike at time `t` in step
    /// `floor(t)`), `nb_steps` bins, `nb_units` units, 0/1 spikes.
    pub fn bin_config(&self) -> BinConfig {
        BinConfig::width(1.0, self.nb_units)
            .with_max_time(self.nb_steps as f64)
            .with_binary(true)
    }

    /// An [`EventBatcher`] with [`bin_config`](Self::bin_config): batches of
    /// `[batch, nb_steps, nb_units]` spikes for burn's `DataLoader`.
    pub fn batcher(&self) -> crate::Result<EventBatcher> {
        self.validate()?;
        EventBatcher::new(self.bin_config())
    }
}

/// One smooth random manifold (`TorchRandman`): `units` random functions of a point of
/// `[0, 1)^dim`.
#[derive(Clone, Debug)]
pub struct Randman {
    units: usize,
    dim: usize,
    /// `theta[unit][d][j][f]`, row-major, `j = 0..3` (amplitude, frequency scale, phase).
    params: Vec<f64>,
    /// `s_f = 1 / ((f + 1)^alpha + 1)`.
    spectrum: Vec<f64>,
}

impl Randman {
    /// Draws a manifold's parameters for `config`'s units, dimension, alpha and cutoff from a
    /// generator seeded with `seed` ([`SpikeRng::next_f64`] each, in `theta`'s row-major order).
    pub fn new(config: &RandmanConfig, seed: u64) -> Self {
        let cutoff =
            (config.prec.powf(-1.0 / config.alpha).ceil() as usize).clamp(1, config.max_f_cutoff);
        let mut rng = SpikeRng::new(seed);
        let n = config.nb_units * config.dim_manifold * 3 * cutoff;
        let params: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
        Self::from_params(
            config.nb_units,
            config.dim_manifold,
            config.alpha,
            params,
            config.use_bias,
        )
    }

    /// A manifold with given parameters `theta[unit][d][j][f]` (row-major, `j = 0..3`); the
    /// cutoff is `params.len() / (units * dim * 3)`. Without `use_bias`, the constant term's
    /// amplitude `theta[..][..][0][0]` is set to 0.
    pub fn from_params(
        units: usize,
        dim: usize,
        alpha: f64,
        mut params: Vec<f64>,
        use_bias: bool,
    ) -> Self {
        let cutoff = params.len() / (units * dim * 3).max(1);
        if !use_bias {
            for ud in 0..units * dim {
                params[ud * 3 * cutoff] = 0.0;
            }
        }
        let spectrum = (0..cutoff)
            .map(|f| 1.0 / (((f + 1) as f64).powf(alpha) + 1.0))
            .collect();
        Self {
            units,
            dim,
            params,
            spectrum,
        }
    }

    /// The embedding `y_u(x) = prod_d g_{u,d}(x_d)` of a point `x` (`dim` coordinates), one
    /// value per unit.
    pub fn eval(&self, x: &[f64]) -> Vec<f64> {
        let cutoff = self.spectrum.len();
        (0..self.units)
            .map(|u| {
                (0..self.dim)
                    .map(|d| {
                        let theta = &self.params[(u * self.dim + d) * 3 * cutoff..];
                        (0..cutoff)
                            .map(|f| {
                                let phase =
                                    f as f64 * x[d] * theta[cutoff + f] + theta[2 * cutoff + f];
                                theta[f] * self.spectrum[f] * (std::f64::consts::TAU * phase).sin()
                            })
                            .sum::<f64>()
                    })
                    .product()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eval_matches_the_formula_by_hand() {
        // One unit, one dimension, cutoff 2, alpha 2: s = [1/2, 1/5].
        // theta0 = [a0, a1] (a0 zeroed without bias), theta1 = [b0, b1], theta2 = [c0, c1].
        let params = vec![0.9, 0.8, 0.3, 0.7, 0.25, 0.1];
        let m = Randman::from_params(1, 1, 2.0, params, false);
        let x = 0.4;
        let tau = std::f64::consts::TAU;
        let want = 0.8 / 5.0 * (tau * (1.0 * x * 0.7 + 0.1)).sin();
        assert!((m.eval(&[x])[0] - want).abs() < 1e-12);
        let with_bias = Randman::from_params(1, 1, 2.0, vec![0.9, 0.8, 0.3, 0.7, 0.25, 0.1], true);
        let want = want + 0.9 / 2.0 * (tau * 0.25).sin();
        assert!((with_bias.eval(&[x])[0] - want).abs() < 1e-12);
    }

    #[test]
    fn cutoff_follows_prec_and_alpha() {
        let m = Randman::new(&RandmanConfig::new(), 1);
        assert_eq!(m.spectrum.len(), 32, "ceil(1e-3^(-1/2)) = ceil(31.6)");
        assert!((m.spectrum[0] - 0.5).abs() < 1e-15);
    }
}

//! Surrogate derivatives for the spike function.
//!
//! The forward pass of a spike is the Heaviside step, whose derivative is zero almost
//! everywhere. Surrogate-gradient training keeps the exact step forward and uses a smooth
//! pseudo-derivative `σ'(x)` backward, where `x = v - threshold` (Neftci, Mostafa & Zenke 2019).
//!
//! Names collide across the peer libraries (Norse's SuperSpike is `1/(1+α|x|)²`, SpikingJelly's
//! `SuperSpike` is `α/(|x|+1)²`), so each variant here is named by its formula and documents which
//! peer function it reproduces and with which parameter.

use serde::{Deserialize, Serialize};

use crate::error::{Result, positive};

/// The pseudo-derivative `σ'(x)` used by the spike function's backward pass, `x = v - threshold`.
///
/// The default constructors ([`Surrogate::superspike`], [`Surrogate::fast_sigmoid`], ...) use the
/// default parameter of the peer library each formula comes from.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Surrogate {
    /// SuperSpike (Zenke & Ganguli 2018): `σ'(x) = 1 / (1 + α|x|)²`.
    ///
    /// Norse `superspike` (`method="super"`, nominal `alpha = 100`, the default here); Spyx
    /// `superspike(k)` (`k = 25`). Note: Norse 1.1.0's backward ignores its `alpha` and computes
    /// `1/(1+|x|)²`; use `alpha = 1` to reproduce Norse 1.1.0's gradients.
    SuperSpike {
        /// Steepness `α` (dimensionless, per unit of `x`). Default 100.
        alpha: f32,
    },
    /// Fast sigmoid: `σ'(x) = 1 / (1 + k|x|)²`, the derivative of `x / (1 + k|x|)`.
    ///
    /// snnTorch `surrogate.fast_sigmoid(slope=25)`. The same formula as [`Surrogate::SuperSpike`]
    /// under snnTorch's name and default.
    FastSigmoid {
        /// Slope `k`. Default 25.
        slope: f32,
    },
    /// Arctangent: `σ'(x) = (α/2) / (1 + (π/2 · α · x)²)`, the derivative of `atan(π/2 · α x)/π`.
    ///
    /// snnTorch `surrogate.atan(alpha=2)` and SpikingJelly `surrogate.ATan(alpha=2)`. (Spyx's
    /// `arctan(k)` is `1/(π(1 + (kπx)²))`: the same shape with `α = 2k` but a peak of `1/π`
    /// instead of `k`; see [`Surrogate::ArctanInvPi`].)
    Arctan {
        /// `α`. Default 2.
        alpha: f32,
    },
    /// Arctangent with a peak of `1/π` whatever the width: `σ'(x) = 1 / (π (1 + (kπx)²))`, the
    /// derivative of `atan(kπx) / (kπ²)`.
    ///
    /// Spyx `axn.arctan(k=2)` (the default here). [`Surrogate::Arctan`] with `α = 2k` has the
    /// same width but `k·π` times the height, so neither can stand for the other.
    ArctanInvPi {
        /// Width factor `k` (the half-height width is `1/(kπ)`). Default 2.
        k: f32,
    },
    /// Logistic sigmoid: `σ'(x) = α s (1 - s)` with `s = 1 / (1 + e^(-αx))`.
    ///
    /// SpikingJelly `surrogate.Sigmoid(alpha=4)` (the default here); snnTorch
    /// `surrogate.sigmoid(slope=25)` is the same formula with `α = 25`.
    Sigmoid {
        /// `α`. Default 4.
        alpha: f32,
    },
    /// Triangle: `σ'(x) = h · max(0, 1 - k|x|)` (Esser et al. 2016).
    ///
    /// Spyx `triangular(k=2)` is `k = 2, h = 1` (the default here); Norse's `tent` method with
    /// parameter `alpha` is `k = 1, h = alpha`.
    Triangle {
        /// Inverse half-width `k`: the window is `|x| < 1/k`. Default 2.
        k: f32,
        /// Peak height `h` at `x = 0`. Default 1.
        height: f32,
    },
    /// Boxcar: `σ'(x) = h` where `|x| < w/2`, else 0.
    ///
    /// Spyx `boxcar(width=2, height=0.5)` (the default here).
    Boxcar {
        /// Full width `w` of the window. Default 2.
        width: f32,
        /// Height `h` inside the window. Default 0.5.
        height: f32,
    },
    /// Straight-through estimator: `σ'(x) = 1`, the upstream gradient passes unchanged.
    ///
    /// snnTorch `surrogate.straight_through_estimator()`, Spyx `custom()` with its defaults.
    StraightThrough,
}

impl Default for Surrogate {
    /// [`Surrogate::superspike`], Norse's default.
    fn default() -> Self {
        Self::superspike()
    }
}

impl Surrogate {
    /// SuperSpike with Norse's default `alpha = 100`.
    pub const fn superspike() -> Self {
        Self::SuperSpike { alpha: 100.0 }
    }
    /// Fast sigmoid with snnTorch's default `slope = 25`.
    pub const fn fast_sigmoid() -> Self {
        Self::FastSigmoid { slope: 25.0 }
    }
    /// Arctangent with snnTorch's and SpikingJelly's default `alpha = 2`.
    pub const fn arctan() -> Self {
        Self::Arctan { alpha: 2.0 }
    }
    /// Spyx's arctangent with its default `k = 2`.
    pub const fn arctan_inv_pi() -> Self {
        Self::ArctanInvPi { k: 2.0 }
    }
    /// Logistic sigmoid with SpikingJelly's default `alpha = 4`.
    pub const fn sigmoid() -> Self {
        Self::Sigmoid { alpha: 4.0 }
    }
    /// Triangle with Spyx's default `k = 2` and height 1.
    pub const fn triangle() -> Self {
        Self::Triangle {
            k: 2.0,
            height: 1.0,
        }
    }
    /// Boxcar with Spyx's defaults `width = 2`, `height = 0.5`.
    pub const fn boxcar() -> Self {
        Self::Boxcar {
            width: 2.0,
            height: 0.5,
        }
    }

    /// Checks the parameters: each must be finite and `> 0`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Self::SuperSpike { alpha } => positive("surrogate.alpha", alpha.into()).map(drop),
            Self::FastSigmoid { slope } => positive("surrogate.slope", slope.into()).map(drop),
            Self::Arctan { alpha } | Self::Sigmoid { alpha } => {
                positive("surrogate.alpha", alpha.into()).map(drop)
            }
            Self::ArctanInvPi { k } => positive("surrogate.k", k.into()).map(drop),
            Self::Triangle { k, height } => {
                positive("surrogate.k", k.into())?;
                positive("surrogate.height", height.into()).map(drop)
            }
            Self::Boxcar { width, height } => {
                positive("surrogate.width", width.into())?;
                positive("surrogate.height", height.into()).map(drop)
            }
            Self::StraightThrough => Ok(()),
        }
    }

    /// The closed form `σ'(x)` in `f64`, for checks, plots and documentation. The tensor version
    /// used in training is [`crate::spike::SpikeBackend::surrogate_backward`].
    pub fn derivative(&self, x: f64) -> f64 {
        use core::f64::consts::FRAC_PI_2;
        match *self {
            Self::SuperSpike { alpha: k } | Self::FastSigmoid { slope: k } => {
                let d = 1.0 + f64::from(k) * x.abs();
                1.0 / (d * d)
            }
            Self::Arctan { alpha } => {
                let a = f64::from(alpha);
                let u = FRAC_PI_2 * a * x;
                (a / 2.0) / (1.0 + u * u)
            }
            Self::ArctanInvPi { k } => {
                let u = f64::from(k) * core::f64::consts::PI * x;
                1.0 / (core::f64::consts::PI * (1.0 + u * u))
            }
            Self::Sigmoid { alpha } => {
                let a = f64::from(alpha);
                let s = 1.0 / (1.0 + (-a * x).exp());
                a * s * (1.0 - s)
            }
            Self::Triangle { k, height } => {
                f64::from(height) * (1.0 - f64::from(k) * x.abs()).max(0.0)
            }
            Self::Boxcar { width, height } => {
                if x.abs() < f64::from(width) / 2.0 {
                    f64::from(height)
                } else {
                    0.0
                }
            }
            Self::StraightThrough => 1.0,
        }
    }

    /// The largest value of `σ'`, `σ'(0)` (every variant peaks at 0 when its parameters pass
    /// [`Surrogate::validate`]). The fused CPU op packs `σ'` as a fraction of it.
    pub fn peak(&self) -> f64 {
        self.derivative(0.0)
    }

    /// The smooth function whose derivative is [`Surrogate::derivative`], where one exists in
    /// closed form (`None` for the piecewise surrogates). Finite differences of this function
    /// check the backward pass.
    pub fn primitive(&self, x: f64) -> Option<f64> {
        use core::f64::consts::{FRAC_PI_2, PI};
        match *self {
            // d/dx [x / (1 + k|x|)] / ... : x/(1+k|x|) has derivative 1/(1+k|x|)^2
            Self::SuperSpike { alpha: k } | Self::FastSigmoid { slope: k } => {
                Some(x / (1.0 + f64::from(k) * x.abs()))
            }
            Self::Arctan { alpha } => Some((FRAC_PI_2 * f64::from(alpha) * x).atan() / PI),
            Self::ArctanInvPi { k } => {
                let k_pi = f64::from(k) * PI;
                Some((k_pi * x).atan() / (k_pi * PI))
            }
            Self::Sigmoid { alpha } => Some(1.0 / (1.0 + (-f64::from(alpha) * x).exp())),
            Self::StraightThrough => Some(x),
            Self::Triangle { .. } | Self::Boxcar { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peaks_match_the_peer_formulas() {
        assert_eq!(Surrogate::superspike().derivative(0.0), 1.0);
        assert!((Surrogate::arctan().derivative(0.0) - 1.0).abs() < 1e-12);
        assert!((Surrogate::sigmoid().derivative(0.0) - 1.0).abs() < 1e-12);
        assert_eq!(Surrogate::triangle().derivative(0.25), 0.5);
        assert_eq!(Surrogate::triangle().derivative(0.5), 0.0);
        assert_eq!(Surrogate::boxcar().derivative(0.99), 0.5);
        assert_eq!(Surrogate::boxcar().derivative(1.0), 0.0);
        // snnTorch fast_sigmoid(25) at x = 0.1: 1/(1+2.5)^2
        assert!((Surrogate::fast_sigmoid().derivative(-0.1) - 1.0 / 12.25).abs() < 1e-12);
    }

    #[test]
    fn primitive_differentiates_to_derivative() {
        for s in [
            Surrogate::superspike(),
            Surrogate::fast_sigmoid(),
            Surrogate::arctan(),
            Surrogate::arctan_inv_pi(),
            Surrogate::sigmoid(),
            Surrogate::StraightThrough,
        ] {
            for &x in &[-0.7, -0.05, 0.013, 0.3, 1.9] {
                let h = 1e-6;
                let f = |x| s.primitive(x).unwrap();
                let fd = (f(x + h) - f(x - h)) / (2.0 * h);
                assert!((fd - s.derivative(x)).abs() < 1e-5, "{s:?} at {x}: {fd}");
            }
        }
    }

    #[test]
    fn invalid_parameters_are_named() {
        let err = Surrogate::Arctan { alpha: 0.0 }.validate().unwrap_err();
        assert!(err.to_string().contains("surrogate.alpha"), "{err}");
        let err = Surrogate::Boxcar {
            width: 1.0,
            height: f32::NAN,
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains("surrogate.height"), "{err}");
    }

    #[test]
    fn serde_round_trip() {
        let s = Surrogate::Triangle {
            k: 1.0,
            height: 3.0,
        };
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(json, r#"{"Triangle":{"k":1.0,"height":3.0}}"#);
        assert_eq!(serde_json::from_str::<Surrogate>(&json).unwrap(), s);
    }
}

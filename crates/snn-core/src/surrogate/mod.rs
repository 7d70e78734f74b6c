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

    /// The closed form `σ'(x)` in `f64`, for checks, plots and documentation: the host formula
    /// the CPU loops run in `f32` (`Surrogate::kernel_parameters`, `host_derivative`),
    /// evaluated in `f64`. The tensor version used in training is
    /// [`crate::spike::SpikeBackend::surrogate_backward`].
    pub fn derivative(&self, x: f64) -> f64 {
        let (kind, p1, p2) = self.kernel_parameters::<f64>();
        host_derivative(kind, p1, p2, x)
    }

    /// The surrogate as a formula kind and its two parameters `(p1, p2)`, precomputed once per
    /// sequence in the float type of the loop: what the host formula ([`host_derivative`]) and
    /// the CubeCL kernel's read (see [`SurrogateKind`] for what `p1` and `p2` are).
    pub(crate) fn kernel_parameters<R: Real>(&self) -> (SurrogateKind, R, R) {
        let f = R::from_f32;
        match *self {
            Self::SuperSpike { alpha: k } | Self::FastSigmoid { slope: k } => {
                (SurrogateKind::Rational, f(k), R::ZERO)
            }
            Self::Arctan { alpha } => (
                SurrogateKind::Arctan,
                R::FRAC_PI_2 * f(alpha),
                f(alpha) / R::TWO,
            ),
            Self::ArctanInvPi { k } => (SurrogateKind::ArctanInvPi, f(k) * R::PI, R::PI),
            Self::Sigmoid { alpha } => (SurrogateKind::Sigmoid, f(alpha), R::ZERO),
            Self::Triangle { k, height } => (SurrogateKind::Triangle, -f(k), f(height)),
            Self::Boxcar { width, height } => (SurrogateKind::Boxcar, f(width) / R::TWO, f(height)),
            Self::StraightThrough => (SurrogateKind::StraightThrough, R::ZERO, R::ZERO),
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

/// The formula of a [`Surrogate`] as the loops run it, with the parameters `(p1, p2)` of
/// [`Surrogate::kernel_parameters`]. The discriminants are the CubeCL kernels' compile-time codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum SurrogateKind {
    /// `1 / (1 + p1·|x|)²`; `p1 = k` (SuperSpike's `α`, fast sigmoid's slope).
    Rational = 0,
    /// `p2 / (1 + (p1·x)²)`; `p1 = π/2·α`, `p2 = α/2`.
    Arctan = 1,
    /// `1 / ((1 + (p1·x)²)·p2)`; `p1 = k·π`, `p2 = π`.
    ArctanInvPi = 2,
    /// `s·(1 − s)·p1` with `s = 1 / (1 + e^(−p1·x))`; `p1 = α`.
    Sigmoid = 3,
    /// `max(0, 1 + p1·|x|)·p2`; `p1 = −k`, `p2 = height`.
    Triangle = 4,
    /// `p2` where `|x| < p1`, else 0; `p1 = width/2`, `p2 = height`.
    Boxcar = 5,
    /// 1.
    StraightThrough = 6,
}

/// The float types the host formula runs in: `f32` in the CPU loops, `f64` for
/// [`Surrogate::derivative`].
pub(crate) trait Real:
    Copy
    + PartialOrd
    + core::ops::Add<Output = Self>
    + core::ops::Sub<Output = Self>
    + core::ops::Mul<Output = Self>
    + core::ops::Div<Output = Self>
    + core::ops::Neg<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// 2.
    const TWO: Self;
    /// π.
    const PI: Self;
    /// π/2.
    const FRAC_PI_2: Self;
    /// A parameter, widened.
    fn from_f32(x: f32) -> Self;
    /// `|x|`.
    fn abs(self) -> Self;
    /// `e^x`.
    fn exp(self) -> Self;
    /// The larger of the two.
    fn max(self, other: Self) -> Self;
}

macro_rules! real {
    ($t:ident) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const TWO: Self = 2.0;
            const PI: Self = core::$t::consts::PI;
            const FRAC_PI_2: Self = core::$t::consts::FRAC_PI_2;
            #[inline(always)]
            fn from_f32(x: f32) -> Self {
                x.into()
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
            #[inline(always)]
            fn exp(self) -> Self {
                $t::exp(self)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                $t::max(self, other)
            }
        }
    };
}
real!(f32);
real!(f64);

/// `σ'(x)` on the host: every surrogate formula, written once for host scalars (the CubeCL
/// spelling is `cube::derivative`). `#[inline(always)]` with a constant `kind`, it compiles to
/// the one formula (the CPU loops call it with `kind` fixed per loop instance).
#[inline(always)]
pub(crate) fn host_derivative<R: Real>(kind: SurrogateKind, p1: R, p2: R, x: R) -> R {
    match kind {
        SurrogateKind::Rational => {
            let d = x.abs() * p1 + R::ONE;
            R::ONE / (d * d)
        }
        SurrogateKind::Arctan => {
            let u = x * p1;
            p2 / (u * u + R::ONE)
        }
        SurrogateKind::ArctanInvPi => {
            let u = x * p1;
            R::ONE / ((u * u + R::ONE) * p2)
        }
        SurrogateKind::Sigmoid => {
            let s = R::ONE / (R::ONE + (-(x * p1)).exp());
            s * (R::ONE - s) * p1
        }
        SurrogateKind::Triangle => (x.abs() * p1 + R::ONE).max(R::ZERO) * p2,
        SurrogateKind::Boxcar => {
            if x.abs() < p1 {
                p2
            } else {
                R::ZERO
            }
        }
        SurrogateKind::StraightThrough => R::ONE,
    }
}

/// Runs `$body` with `$f` bound to `σ'` of `$surrogate` as an `f32` closure, one instance of
/// `$body` per formula (the kind is a constant in each, so the match folds away); with a leading
/// `needed` flag, a closure returning 0 when the flag is false (one instance of `$body` instead
/// of one per surrogate, for loops that do not evaluate it).
macro_rules! with_surrogate {
    ($needed:expr, $surrogate:expr, |$f:ident| $body:expr) => {
        if $needed {
            $crate::surrogate::with_surrogate!($surrogate, |$f| $body)
        } else {
            let $f = |_: f32| 0.0f32;
            $body
        }
    };
    ($surrogate:expr, |$f:ident| $body:expr) => {{
        use $crate::surrogate::{SurrogateKind as K, host_derivative};
        let (kind, p1, p2) = $surrogate.kernel_parameters::<f32>();
        match kind {
            K::Rational => {
                let $f = move |s: f32| host_derivative(K::Rational, p1, p2, s);
                $body
            }
            K::Arctan => {
                let $f = move |s: f32| host_derivative(K::Arctan, p1, p2, s);
                $body
            }
            K::ArctanInvPi => {
                let $f = move |s: f32| host_derivative(K::ArctanInvPi, p1, p2, s);
                $body
            }
            K::Sigmoid => {
                let $f = move |s: f32| host_derivative(K::Sigmoid, p1, p2, s);
                $body
            }
            K::Triangle => {
                let $f = move |s: f32| host_derivative(K::Triangle, p1, p2, s);
                $body
            }
            K::Boxcar => {
                let $f = move |s: f32| host_derivative(K::Boxcar, p1, p2, s);
                $body
            }
            K::StraightThrough => {
                let $f = |_: f32| 1.0f32;
                $body
            }
        }
    }};
}
pub(crate) use with_surrogate;

#[cfg(feature = "gpu")]
pub(crate) mod cube;

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

    /// Every surrogate worth testing: each kind, with non-default parameters too.
    fn every_surrogate() -> Vec<Surrogate> {
        vec![
            Surrogate::superspike(),
            Surrogate::SuperSpike { alpha: 3.0 },
            Surrogate::fast_sigmoid(),
            Surrogate::arctan(),
            Surrogate::Arctan { alpha: 0.7 },
            Surrogate::arctan_inv_pi(),
            Surrogate::sigmoid(),
            Surrogate::Sigmoid { alpha: 25.0 },
            Surrogate::triangle(),
            Surrogate::Triangle {
                k: 1.0,
                height: 3.0,
            },
            Surrogate::boxcar(),
            Surrogate::StraightThrough,
        ]
    }

    /// Points around 0 and past every window edge of the defaults.
    fn grid() -> impl Iterator<Item = f64> {
        (-60..=60).map(|k| f64::from(k) * 0.0371)
    }

    #[test]
    fn the_f32_host_formula_is_the_f64_derivative() {
        for s in every_surrogate() {
            let (kind, p1, p2) = s.kernel_parameters::<f32>();
            for x in grid() {
                let x = x as f32;
                let host = f64::from(host_derivative(kind, p1, p2, x));
                let want = s.derivative(x.into());
                // f32 arithmetic against f64 on the same input
                assert!(
                    (host - want).abs() <= 2e-6 * want.abs().max(1.0),
                    "{s:?} at {x}: {host} vs {want}"
                );
            }
        }
    }

    #[test]
    fn the_cpu_closures_are_the_host_formula() {
        for s in every_surrogate() {
            let (kind, p1, p2) = s.kernel_parameters::<f32>();
            let values = with_surrogate!(s, |f| grid().map(|x| f(x as f32)).collect::<Vec<_>>());
            let want: Vec<f32> = grid()
                .map(|x| host_derivative(kind, p1, p2, x as f32))
                .collect();
            assert_eq!(values, want, "{s:?}");
            let unused = with_surrogate!(false, s, |f| f(0.0));
            assert_eq!(unused, 0.0, "{s:?}: a loop that does not need σ' gets 0");
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

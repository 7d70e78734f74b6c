//! The rotated 2-D covariance matrix and the Gaussian kernel sampled on a square grid.

use core::f64::consts::PI;

use burn::prelude::*;

use super::{linspace, read_scalar};
use crate::error::{Result, SnnError, finite, nonzero, positive};

/// Norse's default half-width of the grid of [`gaussian_kernel`]: it samples `[−8, 8]²`.
pub const GAUSSIAN_KERNEL_DEFAULT_DOMAIN: f64 = 8.0;

/// The 2-D covariance matrix with standard deviations `sigma1` (major axis) and `sigma2`, the
/// major axis rotated by `phi` radians from the first coordinate (Norse `covariance_matrix`):
///
/// ```text
/// λ1 = σ1²,  λ2 = σ2²
/// c = [[λ1 cos²φ + λ2 sin²φ,  (λ1 − λ2) cos φ sin φ],
///      [(λ1 − λ2) cos φ sin φ, λ1 sin²φ + λ2 cos²φ ]]
/// ```
///
/// i.e. `c = R(φ) diag(λ1, λ2) R(φ)ᵀ`, in squared grid units. Each argument is a `[1]` tensor
/// (give it `require_grad` to learn it); the result is `[2, 2]` on their device and is
/// differentiable with respect to all three.
///
/// # Errors
///
/// [`SnnError::ShapeMismatch`] if an argument is not of shape `[1]`,
/// [`SnnError::NotPositive`] if `sigma1` or `sigma2` is not finite and `> 0`,
/// [`SnnError::NotFinite`] if `phi` is not finite.
pub fn covariance_matrix(
    sigma1: Tensor<1>,
    sigma2: Tensor<1>,
    phi: Tensor<1>,
) -> Result<Tensor<2>> {
    positive("sigma1", read_scalar("covariance_matrix sigma1", &sigma1)?)?;
    positive("sigma2", read_scalar("covariance_matrix sigma2", &sigma2)?)?;
    finite("phi", read_scalar("covariance_matrix phi", &phi)?)?;
    Ok(covariance_unchecked(sigma1, sigma2, phi))
}

/// [`covariance_matrix`] without the checks: `[1]` tensors in, `[2, 2]` out.
pub(crate) fn covariance_unchecked(
    sigma1: Tensor<1>,
    sigma2: Tensor<1>,
    phi: Tensor<1>,
) -> Tensor<2> {
    let lambda1 = sigma1.square();
    let lambda2 = sigma2.square();
    let cos = phi.clone().cos();
    let sin = phi.sin();
    let cos2 = cos.clone().square();
    let sin2 = sin.clone().square();
    let cxx = lambda1.clone() * cos2.clone() + lambda2.clone() * sin2.clone();
    let cxy = (lambda1.clone() - lambda2.clone()) * cos * sin;
    let cyy = lambda1 * sin2 + lambda2 * cos2;
    Tensor::stack::<2>(
        vec![
            Tensor::cat(vec![cxx, cxy.clone()], 0),
            Tensor::cat(vec![cxy, cyy], 0),
        ],
        0,
    )
}

/// A `size × size` bivariate normal density with covariance `c`, sampled on the grid
/// `a = linspace(−domain, domain, size)` (Norse `gaussian_kernel`):
///
/// ```text
/// k[i][j] = exp(−½ pᵀ c⁻¹ p) / (2π √det c),   p = (x, y) = (a[j], a[i])
/// ```
///
/// `c` is a `[2, 2]` tensor in squared grid units (e.g. from [`covariance_matrix`]); the
/// kernel is differentiable with respect to it. The values are densities (not normalised to sum
/// to 1 on the grid). Norse's default `domain` is [`GAUSSIAN_KERNEL_DEFAULT_DOMAIN`].
///
/// # Errors
///
/// [`SnnError::ZeroSize`] for `size = 0`; [`SnnError::NotPositive`] for a `domain` that is not
/// finite and `> 0`; [`SnnError::ShapeMismatch`] if `c` is not `[2, 2]`;
/// [`SnnError::NotFinite`] (field `c`) if an entry of `c` is NaN or infinite;
/// [`SnnError::NotPositive`] (field `c[0][0]` or `det(c)`) if `c` is not positive definite.
/// Checking `c` reads its four entries back to the host.
pub fn gaussian_kernel(size: usize, c: Tensor<2>, domain: f64) -> Result<Tensor<2>> {
    nonzero("size", size)?;
    positive("domain", domain)?;
    let dims = c.dims();
    if dims != [2, 2] {
        return Err(SnnError::ShapeMismatch {
            context: "gaussian_kernel c",
            expected: "[2, 2]".to_string(),
            actual: dims.to_vec(),
        });
    }
    let v: Vec<f64> = c.to_data().iter::<f64>().collect();
    if let Some(&bad) = v.iter().find(|x| !x.is_finite()) {
        return Err(SnnError::NotFinite {
            field: "c",
            value: bad,
        });
    }
    positive("c[0][0]", v[0])?;
    positive("det(c)", v[0] * v[3] - v[1] * v[2])?;
    Ok(gaussian_kernel_unchecked(size, c, domain))
}

/// [`gaussian_kernel`] without the checks.
pub(crate) fn gaussian_kernel_unchecked(size: usize, c: Tensor<2>, domain: f64) -> Tensor<2> {
    let device = c.device();
    let a = linspace(-domain, domain, size);
    // meshgrid(a, a, indexing="xy"): x varies along the columns, y along the rows.
    let grid = |pick: &dyn Fn(usize, usize) -> f64| {
        let host: Vec<f32> = (0..size * size)
            .map(|k| pick(k / size, k % size) as f32)
            .collect();
        Tensor::<1>::from_floats(host.as_slice(), &device).reshape([size, size])
    };
    let xs = grid(&|_, j| a[j]);
    let ys = grid(&|i, _| a[i]);
    let entry = |i: usize, j: usize| c.clone().slice([i..i + 1, j..j + 1]);
    let (c00, c01, c10, c11) = (entry(0, 0), entry(0, 1), entry(1, 0), entry(1, 1));
    let det = c00.clone() * c11.clone() - c01.clone() * c10.clone();
    // pᵀ c⁻¹ p with c⁻¹ = [[c11, −c01], [−c10, c00]] / det.
    let quad = (xs.clone().square() * c11 - (xs * ys.clone()) * (c01 + c10) + ys.square() * c00)
        / det.clone();
    let density = (det.sqrt() * (2.0 * PI)).recip();
    (quad * -0.5).exp() * density
}

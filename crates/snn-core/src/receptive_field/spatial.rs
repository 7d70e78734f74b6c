//! Spatial receptive fields: normalised elongated Gaussians and their directional derivatives.

use core::f64::consts::FRAC_PI_2;

use burn::prelude::*;

use super::SpatialParameters;
use super::gaussian::{covariance_unchecked, gaussian_kernel_unchecked};
use super::read_scalar;
use crate::error::{Result, SnnError, finite, nonzero, positive};

/// Norse's default half-width of the grid of [`spatial_receptive_field`]: it samples `[−10, 10]²`.
pub const SPATIAL_RF_DEFAULT_DOMAIN: f64 = 10.0;

/// The first directional derivative of a 2-D kernel at `angle` radians (Norse `derive_kernel`):
///
/// ```text
/// D_θ k = cos θ · ∂₀k + sin θ · ∂₁k
/// ```
///
/// where `∂₀`, `∂₁` are `torch.gradient` along dimension 0 (rows, `y`) and 1 (columns, `x`)
/// with unit spacing: central differences `(k[i+1] − k[i−1]) / 2` inside, one-sided
/// differences `k[1] − k[0]` and `k[n−1] − k[n−2]` at the edges. Note that, as in Norse, angle
/// `0` differentiates along the rows (the `y` axis of the grid convention). Units: per grid
/// step. `kernel` is `[rows, cols]`, `angle` a `[1]` tensor; differentiable with respect to
/// both.
///
/// # Errors
///
/// [`SnnError::OutOfRange`] (field `kernel size`) if a dimension of `kernel` is below 2;
/// [`SnnError::ShapeMismatch`] if `angle` is not `[1]`; [`SnnError::NotFinite`] if `angle` is
/// not finite.
pub fn derive_kernel(kernel: Tensor<2>, angle: Tensor<1>) -> Result<Tensor<2>> {
    if let Some(&n) = kernel.dims().iter().find(|&&n| n < 2) {
        return Err(SnnError::out_of_range(
            "kernel size",
            "[2, inf) along both dimensions",
            n as f64,
        ));
    }
    finite("angle", read_scalar("derive_kernel angle", &angle)?)?;
    Ok(derive_unchecked(kernel, angle))
}

/// [`derive_kernel`] without the checks.
fn derive_unchecked(kernel: Tensor<2>, angle: Tensor<1>) -> Tensor<2> {
    let angle = angle.reshape([1, 1]);
    gradient(kernel.clone(), 0) * angle.clone().cos() + gradient(kernel, 1) * angle.sin()
}

/// `torch.gradient(k, dim)` with unit spacing and first-order edges; `k.dims()[dim] >= 2`.
fn gradient(k: Tensor<2>, dim: usize) -> Tensor<2> {
    let n = k.dims()[dim];
    let first = k.clone().narrow(dim, 1, 1) - k.clone().narrow(dim, 0, 1);
    let last = k.clone().narrow(dim, n - 1, 1) - k.clone().narrow(dim, n - 2, 1);
    if n == 2 {
        return Tensor::cat(vec![first, last], dim);
    }
    let inner = (k.clone().narrow(dim, 2, n - 2) - k.narrow(dim, 0, n - 2)) * 0.5;
    Tensor::cat(vec![first, inner, last], dim)
}

/// A `size × size` spatial receptive field (Norse `spatial_receptive_field`): the Gaussian with
/// covariance `scale · c(ratio, 1/ratio, angle)` (see
/// [`covariance_matrix`](super::covariance_matrix)), sampled on
/// `linspace(−domain, domain, size)²` by [`gaussian_kernel`](super::gaussian_kernel) and
/// normalised to sum 1, then differentiated `dx` times along `angle` and `dy` times along
/// `angle + π/2`, each derivative scale-normalised by Lindeberg's factor for `γ = 1`:
///
/// ```text
/// c  = scale · R(angle) diag(ratio², ratio⁻²) R(angle)ᵀ
/// k  = G_c / Σ G_c
/// k ← scale · D_angle k        (dx times)
/// k ← scale · D_{angle+π/2} k  (dy times, interleaved with the dx steps: x, y, x, y, ...)
/// ```
///
/// `D_θ` is [`derive_kernel`]; the factor is Norse's `calculate_normalization(1, scale, 1) =
/// scale^{1·(1−γ)} · (scale²)^{γ/2} = scale`. As in Norse, `scale` multiplies the covariance
/// (it acts as a variance, in squared grid units) while the normalisation treats it as a
/// standard deviation. `scale`, `angle` (radians) and `ratio` are `[1]` tensors, and the kernel is
/// differentiable with respect to all three. Norse's default `domain` is
/// [`SPATIAL_RF_DEFAULT_DOMAIN`]; Norse's defaults for `dx`, `dy` are 0.
///
/// # Errors
///
/// [`SnnError::ShapeMismatch`] if `scale`, `angle` or `ratio` is not `[1]`;
/// [`SnnError::NotPositive`] if `scale`, `ratio` or `domain` is not finite and `> 0`;
/// [`SnnError::NotFinite`] if `angle` is not finite; [`SnnError::ZeroSize`] for `size = 0`;
/// [`SnnError::OutOfRange`] (field `size`) for `size = 1` with a derivative (`dx + dy > 0`),
/// which needs two samples per axis.
pub fn spatial_receptive_field(
    scale: Tensor<1>,
    angle: Tensor<1>,
    ratio: Tensor<1>,
    size: usize,
    dx: usize,
    dy: usize,
    domain: f64,
) -> Result<Tensor<2>> {
    positive(
        "scale",
        read_scalar("spatial_receptive_field scale", &scale)?,
    )?;
    finite(
        "angle",
        read_scalar("spatial_receptive_field angle", &angle)?,
    )?;
    positive(
        "ratio",
        read_scalar("spatial_receptive_field ratio", &ratio)?,
    )?;
    check_grid(size, dx, dy, domain)?;
    Ok(spatial_unchecked(scale, angle, ratio, size, dx, dy, domain))
}

/// Checks the grid arguments of [`spatial_receptive_field`].
fn check_grid(size: usize, dx: usize, dy: usize, domain: f64) -> Result<()> {
    nonzero("size", size)?;
    positive("domain", domain)?;
    if size < 2 && dx + dy > 0 {
        return Err(SnnError::out_of_range(
            "size",
            "[2, inf) when a derivative is taken (dx + dy > 0)",
            size as f64,
        ));
    }
    Ok(())
}

/// [`spatial_receptive_field`] without the checks.
fn spatial_unchecked(
    scale: Tensor<1>,
    angle: Tensor<1>,
    ratio: Tensor<1>,
    size: usize,
    dx: usize,
    dy: usize,
    domain: f64,
) -> Tensor<2> {
    let scale = scale.reshape([1, 1]);
    let c = covariance_unchecked(ratio.clone(), ratio.recip(), angle.clone()) * scale.clone();
    let k = gaussian_kernel_unchecked(size, c, domain);
    let mut k = k.clone() / k.sum().reshape([1, 1]);
    let (mut dx, mut dy) = (dx, dy);
    while dx > 0 || dy > 0 {
        if dx > 0 {
            k = derive_unchecked(k, angle.clone()) * scale.clone();
            dx -= 1;
        }
        if dy > 0 {
            k = derive_unchecked(k, angle.clone() + FRAC_PI_2) * scale.clone();
            dy -= 1;
        }
    }
    k
}

/// The receptive fields of a list of parameter sets, stacked to `[params.len(), size, size]`
/// (Norse `spatial_receptive_fields_with_derivatives`; Norse's default `domain` there is 1).
/// Each field is [`spatial_receptive_field`] of one row, e.g. a row of
/// [`spatial_parameters`](super::spatial_parameters)'s output. The parameters are plain numbers, so these fields are
/// constants; build a field from `[1]` tensors with [`spatial_receptive_field`] to learn them.
///
/// # Errors
///
/// [`SnnError::ZeroSize`] (field `params`) for an empty list, and the errors of
/// [`SpatialParameters::receptive_field`] for the first bad row.
pub fn spatial_receptive_fields_with_derivatives(
    params: &[SpatialParameters],
    size: usize,
    domain: f64,
    device: &Device,
) -> Result<Tensor<3>> {
    if params.is_empty() {
        return Err(SnnError::ZeroSize { field: "params" });
    }
    let fields = params
        .iter()
        .map(|p| p.receptive_field(size, domain, device))
        .collect::<Result<Vec<_>>>()?;
    Ok(Tensor::stack(fields, 0))
}

impl SpatialParameters {
    /// This parameter set's receptive field, `[size, size]` on `device`:
    /// [`spatial_receptive_field`] with `scale`, `angle`, `ratio`, `dx`, `dy` from `self`.
    /// The parameters are plain numbers, so the field is a constant (no gradient).
    ///
    /// # Errors
    ///
    /// As [`spatial_receptive_field`]: [`SnnError::NotPositive`] for `scale`, `ratio` or
    /// `domain`, [`SnnError::NotFinite`] for `angle`, [`SnnError::ZeroSize`] /
    /// [`SnnError::OutOfRange`] for `size`.
    pub fn receptive_field(&self, size: usize, domain: f64, device: &Device) -> Result<Tensor<2>> {
        positive("scale", self.scale)?;
        finite("angle", self.angle)?;
        positive("ratio", self.ratio)?;
        check_grid(size, self.dx, self.dy, domain)?;
        let scalar = |v: f64| Tensor::<1>::from_floats([v as f32], device);
        Ok(spatial_unchecked(
            scalar(self.scale),
            scalar(self.angle),
            scalar(self.ratio),
            size,
            self.dx,
            self.dy,
            domain,
        ))
    }
}

#[cfg(test)]
#[allow(deprecated)] // the tests run on burn 0.22's deprecated NdArray backend too
mod tests {
    use super::*;

    fn host(t: Tensor<2>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn gradient_is_torch_gradient() {
        let device = Device::ndarray();
        // k[i][j] = i² + 10 j: ∂₀ = [1, 2, 4, 5] per column, ∂₁ = 10 everywhere.
        let k: Vec<f32> = (0..4)
            .flat_map(|i| (0..3).map(move |j| (i * i + 10 * j) as f32))
            .collect();
        let k = Tensor::<1>::from_floats(k.as_slice(), &device).reshape([4, 3]);
        let d0: Vec<f32> = [1.0, 2.0, 4.0, 5.0].iter().flat_map(|&v| [v; 3]).collect();
        assert_eq!(host(gradient(k.clone(), 0)), d0);
        assert_eq!(host(gradient(k.clone(), 1)), vec![10.0; 12]);
        // Two samples: both edges are the one forward difference.
        assert_eq!(host(gradient(k.narrow(0, 0, 2), 0)), vec![1.0; 6]);
    }

    #[test]
    fn an_undifferentiated_field_sums_to_one() {
        let device = Device::ndarray();
        let p = SpatialParameters {
            scale: 1.5,
            angle: 0.3,
            ratio: 2.0,
            dx: 0,
            dy: 0,
        };
        let sum: f32 = host(p.receptive_field(11, 5.0, &device).unwrap())
            .iter()
            .sum();
        assert!((sum - 1.0).abs() < 1e-5, "{sum}");
    }
}

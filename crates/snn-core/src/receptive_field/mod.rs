//! Receptive fields: Gaussian kernels, their directional derivatives and scale grids.
//!
//! A port of Norse 1.1.0's `norse.torch.functional.receptive_field`: spatial receptive fields
//! are γ-normalised directional derivatives of an elongated, rotated 2-D Gaussian sampled on a
//! square grid (Lindeberg's idealised receptive fields), and temporal scales follow Lindeberg's
//! logarithmic distribution. The kernels are built from burn tensor ops, so gradients flow to
//! every parameter given as a tensor (σ, φ, the covariance matrix, scale, angle, ratio).
//!
//! | item | Norse |
//! | --- | --- |
//! | [`covariance_matrix`] | `covariance_matrix(sigma1, sigma2, phi)` |
//! | [`gaussian_kernel`] | `gaussian_kernel(size, c, domain=8)` |
//! | [`derive_kernel`] | `derive_kernel(kernel, angle)` |
//! | [`spatial_receptive_field`] | `spatial_receptive_field(scale, angle, ratio, size, dx=0, dy=0, domain=10)` |
//! | [`spatial_parameters`], [`SpatialParameters`], [`Derivatives`] | `spatial_parameters(scales, angles, ratios, derivatives, include_replicas=False)` |
//! | [`spatial_receptive_fields_with_derivatives`] | `spatial_receptive_fields_with_derivatives(combinations, size, domain)` |
//! | [`temporal_scale_distribution`], [`temporal_scales`] | `temporal_scale_distribution(n_scales, min_scale=1, max_scale=None, c=1.41421)` |
//!
//! **Grid convention** (Norse's): a `size × size` kernel samples the coordinates
//! `a = linspace(−domain, domain, size)` (dimensionless grid units); entry `[i][j]` (row `i`,
//! column `j`) is the value at `x = a[j]`, `y = a[i]`. With `size = 1` the single sample sits at
//! `(−domain, −domain)`, as `torch.linspace` gives.
//!
//! **Validation**: scalar parameters given as `[1]` tensors are read back to the host once per
//! call to check them (one small device synchronisation), so that a bad value is a typed
//! [`SnnError`] instead of a kernel full of NaN.
//!
//! ```
//! use burn::prelude::*;
//! use snn_core::receptive_field::{SPATIAL_RF_DEFAULT_DOMAIN, spatial_receptive_field};
//!
//! # fn main() -> Result<(), snn_core::SnnError> {
//! let device = Device::flex().autodiff();
//! let scalar = |v: f32| Tensor::<1>::from_floats([v], &device).require_grad();
//! let (scale, angle, ratio) = (scalar(2.0), scalar(0.5), scalar(1.5));
//! // First directional derivative along the kernel's angle, on a 9 x 9 grid over [-4, 4]^2.
//! let k = spatial_receptive_field(scale, angle.clone(), ratio, 9, 1, 0, 4.0)?;
//! assert_eq!(k.dims(), [9, 9]);
//! let grads = (k.clone() * k).sum().backward();
//! assert!(angle.grad(&grads).is_some());
//! # let _ = SPATIAL_RF_DEFAULT_DOMAIN;
//! # Ok(())
//! # }
//! ```

mod gaussian;
mod parameters;
mod spatial;
mod temporal;

pub use gaussian::{GAUSSIAN_KERNEL_DEFAULT_DOMAIN, covariance_matrix, gaussian_kernel};
pub use parameters::{Derivatives, SpatialParameters, spatial_parameters};
pub use spatial::{
    SPATIAL_RF_DEFAULT_DOMAIN, derive_kernel, spatial_receptive_field,
    spatial_receptive_fields_with_derivatives,
};
pub use temporal::{
    TEMPORAL_SCALE_DEFAULT_BASE, TemporalScaleSpacing, temporal_scale_distribution, temporal_scales,
};

use burn::prelude::*;

use crate::error::{Result, SnnError};

/// Reads a scalar parameter given as a `[1]` tensor back to the host.
pub(crate) fn read_scalar(context: &'static str, t: &Tensor<1>) -> Result<f64> {
    let dims = t.dims();
    if dims != [1] {
        return Err(SnnError::ShapeMismatch {
            context,
            expected: "[1]".to_string(),
            actual: dims.to_vec(),
        });
    }
    Ok(t.to_data().iter::<f64>().next().unwrap_or(f64::NAN))
}

/// `torch.linspace(start, end, n)`: `n` evenly spaced points from `start` to `end`, the first
/// half counted from `start` and the second from `end` (as torch does, so that a symmetric range
/// gives exactly symmetric points). `n = 1` gives `[start]`.
pub(crate) fn linspace(start: f64, end: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![start];
    }
    let step = (end - start) / (n - 1) as f64;
    (0..n)
        .map(|i| {
            if i < n / 2 {
                start + step * i as f64
            } else {
                end - step * (n - 1 - i) as f64
            }
        })
        .collect()
}

#[cfg(test)]
#[allow(deprecated)] // the tests run on burn 0.22's deprecated NdArray backend too
mod tests {
    use super::*;

    #[test]
    fn linspace_matches_torch_and_is_symmetric() {
        assert_eq!(
            linspace(-4.0, 4.0, 9),
            [-4., -3., -2., -1., 0., 1., 2., 3., 4.]
        );
        assert_eq!(linspace(-8.0, 8.0, 1), [-8.0]);
        let a = linspace(-10.0, 10.0, 7);
        for i in 0..7 {
            assert_eq!(a[i], -a[6 - i]);
        }
    }

    #[test]
    fn read_scalar_checks_the_shape() {
        let device = Device::ndarray();
        let ok = Tensor::<1>::from_floats([2.5], &device);
        assert_eq!(read_scalar("s", &ok), Ok(2.5));
        let bad = Tensor::<1>::from_floats([1.0, 2.0], &device);
        assert!(matches!(
            read_scalar("s", &bad),
            Err(SnnError::ShapeMismatch { context: "s", .. })
        ));
    }
}

//! Population coding with Gaussian tuning curves (Norse `population_encode`).

use burn::prelude::*;

use super::check_rank;
use crate::error::{Result, nonzero, positive};

/// Norse `population_encode(x, out_features, scale, kernel=gaussian_rbf(sigma),
/// distance=euclidean)`: each value becomes the responses of `out_features` neurons whose
/// centres `c_j` are spaced evenly on `[0, scale]`:
/// `exp(−(x − c_j)²·scale / (2σ²))`. (Norse multiplies the squared distance by `scale`.)
///
/// `scale = None` uses the maximum of `x` (Norse's default). `x`: any shape; the output has one
/// more axis, last, of `out_features`.
pub fn population_encode<const D: usize, const E: usize>(
    x: Tensor<D>,
    out_features: usize,
    scale: Option<f64>,
    sigma: f64,
) -> Result<Tensor<E>> {
    check_rank::<D, E>(&x.dims(), "population_encode")?;
    nonzero("out_features", out_features)?;
    positive("sigma", sigma)?;
    let device = x.device();
    let scale: Tensor<E> = match scale {
        Some(s) => Tensor::<1>::from_floats([crate::error::finite("scale", s)? as f32], &device)
            .reshape([1; E]),
        None => x.clone().max().reshape([1; E]),
    };
    let mut centre_dims = [1usize; E];
    centre_dims[E - 1] = out_features;
    let spacing = 1.0 / (out_features.max(2) - 1) as f64;
    let centres = Tensor::<1, Int>::arange(0..out_features as i64, &device)
        .float()
        .reshape(centre_dims)
        * spacing
        * scale.clone();
    let x: Tensor<E> = x.unsqueeze_dim(D);
    let diff = x - centres;
    let distance = diff.clone() * diff * scale;
    Ok((distance / (-2.0 * sigma * sigma)).exp())
}

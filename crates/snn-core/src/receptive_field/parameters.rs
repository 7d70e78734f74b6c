//! The grid of spatial receptive-field parameters: scales × angles × ratios × derivatives.

use burn::prelude::*;

use crate::error::{Result, SnnError, finite, positive};

/// One spatial receptive field's parameters: a row of Norse's `spatial_parameters` output
/// `[scale, angle, ratio, dx, dy]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpatialParameters {
    /// The scale: multiplies the covariance (squared grid units) and each derivative.
    pub scale: f64,
    /// The rotation of the major axis, in radians.
    pub angle: f64,
    /// The eccentricity: the standard deviations along the two axes are `ratio` and `1/ratio`
    /// before scaling.
    pub ratio: f64,
    /// How many derivatives along `angle`.
    pub dx: usize,
    /// How many derivatives along `angle + π/2`.
    pub dy: usize,
}

impl SpatialParameters {
    /// The rows stacked into Norse's `[rows.len(), 5]` float tensor, columns
    /// `[scale, angle, ratio, dx, dy]`.
    ///
    /// # Errors
    ///
    /// [`SnnError::ZeroSize`] (field `rows`) for an empty list.
    pub fn to_tensor(rows: &[Self], device: &Device) -> Result<Tensor<2>> {
        if rows.is_empty() {
            return Err(SnnError::ZeroSize { field: "rows" });
        }
        let host: Vec<f32> = rows
            .iter()
            .flat_map(|p| [p.scale, p.angle, p.ratio, p.dx as f64, p.dy as f64])
            .map(|v| v as f32)
            .collect();
        Ok(Tensor::<1>::from_floats(host.as_slice(), device).reshape([rows.len(), 5]))
    }
}

/// Which derivative orders `(dx, dy)` [`spatial_parameters`] combines with each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Derivatives {
    /// Norse's integer form `n`: every `(dx, dy)` with `0 <= dx, dy <= n`, `dx` outer, `dy`
    /// inner (`(0,0), (0,1), …, (n,n)`); `0` gives only `(0, 0)`.
    UpTo(usize),
    /// Norse's list form: exactly these pairs, in this order.
    List(Vec<(usize, usize)>),
}

impl Derivatives {
    /// The `(dx, dy)` pairs, in order.
    ///
    /// # Errors
    ///
    /// [`SnnError::ZeroSize`] (field `derivatives`) for an empty list.
    pub fn pairs(&self) -> Result<Vec<(usize, usize)>> {
        match self {
            Self::UpTo(n) => Ok((0..=*n)
                .flat_map(|x| (0..=*n).map(move |y| (x, y)))
                .collect()),
            Self::List(pairs) if pairs.is_empty() => Err(SnnError::ZeroSize {
                field: "derivatives",
            }),
            Self::List(pairs) => Ok(pairs.clone()),
        }
    }
}

/// The Cartesian product of scales, angles, ratios and derivative orders (Norse
/// `spatial_parameters`), one [`SpatialParameters`] per receptive field.
///
/// The fields are ordered scale-major, then angle, then ratio (`torch.cartesian_prod`), each
/// repeated once per `(dx, dy)` pair of `derivatives` (pairs inner-most). With
/// `include_replicas = false` and at least one ratio equal to 1, the fields with `ratio != 1`
/// come first and those with `ratio == 1` (circular) after them, each block in the same order.
/// As in Norse 1.1.0 this only reorders: circular fields are still repeated for every angle.
/// Of the `len(scales) · len(angles) · len(ratios) · len(pairs)` rows, none is dropped.
/// Units: `scale` as in [`spatial_receptive_field`](super::spatial_receptive_field), angles in
/// radians. Use [`SpatialParameters::to_tensor`] for Norse's `[N, 5]` tensor.
///
/// # Errors
///
/// [`SnnError::ZeroSize`] (field `scales`, `angles`, `ratios` or `derivatives`) for an empty
/// list; [`SnnError::NotPositive`] for a scale or ratio that is not finite and `> 0`;
/// [`SnnError::NotFinite`] for a non-finite angle.
pub fn spatial_parameters(
    scales: &[f64],
    angles: &[f64],
    ratios: &[f64],
    derivatives: &Derivatives,
    include_replicas: bool,
) -> Result<Vec<SpatialParameters>> {
    for (field, list) in [("scales", scales), ("angles", angles), ("ratios", ratios)] {
        if list.is_empty() {
            return Err(SnnError::ZeroSize { field });
        }
    }
    for &s in scales {
        positive("scale", s)?;
    }
    for &a in angles {
        finite("angle", a)?;
    }
    for &r in ratios {
        positive("ratio", r)?;
    }
    let pairs = derivatives.pairs()?;
    // Norse concatenates two Cartesian products: the asymmetric ratios (`!= 1`) over scales ×
    // angles, then the symmetric ones (`== 1`).
    let blocks: Vec<Vec<f64>> = if include_replicas || !ratios.contains(&1.0) {
        vec![ratios.to_vec()]
    } else {
        let (symmetric, asymmetric): (Vec<f64>, Vec<f64>) =
            ratios.iter().copied().partition(|&r| r == 1.0);
        vec![asymmetric, symmetric]
    };
    let mut rows = Vec::with_capacity(scales.len() * angles.len() * ratios.len() * pairs.len());
    for block in &blocks {
        for &scale in scales {
            for &angle in angles {
                for &ratio in block {
                    for &(dx, dy) in &pairs {
                        rows.push(SpatialParameters {
                            scale,
                            angle,
                            ratio,
                            dx,
                            dy,
                        });
                    }
                }
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn triples(rows: &[SpatialParameters]) -> Vec<(f64, f64, f64)> {
        rows.iter()
            .filter(|p| p.dx == 0 && p.dy == 0)
            .map(|p| (p.scale, p.angle, p.ratio))
            .collect()
    }

    #[test]
    fn replicas_keep_the_cartesian_order() {
        let rows = spatial_parameters(
            &[1.0, 2.0],
            &[0.0],
            &[1.0, 3.0],
            &Derivatives::UpTo(0),
            true,
        )
        .unwrap();
        assert_eq!(
            triples(&rows),
            [
                (1.0, 0.0, 1.0),
                (1.0, 0.0, 3.0),
                (2.0, 0.0, 1.0),
                (2.0, 0.0, 3.0)
            ]
        );
    }

    #[test]
    fn circular_fields_go_last_without_replicas() {
        let rows = spatial_parameters(
            &[1.0, 2.0],
            &[0.0],
            &[1.0, 3.0],
            &Derivatives::UpTo(0),
            false,
        )
        .unwrap();
        assert_eq!(
            triples(&rows),
            [
                (1.0, 0.0, 3.0),
                (2.0, 0.0, 3.0),
                (1.0, 0.0, 1.0),
                (2.0, 0.0, 1.0)
            ]
        );
    }

    #[test]
    fn derivative_lists_are_kept_in_order() {
        let d = Derivatives::List(vec![(2, 0), (0, 1)]);
        let rows = spatial_parameters(&[1.0], &[0.5], &[2.0], &d, false).unwrap();
        let orders: Vec<_> = rows.iter().map(|p| (p.dx, p.dy)).collect();
        assert_eq!(orders, [(2, 0), (0, 1)]);
        assert_eq!(
            Derivatives::UpTo(1).pairs().unwrap(),
            [(0, 0), (0, 1), (1, 0), (1, 1)]
        );
    }
}

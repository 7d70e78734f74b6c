//! Delta modulation (snnTorch `spikegen.delta`).

use burn::prelude::*;

use crate::error::{Result, SnnError, finite};

/// snnTorch `spikegen.delta(data, threshold=0.1, padding=False, off_spike=False)`: a spike where
/// the signal rose by at least `threshold` since the previous step, and with `off_spike` a
/// `−1.0` where it fell by at least `threshold`.
///
/// `data`: `[batch, time, features...]`. The first step is compared with 0, or with itself
/// when `padding` (no spike at the first step).
pub fn delta_encode<const E: usize>(
    data: Tensor<E>,
    threshold: f64,
    padding: bool,
    off_spike: bool,
) -> Result<Tensor<E>> {
    finite("threshold", threshold)?;
    let dims = data.dims();
    if E < 2 || dims[1] == 0 {
        return Err(SnnError::RankMismatch {
            context: "delta_encode",
            expected: ">= 2 ([batch, time >= 1, features...])",
            actual: E,
            shape: dims.to_vec(),
        });
    }
    let first = data.clone().narrow(1, 0, 1);
    let first = if padding { first } else { first.zeros_like() };
    let previous = Tensor::cat(vec![first, data.clone().narrow(1, 0, dims[1] - 1)], 1);
    let change = data - previous;
    let on = change.clone().greater_equal_elem(threshold).float();
    Ok(if off_spike {
        on - change.lower_equal_elem(-threshold).float()
    } else {
        on
    })
}

//! Logical operations on spike bit-vectors (Norse `logical`). Inputs are 0/1 tensors of one
//! shape; the results are 0/1 tensors, differentiable where Norse's are.

use burn::prelude::*;

use crate::spike::spike;
use crate::surrogate::Surrogate;

/// The surrogate of Norse's `super_fn`, which its logical ops use: `1/(1 + |x|)²`.
const NORSE_SUPERSPIKE: Surrogate = Surrogate::SuperSpike { alpha: 1.0 };

/// `x ∧ y = x·y`.
pub fn logical_and<const D: usize>(x: Tensor<D>, y: Tensor<D>) -> Tensor<D> {
    x * y
}

/// `x ∨ y = H(x + y)`, with Norse's SuperSpike backward `1/(1 + |x + y|)²`.
pub fn logical_or<const D: usize>(x: Tensor<D>, y: Tensor<D>) -> Tensor<D> {
    spike(x + y, NORSE_SUPERSPIKE)
}

/// `x ⊕ y = |x − y|`.
pub fn logical_xor<const D: usize>(x: Tensor<D>, y: Tensor<D>) -> Tensor<D> {
    (x - y).abs()
}

/// Muller C-element: 1 when both inputs are 1, 0 when both are 0, otherwise the previous output
/// `y_prev`: `H(x₁·x₂ + (x₁ + x₂)·y_prev)` (Norse `muller_c`).
pub fn muller_c<const D: usize>(y_prev: Tensor<D>, x1: Tensor<D>, x2: Tensor<D>) -> Tensor<D> {
    spike(
        x1.clone() * x2.clone() + (x1 + x2) * y_prev,
        NORSE_SUPERSPIKE,
    )
}

/// Positive-edge detector: 1 where `z` spikes and `z_prev` did not, `(1 − z_prev)·z`.
pub fn posedge_detector<const D: usize>(z: Tensor<D>, z_prev: Tensor<D>) -> Tensor<D> {
    (z_prev.neg() + 1.0) * z
}

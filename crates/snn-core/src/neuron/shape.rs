//! Shape checks and the time loop shared by the neuron layers.

use burn::prelude::*;

use crate::error::{Result, SnnError};

/// Flattens a sequence `[batch, time, features...]` to `[batch, time, size]`, checking that the
/// features hold `size` neurons.
pub(crate) fn sequence<const D: usize>(
    input: Tensor<D>,
    size: usize,
    context: &'static str,
) -> Result<Tensor<3>> {
    let dims = input.dims();
    if D < 3 {
        return Err(SnnError::RankMismatch {
            context,
            expected: ">= 3 ([batch, time, features...])",
            actual: D,
            shape: dims.to_vec(),
        });
    }
    let features: usize = dims[2..].iter().product();
    if features != size || dims[1] == 0 {
        return Err(SnnError::ShapeMismatch {
            context,
            expected: format!("[batch, time >= 1, features...] with {size} features in all"),
            actual: dims.to_vec(),
        });
    }
    Ok(input.reshape([dims[0], dims[1], size]))
}

/// Flattens one step `[batch, features...]` to `[batch, size]`, checking the feature count.
pub(crate) fn step<const D: usize>(
    input: Tensor<D>,
    size: usize,
    context: &'static str,
) -> Result<Tensor<2>> {
    let dims = input.dims();
    if D < 2 {
        return Err(SnnError::RankMismatch {
            context,
            expected: ">= 2 ([batch, features...])",
            actual: D,
            shape: dims.to_vec(),
        });
    }
    let features: usize = dims[1..].iter().product();
    if features != size {
        return Err(SnnError::ShapeMismatch {
            context,
            expected: format!("[batch, features...] with {size} features in all"),
            actual: dims.to_vec(),
        });
    }
    Ok(input.reshape([dims[0], size]))
}

/// The output dims of a layer with `inputs` input features and `size` neurons for an input of
/// `dims` (already checked to hold `inputs` features): `dims` itself when the two agree, else
/// `dims` with its last feature dimension set to `size`. A layer whose input size differs from
/// its size needs all input features on the last axis.
pub(crate) fn output_dims<const D: usize>(
    dims: [usize; D],
    inputs: usize,
    size: usize,
    context: &'static str,
) -> Result<[usize; D]> {
    if inputs == size {
        return Ok(dims);
    }
    // the feature axes (checked) multiply to `inputs`: the last holding all of them leaves the
    // others at 1, so the output keeps the rank with the last axis resized
    if dims[D - 1] != inputs {
        return Err(SnnError::ShapeMismatch {
            context,
            expected: format!("flat features: [batch, (time,) {inputs}]"),
            actual: dims.to_vec(),
        });
    }
    let mut out = dims;
    out[D - 1] = size;
    Ok(out)
}

/// Checks that a state tensor is `[batch, size]`.
pub(crate) fn state(
    tensor: &Tensor<2>,
    batch: usize,
    size: usize,
    context: &'static str,
) -> Result<()> {
    let dims = tensor.dims();
    if dims != [batch, size] {
        return Err(SnnError::ShapeMismatch {
            context,
            expected: format!("[{batch}, {size}] (batch, size)"),
            actual: dims.to_vec(),
        });
    }
    Ok(())
}

/// A sequence run by [`unroll`].
pub(crate) struct Unrolled<S, const D: usize> {
    /// The per-step outputs stacked to `[batch, time, features...]`.
    pub output: Tensor<D>,
    /// The state after the last step.
    pub state: S,
    /// The state after every step, if recorded.
    pub trace: Vec<S>,
}

/// Runs `step` over the time axis of `input` (`[batch, time, size]`, from [`sequence`]), from
/// `state`, and stacks the outputs back to `dims`. Keeps every state when `record` is set.
pub(crate) fn unroll<S: Clone, const D: usize>(
    input: Tensor<3>,
    dims: [usize; D],
    mut state: S,
    record: bool,
    step: impl Fn(Tensor<2>, S) -> (Tensor<2>, S),
) -> Unrolled<S, D> {
    let [batch, _, size] = input.dims();
    let mut outputs = Vec::new();
    let mut trace = Vec::new();
    for x_t in input.iter_dim(1) {
        let (out, next) = step(x_t.reshape([batch, size]), state);
        if record {
            trace.push(next.clone());
        }
        outputs.push(out);
        state = next;
    }
    Unrolled {
        output: stack(outputs, dims),
        state,
        trace,
    }
}

/// Stacks one field of a recorded state trace to `dims`.
pub(crate) fn stack_trace<S, const D: usize>(
    trace: &[S],
    dims: [usize; D],
    field: impl Fn(&S) -> Option<Tensor<2>>,
) -> Option<Tensor<D>> {
    let steps: Option<Vec<_>> = trace.iter().map(field).collect();
    steps.filter(|s| !s.is_empty()).map(|s| stack(s, dims))
}

/// Stacks per-step `[batch, size]` tensors into `[batch, time, size]` and restores the
/// original feature dimensions `dims` (`[batch, time, features...]`).
pub(crate) fn stack<const D: usize>(steps: Vec<Tensor<2>>, dims: [usize; D]) -> Tensor<D> {
    Tensor::stack::<3>(steps, 1).reshape(dims)
}

//! How a static input or a sequence of frames is held over the simulated steps: mlGeNN's
//! `InputBase` (`ml_genn/neurons/input.py`).
//!
//! A static input (`input_frames = 1`) is presented unchanged at every step. A sequence of
//! `F = input_frames` frames is presented frame by frame, each for `input_frame_timesteps` steps;
//! at step `t` the model sees frame
//!
//! ```text
//! f(t) = min(⌊t / input_frame_timesteps⌋, F − 1)
//! ```
//!
//! so once the frames run out the last one is held (GeNN's
//! `min((int)(t / (input_frame_timesteps * dt)), input_frames - 1)`).

use burn::prelude::*;

use crate::error::{Result, SnnError, nonzero};

/// The names an entry point reports errors under.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Context {
    /// E.g. `PoissonInput::forward input`.
    pub input: &'static str,
    /// E.g. `PoissonInput::forward output`.
    pub output: &'static str,
}

/// The presentation settings shared by the tensor-driven inputs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Presentation {
    /// Neurons: the product of the feature dimensions.
    pub size: usize,
    /// `input_frames` (1: a static input).
    pub frames: usize,
    /// `input_frame_timesteps`.
    pub frame_timesteps: usize,
}

impl Presentation {
    /// Checks the settings (all at least 1).
    pub(crate) fn validate(&self) -> Result<()> {
        nonzero("size", self.size)?;
        nonzero("input_frames", self.frames)?;
        nonzero("input_frame_timesteps", self.frame_timesteps).map(drop)
    }

    /// The frame shown at `step`.
    pub(crate) fn frame_of(&self, step: usize) -> usize {
        (step / self.frame_timesteps).min(self.frames - 1)
    }

    /// Checks `input` against the settings and the output rank `DO`, and flattens it.
    ///
    /// With one frame `input` is `[batch, features...]` and `DO = D + 1`; with more it is
    /// `[batch, input_frames, features...]` and `DO = D`. Either way the output is
    /// `[batch, num_steps, features...]`.
    pub(crate) fn present<const D: usize, const DO: usize>(
        &self,
        input: Tensor<D>,
        num_steps: usize,
        context: Context,
    ) -> Result<Presented<DO>> {
        nonzero("num_steps", num_steps)?;
        let dims = input.dims();
        let (lead, expected_rank, expected_out) = if self.frames == 1 {
            (
                1,
                ">= 2 ([batch, features...])",
                "input rank + 1 ([batch, time, features...])",
            )
        } else {
            (
                2,
                ">= 3 ([batch, input_frames, features...])",
                "the input's rank ([batch, time, features...])",
            )
        };
        if D < lead + 1 {
            return Err(SnnError::RankMismatch {
                context: context.input,
                expected: expected_rank,
                actual: D,
                shape: dims.to_vec(),
            });
        }
        if DO != D + 2 - lead {
            return Err(SnnError::RankMismatch {
                context: context.output,
                expected: expected_out,
                actual: DO,
                shape: dims.to_vec(),
            });
        }
        let features = &dims[lead..];
        let frames_ok = lead == 1 || dims[1] == self.frames;
        if dims[0] == 0 || !frames_ok || features.iter().product::<usize>() != self.size {
            let expected = if lead == 1 {
                format!(
                    "[batch >= 1, features...] with {} features in all",
                    self.size
                )
            } else {
                format!(
                    "[batch >= 1, {}, features...] with {} features in all",
                    self.frames, self.size
                )
            };
            return Err(SnnError::ShapeMismatch {
                context: context.input,
                expected,
                actual: dims.to_vec(),
            });
        }
        let mut out_dims = [0; DO];
        out_dims[0] = dims[0];
        out_dims[1] = num_steps;
        out_dims[2..].copy_from_slice(features);
        Ok(Presented {
            frames: input.reshape([dims[0], self.frames, self.size]),
            out_dims,
            frame_of_step: (0..num_steps).map(|t| self.frame_of(t)).collect(),
        })
    }
}

/// An input checked and flattened by [`Presentation::present`].
pub(crate) struct Presented<const DO: usize> {
    /// The frames, `[batch, input_frames, size]`.
    pub frames: Tensor<3>,
    /// The output shape, `[batch, num_steps, features...]`.
    pub out_dims: [usize; DO],
    /// The frame shown at each step.
    pub frame_of_step: Vec<usize>,
}

impl<const DO: usize> Presented<DO> {
    /// The input seen at every step, `[batch, num_steps, size]`.
    pub(crate) fn per_step(&self) -> Tensor<3> {
        let device = self.frames.device();
        let index: Vec<i64> = self.frame_of_step.iter().map(|&f| f as i64).collect();
        let len = index.len();
        let index = Tensor::<1, Int>::from_data(TensorData::new(index, [len]), &device);
        self.frames.clone().select(1, index)
    }

    /// Drives a neuron step with the frame shown at each step: `step(frame, state)` with the
    /// frame `[batch, size]` returns the step's spikes and the next state; the spikes of every
    /// step are stacked to the output shape. How the input neurons run their model.
    pub(crate) fn drive<S>(
        &self,
        mut state: S,
        mut step: impl FnMut(Tensor<2>, S) -> (Tensor<2>, S),
    ) -> Tensor<DO> {
        let [batch, _, size] = self.frames.dims();
        let frames: Vec<Tensor<2>> = self
            .frames
            .clone()
            .iter_dim(1)
            .map(|f| f.reshape([batch, size]))
            .collect();
        let mut spikes = Vec::with_capacity(self.frame_of_step.len());
        for &f in &self.frame_of_step {
            let (z, next) = step(frames[f].clone(), state);
            spikes.push(z);
            state = next;
        }
        self.stack(spikes)
    }

    /// Stacks per-step `[batch, size]` tensors to the output shape.
    pub(crate) fn stack(&self, steps: Vec<Tensor<2>>) -> Tensor<DO> {
        Tensor::stack::<3>(steps, 1).reshape(self.out_dims)
    }

    /// Reshapes a `[batch, num_steps, size]` tensor to the output shape.
    pub(crate) fn unflatten(&self, t: Tensor<3>) -> Tensor<DO> {
        t.reshape(self.out_dims)
    }
}

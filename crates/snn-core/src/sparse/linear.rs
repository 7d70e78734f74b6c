//! [`SpikeLinear`]: a drop-in replacement for burn's `Linear` as the input layer of a spiking
//! network, event-driven on sparse binary input.

use burn::module::Param;
use burn::nn::{Initializer, Linear};
use burn::prelude::*;

use super::{DEFAULT_SPARSE_THRESHOLD, check_threshold, spike_linear_with};

/// Configuration of a [`SpikeLinear`] layer; the fields and defaults of burn's `LinearConfig`
/// plus the density threshold of the event path.
#[derive(Config, Debug)]
pub struct SpikeLinearConfig {
    /// Input width (number of presynaptic neurons).
    pub d_input: usize,
    /// Output width (number of postsynaptic neurons).
    pub d_output: usize,
    /// Whether the layer has a bias. Default `true`, as burn's `Linear`.
    #[config(default = true)]
    pub bias: bool,
    /// Initializer of the weight and bias. Default: burn's `Linear` default,
    /// `KaimingUniform { gain: 1/√3, fan_out_only: false }` (uniform in `±1/√d_input`).
    #[config(
        default = "Initializer::KaimingUniform{gain: 1.0 / 3.0f64.sqrt(), fan_out_only: false}"
    )]
    pub initializer: Initializer,
    /// Largest input density (fraction of ones, in `[0, 1]`) for which the event path is taken;
    /// default [`DEFAULT_SPARSE_THRESHOLD`] (0.15). See [`super::choose_path`].
    #[config(default = "DEFAULT_SPARSE_THRESHOLD")]
    pub sparse_threshold: f32,
}

impl SpikeLinearConfig {
    /// Checks the sizes and the threshold.
    ///
    /// # Errors
    /// [`crate::SnnError::ZeroSize`] for a zero width, [`crate::SnnError::OutOfRange`] for a
    /// threshold outside `[0, 1]`.
    pub fn validate(&self) -> crate::Result<()> {
        crate::error::nonzero("d_input", self.d_input)?;
        crate::error::nonzero("d_output", self.d_output)?;
        check_threshold(self.sparse_threshold)?;
        Ok(())
    }

    /// A layer with the configured initializer (the same shapes and fan-in/fan-out as burn's
    /// `LinearConfig::init` with the row layout).
    ///
    /// # Errors
    /// As [`Self::validate`].
    pub fn init(&self, device: &Device) -> crate::Result<SpikeLinear> {
        self.validate()?;
        let (d_in, d_out) = (self.d_input, self.d_output);
        let weight = self
            .initializer
            .init_with([d_in, d_out], Some(d_in), Some(d_out), device);
        let bias = self.bias.then(|| {
            self.initializer
                .init_with([d_out], Some(d_in), Some(d_out), device)
        });
        Ok(SpikeLinear {
            weight,
            bias,
            sparse_threshold: self.sparse_threshold,
        })
    }
}

/// A linear layer `out = x · W + b` for spike inputs: event-driven (a sum of the weight rows of
/// the active inputs) when the input is binary and at most `sparse_threshold` dense, else the
/// dense matmul; the same values and gradients as burn's `Linear` either way.
/// See [`super::spike_linear`] for the equations.
#[derive(Module, Debug)]
pub struct SpikeLinear {
    /// Weight `[d_input, d_output]` (burn's `Linear` row layout).
    pub weight: Param<Tensor<2>>,
    /// Bias `[d_output]`, if any.
    pub bias: Option<Param<Tensor<1>>>,
    /// Largest input density for the event path.
    pub sparse_threshold: f32,
}

impl SpikeLinear {
    /// The layer with a `Linear`'s weight and bias (the same parameters, ids included, so a
    /// trained `Linear` or its record carries over) and the default threshold.
    pub fn from_linear(linear: Linear) -> Self {
        Self {
            weight: linear.weight,
            bias: linear.bias,
            sparse_threshold: DEFAULT_SPARSE_THRESHOLD,
        }
    }

    /// Back to a burn `Linear` with the same parameters.
    pub fn into_linear(self) -> Linear {
        Linear {
            weight: self.weight,
            bias: self.bias,
        }
    }

    /// The same layer with another density threshold.
    ///
    /// # Errors
    /// [`crate::SnnError::OutOfRange`] for a threshold outside `[0, 1]`.
    pub fn with_sparse_threshold(mut self, threshold: f32) -> crate::Result<Self> {
        self.sparse_threshold = check_threshold(threshold)?;
        Ok(self)
    }

    /// Input width.
    pub fn d_input(&self) -> usize {
        self.weight.dims()[0]
    }

    /// Output width.
    pub fn d_output(&self) -> usize {
        self.weight.dims()[1]
    }

    /// `input · W + b` for an input `[..., d_input]` (e.g. `[batch, time, d_input]` or
    /// `[batch, d_input]`), giving `[..., d_output]`.
    ///
    /// # Errors
    /// [`crate::SnnError::ShapeMismatch`] when the input's last axis is not `d_input`.
    pub fn forward<const D: usize>(&self, input: Tensor<D>) -> crate::Result<Tensor<D>> {
        spike_linear_with(
            input,
            self.weight.val(),
            self.bias.as_ref().map(Param::val),
            self.sparse_threshold,
        )
    }
}

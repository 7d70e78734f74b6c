//! What a training step reports to burn's metrics: the classification output plus the mean firing
//! rate of each spiking layer, and the [`FiringRateMetric`] that logs one layer's rate.

use std::sync::Arc;

use burn::prelude::*;
use burn::tensor::TensorReadError;
use burn::train::ClassificationOutput;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    AccuracyInput, Adaptor, ItemLazy, LossInput, Metric, MetricAttributes, MetricMetadata,
    MetricName, Numeric, NumericAttributes, NumericEntry, SerializedEntry,
};

/// A spiking classifier's step output: burn's [`ClassificationOutput`] (loss, class scores,
/// targets) and, per spiking layer, its mean firing rate over batch, time and neurons.
pub struct SpikingOutput {
    /// Loss, scores `[batch, classes]` and targets `[batch]`.
    pub classification: ClassificationOutput,
    /// `(layer name, mean spikes per neuron per step)`, each a `[1]` tensor, in layer order.
    pub firing_rates: Vec<(&'static str, Tensor<1>)>,
}

impl SpikingOutput {
    /// The mean of `spikes` (`[batch, time, neurons]`, 0/1) as the firing rate of `layer`.
    pub fn rate(layer: &'static str, spikes: &Tensor<3>) -> (&'static str, Tensor<1>) {
        (layer, spikes.clone().detach().mean())
    }
}

impl ItemLazy for SpikingOutput {
    fn sync(self) -> Result<Self, burn_std::ExecutionError> {
        Ok(Self {
            classification: self.classification.sync()?,
            firing_rates: self
                .firing_rates
                .into_iter()
                .map(|(name, rate)| (name, rate.without_autodiff()))
                .collect(),
        })
    }
}

impl Adaptor<AccuracyInput> for SpikingOutput {
    fn adapt(&self) -> AccuracyInput {
        self.classification.adapt()
    }
}

impl Adaptor<LossInput> for SpikingOutput {
    fn adapt(&self) -> LossInput {
        self.classification.adapt()
    }
}

/// The input of [`FiringRateMetric`]: every layer's rate.
pub struct FiringRateInput {
    rates: Vec<(&'static str, Tensor<1>)>,
    batch: usize,
}

impl Adaptor<FiringRateInput> for SpikingOutput {
    fn adapt(&self) -> FiringRateInput {
        FiringRateInput {
            rates: self.firing_rates.clone(),
            batch: self.classification.targets.dims()[0],
        }
    }
}

/// Mean firing rate of one spiking layer (spikes per neuron per time step, 0 to 1), averaged
/// over the epoch weighted by batch size. Shown as `Firing rate <layer>`.
#[derive(Clone)]
pub struct FiringRateMetric {
    layer: &'static str,
    name: MetricName,
    state: NumericMetricState,
}

impl FiringRateMetric {
    /// The metric of the layer that the model reports as `layer` (e.g. `"hidden"`).
    pub fn new(layer: &'static str) -> Self {
        Self {
            layer,
            name: Arc::new(format!("Firing rate {layer}")),
            state: NumericMetricState::default(),
        }
    }
}

impl Metric for FiringRateMetric {
    type Input = FiringRateInput;

    fn update(
        &mut self,
        input: &FiringRateInput,
        _metadata: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        // a layer the model does not report counts as silent: the name is fixed at build time
        let rate = match input.rates.iter().find(|(name, _)| *name == self.layer) {
            Some((_, rate)) => rate.clone().try_into_scalar::<f64>()?,
            None => 0.0,
        };
        self.state.update(rate, input.batch);
        Ok(self
            .state
            .compute_update(FormatOptions::new(self.name()).precision(4)))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self
            .state
            .compute_final(FormatOptions::new(self.name()).precision(4)))
    }

    fn clear(&mut self) {
        self.state.reset()
    }

    fn name(&self) -> MetricName {
        self.name.clone()
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }
}

impl Numeric for FiringRateMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}

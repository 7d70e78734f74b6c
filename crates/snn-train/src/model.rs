//! A feed-forward spiking classifier: `Linear -> Lif -> Linear -> Li`, read out by the
//! maximum of the readout membrane over time.

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use snn_core::encode::SpikeRng;
use snn_core::{Li, LiConfig, Lif, LifConfig, Neuron};
use snn_losses::ClassificationLoss;

use crate::data::SpikeBatch;
use crate::metric::SpikingOutput;

/// The name under which the hidden layer's firing rate is reported.
pub const HIDDEN: &str = "hidden";

/// Configuration of an [`SnnClassifier`].
#[derive(Config, Debug)]
pub struct SnnClassifierConfig {
    /// Input features per time step.
    pub inputs: usize,
    /// Number of classes (readout neurons).
    pub classes: usize,
    /// Hidden LIF neurons. Default 128.
    #[config(default = 128)]
    pub hidden: usize,
    /// The hidden layer; its `size` is replaced by `hidden`. Default: Norse's LIF
    /// (`τ_mem = 10 ms`, `τ_syn = 5 ms`, SuperSpike).
    #[config(default = "LifConfig::new(1)")]
    pub lif: LifConfig,
    /// The readout; its `size` is replaced by `classes`. Default: Norse's LI.
    #[config(default = "LiConfig::new(1)")]
    pub readout: LiConfig,
    /// The loss on the readout membrane, which also decides the class scores. Default
    /// snnTorch's max-membrane cross-entropy.
    #[config(default = "ClassificationLoss::MaxMembraneCrossEntropy")]
    pub loss: ClassificationLoss,
}

impl SnnClassifierConfig {
    /// Builds the classifier on `device`.
    pub fn init(&self, device: &Device) -> crate::Result<SnnClassifier> {
        Ok(SnnClassifier {
            fc1: LinearConfig::new(self.inputs, self.hidden).init(device),
            lif: LifConfig {
                size: self.hidden,
                ..self.lif.clone()
            }
            .init(device)?,
            fc2: LinearConfig::new(self.hidden, self.classes).init(device),
            readout: LiConfig {
                size: self.classes,
                ..self.readout.clone()
            }
            .init(device)?,
            loss: self.loss,
        })
    }

    /// [`SnnClassifierConfig::init`] with the weights and biases of both linear layers drawn
    /// from `U(−1/√fan_in, 1/√fan_in)` (burn's and PyTorch's default range) by a host generator
    /// seeded with `seed`: the same network on every backend, whatever else uses the device's
    /// generator.
    pub fn init_seeded(&self, device: &Device, seed: u64) -> crate::Result<SnnClassifier> {
        let mut model = self.init(device)?;
        let mut rng = SpikeRng::new(seed);
        let mut uniform = |dims: Vec<usize>, fan_in: usize| {
            let bound = 1.0 / (fan_in as f32).sqrt();
            let n = dims.iter().product();
            let values: Vec<f32> = rng
                .uniform(n)
                .into_iter()
                .map(|u| (2.0 * u - 1.0) * bound)
                .collect();
            Tensor::<1>::from_floats(values.as_slice(), device)
        };
        for (linear, fan_in) in [(&mut model.fc1, self.inputs), (&mut model.fc2, self.hidden)] {
            let [rows, cols] = linear.weight.dims();
            let weight = uniform(vec![rows, cols], fan_in).reshape([rows, cols]);
            linear.weight = Param::from_tensor(weight);
            if let Some(bias) = &linear.bias {
                let [n] = bias.dims();
                linear.bias = Some(Param::from_tensor(uniform(vec![n], fan_in)));
            }
        }
        Ok(model)
    }
}

/// `Linear -> Lif -> Linear -> Li`.
#[derive(Module, Debug)]
pub struct SnnClassifier {
    /// Input weights.
    pub fc1: Linear,
    /// Hidden spiking layer.
    pub lif: Lif,
    /// Readout weights.
    pub fc2: Linear,
    /// Non-spiking readout.
    pub readout: Li,
    #[module(skip)]
    loss: ClassificationLoss,
}

/// What [`SnnClassifier::forward`] gives.
#[derive(Clone, Debug)]
pub struct SnnClassifierOutput {
    /// Hidden spikes, `[batch, time, hidden]`.
    pub spikes: Tensor<3>,
    /// Readout membrane, `[batch, time, classes]`.
    pub readout: Tensor<3>,
}

impl SnnClassifier {
    /// `inputs`: `[batch, time, inputs]` currents or spikes.
    pub fn forward(&self, inputs: Tensor<3>) -> crate::Result<SnnClassifierOutput> {
        let spikes = self.lif.forward(self.fc1.forward(inputs))?.spikes;
        let readout = Neuron::forward(&self.readout, self.fc2.forward(spikes.clone()))?.spikes;
        Ok(SnnClassifierOutput { spikes, readout })
    }

    /// Class scores `[batch, classes]` of the readout membrane, as the loss reads them
    /// ([`ClassificationLoss::readout`]).
    pub fn logits(&self, inputs: Tensor<3>) -> crate::Result<Tensor<2>> {
        Ok(self.loss.scores(self.forward(inputs)?.readout))
    }

    /// The loss, scores and hidden firing rate of a batch, for burn's `Learner`.
    ///
    /// # Panics
    /// If the batch does not fit the model: the `Learner`'s step functions cannot return errors,
    /// and [`crate::train()`] checks the data against the model before training starts.
    pub fn forward_classification(&self, batch: SpikeBatch) -> SpikingOutput {
        let out = self
            .forward(batch.inputs)
            .unwrap_or_else(|e| panic!("batch does not fit the model: {e}"));
        let loss = self
            .loss
            .loss(out.readout.clone(), batch.targets.clone())
            .unwrap_or_else(|e| panic!("batch does not fit the loss: {e}"));
        SpikingOutput {
            classification: ClassificationOutput::new(
                loss,
                self.loss.scores(out.readout),
                batch.targets,
            ),
            firing_rates: vec![SpikingOutput::rate(HIDDEN, &out.spikes)],
        }
    }
}

impl TrainStep for SnnClassifier {
    type Input = SpikeBatch;
    type Output = SpikingOutput;

    fn step(&self, batch: SpikeBatch) -> TrainOutput<SpikingOutput> {
        let item = self.forward_classification(batch);
        TrainOutput::new(self, item.classification.loss.backward(), item)
    }
}

impl InferenceStep for SnnClassifier {
    type Input = SpikeBatch;
    type Output = SpikingOutput;

    fn step(&self, batch: SpikeBatch) -> SpikingOutput {
        self.forward_classification(batch)
    }
}

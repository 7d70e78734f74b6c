//! A spiking classifier: `Linear -> Lif` (one or more hidden layers, each optionally recurrent)
//! `-> Linear -> Li`, read out by the maximum of the readout membrane over time.
//!
//! The input layer is computed by [`snn_core::sparse::spike_linear`]: event-driven where the
//! input is sparse binary spikes (SHD, SSC, N-MNIST, randman, rate or latency encoded digits),
//! the dense product otherwise (current-encoded digits). A recurrent hidden layer runs the fused
//! recurrent op on the CPU backends and wgpu ([`Neuron::forward_fused_recurrent`]).

use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::Distribution;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use snn_core::encode::SpikeRng;
use snn_core::sparse::spike_linear;
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
    /// Hidden LIF neurons (of the first hidden layer). Default 128.
    #[config(default = 128)]
    pub hidden: usize,
    /// Sizes of further hidden layers after the first (`Linear -> Lif` each, with the same
    /// neuron parameters). Default none.
    #[config(default = "Vec::new()")]
    pub more_hidden: Vec<usize>,
    /// Give every hidden layer trainable recurrent weights `W_rec` `[H, H]` on its own spikes of
    /// the previous step (`I_t = W·x_t + b + W_rec·z_{t−1}`, full BPTT through them, as the SHD
    /// literature's recurrent SNNs). Default false.
    #[config(default = false)]
    pub recurrent: bool,
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
        let lif = |size| {
            LifConfig {
                size,
                ..self.lif.clone()
            }
            .init(device)
        };
        let mut deeper = Vec::with_capacity(self.more_hidden.len());
        let mut last = self.hidden;
        for &size in &self.more_hidden {
            deeper.push(HiddenLayer {
                linear: LinearConfig::new(last, size).init(device),
                lif: lif(size)?,
                recurrent: self.recurrent.then(|| recurrent_weights(size, device)),
            });
            last = size;
        }
        Ok(SnnClassifier {
            fc1: LinearConfig::new(self.inputs, self.hidden).init(device),
            lif: lif(self.hidden)?,
            rec1: self
                .recurrent
                .then(|| recurrent_weights(self.hidden, device)),
            deeper,
            fc2: LinearConfig::new(last, self.classes).init(device),
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
        let last = self.more_hidden.last().copied().unwrap_or(self.hidden);
        let mut layers = vec![(&mut model.fc1, self.inputs)];
        let mut fan_in = self.hidden;
        for layer in model.deeper.iter_mut() {
            layers.push((&mut layer.linear, fan_in));
            fan_in = layer.lif.size();
        }
        layers.push((&mut model.fc2, last));
        for (linear, fan_in) in layers {
            let [rows, cols] = linear.weight.dims();
            let weight = uniform(vec![rows, cols], fan_in).reshape([rows, cols]);
            linear.weight = Param::from_tensor(weight);
            if let Some(bias) = &linear.bias {
                let [n] = bias.dims();
                linear.bias = Some(Param::from_tensor(uniform(vec![n], fan_in)));
            }
        }
        let mut recurrent = model.rec1.iter_mut().collect::<Vec<_>>();
        recurrent.extend(model.deeper.iter_mut().filter_map(|l| l.recurrent.as_mut()));
        for w in recurrent {
            let [h, _] = w.dims();
            *w = Param::from_tensor(uniform(vec![h, h], h).reshape([h, h]));
        }
        Ok(model)
    }
}

/// Recurrent weights `[size, size]` drawn as torch's `Linear(size, size)`:
/// `U(−1/√size, 1/√size)`.
fn recurrent_weights(size: usize, device: &Device) -> Param<Tensor<2>> {
    let bound = 1.0 / (size as f64).sqrt();
    Param::from_tensor(Tensor::random(
        [size, size],
        Distribution::Uniform(-bound, bound),
        device,
    ))
}

/// A hidden layer after the first: `Linear -> Lif`, optionally recurrent.
#[derive(Module, Debug)]
pub struct HiddenLayer {
    /// Weights from the previous hidden layer.
    pub linear: Linear,
    /// The spiking neurons.
    pub lif: Lif,
    /// Recurrent weights `W_rec` `[size, size]` (row = receiving neuron), if recurrent.
    pub recurrent: Option<Param<Tensor<2>>>,
}

/// One hidden layer's spikes `[batch, time, size]`: `linear` (event-driven on sparse binary
/// input) then `lif`, fed its own previous spikes through `recurrent` if given.
fn hidden_layer(
    linear: &Linear,
    lif: &Lif,
    recurrent: Option<&Param<Tensor<2>>>,
    x: Tensor<3>,
) -> crate::Result<Tensor<3>> {
    let current = spike_linear(x, linear.weight.val(), linear.bias.as_ref().map(Param::val))?;
    Ok(match recurrent {
        None => lif.forward(current)?.spikes,
        Some(w) => {
            let [batch, _, size] = current.dims();
            let z0 = Tensor::zeros([batch, size], &current.device());
            let state = lif.init_state(batch);
            lif.forward_fused_recurrent(current, w.val(), z0, state).0
        }
    })
}

/// `Linear -> Lif (-> Linear -> Lif ...) -> Linear -> Li`.
#[derive(Module, Debug)]
pub struct SnnClassifier {
    /// Input weights.
    pub fc1: Linear,
    /// Hidden spiking layer.
    pub lif: Lif,
    /// The first hidden layer's recurrent weights `[hidden, hidden]`, if recurrent.
    pub rec1: Option<Param<Tensor<2>>>,
    /// Further hidden layers.
    pub deeper: Vec<HiddenLayer>,
    /// Readout weights.
    pub fc2: Linear,
    /// Non-spiking readout.
    pub readout: Li,
    #[module(skip)]
    pub(crate) loss: ClassificationLoss,
}

/// What [`SnnClassifier::forward`] gives.
#[derive(Clone, Debug)]
pub struct SnnClassifierOutput {
    /// Spikes of the first hidden layer, `[batch, time, hidden]`.
    pub spikes: Tensor<3>,
    /// Readout membrane, `[batch, time, classes]`.
    pub readout: Tensor<3>,
}

impl SnnClassifier {
    /// `inputs`: `[batch, time, inputs]` currents or spikes.
    pub fn forward(&self, inputs: Tensor<3>) -> crate::Result<SnnClassifierOutput> {
        let spikes = hidden_layer(&self.fc1, &self.lif, self.rec1.as_ref(), inputs)?;
        let mut last = spikes.clone();
        for layer in &self.deeper {
            last = hidden_layer(&layer.linear, &layer.lif, layer.recurrent.as_ref(), last)?;
        }
        let readout = Neuron::forward(&self.readout, self.fc2.forward(last))?.spikes;
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

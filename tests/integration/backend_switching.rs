//! One model, `Linear -> Lif -> Linear -> Li`, with the same weights loaded on the ndarray, flex
//! and wgpu autodiff devices: the same spikes, readout traces and gradients, and Adam lowers the
//! loss on each. The model code has no backend parameter: the device picks the backend.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::store::ModuleRecord;
use snn_core::prelude::*;
use snn_core::{Li, LiConfig, Lif, LifConfig};
use snn_losses::snntorch::ce_max_membrane_loss;

use crate::common::{assert_close, assert_spikes_equal, autodiff_devices, uniform, values};

const BATCH: usize = 8;
const TIME: usize = 12;
const INPUTS: usize = 8;
const HIDDEN: usize = 16;
const CLASSES: usize = 2;

#[derive(Module, Debug)]
struct Net {
    fc1: Linear,
    lif: Lif,
    fc2: Linear,
    li: Li,
}

impl Net {
    fn init(device: &Device) -> Self {
        Self {
            fc1: LinearConfig::new(INPUTS, HIDDEN).init(device),
            lif: LifConfig::new(HIDDEN).init(device).expect("valid"),
            fc2: LinearConfig::new(HIDDEN, CLASSES).init(device),
            li: LiConfig::new(CLASSES).init(device).expect("valid"),
        }
    }

    /// `[batch, time, inputs]` -> (hidden spikes `[batch, time, hidden]`, readout
    /// `[batch, time, classes]`).
    fn forward(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<3>) {
        let spikes = self
            .lif
            .forward(self.fc1.forward(x))
            .expect("shapes")
            .spikes;
        let readout = self
            .li
            .forward(self.fc2.forward(spikes.clone()))
            .expect("shapes")
            .v();
        (spikes, readout)
    }
}

/// The reference weights, drawn from the test's own generator (not a device RNG, which other
/// tests running in parallel also draw from), and shipped to each device as burnpack bytes.
/// Both layers lean positive so that part of the hidden layer fires and the readout peaks after
/// the first spikes (a silent layer, or a readout peaking before any spike, has no surrogate
/// gradient to compare).
fn reference_weights() -> Vec<u8> {
    let device = Device::ndarray();
    let mut net = Net::init(&device);
    let draw = |n: usize, seed: u64, lo: f32, hi: f32| {
        Tensor::<1>::from_floats(uniform(n, seed, lo, hi).as_slice(), &device)
    };
    let linear = |layer: &mut Linear, d_in: usize, d_out: usize, seed: u64, lo: f32, hi: f32| {
        layer.weight = Param::from_tensor(draw(d_in * d_out, seed, lo, hi).reshape([d_in, d_out]));
        layer.bias = Some(Param::from_tensor(draw(d_out, seed + 1, lo, hi)));
    };
    linear(&mut net.fc1, INPUTS, HIDDEN, 70, -0.3, 0.5);
    linear(&mut net.fc2, HIDDEN, CLASSES, 80, -0.4, 0.8);
    // zero readout biases: a negative bias makes the membrane fall from the first step, whose
    // maximum (what the loss reads) then comes before any spike and carries no gradient
    net.fc2.bias = Some(Param::from_tensor(Tensor::zeros([CLASSES], &device)));
    net.into_record().into_bytes().expect("serialize").to_vec()
}

fn load(bytes: &[u8], device: &Device) -> Net {
    let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes.to_vec()))
        .expect("deserialize");
    Net::init(device).load_record(record)
}

/// A two-class toy task: class 0 drives the first half of the inputs harder, class 1 the second.
fn toy_batch(device: &Device) -> (Tensor<3>, Tensor<1, Int>) {
    let noise = uniform(BATCH * TIME * INPUTS, 11, 0.0, 0.6);
    let labels: Vec<i64> = (0..BATCH as i64).map(|b| b % 2).collect();
    let mut x = noise;
    for (b, &label) in labels.iter().enumerate() {
        for t in 0..TIME {
            for f in 0..INPUTS {
                let favoured = (f < INPUTS / 2) == (label == 0);
                if favoured {
                    x[(b * TIME + t) * INPUTS + f] += 0.6;
                }
            }
        }
    }
    (
        Tensor::<1>::from_floats(x.as_slice(), device).reshape([BATCH, TIME, INPUTS]),
        Tensor::<1, Int>::from_ints(labels.as_slice(), device),
    )
}

struct Run {
    device: String,
    spikes: Vec<f32>,
    readout: Vec<f32>,
    grads: Vec<(&'static str, Vec<f32>)>,
}

fn run(bytes: &[u8], name: &str, device: &Device) -> Run {
    let net = load(bytes, device);
    let (x, y) = toy_batch(device);
    let (spikes, readout) = net.forward(x);
    let loss = ce_max_membrane_loss(readout.clone(), y, 1).expect("valid targets");
    let grads = loss.backward();
    let grad = |p: &burn::module::Param<Tensor<2>>| values(p.val().grad(&grads).expect("grad"));
    let grad1 = |p: &burn::module::Param<Tensor<1>>| values(p.val().grad(&grads).expect("grad"));
    Run {
        device: name.to_string(),
        spikes: values(spikes),
        readout: values(readout),
        grads: vec![
            ("fc1.weight", grad(&net.fc1.weight)),
            ("fc1.bias", grad1(net.fc1.bias.as_ref().unwrap())),
            ("fc2.weight", grad(&net.fc2.weight)),
            ("fc2.bias", grad1(net.fc2.bias.as_ref().unwrap())),
        ],
    }
}

#[test]
fn same_weights_give_same_spikes_traces_and_gradients() {
    let bytes = reference_weights();
    let runs: Vec<Run> = autodiff_devices()
        .into_iter()
        .map(|(name, device)| run(&bytes, name, &device))
        .collect();
    let reference = &runs[0];
    let fired = reference.spikes.iter().filter(|&&s| s == 1.0).count();
    assert!(
        fired > 0 && fired < reference.spikes.len(),
        "the test needs some but not all neurons to fire, got {fired}"
    );
    for (name, g) in &reference.grads {
        assert!(
            g.iter().any(|v| v.abs() > 1e-6),
            "{name}: the gradient is all zero"
        );
    }
    for other in &runs[1..] {
        let what = |k: &str| format!("{} vs {}: {k}", other.device, reference.device);
        assert_spikes_equal(&what("hidden spikes"), &other.spikes, &reference.spikes);
        assert_close(
            &what("readout"),
            &other.readout,
            &reference.readout,
            1e-4,
            0.0,
        );
        for ((name, got), (_, want)) in other.grads.iter().zip(&reference.grads) {
            assert_close(&what(name), got, want, 1e-4, 1e-4);
        }
    }
}

#[test]
fn adam_lowers_the_loss_on_every_backend() {
    let bytes = reference_weights();
    let mut curves = Vec::new();
    for (name, device) in autodiff_devices() {
        let mut net = load(&bytes, &device);
        let mut optim = AdamConfig::new().init();
        let (x, y) = toy_batch(&device);
        let mut losses = Vec::new();
        for _ in 0..15 {
            let (_, readout) = net.forward(x.clone());
            let loss = ce_max_membrane_loss(readout, y.clone(), 1).expect("valid targets");
            losses.push(values(loss.clone())[0]);
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = optim.step(2e-2, net, grads);
        }
        let (first, last) = (losses[0], *losses.last().unwrap());
        assert!(
            last < 0.8 * first,
            "{name}: Adam did not lower the loss enough: {losses:?}"
        );
        curves.push((name, losses));
    }
    // the first steps agree across backends as well
    let (ref_name, reference) = &curves[0];
    for (name, losses) in &curves[1..] {
        assert_close(
            &format!("{name} vs {ref_name}: loss over the first 3 Adam steps"),
            &losses[..3],
            &reference[..3],
            1e-4,
            1e-4,
        );
    }
}

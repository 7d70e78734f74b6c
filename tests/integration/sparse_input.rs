//! The event-driven input layer (`snn_core::sparse`): the same outputs and gradients as burn's
//! dense `Linear`, the path decision, the typed errors, and training through it.
//!
//! The reference is always burn's own `Linear` (a dense matmul) with the same parameters, so a
//! wrong event accumulation cannot agree with it.

use burn::module::ModuleDisplay;
use burn::module::Param;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use snn_core::prelude::*;
use snn_core::sparse::{
    SparsePath, SpikeLinear, SpikeLinearConfig, choose_path, last_path, spike_linear,
    spike_linear_with,
};
use snn_core::{Li, LiConfig, Lif, LifConfig, SnnError};

use crate::common::{assert_close, autodiff_devices, devices, uniform, values};

const B: usize = 4;
const T: usize = 20;
const D_IN: usize = 70;
const D_OUT: usize = 24;
const TOL: f32 = 1e-5;

/// Bernoulli(`p`) spikes `[B, T, D_IN]` from a fixed seed, with at least one spike.
fn spikes(p: f32, seed: u64) -> Vec<f32> {
    let mut s: Vec<f32> = uniform(B * T * D_IN, seed, 0.0, 1.0)
        .into_iter()
        .map(|u| if u < p { 1.0 } else { 0.0 })
        .collect();
    s[3] = 1.0;
    s
}

fn tensor3(v: &[f32], device: &Device) -> Tensor<3> {
    Tensor::<1>::from_floats(v, device).reshape([B, T, D_IN])
}

/// A weight `[D_IN, D_OUT]` and a bias `[D_OUT]` in `[-1, 1)`.
fn params(seed: u64) -> (Vec<f32>, Vec<f32>) {
    (
        uniform(D_IN * D_OUT, seed, -1.0, 1.0),
        uniform(D_OUT, seed + 1, -1.0, 1.0),
    )
}

fn linear(w: &[f32], b: Option<&[f32]>, device: &Device) -> Linear {
    Linear {
        weight: Param::from_tensor(Tensor::<1>::from_floats(w, device).reshape([D_IN, D_OUT])),
        bias: b.map(|b| Param::from_tensor(Tensor::<1>::from_floats(b, device))),
    }
}

/// What one forward + backward gives: output, grad of weight, bias, input.
struct Run {
    out: Vec<f32>,
    grad_w: Vec<f32>,
    grad_b: Option<Vec<f32>>,
    grad_x: Option<Vec<f32>>,
}

/// Forward and backward of `L = Σ out ⊙ R` (R fixed and random, so every output gradient
/// differs) through burn's `Linear` (`sparse = false`) or `SpikeLinear` (`sparse = true`).
fn run(
    x: &[f32],
    w: &[f32],
    b: Option<&[f32]>,
    x_grad: bool,
    sparse: bool,
    device: &Device,
) -> (Run, Option<SparsePath>) {
    let dense = linear(w, b, device);
    let mut xt = tensor3(x, device);
    if x_grad {
        xt = xt.require_grad();
    }
    let (out, path) = if sparse {
        let layer = SpikeLinear::from_linear(dense.clone());
        let out = layer.forward(xt.clone()).expect("spike linear");
        (out, last_path())
    } else {
        (dense.forward(xt.clone()), None)
    };
    assert_eq!(out.dims(), [B, T, D_OUT]);
    let r = Tensor::<1>::from_floats(uniform(B * T * D_OUT, 99, -1.0, 1.0).as_slice(), device)
        .reshape([B, T, D_OUT]);
    let grads = (out.clone() * r).sum().backward();
    let run = Run {
        out: values(out),
        grad_w: values(dense.weight.grad(&grads).expect("weight grad")),
        grad_b: dense
            .bias
            .as_ref()
            .map(|b| values(b.grad(&grads).expect("bias grad"))),
        grad_x: x_grad.then(|| values(xt.grad(&grads).expect("input grad"))),
    };
    (run, path)
}

fn assert_runs_equal(what: &str, got: &Run, want: &Run) {
    assert_close(&format!("{what} out"), &got.out, &want.out, TOL, TOL);
    assert_close(
        &format!("{what} grad W"),
        &got.grad_w,
        &want.grad_w,
        TOL,
        TOL,
    );
    assert_eq!(
        got.grad_b.is_some(),
        want.grad_b.is_some(),
        "{what}: bias grad"
    );
    if let (Some(g), Some(w)) = (&got.grad_b, &want.grad_b) {
        assert_close(&format!("{what} grad b"), g, w, TOL, TOL);
    }
    assert_eq!(
        got.grad_x.is_some(),
        want.grad_x.is_some(),
        "{what}: input grad"
    );
    if let (Some(g), Some(w)) = (&got.grad_x, &want.grad_x) {
        assert_close(&format!("{what} grad x"), g, w, TOL, TOL);
    }
}

/// The path a device takes for a binary sparse input: events on the CPU backends.
fn sparse_path_of(name: &str) -> SparsePath {
    if name == "wgpu" {
        SparsePath::Dense
    } else {
        SparsePath::Event
    }
}

#[test]
fn sparse_binary_input_matches_dense_linear_with_and_without_bias() {
    let x = spikes(0.05, 1);
    let density = x.iter().sum::<f32>() / x.len() as f32;
    assert!((0.02..0.08).contains(&density), "density {density}");
    let (w, b) = params(2);
    for (name, device) in autodiff_devices() {
        for bias in [Some(b.as_slice()), None] {
            let what = format!("{name}, bias {}", bias.is_some());
            let (want, _) = run(&x, &w, bias, false, false, &device);
            let (got, path) = run(&x, &w, bias, false, true, &device);
            assert_eq!(path, Some(sparse_path_of(name)), "{what}: path");
            assert_runs_equal(&what, &got, &want);
        }
    }
}

#[test]
fn input_requiring_grad_gets_the_dense_input_gradient() {
    let x = spikes(0.05, 3);
    let (w, b) = params(4);
    for (name, device) in autodiff_devices() {
        let (want, _) = run(&x, &w, Some(&b), true, false, &device);
        let (got, path) = run(&x, &w, Some(&b), true, true, &device);
        assert_eq!(path, Some(sparse_path_of(name)), "{name}: path");
        assert_runs_equal(name, &got, &want);
    }
}

/// A readout-shaped layer (20 outputs) whose input gradient is over 32 MiB: on the CPU backends
/// its `∂L/∂x` comes from the host loop (`host_input_gradients`), written into the buffer of the
/// spikes it read when the layer held them alone; either way equal to burn's dense `Linear`.
/// (wgpu takes the matmul, which the tests above cover; at this size it takes seconds on the
/// software driver.)
#[test]
fn narrow_layer_input_gradient_on_the_host_matches_dense_linear() {
    let [batch, time, d_in, d_out] = [16, 128, 4200, 20];
    let n = batch * time * d_in;
    let x: Vec<f32> = uniform(n, 11, 0.0, 1.0)
        .into_iter()
        .map(|u| (u < 0.05) as u32 as f32)
        .collect();
    let w = uniform(d_in * d_out, 12, -1.0, 1.0);
    let r = uniform(batch * time * d_out, 13, -1.0, 1.0);
    let cpu = autodiff_devices()
        .into_iter()
        .filter(|(name, _)| *name != "wgpu");
    for (name, device) in cpu {
        let weight = || {
            Param::from_tensor(
                Tensor::<1>::from_floats(w.as_slice(), &device).reshape([d_in, d_out]),
            )
        };
        let dense = Linear {
            weight: weight(),
            bias: None,
        };
        let leaf = || {
            Tensor::<1>::from_floats(x.as_slice(), &device)
                .reshape([batch, time, d_in])
                .require_grad()
        };
        let loss = |out: Tensor<3>| {
            let r = Tensor::<1>::from_floats(r.as_slice(), &device).reshape([batch, time, d_out]);
            (out * r).sum()
        };
        let xd = leaf();
        let want = values(
            xd.grad(&loss(dense.forward(xd.clone())).backward())
                .unwrap(),
        );
        let layer = SpikeLinear::from_linear(Linear {
            weight: weight(),
            bias: None,
        });
        // the layer shares its input with the caller, then holds it alone (a computed tensor,
        // as the spikes of a layer before it)
        for held_alone in [false, true] {
            let before = snn_core::sparse::host_input_gradients();
            let xs = leaf();
            let input = if held_alone {
                xs.clone() * 1.0
            } else {
                xs.clone()
            };
            let got = values(
                xs.grad(&loss(layer.forward(input).unwrap()).backward())
                    .unwrap(),
            );
            let host = snn_core::sparse::host_input_gradients() - before;
            assert_eq!(host, 1, "{name}: the host loop ran");
            assert_close(
                &format!("{name} held alone {held_alone}"),
                &got,
                &want,
                TOL,
                TOL,
            );
        }
    }
}

#[test]
fn non_binary_input_falls_back_to_dense_and_stays_right() {
    // 5 % dense but graded (0.5 and 1.0): not spikes, so no event path
    let x: Vec<f32> = spikes(0.05, 5)
        .iter()
        .enumerate()
        .map(|(k, &s)| if k % 3 == 0 { 0.5 * s } else { s })
        .collect();
    let (w, b) = params(6);
    for (name, device) in autodiff_devices() {
        let (want, _) = run(&x, &w, Some(&b), true, false, &device);
        let (got, path) = run(&x, &w, Some(&b), true, true, &device);
        assert_eq!(path, Some(SparsePath::Dense), "{name}: path");
        assert_runs_equal(name, &got, &want);
    }
}

#[test]
fn dense_binary_input_takes_the_dense_path_and_stays_right() {
    let x = spikes(0.5, 7);
    let (w, b) = params(8);
    for (name, device) in autodiff_devices() {
        let (want, _) = run(&x, &w, Some(&b), false, false, &device);
        let (got, path) = run(&x, &w, Some(&b), false, true, &device);
        assert_eq!(path, Some(SparsePath::Dense), "{name}: path");
        assert_runs_equal(name, &got, &want);
    }
}

#[test]
fn the_threshold_decides_the_path() {
    assert_eq!(choose_path(0.05, true, 0.15), SparsePath::Event);
    assert_eq!(choose_path(0.15, true, 0.15), SparsePath::Event);
    assert_eq!(choose_path(0.150001, true, 0.15), SparsePath::Dense);
    assert_eq!(choose_path(0.01, false, 0.15), SparsePath::Dense);
    assert_eq!(choose_path(0.0, true, 0.0), SparsePath::Event);
    // a 25 %-dense binary input: dense by default, events with threshold 0.3, and equal
    let x = spikes(0.25, 9);
    let (w, b) = params(10);
    let device = Device::flex();
    let want = values(linear(&w, Some(&b), &device).forward(tensor3(&x, &device)));
    let weight = || Tensor::<1>::from_floats(w.as_slice(), &device).reshape([D_IN, D_OUT]);
    let bias = || Some(Tensor::<1>::from_floats(b.as_slice(), &device));
    let dense = spike_linear(tensor3(&x, &device), weight(), bias()).unwrap();
    assert_eq!(last_path(), Some(SparsePath::Dense));
    assert_close("threshold 0.15", &values(dense), &want, TOL, TOL);
    let events = spike_linear_with(tensor3(&x, &device), weight(), bias(), 0.3).unwrap();
    assert_eq!(last_path(), Some(SparsePath::Event));
    assert_close("threshold 0.3", &values(events), &want, TOL, TOL);
}

#[test]
fn inference_devices_and_two_d_input_match_dense_linear() {
    let x = spikes(0.05, 11);
    let (w, b) = params(12);
    for (name, device) in devices() {
        let dense = linear(&w, Some(&b), &device);
        let layer = SpikeLinear::from_linear(dense.clone());
        let x3 = tensor3(&x, &device);
        let got = layer.forward(x3.clone()).unwrap();
        assert_eq!(last_path(), Some(sparse_path_of(name)), "{name}: path");
        assert_close(
            name,
            &values(got),
            &values(dense.forward(x3.clone())),
            TOL,
            TOL,
        );
        // [batch, d_input]: one time step
        let x2: Tensor<2> = x3.reshape([B * T, D_IN]);
        let got = layer.forward(x2.clone()).unwrap();
        assert_eq!(got.dims(), [B * T, D_OUT]);
        assert_close(
            &format!("{name} 2-D"),
            &values(got),
            &values(dense.forward(x2)),
            TOL,
            TOL,
        );
    }
}

#[test]
fn bad_shapes_and_settings_are_typed_errors() {
    let device = Device::flex();
    let layer = SpikeLinearConfig::new(D_IN, D_OUT).init(&device).unwrap();
    assert_eq!(layer.d_input(), D_IN);
    assert_eq!(layer.d_output(), D_OUT);
    let err = layer
        .forward(Tensor::<3>::zeros([2, 3, D_IN + 1], &device))
        .unwrap_err();
    assert!(
        matches!(&err, SnnError::ShapeMismatch { actual, .. } if actual == &vec![2, 3, D_IN + 1]),
        "{err}"
    );
    let w = Tensor::<2>::zeros([D_IN, D_OUT], &device);
    let err = spike_linear(
        Tensor::<2>::zeros([2, D_IN], &device),
        w.clone(),
        Some(Tensor::zeros([D_OUT + 1], &device)),
    )
    .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
    let err = spike_linear_with(Tensor::<2>::zeros([2, D_IN], &device), w, None, 1.5).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::OutOfRange {
                field: "sparse_threshold",
                ..
            }
        ),
        "{err}"
    );
    let err = SpikeLinearConfig::new(0, 3).init(&device).unwrap_err();
    assert_eq!(err, SnnError::ZeroSize { field: "d_input" });
    let bad = SpikeLinearConfig {
        sparse_threshold: -0.1,
        ..SpikeLinearConfig::new(3, 3)
    };
    assert!(matches!(
        bad.init(&device),
        Err(SnnError::OutOfRange { .. })
    ));
    assert!(layer.with_sparse_threshold(f32::NAN).is_err());
}

#[test]
fn config_init_has_linear_shapes_and_defaults() {
    let device = Device::ndarray();
    let config = SpikeLinearConfig::new(5, 3);
    assert!(config.bias);
    assert_eq!(
        config.sparse_threshold,
        snn_core::sparse::DEFAULT_SPARSE_THRESHOLD
    );
    let layer = config.init(&device).unwrap();
    assert_eq!(layer.weight.dims(), [5, 3]);
    assert_eq!(layer.bias.as_ref().map(|b| b.dims()), Some([3]));
    // burn's default: uniform in ±1/√d_input
    let k = 1.0 / 5f32.sqrt();
    assert!(values(layer.weight.val()).iter().all(|v| v.abs() <= k));
    let no_bias = SpikeLinearConfig::new(5, 3)
        .with_bias(false)
        .init(&device)
        .unwrap();
    assert!(no_bias.bias.is_none());
    let back = no_bias.into_linear();
    assert_eq!(back.weight.dims(), [5, 3]);
    let _ = LinearConfig::new(5, 3); // the config it mirrors
}

/// Input layer (dense `Linear` or `SpikeLinear`) -> LIF -> Linear -> LI readout.
#[derive(Module, Debug)]
struct Net<L: Module> {
    input: L,
    lif: Lif,
    readout: Linear,
    li: Li,
}

trait InputLayer: Module + ModuleDisplay {
    fn apply(&self, x: Tensor<3>) -> Tensor<3>;
}
impl InputLayer for Linear {
    fn apply(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward(x)
    }
}
impl InputLayer for SpikeLinear {
    fn apply(&self, x: Tensor<3>) -> Tensor<3> {
        self.forward(x).expect("spike linear")
    }
}

impl<L: InputLayer> Net<L> {
    /// Cross-entropy of the time-averaged readout membrane.
    fn loss(&self, x: Tensor<3>, target: Tensor<1, Int>) -> Tensor<1> {
        let spikes = self.lif.forward(self.input.apply(x)).unwrap().spikes;
        let v = self.li.forward(self.readout.forward(spikes)).unwrap().v();
        let logits: Tensor<2> = v.mean_dim(1).squeeze_dim(1);
        burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits, target)
    }
}

fn train<L: InputLayer>(
    mut net: Net<L>,
    x: &[f32],
    steps: usize,
    device: &Device,
) -> (Vec<f32>, Net<L>) {
    let target = Tensor::<1, Int>::from_ints([0, 1, 2, 1], device);
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..steps {
        let loss = net.loss(tensor3(x, device), target.clone());
        losses.push(loss.clone().into_scalar::<f32>());
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        net = optim.step(0.01, net, grads);
    }
    (losses, net)
}

#[test]
fn a_lif_net_trains_through_spike_linear_like_through_linear() {
    let x = spikes(0.05, 13);
    // large enough weights that the LIF layer spikes
    let (w, b) = params(14);
    let w: Vec<f32> = w.iter().map(|v| 3.0 * v).collect();
    for device in [Device::flex().autodiff(), Device::ndarray().autodiff()] {
        let dense_in = linear(&w, Some(&b), &device);
        let head = |input| Net {
            input,
            lif: LifConfig::new(D_OUT).init(&device).unwrap(),
            readout: LinearConfig::new(D_OUT, 3).init(&device),
            li: LiConfig::new(3).init(&device).unwrap(),
        };
        let dense_net = head(dense_in.clone());
        let sparse_net = Net {
            input: SpikeLinear::from_linear(dense_in),
            lif: dense_net.lif.clone(),
            readout: dense_net.readout.clone(),
            li: dense_net.li.clone(),
        };
        let (dense_losses, dense_net) = train(dense_net, &x, 4, &device);
        let (sparse_losses, sparse_net) = train(sparse_net, &x, 4, &device);
        assert_eq!(last_path(), Some(SparsePath::Event));
        assert!(
            sparse_losses[3] < sparse_losses[0],
            "loss does not drop: {sparse_losses:?}"
        );
        assert_close("losses", &sparse_losses, &dense_losses, 1e-4, 1e-4);
        let ws = values(sparse_net.input.weight.val());
        assert!(ws.iter().all(|v| v.is_finite()));
        assert_close(
            "trained W",
            &ws,
            &values(dense_net.input.weight.val()),
            1e-4,
            1e-4,
        );
        assert_close(
            "trained b",
            &values(sparse_net.input.bias.as_ref().unwrap().val()),
            &values(dense_net.input.bias.as_ref().unwrap().val()),
            1e-4,
            1e-4,
        );
        assert_close(
            "trained readout",
            &values(sparse_net.readout.weight.val()),
            &values(dense_net.readout.weight.val()),
            1e-4,
            1e-4,
        );
    }
}

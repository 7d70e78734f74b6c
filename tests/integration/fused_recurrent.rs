//! The fused recurrent LIF op (`fused::recurrent_leaky_sequence`, taken by `Recurrent<Lif>` on
//! the CPU backends and wgpu) against the reference step loop of the same cell.
//!
//! The reference path (`Execution::Reference` on the neuron: one dense input and recurrent
//! product and one graph of tensor ops per step) is the oracle: the fused path must give the same
//! spikes (exactly), final state, and gradients of the input, `W_in`, `W_rec` and the initial
//! state (`z`, `v`, `i`) within 1e-5 of the gradient's largest entry, or 1.5x the distance
//! between the reference on ndarray and on flex where that is larger (summation order alone
//! moves the reference by up to 3e-5 of the largest entry at high spike densities), for every reset form, with and without a synaptic current
//! and autapses, for every surrogate, at low and high spike densities (both ways of computing
//! the recurrent weight gradient). A two-neuron case checks the fused path's BPTT by hand.
//!
//! The comparisons run on ndarray and flex; on wgpu (the CubeCL kernels) one test compares small
//! cases of the two configurations users train, and one checks that recording takes the step
//! loop.

use burn::prelude::*;
use snn_core::fused::{self, Execution};
use snn_core::neuron::{Recurrent, RecurrentConfig, RecurrentState};
use snn_core::prelude::*;
use snn_core::{Discretization, Lif, LifConfig, Reset, Surrogate};

use crate::common::{assert_close, assert_spikes_equal, autodiff_devices, uniform, values};

const GRAD_TOL: f32 = 1e-5;

fn tensor<const D: usize>(v: Vec<f32>, dims: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::<1>::from_floats(v.as_slice(), device).reshape(dims)
}

/// One case: sizes, input kind and weight scales.
#[derive(Clone, Copy, Debug)]
struct Case {
    batch: usize,
    time: usize,
    inputs: usize,
    hidden: usize,
    /// Binary Bernoulli input (the event-driven input projection) rather than real values.
    spikes_in: bool,
    /// Scale of the input weights (drives the spike density).
    w_in: f32,
    /// Scale of the recurrent weights.
    w_rec: f32,
    /// Start from a random state (with gradients) instead of the resting state.
    with_state: bool,
    /// An input bias.
    bias: bool,
}

const SMALL: Case = Case {
    batch: 3,
    time: 30,
    inputs: 20,
    hidden: 37,
    spikes_in: true,
    w_in: 0.6,
    w_rec: 0.4,
    with_state: false,
    bias: false,
};

/// Everything one run produces.
struct Run {
    spikes: Vec<f32>,
    v: Vec<f32>,
    grads: Vec<(&'static str, Option<Vec<f32>>)>,
    launched: bool,
}

fn cell(lif: &LifConfig, autapses: bool, case: Case, device: &Device) -> Recurrent<Lif> {
    let lif = LifConfig {
        size: case.hidden,
        ..lif.clone()
    }
    .init(device)
    .unwrap();
    let (h, i) = (case.hidden, case.inputs);
    let mut net = RecurrentConfig::new(i, h)
        .with_autapses(autapses)
        .with_bias(case.bias)
        .init(lif, device)
        .unwrap()
        .with_weights(
            tensor(uniform(h * i, 11, -0.5, 1.0), [h, i], device) * case.w_in,
            tensor(uniform(h * h, 12, -1.0, 1.0), [h, h], device) * case.w_rec,
        )
        .unwrap();
    // the same bias in every run (init draws it from the device's generator)
    if let Some(bias) = net.input_bias.as_mut() {
        *bias = burn::module::Param::from_tensor(tensor(uniform(h, 13, -0.3, 0.3), [h], device));
    }
    net
}

fn run(lif: &LifConfig, autapses: bool, case: Case, device: &Device) -> Run {
    let net = cell(lif, autapses, case, device);
    let Case {
        batch: b,
        time: t,
        inputs: i,
        hidden: h,
        ..
    } = case;
    let xs: Vec<f32> = if case.spikes_in {
        uniform(b * t * i, 1, 0.0, 1.0)
            .into_iter()
            .map(|u| f32::from(u < 0.2))
            .collect()
    } else {
        uniform(b * t * i, 1, -0.3, 1.0)
    };
    let x = tensor(xs, [b, t, i], device).require_grad();
    let state = case.with_state.then(|| {
        let z = tensor(
            uniform(b * h, 2, 0.0, 1.0)
                .into_iter()
                .map(|u| f32::from(u < 0.3))
                .collect(),
            [b, h],
            device,
        )
        .require_grad();
        let v = tensor(uniform(b * h, 3, -0.5, 1.2), [b, h], device).require_grad();
        let i = lif
            .tau_syn_ms
            .map(|_| tensor(uniform(b * h, 4, -0.5, 0.5), [b, h], device).require_grad());
        RecurrentState {
            z,
            neuron: net
                .neuron
                .state_from(v, i, None)
                .expect("the layer's parts"),
        }
    });
    let before = fused::launches();
    let out = net.forward_with(x.clone(), state.clone(), false).unwrap();
    let launched = fused::launches() > before;
    let w = tensor(uniform(b * t * h, 5, -1.0, 1.0), [b, t, h], device);
    let wv = tensor(uniform(b * h, 6, -1.0, 1.0), [b, h], device);
    let loss = (out.spikes.clone() * w).sum() + (out.state.neuron.v.clone() * wv).sum();
    let grads = loss.backward();
    let g2 = |t: &Tensor<2>| t.grad(&grads).map(values);
    let mut all = vec![
        ("x", x.grad(&grads).map(values)),
        ("W_in", g2(&net.input_weights.val())),
        ("W_rec", g2(&net.recurrent_weights.val())),
        (
            "b_in",
            net.input_bias
                .as_ref()
                .and_then(|b| b.val().grad(&grads).map(values)),
        ),
    ];
    if let Some(s) = &state {
        all.push(("z0", g2(&s.z)));
        all.push(("v0", g2(&s.neuron.v)));
        all.push(("i0", s.neuron.i().and_then(g2)));
    }
    Run {
        spikes: values(out.spikes),
        v: values(out.state.neuron.v),
        grads: all,
        launched,
    }
}

/// Fused against reference on the CPU devices for one neuron configuration and case; returns
/// the spike density of the reference run.
fn check(name: &str, lif: &LifConfig, autapses: bool, case: Case) -> f64 {
    let mut density = 0.0;
    for (dev, device) in autodiff_devices() {
        // wgpu: one small test of its own (`wgpu_kernels_match_reference`), CI runs it on a
        // software driver
        if !fused::recurrent_supported(&device) || dev == "wgpu" {
            continue;
        }
        let what = format!("{name} on {dev} {case:?} autapses={autapses}");
        let reference = lif.clone().with_execution(Execution::Reference);
        let want = run(&reference, autapses, case, &device);
        let got = run(lif, autapses, case, &device);
        // the reference on the other CPU backend: how far summation order alone moves it
        let other = if dev == "ndarray" {
            Device::flex()
        } else {
            Device::ndarray()
        };
        let spread = run(&reference, autapses, case, &other.autodiff());
        assert!(!want.launched, "{what}: the reference ran a fused op");
        assert!(
            got.launched,
            "{what}: the fused recurrent path was not taken"
        );
        let ones = want.spikes.iter().filter(|&&z| z == 1.0).count();
        density = ones as f64 / want.spikes.len() as f64;
        assert!(ones > 0, "{what}: no spikes, the test is vacuous");
        assert_spikes_equal(&format!("{what} spikes"), &got.spikes, &want.spikes);
        assert_close(&format!("{what} v"), &got.v, &want.v, GRAD_TOL, GRAD_TOL);
        for (((name, g), (_, w)), (_, w2)) in got.grads.iter().zip(&want.grads).zip(&spread.grads) {
            let (g, w) = (g.as_ref(), w.as_ref());
            assert_eq!(g.is_some(), w.is_some(), "{what}: gradient of {name}");
            if let (Some(g), Some(w)) = (g, w) {
                assert!(
                    w.iter().any(|v| *v != 0.0),
                    "{what}: gradient of {name} is all zero, the test is vacuous"
                );
                // relative to the largest entry (over 15-40 steps of BPTT the gradients reach
                // ~100), or, where more, 1.5x the distance between the reference on ndarray
                // and on flex, which only summation order separates (up to 3e-5 of the largest
                // entry in the dense case): a wrong gradient is off by far more
                let scale = w.iter().fold(1f32, |m, v| m.max(v.abs()));
                let noise = w2.as_ref().map_or(0.0, |w2| {
                    w.iter()
                        .zip(w2)
                        .fold(0f32, |m, (a, b)| m.max((a - b).abs()))
                });
                assert!(
                    noise <= 1e-4 * scale,
                    "{what}: the reference differs between backends by {noise:e} in d/d{name}"
                );
                assert_close(
                    &format!("{what} d/d{name}"),
                    g,
                    w,
                    (GRAD_TOL * scale).max(1.5 * noise),
                    GRAD_TOL,
                );
            }
        }
    }
    density
}

/// snnTorch's `RLeaky` (β, subtractive reset in the next step) with the benchmark's surrogate.
fn rleaky() -> LifConfig {
    LifConfig::from_beta(1, 0.95)
        .unwrap()
        .with_surrogate(Surrogate::FastSigmoid { slope: 10.0 })
}

/// Norse's `LIFRecurrent`: Euler, synaptic current, reset to 0 (detached, as `init_lif` sets).
fn norse() -> LifConfig {
    LifConfig::new(1)
        .with_surrogate(Surrogate::SuperSpike { alpha: 1.0 })
        .with_detach_reset(true)
}

#[test]
fn snntorch_rleaky_matches_reference_at_several_shapes_and_densities() {
    check("rleaky", &rleaky(), false, SMALL);
    check(
        "rleaky real input, from a state",
        &rleaky(),
        true,
        Case {
            spikes_in: false,
            with_state: true,
            bias: true,
            ..SMALL
        },
    );
    // dense activity: the recurrent weight gradient takes the matrix product
    let dense = check(
        "rleaky dense",
        &rleaky(),
        false,
        Case {
            batch: 2,
            time: 20,
            hidden: 300,
            w_in: 2.0,
            w_rec: 0.3,
            bias: true,
            ..SMALL
        },
    );
    assert!(
        dense > fused::DENSE_WEIGHT_GRADIENT,
        "density {dense} does not reach the dense weight gradient"
    );
    let sparse = check(
        "rleaky sparse",
        &rleaky(),
        false,
        Case {
            batch: 2,
            time: 40,
            hidden: 300,
            w_in: 0.08,
            w_rec: 0.05,
            ..SMALL
        },
    );
    assert!(
        sparse < fused::DENSE_WEIGHT_GRADIENT,
        "density {sparse}: the sparse case does not take the event-by-event weight gradient"
    );
}

#[test]
fn norse_lif_recurrent_with_synapse_matches_reference() {
    let case = Case {
        w_in: 4.0,
        w_rec: 2.0,
        with_state: true,
        ..SMALL
    };
    check("norse", &norse(), false, case);
    check("norse with autapses", &norse(), true, case);
    // the reset's gradient flowing (not Norse's default)
    check(
        "norse undetached, v_leak, v_reset",
        &norse()
            .with_detach_reset(false)
            .with_v_leak(0.1)
            .with_v_reset(-0.2),
        false,
        case,
    );
}

#[test]
fn every_reset_form_matches_reference() {
    let base = LifConfig::box_model(1)
        .with_discretization(Discretization::ExactDecay)
        .with_surrogate(Surrogate::fast_sigmoid());
    for (name, lif) in [
        (
            "immediate subtract",
            base.clone().with_reset(Reset::Subtract),
        ),
        (
            "immediate to value",
            base.clone().with_reset(Reset::ToValue),
        ),
        (
            "delayed to value, synapse",
            rleaky()
                .with_reset(Reset::ToValue)
                .with_v_reset(0.1)
                .with_tau_syn_ms(Some(3.0)),
        ),
        (
            "spikingjelly hard reset, fires at threshold",
            LifConfig::from_spikingjelly(1, 2.0, false, 1.0, Some(0.0)),
        ),
    ] {
        check(
            name,
            &lif,
            false,
            Case {
                with_state: true,
                ..SMALL
            },
        );
    }
}

#[test]
fn every_surrogate_matches_reference() {
    for surrogate in [
        Surrogate::SuperSpike { alpha: 3.0 },
        Surrogate::FastSigmoid { slope: 10.0 },
        Surrogate::arctan(),
        Surrogate::arctan_inv_pi(),
        Surrogate::sigmoid(),
        Surrogate::triangle(),
        Surrogate::boxcar(),
        Surrogate::StraightThrough,
    ] {
        check(
            &format!("{surrogate:?}"),
            &rleaky().with_surrogate(surrogate),
            false,
            Case {
                batch: 2,
                time: 15,
                ..SMALL
            },
        );
    }
}

/// Two neurons, one input, three steps, snnTorch's LIF (β = 0.5, threshold 1, delayed
/// subtractive reset, fast sigmoid slope 25): neuron 0 is driven by the input, neuron 1 only by
/// neuron 0 through `W_rec[1, 0] = w = 1.5`.
///
/// ```text
/// t = 0: u₀ = x = 1.2 → z₀ = 1;   u₁ = 0
/// t = 1: u₀ = 0.6 − 1 = −0.4;     u₁ = w·z₀(0) = 1.5 → z₁ = 1
/// t = 2: u₀ = −0.2;                u₁ = 0.75 − 1 = −0.25
/// ```
///
/// With `L = z₁(1)`: `∂L/∂w = σ'(0.5)·z₀(0)`, `∂L/∂x(0) = σ'(0.5)·w·σ'(0.2)·W_in[0, 0]`,
/// `∂L/∂W_in[0, 0] = σ'(0.5)·w·σ'(0.2)·x(0)` and, through neuron 1's leak,
/// `∂L/∂W_in[1, 0] = σ'(0.5)·β·x(0)`, with `σ'(s) = 1/(1 + 25|s|)²` (the resets are detached,
/// so no other path reaches `L`).
#[test]
fn two_neuron_bptt_by_hand() {
    let sg = |s: f32| 1.0 / (1.0 + 25.0 * s.abs()).powi(2);
    let w = 1.5f32;
    for (dev, device) in autodiff_devices() {
        if !fused::recurrent_supported(&device) {
            continue;
        }
        let lif = LifConfig::from_beta(2, 0.5)
            .unwrap()
            .with_surrogate(Surrogate::fast_sigmoid())
            .init(&device)
            .unwrap();
        let net = RecurrentConfig::new(1, 2)
            .init(lif, &device)
            .unwrap()
            .with_weights(
                tensor(vec![1.0, 0.0], [2, 1], &device),
                tensor(vec![0.0, 0.0, w, 0.0], [2, 2], &device),
            )
            .unwrap();
        let x = tensor(vec![1.2, 0.0, 0.0], [1, 3, 1], &device).require_grad();
        let before = fused::launches();
        let out = net.forward(x.clone()).unwrap();
        assert!(fused::launches() > before, "{dev}: fused path taken");
        let spikes = values(out.spikes.clone());
        assert_eq!(spikes, vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0], "{dev}: spikes");
        let loss = out.spikes.slice(s![0, 1, 1]).sum();
        let grads = loss.backward();
        let gw = values(net.recurrent_weights.val().grad(&grads).unwrap());
        let gx = values(x.grad(&grads).unwrap());
        let gw_in = values(net.input_weights.val().grad(&grads).unwrap());
        let chain = sg(0.5) * w * sg(0.2);
        assert_close(
            &format!("{dev} dL/dW_rec"),
            &gw,
            &[0.0, 0.0, sg(0.5), 0.0],
            1e-7,
            1e-5,
        );
        assert_close(&format!("{dev} dL/dx"), &gx, &[chain, 0.0, 0.0], 1e-7, 1e-5);
        // W_in[1, 0] = 0 reaches L through the leak: u₁(1) = 0.5·u₁(0) + w·z₀(0), u₁(0) = W_in[1, 0]·x(0)
        let leak = sg(0.5) * 0.5 * 1.2;
        assert_close(
            &format!("{dev} dL/dW_in"),
            &gw_in,
            &[chain * 1.2, leak],
            1e-7,
            1e-5,
        );
    }
}

/// The CubeCL kernels against the reference step loop on wgpu, and against the CPU op, for the
/// two configurations users train (snnTorch `RLeaky`, Norse `LIFRecurrent` with its synaptic
/// current and reset to zero), from a random state (gradients of `z0`, `v0`, `i0` too).
#[test]
fn wgpu_kernels_match_reference() {
    let Some((_, device)) = autodiff_devices().into_iter().find(|(d, _)| *d == "wgpu") else {
        return;
    };
    let case = Case {
        batch: 2,
        time: 12,
        with_state: true,
        bias: true,
        ..SMALL
    };
    for (name, lif, autapses) in [("rleaky", rleaky(), true), ("norse", norse(), false)] {
        let what = format!("{name} on wgpu");
        let want = run(
            &lif.clone().with_execution(Execution::Reference),
            autapses,
            case,
            &device,
        );
        let got = run(&lif, autapses, case, &device);
        let cpu = run(&lif, autapses, case, &Device::flex().autodiff());
        assert!(
            got.launched,
            "{what}: the fused recurrent path was not taken"
        );
        assert!(
            want.spikes.contains(&1.0),
            "{what}: no spikes, the test is vacuous"
        );
        assert_spikes_equal(&format!("{what} spikes"), &got.spikes, &want.spikes);
        assert_spikes_equal(&format!("{what} spikes vs flex"), &got.spikes, &cpu.spikes);
        assert_close(&format!("{what} v"), &got.v, &want.v, GRAD_TOL, GRAD_TOL);
        for ((name, g), (_, w)) in got.grads.iter().zip(&want.grads) {
            assert_eq!(g.is_some(), w.is_some(), "{what}: gradient of {name}");
            if let (Some(g), Some(w)) = (g, w) {
                assert!(
                    w.iter().any(|v| *v != 0.0),
                    "{what}: gradient of {name} is all zero, the test is vacuous"
                );
                let scale = w.iter().fold(1f32, |m, v| m.max(v.abs()));
                assert_close(
                    &format!("{what} d/d{name}"),
                    g,
                    w,
                    GRAD_TOL * scale,
                    GRAD_TOL,
                );
            }
        }
    }
}

#[test]
fn recording_runs_the_step_loop_and_plain_runs_the_op() {
    for (dev, device) in autodiff_devices() {
        let net = cell(&rleaky(), false, SMALL, &device);
        let x = Tensor::<3>::ones([1, 4, SMALL.inputs], &device);
        let before = fused::launches();
        let recorded = net.forward_with(x.clone(), None, true).unwrap();
        assert_eq!(
            fused::launches(),
            before,
            "{dev}: recording takes the step loop"
        );
        let plain = net.forward(x).unwrap();
        assert_eq!(
            fused::launches() > before,
            fused::recurrent_supported(&device),
            "{dev}: the fused path runs exactly where the op is supported"
        );
        assert_spikes_equal(
            &format!("{dev} recorded vs plain"),
            &values(plain.spikes),
            &values(recorded.spikes),
        );
    }
}

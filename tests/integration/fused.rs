//! The fused multi-step LIF / LI op against the reference step loop.
//!
//! The reference path (`Execution::Reference`: one graph of tensor ops per step, itself checked
//! against the peers' golden files) is the oracle: on every device the fused path must give the
//! same spikes (exactly), final state, and gradients of the input and of the initial state (within
//! 1e-5), for every discretization, reset, flag and surrogate. A hand-computed case checks the
//! fused path without the reference.

use burn::prelude::*;
use snn_core::fused::{self, Execution};
use snn_core::prelude::*;
use snn_core::{Discretization, LiConfig, LifConfig, Reset, Surrogate};

use crate::common::{assert_close, assert_spikes_equal, autodiff_devices, devices, values};

/// Deterministic pseudo-random values in `[lo, hi)` (a 64-bit LCG).
fn noise(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut s = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            lo + (hi - lo) * ((s >> 40) as f32 / (1u64 << 24) as f32)
        })
        .collect()
}

fn tensor<const D: usize>(v: Vec<f32>, dims: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::<1>::from_floats(v.as_slice(), device).reshape(dims)
}

const GRAD_TOL: f32 = 1e-5;

/// Everything one run produces: spikes, final state, gradients of x, v0 and i0.
struct Run {
    spikes: Vec<f32>,
    v: Vec<f32>,
    i: Option<Vec<f32>>,
    gx: Vec<f32>,
    gv0: Option<Vec<f32>>,
    gi0: Option<Vec<f32>>,
    launched: bool,
}

/// Runs `config` on `device` with input `[b, t, n]` (values in `range`, a few exactly 1.0 so that
/// threshold hits happen), optionally from a random initial state with gradient and with one
/// `v_leak` and `v_reset` per neuron, and a loss that weights the spikes and the final state by
/// fixed random weights.
fn run_lif(
    config: &LifConfig,
    device: &Device,
    [b, t, n]: [usize; 3],
    range: (f32, f32),
    with_state: bool,
    per_neuron_potentials: bool,
) -> Run {
    let mut lif = sized(config.clone(), n).init(device).unwrap();
    if per_neuron_potentials {
        lif = lif
            .with_v_leak(tensor(noise(n, 7, -0.3, 0.3), [n], device))
            .unwrap()
            .with_v_reset(tensor(noise(n, 8, -0.4, 0.2), [n], device))
            .unwrap();
    }
    let mut xs = noise(b * t * n, 1, range.0, range.1);
    for k in (0..xs.len()).step_by(7) {
        xs[k] = 1.0;
    }
    let x = tensor(xs, [b, t, n], device).require_grad();
    let state = with_state.then(|| {
        let v = tensor(noise(b * n, 2, -0.5, 1.2), [b, n], device).require_grad();
        let i = config
            .tau_syn_ms
            .map(|_| tensor(noise(b * n, 3, -0.5, 0.5), [b, n], device).require_grad());
        lif.state_from(v, i, None).expect("the layer's parts")
    });
    let before = fused::launches();
    let out = lif.forward_with(x.clone(), state.clone(), false).unwrap();
    let launched = fused::launches() > before;
    let w = tensor(noise(b * t * n, 4, -1.0, 1.0), [b, t, n], device);
    let wv = tensor(noise(b * n, 5, -1.0, 1.0), [b, n], device);
    let mut loss = (out.spikes.clone() * w).sum() + (out.state.v.clone() * wv).sum();
    if let Some(i) = out.state.i() {
        let wi = tensor(noise(b * n, 6, -1.0, 1.0), [b, n], device);
        loss = loss + (i.clone() * wi).sum();
    }
    let grads = loss.backward();
    let grad = |t: &Tensor<2>| t.grad(&grads).map(values);
    let (v, i, _) = out.state.into_parts();
    Run {
        spikes: values(out.spikes),
        v: values(v),
        i: i.map(values),
        gx: values(x.grad(&grads).expect("input gradient")),
        gv0: state.as_ref().and_then(|s| grad(&s.v)),
        gi0: state.as_ref().and_then(|s| s.i().and_then(grad)),
        launched,
    }
}

fn close(what: &str, got: &[f32], want: &[f32]) {
    assert_close(what, got, want, GRAD_TOL, GRAD_TOL);
}

/// Fused (default) against `Execution::Reference` for one configuration on every autodiff
/// device; asserts that the fused path was taken where the backend supports it.
fn check_lif(name: &str, config: LifConfig, range: (f32, f32)) {
    check_lif_with(name, config, range, false);
}

/// [`check_lif`], with one `v_leak` and `v_reset` per neuron when `per_neuron_potentials`.
fn check_lif_with(name: &str, config: LifConfig, range: (f32, f32), per_neuron_potentials: bool) {
    for (dev, device) in autodiff_devices() {
        for (dims, with_state) in [([3, 40, 37], false), ([2, 25, 300], true)] {
            let what = format!("{name} on {dev} {dims:?} state={with_state}");
            let reference = config.clone().with_execution(Execution::Reference);
            let run = |config: &LifConfig| {
                run_lif(
                    config,
                    &device,
                    dims,
                    range,
                    with_state,
                    per_neuron_potentials,
                )
            };
            let (want, got) = (run(&reference), run(&config));
            assert!(
                !want.launched,
                "{what}: the reference path ran the fused op"
            );
            assert_eq!(
                got.launched,
                fused::backend_supported(&device),
                "{what}: fused path taken"
            );
            assert!(
                want.spikes.contains(&1.0),
                "{what}: no spikes, the test is vacuous"
            );
            assert_spikes_equal(&format!("{what} spikes"), &got.spikes, &want.spikes);
            close(&format!("{what} final v"), &got.v, &want.v);
            assert_eq!(got.i.is_some(), want.i.is_some(), "{what}: final i");
            if let (Some(g), Some(w)) = (&got.i, &want.i) {
                close(&format!("{what} final i"), g, w);
            }
            close(&format!("{what} grad x"), &got.gx, &want.gx);
            assert!(
                got.gx.iter().any(|&g| g != 0.0),
                "{what}: zero input gradient"
            );
            assert_eq!(got.gv0.is_some(), with_state, "{what}: grad v0 presence");
            if let (Some(g), Some(w)) = (&got.gv0, &want.gv0) {
                close(&format!("{what} grad v0"), g, w);
            }
            assert_eq!(got.gi0.is_some(), want.gi0.is_some(), "{what}: grad i0");
            if let (Some(g), Some(w)) = (&got.gi0, &want.gi0) {
                close(&format!("{what} grad i0"), g, w);
            }
        }
    }
}

/// The benchmark neuron: snnTorch `Leaky(beta=0.95)` (delayed subtractive reset), fast sigmoid
/// slope 10.
fn bench_lif(size: usize) -> LifConfig {
    LifConfig::from_beta(size, 0.95)
        .unwrap()
        .with_surrogate(Surrogate::FastSigmoid { slope: 10.0 })
}

#[test]
fn benchmark_lif_matches_reference() {
    check_lif("snntorch leaky 0.95", bench_lif(1), (-0.3, 0.6));
}

#[test]
fn immediate_subtract_reset_matches_reference() {
    let config = LifConfig::box_model(1)
        .with_discretization(Discretization::ExactDecay)
        .with_reset(Reset::Subtract)
        .with_surrogate(Surrogate::fast_sigmoid());
    check_lif("box exact subtract", config, (-0.3, 0.6));
}

#[test]
fn norse_default_with_synapse_matches_reference() {
    // Norse's LIFParameters: Euler, tau_syn 5 ms, reset to 0, SuperSpike; alpha 1 so that the
    // gradients are not all tiny
    let config = LifConfig::new(1).with_surrogate(Surrogate::SuperSpike { alpha: 1.0 });
    check_lif("norse default", config.clone(), (0.0, 4.0));
    let config = config
        .with_v_leak(0.1)
        .with_v_reset(-0.2)
        .with_threshold(0.8);
    check_lif("norse v_leak v_reset", config.clone(), (0.0, 4.0));
    // one v_leak and v_reset per neuron: coefficient rows of the op
    check_lif_with("norse per-neuron v_leak v_reset", config, (0.0, 4.0), true);
    let delayed = LifConfig::from_beta(1, 0.9)
        .unwrap()
        .with_reset(Reset::ToValue)
        .with_discretization(Discretization::ExactDecay);
    check_lif_with(
        "snntorch delayed reset per-neuron v_leak v_reset",
        delayed,
        (-0.3, 0.8),
        true,
    );
}

#[test]
fn exact_scaled_input_with_leak_and_synapse_matches_reference() {
    let config = LifConfig::new(1)
        .with_discretization(Discretization::ExactDecayScaledInput)
        .with_v_leak(0.3)
        .with_surrogate(Surrogate::arctan());
    check_lif("exact scaled, v_leak, synapse", config, (0.0, 6.0));
}

#[test]
fn spikingjelly_fire_at_threshold_matches_reference() {
    // unscaled Euler input, H(0) = 1, hard reset; and the soft-reset variant
    check_lif(
        "spikingjelly hard",
        LifConfig::from_spikingjelly(1, 2.0, false, 1.0, Some(0.0)),
        (-0.2, 1.0),
    );
    check_lif(
        "spikingjelly soft decay_input",
        LifConfig::from_spikingjelly(1, 2.0, true, 1.0, None),
        (-0.2, 2.0),
    );
}

#[test]
fn detach_reset_and_no_reset_match_reference() {
    let base = LifConfig::box_model(1)
        .with_discretization(Discretization::ExactDecay)
        .with_surrogate(Surrogate::fast_sigmoid());
    check_lif(
        "detach subtract",
        base.clone()
            .with_reset(Reset::Subtract)
            .with_detach_reset(true),
        (-0.3, 0.6),
    );
    check_lif(
        "detach to value",
        base.clone()
            .with_reset(Reset::ToValue)
            .with_detach_reset(true),
        (-0.3, 0.6),
    );
    check_lif(
        "no reset",
        base.with_reset(Reset::None).with_threshold(3.0),
        (-0.3, 0.6),
    );
}

#[test]
fn delayed_reset_to_value_matches_reference() {
    let config = bench_lif(1)
        .with_reset(Reset::ToValue)
        .with_v_reset(0.1)
        .with_tau_syn_ms(Some(3.0));
    check_lif("delayed to value with synapse", config, (-0.3, 0.8));
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
        let config = LifConfig::box_model(1)
            .with_discretization(Discretization::ExactDecay)
            .with_reset(Reset::Subtract)
            .with_surrogate(surrogate);
        check_lif(&format!("{surrogate:?}"), config, (-0.3, 0.6));
    }
}

#[test]
fn li_readout_matches_reference() {
    // (name, config, one v_leak per neuron)
    let configs = [
        ("li norse", LiConfig::new(1), false),
        ("li norse per-neuron v_leak", LiConfig::new(1), true),
        (
            "li exact box v_leak",
            LiConfig::new(1)
                .with_tau_syn_ms(None)
                .with_discretization(Discretization::ExactDecay)
                .with_v_leak(0.2),
            false,
        ),
        (
            "li exact scaled synapse",
            LiConfig::new(1).with_discretization(Discretization::ExactDecayScaledInput),
            false,
        ),
    ];
    for (name, config, per_neuron_v_leak) in configs {
        for (dev, device) in autodiff_devices() {
            let [b, t, n] = [3, 30, 41];
            let what = format!("{name} on {dev}");
            let run = |config: &LiConfig| {
                let mut li = LiConfig {
                    size: n,
                    ..config.clone()
                }
                .init(&device)
                .unwrap();
                if per_neuron_v_leak {
                    let v_leak = tensor(noise(n, 9, -0.5, 0.5), [n], &device);
                    li = li.with_v_leak(v_leak).unwrap();
                }
                let x = tensor(noise(b * t * n, 1, -1.0, 1.0), [b, t, n], &device).require_grad();
                let v0 = tensor(noise(b * n, 2, -1.0, 1.0), [b, n], &device).require_grad();
                let i0 = config
                    .tau_syn_ms
                    .map(|_| tensor(noise(b * n, 3, -1.0, 1.0), [b, n], &device).require_grad());
                let before = fused::launches();
                let out = li
                    .forward_with(
                        x.clone(),
                        Some(
                            li.state_from(v0.clone(), i0.clone())
                                .expect("the layer's parts"),
                        ),
                        false,
                    )
                    .unwrap();
                let launched = fused::launches() > before;
                let w = tensor(noise(b * t * n, 4, -1.0, 1.0), [b, t, n], &device);
                let wv = tensor(noise(b * n, 5, -1.0, 1.0), [b, n], &device);
                let grads = ((out.v() * w).sum() + (out.state.v.clone() * wv).sum()).backward();
                (
                    values(out.v()),
                    values(x.grad(&grads).unwrap()),
                    values(v0.grad(&grads).unwrap()),
                    i0.map(|i| values(i.grad(&grads).unwrap())),
                    launched,
                )
            };
            let want = run(&config.clone().with_execution(Execution::Reference));
            let got = run(&config);
            assert!(!want.4);
            assert_eq!(
                got.4,
                fused::backend_supported(&device),
                "{what}: fused taken"
            );
            close(&format!("{what} v"), &got.0, &want.0);
            close(&format!("{what} grad x"), &got.1, &want.1);
            close(&format!("{what} grad v0"), &got.2, &want.2);
            if let (Some(g), Some(w)) = (&got.3, &want.3) {
                close(&format!("{what} grad i0"), g, w);
            }
        }
    }
}

fn sized(config: LifConfig, size: usize) -> LifConfig {
    LifConfig { size, ..config }
}

// `check_lif` builds layers of size 1 in its configs; the runs resize them.
fn run_sized(config: &LifConfig, device: &Device, dims: [usize; 3], with_state: bool) -> Run {
    run_lif(
        &sized(config.clone(), dims[2]),
        device,
        dims,
        (-0.3, 0.6),
        with_state,
        false,
    )
}

#[test]
fn inference_devices_match_reference() {
    for (dev, device) in devices() {
        let config = sized(bench_lif(1), 50);
        let lif = config.init(&device).unwrap();
        let reference = config
            .clone()
            .with_execution(Execution::Reference)
            .init(&device)
            .unwrap();
        assert_eq!(lif.fused_path(&device), fused::backend_supported(&device));
        assert!(!reference.fused_path(&device));
        let x = tensor(noise(4 * 60 * 50, 9, -0.3, 0.7), [4, 60, 5, 10], &device);
        let got = lif.forward(x.clone()).unwrap();
        let want = reference.forward(x).unwrap();
        assert_eq!(got.spikes.dims(), [4, 60, 5, 10]);
        assert_spikes_equal(dev, &values(got.spikes), &values(want.spikes));
        close(dev, &values(got.state.v), &values(want.state.v));
    }
}

/// With the `gpu` feature the CubeCL kernels serve wgpu devices too (so `check_lif` and the LI
/// test require the fused path there: `launched == backend_supported`).
#[test]
fn fused_path_on_every_device_with_gpu() {
    let lif = bench_lif(8).init(&Device::flex()).unwrap();
    let li = LiConfig::new(4).init(&Device::flex()).unwrap();
    for (dev, device) in devices() {
        let supported = cfg!(feature = "gpu") || dev != "wgpu";
        assert_eq!(fused::backend_supported(&device), supported, "{dev}");
        let device = device.autodiff();
        assert_eq!(fused::backend_supported(&device), supported, "{dev}");
        assert_eq!(lif.fused_path(&device), supported, "{dev}");
        assert_eq!(li.fused_path(&device), supported, "{dev}");
    }
}

#[test]
fn fused_path_on_cpu_backends() {
    let lif = bench_lif(8).init(&Device::flex()).unwrap();
    for device in [Device::ndarray(), Device::flex()] {
        assert!(fused::backend_supported(&device));
        assert!(fused::backend_supported(&device.clone().autodiff()));
        assert!(lif.fused_path(&device.clone().autodiff()));
    }
    let li = LiConfig::new(4).init(&Device::flex()).unwrap();
    assert!(li.fused_path(&Device::flex().autodiff()));
}

#[test]
fn trained_parameters_and_records_fall_back_to_the_reference() {
    for (dev, device) in autodiff_devices() {
        for config in [
            bench_lif(1).with_learn_tau(true),
            bench_lif(1).with_learn_threshold(true),
        ] {
            let lif = sized(config.clone(), 20).init(&device).unwrap();
            assert!(!lif.fused_path(&device), "{dev}: trained parameters");
            let got = run_sized(&config, &device, [2, 30, 20], true);
            let want = run_sized(
                &config.clone().with_execution(Execution::Reference),
                &device,
                [2, 30, 20],
                true,
            );
            assert!(!got.launched);
            assert_spikes_equal(dev, &got.spikes, &want.spikes);
            close(dev, &got.gx, &want.gx);
            // the parameter gradient exists (the reference path computes it)
            let x = Tensor::<3>::ones([1, 10, 20], &device) * 0.4;
            let grads = lif.forward(x).unwrap().spikes.sum().backward();
            let learned = if config.learn_tau {
                lif.tau_mem_ms.val().grad(&grads)
            } else {
                lif.threshold.val().grad(&grads)
            };
            assert!(learned.is_some(), "{dev}: parameter gradient");
        }
        // record = true needs the per-step traces: reference path
        let lif = bench_lif(6).init(&device).unwrap();
        let before = fused::launches();
        let out = lif
            .forward_with(Tensor::<3>::ones([1, 5, 6], &device), None, true)
            .unwrap();
        assert_eq!(fused::launches(), before, "{dev}: record");
        assert!(out.v().is_some());
    }
}

#[test]
fn fused_by_hand() {
    // snnTorch Leaky(beta = 0.5), threshold 1, constant input 0.8, delayed subtractive reset:
    // mem = 0.5 mem + 0.8 − spk_prev → 0.8, 1.2 (spike), 0.6 + 0.8 − 1 = 0.4, 0.2 + 0.8 = 1.0
    // (no spike: strict). Gradient of sum(spikes) by x_0 with straight-through surrogate:
    // z_t depends on u_t = Σ_{s<=t} 0.5^(t−s) x_s (the reset is detached), so
    // ∂Σz/∂x_0 = 1 + 0.5 + 0.25 + 0.125 = 1.875 and ∂Σz/∂x_3 = 1.
    for (dev, device) in [("ndarray", Device::ndarray()), ("flex", Device::flex())] {
        let device = device.autodiff();
        let lif = LifConfig::from_beta(1, 0.5)
            .unwrap()
            .with_surrogate(Surrogate::StraightThrough)
            .init(&device)
            .unwrap();
        let x = Tensor::<3>::full([1, 4, 1], 0.8, &device).require_grad();
        let before = fused::launches();
        let out = lif.forward(x.clone()).unwrap();
        assert!(fused::launches() > before, "{dev}");
        assert_eq!(values(out.spikes.clone()), vec![0.0, 1.0, 0.0, 0.0]);
        close("final v", &values(out.state.v.clone()), &[1.0]);
        let g = values(x.grad(&out.spikes.sum().backward()).unwrap());
        close("grad", &g, &[1.875, 1.75, 1.5, 1.0]);
    }
}

/// The CPU backends write the spikes over the layer input, and the input gradient over the
/// output gradient, when the op holds the only handle to them: same bits as with a shared input
/// (where a new buffer is written), and the in-place path is taken.
#[test]
fn in_place_runs_equal_shared_runs() {
    let config = sized(bench_lif(1), 37);
    let [b, t, n] = [3, 40, 37];
    for (dev, device) in autodiff_devices() {
        if dev == "wgpu" {
            continue; // GPU buffers are never written in place
        }
        let lif = config.clone().init(&device).unwrap();
        let run = |keep_input: bool| {
            let leaf = tensor(noise(b * t * n, 11, -0.3, 0.6), [b, t, n], &device).require_grad();
            // an op output: the layer gets its only handle unless `kept` holds another
            let x = leaf.clone() * 2.0;
            let kept = keep_input.then(|| x.clone());
            let before = fused::in_place_runs();
            let out = lif.forward(x).unwrap();
            let w = tensor(noise(b * t * n, 12, -1.0, 1.0), [b, t, n], &device);
            // the gradient of `spikes * w` is a fresh tensor, unless `kept_grad` shares it
            let grads = (out.spikes.clone() * w).sum().backward();
            let in_place = fused::in_place_runs() - before;
            drop(kept);
            (
                values(out.spikes),
                values(leaf.grad(&grads).unwrap()),
                in_place,
            )
        };
        let (spikes_shared, grad_shared, _) = run(true);
        let (spikes_own, grad_own, in_place) = run(false);
        assert!(in_place >= 1, "{dev}: no pass ran in place");
        assert_eq!(spikes_own, spikes_shared, "{dev}: spikes");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&grad_own), bits(&grad_shared), "{dev}: input gradient");
        assert!(spikes_own.contains(&1.0), "{dev}: no spike at all");
    }
}

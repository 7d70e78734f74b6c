//! Golden parity with the peer libraries: every file in `tests/golden/` with a test's prefix is
//! run on every backend (ndarray, flex, wgpu), with all parameters read from the file.
//!
//! Tolerance (the golden README's): outputs are rounded to 6 significant digits, so values must
//! satisfy `|got − want| <= 2e-5 + 2e-5·|want|`; spikes must match exactly. Gradients get the
//! same tolerance.

use burn::prelude::*;
use snn_core::prelude::*;
use snn_core::{
    Iaf, IafConfig, LiConfig, LifConfig, Reset, Surrogate, li_step,
    neuron::{IafState, LeakyState},
};

use crate::common::{Golden, assert_close, assert_spikes_equal, autodiff_devices, golden, values};

const ATOL: f32 = 2e-5;
const RTOL: f32 = 2e-5;

/// Input `[T, N]` of a golden file as a batch-major `[1, T, N]` tensor.
fn sequence(g: &Golden, key: &str, device: &Device) -> (Tensor<3>, usize, usize) {
    let (t, n, x) = g.matrix("inputs", key);
    (
        Tensor::<1>::from_floats(x.as_slice(), device).reshape([1, t, n]),
        t,
        n,
    )
}

/// Runs a LIF layer over a golden input and checks spikes, traces and `d(Σz)/d(input)`.
fn check_lif(g: &Golden, lif_config: &LifConfig, keys: LifKeys, device: &Device, dev: &str) {
    let (x, _, _) = sequence(g, keys.input, device);
    let x = x.require_grad();
    let lif = lif_config.init(device).expect("valid config");
    let out = lif.forward_with(x.clone(), None, true).expect("forward");
    let what = |k: &str| format!("{} on {dev}: {k}", g.name);
    assert_spikes_equal(
        &what(keys.spikes),
        &values(out.spikes.clone()),
        &g.matrix("outputs", keys.spikes).2,
    );
    assert_close(
        &what(keys.v),
        &values(out.v().unwrap()),
        &g.matrix("outputs", keys.v).2,
        ATOL,
        RTOL,
    );
    if let Some(i_key) = keys.i {
        assert_close(
            &what(i_key),
            &values(out.i().unwrap()),
            &g.matrix("outputs", i_key).2,
            ATOL,
            RTOL,
        );
    }
    if let Some(grad_key) = keys.grad {
        let grads = out.spikes.sum().backward();
        let grad = x.grad(&grads).expect("input gradient");
        assert_close(
            &what(grad_key),
            &values(grad),
            &g.matrix("outputs", grad_key).2,
            ATOL,
            RTOL,
        );
    }
}

#[derive(Clone, Copy)]
struct LifKeys {
    input: &'static str,
    spikes: &'static str,
    v: &'static str,
    i: Option<&'static str>,
    grad: Option<&'static str>,
}

const NORSE_KEYS: LifKeys = LifKeys {
    input: "input_current",
    spikes: "z",
    v: "v",
    i: Some("i"),
    grad: Some("grad_sum_z_wrt_input"),
};

/// Norse's `LIFParameters` of a golden file: inverse time constants in 1/s, `dt` in s.
pub fn norse_lif_config(g: &Golden, n: usize, with_current: bool) -> LifConfig {
    assert_eq!(g.param_str("method"), "super", "{}", g.name);
    let tau_syn_inv = with_current.then(|| g.param_f64("tau_syn_inv"));
    LifConfig::from_norse(
        n,
        g.param_f64("tau_mem_inv"),
        tau_syn_inv,
        g.param_f64("dt"),
    )
    .expect("norse parameters")
    .with_threshold(g.param_f64("v_th"))
    .with_v_leak(g.param_f64("v_leak"))
    .with_v_reset(g.param_f64("v_reset"))
    // norse 1.1.0's superspike backward ignores alpha (100) and computes 1/(1+|x|)^2
    .with_surrogate(Surrogate::SuperSpike { alpha: 1.0 })
}

#[test]
fn norse_lif_feed_forward_step() {
    for g in golden("norse_lif_feed_forward_step") {
        let n = g.matrix("inputs", "input_current").1;
        for (dev, device) in autodiff_devices() {
            check_lif(&g, &norse_lif_config(&g, n, true), NORSE_KEYS, &device, dev);
        }
    }
}

#[test]
fn norse_lif_box_feed_forward_step() {
    for g in golden("norse_lif_box_feed_forward_step") {
        let n = g.matrix("inputs", "input_current").1;
        let reset = match g.param_str("reset_method") {
            "reset_value" => Reset::ToValue,
            "reset_subtract" => Reset::Subtract,
            other => panic!("{}: unknown reset_method {other}", g.name),
        };
        let config = norse_lif_config(&g, n, false).with_reset(reset);
        let keys = LifKeys {
            i: None,
            grad: None,
            ..NORSE_KEYS
        };
        for (dev, device) in autodiff_devices() {
            check_lif(&g, &config, keys, &device, dev);
        }
    }
}

#[test]
fn snntorch_leaky() {
    for g in golden("snntorch_leaky") {
        let n = g.matrix("inputs", "input_current").1;
        assert_eq!(g.param("reset_delay").as_bool(), Some(true), "{}", g.name);
        assert_eq!(g.param_f64("initial_mem"), 0.0, "{}", g.name);
        let reset = match g.param_str("reset_mechanism") {
            "subtract" => Reset::Subtract,
            "zero" => Reset::ToValue,
            other => panic!("{}: unknown reset_mechanism {other}", g.name),
        };
        let surrogate = match g.param_str("surrogate") {
            "atan" => Surrogate::Arctan {
                alpha: g.param_f64("alpha") as f32,
            },
            "fast_sigmoid" => Surrogate::FastSigmoid {
                slope: g.param_f64("slope") as f32,
            },
            other => panic!("{}: unknown surrogate {other}", g.name),
        };
        let config = LifConfig::from_beta(n, g.param_f64("beta"))
            .expect("beta")
            .with_threshold(g.param_f64("threshold"))
            .with_reset(reset)
            .with_surrogate(surrogate);
        let keys = LifKeys {
            input: "input_current",
            spikes: "spk",
            v: "mem",
            i: None,
            grad: Some("grad_sum_spk_wrt_input"),
        };
        for (dev, device) in autodiff_devices() {
            check_lif(&g, &config, keys, &device, dev);
        }
    }
}

#[test]
fn norse_iaf_feed_forward_step() {
    for g in golden("norse_iaf_feed_forward_step") {
        assert_eq!(g.param_str("method"), "super", "{}", g.name);
        for (dev, device) in autodiff_devices() {
            let (x, _, n) = sequence(&g, "input_current", &device);
            let iaf: Iaf = IafConfig::new(n)
                .with_threshold(g.param_f64("v_th"))
                .with_v_reset(g.param_f64("v_reset"))
                .init(&device)
                .expect("valid config");
            let out = iaf
                .forward_with(x, Some(IafState::zeros(1, n, &device)), true)
                .expect("forward");
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            assert_spikes_equal(
                &what("z"),
                &values(out.spikes.clone()),
                &g.matrix("outputs", "z").2,
            );
            assert_close(
                &what("v"),
                &values(out.v().unwrap()),
                &g.matrix("outputs", "v").2,
                ATOL,
                RTOL,
            );
        }
    }
}

/// Runs Norse's leaky integrator step by step with the pure `li_step`, recording `v` and `i`.
fn check_li(g: &Golden, x: Tensor<3>, n: usize, with_current: bool, device: &Device, dev: &str) {
    let tau_syn_inv = with_current.then(|| g.param_f64("tau_syn_inv"));
    let li = LiConfig::from_norse(
        n,
        g.param_f64("tau_mem_inv"),
        tau_syn_inv,
        g.param_f64("dt"),
    )
    .expect("norse parameters")
    .with_v_leak(g.param_f64("v_leak"))
    .init(device)
    .expect("valid config");
    let dynamics = li.dynamics();
    let mut state: LeakyState = li.init_state(1);
    let (mut vs, mut is) = (Vec::new(), Vec::new());
    let t = x.dims()[1];
    for x_t in x.clone().iter_dim(1) {
        let (v, next) = li_step(x_t.reshape([1, n]), state, &dynamics);
        vs.extend(values(v));
        is.extend(next.i.clone().map(values).unwrap_or_default());
        state = next;
    }
    let what = |k: &str| format!("{} on {dev}: {k}", g.name);
    assert_close(&what("v"), &vs, &g.matrix("outputs", "v").2, ATOL, RTOL);
    if with_current {
        assert_close(&what("i"), &is, &g.matrix("outputs", "i").2, ATOL, RTOL);
    }
    // the module's multi-step forward gives the same trace as the pure step loop (to 1e-6:
    // wgpu's fusion compiles the two graphs into different kernels, with different roundings)
    let trace = values(li.forward(x).expect("forward").v());
    assert_eq!(trace.len(), t * n);
    assert_close(&what("forward v"), &trace, &vs, 1e-7, 1e-6);
}

#[test]
fn norse_li_feed_forward_step() {
    for g in golden("norse_li_feed_forward_step") {
        for (dev, device) in autodiff_devices() {
            let (x, _, n) = sequence(&g, "input_current", &device);
            check_li(&g, x, n, true, &device, dev);
        }
    }
}

#[test]
fn norse_li_box_feed_forward_step() {
    for g in golden("norse_li_box_feed_forward_step") {
        for (dev, device) in autodiff_devices() {
            let (x, _, n) = sequence(&g, "input_current", &device);
            check_li(&g, x, n, false, &device, dev);
        }
    }
}

#[test]
fn norse_li_step() {
    for g in golden("norse_li_step") {
        for (dev, device) in autodiff_devices() {
            let (z, t, _) = sequence(&g, "input_spikes", &device);
            let (rows, cols, w) = g.matrix("inputs", "input_weights");
            let w = Tensor::<1>::from_floats(w.as_slice(), &device).reshape([rows, cols]);
            // Norse's li_step: i += W z_in, i.e. the input current is z W^T
            let x = z
                .reshape([t, cols])
                .matmul(w.transpose())
                .reshape([1, t, rows]);
            check_li(&g, x, rows, true, &device, dev);
        }
    }
}

/// SpikingJelly 2.0.0's surrogate of a golden file.
fn sj_surrogate(g: &Golden) -> Surrogate {
    let alpha = g.param_f64("surrogate_alpha") as f32;
    match g.param_str("surrogate") {
        "ATan" => Surrogate::Arctan { alpha },
        "Sigmoid" => Surrogate::Sigmoid { alpha },
        other => panic!("{}: unknown surrogate {other}", g.name),
    }
}

/// Runs a SpikingJelly node over its time-major `[T, B, N]` input and checks spikes, membrane and
/// `d(Σ spikes)/dx` (all time-major in the file).
fn check_sj_node(
    g: &Golden,
    device: &Device,
    dev: &str,
    run: impl Fn(Tensor<3>) -> (Tensor<3>, Tensor<3>),
) {
    assert_eq!(g.param_f64("initial_v"), 0.0, "{}", g.name);
    let (shape, x) = g.array("inputs", "x_seq");
    let x = Tensor::<1>::from_floats(x.as_slice(), device)
        .reshape([shape[0], shape[1], shape[2]])
        .require_grad();
    let (spikes, v) = run(x.clone().swap_dims(0, 1));
    let what = |k: &str| format!("{} on {dev}: {k}", g.name);
    let time_major = |t: Tensor<3>| values(t.swap_dims(0, 1));
    assert_spikes_equal(
        &what("spike_seq"),
        &time_major(spikes.clone()),
        &g.array("outputs", "spike_seq").1,
    );
    assert_close(
        &what("v_seq"),
        &time_major(v),
        &g.array("outputs", "v_seq").1,
        ATOL,
        RTOL,
    );
    let grads = spikes.sum().backward();
    let grad = values(x.grad(&grads).expect("input gradient"));
    assert_close(
        &what("grad"),
        &grad,
        &g.array("outputs", "grad_sum_spikes_wrt_x").1,
        ATOL,
        RTOL,
    );
}

#[test]
fn spikingjelly_lif_node() {
    for g in golden("sj_lifnode") {
        let n = g.array("inputs", "x_seq").0[2];
        let v_reset = g.param("v_reset").as_f64();
        let config = LifConfig::from_spikingjelly(
            n,
            g.param_f64("tau"),
            g.param("decay_input").as_bool().unwrap(),
            g.param_f64("v_threshold"),
            v_reset,
        )
        .with_detach_reset(g.param("detach_reset").as_bool().unwrap())
        .with_surrogate(sj_surrogate(&g));
        for (dev, device) in autodiff_devices() {
            let lif = config.init(&device).unwrap();
            check_sj_node(&g, &device, dev, |x| {
                let out = lif.forward_with(x, None, true).unwrap();
                (out.spikes.clone(), out.v().unwrap())
            });
        }
    }
}

#[test]
fn spikingjelly_if_node() {
    for g in golden("sj_ifnode") {
        let n = g.array("inputs", "x_seq").0[2];
        let config = IafConfig::from_spikingjelly(
            n,
            g.param_f64("v_threshold"),
            g.param("v_reset").as_f64(),
        )
        .with_detach_reset(g.param("detach_reset").as_bool().unwrap())
        .with_surrogate(sj_surrogate(&g));
        for (dev, device) in autodiff_devices() {
            let iaf = config.init(&device).unwrap();
            check_sj_node(&g, &device, dev, |x| {
                let out = iaf.forward_with(x, None, true).unwrap();
                (out.spikes.clone(), out.v().unwrap())
            });
        }
    }
}

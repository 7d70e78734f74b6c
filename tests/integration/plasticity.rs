//! STDP and Tsodyks-Markram: golden parity with Norse, hand-worked rules.

use burn::prelude::*;
use snn_core::SnnError;
use snn_core::plasticity::{
    StdpAlgorithm, StdpConfig, StdpLinear, StdpState, StpState, TsodyksMarkramConfig,
    stdp_step_conv2d, stdp_step_linear,
};

use crate::common::{
    Golden, assert_close, batched_sequence, devices, golden, time_major, uniform, values,
};

const ATOL: f32 = 2e-5;
const RTOL: f32 = 2e-5;

/// The rule of a Norse STDP golden file, every parameter read from it.
fn stdp_config(g: &Golden) -> StdpConfig {
    let p = |k: &str| g.param_f64(k);
    let hardbound = g.param("hardbound").as_bool().expect("hardbound is a bool");
    assert_eq!(g.param("convolutional").as_bool(), Some(false));
    StdpConfig::from_norse(p("tau_pre_inv"), p("tau_post_inv"), p("dt"))
        .expect("valid Norse parameters")
        .with_a_pre(p("a_pre"))
        .with_a_post(p("a_post"))
        .with_w_min(p("w_min"))
        .with_w_max(p("w_max"))
        .with_eta_plus(p("eta_plus"))
        .with_eta_minus(p("eta_minus"))
        .with_algorithm(StdpAlgorithm::from_name(g.param_str("stdp_algorithm")).expect("name"))
        .with_mu(p("mu"))
        .with_hardbound(hardbound)
}

#[test]
fn golden_norse_stdp_step_linear() {
    for g in golden("norse_stdp_step_linear_") {
        let dynamics = stdp_config(&g).dynamics().expect("valid config");
        let (pre_shape, z_pre) = g.array("inputs", "z_pre");
        let (post_shape, z_post) = g.array("inputs", "z_post");
        let (steps, batch, pre) = (pre_shape[0], pre_shape[1], pre_shape[2]);
        let post = post_shape[2];
        // `w0` one number or a `[post, pre]` matrix; each trace a number or `[batch, n]`
        let mut w0 = g.param_values("w0");
        if w0.len() == 1 {
            w0 = vec![w0[0]; post * pre];
        }
        assert_eq!(w0.len(), post * pre, "{}: params.w0", g.name);
        for (dev, device) in devices() {
            let mut w = Tensor::<1>::from_floats(w0.as_slice(), &device).reshape([post, pre]);
            let trace = |key: &str, n: usize| {
                g.state_param(&["initial_state", key], batch, n, &device)
                    .expect("an initial trace")
            };
            let mut state = StdpState {
                t_pre: trace("t_pre", pre),
                t_post: trace("t_post", post),
            };
            let (mut ws, mut pres, mut posts) = (Vec::new(), Vec::new(), Vec::new());
            for t in 0..steps {
                let at = |z: &[f32], n: usize| {
                    Tensor::<1>::from_floats(&z[t * batch * n..(t + 1) * batch * n], &device)
                        .reshape([batch, n])
                };
                let (next_w, next) =
                    stdp_step_linear(at(&z_pre, pre), at(&z_post, post), w, state, &dynamics)
                        .expect("step");
                ws.extend(values(next_w.clone()));
                pres.extend(values(next.t_pre.clone()));
                posts.extend(values(next.t_post.clone()));
                (w, state) = (next_w, next);
            }
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            assert_close(&what("w"), &ws, &g.array("outputs", "w").1, ATOL, RTOL);
            assert_close(
                &what("t_pre"),
                &pres,
                &g.array("outputs", "t_pre").1,
                ATOL,
                RTOL,
            );
            assert_close(
                &what("t_post"),
                &posts,
                &g.array("outputs", "t_post").1,
                ATOL,
                RTOL,
            );
        }
    }
}

#[test]
fn golden_norse_tsodyks_makram_stp_step() {
    for g in golden("norse_tsodyks_makram_stp_step_") {
        let p = |k: &str| g.param_f64(k);
        // spikes `[T]` (one synapse) or `[T, batch..., N]`; the state a number or `[batch, N]`
        let (shape, _) = g.array("inputs", "z");
        let n = if shape.len() == 1 {
            1
        } else {
            shape[shape.len() - 1]
        };
        let config =
            TsodyksMarkramConfig::from_norse(n, p("tau_f_inv"), p("tau_d_inv"), p("U"), p("dt"))
                .expect("valid Norse parameters");
        for (dev, device) in devices() {
            let (input, [_, b, _]) = batched_sequence(&g, "z", &device);
            let stp = config.init(&device).expect("valid config");
            let init = |key: &str| {
                g.state_param(&["initial_state", key], b, n, &device)
                    .expect("an initial state")
            };
            let state = StpState {
                u: init("u"),
                x: init("x"),
            };
            let out = stp.forward_with(input, Some(state), true).expect("forward");
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let want = |k: &str| g.array("outputs", k).1;
            let got = time_major(out.spikes.clone());
            assert_close(&what("out"), &got, &want("out"), ATOL, RTOL);
            let u = out.traced(|s| s.u.clone()).expect("recorded");
            let x = out.traced(|s| s.x.clone()).expect("recorded");
            assert_close(&what("u"), &time_major(u), &want("u"), ATOL, RTOL);
            assert_close(&what("x"), &time_major(x), &want("x"), ATOL, RTOL);
        }
    }
}

/// dt = 1 ms, τ = 50 ms: one spike sets a trace to 0.02, one silent step decays it to 0.0196.
const TRACE_1: f32 = 0.02;
const TRACE_2: f32 = 0.02 * (1.0 - 0.02);

#[test]
fn pre_then_post_potentiates_by_hand() {
    let config = StdpConfig::new().with_eta_plus(0.1).with_eta_minus(0.3);
    for (dev, device) in devices() {
        let mut syn = StdpLinear::new(Tensor::full([2, 3], 0.5, &device), config.clone()).unwrap();
        let pre = Tensor::<2>::from_floats([[1.0, 0.0, 1.0]], &device);
        let post = Tensor::<2>::from_floats([[0.0, 1.0]], &device);
        let state = syn.init_state(1);
        let state = syn
            .learn(pre, Tensor::zeros([1, 2], &device), state)
            .unwrap();
        assert_close(
            &format!("{dev}: no change yet"),
            &values(syn.weight()),
            &[0.5; 6],
            0.0,
            0.0,
        );
        let state = syn
            .learn(Tensor::zeros([1, 3], &device), post, state)
            .unwrap();
        // only the synapses from inputs 0 and 2 onto neuron 1 grow, by η⁺·t_pre
        let up = 0.5 + 0.1 * TRACE_2;
        let want = [0.5, 0.5, 0.5, up, 0.5, up];
        assert_close(
            &format!("{dev}: w"),
            &values(syn.weight()),
            &want,
            1e-7,
            1e-6,
        );
        assert_close(
            &format!("{dev}: t_post"),
            &values(state.t_post),
            &[0.0, TRACE_1],
            1e-7,
            0.0,
        );
    }
}

#[test]
fn post_then_pre_depresses_by_hand() {
    let dynamics = StdpConfig::new()
        .with_eta_plus(0.1)
        .with_eta_minus(0.3)
        .dynamics()
        .unwrap();
    for (dev, device) in devices() {
        let w = Tensor::<2>::full([2, 2], 0.5, &device);
        let state = StdpState::zeros([1, 2], [1, 2], &device);
        let post = Tensor::<2>::from_floats([[1.0, 0.0]], &device);
        let pre = Tensor::<2>::from_floats([[0.0, 1.0]], &device);
        let (w, state) =
            stdp_step_linear(Tensor::zeros([1, 2], &device), post, w, state, &dynamics).unwrap();
        let (w, _) =
            stdp_step_linear(pre, Tensor::zeros([1, 2], &device), w, state, &dynamics).unwrap();
        // w[post 0, pre 1] shrinks by η⁻·t_post
        let want = [0.5, 0.5 - 0.3 * TRACE_2, 0.5, 0.5];
        assert_close(&format!("{dev}: w"), &values(w), &want, 1e-7, 1e-6);
    }
}

#[test]
fn hard_bounds_hold_for_every_algorithm() {
    let device = Device::flex();
    let (batch, pre, post, steps) = (4, 5, 3, 60);
    let spikes = |n: usize, seed: u64| -> Vec<f32> {
        uniform(n, seed, 0.0, 1.0)
            .into_iter()
            .map(|r| f32::from(r < 0.4))
            .collect()
    };
    let z_pre = spikes(steps * batch * pre, 1);
    let z_post = spikes(steps * batch * post, 2);
    for algorithm in StdpAlgorithm::ALL {
        let dynamics = StdpConfig::new()
            .with_w_min(-0.25)
            .with_w_max(0.75)
            .with_eta_plus(20.0)
            .with_eta_minus(15.0)
            .with_algorithm(algorithm)
            .with_mu(0.5)
            .dynamics()
            .unwrap();
        let mut w =
            Tensor::<1>::from_floats(uniform(post * pre, 3, -0.25, 0.75).as_slice(), &device)
                .reshape([post, pre]);
        let mut state = StdpState::zeros([batch, pre], [batch, post], &device);
        for t in 0..steps {
            let at = |z: &[f32], n: usize| {
                Tensor::<1>::from_floats(&z[t * batch * n..(t + 1) * batch * n], &device)
                    .reshape([batch, n])
            };
            (w, state) =
                stdp_step_linear(at(&z_pre, pre), at(&z_post, post), w, state, &dynamics).unwrap();
            let ws = values(w.clone());
            assert!(
                ws.iter().all(|w| (-0.25..=0.75).contains(w)),
                "{algorithm:?} step {t}: {ws:?}"
            );
        }
    }
}

/// Norse's own conv2d check (`test_conv2d_stdp_stepper`): 3 input channels 10x10, a 3x3 kernel
/// onto 2 channels 8x8, all inputs fire, then all outputs, then all inputs again, no hard bound.
/// Every kernel entry sees 64 output positions, so the change is `64·A(w)·trace`.
#[test]
fn conv2d_uniform_spikes_by_hand() {
    for (algorithm, mu) in [
        ("additive", 0.0),
        ("additive_step", 0.0),
        ("multiplicative_pow", 0.75),
        ("multiplicative_relu", 1.0),
    ] {
        let dynamics = StdpConfig::new()
            .with_eta_plus(3e-2)
            .with_eta_minus(1e-2)
            .with_algorithm(StdpAlgorithm::from_name(algorithm).unwrap())
            .with_mu(mu)
            .with_hardbound(false)
            .dynamics()
            .unwrap();
        for (dev, device) in devices() {
            let pre = [1, 3, 10, 10];
            let post = [1, 2, 8, 8];
            let mut w = Tensor::<4>::full([2, 3, 3, 3], 0.5, &device);
            let mut state = StdpState::zeros(pre, post, &device);
            let (mut t_pre, mut t_post) = (0.0f64, 0.0f64);
            for step in 0..3 {
                let (zp, zq) = if step == 1 { (0.0, 1.0) } else { (1.0, 0.0) };
                let w0 = values(w.clone())[0] as f64;
                (w, state) = stdp_step_conv2d(
                    Tensor::full(pre, zp, &device),
                    Tensor::full(post, zq, &device),
                    w,
                    state,
                    &dynamics,
                )
                .unwrap();
                t_pre += 0.02 * (zp - t_pre);
                t_post += 0.02 * (zq - t_post);
                let want = match step {
                    0 => w0,
                    1 => w0 + (1.0 - w0).powf(mu) * 64.0 * 3e-2 * t_pre,
                    _ => w0 - w0.powf(mu) * 64.0 * 1e-2 * t_post,
                };
                let got = values(w.clone());
                assert_close(
                    &format!("{algorithm} on {dev}, step {step}"),
                    &got,
                    &vec![want as f32; got.len()],
                    1e-6,
                    1e-6,
                );
            }
        }
    }
}

/// A 1x1 kernel is the dense rule applied at every pixel, pixels summed like batch entries.
#[test]
fn conv2d_with_a_1x1_kernel_is_the_linear_rule() {
    let (batch, cin, cout, h, wd, steps) = (2, 3, 4, 3, 5, 8);
    let dynamics = StdpConfig::new()
        .with_eta_plus(0.05)
        .with_eta_minus(0.04)
        .with_algorithm(StdpAlgorithm::MultiplicativeRelu)
        .dynamics()
        .unwrap();
    let spikes = |n: usize, seed: u64| -> Vec<f32> {
        uniform(n, seed, 0.0, 1.0)
            .into_iter()
            .map(|r| f32::from(r < 0.5))
            .collect()
    };
    let w0 = uniform(cout * cin, 9, 0.1, 0.9);
    for (dev, device) in devices() {
        let image =
            |z: &[f32], c: usize| Tensor::<1>::from_floats(z, &device).reshape([batch, c, h, wd]);
        // [batch, c, h, w] -> [batch·h·w, c]: every pixel a row of the dense rule
        let rows = |x: Tensor<4>, c: usize| x.permute([0, 2, 3, 1]).reshape([batch * h * wd, c]);
        let mut w_conv =
            Tensor::<1>::from_floats(w0.as_slice(), &device).reshape([cout, cin, 1, 1]);
        let mut w_lin = w_conv.clone().reshape([cout, cin]);
        let mut s_conv = StdpState::zeros([batch, cin, h, wd], [batch, cout, h, wd], &device);
        let mut s_lin = StdpState::zeros([batch * h * wd, cin], [batch * h * wd, cout], &device);
        for t in 0..steps {
            let zp = image(&spikes(batch * cin * h * wd, 10 + t), cin);
            let zq = image(&spikes(batch * cout * h * wd, 100 + t), cout);
            (w_lin, s_lin) = stdp_step_linear(
                rows(zp.clone(), cin),
                rows(zq.clone(), cout),
                w_lin,
                s_lin,
                &dynamics,
            )
            .unwrap();
            (w_conv, s_conv) = stdp_step_conv2d(zp, zq, w_conv, s_conv, &dynamics).unwrap();
        }
        assert_close(
            &format!("{dev}: w"),
            &values(w_conv.reshape([cout, cin])),
            &values(w_lin),
            1e-6,
            1e-5,
        );
        assert!(values(s_conv.t_pre).iter().any(|&t| t > 0.0));
    }
}

#[test]
fn stdp_algorithm_names_round_trip() {
    for (algorithm, name) in StdpAlgorithm::ALL.iter().zip(StdpAlgorithm::NAMES) {
        assert_eq!(
            serde_json::to_string(algorithm).unwrap(),
            format!("\"{name}\"")
        );
        assert_eq!(
            serde_json::from_str::<StdpAlgorithm>(&format!("\"{name}\"")).unwrap(),
            *algorithm
        );
        assert_eq!(algorithm.name(), name);
    }
    assert!(matches!(
        StdpAlgorithm::from_name("hebbian"),
        Err(SnnError::UnknownName {
            what: "STDP algorithm",
            ..
        })
    ));
}

#[test]
fn stdp_negative_tau_is_rejected() {
    let err = StdpConfig::new()
        .with_tau_post_ms(-5.0)
        .validate()
        .unwrap_err();
    assert_eq!(
        err,
        SnnError::NotPositive {
            field: "tau_post_ms",
            value: -5.0
        }
    );
    assert!(matches!(
        StdpConfig::from_norse(-20.0, 20.0, 1e-3),
        Err(SnnError::NotPositive {
            field: "tau_pre_inv",
            ..
        })
    ));
}

#[test]
fn stdp_w_min_above_w_max_is_rejected() {
    let err = StdpConfig::new()
        .with_w_min(1.5)
        .with_w_max(1.0)
        .dynamics()
        .unwrap_err();
    assert!(matches!(err, SnnError::Invalid { field: "w_min", value, .. } if value == 1.5));
    let device = Device::flex();
    let bad = StdpConfig::new().with_w_min(2.0);
    assert!(StdpLinear::new(Tensor::zeros([1, 1], &device), bad).is_err());
}

#[test]
fn stdp_negative_learning_rate_is_rejected() {
    let err = StdpConfig::new()
        .with_eta_minus(-1e-3)
        .validate()
        .unwrap_err();
    assert!(matches!(
        err,
        SnnError::OutOfRange {
            field: "eta_minus",
            ..
        }
    ));
}

#[test]
fn stdp_linear_wrong_weight_shape_is_rejected() {
    let device = Device::flex();
    let dynamics = StdpConfig::new().dynamics().unwrap();
    let err = stdp_step_linear(
        Tensor::zeros([2, 3], &device),
        Tensor::zeros([2, 4], &device),
        Tensor::zeros([3, 4], &device), // should be [post 4, pre 3]
        StdpState::zeros([2, 3], [2, 4], &device),
        &dynamics,
    )
    .unwrap_err();
    assert!(
        matches!(&err, SnnError::ShapeMismatch { context: "stdp_step_linear w", actual, .. } if actual == &vec![3, 4]),
        "{err}"
    );
    let syn = StdpLinear::new(Tensor::zeros([4, 3], &device), StdpConfig::new()).unwrap();
    assert!(matches!(
        syn.forward(Tensor::zeros([2, 5], &device)),
        Err(SnnError::ShapeMismatch { .. })
    ));
}

#[test]
fn stdp_conv2d_wrong_output_shape_is_rejected() {
    let device = Device::flex();
    let dynamics = StdpConfig::new().with_stride([2, 2]).dynamics().unwrap();
    // 10x10 with a 3x3 kernel and stride 2 gives 4x4, not 8x8
    let err = stdp_step_conv2d(
        Tensor::zeros([1, 3, 10, 10], &device),
        Tensor::zeros([1, 2, 8, 8], &device),
        Tensor::zeros([2, 3, 3, 3], &device),
        StdpState::zeros([1, 3, 10, 10], [1, 2, 8, 8], &device),
        &dynamics,
    )
    .unwrap_err();
    assert!(
        matches!(
            &err,
            SnnError::ShapeMismatch {
                context: "stdp_step_conv2d z_post",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("[1, 2, 4, 4]"), "{err}");
}

#[test]
fn stdp_zero_stride_is_rejected() {
    let err = StdpConfig::new()
        .with_stride([1, 0])
        .validate()
        .unwrap_err();
    assert_eq!(err, SnnError::ZeroSize { field: "stride" });
}

#[test]
fn stp_first_spike_releases_u_increment() {
    // Norse's check: from u = 0, x = 1, the first spike's efficacy is exactly U.
    let device = Device::flex();
    let stp = TsodyksMarkramConfig::new(2)
        .with_u_increment(0.3)
        .init(&device)
        .unwrap();
    let (out, state) = stp
        .step(
            Tensor::<2>::from_floats([[1.0, 0.0]], &device),
            stp.init_state(1),
        )
        .unwrap();
    assert_close("out", &values(out), &[0.3, 0.0], 1e-7, 0.0);
    assert_close("u", &values(state.u), &[0.3, 0.0], 1e-7, 0.0);
    assert_close("x", &values(state.x), &[0.7, 1.0], 1e-7, 0.0);
}

#[test]
fn stp_u_increment_out_of_range_is_rejected() {
    let err = TsodyksMarkramConfig::new(1)
        .with_u_increment(1.5)
        .validate()
        .unwrap_err();
    assert!(matches!(
        err,
        SnnError::OutOfRange {
            field: "u_increment",
            ..
        }
    ));
}

#[test]
fn stp_negative_tau_is_rejected() {
    let err = TsodyksMarkramConfig::new(1)
        .with_tau_d_ms(-750.0)
        .init(&Device::flex())
        .unwrap_err();
    assert!(matches!(
        err,
        SnnError::NotPositive {
            field: "tau_d_ms",
            ..
        }
    ));
}

#[test]
fn stp_wrong_state_shape_is_rejected() {
    let device = Device::flex();
    let stp = TsodyksMarkramConfig::new(3).init(&device).unwrap();
    let err = stp
        .step(
            Tensor::<2>::zeros([2, 3], &device),
            StpState::resting(2, 4, &device),
        )
        .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
}

/// The convolutional module: `forward` is the convolution (checked by hand on a 1-channel 3x3
/// input and a 2x2 kernel), and a presynaptic spike followed by a postsynaptic one at an output
/// position whose receptive field holds it potentiates exactly the kernel tap that links them.
#[test]
fn stdp_conv2d_module_convolves_and_potentiates_the_causal_tap() {
    use snn_core::plasticity::StdpConv2d;
    let config = StdpConfig::new()
        .with_eta_plus(0.1)
        .with_eta_minus(0.3)
        .with_w_max(10.0);
    for (dev, device) in devices() {
        let kernel = Tensor::<1>::from_floats([1.0, 2.0, 3.0, 4.0], &device).reshape([1, 1, 2, 2]);
        let mut syn = StdpConv2d::new(kernel, config.clone()).unwrap();
        let x = Tensor::<1>::from_floats([1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0], &device)
            .reshape([1, 1, 3, 3]);
        // out[i][j] = Σ k[a][b]·x[i+a][j+b] on the diagonal input: (0,0) and (1,1) meet taps
        // (0,0) and (1,1), 1 + 4; (0,1) meets x[1][1] through tap (1,0), 3; (1,0) through (0,1), 2
        let want = [5.0, 3.0, 2.0, 5.0];
        assert_close(
            &format!("{dev}: conv"),
            &values(syn.forward(x).unwrap()),
            &want,
            1e-6,
            0.0,
        );
        // a spike at input pixel (0,0), then one at output (0,0): tap (0,0) grows by η⁺·t_pre
        let mut pre = [0.0f32; 9];
        pre[0] = 1.0;
        let pre = Tensor::<1>::from_floats(pre, &device).reshape([1, 1, 3, 3]);
        let mut post = [0.0f32; 4];
        post[0] = 1.0;
        let post = Tensor::<1>::from_floats(post, &device).reshape([1, 1, 2, 2]);
        let state = syn.init_state([1, 1, 3, 3], [1, 1, 2, 2]);
        let state = syn
            .learn(pre, Tensor::zeros([1, 1, 2, 2], &device), state)
            .unwrap();
        syn.learn(Tensor::zeros([1, 1, 3, 3], &device), post, state)
            .unwrap();
        let want = [1.0 + 0.1 * TRACE_2, 2.0, 3.0, 4.0];
        assert_close(
            &format!("{dev}: w"),
            &values(syn.weight()),
            &want,
            1e-6,
            1e-5,
        );
        let bad = Tensor::<4>::zeros([1, 2, 3, 3], &device);
        assert!(syn.forward(bad).is_err());
    }
}

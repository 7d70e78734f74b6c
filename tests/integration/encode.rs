//! Encoders, logical spike ops and the temporal lift against the peers, on every backend.
//!
//! Golden tolerance: `|got − want| <= 2e-5 + 2e-5·|want|` (peer values rounded to 6 significant
//! digits); spikes and spike times on the integer grid must match exactly. Random encoders are
//! checked statistically: the empirical spike probability over `N` draws must lie within 5
//! binomial standard deviations `sqrt(p(1 − p)/N)` of the expected one, which the peer's own
//! statistics in the same file also satisfy.

use burn::nn::LinearConfig;
use burn::prelude::*;
use snn_core::encode::{
    GaussianTuning, LatencyConfig, SpikeRng, constant_current_lif_encode, delta_encode,
    first_spike_only, latency_code, latency_encode, lif_adex_current_encoder, poisson_encode,
    population_encode, rate_encode, signed_poisson_encode, spike_latency_lif_encode,
};
use snn_core::lift::{StepLayer, lift, run};
use snn_core::logic::{logical_and, logical_or, logical_xor, muller_c, posedge_detector};
use snn_core::prelude::*;
use snn_core::{LiConfig, LifConfig, SnnError, sequential};

use crate::common::{
    Golden, assert_close, assert_spikes_equal, autodiff_devices, devices, golden, values,
};
use crate::golden::{norse_lif, norse_lif_adex, norse_lif_config, norse_lif_ex};

const ATOL: f32 = 2e-5;
const RTOL: f32 = 2e-5;

fn vector(g: &Golden, section: &str, key: &str, device: &Device) -> Tensor<1> {
    Tensor::<1>::from_floats(g.array(section, key).1.as_slice(), device)
}

fn check_current_encoder(prefix: &str, first_only: bool) {
    for g in golden(prefix) {
        let steps = g.param_f64("seq_length") as usize;
        for (dev, device) in devices() {
            let current = vector(&g, "inputs", "input_current", &device);
            let n = current.dims()[0];
            let lif = norse_lif(&g, &norse_lif_config(&g, n, false), &device);
            let x = current.reshape([1, n]);
            let spikes: Tensor<3> = if first_only {
                spike_latency_lif_encode(x, steps, &lif).unwrap()
            } else {
                constant_current_lif_encode(x, steps, &lif).unwrap()
            };
            let want = g.array("outputs", "spikes").1;
            assert_spikes_equal(&format!("{} on {dev}", g.name), &values(spikes), &want);
        }
    }
}

#[test]
fn norse_constant_current_lif_encode() {
    check_current_encoder("norse_constant_current_lif_encode", false);
}

#[test]
fn norse_spike_latency_lif_encode() {
    check_current_encoder("norse_spike_latency_lif_encode", true);
}

/// Norse's `lif_current_encoder` / `lif_ex_current_encoder` golden files: the same constant
/// current `input_current` (`[batch, features...]`) fed `seq_length` times to a current-free
/// layer from `params.initial_state.voltage`; spikes exactly and the membrane after every step
/// (both time-major in the file), with every parameter read from the file.
fn check_membrane_encoder<N: Neuron>(
    prefix: &str,
    layer: impl Fn(&Golden, usize, &Device) -> N,
    state: impl Fn(&N, Tensor<2>) -> N::State,
    v_of: fn(&N::State) -> Tensor<2>,
) {
    for g in golden(prefix) {
        let steps = g.param_f64("seq_length") as usize;
        let (shape, current) = g.array("inputs", "input_current");
        let (batch, n) = (shape[0], shape[1..].iter().product::<usize>());
        let want_z = g.array("outputs", "z").1;
        assert!(want_z.contains(&1.0) && want_z.contains(&0.0), "{}", g.name);
        let want_v = g.array("outputs", "v").1;
        for (dev, device) in devices() {
            let x = Tensor::<1>::from_floats(current.as_slice(), &device)
                .reshape([batch, 1, n])
                .repeat_dim(1, steps);
            let layer = layer(&g, n, &device);
            let v0 = g.initial_state("voltage", batch, n, &device);
            let out = Neuron::forward_with(&layer, x, Some(state(&layer, v0)), true).unwrap();
            let time_major = |t: Tensor<3>| values(t.swap_dims(0, 1));
            let what = |k: &str| format!("{} {k} on {dev}", g.name);
            assert_spikes_equal(&what("z"), &time_major(out.spikes.clone()), &want_z);
            let v = time_major(out.traced(v_of).unwrap());
            assert_close(&what("v"), &v, &want_v, ATOL, RTOL);
        }
    }
}

#[test]
fn norse_lif_current_encoder_membrane() {
    check_membrane_encoder(
        "norse_lif_current_encoder",
        |g, n, device| norse_lif(g, &norse_lif_config(g, n, false), device),
        |layer, v| layer.state_from(v, None, None).expect("the layer's parts"),
        |s| s.v.clone(),
    );
}

/// Norse's `lif_adex_current_encoder` golden files: spikes exactly, `v` and the (diverging by
/// Norse's design) adaptation `a` within the relative tolerance, every parameter and the
/// initial `voltage` and `adaptation` read from the file.
#[test]
fn norse_lif_adex_current_encoder() {
    for g in golden("norse_lif_adex_current_encoder") {
        let steps = g.param_f64("seq_length") as usize;
        let (shape, current) = g.array("inputs", "input_current");
        let (batch, n) = (shape[0], shape[1..].iter().product::<usize>());
        let want_z = g.array("outputs", "z").1;
        assert!(want_z.contains(&1.0) && want_z.contains(&0.0), "{}", g.name);
        for (dev, device) in devices() {
            // the encoder has no synaptic current: params.tau_syn_inv only fills the config
            let layer = norse_lif_adex(&g, n, &device);
            let x = Tensor::<1>::from_floats(current.as_slice(), &device).reshape([batch, n]);
            let v0 = g.initial_state("voltage", batch, n, &device);
            let a0 = g.initial_state("adaptation", batch, n, &device);
            let out = lif_adex_current_encoder(x, steps, &layer, Some(v0), Some(a0)).unwrap();
            let time_major = |t: Tensor<3>| values(t.swap_dims(0, 1));
            let what = |k: &str| format!("{} {k} on {dev}", g.name);
            assert_spikes_equal(&what("z"), &time_major(out.spikes), &want_z);
            // |a| doubles every step (Norse's encoder update): relative tolerance only matters
            assert_close(
                &what("v"),
                &time_major(out.v),
                &g.array("outputs", "v").1,
                ATOL,
                1e-5,
            );
            assert_close(
                &what("a"),
                &time_major(out.a),
                &g.array("outputs", "a").1,
                ATOL,
                1e-5,
            );
        }
    }
}

#[test]
fn norse_lif_ex_current_encoder_membrane() {
    check_membrane_encoder(
        "norse_lif_ex_current_encoder",
        // the encoder has no synaptic current: params.tau_syn_inv is not used
        |g, n, device| norse_lif_ex(g, n, false, device),
        |layer, v| layer.state_from(v, None).expect("the layer's parts"),
        |s| s.v.clone(),
    );
}

#[test]
fn norse_spike_latency_encode() {
    for g in golden("norse_spike_latency_encode") {
        let (shape, x) = g.array("inputs", "input_spikes");
        for (dev, device) in devices() {
            // the file is time-major [T, batch, n]
            let x = Tensor::<1>::from_floats(x.as_slice(), &device)
                .reshape([shape[0], shape[1], shape[2]])
                .swap_dims(0, 1);
            let first = first_spike_only(x).unwrap().swap_dims(0, 1);
            let want = g.array("outputs", "spikes").1;
            assert_spikes_equal(&format!("{} on {dev}", g.name), &values(first), &want);
        }
    }
}

#[test]
fn norse_population_encode() {
    for g in golden("norse_population_encode") {
        let sigma = g.param_f64("sigma");
        let case_a = &g.param("case_a")["out_features"];
        let case_b = &g.json["params"]["case_b"];
        for (dev, device) in devices() {
            let a = vector(&g, "inputs", "case_a_values", &device);
            let out_a = case_a.as_u64().unwrap() as usize;
            let got: Tensor<2> = population_encode(a, out_a, None, sigma).unwrap();
            let want = g.array("outputs", "case_a").1;
            assert_close(
                &format!("{} case a on {dev}", g.name),
                &values(got),
                &want,
                ATOL,
                RTOL,
            );

            let (shape, b) = g.array("inputs", "case_b_values");
            let b = Tensor::<1>::from_floats(b.as_slice(), &device).reshape([shape[0], shape[1]]);
            let out_b = case_b["out_features"].as_u64().unwrap() as usize;
            let scale = case_b["scale"].as_f64().unwrap();
            let got: Tensor<3> = population_encode(b, out_b, Some(scale), sigma).unwrap();
            let want = g.array("outputs", "case_b").1;
            assert_close(
                &format!("{} case b on {dev}", g.name),
                &values(got),
                &want,
                ATOL,
                RTOL,
            );
        }
    }
}

/// Mean over samples and steps of `spikes` `[trials, steps, n]`, per input.
fn mean_per_input(spikes: Tensor<3>) -> Vec<f64> {
    let [_, _, n] = spikes.dims();
    values(spikes.mean_dim(0).mean_dim(1).reshape([n]))
        .into_iter()
        .map(f64::from)
        .collect()
}

fn assert_binomial(what: &str, empirical: &[f64], expected: &[f64], draws: usize) {
    for (k, (&got, &p)) in empirical.iter().zip(expected).enumerate() {
        let sigma = (p * (1.0 - p) / draws as f64).sqrt().max(1e-12);
        assert!(
            (got - p).abs() <= 5.0 * sigma + 1e-9,
            "{what}[{k}]: empirical {got}, expected {p} (5 sigma = {})",
            5.0 * sigma
        );
    }
}

#[test]
fn norse_poisson_encode_statistics() {
    for g in golden("norse_poisson_encode_stats") {
        let (f_max, dt_ms) = (g.param_f64("f_max"), g.param_f64("dt") * 1e3);
        // fewer trials than the peer's 200 keep the test light; the 5-sigma bound uses our count
        let (steps, trials) = (g.param_f64("seq_length") as usize, 50);
        let expected: Vec<f64> = g
            .array("outputs", "expected_spike_prob_per_step")
            .1
            .iter()
            .map(|&p| f64::from(p))
            .collect();
        // the peer's own empirical numbers satisfy the bound used here
        let peer: Vec<f64> = g
            .array("outputs", "empirical_spike_prob_per_step")
            .1
            .iter()
            .map(|&p| f64::from(p))
            .collect();
        assert_binomial(
            &format!("{}: peer", g.name),
            &peer,
            &expected,
            steps * g.param_f64("trials") as usize,
        );
        for (dev, device) in devices() {
            let x = vector(&g, "inputs", "input_values", &device);
            let n = x.dims()[0];
            let x = x.reshape([1, n]).repeat_dim(0, trials);
            let spikes: Tensor<3> =
                poisson_encode(x, steps, f_max, dt_ms, &mut SpikeRng::new(1)).unwrap();
            let got = mean_per_input(spikes);
            assert_binomial(
                &format!("{} on {dev}", g.name),
                &got,
                &expected,
                steps * trials,
            );

            let signed = vector(&g, "inputs", "signed_input_values", &device);
            let m = signed.dims()[0];
            let want: Vec<f64> = g
                .array("inputs", "signed_input_values")
                .1
                .iter()
                .map(|&v| f64::from(v) * f_max * dt_ms * 1e-3)
                .collect();
            let spikes: Tensor<3> = signed_poisson_encode(
                signed.reshape([1, m]).repeat_dim(0, trials),
                steps,
                f_max,
                dt_ms,
                &mut SpikeRng::new(2),
            )
            .unwrap();
            let got = mean_per_input(spikes);
            let abs: Vec<f64> = want.iter().map(|p| p.abs()).collect();
            for (k, (&g_mean, &w)) in got.iter().zip(&want).enumerate() {
                let sigma = (abs[k] * (1.0 - abs[k]) / (steps * trials) as f64)
                    .sqrt()
                    .max(1e-12);
                assert!(
                    (g_mean - w).abs() <= 5.0 * sigma + 1e-9,
                    "signed poisson [{k}] on {dev}: {g_mean} vs {w}"
                );
            }
        }
    }
}

#[test]
fn snntorch_rate_statistics_and_seeds() {
    for g in golden("snntorch_spikegen_rate_stats") {
        let (steps, trials) = (g.param_f64("num_steps") as usize, 50);
        let (gain, offset) = (g.param_f64("gain"), g.param_f64("offset"));
        let expected: Vec<f64> = g
            .array("outputs", "expected_prob")
            .1
            .iter()
            .map(|&p| f64::from(p))
            .collect();
        let mut first_run: Option<Vec<f32>> = None;
        for (dev, device) in devices() {
            let x = vector(&g, "inputs", "data", &device);
            let n = x.dims()[0];
            let x = x.reshape([1, n]).repeat_dim(0, trials);
            let spikes: Tensor<3> =
                rate_encode(x, steps, gain, offset, &mut SpikeRng::new(7)).unwrap();
            assert_binomial(
                &format!("{} on {dev}", g.name),
                &mean_per_input(spikes.clone()),
                &expected,
                steps * trials,
            );
            // the same seed gives the same spikes, on every backend
            let spikes = values(spikes);
            match &first_run {
                Some(reference) => {
                    assert_spikes_equal(&format!("seed 7 on {dev}"), &spikes, reference)
                }
                None => first_run = Some(spikes),
            }
        }
        let device = Device::flex();
        let x = Tensor::<2>::full([4, 8], 0.5, &device);
        let a: Tensor<3> = rate_encode(x.clone(), 20, 1.0, 0.0, &mut SpikeRng::new(1)).unwrap();
        let b: Tensor<3> = rate_encode(x, 20, 1.0, 0.0, &mut SpikeRng::new(2)).unwrap();
        assert_ne!(
            values(a),
            values(b),
            "different seeds give different spikes"
        );
    }
}

#[test]
fn snntorch_latency() {
    for g in golden("snntorch_spikegen_latency") {
        let variants = g.param("variants").as_object().unwrap().clone();
        let epsilon = g.param_f64("epsilon");
        for (name, v) in variants {
            let flag = |k: &str| v.get(k).and_then(|b| b.as_bool()).unwrap_or(false);
            let config = LatencyConfig::new(v["num_steps"].as_u64().unwrap() as usize)
                .with_tau(v["tau"].as_f64().unwrap())
                .with_threshold(v["threshold"].as_f64().unwrap())
                .with_epsilon(epsilon)
                .with_linear(flag("linear"))
                .with_normalize(flag("normalize"))
                .with_clip(flag("clip"));
            let key = if config.linear {
                "data_linear_variants"
            } else {
                "data_log_variants"
            };
            for (dev, device) in devices() {
                let data = vector(&g, "inputs", key, &device);
                let n = data.dims()[0];
                let (times, _) = latency_code(data.clone(), &config).unwrap();
                let want = g.array("outputs", &format!("{name}_spike_time")).1;
                assert_close(
                    &format!("{name} times on {dev}"),
                    &values(times),
                    &want,
                    ATOL,
                    RTOL,
                );
                let spikes: Tensor<2> = latency_encode(data, &config).unwrap();
                // the file is time-major [steps, n]; ours is [n=batch, steps]
                let got = values(spikes.reshape([n, config.steps]).transpose());
                assert_spikes_equal(
                    &format!("{name} spikes on {dev}"),
                    &got,
                    &g.array("outputs", &name).1,
                );
            }
        }
    }
}

#[test]
fn norse_logical_truth_tables_and_or_gradient() {
    for g in golden("norse_logical") {
        for (dev, device) in autodiff_devices() {
            let x = vector(&g, "inputs", "x", &device).require_grad();
            let y = vector(&g, "inputs", "y", &device).require_grad();
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let check = |k: &str, t: Tensor<1>| {
                assert_spikes_equal(&what(k), &values(t), &g.array("outputs", k).1)
            };
            check("and", logical_and(x.clone(), y.clone()));
            check("xor", logical_xor(x.clone(), y.clone()));
            let zeros = x.zeros_like();
            check(
                "muller_c_yprev_0",
                muller_c(zeros.clone(), x.clone(), y.clone()),
            );
            check(
                "muller_c_yprev_1",
                muller_c(zeros.ones_like(), x.clone(), y.clone()),
            );
            let z = vector(&g, "inputs", "posedge_z", &device);
            let z_prev = vector(&g, "inputs", "posedge_z_prev", &device);
            check("posedge_detector", posedge_detector(z, z_prev));
            let or = logical_or(x.clone(), y.clone());
            check("or", or.clone());
            let grads = or.sum().backward();
            assert_close(
                &what("or_grad_x"),
                &values(x.grad(&grads).unwrap()),
                &g.array("outputs", "or_grad_x").1,
                ATOL,
                RTOL,
            );
            assert_close(
                &what("or_grad_y"),
                &values(y.grad(&grads).unwrap()),
                &g.array("outputs", "or_grad_y").1,
                ATOL,
                RTOL,
            );
        }
    }
}

fn tuning(g: &Golden) -> GaussianTuning {
    let bounds = |k: &str| {
        g.array("params", k)
            .1
            .iter()
            .map(|&v| f64::from(v))
            .collect::<Vec<_>>()
    };
    GaussianTuning::new(
        g.param_f64("m") as usize,
        &bounds("x_min"),
        &bounds("x_max"),
    )
    .unwrap()
}

fn tuning_input(g: &Golden, device: &Device) -> Tensor<3> {
    let (s, x) = g.array("inputs", "x");
    Tensor::<1>::from_floats(x.as_slice(), device).reshape([s[0], s[1], s[2]])
}

#[test]
fn sj_legacy_gaussian_tuning() {
    for g in golden("sj_legacy_gaussian_tuning_encode") {
        let t = tuning(&g);
        for (dev, device) in devices() {
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            assert_close(
                &what("mu"),
                &values(t.mu(&device)),
                &g.array("outputs", "mu").1,
                ATOL,
                RTOL,
            );
            assert_close(
                &what("sigma2"),
                &values(t.sigma2(&device)),
                &g.array("outputs", "sigma2").1,
                ATOL,
                RTOL,
            );
            let times = t
                .spike_times(
                    tuning_input(&g, &device),
                    g.param_f64("max_spike_time") as usize,
                )
                .unwrap();
            assert_spikes_equal(
                &what("spike_times"),
                &values(times),
                &g.array("outputs", "spike_times").1,
            );
        }
    }
}

#[test]
fn sj_gaussian_tuning_v2_events() {
    for g in golden("sj_gaussian_tuning_v2") {
        let t = tuning(&g);
        for (dev, device) in devices() {
            let events = t
                .events(tuning_input(&g, &device), g.param_f64("duration"))
                .unwrap();
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let ints = |k: &str| {
                g.array("outputs", k)
                    .1
                    .iter()
                    .map(|&v| v as usize)
                    .collect::<Vec<_>>()
            };
            assert_eq!(
                events.batch_offsets,
                ints("batch_offsets"),
                "{}",
                what("batch_offsets")
            );
            assert_eq!(
                events.input_indices,
                ints("input_indices"),
                "{}",
                what("input_indices")
            );
            assert_close(
                &what("spike_times"),
                &events.spike_times,
                &g.array("outputs", "spike_times").1,
                1e-4,
                RTOL,
            );
        }
    }
}

#[test]
fn delta_modulation_by_hand() {
    // changes 1, 1, 0.9, 1.1, -0.1 against threshold 1 (snnTorch's docstring uses 3.0 for 4.0
    // and still shows a spike there, which its own code does not produce)
    let device = Device::flex();
    let a = Tensor::<1>::from_floats([1.0, 2.0, 2.9, 4.0, 3.9], &device).reshape([1, 5]);
    assert_eq!(
        values(delta_encode(a.clone(), 1.0, false, false).unwrap()),
        vec![1.0, 1.0, 0.0, 1.0, 0.0]
    );
    assert_eq!(
        values(delta_encode(a, 1.0, true, false).unwrap()),
        vec![0.0, 1.0, 0.0, 1.0, 0.0]
    );
    // changes 1, 1, -2, 2, 0.9
    let b = Tensor::<1>::from_floats([1.0, 2.0, 0.0, 2.0, 2.9], &device).reshape([1, 5]);
    assert_eq!(
        values(delta_encode(b.clone(), 1.0, false, true).unwrap()),
        vec![1.0, 1.0, -1.0, 1.0, 0.0]
    );
    assert_eq!(
        values(delta_encode(b, 1.0, true, true).unwrap()),
        vec![0.0, 1.0, -1.0, 1.0, 0.0]
    );
}

#[test]
fn lift_and_sequential_thread_state_through_time() {
    for (dev, device) in devices() {
        let fc1 = LinearConfig::new(3, 5).init(&device);
        let lif = LifConfig::new(5).init(&device).unwrap();
        let fc2 = LinearConfig::new(5, 2).init(&device);
        let li = LiConfig::new(2).init(&device).unwrap();
        let x = Tensor::<1>::from_floats(
            crate::common::uniform(2 * 12 * 3, 4, 0.0, 2.0).as_slice(),
            &device,
        )
        .reshape([2, 12, 3]);
        // the layers' own multi-step forwards, composed by hand
        let spikes = lif.forward(fc1.forward(x.clone())).unwrap().spikes;
        let want = li.forward(fc2.forward(spikes)).unwrap().v();
        // lift of a stateless step, then the sequential container
        let lifted = lift(x.clone(), |x_t| fc1.forward(x_t));
        assert_close(
            &format!("lift on {dev}"),
            &values(lifted),
            &values(fc1.forward(x.clone())),
            1e-6,
            1e-6,
        );
        let net = sequential![fc1, lif, fc2, li];
        let (got, (_, (lif_state, (_, li_state)))) = run(&net, x.clone(), None);
        assert_close(
            &format!("sequential on {dev}"),
            &values(got),
            &values(want.clone()),
            1e-6,
            1e-5,
        );
        // running the sequence in two halves, carrying the states, gives the same result
        let first = x.clone().narrow(1, 0, 6);
        let second = x.narrow(1, 6, 6);
        let (_, state) = run(&net, first, None);
        let (tail, _) = run(&net, second, Some(state));
        let want_tail = values(want.narrow(1, 6, 6));
        assert_close(
            &format!("resumed sequential on {dev}"),
            &values(tail),
            &want_tail,
            1e-6,
            1e-5,
        );
        assert_eq!(lif_state.v.dims(), [2, 5]);
        assert_eq!(li_state.v.dims(), [2, 2]);
        let _ = net.prepare();
    }
}

#[test]
fn encoders_reject_bad_input() {
    let device = Device::flex();
    let x = Tensor::<2>::ones([2, 3], &device);
    // output rank must be the input rank + 1
    let err = poisson_encode::<2, 2>(x.clone(), 10, 100.0, 1.0, &mut SpikeRng::new(0)).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::RankMismatch {
                context: "poisson_encode",
                ..
            }
        ),
        "{err:?}"
    );
    let err = rate_encode::<2, 3>(x.clone(), 0, 1.0, 0.0, &mut SpikeRng::new(0)).unwrap_err();
    assert_eq!(err, SnnError::ZeroSize { field: "steps" });
    let err = poisson_encode::<2, 3>(x.clone(), 10, -1.0, 1.0, &mut SpikeRng::new(0)).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotPositive {
                field: "f_max_hz",
                ..
            }
        ),
        "{err:?}"
    );
    // zero neurons
    let err = population_encode::<2, 3>(x.clone(), 0, None, 1.0).unwrap_err();
    assert_eq!(
        err,
        SnnError::ZeroSize {
            field: "out_features"
        }
    );
    let err = GaussianTuning::new(5, &[], &[]).unwrap_err();
    assert!(matches!(err, SnnError::ZeroSize { .. }), "{err:?}");
    // Gaussian tuning: too few fields, empty range, bounds of other lengths, wrong feature count
    assert!(matches!(
        GaussianTuning::new(2, &[0.0], &[1.0]),
        Err(SnnError::OutOfRange {
            field: "fields",
            ..
        })
    ));
    assert!(matches!(
        GaussianTuning::new(5, &[1.0], &[1.0]),
        Err(SnnError::NotPositive { .. })
    ));
    assert!(matches!(
        GaussianTuning::new(5, &[0.0, 0.0], &[1.0]),
        Err(SnnError::ShapeMismatch { .. })
    ));
    let t = GaussianTuning::new(5, &[0.0, 0.0], &[1.0, 1.0]).unwrap();
    let err = t
        .spike_times(Tensor::<3>::zeros([1, 3, 2], &device), 10)
        .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err:?}");
    // latency: threshold outside (0, 1), linear data above 1 without normalize
    let err =
        latency_encode::<2, 3>(x.clone(), &LatencyConfig::new(10).with_threshold(1.5)).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::OutOfRange {
                field: "threshold",
                ..
            }
        ),
        "{err:?}"
    );
    let err =
        latency_encode::<2, 3>(x * 2.0, &LatencyConfig::new(10).with_linear(true)).unwrap_err();
    assert!(matches!(err, SnnError::OutOfRange { .. }), "{err:?}");
    let err = LifConfig::new(3)
        .init(&device)
        .map(|lif| constant_current_lif_encode::<2, 3>(Tensor::ones([1, 4], &device), 5, &lif));
    assert!(
        matches!(err, Ok(Err(SnnError::ShapeMismatch { .. }))),
        "{err:?}"
    );
}

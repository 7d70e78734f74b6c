//! SpikingJelly Tempotron: golden parity (legacy and 2.0), learning, errors.
//!
//! Golden tolerance (the golden README's): outputs are rounded to 6 significant digits, so
//! values and gradients must satisfy `|got − want| <= 2e-5 + 2e-5·|want|`.

use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use snn_core::SnnError;
use snn_core::neuron::{Tempotron, TempotronConfig, psp_kernel, psp_v0};
use snn_losses::tempotron_mse_loss;

use crate::common::{Golden, assert_close, autodiff_devices, golden, uniform, values};

const ATOL: f32 = 2e-5;
const RTOL: f32 = 2e-5;

/// The config and weight of a golden file (legacy `T` or 2.0 `duration`, both 50 ms here).
fn tempotron(g: &Golden, steps_key: &str, device: &Device) -> Tempotron {
    let steps = g.param_f64(steps_key);
    assert_eq!(steps.fract(), 0.0, "{}: {steps_key} is whole", g.name);
    let config = TempotronConfig {
        tau_mem_ms: g.param_f64("tau"),
        tau_syn_ms: g.param_f64("tau_s"),
        threshold: g.param_f64("v_threshold"),
        ..TempotronConfig::new(
            g.param_f64("in_features") as usize,
            g.param_f64("out_features") as usize,
            steps as usize,
        )
    };
    let (shape, w) = g.array("params", "weight");
    let weight = Tensor::<1>::from_floats(w.as_slice(), device).reshape([shape[0], shape[1]]);
    config
        .init(device)
        .expect("valid config")
        .with_weight(weight)
        .expect("weight [out, in]")
}

#[test]
fn legacy_tempotron_matches_spikingjelly_0_0_0_0_14() {
    for g in golden("sj_legacy_tempotron") {
        // v0 (a Python float in SpikingJelly)
        let v0 = psp_v0(
            g.param_f64("tau"),
            g.param_f64("tau_s"),
            g.param_f64("v_threshold"),
        );
        assert!(
            (v0.unwrap() - g.param_f64("v0")).abs() < 1e-12,
            "{}: v0",
            g.name
        );
        for (dev, device) in autodiff_devices() {
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let (_, t) = g.array("inputs", "psp_kernel_t");
            let kernel = psp_kernel(
                Tensor::<1>::from_floats(t.as_slice(), &device),
                g.param_f64("tau"),
                g.param_f64("tau_s"),
            );
            assert_close(
                &what("psp_kernel"),
                &values(kernel),
                &g.array("outputs", "psp_kernel").1,
                ATOL,
                RTOL,
            );

            let model = tempotron(&g, "T", &device);
            let (shape, s) = g.array("inputs", "in_spikes");
            let in_spikes =
                Tensor::<1>::from_floats(s.as_slice(), &device).reshape([shape[0], shape[1]]);

            // ours is [batch, T, out]; SpikingJelly's [batch, out, T]
            let v = model.membrane(in_spikes.clone()).expect("membrane");
            let (v_shape, v_want) = g.array("outputs", "v");
            assert_eq!(
                v.dims(),
                [v_shape[0], v_shape[2], v_shape[1]],
                "{}",
                what("v shape")
            );
            assert_close(&what("v"), &values(v.swap_dims(1, 2)), &v_want, ATOL, RTOL);

            let spikes = values(model.spikes(in_spikes.clone()).expect("spikes"));
            let spikes_want = g.array("outputs", "spikes").1;
            assert_close(&what("spikes"), &spikes, &spikes_want, ATOL, RTOL);
            let rounded: Vec<f32> = spikes.iter().map(|s| s.round()).collect();
            assert_eq!(rounded, spikes_want, "{}", what("spikes are whole steps"));

            let v_max = model.v_max(in_spikes).expect("v_max");
            assert_close(
                &what("v_max"),
                &values(v_max.clone()),
                &g.array("outputs", "v_max").1,
                ATOL,
                RTOL,
            );

            let (_, label) = g.array("inputs", "label");
            let label: Vec<i64> = label.iter().map(|&l| l as i64).collect();
            let label = Tensor::<1, Int>::from_ints(label.as_slice(), &device);
            let loss = tempotron_mse_loss(v_max, g.param_f64("v_threshold"), label).expect("loss");
            assert_close(
                &what("mse_loss"),
                &values(loss.clone()),
                &[g.output_f64("mse_loss") as f32],
                ATOL,
                RTOL,
            );
            let grads = loss.backward();
            let grad = model.weight.val().grad(&grads).expect("weight gradient");
            assert_close(
                &what("d mse_loss / d weight"),
                &values(grad),
                &g.array("outputs", "grad_mse_loss_wrt_weight").1,
                ATOL,
                RTOL,
            );
        }
    }
}

/// Finite values within the tolerance, `inf` exactly where the golden file has `"inf"`.
fn assert_close_or_inf(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        if w.is_infinite() {
            assert_eq!(g, w, "{what}[{k}]");
        } else {
            assert_close(&format!("{what}[{k}]"), &[*g], &[*w], ATOL, RTOL);
        }
    }
}

#[test]
fn continuous_tempotron_matches_spikingjelly_2_0() {
    for g in golden("sj_tempotron_v2") {
        let (_, times) = g.array("inputs", "spike_times");
        let indices: Vec<usize> = g
            .array("inputs", "input_indices")
            .1
            .iter()
            .map(|&i| i as usize)
            .collect();
        let offsets: Vec<usize> = g
            .array("inputs", "batch_offsets")
            .1
            .iter()
            .map(|&i| i as usize)
            .collect();
        for (dev, device) in autodiff_devices() {
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let model = tempotron(&g, "duration", &device);
            let out = model
                .continuous(&times, &indices, &offsets)
                .expect("continuous");
            assert_close(
                &what("v_max"),
                &values(out.v_max.clone()),
                &g.array("outputs", "v_max").1,
                ATOL,
                RTOL,
            );
            assert_close(
                &what("t_peak"),
                &values(out.t_peak),
                &g.array("outputs", "t_peak").1,
                ATOL,
                RTOL,
            );
            assert_close_or_inf(
                &what("t_spike"),
                &values(out.t_spike),
                &g.array("outputs", "t_spike").1,
            );
            let grads = out.v_max.sum().backward();
            assert_close(
                &what("d sum(v_max) / d weight"),
                &values(model.weight.val().grad(&grads).expect("weight gradient")),
                &g.array("outputs", "grad_sum_vmax_wrt_weight").1,
                ATOL,
                RTOL,
            );
        }
    }
}

/// Two classes of spike-time patterns: each class a template of 8 input spike times (one
/// input silent), each sample the template jittered by up to ±1 ms.
fn two_class_task(device: &Device) -> (Tensor<2>, Tensor<1, Int>, Vec<i64>) {
    const IN: usize = 8;
    const PER_CLASS: usize = 12;
    let templates = [uniform(IN, 11, 0.0, 30.0), uniform(IN, 12, 0.0, 30.0)];
    let mut times = Vec::new();
    let mut labels = Vec::new();
    for (class, template) in templates.iter().enumerate() {
        for n in 0..PER_CLASS {
            let jitter = uniform(IN, 100 + (class * PER_CLASS + n) as u64, -1.0, 1.0);
            for i in 0..IN {
                times.push(if i == class {
                    -1.0
                } else {
                    template[i] + jitter[i]
                });
            }
            labels.push(class as i64);
        }
    }
    let batch = labels.len();
    (
        Tensor::<1>::from_floats(times.as_slice(), device).reshape([batch, IN]),
        Tensor::<1, Int>::from_ints(labels.as_slice(), device),
        labels,
    )
}

/// The Tempotron decision: a sample is right when exactly its label's neuron fires.
fn accuracy(v_max: &[f32], labels: &[i64], threshold: f32) -> f32 {
    let right = labels
        .iter()
        .enumerate()
        .filter(|&(b, &l)| (0..2).all(|o| (v_max[b * 2 + o] >= threshold) == (o as i64 == l)))
        .count();
    right as f32 / labels.len() as f32
}

#[test]
fn sgd_on_the_tempotron_loss_learns_two_spike_patterns() {
    let device = Device::flex().autodiff();
    let (x, y, labels) = two_class_task(&device);
    let config = TempotronConfig::new(8, 2, 50);
    let threshold = config.threshold;
    // deterministic start (not the device RNG): every output fires for every sample
    let w = Tensor::<1>::from_floats(uniform(16, 7, 0.3, 0.6).as_slice(), &device).reshape([2, 8]);
    let mut model = config.init(&device).unwrap().with_weight(w).unwrap();
    let mut optim = SgdConfig::new().init();
    let (mut losses, mut accuracies) = (Vec::new(), Vec::new());
    for _ in 0..40 {
        let v_max = model.v_max(x.clone()).unwrap();
        accuracies.push(accuracy(&values(v_max.clone()), &labels, threshold as f32));
        let loss = tempotron_mse_loss(v_max, threshold, y.clone()).unwrap();
        losses.push(values(loss.clone())[0]);
        let grads = loss.backward();
        let grad = values(model.weight.val().grad(&grads).expect("weight gradient"));
        assert!(grad.iter().all(|g| g.is_finite()), "gradient {grad:?}");
        let grads = GradientsParams::from_grads(grads, &model);
        model = optim.step(0.5, model, grads);
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last < 0.2 * first, "loss did not drop: {losses:?}");
    let (acc0, acc1) = (accuracies[0], *accuracies.last().unwrap());
    assert!(
        acc0 <= 0.5 && acc1 >= 0.9,
        "accuracy {acc0} -> {acc1}: {accuracies:?}"
    );
}

#[test]
fn swapping_the_time_constants_gives_the_same_membrane() {
    // SpikingJelly only forbids tau == tau_s: for tau_s > tau both v0 and the kernel change sign
    let device = Device::flex();
    let w = Tensor::<1>::from_floats(uniform(12, 3, -1.0, 1.0).as_slice(), &device).reshape([2, 6]);
    let x =
        Tensor::<1>::from_floats(uniform(12, 4, -5.0, 40.0).as_slice(), &device).reshape([2, 6]);
    let run = |tau, tau_s| {
        let config = TempotronConfig {
            tau_mem_ms: tau,
            tau_syn_ms: tau_s,
            ..TempotronConfig::new(6, 2, 50)
        };
        let model = config
            .init(&device)
            .unwrap()
            .with_weight(w.clone())
            .unwrap();
        values(model.membrane(x.clone()).unwrap())
    };
    assert_close("swapped", &run(3.75, 15.0), &run(15.0, 3.75), 1e-5, 1e-5);
}

#[test]
fn a_negative_time_constant_is_rejected() {
    let config = TempotronConfig {
        tau_mem_ms: -15.0,
        ..TempotronConfig::new(6, 2, 50)
    };
    assert_eq!(
        config.init(&Device::flex()).unwrap_err(),
        SnnError::NotPositive {
            field: "tau_mem_ms",
            value: -15.0
        }
    );
    let config = TempotronConfig {
        tau_syn_ms: 0.0,
        ..TempotronConfig::new(6, 2, 50)
    };
    assert_eq!(
        config.validate().unwrap_err(),
        SnnError::NotPositive {
            field: "tau_syn_ms",
            value: 0.0
        }
    );
}

#[test]
fn equal_time_constants_are_rejected() {
    let config = TempotronConfig {
        tau_syn_ms: 15.0,
        ..TempotronConfig::new(6, 2, 50)
    };
    assert!(matches!(
        config.validate(),
        Err(SnnError::Invalid {
            field: "tau_syn_ms",
            ..
        })
    ));
    assert!(matches!(
        psp_v0(4.0, 4.0, 1.0),
        Err(SnnError::Invalid { .. })
    ));
}

#[test]
fn a_non_positive_threshold_or_a_zero_size_is_rejected() {
    let config = TempotronConfig {
        threshold: 0.0,
        ..TempotronConfig::new(6, 2, 50)
    };
    assert_eq!(
        config.validate().unwrap_err(),
        SnnError::NotPositive {
            field: "threshold",
            value: 0.0
        }
    );
    assert_eq!(
        TempotronConfig::new(6, 2, 0).validate().unwrap_err(),
        SnnError::ZeroSize { field: "steps" }
    );
    assert_eq!(
        TempotronConfig::new(0, 2, 50).validate().unwrap_err(),
        SnnError::ZeroSize {
            field: "in_features"
        }
    );
}

#[test]
fn a_weight_of_the_wrong_shape_is_rejected() {
    let device = Device::flex();
    let model = TempotronConfig::new(6, 2, 50).init(&device).unwrap();
    // the transposed ([in, out], burn's Linear layout) is the likely mistake
    let err = model
        .with_weight(Tensor::zeros([6, 2], &device))
        .unwrap_err();
    assert!(
        matches!(&err, SnnError::ShapeMismatch { actual, .. } if actual == &vec![6, 2]),
        "{err:?}"
    );
}

#[test]
fn input_of_the_wrong_shape_is_rejected() {
    let device = Device::flex();
    let model = TempotronConfig::new(6, 2, 50).init(&device).unwrap();
    let x = Tensor::<2>::zeros([3, 5], &device);
    for err in [
        model.membrane(x.clone()).unwrap_err(),
        model.v_max(x.clone()).unwrap_err(),
        model.spikes(x).unwrap_err(),
    ] {
        assert!(
            matches!(&err, SnnError::ShapeMismatch { actual, .. } if actual == &vec![3, 5]),
            "{err:?}"
        );
    }
}

#[test]
fn bad_event_lists_are_rejected() {
    let device = Device::flex();
    let model = TempotronConfig::new(6, 2, 50).init(&device).unwrap();
    // an input index beyond in_features
    assert!(matches!(
        model.continuous(&[1.0, 2.0], &[0, 6], &[0, 2]),
        Err(SnnError::EventOutOfRange {
            index: 1,
            what: "input index",
            ..
        })
    ));
    // a spike time outside [0, T)
    for t in [50.0, -1.0, f32::NAN] {
        assert!(matches!(
            model.continuous(&[1.0, t], &[0, 1], &[0, 2]),
            Err(SnnError::EventOutOfRange {
                index: 1,
                what: "spike time",
                ..
            })
        ));
    }
    // offsets that do not cover the events
    for offsets in [&[0, 1][..], &[1, 2], &[0, 2, 1, 2], &[]] {
        assert!(matches!(
            model.continuous(&[1.0, 2.0], &[0, 1], offsets),
            Err(SnnError::Rejected {
                field: "batch_offsets",
                ..
            })
        ));
    }
    // one index per time
    assert!(matches!(
        model.continuous(&[1.0, 2.0], &[0], &[0, 2]),
        Err(SnnError::ShapeMismatch { .. })
    ));
}

#[test]
fn an_empty_sample_and_an_inhibitory_neuron_stay_at_rest() {
    let device = Device::flex();
    let w = Tensor::<2>::from_floats([[0.5, 0.5], [-0.5, -0.5]], &device);
    let model = TempotronConfig::new(2, 2, 50)
        .init(&device)
        .unwrap()
        .with_weight(w)
        .unwrap();
    let out = model.continuous(&[3.0], &[1], &[0, 0, 1]).unwrap();
    // sample 0 has no events; sample 1 one excitatory PSP of peak 0.5 (unit PSP × 0.5)
    assert_close(
        "v_max",
        &values(out.v_max),
        &[0.0, 0.0, 0.5, 0.0],
        1e-6,
        1e-6,
    );
    let t_max = (15.0f64 * 3.75 * 4.0f64.ln() / 11.25) as f32;
    assert_close(
        "t_peak",
        &values(out.t_peak),
        &[0.0, 0.0, 3.0 + t_max, 0.0],
        1e-5,
        1e-6,
    );
    assert!(values(out.t_spike).iter().all(|t| t.is_infinite()));
}

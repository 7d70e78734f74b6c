//! snn-losses against the peers (Spyx, SpikingJelly's Tempotron, Norse's regularization), by
//! finite differences, across backends, and with bad input.
//!
//! Golden tolerance: the peer values are rounded to 6 significant digits, so values and
//! gradients must satisfy `|got − want| <= 2e-5 + 2e-5·|want|`.

use burn::prelude::*;
use snn_core::neuron::{
    CobaLifConfig, IzhikevichConfig, LifAdExConfig, LifRefracConfig, LsnnConfig, MembraneState,
    Neuron, RecurrentConfig, SpikingRecLayerConfig,
};
use snn_core::{IafConfig, LiConfig, LifConfig, lif_step};
use snn_losses::norse::{SpikeAccumulator, VoltageAccumulator, regularize_step};
use snn_losses::spyx::{self, Norm};
use snn_losses::{LossError, Readout, snntorch, tempotron_mse_loss, tempotron_mse_loss_per_class};

use crate::common::{
    Golden, assert_close, autodiff_devices, batched_sequence, devices, golden, uniform, values,
};
use crate::golden::{lif_initial_state, norse_lif, norse_lif_config};

const ATOL: f32 = 2e-5;
const RTOL: f32 = 2e-5;

fn traces(g: &Golden, device: &Device) -> Tensor<3> {
    let (shape, x) = g.array("inputs", "x");
    Tensor::<1>::from_floats(x.as_slice(), device).reshape([shape[0], shape[1], shape[2]])
}

/// The file's labels; the regularizers' files have none, and their closures ignore these zeros.
fn labels(g: &Golden, device: &Device) -> Tensor<1, Int> {
    if g.json["inputs"].get("labels").is_none() {
        let batch = g.array("inputs", "x").0[0];
        return Tensor::<1, Int>::zeros([batch], device);
    }
    let (_, l) = g.array("inputs", "labels");
    let l: Vec<i64> = l.iter().map(|&v| v as i64).collect();
    Tensor::<1, Int>::from_ints(l.as_slice(), device)
}

/// Runs `loss` on each golden file with `prefix`, on every backend, checking the value and the
/// gradient with respect to the traces.
fn check_spyx_loss(prefix: &str, loss: impl Fn(&Golden, Tensor<3>, Tensor<1, Int>) -> Tensor<1>) {
    for g in golden(prefix) {
        for (dev, device) in autodiff_devices() {
            let x = traces(&g, &device).require_grad();
            let value = loss(&g, x.clone(), labels(&g, &device));
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let want = g.output_f64("value") as f32;
            assert_close(&what("value"), &values(value.clone()), &[want], ATOL, RTOL);
            let grads = value.backward();
            let (_, want_grad) = g.array("outputs", "grad_wrt_x");
            assert_close(
                &what("grad"),
                &values(x.grad(&grads).unwrap()),
                &want_grad,
                ATOL,
                RTOL,
            );
        }
    }
}

#[test]
fn spyx_silence_reg() {
    check_spyx_loss("spyx_fn_silence_reg", |g, x, _| {
        spyx::silence_reg(x, g.param_f64("min_spikes"))
    });
}

#[test]
fn spyx_sparsity_reg() {
    check_spyx_loss("spyx_fn_sparsity_reg", |g, x, _| {
        assert!(
            g.param_str("norm").contains("huber_loss (delta=1.0)"),
            "{}",
            g.name
        );
        spyx::sparsity_reg(x, g.param_f64("max_spikes"), Norm::Huber { delta: 1.0 })
    });
}

#[test]
fn spyx_integral_crossentropy() {
    check_spyx_loss("spyx_fn_integral_crossentropy", |g, x, y| {
        let axis = g.param_f64("time_axis") as usize;
        spyx::integral_crossentropy(x, y, g.param_f64("smoothing"), axis).unwrap()
    });
}

#[test]
fn spyx_mse_spikerate() {
    check_spyx_loss("spyx_fn_mse_spikerate", |g, x, y| {
        let axis = g.param_f64("time_axis") as usize;
        spyx::mse_spikerate(
            x,
            y,
            g.param_f64("sparsity"),
            g.param_f64("smoothing"),
            axis,
        )
        .unwrap()
    });
}

#[test]
fn spyx_integral_accuracy() {
    for g in golden("spyx_fn_integral_accuracy") {
        for (dev, device) in devices() {
            let axis = g.param_f64("time_axis") as usize;
            let (acc, predictions) =
                spyx::integral_accuracy(traces(&g, &device), labels(&g, &device), axis).unwrap();
            assert_eq!(acc, g.output_f64("value"), "{} on {dev}", g.name);
            let (_, want) = g.array("outputs", "predictions");
            let got: Vec<f32> = values(predictions.float());
            assert_eq!(got, want, "{} on {dev}: predictions", g.name);
        }
    }
}

/// SpikingJelly 0.0.0.0.14's Tempotron on an integer time grid: the potential is linear in the
/// weights, `v[b, o, t] = Σ_i W[o, i]·v0·K(t − s[b, i])` with `K(t) = e^(−t/τ) − e^(−t/τ_s)` for
/// `t >= 0`, so the loss's gradient with respect to `W` checks `tempotron_mse_loss` end to end.
#[test]
fn sj_tempotron_mse_loss() {
    for g in golden("sj_legacy_tempotron") {
        let (tau, tau_s) = (g.param_f64("tau"), g.param_f64("tau_s"));
        let v0 = g.param_f64("v0");
        // SpikingJelly takes `v_threshold` as a number or one per output
        let thresholds = g.param_values("v_threshold");
        let steps = g.param_f64("T") as usize;
        let (in_shape, spikes) = g.array("inputs", "in_spikes");
        let (batch, inputs) = (in_shape[0], in_shape[1]);
        let (w_shape, weight) = g.array("params", "weight");
        let outputs = w_shape[0];
        // psp[b, i, t]
        let mut psp = vec![0f32; batch * inputs * steps];
        for b in 0..batch {
            for i in 0..inputs {
                let s = f64::from(spikes[b * inputs + i]);
                for t in 0..steps {
                    let dt = t as f64 - s;
                    if s >= 0.0 && dt >= 0.0 {
                        psp[(b * inputs + i) * steps + t] =
                            (v0 * ((-dt / tau).exp() - (-dt / tau_s).exp())) as f32;
                    }
                }
            }
        }
        for (dev, device) in autodiff_devices() {
            let w = Tensor::<1>::from_floats(weight.as_slice(), &device)
                .reshape([1, outputs, inputs])
                .require_grad();
            let p =
                Tensor::<1>::from_floats(psp.as_slice(), &device).reshape([batch, inputs, steps]);
            let v = w.clone().repeat_dim(0, batch).matmul(p);
            let v_max = v.max_dim(2).reshape([batch, outputs]);
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let (_, want_vmax) = g.array("outputs", "v_max");
            assert_close(
                &what("v_max"),
                &values(v_max.clone()),
                &want_vmax,
                ATOL,
                RTOL,
            );
            let (_, label) = g.array("inputs", "label");
            let label: Vec<i64> = label.iter().map(|&l| l as i64).collect();
            let y = Tensor::<1, Int>::from_ints(label.as_slice(), &device);
            let loss = match thresholds.as_slice() {
                [threshold] => tempotron_mse_loss(v_max, f64::from(*threshold), y),
                per_class => {
                    tempotron_mse_loss_per_class(v_max, Tensor::from_floats(per_class, &device), y)
                }
            }
            .unwrap();
            let want = g.output_f64("mse_loss") as f32;
            assert_close(
                &what("mse_loss"),
                &values(loss.clone()),
                &[want],
                ATOL,
                RTOL,
            );
            let grads = loss.backward();
            let (_, want_grad) = g.array("outputs", "grad_mse_loss_wrt_weight");
            assert_close(
                &what("grad W"),
                &values(w.grad(&grads).unwrap()),
                &want_grad,
                ATOL,
                RTOL,
            );
        }
    }
}

#[test]
fn norse_regularization_accumulators() {
    for g in golden("norse_regularization_accumulators") {
        for (dev, device) in devices() {
            // input `[T, batch..., n]`, traces compared time-major
            let (x, [steps, b, n]) = batched_sequence(&g, "input_current", &device);
            let lif = norse_lif(&g, &norse_lif_config(&g, n, true), &device);
            let dynamics = lif.dynamics();
            let state = lif_initial_state(&g, &lif, b, n, &device);
            let state = state.unwrap_or_else(|| lif.init_state(b));
            let (mut state, mut spike_acc, mut voltage_acc) = (state, None, None);
            let (mut spike_trace, mut voltage_trace) = (Vec::new(), Vec::new());
            for t in 0..steps {
                let x_t = x.clone().slice([0..b, t..t + 1, 0..n]).reshape([b, n]);
                let (z, next) = lif_step(x_t, state, &dynamics);
                let (z, s) = regularize_step(z, &next, &SpikeAccumulator, spike_acc);
                let (_, v) = regularize_step(z, &next, &VoltageAccumulator, voltage_acc);
                spike_trace.extend(values(s.clone()));
                voltage_trace.extend(values(v.clone()));
                (spike_acc, voltage_acc, state) = (Some(s), Some(v), next);
            }
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let (_, want) = g.array("outputs", "spike_accumulator");
            assert_close(&what("spike_accumulator"), &spike_trace, &want, ATOL, RTOL);
            let (_, want) = g.array("outputs", "voltage_accumulator");
            assert_close(
                &what("voltage_accumulator"),
                &voltage_trace,
                &want,
                ATOL,
                RTOL,
            );
        }
    }
}

/// Norse's `voltage_accumulator` over `steps` of `layer` from rest: the accumulator fed each
/// step's state equals the sum over time of the recorded membrane.
fn check_voltage_accumulator<N: Neuron<State: MembraneState>>(name: &str, layer: &N, n: usize) {
    let device = layer.initial_state(1).membrane().device();
    let x = Tensor::<1>::from_floats(uniform(2 * 12 * n, 7, 0.0, 30.0).as_slice(), &device)
        .reshape([2, 12, n]);
    let recorded = Neuron::forward_with(layer, x.clone(), None, true).unwrap();
    let want = recorded
        .traced(|s| s.membrane().clone())
        .unwrap()
        .sum_dim(1);
    let (mut state, mut acc) = (layer.initial_state(2), None);
    for t in 0..12 {
        let x_t = x.clone().slice([0..2, t..t + 1, 0..n]).reshape([2, n]);
        let (z, next) = layer.step(x_t, state).unwrap();
        let (_, v) = regularize_step(z, &next, &VoltageAccumulator, acc);
        (acc, state) = (Some(v), next);
    }
    let got = values(acc.unwrap());
    assert!(got.iter().any(|&v| v != 0.0), "{name}: a membrane moved");
    assert_close(name, &got, &values(want), 1e-4, 1e-5);
}

#[test]
fn voltage_accumulator_sums_the_membrane_of_every_model_with_one() {
    let device = Device::flex();
    let n = 3;
    check_voltage_accumulator("lif", &LifConfig::new(n).init(&device).unwrap(), n);
    check_voltage_accumulator("li", &LiConfig::new(n).init(&device).unwrap(), n);
    check_voltage_accumulator("iaf", &IafConfig::new(n).init(&device).unwrap(), n);
    let adex = LifAdExConfig::new(n).init(&device).unwrap();
    check_voltage_accumulator("adex", &adex, n);
    let refrac = LifRefracConfig::new(LifConfig::new(n))
        .init(&device)
        .unwrap();
    check_voltage_accumulator("lif_refrac", &refrac, n);
    check_voltage_accumulator("lsnn", &LsnnConfig::new(n).init(&device).unwrap(), n);
    check_voltage_accumulator("coba", &CobaLifConfig::new(n).init(&device).unwrap(), n);
    let izhikevich = IzhikevichConfig::new(n).init(&device).unwrap();
    check_voltage_accumulator("izhikevich", &izhikevich, n);
    let spikelearn = SpikingRecLayerConfig::new(n, 4.0).init(&device).unwrap();
    check_voltage_accumulator("spikelearn", &spikelearn, n);
    let recurrent = RecurrentConfig::new(n, n)
        .init_lif(&LifConfig::new(n), &device)
        .unwrap();
    check_voltage_accumulator("recurrent lif", &recurrent, n);
}

const SHAPE: [usize; 3] = [3, 5, 4]; // batch, time, classes
const TARGETS: [i64; 3] = [2, 0, 3];

/// A loss of a `[batch, time, classes]` trace and its targets.
type LossFn = Box<dyn Fn(Tensor<3>, Tensor<1, Int>) -> Tensor<1>>;

/// Every differentiable loss of the crate on a `[3, 5, 4]` trace, by name.
fn all_losses() -> Vec<(&'static str, LossFn)> {
    vec![
        (
            "spyx silence_reg",
            Box::new(|x, _| spyx::silence_reg(x, 0.6)),
        ),
        (
            "spyx sparsity_reg huber",
            Box::new(|x, _| spyx::sparsity_reg(x, 0.2, Norm::default())),
        ),
        (
            "spyx sparsity_reg squared",
            Box::new(|x, _| spyx::sparsity_reg(x, 0.2, Norm::Squared)),
        ),
        (
            "spyx integral_crossentropy",
            Box::new(|x, y| spyx::integral_crossentropy(x, y, 0.3, 1).unwrap()),
        ),
        (
            "spyx mse_spikerate",
            Box::new(|x, y| spyx::mse_spikerate(x, y, 0.25, 0.1, 1).unwrap()),
        ),
        (
            "snntorch ce_rate_loss",
            Box::new(|x, y| snntorch::ce_rate_loss(x, y, 1).unwrap()),
        ),
        (
            "snntorch ce_count_loss",
            Box::new(|x, y| snntorch::ce_count_loss(x, y, None, 1).unwrap()),
        ),
        (
            "snntorch ce_count_loss population",
            Box::new(|x, y| snntorch::ce_count_loss(x, y.clamp_max(1), Some(2), 1).unwrap()),
        ),
        (
            "snntorch ce_max_membrane_loss",
            Box::new(|x, y| snntorch::ce_max_membrane_loss(x, y, 1).unwrap()),
        ),
        (
            "snntorch mse_count_loss",
            Box::new(|x, y| snntorch::mse_count_loss(x, y, 0.8, 0.2, None, 1).unwrap()),
        ),
        (
            "snntorch mse_membrane_loss",
            Box::new(|x, y| snntorch::mse_membrane_loss(x, y, 1.0, 0.0, 1).unwrap()),
        ),
        (
            "snntorch l1_rate_sparsity",
            Box::new(|x, _| snntorch::l1_rate_sparsity(x, 1e-2)),
        ),
        (
            "tempotron_mse_loss",
            Box::new(|x, y| {
                let [b, t, c] = x.dims();
                tempotron_mse_loss(
                    x.slice([0..b, 0..1, 0..c]).reshape([b, c]) * t as f64,
                    1.0,
                    y,
                )
                .unwrap()
            }),
        ),
        (
            "readout mean over time",
            Box::new(|x, _| Readout::MeanOverTime.scores(x, 1).unwrap().sum()),
        ),
    ]
}

#[test]
fn losses_match_finite_differences_on_ndarray() {
    let device = Device::ndarray().autodiff();
    let x0 = uniform(SHAPE.iter().product(), 5, 0.0, 1.0);
    let h = 1e-3f32;
    for (name, loss) in all_losses() {
        let eval = |x: &[f32], grad: bool| {
            let t = Tensor::<1>::from_floats(x, &device).reshape(SHAPE);
            let t = if grad { t.require_grad() } else { t };
            let y = Tensor::<1, Int>::from_ints(TARGETS, &device);
            (t.clone(), loss(t, y))
        };
        let (x, value) = eval(&x0, true);
        let grads = value.backward();
        let analytic = values(
            x.grad(&grads)
                .unwrap_or_else(|| panic!("{name}: no gradient")),
        );
        let numeric: Vec<f32> = (0..x0.len())
            .map(|k| {
                let (mut up, mut down) = (x0.clone(), x0.clone());
                up[k] += h;
                down[k] -= h;
                let f = |x: &[f32]| values(eval(x, false).1)[0];
                (f(&up) - f(&down)) / (2.0 * h)
            })
            .collect();
        assert!(analytic.iter().any(|g| *g != 0.0), "{name}: zero gradient");
        assert_close(
            &format!("{name}: autodiff vs finite differences"),
            &analytic,
            &numeric,
            2e-3,
            1e-2,
        );
    }
}

#[test]
fn losses_agree_across_backends() {
    let x0 = uniform(SHAPE.iter().product(), 9, 0.0, 1.0);
    let on = |device: &Device| -> Vec<(&'static str, f32)> {
        all_losses()
            .into_iter()
            .map(|(name, loss)| {
                let x = Tensor::<1>::from_floats(x0.as_slice(), device).reshape(SHAPE);
                let y = Tensor::<1, Int>::from_ints(TARGETS, device);
                (name, values(loss(x, y))[0])
            })
            .collect()
    };
    let all = devices();
    let reference = on(&all[0].1);
    for (dev, device) in &all[1..] {
        for ((name, got), (_, want)) in on(device).into_iter().zip(&reference) {
            assert_close(
                &format!("{name} on {dev} vs ndarray"),
                &[got],
                &[*want],
                1e-6,
                1e-5,
            );
        }
    }
}

#[test]
fn bad_input_gives_typed_errors() {
    let device = Device::flex();
    let x = Tensor::<3>::ones(SHAPE, &device);
    let y = Tensor::<1, Int>::from_ints(TARGETS, &device);

    // a label outside 0..classes
    let bad = Tensor::<1, Int>::from_ints([2, 4, 0], &device);
    let err = spyx::integral_crossentropy(x.clone(), bad.clone(), 0.3, 1).unwrap_err();
    assert_eq!(
        err,
        LossError::LabelOutOfRange {
            context: "integral_crossentropy",
            label: 4,
            index: 1,
            classes: 4
        }
    );
    let negative = Tensor::<1, Int>::from_ints([-1, 0, 0], &device);
    let err = snntorch::ce_count_loss(x.clone(), negative, None, 1).unwrap_err();
    assert!(
        matches!(
            err,
            LossError::LabelOutOfRange {
                label: -1,
                index: 0,
                ..
            }
        ),
        "{err:?}"
    );

    // one target too many
    let four = Tensor::<1, Int>::from_ints([0, 1, 2, 3], &device);
    let err = snntorch::ce_max_membrane_loss(x.clone(), four, 1).unwrap_err();
    assert_eq!(
        err,
        LossError::BatchMismatch {
            context: "ce_max_membrane_loss",
            batch: 3,
            targets: 4
        }
    );
    let err = tempotron_mse_loss(Tensor::zeros([2, 4], &device), 1.0, y.clone()).unwrap_err();
    assert!(
        matches!(
            err,
            LossError::BatchMismatch {
                batch: 2,
                targets: 3,
                ..
            }
        ),
        "{err:?}"
    );

    // a time axis beyond the rank
    let err = spyx::mse_spikerate(x.clone(), y.clone(), 0.25, 0.0, 3).unwrap_err();
    assert_eq!(
        err,
        LossError::TimeAxis {
            context: "mse_spikerate",
            time_axis: 3,
            rank: 3,
            shape: vec![3, 5, 4]
        }
    );
    assert!(matches!(
        Readout::SpikeCount.scores(x.clone(), 7),
        Err(LossError::TimeAxis { .. })
    ));

    // smoothing outside [0, 1)
    for smoothing in [1.0, -0.1, f64::NAN] {
        let err = spyx::integral_crossentropy(x.clone(), y.clone(), smoothing, 1).unwrap_err();
        assert!(
            matches!(
                err,
                LossError::OutOfRange {
                    field: "smoothing",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = spyx::mse_spikerate(x.clone(), y.clone(), 0.25, smoothing, 1).unwrap_err();
        assert!(
            matches!(
                err,
                LossError::OutOfRange {
                    field: "smoothing",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    let err = snntorch::mse_count_loss(x.clone(), y.clone(), 1.5, 0.0, None, 1).unwrap_err();
    assert!(
        matches!(
            err,
            LossError::OutOfRange {
                field: "correct_rate",
                ..
            }
        ),
        "{err:?}"
    );

    // a population code that does not divide the outputs
    let err = snntorch::accuracy_rate(
        x,
        Tensor::<1, Int>::from_ints([0, 1, 2], &device),
        Some(3),
        1,
    )
    .unwrap_err();
    assert!(matches!(err, LossError::Shape { .. }), "{err:?}");
    assert!(
        err.to_string().contains("divisible by the 3 classes"),
        "{err}"
    );
}

#[test]
fn time_major_traces_give_the_same_losses() {
    let device = Device::flex();
    let x = Tensor::<1>::from_floats(uniform(60, 2, 0.0, 1.0).as_slice(), &device).reshape(SHAPE);
    let y = Tensor::<1, Int>::from_ints(TARGETS, &device);
    let batch_major = values(snntorch::ce_rate_loss(x.clone(), y.clone(), 1).unwrap());
    let time_major =
        values(snntorch::ce_rate_loss(x.clone().swap_dims(0, 1), y.clone(), 0).unwrap());
    assert_close(
        "ce_rate_loss time_axis 0 vs 1",
        &time_major,
        &batch_major,
        1e-7,
        1e-6,
    );
    let last =
        values(spyx::integral_crossentropy(x.clone().swap_dims(1, 2), y.clone(), 0.3, 2).unwrap());
    let first = values(spyx::integral_crossentropy(x, y, 0.3, 1).unwrap());
    assert_close(
        "integral_crossentropy time_axis 2 vs 1",
        &last,
        &first,
        1e-7,
        1e-6,
    );
}

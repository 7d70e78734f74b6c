//! LSNN, recurrent cells, multicompartment and conductance-based LIF, spikelearn: golden parity, training, errors.

use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::prelude::*;
use snn_core::neuron::{
    LifRecurrent, Lsnn, LsnnConfig, Neuron, RecurrentConfig, RecurrentState,
};
use snn_core::{LifConfig, SnnError, Surrogate};

use crate::common::{
    Golden, assert_close, assert_spikes_equal, autodiff_devices, devices, golden, uniform, values,
};

const ATOL: f32 = 2e-5;
const RTOL: f32 = 2e-5;

/// A `[T, N]` array of a golden file as a batch-major `[1, T, N]` tensor.
fn sequence(g: &Golden, section: &str, key: &str, device: &Device) -> Tensor<3> {
    let (shape, x) = g.array(section, key);
    Tensor::<1>::from_floats(x.as_slice(), device).reshape([1, shape[0], shape[1]])
}

/// A `[rows, cols]` array of a golden file as a tensor.
fn matrix(g: &Golden, section: &str, key: &str, device: &Device) -> Tensor<2> {
    let (shape, x) = g.array(section, key);
    Tensor::<1>::from_floats(x.as_slice(), device).reshape([shape[0], shape[1]])
}

fn lsnn_from_golden(g: &Golden, size: usize) -> LsnnConfig {
    assert_eq!(g.param_str("method"), "super");
    LsnnConfig {
        threshold: g.param_f64("v_th"),
        beta: g.param_f64("beta"),
        v_leak: g.param_f64("v_leak"),
        v_reset: g.param_f64("v_reset"),
        // Norse 1.1.0's SuperSpike backward ignores its alpha: 1/(1+|x|)²
        surrogate: Surrogate::SuperSpike { alpha: 1.0 },
        ..LsnnConfig::from_norse(
            size,
            g.param_f64("tau_syn_inv"),
            g.param_f64("tau_mem_inv"),
            g.param_f64("tau_adapt_inv"),
            g.param_f64("dt"),
        )
        .expect("valid Norse parameters")
    }
}

#[test]
fn norse_lsnn_feed_forward_step() {
    for g in golden("norse_lsnn_feed_forward_step") {
        let init = &g.json["params"]["initial_state"];
        assert_eq!(init["v"].as_f64(), Some(0.0));
        assert_eq!(init["i"].as_f64(), Some(0.0));
        assert_eq!(init["b"].as_f64(), Some(g.param_f64("v_th")));
        for (dev, device) in devices() {
            let x = sequence(&g, "inputs", "input_current", &device);
            let lsnn = lsnn_from_golden(&g, x.dims()[2]).init(&device).unwrap();
            let out = Neuron::forward_with(&lsnn, x, None, true).unwrap();
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            assert_spikes_equal(&what("z"), &values(out.spikes.clone()), &g.array("outputs", "z").1);
            for (key, field) in [
                ("v", out.traced(|s| s.v.clone())),
                ("i", out.traced(|s| s.i.clone())),
                ("b", out.traced(|s| s.b.clone())),
            ] {
                let want = g.array("outputs", key).1;
                assert_close(&what(key), &values(field.unwrap()), &want, ATOL, RTOL);
            }
        }
    }
}

#[test]
fn norse_lif_step_recurrent() {
    for g in golden("norse_lif_step_recurrent") {
        assert_eq!(g.param_str("method"), "super");
        for (dev, device) in devices() {
            let x = sequence(&g, "inputs", "input_spikes", &device);
            let w_in = matrix(&g, "inputs", "input_weights", &device);
            let w_rec = matrix(&g, "inputs", "recurrent_weights", &device);
            let [hidden, inputs] = w_in.dims();
            let lif = LifConfig {
                threshold: g.param_f64("v_th"),
                v_leak: g.param_f64("v_leak"),
                v_reset: g.param_f64("v_reset"),
                ..LifConfig::from_norse(
                    hidden,
                    g.param_f64("tau_mem_inv"),
                    Some(g.param_f64("tau_syn_inv")),
                    g.param_f64("dt"),
                )
                .unwrap()
            };
            let cell: LifRecurrent = RecurrentConfig::new(inputs, hidden)
                .init_lif(&lif, &device)
                .unwrap()
                .with_weights(w_in, w_rec)
                .unwrap();
            let out = Neuron::forward_with(&cell, x, None, true).unwrap();
            assert_eq!(out.spikes.dims(), [1, 50, hidden]);
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            assert_spikes_equal(&what("z"), &values(out.spikes.clone()), &g.array("outputs", "z").1);
            let v = out.traced(|s| s.neuron.v.clone()).unwrap();
            let i = out.traced(|s| s.neuron.i.clone().unwrap()).unwrap();
            assert_close(&what("v"), &values(v), &g.array("outputs", "v").1, ATOL, RTOL);
            assert_close(&what("i"), &values(i), &g.array("outputs", "i").1, ATOL, RTOL);
            // the state carries the last spikes for the next step's recurrence
            let last = values(out.state.z.clone());
            let z = g.array("outputs", "z").1;
            assert_eq!(last, z[z.len() - hidden..]);
        }
    }
}

//! Norse AdEx, exponential and refractory LIF: golden parity, training, backend switching,
//! typed errors.
//!
//! Golden tolerance (the golden README's): outputs are rounded to 6 significant digits, so
//! `|got − want| <= 2e-5 + 2e-5·|want|`; spikes must match exactly. The files hold no gradients
//! (forward traces only). Each test reads the input (`[T, N]` or `[T, batch, N]`), the
//! parameters and the initial state from its files.

use burn::module::{Module, Param};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use snn_core::neuron::{
    LifAdEx, LifAdExConfig, LifAdExRefracConfig, LifAdExState, LifExConfig, LifRefracConfig,
    Neuron, RefractoryState,
};
use snn_core::prelude::PerNeuronRefractory;
use snn_core::{LifConfig, SnnError, Surrogate};

use crate::common::{
    Golden, assert_close, assert_spikes_equal, autodiff_devices, batched_sequence, devices, golden,
    time_major, uniform, values,
};
use crate::golden::{
    first, neurons, norse_lif, norse_lif_adex, norse_lif_config, norse_lif_ex,
    norse_refractory_state, norse_rho_reset,
};

const ATOL: f32 = 2e-5;
const RTOL: f32 = 2e-5;

/// Compares one recorded trace (or the spikes), batch-major `[B, T, N]`, with a golden output
/// (time-major).
fn check(g: &Golden, dev: &str, key: &str, got: Tensor<3>) {
    let what = format!("{} on {dev}: {key}", g.name);
    let want = g.array("outputs", key).1;
    if key == "z" {
        assert_spikes_equal(&what, &time_major(got), &want);
    } else {
        assert_close(&what, &time_major(got), &want, ATOL, RTOL);
    }
}

#[test]
fn norse_lif_ex_feed_forward_step() {
    for g in golden("norse_lif_ex_feed_forward_step") {
        for (dev, device) in devices() {
            let (x, [_, b, n]) = batched_sequence(&g, "input_current", &device);
            let layer = norse_lif_ex(&g, n, true, &device);
            let state = layer
                .state_from(
                    g.initial_state("v", b, n, &device),
                    Some(g.initial_state("i", b, n, &device)),
                )
                .expect("the layer's parts");
            let out = Neuron::forward_with(&layer, x, Some(state), true).expect("forward");
            check(&g, dev, "z", out.spikes.clone());
            check(&g, dev, "v", out.traced(|s| s.v.clone()).unwrap());
            check(
                &g,
                dev,
                "i",
                out.traced(|s| s.i().cloned().unwrap()).unwrap(),
            );
        }
    }
}

#[test]
fn norse_lif_adex_feed_forward_step() {
    for g in golden("norse_lif_adex_feed_forward_step") {
        for (dev, device) in devices() {
            let (x, [_, b, n]) = batched_sequence(&g, "input_current", &device);
            let layer = norse_lif_adex(&g, n, &device);
            let state = LifAdExState {
                v: g.initial_state("v", b, n, &device),
                i: g.initial_state("i", b, n, &device),
                a: g.initial_state("a", b, n, &device),
            };
            let out = Neuron::forward_with(&layer, x, Some(state), true).expect("forward");
            check(&g, dev, "z", out.spikes.clone());
            check(&g, dev, "v", out.traced(|s| s.v.clone()).unwrap());
            check(&g, dev, "i", out.traced(|s| s.i.clone()).unwrap());
            check(&g, dev, "a", out.traced(|s| s.a.clone()).unwrap());
        }
    }
}

/// Norse's `lif_refrac_feed_forward_step` files: the LIF parameters nested under `params.lif`
/// and `rho_reset`, each a scalar or one value per neuron, and the initial `v`, `i`, `rho`.
#[test]
fn norse_lif_refrac_feed_forward_step() {
    for g in golden("norse_lif_refrac_feed_forward_step") {
        let lif = g.lifted("lif");
        let n = neurons(&g, "input_current");
        let lif_config = norse_lif_config(&lif, n, true);
        for (dev, device) in devices() {
            let (x, [_, b, _]) = batched_sequence(&g, "input_current", &device);
            let mut layer = LifRefracConfig::from_norse(lif_config.clone(), first(&g, "rho_reset"))
                .expect("whole rho_reset")
                .init(&device)
                .expect("valid");
            assert_eq!(f64::from(layer.rho_reset()), first(&g, "rho_reset"));
            layer.neuron = norse_lif(&lif, &lif_config, &device);
            let layer = norse_rho_reset(&g, layer, n, &device);
            let state = norse_refractory_state(&g, &layer.neuron, b, n, &device);
            let out = Neuron::forward_with(&layer, x, Some(state), true).expect("forward");
            check(&g, dev, "z", out.spikes.clone());
            check(&g, dev, "v", out.traced(|s| s.neuron.v.clone()).unwrap());
            check(
                &g,
                dev,
                "i",
                out.traced(|s| s.neuron.i().cloned().unwrap()).unwrap(),
            );
            check(&g, dev, "rho", out.traced(|s| s.rho.clone()).unwrap());
        }
    }
}

/// `Linear -> neuron`: the family's layers trained end to end.
#[derive(Module, Debug)]
struct Net<N> {
    fc: Linear,
    neuron: N,
}

const BATCH: usize = 4;
const TIME: usize = 30;
const INPUTS: usize = 6;
const HIDDEN: usize = 8;

fn linear(device: &Device, seed: u64, lo: f32, hi: f32) -> Linear {
    let mut fc = LinearConfig::new(INPUTS, HIDDEN).init(device);
    let w = uniform(INPUTS * HIDDEN, seed, lo, hi);
    fc.weight = Param::from_tensor(
        Tensor::<1>::from_floats(w.as_slice(), device).reshape([INPUTS, HIDDEN]),
    );
    fc.bias = Some(Param::from_tensor(Tensor::zeros([HIDDEN], device)));
    fc
}

fn input(device: &Device) -> Tensor<3> {
    let x = uniform(BATCH * TIME * INPUTS, 5, 0.0, 3.0);
    Tensor::<1>::from_floats(x.as_slice(), device).reshape([BATCH, TIME, INPUTS])
}

/// Adam on `(rate − target)²` per neuron for a few steps: the loss drops and every gradient
/// (Linear and learnable time constants) is finite.
fn train<N>(name: &str, mut net: Net<N>, target: f32, lr: f64, device: &Device)
where
    N: Neuron + Module + burn::module::ModuleDisplay,
{
    let x = input(device);
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::new();
    for _ in 0..8 {
        let spikes = Neuron::forward(&net.neuron, net.fc.forward(x.clone()))
            .expect("forward")
            .spikes;
        let rate = spikes.mean_dim(1).mean_dim(0); // [1, 1, HIDDEN]
        let loss = (rate - target).powi_scalar(2).mean();
        losses.push(values(loss.clone())[0]);
        let grads = loss.backward();
        let weight = values(net.fc.weight.val().grad(&grads).expect("weight grad"));
        assert!(weight.iter().all(|g| g.is_finite()), "{name}: {weight:?}");
        let grads = GradientsParams::from_grads(grads, &net);
        net = optim.step(lr, net, grads);
    }
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(last.is_finite() && last < 0.7 * first, "{name}: {losses:?}");
}

#[test]
fn adex_exponential_and_refractory_layers_train() {
    let device = Device::flex().autodiff();
    // strong drive: every neuron starts firing far above the 0.05 target rate
    let fc = || linear(&device, 3, 0.2, 0.9);
    let surrogate = Surrogate::SuperSpike { alpha: 1.0 };
    let adex = LifAdExConfig::new(HIDDEN)
        .with_learn_tau(true)
        .with_surrogate(surrogate);
    train(
        "LifAdEx",
        Net {
            fc: fc(),
            neuron: adex.init(&device).unwrap(),
        },
        0.05,
        5e-2,
        &device,
    );
    train(
        "LifEx",
        Net {
            fc: fc(),
            neuron: adex.lif_ex().init(&device).unwrap(),
        },
        0.05,
        5e-2,
        &device,
    );
    train(
        "LifAdExRefrac",
        Net {
            fc: fc(),
            neuron: LifAdExRefracConfig::new(adex.clone())
                .with_refractory_ms(2.0)
                .init(&device)
                .unwrap(),
        },
        0.05,
        5e-2,
        &device,
    );
    let lif = LifConfig::new(HIDDEN)
        .with_learn_tau(true)
        .with_surrogate(surrogate);
    train(
        "LifRefrac",
        Net {
            // weak drive, trained up: plain LIF has no adaptation, and from a strong drive it
            // sits at the refractory ceiling (one spike per 6 steps)
            fc: linear(&device, 3, 0.0, 0.06),
            neuron: LifRefracConfig::new(lif).init(&device).unwrap(),
        },
        0.1,
        // a small rate: Norse's refractory mask passes the surrogate at ρ = 0 back into the
        // counter, and larger steps overshoot onto the refractory ceiling
        1e-2,
        &device,
    );
    // the time constants learn too
    let net = Net {
        fc: fc(),
        neuron: adex.init(&device).unwrap(),
    };
    let spikes = Neuron::forward(&net.neuron, net.fc.forward(input(&device)))
        .unwrap()
        .spikes;
    let grads = spikes.sum().backward();
    for (what, p) in [
        ("tau_mem_ms", &net.neuron.lif_ex.tau_mem_ms),
        ("tau_syn_ms", net.neuron.lif_ex.tau_syn_ms.as_ref().unwrap()),
        ("tau_ada_ms", &net.neuron.tau_ada_ms),
    ] {
        let g = values(p.val().grad(&grads).expect(what));
        assert!(g.iter().all(|g| g.is_finite()), "{what}: {g:?}");
        assert!(g.iter().any(|g| *g != 0.0), "{what}: all zero");
    }
}

/// `Linear -> LifAdEx` with the same weights and input on ndarray and wgpu (and flex): the same
/// spikes and the same gradients of the spike count with respect to the input and the weights.
#[test]
fn lif_adex_switches_backends() {
    let runs: Vec<_> = autodiff_devices()
        .into_iter()
        .map(|(name, device)| {
            let net = Net {
                fc: linear(&device, 9, -0.2, 0.8),
                neuron: LifAdExConfig::new(HIDDEN)
                    .with_surrogate(Surrogate::SuperSpike { alpha: 1.0 })
                    .init(&device)
                    .unwrap(),
            };
            let x = input(&device).require_grad();
            let spikes = Neuron::forward(&net.neuron, net.fc.forward(x.clone()))
                .unwrap()
                .spikes;
            let grads = spikes.clone().sum().backward();
            (
                name,
                values(spikes),
                values(x.grad(&grads).expect("input grad")),
                values(net.fc.weight.val().grad(&grads).expect("weight grad")),
            )
        })
        .collect();
    assert!(
        runs.iter().any(|r| r.0 == "wgpu") || std::env::var("SNN_REQUIRE_WGPU").is_err(),
        "no wgpu run"
    );
    let (ref_name, ref_z, ref_gx, ref_gw) = &runs[0];
    assert_eq!(*ref_name, "ndarray");
    let fired = ref_z.iter().filter(|z| **z == 1.0).count();
    assert!(fired > 0 && fired < ref_z.len(), "fired {fired}");
    assert!(ref_gx.iter().any(|g| g.abs() > 1e-6), "zero input gradient");
    for (name, z, gx, gw) in &runs[1..] {
        let what = |k: &str| format!("{name} vs {ref_name}: {k}");
        assert_spikes_equal(&what("spikes"), z, ref_z);
        assert_close(&what("d spikes / d input"), gx, ref_gx, 1e-4, 1e-4);
        assert_close(&what("d spikes / d weight"), gw, ref_gw, 1e-4, 1e-4);
    }
}

#[test]
fn negative_time_constants_are_rejected() {
    let device = Device::flex();
    let err = LifExConfig::new(2)
        .with_tau_mem_ms(-10.0)
        .init(&device)
        .unwrap_err();
    assert_eq!(
        err,
        SnnError::NotPositive {
            field: "tau_mem_ms",
            value: -10.0
        }
    );
    let err = LifAdExConfig::new(2)
        .with_tau_ada_ms(-500.0)
        .init(&device)
        .unwrap_err();
    assert_eq!(
        err,
        SnnError::NotPositive {
            field: "tau_ada_ms",
            value: -500.0
        }
    );
    let err = LifAdExConfig::from_norse(2, 100.0, 200.0, -2.0, 0.001).unwrap_err();
    assert_eq!(
        err,
        SnnError::NotPositive {
            field: "tau_ada_inv",
            value: -2.0
        }
    );
    // per neuron: the length, and forward Euler's dt <= τ_ada for every neuron
    let device = Device::default();
    let layer = LifAdExConfig::new(2).init(&device).unwrap();
    let taus = |v: [f32; 2]| Tensor::<1>::from_floats(v, &device);
    let err = layer
        .clone()
        .with_tau_ada_ms(Tensor::from_floats([500.0], &device))
        .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err:?}");
    let unstable = |err: SnnError| {
        let field = "tau_ada_ms";
        assert!(
            matches!(err, SnnError::UnstableEuler { field: f, .. } if f == field),
            "{err:?}"
        );
    };
    unstable(
        layer
            .clone()
            .with_tau_ada_ms(taus([500.0, 0.5]))
            .unwrap_err(),
    );
    let layer = layer.with_tau_ada_ms(taus([500.0, 50.0])).unwrap();
    assert_eq!(values(layer.tau_ada_ms.val()), vec![500.0, 50.0]);
    // forward Euler needs dt <= τ_ada
    unstable(
        LifAdExConfig::new(2)
            .with_tau_ada_ms(0.5)
            .validate()
            .unwrap_err(),
    );
}

#[test]
fn bad_delta_t_is_rejected() {
    for delta_t in [0.0, -0.5, f64::NAN, f64::INFINITY] {
        let err = LifExConfig::new(2)
            .with_delta_t(delta_t)
            .validate()
            .unwrap_err();
        assert!(
            matches!(
                err,
                SnnError::NotPositive {
                    field: "delta_t",
                    ..
                }
            ),
            "{delta_t}: {err:?}"
        );
        let err = LifAdExConfig::new(2)
            .with_delta_t(delta_t)
            .validate()
            .unwrap_err();
        assert!(
            matches!(
                err,
                SnnError::NotPositive {
                    field: "delta_t",
                    ..
                }
            ),
            "{delta_t}: {err:?}"
        );
    }
}

#[test]
fn bad_refractory_period_is_rejected() {
    let device = Device::flex();
    // negative
    let err = LifRefracConfig::new(LifConfig::new(2))
        .with_refractory_ms(-1.0)
        .init(&device)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::OutOfRange {
                field: "refractory_ms",
                ..
            }
        ),
        "{err:?}"
    );
    // shorter than one step, and not a whole number of steps
    for refractory_ms in [0.5, 2.5] {
        let err = LifAdExRefracConfig::new(LifAdExConfig::new(2))
            .with_refractory_ms(refractory_ms)
            .init(&device)
            .unwrap_err();
        assert!(
            matches!(
                err,
                SnnError::Invalid {
                    field: "refractory_ms",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    // a whole number of smaller steps is fine: 2.5 ms at dt = 0.5 ms is 5 steps
    let layer = LifRefracConfig::new(LifConfig::new(2).with_dt_ms(0.5))
        .with_refractory_ms(2.5)
        .init(&device)
        .unwrap();
    assert_eq!(layer.rho_reset(), 5.0);
    // Norse's counter must be whole and non-negative too
    let err = LifRefracConfig::from_norse(LifConfig::new(2), 2.5).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::Invalid {
                field: "rho_reset",
                ..
            }
        ),
        "{err:?}"
    );
    let err = LifRefracConfig::from_norse(LifConfig::new(2), -1.0).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::OutOfRange {
                field: "rho_reset",
                ..
            }
        ),
        "{err:?}"
    );
    // one period per neuron: each value by the same rules, one value per neuron
    let per_neuron = |values: &[f32]| Tensor::<1>::from_floats(values, &device);
    let errors = [
        layer.clone().with_refractory_ms(per_neuron(&[1.0, -1.0])),
        layer.clone().with_refractory_ms(per_neuron(&[1.0, 0.75])),
        layer.clone().with_norse_rho_reset(per_neuron(&[2.0, 2.5])),
        layer.clone().with_norse_rho_reset(per_neuron(&[2.0])),
    ]
    .map(|r| r.map(drop).unwrap_err());
    assert!(
        matches!(
            &errors,
            [
                SnnError::OutOfRange {
                    field: "refractory_ms",
                    ..
                },
                SnnError::Invalid {
                    field: "refractory_ms",
                    ..
                },
                SnnError::Invalid {
                    field: "rho_reset",
                    ..
                },
                SnnError::ShapeMismatch { .. },
            ]
        ),
        "{errors:?}"
    );
    // 1.5 ms at dt = 0.5 ms is 3 steps, the counter Norse's rho_reset gives directly
    let layer = layer.with_refractory_ms(per_neuron(&[1.5, 0.0])).unwrap();
    assert_eq!(values(layer.rho_reset_per_neuron().unwrap()), [3.0, 0.0]);
    let layer = layer.with_norse_rho_reset(per_neuron(&[4.0, 1.0])).unwrap();
    assert_eq!(values(layer.rho_reset_per_neuron().unwrap()), [4.0, 1.0]);
}

#[test]
fn wrong_input_shape_is_rejected() {
    let device = Device::flex();
    let adex: LifAdEx = LifAdExConfig::new(4).init(&device).unwrap();
    let err = Neuron::forward(&adex, Tensor::<3>::zeros([2, 5, 3], &device)).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::ShapeMismatch {
                context: "LifAdEx::forward input",
                ..
            }
        ),
        "{err:?}"
    );
    let lif_ex = LifExConfig::new(4).init(&device).unwrap();
    let err = lif_ex
        .step(Tensor::<2>::zeros([2, 5], &device), lif_ex.init_state(2))
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::ShapeMismatch {
                context: "LifEx::step input",
                ..
            }
        ),
        "{err:?}"
    );
    // a refractory state whose counter has the wrong batch
    let refrac = LifAdExRefracConfig::new(LifAdExConfig::new(4))
        .init(&device)
        .unwrap();
    let state = RefractoryState {
        rho: Tensor::zeros([3, 4], &device),
        ..refrac.init_state(2)
    };
    let err = Neuron::step(&refrac, Tensor::<2>::zeros([2, 4], &device), state).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::ShapeMismatch {
                context: "LifAdExRefrac::step state",
                ..
            }
        ),
        "{err:?}"
    );
    // rank 2 for a sequence
    let err = Neuron::forward(&refrac, Tensor::<2>::zeros([2, 4], &device)).unwrap_err();
    assert!(matches!(err, SnnError::RankMismatch { .. }), "{err:?}");
}

//! The spike op on every backend: exact Heaviside forward, and a backward equal to the closed
//! form of each surrogate and to finite differences of its smooth primitive.

use burn::prelude::*;
use snn_core::prelude::*;
use snn_core::{Surrogate, heaviside, spike, spike_with};

use crate::common::{assert_close, autodiff_devices, devices, values};

/// Points away from the kinks of the piecewise surrogates (boxcar edge ±1, triangle ±0.5).
const XS: [f32; 9] = [-2.5, -0.9, -0.3, -0.02, 0.0, 0.015, 0.2, 0.7, 3.0];
/// Upstream gradient, so that the test sees `grad · σ'(x)` and not just `σ'(x)`.
const UPSTREAM: [f32; 9] = [0.3, -1.2, 0.7, 2.0, -0.4, 1.1, 0.9, -0.6, 1.5];

fn all_surrogates() -> Vec<Surrogate> {
    vec![
        Surrogate::superspike(),
        Surrogate::SuperSpike { alpha: 1.0 },
        Surrogate::fast_sigmoid(),
        Surrogate::arctan(),
        Surrogate::arctan_inv_pi(),
        Surrogate::sigmoid(),
        Surrogate::triangle(),
        Surrogate::Triangle {
            k: 1.0,
            height: 3.0,
        },
        Surrogate::boxcar(),
        Surrogate::StraightThrough,
    ]
}

#[test]
fn forward_is_the_exact_heaviside() {
    for (dev, device) in devices().into_iter().chain(autodiff_devices()) {
        let x = Tensor::<1>::from_floats(XS, &device);
        let strict = values(spike(x.clone(), Surrogate::superspike()));
        let want: Vec<f32> = XS
            .iter()
            .map(|&x| if x > 0.0 { 1.0 } else { 0.0 })
            .collect();
        assert_eq!(strict, want, "{dev}: strict heaviside");
        let inclusive = values(spike_with(x, Surrogate::superspike(), true));
        let want: Vec<f32> = XS
            .iter()
            .map(|&x| if x >= 0.0 { 1.0 } else { 0.0 })
            .collect();
        assert_eq!(inclusive, want, "{dev}: heaviside with H(0) = 1");
        // Norse's `heaviside(x)` (0 where x <= 0, else 1) is `heaviside(x, false)`, without a
        // gradient path of its own
        let x = Tensor::<1>::from_floats(XS, &device);
        assert_eq!(
            values(heaviside(x.clone(), false)),
            strict,
            "{dev}: heaviside"
        );
        assert_eq!(
            values(heaviside(x, true)),
            inclusive,
            "{dev}: heaviside at 0"
        );
    }
}

/// `∂/∂x Σ w·spike(x)` on the device.
fn backward(device: &Device, surrogate: Surrogate, xs: &[f32], upstream: &[f32]) -> Vec<f32> {
    let x = Tensor::<1>::from_floats(xs, device).require_grad();
    let w = Tensor::<1>::from_floats(upstream, device);
    let grads = (spike(x.clone(), surrogate) * w).sum().backward();
    values(x.grad(&grads).expect("gradient reaches the input"))
}

#[test]
fn backward_is_the_closed_form_surrogate() {
    for (dev, device) in autodiff_devices() {
        for surrogate in all_surrogates() {
            let got = backward(&device, surrogate, &XS, &UPSTREAM);
            let want: Vec<f32> = XS
                .iter()
                .zip(UPSTREAM)
                .map(|(&x, w)| (f64::from(w) * surrogate.derivative(f64::from(x))) as f32)
                .collect();
            assert_close(&format!("{dev}: {surrogate:?}"), &got, &want, 1e-6, 1e-5);
        }
    }
}

/// The smooth function whose derivative the surrogate is, built from the device's tensor ops.
fn primitive(surrogate: Surrogate, x: Tensor<1>) -> Tensor<1> {
    match surrogate {
        Surrogate::SuperSpike { alpha: k } | Surrogate::FastSigmoid { slope: k } => {
            x.clone() / (x.abs() * k + 1.0)
        }
        Surrogate::Arctan { alpha } => {
            (x * (core::f32::consts::FRAC_PI_2 * alpha)).atan() / core::f32::consts::PI
        }
        Surrogate::ArctanInvPi { k } => {
            let k_pi = k * core::f32::consts::PI;
            (x * k_pi).atan() / (k_pi * core::f32::consts::PI)
        }
        Surrogate::Sigmoid { alpha } => burn::tensor::activation::sigmoid(x * alpha),
        Surrogate::StraightThrough => x,
        Surrogate::Triangle { .. } | Surrogate::Boxcar { .. } => unreachable!("piecewise"),
    }
}

#[test]
fn backward_matches_finite_differences_of_the_smooth_surrogate() {
    // moderate slopes: central differences in f32 with h = 1e-3 resolve them to ~1e-4
    let smooth = [
        Surrogate::SuperSpike { alpha: 4.0 },
        Surrogate::FastSigmoid { slope: 2.0 },
        Surrogate::arctan(),
        Surrogate::ArctanInvPi { k: 0.5 },
        Surrogate::sigmoid(),
        Surrogate::StraightThrough,
    ];
    let xs = [-1.3f32, -0.4, -0.07, 0.11, 0.5, 2.0];
    let ones = [1.0f32; 6];
    let h = 1e-3f32;
    for (dev, device) in autodiff_devices() {
        let plain = device.clone().without_autodiff();
        for surrogate in smooth {
            let got = backward(&device, surrogate, &xs, &ones);
            let at = |shift: f32| {
                let x = Tensor::<1>::from_floats(xs, &plain) + shift;
                values(primitive(surrogate, x))
            };
            let (up, down) = (at(h), at(-h));
            let fd: Vec<f32> = up
                .iter()
                .zip(&down)
                .map(|(u, d)| (u - d) / (2.0 * h))
                .collect();
            assert_close(
                &format!("{dev}: {surrogate:?} vs finite differences"),
                &got,
                &fd,
                5e-4,
                5e-3,
            );
        }
    }
}

#[test]
fn gradient_flows_through_a_composite_graph() {
    // spike(a·2 − a) on a tracked input: the custom op's parent is an op, not a leaf
    for (dev, device) in autodiff_devices() {
        let a = Tensor::<1>::from_floats(XS, &device).require_grad();
        let s = spike(a.clone() * 2.0 - a.clone(), Surrogate::fast_sigmoid());
        let w = Tensor::<1>::from_floats(UPSTREAM, &device);
        let grads = (s * w).sum().backward();
        let got = values(a.grad(&grads).unwrap());
        let want: Vec<f32> = XS
            .iter()
            .zip(UPSTREAM)
            .map(|(&x, w)| {
                (f64::from(w) * Surrogate::fast_sigmoid().derivative(f64::from(x))) as f32
            })
            .collect();
        assert_close(&format!("{dev}: composite"), &got, &want, 1e-6, 1e-5);
    }
}

#[test]
fn gradient_checkpointing_gives_the_same_bptt_gradients() {
    // a LIF layer unrolled over time, with burn's balanced gradient checkpointing on and off
    use snn_core::LifConfig;
    let x = crate::common::uniform(2 * 30 * 5, 3, 0.0, 1.5);
    let grad_of = |device: Device| {
        let lif = LifConfig::new(5).init(&device).unwrap();
        let input = Tensor::<1>::from_floats(x.as_slice(), &device)
            .reshape([2, 30, 5])
            .require_grad();
        let spikes = lif.forward(input.clone()).unwrap().spikes;
        let grads = spikes.sum().backward();
        values(input.grad(&grads).unwrap())
    };
    for (dev, device) in devices() {
        let plain = grad_of(device.clone().autodiff());
        let checkpointed = grad_of(device.autodiff().gradient_checkpointing());
        assert!(plain.iter().any(|g| *g != 0.0), "{dev}: no gradient");
        assert_close(
            &format!("{dev}: checkpointed BPTT"),
            &checkpointed,
            &plain,
            1e-6,
            1e-6,
        );
    }
}

#[test]
fn backward_is_the_f64_formula_for_every_kind_on_every_device() {
    // each kind, with its default and with other parameters
    let surrogates = [
        Surrogate::superspike(),
        Surrogate::SuperSpike { alpha: 3.0 },
        Surrogate::fast_sigmoid(),
        Surrogate::FastSigmoid { slope: 7.0 },
        Surrogate::arctan(),
        Surrogate::Arctan { alpha: 0.7 },
        Surrogate::arctan_inv_pi(),
        Surrogate::ArctanInvPi { k: 0.8 },
        Surrogate::sigmoid(),
        Surrogate::Sigmoid { alpha: 25.0 },
        Surrogate::triangle(),
        Surrogate::Triangle {
            k: 1.0,
            height: 3.0,
        },
        Surrogate::boxcar(),
        Surrogate::Boxcar {
            width: 0.6,
            height: 2.0,
        },
        Surrogate::StraightThrough,
    ];
    // around 0 and past every window edge (0.3, 0.5, 1), on none of them
    let grid: Vec<f32> = (-60..=60).map(|k| k as f32 * 0.0371).collect();
    let (rows, cols) = (surrogates.len(), grid.len());
    let xs: Vec<f32> = grid.iter().copied().cycle().take(rows * cols).collect();
    let upstream = crate::common::uniform(rows * cols, 7, -2.0, 2.0);
    for (dev, device) in autodiff_devices() {
        // one graph and one backward pass for all of them: a row per surrogate
        let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [rows, cols]), &device)
            .require_grad();
        let z = Tensor::cat(
            surrogates
                .iter()
                .enumerate()
                .map(|(r, &s)| spike(x.clone().narrow(0, r, 1), s))
                .collect(),
            0,
        );
        let w = Tensor::<2>::from_data(TensorData::new(upstream.clone(), [rows, cols]), &device);
        let grads = (z * w).sum().backward();
        let got = values(x.grad(&grads).expect("gradient reaches the input"));
        for (r, s) in surrogates.iter().enumerate() {
            for c in 0..cols {
                let k = r * cols + c;
                let (x, w) = (f64::from(xs[k]), f64::from(upstream[k]));
                let want = w * s.derivative(x);
                // 1e-5 relative, and the f32 rounding of terms near 1 (as in sigmoid's 1 − s)
                let tol = 1e-5 * want.abs() + 4.0 * f64::from(f32::EPSILON) * s.peak() * w.abs();
                let err = (f64::from(got[k]) - want).abs();
                assert!(
                    err <= tol,
                    "{dev}: {s:?} at x = {x}: got {}, want {want} (|err| = {err:e})",
                    got[k]
                );
            }
        }
    }
}

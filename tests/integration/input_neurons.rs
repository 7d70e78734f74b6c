//! mlGeNN's input neurons (`snn_core::encode`): hand-computed codes, a scalar transcription of
//! the GeNN code, Poisson statistics, agreement across devices, gradients, and one test per
//! typed error. There are no golden files for mlGeNN: every expectation is computed here.

use burn::prelude::*;
use snn_core::encode::{
    BinarySpikeInputConfig, FewSpikeReluInputConfig, IntegrateFireInputConfig,
    LeakyIntegrateFireInputConfig, PoissonInputConfig, SpikeInputConfig,
};
use snn_core::{SnnError, Surrogate};

use crate::common::{
    assert_close, assert_spikes_equal, autodiff_devices, devices, uniform, values,
};

/// A `[batch, size]` tensor from row-major values.
fn matrix(v: &[f32], batch: usize, device: &Device) -> Tensor<2> {
    Tensor::<1>::from_floats(v, device).reshape([batch, v.len() / batch])
}

/// Sum over `[batch, time, size]` spikes of each neuron's spikes.
fn counts(z: &[f32], batch: usize, steps: usize, size: usize) -> Vec<f32> {
    let mut c = vec![0.0; size];
    for b in 0..batch {
        for t in 0..steps {
            for n in 0..size {
                c[n] += z[(b * steps + t) * size + n];
            }
        }
    }
    c
}

/// The spike train of neuron `n` of batch entry `b`.
fn train(z: &[f32], b: usize, n: usize, steps: usize, size: usize) -> Vec<f32> {
    (0..steps).map(|t| z[(b * steps + t) * size + n]).collect()
}

#[test]
fn binary_input_follows_the_sign_of_the_input() {
    let x = [0.5, 0.0, -0.3, 2.0, -1.0, 1e-6, 0.0, -1e-6];
    for (name, device) in devices() {
        let input = matrix(&x, 2, &device);
        for (signed, want) in [
            (false, [1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0]),
            (true, [1.0, 0.0, -1.0, 1.0, -1.0, 1.0, 0.0, -1.0]),
        ] {
            let layer = BinarySpikeInputConfig::new(4)
                .with_signed_spikes(signed)
                .init()
                .unwrap();
            let z: Tensor<3> = layer.forward(input.clone(), 3).unwrap();
            assert_eq!(z.dims(), [2, 3, 4]);
            let z = values(z);
            for b in 0..2 {
                for t in 0..3 {
                    let got = &z[(b * 3 + t) * 4..(b * 3 + t + 1) * 4];
                    assert_eq!(
                        got,
                        &want[b * 4..b * 4 + 4],
                        "{name} signed {signed} b{b} t{t}"
                    );
                }
            }
        }
        // feature dimensions are kept: [batch, 2, 2] -> [batch, time, 2, 2]
        let layer = BinarySpikeInputConfig::new(4).init().unwrap();
        let z: Tensor<4> = layer.forward(input.reshape([2, 2, 2]), 5).unwrap();
        assert_eq!(z.dims(), [2, 5, 2, 2], "{name}");
    }
}

#[test]
fn frames_are_shown_in_turn_and_the_last_is_held() {
    // mlGeNN InputBase: frame(t) = min(t / input_frame_timesteps, input_frames - 1)
    let frames = [1.0, -1.0, -1.0, 1.0, 0.0, 1.0]; // [batch 1, 3 frames, 2 neurons]
    let order = [0, 0, 1, 1, 2, 2, 2, 2, 2];
    for (name, device) in devices() {
        let x = Tensor::<1>::from_floats(frames.as_slice(), &device).reshape([1, 3, 2]);
        let layer = BinarySpikeInputConfig::new(2)
            .with_signed_spikes(true)
            .with_input_frames(3)
            .with_input_frame_timesteps(2)
            .init()
            .unwrap();
        let z: Tensor<3> = layer.forward(x.clone(), order.len()).unwrap();
        let want: Vec<f32> = order
            .iter()
            .flat_map(|&f| [frames[2 * f], frames[2 * f + 1]])
            .collect();
        assert_eq!(values(z), want, "{name}");

        // IF input with frames: v += frame, spike and reset to 0 at v >= 1
        let layer = IntegrateFireInputConfig::new(2)
            .with_input_frames(3)
            .with_input_frame_timesteps(2)
            .init()
            .unwrap();
        let z: Tensor<3> = layer.forward(x, order.len()).unwrap();
        let mut v = [0.0f32; 2];
        let mut want = Vec::new();
        for &f in &order {
            for n in 0..2 {
                v[n] += frames[2 * f + n];
                let fire = v[n] >= 1.0;
                if fire {
                    v[n] = 0.0;
                }
                want.push(f32::from(fire));
            }
        }
        // neuron 1 sits at -2 after the first frame and fires only once frame 1 has lifted it
        assert_eq!(want[1..].iter().step_by(2).sum::<f32>(), 5.0);
        assert_eq!(values(z), want, "{name} IF");
    }
}

#[test]
fn poisson_rates_are_within_five_sigma_of_the_binomial() {
    // rates in spikes per ms: P(spike per step) = 1 - exp(-|rate| dt)
    let rates = [0.0f32, 0.02, 0.1, 0.5, 2.0, -0.1, -0.5];
    let (batch, steps, size) = (8, 1000, rates.len());
    for (name, device) in devices() {
        let x = Tensor::<1>::from_floats(rates.as_slice(), &device)
            .reshape([1, size])
            .repeat_dim(0, batch);
        for (dt, signed) in [(1.0, false), (0.5, true)] {
            let layer = PoissonInputConfig::new(size)
                .with_dt_ms(dt)
                .with_signed_spikes(signed)
                .init()
                .unwrap();
            let z = values::<3>(layer.forward(x.clone(), steps, 11).unwrap());
            assert!(
                z.iter()
                    .all(|&s| s == 0.0 || s == 1.0 || (signed && s == -1.0)),
                "{name}: spikes must be 0/1 (or -1 signed)"
            );
            let c = counts(&z, batch, steps, size);
            for (n, &rate) in rates.iter().enumerate() {
                let trials = (batch * steps) as f64;
                let p = 1.0 - (-f64::from(rate).abs() * dt).exp();
                let sign = if rate > 0.0 {
                    1.0
                } else if signed {
                    -1.0
                } else {
                    0.0
                };
                let got = f64::from(c[n]) * sign;
                if sign == 0.0 || rate == 0.0 {
                    assert_eq!(c[n], 0.0, "{name} dt {dt} rate {rate}: no spikes expected");
                    continue;
                }
                let mean = trials * p;
                let sigma = (trials * p * (1.0 - p)).sqrt();
                assert!(
                    (got - mean).abs() <= 5.0 * sigma,
                    "{name} dt {dt} rate {rate}: {got} spikes, expected {mean:.1} ± 5·{sigma:.1}"
                );
            }
        }
    }
}

#[test]
fn poisson_seeds_reproduce_and_differ() {
    let x = uniform(2 * 50, 3, 0.0, 0.5);
    for (name, device) in devices() {
        let input = matrix(&x, 2, &device);
        let layer = PoissonInputConfig::new(50).init().unwrap();
        let draw = |seed| values::<3>(layer.forward(input.clone(), 40, seed).unwrap());
        let a = draw(7);
        assert_spikes_equal(&format!("{name} same seed"), &draw(7), &a);
        let b = draw(8);
        let differ = a.iter().zip(&b).filter(|(p, q)| p != q).count();
        assert!(
            differ > 50,
            "{name}: seeds 7 and 8 differ in only {differ} places"
        );
        // the two batch entries and the steps draw different numbers
        assert!(a.iter().sum::<f32>() > 100.0, "{name}");
        let (first, second) = a.split_at(a.len() / 2);
        assert_ne!(first, second, "{name}: batch entries share their draws");
    }
}

#[test]
fn poisson_frames_switch_the_rate() {
    // frame 0 silent for 50 steps, then frame 1 at 20 spikes/ms: P = 1 - e^-20
    for (name, device) in devices() {
        let x = Tensor::<1>::from_floats([0.0, 0.0, 20.0, 20.0], &device).reshape([1, 2, 2]);
        let layer = PoissonInputConfig::new(2)
            .with_input_frames(2)
            .with_input_frame_timesteps(50)
            .init()
            .unwrap();
        let z = values::<3>(layer.forward(x, 100, 5).unwrap());
        assert!(
            z[..100].iter().all(|&s| s == 0.0),
            "{name}: frame 0 is silent"
        );
        assert!(
            z[100..].iter().sum::<f32>() >= 99.0,
            "{name}: frame 1 fires every step"
        );
    }
}

#[test]
fn integrate_fire_input_counts_by_hand() {
    // mlGeNN IntegrateFire: V += x; spike when V >= 1; V = 0. A constant x fires every
    // ceil(1/x) steps (the values are exact in f32, so V reaches 1.0 exactly).
    let x = [0.25f32, 0.5, 1.0, 0.0, -1.0, 2.0, 0.3];
    let want = [5.0, 10.0, 20.0, 0.0, 0.0, 20.0, 5.0];
    for (name, device) in devices() {
        let layer = IntegrateFireInputConfig::new(x.len()).init().unwrap();
        let z = values::<3>(layer.forward(matrix(&x, 1, &device), 20).unwrap());
        assert_eq!(counts(&z, 1, 20, x.len()), want, "{name}");
        // 0.5 reaches the threshold exactly at step 1: `>=` fires
        let expected: Vec<f32> = (0..20).map(|t| (t % 2) as f32).collect();
        assert_eq!(train(&z, 0, 1, 20, x.len()), expected, "{name}");

        // v_reset 0.5: first spike at step 3, then every 2 steps; v_init 0.75: at step 0
        let layer = IntegrateFireInputConfig::new(1)
            .with_v_reset(0.5)
            .init()
            .unwrap();
        let z = values::<3>(layer.forward(matrix(&[0.25], 1, &device), 20).unwrap());
        let fired: Vec<usize> = (0..20).filter(|&t| z[t] == 1.0).collect();
        assert_eq!(fired, (3..20).step_by(2).collect::<Vec<_>>(), "{name}");
        let layer = IntegrateFireInputConfig::new(1)
            .with_v_init(0.75)
            .init()
            .unwrap();
        let z = values::<3>(layer.forward(matrix(&[0.25], 1, &device), 5).unwrap());
        assert_eq!(z, [1.0, 0.0, 0.0, 0.0, 1.0], "{name}");
    }
}

#[test]
fn leaky_integrate_fire_input_by_hand() {
    // tau_mem = dt / ln 2: alpha = 0.5; V = 0.5 V + x; relative reset V -= 1
    let tau = 1.0 / 2f64.ln();
    for (name, device) in devices() {
        let layer = LeakyIntegrateFireInputConfig::new(1)
            .with_tau_mem_ms(tau)
            .init()
            .unwrap();
        // x = 0.6: V = 0.6, 0.9, 1.05 -> spike, 0.05, ... fires every 3rd step
        let z = values::<3>(layer.forward(matrix(&[0.6], 1, &device), 12).unwrap());
        let expected: Vec<f32> = (0..12).map(|t| f32::from(t % 3 == 2)).collect();
        assert_eq!(z, expected, "{name}");

        // refractory period 2 ms with dt 1, x = 2 (always above threshold): every 2nd step
        let refrac = LeakyIntegrateFireInputConfig::new(1)
            .with_tau_mem_ms(tau)
            .with_tau_refrac_ms(Some(2.0));
        let layer = refrac.init().unwrap();
        let z = values::<3>(layer.forward(matrix(&[2.0], 1, &device), 10).unwrap());
        let expected: Vec<f32> = (0..10).map(|t| f32::from(t % 2 == 0)).collect();
        assert_eq!(z, expected, "{name} refractory");

        // without integration during the refractory period V stays at 1 (after the relative
        // reset), fires again at once when the countdown ends, then sits at 0 for 2 steps
        let layer = refrac.with_integrate_during_refrac(false).init().unwrap();
        let z = values::<3>(layer.forward(matrix(&[2.0], 1, &device), 10).unwrap());
        assert_eq!(z, [1., 0., 1., 0., 0., 1., 0., 1., 0., 0.], "{name} frozen");
    }
}

/// mlGeNN's `LeakyIntegrateFire` GeNN code for one neuron, transcribed to scalar `f32`.
struct GennLif {
    alpha: f32,
    scale_i: bool,
    v_thresh: f32,
    v_reset: f32,
    relative_reset: bool,
    tau_refrac: Option<f32>,
    integrate_during_refrac: bool,
    dt: f32,
}

impl GennLif {
    fn run(&self, isyn: impl Iterator<Item = f32>) -> Vec<f32> {
        let (mut v, mut refrac_time) = (0.0f32, 0.0f32);
        let mut out = Vec::new();
        for isyn in isyn {
            let update = |v: f32| {
                if self.scale_i {
                    self.alpha * v + (1.0 - self.alpha) * isyn
                } else {
                    self.alpha * v + isyn
                }
            };
            match self.tau_refrac {
                None => v = update(v),
                Some(_) if self.integrate_during_refrac => {
                    v = update(v);
                    if refrac_time > 0.0 {
                        refrac_time -= self.dt;
                    }
                }
                Some(_) => {
                    if refrac_time > 0.0 {
                        refrac_time -= self.dt;
                    } else {
                        v = update(v);
                    }
                }
            }
            let fire = v >= self.v_thresh && (self.tau_refrac.is_none() || refrac_time <= 0.0);
            if fire {
                if self.relative_reset {
                    v -= self.v_thresh - self.v_reset;
                } else {
                    v = self.v_reset;
                }
                if let Some(tau) = self.tau_refrac {
                    refrac_time = tau;
                }
            }
            out.push(f32::from(fire));
        }
        out
    }
}

#[test]
fn leaky_integrate_fire_input_matches_the_genn_code() {
    let (batch, frames, size, fts, steps) = (3, 4, 6, 3, 20);
    let x = uniform(batch * frames * size, 21, -0.2, 0.8);
    let configs = [
        LeakyIntegrateFireInputConfig::new(size),
        LeakyIntegrateFireInputConfig::new(size)
            .with_tau_mem_ms(5.0)
            .with_relative_reset(false)
            .with_v_reset(0.2),
        LeakyIntegrateFireInputConfig::new(size)
            .with_tau_mem_ms(3.0)
            .with_scale_i(true)
            .with_v_thresh(0.3),
        LeakyIntegrateFireInputConfig::new(size)
            .with_dt_ms(0.5)
            .with_tau_refrac_ms(Some(1.5))
            .with_v_reset(-0.25),
        LeakyIntegrateFireInputConfig::new(size)
            .with_tau_mem_ms(8.0)
            .with_tau_refrac_ms(Some(2.0))
            .with_integrate_during_refrac(false)
            .with_relative_reset(false),
    ];
    for (name, device) in devices() {
        let input = Tensor::<1>::from_floats(x.as_slice(), &device).reshape([batch, frames, size]);
        for (k, config) in configs.iter().enumerate() {
            let config = config
                .clone()
                .with_input_frames(frames)
                .with_input_frame_timesteps(fts);
            let z = values::<3>(
                config
                    .init()
                    .unwrap()
                    .forward(input.clone(), steps)
                    .unwrap(),
            );
            let genn = GennLif {
                alpha: config.alpha() as f32,
                scale_i: config.scale_i,
                v_thresh: config.v_thresh as f32,
                v_reset: config.v_reset as f32,
                relative_reset: config.relative_reset,
                tau_refrac: config.tau_refrac_ms.map(|t| t as f32),
                integrate_during_refrac: config.integrate_during_refrac,
                dt: config.dt_ms as f32,
            };
            let mut total = 0.0;
            for b in 0..batch {
                for n in 0..size {
                    let frame = |t: usize| (t / fts).min(frames - 1);
                    let want = genn.run((0..steps).map(|t| x[(b * frames + frame(t)) * size + n]));
                    total += want.iter().sum::<f32>();
                    let got = train(&z, b, n, steps, size);
                    assert_eq!(got, want, "{name} config {k} b{b} n{n}");
                }
            }
            assert!(total > 0.0, "config {k} never fires: a vacuous comparison");
        }
    }
}

/// `Σ_p z(p)·h(p)` per neuron of one batch entry: the value a few-spike train codes.
fn decode(z: &[f32], thresholds: &[f32], size: usize) -> Vec<f64> {
    let k = thresholds.len();
    (0..z.len() / (k * size) * size)
        .map(|i| {
            let (b, n) = (i / size, i % size);
            (0..k)
                .map(|p| f64::from(z[(b * k + p) * size + n]) * f64::from(thresholds[p]))
                .sum()
        })
        .collect()
}

#[test]
fn few_spike_relu_codes_the_quantized_relu() {
    let mut x = uniform(64, 31, -5.0, 30.0);
    let q = 25.0 / 1024.0;
    x.extend([
        0.0,
        q as f32,
        (25.0 - q) as f32,
        25.0,
        100.0,
        -1.0,
        12.5,
        3.3,
    ]);
    for (name, device) in devices() {
        let layer = FewSpikeReluInputConfig::new(x.len()).init().unwrap();
        assert_eq!(layer.step(), q);
        let h = layer.thresholds();
        assert_eq!(h[..3], [12.5, 6.25, 3.125]);
        let z: Tensor<3> = layer.forward(matrix(&x, 1, &device)).unwrap();
        assert_eq!(z.dims(), [1, 10, x.len()], "{name}: k = 10 steps");
        let z = values(z);
        assert!(z.iter().all(|&s| s == 0.0 || s == 1.0), "{name}");
        for (&xi, got) in x.iter().zip(decode(&z, &h, x.len())) {
            let relu = f64::from(xi).max(0.0);
            let want = q * (relu / q).floor().min(1023.0);
            assert_eq!(got, want, "{name}: x = {xi}");
            if relu < 25.0 {
                assert!(relu - got >= 0.0 && relu - got < q, "{name}: x = {xi}");
            }
        }
    }
}

#[test]
fn signed_few_spike_codes_both_signs() {
    let mut x = uniform(64, 41, -30.0, 30.0);
    x.extend([0.0, -25.0, 25.0, -100.0, 6.25, -6.25, -0.1]);
    let q = 25.0 / 32.0; // k = 10: 5 bits per sign
    for (name, device) in devices() {
        let layer = FewSpikeReluInputConfig::new(x.len())
            .with_signed_input(true)
            .init()
            .unwrap();
        assert_eq!(layer.step(), q);
        let h = layer.thresholds();
        assert_eq!(h[..4], [12.5, 12.5, 6.25, 6.25]);
        let z = values::<3>(layer.forward(matrix(&x, 1, &device)).unwrap());
        for p in 0..10 {
            let allowed = if p % 2 == 0 { 1.0 } else { -1.0 };
            let row = &z[p * x.len()..(p + 1) * x.len()];
            assert!(
                row.iter().all(|&s| s == 0.0 || s == allowed),
                "{name} step {p}"
            );
        }
        for (&xi, got) in x.iter().zip(decode(&z, &h, x.len())) {
            let xi64 = f64::from(xi);
            // positive: V >= h rounds down; negative: V < -h rounds toward zero strictly
            let want = if xi64 >= 0.0 {
                q * (xi64 / q).floor().min(31.0)
            } else {
                -q * ((-xi64 / q).ceil() - 1.0).min(31.0)
            };
            assert_eq!(got, want, "{name}: x = {xi}");
        }
    }
}

#[test]
fn spike_input_replays_events_as_mlgenn_does() {
    let layer = SpikeInputConfig::new(3, 5).init().unwrap();
    let samples = [
        vec![(0, 0), (4, 2), (2, 1)],
        vec![],
        // three events of neuron 0 at step 1: queued to steps 1, 2, 3
        vec![(1, 0), (1, 0), (1, 0), (0, 2)],
    ];
    let mut want = vec![0.0f32; 3 * 5 * 3];
    for (b, t, n) in [
        (0, 0, 0),
        (0, 4, 2),
        (0, 2, 1),
        (2, 1, 0),
        (2, 2, 0),
        (2, 3, 0),
        (2, 0, 2),
    ] {
        want[(b * 5 + t) * 3 + n] = 1.0;
    }
    // times in ms fire at step ceil(t / dt): dt 0.5, times 0.0, 0.2, 1.0, 1.1 -> 0, 1, 2, 3
    let ms = SpikeInputConfig::new(2, 5).with_dt_ms(0.5).init().unwrap();
    let ms_samples = [vec![(0.0, 1), (0.2, 1), (1.0, 1), (1.1, 1), (1.9, 0)]];
    let ms_want = [0., 1., 0., 1., 0., 1., 0., 1., 1., 0.];
    for (name, device) in devices() {
        let z = layer.dense(&samples, &device).unwrap();
        assert_eq!(z.dims(), [3, 5, 3]);
        assert_eq!(values(z), want, "{name}");
        assert_eq!(
            values(ms.dense_ms(&ms_samples, &device).unwrap()),
            ms_want,
            "{name}"
        );
    }
}

#[test]
fn deterministic_inputs_agree_across_devices() {
    let (batch, size, steps) = (4, 10, 30);
    let x = uniform(batch * size, 51, -0.5, 1.5);
    let frames = uniform(batch * 3 * size, 52, -0.5, 1.5);
    let events: Vec<Vec<(usize, usize)>> = (0..batch)
        .map(|b| {
            (0..20)
                .map(|k| ((k * 7 + b) % steps, (k * 3 + b) % size))
                .collect()
        })
        .collect();
    let run = |device: &Device| -> Vec<(&'static str, Vec<f32>)> {
        let input = matrix(&x, batch, device);
        let seq = Tensor::<1>::from_floats(frames.as_slice(), device).reshape([batch, 3, size]);
        let binary = BinarySpikeInputConfig::new(size)
            .with_signed_spikes(true)
            .init()
            .unwrap();
        let iaf = IntegrateFireInputConfig::new(size)
            .with_input_frames(3)
            .with_input_frame_timesteps(4)
            .init()
            .unwrap();
        let lif = LeakyIntegrateFireInputConfig::new(size)
            .with_tau_mem_ms(7.0)
            .with_tau_refrac_ms(Some(2.0))
            .init()
            .unwrap();
        let fs = FewSpikeReluInputConfig::new(size)
            .with_alpha(2.0)
            .init()
            .unwrap();
        let replay = SpikeInputConfig::new(size, steps).init().unwrap();
        vec![
            (
                "binary",
                values::<3>(binary.forward(input.clone(), steps).unwrap()),
            ),
            (
                "integrate-fire",
                values::<3>(iaf.forward(seq, steps).unwrap()),
            ),
            (
                "leaky",
                values::<3>(lif.forward(input.clone(), steps).unwrap()),
            ),
            ("few-spike", values::<3>(fs.forward(input).unwrap())),
            ("events", values(replay.dense(&events, device).unwrap())),
        ]
    };
    let all = devices();
    let (first_name, first) = &all[0];
    let reference = run(first);
    for (what, z) in &reference {
        assert!(
            z.iter().any(|&s| s != 0.0),
            "{what}: no spikes, a vacuous comparison"
        );
    }
    for (name, device) in &all[1..] {
        for ((what, got), (_, want)) in run(device).iter().zip(&reference) {
            assert_spikes_equal(&format!("{what}: {name} vs {first_name}"), got, want);
        }
    }
}

#[test]
fn gradients_reach_the_input_of_integrate_fire_and_leaky_inputs() {
    let (batch, size, steps) = (2, 5, 12);
    let x = uniform(batch * size, 61, 0.1, 0.7);
    let frames = uniform(batch * 3 * size, 62, 0.0, 0.9);
    let mut reference: Option<Vec<Vec<f32>>> = None;
    for (name, device) in autodiff_devices() {
        let mut grads_here = Vec::new();
        let mut check = |what: &str, g: Option<Tensor<2>>, g3: Option<Tensor<3>>| {
            let g = match (g, g3) {
                (Some(g), _) => values(g),
                (None, Some(g)) => values(g),
                _ => panic!("{name} {what}: no gradient reached the input"),
            };
            assert!(g.iter().all(|v| v.is_finite()), "{name} {what}: {g:?}");
            assert!(g.iter().any(|&v| v != 0.0), "{name} {what}: all zero");
            grads_here.push(g);
        };

        let input = matrix(&x, batch, &device).require_grad();
        let iaf = IntegrateFireInputConfig::new(size)
            .with_surrogate(Surrogate::fast_sigmoid())
            .init()
            .unwrap();
        let z: Tensor<3> = iaf.forward(input.clone(), steps).unwrap();
        let grads = z.sum().backward();
        check("integrate-fire", input.grad(&grads), None);

        for refrac in [None, Some(2.0)] {
            let input = matrix(&x, batch, &device).require_grad();
            let lif = LeakyIntegrateFireInputConfig::new(size)
                .with_tau_mem_ms(5.0)
                .with_v_thresh(0.5)
                .with_tau_refrac_ms(refrac)
                .init()
                .unwrap();
            let z: Tensor<3> = lif.forward(input.clone(), steps).unwrap();
            let grads = z.sum().backward();
            check("leaky", input.grad(&grads), None);
        }

        let seq = Tensor::<1>::from_floats(frames.as_slice(), &device)
            .reshape([batch, 3, size])
            .require_grad();
        let lif = LeakyIntegrateFireInputConfig::new(size)
            .with_input_frames(3)
            .with_input_frame_timesteps(4)
            .init()
            .unwrap();
        let z: Tensor<3> = lif.forward(seq.clone(), steps).unwrap();
        let grads = z.sum().backward();
        check("leaky frames", None, seq.grad(&grads));

        match &reference {
            None => reference = Some(grads_here),
            Some(want) => {
                for (k, (g, w)) in grads_here.iter().zip(want).enumerate() {
                    assert_close(&format!("{name} gradient {k}"), g, w, 1e-5, 1e-3);
                }
            }
        }

        // the non-differentiable inputs run on autodiff devices too
        let input = matrix(&x, batch, &device);
        let _: Tensor<3> = BinarySpikeInputConfig::new(size)
            .init()
            .unwrap()
            .forward(input.clone(), 3)
            .unwrap();
        let _: Tensor<3> = PoissonInputConfig::new(size)
            .init()
            .unwrap()
            .forward(input.clone(), 3, 1)
            .unwrap();
        let _: Tensor<3> = FewSpikeReluInputConfig::new(size)
            .init()
            .unwrap()
            .forward(input)
            .unwrap();
    }
}

#[test]
fn zero_sizes_are_typed_errors() {
    let zero = |field| SnnError::ZeroSize { field };
    assert_eq!(
        BinarySpikeInputConfig::new(0).init().unwrap_err(),
        zero("size")
    );
    assert_eq!(PoissonInputConfig::new(0).init().unwrap_err(), zero("size"));
    assert_eq!(
        IntegrateFireInputConfig::new(0).init().unwrap_err(),
        zero("size")
    );
    assert_eq!(
        LeakyIntegrateFireInputConfig::new(0).init().unwrap_err(),
        zero("size")
    );
    assert_eq!(
        FewSpikeReluInputConfig::new(0).init().unwrap_err(),
        zero("size")
    );
    assert_eq!(
        SpikeInputConfig::new(0, 5).init().unwrap_err(),
        zero("size")
    );
    assert_eq!(
        SpikeInputConfig::new(3, 0).init().unwrap_err(),
        zero("num_steps")
    );
    assert_eq!(
        SpikeInputConfig::new(3, 5)
            .with_max_spikes(0)
            .init()
            .unwrap_err(),
        zero("max_spikes")
    );
    assert_eq!(
        PoissonInputConfig::new(3)
            .with_input_frames(0)
            .init()
            .unwrap_err(),
        zero("input_frames")
    );
    assert_eq!(
        LeakyIntegrateFireInputConfig::new(3)
            .with_input_frame_timesteps(0)
            .init()
            .unwrap_err(),
        zero("input_frame_timesteps")
    );
    assert_eq!(
        FewSpikeReluInputConfig::new(3)
            .with_k(0)
            .init()
            .unwrap_err(),
        zero("k")
    );

    let device = Device::flex();
    let x = Tensor::<2>::ones([2, 3], &device);
    let layer = BinarySpikeInputConfig::new(3).init().unwrap();
    assert_eq!(layer.forward::<2, 3>(x, 0).unwrap_err(), zero("num_steps"));
    let events = SpikeInputConfig::new(3, 5).init().unwrap();
    let none: [Vec<(usize, usize)>; 0] = [];
    assert_eq!(events.dense(&none, &device).unwrap_err(), zero("samples"));
}

#[test]
fn bad_parameters_are_typed_errors() {
    let not_positive = |err: SnnError, want: &str| {
        assert!(
            matches!(err, SnnError::NotPositive { field, .. } if field == want),
            "{want}: {err:?}"
        );
    };
    not_positive(
        PoissonInputConfig::new(3)
            .with_dt_ms(0.0)
            .init()
            .unwrap_err(),
        "dt_ms",
    );
    not_positive(
        LeakyIntegrateFireInputConfig::new(3)
            .with_tau_mem_ms(-1.0)
            .init()
            .unwrap_err(),
        "tau_mem_ms",
    );
    not_positive(
        LeakyIntegrateFireInputConfig::new(3)
            .with_dt_ms(f64::NAN)
            .init()
            .unwrap_err(),
        "dt_ms",
    );
    not_positive(
        FewSpikeReluInputConfig::new(3)
            .with_alpha(0.0)
            .init()
            .unwrap_err(),
        "alpha",
    );
    not_positive(
        SpikeInputConfig::new(3, 5)
            .with_dt_ms(-1.0)
            .init()
            .unwrap_err(),
        "dt_ms",
    );
    not_positive(
        IntegrateFireInputConfig::new(3)
            .with_surrogate(Surrogate::Arctan { alpha: 0.0 })
            .init()
            .unwrap_err(),
        "surrogate.alpha",
    );
    assert_eq!(
        IntegrateFireInputConfig::new(3)
            .with_v_thresh(f64::INFINITY)
            .init()
            .unwrap_err(),
        SnnError::NotFinite {
            field: "v_thresh",
            value: f64::INFINITY
        }
    );
    let err = LeakyIntegrateFireInputConfig::new(3)
        .with_tau_refrac_ms(Some(-1.0))
        .init()
        .unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "tau_refrac_ms", value, .. } if value == -1.0),
        "{err:?}"
    );
    for (k, signed) in [(32, false), (9, true)] {
        let err = FewSpikeReluInputConfig::new(3)
            .with_k(k)
            .with_signed_input(signed)
            .init()
            .unwrap_err();
        assert!(
            matches!(err, SnnError::OutOfRange { field: "k", value, .. } if value == k as f64),
            "k {k}: {err:?}"
        );
    }
}

#[test]
fn non_finite_poisson_rates_are_typed_errors() {
    let layer = PoissonInputConfig::new(3).init().unwrap();
    for (name, device) in devices() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let x = matrix(&[0.1, bad, 0.2], 1, &device);
            let err = layer.forward::<2, 3>(x, 4, 0).unwrap_err();
            assert!(
                matches!(err, SnnError::NotFinite { field: "PoissonInput input rate", value }
                    if value.is_nan() == bad.is_nan()),
                "{name} {bad}: {err:?}"
            );
        }
    }
}

#[test]
fn wrong_shapes_and_ranks_are_typed_errors() {
    let device = Device::flex();
    let binary = BinarySpikeInputConfig::new(4).init().unwrap();
    // 3 features for a population of 4
    let err = binary
        .forward::<2, 3>(Tensor::ones([2, 3], &device), 5)
        .unwrap_err();
    assert!(
        matches!(&err, SnnError::ShapeMismatch { context: "BinarySpikeInput::forward input", actual, .. }
            if actual == &vec![2, 3]),
        "{err:?}"
    );
    // a static input gains one axis: output rank 2 + 1, not 4
    let err = binary
        .forward::<2, 4>(Tensor::ones([2, 4], &device), 5)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::RankMismatch {
                context: "BinarySpikeInput::forward output",
                actual: 4,
                ..
            }
        ),
        "{err:?}"
    );
    // a rank-1 input has no batch axis
    let iaf = IntegrateFireInputConfig::new(4).init().unwrap();
    let err = iaf
        .forward::<1, 2>(Tensor::ones([4], &device), 5)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::RankMismatch {
                context: "IntegrateFireInput::forward input",
                actual: 1,
                ..
            }
        ),
        "{err:?}"
    );
    // frames: 2 given, 3 declared; and frames keep the rank
    let lif = LeakyIntegrateFireInputConfig::new(4)
        .with_input_frames(3)
        .init()
        .unwrap();
    let err = lif
        .forward::<3, 3>(Tensor::ones([1, 2, 4], &device), 5)
        .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err:?}");
    let err = lif
        .forward::<3, 4>(Tensor::ones([1, 3, 4], &device), 5)
        .unwrap_err();
    assert!(
        matches!(err, SnnError::RankMismatch { actual: 4, .. }),
        "{err:?}"
    );
    let fs = FewSpikeReluInputConfig::new(4).init().unwrap();
    let err = fs
        .forward::<2, 3>(Tensor::ones([1, 5], &device))
        .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err:?}");
}

#[test]
fn bad_spike_events_are_typed_errors() {
    let device = Device::flex();
    let layer = SpikeInputConfig::new(3, 5).init().unwrap();
    let out_of_range = |index, what, value: f64, allowed: &str| SnnError::EventOutOfRange {
        context: "SpikeInput::dense",
        index,
        what,
        value,
        allowed: allowed.to_string(),
    };
    // the index counts through the samples: sample 1's second event is event 3
    let samples = [vec![(0, 0), (1, 1)], vec![(2, 2), (3, 3)]];
    assert_eq!(
        layer.dense(&samples, &device).unwrap_err(),
        out_of_range(3, "neuron id", 3.0, "0..3")
    );
    let samples = [vec![(0, 0)], vec![(5, 1)]];
    assert_eq!(
        layer.dense(&samples, &device).unwrap_err(),
        out_of_range(1, "time step", 5.0, "0..5")
    );
    // two events of neuron 0 at the last step: the second is queued past the window
    let samples = [vec![(4, 0), (4, 0)]];
    assert!(
        matches!(
            layer.dense(&samples, &device).unwrap_err(),
            SnnError::EventOutOfRange {
                index: 1,
                value: 5.0,
                ..
            }
        ),
        "queued event"
    );
    // the budget covers the whole batch
    let small = SpikeInputConfig::new(3, 5)
        .with_max_spikes(2)
        .init()
        .unwrap();
    let samples = [vec![(0, 0), (1, 1)], vec![(2, 2)]];
    assert_eq!(
        small.dense(&samples, &device).unwrap_err(),
        SnnError::TooManySpikes {
            context: "SpikeInput::dense",
            count: 3,
            max_spikes: 2
        }
    );
    let ms = [vec![(0.0, 0), (1.0, 1), (2.0, 2)]];
    assert!(matches!(
        small.dense_ms(&ms, &device).unwrap_err(),
        SnnError::TooManySpikes {
            context: "SpikeInput::dense_ms",
            count: 3,
            ..
        }
    ));
    // times in ms: negative, NaN, past the last step (4 ms with dt 1), and 4.2 ms -> step 5
    for (k, bad) in [-1.0, f64::NAN, 7.0, 4.2].into_iter().enumerate() {
        let ms = [vec![(0.5, 0), (bad, 1)]];
        let err = layer.dense_ms(&ms, &device).unwrap_err();
        assert!(
            matches!(
                &err,
                SnnError::EventOutOfRange {
                    context: "SpikeInput::dense_ms",
                    index: 1,
                    what: "time_ms",
                    ..
                }
            ),
            "case {k}: {err:?}"
        );
    }
    assert!(layer.dense_ms(&[vec![(4.0, 2)]], &device).is_ok());
}

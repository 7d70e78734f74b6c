//! Spyx and mlGeNN neuron models: golden parity, GeNN-code transcriptions, training, errors.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use snn_core::encode::FewSpikeReluInputConfig;
use snn_core::neuron::{
    FewSpikeReluConfig, MlgennAlif, MlgennAlifConfig, MlgennLifConfig, Neuron, Spyx, SpyxAux,
    SpyxConfig, SpyxModel, SpyxState,
};
use snn_core::prelude::PerNeuronThreshold;
use snn_core::{Lif, LifConfig, SnnError, Surrogate};

use crate::common::{
    Golden, assert_close, assert_spikes_equal, autodiff_devices, devices, golden, uniform, values,
};

// ---------------------------------------------------------------- Spyx golden parity

/// The layer a `spyx_nn_*` golden file was made with: Spyx's LIF is a [`Lif`]
/// ([`LifConfig::spyx`]), the others a [`Spyx`] layer.
enum SpyxLayer {
    Lif(Lif),
    Other(Spyx),
}

/// The surrogate of a golden file's params, if it names one.
fn spyx_surrogate(g: &Golden) -> Option<Surrogate> {
    let params = g.json["params"].as_object().expect("params");
    params.contains_key("surrogate").then(|| {
        let k = g.param_f64("k") as f32;
        match g.param_str("surrogate") {
            "superspike" => Surrogate::SuperSpike { alpha: k },
            "arctan" => Surrogate::ArctanInvPi { k },
            other => panic!("unknown surrogate {other}"),
        }
    })
}

/// A parameter of a golden file that Spyx takes as a number or as one value per neuron (the
/// decays it draws per neuron when left out, a threshold array): the scalar, or `None` and the
/// `[n]` values. `None, None` when the file does not give it.
fn scalar_or_per_neuron(
    g: &Golden,
    key: &str,
    n: usize,
    device: &Device,
) -> (Option<f64>, Option<Tensor<1>>) {
    let params = g.json["params"].as_object().expect("params");
    if !params.contains_key(key) {
        return (None, None);
    }
    if !g.param(key).is_array() {
        return (Some(g.param_f64(key)), None);
    }
    let values = g.param_values(key);
    assert_eq!(values.len(), n, "{}: params.{key} per neuron", g.name);
    (None, Some(Tensor::from_floats(values.as_slice(), device)))
}

/// The Spyx model a `spyx_nn_*` golden file was made with: the first word of its case name
/// (`lif`, `li`, `if`, `alif`, `cubalif`); `None` for Spyx's LIF, which is a [`Lif`].
fn spyx_model(g: &Golden) -> Option<SpyxModel> {
    let case = g.name.trim_start_matches("spyx_nn_");
    match case.split('_').next().expect("a model name") {
        "lif" => None,
        "li" => Some(SpyxModel::Li),
        "if" => Some(SpyxModel::If),
        "alif" => Some(SpyxModel::Alif),
        "cubalif" => Some(SpyxModel::CubaLif),
        other => panic!("{}: unknown spyx model {other}", g.name),
    }
}

/// The layer a `spyx_nn_*` golden file was made with, from its model and params (each decay
/// and the threshold a number or one value per neuron), for `n` neurons.
fn spyx_layer(g: &Golden, n: usize, device: &Device) -> SpyxLayer {
    let param = |key: &str| scalar_or_per_neuron(g, key, n, device);
    let (threshold, thresholds) = param("threshold");
    let Some(model) = spyx_model(g) else {
        let (beta, betas) = param("beta");
        // a per-neuron beta replaces the config's one after init
        let mut config = LifConfig::spyx(n, beta.unwrap_or(0.5)).expect("valid golden beta");
        if let Some(threshold) = threshold {
            config.threshold = threshold;
        }
        if let Some(surrogate) = spyx_surrogate(g) {
            config.surrogate = surrogate;
        }
        let mut layer = config.init(device).expect("valid golden params");
        if let Some(betas) = betas {
            layer = layer.with_beta(betas).expect("per-neuron beta");
        }
        if let Some(thresholds) = thresholds {
            layer = layer
                .with_threshold(thresholds)
                .expect("per-neuron threshold");
        }
        return SpyxLayer::Lif(layer);
    };
    let mut config = SpyxConfig::new(n, model);
    // each decay: a number goes into the config, one value per neuron onto the built layer
    type Field = fn(&mut SpyxConfig) -> &mut f64;
    type Setter = fn(Spyx, Tensor<1>) -> snn_core::Result<Spyx>;
    let decays: [(&str, Field, Setter); 3] = [
        ("beta", |c| &mut c.beta, Spyx::with_beta),
        ("alpha", |c| &mut c.alpha, Spyx::with_alpha),
        ("gamma", |c| &mut c.gamma, Spyx::with_gamma),
    ];
    let mut per_neuron: Vec<(Setter, Tensor<1>)> = Vec::new();
    for (key, field, set) in decays {
        match param(key) {
            (Some(value), _) => *field(&mut config) = value,
            (None, Some(values)) => per_neuron.push((set, values)),
            (None, None) => {}
        }
    }
    if let Some(threshold) = threshold {
        config.threshold = threshold;
    }
    if let Some(surrogate) = spyx_surrogate(g) {
        config.surrogate = surrogate;
    }
    let mut layer = config.init(device).expect("valid golden params");
    for (set, values) in per_neuron {
        layer = set(layer, values).expect("per-neuron decay");
    }
    if let Some(thresholds) = thresholds {
        layer = layer
            .with_threshold(thresholds)
            .expect("per-neuron threshold");
    }
    SpyxLayer::Other(layer)
}

/// Runs the golden input (time-major `[T, B, n]`) from the file's initial state and returns
/// the output and the concatenated state after every step, both time-major, and d(Σ output)/dx
/// when `grad` is set.
fn spyx_run(g: &Golden, device: &Device, grad: bool) -> (Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
    let (shape, x) = g.array("inputs", "x");
    let [t, b, n] = [shape[0], shape[1], shape[2]];
    let mut x = Tensor::<1>::from_floats(x.as_slice(), device)
        .reshape([t, b, n])
        .swap_dims(0, 1);
    if grad {
        x = x.require_grad();
    }
    // Spyx fills its state with `initial_state`: a scalar, or a `[B, n]` membrane, or for the
    // two-part models a `[B, 2n]` concat([V, aux])
    let two_part = matches!(spyx_model(g), Some(SpyxModel::Alif | SpyxModel::CubaLif));
    let width = if two_part { 2 * n } else { n };
    let state0 = g.state_param(&["initial_state"], b, width, device);
    // the state after every step in Spyx's concatenated layout, `[T, B, n]` or `[T, B, 2n]`
    let (output, states): (Tensor<3>, Vec<Tensor<2>>) = match spyx_layer(g, n, device) {
        SpyxLayer::Lif(layer) => {
            let state = state0.map(|v| layer.state_from(v, None, None).expect("the layer's parts"));
            let out = Neuron::forward_with(&layer, x.clone(), state, true).expect("forward");
            let states = out.trace.iter().map(|s| s.v.clone()).collect();
            (out.spikes, states)
        }
        SpyxLayer::Other(layer) => {
            let model = layer.config().model;
            let state = state0.map(|s| SpyxState::from_concat(s, model).expect("Spyx layout"));
            let out = Neuron::forward_with(&layer, x.clone(), state, true).expect("forward");
            let states = out.trace.iter().map(|s| s.concat()).collect();
            (out.spikes, states)
        }
    };
    let state = values(Tensor::stack::<3>(states, 0));
    let output = output.swap_dims(0, 1);
    let gradient = grad.then(|| {
        let grads = output.clone().sum().backward();
        values(x.grad(&grads).expect("gradient reaches x").swap_dims(0, 1))
    });
    (values(output), state, gradient)
}

#[test]
fn spyx_nn_golden_parity_on_every_device() {
    let files = golden("spyx_nn_");
    for g in &files {
        let (_, want_out) = g.array("outputs", "output");
        let (_, want_state) = g.array("outputs", "state");
        let spiking = spyx_model(g) != Some(SpyxModel::Li);
        for (dev, device) in devices() {
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let (out, state, _) = spyx_run(g, &device, false);
            if spiking {
                assert_spikes_equal(&what("spikes"), &out, &want_out);
            } else {
                assert_close(&what("output"), &out, &want_out, 2e-5, 2e-5);
            }
            assert_close(&what("state"), &state, &want_state, 2e-5, 2e-5);
        }
        if !spiking {
            continue;
        }
        let (_, want_grad) = g.array("outputs", "grad_sum_output_wrt_x");
        assert!(
            want_grad.iter().any(|&v| v != 0.0),
            "{}: a trivial gradient",
            g.name
        );
        for (dev, device) in autodiff_devices() {
            let (out, _, grad) = spyx_run(g, &device, true);
            assert_spikes_equal(&format!("{} on {dev} (autodiff)", g.name), &out, &want_out);
            assert_close(
                &format!("{} on {dev}: d(sum spikes)/dx", g.name),
                &grad.unwrap(),
                &want_grad,
                2e-5,
                2e-5,
            );
        }
    }
}

#[test]
fn spyx_lif_by_hand() {
    // beta 0.5, threshold 1, input 0.8: the spike is read from the previous membrane
    let device = Device::flex();
    let layer = LifConfig::spyx(1, 0.5).unwrap().init(&device).unwrap();
    let x = Tensor::<3>::full([1, 4, 1], 0.8, &device);
    let out = Neuron::forward_with(&layer, x, None, true).unwrap();
    let v = values(out.v().unwrap());
    // V: 0.8, 1.2, 0.6 + 0.8 - 1 = 0.4, 0.2 + 0.8 = 1.0
    assert_eq!(values(out.spikes.clone()), vec![0.0, 0.0, 1.0, 0.0]);
    assert_close("V", &v, &[0.8, 1.2, 0.4, 1.0], 1e-6, 0.0);
}

// ---------------------------------------------------------------- mlGeNN transcriptions

/// mlGeNN's `LeakyIntegrateFire` / `AdaptiveLeakyIntegrateFire` GeNN code for one neuron,
/// transcribed to scalar `f32` (`beta = 0`: no adaptation).
struct Genn {
    alpha: f32,
    rho: f32,
    beta: f32,
    scale_i: bool,
    v_thresh: f32,
    v_reset: f32,
    relative_reset: bool,
    tau_refrac: Option<f32>,
    integrate_during_refrac: bool,
    dt: f32,
}

impl Genn {
    /// Spikes and `V` after every step.
    fn run(&self, isyn: &[f32]) -> (Vec<f32>, Vec<f32>) {
        let (mut v, mut a, mut refrac_time) = (0.0f32, 0.0f32, 0.0f32);
        let (mut spikes, mut vs) = (Vec::new(), Vec::new());
        for &isyn in isyn {
            let update = |v: f32| {
                if self.scale_i {
                    self.alpha * v + (1.0 - self.alpha) * isyn
                } else {
                    self.alpha * v + isyn
                }
            };
            match self.tau_refrac {
                None => {
                    v = update(v);
                    a *= self.rho;
                }
                Some(_) if self.integrate_during_refrac => {
                    v = update(v);
                    a *= self.rho;
                    if refrac_time > 0.0 {
                        refrac_time -= self.dt;
                    }
                }
                Some(_) => {
                    a *= self.rho;
                    if refrac_time > 0.0 {
                        refrac_time -= self.dt;
                    } else {
                        v = update(v);
                    }
                }
            }
            let fire = v >= self.v_thresh + self.beta * a
                && (self.tau_refrac.is_none() || refrac_time <= 0.0);
            if fire {
                if self.relative_reset {
                    v -= self.v_thresh - self.v_reset;
                } else {
                    v = self.v_reset;
                }
                a += 1.0;
                if let Some(tau) = self.tau_refrac {
                    refrac_time = tau;
                }
            }
            spikes.push(f32::from(fire));
            vs.push(v);
        }
        (spikes, vs)
    }
}

fn genn_of(c: &MlgennLifConfig, beta: f64, tau_adapt: f64) -> Genn {
    Genn {
        alpha: (-c.dt_ms / c.tau_mem_ms).exp() as f32,
        rho: (-c.dt_ms / tau_adapt).exp() as f32,
        beta: beta as f32,
        scale_i: c.scale_i,
        v_thresh: c.v_thresh as f32,
        v_reset: c.v_reset as f32,
        relative_reset: c.relative_reset,
        tau_refrac: c.tau_refrac_ms.map(|t| t as f32),
        integrate_during_refrac: c.integrate_during_refrac,
        dt: c.dt_ms as f32,
    }
}

fn lif_variants(size: usize) -> Vec<MlgennLifConfig> {
    vec![
        MlgennLifConfig::new(size),
        MlgennLifConfig::new(size)
            .with_scale_i(true)
            .with_tau_mem_ms(5.0)
            .with_v_thresh(0.35),
        MlgennLifConfig::new(size)
            .with_relative_reset(false)
            .with_v_reset(-0.2),
        MlgennLifConfig::new(size)
            .with_tau_refrac_ms(Some(3.0))
            .with_v_thresh(0.8),
        MlgennLifConfig::new(size)
            .with_tau_refrac_ms(Some(2.5))
            .with_integrate_during_refrac(false)
            .with_dt_ms(0.5),
    ]
}

/// The sequences `[steps]` for each of `size` neurons, and the batch-major tensor `[1, steps, size]`.
fn drive(size: usize, steps: usize, device: &Device) -> (Vec<Vec<f32>>, Tensor<3>) {
    let flat = uniform(size * steps, 7, -0.1, 0.7);
    let per_neuron = (0..size)
        .map(|n| (0..steps).map(|t| flat[t * size + n]).collect())
        .collect();
    let x = Tensor::<1>::from_floats(flat.as_slice(), device).reshape([1, steps, size]);
    (per_neuron, x)
}

fn per_neuron(v: &[f32], steps: usize, size: usize, n: usize) -> Vec<f32> {
    (0..steps).map(|t| v[t * size + n]).collect()
}

#[test]
fn mlgenn_lif_matches_the_genn_code() {
    let (size, steps) = (5, 60);
    for (dev, device) in devices() {
        let (isyn, x) = drive(size, steps, &device);
        for config in lif_variants(size) {
            let layer = config.init(&device).unwrap();
            let out = Neuron::forward_with(&layer, x.clone(), None, true).unwrap();
            let z = values(out.spikes.clone());
            let v = values(out.traced(|s| s.v.clone()).unwrap());
            let genn = genn_of(&config, 0.0, 1.0);
            let mut fired = 0.0;
            for (n, isyn) in isyn.iter().enumerate() {
                let (want_z, want_v) = genn.run(isyn);
                let what = format!("{dev} {config:?} neuron {n}");
                assert_spikes_equal(&what, &per_neuron(&z, steps, size, n), &want_z);
                assert_close(&what, &per_neuron(&v, steps, size, n), &want_v, 1e-5, 1e-5);
                fired += want_z.iter().sum::<f32>();
            }
            assert!(fired > 3.0, "{config:?}: too few spikes to test anything");
        }
    }
}

#[test]
fn mlgenn_alif_matches_the_genn_code() {
    let (size, steps) = (5, 80);
    for (dev, device) in devices() {
        let (isyn, x) = drive(size, steps, &device);
        let base = MlgennAlifConfig::new(size)
            .with_beta(0.3)
            .with_tau_adapt_ms(30.0);
        let configs = [
            MlgennAlifConfig::new(size), // mlGeNN's defaults
            base.clone(),
            base.clone()
                .with_tau_refrac_ms(Some(2.0))
                .with_integrate_during_refrac(false),
            base.with_relative_reset(false).with_v_reset(0.1),
        ];
        for config in configs {
            let layer: MlgennAlif = config.init(&device).unwrap();
            let out = Neuron::forward_with(&layer, x.clone(), None, true).unwrap();
            let z = values(out.spikes.clone());
            let v = values(out.traced(|s| s.v.clone()).unwrap());
            let lif = MlgennLifConfig::new(size)
                .with_tau_mem_ms(config.tau_mem_ms)
                .with_tau_refrac_ms(config.tau_refrac_ms)
                .with_integrate_during_refrac(config.integrate_during_refrac)
                .with_relative_reset(config.relative_reset)
                .with_v_reset(config.v_reset);
            let genn = genn_of(&lif, config.beta, config.tau_adapt_ms);
            for (n, isyn) in isyn.iter().enumerate() {
                let (want_z, want_v) = genn.run(isyn);
                let what = format!("{dev} {config:?} neuron {n}");
                assert_spikes_equal(&what, &per_neuron(&z, steps, size, n), &want_z);
                assert_close(&what, &per_neuron(&v, steps, size, n), &want_v, 1e-5, 1e-5);
            }
        }
    }
}

#[test]
fn mlgenn_lif_and_alif_by_hand() {
    let device = Device::flex();
    // v_thresh 1, input exactly 1 from rest: fires at the threshold (GeNN's >=), relative reset
    let lif = MlgennLifConfig::new(1).init(&device).unwrap();
    let out = Neuron::forward_with(&lif, Tensor::<3>::ones([1, 1, 1], &device), None, true);
    let out = out.unwrap();
    assert_eq!(values(out.spikes), vec![1.0]);
    assert_eq!(values(out.state.v), vec![0.0]);
    // refractory 2 ms, no integration while refractory, input 1.5 every step, α = e^(−1/20):
    // t0 v=1.5 fire → 0.5, r=2; t1 r→1 (v held), no fire; t2 r→0, v held 0.5, may fire: 0.5 < 1;
    // t3 v = 0.5α + 1.5 ≥ 1 fire
    let lif = MlgennLifConfig::new(1)
        .with_tau_refrac_ms(Some(2.0))
        .with_integrate_during_refrac(false)
        .init(&device)
        .unwrap();
    let x = Tensor::<3>::full([1, 4, 1], 1.5, &device);
    let out = Neuron::forward_with(&lif, x, None, true).unwrap();
    assert_eq!(values(out.spikes.clone()), vec![1.0, 0.0, 0.0, 1.0]);
    let a = (-1.0f32 / 20.0).exp();
    let v = values(out.traced(|s| s.v.clone()).unwrap());
    assert_close(
        "refractory V",
        &v,
        &[0.5, 0.5, 0.5, 0.5 * a + 0.5],
        1e-6,
        0.0,
    );
    // ALIF, beta 0.5, ρ = e^(−1/τ_adapt) with τ_adapt = 1/ln 2 (ρ = 0.5), input 1 then 1.2:
    // t0: v=1 ≥ 1 + 0 fire → v=0, A=1; t1: A=0.5, v=1.2 < 1.25: no spike
    let alif = MlgennAlifConfig::new(1)
        .with_beta(0.5)
        .with_tau_adapt_ms(1.0 / 2f64.ln())
        .with_tau_mem_ms(1e9)
        .init(&device)
        .unwrap();
    let x = Tensor::<3>::from_floats([[[1.0], [1.2]]], &device);
    let out = Neuron::forward_with(&alif, x, None, true).unwrap();
    assert_eq!(values(out.spikes.clone()), vec![1.0, 0.0]);
    assert_close("A", &values(out.state.a), &[0.5], 1e-6, 0.0);
}

#[test]
fn few_spike_relu_decodes_its_input_and_encodes_the_next_presentation() {
    // an FS input (k = 4, α = 8) codes 5.3 as 5 = 4 + 1: spikes 1, 0, 1, 0; a downstream FS ReLU
    // (α = 8) receives them one step late, decodes Fx = 5 and re-encodes it in the next
    // presentation: 1, 0, 1, 0 again. A negative input codes no spike.
    for (dev, device) in devices() {
        let input = FewSpikeReluInputConfig::new(2)
            .with_k(4)
            .with_alpha(8.0)
            .init()
            .unwrap();
        let z_in: Tensor<3> = input
            .forward(Tensor::<2>::from_floats([[5.3, -2.0]], &device))
            .unwrap();
        assert_eq!(values(z_in.clone()), vec![1., 0., 0., 0., 1., 0., 0., 0.]);
        // delay by one step and pad to two presentations
        let delayed = Tensor::cat(
            vec![
                Tensor::zeros([1, 1, 2], &device),
                z_in,
                Tensor::zeros([1, 3, 2], &device),
            ],
            1,
        );
        let fs = FewSpikeReluConfig::new(2)
            .with_k(4)
            .with_alpha(8.0)
            .with_source_alpha(Some(8.0))
            .init(&device)
            .unwrap();
        assert_eq!(fs.dynamics().weights, vec![0.5, 4.0, 2.0, 1.0]);
        assert_eq!(fs.dynamics().thresholds, vec![4.0, 2.0, 1.0, 0.5]);
        let out = Neuron::forward_with(&fs, delayed, None, true).unwrap();
        let z = values(out.spikes.clone());
        let want = [
            0., 0., 0., 0., 0., 0., 0., 0., 1., 0., 0., 0., 1., 0., 0., 0.,
        ];
        assert_spikes_equal(&format!("{dev}: FS ReLU spikes"), &z, &want);
        let fx = values(out.traced(|s| s.fx.clone()).unwrap());
        assert_eq!(fx[6], 5.0, "{dev}: Fx after the first presentation");
        assert_eq!(out.state.step, 8);
    }
}

#[test]
fn few_spike_relu_weights_for_a_signed_source() {
    // k = 4, α_src = 8: SrcScale = 8·2^−2 = 2; d(p) = ∓2·2^(((4 − p) mod 4)/2), − on even p
    let fs = FewSpikeReluConfig::new(1)
        .with_k(4)
        .with_source_alpha(Some(8.0))
        .with_source_signed(true)
        .init(&Device::flex())
        .unwrap();
    assert_eq!(fs.dynamics().weights, vec![-2.0, 4.0, -4.0, 2.0]);
}

// ---------------------------------------------------------------- training

#[derive(Module, Debug)]
struct SpyxNet {
    linear: Linear,
    neuron: Spyx,
}

#[derive(Module, Debug)]
struct SpyxLifNet {
    linear: Linear,
    neuron: Lif,
}

#[derive(Module, Debug)]
struct MlgennNet {
    linear: Linear,
    lif: Lif,
    alif: MlgennAlif,
}

/// Mean squared error between each neuron's spike rate and `target`.
fn rate_loss(spikes: Tensor<3>, target: f32) -> Tensor<1> {
    spikes
        .mean_dim(1)
        .sub_scalar(target)
        .powf_scalar(2.0)
        .mean()
}

fn assert_trains(name: &str, losses: &[f32], grads_finite: bool) {
    assert!(grads_finite, "{name}: a gradient is not finite");
    let (first, last) = (losses[0], *losses.last().unwrap());
    assert!(
        last < 0.7 * first,
        "{name}: the loss did not drop: {losses:?}"
    );
}

fn finite(t: Tensor<1>) -> bool {
    values(t).iter().all(|v| v.is_finite())
}

/// Spyx's LIF ([`LifConfig::spyx`], the spike of the previous membrane) trains, its `τ_mem`
/// included.
#[test]
fn spyx_lif_trains() {
    let device = Device::flex().autodiff();
    let x = Tensor::<1>::from_floats(uniform(4 * 25 * 3, 3, 0.0, 1.0).as_slice(), &device)
        .reshape([4, 25, 3]);
    let config = LifConfig::spyx(6, 0.9).unwrap().with_learn_tau(true);
    let mut net = SpyxLifNet {
        linear: LinearConfig::new(3, 6).init(&device),
        neuron: config.init(&device).unwrap(),
    };
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::new();
    let mut grads_finite = true;
    for _ in 0..20 {
        let h = net.linear.forward(x.clone());
        let z = Neuron::forward(&net.neuron, h).unwrap().spikes;
        let loss = rate_loss(z, 0.3);
        losses.push(values(loss.clone())[0]);
        let grads = loss.backward();
        let w = net.linear.weight.val().grad(&grads);
        grads_finite &= w.is_some_and(|w| values(w).iter().all(|v| v.is_finite()));
        grads_finite &= net.neuron.tau_mem_ms.val().grad(&grads).is_some_and(finite);
        let grads = GradientsParams::from_grads(grads, &net);
        net = optim.step(3e-2, net, grads);
    }
    assert_trains("LifConfig::spyx", &losses, grads_finite);
}

#[test]
fn spyx_layers_train() {
    let device = Device::flex().autodiff();
    let x = Tensor::<1>::from_floats(uniform(4 * 25 * 3, 3, 0.0, 1.0).as_slice(), &device)
        .reshape([4, 25, 3]);
    for config in [
        SpyxConfig::alif(6, 0.9, 0.8),
        SpyxConfig::cuba_lif(6, 0.7, 0.9),
        SpyxConfig::if_(6).with_surrogate(Surrogate::arctan_inv_pi()),
    ] {
        let config = config.with_learn_decay(true);
        let mut net = SpyxNet {
            linear: LinearConfig::new(3, 6).init(&device),
            neuron: config.init(&device).unwrap(),
        };
        let mut optim = AdamConfig::new().init();
        let mut losses = Vec::new();
        let mut grads_finite = true;
        for _ in 0..20 {
            let h = net.linear.forward(x.clone());
            let z = Neuron::forward(&net.neuron, h).unwrap().spikes;
            let loss = rate_loss(z, 0.3);
            losses.push(values(loss.clone())[0]);
            let grads = loss.backward();
            let w = net
                .linear
                .weight
                .val()
                .grad(&grads)
                .expect("weight gradient");
            grads_finite &= values(w).iter().all(|v| v.is_finite());
            if let Some(beta) = &net.neuron.beta {
                grads_finite &= beta.val().grad(&grads).is_some_and(finite);
            }
            let grads = GradientsParams::from_grads(grads, &net);
            net = optim.step(3e-2, net, grads);
        }
        assert_trains(&format!("{:?}", config.model), &losses, grads_finite);
    }
}

#[test]
fn mlgenn_layers_train() {
    let device = Device::flex().autodiff();
    let x = Tensor::<1>::from_floats(uniform(4 * 25 * 3, 5, 0.0, 1.0).as_slice(), &device)
        .reshape([4, 25, 3]);
    let mut net = MlgennNet {
        linear: LinearConfig::new(3, 6).init(&device),
        lif: MlgennLifConfig::new(6)
            .with_tau_refrac_ms(Some(1.5))
            .with_learn_tau(true)
            .with_learn_threshold(true)
            .init(&device)
            .unwrap(),
        alif: MlgennAlifConfig::new(6)
            .with_beta(0.2)
            .with_tau_adapt_ms(50.0)
            .with_learn_tau(true)
            .init(&device)
            .unwrap(),
    };
    let mut optim = AdamConfig::new().init();
    let mut losses = Vec::new();
    let mut grads_finite = true;
    for _ in 0..20 {
        let h = net.linear.forward(x.clone());
        let z1 = Neuron::forward(&net.lif, h.clone()).unwrap().spikes;
        let z2 = Neuron::forward(&net.alif, h).unwrap().spikes;
        let loss = rate_loss(z1, 0.3) + rate_loss(z2, 0.2);
        losses.push(values(loss.clone())[0]);
        let grads = loss.backward();
        for p in [
            net.linear.weight.val().grad(&grads),
            net.lif
                .tau_mem_ms
                .val()
                .grad(&grads)
                .map(|g| g.reshape([1, 6])),
            net.lif
                .threshold
                .val()
                .grad(&grads)
                .map(|g| g.reshape([1, 6])),
            net.alif
                .tau_adapt_ms
                .val()
                .grad(&grads)
                .map(|g| g.reshape([1, 6])),
        ] {
            let g = p.expect("every trainable parameter gets a gradient");
            grads_finite &= values(g).iter().all(|v| v.is_finite());
        }
        let grads = GradientsParams::from_grads(grads, &net);
        net = optim.step(3e-2, net, grads);
    }
    assert_trains("mlGeNN LIF + ALIF", &losses, grads_finite);
}

// ---------------------------------------------------------------- typed errors

#[test]
fn spyx_decay_outside_the_unit_interval_is_out_of_range() {
    let err = SpyxConfig::li(3, 1.5).validate().unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "beta", .. }),
        "{err}"
    );
    let err = LifConfig::spyx(3, 1.5).unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "beta", .. }),
        "{err}"
    );
    let err = SpyxConfig::alif(3, 0.9, -0.1).validate().unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "gamma", .. }),
        "{err}"
    );
    let err = SpyxConfig::cuba_lif(3, f64::NAN, 0.9)
        .validate()
        .unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "alpha", .. }),
        "{err}"
    );
    // IF has no decay: its beta is not looked at
    SpyxConfig::if_(3).with_beta(7.0).validate().unwrap();
}

/// Per-neuron decays and thresholds, and states in Spyx's layout: every misuse is a typed error.
#[test]
fn spyx_per_neuron_values_and_spyx_layout_states_are_checked() {
    let device = Device::default();
    let t = |v: &[f32]| Tensor::<1>::from_floats(v, &device);
    let alif = SpyxConfig::alif(3, 0.9, 0.8).init(&device).unwrap();
    // a decay the model does not have
    let err = alif.clone().with_alpha(t(&[0.5; 3])).unwrap_err();
    assert!(
        matches!(err, SnnError::Rejected { field: "alpha", .. }),
        "{err}"
    );
    let err = SpyxConfig::if_(3).init(&device).unwrap();
    let err = err.with_beta(t(&[0.5; 3])).unwrap_err();
    assert!(
        matches!(err, SnnError::Rejected { field: "beta", .. }),
        "{err}"
    );
    // outside [0, 1], the wrong length
    let err = alif.clone().with_gamma(t(&[0.5, 1.5, 0.5])).unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "gamma", .. }),
        "{err}"
    );
    let err = alif.clone().with_beta(t(&[0.5; 2])).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
    let err = alif
        .clone()
        .with_threshold(t(&[1.0, f32::NAN, 1.0]))
        .unwrap_err();
    assert!(matches!(err, SnnError::NotFinite { .. }), "{err}");
    // the values reach the step: neuron 1 (γ = 0) forgets its adaptation at once, neuron 2
    // (γ = 1) keeps it
    let alif = alif
        .with_gamma(t(&[0.8, 0.0, 1.0]))
        .unwrap()
        .with_threshold(t(&[1.0, 0.5, 0.25]))
        .unwrap();
    let state = SpyxState::from_concat(
        Tensor::<1>::from_floats([0.0, 0.0, 0.0, 0.5, 0.5, 0.5], &device).reshape([1, 6]),
        SpyxModel::Alif,
    )
    .unwrap();
    let (z, next) = Neuron::step(&alif, Tensor::<2>::zeros([1, 3], &device), state).unwrap();
    assert_eq!(values(z), vec![0.0, 0.0, 0.0]);
    let SpyxAux::Threshold(th) = next.aux else {
        panic!("an Alif state")
    };
    assert_close("Th", &values(th), &[0.4, 0.0, 0.5], 1e-7, 0.0);
    // Spyx's layout: two halves for the two-part models, the membrane alone for the others
    let odd = Tensor::<2>::zeros([2, 5], &device);
    let err = SpyxState::from_concat(odd.clone(), SpyxModel::CubaLif).unwrap_err();
    assert!(matches!(err, SnnError::Rejected { .. }), "{err}");
    let li = SpyxState::from_concat(odd, SpyxModel::Li).unwrap();
    assert!(matches!(li.aux, SpyxAux::None) && li.v.dims() == [2, 5]);
}

#[test]
fn spyx_bad_threshold_size_and_surrogate_are_typed() {
    let err = SpyxConfig::if_(3)
        .with_threshold(f64::INFINITY)
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotFinite {
                field: "threshold",
                ..
            }
        ),
        "{err}"
    );
    let err = SpyxConfig::if_(0).validate().unwrap_err();
    assert!(matches!(err, SnnError::ZeroSize { field: "size" }), "{err}");
    let err = SpyxConfig::if_(3)
        .with_surrogate(Surrogate::ArctanInvPi { k: 0.0 })
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotPositive {
                field: "surrogate.k",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn spyx_wrong_input_shape_is_typed() {
    let device = Device::flex();
    let layer = SpyxConfig::li(3, 0.9).init(&device).unwrap();
    let err = Neuron::forward(&layer, Tensor::<3>::zeros([1, 4, 5], &device)).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
    let layer = LifConfig::spyx(3, 0.9).unwrap().init(&device).unwrap();
    let err = Neuron::forward(&layer, Tensor::<3>::zeros([1, 4, 5], &device)).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
}

/// A state of another model's kind (an `Alif` layer needs its threshold adaptation) is a typed
/// error at the checked entry points, not a panic inside the step.
#[test]
fn spyx_state_of_another_model_is_typed() {
    let device = Device::flex();
    let alif = SpyxConfig::alif(3, 0.9, 0.8).init(&device).unwrap();
    let lif_state = SpyxState::zeros(1, 3, SpyxModel::If, &device);
    let x = Tensor::<3>::ones([1, 4, 3], &device);
    let err = Neuron::forward_with(&alif, x.clone(), Some(lif_state.clone()), false).unwrap_err();
    assert!(
        matches!(&err, SnnError::Rejected { reason, .. } if reason.contains("SpyxAux::Threshold")),
        "{err}"
    );
    let err = Neuron::step(&alif, Tensor::<2>::ones([1, 3], &device), lif_state).unwrap_err();
    assert!(matches!(err, SnnError::Rejected { .. }), "{err}");
    let cuba = SpyxConfig::cuba_lif(3, 0.5, 0.9).init(&device).unwrap();
    let threshold_state = SpyxState {
        v: Tensor::zeros([1, 3], &device),
        aux: SpyxAux::Threshold(Tensor::zeros([1, 3], &device)),
    };
    assert!(Neuron::forward_with(&cuba, x.clone(), Some(threshold_state), false).is_err());
    // the right kind runs
    let own = SpyxState::zeros(1, 3, SpyxModel::CubaLif, &device);
    assert!(Neuron::forward_with(&cuba, x, Some(own), false).is_ok());
}

#[test]
fn mlgenn_negative_time_constants_are_not_positive() {
    let err = MlgennLifConfig::new(2)
        .with_tau_mem_ms(-20.0)
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotPositive {
                field: "tau_mem_ms",
                ..
            }
        ),
        "{err}"
    );
    let err = MlgennLifConfig::new(2)
        .with_dt_ms(0.0)
        .validate()
        .unwrap_err();
    assert!(
        matches!(err, SnnError::NotPositive { field: "dt_ms", .. }),
        "{err}"
    );
    let err = MlgennAlifConfig::new(2)
        .with_tau_adapt_ms(-1.0)
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotPositive {
                field: "tau_adapt_ms",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn mlgenn_negative_refractory_period_is_out_of_range() {
    let err = MlgennLifConfig::new(2)
        .with_tau_refrac_ms(Some(-1.0))
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::OutOfRange {
                field: "tau_refrac_ms",
                ..
            }
        ),
        "{err}"
    );
    let err = MlgennAlifConfig::new(2)
        .with_tau_refrac_ms(Some(f64::NAN))
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::OutOfRange {
                field: "tau_refrac_ms",
                ..
            }
        ),
        "{err}"
    );
    // shorter than dt is valid in GeNN: counted down before the next threshold check
    MlgennLifConfig::new(2)
        .with_tau_refrac_ms(Some(0.5))
        .validate()
        .unwrap();
}

#[test]
fn mlgenn_bad_potentials_are_not_finite() {
    let err = MlgennLifConfig::new(2)
        .with_v_thresh(f64::NAN)
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotFinite {
                field: "v_thresh",
                ..
            }
        ),
        "{err}"
    );
    let err = MlgennAlifConfig::new(2)
        .with_beta(f64::INFINITY)
        .validate()
        .unwrap_err();
    assert!(
        matches!(err, SnnError::NotFinite { field: "beta", .. }),
        "{err}"
    );
}

#[test]
fn few_spike_relu_bad_k_and_alpha_are_typed() {
    let err = FewSpikeReluConfig::new(2).with_k(0).validate().unwrap_err();
    assert!(matches!(err, SnnError::ZeroSize { field: "k" }), "{err}");
    let err = FewSpikeReluConfig::new(2)
        .with_k(32)
        .validate()
        .unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "k", .. }),
        "{err}"
    );
    let err = FewSpikeReluConfig::new(2)
        .with_k(5)
        .with_source_signed(true)
        .validate()
        .unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "k", .. }),
        "{err}"
    );
    let err = FewSpikeReluConfig::new(2)
        .with_alpha(0.0)
        .validate()
        .unwrap_err();
    assert!(
        matches!(err, SnnError::NotPositive { field: "alpha", .. }),
        "{err}"
    );
    let err = FewSpikeReluConfig::new(2)
        .with_source_alpha(Some(-1.0))
        .validate()
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotPositive {
                field: "source_alpha",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn mlgenn_wrong_state_shape_is_typed() {
    let device = Device::flex();
    let layer = MlgennLifConfig::new(3)
        .with_tau_refrac_ms(Some(2.0))
        .init(&device)
        .unwrap();
    let v = Tensor::zeros([2, 3], &device);
    let err = layer
        .state_from(v, None, Some(Tensor::zeros([2, 4], &device)))
        .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
    // a state built by a layer of another size
    let wider = MlgennLifConfig::new(4)
        .with_tau_refrac_ms(Some(2.0))
        .init(&device)
        .unwrap();
    let x = Tensor::<3>::zeros([2, 5, 3], &device);
    let err = Neuron::forward_with(&layer, x, Some(wider.init_state(2)), false).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
}

/// A state without the refractory countdown would make a refractory layer silently stop being
/// one (and a countdown given to a layer without a period would be ignored): typed errors, both
/// when the state is built from parts and when one layer's state is given to another.
#[test]
fn mlgenn_state_of_the_other_refractory_kind_is_typed() {
    let device = Device::flex();
    let x = Tensor::<3>::ones([1, 4, 3], &device);
    let zeros = || Tensor::<2>::zeros([1, 3], &device);
    let refractory = MlgennLifConfig::new(3)
        .with_tau_refrac_ms(Some(2.0))
        .init(&device)
        .unwrap();
    let no_countdown = |err: &SnnError| matches!(err, SnnError::Rejected { reason, .. } if reason.contains("no countdown"));
    let err = refractory.state_from(zeros(), None, None).unwrap_err();
    assert!(no_countdown(&err), "{err}");
    let without = MlgennLifConfig::new(3).init(&device).unwrap().init_state(1);
    let err = Neuron::forward_with(&refractory, x.clone(), Some(without), false).unwrap_err();
    assert!(no_countdown(&err), "{err}");
    let plain = MlgennAlifConfig::new(3).init(&device).unwrap();
    let err = plain
        .state_from(zeros(), zeros(), Some(zeros()))
        .unwrap_err();
    assert!(matches!(err, SnnError::Rejected { .. }), "{err}");
    let with = MlgennAlifConfig::new(3)
        .with_tau_refrac_ms(Some(2.0))
        .init(&device)
        .unwrap()
        .init_state(1);
    let err = Neuron::step(&plain, Tensor::<2>::ones([1, 3], &device), with).unwrap_err();
    assert!(matches!(err, SnnError::Rejected { .. }), "{err}");
    // each layer's own state runs
    let own = refractory.init_state(1);
    assert!(Neuron::forward_with(&refractory, x, Some(own), false).is_ok());
}

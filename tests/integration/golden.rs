//! Golden parity with the peer libraries: every file in `tests/golden/` with a test's prefix is
//! run on every backend (ndarray, flex, wgpu), with all parameters read from the file.
//!
//! Tolerance (the golden README's): outputs are rounded to 6 significant digits, so values must
//! satisfy `|got − want| <= 2e-5 + 2e-5·|want|`; spikes must match exactly. Gradients get the
//! same tolerance.

use burn::prelude::*;
use snn_core::fused::Execution;
use snn_core::prelude::*;
use snn_core::{
    Iaf, IafConfig, LiConfig, Lif, LifConfig, LifState, Reset, SnnError, Surrogate, li_step,
    neuron::{IafState, LifAdEx, LifAdExConfig, LifEx, LifExConfig, RefractoryState},
};

use crate::common::{
    Golden, assert_close, assert_spikes_equal, autodiff_devices, batched_sequence, devices, golden,
    time_major, uniform, values,
};

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

/// The per-neuron values of parameter `key` as a `[n]` tensor when the file gives an array
/// (peers accept a tensor for it), `None` for a scalar, read as a scalar by the config.
pub fn per_neuron(g: &Golden, key: &str, n: usize, device: &Device) -> Option<Tensor<1>> {
    let values = g.param_values(key);
    match values.len() {
        1 => None,
        len if len == n => Some(Tensor::from_floats(values.as_slice(), device)),
        len => panic!("{}: params.{key} has {len} values for {n} neurons", g.name),
    }
}

/// `layer` with the file's per-neuron values of `key` passed to `set`, where the file gives one
/// value per neuron for it ([`per_neuron`]); values the layer refuses fail the test.
pub fn with_per_neuron<L>(
    g: &Golden,
    key: &str,
    n: usize,
    device: &Device,
    layer: L,
    set: impl FnOnce(L, Tensor<1>) -> Result<L, SnnError>,
) -> L {
    match per_neuron(g, key, n, device) {
        Some(values) => {
            set(layer, values).unwrap_or_else(|err| panic!("{}: per-neuron {key}: {err}", g.name))
        }
        None => layer,
    }
}

/// The first value of a scalar-or-array parameter: what the config holds before the layer
/// gets the per-neuron values ([`per_neuron`]).
pub fn first(g: &Golden, key: &str) -> f64 {
    f64::from(g.param_values(key)[0])
}

/// A Norse refractory LIF file's initial state (`params.initial_state` `v`, `i` and the
/// running counter `rho`) for `b` rows of `n` neurons of `lif`.
pub fn norse_refractory_state(
    g: &Golden,
    lif: &Lif,
    b: usize,
    n: usize,
    device: &Device,
) -> RefractoryState<LifState> {
    let v = g.initial_state("v", b, n, device);
    let i = g.initial_state("i", b, n, device);
    RefractoryState {
        neuron: lif.state_from(v, Some(i), None).expect("the layer's parts"),
        rho: g.initial_state("rho", b, n, device),
    }
}

/// `layer` with the file's per-neuron `rho_reset` (Norse's tensor `rho_reset`, in steps), where
/// it gives one value per neuron.
pub fn norse_rho_reset<L: PerNeuronRefractory>(
    g: &Golden,
    layer: L,
    n: usize,
    device: &Device,
) -> L {
    with_per_neuron(g, "rho_reset", n, device, layer, L::with_norse_rho_reset)
}

/// A golden LIF file's initial state for `b` rows of `n` neurons (`params.initial_state` `v`
/// and `i`, or snnTorch's `params.initial_mem`; each a number, `[n]` or `[b, n]`), `None` at
/// rest; the current where `lif` has one.
pub fn lif_initial_state(
    g: &Golden,
    lif: &Lif,
    b: usize,
    n: usize,
    device: &Device,
) -> Option<LifState> {
    let initial = |key: &str| g.state_param(&["initial_state", key], b, n, device);
    let v0 = initial("v").or_else(|| g.state_param(&["initial_mem"], b, n, device));
    v0.map(|v| {
        let with_current = lif.tau_syn_ms.is_some();
        let i = with_current.then(|| initial("i").unwrap_or_else(|| Tensor::zeros([b, n], device)));
        lif.state_from(v, i, None).expect("the layer's parts")
    })
}

/// Runs a LIF layer over a golden input from the file's initial state (`params.initial_state`
/// `v` and `i`, or `params.initial_mem`; rest when absent) and checks spikes, traces and
/// `d(Σz)/d(input)`.
pub fn check_lif<N: Neuron<State = LifState>>(
    g: &Golden,
    layer: &N,
    lif: &Lif,
    keys: LifKeys,
    device: &Device,
    dev: &str,
) {
    let (x, [_, b, n]) = batched_sequence(g, keys.input, device);
    let x = x.require_grad();
    let state = lif_initial_state(g, lif, b, n, device);
    let out = layer.forward_with(x.clone(), state, true).expect("forward");
    let what = |k: &str| format!("{} on {dev}: {k}", g.name);
    let want = |k: &str| g.array("outputs", k).1;
    assert_spikes_equal(
        &what(keys.spikes),
        &time_major(out.spikes.clone()),
        &want(keys.spikes),
    );
    let v = time_major(out.v().unwrap());
    assert_close(&what(keys.v), &v, &want(keys.v), ATOL, RTOL);
    if let Some(i_key) = keys.i {
        let i = time_major(out.i().unwrap());
        assert_close(&what(i_key), &i, &want(i_key), ATOL, RTOL);
    }
    if let Some(grad_key) = keys.grad {
        let grads = out.spikes.sum().backward();
        let grad = time_major(x.grad(&grads).expect("input gradient"));
        assert_close(&what(grad_key), &grad, &want(grad_key), ATOL, RTOL);
    }
}

#[derive(Clone, Copy)]
pub struct LifKeys {
    input: &'static str,
    spikes: &'static str,
    v: &'static str,
    i: Option<&'static str>,
    grad: Option<&'static str>,
}

pub const NORSE_KEYS: LifKeys = LifKeys {
    input: "input_current",
    spikes: "z",
    v: "v",
    i: Some("i"),
    grad: Some("grad_sum_z_wrt_input"),
};

/// Norse's `LIFParameters` of a golden file: inverse time constants in 1/s, `dt` in s; the first
/// value of a per-neuron parameter (see [`norse_lif`] for the layer with all of them).
pub fn norse_lif_config(g: &Golden, n: usize, with_current: bool) -> LifConfig {
    let tau_syn_inv = with_current.then(|| first(g, "tau_syn_inv"));
    LifConfig::from_norse(n, first(g, "tau_mem_inv"), tau_syn_inv, g.param_f64("dt"))
        .expect("norse parameters")
        .with_threshold(first(g, "v_th"))
        .with_v_leak(first(g, "v_leak"))
        .with_v_reset(first(g, "v_reset"))
        .with_surrogate(norse_surrogate(g))
}

/// The layer of `config` (from [`norse_lif_config`]) with the file's per-neuron values (see
/// [`norse_per_neuron`]).
pub fn norse_lif(g: &Golden, config: &LifConfig, device: &Device) -> Lif {
    let n = config.size;
    let layer = norse_potentials(g, config.init(device).expect("valid config"), n, device);
    norse_per_neuron(g, layer, n, config.tau_syn_ms.is_some(), device)
}

/// `layer` with the file's per-neuron `v_leak` and `v_reset`, where it gives them (Norse takes
/// a tensor for each; a model without a leak or a reset has no such key: Norse's IAF and LI).
pub fn norse_potentials<L: PerNeuronPotentials>(
    g: &Golden,
    mut layer: L,
    n: usize,
    device: &Device,
) -> L {
    let given = |key: &str| {
        g.json["params"]
            .get(key)
            .and_then(|_| per_neuron(g, key, n, device))
    };
    if let Some(v_leak) = given("v_leak") {
        layer = layer.with_v_leak(v_leak).expect("per-neuron v_leak");
    }
    if let Some(v_reset) = given("v_reset") {
        layer = layer.with_v_reset(v_reset).expect("per-neuron v_reset");
    }
    layer
}

/// `layer` with the file's per-neuron values of `tau_mem_inv`, (`with_current`) `tau_syn_inv` and
/// `v_th`, where it gives an array for them (Norse takes a tensor for each).
pub fn norse_per_neuron<L: LeakyTimeConstants + PerNeuronThreshold>(
    g: &Golden,
    layer: L,
    n: usize,
    with_current: bool,
    device: &Device,
) -> L {
    let layer = norse_time_constants(g, layer, n, with_current, device);
    with_per_neuron(g, "v_th", n, device, layer, L::with_threshold)
}

/// `layer` with the file's per-neuron `tau_mem_inv` and (`with_current`) `tau_syn_inv`, where it
/// gives one value per neuron for either (Norse takes a tensor for each).
fn norse_time_constants<L: LeakyTimeConstants>(
    g: &Golden,
    layer: L,
    n: usize,
    with_current: bool,
    device: &Device,
) -> L {
    let tau_mem_inv = per_neuron(g, "tau_mem_inv", n, device);
    let tau_syn_inv = with_current
        .then(|| per_neuron(g, "tau_syn_inv", n, device))
        .flatten();
    if tau_mem_inv.is_none() && tau_syn_inv.is_none() {
        return layer;
    }
    let tau_mem_inv =
        tau_mem_inv.unwrap_or_else(|| Tensor::full([n], g.param_f64("tau_mem_inv"), device));
    layer
        .with_norse_time_constants(tau_mem_inv, tau_syn_inv)
        .expect("per-neuron time constants")
}

/// Norse's `LIFExParameters` of a golden file as a layer, every parameter a scalar or one
/// value per neuron; `with_current` false for Norse's `lif_ex_current_encoder`, which has no
/// synaptic current.
pub fn norse_lif_ex(g: &Golden, n: usize, with_current: bool, device: &Device) -> LifEx {
    let config = LifExConfig::from_norse(
        n,
        first(g, "tau_mem_inv"),
        with_current.then(|| first(g, "tau_syn_inv")),
        g.param_f64("dt"),
    )
    .expect("norse parameters")
    .with_delta_t(first(g, "delta_T"))
    .with_threshold(first(g, "v_th"))
    .with_v_leak(first(g, "v_leak"))
    .with_v_reset(first(g, "v_reset"))
    .with_surrogate(norse_surrogate(g));
    let layer = norse_potentials(g, config.init(device).expect("valid config"), n, device);
    let layer = norse_per_neuron(g, layer, n, with_current, device);
    with_per_neuron(g, "delta_T", n, device, layer, LifEx::with_delta_t)
}

/// Norse's `LIFAdExParameters` of a golden file as a layer, every parameter a scalar or one
/// value per neuron (`tau_ada_inv` in 1/s as `τ_ada` in ms).
pub fn norse_lif_adex(g: &Golden, n: usize, device: &Device) -> LifAdEx {
    let config = LifAdExConfig::from_norse(
        n,
        first(g, "tau_mem_inv"),
        first(g, "tau_syn_inv"),
        first(g, "tau_ada_inv"),
        g.param_f64("dt"),
    )
    .expect("norse parameters")
    .with_adaptation_current(first(g, "adaptation_current"))
    .with_adaptation_spike(first(g, "adaptation_spike"))
    .with_delta_t(first(g, "delta_T"))
    .with_threshold(first(g, "v_th"))
    .with_v_leak(first(g, "v_leak"))
    .with_v_reset(first(g, "v_reset"))
    .with_surrogate(norse_surrogate(g));
    let layer = norse_potentials(g, config.init(device).expect("valid config"), n, device);
    let layer = norse_per_neuron(g, layer, n, true, device);
    let layer = with_per_neuron(g, "tau_ada_inv", n, device, layer, |layer, inv| {
        layer.with_tau_ada_ms(inv.recip().mul_scalar(1e3))
    });
    let layer = with_per_neuron(g, "adaptation_current", n, device, layer, |layer, a| {
        layer.with_adaptation_current(a)
    });
    let layer = with_per_neuron(g, "adaptation_spike", n, device, layer, |layer, b| {
        layer.with_adaptation_spike(b)
    });
    with_per_neuron(g, "delta_T", n, device, layer, LifAdEx::with_delta_t)
}

/// Norse's `method="super"`, with its 1.1.0 backward `1/(1+|x|)²` (alpha not used).
fn norse_surrogate(g: &Golden) -> Surrogate {
    assert_eq!(g.param_str("method"), "super", "{}", g.name);
    Surrogate::SuperSpike { alpha: 1.0 }
}

/// The neurons of a golden LIF file: the last axis of its input.
pub fn neurons(g: &Golden, key: &str) -> usize {
    *g.array("inputs", key).0.last().expect("an input array")
}

#[test]
fn norse_lif_feed_forward_step() {
    for g in golden("norse_lif_feed_forward_step") {
        let config = norse_lif_config(&g, neurons(&g, "input_current"), true);
        for (dev, device) in autodiff_devices() {
            let lif = norse_lif(&g, &config, &device);
            check_lif(&g, &lif, &lif, NORSE_KEYS, &device, dev);
        }
    }
}

#[test]
fn norse_lif_box_feed_forward_step() {
    for g in golden("norse_lif_box_feed_forward_step") {
        let n = neurons(&g, "input_current");
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
            let lif = norse_lif(&g, &config, &device);
            check_lif(&g, &lif, &lif, keys, &device, dev);
        }
    }
}

#[test]
fn snntorch_leaky() {
    for g in golden("snntorch_leaky") {
        let n = neurons(&g, "input_current");
        assert_eq!(g.param("reset_delay").as_bool(), Some(true), "{}", g.name);
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
        let config = LifConfig::from_beta(n, first(&g, "beta"))
            .expect("beta")
            .with_threshold(first(&g, "threshold"))
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
            // snnTorch takes a tensor beta and threshold: one value per neuron
            let lif = config.init(&device).expect("valid config");
            let lif = with_per_neuron(&g, "beta", n, &device, lif, Lif::with_beta);
            let lif = with_per_neuron(&g, "threshold", n, &device, lif, Lif::with_threshold);
            check_lif(&g, &lif, &lif, keys, &device, dev);
        }
    }
}

#[test]
fn norse_iaf_feed_forward_step() {
    for g in golden("norse_iaf_feed_forward_step") {
        assert_eq!(g.param_str("method"), "super", "{}", g.name);
        for (dev, device) in devices() {
            let (x, [_, b, n]) = batched_sequence(&g, "input_current", &device);
            let iaf: Iaf = IafConfig::new(n)
                .with_threshold(first(&g, "v_th"))
                .with_v_reset(first(&g, "v_reset"))
                .init(&device)
                .expect("valid config");
            // Norse takes a tensor v_th and v_reset: one value per neuron
            let iaf = norse_potentials(&g, iaf, n, &device);
            let iaf = with_per_neuron(&g, "v_th", n, &device, iaf, Iaf::with_threshold);
            let v = g.initial_state("v", b, n, &device);
            let out = iaf
                .forward_with(x, Some(IafState { v }), true)
                .expect("forward");
            let what = |k: &str| format!("{} on {dev}: {k}", g.name);
            let want = |k: &str| g.array("outputs", k).1;
            assert_spikes_equal(&what("z"), &time_major(out.spikes.clone()), &want("z"));
            let v = time_major(out.v().unwrap());
            assert_close(&what("v"), &v, &want("v"), ATOL, RTOL);
        }
    }
}

/// Norse's LI over the input `x` (`[batch, time, n]`) of a golden file: every parameter (scalar
/// or one per neuron) and the initial state from the file; the pure step loop against the file,
/// and the module's multi-step forward against the step loop.
fn check_li(g: &Golden, x: Tensor<3>, with_current: bool, device: &Device, dev: &str) {
    let [b, t, n] = x.dims();
    let tau_syn_inv = with_current.then(|| first(g, "tau_syn_inv"));
    let config = LiConfig::from_norse(n, first(g, "tau_mem_inv"), tau_syn_inv, g.param_f64("dt"))
        .expect("norse parameters")
        .with_v_leak(first(g, "v_leak"));
    let li = config.init(device).expect("valid config");
    let li = norse_potentials(g, li, n, device);
    let li = norse_time_constants(g, li, n, with_current, device);
    let initial = |key: &str| g.state_param(&["initial_state", key], b, n, device);
    let resting = li.init_state(b);
    let state = li
        .state_from(
            initial("v").unwrap_or(resting.v),
            with_current.then(|| initial("i").unwrap_or_else(|| Tensor::zeros([b, n], device))),
        )
        .expect("the layer's parts");
    let dynamics = li.dynamics();
    let mut step_state = state.clone();
    let (mut vs, mut is) = (Vec::new(), Vec::new());
    for x_t in x.clone().iter_dim(1) {
        let (v, next) = li_step(x_t.reshape([b, n]), step_state, &dynamics);
        vs.push(v);
        is.extend(next.i().cloned());
        step_state = next;
    }
    // [B, N] per step -> the file's time-major [T, B, N]
    let time_major_steps = |steps: Vec<Tensor<2>>| values(Tensor::stack::<3>(steps, 0));
    let (vs, is) = (time_major_steps(vs), is);
    let what = |k: &str| format!("{} on {dev}: {k}", g.name);
    assert_close(&what("v"), &vs, &g.array("outputs", "v").1, ATOL, RTOL);
    if with_current {
        let is = time_major_steps(is);
        assert_close(&what("i"), &is, &g.array("outputs", "i").1, ATOL, RTOL);
    }
    // the module's multi-step forward gives the same trace as the pure step loop (to 1e-6:
    // wgpu's fusion compiles the two graphs into different kernels, with different roundings)
    let out = li.forward_with(x, Some(state), false).expect("forward");
    let trace = time_major(out.v());
    assert_eq!(trace.len(), t * b * n);
    assert_close(&what("forward v"), &trace, &vs, 1e-7, 1e-6);
}

#[test]
fn norse_li_feed_forward_step() {
    for g in golden("norse_li_feed_forward_step") {
        for (dev, device) in autodiff_devices() {
            let (x, _) = batched_sequence(&g, "input_current", &device);
            check_li(&g, x, true, &device, dev);
        }
    }
}

#[test]
fn norse_li_box_feed_forward_step() {
    for g in golden("norse_li_box_feed_forward_step") {
        for (dev, device) in autodiff_devices() {
            let (x, _) = batched_sequence(&g, "input_current", &device);
            check_li(&g, x, false, &device, dev);
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
            check_li(&g, x, true, &device, dev);
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

/// Runs a SpikingJelly node over its time-major `[T, B, N]` input from the file's `initial_v`
/// (a scalar or a `[B, N]` membrane) and checks spikes, membrane and `d(Σ spikes)/dx` (all
/// time-major in the file).
fn check_sj_node(
    g: &Golden,
    device: &Device,
    dev: &str,
    run: impl Fn(Tensor<3>, Tensor<2>) -> (Tensor<3>, Tensor<3>),
) {
    let (x, [_, b, n]) = batched_sequence(g, "x_seq", device);
    let x = x.require_grad();
    let v0 = g
        .state_param(&["initial_v"], b, n, device)
        .expect("initial_v");
    let (spikes, v) = run(x.clone(), v0);
    let what = |k: &str| format!("{} on {dev}: {k}", g.name);
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
    let grad = time_major(x.grad(&grads).expect("input gradient"));
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
        let n = neurons(&g, "x_seq");
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
            check_sj_node(&g, &device, dev, |x, v| {
                let state = lif.state_from(v, None, None).expect("the layer's parts");
                let out = lif.forward_with(x, Some(state), true).unwrap();
                (out.spikes.clone(), out.v().unwrap())
            });
        }
    }
}

#[test]
fn spikingjelly_if_node() {
    for g in golden("sj_ifnode") {
        let n = neurons(&g, "x_seq");
        let config = IafConfig::from_spikingjelly(
            n,
            g.param_f64("v_threshold"),
            g.param("v_reset").as_f64(),
        )
        .with_detach_reset(g.param("detach_reset").as_bool().unwrap())
        .with_surrogate(sj_surrogate(&g));
        for (dev, device) in autodiff_devices() {
            let iaf = config.init(&device).unwrap();
            check_sj_node(&g, &device, dev, |x, v| {
                let out = iaf.forward_with(x, Some(IafState { v }), true).unwrap();
                (out.spikes.clone(), out.v().unwrap())
            });
        }
    }
}

/// Per-neuron resting and reset potentials: checked, read per neuron by the fused op, and equal
/// to the scalar config, bit for bit on both paths, when every neuron has the same value.
#[test]
fn per_neuron_potentials_are_checked_and_fused() {
    let device = Device::ndarray();
    let t = |v: &[f32]| Tensor::<1>::from_floats(v, &device);
    let config = LifConfig::new(3).with_v_leak(0.2).with_v_reset(-0.1);
    let lif = config.init(&device).unwrap();
    let err = lif.clone().with_v_leak(t(&[0.1, 0.2])).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err}");
    let err = lif
        .clone()
        .with_v_reset(t(&[0.0, f32::NAN, 0.0]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotFinite {
                field: "v_reset",
                ..
            }
        ),
        "{err}"
    );
    assert!(lif.fused_path(&device) && lif.v_leak_per_neuron().is_none());
    let same = lif
        .clone()
        .with_v_leak(t(&[0.2; 3]))
        .unwrap()
        .with_v_reset(t(&[-0.1; 3]))
        .unwrap();
    assert!(same.fused_path(&device));
    assert_eq!(values(same.v_reset_per_neuron().unwrap()), vec![-0.1; 3]);
    // the reference step of equal per-neuron values is the scalar config's, bit for bit
    let x = Tensor::<1>::from_floats(uniform(2 * 30 * 3, 4, 0.0, 0.9).as_slice(), &device)
        .reshape([2, 30, 3]);
    let reference = config
        .clone()
        .with_execution(Execution::Reference)
        .init(&device)
        .unwrap();
    let want = reference.forward_with(x.clone(), None, true).unwrap();
    let got = same.forward_with(x.clone(), None, true).unwrap();
    assert_eq!(values(got.spikes.clone()), values(want.spikes.clone()));
    assert!(values(want.spikes.clone()).contains(&1.0));
    assert_eq!(values(got.v().unwrap()), values(want.v().unwrap()));
    // the fused op with the rows of equal values is the fused op of the scalar config
    let scalar = config.init(&device).unwrap();
    let fused = |lif: &Lif| {
        let out = lif.forward(x.clone()).unwrap();
        (values(out.spikes), values(out.state.v))
    };
    assert_eq!(fused(&same), fused(&scalar));
}

/// A layer without a leak (`Iaf`) or a reset (`Li`) has no slot for it; `Li` with per-neuron
/// `v_leak` keeps the fused op, which reads it per neuron.
#[test]
fn potentials_a_layer_lacks_are_rejected() {
    let device = Device::ndarray();
    let t = |v: &[f32]| Tensor::<1>::from_floats(v, &device);
    let iaf = IafConfig::new(2).init(&device).unwrap();
    let err = iaf.with_v_leak(t(&[0.0, 0.1])).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::Rejected {
                field: "v_leak",
                ..
            }
        ),
        "{err}"
    );
    let li = LiConfig::new(2).init(&device).unwrap();
    assert!(li.fused_path(&device));
    let err = li.clone().with_v_reset(t(&[0.0, 0.1])).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::Rejected {
                field: "v_reset",
                ..
            }
        ),
        "{err}"
    );
    let li = li.with_v_leak(t(&[0.0, 0.1])).unwrap();
    assert!(li.fused_path(&device));
    assert_eq!(values(li.v_leak_per_neuron().unwrap()), vec![0.0, 0.1]);
}

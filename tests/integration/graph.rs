//! spikelearn's SpikingNet: graph construction errors, synapse rules by hand.
//!
//! Expected values are worked by hand from spikelearn's equations (`neurons.py` `LIFLayer`,
//! `rules.py` `STDPRule`/`ModSTDPRule`/`MSERule`, `trace.py`), never taken from our output.

use snn_core::SnnError;
use snn_graph::{
    MseParams, NetSynapse, SpikingLayer, SpikingLayerConfig, SpikingNet, StdpParams, SynType,
    Synapse, TraceParams, WeightLimits,
};

fn close(what: &str, got: f32, want: f64) {
    assert!(
        (f64::from(got) - want).abs() <= 1e-6 + 1e-6 * want.abs(),
        "{what}: got {got}, want {want}"
    );
}

fn layer(size: usize, tau: f64) -> snn_graph::SpikingLayer {
    SpikingLayerConfig::new(size, tau).init().unwrap()
}

/// tre = tro = (0.5, 0.5), Ap = An = 0.1, Wlim 1.
fn stdp_params() -> StdpParams {
    StdpParams::new(
        0.1,
        0.1,
        TraceParams::new(0.5, 0.5),
        TraceParams::new(0.5, 0.5),
    )
}

/// One synapse step: forward with `pre` (and `modulator`), then the learning update with `post`.
fn drive(syn: &mut Synapse, pre: f32, modulator: Option<f32>, post: f32) {
    let pre = [pre];
    let m = [modulator.unwrap_or(0.0)];
    if modulator.is_some() {
        syn.step(&[&pre, &m]);
    } else {
        syn.step(&[&pre]);
    }
    syn.update(&[post], true);
}

// ---------------------------------------------------------------- construction errors

fn two_layer_net() -> SpikingNet {
    let mut net = SpikingNet::new();
    net.add_input("in", 3).unwrap();
    net.add_layer("hidden", layer(2, 4.0)).unwrap();
    net
}

#[test]
fn unknown_names_are_errors() {
    let mut net = two_layer_net();
    let syn = || Synapse::dense(3, 2, vec![0.1; 6], SynType::Exc).unwrap();
    let err = net.add_synapse("nope", syn(), &["in"]).unwrap_err();
    assert!(
        matches!(err, SnnError::UnknownName { ref name, .. } if name == "nope"),
        "{err:?}"
    );
    let err = net.add_synapse("hidden", syn(), &["missing"]).unwrap_err();
    assert!(
        matches!(err, SnnError::UnknownName { ref name, .. } if name == "missing"),
        "{err:?}"
    );
    let err = net.add_output("ghost").unwrap_err();
    assert!(matches!(err, SnnError::UnknownName { .. }), "{err:?}");
    // A synapse must end on a layer, not an input.
    let to_input = Synapse::dense(3, 3, vec![0.1; 9], SynType::Exc).unwrap();
    let err = net.add_synapse("in", to_input, &["in"]).unwrap_err();
    assert!(
        matches!(err, SnnError::Rejected { field: "post", .. }),
        "{err:?}"
    );
}

#[test]
fn duplicate_names_are_errors() {
    let mut net = two_layer_net();
    for err in [
        net.add_input("in", 3).unwrap_err(),
        net.add_input("hidden", 2).unwrap_err(),
        net.add_layer("hidden", layer(2, 4.0)).unwrap_err(),
        net.add_layer("in", layer(3, 4.0)).unwrap_err(),
    ] {
        assert!(
            matches!(err, SnnError::Rejected { field: "name", .. }),
            "{err:?}"
        );
    }
}

#[test]
fn wrong_source_counts_are_errors() {
    let mut net = two_layer_net();
    net.add_input("target", 2).unwrap();
    let dense = Synapse::dense(3, 2, vec![0.1; 6], SynType::Exc).unwrap();
    let err = net
        .add_synapse("hidden", dense, &["in", "target"])
        .unwrap_err();
    assert!(
        matches!(err, SnnError::Invalid { field: "pre", value, .. } if value == 2.0),
        "{err:?}"
    );
    let stdp = Synapse::stdp(3, 2, vec![0.1; 6], stdp_params(), SynType::Exc).unwrap();
    let err = net.add_synapse("hidden", stdp, &[]).unwrap_err();
    assert!(
        matches!(err, SnnError::Invalid { field: "pre", .. }),
        "{err:?}"
    );
    let mse = Synapse::mse(
        3,
        2,
        vec![0.1; 6],
        MseParams::new(
            0.1,
            TraceParams::new(1.0, 0.0),
            TraceParams::new(1.0, 0.0),
            TraceParams::new(1.0, 0.0),
        ),
        SynType::Hybrid,
    )
    .unwrap();
    let err = net.add_synapse("hidden", mse.clone(), &["in"]).unwrap_err();
    assert!(
        matches!(err, SnnError::Invalid { field: "pre", value, .. } if value == 1.0),
        "{err:?}"
    );
    // The right count is accepted.
    net.add_synapse("hidden", mse, &["in", "target"]).unwrap();
}

#[test]
fn size_mismatches_are_errors() {
    let mut net = two_layer_net();
    net.add_input("target", 3).unwrap();
    // presynaptic size 4 != input size 3
    let syn = Synapse::dense(4, 2, vec![0.1; 8], SynType::Exc).unwrap();
    let err = net.add_synapse("hidden", syn, &["in"]).unwrap_err();
    assert!(
        matches!(err, SnnError::ShapeMismatch { ref actual, .. } if actual == &vec![3]),
        "{err:?}"
    );
    // postsynaptic size 3 != layer size 2
    let syn = Synapse::dense(3, 3, vec![0.1; 9], SynType::Exc).unwrap();
    let err = net.add_synapse("hidden", syn, &["in"]).unwrap_err();
    assert!(
        matches!(err, SnnError::ShapeMismatch { ref actual, .. } if actual == &vec![2]),
        "{err:?}"
    );
    // MSE target (modulator) must have the postsynaptic size 2, `target` has 3.
    let p = MseParams::new(
        0.1,
        TraceParams::new(1.0, 0.0),
        TraceParams::new(1.0, 0.0),
        TraceParams::new(1.0, 0.0),
    );
    let syn = Synapse::mse(3, 2, vec![0.1; 6], p, SynType::Hybrid).unwrap();
    let err = net
        .add_synapse("hidden", syn, &["in", "target"])
        .unwrap_err();
    assert!(
        matches!(err, SnnError::ShapeMismatch { ref actual, .. } if actual == &vec![3]),
        "{err:?}"
    );
    // Weight vectors of the wrong length are caught by the synapse constructors.
    let err = Synapse::dense(3, 2, vec![0.1; 5], SynType::Exc).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err:?}");
    let err = Synapse::one_to_one(3, vec![0.1; 2], SynType::Exc).unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err:?}");
    let err = SpikingLayerConfig::new(2, 4.0)
        .init_recurrent(vec![0.0; 3])
        .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err:?}");
    let err = Synapse::ternary(
        3,
        2,
        2,
        vec![0.1; 6],
        stdp_params(),
        TraceParams::new(1.0, 0.0),
        SynType::Exc,
    )
    .unwrap_err();
    assert!(matches!(err, SnnError::ShapeMismatch { .. }), "{err:?}");
}

#[test]
fn bad_layer_parameters_are_errors() {
    let err = SpikingLayerConfig::new(2, 0.0).init().unwrap_err();
    assert!(
        matches!(err, SnnError::NotPositive { field: "tau", .. }),
        "{err:?}"
    );
    let err = SpikingLayerConfig::new(0, 2.0).init().unwrap_err();
    assert!(
        matches!(err, SnnError::ZeroSize { field: "size" }),
        "{err:?}"
    );
    let err = SpikingLayerConfig {
        v0: f64::NAN,
        ..SpikingLayerConfig::new(2, 2.0)
    }
    .init()
    .unwrap_err();
    assert!(
        matches!(err, SnnError::NotFinite { field: "v0", .. }),
        "{err:?}"
    );
}

#[test]
fn wrong_inputs_at_step_are_errors() {
    let mut net = two_layer_net();
    net.add_synapse(
        "hidden",
        Synapse::dense(3, 2, vec![0.1; 6], SynType::Exc).unwrap(),
        &["in"],
    )
    .unwrap();
    let err = net.step(&[("in", &[1.0, 0.0])]).unwrap_err();
    assert!(
        matches!(err, SnnError::ShapeMismatch { ref actual, .. } if actual == &vec![2]),
        "{err:?}"
    );
    let err = net
        .step(&[("in", &[1.0; 3]), ("other", &[1.0])])
        .unwrap_err();
    assert!(
        matches!(err, SnnError::UnknownName { ref name, .. } if name == "other"),
        "{err:?}"
    );
    let err = net.step(&[]).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::Rejected {
                field: "inputs",
                ..
            }
        ),
        "{err:?}"
    );
    let err = net
        .step(&[("in", &[1.0; 3]), ("in", &[1.0; 3])])
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::Rejected {
                field: "inputs",
                ..
            }
        ),
        "{err:?}"
    );
    // A bad step advances nothing.
    assert_eq!(
        net.layer::<SpikingLayer>("hidden").unwrap().v(),
        &[0.0, 0.0]
    );
    net.step(&[("in", &[1.0; 3])]).unwrap();
}

/// A user's synapse that breaks its contract: it says `post_size` 2 but returns 3 values.
#[derive(Debug)]
struct WrongLength;

impl NetSynapse for WrongLength {
    fn source_sizes(&self) -> Vec<usize> {
        vec![3]
    }
    fn post_size(&self) -> usize {
        2
    }
    fn step(&mut self, _sources: &[&[f32]]) -> Vec<f32> {
        vec![5.0; 3]
    }
    fn reset(&mut self) {}
}

#[test]
fn a_synapse_output_of_the_wrong_length_is_an_error_before_any_layer_moves() {
    let mut net = two_layer_net();
    net.add_synapse(
        "hidden",
        Synapse::dense(3, 2, vec![0.5; 6], SynType::Exc).unwrap(),
        &["in"],
    )
    .unwrap();
    net.add_synapse("hidden", WrongLength, &["in"]).unwrap();
    let err = net.step(&[("in", &[1.0; 3])]).unwrap_err();
    assert!(
        matches!(err, SnnError::ShapeMismatch { ref actual, ref expected, .. }
            if actual == &vec![3] && expected.contains("synapse 1 of layer `hidden`")),
        "{err:?}"
    );
    assert_eq!(
        net.layer::<SpikingLayer>("hidden").unwrap().v(),
        &[0.0, 0.0]
    );
}

// ---------------------------------------------------------------- synapse rules by hand

#[test]
fn stdp_pre_then_post_potentiates() {
    let mut syn = Synapse::stdp(1, 1, vec![0.5], stdp_params(), SynType::Exc).unwrap();
    // k=0: pre spike. te = 0.5, to = 0; dW = 0.1*0*te - 0.1*0*1 = 0.
    drive(&mut syn, 1.0, None, 0.0);
    close("w after pre", syn.weights()[0], 0.5);
    // k=1: post spike. te = 0.5*0.5 = 0.25, to = 0.5; dW = 0.1*1*0.25 - 0.1*0.5*0 = 0.025.
    drive(&mut syn, 0.0, None, 1.0);
    close("te", syn.pre_trace().unwrap()[0], 0.25);
    close("to", syn.post_trace().unwrap()[0], 0.5);
    close("w after post", syn.weights()[0], 0.525);
}

#[test]
fn stdp_post_then_pre_depresses() {
    let mut syn = Synapse::stdp(1, 1, vec![0.5], stdp_params(), SynType::Exc).unwrap();
    // k=0: post spike. te = 0, to = 0.5; dW = 0.1*1*0 - 0.1*0.5*0 = 0.
    drive(&mut syn, 0.0, None, 1.0);
    close("w after post", syn.weights()[0], 0.5);
    // k=1: pre spike. te = 0.5, to = 0.25; dW = 0 - 0.1*0.25*1 = -0.025.
    drive(&mut syn, 1.0, None, 0.0);
    close("w after pre", syn.weights()[0], 0.475);
}

#[test]
fn stdp_learn_off_moves_traces_not_weights() {
    let mut syn = Synapse::stdp(1, 1, vec![0.5], stdp_params(), SynType::Exc).unwrap();
    syn.step(&[&[1.0]]);
    syn.update(&[1.0], false);
    close("w", syn.weights()[0], 0.5);
    close("te", syn.pre_trace().unwrap()[0], 0.5);
    close("to", syn.post_trace().unwrap()[0], 0.5);
}

#[test]
fn weights_stay_within_wlim() {
    // Ap = 1 with te = 1 every step: +1 per step without the clamp.
    let mut p = StdpParams::new(
        1.0,
        0.0,
        TraceParams::new(1.0, 0.0),
        TraceParams::new(1.0, 0.0),
    );
    p.limits = WeightLimits::symmetric(0.75);
    let mut syn = Synapse::stdp(1, 2, vec![0.5, -0.5], p, SynType::Hybrid).unwrap();
    for _ in 0..3 {
        syn.step(&[&[1.0]]);
        syn.update(&[1.0, 0.0], true);
    }
    close("potentiated weight clamped to Wlim", syn.weights()[0], 0.75);
    close("untouched weight", syn.weights()[1], -0.5);
    // An = 1: -1 per step, clamped at -Wlim.
    let mut p = StdpParams::new(
        0.0,
        1.0,
        TraceParams::new(1.0, 0.0),
        TraceParams::new(1.0, 0.0),
    );
    p.limits = WeightLimits::symmetric(0.75);
    let mut syn = Synapse::stdp(1, 1, vec![0.5], p, SynType::Hybrid).unwrap();
    for _ in 0..3 {
        syn.step(&[&[1.0]]);
        syn.update(&[1.0], true);
    }
    close("depressed weight clamped to -Wlim", syn.weights()[0], -0.75);
    // Non-negative limits stop at 0.
    p.limits = WeightLimits::nonnegative(0.75);
    let mut syn = Synapse::stdp(1, 1, vec![0.5], p, SynType::Exc).unwrap();
    for _ in 0..3 {
        syn.step(&[&[1.0]]);
        syn.update(&[1.0], true);
    }
    close("depressed weight clamped to 0", syn.weights()[0], 0.0);
}

#[test]
fn traces_saturate_at_their_limit() {
    // t0 = 1, t1 = 1: the trace counts spikes, clamped at tracelim = 2.5: 1, 2, 2.5, 2.5, 2.5.
    let mut p = StdpParams::new(
        0.0,
        0.0,
        TraceParams::new(1.0, 1.0),
        TraceParams::new(1.0, 1.0),
    );
    p.trace_limit = 2.5;
    let mut syn = Synapse::stdp(1, 1, vec![0.0], p, SynType::Exc).unwrap();
    for want in [1.0, 2.0, 2.5, 2.5, 2.5] {
        drive(&mut syn, 1.0, None, 1.0);
        close("pre trace", syn.pre_trace().unwrap()[0], want);
        close("post trace", syn.post_trace().unwrap()[0], want);
    }
    // Decay after saturation starts from the limit: 0 + 1 * 2.5 then decays with t1 = 1 (stays).
    syn.reset();
    assert_eq!(syn.pre_trace().unwrap(), &[0.0]);
}

#[test]
fn modulated_stdp_needs_its_modulator() {
    let trm = TraceParams::new(1.0, 0.0); // tm = x_m of this step
    let mut syn = Synapse::ternary(1, 1, 1, vec![0.5], stdp_params(), trm, SynType::Exc).unwrap();
    // Pre then post (would give +0.025 in plain STDP) and post then pre, modulator silent.
    drive(&mut syn, 1.0, Some(0.0), 0.0);
    drive(&mut syn, 0.0, Some(0.0), 1.0);
    drive(&mut syn, 0.0, Some(0.0), 0.0);
    drive(&mut syn, 0.0, Some(0.0), 0.0);
    drive(&mut syn, 0.0, Some(0.0), 1.0);
    drive(&mut syn, 1.0, Some(0.0), 0.0);
    close("w without modulator", syn.weights()[0], 0.5);
    // Same pre-then-post pair with the modulator on (tm = 1 at the post step): the plain STDP
    // change +0.025 (traces reset first).
    syn.reset();
    drive(&mut syn, 1.0, Some(0.0), 0.0);
    drive(&mut syn, 0.0, Some(1.0), 1.0);
    close("w with modulator", syn.weights()[0], 0.525);
    // Modulator of 0.5 halves it: 0.525 + 0.5 * 0.025.
    syn.reset();
    drive(&mut syn, 1.0, Some(0.0), 0.0);
    drive(&mut syn, 0.0, Some(0.5), 1.0);
    close("w with half modulator", syn.weights()[0], 0.5375);
}

#[test]
fn mse_rule_moves_output_towards_target() {
    // dW = lr * (x_m - to) * te with te = x_e, to = x_o (t0 = 1, t1 = 0), lr = 0.25.
    let tr = TraceParams::new(1.0, 0.0);
    let params = MseParams::new(0.25, tr, tr, tr);
    let mut syn = Synapse::mse(2, 1, vec![0.0, 0.0], params, SynType::Hybrid).unwrap();
    // Target 1, output 0, pre [1, 0]: only the active input's weight grows by 0.25.
    syn.step(&[&[1.0, 0.0], &[1.0]]);
    syn.update(&[0.0], true);
    close("w0 up", syn.weights()[0], 0.25);
    close("w1 (silent pre)", syn.weights()[1], 0.0);
    // Target 0, output 1: it shrinks by 0.25.
    syn.step(&[&[1.0, 0.0], &[0.0]]);
    syn.update(&[1.0], true);
    close("w0 down", syn.weights()[0], 0.0);
    // Target reached (1, 1): no change.
    syn.step(&[&[1.0, 1.0], &[1.0]]);
    syn.update(&[1.0], true);
    close("w0 at target", syn.weights()[0], 0.0);
    close("w1 at target", syn.weights()[1], 0.0);

    // In a network: a silent neuron taught to fire with target 1. tau = 1, a = e^-1,
    // b = 1 - e^-1 = 0.632; input 1 every step and refractory reset => it fires once
    // b * w >= v0 - a v. With w += 0.25 per silent step it fires within a few steps and the
    // weight stops growing while the output matches the target.
    let mut net = SpikingNet::new();
    net.add_input("x", 1).unwrap();
    net.add_input("target", 1).unwrap();
    net.add_layer("out", layer(1, 1.0)).unwrap();
    let mut p = MseParams::new(0.25, tr, tr, tr);
    p.limits = WeightLimits::symmetric(4.0);
    net.add_synapse(
        "out",
        Synapse::mse(1, 1, vec![0.0], p, SynType::Hybrid).unwrap(),
        &["x", "target"],
    )
    .unwrap();
    net.add_output("out").unwrap();
    let mut fired = false;
    for _ in 0..20 {
        let out = net.step(&[("x", &[1.0]), ("target", &[1.0])]).unwrap();
        fired |= out[0][0] == 1.0;
    }
    assert!(fired, "the MSE rule never brought the output to its target");
    assert!(net.synapse::<Synapse>("out", 0).unwrap().weights()[0] > 0.0);
}

// ---------------------------------------------------------------- network by hand

/// input (2) -> static identity-like synapse diag(3, 2) -> recurrent LIF layer (tau = 2,
/// v0 = 1, refractory) with cross-inhibition w_rec = [[0, -1], [-1, 0]], and the layer onto a
/// second one-neuron layer `relay` (tau = 2, weight 3 from neuron 0) to see the one-step delay.
fn cross_inhibition_net() -> SpikingNet {
    let mut net = SpikingNet::new();
    net.add_input("in", 2).unwrap();
    let rec = SpikingLayerConfig::new(2, 2.0)
        .init_recurrent(vec![0.0, -1.0, -1.0, 0.0])
        .unwrap();
    net.add_layer("wta", rec).unwrap();
    net.add_layer("relay", layer(1, 2.0)).unwrap();
    net.add_synapse(
        "wta",
        Synapse::dense(2, 2, vec![3.0, 0.0, 0.0, 2.0], SynType::Exc).unwrap(),
        &["in"],
    )
    .unwrap();
    net.add_synapse(
        "relay",
        Synapse::dense(2, 1, vec![3.0, 0.0], SynType::Exc).unwrap(),
        &["wta"],
    )
    .unwrap();
    net.add_output("wta").unwrap();
    net.add_output("relay").unwrap();
    net
}

#[test]
fn small_network_steps_as_computed_by_hand() {
    let a = (-0.5f64).exp();
    let b = 1.0 - a;
    let mut net = cross_inhibition_net();
    let x: &[f32] = &[1.0, 1.0];
    // k=0: no spikes yet. v = b * [3, 2] = [1.180, 0.787]: neuron 0 fires.
    // relay sees the wta spikes of k=-1 (none): v = 0.
    let out = net.step(&[("in", x)]).unwrap();
    let v_wta0 = [b * 3.0, b * 2.0];
    assert_eq!(out, vec![vec![1.0, 0.0], vec![0.0]]);
    close(
        "k0 v0",
        net.layer::<SpikingLayer>("wta").unwrap().v()[0],
        v_wta0[0],
    );
    close(
        "k0 v1",
        net.layer::<SpikingLayer>("wta").unwrap().v()[1],
        v_wta0[1],
    );
    close(
        "k0 relay",
        net.layer::<SpikingLayer>("relay").unwrap().v()[0],
        0.0,
    );
    // k=1: neuron 0 refractory => v0 = 0; neuron 1 gets 2 - 1 (inhibited by neuron 0):
    // v1 = a * 0.787 + b * 1 = 0.871 < 1. relay gets 3 * s_wta0(k=0) = 3: v = b * 3 = 1.18 fires.
    let out = net.step(&[("in", x)]).unwrap();
    let v1 = a * v_wta0[1] + b * 1.0;
    assert_eq!(out, vec![vec![0.0, 0.0], vec![1.0]]);
    close(
        "k1 v0",
        net.layer::<SpikingLayer>("wta").unwrap().v()[0],
        0.0,
    );
    close(
        "k1 v1",
        net.layer::<SpikingLayer>("wta").unwrap().v()[1],
        v1,
    );
    close(
        "k1 relay",
        net.layer::<SpikingLayer>("relay").unwrap().v()[0],
        b * 3.0,
    );
    // k=2: no inhibition; v0 = b * 3 = 1.180, v1 = a * 0.871 + b * 2 = 1.315: both fire.
    // relay refractory: v = 0.
    let out = net.step(&[("in", x)]).unwrap();
    assert_eq!(out, vec![vec![1.0, 1.0], vec![0.0]]);
    close(
        "k2 v0",
        net.layer::<SpikingLayer>("wta").unwrap().v()[0],
        b * 3.0,
    );
    close(
        "k2 v1",
        net.layer::<SpikingLayer>("wta").unwrap().v()[1],
        a * v1 + b * 2.0,
    );
    close(
        "k2 relay",
        net.layer::<SpikingLayer>("relay").unwrap().v()[0],
        0.0,
    );
    // k=3: both refractory => v = 0, no spikes; relay gets 3 from k=2: fires again.
    let out = net.step(&[("in", x)]).unwrap();
    assert_eq!(out, vec![vec![0.0, 0.0], vec![1.0]]);
    assert_eq!(net.layer::<SpikingLayer>("wta").unwrap().v(), &[0.0, 0.0]);
}

#[test]
fn non_refractory_layer_keeps_integrating_input() {
    // refr = False: v = (1 - s) a v + b x. tau = 1, x = 2 every step, v0 = 1.
    let a = (-1.0f64).exp();
    let b = 1.0 - a;
    let cfg = SpikingLayerConfig {
        refractory: false,
        ..SpikingLayerConfig::new(1, 1.0)
    };
    let mut net = SpikingNet::new();
    net.add_input("in", 1).unwrap();
    net.add_layer("l", cfg.init().unwrap()).unwrap();
    net.add_synapse(
        "l",
        Synapse::one_to_one(1, vec![2.0], SynType::Exc).unwrap(),
        &["in"],
    )
    .unwrap();
    // k=0: v = 2b = 1.264: spike. k=1: v = 0 * a v + 2b = 1.264 again (refractory would give 0).
    for _ in 0..2 {
        net.step(&[("in", &[1.0])]).unwrap();
        close("v", net.layer::<SpikingLayer>("l").unwrap().v()[0], 2.0 * b);
        assert_eq!(net.layer::<SpikingLayer>("l").unwrap().spikes(), &[1.0]);
    }
    // Inhibitory sign: -w x. k=2: v = 0 + b * (-2) < 0.
    let mut net2 = SpikingNet::new();
    net2.add_input("in", 1).unwrap();
    net2.add_layer("l", cfg.init().unwrap()).unwrap();
    net2.add_synapse(
        "l",
        Synapse::one_to_one(1, vec![2.0], SynType::Inh).unwrap(),
        &["in"],
    )
    .unwrap();
    net2.step(&[("in", &[1.0])]).unwrap();
    close(
        "inhibited v",
        net2.layer::<SpikingLayer>("l").unwrap().v()[0],
        -2.0 * b,
    );
    let _ = a;
}

#[test]
fn reset_returns_to_rest_and_keeps_weights() {
    let mut net = cross_inhibition_net();
    net.add_input("pre", 1).unwrap();
    net.add_layer("learner", layer(1, 2.0)).unwrap();
    let mut p = stdp_params();
    p.limits = WeightLimits::symmetric(5.0);
    // w = 3: the learner fires on its first step, is refractory on the second (depression).
    net.add_synapse(
        "learner",
        Synapse::stdp(1, 1, vec![3.0], p, SynType::Exc).unwrap(),
        &["pre"],
    )
    .unwrap();
    let run = |net: &mut SpikingNet| -> Vec<Vec<Vec<f32>>> {
        (0..4)
            .map(|_| net.step(&[("in", &[1.0, 1.0]), ("pre", &[1.0])]).unwrap())
            .collect()
    };
    let first = run(&mut net);
    let w_learnt = net.synapse::<Synapse>("learner", 0).unwrap().weights()[0];
    assert_ne!(w_learnt, 3.0, "the STDP synapse should have learnt");
    net.reset();
    for name in ["wta", "relay", "learner"] {
        let l = net.layer::<SpikingLayer>(name).unwrap();
        assert!(l.v().iter().all(|v| *v == 0.0), "{name} v after reset");
        assert!(
            l.spikes().iter().all(|s| *s == 0.0),
            "{name} spikes after reset"
        );
    }
    let syn = net.synapse::<Synapse>("learner", 0).unwrap();
    assert_eq!(syn.pre_trace().unwrap(), &[0.0]);
    assert_eq!(syn.post_trace().unwrap(), &[0.0]);
    close(
        "weights survive reset",
        syn.weights()[0],
        f64::from(w_learnt),
    );
    // Same spikes as from a fresh network for the static part.
    let again = run(&mut net);
    assert_eq!(first, again);
}

#[test]
fn layers_and_synapses_come_back_by_type_and_transforms_are_checked() {
    let mut net = SpikingNet::new();
    net.add_input("x", 2).unwrap();
    net.add_layer("l", layer(1, 2.0)).unwrap();
    let syn = Synapse::dense(2, 1, vec![0.5, 0.5], SynType::Exc).unwrap();
    net.add_synapse("l", syn, &["x"]).unwrap();
    assert!(net.synapse::<Synapse>("l", 0).is_ok());
    assert!(matches!(
        net.synapse::<Synapse>("l", 1),
        Err(SnnError::Rejected { .. })
    ));
    assert!(matches!(
        net.layer::<snn_graph::BioLifLayer>("l"),
        Err(SnnError::Rejected { .. })
    ));
    assert!(matches!(
        net.layer::<SpikingLayer>("x"),
        Err(SnnError::Rejected { .. })
    ));
    // a transform must fit the input it transforms, and only a modulated kind has a modulator
    let wrong = snn_graph::Transform::pass_through(3, false);
    let dense = || Synapse::dense(2, 1, vec![0.5, 0.5], SynType::Exc).unwrap();
    assert!(matches!(
        dense().with_transform(wrong.clone()),
        Err(SnnError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        dense().with_mod_transform(wrong),
        Err(SnnError::Rejected { .. })
    ));
}

//! NIR interchange: reading the reference fixtures (written by Python's `nir` 1.0.8), simulating
//! them against the peers' golden runs, write → read round trips, export of trained burn-snn
//! models → import → same outputs, typed errors for bad files, and a fuzzed reader.
//!
//! Fixtures: `tests/nir/` (see its README; copied from the project's shared NIR fixtures).

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use serde_json::Value;
use snn_core::encode::SpikeRng;
use snn_core::neuron::{Neuron, PerNeuronPotentials, PerNeuronThreshold, RecurrentConfig};
use snn_core::{Discretization, IafConfig, LiConfig, LifConfig};
use snn_nir::{
    Array, FloatType, NirError, NirGraph, NirNode, Padding, ToNir, import, read, read_bytes,
    read_unchecked, sequential, write_bytes, write_bytes_unchecked,
};
use snn_train::SnnClassifierConfig;

use crate::common::{assert_close, assert_spikes_equal, devices, uniform, values};

const FIXTURES: [&str; 7] = [
    "affine_lif",
    "affine_cubalif_li",
    "linear_if",
    "recurrent_cubalif",
    "recurrent_cubalif_flat",
    "conv_lif",
    "scale_threshold_delay",
];

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/nir")
}

fn fixture(name: &str) -> NirGraph {
    read(dir().join(format!("{name}.nir"))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn expected(name: &str) -> Value {
    let path = dir().join(format!("{name}.expected.json"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Nested JSON arrays flattened row-major.
fn flat(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(items) => items.iter().flat_map(flat).collect(),
        Value::Number(n) => vec![n.as_f64().unwrap()],
        other => panic!("not a number: {other}"),
    }
}

fn usizes(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&x| x as i64).collect()
}

/// A node's integer fields, as `nir` names them.
fn int_fields(node: &NirNode) -> Vec<(&'static str, Vec<i64>)> {
    match node {
        NirNode::Input { shape } | NirNode::Output { shape } => vec![("shape", usizes(shape))],
        NirNode::Flatten {
            start_dim,
            end_dim,
            input_type,
        } => {
            let mut f = vec![("start_dim", vec![*start_dim]), ("end_dim", vec![*end_dim])];
            if let Some(t) = input_type {
                f.push(("input_type", usizes(t)));
            }
            f
        }
        NirNode::Conv1d(c) | NirNode::Conv2d(c) => {
            let mut f = vec![
                ("stride", usizes(&c.stride)),
                ("dilation", usizes(&c.dilation)),
                ("groups", vec![c.groups as i64]),
            ];
            if let Padding::Explicit(p) = &c.padding {
                f.push(("padding", usizes(p)));
            }
            if let Some(s) = &c.input_shape {
                f.push(("input_shape", usizes(s)));
            }
            f
        }
        NirNode::SumPool2d(p) | NirNode::AvgPool2d(p) => vec![
            ("kernel_size", usizes(&p.kernel_size)),
            ("stride", usizes(&p.stride)),
            ("padding", usizes(&p.padding)),
        ],
        _ => vec![],
    }
}

/// Every node, type, field shape, dtype and value of `graph` against the JSON's `graph`.
fn compare_graph(what: &str, graph: &NirGraph, json: &Value) {
    let nodes = json["nodes"].as_object().unwrap();
    let names: Vec<&String> = nodes.keys().collect();
    assert_eq!(graph.nodes.keys().collect::<Vec<_>>(), {
        let mut n = names.clone();
        n.sort();
        n
    });
    let edges: Vec<(String, String)> = json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[0].as_str().unwrap().into(), e[1].as_str().unwrap().into()))
        .collect();
    assert_eq!(graph.edges, edges, "{what}: edges");
    for (name, j) in nodes {
        let node = &graph.nodes[name];
        let at = format!("{what}/{name}");
        assert_eq!(node.type_name(), j["type"].as_str().unwrap(), "{at}: type");
        if let NirNode::Graph(inner) = node {
            compare_graph(&at, inner, j);
            continue;
        }
        let mut seen = vec![];
        for (field, a) in node.arrays() {
            let f = &j[field];
            let shape: Vec<usize> = flat(&f["shape"]).iter().map(|&d| d as usize).collect();
            assert_eq!(a.shape, shape, "{at}.{field}: shape");
            let dtype = match a.dtype {
                FloatType::F32 => "float32",
                FloatType::F64 => "float64",
            };
            assert_eq!(f["dtype"], dtype, "{at}.{field}: dtype");
            let want = flat(&f["value"]);
            let got: Vec<f64> = match a.dtype {
                // the JSON has f32 values in their shortest form: compare as f32
                FloatType::F32 => a.data.iter().map(|&x| f64::from(x as f32)).collect(),
                FloatType::F64 => a.data.clone(),
            };
            let want: Vec<f64> = match a.dtype {
                FloatType::F32 => want.iter().map(|&x| f64::from(x as f32)).collect(),
                FloatType::F64 => want,
            };
            assert_eq!(got, want, "{at}.{field}: values");
            seen.push(field);
        }
        for (field, v) in int_fields(node) {
            let f = &j[field];
            let want = match f {
                Value::Object(o) => flat(&o["value"]),
                other => flat(other),
            };
            let want: Vec<i64> = want.into_iter().map(|x| x as i64).collect();
            assert_eq!(v, want, "{at}.{field}");
            seen.push(field);
        }
        let mut fields: Vec<&str> = j
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .filter(|k| *k != "type")
            .collect();
        fields.sort();
        seen.sort();
        assert_eq!(seen, fields, "{at}: every field read");
    }
}

#[test]
fn fixtures_read_as_written_by_python_nir() {
    for name in FIXTURES {
        let graph = fixture(name);
        compare_graph(name, &graph, &expected(name)["graph"]);
    }
    // the optional root metadata group of affine_lif
    let meta = fixture("affine_lif").metadata;
    assert_eq!(
        meta["dt"],
        snn_nir::MetaValue::Float(Array::f64(vec![], vec![1e-4]))
    );
    assert_eq!(
        meta["source"],
        snn_nir::MetaValue::Str("burn-snn make_fixtures.py".into())
    );
}

/// The input of a fixture as `[1, T, numel]` and its golden output `[T * numel_out]`.
fn golden_io(json: &Value) -> (usize, Vec<f32>, Vec<f32>, f64) {
    let t = json["T"].as_u64().unwrap() as usize;
    let input: Vec<f32> = flat(&json["input"]["data"])
        .iter()
        .map(|&x| x as f32)
        .collect();
    let run = &json["runs"][json["golden_run"].as_str().unwrap()];
    let output: Vec<f32> = flat(&run["output"]).iter().map(|&x| x as f32).collect();
    (t, input, output, run["dt"].as_f64().unwrap())
}

/// Whether the root Output is fed by a non-spiking node (LI, CubaLI): a float trace.
fn float_output(graph: &NirGraph) -> bool {
    graph.edges.iter().any(|(from, to)| {
        matches!(graph.nodes[to], NirNode::Output { .. })
            && matches!(
                graph.nodes[from],
                NirNode::Li { .. } | NirNode::CubaLi { .. }
            )
    })
}

#[test]
fn fixtures_simulate_as_the_golden_peer_runs() {
    for name in FIXTURES {
        let json = expected(name);
        let graph = fixture(name);
        let (t, input, want, dt) = golden_io(&json);
        let golden = json["golden_run"].as_str().unwrap();
        for (device_name, device) in devices() {
            let net = import(&graph, dt, &device).unwrap_or_else(|e| panic!("{name}: {e}"));
            let n_in: usize = net.input_shape().iter().product();
            let x = Tensor::<1>::from_floats(input.as_slice(), &device).reshape([1, t, n_in]);
            let got = values(net.forward(x).unwrap());
            let what = format!("{name} vs {golden} (dt {dt}) on {device_name}");
            if float_output(&graph) {
                // the peers run in f32 (README: within 1e-5 relative)
                assert_close(&what, &got, &want, 1e-6, 1e-5);
            } else {
                assert!(want.contains(&1.0), "{what}: the golden run spikes");
                assert_spikes_equal(&what, &got, &want);
            }
        }
    }
}

/// The norse runs' recorded traces of inner nodes, the CubaLIF current and membrane included.
#[test]
fn recorded_node_traces_match() {
    let cases = [
        ("affine_cubalif_li", "cuba", "cuba"),
        ("recurrent_cubalif", "rsyn/lif", "rsyn/lif"),
        ("recurrent_cubalif_flat", "rsyn_lif", "rsyn.lif"),
        ("conv_lif", "lif", "lif"),
    ];
    let device = Device::flex();
    for (name, trace_name, node) in cases {
        let json = expected(name);
        let (t, input, _, dt) = golden_io(&json);
        let run = &json["runs"][json["golden_run"].as_str().unwrap()];
        let traces = &run["node_traces"][trace_name];
        assert!(traces.is_object(), "{name}: no traces of {trace_name}");
        let net = import(&fixture(name), dt, &device).unwrap();
        let n_in: usize = net.input_shape().iter().product();
        let x = Tensor::<1>::from_floats(input.as_slice(), &device).reshape([1, t, n_in]);
        let spikes = values(net.forward_nodes(x, &[node]).unwrap().remove(0));
        if let Some(z) = traces.get("z_or_out") {
            let want: Vec<f32> = flat(&z["data"]).iter().map(|&v| v as f32).collect();
            assert_spikes_equal(&format!("{name}: {node} spikes"), &spikes, &want);
        }
    }
}

#[test]
fn nested_and_flat_recurrent_files_agree() {
    let device = Device::ndarray();
    let json = expected("recurrent_cubalif");
    let (t, input, _, dt) = golden_io(&json);
    let mut outs = vec![];
    for name in ["recurrent_cubalif", "recurrent_cubalif_flat"] {
        let net = import(&fixture(name), dt, &device).unwrap();
        assert_eq!(net.recurrent_edges().len(), 1, "{name}: one back edge");
        let x = Tensor::<1>::from_floats(input.as_slice(), &device).reshape([1, t, 3]);
        outs.push(values(net.forward(x).unwrap()));
    }
    assert_spikes_equal("nested vs flat", &outs[0], &outs[1]);
    // the back edge matters: without w_rec the output changes
    let mut graph = fixture("recurrent_cubalif");
    if let Some(NirNode::Graph(rsyn)) = graph.nodes.get_mut("rsyn") {
        rsyn.edges.retain(|(a, _)| a != "w_rec");
    }
    let net = import(&graph, dt, &device).unwrap();
    let x = Tensor::<1>::from_floats(input.as_slice(), &device).reshape([1, t, 3]);
    assert_ne!(values(net.forward(x).unwrap()), outs[0]);
}

#[test]
fn write_then_read_gives_the_same_graph() {
    for name in FIXTURES {
        let graph = fixture(name);
        let bytes = write_bytes(&graph).unwrap();
        let back = read_bytes(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back, graph, "{name}: round trip");
    }
}

/// Python's `nir.read` loads what we write (skipped without Python's `nir` unless
/// `SNN_REQUIRE_PYTHON_NIR=1`).
fn python_nir(script: &str, args: &[&std::path::Path]) -> Option<String> {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import nir"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var("SNN_REQUIRE_PYTHON_NIR").as_deref() != Ok("1"),
            "SNN_REQUIRE_PYTHON_NIR=1 but `python3 -c 'import nir'` fails"
        );
        eprintln!("skipping the Python nir check: `import nir` fails (pip install nir==1.0.8)");
        return None;
    }
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python nir failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("burn-snn-nir-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn files_we_write_load_in_python_nir() {
    let tmp = temp_dir("py");
    let mut paths = vec![];
    for name in FIXTURES {
        let p = tmp.join(format!("{name}.nir"));
        std::fs::write(&p, write_bytes(&fixture(name)).unwrap()).unwrap();
        paths.push(p);
    }
    let model = trained_classifier().valid();
    let p = tmp.join("classifier.nir");
    snn_nir::write(&p, &model.to_nir(None).unwrap()).unwrap();
    paths.push(p);
    // every file loads; the classifier's nodes, shapes and metadata as nir sees them
    let script = r#"
import sys, nir, numpy as np
*ours, model = sys.argv[1:]
for p in ours:
    nir.read(p)
g = nir.read(model)
print(sorted((k, type(v).__name__, [int(d) for d in np.shape(getattr(v, 'weight', getattr(v, 'v_leak', np.zeros(0))))]) for k, v in g.nodes.items()))
print(float(g.metadata['dt']))
dt = float(g.metadata['dt'])
# snnTorch 1.0's importer accepts a CubaLIF only with r = tau_mem/dt (at its dt = 1e-4 s)
print(all(np.allclose(g.nodes[n].r, g.nodes[n].tau_mem / dt) for n in ('lif', 'readout')))
print(sorted(k for k in g.metadata))
"#;
    let Some(out) = python_nir(
        script,
        &paths.iter().map(PathBuf::as_path).collect::<Vec<_>>(),
    ) else {
        return;
    };
    let want = "[('fc1', 'Affine', [12, 6]), ('fc2', 'Affine', [3, 12]), ('input', 'Input', [0]), \
                ('lif', 'CubaLIF', [12]), ('output', 'Output', [0]), ('readout', 'CubaLI', [3])]";
    assert_eq!(out.lines().next().unwrap(), want, "{out}");
    assert_eq!(out.lines().nth(1).unwrap(), "0.001");
    assert_eq!(out.lines().nth(2).unwrap(), "True", "{out}");
    assert_eq!(
        out.lines().nth(3).unwrap(),
        "['class_scores', 'discretization', 'dt', 'source', 'update_order']",
        "{out}"
    );
    // our rewrite of every fixture equals the original in nir's own terms
    let compare = r#"
import sys, nir, numpy as np
def eq(a, b):
    if isinstance(a, dict): assert set(a) == set(b), (set(a), set(b)); [eq(a[k], b[k]) for k in a]
    elif isinstance(a, (list, tuple)): assert len(a) == len(b); [eq(x, y) for x, y in zip(a, b)]
    elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert np.asarray(a).dtype == np.asarray(b).dtype and np.array_equal(a, b), (a, b)
    else: assert a == b, (a, b)
n = len(sys.argv) // 2
for orig, ours in zip(sys.argv[1:n + 1], sys.argv[n + 1:]):
    eq(nir.read(orig).to_dict(), nir.read(ours).to_dict())
print("equal", n)
"#;
    let originals: Vec<PathBuf> = FIXTURES
        .iter()
        .map(|n| dir().join(format!("{n}.nir")))
        .collect();
    let mut args: Vec<&std::path::Path> = originals.iter().map(PathBuf::as_path).collect();
    args.extend(paths[..FIXTURES.len()].iter().map(PathBuf::as_path));
    let out = python_nir(compare, &args).unwrap();
    assert_eq!(out.trim(), format!("equal {}", FIXTURES.len()));
    let _ = std::fs::remove_dir_all(&tmp);
}

/// A classifier (Norse LIF with current, LI readout with current) after a few Adam steps.
fn trained_classifier() -> snn_train::SnnClassifier {
    let device = Device::flex().autodiff();
    let config = SnnClassifierConfig::new(6, 3).with_hidden(12);
    let mut model = config.init_seeded(&device, 3).unwrap();
    let mut optim = AdamConfig::new().init();
    let x = Tensor::<1>::from_floats(uniform(4 * 20 * 6, 11, 0.0, 3.0).as_slice(), &device)
        .reshape([4, 20, 6]);
    let y = Tensor::<1, Int>::from_ints([0, 1, 2, 1], &device);
    let mut losses = vec![];
    for _ in 0..5 {
        let out = model.forward(x.clone()).unwrap();
        let loss = config.loss.loss(out.readout, y.clone()).unwrap();
        losses.push(values(loss.clone())[0]);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(2e-2, model, grads);
    }
    assert!(
        losses[4] < losses[0],
        "training lowers the loss: {losses:?}"
    );
    model
}

#[test]
fn exported_trained_classifier_imports_to_the_same_outputs() {
    let model = trained_classifier().valid();
    let graph = model.to_nir(None).unwrap();
    let graph = read_bytes(write_bytes(&graph).unwrap()).unwrap();
    for (name, device) in devices() {
        let model = model.clone().to_device(&device);
        let x = Tensor::<1>::from_floats(uniform(2 * 30 * 6, 5, 0.0, 3.0).as_slice(), &device)
            .reshape([2, 30, 6]);
        let want = model.forward(x.clone()).unwrap();
        let net = import(&graph, model.lif.config().dt_ms * 1e-3, &device).unwrap();
        let got = net.forward_nodes(x, &["lif", "output"]).unwrap();
        let spikes = values(want.spikes);
        assert!(spikes.contains(&1.0), "the hidden layer spikes");
        assert_spikes_equal(
            &format!("{name}: hidden spikes"),
            &values(got[0].clone()),
            &spikes,
        );
        assert_close(
            &format!("{name}: readout"),
            &values(got[1].clone()),
            &values(want.readout),
            1e-5,
            1e-4,
        );
    }
}

/// Each exportable layer alone (every discretization, recurrent LIF, IF) → NIR → import gives
/// the layer's own output.
#[test]
fn exported_layers_import_to_the_same_outputs() {
    let device = Device::ndarray();
    let (t, n) = (40, 5);
    let x = Tensor::<1>::from_floats(uniform(2 * t * n, 9, -0.5, 2.5).as_slice(), &device)
        .reshape([2, t, n]);
    let check = |what: &str, node: NirNode, dt_ms: f64, want: Tensor<3>, spiking: bool| {
        let graph = sequential(vec![n], vec![("layer".into(), node)], dt_ms).unwrap();
        let graph = read_bytes(write_bytes(&graph).unwrap()).unwrap();
        let got = values(
            import(&graph, dt_ms * 1e-3, &device)
                .unwrap()
                .forward(x.clone())
                .unwrap(),
        );
        let want = values(want);
        if spiking {
            assert!(want.contains(&1.0), "{what}: spikes");
            assert_spikes_equal(what, &got, &want);
        } else {
            assert_close(what, &got, &want, 1e-5, 1e-4);
        }
    };
    for d in [
        Discretization::ForwardEuler,
        Discretization::ForwardEulerUnscaledInput,
        Discretization::ExactDecay,
        Discretization::ExactDecayScaledInput,
    ] {
        for tau_syn in [None, Some(4.0)] {
            let lif = LifConfig::new(n)
                .with_dt_ms(0.5)
                .with_tau_mem_ms(8.0)
                .with_tau_syn_ms(tau_syn)
                .with_v_leak(0.1)
                .with_v_reset(-0.2)
                .with_threshold(match d {
                    Discretization::ForwardEuler | Discretization::ExactDecayScaledInput => 0.6,
                    _ => 1.5,
                })
                .with_discretization(d)
                .init(&device)
                .unwrap();
            let want = lif.forward(x.clone()).unwrap().spikes;
            check(
                &format!("LIF {d:?} tau_syn {tau_syn:?}"),
                lif.to_nir(0.5).unwrap(),
                0.5,
                want,
                true,
            );
            // one resting and reset potential per neuron: exported as arrays, same spikes
            let potentials = |lo: f32, step: f32| {
                let v: Vec<f32> = (0..n).map(|k| lo + step * k as f32).collect();
                Tensor::<1>::from_floats(v.as_slice(), &device)
            };
            let lif = lif
                .with_v_leak(potentials(-0.2, 0.05))
                .unwrap()
                .with_v_reset(potentials(-0.3, 0.04))
                .unwrap();
            let want = lif.forward(x.clone()).unwrap().spikes;
            check(
                &format!("LIF {d:?} tau_syn {tau_syn:?}, per-neuron v_leak and v_reset"),
                lif.to_nir(0.5).unwrap(),
                0.5,
                want,
                true,
            );
            let li = LiConfig::new(n)
                .with_dt_ms(0.5)
                .with_tau_mem_ms(8.0)
                .with_tau_syn_ms(tau_syn)
                .with_v_leak(0.1)
                .with_discretization(d)
                .init(&device)
                .unwrap();
            let want = li.forward(x.clone()).unwrap().v();
            check(
                &format!("LI {d:?} tau_syn {tau_syn:?}"),
                li.to_nir(0.5).unwrap(),
                0.5,
                want,
                false,
            );
            let li = li.with_v_leak(potentials(-0.4, 0.2)).unwrap();
            let want = li.forward(x.clone()).unwrap().v();
            check(
                &format!("LI {d:?} tau_syn {tau_syn:?}, per-neuron v_leak"),
                li.to_nir(0.5).unwrap(),
                0.5,
                want,
                false,
            );
        }
    }
    let iaf = IafConfig::new(n)
        .with_threshold(2.0)
        .with_v_reset(0.25)
        .init(&device)
        .unwrap();
    let want = iaf.forward(x.clone()).unwrap().spikes;
    check("IF", iaf.to_nir(1.0).unwrap(), 1.0, want, true);
    let per_neuron = |values: [f32; 5]| Tensor::<1>::from_floats(values, &device);
    let iaf = iaf
        .with_v_reset(per_neuron([0.25, -0.5, 0.0, 1.0, 0.5]))
        .unwrap()
        .with_threshold(per_neuron([2.0, 1.5, 3.0, 2.5, 1.8]))
        .unwrap();
    let want = iaf.forward(x.clone()).unwrap().spikes;
    check(
        "IF, per-neuron threshold and v_reset",
        iaf.to_nir(1.0).unwrap(),
        1.0,
        want,
        true,
    );

    // Seeded weights: burn's unseeded draw left the layer silent on some runs.
    let weights = |rows: usize, cols: usize, seed| {
        Tensor::<1>::from_floats(uniform(rows * cols, seed, -0.4, 0.8).as_slice(), &device)
            .reshape([rows, cols])
    };
    let rec = RecurrentConfig::new(n, 4)
        .init_lif(&LifConfig::new(4).with_threshold(0.3), &device)
        .unwrap()
        .with_weights(weights(4, n, 11), weights(4, 4, 12))
        .unwrap();
    let want = rec.forward(x.clone()).unwrap().spikes;
    let node = rec.to_nir(1.0).unwrap();
    assert!(matches!(node, NirNode::Graph(_)));
    let graph = sequential(vec![n], vec![("rec".into(), node)], 1.0).unwrap();
    let net = import(&graph, 1e-3, &device).unwrap();
    assert_eq!(net.recurrent_edges(), vec![("rec/w_rec", "rec/lif")]);
    let got = values(net.forward(x.clone()).unwrap());
    let want = values(want);
    assert!(want.contains(&1.0));
    assert_spikes_equal("recurrent LIF", &got, &want);
}

#[test]
fn layers_without_a_nir_equivalent_are_refused() {
    let device = Device::ndarray();
    let snntorch = LifConfig::from_beta(3, 0.9).unwrap().init(&device).unwrap();
    assert!(matches!(
        snntorch.to_nir(1.0),
        Err(NirError::Unsupported { .. })
    ));
    let sj = LifConfig::from_spikingjelly(3, 2.0, true, 1.0, Some(0.0))
        .init(&device)
        .unwrap();
    let err = sj.to_nir(1.0).unwrap_err();
    assert!(err.to_string().contains(">="), "{err}");
    let lif = LifConfig::new(3).init(&device).unwrap();
    assert!(matches!(
        lif.to_nir(0.0),
        Err(NirError::BadArgument { what: "dt_ms", .. })
    ));
}

/// The importer runs NIR's leaky nodes as snn-core's forward-Euler layers, which need every
/// time constant at least `dt` (beyond it the Euler decay `1 − dt/τ` is negative): a file
/// simulated at a coarser step is refused with the node and field, not run.
#[test]
fn time_constants_below_the_step_are_refused() {
    let device = Device::ndarray();
    let lif = NirNode::Lif {
        tau: Array::f32(vec![2], &[5e-3, 5e-4]),
        r: Array::full(vec![2], 1.0),
        v_leak: Array::full(vec![2], 0.0),
        v_threshold: Array::full(vec![2], 1.0),
        v_reset: Array::full(vec![2], 0.0),
    };
    let graph = sequential(vec![2], vec![("lif".into(), lif)], 1.0).unwrap();
    match import(&graph, 1e-3, &device) {
        Err(NirError::InvalidValue { node, field, .. }) => {
            assert_eq!((node.as_str(), field.as_str()), ("lif", "tau"));
        }
        other => panic!("expected InvalidValue for tau, got {other:?}"),
    }
    // at a step within both time constants the same file runs
    assert!(import(&graph, 1e-4, &device).is_ok());
}

/// `Array`'s fields are public: a graph built in code may give an array fewer values than its
/// shape says. The check refuses it with a typed error before anything indexes the values.
#[test]
fn arrays_with_fewer_values_than_their_shape_are_refused() {
    let device = Device::ndarray();
    let short = Array {
        shape: vec![3],
        data: vec![1.0, 1.0],
        dtype: FloatType::F32,
    };
    let node = NirNode::CubaLif {
        tau_syn: Array::full(vec![3], 5e-3),
        tau_mem: Array::full(vec![3], 1e-2),
        r: Array::full(vec![3], 1.0),
        v_leak: Array::full(vec![3], 0.0),
        v_threshold: Array::full(vec![3], 1.0),
        v_reset: Array::full(vec![3], 0.0),
        w_in: short,
    };
    let graph = NirGraph::new(
        [
            ("input".to_string(), NirNode::Input { shape: vec![3] }),
            ("lif".to_string(), node),
            ("output".to_string(), NirNode::Output { shape: vec![3] }),
        ],
        [("input", "lif"), ("lif", "output")].map(|(a, b)| (a.to_string(), b.to_string())),
    );
    match import(&graph, 1e-3, &device) {
        Err(NirError::InvalidValue { node, field, .. }) => {
            assert_eq!((node.as_str(), field.as_str()), ("lif", "w_in"));
        }
        other => panic!("expected InvalidValue for w_in, got {other:?}"),
    }
}

#[test]
fn broken_fixtures_give_their_typed_errors() {
    let broken = dir().join("broken");
    let listed: Value = serde_json::from_str(
        &std::fs::read_to_string(broken.join("expected_errors.json")).unwrap(),
    )
    .unwrap();
    let mut checked = vec![];
    for file in listed
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| !k.starts_with('_'))
    {
        let path = broken.join(file);
        let err = read(&path).expect_err(file);
        match (file.as_str(), &err) {
            ("truncated.nir", NirError::Truncated { size, stored_eof }) => {
                // the numbers h5py reports: eof = 19420, stored_eof = 38840
                assert_eq!((*size, *stored_eof), (19420, 38840));
            }
            (
                "edge_to_missing_node.nir",
                NirError::UnknownEdgeNode {
                    from, to, missing, ..
                },
            ) => {
                assert_eq!(
                    (from.as_str(), to.as_str(), missing.as_str()),
                    ("lif", "ghost", "ghost")
                );
            }
            (
                "wrong_param_shape.nir",
                NirError::ParamShape {
                    node,
                    field,
                    expected,
                    actual,
                },
            ) => {
                assert_eq!((node.as_str(), field.as_str()), ("lif", "tau"));
                assert_eq!(
                    (expected.as_slice(), actual.as_slice()),
                    (&[4][..], &[3][..])
                );
            }
            (
                "affine_lif_size_mismatch.nir",
                NirError::TypeMismatch {
                    from,
                    from_shape,
                    to,
                    to_shape,
                },
            ) => {
                assert_eq!((from.as_str(), to.as_str()), ("affine", "lif"));
                assert_eq!(
                    (from_shape.as_slice(), to_shape.as_slice()),
                    (&[4][..], &[5][..])
                );
            }
            _ => panic!("{file}: unexpected error {err:?}"),
        }
        checked.push(file.clone());
    }
    assert_eq!(checked.len(), 4);
    // like nir.read(type_check=False), the unchecked reader loads the two graph-level errors,
    // and the importer still refuses them
    for file in ["edge_to_missing_node.nir", "affine_lif_size_mismatch.nir"] {
        let graph = read_unchecked(broken.join(file)).unwrap();
        assert!(import(&graph, 1e-4, &Device::ndarray()).is_err(), "{file}");
    }
}

/// A field of a hand-made node: name, shape, f32 values.
type RawField<'a> = (&'a str, &'a [usize], &'a [f32]);

/// A NIR file written directly with the HDF5 writer: `node/nodes/<name>` groups with the given
/// datasets (`None` type leaves the `type` dataset out).
fn raw_file(nodes: &[(&str, Option<&str>, &[RawField])], edges: &[(&str, &str)]) -> Vec<u8> {
    let mut file = hdf5_pure::FileBuilder::new();
    file.create_dataset("version")
        .with_vlen_strings(&["1.0.8"])
        .with_shape(&[]);
    let mut root = file.create_group("node");
    root.create_dataset("type")
        .with_vlen_strings(&["NIRGraph"])
        .with_shape(&[]);
    let flat_edges: Vec<&str> = edges.iter().flat_map(|&(a, b)| [a, b]).collect();
    root.create_dataset("edges")
        .with_vlen_strings(&flat_edges)
        .with_shape(&[edges.len() as u64, 2]);
    let mut group = root.create_group("nodes");
    for &(name, kind, fields) in nodes {
        let mut g = group.create_group(name);
        if let Some(kind) = kind {
            g.create_dataset("type")
                .with_vlen_strings(&[kind])
                .with_shape(&[]);
        }
        for &(field, shape, data) in fields {
            let shape: Vec<u64> = shape.iter().map(|&d| d as u64).collect();
            g.create_dataset(field)
                .with_f32_data(data)
                .with_shape(&shape);
        }
        group.add_group(g.finish());
    }
    root.add_group(group.finish());
    file.add_group(root.finish());
    file.finish().unwrap()
}

#[test]
fn hand_made_bad_files_give_typed_errors() {
    let scale: &[RawField] = &[("scale", &[2], &[1.0, 2.0])];
    // a node without `type`
    let bytes = raw_file(&[("s", None, scale)], &[]);
    match read_bytes(bytes) {
        Err(NirError::MissingField { node, field }) => {
            assert_eq!((node.as_str(), field.as_str()), ("s", "type"))
        }
        other => panic!("missing type: {other:?}"),
    }
    // an unknown node type
    let bytes = raw_file(&[("s", Some("Spiky"), scale)], &[]);
    match read_bytes(bytes) {
        Err(NirError::UnknownNodeType {
            node, type_name, ..
        }) => {
            assert_eq!((node.as_str(), type_name.as_str()), ("s", "Spiky"))
        }
        other => panic!("unknown type: {other:?}"),
    }
    // a missing parameter
    let bytes = raw_file(&[("s", Some("Threshold"), scale)], &[]);
    match read_bytes(bytes) {
        Err(NirError::MissingField { node, field }) => {
            assert_eq!((node.as_str(), field.as_str()), ("s", "threshold"))
        }
        other => panic!("missing field: {other:?}"),
    }
    // a weight of the wrong rank
    let w: &[RawField] = &[("weight", &[4], &[1.0; 4])];
    assert!(matches!(
        read_bytes(raw_file(&[("w", Some("Linear"), w)], &[])),
        Err(NirError::WrongType { .. })
    ));

    // graphs our own writer refuses, written unchecked
    let mut graph = fixture("affine_lif");
    graph.edges.push(("lif".into(), "nowhere".into()));
    assert!(matches!(
        write_bytes(&graph),
        Err(NirError::UnknownEdgeNode { .. })
    ));
    match read_bytes(write_bytes_unchecked(&graph).unwrap()) {
        Err(NirError::UnknownEdgeNode { missing, .. }) => assert_eq!(missing, "nowhere"),
        other => panic!("edge to an unknown node: {other:?}"),
    }
    let mut graph = fixture("affine_lif");
    if let Some(NirNode::Affine { bias, .. }) = graph.nodes.get_mut("affine") {
        *bias = Array::full(vec![5], 0.0);
    }
    match read_bytes(write_bytes_unchecked(&graph).unwrap()) {
        Err(NirError::ParamShape {
            node,
            field,
            expected,
            actual,
        }) => {
            assert_eq!((node.as_str(), field.as_str()), ("affine", "bias"));
            assert_eq!((expected, actual), (vec![4], vec![5]));
        }
        other => panic!("wrong bias shape: {other:?}"),
    }
    // a nested graph's node is named by its path
    let mut graph = fixture("recurrent_cubalif");
    if let Some(NirNode::Graph(rsyn)) = graph.nodes.get_mut("rsyn")
        && let Some(NirNode::CubaLif { w_in, .. }) = rsyn.nodes.get_mut("lif")
    {
        *w_in = Array::full(vec![2], 1.0);
    }
    match read_bytes(write_bytes_unchecked(&graph).unwrap()) {
        Err(NirError::ParamShape { node, field, .. }) => {
            assert_eq!((node.as_str(), field.as_str()), ("rsyn/lif", "w_in"))
        }
        other => panic!("nested: {other:?}"),
    }
    // not a NIR file at all, an empty file, a missing file
    assert!(matches!(
        read_bytes(b"hello".to_vec()),
        Err(NirError::Hdf5 { .. })
    ));
    assert!(matches!(read_bytes(vec![]), Err(NirError::Hdf5 { .. })));
    assert!(matches!(
        read(dir().join("no_such.nir")),
        Err(NirError::Io { .. })
    ));
    // a bad dt and a bad input for the importer
    let graph = fixture("affine_lif");
    assert!(matches!(
        import(&graph, 0.0, &Device::ndarray()),
        Err(NirError::BadArgument { what: "dt", .. })
    ));
    let net = import(&graph, 1e-4, &Device::ndarray()).unwrap();
    assert!(matches!(
        net.forward(Tensor::zeros([1, 5, 4], &Device::ndarray())),
        Err(NirError::BadArgument { what: "input", .. })
    ));
}

/// Byte flips, overwrites and cuts of valid files (one written by h5py, one by us): the reader
/// returns `Ok` or a typed error and never panics.
#[test]
fn fuzzed_files_never_panic_the_reader() {
    let h5py = std::fs::read(dir().join("affine_lif.nir")).unwrap();
    let ours = write_bytes(&fixture("recurrent_cubalif")).unwrap();
    let mut rng = SpikeRng::new(0x9e37_79b9_7f4a_7c15);
    let mut next = move |n: usize| rng.below(n.max(1) as u64) as usize;
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for case in 0..600 {
        let mut bytes = if case % 2 == 0 {
            h5py.clone()
        } else {
            ours.clone()
        };
        let len = bytes.len();
        match case % 5 {
            0 => {
                let i = next(len);
                bytes[i] ^= 1 << next(8);
            }
            1 => {
                for _ in 0..1 + next(8) {
                    let i = next(len);
                    bytes[i] = next(256) as u8;
                }
            }
            2 => bytes.truncate(next(len)),
            // the superblock and the first object headers
            3 => {
                let i = next(len.min(2048));
                bytes[i] = next(256) as u8;
            }
            _ => {
                let i = next(len);
                let n = 1 + next(64);
                bytes.splice(i..i, (0..n).map(|_| next(256) as u8));
            }
        }
        let result = catch_unwind(AssertUnwindSafe(|| read_bytes(bytes)));
        let result = result.unwrap_or_else(|_| panic!("case {case}: the reader panicked"));
        let kind = match result {
            Ok(_) => "ok".to_string(),
            Err(e) => format!("{e:?}")
                .split([' ', '{', '('])
                .next()
                .unwrap()
                .to_string(),
        };
        *kinds.entry(kind).or_default() += 1;
    }
    eprintln!("fuzzed reader outcomes: {kinds:?}");
    assert!(kinds.len() >= 3, "{kinds:?}");
}

#[test]
fn cli_info_and_export() {
    use snn_nir::cli::{CliError, ExportRequest};
    let no_export = |_: &ExportRequest| -> Result<NirGraph, CliError> { unreachable!() };
    let file = dir().join("recurrent_cubalif.nir");
    let text = snn_nir::cli::info(&file).unwrap();
    for want in [
        "rsyn: NIRGraph",
        "lif: CubaLIF [4] -> [4]",
        "w_rec -> lif",
        "fc -> rsyn",
    ] {
        assert!(text.contains(want), "{want} in\n{text}");
    }
    let request =
        |checkpoint: Option<&str>, model: Option<&str>, dt_ms: Option<f64>| ExportRequest {
            checkpoint: checkpoint.map(Into::into),
            model: model.map(Into::into),
            dt_ms,
            out: "x.nir".into(),
        };
    let code = |r: ExportRequest| snn_nir::cli::export(&r, no_export).unwrap_err().code();
    assert_eq!(code(request(None, None, None)), 2);
    assert_eq!(code(request(Some("d"), Some("m"), None)), 2);
    assert_eq!(code(request(None, Some("m"), Some(-1.0))), 2);
    let truncated = dir().join("broken/truncated.nir");
    assert_eq!(snn_nir::cli::info(&truncated).unwrap_err().code(), 3);

    // export of a trained classifier saved as a training run saves it
    let out = temp_dir("cli");
    let model = trained_classifier().valid();
    use burn::module::Module;
    model.clone().save_file(out.join("model")).unwrap();
    let config = snn_train::TrainConfig::new(SnnClassifierConfig::new(6, 3).with_hidden(12));
    use burn::config::Config;
    config.save(out.join("config.json")).unwrap();
    let nir_file = out.join("classifier.nir");
    let args = ExportRequest {
        checkpoint: Some(out.clone()),
        model: None,
        dt_ms: None,
        out: nir_file.clone(),
    };
    let text = snn_nir::cli::export(&args, snn_train::nir::export_request).unwrap();
    assert!(text.contains("6 nodes, 5 edges"), "{text}");
    assert_eq!(read(&nir_file).unwrap(), model.to_nir(None).unwrap());
    let args = ExportRequest {
        checkpoint: Some(out.join("nothing")),
        out: out.join("other.nir"),
        ..args
    };
    let err = snn_nir::cli::export(&args, snn_train::nir::export_request).unwrap_err();
    assert_eq!(err.code(), 3, "{err}");
    let _ = std::fs::remove_dir_all(&out);
}

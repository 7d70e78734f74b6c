//! Devices under test, golden-file loading and comparison helpers.

use std::path::PathBuf;
use std::sync::OnceLock;

use burn::prelude::*;
use serde_json::Value;

/// The plain (inference) devices to test: ndarray, flex, and wgpu when an adapter exists.
///
/// The wgpu device needs the `gpu` feature. Without an adapter the wgpu cases are skipped with a
/// message, unless `SNN_REQUIRE_WGPU=1`, which turns a missing adapter (or a build without the
/// `gpu` feature) into a failure, as CI sets it.
pub fn devices() -> Vec<(&'static str, Device)> {
    let mut devices = vec![("ndarray", Device::ndarray()), ("flex", Device::flex())];
    if let Some(wgpu) = wgpu_device() {
        devices.push(("wgpu", wgpu));
    }
    devices
}

/// [`devices`], each with autodiff.
pub fn autodiff_devices() -> Vec<(&'static str, Device)> {
    devices()
        .into_iter()
        .map(|(name, d)| (name, d.autodiff()))
        .collect()
}

fn require_wgpu() -> bool {
    std::env::var("SNN_REQUIRE_WGPU").is_ok_and(|v| v == "1")
}

#[cfg(feature = "gpu")]
fn wgpu_device() -> Option<Device> {
    static WGPU: OnceLock<Option<Device>> = OnceLock::new();
    WGPU.get_or_init(|| {
        // The probe must run before anything else touches the wgpu runtime; OnceLock makes every
        // test share its answer.
        match Device::wgpu_options().init() {
            Ok(device) => {
                eprintln!("wgpu cases run on {device:?}");
                Some(device)
            }
            Err(err) => {
                assert!(
                    !require_wgpu(),
                    "SNN_REQUIRE_WGPU=1 but no wgpu adapter was found: {err:?}"
                );
                eprintln!("skipping the wgpu cases: no wgpu adapter ({err:?})");
                None
            }
        }
    })
    .clone()
}

#[cfg(not(feature = "gpu"))]
fn wgpu_device() -> Option<Device> {
    static WARNED: OnceLock<()> = OnceLock::new();
    assert!(
        !require_wgpu(),
        "SNN_REQUIRE_WGPU=1 but the tests were built without the `gpu` feature"
    );
    WARNED.get_or_init(|| eprintln!("skipping the wgpu cases: built without the `gpu` feature"));
    None
}

/// A peer golden file: its name and parsed JSON.
pub struct Golden {
    pub name: String,
    pub json: Value,
}

impl Golden {
    pub fn param(&self, key: &str) -> &Value {
        self.json["params"]
            .get(key)
            .unwrap_or_else(|| panic!("{}: no params.{key}", self.name))
    }
    /// A scalar parameter; a file that gives it per neuron fails here with its name, for a
    /// model that takes it only as a scalar.
    pub fn param_f64(&self, key: &str) -> f64 {
        let value = self.param(key);
        assert!(
            !value.is_array(),
            "{}: params.{key} has one value per neuron; this model takes it as a scalar",
            self.name
        );
        number(value)
    }
    /// Every value of a parameter, flattened: one for a scalar, one per neuron for an array.
    pub fn param_values(&self, key: &str) -> Vec<f32> {
        let mut out = Vec::new();
        flatten(self.param(key), &mut out);
        out
    }
    /// The file with the fields of the nested `params.<key>` lifted into `params`, next to the
    /// other parameters (Norse's refractory parameters nest the LIF ones under `lif`), so the
    /// readers of a flat file read them.
    pub fn lifted(&self, key: &str) -> Golden {
        let mut json = self.json.clone();
        let nested = self.param(key).as_object().cloned().unwrap_or_else(|| {
            panic!("{}: params.{key} is not an object", self.name);
        });
        let params = json["params"].as_object_mut().expect("params");
        params.remove(key);
        params.extend(nested);
        Golden {
            name: self.name.clone(),
            json,
        }
    }
    pub fn param_str(&self, key: &str) -> &str {
        self.param(key)
            .as_str()
            .unwrap_or_else(|| panic!("{}: params.{key} is not a string", self.name))
    }
    /// A 2-D array from `inputs` or `outputs`, as `[rows, cols]` and row-major values.
    pub fn matrix(&self, section: &str, key: &str) -> (usize, usize, Vec<f32>) {
        let rows = self.json[section][key]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no {section}.{key}", self.name));
        let cols = rows[0].as_array().map_or(0, Vec::len);
        let values = rows
            .iter()
            .flat_map(|r| r.as_array().expect("row").iter().map(|v| number(v) as f32))
            .collect();
        (rows.len(), cols, values)
    }
}

impl Golden {
    /// A nested array of any depth from `inputs`, `outputs` or `params`: its shape and its
    /// values flattened row-major.
    pub fn array(&self, section: &str, key: &str) -> (Vec<usize>, Vec<f32>) {
        let value = &self.json[section][key];
        assert!(!value.is_null(), "{}: no {section}.{key}", self.name);
        let mut shape = Vec::new();
        let mut cursor = value;
        while let Some(items) = cursor.as_array() {
            shape.push(items.len());
            cursor = &items[0];
        }
        let mut values = Vec::new();
        flatten(value, &mut values);
        (shape, values)
    }

    /// A state tensor `[batch, n]` from a golden file's `params.initial_state.<key>`: a scalar for
    /// every neuron, a row per neuron, or a `[batch, n]` array.
    pub fn initial_state(&self, key: &str, batch: usize, n: usize, device: &Device) -> Tensor<2> {
        self.state_param(&["initial_state", key], batch, n, device)
            .unwrap_or_else(|| panic!("{}: no params.initial_state.{key}", self.name))
    }

    /// The parameter at `params.<path>` as a state tensor `[batch, n]` (a scalar for every
    /// neuron, a row per neuron, or a `[batch, n]` array), `None` when the file has none.
    pub fn state_param(
        &self,
        path: &[&str],
        batch: usize,
        n: usize,
        device: &Device,
    ) -> Option<Tensor<2>> {
        let value = path.iter().fold(&self.json["params"], |v, key| &v[*key]);
        if value.is_null() {
            return None;
        }
        let flat: Vec<f32> = match value.as_array() {
            None => vec![number(value) as f32; batch * n],
            Some(rows) if rows.first().is_some_and(|r| r.is_array()) => rows
                .iter()
                .flat_map(|r| r.as_array().unwrap().iter().map(|v| number(v) as f32))
                .collect(),
            Some(row) => (0..batch)
                .flat_map(|_| row.iter().map(|v| number(v) as f32))
                .collect(),
        };
        assert_eq!(
            flat.len(),
            batch * n,
            "{}: params.{}",
            self.name,
            path.join(".")
        );
        Some(Tensor::<1>::from_floats(flat.as_slice(), device).reshape([batch, n]))
    }

    /// A scalar output.
    pub fn output_f64(&self, key: &str) -> f64 {
        number(&self.json["outputs"][key])
    }
}

pub fn flatten(v: &Value, out: &mut Vec<f32>) {
    match v.as_array() {
        Some(items) => items.iter().for_each(|i| flatten(i, out)),
        None => out.push(number(v) as f32),
    }
}

/// A JSON number, or one of the strings "inf", "-inf", "nan" the golden files use.
pub fn number(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("f64"),
        Value::String(s) if s == "inf" => f64::INFINITY,
        Value::String(s) if s == "-inf" => f64::NEG_INFINITY,
        Value::String(s) if s == "nan" => f64::NAN,
        other => panic!("not a number: {other}"),
    }
}

/// Every golden file whose name starts with `prefix`; fails if there is none, so that a test
/// cannot pass by finding nothing.
pub fn golden(prefix: &str) -> Vec<Golden> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| {
            p.extension().is_some_and(|e| e == "json")
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(prefix))
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden file starts with {prefix}");
    files
        .into_iter()
        .map(|p| Golden {
            name: p.file_stem().unwrap().to_string_lossy().into_owned(),
            json: serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
        })
        .collect()
}

/// The golden files' tolerance: their outputs are rounded to 6 significant digits, so
/// `|got − want| <= 2e-5 + 2e-5·|want|` (their README). Spikes (0/1) are compared exactly.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], atol: f32, rtol: f32) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        let err = (g - w).abs();
        assert!(
            err <= atol + rtol * w.abs(),
            "{what}[{k}]: got {g}, want {w} (|err| = {err:e}, atol {atol:e}, rtol {rtol:e})"
        );
    }
}

/// Spikes must match exactly.
pub fn assert_spikes_equal(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let diff: Vec<usize> = (0..got.len()).filter(|&k| got[k] != want[k]).collect();
    assert!(
        diff.is_empty(),
        "{what}: {} of {} spikes differ, first at {:?}",
        diff.len(),
        got.len(),
        &diff[..diff.len().min(5)]
    );
}

/// A golden input `[T, batch..., N]` (the batch axes optional; `[T]` is one neuron) as a
/// batch-major `[B, T, N]` tensor, with `(T, B, N)`; `N` is the last axis.
pub fn batched_sequence(g: &Golden, key: &str, device: &Device) -> (Tensor<3>, [usize; 3]) {
    let (shape, x) = g.array("inputs", key);
    let t = shape[0];
    let (n, b) = match shape.len() {
        1 => (1, 1),
        rank => (
            shape[rank - 1],
            shape[1..rank - 1].iter().product::<usize>(),
        ),
    };
    let x = Tensor::<1>::from_floats(x.as_slice(), device)
        .reshape([t, b, n])
        .swap_dims(0, 1);
    (x, [t, b, n])
}

/// `[B, T, N]` values in a golden file's time-major order.
pub fn time_major(t: Tensor<3>) -> Vec<f32> {
    values(t.swap_dims(0, 1))
}

/// A tensor's values as `f32`.
pub fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .expect("f32 data")
}

/// Deterministic pseudo-random numbers in `[lo, hi)` (a 64-bit LCG), so that inputs do not
/// depend on any backend's generator.
pub fn uniform(n: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let unit = (state >> 40) as f32 / (1u64 << 24) as f32;
            lo + (hi - lo) * unit
        })
        .collect()
}

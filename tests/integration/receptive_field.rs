//! Receptive fields: golden parity with Norse 1.1.0's `norse.torch.functional.receptive_field`
//! (`tests/golden/norse_receptive_field.json`) on every device of `devices()` (ndarray, flex,
//! and wgpu with `--features gpu`), gradients to the kernel parameters on every autodiff device,
//! and the typed errors for bad input.
//!
//! Every parameter is read from the golden file. Tolerance (the golden README's): the outputs are
//! rounded to 6 significant digits, so values must satisfy `|got − want| <= 2e-5 + 2e-5·|want|`.
//! The gradient checks compare autodiff with central finite differences of the `f32` forward
//! pass (step `1e-2`), to `|got − want| <= 2e-3 + 2e-2·|want|`.

use burn::prelude::*;
use serde_json::Value;
use snn_core::SnnError;
use snn_core::receptive_field::{
    Derivatives, GAUSSIAN_KERNEL_DEFAULT_DOMAIN, SPATIAL_RF_DEFAULT_DOMAIN, SpatialParameters,
    TEMPORAL_SCALE_DEFAULT_BASE, TemporalScaleSpacing, covariance_matrix, derive_kernel,
    gaussian_kernel, spatial_parameters, spatial_receptive_field,
    spatial_receptive_fields_with_derivatives, temporal_scale_distribution,
};

use crate::common::{
    Golden, assert_close, autodiff_devices, devices, golden, number, uniform, values,
};

const ATOL: f32 = 2e-5;
const RTOL: f32 = 2e-5;

fn the_golden() -> Golden {
    let mut files = golden("norse_receptive_field");
    assert_eq!(files.len(), 1, "one norse_receptive_field file");
    files.remove(0)
}

/// `params.<args>.<key>` as a number.
fn arg(g: &Golden, args: &str, key: &str) -> f64 {
    let v = &g.param(args)[key];
    assert!(!v.is_null(), "{}: no params.{args}.{key}", g.name);
    number(v)
}

/// `params.<args>.<key>` as an unsigned integer.
fn arg_usize(g: &Golden, args: &str, key: &str) -> usize {
    g.param(args)[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{}: params.{args}.{key} is not an integer", g.name)) as usize
}

/// A list of numbers in `params`.
fn arg_list(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(number)
        .collect()
}

fn scalar(v: f64, device: &Device) -> Tensor<1> {
    Tensor::<1>::from_floats([v as f32], device)
}

/// The golden output `key` with its shape checked.
fn want(g: &Golden, key: &str, shape: &[usize]) -> Vec<f32> {
    let (got_shape, values) = g.array("outputs", key);
    assert_eq!(got_shape, shape, "{}: outputs.{key} shape", g.name);
    values
}

/// `covariance_matrix(sigma1, sigma2, phi)` of `params.covariance_matrix_args`.
fn golden_covariance(g: &Golden, device: &Device) -> Tensor<2> {
    let a = "covariance_matrix_args";
    covariance_matrix(
        scalar(arg(g, a, "sigma1"), device),
        scalar(arg(g, a, "sigma2"), device),
        scalar(arg(g, a, "phi"), device),
    )
    .expect("valid covariance")
}

#[test]
fn norse_covariance_matrix() {
    let g = the_golden();
    for (dev, device) in devices() {
        let c = golden_covariance(&g, &device);
        assert_eq!(c.dims(), [2, 2]);
        assert_close(
            &format!("covariance_matrix on {dev}"),
            &values(c),
            &want(&g, "covariance_matrix", &[2, 2]),
            ATOL,
            RTOL,
        );
    }
}

#[test]
fn norse_gaussian_kernel() {
    let g = the_golden();
    let a = "gaussian_kernel_args";
    let size = arg_usize(&g, a, "size");
    let domain = arg(&g, a, "domain");
    for (dev, device) in devices() {
        // The generator's `c` is `covariance_matrix` of `covariance_matrix_args`.
        let k = gaussian_kernel(size, golden_covariance(&g, &device), domain).expect("kernel");
        assert_eq!(k.dims(), [size, size]);
        assert_close(
            &format!("gaussian_kernel on {dev}"),
            &values(k),
            &want(&g, "gaussian_kernel", &[size, size]),
            ATOL,
            RTOL,
        );
    }
}

#[test]
fn norse_gaussian_kernel_identity() {
    let g = the_golden();
    let a = "gaussian_kernel_identity_args";
    assert_eq!(g.param(a)["c"], "eye(2)", "{}: {a}.c", g.name);
    let size = arg_usize(&g, a, "size");
    let domain = arg(&g, a, "domain");
    assert_eq!(
        domain, GAUSSIAN_KERNEL_DEFAULT_DOMAIN,
        "Norse's default domain"
    );
    for (dev, device) in devices() {
        let k = gaussian_kernel(size, Tensor::<2>::eye(2, &device), domain).expect("kernel");
        assert_close(
            &format!("gaussian_kernel(eye) on {dev}"),
            &values(k),
            &want(&g, "gaussian_kernel_identity", &[size, size]),
            ATOL,
            RTOL,
        );
    }
}

/// `"dx=1,dy=0"` -> `(1, 0)`.
fn parse_variant(v: &str) -> (usize, usize) {
    let order = |part: &str, name: &str| -> usize {
        part.trim()
            .strip_prefix(name)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("bad variant {v:?}"))
    };
    let (x, y) = v
        .split_once(',')
        .unwrap_or_else(|| panic!("bad variant {v:?}"));
    (order(x, "dx="), order(y, "dy="))
}

#[test]
fn norse_spatial_receptive_field() {
    let g = the_golden();
    let a = "spatial_receptive_field_args";
    let (scale, angle, ratio) = (
        arg(&g, a, "scale"),
        arg(&g, a, "angle"),
        arg(&g, a, "ratio"),
    );
    let size = arg_usize(&g, a, "size");
    let domain = arg(&g, a, "domain");
    let variants: Vec<(usize, usize)> = g.param(a)["variants"]
        .as_array()
        .expect("variants")
        .iter()
        .map(|v| parse_variant(v.as_str().expect("variant string")))
        .collect();
    assert!(!variants.is_empty());
    for (dev, device) in devices() {
        for &(dx, dy) in &variants {
            let k = spatial_receptive_field(
                scalar(scale, &device),
                scalar(angle, &device),
                scalar(ratio, &device),
                size,
                dx,
                dy,
                domain,
            )
            .expect("field");
            let key = format!("spatial_rf_d{dx}{dy}");
            let want = want(&g, &key, &[size, size]);
            assert_close(&format!("{key} on {dev}"), &values(k), &want, ATOL, RTOL);
            // The f64 entry point gives the same field.
            let p = SpatialParameters {
                scale,
                angle,
                ratio,
                dx,
                dy,
            };
            let k = p.receptive_field(size, domain, &device).expect("field");
            assert_close(
                &format!("{key} (f64) on {dev}"),
                &values(k),
                &want,
                ATOL,
                RTOL,
            );
        }
    }
}

#[test]
fn norse_spatial_receptive_field_default_domain() {
    let g = the_golden();
    let a = "spatial_receptive_field_default_domain_args";
    let domain = arg(&g, a, "domain");
    assert_eq!(domain, SPATIAL_RF_DEFAULT_DOMAIN, "Norse's default domain");
    let size = arg_usize(&g, a, "size");
    for (dev, device) in devices() {
        let k = spatial_receptive_field(
            scalar(arg(&g, a, "scale"), &device),
            scalar(arg(&g, a, "angle"), &device),
            scalar(arg(&g, a, "ratio"), &device),
            size,
            arg_usize(&g, a, "dx"),
            arg_usize(&g, a, "dy"),
            domain,
        )
        .expect("field");
        assert_close(
            &format!("spatial_rf_default_domain on {dev}"),
            &values(k),
            &want(&g, "spatial_rf_default_domain", &[size, size]),
            ATOL,
            RTOL,
        );
    }
}

#[test]
fn norse_temporal_scale_distribution() {
    let g = the_golden();
    let cases = g
        .param("temporal_scale_distribution_args")
        .as_array()
        .expect("list");
    assert_eq!(cases.len(), 2, "a base case and a max_scale case");
    for case in cases {
        let n = case["n_scales"].as_u64().expect("n_scales") as usize;
        let min_scale = number(&case["min_scale"]);
        let (spacing, key) = match (case.get("c"), case.get("max_scale")) {
            (Some(c), None) => {
                let c = number(c);
                assert_eq!(c, TEMPORAL_SCALE_DEFAULT_BASE, "Norse's default c");
                (TemporalScaleSpacing::Base(c), "temporal_scale_distribution")
            }
            (None, Some(m)) => (
                TemporalScaleSpacing::MaxScale(number(m)),
                "temporal_scale_distribution_max",
            ),
            _ => panic!("unexpected case {case}"),
        };
        for (dev, device) in devices() {
            let s = temporal_scale_distribution(n, min_scale, spacing, &device).expect("scales");
            assert_close(
                &format!("{key} on {dev}"),
                &values(s),
                &want(&g, key, &[n]),
                ATOL,
                RTOL,
            );
        }
    }
}

#[test]
fn norse_spatial_parameters() {
    let g = the_golden();
    let a = g.param("spatial_parameters_args");
    let derivatives = Derivatives::UpTo(a["derivatives"].as_u64().expect("integer form") as usize);
    let rows = spatial_parameters(
        &arg_list(&a["scales"]),
        &arg_list(&a["angles"]),
        &arg_list(&a["ratios"]),
        &derivatives,
        a["include_replicas"].as_bool().expect("bool"),
    )
    .expect("parameters");
    let (shape, want) = g.array("outputs", "spatial_parameters");
    assert_eq!(shape, [rows.len(), 5]);
    for (dev, device) in devices() {
        let t = SpatialParameters::to_tensor(&rows, &device).expect("rows");
        assert_close(
            &format!("spatial_parameters on {dev}"),
            &values(t),
            &want,
            ATOL,
            RTOL,
        );
        // Stacking their fields gives each row's field.
        let fields =
            spatial_receptive_fields_with_derivatives(&rows[..4], 5, 2.0, &device).expect("fields");
        assert_eq!(fields.dims(), [4, 5, 5]);
        for (k, p) in rows[..4].iter().enumerate() {
            let one = p.receptive_field(5, 2.0, &device).expect("field");
            let stacked = fields.clone().narrow(0, k, 1).reshape([5, 5]);
            assert_eq!(values(stacked), values(one), "row {k} on {dev}");
        }
    }
}

/// `Σ k ∘ w` for fixed weights `w`, so that no gradient vanishes by symmetry (a normalised
/// field sums to 1).
fn weighted(k: Tensor<2>, seed: u64) -> Tensor<1> {
    let [r, c] = k.dims();
    let w = uniform(r * c, seed, -1.0, 1.0);
    let w = Tensor::<1>::from_floats(w.as_slice(), &k.device()).reshape([r, c]);
    (k * w).sum()
}

/// Checks autodiff gradients with respect to three scalar parameters against central finite
/// differences of `loss` on the plain device.
fn check_gradients(
    what: &str,
    params: [f64; 3],
    names: [&str; 3],
    loss: &dyn Fn([Tensor<1>; 3]) -> Tensor<1>,
) {
    const H: f64 = 1e-2;
    for (dev, device) in autodiff_devices() {
        let leaves = params.map(|p| scalar(p, &device).require_grad());
        let grads = loss(leaves.clone()).backward();
        let got: Vec<f32> = leaves
            .iter()
            .zip(names)
            .map(|(leaf, name)| {
                let grad = leaf
                    .grad(&grads)
                    .unwrap_or_else(|| panic!("{what} on {dev}: no gradient for {name}"));
                values(grad)[0]
            })
            .collect();
        let plain = device.clone().without_autodiff();
        let at = |p: [f64; 3]| values(loss(p.map(|v| scalar(v, &plain))))[0] as f64;
        let fd: Vec<f32> = (0..3)
            .map(|i| {
                let (mut up, mut down) = (params, params);
                up[i] += H;
                down[i] -= H;
                ((at(up) - at(down)) / (2.0 * H)) as f32
            })
            .collect();
        for (i, name) in names.iter().enumerate() {
            assert!(
                got[i].is_finite() && got[i] != 0.0,
                "{what} on {dev}: d/d{name} = {}",
                got[i]
            );
        }
        assert_close(&format!("{what} gradient on {dev}"), &got, &fd, 2e-3, 2e-2);
    }
}

#[test]
fn gradients_reach_the_spatial_field_parameters() {
    let g = the_golden();
    let a = "spatial_receptive_field_args";
    let params = [
        arg(&g, a, "scale"),
        arg(&g, a, "angle"),
        arg(&g, a, "ratio"),
    ];
    let size = arg_usize(&g, a, "size");
    let domain = arg(&g, a, "domain");
    for (dx, dy) in [(0, 0), (1, 0), (1, 1)] {
        check_gradients(
            &format!("spatial_receptive_field d{dx}{dy}"),
            params,
            ["scale", "angle", "ratio"],
            &|[scale, angle, ratio]| {
                let k = spatial_receptive_field(scale, angle, ratio, size, dx, dy, domain)
                    .expect("field");
                weighted(k, 7)
            },
        );
    }
}

#[test]
fn gradients_reach_the_covariance_of_the_gaussian_kernel() {
    let g = the_golden();
    let c = "covariance_matrix_args";
    let params = [
        arg(&g, c, "sigma1"),
        arg(&g, c, "sigma2"),
        arg(&g, c, "phi"),
    ];
    let a = "gaussian_kernel_args";
    let size = arg_usize(&g, a, "size");
    let domain = arg(&g, a, "domain");
    check_gradients(
        "gaussian_kernel(covariance_matrix)",
        params,
        ["sigma1", "sigma2", "phi"],
        &|[s1, s2, phi]| {
            let c = covariance_matrix(s1, s2, phi).expect("covariance");
            weighted(gaussian_kernel(size, c, domain).expect("kernel"), 11)
        },
    );
}

fn assert_not_positive<T: std::fmt::Debug>(r: snn_core::Result<T>, field: &str) {
    let err = r.unwrap_err();
    assert!(
        matches!(&err, SnnError::NotPositive { field: f, .. } if *f == field),
        "{field}: {err:?}"
    );
    assert!(err.to_string().contains(field), "{err}");
}

fn assert_not_finite<T: std::fmt::Debug>(r: snn_core::Result<T>, field: &str) {
    let err = r.unwrap_err();
    assert!(
        matches!(&err, SnnError::NotFinite { field: f, .. } if *f == field),
        "{field}: {err:?}"
    );
}

fn assert_zero_size<T: std::fmt::Debug>(r: snn_core::Result<T>, field: &str) {
    let err = r.unwrap_err();
    assert!(
        matches!(&err, SnnError::ZeroSize { field: f } if *f == field),
        "{field}: {err:?}"
    );
}

fn assert_shape_mismatch<T: std::fmt::Debug>(r: snn_core::Result<T>, actual: &[usize]) {
    let err = r.unwrap_err();
    assert!(
        matches!(&err, SnnError::ShapeMismatch { actual: a, .. } if a == actual),
        "{actual:?}: {err:?}"
    );
}

#[test]
fn bad_covariance_and_kernel_arguments_are_typed_errors() {
    let device = Device::flex();
    let s = |v: f64| scalar(v, &device);
    assert_not_positive(covariance_matrix(s(0.0), s(1.0), s(0.0)), "sigma1");
    assert_not_positive(covariance_matrix(s(1.0), s(-1.0), s(0.0)), "sigma2");
    assert_not_positive(covariance_matrix(s(f64::NAN), s(1.0), s(0.0)), "sigma1");
    assert_not_finite(covariance_matrix(s(1.0), s(1.0), s(f64::INFINITY)), "phi");
    let two = Tensor::<1>::from_floats([1.0, 2.0], &device);
    assert_shape_mismatch(covariance_matrix(two, s(1.0), s(0.0)), &[2]);

    let eye = || Tensor::<2>::eye(2, &device);
    assert_zero_size(gaussian_kernel(0, eye(), 8.0), "size");
    assert_not_positive(gaussian_kernel(5, eye(), 0.0), "domain");
    assert_not_positive(gaussian_kernel(5, eye(), f64::NAN), "domain");
    assert_shape_mismatch(
        gaussian_kernel(5, Tensor::<2>::eye(3, &device), 8.0),
        &[3, 3],
    );
    let m = |v: [[f32; 2]; 2]| Tensor::<2>::from_floats(v, &device);
    assert_not_finite(
        gaussian_kernel(5, m([[1.0, f32::NAN], [0.0, 1.0]]), 8.0),
        "c",
    );
    assert_not_positive(
        gaussian_kernel(5, m([[1.0, 2.0], [2.0, 1.0]]), 8.0),
        "det(c)",
    );
    assert_not_positive(
        gaussian_kernel(5, m([[-1.0, 0.0], [0.0, -1.0]]), 8.0),
        "c[0][0]",
    );
}

#[test]
fn bad_spatial_field_arguments_are_typed_errors() {
    let device = Device::flex();
    let s = |v: f64| scalar(v, &device);
    let field = |scale, angle, ratio, size, dx, dy, domain| {
        spatial_receptive_field(s(scale), s(angle), s(ratio), size, dx, dy, domain)
    };
    assert_not_positive(field(0.0, 0.0, 1.0, 9, 0, 0, 4.0), "scale");
    assert_not_positive(field(-2.0, 0.0, 1.0, 9, 0, 0, 4.0), "scale");
    assert_not_finite(field(1.0, f64::NAN, 1.0, 9, 0, 0, 4.0), "angle");
    assert_not_positive(field(1.0, 0.0, 0.0, 9, 0, 0, 4.0), "ratio");
    assert_zero_size(field(1.0, 0.0, 1.0, 0, 0, 0, 4.0), "size");
    assert_not_positive(field(1.0, 0.0, 1.0, 9, 0, 0, -4.0), "domain");
    let err = field(1.0, 0.0, 1.0, 1, 1, 0, 4.0).unwrap_err();
    assert!(
        matches!(err, SnnError::OutOfRange { field: "size", value, .. } if value == 1.0),
        "{err:?}"
    );
    // One sample and no derivative is fine (Norse samples (-domain, -domain)).
    assert_eq!(field(1.0, 0.0, 1.0, 1, 0, 0, 4.0).unwrap().dims(), [1, 1]);
    let pair = Tensor::<1>::from_floats([1.0, 2.0], &device);
    assert_shape_mismatch(
        spatial_receptive_field(s(1.0), pair, s(1.0), 9, 0, 0, 4.0),
        &[2],
    );

    let p = SpatialParameters {
        scale: f64::INFINITY,
        angle: 0.0,
        ratio: 1.0,
        dx: 0,
        dy: 0,
    };
    assert_not_positive(p.receptive_field(9, 4.0, &device), "scale");
    assert_zero_size(
        spatial_receptive_fields_with_derivatives(&[], 9, 4.0, &device),
        "params",
    );
    let err = derive_kernel(Tensor::<2>::ones([1, 5], &device), s(0.0)).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::OutOfRange {
                field: "kernel size",
                ..
            }
        ),
        "{err:?}"
    );
    assert_not_finite(
        derive_kernel(Tensor::<2>::ones([3, 3], &device), s(f64::NAN)),
        "angle",
    );
}

#[test]
fn bad_parameter_grids_and_temporal_scales_are_typed_errors() {
    let d = Derivatives::UpTo(1);
    assert_zero_size(spatial_parameters(&[], &[0.0], &[1.0], &d, false), "scales");
    assert_zero_size(spatial_parameters(&[1.0], &[], &[1.0], &d, false), "angles");
    assert_zero_size(spatial_parameters(&[1.0], &[0.0], &[], &d, false), "ratios");
    let none = Derivatives::List(vec![]);
    assert_zero_size(
        spatial_parameters(&[1.0], &[0.0], &[1.0], &none, false),
        "derivatives",
    );
    assert_not_positive(
        spatial_parameters(&[-1.0], &[0.0], &[1.0], &d, false),
        "scale",
    );
    assert_not_finite(
        spatial_parameters(&[1.0], &[f64::NAN], &[1.0], &d, false),
        "angle",
    );
    assert_not_positive(
        spatial_parameters(&[1.0], &[0.0], &[0.0], &d, false),
        "ratio",
    );
    assert_zero_size(SpatialParameters::to_tensor(&[], &Device::flex()), "rows");

    let device = Device::flex();
    let base = TemporalScaleSpacing::default();
    assert_zero_size(
        temporal_scale_distribution(0, 1.0, base, &device),
        "n_scales",
    );
    assert_not_positive(
        temporal_scale_distribution(4, 0.0, base, &device),
        "min_scale",
    );
    assert_not_positive(
        temporal_scale_distribution(4, 1.0, TemporalScaleSpacing::Base(-1.41), &device),
        "c",
    );
    assert_not_positive(
        temporal_scale_distribution(4, 1.0, TemporalScaleSpacing::MaxScale(f64::NAN), &device),
        "max_scale",
    );
}

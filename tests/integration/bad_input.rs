//! Bad configurations and inputs give typed errors naming the field or the shapes.

use burn::prelude::*;
use snn_core::prelude::*;
use snn_core::{IafConfig, LiConfig, LifConfig, SnnError, Surrogate};

#[test]
fn non_positive_time_constants_and_steps_are_named() {
    let device = Device::flex();
    let cases = [
        (LifConfig::new(3).with_tau_mem_ms(0.0), "tau_mem_ms"),
        (LifConfig::new(3).with_tau_mem_ms(-2.0), "tau_mem_ms"),
        (LifConfig::new(3).with_tau_syn_ms(Some(-1.0)), "tau_syn_ms"),
        (LifConfig::new(3).with_dt_ms(0.0), "dt_ms"),
        (LifConfig::new(3).with_dt_ms(f64::NAN), "dt_ms"),
    ];
    for (config, field) in cases {
        let err = config.init(&device).unwrap_err();
        assert!(
            matches!(err, SnnError::NotPositive { field: f, .. } if f == field),
            "{field}: {err:?}"
        );
        assert!(err.to_string().contains(field), "{err}");
    }
    let err = LiConfig::new(2)
        .with_tau_mem_ms(0.0)
        .init(&device)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotPositive {
                field: "tau_mem_ms",
                ..
            }
        ),
        "{err:?}"
    );
    let err = IafConfig::new(2)
        .with_dt_ms(-1.0)
        .init(&device)
        .unwrap_err();
    assert!(
        matches!(err, SnnError::NotPositive { field: "dt_ms", .. }),
        "{err:?}"
    );
}

#[test]
fn non_finite_thresholds_are_named() {
    let device = Device::flex();
    for value in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let err = LifConfig::new(3)
            .with_threshold(value)
            .init(&device)
            .unwrap_err();
        assert!(
            matches!(
                err,
                SnnError::NotFinite {
                    field: "threshold",
                    ..
                }
            ),
            "{err:?}"
        );
        let err = IafConfig::new(3)
            .with_threshold(value)
            .init(&device)
            .unwrap_err();
        assert!(
            matches!(
                err,
                SnnError::NotFinite {
                    field: "threshold",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

#[test]
fn other_bad_configs() {
    let device = Device::flex();
    let err = LifConfig::new(0).init(&device).unwrap_err();
    assert_eq!(err, SnnError::ZeroSize { field: "size" });
    let err = LifConfig::new(3)
        .with_dt_ms(20.0)
        .init(&device)
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::UnstableEuler {
                field: "tau_mem_ms",
                ..
            }
        ),
        "{err:?}"
    );
    let err = LifConfig::new(3)
        .with_surrogate(Surrogate::SuperSpike { alpha: -1.0 })
        .init(&device)
        .unwrap_err();
    assert!(err.to_string().contains("surrogate.alpha"), "{err}");
    for beta in [0.0, 1.0, 1.5, f64::NAN] {
        let err = LifConfig::from_beta(3, beta).unwrap_err();
        assert!(
            matches!(err, SnnError::OutOfRange { field: "beta", .. }),
            "{err:?}"
        );
    }
    let err = LifConfig::from_norse(3, 0.0, Some(200.0), 1e-3).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::NotPositive {
                field: "tau_mem_inv",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn wrong_rank_is_reported_with_the_shape() {
    let device = Device::flex();
    let lif = LifConfig::new(4).init(&device).unwrap();
    let err = lif
        .forward(Tensor::<2>::zeros([2, 4], &device))
        .unwrap_err();
    assert_eq!(
        err,
        SnnError::RankMismatch {
            context: "Lif::forward input",
            expected: ">= 3 ([batch, time, features...])",
            actual: 2,
            shape: vec![2, 4],
        }
    );
    let err = lif
        .step(Tensor::<1>::zeros([4], &device), lif.init_state(1))
        .unwrap_err();
    assert!(
        matches!(err, SnnError::RankMismatch { actual: 1, .. }),
        "{err:?}"
    );
    let li = LiConfig::new(4).init(&device).unwrap();
    let err = li.forward(Tensor::<2>::zeros([3, 4], &device)).unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::RankMismatch {
                context: "Li::forward input",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn wrong_feature_size_names_expected_and_actual_shapes() {
    let device = Device::flex();
    let lif = LifConfig::new(4).init(&device).unwrap();
    let err = lif
        .forward(Tensor::<3>::zeros([2, 5, 3], &device))
        .unwrap_err();
    let SnnError::ShapeMismatch {
        context,
        expected,
        actual,
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(*context, "Lif::forward input");
    assert!(expected.contains("4 features"), "{expected}");
    assert_eq!(actual, &vec![2, 5, 3]);
    assert!(err.to_string().contains("[2, 5, 3]"), "{err}");

    // a state of another batch size
    let err = lif
        .step(Tensor::<2>::zeros([2, 4], &device), lif.init_state(3))
        .unwrap_err();
    assert!(
        matches!(
            err,
            SnnError::ShapeMismatch {
                context: "Lif::step state",
                ..
            }
        ),
        "{err:?}"
    );

    // feature dims are flattened: [batch, time, 2, 2] is 4 neurons
    let ok = lif
        .forward(Tensor::<4>::ones([1, 3, 2, 2], &device) * 3.0)
        .unwrap();
    assert_eq!(ok.spikes.dims(), [1, 3, 2, 2]);

    let iaf = IafConfig::new(2).init(&device).unwrap();
    let err = iaf
        .forward(Tensor::<3>::zeros([1, 0, 2], &device))
        .unwrap_err();
    assert!(
        matches!(err, SnnError::ShapeMismatch { .. }),
        "an empty time axis: {err:?}"
    );
}

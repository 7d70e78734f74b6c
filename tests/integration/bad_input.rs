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

/// Whether a state carries a current or a refractory countdown is the layer's: `state_from`
/// refuses a missing or an extra part and a wrong shape, and a state one layer built is refused
/// by a layer of the other kind before any step (`Li` checks its current like `LifEx`).
#[test]
fn states_are_built_by_their_layer() {
    let device = Device::flex();
    let t = |shape: [usize; 2]| Tensor::<2>::zeros(shape, &device);
    let rejected = |err: SnnError, part: &str| {
        assert!(
            matches!(&err, SnnError::Rejected { reason, .. } if reason.contains(part)),
            "{part}: {err}"
        )
    };
    let box_lif = LifConfig::new(3)
        .with_tau_syn_ms(None)
        .init(&device)
        .unwrap();
    let norse = LifConfig::new(3)
        .with_tau_syn_ms(Some(5.0))
        .with_refractory_ms(Some(2.0))
        .init(&device)
        .unwrap();
    // the layer's own parts are accepted, and run
    let state = norse.state_from(t([2, 3]), Some(t([2, 3])), Some(t([2, 3])));
    let x = Tensor::<3>::ones([2, 4, 3], &device);
    assert!(
        norse
            .forward_with(x.clone(), Some(state.unwrap()), false)
            .is_ok()
    );
    let state = box_lif.state_from(t([2, 3]), None, None).unwrap();
    assert!(state.i().is_none() && state.refrac().is_none());
    // a missing or an extra part, a wrong shape
    rejected(
        norse
            .state_from(t([2, 3]), None, Some(t([2, 3])))
            .unwrap_err(),
        "current",
    );
    rejected(
        norse
            .state_from(t([2, 3]), Some(t([2, 3])), None)
            .unwrap_err(),
        "countdown",
    );
    rejected(
        box_lif
            .state_from(t([2, 3]), Some(t([2, 3])), None)
            .unwrap_err(),
        "current",
    );
    let err = norse.state_from(t([2, 3]), Some(t([2, 4])), Some(t([2, 3])));
    assert!(
        matches!(err, Err(SnnError::ShapeMismatch { .. })),
        "{err:?}"
    );
    // one layer's state given to a layer of the other kind
    rejected(
        box_lif
            .forward_with(x.clone(), Some(norse.init_state(2)), false)
            .unwrap_err(),
        "current",
    );
    let li = LiConfig::new(3)
        .with_tau_syn_ms(None)
        .init(&device)
        .unwrap();
    let li_syn = LiConfig::new(3).init(&device).unwrap();
    assert!(
        li_syn.init_state(2).i().is_some(),
        "Li's default has a synapse"
    );
    rejected(
        li.state_from(t([2, 3]), Some(t([2, 3]))).unwrap_err(),
        "current",
    );
    rejected(
        li.forward_with(x.clone(), Some(li_syn.init_state(2)), false)
            .unwrap_err(),
        "current",
    );
    rejected(
        Neuron::step(&li_syn, t([2, 3]), li.init_state(2)).unwrap_err(),
        "current",
    );
    assert!(li.forward_with(x, Some(li.init_state(2)), false).is_ok());
}

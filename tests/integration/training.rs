//! End to end: the main job's training code learns the shipped digits.

use burn::prelude::*;
use snn_train::{DigitsDataset, TrainConfig, train};

#[test]
fn a_short_run_learns_the_digits_well_above_chance() {
    let data = DigitsDataset::load(DigitsDataset::shipped_path()).expect("shipped dataset");
    let base = TrainConfig::digits().with_epochs(3);
    let config = TrainConfig {
        model: base.model.clone().with_hidden(64),
        ..base
    };
    let dir = std::env::temp_dir().join(format!("burn-snn-train-test-{}", std::process::id()));
    let report = train(&config, &data, &Device::flex(), &dir).expect("training");
    let _ = std::fs::remove_dir_all(&dir);
    let (_, held_out) = data.split(config.test_fraction, config.seed);
    assert_eq!(report.test_samples, held_out.items().len());
    // chance is 10 %; a linear model reaches 96.7 % (datasets/digits/README.md)
    assert!(
        report.test_accuracy > 0.7,
        "held-out accuracy after 3 epochs: {}",
        report.test_accuracy
    );
}

#[test]
fn bad_settings_are_rejected_before_training() {
    let data = DigitsDataset::from_items(Vec::new());
    let err = train(
        &TrainConfig::digits().with_epochs(0),
        &data,
        &Device::flex(),
        std::env::temp_dir(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("epochs"), "{err}");
    let err = snn_train::device_by_name("tpu").unwrap_err();
    assert!(err.to_string().contains("unknown backend `tpu`"), "{err}");
}

#[test]
fn the_learner_trains_with_any_classification_loss() {
    use snn_losses::ClassificationLoss;
    let data = DigitsDataset::load(DigitsDataset::shipped_path()).expect("shipped dataset");
    for loss in [
        ClassificationLoss::IntegralCrossEntropy { smoothing: 0.3 },
        ClassificationLoss::MseMembrane {
            on_target: 1.0,
            off_target: 0.0,
        },
    ] {
        let base = TrainConfig::digits().with_epochs(2);
        let config = TrainConfig {
            model: base.model.clone().with_hidden(32).with_loss(loss),
            ..base
        };
        let dir = std::env::temp_dir().join(format!("burn-snn-loss-test-{}", std::process::id()));
        let report = train(&config, &data, &Device::flex(), &dir).expect("training");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            report.test_accuracy > 0.5,
            "{loss:?}: held-out accuracy after 2 epochs: {}",
            report.test_accuracy
        );
    }
}

//! End to end: the main job's training code learns the shipped digits.

use burn::prelude::*;
use snn_train::{DigitsDataset, TrainConfig, train};

#[test]
fn a_short_run_learns_the_digits_well_above_chance() {
    let data = DigitsDataset::shipped();
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
    let data = DigitsDataset::shipped();
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

/// A small slice of the digits so that a few epochs take a second. A constant learning rate: a
/// run extended from 1 to 3 epochs then follows the 3-epoch run exactly (a cosine schedule's
/// length follows `epochs`, so extending a run changes its schedule from the resume on).
fn tiny_run() -> (DigitsDataset, TrainConfig) {
    let data = DigitsDataset::shipped();
    let few = DigitsDataset::from_items(data.items()[..300].to_vec());
    let base = TrainConfig::digits()
        .with_epochs(3)
        .with_batch_size(50)
        .with_lr_schedule(snn_train::LrSchedule::Constant);
    let config = TrainConfig {
        model: base.model.clone().with_hidden(16),
        ..base
    };
    (few, config)
}

fn weights(model: &snn_train::SnnClassifier) -> Vec<f32> {
    [
        model.fc1.weight.val().into_data(),
        model.fc2.weight.val().into_data(),
    ]
    .into_iter()
    .flat_map(|d| d.convert::<f32>().try_to_vec::<f32>().unwrap())
    .collect()
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("burn-snn-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Trains 3 epochs straight, and 1 epoch then a resume to 3 from the checkpoint: the weights
/// must agree, on ndarray and on wgpu; the loss must fall; the report must list every epoch.
#[test]
fn a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one() {
    use snn_train::{Resume, train_from};
    let (data, config) = tiny_run();
    let mut backends = vec![("ndarray", Device::ndarray())];
    if let Some((_, wgpu)) = crate::common::devices()
        .into_iter()
        .find(|(n, _)| *n == "wgpu")
    {
        backends.push(("wgpu", wgpu));
    }
    for (name, device) in backends {
        let straight_dir = temp_dir(&format!("straight-{name}"));
        let straight = train(&config, &data, &device, &straight_dir).expect("training");
        let epochs = &straight.summary.epochs;
        assert_eq!(epochs.len(), 3, "{name}: {epochs:?}");
        let loss = |e: usize| epochs[e].train["Loss"];
        assert!(
            loss(2) < loss(0),
            "{name}: training loss did not fall: {epochs:?}"
        );
        assert!(
            epochs[0].valid.contains_key("Firing rate hidden"),
            "{name}: {epochs:?}"
        );
        let report = std::fs::read_to_string(straight_dir.join("report.json")).unwrap();
        assert!(report.contains("\"test_accuracy\""), "{report}");

        let split_dir = temp_dir(&format!("split-{name}"));
        train(&config.clone().with_epochs(1), &data, &device, &split_dir).expect("first epoch");
        assert_eq!(snn_train::checkpoint::latest_complete(&split_dir), Some(1));
        let resumed =
            train_from(&config, &data, &device, &split_dir, Resume::Latest).expect("resume");
        assert_eq!(resumed.summary.resumed_after_epoch, 1);
        assert_eq!(resumed.summary.epochs.len(), 3);
        crate::common::assert_close(
            &format!("{name}: resumed weights"),
            &weights(&resumed.model),
            &weights(&straight.model),
            1e-5,
            1e-4,
        );
        let _ = std::fs::remove_dir_all(&straight_dir);
        let _ = std::fs::remove_dir_all(&split_dir);
    }
}

#[test]
fn a_missing_or_damaged_checkpoint_is_an_error_not_a_fresh_start() {
    use snn_train::{Resume, TrainError, train_from};
    let (data, config) = tiny_run();
    let dir = temp_dir("damaged");
    eprintln!("damaged test dir {}", dir.display());
    let err = train_from(&config, &data, &Device::flex(), &dir, Resume::FromEpoch(2)).unwrap_err();
    assert!(matches!(err, TrainError::Checkpoint { .. }), "{err}");
    train(&config.clone().with_epochs(1), &data, &Device::flex(), &dir).expect("one epoch");
    // cut the model record short, as a run killed while writing it would
    let model = dir.join("learner/checkpoint/model-1.bpk");
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(snn_train::checkpoint::latest_complete(&dir), None);
    let err = train_from(&config, &data, &Device::flex(), &dir, Resume::FromEpoch(1)).unwrap_err();
    assert!(err.to_string().contains("model-1.bpk"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_same_seed_gives_the_same_network_on_every_backend() {
    let config = TrainConfig::digits().model;
    let a = config.init_seeded(&Device::ndarray(), 7).unwrap();
    let b = config.init_seeded(&Device::flex(), 7).unwrap();
    let c = config.init_seeded(&Device::flex(), 8).unwrap();
    assert_eq!(weights(&a), weights(&b));
    assert_ne!(weights(&a), weights(&c));
    // the range of burn's default initializer, U(-1/sqrt(64), 1/sqrt(64)) for the first layer
    let bound = 1.0 / 8.0;
    assert!(weights(&a)[..64 * 128].iter().all(|w| w.abs() <= bound));
}

#[test]
fn an_output_folder_that_cannot_be_written_is_a_clear_error() {
    let (data, config) = tiny_run();
    let file = temp_dir("not-a-folder");
    std::fs::write(&file, b"a file").unwrap();
    let err = train(&config, &data, &Device::flex(), file.join("out")).unwrap_err();
    assert!(err.to_string().contains("not-a-folder"), "{err}");
    let _ = std::fs::remove_file(&file);
}

/// burn's multi-device data parallelism through `train_data_parallel`: two CPU devices stand in
/// for two GPUs (each batch split in two, gradients summed on the first); it must learn as a
/// single device does.
#[test]
fn data_parallel_training_on_two_devices_learns() {
    let (data, config) = tiny_run();
    let dir = temp_dir("data-parallel");
    let devices = [Device::ndarray(), Device::flex()];
    let report =
        snn_train::train_data_parallel(&config, &data, &devices, &dir, snn_train::Resume::Fresh)
            .expect("data-parallel training");
    let epochs = &report.summary.epochs;
    assert!(
        epochs[2].train["Loss"] < epochs[0].train["Loss"],
        "loss did not fall: {epochs:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The randman path of the training wrapper: a small generated task (3 classes, 10 units, 30
/// steps) trains through the same Learner code as the digits, and the loss falls.
#[test]
fn randman_trains_through_the_learner() {
    use snn_core::{Discretization, LifConfig};
    use snn_train::data::RandmanConfig;
    let randman = RandmanConfig::new()
        .with_nb_classes(3)
        .with_nb_units(10)
        .with_nb_steps(30)
        .with_nb_samples(60);
    let base = TrainConfig::digits().with_epochs(4).with_batch_size(30);
    let model = snn_train::SnnClassifierConfig {
        inputs: 10,
        classes: 3,
        ..base.model.clone()
    }
    .with_hidden(32)
    .with_lif(
        LifConfig::new(1)
            .with_tau_mem_ms(20.0)
            .with_tau_syn_ms(Some(10.0))
            .with_discretization(Discretization::ExactDecay),
    );
    let config = TrainConfig { model, ..base };
    let dir = temp_dir("randman");
    let report = snn_train::train_randman(
        &config,
        &randman,
        &[Device::flex()],
        &dir,
        snn_train::Resume::Fresh,
    )
    .expect("randman training");
    let epochs = &report.summary.epochs;
    assert!(
        epochs[3].train["Loss"] < epochs[0].train["Loss"],
        "loss did not fall: {epochs:?}"
    );
    assert_eq!(report.test_samples, 36, "20 % of 180 samples");
    // a model that does not fit the task is refused before training
    let wrong = TrainConfig {
        model: snn_train::SnnClassifierConfig {
            inputs: 11,
            ..config.model.clone()
        },
        ..config.clone()
    };
    let err = snn_train::train_randman(
        &wrong,
        &randman,
        &[Device::flex()],
        &dir,
        snn_train::Resume::Fresh,
    )
    .unwrap_err();
    assert!(err.to_string().contains("randman needs inputs 10"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

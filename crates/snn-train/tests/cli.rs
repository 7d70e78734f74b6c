//! The `snn-train` command line, run as a user runs it: exit codes, messages and the event
//! datasets (`--dataset shd|nmnist`) on small files written in the real layouts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use snn_train::data::{EventSample, TimeUnit, nmnist, shd};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("snn-train-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn snn_train(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snn-train"))
        .args(args)
        .output()
        .expect("the snn-train binary runs")
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally, not by a signal")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Two separable classes (0 and 1) of SHD-layout samples: class 0 fires units 0..10 early,
/// class 1 units 10..20 late, with a little per-sample variation.
fn two_class_shd(n_per_class: usize) -> Vec<EventSample> {
    let mut samples = Vec::new();
    for k in 0..n_per_class {
        for class in 0..2u32 {
            let (mut times, mut units) = (Vec::new(), Vec::new());
            for u in 0..10u32 {
                for rep in 0..3 {
                    let t = if class == 0 { 0.1 } else { 0.8 }
                        + 0.02 * f64::from(rep)
                        + 0.005 * ((k as u32 + u) % 4) as f64;
                    times.push(t);
                    units.push(class * 10 + u);
                }
            }
            samples.push(EventSample::new(
                times,
                units,
                TimeUnit::Second,
                class as usize,
            ));
        }
    }
    samples
}

fn report_accuracy(dir: &Path) -> f64 {
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["test_accuracy"]
        .as_f64()
        .expect("test_accuracy in the report")
}

#[test]
fn help_lists_every_option_and_exits_0() {
    let out = snn_train(&["--help"]);
    assert_eq!(code(&out), 0);
    let text = String::from_utf8_lossy(&out.stdout);
    for option in [
        "--dataset",
        "--backend",
        "--epochs",
        "--hidden",
        "--time-steps",
        "--encoding",
        "--model",
        "--batch-size",
        "--lr",
        "--seed",
        "--loss",
        "--data",
        "--test-data",
        "--out",
        "--resume",
    ] {
        assert!(text.contains(option), "--help does not document {option}");
    }
}

#[test]
fn bad_settings_exit_2_with_the_bad_value_named() {
    let dir = scratch("settings");
    let out_dir = dir.join("out");
    let out = out_dir.to_str().unwrap();
    for (args, needle) in [
        (vec!["--backend", "tpu"], "tpu"),
        (vec!["--dataset", "imagenet"], "imagenet"),
        (vec!["--epochs", "many"], "many"),
        (vec!["--dataset", "shd"], "--data"),
        (vec!["--model", "hodgkin"], "hodgkin"),
    ] {
        let mut all = args.clone();
        all.extend(["--out", out]);
        let result = snn_train(&all);
        assert_eq!(code(&result), 2, "{args:?}: {}", stderr(&result));
        assert!(
            stderr(&result).contains(needle),
            "{args:?}: {}",
            stderr(&result)
        );
    }
    assert!(!out_dir.join("checkpoint").exists());
}

#[test]
fn unreadable_datasets_exit_3_and_leave_no_checkpoint() {
    let dir = scratch("data");
    let garbage = dir.join("garbage.h5");
    std::fs::write(&garbage, b"this is not an HDF5 file").unwrap();
    let beyond = dir.join("labels_beyond.h5");
    let mut samples = two_class_shd(2);
    samples[1].label = 20; // SHD has classes 0..20
    shd::write_shd(&beyond, &samples).unwrap();
    let missing = dir.join("missing.h5");
    let cases = [
        ("shd", missing.clone(), "missing.h5"),
        ("shd", garbage, "garbage.h5"),
        ("shd", beyond, "20"),
        ("nmnist", dir.join("no-such-folder"), "no-such-folder"),
        ("digits", missing, "missing.h5"),
    ];
    for (dataset, path, needle) in cases {
        let out_dir = dir.join(format!("out-{dataset}"));
        let result = snn_train(&[
            "--dataset",
            dataset,
            "--data",
            path.to_str().unwrap(),
            "--out",
            out_dir.to_str().unwrap(),
        ]);
        assert_eq!(code(&result), 3, "{dataset} {path:?}: {}", stderr(&result));
        assert!(stderr(&result).contains(needle), "{}", stderr(&result));
        assert!(!out_dir.join("checkpoint").exists());
    }
}

#[test]
fn an_output_folder_that_cannot_be_written_exits_1() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let out_dir = file.join("out"); // a folder inside a file
    let result = snn_train(&["--epochs", "1", "--out", out_dir.to_str().unwrap()]);
    assert_eq!(code(&result), 1, "{}", stderr(&result));
    assert!(stderr(&result).contains("a-file"), "{}", stderr(&result));
}

#[test]
fn shd_files_train_from_the_command_line() {
    let dir = scratch("shd");
    let (train, test) = (dir.join("shd_train.h5"), dir.join("shd_test.h5"));
    shd::write_shd(&train, &two_class_shd(16)).unwrap();
    shd::write_shd(&test, &two_class_shd(4)).unwrap();
    let out_dir = dir.join("run");
    let result = snn_train(&[
        "--dataset",
        "shd",
        "--data",
        train.to_str().unwrap(),
        "--test-data",
        test.to_str().unwrap(),
        "--epochs",
        "10",
        "--lr",
        "0.03",
        "--hidden",
        "16",
        "--time-steps",
        "20",
        "--batch-size",
        "8",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("32 training samples"), "{stdout}");
    assert!(stdout.contains("on 8 held-out samples"), "{stdout}");
    let accuracy = report_accuracy(&out_dir);
    assert!(
        accuracy >= 0.9,
        "two separable classes, accuracy {accuracy}"
    );
}

#[test]
fn nmnist_folders_train_from_the_command_line() {
    let dir = scratch("nmnist");
    let train = dir.join("Train");
    // digit 1: events in the left half of the sensor; digit 4: in the right half
    for (digit, x0) in [(1usize, 0u16), (4, 17)] {
        std::fs::create_dir_all(train.join(digit.to_string())).unwrap();
        for k in 0..10u16 {
            let xy: Vec<(u16, u16)> = (0..40).map(|e| (x0 + (e + k) % 17, e % 34)).collect();
            let polarity: Vec<bool> = (0..40).map(|e| e % 2 == 0).collect();
            let units = xy
                .iter()
                .zip(&polarity)
                .map(|(&(x, y), &p)| u32::from(p) * 1156 + u32::from(y) * 34 + u32::from(x))
                .collect();
            let sample = EventSample {
                times: (0..40).map(|e| f64::from(e) * 7000.0).collect(),
                units,
                time_unit: TimeUnit::Microsecond,
                polarity: Some(polarity),
                xy: Some(xy),
                label: digit,
            };
            let path = train.join(format!("{digit}/{k:05}.bin"));
            nmnist::write_nmnist(&path, &sample).unwrap();
        }
    }
    let out_dir = dir.join("run");
    let result = snn_train(&[
        "--dataset",
        "nmnist",
        "--data",
        train.to_str().unwrap(),
        "--epochs",
        "2",
        "--hidden",
        "16",
        "--time-steps",
        "10",
        "--batch-size",
        "4",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    // no --test-data: 20 % of the 20 samples held out
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(stdout.contains("on 4 held-out samples"), "{stdout}");
    let report = std::fs::read_to_string(out_dir.join("report.json")).unwrap();
    assert!(report.contains("\"time_steps\": 10"), "{report}");
}

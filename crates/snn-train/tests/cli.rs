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
    // SHD's default network is the literature's: one recurrent hidden layer
    assert!(
        stdout.contains("16 recurrent hidden LIF neurons"),
        "{stdout}"
    );
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

/// The files under `dir`, relative, sorted (folders not listed).
fn files_under(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// A tiny digits run (8 hidden neurons, 1 epoch unless `extra` says otherwise) into `out`.
fn tiny_digits(out: &Path, extra: &[&str]) -> Output {
    let out_flag = format!("--out={}", out.display());
    let mut args = vec!["--hidden", "8", "--epochs", "1", "--batch-size", "64"];
    args.extend(extra);
    args.push(&out_flag);
    snn_train(&args)
}

#[test]
fn recurrent_and_stacked_hidden_layers_train_from_the_command_line() {
    let dir = scratch("stacked");
    let out = dir.join("run");
    let result = tiny_digits(&out, &["--hidden", "12,6", "--recurrent"]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    let stdout = String::from_utf8_lossy(&result.stdout);
    assert!(
        stdout.contains("12+6 recurrent hidden LIF neurons"),
        "{stdout}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["model"]["hidden"], 12);
    assert_eq!(config["model"]["more_hidden"], serde_json::json!([6]));
    assert_eq!(config["model"]["recurrent"], true);
    // a layer size of 0 is a setting error, and --feed-forward contradicts --recurrent
    let zero = tiny_digits(&dir.join("zero"), &["--hidden", "12,0"]);
    assert_eq!(code(&zero), 2, "{}", stderr(&zero));
    assert!(stderr(&zero).contains("hidden"), "{}", stderr(&zero));
    let both = tiny_digits(&dir.join("both"), &["--recurrent", "--feed-forward"]);
    assert_eq!(code(&both), 2, "{}", stderr(&both));
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

/// The files the manifest in `dir` lists.
fn listed_files(dir: &Path) -> Vec<String> {
    manifest(dir)["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn version_and_flag_equals_value_work() {
    let out = snn_train(&["--version"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    // --flag=value, and a bad value in that form is a usage error (exit 2) naming the value
    let bad = snn_train(&["--epochs=many"]);
    assert_eq!(code(&bad), 2);
    assert!(stderr(&bad).contains("many"), "{}", stderr(&bad));
    let help = snn_train(&["nir", "--help"]);
    assert_eq!(code(&help), 0);
    assert!(String::from_utf8_lossy(&help.stdout).contains("export"));
}

#[test]
fn a_foreign_file_in_the_output_folder_survives_and_the_run_is_refused() {
    let dir = scratch("precious");
    let out = dir.join("run");
    std::fs::create_dir_all(out.join("train")).unwrap();
    std::fs::write(out.join("train/precious.txt"), b"my notes").unwrap();
    std::fs::write(out.join("config.json"), b"{\"mine\": true}").unwrap();
    let result = tiny_digits(&out, &[]);
    assert_eq!(code(&result), 2, "{}", stderr(&result));
    let message = stderr(&result);
    assert!(message.contains(&out.display().to_string()), "{message}");
    assert!(
        message.contains("`config.json`") || message.contains("`train`"),
        "{message}"
    );
    // even when foreign files are allowed, a file the run would write is not written over
    let result = tiny_digits(&out, &["--allow-foreign-files"]);
    assert_eq!(code(&result), 2, "{}", stderr(&result));
    assert!(
        stderr(&result).contains("config.json"),
        "{}",
        stderr(&result)
    );
    assert_eq!(
        std::fs::read(out.join("config.json")).unwrap(),
        b"{\"mine\": true}"
    );
    // without that file in the way, the run writes beside the foreign one and leaves it alone
    std::fs::remove_file(out.join("config.json")).unwrap();
    let result = tiny_digits(&out, &["--allow-foreign-files"]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    assert_eq!(
        std::fs::read(out.join("train/precious.txt")).unwrap(),
        b"my notes"
    );
    let listed = listed_files(&out);
    assert!(!listed.iter().any(|f| f.contains("precious")), "{listed:?}");
    assert!(listed.contains(&"report.json".to_string()), "{listed:?}");
    assert!(
        listed.iter().any(|f| f.starts_with("learner/checkpoint/")),
        "{listed:?}"
    );
}

#[test]
fn overwrite_removes_exactly_the_previous_runs_files() {
    let dir = scratch("overwrite");
    let out = dir.join("run");
    assert_eq!(code(&tiny_digits(&out, &["--epochs", "2"])), 0);
    let before = files_under(&out);
    let listed = listed_files(&out);
    assert_eq!(
        before, listed,
        "the manifest lists every file the run wrote"
    );
    // a second fresh run into the same folder must ask
    let again = tiny_digits(&out, &[]);
    assert_eq!(code(&again), 2, "{}", stderr(&again));
    assert!(stderr(&again).contains("--overwrite"), "{}", stderr(&again));
    // a file of the user's inside the run's learner folder blocks the overwrite and survives
    let mine = out.join("learner/checkpoint/mine.txt");
    std::fs::write(&mine, b"keep").unwrap();
    let blocked = tiny_digits(&out, &["--overwrite"]);
    assert_eq!(code(&blocked), 2, "{}", stderr(&blocked));
    assert!(
        stderr(&blocked).contains("mine.txt"),
        "{}",
        stderr(&blocked)
    );
    assert_eq!(std::fs::read(&mine).unwrap(), b"keep");
    let mut with_mine = before.clone();
    with_mine.push("learner/checkpoint/mine.txt".into());
    with_mine.sort();
    assert_eq!(
        files_under(&out),
        with_mine,
        "a refused overwrite removes nothing"
    );
    std::fs::remove_file(&mine).unwrap();
    // the overwrite removed the first run's files (its epoch-2 checkpoint is gone: the new run
    // trains one epoch) and the user's file beside the run survives
    std::fs::write(out.join("notes.txt"), b"beside").unwrap();
    // a foreign file beside the run without --allow-foreign-files: refused, nothing removed
    let refused = tiny_digits(&out, &["--overwrite"]);
    assert_eq!(code(&refused), 2, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("notes.txt"),
        "{}",
        stderr(&refused)
    );
    let mut with_notes = before.clone();
    with_notes.push("notes.txt".into());
    with_notes.sort();
    assert_eq!(
        files_under(&out),
        with_notes,
        "a refused overwrite removes nothing"
    );
    let result = tiny_digits(&out, &["--overwrite", "--allow-foreign-files"]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    assert!(
        before.iter().any(|f| f == "learner/checkpoint/model-2.bpk"),
        "{before:?}"
    );
    assert!(!out.join("learner/checkpoint/model-2.bpk").exists());
    assert_eq!(std::fs::read(out.join("notes.txt")).unwrap(), b"beside");
}

/// A later start of the run (a resume) lists only what burn's learner writes: a file of the
/// user's dropped into the learner folder stays unlisted, so an `--overwrite` still refuses and
/// the file survives. A temporary file a killed start left beside the outputs does not stop the
/// resume.
#[test]
fn a_resume_claims_no_users_file_and_clears_its_own_temporary_files() {
    let dir = scratch("resume-foreign");
    let out = dir.join("run");
    assert_eq!(code(&tiny_digits(&out, &[])), 0);
    let mine = out.join("learner/checkpoint/mine.txt");
    std::fs::write(&mine, b"keep").unwrap();
    // what a start killed inside its atomic write of config.json leaves
    let partial = out.join(".config.999999.partial.json");
    std::fs::write(&partial, b"{").unwrap();
    let resumed = tiny_digits(&out, &["--resume", "latest", "--epochs", "2"]);
    assert_eq!(code(&resumed), 0, "{}", stderr(&resumed));
    assert!(!partial.exists(), "the run's own temporary file is cleared");
    let listed = listed_files(&out);
    assert!(!listed.iter().any(|f| f.contains("mine.txt")), "{listed:?}");
    assert!(
        listed.iter().any(|f| f == "learner/checkpoint/model-2.bpk"),
        "{listed:?}"
    );
    let blocked = tiny_digits(&out, &["--overwrite"]);
    assert_eq!(code(&blocked), 2, "{}", stderr(&blocked));
    assert!(
        stderr(&blocked).contains("mine.txt"),
        "{}",
        stderr(&blocked)
    );
    assert_eq!(std::fs::read(&mine).unwrap(), b"keep");
}

/// A manifest of another version, or one too large to be a manifest, is refused with a typed
/// error before anything in the folder is touched.
#[test]
fn a_manifest_of_another_version_or_size_is_refused_and_nothing_removed() {
    let dir = scratch("manifest-version");
    let out = dir.join("run");
    assert_eq!(code(&tiny_digits(&out, &[])), 0);
    let text = std::fs::read_to_string(out.join("run.json")).unwrap();
    let newer = text.replacen("\"version\": 1", "\"version\": 2", 1);
    assert_ne!(newer, text, "the manifest states its version");
    std::fs::write(out.join("run.json"), &newer).unwrap();
    let before = files_under(&out);
    let refused = tiny_digits(&out, &["--overwrite"]);
    assert_eq!(code(&refused), 4, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("version 2"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(files_under(&out), before, "nothing removed");
    // a file named like the manifest but larger than any manifest: a limit error (exit 1, an
    // error of the run folder, not of the data), read no further than the cap
    let huge = std::fs::File::create(out.join("run.json")).unwrap();
    huge.set_len(65 << 20).unwrap();
    let refused = tiny_digits(&out, &["--overwrite"]);
    assert_eq!(code(&refused), 1, "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("run manifest size"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(files_under(&out), before, "nothing removed");
}

#[test]
fn a_resume_with_other_settings_or_data_exits_4_naming_each_field() {
    let dir = scratch("resume");
    let out = dir.join("run");
    assert_eq!(code(&tiny_digits(&out, &[])), 0);
    let other_data = dir.join("digits-copy.csv.gz");
    {
        // the first 500 shipped digits as a file of the user's
        use std::io::Write as _;
        let data = snn_train::DigitsDataset::shipped();
        let mut text = String::new();
        for item in &data.items()[..500] {
            let pixels: Vec<String> = item
                .pixels
                .iter()
                .map(|p| format!("{}", (p * 16.0).round()))
                .collect();
            text += &format!("{},{}\n", pixels.join(","), item.label);
        }
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(text.as_bytes()).unwrap();
        std::fs::write(&other_data, gz.finish().unwrap()).unwrap();
    }
    let data_flag = format!("--data={}", other_data.display());
    for (extra, field) in [
        (vec!["--hidden", "16"], "model.hidden"),
        (vec!["--seed", "7"], "seed"),
        (vec![data_flag.as_str()], "data.content_hash"),
        (vec!["--lr", "0.02"], "learning_rate"),
    ] {
        let mut args = vec!["--resume", "latest", "--epochs", "2"];
        args.extend(extra.iter().copied());
        let result = tiny_digits(&out, &args);
        assert_eq!(code(&result), 4, "{extra:?}: {}", stderr(&result));
        assert!(
            stderr(&result).contains(field),
            "{extra:?}: {}",
            stderr(&result)
        );
        assert!(!stderr(&result).contains("panicked"), "{}", stderr(&result));
    }
    // a changed --hidden and --seed together: both named
    let result = tiny_digits(
        &out,
        &[
            "--resume", "latest", "--epochs", "2", "--hidden", "16", "--seed", "7",
        ],
    );
    assert_eq!(code(&result), 4);
    assert!(stderr(&result).contains("model.hidden") && stderr(&result).contains("seed"));
    // more epochs, same everything else: resumes, and the manifest records the change
    let result = tiny_digits(&out, &["--resume", "latest", "--epochs", "2"]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    let starts = manifest(&out)["starts"].as_array().unwrap().clone();
    assert_eq!(starts.len(), 2, "{starts:?}");
    assert_eq!(starts[1]["after_epoch"], 1);
    assert_eq!(starts[1]["changed"]["epochs"], serde_json::json!([1, 2]));
}

#[test]
fn a_damaged_or_foreign_optimizer_record_exits_4() {
    let dir = scratch("optim");
    let out = dir.join("run");
    assert_eq!(code(&tiny_digits(&out, &[])), 0);
    let optim = out.join("learner/checkpoint/optim-1.bpk");
    let good = std::fs::read(&optim).unwrap();
    // cut short, as a run killed while writing it would leave it
    std::fs::write(&optim, &good[..good.len() / 2]).unwrap();
    let result = tiny_digits(&out, &["--resume", "1", "--epochs", "2"]);
    assert_eq!(code(&result), 4, "{}", stderr(&result));
    assert!(
        stderr(&result).contains("optim-1.bpk"),
        "{}",
        stderr(&result)
    );
    // the record of another network (16 hidden neurons): moments of the wrong size
    let other = dir.join("other");
    assert_eq!(code(&tiny_digits(&other, &["--hidden", "16"])), 0);
    std::fs::copy(other.join("learner/checkpoint/optim-1.bpk"), &optim).unwrap();
    let result = tiny_digits(&out, &["--resume", "1", "--epochs", "2"]);
    assert_eq!(code(&result), 4, "{}", stderr(&result));
    assert!(!stderr(&result).contains("panicked"), "{}", stderr(&result));
}

#[test]
fn data_files_beyond_max_file_bytes_exit_3_before_they_are_read() {
    let dir = scratch("max-bytes");
    let train = dir.join("shd_train.h5");
    shd::write_shd(&train, &two_class_shd(4)).unwrap();
    let size = std::fs::metadata(&train).unwrap().len();
    let out_dir = dir.join("run");
    let cap = format!("--max-file-bytes={}", size - 1);
    let result = snn_train(&[
        "--dataset",
        "shd",
        "--data",
        train.to_str().unwrap(),
        &cap,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(code(&result), 3, "{}", stderr(&result));
    assert!(
        stderr(&result).contains("exceeds the limit"),
        "{}",
        stderr(&result)
    );
    assert!(!out_dir.exists(), "nothing written for a refused dataset");
}

/// A run killed in the middle of an epoch has listed every file it wrote (the epoch's files are
/// announced in `run.json` before it starts), so `--overwrite` removes them all and leaves no
/// stray file behind.
#[test]
fn overwrite_after_a_killed_run_removes_everything_it_wrote() {
    let dir = scratch("killed");
    let out = dir.join("run");
    let out_flag = format!("--out={}", out.display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_snn-train"))
        .args([
            "--hidden",
            "8",
            "--epochs",
            "1000",
            "--batch-size",
            "64",
            &out_flag,
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the snn-train binary runs");
    // wait (at most a minute) until the run is inside its third epoch, then kill it
    let started = std::time::Instant::now();
    loop {
        let text = std::fs::read_to_string(out.join("run.json")).unwrap_or_default();
        if text.contains("epoch-3/") {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 60 && child.try_wait().unwrap().is_none(),
            "the run did not reach its third epoch"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!manifest(&out)["complete"].as_bool().unwrap());
    assert!(out.join("learner/checkpoint/model-2.bpk").exists());
    let result = tiny_digits(&out, &["--overwrite"]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    assert!(!out.join("learner/checkpoint/model-2.bpk").exists());
    let listed = listed_files(&out);
    assert_eq!(
        files_under(&out),
        listed,
        "nothing of the killed run is left"
    );
}

/// burn writes each checkpoint through a scratch file `<checkpoint>.<pid>-<n>.tmp` and renames
/// it when complete, so a run killed during that write leaves the scratch file. `--overwrite`
/// removes it when its name is a listed checkpoint's with the pid of one of the run's starts
/// (recorded in `run.json`), and otherwise refuses as for any foreign file. Planted files make
/// the test independent of when a kill lands (the killed-run test above depends on it).
#[test]
fn overwrite_removes_the_scratch_file_of_a_killed_checkpoint_write_and_only_that() {
    let dir = scratch("scratch");
    let out = dir.join("run");
    let result = tiny_digits(&out, &[]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    let pid = manifest(&out)["starts"][0]["pid"]
        .as_u64()
        .expect("the start's pid is recorded");
    let checkpoint = listed_files(&out)
        .into_iter()
        .find(|f| f.starts_with("learner/checkpoint/optim-"))
        .expect("a listed optimizer checkpoint");
    // another process's file of the same shape stops the overwrite, nothing removed
    let foreign = out.join(format!("{checkpoint}.{}-0.tmp", pid + 1));
    std::fs::write(&foreign, b"not the run's").unwrap();
    let refused = tiny_digits(&out, &["--overwrite"]);
    assert_ne!(code(&refused), 0, "an unknown file must stop the overwrite");
    assert!(stderr(&refused).contains(".tmp"), "{}", stderr(&refused));
    assert!(foreign.exists() && out.join(&checkpoint).exists());
    std::fs::remove_file(&foreign).unwrap();
    // the run's own scratch file is removed with the run
    let own = out.join(format!("{checkpoint}.{pid}-3.tmp"));
    std::fs::write(&own, b"half a checkpoint").unwrap();
    let result = tiny_digits(&out, &["--overwrite"]);
    assert_eq!(code(&result), 0, "{}", stderr(&result));
    assert!(!own.exists(), "the killed write's scratch file is gone");
    assert_eq!(
        files_under(&out),
        listed_files(&out),
        "nothing of the old run is left"
    );
}

#[test]
fn nir_export_writes_a_new_file_and_never_replaces_one() {
    let dir = scratch("nir-export");
    let run = dir.join("run");
    let trained = tiny_digits(&run, &[]);
    assert_eq!(code(&trained), 0, "{}", stderr(&trained));
    let file = dir.join("digits.nir");
    let (run_arg, file_arg) = (run.display().to_string(), file.display().to_string());
    // the documented form: a run folder and an output file
    let out = snn_train(&[
        "nir",
        "export",
        "--checkpoint",
        &run_arg,
        "--out",
        &file_arg,
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let graph = snn_nir::read(&file).expect("the export reads back");
    for key in ["dt", "discretization", "update_order", "class_scores"] {
        assert!(graph.metadata.contains_key(key), "metadata {key}");
    }
    let written = std::fs::read(&file).unwrap();
    // a second export to the same path, and one over a user's file, change nothing and exit 2
    let model = run.join("model.bpk").display().to_string();
    let again = snn_train(&["nir", "export", "--model", &model, "--out", &file_arg]);
    assert_eq!(code(&again), 2, "{}", stderr(&again));
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));
    assert_eq!(std::fs::read(&file).unwrap(), written);
    let notes = dir.join("notes.nir");
    std::fs::write(&notes, b"my notes").unwrap();
    let notes_arg = notes.display().to_string();
    let over = snn_train(&[
        "nir",
        "export",
        "--checkpoint",
        &run_arg,
        "--out",
        &notes_arg,
    ]);
    assert_eq!(code(&over), 2, "{}", stderr(&over));
    assert_eq!(std::fs::read(&notes).unwrap(), b"my notes");
    // no temporary file left beside the outputs; both sources at once is a usage error
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["digits.nir", "notes.nir", "run"]);
    let both = snn_train(&[
        "nir",
        "export",
        "--checkpoint",
        &run_arg,
        "--model",
        &model,
        "--out",
        &dir.join("x.nir").display().to_string(),
    ]);
    assert_eq!(code(&both), 2, "{}", stderr(&both));
    assert!(!dir.join("x.nir").exists());
}

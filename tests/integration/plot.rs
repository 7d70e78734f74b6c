//! The figures of `snn_train::plot`: each plot on small data, as PNG (signature and IHDR size
//! read from the bytes) and SVG (an `<svg>` root with the requested width and height), and the
//! typed errors.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use burn_snn::train::EpochMetrics;
use burn_snn::train::plot::{
    Panel, PlotError, PlotOptions, Trace, histogram, rate_histogram, scatter, spike_events,
    spike_raster, trace_grid, traces, training_curves,
};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("burn-snn-plot-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Width and height from the PNG header: the 8-byte signature, then the IHDR chunk (length 13,
/// type `IHDR`, width and height as big-endian u32).
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap();
    assert!(
        bytes.len() > 33,
        "{} is too short for a PNG",
        path.display()
    );
    assert_eq!(
        &bytes[..8],
        b"\x89PNG\r\n\x1a\n",
        "{}: PNG signature",
        path.display()
    );
    assert_eq!(&bytes[8..12], &13u32.to_be_bytes(), "IHDR length");
    assert_eq!(&bytes[12..16], b"IHDR", "first chunk is IHDR");
    let be = |k: usize| u32::from_be_bytes(bytes[k..k + 4].try_into().unwrap());
    assert_eq!(
        &bytes[bytes.len() - 8..bytes.len() - 4],
        b"IEND",
        "ends with IEND"
    );
    (be(16), be(20))
}

/// Width and height attributes of the root `<svg>` element, after checking the document is
/// well-formed at the level of its tags: one `<svg ...>` root closed by `</svg>`, balanced tags.
fn svg_size(path: &Path) -> (u32, u32) {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("<svg").expect("an <svg> element");
    assert!(text.trim_end().ends_with("</svg>"), "closed by </svg>");
    let mut depth = 0i64;
    for tag in text.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap();
        if tag.starts_with('?') || tag.starts_with('!') {
            continue;
        } else if tag.starts_with('/') {
            depth -= 1;
        } else if !tag.ends_with('/') {
            depth += 1;
        }
        assert!(depth >= 0, "a closing tag without its opening tag");
    }
    assert_eq!(depth, 0, "every tag is closed");
    let root = &text[start..start + text[start..].find('>').unwrap()];
    let attr = |name: &str| -> u32 {
        let key = format!(" {name}=\"");
        let at = root
            .find(&key)
            .unwrap_or_else(|| panic!("no {name} in {root}"))
            + key.len();
        root[at..at + root[at..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    (attr("width"), attr("height"))
}

/// Draws with `draw` as PNG and SVG and checks both files' sizes.
fn check_both(name: &str, size: (u32, u32), draw: impl Fn(&Path) -> Result<(), PlotError>) {
    let dir = temp_dir(name);
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.SVG")); // the extension is matched in any case
    draw(&png).unwrap();
    draw(&svg).unwrap();
    assert_eq!(png_size(&png), size, "{name}.png");
    assert_eq!(svg_size(&svg), size, "{name}.svg");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn spike_raster_from_a_tensor() {
    let device = Device::ndarray();
    // [time 4, neurons 3]
    let spikes = Tensor::<2>::from_floats(
        [
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0],
            [0.0, 0.0, 0.0],
            [1.0, 1.0, 0.0],
        ],
        &device,
    );
    let events = spike_events(spikes, 0.5).unwrap();
    assert_eq!(events, vec![(0.0, 0), (0.5, 2), (1.5, 0), (1.5, 1)]);
    let options = PlotOptions::new("Raster").with_size(320, 240);
    check_both("raster", (320, 240), |p| {
        spike_raster(p, &events, 3, &options)
    });
}

#[test]
fn traces_with_a_threshold_and_a_grid() {
    let v = Trace::new("v", 1.0, vec![0.0, 0.5, 0.95, 1.2, 0.0, 0.4]);
    let i = Trace::new("i", 1.0, vec![0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
    let options = PlotOptions::new("LIF (τ = 10 ms)").with_size(400, 300);
    check_both("traces", (400, 300), |p| {
        traces(p, &[v.clone(), i.clone()], Some(1.0), &options)
    });
    let panels: Vec<Panel> = (0..5)
        .map(|k| Panel {
            title: format!("panel {k}"),
            traces: vec![Trace::new(
                "",
                0.25,
                (0..20).map(|t| (t * k) as f64).collect(),
            )],
            threshold: (k % 2 == 0).then_some(10.0),
        })
        .collect();
    let options = PlotOptions::new("Grid").with_size(600, 420);
    check_both("grid", (600, 420), |p| trace_grid(p, &panels, 3, &options));
    // from a tensor
    let t = Trace::from_tensor(
        "v",
        1.0,
        Tensor::<1>::from_floats([0.0, 1.0, 2.0], &Device::ndarray()),
    )
    .unwrap();
    assert_eq!(t.values, vec![0.0, 1.0, 2.0]);
}

#[test]
fn histograms_of_rates_and_of_two_sets() {
    let rates: Vec<f64> = (0..50).map(|k| (k % 7) as f64 * 3.0).collect();
    let options = PlotOptions::new("Firing rates").with_size(300, 200);
    check_both("rates", (300, 200), |p| {
        rate_histogram(p, &rates, 10, &options)
    });
    let before = [0.5; 20];
    let after: Vec<f64> = (0..20).map(|k| if k < 10 { 1.0 } else { 0.0 }).collect();
    let options = PlotOptions::new("Weights").with_size(500, 350);
    check_both("weights", (500, 350), |p| {
        histogram(
            p,
            &[("before", &before[..]), ("after", &after[..])],
            20,
            &options,
        )
    });
}

#[test]
fn scatter_draws_every_finite_point_and_a_legend_dot_per_series() {
    let hits = [(1.0, 12.0), (2.5, 8.0), (f64::NAN, 3.0)];
    let misses = [(4.0, 50.0)];
    let series = [("latency", &hits[..]), ("missed", &misses[..])];
    let options = PlotOptions::new("Latency").with_size(400, 300);
    check_both("scatter", (400, 300), |p| scatter(p, &series, &options));
    let dir = temp_dir("scatter-count");
    let svg = dir.join("points.svg");
    scatter(&svg, &series, &options).unwrap();
    let text = std::fs::read_to_string(&svg).unwrap();
    // three finite points and one legend dot per series; the NaN point is left out
    assert_eq!(text.matches("<circle").count(), 3 + 2, "{text}");
    let only_nan = [(f64::NAN, 1.0)];
    let err = scatter(dir.join("none.png"), &[("x", &only_nan[..])], &options).unwrap_err();
    assert!(
        matches!(err, PlotError::Data { what: "series", .. }),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn training_curves_from_epoch_metrics() {
    let epochs: Vec<EpochMetrics> = (1..=4)
        .map(|epoch| EpochMetrics {
            epoch,
            train: [
                ("Loss".into(), 2.0 / epoch as f64),
                ("Accuracy".into(), 0.2 * epoch as f64),
            ]
            .into(),
            valid: [
                ("Loss".into(), 2.2 / epoch as f64),
                ("Accuracy".into(), 0.18 * epoch as f64),
            ]
            .into(),
        })
        .collect();
    let options = PlotOptions::new("Training").with_size(700, 300);
    check_both("curves", (700, 300), |p| {
        training_curves(p, &epochs, &options)
    });
}

#[test]
fn bad_extension_path_and_data_are_typed_errors() {
    let dir = temp_dir("errors");
    let events = [(0.0, 0)];
    let options = PlotOptions::new("x").with_size(100, 100);
    for name in ["figure.jpg", "figure", "figure.png.txt"] {
        let err = spike_raster(dir.join(name), &events, 1, &options).unwrap_err();
        assert!(
            matches!(err, PlotError::UnknownFormat { .. }),
            "{name}: {err}"
        );
        assert!(!dir.join(name).exists(), "{name} must not be created");
    }
    let missing = dir.join("no-such-folder").join("figure.png");
    let err = spike_raster(&missing, &events, 1, &options).unwrap_err();
    assert!(matches!(err, PlotError::Io { .. }), "{err}");
    let err = spike_raster(dir.join("a.png"), &[(0.0, 3)], 2, &options).unwrap_err();
    assert!(
        matches!(err, PlotError::Data { what: "events", .. }),
        "{err}"
    );
    let err = rate_histogram(dir.join("a.svg"), &[], 10, &options).unwrap_err();
    assert!(matches!(err, PlotError::Data { .. }), "{err}");
    let err = training_curves(dir.join("a.svg"), &[], &options).unwrap_err();
    assert!(
        matches!(err, PlotError::Data { what: "epochs", .. }),
        "{err}"
    );
    let err = spike_raster(
        dir.join("a.png"),
        &events,
        1,
        &PlotOptions::default().with_size(0, 10),
    )
    .unwrap_err();
    assert!(matches!(err, PlotError::Data { what: "size", .. }), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// The guide's pages are doctested (`src/guide_doctests.rs` includes each page named in
/// `docs/src/SUMMARY.md`), every code block is tagged (a bare fence would be compiled as Rust by
/// rustdoc but shown untyped by mdBook), and every figure a page shows exists.
#[test]
fn every_guide_page_is_doctested() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let summary = std::fs::read_to_string(root.join("docs/src/SUMMARY.md")).unwrap();
    let included = std::fs::read_to_string(root.join("src/guide_doctests.rs")).unwrap();
    let pages: Vec<&str> = summary
        .split("](")
        .skip(1)
        .map(|s| s.split(')').next().unwrap())
        .collect();
    assert!(pages.len() > 20, "{pages:?}");
    for page in pages {
        let include = format!("include_str!(\"../docs/src/{page}\")");
        assert!(
            included.contains(&include),
            "{page} is not doctested in src/guide_doctests.rs"
        );
        let text = std::fs::read_to_string(root.join("docs/src").join(page)).unwrap();
        let mut open = false;
        for line in text.lines().filter(|l| l.trim_start().starts_with("```")) {
            if !open {
                let tag = line.trim_start().trim_start_matches('`');
                assert!(
                    !tag.is_empty(),
                    "{page}: a code block without a language tag"
                );
            }
            open = !open;
        }
        assert!(!open, "{page}: an unclosed code block");
        let page_dir = root.join("docs/src").join(page);
        let page_dir = page_dir.parent().unwrap();
        for target in text.split("](").skip(1).filter_map(|s| s.split(')').next()) {
            if target.starts_with("http") || target.starts_with('#') || target.contains(' ') {
                continue;
            }
            // a relative link: the file it names (without its #fragment) exists
            let file = page_dir.join(target.split('#').next().unwrap());
            assert!(
                file.exists(),
                "{page} links to {target}, which does not exist"
            );
            if target.ends_with(".png") || target.ends_with(".svg") {
                let stem = Path::new(target).file_stem().unwrap().to_str().unwrap();
                let command = drawing_command(root, stem);
                assert!(
                    text.contains(&command),
                    "{page} shows {target} but does not give the command that draws it \
                     (`{command}`)"
                );
            }
        }
    }
}

/// The command that draws the guide figure `stem`: `--example NAME` for the example whose
/// source names the figure, or the training tool (`snn-train`) for its run's curves.
fn drawing_command(root: &Path, stem: &str) -> String {
    let names = [
        format!("\"{stem}\""),
        format!("{stem}.png"),
        format!("{stem}.svg"),
        format!("{stem}.{{ext}}"),
    ];
    let mut found = Vec::new();
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let source = std::fs::read_to_string(&path).unwrap();
            if names.iter().any(|name| source.contains(name.as_str())) {
                found.push(path.file_stem().unwrap().to_str().unwrap().to_string());
            }
        }
    }
    match found.as_slice() {
        [example] => format!("--example {example}"),
        [] => {
            assert_eq!(stem, "curves", "no example draws the figure {stem}");
            "snn-train".to_string()
        }
        many => panic!("several examples name the figure {stem}: {many:?}"),
    }
}

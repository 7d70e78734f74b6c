//! Draws the performance page's bar chart (feature `plot`, on by default): one sitting's train
//! step (standard and recurrent workloads) and forward + backward (`on`) times, ours and each
//! peer's fastest variant, on a log scale.
//!
//! `cargo run --release --example performance_chart [sitting.json] [out_dir]` (defaults
//! `docs/data/sitting.json` and `docs/src/figures`) writes `performance.{png,svg}`. The JSON holds
//! the sitting's medians in ms: `{"groups": [...], "series": [{"name": ..., "ms": [...]}]}`, one
//! value per group (`null` where a library did not run that workload); `docs/data/README.md` says
//! where each number comes from.

use std::path::PathBuf;

use burn_snn::train::plot::{PlotOptions, bar_chart_log};
use serde_json::Value;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> Res<()> {
    let mut args = std::env::args().skip(1);
    let sitting = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "docs/data/sitting.json".into()),
    );
    let out = PathBuf::from(args.next().unwrap_or_else(|| "docs/src/figures".into()));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&sitting)?)?;
    let groups: Vec<String> = json["groups"]
        .as_array()
        .ok_or("`groups`: a list of names")?
        .iter()
        .map(|g| g.as_str().map(str::to_string).ok_or("a group name"))
        .collect::<Result<_, _>>()?;
    let mut series = Vec::new();
    for s in json["series"].as_array().ok_or("`series`: a list")? {
        let name = s["name"].as_str().ok_or("a series `name`")?.to_string();
        let ms: Vec<f64> = s["ms"]
            .as_array()
            .ok_or("a series' `ms` list")?
            .iter()
            .map(|v| v.as_f64().unwrap_or(f64::NAN))
            .collect();
        series.push((name, ms));
    }
    let group_refs: Vec<&str> = groups.iter().map(String::as_str).collect();
    let series_refs: Vec<(&str, &[f64])> = series
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let title = json["title"]
        .as_str()
        .unwrap_or("ms per step, lower is better");
    let options = PlotOptions::new(title)
        .with_size(1200, 560)
        .with_y_label("ms (log scale)");
    std::fs::create_dir_all(&out)?;
    for ext in ["png", "svg"] {
        let path = out.join(format!("performance.{ext}"));
        bar_chart_log(&path, &group_refs, &series_refs, &options)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

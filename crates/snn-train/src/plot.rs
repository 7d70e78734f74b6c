//! Figures as PNG or SVG (cargo feature `plot`, on by default): spike rasters, state traces,
//! histograms (firing rates, weights), scatter plots and training curves.
//!
//! Every function takes plain slices, so it needs no tensors and no device; [`spike_events`] and
//! [`Trace::from_tensor`] read tensors into those slices. The output format follows the path's
//! extension (`.png` or `.svg`, any case); anything else is a [`PlotError::UnknownFormat`]. The
//! file is created before anything is drawn, so an unwritable path is a [`PlotError::Io`].
//!
//! Rendering is pure Rust (plotters with its bitmap and SVG backends and the `ab_glyph` text
//! renderer): no fontconfig, freetype or system fonts. The text is set in DejaVu Sans, embedded
//! from the `dejavu` crate (Bitstream Vera/Arev licence, see `THIRD-PARTY-NOTICES.md`). An SVG
//! names the family `sans-serif` and is drawn with the viewer's font.
//!
//! ```
//! use snn_train::plot::{PlotOptions, Trace, spike_raster, traces};
//!
//! # fn main() -> Result<(), snn_train::plot::PlotError> {
//! let dir = std::env::temp_dir().join("snn-plot-doc");
//! std::fs::create_dir_all(&dir).unwrap();
//! // three neurons over five steps of 1 ms: (time in ms, neuron)
//! let events = [(0.0, 0), (2.0, 1), (3.0, 2), (4.0, 0)];
//! spike_raster(dir.join("raster.svg"), &events, 3, &PlotOptions::new("Spikes"))?;
//! let v = Trace::new("v", 1.0, vec![0.0, 0.5, 0.95, 0.2, 0.7]);
//! traces(dir.join("v.png"), &[v], Some(1.0), &PlotOptions::new("Membrane").with_y_label("v"))?;
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Once;

use burn::prelude::*;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

/// What can go wrong when drawing a figure.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The path's extension names no format this module writes.
    #[error("{path}: unknown figure format (use .png or .svg)")]
    UnknownFormat {
        /// The path given.
        path: PathBuf,
    },
    /// The file cannot be created or written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The data cannot make a figure (nothing to draw, mismatched lengths, a size of zero).
    #[error("cannot plot {what}: {reason}")]
    Data {
        /// Which argument.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// plotters failed while drawing.
    #[error("drawing {path} failed: {message}")]
    Draw {
        /// The file.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
}

/// `Result` with [`PlotError`].
pub type PlotResult<T> = core::result::Result<T, PlotError>;

/// The file formats, chosen by the path's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A PNG bitmap of `width x height` pixels.
    Png,
    /// An SVG document with `width` and `height` attributes in pixels.
    Svg,
}

impl Format {
    /// The format a path's extension names (`png` or `svg`, any case).
    pub fn from_path(path: &Path) -> PlotResult<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(Format::Png),
            Some("svg") => Ok(Format::Svg),
            _ => Err(PlotError::UnknownFormat {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// Title, axis labels and size of a figure.
#[derive(Clone, Debug)]
pub struct PlotOptions {
    /// The caption above the plot (empty: none).
    pub title: String,
    /// The x axis description (each function has its own default, e.g. `time (ms)`).
    pub x_label: Option<String>,
    /// The y axis description.
    pub y_label: Option<String>,
    /// Width in pixels (default 800).
    pub width: u32,
    /// Height in pixels (default 500).
    pub height: u32,
}

impl Default for PlotOptions {
    fn default() -> Self {
        Self {
            title: String::new(),
            x_label: None,
            y_label: None,
            width: 800,
            height: 500,
        }
    }
}

impl PlotOptions {
    /// Default options with a title.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            ..Self::default()
        }
    }
    /// Sets the size in pixels.
    pub fn with_size(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }
    /// Sets the x axis description.
    pub fn with_x_label(mut self, label: impl Into<String>) -> Self {
        self.x_label = Some(label.into());
        self
    }
    /// Sets the y axis description.
    pub fn with_y_label(mut self, label: impl Into<String>) -> Self {
        self.y_label = Some(label.into());
        self
    }
    fn x_or(&self, default: &str) -> String {
        self.x_label.clone().unwrap_or_else(|| default.to_string())
    }
    fn y_or(&self, default: &str) -> String {
        self.y_label.clone().unwrap_or_else(|| default.to_string())
    }
}

/// One curve: `values[k]` drawn at `x = x0 + k * dx` (time in ms for state traces, the index of
/// an afferent for weights).
#[derive(Clone, Debug)]
pub struct Trace {
    /// The legend entry (empty: no legend entry).
    pub label: String,
    /// The x of the first value.
    pub x0: f64,
    /// The x step between values (e.g. `dt_ms`).
    pub dx: f64,
    /// The values.
    pub values: Vec<f64>,
    /// Spike times (same x unit) marked with a tick above the curve's panel: a membrane
    /// recorded after its reset never reaches the drawn threshold, the marks show where it
    /// fired.
    pub spikes: Vec<f64>,
}

impl Trace {
    /// A curve starting at `x = 0` with one value every `dx`.
    pub fn new(label: impl Into<String>, dx: f64, values: Vec<f64>) -> Self {
        Self {
            label: label.into(),
            x0: 0.0,
            dx,
            values,
            spikes: Vec::new(),
        }
    }

    /// The same curve with its spikes marked: `spikes[k] > 0` at step `k` puts a mark at
    /// `x0 + k·dx` (e.g. the layer's spike train of the same neuron).
    pub fn with_spikes(mut self, spikes: &[f64]) -> Self {
        self.spikes = spikes
            .iter()
            .enumerate()
            .filter(|&(_, &z)| z > 0.0)
            .map(|(k, _)| self.x0 + k as f64 * self.dx)
            .collect();
        self
    }

    /// A curve from a rank-1 tensor (one neuron's trace over time, e.g.
    /// `out.traced(|s| s.v.clone())` sliced to one neuron and flattened).
    pub fn from_tensor(label: impl Into<String>, dx: f64, values: Tensor<1>) -> PlotResult<Self> {
        let values = values
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .map_err(|e| PlotError::Data {
                what: "values",
                reason: format!("{e:?}"),
            })?;
        Ok(Self::new(
            label,
            dx,
            values.into_iter().map(f64::from).collect(),
        ))
    }

    fn points(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.values
            .iter()
            .enumerate()
            .map(|(k, &v)| (self.x0 + k as f64 * self.dx, v))
    }
}

/// One panel of [`trace_grid`]: its caption, curves and an optional horizontal line (a
/// threshold).
#[derive(Clone, Debug)]
pub struct Panel {
    /// The caption of the panel.
    pub title: String,
    /// The curves, drawn in the palette's order.
    pub traces: Vec<Trace>,
    /// A dashed horizontal line at this y, labelled `threshold`.
    pub threshold: Option<f64>,
}

/// The spikes of a `[time, neurons]` tensor (0.0/1.0, e.g. one sample of a layer's `spikes`) as
/// `(time in ms, neuron)` events for [`spike_raster`]; step `t` is at `t * dt_ms`.
pub fn spike_events(spikes: Tensor<2>, dt_ms: f64) -> PlotResult<Vec<(f64, usize)>> {
    let [_, n] = spikes.dims();
    let values = spikes
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .map_err(|e| PlotError::Data {
            what: "spikes",
            reason: format!("{e:?}"),
        })?;
    Ok(events_from_steps(values.chunks(n.max(1)), dt_ms))
}

/// `(time in ms, neuron)` events from per-step rows of spikes (`rows[t][neuron] > 0` is a spike).
pub fn events_from_steps<'a, R>(rows: R, dt_ms: f64) -> Vec<(f64, usize)>
where
    R: IntoIterator<Item = &'a [f32]>,
{
    rows.into_iter()
        .enumerate()
        .flat_map(|(t, row)| {
            row.iter()
                .enumerate()
                .filter(|&(_, &z)| z > 0.0)
                .map(move |(i, _)| (t as f64 * dt_ms, i))
        })
        .collect()
}

/// Checks the size, creates the file (so that an unwritable path is an I/O error), then runs the
/// drawing block on the backend the extension names, on a white background, and writes the file.
/// A macro because the block is generic over the backend.
macro_rules! render {
    ($path:expr, $options:expr, |$root:ident| $body:block) => {{
        let path: &Path = $path;
        let options: &PlotOptions = $options;
        let format = Format::from_path(path)?;
        if options.width == 0 || options.height == 0 {
            return Err(data("size", "a width or height of zero pixels"));
        }
        register_fonts();
        std::fs::File::create(path).map_err(|source| PlotError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let size = (options.width, options.height);
        let result: Result<(), String> = match format {
            Format::Png => {
                let area = BitMapBackend::new(path, size).into_drawing_area();
                let $root = &area;
                (|| -> Result<(), String> {
                    $root.fill(&WHITE).map_err(msg)?;
                    let drawn: Result<(), String> = $body;
                    drawn?;
                    $root.present().map_err(msg)
                })()
            }
            Format::Svg => {
                let area = SVGBackend::new(path, size).into_drawing_area();
                let $root = &area;
                (|| -> Result<(), String> {
                    $root.fill(&WHITE).map_err(msg)?;
                    let drawn: Result<(), String> = $body;
                    drawn?;
                    $root.present().map_err(msg)
                })()
            }
        };
        result.map_err(|message| PlotError::Draw {
            path: path.to_path_buf(),
            message,
        })
    }};
}

/// A spike raster: a dot at `(time, neuron)` for every event, neurons `0..neurons` on the y axis.
/// Default axis labels `time (ms)` and `neuron`.
pub fn spike_raster(
    path: impl AsRef<Path>,
    events: &[(f64, usize)],
    neurons: usize,
    options: &PlotOptions,
) -> PlotResult<()> {
    let panel = RasterPanel {
        title: String::new(),
        events: events.to_vec(),
        neurons,
    };
    raster_grid(path, std::slice::from_ref(&panel), 1, options)
}

/// Draws one figure in both formats, `dir/name.png` and `dir/name.svg`, with `draw(path)` (any
/// of this module's functions), and returns the two paths.
pub fn png_and_svg(
    dir: impl AsRef<Path>,
    name: &str,
    draw: impl Fn(&Path) -> PlotResult<()>,
) -> PlotResult<[PathBuf; 2]> {
    let paths = ["png", "svg"].map(|ext| dir.as_ref().join(format!("{name}.{ext}")));
    for path in &paths {
        draw(path)?;
    }
    Ok(paths)
}

/// One panel of [`raster_grid`]: its caption, `(time, neuron)` events and neuron count.
#[derive(Clone, Debug)]
pub struct RasterPanel {
    /// The caption of the panel.
    pub title: String,
    /// `(time in ms, neuron)` events, as [`spike_events`] gives them.
    pub events: Vec<(f64, usize)>,
    /// Neurons `0..neurons` on the y axis.
    pub neurons: usize,
}

/// Several spike rasters in a grid of `columns` columns (one input under several encoders, the
/// layers of a network), each with its own y axis and a shared time axis.
pub fn raster_grid(
    path: impl AsRef<Path>,
    panels: &[RasterPanel],
    columns: usize,
    options: &PlotOptions,
) -> PlotResult<()> {
    if panels.is_empty() || columns == 0 {
        return Err(data("panels", "no panel or zero columns"));
    }
    for p in panels {
        if p.neurons == 0 {
            return Err(data(
                "neurons",
                format!("panel `{}` has zero neurons", p.title),
            ));
        }
        if let Some(&(_, i)) = p.events.iter().find(|&&(_, i)| i >= p.neurons) {
            return Err(data(
                "events",
                format!("neuron {i} is not below {}", p.neurons),
            ));
        }
    }
    let t_max = (panels.iter())
        .flat_map(|p| p.events.iter().map(|e| e.0))
        .fold(1.0, f64::max)
        * 1.02;
    let rows = panels.len().div_ceil(columns);
    let x_label = options.x_or("time (ms)");
    let y_label = options.y_or("neuron");
    render!(path.as_ref(), options, |root| {
        let area = titled(root, &options.title, 24)?;
        for (panel, cell) in panels.iter().zip(area.split_evenly((rows, columns))) {
            let (w, h) = cell.dim_in_pixel();
            let dot = (w.min(h) / 120).clamp(1, 3);
            let mut builder = ChartBuilder::on(&cell);
            builder
                .margin(8)
                .x_label_area_size(32)
                .y_label_area_size(42);
            if !panel.title.is_empty() {
                builder.caption(&panel.title, ("sans-serif", 16));
            }
            let mut chart = builder
                .build_cartesian_2d(0.0..t_max, -0.5..panel.neurons as f64 - 0.5)
                .map_err(msg)?;
            chart
                .configure_mesh()
                .x_desc(x_label.as_str())
                .y_desc(y_label.as_str())
                .x_label_formatter(&tick)
                .y_label_formatter(&tick)
                .label_style(("sans-serif", 12))
                .disable_mesh()
                .draw()
                .map_err(msg)?;
            let dots = (panel.events.iter())
                .map(|&(t, i)| Circle::new((t, i as f64), dot, BLACK.filled()));
            chart.draw_series(dots).map_err(msg)?;
        }
        Ok(())
    })
}

/// State traces (membrane potential, currents, weights) in one panel, with an optional dashed
/// threshold line and a legend. Default axis labels `time (ms)` and `value`.
pub fn traces(
    path: impl AsRef<Path>,
    traces: &[Trace],
    threshold: Option<f64>,
    options: &PlotOptions,
) -> PlotResult<()> {
    let panel = Panel {
        title: String::new(),
        traces: traces.to_vec(),
        threshold,
    };
    trace_grid(path, std::slice::from_ref(&panel), 1, options)
}

/// Several panels of traces in a grid of `columns` columns (the Izhikevich gallery), each with
/// its own axes; the figure's title above them all.
pub fn trace_grid(
    path: impl AsRef<Path>,
    panels: &[Panel],
    columns: usize,
    options: &PlotOptions,
) -> PlotResult<()> {
    if panels.is_empty() || columns == 0 {
        return Err(data("panels", "no panel or zero columns"));
    }
    for p in panels {
        if p.traces.iter().all(|t| t.values.is_empty()) {
            return Err(data("traces", format!("panel `{}` has no values", p.title)));
        }
    }
    let rows = panels.len().div_ceil(columns);
    let x_label = options.x_or("time (ms)");
    let y_label = options.y_or("value");
    let small = panels.len() > 1;
    render!(path.as_ref(), options, |root| {
        let area = titled(root, &options.title, 26)?;
        // one panel: its legend above it; a grid: the panels' captions say it
        let mut entries = Vec::new();
        if !small {
            for (k, trace) in panels[0].traces.iter().enumerate() {
                if !trace.label.is_empty() {
                    let color = Palette99::pick(k).to_rgba();
                    entries.push((trace.label.clone(), color, Mark::Line));
                }
            }
            if panels[0].threshold.is_some() {
                entries.push(("threshold".into(), RED.to_rgba(), Mark::Dashed));
            }
            if panels[0].traces.iter().any(|t| !t.spikes.is_empty()) {
                entries.push(("spike".into(), BLACK.to_rgba(), Mark::Line));
            }
        }
        let area = legend_above(&area, &entries)?;
        for (panel, cell) in panels.iter().zip(area.split_evenly((rows, columns))) {
            let points = panel.traces.iter().flat_map(Trace::points);
            let (x_min, x_max, y_min, y_max) = bounds(points, panel.threshold);
            let mut builder = ChartBuilder::on(&cell);
            builder
                .margin(if small { 6 } else { 12 })
                .x_label_area_size(if small { 28 } else { 40 })
                .y_label_area_size(if small { 40 } else { 60 });
            if !panel.title.is_empty() {
                builder.caption(&panel.title, ("sans-serif", if small { 15 } else { 20 }));
            }
            let mut chart = builder
                .build_cartesian_2d(x_min..x_max, y_min..y_max)
                .map_err(msg)?;
            let label_size = if small { 11 } else { 14 };
            chart
                .configure_mesh()
                .x_desc(x_label.as_str())
                .y_desc(y_label.as_str())
                .x_label_formatter(&tick)
                .y_label_formatter(&tick)
                .label_style(("sans-serif", label_size))
                .axis_desc_style(("sans-serif", label_size + 1))
                .max_light_lines(2)
                .draw()
                .map_err(msg)?;
            for (k, trace) in panel.traces.iter().enumerate() {
                let color = Palette99::pick(k).to_rgba();
                // plotters draws thick lines with mitred joins, which shoot far out of the
                // panel at the sharp turns of dense traces (spikes): thin lines there
                let width = if trace.values.len() > 300 { 1 } else { 2 };
                chart
                    .draw_series(LineSeries::new(trace.points(), color.stroke_width(width)))
                    .map_err(msg)?;
                // a spike: a short vertical tick in the top 6 % of the panel
                let (top, low) = (y_max, y_max - 0.06 * (y_max - y_min));
                let marks = (trace.spikes.iter())
                    .map(|&t| PathElement::new([(t, low), (t, top)], BLACK.stroke_width(2)));
                chart.draw_series(marks).map_err(msg)?;
            }
            if let Some(th) = panel.threshold {
                let dashed = DashedLineSeries::new([(x_min, th), (x_max, th)], 6, 4, RED.into());
                chart.draw_series(dashed).map_err(msg)?;
            }
        }
        Ok(())
    })
}

/// A histogram of firing rates (or any values) in `bins` equal bins between the smallest and the
/// largest value. Default axis labels `firing rate` and `neurons`.
pub fn rate_histogram(
    path: impl AsRef<Path>,
    rates: &[f64],
    bins: usize,
    options: &PlotOptions,
) -> PlotResult<()> {
    let options = PlotOptions {
        x_label: Some(options.x_or("firing rate")),
        y_label: Some(options.y_or("neurons")),
        ..options.clone()
    };
    histogram(path, &[("", rates)], bins, &options)
}

/// Overlaid histograms of several sets of values on shared bins (e.g. the weights before and
/// after learning), each set half-transparent in its own colour and named in the legend. Default
/// axis labels `value` and `count`.
pub fn histogram(
    path: impl AsRef<Path>,
    sets: &[(&str, &[f64])],
    bins: usize,
    options: &PlotOptions,
) -> PlotResult<()> {
    if bins == 0 {
        return Err(data("bins", "zero bins"));
    }
    let all = || sets.iter().flat_map(|s| s.1.iter().copied());
    if all().next().is_none() {
        return Err(data("values", "nothing to count"));
    }
    if let Some(v) = all().find(|v| !v.is_finite()) {
        return Err(data("values", format!("{v} is not finite")));
    }
    let lo = all().fold(f64::INFINITY, f64::min);
    let mut hi = all().fold(f64::NEG_INFINITY, f64::max);
    if hi <= lo {
        hi = lo + 1.0;
    }
    let width = (hi - lo) / bins as f64;
    let counts: Vec<Vec<usize>> = sets
        .iter()
        .map(|(_, values)| {
            let mut c = vec![0; bins];
            for &v in values.iter() {
                c[(((v - lo) / width) as usize).min(bins - 1)] += 1;
            }
            c
        })
        .collect();
    let c_max = counts.iter().flatten().copied().max().unwrap_or(0).max(1) as f64 * 1.05;
    let x_label = options.x_or("value");
    let y_label = options.y_or("count");
    let alpha = if sets.len() > 1 { 0.5 } else { 0.8 };
    let entries: Vec<_> = (sets.iter().enumerate())
        .filter(|(_, (label, _))| !label.is_empty())
        .map(|(k, (label, _))| {
            let color = Palette99::pick(k).to_rgba().mix(alpha);
            (label.to_string(), color, Mark::Box)
        })
        .collect();
    render!(path.as_ref(), options, |root| {
        let area = legend_above(root, &entries)?;
        let mut chart = chart(&area, &options.title)
            .build_cartesian_2d(lo..hi, 0.0..c_max)
            .map_err(msg)?;
        chart
            .configure_mesh()
            .x_desc(x_label.as_str())
            .y_desc(y_label.as_str())
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .disable_x_mesh()
            .draw()
            .map_err(msg)?;
        for (k, c) in counts.iter().enumerate() {
            let fill = Palette99::pick(k).to_rgba().mix(alpha).filled();
            let bars = c.iter().enumerate().map(move |(b, &n)| {
                let x0 = lo + b as f64 * width;
                Rectangle::new([(x0, 0.0), (x0 + width, n as f64)], fill)
            });
            chart.draw_series(bars).map_err(msg)?;
        }
        Ok(())
    })
}

/// Grouped bars on a logarithmic value axis (e.g. milliseconds per train step): one group per
/// entry of `groups` (a workload), one bar per series in each group (a library), coloured and
/// named in the legend, which sits above the plot area, off the bars. Each series has one value
/// per group; a value that is not a positive number (NaN for a library that did not run that
/// workload) leaves its bar out. Default y label `value`.
pub fn bar_chart_log(
    path: impl AsRef<Path>,
    groups: &[&str],
    series: &[(&str, &[f64])],
    options: &PlotOptions,
) -> PlotResult<()> {
    if groups.is_empty() || series.is_empty() {
        return Err(data("groups", "nothing to draw"));
    }
    if let Some((name, values)) = series.iter().find(|(_, v)| v.len() != groups.len()) {
        return Err(data(
            "series",
            format!(
                "`{name}` has {} values for {} groups",
                values.len(),
                groups.len()
            ),
        ));
    }
    let shown = || {
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    if shown().next().is_none() {
        return Err(data("series", "no positive value to draw"));
    }
    let lo = shown().fold(f64::INFINITY, f64::min) / 1.5;
    let hi = shown().fold(0.0, f64::max) * 1.5;
    let n = groups.len() as f64;
    let width = 0.8 / series.len() as f64;
    let y_label = options.y_or("value");
    let names: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
    let entries: Vec<_> = (series.iter().enumerate())
        .map(|(k, (label, _))| (label.to_string(), Palette99::pick(k).to_rgba(), Mark::Box))
        .collect();
    render!(path.as_ref(), options, |root| {
        let plot_area = legend_above(&titled(root, &options.title, 24)?, &entries)?;
        let mut chart = chart(&plot_area, "")
            .build_cartesian_2d(-0.5..n - 0.5, (lo..hi).log_scale())
            .map_err(msg)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.len())
            .x_label_formatter(&|x| {
                let k = x.round();
                if (x - k).abs() < 1e-6 && k >= 0.0 {
                    names.get(k as usize).cloned().unwrap_or_default()
                } else {
                    String::new()
                }
            })
            .y_desc(y_label.as_str())
            .y_label_formatter(&tick)
            .draw()
            .map_err(msg)?;
        for (k, (_, values)) in series.iter().enumerate() {
            let fill = Palette99::pick(k).to_rgba().filled();
            let bars = values
                .iter()
                .enumerate()
                .filter(|(_, v)| v.is_finite() && **v > 0.0)
                .map(move |(g, &v)| {
                    let x0 = g as f64 - 0.4 + k as f64 * width;
                    Rectangle::new([(x0, lo), (x0 + width * 0.9, v)], fill)
                });
            chart.draw_series(bars).map_err(msg)?;
        }
        Ok(())
    })
}

/// Points `(x, y)` in one panel, one colour per named series (the latency of a neuron's first
/// spike against training time): for data that is not a curve over even steps. Points that are
/// not finite are left out. Default axis labels `x` and `y`; the legend sits above the plot.
pub fn scatter(
    path: impl AsRef<Path>,
    series: &[(&str, &[(f64, f64)])],
    options: &PlotOptions,
) -> PlotResult<()> {
    let shown = || {
        (series.iter())
            .flat_map(|(_, points)| points.iter().copied())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    if shown().next().is_none() {
        return Err(data("series", "no finite point to draw"));
    }
    let (x_min, x_max, y_min, y_max) = bounds(shown(), None);
    let x_pad = 0.02 * (x_max - x_min);
    let x_label = options.x_or("x");
    let y_label = options.y_or("y");
    let entries: Vec<_> = (series.iter().enumerate())
        .map(|(k, (label, _))| (label.to_string(), Palette99::pick(k).to_rgba(), Mark::Dot))
        .collect();
    render!(path.as_ref(), options, |root| {
        let area = legend_above(&titled(root, &options.title, 24)?, &entries)?;
        let mut chart = chart(&area, "")
            .build_cartesian_2d(x_min - x_pad..x_max + x_pad, y_min..y_max)
            .map_err(msg)?;
        chart
            .configure_mesh()
            .x_desc(x_label.as_str())
            .y_desc(y_label.as_str())
            .x_label_formatter(&tick)
            .y_label_formatter(&tick)
            .max_light_lines(2)
            .draw()
            .map_err(msg)?;
        for (k, (_, points)) in series.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba().filled();
            let dots = (points.iter())
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .map(move |&(x, y)| Circle::new((x, y), 3, color));
            chart.draw_series(dots).map_err(msg)?;
        }
        Ok(())
    })
}

/// Training curves from a run's per-epoch metrics (`RunSummary::epochs`, `report.json`): the loss
/// (left) and the accuracy in percent (right) of the training and validation splits against the
/// epoch. Reads the metrics named `Loss` and `Accuracy`; a split without them is left out.
pub fn training_curves(
    path: impl AsRef<Path>,
    epochs: &[crate::history::EpochMetrics],
    options: &PlotOptions,
) -> PlotResult<()> {
    let series = |metric: &str| -> Vec<(String, Vec<(f64, f64)>)> {
        [("train", 0), ("valid", 1)]
            .into_iter()
            .map(|(name, split)| {
                let points = epochs
                    .iter()
                    .filter_map(|e| {
                        let values = if split == 0 { &e.train } else { &e.valid };
                        values.get(metric).map(|&v| (e.epoch as f64, v))
                    })
                    .collect::<Vec<_>>();
                (name.to_string(), points)
            })
            .filter(|(_, p)| !p.is_empty())
            .collect()
    };
    // the report's accuracy is a fraction; the panel reads percent
    let percent = |lines: Vec<(String, Vec<(f64, f64)>)>| -> Vec<(String, Vec<(f64, f64)>)> {
        (lines.into_iter())
            .map(|(name, points)| {
                (
                    name,
                    points.into_iter().map(|(e, a)| (e, 100.0 * a)).collect(),
                )
            })
            .collect()
    };
    let panels = [
        ("loss", series("Loss")),
        ("accuracy (%)", percent(series("Accuracy"))),
    ];
    if panels.iter().all(|p| p.1.is_empty()) {
        return Err(data(
            "epochs",
            "no `Loss` or `Accuracy` metric in any epoch",
        ));
    }
    let e_max = epochs.iter().map(|e| e.epoch).max().unwrap_or(1).max(2) as f64;
    render!(path.as_ref(), options, |root| {
        let area = titled(root, &options.title, 24)?;
        // the splits in the same colours in both panels: one legend above them
        let longest = panels
            .iter()
            .max_by_key(|p| p.1.len())
            .map_or(&[][..], |p| &p.1[..]);
        let entries: Vec<_> = (longest.iter().enumerate())
            .map(|(k, (split, _))| (split.clone(), Palette99::pick(k).to_rgba(), Mark::Line))
            .collect();
        let area = legend_above(&area, &entries)?;
        for ((name, lines), cell) in panels.iter().zip(area.split_evenly((1, 2))) {
            let all = lines.iter().flat_map(|l| l.1.iter().map(|p| p.1));
            let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            });
            let (lo, hi) = if lo.is_finite() && hi > lo {
                let pad = 0.05 * (hi - lo);
                (lo - pad, hi + pad)
            } else if lo.is_finite() {
                (lo - 1.0, lo + 1.0)
            } else {
                (0.0, 1.0)
            };
            let mut chart = ChartBuilder::on(&cell)
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(55)
                .build_cartesian_2d(1.0..e_max, lo..hi)
                .map_err(msg)?;
            chart
                .configure_mesh()
                .x_desc("epoch")
                .y_desc(*name)
                .x_label_formatter(&tick)
                .y_label_formatter(&tick)
                .max_light_lines(2)
                .draw()
                .map_err(msg)?;
            for (k, (_, points)) in lines.iter().enumerate() {
                let color = Palette99::pick(k).to_rgba();
                chart
                    .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))
                    .map_err(msg)?;
                chart
                    .draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(msg)?;
            }
        }
        Ok(())
    })
}

/// Registers DejaVu Sans as `sans-serif` once per process (ab_glyph knows only registered
/// fonts: without it every caption fails with `FontUnavailable`).
fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // The bytes are a valid TrueType font shipped by the `dejavu` crate.
        let _ = register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular());
        let _ = register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

fn data(what: &'static str, reason: impl Into<String>) -> PlotError {
    PlotError::Data {
        what,
        reason: reason.into(),
    }
}

/// A drawing error as text; `render` adds the path.
fn msg(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// An axis label: integers without a decimal point ("45", not "45.0"), other values with at
/// most three decimals and no trailing zeros.
fn tick(v: &f64) -> String {
    if (v - v.round()).abs() <= 1e-9 * v.abs().max(1.0) {
        return format!("{}", v.round() as i64);
    }
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// How a legend entry is marked.
#[derive(Clone, Copy)]
enum Mark {
    /// A filled box (bars).
    Box,
    /// A short line (curves).
    Line,
    /// A dashed line (a threshold).
    Dashed,
    /// A dot (points).
    Dot,
}

/// Splits `area` into a legend strip on top and what is left for the plot below, and draws the
/// entries in as many columns as fit: legends never cover the data. No entries: the whole area.
fn legend_above<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBAColor, Mark)],
) -> Result<DrawingArea<DB, Shift>, String> {
    if entries.is_empty() {
        return Ok(area.clone());
    }
    let (width, _) = area.dim_in_pixel();
    let longest = entries
        .iter()
        .map(|e| e.0.chars().count())
        .max()
        .unwrap_or(1) as u32;
    let column = 36 + 8 * longest;
    let per_row = ((width.saturating_sub(70)) / column).max(1) as usize;
    let rows = entries.len().div_ceil(per_row) as u32;
    let (strip, rest) = area.split_vertically(12 + 22 * rows);
    for (k, (label, color, mark)) in entries.iter().enumerate() {
        let (col, row) = ((k % per_row) as i32, (k / per_row) as i32);
        let (x, y) = (70 + col * column as i32, 8 + row * 22);
        let middle = y + 6;
        match mark {
            Mark::Box => strip.draw(&Rectangle::new([(x, y), (x + 14, y + 12)], color.filled())),
            Mark::Line => strip.draw(&PathElement::new(
                [(x, middle), (x + 18, middle)],
                color.stroke_width(2),
            )),
            Mark::Dashed => strip
                .draw(&PathElement::new(
                    [(x, middle), (x + 6, middle)],
                    color.stroke_width(2),
                ))
                .and_then(|_| {
                    strip.draw(&PathElement::new(
                        [(x + 12, middle), (x + 18, middle)],
                        color.stroke_width(2),
                    ))
                }),
            Mark::Dot => strip.draw(&Circle::new((x + 9, middle), 4, color.filled())),
        }
        .map_err(msg)?;
        strip
            .draw(&Text::new(
                label.clone(),
                (x + 24, y - 1),
                ("sans-serif", 15),
            ))
            .map_err(msg)?;
    }
    Ok(rest)
}

/// `area` below the figure's `title` in the given font size (the whole area without a title).
fn titled<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    size: u32,
) -> Result<DrawingArea<DB, Shift>, String> {
    if title.is_empty() {
        return Ok(area.clone());
    }
    area.titled(title, ("sans-serif", size)).map_err(msg)
}

fn chart<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(root);
    builder
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(60);
    if !title.is_empty() {
        builder.caption(title, ("sans-serif", 24));
    }
    builder
}

/// The x and y ranges of the finite points and an optional threshold line, padded by 5 % in y.
fn bounds(
    points: impl Iterator<Item = (f64, f64)>,
    threshold: Option<f64>,
) -> (f64, f64, f64, f64) {
    let (mut x0, mut x1, mut y0, mut y1) = (
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
    );
    for (x, y) in points {
        if x.is_finite() && y.is_finite() {
            (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
        }
    }
    if let Some(th) = threshold {
        (y0, y1) = (y0.min(th), y1.max(th));
    }
    if !(x0.is_finite() && x1 > x0) {
        (x0, x1) = (0.0, 1.0);
    }
    if !(y0.is_finite() && y1 > y0) {
        let y = if y0.is_finite() { y0 } else { 0.0 };
        (y0, y1) = (y - 1.0, y + 1.0);
    }
    let pad = 0.05 * (y1 - y0);
    (x0, x1, y0 - pad, y1 + pad)
}

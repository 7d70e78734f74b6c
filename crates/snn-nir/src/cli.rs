//! The `nir` subcommand of the `snn-train` binary: `nir info FILE` prints a NIR graph,
//! `nir export ...` writes a trained model as NIR.
//!
//! Loading a trained model belongs to the crate that defines it, so [`run`] takes the export
//! as a function of the parsed [`ExportRequest`]. Exit codes: 0 success, 2 a bad option,
//! 3 a file that cannot be read, 1 anything else.

use std::fmt::Write as _;
use std::path::PathBuf;

use crate::error::NirError;
use crate::graph::{MetaValue, NirGraph, NirNode, Padding};

/// The usage text of the `nir` subcommand.
pub const USAGE: &str = "\
usage: snn-train nir info FILE.nir
       snn-train nir export (--checkpoint DIR | --model FILE) [--dt-ms X] --out FILE.nir

  info     prints the graph: version, metadata, nodes with their type and parameter
           shapes (nested graphs indented), edges
  export   writes a trained classifier (Linear -> LIF -> Linear -> LI) as NIR
    --checkpoint DIR  a training output folder (config.json and model.bpk, as --out of a run)
    --model FILE      the model file (model.bpk); its config.json is read from its folder
    --dt-ms X         the time step the NIR parameters are computed for (default: the
                      model's own dt_ms); import the file with this dt
    --out FILE.nir    the file to write";

/// What `nir export` asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct ExportRequest {
    /// `--checkpoint DIR`.
    pub checkpoint: Option<PathBuf>,
    /// `--model FILE`.
    pub model: Option<PathBuf>,
    /// `--dt-ms X`.
    pub dt_ms: Option<f64>,
    /// `--out FILE`.
    pub out: PathBuf,
}

/// A failure of the subcommand, with its exit code.
#[derive(Debug)]
pub enum CliError {
    /// A bad option (exit code 2).
    Usage(String),
    /// A file that cannot be read (exit code 3).
    Unreadable(String),
    /// Anything else (exit code 1).
    Other(String),
}

impl CliError {
    /// The exit code.
    pub fn code(&self) -> u8 {
        match self {
            Self::Usage(_) => 2,
            Self::Unreadable(_) => 3,
            Self::Other(_) => 1,
        }
    }
}

impl std::fmt::Display for CliError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Usage(m) => write!(f, "{m}\n\n{USAGE}"),
            Self::Unreadable(m) | Self::Other(m) => f.write_str(m),
        }
    }
}

/// Runs `nir ARGS...` (the arguments after `nir`); `export` builds the graph for a request.
/// Prints results to stdout and errors to stderr; returns the exit code.
pub fn run(args: &[String], export: impl Fn(&ExportRequest) -> Result<NirGraph, CliError>) -> u8 {
    match dispatch(args, export) {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            e.code()
        }
    }
}

/// [`run`] without the printing: the text for stdout, or the error.
pub fn dispatch(
    args: &[String],
    export: impl Fn(&ExportRequest) -> Result<NirGraph, CliError>,
) -> Result<String, CliError> {
    match args.first().map(String::as_str) {
        None | Some("-h" | "--help" | "help") => Ok(format!("{USAGE}\n")),
        Some("info") => {
            let [file] = &args[1..] else {
                return Err(CliError::Usage("`nir info` takes one file".into()));
            };
            let graph = crate::read(file).map_err(|e| match e {
                NirError::Io { .. }
                | NirError::Hdf5 { .. }
                | NirError::Truncated { .. }
                | NirError::Corrupt { .. } => CliError::Unreadable(e.to_string()),
                other => CliError::Unreadable(format!("{file}: invalid NIR graph: {other}")),
            })?;
            let version = crate::read_version(file).unwrap_or_else(|_| "?".into());
            Ok(format!("{file}: NIR {version}\n{}", describe(&graph)))
        }
        Some("export") => {
            let request = parse_export(&args[1..])?;
            let graph = export(&request)?;
            crate::write(&request.out, &graph).map_err(|e| CliError::Other(e.to_string()))?;
            Ok(format!(
                "wrote {} ({} nodes, {} edges)\n",
                request.out.display(),
                graph.nodes.len(),
                graph.edges.len()
            ))
        }
        Some(other) => Err(CliError::Usage(format!("unknown nir command `{other}`"))),
    }
}

fn parse_export(args: &[String]) -> Result<ExportRequest, CliError> {
    let mut request = ExportRequest {
        checkpoint: None,
        model: None,
        dt_ms: None,
        out: PathBuf::new(),
    };
    let mut out = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| CliError::Usage(format!("{flag} needs a value")))?;
        match flag.as_str() {
            "--checkpoint" => request.checkpoint = Some(value.into()),
            "--model" => request.model = Some(value.into()),
            "--out" => out = Some(PathBuf::from(value)),
            "--dt-ms" => {
                let dt: f64 = value
                    .parse()
                    .map_err(|_| CliError::Usage(format!("--dt-ms: `{value}` is not a number")))?;
                if !(dt.is_finite() && dt > 0.0) {
                    return Err(CliError::Usage(format!(
                        "--dt-ms must be positive, got {dt}"
                    )));
                }
                request.dt_ms = Some(dt);
            }
            other => return Err(CliError::Usage(format!("unknown option `{other}`"))),
        }
    }
    request.out = out.ok_or_else(|| CliError::Usage("export needs --out FILE.nir".into()))?;
    if request.checkpoint.is_some() == request.model.is_some() {
        return Err(CliError::Usage(
            "export needs exactly one of --checkpoint DIR and --model FILE".into(),
        ));
    }
    Ok(request)
}

/// A human-readable listing of a graph (what `nir info` prints).
pub fn describe(graph: &NirGraph) -> String {
    let mut s = String::new();
    describe_into(&mut s, graph, 0);
    s
}

fn describe_into(s: &mut String, graph: &NirGraph, depth: usize) {
    let pad = "  ".repeat(depth);
    for (name, value) in &graph.metadata {
        let v = match value {
            MetaValue::Float(a) if a.shape.is_empty() => format!("{}", a.data[0]),
            MetaValue::Float(a) => format!("floats {:?}", a.shape),
            MetaValue::Int(shape, v) if shape.is_empty() => format!("{}", v[0]),
            MetaValue::Int(shape, _) => format!("integers {shape:?}"),
            MetaValue::Str(t) => format!("{t:?}"),
        };
        let _ = writeln!(s, "{pad}metadata {name} = {v}");
    }
    let _ = writeln!(s, "{pad}nodes ({}):", graph.nodes.len());
    for (name, node) in &graph.nodes {
        let _ = write!(s, "{pad}  {name}: {}", node.type_name());
        let io = |shape: Option<Vec<usize>>| shape.map_or("?".into(), |v| format!("{v:?}"));
        if !matches!(node, NirNode::Graph(_)) {
            let _ = write!(
                s,
                " {} -> {}",
                io(node.input_shape()),
                io(node.output_shape())
            );
        }
        let mut fields: Vec<String> = node
            .arrays()
            .iter()
            .map(|(field, a)| {
                if a.numel() <= 4 {
                    let v: Vec<f32> = a.to_f32();
                    format!("{field} {:?} {v:?}", a.shape)
                } else {
                    format!("{field} {:?}", a.shape)
                }
            })
            .collect();
        match node {
            NirNode::Flatten {
                start_dim, end_dim, ..
            } => fields.push(format!("dims {start_dim}..={end_dim}")),
            NirNode::Conv1d(c) | NirNode::Conv2d(c) => {
                let padding = match &c.padding {
                    Padding::Explicit(p) => format!("{p:?}"),
                    Padding::Same => "same".into(),
                    Padding::Valid => "valid".into(),
                };
                fields.push(format!(
                    "stride {:?} padding {padding} dilation {:?} groups {}",
                    c.stride, c.dilation, c.groups
                ));
            }
            NirNode::SumPool2d(p) | NirNode::AvgPool2d(p) => fields.push(format!(
                "kernel {:?} stride {:?} padding {:?}",
                p.kernel_size, p.stride, p.padding
            )),
            _ => {}
        }
        if !fields.is_empty() {
            let _ = write!(s, "  ({})", fields.join(", "));
        }
        let _ = writeln!(s);
        if let NirNode::Graph(inner) = node {
            describe_into(s, inner, depth + 2);
        }
    }
    let _ = writeln!(s, "{pad}edges ({}):", graph.edges.len());
    for (a, b) in &graph.edges {
        let _ = writeln!(s, "{pad}  {a} -> {b}");
    }
}

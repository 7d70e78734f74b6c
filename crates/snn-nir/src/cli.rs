//! What the `nir` subcommand of the `snn-train` binary does: `nir info FILE` prints a NIR graph
//! ([`info`]), `nir export ...` writes a trained model as NIR ([`export`]). The command line
//! itself (parsing, help, exit codes) lives in the binary; this module holds no parser.
//!
//! Loading a trained model belongs to the crate that defines it, so [`export`] takes the
//! conversion as a function of the [`ExportRequest`]. Exit codes: 2 a bad option, 3 a file that
//! cannot be read, 1 anything else ([`CliError::code`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::error::NirError;
use crate::graph::{MetaValue, NirGraph, NirNode, Padding};

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
            Self::Usage(m) | Self::Unreadable(m) | Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

/// `nir info FILE`: the text that describes the graph in `file` (version, metadata, nodes with
/// their type and parameter shapes, nested graphs indented, edges).
pub fn info(file: &Path) -> Result<String, CliError> {
    let shown = file.display();
    let graph = crate::read(file).map_err(|e: NirError| match e {
        e if e.is_unreadable_file() => CliError::Unreadable(e.to_string()),
        other => CliError::Unreadable(format!("{shown}: invalid NIR graph: {other}")),
    })?;
    let version = crate::read_version(file).unwrap_or_else(|_| "?".into());
    Ok(format!("{shown}: NIR {version}\n{}", describe(&graph)))
}

/// `nir export`: builds the graph for `request` with `convert`, writes it to `request.out`, and
/// returns the line that reports it. An existing `request.out` is never replaced (a usage error,
/// exit 2): the file goes to a temporary file beside it, created new, and is linked into place
/// only if nothing is there ([`write_new`]).
pub fn export(
    request: &ExportRequest,
    convert: impl Fn(&ExportRequest) -> Result<NirGraph, CliError>,
) -> Result<String, CliError> {
    if let Some(dt) = request.dt_ms
        && !(dt.is_finite() && dt > 0.0)
    {
        return Err(CliError::Usage(format!(
            "--dt-ms must be positive, got {dt}"
        )));
    }
    if request.checkpoint.is_some() == request.model.is_some() {
        return Err(CliError::Usage(
            "export needs exactly one of --checkpoint DIR and --model FILE".into(),
        ));
    }
    if request.out.symlink_metadata().is_ok() {
        return Err(exists(&request.out));
    }
    let graph = convert(request)?;
    let bytes = crate::write_bytes(&graph).map_err(|e| CliError::Other(e.to_string()))?;
    write_new(&request.out, &bytes)?;
    Ok(format!(
        "wrote {} ({} nodes, {} edges)\n",
        request.out.display(),
        graph.nodes.len(),
        graph.edges.len()
    ))
}

fn exists(out: &Path) -> CliError {
    CliError::Usage(format!(
        "{} exists; export writes only a new file (remove it or choose another --out)",
        out.display()
    ))
}

/// Writes `bytes` to the new file `out`, atomically and without replacing anything: a temporary
/// file `.<name>.<pid>.partial` beside it is created new, filled, synced, and hard-linked to
/// `out` (which fails if `out` exists), then removed. Where the file system has no hard links,
/// the temporary file is renamed into place after a last check that `out` is still absent.
pub fn write_new(out: &Path, bytes: &[u8]) -> Result<(), CliError> {
    use std::io::Write as _;
    let name = out
        .file_name()
        .ok_or_else(|| CliError::Usage(format!("{} names no file", out.display())))?;
    let partial = out.with_file_name(format!(
        ".{}.{}.partial",
        name.to_string_lossy(),
        std::process::id()
    ));
    let failed = |e: std::io::Error| CliError::Other(format!("{}: {e}", out.display()));
    let written = std::fs::File::create_new(&partial).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written {
        // the partial file is ours only if create_new made it
        if e.kind() != std::io::ErrorKind::AlreadyExists {
            let _ = std::fs::remove_file(&partial);
        }
        return Err(failed(e));
    }
    let linked = match std::fs::hard_link(&partial, out) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(exists(out)),
        Err(e) if e.kind() == std::io::ErrorKind::Unsupported => {
            if out.symlink_metadata().is_ok() {
                Err(exists(out))
            } else if let Err(e) = std::fs::rename(&partial, out) {
                Err(failed(e))
            } else {
                return Ok(());
            }
        }
        Err(e) => Err(failed(e)),
        Ok(()) => Ok(()),
    };
    let _ = std::fs::remove_file(&partial);
    linked
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

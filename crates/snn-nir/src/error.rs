//! The typed errors of reading, checking, writing, importing and exporting NIR graphs.

use thiserror::Error;

/// Everything that can go wrong with a NIR file or graph. Node names are paths from the root
/// graph (`rsyn/lif` for node `lif` inside the nested graph `rsyn`).
#[derive(Debug, Error)]
pub enum NirError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The HDF5 layer could not parse or find an object.
    #[error("HDF5 error at `{object}`: {message}")]
    Hdf5 {
        /// The HDF5 object path (`node/nodes/lif/tau`).
        object: String,
        /// What the HDF5 reader said.
        message: String,
    },
    /// The file is shorter than its superblock says (it was cut), as libhdf5 reports.
    #[error("truncated file: {size} bytes, but the superblock says the file ends at {stored_eof}")]
    Truncated {
        /// Bytes in the file.
        size: u64,
        /// End-of-file address stored in the superblock.
        stored_eof: u64,
    },
    /// The HDF5 data is inconsistent in a way the HDF5 reader did not report cleanly (it
    /// panicked, or a dataset claims more data than the file can hold).
    #[error("corrupt NIR file: {message}")]
    Corrupt {
        /// What was found.
        message: String,
    },
    /// A node lacks a field that its type requires (`type` included).
    #[error("node `{node}`: missing field `{field}`")]
    MissingField {
        /// The node.
        node: String,
        /// The missing field.
        field: String,
    },
    /// A node's `type` names no NIR node type this crate knows.
    #[error("node `{node}`: unknown node type `{type_name}` (known: {known})")]
    UnknownNodeType {
        /// The node.
        node: String,
        /// The type found.
        type_name: String,
        /// The known types, comma-separated.
        known: &'static str,
    },
    /// A field holds the wrong kind of data (a string where numbers belong, a float where an
    /// integer belongs, an array where a scalar belongs).
    #[error("node `{node}`, field `{field}`: expected {expected}, found {found}")]
    WrongType {
        /// The node.
        node: String,
        /// The field.
        field: String,
        /// What the field must hold.
        expected: String,
        /// What it holds.
        found: String,
    },
    /// A parameter array has the wrong shape.
    #[error("node `{node}`, parameter `{field}`: shape {actual:?}, expected {expected:?}")]
    ParamShape {
        /// The node.
        node: String,
        /// The parameter.
        field: String,
        /// The shape it must have.
        expected: Vec<usize>,
        /// The shape it has.
        actual: Vec<usize>,
    },
    /// A field has a value outside its domain (a zero stride, a negative dimension, ...).
    #[error("node `{node}`, field `{field}`: {reason}")]
    InvalidValue {
        /// The node.
        node: String,
        /// The field.
        field: String,
        /// Why the value is wrong.
        reason: String,
    },
    /// An edge names a node that the graph does not have.
    #[error(
        "graph `{graph}`: edge ({from}, {to}) references node `{missing}`, which does not exist (nodes: {known})"
    )]
    UnknownEdgeNode {
        /// The graph (`"/"` for the root).
        graph: String,
        /// Edge source.
        from: String,
        /// Edge destination.
        to: String,
        /// The endpoint that does not exist.
        missing: String,
        /// The graph's nodes, comma-separated.
        known: String,
    },
    /// An edge connects a node's output to a node expecting another shape (NIR's type check).
    #[error("type mismatch: `{from}` outputs {from_shape:?} but `{to}` expects {to_shape:?}")]
    TypeMismatch {
        /// Edge source.
        from: String,
        /// Its output shape.
        from_shape: Vec<usize>,
        /// Edge destination.
        to: String,
        /// Its input shape.
        to_shape: Vec<usize>,
    },
    /// The graph is valid NIR but cannot be simulated or exported by this crate.
    #[error("`{node}`: unsupported: {reason}")]
    Unsupported {
        /// The node or layer.
        node: String,
        /// Why.
        reason: String,
    },
    /// An argument (such as `dt`) or the input given to a network is wrong.
    #[error("{what}: {reason}")]
    BadArgument {
        /// The argument.
        what: &'static str,
        /// Why it is wrong.
        reason: String,
    },
    /// The HDF5 writer failed.
    #[error("writing NIR: {message}")]
    Write {
        /// What the writer said.
        message: String,
    },
    /// A size read from the file exceeds what the file can hold, or a cap of
    /// [`ReadLimits`](crate::read::ReadLimits): refused before anything of that size is
    /// allocated.
    #[error("`{object}`: {what} of {found} exceeds the limit of {cap}")]
    Limit {
        /// The HDF5 object (`node/nodes/lif/tau`), or the file for its own size.
        object: String,
        /// What was too large, e.g. `group depth (links from the root)`.
        what: String,
        /// The size found or declared.
        found: u64,
        /// The limit.
        cap: u64,
    },
    /// HDF5 links lead to a group that was already read: a cycle (a link back to an ancestor)
    /// or a group shared by two parents. NIR files are trees, and following such links would
    /// never end.
    #[error(
        "`{object}` is the HDF5 group already read as `{first}` (object header at {address:#x}): the links form a cycle"
    )]
    LinkCycle {
        /// The HDF5 path that reached the group again.
        object: String,
        /// The HDF5 path it was first read at.
        first: String,
        /// The group's object-header address.
        address: u64,
    },
}

impl NirError {
    /// Whether the error is about the file rather than the graph in it: missing or unreadable,
    /// not HDF5, cut, corrupt, over a [`ReadLimits`](crate::read::ReadLimits) cap, or with
    /// cyclic links. Command-line tools report these as an unreadable file (exit code 3).
    pub fn is_unreadable_file(&self) -> bool {
        matches!(
            self,
            Self::Io { .. }
                | Self::Hdf5 { .. }
                | Self::Truncated { .. }
                | Self::Corrupt { .. }
                | Self::Limit { .. }
                | Self::LinkCycle { .. }
        )
    }
}

/// `Result` with [`NirError`].
pub type Result<T> = std::result::Result<T, NirError>;

//! NIR (Neuromorphic Intermediate Representation) import and export for burn-snn.
#![warn(missing_docs)]

pub mod cli;
pub mod error;
pub mod export;
pub mod graph;
pub mod import;
pub mod read;
pub mod write;

pub use error::{NirError, Result};
pub use export::{ToNir, sequential};
pub use graph::{Array, Conv, FloatType, MetaValue, NIR_VERSION, NirGraph, NirNode, Padding, Pool};
pub use import::{NirNetwork, NirNetworkState, import};
pub use read::{read, read_bytes, read_bytes_unchecked, read_unchecked, read_version};
pub use write::{write, write_bytes, write_bytes_unchecked};

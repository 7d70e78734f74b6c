//! Datasets and batchers.

pub mod digits;

pub use digits::{DigitBatch, DigitBatcher, DigitItem, DigitsDataset, Encoding};

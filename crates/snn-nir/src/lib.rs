//! NIR (Neuromorphic Intermediate Representation) import and export for burn-snn.

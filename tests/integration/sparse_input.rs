//! Tests of the sparse_input work (stub).

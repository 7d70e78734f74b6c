//! Tests of the fused work (stub).

//! Tests of the nir work (stub).

//! Tests of the plot work (stub).

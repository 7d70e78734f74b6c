//! Event-driven input layers for sparse binary spike trains.

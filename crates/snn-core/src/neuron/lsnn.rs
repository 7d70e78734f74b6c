//! Norse's LSNN: LIF with an adaptive threshold (Bellec et al. 2018).

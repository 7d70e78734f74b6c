//! Norse's exponential LIF (`lif_ex`).

//! Norse's conductance-based LIF (`coba_lif`).

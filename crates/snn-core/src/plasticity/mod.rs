//! Local learning rules that update weights while the network runs: STDP and Tsodyks-Markram short-term plasticity.

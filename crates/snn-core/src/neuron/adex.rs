//! Norse's adaptive exponential LIF (`lif_adex`) and its refractory variant.

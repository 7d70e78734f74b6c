//! Norse's multicompartment LIF (`lif_mc`, `lif_mc_refrac`).

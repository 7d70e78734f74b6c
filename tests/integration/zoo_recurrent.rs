//! LSNN, recurrent cells, multicompartment and conductance-based LIF, spikelearn: golden parity, training, errors.

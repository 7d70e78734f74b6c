//! spikelearn's SpikingNet: graph construction errors, synapse rules by hand.

//! spikelearn's `SpikingRecLayer`: LIF with fixed recurrent weights.

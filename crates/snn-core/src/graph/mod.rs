//! spikelearn's network model: named inputs, layers and synapses stepped together.

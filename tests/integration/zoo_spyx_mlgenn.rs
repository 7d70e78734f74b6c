//! Spyx and mlGeNN neuron models: golden parity, training, errors.

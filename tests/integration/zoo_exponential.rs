//! Norse AdEx, exponential and refractory LIF: golden parity, training, errors.

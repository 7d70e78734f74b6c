//! Izhikevich presets: golden parity with Norse, training, errors.

//! SpikingJelly Tempotron: golden parity (legacy and 2.0), learning, errors.

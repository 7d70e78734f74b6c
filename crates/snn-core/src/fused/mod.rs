//! Fused multi-step neuron ops: the whole time loop of a LIF or LI layer as one op.

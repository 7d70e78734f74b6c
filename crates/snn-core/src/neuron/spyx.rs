//! Spyx's neuron models (`spyx.nn`): LIF, LI, IF, ALIF, CuBaLIF.

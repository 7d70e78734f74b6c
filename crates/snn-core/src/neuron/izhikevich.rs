//! Izhikevich's model with every Norse behaviour preset.

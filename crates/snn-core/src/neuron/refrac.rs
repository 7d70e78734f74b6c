//! A refractory period for the LIF family (Norse's `lif_refrac`).

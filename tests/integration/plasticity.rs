//! STDP and Tsodyks-Markram: golden parity with Norse, hand-worked rules.

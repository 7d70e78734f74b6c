//! Moved: mlGeNN's input neurons are part of [`crate::encode`] (one module for everything that
//! turns data into spikes). These names stay for one release.

pub use crate::encode::{
    BinarySpikeInput, BinarySpikeInputConfig, FewSpikeReluInput, FewSpikeReluInputConfig,
    IntegrateFireInput, IntegrateFireInputConfig, LeakyIntegrateFireInput,
    LeakyIntegrateFireInputConfig, PoissonInput, PoissonInputConfig, SpikeInput, SpikeInputConfig,
};

//! mlGeNN's neuron models: `LeakyIntegrateFire` with refractoriness, `AdaptiveLeakyIntegrateFire`, `FewSpikeRelu`.

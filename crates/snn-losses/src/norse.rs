//! Norse's activity regularization (`norse.torch.functional.regularization`): an accumulator
//! updated at every step of a hand-written loop, whose value is then added to the loss.
//!
//! ```
//! use burn::prelude::*;
//! use snn_core::{LifConfig, lif_step};
//! use snn_losses::norse::{SpikeAccumulator, regularize_step};
//!
//! let device = Device::flex();
//! let lif = LifConfig::new(3).init(&device).unwrap();
//! let dynamics = lif.dynamics();
//! let (mut state, mut count) = (lif.init_state(1), None);
//! for _ in 0..20 {
//!     let (z, next) = lif_step(Tensor::ones([1, 3], &device), state, &dynamics);
//!     let (_, c) = regularize_step(z, &next, &SpikeAccumulator, count);
//!     count = Some(c);
//!     state = next;
//! }
//! assert!(count.unwrap().into_scalar::<f32>() > 0.0); // total spikes, differentiable
//! ```

use burn::prelude::*;
use snn_core::neuron::MembraneState;

/// Accumulates a quantity of a neuron layer over the steps of a loop.
pub trait Accumulator<S> {
    /// The accumulated value.
    type Output;
    /// The new value from this step's spikes `[batch, size]`, the layer's state after the step,
    /// and the previous value (`None` at the first step, which counts as zero).
    fn accumulate(
        &self,
        spikes: &Tensor<2>,
        state: &S,
        previous: Option<Self::Output>,
    ) -> Self::Output;
}

/// Norse `spike_accumulator`: the total number of spikes of all neurons and samples, `[1]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct SpikeAccumulator;

impl<S> Accumulator<S> for SpikeAccumulator {
    type Output = Tensor<1>;
    fn accumulate(&self, spikes: &Tensor<2>, _state: &S, previous: Option<Tensor<1>>) -> Tensor<1> {
        let count = spikes.clone().sum();
        match previous {
            Some(previous) => previous + count,
            None => count,
        }
    }
}

/// Norse `voltage_accumulator`: the sum over steps of the membrane after each step (after its
/// reset), per sample and neuron, `[batch, size]`.
#[derive(Clone, Copy, Debug, Default)]
pub struct VoltageAccumulator;

impl<S: MembraneState> Accumulator<S> for VoltageAccumulator {
    type Output = Tensor<2>;
    fn accumulate(&self, _spikes: &Tensor<2>, state: &S, previous: Option<Tensor<2>>) -> Tensor<2> {
        let v = state.membrane().clone();
        match previous {
            Some(previous) => previous + v,
            None => v,
        }
    }
}

/// Norse `regularize_step(z, s, accumulator, state)`: passes the spikes through and returns the
/// updated accumulator.
pub fn regularize_step<S, A: Accumulator<S>>(
    spikes: Tensor<2>,
    state: &S,
    accumulator: &A,
    previous: Option<A::Output>,
) -> (Tensor<2>, A::Output) {
    let value = accumulator.accumulate(&spikes, state, previous);
    (spikes, value)
}

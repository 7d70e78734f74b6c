//! Running per-step layers over time: Norse's `Lift` and `SequentialState`.
//!
//! [`lift`] applies any per-step function at every step of a `[batch, time, features]` sequence.
//! [`StepLayer`] is a layer that advances one step with a state; [`Chain`] composes two of them
//! and threads both states through time, so a chain of chains is Norse's `SequentialState`
//! ([`sequential!`](crate::sequential) builds one). [`run`] unrolls any `StepLayer` over a sequence.
//!
//! ```
//! use burn::nn::LinearConfig;
//! use burn::prelude::*;
//! use snn_core::{LiConfig, LifConfig, lift::run, sequential};
//!
//! let device = Device::flex();
//! let net = sequential![
//!     LinearConfig::new(4, 8).init(&device),
//!     LifConfig::new(8).init(&device).unwrap(),
//!     LinearConfig::new(8, 2).init(&device),
//!     LiConfig::new(2).init(&device).unwrap(),
//! ];
//! let x = Tensor::<3>::ones([3, 10, 4], &device);       // [batch, time, features]
//! let (readout, _states) = run(&net, x, None);
//! assert_eq!(readout.dims(), [3, 10, 2]);
//! ```

use burn::nn::Linear;
use burn::prelude::*;

/// Applies `f` to every step of `input` (`[batch, time, features]`) and stacks the results
/// (Norse `Lift`). `f` maps `[batch, features]` to `[batch, outputs]`.
pub fn lift(input: Tensor<3>, mut f: impl FnMut(Tensor<2>) -> Tensor<2>) -> Tensor<3> {
    let [batch, _, features] = input.dims();
    let steps: Vec<Tensor<2>> = input
        .iter_dim(1)
        .map(|x| f(x.reshape([batch, features])))
        .collect();
    Tensor::stack(steps, 1)
}

/// A layer that advances one time step: `[batch, inputs]` and a state in, `[batch, outputs]` and
/// the new state out.
pub trait StepLayer {
    /// What the layer carries from one step to the next (`()` for stateless layers).
    type State: Clone;
    /// Per-sequence constants (decay factors...), resolved once by [`StepLayer::prepare`].
    type Prepared;
    /// Resolves the per-sequence constants.
    fn prepare(&self) -> Self::Prepared;
    /// The state before the first step.
    fn initial_state(&self, batch: usize) -> Self::State;
    /// One step.
    fn advance(
        &self,
        prepared: &Self::Prepared,
        x: Tensor<2>,
        state: Self::State,
    ) -> (Tensor<2>, Self::State);
}

/// Runs `layer` over `input` (`[batch, time, inputs]`) from `state` (the initial state if
/// `None`); returns the outputs `[batch, time, outputs]` and the final state.
pub fn run<L: StepLayer>(
    layer: &L,
    input: Tensor<3>,
    state: Option<L::State>,
) -> (Tensor<3>, L::State) {
    let [batch, _, features] = input.dims();
    let prepared = layer.prepare();
    let mut state = state.unwrap_or_else(|| layer.initial_state(batch));
    let mut outputs = Vec::new();
    for x in input.iter_dim(1) {
        let (y, next) = layer.advance(&prepared, x.reshape([batch, features]), state);
        outputs.push(y);
        state = next;
    }
    (Tensor::stack(outputs, 1), state)
}

/// Two step layers in sequence, each with its own state (Norse `SequentialState`, two at a time).
#[derive(Module, Debug)]
pub struct Chain<A: Module, B: Module> {
    /// The first layer.
    pub first: A,
    /// The second layer, fed by the first.
    pub second: B,
}

impl<A: Module, B: Module> Chain<A, B> {
    /// `first` then `second`.
    pub fn new(first: A, second: B) -> Self {
        Self { first, second }
    }
}

impl<A: StepLayer + Module, B: StepLayer + Module> StepLayer for Chain<A, B> {
    type State = (A::State, B::State);
    type Prepared = (A::Prepared, B::Prepared);
    fn prepare(&self) -> Self::Prepared {
        (self.first.prepare(), self.second.prepare())
    }
    fn initial_state(&self, batch: usize) -> Self::State {
        (
            self.first.initial_state(batch),
            self.second.initial_state(batch),
        )
    }
    fn advance(
        &self,
        p: &Self::Prepared,
        x: Tensor<2>,
        (a, b): Self::State,
    ) -> (Tensor<2>, Self::State) {
        let (x, a) = self.first.advance(&p.0, x, a);
        let (y, b) = self.second.advance(&p.1, x, b);
        (y, (a, b))
    }
}

/// Chains step layers left to right: `sequential![a, b, c]` is `Chain(a, Chain(b, c))`.
#[macro_export]
macro_rules! sequential {
    ($only:expr $(,)?) => { $only };
    ($first:expr, $($rest:expr),+ $(,)?) => {
        $crate::lift::Chain::new($first, $crate::sequential!($($rest),+))
    };
}

impl StepLayer for Linear {
    type State = ();
    type Prepared = ();
    fn prepare(&self) {}
    fn initial_state(&self, _batch: usize) {}
    fn advance(&self, _: &(), x: Tensor<2>, _: ()) -> (Tensor<2>, ()) {
        (self.forward(x), ())
    }
}

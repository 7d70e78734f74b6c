//! The autodiff side of the fused op: three graph nodes (the output sequence, the final `v`,
//! the final `i`) that share one saved forward trajectory and run the reverse loop of
//! [`FusedLeakyBackend::leaky_backward`].
//!
//! Backprop through time is linear in the upstream gradients once the forward trajectory is
//! fixed, so each node can run the reverse loop with its own upstream gradient (zeros for the
//! other two) and the contributions add up in the gradient of each parent. The final-state nodes
//! only run when the final state is part of the loss (e.g. truncated BPTT over chunks).

use burn::backend::{
    Backend, TensorMetadata,
    autodiff::{
        Autodiff,
        checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
        grads::Gradients,
        ops::{Backward, Ops, OpsKind},
    },
    tensor::FloatTensor,
};
use burn::tensor::Shape;
use std::marker::PhantomData;

use super::{FusedLeakyBackend, FusedRecurrentBackend, LeakySpec};
use crate::host::HostTensor;

/// One value per output of a fused op: the sequence, the final `v`, the final `i`.
type Three<T> = (T, T, T);

/// Which output of the fused op a node stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Output {
    Sequence,
    FinalV,
    FinalI,
}

/// The upstream gradients of the three outputs (sequence `[batch, time, size]`, final `v` and
/// `i` `[batch, size]`) as the node of `output` runs the reverse loop: its own gradient, zeros for
/// the other two (see the module docs).
fn upstream<B: Backend>(
    output: Output,
    grad: FloatTensor<B>,
    [batch, time, size]: [usize; 3],
) -> Three<FloatTensor<B>> {
    let device = grad.device();
    let dtype = grad.dtype();
    let zeros = |shape: Vec<usize>| B::float_zeros(Shape::from(shape), &device, dtype.into());
    match output {
        Output::Sequence => (grad, zeros(vec![batch, size]), zeros(vec![batch, size])),
        Output::FinalV => (
            zeros(vec![batch, time, size]),
            grad,
            zeros(vec![batch, size]),
        ),
        Output::FinalI => (
            zeros(vec![batch, time, size]),
            zeros(vec![batch, size]),
            grad,
        ),
    }
}

/// What an op's reverse loop needs, shared (reference-counted primitives) by its three nodes:
/// the kept membrane and the op's other operands.
#[derive(Clone, Debug)]
struct Kept<B: HostTensor, O> {
    /// What the op's `*_forward_saving` kept for the reverse loop (the membrane, or the CPU
    /// backends' packed surrogate derivatives; a placeholder for a readout). Always `Some`
    /// until the drop takes it.
    u: Option<FloatTensor<B>>,
    /// The other operands the reverse loop reads.
    operands: O,
    spec: LeakySpec,
    /// `[batch, time, size]`.
    dims: [usize; 3],
}

impl<B: HostTensor, O> Kept<B, O> {
    fn u(&self) -> FloatTensor<B> {
        self.u.clone().expect("kept until dropped")
    }
}

impl<B: HostTensor, O> Drop for Kept<B, O> {
    /// The three nodes each hold a clone; the last one to go gives the kept buffer back to the
    /// CPU loops for the next forward of the same size (see `crate::host::buffer::overwritable`).
    fn drop(&mut self) {
        if let Some(u) = self.u.take() {
            B::give_back(u);
        }
    }
}

/// The leaky op's operands of the reverse loop: the initial membrane `[batch, size]` and the
/// coefficients `[COEFFICIENTS, size]`.
#[derive(Clone, Debug)]
struct LeakyOperands<B: Backend> {
    v0: FloatTensor<B>,
    coef: FloatTensor<B>,
}

/// A fused op's reverse loop: the gradients of its `N` parents from the upstream gradients of
/// its three outputs, the kept membrane `u` and the other operands.
trait ReverseLoop<B: HostTensor, const N: usize>: Send + std::fmt::Debug + 'static {
    /// The operands the loop reads besides `u`.
    type Operands: Clone + Send + std::fmt::Debug + 'static;

    fn reverse(
        u: FloatTensor<B>,
        operands: Self::Operands,
        spec: LeakySpec,
        upstream: Three<FloatTensor<B>>,
    ) -> [FloatTensor<B>; N];
}

/// The leaky op ([`FusedLeakyBackend`]); parents `x`, `v0`, `i0`.
#[derive(Debug)]
struct LeakyLoop;

impl<B: FusedLeakyBackend + HostTensor> ReverseLoop<B, 3> for LeakyLoop {
    type Operands = LeakyOperands<B>;

    fn reverse(
        u: FloatTensor<B>,
        LeakyOperands { v0, coef }: LeakyOperands<B>,
        spec: LeakySpec,
        (go, gv, gi): Three<FloatTensor<B>>,
    ) -> [FloatTensor<B>; 3] {
        let (gx, gv0, gi0) = B::leaky_backward(u, v0, coef, go, gv, gi, spec);
        [gx, gv0, gi0]
    }
}

/// The backward step of the node of one output of the op whose reverse loop is `L`.
#[derive(Debug)]
struct OutputNode<L> {
    output: Output,
    _op: PhantomData<L>,
}

impl<L> OutputNode<L> {
    fn new(output: Output) -> Self {
        Self {
            output,
            _op: PhantomData,
        }
    }
}

impl<B: HostTensor, L: ReverseLoop<B, N>, const N: usize> Backward<B, N> for OutputNode<L> {
    type State = Kept<B, L::Operands>;

    fn backward(
        self,
        ops: Ops<Self::State, N>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let s = ops.state;
        let upstream = upstream::<B>(self.output, grad, s.dims);
        let gradients = L::reverse(s.u(), s.operands.clone(), s.spec, upstream);
        for (parent, g) in ops.parents.into_iter().zip(gradients) {
            if let Some(parent) = parent {
                grads.register::<B>(parent.id, g);
            }
        }
    }
}

/// The three outputs (sequence, final `v`, final `i`) of a fused op as autodiff tensors: `run`
/// gets whether any of the three nodes is tracked (then it runs the saving forward and returns
/// what the reverse loop needs) and returns the inner outputs.
fn three_outputs<B, C, T, S, const N: usize>(
    kinds: [OpsKind<T, B, S, C, N>; 3],
    run: impl FnOnce(bool) -> ([FloatTensor<B>; 3], Option<S>),
) -> Three<FloatTensor<Autodiff<B, C>>>
where
    B: HostTensor,
    C: CheckpointStrategy,
    T: Backward<B, N, State = S>,
    S: Clone + Send + std::fmt::Debug + 'static,
{
    let tracked = kinds.iter().any(|k| matches!(k, OpsKind::Tracked(_)));
    let ([out, v, i], saved) = run(tracked);
    let [ko, kv, ki] = kinds;
    (
        finish(ko, &saved, out),
        finish(kv, &saved, v),
        finish(ki, &saved, i),
    )
}

/// `[batch, time, size]` of a sequence.
fn dims<B: Backend, C: CheckpointStrategy>(x: &FloatTensor<Autodiff<B, C>>) -> [usize; 3] {
    let shape = x.primitive().shape();
    [shape[0], shape[1], shape[2]]
}

/// The autodiff tensor of one output: a graph node holding `saved` where the node is tracked.
fn finish<
    B: HostTensor,
    C: CheckpointStrategy,
    T: Backward<B, N, State = S>,
    S: Clone + Send + std::fmt::Debug + 'static,
    const N: usize,
>(
    kind: OpsKind<T, B, S, C, N>,
    saved: &Option<S>,
    output: FloatTensor<B>,
) -> FloatTensor<Autodiff<B, C>> {
    match kind {
        OpsKind::Tracked(prep) => prep.finish(
            saved
                .clone()
                .expect("the state is saved when a node is tracked"),
            output,
        ),
        OpsKind::UnTracked(prep) => prep.finish(output),
    }
}

impl<B: FusedLeakyBackend + HostTensor, C: CheckpointStrategy> FusedLeakyBackend
    for Autodiff<B, C>
{
    fn leaky_forward(
        x: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        i0: FloatTensor<Self>,
        coef: FloatTensor<Self>,
        spec: LeakySpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let kind = |output| {
            OutputNode::<LeakyLoop>::new(output)
                .prepare::<C>([x.node(), v0.node(), i0.node()])
                .compute_bound()
                .stateful()
        };
        let kinds = [Output::Sequence, Output::FinalV, Output::FinalI].map(kind);
        let dims = dims::<B, C>(&x);
        let (x, v0, i0) = (x.into_primitive(), v0.into_primitive(), i0.into_primitive());
        let coef = coef.into_primitive();
        three_outputs(kinds, |tracked| {
            if !tracked {
                let (out, v, i) = B::leaky_forward(x, v0, i0, coef, spec);
                return ([out, v, i], None);
            }
            let (out, v, i, u) = B::leaky_forward_saving(x, v0.clone(), i0, coef.clone(), spec);
            let operands = LeakyOperands { v0, coef };
            let kept = Kept {
                u: Some(u),
                operands,
                spec,
                dims,
            };
            ([out, v, i], Some(kept))
        })
    }

    fn leaky_forward_saving(
        _x: FloatTensor<Self>,
        _v0: FloatTensor<Self>,
        _i0: FloatTensor<Self>,
        _coef: FloatTensor<Self>,
        _spec: LeakySpec,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        unreachable!("leaky_forward_saving runs on the inner backend of Autodiff only")
    }

    fn leaky_backward(
        _u: FloatTensor<Self>,
        _v0: FloatTensor<Self>,
        _coef: FloatTensor<Self>,
        _grad_out: FloatTensor<Self>,
        _grad_v: FloatTensor<Self>,
        _grad_i: FloatTensor<Self>,
        _spec: LeakySpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        unreachable!("leaky_backward runs on the inner backend of Autodiff only")
    }
}

/// The recurrent op's operands of the reverse loop: the previous spikes and the initial
/// membrane `[batch, size]`, the recurrent weights `[size, size]` and the coefficients.
#[derive(Clone, Debug)]
struct RecurrentOperands<B: Backend> {
    z0: FloatTensor<B>,
    v0: FloatTensor<B>,
    w_rec: FloatTensor<B>,
    coef: FloatTensor<B>,
}

/// The recurrent op ([`FusedRecurrentBackend`]): the same three outputs as the leaky op
/// (spikes, final `v`, final `i`); parents `x`, `z0`, `v0`, `i0`, `w_rec`.
#[derive(Debug)]
struct RecurrentLoop;

impl<B: FusedRecurrentBackend + HostTensor> ReverseLoop<B, 5> for RecurrentLoop {
    type Operands = RecurrentOperands<B>;

    fn reverse(
        u: FloatTensor<B>,
        o: RecurrentOperands<B>,
        spec: LeakySpec,
        (go, gv, gi): Three<FloatTensor<B>>,
    ) -> [FloatTensor<B>; 5] {
        let (gx, gz0, gv0, gi0, gw) =
            B::recurrent_backward(u, o.z0, o.v0, o.w_rec, o.coef, go, gv, gi, spec);
        [gx, gz0, gv0, gi0, gw]
    }
}

impl<B: FusedRecurrentBackend + HostTensor, C: CheckpointStrategy> FusedRecurrentBackend
    for Autodiff<B, C>
{
    fn recurrent_forward(
        x: FloatTensor<Self>,
        z0: FloatTensor<Self>,
        v0: FloatTensor<Self>,
        i0: FloatTensor<Self>,
        w_rec: FloatTensor<Self>,
        coef: FloatTensor<Self>,
        spec: LeakySpec,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let kind = |output| {
            OutputNode::<RecurrentLoop>::new(output)
                .prepare::<C>([x.node(), z0.node(), v0.node(), i0.node(), w_rec.node()])
                .compute_bound()
                .stateful()
        };
        let kinds = [Output::Sequence, Output::FinalV, Output::FinalI].map(kind);
        let dims = dims::<B, C>(&x);
        let (x, z0, v0, i0) = (
            x.into_primitive(),
            z0.into_primitive(),
            v0.into_primitive(),
            i0.into_primitive(),
        );
        let (w_rec, coef) = (w_rec.into_primitive(), coef.into_primitive());
        three_outputs(kinds, |tracked| {
            if !tracked {
                let (out, v, i) = B::recurrent_forward(x, z0, v0, i0, w_rec, coef, spec);
                return ([out, v, i], None);
            }
            let (out, v, i, u) = B::recurrent_forward_saving(
                x,
                z0.clone(),
                v0.clone(),
                i0,
                w_rec.clone(),
                coef.clone(),
                spec,
            );
            let operands = RecurrentOperands {
                z0,
                v0,
                w_rec,
                coef,
            };
            let kept = Kept {
                u: Some(u),
                operands,
                spec,
                dims,
            };
            ([out, v, i], Some(kept))
        })
    }

    fn recurrent_forward_saving(
        _x: FloatTensor<Self>,
        _z0: FloatTensor<Self>,
        _v0: FloatTensor<Self>,
        _i0: FloatTensor<Self>,
        _w_rec: FloatTensor<Self>,
        _coef: FloatTensor<Self>,
        _spec: LeakySpec,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        unreachable!("recurrent_forward_saving runs on the inner backend of Autodiff only")
    }

    fn recurrent_backward(
        _u: FloatTensor<Self>,
        _z0: FloatTensor<Self>,
        _v0: FloatTensor<Self>,
        _w_rec: FloatTensor<Self>,
        _coef: FloatTensor<Self>,
        _grad_out: FloatTensor<Self>,
        _grad_v: FloatTensor<Self>,
        _grad_i: FloatTensor<Self>,
        _spec: LeakySpec,
    ) -> (
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
        FloatTensor<Self>,
    ) {
        unreachable!("recurrent_backward runs on the inner backend of Autodiff only")
    }
}

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

use super::{FusedLeakyBackend, FusedRecurrentBackend, LeakySpec};
use crate::host::HostTensor;

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
) -> (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>) {
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

/// The backward step of one output of the fused op.
#[derive(Debug)]
struct LeakyBackward {
    output: Output,
}

/// What the reverse loop needs, shared (reference-counted primitives) by the three nodes.
#[derive(Clone, Debug)]
struct Saved<B: FusedLeakyBackend + HostTensor> {
    /// What [`FusedLeakyBackend::leaky_forward_saving`] kept for the reverse loop (the membrane, or
    /// the CPU backends' packed surrogate derivatives; a placeholder for a readout). Always
    /// `Some` until the drop takes it.
    u: Option<FloatTensor<B>>,
    /// The initial membrane `[batch, size]`.
    v0: FloatTensor<B>,
    /// Coefficients `[COEFFICIENTS, size]`.
    coef: FloatTensor<B>,
    spec: LeakySpec,
    /// `[batch, time, size]`.
    dims: [usize; 3],
}

impl<B: FusedLeakyBackend + HostTensor> Drop for Saved<B> {
    /// The three nodes each hold a clone; the last one to go gives the kept buffer back to the
    /// CPU loops for the next forward of the same size (see `crate::host::buffer::overwritable`).
    fn drop(&mut self) {
        if let Some(u) = self.u.take() {
            B::give_back(u);
        }
    }
}

impl<B: FusedLeakyBackend + HostTensor> Backward<B, 3> for LeakyBackward {
    type State = Saved<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let [px, pv, pi] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let s = ops.state;
        let (go, gv, gi) = upstream::<B>(self.output, grad, s.dims);
        let (gx, gv0, gi0) = B::leaky_backward(
            s.u.clone().expect("kept until dropped"),
            s.v0.clone(),
            s.coef.clone(),
            go,
            gv,
            gi,
            s.spec,
        );
        for (parent, g) in [(px, gx), (pv, gv0), (pi, gi0)] {
            if let Some(parent) = parent {
                grads.register::<B>(parent.id, g);
            }
        }
    }
}

type Kind<B, C> = OpsKind<LeakyBackward, B, Saved<B>, C, 3>;

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
        let kind = |output| -> Kind<B, C> {
            LeakyBackward { output }
                .prepare::<C>([x.node(), v0.node(), i0.node()])
                .compute_bound()
                .stateful()
        };
        let kinds = [
            kind(Output::Sequence),
            kind(Output::FinalV),
            kind(Output::FinalI),
        ];
        let tracked = kinds.iter().any(|k| matches!(k, OpsKind::Tracked(_)));
        let dims = {
            let shape = x.primitive().shape();
            [shape[0], shape[1], shape[2]]
        };
        let (x, v0, i0) = (x.into_primitive(), v0.into_primitive(), i0.into_primitive());
        let coef = coef.into_primitive();
        let (out, v, i, saved) = if tracked {
            let (out, v, i, u) = B::leaky_forward_saving(x, v0.clone(), i0, coef.clone(), spec);
            let saved = Saved {
                u: Some(u),
                v0,
                coef,
                spec,
                dims,
            };
            (out, v, i, Some(saved))
        } else {
            let (out, v, i) = B::leaky_forward(x, v0, i0, coef, spec);
            (out, v, i, None)
        };
        let [ko, kv, ki] = kinds;
        (
            finish(ko, &saved, out),
            finish(kv, &saved, v),
            finish(ki, &saved, i),
        )
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

/// The backward step of one output of the fused recurrent op (the same three outputs as the
/// leaky op: spikes, final `v`, final `i`; five parents: `x`, `z0`, `v0`, `i0`, `w_rec`).
#[derive(Debug)]
struct RecurrentBackward {
    output: Output,
}

/// What the recurrent op's reverse loop needs, shared by its three nodes.
#[derive(Clone, Debug)]
struct RecurrentSaved<B: FusedRecurrentBackend + HostTensor> {
    /// The pre-reset membrane `[batch, time, size]`; `Some` until the drop takes it.
    u: Option<FloatTensor<B>>,
    z0: FloatTensor<B>,
    v0: FloatTensor<B>,
    w_rec: FloatTensor<B>,
    coef: FloatTensor<B>,
    spec: LeakySpec,
    /// `[batch, time, size]`.
    dims: [usize; 3],
}

impl<B: FusedRecurrentBackend + HostTensor> Drop for RecurrentSaved<B> {
    /// As [`Saved`]'s: the last node to go gives the kept membrane back for reuse.
    fn drop(&mut self) {
        if let Some(u) = self.u.take() {
            B::give_back(u);
        }
    }
}

impl<B: FusedRecurrentBackend + HostTensor> Backward<B, 5> for RecurrentBackward {
    type State = RecurrentSaved<B>;

    fn backward(
        self,
        ops: Ops<Self::State, 5>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let s = ops.state;
        let (go, gv, gi) = upstream::<B>(self.output, grad, s.dims);
        let (gx, gz0, gv0, gi0, gw) = B::recurrent_backward(
            s.u.clone().expect("kept until dropped"),
            s.z0.clone(),
            s.v0.clone(),
            s.w_rec.clone(),
            s.coef.clone(),
            go,
            gv,
            gi,
            s.spec,
        );
        for (parent, g) in ops.parents.into_iter().zip([gx, gz0, gv0, gi0, gw]) {
            if let Some(parent) = parent {
                grads.register::<B>(parent.id, g);
            }
        }
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
        let kind = |output| -> OpsKind<RecurrentBackward, B, RecurrentSaved<B>, C, 5> {
            RecurrentBackward { output }
                .prepare::<C>([x.node(), z0.node(), v0.node(), i0.node(), w_rec.node()])
                .compute_bound()
                .stateful()
        };
        let kinds = [
            kind(Output::Sequence),
            kind(Output::FinalV),
            kind(Output::FinalI),
        ];
        let tracked = kinds.iter().any(|k| matches!(k, OpsKind::Tracked(_)));
        let dims = {
            let shape = x.primitive().shape();
            [shape[0], shape[1], shape[2]]
        };
        let (x, z0, v0, i0) = (
            x.into_primitive(),
            z0.into_primitive(),
            v0.into_primitive(),
            i0.into_primitive(),
        );
        let (w_rec, coef) = (w_rec.into_primitive(), coef.into_primitive());
        let (out, v, i, saved) = if tracked {
            let (out, v, i, u) = B::recurrent_forward_saving(
                x,
                z0.clone(),
                v0.clone(),
                i0,
                w_rec.clone(),
                coef.clone(),
                spec,
            );
            let saved = RecurrentSaved {
                u: Some(u),
                z0,
                v0,
                w_rec,
                coef,
                spec,
                dims,
            };
            (out, v, i, Some(saved))
        } else {
            let (out, v, i) = B::recurrent_forward(x, z0, v0, i0, w_rec, coef, spec);
            (out, v, i, None)
        };
        let [ko, kv, ki] = kinds;
        (
            finish(ko, &saved, out),
            finish(kv, &saved, v),
            finish(ki, &saved, i),
        )
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

//! The `spike_linear` op as a burn backend extension, with its hand-written backward step.
//!
//! [`SparseBackend::spike_linear`]'s default body is the dense `x · W + b` (a matmul), which every
//! backend listed in `#[backend_extension]` gets; wgpu (CubeCL behind Fusion) keeps it. NdArray and
//! Flex override it with the event-driven path of [`super::cpu`] when the input qualifies, reading
//! their tensors' memory in place through [`EventHost`]. `Autodiff<B, C>` overrides it to record
//! [`SpikeLinearBackward`], which keeps the forward's event list so that the backward does not
//! scan the input again.

use std::sync::Arc;

use burn::backend::{
    Backend, Shape, TensorMetadata,
    autodiff::{
        Autodiff, NodeId,
        checkpoint::{base::Checkpointer, strategy::CheckpointStrategy},
        grads::Gradients,
        ops::{Backward, Ops, OpsKind},
    },
    backend_extension,
    tensor::FloatTensor,
};
use burn::tensor::TensorData;

use super::cpu::{self, SpikeEvents};
use super::{SparsePath, set_last_path};

/// Backend extension implementing [`super::spike_linear`]: `out = x · W + b` for a 2-D input
/// `x: [rows, d_input]`, a weight `W: [d_input, d_output]` (burn's `Linear` layout) and an
/// optional bias `b: [d_output]`.
///
/// Users call [`super::spike_linear`] or [`super::SpikeLinear`]; this trait is the extension point
/// for backends.
#[backend_extension(
    Autodiff,
    NdArray,
    Flex,
    Cube: cfg(feature = "gpu"),
    Fusion: cfg(feature = "gpu")
)]
pub trait SparseBackend: Backend {
    /// `x · W + b`. The default body is the dense matmul; backends that can read their memory
    /// on the host override it with the event path when `x` is binary and at most `threshold`
    /// dense ([`super::choose_path`]).
    #[fusion(default)]
    fn spike_linear(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        threshold: f32,
    ) -> FloatTensor<Self> {
        let _ = threshold;
        set_last_path(SparsePath::Dense);
        dense_linear::<Self>(input, weight, Some(bias))
    }

    /// `x · W` (no bias; a separate method because extension ops take no optional tensors).
    #[fusion(default)]
    fn spike_linear_no_bias(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        threshold: f32,
    ) -> FloatTensor<Self> {
        let _ = threshold;
        set_last_path(SparsePath::Dense);
        dense_linear::<Self>(input, weight, None)
    }
}

/// Host access to a backend's `f32` tensors, which the event path needs. The default (no host
/// access) sends every call to the dense path: that is what GPU backends get.
pub trait EventHost: Backend {
    /// Runs `f` on the tensor's values as a row-major `f32` slice, in place where the memory is
    /// contiguous (a copy otherwise); `None` where the backend cannot (GPU memory, another dtype).
    fn with_host_f32<R>(tensor: &FloatTensor<Self>, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
        let _ = (tensor, f);
        None
    }

    /// A tensor of the given shape from row-major `f32` values on `device`.
    fn from_host_f32(
        values: Vec<f32>,
        shape: Vec<usize>,
        device: &Self::Device,
    ) -> FloatTensor<Self> {
        Self::float_from_data(TensorData::new(values, shape), device)
    }
}

impl EventHost for burn::backend::NdArray {
    fn with_host_f32<R>(tensor: &FloatTensor<Self>, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
        use burn::backend::ndarray::NdArrayTensor;
        match tensor {
            NdArrayTensor::F32(storage) => {
                // `view` is zero-copy for owned and borrowed storage; `as_slice` succeeds for
                // the standard (row-major, contiguous) layout that fresh tensors and params have.
                let view = storage.view();
                match view.as_slice() {
                    Some(values) => Some(f(values)),
                    None => Some(f(&view.iter().copied().collect::<Vec<f32>>())),
                }
            }
            _ => None,
        }
    }
    // `from_host_f32`: NdArray's `float_from_data` takes the `Vec` over without a copy.
}

impl EventHost for burn::backend::Flex {
    fn with_host_f32<R>(tensor: &FloatTensor<Self>, f: impl FnOnce(&[f32]) -> R) -> Option<R> {
        if tensor.dtype() != burn::tensor::DType::F32 {
            return None;
        }
        match tensor.as_slice::<f32>() {
            Some(values) => Some(f(values)),
            None => tensor.to_contiguous().as_slice::<f32>().map(f),
        }
    }
    // `from_host_f32`: Flex's `float_from_data` wraps the `Vec`'s bytes without a copy.
}

/// wgpu (Fusion over CubeCL): no host access, dense path.
#[cfg(feature = "gpu")]
impl EventHost for burn::backend::fusion::Fusion<burn::backend::wgpu::CubeBackend> {}

/// The CPU backends: the event path where the input qualifies, the dense matmul otherwise.
macro_rules! host_sparse_backend {
    ($backend:ty) => {
        impl SparseBackend for $backend {
            fn spike_linear(
                input: FloatTensor<Self>,
                weight: FloatTensor<Self>,
                bias: FloatTensor<Self>,
                threshold: f32,
            ) -> FloatTensor<Self> {
                forward_inner::<Self>(&input, &weight, Some(&bias), threshold).0
            }

            fn spike_linear_no_bias(
                input: FloatTensor<Self>,
                weight: FloatTensor<Self>,
                threshold: f32,
            ) -> FloatTensor<Self> {
                forward_inner::<Self>(&input, &weight, None, threshold).0
            }
        }
    };
}

host_sparse_backend!(burn::backend::NdArray);
host_sparse_backend!(burn::backend::Flex);

// The `Fusion<CubeBackend>` implementation (what wgpu devices run) is generated by the `Fusion`
// selector from the default (dense) body.
#[cfg(feature = "gpu")]
impl SparseBackend for burn::backend::wgpu::CubeBackend {}

/// The dense `x · W + b` from backend primitives.
pub(crate) fn dense_linear<B: Backend>(
    input: FloatTensor<B>,
    weight: FloatTensor<B>,
    bias: Option<FloatTensor<B>>,
) -> FloatTensor<B> {
    let out = B::float_matmul(input, weight);
    match bias {
        Some(bias) => {
            let d_output = bias.shape()[0];
            B::float_add(out, B::float_reshape(bias, Shape::new([1, d_output])))
        }
        None => out,
    }
}

/// Scans `input` and returns its events when the event path applies (binary, density at most
/// `threshold`, host-readable); records the decision for [`super::last_path`].
fn scan_input<B: EventHost>(input: &FloatTensor<B>, threshold: f32) -> Option<SpikeEvents> {
    let shape = input.shape();
    let (rows, d_input) = (shape[0], shape[1]);
    let events = B::with_host_f32(input, |x| cpu::scan(x, rows, d_input, threshold).ok()).flatten();
    set_last_path(if events.is_some() {
        SparsePath::Event
    } else {
        SparsePath::Dense
    });
    events
}

/// The event-driven forward from host slices; `None` if a weight or bias is not host-readable.
fn event_forward<B: EventHost>(
    events: &SpikeEvents,
    weight: &FloatTensor<B>,
    bias: Option<&FloatTensor<B>>,
) -> Option<FloatTensor<B>> {
    let d_output = weight.shape()[1];
    let out = B::with_host_f32(weight, |w| match bias {
        Some(b) => B::with_host_f32(b, |b| cpu::forward(events, w, d_output, Some(b))),
        None => Some(cpu::forward(events, w, d_output, None)),
    })
    .flatten()?;
    Some(B::from_host_f32(
        out,
        vec![events.rows, d_output],
        &weight.device(),
    ))
}

/// The event-driven weight gradient `xᵀ · grad` from the events.
fn event_grad_weight<B: EventHost>(events: &SpikeEvents, grad: FloatTensor<B>) -> FloatTensor<B> {
    let d_output = grad.shape()[1];
    let device = grad.device();
    match B::with_host_f32(&grad, |g| cpu::grad_weight(events, g, d_output)) {
        Some(gw) => {
            // `grad` has the shape of the forward's output: the next forward of this layer can
            // write its output into the buffer (see `crate::host_buffer::overwritable`)
            crate::fused::cpu::give_back_any::<B>(grad);
            B::from_host_f32(gw, vec![events.d_input, d_output], &device)
        }
        // Not reached for NdArray/Flex (their gradients are f32 host tensors); kept correct.
        None => {
            let x = B::from_host_f32(
                events.to_dense(),
                vec![events.rows, events.d_input],
                &device,
            );
            B::float_matmul(B::float_transpose(x), grad)
        }
    }
}

/// Whether [`narrow_grad_input`] computes the input gradient of a `[rows, d_input]` →
/// `[rows, d_output]` layer.
fn narrow_grad_applies(rows: usize, d_input: usize, d_output: usize) -> bool {
    d_output <= cpu::NARROW_OUTPUT_MAX
        && rows * d_input * size_of::<f32>() >= cpu::NARROW_GRAD_MIN_BYTES
}

/// `grad · Wᵀ` on the host for a narrow layer with a large input gradient (`d_output` ≤
/// [`cpu::NARROW_OUTPUT_MAX`], at least [`cpu::NARROW_GRAD_MIN_BYTES`]) where both are
/// host-readable; `None` otherwise (the caller takes the matmul).
fn narrow_grad_input<B: EventHost>(
    grad: &FloatTensor<B>,
    weight: &FloatTensor<B>,
) -> Option<FloatTensor<B>> {
    let (shape, w_shape) = (grad.shape(), weight.shape());
    let (rows, d_output, d_input) = (shape[0], shape[1], w_shape[0]);
    if !narrow_grad_applies(rows, d_input, d_output) {
        return None;
    }
    let gx = B::with_host_f32(grad, |g| {
        B::with_host_f32(weight, |w| cpu::grad_input(g, w, rows, d_input, d_output))
    })
    .flatten()?;
    super::count_host_input_gradient();
    Some(B::from_host_f32(gx, vec![rows, d_input], &weight.device()))
}

/// What the backward step keeps: the forward's events (event path), the input (dense path, when
/// the weight needs a gradient), the weight (when the input needs a gradient).
#[derive(Clone, Debug)]
pub struct SpikeLinearState<B: Backend> {
    events: Option<Arc<SpikeEvents>>,
    input: Option<FloatTensor<B>>,
    weight: Option<FloatTensor<B>>,
}

/// The backward step of `spike_linear`, with parents `[input, weight]` or
/// `[input, weight, bias]`:
///
/// * `∂L/∂W = xᵀ · ∂L/∂out`: on the event path, `∂L/∂W[i, :] = Σ_{r: x[r,i]=1} ∂L/∂out[r, :]`
///   accumulated from the forward's events (no matmul, no rescan); otherwise the dense matmul;
/// * `∂L/∂b = Σ_r ∂L/∂out[r, :]`;
/// * `∂L/∂x = ∂L/∂out · Wᵀ`, dense, only when the input requires a gradient (spike data usually
///   does not).
#[derive(Debug)]
pub struct SpikeLinearBackward;

fn backward_step<B: SparseBackend + EventHost>(
    state: SpikeLinearState<B>,
    grad: FloatTensor<B>,
    [input, weight, bias]: [Option<NodeId>; 3],
    grads: &mut Gradients,
) {
    if let Some(id) = bias {
        let d_output = grad.shape()[1];
        let summed = B::float_sum_dim(grad.clone(), 0);
        grads.register::<B>(id, B::float_reshape(summed, Shape::new([d_output])));
    }
    if let Some(id) = input
        && let Some(w) = state.weight
    {
        let grad_x = narrow_grad_input::<B>(&grad, &w)
            .unwrap_or_else(|| B::float_matmul(grad.clone(), B::float_transpose(w)));
        grads.register::<B>(id, grad_x);
    }
    if let Some(id) = weight {
        let grad_w = match (state.events, state.input) {
            (Some(events), _) => event_grad_weight::<B>(&events, grad),
            (None, Some(x)) => B::float_matmul(B::float_transpose(x), grad),
            // The forward keeps one of the two whenever the weight is tracked.
            (None, None) => {
                unreachable!("spike_linear backward: no input kept for the weight gradient")
            }
        };
        grads.register::<B>(id, grad_w);
    }
}

impl<B: SparseBackend + EventHost> Backward<B, 2> for SpikeLinearBackward {
    type State = SpikeLinearState<B>;

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [input, weight] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let ids = [input.map(|p| p.id), weight.map(|p| p.id), None];
        backward_step::<B>(ops.state, grad, ids, grads);
    }
}

impl<B: SparseBackend + EventHost> Backward<B, 3> for SpikeLinearBackward {
    type State = SpikeLinearState<B>;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [input, weight, bias] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let ids = [
            input.map(|p| p.id),
            weight.map(|p| p.id),
            bias.map(|p| p.id),
        ];
        backward_step::<B>(ops.state, grad, ids, grads);
    }
}

/// The forward of a backend with host access: the output and, on the event path, the events
/// (which the autodiff op keeps for the backward; the CPU backends' own `spike_linear` drops them).
fn forward_inner<B: EventHost>(
    input: &FloatTensor<B>,
    weight: &FloatTensor<B>,
    bias: Option<&FloatTensor<B>>,
    threshold: f32,
) -> (FloatTensor<B>, Option<Arc<SpikeEvents>>) {
    if let Some(events) = scan_input::<B>(input, threshold)
        && let Some(out) = event_forward::<B>(&events, weight, bias)
    {
        return (out, Some(Arc::new(events)));
    }
    set_last_path(SparsePath::Dense);
    // The inner backend's own op: dense on every backend, since this input did not qualify.
    let out = dense_linear::<B>(input.clone(), weight.clone(), bias.cloned());
    (out, None)
}

impl<B: SparseBackend + EventHost, C: CheckpointStrategy> SparseBackend for Autodiff<B, C> {
    fn spike_linear(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        threshold: f32,
    ) -> FloatTensor<Self> {
        autodiff_spike_linear::<B, C>(input, weight, Some(bias), threshold)
    }

    fn spike_linear_no_bias(
        input: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        threshold: f32,
    ) -> FloatTensor<Self> {
        autodiff_spike_linear::<B, C>(input, weight, None, threshold)
    }
}

/// On the event path the backward keeps the events, not the input. When that backward will write
/// the input gradient (same shape) on the host ([`narrow_grad_input`]), the input's buffer, once
/// read, goes back to the spare list for it, if nothing else holds it (usually the spikes of the
/// layer before): the gradient then needs no fresh pages. Otherwise the buffer is left to the
/// allocator, which reuses it itself (a spare buffer nobody takes would only keep it from that).
fn give_back_read_input<B: Backend, C: CheckpointStrategy>(
    on_events: bool,
    input: FloatTensor<Autodiff<B, C>>,
    weight: &FloatTensor<Autodiff<B, C>>,
) {
    let input_tracked = input.is_tracked();
    let (shape, w_shape) = (input.primitive().shape(), weight.primitive().shape());
    if on_events && input_tracked && narrow_grad_applies(shape[0], shape[1], w_shape[1]) {
        crate::fused::cpu::give_back_any::<B>(input.into_primitive());
    }
}

/// The autodiff op: the inner forward, recording [`SpikeLinearBackward`] with two or three parents.
fn autodiff_spike_linear<B: SparseBackend + EventHost, C: CheckpointStrategy>(
    input: FloatTensor<Autodiff<B, C>>,
    weight: FloatTensor<Autodiff<B, C>>,
    bias: Option<FloatTensor<Autodiff<B, C>>>,
    threshold: f32,
) -> FloatTensor<Autodiff<B, C>> {
    let input_tracked = input.is_tracked();
    let weight_tracked = weight.is_tracked();
    // What the backward needs, from the forward's results.
    let state = |events: Option<Arc<SpikeEvents>>| SpikeLinearState::<B> {
        input: (weight_tracked && events.is_none()).then(|| input.primitive().clone()),
        weight: input_tracked.then(|| weight.primitive().clone()),
        events,
    };
    match bias {
        Some(bias) => {
            match SpikeLinearBackward
                .prepare::<C>([input.node(), weight.node(), bias.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => {
                    let (out, events) = forward_inner::<B>(
                        input.primitive(),
                        weight.primitive(),
                        Some(bias.primitive()),
                        threshold,
                    );
                    let on_events = events.is_some();
                    let out = prep.finish(state(events), out);
                    give_back_read_input::<B, C>(on_events, input, &weight);
                    out
                }
                OpsKind::UnTracked(prep) => prep.finish(B::spike_linear(
                    input.into_primitive(),
                    weight.into_primitive(),
                    bias.into_primitive(),
                    threshold,
                )),
            }
        }
        None => {
            match SpikeLinearBackward
                .prepare::<C>([input.node(), weight.node()])
                .compute_bound()
                .stateful()
            {
                OpsKind::Tracked(prep) => {
                    let (out, events) =
                        forward_inner::<B>(input.primitive(), weight.primitive(), None, threshold);
                    let on_events = events.is_some();
                    let out = prep.finish(state(events), out);
                    give_back_read_input::<B, C>(on_events, input, &weight);
                    out
                }
                OpsKind::UnTracked(prep) => prep.finish(B::spike_linear_no_bias(
                    input.into_primitive(),
                    weight.into_primitive(),
                    threshold,
                )),
            }
        }
    }
}

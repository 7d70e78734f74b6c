//! The spike op's backward step `grad · σ'(x)` on the CPU backends (NdArray, Flex): one loop over
//! raw `f32` slices, `σ'` from the host formula ([`crate::surrogate::with_surrogate`]), parallel
//! over chunks with rayon for large tensors, compiled for the widest SIMD the CPU has.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{DType, FloatDType};
use rayon::prelude::*;

use crate::host::HostTensor;
use crate::host::simd::widest;
use crate::surrogate::{Surrogate, with_surrogate};

/// Elements per work item; tensors up to this size run on the calling thread.
const CHUNK: usize = 1 << 15;

/// `grad · σ'(x)` in `x`'s shape and float dtype. The gradient is consumed and, when this op
/// holds its only handle (the usual case in a backward pass), written over in place; `x`'s buffer
/// is given back for reuse when nothing else holds it.
pub(super) fn surrogate_backward<B: HostTensor>(
    x: FloatTensor<B>,
    grad: FloatTensor<B>,
    surrogate: Surrogate,
) -> FloatTensor<B> {
    let (dtype, shape, device) = (x.dtype(), x.shape(), x.device());
    if surrogate == Surrogate::StraightThrough {
        return in_dtype::<B>(grad, dtype);
    }
    let n = shape.num_elements();
    assert_eq!(
        grad.shape().num_elements(),
        n,
        "surrogate backward: the gradient {:?} and the input {:?} differ in shape",
        grad.shape(),
        shape
    );
    // The loop runs in f32: other float dtypes are cast there and back (a copy either way).
    let x = in_dtype::<B>(x, DType::F32);
    let grad = in_dtype::<B>(grad, DType::F32);
    let xs = host_f32s::<B>(&x);
    let out = match B::into_unique_f32s(grad) {
        Ok(mut values) => {
            scale_in_place(&xs, &mut values, surrogate);
            values
        }
        Err(grad) => {
            let mut values = crate::host::buffer::overwritable(n);
            scale_into(&xs, &host_f32s::<B>(&grad), &mut values, surrogate);
            values
        }
    };
    drop(xs);
    B::give_back(x);
    in_dtype::<B>(B::from_host_f32s(out, shape.to_vec(), &device), dtype)
}

/// `t` itself when it has the float dtype `dtype`, else cast to it.
fn in_dtype<B: HostTensor>(t: FloatTensor<B>, dtype: DType) -> FloatTensor<B> {
    if t.dtype() == dtype {
        t
    } else {
        B::float_cast(t, FloatDType::from(dtype))
    }
}

/// The values of an `f32` tensor on the host.
fn host_f32s<B: HostTensor>(t: &FloatTensor<B>) -> std::borrow::Cow<'_, [f32]> {
    B::host_f32s(t).unwrap_or_else(|| {
        panic!(
            "surrogate backward: no host access to a {:?} tensor on a CPU backend",
            t.dtype()
        )
    })
}

/// `grad[i] *= σ'(x[i])`.
fn scale_in_place(xs: &[f32], grad: &mut [f32], surrogate: Surrogate) {
    with_surrogate!(surrogate, |f| {
        let item = |(grad, xs): (&mut [f32], &[f32])| {
            widest(
                #[inline(always)]
                || {
                    for (g, &x) in grad.iter_mut().zip(xs) {
                        *g *= f(x);
                    }
                },
            )
        };
        if xs.len() <= CHUNK {
            item((grad, xs));
        } else {
            grad.par_chunks_mut(CHUNK)
                .zip(xs.par_chunks(CHUNK))
                .for_each(item);
        }
    })
}

/// `out[i] = grad[i] · σ'(x[i])`.
fn scale_into(xs: &[f32], grad: &[f32], out: &mut [f32], surrogate: Surrogate) {
    with_surrogate!(surrogate, |f| {
        let item = |((out, grad), xs): ((&mut [f32], &[f32]), &[f32])| {
            widest(
                #[inline(always)]
                || {
                    for ((o, &g), &x) in out.iter_mut().zip(grad).zip(xs) {
                        *o = g * f(x);
                    }
                },
            )
        };
        if xs.len() <= CHUNK {
            item(((out, grad), xs));
        } else {
            out.par_chunks_mut(CHUNK)
                .zip(grad.par_chunks(CHUNK))
                .zip(xs.par_chunks(CHUNK))
                .for_each(item);
        }
    })
}

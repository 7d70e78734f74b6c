//! The spike op's backward step `grad · σ'(x)` on the CPU backends (NdArray, Flex): one loop over
//! raw `f32` slices, `σ'` from the host formula ([`crate::surrogate::with_surrogate`]), parallel
//! over chunks with rayon for large tensors, compiled for the widest SIMD the CPU has.

use burn::backend::TensorMetadata;
use burn::backend::tensor::FloatTensor;
use burn::tensor::{DType, FloatDType};
use rayon::prelude::*;

use crate::host::simd::widest;
use crate::host::{HostTensor, f32s_of};
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
    let xs = f32s_of::<B>(&x, "the surrogate backward");
    let out = match B::into_unique_f32s(grad) {
        Ok(mut values) => {
            scale(&xs, None, &mut values, surrogate);
            values
        }
        Err(grad) => {
            let mut values = crate::host::buffer::overwritable(n);
            let grad = f32s_of::<B>(&grad, "the surrogate backward");
            scale(&xs, Some(&grad), &mut values, surrogate);
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

/// `out[i] = g[i] · σ'(x[i])`, with `g` the gradient `grad`, or `out` itself when `grad` is `None`
/// (the op writes over the gradient it holds alone).
fn scale(xs: &[f32], grad: Option<&[f32]>, out: &mut [f32], surrogate: Surrogate) {
    with_surrogate!(surrogate, |f| {
        let item = |out: &mut [f32], xs: &[f32], grad: Option<&[f32]>| {
            widest(
                #[inline(always)]
                || match grad {
                    Some(grad) => {
                        for ((o, &g), &x) in out.iter_mut().zip(grad).zip(xs) {
                            *o = g * f(x);
                        }
                    }
                    None => {
                        for (o, &x) in out.iter_mut().zip(xs) {
                            *o *= f(x);
                        }
                    }
                },
            )
        };
        if xs.len() <= CHUNK {
            item(out, xs, grad);
        } else {
            out.par_chunks_mut(CHUNK)
                .zip(xs.par_chunks(CHUNK))
                .enumerate()
                .for_each(|(k, (out, xs))| {
                    let at = k * CHUNK;
                    item(out, xs, grad.map(|g| &g[at..at + out.len()]));
                });
        }
    })
}

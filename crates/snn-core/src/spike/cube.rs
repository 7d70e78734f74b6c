//! The spike op's backward step `grad · σ'(x)` as a CubeCL kernel (wgpu), for [`CubeBackend`];
//! the `Fusion` selector of `#[backend_extension]` wraps it into a lazy custom operation for
//! `Fusion<CubeBackend>`, the backend of wgpu devices. `σ'` is the `#[cube]` formula
//! ([`crate::surrogate::cube::derivative`]), its kind a compile-time parameter of the kernel.

use burn::backend::cubecl::dtype_to_storage_type;
use burn::backend::tensor::FloatTensor;
use burn_cubecl::{
    CubeBackend, kernel::cast, kernel::into_contiguous,
    ops::numeric::empty_device_contiguous_dtype, tensor::CubeTensor,
};
use cubecl::{calculate_cube_count_elemwise, prelude::*};

use crate::surrogate::Surrogate;

/// `out[i] = grad[i] · σ'(x[i])`, one unit per element of the contiguous tensors.
#[cube(launch)]
fn surrogate_backward_kernel<F: Float>(
    x: &Tensor<F>,
    grad: &Tensor<F>,
    out: &mut Tensor<F>,
    p1: InputScalar,
    p2: InputScalar,
    #[comptime] kind: u32,
    #[define(F)] _dtype: ElemType,
) {
    let pos = ABSOLUTE_POS;
    if pos >= out.len() {
        terminate!();
    }
    let p1 = p1.get::<F>();
    let p2 = p2.get::<F>();
    out[pos] = grad[pos] * crate::surrogate::cube::derivative::<F>(x[pos], p1, p2, kind);
}

/// `grad · σ'(x)` in `x`'s shape and dtype (the gradient is cast to it if it differs).
pub(super) fn surrogate_backward(
    x: CubeTensor,
    grad: CubeTensor,
    surrogate: Surrogate,
) -> FloatTensor<CubeBackend> {
    if surrogate == Surrogate::StraightThrough {
        return cast(grad, x.dtype);
    }
    let n = x.meta.shape().num_elements();
    assert_eq!(
        grad.meta.shape().num_elements(),
        n,
        "surrogate backward: the gradient {:?} and the input {:?} differ in shape",
        grad.meta.shape(),
        x.meta.shape()
    );
    let x = into_contiguous(x);
    let grad = into_contiguous(cast(grad, x.dtype));
    let out = empty_device_contiguous_dtype(
        x.client.clone(),
        x.device.clone(),
        x.meta.shape().clone(),
        x.dtype,
    );
    if n > 0 {
        let (kind, p1, p2) = surrogate.kernel_parameters::<f32>();
        let client = x.client.clone();
        let st = dtype_to_storage_type(x.dtype);
        let cube_dim = CubeDim::new(&client, n);
        let cube_count = calculate_cube_count_elemwise(&client, n, cube_dim);
        surrogate_backward_kernel::launch(
            &client,
            cube_count,
            cube_dim,
            x.into_tensor_arg(),
            grad.into_tensor_arg(),
            out.clone().into_tensor_arg(),
            InputScalar::new(p1, st),
            InputScalar::new(p2, st),
            kind as u32,
            st,
        );
    }
    out
}

//! Host plumbing for the hand-written CPU loops (ground floor: imports nothing above it).
//!
//! * [`HostTensor`]: the one way the ops read a backend's tensors as `f32` slices on the host,
//!   take over a buffer nobody else holds, and give kept buffers back; implemented by the CPU
//!   backends (ndarray, flex), defaulted to "no host access" for the GPU.
//! * `Shared`: the one bounds-checked slice handle the parallel work items share.
//! * `buffer`: large zeroed or reusable `f32` buffers; `simd`: the widest instruction set at run
//!   time and cache prefetch hints.

pub(crate) mod buffer;
pub(crate) mod gemm;
mod shared;
pub(crate) mod simd;

use std::borrow::Cow;

use burn::backend::Backend;
use burn::backend::tensor::FloatTensor;
use burn::tensor::TensorData;

pub(crate) use shared::Shared;

/// Host access to a backend's `f32` tensors, which the CPU loops of the ops need. The defaults
/// (no host access) are what GPU backends get: the ops then take their tensor-op path.
pub trait HostTensor: Backend {
    /// The tensor's values as a row-major `f32` slice: borrowed where the memory is contiguous,
    /// a copy otherwise; `None` where the backend cannot (GPU memory, another dtype).
    fn host_f32s(tensor: &FloatTensor<Self>) -> Option<Cow<'_, [f32]>> {
        let _ = tensor;
        None
    }

    /// The tensor's own buffer, without a copy, when this handle is its only one and it is
    /// `f32`, contiguous from offset 0 and exactly its size (an op may then write its result
    /// over it); the tensor back otherwise.
    fn into_unique_f32s(tensor: FloatTensor<Self>) -> Result<Vec<f32>, FloatTensor<Self>> {
        Err(tensor)
    }

    /// A tensor of the given shape from row-major `f32` values on `device` (the CPU backends
    /// take the `Vec` over without a copy).
    fn from_host_f32s(
        values: Vec<f32>,
        shape: Vec<usize>,
        device: &Self::Device,
    ) -> FloatTensor<Self> {
        Self::float_from_data(TensorData::new(values, shape), device)
    }

    /// Gives the buffer of `kept` (what a forward kept for its backward, or a gradient the op
    /// consumed) to the spare list of output buffers (`host::buffer`) when nothing else holds it;
    /// otherwise just drops this handle.
    fn give_back(kept: FloatTensor<Self>) {
        if let Ok(values) = Self::into_unique_f32s(kept) {
            buffer::recycle(values);
        }
    }
}

/// The transpose (`[cols, rows]`, row-major) of the row-major `rows × cols` matrix `m`: bands
/// of 32 output rows in parallel, each copied in 32 × 32 tiles so that both the reads and the
/// writes stay in cache.
pub(crate) fn transpose(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    use rayon::prelude::*;
    const TILE: usize = 32;
    assert_eq!(m.len(), rows * cols, "transpose: {rows} x {cols} values");
    // every element is written: a band covers `width` whole output rows
    let mut out = buffer::overwritable(rows * cols);
    if rows == 0 || cols == 0 {
        return out;
    }
    out.par_chunks_mut(TILE * rows)
        .enumerate()
        .for_each(|(band, dst)| {
            let c0 = band * TILE;
            let width = dst.len() / rows;
            for r0 in (0..rows).step_by(TILE) {
                for r in r0..(r0 + TILE).min(rows) {
                    let src = &m[r * cols + c0..r * cols + c0 + width];
                    for (k, v) in src.iter().enumerate() {
                        dst[k * rows + r] = *v;
                    }
                }
            }
        });
    out
}

/// The values of one of a CPU op's tensors on the host ([`HostTensor::host_f32s`]); panics,
/// naming `op` and the dtype, where there are none (an op only runs its host loop on a backend
/// that has them, so this is a bug, not an input error).
pub(crate) fn f32s_of<'a, B: HostTensor>(t: &'a FloatTensor<B>, op: &str) -> Cow<'a, [f32]> {
    B::host_f32s(t).unwrap_or_else(|| {
        use burn::backend::TensorMetadata;
        panic!("{op} runs on f32 host tensors, got {:?}", t.dtype())
    })
}

// burn 0.22 deprecates the NdArray backend, which this crate still serves
#[allow(deprecated)]
impl HostTensor for burn::backend::NdArray {
    fn host_f32s(tensor: &FloatTensor<Self>) -> Option<Cow<'_, [f32]>> {
        use burn::backend::ndarray::NdArrayTensor;
        match tensor {
            NdArrayTensor::F32(storage) => {
                // `view` is zero-copy for owned and borrowed storage; `to_slice` succeeds for
                // the standard (row-major, contiguous) layout of fresh tensors and params.
                let view = storage.view();
                Some(match view.to_slice() {
                    Some(values) => Cow::Borrowed(values),
                    None => {
                        let shape = view.shape();
                        match (shape.len(), view.t().to_slice()) {
                            // a transposed matrix (`w.transpose()` of a weight): tiled, not
                            // element by element through the strided iterator (8x slower)
                            (2, Some(t)) => Cow::Owned(transpose(t, shape[1], shape[0])),
                            _ => Cow::Owned(view.iter().copied().collect()),
                        }
                    }
                })
            }
            _ => None,
        }
    }

    fn into_unique_f32s(tensor: FloatTensor<Self>) -> Result<Vec<f32>, FloatTensor<Self>> {
        use burn::backend::ndarray::NdArrayTensor;
        match tensor {
            NdArrayTensor::F32(storage) if storage.is_unique() => {
                // unique and owned: no copy
                let array = storage.into_owned();
                if !array.is_standard_layout() {
                    return Err(NdArrayTensor::from(array));
                }
                let n = array.len();
                let (values, offset) = array.into_owned().into_raw_vec_and_offset();
                let offset = offset.unwrap_or(0);
                if offset == 0 && values.len() == n {
                    Ok(values)
                } else {
                    // a unique view into a larger buffer: its elements, contiguous from `offset`
                    Ok(values[offset..offset + n].to_vec())
                }
            }
            other => Err(other),
        }
    }
}

impl HostTensor for burn::backend::Flex {
    fn host_f32s(tensor: &FloatTensor<Self>) -> Option<Cow<'_, [f32]>> {
        if tensor.dtype() != burn::tensor::DType::F32 {
            return None;
        }
        if let Some(values) = tensor.as_slice::<f32>() {
            return Some(Cow::Borrowed(values));
        }
        // a transposed matrix (`w.transpose()` of a weight) over its whole buffer: tiled, not
        // through `to_contiguous` and a second copy
        let layout = tensor.layout();
        let dims = layout.shape();
        if dims.num_dims() == 2 && layout.start_offset() == 0 {
            let (rows, cols) = (dims[0], dims[1]);
            let storage = tensor.storage::<f32>();
            if layout.strides() == [1, rows as isize] && storage.len() == rows * cols {
                return Some(Cow::Owned(transpose(storage, cols, rows)));
            }
        }
        tensor
            .to_contiguous()
            .as_slice::<f32>()
            .map(|values| Cow::Owned(values.to_vec()))
    }

    fn into_unique_f32s(tensor: FloatTensor<Self>) -> Result<Vec<f32>, FloatTensor<Self>> {
        let whole = tensor.is_unique()
            && tensor.is_contiguous()
            && tensor.layout().start_offset() == 0
            && tensor.dtype() == burn::tensor::DType::F32
            && tensor.bytes().len() == tensor.layout().num_elements() * size_of::<f32>();
        if whole {
            // `into_data` unwraps the buffer, and a buffer allocated as f32 converts without a
            // copy
            Ok(tensor
                .into_data()
                .try_into_vec::<f32>()
                .expect("checked to be f32"))
        } else {
            Err(tensor)
        }
    }
}

/// wgpu (Fusion over CubeCL): no host access.
#[cfg(feature = "gpu")]
impl HostTensor for burn::backend::fusion::Fusion<burn::backend::wgpu::CubeBackend> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_matches_the_definition_at_ragged_sizes() {
        // bands of 32 output rows, a last band narrower, rows not a multiple of the tile
        for (rows, cols) in [(1, 1), (3, 70), (70, 3), (33, 65), (100, 97)] {
            let m: Vec<f32> = (0..rows * cols).map(|k| k as f32).collect();
            let t = transpose(&m, rows, cols);
            assert_eq!(t.len(), rows * cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(
                        t[c * rows + r],
                        m[r * cols + c],
                        "{rows}x{cols} at ({r}, {c})"
                    );
                }
            }
        }
    }
}

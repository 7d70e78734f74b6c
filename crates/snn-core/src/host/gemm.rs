//! `f32` matrix products on host slices with strided operands (the `gemm` crate), behind a
//! safe function that checks every index the product reads or writes.

/// A row-major view of a `rows × cols` matrix inside a slice: element `(r, c)` is
/// `values[offset + r·row_stride + c·col_stride]`. Transposing a view swaps the strides.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Strided {
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    pub(crate) offset: usize,
    pub(crate) row_stride: usize,
    pub(crate) col_stride: usize,
}

impl Strided {
    /// A dense row-major `rows × cols` matrix at `offset`.
    pub(crate) fn dense(rows: usize, cols: usize, offset: usize) -> Self {
        Self {
            rows,
            cols,
            offset,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The same elements seen as the transposed matrix.
    pub(crate) fn transposed(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// One past the largest index the view touches (0 for an empty view).
    fn end(&self) -> usize {
        if self.rows == 0 || self.cols == 0 {
            return 0;
        }
        self.offset + (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride + 1
    }

    fn stride(v: usize) -> isize {
        isize::try_from(v).expect("a stride inside a slice fits isize")
    }
}

/// Products of fewer multiply-adds than this run on the calling thread: waking the pool costs
/// more than it saves (the recurrent op's per-step `[32, 256]·[256, 256]` is 2M).
pub(crate) const PARALLEL_MIN_MACS: usize = 1 << 23;

/// `dst = lhs · rhs` (`accumulate` false) or `dst += lhs · rhs`, in parallel with rayon when
/// the product is large enough.
///
/// Panics if the shapes do not chain (`lhs.cols == rhs.rows`, `dst` is `lhs.rows × rhs.cols`)
/// or a view reaches past its slice; the product only runs on indices checked here.
pub(crate) fn matmul(
    dst: &mut [f32],
    d: Strided,
    lhs: &[f32],
    l: Strided,
    rhs: &[f32],
    r: Strided,
    accumulate: bool,
) {
    let parallel = d.rows * d.cols * l.cols >= PARALLEL_MIN_MACS;
    matmul_on(dst, d, lhs, l, rhs, r, accumulate, parallel);
}

/// [`matmul`] on the calling thread alone (`parallel` false), or on the rayon pool: for
/// callers that already run one product per thread.
#[allow(clippy::too_many_arguments)]
pub(crate) fn matmul_on(
    dst: &mut [f32],
    d: Strided,
    lhs: &[f32],
    l: Strided,
    rhs: &[f32],
    r: Strided,
    accumulate: bool,
    parallel: bool,
) {
    assert!(
        l.cols == r.rows && d.rows == l.rows && d.cols == r.cols,
        "host matmul: [{}x{}] = [{}x{}]·[{}x{}] does not chain",
        d.rows,
        d.cols,
        l.rows,
        l.cols,
        r.rows,
        r.cols
    );
    assert!(
        d.end() <= dst.len() && l.end() <= lhs.len() && r.end() <= rhs.len(),
        "host matmul: a view reaches past its slice"
    );
    if d.rows == 0 || d.cols == 0 {
        return;
    }
    if l.cols == 0 {
        if !accumulate {
            for row in 0..d.rows {
                for col in 0..d.cols {
                    dst[d.offset + row * d.row_stride + col * d.col_stride] = 0.0;
                }
            }
        }
        return;
    }
    // SAFETY: the asserts above keep every index the product touches, `offset + r·rs + c·cs`
    // for r < rows and c < cols of each view, inside its slice; `dst` is borrowed mutably, so
    // it cannot alias `lhs` or `rhs`.
    unsafe {
        gemm::gemm(
            d.rows,
            d.cols,
            l.cols,
            dst.as_mut_ptr().add(d.offset),
            Strided::stride(d.col_stride),
            Strided::stride(d.row_stride),
            accumulate,
            lhs.as_ptr().add(l.offset),
            Strided::stride(l.col_stride),
            Strided::stride(l.row_stride),
            rhs.as_ptr().add(r.offset),
            Strided::stride(r.col_stride),
            Strided::stride(r.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            if parallel {
                gemm::Parallelism::Rayon(0)
            } else {
                gemm::Parallelism::None
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(l: &[f32], ls: Strided, r: &[f32], rs: Strided) -> Vec<f32> {
        let at = |v: &[f32], s: Strided, i: usize, j: usize| {
            v[s.offset + i * s.row_stride + j * s.col_stride]
        };
        let mut out = vec![0.0; ls.rows * rs.cols];
        for i in 0..ls.rows {
            for j in 0..rs.cols {
                out[i * rs.cols + j] = (0..ls.cols)
                    .map(|k| at(l, ls, i, k) * at(r, rs, k, j))
                    .sum();
            }
        }
        out
    }

    #[test]
    fn strided_and_transposed_products_match_the_definition() {
        let values: Vec<f32> = (0..200)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
            .collect();
        // lhs: rows 3 apart inside a larger buffer (like one time step of [batch, time, size])
        let l = Strided {
            rows: 4,
            cols: 5,
            offset: 2,
            row_stride: 15,
            col_stride: 1,
        };
        let r = Strided::dense(6, 5, 100).transposed();
        let want = naive(&values, l, &values, r);
        let mut got = vec![1.0; 24];
        matmul(
            &mut got,
            Strided::dense(4, 6, 0),
            &values,
            l,
            &values,
            r,
            false,
        );
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
        }
        matmul(
            &mut got,
            Strided::dense(4, 6, 0),
            &values,
            l,
            &values,
            r,
            true,
        );
        for (g, w) in got.iter().zip(&want) {
            assert!((g - 2.0 * w).abs() < 1e-5);
        }
    }

    #[test]
    #[should_panic(expected = "reaches past")]
    fn a_view_past_its_slice_is_refused() {
        let values = vec![0.0; 10];
        let mut dst = vec![0.0; 4];
        let l = Strided::dense(2, 3, 5);
        matmul(
            &mut dst,
            Strided::dense(2, 2, 0),
            &values,
            l,
            &values,
            Strided::dense(3, 2, 0),
            false,
        );
    }
}

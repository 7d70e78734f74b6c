//! The event-driven loops on host `f32` slices: the scan that turns a binary input into a list of
//! events, the forward accumulation of weight rows and the backward accumulation of gradient rows.
//!
//! Everything here works on plain row-major slices, so the NdArray and Flex backends share it
//! (see [`crate::host::HostTensor`]). The loops are parallel over independent output rows with rayon
//! (no two tasks write the same element, so the result does not depend on the thread count), and
//! the inner step is a whole-row slice add that the compiler vectorizes.

use rayon::prelude::*;

/// Most output columns one work item covers: a block of a weight row (or of a gradient row) is
/// `COL_BLOCK * 4` bytes, so all `d_input` blocks of one column block (`d_input` KiB, 700 KiB
/// for 700 inputs) stay in a core's L2 cache while the item sweeps its rows over them (narrower
/// for taller sources, [`col_block`]).
const COL_BLOCK: usize = 256;

/// Columns summed in registers at once: 64 floats are 4 AVX-512, 8 AVX2 or 16 SSE registers,
/// so a sum over many rows loads each row's tile once and stores the result once. With
/// AVX-512's 32 registers, [`WIDE_TILE`] keeps twice as many independent additions in flight
/// (measured: 9 % off the H = 4096 benchmark train step).
const TILE: usize = 64;
/// The tile on CPUs with AVX-512 (8 of its 32 registers).
const WIDE_TILE: usize = 128;

/// Bytes of one column block of `grad_out` that the weight-gradient pass sums before moving on
/// to the next rows: about half of a core's L2 cache.
const GRAD_CHUNK_BYTES: usize = 1 << 20;

/// How many rows ahead [`sum_rows`] asks the cache for the tile it will add: the rows are the
/// events' (random rows of a packed block in L2), which no hardware prefetcher predicts.
/// Measured against the loop without the hint, old and new binaries interleaved twice on the
/// 2-core AVX-512 machine of `docs/src/performance.md`: `on` forward + backward at N = 2048 on
/// flex 200-210 ms against 212-220, the standard train step 3-7 % faster on ndarray at 256 and
/// 4096 hidden units, the other rows within the noise (±5 %); 8 rows ahead was slower than 4.
const PREFETCH_AHEAD: usize = 4;

/// Input rows one scan task checks.
const SCAN_ROWS_PER_TASK: usize = 32;

/// Work items wanted per thread, so that uneven items still balance.
const ITEMS_PER_THREAD: usize = 8;

/// The active inputs of every row of a binary input `[rows, d_input]`, in compressed sparse row
/// form: row `r`'s active inputs are `cols[row_ptr[r]..row_ptr[r + 1]]`, in ascending order.
///
/// The forward pass of [`super::spike_linear`] builds it once and keeps it for the backward pass
/// (it holds only indices, about `4 · nnz` bytes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpikeEvents {
    /// Rows of the input (`batch · time`).
    pub rows: usize,
    /// Width of the input.
    pub d_input: usize,
    /// `rows + 1` offsets into `cols`.
    pub row_ptr: Vec<usize>,
    /// Active input indices, row after row.
    pub cols: Vec<u32>,
}

impl SpikeEvents {
    /// Number of events (ones in the input).
    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// Fraction of ones in the input, `nnz / (rows · d_input)` (0 for an empty input).
    pub fn density(&self) -> f64 {
        let total = self.rows * self.d_input;
        if total == 0 {
            0.0
        } else {
            self.nnz() as f64 / total as f64
        }
    }

    /// The active inputs of row `r`.
    pub fn row(&self, r: usize) -> &[u32] {
        &self.cols[self.row_ptr[r]..self.row_ptr[r + 1]]
    }

    /// The input as a dense row-major `[rows, d_input]` 0/1 array (for fallbacks and tests).
    pub fn to_dense(&self) -> Vec<f32> {
        let mut dense = vec![0.0; self.rows * self.d_input];
        for r in 0..self.rows {
            for &i in self.row(r) {
                dense[r * self.d_input + i as usize] = 1.0;
            }
        }
        dense
    }

    /// The transpose (compressed sparse column form): for each input `i`, the rows where it is
    /// active, ascending. A counting sort, `O(nnz + d_input)`.
    fn by_input(&self) -> (Vec<usize>, Vec<u32>) {
        let mut col_ptr = vec![0usize; self.d_input + 1];
        for &i in &self.cols {
            col_ptr[i as usize + 1] += 1;
        }
        for i in 0..self.d_input {
            col_ptr[i + 1] += col_ptr[i];
        }
        let mut next = col_ptr.clone();
        let mut rows_of = vec![0u32; self.nnz()];
        for r in 0..self.rows {
            for &i in self.row(r) {
                let slot = &mut next[i as usize];
                rows_of[*slot] = r as u32;
                *slot += 1;
            }
        }
        (col_ptr, rows_of)
    }
}

/// One scan task's result: the active inputs of its rows and the count per row.
type RowBlock = (Vec<u32>, Vec<usize>);

/// Why a scan gave no event list.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScanOutcome {
    /// The input holds a value other than exactly 0.0 or 1.0.
    NotBinary,
    /// The input is binary (as far as scanned) but has more ones than the threshold allows.
    TooDense,
}

/// Appends the indices of the ones of `row` to `cols`, ascending; `false` (with `cols` partly
/// extended) as soon as a value is neither 0.0 nor 1.0 (NaN included).
///
/// Sixteen values at a time: a branch-free pass builds the bit mask of non-zeros and the
/// "not binary" flag (vectorized), then only the set bits are visited, so the mostly-zero rows of
/// spike data cost little more than reading them.
#[inline(always)]
fn collect_ones(row: &[f32], cols: &mut Vec<u32>) -> bool {
    const GROUP: usize = 16;
    for (g, group) in row.chunks(GROUP).enumerate() {
        let mut nonzero = 0u32;
        let mut other = false;
        for (k, &v) in group.iter().enumerate() {
            let set = v != 0.0;
            nonzero |= (set as u32) << k;
            other |= set & (v != 1.0);
        }
        if other {
            return false;
        }
        while nonzero != 0 {
            cols.push((g * GROUP) as u32 + nonzero.trailing_zeros());
            nonzero &= nonzero - 1;
        }
    }
    true
}

/// [`collect_ones`] on the fastest path this CPU has: AVX-512 compares straight into bit masks
/// where available (the portable loop compiles to compares and horizontal reductions, about 40
/// cycles per 16 values, which made the scan a quarter of a train step at H = 256), else the
/// portable loop at the widest vector width. Same result on every path.
#[inline]
fn collect_ones_fastest(row: &[f32], cols: &mut Vec<u32>) -> bool {
    #[cfg(target_arch = "x86_64")]
    if crate::host::simd::has_avx512() {
        // SAFETY: the CPU has AVX-512F (checked just above).
        return unsafe { collect_ones_avx512(row, cols) };
    }
    crate::host::simd::widest(
        #[inline(always)]
        || collect_ones(row, cols),
    )
}

/// [`collect_ones`] with AVX-512: per 16 values, one load (masked for the tail, whose missing
/// lanes read as 0.0) and two compares give the mask of non-zeros and of values that are not 1.0;
/// `!=` is the unordered compare, true for NaN, and `-0.0 != 0.0` is false, as in the portable
/// loop. Compressing stores then write the indices of the ones, in order: a loop over the set
/// bits mispredicted its exit at about one group in two at the 5 % density of spike input.
///
/// SAFETY: the CPU must support AVX-512F.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn collect_ones_avx512(row: &[f32], cols: &mut Vec<u32>) -> bool {
    use std::arch::x86_64::{
        _CMP_NEQ_UQ, _mm512_add_epi32, _mm512_cmp_ps_mask, _mm512_loadu_ps,
        _mm512_mask_compressstoreu_epi32, _mm512_maskz_loadu_ps, _mm512_set1_epi32, _mm512_set1_ps,
        _mm512_setr_epi32, _mm512_setzero_ps,
    };
    const GROUP: usize = 16;
    // Groups checked together before any index is written: a block without a one (most of a
    // silent layer's spikes) then costs no store, and at the 5 % density of spike input nearly
    // every block has one, so the test is well predicted either way.
    const BLOCK: usize = 4;
    let (zero, one) = (_mm512_setzero_ps(), _mm512_set1_ps(1.0));
    let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    let n = row.len();
    let mut g = 0;
    while g < n {
        let groups = (n - g).div_ceil(GROUP).min(BLOCK);
        let mut nonzero = [0u16; BLOCK];
        let mut other = 0u16;
        for (k, mask) in nonzero.iter_mut().enumerate().take(groups) {
            let at = g + k * GROUP;
            let left = n - at;
            // SAFETY: lanes `at..at + min(left, 16)` lie inside `row`; the masked load reads no
            // others.
            let v = unsafe {
                if left >= GROUP {
                    _mm512_loadu_ps(row.as_ptr().add(at))
                } else {
                    _mm512_maskz_loadu_ps((1u16 << left) - 1, row.as_ptr().add(at))
                }
            };
            *mask = _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, zero);
            other |= *mask & _mm512_cmp_ps_mask::<_CMP_NEQ_UQ>(v, one);
        }
        if other != 0 {
            return false;
        }
        if nonzero != [0; BLOCK] {
            cols.reserve(BLOCK * GROUP);
            for (k, &mask) in nonzero.iter().enumerate().take(groups) {
                let at = cols.len();
                let index = _mm512_add_epi32(_mm512_set1_epi32((g + k * GROUP) as i32), lanes);
                // SAFETY: `reserve` left room for 64 more values; each compressing store writes
                // one per set bit of its 16-bit mask, and `set_len` counts exactly those.
                unsafe {
                    _mm512_mask_compressstoreu_epi32(cols.as_mut_ptr().add(at).cast(), mask, index);
                    cols.set_len(at + mask.count_ones() as usize);
                }
            }
        }
        g += groups * GROUP;
    }
    true
}

/// Scans a row-major `[rows, d_input]` input once: checks that every value is exactly 0.0 or 1.0
/// and collects the active inputs of every row, giving up as soon as the input is known not to
/// qualify (a non-binary value, or more than `threshold · rows · d_input` ones).
///
/// Returns the events when the input is binary and its density is at most `threshold`
/// ([`super::choose_path`]).
pub fn scan(
    x: &[f32],
    rows: usize,
    d_input: usize,
    threshold: f32,
) -> Result<SpikeEvents, ScanOutcome> {
    use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    debug_assert_eq!(x.len(), rows * d_input);
    let max_nnz = (f64::from(threshold.max(0.0)) * (rows * d_input) as f64).floor() as usize;
    let seen = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // Each task scans a block of rows into its own index list; the lists are concatenated in
    // row order afterwards, so the result is the same for any thread count.
    let chunk_rows = SCAN_ROWS_PER_TASK;
    let parts: Vec<Result<RowBlock, ScanOutcome>> = x
        .par_chunks(chunk_rows * d_input.max(1))
        .map(|block| {
            if stop.load(Ordering::Relaxed) {
                // Another task already decided the outcome; any Err will do.
                return Err(ScanOutcome::TooDense);
            }
            let mut cols = Vec::new();
            let mut counts = Vec::with_capacity(chunk_rows);
            for row in block.chunks(d_input.max(1)) {
                let before = cols.len();
                let binary = collect_ones_fastest(row, &mut cols);
                if !binary {
                    stop.store(true, Ordering::Relaxed);
                    return Err(ScanOutcome::NotBinary);
                }
                counts.push(cols.len() - before);
            }
            if seen.fetch_add(cols.len(), Ordering::Relaxed) + cols.len() > max_nnz {
                stop.store(true, Ordering::Relaxed);
                return Err(ScanOutcome::TooDense);
            }
            Ok((cols, counts))
        })
        .collect();
    if d_input == 0 {
        return Ok(SpikeEvents {
            rows,
            d_input,
            row_ptr: vec![0; rows + 1],
            cols: Vec::new(),
        });
    }
    let mut row_ptr = Vec::with_capacity(rows + 1);
    row_ptr.push(0);
    let mut cols = Vec::with_capacity(seen.load(Ordering::Relaxed));
    let mut first_err = None;
    for part in parts {
        match part {
            Ok((c, counts)) => {
                for n in counts {
                    row_ptr.push(row_ptr.last().copied().unwrap_or(0) + n);
                }
                cols.extend_from_slice(&c);
            }
            // A non-binary value wins over "too dense": it is the more specific reason.
            Err(ScanOutcome::NotBinary) => return Err(ScanOutcome::NotBinary),
            Err(e) => first_err = first_err.or(Some(e)),
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(SpikeEvents {
        rows,
        d_input,
        row_ptr,
        cols,
    })
}

// The items of one grid write disjoint elements (their own rows x column block) through `Shared`.
use crate::host::Shared;

/// Bytes of one packed column block ([`pack_columns`]) that the event sums revisit at random:
/// about half of a core's L2 cache, so the block stays there next to the rows being written.
const PACKED_BLOCK_BYTES: usize = 1 << 20;

/// Output columns per work item when the packed block is `src_rows` high: [`COL_BLOCK`], halved
/// while the block is larger than [`PACKED_BLOCK_BYTES`], down to one [`WIDE_TILE`].
///
/// Why: at `src_rows = 2048` (the `on` workload's `Linear(2048, 2048)`) a 256-column block is
/// 2 MiB, the whole L2, and the event sums went to L3; 128 columns (1 MiB) made the forward pass
/// 90 → 77 ms (flex, `on/flex/forward/optimized/2048`). Blocks of at most 1024 rows (the 700
/// inputs of the standard workload, `on` at 512) keep 256 columns.
fn col_block(src_rows: usize) -> usize {
    let fit = PACKED_BLOCK_BYTES / (src_rows.max(1) * size_of::<f32>());
    let mut block = COL_BLOCK;
    while block > WIDE_TILE && block > fit {
        block /= 2;
    }
    block
}

/// A 2-D grid of work items over `[rows, cols]`: column blocks of [`col_block`] times row
/// chunks, with enough row chunks that every thread gets [`ITEMS_PER_THREAD`] items. Item `w`
/// covers the rows and columns [`Grid::item`] gives; items never overlap.
#[derive(Clone, Copy, Debug)]
struct Grid {
    rows: usize,
    cols: usize,
    col_block: usize,
    col_blocks: usize,
    rows_per_item: usize,
}

impl Grid {
    /// The grid for a result `[rows, cols]` summed from a packed source `src_rows` high.
    fn new(rows: usize, cols: usize, src_rows: usize) -> Self {
        Self::with_items(
            rows,
            cols,
            src_rows,
            rayon::current_num_threads() * ITEMS_PER_THREAD,
        )
    }

    /// A grid of at least `wanted` items where the columns allow it (whole column blocks first,
    /// then row chunks).
    fn with_items(rows: usize, cols: usize, src_rows: usize, wanted: usize) -> Self {
        let col_block = col_block(src_rows);
        let col_blocks = cols.div_ceil(col_block).max(1);
        let row_chunks = wanted.div_ceil(col_blocks).clamp(1, rows.max(1));
        Self {
            rows,
            cols,
            col_block,
            col_blocks,
            rows_per_item: rows.div_ceil(row_chunks).max(1),
        }
    }

    fn items(&self) -> usize {
        self.col_blocks * self.rows.div_ceil(self.rows_per_item)
    }

    /// `(rows, columns)` of item `w`. Items of one column block are consecutive, so a thread
    /// that takes neighbouring items reuses the block's cached source rows.
    fn item(&self, w: usize) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        let (cb, rc) = (w % self.col_blocks, w / self.col_blocks);
        let r0 = rc * self.rows_per_item;
        let j0 = cb * self.col_block;
        (
            r0..(r0 + self.rows_per_item).min(self.rows),
            j0..(j0 + self.col_block).min(self.cols),
        )
    }
}

/// `dst[k] += Σ_{(start, weight) in rows} weight · src[start + k]`, summed in the order of `rows`
/// after `dst`'s own value (so the result does not depend on the tiling, the vector width or how
/// a caller splits `rows` into consecutive parts), `W` columns at a time in registers ([`TILE`]
/// or [`WIDE_TILE`], see [`add_rows_tiled`]). The one loop behind the event sums (weight 1, which
/// the compiler folds away: `1 · x` is exactly `x`) and the narrow input gradient.
///
/// `#[inline(always)]` so that [`crate::host::simd::widest`] compiles it for the CPU's widest vectors.
#[inline(always)]
fn sum_rows<const W: usize>(
    dst: &mut [f32],
    src: &[f32],
    rows: impl Iterator<Item = (usize, f32)> + Clone,
) {
    let width = dst.len();
    let mut t = 0;
    while t + W <= width {
        let mut acc: [f32; W] = dst[t..t + W].try_into().expect("tile");
        let mut ahead = rows.clone().skip(PREFETCH_AHEAD);
        for (start, weight) in rows.clone() {
            if let Some((next, _)) = ahead.next() {
                crate::host::simd::prefetch(src.as_ptr().wrapping_add(next + t), W);
            }
            let row: &[f32; W] = src[start + t..start + t + W].try_into().expect("tile");
            for k in 0..W {
                acc[k] += weight * row[k];
            }
        }
        dst[t..t + W].copy_from_slice(&acc);
        t += W;
    }
    // the last partial tile, element by element in the same order
    let rest = &mut dst[t..];
    let n = rest.len();
    for (start, weight) in rows {
        for (o, &v) in rest.iter_mut().zip(&src[start + t..start + t + n]) {
            *o += weight * v;
        }
    }
}

/// `dst[..] += Σ_{r in src_rows} src[(r − first_row) · stride ..][..dst.len()]` (`src` holds
/// rows from `first_row` on), in the order of `src_rows`: [`sum_rows`] with unit weights.
#[inline(always)]
fn add_rows<const W: usize>(
    dst: &mut [f32],
    src: &[f32],
    stride: usize,
    src_rows: &[u32],
    first_row: usize,
) {
    let rows = src_rows
        .iter()
        .map(move |&r| ((r as usize - first_row) * stride, 1.0));
    sum_rows::<W>(dst, src, rows);
}

/// [`add_rows`] with the tile for this CPU.
#[inline(always)]
fn add_rows_tiled(
    wide: bool,
    dst: &mut [f32],
    src: &[f32],
    stride: usize,
    src_rows: &[u32],
    first_row: usize,
) {
    if wide {
        add_rows::<WIDE_TILE>(dst, src, stride, src_rows, first_row);
    } else {
        add_rows::<TILE>(dst, src, stride, src_rows, first_row);
    }
}

/// Event-driven forward pass: `out[r, :] = bias + Σ_{i active in row r} W[i, :]` for a weight
/// `W` stored row-major `[d_input, d_output]` (burn's `Linear` layout, so `W[i, :]` is a
/// contiguous row). Returns `[rows, d_output]` row-major.
///
/// Equal to `x · W + bias` for the 0/1 input `x` the events describe; the sum runs over the
/// active inputs in ascending order.
pub fn forward(
    events: &SpikeEvents,
    weight: &[f32],
    d_output: usize,
    bias: Option<&[f32]>,
) -> Vec<f32> {
    debug_assert_eq!(weight.len(), events.d_input * d_output);
    // every element is written below (the bias or zero, then the sums): a spare buffer will do
    let mut out = crate::host::buffer::overwritable(events.rows * d_output);
    if d_output == 0 || events.rows == 0 {
        return out;
    }
    let grid = Grid::new(events.rows, d_output, events.d_input);
    let dst = Shared::new(&mut out);
    let wide = crate::host::simd::has_avx512();
    (0..grid.items()).into_par_iter().for_each(|w| {
        let (rows, cols) = grid.item(w);
        PACKED.with_borrow_mut(|packed| {
            let block = pack_columns(packed, weight, d_output, events.d_input, cols.clone());
            crate::host::simd::widest(
                #[inline(always)]
                || {
                    for r in rows {
                        // SAFETY: row r, columns `cols` belong to this item only.
                        let seg = unsafe { dst.write(r * d_output + cols.start, cols.len()) };
                        match bias {
                            Some(b) => seg.copy_from_slice(&b[cols.clone()]),
                            None => seg.fill(0.0),
                        }
                        add_rows_tiled(wide, seg, block, cols.len(), events.row(r), 0);
                    }
                },
            )
        })
    });
    out
}

thread_local! {
    /// A work item's copy of the column block it reads ([`pack_columns`]).
    static PACKED: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Columns `cols` of the row-major `[rows, stride]` matrix `src` as a contiguous
/// `[rows, cols.len()]` block: `src` itself when `cols` spans whole rows, else a copy in `buf`.
///
/// Why: rows of a wide matrix lie a multiple of 4 KiB apart (16 KiB for 4096 columns), so the
/// same columns of all rows fall in a few cache sets: of the 700 rows of a column block, an L2
/// cache can hold only 128 at H = 4096, and the event sums, which revisit random rows, went to
/// L3. The packed block is contiguous and fills the cache sets evenly (measured: the event
/// forward pass 25-28 % faster at H = 1024 and 4096).
fn pack_columns<'a>(
    buf: &'a mut Vec<f32>,
    src: &'a [f32],
    stride: usize,
    rows: usize,
    cols: std::ops::Range<usize>,
) -> &'a [f32] {
    let width = cols.len();
    if width == stride {
        return &src[..rows * stride];
    }
    buf.clear();
    buf.reserve(rows * width);
    for i in 0..rows {
        buf.extend_from_slice(&src[i * stride + cols.start..i * stride + cols.end]);
    }
    buf
}

/// Widest output (`d_output`) for which [`grad_input`] is used instead of a dense matmul: a readout
/// or a narrow layer, whose `Wᵀ` column block stays in L1 while the loop sweeps the rows.
pub const NARROW_OUTPUT_MAX: usize = 64;

/// Smallest input gradient (bytes) for which [`grad_input`] is used: glibc serves allocations
/// from 32 MiB on (its largest `mmap` threshold) with fresh pages every time, which is what the
/// kernel saves; below, glibc's heap usually reuses the memory and the matmul is as fast
/// (measured at H = 256: the kernel was no faster, the train step 0.5-1 ms slower).
pub const NARROW_GRAD_MIN_BYTES: usize = 32 << 20;

/// Input gradient of a narrow layer: `grad_x = grad_out · Wᵀ`, i.e. `grad_x[r, i] =
/// Σ_j grad_out[r, j] · W[i, j]` for `grad_out` `[rows, d_output]` and `W` `[d_input, d_output]`
/// row-major; returns `[rows, d_input]` row-major. The sum runs over `j` in ascending order.
///
/// Why not the matmul: with `d_output` ≤ [`NARROW_OUTPUT_MAX`] the product is one pass that
/// writes `rows × d_input` values (52 MB for the benchmark's readout at H = 4096), and a matmul
/// writes them into a fresh buffer whose pages the kernel faults in and zeroes every step (about
/// a tenth of that train step). Here the result goes into a spare buffer of the same length when
/// one was given back (the spikes this layer read, see [`super::op`]).
pub fn grad_input(
    grad_out: &[f32],
    weight: &[f32],
    rows: usize,
    d_input: usize,
    d_output: usize,
) -> Vec<f32> {
    debug_assert_eq!(grad_out.len(), rows * d_output);
    debug_assert_eq!(weight.len(), d_input * d_output);
    // every element is written below (zero, then the sum over j, empty when d_output = 0)
    let mut out = crate::host::buffer::overwritable(rows * d_input);
    if rows == 0 || d_input == 0 {
        return out;
    }
    // Wᵀ `[d_output, d_input]`: row j holds W[:, j], so a row of the result is a sum of rows
    let mut wt = vec![0f32; d_input * d_output];
    for i in 0..d_input {
        for j in 0..d_output {
            wt[j * d_input + i] = weight[i * d_output + j];
        }
    }
    let grid = Grid::new(rows, d_input, d_output);
    let dst = Shared::new(&mut out);
    let wide = crate::host::simd::has_avx512();
    (0..grid.items()).into_par_iter().for_each(|w| {
        let (rows, cols) = grid.item(w);
        crate::host::simd::widest(
            #[inline(always)]
            || {
                for r in rows {
                    let g = &grad_out[r * d_output..(r + 1) * d_output];
                    // SAFETY: row r, columns `cols` belong to this item only.
                    let seg = unsafe { dst.write(r * d_input + cols.start, cols.len()) };
                    // rows j of Wᵀ (from this item's first column), weighted by g[j]
                    let rows = g
                        .iter()
                        .enumerate()
                        .map(|(j, &gj)| (j * d_input + cols.start, gj));
                    seg.fill(0.0);
                    if wide {
                        sum_rows::<WIDE_TILE>(seg, &wt, rows);
                    } else {
                        sum_rows::<TILE>(seg, &wt, rows);
                    }
                }
            },
        )
    });
    out
}

/// Event-driven weight gradient: `grad_W[i, :] = Σ_{rows r where i is active} grad_out[r, :]`,
/// i.e. `xᵀ · grad_out` for the 0/1 input `x`, accumulated row by row instead of by a dense
/// matmul. `grad_out` is row-major `[rows, d_output]`; returns `[d_input, d_output]` row-major.
pub fn grad_weight(events: &SpikeEvents, grad_out: &[f32], d_output: usize) -> Vec<f32> {
    grad_weight_in_chunks(events, grad_out, d_output, GRAD_CHUNK_BYTES)
}

/// [`grad_weight`] summing `grad_out` in row chunks of `chunk_bytes` per column block.
fn grad_weight_in_chunks(
    events: &SpikeEvents,
    grad_out: &[f32],
    d_output: usize,
    chunk_bytes: usize,
) -> Vec<f32> {
    debug_assert_eq!(grad_out.len(), events.rows * d_output);
    let mut grad_w = crate::host::buffer::zeroed(events.d_input * d_output);
    if d_output == 0 || events.d_input == 0 {
        return grad_w;
    }
    let (col_ptr, rows_of) = events.by_input();
    // Every item packs the whole height of `grad_out` for its column block, so items split the
    // inputs only when there are fewer column blocks than threads (the work per column block is
    // even, so one item per block balances).
    let grid = Grid::with_items(
        events.d_input,
        d_output,
        events.d_input,
        rayon::current_num_threads(),
    );
    let dst = Shared::new(&mut grad_w);
    let wide = crate::host::simd::has_avx512();
    (0..grid.items()).into_par_iter().for_each(|w| {
        let (inputs, cols) = grid.item(w);
        // Rows of `grad_out` in chunks whose column block fits in L2 next to the gradient rows
        // being summed; each input's sum goes on chunk after chunk (its rows are ascending, so
        // the additions come in the order of one pass over all rows).
        let chunk_rows = (chunk_bytes / (cols.len() * size_of::<f32>())).max(1);
        let mut cursor: Vec<usize> = inputs.clone().map(|i| col_ptr[i]).collect();
        for r0 in (0..events.rows).step_by(chunk_rows) {
            let r_end = (r0 + chunk_rows).min(events.rows);
            PACKED.with_borrow_mut(|packed| {
                let block = &grad_out[r0 * d_output..r_end * d_output];
                let block = pack_columns(packed, block, d_output, r_end - r0, cols.clone());
                crate::host::simd::widest(
                    #[inline(always)]
                    || {
                        for (k, i) in inputs.clone().enumerate() {
                            let rest = &rows_of[cursor[k]..col_ptr[i + 1]];
                            let n = rest.partition_point(|&r| (r as usize) < r_end);
                            // SAFETY: row i, columns `cols` belong to this item only.
                            let seg = unsafe { dst.write(i * d_output + cols.start, cols.len()) };
                            add_rows_tiled(wide, seg, block, cols.len(), &rest[..n], r0);
                            cursor[k] += n;
                        }
                    },
                )
            })
        }
    });
    grad_w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_collects_events_and_rejects_non_binary_and_dense() {
        let x = [0.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0];
        let ev = scan(&x, 3, 3, 0.5).unwrap();
        assert_eq!(ev.row_ptr, vec![0, 1, 3, 3]);
        assert_eq!(ev.cols, vec![1, 1, 2]);
        assert_eq!(ev.to_dense(), x.to_vec());
        assert_eq!(scan(&x, 3, 3, 0.3), Err(ScanOutcome::TooDense));
        let mut y = x;
        y[8] = 0.5;
        assert_eq!(scan(&y, 3, 3, 1.0), Err(ScanOutcome::NotBinary));
        y[8] = f32::NAN;
        assert_eq!(scan(&y, 3, 3, 1.0), Err(ScanOutcome::NotBinary));
        // -0.0 is a zero; a one past the first group of 16 keeps its index
        let mut z = vec![0.0f32; 40];
        z[3] = -0.0;
        z[17] = 1.0;
        z[39] = 1.0;
        assert_eq!(scan(&z, 1, 40, 1.0).unwrap().cols, vec![17, 39]);
    }

    #[test]
    fn every_scan_path_gives_the_portable_result() {
        // rows of 1..=140 values (blocks of four groups of 16, and shorter tails) mixing 0, -0
        // and 1 (one value in 8, or in 128 for half the cases, so that whole blocks are zero),
        // and in some rows a non-binary value (0.5, NaN, infinity, a subnormal) at a varying place
        let mut seed = 3u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        let odd = [0.5, f32::NAN, f32::INFINITY, 1e-40, -1.0];
        for len in 1..=140usize {
            for case in 0..12 {
                let spread = if case % 2 == 0 { 8 } else { 128 };
                let mut row: Vec<f32> = (0..len)
                    .map(|_| match next() % spread {
                        0 => 1.0,
                        1 => -0.0,
                        _ => 0.0,
                    })
                    .collect();
                if case % 3 == 0 {
                    row[next() as usize % len] = odd[case % odd.len()];
                }
                // both append to what the list already holds (a scan task's earlier rows)
                let (mut want, mut got) = (vec![7u32], vec![7u32]);
                let want_ok = collect_ones(&row, &mut want);
                let got_ok = collect_ones_fastest(&row, &mut got);
                assert_eq!(got_ok, want_ok, "len {len}, case {case}: {row:?}");
                if want_ok {
                    assert_eq!(got, want, "len {len}, case {case}");
                }
            }
        }
    }

    #[test]
    fn forward_writes_over_a_reused_buffer_whole() {
        // rows × columns large enough for the spare list (and a length no other test uses); a
        // NaN-filled spare buffer of that length must not show through, with or without a bias
        let (rows, d_input, d_output) = (1031, 3, 1029);
        let x: Vec<f32> = (0..rows * d_input)
            .map(|k| ((k * 7) % 5 == 0) as u32 as f32)
            .collect();
        let ev = scan(&x, rows, d_input, 1.0).unwrap();
        let w: Vec<f32> = (0..d_input * d_output).map(|k| k as f32 * 0.5).collect();
        let b: Vec<f32> = (0..d_output).map(|k| -(k as f32)).collect();
        let want = |bias: Option<&[f32]>| -> Vec<f32> {
            (0..rows * d_output)
                .map(|k| {
                    let (r, j) = (k / d_output, k % d_output);
                    let sum: f32 = (0..d_input)
                        .filter(|&i| x[r * d_input + i] == 1.0)
                        .map(|i| w[i * d_output + j])
                        .sum();
                    sum + bias.map_or(0.0, |b| b[j])
                })
                .collect()
        };
        let _alone = crate::host::buffer::tests::spare_list_to_myself();
        for bias in [None, Some(b.as_slice())] {
            crate::host::buffer::recycle(vec![f32::NAN; rows * d_output]);
            assert_eq!(forward(&ev, &w, d_output, bias), want(bias));
        }
    }

    #[test]
    fn grad_input_sums_weighted_weight_columns_in_order() {
        // 300 inputs: whole register tiles and a partial one, over two column blocks; a
        // NaN-filled spare buffer of the result's length must not show through
        let (rows, d_input, d_output) = (120, 300, 5);
        let g: Vec<f32> = (0..rows * d_output)
            .map(|k| ((k * 37 % 101) as f32 - 50.0) / 7.0)
            .collect();
        let w: Vec<f32> = (0..d_input * d_output)
            .map(|k| ((k * 53 % 89) as f32 - 44.0) / 13.0)
            .collect();
        // the same f32 operations in the same order: the results must be equal bit for bit
        let want: Vec<f32> = (0..rows * d_input)
            .map(|k| {
                let (r, i) = (k / d_input, k % d_input);
                (0..d_output).fold(0.0f32, |acc, j| {
                    acc + g[r * d_output + j] * w[i * d_output + j]
                })
            })
            .collect();
        let _alone = crate::host::buffer::tests::spare_list_to_myself();
        crate::host::buffer::recycle(vec![f32::NAN; rows * d_input]);
        assert_eq!(grad_input(&g, &w, rows, d_input, d_output), want);
        // no outputs: an empty sum, zero everywhere
        crate::host::buffer::recycle(vec![f32::NAN; rows * d_input]);
        assert!(
            grad_input(&[], &[], rows, d_input, 0)
                .iter()
                .all(|&v| v == 0.0)
        );
    }

    #[test]
    fn forward_and_grad_weight_match_hand_computation() {
        // x = [[0,1,0],[1,1,0]], W = [[1,2],[3,4],[5,6]], b = [10, 20]
        let ev = scan(&[0.0, 1.0, 0.0, 1.0, 1.0, 0.0], 2, 3, 1.0).unwrap();
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(
            forward(&ev, &w, 2, Some(&[10.0, 20.0])),
            vec![13.0, 24.0, 14.0, 26.0]
        );
        assert_eq!(forward(&ev, &w, 2, None), vec![3.0, 4.0, 4.0, 6.0]);
        // grad_W = xᵀ g with g = [[1,2],[3,4]]: row 0 = g[1], row 1 = g[0] + g[1], row 2 = 0
        let gw = grad_weight(&ev, &[1.0, 2.0, 3.0, 4.0], 2);
        assert_eq!(gw, vec![3.0, 4.0, 4.0, 6.0, 0.0, 0.0]);
    }

    #[test]
    fn narrower_column_blocks_for_tall_sources_give_the_plain_sums() {
        // 1100 inputs: a 256-column block would be 1.1 MB, so the blocks are 128 wide (two full
        // ones and a partial one of 44 columns over 300 outputs)
        assert_eq!(col_block(700), COL_BLOCK);
        assert_eq!(col_block(1100), 128);
        assert_eq!(col_block(1 << 20), WIDE_TILE);
        let (rows, d_in, d_out) = (9, 1100, 300);
        let x: Vec<f32> = (0..rows * d_in)
            .map(|k| ((k * 13) % 17 == 0) as u32 as f32)
            .collect();
        let w: Vec<f32> = (0..d_in * d_out)
            .map(|k| ((k * 31 % 97) as f32 - 48.0) / 11.0)
            .collect();
        let g: Vec<f32> = (0..rows * d_out)
            .map(|k| ((k * 7 % 23) as f32 - 11.0) / 3.0)
            .collect();
        let ev = scan(&x, rows, d_in, 1.0).unwrap();
        let active = |r: usize, i: usize| x[r * d_in + i] == 1.0;
        let want_out: Vec<f32> = (0..rows * d_out)
            .map(|k| {
                let (r, j) = (k / d_out, k % d_out);
                (0..d_in)
                    .filter(|&i| active(r, i))
                    .fold(0.0f32, |acc, i| acc + w[i * d_out + j])
            })
            .collect();
        let want_gw: Vec<f32> = (0..d_in * d_out)
            .map(|k| {
                let (i, j) = (k / d_out, k % d_out);
                (0..rows)
                    .filter(|&r| active(r, i))
                    .fold(0.0f32, |acc, r| acc + g[r * d_out + j])
            })
            .collect();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&forward(&ev, &w, d_out, None)), bits(&want_out));
        assert_eq!(bits(&grad_weight(&ev, &g, d_out)), bits(&want_gw));
    }

    #[test]
    fn tiled_sums_equal_the_plain_row_order_sums_bit_for_bit() {
        // 300 columns: four full tiles, a partial one, two column blocks; 70 rows, 40 inputs
        let (rows, d_in, d_out) = (70, 40, 300);
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 40) as f32 / (1u64 << 24) as f32
        };
        let x: Vec<f32> = (0..rows * d_in)
            .map(|_| if next() < 0.2 { 1.0 } else { 0.0 })
            .collect();
        let w: Vec<f32> = (0..d_in * d_out).map(|_| next() - 0.5).collect();
        let b: Vec<f32> = (0..d_out).map(|_| next()).collect();
        let g: Vec<f32> = (0..rows * d_out).map(|_| next() - 0.5).collect();
        let ev = scan(&x, rows, d_in, 1.0).unwrap();
        // plain sums, in ascending input (forward) and ascending row (gradient) order
        let mut want_out = vec![0f32; rows * d_out];
        for r in 0..rows {
            for j in 0..d_out {
                let mut acc = b[j];
                for i in 0..d_in {
                    if x[r * d_in + i] == 1.0 {
                        acc += w[i * d_out + j];
                    }
                }
                want_out[r * d_out + j] = acc;
            }
        }
        let mut want_gw = vec![0f32; d_in * d_out];
        for i in 0..d_in {
            for j in 0..d_out {
                let mut acc = 0.0;
                for r in 0..rows {
                    if x[r * d_in + i] == 1.0 {
                        acc += g[r * d_out + j];
                    }
                }
                want_gw[i * d_out + j] = acc;
            }
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&forward(&ev, &w, d_out, Some(&b))), bits(&want_out));
        assert_eq!(bits(&grad_weight(&ev, &g, d_out)), bits(&want_gw));
        // both register tiles, whatever this CPU picks
        for (r, want) in want_out.chunks(d_out).enumerate() {
            let rows_r: Vec<u32> = (0..d_in as u32)
                .filter(|&i| x[r * d_in + i as usize] == 1.0)
                .collect();
            for tiled in [add_rows::<TILE>, add_rows::<WIDE_TILE>] {
                let mut seg = b.clone();
                tiled(&mut seg, &w, d_out, &rows_r, 0);
                assert_eq!(bits(&seg), bits(want), "row {r}");
            }
        }
        // row chunks of 1, 3 and 64 rows per column block give the same bits
        for chunk_bytes in [1, 3 * 256 * 4, 64 * 256 * 4] {
            let gw = grad_weight_in_chunks(&ev, &g, d_out, chunk_bytes);
            assert_eq!(bits(&gw), bits(&want_gw), "chunk of {chunk_bytes} bytes");
        }
    }
}

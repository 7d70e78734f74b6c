//! Runtime choice of the widest vector instructions for the hand-written CPU loops.
//!
//! The crate is compiled for the baseline of its target (SSE2 on x86-64), so that one binary runs
//! on every machine. The hot loops of [`crate::fused`] and [`crate::sparse`] are written as plain
//! element-wise Rust that the compiler vectorizes; [`widest`] compiles such a loop a second and
//! third time with AVX-512 or AVX2 enabled and picks, at run time, the widest one this CPU has.
//!
//! Only the instruction set changes: no fast-math, no fused multiply-add contraction (Rust never
//! contracts `a * b + c`), so every variant gives bit-identical results.

/// Runs `f` compiled for the widest vector extension the CPU supports (AVX-512F, then AVX2,
/// then the target's baseline).
///
/// `f` must be an `#[inline(always)]` closure (`widest(#[inline(always)] || ...)`) and everything
/// it calls in its hot loop `#[inline(always)]` too: code behind a real call is compiled for the
/// baseline whatever the caller enables.
/// The feature check is a cached atomic load, cheap enough to call once per work item.
#[inline(always)]
pub(crate) fn widest<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        #[target_feature(enable = "avx2")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU was just checked to support AVX-512F.
            return unsafe { avx512(f) };
        }
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU was just checked to support AVX2.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// Whether [`widest`] runs AVX-512 code on this CPU (loops size their register tiles by it).
pub(crate) fn has_avx512() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Asks the CPU to start loading the `len` elements from `ptr` into its caches, without waiting.
///
/// The fused loops walk each work item's rows `size` elements apart, one row per time step: a
/// stride the hardware prefetchers do not follow across pages, so without a hint every row is a
/// fresh wait on memory. Hinting the row a few steps ahead overlaps those waits. A hint has no
/// effect on results and never faults, whatever the address; off x86-64 it does nothing.
#[inline(always)]
pub(crate) fn prefetch<T>(ptr: *const T, len: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        const LINE: usize = 64;
        let bytes = len * size_of::<T>();
        let first = ptr.cast::<i8>();
        for offset in (0..bytes).step_by(LINE) {
            // SAFETY: a prefetch only hints the cache: it reads nothing into the program and
            // does not fault on any address; `wrapping_add` keeps the pointer arithmetic defined.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(first.wrapping_add(offset)) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (ptr, len);
    }
}

#[cfg(test)]
mod tests {
    use super::widest;

    #[test]
    fn every_variant_gives_the_baseline_result() {
        // an element-wise loop with division and a compare: the operations of the neuron loops
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        let run = |x: &[f32]| -> Vec<f32> {
            x.iter()
                .map(|&v| {
                    let d = v.abs() * 10.0 + 1.0;
                    1.0 / (d * d) + (v > 0.5) as u32 as f32
                })
                .collect()
        };
        let baseline = run(&x);
        let wide = widest(
            #[inline(always)]
            || run(&x),
        );
        assert_eq!(
            baseline.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            wide.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
    }
}

//! Large zeroed `f32` buffers for the results of the CPU loops ([`crate::fused`],
//! [`crate::sparse`]).
//!
//! A training step allocates several activation-sized buffers (52 MB each for batch 32, 100
//! steps, 4096 neurons) and frees them again; the allocator hands such sizes straight to the
//! kernel, so every step pays one page fault per 4 KiB page on first touch, which profiles as a
//! quarter of a step's time. On Linux, [`zeroed`] asks for transparent huge pages on the buffer
//! (`madvise(MADV_HUGEPAGE)`, honoured when the system's THP setting is `madvise` or `always`):
//! one fault per 2 MiB. The buffer is an ordinary `Vec` either way; the advice only changes how
//! the kernel backs it, never its contents.
//!
//! Huge pages cut the faults, not the zeroing: the kernel still clears every fresh page, about
//! a fifth of the fused LIF op's time at 4096 neurons. The buffers a loop overwrites whole
//! (every element written before any is read) therefore come from [`overwritable`], which hands
//! back a buffer of the same length given up by [`recycle`] (the fused op gives back what its
//! forward kept once the backward has read it, the event-driven input layer its output
//! gradient) and allocates only when none is spare. At most
//! [`SPARE_BUFFERS`] buffers and [`SPARE_BYTES`] bytes wait in the spare list, so the memory it
//! holds is bounded by about one step's kept activations.

use std::sync::{Mutex, PoisonError};

/// Buffers from this size on are advised to use huge pages (smaller ones cover too few 2 MiB
/// pages to matter).
const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

/// The transparent huge page size on x86-64 and aarch64 with 4 KiB base pages.
#[cfg(target_os = "linux")]
const HUGE_PAGE: usize = 2 << 20;

/// A `Vec` of `len` zeros, backed by huge pages where the OS offers them (see the module docs).
///
/// `vec![0.0; len]` takes fresh, untouched pages from the kernel for large sizes, so the advice
/// lands before the first write.
pub(crate) fn zeroed(len: usize) -> Vec<f32> {
    let buffer = vec![0f32; len];
    if len * size_of::<f32>() >= HUGE_PAGE_MIN_BYTES {
        advise_huge_pages(&buffer);
    }
    buffer
}

/// How many given-back buffers wait for reuse at most (a few layers' worth: each fused neuron
/// layer and event-driven input layer gives one back per training step).
const SPARE_BUFFERS: usize = 8;

/// Buffers from this size on are kept for reuse: glibc serves allocations this large (above its
/// `mmap` threshold, 128 KiB to 32 MiB) with fresh pages from the kernel, each faulted in and
/// zeroed on first touch; smaller ones come from its heap, which reuses them itself.
const SPARE_MIN_BYTES: usize = 128 << 10;

/// How many bytes the waiting buffers hold at most.
const SPARE_BYTES: usize = 1 << 30;

/// Buffers given back by [`recycle`], oldest first.
static SPARE: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// A `Vec` of `len` elements whose values are unspecified: a spare buffer of that length when
/// one was given back (it holds whatever its last user left), else a fresh zeroed one.
///
/// Only for loops that write every element before reading any.
pub(crate) fn overwritable(len: usize) -> Vec<f32> {
    if len * size_of::<f32>() >= SPARE_MIN_BYTES {
        let mut spare = SPARE.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(k) = spare.iter().position(|b| b.len() == len) {
            return spare.remove(k);
        }
    }
    zeroed(len)
}

/// Gives `buffer` back for [`overwritable`] to hand out again (buffers too small to be worth
/// it are freed). The oldest spare buffers are freed to stay within [`SPARE_BUFFERS`] and
/// [`SPARE_BYTES`].
pub(crate) fn recycle(buffer: Vec<f32>) {
    let bytes = |b: &Vec<f32>| b.len() * size_of::<f32>();
    if bytes(&buffer) < SPARE_MIN_BYTES || bytes(&buffer) > SPARE_BYTES {
        return;
    }
    let evicted = {
        let mut spare = SPARE.lock().unwrap_or_else(PoisonError::into_inner);
        spare.push(buffer);
        let mut evicted = Vec::new();
        while spare.len() > SPARE_BUFFERS || spare.iter().map(bytes).sum::<usize>() > SPARE_BYTES {
            evicted.push(spare.remove(0));
        }
        evicted
    };
    // freed outside the lock: returning large buffers to the kernel takes a while
    drop(evicted);
}

/// Frees every spare buffer; returns the bytes they held.
pub(crate) fn release_spare() -> usize {
    let freed = std::mem::take(&mut *SPARE.lock().unwrap_or_else(PoisonError::into_inner));
    freed.iter().map(|b| b.len() * size_of::<f32>()).sum()
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(buffer: &[f32]) {
    // the 2 MiB-aligned part of the buffer: huge pages cover only whole aligned 2 MiB ranges
    let start = buffer.as_ptr() as usize;
    let end = start + std::mem::size_of_val(buffer);
    let (first, last) = (
        start.next_multiple_of(HUGE_PAGE),
        end / HUGE_PAGE * HUGE_PAGE,
    );
    if last > first {
        // SAFETY: madvise only changes how the kernel backs this range of our own allocation
        // (page-aligned, inside the buffer); MADV_HUGEPAGE does not change its contents. A
        // failure (THP disabled, old kernel) leaves ordinary pages, so the result is ignored.
        unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                last - first,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_buffer: &[f32]) {}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Mutex, MutexGuard, PoisonError};

    /// Held by the tests that count on a buffer they gave back staying in the spare list, and by
    /// the one that empties it (the tests of one binary share the list and run in parallel).
    pub(crate) fn spare_list_to_myself() -> MutexGuard<'static, ()> {
        static LOCK: Mutex<()> = Mutex::new(());
        LOCK.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[test]
    fn release_frees_the_spare_buffers() {
        let _alone = spare_list_to_myself();
        let len = (1 << 20) / 4 + 777;
        super::recycle(vec![3.0f32; len]);
        assert!(super::release_spare() >= len * 4);
        assert!(
            super::overwritable(len).iter().all(|&v| v == 0.0),
            "a fresh buffer after the release"
        );
    }

    #[test]
    fn recycled_buffers_come_back_for_the_same_length_only() {
        let _alone = spare_list_to_myself();
        // lengths no other test uses: the spare list is shared by the whole process
        let len = (4 << 20) / 4 + 12_345;
        let mut given = vec![7.0f32; len];
        given[0] = -1.0;
        let ptr = given.as_ptr();
        super::recycle(given);
        let other = super::overwritable(len + 1);
        assert!(other.iter().all(|&v| v == 0.0), "a fresh buffer is zeroed");
        let back = super::overwritable(len);
        assert_eq!(back.as_ptr(), ptr, "the given-back buffer is reused");
        assert_eq!(
            (back[0], back[len - 1]),
            (-1.0, 7.0),
            "with its old contents"
        );
        // small buffers are not kept
        let small = vec![1.0f32; 1000];
        super::recycle(small);
        assert!(super::overwritable(1000).iter().all(|&v| v == 0.0));
    }

    #[test]
    fn the_spare_list_keeps_at_most_its_count() {
        let len = (4 << 20) / 4 + 54_321;
        for _ in 0..super::SPARE_BUFFERS + 3 {
            super::recycle(vec![1.0f32; len]);
        }
        let spare = super::SPARE.lock().unwrap();
        assert!(spare.len() <= super::SPARE_BUFFERS);
    }

    #[test]
    fn zeroed_buffers_are_zero_and_writable() {
        for len in [0, 1, 1000, (5 << 20) / 4 + 3] {
            let mut b = super::zeroed(len);
            assert_eq!(b.len(), len);
            assert!(b.iter().all(|&v| v == 0.0));
            if let Some(last) = b.last_mut() {
                *last = 1.5;
                assert_eq!(b[len - 1], 1.5);
            }
        }
    }
}

//! [`Shared`]: one slice that the parallel work items of a CPU loop share, each touching its own
//! disjoint ranges. The only raw-pointer wrapper of the crate: the fused op, the event-driven
//! input layer and the fused Adam all hand their buffers to their rayon items through it.

use std::marker::PhantomData;

/// A slice of `len` elements shared by the work items of one parallel loop, readable and (when
/// built from a mutable slice) writable by range. It borrows the slice for `'a`, so it cannot
/// outlive the buffer; every range is checked against `len`.
///
/// The unsafety left to the caller is only the aliasing: no two items may write the same
/// element, and no item may read an element while another writes it.
pub(crate) struct Shared<'a, T> {
    ptr: *mut T,
    len: usize,
    writable: bool,
    _borrow: PhantomData<&'a mut [T]>,
}

impl<T> Clone for Shared<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for Shared<'_, T> {}

// SAFETY: the items that share it touch disjoint ranges (the callers' contract on `read` and
// `write`), and the borrow keeps the buffer alive for the whole loop.
unsafe impl<T: Send> Send for Shared<'_, T> {}
unsafe impl<T: Send + Sync> Sync for Shared<'_, T> {}

impl<'a, T> Shared<'a, T> {
    /// Shares `values` for reading and writing.
    pub(crate) fn new(values: &'a mut [T]) -> Self {
        Self {
            ptr: values.as_mut_ptr(),
            len: values.len(),
            writable: true,
            _borrow: PhantomData,
        }
    }

    /// Shares `values` for reading only ([`Shared::write`] panics).
    pub(crate) fn read_only(values: &'a [T]) -> Self {
        Self {
            ptr: values.as_ptr().cast_mut(),
            len: values.len(),
            writable: false,
            _borrow: PhantomData,
        }
    }

    /// The same slice, read only: a loop that runs in place reads and writes one buffer through
    /// two handles made from one pointer (a shared borrow's pointer may not be written through
    /// once a mutable one exists).
    pub(crate) fn reader(self) -> Self {
        Self {
            writable: false,
            ..self
        }
    }

    /// Number of elements.
    pub(crate) fn len(self) -> usize {
        self.len
    }

    /// Whether both handles point at the same buffer (a loop running in place).
    pub(crate) fn same_buffer(self, other: Self) -> bool {
        self.ptr == other.ptr
    }

    /// The panic message of a range outside the slice.
    #[cold]
    #[track_caller]
    fn out_of_bounds(self, offset: usize, len: usize) -> ! {
        panic!(
            "shared slice: elements {offset}..{} of {}",
            offset.saturating_add(len),
            self.len
        )
    }

    /// Elements `offset..offset + len`, for reading; panics outside the slice.
    ///
    /// # Safety
    /// No other work item writes the range while the returned slice lives.
    #[inline(always)]
    #[track_caller]
    pub(crate) unsafe fn read(self, offset: usize, len: usize) -> &'a [T] {
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            self.out_of_bounds(offset, len)
        }
        // SAFETY: inside the borrowed slice (checked); aliasing is the caller's contract
        unsafe { std::slice::from_raw_parts(self.ptr.add(offset), len) }
    }

    /// Elements `offset..offset + len`, for writing; panics outside the slice or when shared
    /// read-only.
    ///
    /// # Safety
    /// No other work item reads or writes the range while the returned slice lives.
    #[inline(always)]
    #[track_caller]
    #[allow(clippy::mut_from_ref)] // the handle is a shared view of a `&mut` borrow
    pub(crate) unsafe fn write(self, offset: usize, len: usize) -> &'a mut [T] {
        assert!(
            self.writable,
            "shared slice: written through a read-only handle"
        );
        if offset.checked_add(len).is_none_or(|end| end > self.len) {
            self.out_of_bounds(offset, len)
        }
        // SAFETY: inside the mutably borrowed slice (checked); aliasing is the caller's contract
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(offset), len) }
    }

    /// Hints the caches to fetch elements `offset..offset + len` (see [`super::simd::prefetch`];
    /// a hint, so a range past the end is harmless).
    #[inline(always)]
    pub(crate) fn prefetch(self, offset: usize, len: usize) {
        super::simd::prefetch(self.ptr.cast_const().wrapping_add(offset), len)
    }
}

#[cfg(test)]
mod tests {
    use super::Shared;

    #[test]
    fn ranges_are_checked() {
        let mut v = vec![0f32; 8];
        let s = Shared::new(&mut v);
        // SAFETY: one thread, one slice at a time
        unsafe { s.write(2, 3).fill(1.0) };
        assert_eq!(unsafe { s.read(0, 8) }, &[0., 0., 1., 1., 1., 0., 0., 0.]);
        let past = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            s.read(6, 3).len()
        }));
        assert!(past.is_err(), "a range past the end panics");
        let wrap = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            s.read(usize::MAX, 2).len()
        }));
        assert!(wrap.is_err(), "an overflowing range panics");
        let read_only = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| unsafe {
            s.reader().write(0, 1).len()
        }));
        assert!(read_only.is_err(), "a read-only handle does not write");
    }
}

//! A QuickJS allocator that enforces the per-run memory limit and remembers that it was hit.
//!
//! QuickJS's own limit raises a catchable `InternalError: out of memory`, so a script could swallow it
//! and go on, and a failure inside a promise job would be invisible. This allocator refuses allocations
//! past the limit and sets a flag that the interrupt handler turns into an uncatchable stop and the
//! runner turns into [`crate::RunErrorKind::Memory`]. It is the crate's only `unsafe` code: the
//! `Allocator` trait is unsafe to implement; every call is delegated to rquickjs's `RustAllocator`.
#![allow(unsafe_code)]

use std::cell::Cell;
use std::rc::Rc;

use rquickjs::allocator::{Allocator, RustAllocator};

/// Counts live bytes and refuses allocations beyond `limit`.
pub(crate) struct LimitedAllocator {
    inner: RustAllocator,
    used: usize,
    limit: usize,
    exceeded: Rc<Cell<bool>>,
}

impl LimitedAllocator {
    /// An allocator allowing `limit` bytes; `exceeded` becomes true at the first refused allocation.
    pub(crate) fn new(limit: usize, exceeded: Rc<Cell<bool>>) -> LimitedAllocator {
        LimitedAllocator {
            inner: RustAllocator,
            used: 0,
            limit,
            exceeded,
        }
    }

    fn admits(&self, extra: usize) -> bool {
        let fits = self
            .used
            .checked_add(extra)
            .is_some_and(|total| total <= self.limit);
        if !fits {
            self.exceeded.set(true);
        }
        fits
    }
}

// SAFETY: every pointer handed out comes from `RustAllocator`, which satisfies the trait's contract
// (usize-aligned regions of at least the requested size, `usable_size` from its header); this wrapper
// only adds bookkeeping and refusals (null pointers), and routes null/zero-size `realloc` calls to
// `alloc`/`dealloc` so `RustAllocator` never sees a null pointer.
unsafe impl Allocator for LimitedAllocator {
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if !self.admits(size) {
            return std::ptr::null_mut();
        }
        let ptr = self.inner.alloc(size);
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by `RustAllocator`.
            self.used += unsafe { RustAllocator::usable_size(ptr) };
        }
        ptr
    }

    fn calloc(&mut self, count: usize, size: usize) -> *mut u8 {
        let Some(total) = count.checked_mul(size) else {
            self.exceeded.set(true);
            return std::ptr::null_mut();
        };
        if !self.admits(total) {
            return std::ptr::null_mut();
        }
        let ptr = self.inner.calloc(count, size);
        if !ptr.is_null() {
            // SAFETY: `ptr` was just returned by `RustAllocator`.
            self.used += unsafe { RustAllocator::usable_size(ptr) };
        }
        ptr
    }

    unsafe fn dealloc(&mut self, ptr: *mut u8) {
        if ptr.is_null() {
            return;
        }
        // SAFETY: the caller guarantees `ptr` came from this allocator, hence from `RustAllocator`.
        unsafe {
            self.used = self.used.saturating_sub(RustAllocator::usable_size(ptr));
            self.inner.dealloc(ptr);
        }
    }

    unsafe fn realloc(&mut self, ptr: *mut u8, new_size: usize) -> *mut u8 {
        if ptr.is_null() {
            return self.alloc(new_size);
        }
        if new_size == 0 {
            // SAFETY: as for `dealloc`.
            unsafe { self.dealloc(ptr) };
            return std::ptr::null_mut();
        }
        // SAFETY: the caller guarantees `ptr` came from this allocator, hence from `RustAllocator`.
        let old = unsafe { RustAllocator::usable_size(ptr) };
        if new_size > old && !self.admits(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: as above; on failure `RustAllocator` leaves the old block untouched.
        let moved = unsafe { self.inner.realloc(ptr, new_size) };
        if !moved.is_null() {
            // SAFETY: `moved` was just returned by `RustAllocator`.
            let new = unsafe { RustAllocator::usable_size(moved) };
            self.used = self.used.saturating_sub(old) + new;
        }
        moved
    }

    unsafe fn usable_size(ptr: *mut u8) -> usize {
        // SAFETY: the caller guarantees `ptr` came from this allocator, hence from `RustAllocator`.
        unsafe { RustAllocator::usable_size(ptr) }
    }
}

//! The portable twins: the same operations in plain Rust atomics, with the
//! same orderings as the AArch64 versions.

use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

use crate::loom::{AtomicPtr, AtomicU32, AtomicU64};

#[inline(always)]
pub(crate) fn load_acquire_u64(a: &AtomicU64) -> u64 {
    a.load(Acquire)
}

#[inline(always)]
pub(crate) fn load_acquire_u32(a: &AtomicU32) -> u32 {
    a.load(Acquire)
}

#[inline(always)]
pub(crate) fn store_release_u32(a: &AtomicU32, v: u32) {
    a.store(v, Release)
}

#[inline(always)]
pub(crate) fn cas_acqrel_u64(a: &AtomicU64, current: u64, new: u64) -> Result<u64, u64> {
    a.compare_exchange(current, new, AcqRel, Acquire)
}

#[inline(always)]
pub(crate) fn cas_seqcst_ptr(
    a: &AtomicPtr<()>,
    current: *mut (),
    new: *mut (),
) -> Result<*mut (), *mut ()> {
    a.compare_exchange(current, new, SeqCst, Relaxed)
}

#[inline(always)]
pub(crate) fn swap_acquire_ptr(a: &AtomicPtr<()>, new: *mut ()) -> *mut () {
    a.swap(new, Acquire)
}

#[inline]
pub(crate) fn wait_until_nonnull(a: &AtomicPtr<()>, rounds: u32) -> bool {
    for _ in 0..rounds {
        if !a.load(Acquire).is_null() {
            return true;
        }
        std::hint::spin_loop();
    }
    !a.load(Acquire).is_null()
}

/// Each round of [`wait_until_nonnull`] is a load and a hint: no sleep.
#[inline(always)]
pub(crate) fn wait_sleeps_in_wfe() -> bool {
    false
}

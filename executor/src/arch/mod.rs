//! The atomic operations of the queue fast paths and the idle wait, one
//! function each, with a hand-written AArch64 version and a portable twin.
//!
//! | operation | used by | AArch64 (LSE) | AArch64 (LL/SC) | barrier |
//! |---|---|---|---|---|
//! | [`load_acquire_u64`] | ring `head` | `ldapr` (`ldar` without RCpc) | same | none |
//! | [`load_acquire_u32`] | ring `tail` (thief) | `ldapr w` / `ldar w` | same | none |
//! | [`store_release_u32`] | ring `tail` (owner push) | `stlr w` | same | none |
//! | [`cas_acqrel_u64`] | ring pop, steal claim/release | `casal` | `ldaxr`/`stlxr` loop | none |
//! | [`cas_seqcst_ptr`] | inbox push | `casal` | `ldaxr`/`stlxr` loop | none |
//! | [`swap_acquire_ptr`] | inbox drain | `swpa` | `ldaxr`/`stxr` loop | none |
//! | [`wait_until_nonnull`] | idle worker watching its inbox | `sevl; wfe`, then per round `ldaxr; cbnz; wfe` (the `wfe` after the load sleeps) | same | none |
//!
//! No operation needs a `dmb`: the ring's owner pop is a CAS on the word the
//! thieves CAS (tokio's design), not a Chase-Lev store-then-load, so no
//! store-load fence is required. The only full barriers in the scheduler are
//! the `fence(SeqCst)` of the park handshake (`scheduler::park`).
//!
//! The AArch64 versions are chosen once: at compile time when the target
//! enables `lse`/`rcpc` (`-C target-feature=+lse,+rcpc`), otherwise by the
//! standard library's cached run-time detection (a load of a static, no
//! system call per operation). The portable twins, with the same orderings,
//! run on other targets and under loom and miri, which cannot see inline
//! assembly.

use std::ptr;

use crate::loom::{AtomicPtr, AtomicU32, AtomicU64};

#[cfg(all(
    target_arch = "aarch64",
    not(loom),
    not(miri),
    not(feature = "portable-twins")
))]
pub(crate) mod aarch64;
// On AArch64 the twins are compiled for the tests that compare them with
// the asm versions.
#[cfg(any(
    test,
    feature = "portable-twins",
    not(all(target_arch = "aarch64", not(loom), not(miri)))
))]
pub(crate) mod portable;

#[cfg(feature = "disasm")]
pub mod disasm;

// `portable-twins` forces the twins on AArch64, to compare the machine code.
#[cfg(all(
    target_arch = "aarch64",
    not(loom),
    not(miri),
    not(feature = "portable-twins")
))]
use aarch64 as imp;
#[cfg(not(all(
    target_arch = "aarch64",
    not(loom),
    not(miri),
    not(feature = "portable-twins")
)))]
use portable as imp;

/// `a.load(Acquire)`.
#[inline(always)]
pub(crate) fn load_acquire_u64(a: &AtomicU64) -> u64 {
    imp::load_acquire_u64(a)
}

/// `a.load(Acquire)`.
#[inline(always)]
pub(crate) fn load_acquire_u32(a: &AtomicU32) -> u32 {
    imp::load_acquire_u32(a)
}

/// `a.store(v, Release)`.
#[inline(always)]
pub(crate) fn store_release_u32(a: &AtomicU32, v: u32) {
    imp::store_release_u32(a, v)
}

/// `a.compare_exchange(current, new, AcqRel, Acquire)`.
#[inline(always)]
pub(crate) fn cas_acqrel_u64(a: &AtomicU64, current: u64, new: u64) -> Result<u64, u64> {
    imp::cas_acqrel_u64(a, current, new)
}

/// `a.compare_exchange(current, new, SeqCst, Relaxed)`.
#[inline(always)]
pub(crate) fn cas_seqcst_ptr(
    a: &AtomicPtr<()>,
    current: *mut (),
    new: *mut (),
) -> Result<*mut (), *mut ()> {
    imp::cas_seqcst_ptr(a, current, new)
}

/// `a.swap(new, Acquire)`.
#[inline(always)]
pub(crate) fn swap_acquire_ptr(a: &AtomicPtr<()>, new: *mut ()) -> *mut () {
    imp::swap_acquire_ptr(a, new)
}

/// Waits, for at most `rounds` rounds, until `a` is non-null; returns
/// whether it is. On AArch64 with the kernel's timer event stream
/// ([`wait_sleeps_in_wfe`]) each round sleeps in a `wfe` on the exclusive
/// monitor armed on `a`'s line (Linux's `__cmpwait` shape): it ends when
/// another core writes that line, on an interrupt, or at the next
/// event-stream tick (about every 100 µs on Linux), so the whole wait lasts
/// at most `rounds` event-stream periods. Elsewhere (and on AArch64 without
/// the event stream, where a `wfe` could last until the next interrupt)
/// each round is an acquire load and a `spin_loop` hint.
#[inline]
pub(crate) fn wait_until_nonnull(a: &AtomicPtr<()>, rounds: u32) -> bool {
    imp::wait_until_nonnull(a, rounds)
}

/// `true` if a round of [`wait_until_nonnull`] sleeps in `wfe` (AArch64
/// with the kernel's timer event stream, which bounds the sleep), `false`
/// if it is a load and a `spin_loop` hint.
#[inline]
pub(crate) fn wait_sleeps_in_wfe() -> bool {
    imp::wait_sleeps_in_wfe()
}

/// `ptr::null_mut()`, for callers of this module.
#[inline(always)]
pub(crate) fn null() -> *mut () {
    ptr::null_mut()
}

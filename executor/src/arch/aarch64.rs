//! The AArch64 versions, in inline assembly.
//!
//! Each read-modify-write has two bodies: LSE (ARMv8.1 single-instruction
//! atomics: `casal`, `swpa`) and LL/SC (ARMv8.0 exclusive pairs:
//! `ldaxr`/`stlxr`). Acquire loads use `ldapr` (RCpc, ARMv8.3) where the
//! CPU has it: unlike `ldar` it may be reordered before an earlier `stlr`
//! to another address, which acquire semantics allow and which saves a
//! stall. None of them needs a `dmb` (see the table in `arch`).
//!
//! The LSE and RCpc instructions are enabled per asm block with
//! `.arch_extension`, not with `#[target_feature]` on the function, so
//! that they inline into the queue code (a `target_feature` function cannot
//! be inlined into a caller without the feature); they only run after the
//! feature check.
//!
//! The asm blocks do not say `nomem`, so the compiler treats each as a
//! memory access it may not move other memory accesses across: the
//! compile-time half of the ordering; the instruction's acquire/release
//! semantics are the hardware half.

use std::arch::asm;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64};

/// LSE atomics available: fixed at compile time with `+lse`, else the
/// standard library's cached run-time detection.
#[inline(always)]
fn has_lse() -> bool {
    cfg!(target_feature = "lse") || std::arch::is_aarch64_feature_detected!("lse")
}

/// RCpc (`ldapr`) available, likewise.
#[inline(always)]
fn has_rcpc() -> bool {
    cfg!(target_feature = "rcpc") || std::arch::is_aarch64_feature_detected!("rcpc")
}

#[inline(always)]
pub(crate) fn load_acquire_u64(a: &AtomicU64) -> u64 {
    let p = a.as_ptr();
    if has_rcpc() {
        // SAFETY: `p` points to a live, aligned `AtomicU64`; RCpc is present.
        unsafe { ldapr_u64(p) }
    } else {
        let v: u64;
        // SAFETY: `p` points to a live, aligned `AtomicU64`.
        unsafe {
            asm!("ldar {v}, [{p}]", v = out(reg) v, p = in(reg) p,
                 options(nostack, preserves_flags));
        }
        v
    }
}

#[inline(always)]
unsafe fn ldapr_u64(p: *mut u64) -> u64 {
    let v: u64;
    // SAFETY: the caller passes a live, aligned atomic and checked RCpc.
    unsafe {
        asm!(".arch_extension rcpc", "ldapr {v}, [{p}]", v = out(reg) v, p = in(reg) p,
             options(nostack, preserves_flags));
    }
    v
}

#[inline(always)]
pub(crate) fn load_acquire_u32(a: &AtomicU32) -> u32 {
    let p = a.as_ptr();
    if has_rcpc() {
        // SAFETY: `p` points to a live, aligned `AtomicU32`; RCpc is present.
        unsafe { ldapr_u32(p) }
    } else {
        let v: u32;
        // SAFETY: `p` points to a live, aligned `AtomicU32`.
        unsafe {
            asm!("ldar {v:w}, [{p}]", v = out(reg) v, p = in(reg) p,
                 options(nostack, preserves_flags));
        }
        v
    }
}

#[inline(always)]
unsafe fn ldapr_u32(p: *mut u32) -> u32 {
    let v: u32;
    // SAFETY: the caller passes a live, aligned atomic and checked RCpc.
    unsafe {
        asm!(".arch_extension rcpc", "ldapr {v:w}, [{p}]", v = out(reg) v, p = in(reg) p,
             options(nostack, preserves_flags));
    }
    v
}

#[inline(always)]
pub(crate) fn store_release_u32(a: &AtomicU32, v: u32) {
    let p = a.as_ptr();
    // SAFETY: `p` points to a live, aligned `AtomicU32`.
    unsafe {
        asm!("stlr {v:w}, [{p}]", v = in(reg) v, p = in(reg) p,
             options(nostack, preserves_flags));
    }
}

#[inline(always)]
pub(crate) fn cas_acqrel_u64(a: &AtomicU64, current: u64, new: u64) -> Result<u64, u64> {
    let p = a.as_ptr();
    let old = if has_lse() {
        // SAFETY: `p` points to a live, aligned `AtomicU64`; LSE is present.
        unsafe { casal_u64(p, current, new) }
    } else {
        // SAFETY: `p` points to a live, aligned `AtomicU64`.
        unsafe { cas_llsc_u64(p, current, new) }
    };
    if old == current { Ok(old) } else { Err(old) }
}

/// `casal`: acquire-release compare-and-swap, one instruction.
#[inline(always)]
unsafe fn casal_u64(p: *mut u64, current: u64, new: u64) -> u64 {
    let mut old = current;
    // SAFETY: the caller passes a live, aligned atomic and checked LSE.
    unsafe {
        asm!(".arch_extension lse", "casal {old}, {new}, [{p}]",
             old = inout(reg) old, new = in(reg) new, p = in(reg) p,
             options(nostack, preserves_flags));
    }
    old
}

/// `ldaxr`/`stlxr` loop: acquire on load, release on the store; a failed
/// comparison leaves with `clrex` and only the acquire.
#[inline(always)]
unsafe fn cas_llsc_u64(p: *mut u64, current: u64, new: u64) -> u64 {
    let old: u64;
    // SAFETY: the caller passes a live, aligned atomic. `old` and `fail`
    // are plain `out` operands, so they never share a register with the
    // inputs read after they are written.
    unsafe {
        asm!(
            "2:",
            "ldaxr {old}, [{p}]",
            "cmp {old}, {current}",
            "b.ne 3f",
            "stlxr {fail:w}, {new}, [{p}]",
            "cbnz {fail:w}, 2b",
            "b 4f",
            "3:",
            "clrex",
            "4:",
            old = out(reg) old,
            fail = out(reg) _,
            current = in(reg) current,
            new = in(reg) new,
            p = in(reg) p,
            options(nostack),
        );
    }
    old
}

#[inline(always)]
pub(crate) fn cas_seqcst_ptr(
    a: &AtomicPtr<()>,
    current: *mut (),
    new: *mut (),
) -> Result<*mut (), *mut ()> {
    let p = a.as_ptr().cast::<u64>();
    let (current, new) = (current as u64, new as u64);
    // `casal` (and the ldaxr/stlxr pair) are sequentially consistent
    // read-modify-writes on AArch64: the same code a SeqCst CAS compiles to.
    let old = if has_lse() {
        // SAFETY: `p` points to a live, aligned pointer-sized atomic.
        unsafe { casal_u64(p, current, new) }
    } else {
        // SAFETY: as above.
        unsafe { cas_llsc_u64(p, current, new) }
    };
    if old == current {
        Ok(old as *mut ())
    } else {
        Err(old as *mut ())
    }
}

#[inline(always)]
pub(crate) fn swap_acquire_ptr(a: &AtomicPtr<()>, new: *mut ()) -> *mut () {
    let p = a.as_ptr().cast::<u64>();
    let new = new as u64;
    let old = if has_lse() {
        // SAFETY: `p` points to a live, aligned pointer-sized atomic.
        unsafe { swpa_u64(p, new) }
    } else {
        let old: u64;
        // SAFETY: as above; `old`/`fail` are plain `out` operands.
        unsafe {
            asm!(
                "2:",
                "ldaxr {old}, [{p}]",
                "stxr {fail:w}, {new}, [{p}]",
                "cbnz {fail:w}, 2b",
                old = out(reg) old,
                fail = out(reg) _,
                new = in(reg) new,
                p = in(reg) p,
                options(nostack),
            );
        }
        old
    };
    old as *mut ()
}

/// `swpa`: swap with acquire, one instruction.
#[inline(always)]
unsafe fn swpa_u64(p: *mut u64, new: u64) -> u64 {
    let old: u64;
    // SAFETY: the caller passes a live, aligned atomic and checked LSE.
    unsafe {
        asm!(".arch_extension lse", "swpa {new}, {old}, [{p}]",
             new = in(reg) new, old = out(reg) old, p = in(reg) p,
             options(nostack, preserves_flags));
    }
    old
}

/// Monitor-based wait: `sevl` primes the event register so the first `wfe`
/// falls through; each round `ldaxr` re-arms the exclusive monitor on `a`'s
/// line, and the next `wfe` sleeps until another core writes that line
/// (which clears the monitor and signals an event) or the kernel's event
/// stream ticks (Linux enables it on arm64, about every 100 µs), so a round
/// is bounded in time even if nobody writes.
#[inline]
pub(crate) fn wait_until_nonnull(a: &AtomicPtr<()>, rounds: u32) -> bool {
    let p = a.as_ptr().cast::<u64>();
    if rounds == 0 {
        // SAFETY: `p` points to a live, aligned pointer-sized atomic.
        return unsafe { std::ptr::read_volatile(p) } != 0;
    }
    let value: u64;
    // SAFETY: `p` points to a live, aligned pointer-sized atomic; the loop
    // only loads from it. `value` is a plain `out` operand.
    unsafe {
        asm!(
            "sevl",
            "2:",
            "wfe",
            "ldaxr {value}, [{p}]",
            "cbnz {value}, 3f",
            "subs {left:w}, {left:w}, #1",
            "b.ne 2b",
            "3:",
            "clrex",
            value = out(reg) value,
            left = inout(reg) rounds => _,
            p = in(reg) p,
            options(nostack),
        );
    }
    value != 0
}

#[cfg(test)]
mod tests {
    //! The asm versions against the portable twins on the same operation
    //! sequences (run under qemu with and without LSE).

    use super::super::portable;
    use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64};

    #[test]
    fn features_detected() {
        // Reported, not asserted: the run with QEMU_CPU=max has both,
        // QEMU_CPU=cortex-a53 neither.
        println!("lse: {}, rcpc: {}", super::has_lse(), super::has_rcpc());
    }

    #[test]
    fn u64_cas_and_loads_match_the_twin() {
        let asm_cell = AtomicU64::new(0);
        let twin_cell = AtomicU64::new(0);
        let mut x = 0x1234_5678_9abc_def0u64;
        for i in 0..10_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Half the attempts use the right expected value.
            let current = if i % 2 == 0 {
                portable::load_acquire_u64(&twin_cell)
            } else {
                x
            };
            let new = x.rotate_left(5);
            let a = super::cas_acqrel_u64(&asm_cell, current, new);
            let b = portable::cas_acqrel_u64(&twin_cell, current, new);
            assert_eq!(a, b, "cas #{i}");
            assert_eq!(
                super::load_acquire_u64(&asm_cell),
                portable::load_acquire_u64(&twin_cell)
            );
        }
    }

    #[test]
    fn u32_store_and_load_match_the_twin() {
        let asm_cell = AtomicU32::new(7);
        let twin_cell = AtomicU32::new(7);
        for v in [0, 1, u32::MAX, 0x8000_0000, 12345] {
            super::store_release_u32(&asm_cell, v);
            portable::store_release_u32(&twin_cell, v);
            assert_eq!(super::load_acquire_u32(&asm_cell), v);
            assert_eq!(portable::load_acquire_u32(&twin_cell), v);
        }
    }

    #[test]
    fn pointer_cas_swap_and_wait_match_the_twin() {
        let mut slots = [0u8; 4];
        let ptrs: Vec<*mut ()> = slots.iter_mut().map(|s| (s as *mut u8).cast()).collect();
        let asm_cell = AtomicPtr::new(std::ptr::null_mut());
        let twin_cell = AtomicPtr::new(std::ptr::null_mut());
        assert!(!super::wait_until_nonnull(&asm_cell, 3));
        assert!(!portable::wait_until_nonnull(&twin_cell, 3));
        for round in 0..100usize {
            let current = if round % 3 == 0 {
                ptrs[round % 4]
            } else {
                twin_cell.load(std::sync::atomic::Ordering::Relaxed)
            };
            let new = ptrs[(round + 1) % 4];
            assert_eq!(
                super::cas_seqcst_ptr(&asm_cell, current, new),
                portable::cas_seqcst_ptr(&twin_cell, current, new)
            );
            if round % 5 == 0 {
                let swapped = if round % 10 == 0 {
                    std::ptr::null_mut()
                } else {
                    ptrs[0]
                };
                assert_eq!(
                    super::swap_acquire_ptr(&asm_cell, swapped),
                    portable::swap_acquire_ptr(&twin_cell, swapped)
                );
            }
            assert_eq!(
                super::wait_until_nonnull(&asm_cell, 2),
                portable::wait_until_nonnull(&twin_cell, 2)
            );
        }
    }

    #[test]
    fn cas_contended_across_threads_counts_exactly() {
        let cell = std::sync::Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let cell = cell.clone();
                std::thread::spawn(move || {
                    for _ in 0..2_000 {
                        let mut cur = super::load_acquire_u64(&cell);
                        while let Err(actual) = super::cas_acqrel_u64(&cell, cur, cur + 1) {
                            cur = actual;
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(super::load_acquire_u64(&cell), 8_000);
    }
}

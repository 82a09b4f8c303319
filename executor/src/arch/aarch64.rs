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
use std::sync::atomic::Ordering::{Acquire, Relaxed};
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

/// Waits until `a` is non-null, sleeping in `wfe` between looks (the shape
/// of Linux's arm64 `__cmpwait`), for at most `rounds` waits; returns
/// whether it is non-null. See [`wait_nonnull_in_wfe`] for the sequence and
/// [`has_event_stream`] for why the sleep needs the event stream.
///
/// Without the event stream (or `rounds == 0`) each round is a plain
/// acquire load and a `spin_loop` hint, like the portable twin: a `wfe`
/// would then last until the next interrupt, which bounds nothing.
#[inline]
pub(crate) fn wait_until_nonnull(a: &AtomicPtr<()>, rounds: u32) -> bool {
    if rounds != 0 && has_event_stream() {
        // SAFETY: the pointer is a live, aligned pointer-sized atomic.
        unsafe { wait_nonnull_in_wfe(a.as_ptr().cast::<u64>(), rounds) != 0 }
    } else {
        for _ in 0..rounds {
            if !a.load(Acquire).is_null() {
                return true;
            }
            std::hint::spin_loop();
        }
        !a.load(Acquire).is_null()
    }
}

/// `true` if [`wait_until_nonnull`] sleeps in `wfe`: with the event stream.
#[inline]
pub(crate) fn wait_sleeps_in_wfe() -> bool {
    has_event_stream()
}

/// `HWCAP_EVTSTRM`: the kernel has the generic timer send an event to every
/// core at a fixed rate (Linux: `ARCH_TIMER_EVT_STREAM_PERIOD_US`, 100 µs,
/// i.e. 10 kHz, rounded to a power-of-two divider of the counter), which
/// ends any `wfe`. It is on unless the kernel was built without
/// `CONFIG_ARM_ARCH_TIMER_EVTSTREAM` or booted with
/// `clocksource.arm_arch_timer.evtstrm=0`.
#[cfg(target_os = "linux")]
const HWCAP_EVTSTRM: std::ffi::c_ulong = 1 << 2;
#[cfg(target_os = "linux")]
const AT_HWCAP: std::ffi::c_ulong = 16;

#[cfg(target_os = "linux")]
unsafe extern "C" {
    /// The C library's auxiliary-vector lookup (glibc, musl).
    fn getauxval(kind: std::ffi::c_ulong) -> std::ffi::c_ulong;
}

/// `true` if the kernel's timer event stream bounds one `wfe` (see
/// [`HWCAP_EVTSTRM`]): read once from the auxiliary vector, then cached.
/// Other systems are assumed not to have one.
#[inline]
fn has_event_stream() -> bool {
    // Relaxed: the value is derived from the process's fixed auxiliary
    // vector, so every thread that computes it stores the same one, and
    // nothing else is published with it.
    match EVENT_STREAM.load(Relaxed) {
        EVENT_STREAM_UNKNOWN => detect_event_stream(),
        state => state == EVENT_STREAM_PRESENT,
    }
}

/// [`has_event_stream`]'s cache: unknown, absent or present.
static EVENT_STREAM: std::sync::atomic::AtomicU8 =
    std::sync::atomic::AtomicU8::new(EVENT_STREAM_UNKNOWN);
const EVENT_STREAM_UNKNOWN: u8 = 0;
const EVENT_STREAM_ABSENT: u8 = 1;
const EVENT_STREAM_PRESENT: u8 = 2;

/// The first look at the auxiliary vector, out of line.
#[cold]
#[inline(never)]
fn detect_event_stream() -> bool {
    #[cfg(target_os = "linux")]
    // SAFETY: `getauxval` reads the process's auxiliary vector; it has no
    // preconditions and returns 0 for an absent entry.
    let present = unsafe { getauxval(AT_HWCAP) } & HWCAP_EVTSTRM != 0;
    #[cfg(not(target_os = "linux"))]
    let present = false;
    let state = if present {
        EVENT_STREAM_PRESENT
    } else {
        EVENT_STREAM_ABSENT
    };
    // Relaxed: see `has_event_stream`.
    EVENT_STREAM.store(state, Relaxed);
    present
}

/// The monitor wait proper; returns the value last loaded from `p`.
///
/// ```text
///     sevl                 set the local event register...
///     wfe                  ...so this wfe falls through and clears it
///  2: ldaxr value, [p]     load, and arm the exclusive monitor on p's line
///     cbnz  value, 3f      non-null: done
///     wfe                  sleep (the waiting wfe)
///     subs  left, left, #1
///     b.ne  2b
///     ldar  value, [p]     a last look after the last wfe
///  3: clrex
/// ```
///
/// The leading `sevl; wfe` pair leaves the event register clear whatever
/// state it was in (a stale event from earlier would otherwise end the
/// first real wait at once), so the `wfe` after the `ldaxr` sleeps until a
/// wake-up event: another core's store to `p`'s cache line (it clears the
/// global monitor, which sets the event register), an interrupt or an
/// exception return (a context switch, which also clears the monitor), an
/// `sev` from any core, or a tick of the timer event stream. A store that
/// lands between the `ldaxr` and the `wfe` has already set the event
/// register, so that `wfe` falls through: no write is missed. Each round
/// therefore lasts at most one event-stream period (about 100 µs on Linux,
/// see [`HWCAP_EVTSTRM`]), and the whole wait at most `rounds` of them.
///
/// # Safety
///
/// `p` points to a live, aligned pointer-sized atomic; `rounds > 0`.
#[inline(always)]
pub(crate) unsafe fn wait_nonnull_in_wfe(p: *mut u64, rounds: u32) -> u64 {
    let value: u64;
    // SAFETY: the caller passes a live, aligned pointer-sized atomic and
    // at least one round (`subs` on 0 would wrap and wait 2^32 rounds);
    // the loop only loads from it. `value` is a plain `out` operand,
    // written after every input is read.
    unsafe {
        asm!(
            "sevl",
            "wfe",
            "2:",
            "ldaxr {value}, [{p}]",
            "cbnz {value}, 3f",
            "wfe",
            "subs {left:w}, {left:w}, #1",
            "b.ne 2b",
            "ldar {value}, [{p}]",
            "3:",
            "clrex",
            value = out(reg) value,
            left = inout(reg) rounds => _,
            p = in(reg) p,
            options(nostack),
        );
    }
    value
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
    fn event_stream_detected() {
        // Reported, not asserted: qemu-user does not advertise the event
        // stream, most arm64 Linux kernels do.
        println!("event stream: {}", super::has_event_stream());
    }

    /// Machine-code words of `f`'s first instructions (enough to hold the
    /// inlined wait in a debug or an optimized build).
    fn code_words(f: *const u8) -> Vec<u32> {
        (0..512)
            // SAFETY: reads the text section from a function's entry on; the
            // window is far smaller than the test binary's code after it.
            .map(|i| unsafe { f.cast::<u32>().add(i).read_unaligned() })
            .collect()
    }

    /// The sequence of [`super::wait_nonnull_in_wfe`] in the code the
    /// runtime calls: an exclusive load (`ldaxr`/`ldxr`), a conditional
    /// branch out (`cbnz`, or `b.ne` after a `cmp`), then a `wfe`. That
    /// `wfe` runs with the monitor armed and the event register clear, so
    /// it sleeps; a `wfe` only before the load (`sevl; wfe; ldaxr`) never
    /// does.
    #[test]
    fn a_wfe_follows_the_exclusive_load_in_the_machine_code() {
        const WFE: u32 = 0xd503_205f;
        let is_exclusive_load = |w: u32| {
            // LDXR/LDAXR, 32- and 64-bit: size 1x, 001000 0 1 0 11111 o0 11111.
            (w & 0xbfff_7c00) == 0x885f_7c00
        };
        let is_branch_out = |w: u32| {
            // CBNZ (either width), or B.NE.
            (w & 0x7f00_0000) == 0x3500_0000 || (w & 0xff00_001f) == 0x5400_0001
        };
        let wait: fn(&AtomicPtr<()>, u32) -> bool = super::wait_until_nonnull;
        let code = code_words(wait as *const u8);
        let waits = code.windows(4).any(|w| {
            is_exclusive_load(w[0])
                && (is_branch_out(w[1]) || is_branch_out(w[2]))
                && (w[2] == WFE || w[3] == WFE)
        });
        let listing: Vec<String> = code[..64].iter().map(|w| format!("{w:08x}")).collect();
        assert!(
            waits,
            "no `ldaxr; cbnz; wfe` in wait_until_nonnull: the wfe that should \
             sleep on the armed monitor is missing; first words: {listing:?}"
        );
    }

    /// A value already there: the wait returns it without waiting.
    #[test]
    fn wfe_wait_returns_a_value_already_there() {
        let mut slot = 0u8;
        let ptr: *mut () = (&mut slot as *mut u8).cast();
        let cell = AtomicPtr::new(ptr);
        for rounds in [1, 2, 1000] {
            // SAFETY: a live, aligned atomic pointer; at least one round.
            let got = unsafe { super::wait_nonnull_in_wfe(cell.as_ptr().cast(), rounds) };
            assert_eq!(got, ptr as u64, "{rounds} rounds");
        }
        assert!(super::wait_until_nonnull(&cell, 5));
    }

    /// Nothing ever stored: the wait gives up after its rounds with null
    /// (under qemu each `wfe` returns at once; on hardware each lasts at
    /// most an event-stream period), instead of waiting for good.
    #[test]
    fn wfe_wait_gives_up_with_null_after_its_rounds() {
        let cell = AtomicPtr::new(std::ptr::null_mut::<()>());
        for rounds in [1, 2, 3, 1000] {
            // SAFETY: a live, aligned atomic pointer; at least one round.
            let got = unsafe { super::wait_nonnull_in_wfe(cell.as_ptr().cast(), rounds) };
            assert_eq!(got, 0, "{rounds} rounds");
        }
        assert!(!super::wait_until_nonnull(&cell, 1000));
        assert!(!super::wait_until_nonnull(&cell, 0));
    }

    /// Another thread stores while the waiter waits: a wait returns the
    /// stored value (not a stale null, not another value).
    #[test]
    fn wfe_wait_returns_the_value_another_thread_stores() {
        const ROUNDS: u32 = 64;
        const MAX_WAITS: u32 = 10_000_000;
        let cell = std::sync::Arc::new(AtomicPtr::new(std::ptr::null_mut::<()>()));
        let stored = Box::into_raw(Box::new(7u64));
        let (waiting_tx, waiting_rx) = std::sync::mpsc::channel();
        let waiter = {
            let cell = cell.clone();
            std::thread::spawn(move || {
                waiting_tx.send(()).unwrap();
                let mut waits = 0u32;
                loop {
                    // SAFETY: a live, aligned atomic pointer; ROUNDS > 0.
                    let got = unsafe { super::wait_nonnull_in_wfe(cell.as_ptr().cast(), ROUNDS) };
                    waits += 1;
                    if got != 0 {
                        return (got, waits);
                    }
                    assert!(waits < MAX_WAITS, "the store was never seen");
                }
            })
        };
        waiting_rx.recv().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        cell.store(stored.cast(), std::sync::atomic::Ordering::Release);
        let (got, waits) = waiter.join().unwrap();
        assert_eq!(got, stored as u64);
        println!("seen after {waits} waits of {ROUNDS} rounds");
        // SAFETY: from `Box::into_raw` above; nobody else frees it.
        drop(unsafe { Box::from_raw(stored) });
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
        // The twin never sleeps; the asm version sleeps only with the
        // event stream.
        assert!(!portable::wait_sleeps_in_wfe());
        assert_eq!(super::wait_sleeps_in_wfe(), super::has_event_stream());
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

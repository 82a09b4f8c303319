//! A bounded work-stealing ring: the owner's FIFO deque for one priority.
//!
//! # Protocol
//!
//! ```text
//!   head (one AtomicU64) = steal:u32 | real:u32        tail: AtomicU32
//!
//!   ... [steal .. real) being copied by a thief | [real .. tail) ready | free ...
//! ```
//!
//! * Only the owner writes `tail` and only the owner writes slots, always in
//!   the free region, so `push_back` is a slot write plus a `Release` store:
//!   no read-modify-write and no fence.
//! * The owner pops by CAS-ing `real` forward. A thief claims a batch by
//!   CAS-ing `real` forward by `n` while leaving `steal` behind, copies the
//!   batch out, then CAS-es `steal` up to `real`. While `steal != real` no
//!   other thief may start, and the owner may not reuse slots from `steal`
//!   on: the capacity check is `tail - steal < CAPACITY`.
//! * Because the owner's pop is a CAS on the same word the thief CAS-es, a
//!   slot is claimed by exactly one side, and no store-load fence is needed
//!   (a Chase-Lev deque's owner pop needs one).
//!
//! Indices are `u32` and wrap; every comparison is on wrapping differences,
//! which stay below `CAPACITY`.
//!
//! # Ownership
//!
//! [`ring`] makes the two kinds of handle, and the protocol's "only the
//! owner" rules are the types' rules: the one [`Local`] (not `Clone`) pushes
//! and pops through `&mut self`; every sibling holds a [`Steal`] and can
//! only steal (into its own `Local`) and look at the length.

use std::mem::MaybeUninit;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::arch;
use crate::loom::{AtomicU32, AtomicU64, CachePadded, UnsafeCell};

/// Slots per ring: a power of two (tiny under loom, to keep the model small).
pub(crate) const CAPACITY: usize = if cfg!(loom) { 4 } else { 256 };
const MASK: u32 = CAPACITY as u32 - 1;

/// A new empty ring: its owner's handle and the handle thieves share.
pub(crate) fn ring<T>() -> (Local<T>, Steal<T>) {
    let ring = Arc::new(Ring::new());
    (Local(ring.clone()), Steal(ring))
}

/// The owner's handle: the only one that pushes and pops.
pub(crate) struct Local<T>(Arc<Ring<T>>);

/// A thief's handle: steals half of the ring into the thief's own, or looks
/// at its length.
pub(crate) struct Steal<T>(Arc<Ring<T>>);

impl<T> Clone for Steal<T> {
    fn clone(&self) -> Steal<T> {
        Steal(self.0.clone())
    }
}

impl<T> Local<T> {
    /// Appends `value` at the back; hands it back when the ring is full (the
    /// owner keeps it elsewhere).
    #[inline]
    pub(crate) fn push_back(&mut self, value: T) -> Result<(), T> {
        self.0.push_back(value)
    }

    /// Takes the value at the front.
    ///
    /// One value per CAS on purpose: values the owner took but has not run
    /// yet would be out of thieves' reach while the kernel keeps the owner
    /// off its core.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }

    /// Number of ready values: a snapshot that thieves can only make
    /// smaller (only the owner adds).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when no value is ready.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

impl<T> Steal<T> {
    /// Steals about half of this ring into `dst` and returns one of the
    /// stolen values to run at once.
    ///
    /// Takes `ceil(len / 2)` values; returns `None` when this ring is empty,
    /// another thief is mid-steal, or `dst` is more than half full.
    #[inline]
    pub(crate) fn steal_into(&self, dst: &mut Local<T>) -> Option<T> {
        debug_assert!(
            !Arc::ptr_eq(&self.0, &dst.0),
            "a worker steals from siblings, not from itself"
        );
        self.0.steal_into(&dst.0)
    }

    /// Number of ready values (a snapshot).
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// `true` when no value is ready (a snapshot).
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }
}

/// A bounded single-owner, multi-thief FIFO. See the module docs; reached
/// only through [`Local`] and [`Steal`].
struct Ring<T> {
    /// `steal << 32 | real`, see the module docs.
    head: CachePadded<AtomicU64>,
    /// One past the last ready slot. Written only by the owner.
    tail: CachePadded<AtomicU32>,
    /// A fixed-size array, so `index & MASK` needs no bounds check.
    buffer: Box<[UnsafeCell<MaybeUninit<T>>; CAPACITY]>,
}

// SAFETY: a slot's value is moved between threads only through the protocol
// above, which hands each slot to exactly one side at a time, so the ring is
// as thread-safe as moving a `T` between threads.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above; shared access only goes through the atomic protocol.
unsafe impl<T: Send> Sync for Ring<T> {}

#[inline]
fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

#[inline]
fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

impl<T> Ring<T> {
    fn new() -> Ring<T> {
        let buffer: Box<[_]> = (0..CAPACITY)
            .map(|_| UnsafeCell::new(MaybeUninit::uninit()))
            .collect();
        let Ok(buffer) = buffer.try_into() else {
            unreachable!("the buffer has CAPACITY slots")
        };
        Ring {
            head: CachePadded(AtomicU64::new(0)),
            tail: CachePadded(AtomicU32::new(0)),
            buffer,
        }
    }

    /// [`Local::push_back`]: called by the owner only.
    #[inline]
    fn push_back(&self, value: T) -> Result<(), T> {
        // Relaxed: only this thread writes `tail`.
        let tail = self.tail.load(Relaxed);
        // Acquire: pairs with the Release half of a thief's final CAS, so its
        // reads of the slots it stole happen before we overwrite them.
        let (steal, _) = unpack(arch::load_acquire_u64(&self.head));
        if tail.wrapping_sub(steal) >= CAPACITY as u32 {
            return Err(value);
        }
        self.buffer[(tail & MASK) as usize].with_mut(|slot| {
            // SAFETY: `tail - steal < CAPACITY`, so this slot is outside
            // `[steal, tail)`: no thief reads it and it holds no value.
            unsafe { slot.write(MaybeUninit::new(value)) }
        });
        // Release: publishes the slot write to thieves that Acquire `tail`.
        arch::store_release_u32(&self.tail, tail.wrapping_add(1));
        Ok(())
    }

    /// [`Local::pop`]: called by the owner only.
    #[inline]
    fn pop(&self) -> Option<T> {
        let mut head = arch::load_acquire_u64(&self.head);
        let real = loop {
            let (steal, real) = unpack(head);
            // Relaxed: only this thread writes `tail`, and `real <= tail`.
            if self.tail.load(Relaxed) == real {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // With no steal in progress both halves move together;
            // otherwise a thief owns `[steal, real)` and will move `steal`,
            // and the slot `real` does not touch it.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            // AcqRel on success / Acquire on failure: the CAS decides which
            // side owns the slot; the orderings keep the thieves' view of
            // `head` coherent with their slot reads.
            match arch::cas_acqrel_u64(&self.head, head, next) {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        let value = self.buffer[(real & MASK) as usize].with(|slot| {
            // SAFETY: the CAS moved `real` past this slot, so we own its
            // value, which the owner wrote in `push_back`.
            unsafe { slot.read().assume_init() }
        });
        Some(value)
    }

    /// Number of ready values (a snapshot; exact only for the owner).
    #[inline]
    fn len(&self) -> usize {
        let (_, real) = unpack(arch::load_acquire_u64(&self.head));
        let tail = arch::load_acquire_u32(&self.tail);
        tail.wrapping_sub(real) as usize
    }

    /// [`Steal::steal_into`]: called by `dst`'s owner, who is not this
    /// ring's owner.
    #[inline]
    fn steal_into(&self, dst: &Ring<T>) -> Option<T> {
        // Relaxed: the caller owns `dst`.
        let dst_tail = dst.tail.load(Relaxed);
        let (dst_steal, _) = unpack(arch::load_acquire_u64(&dst.head));
        if dst_tail.wrapping_sub(dst_steal) > CAPACITY as u32 / 2 {
            return None;
        }
        let n = self.steal_batch(dst, dst_tail);
        if n == 0 {
            return None;
        }
        // Keep the last stolen value for the caller; publish the rest.
        let last = dst_tail.wrapping_add(n - 1);
        let value = dst.buffer[(last & MASK) as usize].with(|slot| {
            // SAFETY: `steal_batch` just wrote this slot of our own ring and
            // it is not yet published (beyond `tail`), so we own it.
            unsafe { slot.read().assume_init() }
        });
        if n > 1 {
            // Release: publishes the copied slots to thieves of `dst`.
            arch::store_release_u32(&dst.tail, dst_tail.wrapping_add(n - 1));
        }
        Some(value)
    }

    /// Claims a batch, copies it into `dst` from `dst_tail` on (not yet
    /// published), releases the claim, and returns the batch size.
    fn steal_batch(&self, dst: &Ring<T>, dst_tail: u32) -> u32 {
        let mut prev = arch::load_acquire_u64(&self.head);
        let (claim, n) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                // Another thief is copying; let it finish.
                return 0;
            }
            // Acquire: pairs with the owner's Release store of `tail`, so the
            // slots up to it are initialised before we copy them.
            let tail = arch::load_acquire_u32(&self.tail);
            let ready = tail.wrapping_sub(real);
            if ready == 0 || ready > CAPACITY as u32 {
                // Empty, or a stale `head` read against a newer `tail`
                // wrapped the difference; either way nothing to take now.
                return 0;
            }
            let n = ready - ready / 2;
            let claim = pack(steal, real.wrapping_add(n));
            // AcqRel: a successful claim must see the owner's earlier pops
            // (Acquire) and publish the claim before we read the slots.
            match arch::cas_acqrel_u64(&self.head, prev, claim) {
                Ok(_) => break (claim, n),
                Err(actual) => prev = actual,
            }
        };
        let (first, _) = unpack(claim);
        for i in 0..n {
            let src = (first.wrapping_add(i) & MASK) as usize;
            let dst_slot = (dst_tail.wrapping_add(i) & MASK) as usize;
            let value = self.buffer[src].with(|slot| {
                // SAFETY: slots `[steal, steal + n)` are ours until we move
                // `steal` forward below; the owner does not reuse them.
                unsafe { slot.read() }
            });
            dst.buffer[dst_slot].with_mut(|slot| {
                // SAFETY: `dst` is owned by the caller and was checked to have
                // more than half its capacity free from `dst_tail` on.
                unsafe { slot.write(value) }
            });
        }
        // Release the claim: `steal` catches up with `real` (which the owner
        // may have moved meanwhile by popping).
        let mut prev = claim;
        loop {
            let (_, real) = unpack(prev);
            // AcqRel: Release makes our slot reads happen-before the owner's
            // reuse of those slots (it Acquires `head` in `push_back`).
            match arch::cas_acqrel_u64(&self.head, prev, pack(real, real)) {
                Ok(_) => return n,
                Err(actual) => prev = actual,
            }
        }
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        while self.pop().is_some() {}
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn fifo_order_for_the_owner() {
        let (mut ring, _) = ring();
        for i in 0..10 {
            ring.push_back(i).unwrap();
        }
        assert_eq!(ring.len(), 10);
        let out: Vec<i32> = std::iter::from_fn(|| ring.pop()).collect();
        assert_eq!(out, (0..10).collect::<Vec<_>>());
        assert!(ring.is_empty());
    }

    #[test]
    fn full_ring_hands_the_value_back() {
        let (mut ring, _) = ring();
        for i in 0..CAPACITY {
            ring.push_back(i).unwrap();
        }
        assert_eq!(ring.push_back(usize::MAX), Err(usize::MAX));
        assert_eq!(ring.pop(), Some(0));
        ring.push_back(CAPACITY).unwrap();
        assert_eq!(ring.len(), CAPACITY);
    }

    #[test]
    fn wraps_around_many_times() {
        let (mut ring, _) = ring();
        let mut next_out = 0;
        for i in 0..(CAPACITY * 5) {
            ring.push_back(i).unwrap();
            if i % 3 == 0 {
                assert_eq!(ring.pop(), Some(next_out));
                next_out += 1;
            }
            if ring.len() > CAPACITY - 2 {
                assert_eq!(ring.pop(), Some(next_out));
                next_out += 1;
            }
        }
        while let Some(v) = ring.pop() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert_eq!(next_out, CAPACITY * 5);
    }

    #[test]
    fn steal_takes_the_older_half() {
        let (mut victim, stealer) = ring();
        let (mut thief, _) = ring();
        for i in 0..7 {
            victim.push_back(i).unwrap();
        }
        // ceil(7 / 2) = 4 stolen: 0, 1, 2 land in the thief's ring, 3 is
        // handed back to run.
        assert_eq!(stealer.steal_into(&mut thief), Some(3));
        assert_eq!(thief.len(), 3);
        assert_eq!(victim.len(), 3);
        let stolen: Vec<i32> = std::iter::from_fn(|| thief.pop()).collect();
        assert_eq!(stolen, vec![0, 1, 2]);
        let left: Vec<i32> = std::iter::from_fn(|| victim.pop()).collect();
        assert_eq!(left, vec![4, 5, 6]);
    }

    #[test]
    fn steal_from_empty_and_into_full() {
        let (mut victim, stealer) = ring::<u8>();
        let (mut thief, _) = ring();
        assert_eq!(stealer.steal_into(&mut thief), None);
        victim.push_back(1).unwrap();
        for _ in 0..(CAPACITY / 2 + 1) {
            thief.push_back(0).unwrap();
        }
        assert_eq!(
            stealer.steal_into(&mut thief),
            None,
            "thief more than half full"
        );
        assert_eq!(victim.len(), 1);
    }

    #[test]
    fn drop_releases_every_value() {
        use std::sync::Arc;
        let marker = Arc::new(());
        let (mut ring, stealer) = ring();
        for _ in 0..100 {
            ring.push_back(marker.clone()).unwrap();
        }
        drop(ring.pop());
        drop((ring, stealer));
        assert_eq!(Arc::strong_count(&marker), 1);
    }

    #[test]
    fn concurrent_thieves_lose_and_duplicate_nothing() {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        const N: usize = if cfg!(miri) { 300 } else { 100_000 };
        let (mut victim, stealer) = ring();
        let done = Arc::new(AtomicBool::new(false));
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let victim = stealer.clone();
                let done = done.clone();
                std::thread::spawn(move || {
                    let (mut mine, _) = ring();
                    let mut got = Vec::new();
                    loop {
                        let finished = done.load(Ordering::Acquire);
                        if let Some(v) = victim.steal_into(&mut mine) {
                            got.push(v);
                        }
                        while let Some(v) = mine.pop() {
                            got.push(v);
                        }
                        if finished && victim.is_empty() {
                            return got;
                        }
                        std::hint::spin_loop();
                    }
                })
            })
            .collect();
        let mut got = Vec::new();
        let mut overflow = std::collections::VecDeque::new();
        for i in 0..N {
            if let Err(v) = victim.push_back(i) {
                overflow.push_back(v);
            }
            if i % 2 == 0 {
                if let Some(v) = victim.pop() {
                    got.push(v);
                }
            }
        }
        while let Some(v) = victim.pop().or_else(|| overflow.pop_front()) {
            got.push(v);
        }
        done.store(true, Ordering::Release);
        for t in thieves {
            got.extend(t.join().unwrap());
        }
        got.sort_unstable();
        assert_eq!(got, (0..N).collect::<Vec<_>>());
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::thread;

    /// A thief's side: steals once from `victim`, then drains its own ring.
    fn steal_all<T>(victim: &Steal<T>) -> Vec<T> {
        let (mut mine, _) = ring();
        let mut got = Vec::new();
        if let Some(v) = victim.steal_into(&mut mine) {
            got.push(v);
        }
        while let Some(v) = mine.pop() {
            got.push(v);
        }
        got
    }

    /// Owner pushes and pops while a thief steals: every value comes out
    /// exactly once.
    #[test]
    fn owner_and_thief() {
        loom::model(|| {
            let (mut victim, stealer) = ring();
            let thief = thread::spawn(move || steal_all(&stealer));
            let mut got = Vec::new();
            for i in 0..3 {
                victim.push_back(i).unwrap();
            }
            if let Some(v) = victim.pop() {
                got.push(v);
            }
            victim.push_back(3).unwrap();
            got.extend(thief.join().unwrap());
            while let Some(v) = victim.pop() {
                got.push(v);
            }
            got.sort_unstable();
            assert_eq!(got, vec![0, 1, 2, 3]);
        });
    }

    /// Two thieves race for the same victim while the owner pops.
    #[test]
    fn two_thieves() {
        loom::model(|| {
            let (mut victim, stealer) = ring();
            for i in 0..4 {
                victim.push_back(i).unwrap();
            }
            let thieves: Vec<_> = (0..2)
                .map(|_| {
                    let stealer = stealer.clone();
                    thread::spawn(move || steal_all(&stealer))
                })
                .collect();
            let mut got = Vec::new();
            if let Some(v) = victim.pop() {
                got.push(v);
            }
            for t in thieves {
                got.extend(t.join().unwrap());
            }
            while let Some(v) = victim.pop() {
                got.push(v);
            }
            got.sort_unstable();
            assert_eq!(got, vec![0, 1, 2, 3]);
        });
    }

    /// The owner wraps around slots a thief has just released.
    #[test]
    fn owner_reuses_slots_after_steal() {
        loom::model(|| {
            let (mut victim, stealer) = ring();
            victim.push_back(0).unwrap();
            victim.push_back(1).unwrap();
            let thief = thread::spawn(move || steal_all(&stealer));
            let mut got = Vec::new();
            // Fill up to capacity so pushes touch slots the thief may be
            // reading; pushes that find them still claimed are refused.
            let mut refused = Vec::new();
            for i in 2..(CAPACITY + 2) {
                if let Err(v) = victim.push_back(i) {
                    refused.push(v);
                }
            }
            got.extend(thief.join().unwrap());
            while let Some(v) = victim.pop() {
                got.push(v);
            }
            got.extend(refused);
            got.sort_unstable();
            assert_eq!(got, (0..CAPACITY + 2).collect::<Vec<_>>());
        });
    }
}

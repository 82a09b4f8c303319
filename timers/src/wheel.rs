//! The hierarchical timing wheel of one shard.
//!
//! # Ticks
//!
//! Time is counted in *ticks* of [`TICK`] (one millisecond) since the
//! [`Timers`](crate::Timers) were created. A timer's deadline is rounded
//! **up** to a tick and the clock is rounded **down**, so a timer whose tick
//! is `t` fires at the first `fire_expired(now)` with `floor(now) >= t`: never
//! before its deadline, at most one tick after it (plus however late the
//! driver is).
//!
//! # Layout
//!
//! [`LEVELS`] levels of [`SLOTS`] slots. A slot of level `L` covers
//! `64^L` ticks, a whole level `64^(L+1)`: level 0 has one-tick slots and
//! spans 64 ms, level 1 spans 4.1 s, level 2 4.4 min, level 3 4.7 h, level 4
//! 12.4 days, level 5 2.2 years and level 6 139 years. Ticks are clamped to
//! [`MAX_TICK`], the end of level 6.
//!
//! Every slot is the head of an intrusive doubly-linked list of
//! [`Node`]s. A node records its tick and the slot it is in, so removing it
//! is O(1) whatever list it is in. Each level has a 64-bit occupancy mask,
//! so the first non-empty slot of a level is one `trailing_zeros`.
//!
//! # Invariants
//!
//! With `elapsed` the tick the wheel has been advanced to:
//!
//! 1. *Placement.* A node with tick `t` is in level
//!    `L = level_for(e, t)`, slot `slot_of(L, t)`, where `e` was `elapsed`
//!    when it was inserted: `L` is the highest 6-bit group in which `t` and
//!    `e` differ.
//! 2. *Same window.* For every node, `t >= elapsed` and `t` agrees with
//!    `elapsed` on every bit above its level's group. So all nodes of a
//!    level lie in the level-sized window that contains `elapsed`, at slots
//!    at or after `elapsed`'s own slot: the lowest set bit of a level's mask
//!    is its earliest slot, and a slot's first tick is computable from
//!    `elapsed` alone ([`Wheel::slot_start`]).
//! 3. *Occupancy.* A level's mask bit is set exactly when its slot's list is
//!    non-empty.
//! 4. *Lower bound.* A slot's `min_tick` is at most the tick of every node
//!    in it (it is not raised when a node is removed) and is `u64::MAX` when
//!    the slot is empty.
//!
//! Between two calls of `fire_expired` every node also has `t > elapsed`.
//!
//! `advance` keeps (2) while moving `elapsed` forward: it takes slots in
//! order of their first tick; moving `elapsed` up to the first tick of the
//! earliest slot keeps every other node in its window (the new `elapsed` lies
//! between the old one and the node's tick, inside a window that contains
//! both). The nodes of the slot taken either fire (their tick is at or
//! before the new `elapsed`) or are reinserted relative to it, which puts
//! them at a strictly lower level (they agree with `elapsed` on the slot's
//! own group too). Slots are taken in order of first tick, and a node only
//! fires from a slot that starts at its tick, so timers fire in the order of
//! their ticks.
//!
//! # Concurrency
//!
//! A `Wheel` lives inside its shard's `Mutex`. Every access to a node's
//! [`Links`] happens with that mutex held; see [`crate::entry`].

use std::ptr::NonNull;
use std::time::Duration;

use crate::entry::{Links, Node};

/// Length of one tick: the wheel's resolution.
pub(crate) const TICK: Duration = Duration::from_millis(1);
/// Bits of a tick consumed by one level.
const LEVEL_BITS: u32 = 6;
/// Slots per level.
pub(crate) const SLOTS: usize = 1 << LEVEL_BITS;
/// Levels of the wheel.
pub(crate) const LEVELS: usize = 7;
/// The last tick the wheel can hold (about 139 years after its origin).
pub(crate) const MAX_TICK: u64 = (1 << (LEVEL_BITS * LEVELS as u32)) - 1;

/// One slot: a list of nodes whose ticks fall into its range.
struct Slot {
    /// First node of the list.
    head: Option<NonNull<Node>>,
    /// A lower bound of the ticks in the list (invariant 4).
    min_tick: u64,
}

/// The level whose slots distinguish `tick` from `elapsed`.
#[inline]
fn level_for(elapsed: u64, tick: u64) -> usize {
    // `| (SLOTS - 1)`: ticks that differ only in the low group (or not at
    // all) belong to level 0.
    let differing = (elapsed ^ tick) | (SLOTS as u64 - 1);
    let top_bit = 63 - differing.leading_zeros();
    ((top_bit / LEVEL_BITS) as usize).min(LEVELS - 1)
}

/// The slot of `tick` within `level`.
#[inline]
fn slot_of(level: usize, tick: u64) -> usize {
    ((tick >> (LEVEL_BITS * level as u32)) as usize) & (SLOTS - 1)
}

/// A slot to process, found by [`Wheel::next_expiration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expiration {
    /// Index of the slot in `Wheel::slots`.
    pub(crate) slot: usize,
    /// The first tick the slot covers.
    pub(crate) start: u64,
}

/// A hierarchical timing wheel of intrusive lists. See the module docs.
pub(crate) struct Wheel {
    /// The tick the wheel has been advanced to.
    elapsed: u64,
    /// Nodes in the wheel.
    len: usize,
    /// Per level, bit `s` set iff slot `s` is non-empty (invariant 3).
    occupied: [u64; LEVELS],
    /// `LEVELS * SLOTS` slots, level-major.
    slots: Box<[Slot]>,
}

// SAFETY: the `NonNull<Node>` pointers are only dereferenced by the wheel's
// methods, which run with the shard's mutex held; the nodes they point to are
// `Sync` and are unlinked (under the same mutex) before they are dropped.
unsafe impl Send for Wheel {}

/// The links of the node at `node`.
///
/// # Safety
///
/// `node` must point to a live node linked into (or being linked into) the
/// wheel whose mutex the caller holds, and no other reference to its links
/// may be alive while the returned one is.
#[inline]
unsafe fn links<'a>(node: NonNull<Node>) -> &'a mut Links {
    // SAFETY: forwarded from the caller: the node is alive and its links are
    // only ever accessed under the mutex the caller holds.
    unsafe { &mut *node.as_ref().links.get() }
}

impl Wheel {
    /// An empty wheel at tick 0.
    pub(crate) fn new() -> Wheel {
        Wheel {
            elapsed: 0,
            len: 0,
            occupied: [0; LEVELS],
            slots: (0..LEVELS * SLOTS)
                .map(|_| Slot {
                    head: None,
                    min_tick: u64::MAX,
                })
                .collect(),
        }
    }

    /// The tick the wheel has been advanced to.
    #[inline]
    pub(crate) fn elapsed(&self) -> u64 {
        self.elapsed
    }

    /// Nodes in the wheel.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Moves `elapsed` forward to `tick`.
    ///
    /// The caller must have processed every slot that starts at or before
    /// `tick` (that is, `next_expiration(tick)` is `None`).
    pub(crate) fn set_elapsed(&mut self, tick: u64) {
        debug_assert!(self.next_expiration(tick).is_none());
        self.elapsed = self.elapsed.max(tick);
    }

    /// A lower bound of the earliest tick in the wheel, `u64::MAX` if empty.
    ///
    /// Exact unless the earliest node was removed since its slot last
    /// emptied.
    pub(crate) fn next_tick(&self) -> u64 {
        let mut next = u64::MAX;
        for (level, &mask) in self.occupied.iter().enumerate() {
            if mask != 0 {
                let slot = level * SLOTS + mask.trailing_zeros() as usize;
                // Invariant 2: the first occupied slot of a level holds its
                // earliest ticks.
                next = next.min(self.slots[slot].min_tick);
            }
        }
        next
    }

    /// The first tick of slot `slot` of `level` (invariant 2).
    #[inline]
    fn slot_start(&self, level: usize, slot: usize) -> u64 {
        let level_span_bits = LEVEL_BITS * (level as u32 + 1);
        let window = self.elapsed & !((1u64 << level_span_bits) - 1);
        window + ((slot as u64) << (LEVEL_BITS * level as u32))
    }

    /// The non-empty slot with the earliest first tick, if that tick is at
    /// or before `now`.
    pub(crate) fn next_expiration(&self, now: u64) -> Option<Expiration> {
        let mut best: Option<Expiration> = None;
        for (level, &mask) in self.occupied.iter().enumerate() {
            if mask == 0 {
                continue;
            }
            let slot = mask.trailing_zeros() as usize;
            let start = self.slot_start(level, slot);
            if start <= now && best.is_none_or(|b| start < b.start) {
                best = Some(Expiration {
                    slot: level * SLOTS + slot,
                    start,
                });
            }
        }
        best
    }

    /// Advances `elapsed` to the first tick of a slot being processed.
    #[inline]
    pub(crate) fn enter_slot(&mut self, expiration: Expiration) {
        self.elapsed = self.elapsed.max(expiration.start);
    }

    /// Links `node` in with `tick`.
    ///
    /// # Safety
    ///
    /// The caller holds this wheel's mutex; `node` is live, pinned, not in
    /// any list, and stays live until it is removed (by [`remove`] or
    /// [`pop`]) under the same mutex. `tick` must be greater than
    /// `elapsed()` and at most [`MAX_TICK`].
    ///
    /// [`remove`]: Wheel::remove
    /// [`pop`]: Wheel::pop
    pub(crate) unsafe fn insert(&mut self, node: NonNull<Node>, tick: u64) {
        debug_assert!(tick > self.elapsed && tick <= MAX_TICK);
        let level = level_for(self.elapsed, tick);
        let index = level * SLOTS + slot_of(level, tick);
        let slot = &mut self.slots[index];
        let head = slot.head;
        {
            // SAFETY: the caller's contract; no other links are borrowed.
            let links = unsafe { links(node) };
            links.prev = None;
            links.next = head;
            links.set_place(tick, index);
        }
        if let Some(head) = head {
            // SAFETY: `head` is linked into this wheel, hence live (the
            // contract of `insert`), and is not `node`.
            unsafe { links(head).prev = Some(node) };
        }
        slot.head = Some(node);
        slot.min_tick = slot.min_tick.min(tick);
        self.occupied[level] |= 1 << (index % SLOTS);
        self.len += 1;
    }

    /// Unlinks `node` from its slot.
    ///
    /// # Safety
    ///
    /// The caller holds this wheel's mutex and `node` is linked into this
    /// wheel.
    pub(crate) unsafe fn remove(&mut self, node: NonNull<Node>) {
        // SAFETY: the node is in this wheel and we hold its mutex.
        let (prev, next, index) = unsafe {
            let links = links(node);
            (links.prev.take(), links.next.take(), links.slot())
        };
        match prev {
            // SAFETY: a neighbour in the same list: linked, hence live.
            Some(prev) => unsafe { links(prev).next = next },
            None => self.slots[index].head = next,
        }
        if let Some(next) = next {
            // SAFETY: as above.
            unsafe { links(next).prev = prev };
        }
        if self.slots[index].head.is_none() {
            self.slots[index].min_tick = u64::MAX;
            self.occupied[index / SLOTS] &= !(1 << (index % SLOTS));
        }
        self.len -= 1;
    }

    /// Unlinks and returns the first node of slot `index`.
    ///
    /// # Safety
    ///
    /// The caller holds this wheel's mutex.
    pub(crate) unsafe fn pop(&mut self, index: usize) -> Option<NonNull<Node>> {
        let head = self.slots[index].head?;
        // SAFETY: `head` is linked into this wheel, whose mutex we hold.
        unsafe { self.remove(head) };
        Some(head)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_split_ticks_by_six_bit_groups() {
        assert_eq!(level_for(0, 1), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(63, 64), 1);
        assert_eq!(level_for(64, 127), 0);
        assert_eq!(level_for(0, 4095), 1);
        assert_eq!(level_for(0, 4096), 2);
        assert_eq!(level_for(0, MAX_TICK), LEVELS - 1);
        assert_eq!(slot_of(0, 70), 6);
        assert_eq!(slot_of(1, 70), 1);
    }

    #[test]
    fn slot_starts_follow_elapsed() {
        let mut wheel = Wheel::new();
        wheel.elapsed = 130;
        assert_eq!(wheel.slot_start(0, 5), 133);
        assert_eq!(wheel.slot_start(1, 3), 192);
        assert_eq!(wheel.slot_start(2, 1), 4096);
    }
}

//! One-task slots: a worker's LIFO slot ([`lifo_slot`]: the task that runs
//! next, which a sibling may take if the worker gets stuck) and its urgent
//! slot ([`UrgentSlot`]: a `Max` or `High` task pushed from another thread).
//!
//! The owner fills the slot with a task the running task just woke or
//! spawned, and empties it to run that task next. A sibling empties it only
//! to rescue a task stranded behind a worker that made no progress for a
//! while (a long poll, or a thread the kernel keeps off its core).
//!
//! # Protocol
//!
//! * Only the owner stores a node; a thief only swaps the slot to null.
//!   So when the owner sees the slot empty, it stays empty until the owner
//!   fills it: filling an empty slot is a plain `Release` store.
//! * Taking is a swap to null, by the owner or a thief: whoever's swap
//!   returns the node owns it; the other gets null.
//! * Displacing (filling a full slot) is a swap; it returns what was there
//!   (or null, if a thief took it meanwhile).
//! * Nobody reads through the pointer before its swap returned it: a thief
//!   may have taken, run and freed the task in between.
//!
//! A worker's urgent slot is filled from any thread instead, with
//! [`UrgentSlot::try_put`]: a CAS from null, which fails on an occupied
//! slot, so nothing is ever displaced.
//!
//! # Ownership
//!
//! A slot is filled one way or the other, never both: `put`'s plain store
//! relies on nobody else filling its slot. The types say so: the LIFO slot's
//! one filler is its [`LifoSlot`] (not `Clone`, `&mut self`), siblings hold
//! a [`LifoSteal`] that can only take; an [`UrgentSlot`] has no `put`.

use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

use super::Node;
use crate::loom::{AtomicPtr, CachePadded};

/// A new LIFO slot: its owner's handle and the handle siblings share. On a
/// cache line of its own: the owner writes it at nearly every wake.
pub(crate) fn lifo_slot<N: Node>() -> (LifoSlot<N>, LifoSteal<N>) {
    let slot = Arc::new(CachePadded(Slot::new()));
    (LifoSlot(slot.clone()), LifoSteal(slot))
}

/// The owner's handle on its LIFO slot: the only one that fills it.
pub(crate) struct LifoSlot<N: Node>(Arc<CachePadded<Slot<N>>>);

/// A sibling's handle on a worker's LIFO slot: takes a stranded task.
pub(crate) struct LifoSteal<N: Node>(Arc<CachePadded<Slot<N>>>);

impl<N: Node> Clone for LifoSteal<N> {
    fn clone(&self) -> LifoSteal<N> {
        LifoSteal(self.0.clone())
    }
}

impl<N: Node> LifoSlot<N> {
    /// Fills the slot with `node` and returns the node it displaced, if any.
    #[inline]
    pub(crate) fn put(&mut self, node: N) -> Option<N> {
        self.0.put(node)
    }

    /// Empties the slot.
    #[inline]
    pub(crate) fn take(&mut self) -> Option<N> {
        self.0.take()
    }
}

impl<N: Node> LifoSteal<N> {
    /// Empties the slot (a sibling rescuing a stranded task).
    #[inline]
    pub(crate) fn take(&self) -> Option<N> {
        self.0.take()
    }

    /// `true` if the slot holds a node (a snapshot).
    #[inline]
    pub(crate) fn is_occupied(&self) -> bool {
        self.0.is_occupied()
    }
}

/// A slot any thread fills if it is empty, and any thread empties.
pub(crate) struct UrgentSlot<N: Node>(Slot<N>);

impl<N: Node> UrgentSlot<N> {
    pub(crate) fn new() -> UrgentSlot<N> {
        UrgentSlot(Slot::new())
    }

    /// Fills the slot with `node` if it is empty, else gives `node` back.
    #[inline]
    pub(crate) fn try_put(&self, node: N) -> Result<(), N> {
        self.0.try_put(node)
    }

    /// Empties the slot.
    #[inline]
    pub(crate) fn take(&self) -> Option<N> {
        self.0.take()
    }

    /// `true` if the slot holds a node (a snapshot).
    #[inline]
    pub(crate) fn is_occupied(&self) -> bool {
        self.0.is_occupied()
    }
}

/// A one-node slot, reached through the handles above. See the module docs.
struct Slot<N: Node> {
    node: AtomicPtr<()>,
    _node: PhantomData<N>,
}

// SAFETY: a node moves between threads only through the atomic swap, which
// hands it to exactly one side; the slot is as thread-safe as moving `N`.
unsafe impl<N: Node + Send> Send for Slot<N> {}
// SAFETY: as above.
unsafe impl<N: Node + Send> Sync for Slot<N> {}

impl<N: Node> Slot<N> {
    fn new() -> Slot<N> {
        Slot {
            node: AtomicPtr::new(ptr::null_mut()),
            _node: PhantomData,
        }
    }

    /// Fills the slot with `node` and returns the node it displaced, if
    /// any. Only one thread fills a slot this way (a [`LifoSlot`]).
    #[inline]
    fn put(&self, node: N) -> Option<N> {
        let new = node.into_raw().as_ptr();
        // Relaxed: only this thread stores a node, so null stays null until
        // the store below; a non-null value is not dereferenced.
        if self.node.load(Relaxed).is_null() {
            // Release: publishes the node to whoever takes it.
            self.node.store(new, Release);
            return None;
        }
        // AcqRel: Release as above; Acquire to own the displaced node.
        let old = self.node.swap(new, AcqRel);
        // SAFETY: a non-null value came from `into_raw` in `put`, and the
        // swap handed it to this thread alone.
        NonNull::new(old).map(|old| unsafe { N::from_raw(old) })
    }

    /// Fills the slot with `node` if it is empty, else gives `node` back.
    /// Any thread, on a slot nobody fills with [`put`](Slot::put).
    #[inline]
    fn try_put(&self, node: N) -> Result<(), N> {
        let new = node.into_raw();
        // Release: publishes the node to whoever takes it. Relaxed on
        // failure: the slot's node is not read.
        match (self.node).compare_exchange(ptr::null_mut(), new.as_ptr(), Release, Relaxed) {
            Ok(_) => Ok(()),
            // SAFETY: `new` came from `into_raw` above, and the failed CAS
            // published it to nobody.
            Err(_) => Err(unsafe { N::from_raw(new) }),
        }
    }

    /// Empties the slot. Any thread.
    #[inline]
    fn take(&self) -> Option<N> {
        // A Relaxed look first: an empty slot costs no read-modify-write.
        if self.node.load(Relaxed).is_null() {
            return None;
        }
        // Acquire: pairs with the Release of `put`, so the node is whole.
        let old = self.node.swap(ptr::null_mut(), Acquire);
        // SAFETY: as in `put`.
        NonNull::new(old).map(|old| unsafe { N::from_raw(old) })
    }

    /// `true` if the slot holds a node (a snapshot).
    #[inline]
    fn is_occupied(&self) -> bool {
        !self.node.load(Relaxed).is_null()
    }
}

impl<N: Node> Drop for Slot<N> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::test_node::node;

    #[cfg(not(loom))]
    #[test]
    fn put_displaces_and_take_empties() {
        let (mut slot, sibling) = lifo_slot();
        assert!(!sibling.is_occupied());
        assert!(slot.put(node(1)).is_none());
        assert!(sibling.is_occupied());
        assert_eq!(slot.put(node(2)).map(|n| n.value), Some(1));
        assert_eq!(slot.take().map(|n| n.value), Some(2));
        assert!(slot.take().is_none());
        assert!(sibling.take().is_none());
        assert!(!sibling.is_occupied());
    }

    #[cfg(not(loom))]
    #[test]
    fn try_put_fills_only_an_empty_slot() {
        let slot = UrgentSlot::new();
        assert!(slot.try_put(node(1)).is_ok());
        let refused = slot.try_put(node(2)).expect_err("the slot is full");
        assert_eq!(refused.value, 2);
        assert_eq!(slot.take().map(|n| n.value), Some(1));
        assert!(slot.try_put(node(3)).is_ok());
        assert_eq!(slot.take().map(|n| n.value), Some(3));
    }

    #[cfg(not(loom))]
    #[test]
    fn dropping_frees_the_node() {
        // Under miri, a leak here is an error.
        let (mut slot, sibling) = lifo_slot();
        assert!(slot.put(node(7)).is_none());
        drop((slot, sibling));
    }

    /// The owner fills, displaces and empties the slot while a thief takes
    /// from it: every node comes out exactly once.
    #[cfg(loom)]
    #[test]
    fn owner_and_thief() {
        use loom::thread;

        loom::model(|| {
            let (mut slot, sibling) = lifo_slot();
            assert!(slot.put(node(0)).is_none());
            let thief = thread::spawn(move || sibling.take().map(|n| n.value));
            let mut got: Vec<usize> = slot.put(node(1)).into_iter().map(|n| n.value).collect();
            got.extend(slot.take().map(|n| n.value));
            got.extend(thief.join().unwrap());
            got.sort_unstable();
            assert_eq!(got, vec![0, 1]);
        });
    }

    /// Two threads fill the slot with `try_put` while the owner takes:
    /// every node is either refused (given back) or taken, exactly once.
    #[cfg(loom)]
    #[test]
    fn concurrent_try_puts_and_a_take() {
        use loom::sync::Arc;
        use loom::thread;

        loom::model(|| {
            let slot = Arc::new(UrgentSlot::new());
            let pushers: Vec<_> = (1..=2)
                .map(|value| {
                    let slot = slot.clone();
                    thread::spawn(move || slot.try_put(node(value)).err().map(|n| n.value))
                })
                .collect();
            let mut got: Vec<usize> = slot.take().map(|n| n.value).into_iter().collect();
            for pusher in pushers {
                got.extend(pusher.join().unwrap());
            }
            got.extend(slot.take().map(|n| n.value));
            got.sort_unstable();
            assert_eq!(got, vec![1, 2]);
        });
    }
}

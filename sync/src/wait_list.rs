//! A FIFO queue of waiters with O(1) removal from anywhere, kept in a slab.
//!
//! The primitives keep their waiters here, behind a `std::sync::Mutex`. A
//! waiting future holds the [`Key`] of its entry. An entry can be *unlinked*
//! (taken out of the queue order, for example when it is granted what it
//! waited for) while its slot stays allocated, so that the future can still
//! read the outcome; the future frees the slot with [`WaitList::remove`].
//!
//! No `unsafe` is needed: links are slot indices, not pointers.

use std::task::Waker;

/// Index of a slot in a [`WaitList`].
pub(crate) type Key = usize;

const NIL: usize = usize::MAX;

enum Slot<N> {
    Vacant { next_free: usize },
    Occupied(Entry<N>),
}

struct Entry<N> {
    node: N,
    prev: usize,
    next: usize,
    linked: bool,
}

/// A slab-backed doubly linked FIFO of nodes of type `N`.
pub(crate) struct WaitList<N> {
    slots: Vec<Slot<N>>,
    free: usize,
    head: usize,
    tail: usize,
    /// Number of linked entries.
    linked: usize,
    /// Number of occupied slots, linked or not.
    occupied: usize,
}

impl<N> WaitList<N> {
    pub(crate) const fn new() -> Self {
        WaitList {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            linked: 0,
            occupied: 0,
        }
    }

    /// `true` when no entry is linked.
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// Adds `node` at the back of the queue and returns its key.
    pub(crate) fn push_back(&mut self, node: N) -> Key {
        let entry = Entry {
            node,
            prev: self.tail,
            next: NIL,
            linked: true,
        };
        let key = if self.free != NIL {
            let key = self.free;
            match self.slots[key] {
                Slot::Vacant { next_free } => self.free = next_free,
                Slot::Occupied(_) => unreachable!("free list points at an occupied slot"),
            }
            self.slots[key] = Slot::Occupied(entry);
            key
        } else {
            self.slots.push(Slot::Occupied(entry));
            self.slots.len() - 1
        };
        if self.tail == NIL {
            self.head = key;
        } else {
            self.entry_mut(self.tail).next = key;
        }
        self.tail = key;
        self.linked += 1;
        self.occupied += 1;
        key
    }

    /// The key of the first linked entry.
    pub(crate) fn front(&self) -> Option<Key> {
        (self.head != NIL).then_some(self.head)
    }

    /// The key of the last linked entry.
    pub(crate) fn back(&self) -> Option<Key> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// Whether the entry `key` is still in the queue order.
    pub(crate) fn is_linked(&self, key: Key) -> bool {
        self.entry(key).linked
    }

    pub(crate) fn get(&self, key: Key) -> &N {
        &self.entry(key).node
    }

    pub(crate) fn get_mut(&mut self, key: Key) -> &mut N {
        &mut self.entry_mut(key).node
    }

    /// Takes the entry out of the queue order; its slot stays occupied.
    pub(crate) fn unlink(&mut self, key: Key) {
        let (prev, next) = {
            let e = self.entry_mut(key);
            if !e.linked {
                return;
            }
            e.linked = false;
            let links = (e.prev, e.next);
            e.prev = NIL;
            e.next = NIL;
            links
        };
        if prev == NIL {
            self.head = next;
        } else {
            self.entry_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.entry_mut(next).prev = prev;
        }
        self.linked -= 1;
    }

    /// Unlinks the first entry and returns its key.
    pub(crate) fn pop_front(&mut self) -> Option<Key> {
        let key = self.front()?;
        self.unlink(key);
        Some(key)
    }

    /// Unlinks the last entry and returns its key.
    pub(crate) fn pop_back(&mut self) -> Option<Key> {
        let key = self.back()?;
        self.unlink(key);
        Some(key)
    }

    /// Unlinks (if needed) and frees the entry, returning its node.
    pub(crate) fn remove(&mut self, key: Key) -> N {
        self.unlink(key);
        let slot = std::mem::replace(
            &mut self.slots[key],
            Slot::Vacant {
                next_free: self.free,
            },
        );
        self.free = key;
        self.occupied -= 1;
        if self.occupied == 0 {
            // Forget the free list so that a burst of waiters does not leave
            // a long chain of vacant slots to walk through.
            self.slots.clear();
            self.free = NIL;
        }
        match slot {
            Slot::Occupied(e) => e.node,
            Slot::Vacant { .. } => unreachable!("removed a vacant slot"),
        }
    }

    fn entry(&self, key: Key) -> &Entry<N> {
        match &self.slots[key] {
            Slot::Occupied(e) => e,
            Slot::Vacant { .. } => unreachable!("wait list key points at a vacant slot"),
        }
    }

    fn entry_mut(&mut self, key: Key) -> &mut Entry<N> {
        match &mut self.slots[key] {
            Slot::Occupied(e) => e,
            Slot::Vacant { .. } => unreachable!("wait list key points at a vacant slot"),
        }
    }
}

/// Stores `waker` in `slot` unless the one already there wakes the same
/// task. Returns the waker it replaces, which the caller must drop only after
/// releasing any lock it holds: dropping a waker can run arbitrary code.
pub(crate) fn update_waker(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(w) if w.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

/// A fixed-size batch of wakers taken under a lock and woken after it.
pub(crate) struct WakeList {
    wakers: [Option<Waker>; Self::CAPACITY],
    len: usize,
}

impl WakeList {
    const CAPACITY: usize = 16;

    pub(crate) fn new() -> Self {
        WakeList {
            wakers: Default::default(),
            len: 0,
        }
    }

    pub(crate) fn can_push(&self) -> bool {
        self.len < Self::CAPACITY
    }

    pub(crate) fn push(&mut self, waker: Waker) {
        debug_assert!(self.can_push());
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    /// Wakes every waker in the batch and empties it.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.wakers[..self.len] {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        self.len = 0;
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        // A batch dropped early (for example while unwinding) still wakes its
        // tasks: they were granted something and must not sleep forever.
        self.wake_all();
    }
}

#[cfg(test)]
mod tests {
    use super::WaitList;

    #[test]
    fn fifo_and_removal() {
        let mut l = WaitList::new();
        let a = l.push_back('a');
        let b = l.push_back('b');
        let c = l.push_back('c');
        assert_eq!(l.remove(b), 'b');
        assert_eq!(l.pop_front(), Some(a));
        assert!(!l.is_linked(a));
        assert_eq!(*l.get(a), 'a');
        let d = l.push_back('d');
        assert_eq!(l.pop_front(), Some(c));
        assert_eq!(l.pop_front(), Some(d));
        assert!(l.is_empty());
        assert_eq!(l.pop_front(), None);
        l.remove(a);
        l.remove(c);
        l.remove(d);
        assert_eq!(l.occupied, 0);
    }
}

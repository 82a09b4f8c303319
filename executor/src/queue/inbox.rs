//! A worker's inbox: an intrusive multi-producer, single-consumer queue.
//!
//! Any thread pushes a node with one CAS on `head` (a Treiber-stack push);
//! a drainer takes everything at once with one swap and reverses the short
//! list to get arrival order. There is no pop of single nodes, hence no ABA
//! problem: a push only links the new node to whatever `head` is, without
//! reading any node. The swap hands the whole list to exactly one drainer,
//! so several threads may drain: the owning worker at every tick, and an
//! idle sibling taking work that waits behind a long poll.
//!
//! The link lives inside the node (for tasks, in the task header), so a
//! push allocates nothing.
//!
//! `head` is the word an idle worker watches before it parks: the park
//! protocol reads it with `SeqCst` after announcing that it sleeps, and every
//! push is a `SeqCst` CAS, so either the worker sees the node or the pusher
//! sees the worker asleep and wakes it (see `scheduler::park`).

use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use crate::arch;
use crate::loom::{AtomicPtr, AtomicUsize, CachePadded};

/// Something that can be linked into an [`Inbox`] by its own pointer.
///
/// # Safety
///
/// `into_raw` must give a pointer that `from_raw` turns back into the same
/// value, and `link` must return an `AtomicPtr` stored inside that value and
/// valid for as long as the value is in the inbox.
pub(crate) unsafe trait Node: Sized {
    /// Gives up ownership of the node as a pointer.
    fn into_raw(self) -> NonNull<()>;
    /// Takes ownership back.
    ///
    /// # Safety
    ///
    /// `ptr` came from `into_raw` and is not owned by anyone else.
    unsafe fn from_raw(ptr: NonNull<()>) -> Self;
    /// The link field of the node behind `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` came from `into_raw` and the node is still alive.
    unsafe fn link<'a>(ptr: NonNull<()>) -> &'a AtomicPtr<()>;
}

/// An intrusive MPSC queue. See the module docs.
pub(crate) struct Inbox<N: Node> {
    /// Both words on one cache line: a push writes both, and so does a
    /// drain, so the second write finds the line already held.
    ends: CachePadded<Ends>,
    _nodes: PhantomData<N>,
}

struct Ends {
    /// The most recently pushed node; each node links to the one before it.
    head: AtomicPtr<()>,
    /// Nodes pushed and not yet drained: a metric, and a wrapping count
    /// (a drain may subtract before the matching push has added).
    len: AtomicUsize,
}

// SAFETY: nodes move between threads only through `head`; the inbox owns
// them while linked, so it is `Send`/`Sync` when the nodes are `Send`.
unsafe impl<N: Node + Send> Send for Inbox<N> {}
// SAFETY: as above.
unsafe impl<N: Node + Send> Sync for Inbox<N> {}

impl<N: Node> Inbox<N> {
    /// An empty inbox.
    pub(crate) fn new() -> Inbox<N> {
        Inbox {
            ends: CachePadded(Ends {
                head: AtomicPtr::new(ptr::null_mut()),
                len: AtomicUsize::new(0),
            }),
            _nodes: PhantomData,
        }
    }

    /// Pushes `node`. Any thread.
    #[inline]
    pub(crate) fn push(&self, node: N) {
        let ptr = node.into_raw();
        // SAFETY: we own the node until the CAS below publishes it.
        let link = unsafe { N::link(ptr) };
        // The first CAS guesses an empty inbox instead of loading `head`:
        // a push to an idle or lightly loaded worker (most remote pushes)
        // then takes the line once, for writing, where a load first would
        // fetch it shared and then again to write. A wrong guess costs
        // nothing more than that load would have: the CAS returns `head`.
        let mut head = ptr::null_mut();
        loop {
            // Relaxed: the successful CAS below releases this store.
            link.store(head, Relaxed);
            // SeqCst: publishes the node (Release) and orders the push before
            // the pusher's later check of the owner's park state (see the
            // module docs).
            match arch::cas_seqcst_ptr(&self.ends.head, head, ptr.as_ptr()) {
                Ok(_) => break,
                Err(actual) => head = actual,
            }
        }
        self.ends.len.fetch_add(1, Relaxed);
    }

    /// `true` when nothing is queued. `SeqCst`, for the park protocol.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.ends.head.load(SeqCst).is_null()
    }

    /// Waits briefly for a push (see `arch::wait_until_nonnull`); returns
    /// `true` if the inbox is non-empty.
    #[inline]
    pub(crate) fn wait_for_push(&self, rounds: u32) -> bool {
        arch::wait_until_nonnull(&self.ends.head, rounds)
    }

    /// Nodes queued (a snapshot, for metrics).
    pub(crate) fn len(&self) -> usize {
        let len = self.ends.len.load(Relaxed);
        // A transiently "negative" count reads as 0.
        if len > isize::MAX as usize { 0 } else { len }
    }

    /// Takes every queued node, oldest first. Any thread (see the module
    /// docs): concurrent drains get disjoint batches.
    #[inline]
    pub(crate) fn drain(&self) -> Drain<N> {
        // A plain load first: an empty inbox costs no write to a shared line.
        if self.ends.head.load(Relaxed).is_null() {
            return Drain {
                next: None,
                _nodes: PhantomData,
            };
        }
        // Acquire: pairs with the pushers' CAS, making each node's contents
        // and link visible.
        let mut node = NonNull::new(arch::swap_acquire_ptr(&self.ends.head, arch::null()));
        // Reverse the newest-first list into arrival order.
        let mut reversed: *mut () = ptr::null_mut();
        let mut count = 0usize;
        while let Some(ptr) = node {
            // SAFETY: the swap gave us every node in the list.
            let link = unsafe { N::link(ptr) };
            node = NonNull::new(link.load(Relaxed));
            link.store(reversed, Relaxed);
            reversed = ptr.as_ptr();
            count += 1;
        }
        self.ends.len.fetch_sub(count, Relaxed);
        Drain {
            next: NonNull::new(reversed),
            _nodes: PhantomData,
        }
    }
}

impl<N: Node> Drop for Inbox<N> {
    fn drop(&mut self) {
        self.drain().for_each(drop);
    }
}

/// The nodes taken by [`Inbox::drain`], oldest first. Dropping it drops the
/// nodes not yet taken.
pub(crate) struct Drain<N: Node> {
    next: Option<NonNull<()>>,
    _nodes: PhantomData<N>,
}

impl<N: Node> Iterator for Drain<N> {
    type Item = N;

    #[inline]
    fn next(&mut self) -> Option<N> {
        let ptr = self.next?;
        // SAFETY: the drain owns the detached list; each node is taken once.
        unsafe {
            self.next = NonNull::new(N::link(ptr).load(Relaxed));
            Some(N::from_raw(ptr))
        }
    }
}

impl<N: Node> Drop for Drain<N> {
    fn drop(&mut self) {
        self.for_each(drop);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::queue::test_node::node;

    #[cfg(not(loom))]
    #[test]
    fn drains_in_arrival_order() {
        let inbox = Inbox::new();
        assert!(inbox.is_empty());
        for i in 0..5 {
            inbox.push(node(i));
        }
        assert_eq!(inbox.len(), 5);
        let got: Vec<usize> = inbox.drain().map(|n| n.value).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 4]);
        assert!(inbox.is_empty());
        assert_eq!(inbox.len(), 0);
        assert_eq!(inbox.drain().count(), 0);
    }

    #[cfg(not(loom))]
    #[test]
    fn dropping_frees_queued_and_undrained_nodes() {
        let inbox = Inbox::new();
        for i in 0..4 {
            inbox.push(node(i));
        }
        let mut drain = inbox.drain();
        assert_eq!(drain.next().map(|n| n.value), Some(0));
        drop(drain);
        inbox.push(node(9));
        drop(inbox); // miri reports a leak if either drop forgot a node
    }

    #[cfg(not(loom))]
    #[test]
    fn many_producers_lose_nothing_and_keep_per_sender_order() {
        use std::sync::Arc;
        const PER: usize = if cfg!(miri) { 50 } else { 20_000 };
        const SENDERS: usize = 3;
        let inbox = Arc::new(Inbox::new());
        let senders: Vec<_> = (0..SENDERS)
            .map(|s| {
                let inbox = inbox.clone();
                std::thread::spawn(move || {
                    for i in 0..PER {
                        inbox.push(node(s * PER + i));
                    }
                })
            })
            .collect();
        let mut last = [None::<usize>; SENDERS];
        let mut seen = 0;
        while seen < SENDERS * PER {
            for n in inbox.drain() {
                let sender = n.value / PER;
                assert!(last[sender] < Some(n.value), "per-sender order broken");
                last[sender] = Some(n.value);
                seen += 1;
            }
            std::hint::spin_loop();
        }
        for s in senders {
            s.join().unwrap();
        }
        assert!(inbox.is_empty());
    }

    #[cfg(loom)]
    #[test]
    fn loom_two_drainers_take_disjoint_batches() {
        loom::model(|| {
            let inbox = loom::sync::Arc::new(Inbox::new());
            inbox.push(node(0));
            let thief = {
                let inbox = inbox.clone();
                loom::thread::spawn(move || inbox.drain().map(|n| n.value).collect::<Vec<_>>())
            };
            let pusher = {
                let inbox = inbox.clone();
                loom::thread::spawn(move || inbox.push(node(1)))
            };
            let mut got: Vec<usize> = inbox.drain().map(|n| n.value).collect();
            got.extend(thief.join().unwrap());
            pusher.join().unwrap();
            got.extend(inbox.drain().map(|n| n.value));
            got.sort_unstable();
            assert_eq!(got, vec![0, 1]);
        });
    }

    #[cfg(loom)]
    #[test]
    fn loom_two_pushers_one_drainer() {
        loom::model(|| {
            let inbox = loom::sync::Arc::new(Inbox::new());
            let pushers: Vec<_> = (0..2)
                .map(|i| {
                    let inbox = inbox.clone();
                    loom::thread::spawn(move || inbox.push(node(i)))
                })
                .collect();
            let mut got: Vec<usize> = inbox.drain().map(|n| n.value).collect();
            for p in pushers {
                p.join().unwrap();
            }
            got.extend(inbox.drain().map(|n| n.value));
            got.sort_unstable();
            assert_eq!(got, vec![0, 1]);
        });
    }
}

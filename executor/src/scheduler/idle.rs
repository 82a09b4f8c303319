//! Which workers are searching for work and which sleep.
//!
//! Two counters, after tokio's `idle` state:
//! * `searching`: workers out of local work, looking to steal. At most about
//!   half the workers search at once; the rest go straight to sleep, so a
//!   burst of idleness does not turn into every worker hammering every queue.
//! * `sleeping`: workers that announced they park.
//!
//! When a worker pushes stealable work and nobody is searching but someone
//! sleeps, it wakes one sleeper, which starts out searching (the waker
//! counts it in `searching` first, so a burst of spawns wakes one worker,
//! not all of them).

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use crate::loom::{AtomicUsize, CachePadded};

pub(crate) struct Idle {
    searching: CachePadded<AtomicUsize>,
    sleeping: CachePadded<AtomicUsize>,
    workers: usize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            searching: CachePadded(AtomicUsize::new(0)),
            sleeping: CachePadded(AtomicUsize::new(0)),
            workers,
        }
    }

    /// Tries to become a searcher; refused when half the workers search.
    pub(crate) fn start_searching(&self) -> bool {
        let searching = self.searching.load(SeqCst);
        if 2 * searching >= self.workers.max(2) {
            return false;
        }
        self.searching.fetch_add(1, SeqCst);
        true
    }

    /// Stops searching. Returns `true` if this was the last searcher.
    pub(crate) fn stop_searching(&self) -> bool {
        self.searching.fetch_sub(1, SeqCst) == 1
    }

    /// Claims the right to wake a sleeper for new stealable work: only when
    /// nobody searches and someone sleeps. The claim counts the future
    /// searcher; give it back with [`unclaim`](Idle::unclaim) if nobody could
    /// be woken.
    pub(crate) fn claim_wakeup(&self) -> bool {
        // Orders the caller's publish of work (a plain Release store into a
        // ring) before these loads; pairs with the fence in
        // `Parker::prepare`. See `scheduler::park`.
        crate::loom::fence(SeqCst);
        if self.searching.load(SeqCst) != 0 || self.sleeping.load(SeqCst) == 0 {
            return false;
        }
        self.searching
            .compare_exchange(0, 1, SeqCst, SeqCst)
            .is_ok()
    }

    /// A fence-free look at what [`claim_wakeup`](Idle::claim_wakeup)
    /// checks: `false` when nobody sleeps or someone searches, as far as
    /// this thread can tell now. A hint only: it may miss a sleeper that has
    /// just announced itself.
    #[inline]
    pub(crate) fn may_want_wakeup(&self) -> bool {
        // Relaxed: a stale answer costs a missed or a spurious wake-up of a
        // sibling, never lost work (the caller runs the work itself).
        self.searching.load(Relaxed) == 0 && self.sleeping.load(Relaxed) != 0
    }

    /// Gives back a claim from [`claim_wakeup`](Idle::claim_wakeup).
    pub(crate) fn unclaim(&self) {
        self.searching.fetch_sub(1, SeqCst);
    }

    pub(crate) fn inc_sleeping(&self) {
        self.sleeping.fetch_add(1, SeqCst);
    }

    pub(crate) fn dec_sleeping(&self) {
        self.sleeping.fetch_sub(1, SeqCst);
    }

    /// Workers searching now (a snapshot).
    pub(crate) fn searching(&self) -> usize {
        self.searching.load(SeqCst)
    }
}

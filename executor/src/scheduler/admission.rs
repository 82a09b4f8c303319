//! Bounded admission: how many tasks a runtime holds, the limit
//! `try_spawn` enforces on it, and the high-water mark and cancellations
//! the metrics report.
//!
//! # What is counted
//!
//! A task is *queued* from its spawn until it finishes: while it waits to
//! be polled the first time, while it is ready in a run queue, an inbox,
//! a LIFO or urgent slot, while it runs, and while it waits on an event
//! (IO, a timer, a channel). Every one of those tasks holds its allocation
//! (header, future, output), so this is the count that bounds the memory
//! a producer faster than its consumers can pile up; a count of ready
//! tasks alone would let the tasks that wait on something grow without
//! bound. It is the count of a bounded channel, where a message is queued
//! until it is received: here until the task is done.
//!
//! Blocking tasks (`spawn_blocking`) and the tasks of a `LocalSet` are not
//! counted: they are not this scheduler's. A task dropped by the runtime's
//! shutdown is not subtracted (the metrics read 0 once the runtime is shut
//! down, as `num_alive_tasks` does).
//!
//! # Admission
//!
//! [`try_admit`](Admission::try_admit) takes a slot only while fewer than
//! the limit are queued, so with no other spawns the count never passes
//! the limit. [`admit`](Admission::admit), the path of plain `spawn`,
//! always takes one (tokio's `spawn` never fails): past the limit the
//! count goes over it, and `try_admit` refuses until enough tasks finish.
//! The limit does not look at priorities: memory does not either, and a
//! task that must exist whatever the load is spawned with plain `spawn`.
//!
//! # Cost
//!
//! One shared counter, on its own cache line with the high-water mark and
//! the cancellations: a read-modify-write when a task is spawned and one
//! when it finishes. The high-water mark is written only when the count
//! passes it, which a steady load does not.

use std::num::NonZeroUsize;

use crate::loom::{AtomicU64, AtomicUsize, CachePadded};

// Every access below is `Relaxed`. The counters guard no other data: a
// task's memory is published by the task machinery, not by these counts.
// What admission needs is that no two spawns take the last slot, which the
// atomicity of the read-modify-writes gives (each reads the latest value in
// the counter's modification order), whatever the ordering. A spawn after
// a `JoinHandle` returned sees the slot that task freed: the release is
// sequenced before the task's output is published, which the handle
// acquires, and a load that happens after a write reads it or a later
// value (coherence).
use std::sync::atomic::Ordering::Relaxed;

/// The queued-task count and its limit. See the module docs.
pub(crate) struct Admission {
    /// `usize::MAX` when the runtime has no limit.
    limit: usize,
    counts: CachePadded<Counts>,
}

#[derive(Default)]
struct Counts {
    /// Tasks spawned and not finished.
    queued: AtomicUsize,
    /// The largest `queued` reached so far.
    high_water: AtomicUsize,
    /// Tasks that finished cancelled by an abort.
    cancelled: AtomicU64,
}

impl Admission {
    /// A count that admits at most `limit` tasks through `try_admit`
    /// (`None`: no limit).
    pub(crate) fn new(limit: Option<NonZeroUsize>) -> Admission {
        Admission {
            limit: limit.map_or(usize::MAX, NonZeroUsize::get),
            counts: CachePadded(Counts::default()),
        }
    }

    /// The limit, if the runtime has one.
    pub(crate) fn limit(&self) -> Option<NonZeroUsize> {
        NonZeroUsize::new(self.limit).filter(|_| self.limit != usize::MAX)
    }

    /// Takes a slot if fewer than the limit are queued; `false` if the
    /// runtime is full.
    #[inline]
    pub(crate) fn try_admit(&self) -> bool {
        if self.limit == usize::MAX {
            self.admit();
            return true;
        }
        let queued = &self.counts.queued;
        let mut now = queued.load(Relaxed);
        loop {
            if now >= self.limit {
                return false;
            }
            match queued.compare_exchange_weak(now, now + 1, Relaxed, Relaxed) {
                Ok(_) => {
                    self.raise_high_water(now + 1);
                    return true;
                }
                Err(actual) => now = actual,
            }
        }
    }

    /// Takes a slot, past the limit if need be (plain `spawn`).
    #[inline]
    pub(crate) fn admit(&self) {
        let before = self.counts.queued.fetch_add(1, Relaxed);
        self.raise_high_water(before + 1);
    }

    /// Gives back the slot of a task that finished, or that was refused
    /// after it was admitted.
    #[inline]
    pub(crate) fn release(&self) {
        self.counts.queued.fetch_sub(1, Relaxed);
    }

    #[inline]
    fn raise_high_water(&self, queued: usize) {
        let high_water = &self.counts.high_water;
        // A plain load first: the mark is written only when it rises.
        if queued > high_water.load(Relaxed) {
            high_water.fetch_max(queued, Relaxed);
        }
    }

    /// Counts a task that finished cancelled by an abort.
    pub(crate) fn count_cancelled(&self) {
        self.counts.cancelled.fetch_add(1, Relaxed);
    }

    /// Tasks queued now (see the module docs for what that counts).
    pub(crate) fn queued(&self) -> usize {
        self.counts.queued.load(Relaxed)
    }

    /// The most tasks queued at once so far.
    pub(crate) fn high_water_mark(&self) -> usize {
        self.counts.high_water.load(Relaxed)
    }

    /// Tasks that finished cancelled by an abort so far.
    pub(crate) fn cancelled(&self) -> u64 {
        self.counts.cancelled.load(Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::num::NonZeroUsize;

    use super::Admission;

    #[test]
    fn try_admit_stops_at_the_limit_and_admits_again_after_a_release() {
        let admission = Admission::new(NonZeroUsize::new(2));
        assert_eq!(admission.limit(), NonZeroUsize::new(2));
        assert!(admission.try_admit());
        assert!(admission.try_admit());
        assert!(!admission.try_admit());
        assert_eq!((admission.queued(), admission.high_water_mark()), (2, 2));
        admission.release();
        assert!(admission.try_admit());
        assert!(!admission.try_admit());
    }

    #[test]
    fn admit_passes_the_limit_and_try_admit_waits_until_below_it() {
        let admission = Admission::new(NonZeroUsize::new(1));
        admission.admit();
        admission.admit();
        assert_eq!((admission.queued(), admission.high_water_mark()), (2, 2));
        admission.release();
        assert!(!admission.try_admit(), "still at the limit");
        admission.release();
        assert!(admission.try_admit());
    }

    #[test]
    fn without_a_limit_every_spawn_is_admitted_and_counted() {
        let admission = Admission::new(None);
        assert_eq!(admission.limit(), None);
        for _ in 0..1000 {
            assert!(admission.try_admit());
        }
        admission.release();
        assert_eq!(
            (admission.queued(), admission.high_water_mark()),
            (999, 1000)
        );
    }
}

#[cfg(loom)]
mod loom_tests {
    use std::num::NonZeroUsize;

    use loom::sync::Arc;
    use loom::thread;

    use super::Admission;

    /// Two spawners race for the last slot while a task finishes: each
    /// interleaving admits exactly as many as the slots free, and the
    /// count never passes the limit.
    #[test]
    fn racing_try_admits_never_pass_the_limit() {
        loom::model(|| {
            let admission = Arc::new(Admission::new(NonZeroUsize::new(2)));
            assert!(admission.try_admit());
            let spawners: Vec<_> = (0..2)
                .map(|_| {
                    let admission = admission.clone();
                    thread::spawn(move || admission.try_admit())
                })
                .collect();
            let admitted = spawners
                .into_iter()
                .map(|s| usize::from(s.join().unwrap()))
                .sum::<usize>();
            assert_eq!(admitted, 1, "one slot was free");
            assert_eq!(admission.queued(), 2);
            assert_eq!(admission.high_water_mark(), 2);
        });
    }

    /// A release racing a full try_admit: the spawn either sees the slot
    /// freed and takes it, or sees the runtime full; never both, never
    /// past the limit.
    #[test]
    fn a_release_racing_a_try_admit_keeps_the_count_exact() {
        loom::model(|| {
            let admission = Arc::new(Admission::new(NonZeroUsize::new(1)));
            assert!(admission.try_admit());
            let finisher = {
                let admission = admission.clone();
                thread::spawn(move || admission.release())
            };
            let admitted = admission.try_admit();
            finisher.join().unwrap();
            assert_eq!(admission.queued(), usize::from(admitted));
            assert_eq!(admission.high_water_mark(), 1);
        });
    }
}

//! Bounded admission: how many tasks a runtime holds, the limit
//! `try_spawn` enforces on it, and its high-water mark that the metrics
//! report.
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
//! With a limit: one shared counter, on its own cache line with the
//! high-water mark: a read-modify-write when a task is spawned and one when
//! it finishes. The high-water mark is written only when the count passes
//! it, which a steady load does not.
//!
//! Without a limit nothing here is written on a spawn or a finish: the
//! count is the spawned less the exited tasks of the per-worker lines of
//! [`TaskCounts`], which every spawn and finish counts anyway (a worker on
//! its own line, the threads outside the workers on one shared line), summed
//! when the metric is read. The sum is exact when no spawn or finish races
//! the read, and off by at most the ones in flight otherwise.
//!
//! # The high-water mark
//!
//! With a limit it is exact: every admission raises it to the count it
//! made. Without a limit no spawn compares the count against it, so it is
//! *sampled*: each read of [`queued`](Admission::queued) or
//! [`high_water_mark`](Admission::high_water_mark) raises it to the count
//! that read sums. It is then a lower bound of the true peak (a peak
//! between two reads is not seen) and at least every count a read has
//! returned before it.
//!
//! Cancellations are counted on the per-worker lines too (see
//! [`TaskCounts::cancelled`]), limit or not: no admission reads them.

use std::num::NonZeroUsize;

use super::TaskCounts;
use crate::loom::{AtomicUsize, CachePadded};

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
    /// The largest `queued` reached so far (without a limit: the largest
    /// sum sampled by a read, see the module docs).
    high_water: AtomicUsize,
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

    /// Whether the runtime has a limit, and so keeps the shared count.
    #[inline]
    fn is_limited(&self) -> bool {
        self.limit != usize::MAX
    }

    /// Takes a slot if fewer than the limit are queued; `false` if the
    /// runtime is full. Always `true` without a limit (and nothing is
    /// written: the spawn is counted by [`TaskCounts`]).
    #[inline]
    pub(crate) fn try_admit(&self) -> bool {
        if !self.is_limited() {
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

    /// Takes a slot, past the limit if need be (plain `spawn`). Nothing to
    /// do without a limit.
    #[inline]
    pub(crate) fn admit(&self) {
        if !self.is_limited() {
            return;
        }
        let before = self.counts.queued.fetch_add(1, Relaxed);
        self.raise_high_water(before + 1);
    }

    /// Gives back the slot of a task that finished, or that was refused
    /// after it was admitted. Nothing to do without a limit.
    #[inline]
    pub(crate) fn release(&self) {
        if !self.is_limited() {
            return;
        }
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

    /// Tasks queued now (see the module docs for what that counts):
    /// the shared count with a limit, the sum of `counts` without one.
    pub(crate) fn queued(&self, counts: &TaskCounts) -> usize {
        if self.is_limited() {
            return self.counts.queued.load(Relaxed);
        }
        let queued = usize::try_from(counts.alive()).unwrap_or(usize::MAX);
        self.raise_high_water(queued);
        queued
    }

    /// The most tasks queued at once so far: exact with a limit, the most
    /// a read has counted without one (see the module docs).
    pub(crate) fn high_water_mark(&self, counts: &TaskCounts) -> usize {
        if !self.is_limited() {
            self.queued(counts);
        }
        self.counts.high_water.load(Relaxed)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::num::NonZeroUsize;

    use super::{Admission, Relaxed};
    use crate::scheduler::TaskCounts;

    #[test]
    fn try_admit_stops_at_the_limit_and_admits_again_after_a_release() {
        let counts = TaskCounts::new(1);
        let admission = Admission::new(NonZeroUsize::new(2));
        assert_eq!(admission.limit(), NonZeroUsize::new(2));
        assert!(admission.try_admit());
        assert!(admission.try_admit());
        assert!(!admission.try_admit());
        assert_eq!(
            (
                admission.queued(&counts),
                admission.high_water_mark(&counts)
            ),
            (2, 2)
        );
        admission.release();
        assert!(admission.try_admit());
        assert!(!admission.try_admit());
    }

    #[test]
    fn admit_passes_the_limit_and_try_admit_waits_until_below_it() {
        let counts = TaskCounts::new(1);
        let admission = Admission::new(NonZeroUsize::new(1));
        admission.admit();
        admission.admit();
        assert_eq!(
            (
                admission.queued(&counts),
                admission.high_water_mark(&counts)
            ),
            (2, 2)
        );
        admission.release();
        assert!(!admission.try_admit(), "still at the limit");
        admission.release();
        assert!(admission.try_admit());
    }

    #[test]
    fn without_a_limit_the_shared_count_is_untouched_and_the_lines_are_summed() {
        let counts = TaskCounts::new(2);
        let admission = Admission::new(None);
        assert_eq!(admission.limit(), None);
        for spawner in [Some(0), Some(1), None].into_iter().cycle().take(999) {
            assert!(admission.try_admit());
            admission.admit();
            counts.spawned(spawner);
        }
        assert_eq!(admission.counts.queued.load(Relaxed), 0, "no shared write");
        assert_eq!(admission.counts.high_water.load(Relaxed), 0, "nor a mark");
        // Tasks finish on other lines than the ones they were spawned on.
        for _ in 0..99 {
            admission.release();
            counts.exited(Some(1));
        }
        assert_eq!(admission.queued(&counts), 900);
        assert_eq!(admission.counts.queued.load(Relaxed), 0);
        for _ in 0..900 {
            counts.exited(None);
        }
        // Sampled: the mark is the most a read counted, not the peak no
        // read saw (before the first exits).
        assert_eq!(
            (
                admission.queued(&counts),
                admission.high_water_mark(&counts)
            ),
            (0, 900)
        );
    }
}

#[cfg(loom)]
mod loom_tests {
    use std::num::NonZeroUsize;

    use loom::sync::Arc;
    use loom::thread;

    use super::Admission;
    use crate::scheduler::TaskCounts;

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
            let counts = TaskCounts::new(1);
            assert_eq!(admission.queued(&counts), 2);
            assert_eq!(admission.high_water_mark(&counts), 2);
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
            let counts = TaskCounts::new(1);
            assert_eq!(admission.queued(&counts), usize::from(admitted));
            assert_eq!(admission.high_water_mark(&counts), 1);
        });
    }
}

//! Rescues: a busy worker, or one about to sleep, takes the work of a
//! sibling that makes no progress.
//!
//! A worker's queued work normally waits for that worker: affinity. But a
//! worker's thread can stop for long (descheduled by the kernel, or stuck
//! in one poll that computes or blocks), and then its work would wait as
//! long. Siblings watch each worker's [`Progress`](super::Progress) (its
//! count of completed polls) and take its work when two readings, some
//! time apart, are equal:
//!
//! * a busy worker, every `DRIVER_INTERVAL` ticks: the inbox, the LIFO
//!   slot and half of each ring of a sibling that finished no poll since
//!   the last look (`rescue_stranded`);
//! * a worker ending its busy wait or a short park: the LIFO slot of every
//!   sibling that finished no poll during the wait (`rescue_lifo_slots`);
//! * a worker between polls asked to run urgent work that waits in a busy
//!   sibling's inbox: that inbox (`take_urgent_from_siblings`).
//!
//! None of these takes a worker's overflow or deadline heaps; the watchdog
//! (`watchdog`, with `long_poll_threshold` set) moves everything, those
//! included, off a worker in a long poll.

use std::sync::atomic::Ordering::Relaxed;

use super::run_state::URGENT_HERE;
use super::{Core, WorkerContext};
use crate::task::Priority;

impl WorkerContext {
    /// Takes the work of a sibling that is not getting anywhere: between
    /// two looks (`DRIVER_INTERVAL` ticks apart) it finished no poll, and
    /// work waits there. Its thread is descheduled (more runnable threads
    /// than cores: a kernel time slice is milliseconds) or stuck in one
    /// long poll, and the work queued on it would wait as long; affinity is
    /// worth less than that. Its inbox and LIFO slot are taken whole, and
    /// half of each of its rings, as an idle worker's steal would: a busy
    /// worker never steals otherwise, and the workers of a busy server stay
    /// busy (their IO wakes queue locally), so the queue of a descheduled
    /// worker would wait for its thread.
    // Off the tick's common path: a call keeps its registers out of
    // the tick's frame.
    #[inline(never)]
    pub(super) fn rescue_stranded(&self, core: &mut Core) {
        let workers = &self.shared.workers;
        if workers.len() == 1 {
            return;
        }
        core.sibling_seen.resize(workers.len(), u64::MAX);
        let me = self.remote();
        for (i, sibling) in workers.iter().enumerate() {
            if i == self.index {
                continue;
            }
            // The count is read first: a sibling making progress (the
            // usual case) costs one cache line, not a look at its queues.
            let progress = sibling.progress.get();
            let seen = std::mem::replace(&mut core.sibling_seen[i], progress);
            if progress != seen {
                continue;
            }
            if sibling.has_stealable_work() || sibling.lifo.is_occupied() {
                core.take_incoming(sibling, me);
                if let Some(task) = sibling.lifo.take() {
                    core.push_back(task, me);
                }
                for (level, ring) in Priority::ALL.into_iter().zip(&sibling.rings) {
                    if let Some(task) = core.steal_half(ring, level) {
                        core.push_back(task, me);
                    }
                }
                tracing::trace!(
                    worker = self.index,
                    sibling = i,
                    "took a stalled sibling's inbox, LIFO slot and half its queue"
                );
            }
        }
    }

    /// Takes the inboxes of siblings that were asked to preempt their task
    /// for higher-priority work and have not drained yet
    /// ([`URGENT_AT_SIBLING`]): the first worker between polls runs it.
    // Off the tick's common path: a call keeps its registers out of
    // the tick's frame.
    #[inline(never)]
    pub(super) fn take_urgent_from_siblings(&self, core: &mut Core) {
        let me = self.remote();
        for (i, sibling) in self.shared.workers.iter().enumerate() {
            if i != self.index
                && sibling.run.urgent.load(Relaxed) & URGENT_HERE != 0
                && sibling.has_incoming()
            {
                core.take_incoming(sibling, me);
                tracing::trace!(
                    worker = self.index,
                    sibling = i,
                    "took urgent work from a busy sibling's inbox"
                );
            }
        }
    }

    /// Notes every worker's progress, for `rescue_lifo_slots`.
    pub(super) fn note_progress(&self, core: &mut Core) {
        core.spin_seen.clear();
        let workers = self.shared.workers.iter();
        core.spin_seen.extend(workers.map(|w| w.progress.get()));
    }

    /// At the end of a busy wait (or of a short park in the driver, which
    /// does not busy-wait): takes the LIFO slot of every sibling that
    /// polled no task during the wait. Its task would otherwise wait for
    /// the end of that sibling's long poll, and this worker is about to
    /// sleep. (Only after a whole busy wait: a sibling that is merely busy
    /// takes its slot within microseconds.) Returns `true` if it took any.
    pub(super) fn rescue_lifo_slots(&self) -> bool {
        let remote = self.remote();
        let mut core = self.core.borrow_mut();
        let mut found = false;
        for (i, sibling) in self.shared.workers.iter().enumerate() {
            // The slot's swap synchronizes the task; progress is a hint.
            let stuck = i != self.index && sibling.progress.get() == core.spin_seen[i];
            if stuck && let Some(task) = sibling.lifo.take() {
                core.push_back(task, remote);
                tracing::trace!(
                    worker = self.index,
                    sibling = i,
                    "took a stalled sibling's LIFO slot"
                );
                found = true;
            }
        }
        found
    }
}

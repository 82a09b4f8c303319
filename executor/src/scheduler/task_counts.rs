//! How many tasks a runtime spawned, how many of them exited and how many
//! of those were cancelled: the counts behind `num_alive_tasks`,
//! `spawned_tasks_count`, `cancelled_tasks_count`, and `queued_tasks` on a
//! runtime without a limit (see `admission`).
//!
//! They are kept apart from the registry of tasks (which holds only the
//! tasks that wait on something, see [`Registry`](super::Registry)), in one
//! cache line per worker and one for every thread outside the workers: a
//! spawn counts on the spawning worker's line, an exit on the line of the
//! worker the task ended on. So a task that runs where it was spawned
//! touches one line, which no other thread writes, and a spawn from outside
//! never touches a worker's line.
//!
//! Every count is a `Relaxed` read-modify-write (a thread that is not a
//! worker may count on a worker's line: a task run by `block_on` on a
//! current-thread runtime ends on worker 0's). A reader sums the lines: the
//! sum is exact once the counted spawns and exits happened before the read
//! (a `JoinHandle` that returned has its task's exit counted: the exit is
//! counted before the output is published), and may be off by the spawns and
//! exits in flight otherwise.

use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::sync::atomic::{AtomicU64, fence};

use crate::loom::CachePadded;

/// Spawned and exited tasks, per worker. See the module docs.
pub(crate) struct TaskCounts {
    /// One per worker, then one for the threads outside the workers.
    lines: Box<[CachePadded<Line>]>,
}

#[derive(Default)]
struct Line {
    spawned: AtomicU64,
    exited: AtomicU64,
    /// Of the exits, those of tasks cancelled by an abort.
    cancelled: AtomicU64,
}

impl TaskCounts {
    pub(crate) fn new(workers: usize) -> TaskCounts {
        TaskCounts {
            lines: (0..=workers)
                .map(|_| CachePadded(Line::default()))
                .collect(),
        }
    }

    /// The line of `worker`, or the outside line for `None`.
    #[inline]
    fn line(&self, worker: Option<usize>) -> &Line {
        let outside = self.lines.len() - 1;
        &self.lines[worker.map_or(outside, |w| w.min(outside))]
    }

    /// Counts a task spawned on `worker` (`None`: from outside the workers).
    #[inline]
    pub(crate) fn spawned(&self, worker: Option<usize>) {
        self.line(worker).spawned.fetch_add(1, Relaxed);
    }

    /// Counts a task that exited on `worker` (`None`: outside the workers).
    #[inline]
    pub(crate) fn exited(&self, worker: Option<usize>) {
        self.line(worker).exited.fetch_add(1, Relaxed);
    }

    /// Counts a task that exited on `worker` cancelled by an abort (as well
    /// as [`exited`](Self::exited)).
    #[inline]
    pub(crate) fn cancelled(&self, worker: Option<usize>) {
        self.line(worker).cancelled.fetch_add(1, Relaxed);
    }

    /// Tasks that exited cancelled by an abort so far.
    pub(crate) fn total_cancelled(&self) -> u64 {
        self.lines.iter().map(|l| l.cancelled.load(Relaxed)).sum()
    }

    /// Tasks spawned so far.
    pub(crate) fn total_spawned(&self) -> u64 {
        self.lines.iter().map(|l| l.spawned.load(Relaxed)).sum()
    }

    /// Tasks spawned that have not exited: at most the number alive when
    /// the spawns had been read, never more. The spawns are read first and
    /// the exits after them, so every task counted was spawned before the
    /// first pass ended and had not exited when the second began; an exit
    /// whose spawn the first pass missed only lowers the result (hence the
    /// saturation). Read the other way round, a reader descheduled between
    /// the passes would count every task spawned meanwhile, including the
    /// ones that exited before it resumed.
    pub(crate) fn alive(&self) -> u64 {
        let spawned = self.total_spawned();
        // Keeps the exit loads after the spawn loads.
        fence(Acquire);
        let exited: u64 = self.lines.iter().map(|l| l.exited.load(Relaxed)).sum();
        spawned.saturating_sub(exited)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::TaskCounts;

    #[test]
    fn alive_is_spawned_less_exited_across_lines() {
        let counts = TaskCounts::new(2);
        counts.spawned(Some(0));
        counts.spawned(Some(1));
        counts.spawned(None);
        assert_eq!((counts.total_spawned(), counts.alive()), (3, 3));
        // Tasks end on other workers than the one they were spawned on.
        counts.exited(Some(1));
        counts.exited(Some(1));
        assert_eq!((counts.total_spawned(), counts.alive()), (3, 1));
        counts.exited(None);
        assert_eq!(counts.alive(), 0);
    }

    #[test]
    fn an_exit_seen_before_its_spawn_does_not_wrap() {
        // A reader may see a count of exits its sum of spawns lags behind.
        let counts = TaskCounts::new(1);
        counts.exited(Some(0));
        assert_eq!(counts.alive(), 0);
    }
}

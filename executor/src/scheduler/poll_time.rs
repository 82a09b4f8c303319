//! Per-task poll time, when the runtime was built with it
//! (`Builder::enable_task_poll_time`).
//!
//! A worker reads the clock before and after each poll it runs
//! (`WorkerContext::run_task`) and adds the difference to the task's entry
//! here. The entries live beside the tasks, not in their headers: the
//! header is sized so that every parked task fits a small allocation, and
//! a runtime without the option pays nothing for it but the one branch
//! per poll that asks whether it is on.
//!
//! # An entry's life
//!
//! A task gets an entry at the end of its first timed poll that did not
//! finish it, and loses it when its future is gone
//! (`Scheduler::task_finished`), before its output is published: a
//! `JoinHandle` that sees the output finds no entry. A poll that finishes
//! its task adds nothing after it returns: the task may be freed by then
//! and its id given to another task, which would inherit the time. The
//! finishing poll tells its worker so (`WorkerContext::polled_task_finished`).
//!
//! # Locking
//!
//! The table is sharded by id, a shard per worker and a few more, so a
//! poll's update locks a mutex that is rarely contended: two workers meet
//! on a shard only when the tasks they run hash to it at the same time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::loom::CachePadded;
use crate::task::Id;

/// Nanoseconds spent polling each task of one shard, by id.
type Shard = Mutex<HashMap<Id, u64>>;

/// The poll time of every live task that was polled with the option on.
pub(crate) struct PollTimes {
    shards: Box<[CachePadded<Shard>]>,
}

impl PollTimes {
    /// A table for a runtime of `workers` workers.
    pub(crate) fn new(workers: usize) -> PollTimes {
        let shards = (workers * 2).next_power_of_two();
        PollTimes {
            shards: (0..shards)
                .map(|_| CachePadded(Mutex::new(HashMap::new())))
                .collect(),
        }
    }

    fn shard(&self, id: Id) -> std::sync::MutexGuard<'_, HashMap<Id, u64>> {
        // Ids are addresses over 8: consecutive allocations differ in the
        // low bits, which spread them over the shards.
        let index = id.as_u64() as usize & (self.shards.len() - 1);
        // No user code runs under a shard's lock, so it is never poisoned
        // by a panic that matters; a poisoned map is still consistent.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Adds one poll's `elapsed` time to task `id`.
    pub(crate) fn add(&self, id: Id, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let mut shard = self.shard(id);
        let total = shard.entry(id).or_insert(0);
        *total = total.saturating_add(ns);
    }

    /// Forgets task `id`: its future is gone.
    pub(crate) fn remove(&self, id: Id) {
        self.shard(id).remove(&id);
    }

    /// The time spent polling task `id` so far, if it is live and a
    /// completed poll of it was timed.
    pub(crate) fn get(&self, id: Id) -> Option<Duration> {
        self.shard(id).get(&id).copied().map(Duration::from_nanos)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::num::NonZeroU64;

    fn id(n: u64) -> Id {
        Id(NonZeroU64::new(n).unwrap())
    }

    #[test]
    fn polls_add_up_per_task_until_the_task_is_removed() {
        let times = PollTimes::new(3);
        assert_eq!(times.get(id(5)), None);
        times.add(id(5), Duration::from_nanos(40));
        times.add(id(6), Duration::from_nanos(7));
        times.add(id(5), Duration::from_nanos(2));
        assert_eq!(times.get(id(5)), Some(Duration::from_nanos(42)));
        assert_eq!(times.get(id(6)), Some(Duration::from_nanos(7)));
        times.remove(id(5));
        assert_eq!(times.get(id(5)), None);
        assert_eq!(times.get(id(6)), Some(Duration::from_nanos(7)));
    }
}

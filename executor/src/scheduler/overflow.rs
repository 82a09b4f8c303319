//! A worker's overflow: the tasks of each level that did not fit in its
//! ring, behind the ring in FIFO order.
//!
//! The owner pushes here only when a ring is full and pops only when the
//! ring ran dry, so the lock is off the common path; the owner reads a
//! level's length (one `Relaxed` load) before it takes the lock, and an
//! empty level costs no lock at all. The overflow is shared (the worker's
//! `Core` and `Remote` hold the same one) so that the work of a worker
//! stuck in a long poll can be moved elsewhere ([`take_all`]), not left
//! behind the poll: the owner, back from it, finds the tasks gone.
//!
//! [`take_all`]: Overflow::take_all

use std::collections::VecDeque;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Mutex, MutexGuard};

use crate::queue::Local;
use crate::task::Priority;
use crate::task::header::Task;

/// Capacity an empty overflow level keeps (tasks); beyond it, the buffer
/// is freed when the level drains.
const OVERFLOW_KEPT: usize = 1024;

/// The overflow of one worker, per priority level.
#[derive(Default)]
pub(crate) struct Overflow {
    levels: [Mutex<VecDeque<Task>>; 4],
    /// Each level's length, stored under its lock: only the owner makes a
    /// level longer, so the owner's own `0` is exact until its next push.
    lens: [AtomicUsize; 4],
}

impl Overflow {
    fn lock(&self, level: Priority) -> MutexGuard<'_, VecDeque<Task>> {
        // No user code runs under the lock (a task's drop runs after it),
        // so poisoning can be ignored.
        self.levels[level.index()]
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Tasks at `level` (a snapshot; exact for the owner when `0`).
    #[inline]
    pub(crate) fn len(&self, level: Priority) -> usize {
        // Relaxed: see `lens`.
        self.lens[level.index()].load(Relaxed)
    }

    /// `true` if no level holds a task (a snapshot).
    pub(crate) fn is_empty(&self) -> bool {
        Priority::ALL.into_iter().all(|level| self.len(level) == 0)
    }

    /// Appends `task` at `level`. Owner only.
    pub(crate) fn push_back(&self, level: Priority, task: Task) {
        let mut queue = self.lock(level);
        queue.push_back(task);
        self.lens[level.index()].store(queue.len(), Relaxed);
    }

    /// Pops the front of `level` and moves what follows into `ring` while
    /// it fits (the ring ran dry: it holds the older tasks again). Owner
    /// only.
    pub(crate) fn refill(&self, level: Priority, ring: &mut Local<Task>) -> Option<Task> {
        if self.len(level) == 0 {
            return None;
        }
        let mut queue = self.lock(level);
        let first = queue.pop_front();
        while let Some(task) = queue.pop_front() {
            if let Err(task) = ring.push_back(task) {
                queue.push_front(task);
                break;
            }
        }
        if queue.is_empty() && queue.capacity() > OVERFLOW_KEPT {
            // A burst is over: give its buffer back instead of keeping it
            // for the worker's life.
            *queue = VecDeque::new();
        }
        self.lens[level.index()].store(queue.len(), Relaxed);
        first
    }

    /// Takes every task, highest level first. Any thread.
    pub(crate) fn take_all(&self) -> Vec<Task> {
        let mut tasks = Vec::new();
        for level in Priority::ALL {
            if self.len(level) == 0 {
                continue;
            }
            let mut queue = self.lock(level);
            tasks.extend(queue.drain(..));
            self.lens[level.index()].store(0, Relaxed);
        }
        tasks
    }
}

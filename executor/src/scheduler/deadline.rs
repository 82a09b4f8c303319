//! Deadlines: earliest-deadline-first order within a priority level.
//!
//! A task may carry a deadline (`task::Builder::deadline`, or
//! `task::set_deadline` from the task itself). The task's header has one
//! flag bit for it (`Header::has_deadline`); the deadline itself, and the
//! task's count of missed deadlines, live in the runtime's
//! [`DeadlineTable`], keyed by task id, so that a task without a deadline
//! carries nothing more than that bit (the header stays 40 bytes).
//!
//! # Where a deadline task waits
//!
//! A worker keeps, per priority level, a heap of its ready deadline tasks
//! (in [`DeadlineHeaps`]), ordered by deadline, then by arrival. `Core::push_back`
//! sends a task there when its flag is set, whichever way it arrived: spawn,
//! a wake on this worker, the drain of the inbox or urgent slot (a remote
//! wake), a steal from a sibling's inbox. A deadline task never takes the
//! LIFO slot: the slot means "runs next", which would put it ahead of an
//! earlier deadline. Within a level, the pick takes the heap's earliest
//! task first, then the LIFO slot, then the ring and overflow in FIFO order:
//! a task without a deadline runs after every ready deadline task of its
//! level, as if its deadline were infinitely far. That is the EDF rule
//! extended to tasks that state no deadline: they have nothing to miss, so
//! they never delay a task that has. The levels themselves keep their
//! order (the priority rule in `pick`): a deadline orders a task among its
//! level, it does not lift it above a higher one.
//!
//! A steady stream of deadline tasks at one level delays the level's other
//! tasks until the stream pauses, on that worker; siblings still steal
//! those (they sit in the ring).
//!
//! # Siblings do not steal deadline tasks; the watchdog takes them
//!
//! The heaps are the worker's own, like its overflow: thieves never look at
//! them. A sibling takes a deadline task only where any task is stealable,
//! before it reached a heap: from the inbox or urgent slot of a worker stuck
//! in a long poll. Deadline tasks are meant to be a minority that the order
//! of one queue matters to; the work that saturates workers, and needs
//! spreading, is the rest. A task woken from elsewhere goes to the inbox of
//! the worker it last ran on (as any task), so a periodic deadline task
//! stays on one worker and its heap.
//!
//! The one exception is the long-poll watchdog (`watchdog`): a worker stuck
//! in one poll would hold its deadline tasks for as long, so the watchdog
//! moves them, with the rest of its queues, to a sibling's inbox, where they
//! reach that sibling's heaps. For that the heaps sit behind one lock
//! ([`DeadlineHeaps`], in the worker's `Remote`). The owner keeps, in its
//! `Core`, the set of levels whose heap may hold a task: only the owner
//! adds tasks, and it inserts the level each time, so a level outside the
//! set holds none and the pick takes no lock for it. A level in the set may
//! have been emptied by the watchdog: the pick then finds nothing under the
//! lock, drops the level from the set, and goes on with the level's other
//! queues. Only deadline tasks ever take the lock: on their push and pop,
//! and at a rescue.

//! # Misses
//!
//! A deadline is *missed* when the first poll of the task after the
//! deadline was set starts after it. One clock read per deadline, at the
//! moment the scheduler's choice shows: a task that starts in time and then
//! awaits or computes past its deadline was late by its own doing, which
//! the order of a run queue could not have changed. Counted per worker
//! (`RuntimeMetrics::worker_deadline_misses`) and per task
//! (`task::deadline_misses`). `task::set_deadline` sets a new deadline and
//! arms the check again: a periodic task sets its next deadline before it
//! sleeps, and its next first poll is checked against it.
//!
//! # Cost
//!
//! Tasks without a deadline pay a branch on the header flag where a task is
//! queued and where it is polled, and the pick a test of one bit. A deadline
//! task pays a lock of the table each time it is queued and polled (one lock
//! for the runtime, held for a hash lookup), a lock of its worker's heaps
//! when it is pushed and popped (taken by no other thread but the watchdog),
//! and the clock read above.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use super::Shared;
use crate::task::Priority;
use crate::task::header::{Header, Task};

/// One task's deadline state.
#[derive(Debug, Default)]
struct Entry {
    /// The deadline; `None` once cleared by `task::set_deadline(None)`
    /// (the task is then queued FIFO).
    deadline: Option<Instant>,
    /// Set when a deadline is set; cleared by the next poll's check.
    armed: bool,
    /// Deadlines missed (see the module docs).
    misses: u64,
}

/// Deadlines of a runtime's tasks, by task id (the header's address).
///
/// An entry is added when a task gets a deadline and removed when its
/// future is gone (`Scheduler::task_finished`). A header address is reused
/// only after its task is freed, and a task with the flag inserts a fresh
/// entry when it gets its first deadline, so an entry is never read by the
/// wrong task.
#[derive(Default)]
pub(crate) struct DeadlineTable {
    entries: Mutex<HashMap<u64, Entry>>,
}

impl DeadlineTable {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        // The table holds plain data, updated in single statements: a
        // panic elsewhere while it was locked cannot leave it torn.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Gives `task` the deadline `deadline` (or none), arming the miss
    /// check for its next poll, and sets its header flag. A task getting
    /// its first deadline starts a fresh entry.
    pub(crate) fn set(&self, task: &Header, deadline: Option<Instant>) {
        let id = task.id().as_u64();
        let mut entries = self.lock();
        if !task.has_deadline() {
            entries.insert(id, Entry::default());
        }
        let entry = entries.entry(id).or_default();
        entry.deadline = deadline;
        entry.armed = deadline.is_some();
        drop(entries);
        task.set_has_deadline();
    }

    /// The deadline of `task`, if it has one.
    pub(crate) fn deadline(&self, task: &Header) -> Option<Instant> {
        if !task.has_deadline() {
            return None;
        }
        self.lock()
            .get(&task.id().as_u64())
            .and_then(|entry| entry.deadline)
    }

    /// Deadlines `task` missed.
    pub(crate) fn misses(&self, task: &Header) -> u64 {
        if !task.has_deadline() {
            return 0;
        }
        self.lock()
            .get(&task.id().as_u64())
            .map_or(0, |entry| entry.misses)
    }

    /// The miss check of a poll of `task` about to start (a task with the
    /// flag): returns `true` if this poll misses the task's deadline (the
    /// first poll since it was set, and the deadline has passed).
    pub(crate) fn check_poll(&self, task: &Header) -> bool {
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(&task.id().as_u64()) else {
            return false;
        };
        if !std::mem::take(&mut entry.armed) {
            return false;
        }
        let missed = entry.deadline.is_some_and(|d| Instant::now() > d);
        entry.misses += u64::from(missed);
        missed
    }

    /// Forgets `task` (its future is gone).
    pub(crate) fn remove(&self, task: &Header) {
        self.lock().remove(&task.id().as_u64());
    }
}

/// A ready deadline task in a worker's heap.
struct Queued {
    deadline: Instant,
    /// Arrival order on this worker: equal deadlines run FIFO.
    seq: u64,
    task: Task,
}

impl PartialEq for Queued {
    fn eq(&self, other: &Queued) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Queued {}

impl PartialOrd for Queued {
    fn partial_cmp(&self, other: &Queued) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Queued {
    /// Reversed: `BinaryHeap` is a max-heap, and the earliest deadline
    /// (then the earliest arrival) must come out first.
    fn cmp(&self, other: &Queued) -> Ordering {
        (other.deadline, other.seq).cmp(&(self.deadline, self.seq))
    }
}

/// A worker's ready deadline tasks of one priority level, earliest
/// deadline first (see the module docs).
#[derive(Default)]
struct DeadlineHeap {
    heap: BinaryHeap<Queued>,
}

/// A worker's deadline heaps, one per priority level, behind one lock:
/// pushed and popped by the worker, emptied by the watchdog when the worker
/// is stuck in a long poll (see the module docs). Each change stores the
/// level's new length into the worker's `private` queue-depth counts
/// (under the lock, so the last store is the length the heap has).
#[derive(Default)]
pub(crate) struct DeadlineHeaps {
    heaps: Mutex<[DeadlineHeap; 4]>,
}

impl DeadlineHeaps {
    fn lock(&self) -> MutexGuard<'_, [DeadlineHeap; 4]> {
        // No user code runs under the lock (a task's drop runs after it),
        // and a heap is changed by one `push` or `pop`: poisoning can be
        // ignored.
        self.heaps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Queues `task` at `level`, whose deadline is `deadline`; `seq` is its
    /// arrival number on this worker. Owner only.
    pub(crate) fn push(
        &self,
        level: Priority,
        task: Task,
        deadline: Instant,
        seq: u64,
        private: &[AtomicUsize; 4],
    ) {
        let mut heaps = self.lock();
        let heap = &mut heaps[level.index()].heap;
        heap.push(Queued {
            deadline,
            seq,
            task,
        });
        // Relaxed: a gauge for `worker_queue_depth`, guarding nothing.
        private[level.index()].store(heap.len(), Relaxed);
    }

    /// The task of `level` with the earliest deadline, and whether the
    /// level still holds tasks after it. Owner only.
    pub(crate) fn pop(&self, level: Priority, private: &[AtomicUsize; 4]) -> (Option<Task>, bool) {
        let mut heaps = self.lock();
        let heap = &mut heaps[level.index()].heap;
        let task = heap.pop().map(|queued| queued.task);
        private[level.index()].store(heap.len(), Relaxed);
        (task, !heap.is_empty())
    }

    /// Every task, earliest deadline first within each level, the levels
    /// in priority order: for shutdown, and for the watchdog.
    pub(crate) fn take_all(&self, private: &[AtomicUsize; 4]) -> Vec<Task> {
        let mut heaps = self.lock();
        let mut tasks = Vec::new();
        for (heap, private) in heaps.iter_mut().zip(private) {
            let mut heap = std::mem::take(&mut heap.heap);
            tasks.extend(std::iter::from_fn(|| heap.pop().map(|q| q.task)));
            private.store(0, Relaxed);
        }
        tasks
    }
}

/// The scheduler of `task`: every task queued on a worker was spawned by a
/// `Shared`.
pub(super) fn shared_of(task: &Task) -> &Shared {
    // SAFETY: tasks reach a worker's queues only through `placement`,
    // whose tasks are all created by `Shared::spawn` with an owner made
    // from an `Arc<Shared>`.
    unsafe { task.metadata().owner().get() }
}

/// Sets the deadline of the running task `task` (`task::set_deadline`).
///
/// # Panics
///
/// Panics if `task` does not belong to a runtime's worker (a `LocalSet`
/// task): a `LocalSet` runs its tasks in the order they are queued.
pub(crate) fn set_current(task: &Header, deadline: Option<Instant>) {
    let shared = crate::context::worker()
        // SAFETY: the context points at the worker installed on this
        // thread, alive while installed (see `current_worker`).
        .map(|worker| unsafe { worker.as_ref() }.shared.clone())
        .filter(|shared| task.owner().is_scheduler(&**shared));
    let Some(shared) = shared else {
        panic!(
            "task::set_deadline() was called in a task of a LocalSet (or outside a runtime's \
             workers): a LocalSet runs its tasks in the order they are queued and keeps no \
             deadlines; spawn the task on the runtime (task::Builder::deadline) instead"
        );
    };
    shared.deadlines.set(task, deadline);
}

/// The running task's deadline table, if it has one (see `set_current`).
pub(crate) fn with_table<R>(task: &Header, f: impl FnOnce(&DeadlineTable) -> R) -> Option<R> {
    if !task.has_deadline() {
        return None;
    }
    let worker = crate::context::worker()?;
    // SAFETY: as in `set_current`.
    let shared = &unsafe { worker.as_ref() }.shared;
    task.owner()
        .is_scheduler(&**shared)
        .then(|| f(&shared.deadlines))
}

impl super::WorkerContext {
    /// The miss check before a poll of `task`, which has a deadline: counts
    /// a miss for this worker (the task's own count is in the table).
    // Off the tick's common path: a call keeps its registers out of
    // the tick's frame.
    #[inline(never)]
    pub(super) fn check_deadline(&self, task: &Header) {
        if self.shared.deadlines.check_poll(task) {
            crate::metrics::add(&self.remote().metrics.deadline_misses, 1);
            tracing::trace!(
                worker = self.index,
                task.id = task.id().as_u64(),
                "deadline missed"
            );
        }
    }
}

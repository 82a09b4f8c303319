//! The part of a worker other threads may touch: the thieves' ends of its
//! queues, its inbox, its parker and run state, its progress and metrics.

use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};

use super::deadline::DeadlineHeaps;
use super::idle::BusyWait;
use super::overflow::Overflow;
use super::park::Parker;
use super::run_state::{RunState, urgent_bit};
use crate::loom::{AtomicBool, AtomicU64, CachePadded, fence};
use crate::metrics::WorkerMetrics;
use crate::queue::{Inbox, LifoSteal, Steal};
use crate::task::Priority;
use crate::task::header::Task;

/// The part of a worker other threads may touch.
pub(crate) struct Remote {
    /// The thieves' end of each level's ring, indexed by `Priority::index`.
    pub(crate) rings: [Steal<Task>; 4],
    pub(crate) inbox: Inbox<Task>,
    /// The siblings' end of the LIFO slot: the task that runs next (woken
    /// or spawned by the running task).
    pub(crate) lifo: LifoSteal<Task>,
    /// The tasks that did not fit in the rings (the owner's `Core` holds
    /// the same one); taken by the watchdog from a worker in a long poll.
    pub(crate) overflow: Arc<Overflow>,
    /// The ready deadline tasks, per level: the owner's, but taken by the
    /// watchdog from a worker in a long poll (see `deadline`).
    pub(crate) deadline_heaps: DeadlineHeaps,
    pub(crate) parker: Parker,
    /// Polls this worker has completed, and the one in progress: how
    /// siblings tell a worker that makes progress from one that is stuck,
    /// and which task the watchdog and metrics see it poll. Written at every poll, so on
    /// a line of its own: the handles above are what siblings and pushers
    /// read at every look, and must not share a line with it.
    pub(crate) progress: CachePadded<Progress>,
    /// Written by the owner at steals, parks, preemptions and overflows:
    /// off the handles' line too.
    pub(crate) metrics: CachePadded<WorkerMetrics>,
    /// Set after shutdown once the worker's queues were dropped: from then
    /// on nobody owns the inbox, and late pushes drain it themselves.
    pub(super) released: AtomicBool,
    /// Set while the worker busy-waits for work before parking.
    pub(crate) busy_wait: BusyWait,
    /// What the worker runs, and the requests to cut that short.
    pub(crate) run: CachePadded<RunState>,
}

impl Remote {
    /// The shared part of a worker whose owner holds the other ends of
    /// `rings` and `lifo`, and shares `overflow`.
    pub(crate) fn new(
        rings: [Steal<Task>; 4],
        lifo: LifoSteal<Task>,
        overflow: Arc<Overflow>,
    ) -> Remote {
        Remote {
            rings,
            inbox: Inbox::new(),
            lifo,
            overflow,
            deadline_heaps: DeadlineHeaps::default(),
            parker: Parker::new(),
            progress: CachePadded(Progress::default()),
            metrics: CachePadded(WorkerMetrics::default()),
            released: AtomicBool::new(false),
            busy_wait: BusyWait::new(),
            run: CachePadded(RunState::new()),
        }
    }
}

impl Remote {
    /// Queues `task`, pushed from another thread, for this worker: a `Max`
    /// or `High` task in the urgent slot if it is free, anything else in
    /// the inbox. Returns `true` if the task went into the slot.
    #[inline]
    pub(super) fn push_incoming(&self, task: Task) -> bool {
        let task = if task.metadata().priority() >= Priority::High {
            match self.run.urgent_task.try_put(task) {
                Ok(()) => return true,
                Err(task) => task,
            }
        } else {
            task
        };
        self.inbox.push(task);
        false
    }

    /// Takes every task pushed here from other threads: the urgent slot
    /// first (its task is at least as old as any `Max` or `High` task that
    /// went to the inbox because the slot was full), then the inbox.
    #[inline]
    pub(crate) fn take_incoming(&self) -> impl Iterator<Item = Task> {
        self.run
            .urgent_task
            .take()
            .into_iter()
            .chain(self.inbox.drain())
    }

    /// `true` if a sibling could take work from this worker without
    /// waiting for it: tasks in its rings, inbox or urgent slot (a
    /// snapshot; not the LIFO slot, which only a rescue takes).
    #[inline]
    pub(crate) fn has_stealable_work(&self) -> bool {
        self.has_incoming() || self.rings.iter().any(|ring| !ring.is_empty())
    }

    /// `true` if tasks pushed from other threads wait here: in the inbox or
    /// the urgent slot. `SeqCst` on the inbox, for the park protocol; the
    /// slot's look is ordered by the fences of the handshakes.
    #[inline]
    pub(crate) fn has_incoming(&self) -> bool {
        self.run.urgent_task.is_occupied() || !self.inbox.is_empty()
    }

    /// `true` if work of `priority` outranks the task this worker runs: it
    /// is of a strict level (`Max`, `High`) above the running task's, or
    /// this worker is between polls (it may be about to start a
    /// lower-priority slice).
    ///
    /// Relaxed load: a hint; a stale `running` costs at most one slice of
    /// latency or one spurious request.
    #[inline]
    fn outranks_running(&self, priority: Priority) -> bool {
        priority >= Priority::High && (priority as u8) < self.run.running.load(Relaxed)
    }

    /// Asks the running task to end its slice for work of `priority` just
    /// queued here, if it is `Max` or `High`, and returns whether that
    /// work outranks the running task (`outranks_running`).
    ///
    /// Called *after* the work is queued: the worker clears the bits
    /// before it drains its inbox (`tick`), so either that drain sees the
    /// work or the bit stays set for the next slice. The bit is set without
    /// looking at `running` first: the worker's slice knows what outranks
    /// it (its mask), and the set is the one write a High wake-to-run
    /// waits for. `running` is read afterwards, from the line the set
    /// brought in.
    #[inline]
    pub(crate) fn preempt_for(&self, priority: Priority) -> bool {
        let bit = urgent_bit(priority, false);
        if bit == 0 {
            return false;
        }
        self.run.request(bit);
        self.outranks_running(priority)
    }

    /// Asks this worker to look in its siblings' inboxes for work of
    /// `priority`, if that outranks the task it runs. Returns whether it
    /// was asked.
    pub(super) fn ask_to_take_urgent(&self, priority: Priority) -> bool {
        if !self.outranks_running(priority) {
            return false;
        }
        let bit = urgent_bit(priority, true);
        if self.run.urgent.load(Relaxed) & bit == 0 {
            // As in `preempt_for`, though this bit is only a hint.
            self.run.request(bit);
        }
        true
    }
}

/// A worker's count of completed polls, and the poll it is in. Only the
/// worker's thread writes them; siblings compare two readings of the count
/// to see whether it got anywhere (the stall rescues), the worker compares
/// its own across a park (a futile wake-up), metrics report it as the poll
/// count, and the watchdog reads which task is being polled
/// ([`sample`](Progress::sample)).
///
/// # The poll-watch protocol
///
/// ```text
///   worker, poll k (count = k)            reader (watchdog, metrics)
///   current = word_k      (Release)       k1 = count     (Acquire)
///   ... the poll ...                      w  = current   (Relaxed)
///   current = 0           (Relaxed)       fence(Acquire)
///   count = k + 1         (Release)       k2 = count     (Relaxed)
/// ```
///
/// A reading with `k1 == k2` and `w != 0` is poll `k`'s word: the Acquire
/// of `k1` saw poll `k - 1`'s last store, so `w` is not older than that
/// poll's `current = 0`; and a `w` stored by poll `k + 1` or later would,
/// through its Release and the reader's fence, make `k2` at least `k + 1`.
/// So the task named by `w` is the one being polled while `count` reads
/// `k`. Nobody dereferences `w`: it is an id, looked up in the registry
/// (see `watchdog`, which models this protocol under loom).
pub(crate) struct Progress {
    completed: AtomicU64,
    /// The poll in progress ([`poll_word`](super::watchdog::poll_word)),
    /// or 0 between polls.
    current: AtomicU64,
}

impl Default for Progress {
    fn default() -> Progress {
        Progress {
            completed: AtomicU64::new(0),
            current: AtomicU64::new(0),
        }
    }
}

impl Progress {
    /// A poll of the task `word` names begins. Owner only.
    #[inline]
    pub(crate) fn begin_poll(&self, word: NonZeroU64) {
        // Release: see the protocol above (a plain store on x86-64).
        self.current.store(word.get(), Release);
    }

    /// One more poll completed. Owner only: stores, no read-modify-write.
    #[inline]
    pub(crate) fn advance(&self) {
        // Relaxed: ordered before readers' later looks by the Release
        // below.
        self.current.store(0, Relaxed);
        // Release: a reader that sees the new count sees the poll over
        // (the protocol above); for the rescues it is a hint.
        let next = self.completed.load(Relaxed).wrapping_add(1);
        self.completed.store(next, Release);
    }

    /// The poll in progress ended without completing (its worker's loop
    /// unwound): no poll is in progress.
    pub(crate) fn clear_current(&self) {
        // Relaxed: a reader that still sees the old word reports a poll
        // that ended, once.
        self.current.store(0, Relaxed);
    }

    /// The count now. Relaxed: a stale reading delays or hastens a rescue
    /// by one look; the queues' own operations synchronize the work.
    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.completed.load(Relaxed)
    }

    /// The count and the word of the poll in progress, if the worker is in
    /// one: a consistent pair, by the protocol above.
    pub(crate) fn sample(&self) -> Option<(u64, NonZeroU64)> {
        let before = self.completed.load(Acquire);
        let word = self.current.load(Relaxed);
        fence(Acquire);
        let after = self.completed.load(Relaxed);
        let word = NonZeroU64::new(word)?;
        (before == after).then_some((before, word))
    }
}

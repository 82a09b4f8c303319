//! The task header: the metadata every `async-task` task of smp_rt carries.

use std::num::NonZeroU64;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU8, AtomicU16, AtomicU32, AtomicU64};

use async_task::Runnable;

use super::owner::Owner;
use super::{Id, Priority};
use crate::loom::AtomicPtr;
use crate::queue::Node;

/// A task as the scheduler handles it.
pub(crate) type Task = Runnable<Header>;

/// `last_worker` before the task has been placed anywhere.
pub(crate) const NO_WORKER: u32 = u16::MAX as u32;

/// Workers a runtime may have: worker indices fit in the header's `u16`.
pub(crate) const MAX_WORKERS: usize = NO_WORKER as usize;

/// `registry_slot` of a task that is not in the scheduler's registry of
/// waiting tasks (it never waited, or it left).
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// `state`'s low two bits: the `Priority`.
const PRIORITY: u8 = 3;
/// Set in `state` by `abort`: the next poll drops the future.
const ABORTED: u8 = 4;
/// Set in `state` when the future completed or was dropped.
const FINISHED: u8 = 8;
/// Set in `state` for a `spawn_blocking` task.
const BLOCKING: u8 = 16;
/// Set in `state` when the task has a name (kept by the registry).
const NAMED: u8 = 32;
/// Set in `state` with `FINISHED` when an abort cancelled the task.
const CANCELLED: u8 = 64;
/// Set in `state` when the task has (or had) a deadline, kept by the
/// scheduler's deadline table (`scheduler::deadline`).
const DEADLINE: u8 = 128;

/// Per-task metadata, stored in the task's allocation.
///
/// 40 bytes: every parked task pays for it. With async-task's 32-byte
/// header and a future of 16 bytes, that is an 88-byte allocation, the
/// most a 96-byte glibc chunk holds. So the fields are as narrow as they
/// can be, the id is not stored (it is the header's address) and the rare
/// name lives in the scheduler (its registry).
///
/// The task module reads and writes the task's own fields; `inbox_link`,
/// `last_worker` and the registry entry are the scheduler's, kept here so
/// that placing a task allocates nothing.
///
/// Fields written while the task runs are written only by the worker
/// polling it; they are atomics (all `Relaxed`) so that handles and metrics
/// may read them from other threads.
pub(crate) struct Header {
    /// The scheduler the task belongs to (see `owner`).
    owner: Owner,
    /// The task's link while it waits in a worker's inbox.
    inbox_link: AtomicPtr<()>,
    /// Reductions charged over the task's life.
    total_reductions: AtomicU64,
    /// Times the task was polled (wrapping).
    polls: AtomicU32,
    /// Slices that ended because the budget ran out (wrapping).
    preemptions: AtomicU32,
    /// Index of the task's entry in its registry shard, `NO_SLOT`. Written
    /// by the task's spawn or its own polls only (see `Registry::insert`).
    registry_slot: AtomicU32,
    /// The worker that last ran the task (or was chosen for it), `NO_WORKER`.
    last_worker: AtomicU16,
    /// The registry shard holding the task's entry.
    registry_shard: AtomicU8,
    /// `Priority` as `u8` in the low bits (read each time the task is
    /// queued), and `ABORTED`, `FINISHED`, `BLOCKING`, `NAMED`, `CANCELLED`, `DEADLINE`.
    state: AtomicU8,
}

impl Header {
    /// A header; `named` says the registry will hold a name for the task.
    pub(crate) fn new(named: bool, priority: Priority, owner: Owner) -> Header {
        Header {
            owner,
            inbox_link: AtomicPtr::new(std::ptr::null_mut()),
            total_reductions: AtomicU64::new(0),
            polls: AtomicU32::new(0),
            preemptions: AtomicU32::new(0),
            registry_slot: AtomicU32::new(NO_SLOT),
            last_worker: AtomicU16::new(NO_WORKER as u16),
            registry_shard: AtomicU8::new(0),
            state: AtomicU8::new(priority as u8 | if named { NAMED } else { 0 }),
        }
    }

    /// The task's id: the header's address, which no other task's header
    /// has while this task's allocation lives (that is, while the task runs
    /// or anything refers to it: tokio's rule for reusing an id). A header
    /// is 8-aligned, so the address over 8 is as unique and shorter.
    #[inline]
    pub(crate) fn id(&self) -> Id {
        Header::id_at(NonNull::from(self))
    }

    /// The id of the task whose header is (or was) at `header`: the
    /// address alone, so a handle keeps its id after the task is freed.
    #[inline]
    pub(crate) fn id_at(header: NonNull<Header>) -> Id {
        let address = header.as_ptr().addr() as u64 >> 3;
        Id(NonZeroU64::new(address).expect("a header's address is not below 8"))
    }

    /// `true` if the task was given a name (set before the task is shared).
    #[inline]
    pub(crate) fn is_named(&self) -> bool {
        self.state.load(Relaxed) & NAMED != 0
    }

    /// The scheduler the task belongs to.
    #[inline]
    pub(crate) fn owner(&self) -> &Owner {
        &self.owner
    }

    /// A copy of the name, or `""`: a lookup in the scheduler, for the
    /// rare reader (the tracing span when it is enabled).
    fn name(&self) -> String {
        if self.is_named() {
            self.owner.task_name(self).unwrap_or_default()
        } else {
            String::new()
        }
    }

    #[inline]
    pub(crate) fn priority(&self) -> Priority {
        Priority::from_index(usize::from(self.state.load(Relaxed) & PRIORITY))
    }

    /// Only the task itself sets its priority, but `abort` may set a flag
    /// in the same byte at the same time: hence a read-modify-write.
    #[inline]
    pub(crate) fn set_priority(&self, priority: Priority) {
        let _ = self.state.fetch_update(Relaxed, Relaxed, |state| {
            Some(state & !PRIORITY | priority as u8)
        });
    }

    #[inline]
    pub(crate) fn last_worker(&self) -> u32 {
        u32::from(self.last_worker.load(Relaxed))
    }

    /// Records the task's worker; `worker < MAX_WORKERS` (the builder
    /// refuses more workers).
    #[inline]
    pub(crate) fn set_last_worker(&self, worker: u32) {
        self.last_worker.store(worker as u16, Relaxed);
    }

    #[inline]
    pub(crate) fn registry_slot(&self) -> u32 {
        self.registry_slot.load(Relaxed)
    }

    #[inline]
    pub(crate) fn registry_shard(&self) -> usize {
        usize::from(self.registry_shard.load(Relaxed))
    }

    /// Records where the registry keeps the task (under the shard's lock).
    #[inline]
    pub(crate) fn set_registry_entry(&self, shard: u8, slot: u32) {
        self.registry_shard.store(shard, Relaxed);
        self.registry_slot.store(slot, Relaxed);
    }

    /// Records that the task left the registry (under the shard's lock).
    #[inline]
    pub(crate) fn clear_registry_entry(&self) {
        self.registry_slot.store(NO_SLOT, Relaxed);
    }

    /// Marks the task aborted; the waker that follows makes it observable.
    pub(crate) fn abort(&self) {
        // Release: pairs with the Acquire in `is_aborted` on the worker
        // that polls the task after the abort's wake.
        self.state.fetch_or(ABORTED, Release);
    }

    /// `true` if the task has (or had) a deadline: the scheduler's deadline
    /// table has an entry for it. One load, the only cost deadlines add to
    /// a task without one where it is queued and polled.
    ///
    /// Relaxed: the flag is set before the task is shared (its spawn) or by
    /// the task's own poll, and whoever queues the task next got it through
    /// the task's state (async-task's acquire of the poll's end, before a
    /// wake schedules it) and the queue's release/acquire: that orders the
    /// set before this load.
    #[inline]
    pub(crate) fn has_deadline(&self) -> bool {
        self.state.load(Relaxed) & DEADLINE != 0
    }

    /// Marks the task as having a deadline (after its table entry is made;
    /// by its spawn, or by the task itself while it runs). A
    /// read-modify-write, as `abort` may set a flag at the same time.
    pub(crate) fn set_has_deadline(&self) {
        self.state.fetch_or(DEADLINE, Relaxed);
    }

    /// Marks a `spawn_blocking` task (before it is shared).
    pub(crate) fn set_blocking(&self) {
        self.state.fetch_or(BLOCKING, Relaxed);
    }

    /// `true` for a `spawn_blocking` task.
    pub(crate) fn is_blocking(&self) -> bool {
        self.state.load(Relaxed) & BLOCKING != 0
    }

    /// The tracing span a poll of this task runs in.
    #[inline]
    pub(crate) fn span(&self) -> tracing::Span {
        tracing::trace_span!(
            "task",
            task.id = self.id().as_u64(),
            // Evaluated only when the span is enabled.
            task.name = self.name().as_str(),
            task.priority = self.priority().as_str(),
        )
    }

    /// Marks the task's future as gone (completed or dropped), and, if
    /// `cancelled`, the task as cancelled by an abort.
    pub(crate) fn set_finished(&self, cancelled: bool) {
        let cancelled = if cancelled { CANCELLED } else { 0 };
        self.state.fetch_or(FINISHED | cancelled, Release);
    }

    /// `true` once `set_finished` marked the task cancelled. Read by the
    /// thread that finished it, after `set_finished`.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.state.load(Relaxed) & CANCELLED != 0
    }

    pub(crate) fn is_finished(&self) -> bool {
        self.state.load(Acquire) & FINISHED != 0
    }

    #[inline]
    pub(crate) fn is_aborted(&self) -> bool {
        self.state.load(Acquire) & ABORTED != 0
    }

    /// Records one poll that spent `charged` reductions. Called by the
    /// polling worker only, hence plain load + store instead of
    /// read-modify-writes.
    #[inline]
    pub(crate) fn record_poll(&self, charged: u32, preempted: bool) {
        self.polls
            .store(self.polls.load(Relaxed).wrapping_add(1), Relaxed);
        self.total_reductions.store(
            self.total_reductions.load(Relaxed) + u64::from(charged),
            Relaxed,
        );
        if preempted {
            self.preemptions
                .store(self.preemptions.load(Relaxed).wrapping_add(1), Relaxed);
        }
    }

    /// A snapshot of the counters.
    pub(crate) fn stats(&self) -> TaskStats {
        TaskStats {
            reductions: self.total_reductions.load(Relaxed),
            polls: u64::from(self.polls.load(Relaxed)),
            preemptions: u64::from(self.preemptions.load(Relaxed)),
            priority: self.priority(),
        }
    }
}

/// Counters of one task, as returned by [`task::stats`](crate::task::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskStats {
    /// Reductions charged over the task's life, up to its last completed poll.
    pub reductions: u64,
    /// Times the task has been polled (the current poll not counted).
    pub polls: u64,
    /// Slices ended because the reduction budget ran out.
    pub preemptions: u64,
    /// The task's priority now.
    pub priority: Priority,
}

// SAFETY: `into_raw`/`from_raw` are async-task's own pair, and `link` is a
// field of the task's metadata, which lives as long as the task allocation,
// which the inbox keeps alive by owning the `Runnable`.
unsafe impl Node for Task {
    #[inline]
    fn into_raw(self) -> NonNull<()> {
        Runnable::into_raw(self)
    }

    #[inline]
    unsafe fn from_raw(ptr: NonNull<()>) -> Self {
        // SAFETY: forwarded from the caller's contract.
        unsafe { Runnable::from_raw(ptr) }
    }

    #[inline]
    unsafe fn link<'a>(ptr: NonNull<()>) -> &'a AtomicPtr<()> {
        // SAFETY: the caller guarantees `ptr` is a live task owned by the
        // inbox; the ManuallyDrop borrows it without taking ownership.
        let task = std::mem::ManuallyDrop::new(unsafe { Runnable::<Header>::from_raw(ptr) });
        let link: *const AtomicPtr<()> = &task.metadata().inbox_link;
        // SAFETY: the metadata lives in the heap allocation, not in `task`,
        // and outlives the node's stay in the inbox.
        unsafe { &*link }
    }
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    #[test]
    fn header_and_join_error_stay_small() {
        // Every parked task carries a header and an output slot.
        assert_eq!(std::mem::size_of::<super::Header>(), 40);
        assert_eq!(
            std::mem::size_of::<Result<(), crate::task::JoinError>>(),
            16
        );
    }
}

//! The future a task actually runs: the user's future plus the task's
//! bookkeeping, and [`run`], the one way a task is run.
//!
//! Around each poll of the user's future the harness
//! * drops the future and completes with "cancelled" if the task was aborted;
//! * catches a panic and completes with it, so a panicking task never
//!   unwinds into the worker;
//! * records the poll and the reductions it charged in the header;
//! * on the first `Pending`, enters the runtime's registry of waiting
//!   tasks (see [`Registry`](crate::scheduler::Registry));
//! * on completion, drops the future itself (where a panicking destructor
//!   is caught: async-task aborts the process on one), leaves the registry
//!   and counts the exit.
//!
//! The harness is exactly as big as the user's future: every parked task
//! pays for it (it shares the task's allocation with the output, in a
//! union). It keeps neither a pointer to its header nor a "future dropped"
//! tag. The header comes from the thread's context, which [`run`] sets for
//! the whole of async-task's `run`. The tag is not needed because a future
//! the harness dropped is never dropped by anyone else: after a poll
//! returns `Ready`, async-task drops the harness at once, in the same `run`
//! (before it writes the output over it), and only then. So the poll that
//! drops the future sets a flag in the context, and the harness's `Drop`,
//! which comes next on the same thread, takes it back and skips the
//! future. Every other drop of a harness (a task cancelled unrun, or while
//! it waits, by a runtime shutting down) finds the flag clear and drops the
//! future. Those drops happen once the runtime shuts down, when
//! `Registry::close` has taken every entry left, or, for a task refused
//! then, with no entry.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::JoinError;
use super::header::{Header, NO_SLOT, Task};
use crate::context;
use crate::scheduler;

/// Runs `task` (async-task's `run`) with its header as the thread's current
/// task; returns whether it woke itself while running.
#[inline]
pub(crate) fn run(task: Task) -> bool {
    let prev = context::replace_task(Some(NonNull::from(task.metadata())));
    let woken = task.run();
    // The task may be freed by now: the pointer is only dropped.
    context::replace_task(prev);
    woken
}

/// A task's future. See the module docs.
pub(crate) struct Harness<F> {
    /// Dropped by `finish` or by `Drop`, exactly once (see the module docs).
    future: ManuallyDrop<F>,
}

impl<F: Future> Harness<F> {
    /// Wraps `future`.
    pub(crate) fn new(future: F) -> Harness<F> {
        Harness {
            future: ManuallyDrop::new(future),
        }
    }

    /// Drops the future, marks the task finished, leaves the registry,
    /// counts the exit and completes with `output`. Nothing but `return`
    /// may follow it.
    fn finish<T>(&mut self, header: &Header, output: T) -> Poll<T> {
        // A destructor that panics is caught here; its payload is dropped.
        // SAFETY: the future is live: `finish` ends the only path that
        // drops it before `Drop`, and is called once (the task completes).
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
            ManuallyDrop::drop(&mut self.future)
        }));
        // Before the output is published: `AbortHandle::is_finished` reads it.
        header.set_finished();
        let shared = &*header.shared;
        shared.registry.remove(header);
        if !header.is_blocking() {
            // Before the output is published (the `Ready` below): a handle
            // that returned sees the exit counted.
            let worker = scheduler::current_worker(shared).map(|worker| worker.index);
            shared.task_counts.exited(worker);
        }
        // Last: the next thing to happen on this thread is `Drop` taking it.
        context::set_future_dropped();
        Poll::Ready(output)
    }
}

impl<F: Future> Future for Harness<F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `run` is the only caller of async-task's `run`, and it
        // sets the task's header as the current task, alive for the poll.
        let header = unsafe {
            context::current_task()
                .expect("a task is polled only through harness::run")
                .as_ref()
        };
        // SAFETY: the future is structurally pinned: it is never moved out
        // of the harness, only dropped in place.
        let this = unsafe { self.get_unchecked_mut() };
        if header.is_aborted() {
            return this.finish(header, Err(JoinError::cancelled(header.id())));
        }
        // SAFETY: as above; the future is live (no `finish` yet).
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        let result = catch_unwind(AssertUnwindSafe(|| future.poll(cx)));

        let slice = context::slice();
        header.record_poll(slice.charged(), slice.preempted);

        match result {
            Ok(Poll::Pending) => {
                let registry = &header.shared.registry;
                let in_registry = if header.registry_slot() == NO_SLOT {
                    // The first wait: from now on only wakers may know the
                    // task, so the registry must, for the shutdown.
                    let worker = scheduler::current_worker(&header.shared).map(|w| w.index);
                    registry.insert(header, cx.waker().clone(), None, worker)
                } else {
                    !registry.is_closed()
                };
                if !in_registry {
                    // The runtime is shutting down and its registry may
                    // already have woken every task it knew (this one was
                    // queued or running then, or unknown to it): wake this
                    // task itself, so the scheduler drops it instead of
                    // leaving it waiting.
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            Ok(Poll::Ready(output)) => this.finish(header, Ok(output)),
            Err(payload) => this.finish(header, Err(JoinError::panic(header.id(), payload))),
        }
    }
}

impl<F> Drop for Harness<F> {
    fn drop(&mut self) {
        if !context::take_future_dropped() {
            // SAFETY: the flag is clear, so `finish` did not drop the
            // future (see the module docs): this is its only drop.
            unsafe { ManuallyDrop::drop(&mut self.future) }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    #[test]
    fn the_harness_is_exactly_its_future() {
        // Every parked task pays for it: no header pointer, no tag.
        assert_eq!(
            std::mem::size_of::<super::Harness<[u64; 2]>>(),
            std::mem::size_of::<[u64; 2]>()
        );
        assert_eq!(std::mem::size_of::<super::Harness<()>>(), 0);
    }
}

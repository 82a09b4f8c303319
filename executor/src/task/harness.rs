//! The future a task actually runs: the user's future plus the task's
//! bookkeeping.
//!
//! Around each poll of the user's future the harness
//! * drops the future and completes with "cancelled" if the task was aborted;
//! * makes the task current on this thread (`task::id`, `task::stats`...);
//! * catches a panic and completes with it, so a panicking task never
//!   unwinds into the worker;
//! * records the poll and the reductions it charged in the header.
//!
//! When the harness is dropped (the task completed or was cancelled) it
//! leaves the runtime's registry of live tasks.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::JoinError;
use super::header::Header;
use crate::context;

pin_project_lite::pin_project! {
    /// A task's future. See the module docs.
    pub(crate) struct Harness<F> {
        header: NonNull<Header>,
        #[pin]
        stage: Stage<F>,
    }

    impl<F> PinnedDrop for Harness<F> {
        fn drop(this: Pin<&mut Self>) {
            // SAFETY: see `Harness::new`: the header outlives the harness.
            let header = unsafe { this.header.as_ref() };
            // First: `Registry::waker` relies on this order.
            header.set_finished();
            header.shared.registry.remove(header);
        }
    }
}

pin_project_lite::pin_project! {
    #[project = StageProj]
    enum Stage<F> {
        Running { #[pin] future: F },
        Done,
    }
}

// SAFETY: the harness only reads the header through `&Header`, and `Header`
// is `Sync`; the rest is the user's future, `Send` when `F` is.
unsafe impl<F: Send> Send for Harness<F> {}

impl<F: Future> Harness<F> {
    /// Wraps `future` for the task whose metadata is `header`.
    ///
    /// # Safety
    ///
    /// `header` must outlive the harness. async-task guarantees this for the
    /// `&M` it passes to the future-building closure: a task's metadata is
    /// dropped when its allocation is freed, after its future.
    pub(crate) unsafe fn new(header: &Header, future: F) -> Harness<F> {
        Harness {
            header: NonNull::from(header),
            stage: Stage::Running { future },
        }
    }
}

impl<F: Future> Future for Harness<F> {
    type Output = Result<F::Output, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        // SAFETY: see `Harness::new`.
        let header = unsafe { this.header.as_ref() };
        if header.is_aborted() {
            this.stage.set(Stage::Done);
            return Poll::Ready(Err(JoinError::cancelled(header.id)));
        }
        let future = match this.stage.as_mut().project() {
            StageProj::Running { future } => future,
            // async-task never polls a completed future.
            StageProj::Done => unreachable!("a completed task was polled"),
        };

        let prev = context::replace_task(Some(*this.header));
        let result = catch_unwind(AssertUnwindSafe(|| future.poll(cx)));
        context::replace_task(prev);

        let slice = context::slice();
        header.record_poll(slice.charged(), slice.left, slice.preempted);

        match result {
            Ok(Poll::Pending) => {
                if header.shared.registry.is_closed() {
                    // The runtime is shutting down and its registry may
                    // already have woken every task it knew (this one was
                    // queued or running then): wake this task itself, so
                    // the scheduler drops it instead of leaving it waiting.
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            Ok(Poll::Ready(output)) => {
                this.stage.set(Stage::Done);
                Poll::Ready(Ok(output))
            }
            Err(payload) => {
                // The future's destructor may panic too; that payload is
                // dropped, the first one is reported.
                let _ = catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Done)));
                Poll::Ready(Err(JoinError::panic(header.id, payload)))
            }
        }
    }
}

//! The future a process's task runs: the user's future, plus what makes it
//! a process.
//!
//! Around each poll of the user's future, [`ProcessTask`]
//! * copies the task's counters into the process's shared state, for
//!   [`Pid::info`](super::Pid::info);
//! * makes the process current on this thread (for `link`, `trap_exit`...);
//! * catches a panic, to end the process with `ExitReason::Panic`.
//!
//! When the user's future completes or panics it is dropped at once, then
//! the exit path runs. When the task drops the `ProcessTask` before that
//! (the process was killed, or the runtime is shutting down), the drop runs
//! the exit path with `ExitReason::Killed`, unless a reason was recorded
//! before.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::exit::ExitReason;
use crate::state::{AnyProcess, finish};

thread_local! {
    /// The process being polled on this thread.
    static CURRENT: Cell<Option<Arc<dyn AnyProcess>>> = const { Cell::new(None) };
}

/// The process being polled on this thread, if any.
pub(crate) fn current() -> Option<Arc<dyn AnyProcess>> {
    CURRENT
        .try_with(|c| {
            let process = c.take();
            let copy = process.clone();
            c.set(process);
            copy
        })
        .ok()
        .flatten()
}

pin_project_lite::pin_project! {
    /// A process's task future. See the module docs.
    pub(crate) struct ProcessTask<F> {
        // `None` only while lent to `CURRENT` during a poll, and after the
        // exit path ran.
        process: Option<Arc<dyn AnyProcess>>,
        #[pin]
        stage: Stage<F>,
    }

    impl<F> PinnedDrop for ProcessTask<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if let Some(process) = this.process.take() {
                // Dropped before it finished: killed, or dropped by the
                // runtime. The user's future goes first, so that the
                // process is entirely gone when its links and monitors hear
                // of it.
                let _ = catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Done)));
                finish(process, ExitReason::Killed);
            }
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

impl<F: Future<Output = ()>> ProcessTask<F> {
    pub(crate) fn new(process: Arc<dyn AnyProcess>, future: F) -> ProcessTask<F> {
        ProcessTask {
            process: Some(process),
            stage: Stage::Running { future },
        }
    }
}

impl<F: Future<Output = ()>> Future for ProcessTask<F> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut this = self.project();
        let Some(process) = this.process.take() else {
            // The exit path ran; async-task does not poll a completed task.
            return Poll::Ready(());
        };
        let StageProj::Running { future } = this.stage.as_mut().project() else {
            unreachable!("a process is polled only while running");
        };
        process.core().stats.store(&smp_rt_executor::task::stats());

        let prev = CURRENT.replace(Some(process));
        let result = catch_unwind(AssertUnwindSafe(|| future.poll(cx)));
        let process = CURRENT
            .replace(prev)
            .expect("the current process is restored after its poll");

        let reason = match result {
            Ok(Poll::Pending) => {
                *this.process = Some(process);
                return Poll::Pending;
            }
            Ok(Poll::Ready(())) => ExitReason::Normal,
            Err(payload) => ExitReason::Panic(panic_message(&*payload)),
        };
        let reason = match catch_unwind(AssertUnwindSafe(|| this.stage.set(Stage::Done))) {
            Ok(()) => reason,
            // The future's destructor panicked after it completed.
            Err(payload) if reason.is_normal() => ExitReason::Panic(panic_message(&*payload)),
            Err(_) => reason,
        };
        finish(process, reason);
        Poll::Ready(())
    }
}

/// The message of a panic payload (`panic!` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

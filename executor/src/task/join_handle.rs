//! `JoinHandle` and `AbortHandle`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker, ready};

use async_task::FallibleTask;

use super::header::Header;
use super::{Id, JoinError};
use crate::reductions::poll_charge;

/// An owned permission to await a task's output.
///
/// A future of `Result<T, JoinError>`: `Ok` with the output, or why there is
/// none (cancelled, or panicked). Dropping the handle *detaches* the task,
/// which runs on; it never cancels it (use [`abort`](JoinHandle::abort)).
/// Polling it charges one reduction.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// let handle = smp_rt_executor::spawn(async { "done" });
/// assert_eq!(handle.await.unwrap(), "done");
///
/// let handle = smp_rt_executor::spawn(std::future::pending::<()>());
/// handle.abort();
/// assert!(handle.await.unwrap_err().is_cancelled());
/// # });
/// ```
pub struct JoinHandle<T> {
    /// `None` once the output has been returned.
    task: Option<FallibleTask<Result<T, JoinError>, Header>>,
    /// The task's header; valid while `task` is `Some` (the task handle
    /// keeps the allocation alive).
    header: NonNull<Header>,
    id: Id,
}

// SAFETY: `header` is only read as `&Header` (`Sync`) while `task` keeps it
// alive; the rest is async-task's handle, `Send + Sync` for `T: Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    pub(crate) fn new(task: async_task::Task<Result<T, JoinError>, Header>) -> JoinHandle<T> {
        let header = NonNull::from(task.metadata());
        let id = task.metadata().id();
        JoinHandle {
            task: Some(task.fallible()),
            header,
            id,
        }
    }

    /// The task's header, while the handle still holds the task.
    fn header(&self) -> Option<&Header> {
        // SAFETY: see the `header` field.
        self.task.as_ref().map(|_| unsafe { self.header.as_ref() })
    }

    /// Cancels the task: its future is dropped the next time a worker
    /// picks it up (at once if it is waiting), and awaiting this handle
    /// gives a cancelled [`JoinError`]. No effect on a finished task.
    pub fn abort(&self) {
        if let Some(header) = self.header() {
            abort(header);
        }
    }

    /// `true` once the task has completed (output ready, panicked, or cancelled).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|task| task.is_finished())
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }

    /// A handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        let task = self.header().and_then(|header| {
            let waker = header.shared.registry.waker(header)?;
            Some((NonNull::from(header), waker))
        });
        AbortHandle { id: self.id, task }
    }
}

/// Flags the task aborted and wakes it so a worker drops its future.
fn abort(header: &Header) {
    header.abort();
    if let Some(waker) = header.shared.registry.waker(header) {
        waker.wake();
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(poll_charge(cx));
        let id = self.id;
        let task = self
            .task
            .as_mut()
            .expect("JoinHandle polled after it returned the task's output");
        let output = ready!(Pin::new(task).poll(cx));
        self.task = None;
        Poll::Ready(match output {
            Some(result) => result,
            // Dropped unrun or mid-wait, by a runtime shutting down.
            None => Err(JoinError::cancelled(id)),
        })
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle").field("id", &self.id).finish()
    }
}

/// Aborts a task without owning its output; see [`JoinHandle::abort_handle`].
pub struct AbortHandle {
    id: Id,
    /// The header and a waker, which keeps the task's allocation (and so the
    /// header) alive. `None` if the task had finished when the handle was made.
    task: Option<(NonNull<Header>, Waker)>,
}

// SAFETY: the pointer is only used as `&Header`, and `Header` is `Sync`; the
// waker keeps it alive.
unsafe impl Send for AbortHandle {}
// SAFETY: as above.
unsafe impl Sync for AbortHandle {}

impl AbortHandle {
    /// Cancels the task; see [`JoinHandle::abort`].
    pub fn abort(&self) {
        if let Some((header, waker)) = &self.task {
            // SAFETY: the waker keeps the task allocation alive.
            unsafe { header.as_ref() }.abort();
            waker.wake_by_ref();
        }
    }

    /// `true` once the task has completed.
    pub fn is_finished(&self) -> bool {
        match &self.task {
            // SAFETY: the waker keeps the task allocation alive.
            Some((header, _)) => unsafe { header.as_ref() }.is_finished(),
            None => true,
        }
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.id
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle").field("id", &self.id).finish()
    }
}

//! `JoinHandle` and `AbortHandle`.

use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll, RawWakerVTable, Waker, ready};

use async_task::FallibleTask;

use super::budget::poll_charge;
use super::header::Header;
use super::unwind::{CatchingWaker, TaskOutput};
use super::{Id, JoinError};

/// async-task's handle of a task whose output is `T`.
type TaskHandle<T> = FallibleTask<TaskOutput<Result<T, JoinError>>, Header>;

/// Bytes from the start of a task's allocation, which is the data pointer
/// of its wakers, to its metadata (its `Header`), where async-task's layout
/// of its own task header puts it: the same for every task of the program
/// (one metadata type), so measured by the first `JoinHandle::new` and
/// checked by the others; `UNKNOWN` before.
///
/// Relaxed: every store writes the same value, and a handle reads it
/// (`JoinHandle::task`) after its own `new` stored or loaded it, on the
/// thread that made it or on one the handle was sent to since.
static TASK_TO_HEADER: AtomicUsize = AtomicUsize::new(UNKNOWN);

/// `TASK_TO_HEADER` before any task was made.
const UNKNOWN: usize = usize::MAX;

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
    /// async-task's handle; `None` once the output has been returned.
    task: Option<TaskHandle<T>>,
    /// The vtable of the task's wakers. With the task's address (`header`
    /// less `TASK_TO_HEADER`) it makes a waker of the task, to wake it when
    /// it is aborted, while `task` holds the allocation: the handle keeps
    /// no waker of its own, which would be 16 bytes and a reference more
    /// (every kept handle pays for its size).
    waker_vtable: &'static RawWakerVTable,
    /// What this handle gave async-task to wake its awaiter: the awaiter's
    /// waker, behind one that reports a panic in its `wake` (async-task
    /// wakes the awaiter under an abort-on-panic guard). Made again only
    /// when the awaiter changes.
    awaiter: Option<Arc<CatchingWaker>>,
    /// The task's header; valid while `task` is `Some` (the task handle
    /// keeps the allocation alive), and the task's id after that.
    header: NonNull<Header>,
}

// SAFETY: `header` is only read as `&Header` (`Sync`) while `task` keeps it
// alive, and turned into a waker (`Send + Sync`, as every waker) with the
// `&'static` vtable; the rest is async-task's handle, `Send + Sync` for
// `T: Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

// Unwind-safe whatever the output type, as tokio's is. The handle's state is
// the task's, changed in atomic steps by async-task; the output is moved out
// whole, never observed half-written; and the user code the handle runs (the
// awaiter's waker) is behind `CatchingWaker`, or runs before or after those
// steps. A panic through code holding a handle leaves it as consistent as it
// found it.
impl<T> std::panic::UnwindSafe for JoinHandle<T> {}
impl<T> std::panic::RefUnwindSafe for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// The handle of `task`, with `waker`, one of the task's own (only
    /// its vtable is kept).
    pub(crate) fn new(
        task: async_task::Task<TaskOutput<Result<T, JoinError>>, Header>,
        waker: Waker,
    ) -> JoinHandle<T> {
        let header = NonNull::from(task.metadata());
        let offset = header.as_ptr().addr().wrapping_sub(waker.data().addr());
        let known = TASK_TO_HEADER.load(Relaxed);
        if known != offset {
            assert_eq!(
                known, UNKNOWN,
                "async-task placed a task's metadata at two distances from its start"
            );
            TASK_TO_HEADER.store(offset, Relaxed);
        }
        JoinHandle {
            task: Some(task.fallible()),
            waker_vtable: waker.vtable(),
            awaiter: None,
            header,
        }
    }

    /// The task's header and a waker of it (borrowing the handle's
    /// reference), while the handle still holds the task.
    fn task(&self) -> Option<(&Header, ManuallyDrop<Waker>)> {
        self.task.as_ref().map(|_| {
            let offset = TASK_TO_HEADER.load(Relaxed);
            // SAFETY: the task's allocation starts `offset` bytes before
            // its header (measured by `new`, which this handle's ran
            // before), so the pointer stays in it; `task` holds the
            // allocation.
            let data = unsafe { self.header.as_ptr().byte_sub(offset) };
            // SAFETY: the allocation's start and the vtable of the task's
            // wakers are a waker of the task, and `task` holds the
            // allocation for as long as `self` is borrowed. The
            // `ManuallyDrop` owns no reference: it is never dropped, only
            // woken by reference or cloned.
            let waker = unsafe { Waker::new(data.cast_const().cast(), self.waker_vtable) };
            // SAFETY: see the `header` field: `task` is `Some`.
            (unsafe { self.header.as_ref() }, ManuallyDrop::new(waker))
        })
    }

    /// Cancels the task: its future is dropped the next time a worker
    /// picks it up (at once if it is waiting), and awaiting this handle
    /// gives a cancelled [`JoinError`]. No effect on a finished task.
    pub fn abort(&self) {
        if let Some((header, waker)) = self.task() {
            abort(header, &waker);
        }
    }

    /// `true` once the task has completed (output ready, panicked, or cancelled).
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|task| task.is_finished())
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        Header::id_at(self.header)
    }

    /// A handle that can abort the task without owning its output.
    pub fn abort_handle(&self) -> AbortHandle {
        let task = self
            .task()
            .filter(|(header, _)| !header.is_finished())
            .map(|(header, waker)| (NonNull::from(header), Waker::clone(&waker)));
        AbortHandle {
            id: self.id(),
            task,
        }
    }
}

/// Flags the task aborted and wakes it so a worker drops its future: at
/// once if it waits; if it is queued or running, the wake-up changes
/// nothing and the next poll sees the flag; if it finished, the wake-up is
/// ignored.
fn abort(header: &Header, waker: &Waker) {
    header.abort();
    waker.wake_by_ref();
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(poll_charge(cx));
        let id = self.id();
        let this = &mut *self;
        let task = this
            .task
            .as_mut()
            .expect("JoinHandle polled after it returned the task's output");
        let output = if task.is_finished() {
            // Ready: async-task registers no waker.
            ready!(Pin::new(task).poll(cx))
        } else {
            let awaiter = match &this.awaiter {
                Some(awaiter) if awaiter.will_wake(cx.waker()) => awaiter,
                _ => this.awaiter.insert(CatchingWaker::new(cx.waker())),
            };
            let waker = Waker::from(awaiter.clone());
            ready!(Pin::new(task).poll(&mut Context::from_waker(&waker)))
        };
        this.task = None;
        this.awaiter = None;
        Poll::Ready(match output {
            Some(output) => output.into_inner(),
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
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .finish()
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
            abort(unsafe { header.as_ref() }, waker);
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

impl Clone for AbortHandle {
    fn clone(&self) -> Self {
        AbortHandle {
            id: self.id,
            // The cloned waker holds its own reference on the task, which
            // keeps the header alive for the clone.
            task: self
                .task
                .as_ref()
                .map(|(header, waker)| (*header, waker.clone())),
        }
    }
}

// Aborting is one atomic request on the header, whatever state a panic left
// the caller in: nothing the handle holds can be seen half-updated.
impl std::panic::UnwindSafe for AbortHandle {}
impl std::panic::RefUnwindSafe for AbortHandle {}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle").field("id", &self.id).finish()
    }
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    use super::*;

    #[test]
    fn a_join_handle_is_four_words_whatever_its_output() {
        // Every kept handle pays for its size: the task handle, the wakers'
        // vtable, the awaiter and the header, and no waker of its own.
        assert_eq!(size_of::<JoinHandle<()>>(), 32);
        assert_eq!(size_of::<JoinHandle<[u64; 16]>>(), 32);
        assert_eq!(size_of::<Option<JoinHandle<()>>>(), 32);
    }

    #[test]
    fn a_handle_rebuilds_a_waker_of_its_own_task() {
        let rt = crate::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime");
        let handle = rt.spawn(std::future::pending::<()>());
        let (header, waker) = handle.task().expect("the task is live");
        assert_eq!(header.id(), handle.id());
        // The rebuilt waker's data is the task's allocation, whose header
        // is `TASK_TO_HEADER` bytes in.
        assert_eq!(
            waker.data().addr() + TASK_TO_HEADER.load(Relaxed),
            handle.header.as_ptr().addr()
        );
        // Woken, the waiting task is polled again: an abort ends it.
        rt.block_on(async {
            crate::task::yield_now().await;
            handle.abort();
            assert!(handle.await.expect_err("aborted").is_cancelled());
        });
    }
}

//! The thread-local state of whoever is running smp_rt code on this thread.
//!
//! One `thread_local!` block, read on every poll and every charge, so it is
//! const-initialised (no lazy-init check on access):
//!
//! * the reduction [`Slice`] being spent;
//! * the header of the task being polled (for `task::id`, `task::stats`...);
//! * the worker running on this thread, if this is a worker thread;
//! * the runtime handle entered on this thread (`Handle::current`).

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use crate::reductions::Slice;
use crate::runtime::Handle;
use crate::scheduler::WorkerContext;
use crate::task::header::Header;

struct Context {
    slice: Cell<Slice>,
    task: Cell<Option<NonNull<Header>>>,
    worker: Cell<Option<NonNull<WorkerContext>>>,
    handle: RefCell<Option<Handle>>,
}

thread_local! {
    static CONTEXT: Context = const {
        Context {
            slice: Cell::new(Slice::UNLIMITED),
            task: Cell::new(None),
            worker: Cell::new(None),
            handle: RefCell::new(None),
        }
    };
}

/// The slice being spent on this thread (`Slice::UNLIMITED` if none, or
/// while the thread is being torn down).
#[inline]
pub(crate) fn slice() -> Slice {
    CONTEXT
        .try_with(|c| c.slice.get())
        .unwrap_or(Slice::UNLIMITED)
}

#[inline]
pub(crate) fn set_slice(slice: Slice) {
    let _ = CONTEXT.try_with(|c| c.slice.set(slice));
}

#[inline]
pub(crate) fn replace_slice(slice: Slice) -> Slice {
    CONTEXT
        .try_with(|c| c.slice.replace(slice))
        .unwrap_or(Slice::UNLIMITED)
}

/// The header of the task being polled on this thread.
#[inline]
pub(crate) fn current_task() -> Option<NonNull<Header>> {
    CONTEXT.try_with(|c| c.task.get()).ok().flatten()
}

#[inline]
pub(crate) fn replace_task(task: Option<NonNull<Header>>) -> Option<NonNull<Header>> {
    CONTEXT.try_with(|c| c.task.replace(task)).ok().flatten()
}

/// The worker running on this thread.
#[inline]
pub(crate) fn worker() -> Option<NonNull<WorkerContext>> {
    CONTEXT.try_with(|c| c.worker.get()).ok().flatten()
}

#[inline]
pub(crate) fn replace_worker(
    worker: Option<NonNull<WorkerContext>>,
) -> Option<NonNull<WorkerContext>> {
    CONTEXT
        .try_with(|c| c.worker.replace(worker))
        .ok()
        .flatten()
}

/// A clone of the runtime handle entered on this thread.
pub(crate) fn handle() -> Option<Handle> {
    CONTEXT
        .try_with(|c| c.handle.borrow().clone())
        .ok()
        .flatten()
}

/// Enters `handle` on this thread until the guard is dropped.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let prev = CONTEXT
        .try_with(|c| c.handle.replace(Some(handle)))
        .ok()
        .flatten();
    EnterGuard { prev }
}

/// Restores the previously entered handle on drop.
pub(crate) struct EnterGuard {
    prev: Option<Handle>,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CONTEXT.try_with(|c| {
            // Drop the replaced handle outside the borrow: dropping the last
            // handle can run task destructors that look at the context.
            let old = c.handle.replace(prev);
            drop(old);
        });
    }
}

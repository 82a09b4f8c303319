//! The thread-local state of whoever is running smp_rt code on this thread.
//!
//! Two `thread_local!` blocks, both const-initialised. The first is read on
//! every poll and every charge and holds only plain `Cell`s: with nothing
//! to drop it needs no destructor, so an access is one load or store at a
//! fixed offset from the thread pointer, with no lazy-registration check.
//! For the same reason it is never torn down, so its accessors use `with`,
//! which cannot fail for it: `try_with` would wrap every value in a
//! `Result` the compiler cannot see is always `Ok`, and the hot accessors
//! (the slice, around every poll) would copy it through the stack and test
//! it:
//!
//! * the reduction [`Slice`] being spent;
//! * the header of the task being run (for `task::id`, `task::stats`...);
//! * whether that task's harness has already dropped its future (see
//!   `task::harness`);
//! * the worker running on this thread, if this is a worker thread.
//!
//! The second holds the runtime handle entered on this thread
//! (`Handle::current`), which must be dropped with the thread.

use std::cell::{Cell, RefCell};
use std::ptr::NonNull;

use crate::runtime::Handle;
use crate::scheduler::WorkerContext;
use crate::task::Slice;
use crate::task::header::Header;

/// The per-poll state: nothing here needs dropping (see the module docs).
struct Context {
    slice: Cell<Slice>,
    task: Cell<Option<NonNull<Header>>>,
    future_dropped: Cell<bool>,
    worker: Cell<Option<NonNull<WorkerContext>>>,
    /// `true` while this thread is inside a `block_on`.
    in_block_on: Cell<bool>,
    /// Runtimes entered on this thread and not left yet (`enter`).
    enter_depth: Cell<usize>,
}

const _: () = assert!(!std::mem::needs_drop::<Context>());

thread_local! {
    static CONTEXT: Context = const {
        Context {
            slice: Cell::new(Slice::UNLIMITED),
            task: Cell::new(None),
            future_dropped: Cell::new(false),
            worker: Cell::new(None),
            in_block_on: Cell::new(false),
            enter_depth: Cell::new(0),
        }
    };
    static HANDLE: RefCell<Option<Handle>> = const { RefCell::new(None) };
}

/// This thread's slice cell, as a pointer. A `Slice` read inside `with`
/// and returned through it comes back wrapped in `try_with`'s `Result`,
/// whose tag is the niche of the slice's `bool`s: the compiler cannot see
/// that it is always `Ok`, and tests it and copies the slice through the
/// stack at every read. A pointer computed inside `with` is not loaded from
/// memory, so its `Ok` folds away.
#[inline(always)]
fn slice_cell() -> &'static Cell<Slice> {
    let cell: *const Cell<Slice> = CONTEXT.with(|c| &raw const c.slice);
    // SAFETY: `CONTEXT` has no destructor (asserted above), so it lives as
    // long as this thread, and the reference is used only on this thread
    // (`Cell` is not `Sync`: it cannot be sent to another).
    unsafe { &*cell }
}

/// The slice being spent on this thread (`Slice::UNLIMITED` if none).
#[inline]
pub(crate) fn slice() -> Slice {
    slice_cell().get()
}

#[inline]
pub(crate) fn set_slice(slice: Slice) {
    slice_cell().set(slice);
}

#[inline]
pub(crate) fn replace_slice(slice: Slice) -> Slice {
    slice_cell().replace(slice)
}

/// The header of the task being polled on this thread.
#[inline]
pub(crate) fn current_task() -> Option<NonNull<Header>> {
    CONTEXT.with(|c| c.task.get())
}

#[inline]
pub(crate) fn replace_task(task: Option<NonNull<Header>>) -> Option<NonNull<Header>> {
    CONTEXT.with(|c| c.task.replace(task))
}

/// Records that the harness of the task being run dropped its future: the
/// harness's own drop, which async-task calls next in the same `run`,
/// takes the flag back.
///
/// `with`, not `try_with`: `Context` has no destructor, so it is never torn
/// down, and a flag silently lost here would drop a future twice.
#[inline]
pub(crate) fn set_future_dropped() {
    CONTEXT.with(|c| c.future_dropped.set(true));
}

/// Takes the flag [`set_future_dropped`] set, leaving it clear.
#[inline]
pub(crate) fn take_future_dropped() -> bool {
    CONTEXT.with(|c| c.future_dropped.replace(false))
}

/// The worker running on this thread.
#[inline]
pub(crate) fn worker() -> Option<NonNull<WorkerContext>> {
    CONTEXT.with(|c| c.worker.get())
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

/// The runtime handle entered on this thread, or the error of a thread
/// whose locals are already destroyed.
pub(crate) fn try_handle() -> Result<Option<Handle>, std::thread::AccessError> {
    HANDLE.try_with(|c| c.borrow().clone())
}

/// `f` of the runtime handle entered on this thread, borrowed (no clone);
/// `None` if there is none. `f` must not enter or leave a runtime: the
/// handle is borrowed from the thread-local that those replace.
pub(crate) fn with_handle<R>(f: impl FnOnce(&Handle) -> R) -> Option<R> {
    HANDLE
        .try_with(|c| c.borrow().as_ref().map(f))
        .ok()
        .flatten()
}

/// `true` while this thread is inside a `block_on`.
pub(crate) fn in_block_on() -> bool {
    CONTEXT.try_with(|c| c.in_block_on.get()).unwrap_or(false)
}

/// Marks this thread as inside a `block_on` until the guard drops; `None`
/// if it already is (a nested `block_on`, which would deadlock or starve
/// the outer one: the caller panics).
pub(crate) fn enter_block_on() -> Option<BlockOnGuard> {
    CONTEXT
        .with(|c| !c.in_block_on.replace(true))
        .then_some(BlockOnGuard { _private: () })
}

/// Clears the `block_on` mark on drop; see [`enter_block_on`].
pub(crate) struct BlockOnGuard {
    _private: (),
}

impl Drop for BlockOnGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.in_block_on.set(false));
    }
}

/// Enters `handle` on this thread until the guard is dropped.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let prev = HANDLE.try_with(|c| c.replace(Some(handle))).ok().flatten();
    let depth = CONTEXT
        .try_with(|c| {
            let depth = c.enter_depth.get() + 1;
            c.enter_depth.set(depth);
            depth
        })
        .unwrap_or(0);
    EnterGuard { prev, depth }
}

/// Restores the previously entered handle on drop.
pub(crate) struct EnterGuard {
    prev: Option<Handle>,
    /// How many runtimes were entered, this one included, when it was:
    /// guards must be dropped in the reverse order.
    depth: usize,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let current = CONTEXT
            .try_with(|c| c.enter_depth.get())
            .unwrap_or(self.depth);
        // A guard older than the current depth was dropped before this one
        // (out of order): it already restored the context from before this
        // guard, which this one's `prev` would undo.
        if current >= self.depth {
            let _ = CONTEXT.try_with(|c| c.enter_depth.set(self.depth - 1));
            let prev = self.prev.take();
            let _ = HANDLE.try_with(|c| {
                // Drop the replaced handle outside the borrow: dropping the
                // last handle can run task destructors that look at the
                // context.
                let old = c.replace(prev);
                drop(old);
            });
        }
        if current != self.depth && !std::thread::panicking() {
            panic!(
                "EnterGuard values dropped out of order: the guards returned by \
                 Runtime::enter and Handle::enter must be dropped in the reverse order \
                 they were made (this one was entered at depth {}, the thread is at depth \
                 {current}); the thread is back in the context it had before this guard",
                self.depth
            );
        }
    }
}

//! The seam between a task and the scheduler that runs it.
//!
//! The task module knows tasks: the cell (async-task's task with a
//! [`Header`] as its metadata and a [`Harness`](super::harness) as its
//! future), the handles, the public API. The scheduler knows placement,
//! queues, counts and registries. A task reaches its scheduler in two ways
//! only:
//!
//! * **placement**: async-task's schedule function, which the scheduler
//!   passes when it creates the task ([`new_task`](super::new_task)) and
//!   which finds the scheduler through the task's [`Owner`];
//! * **bookkeeping**: the [`Scheduler`] hooks, which the harness calls
//!   around a poll (the task waits; the task finished) and which name a
//!   task for its tracing span.
//!
//! # The owner pointer
//!
//! Every task carries its scheduler, and every parked task pays for what it
//! carries: so an [`Owner`] is one pointer wide (a counted reference, as an
//! `Arc`), though the task module does not know the scheduler's type. The
//! scheduler's value starts with an [`OwnerHeader`], a reference to a table
//! of the hooks made for its type; the owner points at that header. This
//! is the shape of a trait object whose table lives in the pointee instead
//! of the pointer (tokio's task vtable is the model).
//!
//! The schedule function must capture nothing: async-task keeps a task
//! alive with an extra count around every call of a schedule function that
//! has state, which would put two atomic read-modify-writes on every wake.

use std::ptr::NonNull;
use std::sync::Arc;
use std::task::Waker;

use super::header::Header;

/// What a task needs from the scheduler that owns it, beyond placement.
///
/// # Safety
///
/// The implementing type is `#[repr(C)]` and its first field is the
/// [`OwnerHeader`] made by [`OwnerHeader::new::<Self>`](OwnerHeader::new):
/// an [`Owner`] finds the hooks there.
pub(crate) unsafe trait Scheduler: Send + Sync + Sized + 'static {
    /// The scheduler's first field (see the trait's safety contract).
    fn owner_header(&self) -> &OwnerHeader;

    /// The task returned `Pending`: from now on only wakers may know it.
    /// Returns `false` if the scheduler no longer keeps track of waiting
    /// tasks (it is shutting down): the harness then wakes the task, so
    /// that it is dropped rather than left waiting.
    fn task_pending(&self, task: &Header, waker: &Waker) -> bool;

    /// The task's future is gone (completed, panicked, or dropped after an
    /// abort); called before its output is published.
    fn task_finished(&self, task: &Header);

    /// The task's name, if it was given one.
    fn task_name(&self, task: &Header) -> Option<String>;
}

/// The hooks of one scheduler type, as functions of an erased pointer to a
/// value of that type.
struct OwnerVTable {
    release: unsafe fn(NonNull<OwnerHeader>),
    task_pending: unsafe fn(NonNull<OwnerHeader>, &Header, &Waker) -> bool,
    task_finished: unsafe fn(NonNull<OwnerHeader>, &Header),
    task_name: unsafe fn(NonNull<OwnerHeader>, &Header) -> Option<String>,
}

/// The first field of a [`Scheduler`]: where an [`Owner`] finds its hooks.
pub(crate) struct OwnerHeader {
    vtable: &'static OwnerVTable,
}

impl OwnerHeader {
    /// The header of a scheduler of type `S`.
    pub(crate) const fn new<S: Scheduler>() -> OwnerHeader {
        OwnerHeader {
            vtable: &<S as VTableOf>::VTABLE,
        }
    }
}

/// The hooks of `S`, as a constant (so that a reference to it is `'static`).
trait VTableOf {
    const VTABLE: OwnerVTable;
}

impl<S: Scheduler> VTableOf for S {
    const VTABLE: OwnerVTable = OwnerVTable {
        release: release::<S>,
        task_pending: task_pending::<S>,
        task_finished: task_finished::<S>,
        task_name: task_name::<S>,
    };
}

/// # Safety
///
/// `ptr` came from `Arc::<S>::into_raw` (in [`Owner::new`]) and its count
/// is given back once.
unsafe fn release<S: Scheduler>(ptr: NonNull<OwnerHeader>) {
    // SAFETY: the caller's contract.
    drop(unsafe { Arc::from_raw(ptr.cast::<S>().as_ptr()) });
}

/// # Safety
///
/// `ptr` points at a live `S` (an owner's count keeps it alive).
unsafe fn task_pending<S: Scheduler>(
    ptr: NonNull<OwnerHeader>,
    task: &Header,
    waker: &Waker,
) -> bool {
    // SAFETY: the caller's contract.
    unsafe { ptr.cast::<S>().as_ref() }.task_pending(task, waker)
}

/// # Safety
///
/// As for [`task_pending`].
unsafe fn task_finished<S: Scheduler>(ptr: NonNull<OwnerHeader>, task: &Header) {
    // SAFETY: the caller's contract.
    unsafe { ptr.cast::<S>().as_ref() }.task_finished(task)
}

/// # Safety
///
/// As for [`task_pending`].
unsafe fn task_name<S: Scheduler>(ptr: NonNull<OwnerHeader>, task: &Header) -> Option<String> {
    // SAFETY: the caller's contract.
    unsafe { ptr.cast::<S>().as_ref() }.task_name(task)
}

/// A task's counted reference to its scheduler: one pointer, to the
/// scheduler's [`OwnerHeader`] (see the module docs).
pub(crate) struct Owner {
    ptr: NonNull<OwnerHeader>,
}

// SAFETY: an owner is an `Arc<S>` with its type erased, and `S: Send +
// Sync` (a bound of `Scheduler`).
unsafe impl Send for Owner {}
// SAFETY: as above.
unsafe impl Sync for Owner {}

impl Owner {
    /// An owner holding one count of `scheduler`.
    pub(crate) fn new<S: Scheduler>(scheduler: Arc<S>) -> Owner {
        debug_assert!(
            std::ptr::eq(
                scheduler.owner_header(),
                Arc::as_ptr(&scheduler).cast::<OwnerHeader>()
            ),
            "a Scheduler's OwnerHeader is its first field"
        );
        let ptr = NonNull::new(Arc::into_raw(scheduler).cast_mut())
            .expect("an Arc's pointer is not null")
            .cast::<OwnerHeader>();
        Owner { ptr }
    }

    fn vtable(&self) -> &'static OwnerVTable {
        // SAFETY: `ptr` points at a live scheduler (this owner holds a
        // count), whose first field is its `OwnerHeader` (the `Scheduler`
        // contract).
        unsafe { self.ptr.as_ref() }.vtable
    }

    /// The scheduler, as the type `S` it was made from.
    ///
    /// # Safety
    ///
    /// This owner was made by `Owner::new::<S>`.
    #[inline]
    pub(crate) unsafe fn get<S: Scheduler>(&self) -> &S {
        // SAFETY: the caller's contract; the count keeps the value alive
        // for as long as `self` is borrowed.
        unsafe { self.ptr.cast::<S>().as_ref() }
    }

    /// A new count of the scheduler, as the type `S` it was made from.
    ///
    /// # Safety
    ///
    /// This owner was made by `Owner::new::<S>`.
    pub(crate) unsafe fn to_arc<S: Scheduler>(&self) -> Arc<S> {
        let ptr = self.ptr.cast::<S>().as_ptr().cast_const();
        // SAFETY: `ptr` came from `Arc::<S>::into_raw` (the caller's
        // contract) and this owner's count keeps it alive while a new one
        // is taken.
        unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        }
    }

    /// `true` if this owner is `scheduler`.
    pub(crate) fn is_scheduler<S: Scheduler>(&self, scheduler: &S) -> bool {
        std::ptr::eq(self.ptr.as_ptr().cast_const(), scheduler.owner_header())
    }

    /// [`Scheduler::task_pending`] of the owner.
    #[inline]
    pub(crate) fn task_pending(&self, task: &Header, waker: &Waker) -> bool {
        // SAFETY: this owner's count keeps the scheduler alive.
        unsafe { (self.vtable().task_pending)(self.ptr, task, waker) }
    }

    /// [`Scheduler::task_finished`] of the owner.
    #[inline]
    pub(crate) fn task_finished(&self, task: &Header) {
        // SAFETY: as in `task_pending`.
        unsafe { (self.vtable().task_finished)(self.ptr, task) }
    }

    /// [`Scheduler::task_name`] of the owner.
    pub(crate) fn task_name(&self, task: &Header) -> Option<String> {
        // SAFETY: as in `task_pending`.
        unsafe { (self.vtable().task_name)(self.ptr, task) }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        // SAFETY: the pointer came from `Arc::into_raw` in `new`, with the
        // type the vtable was made for (the `Scheduler` contract), and this
        // is the owner's one release.
        unsafe { (self.vtable().release)(self.ptr) }
    }
}

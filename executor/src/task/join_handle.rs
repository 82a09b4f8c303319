//! `JoinHandle` and `AbortHandle`.

use std::fmt;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll, RawWakerVTable, Wake, Waker, ready};

use async_task::FallibleTask;

use super::budget::poll_charge;
use super::header::Header;
use super::unwind::{TaskOutput, wake_by_ref_caught, wake_caught};
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
/// (`JoinHandle::header`) after its own `new` stored or loaded it, on the
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
/// A handle is two words, whatever `T` (every kept handle pays for its
/// size): async-task's handle, whose pointer is the task's allocation
/// (its header, hence its id, is at a fixed distance in it), and one word
/// that is either the vtable of the task's wakers or, while a waker awaits
/// the handle, the awaiter cell that holds that vtable. The handle holds
/// the task's allocation until it is dropped, as tokio's does, so its id
/// stays the task's after the output was returned.
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
    /// async-task's handle, held until the handle is dropped.
    task: ManuallyDrop<TaskHandle<T>>,
    /// The task's waker vtable or the awaiter cell, and whether the
    /// output was returned.
    awaiter: AwaiterSlot,
}

// SAFETY: the header (`Sync`) is only read as `&Header` while `task` keeps
// the allocation alive, and turned into a waker (`Send + Sync`, as every
// waker) with the `&'static` vtable; the awaiter cell is an `Arc` of a
// waker and that vtable (`Send + Sync`), only changed through `&mut self`;
// the rest is async-task's handle, `Send + Sync` for `T: Send`.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

// Unwind-safe whatever the output type, as tokio's is. The handle's state is
// the task's, changed in atomic steps by async-task; the output is moved out
// whole, never observed half-written; and the user code the handle runs (the
// awaiter's waker) is behind `Awaiter`, or runs before or after those
// steps. A panic through code holding a handle leaves it as consistent as it
// found it.
impl<T> std::panic::UnwindSafe for JoinHandle<T> {}
impl<T> std::panic::RefUnwindSafe for JoinHandle<T> {}

/// The start of the task's allocation: the pointer async-task's handle
/// holds, read out of it (see `new`, which checks it against the wakers'
/// data pointer).
fn allocation_of<T>(task: &TaskHandle<T>) -> *const () {
    const {
        assert!(
            size_of::<TaskHandle<()>>() == size_of::<*const ()>(),
            "async-task's handle is no longer its task pointer alone"
        )
    };
    // SAFETY: async-task's `FallibleTask` is its `Task`, whose only field
    // with a size is the task's pointer (a `NonNull<()>`; the const above
    // checks the size); a copy of that pointer, read as a pointer, owns
    // nothing. `JoinHandle::new` checks that it is the allocation's start.
    unsafe { std::mem::transmute_copy::<TaskHandle<T>, *const ()>(task) }
}

impl<T> JoinHandle<T> {
    /// The handle of `task`, with `waker`, one of the task's own (only
    /// its vtable is kept).
    pub(crate) fn new(
        task: async_task::Task<TaskOutput<Result<T, JoinError>>, Header>,
        waker: Waker,
    ) -> JoinHandle<T> {
        let header = std::ptr::from_ref(task.metadata());
        let offset = header.addr().wrapping_sub(waker.data().addr());
        let known = TASK_TO_HEADER.load(Relaxed);
        if known != offset {
            assert_eq!(
                known, UNKNOWN,
                "async-task placed a task's metadata at two distances from its start"
            );
            TASK_TO_HEADER.store(offset, Relaxed);
        }
        let task = task.fallible();
        assert_eq!(
            allocation_of(&task),
            waker.data(),
            "async-task's task handle does not hold its task's pointer"
        );
        JoinHandle {
            task: ManuallyDrop::new(task),
            awaiter: AwaiterSlot::new(waker.vtable()),
        }
    }

    /// The task's header: alive as long as the handle, which holds the
    /// task's allocation.
    fn header(&self) -> &Header {
        let data = allocation_of(&self.task);
        // SAFETY: the task's allocation, which `task` holds for as long as
        // `self` is borrowed, has its header `TASK_TO_HEADER` bytes in
        // (measured by `new`, which this handle's ran before).
        unsafe { &*data.byte_add(TASK_TO_HEADER.load(Relaxed)).cast::<Header>() }
    }

    /// The task's header and a waker of it (borrowing the handle's
    /// reference), until the handle returned the output.
    fn task(&self) -> Option<(&Header, ManuallyDrop<Waker>)> {
        let vtable = self.awaiter.task_vtable()?;
        // SAFETY: the allocation's start and the vtable of the task's
        // wakers are a waker of the task, and `task` holds the allocation
        // for as long as `self` is borrowed. The `ManuallyDrop` owns no
        // reference: it is never dropped, only woken by reference or
        // cloned.
        let waker = unsafe { Waker::new(allocation_of(&self.task), vtable) };
        Some((self.header(), ManuallyDrop::new(waker)))
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
        self.awaiter.returned() || self.task.is_finished()
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.header().id()
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

/// What a `JoinHandle` gives async-task to wake its awaiter: the awaiter's
/// waker, behind one that reports a panic in its `wake` (async-task wakes
/// the awaiter under an abort-on-panic guard); and, while the handle holds
/// the cell, the vtable of the task's wakers, which the handle's word holds
/// otherwise.
struct Awaiter {
    waker: Waker,
    task_vtable: &'static RawWakerVTable,
}

impl Wake for Awaiter {
    fn wake(self: Arc<Self>) {
        match Arc::try_unwrap(self) {
            Ok(awaiter) => wake_caught(awaiter.waker),
            Err(shared) => wake_by_ref_caught(&shared.waker),
        }
    }

    fn wake_by_ref(self: &Arc<Self>) {
        wake_by_ref_caught(&self.waker);
    }
}

/// One word: a `&'static RawWakerVTable` (the task's wakers'), or, with
/// `AWAITER`, an `Arc<Awaiter>` (owning one reference); and `RETURNED`.
/// Both pointers are aligned to at least 4 bytes (checked below), which
/// leaves the two low bits to the tags.
struct AwaiterSlot(NonNull<()>);

/// Tag: the word is an `Arc<Awaiter>`.
const AWAITER: usize = 1;
/// Tag: the handle returned the task's output.
const RETURNED: usize = 2;
/// Both tags.
const TAGS: usize = AWAITER | RETURNED;

const _: () = assert!(align_of::<RawWakerVTable>() > TAGS && align_of::<Awaiter>() > TAGS);

impl AwaiterSlot {
    fn new(task_vtable: &'static RawWakerVTable) -> AwaiterSlot {
        AwaiterSlot(NonNull::from(task_vtable).cast())
    }

    fn tags(&self) -> usize {
        self.0.addr().get() & TAGS
    }

    fn untagged(&self) -> NonNull<()> {
        // The pointers are aligned, so a tagged word is never below the
        // alignment and untagging leaves it non-null.
        self.0.map_addr(|addr| {
            std::num::NonZeroUsize::new(addr.get() & !TAGS).expect("an aligned pointer")
        })
    }

    /// The awaiter cell, if the word holds one.
    fn cell(&self) -> Option<NonNull<Awaiter>> {
        (self.tags() & AWAITER != 0).then(|| self.untagged().cast())
    }

    /// `true` once the handle returned the output.
    fn returned(&self) -> bool {
        self.tags() & RETURNED != 0
    }

    /// The vtable of the task's wakers, until the output was returned.
    fn task_vtable(&self) -> Option<&'static RawWakerVTable> {
        if self.returned() {
            return None;
        }
        Some(match self.cell() {
            // SAFETY: the slot owns a reference on the cell, alive while
            // `self` is borrowed; the vtable in it is `'static`.
            Some(cell) => unsafe { cell.as_ref() }.task_vtable,
            // SAFETY: without `AWAITER`, the untagged word is the
            // `&'static` vtable.
            None => unsafe { self.untagged().cast::<RawWakerVTable>().as_ref() },
        })
    }

    /// A waker for async-task that wakes `waker`, catching a panic in its
    /// `wake`: the cell the slot holds if it wakes the same task as
    /// `waker`, else a new one, which the slot keeps instead. Before the
    /// output was returned only.
    fn awaiter_waker(&mut self, waker: &Waker) -> Waker {
        let task_vtable = self
            .task_vtable()
            .expect("the awaiter is set before the output is returned");
        if let Some(cell) = self.cell() {
            // SAFETY: the slot owns a reference on the cell.
            if unsafe { cell.as_ref() }.waker.will_wake(waker) {
                // SAFETY: the pointer came from `Arc::into_raw`, and the
                // slot's reference keeps it alive: one more reference, for
                // the returned waker.
                let cell = unsafe {
                    Arc::increment_strong_count(cell.as_ptr());
                    Arc::from_raw(cell.as_ptr())
                };
                return Waker::from(cell);
            }
        }
        let cell = Arc::new(Awaiter {
            waker: waker.clone(),
            task_vtable,
        });
        let returned = Waker::from(Arc::clone(&cell));
        // SAFETY: `Arc::into_raw` never returns null.
        let raw = unsafe { NonNull::new_unchecked(Arc::into_raw(cell).cast_mut()) };
        self.replace(raw.cast::<()>().map_addr(|addr| addr | AWAITER));
        returned
    }

    /// Records that the output was returned, letting go of the awaiter
    /// cell.
    fn set_returned(&mut self) {
        if let Some(vtable) = self.task_vtable() {
            let word = NonNull::from(vtable).cast::<()>();
            self.replace(word.map_addr(|addr| addr | RETURNED));
        }
    }

    /// Puts `word` in the slot, releasing the cell it held if any.
    fn replace(&mut self, word: NonNull<()>) {
        let old = self.cell();
        self.0 = word;
        if let Some(old) = old {
            // SAFETY: the slot owned this reference of `Arc::into_raw`'s,
            // and no longer holds the pointer. The cell's waker may be
            // dropped here (if async-task holds no clone): a foreign
            // waker's destructor, which is the caller's own code.
            drop(unsafe { Arc::from_raw(old.as_ptr()) });
        }
    }
}

impl Drop for AwaiterSlot {
    fn drop(&mut self) {
        if let Some(cell) = self.cell() {
            // SAFETY: the slot owned this reference, and is going away.
            drop(unsafe { Arc::from_raw(cell.as_ptr()) });
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
        let this = &mut *self;
        assert!(
            !this.awaiter.returned(),
            "JoinHandle polled after it returned the task's output"
        );
        // Ready without a waker only when the output is stored: our
        // `FINISHED` (set by `complete`, never by a shutdown's drop) and
        // async-task's completion both seen. async-task alone also reports
        // a task finished while a shutdown drops its future (closed, still
        // scheduled); a poll then registers the waker it is given, which
        // async-task wakes under its abort-on-panic guard, so it must be
        // the catching one.
        let finished = this.header().is_finished() && this.task.is_finished();
        let task = &mut *this.task;
        let output = if finished {
            // Ready: async-task registers no waker.
            ready!(Pin::new(task).poll(cx))
        } else {
            let waker = this.awaiter.awaiter_waker(cx.waker());
            ready!(Pin::new(task).poll(&mut Context::from_waker(&waker)))
        };
        this.awaiter.set_returned();
        Poll::Ready(match output {
            Some(output) => output.into_inner(),
            // Dropped unrun or mid-wait, by a runtime shutting down.
            None => Err(JoinError::cancelled(this.id())),
        })
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        // SAFETY: taken once, here; the field is not used after.
        let task = unsafe { ManuallyDrop::take(&mut self.task) };
        task.detach();
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

    use std::sync::atomic::Ordering::SeqCst;

    /// Counts its wakes.
    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counting() -> (Arc<Counting>, Waker) {
        let counting = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = Waker::from(counting.clone());
        (counting, waker)
    }

    fn current_thread() -> crate::runtime::Runtime {
        crate::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    }

    fn poll_with<T>(handle: &mut JoinHandle<T>, waker: &Waker) -> Poll<Result<T, JoinError>> {
        Pin::new(handle).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_join_handle_is_two_words_whatever_its_output() {
        // Every kept handle pays for its size: async-task's handle (the
        // task's pointer, from which the header and id are found) and one
        // word for the wakers' vtable or the awaiter cell.
        assert_eq!(size_of::<JoinHandle<()>>(), 16);
        assert_eq!(size_of::<JoinHandle<[u64; 16]>>(), 16);
        assert_eq!(size_of::<Option<JoinHandle<()>>>(), 16);
    }

    #[test]
    fn a_handle_rebuilds_a_waker_of_its_own_task() {
        let rt = current_thread();
        let handle = rt.spawn(std::future::pending::<()>());
        let (header, waker) = handle.task().expect("the task is live");
        assert_eq!(header.id(), handle.id());
        // The rebuilt waker's data is the task's allocation, which is
        // async-task's handle's pointer, and whose header is
        // `TASK_TO_HEADER` bytes in.
        assert_eq!(waker.data(), allocation_of(&handle.task));
        assert_eq!(
            waker.data().addr() + TASK_TO_HEADER.load(Relaxed),
            std::ptr::from_ref(header).addr()
        );
        // Woken, the waiting task is polled again: an abort ends it.
        rt.block_on(async {
            crate::task::yield_now().await;
            handle.abort();
            assert!(handle.await.expect_err("aborted").is_cancelled());
        });
    }

    #[test]
    fn an_awaited_handle_keeps_the_vtable_in_its_awaiter_cell_and_still_aborts() {
        let rt = current_thread();
        let mut handle = rt.spawn(std::future::pending::<()>());
        rt.block_on(crate::task::yield_now()); // the task waits
        let (awaiter, waker) = counting();
        assert!(poll_with(&mut handle, &waker).is_pending());
        assert!(handle.awaiter.cell().is_some(), "the handle holds a cell");
        // The abort finds the task's waker vtable in the cell.
        handle.abort();
        rt.block_on(crate::task::yield_now()); // the task is dropped
        assert_eq!(
            awaiter.0.load(SeqCst),
            1,
            "the cancellation woke the awaiter"
        );
        match poll_with(&mut handle, &waker) {
            Poll::Ready(Err(err)) => assert!(err.is_cancelled()),
            other => panic!("expected a cancelled JoinError, got {other:?}"),
        }
        assert!(handle.awaiter.cell().is_none(), "the cell was let go");
        assert!(handle.is_finished());
    }

    #[test]
    fn the_awaiter_cell_is_kept_for_the_same_waker_and_replaced_for_another() {
        let rt = current_thread();
        let mut handle = rt.spawn(std::future::pending::<()>());
        let (first, first_waker) = counting();
        assert!(poll_with(&mut handle, &first_waker).is_pending());
        let cell = handle.awaiter.cell();
        assert!(poll_with(&mut handle, &first_waker).is_pending());
        // Miri gives each use of a constant vtable an address of its own,
        // so `will_wake` is `false` for clones there.
        if !cfg!(miri) {
            assert_eq!(handle.awaiter.cell(), cell, "the same waker, the same cell");
        }
        // The first waker: ours, the test's waker, and the cell's clone.
        assert_eq!(Arc::strong_count(&first), 3);

        let (_second, second_waker) = counting();
        assert!(poll_with(&mut handle, &second_waker).is_pending());
        assert_ne!(handle.awaiter.cell(), cell, "another waker, a new cell");
        // async-task let go of the first cell when the second registered,
        // and so did the handle: nothing holds the first waker's clone.
        assert_eq!(Arc::strong_count(&first), 2);
        handle.abort();
        rt.block_on(async {
            assert!(handle.await.expect_err("aborted").is_cancelled());
        });
    }

    #[test]
    fn the_id_outlives_the_output_and_a_finished_task_ignores_abort() {
        let rt = current_thread();
        let mut handle = rt.spawn(async { 5 });
        let id = handle.id();
        assert_eq!(rt.block_on(&mut handle).expect("the output"), 5);
        assert_eq!(handle.id(), id, "the id stays the task's");
        assert!(handle.is_finished());
        assert!(handle.task().is_none(), "no waker is made after the output");
        handle.abort();
        let abort = handle.abort_handle();
        assert_eq!(abort.id(), id);
        assert!(abort.is_finished());
        assert_eq!(
            format!("{handle:?}"),
            format!("JoinHandle {{ id: {id:?} }}")
        );
    }

    #[test]
    #[should_panic(expected = "JoinHandle polled after it returned the task's output")]
    fn polling_a_handle_after_its_output_panics() {
        let rt = current_thread();
        let mut handle = rt.spawn(async {});
        rt.block_on(&mut handle).expect("the output");
        let _ = poll_with(&mut handle, Waker::noop());
    }

    #[test]
    fn the_awaiter_cell_catches_a_panic_in_its_wake() {
        struct Panicking(AtomicUsize);
        impl Wake for Panicking {
            fn wake(self: Arc<Self>) {
                self.wake_by_ref();
            }
            fn wake_by_ref(self: &Arc<Self>) {
                self.0.fetch_add(1, SeqCst);
                panic!("wake");
            }
        }
        let inner = Arc::new(Panicking(AtomicUsize::new(0)));
        let cell = Arc::new(Awaiter {
            waker: Waker::from(inner.clone()),
            task_vtable: Waker::noop().vtable(),
        });
        let waker = Waker::from(cell);
        waker.wake_by_ref();
        waker.wake();
        assert_eq!(
            inner.0.load(SeqCst),
            2,
            "every wake reached the inner waker"
        );
    }
}

//! The future a task actually runs: the user's future plus the task's
//! bookkeeping, and [`run`], the one way a task is run.
//!
//! Around each poll of the user's future the harness
//! * drops the future and completes with "cancelled" if the task was aborted;
//! * catches a panic and completes with it, so a panicking task never
//!   unwinds into the worker; the future is dropped while the panic
//!   unwinds, inside the catch, as tokio's harness does (its `Drop` sees
//!   `std::thread::panicking()`, and a std lock guard it holds is
//!   poisoned). A `Drop` that panics there is a panic during a panic, which
//!   aborts the process, as in tokio;
//! * records the poll and the reductions it charged in the header;
//! * on `Pending`, tells the scheduler the task waits
//!   ([`Scheduler::task_pending`](super::owner::Scheduler::task_pending));
//! * on completion, drops the future itself (where a panicking destructor
//!   is caught: async-task aborts the process on one) and tells the
//!   scheduler the task finished.
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
//! future. Those drops happen once the runtime shuts down, when the
//! scheduler has let go of every waiting task, or, for a task refused
//! then, before it ran.
//!
//! # What this relies on in async-task
//!
//! That order (the future dropped in the `run` whose poll returned
//! `Ready`, right after that poll, before the output is written) is
//! async-task's behaviour, not its documented contract. The workspace pins
//! the versions it was checked against, and
//! `tests::async_task_drops_the_future_inside_the_completing_run` fails if
//! it changes.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::JoinError;
use super::header::{Header, Task};
use super::unwind::{self, TaskOutput};
use crate::context;

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

    /// Drops the future, marks the task finished, tells its scheduler, and
    /// completes with `output`. Nothing but `return` may follow it.
    ///
    /// A destructor that panics is caught here. Dropping the future of an
    /// aborted task is the whole of its cancellation, so there the panic is
    /// the task's outcome (a panicked `JoinError`, as in tokio); after the
    /// future produced its output, or panicked in its poll, the panic is
    /// reported and the outcome stands.
    fn finish<T>(
        &mut self,
        header: &Header,
        output: Result<T, JoinError>,
    ) -> Poll<TaskOutput<Result<T, JoinError>>> {
        // SAFETY: the future is live: `finish` and a panicking poll's
        // `DropOnUnwind` end the only paths that drop it before `Drop`, and
        // each is taken once (the task completes).
        let dropped = catch_unwind(AssertUnwindSafe(|| unsafe {
            ManuallyDrop::drop(&mut self.future)
        }));
        let output = match (dropped, output) {
            (Ok(()), output) => output,
            (Err(payload), Err(err)) if err.is_cancelled() => {
                Err(JoinError::panic(header.id(), payload))
            }
            (Err(payload), output) => {
                unwind::report("dropping the future of a task that completed", payload);
                output
            }
        };
        complete(header, output)
    }
}

/// Marks the task finished, tells its scheduler, and completes with
/// `output`, the future being dropped already. Nothing but `return` may
/// follow it.
fn complete<T>(
    header: &Header,
    output: Result<T, JoinError>,
) -> Poll<TaskOutput<Result<T, JoinError>>> {
    // Before the output is published: `AbortHandle::is_finished` reads it.
    header.set_finished(output.as_ref().is_err_and(JoinError::is_cancelled));
    // Before the output is published (the `Ready` below): a handle that
    // returned sees the scheduler's bookkeeping done.
    header.owner().task_finished(header);
    // Last: the next thing to happen on this thread is `Drop` taking it.
    context::set_future_dropped();
    Poll::Ready(TaskOutput::new(output))
}

/// Drops the future it borrows if it is dropped itself, which only a panic
/// unwinding out of the future's poll does (a poll that returns forgets
/// it). So a panicking task's future is dropped during the unwinding,
/// inside the harness's `catch_unwind`, as tokio's harness does.
struct DropOnUnwind<'a, F> {
    future: &'a mut ManuallyDrop<F>,
}

impl<F> Drop for DropOnUnwind<'_, F> {
    fn drop(&mut self) {
        // SAFETY: the future is live (its poll was running), and after this
        // drop the harness only completes with the panic (`complete`), which
        // sets the flag that makes the harness's `Drop` skip it: it is
        // dropped once.
        unsafe { ManuallyDrop::drop(self.future) }
    }
}

impl<F: Future> Future for Harness<F> {
    type Output = TaskOutput<Result<F::Output, JoinError>>;

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
        let result = catch_unwind(AssertUnwindSafe(|| {
            let guard = DropOnUnwind {
                future: &mut this.future,
            };
            // SAFETY: as above; the future is live (no `finish` yet).
            let future = unsafe { Pin::new_unchecked(&mut **guard.future) };
            let poll = future.poll(cx);
            // The poll returned: the future stays.
            std::mem::forget(guard);
            poll
        }));

        let slice = context::slice();
        header.record_poll(slice.charged(), slice.preempted);

        match result {
            Ok(Poll::Pending) => {
                if !header.owner().task_pending(header, cx.waker()) {
                    // The runtime is shutting down and may already have
                    // woken every waiting task it knew (this one was queued
                    // or running then, or unknown to it): wake this task
                    // itself, so the scheduler drops it instead of leaving
                    // it waiting.
                    cx.waker().wake_by_ref();
                }
                Poll::Pending
            }
            Ok(Poll::Ready(output)) => this.finish(header, Ok(output)),
            // `DropOnUnwind` dropped the future during the unwinding.
            Err(payload) => complete(header, Err(JoinError::panic(header.id(), payload))),
        }
    }
}

impl<F> Drop for Harness<F> {
    fn drop(&mut self) {
        if !context::take_future_dropped() {
            // The flag is clear, so `finish` did not drop the future (see
            // the module docs): this is its only drop, of a task dropped
            // unrun or while it waited (a runtime shutting down). Nobody
            // awaits an outcome from here: a panic is reported.
            let future = &mut self.future;
            // SAFETY: the only drop of the future, as above.
            let dropped = catch_unwind(AssertUnwindSafe(|| unsafe { ManuallyDrop::drop(future) }));
            if let Err(payload) = dropped {
                unwind::report("dropping the future of a cancelled task", payload);
            }
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    //! The task cell on its own: a scheduler that records what a task tells
    //! it, and a queue in place of the workers.

    use std::future::{Future, poll_fn};
    use std::pin::pin;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::{Arc, Mutex};
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::task::owner::{Owner, OwnerHeader, Scheduler};
    use crate::task::{JoinHandle, Priority, new_task};

    #[repr(C)]
    struct Recorder {
        owner_header: OwnerHeader,
        pending: AtomicUsize,
        finished: AtomicUsize,
        queue: Mutex<Vec<Task>>,
        /// What `task_pending` answers: `false` once "shut down".
        open: std::sync::atomic::AtomicBool,
    }

    // SAFETY: `repr(C)`, and `owner_header` is the first field, made for
    // `Recorder`.
    unsafe impl Scheduler for Recorder {
        fn owner_header(&self) -> &OwnerHeader {
            &self.owner_header
        }
        fn task_pending(&self, _: &Header, _: &Waker) -> bool {
            self.pending.fetch_add(1, SeqCst);
            self.open.load(SeqCst)
        }
        fn task_finished(&self, _: &Header) {
            self.finished.fetch_add(1, SeqCst);
        }
        fn task_name(&self, _: &Header) -> Option<String> {
            None
        }
    }

    fn recorder() -> Arc<Recorder> {
        Arc::new(Recorder {
            owner_header: OwnerHeader::new::<Recorder>(),
            pending: AtomicUsize::new(0),
            finished: AtomicUsize::new(0),
            queue: Mutex::new(Vec::new()),
            open: std::sync::atomic::AtomicBool::new(true),
        })
    }

    fn schedule(task: Task) {
        // SAFETY: every task here is made by `spawn` with a `Recorder` owner.
        let recorder: Arc<Recorder> = unsafe { task.metadata().owner().to_arc() };
        recorder.queue.lock().unwrap().push(task);
    }

    fn spawn<F>(recorder: &Arc<Recorder>, future: F) -> (Task, JoinHandle<F::Output>)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let header = Header::new(false, Priority::Normal, Owner::new(recorder.clone()));
        new_task(future, header, schedule)
    }

    fn queued(recorder: &Recorder) -> Vec<Task> {
        std::mem::take(&mut *recorder.queue.lock().unwrap())
    }

    fn poll_now<T>(handle: &mut JoinHandle<T>) -> Poll<Result<T, JoinError>> {
        pin!(handle).poll(&mut Context::from_waker(Waker::noop()))
    }

    /// Counts its drops; pending once (waking itself), then ready.
    struct Yields {
        drops: Arc<AtomicUsize>,
        yielded: bool,
    }

    impl Yields {
        /// A future that has (not) yielded yet, and its drop count.
        fn new(yielded: bool) -> (Yields, Arc<AtomicUsize>) {
            let drops = Arc::new(AtomicUsize::new(0));
            let future = Yields {
                drops: drops.clone(),
                yielded,
            };
            (future, drops)
        }
    }

    impl Future for Yields {
        type Output = u32;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            if self.yielded {
                return Poll::Ready(7);
            }
            self.yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    impl Drop for Yields {
        fn drop(&mut self) {
            self.drops.fetch_add(1, SeqCst);
        }
    }

    #[test]
    fn the_harness_is_exactly_its_future() {
        // Every parked task pays for it: no header pointer, no tag.
        assert_eq!(
            std::mem::size_of::<super::Harness<[u64; 2]>>(),
            std::mem::size_of::<[u64; 2]>()
        );
        assert_eq!(std::mem::size_of::<super::Harness<()>>(), 0);
    }

    #[test]
    fn a_task_tells_its_scheduler_it_waits_then_that_it_finished() {
        let recorder = recorder();
        let (future, drops) = Yields::new(false);
        let (task, mut handle) = spawn(&recorder, future);
        assert!(poll_now(&mut handle).is_pending());

        assert!(run(task), "the task woke itself while running");
        assert_eq!(recorder.pending.load(SeqCst), 1);
        assert_eq!(recorder.finished.load(SeqCst), 0);
        let mut again = queued(&recorder);
        assert_eq!(
            again.len(),
            1,
            "the self-wake went to the schedule function"
        );

        assert!(!run(again.pop().unwrap()));
        assert_eq!(recorder.finished.load(SeqCst), 1);
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(poll_now(&mut handle).map(Result::unwrap), Poll::Ready(7));
        assert!(queued(&recorder).is_empty());
    }

    /// What the harness relies on (module docs): async-task drops the
    /// future inside the `run` whose poll returned `Ready`, so the flag
    /// `finish` sets is taken back before `run` returns, and the future is
    /// dropped once. If async-task ever dropped the harness later (or not
    /// at all before writing the output), the flag would be left set here.
    #[test]
    fn async_task_drops_the_future_inside_the_completing_run() {
        let recorder = recorder();
        let (future, drops) = Yields::new(true);
        let (task, mut handle) = spawn(&recorder, future);
        assert!(!run(task));
        assert!(
            !context::take_future_dropped(),
            "async-task did not drop the harness in the run that completed it"
        );
        assert_eq!(drops.load(SeqCst), 1, "the future was dropped once");
        assert_eq!(poll_now(&mut handle).map(Result::unwrap), Poll::Ready(7));
        drop(handle);
        assert_eq!(drops.load(SeqCst), 1);
    }

    #[test]
    fn a_task_dropped_unrun_drops_its_future_and_is_cancelled() {
        let recorder = recorder();
        let (future, drops) = Yields::new(false);
        let (task, mut handle) = spawn(&recorder, future);
        drop(task);
        assert_eq!(drops.load(SeqCst), 1);
        assert_eq!(recorder.finished.load(SeqCst), 0, "it never ran");
        match poll_now(&mut handle) {
            Poll::Ready(Err(err)) => assert!(err.is_cancelled()),
            other => panic!("expected a cancelled JoinError, got {other:?}"),
        }
    }

    #[test]
    fn a_panicking_poll_completes_the_task_with_the_panic() {
        let recorder = recorder();
        let (task, mut handle) = spawn(&recorder, async { panic!("boom") });
        assert!(!run(task));
        assert_eq!(recorder.finished.load(SeqCst), 1);
        match poll_now(&mut handle) {
            Poll::Ready(Err(err)) => assert!(err.is_panic()),
            other => panic!("expected a panicked JoinError, got {other:?}"),
        }
    }

    /// Panics in its poll while it holds a std lock's guard; its `Drop`
    /// records whether a panic was unwinding.
    struct PanicsInPoll {
        _guard: std::sync::MutexGuard<'static, ()>,
        /// `std::thread::panicking()`, at each drop.
        drops: Arc<Mutex<Vec<bool>>>,
    }

    // SAFETY: a `MutexGuard` must be released on the thread that took it;
    // the test takes it, runs the task and drops it on its own thread.
    unsafe impl Send for PanicsInPoll {}

    impl Future for PanicsInPoll {
        type Output = ();
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            panic!("boom");
        }
    }

    impl Drop for PanicsInPoll {
        fn drop(&mut self) {
            self.drops.lock().unwrap().push(std::thread::panicking());
        }
    }

    #[test]
    fn a_panicking_poll_drops_the_future_while_unwinding() {
        let recorder = recorder();
        let lock: &'static Mutex<()> = Box::leak(Box::new(Mutex::new(())));
        let drops = Arc::new(Mutex::new(Vec::new()));
        let future = PanicsInPoll {
            _guard: lock.lock().unwrap(),
            drops: drops.clone(),
        };
        let (task, mut handle) = spawn(&recorder, future);
        assert!(!run(task));
        assert_eq!(
            *drops.lock().unwrap(),
            [true],
            "the future was dropped once, inside the unwinding of its poll"
        );
        assert!(
            lock.is_poisoned(),
            "the guard it held was released while unwinding"
        );
        assert!(!context::take_future_dropped(), "the harness took the flag");
        match poll_now(&mut handle) {
            Poll::Ready(Err(err)) => assert!(err.is_panic()),
            other => panic!("expected a panicked JoinError, got {other:?}"),
        }
        assert_eq!(recorder.finished.load(SeqCst), 1);
    }

    #[test]
    fn a_task_pending_after_its_scheduler_closed_wakes_itself() {
        let recorder = recorder();
        recorder.open.store(false, SeqCst);
        let (task, _handle) = spawn(&recorder, std::future::pending::<()>());
        assert!(run(task), "refused by its scheduler, it woke itself");
        let queued = queued(&recorder);
        assert_eq!(queued.len(), 1, "to be dropped by its scheduler");
        drop(queued);
    }

    #[test]
    fn a_task_knows_its_own_header_while_it_runs() {
        let recorder = recorder();
        let (task, mut handle) = spawn(
            &recorder,
            poll_fn(|_| Poll::Ready(crate::task::try_id().is_some())),
        );
        let id = task.metadata().id();
        assert!(!run(task));
        assert_eq!(poll_now(&mut handle).map(Result::unwrap), Poll::Ready(true));
        assert_eq!(handle.id(), id);
    }
}

//! Tasks: spawning, priorities, reductions, joining.
//!
//! A task is an [`async-task`](async_task) task whose metadata is a small
//! header: priority and the counters behind [`stats`] (its [`Id`] is the
//! header's address; its name, if any, is kept by the runtime's registry of
//! tasks). It is
//! scheduled like a BEAM process: by [`Priority`], in slices of reductions
//! (see [`consume_budget`], [`reduce`], [`yield_now`]). Task-local values
//! are declared with [`task_local!`](crate::task_local) (see [`LocalKey`]).
//!
//! A runtime built with a limit on queued tasks (`max_queued_tasks`)
//! refuses work beyond it through [`Builder::try_spawn`] and
//! `Handle::try_spawn`, whose [`QueueFull`] error hands the future back;
//! plain [`spawn`] never fails and admits the task past the limit.

mod budget;
mod builder;
pub mod coop;
pub(crate) mod harness;
pub(crate) mod header;
mod id;
mod join_error;
mod join_handle;
pub mod join_set;
mod local_set;
pub(crate) mod owner;
mod priority;
mod queue_full;
mod task_local;
pub(crate) mod unwind;

use std::future::Future;

pub use builder::Builder;
pub use header::TaskStats;
pub use id::Id;
pub use join_error::JoinError;
pub use join_handle::{AbortHandle, JoinHandle};
pub use join_set::JoinSet;
pub(crate) use local_set::local_set_entered;
pub use local_set::{LocalEnterGuard, LocalRuntimeMarker, LocalSet, spawn_local};
pub use priority::Priority;
pub use queue_full::QueueFull;
pub use task_local::{AccessError, LocalKey, TaskLocalFuture};

pub mod futures {
    //! Task-related futures under tokio's module path
    //! (`tokio::task::futures::TaskLocalFuture`).
    pub use super::TaskLocalFuture;
}

pub use budget::{
    ConsumeBudget, Unconstrained, YieldNow, consume_budget, poll_charge, reduce, unconstrained,
    yield_now,
};
pub(crate) use budget::{
    Preempt, Slice, mark_preempted, run_nested_slice, run_slice, run_top_slice,
};

use crate::context;
use crate::runtime::Handle;
use harness::Harness;
use header::{Header, Task};

/// Spawns a task on the current runtime at `Normal` priority.
///
/// The task starts running at once, in the background; the returned
/// [`JoinHandle`] awaits its output. Dropping the handle detaches the task.
/// It never fails, as tokio's: on a runtime at its `max_queued_tasks` the
/// task is admitted past the limit ([`Builder::try_spawn`] refuses instead).
///
/// # Panics
///
/// Panics outside a runtime (no task, no `block_on`, no `Runtime::enter`).
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// let handle = smp_rt_executor::spawn(async { 6 * 7 });
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_with_priority(Priority::Normal, future)
}

/// Spawns a task on the current runtime at `priority`.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task::{self, Priority};
///
/// let handle = task::spawn_with_priority(Priority::High, async { task::current_priority() });
/// assert_eq!(handle.await.unwrap(), Priority::High);
/// # });
/// ```
#[track_caller]
pub fn spawn_with_priority<F>(priority: Priority, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    current_handle("spawn").spawn_task(future, None, priority)
}

/// Runs the blocking function `f` on the current runtime's blocking pool.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// let n = smp_rt_executor::task::spawn_blocking(|| {
///     std::thread::sleep(std::time::Duration::from_millis(1));
///     7
/// });
/// assert_eq!(n.await.unwrap(), 7);
/// # });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    current_handle("spawn_blocking").spawn_blocking(f)
}

/// Runs the blocking function `f` on the calling thread, while the other
/// tasks of the calling worker go on running on another thread.
///
/// On a multi-thread runtime's worker, the worker (its queues, and the
/// driver duty) is handed to a thread of the blocking pool for the length
/// of `f`, and taken back when `f` returns; `f` runs outside the task's
/// reduction slice (it is never charged). The calling task itself waits
/// for `f`, so everything it borrows stays usable (unlike
/// [`spawn_blocking`], which needs `'static` data). Outside any runtime,
/// or in a multi-thread runtime's `block_on`, `f` just runs.
///
/// Prefer [`spawn_blocking`] for long calls: the worker is taken back only
/// between two polls of the thread running it meanwhile, so a caller may
/// wait for a poll of another task after `f` returns (and, if that task is
/// itself in `block_in_place`, for its `f`).
///
/// # Panics
///
/// Panics on a current-thread runtime (in a task or its `block_on`), whose
/// one thread runs everything, and inside a [`LocalSet`] (its tasks run on
/// this thread only): "can call blocking only when running on the
/// multi-threaded runtime".
///
/// # Examples
///
/// ```
/// use smp_rt_executor::task;
///
/// let rt = smp_rt_executor::runtime::Builder::new_multi_thread()
///     .worker_threads(1)
///     .build()
///     .unwrap();
/// let out = rt.block_on(async {
///     smp_rt_executor::spawn(async {
///         let data = vec![1, 2, 3];
///         // Blocks this thread; the worker's other tasks keep running.
///         task::block_in_place(|| data.iter().sum::<i32>())
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(out, 6);
/// ```
#[track_caller]
pub fn block_in_place<F, R>(f: F) -> R
where
    F: FnOnce() -> R,
{
    crate::scheduler::block_in_place(f)
}

#[track_caller]
fn current_handle(what: &str) -> Handle {
    match Handle::try_current() {
        Ok(handle) => handle,
        Err(err) => panic!("{what}: {err}"),
    }
}

/// A new task cell: `future` in its harness, with `header` as its
/// metadata and `schedule` as async-task's schedule function (placement:
/// see `owner`). Returns the task to queue and its handle.
pub(crate) fn new_task<F, S>(
    future: F,
    header: Header,
    schedule: S,
) -> (Task, JoinHandle<F::Output>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: async_task::Schedule<Header> + Send + Sync + 'static,
{
    const {
        assert!(
            std::mem::size_of::<S>() == 0,
            "a schedule function that captures state costs a count per wake (see `owner`)"
        )
    };
    let (task, handle) = async_task::Builder::new()
        .metadata(header)
        .spawn(move |_: &Header| Harness::new(future), schedule);
    let handle = JoinHandle::new(handle, task.waker());
    (task, handle)
}

/// A new task cell for a future that need not be `Send`: `future` in its
/// harness, with `header` and `schedule` as in [`new_task`].
///
/// # Safety
///
/// The returned task (its `Runnable`) is run and dropped only on the
/// calling thread, and `schedule` hands it back to that thread without
/// running or dropping it elsewhere: the future and its harness never
/// leave this thread. (The output may leave it only inside the returned
/// handle, which is `Send` only when the output is.)
pub(crate) unsafe fn new_local_task<F, S>(
    future: F,
    header: Header,
    schedule: S,
) -> (Task, JoinHandle<F::Output>)
where
    F: Future + 'static,
    F::Output: 'static,
    S: async_task::Schedule<Header> + Send + Sync + 'static,
{
    const {
        assert!(
            std::mem::size_of::<S>() == 0,
            "a schedule function that captures state costs a count per wake (see `owner`)"
        )
    };
    // SAFETY: the future is not required to be `Send`, which async-task's
    // `spawn_unchecked` leaves to its caller: the caller's contract keeps
    // the runnable, hence the future, on this thread. Everything else
    // `spawn_unchecked` asks holds as for `spawn`: the future and the
    // schedule function are `'static`, and the metadata is `Send + Sync`.
    let (task, handle) = unsafe {
        async_task::Builder::new()
            .metadata(header)
            .spawn_unchecked(move |_: &Header| Harness::new(future), schedule)
    };
    let handle = JoinHandle::new(handle, task.waker());
    (task, handle)
}

fn with_current<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    // SAFETY: the context holds the header of the task being polled on this
    // thread, which is alive for the whole poll.
    context::current_task().map(|header| f(unsafe { header.as_ref() }))
}

/// The id of the calling task.
///
/// # Panics
///
/// Panics outside a task; see [`try_id`].
#[track_caller]
pub fn id() -> Id {
    try_id()
        .expect("task::id() was called outside a task; use task::try_id() where that can happen")
}

/// The id of the calling task, or `None` outside a task.
pub fn try_id() -> Option<Id> {
    with_current(Header::id)
}

/// The priority of the calling task (`Normal` outside a task).
pub fn current_priority() -> Priority {
    with_current(|header| header.priority()).unwrap_or_default()
}

/// Changes the calling task's priority, like BEAM's
/// `process_flag(priority, P)`. It applies from the task's next slice: the
/// next time it is queued, it goes to the deque of `priority`.
///
/// # Panics
///
/// Panics outside a task.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task::{self, Priority};
///
/// smp_rt_executor::spawn(async {
///     task::set_priority(Priority::Low);
///     task::yield_now().await; // requeued at Low
///     assert_eq!(task::current_priority(), Priority::Low);
/// })
/// .await
/// .unwrap();
/// # });
/// ```
#[track_caller]
pub fn set_priority(priority: Priority) {
    with_current(|header| header.set_priority(priority))
        .expect("task::set_priority() was called outside a task: only a task has a priority");
}

/// Counters of the calling task: reductions, polls, preemptions, priority.
///
/// # Panics
///
/// Panics outside a task.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task;
///
/// smp_rt_executor::spawn(async {
///     task::yield_now().await;
///     let stats = task::stats();
///     assert!(stats.polls >= 1);
///     assert!(stats.reductions >= 1);
/// })
/// .await
/// .unwrap();
/// # });
/// ```
#[track_caller]
pub fn stats() -> TaskStats {
    with_current(Header::stats).expect("task::stats() was called outside a task")
}

/// Sets (or, with `None`, clears) the calling task's deadline, and arms the
/// miss check for its next poll: if that poll starts after `deadline`, it
/// counts as a miss. It applies from the next time the task is queued: the
/// task is ordered among the ready tasks of its priority by `deadline`
/// (earliest first; see [`Builder::deadline`]). A periodic task sets its
/// next deadline before it sleeps to its next release.
///
/// # Panics
///
/// Panics outside a task, and in a task of a [`LocalSet`], which keeps no
/// deadlines.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use std::time::{Duration, Instant};
/// use smp_rt_executor::task;
///
/// smp_rt_executor::spawn(async {
///     let due = Instant::now() + Duration::from_secs(1);
///     task::set_deadline(Some(due));
///     task::yield_now().await; // queued by its deadline
///     assert_eq!(task::deadline(), Some(due));
///     assert_eq!(task::deadline_misses(), 0);
/// })
/// .await
/// .unwrap();
/// # });
/// ```
#[track_caller]
pub fn set_deadline(deadline: Option<std::time::Instant>) {
    with_current(|header| crate::scheduler::set_current_deadline(header, deadline))
        .expect("task::set_deadline() was called outside a task: only a task has a deadline");
}

/// The calling task's deadline, or `None` (also outside a task).
pub fn deadline() -> Option<std::time::Instant> {
    with_current(|header| crate::scheduler::with_deadline_table(header, |t| t.deadline(header)))
        .flatten()
        .flatten()
}

/// Deadlines the calling task missed so far: first polls after a deadline
/// was set ([`Builder::deadline`], [`set_deadline`]) that started after it.
/// `0` for a task that never had a deadline, and outside a task.
pub fn deadline_misses() -> u64 {
    with_current(|header| crate::scheduler::with_deadline_table(header, |t| t.misses(header)))
        .flatten()
        .unwrap_or(0)
}

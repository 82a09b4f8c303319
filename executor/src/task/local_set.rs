//! `LocalSet` and `spawn_local`: tasks whose futures are not `Send`.
//!
//! A [`LocalSet`] is a scheduler of its own, run by whoever polls it (a
//! task, `block_on`, a `LocalRuntime`), always on the thread that made it:
//! the set is neither `Send` nor `Sync`, and its tasks run only inside its
//! poll. Its tasks are ordinary smp_rt tasks (same header, harness,
//! `JoinHandle`, `AbortHandle`, `JoinError`, ids), whose owner is the set's
//! [`LocalQueue`] instead of a runtime.
//!
//! # The queue
//!
//! One `Mutex`-protected FIFO of runnable tasks. A wake from any thread
//! pushes the task there (never runs or drops it: the future stays on the
//! set's thread) and wakes the set's own waker, the waker of whoever polled
//! the set last; a wake on the set's thread while the set runs its tasks
//! skips that waker, since the running loop finds the task anyway.
//!
//! # Budget
//!
//! Each poll of a local task is a slice carved from the slice of the task
//! (or `block_on`) polling the set, and charged to it: a set running many
//! tasks spends its poller's reductions and yields (waking itself) when they
//! are spent, so it cannot hold a worker longer than any other task. It
//! also yields after [`MAX_TASKS_PER_TICK`] task polls, as tokio's does.
//!
//! # Dropping
//!
//! The set keeps a waker of every task it spawned and that has not finished
//! (`live`). Dropping the set closes the queue, wakes every live task, and
//! cancels each as it arrives in the queue (marked aborted and run once, so
//! its future is dropped by its harness, on the set's thread), until none
//! is live: a wake racing on another thread only delays its task's arrival.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::pin::{Pin, pin};
use std::ptr;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use super::budget::has_budget_remaining;
use super::header::{Header, Task};
use super::owner::{Owner, OwnerHeader, Scheduler};
use super::{JoinHandle, Priority, harness, mark_preempted, new_local_task, run_nested_slice};
use crate::context;
use crate::runtime::DEFAULT_REDUCTIONS;

/// Task polls a set runs per poll of its own before it yields.
const MAX_TASKS_PER_TICK: usize = 61;

thread_local! {
    /// The set entered on this thread (`enter`, or running): where
    /// `spawn_local` puts tasks.
    static CURRENT: RefCell<Option<Arc<LocalQueue>>> = const { RefCell::new(None) };
    /// The set whose tasks this thread is running right now (null if none):
    /// its own wakes need not wake its poller.
    static RUNNING: Cell<*const LocalQueue> = const { Cell::new(ptr::null()) };
}

/// A set of tasks that run on the thread of the set, whose futures need
/// not be `Send`.
///
/// Tasks are spawned with [`spawn_local`](LocalSet::spawn_local) (or the
/// free [`spawn_local`](crate::task::spawn_local) while the set runs or is
/// entered) and run while the set is polled: by
/// [`run_until`](LocalSet::run_until), by [`block_on`](LocalSet::block_on),
/// or by awaiting the set itself, which completes once all its tasks
/// have finished. Their handles are ordinary [`JoinHandle`]s: they abort,
/// report panics as [`JoinError`](crate::task::JoinError)s and have ids.
///
/// Dropping the set drops every task it still holds, on its thread, with
/// the set entered.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use smp_rt_executor::task::{self, LocalSet};
///
/// let rt = smp_rt_executor::runtime::Builder::new_current_thread().build().unwrap();
/// let local = LocalSet::new();
/// let shared = Rc::new(5); // not Send
/// let out = local.block_on(&rt, async move {
///     let shared2 = shared.clone();
///     task::spawn_local(async move { *shared2 * 2 }).await.unwrap()
/// });
/// assert_eq!(out, 10);
/// ```
pub struct LocalSet {
    queue: Arc<LocalQueue>,
    /// Drawn from the same sequence as runtimes' ids (tokio's `LocalSet::id`).
    id: crate::runtime::Id,
    /// Neither `Send` nor `Sync`: the tasks run on this thread only.
    _not_send: PhantomData<*const ()>,
}

/// Leaves a [`LocalSet`] entered with [`LocalSet::enter`] when dropped.
pub struct LocalEnterGuard {
    prev: Option<Arc<LocalQueue>>,
    _not_send: PhantomData<*const ()>,
}

impl Drop for LocalEnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let old = CURRENT.try_with(|c| c.replace(prev)).ok().flatten();
        // Outside the borrow: dropping the last count of a queue may drop
        // tasks, which may spawn.
        drop(old);
    }
}

impl fmt::Debug for LocalEnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalEnterGuard").finish_non_exhaustive()
    }
}

impl LocalSet {
    /// The set's queue (for `task::Builder::spawn_local_on`).
    pub(crate) fn queue(&self) -> &Arc<LocalQueue> {
        &self.queue
    }

    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet {
            queue: Arc::new(LocalQueue {
                owner_header: OwnerHeader::new::<LocalQueue>(),
                state: Mutex::new(State {
                    ready: VecDeque::new(),
                    live: HashMap::new(),
                    names: HashMap::new(),
                    waker: None,
                }),
                closed: AtomicBool::new(false),
                queued: Condvar::new(),
            }),
            id: crate::runtime::Id::next(),
            _not_send: PhantomData,
        }
    }

    /// The set's id, unique among runtimes and local sets of this process.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::task::LocalSet;
    ///
    /// let (a, b) = (LocalSet::new(), LocalSet::new());
    /// assert_ne!(a.id(), b.id());
    /// ```
    pub fn id(&self) -> crate::runtime::Id {
        self.id
    }

    /// Enters the set on this thread until the guard drops: the free
    /// [`spawn_local`](crate::task::spawn_local) spawns onto it. The tasks
    /// run when the set is next polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::task::{self, LocalSet};
    ///
    /// let rt = smp_rt_executor::runtime::Builder::new_current_thread().build().unwrap();
    /// let local = LocalSet::new();
    /// let handle = {
    ///     let _guard = local.enter();
    ///     task::spawn_local(async { "ran" })
    /// };
    /// assert_eq!(local.block_on(&rt, handle).unwrap(), "ran");
    /// ```
    pub fn enter(&self) -> LocalEnterGuard {
        let prev = CURRENT.with(|c| c.replace(Some(self.queue.clone())));
        LocalEnterGuard {
            prev,
            _not_send: PhantomData,
        }
    }

    /// Spawns a task on this set. It runs when the set is polled
    /// ([`run_until`](LocalSet::run_until), [`block_on`](LocalSet::block_on),
    /// or awaiting the set).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::task::LocalSet;
    ///
    /// let rt = smp_rt_executor::runtime::Builder::new_current_thread().build().unwrap();
    /// let local = LocalSet::new();
    /// let handle = local.spawn_local(async { std::rc::Rc::new(3) });
    /// let out = local.block_on(&rt, async { handle.await.unwrap() });
    /// assert_eq!(*out, 3);
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.queue.spawn(future)
    }

    /// Runs `future` to completion on `rt`, running this set's tasks
    /// meanwhile, on the calling thread: `rt.block_on(self.run_until(future))`.
    ///
    /// # Panics
    ///
    /// As [`Runtime::block_on`](crate::runtime::Runtime::block_on): inside a
    /// task or another `block_on`.
    #[track_caller]
    pub fn block_on<R, F>(&self, rt: &R, future: F) -> F::Output
    where
        R: AsRef<crate::runtime::Runtime> + ?Sized,
        F: Future,
    {
        rt.as_ref().block_on(self.run_until(future))
    }

    /// Runs `future` to completion, running this set's tasks meanwhile.
    /// Tasks still running when `future` completes stay in the set and run
    /// the next time it is polled.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::task::{self, LocalSet};
    ///
    /// # smp_rt_executor::block_on(async {
    /// let local = LocalSet::new();
    /// let n = local
    ///     .run_until(async { task::spawn_local(async { 7 }).await.unwrap() })
    ///     .await;
    /// assert_eq!(n, 7);
    /// # });
    /// ```
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        poll_fn(|cx| {
            self.queue.register(cx.waker());
            let output = {
                let _running = Running::enter(&self.queue);
                future.as_mut().poll(cx)
            };
            if let Poll::Ready(output) = output {
                return Poll::Ready(output);
            }
            if self.queue.tick() {
                cx.waker().wake_by_ref();
            }
            Poll::Pending
        })
        .await
    }
}

impl Default for LocalSet {
    fn default() -> LocalSet {
        LocalSet::new()
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet").finish_non_exhaustive()
    }
}

/// Runs the set's tasks; completes once every task it spawned has finished.
impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Registered before the look: a wake after it wakes this poller.
        self.queue.register(cx.waker());
        if self.queue.tick() {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        if self.queue.lock().live.is_empty() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for LocalSet {
    fn drop(&mut self) {
        // `try_with`: a set kept in a thread-local may be dropped after
        // `CURRENT` (its tasks then drop without the set entered).
        let prev = CURRENT
            .try_with(|c| c.replace(Some(self.queue.clone())))
            .ok();
        let _entered = prev.map(|prev| LocalEnterGuard {
            prev,
            _not_send: PhantomData,
        });
        self.queue.close_and_drop_tasks();
    }
}

/// Spawns a `!Send` future on the [`LocalSet`] (or `LocalRuntime`) that
/// runs or is entered on this thread.
///
/// # Panics
///
/// Panics outside a `LocalSet` or `LocalRuntime`.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use smp_rt_executor::task::{self, LocalSet};
///
/// # smp_rt_executor::block_on(async {
/// LocalSet::new()
///     .run_until(async {
///         let rc = Rc::new("not Send");
///         let out = task::spawn_local(async move { *rc }).await.unwrap();
///         assert_eq!(out, "not Send");
///     })
///     .await;
/// # });
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    current_queue("spawn_local").spawn(future)
}

/// The queue of the set entered on this thread.
///
/// # Panics
///
/// Panics outside a `LocalSet` or `LocalRuntime`; `what` names the caller.
#[track_caller]
pub(crate) fn current_queue(what: &str) -> Arc<LocalQueue> {
    let queue = CURRENT.with(|c| c.borrow().clone());
    if let Some(queue) = queue {
        return queue;
    }
    let in_local_runtime = crate::runtime::Handle::current_extension::<LocalRuntimeMarker>()
        .is_ok_and(|marker| marker.is_some());
    if in_local_runtime {
        panic!(
            "Local tasks can only be spawned on a LocalRuntime from the thread the runtime was \
             created on: {what} was called where the handle of a LocalRuntime of another thread \
             is entered. Spawn Send tasks there with spawn, or call {what} on the runtime's own \
             thread (inside its block_on, or after its enter)."
        );
    }
    panic!(
        "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`: \
         {what} needs the set that will run the task, which is not Send and so runs on that \
         set's thread only. Run the caller inside LocalSet::run_until or LocalSet::block_on (or \
         after LocalSet::enter), or in a LocalRuntime (Builder::new_current_thread()\
         .build_local(..), #[smp_rt::main(flavor = \"local\")]); or make the future Send and \
         use spawn."
    )
}

/// Marks a runtime as a `LocalRuntime`'s (an extension the facade's
/// `Builder::build_local` attaches), for `spawn_local`'s panic message.
#[doc(hidden)]
#[derive(Debug)]
pub struct LocalRuntimeMarker;

/// `true` while a [`LocalSet`] runs or is entered on this thread.
pub(crate) fn local_set_entered() -> bool {
    CURRENT.try_with(|c| c.borrow().is_some()).unwrap_or(false)
}

/// Marks this thread as running `queue`'s tasks (and `queue` as entered)
/// until dropped.
struct Running {
    prev_running: *const LocalQueue,
    _entered: LocalEnterGuard,
}

impl Running {
    fn enter(queue: &Arc<LocalQueue>) -> Running {
        let prev_running = RUNNING.with(|r| r.replace(Arc::as_ptr(queue)));
        let prev = CURRENT.with(|c| c.replace(Some(queue.clone())));
        Running {
            prev_running,
            _entered: LocalEnterGuard {
                prev,
                _not_send: PhantomData,
            },
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = RUNNING.try_with(|r| r.set(self.prev_running));
    }
}

/// A set's scheduler: the queue, and the owner of its tasks.
///
/// `repr(C)`: its first field is where a task's owner pointer finds the
/// hooks (see `task::owner`).
#[repr(C)]
pub(crate) struct LocalQueue {
    owner_header: OwnerHeader,
    state: Mutex<State>,
    /// Set once, when the set is dropped: waiting tasks are no longer kept.
    /// Read and written on the set's thread only (its drop, its tasks'
    /// polls, its spawns), hence `Relaxed`; atomic only because the queue
    /// is shared with wakers on other threads.
    closed: AtomicBool,
    /// Signalled at every push: a dropping set waits here for the tasks
    /// other threads are waking.
    queued: Condvar,
}

struct State {
    /// Tasks to run, in order.
    ready: VecDeque<Task>,
    /// A waker of every task spawned and not finished, by header address.
    live: HashMap<usize, Waker>,
    /// The names of the live tasks that have one, by header address.
    names: HashMap<usize, Box<str>>,
    /// The waker of the set's poller.
    waker: Option<Waker>,
}

fn key(header: &Header) -> usize {
    ptr::from_ref(header).addr()
}

impl LocalQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    #[track_caller]
    fn spawn<F>(self: &Arc<Self>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.spawn_task(future, None, Priority::Normal)
    }

    /// Spawns a task with a name (kept until it finishes) and a priority
    /// (which `task::current_priority` reports; the set runs its tasks in
    /// the order they were queued, whatever their priorities).
    #[track_caller]
    pub(crate) fn spawn_task<F>(
        self: &Arc<Self>,
        future: F,
        name: Option<Box<str>>,
        priority: Priority,
    ) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let header = Header::new(name.is_some(), priority, Owner::new(self.clone()));
        // SAFETY: `schedule_local` only pushes the task into this queue, and
        // the queue's tasks are run and dropped only by the set's own
        // methods (`tick`, `close_and_drop_tasks`), on the set's thread: the
        // set is neither `Send` nor `Sync`, and this is its thread (its
        // `spawn_local`, or the free `spawn_local` on the thread where it
        // is entered). Dropping `task` below happens on this thread too.
        let (task, handle) = unsafe { new_local_task(future, header, schedule_local) };
        if self.closed.load(Relaxed) {
            // Spawned while the set drops its tasks (by a future's `Drop`):
            // cancelled unrun, on the set's thread.
            drop(task);
            return handle;
        }
        {
            let mut state = self.lock();
            state.live.insert(key(task.metadata()), task.waker());
            if let Some(name) = name {
                state.names.insert(key(task.metadata()), name);
            }
        }
        self.push(task);
        handle
    }

    /// Queues `task` and wakes the set's poller (unless this thread is
    /// running the set's tasks right now).
    fn push(&self, task: Task) {
        let mut state = self.lock();
        state.ready.push_back(task);
        self.queued.notify_one();
        let running_here = RUNNING
            .try_with(|r| ptr::eq(r.get(), self))
            .unwrap_or(false);
        let waker = if running_here {
            None
        } else {
            state.waker.clone()
        };
        drop(state);
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Records the poller's waker.
    fn register(&self, waker: &Waker) {
        let mut state = self.lock();
        if !state.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            let old = state.waker.replace(waker.clone());
            drop(state);
            drop(old);
        }
    }

    /// Runs queued tasks until none is left (returns `false`), or until the
    /// poller's slice is spent or `MAX_TASKS_PER_TICK` polls ran (returns
    /// `true`: the caller wakes itself and yields).
    fn tick(self: &Arc<Self>) -> bool {
        let _running = Running::enter(self);
        let reductions =
            context::with_handle(|h| h.shared.config.reductions).unwrap_or(DEFAULT_REDUCTIONS);
        for _ in 0..MAX_TASKS_PER_TICK {
            if !has_budget_remaining() {
                return self.yield_if_queued();
            }
            let Some(task) = self.lock().ready.pop_front() else {
                return false;
            };
            let span = task.metadata().span();
            let _span = span.enter();
            let (_, spent) = run_nested_slice(reductions, || harness::run(task));
            if spent {
                return self.yield_if_queued();
            }
        }
        !self.lock().ready.is_empty()
    }

    /// The poller's slice is spent: `true` (yield) if tasks wait, and then
    /// the poll counts as preempted, as a task's would.
    fn yield_if_queued(&self) -> bool {
        let queued = !self.lock().ready.is_empty();
        if queued {
            mark_preempted();
        }
        queued
    }

    /// Closes the queue and drops every task not finished (see the module
    /// docs). On the set's thread.
    fn close_and_drop_tasks(&self) {
        self.closed.store(true, Relaxed);
        let wakers: Vec<Waker> = self.lock().live.values().cloned().collect();
        // A waiting task is queued by its wake (here, at once); a queued one
        // is already; one being woken on another thread is on its way.
        wakers.into_iter().for_each(Waker::wake);
        loop {
            let mut state = self.lock();
            while state.ready.is_empty() && !state.live.is_empty() {
                state = self.queued.wait(state).unwrap_or_else(|p| p.into_inner());
            }
            if state.ready.is_empty() {
                let old = state.waker.take();
                drop(state);
                drop(old);
                return;
            }
            let tasks = std::mem::take(&mut state.ready);
            drop(state);
            // Each task is cancelled as an abort cancels it: its next run
            // drops the future (a panic there is the task's `JoinError`)
            // and finishes it, which takes it out of `live`. Dropping a
            // future may wake or spawn local tasks: those are queued (or
            // cancelled at once) and handled by the next round.
            for task in tasks {
                task.metadata().abort();
                harness::run(task);
            }
        }
    }
}

/// The schedule function of a local task: its set's queue.
fn schedule_local(task: Task) {
    // SAFETY: every task owned by a `LocalQueue` is created by
    // `LocalQueue::spawn` with an owner made from an `Arc<LocalQueue>`, and
    // only those tasks are given this schedule function.
    let queue: Arc<LocalQueue> = unsafe { task.metadata().owner().to_arc() };
    queue.push(task);
}

// SAFETY: `LocalQueue` is `#[repr(C)]` and its first field is
// `OwnerHeader::new::<LocalQueue>()` (see `LocalSet::new`).
unsafe impl Scheduler for LocalQueue {
    fn owner_header(&self) -> &OwnerHeader {
        &self.owner_header
    }

    fn task_pending(&self, _task: &Header, _waker: &Waker) -> bool {
        // Every live task is known by `live` from its spawn on.
        !self.closed.load(Relaxed)
    }

    fn task_finished(&self, task: &Header) {
        let waker = {
            let mut state = self.lock();
            if task.is_named() {
                state.names.remove(&key(task));
            }
            state.live.remove(&key(task))
        };
        // Outside the lock: no task reference is dropped under it.
        drop(waker);
    }

    fn task_name(&self, task: &Header) -> Option<String> {
        self.lock()
            .names
            .get(&key(task))
            .map(|name| name.to_string())
    }
}

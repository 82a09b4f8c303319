//! `JoinSet`: a set of tasks awaited as they complete (also reachable at
//! tokio's path, `task::join_set::JoinSet`).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::stream::{FuturesUnordered, Stream};
use futures::{StreamExt, task::noop_waker_ref};

use super::{AbortHandle, Id, JoinError, JoinHandle, spawn, spawn_blocking, unconstrained};
use crate::runtime::Handle;

/// A collection of spawned tasks, joined in completion order.
///
/// Dropping the set aborts every task still in it.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task::JoinSet;
///
/// let mut set = JoinSet::new();
/// for i in 0..10u64 {
///     set.spawn(async move { i * i });
/// }
/// let mut sum = 0;
/// while let Some(result) = set.join_next().await {
///     sum += result.unwrap();
/// }
/// assert_eq!(sum, 285);
/// assert!(set.is_empty());
/// # });
/// ```
pub struct JoinSet<T> {
    tasks: FuturesUnordered<WithId<T>>,
}

/// A task's handle, whose output carries the task's id.
struct WithId<T>(JoinHandle<T>);

impl<T> Future for WithId<T> {
    type Output = Result<(Id, T), JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.0.id();
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|out| out.map(|value| (id, value)))
    }
}

fn drop_id<T>(out: Result<(Id, T), JoinError>) -> Result<T, JoinError> {
    out.map(|(_, value)| value)
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: FuturesUnordered::new(),
        }
    }

    /// Tasks in the set (finished ones count until joined).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// `true` if the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Aborts every task in the set; they stay in it until joined (as
    /// cancelled, unless they finished first).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let mut set = JoinSet::new();
    /// set.spawn(std::future::pending::<()>());
    /// set.abort_all();
    /// assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn abort_all(&mut self) {
        self.tasks.iter().for_each(|task| task.0.abort());
    }

    /// Removes every task from the set without aborting it: they run on,
    /// detached.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let (tx, rx) = futures::channel::oneshot::channel();
    /// let mut set = JoinSet::new();
    /// set.spawn(async move { tx.send(1).unwrap() });
    /// set.detach_all();
    /// assert!(set.is_empty());
    /// drop(set); // does not abort the detached task
    /// assert_eq!(rx.await, Ok(1));
    /// # });
    /// ```
    pub fn detach_all(&mut self) {
        self.tasks.clear();
    }

    /// The output of a task of the set that has completed, without waiting:
    /// `None` if none has (or the set is empty).
    ///
    /// As in tokio, this does not charge reductions, and it does not
    /// register the caller for a wake-up: use
    /// [`join_next`](JoinSet::join_next) to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let mut set = JoinSet::new();
    /// assert!(set.try_join_next().is_none());
    /// let (tx, rx) = futures::channel::oneshot::channel::<()>();
    /// set.spawn(async move {
    ///     let _ = rx.await;
    ///     5
    /// });
    /// assert!(set.try_join_next().is_none()); // still waiting
    /// drop(tx);
    /// loop {
    ///     if let Some(out) = set.try_join_next() {
    ///         assert_eq!(out.unwrap(), 5);
    ///         break;
    ///     }
    ///     smp_rt_executor::task::yield_now().await;
    /// }
    /// # });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id().map(drop_id)
    }

    /// [`try_join_next`](JoinSet::try_join_next), with the id of the task
    /// whose output it is (a [`JoinError`] has it too, as
    /// [`JoinError::id`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::{self, JoinSet};
    ///
    /// let mut set = JoinSet::new();
    /// let abort = set.spawn(async { 1 });
    /// let (id, value) = loop {
    ///     if let Some(out) = set.try_join_next_with_id() {
    ///         break out.unwrap();
    ///     }
    ///     task::yield_now().await;
    /// };
    /// assert_eq!((id, value), (abort.id(), 1));
    /// # });
    /// ```
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut next = unconstrained(self.tasks.next());
        match Pin::new(&mut next).poll(&mut cx) {
            Poll::Ready(out) => out,
            Poll::Pending => None,
        }
    }

    /// Polls for the next task to complete: tokio's `poll_join_next`, for
    /// hand-written futures. `Ready(None)` when the set is empty.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let mut set = JoinSet::new();
    /// set.spawn(async { 3 });
    /// let out = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
    /// assert_eq!(out.unwrap().unwrap(), 3);
    /// # });
    /// ```
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        Pin::new(&mut self.tasks)
            .poll_next(cx)
            .map(|out| out.map(drop_id))
    }

    /// Polls for the next task to complete, with its id: as
    /// [`poll_join_next`](Self::poll_join_next), the output paired with
    /// the task's id (a failed task's id is in its [`JoinError`]).
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<(Id, T), JoinError>>> {
        Pin::new(&mut self.tasks).poll_next(cx)
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns `future`, which need not be `Send`, on the current
    /// [`LocalSet`](super::LocalSet) and adds it to the set.
    ///
    /// # Panics
    ///
    /// Panics outside a `LocalSet` or `LocalRuntime` (see
    /// [`spawn_local`](super::spawn_local)).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::{JoinSet, LocalSet};
    ///
    /// LocalSet::new()
    ///     .run_until(async {
    ///         let mut set = JoinSet::new();
    ///         let rc = std::rc::Rc::new(4);
    ///         set.spawn_local(async move { *rc });
    ///         assert_eq!(set.join_next().await.unwrap().unwrap(), 4);
    ///     })
    ///     .await;
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(&mut self, future: F) -> super::AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(super::spawn_local(future))
    }

    /// Spawns `future`, which need not be `Send`, on `local_set` and adds
    /// it to the set. It runs when `local_set` is polled.
    pub fn spawn_local_on<F>(
        &mut self,
        future: F,
        local_set: &super::LocalSet,
    ) -> super::AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.insert(local_set.spawn_local(future))
    }

    /// Adds an already spawned task to the set.
    pub fn insert(&mut self, handle: JoinHandle<T>) -> super::AbortHandle {
        let abort = handle.abort_handle();
        self.tasks.push(WithId(handle));
        abort
    }

    /// Waits for the next task to complete; `None` when the set is empty.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.tasks.next().await.map(drop_id)
    }

    /// [`join_next`](JoinSet::join_next), with the id of the task whose
    /// output it is (a [`JoinError`] has it too, as [`JoinError::id`]).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let mut set = JoinSet::new();
    /// let abort = set.spawn(async { "out" });
    /// let (id, value) = set.join_next_with_id().await.unwrap().unwrap();
    /// assert_eq!((id, value), (abort.id(), "out"));
    /// # });
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        self.tasks.next().await
    }

    /// Aborts every task and waits for all of them to end; the set is
    /// empty afterwards.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let mut set = JoinSet::new();
    /// for _ in 0..3 {
    ///     set.spawn(std::future::pending::<()>());
    /// }
    /// set.shutdown().await;
    /// assert!(set.is_empty());
    /// # });
    /// ```
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Waits for every task; outputs in completion order.
    ///
    /// # Panics
    ///
    /// If a task panicked, resumes its panic (the other tasks are aborted
    /// when the set is dropped); if one was cancelled, panics.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let set: JoinSet<u32> = (1..=3).map(|i| async move { i }).collect();
    /// let mut out = set.join_all().await;
    /// out.sort();
    /// assert_eq!(out, [1, 2, 3]);
    /// # });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(result) = self.join_next().await {
            match result {
                Ok(value) => out.push(value),
                Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
                Err(err) => panic!("a task in the JoinSet was cancelled: {err}"),
            }
        }
        out
    }
}

impl<T: Send + 'static> JoinSet<T> {
    /// Spawns `future` on the current runtime and adds it to the set.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime.
    #[track_caller]
    pub fn spawn<F>(&mut self, future: F) -> super::AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(spawn(future))
    }

    /// Spawns `future` on the runtime of `handle` and adds it to the set.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::Runtime;
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let rt = Runtime::new().unwrap();
    /// let mut set = JoinSet::new();
    /// set.spawn_on(async { 1 }, rt.handle()); // outside any runtime
    /// let out = rt.block_on(async move { set.join_all().await });
    /// assert_eq!(out, [1]);
    /// ```
    pub fn spawn_on<F>(&mut self, future: F, handle: &Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
    {
        self.insert(handle.spawn(future))
    }

    /// Runs `f` on the current runtime's blocking pool and adds it to the
    /// set. As in tokio, a blocking function cannot be aborted once it
    /// runs.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let mut set = JoinSet::new();
    /// for i in 0..4u32 {
    ///     set.spawn_blocking(move || i * 10);
    /// }
    /// let mut out = set.join_all().await;
    /// out.sort();
    /// assert_eq!(out, [0, 10, 20, 30]);
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(spawn_blocking(f))
    }

    /// Runs `f` on the blocking pool of `handle`'s runtime and adds it to
    /// the set.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::Runtime;
    /// use smp_rt_executor::task::JoinSet;
    ///
    /// let rt = Runtime::new().unwrap();
    /// let mut set = JoinSet::new();
    /// set.spawn_blocking_on(|| "blocking", rt.handle());
    /// assert_eq!(rt.block_on(set.join_all()), ["blocking"]);
    /// ```
    pub fn spawn_blocking_on<F>(&mut self, f: F, handle: &Handle) -> AbortHandle
    where
        F: FnOnce() -> T + Send + 'static,
    {
        self.insert(handle.spawn_blocking(f))
    }
}

/// Spawns each future on the current runtime and adds it to the set.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task::JoinSet;
///
/// let mut set = JoinSet::new();
/// set.extend((0..3).map(|i| async move { i }));
/// set.extend([async { 3 }]);
/// assert_eq!(set.len(), 4);
/// let mut out = set.join_all().await;
/// out.sort();
/// assert_eq!(out, [0, 1, 2, 3]);
/// # });
/// ```
impl<T, F> Extend<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for future in iter {
            self.spawn(future);
        }
    }
}

/// Collects futures into a set, spawning each on the current runtime.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task::JoinSet;
///
/// let set: JoinSet<_> = (0..10u64).map(|i| async move { i * i }).collect();
/// assert_eq!(set.join_all().await.iter().sum::<u64>(), 285);
/// # });
/// ```
impl<T, F> FromIterator<F> for JoinSet<T>
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    #[track_caller]
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.abort_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

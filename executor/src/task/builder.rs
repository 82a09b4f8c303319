//! `task::Builder`: a task with a name and a priority.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use super::{JoinHandle, Priority, QueueFull};
use crate::runtime::Handle;

/// Configures a task before spawning it (tokio's `task::Builder`, plus a
/// priority).
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task::{self, Priority};
///
/// let handle = task::Builder::new()
///     .name("conn")
///     .priority(Priority::High)
///     .spawn(async { task::current_priority() })
///     .unwrap();
/// assert_eq!(handle.await.unwrap(), Priority::High);
/// # });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder<'a> {
    name: Option<&'a str>,
    priority: Priority,
    deadline: Option<Instant>,
}

impl<'a> Builder<'a> {
    /// A builder for a `Normal`, unnamed task.
    pub fn new() -> Builder<'a> {
        Builder::default()
    }

    /// Names the task; the name shows in its tracing span.
    pub fn name(mut self, name: &'a str) -> Builder<'a> {
        self.name = Some(name);
        self
    }

    /// Sets the task's priority (default `Normal`).
    pub fn priority(mut self, priority: Priority) -> Builder<'a> {
        self.priority = priority;
        self
    }

    /// Gives the task a deadline: among the ready tasks of its priority on
    /// a worker, the earliest deadline runs first, and tasks without one
    /// run after every task with one (earliest deadline first, EDF). The
    /// deadline does not lift the task above a higher priority.
    ///
    /// The task's first poll is checked against it: if it starts after
    /// `deadline`, that is a miss, counted for the task
    /// ([`task::deadline_misses`](super::deadline_misses)) and its worker
    /// ([`RuntimeMetrics::worker_deadline_misses`](crate::runtime::RuntimeMetrics::worker_deadline_misses)).
    /// The task keeps the deadline (and its place in the order) for every
    /// later wake until it sets another with
    /// [`task::set_deadline`](super::set_deadline). A deadline task is not
    /// stolen by sibling workers once queued (see the crate docs).
    ///
    /// A [`LocalSet`](super::LocalSet) keeps no deadlines: `spawn_local`
    /// with one returns an error.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use std::time::{Duration, Instant};
    /// use smp_rt_executor::task;
    ///
    /// let due = Instant::now() + Duration::from_secs(1);
    /// let handle = task::Builder::new()
    ///     .deadline(due)
    ///     .spawn(async { task::deadline() })
    ///     .unwrap();
    /// assert_eq!(handle.await.unwrap(), Some(due));
    /// # });
    /// ```
    pub fn deadline(mut self, deadline: Instant) -> Builder<'a> {
        self.deadline = Some(deadline);
        self
    }

    /// Gives the task a deadline `timeout` from now (this call); see
    /// [`deadline`](Builder::deadline).
    ///
    /// # Panics
    ///
    /// Panics if `timeout` is so large that the deadline does not fit an
    /// `Instant`; use [`deadline`](Builder::deadline) with a computed one.
    #[track_caller]
    pub fn deadline_in(self, timeout: Duration) -> Builder<'a> {
        let deadline = Instant::now().checked_add(timeout).unwrap_or_else(|| {
            panic!(
                "task::Builder::deadline_in({timeout:?}): the deadline does not fit an Instant; \
                 give a shorter timeout"
            )
        });
        self.deadline(deadline)
    }

    /// Spawns the task on the current runtime.
    ///
    /// # Errors
    ///
    /// An `io::Error` outside a runtime (tokio's builder also returns
    /// `io::Result`).
    pub fn spawn<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = Handle::try_current().map_err(io::Error::other)?;
        Ok(self.spawn_on(future, &handle))
    }

    /// Spawns the task on the runtime of `handle`.
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.shared.spawn_with_deadline(
            future,
            self.name.map(Box::from),
            self.priority,
            self.deadline,
        )
    }

    /// Spawns the task on the current runtime if it holds fewer queued
    /// tasks than its `max_queued_tasks` (always, without a limit); see
    /// [`Handle::try_spawn`].
    ///
    /// # Errors
    ///
    /// [`QueueFull`] when the runtime is at its limit; the error gives the
    /// future back, unpolled.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime, as `spawn` does; from another thread use
    /// [`try_spawn_on`](Builder::try_spawn_on) with the runtime's handle.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::{self, Priority};
    ///
    /// let handle = match task::Builder::new()
    ///     .name("worker")
    ///     .priority(Priority::Low)
    ///     .try_spawn(async { 1 })
    /// {
    ///     Ok(handle) => handle,
    ///     // Full: shed the work, or retry with `err.into_inner()` later.
    ///     Err(err) => panic!("{err}"),
    /// };
    /// assert_eq!(handle.await.unwrap(), 1);
    /// # });
    /// ```
    #[track_caller]
    pub fn try_spawn<F>(self, future: F) -> Result<JoinHandle<F::Output>, QueueFull<F>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let handle = Handle::try_current().unwrap_or_else(|err| {
            panic!("task::Builder::try_spawn must be called inside a runtime ({err}); outside one, use try_spawn_on with the runtime's Handle")
        });
        self.try_spawn_on(future, &handle)
    }

    /// Spawns the task on the runtime of `handle` if it holds fewer queued
    /// tasks than its `max_queued_tasks`; see [`Handle::try_spawn`].
    ///
    /// # Errors
    ///
    /// [`QueueFull`] when the runtime is at its limit; the error gives the
    /// future back, unpolled.
    pub fn try_spawn_on<F>(
        self,
        future: F,
        handle: &Handle,
    ) -> Result<JoinHandle<F::Output>, QueueFull<F>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.try_spawn_task(
            future,
            self.name.map(Box::from),
            self.priority,
            self.deadline,
        )
    }

    /// Spawns the task, which need not be `Send`, on the current
    /// [`LocalSet`](super::LocalSet) (see [`spawn_local`](super::spawn_local)).
    /// The set runs its tasks in the order they are queued: the priority is
    /// the one `task::current_priority` reports.
    ///
    /// # Errors
    ///
    /// An `io::Error` of kind `Unsupported` if the builder has a deadline:
    /// a `LocalSet` keeps none.
    ///
    /// # Panics
    ///
    /// Panics outside a `LocalSet` or `LocalRuntime`.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt_executor::block_on(async {
    /// use smp_rt_executor::task::{self, LocalSet};
    ///
    /// LocalSet::new()
    ///     .run_until(async {
    ///         let rc = std::rc::Rc::new(1);
    ///         let handle = task::Builder::new()
    ///             .name("local")
    ///             .spawn_local(async move { *rc })
    ///             .unwrap();
    ///         assert_eq!(handle.await.unwrap(), 1);
    ///     })
    ///     .await;
    /// # });
    /// ```
    #[track_caller]
    pub fn spawn_local<F>(self, future: F) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.refuse_local_deadline()?;
        let queue = super::local_set::current_queue("task::Builder::spawn_local");
        Ok(queue.spawn_task(future, self.name.map(Box::from), self.priority))
    }

    /// Spawns the task, which need not be `Send`, on `local_set`.
    ///
    /// # Errors
    ///
    /// An `io::Error` of kind `Unsupported` if the builder has a deadline:
    /// a `LocalSet` keeps none.
    pub fn spawn_local_on<F>(
        self,
        future: F,
        local_set: &super::LocalSet,
    ) -> io::Result<JoinHandle<F::Output>>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.refuse_local_deadline()?;
        Ok(local_set
            .queue()
            .spawn_task(future, self.name.map(Box::from), self.priority))
    }

    /// The error of `spawn_local*` with a deadline.
    fn refuse_local_deadline(&self) -> io::Result<()> {
        match self.deadline {
            None => Ok(()),
            Some(_) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "task::Builder::deadline on a local task: a LocalSet runs its tasks in the order \
                 they are queued and keeps no deadlines; spawn the task on the runtime \
                 (task::Builder::spawn) or leave out the deadline",
            )),
        }
    }
}

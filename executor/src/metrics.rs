//! Runtime metrics: what the workers count, read from any thread.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::Duration;

use crate::scheduler::{Remote, Shared};
use crate::task::{Id, Priority};

/// Counters of one worker. Each is written only by the thread running the
/// worker, so it is bumped with a load and a store, never a read-modify-write.
#[derive(Default)]
pub(crate) struct WorkerMetrics {
    pub(crate) steals: AtomicU64,
    pub(crate) parks: AtomicU64,
    pub(crate) preemptions: AtomicU64,
    pub(crate) busy_ns: AtomicU64,
    /// Polls that missed their task's deadline (see `scheduler::deadline`).
    pub(crate) deadline_misses: AtomicU64,
    /// Tasks only the owner sees (its deadline heaps), per priority. The
    /// overflow, which the watchdog may empty, is read where it is.
    pub(crate) private: [AtomicUsize; 4],
    /// Looks through the siblings' queues for work, found or not.
    pub(crate) steal_attempts: AtomicU64,
    /// Polls of tasks queued on another worker (see
    /// `RuntimeMetrics::worker_migrated_count`).
    pub(crate) migrated: AtomicU64,
    /// Time spent busy-waiting for work and parked.
    pub(crate) idle_ns: AtomicU64,
}

/// Adds `n` to a counter that only the calling thread writes.
#[inline]
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(n), Relaxed);
}

/// A view of a runtime's counters.
///
/// Every figure is a snapshot, read without stopping the workers.
///
/// # Examples
///
/// ```
/// use smp_rt_executor::runtime::Builder;
/// use smp_rt_executor::task::Priority;
///
/// let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     smp_rt_executor::spawn(async {}).await.unwrap();
/// });
/// let m = rt.metrics();
/// assert_eq!(m.num_workers(), 2);
/// assert_eq!(m.spawned_tasks_count(), 1);
/// println!("worker 0 polled {} tasks", m.worker_poll_count(0));
/// println!("{} Normal tasks queued on worker 0", m.worker_queue_depth(0, Priority::Normal));
/// ```
#[derive(Clone)]
pub struct RuntimeMetrics {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("num_alive_tasks", &self.num_alive_tasks())
            .finish_non_exhaustive()
    }
}

impl RuntimeMetrics {
    pub(crate) fn new(shared: Arc<Shared>) -> RuntimeMetrics {
        RuntimeMetrics { shared }
    }

    fn worker(&self, worker: usize) -> &WorkerMetrics {
        &self.remote(worker).metrics
    }

    fn remote(&self, worker: usize) -> &Remote {
        let workers = &self.shared.workers;
        let Some(remote) = workers.get(worker) else {
            panic!(
                "worker index {worker} is out of range: this runtime has {} workers (0..{})",
                workers.len(),
                workers.len()
            );
        };
        remote
    }

    /// Number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.shared.workers.len()
    }

    /// Tasks spawned and not yet completed or dropped (blocking tasks excluded).
    pub fn num_alive_tasks(&self) -> usize {
        if self.shared.registry.is_closed() {
            // Shut down: every task was dropped, or is being dropped.
            return 0;
        }
        usize::try_from(self.shared.task_counts.alive()).unwrap_or(usize::MAX)
    }

    /// Tasks spawned since the runtime started (blocking tasks excluded).
    pub fn spawned_tasks_count(&self) -> u64 {
        self.shared.task_counts.total_spawned()
    }

    /// Tasks queued now: spawned and not finished, whether ready, running
    /// or waiting on an event (blocking tasks and `LocalSet` tasks
    /// excluded). This is the count the runtime's `max_queued_tasks`
    /// limits; 0 once the runtime is shut down.
    ///
    /// With a limit it is one exact counter. Without one it is the sum of
    /// the per-worker counts [`num_alive_tasks`](Self::num_alive_tasks)
    /// reads (so that a spawn and a finish write no shared cache line): exact
    /// when no task is spawned or finishing during the read, off by at most
    /// the ones in flight otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().build().unwrap();
    /// let (tx, rx) = futures::channel::oneshot::channel::<()>();
    /// let waiting = rt.handle().spawn(async move { rx.await.ok(); });
    /// assert_eq!(rt.metrics().queued_tasks(), 1);
    /// tx.send(()).unwrap();
    /// rt.block_on(waiting).unwrap();
    /// assert_eq!(rt.metrics().queued_tasks(), 0);
    /// assert_eq!(rt.metrics().queued_tasks_high_water_mark(), 1);
    /// ```
    pub fn queued_tasks(&self) -> usize {
        if self.shared.registry.is_closed() {
            return 0;
        }
        self.shared.admission.queued(&self.shared.task_counts)
    }

    /// The most tasks queued at once since the runtime started (see
    /// [`queued_tasks`](Self::queued_tasks)). With `max_queued_tasks` set
    /// and every task spawned by `try_spawn`, it never exceeds the limit;
    /// plain `spawn` may take it past. With a limit it is exact: every spawn
    /// raises it. Without one it is sampled: every read of this metric or
    /// of `queued_tasks` raises it to the count that read sees, so it is at
    /// least every `queued_tasks` value read before it and at most the true
    /// peak (a peak between two reads is not seen).
    pub fn queued_tasks_high_water_mark(&self) -> usize {
        self.shared
            .admission
            .high_water_mark(&self.shared.task_counts)
    }

    /// The runtime's limit on queued tasks (`max_queued_tasks`), if any.
    pub fn max_queued_tasks(&self) -> Option<usize> {
        self.shared
            .admission
            .limit()
            .map(std::num::NonZeroUsize::get)
    }

    /// Tasks cancelled by an abort ([`JoinHandle::abort`](crate::JoinHandle::abort),
    /// [`AbortHandle::abort`](crate::task::AbortHandle::abort), a
    /// `JoinSet` aborting or dropped) since the runtime started: those
    /// whose `JoinHandle` resolves to a cancelled `JoinError`. A task the
    /// abort reached only after its last poll completed is not counted (its
    /// output stands), nor are the tasks a runtime shutting down drops, nor
    /// `LocalSet` tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread().build().unwrap();
    /// let task = rt.handle().spawn(std::future::pending::<()>());
    /// task.abort();
    /// assert!(rt.block_on(task).unwrap_err().is_cancelled());
    /// assert_eq!(rt.metrics().cancelled_tasks_count(), 1);
    /// ```
    pub fn cancelled_tasks_count(&self) -> u64 {
        self.shared.task_counts.total_cancelled()
    }

    /// The id and name of every live task spawned with a name
    /// ([`task::Builder::name`](crate::task::Builder::name)), ordered by id.
    /// A task leaves the list when it completes or is cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::Builder;
    /// use smp_rt_executor::task;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// let handle = rt.block_on(async {
    ///     task::Builder::new()
    ///         .name("listener")
    ///         .spawn(std::future::pending::<()>())
    ///         .unwrap()
    /// });
    /// assert_eq!(rt.metrics().named_tasks(), vec![(handle.id(), "listener".to_string())]);
    /// ```
    pub fn named_tasks(&self) -> Vec<(Id, String)> {
        self.shared.registry.names()
    }

    /// Task polls by worker `worker`.
    ///
    /// # Panics
    ///
    /// Panics if `worker >= num_workers()`; so do the other `worker_*` methods.
    pub fn worker_poll_count(&self, worker: usize) -> u64 {
        self.remote(worker).progress.get()
    }

    /// Successful steals by worker `worker` (each takes a batch).
    pub fn worker_steal_count(&self, worker: usize) -> u64 {
        self.worker(worker).steals.load(Relaxed)
    }

    /// Times worker `worker` parked (went to sleep).
    pub fn worker_park_count(&self, worker: usize) -> u64 {
        self.worker(worker).parks.load(Relaxed)
    }

    /// Slices on worker `worker` that ended because the reduction budget ran out.
    pub fn worker_preempt_count(&self, worker: usize) -> u64 {
        self.worker(worker).preemptions.load(Relaxed)
    }

    /// Tasks ready to run in worker `worker`'s deque of `priority`.
    pub fn worker_queue_depth(&self, worker: usize, priority: Priority) -> usize {
        let level = priority.index();
        let private = self.worker(worker).private[level].load(Relaxed);
        let remote = &self.shared.workers[worker];
        remote.rings[level].len() + remote.overflow.len(priority) + private
    }

    /// Tasks pushed to worker `worker` from other threads that it has not
    /// taken yet: its inbox, and its urgent slot (a `Max` or `High` task).
    pub fn worker_inbox_depth(&self, worker: usize) -> usize {
        self.worker(worker);
        let remote = &self.shared.workers[worker];
        remote.inbox.len() + usize::from(remote.run.urgent_task.is_occupied())
    }

    /// Deadlines missed on worker `worker`: polls of a task with a
    /// deadline that were the first since the deadline was set and started
    /// after it (see [`task::Builder::deadline`](crate::task::Builder::deadline)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use smp_rt_executor::runtime::Builder;
    /// use smp_rt_executor::task;
    ///
    /// let rt = Builder::new_current_thread().build().unwrap();
    /// rt.block_on(async {
    ///     let past = Instant::now() - Duration::from_millis(1);
    ///     let late = task::Builder::new().deadline(past).spawn(async {}).unwrap();
    ///     late.await.unwrap();
    /// });
    /// assert_eq!(rt.metrics().worker_deadline_misses(0), 1);
    /// ```
    pub fn worker_deadline_misses(&self, worker: usize) -> u64 {
        self.worker(worker).deadline_misses.load(Relaxed)
    }

    /// Time worker `worker` spent running tasks (and looking for them),
    /// as opposed to spinning idle or parked.
    pub fn worker_total_busy_duration(&self, worker: usize) -> Duration {
        Duration::from_nanos(self.worker(worker).busy_ns.load(Relaxed))
    }

    /// Threads in the blocking pool now.
    pub fn num_blocking_threads(&self) -> usize {
        self.shared.blocking.num_threads()
    }
}

/// Stealing, migration, idleness and per-task poll time: where the
/// scheduler moved work, and where time went.
impl RuntimeMetrics {
    /// Times worker `worker` looked through its siblings' queues for work
    /// to steal, whether it found any or not. A worker out of local work
    /// looks once per scheduling step while it searches; at most half the
    /// workers search at once, and the others do not look at all (they
    /// busy-wait, then park). [`worker_steal_count`](Self::worker_steal_count)
    /// counts the looks that found work, so it never exceeds this count.
    ///
    /// tokio has no such count.
    pub fn worker_steal_attempts(&self, worker: usize) -> u64 {
        self.worker(worker).steal_attempts.load(Relaxed)
    }

    /// Polls by worker `worker` of a task that was queued on another worker:
    /// the task was taken from that worker's queues by a steal, by a
    /// rescue of a stalled worker's work, or from its inbox. Each such
    /// move is counted once, by the worker that polls the task next (a task
    /// taken back by the worker it was queued on before anyone ran it has
    /// not migrated). A task that is woken and queued elsewhere is placed
    /// rather than migrated, and not counted: the scheduler moves such a
    /// task only on purpose (to its home worker, or to the worker that
    /// woke it).
    ///
    /// The count costs the poll loop a comparison: the task's header
    /// already records the worker it was queued on.
    pub fn worker_migrated_count(&self, worker: usize) -> u64 {
        self.worker(worker).migrated.load(Relaxed)
    }

    /// Time worker `worker` spent idle: busy-waiting for work (BEAM's
    /// scheduler spin) and parked. The clock is read when the worker goes
    /// idle and when it resumes, never per poll, so an idle period is added
    /// when it ends: a worker parked now has not counted its current park.
    ///
    /// Busy time ([`worker_total_busy_duration`](Self::worker_total_busy_duration))
    /// plus idle time is about the worker's life; the remainder is the
    /// steps between finding no work and going idle.
    pub fn worker_total_idle_duration(&self, worker: usize) -> Duration {
        Duration::from_nanos(self.worker(worker).idle_ns.load(Relaxed))
    }

    /// Time spent polling task `id` so far, on the runtime's workers:
    /// the wall-clock time between the start and the end of each of its
    /// polls, added up. That is the task's CPU time unless a poll blocked
    /// its thread or the kernel descheduled the thread during a poll.
    ///
    /// `None` unless the runtime was built with
    /// [`Builder::enable_task_poll_time`](crate::runtime::Builder::enable_task_poll_time),
    /// and for a task that is not live (completed, cancelled, or from
    /// another runtime) or has no completed poll yet. The current poll is
    /// added when it ends, so a task asking for its own time sees the time
    /// of its earlier polls. Tasks of a `LocalSet` and the future of
    /// `block_on` are not polled by the workers, and not timed.
    ///
    /// With the option on, each poll reads the clock twice and updates a
    /// table sharded by task id under a short lock; with it off, the poll
    /// loop pays one branch.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::{Builder, Handle};
    /// use smp_rt_executor::task;
    ///
    /// let rt = Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .enable_task_poll_time()
    ///     .build()
    ///     .unwrap();
    /// let spent = rt.block_on(async {
    ///     smp_rt_executor::spawn(async {
    ///         task::yield_now().await;
    ///         Handle::current().metrics().task_poll_time(task::id())
    ///     })
    ///     .await
    ///     .unwrap()
    /// });
    /// // The poll before the yield was timed.
    /// assert!(spent.is_some());
    /// ```
    pub fn task_poll_time(&self, id: Id) -> Option<Duration> {
        self.shared.poll_times.as_ref()?.get(id)
    }
}

/// The task a worker is polling now, from
/// [`RuntimeMetrics::worker_current_task`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CurrentTask {
    /// The task's id.
    pub id: Id,
    /// The task's name ([`task::Builder::name`](crate::task::Builder::name)),
    /// if it has one.
    pub name: Option<String>,
    /// The task's priority.
    pub priority: Priority,
    /// How long the poll has been running, at least: measured from when the
    /// poll was first seen by the watchdog or a metrics read (the poll
    /// loop reads no clock). With a `long_poll_threshold` set on the
    /// runtime's builder, the watchdog sees every poll that lasts longer
    /// than its sampling interval (a quarter of the threshold, kept between
    /// 1 and 100 ms), and this is short of the truth by at most that
    /// interval.
    pub running_for: Duration,
}

/// The watchdog's figures: which task each worker polls, and the long polls.
impl RuntimeMetrics {
    /// The task worker `worker` is polling now, or `None` if it is between
    /// polls or idle. A snapshot: the poll may have ended by the time the
    /// caller looks.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::Builder;
    /// use smp_rt_executor::task;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).build().unwrap();
    /// let metrics = rt.metrics();
    /// let seen = rt.block_on(async move {
    ///     task::Builder::new()
    ///         .name("reporter")
    ///         .spawn(async move { metrics.worker_current_task(0) })
    ///         .unwrap()
    ///         .await
    ///         .unwrap()
    /// });
    /// let current = seen.expect("the task reads its own worker mid-poll");
    /// assert_eq!(current.name.as_deref(), Some("reporter"));
    /// ```
    ///
    /// # Panics
    ///
    /// Panics if `worker >= num_workers()`.
    pub fn worker_current_task(&self, worker: usize) -> Option<CurrentTask> {
        self.remote(worker);
        let poll = self.shared.current_poll(worker)?;
        Some(CurrentTask {
            id: poll.id,
            name: poll.name,
            priority: poll.priority,
            running_for: poll.running_for,
        })
    }

    /// Polls on worker `worker` that ran past the runtime's
    /// `long_poll_threshold` without yielding (each counted once, when the
    /// watchdog first sees it past the threshold). Always 0 without a
    /// threshold.
    ///
    /// # Panics
    ///
    /// Panics if `worker >= num_workers()`.
    pub fn worker_long_poll_count(&self, worker: usize) -> u64 {
        self.remote(worker);
        self.shared.watchdog.long_polls(worker)
    }
}

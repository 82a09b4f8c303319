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
    /// Tasks only the owner sees (its overflow list), per priority.
    pub(crate) private: [AtomicUsize; 4],
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
        self.shared.workers[worker].rings[level].len() + private
    }

    /// Tasks pushed to worker `worker` from other threads that it has not
    /// taken yet: its inbox, and its urgent slot (a `Max` or `High` task).
    pub fn worker_inbox_depth(&self, worker: usize) -> usize {
        self.worker(worker);
        let remote = &self.shared.workers[worker];
        remote.inbox.len() + usize::from(remote.run.urgent_task.is_occupied())
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

//! The runtime: smp_rt's executor with the IO reactor and the timers
//! plugged into its workers' idle time.
//!
//! [`Builder`] is the runtime's one builder: it keeps the settings and
//! assembles the executor with the driver (`crate::driver`). [`Runtime`]
//! wraps the executor's runtime, shutting the reactor down after it;
//! [`Handle`], [`RuntimeMetrics`] and the rest are the executor's.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use smp_rt_executor::runtime as executor;
pub use smp_rt_executor::runtime::{
    CurrentTask, DEFAULT_REDUCTIONS, EnterGuard, Handle, Id, MIN_REDUCTIONS, RuntimeFlavor,
    RuntimeMetrics, TryCurrentError,
};
use smp_rt_io::Reactor;
use smp_rt_timers::Timers;

use crate::JoinHandle;
use crate::driver::IoTimeDriver;
use crate::task::LocalSet;

/// Builds a [`Runtime`] (tokio's `runtime::Builder`, with reductions).
///
/// This is smp_rt's one runtime builder: it keeps the runtime's settings
/// and, in [`build`](Builder::build), assembles the executor with the IO
/// reactor and the timers.
///
/// # Examples
///
/// ```
/// use smp_rt::runtime::Builder;
///
/// let rt = Builder::new_multi_thread()
///     .worker_threads(2)
///     .reductions(2000)
///     .thread_name("my-worker")
///     .enable_all()
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
///
/// // Zero workers or zero reductions is an error, not a runtime that hangs.
/// assert!(Builder::new_multi_thread().worker_threads(0).build().is_err());
/// assert!(Builder::new_multi_thread().reductions(0).build().is_err());
/// ```
#[derive(Debug)]
pub struct Builder {
    /// The knobs, with the executor's defaults; checked when the executor
    /// assembles the runtime.
    settings: executor::Settings,
    /// Built by `new_current_thread`: the only flavor whose clock can pause.
    current_thread: bool,
    /// Start with the timers' clock paused.
    start_paused: bool,
    /// The most events one wait of the reactor collects.
    max_io_events_per_tick: usize,
}

impl Builder {
    /// A runtime with one worker thread per core, or as many as the
    /// environment says when [`worker_threads`](Builder::worker_threads) is
    /// not called: `SMP_RT_WORKER_THREADS`, else `TOKIO_WORKER_THREADS`
    /// (read by [`build`](Builder::build); the first one set must be a
    /// positive integer, or `build` fails with an error that names it).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().build().unwrap();
    /// assert!(rt.metrics().num_workers() >= 1);
    /// ```
    pub fn new_multi_thread() -> Builder {
        Builder {
            settings: executor::Settings::multi_thread(),
            current_thread: false,
            start_paused: false,
            max_io_events_per_tick: smp_rt_io::DEFAULT_EVENTS_PER_WAIT,
        }
    }

    /// A runtime with a single worker, run by the thread inside `block_on`:
    /// spawned tasks make progress only while some thread is in `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder {
            settings: executor::Settings::current_thread(),
            current_thread: true,
            start_paused: false,
            max_io_events_per_tick: smp_rt_io::DEFAULT_EVENTS_PER_WAIT,
        }
    }

    /// Number of workers (default: `std::thread::available_parallelism()`,
    /// one per core). Ignored by a current-thread runtime, which has one.
    /// Zero makes [`build`](Builder::build) fail.
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        self.settings.worker_threads = Some(n);
        self.settings.worker_threads_between = None;
        self
    }

    /// Number of workers as a range: one per core available
    /// (`std::thread::available_parallelism()`, which counts the CPUs this
    /// process may run on), raised to `min` or lowered to `max`. Of this
    /// and [`worker_threads`](Builder::worker_threads), the last call
    /// wins; either one makes [`build`](Builder::build) ignore
    /// `SMP_RT_WORKER_THREADS` and `TOKIO_WORKER_THREADS`. Ignored by a
    /// current-thread runtime, which has one worker.
    ///
    /// # Panics
    ///
    /// Panics if `min` is 0 or `min > max`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    ///
    /// // At least 2 workers even on one core, at most 4 on a big machine.
    /// let rt = Builder::new_multi_thread()
    ///     .worker_threads_between(2, 4)
    ///     .build()
    ///     .unwrap();
    /// let cores = std::thread::available_parallelism().unwrap().get();
    /// assert_eq!(rt.metrics().num_workers(), cores.clamp(2, 4));
    /// ```
    #[track_caller]
    pub fn worker_threads_between(&mut self, min: usize, max: usize) -> &mut Builder {
        assert!(
            min >= 1,
            "worker_threads_between({min}, {max}): the minimum must be at least 1, or the \
             runtime could have no worker"
        );
        assert!(
            min <= max,
            "worker_threads_between({min}, {max}): the minimum is above the maximum; swap them"
        );
        self.settings.worker_threads_between = Some((min, max));
        self.settings.worker_threads = None;
        self
    }

    /// Pins each worker thread to one CPU (default off), as BEAM's
    /// `+sbt` binds schedulers: worker `i` runs only on the `i`-th CPU of
    /// those the thread calling [`build`](Builder::build) may run on (its
    /// affinity mask, so a container's or `taskset`'s CPU set is
    /// respected), wrapping around when there are more workers than CPUs.
    /// Blocking-pool threads stay unpinned, and so does the thread a worker
    /// is lent to while one of its tasks is in
    /// [`block_in_place`](crate::task::block_in_place). Ignored by a
    /// current-thread runtime, whose worker runs on the caller's thread.
    ///
    /// Linux only (`sched_setaffinity`): elsewhere `build` fails with
    /// `ErrorKind::Unsupported`. On Linux, `build` fails with the OS error
    /// if a worker thread cannot be pinned, naming the worker and the CPU:
    /// a runtime asked to be pinned is never handed out unpinned.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(2).pin_workers(true).build();
    /// # #[cfg(target_os = "linux")]
    /// assert_eq!(rt.unwrap().block_on(async { 1 + 1 }), 2);
    /// # #[cfg(not(target_os = "linux"))]
    /// # assert_eq!(rt.unwrap_err().kind(), std::io::ErrorKind::Unsupported);
    /// ```
    pub fn pin_workers(&mut self, pin: bool) -> &mut Builder {
        self.settings.pin_workers = pin;
        self
    }

    /// Reductions per scheduling slice (default [`DEFAULT_REDUCTIONS`],
    /// 2000). Below [`MIN_REDUCTIONS`] (66), [`build`](Builder::build)
    /// fails: see there why.
    pub fn reductions(&mut self, n: u32) -> &mut Builder {
        self.settings.reductions = n;
        self
    }

    /// Name prefix of the runtime's threads (default `smp-rt-worker`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.settings.thread_name = name.into();
        self
    }

    /// Names each of the runtime's threads (workers and blocking threads)
    /// with what `f` returns, instead of [`thread_name`](Self::thread_name).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// use smp_rt::runtime::Builder;
    ///
    /// static NEXT: AtomicUsize = AtomicUsize::new(0);
    /// let rt = Builder::new_multi_thread()
    ///     .worker_threads(1)
    ///     .thread_name_fn(|| format!("my-pool-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(async {
    ///     smp_rt::spawn(async { std::thread::current().name().map(str::to_owned) })
    ///         .await
    ///         .unwrap()
    /// });
    /// assert!(name.unwrap().starts_with("my-pool-"));
    /// ```
    pub fn thread_name_fn(
        &mut self,
        f: impl Fn() -> String + Send + Sync + 'static,
    ) -> &mut Builder {
        self.settings.thread_name_fn = Some(Arc::new(f));
        self
    }

    /// The stack size of the runtime's threads (workers and blocking
    /// threads), in bytes; by default `std`'s (2 MiB, or
    /// `RUST_MIN_STACK`).
    pub fn thread_stack_size(&mut self, size: usize) -> &mut Builder {
        self.settings.thread_stack_size = Some(size);
        self
    }

    /// Names the runtime: [`Handle::name`] returns it (default: no name).
    ///
    /// # Panics
    ///
    /// Panics if `name` is empty or only whitespace, as tokio does.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::{Builder, Handle};
    ///
    /// let rt = Builder::new_current_thread().name("my-runtime").build().unwrap();
    /// assert_eq!(rt.handle().name(), Some("my-runtime"));
    /// rt.block_on(async { assert_eq!(Handle::current().name(), Some("my-runtime")) });
    /// ```
    #[track_caller]
    pub fn name(&mut self, name: impl Into<String>) -> &mut Builder {
        let name = name.into();
        assert!(!name.trim().is_empty(), "runtime name shouldn't be empty");
        self.settings.name = Some(name);
        self
    }

    /// Accepted for tokio compatibility, and ignored. In tokio it is how
    /// many tasks a worker runs between checks of the shared global queue.
    /// smp_rt has no global queue: work from outside a worker goes to a
    /// worker's inbox, which the worker drains before each pick from its
    /// priority deques.
    ///
    /// # Panics
    ///
    /// Panics if `interval` is 0, as tokio does.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().global_queue_interval(31).build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    #[track_caller]
    pub fn global_queue_interval(&mut self, interval: u32) -> &mut Builder {
        assert!(interval > 0, "global_queue_interval must be greater than 0");
        self
    }

    /// Accepted for tokio compatibility, and ignored. In tokio it is how
    /// many tasks a worker runs between polls of the IO and timer driver.
    /// An smp_rt worker polls the driver every 61 slices (fixed, tokio's
    /// default) and whenever it runs out of work.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread().event_interval(61).build().unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    pub fn event_interval(&mut self, _interval: u32) -> &mut Builder {
        self
    }

    /// Upper bound on the blocking pool's threads (default 512). Zero makes
    /// [`build`](Builder::build) fail.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        self.settings.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before exiting
    /// (default 10 s).
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Builder {
        self.settings.thread_keep_alive = duration;
        self
    }

    /// Bounds the tasks the runtime holds: [`Handle::try_spawn`] and
    /// [`task::Builder::try_spawn`](crate::task::Builder::try_spawn) refuse
    /// a new task while `n` are queued, with a
    /// [`QueueFull`](crate::task::QueueFull) error that hands the future
    /// back. Default: no limit.
    ///
    /// A task is *queued* from its spawn until it finishes: waiting for its
    /// first poll, ready in a run queue, running, or waiting on IO, a timer
    /// or a channel. Every such task holds its memory, so this is the count
    /// that keeps a producer faster than its consumers from piling up
    /// tasks without bound. Blocking tasks and `LocalSet` tasks are not
    /// counted. The limit is the same for every priority.
    ///
    /// Plain `spawn` never fails, as tokio's: at the limit it admits the
    /// task anyway, the count goes past `n`, and `try_spawn` refuses until
    /// it is below `n` again. So a task that must run whatever the load (a
    /// supervisor, a shutdown signal) is spawned with `spawn`, and work
    /// that may be shed with `try_spawn`.
    /// [`RuntimeMetrics::queued_tasks`] and
    /// [`queued_tasks_high_water_mark`](RuntimeMetrics::queued_tasks_high_water_mark)
    /// report the count.
    ///
    /// # Panics
    ///
    /// Panics if `n` is 0: such a runtime could admit no task.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    /// use smp_rt::sync::oneshot;
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(1).max_queued_tasks(1).build().unwrap();
    /// let (tx, rx) = oneshot::channel::<()>();
    /// let waiting = rt.handle().try_spawn(async move { rx.await.ok(); }).unwrap();
    ///
    /// // Full: the future comes back unpolled.
    /// let refused = rt.handle().try_spawn(async { "shed" }).unwrap_err();
    /// assert_eq!(refused.limit(), 1);
    ///
    /// tx.send(()).unwrap();
    /// rt.block_on(waiting).unwrap();
    /// let admitted = rt.handle().try_spawn(refused.into_inner()).unwrap();
    /// assert_eq!(rt.block_on(admitted).unwrap(), "shed");
    /// assert_eq!(rt.metrics().queued_tasks_high_water_mark(), 1);
    /// ```
    #[track_caller]
    pub fn max_queued_tasks(&mut self, n: usize) -> &mut Builder {
        let Some(n) = std::num::NonZeroUsize::new(n) else {
            panic!(
                "max_queued_tasks must be at least 1: a runtime that admits no task could run \
                 none (leave it unset for no limit)"
            );
        };
        self.settings.max_queued_tasks = Some(n);
        self
    }

    /// Runs `f` on each worker and blocking thread when it starts.
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.settings.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each worker and blocking thread before it exits.
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.settings.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Runs `f` on a worker thread each time it runs out of tasks, just
    /// before it waits for more (tokio's `on_thread_park`). The wait that
    /// follows may be a short busy wait rather than a sleep; `f` runs once
    /// per wait either way, followed by
    /// [`on_thread_unpark`](Builder::on_thread_unpark)'s callback when the
    /// worker goes back to running tasks.
    ///
    /// `f` runs inside the runtime's context, so it may spawn: the worker
    /// looks for work once more after `f` returns, and runs the new task
    /// instead of sleeping. Runs on the thread inside
    /// [`Runtime::block_on`] too, for a current-thread runtime. Calling
    /// this again replaces the callback. A callback that panics is
    /// reported on stderr and the worker goes on (tokio's worker thread
    /// would die).
    ///
    /// Unset, the worker pays one branch per wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use smp_rt::runtime::Builder;
    /// use smp_rt::sync::Barrier;
    ///
    /// // The callback spawns the task that lets `block_on` finish.
    /// let once = AtomicBool::new(true);
    /// let barrier = Arc::new(Barrier::new(2));
    /// let in_callback = barrier.clone();
    /// let rt = Builder::new_current_thread()
    ///     .on_thread_park(move || {
    ///         if once.swap(false, Ordering::Relaxed) {
    ///             let barrier = in_callback.clone();
    ///             smp_rt::spawn(async move { barrier.wait().await });
    ///         }
    ///     })
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { barrier.wait().await });
    /// ```
    pub fn on_thread_park<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.settings.on_thread_park = Some(Arc::new(f));
        self
    }

    /// Runs `f` on a worker thread each time it stops waiting for tasks,
    /// just before it runs them again (tokio's `on_thread_unpark`): once
    /// after each call of [`on_thread_park`](Builder::on_thread_park)'s
    /// callback. Same context, replacement and panic rules as that one.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread()
    ///     .on_thread_unpark(|| println!("thread unparking"))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async { smp_rt::task::yield_now().await });
    /// ```
    pub fn on_thread_unpark<F>(&mut self, f: F) -> &mut Builder
    where
        F: Fn() + Send + Sync + 'static,
    {
        self.settings.on_thread_unpark = Some(Arc::new(f));
        self
    }

    /// The most IO events the reactor collects per wait (default 1024),
    /// as tokio's. Sources ready beyond that stay ready in the kernel and
    /// are collected by the next wait. A smaller batch wakes fewer tasks
    /// at a time; a larger one costs fewer system calls under load.
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is 0, as tokio does.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    ///
    /// let rt = Builder::new_current_thread()
    ///     .enable_io()
    ///     .max_io_events_per_tick(1024)
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(async { 1 }), 1);
    /// ```
    #[track_caller]
    pub fn max_io_events_per_tick(&mut self, capacity: usize) -> &mut Builder {
        assert!(capacity > 0, "max_io_events_per_tick must be non-zero");
        self.max_io_events_per_tick = capacity;
        self
    }

    /// Times every poll a worker runs and keeps each live task's total,
    /// read with [`RuntimeMetrics::task_poll_time`] (default off). Each
    /// poll then costs two clock reads and an update of a table sharded by
    /// task id; without it, the poll loop pays one branch. tokio's nearest
    /// is its unstable `enable_metrics_poll_time_histogram`, a histogram
    /// over all tasks rather than a total per task.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::{Builder, Handle};
    /// use smp_rt::task;
    ///
    /// let rt = Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .enable_task_poll_time()
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     smp_rt::spawn(async {
    ///         task::yield_now().await;
    ///         let spent = Handle::current().metrics().task_poll_time(task::id());
    ///         println!("polled for {spent:?} before this poll");
    ///     })
    ///     .await
    ///     .unwrap();
    /// });
    /// ```
    pub fn enable_task_poll_time(&mut self) -> &mut Builder {
        self.settings.task_poll_time = true;
        self
    }

    /// Watches for polls that hold a worker longer than `threshold` without
    /// yielding (default: no watchdog). Cooperative preemption ends a slice
    /// only at a charging await point, so a poll that computes for long or
    /// calls blocking code keeps its worker; with a threshold set, a
    /// monitor thread samples the workers every `threshold / 4` (kept
    /// between 1 ms and 100 ms) and, for each poll seen running past the
    /// threshold:
    ///
    /// * emits one `tracing` warning naming the worker and the task (id,
    ///   name, priority) and how long the poll has run so far;
    /// * counts it in [`RuntimeMetrics::worker_long_poll_count`];
    /// * moves the work queued on that worker (its LIFO slot, inbox, rings
    ///   and overflow) to a sibling that is not stuck, and wakes it, until
    ///   the poll returns: no ready task waits for the long poll, except
    ///   tasks with a deadline already in that worker's deadline heap,
    ///   which is the worker's own (see `task::Builder::deadline`).
    ///
    /// Without a threshold no monitor thread runs and nothing is sampled.
    /// The poll loop's own cost is the same either way (it publishes which
    /// task it polls, for [`RuntimeMetrics::worker_current_task`] too).
    ///
    /// # Panics
    ///
    /// Panics if `threshold` is zero (every poll would be a long one).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use smp_rt::runtime::Builder;
    ///
    /// let rt = Builder::new_multi_thread()
    ///     .worker_threads(2)
    ///     .long_poll_threshold(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {});
    /// assert_eq!(rt.metrics().worker_long_poll_count(0), 0);
    /// ```
    #[track_caller]
    pub fn long_poll_threshold(&mut self, threshold: Duration) -> &mut Builder {
        assert!(
            !threshold.is_zero(),
            "long_poll_threshold must be above zero (every poll would be a long one): \
             pass the longest poll you accept, such as 50 ms, or leave it unset for no watchdog"
        );
        self.settings.long_poll_threshold = Some(threshold);
        self
    }

    /// Accepted for tokio compatibility: IO and timers are always enabled.
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio compatibility: IO is always enabled.
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Accepted for tokio compatibility: timers are always enabled.
    pub fn enable_time(&mut self) -> &mut Builder {
        self
    }

    /// Starts the runtime with its clock paused (default `false`), as if
    /// [`time::pause`](crate::time::pause) were its first call: tokio's
    /// `Builder::start_paused`, for tests of timeouts and intervals in
    /// virtual time. Only a current-thread runtime can pause its clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::Builder;
    /// use smp_rt::time::{sleep, Duration, Instant};
    ///
    /// let rt = Builder::new_current_thread().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_secs(24 * 3600)).await; // at once
    ///     assert_eq!(start.elapsed(), Duration::from_secs(24 * 3600));
    /// });
    ///
    /// // A multi-thread runtime's clock cannot pause.
    /// assert!(Builder::new_multi_thread().start_paused(true).build().is_err());
    /// ```
    pub fn start_paused(&mut self, start_paused: bool) -> &mut Builder {
        self.start_paused = start_paused;
        self
    }

    /// Builds the runtime: its reactor, its timers, and its threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput`, with a message that says why, for zero workers (or
    /// 65535 and more), a worker-count environment variable (see
    /// [`new_multi_thread`](Builder::new_multi_thread)) that is not a
    /// positive integer, fewer than [`MIN_REDUCTIONS`] reductions, zero
    /// blocking threads, a thread name with a NUL byte, or
    /// [`start_paused`](Builder::start_paused) on a multi-thread runtime;
    /// the OS error if the reactor or a thread cannot be created.
    pub fn build(&mut self) -> io::Result<Runtime> {
        self.build_runtime(false)
    }

    /// [`build`](Builder::build); `local` marks the runtime as a
    /// `LocalRuntime`'s.
    fn build_runtime(&mut self, local: bool) -> io::Result<Runtime> {
        if self.start_paused && !self.current_thread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "start_paused(true) needs a current-thread runtime \
                 (Builder::new_current_thread()): a multi-thread runtime's clock cannot pause",
            ));
        }
        let reactor = Arc::new(Reactor::with_events_per_wait(self.max_io_events_per_tick)?);
        let mut timers = Timers::new();
        timers.set_pausable(self.current_thread);
        if self.start_paused {
            timers.pause_clock();
        }
        let timers = Arc::new(timers);
        let driver = IoTimeDriver::new(reactor.clone(), timers.clone());
        let mut builder = executor::Builder::with_settings(self.settings.clone());
        builder
            .driver(driver)
            .extension(reactor.clone())
            .extension(timers.clone());
        if local {
            builder.extension(Arc::new(crate::task::LocalRuntimeMarker));
        }
        let inner = builder.build()?;
        Ok(Runtime {
            inner: Some(inner),
            reactor,
            timers,
        })
    }
}

impl Builder {
    /// Builds a [`LocalRuntime`]: a current-thread runtime whose
    /// `block_on` also runs tasks that are not `Send`
    /// ([`task::spawn_local`](crate::task::spawn_local)).
    ///
    /// # Errors
    ///
    /// As [`build`](Builder::build); also an error on a builder made by
    /// [`new_multi_thread`](Builder::new_multi_thread): a local runtime runs
    /// on the thread that calls `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::{Builder, LocalOptions};
    ///
    /// let rt = Builder::new_current_thread()
    ///     .enable_all()
    ///     .build_local(LocalOptions::default())
    ///     .unwrap();
    /// let rc = std::rc::Rc::new(1);
    /// let out = rt.block_on(async move {
    ///     smp_rt::task::spawn_local(async move { *rc + 1 }).await.unwrap()
    /// });
    /// assert_eq!(out, 2);
    /// assert!(Builder::new_multi_thread().build_local(LocalOptions::default()).is_err());
    /// ```
    pub fn build_local(&mut self, options: LocalOptions) -> io::Result<LocalRuntime> {
        let LocalOptions { _private: () } = options;
        if !self.current_thread {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "build_local needs a current-thread builder: a local runtime runs its tasks on \
                 the thread that calls block_on. Use Builder::new_current_thread().build_local(..)",
            ));
        }
        let rt = self.build_runtime(true)?;
        Ok(LocalRuntime {
            local: Some(LocalSet::new()),
            rt: Some(rt),
        })
    }
}

/// Options for [`Builder::build_local`] (tokio's `runtime::LocalOptions`);
/// none yet.
#[derive(Debug, Default, Clone)]
#[non_exhaustive]
pub struct LocalOptions {
    _private: (),
}

/// A current-thread runtime that also runs tasks that are not `Send`
/// (tokio's `runtime::LocalRuntime`).
///
/// Inside its [`block_on`](LocalRuntime::block_on),
/// [`task::spawn_local`](crate::task::spawn_local) works anywhere (in the
/// future, in its local tasks, in its `Send` tasks), and
/// [`spawn`](crate::spawn) of `Send` futures works as on any runtime. The
/// runtime is neither `Send` nor `Sync`: its local tasks live on its
/// thread. Dropping it drops the local tasks first, then the rest.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
/// use smp_rt::runtime::{Builder, LocalOptions};
///
/// let rt = Builder::new_current_thread()
///     .build_local(LocalOptions::default())
///     .unwrap();
/// let shared = Rc::new(std::cell::Cell::new(0));
/// let s = shared.clone();
/// rt.spawn_local(async move { s.set(s.get() + 1) });
/// rt.block_on(async {
///     let send = smp_rt::spawn(async { 2 }).await.unwrap();
///     shared.set(shared.get() + send);
///     smp_rt::task::yield_now().await;
/// });
/// assert_eq!(shared.get(), 3);
/// ```
#[derive(Debug)]
pub struct LocalRuntime {
    /// Its local tasks; `None` once dropped (before `rt`).
    local: Option<LocalSet>,
    /// `None` once shut down.
    rt: Option<Runtime>,
}

impl LocalRuntime {
    /// A local runtime with default settings:
    /// `Builder::new_current_thread().build_local(LocalOptions::default())`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    ///
    /// let rt = smp_rt::runtime::LocalRuntime::new()?;
    /// let shared = Rc::new(5); // not `Send`
    /// let seen = rt.block_on(async move {
    ///     smp_rt::task::spawn_local(async move { *shared * 2 }).await.unwrap()
    /// });
    /// assert_eq!(seen, 10);
    /// # std::io::Result::Ok(())
    /// ```
    pub fn new() -> io::Result<LocalRuntime> {
        Builder::new_current_thread().build_local(LocalOptions::default())
    }

    fn local(&self) -> &LocalSet {
        self.local
            .as_ref()
            .expect("the local set is only dropped with the runtime")
    }

    fn rt(&self) -> &Runtime {
        self.rt
            .as_ref()
            .expect("the runtime is only shut down by consuming it")
    }

    /// Runs `future` to completion on the current thread, running the
    /// runtime's tasks, local and `Send`, meanwhile.
    ///
    /// # Panics
    ///
    /// Panics if called from a worker thread or inside another `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let local = self.local();
        // Entered for the whole call, so that `spawn_local` works from the
        // runtime's `Send` tasks too (they run on this thread).
        let _entered = local.enter();
        local.block_on(self.rt(), future)
    }

    /// Spawns a task that need not be `Send`; it runs during `block_on`.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.local().spawn_local(future)
    }

    /// Spawns a `Send` task on this runtime.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.rt().spawn(future)
    }

    /// Runs `f` on the blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.rt().spawn_blocking(f)
    }

    /// The runtime's handle (it spawns `Send` tasks only).
    pub fn handle(&self) -> &Handle {
        self.rt().handle()
    }

    /// Enters the runtime on this thread until the guard is dropped:
    /// `spawn` and `spawn_local` (whose tasks run during the next
    /// `block_on`) work meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::runtime::{Builder, LocalOptions};
    ///
    /// let rt = Builder::new_current_thread().build_local(LocalOptions::default()).unwrap();
    /// let handle = {
    ///     let _guard = rt.enter();
    ///     smp_rt::task::spawn_local(async { std::rc::Rc::new(4) })
    /// };
    /// assert_eq!(*rt.block_on(handle).unwrap(), 4);
    /// ```
    pub fn enter(&self) -> EnterGuard<'_> {
        self.rt().enter().and_local(self.local())
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.rt().metrics()
    }

    /// Shuts down, waiting at most `timeout` for busy threads; the local
    /// tasks are dropped first.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.drop_local();
        if let Some(rt) = self.rt.take() {
            rt.shutdown_timeout(timeout);
        }
    }

    /// Shuts down without waiting for busy threads.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    /// Drops the local tasks, with the runtime entered (their `Drop` may
    /// spawn).
    fn drop_local(&mut self) {
        if let (Some(local), Some(rt)) = (self.local.take(), &self.rt) {
            let _entered = rt.enter();
            drop(local);
        }
    }
}

impl Drop for LocalRuntime {
    fn drop(&mut self) {
        self.drop_local();
    }
}

/// An smp_rt runtime: workers, their queues, the blocking pool, the IO
/// reactor and the timers.
///
/// Dropping it stops the workers and drops every task's future.
///
/// # Examples
///
/// ```
/// let rt = smp_rt::runtime::Runtime::new().unwrap();
/// let answer = rt.block_on(async { smp_rt::spawn(async { 6 * 7 }).await.unwrap() });
/// assert_eq!(answer, 42);
/// ```
#[derive(Debug)]
pub struct Runtime {
    /// `None` once shut down.
    inner: Option<executor::Runtime>,
    reactor: Arc<Reactor>,
    timers: Arc<Timers>,
}

/// Lets [`LocalSet::block_on`](crate::task::LocalSet::block_on) take this
/// runtime.
impl AsRef<executor::Runtime> for Runtime {
    fn as_ref(&self) -> &executor::Runtime {
        self.inner()
    }
}

// Unwind-safe, as tokio's `Runtime` is: the executor's runtime is (see its
// impls), and the reactor and the timers run user code (wakers) only
// outside their critical sections, through `wake_caught`, under locks that
// recover from poisoning.
impl std::panic::UnwindSafe for Runtime {}
impl std::panic::RefUnwindSafe for Runtime {}

impl Drop for Runtime {
    fn drop(&mut self) {
        // Tasks first, then the reactor and the timers: IO objects and
        // timers that outlive the runtime (moved out of a task, or held by
        // a plain thread) fail at once instead of waiting for events nobody
        // will deliver.
        drop(self.inner.take());
        self.reactor.shutdown();
        self.timers.shutdown();
    }
}

impl Runtime {
    /// A multi-thread runtime with default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Runs `future` to completion on the current thread.
    ///
    /// # Panics
    ///
    /// Panics if called from a worker thread or inside another `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.inner().block_on(future)
    }

    fn inner(&self) -> &executor::Runtime {
        self.inner
            .as_ref()
            .expect("the runtime is only shut down by consuming it")
    }

    /// Spawns a task on this runtime.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner().spawn(future)
    }

    /// Runs `f` on the blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.inner().spawn_blocking(f)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        self.inner().handle()
    }

    /// Enters the runtime on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.inner().enter()
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.inner().metrics()
    }

    /// Shuts down, waiting at most `timeout` for busy threads.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        if let Some(inner) = self.inner.take() {
            inner.shutdown_timeout(timeout);
        }
    }

    /// Shuts down without waiting for busy threads.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }
}

/// Runs `future` to completion on a new multi-thread runtime with default
/// settings, then shuts the runtime down.
///
/// # Panics
///
/// Panics if called inside a runtime worker, or if the runtime cannot start.
///
/// # Examples
///
/// ```
/// let v = smp_rt::block_on(async { smp_rt::spawn(async { 1 }).await.unwrap() + 1 });
/// assert_eq!(v, 2);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    executor::assert_may_block("smp_rt::block_on");
    Runtime::new()
        .unwrap_or_else(|err| panic!("smp_rt::block_on could not start a runtime: {err}"))
        .block_on(future)
}

/// `true` if `err` is the error an IO object returns once the runtime it
/// was registered with has shut down (as tokio's `is_rt_shutdown_err`):
/// the object outlived its runtime, and every further operation fails.
/// `false` for any other error, including one built by hand with the same
/// message.
///
/// # Examples
///
/// ```
/// use smp_rt::net::TcpListener;
/// use smp_rt::runtime::Runtime;
///
/// let rt1 = Runtime::new().unwrap();
/// let rt2 = Runtime::new().unwrap();
/// let listener = rt1.block_on(async { TcpListener::bind("127.0.0.1:0").await.unwrap() });
/// drop(rt1);
///
/// rt2.block_on(async {
///     let err = listener.accept().await.unwrap_err();
///     assert!(smp_rt::runtime::is_rt_shutdown_err(&err));
/// });
/// ```
pub fn is_rt_shutdown_err(err: &io::Error) -> bool {
    smp_rt_io::is_shut_down_error(err)
}

//! The runtime: building it, entering it, blocking on it, shutting it down.

mod block_on;
mod builder;
mod extensions;
mod handle;
mod id;
pub(crate) mod pinning;

use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

pub(crate) use builder::ThreadHook;
#[doc(hidden)]
pub use builder::{Builder, Settings, WORKER_THREADS_ENV, worker_threads_from_env};
pub use builder::{DEFAULT_REDUCTIONS, MIN_REDUCTIONS};
pub(crate) use extensions::Extensions;
pub use handle::{EnterGuard, Handle, TryCurrentError};
pub use id::Id;
pub(crate) use id::Identity;

pub use crate::metrics::{CurrentTask, RuntimeMetrics};
use crate::scheduler::{Flavor, Shared, WorkerContext};
use crate::task::JoinHandle;

/// The flavor of a runtime, as [`Handle::runtime_flavor`] returns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// One worker, run by the thread inside `block_on`
    /// (`Builder::new_current_thread`).
    CurrentThread,
    /// A pool of worker threads (`Builder::new_multi_thread`).
    MultiThread,
}

/// An smp_rt runtime: workers, their queues, the blocking pool.
///
/// Dropping it stops the workers and drops every task's future (queued or
/// waiting), after the tasks being polled finish their current poll, and
/// waits for running blocking tasks.
///
/// # Examples
///
/// ```
/// use smp_rt_executor::runtime::Runtime;
///
/// let rt = Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let h = smp_rt_executor::spawn(async { 6 * 7 });
///     h.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[derive(Debug)]
pub struct Runtime {
    handle: Handle,
    threads: Mutex<Vec<thread::JoinHandle<()>>>,
    /// Set by the first shutdown; later ones (the drop after
    /// `shutdown_timeout`) do nothing.
    shut_down: bool,
}

// Unwind-safe, as tokio's `Runtime` is, for the reasons given at `Handle`'s
// impls; the list of worker threads is behind a `Mutex`.
impl std::panic::UnwindSafe for Runtime {}
impl std::panic::RefUnwindSafe for Runtime {}

impl Runtime {
    /// A multi-thread runtime with default settings.
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    pub(crate) fn start(shared: Arc<Shared>) -> io::Result<Runtime> {
        let handle = Handle {
            shared: shared.clone(),
        };
        let runtime = Runtime {
            handle,
            threads: Mutex::new(Vec::new()),
            shut_down: false,
        };
        if shared.config.flavor == Flavor::MultiThread {
            // Each pinned worker thread reports how its pinning went.
            let (pinned_tx, pinned_rx) = std::sync::mpsc::channel();
            for index in 0..shared.workers.len() {
                let shared = shared.clone();
                let pin = shared
                    .config
                    .worker_cpus
                    .as_ref()
                    .map(|cpus| (pinning::cpu_for_worker(cpus, index), pinned_tx.clone()));
                let thread = shared
                    .config
                    .thread_builder(format_args!("-{index}"))
                    .spawn(move || {
                        if let Some((cpu, pinned)) = pin {
                            // `build` may have returned on another
                            // worker's error: nobody listens then.
                            let _ = pinned.send(pinning::pin_current_thread(index, cpu));
                        }
                        let config = shared.config.clone();
                        config.run_thread(|| run_worker(shared, index))
                    })?;
                runtime.threads.lock().unwrap().push(thread);
            }
            drop(pinned_tx);
            // Every pinned thread sends once; the receive ends early only
            // if a thread died before sending, and then the join at
            // shutdown reports it. On an error, `runtime` drops and shuts
            // the threads down.
            for pinned in pinned_rx {
                pinned?;
            }
        }
        crate::scheduler::watchdog::start(&shared)?;
        Ok(runtime)
    }

    /// Runs `future` to completion on the current thread and returns its
    /// output. Tasks it spawns run on the workers (on this thread, for a
    /// current-thread runtime).
    ///
    /// # Panics
    ///
    /// Panics if called from a worker thread or inside another `block_on`:
    /// blocking a worker would stall every task queued on it.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle.block_on(future)
    }

    /// Spawns a task on this runtime; see [`crate::spawn`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs `f` on the blocking pool; see [`crate::task::spawn_blocking`].
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The runtime's handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Enters the runtime on this thread: `spawn` and `Handle::current`
    /// work until the guard is dropped.
    pub fn enter(&self) -> EnterGuard<'_> {
        self.handle.enter()
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        self.handle.metrics()
    }

    /// Shuts down, waiting at most `timeout` for workers to finish their
    /// current poll and for blocking tasks to finish; threads still busy
    /// after that are left to finish on their own.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for busy threads.
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if std::mem::replace(&mut self.shut_down, true) {
            return;
        }
        let shared = &self.handle.shared;
        shared.begin_shutdown();
        let deadline = timeout.map(|t| Instant::now() + t);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        for thread in threads {
            if thread.thread().id() == thread::current().id() {
                // Dropped from one of its own tasks: this worker stops when
                // the task's poll returns, and drops its queues then.
                continue;
            }
            match deadline {
                None => {
                    let _ = thread.join();
                }
                Some(deadline) => {
                    while !thread.is_finished() && Instant::now() < deadline {
                        thread::sleep(Duration::from_millis(1));
                    }
                    if thread.is_finished() {
                        let _ = thread.join();
                    }
                    // Else the worker is stuck in a poll; it drops its own
                    // queues when the poll returns (`Shared::release_core`).
                }
            }
        }
        {
            // Tasks are dropped with the runtime entered: a future's `Drop`
            // may spawn (a connection returned to a pool spawns its
            // cleanup), and then gets a handle that resolves to a cancelled
            // `JoinError` instead of a panic for want of a runtime.
            let _enter = crate::context::enter(self.handle.clone());
            shared.drop_all_tasks();
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            shared.blocking.shutdown(left);
        }
    }
}

/// Lets [`LocalSet::block_on`](crate::task::LocalSet::block_on) take this
/// runtime, or one that wraps it.
impl AsRef<Runtime> for Runtime {
    fn as_ref(&self) -> &Runtime {
        self
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

/// The body of a worker thread.
fn run_worker(shared: Arc<Shared>, index: usize) {
    let core = shared.cores[index]
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
        .expect("a worker's core is taken only by its own thread");
    let _enter = crate::context::enter(Handle {
        shared: shared.clone(),
    });
    let worker = WorkerContext::new(shared.clone(), core);
    {
        let _installed = worker.install();
        // The loop runs no user code outside a task's poll (caught by its
        // harness) and wakes no waker uncaught; but a tracing subscriber,
        // say, is user code too. A worker that unwound starts its loop
        // again rather than leave its queues to nobody while the runtime
        // still counts it.
        while let Err(payload) = catch_unwind(AssertUnwindSafe(|| worker.run())) {
            crate::task::unwind::report("running a worker's loop", payload);
            worker.recover();
        }
    }
    shared.release_core(index, worker.into_core());
}

/// Panics with an explanation if the calling thread runs an smp_rt worker
/// (a task, or a current-thread runtime's `block_on`), where blocking would
/// stall every task queued on the worker, or is inside a `block_on`, whose
/// future would stop being polled (as tokio's blocking calls do). `what`
/// names the caller in the message.
///
/// # Examples
///
/// ```
/// // A plain thread may block.
/// smp_rt_executor::runtime::assert_may_block("my_blocking_call");
/// ```
#[track_caller]
pub fn assert_may_block(what: &str) {
    block_on::assert_not_in_worker(what);
    if crate::context::in_block_on() {
        panic!(
            "{what} was called inside block_on: blocking there would stop the block_on's \
             future, which nothing else polls. `.await` the async version instead, or call \
             {what} from a plain thread or from spawn_blocking."
        );
    }
}

//! `runtime::Builder`: configures and builds a [`Runtime`].

use std::any::Any;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::{Extensions, Runtime};
use crate::blocking::BlockingPool;
use crate::driver::{Driver, SleepDriver};
use crate::scheduler::{Config, Flavor, Shared};

/// Builds a [`Runtime`] (tokio's `runtime::Builder`, with reductions).
///
/// # Examples
///
/// ```
/// use smp_rt_executor::runtime::Builder;
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
pub struct Builder {
    flavor: Flavor,
    worker_threads: Option<usize>,
    reductions: u32,
    thread_name: String,
    max_blocking_threads: usize,
    keep_alive: Duration,
    driver: Option<Box<dyn Driver>>,
    extensions: Extensions,
    on_thread_start: Option<ThreadHook>,
    on_thread_stop: Option<ThreadHook>,
}

/// A callback run on each of the runtime's threads.
pub(crate) type ThreadHook = Arc<dyn Fn() + Send + Sync>;

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("reductions", &self.reductions)
            .field("thread_name", &self.thread_name)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .finish_non_exhaustive()
    }
}

/// The default reduction budget per slice (BEAM's before OTP 20).
pub const DEFAULT_REDUCTIONS: u32 = 2000;

impl Builder {
    fn new(flavor: Flavor) -> Builder {
        Builder {
            flavor,
            worker_threads: None,
            reductions: DEFAULT_REDUCTIONS,
            thread_name: "smp-rt-worker".to_owned(),
            max_blocking_threads: 512,
            keep_alive: Duration::from_secs(10),
            driver: None,
            extensions: Extensions::default(),
            on_thread_start: None,
            on_thread_stop: None,
        }
    }

    /// A runtime with one worker thread per core.
    pub fn new_multi_thread() -> Builder {
        Builder::new(Flavor::MultiThread)
    }

    /// A runtime with a single worker, run by the thread inside `block_on`:
    /// spawned tasks make progress only while some thread is in `block_on`.
    pub fn new_current_thread() -> Builder {
        Builder::new(Flavor::CurrentThread)
    }

    /// Number of workers (default: `std::thread::available_parallelism()`).
    /// Ignored by a current-thread runtime, which has one. Zero makes
    /// [`build`](Builder::build) fail.
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        self.worker_threads = Some(n);
        self
    }

    /// Reductions per scheduling slice (default 2000). Zero makes
    /// [`build`](Builder::build) fail.
    pub fn reductions(&mut self, n: u32) -> &mut Builder {
        self.reductions = n;
        self
    }

    /// Name prefix of the runtime's threads (default `smp-rt-worker`).
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.thread_name = name.into();
        self
    }

    /// Upper bound on the blocking pool's threads (default 512). Zero makes
    /// [`build`](Builder::build) fail.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        self.max_blocking_threads = n;
        self
    }

    /// How long an idle blocking thread waits for work before exiting
    /// (default 10 s).
    pub fn thread_keep_alive(&mut self, duration: Duration) -> &mut Builder {
        self.keep_alive = duration;
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

    /// The event source idle workers block in (IO reactor and timers).
    /// Default: [`SleepDriver`], which only sleeps.
    pub fn driver(&mut self, driver: impl Driver) -> &mut Builder {
        self.driver = Some(Box::new(driver));
        self
    }

    /// Attaches a service to the runtime, found again with
    /// [`Handle::extension`](super::Handle::extension). This is how the IO
    /// reactor and the timers reach their futures without the executor
    /// knowing them.
    pub fn extension<T: Any + Send + Sync>(&mut self, value: Arc<T>) -> &mut Builder {
        self.extensions.insert(value);
        self
    }

    /// Runs `f` on each worker and blocking thread when it starts.
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Runs `f` on each worker and blocking thread before it exits.
    pub fn on_thread_stop(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// Builds the runtime and starts its threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for zero workers, zero reductions or zero blocking
    /// threads; the OS error if a worker thread cannot be started.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let workers = match self.flavor {
            Flavor::CurrentThread => 1,
            Flavor::MultiThread => match self.worker_threads {
                Some(0) => {
                    return Err(invalid(
                        "worker_threads must be at least 1 (leave it unset for one worker per core)",
                    ));
                }
                Some(n) => n,
                None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            },
        };
        if workers >= crate::task::header::MAX_WORKERS {
            return Err(invalid("worker_threads must be below 65535"));
        }
        if self.reductions == 0 {
            return Err(invalid(
                "reductions must be at least 1: it is the budget of a scheduling slice (default 2000)",
            ));
        }
        if self.max_blocking_threads == 0 {
            return Err(invalid(
                "max_blocking_threads must be at least 1, or spawn_blocking could never run",
            ));
        }
        let config = Config {
            flavor: self.flavor,
            reductions: self.reductions,
            thread_name: self.thread_name.clone(),
            extensions: self.extensions.clone(),
            on_thread_start: self.on_thread_start.clone(),
            on_thread_stop: self.on_thread_stop.clone(),
        };
        let driver = self
            .driver
            .take()
            .unwrap_or_else(|| Box::new(SleepDriver::new()));
        let blocking = BlockingPool::new(self.max_blocking_threads, self.keep_alive);
        let shared = Arc::new(Shared::new(workers, config, driver, blocking));
        Runtime::start(shared)
    }
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_owned())
}

//! Assembling a [`Runtime`]: [`Settings`], the validated knobs, and
//! [`Builder`], which adds the driver and the extensions and starts the
//! threads.
//!
//! Neither is user-facing: applications build their runtime with
//! `smp_rt::runtime::Builder`, the one public, documented builder, which
//! fills in a [`Settings`] and assembles it here with the IO reactor and
//! the timers. The knobs are documented there.

use std::any::Any;
use std::fmt;
use std::io;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use super::{Extensions, Id, Identity, Runtime, pinning};
use crate::blocking::BlockingPool;
use crate::driver::{Driver, SleepDriver};
use crate::scheduler::{Config, Flavor, Shared};

/// A callback run on each of the runtime's threads.
pub(crate) type ThreadHook = Arc<dyn Fn() + Send + Sync>;

/// The default reduction budget per slice (BEAM's before OTP 20).
pub const DEFAULT_REDUCTIONS: u32 = 2000;

/// The smallest reduction budget per slice a runtime accepts. A task's poll
/// charges one reduction for itself and one for each smp_rt future it
/// polls: a `select!` polls up to 64. A slice smaller than one such poll
/// can stop a task at the same await point in every slice, forever.
pub const MIN_REDUCTIONS: u32 = 66;

/// The knobs of a runtime, with their defaults; checked by
/// [`Builder::build`]. Each field is documented on the setter of the same
/// name of `smp_rt::runtime::Builder`, which keeps one of these.
///
/// Not public API: the assembly interface between the executor and the
/// `smp_rt` facade.
#[doc(hidden)]
#[derive(Clone)]
pub struct Settings {
    /// Multi-thread or current-thread: chosen by the constructor.
    flavor: Flavor,
    /// Number of workers; `None` (the default) is one per core. Ignored by
    /// a current-thread runtime, which has one. Zero is invalid.
    pub worker_threads: Option<usize>,
    /// Reductions per scheduling slice (default [`DEFAULT_REDUCTIONS`]).
    /// Zero is invalid.
    pub reductions: u32,
    /// Name prefix of the runtime's threads (default `smp-rt-worker`).
    pub thread_name: String,
    /// Names each thread instead of `thread_name` when set.
    pub thread_name_fn: Option<Arc<dyn Fn() -> String + Send + Sync>>,
    /// Stack size of the runtime's threads, in bytes (default: `std`'s).
    pub thread_stack_size: Option<usize>,
    /// Upper bound on the blocking pool's threads (default 512). Zero is
    /// invalid.
    pub max_blocking_threads: usize,
    /// How long an idle blocking thread waits for work before exiting
    /// (default 10 s).
    pub thread_keep_alive: Duration,
    /// The runtime's name, returned by `Handle::name` (default none).
    pub name: Option<String>,
    /// Run on each worker and blocking thread when it starts.
    pub on_thread_start: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Run on each worker and blocking thread before it exits.
    pub on_thread_stop: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Run by a worker thread each time it runs out of work, before it
    /// waits for more.
    pub on_thread_park: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Run by a worker thread each time it stops waiting for work.
    pub on_thread_unpark: Option<Arc<dyn Fn() + Send + Sync>>,
    // Placement on cores (`pinning`).
    /// The worker count as a range, `(min, max)`: the cores available,
    /// clamped into it. Used when `worker_threads` is `None`; the
    /// facade's setters keep at most one of the two set (the last call
    /// wins).
    pub worker_threads_between: Option<(usize, usize)>,
    /// Pins worker `i` to the `i`-th CPU this thread may run on (default
    /// off; Linux only, else `build` fails). Ignored by a current-thread
    /// runtime, whose worker runs on the caller's thread.
    pub pin_workers: bool,
    /// Time every poll and keep each task's total (default off).
    pub task_poll_time: bool,
    /// The most queued tasks `try_spawn` admits (default: no limit).
    pub max_queued_tasks: Option<NonZeroUsize>,
    /// A poll running longer than this is reported and its worker's queued
    /// work moved to siblings (default `None`: no watchdog). Zero is
    /// invalid.
    pub long_poll_threshold: Option<Duration>,
}

impl Settings {
    fn new(flavor: Flavor) -> Settings {
        Settings {
            flavor,
            worker_threads: None,
            reductions: DEFAULT_REDUCTIONS,
            thread_name: "smp-rt-worker".to_owned(),
            thread_name_fn: None,
            thread_stack_size: None,
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            name: None,
            on_thread_start: None,
            on_thread_stop: None,
            on_thread_park: None,
            on_thread_unpark: None,
            worker_threads_between: None,
            pin_workers: false,
            task_poll_time: false,
            max_queued_tasks: None,
            long_poll_threshold: None,
        }
    }

    /// The defaults of a runtime with one worker thread per core.
    pub fn multi_thread() -> Settings {
        Settings::new(Flavor::MultiThread)
    }

    /// The defaults of a runtime with a single worker, run by the thread
    /// inside `block_on`.
    pub fn current_thread() -> Settings {
        Settings::new(Flavor::CurrentThread)
    }

    /// The number of workers these settings give, or why they are invalid.
    fn validate(&self) -> io::Result<usize> {
        let workers = match self.flavor {
            Flavor::CurrentThread => 1,
            Flavor::MultiThread => match self.worker_threads {
                Some(0) => {
                    return Err(invalid(
                        "worker_threads must be at least 1 (leave it unset for one worker per core)",
                    ));
                }
                Some(n) => n,
                None => match self.worker_threads_between {
                    Some((min, max)) => {
                        if min == 0 || min > max {
                            return Err(invalid(&format!(
                                "worker_threads_between({min}, {max}): the minimum must be at \
                                 least 1 and at most the maximum"
                            )));
                        }
                        let available = std::thread::available_parallelism().map_or(1, |n| n.get());
                        pinning::clamp_workers(available, min, max)
                    }
                    None => match worker_threads_from_env(|var| {
                        std::env::var_os(var).map(|value| value.to_string_lossy().into_owned())
                    }) {
                        Ok(Some(n)) => n,
                        Ok(None) => std::thread::available_parallelism().map_or(1, |n| n.get()),
                        Err(msg) => return Err(invalid(&msg)),
                    },
                },
            },
        };
        if workers >= crate::task::header::MAX_WORKERS {
            return Err(invalid("worker_threads must be below 65535"));
        }
        if self.reductions < MIN_REDUCTIONS {
            return Err(invalid(&format!(
                "reductions must be at least {MIN_REDUCTIONS} (it was {}): a task's poll charges \
                 one reduction for itself and one per smp_rt future it polls (up to 64 for a \
                 select!), and a smaller slice can stop a task at the same await point forever \
                 (default {DEFAULT_REDUCTIONS})",
                self.reductions
            )));
        }
        if self.thread_name.contains('\0') {
            return Err(invalid(
                "thread_name must not contain a NUL byte: the OS cannot name a thread with one",
            ));
        }
        if self.long_poll_threshold == Some(Duration::ZERO) {
            return Err(invalid(
                "long_poll_threshold must be above zero (every poll would be a long one); \
                 leave it unset for no watchdog",
            ));
        }
        if self.max_blocking_threads == 0 {
            return Err(invalid(
                "max_blocking_threads must be at least 1, or spawn_blocking could never run",
            ));
        }
        Ok(workers)
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("flavor", &self.flavor)
            .field("worker_threads", &self.worker_threads)
            .field("reductions", &self.reductions)
            .field("thread_name", &self.thread_name)
            .field("thread_stack_size", &self.thread_stack_size)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("thread_keep_alive", &self.thread_keep_alive)
            .field("name", &self.name)
            .field("worker_threads_between", &self.worker_threads_between)
            .field("pin_workers", &self.pin_workers)
            .field("max_queued_tasks", &self.max_queued_tasks)
            .field("long_poll_threshold", &self.long_poll_threshold)
            .finish_non_exhaustive()
    }
}

/// Assembles a [`Runtime`] from [`Settings`], a [`Driver`] (the event
/// source idle workers block in) and extensions (the services found again
/// with [`Handle::extension`](super::Handle::extension)).
///
/// Not public API: `smp_rt::runtime::Builder` is the builder users see.
/// The executor's own tests and examples, the IO crate's unit tests and
/// the bench crate's `reactor_placement` (a reactor on a thread of its
/// own) assemble runtimes with it.
///
/// # Examples
///
/// ```
/// use smp_rt_executor::runtime::{Builder, Settings};
///
/// let mut settings = Settings::multi_thread();
/// settings.reductions = 500;
/// let rt = Builder::with_settings(settings).worker_threads(2).build().unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
///
/// // Invalid settings are an error, not a runtime that hangs.
/// assert!(Builder::new_multi_thread().worker_threads(0).build().is_err());
/// ```
#[doc(hidden)]
pub struct Builder {
    settings: Settings,
    driver: Option<Box<dyn Driver>>,
    extensions: Extensions,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// A runtime with `settings`, the [`SleepDriver`] and no extensions.
    pub fn with_settings(settings: Settings) -> Builder {
        Builder {
            settings,
            driver: None,
            extensions: Extensions::default(),
        }
    }

    /// [`Settings::multi_thread`].
    pub fn new_multi_thread() -> Builder {
        Builder::with_settings(Settings::multi_thread())
    }

    /// [`Settings::current_thread`].
    pub fn new_current_thread() -> Builder {
        Builder::with_settings(Settings::current_thread())
    }

    /// Sets [`Settings::worker_threads`].
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        self.settings.worker_threads = Some(n);
        self.settings.worker_threads_between = None;
        self
    }

    /// The event source idle workers block in (IO reactor and timers).
    /// Default: [`SleepDriver`], which only sleeps.
    pub fn driver(&mut self, driver: impl Driver) -> &mut Builder {
        self.driver = Some(Box::new(driver));
        self
    }

    /// Sets [`Settings::task_poll_time`]: workers time every poll, and
    /// [`RuntimeMetrics::task_poll_time`](super::RuntimeMetrics::task_poll_time)
    /// reports each task's total.
    pub fn enable_task_poll_time(&mut self) -> &mut Builder {
        self.settings.task_poll_time = true;
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

    /// Checks the settings, builds the runtime and starts its threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for zero workers, zero reductions or zero blocking
    /// threads; the OS error if a worker thread cannot be started.
    pub fn build(&mut self) -> io::Result<Runtime> {
        let settings = &self.settings;
        let workers = settings.validate()?;
        let worker_cpus = match settings.flavor {
            Flavor::MultiThread if settings.pin_workers => Some(pinning::allowed_cpus()?.into()),
            _ => None,
        };
        let mut extensions = self.extensions.clone();
        extensions.insert(Arc::new(Identity {
            id: Id::next(),
            name: settings.name.clone(),
        }));
        let config = Config {
            flavor: settings.flavor,
            reductions: settings.reductions,
            thread_name: settings.thread_name.clone(),
            thread_name_fn: settings.thread_name_fn.clone(),
            thread_stack_size: settings.thread_stack_size,
            extensions,
            on_thread_start: settings.on_thread_start.clone(),
            on_thread_stop: settings.on_thread_stop.clone(),
            on_thread_park: settings.on_thread_park.clone(),
            on_thread_unpark: settings.on_thread_unpark.clone(),
            worker_cpus,
            task_poll_time: settings.task_poll_time,
            max_queued_tasks: settings.max_queued_tasks,
            long_poll_threshold: settings.long_poll_threshold,
        };
        let driver = self
            .driver
            .take()
            .unwrap_or_else(|| Box::new(SleepDriver::new()));
        let blocking = BlockingPool::new(settings.max_blocking_threads, settings.thread_keep_alive);
        let shared = Arc::new(Shared::new(workers, config, driver, blocking));
        Runtime::start(shared)
    }
}

/// The environment variables that set the worker count of a multi-thread
/// runtime whose `worker_threads` is not set, in the order they are read.
pub const WORKER_THREADS_ENV: [&str; 2] = ["SMP_RT_WORKER_THREADS", "TOKIO_WORKER_THREADS"];

/// The worker count the environment asks for: `SMP_RT_WORKER_THREADS`,
/// else `TOKIO_WORKER_THREADS`, read with `lookup`; `None` if neither is
/// set. The first one set must be a positive integer (surrounding spaces
/// allowed), or this is an error that names it.
///
/// Not public API: `smp_rt::runtime::Builder::new_multi_thread` documents
/// the variables.
///
/// # Examples
///
/// ```
/// use smp_rt_executor::runtime::worker_threads_from_env;
///
/// let env = |pairs: &'static [(&'static str, &'static str)]| {
///     move |var: &str| {
///         pairs.iter().find(|(k, _)| *k == var).map(|(_, v)| v.to_string())
///     }
/// };
/// assert_eq!(worker_threads_from_env(env(&[])), Ok(None));
/// assert_eq!(worker_threads_from_env(env(&[("TOKIO_WORKER_THREADS", "3")])), Ok(Some(3)));
/// assert_eq!(
///     worker_threads_from_env(env(&[("SMP_RT_WORKER_THREADS", "2"), ("TOKIO_WORKER_THREADS", "3")])),
///     Ok(Some(2)),
/// );
/// assert!(worker_threads_from_env(env(&[("SMP_RT_WORKER_THREADS", "0")]))
///     .unwrap_err()
///     .contains("SMP_RT_WORKER_THREADS"));
/// ```
#[doc(hidden)]
pub fn worker_threads_from_env(
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<Option<usize>, String> {
    for var in WORKER_THREADS_ENV {
        if let Some(value) = lookup(var) {
            return match value.trim().parse::<usize>() {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(format!(
                    "{var} must be a positive integer (a number of worker threads), \
                     but it is {value:?}"
                )),
            };
        }
    }
    Ok(None)
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let pairs = pairs.to_vec();
        move |var| {
            pairs
                .iter()
                .find(|(k, _)| *k == var)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn worker_threads_from_env_reads_smp_rt_then_tokio() {
        assert_eq!(worker_threads_from_env(env(&[])), Ok(None));
        assert_eq!(
            worker_threads_from_env(env(&[("SMP_RT_WORKER_THREADS", "4")])),
            Ok(Some(4))
        );
        assert_eq!(
            worker_threads_from_env(env(&[("TOKIO_WORKER_THREADS", " 6 ")])),
            Ok(Some(6))
        );
        assert_eq!(
            worker_threads_from_env(env(&[
                ("TOKIO_WORKER_THREADS", "6"),
                ("SMP_RT_WORKER_THREADS", "2"),
            ])),
            Ok(Some(2))
        );
        assert_eq!(worker_threads_from_env(env(&[("OTHER", "6")])), Ok(None));
    }

    #[test]
    fn worker_threads_from_env_rejects_what_is_not_a_positive_integer() {
        for bad in ["0", "", "-1", "two", "1.5", "99999999999999999999999"] {
            let err =
                worker_threads_from_env(env(&[("SMP_RT_WORKER_THREADS", bad)])).expect_err(bad);
            assert!(err.contains("SMP_RT_WORKER_THREADS"), "{err}");
            let err =
                worker_threads_from_env(env(&[("TOKIO_WORKER_THREADS", bad)])).expect_err(bad);
            assert!(err.contains("TOKIO_WORKER_THREADS"), "{err}");
        }
        // An invalid SMP_RT_WORKER_THREADS is an error even when
        // TOKIO_WORKER_THREADS is valid: it is not skipped.
        let err = worker_threads_from_env(env(&[
            ("SMP_RT_WORKER_THREADS", "x"),
            ("TOKIO_WORKER_THREADS", "2"),
        ]))
        .unwrap_err();
        assert!(err.contains("SMP_RT_WORKER_THREADS"), "{err}");
    }
}

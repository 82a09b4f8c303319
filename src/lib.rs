//! # smp_rt
//!
//! An async runtime that schedules futures the way the Erlang VM (BEAM)
//! schedules processes: one worker per core, four priorities (`Max`, `High`,
//! `Normal`, `Low`), a reduction budget that preempts a busy task at its
//! next await point, an inbox per worker, work stealing, and workers that
//! spin briefly and then sleep.
//!
//! The public API follows tokio's names, so that moving a service from tokio
//! is a change of paths:
//!
//! ```
//! use smp_rt::task::{self, Priority};
//!
//! #[smp_rt::main(worker_threads = 2)]
//! async fn main() {
//!     let urgent = task::spawn_with_priority(Priority::High, async { 1 });
//!     let normal = smp_rt::spawn(async { 2 });
//!     assert_eq!(urgent.await.unwrap() + normal.await.unwrap(), 3);
//! }
//! ```
//!
//! The parts:
//! * [`runtime`]: `Builder` (including worker threads pinned to cores and a
//!   worker count clamped to the cores available), `Runtime`, `Handle`,
//!   `RuntimeMetrics` (with which task each worker polls now), a watchdog
//!   for polls that never yield (`Builder::long_poll_threshold`); a runtime
//!   built with `max_queued_tasks(n)` refuses work beyond `n` unfinished
//!   tasks through `try_spawn` (bounded admission: see
//!   [`runtime::Builder::max_queued_tasks`]);
//! * [`task`]: spawning, priorities, reductions, deadlines (earliest
//!   deadline first within a priority: `task::Builder::deadline`),
//!   `JoinHandle`, `JoinSet`;
//! * [`sync`]: `oneshot`, `mpsc`, `Mutex`, `Notify`, `Semaphore`, each
//!   charging a reduction per operation;
//! * [`fs`]: files and directories on the blocking pool, as `tokio::fs`;
//! * [`process`]: BEAM-style processes, and child processes as
//!   `tokio::process`;
//! * [`signal`]: `ctrl_c` and Unix signal listeners;
//! * [`main`] and [`test`]: the entry-point attributes.
//!
//! # Observability
//!
//! [`RuntimeMetrics`](runtime::RuntimeMetrics) (from
//! [`Runtime::metrics`](runtime::Runtime::metrics) or
//! [`Handle::metrics`](runtime::Handle::metrics)) reads the scheduler's
//! counters without stopping it. Per worker: polls, steals and steal
//! attempts (`worker_steal_attempts`: every look at the siblings' queues,
//! found or not), tasks migrated to it (`worker_migrated_count`: polls of
//! a task that a steal, a rescue or a take from an inbox moved from the
//! worker it was queued on), preemptions, busy and idle time
//! (`worker_total_idle_duration`: busy-waiting and parked). Per task: its
//! reductions ([`task::stats`]) and, on a runtime built with
//! [`Builder::enable_task_poll_time`](runtime::Builder::enable_task_poll_time),
//! the time spent polling it
//! ([`RuntimeMetrics::task_poll_time`](runtime::RuntimeMetrics::task_poll_time)).
//!
//! ```
//! use smp_rt::runtime::Builder;
//!
//! let rt = Builder::new_multi_thread()
//!     .worker_threads(2)
//!     .enable_task_poll_time()
//!     .build()
//!     .unwrap();
//! let task = rt.spawn(std::future::pending::<()>());
//! rt.block_on(async { smp_rt::task::yield_now().await });
//! let m = rt.metrics();
//! for w in 0..m.num_workers() {
//!     println!(
//!         "worker {w}: {} of {} steal attempts found work, {} tasks migrated, idle {:?}",
//!         m.worker_steal_count(w),
//!         m.worker_steal_attempts(w),
//!         m.worker_migrated_count(w),
//!         m.worker_total_idle_duration(w),
//!     );
//! }
//! // `None` until the task's first poll has ended.
//! println!("polled for {:?}", m.task_poll_time(task.id()));
//! ```

#![warn(missing_docs, rust_2018_idioms)]

mod driver;
mod macros;

pub mod runtime;

pub use runtime::block_on;
pub use smp_rt_executor::{JoinHandle, spawn, spawn_blocking, task, task_local};
#[cfg(unix)]
pub use smp_rt_io::signal;
pub use smp_rt_io::{fs, io, net};
pub use smp_rt_macros::{main, test};
pub use smp_rt_sync as sync;
pub use smp_rt_timers as time;

#[doc(hidden)]
pub use macros::__private;

pub mod process {
    //! Processes of two kinds: BEAM-style processes (smp_rt tasks with a
    //! mailbox, links and monitors: [`spawn`], [`Pid`], [`supervisor`], ...),
    //! and operating-system child processes as `tokio::process` ([`Command`],
    //! [`Child`] and its pipes).
    //!
    //! ```
    //! # smp_rt::block_on(async {
    //! let status = smp_rt::process::Command::new("true").status().await?;
    //! assert!(status.success());
    //! # std::io::Result::Ok(()) }).unwrap();
    //! ```

    pub use smp_rt_io::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
    pub use smp_rt_process::*;
}

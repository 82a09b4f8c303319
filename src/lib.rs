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
//! * [`runtime`]: `Builder`, `Runtime`, `Handle`, `RuntimeMetrics` (with
//!   which task each worker polls now), and a watchdog for polls that never
//!   yield (`Builder::long_poll_threshold`);
//! * [`task`]: spawning, priorities, reductions, `JoinHandle`, `JoinSet`;
//! * [`sync`]: `oneshot`, `mpsc`, `Mutex`, `Notify`, `Semaphore`, each
//!   charging a reduction per operation;
//! * [`fs`]: files and directories on the blocking pool, as `tokio::fs`;
//! * [`process`]: BEAM-style processes, and child processes as
//!   `tokio::process`;
//! * [`signal`]: `ctrl_c` and Unix signal listeners;
//! * [`main`] and [`test`]: the entry-point attributes.

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

//! The executor of smp_rt: futures scheduled the way the BEAM schedules
//! processes.
//!
//! * **Tasks** are [`async-task`](async_task) tasks carrying a
//!   [`Priority`](task::Priority) (`Max`, `High`, `Normal`, `Low`) and a
//!   reduction budget.
//! * **Reductions.** A slice of reductions (default 2000) starts each time a
//!   worker polls a task; every poll and every smp_rt leaf future charges
//!   one. When the slice is spent, the next charging await point ends it: the
//!   task goes to the back of its priority's queue. Cooperative preemption,
//!   BEAM style: a busy loop that awaits smp_rt futures (or calls
//!   [`task::consume_budget`]) cannot hold a worker.
//! * **Workers**, one per core, each with four priority deques (`Max` and
//!   `High` strict; `Low` interleaved with `Normal` so it is never starved)
//!   and an inbox for work from other threads. Idle workers steal half a
//!   sibling's highest non-empty deque, spin briefly, then park.
//! * **Deadlines.** A task may carry a deadline
//!   ([`task::Builder::deadline`], [`task::set_deadline`]): among the ready
//!   tasks of one priority on a worker, the earliest deadline runs first,
//!   and tasks without one run after them in FIFO order. A first poll that
//!   starts after the deadline is a miss, counted per task
//!   ([`task::deadline_misses`]) and per worker
//!   ([`RuntimeMetrics::worker_deadline_misses`](runtime::RuntimeMetrics::worker_deadline_misses)).
//!   Once queued on a worker, a deadline task is not stolen by its
//!   siblings.
//! * **A watchdog for polls that never yield** (off unless a
//!   `long_poll_threshold` is set): a poll that holds its worker past the
//!   threshold (computing, or calling blocking code) is reported once, as
//!   a `tracing` warning naming the task, and counted
//!   ([`RuntimeMetrics::worker_long_poll_count`](runtime::RuntimeMetrics::worker_long_poll_count));
//!   the work queued on its worker moves to a sibling while it is stuck.
//!   [`RuntimeMetrics::worker_current_task`](runtime::RuntimeMetrics::worker_current_task)
//!   says which task each worker polls, and for how long.
//! * A [`Driver`](driver::Driver) hook lets an IO reactor and timers use the
//!   workers' idle time.
//!
//! Applications use the `smp_rt` crate, whose `runtime::Builder` is the one
//! public runtime builder: it assembles this executor with the IO reactor
//! and the timers. The executor's `runtime::Builder` and
//! `runtime::Settings` are that assembly interface, hidden from the
//! documentation; the example below uses them to run the executor alone.
//!
//! # Examples
//!
//! ```
//! use smp_rt_executor::runtime::Builder;
//! use smp_rt_executor::task::{self, Priority};
//!
//! let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
//! rt.block_on(async {
//!     let busy = task::spawn_with_priority(Priority::Low, async {
//!         let mut n = 0u64;
//!         for i in 0..100_000u64 {
//!             n = n.wrapping_add(i);
//!             task::consume_budget().await; // a preemption point
//!         }
//!         (n, task::stats().preemptions)
//!     });
//!     let urgent = task::spawn_with_priority(Priority::High, async { "ran" });
//!     assert_eq!(urgent.await.unwrap(), "ran");
//!     let (_, preemptions) = busy.await.unwrap();
//!     assert!(preemptions > 0);
//! });
//! ```

#![warn(missing_docs, rust_2018_idioms)]

#[cfg(not(feature = "disasm"))]
mod arch;
#[cfg(feature = "disasm")]
#[doc(hidden)]
pub mod arch;
mod blocking;
mod context;
pub mod driver;
mod loom;
mod metrics;
mod queue;
pub mod runtime;
mod scheduler;
pub mod task;

use std::future::Future;

pub use task::{JoinHandle, spawn, spawn_blocking};

/// Runs `future` to completion on a new multi-thread runtime with default
/// settings, then shuts the runtime down.
///
/// # Panics
///
/// Panics if called inside a runtime worker or another `block_on`, or if the
/// runtime cannot be started.
///
/// # Examples
///
/// ```
/// let v = smp_rt_executor::block_on(async {
///     smp_rt_executor::spawn(async { 1 }).await.unwrap() + 1
/// });
/// assert_eq!(v, 2);
/// ```
#[track_caller]
pub fn block_on<F: Future>(future: F) -> F::Output {
    runtime::assert_may_block("smp_rt::block_on");
    runtime::Runtime::new()
        .unwrap_or_else(|err| panic!("smp_rt::block_on could not start a runtime: {err}"))
        .block_on(future)
}

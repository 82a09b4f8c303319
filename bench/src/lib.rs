//! # smp_rt_bench
//!
//! Head-to-head benchmarks of smp_rt against tokio: the same workload, on
//! the same number of worker threads, in the same process run, reported as a
//! ratio.
//!
//! ```sh
//! cargo run --release -p smp_rt_bench              # about 1-3 minutes on 2 cores
//! cargo run --release -p smp_rt_bench -- --quick   # a few seconds
//! cargo bench --bench rt_head_to_head              # the reference workloads under criterion
//! ```
//!
//! The parts:
//! * [`workloads`]: every workload twice, once per runtime
//!   ([`workloads::smp_rt`], [`workloads::tokio`]), each taking the runtime
//!   by reference and returning what it measured; [`workloads::Workload`]
//!   lists them, and is where new workloads are added;
//! * [`runtimes`]: the two runtimes, built with the same worker count;
//! * [`stats`]: medians and percentiles;
//! * [`sysinfo`]: CPU model, core count, resident memory, date;
//! * [`report`]: the text table, `report.md`, `samples.csv` and the SVG
//!   chart;
//! * [`wrk`]: the `wrk` load generator of `http_wrk` and `axum_hello`,
//!   run as a child process, and the parser of its output;
//! * [`stacks`]: the real-stack workloads' programs (`axum_hello`,
//!   `tonic_unary`), built by cargo against tokio and against the tokio
//!   facade, started as child processes; the tonic load generator;
//! * [`server`]: starting and stopping the server process of one round,
//!   for [`stacks`] and [`redis`];
//! * [`redis`]: `redis_benchmark`, the Redis-protocol server of
//!   `examples/redis_pubsub` built on tokio and on smp_rt, under
//!   `redis-benchmark`;
//! * [`cli`]: the runner's arguments.
//!
//! Almost every figure is lower-is-better (time, nanoseconds per task,
//! bytes per task, latency), so a ratio `smp_rt / tokio` below 1.0 means
//! smp_rt did better. The exception is the throughput of `http_wrk`,
//! `axum_hello`, `tonic_unary` and `redis_benchmark` (requests per
//! second), reported in a table of its own where a ratio above 1.0 means
//! smp_rt did better.
//!
//! # Examples
//!
//! ```
//! use smp_rt_bench::{runtimes, workloads};
//!
//! let smp = runtimes::smp_rt(2).unwrap();
//! let tok = runtimes::tokio(2).unwrap();
//! let a = workloads::smp_rt::chained_spawn(&smp);
//! let b = workloads::tokio::chained_spawn(&tok);
//! println!("chained_spawn: smp_rt {a:?}, tokio {b:?}");
//! ```

#![warn(missing_docs, rust_2018_idioms)]

pub mod child;
pub mod cli;
pub mod redis;
pub mod report;
pub mod runtimes;
pub mod server;
pub mod soak;
pub mod stacks;
pub mod stats;
pub mod sysinfo;
pub mod workloads;
pub mod wrk;

#[cfg(all(test, unix))]
mod test_scripts;

//! The workloads, each written once per runtime.
//!
//! [`smp_rt`](mod@self::smp_rt) and [`tokio`](mod@self::tokio) hold one
//! function per workload with the same name and shape: it takes the runtime
//! by reference, runs the workload once, and returns what it measured. The
//! two versions differ only in the paths they use.
//!
//! The reference workloads are the ones of tokio's own runtime benchmarks
//! (see `DESIGN.md`, "Measuring"); each returns the wall-clock time of one
//! run, from the first spawn to the completion of the last task:
//!
//! | workload | what it does |
//! |---|---|
//! | `spawn_many_local` | a task spawns [`SPAWN_MANY`] tasks; each decrements a counter, the last signals a `std` channel |
//! | `spawn_many_remote_idle` | a thread outside the runtime spawns [`SPAWN_MANY`] empty tasks and awaits every handle |
//! | `spawn_many_remote_busy` | the same while 2 × workers tasks loop on `yield_now` |
//! | `yield_many` | [`YIELD_TASKS`] tasks each call `yield_now` [`YIELD_COUNT`] times |
//! | `ping_pong` | a task spawns [`PING_PONGS`] tasks; each sends a oneshot to a partner it spawned and awaits the reply |
//! | `chained_spawn` | each task spawns the next, [`CHAIN_DEPTH`] deep |
//!
//! Two variants of them are timed the same way, with the wakes coming
//! from code that is not the runtime's own (how most services wake their tasks, through
//! hyper, h2, async-channel, event-listener and the like):
//! * `foreign_ping_pong`: two tasks ping-pong over a pair of
//!   `async_channel::bounded(1)` channels, [`FOREIGN_ROUND_TRIPS`] round
//!   trips; every wake is async-channel's, through the waker it stored;
//! * `generic_yield`: [`YIELD_TASKS`] tasks each await futures-lite's
//!   `future::yield_now` [`YIELD_COUNT`] times (it calls
//!   `cx.waker().wake_by_ref()` and returns `Pending` once), the counts of
//!   `yield_many`.
//!
//! Two more are timed the same way too:
//! * `timers`: a task arms [`TIMERS`] sleeps (each polled once) and then
//!   drops them all, cancelling them;
//! * `tcp_echo`: an echo server and [`TCP_ECHO_CONNECTIONS`] clients on the
//!   same runtime, over loopback, each client making
//!   [`TCP_ECHO_ROUND_TRIPS`] round trips of [`TCP_ECHO_MESSAGE`] bytes.
//!
//! These measure what the reference set does not:
//! * `parked_tasks`: [`PARKED_TASKS`] tasks that wait forever; the spawn
//!   cost per task and the resident memory per task ([`Parked`]);
//! * `parked_patterns`: the same memory per parked task in each
//!   [`SpawnPattern`]: spawned inside the runtime or from a plain thread
//!   outside it through a `Handle`, with the `JoinHandle`s kept or
//!   dropped, with a 16-byte or a 0-byte future ([`ParkedFuture`]); one
//!   fresh child process per pattern, runtime and run;
//! * `combinator_sizes`: not timed; the size in bytes of a `join!` (2 and
//!   3 branches), `try_join!` (2, 3) and `select!` (2, 3) future over the
//!   same leaf futures ([`leaf`], [`try_leaf`]), smp_rt's macros against
//!   tokio's ([`CombinatorSizes`]);
//! * `priority_latency`: every worker busy with `Normal` CPU-bound tasks
//!   that only charge the budget, a `High` task (plain task on tokio, which
//!   has no priorities) is woken from outside, [`LATENCY_SAMPLES`] times,
//!   after pauses that end at times unrelated to the kernel's tick
//!   ([`pause_before_sample`]); each sample is the time from the wake to
//!   the task's next poll;
//! * `deadline_lateness` (smp_rt only: tokio has no deadlines): every
//!   worker busy with `Normal` CPU-bound tasks as in `priority_latency`,
//!   [`DEADLINE_TASKS_PER_WORKER`] × workers periodic `Normal` tasks are
//!   released (every [`DEADLINE_PERIOD`], staggered) by a thread outside
//!   the runtime that notifies them, and record how long after the release
//!   their poll started (the lateness); once with release + half a period
//!   as each task's deadline (`task::set_deadline`), once without. Reported as
//!   deadline vs no-deadline on smp_rt ([`DeadlineLateness`]);
//! * `http_wrk`: a hyper 1.x HTTP/1.1 server answering `Hello, World!`
//!   (the one of `examples/http_hello.rs`) on 127.0.0.1, loaded by an
//!   external [`wrk`](crate::wrk) process; requests per second and wrk's
//!   latency percentiles. Each runtime module has `http_server`, which
//!   serves while a closure (the runner's `wrk` call) runs and then stops.
//!
//! Two run real tokio-ecosystem stacks, each built twice from one source,
//! against real tokio and against the tokio facade (`compat/tokio`, smp_rt
//! underneath), as separate programs ([`crate::stacks`]), in rounds like
//! `http_wrk`; they are not part of `--quick`:
//! * `axum_hello`: an axum router answering `GET /` with `Hello, World!`,
//!   loaded by `wrk` as in `http_wrk`;
//! * `tonic_unary`: a tonic server of one unary RPC, loaded by a tonic
//!   client built on real tokio (the same for both servers) that keeps a
//!   fixed number of calls in flight; requests per second and the
//!   percentiles of the calls' latencies.
//!
//! One more runs a real service as a separate program, built on tokio and
//! on smp_rt from one source ([`crate::redis`]), and is not part of
//! `--quick` either:
//! * `redis_benchmark`: the Redis-protocol server of
//!   `examples/redis_pubsub` under `redis-benchmark` (50 clients, no
//!   pipelining, the SET and GET tests); requests per second and the p50
//!   and p99 latencies of each test.
//!
//! # Adding a workload
//!
//! The list is [`Workload`]. A new workload gets a variant there (with its
//! name and [`Kind`]) and a function in each runtime module. A workload
//! that returns one time per run then only needs an entry in [`TIMED`],
//! which the runner and the criterion bench both iterate; one that reports
//! something else gets a [`Kind`] and an arm in the runner's dispatch
//! (`src/main.rs`, `run`). [`PLANNED`] names the workloads that wait on
//! layers of smp_rt that are not there yet (none at the moment).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};

pub mod smp_rt;
pub mod tokio;

/// Tasks spawned by `spawn_many_local` and the `spawn_many_remote_*` workloads.
pub const SPAWN_MANY: usize = 10_000;
/// Tasks in `yield_many`.
pub const YIELD_TASKS: usize = 200;
/// `yield_now` calls per task in `yield_many`.
pub const YIELD_COUNT: usize = 1_000;
/// Ping-pong pairs in `ping_pong`.
pub const PING_PONGS: usize = 1_000;
/// Round trips of the one pair of tasks in `foreign_ping_pong`.
pub const FOREIGN_ROUND_TRIPS: usize = 10_000;
/// Length of the spawn chain in `chained_spawn`.
pub const CHAIN_DEPTH: usize = 1_000;
/// Tasks parked by `parked_tasks` in a full run.
pub const PARKED_TASKS: usize = 1_000_000;
/// Runs per spawn pattern and runtime of `parked_patterns` in a full
/// run (at most `--iterations`; one with `--quick`). Memory per task
/// varies little from run to run; eight patterns × two runtimes of
/// [`PARKED_TASKS`] tasks each are what takes the time.
pub const PARKED_PATTERN_RUNS: usize = 3;
/// Wake-to-run samples per `priority_latency` run.
pub const LATENCY_SAMPLES: usize = 200;
/// Background tasks per worker in `spawn_many_remote_busy` and `priority_latency`.
pub const BACKGROUND_PER_WORKER: usize = 2;
/// Periodic tasks per worker in `deadline_lateness`.
pub const DEADLINE_TASKS_PER_WORKER: usize = 2;
/// The period of `deadline_lateness`'s periodic tasks.
pub const DEADLINE_PERIOD: Duration = Duration::from_millis(2);
/// Sleeps armed and cancelled by `timers`.
pub const TIMERS: usize = 1_000_000;
/// Client connections in `tcp_echo`.
pub const TCP_ECHO_CONNECTIONS: usize = 16;
/// Round trips per connection in `tcp_echo`.
pub const TCP_ECHO_ROUND_TRIPS: usize = 500;
/// Bytes per message in `tcp_echo`.
pub const TCP_ECHO_MESSAGE: usize = 64;
/// Rounds of `http_wrk` per runtime in a full run.
pub const HTTP_ROUNDS: usize = 3;
/// `wrk` connections in `http_wrk`.
pub const HTTP_CONNECTIONS: usize = 64;
/// Length of one `wrk` run in `http_wrk`, in a full run.
pub const HTTP_DURATION: Duration = Duration::from_secs(5);

/// Every workload the runner knows, in the order it runs them.
///
/// This is the extension point: see the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Workload {
    /// Spawn [`SPAWN_MANY`] tasks from inside the runtime.
    SpawnManyLocal,
    /// Spawn [`SPAWN_MANY`] empty tasks from outside and await them.
    SpawnManyRemoteIdle,
    /// As `SpawnManyRemoteIdle`, with every worker busy yielding.
    SpawnManyRemoteBusy,
    /// [`YIELD_TASKS`] tasks × [`YIELD_COUNT`] `yield_now`.
    YieldMany,
    /// As `YieldMany`, through futures-lite's generic `yield_now`.
    GenericYield,
    /// [`PING_PONGS`] oneshot round trips between task pairs.
    PingPong,
    /// [`FOREIGN_ROUND_TRIPS`] round trips between two tasks over
    /// async-channel's bounded channels.
    ForeignPingPong,
    /// A chain of [`CHAIN_DEPTH`] spawns.
    ChainedSpawn,
    /// [`TIMERS`] sleeps armed, then cancelled.
    Timers,
    /// TCP echo round trips over loopback.
    TcpEcho,
    /// [`PARKED_TASKS`] tasks waiting forever: spawn cost and memory per task.
    ParkedTasks,
    /// Memory per parked task in each [`SpawnPattern`].
    ParkedPatterns,
    /// Sizes of `join!`, `try_join!` and `select!` futures (not timed).
    CombinatorSizes,
    /// Wake-to-run latency of a `High` task on saturated workers.
    PriorityLatency,
    /// A hyper HTTP/1.1 server under `wrk`: requests per second, latency.
    HttpWrk,
    /// Lateness of periodic tasks on saturated workers, with and without
    /// deadlines (smp_rt only).
    DeadlineLateness,
    /// axum's `Hello, World!` under `wrk`, built against tokio and against
    /// the facade.
    AxumHello,
    /// A tonic unary RPC under a tonic load generator, built against tokio
    /// and against the facade.
    TonicUnary,
    /// The Redis-protocol server of `examples/redis_pubsub` under
    /// `redis-benchmark`, built on tokio and on smp_rt
    /// ([`crate::redis`]).
    RedisBenchmark,
}

/// How a workload reports, which decides how the runner repeats it and
/// what the table shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One wall-clock time per run; the table shows the median run.
    Time,
    /// Spawn time and memory per task, measured in a fresh child process
    /// per runtime and run.
    Parked,
    /// Memory per task in each [`SpawnPattern`], a fresh child process per
    /// pattern, runtime and run; the table shows the median run of each
    /// pattern.
    ParkedPatterns,
    /// Sizes of types, computed in the runner's process: fixed numbers,
    /// not repeated.
    Sizes,
    /// Many latency samples per run; the table shows percentiles of all of
    /// them together.
    Latency,
    /// An HTTP server loaded by an external `wrk` for a fixed time, in
    /// rounds; the table shows the median round's requests per second and
    /// latency percentiles.
    Http,
    /// Lateness samples on smp_rt alone, with and without deadlines; the
    /// report shows percentiles of each in its notes (tokio has no
    /// deadlines to compare with).
    DeadlineLateness,
    /// A real tokio-ecosystem server built twice (against tokio, against
    /// the facade) as separate programs, loaded for a fixed time, in
    /// rounds; reported as [`Kind::Http`]. Not part of `--quick`: the
    /// programs are built by cargo on first use.
    Stack,
    /// A Redis-protocol server built twice (on tokio, on smp_rt) as
    /// separate programs, loaded by `redis-benchmark` in rounds; the table
    /// shows the median round's SET and GET requests per second and
    /// latency percentiles ([`crate::redis`]). Not part of `--quick`, like
    /// [`Kind::Stack`].
    Redis,
}

impl Workload {
    /// Every workload, in run order.
    pub const ALL: [Workload; 19] = [
        Workload::SpawnManyLocal,
        Workload::SpawnManyRemoteIdle,
        Workload::SpawnManyRemoteBusy,
        Workload::YieldMany,
        Workload::GenericYield,
        Workload::PingPong,
        Workload::ForeignPingPong,
        Workload::ChainedSpawn,
        Workload::Timers,
        Workload::TcpEcho,
        Workload::ParkedTasks,
        Workload::ParkedPatterns,
        Workload::CombinatorSizes,
        Workload::PriorityLatency,
        Workload::HttpWrk,
        Workload::DeadlineLateness,
        Workload::AxumHello,
        Workload::TonicUnary,
        Workload::RedisBenchmark,
    ];

    /// The workload's name, as used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Workload::SpawnManyLocal => "spawn_many_local",
            Workload::SpawnManyRemoteIdle => "spawn_many_remote_idle",
            Workload::SpawnManyRemoteBusy => "spawn_many_remote_busy",
            Workload::YieldMany => "yield_many",
            Workload::GenericYield => "generic_yield",
            Workload::PingPong => "ping_pong",
            Workload::ForeignPingPong => "foreign_ping_pong",
            Workload::ChainedSpawn => "chained_spawn",
            Workload::Timers => "timers",
            Workload::TcpEcho => "tcp_echo",
            Workload::ParkedTasks => "parked_tasks",
            Workload::ParkedPatterns => "parked_patterns",
            Workload::CombinatorSizes => "combinator_sizes",
            Workload::PriorityLatency => "priority_latency",
            Workload::HttpWrk => "http_wrk",
            Workload::DeadlineLateness => "deadline_lateness",
            Workload::AxumHello => "axum_hello",
            Workload::TonicUnary => "tonic_unary",
            Workload::RedisBenchmark => "redis_benchmark",
        }
    }

    /// The workload called `name`.
    pub fn from_name(name: &str) -> Option<Workload> {
        Workload::ALL.into_iter().find(|w| w.name() == name)
    }

    /// How the workload reports.
    pub fn kind(self) -> Kind {
        match self {
            Workload::ParkedTasks => Kind::Parked,
            Workload::ParkedPatterns => Kind::ParkedPatterns,
            Workload::CombinatorSizes => Kind::Sizes,
            Workload::PriorityLatency => Kind::Latency,
            Workload::HttpWrk => Kind::Http,
            Workload::DeadlineLateness => Kind::DeadlineLateness,
            Workload::AxumHello | Workload::TonicUnary => Kind::Stack,
            Workload::RedisBenchmark => Kind::Redis,
            _ => Kind::Time,
        }
    }

    /// Whether `--quick` runs it: every workload but the real-stack ones
    /// ([`Kind::Stack`], [`Kind::Redis`]), whose programs take minutes to
    /// build.
    pub fn in_quick(self) -> bool {
        !matches!(self.kind(), Kind::Stack | Kind::Redis)
    }

    /// The pair of functions of a timed workload, if it is one of
    /// [`TIMED`].
    pub fn timed(self) -> Option<&'static Timed> {
        TIMED.iter().find(|t| t.workload == self)
    }
}

/// What one `deadline_lateness` run measured.
#[derive(Clone, Debug, Default)]
pub struct DeadlineLateness {
    /// Per release: how long after it the periodic task's poll started.
    pub lateness: Vec<Duration>,
    /// Deadline misses the runtime counted (`worker_deadline_misses`,
    /// summed): starts later than half a period after the release, in a
    /// run with deadlines; none without.
    pub misses: u64,
}

/// A workload the runner does not run yet, and what it waits on.
#[derive(Clone, Copy, Debug)]
pub struct Planned {
    /// The name it will have.
    pub name: &'static str,
    /// What it will measure.
    pub description: &'static str,
    /// The part of smp_rt it needs.
    pub needs: &'static str,
}

/// Workloads to add once smp_rt has the layers they need.
pub const PLANNED: &[Planned] = &[];

/// The `http_wrk` service: `Hello, World!` to every request, as in
/// `examples/http_hello.rs`.
pub async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

/// A timed workload as a pair of functions, one per runtime.
#[derive(Clone, Copy, Debug)]
pub struct Timed {
    /// Which workload.
    pub workload: Workload,
    /// The smp_rt version.
    pub smp_rt: fn(&::smp_rt::runtime::Runtime) -> Duration,
    /// The tokio version.
    pub tokio: fn(&::tokio::runtime::Runtime) -> Duration,
}

/// The timed workloads, in run order: tokio's reference set, with
/// `generic_yield` and `foreign_ping_pong` beside the workloads they vary,
/// then `timers` and `tcp_echo`.
pub const TIMED: &[Timed] = &[
    Timed {
        workload: Workload::SpawnManyLocal,
        smp_rt: smp_rt::spawn_many_local,
        tokio: tokio::spawn_many_local,
    },
    Timed {
        workload: Workload::SpawnManyRemoteIdle,
        smp_rt: smp_rt::spawn_many_remote_idle,
        tokio: tokio::spawn_many_remote_idle,
    },
    Timed {
        workload: Workload::SpawnManyRemoteBusy,
        smp_rt: smp_rt::spawn_many_remote_busy,
        tokio: tokio::spawn_many_remote_busy,
    },
    Timed {
        workload: Workload::YieldMany,
        smp_rt: smp_rt::yield_many,
        tokio: tokio::yield_many,
    },
    Timed {
        workload: Workload::GenericYield,
        smp_rt: smp_rt::generic_yield,
        tokio: tokio::generic_yield,
    },
    Timed {
        workload: Workload::PingPong,
        smp_rt: smp_rt::ping_pong,
        tokio: tokio::ping_pong,
    },
    Timed {
        workload: Workload::ForeignPingPong,
        smp_rt: smp_rt::foreign_ping_pong,
        tokio: tokio::foreign_ping_pong,
    },
    Timed {
        workload: Workload::ChainedSpawn,
        smp_rt: smp_rt::chained_spawn,
        tokio: tokio::chained_spawn,
    },
    Timed {
        workload: Workload::Timers,
        smp_rt: smp_rt::timers,
        tokio: tokio::timers,
    },
    Timed {
        workload: Workload::TcpEcho,
        smp_rt: smp_rt::tcp_echo,
        tokio: tokio::tcp_echo,
    },
];

/// What `parked_tasks` measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Parked {
    /// Tasks spawned.
    pub count: usize,
    /// Time of the spawn loop (inside a task), for all of them.
    pub spawn: Duration,
    /// Resident memory after every task had been polled once, minus before
    /// the first spawn; `None` where `/proc/self/statm` cannot be read.
    pub resident_bytes: Option<i64>,
}

impl Parked {
    /// Spawn time per task, in nanoseconds.
    pub fn spawn_ns_per_task(&self) -> f64 {
        self.spawn.as_nanos() as f64 / self.count.max(1) as f64
    }

    /// Resident memory per task, in bytes.
    pub fn bytes_per_task(&self) -> Option<f64> {
        self.resident_bytes
            .map(|b| b as f64 / self.count.max(1) as f64)
    }
}

/// Where the tasks of a [`SpawnPattern`] are spawned from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnFrom {
    /// From a task of the runtime (`spawn`).
    Inside,
    /// From a plain thread outside the runtime, through a clone of the
    /// runtime's `Handle` (`Handle::spawn`).
    Outside,
}

/// The size of the future of a [`SpawnPattern`]'s tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FutureSize {
    /// A 16-byte future, [`ParkedFuture<16>`].
    Sixteen,
    /// A zero-sized future, [`ParkedFuture<0>`].
    Zero,
}

impl FutureSize {
    /// The size in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            FutureSize::Sixteen => 16,
            FutureSize::Zero => 0,
        }
    }
}

/// How one `parked_patterns` run spawns its tasks: from where, whether
/// the `JoinHandle`s are kept, and how big the future is.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::workloads::SpawnPattern;
///
/// for pattern in SpawnPattern::ALL {
///     assert_eq!(SpawnPattern::from_name(pattern.name()), Some(pattern));
/// }
/// assert_eq!(SpawnPattern::ALL[0].name(), "inside-dropped-16b");
/// assert_eq!(SpawnPattern::from_name("sideways-kept-16b"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnPattern {
    /// Where the tasks are spawned from.
    pub from: SpawnFrom,
    /// Whether every `JoinHandle` is kept (in a `Vec` allocated for them,
    /// whose bytes count) rather than dropped at once.
    pub keep_handles: bool,
    /// The size of each task's future ([`ParkedFuture`]).
    pub future: FutureSize,
}

impl SpawnPattern {
    /// Every pattern, in run order; the first is the one of `parked_tasks`
    /// (spawned inside, handles dropped, a 16-byte future).
    pub const ALL: [SpawnPattern; 8] = {
        let mut all = [SpawnPattern {
            from: SpawnFrom::Inside,
            keep_handles: false,
            future: FutureSize::Sixteen,
        }; 8];
        let mut i = 0;
        while i < 8 {
            all[i] = SpawnPattern {
                from: if i & 4 == 0 {
                    SpawnFrom::Inside
                } else {
                    SpawnFrom::Outside
                },
                keep_handles: i & 2 != 0,
                future: if i & 1 == 0 {
                    FutureSize::Sixteen
                } else {
                    FutureSize::Zero
                },
            };
            i += 1;
        }
        all
    };

    /// The pattern's name, as in the child process's arguments, the
    /// report's rows and `samples.csv`:
    /// `inside|outside`-`kept|dropped`-`16b|0b`.
    pub fn name(self) -> &'static str {
        use FutureSize::{Sixteen, Zero};
        use SpawnFrom::{Inside, Outside};
        match (self.from, self.keep_handles, self.future) {
            (Inside, false, Sixteen) => "inside-dropped-16b",
            (Inside, false, Zero) => "inside-dropped-0b",
            (Inside, true, Sixteen) => "inside-kept-16b",
            (Inside, true, Zero) => "inside-kept-0b",
            (Outside, false, Sixteen) => "outside-dropped-16b",
            (Outside, false, Zero) => "outside-dropped-0b",
            (Outside, true, Sixteen) => "outside-kept-16b",
            (Outside, true, Zero) => "outside-kept-0b",
        }
    }

    /// The pattern called `name`.
    pub fn from_name(name: &str) -> Option<SpawnPattern> {
        SpawnPattern::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Polls of every [`ParkedFuture`] in this process.
static PARKED_POLLS: AtomicUsize = AtomicUsize::new(0);

/// How many times [`ParkedFuture`]s have been polled in this process.
pub fn parked_polls() -> usize {
    // Relaxed: a count that only grows, read to see whether every task has
    // had its first poll; it orders nothing else.
    PARKED_POLLS.load(Ordering::Relaxed)
}

/// The future of `parked_patterns`' tasks: `BYTES` bytes of payload
/// and nothing else (so `size_of::<ParkedFuture<BYTES>>() == BYTES`); each
/// poll counts itself in [`parked_polls`] and returns `Pending`, and
/// nothing ever wakes it.
#[derive(Clone, Copy, Debug)]
pub struct ParkedFuture<const BYTES: usize> {
    payload: [u8; BYTES],
}

impl<const BYTES: usize> ParkedFuture<BYTES> {
    /// A future of `BYTES` zero bytes.
    pub const fn new() -> ParkedFuture<BYTES> {
        ParkedFuture {
            payload: [0; BYTES],
        }
    }
}

impl<const BYTES: usize> Default for ParkedFuture<BYTES> {
    fn default() -> ParkedFuture<BYTES> {
        ParkedFuture::new()
    }
}

impl<const BYTES: usize> Future for ParkedFuture<BYTES> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        std::hint::black_box(&self.payload);
        // Relaxed: see `parked_polls`.
        PARKED_POLLS.fetch_add(1, Ordering::Relaxed);
        Poll::Pending
    }
}

/// Waits until [`parked_polls`] reaches `target`, sleeping a millisecond at
/// a time; panics naming `what` after [`STUCK_AFTER`] without progress.
fn wait_for_polls(target: usize, what: &str) {
    let mut last = parked_polls();
    let mut progress_at = Instant::now();
    while last < target {
        thread::sleep(Duration::from_millis(1));
        let now = parked_polls();
        if now != last {
            last = now;
            progress_at = Instant::now();
        } else if progress_at.elapsed() > STUCK_AFTER {
            panic!(
                "{what}: {} of {target} first polls after {} s without progress",
                now,
                STUCK_AFTER.as_secs()
            );
        }
    }
}

/// The leaf future of `combinator_sizes`: yields once (futures-lite's
/// `yield_now`), then returns `value`.
pub async fn leaf(value: u64) -> u64 {
    futures_lite::future::yield_now().await;
    value
}

/// The error of [`try_leaf`], which never returns it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LeafError;

/// The leaf future of `combinator_sizes`' `try_join!`: [`leaf`] with a
/// `Result`.
pub async fn try_leaf(value: u64) -> Result<u64, LeafError> {
    futures_lite::future::yield_now().await;
    Ok(value)
}

/// What `combinator_sizes` reports for one runtime's macros: the size in
/// bytes of an `async` block whose only content is the macro over
/// [`leaf`]s (or [`try_leaf`]s), which is the macro's future plus the
/// block's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CombinatorSizes {
    /// `join!` of 2 leaves.
    pub join2: usize,
    /// `join!` of 3 leaves.
    pub join3: usize,
    /// `try_join!` of 2 leaves.
    pub try_join2: usize,
    /// `try_join!` of 3 leaves.
    pub try_join3: usize,
    /// `select!` of 2 branches.
    pub select2: usize,
    /// `select!` of 3 branches.
    pub select3: usize,
}

impl CombinatorSizes {
    /// Each size with its name, in report order.
    pub fn named(&self) -> [(&'static str, usize); 6] {
        [
            ("join!(2)", self.join2),
            ("join!(3)", self.join3),
            ("try_join!(2)", self.try_join2),
            ("try_join!(3)", self.try_join3),
            ("select!(2)", self.select2),
            ("select!(3)", self.select3),
        ]
    }
}

/// The size in bytes of the future [`leaf`] returns.
pub fn leaf_size() -> usize {
    std::mem::size_of_val(&leaf(0))
}

/// The size of `future`'s type, in bytes; `future` is dropped unpolled.
fn future_size<F: Future>(future: F) -> usize {
    std::mem::size_of_val(&future)
}

/// A loop body that keeps a CPU busy for roughly a tenth of a microsecond
/// and cannot be optimised away.
pub fn spin_work(seed: u64) -> u64 {
    let mut x = seed | 1;
    for _ in 0..64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

/// The pause before the `i`-th latency sample: between 100 µs and 1 ms,
/// spread so that it does not line up with any scheduling period.
pub fn latency_pause(i: usize) -> Duration {
    let spread = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 54; // 0..1024
    Duration::from_micros(100 + spread * 900 / 1024)
}

/// Sleeps for [`latency_pause`]`(i)` before the `i`-th latency sample, with
/// the thread's timer slack at 1 ns for the sleep (Linux; elsewhere a plain
/// sleep). With the default 50 µs slack the kernel ends the sleep at the
/// next timer interrupt within 50 µs of its deadline, which is often the
/// scheduler tick: the sample then starts while the other CPU takes its
/// tick too, and the tail measures the kernel's tick, not the runtime.
/// Both runtimes' probes are woken this way.
pub fn pause_before_sample(i: usize) {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_GET_TIMERSLACK and PR_SET_TIMERSLACK take no pointers
        // and change only the calling thread's timer slack.
        let previous = unsafe { libc::prctl(libc::PR_GET_TIMERSLACK) };
        // SAFETY: as above.
        let precise = unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong) } == 0;
        thread::sleep(latency_pause(i));
        if precise && previous > 0 {
            // SAFETY: as above.
            unsafe { libc::prctl(libc::PR_SET_TIMERSLACK, previous as libc::c_ulong) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    thread::sleep(latency_pause(i));
}

/// How long a workload may wait for its tasks before the runner gives up
/// on it (a stuck runtime must not hang the run).
pub const STUCK_AFTER: Duration = Duration::from_secs(60);

/// Receives from `rx`, panicking with a message naming `what` when the
/// senders are gone or nothing arrives within [`STUCK_AFTER`].
fn wait<T>(rx: &Receiver<T>, what: &str) -> T {
    match rx.recv_timeout(STUCK_AFTER) {
        Ok(value) => value,
        Err(RecvTimeoutError::Timeout) => {
            panic!("{what}: no progress in {} s", STUCK_AFTER.as_secs())
        }
        Err(RecvTimeoutError::Disconnected) => panic!("{what}: a task failed"),
    }
}

/// Wraps the receiving end of a wake, recording when it is polled after
/// the wake.
///
/// The first time the inner future returns `Pending` (its waker is then
/// registered), `WakeProbe` sends `()` on `parked`, so the thread that will
/// wake it knows it may. When the inner future completes with the
/// [`Instant`] its sender recorded, `WakeProbe` completes with the time from
/// that instant to the start of the poll that saw it.
#[derive(Debug)]
pub struct WakeProbe<F> {
    inner: F,
    parked: Option<SyncSender<()>>,
}

impl<F> WakeProbe<F> {
    /// Probes `inner`, announcing on `parked` when it first waits.
    pub fn new(inner: F, parked: SyncSender<()>) -> WakeProbe<F> {
        WakeProbe {
            inner,
            parked: Some(parked),
        }
    }
}

impl<F, E> Future for WakeProbe<F>
where
    F: Future<Output = Result<Instant, E>> + Unpin,
{
    type Output = Option<Duration>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Duration>> {
        let polled_at = Instant::now();
        match Pin::new(&mut self.inner).poll(cx) {
            Poll::Ready(Ok(sent_at)) => {
                Poll::Ready(Some(polled_at.saturating_duration_since(sent_at)))
            }
            Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Pending => {
                if let Some(parked) = self.parked.take() {
                    let _ = parked.send(());
                }
                Poll::Pending
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_reference_covers_timed_workloads() {
        for w in Workload::ALL {
            assert_eq!(Workload::from_name(w.name()), Some(w));
            assert_eq!(w.timed().is_some(), w.kind() == Kind::Time, "{w:?}");
        }
        assert_eq!(Workload::from_name("nope"), None);
    }

    /// One `GET /` with `Connection: close`; the whole response.
    fn get(addr: std::net::SocketAddr) -> String {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    }

    #[test]
    fn http_servers_answer_and_stop() {
        let rt = crate::runtimes::smp_rt(2).unwrap();
        let on_smp_rt = smp_rt::http_server(&rt, get).unwrap();
        drop(rt);
        let rt = crate::runtimes::tokio(2).unwrap();
        let on_tokio = tokio::http_server(&rt, get).unwrap();
        drop(rt);
        for response in [on_smp_rt, on_tokio] {
            assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response}");
            assert!(response.ends_with("\r\n\r\nHello, World!"), "{response}");
        }
    }

    #[test]
    fn parked_futures_have_the_sizes_the_patterns_name() {
        assert_eq!(std::mem::size_of::<ParkedFuture<16>>(), 16);
        assert_eq!(std::mem::size_of::<ParkedFuture<0>>(), 0);
        assert_eq!(FutureSize::Sixteen.bytes(), 16);
        assert_eq!(FutureSize::Zero.bytes(), 0);
        let names: Vec<&str> = SpawnPattern::ALL.iter().map(|p| p.name()).collect();
        for from in ["inside", "outside"] {
            for handles in ["kept", "dropped"] {
                for bytes in ["16b", "0b"] {
                    let name = format!("{from}-{handles}-{bytes}");
                    assert_eq!(names.iter().filter(|n| **n == name).count(), 1, "{name}");
                }
            }
        }
    }

    #[test]
    fn parked_patterns_park_every_task_on_both_runtimes() {
        for pattern in SpawnPattern::ALL {
            let rt = crate::runtimes::smp_rt(2).unwrap();
            let parked = smp_rt::parked_pattern(&rt, 100, pattern);
            assert_eq!(parked.count, 100, "{pattern:?}");
            drop(rt);
            let rt = crate::runtimes::tokio(2).unwrap();
            let parked = tokio::parked_pattern(&rt, 100, pattern);
            assert_eq!(parked.count, 100, "{pattern:?}");
        }
    }

    #[test]
    fn combinator_sizes_are_those_of_futures_over_the_leaves() {
        let leaf = leaf_size();
        assert!(leaf > 0);
        for sizes in [smp_rt::combinator_sizes(), tokio::combinator_sizes()] {
            let named = sizes.named();
            for (name, size) in named {
                assert!(size >= 2 * leaf, "{name}: {size} B, leaf {leaf} B");
            }
            // A third branch stores a third leaf (or its output).
            assert!(sizes.join3 > sizes.join2, "{sizes:?}");
            assert!(sizes.try_join3 > sizes.try_join2, "{sizes:?}");
            assert!(sizes.select3 > sizes.select2, "{sizes:?}");
        }
    }

    #[test]
    fn foreign_wake_workloads_complete_on_both_runtimes() {
        let rt = crate::runtimes::smp_rt(2).unwrap();
        smp_rt::foreign_ping_pong(&rt);
        smp_rt::generic_yield(&rt);
        drop(rt);
        let rt = crate::runtimes::tokio(2).unwrap();
        tokio::foreign_ping_pong(&rt);
        tokio::generic_yield(&rt);
    }

    #[test]
    fn latency_pauses_stay_in_range() {
        for i in 0..1000 {
            let p = latency_pause(i);
            assert!(p >= Duration::from_micros(100) && p < Duration::from_millis(1));
        }
    }
}

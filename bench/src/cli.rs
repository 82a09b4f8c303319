//! The runner's command line.

use std::path::PathBuf;
use std::time::Duration;

use crate::child::{PARKED_CHILD, PARKED_PATTERN_CHILD};
use crate::redis;
use crate::runtimes::{self, RuntimeKind};
use crate::stacks::{TONIC_CONNECTIONS, TONIC_IN_FLIGHT};
use crate::workloads::{
    HTTP_CONNECTIONS, HTTP_DURATION, HTTP_ROUNDS, LATENCY_SAMPLES, PARKED_TASKS, SpawnPattern,
    Workload,
};

/// The usage text.
pub const USAGE: &str = "\
usage: smp_rt_bench [OPTIONS]

Runs every workload on smp_rt and on tokio (same worker count, interleaved
runs) and prints a table of medians and ratios; writes report.svg, report.md
and samples.csv.

axum_hello and tonic_unary run one server source built twice, against tokio
and against the tokio facade (compat/tokio, smp_rt underneath): the runner
builds these programs with cargo first (printing the commands; minutes the
first time), in its own profile, into $CARGO_TARGET_DIR or target/compat.
redis_benchmark runs examples/redis_pubsub built on tokio and on smp_rt
(into redis-tokio and redis-smp_rt under $CARGO_TARGET_DIR or target)
under redis-benchmark (Debian: apt-get install redis-tools).

options:
  --quick            a few seconds: 1 warm-up, 3 iterations, 100,000 parked
                     tasks (one run per parked_patterns pattern), 50
                     latency samples per run, 1 http_wrk round of 2 s;
                     without axum_hello, tonic_unary and redis_benchmark
                     (name them in --only to run them)
  --iterations N     measured runs per workload and runtime (default 30)
  --warmup N         unmeasured runs first (default 3)
  --workers N        worker threads per runtime (default: available CPUs)
  --wrk-rounds N     rounds per runtime, alternating, of http_wrk,
                     axum_hello, tonic_unary and redis_benchmark (default 3)
  --wrk-duration S   seconds of load per round of those three (default 5)
  --wrk-connections N
                     wrk connections in http_wrk and axum_hello (default 64)
  --tonic-connections N
                     HTTP/2 connections in tonic_unary (default 4)
  --tonic-in-flight N
                     calls kept in flight in tonic_unary (default 64)
  --redis-requests N requests per test (SET, GET) and round in
                     redis_benchmark (default 100000)
  --redis-clients N  redis-benchmark connections (default 50)
  --out DIR          where the reports go (default target/smp_rt_bench)
  --only W[,W...]    run only these workloads (see --list)
  --list             list the workloads and exit
  --soak SECS        instead of the comparison: an echo server under churning
                     clients (timeouts, hang-ups, aborts) on smp_rt for SECS
                     seconds; prints the totals, fails if a message was lost
                     or descriptors or threads were left behind
  -h, --help         this text

environment:
  SMP_RT_BENCH_CHILD_RUNNER
                     a command the parked_tasks and parked_patterns
                     child processes are started
                     under, for a runner that itself runs under an emulator:
                     SMP_RT_BENCH_CHILD_RUNNER=\"qemu-aarch64 -L /usr/aarch64-linux-gnu\"
";

/// What the runner was asked to do.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Run the benchmarks.
    Run(Options),
    /// Print [`USAGE`].
    Help,
    /// List the workloads.
    List,
    /// The soak: an echo server under churning clients, on smp_rt only.
    Soak {
        /// How long, in seconds.
        seconds: u64,
        /// Worker threads.
        workers: usize,
    },
    /// Internal: run `parked_tasks` once on one runtime in this (child)
    /// process and print the result as one line.
    ParkedChild {
        /// Which runtime.
        runtime: RuntimeKind,
        /// Its worker count.
        workers: usize,
        /// How many tasks to park.
        count: usize,
    },
    /// Internal: run one pattern of `parked_patterns` once on one
    /// runtime in this (child) process and print the result as one line.
    ParkedPatternChild {
        /// Which runtime.
        runtime: RuntimeKind,
        /// Its worker count.
        workers: usize,
        /// How many tasks to park.
        count: usize,
        /// How to spawn them.
        pattern: SpawnPattern,
    },
}

/// Settings of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Measured runs per workload and runtime.
    pub iterations: usize,
    /// Unmeasured runs before them.
    pub warmup: usize,
    /// Worker threads per runtime.
    pub workers: usize,
    /// Where the reports go.
    pub out: PathBuf,
    /// The workloads to run, in run order.
    pub workloads: Vec<Workload>,
    /// Tasks per `parked_tasks` run.
    pub parked_tasks: usize,
    /// Samples per `priority_latency` run.
    pub latency_samples: usize,
    /// `http_wrk` rounds per runtime.
    pub wrk_rounds: usize,
    /// Length of the load in one `http_wrk` round, in whole seconds.
    pub wrk_duration: Duration,
    /// wrk connections in `http_wrk` and `axum_hello`.
    pub wrk_connections: usize,
    /// HTTP/2 connections of the load generator in `tonic_unary`.
    pub tonic_connections: usize,
    /// Calls the load generator keeps in flight in `tonic_unary`.
    pub tonic_in_flight: usize,
    /// Requests per test and round of `redis_benchmark` (`-n`).
    pub redis_requests: usize,
    /// `redis-benchmark` connections in `redis_benchmark` (`-c`).
    pub redis_clients: usize,
    /// Whether `--quick` was given.
    pub quick: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            iterations: 30,
            warmup: 3,
            workers: runtimes::default_workers(),
            out: PathBuf::from("target/smp_rt_bench"),
            workloads: Workload::ALL.to_vec(),
            parked_tasks: PARKED_TASKS,
            latency_samples: LATENCY_SAMPLES,
            wrk_rounds: HTTP_ROUNDS,
            wrk_duration: HTTP_DURATION,
            wrk_connections: HTTP_CONNECTIONS,
            tonic_connections: TONIC_CONNECTIONS,
            tonic_in_flight: TONIC_IN_FLIGHT,
            redis_requests: redis::REQUESTS,
            redis_clients: redis::CLIENTS,
            quick: false,
        }
    }
}

impl Options {
    fn quick() -> Options {
        Options {
            iterations: 3,
            warmup: 1,
            parked_tasks: 100_000,
            latency_samples: 50,
            wrk_rounds: 1,
            wrk_duration: Duration::from_secs(2),
            workloads: Workload::ALL.into_iter().filter(|w| w.in_quick()).collect(),
            quick: true,
            ..Options::default()
        }
    }
}

/// Parses the arguments (without the program name).
///
/// # Errors
///
/// A message naming the bad argument.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::cli::{Command, parse};
///
/// let Ok(Command::Run(opts)) = parse(&["--quick", "--workers", "4"]) else { panic!() };
/// assert_eq!((opts.iterations, opts.workers), (3, 4));
/// assert!(parse(&["--iterations", "zero"]).is_err());
/// ```
pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Command, String> {
    let args: Vec<&str> = args.iter().map(AsRef::as_ref).collect();
    if args.first() == Some(&PARKED_CHILD) {
        return parse_child(&args[1..]);
    }
    if args.first() == Some(&PARKED_PATTERN_CHILD) {
        return parse_pattern_child(&args[1..]);
    }
    if args.contains(&"--quick") {
        return parse_options(&args, Options::quick());
    }
    parse_options(&args, Options::default())
}

fn parse_options(args: &[&str], mut opts: Options) -> Result<Command, String> {
    let mut soak = None;
    let mut i = 0;
    while i < args.len() {
        let arg = args[i];
        i += 1;
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v)),
            _ => (arg, None),
        };
        if inline.is_some() && matches!(flag, "-h" | "--help" | "--list" | "--quick") {
            return Err(format!("{flag} takes no value"));
        }
        let mut value = || -> Result<&str, String> {
            if let Some(v) = inline {
                return Ok(v);
            }
            let v = args
                .get(i)
                .copied()
                .ok_or_else(|| format!("{flag} needs a value"))?;
            i += 1;
            Ok(v)
        };
        match flag {
            "-h" | "--help" => return Ok(Command::Help),
            "--list" => return Ok(Command::List),
            "--quick" => {}
            "--iterations" => opts.iterations = positive(flag, value()?)?,
            "--warmup" => opts.warmup = number(flag, value()?)?,
            "--workers" => opts.workers = positive(flag, value()?)?,
            "--wrk-rounds" => opts.wrk_rounds = positive(flag, value()?)?,
            "--wrk-duration" => opts.wrk_duration = seconds(flag, value()?)?,
            "--wrk-connections" => opts.wrk_connections = positive(flag, value()?)?,
            "--tonic-connections" => opts.tonic_connections = positive(flag, value()?)?,
            "--tonic-in-flight" => opts.tonic_in_flight = positive(flag, value()?)?,
            "--redis-requests" => opts.redis_requests = positive(flag, value()?)?,
            "--redis-clients" => opts.redis_clients = positive(flag, value()?)?,
            "--out" => {
                let v = value()?;
                if v.is_empty() {
                    return Err("--out needs a directory".to_owned());
                }
                opts.out = PathBuf::from(v);
            }
            "--only" => opts.workloads = workloads(value()?)?,
            "--soak" => soak = Some(seconds(flag, value()?)?.as_secs()),
            _ if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if let Some(seconds) = soak {
        return Ok(Command::Soak {
            seconds,
            workers: opts.workers,
        });
    }
    Ok(Command::Run(opts))
}

fn parse_child(args: &[&str]) -> Result<Command, String> {
    let [runtime, workers, count] = args else {
        return Err(format!("{PARKED_CHILD} needs RUNTIME WORKERS COUNT"));
    };
    Ok(Command::ParkedChild {
        runtime: RuntimeKind::from_name(runtime)
            .ok_or_else(|| format!("unknown runtime {runtime:?}"))?,
        workers: positive("workers", workers)?,
        count: positive("count", count)?,
    })
}

fn parse_pattern_child(args: &[&str]) -> Result<Command, String> {
    let [runtime, workers, count, pattern] = args else {
        return Err(format!(
            "{PARKED_PATTERN_CHILD} needs RUNTIME WORKERS COUNT PATTERN"
        ));
    };
    let pattern = SpawnPattern::from_name(pattern).ok_or_else(|| {
        let known: Vec<&str> = SpawnPattern::ALL.iter().map(|p| p.name()).collect();
        format!(
            "unknown spawn pattern {pattern:?}; known: {}",
            known.join(", ")
        )
    })?;
    Ok(Command::ParkedPatternChild {
        runtime: RuntimeKind::from_name(runtime)
            .ok_or_else(|| format!("unknown runtime {runtime:?}"))?,
        workers: positive("workers", workers)?,
        count: positive("count", count)?,
        pattern,
    })
}

fn number(flag: &str, v: &str) -> Result<usize, String> {
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("{flag} needs a whole number, not {v:?}"))
}

fn positive(flag: &str, v: &str) -> Result<usize, String> {
    match number(flag, v)? {
        0 => Err(format!("{flag} must be at least 1")),
        n => Ok(n),
    }
}

/// Whole seconds, with or without an `s`: `5` or `5s`.
fn seconds(flag: &str, v: &str) -> Result<Duration, String> {
    let n = positive(flag, v.strip_suffix('s').unwrap_or(v))
        .map_err(|_| format!("{flag} needs a whole number of seconds, at least 1, not {v:?}"))?;
    Ok(Duration::from_secs(n as u64))
}

fn workloads(list: &str) -> Result<Vec<Workload>, String> {
    let mut chosen = Vec::new();
    for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let w = Workload::from_name(name).ok_or_else(|| {
            let known: Vec<_> = Workload::ALL.iter().map(|w| w.name()).collect();
            format!("unknown workload {name:?}; known: {}", known.join(", "))
        })?;
        if !chosen.contains(&w) {
            chosen.push(w);
        }
    }
    if chosen.is_empty() {
        return Err("--only needs at least one workload".to_owned());
    }
    chosen.sort_by_key(|w| Workload::ALL.iter().position(|a| a == w));
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse(args) {
            Ok(Command::Run(opts)) => opts,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn defaults_and_flags() {
        assert_eq!(run(&[]), Options::default());
        let o = run(&[
            "--iterations=7",
            "--warmup",
            "0",
            "--out",
            "/tmp/x",
            "--only",
            "ping_pong,yield_many",
        ]);
        assert_eq!(
            run(&[
                "--only",
                "combinator_sizes,parked_patterns,foreign_ping_pong,generic_yield"
            ])
            .workloads,
            [
                Workload::GenericYield,
                Workload::ForeignPingPong,
                Workload::ParkedPatterns,
                Workload::CombinatorSizes
            ]
        );
        assert_eq!(o.iterations, 7);
        assert_eq!(o.warmup, 0);
        assert_eq!(o.out, PathBuf::from("/tmp/x"));
        assert_eq!(o.workloads, [Workload::YieldMany, Workload::PingPong]);
        let q = run(&["--iterations", "5", "--quick"]);
        assert!(q.quick);
        assert_eq!((q.iterations, q.parked_tasks), (5, 100_000));
        assert_eq!((q.wrk_rounds, q.wrk_duration.as_secs()), (1, 2));
        assert!(q.workloads.contains(&Workload::HttpWrk));
        for stack in [
            Workload::AxumHello,
            Workload::TonicUnary,
            Workload::RedisBenchmark,
        ] {
            assert!(!q.workloads.contains(&stack), "--quick runs {stack:?}");
            assert!(Options::default().workloads.contains(&stack));
        }
        let s = run(&["--quick", "--only", "tonic_unary,axum_hello"]);
        assert_eq!(s.workloads, [Workload::AxumHello, Workload::TonicUnary]);
        let t = run(&["--tonic-connections", "2", "--tonic-in-flight=8"]);
        assert_eq!((t.tonic_connections, t.tonic_in_flight), (2, 8));
        let r = run(&[
            "--quick",
            "--only",
            "redis_benchmark",
            "--redis-requests",
            "1_000",
            "--redis-clients=4",
        ]);
        assert_eq!(r.workloads, [Workload::RedisBenchmark]);
        assert_eq!((r.redis_requests, r.redis_clients), (1_000, 4));
        let d = Options::default();
        assert_eq!((d.redis_requests, d.redis_clients), (100_000, 50));
        let w = run(&[
            "--wrk-rounds",
            "2",
            "--wrk-duration=3s",
            "--wrk-connections",
            "16",
            "--only",
            "http_wrk",
        ]);
        assert_eq!(w.workloads, [Workload::HttpWrk]);
        assert_eq!(w.wrk_rounds, 2);
        assert_eq!(w.wrk_duration, Duration::from_secs(3));
        assert_eq!(w.wrk_connections, 16);
        assert_eq!(run(&["--wrk-duration", "7"]).wrk_duration.as_secs(), 7);
        assert_eq!(parse(&["--help"]), Ok(Command::Help));
        assert_eq!(parse(&["--list"]), Ok(Command::List));
        assert_eq!(
            parse(&["--soak", "10s", "--workers", "3"]),
            Ok(Command::Soak {
                seconds: 10,
                workers: 3
            })
        );
        assert!(parse(&["--soak", "0"]).is_err());
    }

    #[test]
    fn bad_arguments() {
        for bad in [
            &["--iterations"][..],
            &["--iterations", "0"],
            &["--workers", "-1"],
            &["--warmup", "x"],
            &["--only", "nope"],
            &["--only", ","],
            &["--bogus"],
            &["stray"],
            &["--quick=1"],
            &["--out="],
            &["--wrk-duration", "0"],
            &["--wrk-duration", "1.5s"],
            &["--wrk-duration", "500ms"],
            &["--wrk-rounds", "0"],
            &["--wrk-connections", "0"],
            &["--tonic-connections", "0"],
            &["--tonic-in-flight", "x"],
            &["--redis-requests", "0"],
            &["--redis-clients", "many"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn child() {
        assert_eq!(
            parse(&[PARKED_CHILD, "tokio", "2", "1_000"]),
            Ok(Command::ParkedChild {
                runtime: RuntimeKind::Tokio,
                workers: 2,
                count: 1000
            })
        );
        assert!(parse(&[PARKED_CHILD, "glommio", "2", "10"]).is_err());
        assert!(parse(&[PARKED_CHILD, "tokio"]).is_err());
    }

    #[test]
    fn pattern_child() {
        assert_eq!(
            parse(&[
                PARKED_PATTERN_CHILD,
                "smp_rt",
                "2",
                "100",
                "outside-kept-0b"
            ]),
            Ok(Command::ParkedPatternChild {
                runtime: RuntimeKind::SmpRt,
                workers: 2,
                count: 100,
                pattern: SpawnPattern {
                    from: crate::workloads::SpawnFrom::Outside,
                    keep_handles: true,
                    future: crate::workloads::FutureSize::Zero,
                },
            })
        );
        let err = parse(&[
            PARKED_PATTERN_CHILD,
            "smp_rt",
            "2",
            "100",
            "outside-kept-8b",
        ])
        .unwrap_err();
        assert!(err.contains("unknown spawn pattern") && err.contains("inside-dropped-16b"));
        assert!(parse(&[PARKED_PATTERN_CHILD, "smp_rt", "2", "100"]).is_err());
        assert!(parse(&[PARKED_PATTERN_CHILD, "smp_rt", "0", "100", "inside-kept-0b"]).is_err());
    }
}

//! `redis_benchmark`: the Redis-protocol server of `examples/redis_pubsub`
//! (package `redis_pubsub`) under `redis-benchmark` (Debian's
//! `redis-tools`), built on tokio and on smp_rt from one source.
//!
//! The server says `tokio::` throughout; its feature `on-tokio` (the
//! default) builds it on real tokio, `--no-default-features --features
//! on-smp_rt` on smp_rt, by renaming smp_rt to `tokio`. Both builds make a
//! binary of the same name, so [`build`] builds each into a target
//! directory of its own ([`target_dirs`]: `redis-tokio` and
//! `redis-smp_rt` under `$CARGO_TARGET_DIR` or the repository's `target`):
//! one shared directory would hold only the last build's binary, and
//! switching features there would relink the server on every run, where
//! two directories leave a second run with nothing to do.
//!
//! A round starts a fresh server process ([`Server`]: `redis_pubsub
//! 127.0.0.1:0 --workers N`, which prints `listening on ADDR; N workers;
//! ...`), runs one `redis-benchmark -h 127.0.0.1 -p PORT -c 50 -n N -t
//! set,get -P 1 --csv` against it ([`Load`]), parses the CSV
//! ([`parse_csv`]: requests per second and latency percentiles per test,
//! GET reading the key SET wrote), and stops the server with SIGINT (its
//! ctrl-c). [`run_rounds`] alternates smp_rt and tokio round by round and
//! gives the report's rows: the medians of the rounds' SET and GET
//! requests per second, p50 and p99.

use std::env;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::cli::Options;
use crate::report::{Row, Sample, Unit};
use crate::runtimes::RuntimeKind;
use crate::server::{ServerProcess, StopBy, cargo_build, check_built};
use crate::stats;
use crate::workloads::Workload;
use crate::wrk;

/// The load generator, looked up on `PATH`.
pub const PROGRAM: &str = "redis-benchmark";
/// Client connections (`-c`).
pub const CLIENTS: usize = 50;
/// Requests per test and round (`-n`) in a full run.
pub const REQUESTS: usize = 100_000;
/// The tests of one `redis-benchmark` run, in the order it runs them.
pub const TESTS: [Test; 2] = [Test::Set, Test::Get];
/// The slowest rate a round is given time for (requests per second, both
/// tests together), beyond [`wrk::GRACE`]: a round still running after
/// that is killed and counted as failed.
pub const SLOWEST_RATE: u64 = 1_000;

/// One of `redis-benchmark`'s tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Test {
    /// `SET key:__rand_int__ VALUE`, a 3-byte value.
    Set,
    /// `GET key:__rand_int__`, the key SET wrote.
    Get,
}

impl Test {
    /// The test's name in `redis-benchmark`'s CSV and in the report's rows.
    pub fn name(self) -> &'static str {
        match self {
            Test::Set => "SET",
            Test::Get => "GET",
        }
    }

    /// The metric names of its samples in `samples.csv`: requests per
    /// second, then the p50, p95 and p99 latencies.
    fn metrics(self) -> [&'static str; 4] {
        match self {
            Test::Set => [
                "set_requests_per_sec",
                "set_latency_p50",
                "set_latency_p95",
                "set_latency_p99",
            ],
            Test::Get => [
                "get_requests_per_sec",
                "get_latency_p50",
                "get_latency_p95",
                "get_latency_p99",
            ],
        }
    }
}

/// How `redis-benchmark` loads the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// Client connections (`-c`).
    pub clients: usize,
    /// Requests per test (`-n`).
    pub requests: usize,
}

impl Load {
    /// `redis-benchmark`'s arguments for a server on `host` and `port`:
    /// no pipelining, the SET and GET tests, CSV output.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_bench::redis::Load;
    ///
    /// let load = Load { clients: 50, requests: 1000 };
    /// assert_eq!(
    ///     load.args("127.0.0.1", "6379").join(" "),
    ///     "-h 127.0.0.1 -p 6379 -c 50 -n 1000 -t set,get -P 1 --csv"
    /// );
    /// ```
    pub fn args(&self, host: &str, port: &str) -> Vec<String> {
        [
            "-h",
            host,
            "-p",
            port,
            "-c",
            &self.clients.to_string(),
            "-n",
            &self.requests.to_string(),
            "-t",
            "set,get",
            "-P",
            "1",
            "--csv",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// The command line, with `PORT` for the port, for the report.
    pub fn command_line(&self) -> String {
        format!("{PROGRAM} {}", self.args("127.0.0.1", "PORT").join(" "))
    }

    /// How long one run may take before it is killed.
    pub fn limit(&self) -> Duration {
        let requests = (self.requests * TESTS.len()) as u64;
        wrk::GRACE + Duration::from_secs(requests.div_ceil(SLOWEST_RATE))
    }
}

/// What one test of one `redis-benchmark` run measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Measured {
    /// `rps`: requests per second.
    pub requests_per_sec: f64,
    /// `avg_latency_ms`, in nanoseconds.
    pub avg: f64,
    /// `p50_latency_ms`, in nanoseconds.
    pub p50: f64,
    /// `p95_latency_ms`, in nanoseconds.
    pub p95: f64,
    /// `p99_latency_ms`, in nanoseconds.
    pub p99: f64,
    /// `max_latency_ms`, in nanoseconds.
    pub max: f64,
}

/// The installed `redis-benchmark`'s version line (`redis-benchmark
/// 7.0.15`), or `None` when it cannot be started.
pub fn version() -> Option<String> {
    let output = Command::new(PROGRAM)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or("").trim();
    Some(if first.is_empty() {
        PROGRAM.to_owned()
    } else {
        first.to_owned()
    })
}

/// Runs `redis-benchmark` against the server at `addr` and parses its CSV:
/// one [`Measured`] per test of [`TESTS`].
///
/// # Errors
///
/// When it cannot be started, fails (a connection was reset, or the server
/// answered a command with an error: `redis-benchmark` then exits with 1),
/// overruns [`Load::limit`] (it is then killed), or prints something
/// unexpected.
pub fn run(load: &Load, addr: SocketAddr) -> Result<[Measured; 2], String> {
    let mut command = Command::new(PROGRAM);
    command.args(load.args(&addr.ip().to_string(), &addr.port().to_string()));
    let stdout = wrk::output_within(&mut command, PROGRAM, load.limit())?;
    parse_csv(&stdout)
}

/// Parses the CSV `redis-benchmark --csv` prints (6.2 and later: a header
/// line, then one line per test with its requests per second and latency
/// figures in milliseconds) into one [`Measured`] per test of [`TESTS`].
/// Columns are found by their names in the header.
///
/// # Errors
///
/// A message naming the missing column, test or malformed figure; an
/// older `redis-benchmark` whose CSV has no latencies is named as such.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::redis::parse_csv;
///
/// let csv = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\
///            \"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\
///            \"SET\",\"80000.00\",\"0.350\",\"0.050\",\"0.300\",\"0.600\",\"0.900\",\"2.000\"\n\
///            \"GET\",\"90000.00\",\"0.310\",\"0.040\",\"0.280\",\"0.550\",\"0.800\",\"1.500\"\n";
/// let [set, get] = parse_csv(csv).unwrap();
/// assert_eq!((set.requests_per_sec, get.requests_per_sec), (80_000.0, 90_000.0));
/// assert_eq!(get.p99, 800_000.0);
/// ```
pub fn parse_csv(output: &str) -> Result<[Measured; 2], String> {
    let mut lines = output
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty());
    let header = lines
        .next()
        .ok_or_else(|| format!("{PROGRAM} printed nothing"))?;
    let header = fields(header);
    if header.first().map(String::as_str) != Some("test") {
        return Err(format!(
            "{PROGRAM} printed no CSV header (is it older than 6.2? the runner needs the latency \
             percentiles `--csv` prints from 6.2 on, as Debian 12's redis-tools 7.0 does): {output:?}"
        ));
    }
    let column = |name: &str| -> Result<usize, String> {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| format!("no column {name:?} in {PROGRAM}'s CSV header {header:?}"))
    };
    let columns = [
        column("rps")?,
        column("avg_latency_ms")?,
        column("p50_latency_ms")?,
        column("p95_latency_ms")?,
        column("p99_latency_ms")?,
        column("max_latency_ms")?,
    ];
    let rows: Vec<Vec<String>> = lines.map(fields).collect();
    let measured = |test: Test| -> Result<Measured, String> {
        let row = rows
            .iter()
            .find(|row| row.first().map(String::as_str) == Some(test.name()))
            .ok_or_else(|| format!("no {} line in {PROGRAM}'s CSV: {output:?}", test.name()))?;
        let mut figures = [0.0; 6];
        for (figure, (&index, name)) in figures.iter_mut().zip(columns.iter().zip([
            "rps",
            "avg_latency_ms",
            "p50_latency_ms",
            "p95_latency_ms",
            "p99_latency_ms",
            "max_latency_ms",
        ])) {
            let text = row.get(index).map_or("", String::as_str);
            *figure = text
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| {
                    format!(
                        "bad {name} {text:?} in {PROGRAM}'s {} line {row:?}",
                        test.name()
                    )
                })?;
        }
        let [rps, avg, p50, p95, p99, max] = figures;
        let ns = |ms: f64| ms * 1e6;
        Ok(Measured {
            requests_per_sec: rps,
            avg: ns(avg),
            p50: ns(p50),
            p95: ns(p95),
            p99: ns(p99),
            max: ns(max),
        })
    };
    Ok([measured(TESTS[0])?, measured(TESTS[1])?])
}

/// The fields of a CSV line whose fields are quoted and hold no commas or
/// quotes (all of `redis-benchmark`'s).
fn fields(line: &str) -> Vec<String> {
    line.split(',')
        .map(|field| field.trim().trim_matches('"').to_owned())
        .collect()
}

/// The repository the runner was built in.
fn repository() -> PathBuf {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench.parent().unwrap_or(bench).to_owned()
}

/// The target directories of the two builds, in the order of
/// [`RuntimeKind::ALL`]: `redis-smp_rt` and `redis-tokio` under
/// `CARGO_TARGET_DIR` (made absolute) when it is set, else under the
/// repository's `target`.
pub fn target_dirs() -> [PathBuf; 2] {
    let base = match env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => std::path::absolute(&dir).unwrap_or_else(|_| PathBuf::from(dir)),
        None => repository().join("target"),
    };
    RuntimeKind::ALL.map(|kind| base.join(format!("redis-{}", kind.name())))
}

/// The cargo arguments that build the server on `kind`, in the runner's
/// profile (`release`) or debug.
pub fn build_args(kind: RuntimeKind, release: bool) -> Vec<String> {
    let mut args = vec!["build".to_owned()];
    if release {
        args.push("--release".to_owned());
    }
    args.extend(["-p", "redis_pubsub", "--bin", "redis_pubsub"].map(str::to_owned));
    if kind == RuntimeKind::SmpRt {
        args.extend(["--no-default-features", "--features", "on-smp_rt"].map(str::to_owned));
    }
    args
}

/// The two server programs, in the order of [`RuntimeKind::ALL`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Programs(pub [PathBuf; 2]);

impl Programs {
    /// The programs' paths in the target directories `dirs` for a
    /// `release` or debug build.
    pub fn in_targets(dirs: &[PathBuf; 2], release: bool) -> Programs {
        let profile = if release { "release" } else { "debug" };
        Programs(dirs.clone().map(|dir| {
            dir.join(profile)
                .join(format!("redis_pubsub{}", env::consts::EXE_SUFFIX))
        }))
    }

    /// The server on `kind`.
    pub fn server(&self, kind: RuntimeKind) -> &Path {
        match kind {
            RuntimeKind::SmpRt => &self.0[0],
            RuntimeKind::Tokio => &self.0[1],
        }
    }
}

/// Builds the two servers with cargo, in the runner's own profile, each
/// into its own directory of [`target_dirs`]; cargo's progress goes to
/// stderr.
///
/// # Errors
///
/// When `examples/redis_pubsub` is not there (the runner was moved away
/// from its repository), or cargo cannot be started or fails.
pub fn build() -> Result<Programs, String> {
    let release = !cfg!(debug_assertions);
    let repository = repository();
    let manifest = repository.join("examples/redis_pubsub/Cargo.toml");
    if !manifest.is_file() {
        return Err(format!(
            "{} is not there: redis_benchmark builds its server from the repository the runner \
             was built in; run the runner from a checkout of smp_rt",
            manifest.display()
        ));
    }
    let dirs = target_dirs();
    for (kind, dir) in RuntimeKind::ALL.into_iter().zip(&dirs) {
        let args = build_args(kind, release);
        eprintln!(
            "smp_rt_bench: building the Redis-protocol server on {}: `cargo {}` in {} \
             (CARGO_TARGET_DIR={})",
            kind.name(),
            args.join(" "),
            repository.display(),
            dir.display()
        );
        cargo_build(&args, &repository, dir)?;
    }
    let programs = Programs::in_targets(&dirs, release);
    check_built(&programs.0)?;
    Ok(programs)
}

/// A `redis_pubsub` process started for one round.
#[derive(Debug)]
pub struct Server {
    process: ServerProcess,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `program` on a free port of 127.0.0.1 with `workers` worker
    /// threads and waits for its first line.
    ///
    /// # Errors
    ///
    /// When it cannot be started, exits, prints no address within
    /// [`START_LIMIT`](crate::server::START_LIMIT), or runs another number
    /// of workers than asked (it is killed then).
    pub fn start(program: &Path, workers: usize) -> Result<Server, String> {
        let args = ["127.0.0.1:0", "--workers", &workers.to_string()];
        let (process, line) = ServerProcess::start(program, args, StopBy::Interrupt)?;
        let (addr, running) = parse_listening(&line).ok_or_else(|| {
            format!("the server printed {line:?} instead of `listening on ADDR; N workers; ...`")
        })?;
        if running != workers {
            return Err(format!(
                "the server runs {running} workers where {workers} were asked for"
            ));
        }
        Ok(Server { process, addr })
    }

    /// Stops the server with SIGINT (its ctrl-c: it finishes the commands
    /// in flight and exits) and waits for it to exit.
    ///
    /// # Errors
    ///
    /// When it had already exited (it died during the round), cannot be
    /// signalled, exits with a failure, or is still running after
    /// [`STOP_LIMIT`](crate::server::STOP_LIMIT) (it is then killed).
    pub fn stop(self) -> Result<(), String> {
        self.process.stop()
    }
}

/// The address and worker count in the server's first line, `listening
/// on ADDR; N workers; ctrl-c stops`.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::redis::parse_listening;
///
/// assert_eq!(
///     parse_listening("listening on 127.0.0.1:4000; 2 workers; ctrl-c stops\n"),
///     Some(("127.0.0.1:4000".parse().unwrap(), 2))
/// );
/// assert_eq!(parse_listening("listening on 127.0.0.1:4000; ctrl-c stops"), None);
/// ```
pub fn parse_listening(line: &str) -> Option<(SocketAddr, usize)> {
    let mut parts = line.trim().strip_prefix("listening on ")?.split("; ");
    let addr = parts.next()?.parse().ok()?;
    let workers = parts.next()?.strip_suffix(" workers")?.parse().ok()?;
    Some((addr, workers))
}

/// What [`run_rounds`] produced for the report.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// The report's rows: SET and GET p50, p99 and requests per second.
    pub rows: Vec<Row>,
    /// Every round's figures.
    pub samples: Vec<Sample>,
    /// Skips and failures, for the report's notes.
    pub notes: Vec<String>,
    /// How it was measured, for the report's method; `None` when it did
    /// not run.
    pub method: Option<String>,
}

/// `redis_benchmark`: builds the servers (the first time), then
/// `opts.wrk_rounds` rounds, each a fresh server on smp_rt then one on
/// tokio under one `redis-benchmark` run each; progress on stderr. A
/// missing `redis-benchmark` is a note and a skip; a failed build or round
/// is a note, and the run goes on.
pub fn run_rounds(opts: &Options) -> Outcome {
    let name = Workload::RedisBenchmark.name();
    let mut outcome = Outcome::default();
    let Some(version) = version() else {
        eprintln!(
            "smp_rt_bench: {name} skipped: `{PROGRAM}` is not installed (Debian: apt-get install \
             redis-tools)"
        );
        outcome
            .notes
            .push(format!("{name} was skipped: `{PROGRAM}` is not installed."));
        return outcome;
    };
    let programs = match build() {
        Ok(programs) => programs,
        Err(err) => {
            eprintln!("smp_rt_bench: {name} failed: {err}");
            outcome.notes.push(format!(
                "{name} failed: its server could not be built ({err})."
            ));
            return outcome;
        }
    };
    let load = Load {
        clients: opts.redis_clients,
        requests: opts.redis_requests,
    };
    let command = load.command_line();
    eprintln!(
        "smp_rt_bench: {name}: {version}; `{command}`, {} round(s) per runtime, {} workers",
        opts.wrk_rounds, opts.workers
    );
    let mut rounds: [Vec<[Measured; 2]>; 2] = Default::default();
    for index in 0..opts.wrk_rounds {
        for (slot, kind) in RuntimeKind::ALL.into_iter().enumerate() {
            let tag = format!("{}/{}", index + 1, opts.wrk_rounds);
            let mut line = format!("{name:<24} {tag:>12}  {:<6}", kind.name());
            let round = Server::start(programs.server(kind), opts.workers).and_then(|server| {
                let measured = run(&load, server.addr);
                server.stop().and(measured)
            });
            let figures = match round {
                Ok(figures) => figures,
                Err(err) => {
                    eprintln!("{line}  failed");
                    eprintln!("smp_rt_bench: {name} on {}: {err}", kind.name());
                    outcome
                        .notes
                        .push(format!("{name}: a round on {} failed: {err}", kind.name()));
                    continue;
                }
            };
            for (test, m) in TESTS.into_iter().zip(&figures) {
                line.push_str(&format!(
                    "  {} {:>12} p50 {:>8} p99 {:>8}",
                    test.name(),
                    Unit::RequestsPerSec.format(m.requests_per_sec),
                    Unit::Nanos.format(m.p50),
                    Unit::Nanos.format(m.p99)
                ));
                let [rps, p50, p95, p99] = test.metrics();
                outcome.samples.extend(
                    [
                        (rps, Unit::RequestsPerSec, m.requests_per_sec),
                        (p50, Unit::Nanos, m.p50),
                        (p95, Unit::Nanos, m.p95),
                        (p99, Unit::Nanos, m.p99),
                    ]
                    .map(|(metric, unit, value)| Sample {
                        workload: name,
                        metric,
                        runtime: kind,
                        iteration: index,
                        value,
                        unit,
                    }),
                );
            }
            eprintln!("{line}");
            rounds[slot].push(figures);
        }
    }
    outcome.rows = rows(name, &rounds);
    outcome.method = Some(format!(
        "{name}: examples/redis_pubsub (one source, built on tokio and on smp_rt) under \
         `{command}` ({version}), a fresh server process per round with {} workers, {} \
         round(s) per runtime, alternating; medians of the rounds' figures",
        opts.workers, opts.wrk_rounds
    ));
    outcome
}

/// The report's rows from the rounds of each runtime (in the order of
/// [`RuntimeKind::ALL`]): per test, the medians of p50, p99 and requests
/// per second, labelled `NAME TEST FIGURE`.
pub fn rows(name: &str, rounds: &[Vec<[Measured; 2]>; 2]) -> Vec<Row> {
    let mut rows = Vec::new();
    for (index, test) in TESTS.into_iter().enumerate() {
        let median = |slot: usize, pick: fn(&Measured) -> f64| {
            stats::median(
                &rounds[slot]
                    .iter()
                    .map(|figures| pick(&figures[index]))
                    .collect::<Vec<_>>(),
            )
        };
        for (label, unit, pick) in [
            (
                "p50",
                Unit::Nanos,
                (|m: &Measured| m.p50) as fn(&Measured) -> f64,
            ),
            ("p99", Unit::Nanos, |m| m.p99),
            ("req/s", Unit::RequestsPerSec, |m| m.requests_per_sec),
        ] {
            rows.push(Row {
                label: format!("{name} {} {label}", test.name()),
                unit,
                smp_rt: median(0, pick),
                tokio: median(1, pick),
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `redis-benchmark -c 50 -n 2000 -t set,get -P 1 --csv`
    /// (redis-benchmark 7.0.15, Debian 12) printed against redis_pubsub.
    const CSV: &str = "\
\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"
\"SET\",\"19417.48\",\"2.140\",\"0.024\",\"0.807\",\"9.167\",\"9.319\",\"13.719\"
\"GET\",\"33333.34\",\"1.328\",\"0.024\",\"0.751\",\"4.151\",\"6.567\",\"6.575\"
";

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn parses_the_csv_of_both_tests() {
        let [set, get] = parse_csv(CSV).unwrap();
        assert_eq!(set.requests_per_sec, 19_417.48);
        assert_eq!(get.requests_per_sec, 33_333.34);
        assert!(close(set.p50, 807_000.0), "{}", set.p50);
        assert!(close(set.p99, 9_319_000.0), "{}", set.p99);
        assert!(close(get.avg, 1_328_000.0), "{}", get.avg);
        assert!(close(get.p95, 4_151_000.0), "{}", get.p95);
        assert!(close(get.max, 6_575_000.0), "{}", get.max);
        // Columns are found by name, not position; tests by name too.
        let swapped = "\
\"test\",\"p99_latency_ms\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"max_latency_ms\"
\"GET\",\"6.567\",\"33333.34\",\"1.328\",\"0.024\",\"0.751\",\"4.151\",\"6.575\"
\"SET\",\"9.319\",\"19417.48\",\"2.140\",\"0.024\",\"0.807\",\"9.167\",\"13.719\"
";
        assert_eq!(parse_csv(swapped).unwrap(), parse_csv(CSV).unwrap());
    }

    #[test]
    fn rejects_csv_without_a_test_or_a_figure() {
        assert!(parse_csv("").unwrap_err().contains("printed nothing"));
        // redis-benchmark before 6.2: no header, no latencies.
        let old = "\"SET\",\"19417.48\"\n\"GET\",\"33333.34\"\n";
        assert!(parse_csv(old).unwrap_err().contains("older than 6.2"));
        let no_get: String = CSV.lines().take(2).map(|l| format!("{l}\n")).collect();
        assert!(parse_csv(&no_get).unwrap_err().contains("no GET line"));
        let no_p99 = CSV.replace("\"p99_latency_ms\"", "\"p98_latency_ms\"");
        assert!(parse_csv(&no_p99).unwrap_err().contains("p99_latency_ms"));
        let bad = CSV.replace("\"33333.34\"", "\"lots\"");
        assert!(parse_csv(&bad).unwrap_err().contains("bad rps \"lots\""));
        let negative = CSV.replace("\"0.751\"", "\"-0.751\"");
        assert!(parse_csv(&negative).is_err());
        let short = CSV.replace(",\"6.575\"", "");
        assert!(parse_csv(&short).unwrap_err().contains("max_latency_ms"));
    }

    #[test]
    fn listening_lines() {
        assert_eq!(
            parse_listening("listening on [::1]:6379; 16 workers; ctrl-c stops"),
            Some(("[::1]:6379".parse().unwrap(), 16))
        );
        assert_eq!(
            parse_listening("listening on 127.0.0.1:1; two workers"),
            None
        );
        assert_eq!(parse_listening("ready"), None);
    }

    #[test]
    fn the_two_builds_go_to_their_own_directories() {
        let [smp, tok] = target_dirs();
        assert_ne!(smp, tok);
        assert!(smp.ends_with("redis-smp_rt") && tok.ends_with("redis-tokio"));
        assert_eq!(smp.parent(), tok.parent());
        let programs = Programs::in_targets(&[smp.clone(), tok.clone()], true);
        assert!(
            programs
                .server(RuntimeKind::SmpRt)
                .starts_with(smp.join("release"))
        );
        assert!(
            programs
                .server(RuntimeKind::Tokio)
                .starts_with(tok.join("release"))
        );
        let smp_args = build_args(RuntimeKind::SmpRt, false).join(" ");
        assert_eq!(
            smp_args,
            "build -p redis_pubsub --bin redis_pubsub --no-default-features --features on-smp_rt"
        );
        assert_eq!(
            build_args(RuntimeKind::Tokio, true).join(" "),
            "build --release -p redis_pubsub --bin redis_pubsub"
        );
    }

    #[test]
    fn rows_are_medians_per_test_and_runtime() {
        let m = |rps: f64, p50: f64| Measured {
            requests_per_sec: rps,
            avg: 0.0,
            p50,
            p95: 0.0,
            p99: 2.0 * p50,
            max: 0.0,
        };
        let smp = vec![
            [m(100.0, 10.0), m(200.0, 5.0)],
            [m(300.0, 30.0), m(400.0, 7.0)],
            [m(200.0, 20.0), m(600.0, 6.0)],
        ];
        // tokio had one round only (the others failed).
        let tok = vec![[m(50.0, 40.0), m(80.0, 9.0)]];
        let rows = rows("redis_benchmark", &[smp, tok]);
        let labels: Vec<&str> = rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "redis_benchmark SET p50",
                "redis_benchmark SET p99",
                "redis_benchmark SET req/s",
                "redis_benchmark GET p50",
                "redis_benchmark GET p99",
                "redis_benchmark GET req/s",
            ]
        );
        assert_eq!((rows[0].smp_rt, rows[0].tokio), (Some(20.0), Some(40.0)));
        assert_eq!((rows[1].smp_rt, rows[1].tokio), (Some(40.0), Some(80.0)));
        assert_eq!(rows[2].unit, Unit::RequestsPerSec);
        assert_eq!((rows[5].smp_rt, rows[5].tokio), (Some(400.0), Some(80.0)));
        assert_eq!(rows[3].smp_rt, Some(6.0));
        let none = super::rows("redis_benchmark", &Default::default());
        assert!(none.iter().all(|r| r.smp_rt.is_none() && r.tokio.is_none()));
    }

    #[cfg(unix)]
    use crate::test_scripts::script;

    #[cfg(unix)]
    #[test]
    fn a_server_is_started_with_its_workers_and_stopped_by_sigint() {
        // Serves only when asked for 3 workers on a free port; exits 0 on
        // SIGINT, 5 on anything else that ends its wait.
        let serves = script(
            "serves",
            r#"[ "$1 $2 $3" = "127.0.0.1:0 --workers 3" ] || exit 9
trap 'exit 0' INT
echo "listening on 127.0.0.1:4321; 3 workers; ctrl-c stops"
while :; do sleep 0.01; done"#,
        );
        let server = Server::start(&serves, 3).unwrap();
        assert_eq!(server.addr, "127.0.0.1:4321".parse().unwrap());
        server.stop().unwrap();
        let err = Server::start(&serves, 2).unwrap_err();
        assert!(
            err.contains("exited before it printed its address"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_server_that_misbehaves_is_an_error() {
        let wrong = script(
            "wrong-workers",
            r#"echo "listening on 127.0.0.1:1; 1 workers; ctrl-c stops"; exec sleep 60"#,
        );
        let err = Server::start(&wrong, 2).unwrap_err();
        assert!(
            err.contains("runs 1 workers where 2 were asked for"),
            "{err}"
        );
        let garbled = script("garbled", "echo ready; exec sleep 60");
        let err = Server::start(&garbled, 1).unwrap_err();
        assert!(err.contains("instead of `listening on ADDR"), "{err}");
        // Fails on SIGINT instead of exiting cleanly.
        let fails = script(
            "fails",
            r#"trap 'exit 4' INT
echo "listening on 127.0.0.1:1; 1 workers; ctrl-c stops"
while :; do sleep 0.01; done"#,
        );
        let err = Server::start(&fails, 1).unwrap().stop().unwrap_err();
        assert!(err.contains("failed on exit"), "{err}");
        let err = Server::start(Path::new("/nonexistent/redis_pubsub"), 1).unwrap_err();
        assert!(err.contains("cannot start"), "{err}");
    }
}

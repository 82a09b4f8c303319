//! The head-to-head runner: every workload on smp_rt and on tokio, a table
//! on stdout, progress on stderr, and `report.svg`, `report.md` and
//! `samples.csv` in the output directory.
//!
//! ```sh
//! cargo run --release -p smp_rt_bench -- --help
//! ```

use std::env;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use smp_rt_bench::child;
use smp_rt_bench::cli::{self, Command, Options};
use smp_rt_bench::report::{Report, Row, Sample, Unit};
use smp_rt_bench::runtimes::{self, RuntimeKind};
use smp_rt_bench::stats::{self, Summary};
use smp_rt_bench::sysinfo::SystemInfo;
use smp_rt_bench::workloads::{
    self, Kind, PARKED_PATTERN_RUNS, PLANNED, SpawnPattern, Timed, Workload,
};
use smp_rt_bench::{redis, soak, stacks, wrk};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match cli::parse(&args) {
        Err(message) => {
            eprintln!("smp_rt_bench: {message}\n\n{}", cli::USAGE);
            ExitCode::from(2)
        }
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            ExitCode::SUCCESS
        }
        Ok(Command::List) => {
            list();
            ExitCode::SUCCESS
        }
        Ok(Command::Soak { seconds, workers }) => match soak::run(seconds, workers) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("smp_rt_bench: {message}");
                ExitCode::FAILURE
            }
        },
        Ok(Command::ParkedChild {
            runtime,
            workers,
            count,
        }) => child::serve_parked(runtime, workers, count),
        Ok(Command::ParkedPatternChild {
            runtime,
            workers,
            count,
            pattern,
        }) => child::serve_parked_pattern(runtime, workers, count, pattern),
        Ok(Command::Run(opts)) => match run(&opts) {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("smp_rt_bench: {message}");
                ExitCode::FAILURE
            }
        },
    }
}

fn list() {
    for w in Workload::ALL {
        println!("{}", w.name());
    }
    for p in PLANNED {
        println!("{} (planned, needs {}): {}", p.name, p.needs, p.description);
    }
}

/// What the runs have produced so far.
#[derive(Default)]
struct Results {
    rows: Vec<Row>,
    samples: Vec<Sample>,
    latency: Vec<(RuntimeKind, Vec<f64>)>,
    notes: Vec<String>,
    /// The `wrk` command line and version of `http_wrk`, once it has run.
    wrk: Option<String>,
    /// What each real-stack workload that ran served and how it was loaded.
    stacks: Vec<String>,
    /// How `redis_benchmark` was run, once it has run.
    redis: Option<String>,
}

fn run(opts: &Options) -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!("smp_rt_bench: warning: this is a debug build; use `cargo run --release`");
    }
    let system = SystemInfo::collect();
    let repeated = if only_rounds(opts) {
        format!(", {} load round(s) per runtime", opts.wrk_rounds)
    } else {
        format!(
            ", {} warm-up + {} measured runs each",
            opts.warmup, opts.iterations
        )
    };
    eprintln!(
        "smp_rt_bench: {} workload{} on {} workers{repeated}{}",
        opts.workloads.len(),
        if opts.workloads.len() == 1 { "" } else { "s" },
        opts.workers,
        if opts.quick { " (quick)" } else { "" }
    );
    let started = Instant::now();
    let mut results = Results::default();
    let mut programs = None;
    for &workload in &opts.workloads {
        match (workload.kind(), workload.timed()) {
            (Kind::Time, Some(pair)) => timed(pair, opts, &mut results)?,
            (Kind::Parked, _) => parked(opts, &mut results)?,
            (Kind::ParkedPatterns, _) => parked_patterns(opts, &mut results)?,
            (Kind::Sizes, _) => combinator_sizes(&mut results),
            (Kind::Latency, _) => latency(opts, &mut results)?,
            (Kind::Http, _) => http(opts, &mut results)?,
            (Kind::DeadlineLateness, _) => deadline_lateness(opts, &mut results)?,
            (Kind::Stack, _) => stack(workload, &mut programs, opts, &mut results)?,
            (Kind::Redis, _) => redis_benchmark(opts, &mut results),
            (Kind::Time, None) => unreachable!("{workload:?} is timed but not in TIMED"),
        }
    }
    if !PLANNED.is_empty() {
        let planned: Vec<String> = PLANNED
            .iter()
            .map(|p| format!("{} (needs {})", p.name, p.needs))
            .collect();
        results
            .notes
            .push(format!("Not measured yet: {}.", planned.join(", ")));
    }
    eprintln!(
        "smp_rt_bench: done in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let report = Report {
        system,
        workers: opts.workers,
        method: method(
            opts,
            results.wrk.as_deref(),
            &results.stacks,
            results.redis.as_deref(),
        ),
        rows: results.rows,
        samples: results.samples,
        latency: results.latency,
        notes: results.notes,
    };
    println!("{}", report.text());
    let written = report
        .write(&opts.out)
        .map_err(|err| format!("cannot write the reports to {}: {err}", opts.out.display()))?;
    println!("chart:   {}", shown(&written.svg));
    println!("table:   {}", shown(&written.markdown));
    println!("samples: {}", shown(&written.csv));
    Ok(())
}

/// Whether every workload runs in load rounds (`http_wrk`, the
/// real-stack ones and `redis_benchmark`), which do not use
/// `--iterations` and `--warmup`.
fn only_rounds(opts: &Options) -> bool {
    opts.workloads
        .iter()
        .all(|w| matches!(w.kind(), Kind::Http | Kind::Stack | Kind::Redis))
}

fn method(opts: &Options, wrk: Option<&str>, stacks: &[String], redis: Option<&str>) -> String {
    let mut parts = Vec::new();
    if !only_rounds(opts) {
        parts.push(format!(
            "{} measured runs after {} warm-up run(s) per workload, smp_rt and tokio alternating; medians",
            opts.iterations, opts.warmup
        ));
    }
    if opts.workloads.contains(&Workload::ParkedTasks) {
        parts.push(format!(
            "parked_tasks: {} tasks, a fresh process per runtime and run",
            opts.parked_tasks
        ));
    }
    if opts.workloads.contains(&Workload::ParkedPatterns) {
        parts.push(format!(
            "parked_patterns: {} tasks, {} run(s) per pattern and runtime, each in a fresh \
             process; medians",
            opts.parked_tasks,
            parked_pattern_runs(opts)
        ));
    }
    if opts.workloads.contains(&Workload::CombinatorSizes) {
        parts.push("combinator_sizes: type sizes computed once, not timed".to_owned());
    }
    if opts.workloads.contains(&Workload::PriorityLatency) {
        parts.push(format!(
            "priority_latency: {} samples per run, percentiles of all runs",
            opts.latency_samples
        ));
    }
    if opts.workloads.contains(&Workload::DeadlineLateness) {
        parts.push(format!(
            "deadline_lateness (smp_rt only): {} releases per run, with and without deadlines \
             alternating, percentiles of all runs",
            opts.latency_samples
        ));
    }
    if let Some(wrk) = wrk {
        parts.push(format!(
            "http_wrk: {} round(s) per runtime of {wrk}, a fresh runtime each, alternating; \
             medians of the rounds' figures",
            opts.wrk_rounds
        ));
    }
    if !stacks.is_empty() {
        parts.push(format!(
            "{}; {} round(s) per runtime, alternating, a fresh server process each, \
             the server built against the tokio facade (smp_rt) and against tokio from one source, \
             {} workers; medians of the rounds' figures",
            stacks.join("; "),
            opts.wrk_rounds,
            opts.workers
        ));
    }
    if let Some(redis) = redis {
        parts.push(redis.to_owned());
    }
    parts.join("; ")
}

fn shown(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_owned())
        .display()
        .to_string()
}

fn build(workers: usize) -> Result<(smp_rt::runtime::Runtime, tokio::runtime::Runtime), String> {
    let smp = runtimes::smp_rt(workers)
        .map_err(|err| format!("cannot start smp_rt with {workers} workers: {err}"))?;
    let tok = runtimes::tokio(workers)
        .map_err(|err| format!("cannot start tokio with {workers} workers: {err}"))?;
    Ok((smp, tok))
}

fn step(name: &str, i: usize, opts: &Options) -> String {
    let tag = if i < opts.warmup {
        format!("warm-up {}/{}", i + 1, opts.warmup)
    } else {
        format!("{}/{}", i - opts.warmup + 1, opts.iterations)
    };
    format!("{name:<24} {tag:>12}")
}

fn nanos(d: Duration) -> f64 {
    d.as_nanos() as f64
}

/// A timed workload: one time per run.
fn timed(pair: &Timed, opts: &Options, results: &mut Results) -> Result<(), String> {
    let name = pair.workload.name();
    let (smp, tok) = build(opts.workers)?;
    let mut times: [Vec<f64>; 2] = Default::default();
    for i in 0..opts.warmup + opts.iterations {
        let a = nanos((pair.smp_rt)(&smp));
        let b = nanos((pair.tokio)(&tok));
        eprintln!(
            "{}  smp_rt {:>10}  tokio {:>10}",
            step(name, i, opts),
            Unit::Nanos.format(a),
            Unit::Nanos.format(b)
        );
        if i < opts.warmup {
            continue;
        }
        for (slot, (kind, value)) in RuntimeKind::ALL.into_iter().zip([a, b]).enumerate() {
            times[slot].push(value);
            results.samples.push(Sample {
                workload: name,
                metric: "time",
                runtime: kind,
                iteration: i - opts.warmup,
                value,
                unit: Unit::Nanos,
            });
        }
    }
    results.rows.push(Row {
        label: name.to_owned(),
        unit: Unit::Nanos,
        smp_rt: stats::median(&times[0]),
        tokio: stats::median(&times[1]),
    });
    Ok(())
}

/// `parked_tasks`, each run in a fresh child process per runtime so that
/// one runtime's memory does not show in the other's figure.
fn parked(opts: &Options, results: &mut Results) -> Result<(), String> {
    let name = Workload::ParkedTasks.name();
    let command = child::this_program()?;
    let mut spawn_ns: [Vec<f64>; 2] = Default::default();
    let mut bytes: [Vec<f64>; 2] = Default::default();
    for iteration in 0..opts.iterations {
        let mut line = format!("{}  ", step(name, iteration + opts.warmup, opts));
        for (slot, kind) in RuntimeKind::ALL.into_iter().enumerate() {
            match child::run_parked(&command, kind, opts.workers, opts.parked_tasks) {
                Ok(parked) => {
                    let ns = parked.spawn_ns_per_task();
                    spawn_ns[slot].push(ns);
                    results.samples.push(Sample {
                        workload: name,
                        metric: "spawn",
                        runtime: kind,
                        iteration,
                        value: ns,
                        unit: Unit::NanosPerTask,
                    });
                    let per_task = parked.bytes_per_task();
                    if let Some(b) = per_task {
                        bytes[slot].push(b);
                        results.samples.push(Sample {
                            workload: name,
                            metric: "memory",
                            runtime: kind,
                            iteration,
                            value: b,
                            unit: Unit::BytesPerTask,
                        });
                    }
                    line.push_str(&format!(
                        "  {} {} {}",
                        kind.name(),
                        Unit::NanosPerTask.format(ns),
                        per_task.map_or_else(
                            || "? B/task".to_owned(),
                            |b| Unit::BytesPerTask.format(b)
                        ),
                    ));
                }
                Err(err) => {
                    line.push_str(&format!("  {} failed", kind.name()));
                    eprintln!("smp_rt_bench: parked_tasks on {}: {err}", kind.name());
                }
            }
        }
        eprintln!("{line}");
    }
    results.rows.push(Row {
        label: format!("{name} spawn"),
        unit: Unit::NanosPerTask,
        smp_rt: stats::median(&spawn_ns[0]),
        tokio: stats::median(&spawn_ns[1]),
    });
    results.rows.push(Row {
        label: format!("{name} memory"),
        unit: Unit::BytesPerTask,
        smp_rt: stats::median(&bytes[0]),
        tokio: stats::median(&bytes[1]),
    });
    Ok(())
}

/// Runs per spawn pattern and runtime of `parked_patterns`: one with
/// `--quick`, else [`PARKED_PATTERN_RUNS`] or `--iterations` if fewer.
fn parked_pattern_runs(opts: &Options) -> usize {
    if opts.quick {
        1
    } else {
        opts.iterations.min(PARKED_PATTERN_RUNS)
    }
}

/// `parked_patterns`: every [`SpawnPattern`] on both runtimes, each
/// run in a fresh child process; a row per pattern with the median bytes
/// per task. `samples.csv` has each run's bytes per task and spawn time
/// per task, with the pattern's name as the metric.
fn parked_patterns(opts: &Options, results: &mut Results) -> Result<(), String> {
    let name = Workload::ParkedPatterns.name();
    let command = child::this_program()?;
    let runs = parked_pattern_runs(opts);
    for pattern in SpawnPattern::ALL {
        let label = format!("{name} {}", pattern.name());
        let mut bytes: [Vec<f64>; 2] = Default::default();
        for run in 0..runs {
            let tag = format!("{}/{runs}", run + 1);
            let mut line = format!("{label:<35} {tag:>6}");
            for (slot, kind) in RuntimeKind::ALL.into_iter().enumerate() {
                let parked = match child::run_parked_pattern(
                    &command,
                    kind,
                    opts.workers,
                    opts.parked_tasks,
                    pattern,
                ) {
                    Ok(parked) => parked,
                    Err(err) => {
                        line.push_str(&format!("  {} failed", kind.name()));
                        eprintln!("smp_rt_bench: {label} on {}: {err}", kind.name());
                        continue;
                    }
                };
                let ns = parked.spawn_ns_per_task();
                let per_task = parked.bytes_per_task();
                results.samples.push(Sample {
                    workload: name,
                    metric: pattern.name(),
                    runtime: kind,
                    iteration: run,
                    value: ns,
                    unit: Unit::NanosPerTask,
                });
                if let Some(b) = per_task {
                    bytes[slot].push(b);
                    results.samples.push(Sample {
                        workload: name,
                        metric: pattern.name(),
                        runtime: kind,
                        iteration: run,
                        value: b,
                        unit: Unit::BytesPerTask,
                    });
                }
                line.push_str(&format!(
                    "  {} {:>10} {:>12}",
                    kind.name(),
                    per_task
                        .map_or_else(|| "? B/task".to_owned(), |b| Unit::BytesPerTask.format(b)),
                    Unit::NanosPerTask.format(ns),
                ));
            }
            eprintln!("{line}");
        }
        results.rows.push(Row {
            label,
            unit: Unit::BytesPerTask,
            smp_rt: stats::median(&bytes[0]),
            tokio: stats::median(&bytes[1]),
        });
    }
    Ok(())
}

/// `combinator_sizes`: the sizes of `join!`, `try_join!` and `select!`
/// futures on both runtimes, a row each; computed, not timed.
fn combinator_sizes(results: &mut Results) {
    let name = Workload::CombinatorSizes.name();
    let on_smp_rt = workloads::smp_rt::combinator_sizes().named();
    let on_tokio = workloads::tokio::combinator_sizes().named();
    for ((what, a), (_, b)) in on_smp_rt.into_iter().zip(on_tokio) {
        eprintln!(
            "{name:<24} {what:>12}  smp_rt {:>6}  tokio {:>6}",
            Unit::Bytes.format(a as f64),
            Unit::Bytes.format(b as f64)
        );
        for (kind, value) in [(RuntimeKind::SmpRt, a), (RuntimeKind::Tokio, b)] {
            results.samples.push(Sample {
                workload: name,
                metric: what,
                runtime: kind,
                iteration: 0,
                value: value as f64,
                unit: Unit::Bytes,
            });
        }
        results.rows.push(Row {
            label: format!("{name} {what}"),
            unit: Unit::Bytes,
            smp_rt: Some(a as f64),
            tokio: Some(b as f64),
        });
    }
    results.notes.push(format!(
        "{name}: the size of an `async` block holding only the macro over leaf futures of {} \
         bytes each (an `async fn` awaiting futures-lite's `yield_now` once; `try_join!`'s \
         return a `Result`), each runtime's own macro; computed in the runner, not timed.",
        workloads::leaf_size()
    ));
}

/// `priority_latency`: many samples per run, pooled.
fn latency(opts: &Options, results: &mut Results) -> Result<(), String> {
    let name = Workload::PriorityLatency.name();
    let (smp, tok) = build(opts.workers)?;
    let mut pooled: [Vec<f64>; 2] = Default::default();
    let warmup_samples = (opts.latency_samples / 4).max(10);
    for i in 0..opts.warmup + opts.iterations {
        let samples = if i < opts.warmup {
            warmup_samples
        } else {
            opts.latency_samples
        };
        let a = stats::nanos(&workloads::smp_rt::priority_latency(&smp, samples));
        let b = stats::nanos(&workloads::tokio::priority_latency(&tok, samples));
        let show = |v: &[f64]| {
            Summary::of(v).map_or_else(String::new, |s| {
                format!(
                    "p50 {:>9} p99 {:>9}",
                    Unit::Nanos.format(s.p50),
                    Unit::Nanos.format(s.p99)
                )
            })
        };
        eprintln!(
            "{}  smp_rt {}  tokio {}",
            step(name, i, opts),
            show(&a),
            show(&b)
        );
        if i < opts.warmup {
            continue;
        }
        for (slot, (kind, values)) in RuntimeKind::ALL.into_iter().zip([a, b]).enumerate() {
            results.samples.extend(values.iter().map(|&value| Sample {
                workload: name,
                metric: "wake_to_run",
                runtime: kind,
                iteration: i - opts.warmup,
                value,
                unit: Unit::Nanos,
            }));
            pooled[slot].extend(values);
        }
    }
    let [smp_samples, tok_samples] = pooled;
    let (sa, sb) = (Summary::of(&smp_samples), Summary::of(&tok_samples));
    for (label, pick) in [
        ("p50", (|s: Summary| s.p50) as fn(Summary) -> f64),
        ("p99", |s: Summary| s.p99),
        ("max", |s: Summary| s.max),
    ] {
        results.rows.push(Row {
            label: format!("{name} {label}"),
            unit: Unit::Nanos,
            smp_rt: sa.map(pick),
            tokio: sb.map(pick),
        });
    }
    results.latency = vec![
        (RuntimeKind::SmpRt, smp_samples),
        (RuntimeKind::Tokio, tok_samples),
    ];
    Ok(())
}

/// `deadline_lateness`: smp_rt only (tokio has no deadlines), the same
/// periodic tasks with and without deadlines, alternating; the figures go
/// to the report's notes, deadline vs no-deadline, and the samples to
/// `samples.csv` (runtime smp_rt, metric `lateness_deadline` or
/// `lateness_fifo`).
fn deadline_lateness(opts: &Options, results: &mut Results) -> Result<(), String> {
    let name = Workload::DeadlineLateness.name();
    let smp = runtimes::smp_rt(opts.workers)
        .map_err(|err| format!("cannot start smp_rt with {} workers: {err}", opts.workers))?;
    let mut pooled: [Vec<f64>; 2] = Default::default();
    let mut misses = [0u64; 2];
    let warmup_samples = (opts.latency_samples / 4).max(10);
    for i in 0..opts.warmup + opts.iterations {
        let samples = if i < opts.warmup {
            warmup_samples
        } else {
            opts.latency_samples
        };
        let with = workloads::smp_rt::deadline_lateness(&smp, samples, true);
        let without = workloads::smp_rt::deadline_lateness(&smp, samples, false);
        let (a, b) = (
            stats::nanos(&with.lateness),
            stats::nanos(&without.lateness),
        );
        let show = |v: &[f64]| {
            Summary::of(v).map_or_else(String::new, |s| {
                format!("p99 {:>9}", Unit::Nanos.format(s.p99))
            })
        };
        eprintln!(
            "{}  smp_rt deadline {}  no deadline {}",
            step(name, i, opts),
            show(&a),
            show(&b)
        );
        if i < opts.warmup {
            continue;
        }
        for (slot, (metric, values)) in [("lateness_deadline", a), ("lateness_fifo", b)]
            .into_iter()
            .enumerate()
        {
            results.samples.extend(values.iter().map(|&value| Sample {
                workload: name,
                metric,
                runtime: RuntimeKind::SmpRt,
                iteration: i - opts.warmup,
                value,
                unit: Unit::Nanos,
            }));
            pooled[slot].extend(values);
        }
        misses[0] += with.misses;
        misses[1] += without.misses;
    }
    let figure = |values: &[f64]| {
        Summary::of(values).map_or_else(
            || "no samples".to_owned(),
            |s| {
                format!(
                    "p50 {}, p99 {}, max {}",
                    Unit::Nanos.format(s.p50),
                    Unit::Nanos.format(s.p99),
                    Unit::Nanos.format(s.max)
                )
            },
        )
    };
    results.notes.push(format!(
        "{name} (smp_rt only, deadline vs no deadline; tokio has no deadlines): start after \
         release of periodic Normal tasks, released from outside the runtime, on workers \
         saturated by Normal tasks; with release + half a period as deadline {} ({} misses \
         counted of {} releases); without deadlines {}.",
        figure(&pooled[0]),
        misses[0],
        pooled[0].len(),
        figure(&pooled[1]),
    ));
    Ok(())
}

/// Skips a `wrk` workload when `wrk` is missing: prints a line and adds a
/// note. The installed wrk's version otherwise.
fn wrk_or_skip(name: &str, results: &mut Results) -> Option<String> {
    let version = wrk::version();
    if version.is_none() {
        eprintln!(
            "smp_rt_bench: {name} skipped: `{}` is not installed (Debian: apt-get install wrk)",
            wrk::PROGRAM
        );
        results.notes.push(format!(
            "{name} was skipped: `{}` is not installed.",
            wrk::PROGRAM
        ));
    }
    version
}

fn wrk_load(opts: &Options) -> (wrk::Load, String) {
    let load = wrk::Load {
        connections: opts.wrk_connections,
        duration: opts.wrk_duration,
    };
    let command = format!(
        "{} {}",
        wrk::PROGRAM,
        load.args_for_url("http://127.0.0.1:PORT/").join(" ")
    );
    (load, command)
}

/// `http_wrk`: rounds of `wrk` against the hyper server, smp_rt and tokio
/// alternating, each round on a fresh runtime that is dropped after it.
fn http(opts: &Options, results: &mut Results) -> Result<(), String> {
    let name = Workload::HttpWrk.name();
    let Some(version) = wrk_or_skip(name, results) else {
        return Ok(());
    };
    let (load, command) = wrk_load(opts);
    eprintln!(
        "smp_rt_bench: {name}: {version}; `{command}`, {} round(s) per runtime, about {} s",
        opts.wrk_rounds,
        opts.wrk_rounds * 2 * load.duration.as_secs() as usize
    );
    rounds(
        name,
        opts,
        results,
        "wrk counted socket errors or non-2xx/3xx responses",
        |kind| http_round(kind, opts, &load),
    );
    results.wrk = Some(format!("`{command}` ({version})"));
    Ok(())
}

/// `axum_hello` and `tonic_unary`: rounds against the server program built
/// on the facade and the one built on tokio, alternating, a fresh server
/// process each round. The programs are built on first use; a build that
/// fails fails the workload (the run goes on).
fn stack(
    workload: Workload,
    programs: &mut Option<Result<stacks::Programs, String>>,
    opts: &Options,
    results: &mut Results,
) -> Result<(), String> {
    let name = workload.name();
    let version = match workload {
        Workload::AxumHello => match wrk_or_skip(name, results) {
            Some(version) => Some(version),
            None => return Ok(()),
        },
        _ => None,
    };
    let built = match programs.get_or_insert_with(stacks::build) {
        Ok(built) => built.clone(),
        Err(err) => {
            eprintln!("smp_rt_bench: {name} failed: {err}");
            results.notes.push(format!(
                "{name} failed: its programs could not be built ({err})."
            ));
            return Ok(());
        }
    };
    let seconds = opts.wrk_rounds * 2 * opts.wrk_duration.as_secs() as usize;
    let on = "smp_rt: the server built against the tokio facade; tokio: the same source built against tokio";
    match workload {
        Workload::AxumHello => {
            let version = version.unwrap_or_default();
            let (load, command) = wrk_load(opts);
            eprintln!(
                "smp_rt_bench: {name}: {version}; `{command}`, {} round(s) per runtime, about {seconds} s ({on})",
                opts.wrk_rounds,
            );
            rounds(
                name,
                opts,
                results,
                "wrk counted socket errors or non-2xx/3xx responses",
                |kind| {
                    let server = stacks::Server::start(
                        built.server(stacks::Stack::Axum, kind),
                        opts.workers,
                    )?;
                    let measured = wrk::run(&load, server.addr);
                    server.stop()?;
                    measured
                },
            );
            results.stacks.push(format!(
                "{name}: axum 0.8 `GET /` → `Hello, World!` under `{command}` ({version})"
            ));
        }
        _ => {
            let load = stacks::TonicLoad {
                connections: opts.tonic_connections,
                in_flight: opts.tonic_in_flight,
                duration: opts.wrk_duration,
            };
            eprintln!(
                "smp_rt_bench: {name}: a tonic client on tokio, {} connection(s), {} call(s) in flight, \
                 {} s per round, {} round(s) per runtime, about {seconds} s ({on})",
                load.connections,
                load.in_flight,
                load.duration.as_secs(),
                opts.wrk_rounds,
            );
            rounds(
                name,
                opts,
                results,
                "calls failed or got another reply",
                |kind| {
                    let server = stacks::Server::start(
                        built.server(stacks::Stack::Tonic, kind),
                        opts.workers,
                    )?;
                    let measured = stacks::run_tonic_load(&built.tonic_load, &load, server.addr);
                    server.stop()?;
                    measured
                },
            );
            results.stacks.push(format!(
                "{name}: tonic 0.14 unary `SayHello` under a tonic client on tokio (one thread, \
                 {} HTTP/2 connection(s), {} call(s) in flight, {} s)",
                load.connections,
                load.in_flight,
                load.duration.as_secs()
            ));
        }
    }
    Ok(())
}

/// `redis_benchmark`: see [`redis::run_rounds`].
fn redis_benchmark(opts: &Options, results: &mut Results) {
    let outcome = redis::run_rounds(opts);
    results.rows.extend(outcome.rows);
    results.samples.extend(outcome.samples);
    results.notes.extend(outcome.notes);
    results.redis = outcome.method;
}

/// `opts.wrk_rounds` rounds of `round` on each runtime, smp_rt then tokio
/// in each round: a progress line per round, the figures of every round as
/// samples, and rows of the medians of the rounds' p50, p99 and requests
/// per second. `errors_are` says what a nonzero [`wrk::Measured::errors`]
/// counted, for the note.
fn rounds(
    name: &'static str,
    opts: &Options,
    results: &mut Results,
    errors_are: &str,
    mut round: impl FnMut(RuntimeKind) -> Result<wrk::Measured, String>,
) {
    let mut rounds: [Vec<wrk::Measured>; 2] = Default::default();
    let mut errors = [0u64; 2];
    for index in 0..opts.wrk_rounds {
        let tag = format!("{}/{}", index + 1, opts.wrk_rounds);
        let mut line = format!("{name:<24} {tag:>12}");
        for (slot, kind) in RuntimeKind::ALL.into_iter().enumerate() {
            let m = match round(kind) {
                Ok(m) => m,
                Err(err) => {
                    line.push_str(&format!("  {} failed", kind.name()));
                    eprintln!("smp_rt_bench: {name} on {}: {err}", kind.name());
                    continue;
                }
            };
            line.push_str(&format!(
                "  {} {:>12} p50 {:>8} p99 {:>8}",
                kind.name(),
                Unit::RequestsPerSec.format(m.requests_per_sec),
                Unit::Nanos.format(m.p50),
                Unit::Nanos.format(m.p99)
            ));
            if m.errors > 0 {
                line.push_str(&format!(" ({} errors)", m.errors));
            }
            errors[slot] += m.errors;
            let figures = [
                ("requests_per_sec", Unit::RequestsPerSec, m.requests_per_sec),
                ("latency_p50", Unit::Nanos, m.p50),
                ("latency_p75", Unit::Nanos, m.p75),
                ("latency_p90", Unit::Nanos, m.p90),
                ("latency_p99", Unit::Nanos, m.p99),
            ];
            results
                .samples
                .extend(figures.into_iter().map(|(metric, unit, value)| Sample {
                    workload: name,
                    metric,
                    runtime: kind,
                    iteration: index,
                    value,
                    unit,
                }));
            rounds[slot].push(m);
        }
        eprintln!("{line}");
    }
    let median = |slot: usize, pick: fn(&wrk::Measured) -> f64| {
        stats::median(&rounds[slot].iter().map(pick).collect::<Vec<_>>())
    };
    for (label, unit, pick) in [
        (
            "p50",
            Unit::Nanos,
            (|m: &wrk::Measured| m.p50) as fn(&wrk::Measured) -> f64,
        ),
        ("p99", Unit::Nanos, |m| m.p99),
        ("req/s", Unit::RequestsPerSec, |m| m.requests_per_sec),
    ] {
        results.rows.push(Row {
            label: format!("{name} {label}"),
            unit,
            smp_rt: median(0, pick),
            tokio: median(1, pick),
        });
    }
    if errors.iter().any(|&e| e > 0) {
        results.notes.push(format!(
            "{name}: {errors_are}: {} on smp_rt, {} on tokio.",
            errors[0], errors[1]
        ));
    }
}

/// One `http_wrk` round on `kind`: a fresh runtime, the server, one wrk run.
fn http_round(
    kind: RuntimeKind,
    opts: &Options,
    load: &wrk::Load,
) -> Result<wrk::Measured, String> {
    let started = |err: std::io::Error| {
        format!(
            "cannot start {} with {} workers: {err}",
            kind.name(),
            opts.workers
        )
    };
    let served = |err: std::io::Error| format!("the server failed: {err}");
    let run = |addr| wrk::run(load, addr);
    match kind {
        RuntimeKind::SmpRt => {
            let rt = runtimes::smp_rt(opts.workers).map_err(started)?;
            workloads::smp_rt::http_server(&rt, run).map_err(served)?
        }
        RuntimeKind::Tokio => {
            let rt = runtimes::tokio(opts.workers).map_err(started)?;
            workloads::tokio::http_server(&rt, run).map_err(served)?
        }
    }
}

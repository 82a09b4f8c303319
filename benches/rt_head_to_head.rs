//! smp_rt against tokio under criterion: every workload of the runner but
//! `http_wrk` (which needs `wrk`; the runner has it), `deadline_lateness`
//! (smp_rt only), `parked_patterns` and `combinator_sizes` (the runner's
//! table has them).
//!
//! One group per workload, with `smp_rt` and `tokio` as its two functions,
//! both runtimes on the same number of workers (`SMP_RT_BENCH_WORKERS`,
//! default: available CPUs). The workloads are those of
//! `smp_rt_bench::workloads`:
//!
//! * the timed ones (tokio's reference set, `generic_yield`,
//!   `foreign_ping_pong`, `timers`, `tcp_echo`): each iteration is one run
//!   of the workload, timed by the workload itself;
//! * `parked_tasks`: each iteration parks a million tasks in a fresh child
//!   process (this bench re-executed, as the runner does), and is the time
//!   of the spawn loop (throughput: tasks);
//! * `parked_tasks_memory`: the same runs, measured in resident bytes per
//!   parked task (a measurement of its own, `B/task`);
//! * `priority_latency`: each iteration is one wake-to-run time of a `High`
//!   task while every worker is busy with `Normal` tasks that only charge
//!   reductions (tokio: a plain task among plain tasks), so the figure is
//!   the mean; the runner reports the p50, p99 and maximum.
//!
//! ```sh
//! cargo bench --bench rt_head_to_head              # about two minutes
//! cargo bench --bench rt_head_to_head -- --quick   # shorter on steady timings
//! cargo bench --bench rt_head_to_head -- ping_pong # one group
//! ```

use std::process::ExitCode;
use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{Criterion, SamplingMode, Throughput};
use smp_rt_bench::child::{self, PARKED_CHILD};
use smp_rt_bench::cli::{self, Command};
use smp_rt_bench::runtimes::{self, RuntimeKind};
use smp_rt_bench::workloads::{self, PARKED_TASKS, TIMED, Workload};

fn workers() -> usize {
    std::env::var("SMP_RT_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(runtimes::default_workers)
}

fn timed_workloads(
    c: &mut Criterion,
    smp: &smp_rt::runtime::Runtime,
    tok: &tokio::runtime::Runtime,
) {
    for timed in TIMED {
        let mut group = c.benchmark_group(timed.workload.name());
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1500));
        group.bench_function("smp_rt", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| (timed.smp_rt)(smp)).sum())
        });
        group.bench_function("tokio", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| (timed.tokio)(tok)).sum())
        });
        group.finish();
    }
}

fn priority_latency(
    c: &mut Criterion,
    smp: &smp_rt::runtime::Runtime,
    tok: &tokio::runtime::Runtime,
) {
    let mut group = c.benchmark_group(Workload::PriorityLatency.name());
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_millis(1500));
    group.bench_function("smp_rt", |b| {
        b.iter_custom(|iters| {
            workloads::smp_rt::priority_latency(smp, iters as usize)
                .iter()
                .sum()
        })
    });
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| {
            workloads::tokio::priority_latency(tok, iters as usize)
                .iter()
                .sum()
        })
    });
    group.finish();
}

/// One `parked_tasks` run of `PARKED_TASKS` tasks in a child process.
fn parked_run(kind: RuntimeKind, workers: usize) -> workloads::Parked {
    let command = child::this_program().unwrap_or_else(|err| panic!("parked_tasks: {err}"));
    child::run_parked(&command, kind, workers, PARKED_TASKS)
        .unwrap_or_else(|err| panic!("parked_tasks on {}: {err}", kind.name()))
}

/// Flat sampling, one or two child runs per sample: a run takes a quarter
/// to two thirds of a second here.
fn parked_group_settings<M: Measurement>(group: &mut criterion::BenchmarkGroup<'_, M>) {
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(Duration::from_secs(9));
}

fn parked_spawn(c: &mut Criterion, workers: usize) {
    let mut group = c.benchmark_group(Workload::ParkedTasks.name());
    parked_group_settings(&mut group);
    group.throughput(Throughput::Elements(PARKED_TASKS as u64));
    for kind in RuntimeKind::ALL {
        group.bench_function(kind.name(), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| parked_run(kind, workers).spawn).sum())
        });
    }
    group.finish();
}

fn parked_memory(c: &mut Criterion<BytesPerTask>, workers: usize) {
    let mut group = c.benchmark_group(format!("{}_memory", Workload::ParkedTasks.name()));
    parked_group_settings(&mut group);
    for kind in RuntimeKind::ALL {
        group.bench_function(kind.name(), |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| {
                        parked_run(kind, workers)
                            .bytes_per_task()
                            .unwrap_or_else(|| {
                                panic!("parked_tasks_memory: /proc/self/statm cannot be read here")
                            })
                    })
                    .sum()
            })
        });
    }
    group.finish();
}

/// Resident bytes per parked task, as a criterion measurement. Only
/// `iter_custom` feeds it (the child process measures); `start`/`end`
/// measure nothing.
struct BytesPerTask;

impl Measurement for BytesPerTask {
    type Intermediate = ();
    type Value = f64;

    fn start(&self) {}

    fn end(&self, (): ()) -> f64 {
        0.0
    }

    fn add(&self, v1: &f64, v2: &f64) -> f64 {
        v1 + v2
    }

    fn zero(&self) -> f64 {
        0.0
    }

    fn to_f64(&self, value: &f64) -> f64 {
        *value
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self
    }
}

impl ValueFormatter for BytesPerTask {
    fn scale_values(&self, _typical: f64, _values: &mut [f64]) -> &'static str {
        "B/task"
    }

    fn scale_throughputs(
        &self,
        _typical: f64,
        _throughput: &Throughput,
        _values: &mut [f64],
    ) -> &'static str {
        // No throughput is set on the memory group.
        "B/task"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "B/task"
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(PARKED_CHILD) {
        // A `parked_tasks` child of this bench (see `parked_run`).
        return match cli::parse(&args) {
            Ok(Command::ParkedChild {
                runtime,
                workers,
                count,
            }) => child::serve_parked(runtime, workers, count),
            _ => {
                eprintln!("rt_head_to_head: bad child arguments: {args:?}");
                ExitCode::FAILURE
            }
        };
    }
    let workers = workers();
    let smp = runtimes::smp_rt(workers).expect("smp_rt runtime");
    let tok = runtimes::tokio(workers).expect("tokio runtime");
    let mut c = Criterion::default().configure_from_args();
    timed_workloads(&mut c, &smp, &tok);
    priority_latency(&mut c, &smp, &tok);
    drop((smp, tok));
    parked_spawn(&mut c, workers);
    let mut bytes = Criterion::default()
        .with_measurement(BytesPerTask)
        .configure_from_args();
    parked_memory(&mut bytes, workers);
    c.final_summary();
    ExitCode::SUCCESS
}

//! smp_rt against tokio on the timed workloads (tokio's reference set,
//! `timers` and `tcp_echo`), under criterion.
//!
//! One group per workload, with `smp_rt` and `tokio` as its two functions,
//! both runtimes on the same number of workers (`SMP_RT_BENCH_WORKERS`,
//! default: available CPUs). The workloads are those of
//! `smp_rt_bench::workloads`; each iteration is one run of the workload,
//! timed by the workload itself.
//!
//! ```sh
//! cargo bench --bench rt_head_to_head              # about a minute
//! cargo bench --bench rt_head_to_head -- --quick   # a few seconds per group
//! cargo bench --bench rt_head_to_head -- ping_pong # one group
//! ```

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use smp_rt_bench::runtimes;
use smp_rt_bench::workloads::TIMED;

fn workers() -> usize {
    std::env::var("SMP_RT_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(runtimes::default_workers)
}

fn head_to_head(c: &mut Criterion) {
    let workers = workers();
    let smp = runtimes::smp_rt(workers).expect("smp_rt runtime");
    let tok = runtimes::tokio(workers).expect("tokio runtime");
    for timed in TIMED {
        let mut group = c.benchmark_group(timed.workload.name());
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(300))
            .measurement_time(Duration::from_millis(1500));
        group.bench_function("smp_rt", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| (timed.smp_rt)(&smp)).sum())
        });
        group.bench_function("tokio", |b| {
            b.iter_custom(|iters| (0..iters).map(|_| (timed.tokio)(&tok)).sum())
        });
        group.finish();
    }
}

criterion_group!(benches, head_to_head);
criterion_main!(benches);

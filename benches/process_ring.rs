//! smp_rt processes against tokio tasks joined by `tokio::sync::mpsc`
//! unbounded channels, on two message-passing workloads, under criterion.
//!
//! * `process_round_trip`: two processes pass a message back and forth
//!   10,000 times (`ROUND_TRIPS`); the tokio version is two tasks with a
//!   pair of unbounded channels. Each iteration spawns both, times the
//!   exchange alone (from the first send to the last reply) and waits for
//!   both to end. The throughput is in round trips.
//! * `process_ring`: a ring of 10,000 processes (`RING_SIZE`; tokio: tasks,
//!   each with its own unbounded receiver and the next one's sender) passes
//!   a token around 10 times (`LAPS`), 100,000 hops. `full` times the whole
//!   run from the main thread: spawning the ring, every hop, and waiting for
//!   the head of the ring to end. `pass` times the laps alone, on a ring
//!   that is already built and has carried the token once. The throughput
//!   is in hops.
//!
//! Nothing outlives its iteration: every process and task handles a known
//! number of messages and returns, and each iteration waits for the one
//! that receives last. Each group builds one runtime of each kind, both
//! with the same number of workers (`SMP_RT_BENCH_WORKERS`, default:
//! available CPUs); the workloads run in processes or spawned tasks, never
//! in the `block_on` future itself.
//!
//! ```sh
//! cargo bench --bench process_ring                 # about a minute
//! cargo bench --bench process_ring -- --quick      # shorter on steady timings
//! cargo bench --bench process_ring -- round_trip   # one group
//! SMP_RT_BENCH_WORKERS=1 cargo bench --bench process_ring
//! ```

use std::hint::black_box;
use std::num::NonZeroUsize;
use std::thread;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use smp_rt::process::{self, Mailbox};

/// Round trips per iteration of `process_round_trip`.
const ROUND_TRIPS: u64 = 10_000;
/// Processes (or tasks) in the ring, its head included.
const RING_SIZE: u64 = 10_000;
/// Times the token goes around the ring per iteration of `process_ring`.
const LAPS: u64 = 10;

fn workers() -> usize {
    std::env::var("SMP_RT_BENCH_WORKERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| thread::available_parallelism().map_or(1, NonZeroUsize::get))
}

fn smp_rt_runtime(workers: usize) -> smp_rt::runtime::Runtime {
    smp_rt::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("smp-rt-bench")
        .enable_all()
        .build()
        .expect("smp_rt runtime")
}

fn tokio_runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("tokio-bench")
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// One ping-pong run on smp_rt: the time of the exchange alone.
fn smp_rt_round_trip(rt: &smp_rt::runtime::Runtime) -> Duration {
    rt.block_on(async {
        let (tx, rx) = smp_rt::sync::oneshot::channel();
        let (_pinger, pinger_down) =
            process::spawn_monitor(move |mut mbox: Mailbox<u64>| async move {
                let me = mbox.pid();
                let (ponger, ponger_down) =
                    process::spawn_monitor(move |mut mbox: Mailbox<u64>| async move {
                        for _ in 0..ROUND_TRIPS {
                            let n = mbox.recv().await;
                            me.send(n + 1).expect("pinger alive");
                        }
                    });
                let start = Instant::now();
                let mut n = 0;
                for _ in 0..ROUND_TRIPS {
                    ponger.send(n).expect("ponger alive");
                    n = mbox.recv().await;
                }
                let elapsed = start.elapsed();
                assert_eq!(black_box(n), ROUND_TRIPS);
                ponger_down.await;
                let _ = tx.send(elapsed);
            });
        let elapsed = rx.await.expect("pinger reports");
        pinger_down.await;
        elapsed
    })
}

/// One ping-pong run on tokio: the time of the exchange alone.
fn tokio_round_trip(rt: &tokio::runtime::Runtime) -> Duration {
    rt.block_on(async {
        tokio::spawn(async {
            let (to_ponger, mut ponger_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
            let (to_pinger, mut pinger_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
            let ponger = tokio::spawn(async move {
                for _ in 0..ROUND_TRIPS {
                    let n = ponger_rx.recv().await.expect("pinger alive");
                    to_pinger.send(n + 1).expect("pinger alive");
                }
            });
            let start = Instant::now();
            let mut n = 0;
            for _ in 0..ROUND_TRIPS {
                to_ponger.send(n).expect("ponger alive");
                n = pinger_rx.recv().await.expect("ponger alive");
            }
            let elapsed = start.elapsed();
            assert_eq!(black_box(n), ROUND_TRIPS);
            ponger.await.expect("ponger ends");
            elapsed
        })
        .await
        .expect("pinger ends")
    })
}

/// The times of one ring run: the whole run, and the timed laps alone.
struct RingTimes {
    full: Duration,
    pass: Duration,
}

/// One ring run on smp_rt.
///
/// The head spawns the other `RING_SIZE - 1` processes, each of which
/// forwards the token `visits` times and ends. With `warm_up`, the token
/// goes around once before the timed laps.
fn smp_rt_ring(rt: &smp_rt::runtime::Runtime, warm_up: bool) -> RingTimes {
    let visits = LAPS + u64::from(warm_up);
    let start = Instant::now();
    let pass = rt.block_on(async move {
        let (tx, rx) = smp_rt::sync::oneshot::channel();
        let (_head, head_down) = process::spawn_monitor(move |mut mbox: Mailbox<u64>| async move {
            let mut next = mbox.pid();
            for _ in 1..RING_SIZE {
                let to = next;
                next = process::spawn(move |mut mbox: Mailbox<u64>| async move {
                    for _ in 0..visits {
                        let hops = mbox.recv().await;
                        to.send(hops + 1).expect("next process alive");
                    }
                });
            }
            if warm_up {
                next.send(0).expect("ring alive");
                mbox.recv().await;
            }
            let start = Instant::now();
            let mut hops = 0;
            for _ in 0..LAPS {
                next.send(hops).expect("ring alive");
                hops = mbox.recv().await + 1;
            }
            let pass = start.elapsed();
            assert_eq!(black_box(hops), LAPS * RING_SIZE);
            let _ = tx.send(pass);
        });
        let pass = rx.await.expect("head reports");
        head_down.await;
        pass
    });
    RingTimes {
        full: start.elapsed(),
        pass,
    }
}

/// One ring run on tokio, the same as [`smp_rt_ring`] with tasks.
fn tokio_ring(rt: &tokio::runtime::Runtime, warm_up: bool) -> RingTimes {
    let visits = LAPS + u64::from(warm_up);
    let start = Instant::now();
    let pass = rt.block_on(async move {
        tokio::spawn(async move {
            let (mut next, mut head_rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
            for _ in 1..RING_SIZE {
                let to = next;
                let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<u64>();
                tokio::spawn(async move {
                    for _ in 0..visits {
                        let hops = rx.recv().await.expect("previous task alive");
                        to.send(hops + 1).expect("next task alive");
                    }
                });
                next = tx;
            }
            if warm_up {
                next.send(0).expect("ring alive");
                head_rx.recv().await.expect("ring alive");
            }
            let start = Instant::now();
            let mut hops = 0;
            for _ in 0..LAPS {
                next.send(hops).expect("ring alive");
                hops = head_rx.recv().await.expect("ring alive") + 1;
            }
            let pass = start.elapsed();
            assert_eq!(black_box(hops), LAPS * RING_SIZE);
            pass
        })
        .await
        .expect("head ends")
    });
    RingTimes {
        full: start.elapsed(),
        pass,
    }
}

fn round_trip(c: &mut Criterion) {
    let workers = workers();
    let smp = smp_rt_runtime(workers);
    let tok = tokio_runtime(workers);
    let mut group = c.benchmark_group("process_round_trip");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(ROUND_TRIPS));
    group.bench_function("smp_rt", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| smp_rt_round_trip(&smp)).sum())
    });
    group.bench_function("tokio", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| tokio_round_trip(&tok)).sum())
    });
    group.finish();
}

fn ring(c: &mut Criterion) {
    let workers = workers();
    let smp = smp_rt_runtime(workers);
    let tok = tokio_runtime(workers);
    let mut group = c.benchmark_group("process_ring");
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(LAPS * RING_SIZE));
    group.bench_function("smp_rt/full", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| smp_rt_ring(&smp, false).full).sum())
    });
    group.bench_function("tokio/full", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| tokio_ring(&tok, false).full).sum())
    });
    group.bench_function("smp_rt/pass", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| smp_rt_ring(&smp, true).pass).sum())
    });
    group.bench_function("tokio/pass", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| tokio_ring(&tok, true).pass).sum())
    });
    group.finish();
}

criterion_group!(benches, round_trip, ring);
criterion_main!(benches);

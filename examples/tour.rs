//! A short tour of what BEAM scheduling means in smp_rt.
//!
//! Run it with `cargo run --release --example tour`.
//!
//! 1. Four priorities: on one worker, `Max` and `High` run first, strictly;
//!    `Low` is interleaved with `Normal` (passed over at most 8 times).
//! 2. Reductions: a CPU-bound task that awaits `consume_budget` is cut into
//!    slices, and a latecomer runs between two of its slices.
//! 3. Stealing: one task floods its own worker; the idle workers steal.
//! 4. The runtime's metrics.
//! 5. Observability as BEAM shows it: per worker, steal attempts beside
//!    steals, tasks migrated and idle time; per named task, the time spent
//!    polling it (`Builder::enable_task_poll_time`); runtime-wide, the
//!    tasks queued now, their high water mark and the cancelled tasks.
//! 6. A poll that never yields: the watchdog names it, says which task
//!    each worker is running, and the work queued behind it runs on the
//!    other worker meanwhile.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use smp_rt::runtime::{Builder, RuntimeMetrics};
use smp_rt::task::{self, Priority};

fn main() {
    priorities();
    reductions();
    stealing();
    observability();
    watchdog();
}

/// Part 1: spawn tasks of each priority on a single worker and print the
/// order in which they ran.
fn priorities() {
    println!("1. Priorities (one worker; tasks spawned Low first, Max last)");
    let rt = Builder::new_current_thread().build().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let mut handles = Vec::new();
        for priority in [
            Priority::Low,
            Priority::Normal,
            Priority::High,
            Priority::Max,
        ] {
            for i in 0..if priority == Priority::Normal { 12 } else { 3 } {
                let order = order.clone();
                let label = format!("{}{i}", &priority.as_str()[..1].to_uppercase());
                handles.push(task::spawn_with_priority(priority, async move {
                    order.lock().unwrap().push(label);
                }));
            }
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    println!("   ran: {}", order.lock().unwrap().join(" "));
    println!("   Max and High first; each Low after at most 8 Normal.\n");
}

/// Part 2: a busy task on one worker with a 500-reduction slice; a task
/// spawned after it still runs long before it finishes.
fn reductions() {
    println!("2. Reductions (one worker, 500 reductions per slice)");
    let rt = Builder::new_current_thread()
        .reductions(500)
        .build()
        .unwrap();
    rt.block_on(async {
        let start = Instant::now();
        let busy = smp_rt::spawn(async move {
            let mut x = 0u64;
            for i in 0..2_000_000u64 {
                x = x.wrapping_mul(31).wrapping_add(i);
                task::consume_budget().await; // a preemption point: 1 reduction
            }
            (x, start.elapsed(), task::stats())
        });
        let latecomer = smp_rt::spawn(async move { start.elapsed() });
        let latecomer_ran_at = latecomer.await.unwrap();
        let (_, busy_done_at, stats) = busy.await.unwrap();
        println!(
            "   the busy task was preempted {} times over {} polls ({} reductions)",
            stats.preemptions, stats.polls, stats.reductions
        );
        println!(
            "   the latecomer ran after {:?}; the busy task finished after {:?}\n",
            latecomer_ran_at, busy_done_at
        );
    });
}

/// Part 3: one task spawns 200 tasks onto its own worker; each does a
/// little blocking work, so idle workers steal to help.
fn stealing() {
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
    println!("3. Stealing ({workers} workers; one task spawns 200 tasks on its own worker)");
    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap();
    let ran_on = Arc::new(Mutex::new(vec![0usize; workers]));
    let r = ran_on.clone();
    rt.block_on(async move {
        smp_rt::spawn(async move {
            let handles: Vec<_> = (0..200)
                .map(|_| {
                    let r = r.clone();
                    smp_rt::spawn(async move {
                        std::thread::sleep(Duration::from_micros(200));
                        let name = std::thread::current().name().unwrap_or("").to_string();
                        if let Some(w) = name
                            .rsplit('-')
                            .next()
                            .and_then(|w| w.parse::<usize>().ok())
                        {
                            r.lock().unwrap()[w] += 1;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        })
        .await
        .unwrap();
    });
    println!("   tasks run per worker: {:?}\n", ran_on.lock().unwrap());
    print_metrics(&rt.metrics());
}

/// Part 4: what the runtime counted.
fn print_metrics(m: &RuntimeMetrics) {
    println!("4. Metrics");
    println!(
        "   spawned {} tasks, {} alive",
        m.spawned_tasks_count(),
        m.num_alive_tasks()
    );
    println!("   worker    polls  steals  parks  preemptions  busy");
    for w in 0..m.num_workers() {
        println!(
            "   {w:>6} {:>8} {:>7} {:>6} {:>12}  {:?}",
            m.worker_poll_count(w),
            m.worker_steal_count(w),
            m.worker_park_count(w),
            m.worker_preempt_count(w),
            m.worker_total_busy_duration(w),
        );
    }
}

/// Part 5: a runtime built with per-task poll time. Two named tasks stay
/// alive while a flood of short blocking tasks on one worker makes the
/// other steal; then the metrics say where the scheduler moved work, where
/// each worker's time went, and how long each named task was polled.
fn observability() {
    println!("\n5. Observability (2 workers, per-task poll time on)");
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_task_poll_time()
        .build()
        .unwrap();
    rt.block_on(async {
        // Released (by dropping the senders) once the metrics are read: a
        // task's poll time is kept while it is alive.
        let (cruncher_release, cruncher_wait) = smp_rt::sync::oneshot::channel::<()>();
        let (napper_release, napper_wait) = smp_rt::sync::oneshot::channel::<()>();
        let (crunched, crunching) = smp_rt::sync::oneshot::channel::<()>();
        let cruncher = task::Builder::new()
            .name("cruncher")
            .spawn(async move {
                let mut x = 0u64;
                for i in 0..1_000_000u64 {
                    x = x.wrapping_mul(31).wrapping_add(i);
                    task::consume_budget().await;
                }
                let _ = crunched.send(());
                let _ = cruncher_wait.await;
                x
            })
            .unwrap();
        let napper = task::Builder::new()
            .name("napper")
            .spawn(async move {
                for _ in 0..10 {
                    smp_rt::time::sleep(Duration::from_millis(1)).await;
                }
                let _ = napper_wait.await;
            })
            .unwrap();
        // The imbalance: 100 short blocking tasks queued on one worker.
        smp_rt::spawn(async {
            let handles: Vec<_> = (0..100)
                .map(|_| {
                    smp_rt::spawn(async {
                        std::thread::sleep(Duration::from_micros(200));
                    })
                })
                .collect();
            for h in handles {
                h.await.unwrap();
            }
        })
        .await
        .unwrap();
        let _ = crunching.await;

        let m = smp_rt::runtime::Handle::current().metrics();
        println!("   worker  steal attempts  steals  migrated  idle          busy");
        for w in 0..m.num_workers() {
            println!(
                "   {w:>6} {:>15} {:>7} {:>9}  {:<12}  {:?}",
                m.worker_steal_attempts(w),
                m.worker_steal_count(w),
                m.worker_migrated_count(w),
                format!("{:?}", m.worker_total_idle_duration(w)),
                m.worker_total_busy_duration(w),
            );
        }
        println!("   task        id      time polled");
        for (id, name) in m.named_tasks() {
            let polled = m.task_poll_time(id).unwrap_or_default();
            println!("   {name:<10} {id:>8}  {polled:?}");
        }
        // An aborted task, for the runtime-wide count of cancellations.
        let doomed = smp_rt::spawn(std::future::pending::<()>());
        doomed.abort();
        let _ = doomed.await;
        println!(
            "   runtime: {} tasks queued now (high water mark {}), {} cancelled",
            m.queued_tasks(),
            m.queued_tasks_high_water_mark(),
            m.cancelled_tasks_count(),
        );

        drop((cruncher_release, napper_release));
        cruncher.await.unwrap();
        napper.await.unwrap();
    });
    println!("   the cruncher was polled far longer than the napper, which mostly slept.");
}

/// Part 6: a named task blocks its worker for 100 ms with a watchdog
/// threshold of 20 ms. While it blocks, the block_on thread asks each
/// worker what it is running, and the work queued behind the blocker runs
/// on the other worker.
fn watchdog() {
    println!("\n6. A poll that never yields (2 workers, long_poll_threshold 20 ms)");
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .long_poll_threshold(Duration::from_millis(20))
        .build()
        .unwrap();
    let m = rt.metrics();
    rt.block_on(async move {
        let (blocking, started) = smp_rt::sync::oneshot::channel::<()>();
        let done_in_blocker = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let blocker = task::Builder::new()
            .name("blocker")
            .spawn(async move {
                // Queued behind the blocking poll, on this worker.
                for _ in 0..50 {
                    let done = done_in_blocker.clone();
                    smp_rt::spawn(async move {
                        done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    });
                }
                let _ = blocking.send(());
                std::thread::sleep(Duration::from_millis(100));
                done_in_blocker.load(std::sync::atomic::Ordering::Relaxed)
            })
            .unwrap();
        let _ = started.await;
        smp_rt::time::sleep(Duration::from_millis(50)).await;
        for w in 0..m.num_workers() {
            match m.worker_current_task(w) {
                Some(t) => println!(
                    "   worker {w} is polling {} ({:?}, {:?}) for at least {:?}",
                    t.name.as_deref().unwrap_or("an unnamed task"),
                    t.id,
                    t.priority,
                    t.running_for,
                ),
                None => println!("   worker {w} is between polls"),
            }
        }
        let ran_meanwhile = blocker.await.unwrap();
        println!(
            "   {ran_meanwhile} of the 50 tasks queued behind the blocker ran while it blocked"
        );
        let long: u64 = (0..m.num_workers())
            .map(|w| m.worker_long_poll_count(w))
            .sum();
        println!("   long polls counted: {long} (a `tracing` subscriber would also get a warning naming the blocker)");
    });
}

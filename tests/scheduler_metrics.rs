//! The scheduler's own metrics: steal attempts beside steals, migrated
//! tasks, idle time per worker, and per-task poll time (opt-in).

use std::collections::HashSet;
use std::hint::black_box;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smp_rt::runtime::{Builder, Handle, Runtime, RuntimeMetrics};
use smp_rt::task;

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// One task spawns 64 children onto its own worker's queue; each child
/// blocks its thread briefly, so an idle sibling must steal to help.
/// Returns the threads that ran children.
fn imbalanced_load(rt: &Runtime) -> usize {
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let t = threads.clone();
    rt.block_on(async move {
        smp_rt::spawn(async move {
            let handles: Vec<_> = (0..64)
                .map(|_| {
                    let t = t.clone();
                    smp_rt::spawn(async move {
                        std::thread::sleep(Duration::from_millis(2));
                        t.lock().unwrap().insert(std::thread::current().id());
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
    threads.lock().unwrap().len()
}

fn per_worker(m: &RuntimeMetrics, f: impl Fn(&RuntimeMetrics, usize) -> u64) -> Vec<u64> {
    (0..m.num_workers()).map(|w| f(m, w)).collect()
}

#[test]
fn steal_attempts_are_counted_beside_the_steals_they_bound() {
    let rt = multi_thread(2);
    assert_eq!(imbalanced_load(&rt), 2, "both workers ran children");
    let m = rt.metrics();
    let attempts = per_worker(&m, RuntimeMetrics::worker_steal_attempts);
    let steals = per_worker(&m, RuntimeMetrics::worker_steal_count);
    assert!(
        steals.iter().sum::<u64>() > 0,
        "no worker stole: {steals:?}"
    );
    for w in 0..2 {
        assert!(
            attempts[w] >= steals[w],
            "worker {w}: {} attempts, {} steals",
            attempts[w],
            steals[w]
        );
    }
}

#[test]
fn a_stolen_task_is_counted_as_migrated_by_its_thief() {
    let rt = multi_thread(2);
    imbalanced_load(&rt);
    let m = rt.metrics();
    let steals = per_worker(&m, RuntimeMetrics::worker_steal_count);
    let migrated = per_worker(&m, RuntimeMetrics::worker_migrated_count);
    // A steal hands the thief a task to run at once, which it polls as a
    // task queued on another worker.
    for w in 0..2 {
        if steals[w] > 0 {
            assert!(
                migrated[w] > 0,
                "worker {w} stole {} times but migrated nothing",
                steals[w]
            );
        }
    }
    assert!(migrated.iter().sum::<u64>() > 0, "{migrated:?}");
}

#[test]
fn a_single_worker_neither_steals_nor_migrates() {
    let rt = multi_thread(1);
    imbalanced_load(&rt);
    let m = rt.metrics();
    assert!(m.worker_poll_count(0) >= 65);
    assert_eq!(m.worker_steal_attempts(0), 0);
    assert_eq!(m.worker_migrated_count(0), 0);
}

#[test]
fn idle_time_is_added_when_a_park_ends() {
    let rt = multi_thread(2);
    let m = rt.metrics();
    // Both workers run out of work at start and park.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while (0..2).any(|w| m.worker_park_count(w) == 0) {
        assert!(std::time::Instant::now() < deadline, "workers never parked");
        std::thread::sleep(Duration::from_millis(1));
    }
    // Waking a worker with a task ends its park, and with it an idle
    // period; dropping the runtime ends the other's.
    rt.block_on(rt.spawn(async {})).unwrap();
    drop(rt);
    for w in 0..2 {
        assert!(
            m.worker_total_idle_duration(w) > Duration::ZERO,
            "worker {w} parked but counted no idle time"
        );
    }
}

/// Spins for a while without yielding: a poll that takes measurable time.
fn spin() -> u64 {
    (0..200_000u64).fold(0, |acc, i| black_box(acc.wrapping_mul(31).wrapping_add(i)))
}

fn timed_runtime() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(1)
        .enable_task_poll_time()
        .build()
        .unwrap()
}

#[test]
fn a_task_that_spins_has_poll_time() {
    let rt = timed_runtime();
    let (seen, id, outside) = rt.block_on(async {
        let (tx, rx) = smp_rt::sync::oneshot::channel();
        let handle = task::Builder::new()
            .name("spinner")
            .spawn(async move {
                black_box(spin());
                task::yield_now().await;
                // The first poll has ended: its time is counted.
                let seen = Handle::current().metrics().task_poll_time(task::id());
                tx.send(seen).unwrap();
                std::future::pending::<()>().await;
            })
            .unwrap();
        let seen = rx.await.unwrap();
        let outside = Handle::current().metrics().task_poll_time(handle.id());
        (seen, handle.id(), outside)
    });
    let seen = seen.expect("a live task that was polled has a poll time");
    assert!(seen > Duration::ZERO);
    // Read from outside the task, it includes at least the same polls.
    let outside = outside.expect("the task is live");
    assert!(outside >= seen, "{outside:?} < {seen:?}");
    assert_eq!(rt.metrics().named_tasks()[0].0, id);
}

#[test]
fn a_finished_task_has_no_poll_time() {
    let rt = timed_runtime();
    rt.block_on(async {
        let handle = smp_rt::spawn(async {
            black_box(spin());
            task::yield_now().await;
            black_box(spin());
        });
        let id = handle.id();
        handle.await.unwrap();
        // Removed before the output was published.
        assert_eq!(Handle::current().metrics().task_poll_time(id), None);
    });
}

#[test]
fn without_the_option_no_poll_is_timed() {
    let rt = multi_thread(1);
    let seen = rt.block_on(async {
        smp_rt::spawn(async {
            black_box(spin());
            task::yield_now().await;
            Handle::current().metrics().task_poll_time(task::id())
        })
        .await
        .unwrap()
    });
    assert_eq!(seen, None);
}

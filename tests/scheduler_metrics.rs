//! The scheduler's own metrics: steal attempts beside steals, migrated
//! tasks, idle time per worker, and per-task poll time (opt-in).

use std::hint::black_box;
use std::time::Duration;

use smp_rt::runtime::{Builder, Handle, Runtime, RuntimeMetrics};
use smp_rt::task;

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// One task spawns 64 children and awaits them.
fn spawn_and_await_children(rt: &Runtime) {
    rt.block_on(async {
        smp_rt::spawn(async {
            let handles: Vec<_> = (0..64).map(|i| smp_rt::spawn(async move { i })).collect();
            for h in handles {
                h.await.unwrap();
            }
        })
        .await
        .unwrap();
    });
}

fn per_worker(m: &RuntimeMetrics, f: impl Fn(&RuntimeMetrics, usize) -> u64) -> Vec<u64> {
    (0..m.num_workers()).map(|w| f(m, w)).collect()
}

/// Children queued on one worker whose thread then blocks: each child
/// can only be run by the sibling, which takes them from the blocked
/// worker's queues (a steal, the first time: it is idle and searching).
const CHILDREN: usize = 16;

fn children_of_a_blocked_parent(rt: &Runtime) {
    let parent = rt.spawn(async {
        let (ran_tx, ran_rx) = std::sync::mpsc::channel();
        let children: Vec<_> = (0..CHILDREN)
            .map(|_| {
                let ran_tx = ran_tx.clone();
                smp_rt::spawn(async move { ran_tx.send(()).unwrap() })
            })
            .collect();
        for _ in 0..CHILDREN {
            ran_rx
                .recv_timeout(Duration::from_secs(30))
                .expect("children stayed stranded behind their blocked parent");
        }
        for child in children {
            child.await.unwrap();
        }
    });
    rt.block_on(parent).unwrap();
}

#[test]
fn steal_attempts_are_counted_beside_the_steals_they_bound() {
    let rt = multi_thread(2);
    children_of_a_blocked_parent(&rt);
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
fn tasks_run_by_a_sibling_of_the_worker_they_were_queued_on_are_migrated() {
    let rt = multi_thread(2);
    children_of_a_blocked_parent(&rt);
    let m = rt.metrics();
    // Each child was queued on the parent's worker and polled, once, on
    // the other.
    let migrated = per_worker(&m, RuntimeMetrics::worker_migrated_count);
    assert!(
        migrated.iter().sum::<u64>() >= CHILDREN as u64,
        "{migrated:?} for {CHILDREN} children"
    );
}

#[test]
fn a_single_worker_neither_steals_nor_migrates() {
    let rt = multi_thread(1);
    spawn_and_await_children(&rt);
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

//! The share of polls each priority level gets, counted: the rule in
//! `scheduler/pick.rs` (README, "Priorities") holds per worker. On a
//! worker where `Normal` and `Low` tasks are ready, one pick in 9 is
//! `Low`, shared by all the `Low` tasks there; on a worker where a `High`
//! task is ready, no `Normal` or `Low` task is picked.
//!
//! Every task loops: count a poll (per level, per worker), `yield_now`.
//! The counting starts once every task is spawned and stops after a fixed
//! total of polls: counts, not time.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task::{self, Priority};

const NAME: &str = "share";

fn runtime(workers: usize) -> Runtime {
    if workers == 1 {
        Builder::new_current_thread().build().unwrap()
    } else {
        Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name(NAME)
            .build()
            .unwrap()
    }
}

/// The index of the worker the calling thread runs (0 for the thread in
/// a current-thread runtime's `block_on`).
fn worker_index() -> usize {
    let name = std::thread::current().name().map(str::to_owned);
    name.as_deref()
        .and_then(|n| n.strip_prefix(NAME)?.strip_prefix('-')?.parse().ok())
        .unwrap_or(0)
}

/// Runs `groups` of tasks (`(priority, tasks)`) on `workers`, each task
/// counting its polls and yielding, until `total` polls were counted after
/// the last spawn; returns the polls of each group.
fn count_polls(workers: usize, groups: &[(Priority, usize)], total: u64) -> Vec<u64> {
    let started = Arc::new(AtomicBool::new(false));
    let polls = Arc::new(AtomicU64::new(0));
    let rt = runtime(workers);
    rt.block_on(async {
        let handles: Vec<Vec<_>> = groups
            .iter()
            .map(|&(priority, tasks)| {
                (0..tasks)
                    .map(|_| {
                        let (started, polls) = (started.clone(), polls.clone());
                        task::spawn_with_priority(priority, async move {
                            while !started.load(Relaxed) {
                                task::yield_now().await;
                            }
                            let mut mine = 0;
                            while polls.fetch_add(1, Relaxed) < total {
                                mine += 1;
                                task::yield_now().await;
                            }
                            mine
                        })
                    })
                    .collect()
            })
            .collect();
        started.store(true, Relaxed);
        let mut per_group = Vec::new();
        for group in handles {
            let mut polls = 0;
            for handle in group {
                polls += handle.await.unwrap();
            }
            per_group.push(polls);
        }
        per_group
    })
}

/// The `Low` level's share of a worker's polls while `Normal` work is
/// ready there: one pick in `LOW_SKIPS + 1`.
const LOW_SHARE: f64 = 1.0 / 9.0;

#[test]
fn on_one_worker_low_gets_one_poll_in_nine_shared_by_its_tasks() {
    let total = 90_000;
    let counts = count_polls(
        1,
        &[(Priority::Low, 1000), (Priority::Normal, 10_000)],
        total,
    );
    let [low, normal] = counts[..] else {
        unreachable!()
    };
    assert_eq!(low + normal, total);
    let share = low as f64 / total as f64;
    assert!(
        (share - LOW_SHARE).abs() < 0.002,
        "Low got {low} of {total} polls ({share:.4}); the rule gives 1/9"
    );
    // Per task: (1/9 / 1000) / (8/9 / 10,000) = 1.25.
    let per_task = (low as f64 / 1000.0) / (normal as f64 / 10_000.0);
    assert!(
        (per_task - 1.25).abs() < 0.02,
        "a Low task got {per_task:.3}x the polls of a Normal one; the rule gives 1.25x"
    );
}

#[test]
fn on_one_worker_few_low_tasks_share_the_same_ninth() {
    // 10 Low beside 1000 Normal: each Low task gets (1/9 / 10) / (8/9 /
    // 1000) = 12.5 times a Normal task's polls; the level's share is still 1/9.
    let total = 45_000;
    let counts = count_polls(1, &[(Priority::Low, 10), (Priority::Normal, 1000)], total);
    let [low, normal] = counts[..] else {
        unreachable!()
    };
    assert_eq!(low, total / 9, "Low polls of {total}");
    let per_task = (low as f64 / 10.0) / (normal as f64 / 1000.0);
    assert!((per_task - 12.5).abs() < 0.1, "{per_task:.3}x");
}

#[test]
fn on_one_worker_high_leaves_nothing_to_normal_and_low() {
    let counts = count_polls(
        1,
        &[
            (Priority::High, 10),
            (Priority::Normal, 1000),
            (Priority::Low, 100),
        ],
        20_000,
    );
    assert_eq!(counts, [20_000, 0, 0]);
}

/// What each worker saw of its own queues at its `Normal` polls: the
/// rule's guarantees, checked per worker on a multi-thread runtime where
/// tasks move between workers (idle workers steal, busy ones take the
/// queue of a descheduled sibling).
///
/// Only a worker adds to its own queues, and nothing is added between its
/// pick and the poll, so a level found queued on the worker during a poll
/// was ready at the pick that chose the polled task.
#[derive(Default)]
struct RuleWatch {
    /// Per worker: `Normal` polls in a row with `Low` queued there.
    low_passed_over: Vec<AtomicU64>,
    /// The longest such run, over all workers.
    longest_pass_over: AtomicU64,
    /// `Normal` or `Low` polls with `Max` or `High` work queued on the
    /// same worker.
    below_urgent: AtomicU64,
}

fn watch_polls(workers: usize, groups: &[(Priority, usize)], total: u64) -> Arc<RuleWatch> {
    let watch = Arc::new(RuleWatch {
        low_passed_over: (0..workers).map(|_| AtomicU64::new(0)).collect(),
        ..RuleWatch::default()
    });
    let rt = runtime(workers);
    let polls = Arc::new(AtomicU64::new(0));
    rt.block_on(async {
        let handles: Vec<_> = groups
            .iter()
            .flat_map(|&(priority, tasks)| std::iter::repeat_n(priority, tasks))
            .map(|priority| {
                let (watch, polls) = (watch.clone(), polls.clone());
                task::spawn_with_priority(priority, async move {
                    let metrics = smp_rt::runtime::Handle::current().metrics();
                    while polls.fetch_add(1, Relaxed) < total {
                        let worker = worker_index();
                        let queued = |level| metrics.worker_queue_depth(worker, level) > 0;
                        if matches!(priority, Priority::Normal | Priority::Low)
                            && (queued(Priority::Max) || queued(Priority::High))
                        {
                            watch.below_urgent.fetch_add(1, Relaxed);
                        }
                        let passed_over = &watch.low_passed_over[worker];
                        match priority {
                            Priority::Low => passed_over.store(0, Relaxed),
                            Priority::Normal if queued(Priority::Low) => {
                                let run = passed_over.fetch_add(1, Relaxed) + 1;
                                watch.longest_pass_over.fetch_max(run, Relaxed);
                            }
                            // No Low queued here: none was passed over.
                            Priority::Normal => passed_over.store(0, Relaxed),
                            _ => {}
                        }
                        task::yield_now().await;
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
    });
    watch
}

#[test]
fn on_two_workers_a_queued_low_task_is_passed_over_at_most_8_times_per_worker() {
    let watch = watch_polls(
        2,
        &[(Priority::Low, 1000), (Priority::Normal, 10_000)],
        100_000,
    );
    let longest = watch.longest_pass_over.load(Relaxed);
    assert!(
        longest <= 8,
        "a worker polled {longest} Normal tasks in a row while a Low task was queued on it"
    );
    assert!(
        longest > 0,
        "no Normal poll saw Low queued: the test checked nothing"
    );
}

#[test]
fn on_two_workers_no_normal_or_low_poll_runs_beside_queued_high_work() {
    let watch = watch_polls(
        2,
        &[
            (Priority::High, 16),
            (Priority::Normal, 1000),
            (Priority::Low, 100),
        ],
        60_000,
    );
    assert_eq!(
        watch.below_urgent.load(Relaxed),
        0,
        "Normal or Low tasks were polled while High work was queued on the same worker"
    );
}

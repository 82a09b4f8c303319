//! Deadlines: earliest deadline first among the ready tasks of one
//! priority, tasks without one after them in FIFO order; misses counted at
//! the first poll after the deadline. A current-thread runtime makes the
//! order deterministic; deadlines far ahead or already past make the miss
//! counts independent of timing.

use std::future::poll_fn;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task::{self, Priority};

fn single_worker() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

type Log = Arc<Mutex<Vec<String>>>;

/// Deadline offsets (ms from a base far ahead), in the order the tasks
/// are spawned: neither sorted nor reversed.
const SHUFFLED: [u64; 8] = [50, 10, 70, 30, 80, 20, 60, 40];

fn expected_order() -> Vec<String> {
    let mut by_deadline = SHUFFLED.to_vec();
    by_deadline.sort_unstable();
    let mut expected: Vec<String> = by_deadline.iter().map(|ms| format!("D{ms}")).collect();
    expected.extend((0..4).map(|i| format!("F{i}")));
    expected
}

#[test]
fn earliest_deadline_first_then_fifo_for_tasks_without_one() {
    let rt = single_worker();
    let log: Log = Arc::default();
    let base = Instant::now() + Duration::from_secs(3600);
    let spawner = {
        let log = log.clone();
        async move {
            // Spawned from inside a task: nothing runs before all are
            // queued. Tasks without a deadline are interleaved with the
            // others, the first one before any deadline task.
            let mut handles = Vec::new();
            for (i, ms) in SHUFFLED.into_iter().enumerate() {
                if i % 2 == 0 {
                    let log = log.clone();
                    let label = format!("F{}", i / 2);
                    handles.push(task::spawn(async move {
                        log.lock().unwrap().push(label);
                    }));
                }
                let log = log.clone();
                let label = format!("D{ms}");
                let handle = task::Builder::new()
                    .deadline(base + Duration::from_millis(ms))
                    .spawn(async move {
                        log.lock().unwrap().push(label);
                        task::deadline_misses()
                    })
                    .unwrap();
                handles.push(smp_rt::spawn(async move {
                    assert_eq!(handle.await.unwrap(), 0, "a deadline an hour ahead is met");
                }));
            }
            handles
        }
    };
    rt.block_on(async {
        for handle in smp_rt::spawn(spawner).await.unwrap() {
            handle.await.unwrap();
        }
    });
    let ran: Vec<String> = log.lock().unwrap().clone();
    assert_eq!(ran, expected_order());
    assert_eq!(rt.metrics().worker_deadline_misses(0), 0);
}

#[test]
fn deadlines_order_within_a_level_not_across_levels() {
    let rt = single_worker();
    let log: Log = Arc::default();
    let soon = Instant::now() + Duration::from_secs(3600);
    let spawner = {
        let log = log.clone();
        async move {
            let log_at = |label: &'static str| {
                let log = log.clone();
                async move { log.lock().unwrap().push(label.to_string()) }
            };
            vec![
                task::Builder::new()
                    .priority(Priority::Low)
                    .deadline(soon)
                    .spawn(log_at("low-with-deadline"))
                    .unwrap(),
                task::Builder::new()
                    .priority(Priority::Normal)
                    .spawn(log_at("normal"))
                    .unwrap(),
                task::Builder::new()
                    .priority(Priority::High)
                    .deadline(soon + Duration::from_secs(1))
                    .spawn(log_at("high-with-deadline"))
                    .unwrap(),
            ]
        }
    };
    rt.block_on(async {
        for handle in smp_rt::spawn(spawner).await.unwrap() {
            handle.await.unwrap();
        }
    });
    assert_eq!(
        *log.lock().unwrap(),
        ["high-with-deadline", "normal", "low-with-deadline"]
    );
}

#[test]
fn a_first_poll_after_the_deadline_is_a_miss_per_task_and_per_worker() {
    let rt = single_worker();
    let past = Instant::now() - Duration::from_millis(1);
    let ahead = Instant::now() + Duration::from_secs(3600);
    let (late, in_time, rearmed, none) = rt.block_on(async move {
        let late = task::Builder::new()
            .deadline(past)
            .spawn(async {
                // Checked before this first poll: already counted.
                let first = task::deadline_misses();
                task::yield_now().await;
                // Later polls of the same deadline are not checked again.
                (first, task::deadline_misses())
            })
            .unwrap();
        let in_time = task::Builder::new()
            .deadline(ahead)
            .spawn(async {
                task::yield_now().await;
                task::deadline_misses()
            })
            .unwrap();
        let rearmed = task::Builder::new()
            .deadline_in(Duration::from_secs(3600))
            .spawn(async move {
                task::set_deadline(Some(past));
                task::yield_now().await;
                let after_one = task::deadline_misses();
                task::set_deadline(Some(past));
                task::yield_now().await;
                (after_one, task::deadline_misses(), task::deadline())
            })
            .unwrap();
        let none = smp_rt::spawn(async { (task::deadline(), task::deadline_misses()) });
        (
            late.await.unwrap(),
            in_time.await.unwrap(),
            rearmed.await.unwrap(),
            none.await.unwrap(),
        )
    });
    assert_eq!(late, (1, 1));
    assert_eq!(in_time, 0);
    assert_eq!(rearmed, (1, 2, Some(past)));
    assert_eq!(none, (None, 0));
    assert_eq!(rt.metrics().worker_deadline_misses(0), 3);
}

/// Waiting tasks woken from a thread that is not a worker reach the worker
/// through its inbox; drained, they are still ordered by deadline, and the
/// woken tasks without one run after them.
#[test]
fn deadline_tasks_woken_remotely_are_still_ordered() {
    let rt = single_worker();
    let log: Log = Arc::default();
    let base = Instant::now() + Duration::from_secs(3600);
    // Per task: set when woken, and the waker to wake it with.
    type Gate = Arc<Mutex<(bool, Option<Waker>)>>;
    let gate = || -> Gate { Arc::default() };
    let wait = |gate: Gate| {
        poll_fn(move |cx| {
            let mut gate = gate.lock().unwrap();
            if gate.0 {
                Poll::Ready(())
            } else {
                gate.1 = Some(cx.waker().clone());
                Poll::Pending
            }
        })
    };
    let mut gates = Vec::new();
    let mut handles = Vec::new();
    rt.block_on(async {
        let spawner = {
            let log = log.clone();
            async move {
                let mut gates = Vec::new();
                let mut handles = Vec::new();
                for (i, ms) in SHUFFLED.into_iter().enumerate() {
                    if i % 2 == 0 {
                        let (g, log) = (gate(), log.clone());
                        let label = format!("F{}", i / 2);
                        let waiting = wait(g.clone());
                        handles.push(task::spawn(async move {
                            waiting.await;
                            log.lock().unwrap().push(label);
                        }));
                        gates.push(g);
                    }
                    let (g, log) = (gate(), log.clone());
                    let label = format!("D{ms}");
                    let waiting = wait(g.clone());
                    handles.push(
                        task::Builder::new()
                            .deadline(base + Duration::from_millis(ms))
                            .spawn(async move {
                                waiting.await;
                                log.lock().unwrap().push(label);
                            })
                            .unwrap(),
                    );
                    gates.push(g);
                }
                (gates, handles)
            }
        };
        (gates, handles) = smp_rt::spawn(spawner).await.unwrap();
        // Every task has polled once and waits: yield until all have.
        while gates.iter().any(|g| g.lock().unwrap().1.is_none()) {
            task::yield_now().await;
        }
        // Woken from another thread, in spawn order (deadlines shuffled),
        // while this worker runs this task: all land in its inbox.
        let waker_thread = {
            let gates = gates.clone();
            std::thread::spawn(move || {
                for g in gates {
                    let waker = {
                        let mut g = g.lock().unwrap();
                        g.0 = true;
                        g.1.take()
                    };
                    waker.unwrap().wake();
                }
            })
        };
        waker_thread.join().unwrap();
        assert!(
            log.lock().unwrap().is_empty(),
            "nothing ran while this task held the worker"
        );
        for handle in handles.drain(..) {
            handle.await.unwrap();
        }
    });
    assert_eq!(*log.lock().unwrap(), expected_order());
}

#[test]
fn a_local_set_refuses_a_deadline() {
    let rt = single_worker();
    rt.block_on(async {
        task::LocalSet::new()
            .run_until(async {
                let err = task::Builder::new()
                    .deadline_in(Duration::from_secs(1))
                    .spawn_local(async {})
                    .unwrap_err();
                assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
                assert!(err.to_string().contains("LocalSet"), "{err}");
            })
            .await;
    });
}

#[test]
fn a_process_carries_its_deadline() {
    let rt = single_worker();
    let past = Instant::now() - Duration::from_millis(1);
    // The process's deadline and misses, as it saw them.
    type Seen = Option<(Option<Instant>, u64)>;
    let seen: Arc<Mutex<Seen>> = Arc::default();
    rt.block_on({
        let seen = seen.clone();
        async move {
            let pid = smp_rt::process::Builder::new().deadline(past).spawn(
                move |_mailbox: smp_rt::process::Mailbox<()>| async move {
                    *seen.lock().unwrap() = Some((task::deadline(), task::deadline_misses()));
                },
            );
            smp_rt::process::monitor(&pid).await;
        }
    });
    assert_eq!(*seen.lock().unwrap(), Some((Some(past), 1)));
    assert_eq!(rt.metrics().worker_deadline_misses(0), 1);
}

#[test]
fn equal_deadlines_run_in_the_order_they_were_queued() {
    let rt = single_worker();
    let log: Log = Arc::default();
    let due = Instant::now() + Duration::from_secs(3600);
    let labels: Vec<String> = (0..16).map(|i| format!("T{i}")).collect();
    let spawner = {
        let (log, labels) = (log.clone(), labels.clone());
        async move {
            labels
                .into_iter()
                .map(|label| {
                    let log = log.clone();
                    task::Builder::new()
                        .deadline(due)
                        .spawn(async move { log.lock().unwrap().push(label) })
                        .unwrap()
                })
                .collect::<Vec<_>>()
        }
    };
    rt.block_on(async {
        for handle in smp_rt::spawn(spawner).await.unwrap() {
            handle.await.unwrap();
        }
    });
    assert_eq!(*log.lock().unwrap(), labels);
}

//! Priorities: `Max` and `High` are strict, `Low` is interleaved with
//! `Normal` (passed over at most 8 times), `set_priority` applies from the
//! next slice. A current-thread runtime makes the order deterministic.

use std::sync::{Arc, Mutex};

use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task::{self, Priority};

fn single_worker() -> Runtime {
    Builder::new_current_thread().build().unwrap()
}

/// One worker whose slices never end on their budget: only an urgent
/// request (work of a higher priority) cuts one short.
fn single_worker_with_endless_slices() -> Runtime {
    Builder::new_current_thread()
        .reductions(u32::MAX)
        .build()
        .unwrap()
}

type Log = Arc<Mutex<Vec<String>>>;

fn spawn_logged(log: &Log, priority: Priority, label: String) -> smp_rt::JoinHandle<()> {
    let log = log.clone();
    task::spawn_with_priority(priority, async move {
        log.lock().unwrap().push(label);
    })
}

#[test]
fn strict_levels_then_low_interleaved_with_normal() {
    let rt = single_worker();
    let log: Log = Arc::default();
    rt.block_on(async {
        let mut handles = Vec::new();
        for i in 0..20 {
            handles.push(spawn_logged(&log, Priority::Low, format!("L{i}")));
        }
        for i in 0..20 {
            handles.push(spawn_logged(&log, Priority::Normal, format!("N{i}")));
        }
        for i in 0..3 {
            handles.push(spawn_logged(&log, Priority::High, format!("H{i}")));
        }
        for i in 0..2 {
            handles.push(spawn_logged(&log, Priority::Max, format!("M{i}")));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
    let mut expected: Vec<String> = vec!["M0", "M1", "H0", "H1", "H2"]
        .into_iter()
        .map(String::from)
        .collect();
    // 8 Normal, then the Low that was passed over 8 times, and so on.
    let mut normal = (0..20).map(|i| format!("N{i}"));
    let mut low = (0..20).map(|i| format!("L{i}"));
    loop {
        let batch: Vec<String> = normal.by_ref().take(8).collect();
        if batch.is_empty() {
            break;
        }
        let full = batch.len() == 8;
        expected.extend(batch);
        if full {
            expected.extend(low.next());
        }
    }
    expected.extend(low);
    assert_eq!(*log.lock().unwrap(), expected);
}

#[test]
fn low_is_not_starved_by_a_stream_of_normal_work() {
    let rt = single_worker();
    let normal_slices = Arc::new(Mutex::new(0u32));
    let low_ran_after = rt.block_on(async {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut normal = Vec::new();
        for _ in 0..4 {
            let done = done.clone();
            let slices = normal_slices.clone();
            normal.push(smp_rt::spawn(async move {
                // Endless Normal work (bounded only so a broken scheduler
                // fails instead of hanging).
                for _ in 0..100_000 {
                    if done.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    *slices.lock().unwrap() += 1;
                    task::yield_now().await;
                }
            }));
        }
        let slices = normal_slices.clone();
        let low = task::spawn_with_priority(Priority::Low, async move {
            done.store(true, std::sync::atomic::Ordering::SeqCst);
            *slices.lock().unwrap()
        });
        let ran_after = low.await.unwrap();
        for h in normal {
            h.await.unwrap();
        }
        ran_after
    });
    assert!(
        low_ran_after <= 8,
        "the Low task waited for {low_ran_after} Normal slices; at most 8 are allowed"
    );
}

#[test]
fn high_is_strict_over_a_yielding_normal_task() {
    let rt = single_worker();
    let log: Log = Arc::default();
    rt.block_on(async {
        let l = log.clone();
        let normal = smp_rt::spawn(async move {
            for i in 0..3 {
                l.lock().unwrap().push(format!("N{i}"));
                task::yield_now().await;
            }
        });
        let l = log.clone();
        let spawner = task::spawn_with_priority(Priority::Normal, async move {
            // Spawned from a Normal task: the High tasks must run before the
            // Normal task's next slice.
            let a = spawn_logged(&l, Priority::High, "H0".into());
            let b = spawn_logged(&l, Priority::Max, "M0".into());
            (a, b)
        });
        let (a, b) = spawner.await.unwrap();
        a.await.unwrap();
        b.await.unwrap();
        normal.await.unwrap();
    });
    let log = log.lock().unwrap();
    let pos = |s: &str| log.iter().position(|x| x == s).unwrap();
    assert!(pos("M0") < pos("H0"), "Max before High: {log:?}");
    assert!(
        pos("H0") < pos("N2"),
        "High before the rest of Normal: {log:?}"
    );
    assert_eq!(
        pos("M0") + 1,
        pos("H0"),
        "nothing between Max and High: {log:?}"
    );
}

#[test]
fn set_priority_applies_from_the_next_slice() {
    let rt = single_worker();
    let log: Log = Arc::default();
    rt.block_on(async {
        let l = log.clone();
        let demoted = smp_rt::spawn(async move {
            assert_eq!(task::current_priority(), Priority::Normal);
            task::set_priority(Priority::Low);
            // Still this slice: the change shows, the task keeps running.
            assert_eq!(task::current_priority(), Priority::Low);
            l.lock().unwrap().push("A1".to_string());
            task::yield_now().await;
            l.lock().unwrap().push("A2".to_string());
            assert_eq!(task::stats().priority, Priority::Low);
        });
        let others: Vec<_> = (0..3)
            .map(|i| spawn_logged(&log, Priority::Normal, format!("N{i}")))
            .collect();
        demoted.await.unwrap();
        for h in others {
            h.await.unwrap();
        }
    });
    // Requeued at Low, A waits behind every Normal task.
    assert_eq!(*log.lock().unwrap(), vec!["A1", "N0", "N1", "N2", "A2"]);
}

#[test]
fn priority_order_and_default() {
    assert!(Priority::Max > Priority::High);
    assert!(Priority::High > Priority::Normal);
    assert!(Priority::Normal > Priority::Low);
    assert_eq!(Priority::default(), Priority::Normal);
    let rt = single_worker();
    let p = rt.block_on(async { smp_rt::spawn(async { task::current_priority() }).await });
    assert_eq!(p.unwrap(), Priority::Normal);
}

#[test]
fn set_priority_outside_a_task_panics_with_a_reason() {
    let err = std::panic::catch_unwind(|| task::set_priority(Priority::High)).unwrap_err();
    let msg = err
        .downcast_ref::<&str>()
        .copied()
        .unwrap_or_default()
        .to_string()
        + err
            .downcast_ref::<String>()
            .map(String::as_str)
            .unwrap_or_default();
    assert!(msg.contains("outside a task"), "message was: {msg}");
}

#[test]
fn a_high_task_arriving_from_outside_cuts_a_running_normal_slice_short() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    // One worker, and a slice so long that only the urgent request can end
    // the Normal task's slice: without it the High task would wait for the
    // whole loop.
    let rt = single_worker_with_endless_slices();
    let handle = rt.handle().clone();
    let high_ran = Arc::new(AtomicBool::new(false));
    let pushed = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (h, p) = (high_ran.clone(), pushed.clone());
    let spawner = std::thread::spawn(move || {
        started_rx.recv().unwrap();
        let task = task::Builder::new()
            .priority(Priority::High)
            .spawn_on(async move { h.store(true, SeqCst) }, &handle);
        drop(task);
        p.store(true, SeqCst);
    });
    let (h, p) = (high_ran.clone(), pushed.clone());
    let outcome = rt.block_on(async move {
        smp_rt::spawn(async move {
            started_tx.send(()).unwrap();
            let start = std::time::Instant::now();
            let mut charges_since_push = 0u64;
            loop {
                if h.load(SeqCst) {
                    return Ok(task::stats().preemptions);
                }
                if p.load(SeqCst) {
                    charges_since_push += 1;
                    if charges_since_push > 100_000 {
                        return Err("the High task was queued but did not run within the slice");
                    }
                } else if start.elapsed() > std::time::Duration::from_secs(120) {
                    return Err("the spawner thread never got to spawn the High task");
                }
                task::consume_budget().await;
            }
        })
        .await
        .unwrap()
    });
    spawner.join().unwrap();
    let preemptions = outcome.unwrap();
    assert!(preemptions >= 1, "the Normal slice was cut: {preemptions}");
}

#[test]
fn a_high_task_woken_for_a_blocked_worker_runs_on_a_busy_sibling() {
    // The scenario needs the blocker on the High task's home worker; a
    // sibling may take it from there first (it is stealable), so try again.
    for _ in 0..20 {
        if let Some(outcome) = high_task_woken_for_a_blocked_worker() {
            let (ran_on_the_sibling, released_by_it) = outcome;
            assert!(
                ran_on_the_sibling,
                "the busy sibling ran the woken High task"
            );
            assert!(
                released_by_it,
                "the High task ran while its home worker was still blocked"
            );
            return;
        }
    }
    panic!("the blocker never ran on the High task's worker in 20 tries");
}

/// Two workers and slices that never end on their own. Worker X is blocked
/// by a Normal task that never reaches an await point; worker Y runs a
/// Normal task that only charges reductions. A High task whose home is X is
/// woken from outside: Y must cut its slice short and run it while X is
/// still blocked (without that it would wait for X). `None` if the tasks
/// did not land that way.
///
/// The charging task starts first, so that Y is busy in its endless slice
/// when the blocker is spawned into X's LIFO slot: an idle Y could steal
/// the blocker from there before X gets to it.
fn high_task_woken_for_a_blocked_worker() -> Option<(bool, bool)> {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::time::{Duration, Instant};
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .reductions(u32::MAX)
        .build()
        .unwrap();

    // Y: the charging task.
    let stop = Arc::new(AtomicBool::new(false));
    let (hog_tx, hog_rx) = std::sync::mpsc::channel();
    let hog = {
        let stop = stop.clone();
        rt.spawn(async move {
            hog_tx.send(std::thread::current().id()).unwrap();
            while !stop.load(SeqCst) {
                task::consume_budget().await;
            }
        })
    };
    let hog_thread = hog_rx.recv().unwrap();
    // X's thread may not be looking for work yet (a new runtime on a loaded
    // machine); work from outside then goes to Y, and so did the High task
    // in every try. A Normal task cannot run on Y, whose slice never ends:
    // this one runs on X, once X is up.
    let x_thread = rt
        .block_on(rt.spawn(async { std::thread::current().id() }))
        .unwrap();
    assert_ne!(x_thread, hog_thread, "a Normal task ran on the busy worker");
    let stop_hog = || {
        stop.store(true, SeqCst);
        rt.block_on(hog).unwrap();
    };

    // X: the High task, which spawns the blocker and waits to be woken.
    let release = Arc::new(AtomicBool::new(false));
    let (wake_tx, wake_rx) = smp_rt::sync::oneshot::channel::<()>();
    let (probe_tx, probe_rx) = std::sync::mpsc::channel();
    let (blocker_tx, blocker_rx) = std::sync::mpsc::channel();
    let probe = {
        let release = release.clone();
        task::Builder::new().priority(Priority::High).spawn_on(
            async move {
                // Spawned by a task, the blocker takes this worker's LIFO
                // slot and runs when this poll returns `Pending`.
                let blocker = smp_rt::spawn({
                    let release = release.clone();
                    async move {
                        blocker_tx.send(std::thread::current().id()).unwrap();
                        // A guard against a hang, not a timing assertion.
                        let give_up = Instant::now() + Duration::from_secs(30);
                        while !release.load(SeqCst) && Instant::now() < give_up {
                            std::hint::spin_loop();
                        }
                        release.load(SeqCst)
                    }
                });
                probe_tx.send(std::thread::current().id()).unwrap();
                let _ = wake_rx.await;
                probe_tx.send(std::thread::current().id()).unwrap();
                release.store(true, SeqCst);
                blocker.await.unwrap()
            },
            rt.handle(),
        )
    };
    let home = probe_rx.recv().unwrap();
    if home == hog_thread || blocker_rx.recv().unwrap() != home {
        release.store(true, SeqCst);
        drop(wake_tx);
        stop_hog();
        rt.block_on(probe).unwrap();
        return None;
    }

    wake_tx.send(()).unwrap();
    let ran_on_the_sibling = probe_rx.recv().unwrap() == hog_thread;
    let released_by_it = rt.block_on(probe).unwrap();
    stop_hog();
    Some((ran_on_the_sibling, released_by_it))
}

#[test]
fn normal_work_arriving_from_outside_does_not_cut_a_low_slice() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    // `Low` is interleaved with `Normal`, not strictly below it: a Normal
    // task spawned from another thread waits for the running Low task's
    // slice to end instead of cutting it short (only Max and High do).
    let rt = single_worker_with_endless_slices();
    let handle = rt.handle().clone();
    let normal_ran = Arc::new(AtomicBool::new(false));
    let pushed = Arc::new(AtomicBool::new(false));
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (n, p) = (normal_ran.clone(), pushed.clone());
    let spawner = std::thread::spawn(move || {
        started_rx.recv().unwrap();
        let normal = handle.spawn(async move { n.store(true, SeqCst) });
        p.store(true, SeqCst);
        normal
    });
    let (n, p) = (normal_ran.clone(), pushed.clone());
    let stats = rt.block_on(async move {
        task::spawn_with_priority(Priority::Low, async move {
            started_tx.send(()).unwrap();
            let mut charges_since_push = 0u32;
            // The spawner always gets to push: this loop only ends after.
            while charges_since_push < 10_000 {
                if p.load(SeqCst) {
                    charges_since_push += 1;
                }
                task::consume_budget().await;
            }
            (n.load(SeqCst), task::stats().preemptions)
        })
        .await
        .unwrap()
    });
    let normal = spawner.join().unwrap();
    assert_eq!(
        stats,
        (false, 0),
        "(normal ran during the slice, preemptions)"
    );
    rt.block_on(normal).unwrap();
    assert!(
        normal_ran.load(SeqCst),
        "the Normal task ran after the slice"
    );
}

#[test]
fn high_work_from_outside_does_not_cut_a_high_slice_but_max_work_does() {
    use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::SeqCst};
    // One worker and a slice that only an urgent request can end. The
    // running task is High: a High task queued from outside waits for the
    // slice (same level, FIFO), a Max task ends it at the next charge.
    let rt = single_worker_with_endless_slices();
    let handle = rt.handle().clone();
    let high_ran = Arc::new(AtomicBool::new(false));
    let max_ran = Arc::new(AtomicBool::new(false));
    // 0: nothing queued yet; 1: the High task is queued; 2: the Max task too.
    let stage = Arc::new(AtomicU8::new(0));
    let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (h, m, st) = (high_ran.clone(), max_ran.clone(), stage.clone());
    let spawner = std::thread::spawn(move || {
        started_rx.recv().unwrap();
        drop(
            task::Builder::new()
                .priority(Priority::High)
                .spawn_on(async move { h.store(true, SeqCst) }, &handle),
        );
        st.store(1, SeqCst);
        if go_rx.recv().is_err() {
            return; // the task failed already: its error is the report
        }
        drop(
            task::Builder::new()
                .priority(Priority::Max)
                .spawn_on(async move { m.store(true, SeqCst) }, &handle),
        );
        st.store(2, SeqCst);
    });
    let (h, m, st) = (high_ran.clone(), max_ran.clone(), stage.clone());
    let outcome = rt.block_on(async move {
        task::Builder::new()
            .priority(Priority::High)
            .spawn(async move {
                started_tx.send(()).unwrap();
                while st.load(SeqCst) == 0 {
                    task::consume_budget().await;
                }
                for _ in 0..100_000 {
                    task::consume_budget().await;
                }
                if h.load(SeqCst) || task::stats().preemptions != 0 {
                    return Err("a High task from outside cut a running High slice short");
                }
                go_tx.send(()).unwrap();
                let mut charges_after_max = 0u64;
                while !m.load(SeqCst) {
                    if st.load(SeqCst) == 2 {
                        charges_after_max += 1;
                        if charges_after_max > 100_000 {
                            return Err("the Max task was queued but did not cut the High slice");
                        }
                    }
                    task::consume_budget().await;
                }
                Ok(task::stats().preemptions)
            })
            .unwrap()
            .await
            .unwrap()
    });
    spawner.join().unwrap();
    let preemptions = outcome.unwrap();
    assert!(preemptions >= 1, "the High slice was cut: {preemptions}");
    // The queued High task still runs, once the High slice is over.
    rt.block_on(async {
        for _ in 0..1_000 {
            if high_ran.load(SeqCst) {
                return;
            }
            task::yield_now().await;
        }
        panic!("the queued High task never ran");
    });
}

#[test]
fn urgent_work_queued_from_outside_runs_by_priority_and_in_arrival_order() {
    // Queued before any thread drives the worker: the first High task waits
    // in the worker's urgent slot, the rest in its inbox. All of it runs,
    // Max first, the two High tasks in the order they arrived, then Normal.
    let rt = single_worker();
    let handle = rt.handle().clone();
    let log: Log = Arc::default();
    let queued = [
        (Priority::High, "H1"),
        (Priority::Normal, "N"),
        (Priority::High, "H2"),
        (Priority::Max, "M"),
    ];
    let handles: Vec<_> = queued
        .iter()
        .map(|&(priority, label)| {
            let log = log.clone();
            task::Builder::new().priority(priority).spawn_on(
                async move { log.lock().unwrap().push(label.to_string()) },
                &handle,
            )
        })
        .collect();
    assert_eq!(rt.metrics().worker_inbox_depth(0), 4);
    rt.block_on(async {
        for handle in handles {
            handle.await.unwrap();
        }
    });
    assert_eq!(*log.lock().unwrap(), ["M", "H1", "H2", "N"]);
    assert_eq!(rt.metrics().worker_inbox_depth(0), 0);
}

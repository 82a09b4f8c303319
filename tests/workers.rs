//! Workers: stealing spreads work, remote wakes go home through the inbox,
//! idle workers park and are woken, and the metrics count all of it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task::{self, Priority};

/// A multi-thread runtime with `workers` workers.
fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

#[test]
fn idle_workers_steal_from_a_busy_one() {
    let rt = multi_thread(2);
    let threads = Arc::new(Mutex::new(HashSet::new()));
    let t = threads.clone();
    rt.block_on(async move {
        // One task spawns everything onto its own worker's deque; each task
        // blocks its worker briefly, so the other worker must steal to help.
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
    let m = rt.metrics();
    let steals: u64 = (0..2).map(|w| m.worker_steal_count(w)).sum();
    assert!(steals > 0, "no worker stole anything");
    assert_eq!(threads.lock().unwrap().len(), 2, "both workers ran tasks");
}

#[test]
fn high_priority_work_is_stolen_first() {
    // Worker A runs `spawner`, which keeps A busy throughout. It first makes
    // worker B busy with `gate`, queues Normal and High work on A, then
    // opens the gate: B, idle again, must steal the High task first.
    let rt = multi_thread(2);
    let order = Arc::new(Mutex::new(Vec::new()));
    let o = order.clone();
    rt.block_on(async move {
        smp_rt::spawn(async move {
            let (gate_open_tx, gate_open_rx) = std::sync::mpsc::channel::<()>();
            let (gate_running_tx, gate_running_rx) = std::sync::mpsc::channel::<()>();
            let gate = smp_rt::spawn(async move {
                gate_running_tx.send(()).unwrap();
                gate_open_rx.recv().unwrap();
            });
            gate_running_rx
                .recv_timeout(Duration::from_secs(30))
                .expect("the other worker never stole the gate task");
            let (high_ran_tx, high_ran_rx) = std::sync::mpsc::channel::<()>();
            let mut handles = Vec::new();
            for i in 0..4 {
                let o = o.clone();
                handles.push(task::spawn_with_priority(Priority::Normal, async move {
                    o.lock().unwrap().push(format!("N{i}"));
                }));
            }
            let o2 = o.clone();
            handles.push(task::spawn_with_priority(Priority::High, async move {
                o2.lock().unwrap().push("H".to_string());
                high_ran_tx.send(()).unwrap();
            }));
            gate_open_tx.send(()).unwrap();
            high_ran_rx
                .recv_timeout(Duration::from_secs(30))
                .expect("the High task was never stolen");
            gate.await.unwrap();
            for h in handles {
                h.await.unwrap();
            }
        })
        .await
        .unwrap();
    });
    let order = order.lock().unwrap();
    assert_eq!(
        order[0], "H",
        "the thief took High before Normal: {order:?}"
    );
}

#[test]
fn a_child_spawned_by_a_task_that_then_blocks_its_worker_runs_elsewhere() {
    child_of_a_blocked_parent_runs_elsewhere(2);
}

/// With three workers, one idle sibling parks in the driver and the other
/// on its own event: the one that is not in the driver must watch the
/// blocked worker's LIFO slot too.
#[test]
fn a_child_spawned_by_a_task_that_then_blocks_runs_elsewhere_with_three_workers() {
    child_of_a_blocked_parent_runs_elsewhere(3);
}

fn child_of_a_blocked_parent_runs_elsewhere(workers: usize) {
    // The child goes to the spawning worker's LIFO slot (run next); the
    // parent then blocks its thread until the child has run, which only a
    // sibling taking the slot can make happen.
    let rt = multi_thread(workers);
    let (ran_tx, ran_rx) = std::sync::mpsc::channel();
    let parent = rt.spawn(async move {
        let parent_thread = std::thread::current().id();
        let child = smp_rt::spawn(async move {
            ran_tx.send(std::thread::current().id()).unwrap();
        });
        let child_thread = ran_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the child stayed stranded behind its blocked parent");
        assert_ne!(child_thread, parent_thread);
        child.await.unwrap();
    });
    rt.block_on(parent).unwrap();
}

/// A task woken from outside goes to its worker's inbox; when that worker
/// is in a poll that blocks its thread, a sibling takes the task from
/// there (the push wakes one if none is awake to see it).
#[test]
fn a_task_woken_from_outside_while_its_worker_blocks_runs_on_a_sibling() {
    let rt = multi_thread(2);
    let (wake_tx, wake_rx) = futures::channel::oneshot::channel::<()>();
    let (blocking_tx, blocking_rx) = std::sync::mpsc::channel();
    let (ran_tx, ran_rx) = std::sync::mpsc::channel();
    let waiter = rt.spawn(async move {
        // Spawned into this worker's LIFO slot: it runs here next, once
        // the waiter waits, and blocks this thread until the waiter ran.
        let blocker = smp_rt::spawn(async move {
            blocking_tx.send(std::thread::current().id()).unwrap();
            ran_rx
                .recv_timeout(Duration::from_secs(30))
                .expect("the woken task stayed stranded behind a blocked worker")
        });
        wake_rx.await.unwrap();
        ran_tx.send(std::thread::current().id()).unwrap();
        // The waiter's thread, as the blocker received it.
        blocker.await.unwrap()
    });
    let blocked_thread = blocking_rx.recv().unwrap();
    // The idle sibling goes to sleep: it parks (its first park may come
    // before the blocker starts), then has time to end any busy wait, so
    // that only the push can bring it back. (If it is still awake, it sees
    // the task itself and the test passes without the push's wake-up.)
    let m = rt.metrics();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while (0..2).map(|w| m.worker_park_count(w)).sum::<u64>() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the idle worker never parked"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(Duration::from_millis(20));
    // From a thread outside the runtime: the wake-up is a remote push.
    std::thread::spawn(move || wake_tx.send(()).unwrap())
        .join()
        .unwrap();
    let waiter_thread = rt.block_on(waiter).unwrap();
    assert_ne!(waiter_thread, blocked_thread);
}

#[test]
fn a_task_woken_elsewhere_goes_back_to_its_worker() {
    let rt = multi_thread(2);
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let waiter = rt.spawn(async move {
        let before = std::thread::current().id();
        rx.await.unwrap();
        (before, std::thread::current().id())
    });
    std::thread::sleep(Duration::from_millis(20));
    std::thread::spawn(move || tx.send(()).unwrap())
        .join()
        .unwrap();
    let (before, after) = rt.block_on(waiter).unwrap();
    assert_eq!(before, after, "BEAM affinity: woken on its own worker");
}

#[test]
fn idle_workers_park_and_remote_spawns_wake_them() {
    let rt = multi_thread(2);
    // Let both workers run out of work and park.
    let m = rt.metrics();
    let parked =
        |m: &smp_rt::runtime::RuntimeMetrics| (0..2).map(|w| m.worker_park_count(w)).sum::<u64>();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while parked(&m) < 2 {
        assert!(std::time::Instant::now() < deadline, "workers never parked");
        std::thread::sleep(Duration::from_millis(1));
    }
    for i in 0..100 {
        let h = rt.spawn(async move { i * 2 });
        assert_eq!(rt.block_on(h).unwrap(), i * 2);
    }
    // A worker counts a poll just after it, so the counts of the last
    // task on each worker may lag its completion.
    let polls: u64 = (0..2).map(|w| m.worker_poll_count(w)).sum();
    assert!(polls >= 98, "{polls} polls");
    assert_eq!(m.spawned_tasks_count(), 100);
    // Busy time is added when a busy period ends: when the worker goes idle
    // or stops. Dropping the runtime stops both.
    drop(rt);
    assert!(m.worker_total_busy_duration(0) + m.worker_total_busy_duration(1) > Duration::ZERO);
}

#[test]
fn queue_depth_is_reported_per_priority() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let m = smp_rt::runtime::Handle::current().metrics();
        let handles: Vec<_> = [Priority::High, Priority::High, Priority::Low]
            .into_iter()
            .map(|p| task::spawn_with_priority(p, async {}))
            .collect();
        assert_eq!(m.worker_queue_depth(0, Priority::High), 2);
        assert_eq!(m.worker_queue_depth(0, Priority::Low), 1);
        assert_eq!(m.worker_queue_depth(0, Priority::Normal), 0);
        assert_eq!(m.num_alive_tasks(), 3);
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(m.worker_queue_depth(0, Priority::High), 0);
        assert_eq!(m.num_alive_tasks(), 0);
    });
}

#[test]
fn deep_queues_overflow_and_still_run_in_order() {
    // More tasks than a ring holds: the overflow keeps FIFO order.
    let rt = Builder::new_current_thread().build().unwrap();
    let order = Arc::new(Mutex::new(Vec::new()));
    rt.block_on(async {
        let handles: Vec<_> = (0..2000)
            .map(|i| {
                let order = order.clone();
                smp_rt::spawn(async move { order.lock().unwrap().push(i) })
            })
            .collect();
        let m = smp_rt::runtime::Handle::current().metrics();
        assert_eq!(m.worker_queue_depth(0, Priority::Normal), 2000);
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(*order.lock().unwrap(), (0..2000).collect::<Vec<_>>());
}

#[test]
#[should_panic(expected = "out of range")]
fn metrics_for_a_missing_worker_say_so() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.metrics().worker_poll_count(1);
}

#[test]
fn a_busy_worker_takes_work_stranded_behind_a_stuck_sibling() {
    // Worker X is stuck in one long poll; worker Y is kept busy (it never
    // goes idle, so it never steals). Tasks whose home is X are woken from
    // a plain thread: they go to X's inbox, and only Y's check for stalled
    // siblings can run them before X is released.
    let rt = multi_thread(2);
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (homed_tx, homed_rx) = std::sync::mpsc::channel();
    let blocker = rt.spawn(async move {
        // Waiters that ran on the worker this task is on when it blocks
        // (X): their home is X. This task may move between its awaits (a
        // sibling may take it from X's LIFO slot), so X is where it is
        // once four waiters ran there.
        let mut waiters = Vec::new();
        let (x, homed) = loop {
            let (wake_tx, wake_rx) = futures::channel::oneshot::channel::<()>();
            let (ran_tx, ran_rx) = futures::channel::oneshot::channel();
            let waiter = smp_rt::spawn(async move {
                ran_tx.send(std::thread::current().id()).unwrap();
                // Waiters left out below see their sender dropped.
                let _ = wake_rx.await;
                std::thread::current().id()
            });
            waiters.push((ran_rx.await.unwrap(), wake_tx, waiter));
            let here = std::thread::current().id();
            if waiters.iter().filter(|(ran, ..)| *ran == here).count() >= 4 {
                let homed: Vec<_> = waiters
                    .into_iter()
                    .filter(|(ran, ..)| *ran == here)
                    .map(|(_, wake_tx, waiter)| (wake_tx, waiter))
                    .collect();
                break (here, homed);
            }
        };
        homed_tx.send((x, homed)).unwrap();
        // Stuck: X polls this task until the test releases it.
        release_rx.recv().unwrap();
    });
    let (x, homed) = homed_rx.recv().unwrap();
    // Keep Y busy: a task that yields until told to stop.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let spinner = rt.spawn({
        let stop = stop.clone();
        async move {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                task::yield_now().await;
            }
        }
    });
    let (wakers, waiters): (Vec<_>, Vec<_>) = homed.into_iter().unzip();
    std::thread::spawn(move || {
        for wake in wakers {
            wake.send(()).unwrap();
        }
    })
    .join()
    .unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    rt.spawn(async move {
        let mut ran_on = Vec::new();
        for waiter in waiters {
            ran_on.push(waiter.await.unwrap());
        }
        done_tx.send(ran_on).unwrap();
    });
    let ran_on = done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("work woken to a stuck worker waited for it");
    assert!(
        ran_on.iter().all(|&t| t != x),
        "{ran_on:?} ran on the stuck worker"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    release_tx.send(()).unwrap();
    rt.block_on(spinner).unwrap();
    rt.block_on(blocker).unwrap();
}

#[test]
fn a_busy_worker_takes_the_queue_of_a_stuck_sibling() {
    // Worker Y is kept busy by a task that yields (it always has local
    // work, so it never steals). Then a task on worker X spawns children,
    // which queue on X, and blocks X. Only Y's check for stalled siblings
    // can run the children before X is released.
    let rt = multi_thread(2);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (spinning_tx, spinning_rx) = std::sync::mpsc::channel();
    let spinner = rt.spawn({
        let stop = stop.clone();
        async move {
            spinning_tx.send(()).unwrap();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                task::yield_now().await;
            }
        }
    });
    spinning_rx.recv().unwrap();
    const CHILDREN: usize = 16;
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (ran_tx, ran_rx) = std::sync::mpsc::channel();
    let (x_tx, x_rx) = std::sync::mpsc::channel();
    let blocker = rt.spawn(async move {
        for _ in 0..CHILDREN {
            let ran_tx = ran_tx.clone();
            smp_rt::spawn(async move {
                ran_tx.send(std::thread::current().id()).unwrap();
            });
        }
        x_tx.send(std::thread::current().id()).unwrap();
        // Stuck: X polls this task until the test releases it.
        release_rx.recv().unwrap();
    });
    let x = x_rx.recv().unwrap();
    let ran_on: Vec<_> = (0..CHILDREN)
        .map(|_| {
            ran_rx
                .recv_timeout(Duration::from_secs(60))
                .expect("tasks queued on a stuck worker waited for it")
        })
        .collect();
    assert!(
        ran_on.iter().all(|&t| t != x),
        "{ran_on:?} ran on the stuck worker"
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    release_tx.send(()).unwrap();
    rt.block_on(spinner).unwrap();
    rt.block_on(blocker).unwrap();
}

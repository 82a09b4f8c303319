//! Where a woken task goes: woken by a task on its own worker, it runs next
//! (the LIFO slot), but a ping-ponging pair cannot keep the worker to
//! itself; woken from another thread, it goes back to its own worker.

use std::sync::{Arc, Mutex};

use futures::channel::{mpsc, oneshot};
use futures::{SinkExt, StreamExt};
use smp_rt::runtime::Builder;

type Log = Arc<Mutex<Vec<String>>>;

fn push(log: &Log, entry: impl Into<String>) {
    log.lock().unwrap().push(entry.into());
}

#[test]
fn a_task_woken_by_a_task_runs_next() {
    let rt = Builder::new_current_thread().build().unwrap();
    let log: Log = Arc::default();
    rt.block_on(async {
        let (tx, rx) = oneshot::channel::<()>();
        let l = log.clone();
        let waiter = smp_rt::spawn(async move {
            push(&l, "waiter waits");
            rx.await.unwrap();
            push(&l, "waiter woken");
        });
        let l = log.clone();
        let sender = smp_rt::spawn(async move {
            push(&l, "sender sends");
            tx.send(()).unwrap();
        });
        let fillers: Vec<_> = (0..3)
            .map(|i| {
                let l = log.clone();
                smp_rt::spawn(async move { push(&l, format!("filler {i}")) })
            })
            .collect();
        waiter.await.unwrap();
        sender.await.unwrap();
        for f in fillers {
            f.await.unwrap();
        }
    });
    assert_eq!(
        *log.lock().unwrap(),
        vec![
            "waiter waits",
            "sender sends",
            "waiter woken",
            "filler 0",
            "filler 1",
            "filler 2"
        ]
    );
}

#[test]
fn a_ping_pong_pair_does_not_starve_the_queue() {
    let rt = Builder::new_current_thread().build().unwrap();
    let log: Log = Arc::default();
    rt.block_on(async {
        let (mut to_b, mut b_rx) = mpsc::channel::<u32>(1);
        let (mut to_a, mut a_rx) = mpsc::channel::<u32>(1);
        let l = log.clone();
        let a = smp_rt::spawn(async move {
            for round in 0..50 {
                push(&l, format!("ping {round}"));
                to_b.send(round).await.unwrap();
                a_rx.next().await.unwrap();
            }
        });
        let b = smp_rt::spawn(async move {
            while let Some(round) = b_rx.next().await {
                if to_a.send(round).await.is_err() {
                    break;
                }
            }
        });
        let l = log.clone();
        let bystander = smp_rt::spawn(async move { push(&l, "bystander") });
        a.await.unwrap();
        bystander.await.unwrap();
        drop(b);
    });
    let log = log.lock().unwrap();
    let at = log.iter().position(|e| e == "bystander").unwrap();
    // With the LIFO slot uncapped the pair would run all 50 rounds first.
    assert!(
        at < 10,
        "the bystander waited for {at} ping-pong rounds: {log:?}"
    );
}

#[test]
fn a_remote_wake_returns_the_task_to_its_worker() {
    // Worker X is held by `blocker` for the whole test, so it can neither
    // run nor steal anything: the waiters it spawns are stolen by worker Y,
    // and when plain threads wake them they must come back to Y.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let (spawned_tx, spawned_rx) = std::sync::mpsc::channel();
    let blocker = rt.spawn(async move {
        let mut wakers = Vec::new();
        let mut waiters = Vec::new();
        for _ in 0..20 {
            let (wake_tx, wake_rx) = oneshot::channel::<()>();
            wakers.push(wake_tx);
            waiters.push(smp_rt::spawn(async move {
                let first = std::thread::current().id();
                wake_rx.await.unwrap();
                (first, std::thread::current().id())
            }));
        }
        spawned_tx
            .send((std::thread::current().id(), wakers, waiters))
            .unwrap();
        release_rx.recv().unwrap();
    });
    let (blocked, wakers, waiters) = spawned_rx.recv().unwrap();
    std::thread::spawn(move || {
        for wake in wakers {
            wake.send(()).unwrap();
        }
    })
    .join()
    .unwrap();
    for w in waiters {
        let (first, resumed) = futures::executor::block_on(w).unwrap();
        assert_ne!(first, blocked, "worker X is blocked");
        assert_eq!(first, resumed, "a task resumed away from its worker");
    }
    release_tx.send(()).unwrap();
    rt.block_on(blocker).unwrap();
}

#[test]
fn a_task_woken_by_a_task_while_its_worker_sleeps_runs_on_the_wakers_worker() {
    // Waking a parked home worker would cost a futex wake-up for nothing
    // warm: the task runs where it was woken instead.
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let waiter = rt.spawn(async move {
        started_tx.send(()).unwrap();
        rx.await.unwrap();
        std::thread::current().id()
    });
    started_rx.recv().unwrap();
    // Let both workers run out of work and park (a worker spins for
    // microseconds before it parks).
    std::thread::sleep(std::time::Duration::from_millis(100));
    let waker = rt.spawn(async move {
        tx.send(()).unwrap();
        std::thread::current().id()
    });
    let woke_on = rt.block_on(waker).unwrap();
    let resumed_on = rt.block_on(waiter).unwrap();
    assert_eq!(resumed_on, woke_on);
}

//! The sync primitives inside the runtime: each operation charges a
//! reduction (a task draining a full channel is preempted), and a value
//! sent from a plain thread wakes the waiting task.

use std::sync::Arc;

use smp_rt::runtime::Builder;
use smp_rt::sync::{Mutex, Notify, Semaphore, mpsc, oneshot};
use smp_rt::task;

mod common;
use common::preemptions_of;

#[test]
fn sends_that_never_wait_charge_a_reduction_each() {
    // Unbounded and oneshot sends are synchronous: they charge without
    // yielding. Task stats count up to the last completed poll, so each
    // measurement ends a poll first.
    let rt = Builder::new_current_thread()
        .reductions(10_000)
        .build()
        .unwrap();
    let charged = rt.block_on(async {
        smp_rt::spawn(async {
            let (tx, _rx) = mpsc::unbounded_channel();
            let (once_tx, _once_rx) = oneshot::channel();
            task::yield_now().await;
            let before = task::stats().reductions;
            for i in 0..100 {
                tx.send(i).unwrap();
            }
            once_tx.send(()).unwrap();
            task::yield_now().await;
            task::stats().reductions - before
        })
        .await
        .unwrap()
    });
    assert!(charged >= 101, "101 sends charged {charged} reductions");
}

#[test]
fn mpsc_recv_charges_reductions() {
    let n = preemptions_of(|| async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..400 {
            tx.send(i).unwrap();
        }
        drop(tx);
        let mut sum = 0;
        while let Some(v) = rx.recv().await {
            sum += v;
        }
        assert_eq!(sum, 79_800);
    });
    assert!(
        n >= 4,
        "400 receives in the smallest slices: {n} preemptions"
    );
}

#[test]
fn bounded_send_charges_reductions() {
    let n = preemptions_of(|| async {
        let (tx, mut rx) = mpsc::channel(1000);
        for i in 0..400 {
            tx.send(i).await.unwrap();
        }
        assert_eq!(rx.try_recv().unwrap(), 0);
    });
    assert!(n >= 4, "{n} preemptions");
}

#[test]
fn mutex_semaphore_and_notify_charge_reductions() {
    let n = preemptions_of(|| async {
        let mutex = Mutex::new(0);
        let sem = Semaphore::new(1);
        let notify = Notify::new();
        for _ in 0..160 {
            *mutex.lock().await += 1;
            drop(sem.acquire().await.unwrap());
            notify.notify_one();
            notify.notified().await;
        }
        assert_eq!(*mutex.lock().await, 160);
    });
    assert!(n >= 5, "{n} preemptions");
}

#[test]
fn oneshot_await_charges_a_reduction() {
    let n = preemptions_of(|| async {
        for i in 0..400 {
            let (tx, rx) = oneshot::channel();
            tx.send(i).unwrap();
            assert_eq!(rx.await.unwrap(), i);
        }
    });
    assert!(n >= 4, "{n} preemptions");
}

#[test]
fn a_oneshot_sent_from_a_plain_thread_wakes_the_task() {
    for rt in [
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
        Builder::new_current_thread().build().unwrap(),
    ] {
        let (tx, rx) = oneshot::channel();
        let waiter = rt.spawn(async move { rx.await.unwrap() });
        let sender = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(5));
            tx.send("hello").unwrap();
        });
        assert_eq!(rt.block_on(waiter).unwrap(), "hello");
        sender.join().unwrap();
    }
}

#[test]
fn channels_between_workers_and_plain_threads() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (tx, mut rx) = mpsc::channel::<u64>(16);
    let producers: Vec<_> = (0..4u64)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..5_000 {
                    // A plain thread drives the send future itself.
                    futures::executor::block_on(tx.send(p * 1_000_000 + i)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let notify = Arc::new(Notify::new());
    let n2 = notify.clone();
    let consumer = rt.spawn(async move {
        let mut last = [None::<u64>; 4];
        let mut count = 0;
        while let Some(v) = rx.recv().await {
            let p = (v / 1_000_000) as usize;
            assert!(last[p] < Some(v), "per-sender order");
            last[p] = Some(v);
            count += 1;
        }
        n2.notify_one();
        count
    });
    assert_eq!(rt.block_on(consumer).unwrap(), 20_000);
    rt.block_on(notify.notified());
    for p in producers {
        p.join().unwrap();
    }
}

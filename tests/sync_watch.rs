//! Behaviour of `sync::watch`, after tokio's `sync_watch` tests.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll};

use futures::task::noop_waker;
use smp_rt::runtime::Builder;
use smp_rt::sync::watch;
use smp_rt::task;

mod common;
use common::preemptions_of;

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

#[smp_rt::test]
async fn single_rx_recv() {
    let (tx, mut rx) = watch::channel("one");
    {
        // Not changed yet: the initial value counts as seen.
        let mut t = pin!(rx.changed());
        assert!(poll_once(&mut t).is_pending());
    }
    assert_eq!(*rx.borrow(), "one");
    tx.send("two").unwrap();
    assert!(rx.has_changed().unwrap());
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow(), "two");
    assert!(!rx.has_changed().unwrap());
    drop(tx);
    assert!(rx.changed().await.is_err());
    assert_eq!(*rx.borrow(), "two");
}

#[smp_rt::test]
async fn only_the_latest_value_is_seen() {
    let (tx, mut rx) = watch::channel(0);
    for i in 1..=10 {
        tx.send(i).unwrap();
    }
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow_and_update(), 10);
    let mut t = pin!(rx.changed());
    assert!(poll_once(&mut t).is_pending());
}

#[smp_rt::test]
async fn changed_after_close_returns_the_last_unseen_value_first() {
    let (tx, mut rx) = watch::channel(1);
    tx.send(2).unwrap();
    drop(tx);
    assert!(rx.has_changed().is_err());
    assert!(rx.changed().await.is_ok());
    assert_eq!(*rx.borrow(), 2);
    assert!(rx.changed().await.is_err());
}

#[smp_rt::test]
async fn multi_rx_and_clone_keep_their_own_version() {
    let (tx, mut rx1) = watch::channel("one");
    let mut rx2 = rx1.clone();
    tx.send("two").unwrap();
    rx1.changed().await.unwrap();
    assert_eq!(*rx1.borrow_and_update(), "two");
    let mut rx3 = rx1.clone();
    assert!(!rx3.has_changed().unwrap());
    assert!(rx2.has_changed().unwrap());
    rx2.changed().await.unwrap();
    tx.send("three").unwrap();
    rx3.changed().await.unwrap();
    assert_eq!(*rx3.borrow(), "three");
    assert_eq!(tx.receiver_count(), 3);
}

#[smp_rt::test]
async fn borrow_and_mark() {
    let (tx, mut rx) = watch::channel(0);
    assert!(!rx.borrow().has_changed());
    tx.send(1).unwrap();
    assert!(rx.borrow().has_changed());
    assert!(rx.borrow().has_changed(), "borrow does not mark as seen");
    assert!(rx.borrow_and_update().has_changed());
    assert!(!rx.borrow().has_changed());
    rx.mark_changed();
    assert!(rx.has_changed().unwrap());
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow(), 1);
    tx.send(2).unwrap();
    rx.mark_unchanged();
    assert!(!rx.has_changed().unwrap());
    assert!(!tx.borrow().has_changed());
}

#[smp_rt::test]
async fn send_variants() {
    let (tx, mut rx) = watch::channel(vec![1]);
    tx.send_modify(|v| v.push(2));
    assert!(rx.has_changed().unwrap());
    assert_eq!(*rx.borrow_and_update(), [1, 2]);
    assert!(!tx.send_if_modified(|_| false));
    assert!(!rx.has_changed().unwrap());
    assert!(tx.send_if_modified(|v| {
        v.push(3);
        true
    }));
    assert!(rx.has_changed().unwrap());
    assert_eq!(tx.send_replace(vec![9]), [1, 2, 3]);
    drop(rx);
    assert_eq!(tx.send(vec![0]).unwrap_err().0, [0]);
    // send_replace stores even without receivers.
    tx.send_replace(vec![4]);
    assert_eq!(*tx.borrow(), [4]);
    let rx = tx.subscribe();
    assert!(!rx.has_changed().unwrap());
    assert_eq!(*rx.borrow(), [4]);
}

#[smp_rt::test]
async fn sender_closed_and_is_closed() {
    let (tx, rx) = watch::channel(());
    let rx2 = rx.clone();
    assert!(!tx.is_closed());
    {
        let mut closed = pin!(tx.closed());
        assert!(poll_once(&mut closed).is_pending());
        drop(rx);
        assert!(poll_once(&mut closed).is_pending());
        drop(rx2);
        assert!(poll_once(&mut closed).is_ready());
    }
    assert!(tx.is_closed());
    assert_eq!(tx.receiver_count(), 0);
    tx.closed().await;
    let _rx = tx.subscribe();
    assert!(!tx.is_closed());
}

#[smp_rt::test]
async fn cloned_senders_close_with_the_last() {
    let (tx, mut rx) = watch::channel(0);
    let tx2 = tx.clone();
    drop(tx);
    assert!(rx.has_changed().is_ok());
    tx2.send(1).unwrap();
    drop(tx2);
    assert!(rx.changed().await.is_ok());
    assert!(rx.changed().await.is_err());
}

#[smp_rt::test]
async fn wait_for_checks_the_current_value_then_new_ones() {
    let (tx, mut rx) = watch::channel(3);
    assert_eq!(*rx.wait_for(|v| *v == 3).await.unwrap(), 3);
    let waiter = smp_rt::spawn(async move {
        let r = *rx.wait_for(|v| *v >= 10).await.unwrap();
        (r, rx)
    });
    for i in 4..=12 {
        tx.send(i).unwrap();
        task::yield_now().await;
    }
    let (v, mut rx) = waiter.await.unwrap();
    assert!(v >= 10);
    // The last value is seen by the predicate even after close.
    tx.send(20).unwrap();
    drop(tx);
    assert_eq!(*rx.wait_for(|v| *v == 20).await.unwrap(), 20);
    assert!(rx.wait_for(|v| *v == 21).await.is_err());
}

#[smp_rt::test]
async fn dropping_a_waiting_changed_loses_nothing() {
    let (tx, mut rx) = watch::channel(0);
    {
        let mut t = pin!(rx.changed());
        assert!(poll_once(&mut t).is_pending());
    }
    tx.send(1).unwrap();
    rx.changed().await.unwrap();
    assert_eq!(*rx.borrow(), 1);
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_see_the_final_value() {
    let (tx, rx) = watch::channel(0u64);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let mut rx = rx.clone();
            smp_rt::spawn(async move {
                let mut last = *rx.borrow_and_update();
                while rx.changed().await.is_ok() {
                    let v = *rx.borrow_and_update();
                    assert!(v > last, "values are seen in order");
                    last = v;
                }
                last
            })
        })
        .collect();
    drop(rx);
    for i in 1..=2_000 {
        tx.send(i).unwrap();
        if i % 64 == 0 {
            task::yield_now().await;
        }
    }
    drop(tx);
    for t in tasks {
        assert_eq!(t.await.unwrap(), 2_000);
    }
}

#[test]
fn a_value_sent_from_a_plain_thread_wakes_the_task() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (tx, mut rx) = watch::channel(0);
    let waiter = rt.spawn(async move { rx.wait_for(|v| *v == 5).await.map(|v| *v).unwrap() });
    let sender = std::thread::spawn(move || {
        for i in 1..=5 {
            tx.send(i).unwrap();
        }
    });
    assert_eq!(rt.block_on(waiter).unwrap(), 5);
    sender.join().unwrap();
}

#[test]
fn channel_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<watch::Sender<Vec<u8>>>();
    send_sync::<watch::Receiver<Vec<u8>>>();
    send_sync::<watch::error::SendError<u8>>();
    send_sync::<watch::error::RecvError>();
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = watch::channel(0);
    send(&rx.changed());
    send(&tx.closed());
    send(&rx.wait_for(|_| true));
}

#[test]
fn error_formatting() {
    let (tx, rx) = watch::channel(1);
    drop(rx);
    let err = tx.send(2).unwrap_err();
    assert_eq!(format!("{err}"), "channel closed");
    assert_eq!(format!("{err:?}"), "SendError { .. }");
    drop(tx);
}

#[test]
fn waiting_futures_charge_a_reduction_per_poll() {
    let n = preemptions_of(|| async {
        let (tx, mut rx) = watch::channel(0);
        for i in 1..=400 {
            tx.send(i).unwrap();
            rx.changed().await.unwrap();
            assert_eq!(*rx.wait_for(|v| *v == i).await.unwrap(), i);
        }
    });
    assert!(
        n >= 4,
        "800 ready awaits in the smallest slices: {n} preemptions"
    );
    let n = preemptions_of(|| async {
        let (tx, rx) = watch::channel(0);
        drop(rx);
        for _ in 0..400 {
            tx.closed().await;
        }
    });
    assert!(n >= 4, "{n} preemptions");
}

#[test]
fn sends_charge_a_reduction_each() {
    let rt = Builder::new_current_thread()
        .reductions(10_000)
        .build()
        .unwrap();
    let charged = rt.block_on(async {
        smp_rt::spawn(async {
            let (tx, _rx) = watch::channel(0);
            task::yield_now().await;
            let before = task::stats().reductions;
            for i in 0..100 {
                tx.send(i).unwrap();
                tx.send_replace(i);
                tx.send_modify(|v| *v += 1);
                tx.send_if_modified(|_| false);
            }
            task::yield_now().await;
            task::stats().reductions - before
        })
        .await
        .unwrap()
    });
    assert!(charged >= 400, "400 sends charged {charged} reductions");
}

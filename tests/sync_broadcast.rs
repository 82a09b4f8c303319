//! Behaviour of `sync::broadcast`, after tokio's `sync_broadcast` tests.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use futures::task::noop_waker;
use smp_rt::runtime::Builder;
use smp_rt::sync::broadcast::{
    self,
    error::{RecvError, TryRecvError},
};
use smp_rt::task;

mod common;
use common::preemptions_of;

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

#[smp_rt::test]
async fn send_try_recv_bounded() {
    let (tx, mut rx) = broadcast::channel(16);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.send("hello").unwrap(), 1);
    assert_eq!(rx.try_recv(), Ok("hello"));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[smp_rt::test]
async fn send_two_recv() {
    let (tx, mut rx1) = broadcast::channel(16);
    let mut rx2 = tx.subscribe();
    assert_eq!(tx.send("hello").unwrap(), 2);
    assert_eq!(rx1.recv().await.unwrap(), "hello");
    assert_eq!(rx2.recv().await.unwrap(), "hello");
    assert_eq!(tx.send("world").unwrap(), 2);
    assert_eq!(rx1.try_recv(), Ok("world"));
    assert_eq!(rx2.try_recv(), Ok("world"));
}

#[smp_rt::test]
async fn values_arrive_in_order() {
    let (tx, mut rx) = broadcast::channel(64);
    for i in 0..50 {
        tx.send(i).unwrap();
    }
    for i in 0..50 {
        assert_eq!(rx.recv().await.unwrap(), i);
    }
}

#[smp_rt::test]
async fn recv_waits_and_a_send_wakes_it() {
    let (tx, mut rx) = broadcast::channel(4);
    let waiter = smp_rt::spawn(async move { rx.recv().await });
    task::yield_now().await;
    tx.send(7).unwrap();
    assert_eq!(waiter.await.unwrap(), Ok(7));
}

#[smp_rt::test]
async fn lagging_receiver_recovers() {
    let (tx, mut rx) = broadcast::channel(2);
    tx.send("one").unwrap();
    tx.send("two").unwrap();
    tx.send("three").unwrap();
    assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
    assert_eq!(rx.recv().await.unwrap(), "two");
    assert_eq!(rx.recv().await.unwrap(), "three");
    for i in 0..10 {
        tx.send(if i % 2 == 0 { "even" } else { "odd" }).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(8)));
    assert_eq!(rx.try_recv(), Ok("even"));
    assert_eq!(rx.try_recv(), Ok("odd"));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[smp_rt::test]
async fn capacity_is_rounded_up_to_a_power_of_two() {
    let (tx, mut rx) = broadcast::channel(3);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.recv().await, Err(RecvError::Lagged(1)));
    for i in 1..5 {
        assert_eq!(rx.recv().await.unwrap(), i);
    }
}

#[test]
#[should_panic(expected = "broadcast channel capacity cannot be zero")]
fn zero_capacity_panics() {
    let _ = broadcast::channel::<()>(0);
}

#[smp_rt::test]
async fn closing_delivers_what_is_left_then_closed() {
    let (tx, mut rx) = broadcast::channel(4);
    let tx2 = tx.clone();
    tx.send(1).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    tx2.send(2).unwrap();
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(rx.recv().await.unwrap(), 1);
    assert_eq!(rx.recv().await.unwrap(), 2);
    assert_eq!(rx.recv().await, Err(RecvError::Closed));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[smp_rt::test]
async fn closing_wakes_a_waiting_receiver() {
    let (tx, mut rx) = broadcast::channel::<u8>(4);
    let waiter = smp_rt::spawn(async move { rx.recv().await });
    task::yield_now().await;
    drop(tx);
    assert_eq!(waiter.await.unwrap(), Err(RecvError::Closed));
}

#[smp_rt::test]
async fn lagged_then_closed() {
    let (tx, mut rx) = broadcast::channel(2);
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    drop(tx);
    assert_eq!(rx.recv().await, Err(RecvError::Lagged(2)));
    assert_eq!(rx.recv().await.unwrap(), 2);
    assert_eq!(rx.recv().await.unwrap(), 3);
    assert_eq!(rx.recv().await, Err(RecvError::Closed));
}

#[smp_rt::test]
async fn send_without_receivers_fails() {
    let (tx, rx) = broadcast::channel(4);
    drop(rx);
    assert_eq!(tx.send(5).unwrap_err().0, 5);
    let mut rx = tx.subscribe();
    assert_eq!(tx.send(6).unwrap(), 1);
    assert_eq!(rx.recv().await.unwrap(), 6);
}

#[smp_rt::test]
async fn subscribe_and_resubscribe_start_at_the_tail() {
    let (tx, mut rx) = broadcast::channel(8);
    tx.send(1).unwrap();
    let mut rx2 = tx.subscribe();
    let mut rx3 = rx.resubscribe();
    tx.send(2).unwrap();
    assert_eq!(rx.recv().await.unwrap(), 1);
    assert_eq!(rx2.recv().await.unwrap(), 2);
    assert_eq!(rx3.recv().await.unwrap(), 2);
    assert_eq!(tx.receiver_count(), 3);
    assert!(rx.same_channel(&rx2));
}

#[smp_rt::test]
async fn len_counts_values_some_receiver_needs() {
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    assert!(tx.is_empty());
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    assert_eq!(tx.len(), 3);
    assert_eq!(rx1.len(), 3);
    rx1.recv().await.unwrap();
    assert_eq!(tx.len(), 3);
    assert_eq!(rx1.len(), 2);
    rx2.recv().await.unwrap();
    assert_eq!(tx.len(), 2);
    drop(rx2);
    assert_eq!(tx.len(), 2);
    drop(rx1);
    assert_eq!(tx.len(), 0);
    assert!(tx.is_empty());
}

#[derive(Clone)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[smp_rt::test]
async fn values_are_dropped_once_every_receiver_has_them() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, mut rx1) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    tx.send(Counted(drops.clone())).unwrap();
    drop(rx1.recv().await.unwrap());
    assert_eq!(drops.load(SeqCst), 1, "rx1's clone");
    drop(rx2.recv().await.unwrap());
    assert_eq!(drops.load(SeqCst), 2, "the channel kept none");
    tx.send(Counted(drops.clone())).unwrap();
    drop(rx1);
    assert_eq!(drops.load(SeqCst), 2);
    drop(rx2);
    assert_eq!(drops.load(SeqCst), 3, "dropping the receivers frees it");
}

#[smp_rt::test]
async fn dropping_a_waiting_recv_loses_nothing() {
    let (tx, mut rx) = broadcast::channel(4);
    let mut rx2 = tx.subscribe();
    let other = smp_rt::spawn(async move { rx2.recv().await });
    task::yield_now().await;
    {
        let mut recv = pin!(rx.recv());
        assert!(poll_once(&mut recv).is_pending());
    }
    tx.send(1).unwrap();
    // The dropped future took nothing, and the other waiter was woken.
    assert_eq!(rx.recv().await.unwrap(), 1);
    assert_eq!(other.await.unwrap(), Ok(1));
}

#[smp_rt::test]
async fn sender_closed() {
    let (tx, rx1) = broadcast::channel::<u8>(4);
    let rx2 = tx.subscribe();
    {
        let mut closed = pin!(tx.closed());
        assert!(poll_once(&mut closed).is_pending());
        drop(rx1);
        assert!(poll_once(&mut closed).is_pending());
        drop(rx2);
        assert!(poll_once(&mut closed).is_ready());
    }
    tx.closed().await;
}

/// Panics in its `Drop`.
#[derive(Clone)]
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("a value whose destructor panics");
    }
}

/// The last receiver drops a value whose destructor panics: the panic
/// reaches whoever dropped the receiver, and the senders waiting in
/// `closed()` hear of it all the same.
#[test]
fn the_last_receiver_dropped_with_a_panicking_value_still_ends_closed() {
    let (tx, rx) = broadcast::channel(4);
    assert!(tx.send(PanicsOnDrop).is_ok());
    let mut closed = pin!(tx.closed());
    assert!(poll_once(&mut closed).is_pending());
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rx)));
    assert!(panic.is_err(), "the destructor's panic propagates");
    assert!(poll_once(&mut closed).is_ready());
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_task_receives_every_value() {
    let (tx, _) = broadcast::channel::<u64>(4096);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let mut rx = tx.subscribe();
            smp_rt::spawn(async move {
                let mut expected = 0;
                loop {
                    match rx.recv().await {
                        Ok(v) => {
                            assert_eq!(v, expected);
                            expected += 1;
                        }
                        Err(RecvError::Closed) => return expected,
                        Err(RecvError::Lagged(n)) => panic!("lagged by {n}"),
                    }
                }
            })
        })
        .collect();
    for i in 0..2_000 {
        tx.send(i).unwrap();
        if i % 32 == 0 {
            task::yield_now().await;
        }
    }
    drop(tx);
    for t in tasks {
        assert_eq!(t.await.unwrap(), 2_000);
    }
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn lagging_tasks_see_increasing_values() {
    let (tx, _) = broadcast::channel::<u64>(2);
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let mut rx = tx.subscribe();
            smp_rt::spawn(async move {
                let mut last = None;
                let mut lagged = 0;
                loop {
                    match rx.recv().await {
                        Ok(v) => {
                            assert!(last < Some(v));
                            last = Some(v);
                        }
                        Err(RecvError::Closed) => return (last, lagged),
                        Err(RecvError::Lagged(n)) => lagged += n,
                    }
                }
            })
        })
        .collect();
    for i in 0..2_000 {
        tx.send(i).unwrap();
    }
    drop(tx);
    for t in tasks {
        let (last, _) = t.await.unwrap();
        assert_eq!(last, Some(1_999));
    }
}

#[test]
fn blocking_recv_on_a_plain_thread() {
    let (tx, mut rx) = broadcast::channel(4);
    let t = std::thread::spawn(move || rx.blocking_recv());
    tx.send(3).unwrap();
    assert_eq!(t.join().unwrap(), Ok(3));
}

#[test]
fn channel_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<broadcast::Sender<Vec<u8>>>();
    send_sync::<broadcast::Receiver<Vec<u8>>>();
    send_sync::<broadcast::error::SendError<u8>>();
    send_sync::<RecvError>();
    send_sync::<TryRecvError>();
    fn send<T: Send>(_: &T) {}
    let (tx, mut rx) = broadcast::channel::<u8>(1);
    send(&rx.recv());
    send(&tx.closed());
}

#[test]
fn error_formatting() {
    assert_eq!(RecvError::Closed.to_string(), "channel closed");
    assert_eq!(RecvError::Lagged(3).to_string(), "channel lagged by 3");
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    assert_eq!(TryRecvError::Closed.to_string(), "channel closed");
    assert_eq!(TryRecvError::Lagged(2).to_string(), "channel lagged by 2");
    let err = broadcast::error::SendError(1);
    assert_eq!(err.to_string(), "channel closed");
    assert_eq!(format!("{err:?}"), "SendError { .. }");
}

#[test]
fn waiting_futures_charge_a_reduction_per_poll() {
    let n = preemptions_of(|| async {
        let (tx, mut rx) = broadcast::channel(1024);
        for i in 0..400 {
            tx.send(i).unwrap();
        }
        for i in 0..400 {
            assert_eq!(rx.recv().await.unwrap(), i);
        }
    });
    assert!(
        n >= 4,
        "400 receives in the smallest slices: {n} preemptions"
    );
    let n = preemptions_of(|| async {
        let (tx, rx) = broadcast::channel::<u8>(1);
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
            let (tx, _rx) = broadcast::channel(8);
            task::yield_now().await;
            let before = task::stats().reductions;
            for i in 0..100 {
                tx.send(i).unwrap();
            }
            task::yield_now().await;
            task::stats().reductions - before
        })
        .await
        .unwrap()
    });
    assert!(charged >= 100, "100 sends charged {charged} reductions");
}

#[smp_rt::test]
async fn a_weak_sender_does_not_keep_the_channel_open() {
    let (tx, mut rx) = broadcast::channel::<u32>(4);
    let weak = tx.downgrade();
    let also_weak = weak.clone();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 2));
    let upgraded = weak.upgrade().expect("a sender is alive");
    upgraded.send(1).unwrap();
    assert_eq!(weak.strong_count(), 2);
    drop(upgraded);
    drop(tx);
    // Only weak senders are left: the channel is closed and stays closed.
    assert_eq!(rx.recv().await, Ok(1));
    assert_eq!(rx.recv().await, Err(broadcast::error::RecvError::Closed));
    assert!(also_weak.upgrade().is_none());
    assert_eq!((weak.strong_count(), weak.weak_count()), (0, 2));
    drop(also_weak);
    assert_eq!(weak.weak_count(), 1);
}

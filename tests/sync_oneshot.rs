//! Behaviour of `sync::oneshot`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};
use std::thread;

use futures::FutureExt;
use futures::executor::block_on;
use futures::task::ArcWake;

use smp_rt::sync::oneshot;
use smp_rt::sync::oneshot::error::{RecvError, TryRecvError};

/// Shrinks iteration counts under Miri, which runs code far slower.
const fn scale(n: usize) -> usize {
    if cfg!(miri) { 1 + n / 200 } else { n }
}

struct WakeCount(AtomicUsize);

impl ArcWake for WakeCount {
    fn wake_by_ref(this: &Arc<Self>) {
        this.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<WakeCount>, Waker) {
    let count = Arc::new(WakeCount(AtomicUsize::new(0)));
    let waker = futures::task::waker(Arc::clone(&count));
    (count, waker)
}

/// Counts how many times values were dropped.
struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn send_then_receive() {
    let (tx, rx) = oneshot::channel();
    tx.send(7).unwrap();
    assert_eq!(block_on(rx), Ok(7));
}

#[test]
fn send_wakes_pending_receiver() {
    let (tx, rx) = oneshot::channel();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut rx = pin!(rx);
    assert!(rx.as_mut().poll(&mut cx).is_pending());
    assert_eq!(count.0.load(SeqCst), 0);
    tx.send("hi").unwrap();
    assert_eq!(count.0.load(SeqCst), 1);
    assert_eq!(rx.as_mut().poll(&mut cx), Poll::Ready(Ok("hi")));
}

#[test]
fn dropping_sender_resolves_receiver_to_error() {
    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    let err: RecvError = block_on(rx).unwrap_err();
    assert_eq!(err.to_string(), "channel closed");
}

#[test]
fn dropping_sender_wakes_pending_receiver() {
    let (tx, rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut rx = pin!(rx);
    assert!(rx.as_mut().poll(&mut cx).is_pending());
    drop(tx);
    assert_eq!(count.0.load(SeqCst), 1);
    assert!(matches!(rx.as_mut().poll(&mut cx), Poll::Ready(Err(_))));
}

#[test]
fn try_recv_reports_empty_value_then_closed() {
    let (tx, mut rx) = oneshot::channel();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.is_empty());
    tx.send(1).unwrap();
    assert!(!rx.is_empty());
    assert!(!rx.is_terminated());
    assert_eq!(rx.try_recv(), Ok(1));
    assert!(rx.is_terminated());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));

    let (tx, mut rx) = oneshot::channel::<()>();
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn send_fails_once_receiver_is_dropped_or_closed() {
    let (tx, rx) = oneshot::channel();
    assert!(!tx.is_closed());
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(3), Err(3));

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.send(4), Err(4));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn awaiting_closed_receiver_gives_error() {
    let (tx, mut rx) = oneshot::channel::<u8>();
    rx.close();
    assert!(block_on(&mut rx).is_err());
    drop(tx);
}

#[test]
fn value_sent_before_close_can_still_be_received() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(5).unwrap();
    rx.close();
    assert_eq!(block_on(rx), Ok(5));
}

#[test]
fn send_from_plain_thread_wakes_awaiting_task() {
    for i in 0..scale(1000) as u32 {
        let (tx, rx) = oneshot::channel();
        let t = thread::spawn(move || tx.send(i).unwrap());
        assert_eq!(block_on(rx), Ok(i));
        t.join().unwrap();
    }
}

#[test]
fn sender_dropped_on_plain_thread_wakes_awaiting_task() {
    for _ in 0..scale(1000) {
        let (tx, rx) = oneshot::channel::<u32>();
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        t.join().unwrap();
    }
}

#[test]
fn ping_pong_between_threads() {
    const ROUNDS: u32 = scale(2000) as u32;
    let (to_b, from_a) = std::sync::mpsc::channel::<oneshot::Sender<(u32, oneshot::Sender<u32>)>>();
    let b = thread::spawn(move || {
        block_on(async move {
            let mut expected = 0;
            while let Ok(reply) = from_a.recv() {
                let (tx, rx) = oneshot::channel();
                reply.send((expected, tx)).ok().unwrap();
                assert_eq!(rx.await, Ok(expected + 1));
                expected += 2;
            }
            expected
        })
    });
    block_on(async {
        for round in 0..ROUNDS {
            let (tx, rx) = oneshot::channel();
            to_b.send(tx).unwrap();
            let (n, back) = rx.await.unwrap();
            assert_eq!(n, round * 2);
            back.send(n + 1).unwrap();
        }
    });
    drop(to_b);
    assert_eq!(b.join().unwrap(), ROUNDS * 2);
}

#[test]
fn unreceived_value_is_dropped_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));

    let (tx, rx) = oneshot::channel();
    tx.send(DropCounter(Arc::clone(&drops))).ok().unwrap();
    drop(rx);
    assert_eq!(drops.load(SeqCst), 1);

    let (tx, rx) = oneshot::channel();
    tx.send(DropCounter(Arc::clone(&drops))).ok().unwrap();
    let v = block_on(rx).ok().unwrap();
    assert_eq!(drops.load(SeqCst), 1);
    drop(v);
    assert_eq!(drops.load(SeqCst), 2);

    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(DropCounter(Arc::clone(&drops))).err().unwrap();
    assert_eq!(drops.load(SeqCst), 2);
    drop(back);
    assert_eq!(drops.load(SeqCst), 3);
}

#[test]
fn sender_closed_completes_when_receiver_goes_away() {
    let (mut tx, mut rx) = oneshot::channel::<u8>();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(tx.poll_closed(&mut cx).is_pending());
    rx.close();
    assert_eq!(count.0.load(SeqCst), 1);
    assert!(tx.poll_closed(&mut cx).is_ready());

    let (mut tx, rx) = oneshot::channel::<u8>();
    let t = thread::spawn(move || drop(rx));
    block_on(tx.closed());
    assert!(tx.is_closed());
    t.join().unwrap();
}

#[test]
fn sender_closed_stays_pending_while_receiver_lives() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    assert!(tx.closed().now_or_never().is_none());
    drop(rx);
    assert!(tx.closed().now_or_never().is_some());
}

#[test]
fn errors_implement_error_display_debug() {
    let (tx, rx) = oneshot::channel::<()>();
    drop(tx);
    let err: Box<dyn std::error::Error + Send + Sync> = Box::new(block_on(rx).unwrap_err());
    assert_eq!(err.to_string(), "channel closed");
    assert_eq!(TryRecvError::Empty.to_string(), "channel empty");
    assert_eq!(TryRecvError::Closed.to_string(), "channel closed");
    assert_eq!(format!("{:?}", TryRecvError::Empty), "Empty");
}

#[test]
fn halves_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<oneshot::Sender<Vec<u8>>>();
    assert_send_sync::<oneshot::Receiver<Vec<u8>>>();
    fn assert_unpin<T: Unpin>() {}
    assert_unpin::<oneshot::Receiver<std::marker::PhantomPinned>>();
}

//! Behaviour of `sync::mpsc`, bounded and unbounded.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use futures::FutureExt;
use futures::executor::block_on;
use futures::task::ArcWake;

use smp_rt::sync::mpsc;
use smp_rt::sync::mpsc::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};

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

fn wakes(count: &WakeCount) -> usize {
    count.0.load(SeqCst)
}

struct DropCounter(Arc<AtomicUsize>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A message type without `Debug`.
#[derive(PartialEq, Eq)]
struct Opaque(u32);

const THREADS: usize = 4;
const PER_THREAD: u32 = scale(5000) as u32;

/// Checks per-sender order and counts messages of `(sender, seq)`.
fn check_stream(messages: impl IntoIterator<Item = (usize, u32)>) -> usize {
    let mut next = [0u32; THREADS];
    let mut total = 0;
    for (sender, seq) in messages {
        assert_eq!(seq, next[sender], "sender {sender} out of order");
        next[sender] += 1;
        total += 1;
    }
    assert!(next.iter().all(|&n| n == PER_THREAD));
    total
}

#[test]
fn bounded_delivers_in_order() {
    block_on(async {
        let (tx, mut rx) = mpsc::channel(3);
        let producer = thread::spawn(move || {
            block_on(async {
                for i in 0..scale(1000) {
                    tx.send(i).await.unwrap();
                }
            })
        });
        for i in 0..scale(1000) {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
        producer.join().unwrap();
    });
}

#[test]
#[should_panic(expected = "mpsc bounded channel requires buffer > 0")]
fn bounded_with_zero_capacity_panics() {
    let _ = mpsc::channel::<u8>(0);
}

#[test]
fn bounded_many_senders_lose_nothing_and_keep_order() {
    // A small buffer (preallocated) and a large one (grown on demand).
    many_senders_bounded(16);
    many_senders_bounded(2000);
}

fn many_senders_bounded(buffer: usize) {
    let (tx, mut rx) = mpsc::channel::<(usize, u32)>(buffer);
    let producers: Vec<_> = (0..THREADS)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                block_on(async {
                    for seq in 0..PER_THREAD {
                        tx.send((id, seq)).await.unwrap();
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let received = block_on(async {
        let mut all = Vec::new();
        while let Some(m) = rx.recv().await {
            all.push(m);
        }
        all
    });
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(check_stream(received), THREADS * PER_THREAD as usize);
}

#[test]
fn bounded_try_send_from_many_threads_loses_nothing() {
    let (tx, mut rx) = mpsc::channel::<(usize, u32)>(4);
    let producers: Vec<_> = (0..THREADS)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                let mut seq = 0;
                while seq < PER_THREAD {
                    match tx.try_send((id, seq)) {
                        Ok(()) => seq += 1,
                        Err(TrySendError::Full(_)) => thread::yield_now(),
                        Err(TrySendError::Closed(_)) => panic!("closed early"),
                    }
                }
            })
        })
        .collect();
    drop(tx);
    let mut received = Vec::new();
    let mut buf = Vec::new();
    block_on(async {
        while rx.recv_many(&mut buf, 8).await > 0 {
            received.append(&mut buf);
        }
    });
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(check_stream(received), THREADS * PER_THREAD as usize);
}

#[test]
fn unbounded_many_senders_lose_nothing_and_keep_order() {
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, u32)>();
    let producers: Vec<_> = (0..THREADS)
        .map(|id| {
            let tx = tx.clone();
            thread::spawn(move || {
                for seq in 0..PER_THREAD {
                    tx.send((id, seq)).unwrap();
                }
            })
        })
        .collect();
    drop(tx);
    let received = block_on(async {
        let mut all = Vec::new();
        while let Some(m) = rx.recv().await {
            all.push(m);
        }
        all
    });
    for p in producers {
        p.join().unwrap();
    }
    assert_eq!(check_stream(received), THREADS * PER_THREAD as usize);
}

/// Senders race a receiver that closes midway: every send that reported
/// success must be received before `None`.
#[test]
fn close_racing_senders_never_drops_a_successful_send() {
    for _ in 0..scale(20) {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let (btx, mut brx) = mpsc::channel::<u32>(8);
        let producers: Vec<_> = (0..THREADS)
            .map(|_| {
                let tx = tx.clone();
                let btx = btx.clone();
                thread::spawn(move || {
                    let mut ok = 0usize;
                    while tx.send(1).is_ok() {
                        ok += 1;
                    }
                    let mut bok = 0usize;
                    while block_on(btx.send(1)).is_ok() {
                        bok += 1;
                    }
                    (ok, bok)
                })
            })
            .collect();
        drop(tx);
        drop(btx);
        let (got, bgot) = block_on(async {
            let mut got = 0;
            while got < scale(1000) {
                rx.recv().await.unwrap();
                got += 1;
            }
            rx.close();
            while rx.recv().await.is_some() {
                got += 1;
            }
            let mut bgot = 0;
            while bgot < scale(1000) {
                brx.recv().await.unwrap();
                bgot += 1;
            }
            brx.close();
            while brx.recv().await.is_some() {
                bgot += 1;
            }
            (got, bgot)
        });
        let (mut sent, mut bsent) = (0, 0);
        for p in producers {
            let (ok, bok) = p.join().unwrap();
            sent += ok;
            bsent += bok;
        }
        assert_eq!(got, sent);
        assert_eq!(bgot, bsent);
    }
}

#[test]
fn recv_returns_none_after_all_senders_dropped_and_queue_drained() {
    block_on(async {
        let (tx, mut rx) = mpsc::channel(4);
        let tx2 = tx.clone();
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
        drop(tx);
        assert!(!rx.is_closed());
        drop(tx2);
        assert!(rx.is_closed());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(1).unwrap();
        drop(tx);
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn last_sender_dropped_on_thread_wakes_receiver() {
    for _ in 0..scale(500) {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        let t = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();

        let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
        let t = thread::spawn(move || drop(tx));
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    }
}

#[test]
fn sends_fail_with_value_once_receiver_dropped() {
    block_on(async {
        let (tx, rx) = mpsc::channel(2);
        assert!(!tx.is_closed());
        drop(rx);
        assert!(tx.is_closed());
        assert!(tx.send(Opaque(1)).await.unwrap_err().0 == Opaque(1));
        assert!(matches!(
            tx.try_send(Opaque(2)),
            Err(TrySendError::Closed(Opaque(2)))
        ));
        tx.closed().await;

        let (tx, rx) = mpsc::unbounded_channel();
        drop(rx);
        assert!(tx.is_closed());
        assert!(tx.send(Opaque(3)).unwrap_err().0 == Opaque(3));
        tx.closed().await;
    });
}

#[test]
fn closed_future_waits_for_receiver() {
    let (tx, rx) = mpsc::channel::<u8>(1);
    let (utx, urx) = mpsc::unbounded_channel::<u8>();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut closed = pin!(tx.closed());
    let mut uclosed = pin!(utx.closed());
    assert!(closed.as_mut().poll(&mut cx).is_pending());
    assert!(uclosed.as_mut().poll(&mut cx).is_pending());
    let t = thread::spawn(move || {
        drop(rx);
        drop(urx);
    });
    t.join().unwrap();
    assert!(wakes(&count) >= 2);
    assert!(closed.as_mut().poll(&mut cx).is_ready());
    assert!(uclosed.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn close_lets_receiver_drain_then_ends() {
    block_on(async {
        let (tx, mut rx) = mpsc::channel(4);
        tx.send(1).await.unwrap();
        tx.send(2).await.unwrap();
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(tx.send(3).await, Err(SendError(3)));
        assert_eq!(tx.try_send(4), Err(TrySendError::Closed(4)));
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.try_recv(), Ok(2));
        assert_eq!(rx.recv().await, None);

        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(1).unwrap();
        rx.close();
        assert_eq!(tx.send(2), Err(SendError(2)));
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    });
}

#[test]
fn try_recv_reports_empty_while_senders_live() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    tx.try_send(9).unwrap();
    assert_eq!(rx.try_recv(), Ok(9));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn bounded_backpressure_blocks_then_resumes() {
    let (tx, mut rx) = mpsc::channel(2);
    assert_eq!(tx.max_capacity(), 2);
    assert_eq!(tx.capacity(), 2);
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    assert_eq!(tx.capacity(), 0);
    assert_eq!(rx.len(), 2);
    assert_eq!(rx.capacity(), 0);
    assert_eq!(rx.max_capacity(), 2);
    assert_eq!(tx.try_send(3), Err(TrySendError::Full(3)));

    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut send = pin!(tx.send(3));
    assert!(send.as_mut().poll(&mut cx).is_pending());
    assert!(send.as_mut().poll(&mut cx).is_pending());
    assert_eq!(wakes(&count), 0);

    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(wakes(&count), 1);
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(rx.len(), 2);
    assert_eq!(block_on(rx.recv()), Some(2));
    assert_eq!(block_on(rx.recv()), Some(3));
    assert!(rx.is_empty());
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn large_buffer_fills_exactly_to_its_bound() {
    let (tx, mut rx) = mpsc::channel(3000);
    for i in 0..3000 {
        tx.try_send(i).unwrap();
    }
    assert_eq!(tx.try_send(3000), Err(TrySendError::Full(3000)));
    assert_eq!(
        (rx.len(), tx.capacity(), tx.max_capacity()),
        (3000, 0, 3000)
    );
    assert!(tx.send(3000).now_or_never().is_none());
    assert_eq!(rx.try_recv(), Ok(0));
    tx.try_send(3000).unwrap();
    drop(tx);
    let rest: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(rest, (1..=3000).collect::<Vec<_>>());
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn cancelled_send_does_not_lose_wakeup_of_next_sender() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (count_a, waker_a) = counting_waker();
    let (count_b, waker_b) = counting_waker();
    let mut send_a = Box::pin(tx.send(1));
    let mut send_b = pin!(tx.send(2));
    assert!(
        send_a
            .as_mut()
            .poll(&mut Context::from_waker(&waker_a))
            .is_pending()
    );
    assert!(
        send_b
            .as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending()
    );
    drop(send_a);
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(wakes(&count_a), 0);
    assert_eq!(wakes(&count_b), 1);
    assert_eq!(
        send_b.as_mut().poll(&mut Context::from_waker(&waker_b)),
        Poll::Ready(Ok(()))
    );
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
}

#[test]
fn send_cancelled_after_being_granted_room_passes_it_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (count_a, waker_a) = counting_waker();
    let (count_b, waker_b) = counting_waker();
    let mut send_a = Box::pin(tx.send(1));
    let mut send_b = pin!(tx.send(2));
    assert!(
        send_a
            .as_mut()
            .poll(&mut Context::from_waker(&waker_a))
            .is_pending()
    );
    assert!(
        send_b
            .as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending()
    );
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!(wakes(&count_a), 1);
    assert_eq!(wakes(&count_b), 0);
    drop(send_a);
    assert_eq!(wakes(&count_b), 1);
    assert_eq!(
        send_b.as_mut().poll(&mut Context::from_waker(&waker_b)),
        Poll::Ready(Ok(()))
    );
    assert_eq!(rx.try_recv(), Ok(2));
}

#[test]
fn close_fails_waiting_senders_with_their_values() {
    let (tx, mut rx) = mpsc::channel(1);
    assert!(tx.try_send(Opaque(0)).is_ok());
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut send = pin!(tx.send(Opaque(1)));
    assert!(send.as_mut().poll(&mut cx).is_pending());
    rx.close();
    assert_eq!(wakes(&count), 1);
    match send.as_mut().poll(&mut cx) {
        Poll::Ready(Err(SendError(Opaque(1)))) => {}
        _ => panic!("expected the value back"),
    }
    assert!(rx.try_recv() == Ok(Opaque(0)));
    assert!(matches!(rx.try_recv(), Err(TryRecvError::Disconnected)));
}

#[test]
fn receiver_of_closed_channel_waits_for_send_granted_before_close() {
    // Delivered: the send was granted room before the close, so it succeeds.
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut send = pin!(tx.send(1));
    assert!(send.as_mut().poll(&mut cx).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    rx.close();
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(send.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));

    // Abandoned: dropping the granted send wakes the receiver, which ends.
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut send = Box::pin(tx.send(1));
    assert!(send.as_mut().poll(&mut cx).is_pending());
    assert_eq!(rx.try_recv(), Ok(0));
    rx.close();
    let (rx_count, rx_waker) = counting_waker();
    let mut rx_cx = Context::from_waker(&rx_waker);
    assert!(rx.poll_recv(&mut rx_cx).is_pending());
    drop(send);
    assert_eq!(wakes(&rx_count), 1);
    assert_eq!(rx.poll_recv(&mut rx_cx), Poll::Ready(None));
}

#[test]
fn cancelled_recv_loses_no_message() {
    let (tx, mut rx) = mpsc::channel(1);
    assert!(rx.recv().now_or_never().is_none());
    tx.try_send(5).unwrap();
    assert_eq!(rx.recv().now_or_never(), Some(Some(5)));

    let (tx, mut rx) = mpsc::unbounded_channel();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    {
        let mut recv = pin!(rx.recv());
        assert!(recv.as_mut().poll(&mut cx).is_pending());
    }
    tx.send(6).unwrap();
    assert_eq!(rx.recv().now_or_never(), Some(Some(6)));
    assert!(wakes(&count) <= 1);
}

#[test]
fn poll_recv_registers_and_receives() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(rx.poll_recv(&mut cx).is_pending());
    let t = thread::spawn(move || tx.send(42).unwrap());
    t.join().unwrap();
    assert_eq!(wakes(&count), 1);
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(42)));
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(None));
}

#[test]
fn recv_many_takes_up_to_limit() {
    block_on(async {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        assert_eq!(rx.len(), 5);
        let mut buf = Vec::new();
        assert_eq!(rx.recv_many(&mut buf, 0).await, 0);
        assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
        assert_eq!(rx.recv_many(&mut buf, 10).await, 2);
        assert_eq!(buf, [0, 1, 2, 3, 4]);
        drop(tx);
        assert_eq!(rx.recv_many(&mut buf, 10).await, 0);
    });
}

#[test]
fn dropping_receiver_drops_queued_messages() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(4);
    for _ in 0..3 {
        tx.try_send(DropCounter(Arc::clone(&drops))).ok().unwrap();
    }
    drop(rx);
    assert_eq!(drops.load(SeqCst), 3);

    let (tx, rx) = mpsc::unbounded_channel();
    for _ in 0..3 {
        tx.send(DropCounter(Arc::clone(&drops))).ok().unwrap();
    }
    drop(rx);
    assert_eq!(drops.load(SeqCst), 6);
    drop(tx);
}

/// Counts its drops; the first one made with `panics` panics in its `Drop`.
struct PanicsOnDrop {
    drops: Arc<AtomicUsize>,
    panics: bool,
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        if self.panics {
            panic!("a message whose destructor panics");
        }
    }
}

fn messages(drops: &Arc<AtomicUsize>) -> impl Iterator<Item = PanicsOnDrop> {
    (0..3).map(|i| PanicsOnDrop {
        drops: Arc::clone(drops),
        panics: i == 0,
    })
}

/// The first message's destructor panics: the others are dropped all the
/// same, and the panic reaches whoever dropped the receiver.
#[test]
fn dropping_a_receiver_drops_every_message_when_one_destructor_panics() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(4);
    for message in messages(&drops) {
        tx.try_send(message).ok().unwrap();
    }
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rx)));
    assert!(panic.is_err(), "the destructor's panic propagates");
    assert_eq!(drops.load(SeqCst), 3, "bounded: every message was dropped");
    assert!(tx.is_closed());

    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::unbounded_channel();
    for message in messages(&drops) {
        tx.send(message).ok().unwrap();
    }
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rx)));
    assert!(panic.is_err(), "the destructor's panic propagates");
    assert_eq!(
        drops.load(SeqCst),
        3,
        "unbounded: every message was dropped"
    );
    assert!(tx.is_closed());
}

/// A waker that counts its live clones (the `Arc`'s strong count, less the
/// test's own reference).
struct CountedWaker;

impl std::task::Wake for CountedWaker {
    fn wake(self: Arc<Self>) {}
}

fn live_clones(waker: &Arc<CountedWaker>) -> usize {
    Arc::strong_count(waker) - 1
}

/// The receiver's task waker is released when the receiver is dropped, not
/// when the last sender is.
#[test]
fn dropping_a_receiver_releases_its_waker() {
    let counted = Arc::new(CountedWaker);
    {
        let (tx, mut rx) = mpsc::channel::<u8>(1);
        {
            let waker = Waker::from(Arc::clone(&counted));
            let mut cx = Context::from_waker(&waker);
            assert!(pin!(rx.recv()).poll(&mut cx).is_pending());
        }
        assert_eq!(
            live_clones(&counted),
            1,
            "registered by the bounded receiver"
        );
        drop(rx);
        assert_eq!(
            live_clones(&counted),
            0,
            "released with the bounded receiver"
        );
        drop(tx);
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    {
        let waker = Waker::from(Arc::clone(&counted));
        let mut cx = Context::from_waker(&waker);
        assert!(pin!(rx.recv()).poll(&mut cx).is_pending());
    }
    assert_eq!(
        live_clones(&counted),
        1,
        "registered by the unbounded receiver"
    );
    drop(rx);
    assert_eq!(
        live_clones(&counted),
        0,
        "released with the unbounded receiver"
    );
    drop(tx);
}

#[test]
fn senders_compare_by_channel() {
    let (a, _ra) = mpsc::channel::<u8>(1);
    let (b, _rb) = mpsc::channel::<u8>(1);
    assert!(a.same_channel(&a.clone()));
    assert!(!a.same_channel(&b));
    let (c, _rc) = mpsc::unbounded_channel::<u8>();
    assert!(c.same_channel(&c.clone()));
}

#[test]
fn errors_implement_error_display_debug_without_debug_payload() {
    let e = SendError(Opaque(1));
    assert_eq!(e.to_string(), "channel closed");
    assert_eq!(format!("{e:?}"), "SendError { .. }");
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert_eq!(boxed.to_string(), "channel closed");

    let full = TrySendError::Full(Opaque(2));
    assert_eq!(full.to_string(), "no available capacity");
    assert_eq!(format!("{full:?}"), "Full(..)");
    let closed: TrySendError<Opaque> = SendError(Opaque(3)).into();
    assert_eq!(closed.to_string(), "channel closed");
    assert!(closed.into_inner() == Opaque(3));
    let _: Box<dyn std::error::Error> = Box::new(full);

    assert_eq!(
        TryRecvError::Empty.to_string(),
        "receiving on an empty channel"
    );
    assert_eq!(
        TryRecvError::Disconnected.to_string(),
        "receiving on a closed channel"
    );
}

#[test]
fn handles_and_futures_are_send() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<mpsc::Sender<Vec<u8>>>();
    assert_send_sync::<mpsc::Receiver<Vec<u8>>>();
    assert_send_sync::<mpsc::UnboundedSender<Vec<u8>>>();
    assert_send_sync::<mpsc::UnboundedReceiver<Vec<u8>>>();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(1);
    assert_send(&tx.send(Vec::new()));
    assert_send(&tx.closed());
    assert_send(&rx.recv());
}

// ---------------------------------------------------------------------------
// Permits: reserve, try_reserve, reserve_owned, reserve_many
// ---------------------------------------------------------------------------

#[smp_rt::test]
async fn reserve_takes_a_slot_until_sent_or_dropped() {
    let (tx, mut rx) = mpsc::channel::<i32>(2);
    assert_eq!(tx.capacity(), 2);
    assert_eq!(tx.max_capacity(), 2);

    let p1 = tx.reserve().await.unwrap();
    assert_eq!(tx.capacity(), 1);
    let p2 = tx.try_reserve().unwrap();
    assert_eq!(tx.capacity(), 0);
    assert_eq!(rx.capacity(), 0);
    assert_eq!(tx.try_reserve().unwrap_err(), TrySendError::Full(()));
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));

    p1.send(1);
    assert_eq!(tx.capacity(), 0, "a sent message still holds its slot");
    assert_eq!(rx.len(), 1);
    drop(p2);
    assert_eq!(tx.capacity(), 1, "a dropped permit gives its slot back");

    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(tx.capacity(), 2);
    assert_eq!(tx.max_capacity(), 2);
    assert!(rx.try_recv().is_err());
}

#[smp_rt::test]
async fn reserve_waits_for_room_and_is_woken_by_recv() {
    let (tx, mut rx) = mpsc::channel::<i32>(1);
    tx.send(1).await.unwrap();
    let tx2 = tx.clone();
    let handle = smp_rt::spawn(async move {
        let permit = tx2.reserve().await.unwrap();
        permit.send(2);
    });
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, Some(2));
    handle.await.unwrap();
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn reserve_cancelled_by_drop_gives_its_place_and_slot_on() {
    let (tx, mut rx) = mpsc::channel::<i32>(1);
    tx.try_send(0).unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);

    let mut first = Box::pin(tx.reserve());
    assert!(first.as_mut().poll(&mut cx).is_pending());
    let mut second = Box::pin(tx.reserve());
    assert!(second.as_mut().poll(&mut cx).is_pending());

    // The slot freed by this recv goes to `first`, which is dropped
    // without being polled again: the slot passes to `second`.
    assert_eq!(rx.try_recv(), Ok(0));
    assert!(wakes(&count) >= 1);
    drop(first);
    let permit = match second.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(p)) => p,
        _ => panic!("the cancelled reserve's slot should pass on"),
    };
    assert_eq!(tx.capacity(), 0);
    drop(permit);
    drop(second);
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn reserve_cancelled_while_queued_keeps_capacity_exact() {
    let (tx, rx) = mpsc::channel::<i32>(3);
    let held = tx.try_reserve_many(3).unwrap();
    let mut fut = Box::pin(tx.reserve_many(2));
    let (_count, waker) = counting_waker();
    assert!(
        fut.as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending()
    );
    drop(held);
    // The two slots wait for the queued reserve; dropping it returns them.
    drop(fut);
    assert_eq!(tx.capacity(), 3);
    assert_eq!(rx.capacity(), 3);
}

#[smp_rt::test]
async fn reserve_fails_once_closed_and_permits_still_deliver_after_close() {
    let (tx, mut rx) = mpsc::channel::<i32>(2);
    let permit = tx.reserve().await.unwrap();
    rx.close();
    assert_eq!(tx.reserve().await.unwrap_err(), SendError(()));
    assert_eq!(tx.try_reserve().unwrap_err(), TrySendError::Closed(()));
    assert!(tx.reserve_many(1).await.is_err());
    assert!(matches!(
        tx.clone().try_reserve_owned(),
        Err(TrySendError::Closed(_))
    ));
    // A permit taken before the close still sends, and the receiver gets it.
    permit.send(5);
    assert_eq!(rx.recv().await, Some(5));
    drop(tx);
    assert_eq!(rx.recv().await, None);
}

#[smp_rt::test]
async fn reserve_waiting_fails_when_receiver_dropped() {
    let (tx, rx) = mpsc::channel::<i32>(1);
    let _held = tx.try_reserve().unwrap();
    let tx2 = tx.clone();
    let handle = smp_rt::spawn(async move { tx2.reserve().await.map(drop) });
    smp_rt::task::yield_now().await;
    drop(rx);
    assert_eq!(handle.await.unwrap(), Err(SendError(())));
}

#[smp_rt::test]
async fn dropped_permit_on_closed_channel_ends_the_stream() {
    let (tx, mut rx) = mpsc::channel::<i32>(1);
    let permit = tx.clone().reserve_owned().await.unwrap();
    drop(tx);
    let handle = smp_rt::spawn(async move { rx.recv().await });
    smp_rt::task::yield_now().await;
    // The permit owns the last sender: dropping it closes the channel and
    // gives the slot back, so the waiting receiver sees the end.
    drop(permit);
    assert_eq!(handle.await.unwrap(), None);
}

#[smp_rt::test]
async fn owned_permit_sends_and_returns_the_sender() {
    let (tx, mut rx) = mpsc::channel::<i32>(1);
    let permit = tx.reserve_owned().await.unwrap();
    let handle = smp_rt::spawn(async move {
        let tx = permit.send(1);
        let permit = tx.reserve_owned().await.unwrap();
        let tx = permit.release();
        tx.reserve_owned().await.unwrap().send(2);
    });
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(rx.recv().await, None);
    handle.await.unwrap();
}

#[test]
fn try_reserve_owned_hands_the_sender_back_when_full() {
    let (tx, rx) = mpsc::channel::<i32>(1);
    let permit = tx.clone().try_reserve_owned().unwrap();
    let tx = match tx.try_reserve_owned() {
        Err(TrySendError::Full(tx)) => tx,
        other => panic!("expected Full, got {:?}", other.map(drop)),
    };
    assert_eq!(tx.capacity(), 0);
    drop(permit);
    assert_eq!(tx.capacity(), 1);
    drop(rx);
}

#[smp_rt::test]
async fn reserve_many_accounts_every_slot() {
    let (tx, mut rx) = mpsc::channel::<usize>(4);
    assert!(tx.reserve_many(5).await.is_err(), "more than max_capacity");
    assert_eq!(tx.try_reserve_many(5).unwrap_err(), TrySendError::Full(()));

    let mut permits = tx.reserve_many(3).await.unwrap();
    assert_eq!(permits.len(), 3);
    assert_eq!(tx.capacity(), 1);
    assert_eq!(tx.try_reserve_many(2).unwrap_err(), TrySendError::Full(()));
    permits.next().unwrap().send(0);
    let kept = permits.next().unwrap();
    assert_eq!(permits.len(), 1);
    drop(permits);
    assert_eq!(
        tx.capacity(),
        2,
        "untaken permits go back with the iterator"
    );
    kept.send(1);
    assert_eq!(tx.capacity(), 2);

    let none = tx.reserve_many(0).await.unwrap();
    assert_eq!(none.len(), 0);
    drop(none);

    assert_eq!(rx.recv().await, Some(0));
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(tx.capacity(), 4);
}

#[smp_rt::test]
async fn reserve_many_waits_for_all_its_slots() {
    let (tx, mut rx) = mpsc::channel::<usize>(2);
    tx.send(0).await.unwrap();
    tx.send(1).await.unwrap();
    let tx2 = tx.clone();
    let handle = smp_rt::spawn(async move {
        for (i, p) in tx2.reserve_many(2).await.unwrap().enumerate() {
            p.send(10 + i);
        }
    });
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(rx.recv().await.unwrap());
    }
    assert_eq!(got, [0, 1, 10, 11]);
    handle.await.unwrap();
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn permits_from_many_threads_lose_nothing() {
    let (tx, mut rx) = mpsc::channel::<(usize, u32)>(4);
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let tx = tx.clone();
            thread::spawn(move || {
                block_on(async {
                    for seq in 0..PER_THREAD {
                        if seq % 2 == 0 {
                            tx.reserve().await.unwrap().send((t, seq));
                        } else {
                            let tx2 = tx.clone().reserve_owned().await.unwrap().send((t, seq));
                            drop(tx2);
                        }
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let got = block_on(async {
        let mut got = Vec::new();
        while let Some(m) = rx.recv().await {
            got.push(m);
        }
        got
    });
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(check_stream(got), THREADS * PER_THREAD as usize);
    assert_eq!(rx.capacity(), 4);
}

// ---------------------------------------------------------------------------
// send_timeout, blocking_send, blocking_recv
// ---------------------------------------------------------------------------

#[smp_rt::test]
async fn send_timeout_sends_when_there_is_room() {
    let (tx, mut rx) = mpsc::channel::<i32>(1);
    tx.send_timeout(1, Duration::from_secs(3600)).await.unwrap();
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(tx.capacity(), 1);
}

#[smp_rt::test(flavor = "current_thread", start_paused = true)]
async fn send_timeout_gives_the_value_back_on_timeout_and_frees_its_place() {
    let (tx, mut rx) = mpsc::channel::<i32>(1);
    tx.send(1).await.unwrap();
    let res = tx.send_timeout(2, Duration::from_secs(60)).await;
    assert_eq!(res, Err(SendTimeoutError::Timeout(2)));
    assert_eq!(res.unwrap_err().into_inner(), 2);
    // The timed-out send left the wait queue: the freed slot is free.
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(tx.capacity(), 1);
    tx.try_send(3).unwrap();
}

#[smp_rt::test]
async fn send_timeout_is_woken_by_recv_before_the_deadline() {
    let (tx, mut rx) = mpsc::channel::<i32>(1);
    tx.send(1).await.unwrap();
    let tx2 = tx.clone();
    let handle = smp_rt::spawn(async move { tx2.send_timeout(2, Duration::from_secs(3600)).await });
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, Some(2));
    assert_eq!(handle.await.unwrap(), Ok(()));
}

#[smp_rt::test]
async fn send_timeout_fails_closed() {
    let (tx, rx) = mpsc::channel::<i32>(1);
    drop(rx);
    let res = tx.send_timeout(4, Duration::from_secs(3600)).await;
    assert_eq!(res, Err(SendTimeoutError::Closed(4)));
}

#[test]
fn blocking_send_from_a_plain_thread_to_a_runtime() {
    let (tx, mut rx) = mpsc::channel::<u32>(2);
    let n = scale(1000) as u32;
    let producer = thread::spawn(move || {
        for i in 0..n {
            tx.blocking_send(i).unwrap();
        }
    });
    let got = smp_rt::block_on(async move {
        let mut got = Vec::new();
        while let Some(i) = rx.recv().await {
            got.push(i);
        }
        got
    });
    producer.join().unwrap();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
}

#[test]
fn blocking_send_fails_once_receiver_dropped() {
    let (tx, rx) = mpsc::channel::<u32>(1);
    tx.blocking_send(1).unwrap();
    let producer = thread::spawn(move || tx.blocking_send(2));
    drop(rx);
    assert_eq!(producer.join().unwrap(), Err(SendError(2)));
}

#[test]
fn blocking_recv_on_a_plain_thread_from_a_runtime() {
    let (tx, mut rx) = mpsc::channel::<u32>(1);
    let (utx, mut urx) = mpsc::unbounded_channel::<u32>();
    let n = scale(1000) as u32;
    let consumer = thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(i) = rx.blocking_recv() {
            got.push(i);
        }
        let mut ugot = Vec::new();
        while let Some(i) = urx.blocking_recv() {
            ugot.push(i);
        }
        (got, ugot)
    });
    smp_rt::block_on(async move {
        let h = smp_rt::spawn(async move {
            for i in 0..n {
                tx.send(i).await.unwrap();
            }
        });
        for i in 0..n {
            utx.send(i).unwrap();
        }
        drop(utx);
        h.await.unwrap();
    });
    let (got, ugot) = consumer.join().unwrap();
    assert_eq!(got, (0..n).collect::<Vec<_>>());
    assert_eq!(ugot, (0..n).collect::<Vec<_>>());
}

#[test]
fn blocking_recv_inside_a_task_panics() {
    let res = smp_rt::block_on(async {
        smp_rt::spawn(async {
            let (_tx, mut rx) = mpsc::channel::<u32>(1);
            rx.blocking_recv()
        })
        .await
    });
    let err = res.unwrap_err();
    assert!(err.is_panic());
    let msg = err.into_panic();
    let msg = msg
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| msg.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(msg.contains("mpsc::Receiver::blocking_recv"), "{msg}");

    let res = smp_rt::block_on(async {
        smp_rt::spawn(async {
            let (tx, _rx) = mpsc::channel::<u32>(1);
            let _ = tx.blocking_send(1);
            let (_utx, mut urx) = mpsc::unbounded_channel::<u32>();
            urx.blocking_recv()
        })
        .await
    });
    assert!(res.unwrap_err().is_panic());
}

// ---------------------------------------------------------------------------
// Weak senders
// ---------------------------------------------------------------------------

#[smp_rt::test]
async fn weak_sender_does_not_keep_the_channel_open() {
    let (tx, mut rx) = mpsc::channel::<i32>(2);
    let weak = tx.downgrade();
    tx.send(1).await.unwrap();
    drop(tx);
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, None);
    assert!(weak.upgrade().is_none(), "no upgrade after the last sender");
    assert_eq!(weak.strong_count(), 0);
    assert_eq!(weak.weak_count(), 1);
}

#[smp_rt::test]
async fn weak_sender_upgrades_while_a_sender_lives() {
    let (tx, mut rx) = mpsc::channel::<i32>(2);
    let weak = tx.downgrade();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 1));
    let weak2 = weak.clone();
    assert_eq!(tx.weak_count(), 2);
    drop(weak2);
    assert_eq!(tx.weak_count(), 1);

    let tx2 = weak.upgrade().unwrap();
    assert_eq!(tx.strong_count(), 2);
    drop(tx);
    // The upgraded sender keeps the channel open.
    tx2.send(5).await.unwrap();
    assert_eq!(rx.recv().await, Some(5));
    assert!(!rx.is_closed());
    let handle = smp_rt::spawn(async move {
        let tx = weak.upgrade().unwrap();
        tx.send(6).await.unwrap();
        drop(tx);
        weak
    });
    assert_eq!(rx.recv().await, Some(6));
    drop(tx2);
    assert_eq!(rx.recv().await, None);
    let weak = handle.await.unwrap();
    assert!(weak.upgrade().is_none());
}

#[smp_rt::test]
async fn weak_unbounded_sender_upgrade_and_close() {
    let (tx, mut rx) = mpsc::unbounded_channel::<i32>();
    let weak = tx.downgrade();
    assert_eq!((weak.strong_count(), weak.weak_count()), (1, 1));
    weak.upgrade().unwrap().send(1).unwrap();
    assert_eq!(tx.strong_count(), 1, "the upgraded sender was dropped");
    drop(tx);
    assert_eq!(rx.recv().await, Some(1));
    assert_eq!(rx.recv().await, None);
    assert!(weak.upgrade().is_none());
}

#[test]
fn weak_upgrade_races_last_sender_drop() {
    for _ in 0..scale(500) {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let weak = tx.downgrade();
        let t = thread::spawn(move || weak.upgrade().map(|tx| tx.send(1).is_ok()));
        drop(tx);
        let sent = t.join().unwrap();
        // Either the upgrade came first and its message arrives, or it
        // failed; the channel ends in both cases.
        let got = block_on(async {
            let mut n = 0;
            while rx.recv().await.is_some() {
                n += 1;
            }
            n
        });
        assert_eq!(got, usize::from(sent == Some(true)));
    }
}

//! Processes with a bounded mailbox: `Pid::try_send` fails with the message
//! when it is full, `Pid::send_async` waits for room, and a producer faster
//! than its consumer is held to the consumer's pace.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use smp_rt::process::{self, ExitReason, Mailbox, SendError, TrySendError};
use smp_rt::sync::oneshot;
use smp_rt::task;

/// Awaits `fut`, failing the test (instead of hanging) if it takes more
/// than a minute.
async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match smp_rt::time::timeout(Duration::from_secs(60), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Polls `fut` once, without charging the caller's budget (so the poll
/// reaches the future's own logic).
async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
    task::unconstrained(poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx)))).await
}

#[smp_rt::test(worker_threads = 2)]
async fn try_send_to_a_full_mailbox_returns_the_message() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (got_tx, got_rx) = oneshot::channel();
    let (done_tx, done_rx) = oneshot::channel::<()>();
    let pid = process::Builder::new().mailbox_capacity(2).spawn(
        move |mut mbox: Mailbox<String>| async move {
            go_rx.await.unwrap();
            got_tx.send(mbox.recv().await).unwrap();
            done_rx.await.unwrap();
        },
    );
    pid.try_send("a".to_string()).unwrap();
    pid.send("b".to_string()).unwrap();
    assert_eq!(
        pid.try_send("c".to_string()),
        Err(TrySendError::Full("c".to_string()))
    );
    // The non-waiting `send` refuses too, rather than exceed the bound.
    assert_eq!(pid.send("d".to_string()), Err(SendError("d".to_string())));
    let info = pid.info().unwrap();
    assert_eq!((info.messages_queued, info.mailbox_capacity), (2, Some(2)));

    go_tx.send(()).unwrap();
    assert_eq!(bounded("a receive", got_rx).await.unwrap(), "a");
    pid.try_send("c".to_string()).unwrap();
    assert!(pid.try_send("e".to_string()).unwrap_err().is_full());
    done_tx.send(()).unwrap();
    process::monitor(&pid).await;
    assert_eq!(
        pid.try_send("late".to_string()),
        Err(TrySendError::Closed("late".to_string()))
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn an_unbounded_mailbox_is_never_full() {
    let pid = process::spawn(|mbox: Mailbox<u32>| async move {
        let _mbox = mbox;
        std::future::pending::<()>().await
    });
    for n in 0..10_000 {
        pid.try_send(n).unwrap();
    }
    assert_eq!(pid.info().unwrap().mailbox_capacity, None);
    let mut send = pid.send_async(10_000);
    assert_eq!(poll_once(&mut send).await, Poll::Ready(Ok(())));
    pid.kill();
}

/// A waker that counts its wakes, to see that a waiting send is woken (and
/// not merely polled again by whoever awaits it).
#[derive(Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A send polled with its own counting waker.
struct Watched<F> {
    fut: F,
    wakes: Arc<WakeCount>,
}

impl<F: Future + Unpin> Watched<F> {
    fn new(fut: F) -> Watched<F> {
        Watched {
            fut,
            wakes: Arc::default(),
        }
    }

    /// Polls once with the counting waker, outside the caller's budget.
    async fn poll(&mut self) -> Poll<F::Output> {
        let waker = Waker::from(self.wakes.clone());
        let fut = &mut self.fut;
        task::unconstrained(poll_fn(|_| {
            Poll::Ready(Pin::new(&mut *fut).poll(&mut Context::from_waker(&waker)))
        }))
        .await
    }

    /// Waits until the send has been woken since it was created.
    async fn woken(&self, what: &str) {
        bounded(what, async {
            while self.wakes.0.load(SeqCst) == 0 {
                task::yield_now().await;
            }
        })
        .await
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn send_async_waits_for_room_and_resumes_after_a_receive() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    let pid = process::Builder::new().mailbox_capacity(1).spawn(
        move |mut mbox: Mailbox<u32>| async move {
            go_rx.await.unwrap();
            let first = mbox.recv().await;
            let second = mbox.recv().await;
            tx.send((first, second)).unwrap();
        },
    );
    pid.send(1).unwrap();
    let mut send = Watched::new(pid.send_async(2));
    assert!(send.poll().await.is_pending(), "sent to a full mailbox");
    assert!(send.poll().await.is_pending(), "sent to a full mailbox");
    go_tx.send(()).unwrap();
    send.woken("the receive to wake the sender").await;
    assert_eq!(send.poll().await, Poll::Ready(Ok(())));
    assert_eq!(bounded("the receives", rx).await.unwrap(), (1, 2));
}

#[smp_rt::test(worker_threads = 2)]
async fn a_dropped_waiting_send_passes_its_wakeup_on() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (received_tx, received_rx) = oneshot::channel();
    let (tx, rx) = oneshot::channel();
    let pid = process::Builder::new().mailbox_capacity(1).spawn(
        move |mut mbox: Mailbox<u32>| async move {
            go_rx.await.unwrap();
            received_tx.send(mbox.recv().await).unwrap();
            tx.send(mbox.recv().await).unwrap();
        },
    );
    pid.send(1).unwrap();
    let mut first = Watched::new(pid.send_async(2));
    let mut second = Watched::new(pid.send_async(3));
    assert!(first.poll().await.is_pending());
    assert!(second.poll().await.is_pending());
    go_tx.send(()).unwrap();
    assert_eq!(bounded("a receive", received_rx).await.unwrap(), 1);
    // The receive woke `first`, the longest waiting; it goes away without
    // sending, so the room must go to `second`.
    first.woken("the receive to wake the first sender").await;
    assert_eq!(
        second.wakes.0.load(SeqCst),
        0,
        "both senders woken for one room"
    );
    drop(first);
    second.woken("the dropped sender to pass the room on").await;
    assert_eq!(second.poll().await, Poll::Ready(Ok(())));
    assert_eq!(bounded("the last receive", rx).await.unwrap(), 3);
}

#[smp_rt::test(worker_threads = 2)]
async fn waiting_senders_fail_with_their_message_when_the_process_ends() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::Builder::new().mailbox_capacity(1).spawn(
        move |mbox: Mailbox<String>| async move {
            let _mbox = mbox;
            go_rx.await.unwrap();
        },
    );
    pid.send("queued".to_string()).unwrap();
    let mut sends: Vec<_> = (0..3)
        .map(|n| Watched::new(pid.send_async(format!("m{n}"))))
        .collect();
    for send in &mut sends {
        assert!(send.poll().await.is_pending());
    }
    go_tx.send(()).unwrap();
    for (n, mut send) in sends.into_iter().enumerate() {
        send.woken("the end of the process to wake the senders")
            .await;
        assert_eq!(
            send.poll().await,
            Poll::Ready(Err(SendError(format!("m{n}"))))
        );
    }
    assert_eq!(pid.exit_reason(), Some(ExitReason::Normal));
}

#[smp_rt::test(worker_threads = 2)]
async fn a_killed_process_fails_its_waiting_sender() {
    let pid = process::Builder::new()
        .mailbox_capacity(1)
        .spawn(|mbox: Mailbox<u32>| async move {
            let _mbox = mbox;
            std::future::pending::<()>().await
        });
    pid.send(1).unwrap();
    let mut send = Watched::new(pid.send_async(2));
    assert!(send.poll().await.is_pending());
    pid.kill();
    send.woken("the kill to wake the sender").await;
    assert_eq!(send.poll().await, Poll::Ready(Err(SendError(2))));
}

#[smp_rt::test(worker_threads = 2)]
async fn flush_wakes_every_waiting_sender() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    let pid = process::Builder::new().mailbox_capacity(2).spawn(
        move |mut mbox: Mailbox<u32>| async move {
            go_rx.await.unwrap();
            let flushed = mbox.flush();
            let mut got = vec![mbox.recv().await, mbox.recv().await];
            got.sort_unstable();
            tx.send((flushed, got)).unwrap();
        },
    );
    pid.send(1).unwrap();
    pid.send(2).unwrap();
    let mut a = Watched::new(pid.send_async(3));
    let mut b = Watched::new(pid.send_async(4));
    assert!(a.poll().await.is_pending());
    assert!(b.poll().await.is_pending());
    go_tx.send(()).unwrap();
    a.woken("the flush to wake the first sender").await;
    b.woken("the flush to wake the second sender").await;
    assert_eq!(a.poll().await, Poll::Ready(Ok(())));
    assert_eq!(b.poll().await, Poll::Ready(Ok(())));
    assert_eq!(bounded("the receives", rx).await.unwrap(), (2, vec![3, 4]));
}

/// A message that counts how many of its kind exist.
struct Payload {
    seq: usize,
    live: Arc<AtomicUsize>,
}

impl Payload {
    fn new(seq: usize, live: &Arc<AtomicUsize>, max_live: &AtomicUsize) -> Payload {
        let now = live.fetch_add(1, SeqCst) + 1;
        max_live.fetch_max(now, SeqCst);
        Payload {
            seq,
            live: live.clone(),
        }
    }
}

impl Drop for Payload {
    fn drop(&mut self) {
        self.live.fetch_sub(1, SeqCst);
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn a_fast_producer_is_held_to_the_consumers_pace() {
    const CAPACITY: usize = 8;
    const PRODUCERS: usize = 3;
    const EACH: usize = 2_000;
    let live = Arc::new(AtomicUsize::new(0));
    let max_live = Arc::new(AtomicUsize::new(0));
    let full_hits = Arc::new(AtomicUsize::new(0));

    let (tx, rx) = oneshot::channel();
    let consumer = process::Builder::new().mailbox_capacity(CAPACITY).spawn(
        move |mut mbox: Mailbox<(usize, Payload)>| async move {
            let mut next = [0; PRODUCERS];
            let mut max_len = 0;
            for _ in 0..PRODUCERS * EACH {
                max_len = max_len.max(mbox.len());
                let (producer, payload) = mbox.recv().await;
                assert_eq!(
                    payload.seq, next[producer],
                    "producer {producer} out of order"
                );
                next[producer] += 1;
                drop(payload);
                // A slow consumer: every message costs it several slices.
                for _ in 0..4 {
                    task::yield_now().await;
                }
            }
            tx.send((next, max_len)).unwrap();
        },
    );

    let mut producers = Vec::new();
    for producer in 0..PRODUCERS {
        let (pid, live, max_live, full_hits) = (
            consumer.clone(),
            live.clone(),
            max_live.clone(),
            full_hits.clone(),
        );
        producers.push(smp_rt::spawn(async move {
            let mut max_queued = 0;
            for seq in 0..EACH {
                let msg = (producer, Payload::new(seq, &live, &max_live));
                let msg = match pid.try_send(msg) {
                    Ok(()) => None,
                    Err(TrySendError::Full(msg)) => Some(msg),
                    Err(TrySendError::Closed(_)) => panic!("the consumer ended early"),
                };
                if let Some(msg) = msg {
                    full_hits.fetch_add(1, SeqCst);
                    pid.send_async(msg).await.unwrap();
                }
                let queued = pid.info().map_or(0, |i| i.messages_queued);
                max_queued = max_queued.max(queued);
            }
            max_queued
        }));
    }
    for producer in producers {
        let max_queued = bounded("a producer", producer).await.unwrap();
        assert!(
            max_queued <= CAPACITY as u64,
            "a producer saw {max_queued} messages queued"
        );
    }
    let (next, max_len) = bounded("the consumer", rx).await.unwrap();
    assert_eq!(next, [EACH; PRODUCERS]);
    assert!(
        max_len <= CAPACITY,
        "the consumer saw {max_len} messages queued"
    );
    assert!(
        full_hits.load(SeqCst) > 0,
        "the producers never found the mailbox full"
    );
    // Memory stays bounded: at most the mailbox's capacity, one message
    // held by each waiting producer and one by the consumer exist at once.
    let max_live = max_live.load(SeqCst);
    assert!(
        max_live <= CAPACITY + PRODUCERS + 1,
        "{max_live} messages existed at once"
    );
    assert_eq!(live.load(SeqCst), 0);
}

#[smp_rt::test(worker_threads = 2)]
#[should_panic(expected = "mailbox_capacity(0)")]
async fn a_zero_capacity_is_refused() {
    let _ = process::Builder::new().mailbox_capacity(0);
}

#[smp_rt::test(worker_threads = 2)]
async fn send_async_charges_a_reduction_per_poll() {
    const N: u64 = 10_000;
    let pid = process::spawn(|mbox: Mailbox<u64>| async move {
        let _mbox = mbox;
        std::future::pending::<()>().await
    });
    let sender = smp_rt::spawn({
        let pid = pid.clone();
        async move {
            // Never waits (the mailbox is unbounded): only the charge
            // per poll can end the slice.
            for n in 0..N {
                pid.send_async(n).await.unwrap();
            }
            task::stats().preemptions
        }
    });
    let preemptions = bounded("the sends", sender).await.unwrap();
    assert!(preemptions > 0, "a loop of sends was never preempted");
    assert_eq!(pid.info().unwrap().messages_queued, N);
    pid.kill();
}

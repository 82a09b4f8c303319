//! Processes: looking at messages without taking them (`peek`,
//! `peek_match`), dropping them all (`flush`), and selective receive with
//! a timeout (`recv_match_timeout`); predicates that panic lose no message.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use smp_rt::process::{self, Mailbox};
use smp_rt::sync::oneshot;
use smp_rt::time::Instant;

/// Awaits `fut`, failing the test (instead of hanging) if it takes more
/// than a minute.
async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match smp_rt::time::timeout(Duration::from_secs(60), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn peek_and_peek_match_leave_the_order_alone() {
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        go_rx.await.unwrap();
        let seen = vec![
            mbox.peek().copied(),
            mbox.peek().copied(),
            mbox.peek_match(|m| m % 2 == 0).copied(),
            mbox.peek_match(|m| *m > 3).copied(),
            mbox.peek_match(|m| *m > 100).copied(),
        ];
        let len = mbox.len();
        let three = mbox.recv_match(|m| *m == 3).await;
        let peeked_after = mbox.peek().copied();
        let mut rest = Vec::new();
        for _ in 0..4 {
            rest.push(mbox.recv().await);
        }
        let empty = mbox.peek().copied();
        tx.send((seen, len, three, peeked_after, rest, empty))
            .unwrap();
    });
    for n in 1..=5 {
        pid.send(n).unwrap();
    }
    go_tx.send(()).unwrap();
    let (seen, len, three, peeked_after, rest, empty) = bounded("the peeks", rx).await.unwrap();
    assert_eq!(seen, [Some(1), Some(1), Some(2), Some(4), None]);
    assert_eq!(len, 5, "peeking took messages out");
    assert_eq!(three, 3);
    assert_eq!(peeked_after, Some(1));
    assert_eq!(rest, [1, 2, 4, 5]);
    assert_eq!(empty, None);
}

#[smp_rt::test(worker_threads = 2)]
async fn peek_match_sees_messages_passed_over_and_new_ones() {
    let (tx, rx) = oneshot::channel();
    let (more_tx, more_rx) = oneshot::channel::<()>();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        go_rx.await.unwrap();
        // 10 and 11 go to the save queue.
        let twelve = mbox.recv_match(|m| *m == 12).await;
        more_tx.send(()).unwrap();
        // Wait until 13 and 14 are queued.
        while mbox.len() < 4 {
            smp_rt::task::yield_now().await;
        }
        let saved = mbox.peek_match(|m| *m == 11).copied();
        let shared = mbox.peek_match(|m| *m == 14).copied();
        let mut all = Vec::new();
        while let Some(m) = mbox.try_recv() {
            all.push(m);
        }
        tx.send((twelve, saved, shared, all)).unwrap();
    });
    for n in 10..=12 {
        pid.send(n).unwrap();
    }
    go_tx.send(()).unwrap();
    bounded("the selective receive", more_rx).await.unwrap();
    pid.send(13).unwrap();
    pid.send(14).unwrap();
    let (twelve, saved, shared, all) = bounded("the peeks", rx).await.unwrap();
    assert_eq!(twelve, 12);
    assert_eq!(saved, Some(11));
    assert_eq!(shared, Some(14));
    assert_eq!(all, [10, 11, 13, 14]);
}

#[smp_rt::test(flavor = "current_thread", start_paused = true)]
async fn recv_match_timeout_times_out_and_keeps_the_order() {
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        let start = Instant::now();
        let none = mbox
            .recv_match_timeout(Duration::from_secs(10), |m| *m == 9)
            .await;
        let waited = start.elapsed();
        // 9 comes 5 s later, within this receive's 10 s.
        let start = Instant::now();
        let nine = mbox
            .recv_match_timeout(Duration::from_secs(10), |m| *m == 9)
            .await;
        let waited_for_nine = start.elapsed();
        let mut rest = Vec::new();
        while let Some(m) = mbox.try_recv() {
            rest.push(m);
        }
        tx.send((none, waited, nine, waited_for_nine, rest))
            .unwrap();
    });
    for n in 1..=3 {
        pid.send(n).unwrap();
    }
    let pid2 = pid.clone();
    smp_rt::spawn(async move {
        smp_rt::time::sleep(Duration::from_secs(15)).await;
        pid2.send(4).unwrap();
        pid2.send(9).unwrap();
        pid2.send(5).unwrap();
    });
    let (none, waited, nine, waited_for_nine, rest) = rx.await.unwrap();
    assert_eq!(none, None);
    assert_eq!(waited, Duration::from_secs(10));
    assert_eq!(nine, Some(9));
    assert_eq!(waited_for_nine, Duration::from_secs(5));
    assert_eq!(rest, [1, 2, 3, 4, 5]);
}

/// Counts its drops; panics in `drop` if `panics`.
struct Tracked {
    drops: Arc<AtomicUsize>,
    panics: bool,
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
        if self.panics {
            panic!("a message's destructor panicked");
        }
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn flush_drops_everything_queued_and_counts_it() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (flushed_tx, flushed_rx) = oneshot::channel();
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<(u32, Tracked)>| async move {
        go_rx.await.unwrap();
        // 0 and 1 are passed over into the save queue, 2 is received,
        // 3 is moved there by a peek.
        let (two, _) = mbox.recv_match(|(n, _)| *n == 2).await;
        assert!(mbox.peek_match(|(n, _)| *n == 3).is_some());
        let flushed = mbox.flush();
        let after = (mbox.len(), mbox.try_recv().map(|(n, _)| n));
        let again = mbox.flush();
        // Only now may the next message come: sent earlier, it could be
        // what `try_recv` or the second flush sees.
        flushed_tx.send(()).unwrap();
        let next = mbox.recv().await.0;
        tx.send((two, flushed, after, again, next)).unwrap();
    });
    let msg = |n| {
        (
            n,
            Tracked {
                drops: drops.clone(),
                panics: false,
            },
        )
    };
    for n in 0..6 {
        pid.send(msg(n)).unwrap();
    }
    go_tx.send(()).unwrap();
    bounded("the flushes", flushed_rx).await.unwrap();
    let info_before = pid.info().unwrap();
    assert_eq!(
        info_before.messages_received, 1,
        "flushed counted as received"
    );
    assert_eq!(info_before.messages_queued, 0);
    pid.send(msg(100)).unwrap();
    let (two, flushed, after, again, next) = bounded("the flush", rx).await.unwrap();
    assert_eq!(two, 2);
    assert_eq!(flushed, 5);
    assert_eq!(after, (0, None));
    assert_eq!(again, 0);
    assert_eq!(next, 100);
    // 2 and the 5 flushed, then 100.
    assert_eq!(drops.load(SeqCst), 7);
}

#[smp_rt::test(worker_threads = 2)]
async fn flush_with_a_panicking_destructor_empties_the_mailbox_then_panics() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (flushed_tx, flushed_rx) = oneshot::channel();
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<(u32, Tracked)>| async move {
        go_rx.await.unwrap();
        let panicked = catch_unwind(AssertUnwindSafe(|| mbox.flush()));
        let message = panicked
            .err()
            .and_then(|p| p.downcast_ref::<&str>().map(|s| s.to_string()));
        flushed_tx.send((message, mbox.len())).unwrap();
        let next = mbox.recv().await.0;
        tx.send(next).unwrap();
    });
    for n in 0..6 {
        let panics = n == 1 || n == 4;
        pid.send((
            n,
            Tracked {
                drops: drops.clone(),
                panics,
            },
        ))
        .unwrap();
    }
    go_tx.send(()).unwrap();
    // 7 is sent only once the process has looked at its emptied mailbox.
    let (message, len) = bounded("the flush", flushed_rx).await.unwrap();
    let flushed_drops = drops.load(SeqCst);
    pid.send((
        7,
        Tracked {
            drops: drops.clone(),
            panics: false,
        },
    ))
    .unwrap();
    let next = bounded("the receive after the flush", rx).await.unwrap();
    assert_eq!(
        message.as_deref(),
        Some("a message's destructor panicked"),
        "the first destructor panic is resumed"
    );
    assert_eq!(flushed_drops, 6, "every queued message was dropped");
    assert_eq!(len, 0);
    assert_eq!(next, 7, "the mailbox still receives after the panic");
}

#[smp_rt::test(worker_threads = 2)]
async fn a_panicking_peek_match_predicate_loses_no_message() {
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        go_rx.await.unwrap();
        let panicked = catch_unwind(AssertUnwindSafe(|| {
            mbox.peek_match(|m| {
                assert!(*m != 2, "the predicate panicked");
                false
            })
            .copied()
        }))
        .is_err();
        let len = mbox.len();
        let mut all = Vec::new();
        while let Some(m) = mbox.try_recv() {
            all.push(m);
        }
        tx.send((panicked, len, all)).unwrap();
    });
    for n in 1..=3 {
        pid.send(n).unwrap();
    }
    go_tx.send(()).unwrap();
    let (panicked, len, all) = bounded("the peek", rx).await.unwrap();
    assert!(panicked);
    assert_eq!(len, 3);
    assert_eq!(all, [1, 2, 3]);
}

/// Awaits `fut` and tells whether it panicked, and with which message.
async fn panic_message<F: Future>(fut: F) -> Option<String> {
    use futures::FutureExt;
    let payload = AssertUnwindSafe(fut).catch_unwind().await.err()?;
    Some(
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    )
}

#[smp_rt::test(worker_threads = 2)]
async fn a_panicking_recv_match_predicate_loses_no_message() {
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        go_rx.await.unwrap();
        // 1 is passed over into the save queue; 3 is still in the shared
        // queue when the predicate panics on 2, which came from there too.
        let panicked = panic_message(mbox.recv_match(|m| {
            assert!(*m != 2, "the predicate panicked on 2");
            false
        }))
        .await;
        let len = mbox.len();
        let mut all = Vec::new();
        for _ in 0..len {
            all.push(mbox.recv().await);
        }
        tx.send((panicked, len, all)).unwrap();
    });
    for n in 1..=4 {
        pid.send(n).unwrap();
    }
    go_tx.send(()).unwrap();
    let (panicked, len, all) = bounded("the selective receive", rx).await.unwrap();
    assert_eq!(panicked.as_deref(), Some("the predicate panicked on 2"));
    assert_eq!(len, 4, "a message was lost");
    assert_eq!(all, [1, 2, 3, 4], "every message comes back in order");
}

#[smp_rt::test(worker_threads = 2)]
async fn a_panicking_recv_match_timeout_predicate_loses_no_message() {
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        go_rx.await.unwrap();
        // 10 and 11 go to the save queue; the receive passes over them and
        // panics on 12, from the shared queue.
        assert_eq!(mbox.peek_match(|m| *m == 11), Some(&11));
        let panicked = panic_message(mbox.recv_match_timeout(Duration::from_secs(60), |m| {
            assert!(*m != 12, "the predicate panicked on 12");
            false
        }))
        .await;
        let len = mbox.len();
        let mut all = Vec::new();
        while let Some(m) = mbox.try_recv() {
            all.push(m);
        }
        tx.send((panicked, len, all)).unwrap();
    });
    for n in 10..=13 {
        pid.send(n).unwrap();
    }
    go_tx.send(()).unwrap();
    let (panicked, len, all) = bounded("the selective receive", rx).await.unwrap();
    assert_eq!(panicked.as_deref(), Some("the predicate panicked on 12"));
    assert_eq!(len, 4, "a message was lost");
    assert_eq!(all, [10, 11, 12, 13], "every message comes back in order");
}

#[smp_rt::test(worker_threads = 2)]
async fn a_panicking_recv_match_predicate_leaks_no_room_in_a_bounded_mailbox() {
    const CAPACITY: u32 = 3;
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (refilled_tx, refilled_rx) = oneshot::channel::<()>();
    let (again_tx, again_rx) = oneshot::channel();
    let pid = process::Builder::new()
        .mailbox_capacity(CAPACITY as usize)
        .spawn(move |mut mbox: Mailbox<u32>| async move {
            go_rx.await.unwrap();
            let panicked = panic_message(mbox.recv_match(|m| {
                assert!(*m != 2, "the predicate panicked on 2");
                false
            }))
            .await;
            let mut first = Vec::new();
            while let Some(m) = mbox.try_recv() {
                first.push(m);
            }
            tx.send((panicked, first)).unwrap();
            refilled_rx.await.unwrap();
            let mut second = Vec::new();
            while let Some(m) = mbox.try_recv() {
                second.push(m);
            }
            again_tx.send(second).unwrap();
        });
    for n in 1..=CAPACITY {
        pid.try_send(n).unwrap();
    }
    assert!(
        pid.try_send(99).unwrap_err().is_full(),
        "the mailbox is full"
    );
    go_tx.send(()).unwrap();
    let (panicked, first) = bounded("the selective receive", rx).await.unwrap();
    assert_eq!(panicked.as_deref(), Some("the predicate panicked on 2"));
    assert_eq!(first, [1, 2, 3], "every message comes back in order");
    let refill: Vec<bool> = (10..10 + CAPACITY)
        .map(|n| pid.try_send(n).is_ok())
        .collect();
    assert_eq!(refill, [true; CAPACITY as usize], "room was leaked");
    refilled_tx.send(()).unwrap();
    let second = bounded("the second drain", again_rx).await.unwrap();
    assert_eq!(second, [10, 11, 12]);
}

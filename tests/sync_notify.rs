//! Behaviour of `sync::Notify`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};
use std::thread;

use futures::FutureExt;
use futures::executor::block_on;
use futures::task::ArcWake;

use smp_rt::sync::Notify;

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

#[test]
fn notify_one_without_waiter_stores_a_permit() {
    let n = Notify::new();
    n.notify_one();
    assert_eq!(n.notified().now_or_never(), Some(()));
    assert_eq!(n.notified().now_or_never(), None);
}

#[test]
fn at_most_one_permit_is_stored() {
    let n = Notify::new();
    n.notify_one();
    n.notify_one();
    n.notify_one();
    assert_eq!(n.notified().now_or_never(), Some(()));
    assert_eq!(n.notified().now_or_never(), None);
}

#[test]
fn notify_waiters_stores_no_permit() {
    let n = Notify::new();
    n.notify_waiters();
    assert_eq!(n.notified().now_or_never(), None);
}

#[test]
fn notify_waiters_wakes_every_waiting_future() {
    let n = Notify::new();
    let (counts, wakers): (Vec<_>, Vec<_>) = (0..3).map(|_| counting_waker()).unzip();
    let mut futs: Vec<_> = (0..3).map(|_| Box::pin(n.notified())).collect();
    for (f, w) in futs.iter_mut().zip(&wakers) {
        assert!(f.as_mut().poll(&mut Context::from_waker(w)).is_pending());
    }
    n.notify_waiters();
    for ((f, w), c) in futs.iter_mut().zip(&wakers).zip(&counts) {
        assert_eq!(wakes(c), 1);
        assert_eq!(
            f.as_mut().poll(&mut Context::from_waker(w)),
            Poll::Ready(())
        );
    }
    assert_eq!(n.notified().now_or_never(), None);
}

#[test]
fn notify_waiters_completes_futures_created_before_it_even_unpolled() {
    let n = Notify::new();
    let before = n.notified();
    n.notify_waiters();
    let after = n.notified();
    assert_eq!(before.now_or_never(), Some(()));
    assert_eq!(after.now_or_never(), None);
}

#[test]
fn notify_one_goes_to_the_waiter_not_to_a_permit() {
    let n = Notify::new();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut w = pin!(n.notified());
    assert!(w.as_mut().poll(&mut cx).is_pending());
    n.notify_one();
    assert_eq!(wakes(&count), 1);
    assert_eq!(w.as_mut().poll(&mut cx), Poll::Ready(()));
    assert_eq!(n.notified().now_or_never(), None);
}

#[test]
fn notify_one_wakes_longest_waiting_first() {
    let n = Notify::new();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut f1 = pin!(n.notified());
    let mut f2 = pin!(n.notified());
    assert!(f1.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
    assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_pending());
    n.notify_one();
    assert_eq!((wakes(&c1), wakes(&c2)), (1, 0));
    assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_pending());
    assert!(f1.as_mut().poll(&mut Context::from_waker(&w1)).is_ready());
    n.notify_one();
    assert_eq!(wakes(&c2), 1);
    assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_ready());
}

#[test]
fn dropped_notified_future_passes_its_notification_to_the_next_waiter() {
    let n = Notify::new();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut f1 = Box::pin(n.notified());
    let mut f2 = pin!(n.notified());
    assert!(f1.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
    assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_pending());
    n.notify_one();
    assert_eq!((wakes(&c1), wakes(&c2)), (1, 0));
    drop(f1);
    assert_eq!(wakes(&c2), 1);
    assert!(f2.as_mut().poll(&mut Context::from_waker(&w2)).is_ready());
    assert_eq!(n.notified().now_or_never(), None);
}

#[test]
fn dropped_notified_future_passes_its_notification_to_a_permit() {
    let n = Notify::new();
    let (_, w1) = counting_waker();
    let mut f1 = Box::pin(n.notified());
    assert!(f1.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
    n.notify_one();
    drop(f1);
    assert_eq!(n.notified().now_or_never(), Some(()));
}

#[test]
fn dropped_unnotified_waiter_leaves_no_trace() {
    let n = Notify::new();
    assert_eq!(n.notified().now_or_never(), None);
    n.notify_one();
    assert_eq!(n.notified().now_or_never(), Some(()));
    assert_eq!(n.notified().now_or_never(), None);
}

#[test]
fn enable_registers_without_polling() {
    let n = Notify::new();
    let mut f = pin!(n.notified());
    assert!(!f.as_mut().enable());
    n.notify_one();
    assert!(f.as_mut().enable());
    // The notification went to `f`, not to a stored permit.
    assert_eq!(n.notified().now_or_never(), None);
    assert_eq!(f.now_or_never(), Some(()));

    let n = Notify::new();
    n.notify_one();
    let mut f = pin!(n.notified());
    assert!(f.as_mut().enable());
    assert_eq!(f.now_or_never(), Some(()));
}

#[test]
fn notify_from_plain_thread_wakes_task() {
    for _ in 0..scale(500) {
        let n = Arc::new(Notify::new());
        let n2 = Arc::clone(&n);
        let t = thread::spawn(move || n2.notify_one());
        block_on(n.notified());
        t.join().unwrap();
    }
}

#[test]
fn ping_pong_between_threads_loses_no_notification() {
    const ROUNDS: usize = scale(5000);
    let ping = Arc::new(Notify::new());
    let pong = Arc::new(Notify::new());
    let (ping2, pong2) = (Arc::clone(&ping), Arc::clone(&pong));
    let t = thread::spawn(move || {
        block_on(async {
            for _ in 0..ROUNDS {
                ping2.notified().await;
                pong2.notify_one();
            }
        })
    });
    block_on(async {
        for _ in 0..ROUNDS {
            ping.notify_one();
            pong.notified().await;
        }
    });
    t.join().unwrap();
}

#[test]
fn notify_waiters_from_thread_reaches_enabled_waiters() {
    for _ in 0..scale(500) {
        let n = Arc::new(Notify::new());
        let n2 = Arc::clone(&n);
        let mut f = Box::pin(n.notified());
        // Registered before the thread starts, so the broadcast finds it.
        f.as_mut().enable();
        let t = thread::spawn(move || n2.notify_waiters());
        block_on(f);
        t.join().unwrap();
    }
}

#[test]
fn is_send_sync_and_const() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Notify>();
    assert_send_sync::<smp_rt::sync::Notified<'static>>();
    static GLOBAL: Notify = Notify::const_new();
    GLOBAL.notify_one();
    assert_eq!(GLOBAL.notified().now_or_never(), Some(()));
    let _ = format!("{:?} {:?}", Notify::default(), GLOBAL.notified());
}

// ---------------------------------------------------------------------------
// notify_last
// ---------------------------------------------------------------------------

#[test]
fn notify_last_wakes_the_most_recent_waiter() {
    let notify = Notify::new();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    let mut c = pin!(notify.notified());
    assert!(a.as_mut().poll(&mut cx).is_pending());
    assert!(b.as_mut().poll(&mut cx).is_pending());
    assert!(c.as_mut().poll(&mut cx).is_pending());

    notify.notify_last();
    assert_eq!(wakes(&count), 1);
    assert!(c.as_mut().poll(&mut cx).is_ready());
    assert!(a.as_mut().poll(&mut cx).is_pending());
    assert!(b.as_mut().poll(&mut cx).is_pending());

    notify.notify_last();
    assert!(b.as_mut().poll(&mut cx).is_ready());
    notify.notify_one();
    assert!(a.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn notify_last_without_waiter_stores_a_permit() {
    let notify = Notify::new();
    notify.notify_last();
    notify.notify_last();
    assert!(notify.notified().now_or_never().is_some());
    assert!(
        notify.notified().now_or_never().is_none(),
        "one permit at most"
    );
}

#[test]
fn notify_last_dropped_unconsumed_passes_on_to_the_last_waiter() {
    let notify = Notify::new();
    let (_count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut a = pin!(notify.notified());
    let mut b = pin!(notify.notified());
    assert!(a.as_mut().poll(&mut cx).is_pending());
    assert!(b.as_mut().poll(&mut cx).is_pending());
    {
        let mut c = Box::pin(notify.notified());
        assert!(c.as_mut().poll(&mut cx).is_pending());
        notify.notify_last();
        // Dropped before being polled again: `b`, now the last, gets it.
    }
    assert!(b.as_mut().poll(&mut cx).is_ready());
    assert!(a.as_mut().poll(&mut cx).is_pending());
}

#[smp_rt::test]
async fn notify_last_wakes_a_task() {
    let notify = Arc::new(Notify::new());
    let n2 = Arc::clone(&notify);
    let handle = smp_rt::spawn(async move { n2.notified().await });
    // Whether the task waits yet or not, the notification reaches it
    // (as a wakeup or as the stored permit).
    notify.notify_last();
    handle.await.unwrap();
}

#[test]
fn notify_last_from_threads_wakes_each_waiter_once() {
    let notify = Arc::new(Notify::new());
    let n = scale(200);
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let notify = Arc::clone(&notify);
            thread::spawn(move || {
                for _ in 0..n {
                    block_on(notify.notified());
                }
            })
        })
        .collect();
    let notifier = {
        let notify = Arc::clone(&notify);
        thread::spawn(move || {
            let mut done = 0;
            while !waiters.iter().all(|w| w.is_finished()) {
                notify.notify_last();
                done += 1;
                thread::yield_now();
            }
            for w in waiters {
                w.join().unwrap();
            }
            done
        })
    };
    assert!(notifier.join().unwrap() >= 4 * n);
}

// ---------------------------------------------------------------------------
// notified_owned
// ---------------------------------------------------------------------------

#[test]
fn owned_notified_consumes_a_stored_permit() {
    let notify = Arc::new(Notify::new());
    notify.notify_one();
    assert_eq!(
        Arc::clone(&notify).notified_owned().now_or_never(),
        Some(())
    );
    assert!(
        Arc::clone(&notify)
            .notified_owned()
            .now_or_never()
            .is_none(),
        "the one permit was consumed"
    );
}

#[test]
fn owned_notified_counts_as_waiting_from_creation() {
    let notify = Arc::new(Notify::new());
    let before = Arc::clone(&notify).notified_owned();
    notify.notify_waiters();
    let after = Arc::clone(&notify).notified_owned();
    assert_eq!(before.now_or_never(), Some(()));
    assert!(after.now_or_never().is_none());
}

#[test]
fn owned_and_borrowed_futures_share_one_queue() {
    let notify = Arc::new(Notify::new());
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut owned = pin!(Arc::clone(&notify).notified_owned());
    let mut borrowed = pin!(notify.notified());
    assert!(owned.as_mut().poll(&mut cx).is_pending());
    assert!(borrowed.as_mut().poll(&mut cx).is_pending());
    notify.notify_one();
    assert_eq!(wakes(&count), 1);
    assert!(owned.as_mut().poll(&mut cx).is_ready(), "it waited longest");
    assert!(borrowed.as_mut().poll(&mut cx).is_pending());
    notify.notify_one();
    assert!(borrowed.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn dropped_owned_notified_passes_its_notification_on() {
    let notify = Arc::new(Notify::new());
    let mut first = Box::pin(Arc::clone(&notify).notified_owned());
    let mut second = pin!(notify.notified());
    assert!(!first.as_mut().enable());
    assert!(!second.as_mut().enable());
    notify.notify_one();
    drop(first);
    assert_eq!(second.now_or_never(), Some(()));

    // With no other waiter, it becomes the stored permit.
    let mut only = Box::pin(Arc::clone(&notify).notified_owned());
    assert!(!only.as_mut().enable());
    notify.notify_one();
    drop(only);
    assert_eq!(notify.notified().now_or_never(), Some(()));
    assert_eq!(
        Arc::strong_count(&notify),
        1,
        "the futures' clones are gone"
    );
}

#[test]
fn owned_enable_registers_without_polling() {
    let notify = Arc::new(Notify::new());
    let mut owned = pin!(Arc::clone(&notify).notified_owned());
    assert!(!owned.as_mut().enable());
    notify.notify_one();
    assert!(owned.as_mut().enable(), "the notification reached it");
    assert!(
        notify.notified().now_or_never().is_none(),
        "no permit was stored"
    );
    assert_eq!(owned.now_or_never(), Some(()));
}

#[smp_rt::test]
async fn owned_notified_moves_into_spawned_tasks() {
    let notify = Arc::new(Notify::new());
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let notified = Arc::clone(&notify).notified_owned();
            smp_rt::spawn(async move {
                notified.await;
                i
            })
        })
        .collect();
    notify.notify_waiters();
    let mut sum = 0;
    for t in tasks {
        sum += t.await.unwrap();
    }
    assert_eq!(sum, 45);
}

#[test]
fn owned_notified_from_thread_wakes_blocked_waiter() {
    for _ in 0..scale(500) {
        let n = Arc::new(Notify::new());
        let n2 = Arc::clone(&n);
        let t = thread::spawn(move || n2.notify_one());
        block_on(Arc::clone(&n).notified_owned());
        t.join().unwrap();
    }
}

#[test]
fn owned_notified_charges_reductions() {
    let rt = smp_rt::runtime::Builder::new_current_thread()
        .reductions(smp_rt::runtime::MIN_REDUCTIONS)
        .build()
        .unwrap();
    let preemptions = rt.block_on(async {
        smp_rt::spawn(async {
            let notify = Arc::new(Notify::new());
            for _ in 0..400 {
                notify.notify_one();
                Arc::clone(&notify).notified_owned().await;
            }
            smp_rt::task::stats().preemptions
        })
        .await
        .unwrap()
    });
    // 400 ready awaits at one reduction each do not fit in one slice of
    // the smallest size.
    assert!(preemptions >= 3, "only {preemptions} preemptions");
}

#[test]
fn owned_notified_is_send_sync_static_and_debug() {
    fn assert_send_sync_static<T: Send + Sync + 'static>() {}
    assert_send_sync_static::<smp_rt::sync::futures::OwnedNotified>();
    let notify = Arc::new(Notify::new());
    let f: smp_rt::sync::OwnedNotified = notify.notified_owned();
    assert!(format!("{f:?}").starts_with("OwnedNotified"));
}

//! Behaviour of `sync::Barrier`, after tokio's `sync_barrier` tests.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use smp_rt::runtime::Builder;
use smp_rt::sync::Barrier;
use smp_rt::task;

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

#[smp_rt::test]
async fn zero_does_not_block() {
    let b = Barrier::new(0);
    assert!(b.wait().await.is_leader());
    assert!(b.wait().await.is_leader());
}

#[smp_rt::test]
async fn single() {
    let b = Barrier::new(1);
    for _ in 0..3 {
        assert!(b.wait().await.is_leader());
    }
}

#[smp_rt::test]
async fn two_releases_both_and_the_last_leads() {
    let b = Barrier::new(2);
    let mut first = pin!(b.wait());
    assert!(poll_once(&mut first).is_pending());
    assert!(poll_once(&mut first).is_pending());
    let second = b.wait().await;
    assert!(second.is_leader());
    match poll_once(&mut first) {
        Poll::Ready(r) => assert!(!r.is_leader()),
        Poll::Pending => panic!("the first waiter was not released"),
    }
}

#[smp_rt::test]
async fn the_barrier_is_reusable() {
    let b = Barrier::new(2);
    for _ in 0..3 {
        let mut w1 = pin!(b.wait());
        assert!(poll_once(&mut w1).is_pending());
        let leader = b.wait().await;
        let Poll::Ready(follower) = poll_once(&mut w1) else {
            panic!("not released");
        };
        assert!(leader.is_leader() != follower.is_leader());
    }
}

#[smp_rt::test]
async fn a_dropped_wait_still_counts_as_arrived() {
    // As in tokio: `wait` is not cancel safe.
    let b = Barrier::new(2);
    {
        let mut w = pin!(b.wait());
        assert!(poll_once(&mut w).is_pending());
    }
    assert!(b.wait().await.is_leader());
}

#[smp_rt::test]
async fn an_unpolled_wait_has_not_arrived() {
    let b = Barrier::new(2);
    drop(b.wait());
    let mut w = pin!(b.wait());
    assert!(poll_once(&mut w).is_pending());
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_many_generations() {
    const TASKS: usize = 8;
    const ROUNDS: usize = 50;
    let b = Arc::new(Barrier::new(TASKS));
    let tasks: Vec<_> = (0..TASKS)
        .map(|_| {
            let b = b.clone();
            smp_rt::spawn(async move {
                let mut leads = 0;
                for _ in 0..ROUNDS {
                    if b.wait().await.is_leader() {
                        leads += 1;
                    }
                    task::yield_now().await;
                }
                leads
            })
        })
        .collect();
    let mut leaders = 0;
    for t in tasks {
        leaders += t.await.unwrap();
    }
    assert_eq!(leaders, ROUNDS, "exactly one leader per generation");
}

#[test]
fn barrier_is_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Barrier>();
    fn send<T: Send>(_: &T) {}
    let b = Barrier::new(1);
    send(&b.wait());
    assert!(format!("{b:?}").starts_with("Barrier"));
}

#[test]
fn waiting_charges_a_reduction_per_poll() {
    let rt = Builder::new_current_thread()
        .reductions(smp_rt::runtime::MIN_REDUCTIONS)
        .build()
        .unwrap();
    let n = rt.block_on(async {
        smp_rt::spawn(async {
            let b = Barrier::new(1);
            for _ in 0..400 {
                b.wait().await;
            }
            task::stats().preemptions
        })
        .await
        .unwrap()
    });
    assert!(n >= 4, "400 waits in the smallest slices: {n} preemptions");
}

//! Cancelling timers: dropping a sleep, aborting the task that waits on
//! it, or dropping the runtime removes its timer from the runtime's
//! `Timers`, from whichever thread, and nothing fires afterwards.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::Poll;

use futures::future::Either;
use smp_rt::runtime::{Builder, Handle};
use smp_rt::task;
use smp_rt_timers::{Duration, Instant, Sleep, Timers, sleep, sleep_until, timeout};

/// Fails the test instead of hanging it if `fut` is not done within 30 s.
async fn within_30s<F: Future>(fut: F) -> F::Output {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = tx.send(());
    });
    match futures::future::select(pin!(fut), rx).await {
        Either::Left((output, _)) => output,
        Either::Right(_) => panic!("not finished after 30 s"),
    }
}

fn timers() -> Arc<Timers> {
    Handle::current()
        .extension::<Timers>()
        .expect("the runtime has timers")
}

/// Boxed sleeps with deadlines from 10 s to about 110 s ahead.
fn far_sleeps(n: usize) -> Vec<Pin<Box<Sleep>>> {
    let base = Instant::now() + Duration::from_secs(10);
    (0..n)
        .map(|i| Box::pin(sleep_until(base + Duration::from_millis(i as u64))))
        .collect()
}

/// Polls each sleep once (arming it) with the calling task's waker.
async fn arm_all(sleeps: &mut [Pin<Box<Sleep>>]) {
    // Unconstrained: a poll preempted by the reduction budget would not arm.
    task::unconstrained(poll_fn(|cx| {
        for s in sleeps.iter_mut() {
            assert!(s.as_mut().poll(cx).is_pending());
        }
        Poll::Ready(())
    }))
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn arming_then_dropping_100_000_sleeps_leaves_no_timer() {
    let timers = timers();
    assert!(timers.is_empty());
    let mut sleeps = far_sleeps(100_000);
    arm_all(&mut sleeps).await;
    assert_eq!(timers.len(), 100_000);
    let next = timers.next_deadline().expect("armed timers");
    assert!(next >= sleeps[0].deadline().into_std());
    drop(sleeps);
    assert_eq!(timers.len(), 0);
    assert!(timers.is_empty());
    assert_eq!(timers.next_deadline(), None);
}

/// Sleeps armed on several workers and dropped on others.
#[smp_rt::test(worker_threads = 2)]
async fn sleeps_dropped_on_another_thread_are_cancelled() {
    within_30s(async {
        let timers = timers();
        let (tx, rx) = std::sync::mpsc::channel::<Vec<Pin<Box<Sleep>>>>();
        let armers: Vec<_> = (0..8)
            .map(|_| {
                let tx = tx.clone();
                smp_rt::spawn(async move {
                    let mut sleeps = far_sleeps(5_000);
                    arm_all(&mut sleeps).await;
                    tx.send(sleeps).unwrap();
                })
            })
            .collect();
        drop(tx);
        for armer in armers {
            armer.await.unwrap();
        }
        assert_eq!(timers.len(), 40_000);
        let dropper = std::thread::spawn(move || {
            for batch in rx {
                drop(batch);
            }
        });
        dropper.join().unwrap();
        assert_eq!(timers.len(), 0);
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn an_aborted_task_frees_its_timer() {
    within_30s(async {
        let timers = timers();
        let sleeper = smp_rt::spawn(async {
            sleep(Duration::from_secs(3600)).await;
            unreachable!("slept an hour");
        });
        while timers.is_empty() {
            task::yield_now().await;
        }
        assert_eq!(timers.len(), 1);
        sleeper.abort();
        let err = sleeper.await.unwrap_err();
        assert!(err.is_cancelled());
        assert_eq!(timers.len(), 0);
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn timeouts_whose_future_wins_leave_no_timer() {
    within_30s(async {
        let handles: Vec<_> = (0..1000)
            .map(|i| {
                smp_rt::spawn(async move {
                    // Pending once (so the deadline is armed), then ready.
                    let work = async move {
                        task::yield_now().await;
                        i
                    };
                    timeout(Duration::from_secs(3600), work).await.unwrap()
                })
            })
            .collect();
        for (i, handle) in handles.into_iter().enumerate() {
            assert_eq!(handle.await.unwrap(), i);
        }
        assert_eq!(timers().len(), 0);
    })
    .await;
}

#[test]
fn dropping_the_runtime_cancels_the_timers_of_its_tasks() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let timers = rt
        .handle()
        .extension::<Timers>()
        .expect("the runtime has timers");
    for _ in 0..100 {
        rt.spawn(async {
            sleep(Duration::from_secs(3600)).await;
        });
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while timers.len() < 100 {
        assert!(
            std::time::Instant::now() < deadline,
            "the tasks did not arm their timers within 30 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    drop(rt);
    assert_eq!(timers.len(), 0);
}

/// A sleep that completed and was dropped, and one dropped before its
/// first poll, leave nothing either.
#[smp_rt::test]
async fn completed_and_unpolled_sleeps_leave_no_timer() {
    within_30s(async {
        sleep(Duration::from_millis(2)).await;
        drop(sleep(Duration::from_secs(1)));
        assert!(timers().is_empty());
    })
    .await;
}

//! `sleep` and `sleep_until`: never before the deadline, in deadline order,
//! cancelled when dropped, moved by `reset`, on both runtime flavors.
//!
//! No test asserts how soon a timer fires (that is measured by
//! `lateness_report`, an ignored test); a broken timer fails the test
//! after 30 s instead of hanging it.

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures::StreamExt;
use futures::future::Either;
use futures::stream::FuturesUnordered;
use smp_rt::runtime::{Builder, Handle};
use smp_rt::task;
use smp_rt_timers::{Duration, Instant, Sleep, Timers, sleep, sleep_until};

/// Fails the test instead of hanging it if `fut` is not done within 30 s.
async fn within_30s<F: Future>(fut: F) -> F::Output {
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(30));
        let _ = tx.send(());
    });
    match futures::future::select(pin!(fut), rx).await {
        Either::Left((output, _)) => output,
        Either::Right(_) => panic!("not finished after 30 s: a timer that never fires?"),
    }
}

fn timers() -> Arc<Timers> {
    Handle::current()
        .extension::<Timers>()
        .expect("the runtime has timers")
}

/// Counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn a_sleep_never_completes_before_its_deadline() {
    within_30s(async {
        for ms in [0, 1, 2, 3, 5, 8, 13, 21] {
            let d = Duration::from_millis(ms);
            let start = Instant::now();
            sleep(d).await;
            assert!(start.elapsed() >= d, "sleep({d:?}) returned early");

            let deadline = Instant::now() + Duration::from_micros(ms * 700 + 1);
            sleep_until(deadline).await;
            assert!(Instant::now() >= deadline, "sleep_until returned early");
        }
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn many_tasks_sleep_concurrently() {
    within_30s(async {
        let handles: Vec<_> = (0..500u64)
            .map(|i| {
                smp_rt::spawn(async move {
                    let deadline = Instant::now() + Duration::from_millis(1 + i % 40);
                    sleep_until(deadline).await;
                    Instant::now() >= deadline
                })
            })
            .collect();
        for handle in handles {
            assert!(handle.await.unwrap(), "a sleep completed early");
        }
        assert!(timers().is_empty());
    })
    .await;
}

/// Sleeps with distinct whole-millisecond offsets from one base complete in
/// deadline order: they fire in tick order, and one task collects them in
/// the order they are woken.
#[test]
fn sleeps_with_random_deadlines_complete_in_deadline_order() {
    for flavor in ["current_thread", "multi_thread"] {
        let rt = match flavor {
            "current_thread" => Builder::new_current_thread(),
            _ => Builder::new_multi_thread(),
        }
        // A budget large enough that no poll below is preempted: a
        // preempted poll would requeue a woken sleep behind later ones.
        .reductions(1_000_000)
        .build()
        .unwrap();
        rt.block_on(within_30s(async {
            let mut rng = Rng(0x2545_f491_4f6c_dd1d);
            // An attempt only counts if every sleep was armed before the
            // first deadline (a stalled thread could make some complete on
            // their first poll, in arming order).
            for _attempt in 0..5 {
                let mut offsets: Vec<u64> = (1..=150).map(|i| i * 2).collect();
                for i in (1..offsets.len()).rev() {
                    offsets.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let base = Instant::now() + Duration::from_millis(100);
                let mut pending: FuturesUnordered<_> = offsets
                    .iter()
                    .map(|&ms| {
                        let deadline = base + Duration::from_millis(ms);
                        async move {
                            sleep_until(deadline).await;
                            assert!(Instant::now() >= deadline, "completed early");
                            ms
                        }
                    })
                    .collect();
                // Poll them all once: each arms its timer.
                let first = poll_fn(|cx| Poll::Ready(pending.poll_next_unpin(cx))).await;
                if first.is_ready() || Instant::now() >= base + Duration::from_millis(2) {
                    continue;
                }
                let mut order = Vec::new();
                while let Some(ms) = pending.next().await {
                    order.push(ms);
                }
                let mut sorted = order.clone();
                sorted.sort_unstable();
                assert_eq!(order, sorted, "{flavor}: not in deadline order");
                return;
            }
            panic!("{flavor}: could not arm 150 timers within 100 ms in 5 attempts");
        }));
    }
}

/// Deadlines for a test that needs a sleep still pending at its first
/// poll: the first is short, so that a wrong wake shows within the test; the
/// longer ones are for a machine slow enough (emulated, loaded) that the
/// short one had passed before the poll.
const FIRST_POLL_DEADLINES: [Duration; 3] = [
    Duration::from_millis(10),
    Duration::from_millis(100),
    Duration::from_secs(1),
];

/// The margin a dropped sleep's deadline must still have for the test to
/// be conclusive. The wheel never fires early (deadlines round up to its
/// 1 ms tick); the margin covers the time between this clock read and the
/// drop taking effect.
const FIRING_SLACK: Duration = Duration::from_millis(2);

/// A sleep polled once and then dropped never wakes the waker it was
/// polled with, and leaves no timer behind.
#[smp_rt::test(worker_threads = 2)]
async fn a_dropped_sleep_does_not_wake_its_task() {
    within_30s(async {
        for deadline in FIRST_POLL_DEADLINES {
            let count = Arc::new(CountingWaker::default());
            let waker = Waker::from(count.clone());
            let mut s = Box::pin(sleep(deadline));
            if s.as_mut().poll(&mut Context::from_waker(&waker)).is_ready() {
                // The deadline passed before the first poll: try a longer one.
                continue;
            }
            let armed = timers().len();
            let fires_at = s.deadline();
            drop(s);
            if Instant::now() + FIRING_SLACK >= fires_at {
                // The deadline may have come before the drop (an emulated,
                // loaded machine): the timer may rightly have fired. Try a
                // longer one.
                continue;
            }
            assert_eq!(armed, 1);
            assert_eq!(timers().len(), 0);
            sleep(deadline * 4).await;
            assert_eq!(count.0.load(SeqCst), 0, "a dropped sleep woke its waker");
            drop(waker);
            assert_eq!(Arc::strong_count(&count), 1, "the waker was kept");
            return;
        }
        panic!("no sleep of up to 1 s was still pending when it was dropped");
    })
    .await;
}

/// A sleep first polled by one task and then awaited by another wakes the
/// second: re-polling with a new waker replaces the stored one.
#[smp_rt::test(worker_threads = 2)]
async fn a_sleep_moved_to_another_task_wakes_that_task() {
    within_30s(async {
        for deadline in FIRST_POLL_DEADLINES {
            let mut s: Pin<Box<Sleep>> = Box::pin(sleep(deadline));
            let first = poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx))).await;
            if first.is_ready() {
                // The deadline passed before the first poll: try a longer one.
                continue;
            }
            let deadline = s.deadline();
            smp_rt::spawn(async move {
                s.await;
                assert!(Instant::now() >= deadline);
            })
            .await
            .unwrap();
            return;
        }
        panic!("no sleep of up to 1 s was still pending at its first poll");
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn reset_moves_the_deadline() {
    within_30s(async {
        // From an hour to 20 ms, while a task waits on it.
        let start = Instant::now();
        let mut s = pin!(sleep(Duration::from_secs(3600)));
        poll_fn(|cx| {
            assert!(s.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        s.as_mut().reset(start + Duration::from_millis(20));
        assert_eq!(s.deadline(), start + Duration::from_millis(20));
        s.as_mut().await;
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert!(s.is_elapsed());

        // After completing: it waits again, for the new deadline.
        let again = Instant::now() + Duration::from_millis(15);
        s.as_mut().reset(again);
        assert!(!s.is_elapsed());
        s.as_mut().await;
        assert!(Instant::now() >= again);

        // Later, while armed: not before the new deadline.
        let mut s = pin!(sleep(Duration::from_millis(5)));
        poll_fn(|cx| {
            let _ = s.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        let later = Instant::now() + Duration::from_millis(40);
        s.as_mut().reset(later);
        s.await;
        assert!(Instant::now() >= later);
        assert!(timers().is_empty());
    })
    .await;
}

#[smp_rt::test]
async fn a_deadline_in_the_past_completes_on_the_first_poll() {
    for deadline in [
        Instant::now(),
        Instant::now() - Duration::from_secs(1),
        Instant::now() - Duration::from_millis(1),
    ] {
        let mut s = pin!(sleep_until(deadline));
        let first = poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx))).await;
        assert!(first.is_ready());
        assert!(s.is_elapsed());
    }
    let mut zero = pin!(sleep(Duration::ZERO));
    assert!(
        poll_fn(|cx| Poll::Ready(zero.as_mut().poll(cx)))
            .await
            .is_ready()
    );
    assert!(timers().is_empty());
}

#[smp_rt::test(flavor = "current_thread")]
async fn sleeps_on_a_current_thread_runtime() {
    within_30s(async {
        let start = Instant::now();
        sleep(Duration::from_millis(10)).await;
        assert!(start.elapsed() >= Duration::from_millis(10));

        let done = Arc::new(Mutex::new(Vec::new()));
        let handles: Vec<_> = (1..=20u64)
            .map(|i| {
                let done = done.clone();
                smp_rt::spawn(async move {
                    let deadline = start + Duration::from_millis(10 + i);
                    sleep_until(deadline).await;
                    assert!(Instant::now() >= deadline);
                    done.lock().unwrap().push(i);
                })
            })
            .collect();
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(done.lock().unwrap().len(), 20);
    })
    .await;
}

#[test]
fn sleeps_inside_block_on_of_a_multi_thread_runtime() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(within_30s(async {
        let start = Instant::now();
        sleep(Duration::from_millis(15)).await;
        assert!(start.elapsed() >= Duration::from_millis(15));
    }));
}

/// What a panic for want of a runtime says: what was wrong and how to fix it.
const NO_RUNTIME: &str = "needs a runtime, and there is no smp_rt runtime on this thread: \
                          call it from inside a runtime (#[smp_rt::main], Runtime::block_on or Runtime::enter)";

#[test]
#[should_panic(expected = "smp_rt::time::sleep needs a runtime")]
fn sleep_outside_a_runtime_panics_when_called() {
    // Not awaited, not polled: the call itself panics, as tokio's does.
    drop(sleep(Duration::from_millis(1)));
}

#[test]
#[should_panic(expected = "smp_rt::time::sleep_until needs a runtime")]
fn sleep_until_outside_a_runtime_panics_when_called() {
    drop(sleep_until(Instant::now() + Duration::from_millis(1)));
}

#[test]
fn the_panic_for_want_of_a_runtime_says_how_to_fix_it() {
    for make in [
        (|| drop(sleep(Duration::from_millis(1)))) as fn(),
        || drop(sleep_until(Instant::now())),
        || drop(sleep(Duration::MAX)),
    ] {
        let panic = std::panic::catch_unwind(make).expect_err("made outside a runtime");
        let message = panic.downcast_ref::<String>().expect("a formatted message");
        assert!(message.contains(NO_RUNTIME), "{message}");
    }
}

#[test]
fn a_sleep_made_inside_enter_can_be_awaited_in_block_on() {
    let rt = Builder::new_current_thread().build().unwrap();
    let s = {
        let _entered = rt.enter();
        sleep(Duration::from_millis(5))
    };
    let deadline = s.deadline();
    rt.block_on(within_30s(s));
    assert!(Instant::now() >= deadline);
}

#[test]
#[should_panic(expected = "has no timers")]
fn a_sleep_on_an_executor_only_runtime_panics_when_called() {
    smp_rt_executor::block_on(async {
        drop(sleep(Duration::from_millis(1)));
    });
}

/// Each poll of a timer future charges a reduction: 200 ready sleeps do
/// not fit in slices of the smallest size.
#[test]
fn sleeps_charge_reductions() {
    let rt = Builder::new_current_thread()
        .reductions(smp_rt::runtime::MIN_REDUCTIONS)
        .build()
        .unwrap();
    let preemptions = rt.block_on(async {
        smp_rt::spawn(async {
            for _ in 0..200 {
                sleep(Duration::ZERO).await;
            }
            task::stats().preemptions
        })
        .await
        .unwrap()
    });
    assert!(preemptions >= 3, "only {preemptions} preemptions");
}

/// Measures how late sleeps complete on an idle runtime; prints
/// percentiles of (completion - deadline). Run with
/// `cargo test --release --test time_sleep -- --ignored --nocapture lateness`.
#[test]
#[ignore = "measurement"]
fn lateness_report() {
    fn report(what: &str, mut late: Vec<Duration>) {
        late.sort_unstable();
        let pct = |p: usize| late[(late.len() * p / 100).min(late.len() - 1)];
        println!(
            "{what}: n={} p50={:?} p90={:?} p99={:?} max={:?}",
            late.len(),
            pct(50),
            pct(90),
            pct(99),
            late[late.len() - 1]
        );
    }
    for flavor in ["multi_thread", "current_thread"] {
        let rt = match flavor {
            "current_thread" => Builder::new_current_thread(),
            _ => Builder::new_multi_thread(),
        }
        .build()
        .unwrap();
        rt.block_on(async {
            // One at a time, from a spawned task.
            let late = smp_rt::spawn(async {
                let mut rng = Rng(7);
                let mut late = Vec::new();
                for _ in 0..1000 {
                    let d = Duration::from_micros(1000 + rng.below(19_000));
                    let deadline = Instant::now() + d;
                    sleep_until(deadline).await;
                    late.push(Instant::now() - deadline);
                }
                late
            })
            .await
            .unwrap();
            report(&format!("{flavor}, sequential 1-20 ms"), late);

            // 1000 tasks at once.
            let handles: Vec<_> = (0..1000u64)
                .map(|i| {
                    smp_rt::spawn(async move {
                        let deadline =
                            Instant::now() + Duration::from_micros(1000 + (i * 7919) % 19_000);
                        sleep_until(deadline).await;
                        Instant::now() - deadline
                    })
                })
                .collect();
            let mut late = Vec::new();
            for handle in handles {
                late.push(handle.await.unwrap());
            }
            report(&format!("{flavor}, 1000 concurrent 1-20 ms"), late);
        });
    }
}

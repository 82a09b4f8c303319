//! `timeout` and `timeout_at`: the future's output when it wins, `Elapsed`
//! when the deadline wins (and the future is dropped), a ready future wins
//! even a zero timeout, and a budget-hungry future cannot outrun the
//! deadline.

use std::future::{Future, pending};
use std::io;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::Poll;

use futures::future::Either;
use smp_rt::runtime::{Builder, Handle};
use smp_rt::task;
use smp_rt_timers::error::Elapsed;
use smp_rt_timers::{Duration, Instant, Timers, sleep, timeout, timeout_at};

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

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn ok_when_the_future_wins() {
    within_30s(async {
        let out = timeout(Duration::from_secs(10), async {
            sleep(Duration::from_millis(5)).await;
            7
        })
        .await;
        assert_eq!(out, Ok(7));
        // The timeout's own timer is gone.
        assert!(timers().is_empty());
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn elapsed_when_the_deadline_wins() {
    within_30s(async {
        let start = Instant::now();
        let out = timeout(Duration::from_millis(20), sleep(Duration::from_secs(3600))).await;
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "elapsed early"
        );
        let err: Elapsed = out.unwrap_err();
        assert_eq!(err.to_string(), "deadline has elapsed");
        let as_error: &dyn std::error::Error = &err;
        assert!(as_error.source().is_none());
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::TimedOut);
        assert!(timers().is_empty(), "the inner sleep was cancelled");
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn the_inner_future_is_dropped_on_elapse() {
    within_30s(async {
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = DropFlag(dropped.clone());
        let out = timeout(Duration::from_millis(10), async move {
            let _guard = guard;
            pending::<()>().await
        })
        .await;
        assert!(out.is_err());
        assert!(
            dropped.load(SeqCst),
            "the inner future outlived the timeout"
        );
    })
    .await;
}

#[smp_rt::test]
async fn a_ready_future_wins_even_a_zero_timeout() {
    assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5));
    let past = Instant::now() - Duration::from_secs(1);
    assert_eq!(timeout_at(past, std::future::ready(3)).await, Ok(3));
    assert_eq!(
        timeout(Duration::from_secs(1), sleep(Duration::ZERO)).await,
        Ok(())
    );
    // A pending future and a zero timeout: elapsed on the first poll.
    assert!(timeout(Duration::ZERO, pending::<()>()).await.is_err());
}

#[smp_rt::test(worker_threads = 2)]
async fn timeout_at_uses_the_given_deadline() {
    within_30s(async {
        let deadline = Instant::now() + Duration::from_millis(15);
        let out = timeout_at(deadline, pending::<()>()).await;
        assert!(out.is_err());
        assert!(Instant::now() >= deadline);
    })
    .await;
}

/// A future that is ready at once with its `value`.
struct Value {
    value: u32,
}

impl Future for Value {
    type Output = u32;

    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<u32> {
        Poll::Ready(self.value)
    }
}

#[test]
fn accessors_reach_the_inner_future() {
    let rt = Builder::new_current_thread().build().unwrap();
    let mut t = {
        let _entered = rt.enter();
        timeout(Duration::from_secs(1), Value { value: 9 })
    };
    assert_eq!(t.get_ref().value, 9);
    t.get_mut().value += 1;
    let inner = t.into_inner();
    assert_eq!(inner.value, 10);
    assert_eq!(rt.block_on(inner), 10);
}

#[test]
#[should_panic(
    expected = "smp_rt::time::timeout needs a runtime, and there is no smp_rt runtime \
                           on this thread: call it from inside a runtime"
)]
fn timeout_outside_a_runtime_panics_when_called() {
    // Not awaited: the call itself panics, as tokio's does.
    drop(timeout(Duration::from_secs(1), async {}));
}

#[test]
#[should_panic(
    expected = "smp_rt::time::timeout_at needs a runtime, and there is no smp_rt runtime \
                           on this thread: call it from inside a runtime"
)]
fn timeout_at_outside_a_runtime_panics_when_called() {
    drop(timeout_at(Instant::now(), async {}));
}

/// A duration too large to be a deadline needs no timer, so no runtime
/// either (as in tokio): the timeout only waits for its future.
#[test]
fn a_timeout_without_a_deadline_works_outside_a_runtime() {
    let t = timeout(Duration::MAX, async { 5 });
    assert_eq!(futures::executor::block_on(t), Ok(5));
}

/// An inner future that spends the whole slice every poll (and stays
/// pending) still sees the deadline: the timeout does not charge for
/// checking it.
#[test]
fn a_budget_hungry_future_cannot_outrun_the_deadline() {
    let rt = Builder::new_current_thread()
        .reductions(smp_rt::runtime::MIN_REDUCTIONS)
        .build()
        .unwrap();
    rt.block_on(within_30s(async {
        smp_rt::spawn(async {
            let busy = async {
                loop {
                    task::consume_budget().await;
                }
            };
            let out: Result<(), _> = timeout(Duration::from_millis(20), busy).await;
            assert!(out.is_err());
        })
        .await
        .unwrap();
    }));
}

/// Many timeouts racing many futures, on several workers.
#[smp_rt::test(worker_threads = 2)]
async fn many_timeouts_on_several_workers() {
    within_30s(async {
        let handles: Vec<_> = (0..400u64)
            .map(|i| {
                smp_rt::spawn(async move {
                    let work = sleep(Duration::from_millis(i % 20));
                    let limit = Duration::from_millis(10);
                    let start = Instant::now();
                    match timeout(limit, work).await {
                        Ok(()) => true,
                        Err(_) => {
                            assert!(start.elapsed() >= limit, "elapsed early");
                            false
                        }
                    }
                })
            })
            .collect();
        let mut finished = 0;
        for handle in handles {
            finished += usize::from(handle.await.unwrap());
        }
        // Sleeps shorter than the limit always win; longer ones always lose.
        assert!(finished >= 200, "{finished} of 400 finished");
        assert!(finished < 400);
        assert!(timers().is_empty());
    })
    .await;
}

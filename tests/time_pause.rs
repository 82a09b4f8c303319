//! The paused test clock: `time::pause`, `advance`, `resume`, auto-advance
//! and `start_paused`, with tokio's semantics. Most tests are tokio's
//! `tests/time_pause.rs` and `tests/time_interval.rs` with the paths
//! renamed (tokio-test's mock task replaced by `MockTask`).
//!
//! Every assertion is on the virtual clock; none on how long a test takes.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use smp_rt::runtime::Builder;
use smp_rt::time::{
    self, Duration, Instant, MissedTickBehavior, interval, interval_at, sleep, sleep_until, timeout,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// tokio-test's `task::spawn`: a future polled by hand with a waker that
/// records whether it was woken.
struct MockTask<F> {
    future: Pin<Box<F>>,
    waker: Arc<CountingWaker>,
}

impl<F: Future> MockTask<F> {
    fn new(future: F) -> MockTask<F> {
        MockTask {
            future: Box::pin(future),
            waker: Arc::default(),
        }
    }

    fn poll(&mut self) -> Poll<F::Output> {
        let waker = Waker::from(self.waker.clone());
        let mut cx = Context::from_waker(&waker);
        self.future.as_mut().poll(&mut cx)
    }

    fn is_woken(&self) -> bool {
        self.waker.0.load(SeqCst) > 0
    }
}

// ---- pause / advance / resume -------------------------------------------

#[smp_rt::test(flavor = "current_thread")]
async fn pause_time_in_main() {
    time::pause();
}

#[smp_rt::test(flavor = "current_thread")]
async fn pause_time_in_task() {
    let t = smp_rt::spawn(async {
        time::pause();
    });
    t.await.unwrap();
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 1)]
#[should_panic(expected = "`smp_rt::time::pause()` is not supported on the multi-thread runtime")]
async fn pause_time_in_main_threads() {
    time::pause();
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 1)]
async fn pause_time_in_spawn_threads() {
    let t = smp_rt::spawn(async {
        time::pause();
    });
    let err = t.await.unwrap_err();
    assert!(err.is_panic());
}

#[smp_rt::test(flavor = "current_thread")]
#[should_panic(expected = "time is already paused")]
async fn pause_twice_panics() {
    time::pause();
    time::pause();
}

#[smp_rt::test(flavor = "current_thread")]
#[should_panic(expected = "`smp_rt::time::advance()` was called while time is not paused")]
async fn advance_without_pause_panics() {
    time::advance(ms(1)).await;
}

#[smp_rt::test(flavor = "current_thread")]
#[should_panic(expected = "`smp_rt::time::resume()` was called while time is not paused")]
async fn resume_without_pause_panics() {
    time::resume();
}

#[test]
#[should_panic(expected = "there is no smp_rt runtime on this thread")]
fn pause_outside_a_runtime_panics() {
    time::pause();
}

#[smp_rt::test(flavor = "current_thread")]
async fn advance_moves_the_clock_by_exactly_the_duration() {
    time::pause();
    let start = Instant::now();
    assert_eq!(Instant::now(), start, "a paused clock does not move");
    time::advance(Duration::from_secs(5)).await;
    assert_eq!(Instant::now(), start + Duration::from_secs(5));
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    time::advance(Duration::from_nanos(1)).await;
    assert_eq!(
        start.elapsed(),
        Duration::from_secs(5) + Duration::from_nanos(1)
    );
}

#[smp_rt::test(start_paused = true)]
async fn test_time_advance_sub_ms() {
    let now = Instant::now();

    let dur = Duration::from_micros(51_592);
    time::advance(dur).await;

    assert_eq!(now.elapsed(), dur);

    let now = Instant::now();
    let dur = Duration::from_micros(1);
    time::advance(dur).await;

    assert_eq!(now.elapsed(), dur);
}

#[smp_rt::test(start_paused = true)]
async fn test_time_advance_3ms_and_change() {
    let now = Instant::now();

    let dur = Duration::from_micros(3_141_592);
    time::advance(dur).await;

    assert_eq!(now.elapsed(), dur);

    let now = Instant::now();
    let dur = Duration::from_micros(3_123_456);
    time::advance(dur).await;

    assert_eq!(now.elapsed(), dur);
}

#[smp_rt::test(start_paused = true)]
async fn advance_after_poll() {
    time::sleep(ms(1)).await;

    let start = Instant::now();

    let mut sleep = MockTask::new(time::sleep_until(start + ms(300)));

    assert!(sleep.poll().is_pending());

    let before = Instant::now();
    time::advance(ms(100)).await;
    assert_eq!(before.elapsed(), ms(100));

    assert!(sleep.poll().is_pending());
}

#[smp_rt::test(start_paused = true)]
async fn sleep_no_poll() {
    let start = Instant::now();

    // TODO: Skip this (as in tokio)
    time::advance(ms(1)).await;

    let mut sleep = MockTask::new(time::sleep_until(start + ms(300)));

    let before = Instant::now();
    time::advance(ms(100)).await;
    assert_eq!(before.elapsed(), ms(100));

    assert!(sleep.poll().is_pending());
}

#[smp_rt::test(start_paused = true)]
async fn sleep_same_task() {
    let start = Instant::now();

    time::advance(ms(1)).await;

    let mut sleep = MockTask::new(time::sleep_until(start + ms(300)));
    assert!(sleep.poll().is_pending());

    time::advance(ms(298)).await;
    assert!(sleep.poll().is_pending());
    assert!(!sleep.is_woken());

    time::advance(ms(1)).await;
    assert!(sleep.is_woken());
    assert!(sleep.poll().is_ready());
}

#[smp_rt::test(start_paused = true)]
async fn regression_3710_with_submillis_advance() {
    let start = Instant::now();

    time::advance(ms(1)).await;

    let mut sleep = MockTask::new(time::sleep_until(start + Duration::from_secs(60)));

    assert!(sleep.poll().is_pending());

    let before = Instant::now();
    let dur = Duration::from_micros(51_592);
    time::advance(dur).await;
    assert_eq!(before.elapsed(), dur);

    assert!(sleep.poll().is_pending());
}

#[smp_rt::test(start_paused = true)]
async fn exact_1ms_advance() {
    let now = Instant::now();

    let a = now + ms(1);
    let b = now + ms(2);

    time::advance(ms(1)).await;

    let mut sleep = MockTask::new(time::sleep_until(a));
    assert!(sleep.poll().is_ready());

    let mut sleep = MockTask::new(time::sleep_until(b));
    assert!(sleep.poll().is_pending());
}

#[smp_rt::test(start_paused = true)]
async fn advance_once_with_timer() {
    let mut sleep = MockTask::new(time::sleep(ms(1)));
    assert!(sleep.poll().is_pending());

    time::advance(Duration::from_micros(250)).await;
    assert!(sleep.poll().is_pending());

    time::advance(Duration::from_micros(1500)).await;

    assert!(sleep.is_woken());
    assert!(sleep.poll().is_ready());
}

#[smp_rt::test(start_paused = true)]
async fn advance_multi_with_timer() {
    let mut sleep = MockTask::new(time::sleep(ms(1)));
    assert!(sleep.poll().is_pending());

    time::advance(Duration::from_micros(250)).await;
    assert!(sleep.poll().is_pending());

    time::advance(Duration::from_micros(250)).await;
    assert!(sleep.poll().is_pending());

    time::advance(Duration::from_micros(250)).await;
    assert!(sleep.poll().is_pending());

    time::advance(Duration::from_micros(250)).await;
    assert!(sleep.is_woken());
    assert!(sleep.poll().is_ready());
}

#[smp_rt::test(start_paused = true)]
async fn advance_runs_the_tasks_it_wakes() {
    let start = Instant::now();
    let done = Arc::new(Mutex::new(None));
    let task_done = done.clone();
    smp_rt::spawn(async move {
        sleep(Duration::from_secs(2)).await;
        *task_done.lock().unwrap() = Some(Instant::now());
    });
    // Let the task arm its timer.
    smp_rt::task::yield_now().await;
    time::advance(Duration::from_secs(1)).await;
    assert_eq!(*done.lock().unwrap(), None);
    time::advance(Duration::from_secs(1)).await;
    assert_eq!(*done.lock().unwrap(), Some(start + Duration::from_secs(2)));
}

#[smp_rt::test(flavor = "current_thread")]
async fn resume_runs_real_time_from_the_paused_clock() {
    time::pause();
    let paused = Instant::now();
    time::advance(Duration::from_secs(3600)).await;
    time::resume();

    // From an hour after the pause, not back at the machine's time.
    let resumed = Instant::now();
    assert!(resumed >= paused + Duration::from_secs(3600));
    // Real time runs again.
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert!(resumed.elapsed() >= ms(5));
    // And the timers follow it: no timer fires before its deadline.
    let before = Instant::now();
    sleep(ms(10)).await;
    assert!(before.elapsed() >= ms(10));

    // Paused again, it stops again.
    time::pause();
    let now = Instant::now();
    time::advance(ms(1)).await;
    assert_eq!(now.elapsed(), ms(1));
}

// ---- auto-advance ---------------------------------------------------------

#[smp_rt::test(start_paused = true)]
async fn a_one_hour_sleep_advances_the_clock_by_exactly_one_hour() {
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    assert_eq!(Instant::now(), start + Duration::from_secs(3600));
}

#[smp_rt::test(flavor = "current_thread")]
async fn a_one_hour_sleep_after_pause() {
    time::pause();
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
}

#[smp_rt::test(start_paused = true)]
async fn sleeping_tasks_wake_in_deadline_order_at_their_virtual_times() {
    let start = Instant::now();
    let woke = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for secs in [30, 10, 20, 10] {
        let woke = woke.clone();
        handles.push(smp_rt::spawn(async move {
            sleep(Duration::from_secs(secs)).await;
            woke.lock().unwrap().push((secs, Instant::now()));
        }));
    }
    for handle in handles {
        handle.await.unwrap();
    }
    let woke = woke.lock().unwrap().clone();
    let expected: Vec<(u64, Instant)> = [10, 10, 20, 30]
        .into_iter()
        .map(|secs| (secs, start + Duration::from_secs(secs)))
        .collect();
    assert_eq!(woke, expected);
    assert_eq!(start.elapsed(), Duration::from_secs(30));
}

#[smp_rt::test(start_paused = true)]
async fn timeout_of_a_pending_future_elapses_at_the_virtual_deadline() {
    let start = Instant::now();
    let result = timeout(Duration::from_secs(10), std::future::pending::<()>()).await;
    assert!(result.is_err());
    assert_eq!(start.elapsed(), Duration::from_secs(10));

    // A future that finishes first wins, at its own virtual time.
    let start = Instant::now();
    let result = timeout(Duration::from_secs(10), async {
        sleep(Duration::from_secs(4)).await;
        7
    })
    .await;
    assert_eq!(result, Ok(7));
    assert_eq!(start.elapsed(), Duration::from_secs(4));
}

#[smp_rt::test(start_paused = true)]
async fn sleep_until_a_virtual_deadline() {
    let deadline = Instant::now() + ms(1500);
    sleep_until(deadline).await;
    assert_eq!(Instant::now(), deadline);
}

#[smp_rt::test(start_paused = true)]
async fn auto_advance_with_io_sources_polls_them_without_blocking() {
    // The reactor has sources: a paused park polls them, then advances.
    let a = smp_rt::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = smp_rt::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 8];
    let nothing = timeout(Duration::from_secs(5), b.recv_from(&mut buf)).await;
    assert!(nothing.is_err());
    assert_eq!(start.elapsed(), Duration::from_secs(5));

    // A datagram that is already there wins over a timer.
    a.send_to(b"hi", b.local_addr().unwrap()).await.unwrap();
    let (n, _) = timeout(Duration::from_secs(5), b.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], b"hi");
}

#[test]
fn advance_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    assert_send(&time::advance(ms(1)));
}

// ---- interval ---------------------------------------------------------------

#[smp_rt::test(start_paused = true)]
async fn interval_ticks_at_virtual_times() {
    let start = Instant::now();
    let mut iv = interval(ms(300));
    for n in 0..5 {
        let tick = iv.tick().await;
        assert_eq!(tick, start + ms(300) * n);
        assert_eq!(Instant::now(), tick);
    }
}

#[smp_rt::test(start_paused = true)]
async fn interval_polled_by_hand() {
    let start = Instant::now();

    // TODO: Skip this (as in tokio)
    time::advance(ms(1)).await;

    let mut i = MockTask::new(async move {
        let mut iv = interval_at(start, ms(300));
        let mut ticks = Vec::new();
        loop {
            ticks.push(iv.tick().await);
            if ticks.len() == 3 {
                return ticks;
            }
        }
    });

    assert!(i.poll().is_pending());

    let before = Instant::now();
    time::advance(ms(100)).await;
    assert_eq!(before.elapsed(), ms(100));
    assert!(i.poll().is_pending());

    let before = Instant::now();
    time::advance(ms(200)).await;
    assert_eq!(before.elapsed(), ms(200));
    assert!(i.is_woken());
    assert!(i.poll().is_pending());

    time::advance(ms(300)).await;
    assert_eq!(
        i.poll(),
        Poll::Ready(vec![start, start + ms(300), start + ms(600)])
    );
}

#[smp_rt::test(start_paused = true)]
async fn interval_missed_ticks_burst_and_skip_in_virtual_time() {
    let start = Instant::now();
    let mut burst = interval(ms(10));
    let mut skip = interval(ms(10));
    skip.set_missed_tick_behavior(MissedTickBehavior::Skip);
    assert_eq!(burst.tick().await, start);
    assert_eq!(skip.tick().await, start);

    time::advance(ms(35)).await;
    // Burst: the missed ticks at once, then the schedule.
    for n in [10, 20, 30] {
        assert_eq!(burst.tick().await, start + ms(n));
        assert_eq!(Instant::now(), start + ms(35));
    }
    assert_eq!(burst.tick().await, start + ms(40));
    assert_eq!(Instant::now(), start + ms(40));

    // Skip (taken at 40 ms): the late tick, then the next one on the
    // original schedule.
    assert_eq!(skip.tick().await, start + ms(10));
    assert_eq!(skip.tick().await, start + ms(50));
    assert_eq!(Instant::now(), start + ms(50));
}

// ---- start_paused and the Builder ------------------------------------------

#[smp_rt::test(start_paused = true)]
#[should_panic(expected = "time is already paused")]
async fn start_paused_starts_paused() {
    time::pause();
}

#[smp_rt::main(start_paused = true)]
async fn paused_main() -> Instant {
    let start = Instant::now();
    sleep(Duration::from_secs(7)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(7));
    start
}

#[test]
fn main_start_paused() {
    paused_main();
}

#[test]
fn builder_start_paused() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        sleep(Duration::from_secs(24 * 3600)).await;
        start.elapsed()
    });
    assert_eq!(elapsed, Duration::from_secs(24 * 3600));
}

#[test]
fn builder_start_paused_needs_a_current_thread_runtime() {
    let err = Builder::new_multi_thread()
        .start_paused(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(
        err.to_string().contains("needs a current-thread runtime"),
        "{err}"
    );
    assert!(
        Builder::new_multi_thread()
            .start_paused(false)
            .build()
            .is_ok()
    );
}

#[test]
fn the_paused_clock_is_the_runtimes_only() {
    let rt = Builder::new_current_thread()
        .start_paused(true)
        .build()
        .unwrap();
    rt.block_on(async {
        time::advance(Duration::from_secs(3600)).await;
        // Outside the runtime (another thread), the clock is real time.
        let (before, outside, after) = std::thread::spawn(|| {
            let before = std::time::Instant::now();
            let outside = Instant::now().into_std();
            (before, outside, std::time::Instant::now())
        })
        .join()
        .unwrap();
        assert!(before <= outside && outside <= after);
        // And on another runtime too.
        let other = Builder::new_current_thread().build().unwrap();
        let (before, inside, after) = std::thread::spawn(move || {
            other.block_on(async {
                let before = std::time::Instant::now();
                let inside = Instant::now().into_std();
                (before, inside, std::time::Instant::now())
            })
        })
        .join()
        .unwrap();
        assert!(before <= inside && inside <= after);
    });
}

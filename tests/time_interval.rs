//! `interval` and `interval_at`: ticks on schedule, and what each
//! `MissedTickBehavior` does when the consumer comes back late.
//!
//! Lateness is created by blocking the task with `std::thread::sleep`. The
//! assertions are on the instants ticks return (their scheduled instants,
//! relative to the start), never on how fast anything ran: a tick returned
//! after a late one may itself be late on a loaded machine, so the checks
//! hold whatever the delays.

use std::future::Future;
use std::pin::pin;

use futures::future::Either;
use smp_rt_timers::{Duration, Instant, MissedTickBehavior, interval, interval_at, sleep, timeout};

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

const PERIOD: Duration = Duration::from_millis(10);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Blocks the calling task's thread (a busy consumer).
fn block_for(d: Duration) {
    std::thread::sleep(d);
}

#[smp_rt::test(worker_threads = 2)]
async fn ticks_at_the_period() {
    within_30s(async {
        let start = Instant::now() + ms(5);
        let mut iv = interval_at(start, PERIOD);
        assert_eq!(iv.period(), PERIOD);
        for k in 0..6u32 {
            let scheduled = iv.tick().await;
            assert_eq!(scheduled, start + PERIOD * k);
            assert!(Instant::now() >= scheduled, "tick {k} completed early");
        }
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn the_first_tick_of_interval_is_immediate() {
    within_30s(async {
        let before = Instant::now();
        let mut iv = interval(PERIOD);
        let first = iv.tick().await;
        assert!(first >= before);
        let second = iv.tick().await;
        assert_eq!(second, first + PERIOD);
        assert!(Instant::now() >= second);
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn the_default_behavior_is_burst() {
    let mut iv = interval(PERIOD);
    assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
    assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
    iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
    assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Skip);
}

/// Takes the tick at `start`, blocks 35 ms, then takes `n` more ticks.
async fn ticks_after_a_late_consumer(
    behavior: MissedTickBehavior,
    n: usize,
) -> (Instant, Vec<Instant>) {
    let start = Instant::now();
    let mut iv = interval_at(start, PERIOD);
    iv.set_missed_tick_behavior(behavior);
    assert_eq!(iv.tick().await, start);
    block_for(ms(35));
    let mut ticks = Vec::new();
    for _ in 0..n {
        let scheduled = iv.tick().await;
        assert!(Instant::now() >= scheduled, "a tick completed early");
        ticks.push(scheduled);
    }
    (start, ticks)
}

/// Burst: the missed ticks come at once, and the schedule is kept:
/// 10, 20, 30, 40, 50, 60 ms.
#[smp_rt::test(worker_threads = 2)]
async fn burst_catches_up_on_the_original_schedule() {
    within_30s(async {
        let (start, ticks) = ticks_after_a_late_consumer(MissedTickBehavior::Burst, 6).await;
        let expected: Vec<_> = (1..=6u32).map(|k| start + PERIOD * k).collect();
        assert_eq!(ticks, expected);
    })
    .await;
}

/// Delay: the late tick (10 ms) is returned, then the schedule restarts a
/// period after it was taken (at 35 ms or later): 10, then at least 45,
/// then ticks at least a period apart.
#[smp_rt::test(worker_threads = 2)]
async fn delay_restarts_the_schedule_after_a_late_tick() {
    within_30s(async {
        let (start, ticks) = ticks_after_a_late_consumer(MissedTickBehavior::Delay, 5).await;
        assert_eq!(ticks[0], start + ms(10));
        assert!(ticks[1] >= start + ms(45), "{:?}", ticks[1] - start);
        for pair in ticks.windows(2) {
            assert!(pair[1] - pair[0] >= PERIOD, "ticks closer than a period");
        }
        // Off the original grid (the chance of landing on it exactly, to
        // the nanosecond, is nil).
        assert_ne!((ticks[1] - start).as_nanos() % PERIOD.as_nanos(), 0);
    })
    .await;
}

/// Skip: the late tick (10 ms) is returned, the missed ones (20, 30) are
/// dropped, and the next ticks stay on the original grid: 40 or later,
/// multiples of the period, each later than the last.
#[smp_rt::test(worker_threads = 2)]
async fn skip_drops_missed_ticks_and_keeps_the_grid() {
    within_30s(async {
        let (start, ticks) = ticks_after_a_late_consumer(MissedTickBehavior::Skip, 5).await;
        assert_eq!(ticks[0], start + ms(10));
        assert!(ticks[1] >= start + ms(40), "{:?}", ticks[1] - start);
        for &t in &ticks {
            assert_eq!(
                (t - start).as_nanos() % PERIOD.as_nanos(),
                0,
                "off the grid"
            );
        }
        for pair in ticks.windows(2) {
            assert!(pair[1] > pair[0], "a tick returned twice");
        }
    })
    .await;
}

/// Late by no more than 5 ms (tokio's threshold): not a missed tick, the
/// schedule is kept whatever the behavior.
#[smp_rt::test(worker_threads = 2)]
async fn a_slightly_late_tick_is_not_missed() {
    within_30s(async {
        // The consumer is blocked past the tick at 50 ms by at most 2 ms,
        // measured, and the check only applies when it held.
        for behavior in [MissedTickBehavior::Delay, MissedTickBehavior::Skip] {
            let start = Instant::now() + ms(50);
            let mut iv = interval_at(start, PERIOD);
            iv.set_missed_tick_behavior(behavior);
            let until = start + ms(2);
            block_for(until - Instant::now());
            let first = iv.tick().await;
            let taken = Instant::now();
            let second = iv.tick().await;
            assert_eq!(first, start);
            if taken <= start + ms(5) {
                assert_eq!(second, start + PERIOD, "{behavior:?}");
            }
        }
    })
    .await;
}

#[smp_rt::test(worker_threads = 2)]
async fn reset_restarts_one_period_from_now() {
    within_30s(async {
        let start = Instant::now();
        let mut iv = interval_at(start, ms(50));
        assert_eq!(iv.tick().await, start);
        let before = Instant::now();
        iv.reset();
        let next = iv.tick().await;
        assert!(next >= before + ms(50));
        assert!(Instant::now() >= next);

        iv.reset_immediately();
        let immediate = iv.tick().await;
        assert!(immediate <= Instant::now());

        let after = Instant::now();
        iv.reset_after(ms(20));
        let t = iv.tick().await;
        assert!(t >= after + ms(20));

        let at = Instant::now() + ms(15);
        iv.reset_at(at);
        assert_eq!(iv.tick().await, at);
        assert!(Instant::now() >= at);
    })
    .await;
}

/// `tick` is cancel-safe: a tick whose future was dropped is not lost.
#[smp_rt::test(worker_threads = 2)]
async fn tick_is_cancel_safe() {
    within_30s(async {
        let start = Instant::now();
        let mut iv = interval_at(start + ms(40), ms(40));
        assert!(timeout(ms(5), iv.tick()).await.is_err());
        sleep(ms(1)).await;
        assert_eq!(iv.tick().await, start + ms(40));
        assert_eq!(iv.tick().await, start + ms(80));
    })
    .await;
}

#[test]
#[should_panic(expected = "`period` must be non-zero.")]
fn a_zero_period_panics() {
    let _ = interval(Duration::ZERO);
}

#[test]
#[should_panic(expected = "`period` must be non-zero.")]
fn a_zero_period_panics_in_interval_at() {
    let _ = interval_at(Instant::now(), Duration::ZERO);
}

#[test]
#[should_panic(
    expected = "smp_rt::time::interval needs a runtime, and there is no smp_rt runtime \
                           on this thread: call it from inside a runtime"
)]
fn interval_outside_a_runtime_panics_when_called() {
    // Not ticked: the call itself panics, as tokio's does.
    let _ = interval(Duration::from_millis(1));
}

#[test]
#[should_panic(expected = "smp_rt::time::interval_at needs a runtime")]
fn interval_at_outside_a_runtime_panics_when_called() {
    let _ = interval_at(Instant::now(), Duration::from_millis(1));
}

#[smp_rt::test(flavor = "current_thread")]
async fn intervals_on_a_current_thread_runtime() {
    within_30s(async {
        let start = Instant::now();
        let mut a = interval_at(start, ms(3));
        let mut b = interval_at(start, ms(7));
        let mut a_ticks = Vec::new();
        let mut b_ticks = Vec::new();
        while b_ticks.len() < 4 {
            futures::select_biased! {
                t = futures::FutureExt::fuse(a.tick()) => a_ticks.push(t - start),
                t = futures::FutureExt::fuse(b.tick()) => b_ticks.push(t - start),
            }
        }
        assert_eq!(b_ticks, vec![ms(0), ms(7), ms(14), ms(21)]);
        for (k, t) in a_ticks.iter().enumerate() {
            assert_eq!(*t, ms(3) * k as u32);
        }
    })
    .await;
}

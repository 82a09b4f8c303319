//! Unit tests of the timers on a synthetic clock: `fire_expired` is called
//! with chosen instants, far in the future of the real clock, so every
//! outcome is deterministic.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::timers::TICK_NANOS;
use crate::{Instant, Sleep, Timers};

/// Counts its wake-ups.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<CountingWaker>, Waker) {
    let count = Arc::new(CountingWaker::default());
    (count.clone(), Waker::from(count))
}

fn poll(sleep: Pin<&mut Sleep>, waker: &Waker) -> Poll<()> {
    sleep.poll(&mut Context::from_waker(waker))
}

/// A base instant an hour ahead of the real clock.
fn base() -> Instant {
    Instant::now() + Duration::from_secs(3600)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn a_timer_fires_not_before_its_deadline_and_within_a_tick() {
    let base = base();
    for offset_us in [0u64, 1, 250, 999, 1000, 1001, 10_300] {
        let timers = Arc::new(Timers::with_shards(1));
        let deadline = base + Duration::from_micros(offset_us) + ms(5);
        let mut sleep = Box::pin(Sleep::new_in(timers.clone(), deadline));
        let (count, waker) = counting_waker();
        assert!(poll(sleep.as_mut(), &waker).is_pending());
        assert_eq!(timers.len(), 1);
        let next = timers.next_deadline().unwrap();
        assert!(next >= deadline.into_std(), "next_deadline rounds up");
        assert!(next < deadline.into_std() + ms(1));

        timers.fire_expired((deadline - Duration::from_nanos(1)).into_std());
        assert_eq!(count.0.load(SeqCst), 0, "fired early");
        assert!(poll(sleep.as_mut(), &waker).is_pending());

        assert_eq!(timers.fire_expired(next), 1);
        assert_eq!(count.0.load(SeqCst), 1);
        assert!(sleep.is_elapsed());
        assert!(poll(sleep.as_mut(), &waker).is_ready());
        assert_eq!(timers.len(), 0);
    }
}

#[test]
fn timer_types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Timers>();
    send_sync::<Sleep>();
    send_sync::<crate::Interval>();
    send_sync::<crate::Timeout<std::future::Ready<()>>>();
}

#[test]
fn a_passed_deadline_completes_on_first_poll() {
    let timers = Arc::new(Timers::with_shards(1));
    let mut sleep = Box::pin(Sleep::new_in(timers.clone(), Instant::now()));
    let (count, waker) = counting_waker();
    assert!(poll(sleep.as_mut(), &waker).is_ready());
    assert!(sleep.is_elapsed());
    assert_eq!(timers.len(), 0);
    assert_eq!(count.0.load(SeqCst), 0);
}

#[test]
fn a_deadline_the_wheel_has_passed_completes_on_first_poll() {
    let timers = Arc::new(Timers::with_shards(1));
    let base = base();
    let (_, waker) = counting_waker();
    let mut first = Box::pin(Sleep::new_in(timers.clone(), base + ms(60)));
    assert!(poll(first.as_mut(), &waker).is_pending());
    assert_eq!(timers.fire_expired((base + ms(100)).into_std()), 1);
    // Before the instant the wheel was advanced to, though after the real
    // clock: the wheel has seen it pass.
    let mut sleep = Box::pin(Sleep::new_in(timers.clone(), base + ms(50)));
    assert!(poll(sleep.as_mut(), &waker).is_ready());
    assert_eq!(timers.len(), 0);
}

#[test]
fn the_last_waker_is_woken() {
    let timers = Arc::new(Timers::with_shards(1));
    let deadline = base() + ms(3);
    let mut sleep = Box::pin(Sleep::new_in(timers.clone(), deadline));
    let (first, first_waker) = counting_waker();
    let (second, second_waker) = counting_waker();
    assert!(poll(sleep.as_mut(), &first_waker).is_pending());
    assert!(poll(sleep.as_mut(), &first_waker).is_pending());
    assert!(poll(sleep.as_mut(), &second_waker).is_pending());
    assert_eq!(timers.fire_expired((deadline + ms(1)).into_std()), 1);
    assert_eq!(first.0.load(SeqCst), 0);
    assert_eq!(second.0.load(SeqCst), 1);
    // The replaced waker was dropped, not leaked.
    assert_eq!(Arc::strong_count(&first), 2);
}

#[test]
fn dropping_an_armed_sleep_cancels_it() {
    let timers = Arc::new(Timers::with_shards(1));
    let deadline = base() + ms(3);
    let (count, waker) = counting_waker();
    let mut sleep = Box::pin(Sleep::new_in(timers.clone(), deadline));
    assert!(poll(sleep.as_mut(), &waker).is_pending());
    assert_eq!(timers.len(), 1);
    drop(sleep);
    assert_eq!(timers.len(), 0);
    assert_eq!(timers.next_deadline(), None);
    assert_eq!(timers.fire_expired((deadline + ms(10)).into_std()), 0);
    assert_eq!(count.0.load(SeqCst), 0);
    assert_eq!(Arc::strong_count(&count), 2, "the stored waker was dropped");
}

#[test]
fn reset_moves_an_armed_timer_and_rearms_a_fired_one() {
    let timers = Arc::new(Timers::with_shards(1));
    let base = base();
    let (count, waker) = counting_waker();
    let mut sleep = Box::pin(Sleep::new_in(timers.clone(), base + ms(100)));
    assert!(poll(sleep.as_mut(), &waker).is_pending());

    // Later: nothing at the old deadline.
    sleep.as_mut().reset(base + ms(200));
    assert_eq!(sleep.deadline(), base + ms(200));
    assert_eq!(timers.len(), 1);
    assert_eq!(timers.fire_expired((base + ms(150)).into_std()), 0);
    assert_eq!(count.0.load(SeqCst), 0);

    // Earlier again: fires at the new deadline with the waker it had.
    sleep.as_mut().reset(base + ms(170));
    assert_eq!(timers.fire_expired((base + ms(171)).into_std()), 1);
    assert_eq!(count.0.load(SeqCst), 1);
    assert!(poll(sleep.as_mut(), &waker).is_ready());

    // After completing: pending again until the new deadline.
    sleep.as_mut().reset(base + ms(300));
    assert!(!sleep.is_elapsed());
    assert!(poll(sleep.as_mut(), &waker).is_pending());
    assert_eq!(timers.len(), 1);
    assert_eq!(timers.fire_expired((base + ms(301)).into_std()), 1);
    assert!(poll(sleep.as_mut(), &waker).is_ready());

    // To a deadline the wheel has passed: woken at once.
    sleep.as_mut().reset(base + ms(400));
    assert!(poll(sleep.as_mut(), &waker).is_pending());
    let before = count.0.load(SeqCst);
    sleep.as_mut().reset(base + ms(250));
    assert_eq!(count.0.load(SeqCst), before + 1);
    assert!(poll(sleep.as_mut(), &waker).is_ready());
    assert_eq!(timers.len(), 0);
}

#[test]
fn unpark_only_when_the_earliest_deadline_moves_earlier() {
    let timers = Arc::new(Timers::with_shards(2));
    let unparks = Arc::new(AtomicUsize::new(0));
    let counter = unparks.clone();
    timers.set_unpark(Arc::new(move || {
        counter.fetch_add(1, SeqCst);
    }));
    let base = base();
    let (_, waker) = counting_waker();
    let mut sleeps = Vec::new();
    let mut arm = |offset: u64| {
        let mut sleep = Box::pin(Sleep::new_in(timers.clone(), base + ms(offset)));
        assert!(poll(sleep.as_mut(), &waker).is_pending());
        sleeps.push(sleep);
        unparks.load(SeqCst)
    };
    assert_eq!(arm(100), 1, "the first timer");
    assert_eq!(arm(200), 1, "a later one");
    assert_eq!(arm(100), 1, "the same tick");
    assert_eq!(arm(50), 2, "an earlier one");
    let next = timers.next_deadline().unwrap();
    assert!(next >= (base + ms(50)).into_std());
    assert!(next < (base + ms(51)).into_std());
    assert_eq!(arm(60), 2, "later than what the driver sleeps towards");
    assert_eq!(arm(40), 3, "earlier than it");
}

/// Random deadlines over every level, random cancellations, random clock
/// steps: after each `fire_expired(now)`, exactly the timers whose
/// deadline is at or before `now` rounded down to the millisecond have
/// fired, each woken once.
#[test]
fn model_random_deadlines_and_cancels() {
    let rounds = if cfg!(miri) { 2 } else { 20 };
    let per_round = if cfg!(miri) { 40 } else { 400 };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..rounds {
        let timers = Arc::new(Timers::with_shards(1 << rng.below(3)));
        let base = base();
        let origin = timers.origin();
        let spans = [64u64, 4096, 262_144, 16_777_216, 1 << 30, 1 << 36];
        struct Armed {
            sleep: Pin<Box<Sleep>>,
            count: Arc<CountingWaker>,
            waker: Waker,
            fired: bool,
        }
        let mut armed: Vec<Armed> = Vec::new();
        let mut now = base;
        for step in 0..per_round {
            // Arm a few.
            for _ in 0..rng.below(4) {
                let span = spans[rng.below(spans.len() as u64) as usize];
                let offset = Duration::from_micros(rng.below(span * 1000));
                let deadline = now + offset + Duration::from_nanos(1);
                let (count, waker) = counting_waker();
                let mut sleep = Box::pin(Sleep::new_in(timers.clone(), deadline));
                let first = poll(sleep.as_mut(), &waker);
                assert!(first.is_pending(), "{deadline:?} after {now:?}");
                armed.push(Armed {
                    sleep,
                    count,
                    waker,
                    fired: false,
                });
            }
            // Cancel or reset one now and then.
            if !armed.is_empty() && rng.below(3) == 0 {
                let i = rng.below(armed.len() as u64) as usize;
                let a = armed.swap_remove(i);
                assert_eq!(a.count.0.load(SeqCst), usize::from(a.fired));
            }
            if !armed.is_empty() && rng.below(4) == 0 {
                let i = rng.below(armed.len() as u64) as usize;
                let a = &mut armed[i];
                if !a.fired {
                    let deadline = now + Duration::from_micros(rng.below(5_000_000)) + ms(1);
                    a.sleep.as_mut().reset(deadline);
                    assert!(poll(a.sleep.as_mut(), &a.waker).is_pending());
                }
            }
            // Advance: mostly small steps, sometimes huge ones.
            let step_us = match rng.below(10) {
                0 => rng.below(1 << 44),
                1..=3 => rng.below(100_000_000),
                _ => rng.below(5_000),
            };
            now += Duration::from_micros(step_us);
            let now_floor = floor_ms(origin, now);
            let fired = timers.fire_expired(now.into_std());
            let mut expected = 0;
            let mut live = 0;
            for a in &mut armed {
                let due = a.sleep.deadline() <= now_floor;
                let woken = a.count.0.load(SeqCst);
                if a.fired {
                    assert_eq!(woken, 1, "woken once");
                    continue;
                }
                if due {
                    assert_eq!(woken, 1, "step {step}: due timer did not fire");
                    assert!(a.sleep.is_elapsed());
                    assert!(poll(a.sleep.as_mut(), &a.waker).is_ready());
                    a.fired = true;
                    expected += 1;
                } else {
                    assert_eq!(woken, 0, "step {step}: fired before its deadline");
                    live += 1;
                }
            }
            assert_eq!(fired, expected);
            assert_eq!(timers.len(), live);
            let earliest = armed
                .iter()
                .filter(|a| !a.fired)
                .map(|a| a.sleep.deadline())
                .min();
            match (timers.next_deadline(), earliest) {
                (None, None) => {}
                (Some(next), Some(earliest)) => {
                    assert!(
                        next < (earliest + ms(1)).into_std(),
                        "next_deadline too late"
                    )
                }
                (next, earliest) => panic!("next_deadline {next:?}, earliest {earliest:?}"),
            }
        }
        drop(armed);
        assert_eq!(timers.len(), 0);
    }
}

/// Records its id when woken.
struct OrderWaker {
    id: u64,
    log: Arc<std::sync::Mutex<Vec<u64>>>,
}

impl Wake for OrderWaker {
    fn wake(self: Arc<Self>) {
        self.log.lock().unwrap().push(self.id);
    }
}

/// One `fire_expired` far ahead fires timers from every level in the order
/// of their ticks (distinct whole-millisecond offsets from a tick-aligned
/// base, so ticks are distinct and ordered like the offsets).
#[test]
fn timers_fire_in_tick_order_across_levels() {
    let n = if cfg!(miri) { 60 } else { 2000 };
    let timers = Arc::new(Timers::with_shards(1));
    let origin = timers.origin();
    let base = floor_ms(origin, base());
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut rng = Rng(42);
    let mut offsets: Vec<u64> = (0..n).map(|_| 1 + rng.below(1 << 34)).collect();
    offsets.sort_unstable();
    offsets.dedup();
    let mut shuffled = offsets.clone();
    for i in (1..shuffled.len()).rev() {
        shuffled.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let mut sleeps = Vec::new();
    for &offset in &shuffled {
        let waker = Waker::from(Arc::new(OrderWaker {
            id: offset,
            log: log.clone(),
        }));
        let mut sleep = Box::pin(Sleep::new_in(timers.clone(), base + ms(offset)));
        assert!(poll(sleep.as_mut(), &waker).is_pending());
        sleeps.push(sleep);
    }
    // A few steps first, so that some timers sit mid-cascade.
    for step in [1u64 << 12, 1 << 20, 1 << 28] {
        timers.fire_expired((base + ms(step)).into_std());
    }
    timers.fire_expired((base + ms(1 << 35)).into_std());
    assert_eq!(*log.lock().unwrap(), offsets);
    assert!(timers.is_empty());
}

/// Thousands of timers in one high slot: the driver cascades and fires
/// them over several holds of the mutex, still in tick order, while
/// another thread arms and cancels in the same shard.
#[test]
fn a_large_cascade_fires_everything_in_order() {
    let n: u64 = if cfg!(miri) { 1100 } else { 5000 };
    let timers = Arc::new(Timers::with_shards(1));
    let base = floor_ms(timers.origin(), base());
    let log = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut sleeps = Vec::new();
    for i in (0..n).rev() {
        let waker = Waker::from(Arc::new(OrderWaker {
            id: i,
            log: log.clone(),
        }));
        let mut sleep = Box::pin(Sleep::new_in(timers.clone(), base + ms(100_000 + i)));
        assert!(poll(sleep.as_mut(), &waker).is_pending());
        sleeps.push(sleep);
    }
    let churn = {
        let timers = timers.clone();
        std::thread::spawn(move || {
            let (_, waker) = counting_waker();
            for i in 0..200u64 {
                let deadline = base + ms(300_000 + i);
                let mut sleep = Box::pin(Sleep::new_in(timers.clone(), deadline));
                assert!(poll(sleep.as_mut(), &waker).is_pending());
            }
        })
    };
    assert_eq!(
        timers.fire_expired((base + ms(200_000)).into_std()),
        n as usize
    );
    churn.join().unwrap();
    assert_eq!(*log.lock().unwrap(), (0..n).collect::<Vec<_>>());
    assert!(timers.is_empty());
}

/// `now` rounded down to a whole millisecond since `origin`.
fn floor_ms(origin: std::time::Instant, now: Instant) -> Instant {
    let since = now.into_std() - origin;
    let floored = Duration::from_millis(since.as_millis() as u64);
    Instant::from_std(origin + floored)
}

/// Threads arm and cancel while another fires with the real clock.
#[test]
fn concurrent_arm_cancel_and_fire() {
    let threads = if cfg!(miri) { 2 } else { 4 };
    let per_thread = if cfg!(miri) { 50 } else { 20_000 };
    let timers = Arc::new(Timers::with_shards(2));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let driver = {
        let (timers, stop) = (timers.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(SeqCst) {
                timers.fire_expired(std::time::Instant::now());
                std::thread::yield_now();
            }
        })
    };
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let timers = timers.clone();
            std::thread::spawn(move || {
                let (count, waker) = counting_waker();
                let mut rng = Rng(t as u64 + 1);
                let mut kept = Vec::new();
                for _ in 0..per_thread {
                    let deadline = Instant::now() + Duration::from_micros(rng.below(3000));
                    let mut sleep = Box::pin(Sleep::new_in(timers.clone(), deadline));
                    let _ = poll(sleep.as_mut(), &waker);
                    if rng.below(2) == 0 {
                        kept.push(sleep);
                    }
                    if kept.len() > 64 {
                        drop(kept.swap_remove(rng.below(64) as usize));
                    }
                }
                // Whatever is left fires: wait for it.
                while kept
                    .iter_mut()
                    .any(|s| poll(s.as_mut(), &waker).is_pending())
                {
                    std::thread::yield_now();
                }
                count.0.load(SeqCst)
            })
        })
        .collect();
    for worker in workers {
        worker.join().unwrap();
    }
    stop.store(true, SeqCst);
    driver.join().unwrap();
    assert_eq!(timers.len(), 0);
}

/// Arms and cancels a million timers; prints ns per operation. Run with
/// `cargo test -p smp_rt_timers --release -- --ignored --nocapture arm_cancel`.
#[test]
#[ignore = "benchmark"]
fn bench_arm_cancel_million() {
    const N: usize = 1_000_000;
    for shards in [1, 2] {
        let timers = Arc::new(Timers::with_shards(shards));
        let (_, waker) = counting_waker();
        let start = Instant::now();
        let mut sleeps: Vec<Pin<Box<Sleep>>> = (0..N)
            .map(|i| {
                let deadline = start + Duration::from_secs(1) + Duration::from_micros(i as u64 * 7);
                Box::pin(Sleep::new_in(timers.clone(), deadline))
            })
            .collect();
        let t = std::time::Instant::now();
        for sleep in &mut sleeps {
            assert!(poll(sleep.as_mut(), &waker).is_pending());
        }
        let arm = t.elapsed();
        assert_eq!(timers.len(), N);
        let t = std::time::Instant::now();
        drop(sleeps);
        let cancel = t.elapsed();
        assert_eq!(timers.len(), 0);
        // The same allocation and drop without arming, to subtract.
        let unarmed: Vec<Pin<Box<Sleep>>> = (0..N)
            .map(|_| Box::pin(Sleep::new_in(timers.clone(), start)))
            .collect();
        let t = std::time::Instant::now();
        drop(unarmed);
        let free = t.elapsed();
        println!(
            "shards={shards}: arm {:.1} ns/timer, cancel (drop) {:.1} ns/timer, of which freeing the box {:.1} ns; size_of::<Sleep>() = {} bytes",
            arm.as_nanos() as f64 / N as f64,
            cancel.as_nanos() as f64 / N as f64,
            free.as_nanos() as f64 / N as f64,
            std::mem::size_of::<Sleep>(),
        );
    }
}

/// Threads arming and cancelling at once: per-thread shards against one
/// shared wheel. Run like `bench_arm_cancel_million`.
#[test]
#[ignore = "benchmark"]
fn bench_contended_arm_cancel() {
    const PER_THREAD: usize = 500_000;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    for shards in [1, threads] {
        let timers = Arc::new(Timers::with_shards(shards));
        let start = std::time::Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let timers = timers.clone();
                std::thread::spawn(move || {
                    let (_, waker) = counting_waker();
                    let base = Instant::now() + Duration::from_secs(5);
                    let mut window: Vec<Pin<Box<Sleep>>> = Vec::with_capacity(1024);
                    for i in 0..PER_THREAD {
                        let deadline = base + Duration::from_micros(i as u64 * 13);
                        let mut sleep = Box::pin(Sleep::new_in(timers.clone(), deadline));
                        let _ = poll(sleep.as_mut(), &waker);
                        if window.len() == 1024 {
                            window.clear();
                        }
                        window.push(sleep);
                    }
                })
            })
            .collect();
        for handle in handles {
            handle.join().unwrap();
        }
        let total = (threads * PER_THREAD) as f64;
        println!(
            "{threads} threads, shards={shards}: {:.1} ns per arm+cancel (wall time / ops)",
            start.elapsed().as_nanos() as f64 / total
        );
    }
}

#[test]
fn a_sleep_set_ahead_of_the_clock_is_armed_without_a_second_clock_read() {
    // `sleep` saw its deadline after the clock: its first poll arms the
    // timer even if the deadline has passed since, and the timers fire it at
    // their next turn. A `sleep_until` (or a reset) checks the clock at its
    // first poll and completes at once.
    let timers = Arc::new(Timers::with_shards(1));
    // After the timers' origin, so the deadline falls past their first tick.
    std::thread::sleep(ms(2));
    let deadline = Instant::now();
    while Instant::now() <= deadline + ms(2) {
        std::thread::sleep(ms(1));
    }
    let (count, waker) = counting_waker();
    let mut ahead = Box::pin(Sleep::ahead_in(timers.clone(), deadline));
    assert!(
        poll(ahead.as_mut(), &waker).is_pending(),
        "armed, not checked"
    );
    assert_eq!(timers.len(), 1);
    assert_eq!(timers.fire_expired(std::time::Instant::now()), 1);
    assert_eq!(count.0.load(SeqCst), 1, "fired at the timers' next turn");
    assert!(poll(ahead.as_mut(), &waker).is_ready());

    let mut checked = Box::pin(Sleep::new_in(timers.clone(), deadline));
    assert!(poll(checked.as_mut(), &waker).is_ready(), "checked at once");

    let mut reset = Box::pin(Sleep::ahead_in(timers.clone(), base()));
    reset.as_mut().reset(deadline);
    assert!(
        poll(reset.as_mut(), &waker).is_ready(),
        "a reset deadline is checked against the clock"
    );
    assert_eq!(timers.len(), 0);
}

#[test]
#[should_panic(expected = "not supported on the multi-thread runtime")]
fn a_clock_that_is_not_pausable_does_not_pause() {
    Timers::with_shards(1).pause_clock();
}

#[test]
fn a_paused_clock_moves_only_when_advanced_and_fires_on_its_time() {
    let mut timers = Timers::with_shards(1);
    timers.set_pausable(true);
    let timers = Arc::new(timers);
    assert!(!timers.is_paused());
    timers.pause_clock();
    assert!(timers.is_paused());
    let start = timers.now();
    // On a tick boundary of the timers.
    assert_eq!(
        (start - timers.origin()).as_nanos() % u128::from(TICK_NANOS),
        0,
        "{start:?}"
    );
    std::thread::sleep(ms(2));
    assert_eq!(timers.now(), start, "real time does not move it");
    assert_eq!(timers.clock_at(std::time::Instant::now()), start);

    let (count, waker) = counting_waker();
    let mut sleep = Box::pin(Sleep::new_in(
        timers.clone(),
        Instant::from_std(start) + ms(10),
    ));
    assert!(poll(sleep.as_mut(), &waker).is_pending());
    assert_eq!(timers.next_deadline(), Some(start + ms(10)));

    assert_eq!(timers.advance_clock(ms(9)), start + ms(9));
    assert_eq!(timers.fire_expired(timers.now()), 0);
    assert_eq!(timers.advance_clock(ms(1)), start + ms(10));
    assert_eq!(timers.fire_expired(timers.now()), 1);
    assert_eq!(count.0.load(SeqCst), 1);
    assert!(poll(sleep.as_mut(), &waker).is_ready());

    // Resumed, it runs at real speed from where it was.
    timers.resume_clock();
    assert!(!timers.is_paused());
    let resumed = timers.now();
    assert!(resumed >= start + ms(10));
    std::thread::sleep(ms(2));
    assert!(timers.now() >= resumed + ms(2));
    assert_eq!(timers.try_advance_clock(ms(1)), None);
}

#[test]
#[should_panic(expected = "time is not paused")]
fn advancing_a_running_clock_panics() {
    let mut timers = Timers::with_shards(1);
    timers.set_pausable(true);
    timers.advance_clock(ms(1));
}

//! [`Interval`], [`interval`], [`interval_at`] and [`MissedTickBehavior`].

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::{Instant, Sleep};

/// How far past its scheduled instant a tick must be seen before it counts
/// as missed (tokio's threshold).
const MISSED_THRESHOLD: Duration = Duration::from_millis(5);

/// An [`Interval`] whose first tick completes at once and whose ticks are
/// then `period` apart.
///
/// Equivalent to `interval_at(Instant::now(), period)`.
///
/// # Panics
///
/// If `period` is zero, or if called outside an smp_rt runtime (as
/// tokio's does outside a tokio runtime) or in a runtime without timers.
///
/// # Examples
///
/// ```
/// use smp_rt::time::{interval, Duration, Instant};
///
/// # #[smp_rt::main]
/// # async fn main() {
/// let mut every_10ms = interval(Duration::from_millis(10));
/// let start = every_10ms.tick().await; // at once: the instant `interval` was called
/// assert!(start <= Instant::now());
/// every_10ms.tick().await; // 10 ms after start
/// let third = every_10ms.tick().await; // 20 ms after start
/// assert_eq!(third, start + Duration::from_millis(20));
/// # }
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    new_interval(Instant::now(), period, "smp_rt::time::interval")
}

/// An [`Interval`] whose first tick completes at `start` and whose ticks are
/// then `period` apart.
///
/// # Panics
///
/// If `period` is zero, or if called outside an smp_rt runtime (as
/// tokio's does outside a tokio runtime) or in a runtime without timers.
///
/// # Examples
///
/// ```
/// use smp_rt::time::{interval_at, Duration, Instant};
///
/// # #[smp_rt::main]
/// # async fn main() {
/// let start = Instant::now() + Duration::from_millis(50);
/// let mut iv = interval_at(start, Duration::from_millis(10));
/// assert_eq!(iv.tick().await, start);
/// assert_eq!(iv.tick().await, start + Duration::from_millis(10));
/// # }
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "`period` must be non-zero.");
    new_interval(start, period, "smp_rt::time::interval_at")
}

/// An interval for `what` (the public function named in the panic outside
/// a runtime); `period` is not zero.
#[track_caller]
fn new_interval(start: Instant, period: Duration, what: &str) -> Interval {
    Interval {
        delay: Box::pin(Sleep::until(start, what)),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does when ticks are missed: when a tick is taken
/// more than 5 ms after the instant it was scheduled for (the consumer was
/// busy, or the task did not run).
///
/// With `period` = 10 ms, ticks scheduled at 0, 10, 20, ... ms, and a
/// consumer that takes the tick at 0 ms and then is not back until 35 ms:
///
/// | behavior | ticks returned (scheduled instants) | completed at |
/// |---|---|---|
/// | `Burst` | 10, 20, 30, 40, 50 | 35, 35, 35, 40, 50 |
/// | `Delay` | 10, 45, 55 | 35, 45, 55 |
/// | `Skip`  | 10, 40, 50 | 35, 40, 50 |
///
/// A tick returns the instant it was *scheduled* for, not the instant it
/// completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Catch up: the missed ticks complete at once, one per call, keeping
    /// the original schedule (`start + n * period`).
    #[default]
    Burst,
    /// Start over: the next tick is scheduled `period` after the late tick
    /// was taken, and every later one `period` after that.
    Delay,
    /// Drop the missed ticks: the next tick is the next instant of the
    /// original schedule after the late tick was taken.
    Skip,
}

impl MissedTickBehavior {
    /// The tick after `scheduled`, taken late at `now`.
    fn next_after_missed(self, scheduled: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => add_or_far(scheduled, period),
            MissedTickBehavior::Delay => add_or_far(now, period),
            MissedTickBehavior::Skip => {
                let late = (now - scheduled).as_nanos();
                let into_period = late % period.as_nanos();
                // `into_period < period`, which fits a `Duration`.
                let into_period = Duration::from_nanos(into_period as u64);
                add_or_far(now, period - into_period)
            }
        }
    }
}

/// `instant + duration`, or the far future on overflow.
fn add_or_far(instant: Instant, duration: Duration) -> Instant {
    instant
        .checked_add(duration)
        .unwrap_or_else(Instant::far_future)
}

/// Ticks at a fixed period; created by [`interval`] and [`interval_at`].
///
/// [`tick`](Interval::tick) waits for the next tick and returns the instant
/// it was scheduled for. Ticks that are missed (the consumer came back late)
/// are handled as the [`MissedTickBehavior`] says (default: `Burst`).
///
/// `tick` is cancel-safe: dropping its future (in `select!`) loses no tick.
///
/// # Examples
///
/// A heartbeat that never ends (`no_run`: the loop runs forever):
///
/// ```no_run
/// use smp_rt::time::{interval, Duration, MissedTickBehavior};
///
/// # #[smp_rt::main]
/// # async fn main() {
/// let mut heartbeat = interval(Duration::from_secs(1));
/// heartbeat.set_missed_tick_behavior(MissedTickBehavior::Skip);
/// loop {
///     heartbeat.tick().await;
///     println!("still alive");
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Interval {
    /// Waits for the next tick; its deadline is that tick's instant.
    delay: Pin<Box<Sleep>>,
    /// Time between ticks.
    period: Duration,
    /// What to do after a late tick.
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns the instant it was scheduled
    /// for.
    ///
    /// Cancel-safe.
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick: `Ready` with its scheduled instant once it
    /// is due, else `Pending` (and `cx`'s waker is woken when it is).
    ///
    /// Charges one reduction.
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        std::task::ready!(self.delay.as_mut().poll_elapsed(cx));
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = if now > add_or_far(scheduled, MISSED_THRESHOLD) {
            self.missed_tick_behavior
                .next_after_missed(scheduled, now, self.period)
        } else {
            add_or_far(scheduled, self.period)
        };
        // The timer has fired, so this only records the new deadline; the
        // next poll arms it.
        self.delay.as_mut().reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    pub fn reset(&mut self) {
        self.reset_at(add_or_far(Instant::now(), self.period));
    }

    /// Restarts the schedule: the next tick completes at once.
    pub fn reset_immediately(&mut self) {
        self.reset_at(Instant::now());
    }

    /// Restarts the schedule: the next tick is `after` from now.
    pub fn reset_after(&mut self, after: Duration) {
        self.reset_at(add_or_far(Instant::now(), after));
    }

    /// Restarts the schedule: the next tick is at `deadline`.
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.as_mut().reset(deadline);
    }

    /// The time between ticks.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// What the interval does when ticks are missed.
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets what the interval does when ticks are missed.
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

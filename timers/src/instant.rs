//! [`Instant`]: a point on the monotonic clock, as used by smp_rt's timers
//! (and on the runtime's virtual clock while it is paused).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// A measurement of the monotonic clock, for the deadlines of
/// [`sleep_until`](crate::sleep_until), [`timeout_at`](crate::timeout_at)
/// and [`interval_at`](crate::interval_at).
///
/// A thin wrapper over [`std::time::Instant`] with tokio's `Instant` API;
/// [`from_std`](Instant::from_std) and [`into_std`](Instant::into_std)
/// convert (so do `From` and `Into`).
///
/// # Examples
///
/// ```
/// use smp_rt_timers::{Duration, Instant};
///
/// let start = Instant::now();
/// let later = start + Duration::from_millis(250);
/// assert_eq!(later - start, Duration::from_millis(250));
/// assert_eq!(later.duration_since(start), Duration::from_millis(250));
/// assert_eq!(start.checked_duration_since(later), None);
/// assert_eq!(start.saturating_duration_since(later), Duration::ZERO);
/// assert_eq!(later - Duration::from_millis(250), start);
///
/// let std_instant: std::time::Instant = later.into_std();
/// assert_eq!(Instant::from_std(std_instant), later);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    std: std::time::Instant,
}

impl Instant {
    /// The current time: the clock of the current runtime, which is
    /// `std::time::Instant::now()` unless the runtime's clock was paused
    /// (see [`pause`](crate::pause)). Outside a runtime, the real time.
    #[must_use]
    pub fn now() -> Instant {
        Instant::from_std(crate::clock::now())
    }

    /// Wraps a [`std::time::Instant`].
    #[must_use]
    pub fn from_std(std: std::time::Instant) -> Instant {
        Instant { std }
    }

    /// The [`std::time::Instant`] inside.
    #[must_use]
    pub fn into_std(self) -> std::time::Instant {
        self.std
    }

    /// The time from `earlier` to `self`; zero if `earlier` is later (as
    /// [`std::time::Instant::duration_since`] does since Rust 1.60).
    #[must_use]
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`, or `None` if `earlier` is later.
    #[must_use]
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.std.checked_duration_since(earlier.std)
    }

    /// The time from `earlier` to `self`, or zero if `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.std.saturating_duration_since(earlier.std)
    }

    /// The time elapsed since `self`: `Instant::now() - self`, on the
    /// current runtime's clock (see [`now`](Instant::now)).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_timers::Instant;
    ///
    /// let start = Instant::now();
    /// std::thread::sleep(std::time::Duration::from_millis(1));
    /// assert!(start.elapsed() >= std::time::Duration::from_millis(1));
    /// ```
    #[must_use]
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self + duration`, or `None` on overflow.
    #[must_use]
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_add(duration).map(Instant::from_std)
    }

    /// `self - duration`, or `None` if that is before the clock's origin.
    #[must_use]
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.std.checked_sub(duration).map(Instant::from_std)
    }

    /// An instant about 30 years from now: the deadline used when
    /// `now + duration` overflows.
    pub(crate) fn far_future() -> Instant {
        Instant::far_future_from(Instant::now())
    }

    /// An instant about 30 years after `now`: the deadline used when
    /// `now + duration` overflows.
    pub(crate) fn far_future_from(now: Instant) -> Instant {
        now + Duration::from_secs(86_400 * 365 * 30)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// On overflow; see [`checked_add`](Instant::checked_add).
    fn add(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    ///
    /// On underflow; see [`checked_sub`](Instant::checked_sub).
    fn sub(self, rhs: Duration) -> Instant {
        Instant::from_std(self.std - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// The time from `rhs` to `self`, zero if `rhs` is later.
    fn sub(self, rhs: Instant) -> Duration {
        self.duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

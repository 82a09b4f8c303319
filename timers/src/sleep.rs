//! [`Sleep`], [`sleep`] and [`sleep_until`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::entry::{TimerEntry, current_timers};
use crate::{Instant, Timers};

/// Waits until `duration` has elapsed.
///
/// The deadline is `Instant::now() + duration`, taken when `sleep` is
/// called (not when the future is first polled). The future completes no
/// earlier than the deadline; on an idle runtime, within about a
/// millisecond after it (timers have millisecond resolution).
///
/// Like `sleep_until(Instant::now() + duration)`, with one difference:
/// `sleep` reads the clock once, when it is called. So a zero `duration`
/// completes on the first poll, but a `sleep` first polled after its
/// deadline has passed completes when the timers next turn (within a
/// millisecond on a running runtime, as in tokio), not necessarily on that
/// poll; `sleep_until` reads the clock at its first poll and completes
/// then. A duration too large to add to the current time means "about 30
/// years from now".
///
/// The returned [`Sleep`] is `!Unpin`: to poll it by reference (in
/// `select!`, or to [`reset`](Sleep::reset) it), pin it first, with
/// [`std::pin::pin!`] or `Box::pin`.
///
/// # Panics
///
/// If called outside an smp_rt runtime (as tokio's `sleep` does outside a
/// tokio runtime), or in a runtime without timers. The returned `Sleep`
/// belongs to the runtime it was made in.
///
/// # Examples
///
/// ```
/// use smp_rt::time::{sleep, Duration, Instant};
///
/// #[smp_rt::main]
/// async fn main() {
///     let start = Instant::now();
///     sleep(Duration::from_millis(100)).await;
///     assert!(start.elapsed() >= Duration::from_millis(100));
/// }
/// ```
///
/// Pinned on the stack, to wait for it alongside other work:
///
/// ```
/// use std::pin::pin;
/// use smp_rt::time::{sleep, Duration, Instant};
///
/// # #[smp_rt::main]
/// # async fn main() {
/// # let (tx, mut rx) = smp_rt::sync::mpsc::channel::<u32>(4);
/// # smp_rt::spawn(async move {
/// #     for n in 0..3 {
/// #         tx.send(n).await.unwrap();
/// #     }
/// # });
/// let mut deadline = pin!(sleep(Duration::from_secs(1)));
/// loop {
///     smp_rt::select! {
///         _ = &mut deadline => break,
///         Some(n) = rx.recv() => {
///             println!("{n}");
///             // Push the deadline back by a second.
///             deadline.as_mut().reset(Instant::now() + Duration::from_secs(1));
///         }
///     }
/// }
/// # }
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let timers = current_timers("smp_rt::time::sleep");
    let now = Instant::from_std(timers.now());
    let deadline = now
        .checked_add(duration)
        .unwrap_or_else(|| Instant::far_future_from(now));
    Sleep::read_at(timers, now, deadline)
}

/// Waits until `deadline`.
///
/// Completes at once (on its first poll) if `deadline` has passed. See
/// [`sleep`].
///
/// # Panics
///
/// If called outside an smp_rt runtime (as tokio's `sleep_until` does
/// outside a tokio runtime), or in a runtime without timers.
///
/// # Examples
///
/// ```
/// use smp_rt::time::{sleep_until, Duration, Instant};
///
/// # #[smp_rt::main]
/// # async fn main() {
/// let deadline = Instant::now() + Duration::from_millis(50);
/// sleep_until(deadline).await;
/// assert!(Instant::now() >= deadline);
/// # }
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::until(deadline, "smp_rt::time::sleep_until")
}

pin_project! {
    /// Future returned by [`sleep`] and [`sleep_until`].
    ///
    /// It belongs to the runtime it was made in (it finds that runtime's
    /// timers then, and keeps them). Its timer is armed when it is first
    /// polled, and cancelled when it is dropped: a dropped `Sleep` never
    /// wakes its task and leaves nothing behind in the timers.
    ///
    /// Polling charges one reduction.
    ///
    /// `Sleep` is `!Unpin` (the timers link it in place); see [`sleep`] for
    /// pinning.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Sleep {
        deadline: std::time::Instant,
        #[pin]
        entry: TimerEntry,
    }
}

impl Sleep {
    /// [`sleep_until`] for `what` (the public function named in the panic
    /// outside a runtime).
    #[track_caller]
    pub(crate) fn until(deadline: Instant, what: &str) -> Sleep {
        Sleep {
            deadline: deadline.into_std(),
            entry: TimerEntry::new(current_timers(what), false),
        }
    }

    /// A sleep on `timers` until `deadline`, made when their clock read
    /// `now`. The clock is read once per timer: by the caller, and the entry
    /// is told whether the deadline was still ahead then.
    pub(crate) fn read_at(timers: Arc<Timers>, now: Instant, deadline: Instant) -> Sleep {
        Sleep {
            deadline: deadline.into_std(),
            entry: TimerEntry::new(timers, deadline > now),
        }
    }

    /// A sleep on the given timers, without a runtime (tests).
    #[cfg(test)]
    pub(crate) fn new_in(timers: std::sync::Arc<crate::Timers>, deadline: Instant) -> Sleep {
        Sleep {
            deadline: deadline.into_std(),
            entry: TimerEntry::new(timers, false),
        }
    }

    /// A sleep on the given timers whose deadline is taken as after the
    /// clock, as `sleep` makes it (tests).
    #[cfg(test)]
    pub(crate) fn ahead_in(timers: std::sync::Arc<crate::Timers>, deadline: Instant) -> Sleep {
        Sleep {
            deadline: deadline.into_std(),
            entry: TimerEntry::new(timers, true),
        }
    }

    /// The instant at which the future completes.
    pub fn deadline(&self) -> Instant {
        Instant::from_std(self.deadline)
    }

    /// `true` once the deadline has been seen to pass: the timer fired, or
    /// a poll found the deadline passed. [`reset`](Sleep::reset) makes it
    /// `false` again.
    pub fn is_elapsed(&self) -> bool {
        self.entry.is_fired()
    }

    /// Changes the deadline to `deadline`, whether or not the future has
    /// completed; polling it again waits for the new deadline.
    ///
    /// A waiting task keeps waiting, now for the new deadline: the timer is
    /// moved in place, keeping its waker.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use smp_rt::time::{sleep, Duration, Instant};
    ///
    /// # #[smp_rt::main]
    /// # async fn main() {
    /// let mut s = pin!(sleep(Duration::from_secs(3600)));
    /// s.as_mut().reset(Instant::now() + Duration::from_millis(10));
    /// s.await; // about 10 ms, not an hour
    /// # }
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.project();
        *this.deadline = deadline.into_std();
        this.entry.reset(deadline.into_std());
    }

    /// Polls for the deadline without charging a reduction (for the timer
    /// futures that wrap a `Sleep` and charge for themselves).
    pub(crate) fn poll_elapsed(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        this.entry.poll_deadline(*this.deadline, cx)
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        self.poll_elapsed(cx)
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("is_elapsed", &self.is_elapsed())
            .finish()
    }
}

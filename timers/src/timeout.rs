//! [`Timeout`], [`timeout`] and [`timeout_at`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::entry::current_timers;
use crate::error::Elapsed;
use crate::{Instant, Sleep};

/// Runs `future` for at most `duration`.
///
/// Resolves to `Ok(output)` if `future` completes first, to
/// `Err(`[`Elapsed`]`)` once `duration` has passed. The deadline is taken
/// when `timeout` is called. `future` is polled before the deadline is
/// checked, so a future that is ready at once wins even with a zero
/// duration. When the deadline wins, `future` is dropped along with the
/// `Timeout`.
///
/// A `duration` too large to add to the current time means no deadline:
/// the `Timeout` then needs no timer, and only waits for `future` (as
/// tokio's does).
///
/// # Panics
///
/// If called outside an smp_rt runtime (as tokio's `timeout` does outside
/// a tokio runtime), or in a runtime without timers; not for a `duration`
/// too large to be a deadline, which needs no timer.
///
/// # Examples
///
/// ```
/// use smp_rt::time::{sleep, timeout, Duration};
///
/// # #[smp_rt::main]
/// # async fn main() {
/// let fast = timeout(Duration::from_secs(1), async { 7 }).await;
/// assert_eq!(fast, Ok(7));
///
/// let slow = timeout(Duration::from_millis(10), sleep(Duration::from_secs(60))).await;
/// assert!(slow.is_err());
/// # }
/// ```
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    let now = Instant::now();
    // A `match`, not a closure: `#[track_caller]` does not reach into one.
    #[allow(clippy::manual_map)]
    let delay = match now.checked_add(duration) {
        Some(deadline) => Some(Sleep::read_at(
            current_timers("smp_rt::time::timeout"),
            now,
            deadline,
        )),
        None => None,
    };
    Timeout {
        value: future.into_future(),
        delay,
    }
}

/// Runs `future` until `deadline` at the latest.
///
/// See [`timeout`].
///
/// # Panics
///
/// If called outside an smp_rt runtime (as tokio's `timeout_at` does
/// outside a tokio runtime), or in a runtime without timers.
///
/// # Examples
///
/// ```
/// use smp_rt::time::{timeout_at, Duration, Instant};
///
/// # #[smp_rt::main]
/// # async fn main() {
/// let deadline = Instant::now() + Duration::from_millis(100);
/// let answer = timeout_at(deadline, async { 42 }).await.unwrap();
/// assert_eq!(answer, 42);
/// # }
/// ```
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: Some(Sleep::until(deadline, "smp_rt::time::timeout_at")),
    }
}

pin_project! {
    /// Future returned by [`timeout`] and [`timeout_at`].
    ///
    /// Polling charges one reduction (and whatever the inner future
    /// charges); the deadline is checked even when the inner future has
    /// spent the task's slice, so a busy inner future cannot outrun it.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        // `None`: no deadline (a duration too large to be one).
        #[pin]
        delay: Option<Sleep>,
    }
}

impl<F> Timeout<F> {
    /// The inner future.
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Consumes the `Timeout`, returning the inner future.
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        let this = self.project();
        if let Poll::Ready(output) = this.value.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        // Not charged: the inner future may have spent the slice, and the
        // deadline must still be seen.
        match this.delay.as_pin_mut() {
            Some(delay) => delay.poll_elapsed(cx).map(|()| Err(Elapsed::new())),
            None => Poll::Pending,
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("value", &self.value)
            .field("delay", &self.delay)
            .finish()
    }
}

//! [`Timeout`], [`timeout`] and [`timeout_at`].

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use crate::error::Elapsed;
use crate::{Instant, Sleep, sleep, sleep_until};

/// Runs `future` for at most `duration`.
///
/// Resolves to `Ok(output)` if `future` completes first, to
/// `Err(`[`Elapsed`]`)` once `duration` has passed. The deadline is taken
/// when `timeout` is called. `future` is polled before the deadline is
/// checked, so a future that is ready at once wins even with a zero
/// duration. When the deadline wins, `future` is dropped along with the
/// `Timeout`.
///
/// # Panics
///
/// Polling it panics outside an smp_rt runtime, or in a runtime without
/// timers (unless `future` completes on the first poll).
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
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: sleep(duration),
    }
}

/// Runs `future` until `deadline` at the latest.
///
/// See [`timeout`].
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
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: sleep_until(deadline),
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
        #[pin]
        delay: Sleep,
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
        this.delay.poll_elapsed(cx).map(|()| Err(Elapsed::new()))
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

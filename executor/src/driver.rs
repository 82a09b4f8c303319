//! The hook where IO and timers plug into the workers' idle time.
//!
//! The executor knows nothing of epoll or timers. When a worker runs out of
//! work it parks; one parked worker at a time parks *in the driver*
//! ([`Driver::park`]), the others on their own event. A busy worker calls
//! [`Driver::poll`] every so often so that a saturated runtime still serves
//! IO and timers. [`Driver::unpark`] wakes the worker parked in the driver.
//!
//! The default driver, [`SleepDriver`], has no events of its own: it only
//! sleeps until unparked or until the timeout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use event_listener::{Event, Listener};

/// What a driver calls to wake a task: a waker whose `wake` panics is
/// reported (a `tracing` error), never unwound into the driver.
pub use crate::task::unwind::wake_caught;

/// An event source the workers drive while idle: IO readiness, timers.
///
/// # Contract
///
/// * `park` blocks the calling worker until an event arrives, `unpark` is
///   called, or `timeout` passes; it may return early.
/// * `unpark` is *sticky*: an `unpark` that comes before `park` makes the
///   next `park` return at once. It may be called from any thread.
/// * `poll` processes ready events without blocking.
/// * At most one worker is inside `park` or `poll` at a time; the executor
///   guarantees this.
pub trait Driver: Send + Sync + 'static {
    /// Waits for events, an `unpark`, or `timeout` (`None`: no limit).
    fn park(&self, timeout: Option<Duration>);
    /// Processes ready events without blocking.
    fn poll(&self);
    /// `true` when `poll` would find nothing to do whatever the time (no
    /// event source, nothing scheduled): busy workers then skip it, and
    /// the lock around it. Called from any worker, without that lock.
    fn is_empty(&self) -> bool {
        false
    }
    /// Wakes the worker inside `park`, or makes the next `park` return.
    fn unpark(&self);
}

/// A driver without events: `park` sleeps until `unpark` or the timeout.
#[derive(Debug, Default)]
pub struct SleepDriver {
    notified: AtomicBool,
    event: Event,
}

impl SleepDriver {
    /// A new sleep-only driver.
    pub fn new() -> SleepDriver {
        SleepDriver::default()
    }
}

impl Driver for SleepDriver {
    fn park(&self, timeout: Option<Duration>) {
        // Register before checking the flag, so an unpark in between is seen
        // by the listener.
        let listener = self.event.listen();
        // SeqCst pairs with the SeqCst store in `unpark`.
        if self.notified.swap(false, Ordering::SeqCst) {
            return;
        }
        match timeout {
            Some(timeout) => {
                listener.wait_timeout(timeout);
            }
            None => listener.wait(),
        }
        self.notified.store(false, Ordering::SeqCst);
    }

    fn poll(&self) {}

    fn is_empty(&self) -> bool {
        true
    }

    fn unpark(&self) {
        self.notified.store(true, Ordering::SeqCst);
        self.event.notify(1);
    }
}

/// A driver that only counts its unparks, for the loom models of the park
/// protocol: a worker "parked" in it returns at once, and a model asserts
/// on the count instead.
#[cfg(all(test, loom))]
pub(crate) struct CountingDriver(crate::loom::AtomicUsize);

#[cfg(all(test, loom))]
impl CountingDriver {
    pub(crate) fn new() -> CountingDriver {
        CountingDriver(crate::loom::AtomicUsize::new(0))
    }

    /// Unparks so far.
    pub(crate) fn unparks(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(all(test, loom))]
impl Driver for CountingDriver {
    fn park(&self, _: Option<Duration>) {}
    fn poll(&self) {}
    fn unpark(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

//! The runtime's driver: the IO reactor and the timers, driven by whichever
//! worker is idle (see `smp_rt_executor::driver`).
//!
//! * `park`: block in `Poller::wait` until an IO event, an unpark, or the
//!   next timer deadline; then fire the expired timers.
//! * `poll`: the same without blocking; busy workers call it every so often.
//! * `unpark`: `Poller::notify`. Arming a timer earlier than the deadline
//!   the parked worker sleeps towards unparks it too, so it re-arms its
//!   timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use smp_rt_executor::driver::Driver;
use smp_rt_io::Reactor;
use smp_rt_timers::Timers;

/// The IO + timers driver of one runtime.
pub(crate) struct IoTimeDriver {
    reactor: Arc<Reactor>,
    timers: Arc<Timers>,
}

impl IoTimeDriver {
    pub(crate) fn new(reactor: Arc<Reactor>, timers: Arc<Timers>) -> IoTimeDriver {
        let unpark_reactor = Arc::downgrade(&reactor);
        timers.set_unpark(Arc::new(move || {
            if let Some(reactor) = unpark_reactor.upgrade() {
                let _ = reactor.notify();
            }
        }));
        IoTimeDriver { reactor, timers }
    }

    fn wait(&self, timeout: Option<Duration>) {
        let timer_timeout = self
            .timers
            .next_deadline()
            .map(|deadline| deadline.saturating_duration_since(Instant::now()));
        let timeout = match (timeout, timer_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Err(err) = self.reactor.wait(timeout) {
            tracing::error!(%err, "the IO reactor failed to wait for events");
        }
        self.timers.fire_expired(Instant::now());
    }
}

impl Driver for IoTimeDriver {
    fn park(&self, timeout: Option<Duration>) {
        self.wait(timeout);
    }

    fn poll(&self) {
        self.wait(Some(Duration::ZERO));
    }

    fn unpark(&self) {
        if let Err(err) = self.reactor.notify() {
            tracing::error!(%err, "failed to wake the IO reactor");
        }
    }
}

//! The runtime's driver: the IO reactor and the timers, driven by whichever
//! worker is idle (see `smp_rt_executor::driver`).
//!
//! * `park`: block in the reactor's poller until an IO event, an unpark, or
//!   the next timer deadline; then fire the expired timers.
//! * `poll`: the same without blocking; busy workers call it every so often.
//!   A non-blocking reactor poll is still a system call (one `epoll_pwait`
//!   on Linux, where the reactor drives epoll itself), so the reactor is
//!   polled only when it has sources,
//!   and at most every [`IO_POLL_INTERVAL`]; expired timers are fired on
//!   every call (a few atomic loads when none is due).
//! * `unpark`: `Reactor::notify`. Arming a timer earlier than the deadline
//!   the parked worker sleeps towards unparks it too, so it re-arms its
//!   timeout.
//! * Paused clock (`smp_rt::time::pause`, current-thread runtimes only):
//!   `park` with a timer armed does not sleep towards it. It polls the
//!   reactor without blocking and, if that found no event and nothing
//!   unparked the driver (the runtime really has nothing to run), moves
//!   the clock to the next deadline and fires what expired: tokio's
//!   auto-advance. With no timer armed it blocks as usual; the clock stays
//!   where it is.
//!
//! Timers are fired at the timers' clock (`Timers::clock_at`), which is the
//! real time read here unless the clock was paused.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::time::{Duration, Instant};

use smp_rt_executor::driver::Driver;
use smp_rt_io::Reactor;
use smp_rt_timers::Timers;

/// Least time between two non-blocking reactor polls by busy workers.
const IO_POLL_INTERVAL: Duration = Duration::from_micros(50);

/// The IO + timers driver of one runtime.
pub(crate) struct IoTimeDriver {
    reactor: Arc<Reactor>,
    timers: Arc<Timers>,
    /// When the reactor was last polled, in nanoseconds since `origin`.
    last_io_poll: AtomicU64,
    origin: Instant,
    /// Set by every unpark (the executor's, and the timers' for a timer
    /// armed earlier than the deadline the driver waits for); cleared by a
    /// paused-clock park, which does not move the clock after an unpark:
    /// the runtime has work, or a new earliest timer, to look at first.
    unparked: Arc<AtomicBool>,
}

impl IoTimeDriver {
    pub(crate) fn new(reactor: Arc<Reactor>, timers: Arc<Timers>) -> IoTimeDriver {
        let unpark_reactor = Arc::downgrade(&reactor);
        let unparked = Arc::new(AtomicBool::new(false));
        let timers_unparked = unparked.clone();
        timers.set_unpark(Arc::new(move || {
            timers_unparked.store(true, SeqCst);
            if let Some(reactor) = unpark_reactor.upgrade() {
                let _ = reactor.notify();
            }
        }));
        IoTimeDriver {
            reactor,
            timers,
            last_io_poll: AtomicU64::new(0),
            origin: Instant::now(),
            unparked,
        }
    }

    fn wait(&self, timeout: Option<Duration>) {
        let timer_timeout = self.timers.next_deadline().map(|deadline| {
            deadline.saturating_duration_since(self.timers.clock_at(Instant::now()))
        });
        let timeout = match (timeout, timer_timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Err(err) = self.reactor.wait(timeout) {
            tracing::error!(%err, "the IO reactor failed to wait for events");
        }
        let now = Instant::now();
        self.note_io_poll(now);
        self.timers.fire_expired(self.timers.clock_at(now));
    }

    /// `park` while the clock is paused: auto-advance (module docs).
    fn wait_paused(&self, timeout: Option<Duration>) {
        // Before the reactor poll, so that a timer armed earlier from now
        // on unparks (sets `unparked`), as for a sleeping driver.
        let Some(deadline) = self.timers.next_deadline() else {
            // Nothing to advance to: wait for IO or an unpark.
            self.wait(timeout);
            return;
        };
        let events = match self.reactor.wait(Some(Duration::ZERO)) {
            Ok(events) => events,
            Err(err) => {
                tracing::error!(%err, "the IO reactor failed to poll for events");
                0
            }
        };
        self.note_io_poll(Instant::now());
        // SeqCst, as the stores in the unparks: an unpark that came before
        // this park (unparks are sticky) or during the poll is seen here.
        let unparked = self.unparked.swap(false, SeqCst);
        let now = self.timers.now();
        if events == 0 && !unparked && deadline > now {
            // As tokio: no further than the executor's own timeout.
            let step = deadline - now;
            let step = timeout.map_or(step, |limit| step.min(limit));
            // `None`: resumed meanwhile (from another thread); the next
            // park waits in real time.
            let _ = self.timers.try_advance_clock(step);
        }
        self.timers.fire_expired(self.timers.now());
    }

    fn note_io_poll(&self, now: Instant) {
        let ns = now.saturating_duration_since(self.origin).as_nanos() as u64;
        // Relaxed: only the worker holding the driver reads and writes it.
        self.last_io_poll.store(ns, Relaxed);
    }
}

impl Driver for IoTimeDriver {
    fn park(&self, timeout: Option<Duration>) {
        if self.timers.is_paused() {
            self.wait_paused(timeout);
        } else {
            self.wait(timeout);
        }
    }

    fn poll(&self) {
        let now = Instant::now();
        let since_origin = now.saturating_duration_since(self.origin).as_nanos() as u64;
        let due = since_origin.saturating_sub(self.last_io_poll.load(Relaxed))
            >= IO_POLL_INTERVAL.as_nanos() as u64;
        if due && self.reactor.num_sources() > 0 {
            if let Err(err) = self.reactor.wait(Some(Duration::ZERO)) {
                tracing::error!(%err, "the IO reactor failed to poll for events");
            }
            self.note_io_poll(now);
        }
        self.timers.fire_expired(self.timers.clock_at(now));
    }

    fn is_empty(&self) -> bool {
        self.reactor.num_sources() == 0 && self.timers.is_empty()
    }

    fn unpark(&self) {
        self.unparked.store(true, SeqCst);
        if let Err(err) = self.reactor.notify() {
            tracing::error!(%err, "failed to wake the IO reactor");
        }
    }
}

//! The reactor's OS poller on Linux: epoll, driven directly.
//!
//! `polling` (the poller on other systems, see `portable.rs`) is not used
//! here, for two reasons:
//!
//! * it neither registers nor reports `EPOLLRDHUP`, the only way to learn
//!   that the peer's end of the stream (FIN) is queued behind the data a
//!   read just took. Without it every message costs one more `read` that
//!   returns `WouldBlock`, see `PollEvented::poll_read_stream`;
//! * its `wait` makes five system calls (it arms a timerfd and re-arms it
//!   and its notifier with `epoll_ctl` even for a zero timeout, and reads
//!   the notifier after every wait) where one `epoll_pwait` does.
//!
//! # What is registered
//!
//! * Every source: `EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET`,
//!   once, until it is deleted (edge-triggered: see the reactor's module
//!   docs). `EPOLLPRI` (priority data: TCP urgent data, a `sysfs` attribute
//!   that changed) is reported as readable and as priority.
//! * An eventfd under [`NOTIFY_KEY`], edge-triggered: `notify` writes to it,
//!   and each write is a new edge, so it is never read in the common case
//!   (only when its counter would overflow). A notification with nobody
//!   waiting stays in epoll's ready list and ends the next wait at once.
//! * A timerfd under [`TIMER_KEY`], edge-triggered: armed by a wait with a
//!   timeout shorter than [`COARSE_FROM`] (epoll's own timeout is in whole
//!   milliseconds, and timers must fire within about a millisecond of their
//!   deadline). A longer wait uses epoll's timeout, rounded *down* to whole
//!   milliseconds: it may end up to a millisecond early, and the caller's
//!   next wait covers the rest, with the timerfd. A server whose
//!   connections hold long timeouts (read timeouts of seconds) then waits
//!   with one system call instead of two. A timer left armed by a wait that
//!   ended early is disarmed before a wait without it, so that it does not
//!   end that wait for nothing.

use std::io;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::event::epoll;
use rustix::event::{EventfdFlags, eventfd};
use rustix::time::{
    Itimerspec, TimerfdClockId, TimerfdFlags, TimerfdTimerFlags, Timespec, timerfd_create,
    timerfd_settime,
};

use super::PollEvent;

/// The key of the notification eventfd (no source's key: those are indices
/// into the reactor's registry).
const NOTIFY_KEY: u64 = u64::MAX;
/// The key of the timeout timerfd.
const TIMER_KEY: u64 = u64::MAX - 1;

/// Waits at least this long use epoll's own timeout instead of the
/// timerfd (see the module docs): long enough that ending one early, which
/// costs one more wait, is rare next to the system call it saves on every
/// wait that IO ends first.
const COARSE_FROM: Duration = Duration::from_millis(10);

/// A `timespec` of zero: disarms a timerfd.
const ZERO: Timespec = Timespec {
    tv_sec: 0,
    tv_nsec: 0,
};

/// An epoll instance with its notification eventfd and timeout timerfd.
#[derive(Debug)]
pub(crate) struct Poller {
    epoll: OwnedFd,
    notifier: OwnedFd,
    timer: OwnedFd,
}

/// Buffers of [`Poller::wait`], owned by the (single) waiting thread.
pub(crate) struct Events {
    list: Vec<epoll::Event>,
    /// The timerfd may still fire: a timed wait ended before it did.
    timer_armed: bool,
}

// SAFETY: `epoll::Event` is not `Send` only because its data field may hold
// a pointer; here it only ever holds the keys (integers) given at
// registration, and nothing is dereferenced through it.
unsafe impl Send for Events {}

impl Events {
    #[cfg(test)]
    pub(crate) fn new() -> Events {
        Events::with_capacity(super::DEFAULT_EVENTS_PER_WAIT)
    }

    /// Buffers for waits that collect at most `capacity` events (the
    /// notification eventfd's and the timerfd's included; edge-triggered,
    /// the rest stay in epoll's ready list for the next wait).
    pub(crate) fn with_capacity(capacity: usize) -> Events {
        Events {
            list: Vec::with_capacity(capacity),
            timer_armed: false,
        }
    }

    pub(crate) fn clear(&mut self) {
        self.list.clear();
    }

    /// The sources' events (the eventfd's and the timerfd's are left out).
    pub(crate) fn iter(&self) -> impl Iterator<Item = PollEvent> + '_ {
        self.list.iter().filter_map(|event| {
            // Copies: the kernel's `epoll_event` is packed on x86-64.
            let (flags, key) = (event.flags, event.data.u64());
            (key < TIMER_KEY).then(|| decode(key as usize, flags))
        })
    }
}

/// What a source's event says, in the reactor's terms.
fn decode(key: usize, flags: epoll::EventFlags) -> PollEvent {
    use epoll::EventFlags as F;
    // A hang-up or an error is reported to both directions: the operation
    // tried next returns the end of the stream or the error.
    let broken = flags.intersects(F::HUP | F::ERR);
    PollEvent {
        key,
        readable: broken || flags.intersects(F::IN | F::PRI | F::RDHUP),
        writable: broken || flags.contains(F::OUT),
        // `EPOLLRDHUP`: the peer shut down its writing side, so reads will
        // reach the end of the stream and never block again; `EPOLLHUP`:
        // both sides are shut down.
        read_closed: flags.intersects(F::RDHUP | F::HUP),
        // A hang-up, or an error on a writable socket (or alone).
        write_closed: flags.contains(F::HUP) || flags.contains(F::OUT | F::ERR) || flags == F::ERR,
        error: flags.contains(F::ERR),
        priority: flags.contains(F::PRI),
    }
}

/// `timeout` rounded down to whole milliseconds, as a `timespec` epoll
/// takes without rounding (at most `i32::MAX` milliseconds, epoll's
/// limit: a longer wait ends early and is waited again).
fn whole_millis(timeout: Duration) -> Timespec {
    let millis = timeout.as_millis().min(i32::MAX as u128) as i64;
    Timespec {
        tv_sec: millis / 1000,
        tv_nsec: (millis % 1000) * 1_000_000,
    }
}

impl Poller {
    /// This poller reports that a stream's reading side reached its end.
    pub(crate) const REPORTS_READ_CLOSED: bool = true;
    /// This poller reports priority data (`EPOLLPRI`).
    pub(crate) const REPORTS_PRIORITY: bool = true;

    pub(crate) fn new() -> io::Result<Poller> {
        let epoll = epoll::create(epoll::CreateFlags::CLOEXEC)?;
        let notifier = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
        let timer = timerfd_create(
            TimerfdClockId::Monotonic,
            TimerfdFlags::CLOEXEC | TimerfdFlags::NONBLOCK,
        )?;
        let edge = epoll::EventFlags::IN | epoll::EventFlags::ET;
        epoll::add(
            &epoll,
            &notifier,
            epoll::EventData::new_u64(NOTIFY_KEY),
            edge,
        )?;
        epoll::add(&epoll, &timer, epoll::EventData::new_u64(TIMER_KEY), edge)?;
        Ok(Poller {
            epoll,
            notifier,
            timer,
        })
    }

    /// Registers `fd` under `key`, for both directions, edge-triggered.
    ///
    /// # Safety
    ///
    /// `fd` must be open, and stay open until [`delete`](Poller::delete).
    pub(crate) unsafe fn add(&self, fd: RawFd, key: usize) -> io::Result<()> {
        use epoll::EventFlags as F;
        debug_assert!((key as u64) < TIMER_KEY);
        // SAFETY: the caller keeps `fd` open for as long as it is registered;
        // the borrow ends with this call.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let flags = F::IN | F::OUT | F::RDHUP | F::PRI | F::ET;
        epoll::add(
            &self.epoll,
            fd,
            epoll::EventData::new_u64(key as u64),
            flags,
        )?;
        Ok(())
    }

    /// Removes `fd` (before it is closed).
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        epoll::delete(&self.epoll, fd)?;
        Ok(())
    }

    /// Collects events into `events`, waiting up to `timeout` (`None`: no
    /// limit) unless some are ready or a notification is pending.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        let epoll_timeout = match timeout {
            Some(Duration::ZERO) => Some(ZERO),
            Some(timeout) if timeout < COARSE_FROM => {
                self.arm_timer(timeout)?;
                events.timer_armed = true;
                None
            }
            long => {
                if events.timer_armed {
                    self.arm_timer(Duration::ZERO)?;
                    events.timer_armed = false;
                }
                long.map(whole_millis)
            }
        };
        events.list.clear();
        let result = epoll::wait(
            &self.epoll,
            rustix::buffer::spare_capacity(&mut events.list),
            epoll_timeout.as_ref(),
        );
        match result {
            Ok(_) => {}
            // A signal: the caller's loop waits again.
            Err(rustix::io::Errno::INTR) => {}
            Err(err) => return Err(err.into()),
        }
        if events
            .list
            .iter()
            .any(|event| event.data.u64() == TIMER_KEY)
        {
            events.timer_armed = false;
        }
        Ok(())
    }

    /// Arms the timerfd to fire once, `after` from now (zero disarms it).
    fn arm_timer(&self, after: Duration) -> io::Result<()> {
        let value = Itimerspec {
            it_interval: ZERO,
            // A duration too long for a `timespec` never ends in practice.
            it_value: Timespec::try_from(after).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            }),
        };
        timerfd_settime(&self.timer, TimerfdTimerFlags::empty(), &value)?;
        Ok(())
    }

    /// Ends a concurrent wait, or the next one, at once.
    pub(crate) fn notify(&self) -> io::Result<()> {
        let one = 1u64.to_ne_bytes();
        match rustix::io::write(&self.notifier, &one) {
            Ok(_) => Ok(()),
            // The counter is full (after 2^64 - 2 notifications nobody
            // read): reset it, then notify again.
            Err(rustix::io::Errno::AGAIN) => {
                let mut sink = [0; 8];
                let _ = rustix::io::read(&self.notifier, &mut sink);
                rustix::io::write(&self.notifier, &one)?;
                Ok(())
            }
            Err(err) => Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::os::fd::{AsFd, AsRawFd};
    use std::os::unix::net::UnixStream;
    use std::task::{Context, Poll, Waker};

    use super::*;
    use crate::reactor::{Direction, Reactor};

    /// The events of one wait that returns at least one.
    fn wait_for_events(poller: &Poller) -> Vec<PollEvent> {
        let mut events = Events::new();
        poller
            .wait(&mut events, Some(Duration::from_secs(10)))
            .unwrap();
        events.iter().collect()
    }

    #[test]
    fn data_and_the_end_of_the_stream_in_one_edge_are_both_reported() {
        let poller = Poller::new().unwrap();
        let (mut peer, ours) = UnixStream::pair().unwrap();
        // SAFETY: `ours` outlives its registration (deleted below).
        unsafe { poller.add(ours.as_raw_fd(), 7) }.unwrap();
        let registered = wait_for_events(&poller);
        assert!(
            registered.iter().all(|e| e.key == 7 && !e.read_closed),
            "{registered:?}"
        );

        peer.write_all(b"data").unwrap();
        let data = wait_for_events(&poller);
        assert!(
            matches!(
                data[..],
                [PollEvent {
                    key: 7,
                    readable: true,
                    read_closed: false,
                    ..
                }]
            ),
            "{data:?}"
        );

        peer.write_all(b"last words").unwrap();
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        let end = wait_for_events(&poller);
        assert!(
            matches!(
                end[..],
                [PollEvent {
                    key: 7,
                    readable: true,
                    read_closed: true,
                    ..
                }]
            ),
            "{end:?}"
        );
        poller.delete(ours.as_fd()).unwrap();
    }

    #[test]
    fn a_notification_ends_a_wait_without_timeout_and_reports_no_event() {
        let poller = Poller::new().unwrap();
        poller.notify().unwrap();
        poller.notify().unwrap();
        let mut events = Events::new();
        poller.wait(&mut events, None).unwrap();
        assert_eq!(events.iter().count(), 0);
        // Consumed: the next wait times out.
        poller
            .wait(&mut events, Some(Duration::from_millis(1)))
            .unwrap();
        assert_eq!(events.iter().count(), 0);
    }

    /// `true` if the timerfd is armed now.
    fn timer_is_armed(poller: &Poller) -> bool {
        let value = rustix::time::timerfd_gettime(&poller.timer).unwrap();
        value.it_value.tv_sec != 0 || value.it_value.tv_nsec != 0
    }

    #[test]
    fn a_long_wait_leaves_the_timerfd_alone_and_a_short_one_arms_it() {
        let poller = Poller::new().unwrap();
        let mut events = Events::new();
        // Each wait ends at once on a pending notification; what it did
        // to the timerfd stays.
        poller.notify().unwrap();
        poller
            .wait(&mut events, Some(Duration::from_secs(30)))
            .unwrap();
        assert!(!timer_is_armed(&poller));
        poller.notify().unwrap();
        poller
            .wait(&mut events, Some(Duration::from_secs(5)))
            .unwrap();
        assert!(!timer_is_armed(&poller));
        poller.notify().unwrap();
        poller
            .wait(&mut events, Some(Duration::from_secs(1) / 2))
            .unwrap();
        assert!(!timer_is_armed(&poller), "500 ms is a long wait too");
        poller.notify().unwrap();
        poller
            .wait(&mut events, Some(Duration::from_millis(5)))
            .unwrap();
        assert!(
            timer_is_armed(&poller),
            "a short wait is timed by the timerfd"
        );
        // A long wait disarms what the short one left armed.
        poller.notify().unwrap();
        poller
            .wait(&mut events, Some(Duration::from_secs(30)))
            .unwrap();
        assert!(!timer_is_armed(&poller));
    }

    #[test]
    fn a_long_wait_is_rounded_down_to_whole_milliseconds() {
        assert_eq!(
            whole_millis(Duration::from_micros(12_999)),
            Timespec {
                tv_sec: 0,
                tv_nsec: 12_000_000
            }
        );
        assert_eq!(
            whole_millis(Duration::from_millis(3_250)),
            Timespec {
                tv_sec: 3,
                tv_nsec: 250_000_000
            }
        );
        let most = whole_millis(Duration::MAX);
        assert_eq!(
            most.tv_sec * 1000 + most.tv_nsec / 1_000_000,
            i64::from(i32::MAX)
        );
    }

    #[test]
    fn a_long_timed_out_wait_returns_no_earlier_than_its_whole_milliseconds() {
        let poller = Poller::new().unwrap();
        let mut events = Events::new();
        let start = std::time::Instant::now();
        poller
            .wait(&mut events, Some(Duration::from_micros(12_500)))
            .unwrap();
        assert!(
            start.elapsed() >= Duration::from_millis(12),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(events.iter().count(), 0);
    }

    #[test]
    fn a_timed_out_wait_returns_no_earlier_than_its_timeout() {
        let poller = Poller::new().unwrap();
        let mut events = Events::new();
        let timeout = Duration::from_millis(3);
        let start = std::time::Instant::now();
        poller.wait(&mut events, Some(timeout)).unwrap();
        assert!(start.elapsed() >= timeout, "{:?}", start.elapsed());
        assert_eq!(events.iter().count(), 0);
    }

    #[test]
    fn a_short_read_after_the_reported_end_of_the_stream_keeps_the_readiness() {
        let reactor = Reactor::new().unwrap();
        let (mut peer, mut ours) = UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        // SAFETY: `ours` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(ours.as_raw_fd()) }.unwrap();
        peer.write_all(b"last words").unwrap();
        peer.shutdown(std::net::Shutdown::Write).unwrap();
        // One event reports the data and the end together.
        assert_eq!(reactor.wait(Some(Duration::from_secs(10))).unwrap(), 1);

        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(Ok(tick)) = source.poll_ready(Direction::Read, &mut cx) else {
            panic!("not readable after the event");
        };
        let mut buf = [0; 64];
        assert_eq!(ours.read(&mut buf).unwrap(), b"last words".len());
        source.clear_drained(Direction::Read, tick);
        // Nothing else will come: the end must still be readable.
        assert!(
            source.poll_ready(Direction::Read, &mut cx).is_ready(),
            "the end of the stream was hidden by the short read"
        );
        assert_eq!(ours.read(&mut buf).unwrap(), 0);
        source.deregister();
    }
}

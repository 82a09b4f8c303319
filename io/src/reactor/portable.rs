//! The reactor's OS poller on systems other than Linux: `polling`
//! (kqueue on the BSDs and macOS, epoll on illumos).
//!
//! Built on Linux too with `RUSTFLAGS="--cfg smp_rt_portable_poller"`, which
//! is how CI tests it. `polling` does not report that a stream's reading
//! side reached its end, so reads here always go on until `WouldBlock`
//! (see `PollEvented::poll_read_stream`).

use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::time::Duration;

use polling::{Event, PollMode};

use super::PollEvent;

/// A `polling::Poller` in edge-triggered mode.
#[derive(Debug)]
pub(crate) struct Poller {
    poller: polling::Poller,
}

/// Buffers of [`Poller::wait`], owned by the (single) waiting thread.
pub(crate) struct Events {
    events: polling::Events,
}

impl Events {
    /// Buffers for waits that collect at most `capacity` events.
    pub(crate) fn with_capacity(capacity: usize) -> Events {
        let capacity = std::num::NonZeroUsize::new(capacity).unwrap_or(std::num::NonZeroUsize::MIN);
        Events {
            events: polling::Events::with_capacity(capacity),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.events.clear();
    }

    /// The sources' events (`polling` leaves out its notifications).
    pub(crate) fn iter(&self) -> impl Iterator<Item = PollEvent> + '_ {
        self.events.iter().map(|event| PollEvent {
            key: event.key,
            readable: event.readable,
            writable: event.writable,
            read_closed: false,
            write_closed: false,
            error: false,
            priority: false,
        })
    }
}

impl Poller {
    /// This poller cannot tell that a stream's reading side reached its end.
    pub(crate) const REPORTS_READ_CLOSED: bool = false;
    /// `polling` neither registers nor reports priority data.
    pub(crate) const REPORTS_PRIORITY: bool = false;

    pub(crate) fn new() -> io::Result<Poller> {
        let poller = polling::Poller::new()?;
        if !poller.supports_edge() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "smp_rt's reactor needs an edge-triggered poller (epoll or kqueue)",
            ));
        }
        Ok(Poller { poller })
    }

    /// Registers `fd` under `key`, for both directions, edge-triggered.
    ///
    /// # Safety
    ///
    /// `fd` must be open, and stay open until [`delete`](Poller::delete).
    pub(crate) unsafe fn add(&self, fd: RawFd, key: usize) -> io::Result<()> {
        // SAFETY: forwarded from the caller.
        unsafe {
            self.poller
                .add_with_mode(fd, Event::all(key), PollMode::Edge)
        }
    }

    /// Removes `fd` (before it is closed).
    pub(crate) fn delete(&self, fd: BorrowedFd<'_>) -> io::Result<()> {
        self.poller.delete(fd)
    }

    /// Collects events into `events`, waiting up to `timeout` (`None`: no
    /// limit) unless some are ready or a notification is pending.
    pub(crate) fn wait(&self, events: &mut Events, timeout: Option<Duration>) -> io::Result<()> {
        events.events.clear();
        match self.poller.wait(&mut events.events, timeout) {
            Ok(_) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Ends a concurrent wait, or the next one, at once.
    pub(crate) fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }
}

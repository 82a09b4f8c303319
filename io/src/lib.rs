//! smp_rt's IO (skeleton: the reactor API the runtime's driver uses).

#![warn(missing_docs, rust_2018_idioms)]

use std::io;
use std::time::Duration;

/// The IO reactor of one runtime: a `polling::Poller` and its sources.
pub struct Reactor {
    poller: polling::Poller,
}

impl Reactor {
    /// A reactor with no sources.
    pub fn new() -> io::Result<Reactor> {
        Ok(Reactor {
            poller: polling::Poller::new()?,
        })
    }

    /// Waits for IO events (up to `timeout`, `None` for no limit) and wakes
    /// the tasks waiting on them. Returns the number of events.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut events = polling::Events::new();
        self.poller.wait(&mut events, timeout)
    }

    /// Makes a concurrent or the next `wait` return at once.
    pub fn notify(&self) -> io::Result<()> {
        self.poller.notify()
    }
}

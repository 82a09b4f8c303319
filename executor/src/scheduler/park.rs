//! Parking and unparking one worker.
//!
//! # The handshake
//!
//! A worker that found no work announces it sleeps, *then* looks once more
//! for work, *then* sleeps. Whoever gives it work publishes the work, *then*
//! looks at the announcement, and wakes the worker if it sleeps:
//!
//! ```text
//!   worker                               waker (any thread)
//!   listener = event.listen()            publish work (inbox CAS, ring push)
//!   state.store(PARKED, SeqCst)          fence(SeqCst)
//!   fence(SeqCst)                        if state.load(SeqCst) != RUNNING
//!   if work is visible: cancel             && state.swap(RUNNING) was PARKED:
//!   else wait on the listener                  event.notify(1)
//! ```
//!
//! The two fences are ordered one way or the other: either the worker's look
//! comes after the publish (it sees the work) or the waker's load comes after
//! the announcement (it wakes the worker).
//! The listener is registered before the announcement, so the notify cannot
//! slip in between the check and the wait. Only the thread whose `swap`
//! takes the worker out of `PARKED` notifies, so each sleep costs at most one
//! notification, and a worker that is running costs a waker one load.
//!
//! One worker at a time parks inside the [`Driver`] instead of on its event
//! (state `PARKED_IN_DRIVER`); waking it means `Driver::unpark`.

use std::sync::atomic::Ordering::SeqCst;

use event_listener::{Event, EventListener};

use crate::driver::Driver;
use crate::loom::{AtomicU8, CachePadded};

const RUNNING: u8 = 0;
const PARKED: u8 = 1;
const PARKED_IN_DRIVER: u8 = 2;
/// Running, woken by `Idle::notify`'s claimant: already counted as a
/// searcher.
const WOKEN_TO_SEARCH: u8 = 3;

/// Where a worker waits. See the module docs.
pub(crate) struct Parker {
    state: CachePadded<AtomicU8>,
    event: Event,
}

/// How a worker is about to wait.
pub(crate) enum Wait {
    /// On its own event, through this listener.
    Event(EventListener),
    /// Inside the driver.
    Driver,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            state: CachePadded(AtomicU8::new(RUNNING)),
            event: Event::new(),
        }
    }

    /// Announces that the worker is about to sleep (step 1 of the handshake).
    ///
    /// The caller must look for work afterwards and call [`cancel`] if it
    /// finds some, or [`wait`] otherwise.
    ///
    /// [`cancel`]: Parker::cancel
    /// [`wait`]: Parker::wait
    pub(crate) fn prepare(&self, in_driver: bool) -> Wait {
        let wait = if in_driver {
            Wait::Driver
        } else {
            // Registered before the announcement: see the module docs.
            Wait::Event(self.event.listen())
        };
        let state = if in_driver { PARKED_IN_DRIVER } else { PARKED };
        self.state.store(state, SeqCst);
        // Orders the announcement before the caller's look for work, for
        // work published with a fence rather than a SeqCst RMW.
        crate::loom::fence(SeqCst);
        wait
    }

    /// Withdraws the announcement: the worker found work.
    ///
    /// Returns `true` if an `unpark(.., true)` got there first: the worker
    /// is then counted as searching.
    pub(crate) fn cancel(&self) -> bool {
        // A concurrent `unpark` may have taken us out of PARKED already and
        // notified; the notification goes to our dropped listener or is a
        // spurious driver wake-up, both harmless.
        self.state.swap(RUNNING, SeqCst) == WOKEN_TO_SEARCH
    }

    /// Sleeps until [`unpark`](Parker::unpark) (or the driver wakes).
    ///
    /// Returns `true` if woken to search (see [`cancel`](Parker::cancel)).
    pub(crate) fn wait(&self, wait: Wait, driver: &dyn Driver) -> bool {
        self.wait_at_most(wait, driver, None)
    }

    /// [`wait`](Parker::wait), but for no longer than `timeout` if given.
    pub(crate) fn wait_at_most(
        &self,
        wait: Wait,
        driver: &dyn Driver,
        timeout: Option<std::time::Duration>,
    ) -> bool {
        match (wait, timeout) {
            (Wait::Event(listener), None) => {
                use event_listener::Listener;
                listener.wait();
            }
            (Wait::Event(listener), Some(timeout)) => {
                use event_listener::Listener;
                listener.wait_timeout(timeout);
            }
            (Wait::Driver, timeout) => driver.park(timeout),
        }
        // After a driver wake-up (IO, timer) or a timeout nobody has reset
        // the state.
        self.state.swap(RUNNING, SeqCst) == WOKEN_TO_SEARCH
    }

    /// `true` if the worker has announced that it sleeps.
    #[inline]
    pub(crate) fn is_parked(&self) -> bool {
        matches!(self.state.load(SeqCst), PARKED | PARKED_IN_DRIVER)
    }

    /// Wakes the worker if it sleeps. Returns `true` if this call woke it.
    ///
    /// With `to_search`, the worker wakes counted as a searcher (the caller
    /// counted it, see `Idle::notify`).
    #[inline]
    pub(crate) fn unpark(&self, driver: &dyn Driver, to_search: bool) -> bool {
        let woken = if to_search { WOKEN_TO_SEARCH } else { RUNNING };
        // Orders the caller's publish of work before the load below: the
        // waker's half of the handshake (pairs with the fence in `prepare`).
        // Callers that published with a SeqCst RMW would not need it in the
        // C++ model, but a fence states the protocol in one place, and loom
        // checks fences exactly. `Shared::push_remote` relies on it for a
        // second handshake too (its loads after a failed unpark).
        crate::loom::fence(SeqCst);
        // The load keeps the common case (worker running) to a read of a
        // line that stays shared; only a sleeping worker costs a CAS.
        let mut state = self.state.load(SeqCst);
        loop {
            if state != PARKED && state != PARKED_IN_DRIVER {
                return false;
            }
            match self.state.compare_exchange(state, woken, SeqCst, SeqCst) {
                Ok(PARKED) => {
                    self.event.notify(1);
                    return true;
                }
                Ok(_) => {
                    driver.unpark();
                    return true;
                }
                Err(actual) => state = actual,
            }
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::driver::CountingDriver;
    use crate::loom::AtomicUsize;
    use loom::sync::Arc;

    /// The worker parks in the driver while another thread publishes work
    /// and unparks: either the worker sees the work before sleeping, or the
    /// publisher's unpark reaches the driver. Never neither.
    #[test]
    fn no_lost_wakeup_in_driver() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let work = Arc::new(AtomicUsize::new(0));
            let driver = Arc::new(CountingDriver::new());
            let publisher = {
                let (parker, work, driver) = (parker.clone(), work.clone(), driver.clone());
                loom::thread::spawn(move || {
                    work.store(1, SeqCst);
                    parker.unpark(&*driver, false);
                })
            };
            let wait = parker.prepare(true);
            let saw_work = work.load(SeqCst) == 1;
            if saw_work {
                parker.cancel();
            }
            publisher.join().unwrap();
            if !saw_work {
                // Sleeping now would have to be ended by the publisher.
                assert_eq!(driver.unparks(), 1, "lost wake-up");
                parker.wait(wait, &*driver);
            }
            assert!(!parker.is_parked());
        });
    }

    /// The worker sleeps on its event while another thread publishes work
    /// and unparks: the worker either sees the work or is woken. A lost
    /// wake-up would leave the worker blocked, which loom reports as a
    /// deadlock.
    #[test]
    fn no_lost_wakeup_on_event() {
        loom::model(|| {
            let parker = Arc::new(Parker::new());
            let work = Arc::new(AtomicUsize::new(0));
            let driver = Arc::new(CountingDriver::new());
            let publisher = {
                let (parker, work, driver) = (parker.clone(), work.clone(), driver.clone());
                loom::thread::spawn(move || {
                    work.store(1, SeqCst);
                    parker.unpark(&*driver, true)
                })
            };
            let wait = parker.prepare(false);
            let to_search = if work.load(SeqCst) == 1 {
                parker.cancel()
            } else {
                parker.wait(wait, &*driver)
            };
            let woke_it = publisher.join().unwrap();
            assert_eq!(work.load(SeqCst), 1);
            // Woken to search exactly when the publisher's unpark took it.
            assert_eq!(to_search, woke_it);
            assert_eq!(driver.unparks(), 0);
        });
    }
}

//! smp_rt's timers (skeleton: the storage API the runtime's driver uses).

#![warn(missing_docs, rust_2018_idioms)]

use std::sync::Arc;
use std::time::Instant;

/// The armed timers of one runtime.
#[derive(Default)]
pub struct Timers {
    _priv: (),
}

impl Timers {
    /// No timers armed.
    pub fn new() -> Timers {
        Timers::default()
    }

    /// Sets what to call when a timer is armed earlier than the earliest
    /// deadline the driver may be sleeping towards (the driver's unpark).
    pub fn set_unpark(&self, _unpark: Arc<dyn Fn() + Send + Sync>) {}

    /// The earliest armed deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        None
    }

    /// Fires every timer whose deadline is at or before `now`; returns how many.
    pub fn fire_expired(&self, _now: Instant) -> usize {
        0
    }

    /// Timers armed now.
    pub fn len(&self) -> usize {
        0
    }

    /// `true` if no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

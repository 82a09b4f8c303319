//! smp_rt's timers: [`sleep`], [`timeout`], [`interval`] and the timer
//! storage the runtime's driver fires.
//!
//! The facade re-exports this crate as `smp_rt::time`; the names and the
//! semantics are tokio's `tokio::time`.
//!
//! # The model
//!
//! * **One [`Timers`] per runtime.** The runtime creates it, registers it as
//!   an executor extension, and wires it into its driver: the worker parked
//!   in the driver sleeps in `Poller::wait` until the
//!   [next deadline](Timers::next_deadline), then
//!   [fires](Timers::fire_expired) what expired; busy workers fire expired
//!   timers every so often without sleeping. Arming a timer earlier than the
//!   deadline the driver sleeps towards unparks it.
//! * **Timer futures** ([`Sleep`], and [`Timeout`] and [`Interval`] built
//!   on it) find their runtime's timers when they are made (so, as in
//!   tokio, making one outside a runtime panics), arm a timer when first
//!   polled, and cancel it when dropped. The timer is a node inside the
//!   future itself, linked into the wheel while armed: arming and
//!   cancelling are O(1) and allocate nothing, and a runtime holds millions
//!   of armed timers with no memory but the futures'.
//! * **Storage** is a hierarchical timing wheel (7 levels of 64 slots, 1 ms
//!   resolution) per shard, one shard per core, each behind its own mutex.
//! * **Resolution.** Deadlines are rounded up to the millisecond, and the
//!   clock down: a timer never fires before its deadline, and on an idle
//!   runtime fires within about a millisecond after it.
//! * **Reductions.** Like every smp_rt leaf future, polling a `Sleep`, a
//!   `Timeout` or an `Interval` tick charges one reduction.
//! * **Paused clock, for tests.** On a current-thread runtime, [`pause`]
//!   stops the runtime's clock, [`advance`] moves it, [`resume`] restarts
//!   it, and an idle runtime with a paused clock jumps to the next timer
//!   instead of sleeping (tokio's `pause`, `advance`, `resume` and
//!   `start_paused`): a test of timeouts and intervals runs in no time and
//!   sees exact virtual times. `#[smp_rt::test(start_paused = true)]` starts
//!   a test paused.
//!
//! # Examples
//!
//! ```
//! use std::pin::pin;
//! use smp_rt::time::{interval, sleep, timeout, Duration, Instant};
//!
//! #[smp_rt::main]
//! async fn main() {
//!     let start = Instant::now();
//!     sleep(Duration::from_millis(20)).await;
//!     assert!(start.elapsed() >= Duration::from_millis(20));
//!
//!     let slow = sleep(Duration::from_secs(60));
//!     assert!(timeout(Duration::from_millis(10), slow).await.is_err());
//!
//!     let mut ticks = interval(Duration::from_millis(5));
//!     for _ in 0..3 {
//!         ticks.tick().await;
//!     }
//!
//!     // `Sleep` is `!Unpin`: pin it to poll it by reference.
//!     let mut s = pin!(sleep(Duration::from_secs(3600)));
//!     s.as_mut().reset(Instant::now());
//!     s.await;
//! }
//! ```

#![warn(missing_docs, rust_2018_idioms)]

mod clock;
mod entry;
pub mod error;
mod instant;
mod interval;
mod sleep;
mod timeout;
mod timers;
mod wheel;

pub use std::time::Duration;

pub use clock::{advance, pause, resume};
pub use instant::Instant;
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Timeout, timeout, timeout_at};
pub use timers::Timers;

#[cfg(test)]
mod tests;

//! The paused test clock: [`pause`], [`advance`] and [`resume`] (tokio's
//! `tokio::time::{pause, advance, resume}`), and the clock reads of the
//! crate.
//!
//! # Where the clock lives
//!
//! Each runtime's [`Timers`] carries its clock: real time until the first
//! `pause`, then *virtual* time (see `timers::VirtualClock`): stopped while
//! paused, and after `resume` running at real speed from wherever the
//! paused clock was left (as tokio's clock does; going back to
//! `std::time::Instant::now()` would jump back in time, and the timer wheel,
//! which has already passed the virtual deadlines, would then fire every new
//! timer at once).
//!
//! # What reading the clock costs
//!
//! Code that already holds the `Timers` (a timer's first poll, the driver)
//! reads one relaxed atomic, the clock's mode, before
//! `std::time::Instant::now()`: [`Timers::now`].
//!
//! [`Instant::now`](crate::Instant::now) holds no `Timers`: finding the
//! current runtime's takes a thread-local look-up, a type-map look-up and an
//! `Arc` clone, too much for every `Instant::now()` (a timer future pays it
//! once, when it is made, and keeps them). So it first reads a
//! process-wide count of runtimes whose clock is virtual
//! ([`any_virtual_clock`], one relaxed load); only when it is not zero does
//! it look the runtime up. A thread-local set while a paused
//! runtime runs would need a hook where the executor enters and leaves a
//! runtime on a thread, which the timers do not have (the executor owns
//! that), and would miss the other threads of the runtime. The count is
//! relaxed: a thread of the paused runtime sees the pause through the
//! synchronisation that put it there (it is the pausing thread, or a task
//! woken after the pause); a thread of another runtime that reads a stale
//! count reads its own, real, clock either way.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use smp_rt_executor::runtime::Handle;

use crate::Timers;
use crate::entry::current_timers;

/// Runtimes whose clock is virtual (was paused at least once), alive.
static VIRTUAL_CLOCKS: AtomicUsize = AtomicUsize::new(0);

/// A runtime's clock became virtual.
pub(crate) fn virtual_clock_added() {
    VIRTUAL_CLOCKS.fetch_add(1, Relaxed);
}

/// A runtime with a virtual clock is gone.
pub(crate) fn virtual_clock_removed() {
    VIRTUAL_CLOCKS.fetch_sub(1, Relaxed);
}

/// `false` if no runtime's clock is virtual: every clock is real time.
#[inline]
pub(crate) fn any_virtual_clock() -> bool {
    VIRTUAL_CLOCKS.load(Relaxed) != 0
}

/// The clock of the runtime this thread is in, real time outside one.
#[inline]
pub(crate) fn now() -> std::time::Instant {
    if !any_virtual_clock() {
        return std::time::Instant::now();
    }
    match Handle::current_extension::<Timers>() {
        Ok(Some(timers)) => timers.now(),
        _ => std::time::Instant::now(),
    }
}

/// Pauses time: [`Instant::now`](crate::Instant::now) stops where it is,
/// and only [`advance`] and the runtime's auto-advance move it.
///
/// While the clock is paused and the runtime has no task ready to run, it
/// does not sleep towards the next timer: it moves the clock to that
/// timer's deadline and fires it. So `sleep(Duration::from_secs(3600))`
/// completes at once, with the clock exactly one hour later. (IO is still
/// polled, without blocking, before the clock moves.)
///
/// The clock is the current runtime's: other runtimes keep real time. The
/// paused clock stands on a millisecond boundary of the runtime's timers
/// (`pause` moves it forward by less than a millisecond to the next one), so
/// that virtual deadlines in whole milliseconds are reached exactly: the
/// timers have millisecond resolution, and auto-advance moves the clock to
/// the millisecond a timer fires at.
///
/// A runtime built with `smp_rt::runtime::Builder::start_paused(true)`, or
/// a test marked `#[smp_rt::test(start_paused = true)]`, starts paused.
///
/// Unlike tokio, a `spawn_blocking` closure still running does not hold
/// auto-advance back: a paused runtime whose tasks all wait for one, with a
/// timer armed, moves its clock to that timer.
///
/// # Panics
///
/// If the clock is already paused, if the runtime is multi-thread (only a
/// current-thread runtime can pause its clock, as in tokio), or outside an
/// smp_rt runtime with timers.
///
/// # Examples
///
/// ```
/// use smp_rt::time::{self, Duration, Instant};
///
/// #[smp_rt::main(flavor = "current_thread")]
/// async fn main() {
///     time::pause();
///     let start = Instant::now();
///     time::sleep(Duration::from_secs(3600)).await; // returns at once
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// }
/// ```
#[track_caller]
pub fn pause() {
    current_timers("smp_rt::time::pause").pause_clock();
}

/// Resumes time: the clock runs again at real speed, from where the paused
/// clock was (it does not jump back to the real time of the machine, which
/// `advance` and auto-advance have left behind).
///
/// # Panics
///
/// If the clock is not paused, or outside an smp_rt runtime with timers.
///
/// # Examples
///
/// ```
/// use smp_rt::time::{self, Duration, Instant};
///
/// #[smp_rt::main(flavor = "current_thread")]
/// async fn main() {
///     time::pause();
///     let paused = Instant::now();
///     time::advance(Duration::from_secs(60)).await;
///     time::resume();
///     // Real time again, from a minute after the pause.
///     assert!(Instant::now() >= paused + Duration::from_secs(60));
///     time::sleep(Duration::from_millis(1)).await;
/// }
/// ```
#[track_caller]
pub fn resume() {
    current_timers("smp_rt::time::resume").resume_clock();
}

/// Moves the paused clock forward by `duration`, fires the timers that
/// expire on the way, and yields, so that the tasks they wake run before
/// `advance` returns (as tokio's `advance` does).
///
/// # Panics
///
/// If the clock is not paused (see [`pause`]), or outside an smp_rt
/// runtime with timers; when first polled, like everything an `async fn`
/// does.
///
/// # Examples
///
/// ```
/// use std::pin::pin;
/// use std::task::Poll;
/// use smp_rt::time::{self, Duration, Instant};
///
/// #[smp_rt::main(flavor = "current_thread")]
/// async fn main() {
///     time::pause();
///     let start = Instant::now();
///     let mut sleep = pin!(time::sleep(Duration::from_secs(10)));
///     // Poll once, to arm the timer.
///     assert!(futures::poll!(sleep.as_mut()).is_pending());
///
///     time::advance(Duration::from_secs(9)).await;
///     assert_eq!(Instant::now(), start + Duration::from_secs(9));
///     assert!(futures::poll!(sleep.as_mut()).is_pending());
///
///     time::advance(Duration::from_secs(1)).await;
///     assert!(sleep.is_elapsed());
///     assert_eq!(futures::poll!(sleep.as_mut()), Poll::Ready(()));
/// }
/// ```
pub async fn advance(duration: Duration) {
    {
        let timers = current_timers("smp_rt::time::advance");
        timers.advance_clock(duration);
        // Usually on the worker's thread, between two polls, so the driver
        // is not firing meanwhile; if it is (a `block_on` from another
        // thread polls this), both fire under each shard's mutex, and a
        // wheel's `elapsed` only moves forward.
        timers.fire_expired(timers.now());
    }
    smp_rt_executor::task::yield_now().await;
}

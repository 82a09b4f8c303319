//! [`Timers`]: the armed timers of one runtime, and the driver's side of
//! them.
//!
//! # Shards
//!
//! The timers are split into a power-of-two number of shards (one per core,
//! at most [`MAX_SHARDS`]), each a [`Wheel`] behind its own `Mutex`. A
//! thread arms its timers in "its" shard (a per-thread index, so workers
//! mostly use distinct shards); a timer is cancelled, re-armed or fired in
//! the shard it was armed in, whichever thread does it. Arming and
//! cancelling thus contend only with the driver firing that shard, and with
//! other threads that happen to share the shard.
//!
//! Each shard publishes, after every change and with its mutex held:
//! * `next_tick`, a lower bound of its earliest tick, so that the driver
//!   reads the next deadline and skips shards with nothing due without
//!   taking their mutex;
//! * `len`, its number of armed timers.
//!
//! # Waking the driver
//!
//! The driver sleeps in `Poller::wait` towards the deadline it read from
//! [`Timers::next_deadline`]. A timer armed earlier than that must unpark
//! it. `wake_tick` is the earliest tick the driver may be sleeping towards:
//!
//! ```text
//!   driver (next_deadline)                 arming thread
//!   wake_tick.store(MAX)                   insert; shard.next_tick.store(..)  [under the mutex]
//!   m = min(shard.next_tick.load())        if t < wake_tick.load()
//!   wake_tick.fetch_min(m)                    && t < wake_tick.fetch_min(t): unpark
//!   wait until m (unparks are sticky)
//! ```
//!
//! All SeqCst. If the driver's read of the shard missed the new timer, that
//! read came before the arming thread's store, so the arming thread's load of
//! `wake_tick` comes after the driver's `MAX`: it sees `MAX` or a smaller
//! value stored since. Either it unparks, or the value it sees (`<= t`) was
//! stored by the driver (which then sleeps towards a tick at or before `t`)
//! or by another arming thread, which by the same argument unparked, or saw
//! the driver's value. A driver that is not sleeping finds the unpark
//! pending at its next wait, which returns at once.

use std::cell::Cell;
use std::fmt;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::entry::{ARMED, FIRED, Node, UNREGISTERED};
use crate::wheel::{MAX_TICK, TICK, Wheel};
use smp_rt_executor::driver::wake_caught;

/// Upper bound on the number of shards.
const MAX_SHARDS: usize = 32;
/// Wakers collected before the driver releases a shard's mutex to wake them.
const WAKE_BATCH: usize = 32;
/// Nodes the driver moves (fires or cascades) per hold of a shard's mutex,
/// so that arming and cancelling threads never wait for a long cascade.
const MOVES_PER_LOCK: usize = 1024;
/// Nanoseconds per tick.
pub(crate) const TICK_NANOS: u64 = TICK.as_nanos() as u64;

/// `Timers::clock_mode`: the clock is `std::time::Instant::now()`.
const REAL: u8 = 0;
/// `Timers::clock_mode`: the clock is virtual and stopped.
const PAUSED: u8 = 1;
/// `Timers::clock_mode`: the clock is virtual and runs at real speed (it was
/// paused, then resumed).
const RESUMED: u8 = 2;

/// A virtual clock (`clock.rs`): at `base` when `unfrozen` (the real
/// instant of the last resume) was read, and running since; stopped at
/// `base` if `unfrozen` is `None`.
#[derive(Debug)]
struct VirtualClock {
    base: Instant,
    unfrozen: Option<Instant>,
}

impl VirtualClock {
    fn at(&self, real: Instant) -> Instant {
        match self.unfrozen {
            Some(unfrozen) => self.base + real.saturating_duration_since(unfrozen),
            None => self.base,
        }
    }
}

/// Aligns a value to its own cache lines (128 bytes: adjacent-line
/// prefetching on x86-64, the line size on many ARM64 servers).
#[repr(align(128))]
struct CachePadded<T>(T);

/// One wheel and what it publishes; see the module docs.
struct Shard {
    /// The wheel; every node access happens with this held.
    wheel: Mutex<Wheel>,
    /// A lower bound of the earliest tick in `wheel`, `u64::MAX` if empty.
    next_tick: AtomicU64,
    /// Timers armed in `wheel`.
    len: AtomicUsize,
}

/// The armed timers of one runtime.
///
/// The runtime creates one, registers it as an executor extension (timer
/// futures find it through
/// [`Handle::extension`](smp_rt_executor::runtime::Handle::extension)), and
/// its driver calls [`next_deadline`](Timers::next_deadline) before it
/// sleeps and [`fire_expired`](Timers::fire_expired) when it wakes. Timer
/// futures arm and cancel their timers concurrently from any thread.
///
/// Storage is a hierarchical timing wheel per shard (7 levels of 64 slots,
/// 1 ms resolution) whose slots are intrusive lists threaded through the
/// timer futures themselves: arming and cancelling are O(1) and allocate
/// nothing.
///
/// The timers also keep the runtime's clock ([`now`](Timers::now)): real
/// time, unless [`pause`](crate::pause) (on a current-thread runtime) made
/// it virtual.
pub struct Timers {
    /// Tick 0.
    origin: Instant,
    /// A power-of-two number of shards.
    shards: Box<[CachePadded<Shard>]>,
    /// The earliest tick the driver may be sleeping towards (module docs).
    wake_tick: CachePadded<AtomicU64>,
    /// Wakes the driver; set by the runtime.
    unpark: RwLock<Option<Arc<dyn Fn() + Send + Sync>>>,
    /// Set when the runtime is gone: nothing fires these timers any more.
    shut_down: AtomicBool,
    /// `REAL`, `PAUSED` or `RESUMED`. The one thing read on the unpaused
    /// path, relaxed (`clock.rs` says why that is enough); the clock itself
    /// is in `clock`.
    clock_mode: AtomicU8,
    /// The virtual clock, once paused.
    clock: Mutex<VirtualClock>,
    /// Whether [`pause_clock`](Timers::pause_clock) may pause the clock: only
    /// on a current-thread runtime.
    pausable: bool,
}

impl Drop for Timers {
    fn drop(&mut self) {
        if *self.clock_mode.get_mut() != REAL {
            crate::clock::virtual_clock_removed();
        }
    }
}

impl fmt::Debug for Timers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timers")
            .field("len", &self.len())
            .field("shards", &self.shards.len())
            .field("next_deadline", &self.peek_next_deadline())
            .finish_non_exhaustive()
    }
}

impl Default for Timers {
    fn default() -> Timers {
        Timers::new()
    }
}

/// Wakers to wake once the shard's mutex is released.
struct WakeList {
    wakers: [Option<Waker>; WAKE_BATCH],
    len: usize,
}

impl WakeList {
    fn new() -> WakeList {
        WakeList {
            wakers: [const { None }; WAKE_BATCH],
            len: 0,
        }
    }

    fn is_full(&self) -> bool {
        self.len == WAKE_BATCH
    }

    fn push(&mut self, waker: Waker) {
        self.wakers[self.len] = Some(waker);
        self.len += 1;
    }

    fn wake_all(&mut self) {
        for waker in &mut self.wakers[..self.len] {
            if let Some(waker) = waker.take() {
                wake_caught(waker);
            }
        }
        self.len = 0;
    }
}

/// This thread's shard index (before masking): threads take consecutive
/// numbers the first time they arm a timer.
fn shard_hint() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static HINT: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    HINT.try_with(|hint| {
        if hint.get() == usize::MAX {
            hint.set(NEXT.fetch_add(1, Relaxed));
        }
        hint.get()
    })
    .unwrap_or(0)
}

impl Timers {
    /// No timers armed.
    pub fn new() -> Timers {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Timers::with_shards(cores)
    }

    /// No timers armed, in `shards` shards (rounded up to a power of two,
    /// at most 32).
    pub(crate) fn with_shards(shards: usize) -> Timers {
        let shards = shards.clamp(1, MAX_SHARDS).next_power_of_two();
        Timers {
            origin: Instant::now(),
            shards: (0..shards)
                .map(|_| {
                    CachePadded(Shard {
                        wheel: Mutex::new(Wheel::new()),
                        next_tick: AtomicU64::new(u64::MAX),
                        len: AtomicUsize::new(0),
                    })
                })
                .collect(),
            wake_tick: CachePadded(AtomicU64::new(u64::MAX)),
            unpark: RwLock::new(None),
            shut_down: AtomicBool::new(false),
            clock_mode: AtomicU8::new(REAL),
            clock: Mutex::new(VirtualClock {
                base: Instant::now(),
                unfrozen: None,
            }),
            pausable: false,
        }
    }

    /// Lets [`pause_clock`](Timers::pause_clock) (and `smp_rt::time::pause`)
    /// pause these timers' clock. The runtime sets it for a current-thread
    /// runtime; as in tokio, a multi-thread runtime's clock cannot pause.
    pub fn set_pausable(&mut self, pausable: bool) {
        self.pausable = pausable;
    }

    /// The clock of these timers: `std::time::Instant::now()`, unless the
    /// clock has been paused (see [`pause`](crate::pause)).
    ///
    /// Real time costs one relaxed atomic load more than
    /// `std::time::Instant::now()`.
    #[inline]
    pub fn now(&self) -> Instant {
        self.clock_at(Instant::now())
    }

    /// The clock of these timers when the real clock reads `real` (`real`
    /// itself unless the clock has been paused).
    #[inline]
    pub fn clock_at(&self, real: Instant) -> Instant {
        if self.clock_mode.load(Relaxed) == REAL {
            real
        } else {
            self.lock_clock().at(real)
        }
    }

    /// `true` while the clock is paused.
    #[inline]
    pub fn is_paused(&self) -> bool {
        self.clock_mode.load(Relaxed) == PAUSED
    }

    /// Pauses the clock; what [`pause`](crate::pause) does to the current
    /// runtime's timers.
    ///
    /// # Panics
    ///
    /// If the clock is already paused, or these timers are not
    /// [pausable](Timers::set_pausable) (a multi-thread runtime's).
    #[track_caller]
    pub fn pause_clock(&self) {
        if !self.pausable {
            panic!(
                "`smp_rt::time::pause()` is not supported on the multi-thread runtime: only a \
                 current-thread runtime can pause its clock. Use \
                 `#[smp_rt::test(start_paused = true)]`, \
                 `#[smp_rt::test(flavor = \"current_thread\")]` or \
                 `Builder::new_current_thread()`."
            );
        }
        let mut clock = self.lock_clock();
        let mode = self.clock_mode.load(Relaxed);
        if mode == PAUSED {
            panic!("`smp_rt::time::pause()` was called while time is already paused");
        }
        let now = if mode == REAL {
            Instant::now()
        } else {
            clock.at(Instant::now())
        };
        // Forward to the next tick boundary, so that whole-millisecond
        // deadlines from here are reached exactly by auto-advance (which
        // moves the clock to the tick a timer fires at).
        let since = now.saturating_duration_since(self.origin).as_nanos();
        let aligned = since.div_ceil(u128::from(TICK_NANOS)) * u128::from(TICK_NANOS);
        let aligned = u64::try_from(aligned).unwrap_or(u64::MAX);
        clock.base = self
            .origin
            .checked_add(Duration::from_nanos(aligned))
            .unwrap_or(now)
            .max(now);
        clock.unfrozen = None;
        if mode == REAL {
            crate::clock::virtual_clock_added();
        }
        self.clock_mode.store(PAUSED, Relaxed);
    }

    /// Resumes the clock at real speed from where it is paused; what
    /// [`resume`](crate::resume) does to the current runtime's timers.
    ///
    /// # Panics
    ///
    /// If the clock is not paused.
    #[track_caller]
    pub fn resume_clock(&self) {
        let mut clock = self.lock_clock();
        if self.clock_mode.load(Relaxed) != PAUSED {
            panic!("`smp_rt::time::resume()` was called while time is not paused");
        }
        clock.unfrozen = Some(Instant::now());
        self.clock_mode.store(RESUMED, Relaxed);
    }

    /// Moves the paused clock forward by `duration`; returns the new time.
    /// Fires nothing: the caller fires what expired.
    ///
    /// # Panics
    ///
    /// If the clock is not paused, or `duration` takes it past the end of
    /// [`Instant`].
    #[track_caller]
    pub fn advance_clock(&self, duration: Duration) -> Instant {
        self.try_advance_clock(duration).unwrap_or_else(|| {
            panic!(
                "`smp_rt::time::advance()` was called while time is not paused; call \
                 `smp_rt::time::pause()` first, or use `#[smp_rt::test(start_paused = true)]`"
            )
        })
    }

    /// [`advance_clock`](Timers::advance_clock), or `None` if the clock is
    /// not paused (the driver's auto-advance, which may race a `resume`).
    pub fn try_advance_clock(&self, duration: Duration) -> Option<Instant> {
        let mut clock = self.lock_clock();
        if self.clock_mode.load(Relaxed) != PAUSED {
            return None;
        }
        // Panics (as `Instant + Duration` does) past the end of `Instant`.
        clock.base += duration;
        Some(clock.base)
    }

    fn lock_clock(&self) -> MutexGuard<'_, VirtualClock> {
        self.clock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets what to call when a timer is armed earlier than the earliest
    /// deadline the driver may be sleeping towards (the driver's unpark).
    pub fn set_unpark(&self, unpark: Arc<dyn Fn() + Send + Sync>) {
        *self.unpark.write().unwrap_or_else(PoisonError::into_inner) = Some(unpark);
    }

    /// The earliest armed deadline, rounded up to the wheel's resolution
    /// (1 ms), or `None` if no timer is armed.
    ///
    /// It may be earlier than every armed deadline (a timer that was the
    /// earliest was cancelled): waking then only costs the driver a
    /// spurious wake-up. It is never later than a deadline that was armed
    /// before the call.
    ///
    /// The driver calls this right before it sleeps: from then on, arming
    /// an earlier timer calls the unpark set by
    /// [`set_unpark`](Timers::set_unpark).
    pub fn next_deadline(&self) -> Option<Instant> {
        self.wake_tick.0.store(u64::MAX, SeqCst);
        let next = self.min_next_tick();
        self.wake_tick.0.fetch_min(next, SeqCst);
        self.instant_of(next)
    }

    /// Tick 0.
    #[cfg(test)]
    pub(crate) fn origin(&self) -> Instant {
        self.origin
    }

    /// `next_deadline` without its side effect on unparking.
    fn peek_next_deadline(&self) -> Option<Instant> {
        self.instant_of(self.min_next_tick())
    }

    fn min_next_tick(&self) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.0.next_tick.load(SeqCst))
            .min()
            .unwrap_or(u64::MAX)
    }

    /// Fires every timer whose deadline is at or before `now`; returns how
    /// many.
    ///
    /// Timers whose deadline lies within the millisecond before `now`
    /// (after `now` rounded down to the millisecond) wait for the next call:
    /// a timer never fires before its deadline.
    ///
    /// Called by one thread at a time (the driver) while other threads arm
    /// and cancel timers. Wakers are woken with no lock held.
    pub fn fire_expired(&self, now: Instant) -> usize {
        let now_tick = self.now_tick(now);
        let mut fired = 0;
        for shard in self.shards.iter() {
            if shard.0.next_tick.load(SeqCst) <= now_tick {
                fired += self.fire_shard(&shard.0, now_tick);
            }
        }
        fired
    }

    /// The runtime is gone: from now on, arming or polling one of these
    /// timers panics with an explanation, rather than wait for a deadline
    /// nobody will fire. (The runtime dropped its tasks, and their timers
    /// with them, before this.)
    pub fn shutdown(&self) {
        self.shut_down.store(true, SeqCst);
    }

    /// Panics if the runtime of these timers is gone (see `shutdown`).
    pub(crate) fn assert_running(&self) {
        if self.shut_down.load(SeqCst) {
            panic!(
                "a timer of an smp_rt runtime that has been shut down (dropped) was used: \
                 nothing fires its timers any more. Keep the Runtime alive for as long as its \
                 timers (sleep, timeout, interval) are in use."
            );
        }
    }

    /// Timers armed now.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.0.len.load(Relaxed))
            .sum()
    }

    /// `true` if no timer is armed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Advances one shard to `now_tick`, firing what is due.
    fn fire_shard(&self, shard: &Shard, now_tick: u64) -> usize {
        let mut wakers = WakeList::new();
        let mut fired = 0;
        let mut wheel = lock(shard);
        loop {
            let mut done = false;
            let mut moves = 0;
            'batch: loop {
                let Some(expiration) = wheel.next_expiration(now_tick) else {
                    wheel.set_elapsed(now_tick);
                    done = true;
                    break;
                };
                wheel.enter_slot(expiration);
                loop {
                    if wakers.is_full() || moves == MOVES_PER_LOCK {
                        break 'batch;
                    }
                    moves += 1;
                    // SAFETY: we hold the shard's mutex.
                    let Some(ptr) = (unsafe { wheel.pop(expiration.slot) }) else {
                        break;
                    };
                    // SAFETY: the node was linked into this wheel until now,
                    // so it is alive: its owner unlinks it, under the mutex
                    // we hold, before dropping it, or sees `FIRED` first.
                    let node = unsafe { ptr.as_ref() };
                    // Fire what is due at the slot's first tick; move the
                    // rest down to lower levels, so that the wheel fires
                    // timers in the order of their ticks.
                    let elapsed = wheel.elapsed();
                    let tick = {
                        // SAFETY: we hold the mutex; no other links borrowed.
                        let links = unsafe { &mut *node.links.get() };
                        let tick = links.tick();
                        if tick <= elapsed {
                            if let Some(waker) = links.waker.take() {
                                wakers.push(waker);
                            }
                        }
                        tick
                    };
                    if tick <= elapsed {
                        // The last access to the node (see `entry`).
                        node.state.store(FIRED, Release);
                        fired += 1;
                    } else {
                        // SAFETY: we hold the mutex; the node is live (above)
                        // and unlinked; `tick > elapsed`.
                        unsafe { wheel.insert(ptr, tick) };
                    }
                }
            }
            publish(shard, &wheel);
            drop(wheel);
            wakers.wake_all();
            if done {
                return fired;
            }
            wheel = lock(shard);
        }
    }

    /// Arms `node` for `deadline` with `waker`, in this thread's shard.
    ///
    /// Returns the shard, or `None` if the wheel has already passed the
    /// deadline (the node is then `FIRED`).
    ///
    /// # Safety
    ///
    /// `node` is `UNREGISTERED`, and is cancelled with
    /// [`cancel`](Timers::cancel) before its memory is invalidated.
    pub(crate) unsafe fn arm(
        &self,
        node: Pin<&Node>,
        deadline: Instant,
        waker: Waker,
    ) -> Option<u32> {
        let tick = self.tick_for(deadline);
        let index = shard_hint() & (self.shards.len() - 1);
        let shard = &self.shards[index].0;
        let mut wheel = lock(shard);
        if tick <= wheel.elapsed() {
            node.state.store(FIRED, Relaxed);
            drop(wheel);
            drop(waker);
            return None;
        }
        let ptr = NonNull::from(node.get_ref());
        // SAFETY: we hold the mutex; the node is not in any wheel.
        unsafe { (*node.links.get()).waker = Some(waker) };
        // SAFETY: we hold the mutex; the node is pinned and unlinked, and
        // the caller cancels it before it goes; `elapsed < tick <= MAX_TICK`.
        unsafe { wheel.insert(ptr, tick) };
        node.state.store(ARMED, Relaxed);
        publish(shard, &wheel);
        drop(wheel);
        self.unpark_if_earlier(tick);
        Some(index as u32)
    }

    /// Ready if the armed `node` has fired; otherwise makes sure it will
    /// wake `waker`.
    ///
    /// # Safety
    ///
    /// `node` was armed in shard `shard` of these timers.
    pub(crate) unsafe fn poll_armed(&self, shard: u32, node: &Node, waker: &Waker) -> Poll<()> {
        let shard = &self.shards[shard as usize].0;
        let wheel = lock(shard);
        if node.state.load(Relaxed) != ARMED {
            return Poll::Ready(());
        }
        // SAFETY: we hold the mutex of the shard the node is armed in.
        let current = unsafe { &*node.links.get() };
        if current.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
            return Poll::Pending;
        }
        // Clone the new waker (foreign code) without the mutex held.
        drop(wheel);
        let waker = waker.clone();
        let wheel = lock(shard);
        if node.state.load(Relaxed) != ARMED {
            drop(wheel);
            return Poll::Ready(());
        }
        // SAFETY: as above.
        let old = unsafe { (*node.links.get()).waker.replace(waker) };
        drop(wheel);
        drop(old);
        Poll::Pending
    }

    /// Moves the armed `node` to `deadline`, keeping its waker. If the wheel
    /// has already passed `deadline`, the node fires at once.
    ///
    /// # Safety
    ///
    /// As for [`arm`](Timers::arm), and `node` was armed in shard `shard`.
    pub(crate) unsafe fn rearm(&self, shard: u32, node: Pin<&Node>, deadline: Instant) {
        let tick = self.tick_for(deadline);
        let shard = &self.shards[shard as usize].0;
        let mut wheel = lock(shard);
        if node.state.load(Relaxed) != ARMED {
            // Fired meanwhile (its task has been woken): the next poll
            // checks the new deadline.
            node.state.store(UNREGISTERED, Relaxed);
            return;
        }
        let ptr = NonNull::from(node.get_ref());
        // SAFETY: we hold the mutex; the node is armed in this wheel.
        unsafe { wheel.remove(ptr) };
        if tick <= wheel.elapsed() {
            // SAFETY: we hold the mutex.
            let waker = unsafe { (*node.links.get()).waker.take() };
            node.state.store(FIRED, Release);
            publish(shard, &wheel);
            drop(wheel);
            if let Some(waker) = waker {
                wake_caught(waker);
            }
            return;
        }
        // SAFETY: as in `arm`.
        unsafe { wheel.insert(ptr, tick) };
        publish(shard, &wheel);
        drop(wheel);
        self.unpark_if_earlier(tick);
    }

    /// Unlinks `node` if it is still armed.
    ///
    /// # Safety
    ///
    /// `node` was armed in shard `shard` of these timers.
    pub(crate) unsafe fn cancel(&self, shard: u32, node: &Node) {
        let shard = &self.shards[shard as usize].0;
        let mut wheel = lock(shard);
        if node.state.load(Relaxed) != ARMED {
            return;
        }
        // SAFETY: we hold the mutex; the node is armed in this wheel.
        let waker = unsafe {
            wheel.remove(NonNull::from(node));
            (*node.links.get()).waker.take()
        };
        node.state.store(UNREGISTERED, Relaxed);
        publish(shard, &wheel);
        drop(wheel);
        drop(waker);
    }

    /// Unparks the driver if `tick` is earlier than what it may sleep
    /// towards (module docs).
    fn unpark_if_earlier(&self, tick: u64) {
        let wake_tick = &self.wake_tick.0;
        if tick < wake_tick.load(SeqCst) && tick < wake_tick.fetch_min(tick, SeqCst) {
            let unpark = self
                .unpark
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone();
            if let Some(unpark) = unpark {
                unpark();
            }
        }
    }

    /// The tick of `deadline`, rounded up.
    fn tick_for(&self, deadline: Instant) -> u64 {
        let since = deadline.saturating_duration_since(self.origin);
        let ticks = since
            .as_secs()
            .saturating_mul(1_000_000_000 / TICK_NANOS)
            .saturating_add(u64::from(since.subsec_nanos()).div_ceil(TICK_NANOS));
        ticks.min(MAX_TICK)
    }

    /// The tick of `now`, rounded down.
    fn now_tick(&self, now: Instant) -> u64 {
        let since = now.saturating_duration_since(self.origin);
        let ticks = since
            .as_secs()
            .saturating_mul(1_000_000_000 / TICK_NANOS)
            .saturating_add(u64::from(since.subsec_nanos()) / TICK_NANOS);
        ticks.min(MAX_TICK)
    }

    /// The instant `tick` starts at; `None` for "never".
    fn instant_of(&self, tick: u64) -> Option<Instant> {
        if tick == u64::MAX {
            return None;
        }
        self.origin
            .checked_add(Duration::from_nanos(tick.saturating_mul(TICK_NANOS)))
    }
}

/// Locks a shard's wheel.
///
/// No code outside this crate runs with the mutex held (wakers are cloned,
/// woken and dropped after it is released), so a poisoned mutex can only
/// come from a bug here that panicked between two consistent states; the
/// wheel is used as is.
fn lock(shard: &Shard) -> MutexGuard<'_, Wheel> {
    shard.wheel.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Publishes a shard's `len` and `next_tick` after a change (module docs).
fn publish(shard: &Shard, wheel: &Wheel) {
    shard.len.store(wheel.len(), Relaxed);
    let next = wheel.next_tick();
    // Only the holder of the mutex stores, so this load sees the last store.
    if shard.next_tick.load(Relaxed) != next {
        shard.next_tick.store(next, SeqCst);
    }
}

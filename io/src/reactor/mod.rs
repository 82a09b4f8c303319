//! The reactor: one OS poller per runtime and the sources it watches.
//!
//! The poller is epoll, driven directly, on Linux (`epoll.rs`: it reports a
//! stream's end with the data before it, in one system call per wait), and
//! `polling` elsewhere (`portable.rs`).
//!
//! # Sources and keys
//!
//! Every registered file descriptor is a [`Source`], kept in the reactor's
//! [`Registry`] (a vector with a free list) under the index that is also its
//! event key. An event's key leads back to its source in O(1).
//! Keys are reused after deregistration: an event collected for the old
//! source and dispatched after the key was reused can only make the new
//! source look ready once, a spurious readiness the protocol below tolerates
//! (the operation returns `WouldBlock` and the flag is cleared). If that
//! event reported the old stream's end, the new source also gets the sticky
//! read-closed bit: its short reads then keep the readiness and cost one
//! more read each (as with a poller that cannot report the end), nothing
//! worse.
//!
//! # Readiness
//!
//! Each source has two directions, read and write. Per source:
//!
//! * `readiness` (an atomic) holds one *ready* bit per direction and one
//!   tick counter per direction that the reactor bumps on every event it
//!   delivers for that direction (plus the closed, error and unconfirmed
//!   bits below, and the priority bit, set by an `EPOLLPRI` event, which
//!   rides on the read direction: that event is a read event too, a
//!   priority wait waits with the readers, and clearing the bit compares the
//!   read tick);
//! * `state` (a mutex) holds the wakers waiting in each direction, which
//!   directions are armed in the poller, and whether the source is closed.
//!
//! A source starts ready in both directions: the first operation is simply
//! tried. An IO operation goes:
//!
//! 1. [`Source::poll_ready`]: if the direction's ready bit is set, return the
//!    tick seen with it; otherwise register the task's waker and return
//!    `Pending`;
//! 2. try the non-blocking operation;
//! 3. on `WouldBlock`, [`Source::clear_ready`] clears the ready bit *only if
//!    the direction's tick is still the one seen in step 1*: an event that
//!    arrived for that direction while
//!    the operation ran bumped the tick, so it is not lost and the operation
//!    is retried; then back to step 1.
//!
//! A read that returns less than asked for on a stream (`PollEvented::
//! poll_read_stream`) also clears the read bit, the same way: the receive
//! buffer is empty, so the next read would return `WouldBlock`. That is
//! safe only because the bit is *not* cleared once `readiness` has the
//! sticky *read-closed* bit, set by an event that reports the peer's end of
//! the stream (`EPOLLRDHUP`): data and the end of the stream may arrive
//! with one edge, and after a short read of the data no further edge would
//! come for the end. Pollers that cannot report it
//! ([`os::Poller::REPORTS_READ_CLOSED`]) do not get this shortcut.
//!
//! Readiness that arrives while nobody waits is therefore kept (the bit stays
//! set until an operation proves it stale), and no wake-up is lost between an
//! operation failing and its task registering: the reactor sets the bits
//! under the state lock, and step 1 re-checks them under the same lock
//! before it registers.
//!
//! # Optimism and the readiness API
//!
//! The ready bits a source starts with are a guess, marked *unconfirmed*
//! until an event for the direction arrives. IO operations
//! ([`Source::poll_ready`], and [`Source::try_ready`] for the `try_*`
//! calls) count them: the first operation is tried at once. tokio's
//! readiness API ([`Source::poll_ready_interest`]: `ready`, `readable`,
//! `poll_read_ready`, `AsyncFd`) does not: it reports only what an event
//! confirmed, so a new socket with nothing to read is not readable.
//! Registration makes epoll report the descriptor's current state, so a
//! direction that is ready is confirmed one reactor turn later.
//! `docs/DESIGN.md` ("IO readiness") has the whole rule.
//!
//! # Interest
//!
//! Sources are registered once, for both directions, in edge-triggered
//! mode (`EPOLLET`): the kernel reports each change to ready (new data, new
//! buffer space, a connection, a hang-up), whether or not a task waits, and
//! no system call is needed to wait again. The ready bits and the tick turn
//! those edges into the level the protocol above needs: an edge that
//! arrives while nobody waits stays in the ready bit, and an edge during a
//! failing operation moves the tick, so the operation is retried rather than
//! the bit cleared.
//!
//! (Oneshot registration, the other choice, costs an `epoll_ctl` every time
//! a task waits: as many system calls again as the reads and writes.)
//!
//! # Closing
//!
//! The owner of a source deregisters it ([`Source::deregister`]:
//! `Poller::delete`, removal from the registry, wake every waiter) before it
//! closes the descriptor. Deregistration marks the source closed under its
//! lock, and nothing calls `modify` on a closed source, so the reactor never
//! touches a descriptor number that may have been closed and reused.
//!
//! When the reactor itself goes away (the runtime shut down) while sources
//! still exist, [`Reactor::shutdown`] marks every source shut down and wakes
//! its waiters; from then on waiting on it is an error instead of a hang.

use smp_rt_executor::driver::wake_caught;
use std::fmt;
use std::io;
use std::os::fd::{BorrowedFd, RawFd};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::io::{Interest, Ready};

#[cfg(all(
    any(target_os = "linux", target_os = "android"),
    not(smp_rt_portable_poller)
))]
#[path = "epoll.rs"]
mod os;
#[cfg(not(all(
    any(target_os = "linux", target_os = "android"),
    not(smp_rt_portable_poller)
)))]
#[path = "portable.rs"]
mod os;

/// Whether short stream reads may clear the read readiness (see the
/// module docs): only with a poller that reports the end of a stream.
pub(crate) const SHORT_READS_DRAIN: bool = os::Poller::REPORTS_READ_CLOSED;

/// Whether the poller reports priority (out-of-band) data, so that
/// `Interest::PRIORITY` can be waited for: epoll's `EPOLLPRI`.
pub(crate) const REPORTS_PRIORITY: bool = os::Poller::REPORTS_PRIORITY;

/// One event of the OS poller, for the source registered under `key`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollEvent {
    key: usize,
    readable: bool,
    writable: bool,
    /// The peer shut down its side: reads reach the end of the stream.
    read_closed: bool,
    /// Writing can make no progress any more (hang-up, or an error on a
    /// writable socket).
    write_closed: bool,
    /// An error is pending on the descriptor.
    error: bool,
    /// Priority (out-of-band) data is pending (`EPOLLPRI`); such an event
    /// also reports the read direction.
    priority: bool,
}

/// One of the two directions of a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Readable (or, for a listener, an incoming connection).
    Read = 0,
    /// Writable (or, for a connecting socket, connected).
    Write = 1,
}

impl Direction {
    /// The direction's ready bit in `Source::readiness`.
    const fn bit(self) -> u64 {
        1 << (self as u64)
    }

    /// The index of the direction in per-direction arrays.
    const fn index(self) -> usize {
        self as usize
    }

    /// `[read, write]` with only this direction set.
    const fn only(self) -> [bool; 2] {
        match self {
            Direction::Read => [true, false],
            Direction::Write => [false, true],
        }
    }

    /// The direction's *unconfirmed* bit in `Source::readiness`: its ready
    /// bit was set at registration, not by an event.
    const fn unconfirmed(self) -> u64 {
        UNCONFIRMED_READ << (self as u64)
    }
}

/// Both ready bits of `Source::readiness`.
const READY_MASK: u64 = 0b11;
/// Sticky bit of `Source::readiness`: the reading side reached its end.
const READ_CLOSED: u64 = 0b100;
/// Sticky bit of `Source::readiness`: the writing side can make no progress.
const WRITE_CLOSED: u64 = 0b1000;
/// Bit of `Source::readiness`: the poller reported an error condition.
const ERROR: u64 = 0b1_0000;
/// Bit of `Source::readiness`: the read bit is the registration's guess,
/// not yet confirmed by an event (see "Optimism and the readiness API").
const UNCONFIRMED_READ: u64 = 0b10_0000;
/// As [`UNCONFIRMED_READ`], for the write bit.
const UNCONFIRMED_WRITE: u64 = 0b100_0000;
/// Bit of `Source::readiness`: the poller reported priority data. It rides
/// on the read direction: the events that set it move the read tick and
/// wake the readers, and clearing it checks the read tick.
const PRIORITY: u64 = 0b1000_0000;
/// The bits below the tick.
const FLAGS_MASK: u64 = READY_MASK
    | READ_CLOSED
    | WRITE_CLOSED
    | ERROR
    | UNCONFIRMED_READ
    | UNCONFIRMED_WRITE
    | PRIORITY;
/// Where the read direction's tick counter starts, above the flags.
const READ_TICK_SHIFT: u32 = 8;
/// Where the write direction's tick counter starts, above the read tick.
const WRITE_TICK_SHIFT: u32 = READ_TICK_SHIFT + TICK_BITS;
/// The width of each direction's tick counter (it wraps around: an
/// operation would have to span 2^28 events of its direction to be fooled).
const TICK_BITS: u32 = 28;
/// A new source's readiness: both directions ready, neither confirmed.
const REGISTERED: u64 = READY_MASK | UNCONFIRMED_READ | UNCONFIRMED_WRITE;

/// What the readiness API may report from a readiness word: `confirmed`
/// leaves out ready bits that no event has set yet (tokio's view); without
/// it, they count (the view of an operation about to be tried anyway).
fn ready_of(readiness: u64, confirmed: bool) -> Ready {
    let mut ready = Ready::EMPTY;
    let unconfirmed = if confirmed { readiness } else { 0 };
    if readiness & Direction::Read.bit() != 0 && unconfirmed & UNCONFIRMED_READ == 0 {
        ready |= Ready::READABLE;
    }
    if readiness & Direction::Write.bit() != 0 && unconfirmed & UNCONFIRMED_WRITE == 0 {
        ready |= Ready::WRITABLE;
    }
    if readiness & READ_CLOSED != 0 {
        ready |= Ready::READ_CLOSED;
    }
    if readiness & WRITE_CLOSED != 0 {
        ready |= Ready::WRITE_CLOSED;
    }
    if readiness & ERROR != 0 {
        ready |= Ready::ERROR;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if readiness & PRIORITY != 0 {
        ready |= Ready::PRIORITY;
    }
    ready
}

/// The bits of `Source::readiness` that clearing `ready` clears: the ready
/// bits (with their unconfirmed marks) and the error bit; the closed bits
/// are sticky.
fn clear_mask(ready: Ready) -> u64 {
    let mut mask = 0;
    if ready.is_readable() {
        mask |= Direction::Read.bit() | UNCONFIRMED_READ;
    }
    if ready.is_writable() {
        mask |= Direction::Write.bit() | UNCONFIRMED_WRITE;
    }
    if ready.is_error() {
        mask |= ERROR;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if ready.is_priority() {
        mask |= PRIORITY;
    }
    mask
}

/// What the readiness API saw: the readiness that answers an interest, and
/// the tick it was seen with (for clearing it again).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReadyEvent {
    /// The readiness seen, within the interest asked for.
    pub(crate) ready: Ready,
    /// The tick seen with it.
    pub(crate) tick: Tick,
}

/// The ticks a readiness check observed; see [`Source::clear_ready`].
///
/// Each direction has its own tick, moved by the events that report that
/// direction only: a write event during a read does not keep the read
/// readiness a `WouldBlock` proved stale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Tick(u64);

impl Tick {
    fn of(readiness: u64) -> Tick {
        Tick(readiness & !FLAGS_MASK)
    }

    /// `dir`'s tick.
    fn of_dir(self, dir: Direction) -> u64 {
        let shift = match dir {
            Direction::Read => READ_TICK_SHIFT,
            Direction::Write => WRITE_TICK_SHIFT,
        };
        (self.0 >> shift) & ((1 << TICK_BITS) - 1)
    }

    /// Whether no event of a direction in `dirs` came between `self` and
    /// `now`.
    fn same_for(self, now: Tick, dirs: [bool; 2]) -> bool {
        [Direction::Read, Direction::Write]
            .into_iter()
            .zip(dirs)
            .all(|(dir, check)| !check || self.of_dir(dir) == now.of_dir(dir))
    }

    /// These ticks with those of the directions in `dirs` moved one step.
    fn bumped(self, dirs: [bool; 2]) -> u64 {
        let mut ticks = self.0;
        for (shift, bump) in [READ_TICK_SHIFT, WRITE_TICK_SHIFT].into_iter().zip(dirs) {
            if bump {
                let field = ((1u64 << TICK_BITS) - 1) << shift;
                ticks = (ticks & !field) | (ticks.wrapping_add(1 << shift) & field);
            }
        }
        ticks
    }
}

/// Whether `interest` asks for priority data (only Linux and Android name
/// it).
pub(crate) fn is_priority(interest: Interest) -> bool {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        interest.is_priority()
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        let _ = interest;
        false
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding these locks leaves consistent data (every
    // critical section only assigns fields), so poisoning is ignored.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The IO reactor of one runtime: an OS poller and its sources.
///
/// The runtime creates one, attaches it to itself as an executor extension
/// and has its driver call [`wait`](Reactor::wait) when a worker is idle (or
/// every so often when all are busy). IO objects find it through the
/// current runtime's handle when they are created.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let reactor = smp_rt_io::Reactor::new().unwrap();
/// reactor.notify().unwrap();
/// // The notification makes this wait return at once, with no IO event.
/// assert_eq!(reactor.wait(Some(Duration::from_secs(10))).unwrap(), 0);
/// ```
pub struct Reactor {
    /// Shared with every source registered here.
    inner: Arc<Inner>,
}

/// The part of the reactor its sources keep alive.
pub(crate) struct Inner {
    /// The OS poller (epoll on Linux).
    poller: os::Poller,
    /// Every registered source, by key.
    registry: Mutex<Registry>,
    /// `registry`'s number of sources, readable without its lock (a busy
    /// worker asks before every non-blocking poll). Written under the lock.
    registered: AtomicUsize,
    /// Buffers reused by `wait` (only one thread waits at a time).
    scratch: Mutex<Scratch>,
}

/// Buffers of [`Reactor::wait`].
struct Scratch {
    /// The events returned by the poller.
    events: os::Events,
    /// The sources of those events, looked up under the registry lock.
    ready: Vec<(Arc<Source>, PollEvent)>,
    /// The wakers to call once no lock is held.
    wakers: Vec<Waker>,
}

/// The registered sources, indexed by their key.
#[derive(Default)]
struct Registry {
    /// `slots[key]` is the source registered under `key`, if any.
    slots: Vec<Option<Arc<Source>>>,
    /// Keys of empty slots.
    free: Vec<usize>,
    /// Set by [`Reactor::shutdown`]: no more registrations.
    shutdown: bool,
}

impl Registry {
    fn vacant_key(&mut self) -> usize {
        match self.free.pop() {
            Some(key) => key,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        }
    }

    fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

impl Reactor {
    /// A reactor with no sources.
    ///
    /// # Errors
    ///
    /// The OS error if the poller cannot be created, and
    /// [`Unsupported`](io::ErrorKind::Unsupported) on a platform whose
    /// poller has no edge-triggered mode (epoll and kqueue have one).
    pub fn new() -> io::Result<Reactor> {
        Reactor::with_events_per_wait(DEFAULT_EVENTS_PER_WAIT)
    }

    /// A reactor with no sources whose every wait collects at most
    /// `capacity` events (default [`DEFAULT_EVENTS_PER_WAIT`]); sources
    /// ready beyond that are collected by the next wait. A smaller batch
    /// wakes fewer tasks at once, a larger one costs fewer system calls
    /// under load.
    ///
    /// # Errors
    ///
    /// [`InvalidInput`](io::ErrorKind::InvalidInput) if `capacity` is 0,
    /// else those of [`new`](Reactor::new).
    pub fn with_events_per_wait(capacity: usize) -> io::Result<Reactor> {
        if capacity == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a reactor must collect at least 1 event per wait (events per wait is 0)",
            ));
        }
        let poller = os::Poller::new()?;
        Ok(Reactor {
            inner: Arc::new(Inner {
                poller,
                registry: Mutex::new(Registry::default()),
                registered: AtomicUsize::new(0),
                scratch: Mutex::new(Scratch {
                    events: os::Events::with_capacity(capacity),
                    ready: Vec::new(),
                    wakers: Vec::new(),
                }),
            }),
        })
    }

    /// Waits for IO events (up to `timeout`, `None` for no limit,
    /// `Some(Duration::ZERO)` to only collect what is ready) and wakes the
    /// tasks waiting on them. Returns the number of events.
    ///
    /// A timed wait may end early with no event: a long one (10 ms or
    /// more) by up to a millisecond (epoll's timeout is whole
    /// milliseconds, rounded down), any of them on a signal. A caller
    /// with a deadline reads the clock after the wait, not the timeout.
    ///
    /// Meant to be called by one thread at a time (the runtime's driver);
    /// other threads register, deregister and poll sources meanwhile.
    ///
    /// # Errors
    ///
    /// The OS error of the poller.
    pub fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        self.inner.wait(timeout)
    }

    /// Makes a concurrent or the next [`wait`](Reactor::wait) return at once.
    ///
    /// # Errors
    ///
    /// The OS error of the poller's notification mechanism.
    pub fn notify(&self) -> io::Result<()> {
        self.inner.poller.notify()
    }

    /// Number of sources registered now.
    pub fn num_sources(&self) -> usize {
        // Relaxed: a hint for whether a non-blocking poll is worth a
        // syscall; a source registered a moment ago is polled next time.
        self.inner.registered.load(Relaxed)
    }

    /// Stops serving IO: every task waiting on a source of this reactor is
    /// woken, and from then on waiting on such a source fails with an error
    /// (the sources themselves stay valid until their owners drop them), as
    /// does registering a new one.
    ///
    /// Called when the reactor is dropped; a runtime may call it earlier,
    /// when it shuts down, so that IO objects that outlive it fail at once
    /// instead of waiting for events nobody will deliver.
    pub fn shutdown(&self) {
        let sources: Vec<Arc<Source>> = {
            let mut registry = lock(&self.inner.registry);
            registry.shutdown = true;
            registry.free.clear();
            self.inner.registered.store(0, Relaxed);
            registry.slots.drain(..).flatten().collect()
        };
        let mut wakers = Vec::new();
        for source in sources {
            let mut state = lock(&source.state);
            state.shutdown = true;
            for waiters in &mut state.waiters {
                wakers.append(waiters);
            }
        }
        wakers.into_iter().for_each(wake_caught);
    }

    /// The state shared with this reactor's sources.
    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("sources", &self.num_sources())
            .finish_non_exhaustive()
    }
}

impl Inner {
    fn wait(&self, timeout: Option<Duration>) -> io::Result<usize> {
        let mut scratch = lock(&self.scratch);
        let Scratch {
            events,
            ready,
            wakers,
        } = &mut *scratch;
        events.clear();
        self.poller.wait(events, timeout)?;
        let mut sources = events.iter().peekable();
        if sources.peek().is_none() {
            return Ok(0);
        }
        let mut n = 0;
        {
            let registry = lock(&self.registry);
            for event in sources {
                n += 1;
                if let Some(Some(source)) = registry.slots.get(event.key) {
                    ready.push((source.clone(), event));
                }
            }
        }
        for (source, event) in ready.drain(..) {
            source.dispatch(event, wakers);
        }
        wakers.drain(..).for_each(wake_caught);
        Ok(n)
    }

    /// Registers `fd`, for both directions, edge-triggered.
    ///
    /// # Safety
    ///
    /// `fd` must stay open until [`Source::deregister`] has been called on
    /// the returned source.
    pub(crate) unsafe fn register(self: &Arc<Inner>, fd: RawFd) -> io::Result<Arc<Source>> {
        let mut registry = lock(&self.registry);
        if registry.shutdown {
            return Err(shut_down_error());
        }
        let key = registry.vacant_key();
        // SAFETY: the caller keeps `fd` open until the source is
        // deregistered, and deregistration deletes it from the poller first.
        let added = unsafe { self.poller.add(fd, key) };
        if let Err(err) = added {
            registry.free.push(key);
            return Err(err);
        }
        let source = Arc::new(Source {
            key,
            fd,
            reactor: Arc::clone(self),
            readiness: AtomicU64::new(REGISTERED),
            state: Mutex::new(SourceState::default()),
        });
        registry.slots[key] = Some(source.clone());
        self.registered.store(registry.len(), Relaxed);
        Ok(source)
    }
}

/// How many events one wait of a [`Reactor::new`] collects, at most.
pub const DEFAULT_EVENTS_PER_WAIT: usize = 1024;

/// The error of waiting on a source whose reactor has shut down: kind
/// `Other`, carrying a [`RuntimeShutDown`] that
/// [`is_shut_down_error`] recognises.
pub(crate) fn shut_down_error() -> io::Error {
    io::Error::other(RuntimeShutDown)
}

/// The payload of the error an IO object returns once the runtime it was
/// registered with has shut down.
#[derive(Debug)]
struct RuntimeShutDown;

impl std::fmt::Display for RuntimeShutDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(
            "the smp_rt runtime this IO object was registered with has shut down; \
             create IO objects inside the runtime that will drive them",
        )
    }
}

impl std::error::Error for RuntimeShutDown {}

/// `true` if `err` is the error an IO object returns once the runtime it
/// was registered with has shut down (its reactor is gone), `false` for
/// any other error, including the same message built by hand.
pub fn is_shut_down_error(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::Other
        && err
            .get_ref()
            .is_some_and(|inner| inner.is::<RuntimeShutDown>())
}

fn closed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the IO object was deregistered from its reactor",
    )
}

/// A descriptor registered with a reactor.
pub(crate) struct Source {
    /// The poller's key, also the index in the registry.
    key: usize,
    /// The descriptor, open until `deregister` returns (see `register`).
    fd: RawFd,
    /// The reactor this source is registered with.
    reactor: Arc<Inner>,
    /// Ready bits (see [`Direction::bit`]) and the tick above them.
    readiness: AtomicU64,
    /// Waiters and interest.
    state: Mutex<SourceState>,
}

/// The lock-protected part of a [`Source`].
#[derive(Default)]
struct SourceState {
    /// Wakers waiting for each direction (distinct tasks; see `poll_ready`).
    waiters: [Vec<Waker>; 2],
    /// Deregistered: the descriptor may be closed at any moment.
    closed: bool,
    /// The reactor shut down.
    shutdown: bool,
}

impl Source {
    /// The reactor this source is registered with.
    pub(crate) fn reactor(&self) -> &Arc<Inner> {
        &self.reactor
    }

    /// The current tick, whether or not the direction is ready.
    #[cfg(test)]
    pub(crate) fn tick(&self) -> Tick {
        Tick::of(self.readiness.load(Ordering::Acquire))
    }

    /// Returns the tick if `dir` is ready; otherwise registers the task.
    ///
    /// Several tasks may wait on one direction at once (each keeps its own
    /// waker; one task polling repeatedly keeps one). A task that stops
    /// waiting leaves its waker until the next event, which wakes it once.
    pub(crate) fn poll_ready(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Tick>> {
        let readiness = self.readiness.load(Ordering::Acquire);
        if readiness & dir.bit() != 0 {
            return Poll::Ready(Ok(Tick::of(readiness)));
        }
        let mut state = lock(&self.state);
        if state.shutdown {
            return Poll::Ready(Err(shut_down_error()));
        }
        if state.closed {
            return Poll::Ready(Err(closed_error()));
        }
        // The reactor sets ready bits under this lock: checking again here
        // means an event is either seen now or wakes the waker added below.
        let readiness = self.readiness.load(Ordering::Acquire);
        if readiness & dir.bit() != 0 {
            return Poll::Ready(Ok(Tick::of(readiness)));
        }
        let waiters = &mut state.waiters[dir.index()];
        match waiters.iter_mut().find(|w| w.will_wake(cx.waker())) {
            Some(waker) => waker.clone_from(cx.waker()),
            None => waiters.push(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// The readiness API's wait: returns what answers `interest` once an
    /// event has confirmed it (see "Optimism and the readiness API");
    /// otherwise registers the task with each direction `interest` covers
    /// (errors are reported to both, so an error interest waits with the
    /// readers).
    pub(crate) fn poll_ready_interest(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        let seen = |readiness: u64| {
            let ready = ready_of(readiness, true).intersection(interest);
            (!ready.is_empty()).then_some(ReadyEvent {
                ready,
                tick: Tick::of(readiness),
            })
        };
        if let Some(event) = seen(self.readiness.load(Ordering::Acquire)) {
            return Poll::Ready(Ok(event));
        }
        let mut state = lock(&self.state);
        if state.shutdown {
            return Poll::Ready(Err(shut_down_error()));
        }
        if state.closed {
            return Poll::Ready(Err(closed_error()));
        }
        // As in `poll_ready`: the reactor sets bits under this lock.
        if let Some(event) = seen(self.readiness.load(Ordering::Acquire)) {
            return Poll::Ready(Ok(event));
        }
        let mut dirs = [None, None];
        if interest.is_readable() || interest.is_error() || is_priority(interest) {
            dirs[0] = Some(Direction::Read);
        }
        if interest.is_writable() {
            dirs[1] = Some(Direction::Write);
        }
        for dir in dirs.into_iter().flatten() {
            let waiters = &mut state.waiters[dir.index()];
            match waiters.iter_mut().find(|w| w.will_wake(cx.waker())) {
                Some(waker) => waker.clone_from(cx.waker()),
                None => waiters.push(cx.waker().clone()),
            }
        }
        Poll::Pending
    }

    /// What answers `interest` for an operation tried without waiting: the
    /// registration's unconfirmed guess counts (the operation itself
    /// checks), a cleared direction does not (it is known to block).
    pub(crate) fn try_ready(&self, interest: Interest) -> ReadyEvent {
        let readiness = self.readiness.load(Ordering::Acquire);
        ReadyEvent {
            ready: ready_of(readiness, false).intersection(interest),
            tick: Tick::of(readiness),
        }
    }

    /// Clears the readiness in `event` (its ready directions and error;
    /// the closed bits stay) if no event arrived since it was seen.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let mask = clear_mask(event.ready);
        // AcqRel/Acquire: as `clear_ready`, the tick comparison against the
        // reactor's `dispatch` decides whether an event came in between.
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |readiness| {
                let dirs = [
                    mask & (Direction::Read.bit() | ERROR | PRIORITY) != 0,
                    mask & (Direction::Write.bit() | ERROR) != 0,
                ];
                event
                    .tick
                    .same_for(Tick::of(readiness), dirs)
                    .then_some(readiness & !mask)
            });
    }

    /// Clears `dir`'s ready bit if no event arrived since `tick` was seen.
    pub(crate) fn clear_ready(&self, dir: Direction, tick: Tick) {
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |readiness| {
                tick.same_for(Tick::of(readiness), dir.only())
                    .then_some(readiness & !(dir.bit() | dir.unconfirmed()))
            });
    }

    /// Clears `dir`'s ready bit after an operation that drained it (a short
    /// stream read or write) if no event arrived since `tick` was seen and
    /// the direction has not reached its end: a read-closed stream never
    /// blocks a read again, and the end may have come with the data read.
    pub(crate) fn clear_drained(&self, dir: Direction, tick: Tick) {
        let _ = self
            .readiness
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |readiness| {
                let closed = dir == Direction::Read && readiness & READ_CLOSED != 0;
                (tick.same_for(Tick::of(readiness), dir.only()) && !closed)
                    .then_some(readiness & !(dir.bit() | dir.unconfirmed()))
            });
    }

    /// Delivers one event: sets the ready bits and collects the wakers.
    fn dispatch(&self, event: PollEvent, wakers: &mut Vec<Waker>) {
        let mut state = lock(&self.state);
        if state.closed {
            return;
        }
        let mut bits = 0;
        // An event confirms the directions it reports.
        let mut confirmed = 0;
        if event.readable {
            bits |= Direction::Read.bit();
            confirmed |= UNCONFIRMED_READ;
            wakers.append(&mut state.waiters[Direction::Read.index()]);
        }
        if event.writable {
            bits |= Direction::Write.bit();
            confirmed |= UNCONFIRMED_WRITE;
            wakers.append(&mut state.waiters[Direction::Write.index()]);
        }
        if event.read_closed {
            bits |= READ_CLOSED;
        }
        if event.write_closed {
            bits |= WRITE_CLOSED;
        }
        if event.error {
            bits |= ERROR;
        }
        if event.priority {
            bits |= PRIORITY;
        }
        if bits != 0 {
            let _ = self
                .readiness
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |readiness| {
                    let ticks = Tick::of(readiness).bumped([event.readable, event.writable]);
                    Some(ticks | (readiness & FLAGS_MASK & !confirmed) | bits)
                });
        }
    }

    /// Removes the source from its reactor and wakes its waiters. Must be
    /// called before the descriptor is closed; later calls do nothing.
    pub(crate) fn deregister(&self) {
        let mut wakers = Vec::new();
        {
            let mut state = lock(&self.state);
            if state.closed {
                return;
            }
            state.closed = true;
            // SAFETY: the owner has not closed the descriptor yet (this is
            // the first `deregister`, which precedes the close).
            let fd = unsafe { BorrowedFd::borrow_raw(self.fd) };
            if let Err(err) = self.reactor.poller.delete(fd) {
                tracing::debug!(%err, "failed to remove an IO source from the poller");
            }
            for waiters in &mut state.waiters {
                wakers.append(waiters);
            }
        }
        {
            let mut registry = lock(&self.reactor.registry);
            if let Some(slot) = registry.slots.get_mut(self.key)
                && slot.as_ref().is_some_and(|s| std::ptr::eq(&**s, self))
            {
                *slot = None;
                registry.free.push(self.key);
                self.reactor.registered.store(registry.len(), Relaxed);
            }
        }
        wakers.into_iter().for_each(wake_caught);
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("key", &self.key)
            .field("fd", &self.fd)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct CountWaker(AtomicUsize);

    impl Wake for CountWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn count_waker() -> (Arc<CountWaker>, Waker) {
        let count = Arc::new(CountWaker(AtomicUsize::new(0)));
        (count.clone(), Waker::from(count))
    }

    #[test]
    fn readiness_survives_until_an_operation_proves_it_stale() {
        let reactor = Reactor::new().unwrap();
        let (mut a, mut b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        // SAFETY: `b` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        let (count, waker) = count_waker();
        let mut cx = Context::from_waker(&waker);

        // Starts ready: the first read is simply tried.
        let tick = match source.poll_ready(Direction::Read, &mut cx) {
            Poll::Ready(Ok(tick)) => tick,
            other => panic!("expected ready, got {other:?}"),
        };
        let mut buf = [0; 8];
        assert_eq!(
            b.read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        source.clear_ready(Direction::Read, tick);
        assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());

        a.write_all(b"x").unwrap();
        reactor.wait(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);

        // The event is remembered even though nobody polls right now, and a
        // clear with the tick from before the event does not erase it.
        source.clear_ready(Direction::Read, tick);
        assert!(matches!(
            source.poll_ready(Direction::Read, &mut cx),
            Poll::Ready(Ok(_))
        ));
        source.deregister();
        assert_eq!(reactor.num_sources(), 0);
    }

    #[test]
    fn a_wait_collects_at_most_the_events_per_wait() {
        let reactor = Reactor::with_events_per_wait(1).unwrap();
        let pairs: Vec<_> = (0..3).map(|_| UnixStream::pair().unwrap()).collect();
        let sources: Vec<_> = pairs
            .iter()
            // SAFETY: the streams outlive the sources (deregistered below).
            .map(|(a, _)| unsafe { reactor.inner().register(a.as_raw_fd()) }.unwrap())
            .collect();
        // Three writable sockets: one event per wait, the rest left ready
        // in the kernel for the next waits.
        let per_wait: Vec<usize> = (0..4)
            .map(|_| reactor.wait(Some(Duration::ZERO)).unwrap())
            .collect();
        assert_eq!(per_wait, [1, 1, 1, 0]);
        sources.iter().for_each(|source| source.deregister());

        let err = Reactor::with_events_per_wait(0).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn the_shut_down_error_is_recognised_and_a_lookalike_is_not() {
        let err = shut_down_error();
        assert!(is_shut_down_error(&err));
        assert!(!is_shut_down_error(&io::Error::other(err.to_string())));
        assert!(!is_shut_down_error(&io::ErrorKind::Other.into()));
    }

    #[test]
    fn num_sources_counts_registrations_until_deregistration_or_shutdown() {
        let reactor = Reactor::new().unwrap();
        let (a, b) = UnixStream::pair().unwrap();
        // SAFETY: both descriptors outlive the sources (deregistered or shut
        // down below, before the end of the test).
        let first = unsafe { reactor.inner().register(a.as_raw_fd()) }.unwrap();
        // SAFETY: as above.
        let _second = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        assert_eq!(reactor.num_sources(), 2);
        first.deregister();
        first.deregister();
        assert_eq!(reactor.num_sources(), 1);
        reactor.shutdown();
        assert_eq!(reactor.num_sources(), 0);
    }

    #[test]
    fn shutdown_wakes_waiters_and_fails_later_waits() {
        let reactor = Reactor::new().unwrap();
        let (_a, b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        // SAFETY: `b` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        let (count, waker) = count_waker();
        let mut cx = Context::from_waker(&waker);
        let tick = source.tick();
        source.clear_ready(Direction::Read, tick);
        assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());

        drop(reactor);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        match source.poll_ready(Direction::Read, &mut cx) {
            Poll::Ready(Err(err)) => assert!(err.to_string().contains("shut down"), "{err}"),
            other => panic!("expected an error, got {other:?}"),
        }
        source.deregister();
    }

    #[test]
    fn every_task_waiting_on_a_direction_is_woken() {
        let reactor = Reactor::new().unwrap();
        let (mut a, b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        // SAFETY: `b` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        source.clear_ready(Direction::Read, source.tick());
        let (first, first_waker) = count_waker();
        let (second, second_waker) = count_waker();
        for waker in [&first_waker, &second_waker, &first_waker] {
            let mut cx = Context::from_waker(waker);
            assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());
        }
        a.write_all(b"x").unwrap();
        reactor.wait(Some(Duration::from_secs(10))).unwrap();
        // Both tasks, each once (the repeated poll kept one waker).
        assert_eq!(first.0.load(Ordering::SeqCst), 1);
        assert_eq!(second.0.load(Ordering::SeqCst), 1);
        source.deregister();
    }

    #[test]
    fn a_direction_with_a_waiter_is_woken_after_the_other_fires() {
        let reactor = Reactor::new().unwrap();
        let (mut a, b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        // SAFETY: `b` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        // Fill `b`'s send buffer so that it is not writable.
        let mut filled = 0;
        loop {
            match (&b).write(&[0; 4096]) {
                Ok(n) => filled += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) => panic!("{err}"),
            }
        }
        source.clear_ready(Direction::Write, source.tick());
        source.clear_ready(Direction::Read, source.tick());
        let (reader, reader_waker) = count_waker();
        let (writer, writer_waker) = count_waker();
        let mut cx = Context::from_waker(&writer_waker);
        assert!(source.poll_ready(Direction::Write, &mut cx).is_pending());
        let mut cx = Context::from_waker(&reader_waker);
        assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());

        // A read event wakes the reader only; the writer, still waiting,
        // is woken by the later write edge.
        a.write_all(b"x").unwrap();
        reactor.wait(Some(Duration::from_secs(10))).unwrap();
        assert_eq!(reader.0.load(Ordering::SeqCst), 1);
        assert_eq!(writer.0.load(Ordering::SeqCst), 0);

        let mut sink = vec![0; filled];
        a.read_exact(&mut sink).unwrap();
        for _ in 0..30 {
            if writer.0.load(Ordering::SeqCst) > 0 {
                break;
            }
            reactor.wait(Some(Duration::from_secs(1))).unwrap();
        }
        assert_eq!(
            writer.0.load(Ordering::SeqCst),
            1,
            "the writer was never woken"
        );
        source.deregister();
    }

    #[test]
    fn a_drained_direction_is_cleared_unless_an_event_came_or_the_stream_ended() {
        let reactor = Reactor::new().unwrap();
        let (_a, b) = UnixStream::pair().unwrap();
        // SAFETY: `b` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let event = |read_closed| PollEvent {
            key: source.key,
            readable: true,
            writable: false,
            read_closed,
            write_closed: false,
            error: false,
            priority: false,
        };
        let ready_tick =
            |source: &Source, cx: &mut Context<'_>| match source.poll_ready(Direction::Read, cx) {
                Poll::Ready(Ok(tick)) => tick,
                other => panic!("expected ready, got {other:?}"),
            };

        // Drained with no event since: cleared.
        let tick = ready_tick(&source, &mut cx);
        source.clear_drained(Direction::Read, tick);
        assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());

        // An event between the check and the clear: kept.
        source.dispatch(event(false), &mut Vec::new());
        let tick = ready_tick(&source, &mut cx);
        source.dispatch(event(false), &mut Vec::new());
        source.clear_drained(Direction::Read, tick);
        let tick = ready_tick(&source, &mut cx);

        // Once the end was reported, kept for good, and the flag does not
        // disturb the tick: a `WouldBlock` still clears.
        source.dispatch(event(true), &mut Vec::new());
        let closed_tick = ready_tick(&source, &mut cx);
        assert_ne!(closed_tick, tick);
        source.clear_drained(Direction::Read, closed_tick);
        source.dispatch(event(false), &mut Vec::new());
        let tick = ready_tick(&source, &mut cx);
        source.clear_drained(Direction::Read, tick);
        let tick = ready_tick(&source, &mut cx);
        source.clear_ready(Direction::Read, tick);
        assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());
        source.deregister();
    }

    fn event(source: &Source, readable: bool, writable: bool) -> PollEvent {
        PollEvent {
            key: source.key,
            readable,
            writable,
            read_closed: false,
            write_closed: false,
            error: false,
            priority: false,
        }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn priority_rides_on_the_read_tick_and_is_cleared_only_if_no_event_came() {
        let reactor = Reactor::new().unwrap();
        let (_a, b) = UnixStream::pair().unwrap();
        // SAFETY: `b` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let urgent = PollEvent {
            priority: true,
            ..event(&source, true, false)
        };
        let priority = |source: &Source, cx: &mut Context<'_>| match source
            .poll_ready_interest(Interest::PRIORITY, cx)
        {
            Poll::Ready(Ok(seen)) => Some(seen),
            Poll::Ready(Err(err)) => panic!("{err}"),
            Poll::Pending => None,
        };
        // A plain read event does not answer a priority interest.
        source.dispatch(event(&source, true, false), &mut Vec::new());
        assert!(priority(&source, &mut cx).is_none());
        source.dispatch(urgent, &mut Vec::new());
        let seen = priority(&source, &mut cx).expect("priority after EPOLLPRI");
        assert_eq!(seen.ready, Ready::PRIORITY);
        // A read event between the check and the clear keeps it.
        source.dispatch(event(&source, true, false), &mut Vec::new());
        source.clear_readiness(seen);
        let seen = priority(&source, &mut cx).expect("kept: an event came");
        // Cleared: the next wait is pending, and the read bit is untouched.
        source.clear_readiness(seen);
        assert!(priority(&source, &mut cx).is_none());
        assert!(source.poll_ready(Direction::Read, &mut cx).is_ready());
        source.deregister();
    }

    #[test]
    fn the_readiness_api_waits_for_an_event_where_operations_try_optimistically() {
        let reactor = Reactor::new().unwrap();
        let (_a, b) = UnixStream::pair().unwrap();
        // SAFETY: `b` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        let both = Interest::READABLE | Interest::WRITABLE;

        // Registered: operations try, the readiness API has seen nothing.
        assert!(source.poll_ready(Direction::Read, &mut cx).is_ready());
        assert!(source.poll_ready_interest(both, &mut cx).is_pending());
        assert_eq!(
            source.try_ready(both).ready,
            Ready::READABLE | Ready::WRITABLE
        );

        // An event confirms only the direction it reports.
        source.dispatch(event(&source, false, true), &mut Vec::new());
        match source.poll_ready_interest(both, &mut cx) {
            Poll::Ready(Ok(seen)) => assert_eq!(seen.ready, Ready::WRITABLE),
            other => panic!("expected writable, got {other:?}"),
        }
        // A clear of what the readiness API saw makes it wait again.
        let Poll::Ready(Ok(seen)) = source.poll_ready_interest(Interest::WRITABLE, &mut cx) else {
            panic!("expected writable");
        };
        source.clear_readiness(seen);
        assert!(
            source
                .poll_ready_interest(Interest::WRITABLE, &mut cx)
                .is_pending()
        );
        source.deregister();
    }

    #[test]
    fn an_event_of_one_direction_does_not_keep_the_other_from_being_cleared() {
        let reactor = Reactor::new().unwrap();
        let (_a, b) = UnixStream::pair().unwrap();
        // SAFETY: `b` outlives the deregistration at the end of the test.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        let mut cx = Context::from_waker(Waker::noop());
        source.dispatch(event(&source, true, true), &mut Vec::new());

        // A write event while a read found nothing: the read is cleared.
        let read = source.try_ready(Interest::READABLE);
        source.dispatch(event(&source, false, true), &mut Vec::new());
        source.clear_readiness(read);
        assert!(
            source
                .poll_ready_interest(Interest::READABLE, &mut cx)
                .is_pending()
        );
        // A read event meanwhile keeps it.
        source.dispatch(event(&source, true, false), &mut Vec::new());
        let read = source.try_ready(Interest::READABLE);
        source.dispatch(event(&source, true, false), &mut Vec::new());
        source.clear_readiness(read);
        assert!(
            source
                .poll_ready_interest(Interest::READABLE, &mut cx)
                .is_ready()
        );
        source.deregister();
    }

    #[test]
    fn deregister_wakes_waiters() {
        let reactor = Reactor::new().unwrap();
        let (_a, b) = UnixStream::pair().unwrap();
        // SAFETY: `b` outlives the deregistration below.
        let source = unsafe { reactor.inner().register(b.as_raw_fd()) }.unwrap();
        let (count, waker) = count_waker();
        let mut cx = Context::from_waker(&waker);
        source.clear_ready(Direction::Read, source.tick());
        assert!(source.poll_ready(Direction::Read, &mut cx).is_pending());
        source.deregister();
        assert!(count.0.load(Ordering::SeqCst) >= 1);
        assert!(matches!(
            source.poll_ready(Direction::Read, &mut cx),
            Poll::Ready(Err(_))
        ));
    }
}

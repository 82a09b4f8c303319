//! A counting semaphore with FIFO hand-off to waiters.
//!
//! # Design
//!
//! The permits live in one atomic word together with two flags:
//!
//! ```text
//! state = permits << 2 | WAITERS | CLOSED
//! ```
//!
//! `WAITERS` is set exactly while the wait queue (a [`WaitList`] behind a
//! `std::sync::Mutex`) holds at least one waiter, and it only changes with
//! that lock held. Whoever releases permits while `WAITERS` is clear just
//! adds them to the word, without locking. Otherwise it takes the lock and
//! hands the permits to the waiters in queue order, partially to the head if
//! it needs more than there is; only what is left once the queue is empty
//! goes back to the word. As a consequence the word holds no permit while
//! someone waits, so a newcomer cannot overtake a queued waiter.
//!
//! A waiting future that is dropped gives back whatever it was handed (all
//! of it, if it had been granted and woken but not polled again), through the
//! same hand-off: a cancelled acquire never swallows a wakeup meant for
//! another waiter.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire, SeqCst};
use std::sync::{Arc, MutexGuard as StdMutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::wait_list::{Key, WaitList, WakeList, update_waker};

const CLOSED: usize = 0b01;
const WAITERS: usize = 0b10;
const SHIFT: u32 = 2;

/// An asynchronous counting semaphore.
///
/// A semaphore holds a number of permits. [`acquire`](Semaphore::acquire)
/// waits until a permit is available and returns a guard that gives the
/// permit back when dropped. Waiters are served in the order they started
/// waiting: a request for many permits at the head of the queue holds back
/// the requests behind it.
///
/// Every poll of an acquire future charges one reduction to the calling
/// task before trying to take permits.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use smp_rt::sync::{Semaphore, TryAcquireError};
///
/// futures::executor::block_on(async {
///     let semaphore = Arc::new(Semaphore::new(2));
///     let a = semaphore.acquire().await.unwrap();
///     let b = semaphore.clone().acquire_owned().await.unwrap();
///     assert_eq!(semaphore.try_acquire().err(), Some(TryAcquireError::NoPermits));
///     drop(a);
///     assert_eq!(semaphore.available_permits(), 1);
///     drop(b);
///     assert_eq!(semaphore.available_permits(), 2);
/// });
/// ```
pub struct Semaphore {
    state: AtomicUsize,
    waiters: std::sync::Mutex<WaitList<Node>>,
}

/// A queued waiter, owned by the wait list.
struct Node {
    /// Permits the waiter still needs; 0 once it has been granted all.
    remaining: usize,
    waker: Option<Waker>,
}

/// Error returned by [`Semaphore::acquire`] and its variants when the
/// semaphore has been closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// Error returned by [`Semaphore::try_acquire`] and its variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore has been [closed](Semaphore::close).
    Closed,
    /// Not enough permits are available right now.
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

impl Semaphore {
    /// The largest number of permits a semaphore can hold: `usize::MAX >> 3`.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    /// Creates a semaphore with `permits` permits.
    ///
    /// # Panics
    ///
    /// Panics if `permits` is greater than [`Semaphore::MAX_PERMITS`].
    pub const fn new(permits: usize) -> Self {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
        Semaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: std::sync::Mutex::new(WaitList::new()),
        }
    }

    /// A closed semaphore with no permits, for cells created initialized.
    pub(crate) const fn const_new_closed() -> Self {
        Semaphore {
            state: AtomicUsize::new(CLOSED),
            waiters: std::sync::Mutex::new(WaitList::new()),
        }
    }

    /// Creates a semaphore in a `const` context, for example a `static`.
    ///
    /// Same as [`Semaphore::new`].
    ///
    /// # Panics
    ///
    /// Panics if `permits` is greater than [`Semaphore::MAX_PERMITS`].
    pub const fn const_new(permits: usize) -> Self {
        Self::new(permits)
    }

    /// The number of permits available right now.
    pub fn available_permits(&self) -> usize {
        self.state.load(Acquire) >> SHIFT
    }

    /// Adds `n` permits, handing them to waiting acquirers first.
    ///
    /// # Panics
    ///
    /// Panics if the number of available permits would exceed
    /// [`Semaphore::MAX_PERMITS`].
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` available permits for good and returns how many
    /// were removed. Permits that are currently acquired are not affected.
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut cur = self.state.load(Acquire);
        loop {
            let take = n.min(cur >> SHIFT);
            if take == 0 {
                return 0;
            }
            match self
                .state
                .compare_exchange(cur, cur - (take << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return take,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Closes the semaphore.
    ///
    /// Every waiting acquire fails with [`AcquireError`], and so do all later
    /// ones; [`try_acquire`](Semaphore::try_acquire) returns
    /// [`TryAcquireError::Closed`]. Permits already acquired stay valid and
    /// are still returned when dropped.
    pub fn close(&self) {
        let mut list = self.lock();
        // SeqCst: channel code pairs this with a SeqCst load after
        // registering an `event_listener` listener.
        self.state.fetch_or(CLOSED, SeqCst);
        loop {
            let mut wakers = WakeList::new();
            while wakers.can_push() {
                let Some(key) = list.pop_front() else { break };
                if let Some(w) = list.get_mut(key).waker.take() {
                    wakers.push(w);
                }
            }
            let empty = list.is_empty();
            if empty {
                self.state.fetch_and(!WAITERS, AcqRel);
            }
            drop(list);
            wakers.wake_all();
            if empty {
                return;
            }
            list = self.lock();
        }
    }

    /// Whether [`close`](Semaphore::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.state.load(SeqCst) & CLOSED != 0
    }

    /// Takes one permit if one is available right now.
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(1)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: 1,
        })
    }

    /// Takes `n` permits if that many are available right now.
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Like [`try_acquire`](Semaphore::try_acquire), returning a permit that
    /// owns an `Arc` of the semaphore.
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Like [`try_acquire_many`](Semaphore::try_acquire_many), returning a
    /// permit that owns an `Arc` of the semaphore.
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_take(n as usize)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n,
        })
    }

    /// Waits for one permit.
    ///
    /// Fails with [`AcquireError`] if the semaphore is closed. Dropping the
    /// future before it completes gives back anything it was granted.
    pub fn acquire(&self) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> {
        self.acquire_many(1)
    }

    /// Waits for `n` permits, taken all together.
    ///
    /// Fails with [`AcquireError`] if the semaphore is closed. Dropping the
    /// future before it completes gives back anything it was granted.
    pub fn acquire_many(
        &self,
        n: u32,
    ) -> impl Future<Output = Result<SemaphorePermit<'_>, AcquireError>> {
        let mut acquire = AcquireFuture::new(self, n as usize);
        std::future::poll_fn(move |cx| {
            Pin::new(&mut acquire)
                .poll(cx)
                .map_ok(|sem| SemaphorePermit { sem, permits: n })
        })
    }

    /// Waits for one permit, returning a permit that owns an `Arc` of the
    /// semaphore (so it can move into a spawned task).
    pub fn acquire_owned(
        self: Arc<Self>,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        self.acquire_many_owned(1)
    }

    /// Waits for `n` permits, returning a permit that owns an `Arc` of the
    /// semaphore.
    pub fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> impl Future<Output = Result<OwnedSemaphorePermit, AcquireError>> {
        let mut acquire = AcquireFuture::new(self, n as usize);
        std::future::poll_fn(move |cx| {
            Pin::new(&mut acquire)
                .poll(cx)
                .map_ok(|sem| OwnedSemaphorePermit { sem, permits: n })
        })
    }

    // ----- internals shared with `Mutex` and the bounded `mpsc` channel -----

    fn lock(&self) -> StdMutexGuard<'_, WaitList<Node>> {
        // The critical sections never leave the list half-updated, so a
        // poisoned lock (a panicking waker elsewhere) is still consistent.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes `n` permits from the word if they are there.
    pub(crate) fn try_take(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut cur = self.state.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if cur >> SHIFT < n {
                return Err(TryAcquireError::NoPermits);
            }
            // Acquire on success: pairs with the Release of whoever returned
            // these permits, so that the data they guard is visible.
            match self
                .state
                .compare_exchange_weak(cur, cur - (n << SHIFT), AcqRel, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits: to the waiters if any, else to the word.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut cur = self.state.load(Acquire);
        while cur & WAITERS == 0 {
            let new = add_to_word(cur, n);
            // Release on success: publishes what the permit holder wrote.
            match self.state.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        self.release_locked(n, self.lock());
    }

    /// Hands `n` permits to the queue in order, then stores what is left in
    /// the word once the queue is empty. Keeps `WAITERS` in step with the
    /// queue, even for `n == 0`. Consumes the lock guard.
    fn release_locked<'a>(&'a self, n: usize, mut list: StdMutexGuard<'a, WaitList<Node>>) {
        let mut rem = n;
        loop {
            let mut wakers = WakeList::new();
            while rem > 0 && wakers.can_push() {
                let Some(key) = list.front() else { break };
                let node = list.get_mut(key);
                let give = rem.min(node.remaining);
                node.remaining -= give;
                rem -= give;
                if node.remaining == 0 {
                    let waker = node.waker.take();
                    list.unlink(key);
                    if let Some(w) = waker {
                        wakers.push(w);
                    }
                }
            }
            if list.is_empty() {
                // The word can only change under this lock or, while WAITERS
                // is set, not at all; the CAS loop still keeps it exact.
                let mut cur = self.state.load(Acquire);
                loop {
                    let new = add_to_word(cur & !WAITERS, rem);
                    match self.state.compare_exchange(cur, new, AcqRel, Acquire) {
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
                rem = 0;
            }
            drop(list);
            wakers.wake_all();
            if rem == 0 {
                return;
            }
            // The batch of wakers was full: go on with a fresh one. The
            // permits in `rem` are in nobody's hands meanwhile, which only
            // delays the waiters that will get them.
            list = self.lock();
        }
    }

    /// Polls an acquisition described by `w`, without charging a reduction.
    pub(crate) fn poll_acquire(
        &self,
        w: &mut Waiter,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), AcquireError>> {
        match w.state {
            WaiterState::Done => panic!("acquire future polled after completion"),
            WaiterState::Idle => {
                match self.try_take(w.needed) {
                    Ok(()) => {
                        w.state = WaiterState::Done;
                        return Poll::Ready(Ok(()));
                    }
                    Err(TryAcquireError::Closed) => {
                        w.state = WaiterState::Done;
                        return Poll::Ready(Err(AcquireError(())));
                    }
                    Err(TryAcquireError::NoPermits) => {}
                }
                let mut list = self.lock();
                let mut cur = self.state.load(Acquire);
                let taken = loop {
                    if cur & CLOSED != 0 {
                        w.state = WaiterState::Done;
                        return Poll::Ready(Err(AcquireError(())));
                    }
                    let available = cur >> SHIFT;
                    let (new, taken) = if available >= w.needed {
                        (cur - (w.needed << SHIFT), w.needed)
                    } else {
                        // Take everything there is and queue for the rest.
                        (WAITERS, available)
                    };
                    match self.state.compare_exchange(cur, new, AcqRel, Acquire) {
                        Ok(_) => break taken,
                        Err(actual) => cur = actual,
                    }
                };
                if taken == w.needed {
                    w.state = WaiterState::Done;
                    return Poll::Ready(Ok(()));
                }
                let key = list.push_back(Node {
                    remaining: w.needed - taken,
                    waker: Some(cx.waker().clone()),
                });
                w.state = WaiterState::Queued(key);
                Poll::Pending
            }
            WaiterState::Queued(key) => {
                let mut list = self.lock();
                let remaining = list.get(key).remaining;
                if remaining == 0 {
                    let node = list.remove(key);
                    drop(list);
                    drop(node);
                    w.state = WaiterState::Done;
                    Poll::Ready(Ok(()))
                } else if !list.is_linked(key) {
                    // Unlinked without being served: the semaphore closed.
                    let node = list.remove(key);
                    w.state = WaiterState::Done;
                    self.release_locked(w.needed - remaining, list);
                    drop(node);
                    Poll::Ready(Err(AcquireError(())))
                } else {
                    let old = update_waker(&mut list.get_mut(key).waker, cx.waker());
                    drop(list);
                    drop(old);
                    Poll::Pending
                }
            }
        }
    }

    /// Abandons the acquisition described by `w`, giving back whatever it
    /// was granted. Called from the `Drop` of acquiring futures. Returns
    /// whether the acquisition was queued (and so has been cancelled).
    pub(crate) fn cancel(&self, w: &mut Waiter) -> bool {
        let WaiterState::Queued(key) = w.state else {
            return false;
        };
        w.state = WaiterState::Done;
        let mut list = self.lock();
        let node = list.remove(key);
        self.release_locked(w.needed - node.remaining, list);
        drop(node);
        true
    }
}

/// Adds `n` permits to the state word `cur`, panicking on overflow.
fn add_to_word(cur: usize, n: usize) -> usize {
    let permits = cur >> SHIFT;
    assert!(
        n <= Semaphore::MAX_PERMITS - permits,
        "number of added permits ({n}) would overflow MAX_PERMITS ({})",
        Semaphore::MAX_PERMITS
    );
    cur + (n << SHIFT)
}

impl Default for Semaphore {
    /// A semaphore with no permits.
    fn default() -> Self {
        Semaphore::new(0)
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(Acquire);
        f.debug_struct("Semaphore")
            .field("permits", &(state >> SHIFT))
            .field("closed", &(state & CLOSED != 0))
            .finish()
    }
}

/// The progress of one acquisition; lives inside the acquiring future.
#[derive(Debug)]
pub(crate) struct Waiter {
    needed: usize,
    state: WaiterState,
}

#[derive(Debug, Clone, Copy)]
enum WaiterState {
    /// Not polled yet.
    Idle,
    /// In the wait list under this key.
    Queued(Key),
    /// Completed, or cancelled.
    Done,
}

impl Waiter {
    pub(crate) fn new(needed: usize) -> Self {
        Waiter {
            needed,
            state: WaiterState::Idle,
        }
    }
}

/// Something that leads to a semaphore: `&Semaphore`, `Arc<Semaphore>`, or
/// a mutex built on one.
pub(crate) trait SemaphoreRef {
    fn semaphore(&self) -> &Semaphore;
}

impl SemaphoreRef for &Semaphore {
    fn semaphore(&self) -> &Semaphore {
        self
    }
}

impl SemaphoreRef for Arc<Semaphore> {
    fn semaphore(&self) -> &Semaphore {
        self
    }
}

/// A future acquiring permits from the semaphore behind `R`; yields `R`
/// back on success so the caller can build its guard.
pub(crate) struct AcquireFuture<R: SemaphoreRef> {
    src: Option<R>,
    waiter: Waiter,
}

impl<R: SemaphoreRef> AcquireFuture<R> {
    pub(crate) fn new(src: R, needed: usize) -> Self {
        assert!(
            needed <= Semaphore::MAX_PERMITS,
            "cannot acquire more than MAX_PERMITS permits"
        );
        AcquireFuture {
            src: Some(src),
            waiter: Waiter::new(needed),
        }
    }
}

impl<R: SemaphoreRef + Unpin> Future for AcquireFuture<R> {
    type Output = Result<R, AcquireError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        let this = &mut *self;
        let src = this
            .src
            .as_ref()
            .expect("acquire future polled after completion");
        std::task::ready!(src.semaphore().poll_acquire(&mut this.waiter, cx))?;
        Poll::Ready(Ok(this.src.take().expect("source present")))
    }
}

impl<R: SemaphoreRef> Drop for AcquireFuture<R> {
    fn drop(&mut self) {
        if let Some(src) = &self.src {
            src.semaphore().cancel(&mut self.waiter);
        }
    }
}

/// Permits borrowed from a [`Semaphore`], given back when dropped.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: u32,
}

impl SemaphorePermit<'_> {
    /// Keeps the permits out of the semaphore for good: dropping the guard
    /// no longer gives them back.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// The number of permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// Moves the permits of `other` into `self`.
    ///
    /// # Panics
    ///
    /// Panics if the permits come from different semaphores.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits from different semaphores"
        );
        self.permits += other.permits;
        other.permits = 0;
    }

    /// Splits `n` permits off into a new guard, or returns `None` if this
    /// one holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        let n = u32::try_from(n).ok().filter(|&n| n <= self.permits)?;
        self.permits -= n;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit")
            .field("sem", self.sem)
            .field("permits", &self.permits)
            .finish()
    }
}

/// Permits taken from a [`Semaphore`] held by `Arc`, given back when
/// dropped. Unlike [`SemaphorePermit`] it borrows nothing, so it can move
/// into a spawned task.
#[must_use = "the permits are given back as soon as this is dropped"]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: u32,
}

impl OwnedSemaphorePermit {
    /// Keeps the permits out of the semaphore for good.
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// The number of permits this guard holds.
    pub fn num_permits(&self) -> usize {
        self.permits as usize
    }

    /// Moves the permits of `other` into `self`.
    ///
    /// # Panics
    ///
    /// Panics if the permits come from different semaphores.
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits from different semaphores"
        );
        self.permits += other.permits;
        other.permits = 0;
    }

    /// Splits `n` permits off into a new guard, or returns `None` if this
    /// one holds fewer than `n`.
    pub fn split(&mut self, n: usize) -> Option<Self> {
        let n = u32::try_from(n).ok().filter(|&n| n <= self.permits)?;
        self.permits -= n;
        Some(OwnedSemaphorePermit {
            sem: Arc::clone(&self.sem),
            permits: n,
        })
    }

    /// The semaphore the permits come from.
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits as usize);
    }
}

impl fmt::Debug for OwnedSemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedSemaphorePermit")
            .field("sem", &self.sem)
            .field("permits", &self.permits)
            .finish()
    }
}

//! An asynchronous mutex, built on a one-permit [`Semaphore`].

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;

use crate::semaphore::{AcquireFuture, Semaphore, SemaphoreRef};

/// An asynchronous mutual-exclusion lock.
///
/// [`lock`](Mutex::lock) waits, without blocking the thread, until the lock
/// is free, and returns a guard that unlocks when dropped. The guard may be
/// held across `.await` points. Waiters get the lock in the order they
/// started waiting; a `lock()` future dropped while waiting gives up its
/// place, and if the lock had already been handed to it, passes it on.
///
/// Every poll of a lock future charges one reduction to the calling task
/// before trying to take the lock.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use smp_rt::sync::Mutex;
///
/// futures::executor::block_on(async {
///     let counter = Arc::new(Mutex::new(0));
///     let handles: Vec<_> = (0..4)
///         .map(|_| {
///             let counter = Arc::clone(&counter);
///             std::thread::spawn(move || {
///                 futures::executor::block_on(async {
///                     *counter.lock().await += 1;
///                 })
///             })
///         })
///         .collect();
///     for h in handles {
///         h.join().unwrap();
///     }
///     assert_eq!(*counter.lock().await, 4);
/// });
/// ```
pub struct Mutex<T: ?Sized> {
    sem: Semaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one thread at a time, which
// moves the value between threads in effect, so `T: Send` is needed and
// enough, as for `std::sync::Mutex`.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above; `&Mutex<T>` only gives exclusive access to `T`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Error returned by [`Mutex::try_lock`] when the lock is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TryLockError(pub(crate) ());

impl fmt::Display for TryLockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("operation would block")
    }
}

impl std::error::Error for TryLockError {}

impl<T: ?Sized> SemaphoreRef for &Mutex<T> {
    fn semaphore(&self) -> &Semaphore {
        &self.sem
    }
}

impl<T: ?Sized> SemaphoreRef for Arc<Mutex<T>> {
    fn semaphore(&self) -> &Semaphore {
        &self.sem
    }
}

impl<T> Mutex<T> {
    /// Creates an unlocked mutex holding `value`.
    pub const fn new(value: T) -> Self {
        Mutex {
            sem: Semaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Creates a mutex in a `const` context. Same as [`Mutex::new`].
    pub const fn const_new(value: T) -> Self {
        Self::new(value)
    }

    /// Consumes the mutex and returns the value inside.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits until the lock is free and takes it.
    ///
    /// Dropping the future before it completes gives up its place in the
    /// queue without losing a wakeup for the other waiters.
    pub fn lock(&self) -> impl Future<Output = MutexGuard<'_, T>> {
        let mut acquire = AcquireFuture::new(self, 1);
        std::future::poll_fn(move |cx| {
            Pin::new(&mut acquire).poll(cx).map(|r| match r {
                Ok(lock) => MutexGuard { lock },
                Err(_) => unreachable!("a mutex's semaphore is never closed"),
            })
        })
    }

    /// Like [`lock`](Mutex::lock), for a mutex held in an `Arc`: the guard
    /// owns a clone of the `Arc` and borrows nothing.
    pub fn lock_owned(self: Arc<Self>) -> impl Future<Output = OwnedMutexGuard<T>> {
        let mut acquire = AcquireFuture::new(self, 1);
        std::future::poll_fn(move |cx| {
            Pin::new(&mut acquire).poll(cx).map(|r| match r {
                Ok(lock) => OwnedMutexGuard { lock },
                Err(_) => unreachable!("a mutex's semaphore is never closed"),
            })
        })
    }

    /// Takes the lock if it is free right now.
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_take(1) {
            Ok(()) => Ok(MutexGuard { lock: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Like [`try_lock`](Mutex::try_lock), for a mutex held in an `Arc`.
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.sem.try_take(1) {
            Ok(()) => Ok(OwnedMutexGuard { lock: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// A mutable reference to the value; no locking is needed since the
    /// borrow is exclusive.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(guard) => d.field("data", &&*guard),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// A held lock on a [`Mutex`]; unlocks when dropped.
///
/// The guard can be sent to another thread when `T: Send`, and shared
/// between threads only when `T` is also `Sync`:
///
/// ```compile_fail
/// fn assert_sync<T: Sync>() {}
/// assert_sync::<smp_rt::sync::MutexGuard<'static, std::cell::Cell<u8>>>();
/// ```
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

// SAFETY: `&MutexGuard` hands out `&T`, so sharing the guard across threads
// needs `T: Sync`. This impl replaces the automatic one, which would only
// ask for `T: Send` (through `&Mutex<T>: Sync`).
unsafe impl<T: ?Sized + Send + Sync> Sync for MutexGuard<'_, T> {}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit, so no other guard
        // exists and no `&mut T` can be made elsewhere while `&self` lives.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit and is borrowed
        // mutably, so this is the only reference to `T`.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A held lock on a [`Mutex`] in an `Arc`, owning a clone of the `Arc`;
/// unlocks when dropped.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
}

// SAFETY: as for `MutexGuard`: sharing the guard shares `&T`.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the mutex's only permit (see `MutexGuard`).
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the mutex's only permit and is borrowed
        // mutably, so this is the only reference to `T`.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedMutexGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

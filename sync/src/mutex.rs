//! An asynchronous mutex, built on a one-permit [`Semaphore`].

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
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
    /// Narrows the guard to a part of the locked value. The mutex stays
    /// locked until the returned [`MappedMutexGuard`] is dropped.
    ///
    /// This is an associated function, called as `MutexGuard::map(...)`,
    /// so that it does not shadow a method of the value inside.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::{Mutex, MutexGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # smp_rt::block_on(async {
    /// let foo = Mutex::new(Foo(1));
    ///
    /// {
    ///     let mut mapped = MutexGuard::map(foo.lock().await, |f| &mut f.0);
    ///     *mapped = 2;
    /// }
    ///
    /// assert_eq!(Foo(2), *foo.lock().await);
    /// # });
    /// ```
    pub fn map<U, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        // `try_map` with a part always found: one place moves the permit.
        match Self::try_map(this, |value| Some(f(value))) {
            Ok(mapped) => mapped,
            Err(_) => unreachable!("the closure always returns a part"),
        }
    }

    /// Narrows the guard to a part of the locked value if `f` returns one;
    /// else hands the guard back, still locked.
    ///
    /// This is an associated function, called as `MutexGuard::try_map(...)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::{Mutex, MutexGuard};
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Mutex::new(vec![1, 2]);
    ///
    /// let guard = lock.lock().await;
    /// let guard = MutexGuard::try_map(guard, |v| v.get_mut(5)).unwrap_err();
    /// let mut first = MutexGuard::try_map(guard, |v| v.first_mut()).unwrap();
    /// *first = 10;
    /// drop(first);
    ///
    /// assert_eq!(*lock.lock().await, [10, 2]);
    /// # });
    /// ```
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        // The permit moves to the mapped guard: this guard must not release it.
        let this = ManuallyDrop::new(this);
        Ok(MappedMutexGuard {
            sem: &this.lock.sem,
            data,
            marker: PhantomData,
        })
    }

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
    /// Narrows the guard to a part of the locked value. The mutex stays
    /// locked until the returned [`OwnedMappedMutexGuard`], which owns the
    /// `Arc`, is dropped.
    ///
    /// This is an associated function, called as
    /// `OwnedMutexGuard::map(...)`, so that it does not shadow a method of
    /// the value inside.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::{Mutex, OwnedMutexGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # smp_rt::block_on(async {
    /// let foo = Arc::new(Mutex::new(Foo(1)));
    ///
    /// {
    ///     let mut mapped = OwnedMutexGuard::map(foo.clone().lock_owned().await, |f| &mut f.0);
    ///     *mapped = 2;
    /// }
    ///
    /// assert_eq!(Foo(2), *foo.lock().await);
    /// # });
    /// ```
    pub fn map<U, F>(this: Self, f: F) -> OwnedMappedMutexGuard<T, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        // `try_map` with a part always found: one place moves the permit.
        match Self::try_map(this, |value| Some(f(value))) {
            Ok(mapped) => mapped,
            Err(_) => unreachable!("the closure always returns a part"),
        }
    }

    /// Narrows the guard to a part of the locked value if `f` returns one;
    /// else hands the guard back, still locked.
    ///
    /// This is an associated function, called as
    /// `OwnedMutexGuard::try_map(...)`.
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        Ok(OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        })
    }

    /// Takes the `Arc` out without releasing the permit, which passes to
    /// the caller.
    fn into_lock(self) -> Arc<Mutex<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped nor used again, so the `Arc` read
        // out of it is not dropped twice.
        unsafe { std::ptr::read(&this.lock) }
    }

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

/// A held lock on a part of a [`Mutex`]'s value, made by
/// [`MutexGuard::map`]; unlocks the mutex when dropped.
///
/// It can be sent to another thread when `T: Send`, and shared between
/// threads when `T: Sync`:
///
/// ```compile_fail
/// fn assert_sync<T: Sync>() {}
/// assert_sync::<smp_rt::sync::MappedMutexGuard<'static, std::cell::Cell<u8>>>();
/// ```
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    sem: &'a Semaphore,
    data: *mut T,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is an exclusive reference to `T` (the mutex's permit
// keeps every other access out): sending it sends `&mut T`, which needs
// `T: Send`; sharing it shares `&T`, which needs `T: Sync`. The mutex
// itself is reached only through the semaphore, which is thread-safe.
unsafe impl<'a, T: ?Sized + Send + 'a> Send for MappedMutexGuard<'a, T> {}
// SAFETY: as above.
unsafe impl<'a, T: ?Sized + Sync + 'a> Sync for MappedMutexGuard<'a, T> {}

impl<'a, T: ?Sized> MappedMutexGuard<'a, T> {
    /// Narrows the guard further. The mutex stays locked.
    ///
    /// This is an associated function, called as
    /// `MappedMutexGuard::map(...)`.
    pub fn map<U, F>(this: Self, f: F) -> MappedMutexGuard<'a, U>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> &mut U,
    {
        // `try_map` with a part always found: one place moves the permit.
        match Self::try_map(this, |value| Some(f(value))) {
            Ok(mapped) => mapped,
            Err(_) => unreachable!("the closure always returns a part"),
        }
    }

    /// Narrows the guard further if `f` returns a part; else hands the
    /// guard back, still locked.
    ///
    /// This is an associated function, called as
    /// `MappedMutexGuard::try_map(...)`.
    pub fn try_map<U, F>(mut this: Self, f: F) -> Result<MappedMutexGuard<'a, U>, Self>
    where
        U: ?Sized,
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        // The permit moves to the new guard.
        let this = ManuallyDrop::new(this);
        Ok(MappedMutexGuard {
            sem: this.sem,
            data,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the locked value, which outlives `'a`;
        // the guard holds the mutex's only permit, so no `&mut` to it exists
        // elsewhere while `&self` lives.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as above, and the guard is borrowed mutably, so this is
        // the only reference.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for MappedMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// A held lock on a part (of type `U`) of the value of a [`Mutex<T>`] in an
/// `Arc`, made by [`OwnedMutexGuard::map`]; owns a clone of the `Arc` and
/// unlocks the mutex when dropped.
#[must_use = "the mutex unlocks as soon as the guard is dropped"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    data: *mut U,
    lock: Arc<Mutex<T>>,
}

// SAFETY: the guard owns an `Arc<Mutex<T>>`, whose sending needs `T: Send`
// (as for `OwnedMutexGuard`), and is an exclusive reference to `U`, whose
// sending needs `U: Send`.
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}
// SAFETY: sharing the guard shares `&U` (needs `U: Sync`) and
// `&Arc<Mutex<T>>`, as `OwnedMutexGuard` does (needs `T: Send + Sync`);
// tokio asks for `Send + Sync` of both.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync for OwnedMappedMutexGuard<T, U> {}

impl<T: ?Sized, U: ?Sized> OwnedMappedMutexGuard<T, U> {
    /// Narrows the guard further. The mutex stays locked.
    ///
    /// This is an associated function, called as
    /// `OwnedMappedMutexGuard::map(...)`.
    pub fn map<S, F>(this: Self, f: F) -> OwnedMappedMutexGuard<T, S>
    where
        S: ?Sized,
        F: FnOnce(&mut U) -> &mut S,
    {
        // `try_map` with a part always found: one place moves the permit.
        match Self::try_map(this, |value| Some(f(value))) {
            Ok(mapped) => mapped,
            Err(_) => unreachable!("the closure always returns a part"),
        }
    }

    /// Narrows the guard further if `f` returns a part; else hands the
    /// guard back, still locked.
    ///
    /// This is an associated function, called as
    /// `OwnedMappedMutexGuard::try_map(...)`.
    pub fn try_map<S, F>(mut this: Self, f: F) -> Result<OwnedMappedMutexGuard<T, S>, Self>
    where
        S: ?Sized,
        F: FnOnce(&mut U) -> Option<&mut S>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut S,
            None => return Err(this),
        };
        Ok(OwnedMappedMutexGuard {
            data,
            lock: this.into_lock(),
        })
    }

    /// Takes the `Arc` out without releasing the permit, which passes to
    /// the caller.
    fn into_lock(self) -> Arc<Mutex<T>> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped nor used again, so the `Arc` read
        // out of it is not dropped twice.
        unsafe { std::ptr::read(&this.lock) }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: `data` points into the value of the mutex that `lock`
        // keeps alive; the guard holds the mutex's only permit, so no `&mut`
        // to it exists elsewhere while `&self` lives.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as above, and the guard is borrowed mutably, so this is
        // the only reference.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedMappedMutexGuard<T, U> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedMappedMutexGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

//! An asynchronous reader-writer lock, built on the FIFO [`Semaphore`].
//!
//! # Design
//!
//! As in tokio, the lock is a semaphore of `max_readers` permits: a reader
//! takes one, a writer takes all of them. The semaphore serves waiters in
//! the order they arrived, and a writer at the head of the queue holds back
//! the readers behind it, so the lock is fair: writers are not starved by
//! a stream of readers, and readers are not starved by writers.
//!
//! The guards keep a raw pointer to the (possibly mapped) data next to the
//! permits they hold, so that `map` can narrow them to a part of the value.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use crate::mutex::TryLockError;
use crate::semaphore::{AcquireFuture, Semaphore, SemaphoreRef};

/// The largest number of concurrent readers, as in tokio.
const MAX_READS: u32 = u32::MAX >> 3;

/// An asynchronous reader-writer lock.
///
/// Any number of readers, or one writer, may hold the lock at a time.
/// [`read`](RwLock::read) and [`write`](RwLock::write) wait without
/// blocking the thread, and return guards that release the lock when
/// dropped; the guards may be held across `.await`.
///
/// The lock is fair (first in, first out): a writer waiting for the lock
/// keeps the readers that arrive after it from taking the lock before it.
/// A read or write future dropped while waiting gives up its place.
///
/// Every poll of a `read` or `write` future charges one reduction to the
/// calling task before trying to take the lock.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::RwLock;
///
/// # smp_rt::block_on(async {
/// let lock = RwLock::new(5);
///
/// // many reader locks can be held at once
/// {
///     let r1 = lock.read().await;
///     let r2 = lock.read().await;
///     assert_eq!(*r1, 5);
///     assert_eq!(*r2, 5);
/// } // read locks are dropped at this point
///
/// // only one write lock may be held, however
/// {
///     let mut w = lock.write().await;
///     *w += 1;
///     assert_eq!(*w, 6);
/// } // write lock is dropped here
/// # });
/// ```
pub struct RwLock<T: ?Sized> {
    /// The number of permits: readers at most, all taken by a writer.
    mr: u32,
    s: Semaphore,
    c: UnsafeCell<T>,
}

// SAFETY: the lock moves `T` between threads in effect (a writer on one
// thread, a reader on another), hence `T: Send`.
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: `&RwLock<T>` gives shared `&T` to several threads at once (so
// `T: Sync`) and `&mut T` to one at a time (so `T: Send`).
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

impl<T: ?Sized> SemaphoreRef for Arc<RwLock<T>> {
    fn semaphore(&self) -> &Semaphore {
        &self.s
    }
}

impl<T> RwLock<T> {
    /// Creates an unlocked lock holding `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::RwLock;
    ///
    /// let lock = RwLock::new(5);
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        Self::const_new(value)
    }

    /// Creates an unlocked lock that admits at most `max_reads` readers at
    /// a time.
    ///
    /// # Panics
    ///
    /// Panics if `max_reads` is more than `u32::MAX >> 3` or is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::RwLock;
    ///
    /// let lock = RwLock::with_max_readers(5, 1024);
    /// ```
    #[track_caller]
    pub fn with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        Self::const_with_max_readers(value, max_reads)
    }

    /// Creates an unlocked lock in a `const` context.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::RwLock;
    ///
    /// static LOCK: RwLock<i32> = RwLock::const_new(5);
    /// ```
    pub const fn const_new(value: T) -> RwLock<T> {
        Self::const_with_max_readers(value, MAX_READS)
    }

    /// Creates an unlocked lock admitting at most `max_reads` readers, in
    /// a `const` context.
    ///
    /// # Panics
    ///
    /// Panics if `max_reads` is more than `u32::MAX >> 3` or is 0.
    #[track_caller]
    pub const fn const_with_max_readers(value: T, max_reads: u32) -> RwLock<T> {
        assert!(
            max_reads <= MAX_READS,
            "a RwLock may not be created with more than u32::MAX >> 3 readers"
        );
        assert!(max_reads > 0, "a RwLock must admit at least one reader");
        RwLock {
            mr: max_reads,
            s: Semaphore::const_new(max_reads as usize),
            c: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the value inside.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::RwLock;
    ///
    /// let n = RwLock::new(1).into_inner();
    /// assert_eq!(n, 1);
    /// ```
    pub fn into_inner(self) -> T {
        self.c.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared read access and returns a guard that releases it
    /// when dropped.
    ///
    /// Readers and writers get the lock in the order they asked for it: if
    /// a writer waits, this reader waits behind it.
    ///
    /// # Cancel safety
    ///
    /// This method uses a queue to fairly distribute locks in the order
    /// they were requested. Cancelling a call to `read` makes you lose
    /// your place in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Arc::new(RwLock::new(1));
    /// let c_lock = lock.clone();
    ///
    /// let n = lock.read().await;
    /// assert_eq!(*n, 1);
    ///
    /// smp_rt::spawn(async move {
    ///     // While main has an active read lock, we acquire one too.
    ///     let r = c_lock.read().await;
    ///     assert_eq!(*r, 1);
    /// })
    /// .await
    /// .expect("The spawned task has panicked");
    ///
    /// // Drop the guard after the spawned task finishes.
    /// drop(n);
    /// # });
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        match AcquireFuture::new(&self.s, 1).await {
            Ok(_) => RwLockReadGuard {
                s: &self.s,
                data: self.c.get(),
                marker: PhantomData,
            },
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
    }

    /// Like [`read`](Self::read), blocking the thread: for code outside
    /// any async context.
    ///
    /// # Panics
    ///
    /// Panics when called from a task or inside a runtime's `block_on`,
    /// where blocking would stall other tasks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// let rwlock = Arc::new(RwLock::new(1));
    /// let mut write_lock = smp_rt::block_on(rwlock.write());
    ///
    /// let blocking_task = std::thread::spawn({
    ///     let rwlock = Arc::clone(&rwlock);
    ///     move || {
    ///         // This shall block until the `write_lock` is released.
    ///         let read_lock = rwlock.blocking_read();
    ///         assert_eq!(*read_lock, 0);
    ///     }
    /// });
    ///
    /// *write_lock -= 1;
    /// drop(write_lock); // release the lock.
    ///
    /// // Await the completion of the blocking task.
    /// blocking_task.join().unwrap();
    ///
    /// // Assert uncontended.
    /// assert!(rwlock.try_write().is_ok());
    /// ```
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        smp_rt_executor::runtime::assert_may_block("RwLock::blocking_read");
        futures::executor::block_on(self.read())
    }

    /// Like [`read`](Self::read), for a lock held in an `Arc`: the guard
    /// owns a clone of the `Arc` and borrows nothing.
    ///
    /// # Cancel safety
    ///
    /// As for [`read`](Self::read): cancelling loses the place in the
    /// queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Arc::new(RwLock::new(1));
    /// let c_lock = lock.clone();
    ///
    /// let n = lock.read_owned().await;
    /// assert_eq!(*n, 1);
    ///
    /// smp_rt::spawn(async move {
    ///     // While main has an active read lock, we acquire one too.
    ///     let r = c_lock.read_owned().await;
    ///     assert_eq!(*r, 1);
    /// })
    /// .await
    /// .expect("The spawned task has panicked");
    ///
    /// // Drop the guard after the spawned task finishes.
    /// drop(n);
    /// # });
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        match AcquireFuture::new(self, 1).await {
            Ok(lock) => {
                let data = lock.c.get() as *const T;
                OwnedRwLockReadGuard {
                    lock,
                    data,
                    _p: PhantomData,
                }
            }
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
    }

    /// Takes shared read access if no writer holds or waits for the lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Arc::new(RwLock::new(1));
    /// let c_lock = lock.clone();
    ///
    /// let v = lock.try_read().unwrap();
    /// assert_eq!(*v, 1);
    ///
    /// smp_rt::spawn(async move {
    ///     // While main has an active read lock, we acquire one too.
    ///     let n = c_lock.read().await;
    ///     assert_eq!(*n, 1);
    /// })
    /// .await
    /// .expect("The spawned task has panicked");
    ///
    /// // Drop the guard when spawned task finishes.
    /// drop(v);
    /// # });
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        match self.s.try_take(1) {
            Ok(()) => Ok(RwLockReadGuard {
                s: &self.s,
                data: self.c.get(),
                marker: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Like [`try_read`](Self::try_read), for a lock held in an `Arc`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// let lock = Arc::new(RwLock::new(1));
    /// let v = lock.clone().try_read_owned().unwrap();
    /// assert_eq!(*v, 1);
    /// assert!(lock.try_write().is_err());
    /// ```
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        match self.s.try_take(1) {
            Ok(()) => {
                let data = self.c.get() as *const T;
                Ok(OwnedRwLockReadGuard {
                    lock: self,
                    data,
                    _p: PhantomData,
                })
            }
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Waits for exclusive write access and returns a guard that releases
    /// it when dropped.
    ///
    /// # Cancel safety
    ///
    /// This method uses a queue to fairly distribute locks in the order
    /// they were requested. Cancelling a call to `write` makes you lose
    /// your place in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let lock = RwLock::new(1);
    ///
    /// let mut n = lock.write().await;
    /// *n = 2;
    /// # });
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        match AcquireFuture::new(&self.s, self.mr as usize).await {
            Ok(_) => RwLockWriteGuard {
                permits_acquired: self.mr,
                s: &self.s,
                data: self.c.get(),
                marker: PhantomData,
            },
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
    }

    /// Like [`write`](Self::write), blocking the thread: for code outside
    /// any async context.
    ///
    /// # Panics
    ///
    /// Panics when called from a task or inside a runtime's `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// let rwlock = Arc::new(RwLock::new(1));
    /// let read_lock = smp_rt::block_on(rwlock.read());
    ///
    /// let blocking_task = std::thread::spawn({
    ///     let rwlock = Arc::clone(&rwlock);
    ///     move || {
    ///         // This shall block until the `read_lock` is released.
    ///         let mut write_lock = rwlock.blocking_write();
    ///         *write_lock = 2;
    ///     }
    /// });
    ///
    /// assert_eq!(*read_lock, 1);
    /// // Release the last outstanding read lock.
    /// drop(read_lock);
    ///
    /// // Await the completion of the blocking task.
    /// blocking_task.join().unwrap();
    ///
    /// // Assert uncontended.
    /// let read_lock = rwlock.try_read().unwrap();
    /// assert_eq!(*read_lock, 2);
    /// ```
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        smp_rt_executor::runtime::assert_may_block("RwLock::blocking_write");
        futures::executor::block_on(self.write())
    }

    /// Like [`write`](Self::write), for a lock held in an `Arc`: the guard
    /// owns a clone of the `Arc` and borrows nothing.
    ///
    /// # Cancel safety
    ///
    /// As for [`write`](Self::write): cancelling loses the place in the
    /// queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Arc::new(RwLock::new(1));
    ///
    /// let mut n = lock.write_owned().await;
    /// *n = 2;
    /// # });
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        let mr = self.mr;
        match AcquireFuture::new(self, mr as usize).await {
            Ok(lock) => {
                let data = lock.c.get();
                OwnedRwLockWriteGuard {
                    permits_acquired: mr,
                    lock,
                    data,
                    _p: PhantomData,
                }
            }
            Err(_) => unreachable!("a RwLock's semaphore is never closed"),
        }
    }

    /// Takes exclusive write access if the lock is free right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let rw = RwLock::new(1);
    ///
    /// let v = rw.read().await;
    /// assert_eq!(*v, 1);
    ///
    /// assert!(rw.try_write().is_err());
    /// # });
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        match self.s.try_take(self.mr as usize) {
            Ok(()) => Ok(RwLockWriteGuard {
                permits_acquired: self.mr,
                s: &self.s,
                data: self.c.get(),
                marker: PhantomData,
            }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Like [`try_write`](Self::try_write), for a lock held in an `Arc`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let rw = Arc::new(RwLock::new(1));
    ///
    /// let v = Arc::clone(&rw).read_owned().await;
    /// assert_eq!(*v, 1);
    ///
    /// assert!(rw.try_write_owned().is_err());
    /// # });
    /// ```
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        match self.s.try_take(self.mr as usize) {
            Ok(()) => {
                let data = self.c.get();
                Ok(OwnedRwLockWriteGuard {
                    permits_acquired: self.mr,
                    lock: self,
                    data,
                    _p: PhantomData,
                })
            }
            Err(_) => Err(TryLockError(())),
        }
    }

    /// A mutable reference to the value; no locking is needed since the
    /// borrow is exclusive.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::RwLock;
    ///
    /// let mut lock = RwLock::new(1);
    /// let n = lock.get_mut();
    /// *n = 2;
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.c.get_mut()
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(inner) => d.field("data", &&*inner),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(s: T) -> Self {
        Self::new(s)
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

// ----- borrowed guards -----

/// Shared read access to the value of a [`RwLock`] (or, after
/// [`map`](Self::map), to a part of it); released when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    s: &'a Semaphore,
    data: *const T,
    marker: PhantomData<&'a T>,
}

// SAFETY: the guard is a shared reference to `T` with a permit; sending it
// or sharing it shares `&T`, which needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockReadGuard<'a, T> {
    /// Narrows the guard to a part of the value. An associated function
    /// (`RwLockReadGuard::map(guard, ..)`), so as not to clash with a
    /// method of `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::{RwLock, RwLockReadGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # smp_rt::block_on(async {
    /// let lock = RwLock::new(Foo(1));
    ///
    /// let guard = lock.read().await;
    /// let guard = RwLockReadGuard::map(guard, |f| &f.0);
    ///
    /// assert_eq!(1, *guard);
    /// # });
    /// ```
    pub fn map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = f(&*this) as *const U;
        let this = ManuallyDrop::new(this);
        RwLockReadGuard {
            s: this.s,
            data,
            marker: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value if `f` returns one, else
    /// hands the guard back.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::{RwLock, RwLockReadGuard};
    ///
    /// # smp_rt::block_on(async {
    /// let lock = RwLock::new((1, 2));
    /// let guard = lock.read().await;
    /// let guard = RwLockReadGuard::try_map(guard, |t| Some(&t.1)).expect("should not fail");
    /// assert_eq!(2, *guard);
    /// # });
    /// ```
    pub fn try_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => data as *const U,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockReadGuard {
            s: this.s,
            data,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds a read permit, so no writer exists, and
        // `data` points into the lock's value, which outlives `'a`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.s.release(1);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive write access to the value of a [`RwLock`]; released when
/// dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    permits_acquired: u32,
    s: &'a Semaphore,
    data: *mut T,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: the guard is an exclusive reference to `T`: sending it moves
// access to `T` to another thread (`T: Send`), and `&guard` gives `&T`
// (`T: Sync`); tokio asks for both in both cases.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Narrows the guard to a part of the value. The result can no longer
    /// be [downgraded](Self::downgrade).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::{RwLock, RwLockWriteGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # smp_rt::block_on(async {
    /// let lock = RwLock::new(Foo(1));
    ///
    /// {
    ///     let mut mapped = RwLockWriteGuard::map(lock.write().await, |f| &mut f.0);
    ///     *mapped = 2;
    /// }
    ///
    /// assert_eq!(Foo(2), *lock.read().await);
    /// # });
    /// ```
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let this = ManuallyDrop::new(this);
        RwLockMappedWriteGuard {
            permits_acquired: this.permits_acquired,
            s: this.s,
            data,
            marker: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value if `f` returns one, else
    /// hands the guard back.
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockMappedWriteGuard {
            permits_acquired: this.permits_acquired,
            s: this.s,
            data,
            marker: PhantomData,
        })
    }

    /// Turns the guard into a mapped guard of the whole value.
    pub fn into_mapped(this: Self) -> RwLockMappedWriteGuard<'a, T> {
        RwLockWriteGuard::map(this, |me| me)
    }

    /// Turns write access into read access to a part of the value,
    /// without letting any writer in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::{RwLock, RwLockWriteGuard};
    ///
    /// # smp_rt::block_on(async {
    /// let lock = RwLock::new((1, 2));
    /// let mut w = lock.write().await;
    /// w.0 = 3;
    /// let r = RwLockWriteGuard::downgrade_map(w, |t| &t.0);
    /// assert_eq!(*r, 3);
    /// assert!(lock.try_read().is_ok());
    /// # });
    /// ```
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> RwLockReadGuard<'a, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = f(&*this) as *const U;
        let this = ManuallyDrop::new(this);
        // Keep one permit: the read guard's.
        this.s.release((this.permits_acquired - 1) as usize);
        RwLockReadGuard {
            s: this.s,
            data,
            marker: PhantomData,
        }
    }

    /// Like [`downgrade_map`](Self::downgrade_map) if `f` returns a part;
    /// else hands the write guard back, still writing.
    pub fn try_downgrade_map<F, U: ?Sized>(this: Self, f: F) -> Result<RwLockReadGuard<'a, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => data as *const U,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        // Keep one permit: the read guard's.
        this.s.release((this.permits_acquired - 1) as usize);
        Ok(RwLockReadGuard {
            s: this.s,
            data,
            marker: PhantomData,
        })
    }

    /// Turns write access into read access without letting any writer in
    /// between. Readers waiting behind no writer may then take the lock
    /// too.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Arc::new(RwLock::new(1));
    ///
    /// let n = lock.write().await;
    ///
    /// let cloned_lock = lock.clone();
    /// let handle = smp_rt::spawn(async move {
    ///     *cloned_lock.write().await = 2;
    /// });
    ///
    /// let n = n.downgrade();
    /// assert_eq!(*n, 1, "downgrade is atomic");
    ///
    /// drop(n);
    /// handle.await.unwrap();
    /// assert_eq!(*lock.read().await, 2, "second writer obtained write lock");
    /// # });
    /// ```
    pub fn downgrade(self) -> RwLockReadGuard<'a, T> {
        let this = ManuallyDrop::new(self);
        // Keep one permit: the read guard's.
        this.s.release((this.permits_acquired - 1) as usize);
        RwLockReadGuard {
            s: this.s,
            data: this.data,
            marker: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit, so it is the only access to
        // the value, which outlives `'a`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as above, and the guard is borrowed mutably.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.s.release(self.permits_acquired as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive write access to a part of the value of a [`RwLock`], made by
/// [`RwLockWriteGuard::map`]; released when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct RwLockMappedWriteGuard<'a, T: ?Sized> {
    permits_acquired: u32,
    s: &'a Semaphore,
    data: *mut T,
    marker: PhantomData<&'a mut T>,
}

// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockMappedWriteGuard<'_, T> {}
// SAFETY: as for `RwLockWriteGuard`.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockMappedWriteGuard<'_, T> {}

impl<'a, T: ?Sized> RwLockMappedWriteGuard<'a, T> {
    /// Narrows the guard further.
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> RwLockMappedWriteGuard<'a, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let this = ManuallyDrop::new(this);
        RwLockMappedWriteGuard {
            permits_acquired: this.permits_acquired,
            s: this.s,
            data,
            marker: PhantomData,
        }
    }

    /// Narrows the guard further if `f` returns a part, else hands the
    /// guard back.
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<RwLockMappedWriteGuard<'a, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(RwLockMappedWriteGuard {
            permits_acquired: this.permits_acquired,
            s: this.s,
            data,
            marker: PhantomData,
        })
    }
}

impl<T: ?Sized> Deref for RwLockMappedWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: as for `RwLockWriteGuard`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for RwLockMappedWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `RwLockWriteGuard`.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for RwLockMappedWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.s.release(self.permits_acquired as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for RwLockMappedWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

// ----- owned guards -----

/// Takes the `Arc` out of a guard being dismantled.
///
/// # Safety
///
/// The guard must be in a `ManuallyDrop` that is never dropped nor used
/// again, so the `Arc` is not dropped twice.
unsafe fn take_lock<T: ?Sized>(lock: &Arc<RwLock<T>>) -> Arc<RwLock<T>> {
    // SAFETY: per the contract, the source is never used again.
    unsafe { std::ptr::read(lock) }
}

/// Shared read access to the value of a [`RwLock`] in an `Arc` (or, after
/// [`map`](Self::map), to a part of it, of type `U`); owns a clone of the
/// `Arc` and is released when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockReadGuard<T: ?Sized, U: ?Sized = T> {
    lock: Arc<RwLock<T>>,
    data: *const U,
    _p: PhantomData<T>,
}

// SAFETY: the guard holds an `Arc<RwLock<T>>` (which is `Send` for
// `T: Send + Sync`) and shares `&U` (which needs `U: Sync`).
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Send for OwnedRwLockReadGuard<T, U> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Sync for OwnedRwLockReadGuard<T, U> {}

impl<T: ?Sized, U: ?Sized> OwnedRwLockReadGuard<T, U> {
    /// The lock this guard reads.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// Narrows the guard to a part of the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::{RwLock, OwnedRwLockReadGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Arc::new(RwLock::new(Foo(1)));
    ///
    /// let guard = lock.read_owned().await;
    /// let guard = OwnedRwLockReadGuard::map(guard, |f| &f.0);
    ///
    /// assert_eq!(1, *guard);
    /// # });
    /// ```
    pub fn map<F, V: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, V>
    where
        F: FnOnce(&U) -> &V,
    {
        let data = f(&*this) as *const V;
        let this = ManuallyDrop::new(this);
        OwnedRwLockReadGuard {
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data,
            _p: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value if `f` returns one, else
    /// hands the guard back.
    pub fn try_map<F, V: ?Sized>(this: Self, f: F) -> Result<OwnedRwLockReadGuard<T, V>, Self>
    where
        F: FnOnce(&U) -> Option<&V>,
    {
        let data = match f(&*this) {
            Some(data) => data as *const V,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(OwnedRwLockReadGuard {
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data,
            _p: PhantomData,
        })
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockReadGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: the guard holds a read permit and keeps the lock alive
        // through its `Arc`; `data` points into the lock's value.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockReadGuard<T, U> {
    fn drop(&mut self) {
        self.lock.s.release(1);
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockReadGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedRwLockReadGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive write access to the value of a [`RwLock`] in an `Arc`; owns
/// a clone of the `Arc` and is released when dropped.
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    permits_acquired: u32,
    lock: Arc<RwLock<T>>,
    data: *mut T,
    _p: PhantomData<T>,
}

// SAFETY: as for `RwLockWriteGuard`; the `Arc<RwLock<T>>` it owns is
// `Send + Sync` under the same bounds.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockWriteGuard<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// The lock this guard writes.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// Narrows the guard to a part of the value.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::{RwLock, OwnedRwLockWriteGuard};
    ///
    /// #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    /// struct Foo(u32);
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Arc::new(RwLock::new(Foo(1)));
    ///
    /// {
    ///     let lock = Arc::clone(&lock);
    ///     let mut mapped = OwnedRwLockWriteGuard::map(lock.write_owned().await, |f| &mut f.0);
    ///     *mapped = 2;
    /// }
    ///
    /// assert_eq!(Foo(2), *lock.read().await);
    /// # });
    /// ```
    pub fn map<F, U: ?Sized>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, U>
    where
        F: FnOnce(&mut T) -> &mut U,
    {
        let data = f(&mut *this) as *mut U;
        let this = ManuallyDrop::new(this);
        OwnedRwLockMappedWriteGuard {
            permits_acquired: this.permits_acquired,
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data,
            _p: PhantomData,
        }
    }

    /// Narrows the guard to a part of the value if `f` returns one, else
    /// hands the guard back.
    pub fn try_map<F, U: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, U>, Self>
    where
        F: FnOnce(&mut T) -> Option<&mut U>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut U,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(OwnedRwLockMappedWriteGuard {
            permits_acquired: this.permits_acquired,
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data,
            _p: PhantomData,
        })
    }

    /// Turns the guard into a mapped guard of the whole value.
    pub fn into_mapped(this: Self) -> OwnedRwLockMappedWriteGuard<T> {
        Self::map(this, |me| me)
    }

    /// Turns write access into read access to a part of the value,
    /// without letting any writer in between.
    pub fn downgrade_map<F, U: ?Sized>(this: Self, f: F) -> OwnedRwLockReadGuard<T, U>
    where
        F: FnOnce(&T) -> &U,
    {
        let data = f(&*this) as *const U;
        let this = ManuallyDrop::new(this);
        // Keep one permit: the read guard's.
        this.lock.s.release((this.permits_acquired - 1) as usize);
        OwnedRwLockReadGuard {
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data,
            _p: PhantomData,
        }
    }

    /// Like [`downgrade_map`](Self::downgrade_map) if `f` returns a part;
    /// else hands the write guard back, still writing.
    pub fn try_downgrade_map<F, U: ?Sized>(
        this: Self,
        f: F,
    ) -> Result<OwnedRwLockReadGuard<T, U>, Self>
    where
        F: FnOnce(&T) -> Option<&U>,
    {
        let data = match f(&*this) {
            Some(data) => data as *const U,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        // Keep one permit: the read guard's.
        this.lock.s.release((this.permits_acquired - 1) as usize);
        Ok(OwnedRwLockReadGuard {
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data,
            _p: PhantomData,
        })
    }

    /// Turns write access into read access without letting any writer in
    /// between.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::RwLock;
    ///
    /// # smp_rt::block_on(async {
    /// let lock = Arc::new(RwLock::new(1));
    /// let n = lock.clone().write_owned().await;
    /// let n = n.downgrade();
    /// assert_eq!(*n, 1);
    /// assert!(lock.try_read().is_ok());
    /// assert!(lock.try_write().is_err());
    /// # });
    /// ```
    pub fn downgrade(self) -> OwnedRwLockReadGuard<T> {
        let this = ManuallyDrop::new(self);
        // Keep one permit: the read guard's.
        this.lock.s.release((this.permits_acquired - 1) as usize);
        OwnedRwLockReadGuard {
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data: this.data,
            _p: PhantomData,
        }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds every permit and keeps the lock alive.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as above, and the guard is borrowed mutably.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.s.release(self.permits_acquired as usize);
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized + fmt::Display> fmt::Display for OwnedRwLockWriteGuard<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

/// Exclusive write access to a part (of type `U`) of the value of a
/// [`RwLock`] in an `Arc`, made by [`OwnedRwLockWriteGuard::map`].
#[must_use = "if unused the RwLock will immediately unlock"]
pub struct OwnedRwLockMappedWriteGuard<T: ?Sized, U: ?Sized = T> {
    permits_acquired: u32,
    lock: Arc<RwLock<T>>,
    data: *mut U,
    _p: PhantomData<T>,
}

// SAFETY: as for `OwnedRwLockWriteGuard`, plus exclusive access to `U`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Send
    for OwnedRwLockMappedWriteGuard<T, U>
{
}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Send + Sync> Sync
    for OwnedRwLockMappedWriteGuard<T, U>
{
}

impl<T: ?Sized, U: ?Sized> OwnedRwLockMappedWriteGuard<T, U> {
    /// The lock this guard writes.
    pub fn rwlock(this: &Self) -> &Arc<RwLock<T>> {
        &this.lock
    }

    /// Narrows the guard further.
    pub fn map<F, V: ?Sized>(mut this: Self, f: F) -> OwnedRwLockMappedWriteGuard<T, V>
    where
        F: FnOnce(&mut U) -> &mut V,
    {
        let data = f(&mut *this) as *mut V;
        let this = ManuallyDrop::new(this);
        OwnedRwLockMappedWriteGuard {
            permits_acquired: this.permits_acquired,
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data,
            _p: PhantomData,
        }
    }

    /// Narrows the guard further if `f` returns a part, else hands the
    /// guard back.
    pub fn try_map<F, V: ?Sized>(
        mut this: Self,
        f: F,
    ) -> Result<OwnedRwLockMappedWriteGuard<T, V>, Self>
    where
        F: FnOnce(&mut U) -> Option<&mut V>,
    {
        let data = match f(&mut *this) {
            Some(data) => data as *mut V,
            None => return Err(this),
        };
        let this = ManuallyDrop::new(this);
        Ok(OwnedRwLockMappedWriteGuard {
            permits_acquired: this.permits_acquired,
            // SAFETY: `this` is a `ManuallyDrop` not used after this.
            lock: unsafe { take_lock(&this.lock) },
            data,
            _p: PhantomData,
        })
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedRwLockMappedWriteGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: as for `OwnedRwLockWriteGuard`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedRwLockMappedWriteGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as for `OwnedRwLockWriteGuard`.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedRwLockMappedWriteGuard<T, U> {
    fn drop(&mut self) {
        self.lock.s.release(self.permits_acquired as usize);
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Debug> fmt::Debug for OwnedRwLockMappedWriteGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: ?Sized, U: ?Sized + fmt::Display> fmt::Display for OwnedRwLockMappedWriteGuard<T, U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&**self, f)
    }
}

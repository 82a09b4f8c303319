//! [`OnceCell`]: a cell initialized at most once, by an async function.

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};

use smp_rt_executor::task::poll_charge;

use crate::semaphore::{Semaphore, SemaphorePermit, TryAcquireError};

/// A thread-safe cell that can be written to only once.
///
/// A `OnceCell` is typically used for global variables that need to be
/// initialized once on first use, but need no further changes. The
/// `OnceCell` in smp_rt allows the initialization procedure to be
/// asynchronous.
///
/// Initializers wait in line on a one-permit [`Semaphore`]: one runs at a
/// time, and if it fails or is cancelled the next one runs. Every poll of a
/// [`get_or_init`](Self::get_or_init) future that is not running its
/// initializer charges one reduction to the calling task.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::OnceCell;
///
/// async fn some_computation() -> u32 {
///     1 + 1
/// }
///
/// static ONCE: OnceCell<u32> = OnceCell::const_new();
///
/// # smp_rt::block_on(async {
/// let result = ONCE.get_or_init(some_computation).await;
/// assert_eq!(*result, 2);
/// # });
/// ```
pub struct OnceCell<T> {
    /// Set (Release) once `value` is written; read with Acquire before
    /// `value` is read.
    value_set: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
    /// One permit, held by the running initializer; closed once the value
    /// is set, which releases every waiting initializer.
    semaphore: Semaphore,
}

// SAFETY: `&OnceCell<T>` hands out `&T` (so `T: Sync` is needed) and lets
// any thread store a `T` that another thread will drop (so `T: Send`).
unsafe impl<T: Sync + Send> Sync for OnceCell<T> {}
// SAFETY: moving the cell moves the `T` it may hold.
unsafe impl<T: Send> Send for OnceCell<T> {}

/// Error returned by [`OnceCell::set`]; it holds the value that was not
/// stored.
#[derive(Debug, PartialEq, Eq)]
pub enum SetError<T> {
    /// The cell was already initialized.
    AlreadyInitializedError(T),
    /// The cell is being initialized by a `get_or_init` call.
    InitializingError(T),
}

impl<T> fmt::Display for SetError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetError::AlreadyInitializedError(_) => f.write_str("AlreadyInitializedError"),
            SetError::InitializingError(_) => f.write_str("InitializingError"),
        }
    }
}

impl<T: fmt::Debug> std::error::Error for SetError<T> {}

impl<T> SetError<T> {
    /// Whether the error is [`SetError::AlreadyInitializedError`].
    pub fn is_already_init_err(&self) -> bool {
        matches!(self, SetError::AlreadyInitializedError(_))
    }

    /// Whether the error is [`SetError::InitializingError`].
    pub fn is_initializing_err(&self) -> bool {
        matches!(self, SetError::InitializingError(_))
    }
}

impl<T> OnceCell<T> {
    /// Creates an empty cell.
    pub fn new() -> Self {
        Self::const_new()
    }

    /// Creates an empty cell in a `const` context, for example a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::OnceCell;
    ///
    /// static ONCE: OnceCell<u32> = OnceCell::const_new();
    ///
    /// # smp_rt::block_on(async {
    /// assert_eq!(*ONCE.get_or_init(|| async { 1 + 1 }).await, 2);
    /// # });
    /// ```
    pub const fn const_new() -> Self {
        OnceCell {
            value_set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            semaphore: Semaphore::const_new(1),
        }
    }

    /// Creates a cell holding `value` if it is `Some`, else an empty one.
    pub fn new_with(value: Option<T>) -> Self {
        match value {
            Some(v) => Self::const_new_with(v),
            None => Self::new(),
        }
    }

    /// Creates an initialized cell in a `const` context.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::OnceCell;
    ///
    /// static ONCE: OnceCell<u32> = OnceCell::const_new_with(1);
    ///
    /// # smp_rt::block_on(async {
    /// assert_eq!(*ONCE.get_or_init(|| async { 2 }).await, 1);
    /// # });
    /// ```
    pub const fn const_new_with(value: T) -> Self {
        OnceCell {
            value_set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            semaphore: Semaphore::const_new_closed(),
        }
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        // Acquire: pairs with the Release store in `set_value`, so that the
        // value written before it is visible.
        self.value_set.load(Acquire)
    }

    /// # Safety
    ///
    /// `initialized()` must have returned `true`.
    unsafe fn get_unchecked(&self) -> &T {
        // SAFETY: the caller saw `value_set` (Acquire), so the value is
        // written and visible, and it is never written again while `&self`
        // lives.
        unsafe { (*self.value.get()).assume_init_ref() }
    }

    /// Stores `value` (the caller holds the permit) and releases the
    /// waiting initializers.
    fn set_value(&self, value: T, permit: SemaphorePermit<'_>) -> &T {
        // SAFETY: the caller holds the only permit and the cell is not
        // initialized, so nobody reads or writes `value` meanwhile.
        unsafe { (*self.value.get()).write(value) };
        // Release: publishes the value to `initialized()` loads.
        self.value_set.store(true, Release);
        self.semaphore.close();
        permit.forget();
        // SAFETY: just initialized.
        unsafe { self.get_unchecked() }
    }

    /// The value, if the cell is initialized.
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: checked just above.
            Some(unsafe { self.get_unchecked() })
        } else {
            None
        }
    }

    /// A mutable reference to the value, if the cell is initialized. No
    /// synchronization is needed: the borrow is exclusive.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        if *self.value_set.get_mut() {
            // SAFETY: initialized, and `&mut self` is exclusive.
            Some(unsafe { self.value.get_mut().assume_init_mut() })
        } else {
            None
        }
    }

    /// Stores `value` if the cell is empty and no initializer is running.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::{OnceCell, SetError};
    ///
    /// let cell = OnceCell::new();
    /// assert!(cell.set(1).is_ok());
    /// assert_eq!(cell.set(2), Err(SetError::AlreadyInitializedError(2)));
    /// assert_eq!(cell.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetError<T>> {
        if self.initialized() {
            return Err(SetError::AlreadyInitializedError(value));
        }
        match self.semaphore.try_acquire() {
            Ok(permit) => {
                debug_assert!(!self.initialized());
                self.set_value(value, permit);
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => Err(SetError::InitializingError(value)),
            Err(TryAcquireError::Closed) => Err(SetError::AlreadyInitializedError(value)),
        }
    }

    /// Returns the value, initializing the cell with `f` first if it is
    /// empty.
    ///
    /// Concurrent callers wait while one initializer runs; if that one is
    /// cancelled (its future dropped) or panics, the next caller in line
    /// runs its own initializer.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::OnceCell;
    ///
    /// async fn some_computation() -> u32 {
    ///     1 + 1
    /// }
    ///
    /// static ONCE: OnceCell<u32> = OnceCell::const_new();
    ///
    /// # smp_rt::block_on(async {
    /// let result = ONCE.get_or_init(some_computation).await;
    /// assert_eq!(*result, 2);
    /// # });
    /// ```
    pub async fn get_or_init<F, Fut>(&self, f: F) -> &T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        if self.initialized() {
            std::future::poll_fn(poll_charge).await;
            // SAFETY: checked just above.
            return unsafe { self.get_unchecked() };
        }
        // The acquire charges a reduction at each poll.
        match self.semaphore.acquire().await {
            Ok(permit) => {
                debug_assert!(!self.initialized());
                let value = f().await;
                self.set_value(value, permit)
            }
            Err(_) => {
                debug_assert!(self.initialized());
                // SAFETY: the semaphore is closed only after the value is
                // set (and the close is seen through its SeqCst state).
                unsafe { self.get_unchecked() }
            }
        }
    }

    /// Returns the value, initializing the cell with `f` first if it is
    /// empty; if `f` fails, the cell stays empty, the error is returned
    /// and the next caller in line runs its initializer.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::OnceCell;
    ///
    /// # smp_rt::block_on(async {
    /// let cell = OnceCell::new();
    /// assert_eq!(cell.get_or_try_init(|| async { Err::<u32, _>("no") }).await, Err("no"));
    /// assert_eq!(cell.get_or_try_init(|| async { Ok::<_, &str>(3) }).await, Ok(&3));
    /// # });
    /// ```
    pub async fn get_or_try_init<E, F, Fut>(&self, f: F) -> Result<&T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        if self.initialized() {
            std::future::poll_fn(poll_charge).await;
            // SAFETY: checked just above.
            return Ok(unsafe { self.get_unchecked() });
        }
        match self.semaphore.acquire().await {
            Ok(permit) => {
                debug_assert!(!self.initialized());
                // On error the permit is dropped: the next waiter tries.
                let value = f().await?;
                Ok(self.set_value(value, permit))
            }
            Err(_) => {
                debug_assert!(self.initialized());
                // SAFETY: as in `get_or_init`.
                Ok(unsafe { self.get_unchecked() })
            }
        }
    }

    /// Consumes the cell, returning its value if it holds one.
    pub fn into_inner(mut self) -> Option<T> {
        self.take()
    }

    /// Takes the value out of the cell, leaving it empty.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::OnceCell;
    ///
    /// let mut cell = OnceCell::new_with(Some(5));
    /// assert_eq!(cell.take(), Some(5));
    /// assert!(!cell.initialized());
    /// cell.set(6).unwrap();
    /// ```
    pub fn take(&mut self) -> Option<T> {
        if !std::mem::take(self.value_set.get_mut()) {
            return None;
        }
        // The permit went away when the value was set: start over.
        self.semaphore = Semaphore::new(1);
        // SAFETY: the value was initialized and `value_set` is now false,
        // so it is read out exactly once.
        Some(unsafe { self.value.get_mut().assume_init_read() })
    }
}

impl<T> Drop for OnceCell<T> {
    fn drop(&mut self) {
        if *self.value_set.get_mut() {
            // SAFETY: initialized, and never read out (`take` clears the
            // flag).
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

impl<T> Default for OnceCell<T> {
    fn default() -> Self {
        OnceCell::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for OnceCell<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnceCell")
            .field("value", &self.get())
            .finish()
    }
}

impl<T: Clone> Clone for OnceCell<T> {
    fn clone(&self) -> Self {
        OnceCell::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for OnceCell<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for OnceCell<T> {}

impl<T> From<T> for OnceCell<T> {
    fn from(value: T) -> Self {
        OnceCell::const_new_with(value)
    }
}

//! [`SetOnce`]: a cell set at most once, which tasks can wait on.

use std::cell::UnsafeCell;
use std::fmt;
use std::mem::MaybeUninit;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::{Mutex, PoisonError};

use crate::notify::Notify;
use crate::util::{charged, notified};

/// A thread-safe cell that can be written to only once, and that tasks
/// can [wait](Self::wait) on until it is.
///
/// Unlike [`OnceCell`](crate::OnceCell), the value is not produced by the
/// waiters: some other code [sets](Self::set) it.
///
/// Every poll of a [`wait`](Self::wait) future charges one reduction to the
/// calling task.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::{SetOnce, SetOnceError};
///
/// static ONCE: SetOnce<u32> = SetOnce::const_new();
///
/// # smp_rt::block_on(async {
/// assert_eq!(ONCE.set(2), Ok(()));
/// assert_eq!(ONCE.set(3), Err(SetOnceError(3)));
/// assert_eq!(*ONCE.wait().await, 2);
/// # });
/// ```
///
/// Waiting for another task to set it:
///
/// ```
/// use std::sync::Arc;
/// use smp_rt::sync::SetOnce;
///
/// # smp_rt::block_on(async {
/// let once = Arc::new(SetOnce::new());
/// let setter = once.clone();
/// smp_rt::spawn(async move { setter.set(20).unwrap() });
/// assert_eq!(*once.wait().await, 20);
/// # });
/// ```
pub struct SetOnce<T> {
    /// Set (Release) once `value` is written; read with Acquire before
    /// `value` is read.
    value_set: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
    /// Serializes `set` calls.
    lock: Mutex<()>,
    /// Wakes the waiters once the value is set.
    notify: Notify,
}

// SAFETY: `&SetOnce<T>` hands out `&T` (so `T: Sync` is needed) and lets
// any thread store a `T` that another thread will drop (so `T: Send`).
unsafe impl<T: Sync + Send> Sync for SetOnce<T> {}
// SAFETY: moving the cell moves the `T` it may hold.
unsafe impl<T: Send> Send for SetOnce<T> {}

/// Error returned by [`SetOnce::set`] when the cell was already set; it
/// holds the value that was not stored.
#[derive(Debug, PartialEq, Eq)]
pub struct SetOnceError<T>(pub T);

impl<T> fmt::Display for SetOnceError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SetOnceError")
    }
}

impl<T: fmt::Debug> std::error::Error for SetOnceError<T> {}

impl<T> SetOnce<T> {
    /// Creates an empty cell.
    pub fn new() -> Self {
        Self::const_new()
    }

    /// Creates an empty cell in a `const` context, for example a `static`.
    pub const fn const_new() -> Self {
        SetOnce {
            value_set: AtomicBool::new(false),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            lock: Mutex::new(()),
            notify: Notify::const_new(),
        }
    }

    /// Creates a cell holding `value` if it is `Some`, else an empty one.
    pub fn new_with(value: Option<T>) -> Self {
        match value {
            Some(v) => Self::const_new_with(v),
            None => Self::new(),
        }
    }

    /// Creates a set cell in a `const` context.
    pub const fn const_new_with(value: T) -> Self {
        SetOnce {
            value_set: AtomicBool::new(true),
            value: UnsafeCell::new(MaybeUninit::new(value)),
            lock: Mutex::new(()),
            notify: Notify::const_new(),
        }
    }

    /// Whether the cell holds a value.
    pub fn initialized(&self) -> bool {
        // Acquire: pairs with the Release store in `set`.
        self.value_set.load(Acquire)
    }

    /// The value, if the cell is set.
    pub fn get(&self) -> Option<&T> {
        if self.initialized() {
            // SAFETY: `value_set` was seen (Acquire) after the value was
            // written, and it is never written again while `&self` lives.
            Some(unsafe { (*self.value.get()).assume_init_ref() })
        } else {
            None
        }
    }

    /// Stores `value` if the cell is empty, and wakes the waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::{SetOnce, SetOnceError};
    ///
    /// let once = SetOnce::new();
    /// assert_eq!(once.set(1), Ok(()));
    /// assert_eq!(once.set(2), Err(SetOnceError(2)));
    /// assert_eq!(once.get(), Some(&1));
    /// ```
    pub fn set(&self, value: T) -> Result<(), SetOnceError<T>> {
        if self.initialized() {
            return Err(SetOnceError(value));
        }
        {
            let _guard = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            if self.initialized() {
                return Err(SetOnceError(value));
            }
            // SAFETY: the lock serializes writers and the cell is empty, so
            // no reader has a reference and no other writer runs.
            unsafe { (*self.value.get()).write(value) };
            // Release: publishes the value to `initialized()` loads.
            self.value_set.store(true, Release);
        }
        self.notify.notify_waiters();
        Ok(())
    }

    /// Waits until the cell is set, and returns its value.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::SetOnce;
    ///
    /// # smp_rt::block_on(async {
    /// let once = Arc::new(SetOnce::new());
    /// let setter = once.clone();
    /// smp_rt::spawn(async move { setter.set("ready").unwrap() });
    /// assert_eq!(*once.wait().await, "ready");
    /// # });
    /// ```
    pub async fn wait(&self) -> &T {
        charged(async {
            loop {
                // Created before the check: `set` notifies after storing.
                let n = self.notify.notified();
                if let Some(v) = self.get() {
                    return v;
                }
                notified(n).await;
            }
        })
        .await
    }

    /// Consumes the cell, returning its value if it holds one.
    pub fn into_inner(mut self) -> Option<T> {
        if !std::mem::take(self.value_set.get_mut()) {
            return None;
        }
        // SAFETY: the value was set and the flag is now clear, so it is
        // read out exactly once (`Drop` will not drop it again).
        Some(unsafe { self.value.get_mut().assume_init_read() })
    }
}

impl<T> Drop for SetOnce<T> {
    fn drop(&mut self) {
        if *self.value_set.get_mut() {
            // SAFETY: set, and never read out (`into_inner` clears the
            // flag).
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

impl<T> Default for SetOnce<T> {
    fn default() -> Self {
        SetOnce::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for SetOnce<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SetOnce")
            .field("value", &self.get())
            .finish()
    }
}

impl<T: Clone> Clone for SetOnce<T> {
    fn clone(&self) -> Self {
        SetOnce::new_with(self.get().cloned())
    }
}

impl<T: PartialEq> PartialEq for SetOnce<T> {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl<T: Eq> Eq for SetOnce<T> {}

impl<T> From<T> for SetOnce<T> {
    fn from(value: T) -> Self {
        SetOnce::const_new_with(value)
    }
}

//! Task-local storage: tokio's `task_local!` and `LocalKey`.
//!
//! A task-local value is set for the polls of one future (its *scope*):
//! around each poll of the scoped future, [`TaskLocalFuture`] swaps the value
//! into a thread-local and swaps it out again afterwards (also on
//! unwinding). So the value follows the future from worker to worker, and
//! other tasks polled on the same thread never see it.

use std::cell::RefCell;
use std::error::Error;
use std::future::Future;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::{fmt, mem, thread};

/// Declares task-local keys of type [`LocalKey`].
///
/// The syntax is `std::thread_local!`'s without initialiser: a value is set
/// by [`LocalKey::scope`] or [`LocalKey::sync_scope`].
///
/// # Examples
///
/// ```
/// smp_rt_executor::task_local! {
///     pub static REQUEST_ID: u32;
///     static USER: String;
/// }
///
/// # smp_rt_executor::block_on(async {
/// REQUEST_ID
///     .scope(7, async {
///         assert_eq!(REQUEST_ID.get(), 7);
///     })
///     .await;
/// assert!(USER.try_with(|_| ()).is_err());
/// # });
/// ```
#[macro_export]
macro_rules! task_local {
    () => {};
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty; $($rest:tt)*) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
        $crate::task_local!($($rest)*);
    };
    ($(#[$attr:meta])* $vis:vis static $name:ident: $t:ty) => {
        $crate::__task_local_inner!($(#[$attr])* $vis $name, $t);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __task_local_inner {
    ($(#[$attr:meta])* $vis:vis $name:ident, $t:ty) => {
        $(#[$attr])*
        $vis static $name: $crate::task::LocalKey<$t> = {
            ::std::thread_local! {
                static __KEY: ::std::cell::RefCell<::std::option::Option<$t>> =
                    const { ::std::cell::RefCell::new(::std::option::Option::None) };
            }
            $crate::task::LocalKey { inner: __KEY }
        };
    };
}

/// A key for task-local data, declared with [`task_local!`](crate::task_local).
///
/// # Examples
///
/// ```
/// smp_rt_executor::task_local! {
///     static NUMBER: u32;
/// }
///
/// # smp_rt_executor::block_on(async {
/// NUMBER
///     .scope(1, async move {
///         assert_eq!(NUMBER.get(), 1);
///         NUMBER
///             .scope(2, async move { assert_eq!(NUMBER.get(), 2) })
///             .await;
///         assert_eq!(NUMBER.get(), 1);
///     })
///     .await;
/// # });
/// ```
pub struct LocalKey<T: 'static> {
    #[doc(hidden)]
    pub inner: thread::LocalKey<RefCell<Option<T>>>,
}

impl<T: 'static> LocalKey<T> {
    /// Sets the task-local to `value` for the polls of `future`: the
    /// returned future runs `future` with it set.
    ///
    /// # Examples
    ///
    /// ```
    /// smp_rt_executor::task_local! {
    ///     static NAME: &'static str;
    /// }
    ///
    /// # smp_rt_executor::block_on(async {
    /// let len = NAME.scope("smp_rt", async { NAME.with(|name| name.len()) }).await;
    /// assert_eq!(len, 6);
    /// # });
    /// ```
    pub fn scope<F: Future>(&'static self, value: T, future: F) -> TaskLocalFuture<T, F> {
        TaskLocalFuture {
            local: self,
            slot: Some(value),
            future: Some(future),
            _pinned: PhantomPinned,
        }
    }

    /// Sets the task-local to `value` while `f` runs.
    ///
    /// # Panics
    ///
    /// Panics if called inside [`with`](LocalKey::with) of the same key.
    ///
    /// # Examples
    ///
    /// ```
    /// smp_rt_executor::task_local! {
    ///     static DEPTH: u32;
    /// }
    ///
    /// let depth = DEPTH.sync_scope(3, || DEPTH.get() + 1);
    /// assert_eq!(depth, 4);
    /// ```
    #[track_caller]
    pub fn sync_scope<F, R>(&'static self, value: T, f: F) -> R
    where
        F: FnOnce() -> R,
    {
        let mut slot = Some(value);
        match self.scope_inner(&mut slot, f) {
            Ok(out) => out,
            Err(err) => err.panic(),
        }
    }

    /// Swaps `slot` into the thread-local, runs `f`, and swaps it back out
    /// (also when `f` unwinds).
    fn scope_inner<F, R>(&'static self, slot: &mut Option<T>, f: F) -> Result<R, ScopeInnerErr>
    where
        F: FnOnce() -> R,
    {
        struct Guard<'a, T: 'static> {
            local: &'static LocalKey<T>,
            slot: &'a mut Option<T>,
        }

        impl<T: 'static> Drop for Guard<'_, T> {
            fn drop(&mut self) {
                // Cannot fail: the swap in succeeded, so the thread-local is
                // alive, and every borrow taken inside `f` has ended.
                self.local.inner.with(|inner| {
                    mem::swap(self.slot, &mut *inner.borrow_mut());
                });
            }
        }

        self.inner.try_with(|inner| {
            inner
                .try_borrow_mut()
                .map(|mut current| mem::swap(slot, &mut *current))
        })??;
        let guard = Guard { local: self, slot };
        let out = f();
        drop(guard);
        Ok(out)
    }

    /// Runs `f` with a reference to the task-local's value.
    ///
    /// # Panics
    ///
    /// Panics outside a scope of this key; see [`try_with`](LocalKey::try_with).
    ///
    /// # Examples
    ///
    /// ```
    /// smp_rt_executor::task_local! {
    ///     static LIST: Vec<u32>;
    /// }
    ///
    /// let sum = LIST.sync_scope(vec![1, 2, 3], || LIST.with(|list| list.iter().sum::<u32>()));
    /// assert_eq!(sum, 6);
    /// ```
    #[track_caller]
    pub fn with<F, R>(&'static self, f: F) -> R
    where
        F: FnOnce(&T) -> R,
    {
        match self.try_with(f) {
            Ok(out) => out,
            Err(_) => panic!(
                "cannot access a task-local storage value without setting it first via \
                 `LocalKey::scope` or `LocalKey::sync_scope`"
            ),
        }
    }

    /// Runs `f` with a reference to the task-local's value, or returns
    /// [`AccessError`] outside a scope of this key.
    ///
    /// # Examples
    ///
    /// ```
    /// smp_rt_executor::task_local! {
    ///     static FLAG: bool;
    /// }
    ///
    /// assert!(FLAG.try_with(|flag| *flag).is_err());
    /// assert_eq!(FLAG.sync_scope(true, || FLAG.try_with(|flag| *flag)), Ok(true));
    /// ```
    pub fn try_with<F, R>(&'static self, f: F) -> Result<R, AccessError>
    where
        F: FnOnce(&T) -> R,
    {
        let out = self.inner.try_with(|inner| {
            inner
                .try_borrow()
                .ok()
                .and_then(|value| value.as_ref().map(f))
        });
        match out {
            Ok(Some(out)) => Ok(out),
            Ok(None) | Err(_) => Err(AccessError { _private: () }),
        }
    }
}

impl<T: Clone + 'static> LocalKey<T> {
    /// A copy of the task-local's value.
    ///
    /// # Panics
    ///
    /// Panics outside a scope of this key.
    ///
    /// # Examples
    ///
    /// ```
    /// smp_rt_executor::task_local! {
    ///     static ID: u64;
    /// }
    ///
    /// assert_eq!(ID.sync_scope(9, || ID.get()), 9);
    /// ```
    #[track_caller]
    pub fn get(&'static self) -> T {
        self.with(T::clone)
    }

    /// A copy of the task-local value, or an [`AccessError`] if it is not
    /// set here (tokio's `try_get`).
    ///
    /// # Examples
    ///
    /// ```
    /// smp_rt_executor::task_local! {
    ///     static NUMBER: u32;
    /// }
    ///
    /// assert!(NUMBER.try_get().is_err());
    /// NUMBER.sync_scope(7, || assert_eq!(NUMBER.try_get(), Ok(7)));
    /// ```
    pub fn try_get(&'static self) -> Result<T, AccessError> {
        self.try_with(T::clone)
    }
}

impl<T: 'static> fmt::Debug for LocalKey<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad("LocalKey { .. }")
    }
}

pin_project_lite::pin_project! {
    /// A future that sets a task-local value around each of its polls:
    /// returned by [`LocalKey::scope`].
    ///
    /// Dropping it drops the inner future with the value set too.
    ///
    /// # Examples
    ///
    /// ```
    /// smp_rt_executor::task_local! {
    ///     static KEY: u32;
    /// }
    ///
    /// # smp_rt_executor::block_on(async {
    /// let future: smp_rt_executor::task::TaskLocalFuture<u32, _> =
    ///     KEY.scope(5, async { KEY.get() * 2 });
    /// assert_eq!(future.await, 10);
    /// # });
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct TaskLocalFuture<T, F>
    where
        T: 'static,
    {
        local: &'static LocalKey<T>,
        slot: Option<T>,
        #[pin]
        future: Option<F>,
        #[pin]
        _pinned: PhantomPinned,
    }

    impl<T, F> PinnedDrop for TaskLocalFuture<T, F>
    where
        T: 'static,
    {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if mem::needs_drop::<F>() && this.future.is_some() {
                // Drop the future inside the scope, so that its destructor
                // sees the value too. If the key cannot be set (the thread
                // is exiting, or a `with` of the key is running), the future
                // is dropped without it.
                let mut future = this.future;
                let _ = this.local.scope_inner(this.slot, || future.set(None));
            }
        }
    }
}

impl<T: 'static, F> TaskLocalFuture<T, F> {
    /// Takes the value out of the future, if it still holds it: it does
    /// while no poll is running (and not after this has taken it).
    ///
    /// # Examples
    ///
    /// ```
    /// smp_rt_executor::task_local! {
    ///     static KEY: u32;
    /// }
    ///
    /// let mut future = Box::pin(KEY.scope(5, async {}));
    /// assert_eq!(future.as_mut().take_value(), Some(5));
    /// assert_eq!(future.as_mut().take_value(), None);
    /// ```
    pub fn take_value(self: Pin<&mut Self>) -> Option<T> {
        self.project().slot.take()
    }
}

impl<T: 'static, F: Future> Future for TaskLocalFuture<T, F> {
    type Output = F::Output;

    #[track_caller]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let mut future = this.future;
        let out = this
            .local
            .scope_inner(this.slot, || match future.as_mut().as_pin_mut() {
                Some(inner) => {
                    let out = inner.poll(cx);
                    if out.is_ready() {
                        future.set(None);
                    }
                    Some(out)
                }
                None => None,
            });
        match out {
            Ok(Some(out)) => out,
            Ok(None) => panic!("`TaskLocalFuture` polled after completion"),
            Err(err) => err.panic(),
        }
    }
}

impl<T: 'static + fmt::Debug, F> fmt::Debug for TaskLocalFuture<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLocalFuture")
            .field("value", &self.slot)
            .finish_non_exhaustive()
    }
}

/// Returned by [`LocalKey::try_with`] outside a scope of the key.
///
/// # Examples
///
/// ```
/// smp_rt_executor::task_local! {
///     static KEY: u32;
/// }
///
/// let err = KEY.try_with(|_| ()).unwrap_err();
/// assert_eq!(err.to_string(), "task-local value not set");
/// ```
#[derive(Clone, Copy, Eq, PartialEq)]
pub struct AccessError {
    _private: (),
}

impl fmt::Debug for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessError").finish()
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task-local value not set")
    }
}

impl Error for AccessError {}

enum ScopeInnerErr {
    BorrowError,
    AccessError,
}

impl ScopeInnerErr {
    #[track_caller]
    fn panic(&self) -> ! {
        match self {
            ScopeInnerErr::BorrowError => panic!(
                "cannot enter a task-local scope while the task-local storage is borrowed \
                 (inside `LocalKey::with` of the same key)"
            ),
            ScopeInnerErr::AccessError => panic!(
                "cannot enter a task-local scope during or after destruction of the \
                 underlying thread-local"
            ),
        }
    }
}

impl From<std::cell::BorrowMutError> for ScopeInnerErr {
    fn from(_: std::cell::BorrowMutError) -> ScopeInnerErr {
        ScopeInnerErr::BorrowError
    }
}

impl From<thread::AccessError> for ScopeInnerErr {
    fn from(_: thread::AccessError) -> ScopeInnerErr {
        ScopeInnerErr::AccessError
    }
}

//! `runtime::Handle`: a cheap, cloneable reference to a runtime.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;

use super::{Id, Identity, RuntimeFlavor, RuntimeMetrics, block_on};
use crate::context;
use crate::scheduler::{Flavor, Shared};
use crate::task::{JoinHandle, Priority, QueueFull};

/// A handle to a runtime: spawn onto it, block on it, read its metrics.
///
/// # Examples
///
/// ```
/// use smp_rt_executor::runtime::{Handle, Runtime};
///
/// let rt = Runtime::new().unwrap();
/// let handle = rt.handle().clone();
/// std::thread::spawn(move || {
///     let h = handle.spawn(async { "from another thread" });
///     assert_eq!(handle.block_on(h).unwrap(), "from another thread");
/// })
/// .join()
/// .unwrap();
/// assert!(Handle::try_current().is_err());
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

// Unwind-safe, as tokio's `Handle` is. The runtime's shared state is made
// to survive panics in the user code it runs (task polls, destructors,
// wakers, thread hooks are caught; see `task/unwind.rs`), and its locks
// are guards that unlock on unwinding: a panic through code holding a
// handle cannot leave it in a state the runtime does not expect.
impl std::panic::UnwindSafe for Handle {}
impl std::panic::RefUnwindSafe for Handle {}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.shared.workers.len())
            .finish_non_exhaustive()
    }
}

/// Returned by [`Handle::try_current`] outside a runtime.
#[derive(Debug)]
pub struct TryCurrentError {
    /// The thread's locals were already destroyed (the thread is exiting),
    /// rather than no runtime entered.
    thread_local_destroyed: bool,
}

impl TryCurrentError {
    /// Whether the call was made outside any runtime.
    pub fn is_missing_context(&self) -> bool {
        !self.thread_local_destroyed
    }

    /// Whether the call was made while the thread's locals were being
    /// destroyed (from a thread-local's `Drop`, as the thread exits).
    pub fn is_thread_local_destroyed(&self) -> bool {
        self.thread_local_destroyed
    }
}

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.thread_local_destroyed {
            return f.write_str(
                "the smp_rt runtime context of this thread was already destroyed (the thread \
                 is exiting): the runtime cannot be reached from a thread-local's destructor",
            );
        }
        f.write_str(
            "there is no smp_rt runtime on this thread: call this from a task, \
             inside `Runtime::block_on`, or after `Runtime::enter`",
        )
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the runtime this thread is in.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime; see [`try_current`](Handle::try_current).
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Ok(handle) => handle,
            Err(err) => panic!("Handle::current(): {err}"),
        }
    }

    /// The handle of the runtime this thread is in, if any.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match context::try_handle() {
            Ok(Some(handle)) => Ok(handle),
            Ok(None) => Err(TryCurrentError {
                thread_local_destroyed: false,
            }),
            Err(_) => Err(TryCurrentError {
                thread_local_destroyed: true,
            }),
        }
    }

    /// Spawns a task on this runtime at `Normal` priority.
    ///
    /// It never fails, as tokio's: on a runtime at its `max_queued_tasks`
    /// the task is admitted past the limit (and counted), and
    /// [`try_spawn`](Handle::try_spawn) refuses until the count is below
    /// the limit again.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_task(future, None, Priority::Normal)
    }

    /// Spawns a task on this runtime at `Normal` priority if it holds fewer
    /// queued tasks than its `max_queued_tasks` (always, without a limit).
    /// Works from any thread, inside the runtime or not. A task is queued
    /// from its spawn until it finishes: see
    /// `smp_rt::runtime::Builder::max_queued_tasks`.
    ///
    /// # Errors
    ///
    /// [`QueueFull`] when the runtime is at its limit; the error gives the
    /// future back, unpolled ([`QueueFull::into_inner`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::{Builder, Settings};
    /// use std::num::NonZeroUsize;
    ///
    /// let mut settings = Settings::multi_thread();
    /// settings.max_queued_tasks = NonZeroUsize::new(1);
    /// let rt = Builder::with_settings(settings).worker_threads(1).build().unwrap();
    /// let handle = rt.handle();
    ///
    /// // The first task waits on a channel: queued until it finishes.
    /// let (tx, rx) = futures::channel::oneshot::channel::<()>();
    /// let first = handle.try_spawn(async move { rx.await.ok(); }).unwrap();
    /// let refused = handle.try_spawn(async { 2 }).unwrap_err();
    ///
    /// tx.send(()).unwrap();
    /// rt.block_on(first).unwrap();
    /// let second = handle.try_spawn(refused.into_inner()).unwrap();
    /// assert_eq!(rt.block_on(second).unwrap(), 2);
    /// ```
    pub fn try_spawn<F>(&self, future: F) -> Result<JoinHandle<F::Output>, QueueFull<F>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.try_spawn(future, None, Priority::Normal, None)
    }

    /// [`try_spawn`](Handle::try_spawn) with a name, a priority and a
    /// deadline.
    pub(crate) fn try_spawn_task<F>(
        &self,
        future: F,
        name: Option<Box<str>>,
        priority: Priority,
        deadline: Option<std::time::Instant>,
    ) -> Result<JoinHandle<F::Output>, QueueFull<F>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.try_spawn(future, name, priority, deadline)
    }

    /// Spawns a task on this runtime, with a name and a priority.
    pub(crate) fn spawn_task<F>(
        &self,
        future: F,
        name: Option<Box<str>>,
        priority: Priority,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, name, priority)
    }

    /// Runs `f` on this runtime's blocking pool.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.spawn_blocking(f)
    }

    /// Runs `future` to completion on the current thread, inside this
    /// runtime. See [`Runtime::block_on`](super::Runtime::block_on).
    ///
    /// # Panics
    ///
    /// Panics if called from a worker thread or inside another `block_on`.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on::assert_not_in_worker("block_on");
        let Some(_in_block_on) = context::enter_block_on() else {
            panic!(
                "block_on was called inside another block_on on this thread: the outer one's \
                 future would wait for the inner one, which nothing else drives. `.await` the \
                 future instead, or run it on another runtime from a plain thread \
                 (std::thread::spawn) or from spawn_blocking."
            );
        };
        if self.shared.is_shutdown() {
            panic!(
                "block_on was called on a Handle of a runtime that has been shut down (dropped): \
                 nothing drives its tasks, timers or IO any more. Keep the Runtime alive for as \
                 long as its Handles are used."
            );
        }
        let _enter = context::enter(self.clone());
        match self.shared.config.flavor {
            Flavor::MultiThread => block_on::on_this_thread(&self.shared, future),
            Flavor::CurrentThread => block_on::as_worker(&self.shared, future),
        }
    }

    /// Enters the runtime on this thread until the guard is dropped.
    pub fn enter(&self) -> EnterGuard<'_> {
        EnterGuard {
            local: None,
            _guard: context::enter(self.clone()),
            _handle: PhantomData,
        }
    }

    /// The service of type `T` attached with
    /// [`Builder::extension`](super::Builder::extension), if any.
    pub fn extension<T: std::any::Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.shared.config.extensions.get::<T>()
    }

    /// The service of type `T` of the runtime this thread is in:
    /// `Handle::try_current()?.extension::<T>()` without cloning the handle
    /// (timers look theirs up once per timer).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt_executor::runtime::{Builder, Handle};
    ///
    /// struct Service(u32);
    ///
    /// assert!(Handle::current_extension::<Service>().is_err(), "no runtime here");
    /// let rt = Builder::new_current_thread()
    ///     .extension(Arc::new(Service(7)))
    ///     .build()
    ///     .unwrap();
    /// rt.block_on(async {
    ///     let service = Handle::current_extension::<Service>().unwrap().unwrap();
    ///     assert_eq!(service.0, 7);
    ///     assert!(Handle::current_extension::<String>().unwrap().is_none());
    /// });
    /// ```
    pub fn current_extension<T: std::any::Any + Send + Sync>()
    -> Result<Option<Arc<T>>, TryCurrentError> {
        context::with_handle(Handle::extension::<T>).ok_or(TryCurrentError {
            thread_local_destroyed: false,
        })
    }

    /// The runtime's [`Id`], unique in the process.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::{Handle, Runtime};
    ///
    /// let rt = Runtime::new().unwrap();
    /// let id = rt.handle().id();
    /// assert_eq!(rt.block_on(async { Handle::current().id() }), id);
    /// ```
    pub fn id(&self) -> Id {
        self.identity().id
    }

    /// The runtime's name, if it was given one (`Builder::name`).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::{Builder, Settings};
    ///
    /// let mut settings = Settings::current_thread();
    /// settings.name = Some("my-runtime".to_owned());
    /// let rt = Builder::with_settings(settings).build().unwrap();
    /// assert_eq!(rt.handle().name(), Some("my-runtime"));
    ///
    /// let rt = Builder::new_current_thread().build().unwrap();
    /// assert_eq!(rt.handle().name(), None);
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.identity().name.as_deref()
    }

    /// The flavor of the runtime: [`RuntimeFlavor::CurrentThread`] for a
    /// runtime built with `new_current_thread`, whose one worker is the
    /// thread inside `block_on`, else [`RuntimeFlavor::MultiThread`].
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_executor::runtime::{Builder, Handle, RuntimeFlavor};
    ///
    /// let rt = Builder::new_current_thread().build().unwrap();
    /// let flavor = rt.block_on(async { Handle::current().runtime_flavor() });
    /// assert_eq!(flavor, RuntimeFlavor::CurrentThread);
    ///
    /// let rt = Builder::new_multi_thread().worker_threads(2).build().unwrap();
    /// assert_eq!(rt.handle().runtime_flavor(), RuntimeFlavor::MultiThread);
    /// ```
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        match self.shared.config.flavor {
            Flavor::CurrentThread => RuntimeFlavor::CurrentThread,
            Flavor::MultiThread => RuntimeFlavor::MultiThread,
        }
    }

    fn identity(&self) -> &Identity {
        self.shared
            .config
            .extensions
            .get_ref::<Identity>()
            .expect("Builder::build gives every runtime its identity")
    }

    /// The runtime's event driver.
    pub fn driver(&self) -> &dyn crate::driver::Driver {
        &*self.shared.driver
    }

    /// The runtime's counters.
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics::new(self.shared.clone())
    }
}

/// Returned by [`Handle::enter`] and `Runtime::enter`.
#[derive(Debug)]
pub struct EnterGuard<'a> {
    /// A `LocalRuntime`'s local set, entered after the runtime (so left
    /// before it: fields drop in order).
    local: Option<crate::task::LocalEnterGuard>,
    _guard: context::EnterGuard,
    _handle: PhantomData<&'a Handle>,
}

impl<'a> EnterGuard<'a> {
    /// Also enters `local` until the guard drops: `LocalRuntime::enter`,
    /// under which `task::spawn_local` spawns onto the runtime's local set.
    #[doc(hidden)]
    pub fn and_local(mut self, local: &crate::task::LocalSet) -> EnterGuard<'a> {
        self.local = Some(local.enter());
        self
    }
}

impl fmt::Debug for context::EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EnterGuard")
    }
}

//! `QueueFull`: the error of `try_spawn`, which hands the future back.

use std::fmt;
use std::num::NonZeroUsize;

/// The error of [`Handle::try_spawn`](crate::runtime::Handle::try_spawn)
/// and [`Builder::try_spawn`](super::Builder::try_spawn): the runtime
/// already holds as many queued tasks as its `max_queued_tasks` allows.
///
/// A task is queued from its spawn until it finishes, waiting on IO
/// included (see `smp_rt::runtime::Builder::max_queued_tasks`). The future
/// was not spawned, not polled and not dropped: [`into_inner`](Self::into_inner)
/// gives it back, to retry later, to run some other way, or to drop.
///
/// Like tokio's `SendError<T>`, it is an [`Error`](std::error::Error)
/// whatever the future's type: its `Debug` does not show the future.
///
/// # Examples
///
/// ```
/// use smp_rt_executor::runtime::{Builder, Settings};
/// use std::num::NonZeroUsize;
///
/// let mut settings = Settings::current_thread();
/// settings.max_queued_tasks = NonZeroUsize::new(1);
/// let rt = Builder::with_settings(settings).build().unwrap();
/// let handle = rt.handle();
///
/// let first = handle.try_spawn(async { 1 }).unwrap();
/// let full = handle.try_spawn(async { 2 }).unwrap_err();
/// assert_eq!(full.limit(), 1);
/// assert_eq!(rt.block_on(first).unwrap(), 1);
/// // The first task finished: the runtime admits the future it refused.
/// let second = handle.try_spawn(full.into_inner()).unwrap();
/// assert_eq!(rt.block_on(second).unwrap(), 2);
/// ```
pub struct QueueFull<F> {
    future: F,
    limit: NonZeroUsize,
}

impl<F> QueueFull<F> {
    pub(crate) fn new(future: F, limit: NonZeroUsize) -> QueueFull<F> {
        QueueFull { future, limit }
    }

    /// The future that was not spawned, unpolled.
    pub fn into_inner(self) -> F {
        self.future
    }

    /// The runtime's limit on queued tasks (its `max_queued_tasks`).
    pub fn limit(&self) -> usize {
        self.limit.get()
    }
}

impl<F> fmt::Debug for QueueFull<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueFull")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl<F> fmt::Display for QueueFull<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the runtime is at its limit of {} queued tasks (max_queued_tasks): the task was \
             not spawned, and into_inner gives its future back",
            self.limit
        )
    }
}

impl<F> std::error::Error for QueueFull<F> {}

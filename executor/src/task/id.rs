//! Task ids.

use std::fmt;
use std::num::NonZeroU64;

/// An opaque id that is unique among the tasks of the process that are
/// alive or still referred to.
///
/// As in tokio, a task's id may be reused for another task only once both
/// the task has exited and nothing refers to it any more: no
/// [`JoinHandle`](crate::task::JoinHandle), no
/// [`AbortHandle`](crate::task::AbortHandle), no [`JoinSet`](crate::task::JoinSet)
/// entry. (An id is derived from the address of the task's allocation,
/// which is why it costs a parked task no memory; ids are not ordered by
/// spawn.)
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// let handle = smp_rt_executor::spawn(async { smp_rt_executor::task::id() });
/// let id = handle.id();
/// assert_eq!(handle.await.unwrap(), id);
/// # });
/// ```
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, Ord, PartialOrd)]
pub struct Id(pub(crate) NonZeroU64);

impl Id {
    /// The id as a number, for logs and metrics.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

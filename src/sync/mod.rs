//! Synchronization primitives for tasks: channels, a mutex, a semaphore and
//! task notification.
//!
//! The names and semantics follow tokio's `tokio::sync`, so code written
//! for it ports by changing paths. Every primitive works from any thread,
//! inside or outside a task, and every future here charges one reduction
//! each time it is polled, before it does anything: when the task's slice
//! is spent the poll returns `Pending` with nothing taken, and the task is
//! rescheduled. The sends that never wait (`oneshot::Sender::send`,
//! `mpsc::UnboundedSender::send`) charge one reduction too, without
//! yielding: the task's next charging await point ends the slice.
//!
//! * [`oneshot`]: a single value from one sender to one receiver.
//! * [`mpsc`]: many senders, one receiver; [bounded](mpsc::channel) or
//!   [unbounded](mpsc::unbounded_channel).
//! * [`Mutex`]: a lock whose guard can be held across `.await`.
//! * [`Notify`]: wakes one or all waiting tasks, with no data.
//! * [`Semaphore`]: a bounded number of permits.

pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
mod semaphore;
mod wait_list;

pub use self::mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use self::notify::{Notified, Notify};
pub use self::semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// Named future types of this module.
pub mod futures {
    pub use super::notify::Notified;
}

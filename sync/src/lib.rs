//! Synchronization primitives for tasks: channels, locks, a semaphore and
//! task notification.
//!
//! The names and semantics follow tokio's `tokio::sync`, so code written
//! for it ports by changing paths. Every primitive works from any thread,
//! inside or outside a task, and every future here charges one reduction
//! each time it is polled, before it does anything: when the task's slice
//! is spent the poll returns `Pending` with nothing taken, and the task is
//! rescheduled. The sends that never wait (`oneshot::Sender::send`,
//! `mpsc::UnboundedSender::send`, `broadcast::Sender::send`, and
//! `watch::Sender::send` and its variants) charge one reduction too,
//! without yielding: the task's next charging await point ends the slice.
//!
//! * [`oneshot`]: a single value from one sender to one receiver.
//! * [`mpsc`]: many senders, one receiver; [bounded](mpsc::channel) or
//!   [unbounded](mpsc::unbounded_channel).
//! * [`broadcast`]: many senders, many receivers, each value seen by every
//!   receiver; slow receivers lag.
//! * [`watch`]: many senders, many receivers, only the latest value is
//!   kept.
//! * [`Mutex`]: a lock whose guard can be held across `.await`.
//! * [`RwLock`]: a fair reader-writer lock whose guards can be held across
//!   `.await`.
//! * [`Barrier`]: tasks wait until a number of them have arrived.
//! * [`OnceCell`]: a value initialized once, by an async function;
//!   [`SetOnce`]: a value set once, that tasks can wait for.
//! * [`Notify`]: wakes one or all waiting tasks, with no data.
//! * [`Semaphore`]: a bounded number of permits.
//!
//! This crate is smp_rt's `sync` module: `smp_rt::sync` re-exports it
//! whole. The reductions are charged through the executor's
//! [`poll_charge`](smp_rt_executor::task::poll_charge) and
//! [`reduce`](smp_rt_executor::task::reduce); outside an smp_rt task
//! nothing is charged.
//!
//! # Examples
//!
//! A bounded channel feeding a task, and a oneshot for its answer:
//!
//! ```
//! use smp_rt_sync::{mpsc, oneshot};
//!
//! # smp_rt::block_on(async {
//! let (tx, mut rx) = mpsc::channel::<u64>(8);
//! let (done_tx, done_rx) = oneshot::channel();
//! smp_rt::spawn(async move {
//!     let mut sum = 0;
//!     while let Some(n) = rx.recv().await {
//!         sum += n;
//!     }
//!     done_tx.send(sum).unwrap();
//! });
//! for n in 1..=10 {
//!     tx.send(n).await.unwrap();
//! }
//! drop(tx); // closes the channel: the loop above ends
//! assert_eq!(done_rx.await.unwrap(), 55);
//! # });
//! ```
//!
//! A [`Mutex`] shared by tasks, its guard held across an `.await`:
//!
//! ```
//! use std::sync::Arc;
//! use smp_rt_sync::Mutex;
//!
//! # smp_rt::block_on(async {
//! let counter = Arc::new(Mutex::new(0));
//! let tasks: Vec<_> = (0..4)
//!     .map(|_| {
//!         let counter = counter.clone();
//!         smp_rt::spawn(async move {
//!             let mut n = counter.lock().await;
//!             smp_rt::task::yield_now().await;
//!             *n += 1;
//!         })
//!     })
//!     .collect();
//! for task in tasks {
//!     task.await.unwrap();
//! }
//! assert_eq!(*counter.lock().await, 4);
//! # });
//! ```

#![warn(missing_docs, rust_2018_idioms)]

mod barrier;
pub mod broadcast;
pub mod mpsc;
mod mutex;
mod notify;
mod once_cell;
pub mod oneshot;
mod rwlock;
mod semaphore;
mod set_once;
mod util;
mod wait_list;
pub mod watch;

pub use self::barrier::{Barrier, BarrierWaitResult};
pub use self::mutex::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};
pub use self::notify::{Notified, Notify, OwnedNotified};
pub use self::once_cell::{OnceCell, SetError};
pub use self::rwlock::{
    OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock,
    RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard,
};
pub use self::semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};
pub use self::set_once::{SetOnce, SetOnceError};

/// Named future types of this module.
pub mod futures {
    pub use super::notify::{Notified, OwnedNotified};
}

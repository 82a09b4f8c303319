//! A barrier: tasks wait until a given number of them have arrived.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use crate::notify::Notify;
use crate::util::{charged, notified};

/// A barrier enables multiple tasks to synchronize the beginning of some
/// computation.
///
/// [`wait`](Barrier::wait) waits until `n` tasks have called it, then all
/// of them continue; exactly one of them is told it is the
/// [leader](BarrierWaitResult::is_leader). The barrier can be reused: the
/// next `n` calls form the next generation.
///
/// Every poll of a `wait` future charges one reduction to the calling
/// task.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use smp_rt::sync::Barrier;
///
/// # smp_rt::block_on(async {
/// let mut handles = Vec::with_capacity(10);
/// let barrier = Arc::new(Barrier::new(10));
/// for _ in 0..10 {
///     let c = barrier.clone();
///     // The same messages will be printed together.
///     // You will NOT see any interleaving.
///     handles.push(smp_rt::spawn(async move {
///         println!("before wait");
///         let wait_result = c.wait().await;
///         println!("after wait");
///         wait_result
///     }));
/// }
///
/// // Will not resolve until all "after wait" messages have been printed
/// let mut num_leaders = 0;
/// for handle in handles {
///     let wait_result = handle.await.unwrap();
///     if wait_result.is_leader() {
///         num_leaders += 1;
///     }
/// }
///
/// // Exactly one barrier will resolve as the "leader"
/// assert_eq!(num_leaders, 1);
/// # });
/// ```
pub struct Barrier {
    state: Mutex<BarrierState>,
    /// Woken (`notify_waiters`) when a generation completes.
    notify: Notify,
    n: usize,
}

struct BarrierState {
    arrived: usize,
    generation: usize,
}

impl Barrier {
    /// Creates a barrier that releases its waiters once `n` of them have
    /// arrived. A barrier of 0 behaves as one of 1: every call returns at
    /// once, as the leader.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::Barrier;
    ///
    /// let barrier = Barrier::new(10);
    /// ```
    pub fn new(n: usize) -> Barrier {
        Barrier {
            state: Mutex::new(BarrierState {
                arrived: 0,
                generation: 1,
            }),
            notify: Notify::new(),
            n: n.max(1),
        }
    }

    /// Waits until `n` tasks (this one included) have called `wait` in
    /// this generation.
    ///
    /// Exactly one of them, the last to arrive, gets a result whose
    /// [`is_leader`](BarrierWaitResult::is_leader) is `true`.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe, as in tokio: a task counts as
    /// arrived from the first poll of the future, and dropping the future
    /// does not take it back.
    pub async fn wait(&self) -> BarrierWaitResult {
        charged(async {
            // The guard lives in this block only, so the future stays
            // `Send`.
            let generation = {
                let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
                let generation = state.generation;
                state.arrived += 1;
                if state.arrived == self.n {
                    state.arrived = 0;
                    state.generation = state.generation.wrapping_add(1);
                    drop(state);
                    self.notify.notify_waiters();
                    return BarrierWaitResult(true);
                }
                generation
            };
            loop {
                // Created before the check: the leader notifies after it
                // has advanced the generation under the lock.
                let n = self.notify.notified();
                let current = self
                    .state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .generation;
                if current != generation {
                    return BarrierWaitResult(false);
                }
                notified(n).await;
            }
        })
        .await
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("Barrier")
            .field("n", &self.n)
            .field("arrived", &state.arrived)
            .field("generation", &state.generation)
            .finish()
    }
}

/// The result of [`Barrier::wait`].
#[derive(Debug, Clone)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task was the leader of its generation: exactly one
    /// task of each generation is.
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

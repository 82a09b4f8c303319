//! A task's life as the scheduler keeps count of it: spawned (counted, and
//! refused once the runtime shuts down), waiting (in the registry, so that
//! shutdown can reach it), finished (out of the registry, counted). This is
//! the scheduler's side of the task module's seam (`task::owner`).

use std::future::Future;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

use super::{Shared, current_worker, placement, shutdown};
use crate::runtime::Handle;
use crate::task::header::{Header, NO_SLOT, Task};
use crate::task::owner::{Owner, OwnerHeader, Scheduler};
use crate::task::{self, JoinHandle, Priority, QueueFull};

impl Shared {
    /// Spawns `future` as a task of this runtime, past the queued-task
    /// limit if need be (see `admission`).
    pub(crate) fn spawn<F>(
        self: &Arc<Shared>,
        future: F,
        name: Option<Box<str>>,
        priority: Priority,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_with_deadline(future, name, priority, None)
    }

    /// Spawns `future` as a task of this runtime, with a deadline if
    /// `deadline` is set (see `deadline`); past the limit if need be.
    pub(crate) fn spawn_with_deadline<F>(
        self: &Arc<Shared>,
        future: F,
        name: Option<Box<str>>,
        priority: Priority,
        deadline: Option<Instant>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.admission.admit();
        self.spawn_admitted(future, name, priority, deadline)
    }

    /// Spawns `future` as a task of this runtime if fewer tasks than its
    /// limit are queued; otherwise hands it back, unpolled.
    pub(crate) fn try_spawn<F>(
        self: &Arc<Shared>,
        future: F,
        name: Option<Box<str>>,
        priority: Priority,
        deadline: Option<Instant>,
    ) -> Result<JoinHandle<F::Output>, QueueFull<F>>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        if self.admission.try_admit() {
            return Ok(self.spawn_admitted(future, name, priority, deadline));
        }
        if self.is_shutdown() {
            // As `spawn`: a handle to a task cancelled unrun, whatever the
            // count (a shutdown does not subtract the tasks it drops).
            self.admission.admit();
            return Ok(self.spawn_admitted(future, name, priority, deadline));
        }
        let limit = self
            .admission
            .limit()
            .expect("a runtime without a limit admits every task");
        Err(QueueFull::new(future, limit))
    }

    /// Spawns `future`, which holds a slot of `admission` already.
    fn spawn_admitted<F>(
        self: &Arc<Shared>,
        future: F,
        name: Option<Box<str>>,
        priority: Priority,
        deadline: Option<Instant>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let header = Header::new(name.is_some(), priority, Owner::new(self.clone()));
        let (task, handle) =
            task::new_task(future, header, async_task::WithInfo(placement::schedule));
        if deadline.is_some() {
            // Before the task is shared: its first queueing reads it.
            self.deadlines.set(task.metadata(), deadline);
        }
        let worker = current_worker(self).map(|worker| worker.index);
        self.task_counts.spawned(worker);
        // A task enters the registry when it first waits; a named one now,
        // so that its name is listed from the start.
        let refused = self.is_shutdown()
            || name.is_some_and(|name| {
                !self
                    .registry
                    .insert(task.metadata(), task.waker(), Some(name), worker)
            });
        if refused {
            // The runtime is shutting down: the task is cancelled unrun,
            // and never finishes (it is not polled), so its slot is given
            // back here (and its exit counted: it is gone).
            self.task_counts.exited(worker);
            self.admission.release();
            shutdown::drop_entered([task]);
        } else {
            self.schedule_new(task);
        }
        handle
    }

    /// Spawns `f` as a task of this runtime's blocking pool.
    pub(crate) fn spawn_blocking<F, R>(self: &Arc<Shared>, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let header = Header::new(false, Priority::Normal, Owner::new(self.clone()));
        header.set_blocking();
        // Not in the registry: a blocking task never waits, and the pool
        // cancels the tasks it has not run when it stops.
        let (task, handle) = task::new_task(async move { f() }, header, schedule_blocking);
        self.push_blocking(task);
        handle
    }

    fn push_blocking(self: &Arc<Shared>, task: Task) {
        self.blocking.push(
            task,
            &Handle {
                shared: self.clone(),
            },
        );
    }
}

/// The schedule function of a blocking task: the pool's queue. (Only its
/// spawn queues it: a blocking task never waits.)
fn schedule_blocking(task: Task) {
    // SAFETY: every task of this crate is created by `Shared::spawn*` with
    // an owner made from an `Arc<Shared>`.
    let shared: Arc<Shared> = unsafe { task.metadata().owner().to_arc() };
    shared.push_blocking(task);
}

// SAFETY: `Shared` is `#[repr(C)]` and its first field is
// `OwnerHeader::new::<Shared>()` (see `Shared::new`).
unsafe impl Scheduler for Shared {
    fn owner_header(&self) -> &OwnerHeader {
        &self.owner_header
    }

    fn task_pending(&self, task: &Header, waker: &Waker) -> bool {
        if task.registry_slot() == NO_SLOT {
            return self.first_wait(task, waker);
        }
        !self.registry.is_closed()
    }

    fn task_finished(&self, task: &Header) {
        self.registry.remove(task);
        if let Some(times) = &self.poll_times {
            self.forget_poll_time(times, task);
        }
        if task.has_deadline() {
            self.deadlines.remove(task);
        }
        if !task.is_blocking() {
            let worker = current_worker(self).map(|worker| worker.index);
            self.task_counts.exited(worker);
            self.admission.release();
            if task.is_cancelled() {
                self.task_counts.cancelled(worker);
            }
        }
    }

    fn task_name(&self, task: &Header) -> Option<String> {
        self.registry.name(task)
    }
}

impl Shared {
    /// `task_pending` of a task that waits for the first time: from now on
    /// only wakers may know the task, so the registry must, for the
    /// shutdown. Out of line: every later wait of the task is a flag check
    /// with no frame to set up.
    #[inline(never)]
    fn first_wait(&self, task: &Header, waker: &Waker) -> bool {
        let worker = current_worker(self).map(|w| w.index);
        self.registry.insert(task, waker.clone(), None, worker)
    }

    /// Removes a finished task's poll time, before its output is
    /// published. If the task finished in its own poll on a worker of this
    /// runtime, that worker is told not to add the poll's time when the
    /// poll returns (see `scheduler::poll_time`).
    #[cold]
    fn forget_poll_time(&self, times: &super::PollTimes, task: &Header) {
        times.remove(task.id());
        let polled_here = crate::context::current_task() == Some(NonNull::from(task));
        if let Some(worker) = current_worker(self)
            && polled_here
            && worker.in_task.get()
        {
            worker.polled_task_finished.set(true);
        }
    }
}

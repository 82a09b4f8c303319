//! Shutdown: every worker stops, and every task is dropped, whether it is
//! queued (in a core, a ring, a slot or an inbox) or waiting (known only to
//! wakers, and to the registry).
//!
//! A worker's queues are dropped by whoever holds its core: the thread
//! that ran it (when it stops) or the thread shutting the runtime down
//! (for a core parked in `Shared::cores`). After that the worker's inbox
//! has no owner, and a late push drains it itself (`released`).

use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::Thread;

use super::{Core, Shared, WorkerContext};
use crate::context;
use crate::runtime::Handle;
use crate::task::header::Task;

impl Shared {
    /// Begins shutdown: wakes every worker so it sees the flag and exits.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, SeqCst);
        for remote in self.workers.iter() {
            remote.parker.unpark(&*self.driver, false);
        }
        self.driver.unpark();
    }

    /// Takes back worker `index`'s core from the thread that ran it. While
    /// the runtime runs, the core waits in `cores` for the next thread;
    /// after shutdown, the caller (the worker's owner until now) drops the
    /// worker's tasks.
    pub(crate) fn release_core(&self, index: usize, mut core: Box<Core>) {
        let mut slot = self.cores[index].lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the slot lock: `drop_all_tasks` sets the flag before
        // it looks at the slots, so the core is either seen there or dropped
        // here.
        if self.is_shutdown() {
            drop(slot);
            self.drop_worker_tasks(index, &mut core);
        } else {
            *slot = Some(core);
            drop(slot);
            // A `block_on` waiting to run this worker takes it over.
            let waiters = std::mem::take(&mut *lock(&self.core_waiters));
            waiters.iter().for_each(Thread::unpark);
        }
    }

    /// Takes worker `index`'s core for the calling thread if no thread runs
    /// the worker; otherwise registers the thread to be unparked when the
    /// core is handed back (`release_core`), and returns `None`.
    pub(crate) fn take_core_or_wait(&self, index: usize) -> Option<Box<Core>> {
        let mut slot = lock(&self.cores[index]);
        let core = slot.take();
        if core.is_none() {
            // Under the slot's lock: a release after this look sees it.
            lock(&self.core_waiters).push(std::thread::current());
        }
        core
    }

    /// `true` if no thread runs worker `index` (a snapshot).
    pub(crate) fn core_is_free(&self, index: usize) -> bool {
        lock(&self.cores[index]).is_some()
    }

    /// After shutdown, drops the tasks of worker `index`: its core's, its
    /// rings', its deadline heaps' and its inbox's. The caller holds the
    /// core, so it is the rings' owner.
    pub(crate) fn drop_worker_tasks(&self, index: usize, core: &mut Core) {
        let remote = &self.workers[index];
        let mut tasks = core.take_all();
        tasks.extend(remote.deadline_heaps.take_all(&remote.metrics.private));
        {
            let _drain = self.drain_lock.lock().unwrap_or_else(|p| p.into_inner());
            // From now on whoever pushes here drains (see `push_remote`).
            remote.released.store(true, SeqCst);
            tasks.extend(remote.take_incoming());
        }
        // Dropping a task drops its future, which may wake other tasks:
        // `schedule` drops those on the spot (shutdown is set).
        drop_entered(tasks);
    }

    /// Drops every task after `begin_shutdown`: the queued tasks of every
    /// worker no thread runs any more, then, through the registry, every
    /// task waiting on something. A worker still stuck in a poll drops its
    /// own queues when it stops (`release_core`).
    pub(crate) fn drop_all_tasks(&self) {
        for index in 0..self.workers.len() {
            let core = self.cores[index]
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(mut core) = core {
                self.drop_worker_tasks(index, &mut core);
            }
        }
        for waker in self.registry.close() {
            waker.wake();
        }
    }

    /// After shutdown: drains worker `target`'s inbox if no thread owns it
    /// any more (otherwise its owner drains it when it stops).
    pub(super) fn drain_inbox_after_shutdown(&self, target: usize) {
        let tasks: Vec<Task> = {
            let _drain = self.drain_lock.lock().unwrap_or_else(|p| p.into_inner());
            let remote = &self.workers[target];
            if !remote.released.load(SeqCst) {
                return;
            }
            remote.take_incoming().collect()
        };
        drop_entered(tasks);
    }
}

/// Locks `mutex`, whose data stays consistent across a panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Drops `tasks` (queued, woken or spawned after shutdown) with their
/// runtime entered on this thread: a future's `Drop` may spawn (a
/// connection returned to a pool spawns its cleanup), and then gets a
/// handle that resolves to a cancelled `JoinError` rather than a panic for
/// want of a runtime.
pub(crate) fn drop_entered(tasks: impl IntoIterator<Item = Task>) {
    let mut tasks = tasks.into_iter().peekable();
    let Some(first) = tasks.peek() else {
        return;
    };
    let _enter = context::with_handle(|_| ()).is_none().then(|| {
        // SAFETY: every task of this crate is created by `Shared::spawn*`
        // with an owner made from an `Arc<Shared>`.
        let shared: Arc<Shared> = unsafe { first.metadata().owner().to_arc() };
        context::enter(Handle { shared })
    });
    tasks.for_each(drop);
}

impl WorkerContext {
    /// After shutdown: drops every task queued on this worker, then sleeps
    /// until `woken` (the future of the `block_on` running this worker).
    pub(crate) fn wait_after_shutdown(&self, woken: &dyn Fn() -> bool) {
        self.shared
            .drop_worker_tasks(self.index, &mut self.core.borrow_mut());
        let parker = &self.remote().parker;
        let wait = parker.prepare(false);
        if woken() {
            parker.cancel();
        } else {
            parker.wait(wait, &*self.shared.driver);
        }
    }
}

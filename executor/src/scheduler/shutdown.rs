//! Shutdown: every worker stops, and every task is dropped, whether it is
//! queued (in a core, a ring, a slot or an inbox) or waiting (known only to
//! wakers, and to the registry).
//!
//! A worker's queues are dropped by whoever holds its core: the thread
//! that ran it (when it stops) or the thread shutting the runtime down
//! (for a core parked in `Shared::cores`). After that the worker's inbox
//! has no owner, and a late push drains it itself (`released`).

use std::sync::atomic::Ordering::SeqCst;

use super::{Core, Shared, WorkerContext};
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
        }
    }

    /// After shutdown, drops the tasks of worker `index`: its core's, its
    /// rings' and its inbox's. The caller holds the core, so it is the
    /// rings' owner.
    pub(crate) fn drop_worker_tasks(&self, index: usize, core: &mut Core) {
        let remote = &self.workers[index];
        let mut tasks = core.take_all();
        {
            let _drain = self.drain_lock.lock().unwrap_or_else(|p| p.into_inner());
            // From now on whoever pushes here drains (see `push_remote`).
            remote.released.store(true, SeqCst);
            tasks.extend(remote.take_incoming());
        }
        // Dropping a task drops its future, which may wake other tasks:
        // `schedule` drops those on the spot (shutdown is set).
        drop(tasks);
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
        drop(tasks);
    }
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

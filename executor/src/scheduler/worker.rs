//! A worker: the loop every worker thread runs.
//!
//! ```text
//! loop {
//!     drain the inbox into the deques
//!     every DRIVER_INTERVAL ticks (unless urgent work waits): poll the
//!         driver without blocking, and take the work of a sibling that
//!         made no progress since the last look
//!     work of a higher priority queued on a busy sibling: take it (urgent)
//!     run the next task for one slice (the priority rule below)
//!     out of work: steal from a random sibling
//!     still nothing: busy-wait up to IDLE_SPIN for new work (WFE on
//!         AArch64, yielding the thread now and then), then park
//! }
//! ```
//!
//! The pieces, file by file: the next task is picked by the priority rule
//! (`pick`) from the worker's own queues (`core`); a task that is woken or
//! spawned is placed by `placement`; a worker out of work steals here,
//! then idles (`idle`); `rescue` takes the work of stuck siblings.

use std::cell::{Cell, RefCell, RefMut};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Instant;

use super::run_state::{URGENT_AT_SIBLING, urgent_mask};
use super::{Core, PollTimes, Remote, Shared};
use crate::context;
use crate::metrics;
use crate::task::header::{NO_WORKER, Task};
use crate::task::{self, Preempt, Priority, harness};

/// A worker being run by the current thread; the thread-local context
/// points here while it is installed.
pub(crate) struct WorkerContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) index: usize,
    /// `&shared.workers[index]`, looked up once: the hot path uses it
    /// several times per poll.
    remote: NonNull<Remote>,
    pub(super) core: RefCell<Box<Core>>,
    /// `true` while a task is being polled (its wakes go to the LIFO slot).
    pub(super) in_task: Cell<bool>,
    /// Stealable tasks queued here from outside any task (by the driver,
    /// mostly) since the last driver poll or tick.
    pub(super) queued_outside: Cell<u32>,
    /// Set when a single task was queued from outside a task: a sibling is
    /// woken after the next poll.
    pub(super) notify_after_run: Cell<bool>,
    /// This worker's progress when it last parked (`u64::MAX` before the
    /// first park): unchanged at the start of `idle`, its last wake-up
    /// found nothing to run.
    pub(super) progress_at_park: Cell<u64>,
    /// When the current busy period started.
    pub(super) busy_since: Cell<Option<Instant>>,
    /// Set by `task_finished` when the task being polled here finished in
    /// its poll, for a runtime that times polls (see `scheduler::poll_time`).
    pub(super) polled_task_finished: Cell<bool>,
}

/// Uninstalls a worker context and hands its core back on drop.
pub(crate) struct Installed<'a> {
    worker: &'a WorkerContext,
    prev: Option<NonNull<WorkerContext>>,
}

impl Drop for Installed<'_> {
    fn drop(&mut self) {
        self.worker.account_busy();
        context::replace_worker(self.prev);
    }
}

impl WorkerContext {
    pub(crate) fn new(shared: Arc<Shared>, core: Box<Core>) -> WorkerContext {
        let remote = NonNull::from(&shared.workers[core.index]);
        WorkerContext {
            index: core.index,
            remote,
            shared,
            core: RefCell::new(core),
            in_task: Cell::new(false),
            queued_outside: Cell::new(0),
            notify_after_run: Cell::new(false),
            progress_at_park: Cell::new(u64::MAX),
            busy_since: Cell::new(None),
            polled_task_finished: Cell::new(false),
        }
    }

    /// Installs this worker as the current thread's worker until the guard
    /// drops.
    pub(crate) fn install(&self) -> Installed<'_> {
        let prev = context::replace_worker(Some(NonNull::from(self)));
        Installed { worker: self, prev }
    }

    /// Gives the core back, for the next thread that runs this worker.
    pub(crate) fn into_core(self) -> Box<Core> {
        self.core.into_inner()
    }

    #[inline]
    pub(super) fn remote(&self) -> &Remote {
        // SAFETY: `remote` points into `shared.workers`, a boxed slice that
        // is never reallocated and lives as long as `shared`, which this
        // context holds.
        unsafe { self.remote.as_ref() }
    }

    /// Puts the worker back in a state its loop can start from, after the
    /// loop unwound (see `run_worker`): not in a task, not between polls
    /// of one, not searching.
    pub(crate) fn recover(&self) {
        self.in_task.set(false);
        self.polled_task_finished.set(false);
        self.remote().run.end_poll();
        self.remote().progress.clear_current();
        let mut core = self.core.borrow_mut();
        if std::mem::take(&mut core.searching) {
            self.shared.idle.stop_searching();
        }
    }

    /// The worker thread's loop.
    pub(crate) fn run(&self) {
        while !self.shared.is_shutdown() {
            if !self.tick() {
                self.idle(&|| false);
            }
        }
    }

    /// One scheduling step: finds a task (locally, else by stealing) and
    /// runs it for one slice. Returns `false` if there was no work.
    pub(crate) fn tick(&self) -> bool {
        let remote = self.remote();
        // Whether the worker may be counted as searching when it finds a
        // task (see `end_search`); read under the pick's borrow.
        let mut searching;
        let task = {
            let mut core = self.core.borrow_mut();
            if core.next_tick(|| remote.run.urgent.load(Relaxed) != 0) {
                drop(core);
                self.poll_driver();
                core = self.core.borrow_mut();
                self.rescue_stranded(&mut core);
            }
            if remote.run.urgent.load(Relaxed) != 0 {
                // Clear, then drain: a push after the drain sets its bit
                // again (`Remote::preempt_for`), so it is never lost.
                let urgent = remote.run.take_requests();
                if urgent & URGENT_AT_SIBLING != 0 {
                    self.take_urgent_from_siblings(&mut core);
                }
            }
            // The look first, inline: nearly every tick finds nothing
            // incoming, and the look is the same loads the drain begins
            // with, without the call.
            let drained = remote.has_incoming() && core.take_incoming(remote, remote);
            let task = core.pick(remote);
            // Remote work that is still queued after this pick can be
            // shared; a single remote wake costs no sibling a wake-up.
            let share = drained && core.has_stealable();
            searching = core.searching;
            drop(core);
            if share {
                self.shared.notify_for_steal();
            }
            task
        };
        self.restart_outside_count();
        let task = match task {
            Some(task) => task,
            None => {
                let Some(task) = self.steal() else {
                    return false;
                };
                searching = true;
                task
            }
        };
        if searching {
            self.end_search();
        }
        if self.busy_since.get().is_none() {
            self.busy_since.set(Some(Instant::now()));
        }
        self.run_task(task);
        if self.notify_after_run.replace(false) {
            self.shared.notify_for_steal();
        }
        true
    }

    /// Polls the driver without blocking, if it has anything to poll and
    /// no other worker has it.
    // Off the tick's common path: a call keeps its registers out of
    // the tick's frame.
    #[inline(never)]
    fn poll_driver(&self) {
        if self.shared.driver.is_empty() {
            return;
        }
        if let Some(_lock) = self.shared.try_lock_driver() {
            self.shared.driver.poll();
            self.restart_outside_count();
        }
    }

    fn run_task(&self, task: Task) {
        let header = task.metadata();
        // A task is queued on a worker by setting its `last_worker` to it
        // (`enqueue`, `push_home`); a steal, a rescue or a take from a
        // sibling's inbox moves it without that. So a task found here with
        // another worker's index was queued there and migrated.
        let queued_on = header.last_worker();
        if queued_on != self.index as u32 && queued_on != NO_WORKER {
            metrics::add(&self.remote().metrics.migrated, 1);
        }
        header.set_last_worker(self.index as u32);
        let span = header.span();
        let _entered = span.enter();
        let remote = self.remote();
        let priority = header.priority();
        if header.has_deadline() {
            self.check_deadline(header);
        }
        remote
            .progress
            .begin_poll(super::watchdog::poll_word(header.id(), priority));
        remote.run.start_poll(priority);
        let preempt = Preempt::new(&remote.run.urgent, urgent_mask(priority));
        self.in_task.set(true);
        let reductions = self.shared.config.reductions;
        // The loop runs outside any slice (`run`, `block_on`'s and a lent
        // worker's loops call `tick` from no task), so nothing is saved.
        let (_, slice) = match &self.shared.poll_times {
            None => task::run_top_slice(reductions, Some(preempt), || harness::run(task)),
            Some(times) => {
                task::run_top_slice(reductions, Some(preempt), || self.run_timed(times, task))
            }
        };
        self.in_task.set(false);
        remote.run.end_poll();
        remote.progress.advance();
        if slice.preempted {
            metrics::add(&remote.metrics.preemptions, 1);
            tracing::trace!(worker = self.index, "preempted: reduction budget spent");
        }
    }

    /// [`harness::run`], timed: adds the poll's time to the task's entry in
    /// `times` (`Builder::enable_task_poll_time`).
    #[inline(never)]
    fn run_timed(&self, times: &PollTimes, task: Task) -> bool {
        let id = task.metadata().id();
        let started = Instant::now();
        let woken = harness::run(task);
        let elapsed = started.elapsed();
        // A task that finished in this poll lost its entry, and may be
        // freed by now, its id given to another task: nothing is added for
        // it (see `scheduler::poll_time`).
        if !self.polled_task_finished.replace(false) {
            times.add(id, elapsed);
        }
        woken
    }

    /// Steals a batch from a sibling, starting at a random one, taking from
    /// its highest non-empty priority level.
    // Off the tick's common path: a call keeps its registers out of
    // the tick's frame.
    #[inline(never)]
    fn steal(&self) -> Option<Task> {
        let workers = &self.shared.workers;
        let n = workers.len();
        if n == 1 {
            return None;
        }
        let mut core = self.core.borrow_mut();
        if !core.searching {
            if !self.shared.idle.start_searching() {
                return None;
            }
            core.searching = true;
        }
        let me = self.remote();
        metrics::add(&me.metrics.steal_attempts, 1);
        let start = core.next_random() as usize % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            for (level, ring) in Priority::ALL.into_iter().zip(&workers[victim].rings) {
                if let Some(task) = core.steal_half(ring, level) {
                    tracing::trace!(worker = self.index, victim, level = level.as_str(), "steal");
                    return Some(self.found_by_stealing(core, task));
                }
            }
        }
        // Then work woken for a sibling that is busy in a long poll: it
        // waits in that sibling's inbox, which any thread may drain.
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index || !workers[victim].has_incoming() {
                continue;
            }
            core.take_incoming(&workers[victim], me);
            if let Some(task) = core.pick(me) {
                tracing::trace!(worker = self.index, victim, "steal from inbox");
                return Some(self.found_by_stealing(core, task));
            }
        }
        None
    }

    /// Counts a successful steal.
    fn found_by_stealing(&self, core: RefMut<'_, Box<Core>>, task: Task) -> Task {
        metrics::add(&self.remote().metrics.steals, 1);
        drop(core);
        task
    }

    /// Ends this worker's search, if it was searching, now that it found
    /// work (stolen, or its own: a worker woken to search may find work in
    /// its own queues first). A worker that stayed counted as searching
    /// while running would block every steal wake-up (`Idle::notify`
    /// wakes nobody while someone searches), and siblings would sleep while
    /// work waited. If this was the last searcher, another is woken: there
    /// may be more to take.
    fn end_search(&self) {
        let mut core = self.core.borrow_mut();
        if !core.searching {
            return;
        }
        core.searching = false;
        drop(core);
        if self.shared.idle.stop_searching() {
            self.shared.notify_for_steal();
        }
    }

    /// Adds the time since the busy period started to the busy counter.
    pub(super) fn account_busy(&self) {
        if let Some(since) = self.busy_since.take() {
            let ns = since.elapsed().as_nanos() as u64;
            metrics::add(&self.remote().metrics.busy_ns, ns);
        }
    }

    /// [`account_busy`](Self::account_busy) with the clock already read:
    /// the busy period ended at `now`.
    pub(super) fn account_busy_until(&self, now: Instant) {
        if let Some(since) = self.busy_since.take() {
            let ns = now.saturating_duration_since(since).as_nanos() as u64;
            metrics::add(&self.remote().metrics.busy_ns, ns);
        }
    }
}

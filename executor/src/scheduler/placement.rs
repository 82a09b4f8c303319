//! Placement: where a task goes when it is spawned or woken, local and
//! remote, and who is woken to steal it.
//!
//! # Where a task goes
//!
//! | event | destination |
//! |---|---|
//! | spawned on a worker by a task | that worker's LIFO slot if it is free (runs next: a child its parent awaits runs while both are in cache), else the back of its deque |
//! | spawned from outside | inbox of an idle worker (busy-waiting, else sleeping), else round-robin in runs of [`REMOTE_RUN`] (neighbours in memory stay on one worker) |
//! | woke itself while running (yield, preemption) | back of its deque on the same worker |
//! | woken on the worker it last ran on, by a task | the LIFO slot: runs next, BEAM-style affinity; at most [`LIFO_CAP`] times in a row, so a ping-ponging pair cannot starve the queue |
//! | woken on a worker outside a task (by the driver: IO, timers), whatever its home | back of that worker's deque |
//! | woken by a task on another worker while its own worker is busy | inbox of the worker it last ran on |
//! | woken by a task on another worker while its own worker is parked | this worker, as a local wake (waking the parked worker would cost a futex wake-up for a cold cache) |
//! | woken from a thread that is not a worker | inbox of the worker it last ran on, which is unparked |
//! | `Max` or `High`, woken from outside into the inbox of a worker that runs lower-priority work | that inbox, and the first sibling also running lower-priority work is asked to end its slice and take it: whichever reaches a charging await point first runs it (the home worker's thread may be descheduled) |
//! | waiting on a worker that polled nothing over two looks of a busy sibling (descheduled, or stuck in one long poll) | that sibling's deque: the whole inbox and LIFO slot, half of each ring |
//! | with a deadline, any of the above | the same worker or inbox, but never the LIFO slot; on the worker, its level's deadline heap instead of the deque (see `deadline`), which siblings do not steal from |
//! | waiting on a worker seen in one poll for longer than `long_poll_threshold` (watchdog on) | the inbox of a sibling not in a long poll: the LIFO slot, urgent slot, inbox and overflow whole, half of each ring, at every sample of the watchdog while the poll lasts |
//! | anything, once the runtime shut down | dropped (the future with it) |
//!
//! # Who is woken to steal
//!
//! A task queued in a worker's deque can be stolen; a sleeping sibling is
//! woken for it (one at a time: none while another searches) when it is
//! spawned, woken by a task, or displaced from the LIFO slot, unless it is
//! the only task queued there and a sibling busy-waits (this worker runs
//! it when the current poll ends, or the busy-waiting sibling takes it if
//! that poll runs long). A task woken by a task that is the only one queued
//! wakes nobody, busy-waiting sibling or not: it runs next, as from the
//! LIFO slot, which it only missed for the slot's streak cap (every
//! fourth wake of a ping-ponging pair; a sibling woken for it would find
//! it run, or take one of the pair and split it over two workers). Wakes
//! are counted the same whatever the waker: smp_rt's own primitives call
//! the task's `Waker` like any other crate's. A task in the LIFO slot is taken by a sibling
//! only when this worker makes no progress: over a sibling's whole busy
//! wait, or over two looks of a busy sibling; a task spawned into the slot
//! wakes a sleeping sibling unless one busy-waits, so a task spawned by a
//! task that then blocks its thread is not stranded (a task woken into the
//! slot wakes nobody). A task that yielded wakes a sibling only if other
//! tasks are queued with it (alone, it runs next) and a cheap look says
//! one sleeps. Tasks queued by the driver: the first wakes
//! a sibling only after this worker has polled its next task (a futex
//! wake-up before it would sit on the path of every IO round trip from
//! idle), the second at once.

use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use async_task::ScheduleInfo;

use super::{Shared, WorkerContext, current_worker, idle, shutdown};
use crate::task::header::{NO_WORKER, Task};

/// Consecutive runs from the LIFO slot before wakes go to the back again.
pub(crate) const LIFO_CAP: u8 = 3;

/// Tasks spawned from outside in a row go to the same busy worker this many
/// at a time. Tasks allocated one after another sit next to each other in
/// memory, and a task is not a whole number of cache lines: two neighbours
/// polled on different workers write the line they share on every poll.
/// Dealt out in runs, one neighbour pair in `REMOTE_RUN` is split instead
/// of every pair.
const REMOTE_RUN: usize = 16;

/// Why a task is queued on this worker (see `WorkerContext::enqueue`).
#[derive(Clone, Copy)]
pub(super) enum Arrival {
    /// Spawned by the running task.
    Spawned,
    /// Woken by the running task.
    Woken,
    /// Woke itself while running: `yield_now`, a spent slice.
    Yielded,
    /// Woken on this thread outside any task: by the driver (IO, timers),
    /// or by `block_on`'s own future.
    Driver,
}

impl Shared {
    /// Queues a task that was just spawned.
    pub(crate) fn schedule_new(self: &Arc<Shared>, task: Task) {
        if let Some(worker) = current_worker(self) {
            worker.push_spawned(task);
            return;
        }
        self.push_home(task);
    }

    /// From outside a worker: queues `task` in the inbox of the worker it
    /// last ran on, or of one chosen now if it never ran.
    pub(super) fn push_home(&self, task: Task) {
        let header = task.metadata();
        let target = match header.last_worker() {
            NO_WORKER => {
                let target = self.pick_remote_worker();
                header.set_last_worker(target as u32);
                target
            }
            w => w as usize,
        };
        self.push_remote(target, task);
    }

    /// A worker for work arriving from outside: an idle one if any (it has
    /// nothing better to do), preferring one that busy-waits (it needs no
    /// wake-up) to one that sleeps; else round-robin in runs of
    /// [`REMOTE_RUN`] (see there).
    fn pick_remote_worker(&self) -> usize {
        let n = self.workers.len();
        let start = (self.next_remote.fetch_add(1, Relaxed) / REMOTE_RUN) % n;
        let order = || (0..n).map(|i| (start + i) % n);
        order()
            .find(|&w| self.workers[w].busy_wait.is_set())
            .or_else(|| order().find(|&w| self.workers[w].parker.is_parked()))
            .unwrap_or(start)
    }

    /// Puts `task` in worker `target`'s inbox (a `Max` or `High` task in
    /// its urgent slot, if free) and wakes the worker.
    ///
    /// # The awake-worker handshake
    ///
    /// (Said of the inbox; the urgent slot is drained with it, and a task
    /// put there is published before the fence just the same.)
    ///
    /// If the target is awake, it drains its inbox at its next tick; but
    /// its current poll, or the one it starts after a drain that just
    /// missed this push, may run long, and then an idle sibling should
    /// take the task. So the push wakes a sleeper unless the target is idle
    /// (its own handshakes in `WorkerContext::idle` see the push):
    ///
    /// ```text
    ///   push_remote                          target leaving `idle`
    ///   inbox CAS (or slot CAS)              running = BETWEEN_POLLS
    ///   fence(SeqCst) (in `Parker::unpark`)  fence(SeqCst)
    ///   if running != IDLE:                  drain the inbox, poll, ...
    ///     wake a sleeper to steal
    /// ```
    ///
    /// The fences are ordered one way or the other: either the drain sees
    /// the task, or the push's load sees the worker awake. From then on
    /// `running` stays off `IDLE_PRIORITY` (task priorities and
    /// `BETWEEN_POLLS`) until the worker is idle again, so a push that
    /// reads `IDLE_PRIORITY` reached a worker that is idle, or one whose
    /// next drain comes after the push.
    pub(crate) fn push_remote(&self, target: usize, task: Task) {
        let remote = &self.workers[target];
        let priority = task.metadata().priority();
        let slotted = remote.push_incoming(task);
        let outranks = remote.preempt_for(priority);
        if slotted && remote.run.looks_idle() {
            // An idle worker's busy wait watches its inbox's line (on
            // AArch64, its `wfe` wakes only on a write there): move the
            // task there, before the handshake below (which then covers
            // it wherever it is). A stale look that misses a worker just
            // gone idle leaves the task in the slot, which the busy wait
            // also checks between waits, and the park's look after it.
            if let Some(task) = remote.run.urgent_task.take() {
                remote.inbox.push(task);
            }
        }
        if remote.parker.unpark(&*self.driver, false) {
            tracing::trace!(worker = target, "unpark");
        } else {
            if outranks && !remote.busy_wait.is_set() {
                // The target runs (or is between) lower-priority polls and
                // may not reach a charging await point soon: its thread may
                // be descheduled. The first sibling that also runs
                // lower-priority work races it for the task.
                let n = self.workers.len();
                (1..n)
                    .map(|i| &self.workers[(target + i) % n])
                    .any(|sibling| sibling.ask_to_take_urgent(priority));
            }
            // The target is awake and may poll for long: let an idle
            // sibling take the work from its inbox (the handshake above).
            // Asked in the order of what costs least to read: the idle
            // counts change when a worker parks or wakes, `running` at
            // every poll (a cache miss for this thread). Both exact, not
            // hints: the fence in `unpark` ordered them after the push.
            if self.idle.may_want_wakeup() && !remote.run.is_idle() {
                self.notify_for_steal();
            }
        }
        if self.is_shutdown() {
            // A push racing with shutdown: make sure the task is dropped.
            self.drain_inbox_after_shutdown(target);
        }
    }

    /// Wakes one sleeping worker to steal new work, unless someone is
    /// already searching (they will find it) or nobody sleeps.
    pub(crate) fn notify_for_steal(&self) {
        let n = self.workers.len();
        let wake_one = || {
            let start = self.next_remote.fetch_add(1, Relaxed) % n;
            (0..n).map(|i| (start + i) % n).any(|w| {
                let woken = self.workers[w].parker.unpark(&*self.driver, true);
                if woken {
                    tracing::trace!(worker = w, "unpark to steal");
                }
                woken
            })
        };
        let anyone_parked = || self.workers.iter().any(|w| w.parker.is_parked());
        self.idle.notify(wake_one, anyone_parked);
    }
}

/// The schedule function of every smp_rt task but the blocking ones (see
/// the module docs).
pub(crate) fn schedule(task: Task, info: ScheduleInfo) {
    // SAFETY: every task of this crate is created by `Shared::spawn` with an
    // owner made from an `Arc<Shared>`.
    let shared: &Shared = unsafe { task.metadata().owner().get() };
    if shared.is_shutdown() {
        shutdown::drop_entered([task]);
        return;
    }
    if let Some(worker) = current_worker(shared) {
        worker.schedule_local(task, info);
        return;
    }
    // A count of its own keeps the runtime's state alive until the push and
    // unpark are done, even if the task runs to completion meanwhile (and
    // frees its owner).
    // SAFETY: as above.
    let shared: Arc<Shared> = unsafe { task.metadata().owner().to_arc() };
    shared.push_home(task);
}

impl WorkerContext {
    /// Schedules a task woken on this worker's thread.
    ///
    /// Inlined into `schedule`, its one caller, as is `enqueue` into it: a
    /// wake then costs one call frame instead of three (each a prologue
    /// saving five registers and the epilogue restoring them).
    #[inline(always)]
    pub(crate) fn schedule_local(&self, task: Task, info: ScheduleInfo) {
        let header = task.metadata();
        let last = header.last_worker();
        if last != self.index as u32
            && last != NO_WORKER
            && !info.woken_while_running
            && self.in_task.get()
            && !self.shared.workers[last as usize].parker.is_parked()
        {
            // Woken by a task, its home another worker, busy: BEAM
            // affinity, send it back. (A parked home worker would cost a
            // wake-up and has nothing warm to offer: the task then runs
            // here, like a local wake.) Wakes outside a task, from the
            // driver (IO, timers), queue here: this worker is awake and
            // about to look for work, and sending each IO wake home would
            // make every worker a partner in every exchange.
            self.shared.push_remote(last as usize, task);
            return;
        }
        let arrival = if !self.in_task.get() {
            Arrival::Driver
        } else if info.woken_while_running {
            Arrival::Yielded
        } else {
            Arrival::Woken
        };
        self.enqueue(task, arrival);
    }

    /// Queues `task` on this worker: in the LIFO slot if its `arrival`
    /// calls for it (and the streak allows), else at the back of its deque.
    /// Then asks the running task to yield if `task` outranks it, and wakes a thief by the
    /// rules below (see also the scheduler's module docs).
    ///
    /// A task that yielded (woke itself while running: `yield_now`, a
    /// spent slice) is not new work: a sibling is woken for it only if
    /// other tasks are queued here (alone, it runs next) and a cheap look
    /// says one sleeps and nobody searches. That look skips the
    /// handshake's fence, so it may miss a sibling that is just parking;
    /// nothing is lost by that (this worker runs the task itself), and it
    /// keeps a full fence off every yield.
    #[inline]
    pub(super) fn enqueue(&self, task: Task, arrival: Arrival) {
        let header = task.metadata();
        header.set_last_worker(self.index as u32);
        let priority = header.priority();
        let remote = self.remote();
        let mut core = self.core.borrow_mut();
        // Woken by the running task: the LIFO slot. Spawned by it: the slot
        // if it is free, so that a task spawning many keeps their order.
        // A deadline task never takes the slot: it is ordered by its
        // deadline (see `deadline`).
        // (The deadline flag last: a yield or a driver wake need not load it.)
        let to_front = match arrival {
            Arrival::Woken => true,
            Arrival::Spawned => self.in_task.get() && core.lifo_level.is_none(),
            Arrival::Yielded | Arrival::Driver => false,
        } && !header.has_deadline();
        let (to_ring, to_lifo) = if to_front && core.lifo_streak < LIFO_CAP {
            // Front of the line; a task it displaces goes to the back.
            core.lifo_level = Some(priority);
            match core.lifo.put(task) {
                Some(displaced) => (core.push_back(displaced, remote), false),
                None => (false, true),
            }
        } else {
            (core.push_back_at(task, priority, remote), false)
        };
        // A task spawned or woken by the running task that is the only one
        // queued here runs when the current poll ends: waking a sleeping
        // sibling for it is a futex wake-up for nothing. A spawned one
        // wakes nobody as long as a sibling busy-waits: that one takes the task
        // if the current poll runs long (from the ring at once; from the
        // LIFO slot after a busy wait without progress here). With every
        // sibling asleep, one is woken as for any new work, so a task
        // spawned by a task that then blocks its thread is not stranded.
        // (One level in `queued`: this task's, whose overflow is empty
        // since the task went into the ring.)
        let runs_next = || {
            core.lifo_level.is_none()
                && core.queued.is_single()
                && core.rings[priority.index()].len() == 1
        };
        let notify = match arrival {
            // Not new work: this worker runs it anyway, next if it is the
            // only task queued (a sibling woken for it would only move it).
            // The look at the idle counts first: two loads, false while
            // every sibling is busy, where `runs_next` chases the ring.
            Arrival::Yielded => to_ring && self.shared.idle.may_want_wakeup() && !runs_next(),
            // In the LIFO slot: stealable only after a busy wait.
            Arrival::Woken if to_lifo => false,
            // Kept out of the slot by the streak cap (a ping-ponging pair),
            // and the only task queued: it runs when the current poll
            // ends, as it would from the slot, which wakes nobody either.
            // A sibling woken for it would find it gone, or take one of
            // the pair and split it across two workers.
            Arrival::Woken => to_ring && !runs_next(),
            Arrival::Spawned if to_lifo => !self.a_sibling_busy_waits(),
            Arrival::Spawned => to_ring && !(runs_next() && self.a_sibling_busy_waits()),
            Arrival::Driver => {
                // This worker is about to look for work and runs the first
                // such task itself, and wakes a sibling only after that
                // task's poll (off the path of an IO round trip); a second
                // such task wakes a sibling at once.
                let queued = self.queued_outside.get() + u32::from(to_ring);
                self.queued_outside.set(queued);
                self.notify_after_run.set(queued == 1);
                queued == 2
            }
        };
        drop(core);
        remote.preempt_for(priority);
        if notify {
            self.shared.notify_for_steal();
        }
    }

    /// `true` if a sibling busy-waits for work and so will see a task this
    /// worker has just queued (the handshake in `scheduler::idle`).
    pub(super) fn a_sibling_busy_waits(&self) -> bool {
        let workers = self.shared.workers.iter().enumerate();
        idle::a_sibling_busy_waits(
            workers
                .filter(|&(i, _)| i != self.index)
                .map(|(_, w)| &w.busy_wait),
        )
    }

    /// Starts a new count of tasks queued from outside a task (see
    /// `enqueue`): called after every driver poll and at every tick.
    pub(super) fn restart_outside_count(&self) {
        self.queued_outside.set(0);
    }

    /// Queues a task spawned on this worker: the LIFO slot if it is free
    /// (and the streak allows), else the back of its deque. A child that a
    /// task spawns and then awaits runs next, while what the two share is
    /// still in this core's cache; a task spawning many keeps their order
    /// (the first takes the slot, the rest queue behind it).
    pub(crate) fn push_spawned(&self, task: Task) {
        self.enqueue(task, Arrival::Spawned);
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use crate::driver::CountingDriver;
    use crate::loom::AtomicU8;
    use crate::queue::test_node::{TestNode, node};
    use crate::queue::{Inbox, UrgentSlot};
    use crate::scheduler::park::Parker;
    use crate::scheduler::run_state::{IDLE_PRIORITY, RunState};
    use loom::sync::Arc;

    /// A push reaches a worker as it leaves `idle` (`Shared::push_remote`):
    /// either the worker's next drain takes the task, or the pusher sees
    /// the worker awake (and wakes a sibling to steal it, in case the
    /// worker's next poll runs long). Never neither, which would leave the
    /// task behind a poll that may block the worker's thread. The same for
    /// a task pushed into the urgent slot, which the pusher moves to the
    /// inbox when it finds the worker idle.
    #[test]
    fn a_push_as_the_worker_leaves_idle_is_seen_by_one_side() {
        for slotted in [false, true] {
            loom::model(move || {
                let run: Arc<RunState<Box<TestNode>>> = Arc::new(RunState {
                    running: AtomicU8::new(IDLE_PRIORITY),
                    urgent: AtomicU8::new(0),
                    urgent_task: UrgentSlot::new(),
                });
                let inbox: Arc<Inbox<Box<TestNode>>> = Arc::new(Inbox::new());
                let parker = Arc::new(Parker::new());
                let pusher = {
                    let (run, inbox, parker) = (run.clone(), inbox.clone(), parker.clone());
                    loom::thread::spawn(move || {
                        if slotted {
                            assert!(run.urgent_task.try_put(node(1)).is_ok());
                            if run.looks_idle()
                                && let Some(task) = run.urgent_task.take()
                            {
                                inbox.push(task);
                            }
                        } else {
                            inbox.push(node(1));
                        }
                        // The worker is not parked: this is only the fence.
                        assert!(!parker.unpark(&CountingDriver::new(), false));
                        !run.is_idle()
                    })
                };
                run.leave_idle();
                let drain = || {
                    let slotted = run.urgent_task.take().into_iter();
                    slotted.chain(inbox.drain()).count()
                };
                let drained = drain();
                let saw_it_awake = pusher.join().unwrap();
                assert!(drained == 1 || saw_it_awake, "neither side saw the other");
                drain();
            });
        }
    }
}

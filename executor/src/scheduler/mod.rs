//! The scheduler: per-core workers, their queues, stealing and parking.
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
//! | anything, once the runtime shut down | dropped (the future with it) |
//!
//! # Who is woken to steal
//!
//! A task queued in a worker's deque can be stolen; a sleeping sibling is
//! woken for it (one at a time: none while another searches) when it is
//! spawned, woken by a task, or displaced from the LIFO slot, unless it is
//! the only task queued there and a sibling busy-waits (this worker runs
//! it when the current poll ends, or the busy-waiting sibling takes it if
//! that poll runs long). A task in the LIFO slot is taken by a sibling
//! only when this worker makes no progress: over a sibling's whole busy
//! wait, or over two looks of a busy sibling; a task spawned into the slot
//! wakes a sleeping sibling unless one busy-waits, so a task spawned by a
//! task that then blocks its thread is not stranded (a task woken into the
//! slot wakes nobody, as before). A task that yielded wakes a sibling only
//! after a cheap look says one sleeps. Tasks queued by the driver: the first wakes
//! a sibling only after this worker has polled its next task (a futex
//! wake-up before it would sit on the path of every IO round trip from
//! idle: 63 -> 22 us for a UDP echo), the second at once.
//!
//! [`Shared`] is what every thread may touch; each worker's private state is
//! its [`Core`](worker::Core), reachable only from the thread running it.

mod idle;
mod park;
mod registry;
mod task_counts;
mod worker;

use std::ptr;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, Mutex};

use async_task::ScheduleInfo;

use crate::blocking::BlockingPool;
use crate::context;
use crate::driver::Driver;
use crate::loom::{AtomicU8, CachePadded};
use crate::metrics::WorkerMetrics;
use crate::queue::{Inbox, Node, Ring, Slot};
use crate::runtime::ThreadHook;
use crate::task::Priority;
use crate::task::header::{NO_WORKER, Task};

pub(crate) use idle::{BusyWait, Idle};
pub(crate) use park::Parker;
pub(crate) use registry::Registry;
pub(crate) use task_counts::TaskCounts;
pub(crate) use worker::{Core, WorkerContext};

/// Consecutive runs from the LIFO slot before wakes go to the back again.
pub(crate) const LIFO_CAP: u8 = 3;

/// How the runtime's workers are run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// One thread per worker.
    MultiThread,
    /// One worker, run by the thread inside `block_on`.
    CurrentThread,
}

/// Settings fixed when the runtime is built.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    pub(crate) reductions: u32,
    pub(crate) thread_name: String,
    /// Services attached with `Builder::extension`.
    pub(crate) extensions: crate::runtime::Extensions,
    pub(crate) on_thread_start: Option<ThreadHook>,
    pub(crate) on_thread_stop: Option<ThreadHook>,
}

impl Config {
    /// Runs `body` as the body of one of the runtime's threads, between the
    /// start and stop hooks.
    pub(crate) fn run_thread<R>(&self, body: impl FnOnce() -> R) -> R {
        if let Some(start) = &self.on_thread_start {
            start();
        }
        let out = body();
        if let Some(stop) = &self.on_thread_stop {
            stop();
        }
        out
    }
}

/// The part of a worker other threads may touch.
pub(crate) struct Remote {
    /// One ring per priority level, indexed by `Priority::index`.
    pub(crate) rings: [Ring<Task>; 4],
    pub(crate) inbox: Inbox<Task>,
    /// The task that runs next (woken or spawned by the running task).
    pub(crate) lifo: CachePadded<Slot<Task>>,
    pub(crate) parker: Parker,
    pub(crate) metrics: WorkerMetrics,
    /// Set after shutdown once the worker's queues were dropped: from then
    /// on nobody owns the inbox, and late pushes drain it themselves.
    released: AtomicBool,
    /// Set while the worker busy-waits for work before parking.
    pub(crate) busy_wait: BusyWait,
    /// What the worker runs, and the requests to cut that short.
    pub(crate) run: CachePadded<RunState>,
}

/// A worker's running priority and its urgent requests, on one cache line:
/// a push of `Max` or `High` work sets a request and then reads `running`,
/// and the worker reads the requests at every charge and writes `running`
/// at every poll. On two lines, such a push fetched both (three transfers
/// with the request's load-then-set); on one, its set fetches the line
/// once and the read finds it.
pub(crate) struct RunState<N: Node = Task> {
    /// Priority index of the task being polled; [`BETWEEN_POLLS`] while
    /// the worker looks for its next task; [`IDLE_PRIORITY`] while it is
    /// idle (busy-waiting or parking). See [`Shared::push_remote`] for the
    /// handshake that relies on it.
    pub(crate) running: AtomicU8,
    /// Bits of [`URGENT_HERE`] when `Max` or `High` work was queued on this
    /// worker, of [`URGENT_AT_SIBLING`] when it waits in a busy sibling's
    /// inbox. The running task's slice ends at its next charging await
    /// point if a bit of work that outranks it is set (its slice's mask,
    /// [`urgent_mask`]; see `reductions`). Cleared by the worker before it
    /// drains its inbox.
    pub(crate) urgent: AtomicU8,
    /// A `Max` or `High` task pushed from another thread while this
    /// worker runs: it waits here rather than in the inbox, on the line
    /// that carries its request, so the push writes one line (the slot,
    /// then the request) and the worker, which reads that line at every
    /// charge, finds the task where it found the request (the wake-to-run
    /// of a High task is a chain of such transfers). Filled with
    /// `try_put` (one task; another goes to the inbox), and drained with
    /// the inbox wherever the inbox is: everything said of the inbox's
    /// handshakes holds for it.
    pub(crate) urgent_task: Slot<N>,
}

/// `RunState::running` while the worker is idle: from the start of
/// `WorkerContext::idle` until it found work.
pub(crate) const IDLE_PRIORITY: u8 = u8::MAX;

/// `RunState::running` while the worker is awake but polls no task: it
/// drains its inbox and picks the next task, or polls its `block_on`
/// future. Outranked by every strict level, as [`IDLE_PRIORITY`] is.
pub(crate) const BETWEEN_POLLS: u8 = u8::MAX - 1;

/// `RunState::urgent` bits: `Max` (`High`) work was queued on this worker.
/// The protocol bits: the worker clears them before it drains its inbox,
/// and a push sets its bit after queueing, so work queued after a drain
/// always reaches the next slice.
const URGENT_MAX: u8 = 1 << 0;
const URGENT_HIGH: u8 = 1 << 1;
pub(crate) const URGENT_HERE: u8 = URGENT_MAX | URGENT_HIGH;

/// `RunState::urgent` bits: a sibling's inbox holds `Max` (`High`) work,
/// and that sibling is busy with lower-priority work too. A hint:
/// whichever of the two reaches a charging await point first runs the
/// work (the sibling's thread may be descheduled, or deep in a long poll);
/// the sibling's own `URGENT_HERE` bit still guarantees it.
const SIBLING_MAX: u8 = 1 << 2;
const SIBLING_HIGH: u8 = 1 << 3;
pub(crate) const URGENT_AT_SIBLING: u8 = SIBLING_MAX | SIBLING_HIGH;

/// The `urgent` bit for work of `priority` queued here (`URGENT_HERE`) or
/// at a sibling: none for `Normal` and `Low`, which never preempt (`Low`
/// is interleaved with `Normal`, not below it, and a spawn or an IO wake
/// of ordinary work must not cost the next slice).
fn urgent_bit(priority: Priority, at_sibling: bool) -> u8 {
    let here = match priority {
        Priority::Max => URGENT_MAX,
        Priority::High => URGENT_HIGH,
        Priority::Normal | Priority::Low => return 0,
    };
    if at_sibling { here << 2 } else { here }
}

/// The `urgent` bits that end a slice of a task of `priority`: those of
/// work of a strictly higher priority.
pub(crate) fn urgent_mask(priority: Priority) -> u8 {
    match priority {
        Priority::Max => 0,
        Priority::High => URGENT_MAX | SIBLING_MAX,
        Priority::Normal | Priority::Low => URGENT_HERE | URGENT_AT_SIBLING,
    }
}

impl<N: Node> RunState<N> {
    /// Sets request `bit` ([`urgent_bit`]) for work queued here or at a
    /// sibling. Called *after* the work is queued (the protocol below).
    #[inline]
    fn request(&self, bit: u8) {
        // SeqCst: ordered against the worker's clear-then-drain
        // (`take_requests`).
        self.urgent.fetch_or(bit, SeqCst);
    }

    /// Clears the requests and returns them; the worker then drains its
    /// urgent slot and inbox. The protocol: a push queues its task, then
    /// sets its bit (`request`); the worker clears the bits, then drains.
    /// So either the drain sees the task, or the bit stays set and ends
    /// the next slice, whose tick drains again: urgent work is never left
    /// waiting behind a lower-priority slice. (The slice's own look at the
    /// bits, at every charge, is a `Relaxed` load: a hint.)
    #[inline]
    pub(crate) fn take_requests(&self) -> u8 {
        let urgent = self.urgent.swap(0, SeqCst);
        // Orders the clear before the drain's loads (the slot's first
        // look is `Relaxed`).
        crate::loom::fence(SeqCst);
        urgent
    }

    /// The worker starts to idle (`WorkerContext::idle`).
    #[inline]
    pub(crate) fn enter_idle(&self) {
        // Relaxed: a push that reads this from now on leaves the wake-up
        // to the idle worker's own handshakes, which see it; one that reads
        // an older value wakes a sleeper that finds nothing, at worst.
        self.running.store(IDLE_PRIORITY, Relaxed);
    }

    /// The worker is done idling and drains its inbox next: its half of
    /// the awake-worker handshake (see [`Shared::push_remote`]).
    #[inline]
    pub(crate) fn leave_idle(&self) {
        self.running.store(BETWEEN_POLLS, Relaxed);
        // Orders the store before the next drain; pairs with the fence in
        // `Parker::unpark` that follows a push.
        crate::loom::fence(SeqCst);
    }

    /// The worker starts polling a task of `priority`.
    #[inline]
    pub(crate) fn start_poll(&self, priority: Priority) {
        // Relaxed: read by pushes as a hint of what a request would
        // preempt (`Remote::outranks_running`); off `IDLE_PRIORITY`, as
        // the handshake needs while the worker is awake.
        self.running.store(priority as u8, Relaxed);
    }

    /// The worker's poll ended; it looks for its next task.
    #[inline]
    pub(crate) fn end_poll(&self) {
        // Relaxed: as in `start_poll`.
        self.running.store(BETWEEN_POLLS, Relaxed);
    }

    /// `true` if the worker looked idle, by a plain load: a hint.
    #[inline]
    pub(crate) fn looks_idle(&self) -> bool {
        self.running.load(Relaxed) == IDLE_PRIORITY
    }

    /// `true` if the worker is idle. For a pusher that has issued a
    /// `SeqCst` fence since its push: then `false` means the worker is
    /// awake and its next drain may have missed the push.
    #[inline]
    pub(crate) fn is_idle(&self) -> bool {
        // Relaxed: the caller's fence orders it (see above).
        self.running.load(Relaxed) == IDLE_PRIORITY
    }
}

impl Remote {
    /// Queues `task`, pushed from another thread, for this worker: a `Max`
    /// or `High` task in the urgent slot if it is free, anything else in
    /// the inbox. Returns `true` if the task went into the slot.
    #[inline]
    fn push_incoming(&self, task: Task) -> bool {
        let task = if task.metadata().priority().index() <= Priority::High.index() {
            match self.run.urgent_task.try_put(task) {
                Ok(()) => return true,
                Err(task) => task,
            }
        } else {
            task
        };
        self.inbox.push(task);
        false
    }

    /// `true` if tasks pushed from other threads wait here: in the inbox or
    /// the urgent slot. `SeqCst` on the inbox, for the park protocol; the
    /// slot's look is ordered by the fences of the handshakes.
    #[inline]
    pub(crate) fn has_incoming(&self) -> bool {
        self.run.urgent_task.is_occupied() || !self.inbox.is_empty()
    }

    /// `true` if work of `priority` outranks the task this worker runs: it
    /// is of a strict level (`Max`, `High`) above the running task's, or
    /// this worker is between polls (it may be about to start a
    /// lower-priority slice).
    ///
    /// Relaxed load: a hint; a stale `running` costs at most one slice of
    /// latency or one spurious request.
    #[inline]
    fn outranks_running(&self, priority: Priority) -> bool {
        priority.index() <= Priority::High.index()
            && (priority as u8) < self.run.running.load(Relaxed)
    }

    /// Asks the running task to end its slice for work of `priority` just
    /// queued here, if it is `Max` or `High`, and returns whether that
    /// work outranks the running task (`outranks_running`).
    ///
    /// Called *after* the work is queued: the worker clears the bits
    /// before it drains its inbox (`tick`), so either that drain sees the
    /// work or the bit stays set for the next slice. The bit is set without
    /// looking at `running` first: the worker's slice knows what outranks
    /// it (its mask), and the set is the one write a High wake-to-run
    /// waits for. `running` is read afterwards, from the line the set
    /// brought in.
    #[inline]
    pub(crate) fn preempt_for(&self, priority: Priority) -> bool {
        let bit = urgent_bit(priority, false);
        if bit == 0 {
            return false;
        }
        self.run.request(bit);
        self.outranks_running(priority)
    }

    /// Asks this worker to look in its siblings' inboxes for work of
    /// `priority`, if that outranks the task it runs. Returns whether it
    /// was asked.
    fn ask_to_take_urgent(&self, priority: Priority) -> bool {
        if !self.outranks_running(priority) {
            return false;
        }
        let bit = urgent_bit(priority, true);
        if self.run.urgent.load(Relaxed) & bit == 0 {
            // As in `preempt_for`, though this bit is only a hint.
            self.run.request(bit);
        }
        true
    }
}

/// Tasks spawned from outside in a row go to the same busy worker this many
/// at a time. Tasks allocated one after another sit next to each other in
/// memory, and a task is not a whole number of cache lines: two neighbours
/// polled on different workers write the line they share on every poll.
/// Dealt out one by one, every neighbour pair was split: yield_many took
/// twice as long in about a quarter of its runs (tokio: one in ten, this
/// machine's noise), and in one in ten dealt out in runs, where one pair
/// in `REMOTE_RUN` is split.
const REMOTE_RUN: usize = 16;

/// Everything the threads of one runtime share.
pub(crate) struct Shared {
    pub(crate) workers: Box<[Remote]>,
    /// Each worker's private state while no thread runs the worker.
    pub(crate) cores: Box<[Mutex<Option<Box<Core>>>]>,
    pub(crate) idle: Idle,
    pub(crate) registry: Registry,
    pub(crate) task_counts: TaskCounts,
    pub(crate) blocking: BlockingPool,
    pub(crate) driver: Box<dyn Driver>,
    /// Held by the worker parked in, or polling, the driver. On its own
    /// cache line, as is `next_remote`: both are written often (every
    /// driver poll; every spawn from outside), and the fields around them
    /// (`config`, `shutdown`, `registry`) are read on every poll.
    driver_busy: CachePadded<AtomicBool>,
    pub(crate) config: Config,
    shutdown: AtomicBool,
    /// Serialises draining inboxes once their workers stopped.
    drain_lock: Mutex<()>,
    /// Round-robin start for work from outside and for wake-ups.
    next_remote: CachePadded<AtomicUsize>,
}

impl Shared {
    pub(crate) fn new(
        workers: usize,
        config: Config,
        driver: Box<dyn Driver>,
        blocking: BlockingPool,
    ) -> Shared {
        Shared {
            workers: (0..workers)
                .map(|_| Remote {
                    rings: std::array::from_fn(|_| Ring::new()),
                    inbox: Inbox::new(),
                    lifo: CachePadded(Slot::new()),
                    parker: Parker::new(),
                    metrics: WorkerMetrics::default(),
                    released: AtomicBool::new(false),
                    busy_wait: BusyWait::new(),
                    run: CachePadded(RunState {
                        // Not idle until its thread says so: a push before
                        // the worker's first look may wake a sibling.
                        running: AtomicU8::new(BETWEEN_POLLS),
                        urgent: AtomicU8::new(0),
                        urgent_task: Slot::new(),
                    }),
                })
                .collect(),
            cores: (0..workers)
                .map(|i| Mutex::new(Some(Box::new(Core::new(i)))))
                .collect(),
            idle: Idle::new(workers),
            registry: Registry::new(workers),
            task_counts: TaskCounts::new(workers),
            blocking,
            driver,
            driver_busy: CachePadded(AtomicBool::new(false)),
            config,
            shutdown: AtomicBool::new(false),
            drain_lock: Mutex::new(()),
            next_remote: CachePadded(AtomicUsize::new(0)),
        }
    }

    #[inline]
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Tries to become the one worker that parks in (or polls) the driver.
    pub(crate) fn try_lock_driver(&self) -> bool {
        !self.driver_busy.load(Relaxed) && !self.driver_busy.swap(true, Acquire)
    }

    pub(crate) fn unlock_driver(&self) {
        self.driver_busy.store(false, Release);
    }

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
    fn push_home(&self, task: Task) {
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
        tasks.extend(remote.lifo.take());
        for ring in &remote.rings {
            while let Some(task) = ring.pop() {
                tasks.push(task);
            }
        }
        {
            let _drain = self.drain_lock.lock().unwrap_or_else(|p| p.into_inner());
            // From now on whoever pushes here drains (see `push_remote`).
            remote.released.store(true, SeqCst);
            tasks.extend(remote.run.urgent_task.take());
            tasks.extend(remote.inbox.drain());
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
    fn drain_inbox_after_shutdown(&self, target: usize) {
        let tasks: Vec<Task> = {
            let _drain = self.drain_lock.lock().unwrap_or_else(|p| p.into_inner());
            let remote = &self.workers[target];
            if !remote.released.load(SeqCst) {
                return;
            }
            let slotted = remote.run.urgent_task.take();
            slotted.into_iter().chain(remote.inbox.drain()).collect()
        };
        drop(tasks);
    }
}

/// The worker of runtime `shared` running on the calling thread.
///
/// The lifetime is unbounded: callers use the reference only within the
/// call that found it, which the worker's loop (or `block_on`) encloses.
#[inline]
pub(crate) fn current_worker<'w>(shared: &Shared) -> Option<&'w WorkerContext> {
    let worker = context::worker()?;
    // SAFETY: the context points at a `WorkerContext` on this thread's
    // stack for as long as it is installed (see `WorkerContext::install`).
    let worker = unsafe { worker.as_ref() };
    ptr::eq(&*worker.shared, shared).then_some(worker)
}

/// The schedule function of every smp_rt task. See the module docs.
pub(crate) fn schedule(task: Task, info: ScheduleInfo) {
    let header = task.metadata();
    if header.shared.is_shutdown() {
        drop(task);
        return;
    }
    if let Some(worker) = current_worker(&header.shared) {
        worker.schedule_local(task, info);
        return;
    }
    // A clone keeps the runtime's state alive until the push and unpark
    // are done, even if the task runs to completion meanwhile.
    Arc::clone(&header.shared).push_home(task);
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::driver::CountingDriver;
    use crate::queue::test_node::{TestNode, node};
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
                    urgent_task: Slot::new(),
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

    /// A `High` task pushed into the urgent slot while the worker clears
    /// its requests and drains (`RunState::take_requests`): either the
    /// drain takes the task, or the request stays set, so the running
    /// slice ends at its next charge and the next tick drains again. A
    /// second push, finding the slot full, goes to the inbox, under the
    /// same rule.
    #[test]
    fn an_urgent_push_is_drained_or_leaves_its_request_set() {
        loom::model(|| {
            let run: Arc<RunState<Box<TestNode>>> = Arc::new(RunState {
                running: AtomicU8::new(Priority::Normal as u8),
                urgent: AtomicU8::new(0),
                urgent_task: Slot::new(),
            });
            let inbox: Arc<Inbox<Box<TestNode>>> = Arc::new(Inbox::new());
            let pushers: Vec<_> = (1..=2)
                .map(|value| {
                    let (run, inbox) = (run.clone(), inbox.clone());
                    loom::thread::spawn(move || {
                        if let Err(task) = run.urgent_task.try_put(node(value)) {
                            inbox.push(task);
                        }
                        run.request(URGENT_HIGH);
                    })
                })
                .collect();
            let drain = || {
                let slotted = run.urgent_task.take().into_iter();
                slotted.chain(inbox.drain()).count()
            };
            let cleared = run.take_requests();
            let drained = drain();
            for pusher in pushers {
                pusher.join().unwrap();
            }
            let left_set = run.urgent.load(Relaxed) & URGENT_HIGH != 0;
            assert!(
                drained == 2 || left_set,
                "{drained} of 2 drained, the request cleared (saw {cleared:#b})"
            );
            // The next slice's tick: everything left is found.
            if left_set {
                run.take_requests();
                assert_eq!(drained + drain(), 2);
            }
        });
    }
}

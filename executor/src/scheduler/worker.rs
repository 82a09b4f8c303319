//! A worker: the loop every worker thread runs, and its private state.
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
//! # Picking the next task
//!
//! `Max`, then `High`, strictly. Then `Normal`, except that a ready `Low`
//! task is passed over at most [`LOW_SKIPS`] times: the next pick after that
//! is `Low`. Within a level, the LIFO slot (a task just woken by the running
//! task) goes first, then the deque in FIFO order.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use async_task::ScheduleInfo;

use super::{LIFO_CAP, Remote, Shared, URGENT_AT_SIBLING, URGENT_HERE, idle, urgent_mask};
use crate::context;
use crate::metrics;
use crate::queue::Ring;
use crate::reductions;
use crate::task::harness;
use crate::task::header::{NO_WORKER, Task};

/// A ready `Low` task is passed over at most this many times by `Normal` work.
pub(crate) const LOW_SKIPS: u8 = 8;

/// Ticks between non-blocking polls of the driver by a busy worker.
const DRIVER_INTERVAL: u32 = 61;

/// Before parking, an idle worker busy-waits for new work for about this
/// long (BEAM's scheduler busy wait): work arriving in a burst (a thread
/// spawning many tasks, a stream of wake-ups) then finds the worker awake
/// instead of paying a futex wake-up per lull.
const IDLE_SPIN: Duration = Duration::from_micros(25);
/// The busy wait watches the inbox for waits of this many rounds: on
/// AArch64 a round is a `wfe` that ends when the inbox's line is written
/// (or on the kernel's ~100 µs event stream); elsewhere a `spin_loop` hint.
const IDLE_ROUNDS: u32 = if cfg!(target_arch = "aarch64") { 1 } else { 16 };
/// Between waits, the worker checks shutdown and `block_on`'s future; every
/// this many waits it also looks at its siblings' queues and the clock, and
/// yields its thread, so a busy wait never keeps a runnable thread (the
/// one spawning the work, say) off a core the machine is short of.
const IDLE_WAITS_PER_CHECK: u32 = 8;

/// Capacity an empty overflow level keeps (tasks); beyond it, the buffer
/// is freed when the level drains.
const OVERFLOW_KEPT: usize = 1024;

/// Why a task is queued on this worker (see `WorkerContext::enqueue`).
#[derive(Clone, Copy)]
enum Arrival {
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

/// A worker's private state: only the thread running the worker touches it.
pub(crate) struct Core {
    index: usize,
    /// The level of the task this worker put in its LIFO slot
    /// (`Remote::lifo`), which runs next (same level permitting); `None`
    /// once taken. May be stale: a sibling may have rescued the task.
    lifo_level: Option<u8>,
    /// Consecutive tasks taken from `lifo`.
    lifo_streak: u8,
    /// `Normal` picks made while `Low` work waited.
    low_skips: u8,
    /// Tasks that did not fit in the rings, per priority; the rings hold the
    /// older tasks, so each level is ring, then overflow. Only the LIFO slot
    /// and the overflow are out of thieves' reach: tasks held privately wait
    /// for as long as the kernel keeps this worker off its core (see
    /// docs/PERFORMANCE.md on batch pops).
    overflow: [VecDeque<Task>; 4],
    /// Levels whose ring or overflow may hold tasks, bit `1 << level`.
    /// Only this worker adds tasks to them, and it sets the bit each time;
    /// it clears the bit when it finds the level empty. Thieves only take,
    /// so a set bit may be stale (the pop finds nothing and clears it) but
    /// a clear bit never is: `pick` reads one byte instead of two atomics
    /// per level.
    queued: u8,
    tick: u32,
    /// The driver poll due on the last tick was put off for urgent work
    /// (see `next_tick`).
    driver_deferred: bool,
    rng: u32,
    /// Counted in `Idle::searching`.
    searching: bool,
    /// Per sibling, its poll count at the last look (see
    /// `WorkerContext::rescue_stranded`).
    sibling_seen: Vec<u64>,
    /// Per worker, its poll count when this worker's busy wait began (see
    /// `WorkerContext::rescue_lifo_slots`).
    spin_seen: Vec<u64>,
}

impl Core {
    pub(crate) fn new(index: usize) -> Core {
        Core {
            index,
            lifo_level: None,
            lifo_streak: 0,
            low_skips: 0,
            overflow: Default::default(),
            queued: 0,
            tick: 0,
            driver_deferred: false,
            // Any odd seed works for xorshift; spread the workers apart.
            rng: 0x9E37_79B9u32.wrapping_mul(index as u32 + 1) | 1,
            searching: false,
            sibling_seen: Vec::new(),
            spin_seen: Vec::new(),
        }
    }

    /// Counts a tick and says whether it polls the driver: one tick in
    /// [`DRIVER_INTERVAL`], except that urgent work (`urgent()`) puts the
    /// poll off to the next tick. The poll is a system call of a few µs,
    /// and a High task woken from outside waited behind it when it fell
    /// on the preempting tick (the wake-to-run's tail in one sample in
    /// about 60). Put off once only, so a stream of urgent work cannot
    /// starve IO and timers.
    fn next_tick(&mut self, urgent: impl FnOnce() -> bool) -> bool {
        self.tick = self.tick.wrapping_add(1);
        if self.tick % DRIVER_INTERVAL != 0 {
            return false;
        }
        if !self.driver_deferred && urgent() {
            self.driver_deferred = true;
            self.tick = self.tick.wrapping_sub(1);
            return false;
        }
        self.driver_deferred = false;
        true
    }

    /// Every task the core holds, for shutdown.
    pub(crate) fn take_all(&mut self) -> Vec<Task> {
        self.lifo_level = None;
        let mut tasks = Vec::new();
        for level in &mut self.overflow {
            tasks.extend(level.drain(..));
        }
        tasks
    }

    fn next_random(&mut self) -> u32 {
        // xorshift32
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// Appends `task` to its level. Returns `true` if it went into the
    /// stealable ring (rather than the private overflow).
    fn push_back(&mut self, task: Task, remote: &Remote) -> bool {
        let level = task.metadata().priority().index();
        self.queued |= 1 << level;
        let overflow = &mut self.overflow[level];
        if overflow.is_empty() {
            match remote.rings[level].push_back(task) {
                Ok(()) => return true,
                Err(task) => overflow.push_back(task),
            }
        } else {
            overflow.push_back(task);
        }
        self.publish_private(level, remote);
        false
    }

    /// Steals about half of a sibling's `level` ring into this worker's
    /// (`me`), returning one of the stolen tasks to run. The rest went into
    /// this worker's ring, so the level's bit in `queued` is set.
    fn steal_half(&mut self, ring: &Ring<Task>, level: usize, me: &Remote) -> Option<Task> {
        let task = ring.steal_into(&me.rings[level])?;
        self.queued |= 1 << level;
        Some(task)
    }

    /// Publishes how many tasks of `level` only this worker can see (its
    /// overflow), for `worker_queue_depth`.
    #[inline]
    fn publish_private(&self, level: usize, remote: &Remote) {
        let private = self.overflow[level].len();
        remote.metrics.private[level].store(private, Relaxed);
    }

    /// Moves every task pushed to `from` (this worker, or a sibling) from
    /// other threads, in its urgent slot and its inbox, to the back of its
    /// level here (`me`). Returns `true` if any went into a stealable ring.
    fn take_incoming(&mut self, from: &Remote, me: &Remote) -> bool {
        let mut to_ring = false;
        // The slot first: its task is at least as old as any `Max` or
        // `High` task that went to the inbox because the slot was full.
        for task in from
            .run
            .urgent_task
            .take()
            .into_iter()
            .chain(from.inbox.drain())
        {
            to_ring |= self.push_back(task, me);
        }
        to_ring
    }

    /// The next task by the priority rule (module docs).
    fn pick(&mut self, remote: &Remote) -> Option<Task> {
        loop {
            if let Some(task) = self.pick_once(remote) {
                return Some(task);
            }
            if self.queued == 0 && self.lifo_level.is_none() {
                return None;
            }
        }
    }

    /// One try of `pick`: `None` if nothing is ready, or if what it chose
    /// turned out gone (its bit in `queued`, or `lifo_level`, is then
    /// cleared).
    fn pick_once(&mut self, remote: &Remote) -> Option<Task> {
        let lifo_level = self.lifo_level.map(usize::from);
        let ready_mask = self.queued | lifo_level.map_or(0, |level| 1 << level);
        let ready = |level: usize| ready_mask & (1 << level) != 0;
        let level = if ready(0) {
            0
        } else if ready(1) {
            1
        } else if ready(2) {
            if ready(3) && self.low_skips >= LOW_SKIPS {
                self.low_skips = 0;
                3
            } else {
                if ready(3) {
                    self.low_skips += 1;
                }
                2
            }
        } else if ready(3) {
            self.low_skips = 0;
            3
        } else {
            return None;
        };
        if lifo_level == Some(level) {
            self.lifo_level = None;
            self.lifo_streak = self.lifo_streak.saturating_add(1);
            // `None` if a sibling rescued it.
            return remote.lifo.take();
        }
        self.lifo_streak = 0;
        let task = self.pop_level(level, remote);
        if task.is_none() {
            // Thieves took the rest.
            self.queued &= !(1 << level);
        }
        task
    }

    /// Pops the front of `level`: from the ring, else from the overflow
    /// (which then refills the ring).
    fn pop_level(&mut self, level: usize, remote: &Remote) -> Option<Task> {
        let ring = &remote.rings[level];
        if let Some(task) = ring.pop() {
            return Some(task);
        }
        let task = self.take_overflow(level, ring);
        self.publish_private(level, remote);
        task
    }

    fn take_overflow(&mut self, level: usize, ring: &Ring<Task>) -> Option<Task> {
        let overflow = &mut self.overflow[level];
        let first = overflow.pop_front()?;
        while let Some(task) = overflow.pop_front() {
            if let Err(task) = ring.push_back(task) {
                overflow.push_front(task);
                break;
            }
        }
        if overflow.is_empty() && overflow.capacity() > OVERFLOW_KEPT {
            // A burst is over: give its buffer back instead of keeping it
            // for the worker's life (a million spawns left 8 MB behind).
            *overflow = VecDeque::new();
        }
        Some(first)
    }

    fn has_local_work(&self, remote: &Remote) -> bool {
        remote.lifo.is_occupied()
            || self.overflow.iter().any(|o| !o.is_empty())
            || remote.rings.iter().any(|r| !r.is_empty())
            || remote.has_incoming()
    }
}

/// A worker being run by the current thread; the thread-local context
/// points here while it is installed.
pub(crate) struct WorkerContext {
    pub(crate) shared: Arc<Shared>,
    pub(crate) index: usize,
    /// `&shared.workers[index]`, looked up once: the hot path uses it
    /// several times per poll.
    remote: NonNull<Remote>,
    core: RefCell<Box<Core>>,
    /// `true` while a task is being polled (its wakes go to the LIFO slot).
    in_task: Cell<bool>,
    /// Stealable tasks queued here from outside any task (by the driver,
    /// mostly) since the last driver poll or tick.
    queued_outside: Cell<u32>,
    /// Set when a single task was queued from outside a task: a sibling is
    /// woken after the next poll.
    notify_after_run: Cell<bool>,
    /// This worker's poll count when it last parked (`u64::MAX` before
    /// the first park): unchanged at the start of `idle`, its last
    /// wake-up found nothing to run.
    polls_at_park: Cell<u64>,
    /// When the current busy period started.
    busy_since: Cell<Option<Instant>>,
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
            polls_at_park: Cell::new(u64::MAX),
            busy_since: Cell::new(None),
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
    fn remote(&self) -> &Remote {
        // SAFETY: `remote` points into `shared.workers`, a boxed slice that
        // is never reallocated and lives as long as `shared`, which this
        // context holds.
        unsafe { self.remote.as_ref() }
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
            // incoming, and the drain's call is a tenth of a yield's
            // instructions (callgrind). The same loads the drain begins with.
            let drained = remote.has_incoming() && core.take_incoming(remote, remote);
            let task = core.pick(remote);
            drop(core);
            // Remote work that is still queued after this pick can be
            // shared; a single remote wake costs no sibling a wake-up.
            if drained && remote.rings.iter().any(|ring| !ring.is_empty()) {
                self.shared.notify_for_steal();
            }
            task
        };
        self.restart_outside_count();
        let Some(task) = task.or_else(|| self.steal()) else {
            return false;
        };
        self.end_search();
        if self.busy_since.get().is_none() {
            self.busy_since.set(Some(Instant::now()));
        }
        self.run_task(task);
        if self.notify_after_run.replace(false) {
            self.shared.notify_for_steal();
        }
        true
    }

    /// Takes the work of a sibling that is not getting anywhere: between
    /// two looks (`DRIVER_INTERVAL` ticks apart) it finished no poll, and
    /// work waits there. Its thread is descheduled (more runnable threads than
    /// cores: a kernel time slice is milliseconds) or stuck in one long
    /// poll, and the work queued on it would wait as long; affinity is
    /// worth less than that. Its inbox and LIFO slot are taken whole, and
    /// half of each of its rings, as an idle worker's steal would: a busy
    /// worker never steals otherwise, and an HTTP server's workers stay
    /// busy (their IO wakes queue locally), so the queue of a descheduled
    /// worker waited for its thread (wrk's p99 was a 4 ms kernel tick when
    /// the driver was polled twice as often).
    fn rescue_stranded(&self, core: &mut Core) {
        let workers = &self.shared.workers;
        if workers.len() == 1 {
            return;
        }
        core.sibling_seen.resize(workers.len(), u64::MAX);
        let me = self.remote();
        for (i, sibling) in workers.iter().enumerate() {
            if i == self.index {
                continue;
            }
            // Relaxed: a progress hint; a stale count delays or hastens
            // the rescue by one look, and the drain itself synchronizes.
            // The count is read first: a sibling making progress (the
            // usual case) costs one cache line, not a look at its queues.
            let polls = sibling.metrics.polls.load(Relaxed);
            let seen_polls = std::mem::replace(&mut core.sibling_seen[i], polls);
            if polls != seen_polls {
                continue;
            }
            let waiting = sibling.has_incoming()
                || sibling.lifo.is_occupied()
                || sibling.rings.iter().any(|ring| !ring.is_empty());
            if waiting {
                core.take_incoming(sibling, me);
                if let Some(task) = sibling.lifo.take() {
                    core.push_back(task, me);
                }
                for (level, ring) in sibling.rings.iter().enumerate() {
                    if let Some(task) = core.steal_half(ring, level, me) {
                        core.push_back(task, me);
                    }
                }
                tracing::trace!(
                    worker = self.index,
                    sibling = i,
                    "took a stalled sibling's inbox, LIFO slot and half its queue"
                );
            }
        }
    }

    /// Takes the inboxes of siblings that were asked to preempt their task
    /// for higher-priority work and have not drained yet
    /// ([`URGENT_AT_SIBLING`]): the first worker between polls runs it.
    fn take_urgent_from_siblings(&self, core: &mut Core) {
        let me = self.remote();
        for (i, sibling) in self.shared.workers.iter().enumerate() {
            if i != self.index
                && sibling.run.urgent.load(Relaxed) & URGENT_HERE != 0
                && sibling.has_incoming()
            {
                core.take_incoming(sibling, me);
                tracing::trace!(
                    worker = self.index,
                    sibling = i,
                    "took urgent work from a busy sibling's inbox"
                );
            }
        }
    }

    /// Polls the driver without blocking, if it has anything to poll and
    /// no other worker has it.
    fn poll_driver(&self) {
        if !self.shared.driver.is_empty() && self.shared.try_lock_driver() {
            self.shared.driver.poll();
            self.shared.unlock_driver();
            self.restart_outside_count();
        }
    }

    fn run_task(&self, task: Task) {
        let header = task.metadata();
        header.set_last_worker(self.index as u32);
        let span = header.span();
        let _entered = span.enter();
        let remote = self.remote();
        let priority = header.priority();
        remote.run.start_poll(priority);
        let prev = reductions::enter_slice(
            self.shared.config.reductions,
            &remote.run.urgent,
            urgent_mask(priority),
        );
        self.in_task.set(true);
        harness::run(task);
        self.in_task.set(false);
        let slice = reductions::exit_slice(prev);
        remote.run.end_poll();
        let metrics = &remote.metrics;
        metrics::add(&metrics.polls, 1);
        if slice.preempted {
            metrics::add(&metrics.preemptions, 1);
            tracing::trace!(worker = self.index, "preempted: reduction budget spent");
        }
    }

    /// Steals a batch from a sibling, starting at a random one, taking from
    /// its highest non-empty priority level.
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
        let start = core.next_random() as usize % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            for (level, ring) in workers[victim].rings.iter().enumerate() {
                if let Some(task) = core.steal_half(ring, level, me) {
                    tracing::trace!(worker = self.index, victim, level, "steal");
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
    fn account_busy(&self) {
        if let Some(since) = self.busy_since.take() {
            let ns = since.elapsed().as_nanos() as u64;
            metrics::add(&self.remote().metrics.busy_ns, ns);
        }
    }

    /// Out of work: spin briefly on the inbox, then park until woken.
    /// `woken` reports work that arrived some other way (`block_on`'s
    /// future being woken).
    pub(crate) fn idle(&self, woken: &dyn Fn() -> bool) {
        let run = &self.remote().run;
        run.enter_idle();
        self.wait_for_work(woken);
        run.leave_idle();
    }

    /// The body of [`idle`](WorkerContext::idle).
    fn wait_for_work(&self, woken: &dyn Fn() -> bool) {
        self.account_busy();
        // A task queued by the driver was taken by a thief, who is awake.
        self.notify_after_run.set(false);
        let shared = &*self.shared;
        let remote = self.remote();
        let mut core = self.core.borrow_mut();
        if core.searching {
            core.searching = false;
            shared.idle.stop_searching();
        }
        drop(core);
        // The worker that will block in the driver does so at once: there
        // it wakes on IO as well as on work, while a busy wait would leave
        // IO events unread. The others busy-wait first, and so does a
        // worker whose last wake-up found nothing to run while the driver
        // has nothing to wait for (no IO source, no timer): it was woken
        // for work a sibling ran first, and more is likely to come soon.
        // Blocked in the driver, each such wake-up was an eventfd write
        // (chained_spawn on 2 workers: 13% of the workers' samples in
        // `eventfd_write`); busy-waiting, it takes the next task without
        // one. A source or timer added meanwhile waits at most the busy
        // wait, after which the worker blocks in the driver.
        // Only this thread writes its poll count, and it polls nothing
        // between this load and the store below (a busy wait that finds
        // work returns first).
        let polls = remote.metrics.polls.load(Relaxed);
        let futile = self.polls_at_park.get() == polls && shared.driver.is_empty();
        let mut in_driver = !futile && shared.try_lock_driver();
        if !in_driver {
            if self.busy_wait(woken) {
                return;
            }
            in_driver = shared.try_lock_driver();
        }
        self.polls_at_park.set(polls);
        let mut core = self.core.borrow_mut();

        shared.idle.inc_sleeping();
        let wait = remote.parker.prepare(in_driver);
        // Look once more, after announcing the park (see `scheduler::park`).
        // Siblings' rings matter only if nobody is searching: a searcher
        // would find that work, and does this same check before it parks.
        let work = shared.is_shutdown()
            || woken()
            || core.has_local_work(remote)
            || (shared.idle.searching() == 0
                && shared
                    .workers
                    .iter()
                    .any(|w| w.has_incoming() || w.rings.iter().any(|r| !r.is_empty())));
        // A sibling's LIFO slot holds a task: it may be stuck behind a poll
        // that blocks its thread, and a sibling that queued it while this
        // worker busy-waited woke nobody (the handshake in
        // `scheduler::idle`). So this worker parks for no longer than a
        // busy wait, then rescues the slot of a sibling stuck meanwhile.
        // (The worker in the driver does not busy-wait at all, so this is
        // its only watch.)
        let watch_lifo = !work
            && (shared.workers.iter().enumerate())
                .any(|(i, w)| i != self.index && w.lifo.is_occupied());
        if watch_lifo {
            self.note_polls(&mut core);
        }
        let to_search = if work {
            remote.parker.cancel()
        } else {
            metrics::add(&remote.metrics.parks, 1);
            tracing::trace!(worker = self.index, in_driver, "park");
            drop(core);
            let timeout = watch_lifo.then_some(IDLE_SPIN);
            let to_search = remote.parker.wait_at_most(wait, &*shared.driver, timeout);
            core = self.core.borrow_mut();
            tracing::trace!(worker = self.index, "unparked");
            to_search
        };
        shared.idle.dec_sleeping();
        if in_driver {
            shared.unlock_driver();
        }
        core.searching = to_search;
        drop(core);
        self.restart_outside_count();
        // Only after a wait (`watch_lifo` is never set when the look found
        // work): right after the look, every sibling's poll count is still
        // the one just noted, and a busy sibling would lose its next task
        // for nothing.
        if watch_lifo {
            self.rescue_lifo_slots();
        }
    }

    /// The busy wait before parking (see [`IDLE_SPIN`]). Returns `true` if
    /// work may have arrived: in the inbox, in a sibling's rings, through
    /// `woken`, or the runtime shut down.
    fn busy_wait(&self, woken: &dyn Fn() -> bool) -> bool {
        let shared = &*self.shared;
        let remote = self.remote();
        let until = Instant::now() + IDLE_SPIN;
        // Seen by `Shared::pick_remote_worker` (work from outside comes
        // here first, costing no wake-up) and by siblings that queue a task
        // they will run next (they skip waking anyone: the busy-wait
        // handshake in `scheduler::idle`, completed by the look for work
        // after `Parker::prepare` in `idle`).
        remote.busy_wait.begin();
        self.note_polls(&mut self.core.borrow_mut());
        let found = loop {
            let pushed = (0..IDLE_WAITS_PER_CHECK).any(|_| {
                remote.inbox.wait_for_push(IDLE_ROUNDS)
                    || remote.run.urgent_task.is_occupied()
                    || woken()
                    || shared.is_shutdown()
            });
            let stealable = || {
                shared
                    .workers
                    .iter()
                    .any(|w| w.rings.iter().any(|r| !r.is_empty()) || w.has_incoming())
            };
            if pushed || stealable() {
                break true;
            }
            if Instant::now() >= until {
                break self.rescue_lifo_slots();
            }
            std::thread::yield_now();
        };
        remote.busy_wait.end();
        found
    }

    /// Notes every worker's poll count, for `rescue_lifo_slots`.
    fn note_polls(&self, core: &mut Core) {
        core.spin_seen.clear();
        let polls = self.shared.workers.iter();
        core.spin_seen
            .extend(polls.map(|w| w.metrics.polls.load(Relaxed)));
    }

    /// At the end of a busy wait (or of a short park in the driver, which
    /// does not busy-wait): takes the LIFO slot of every sibling that
    /// polled no task during the wait. Its task would otherwise wait for
    /// the end of that sibling's long poll, and this worker is about to
    /// sleep. (Only after a whole busy wait: a sibling that is merely busy
    /// takes its slot within microseconds.) Returns `true` if it took any.
    fn rescue_lifo_slots(&self) -> bool {
        let remote = self.remote();
        let mut core = self.core.borrow_mut();
        let mut found = false;
        for (i, sibling) in self.shared.workers.iter().enumerate() {
            // Relaxed: a progress hint; the slot's swap synchronizes.
            let stuck = i != self.index && sibling.metrics.polls.load(Relaxed) == core.spin_seen[i];
            if stuck && let Some(task) = sibling.lifo.take() {
                core.push_back(task, remote);
                tracing::trace!(
                    worker = self.index,
                    sibling = i,
                    "took a stalled sibling's LIFO slot"
                );
                found = true;
            }
        }
        found
    }

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

    /// Schedules a task woken on this worker's thread.
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
            // about to look for work, and sending each IO wake home made
            // every worker a partner in every exchange (tcp_echo: 2.1
            // reactor waits per round trip instead of 0.8).
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
    /// calls for it (and the streak allows), else at the back of its deque. Then asks the
    /// running task to yield if `task` outranks it, and wakes a thief by the
    /// rules below (see also the scheduler's module docs).
    ///
    /// A task that yielded (woke itself while running: `yield_now`, a
    /// spent slice) is not new work: a sibling is woken for it only if a
    /// cheap look says one sleeps and nobody searches. That look skips the
    /// handshake's fence, so it may miss a sibling that is just parking;
    /// nothing is lost by that (this worker runs the task itself), and it
    /// keeps a full fence off every yield.
    fn enqueue(&self, task: Task, arrival: Arrival) {
        let header = task.metadata();
        header.set_last_worker(self.index as u32);
        let priority = header.priority();
        let remote = self.remote();
        let mut core = self.core.borrow_mut();
        // Woken by the running task: the LIFO slot. Spawned by it: the slot
        // if it is free, so that a task spawning many keeps their order.
        let to_front = match arrival {
            Arrival::Woken => true,
            Arrival::Spawned => self.in_task.get() && core.lifo_level.is_none(),
            Arrival::Yielded | Arrival::Driver => false,
        };
        let (to_ring, to_lifo) = if to_front && core.lifo_streak < LIFO_CAP {
            // Front of the line; a task it displaces goes to the back.
            core.lifo_level = Some(priority as u8);
            match remote.lifo.put(task) {
                Some(displaced) => (core.push_back(displaced, remote), false),
                None => (false, true),
            }
        } else {
            (core.push_back(task, remote), false)
        };
        // A task spawned or woken by the running task that is the only one
        // queued here runs when the current poll ends: waking a sleeping
        // sibling for it is a futex wake-up for nothing (chained_spawn:
        // -26%), as long as a sibling busy-waits: that one takes the task
        // if the current poll runs long (from the ring at once; from the
        // LIFO slot after a busy wait without progress here). With every
        // sibling asleep, one is woken as for any new work, so a task
        // spawned by a task that then blocks its thread is not stranded.
        // (One bit in `queued`: this task's level, whose overflow is empty
        // since the task went into the ring.)
        let runs_next = || {
            core.lifo_level.is_none()
                && core.queued.is_power_of_two()
                && remote.rings[priority.index()].len() == 1
        };
        let notify = match arrival {
            // Not new work: this worker runs it anyway.
            Arrival::Yielded => to_ring && self.shared.idle.may_want_wakeup(),
            // In the LIFO slot: stealable only after a busy wait.
            Arrival::Woken if to_lifo => false,
            Arrival::Spawned if to_lifo => !self.a_sibling_busy_waits(),
            Arrival::Spawned | Arrival::Woken => {
                to_ring && !(runs_next() && self.a_sibling_busy_waits())
            }
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
    fn a_sibling_busy_waits(&self) -> bool {
        let workers = self.shared.workers.iter().enumerate();
        idle::a_sibling_busy_waits(
            workers
                .filter(|&(i, _)| i != self.index)
                .map(|(_, w)| &w.busy_wait),
        )
    }

    /// Starts a new count of tasks queued from outside a task (see
    /// `enqueue`): called after every driver poll and at every tick.
    fn restart_outside_count(&self) {
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

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn driver_ticks(core: &mut Core, ticks: u32, urgent: impl Fn(u32) -> bool) -> Vec<u32> {
        (1..=ticks)
            .filter(|&t| core.next_tick(|| urgent(t)))
            .collect()
    }

    #[test]
    fn the_driver_is_polled_every_driver_interval_ticks() {
        let polls = driver_ticks(&mut Core::new(0), 3 * DRIVER_INTERVAL, |_| false);
        assert_eq!(polls, [1, 2, 3].map(|k| k * DRIVER_INTERVAL));
    }

    #[test]
    fn urgent_work_puts_the_driver_poll_off_by_one_tick() {
        let polls = driver_ticks(&mut Core::new(0), 2 * DRIVER_INTERVAL + 1, |t| {
            t == DRIVER_INTERVAL
        });
        assert_eq!(polls, [DRIVER_INTERVAL + 1, 2 * DRIVER_INTERVAL + 1]);
    }

    #[test]
    fn urgent_work_on_every_tick_does_not_starve_the_driver() {
        let polls = driver_ticks(&mut Core::new(0), 4 * DRIVER_INTERVAL, |_| true);
        assert_eq!(polls.len(), 3, "polls at {polls:?}");
        assert!(
            polls.windows(2).all(|w| w[1] - w[0] <= DRIVER_INTERVAL + 1),
            "polls at {polls:?}"
        );
    }
}

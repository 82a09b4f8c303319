//! A worker's private state: its queues as their owner sees them.
//!
//! Each level is the ring (stealable), then the overflow (locked, for
//! tasks that did not fit): the ring holds the older tasks. The LIFO slot
//! holds the task that runs next, of level `lifo_level`. Only the thread
//! running the worker touches a [`Core`]; siblings reach the same rings and
//! slot through the worker's [`Remote`](super::Remote), and can only take.

use std::sync::Arc;

use super::Remote;
use super::deadline;
use super::overflow::Overflow;
use super::pick::{LevelPicker, Levels};
use crate::queue::{LifoSlot, Local, Steal};
use crate::task::Priority;
use crate::task::header::Task;

/// Ticks between non-blocking polls of the driver by a busy worker.
pub(super) const DRIVER_INTERVAL: u32 = 61;

/// A worker's private state: only the thread running the worker touches it.
pub(crate) struct Core {
    pub(super) index: usize,
    /// The owner's end of each level's ring, indexed by `Priority::index`.
    pub(super) rings: [Local<Task>; 4],
    /// The owner's end of the LIFO slot.
    pub(super) lifo: LifoSlot<Task>,
    /// The level of the task this worker put in its LIFO slot, which runs
    /// next (same level permitting); `None` once taken. May be stale: a
    /// sibling may have rescued the task.
    pub(super) lifo_level: Option<Priority>,
    /// Consecutive tasks taken from `lifo`.
    pub(super) lifo_streak: u8,
    /// The priority rule's state.
    picker: LevelPicker,
    /// Tasks that did not fit in the rings, per priority; the rings hold the
    /// older tasks, so each level is ring, then overflow. Thieves do not
    /// take from it; the watchdog does, from a worker in a long poll (the
    /// worker's `Remote` holds the same one).
    overflow: Arc<Overflow>,
    /// Levels whose deadline heap (in the worker's `Remote`: ready tasks
    /// with a deadline, earliest first, picked before the level's LIFO
    /// slot, ring and overflow) may hold tasks. Only this worker adds tasks
    /// to the heaps, and it inserts the level each time; the watchdog may
    /// empty them, so a level in the set may be empty, but a level outside
    /// it never holds a task: the pick takes the heaps' lock only for a
    /// level in the set (see `deadline`).
    deadline_levels: Levels,
    /// Arrivals counted into the deadline heaps: equal deadlines run FIFO.
    deadline_seq: u64,
    /// Levels whose ring or overflow may hold tasks. Only this worker adds
    /// tasks to them, and it inserts the level each time; it removes the
    /// level when it finds it empty. Thieves only take, so a level in the
    /// set may be empty (the pop finds nothing and removes it) but a level
    /// outside it never holds a task: `pick` reads one byte instead of two
    /// atomics per level.
    pub(super) queued: Levels,
    tick: u32,
    /// The driver poll due on the last tick was put off for urgent work
    /// (see `next_tick`).
    driver_deferred: bool,
    rng: u32,
    /// Counted in `Idle::searching`.
    pub(super) searching: bool,
    /// Per sibling, its progress at the last look (see
    /// `WorkerContext::rescue_stranded`).
    pub(super) sibling_seen: Vec<u64>,
    /// Per worker, its progress when this worker's busy wait began (see
    /// `WorkerContext::rescue_lifo_slots`).
    pub(super) spin_seen: Vec<u64>,
}

impl Core {
    /// The core of worker `index`, owning `rings` and `lifo` (whose
    /// sibling ends are in the worker's `Remote`, as is `overflow`).
    pub(crate) fn new(
        index: usize,
        rings: [Local<Task>; 4],
        lifo: LifoSlot<Task>,
        overflow: Arc<Overflow>,
    ) -> Core {
        Core {
            index,
            rings,
            lifo,
            lifo_level: None,
            lifo_streak: 0,
            picker: LevelPicker::default(),
            overflow,
            deadline_levels: Levels::EMPTY,
            deadline_seq: 0,
            queued: Levels::EMPTY,
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
    /// poll off to the next tick: the poll is a system call, and a `High`
    /// task woken from outside would wait behind it. Put off once only, so
    /// a stream of urgent work cannot starve IO and timers.
    pub(super) fn next_tick(&mut self, urgent: impl FnOnce() -> bool) -> bool {
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

    /// Every task the core holds, for shutdown: its LIFO slot, rings and
    /// overflow. (The deadline heaps are in the worker's `Remote`.)
    pub(crate) fn take_all(&mut self) -> Vec<Task> {
        self.lifo_level = None;
        let mut tasks: Vec<Task> = self.lifo.take().into_iter().collect();
        for ring in &mut self.rings {
            tasks.extend(std::iter::from_fn(|| ring.pop()));
        }
        tasks.extend(self.overflow.take_all());
        self.deadline_levels = Levels::EMPTY;
        tasks
    }

    pub(super) fn next_random(&mut self) -> u32 {
        // xorshift32
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng = x;
        x
    }

    /// Appends `task` to its level. Returns `true` if it went into the
    /// stealable ring (rather than the overflow or a deadline heap).
    ///
    /// Inline, and only the common case (no deadline, an empty overflow, a
    /// ring with room): on the path of every local wake (`enqueue`), where
    /// a call would add a frame that saves and restores registers. The
    /// rest is [`push_back_uncommon`](Self::push_back_uncommon).
    #[inline(always)]
    pub(super) fn push_back(&mut self, task: Task, remote: &Remote) -> bool {
        let level = task.metadata().priority();
        self.push_back_at(task, level, remote)
    }

    /// [`push_back`](Self::push_back) of a task whose priority the caller
    /// read already: `level` is `task.metadata().priority()`.
    #[inline(always)]
    pub(super) fn push_back_at(&mut self, task: Task, level: Priority, remote: &Remote) -> bool {
        debug_assert_eq!(level, task.metadata().priority());
        self.queued.insert(level);
        if task.metadata().has_deadline() || self.overflow.len(level) != 0 {
            return self.push_back_uncommon(task, level, remote);
        }
        match self.rings[level.index()].push_back(task) {
            Ok(()) => true,
            Err(task) => {
                self.overflow.push_back(level, task);
                false
            }
        }
    }

    /// [`push_back`](Self::push_back) of a task with a deadline, or behind
    /// a non-empty overflow (`level` is already in `queued`).
    #[inline(never)]
    fn push_back_uncommon(&mut self, task: Task, level: Priority, remote: &Remote) -> bool {
        if task.metadata().has_deadline() {
            let due = deadline::shared_of(&task)
                .deadlines
                .deadline(task.metadata());
            if let Some(due) = due {
                self.deadline_seq += 1;
                let private = &remote.metrics.private;
                (remote.deadline_heaps).push(level, task, due, self.deadline_seq, private);
                self.deadline_levels.insert(level);
                return false;
            }
        }
        if self.overflow.len(level) == 0 {
            match self.rings[level.index()].push_back(task) {
                Ok(()) => return true,
                Err(task) => self.overflow.push_back(level, task),
            }
        } else {
            self.overflow.push_back(level, task);
        }
        false
    }

    /// Steals about half of a sibling's `level` ring into this worker's,
    /// returning one of the stolen tasks to run. The rest went into this
    /// worker's ring, so `level` is in `queued`.
    pub(super) fn steal_half(&mut self, ring: &Steal<Task>, level: Priority) -> Option<Task> {
        let task = ring.steal_into(&mut self.rings[level.index()])?;
        self.queued.insert(level);
        Some(task)
    }

    /// Moves every task pushed to `from` (this worker, or a sibling) from
    /// other threads to the back of its level here (`me` is this worker's
    /// `Remote`). Returns `true` if any went into a stealable ring.
    pub(super) fn take_incoming(&mut self, from: &Remote, me: &Remote) -> bool {
        let mut to_ring = false;
        for task in from.take_incoming() {
            to_ring |= self.push_back(task, me);
        }
        to_ring
    }

    /// `true` if a stealable ring of this worker holds a task.
    pub(super) fn has_stealable(&self) -> bool {
        self.rings.iter().any(|ring| !ring.is_empty())
    }

    /// The next task by the priority rule (see `pick`).
    ///
    /// Inline: called at every tick, where a call would add a frame that
    /// saves and restores registers.
    #[inline]
    pub(super) fn pick(&mut self, remote: &Remote) -> Option<Task> {
        loop {
            if let Some(task) = self.pick_once(remote) {
                return Some(task);
            }
            if self.queued.is_empty() && self.lifo_level.is_none() {
                return None;
            }
        }
    }

    /// One try of `pick`: `None` if nothing is ready, or if what it chose
    /// turned out gone (its level is then removed from `queued`, or
    /// `lifo_level` cleared). Within a level, the LIFO slot goes first,
    /// then the ring and overflow in FIFO order. Before all of these, the
    /// level's deadline tasks, earliest deadline first (see `deadline`).
    ///
    /// Inline into `pick` (hence into the worker's tick), with the
    /// deadline heap's pop out of line: a call here would add a frame that
    /// saves and restores registers at every tick.
    #[inline(always)]
    fn pick_once(&mut self, remote: &Remote) -> Option<Task> {
        let level = self.picker.pick(self.queued.with(self.lifo_level))?;
        if self.deadline_levels.contains(level) {
            if let Some(task) = self.pop_deadline(level, remote) {
                return Some(task);
            }
            // The watchdog took them: the level's other queues are next.
        }
        if self.lifo_level == Some(level) {
            self.lifo_level = None;
            self.lifo_streak = self.lifo_streak.saturating_add(1);
            // `None` if a sibling rescued it.
            return self.lifo.take();
        }
        self.lifo_streak = 0;
        let task = self.pop_level(level);
        if task.is_none() {
            // Thieves took the rest.
            self.queued.remove(level);
        }
        task
    }

    /// The task with the earliest deadline of `level`, a level this worker
    /// queued deadline tasks at; `None` if the watchdog took them all. A
    /// level whose heap is left empty leaves `deadline_levels`.
    #[inline(never)]
    fn pop_deadline(&mut self, level: Priority, remote: &Remote) -> Option<Task> {
        let (task, more) = remote.deadline_heaps.pop(level, &remote.metrics.private);
        if !more {
            self.deadline_levels.remove(level);
        }
        task
    }

    /// Pops the front of `level`: from the ring, else from the overflow
    /// (which then refills the ring). Inline as `pick_once`, with the
    /// overflow's refill out of line.
    #[inline(always)]
    fn pop_level(&mut self, level: Priority) -> Option<Task> {
        if let Some(task) = self.rings[level.index()].pop() {
            return Some(task);
        }
        if self.overflow.len(level) == 0 {
            return None;
        }
        self.take_overflow(level)
    }

    #[inline(never)]
    fn take_overflow(&mut self, level: Priority) -> Option<Task> {
        self.overflow.refill(level, &mut self.rings[level.index()])
    }

    /// `true` if any task waits for this worker: in its LIFO slot, rings,
    /// overflow, urgent slot or inbox.
    pub(super) fn has_local_work(&self, remote: &Remote) -> bool {
        remote.lifo.is_occupied()
            || !self.overflow.is_empty()
            || !self.deadline_levels.is_empty()
            || self.has_stealable()
            || remote.has_incoming()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::queue::{lifo_slot, ring};

    fn core() -> Core {
        Core::new(
            0,
            std::array::from_fn(|_| ring().0),
            lifo_slot().0,
            Arc::default(),
        )
    }

    fn driver_ticks(core: &mut Core, ticks: u32, urgent: impl Fn(u32) -> bool) -> Vec<u32> {
        (1..=ticks)
            .filter(|&t| core.next_tick(|| urgent(t)))
            .collect()
    }

    #[test]
    fn the_driver_is_polled_every_driver_interval_ticks() {
        let polls = driver_ticks(&mut core(), 3 * DRIVER_INTERVAL, |_| false);
        assert_eq!(polls, [1, 2, 3].map(|k| k * DRIVER_INTERVAL));
    }

    #[test]
    fn urgent_work_puts_the_driver_poll_off_by_one_tick() {
        let polls = driver_ticks(&mut core(), 2 * DRIVER_INTERVAL + 1, |t| {
            t == DRIVER_INTERVAL
        });
        assert_eq!(polls, [DRIVER_INTERVAL + 1, 2 * DRIVER_INTERVAL + 1]);
    }

    #[test]
    fn urgent_work_on_every_tick_does_not_starve_the_driver() {
        let polls = driver_ticks(&mut core(), 4 * DRIVER_INTERVAL, |_| true);
        assert_eq!(polls.len(), 3, "polls at {polls:?}");
        assert!(
            polls.windows(2).all(|w| w[1] - w[0] <= DRIVER_INTERVAL + 1),
            "polls at {polls:?}"
        );
    }
}

//! A worker out of work: it searches (steals), busy-waits, then parks; and
//! the runtime-wide state that says which workers search and which sleep.
//!
//! ```text
//! idle():  enter_idle (running = IDLE)
//!          busy-wait up to IDLE_SPIN, watching the inbox (WFE on AArch64),
//!            unless this worker will block in the driver
//!          announce the park (sleeping += 1, Parker::prepare), look once
//!            more for work, then wait (in the driver, or on the parker)
//!          leave_idle (running = BETWEEN_POLLS, fence): drain next
//! ```
//!
//! Two counters, after tokio's `idle` state:
//! * `searching`: workers out of local work, looking to steal. At most about
//!   half the workers search at once; the rest go straight to sleep, so a
//!   burst of idleness does not turn into every worker hammering every queue.
//! * `sleeping`: workers that announced they park.
//!
//! When a worker pushes stealable work and nobody is searching but someone
//! sleeps, it wakes one sleeper, which starts out searching (the waker
//! counts it in `searching` first, so a burst of spawns wakes one worker,
//! not all of them).
//!
//! And one flag per worker, [`BusyWait`]: set while the worker busy-waits
//! before parking. A worker that queues a task only it can run soon (its
//! LIFO slot, or the only task in its ring) skips the wake-up when a sibling
//! busy-waits, since that sibling takes the task if this worker's poll runs
//! long. That skip is safe only with the handshake below.
//!
//! # The busy-wait handshake
//!
//! ```text
//!   queueing worker                      busy-waiting sibling
//!   publish the task (slot, ring)        BusyWait::end: flag = false
//!   fence(SeqCst)                        fence(SeqCst) (Parker::prepare)
//!   if no flag is set: wake a sibling    look at the siblings' LIFO slots
//!                                        and rings; watch what it finds
//! ```
//!
//! The fences are ordered one way or the other: either the sibling's look
//! comes after the publish (it sees the task and parks for no longer than a
//! busy wait, then rescues it), or the queueing worker's load comes after
//! `end` (it sees no flag and wakes someone). Without the queueing side's
//! fence, its load of the flag may be served before its store of the task
//! is visible (store buffering), and both sides miss each other: the task
//! then waits behind a poll that may block its thread for good.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::time::{Duration, Instant};

use super::WorkerContext;
use crate::arch;
use crate::loom::{AtomicBool, AtomicUsize, CachePadded};
use crate::metrics;

/// Before parking, an idle worker busy-waits for new work for about this
/// long (BEAM's scheduler busy wait): work arriving in a burst (a thread
/// spawning many tasks, a stream of wake-ups) then finds the worker awake
/// instead of paying a futex wake-up per lull.
const IDLE_SPIN: Duration = Duration::from_micros(25);
/// The busy wait watches the inbox in waits of this many rounds (see
/// `arch::wait_until_nonnull`). Where the wait sleeps
/// (`arch::wait_sleeps_in_wfe`: AArch64 with the kernel's timer event
/// stream), a round is one `wfe` on the armed exclusive monitor, which ends
/// when the inbox's line is written, on an interrupt, or at the next tick of
/// the event stream: at most one event-stream period, about 100 µs on
/// Linux (10 kHz), so one wait lasts at most about 100 µs. Elsewhere a
/// round is an acquire load and a `spin_loop` hint.
const IDLE_ROUNDS: u32 = if cfg!(target_arch = "aarch64") { 1 } else { 16 };
/// Between waits, the worker checks shutdown and `block_on`'s future; every
/// this many waits it also looks at its siblings' queues and the clock, and
/// yields its thread, so a busy wait never keeps a runnable thread (the
/// one spawning the work, say) off a core the machine is short of.
const IDLE_WAITS_PER_CHECK: u32 = 8;
/// The same, where the wait sleeps in `wfe`: one wait already lasts up to
/// an event-stream period, longer than [`IDLE_SPIN`], so every wait is
/// followed by the full check. A busy wait then lasts at most [`IDLE_SPIN`]
/// plus one event-stream period (about 125 µs), and a signal that does not
/// write the inbox's line (`block_on`'s wake-up, a sibling's ring, shutdown)
/// is seen at most one period late.
const IDLE_SLEEPING_WAITS_PER_CHECK: u32 = 1;

pub(crate) struct Idle {
    searching: CachePadded<AtomicUsize>,
    sleeping: CachePadded<AtomicUsize>,
    workers: usize,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            searching: CachePadded(AtomicUsize::new(0)),
            sleeping: CachePadded(AtomicUsize::new(0)),
            workers,
        }
    }

    /// Tries to become a searcher; refused when half the workers search.
    pub(crate) fn start_searching(&self) -> bool {
        let searching = self.searching.load(SeqCst);
        if 2 * searching >= self.workers.max(2) {
            return false;
        }
        self.searching.fetch_add(1, SeqCst);
        true
    }

    /// Stops searching. Returns `true` if this was the last searcher.
    pub(crate) fn stop_searching(&self) -> bool {
        self.searching.fetch_sub(1, SeqCst) == 1
    }

    /// Claims the right to wake a sleeper for new stealable work: only when
    /// nobody searches and someone sleeps. The claim counts the future
    /// searcher; [`notify`](Idle::notify) gives it back if nobody could be
    /// woken.
    fn claim_wakeup(&self) -> bool {
        // Orders the caller's publish of work (a plain Release store into a
        // ring) before these loads; pairs with the fence in
        // `Parker::prepare`. See `scheduler::park`.
        crate::loom::fence(SeqCst);
        if self.searching.load(SeqCst) != 0 || self.sleeping.load(SeqCst) == 0 {
            return false;
        }
        self.searching
            .compare_exchange(0, 1, SeqCst, SeqCst)
            .is_ok()
    }

    /// A fence-free look at what [`notify`](Idle::notify) checks: `false`
    /// when nobody sleeps or someone searches, as far as this thread can
    /// tell now. A hint that may miss a sleeper that has just announced
    /// itself, unless the caller issued a `SeqCst` fence after publishing
    /// its work: then a worker that announces its sleep after these loads
    /// looks at the work itself (its announcement is followed by a fence).
    #[inline]
    pub(crate) fn may_want_wakeup(&self) -> bool {
        // Relaxed: without the caller's fence, a stale answer costs a
        // missed or a spurious wake-up of a sibling, so only callers that
        // run the work themselves use it that way (a yield); with it, the
        // fence orders these loads (`Shared::push_remote`).
        self.searching.load(Relaxed) == 0 && self.sleeping.load(Relaxed) != 0
    }

    /// Gives back a claim from [`claim_wakeup`](Idle::claim_wakeup).
    fn unclaim(&self) {
        self.searching.fetch_sub(1, SeqCst);
    }

    /// Wakes one sleeper to look for new stealable work, if nobody searches
    /// and someone sleeps (the caller has just published the work).
    /// `wake_one` tries the parked workers and says if it woke one;
    /// `anyone_parked` says if any worker is parked now.
    ///
    /// # A claim that wakes nobody
    ///
    /// A worker is counted in `sleeping` a little before it parks and a
    /// little after it wakes, so a claim can find nobody to wake. It is
    /// then given back, but while it was held it did two things: it turned
    /// away other notifiers (they see a searcher), and a worker going to
    /// sleep may have skipped its siblings' queues in its last look (it
    /// counts on searchers, see `WorkerContext::idle`). That worker's work
    /// must not be left to nobody:
    ///
    /// ```text
    ///   notifier                             worker going to sleep
    ///   claim: searching 0 -> 1              sleeping += 1
    ///   no worker is parked                  state = PARKED
    ///   unclaim: searching 1 -> 0            fence(SeqCst)
    ///   fence(SeqCst)
    ///   if a worker is parked: try again     if searching == 0: look at
    ///                                          the siblings' queues
    /// ```
    ///
    /// The two fences are ordered one way or the other: either the
    /// notifier's check comes after the worker's `PARKED` store (it sees the
    /// worker parked and tries again), or the worker's look comes after the
    /// unclaim (it sees the claim gone and looks at the queues itself).
    ///
    /// A retry needs a parked worker, which the next claim wakes unless
    /// that worker left `PARKED` meanwhile, on its own (it found work) or
    /// woken by someone else: each retry follows progress elsewhere, and
    /// the loop never spins on a window.
    pub(crate) fn notify(
        &self,
        mut wake_one: impl FnMut() -> bool,
        anyone_parked: impl Fn() -> bool,
    ) {
        while self.claim_wakeup() {
            if wake_one() {
                return;
            }
            self.unclaim();
            // Orders the unclaim before the look at the parkers; pairs with
            // the fence in `Parker::prepare` (see above).
            crate::loom::fence(SeqCst);
            if !anyone_parked() {
                return;
            }
        }
    }

    pub(crate) fn inc_sleeping(&self) {
        self.sleeping.fetch_add(1, SeqCst);
    }

    pub(crate) fn dec_sleeping(&self) {
        self.sleeping.fetch_sub(1, SeqCst);
    }

    /// Workers searching now (a snapshot).
    pub(crate) fn searching(&self) -> usize {
        self.searching.load(SeqCst)
    }
}

/// A worker's "busy-waiting for work" flag. See the module docs for the
/// handshake that lets a queueing sibling rely on it.
pub(crate) struct BusyWait(CachePadded<AtomicBool>);

impl BusyWait {
    pub(crate) fn new() -> BusyWait {
        BusyWait(CachePadded(AtomicBool::new(false)))
    }

    /// The worker starts busy-waiting.
    #[inline]
    pub(crate) fn begin(&self) {
        // Relaxed: being seen late costs a sibling a wake-up it could have
        // skipped; never lost work.
        self.0.store(true, Relaxed);
    }

    /// The worker stops busy-waiting. Before it sleeps, it must issue a
    /// `SeqCst` fence (`Parker::prepare` does) and then look at its
    /// siblings' LIFO slots and rings (the handshake in the module docs).
    #[inline]
    pub(crate) fn end(&self) {
        // Relaxed: ordered before the worker's look by its fence.
        self.0.store(false, Relaxed);
    }

    /// A hint: `true` if the worker busy-waits now, as far as this thread
    /// can tell. For routing work only; to skip a wake-up, use
    /// [`a_sibling_busy_waits`].
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.0.load(Relaxed)
    }
}

/// For a worker that has just published a task: `true` if one of
/// `siblings` busy-waits and so will see the task (the handshake in the
/// module docs). `false` means the caller must wake a sibling itself.
#[inline]
pub(crate) fn a_sibling_busy_waits<'a>(mut siblings: impl Iterator<Item = &'a BusyWait>) -> bool {
    // Orders the caller's publish of the task before the loads of the
    // flags; pairs with the fence after `BusyWait::end`.
    crate::loom::fence(SeqCst);
    siblings.any(|flag| flag.0.load(Relaxed))
}

impl WorkerContext {
    /// Out of work: spin briefly on the inbox, then park until woken.
    /// `woken` reports work that arrived some other way (`block_on`'s
    /// future being woken).
    ///
    /// The clock is read on the way in and on the way out: the busy period
    /// ends where the idle period (the busy wait and the park, counted in
    /// `worker_total_idle_duration`) begins.
    ///
    /// The `on_thread_park` hook runs first, and `on_thread_unpark` last,
    /// each only if set (a branch each otherwise). Both run with no borrow
    /// of the core held and inside the runtime's context, so a hook may
    /// spawn: `wait_for_work` then finds the task in its last look before
    /// sleeping.
    pub(crate) fn idle(&self, woken: &dyn Fn() -> bool) {
        let config = &self.shared.config;
        super::run_hook(&config.on_thread_park, "running an on_thread_park hook");
        let idle_since = Instant::now();
        self.account_busy_until(idle_since);
        let remote = self.remote();
        remote.run.enter_idle();
        self.wait_for_work(woken);
        remote.run.leave_idle();
        let ns = idle_since.elapsed().as_nanos() as u64;
        metrics::add(&remote.metrics.idle_ns, ns);
        super::run_hook(&config.on_thread_unpark, "running an on_thread_unpark hook");
    }

    /// The body of [`idle`](WorkerContext::idle).
    fn wait_for_work(&self, woken: &dyn Fn() -> bool) {
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
        // Blocked in the driver, each such wake-up would cost an eventfd
        // write; busy-waiting, it takes the next task without one. A
        // source or timer added meanwhile waits at most the busy wait,
        // after which the worker blocks in the driver.
        // Only this thread advances its progress, and it polls nothing
        // between this reading and the store below (a busy wait that finds
        // work returns first).
        let progress = remote.progress.get();
        let futile = self.progress_at_park.get() == progress && shared.driver.is_empty();
        let mut driver_lock = if futile {
            None
        } else {
            shared.try_lock_driver()
        };
        if driver_lock.is_none() {
            if self.busy_wait(woken) {
                return;
            }
            driver_lock = shared.try_lock_driver();
        }
        let in_driver = driver_lock.is_some();
        self.progress_at_park.set(progress);
        let mut core = self.core.borrow_mut();

        shared.idle.inc_sleeping();
        let wait = remote.parker.prepare(in_driver);
        // Look once more, after announcing the park (see `scheduler::park`).
        // Siblings' rings matter only if nobody is searching: a searcher
        // would find that work, and does this same check before it parks.
        let work = shared.is_shutdown()
            || woken()
            || core.has_local_work(remote)
            || (shared.idle.searching() == 0 && shared.any_stealable_work());
        // A sibling's LIFO slot holds a task: it may be stuck behind a poll
        // that blocks its thread, and a sibling that queued it while this
        // worker busy-waited woke nobody (the handshake in
        // `scheduler::idle`). So this worker parks for no longer than a
        // busy wait, then rescues the slot of a sibling stuck meanwhile.
        // (The worker in the driver does not busy-wait at all, so this is
        // its only watch.)
        let watch_lifo = !work && self.a_sibling_lifo_is_occupied();
        if watch_lifo {
            self.note_progress(&mut core);
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
        drop(driver_lock);
        core.searching = to_search;
        drop(core);
        self.restart_outside_count();
        // Only after a wait (`watch_lifo` is never set when the look found
        // work): right after the look, every sibling's progress is still
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
        self.note_progress(&mut self.core.borrow_mut());
        let waits_per_check = if arch::wait_sleeps_in_wfe() {
            IDLE_SLEEPING_WAITS_PER_CHECK
        } else {
            IDLE_WAITS_PER_CHECK
        };
        let found = loop {
            let pushed = (0..waits_per_check).any(|_| {
                remote.inbox.wait_for_push(IDLE_ROUNDS)
                    || remote.run.urgent_task.is_occupied()
                    || woken()
                    || shared.is_shutdown()
            });
            if pushed || shared.any_stealable_work() {
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

    /// `true` if a sibling's LIFO slot holds a task (a snapshot).
    fn a_sibling_lifo_is_occupied(&self) -> bool {
        let workers = self.shared.workers.iter().enumerate();
        workers
            .filter(|&(i, _)| i != self.index)
            .any(|(_, w)| w.lifo.is_occupied())
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::driver::CountingDriver;
    use crate::queue::lifo_slot;
    use crate::queue::test_node::{TestNode, node};
    use crate::scheduler::park::Parker;
    use loom::sync::Arc;

    /// A worker fills its LIFO slot while its sibling ends a busy wait and
    /// announces its park: either the worker sees no busy-waiting sibling
    /// (and wakes one), or the sibling sees the slot filled (and watches
    /// it). Never neither, which would strand the task behind a poll that
    /// blocks its thread.
    #[test]
    fn a_task_queued_as_a_busy_wait_ends_is_seen_by_one_side() {
        loom::model(|| {
            let (mut slot, sibling_end) = lifo_slot::<Box<TestNode>>();
            let flag = Arc::new(BusyWait::new());
            flag.begin();
            let sibling = {
                let (slot, flag) = (sibling_end, flag.clone());
                loom::thread::spawn(move || {
                    flag.end();
                    let parker = Parker::new();
                    let _wait = parker.prepare(true);
                    let saw_task = slot.is_occupied();
                    parker.cancel();
                    saw_task
                })
            };
            assert!(slot.put(node(1)).is_none());
            let will_wake = !a_sibling_busy_waits(std::iter::once(&*flag));
            let saw_task = sibling.join().unwrap();
            assert!(will_wake || saw_task, "neither side saw the other");
        });
    }

    /// A worker goes to sleep (in the driver) while two notifiers try to
    /// wake a sleeper: one whose claim may find the worker counted in
    /// `sleeping` but not yet parked, and one that published work. The
    /// second may be turned away by the first's claim, and the worker's
    /// look skips its siblings' queues while that claim is held: a claim
    /// that woke nobody must be tried again once the worker is parked, or
    /// the worker sleeps beside the work (`Idle::notify`).
    #[test]
    fn a_claim_that_wakes_nobody_leaves_no_sleeper_beside_work() {
        let mut model = loom::model::Builder::new();
        // Three threads: bounded preemptions keep the model to seconds; the
        // lost wake-up it guards against needs two.
        model.preemption_bound = Some(3);
        model.check(|| {
            let idle = Arc::new(Idle::new(2));
            let parker = Arc::new(Parker::new());
            let driver = Arc::new(CountingDriver::new());
            let work = Arc::new(AtomicBool::new(false));
            let notifier = |publish: bool| {
                let (idle, parker, driver) = (idle.clone(), parker.clone(), driver.clone());
                let work = work.clone();
                loom::thread::spawn(move || {
                    if publish {
                        work.store(true, SeqCst);
                    }
                    idle.notify(|| parker.unpark(&*driver, true), || parker.is_parked());
                })
            };
            let (stale, publisher) = (notifier(false), notifier(true));
            // The worker, as `WorkerContext::idle` goes to sleep.
            idle.inc_sleeping();
            let _wait = parker.prepare(true);
            let sees_work = idle.searching() == 0 && work.load(SeqCst);
            if sees_work {
                if parker.cancel() {
                    idle.stop_searching();
                }
                idle.dec_sleeping();
            }
            stale.join().unwrap();
            publisher.join().unwrap();
            if !sees_work {
                // Asleep in the driver now: only an unpark ends that.
                assert_eq!(driver.unparks(), 1, "a sleeper beside work");
            }
        });
    }
}

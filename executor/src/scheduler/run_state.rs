//! What a worker runs, and the requests to cut that short: the urgent
//! protocol between a thread that queues `Max` or `High` work and the
//! worker whose running slice that work outranks.
//!
//! ```text
//!   pusher                                worker
//!   queue the task (urgent slot, inbox)   at every charge: a request that
//!   request(bit)        (SeqCst RMW)        outranks the slice ends it
//!                                         tick: take_requests (SeqCst swap,
//!                                           fence), then drain
//! ```
//!
//! Either the drain sees the task, or the bit stays set and ends the next
//! slice, whose tick drains again: urgent work never waits behind a
//! lower-priority slice.

use std::sync::atomic::Ordering::{Relaxed, SeqCst};

use crate::loom::AtomicU8;
use crate::queue::{Node, UrgentSlot};
use crate::task::Priority;
use crate::task::header::Task;

/// A worker's running priority and its urgent requests, on one cache line:
/// a push of `Max` or `High` work sets a request and then reads `running`,
/// and the worker reads the requests at every charge and writes `running`
/// at every poll, so one line carries the whole exchange.
pub(crate) struct RunState<N: Node = Task> {
    /// Priority index of the task being polled; [`BETWEEN_POLLS`] while
    /// the worker looks for its next task; [`IDLE_PRIORITY`] while it is
    /// idle (busy-waiting or parking). See `Shared::push_remote` for the
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
    pub(crate) urgent_task: UrgentSlot<N>,
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
pub(super) fn urgent_bit(priority: Priority, at_sibling: bool) -> u8 {
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
    pub(super) fn request(&self, bit: u8) {
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
    /// the awake-worker handshake (see `Shared::push_remote`).
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

impl RunState {
    /// A worker's state before its thread's first look: not idle until the
    /// thread says so, so a push before then may wake a sibling.
    pub(crate) fn new() -> RunState {
        RunState {
            running: AtomicU8::new(BETWEEN_POLLS),
            urgent: AtomicU8::new(0),
            urgent_task: UrgentSlot::new(),
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::loom::AtomicU8;
    use crate::queue::Inbox;
    use crate::queue::test_node::{TestNode, node};
    use loom::sync::Arc;

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
                urgent_task: UrgentSlot::new(),
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

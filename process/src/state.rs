//! The state every process shares with its pids: the message queue, the
//! counters, and (behind a mutex) links, monitors, trap flag and exit
//! reason. Also the exit path: what happens when a process ends.
//!
//! # Invariants
//!
//! * `pushed` counts the messages ever accepted, times two; bit 0 is the
//!   `CLOSED` flag. A send adds 2 *before* it pushes, and fails if the flag
//!   was set (taking its 2 back); the flag is set once, when the process is
//!   killed or ends, and never cleared. So every accepted message was
//!   counted before its push, and no message is accepted after the process
//!   is gone.
//! * `delivered` counts the messages that left the mailbox (received or
//!   flushed); only the mailbox writes it, and it never passes `pushed`.
//!   In a bounded mailbox a send adds its 2 with a compare-and-swap that
//!   checks `pushed - delivered < capacity` on the value it replaces; since
//!   `delivered` only grows, a stale read of it can only refuse a send that
//!   would have fit, never admit one that does not: the number of messages
//!   queued (received-from-the-shared-queue-but-set-aside ones included)
//!   never exceeds the capacity.
//! * A bounded mailbox's senders waiting for room sleep on `Bounded::room`.
//!   Every message leaving the mailbox is followed by a `notify_one` (a
//!   receive) or a `notify_waiters` (a flush, the exit path), made after
//!   `delivered` (or `CLOSED`) was updated. A waiting send creates its
//!   `Notified` and then tries once more before it sleeps, so room made
//!   before the `Notified` existed is seen by that try, and room made after
//!   wakes it (a `notify_one` finding no waiter stores a permit).
//! * `State::exit` is `Some` once the exit path ran; after that, the link
//!   and monitor sets are empty and stay empty: linking or monitoring a dead
//!   process is answered at once from `exit`.
//! * Links are symmetric: `a` is in `b.links` exactly when `b` is in
//!   `a.links`, except while one of them runs its exit path, which removes
//!   itself from the other side before it signals it.
//! * No lock is held while a task is woken or aborted, or while a message or
//!   a user future is dropped: those can run arbitrary code.

use std::any::Any;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU64;
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, MutexGuard};

use crossbeam_queue::SegQueue;
use futures::task::AtomicWaker;
use smp_rt_executor::task::{AbortHandle, Id, Priority, TaskStats};
use smp_rt_sync::{Notify, oneshot};

use crate::exit::{Down, Exit, ExitReason};
use crate::pid::{ProcessId, TrySendError};
use crate::registry;

/// Set in `Core::pushed` once the process accepts no more messages.
pub(crate) const CLOSED: u64 = 1;
/// One message in `Core::pushed`.
pub(crate) const ONE: u64 = 2;

/// Keeps a value on its own cache line (128 bytes covers the adjacent-line
/// prefetch of x86-64 and the line size of many AArch64 cores).
#[repr(align(128))]
pub(crate) struct Padded<T>(pub(crate) T);

impl<T> Deref for Padded<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A trapped exit signal waiting in a mailbox.
pub(crate) struct ExitSignal {
    pub(crate) exit: Exit,
    /// Messages counted in the mailbox when the signal was sent: the signal
    /// comes after the first `after` messages in the mailbox's order.
    pub(crate) after: u64,
}

/// Counters copied from the task header at the start of each poll.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) reductions: AtomicU64,
    pub(crate) polls: AtomicU64,
    pub(crate) preemptions: AtomicU64,
    pub(crate) priority: AtomicU8,
}

impl Stats {
    pub(crate) fn store(&self, stats: &TaskStats) {
        self.reductions.store(stats.reductions, Relaxed);
        self.polls.store(stats.polls, Relaxed);
        self.preemptions.store(stats.preemptions, Relaxed);
        self.priority.store(stats.priority as u8, Relaxed);
    }

    pub(crate) fn priority(&self) -> Priority {
        Priority::from_index(usize::from(self.priority.load(Relaxed)))
    }
}

/// The mutable part of a process.
#[derive(Default)]
pub(crate) struct State {
    /// `Some` once the process has ended (its exit path ran).
    pub(crate) exit: Option<ExitReason>,
    /// The reason recorded by `kill`, `process::exit` or an exit signal,
    /// before the task's future is dropped. Takes precedence over what the
    /// future itself did (the first reason wins, as on BEAM).
    pub(crate) pending: Option<ExitReason>,
    /// Exit signals become `Exit` entries instead of killing the process.
    pub(crate) trap_exit: bool,
    pub(crate) links: HashMap<ProcessId, Arc<dyn AnyProcess>>,
    pub(crate) monitors: HashMap<u64, oneshot::Sender<Down>>,
    pub(crate) next_monitor: u64,
    /// Trapped exit signals, oldest first.
    pub(crate) exits: VecDeque<ExitSignal>,
    pub(crate) registered: Option<Box<str>>,
    /// Aborts the task; `None` before the task is spawned and after it is
    /// killed or ends.
    pub(crate) abort: Option<AbortHandle>,
    pub(crate) task_id: Option<Id>,
}

/// The limit of a bounded mailbox and the senders waiting under it.
pub(crate) struct Bounded {
    /// Messages the mailbox holds at most (at least 1).
    pub(crate) capacity: u64,
    /// Senders waiting for room (see the module's invariants).
    pub(crate) room: Notify,
}

/// The part of a process that does not depend on its message type.
pub(crate) struct Core {
    pub(crate) id: ProcessId,
    pub(crate) name: Option<Box<str>>,
    /// Messages accepted, times [`ONE`], plus the [`CLOSED`] flag.
    pub(crate) pushed: Padded<AtomicU64>,
    /// Messages that left the mailbox, received or flushed; written by
    /// its mailbox only.
    pub(crate) delivered: Padded<AtomicU64>,
    /// Of `delivered`, the messages dropped by `Mailbox::flush`; written by
    /// its mailbox only.
    pub(crate) flushed: AtomicU64,
    /// `Some` for a mailbox with a capacity.
    pub(crate) bounded: Option<Box<Bounded>>,
    /// Number of entries in `State::exits`, so that receiving need not lock
    /// when there are none.
    pub(crate) exits_len: AtomicUsize,
    /// The task waiting in its mailbox.
    pub(crate) waker: AtomicWaker,
    pub(crate) stats: Stats,
    pub(crate) state: Mutex<State>,
}

impl Core {
    fn new(name: Option<Box<str>>, priority: Priority, capacity: Option<usize>) -> Core {
        let stats = Stats::default();
        stats.priority.store(priority as u8, Relaxed);
        let bounded = capacity.map(|capacity| {
            Box::new(Bounded {
                capacity: u64::try_from(capacity).unwrap_or(u64::MAX),
                room: Notify::new(),
            })
        });
        Core {
            id: ProcessId::next(),
            name,
            pushed: Padded(AtomicU64::new(0)),
            delivered: Padded(AtomicU64::new(0)),
            flushed: AtomicU64::new(0),
            bounded,
            exits_len: AtomicUsize::new(0),
            waker: AtomicWaker::new(),
            stats,
            state: Mutex::new(State::default()),
        }
    }

    /// Locks the state. No user code runs under this lock, so a poisoned
    /// lock still holds consistent state.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops accepting messages. Returns `true` if this call closed it.
    pub(crate) fn close(&self) -> bool {
        self.pushed.fetch_or(CLOSED, AcqRel) & CLOSED == 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.pushed.load(Acquire) & CLOSED != 0
    }

    /// Messages accepted so far.
    pub(crate) fn pushed_count(&self) -> u64 {
        self.pushed.load(Acquire) / ONE
    }

    /// Messages accepted and not yet received (or flushed).
    pub(crate) fn queued(&self) -> u64 {
        self.pushed_count()
            .saturating_sub(self.delivered.load(Relaxed))
    }

    /// Messages received by the process (not counting flushed ones).
    pub(crate) fn received(&self) -> u64 {
        self.delivered
            .load(Relaxed)
            .saturating_sub(self.flushed.load(Relaxed))
    }

    /// Counts one more message accepted, unless the process is gone or its
    /// bounded mailbox is full. `Err(true)`: full; `Err(false)`: closed.
    #[inline]
    fn admit(&self) -> Result<(), bool> {
        let Some(bounded) = self.bounded.as_deref() else {
            if self.pushed.fetch_add(ONE, AcqRel) & CLOSED != 0 {
                // Not counted after all (this thread's own increment).
                self.pushed.fetch_sub(ONE, Relaxed);
                return Err(false);
            }
            return Ok(());
        };
        // Acquire pairs with the `AcqRel` of `close`: a send that sees the
        // flag fails.
        let mut cur = self.pushed.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(false);
            }
            // Relaxed: `delivered` only grows, so an old value can only
            // make the mailbox look fuller than it is (see the module's
            // invariants); a waiting sender is ordered after the receive
            // that made room by `Bounded::room`'s SeqCst state.
            let left = self.delivered.load(Relaxed);
            if (cur / ONE).saturating_sub(left) >= bounded.capacity {
                return Err(true);
            }
            match self
                .pushed
                .compare_exchange_weak(cur, cur + ONE, AcqRel, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }
}

/// A process seen without its message type: what links, monitors and the
/// registry hold.
pub(crate) trait AnyProcess: Send + Sync + 'static {
    fn core(&self) -> &Core;
    /// Drops the queued messages.
    fn drain(&self);
    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
}

/// A process with message type `M`.
pub(crate) struct Inner<M> {
    pub(crate) core: Core,
    pub(crate) queue: SegQueue<M>,
}

impl<M: Send + 'static> Inner<M> {
    pub(crate) fn new(
        name: Option<Box<str>>,
        priority: Priority,
        capacity: Option<usize>,
    ) -> Inner<M> {
        Inner {
            core: Core::new(name, priority, capacity),
            queue: SegQueue::new(),
        }
    }

    /// Sends `msg`: an O(1) lock-free push, then a wakeup. Fails, handing
    /// `msg` back, when the process is gone or its bounded mailbox is full.
    #[inline]
    pub(crate) fn try_send(&self, msg: M) -> Result<(), TrySendError<M>> {
        match self.core.admit() {
            Ok(()) => {}
            Err(true) => return Err(TrySendError::Full(msg)),
            Err(false) => return Err(TrySendError::Closed(msg)),
        }
        self.queue.push(msg);
        self.core.waker.wake();
        Ok(())
    }
}

impl<M: Send + 'static> AnyProcess for Inner<M> {
    fn core(&self) -> &Core {
        &self.core
    }

    fn drain(&self) {
        while let Some(msg) = self.queue.pop() {
            // A message's destructor may panic; the others are still dropped.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(msg)));
        }
    }

    fn into_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
}

/// Records `reason` as the way `process` ends, stops its mailbox and
/// aborts its task. Does nothing if the process is already ending. The
/// exit path runs when the task drops the future.
pub(crate) fn kill(process: &dyn AnyProcess, reason: ExitReason) {
    let abort = {
        let mut st = process.core().lock();
        if st.exit.is_some() || st.pending.is_some() {
            return;
        }
        st.pending = Some(reason);
        process.core().close();
        st.abort.take()
    };
    if let Some(abort) = abort {
        abort.abort();
    }
}

/// Links two processes both ways. If either has already ended, the other
/// gets its exit signal, as if the link had existed when it ended.
pub(crate) fn link(a: &Arc<dyn AnyProcess>, b: &Arc<dyn AnyProcess>) {
    let (ca, cb) = (a.core(), b.core());
    if ca.id == cb.id {
        return;
    }
    let dead = {
        // Locks are taken in id order, so two concurrent links cannot
        // deadlock.
        let (mut sa, mut sb);
        if ca.id < cb.id {
            sa = ca.lock();
            sb = cb.lock();
        } else {
            sb = cb.lock();
            sa = ca.lock();
        }
        match (&sa.exit, &sb.exit) {
            (None, None) => {
                sa.links.insert(cb.id, b.clone());
                sb.links.insert(ca.id, a.clone());
                None
            }
            (Some(reason), None) => Some((b, ca.id, reason.clone())),
            (None, Some(reason)) => Some((a, cb.id, reason.clone())),
            (Some(_), Some(_)) => None,
        }
    };
    if let Some((target, from, reason)) = dead {
        signal(&**target, from, reason, false);
    }
}

/// Removes the link between `a` and `b`, if any.
pub(crate) fn unlink(a: &dyn AnyProcess, b: &dyn AnyProcess) {
    let (ca, cb) = (a.core(), b.core());
    if ca.id == cb.id {
        return;
    }
    let removed = {
        let (mut sa, mut sb);
        if ca.id < cb.id {
            sa = ca.lock();
            sb = cb.lock();
        } else {
            sb = cb.lock();
            sa = ca.lock();
        }
        (sa.links.remove(&cb.id), sb.links.remove(&ca.id))
    };
    // The `Arc`s are dropped here, after both locks are released.
    drop(removed);
}

/// Delivers the exit signal of process `from` (ended with `reason`) to
/// `target`. With `linked`, only if the link is still there (it is then
/// removed): an unlinked process gets no signal.
pub(crate) fn signal(target: &dyn AnyProcess, from: ProcessId, reason: ExitReason, linked: bool) {
    let core = target.core();
    let (link, then) = {
        let mut st = core.lock();
        if st.exit.is_some() {
            return;
        }
        let link = st.links.remove(&from);
        if linked && link.is_none() {
            return;
        }
        let then = if st.trap_exit {
            let after = core.pushed_count();
            st.exits.push_back(ExitSignal {
                exit: Exit {
                    pid_id: from,
                    reason,
                },
                after,
            });
            core.exits_len.fetch_add(1, Release);
            Then::Wake
        } else if reason.is_normal() || st.pending.is_some() {
            Then::Nothing
        } else {
            st.pending = Some(reason);
            core.close();
            Then::Abort(st.abort.take())
        };
        (link, then)
    };
    match then {
        Then::Nothing => {}
        Then::Wake => core.waker.wake(),
        Then::Abort(abort) => {
            if let Some(abort) = abort {
                abort.abort();
            }
        }
    }
    // The removed link is dropped unlocked.
    drop(link);
}

/// What `signal` does once the lock is released.
enum Then {
    Nothing,
    Wake,
    Abort(Option<AbortHandle>),
}

/// What a process leaves behind when it ends.
type Finishing = VecDeque<(Arc<dyn AnyProcess>, ExitReason)>;

thread_local! {
    /// Exit paths waiting to run on this thread while another one runs.
    static FINISHING: RefCell<Option<Finishing>> = const { RefCell::new(None) };
}

/// Runs the exit path of `process`, which ended with `observed` (unless a
/// reason was recorded before).
///
/// An exit path can cause another process to end on the same thread (a
/// runtime shutting down drops the future of a task it is asked to wake), so
/// exit paths started while one runs are queued and run after it, in a
/// loop: link chains of any length do not deepen the stack.
pub(crate) fn finish(process: Arc<dyn AnyProcess>, observed: ExitReason) {
    let mut job = Some((process, observed));
    let outermost = FINISHING.try_with(|q| {
        let mut q = q.borrow_mut();
        match q.as_mut() {
            Some(queue) => {
                queue.extend(job.take());
                false
            }
            None => {
                *q = Some(VecDeque::new());
                true
            }
        }
    });
    let Some((process, observed)) = job else {
        return;
    };
    if outermost.is_err() {
        // The thread is being torn down: no queue, run it here.
        finish_now(&process, observed);
        return;
    }

    /// Clears the queue even if an exit path unwinds.
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            let rest = FINISHING.with(|q| q.borrow_mut().take());
            if let Some(rest) = rest {
                for (process, reason) in rest {
                    let _ = catch_unwind(AssertUnwindSafe(|| finish_now(&process, reason)));
                }
            }
        }
    }
    let _reset = Reset;

    finish_now(&process, observed);
    loop {
        let next = FINISHING.with(|q| q.borrow_mut().as_mut().and_then(VecDeque::pop_front));
        match next {
            Some((process, reason)) => finish_now(&process, reason),
            None => break,
        }
    }
}

fn finish_now(process: &Arc<dyn AnyProcess>, observed: ExitReason) {
    let core = process.core();
    let (reason, links, monitors, exits, name, abort) = {
        let mut st = core.lock();
        if st.exit.is_some() {
            return;
        }
        let reason = st.pending.take().unwrap_or(observed);
        st.exit = Some(reason.clone());
        core.close();
        core.exits_len.store(0, Relaxed);
        (
            reason,
            std::mem::take(&mut st.links),
            std::mem::take(&mut st.monitors),
            std::mem::take(&mut st.exits),
            st.registered.take(),
            st.abort.take(),
        )
    };
    drop((exits, abort));
    if let Some(name) = name {
        registry::release(&name, core.id);
    }
    process.drain();
    // Senders waiting for room find the mailbox closed.
    if let Some(bounded) = core.bounded.as_deref() {
        bounded.room.notify_waiters();
    }
    // Links are signalled before monitors hear of the exit, so whoever sees
    // the `Down` also sees every linked process settled: its link removed,
    // and, for an abnormal exit, its kill recorded.
    for (_, linked) in links {
        signal(&*linked, core.id, reason.clone(), true);
    }
    for (_, monitor) in monitors {
        let _ = monitor.send(Down {
            pid_id: core.id,
            reason: reason.clone(),
        });
    }
}

impl ProcessId {
    /// A fresh id. Ids are handed to each thread in blocks, so spawning on
    /// several workers does not contend on one counter.
    pub(crate) fn next() -> ProcessId {
        use std::cell::Cell;
        use std::sync::atomic::AtomicU64;
        const BLOCK: u64 = 1024;
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            static RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
        }
        let take = |range: &Cell<(u64, u64)>| {
            let (mut next, mut end) = range.get();
            if next == end {
                next = NEXT_BLOCK.fetch_add(BLOCK, Relaxed);
                end = next + BLOCK;
            }
            range.set((next + 1, end));
            next
        };
        let raw = RANGE
            .try_with(take)
            .unwrap_or_else(|_| NEXT_BLOCK.fetch_add(BLOCK, Relaxed));
        ProcessId(NonZeroU64::new(raw).expect("process ids start at 1"))
    }
}

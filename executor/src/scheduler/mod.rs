//! The scheduler: per-core workers, their queues, stealing and parking.
//!
//! A task reaches the scheduler through the task module's seam
//! ([`task::Schedule`](crate::task::Schedule), implemented in `spawn`) and
//! goes through these files in order:
//!
//! | file | holds |
//! |---|---|
//! | `spawn` | a new task's bookkeeping (counts, the registry of waiting tasks, the shutdown check), and the scheduler's side of the seam |
//! | `placement` | where a spawned or woken task goes, and who is woken to steal it (the table) |
//! | `remote` | the part of a worker other threads touch: thieves' ends of its queues, inbox, parker, progress |
//! | `run_state` | what a worker runs, and the urgent requests that end a lower-priority slice |
//! | `core` | a worker's private state: the owner's ends of its queues |
//! | `pick` | the priority rule: which level runs next |
//! | `deadline` | deadlines: the per-level heaps of deadline tasks (earliest first), the table of deadlines, misses |
//! | `worker` | the loop: drain, pick, run one slice, steal |
//! | `rescue` | taking the work of a sibling that makes no progress |
//! | `overflow` | a worker's tasks that did not fit in its rings |
//! | `watchdog` | polls that run past `long_poll_threshold`, and which task each worker polls |
//! | `idle` | out of work: busy-wait, then park; who searches, who sleeps |
//! | `park` | the parker and its handshake with unpark |
//! | `registry` | every task waiting on something, for shutdown and names |
//! | `task_counts` | spawned, alive and cancelled tasks, per worker |
//! | `poll_time` | per-task poll time, when the runtime was built with it |
//! | `admission` | queued tasks against `max_queued_tasks`, and their high-water mark |
//! | `shutdown` | stopping workers and dropping every task |
//! | `block_in_place` | lending a worker to another thread while a task blocks its own |
//!
//! [`Shared`] is what every thread may touch; each worker's private state is
//! its [`Core`], reachable only from the thread running it.

mod admission;
mod block_in_place;
mod core;
mod deadline;
mod idle;
mod overflow;
mod park;
mod pick;
mod placement;
mod poll_time;
mod registry;
mod remote;
mod rescue;
mod run_state;
mod shutdown;
mod spawn;
mod task_counts;
pub(crate) mod watchdog;
mod worker;

use std::ptr;
use std::sync::Mutex;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicUsize};

use crate::blocking::BlockingPool;
use crate::context;
use crate::driver::Driver;
use crate::loom::CachePadded;
use crate::queue::{lifo_slot, ring};
use crate::runtime::ThreadHook;
use crate::task::owner::OwnerHeader;

pub(crate) use self::core::Core;
pub(crate) use admission::Admission;
pub(crate) use block_in_place::block_in_place;
pub(crate) use deadline::{
    DeadlineTable, set_current as set_current_deadline, with_table as with_deadline_table,
};
pub(crate) use idle::Idle;
pub(crate) use poll_time::PollTimes;
pub(crate) use registry::Registry;
pub(crate) use remote::Remote;
pub(crate) use shutdown::drop_entered;
pub(crate) use task_counts::TaskCounts;
pub(crate) use worker::WorkerContext;

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
    /// Names each thread instead of `thread_name` when set.
    pub(crate) thread_name_fn: Option<std::sync::Arc<dyn Fn() -> String + Send + Sync>>,
    pub(crate) thread_stack_size: Option<usize>,
    /// Services attached with `Builder::extension`.
    pub(crate) extensions: crate::runtime::Extensions,
    pub(crate) on_thread_start: Option<ThreadHook>,
    pub(crate) on_thread_stop: Option<ThreadHook>,
    /// Run by a worker on its way into `WorkerContext::idle`.
    pub(crate) on_thread_park: Option<ThreadHook>,
    /// Run by a worker on its way out of `WorkerContext::idle`.
    pub(crate) on_thread_unpark: Option<ThreadHook>,
    /// The CPUs worker threads are pinned to (`runtime::pinning`), or
    /// `None` to leave them unpinned.
    pub(crate) worker_cpus: Option<std::sync::Arc<[usize]>>,
    /// Workers time each poll and add it to the task's entry in
    /// `Shared::poll_times`.
    pub(crate) task_poll_time: bool,
    /// The most tasks `try_spawn` admits at once (see `admission`).
    pub(crate) max_queued_tasks: Option<std::num::NonZeroUsize>,
    /// A poll running longer than this is reported (see `watchdog`); `None`
    /// starts no monitor thread.
    pub(crate) long_poll_threshold: Option<std::time::Duration>,
}

impl Config {
    /// A builder for one of the runtime's threads: named by the name
    /// function if there is one, else `{thread_name}{suffix}`, with the
    /// configured stack size.
    pub(crate) fn thread_builder(&self, suffix: std::fmt::Arguments<'_>) -> std::thread::Builder {
        let name = match &self.thread_name_fn {
            Some(name_fn) => name_fn(),
            None => format!("{}{suffix}", self.thread_name),
        };
        let builder = std::thread::Builder::new().name(name);
        match self.thread_stack_size {
            Some(size) => builder.stack_size(size),
            None => builder,
        }
    }

    /// Runs `body` as the body of one of the runtime's threads, between the
    /// start and stop hooks.
    /// A hook that panics is reported, and the thread goes on: a worker
    /// that died in its start hook would leave its queues to nobody.
    pub(crate) fn run_thread<R>(&self, body: impl FnOnce() -> R) -> R {
        run_hook(&self.on_thread_start, "running an on_thread_start hook");
        let out = body();
        run_hook(&self.on_thread_stop, "running an on_thread_stop hook");
        out
    }
}

/// Runs `hook` if it is set. A hook that panics is reported and the thread
/// goes on: a worker killed by a hook would leave its queues to nobody.
#[inline]
pub(crate) fn run_hook(hook: &Option<ThreadHook>, what: &str) {
    if let Some(hook) = hook {
        run_hook_catching(hook, what);
    }
}

#[cold]
fn run_hook_catching(hook: &ThreadHook, what: &str) {
    if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook())) {
        crate::task::unwind::report(what, payload);
    }
}

/// Everything the threads of one runtime share.
///
/// `repr(C)`: its first field is where a task's owner pointer finds the
/// scheduler's hooks (see `task::owner`).
#[repr(C)]
pub(crate) struct Shared {
    /// The task module's view of this scheduler (its hooks, in `spawn`).
    owner_header: OwnerHeader,
    pub(crate) workers: Box<[Remote]>,
    /// Each worker's private state while no thread runs the worker.
    pub(crate) cores: Box<[Mutex<Option<Box<Core>>>]>,
    /// Threads in a current-thread `block_on` waiting to run its worker
    /// (see `take_core_or_wait`).
    core_waiters: Mutex<Vec<std::thread::Thread>>,
    pub(crate) idle: Idle,
    pub(crate) registry: Registry,
    /// Deadlines of the tasks that have one (see `deadline`).
    pub(crate) deadlines: DeadlineTable,
    pub(crate) task_counts: TaskCounts,
    /// Queued tasks against the limit (padded inside: written on every
    /// spawn and finish).
    pub(crate) admission: Admission,
    /// Long polls and the polls in progress (see `watchdog`).
    pub(crate) watchdog: watchdog::Watchdog,
    pub(crate) blocking: BlockingPool,
    pub(crate) driver: Box<dyn Driver>,
    /// Held by the worker parked in, or polling, the driver. On its own
    /// cache line, as is `next_remote`: both are written often (every
    /// driver poll; every spawn from outside), and the fields around them
    /// (`config`, `shutdown`, `registry`) are read on every poll.
    driver_busy: CachePadded<AtomicBool>,
    pub(crate) config: Config,
    pub(super) shutdown: AtomicBool,
    /// Serialises draining inboxes once their workers stopped.
    pub(super) drain_lock: Mutex<()>,
    /// Round-robin start for work from outside and for wake-ups.
    pub(super) next_remote: CachePadded<AtomicUsize>,
    /// Per-task poll time: `Some` if `config.task_poll_time`.
    pub(crate) poll_times: Option<PollTimes>,
}

impl Shared {
    pub(crate) fn new(
        workers: usize,
        config: Config,
        driver: Box<dyn Driver>,
        blocking: BlockingPool,
    ) -> Shared {
        let (remotes, cores): (Vec<_>, Vec<_>) = (0..workers)
            .map(|index| {
                let (locals, steals): (Vec<_>, Vec<_>) = (0..4).map(|_| ring()).unzip();
                let (lifo, lifo_steal) = lifo_slot();
                let overflow = std::sync::Arc::new(overflow::Overflow::default());
                let core = Core::new(index, array(locals), lifo, overflow.clone());
                (
                    Remote::new(array(steals), lifo_steal, overflow),
                    Mutex::new(Some(Box::new(core))),
                )
            })
            .unzip();
        let poll_times = config.task_poll_time.then(|| PollTimes::new(workers));
        Shared {
            owner_header: OwnerHeader::new::<Shared>(),
            workers: remotes.into_boxed_slice(),
            cores: cores.into_boxed_slice(),
            core_waiters: Mutex::new(Vec::new()),
            idle: Idle::new(workers),
            registry: Registry::new(workers),
            deadlines: DeadlineTable::default(),
            task_counts: TaskCounts::new(workers),
            admission: Admission::new(config.max_queued_tasks),
            watchdog: watchdog::Watchdog::new(workers, config.long_poll_threshold),
            blocking,
            driver,
            driver_busy: CachePadded(AtomicBool::new(false)),
            config,
            shutdown: AtomicBool::new(false),
            drain_lock: Mutex::new(()),
            next_remote: CachePadded(AtomicUsize::new(0)),
            poll_times,
        }
    }

    #[inline]
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Tries to become the one worker that parks in (or polls) the driver,
    /// until the guard drops (also on unwinding: a worker that dies in the
    /// driver must not keep the others out of it).
    pub(crate) fn try_lock_driver(&self) -> Option<DriverLock<'_>> {
        let locked = !self.driver_busy.load(Relaxed) && !self.driver_busy.swap(true, Acquire);
        // `then`, not `then_some`: a guard made and dropped here would unlock
        // the driver for whoever holds it.
        locked.then(|| DriverLock(&self.driver_busy))
    }

    /// `true` if a sibling could take work from some worker without
    /// waiting for it (see [`Remote::has_stealable_work`]).
    pub(crate) fn any_stealable_work(&self) -> bool {
        self.workers.iter().any(Remote::has_stealable_work)
    }
}

/// The right to park in or poll the driver; see [`Shared::try_lock_driver`].
pub(crate) struct DriverLock<'a>(&'a AtomicBool);

impl Drop for DriverLock<'_> {
    fn drop(&mut self) {
        self.0.store(false, Release);
    }
}

/// The four levels' handles, built in `Priority` order.
fn array<T>(v: Vec<T>) -> [T; 4] {
    v.try_into()
        .unwrap_or_else(|_| unreachable!("one handle per priority level"))
}

/// The worker of runtime `shared` running on the calling thread.
///
/// The lifetime is unbounded: callers use the reference only within the
/// call that found it, which the worker's loop (or `block_on`) encloses.
#[inline]
pub(crate) fn current_worker<'w>(shared: &Shared) -> Option<&'w WorkerContext> {
    let worker = context::worker()?;
    // SAFETY: the context points at a `WorkerContext` on this thread's
    // stack for as long as it is installed (see `WorkerContext::install`),
    // or on the stack of a thread that lent it to this one and waits for
    // it back (see `block_in_place`).
    let worker = unsafe { worker.as_ref() };
    ptr::eq(&*worker.shared, shared).then_some(worker)
}

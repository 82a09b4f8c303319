//! `block_in_place`: a task blocks its thread, and its worker goes on
//! elsewhere meanwhile.
//!
//! The worker (its `WorkerContext`: the core, the queues' owner ends) is
//! *lent* to a thread of the blocking pool for the length of the blocking call:
//!
//! ```text
//!   blocking thread                       lent-to thread
//!   in_task = false, end_poll
//!   uninstall the worker
//!   queue the lending job ──────────────► (a blocking-pool thread)
//!                                         install the worker (same context)
//!   f()                                   loop { tick, or idle } until
//!     (wakes and spawns go to the           give_back or shutdown
//!      worker's inbox, as from a
//!      plain thread)
//!   give_back = true; unpark ───────────► the loop ends at its next check
//!   wait for `returned`      ◄─────────── uninstall; returned = true
//!   install the worker again
//!   in_task = true, start_poll
//! ```
//!
//! The context stays on the blocking thread's stack (inside its worker
//! loop's `run_task`), which is why that thread waits for it to come back
//! even when `f` panics. Between the two hand-overs exactly one thread
//! uses the context: the blocking thread only after `returned` (a mutex,
//! so the lent-to thread's writes happen before its reads), the lent-to
//! thread only between its start and `returned`. The blocking thread's own
//! task stays in async-task's running state: a wake meanwhile is recorded
//! by async-task and acted on when its poll ends.
//!
//! A lent-to thread that runs a task which calls `block_in_place` lends the
//! worker on in turn; the first blocking thread then waits until the
//! nested call is over.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr::NonNull;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Condvar, Mutex};

use super::{Flavor, WorkerContext};
use crate::context;
use crate::task::{self, Priority};

/// Runs `f`, letting the current worker's other tasks run on another
/// thread meanwhile; see the module docs and `task::block_in_place`.
#[track_caller]
pub(crate) fn block_in_place<F: FnOnce() -> R, R>(f: F) -> R {
    if task::local_set_entered() {
        // The set's tasks run on this thread only: none could run while it
        // blocks (tokio panics here too, whatever the runtime's flavor).
        panic_current_thread();
    }
    // `f` is not part of the task's slice: budgeted futures it drives (say,
    // with another executor's `block_on`) must not yield for a spent one.
    let _unconstrained = Unconstrained(context::replace_slice(task::Slice::UNLIMITED));
    let Some(worker_ptr) = context::worker() else {
        let current_thread = context::with_handle(|h| h.shared.config.flavor)
            .is_some_and(|flavor| flavor == Flavor::CurrentThread);
        if current_thread && context::in_block_on() {
            panic_current_thread();
        }
        return f();
    };
    // SAFETY: the context points at the worker installed on this thread,
    // alive while it is installed (see `current_worker`).
    let worker = unsafe { worker_ptr.as_ref() };
    if worker.shared.config.flavor == Flavor::CurrentThread {
        panic_current_thread();
    }
    if !worker.in_task.get() {
        // A worker outside a task's poll (a waker run by the driver): there
        // is no task to keep blocked apart from its worker.
        return f();
    }
    let lent = Lent::start(worker_ptr);
    let out = f();
    drop(lent);
    out
}

/// Puts the task's slice back when `f` returned or unwound.
struct Unconstrained(task::Slice);

impl Drop for Unconstrained {
    fn drop(&mut self) {
        context::set_slice(self.0);
    }
}

#[track_caller]
fn panic_current_thread() -> ! {
    panic!(
        "can call blocking only when running on the multi-threaded runtime: block_in_place was \
         called on a current-thread runtime or inside a LocalSet, whose one thread runs all its \
         tasks, so none of them could run while it blocks. Use task::spawn_blocking(f).await \
         instead, or run the caller as a task of a runtime built with \
         Builder::new_multi_thread()."
    )
}

/// The hand-over between the blocking thread and the lent-to thread.
struct Handback {
    /// Set by the blocking thread when `f` returned (or unwound).
    give_back: AtomicBool,
    /// Set by the lent-to thread once it no longer uses the context.
    returned: Mutex<bool>,
    returned_cv: Condvar,
}

/// A worker lent to another thread; dropping it takes the worker back.
struct Lent {
    worker: NonNull<WorkerContext>,
    /// The worker's runtime and index, to unpark it without touching the
    /// context while it is lent.
    shared: Arc<super::Shared>,
    index: usize,
    handback: Arc<Handback>,
    priority: Priority,
}

/// The context's address, sent to the lent-to thread.
struct SendPtr(NonNull<WorkerContext>);

// SAFETY: the context is used by one thread at a time (the module docs):
// the lent-to thread touches it only between its start and `returned`,
// while the blocking thread waits.
unsafe impl Send for SendPtr {}

impl Lent {
    /// Lends the worker at `ptr` (installed on this thread, inside a task's
    /// poll) to a thread of the blocking pool.
    fn start(ptr: NonNull<WorkerContext>) -> Lent {
        // SAFETY: as in `block_in_place`: installed on this thread.
        let worker = unsafe { ptr.as_ref() };
        let shared = worker.shared.clone();
        let priority = task::current_priority();
        let handback = Arc::new(Handback {
            give_back: AtomicBool::new(false),
            returned: Mutex::new(false),
            returned_cv: Condvar::new(),
        });
        worker.in_task.set(false);
        worker.remote().run.end_poll();
        context::replace_worker(None);

        let lent = SendPtr(ptr);
        // Set when the job is over, or when the pool drops it unrun (it is
        // shutting down): either way the context is free again.
        let returned = ReturnOnDrop(handback.clone());
        let runner = shared.clone();
        // The blocking pool reuses its threads, and its shutdown covers
        // this job like any other.
        drop(shared.spawn_blocking(move || {
            let (lent, returned) = (lent, returned);
            run_lent(runner, lent.0, &returned.0);
        }));
        Lent {
            worker: ptr,
            shared,
            index: worker.index,
            handback,
            priority,
        }
    }
}

/// Sets `returned` when dropped: the lent-to side is done with the context.
struct ReturnOnDrop(Arc<Handback>);

impl Drop for ReturnOnDrop {
    fn drop(&mut self) {
        let mut returned = self.0.returned.lock().unwrap_or_else(|p| p.into_inner());
        *returned = true;
        self.0.returned_cv.notify_one();
    }
}

impl Drop for Lent {
    fn drop(&mut self) {
        let handback = &self.handback;
        // SeqCst store, then the parker's SeqCst handshake in `unpark`: the
        // lent-to thread either sees the flag in its idle's look, or is
        // woken.
        handback.give_back.store(true, SeqCst);
        self.shared.workers[self.index]
            .parker
            .unpark(&*self.shared.driver, false);
        let mut returned = handback.returned.lock().unwrap_or_else(|p| p.into_inner());
        while !*returned {
            returned = handback
                .returned_cv
                .wait(returned)
                .unwrap_or_else(|p| p.into_inner());
        }
        drop(returned);
        // SAFETY: the lent-to thread is done with the context (`returned`,
        // read under the mutex it was written under), so this thread is its
        // only user again.
        let worker = unsafe { self.worker.as_ref() };
        context::replace_worker(Some(self.worker));
        worker.in_task.set(true);
        worker.remote().run.start_poll(self.priority);
    }
}

/// The lent-to thread: runs the worker's loop until the worker is asked
/// back or the runtime shuts down. The caller hands the worker back
/// (`ReturnOnDrop`) after this returns.
fn run_lent(shared: Arc<super::Shared>, ptr: NonNull<WorkerContext>, handback: &Handback) {
    // SAFETY: the blocking thread keeps the context alive and leaves it
    // alone until `returned` is set, after this returns (the module docs).
    let worker = unsafe { ptr.as_ref() };
    let prev = context::replace_worker(Some(ptr));
    // SeqCst: the look of the park handshake, which pairs with the store
    // and the unpark in `Lent::drop` (the idle's last look before it sleeps
    // reads this through its `woken`).
    let asked_back = || handback.give_back.load(SeqCst);
    loop {
        let run = catch_unwind(AssertUnwindSafe(|| {
            while !asked_back() && !shared.is_shutdown() {
                if !worker.tick() {
                    worker.idle(&asked_back);
                }
            }
        }));
        match run {
            Ok(()) => break,
            Err(payload) => {
                task::unwind::report("running a lent worker's loop", payload);
                worker.recover();
            }
        }
    }
    context::replace_worker(prev);
}

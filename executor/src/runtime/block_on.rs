//! Blocking a thread on a future.
//!
//! * On a multi-thread runtime the future is polled on the calling thread,
//!   which sleeps between polls; the workers run the tasks.
//! * On a current-thread runtime the calling thread *is* the worker: it
//!   takes the worker's core and alternates between polling the future and
//!   running tasks, parking when there is neither.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::context;
use crate::scheduler::{Core, Shared, WorkerContext};
use crate::task;

/// Tasks run by a current-thread `block_on` between two checks of its future.
const TASKS_PER_CHECK: u32 = 128;

/// Panics with an explanation if the calling thread is a worker.
#[track_caller]
pub(crate) fn assert_not_in_worker(what: &str) {
    if context::worker().is_some() {
        panic!(
            "{what} was called on an smp_rt worker thread (from inside a task or another \
             block_on). Blocking a worker would stall every task queued on it. \
             `.await` the future instead, or spawn it and `.await` its JoinHandle."
        );
    }
}

/// Wakes a thread blocked in `block_on`.
struct ThreadWaker {
    thread: Thread,
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.notified.swap(true, SeqCst) {
            self.thread.unpark();
        }
    }
}

/// Polls `future` with a fresh reduction slice.
fn poll_once<F: Future>(
    future: std::pin::Pin<&mut F>,
    cx: &mut Context<'_>,
    reductions: u32,
) -> Poll<F::Output> {
    task::run_slice(reductions, None, || future.poll(cx)).0
}

/// Polls `future` on the calling thread, sleeping between wake-ups.
pub(crate) fn on_this_thread<F: Future>(shared: &Shared, future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Arc::new(ThreadWaker {
        thread: thread::current(),
        notified: AtomicBool::new(false),
    });
    let as_waker = Waker::from(waker.clone());
    let mut cx = Context::from_waker(&as_waker);
    loop {
        if let Poll::Ready(output) = poll_once(future.as_mut(), &mut cx, shared.config.reductions) {
            return output;
        }
        while !waker.notified.swap(false, SeqCst) {
            thread::park();
        }
    }
}

/// Wakes a current-thread `block_on`: flags the future and unparks worker 0.
struct MainWaker {
    notified: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for MainWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // SeqCst store, then the parker's SeqCst load: the park handshake.
        self.notified.store(true, SeqCst);
        self.shared.workers[0]
            .parker
            .unpark(&*self.shared.driver, false);
    }
}

/// Runs the single worker of a current-thread runtime on this thread
/// until `future` completes.
///
/// Several threads may `block_on` the same current-thread runtime at once:
/// one of them holds the worker and runs the tasks; the others poll their
/// own futures, and the first to see the worker handed back takes it over,
/// so that the tasks and the driver (timers, IO) never stop while a
/// `block_on` waits.
pub(crate) fn as_worker<F: Future>(shared: &Arc<Shared>, future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Arc::new(ThreadWaker {
        thread: thread::current(),
        notified: AtomicBool::new(true),
    });
    let as_waker = Waker::from(waker.clone());
    let mut cx = Context::from_waker(&as_waker);
    loop {
        if let Some(core) = shared.take_core_or_wait(0) {
            return drive(shared, core, future.as_mut());
        }
        // Another thread runs the worker: poll the future here meanwhile.
        if waker.notified.swap(false, SeqCst)
            && let Poll::Ready(output) =
                poll_once(future.as_mut(), &mut cx, shared.config.reductions)
        {
            return output;
        }
        // Woken by the future's waker, or by the worker handed back.
        if !waker.notified.load(SeqCst) && !shared.core_is_free(0) {
            thread::park();
        }
    }
}

/// Runs the worker of `core` on this thread until `future` completes.
fn drive<F: Future>(shared: &Arc<Shared>, core: Box<Core>, mut future: Pin<&mut F>) -> F::Output {
    let worker = WorkerContext::new(shared.clone(), core);
    /// Hands the core back even if the future panics.
    struct ReturnCore<'a> {
        shared: &'a Shared,
        worker: Option<WorkerContext>,
    }
    impl Drop for ReturnCore<'_> {
        fn drop(&mut self) {
            if let Some(worker) = self.worker.take() {
                self.shared.release_core(0, worker.into_core());
            }
        }
    }
    let guard = ReturnCore {
        shared,
        worker: Some(worker),
    };
    let worker = guard.worker.as_ref().expect("set above");
    let _installed = worker.install();

    let main = Arc::new(MainWaker {
        notified: AtomicBool::new(true),
        shared: shared.clone(),
    });
    let waker = Waker::from(main.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        // A future that woke itself while being polled (it yielded) lets
        // the queued tasks run a batch before it is polled again, as a task
        // would go to the back of its queue.
        let mut yielded = false;
        if main.notified.swap(false, SeqCst) {
            if let Poll::Ready(output) =
                poll_once(future.as_mut(), &mut cx, shared.config.reductions)
            {
                return output;
            }
            yielded = main.notified.load(SeqCst);
        }
        if shared.is_shutdown() {
            // The runtime was dropped while this thread ran it: its tasks
            // are gone; only the future is left to finish.
            worker.wait_after_shutdown(&|| main.notified.load(SeqCst));
            continue;
        }
        let mut ran = 0;
        while ran < TASKS_PER_CHECK && (yielded || !main.notified.load(SeqCst)) {
            if !worker.tick() {
                break;
            }
            ran += 1;
        }
        if ran == 0 && !main.notified.load(SeqCst) {
            worker.idle(&|| main.notified.load(SeqCst));
        }
    }
}

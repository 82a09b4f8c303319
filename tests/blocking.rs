//! The blocking pool: values and panics of `spawn_blocking`, its thread limit, idle-thread retirement, and independence from the workers.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use smp_rt::runtime::{Builder, Handle, Runtime};
use smp_rt::task;

/// Generous bound for conditions that should hold almost at once.
const DEADLINE: Duration = Duration::from_secs(30);

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {DEADLINE:?} waiting for {what}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

/// Runs `f` on a helper thread and fails if it does not return within the deadline.
fn returns_within<R: Send + 'static>(what: &str, f: impl FnOnce() -> R + Send + 'static) -> R {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(value) => value,
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("{what} did not return within {DEADLINE:?}"),
        Err(mpsc::RecvTimeoutError::Disconnected) => panic!("{what} panicked"),
    }
}

/// A gate that blocking closures wait at until the test lets them through,
/// one at a time, counting how many wait at once.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    inside: usize,
    max_inside: usize,
    permits: usize,
    done: usize,
    open: bool,
}

impl Gate {
    /// Called by a closure: waits for a permit (or the gate to open).
    fn pass(&self) {
        let mut state = self.state.lock().unwrap();
        state.inside += 1;
        state.max_inside = state.max_inside.max(state.inside);
        self.changed.notify_all();
        let deadline = Instant::now() + DEADLINE;
        while state.permits == 0 && !state.open {
            let now = Instant::now();
            if now >= deadline {
                // Never release by itself: the test has failed, let it see that.
                state.inside -= 1;
                self.changed.notify_all();
                panic!("a blocking closure waited {DEADLINE:?} for a permit");
            }
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
        if !state.open {
            state.permits -= 1;
        }
        state.inside -= 1;
        state.done += 1;
        self.changed.notify_all();
    }

    /// Waits until `condition` holds for the state.
    fn wait_for(&self, what: &str, condition: impl Fn(&GateState) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        let mut state = self.state.lock().unwrap();
        while !condition(&state) {
            let now = Instant::now();
            assert!(
                now < deadline,
                "timed out after {DEADLINE:?} waiting for {what}"
            );
            state = self.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
    }

    fn release_one(&self) {
        self.state.lock().unwrap().permits += 1;
        self.changed.notify_all();
    }

    fn open(&self) {
        self.state.lock().unwrap().open = true;
        self.changed.notify_all();
    }

    fn inside(&self) -> usize {
        self.state.lock().unwrap().inside
    }

    fn max_inside(&self) -> usize {
        self.state.lock().unwrap().max_inside
    }
}

/// Opens the gate when dropped, so no closure is left waiting if the test fails.
struct OpenOnDrop(Arc<Gate>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

fn runtime(workers: usize, max_blocking: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .max_blocking_threads(max_blocking)
        .build()
        .expect("runtime")
}

#[test]
fn spawn_blocking_returns_the_closures_value() {
    let rt = runtime(2, 4);
    let caller = thread::current().id();

    let (value, ran_on) = rt
        .block_on(rt.spawn_blocking(|| (6 * 7, thread::current().id())))
        .expect("Runtime::spawn_blocking");
    assert_eq!(value, 42);
    assert_ne!(ran_on, caller, "the closure ran on the calling thread");

    let from_block_on = rt
        .block_on(async { task::spawn_blocking(|| String::from("from block_on")).await })
        .expect("task::spawn_blocking in block_on");
    assert_eq!(from_block_on, "from block_on");

    let (value, worker, blocking) = rt
        .block_on(rt.spawn(async {
            let worker = thread::current().id();
            let (value, blocking) =
                smp_rt::spawn_blocking(|| (vec![1, 2, 3], thread::current().id()))
                    .await
                    .expect("spawn_blocking in a task");
            (value, worker, blocking)
        }))
        .expect("the task");
    assert_eq!(value, vec![1, 2, 3]);
    assert_ne!(worker, blocking, "the closure ran on the worker thread");

    let handle = rt.handle().clone();
    let from_thread = returns_within("Handle::spawn_blocking on a plain thread", move || {
        let h = handle.spawn_blocking(|| 7u64);
        futures::executor::block_on(h)
    });
    assert_eq!(from_thread.expect("Handle::spawn_blocking"), 7);
}

#[test]
fn a_blocking_closure_can_use_its_runtime() {
    let rt = runtime(1, 2);
    let value = rt
        .block_on(rt.spawn_blocking(|| {
            let handle = Handle::current();
            let task = handle.spawn(async { smp_rt::spawn(async { 20 }).await.unwrap() + 1 });
            handle
                .block_on(task)
                .expect("task spawned from a blocking closure")
                * 2
        }))
        .expect("closure");
    assert_eq!(value, 42);
}

#[test]
fn a_panicking_closure_gives_a_panic_error_and_the_pool_goes_on() {
    let rt = runtime(1, 1);
    let err = rt
        .block_on(rt.spawn_blocking(|| -> u32 { panic!("blocking boom") }))
        .expect_err("a panicking closure has no value");
    assert!(err.is_panic(), "expected a panic error, got {err:?}");
    assert!(!err.is_cancelled());
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"blocking boom"));

    // The single pool thread survived, or was replaced.
    let after = rt.block_on(async { task::spawn_blocking(|| 5).await });
    assert_eq!(after.expect("closure after a panic"), 5);
}

#[test]
fn the_pool_never_runs_more_than_max_blocking_threads_closures_at_once() {
    const LIMIT: usize = 2;
    const CLOSURES: usize = 6;
    let rt = runtime(1, LIMIT);
    let gate = Arc::new(Gate::default());
    let _open_on_exit = OpenOnDrop(gate.clone());
    let handles: Vec<_> = (0..CLOSURES)
        .map(|i| {
            let gate = gate.clone();
            rt.spawn_blocking(move || {
                gate.pass();
                i
            })
        })
        .collect();

    for step in 0..CLOSURES {
        let expected = LIMIT.min(CLOSURES - step);
        gate.wait_for(&format!("{expected} closures inside at step {step}"), |s| {
            s.inside >= expected
        });
        let inside = gate.inside();
        assert!(
            inside <= LIMIT,
            "{inside} closures ran at once with max_blocking_threads({LIMIT})"
        );
        let threads = rt.metrics().num_blocking_threads();
        assert!(
            threads <= LIMIT,
            "{threads} blocking threads with max_blocking_threads({LIMIT})"
        );
        gate.release_one();
        gate.wait_for(&format!("closure {step} to finish"), |s| s.done == step + 1);
    }

    assert_eq!(gate.max_inside(), LIMIT);
    let results: Vec<usize> = rt
        .block_on(futures::future::join_all(handles))
        .into_iter()
        .map(|r| r.expect("closure"))
        .collect();
    assert_eq!(results, (0..CLOSURES).collect::<Vec<_>>());
}

#[test]
fn idle_blocking_threads_retire_after_keep_alive() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(4)
        .thread_keep_alive(Duration::from_millis(50))
        .build()
        .expect("runtime");
    assert_eq!(rt.metrics().num_blocking_threads(), 0);

    let gate = Arc::new(Gate::default());
    let _open_on_exit = OpenOnDrop(gate.clone());
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let gate = gate.clone();
            rt.spawn_blocking(move || gate.pass())
        })
        .collect();
    gate.wait_for("3 closures inside", |s| s.inside == 3);
    assert_eq!(rt.metrics().num_blocking_threads(), 3);
    gate.open();
    for result in rt.block_on(futures::future::join_all(handles)) {
        result.expect("closure");
    }

    let metrics = rt.metrics();
    wait_until("idle blocking threads to retire", || {
        metrics.num_blocking_threads() == 0
    });

    // The pool starts threads again after retiring them all.
    let again = rt.block_on(rt.spawn_blocking(|| "again"));
    assert_eq!(again.expect("closure after retirement"), "again");
    wait_until("the new thread to retire", || {
        metrics.num_blocking_threads() == 0
    });
}

#[test]
fn busy_blocking_threads_do_not_block_the_workers() {
    const LIMIT: usize = 2;
    let rt = runtime(1, LIMIT);
    let gate = Arc::new(Gate::default());
    let _open_on_exit = OpenOnDrop(gate.clone());
    let blocked: Vec<_> = (0..LIMIT + 1)
        .map(|_| {
            let gate = gate.clone();
            rt.spawn_blocking(move || gate.pass())
        })
        .collect();
    gate.wait_for("the blocking threads to be busy", |s| s.inside == LIMIT);

    // Tasks keep running on the worker while every blocking thread is busy
    // and one more closure is queued.
    let progress = Arc::new(AtomicUsize::new(0));
    let handle = rt.handle().clone();
    let progress2 = progress.clone();
    let sum = returns_within("tasks running beside busy blocking threads", move || {
        handle.block_on(async move {
            let mut sum = 0u64;
            for i in 0..1_000u64 {
                sum += smp_rt::spawn(async move { i }).await.expect("task");
                task::yield_now().await;
                progress2.fetch_add(1, SeqCst);
            }
            sum
        })
    });
    assert_eq!(sum, 499_500);
    assert_eq!(progress.load(SeqCst), 1_000);
    assert_eq!(
        gate.inside(),
        LIMIT,
        "the blocking closures were let through"
    );

    gate.open();
    for result in rt.block_on(futures::future::join_all(blocked)) {
        result.expect("closure");
    }
}

#[test]
fn aborting_a_queued_blocking_closure_cancels_it_unrun() {
    let rt = runtime(1, 1);
    let gate = Arc::new(Gate::default());
    let _open_on_exit = OpenOnDrop(gate.clone());
    let first = rt.spawn_blocking({
        let gate = gate.clone();
        move || gate.pass()
    });
    gate.wait_for("the first closure to hold the only thread", |s| {
        s.inside == 1
    });
    let ran = Arc::new(AtomicBool::new(false));
    let queued = rt.spawn_blocking({
        let ran = ran.clone();
        move || ran.store(true, SeqCst)
    });
    queued.abort();
    gate.open();
    rt.block_on(first).expect("first closure");
    let err = rt
        .block_on(queued)
        .expect_err("an aborted closure that never started has no value");
    assert!(err.is_cancelled(), "expected cancellation, got {err:?}");
    assert!(!ran.load(SeqCst), "the aborted closure ran");
}

#[test]
fn the_abort_handle_of_a_blocking_closure_works_like_its_join_handle() {
    let rt = runtime(1, 1);
    let gate = Arc::new(Gate::default());
    let _open_on_exit = OpenOnDrop(gate.clone());
    let first = rt.spawn_blocking({
        let gate = gate.clone();
        move || gate.pass()
    });
    gate.wait_for("the first closure to hold the only thread", |s| {
        s.inside == 1
    });
    let running = first.abort_handle();
    assert!(
        !running.is_finished(),
        "AbortHandle::is_finished is true while the closure runs"
    );

    let ran = Arc::new(AtomicBool::new(false));
    let queued = rt.spawn_blocking({
        let ran = ran.clone();
        move || ran.store(true, SeqCst)
    });
    let abort = queued.abort_handle();
    assert!(!abort.is_finished(), "a queued closure is not finished");
    abort.abort();
    gate.open();
    rt.block_on(first).expect("first closure");
    let result = rt.block_on(queued);
    assert!(
        matches!(&result, Err(e) if e.is_cancelled()),
        "a queued closure aborted through its AbortHandle gave {result:?}"
    );
    assert!(!ran.load(SeqCst), "the aborted closure ran");
    assert!(running.is_finished());
}

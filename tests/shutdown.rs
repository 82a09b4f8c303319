//! Shutdown: dropping or shutting down a runtime drops every task's future exactly once, in every state, and never hangs.

use std::future::pending;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use smp_rt::JoinHandle;
use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task::{self, JoinError, Priority};

/// Generous bound for conditions that should hold almost at once.
const DEADLINE: Duration = Duration::from_secs(30);

/// Counts the drops of the guards it hands out, and notices double drops.
struct Tracker {
    created: AtomicUsize,
    dropped: AtomicUsize,
    double_drops: AtomicUsize,
    flags: Vec<AtomicBool>,
}

impl Tracker {
    fn new(capacity: usize) -> Arc<Tracker> {
        Arc::new(Tracker {
            created: AtomicUsize::new(0),
            dropped: AtomicUsize::new(0),
            double_drops: AtomicUsize::new(0),
            flags: (0..capacity).map(|_| AtomicBool::new(false)).collect(),
        })
    }

    fn guard(self: &Arc<Tracker>) -> Guard {
        let index = self.created.fetch_add(1, SeqCst);
        assert!(index < self.flags.len(), "Tracker capacity exceeded");
        Guard {
            tracker: self.clone(),
            index,
        }
    }

    fn created(&self) -> usize {
        self.created.load(SeqCst)
    }

    fn dropped(&self) -> usize {
        self.dropped.load(SeqCst)
    }

    /// Asserts that every guard handed out was dropped, and exactly once.
    fn assert_all_dropped_once(&self, context: &str) {
        assert_eq!(
            self.double_drops.load(SeqCst),
            0,
            "{context}: some futures were dropped twice"
        );
        let created = self.created();
        let missing: Vec<usize> = (0..created)
            .filter(|&i| !self.flags[i].load(SeqCst))
            .collect();
        assert!(
            missing.is_empty(),
            "{context}: {} of {created} futures were never dropped (first indices: {:?})",
            missing.len(),
            &missing[..missing.len().min(10)]
        );
        assert_eq!(self.dropped(), created, "{context}: drop count");
    }
}

/// Held by a task's future; its drop is the future's drop.
struct Guard {
    tracker: Arc<Tracker>,
    index: usize,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if self.tracker.flags[self.index].swap(true, SeqCst) {
            self.tracker.double_drops.fetch_add(1, SeqCst);
            if !thread::panicking() {
                panic!("future {} was dropped twice", self.index);
            }
        } else {
            self.tracker.dropped.fetch_add(1, SeqCst);
        }
    }
}

/// Sets the flag when dropped, so a stuck thread is let go even if the test fails.
struct ReleaseOnDrop(Arc<AtomicBool>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

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

/// Awaits every handle (off the runtime) and returns the results.
fn join_all_within<T: Send + 'static>(
    what: &str,
    handles: Vec<JoinHandle<T>>,
) -> Vec<Result<T, JoinError>> {
    returns_within(what, move || {
        futures::executor::block_on(futures::future::join_all(handles))
    })
}

fn assert_all_cancelled<T>(what: &str, results: Vec<Result<T, JoinError>>) {
    for (i, result) in results.into_iter().enumerate() {
        match result {
            Err(err) => assert!(
                err.is_cancelled(),
                "{what}: handle {i} gave a non-cancelled error: {err:?}"
            ),
            Ok(_) => panic!("{what}: handle {i} gave a value, but its task never completes"),
        }
    }
}

/// A task that counts its first poll and then waits forever.
async fn waits_forever(guard: Guard, started: Arc<AtomicUsize>) {
    let _guard = guard;
    started.fetch_add(1, SeqCst);
    pending::<()>().await;
}

fn one_worker() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .expect("runtime")
}

#[test]
fn dropping_a_multi_thread_runtime_drops_every_future_exactly_once() {
    const WAITING: usize = 50;
    const QUEUED_FROM_OUTSIDE: usize = 200;
    // More than a worker's ring holds, so some spill into its overflow list.
    const SPAWNED_BY_BLOCKER: usize = 600;

    let tracker = Tracker::new(2_000);
    let started = Arc::new(AtomicUsize::new(0));
    let rt = one_worker();
    let mut handles: Vec<JoinHandle<()>> = Vec::new();

    // Waiting on `pending()`, spawned from the test thread.
    for _ in 0..WAITING {
        handles.push(rt.spawn(waits_forever(tracker.guard(), started.clone())));
    }
    // Waiting on oneshots whose senders stay outside the runtime.
    let mut senders = Vec::new();
    for _ in 0..WAITING {
        let (tx, rx) = oneshot::channel::<()>();
        senders.push(tx);
        let guard = tracker.guard();
        let started = started.clone();
        handles.push(rt.spawn(async move {
            let _guard = guard;
            started.fetch_add(1, SeqCst);
            let _ = rx.await;
            pending::<()>().await;
        }));
    }
    // Spawned from another thread through a cloned handle.
    let from_thread = {
        let handle = rt.handle().clone();
        let guards: Vec<Guard> = (0..WAITING).map(|_| tracker.guard()).collect();
        let started = started.clone();
        thread::spawn(move || {
            guards
                .into_iter()
                .map(|guard| handle.spawn(waits_forever(guard, started.clone())))
                .collect::<Vec<_>>()
        })
        .join()
        .expect("spawning thread")
    };
    handles.extend(from_thread);
    // Waiting on a oneshot that the blocker completes: it goes to the LIFO slot.
    let (wake_tx, wake_rx) = oneshot::channel::<()>();
    {
        let guard = tracker.guard();
        let started = started.clone();
        handles.push(rt.spawn(async move {
            let _guard = guard;
            started.fetch_add(1, SeqCst);
            let _ = wake_rx.await;
            pending::<()>().await;
        }));
    }
    let waiting = 3 * WAITING + 1;
    wait_until("the waiting tasks to start", || {
        started.load(SeqCst) == waiting
    });

    // The blocker fills its worker's queues, then holds the only worker.
    let (blocked_tx, blocked_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let spawned_by_blocker = Arc::new(Mutex::new(Vec::new()));
    {
        let guard = tracker.guard();
        let children: Vec<Guard> = (0..SPAWNED_BY_BLOCKER).map(|_| tracker.guard()).collect();
        let started = started.clone();
        let spawned = spawned_by_blocker.clone();
        handles.push(rt.spawn(async move {
            let _guard = guard;
            let children: Vec<JoinHandle<()>> = children
                .into_iter()
                .enumerate()
                .map(|(i, child)| {
                    let priority = match i % 4 {
                        0 => Priority::Low,
                        1 => Priority::High,
                        _ => Priority::Normal,
                    };
                    task::spawn_with_priority(priority, waits_forever(child, started.clone()))
                })
                .collect();
            spawned.lock().unwrap().extend(children);
            let _ = wake_tx.send(());
            let _ = blocked_tx.send(());
            let _ = release_rx.recv_timeout(DEADLINE);
            pending::<()>().await;
        }));
    }
    blocked_rx
        .recv_timeout(DEADLINE)
        .expect("the blocker task did not start");
    // Queued in the inbox of the blocked worker.
    for _ in 0..QUEUED_FROM_OUTSIDE {
        handles.push(rt.spawn(waits_forever(tracker.guard(), started.clone())));
    }
    let total = waiting + 1 + SPAWNED_BY_BLOCKER + QUEUED_FROM_OUTSIDE;
    assert_eq!(tracker.created(), total);
    assert_eq!(
        tracker.dropped(),
        0,
        "no future may be dropped before shutdown"
    );

    let handle = rt.handle().clone();
    // Let the worker go just after the drop has begun, so it finds the shutdown
    // flag with most of its queue still unrun.
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        let _ = release_tx.send(());
    });
    returns_within("dropping the runtime", move || drop(rt));
    releaser.join().unwrap();

    tracker.assert_all_dropped_once("after dropping the runtime");
    assert_eq!(handle.metrics().num_alive_tasks(), 0);
    // The senders outlive the runtime: completing them now must not revive anything.
    for tx in senders {
        let _ = tx.send(());
    }
    tracker.assert_all_dropped_once("after completing the oneshots");

    handles.append(&mut spawned_by_blocker.lock().unwrap());
    assert_eq!(handles.len(), total);
    assert!(handles.iter().all(JoinHandle::is_finished));
    assert_all_cancelled(
        "handles of a dropped runtime",
        join_all_within("awaiting the handles", handles),
    );
}

#[test]
fn dropping_a_current_thread_runtime_drops_tasks_that_never_ran() {
    let tracker = Tracker::new(2_000);
    let started = Arc::new(AtomicUsize::new(0));
    let rt = Builder::new_current_thread().build().expect("runtime");
    let mut handles = Vec::new();

    // Spawned from outside while no thread runs the worker.
    for _ in 0..100 {
        handles.push(rt.spawn(waits_forever(tracker.guard(), started.clone())));
    }
    let from_thread = {
        let handle = rt.handle().clone();
        let guards: Vec<Guard> = (0..100).map(|_| tracker.guard()).collect();
        let started = started.clone();
        thread::spawn(move || {
            guards
                .into_iter()
                .map(|guard| handle.spawn(waits_forever(guard, started.clone())))
                .collect::<Vec<_>>()
        })
        .join()
        .expect("spawning thread")
    };
    handles.extend(from_thread);
    // Some tasks run and wait: the last of them to start completes a oneshot.
    let (all_started_tx, all_started_rx) = oneshot::channel::<()>();
    let all_started_tx = Arc::new(Mutex::new(Some(all_started_tx)));
    let ran = Arc::new(AtomicUsize::new(0));
    let waiting: Vec<JoinHandle<()>> = rt.block_on(async {
        (0..50)
            .map(|_| {
                let guard = tracker.guard();
                let ran = ran.clone();
                let tx = all_started_tx.clone();
                smp_rt::spawn(async move {
                    let _guard = guard;
                    if ran.fetch_add(1, SeqCst) + 1 == 50 {
                        if let Some(tx) = tx.lock().unwrap().take() {
                            let _ = tx.send(());
                        }
                    }
                    pending::<()>().await;
                })
            })
            .collect()
    });
    handles.extend(waiting);
    rt.block_on(async {
        all_started_rx
            .await
            .expect("the waiting tasks were dropped early")
    });
    assert_eq!(ran.load(SeqCst), 50);
    // Spawned inside `block_on` at every priority, more than a ring holds;
    // `block_on` returns before they are run.
    let queued: Vec<JoinHandle<()>> = rt.block_on(async {
        let mut queued = Vec::new();
        for priority in [
            Priority::Max,
            Priority::High,
            Priority::Normal,
            Priority::Low,
        ] {
            for _ in 0..300 {
                queued.push(task::spawn_with_priority(
                    priority,
                    waits_forever(tracker.guard(), started.clone()),
                ));
            }
        }
        queued
    });
    handles.extend(queued);
    // Spawned with a name and priority after entering the runtime.
    {
        let _enter = rt.enter();
        handles.push(
            task::Builder::new()
                .name("late")
                .priority(Priority::High)
                .spawn(waits_forever(tracker.guard(), started.clone()))
                .expect("spawn inside the runtime"),
        );
    }
    let total = tracker.created();
    assert_eq!(total, 100 + 100 + 50 + 1200 + 1);
    assert_eq!(tracker.dropped(), 0);

    let handle = rt.handle().clone();
    returns_within("dropping the runtime", move || drop(rt));
    tracker.assert_all_dropped_once("after dropping a current-thread runtime");
    assert_eq!(handle.metrics().num_alive_tasks(), 0);
    assert_eq!(handles.len(), total);
    assert_all_cancelled(
        "handles of a dropped current-thread runtime",
        join_all_within("awaiting the handles", handles),
    );
}

#[test]
fn spawning_on_a_dropped_runtime_gives_a_cancelled_handle() {
    for rt in [
        one_worker(),
        Builder::new_current_thread().build().expect("runtime"),
    ] {
        let tracker = Tracker::new(4);
        let handle = rt.handle().clone();
        returns_within("dropping the runtime", move || drop(rt));

        let late = handle.spawn({
            let guard = tracker.guard();
            async move {
                let _guard = guard;
                1
            }
        });
        tracker.assert_all_dropped_once("a future spawned after the drop");
        assert!(late.is_finished());

        let blocking_ran = Arc::new(AtomicBool::new(false));
        let late_blocking = handle.spawn_blocking({
            let guard = tracker.guard();
            let ran = blocking_ran.clone();
            move || {
                let _guard = guard;
                ran.store(true, SeqCst);
                2
            }
        });
        tracker.assert_all_dropped_once("a closure spawned after the drop");

        let results = join_all_within("awaiting a late spawn", vec![late, late_blocking]);
        assert_all_cancelled("late spawns", results);
        assert!(
            !blocking_ran.load(SeqCst),
            "a blocking closure ran after its runtime was dropped"
        );
        assert_eq!(handle.metrics().num_alive_tasks(), 0);
    }
}

#[test]
fn dropping_a_task_future_may_wake_and_spawn_without_harm() {
    // Futures whose destructors complete oneshots other tasks wait on, and
    // spawn new tasks: all of it happens while the runtime is dropping tasks.
    struct WakeOnDrop {
        tx: Option<oneshot::Sender<()>>,
        handle: smp_rt::runtime::Handle,
        late: Option<Guard>,
        late_handles: Arc<Mutex<Vec<JoinHandle<()>>>>,
    }
    impl Drop for WakeOnDrop {
        fn drop(&mut self) {
            if let Some(tx) = self.tx.take() {
                let _ = tx.send(());
            }
            if let Some(guard) = self.late.take() {
                let h = self.handle.spawn(async move {
                    let _guard = guard;
                    pending::<()>().await;
                });
                self.late_handles.lock().unwrap().push(h);
            }
        }
    }

    let tracker = Tracker::new(1_000);
    let started = Arc::new(AtomicUsize::new(0));
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let late_handles = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for _ in 0..100 {
        let (tx, rx) = oneshot::channel::<()>();
        let waiter_guard = tracker.guard();
        let started_w = started.clone();
        handles.push(rt.spawn(async move {
            let _guard = waiter_guard;
            started_w.fetch_add(1, SeqCst);
            let _ = rx.await;
            pending::<()>().await;
        }));
        let waker = WakeOnDrop {
            tx: Some(tx),
            handle: rt.handle().clone(),
            late: Some(tracker.guard()),
            late_handles: late_handles.clone(),
        };
        let guard = tracker.guard();
        let started_s = started.clone();
        handles.push(rt.spawn(async move {
            let _guard = guard;
            let _waker = waker;
            started_s.fetch_add(1, SeqCst);
            pending::<()>().await;
        }));
    }
    wait_until("the tasks to start", || started.load(SeqCst) == 200);

    returns_within("dropping the runtime", move || drop(rt));
    tracker.assert_all_dropped_once("after a drop whose destructors wake and spawn");
    let mut late = std::mem::take(&mut *late_handles.lock().unwrap());
    assert_eq!(late.len(), 100);
    handles.append(&mut late);
    assert_all_cancelled(
        "handles after a drop whose destructors wake and spawn",
        join_all_within("awaiting the handles", handles),
    );
}

/// Spawns a task that holds the only worker in a loop inside its poll until
/// `release` is set, and waits until it is stuck.
fn spawn_stuck_task(
    rt: &Runtime,
    tracker: &Arc<Tracker>,
    release: &Arc<AtomicBool>,
) -> JoinHandle<()> {
    let stuck = Arc::new(AtomicBool::new(false));
    let guard = tracker.guard();
    let handle = rt.spawn({
        let stuck = stuck.clone();
        let release = release.clone();
        async move {
            let _guard = guard;
            stuck.store(true, SeqCst);
            while !release.load(SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
            pending::<()>().await;
        }
    });
    wait_until("the task to get stuck", || stuck.load(SeqCst));
    handle
}

#[test]
fn shutdown_timeout_returns_while_a_task_is_stuck_in_its_poll() {
    let tracker = Tracker::new(100);
    let started = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let _release_on_exit = ReleaseOnDrop(release.clone());
    let rt = one_worker();
    let mut handles: Vec<JoinHandle<()>> = (0..20)
        .map(|_| rt.spawn(waits_forever(tracker.guard(), started.clone())))
        .collect();
    wait_until("the waiting tasks to start", || started.load(SeqCst) == 20);
    handles.push(spawn_stuck_task(&rt, &tracker, &release));
    // Queued behind the stuck task.
    handles.extend((0..20).map(|_| rt.spawn(waits_forever(tracker.guard(), started.clone()))));

    returns_within("shutdown_timeout with a stuck task", move || {
        rt.shutdown_timeout(Duration::from_millis(100))
    });
    release.store(true, SeqCst);
    wait_until("the stuck task's future to be dropped", || {
        tracker.dropped() == tracker.created()
    });
    tracker.assert_all_dropped_once("after the stuck task was released");
    assert_all_cancelled(
        "handles after shutdown_timeout",
        join_all_within("awaiting the handles", handles),
    );
}

#[test]
fn shutdown_background_returns_while_a_task_is_stuck_in_its_poll() {
    let tracker = Tracker::new(10);
    let release = Arc::new(AtomicBool::new(false));
    let _release_on_exit = ReleaseOnDrop(release.clone());
    let rt = one_worker();
    let stuck = spawn_stuck_task(&rt, &tracker, &release);
    returns_within("shutdown_background with a stuck task", move || {
        rt.shutdown_background()
    });
    release.store(true, SeqCst);
    wait_until("the stuck task's future to be dropped", || {
        tracker.dropped() == 1
    });
    tracker.assert_all_dropped_once("after shutdown_background");
    assert_all_cancelled(
        "the stuck task's handle",
        join_all_within("awaiting the handle", vec![stuck]),
    );
}

#[test]
fn shutdown_timeout_returns_while_a_blocking_closure_is_stuck() {
    let release = Arc::new(AtomicBool::new(false));
    let _release_on_exit = ReleaseOnDrop(release.clone());
    let entered = Arc::new(AtomicBool::new(false));
    let rt = one_worker();
    let blocking = rt.spawn_blocking({
        let release = release.clone();
        let entered = entered.clone();
        move || {
            entered.store(true, SeqCst);
            while !release.load(SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
            7
        }
    });
    wait_until("the blocking closure to start", || entered.load(SeqCst));
    returns_within(
        "shutdown_timeout with a stuck blocking closure",
        move || rt.shutdown_timeout(Duration::from_millis(100)),
    );
    release.store(true, SeqCst);
    // A closure that was already running finishes and delivers its value.
    let results = join_all_within("awaiting the blocking closure", vec![blocking]);
    assert_eq!(results.into_iter().next().unwrap().expect("closure"), 7);
}

#[test]
fn shutdown_timeout_returns_while_a_task_and_a_blocking_closure_are_stuck() {
    let tracker = Tracker::new(10);
    let release = Arc::new(AtomicBool::new(false));
    let _release_on_exit = ReleaseOnDrop(release.clone());
    let entered = Arc::new(AtomicBool::new(false));
    let rt = one_worker();
    let _blocking = rt.spawn_blocking({
        let release = release.clone();
        let entered = entered.clone();
        move || {
            entered.store(true, SeqCst);
            while !release.load(SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
        }
    });
    wait_until("the blocking closure to start", || entered.load(SeqCst));
    let _stuck = spawn_stuck_task(&rt, &tracker, &release);
    returns_within(
        "shutdown_timeout with a stuck task and closure",
        move || rt.shutdown_timeout(Duration::from_millis(100)),
    );
}

#[test]
fn shutdown_timeout_drops_the_stuck_workers_queued_tasks_once_it_is_free() {
    // More than a worker's ring holds.
    const CHILDREN: usize = 400;
    let tracker = Tracker::new(CHILDREN + 10);
    let started = Arc::new(AtomicUsize::new(0));
    let release = Arc::new(AtomicBool::new(false));
    let _release_on_exit = ReleaseOnDrop(release.clone());
    let rt = one_worker();

    let (wake_tx, wake_rx) = oneshot::channel::<()>();
    let woken = rt.spawn(waits_forever_after(
        tracker.guard(),
        started.clone(),
        wake_rx,
    ));
    wait_until("the woken task to start", || started.load(SeqCst) == 1);

    let stuck = Arc::new(AtomicBool::new(false));
    let parent = rt.spawn({
        let guard = tracker.guard();
        let children: Vec<Guard> = (0..CHILDREN).map(|_| tracker.guard()).collect();
        let started = started.clone();
        let stuck = stuck.clone();
        let release = release.clone();
        async move {
            let _guard = guard;
            for child in children {
                drop(smp_rt::spawn(waits_forever(child, started.clone())));
            }
            let _ = wake_tx.send(());
            stuck.store(true, SeqCst);
            while !release.load(SeqCst) {
                thread::sleep(Duration::from_millis(1));
            }
            pending::<()>().await;
        }
    });
    wait_until("the parent to get stuck", || stuck.load(SeqCst));
    returns_within("shutdown_timeout with a stuck task", move || {
        rt.shutdown_timeout(Duration::from_millis(100))
    });
    release.store(true, SeqCst);
    let deadline = Instant::now() + DEADLINE;
    while tracker.dropped() < tracker.created() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(5));
    }
    tracker.assert_all_dropped_once("after the stuck worker was released");
    assert_all_cancelled(
        "handles after shutdown_timeout",
        join_all_within("awaiting the handles", vec![woken, parent]),
    );
}

/// A task that counts its first poll, waits for `rx`, then waits forever.
async fn waits_forever_after(guard: Guard, started: Arc<AtomicUsize>, rx: oneshot::Receiver<()>) {
    let _guard = guard;
    started.fetch_add(1, SeqCst);
    let _ = rx.await;
    pending::<()>().await;
}

#[test]
fn dropping_a_runtime_drops_queued_blocking_closures_unrun() {
    let tracker = Tracker::new(20);
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .expect("runtime");
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let first = rt.spawn_blocking({
        let guard = tracker.guard();
        move || {
            let _guard = guard;
            let _ = entered_tx.send(());
            let _ = release_rx.recv_timeout(DEADLINE);
            "first"
        }
    });
    entered_rx
        .recv_timeout(DEADLINE)
        .expect("the first closure did not start");
    let ran = Arc::new(AtomicUsize::new(0));
    let queued: Vec<JoinHandle<()>> = (0..10)
        .map(|_| {
            let guard = tracker.guard();
            let ran = ran.clone();
            rt.spawn_blocking(move || {
                let _guard = guard;
                ran.fetch_add(1, SeqCst);
            })
        })
        .collect();

    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        let _ = release_tx.send(());
    });
    returns_within("dropping the runtime", move || drop(rt));
    releaser.join().unwrap();

    // The running closure finished; each queued one ran or was dropped unrun.
    tracker.assert_all_dropped_once("after dropping a runtime with queued closures");
    let ran = ran.load(SeqCst);
    let results = join_all_within("awaiting the closures", queued);
    let cancelled = results
        .iter()
        .filter(|r| matches!(r, Err(e) if e.is_cancelled()))
        .count();
    let succeeded = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(succeeded, ran, "{results:?}");
    assert_eq!(cancelled + succeeded, 10, "{results:?}");
    let first = join_all_within("awaiting the running closure", vec![first]);
    assert_eq!(*first[0].as_ref().expect("the running closure"), "first");
}

#[test]
fn dropping_a_current_thread_runtime_while_another_thread_runs_it() {
    const TASKS: usize = 2_000;
    // The drop races with the other thread's polls: try several times.
    for round in 0..50 {
        let tracker = Tracker::new(TASKS);
        let started = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let rt = Builder::new_current_thread().build().expect("runtime");
        let handle = rt.handle().clone();
        let (done_tx, done_rx) = oneshot::channel::<()>();
        let guards: Vec<Guard> = (0..TASKS).map(|_| tracker.guard()).collect();
        let runner = {
            let started = started.clone();
            let stop = stop.clone();
            thread::spawn(move || {
                handle.block_on(async move {
                    for guard in guards {
                        let started = started.clone();
                        let stop = stop.clone();
                        drop(smp_rt::spawn(async move {
                            let _guard = guard;
                            started.fetch_add(1, SeqCst);
                            // Busy until told to stop, then a slow last poll
                            // (so the drop lands in the middle of it), then
                            // waits forever.
                            while !stop.load(SeqCst) {
                                task::yield_now().await;
                            }
                            thread::sleep(Duration::from_micros(50));
                            pending::<()>().await;
                        }));
                    }
                    let _ = done_rx.await;
                })
            })
        };
        wait_until("the tasks to start", || started.load(SeqCst) == TASKS);
        stop.store(true, SeqCst);
        returns_within("dropping the runtime", move || drop(rt));
        let _ = done_tx.send(());
        returns_within("the other block_on", move || runner.join().is_ok());
        // Nothing runs the runtime any more: whatever is not dropped now never will be.
        tracker.assert_all_dropped_once(&format!(
            "round {round}: after dropping a runtime another thread was running"
        ));
    }
}

/// Spawns `WAITING` tasks that wait forever, and hands the runtime to `drop_it`
/// (which drops it on some thread of the runtime itself) through a shared slot.
fn drop_from_inside(drop_it: impl FnOnce(&Runtime, Arc<Mutex<Option<Runtime>>>)) -> Arc<Tracker> {
    const WAITING: usize = 20;
    let tracker = Tracker::new(WAITING);
    let started = Arc::new(AtomicUsize::new(0));
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    for _ in 0..WAITING {
        drop(rt.spawn(waits_forever(tracker.guard(), started.clone())));
    }
    wait_until("the waiting tasks to start", || {
        started.load(SeqCst) == WAITING
    });
    let slot = Arc::new(Mutex::new(None));
    drop_it(&rt, slot.clone());
    *slot.lock().unwrap() = Some(rt);
    tracker
}

#[test]
fn dropping_the_runtime_inside_one_of_its_tasks_drops_the_other_tasks() {
    let (done_tx, done_rx) = mpsc::channel();
    let tracker = drop_from_inside(|rt, slot| {
        drop(rt.spawn(async move {
            let rt = loop {
                if let Some(rt) = slot.lock().unwrap().take() {
                    break rt;
                }
                task::yield_now().await;
            };
            let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rt)));
            let _ = done_tx.send(dropped.is_ok());
        }));
    });
    let dropped_cleanly = done_rx
        .recv_timeout(DEADLINE)
        .expect("dropping the runtime inside a task did not return");
    wait_until("the other tasks to be dropped", || {
        tracker.dropped() == tracker.created()
    });
    tracker.assert_all_dropped_once("after dropping the runtime inside a task");
    assert!(
        dropped_cleanly,
        "dropping the runtime inside a task panicked"
    );
}

#[test]
fn dropping_the_runtime_inside_one_of_its_blocking_closures_returns() {
    let (done_tx, done_rx) = mpsc::channel();
    let tracker = drop_from_inside(|rt, slot| {
        drop(rt.spawn_blocking(move || {
            let deadline = Instant::now() + DEADLINE;
            let rt = loop {
                if let Some(rt) = slot.lock().unwrap().take() {
                    break rt;
                }
                assert!(Instant::now() < deadline, "the runtime never arrived");
                thread::sleep(Duration::from_millis(1));
            };
            drop(rt);
            let _ = done_tx.send(());
        }));
    });
    done_rx
        .recv_timeout(DEADLINE)
        .expect("dropping the runtime inside a blocking closure did not return");
    tracker.assert_all_dropped_once("after dropping the runtime inside a blocking closure");
}

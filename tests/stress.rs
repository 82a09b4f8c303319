//! Stress: hundreds of thousands of cross-thread wakes, ping-pongs, concurrent spawns and aborts all complete with the right results.

use std::future::{Future, pending};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::channel::{mpsc as async_mpsc, oneshot};
use futures::task::AtomicWaker;
use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task::{self, Priority};

/// Aborts the whole process if a test is still running after this long:
/// a hang here is a lost wake-up, and must not hang the test run.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Aborts the process unless dropped within [`WATCHDOG`].
struct Watchdog {
    _done: mpsc::Sender<()>,
}

fn watchdog(test: &'static str) -> Watchdog {
    let (done, rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(WATCHDOG) {
            eprintln!(
                "{test}: still running after {WATCHDOG:?}: a lost wake-up or a hang; aborting"
            );
            std::process::abort();
        }
    });
    Watchdog { _done: done }
}

fn runtime(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("runtime")
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after 30 s waiting for {what}"
        );
        thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn oneshots_completed_by_plain_threads_wake_their_tasks() {
    let _watchdog = watchdog("oneshots_completed_by_plain_threads_wake_their_tasks");
    const THREADS: usize = 4;
    const TASKS_PER_THREAD: usize = 16;
    let per_thread = 50_000;
    let rounds = per_thread / TASKS_PER_THREAD;
    let rt = runtime(2);

    let mut completers = Vec::new();
    let mut tasks = Vec::new();
    for t in 0..THREADS {
        let (requests, incoming) = mpsc::channel::<(oneshot::Sender<u64>, u64)>();
        completers.push(thread::spawn(move || {
            let mut completed = 0usize;
            for (reply, value) in incoming {
                reply.send(value * 2).expect("the awaiting task is gone");
                completed += 1;
            }
            completed
        }));
        for k in 0..TASKS_PER_THREAD {
            let requests = requests.clone();
            let priority = [Priority::High, Priority::Normal, Priority::Low][k % 3];
            tasks.push(rt.spawn(async move {
                task::set_priority(priority);
                let mut sum = 0u64;
                for r in 0..rounds {
                    let (tx, rx) = oneshot::channel();
                    let value = (t * 1_000_000 + k * 10_000 + r) as u64;
                    requests.send((tx, value)).expect("completer thread");
                    sum += rx.await.expect("the completer dropped a sender");
                }
                sum
            }));
        }
    }

    let total: u64 = rt.block_on(async {
        let mut total = 0;
        for task in tasks {
            total += task.await.expect("task");
        }
        total
    });
    let expected: u64 = (0..THREADS)
        .flat_map(|t| {
            (0..TASKS_PER_THREAD).flat_map(move |k| {
                (0..rounds).map(move |r| (t * 1_000_000 + k * 10_000 + r) as u64)
            })
        })
        .map(|v| v * 2)
        .sum();
    assert_eq!(total, expected);
    for completer in completers {
        assert_eq!(completer.join().unwrap(), TASKS_PER_THREAD * rounds);
    }
}

/// A counter that plain threads bump and a task waits on.
#[derive(Default)]
struct Counter {
    count: AtomicUsize,
    waker: AtomicWaker,
}

/// Resolves once the counter reaches `target`, counting its polls.
struct Reaches {
    counter: Arc<Counter>,
    target: usize,
    polls: usize,
}

impl Future for Reaches {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.polls += 1;
        self.counter.waker.register(cx.waker());
        if self.counter.count.load(SeqCst) >= self.target {
            Poll::Ready(self.polls)
        } else {
            Poll::Pending
        }
    }
}

#[test]
fn wakers_woken_from_many_threads_never_lose_the_last_wake() {
    let _watchdog = watchdog("wakers_woken_from_many_threads_never_lose_the_last_wake");
    const THREADS: usize = 4;
    const TASKS: usize = 8;
    // Each thread bumps every counter equally often.
    let per_thread = 50_000 / TASKS * TASKS;
    let target = THREADS * per_thread / TASKS;
    let rt = runtime(2);
    let counters: Vec<Arc<Counter>> = (0..TASKS).map(|_| Arc::default()).collect();
    let handles: Vec<_> = counters
        .iter()
        .map(|counter| {
            let mut waits = Vec::new();
            // Several intermediate waits, then the final one.
            for step in 1..=4 {
                waits.push(Reaches {
                    counter: counter.clone(),
                    target: target * step / 4,
                    polls: 0,
                });
            }
            rt.spawn(async move {
                let mut polls = 0;
                for wait in waits {
                    polls += wait.await;
                }
                polls
            })
        })
        .collect();

    let bumpers: Vec<_> = (0..THREADS)
        .map(|t| {
            let counters = counters.clone();
            thread::spawn(move || {
                for i in 0..per_thread {
                    let counter = &counters[(i + t) % TASKS];
                    counter.count.fetch_add(1, SeqCst);
                    counter.waker.wake();
                }
            })
        })
        .collect();
    for bumper in bumpers {
        bumper.join().unwrap();
    }
    let polls: Vec<usize> = rt.block_on(async {
        let mut polls = Vec::new();
        for handle in handles {
            polls.push(handle.await.expect("task"));
        }
        polls
    });
    for (counter, polls) in counters.iter().zip(polls) {
        assert_eq!(counter.count.load(SeqCst), target);
        assert!(polls >= 4);
    }
}

#[test]
fn ping_pong_between_tasks_on_different_workers() {
    let _watchdog = watchdog("ping_pong_between_tasks_on_different_workers");
    let round_trips = 100_000;
    let rt = runtime(2);
    let (to_pong, mut pong_rx) = async_mpsc::unbounded::<u64>();
    let (to_ping, mut ping_rx) = async_mpsc::unbounded::<u64>();
    let (pong_started, pong_on) = std::sync::mpsc::channel();
    let ping_started = Arc::new(AtomicBool::new(false));

    let pong = rt.spawn({
        let ping_started = ping_started.clone();
        async move {
            // Holds its worker until ping runs: a task spawned from outside
            // goes to an idle worker, so ping starts on the other one.
            pong_started.send(thread::current().id()).unwrap();
            let deadline = Instant::now() + Duration::from_secs(30);
            while !ping_started.load(SeqCst) {
                assert!(Instant::now() < deadline, "ping never started");
                thread::yield_now();
            }
            let mut served = 0u64;
            while let Some(n) = pong_rx.next().await {
                to_ping.unbounded_send(n + 1).expect("ping is gone");
                served += 1;
            }
            served
        }
    });
    let pong_thread = pong_on.recv().unwrap();
    let ping = rt.spawn(async move {
        let ping_thread = thread::current().id();
        ping_started.store(true, SeqCst);
        let mut n = 0u64;
        for _ in 0..round_trips {
            to_pong.unbounded_send(n).expect("pong is gone");
            let reply = ping_rx.next().await.expect("pong hung up");
            assert_eq!(reply, n + 1);
            n = reply;
        }
        drop(to_pong);
        (ping_thread, n)
    });
    let ((ping_thread, n), served) =
        rt.block_on(async { (ping.await.expect("ping"), pong.await.expect("pong")) });
    assert_ne!(ping_thread, pong_thread, "ping started on pong's worker");
    assert_eq!(n, round_trips as u64);
    assert_eq!(served, round_trips as u64);
}

/// Sets the flag when dropped, so a task holding its worker is let go even if the test fails.
struct ReleaseOnDrop(Arc<AtomicBool>);

impl Drop for ReleaseOnDrop {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

#[test]
fn a_task_woken_while_its_worker_is_busy_runs_on_an_idle_worker() {
    let _watchdog = watchdog("a_task_woken_while_its_worker_is_busy_runs_on_an_idle_worker");
    for _attempt in 0..50 {
        let rt = runtime(2);
        // The woken task records where it waits, spawns the busy task (which
        // goes to the front of this worker's queue and runs there as soon as
        // the woken task is suspended, unless the sibling steals it first:
        // then the attempt is retried), and reports when it runs again.
        let (wake_tx, wake_rx) = oneshot::channel::<()>();
        let (woken_on_tx, woken_on_rx) = mpsc::channel();
        let (ran_tx, ran_rx) = mpsc::channel();
        let (busy_on_tx, busy_on_rx) = mpsc::channel();
        // A task that holds its worker inside one long poll.
        let release = Arc::new(AtomicBool::new(false));
        let _release_on_exit = ReleaseOnDrop(release.clone());
        let busy_task = {
            let release = release.clone();
            async move {
                let _ = busy_on_tx.send(thread::current().id());
                while !release.load(SeqCst) {
                    thread::sleep(Duration::from_millis(1));
                }
            }
        };
        let woken = rt.spawn(async move {
            let _ = woken_on_tx.send(thread::current().id());
            let busy = smp_rt::spawn(busy_task);
            let _ = wake_rx.await;
            let _ = ran_tx.send(());
            busy.await.expect("busy task");
        });
        let home = woken_on_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the task did not start");
        let busy_on = busy_on_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the busy task did not start");
        if busy_on != home {
            // Not the situation under test: try again.
            release.store(true, SeqCst);
            continue;
        }
        // The woken task's worker is busy and the other one idle.
        wake_tx.send(()).expect("the woken task is gone");
        let ran = ran_rx.recv_timeout(Duration::from_secs(30));
        release.store(true, SeqCst);
        assert!(
            ran.is_ok(),
            "a woken task waited 30 s for its busy worker while the other worker was idle"
        );
        rt.block_on(woken).expect("woken task");
        return;
    }
    panic!("in 50 attempts the busy task never landed on the woken task's worker");
}

#[test]
fn spawns_from_many_threads_at_once_all_complete() {
    let _watchdog = watchdog("spawns_from_many_threads_at_once_all_complete");
    const THREADS: usize = 8;
    let per_thread = 20_000;
    let rt = runtime(2);
    let ran = Arc::new(AtomicU64::new(0));
    let start = Arc::new(std::sync::Barrier::new(THREADS));

    let spawners: Vec<_> = (0..THREADS)
        .map(|t| {
            let handle = rt.handle().clone();
            let ran = ran.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let handles: Vec<_> = (0..per_thread)
                    .map(|i| {
                        let value = (t * per_thread + i) as u64;
                        let ran = ran.clone();
                        handle.spawn(async move {
                            ran.fetch_add(value, SeqCst);
                            if i % 10 == 0 {
                                // A child spawned on the worker, mid-storm.
                                smp_rt::spawn(async move { value }).await.expect("child")
                            } else {
                                value
                            }
                        })
                    })
                    .collect();
                futures::executor::block_on(async {
                    let mut sum = 0u64;
                    for h in handles {
                        sum += h.await.expect("spawned task");
                    }
                    sum
                })
            })
        })
        .collect();
    let total: u64 = spawners.into_iter().map(|s| s.join().unwrap()).sum();
    let n = (THREADS * per_thread) as u64;
    assert_eq!(total, n * (n - 1) / 2);
    assert_eq!(ran.load(SeqCst), n * (n - 1) / 2);
    let metrics = rt.metrics();
    assert_eq!(metrics.spawned_tasks_count(), n + n / 10);
    wait_until("every task to be gone", || metrics.num_alive_tasks() == 0);
}

/// Counts drops of the futures it is put in.
struct DropCount(Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn aborts_racing_completions_drop_every_future_once() {
    let _watchdog = watchdog("aborts_racing_completions_drop_every_future_once");
    let tasks = 20_000;
    let rt = runtime(2);
    let dropped = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    let mut handles = Vec::new();
    for i in 0..tasks {
        let (tx, rx) = oneshot::channel::<usize>();
        senders.push(tx);
        let guard = DropCount(dropped.clone());
        handles.push(rt.spawn(async move {
            let _guard = guard;
            let v = rx.await.expect("sender dropped");
            if i % 7 == 0 {
                // Some are still being polled, or queued, when aborted.
                task::yield_now().await;
            }
            v
        }));
    }
    let abort_handles: Vec<_> = handles.iter().map(|h| h.abort_handle()).collect();

    // Even tasks are aborted, tasks divisible by 3 are completed: those
    // divisible by 6 are both, racing. The rest are aborted late.
    let go = Arc::new(AtomicBool::new(false));
    let completer = {
        let go = go.clone();
        thread::spawn(move || {
            while !go.load(SeqCst) {
                std::hint::spin_loop();
            }
            let mut rest = Vec::new();
            for (i, tx) in senders.into_iter().enumerate() {
                if i % 3 == 0 {
                    let _ = tx.send(i);
                } else {
                    rest.push(tx);
                }
            }
            rest
        })
    };
    let aborter = {
        let go = go.clone();
        thread::spawn(move || {
            while !go.load(SeqCst) {
                std::hint::spin_loop();
            }
            for (i, abort) in abort_handles.iter().enumerate() {
                if i % 2 == 0 {
                    abort.abort();
                }
            }
            abort_handles
        })
    };
    go.store(true, SeqCst);
    let kept_senders = completer.join().unwrap();
    let abort_handles = aborter.join().unwrap();
    for (i, abort) in abort_handles.iter().enumerate() {
        if i % 2 != 0 && i % 3 != 0 {
            abort.abort();
        }
    }

    let results = rt.block_on(futures::future::join_all(handles));
    for (i, result) in results.into_iter().enumerate() {
        match (i % 2 == 0, i % 3 == 0, result) {
            (_, true, Ok(v)) => assert_eq!(v, i),
            (true, _, Err(e)) | (false, false, Err(e)) => {
                assert!(e.is_cancelled(), "task {i}: {e:?}")
            }
            (aborted, completed, result) => {
                panic!("task {i} (aborted {aborted}, completed {completed}) gave {result:?}")
            }
        }
    }
    assert_eq!(dropped.load(SeqCst), tasks);
    drop(kept_senders);
    let metrics = rt.metrics();
    wait_until("every task to be gone", || metrics.num_alive_tasks() == 0);
}

#[test]
fn preempted_busy_tasks_and_cross_thread_wakes_share_the_workers() {
    let _watchdog = watchdog("preempted_busy_tasks_and_cross_thread_wakes_share_the_workers");
    let wakes = 40_000;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .reductions(smp_rt::runtime::MIN_REDUCTIONS)
        .build()
        .expect("runtime");
    let stop = Arc::new(AtomicBool::new(false));
    // Busy tasks that never wait, only get preempted.
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            rt.spawn(async move {
                let mut spins = 0u64;
                while !stop.load(SeqCst) {
                    task::consume_budget().await;
                    spins += 1;
                }
                (spins, task::stats().preemptions)
            })
        })
        .collect();
    // A task waking up once per message from a plain thread.
    let (tx, mut rx) = async_mpsc::unbounded::<usize>();
    let receiver = rt.spawn(async move {
        let mut sum = 0usize;
        while let Some(v) = rx.next().await {
            sum += v;
        }
        sum
    });
    let sender = thread::spawn(move || {
        for i in 0..wakes {
            tx.unbounded_send(i).expect("receiver");
            if i % 64 == 0 {
                thread::yield_now();
            }
        }
    });
    sender.join().unwrap();
    let sum = rt.block_on(receiver).expect("receiver");
    stop.store(true, SeqCst);
    assert_eq!(sum, wakes * (wakes - 1) / 2);
    let preemptions: u64 = rt
        .block_on(futures::future::join_all(busy))
        .into_iter()
        .map(|r| r.expect("busy task").1)
        .sum();
    assert!(preemptions > 0, "the busy tasks were never preempted");
}

#[test]
fn runtimes_built_and_dropped_in_a_loop_with_pending_work() {
    let _watchdog = watchdog("runtimes_built_and_dropped_in_a_loop_with_pending_work");
    let dropped = Arc::new(AtomicUsize::new(0));
    let mut spawned = 0;
    for round in 0..200 {
        let rt = runtime(2);
        for i in 0..50 {
            let guard = DropCount(dropped.clone());
            spawned += 1;
            drop(rt.spawn(async move {
                let _guard = guard;
                if i % 2 == 0 {
                    task::yield_now().await;
                    pending::<()>().await;
                }
            }));
        }
        if round % 2 == 0 {
            rt.block_on(task::yield_now());
        }
        drop(rt);
        assert_eq!(dropped.load(SeqCst), spawned, "round {round}");
    }
}

//! Tasks: spawning, joining, detaching, aborting, panics, `JoinSet`, ids,
//! names and `task::Builder`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::channel::oneshot;
use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task::{self, JoinSet, Priority};

fn rt() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

/// Sends on drop, so a test can await the drop of a task's future.
struct DropSignal(Option<oneshot::Sender<()>>);

impl Drop for DropSignal {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

fn drop_signal() -> (DropSignal, oneshot::Receiver<()>) {
    let (tx, rx) = oneshot::channel();
    (DropSignal(Some(tx)), rx)
}

#[test]
fn spawn_returns_the_output_and_ids_match() {
    rt().block_on(async {
        let handle = smp_rt::spawn(async { (task::id(), 7) });
        let id = handle.id();
        let other = smp_rt::spawn(async {});
        assert_ne!(other.id(), id);
        let (inner_id, v) = handle.await.unwrap();
        assert_eq!(v, 7);
        assert_eq!(inner_id, id);
        assert_eq!(task::try_id(), None, "block_on's future is not a task");
        other.await.unwrap();
    });
}

#[test]
fn an_id_is_not_reused_while_a_handle_refers_to_the_finished_task() {
    // One worker, so that every spawn below uses the same registry shard
    // as the finished task.
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        smp_rt::spawn(async {
            let (tx, rx) = oneshot::channel();
            let finished = smp_rt::spawn(async move {
                tx.send(task::id()).unwrap();
            });
            let id = rx.await.unwrap();
            while !finished.is_finished() {
                task::yield_now().await;
            }
            // The task has exited; its handle is still held.
            let mut ids = Vec::new();
            for _ in 0..100 {
                let handle = smp_rt::spawn(async { task::id() });
                ids.push(handle.await.unwrap());
            }
            assert!(!ids.contains(&id), "{id} was reused while a handle held it");
            assert_eq!(finished.id(), id);
            finished.await.unwrap();
        })
        .await
        .unwrap();
    });
}

#[test]
fn ten_thousand_tasks_all_run() {
    let counter = Arc::new(AtomicUsize::new(0));
    rt().block_on(async {
        let handles: Vec<_> = (0..10_000)
            .map(|_| {
                let counter = counter.clone();
                smp_rt::spawn(async move {
                    counter.fetch_add(1, Ordering::Relaxed);
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    assert_eq!(counter.load(Ordering::Relaxed), 10_000);
}

#[test]
fn dropping_the_join_handle_detaches_the_task() {
    rt().block_on(async {
        let (tx, rx) = oneshot::channel();
        let handle = smp_rt::spawn(async move {
            task::yield_now().await;
            tx.send("still ran").unwrap();
        });
        drop(handle);
        assert_eq!(rx.await.unwrap(), "still ran");
    });
}

#[test]
fn abort_cancels_a_waiting_task_and_drops_its_future() {
    rt().block_on(async {
        let (signal, dropped) = drop_signal();
        let handle = smp_rt::spawn(async move {
            let _signal = signal;
            std::future::pending::<()>().await;
        });
        task::yield_now().await;
        handle.abort();
        let err = handle.await.unwrap_err();
        assert!(err.is_cancelled());
        assert!(!err.is_panic());
        dropped.await.expect("the future was dropped");
    });
}

#[test]
fn abort_before_the_first_poll_and_after_completion() {
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let ran = Arc::new(AtomicUsize::new(0));
        let r = ran.clone();
        let handle = smp_rt::spawn(async move {
            r.fetch_add(1, Ordering::SeqCst);
        });
        handle.abort(); // still queued: it must never run
        assert!(handle.await.unwrap_err().is_cancelled());
        assert_eq!(ran.load(Ordering::SeqCst), 0);

        let done = smp_rt::spawn(async { 5 });
        task::yield_now().await;
        assert!(done.is_finished());
        done.abort(); // too late: no effect
        assert_eq!(done.await.unwrap(), 5);
    });
}

#[test]
fn abort_during_the_first_poll_cancels_the_task_once_it_waits() {
    // The abort lands while the task runs its first poll, before it has
    // waited on anything (so before the runtime's registry knows it): the
    // task must still be woken and cancelled once it waits.
    let rt = rt();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (signal, dropped) = drop_signal();
    let handle = rt.spawn(async move {
        let _signal = signal;
        started_tx.send(()).unwrap();
        // Blocks this worker until the abort was made.
        go_rx.recv().unwrap();
        std::future::pending::<()>().await;
    });
    started_rx.recv().unwrap();
    handle.abort_handle().abort();
    go_tx.send(()).unwrap();
    rt.block_on(async {
        assert!(handle.await.unwrap_err().is_cancelled());
        dropped.await.expect("the future was dropped");
    });
}

#[test]
fn abort_handle_cancels_without_owning_the_output() {
    rt().block_on(async {
        let handle = smp_rt::spawn(std::future::pending::<u8>());
        let abort = handle.abort_handle();
        assert_eq!(abort.id(), handle.id());
        assert!(!abort.is_finished());
        std::thread::spawn(move || abort.abort()).join().unwrap();
        assert!(handle.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn a_cloned_abort_handle_outlives_the_original_and_aborts_the_task() {
    rt().block_on(async {
        let handle = smp_rt::spawn(std::future::pending::<u8>());
        let original = handle.abort_handle();
        let clone = original.clone();
        drop(original);
        assert_eq!(clone.id(), handle.id());
        std::thread::spawn(move || clone.abort()).join().unwrap();
        assert!(handle.await.unwrap_err().is_cancelled());
        // A clone of a finished task's handle says so.
        let done = smp_rt::spawn(async {});
        let abort = done.abort_handle();
        done.await.unwrap();
        assert!(abort.clone().is_finished());
    });
}

#[test]
fn a_panic_is_returned_through_the_join_handle_and_the_worker_goes_on() {
    // One worker: if the panic took it down, nothing after would run.
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let n = std::hint::black_box(42);
        let err = smp_rt::spawn(async move { panic!("boom {n}") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert!(err.to_string().contains("boom 42"), "{err}");
        let payload = err.into_panic();
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "boom 42");
        for i in 0..10 {
            assert_eq!(smp_rt::spawn(async move { i }).await.unwrap(), i);
        }
    });
    let m = rt.metrics();
    assert_eq!(m.num_workers(), 1);
}

#[test]
fn a_panic_after_an_await_is_caught_too() {
    rt().block_on(async {
        let err = smp_rt::spawn(async {
            task::yield_now().await;
            let v: Vec<u8> = Vec::new();
            v[3]
        })
        .await
        .unwrap_err();
        assert!(err.is_panic());
        let again = smp_rt::spawn(async { "fine" }).await;
        assert_eq!(again.unwrap(), "fine");
    });
}

/// Panics in its poll while it holds a std lock's guard; its `Drop` records
/// `std::thread::panicking()`.
struct PanicsHoldingAGuard {
    _guard: std::sync::MutexGuard<'static, ()>,
    drops: Arc<std::sync::Mutex<Vec<bool>>>,
}

// SAFETY: a `MutexGuard` must be released by the thread that took it. The
// test's runtime is current-thread: the task is made, polled and dropped on
// the thread inside `block_on`.
unsafe impl Send for PanicsHoldingAGuard {}

impl std::future::Future for PanicsHoldingAGuard {
    type Output = ();

    fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        panic!("a poll that panics");
    }
}

impl Drop for PanicsHoldingAGuard {
    fn drop(&mut self) {
        self.drops.lock().unwrap().push(std::thread::panicking());
    }
}

#[test]
fn a_task_that_panics_has_its_future_dropped_while_the_panic_unwinds() {
    let rt = Builder::new_current_thread().build().unwrap();
    let lock: &'static std::sync::Mutex<()> = Box::leak(Box::default());
    let drops = Arc::new(std::sync::Mutex::new(Vec::new()));
    rt.block_on(async {
        let future = PanicsHoldingAGuard {
            _guard: lock.lock().unwrap(),
            drops: drops.clone(),
        };
        assert!(smp_rt::spawn(future).await.unwrap_err().is_panic());
    });
    assert_eq!(
        *drops.lock().unwrap(),
        [true],
        "the future was dropped once, while the panic unwound"
    );
    assert!(
        lock.is_poisoned(),
        "a lock held by a future that panicked is poisoned"
    );
}

/// A hand-written future whose destructor panics: `Ready(7)` at its first
/// poll, or never ready.
struct PanicsOnDrop {
    ready: bool,
}

impl std::future::Future for PanicsOnDrop {
    type Output = u32;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<u32> {
        if self.ready {
            std::task::Poll::Ready(7)
        } else {
            std::task::Poll::Pending
        }
    }
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("a destructor that panics");
    }
}

#[test]
fn a_future_whose_destructor_panics_after_completing_keeps_its_output_and_the_worker() {
    // One worker: if the destructor's panic took it down (or the process),
    // nothing after would run.
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let output = smp_rt::spawn(PanicsOnDrop { ready: true }).await;
        assert_eq!(
            output.unwrap(),
            7,
            "the output survives its future's destructor"
        );
        assert_eq!(smp_rt::spawn(async { 8 }).await.unwrap(), 8);
    });
}

#[test]
fn aborting_a_task_whose_destructor_panics_ends_it_with_that_panic_and_the_worker_goes_on() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let handle = smp_rt::spawn(PanicsOnDrop { ready: false });
        task::yield_now().await;
        handle.abort();
        // Dropping the future is the whole of the cancellation, and it
        // panicked: the outcome is that panic (as in tokio).
        assert!(handle.await.unwrap_err().is_panic());
        assert_eq!(smp_rt::spawn(async { 9 }).await.unwrap(), 9);
        assert_eq!(rt_alive_tasks(), 0, "the aborted task left the registry");
    });
}

fn rt_alive_tasks() -> usize {
    smp_rt::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[test]
fn join_error_into_panic_on_a_cancelled_task_explains_itself() {
    let rt = rt();
    let err = rt.block_on(async {
        let h = smp_rt::spawn(std::future::pending::<()>());
        h.abort();
        h.await.unwrap_err()
    });
    let io: std::io::Error = rt.block_on(async {
        let h = smp_rt::spawn(std::future::pending::<()>());
        h.abort();
        h.await.unwrap_err().into()
    });
    assert!(io.to_string().contains("cancelled"));
    let msg = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| err.into_panic()))
        .unwrap_err()
        .downcast::<String>()
        .map(|s| *s)
        .or_else(|p| p.downcast::<&str>().map(|s| s.to_string()))
        .unwrap();
    assert!(msg.contains("is_panic"), "{msg}");
}

#[test]
fn join_set_collects_results_in_completion_order() {
    rt().block_on(async {
        let mut set = JoinSet::new();
        for i in 0..100u64 {
            set.spawn(async move {
                task::yield_now().await;
                i
            });
        }
        assert_eq!(set.len(), 100);
        let mut seen = Vec::new();
        while let Some(r) = set.join_next().await {
            seen.push(r.unwrap());
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..100).collect::<Vec<_>>());
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
    });
}

#[test]
fn join_set_abort_all_and_drop() {
    rt().block_on(async {
        let mut set = JoinSet::new();
        for _ in 0..10 {
            set.spawn(std::future::pending::<()>());
        }
        set.abort_all();
        let mut cancelled = 0;
        while let Some(r) = set.join_next().await {
            assert!(r.unwrap_err().is_cancelled());
            cancelled += 1;
        }
        assert_eq!(cancelled, 10);

        let (signal, dropped) = drop_signal();
        let mut set = JoinSet::new();
        set.spawn(async move {
            let _signal = signal;
            std::future::pending::<()>().await
        });
        drop(set);
        dropped.await.expect("dropping a JoinSet aborts its tasks");
    });
}

#[test]
fn builder_names_and_prioritises_tasks() {
    rt().block_on(async {
        let handle = task::Builder::new()
            .name("conn")
            .priority(Priority::High)
            .spawn(async { (task::current_priority(), task::stats().priority) })
            .unwrap();
        assert_eq!(handle.await.unwrap(), (Priority::High, Priority::High));
    });
}

#[test]
fn named_tasks_show_in_the_metrics_while_they_live() {
    let rt = rt();
    let (tx, rx) = oneshot::channel::<()>();
    let (waiting, unnamed) = rt.block_on(async {
        let waiting = task::Builder::new()
            .name("waits")
            .spawn(async move {
                let _ = rx.await;
            })
            .unwrap();
        let done = task::Builder::new().name("done").spawn(async {}).unwrap();
        done.await.unwrap();
        (waiting, smp_rt::spawn(std::future::pending::<()>()))
    });
    let metrics = rt.metrics();
    assert_eq!(
        metrics.named_tasks(),
        vec![(waiting.id(), "waits".to_string())],
        "a completed task and an unnamed one are not listed"
    );
    tx.send(()).unwrap();
    rt.block_on(waiting).unwrap();
    assert_eq!(metrics.named_tasks(), vec![]);
    unnamed.abort();
}

#[test]
fn builder_outside_a_runtime_is_an_error() {
    let err = task::Builder::new().spawn(async {}).unwrap_err();
    assert!(err.to_string().contains("no smp_rt runtime"), "{err}");
}

#[test]
#[should_panic(expected = "no smp_rt runtime")]
fn spawn_outside_a_runtime_panics_with_a_reason() {
    drop(smp_rt::spawn(async {}));
}

#[test]
#[should_panic(expected = "outside a task")]
fn task_id_outside_a_task_panics_with_a_reason() {
    task::id();
}

#[test]
fn tasks_on_a_runtime_from_another_thread() {
    let rt = rt();
    let handle = rt.handle().clone();
    let out = std::thread::spawn(move || {
        let h = handle.spawn(async { 40 });
        futures::executor::block_on(h).unwrap() + 2
    })
    .join()
    .unwrap();
    assert_eq!(out, 42);
}

#[test]
fn stats_count_polls_and_reductions() {
    rt().block_on(async {
        smp_rt::spawn(async {
            let first = task::stats();
            assert_eq!(first.polls, 0);
            task::yield_now().await;
            task::yield_now().await;
            let s = task::stats();
            assert_eq!(s.polls, 2);
            assert!(s.reductions >= 2, "each poll charges one");
            assert_eq!(s.preemptions, 0);
        })
        .await
        .unwrap();
    });
}

#[smp_rt::test]
async fn join_set_try_join_next_returns_finished_tasks_without_waiting() {
    let mut set = JoinSet::new();
    assert!(set.try_join_next().is_none(), "empty set");

    let (tx, rx) = oneshot::channel::<()>();
    set.spawn(async move {
        let _ = rx.await;
        1
    });
    assert!(set.try_join_next().is_none(), "the task waits for tx");
    assert_eq!(set.len(), 1);
    tx.send(()).unwrap();
    let out = loop {
        if let Some(out) = set.try_join_next() {
            break out;
        }
        task::yield_now().await;
    };
    assert_eq!(out.unwrap(), 1);
    assert!(set.is_empty());
    assert!(set.try_join_next().is_none());
}

#[smp_rt::test]
async fn join_set_try_join_next_then_join_next_still_wakes() {
    let mut set = JoinSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    set.spawn(async move {
        let _ = rx.await;
        2
    });
    assert!(set.try_join_next().is_none());
    smp_rt::spawn(async move {
        task::yield_now().await;
        tx.send(()).unwrap();
    });
    assert_eq!(set.join_next().await.unwrap().unwrap(), 2);
}

#[smp_rt::test]
async fn join_set_join_all_returns_every_output() {
    let mut set = JoinSet::new();
    for i in 0..20u32 {
        set.spawn(async move {
            task::yield_now().await;
            i
        });
    }
    let mut out = set.join_all().await;
    out.sort_unstable();
    assert_eq!(out, (0..20).collect::<Vec<_>>());
}

#[smp_rt::test]
async fn join_set_join_all_resumes_a_task_panic() {
    let mut set = JoinSet::new();
    set.spawn(async { panic!("task boom") });
    set.spawn(std::future::pending());
    let caught = smp_rt::spawn(set.join_all()).await.unwrap_err();
    let payload = caught.into_panic();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"task boom"));
}

#[test]
fn join_set_spawn_on_and_spawn_blocking_on_a_handle() {
    let rt = rt();
    let mut set = JoinSet::new();
    // Outside the runtime: the handle says where.
    set.spawn_on(async { 1 }, rt.handle());
    set.spawn_blocking_on(|| 2, rt.handle());
    let mut out = rt.block_on(async move {
        set.spawn_blocking(|| 3);
        set.join_all().await
    });
    out.sort_unstable();
    assert_eq!(out, [1, 2, 3]);
}

#[smp_rt::test]
async fn join_set_extend_and_collect_spawn_each_future() {
    let mut set: JoinSet<u32> = (0..5).map(|i| async move { i }).collect();
    assert_eq!(set.len(), 5);
    set.extend((5..8).map(|i| async move { i }));
    assert_eq!(set.len(), 8);
    let mut out = set.join_all().await;
    out.sort_unstable();
    assert_eq!(out, (0..8).collect::<Vec<_>>());
}

#[smp_rt::test]
async fn join_set_shutdown_aborts_and_empties_the_set() {
    let (signal, dropped) = drop_signal();
    let mut set = JoinSet::new();
    set.spawn(async move {
        let _signal = signal;
        std::future::pending::<()>().await
    });
    set.spawn(async {});
    set.shutdown().await;
    assert!(set.is_empty());
    dropped
        .await
        .expect("shutdown drops the aborted task's future");
}

#[smp_rt::test]
async fn join_set_detach_all_lets_the_tasks_run_on() {
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let mut set = JoinSet::new();
    set.spawn(async move {
        let _ = go_rx.await;
        tx.send(7).unwrap();
    });
    set.detach_all();
    assert!(set.is_empty());
    drop(set);
    go_tx.send(()).unwrap();
    assert_eq!(rx.await, Ok(7));
}

#[smp_rt::test]
async fn join_set_poll_join_next() {
    let mut set = JoinSet::new();
    set.spawn(async { 4 });
    let out = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
    assert_eq!(out.unwrap().unwrap(), 4);
    let out = std::future::poll_fn(|cx| set.poll_join_next(cx)).await;
    assert!(out.is_none());
}

#[smp_rt::test]
async fn join_set_poll_join_next_with_id_pairs_outputs_with_ids() {
    let mut set = JoinSet::new();
    let first = set.spawn(async { "first" });
    let out = std::future::poll_fn(|cx| set.poll_join_next_with_id(cx)).await;
    assert_eq!(out.unwrap().unwrap(), (first.id(), "first"));
    let none = std::future::poll_fn(|cx| set.poll_join_next_with_id(cx)).await;
    assert!(none.is_none(), "an empty set is done");
}

#[smp_rt::test]
async fn join_set_join_next_with_id_names_the_task() {
    let mut set = JoinSet::new();
    let ok = set.spawn(async { 1 });
    let failed = set.spawn(std::future::pending());
    failed.abort();
    let mut seen = Vec::new();
    while let Some(out) = set.join_next_with_id().await {
        match out {
            Ok((id, value)) => seen.push((id, Ok(value))),
            Err(err) => {
                assert!(err.is_cancelled());
                seen.push((err.id(), Err(())));
            }
        }
    }
    seen.sort_by_key(|(_, out)| out.is_err());
    assert_eq!(seen, [(ok.id(), Ok(1)), (failed.id(), Err(()))]);

    let abort = set.spawn(async { 2 });
    let (id, value) = loop {
        if let Some(out) = set.try_join_next_with_id() {
            break out.unwrap();
        }
        task::yield_now().await;
    };
    assert_eq!((id, value), (abort.id(), 2));
}

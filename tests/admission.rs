//! Bounded admission: `max_queued_tasks`, `try_spawn` and its `QueueFull`
//! error, plain `spawn` at the limit, and the runtime-wide counts in
//! `RuntimeMetrics` (queued tasks, their high-water mark, cancellations).

use std::error::Error;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use smp_rt::runtime::{Builder, Handle, Runtime};
use smp_rt::sync::{mpsc, oneshot};
use smp_rt::task::{self, Priority, QueueFull};

fn runtime(limit: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .max_queued_tasks(limit)
        .build()
        .unwrap()
}

/// A task that waits until its sender is used or dropped.
fn waiting(handle: &Handle) -> (oneshot::Sender<()>, smp_rt::JoinHandle<()>) {
    let (tx, rx) = oneshot::channel::<()>();
    let task = handle.spawn(async move {
        let _ = rx.await;
    });
    (tx, task)
}

#[test]
fn try_spawn_refuses_at_the_limit_with_the_future_back_then_admits_again() {
    let rt = runtime(2);
    let handle = rt.handle();
    let (tx1, rx1) = oneshot::channel::<()>();
    let (tx2, rx2) = oneshot::channel::<()>();
    let first = handle
        .try_spawn(async move {
            let _ = rx1.await;
        })
        .unwrap();
    let _second = handle
        .try_spawn(async move {
            let _ = rx2.await;
        })
        .unwrap();
    assert_eq!(rt.metrics().queued_tasks(), 2, "waiting tasks are queued");

    let polled = Arc::new(AtomicUsize::new(0));
    let refused_future = {
        let polled = polled.clone();
        async move {
            polled.fetch_add(1, SeqCst);
            "third"
        }
    };
    let refused = handle.try_spawn(refused_future).unwrap_err();
    assert_eq!(refused.limit(), 2);
    assert_eq!(
        rt.metrics().queued_tasks(),
        2,
        "a refused task is not counted"
    );

    // One task finishes: its slot is free once its handle returned.
    tx1.send(()).unwrap();
    rt.block_on(first).unwrap();
    assert_eq!(rt.metrics().queued_tasks(), 1);
    assert_eq!(
        polled.load(SeqCst),
        0,
        "the refused future was never polled"
    );
    let third = handle.try_spawn(refused.into_inner()).unwrap();
    assert_eq!(rt.block_on(third).unwrap(), "third");
    assert_eq!(polled.load(SeqCst), 1);
    assert_eq!(rt.metrics().queued_tasks_high_water_mark(), 2);
    drop(tx2);
}

#[test]
fn try_spawn_inside_the_runtime_refuses_every_priority_at_the_limit() {
    let rt = runtime(1);
    rt.block_on(async {
        let (tx, rx) = oneshot::channel::<()>();
        let first = task::Builder::new()
            .name("first")
            .priority(Priority::Low)
            .try_spawn(async move {
                let _ = rx.await;
            })
            .unwrap();
        for priority in [
            Priority::Max,
            Priority::High,
            Priority::Normal,
            Priority::Low,
        ] {
            let refused = task::Builder::new()
                .priority(priority)
                .try_spawn(async {})
                .expect_err("the limit holds for every priority");
            drop(refused.into_inner());
        }
        assert!(Handle::current().try_spawn(async {}).is_err());
        tx.send(()).unwrap();
        first.await.unwrap();
        let admitted = task::Builder::new()
            .priority(Priority::Max)
            .try_spawn(async { task::current_priority() })
            .unwrap();
        assert_eq!(admitted.await.unwrap(), Priority::Max);
    });
}

#[test]
fn try_spawn_on_a_handle_from_another_thread() {
    let rt = Builder::new_current_thread()
        .max_queued_tasks(1)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let (tx, rx) = oneshot::channel::<()>();
    let waiting = std::thread::spawn(move || {
        let admitted = task::Builder::new()
            .try_spawn_on(
                async move {
                    let _ = rx.await;
                },
                &handle,
            )
            .unwrap();
        let refused = handle.try_spawn(async {}).is_err();
        (admitted, refused)
    });
    let (admitted, refused) = waiting.join().unwrap();
    assert!(refused, "the runtime was full");
    tx.send(()).unwrap();
    rt.block_on(admitted).unwrap();
}

/// A producer that spawns faster than its consumers run: it backs off on
/// `QueueFull` (yielding, and retrying the future it got back). The count
/// never passes the limit, nor do the consumer futures alive at once: the
/// memory the tasks hold is bounded.
#[test]
fn a_producer_faster_than_its_consumers_never_holds_more_than_the_limit() {
    const LIMIT: usize = 8;
    const TOTAL: usize = 400;
    let rt = runtime(LIMIT);
    // Consumers hold until the producer first meets a full runtime (or is
    // done), so the producer is surely the faster one.
    let gate = Arc::new(AtomicBool::new(false));
    let live = Arc::new(AtomicUsize::new(0));
    let most_live = Arc::new(AtomicUsize::new(0));
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<()>();

    struct Live(Arc<AtomicUsize>);
    impl Drop for Live {
        fn drop(&mut self) {
            self.0.fetch_sub(1, SeqCst);
        }
    }

    let consumer = |gate: Arc<AtomicBool>, done_tx: mpsc::UnboundedSender<()>| {
        let now = live.fetch_add(1, SeqCst) + 1;
        most_live.fetch_max(now, SeqCst);
        let live = Live(live.clone());
        async move {
            let _live = live;
            while !gate.load(SeqCst) {
                task::yield_now().await;
            }
            for _ in 0..4 {
                task::yield_now().await;
            }
            done_tx.send(()).unwrap();
        }
    };

    let refusals = rt.block_on(async {
        let handle = Handle::current();
        let metrics = handle.metrics();
        let mut refusals = 0;
        for _ in 0..TOTAL {
            let mut work = consumer(gate.clone(), done_tx.clone());
            loop {
                match handle.try_spawn(work) {
                    Ok(task) => {
                        // Detached: a kept handle would keep the task's memory.
                        drop(task);
                        break;
                    }
                    Err(full) => {
                        refusals += 1;
                        gate.store(true, SeqCst);
                        work = full.into_inner();
                        task::yield_now().await;
                    }
                }
            }
            assert!(metrics.queued_tasks() <= LIMIT);
        }
        gate.store(true, SeqCst);
        for _ in 0..TOTAL {
            done_rx.recv().await.unwrap();
        }
        refusals
    });

    assert!(refusals > 0, "the producer met a full runtime");
    let metrics = rt.metrics();
    assert_eq!(metrics.queued_tasks_high_water_mark(), LIMIT);
    assert!(
        most_live.load(SeqCst) <= LIMIT + 1,
        "{} consumer futures alive at once: at most the limit plus the one the producer holds",
        most_live.load(SeqCst)
    );
    assert_eq!(metrics.spawned_tasks_count(), TOTAL as u64);
}

#[test]
fn plain_spawn_at_the_limit_admits_past_it_and_try_spawn_waits_until_below() {
    let rt = runtime(1);
    let handle = rt.handle();
    let (tx_a, rx_a) = oneshot::channel::<()>();
    let a = handle
        .try_spawn(async move {
            let _ = rx_a.await;
        })
        .unwrap();
    // At the limit, plain spawn never fails: the task is admitted and runs.
    let (tx_b, b) = waiting(handle);
    assert_eq!(rt.metrics().queued_tasks(), 2);
    assert_eq!(rt.metrics().queued_tasks_high_water_mark(), 2);
    assert!(handle.try_spawn(async {}).is_err());

    // One below where it was, but still at the limit.
    tx_b.send(()).unwrap();
    rt.block_on(b).unwrap();
    assert_eq!(rt.metrics().queued_tasks(), 1);
    assert!(handle.try_spawn(async {}).is_err());

    tx_a.send(()).unwrap();
    rt.block_on(a).unwrap();
    assert_eq!(rt.metrics().queued_tasks(), 0);
    rt.block_on(handle.try_spawn(async {}).unwrap()).unwrap();
}

#[test]
fn max_queued_tasks_zero_panics_saying_why() {
    let payload = std::panic::catch_unwind(|| {
        Builder::new_multi_thread().max_queued_tasks(0);
    })
    .unwrap_err();
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        message.contains("max_queued_tasks must be at least 1"),
        "{message}"
    );
}

#[test]
fn queue_full_is_an_error_whatever_the_future() {
    let rt = runtime(1);
    let (_tx, _waiting) = waiting(rt.handle());
    // An async block is not `Debug`; the error is, and is an `Error`.
    let full: QueueFull<_> = rt.handle().try_spawn(async { 7 }).unwrap_err();
    assert_eq!(format!("{full:?}"), "QueueFull { limit: 1, .. }");
    assert!(full.to_string().contains("max_queued_tasks"), "{full}");
    let err: Box<dyn Error + Send> = Box::new(full);
    assert!(err.source().is_none());
}

#[test]
fn without_a_limit_try_spawn_always_admits_and_the_count_is_kept() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    assert_eq!(rt.metrics().max_queued_tasks(), None);
    let waiting: Vec<_> = (0..50).map(|_| waiting(rt.handle())).collect();
    for _ in 0..50 {
        rt.block_on(rt.handle().try_spawn(async {}).unwrap())
            .unwrap();
    }
    assert_eq!(rt.metrics().queued_tasks(), 50);
    assert!(rt.metrics().queued_tasks_high_water_mark() >= 50);
    for (tx, task) in waiting {
        tx.send(()).unwrap();
        rt.block_on(task).unwrap();
    }
    assert_eq!(rt.metrics().queued_tasks(), 0);
}

#[test]
fn cancelled_tasks_count_counts_aborted_tasks_only() {
    let rt = runtime(100);
    assert_eq!(rt.metrics().max_queued_tasks(), Some(100));
    let handle = rt.handle();
    let (_tx1, by_join_handle) = waiting(handle);
    let (_tx2, by_abort_handle) = waiting(handle);
    let (tx3, completes) = waiting(handle);
    by_join_handle.abort();
    by_abort_handle.abort_handle().abort();
    assert!(rt.block_on(by_join_handle).unwrap_err().is_cancelled());
    assert!(rt.block_on(by_abort_handle).unwrap_err().is_cancelled());
    tx3.send(()).unwrap();
    rt.block_on(completes).unwrap();
    let panics = handle.spawn(async { panic!("a task that panics is not cancelled") });
    assert!(rt.block_on(panics).unwrap_err().is_panic());
    rt.block_on(async {
        let mut set = task::JoinSet::new();
        set.spawn(std::future::pending::<()>());
        set.abort_all();
        assert!(set.join_next().await.unwrap().unwrap_err().is_cancelled());
    });
    assert_eq!(rt.metrics().cancelled_tasks_count(), 3);
    assert_eq!(
        rt.metrics().queued_tasks(),
        0,
        "cancelled tasks free their slots"
    );
}

#[test]
fn try_spawn_after_shutdown_gives_a_cancelled_handle_as_spawn_does() {
    let rt = runtime(1);
    let handle = rt.handle().clone();
    // Full when the runtime goes, and the task it drops is not subtracted.
    let (_tx, _waiting) = waiting(&handle);
    assert!(handle.try_spawn(async {}).is_err());
    drop(rt);
    let late = handle
        .try_spawn(async { "never runs" })
        .expect("a shut-down runtime hands out cancelled tasks");
    let result = futures::executor::block_on(late);
    assert!(result.unwrap_err().is_cancelled());
    assert_eq!(handle.metrics().queued_tasks(), 0);
}

#[test]
fn without_a_limit_queued_tasks_is_exact_for_spawns_inside_and_outside_the_workers() {
    const EACH: usize = 40;
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let metrics = rt.metrics();
    // Spawned from this thread, outside any worker.
    let mut senders = Vec::new();
    let mut tasks: Vec<_> = (0..EACH)
        .map(|_| {
            let (tx, task) = waiting(rt.handle());
            senders.push(tx);
            task
        })
        .collect();
    assert_eq!(metrics.queued_tasks(), EACH);
    // Spawned by a task on a worker.
    let (inside_senders, inside_tasks) = rt
        .block_on(rt.handle().spawn(async {
            let handle = Handle::current();
            (0..EACH)
                .map(|_| waiting(&handle))
                .unzip::<_, _, Vec<_>, Vec<_>>()
        }))
        .unwrap();
    senders.extend(inside_senders);
    tasks.extend(inside_tasks);
    assert_eq!(metrics.queued_tasks(), 2 * EACH);
    assert_eq!(metrics.num_alive_tasks(), 2 * EACH);
    // Half finish on the workers.
    for (tx, task) in senders.drain(..EACH).zip(tasks.drain(..EACH)) {
        tx.send(()).unwrap();
        rt.block_on(task).unwrap();
    }
    assert_eq!(metrics.queued_tasks(), EACH);
    // The rest are aborted: they finish cancelled, and are counted so.
    for task in &tasks {
        task.abort();
    }
    for task in tasks {
        assert!(rt.block_on(task).unwrap_err().is_cancelled());
    }
    assert_eq!(metrics.queued_tasks(), 0);
    assert_eq!(metrics.cancelled_tasks_count(), EACH as u64);
    assert_eq!(metrics.queued_tasks_high_water_mark(), 2 * EACH);
    drop(senders);
}

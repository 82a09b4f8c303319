//! `task::block_in_place`, written like tokio's block_in_place tests.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc as std_mpsc;
use std::thread;
use std::time::Duration;

use smp_rt::runtime::{self, Runtime};
use smp_rt::task;

fn one_worker() -> Runtime {
    runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

/// The point of block_in_place: with one worker, a task blocked in it (on a
/// std channel) does not stop another task of the runtime from running and
/// sending to it.
#[test]
fn a_blocked_task_does_not_stop_the_worker() {
    let rt = one_worker();
    let out = rt.block_on(async {
        let (tx, rx) = std_mpsc::channel::<u32>();
        let (started_tx, started_rx) = smp_rt::sync::oneshot::channel::<()>();
        let blocked = smp_rt::spawn(async move {
            task::block_in_place(move || {
                started_tx.send(()).unwrap();
                rx.recv().unwrap()
            })
        });
        // Runs on the same (only) worker, while the task above blocks.
        let sender = smp_rt::spawn(async move {
            started_rx.await.unwrap();
            tx.send(42).unwrap();
        });
        sender.await.unwrap();
        blocked.await.unwrap()
    });
    assert_eq!(out, 42);
}

/// The same with both tasks spawned first and the blocked one polled
/// first on the worker.
#[test]
fn many_tasks_run_while_one_blocks() {
    let rt = one_worker();
    rt.block_on(async {
        let (tx, rx) = std_mpsc::channel::<usize>();
        let blocked = smp_rt::spawn(async move {
            task::block_in_place(move || (0..10).map(|_| rx.recv().unwrap()).sum::<usize>())
        });
        let mut senders = Vec::new();
        for i in 0..10 {
            let tx = tx.clone();
            senders.push(smp_rt::spawn(async move {
                task::yield_now().await;
                tx.send(i).unwrap();
            }));
        }
        for s in senders {
            s.await.unwrap();
        }
        assert_eq!(blocked.await.unwrap(), 45);
    });
}

#[test]
fn basic_blocking() {
    let rt = one_worker();
    let out = rt.block_on(async {
        smp_rt::spawn(async {
            let borrowed = String::from("hello");
            task::block_in_place(|| {
                thread::sleep(Duration::from_millis(5));
                borrowed.len()
            })
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 5);
}

#[test]
fn the_task_keeps_running_after_block_in_place() {
    let rt = one_worker();
    let out = rt.block_on(async {
        smp_rt::spawn(async {
            let id = task::id();
            let a = task::block_in_place(|| 1);
            task::yield_now().await;
            let b = task::block_in_place(|| 2);
            assert_eq!(task::id(), id);
            // The worker is back: spawning and awaiting works as before.
            let c = smp_rt::spawn(async { 3 }).await.unwrap();
            a + b + c
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 6);
}

#[test]
fn block_in_block() {
    let rt = runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let out = rt.block_on(async {
        smp_rt::spawn(async { task::block_in_place(|| task::block_in_place(|| "hello")) })
            .await
            .unwrap()
    });
    assert_eq!(out, "hello");
}

#[test]
fn block_in_blocking() {
    let rt = one_worker();
    let out = rt.block_on(async {
        task::spawn_blocking(|| task::block_in_place(|| 7))
            .await
            .unwrap()
    });
    assert_eq!(out, 7);
}

#[test]
fn yes_block_in_threaded_block_on() {
    let rt = one_worker();
    rt.block_on(async {
        task::block_in_place(|| {});
    });
}

#[test]
fn outside_a_runtime_it_just_runs() {
    assert_eq!(task::block_in_place(|| 3), 3);
}

#[test]
#[should_panic(expected = "can call blocking only when running on the multi-threaded runtime")]
fn no_block_in_current_thread_block_on() {
    let rt = runtime::Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        task::block_in_place(|| {});
    });
}

#[test]
fn no_block_in_current_thread_scheduler() {
    let rt = runtime::Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(async {
        smp_rt::spawn(async {
            task::block_in_place(|| {});
        })
        .await
        .unwrap_err()
    });
    assert!(err.is_panic());
    let payload = err.into_panic();
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or("");
    assert!(
        message.contains("can call blocking only when running on the multi-threaded runtime"),
        "{message}"
    );
}

#[test]
fn can_enter_current_thread_rt_from_within_block_in_place() {
    let outer = one_worker();
    outer.block_on(async {
        smp_rt::spawn(async {
            task::block_in_place(|| {
                let inner = runtime::Builder::new_current_thread().build().unwrap();
                inner.block_on(async { smp_rt::spawn(async { 1 }).await.unwrap() })
            })
        })
        .await
        .unwrap()
    });
}

/// A panic in `f` unwinds through the task (caught into its JoinError)
/// only after the worker is back: the runtime goes on.
#[test]
fn a_panic_in_f_leaves_the_runtime_working() {
    let rt = one_worker();
    rt.block_on(async {
        let err = smp_rt::spawn(async {
            task::block_in_place(|| panic!("blocked and panicked"));
        })
        .await
        .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(smp_rt::spawn(async { 5 }).await.unwrap(), 5);
        let (tx, rx) = std_mpsc::channel::<u8>();
        let blocked =
            smp_rt::spawn(async move { task::block_in_place(move || rx.recv().unwrap()) });
        smp_rt::spawn(async move { tx.send(9).unwrap() })
            .await
            .unwrap();
        assert_eq!(blocked.await.unwrap(), 9);
    });
    let caught = catch_unwind(AssertUnwindSafe(|| {
        task::block_in_place(|| panic!("outside"));
    }));
    assert!(caught.is_err());
}

/// Dropping the runtime while a task blocks in block_in_place waits for
/// it (as for any poll) and drops the rest.
#[test]
fn shutdown_while_blocked() {
    let rt = one_worker();
    let (tx, rx) = std_mpsc::channel::<()>();
    let (started_tx, started_rx) = std_mpsc::channel::<()>();
    rt.spawn(async move {
        task::block_in_place(move || {
            started_tx.send(()).unwrap();
            rx.recv().unwrap();
        });
    });
    started_rx.recv().unwrap();
    let unblock = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        tx.send(()).unwrap();
    });
    drop(rt);
    unblock.join().unwrap();
}

/// Inside `f`, the task's slice does not apply: a budgeted future driven
/// there by another executor completes however many reductions it charges
/// (tokio's `coop_disabled_in_block_in_place`).
#[test]
fn coop_disabled_in_block_in_place() {
    let rt = one_worker();
    let (tx, mut rx) = smp_rt::sync::mpsc::unbounded_channel::<u32>();
    for i in 0..5000 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let n = rt.block_on(async move {
        smp_rt::spawn(async move {
            task::block_in_place(move || {
                futures::executor::block_on(async move {
                    let mut n = 0;
                    while rx.recv().await.is_some() {
                        n += 1;
                    }
                    n
                })
            })
        })
        .await
        .unwrap()
    });
    assert_eq!(n, 5000);
}

/// The common use: block on the runtime's own async code from `f`; with
/// one worker, the spawned task runs on the thread the worker was lent to.
#[test]
fn block_on_the_runtime_inside_block_in_place() {
    let rt = one_worker();
    let out = rt.block_on(async {
        smp_rt::spawn(async {
            task::block_in_place(|| {
                smp_rt::runtime::Handle::current()
                    .block_on(async { smp_rt::spawn(async { 21 }).await.unwrap() * 2 })
            })
        })
        .await
        .unwrap()
    });
    assert_eq!(out, 42);
}

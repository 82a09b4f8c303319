//! `task::LocalSet` and `task::spawn_local`, written like tokio's
//! `task_local_set` tests.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use smp_rt::runtime::{self, Runtime};
use smp_rt::sync::{mpsc, oneshot};
use smp_rt::task::{self, JoinSet, LocalSet};

fn rt() -> Runtime {
    runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[smp_rt::test(flavor = "current_thread")]
async fn local_current_thread_scheduler() {
    LocalSet::new()
        .run_until(async {
            task::spawn_local(async {}).await.unwrap();
        })
        .await;
}

#[smp_rt::test(flavor = "multi_thread")]
async fn local_threadpool() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            task::spawn_local(async {
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
            })
            .await
            .unwrap();
        })
        .await;
}

#[smp_rt::test(flavor = "multi_thread")]
async fn localset_future_threadpool() {
    thread_local! {
        static ON_LOCAL_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_LOCAL_THREAD.with(|cell| cell.set(true));

    let local = LocalSet::new();
    local.spawn_local(async move {
        assert!(ON_LOCAL_THREAD.with(|cell| cell.get()));
    });
    local.await;
}

#[smp_rt::test(flavor = "current_thread")]
async fn local_set_future_completes_when_all_tasks_finished() {
    let local = LocalSet::new();
    let (tx, rx) = oneshot::channel::<u32>();
    let got = Rc::new(Cell::new(0));
    let got2 = got.clone();
    local.spawn_local(async move {
        got2.set(rx.await.unwrap());
    });
    local.spawn_local(async move {
        task::yield_now().await;
        tx.send(9).unwrap();
    });
    local.await;
    assert_eq!(got.get(), 9);
}

#[test]
fn local_set_block_on_runs_non_send_tasks() {
    let rt = rt();
    let local = LocalSet::new();
    let rc = Rc::new(Cell::new(0));
    let rc2 = rc.clone();
    let out = local.block_on(&rt, async move {
        let h = task::spawn_local(async move {
            rc2.set(rc2.get() + 1);
            "done"
        });
        h.await.unwrap()
    });
    assert_eq!(out, "done");
    assert_eq!(rc.get(), 1);
}

#[test]
fn local_set_block_on_multi_thread_runtime() {
    let rt = runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let local = LocalSet::new();
    let out = local.block_on(&rt, async {
        let rc = Rc::new(3);
        let send = smp_rt::spawn(async { 4 }).await.unwrap();
        task::spawn_local(async move { *rc + send }).await.unwrap()
    });
    assert_eq!(out, 7);
}

#[test]
fn tasks_left_after_run_until_run_on_the_next_poll() {
    let rt = rt();
    let local = LocalSet::new();
    let (tx, rx) = std::sync::mpsc::channel();
    local.block_on(&rt, async move {
        task::spawn_local(async move {
            task::yield_now().await;
            tx.send(()).unwrap();
        });
    });
    assert!(
        rx.try_recv().is_err(),
        "the task has not run to its end yet"
    );
    local.block_on(&rt, async {
        task::yield_now().await;
        task::yield_now().await;
    });
    rx.try_recv().expect("the task ran in the second run_until");
}

#[test]
fn spawn_local_from_enter_runs_when_polled() {
    let rt = rt();
    let local = LocalSet::new();
    let handle = {
        let _guard = local.enter();
        task::spawn_local(async { Rc::new(5) })
    };
    let out = local.block_on(&rt, handle).unwrap();
    assert_eq!(*out, 5);
}

#[test]
#[should_panic(
    expected = "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"
)]
fn spawn_local_outside_a_local_set_panics() {
    let rt = rt();
    rt.block_on(async {
        task::spawn_local(async {});
    });
}

#[smp_rt::test(flavor = "current_thread")]
async fn local_tasks_are_aborted() {
    LocalSet::new()
        .run_until(async {
            let dropped = Rc::new(Cell::new(false));
            struct SetOnDrop(Rc<Cell<bool>>);
            impl Drop for SetOnDrop {
                fn drop(&mut self) {
                    self.0.set(true);
                }
            }
            let guard = SetOnDrop(dropped.clone());
            let handle = task::spawn_local(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            task::yield_now().await;
            let abort = handle.abort_handle();
            abort.abort();
            let err = handle.await.unwrap_err();
            assert!(err.is_cancelled());
            assert!(dropped.get(), "the future was dropped by the abort");
        })
        .await;
}

#[smp_rt::test(flavor = "current_thread")]
async fn local_task_panic_is_a_join_error() {
    LocalSet::new()
        .run_until(async {
            let handle = task::spawn_local(async {
                let _rc = Rc::new(());
                panic!("local boom");
            });
            let id = handle.id();
            let err = handle.await.unwrap_err();
            assert!(err.is_panic());
            assert_eq!(err.id(), id);
            // The set survives: the next task runs.
            assert_eq!(task::spawn_local(async { 1 }).await.unwrap(), 1);
        })
        .await;
}

#[smp_rt::test(flavor = "current_thread")]
async fn local_tasks_have_ids() {
    LocalSet::new()
        .run_until(async {
            let handle = task::spawn_local(async { task::id() });
            let expected = handle.id();
            assert_eq!(handle.await.unwrap(), expected);
            // The future given to run_until is not a task of the set.
            assert_eq!(task::try_id(), None);
        })
        .await;
}

smp_rt::task_local! {
    static REQ: u32;
}

#[smp_rt::test(flavor = "current_thread")]
async fn task_local_works_in_local_tasks() {
    LocalSet::new()
        .run_until(async {
            let h = task::spawn_local(REQ.scope(11, async {
                task::yield_now().await;
                REQ.get()
            }));
            assert_eq!(h.await.unwrap(), 11);
            assert!(REQ.try_with(|_| ()).is_err());
        })
        .await;
}

#[test]
fn wake_from_another_thread_runs_the_task() {
    let rt = runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let local = LocalSet::new();
    let (tx, rx) = oneshot::channel::<u32>();
    let out = local.block_on(&rt, async move {
        let rc = Rc::new(2);
        let h = task::spawn_local(async move { rx.await.unwrap() * *rc });
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            tx.send(21).unwrap();
        });
        h.await.unwrap()
    });
    assert_eq!(out, 42);
}

#[test]
fn wake_from_another_thread_wakes_an_awaited_local_set() {
    let rt = rt();
    let (tx, rx) = oneshot::channel::<u32>();
    let got = Rc::new(Cell::new(0));
    let local = LocalSet::new();
    let got2 = got.clone();
    local.spawn_local(async move { got2.set(rx.await.unwrap()) });
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(10));
        tx.send(5).unwrap();
    });
    rt.block_on(local);
    sender.join().unwrap();
    assert_eq!(got.get(), 5);
}

#[test]
fn drop_drops_tasks_with_the_set_entered() {
    let rt = rt();
    let local = LocalSet::new();
    let dropped = Rc::new(Cell::new(0));

    struct SpawnsOnDrop(Rc<Cell<u32>>);
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
            // The set is entered while its tasks drop: spawn_local works,
            // and the new task is cancelled unrun.
            let handle = task::spawn_local(async {});
            drop(handle);
        }
    }
    for _ in 0..3 {
        let guard = SpawnsOnDrop(dropped.clone());
        local.spawn_local(async move {
            let _guard = guard;
            std::future::pending::<()>().await;
        });
    }
    local.block_on(&rt, task::yield_now());
    assert_eq!(dropped.get(), 0);
    drop(local);
    assert_eq!(dropped.get(), 3);
}

#[test]
fn drop_waits_for_a_task_woken_on_another_thread() {
    let local = LocalSet::new();
    let (tx, rx) = oneshot::channel::<()>();
    let drops = Rc::new(Cell::new(0));
    struct Count(Rc<Cell<u32>>);
    impl Drop for Count {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    let count = Count(drops.clone());
    local.spawn_local(async move {
        let _count = count;
        let _ = rx.await;
    });
    let rt = rt();
    local.block_on(&rt, task::yield_now());
    let waker = std::thread::spawn(move || {
        // Before or during the drop; after it, the receiver is gone.
        let _ = tx.send(());
    });
    drop(local);
    waker.join().unwrap();
    assert_eq!(drops.get(), 1);
}

#[smp_rt::test(flavor = "current_thread")]
async fn join_set_spawn_local() {
    let local = LocalSet::new();
    local
        .run_until(async {
            let mut set = JoinSet::new();
            for i in 0..5u32 {
                let rc = Rc::new(i);
                set.spawn_local(async move { *rc });
            }
            let mut sum = 0;
            while let Some(out) = set.join_next().await {
                sum += out.unwrap();
            }
            assert_eq!(sum, 10);
        })
        .await;
}

#[smp_rt::test(flavor = "current_thread")]
async fn join_set_spawn_local_on() {
    let local = LocalSet::new();
    let mut set = JoinSet::new();
    set.spawn_local_on(async { Rc::new(8) }, &local);
    let out = local.run_until(set.join_next()).await.unwrap().unwrap();
    assert_eq!(*out, 8);
}

/// A local task that never awaits anything but charging points does not
/// keep a Send task on the same worker from running: the set yields when
/// its poller's reductions are spent.
#[test]
fn a_busy_local_set_does_not_starve_the_worker() {
    let rt = runtime::Builder::new_current_thread()
        .reductions(100)
        .build()
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let spins = Arc::new(AtomicUsize::new(0));
    let local = LocalSet::new();
    {
        let stop = stop.clone();
        let spins = spins.clone();
        local.spawn_local(async move {
            while !stop.load(SeqCst) {
                spins.fetch_add(1, SeqCst);
                task::consume_budget().await;
            }
        });
    }
    rt.block_on(async {
        let (tx, mut rx) = mpsc::channel::<()>(1);
        let stop2 = stop.clone();
        // A Send task on the same (only) worker stops the local loop.
        smp_rt::spawn(async move {
            stop2.store(true, SeqCst);
            tx.send(()).await.unwrap();
        });
        local.run_until(async { rx.recv().await.unwrap() }).await;
    });
    assert!(stop.load(SeqCst));
    assert!(spins.load(SeqCst) > 0);
}

#[test]
fn local_set_counts_a_preemption_when_it_yields() {
    let rt = runtime::Builder::new_current_thread()
        .reductions(100)
        .build()
        .unwrap();
    let local = LocalSet::new();
    rt.block_on(async move {
        let outer = smp_rt::spawn(async {}); // keeps the worker busy once
        let (preemptions, polls) = {
            let local_handle = local.spawn_local(async {
                for _ in 0..500 {
                    task::consume_budget().await;
                }
                task::stats()
            });
            let stats = local.run_until(local_handle).await.unwrap();
            (stats.preemptions, stats.polls)
        };
        outer.await.unwrap();
        assert!(
            preemptions >= 1,
            "the local task was preempted by its budget"
        );
        assert!(polls >= 2);
    });
}

fn local_rt() -> runtime::LocalRuntime {
    runtime::Builder::new_current_thread()
        .enable_all()
        .build_local(runtime::LocalOptions::default())
        .unwrap()
}

#[test]
fn local_runtime_spawn_local_works_anywhere_inside_block_on() {
    let rt = local_rt();
    let out = rt.block_on(async {
        let rc = Rc::new(1);
        // From the future.
        let a = task::spawn_local(async move { *rc }).await.unwrap();
        // From a local task.
        let b = task::spawn_local(async { task::spawn_local(async { 2 }).await.unwrap() })
            .await
            .unwrap();
        // From a Send task of the same runtime.
        let c = smp_rt::spawn(async { task::spawn_local(async { 3 }).await.unwrap() })
            .await
            .unwrap();
        a + b + c
    });
    assert_eq!(out, 6);
}

#[test]
fn local_runtime_spawns_send_tasks_and_has_a_handle() {
    let rt = local_rt();
    let h = rt.spawn(async { 5 });
    let from_handle = rt.handle().spawn(async { 6 });
    let out = rt.block_on(async { h.await.unwrap() + from_handle.await.unwrap() });
    assert_eq!(out, 11);
}

#[test]
fn local_runtime_spawn_local_before_block_on() {
    let rt = local_rt();
    let rc = Rc::new(Cell::new(0));
    let rc2 = rc.clone();
    let h = rt.spawn_local(async move { rc2.set(7) });
    rt.block_on(h).unwrap();
    assert_eq!(rc.get(), 7);
}

#[test]
fn local_runtime_enter_allows_spawn_local() {
    let rt = local_rt();
    let h = {
        let _guard = rt.enter();
        let send = smp_rt::spawn(async { 1 });
        let local = task::spawn_local(async { Rc::new(2) });
        (send, local)
    };
    let (send, local) = rt.block_on(async { (h.0.await.unwrap(), h.1.await.unwrap()) });
    assert_eq!(send + *local, 3);
}

#[test]
fn build_local_needs_a_current_thread_builder() {
    let err = runtime::Builder::new_multi_thread()
        .build_local(runtime::LocalOptions::default())
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("new_current_thread"), "{err}");
}

#[test]
fn local_runtime_drop_drops_local_tasks_with_the_runtime_entered() {
    let rt = local_rt();
    let dropped = Rc::new(Cell::new(false));
    struct SpawnsOnDrop(Rc<Cell<bool>>);
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            // Both spawns find their scheduler while the tasks drop.
            drop(smp_rt::spawn(async {}));
            drop(task::spawn_local(async {}));
            self.0.set(true);
        }
    }
    let guard = SpawnsOnDrop(dropped.clone());
    rt.spawn_local(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    rt.block_on(task::yield_now());
    drop(rt);
    assert!(dropped.get());
}

#[test]
fn local_runtime_shutdown_timeout_drops_local_tasks() {
    let rt = local_rt();
    let dropped = Rc::new(Cell::new(false));
    struct SetOnDrop(Rc<Cell<bool>>);
    impl Drop for SetOnDrop {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let guard = SetOnDrop(dropped.clone());
    rt.spawn_local(async move {
        let _guard = guard;
        std::future::pending::<()>().await;
    });
    rt.shutdown_timeout(Duration::from_millis(10));
    assert!(dropped.get());
}

#[smp_rt::test(flavor = "local")]
async fn local_flavor_test_runs_non_send_tasks() {
    let rc = Rc::new(Cell::new(1));
    let rc2 = rc.clone();
    task::spawn_local(async move { rc2.set(rc2.get() + 1) })
        .await
        .unwrap();
    assert_eq!(rc.get(), 2);
    assert_eq!(smp_rt::spawn(async { 3 }).await.unwrap(), 3);
}

#[smp_rt::test(flavor = "local", start_paused = true)]
async fn local_flavor_with_a_paused_clock() {
    let start = smp_rt::time::Instant::now();
    let h = task::spawn_local(async {
        smp_rt::time::sleep(Duration::from_secs(60)).await;
        Rc::new(())
    });
    h.await.unwrap();
    assert!(start.elapsed() >= Duration::from_secs(60));
}

// The tests below are tokio's own `task_local_set` tests, with smp_rt's paths.

#[smp_rt::test(flavor = "multi_thread")]
async fn localset_future_timers() {
    static RAN1: AtomicBool = AtomicBool::new(false);
    static RAN2: AtomicBool = AtomicBool::new(false);

    let local = LocalSet::new();
    local.spawn_local(async move {
        smp_rt::time::sleep(Duration::from_millis(5)).await;
        RAN1.store(true, SeqCst);
    });
    local.spawn_local(async move {
        smp_rt::time::sleep(Duration::from_millis(10)).await;
        RAN2.store(true, SeqCst);
    });
    local.await;
    assert!(RAN1.load(SeqCst));
    assert!(RAN2.load(SeqCst));
}

#[smp_rt::test]
async fn localset_future_drives_all_local_futs() {
    static RAN1: AtomicBool = AtomicBool::new(false);
    static RAN2: AtomicBool = AtomicBool::new(false);
    static RAN3: AtomicBool = AtomicBool::new(false);

    let local = LocalSet::new();
    local.spawn_local(async move {
        task::spawn_local(async {
            task::yield_now().await;
            RAN3.store(true, SeqCst);
        });
        task::yield_now().await;
        RAN1.store(true, SeqCst);
    });
    local.spawn_local(async move {
        task::yield_now().await;
        RAN2.store(true, SeqCst);
    });
    local.await;
    assert!(RAN1.load(SeqCst));
    assert!(RAN2.load(SeqCst));
    assert!(RAN3.load(SeqCst));
}

#[smp_rt::test(flavor = "multi_thread")]
async fn local_threadpool_timer() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            let join = task::spawn_local(async move {
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
                smp_rt::time::sleep(Duration::from_millis(10)).await;
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
            });
            join.await.unwrap();
        })
        .await;
}

#[test]
fn enter_guard_spawn() {
    let local = LocalSet::new();
    let _guard = local.enter();

    let join = task::spawn_local(async { true });
    let rt = rt();
    local.block_on(&rt, async move {
        assert!(join.await.unwrap());
    });
}

mod block_in_place_cases {
    use super::*;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    struct BlockInPlaceOnDrop;
    impl Future for BlockInPlaceOnDrop {
        type Output = ();

        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Self::Output> {
            Poll::Pending
        }
    }
    impl Drop for BlockInPlaceOnDrop {
        fn drop(&mut self) {
            smp_rt::task::block_in_place(|| {});
        }
    }

    async fn complete(jh: smp_rt::task::JoinHandle<()>) {
        match jh.await {
            Ok(()) => {}
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) if err.is_cancelled() => panic!("task cancelled"),
            Err(err) => panic!("{err:?}"),
        }
    }

    #[test]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    fn local_threadpool_blocking_in_place() {
        let rt = rt();
        LocalSet::new().block_on(&rt, async {
            let join = task::spawn_local(async move {
                task::block_in_place(|| {});
            });
            complete(join).await;
        });
    }

    #[smp_rt::test(flavor = "multi_thread")]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    async fn block_in_place_in_run_until_mt() {
        let local_set = LocalSet::new();
        local_set
            .run_until(async {
                smp_rt::task::block_in_place(|| {});
            })
            .await;
    }

    #[smp_rt::test(flavor = "multi_thread")]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    async fn block_in_place_in_spawn_local_mt() {
        let local_set = LocalSet::new();
        let jh = local_set.spawn_local(async {
            smp_rt::task::block_in_place(|| {});
        });
        local_set.await;
        complete(jh).await;
    }

    #[smp_rt::test(flavor = "multi_thread")]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    async fn block_in_place_in_spawn_local_drop_mt() {
        let local_set = LocalSet::new();
        let jh = local_set.spawn_local(BlockInPlaceOnDrop);
        local_set.run_until(smp_rt::task::yield_now()).await;
        drop(local_set);
        complete(jh).await;
    }

    #[smp_rt::test(flavor = "current_thread")]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    async fn block_in_place_in_run_until_ct() {
        let local_set = LocalSet::new();
        local_set
            .run_until(async {
                smp_rt::task::block_in_place(|| {});
            })
            .await;
    }

    #[smp_rt::test(flavor = "current_thread")]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    async fn block_in_place_in_spawn_local_ct() {
        let local_set = LocalSet::new();
        let jh = local_set.spawn_local(async {
            smp_rt::task::block_in_place(|| {});
        });
        local_set.await;
        complete(jh).await;
    }

    #[smp_rt::test(flavor = "current_thread")]
    #[should_panic = "can call blocking only when running on the multi-threaded runtime"]
    async fn block_in_place_in_spawn_local_drop_ct() {
        let local_set = LocalSet::new();
        let jh = local_set.spawn_local(BlockInPlaceOnDrop);
        local_set.run_until(smp_rt::task::yield_now()).await;
        drop(local_set);
        complete(jh).await;
    }
}

#[smp_rt::test(flavor = "multi_thread")]
async fn local_threadpool_blocking_run() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            let join = task::spawn_local(async move {
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
                task::spawn_blocking(|| {
                    assert!(
                        !ON_RT_THREAD.with(|cell| cell.get()),
                        "blocking must not run on the local task set's thread"
                    );
                })
                .await
                .unwrap();
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
            });
            join.await.unwrap();
        })
        .await;
}

#[smp_rt::test(flavor = "multi_thread")]
async fn all_spawns_are_local() {
    use futures::future;
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            let handles = (0..128)
                .map(|_| {
                    task::spawn_local(async {
                        assert!(ON_RT_THREAD.with(|cell| cell.get()));
                    })
                })
                .collect::<Vec<_>>();
            for joined in future::join_all(handles).await {
                joined.unwrap();
            }
        })
        .await;
}

#[smp_rt::test(flavor = "multi_thread")]
async fn nested_spawn_is_local() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    LocalSet::new()
        .run_until(async {
            assert!(ON_RT_THREAD.with(|cell| cell.get()));
            task::spawn_local(async {
                assert!(ON_RT_THREAD.with(|cell| cell.get()));
                task::spawn_local(async {
                    assert!(ON_RT_THREAD.with(|cell| cell.get()));
                    task::spawn_local(async {
                        assert!(ON_RT_THREAD.with(|cell| cell.get()));
                        task::spawn_local(async {
                            assert!(ON_RT_THREAD.with(|cell| cell.get()));
                        })
                        .await
                        .unwrap();
                    })
                    .await
                    .unwrap();
                })
                .await
                .unwrap();
            })
            .await
            .unwrap();
        })
        .await;
}

#[test]
fn join_local_future_elsewhere() {
    thread_local! {
        static ON_RT_THREAD: Cell<bool> = const { Cell::new(false) };
    }

    ON_RT_THREAD.with(|cell| cell.set(true));

    let rt = Runtime::new().unwrap();
    let local = LocalSet::new();
    local.block_on(&rt, async move {
        let (tx, rx) = oneshot::channel();
        let join = task::spawn_local(async move {
            assert!(
                ON_RT_THREAD.with(|cell| cell.get()),
                "local task must run on local thread, no matter where it is awaited"
            );
            rx.await.unwrap();

            "hello world"
        });
        let join2 = smp_rt::spawn(async move {
            assert!(
                !ON_RT_THREAD.with(|cell| cell.get()),
                "spawned task should be on a worker"
            );

            tx.send(()).expect("task shouldn't have ended yet");

            join.await.expect("task should complete successfully");
        });
        join2.await.unwrap()
    });
}

#[smp_rt::test(flavor = "multi_thread")]
async fn localset_in_thread_local() {
    thread_local! {
        static LOCAL_SET: LocalSet = LocalSet::new();
    }

    // holds runtime thread until end of main fn.
    let (_tx, rx) = oneshot::channel::<()>();
    let handle = smp_rt::runtime::Handle::current();

    std::thread::spawn(move || {
        LOCAL_SET.with(|local_set| {
            handle.block_on(local_set.run_until(async move {
                let _ = rx.await;
            }))
        });
    });
}

#[test]
fn drop_cancels_tasks() {
    let rt = rt();
    let rc1 = Rc::new(());
    let rc2 = rc1.clone();

    let (started_tx, started_rx) = oneshot::channel();

    let local = LocalSet::new();
    local.spawn_local(async move {
        let _rc2 = rc2;

        started_tx.send(()).unwrap();
        futures::future::pending::<()>().await;
    });

    local.block_on(&rt, async {
        started_rx.await.unwrap();
    });
    drop(local);
    drop(rt);

    assert_eq!(1, Rc::strong_count(&rc1));
}

#[test]
fn drop_cancels_remote_tasks() {
    let (tx, mut rx) = mpsc::channel::<()>(1024);

    let rt = rt();

    let local = LocalSet::new();
    local.spawn_local(async move { while rx.recv().await.is_some() {} });
    local.block_on(&rt, async {
        smp_rt::time::sleep(Duration::from_millis(1)).await;
    });

    drop(tx);

    drop(local);
}

#[test]
fn local_tasks_wake_join_all() {
    use futures::future::join_all;

    let rt = rt();
    let set = LocalSet::new();
    let mut handles = Vec::new();

    for _ in 1..=128 {
        handles.push(set.spawn_local(async move {
            task::spawn_local(async move {}).await.unwrap();
        }));
    }

    rt.block_on(set.run_until(join_all(handles)));
}

#[smp_rt::test]
async fn acquire_mutex_in_drop() {
    use futures::future::pending;

    let (tx1, rx1) = oneshot::channel::<()>();
    let (tx2, rx2) = oneshot::channel::<()>();
    let local = LocalSet::new();

    local.spawn_local(async move {
        let _ = rx2.await;
        unreachable!();
    });

    local.spawn_local(async move {
        let _ = rx1.await;
        tx2.send(()).unwrap();
        unreachable!();
    });

    local.spawn_local(async move {
        pending::<()>().await;
        tx1.send(()).unwrap();
    });

    local
        .run_until(async {
            task::yield_now().await;
        })
        .await;

    drop(local);
}

#[smp_rt::test]
async fn spawn_wakes_localset() {
    use futures::FutureExt;
    let local = LocalSet::new();
    futures::select! {
        _ = local.run_until(futures::future::pending::<()>()).fuse() => unreachable!(),
        ret = async { local.spawn_local(futures::future::ready(())).await.unwrap()}.fuse() => ret
    }
}

#[smp_rt::test]
async fn sleep_with_local_enter_guard() {
    let local = LocalSet::new();
    let _guard = local.enter();

    let (tx, rx) = oneshot::channel();

    local
        .run_until(async move {
            task::spawn_local(async move {
                smp_rt::time::sleep(Duration::ZERO).await;

                tx.send(()).expect("failed to send");
            });
            assert_eq!(rx.await, Ok(()));
        })
        .await;
}

#[test]
fn store_local_set_in_thread_local_with_runtime() {
    thread_local! {
        static CURRENT: RtAndLocalSet = RtAndLocalSet::new();
    }

    struct RtAndLocalSet {
        rt: Runtime,
        local: LocalSet,
    }

    impl RtAndLocalSet {
        fn new() -> RtAndLocalSet {
            RtAndLocalSet {
                rt: rt(),
                local: LocalSet::new(),
            }
        }

        async fn inner_method(&self) {
            self.local
                .run_until(async move {
                    task::spawn_local(async {});
                })
                .await
        }

        fn method(&self) {
            self.rt.block_on(self.inner_method());
        }
    }

    CURRENT.with(|f| {
        f.method();
    });
}

#[smp_rt::test(flavor = "current_thread")]
async fn builder_spawn_local_and_spawn_local_on() {
    let local = LocalSet::new();
    let on = task::Builder::new()
        .name("local-on")
        .priority(task::Priority::High)
        .spawn_local_on(async { (Rc::new(1), task::current_priority()) }, &local)
        .unwrap();
    let (rc, priority) = local
        .run_until(async {
            let inner = task::Builder::new()
                .name("inner")
                .spawn_local(async { Rc::new(2) })
                .unwrap();
            assert_eq!(*inner.await.unwrap(), 2);
            on.await.unwrap()
        })
        .await;
    assert_eq!(*rc, 1);
    assert_eq!(priority, task::Priority::High);
}

#[test]
#[should_panic(expected = "task::Builder::spawn_local needs the set")]
fn builder_spawn_local_outside_a_local_set_panics() {
    let _ = task::Builder::new().spawn_local(async {});
}

// tokio's `rt_local` tests, with smp_rt's paths.
mod rt_local {
    use smp_rt::runtime::LocalOptions;
    use smp_rt::task::LocalSet;
    use smp_rt::task::spawn_local;
    use std::panic;

    #[test]
    fn test_spawn_local_in_runtime() {
        let rt = rt();

        let res = rt.block_on(async move {
            let (tx, rx) = smp_rt::sync::oneshot::channel();

            spawn_local(async {
                smp_rt::task::yield_now().await;
                tx.send(5).unwrap();
            });

            rx.await.unwrap()
        });

        assert_eq!(res, 5);
    }

    #[test]
    fn test_spawn_from_handle() {
        let rt = rt();

        let (tx, rx) = smp_rt::sync::oneshot::channel();

        rt.handle().spawn(async {
            smp_rt::task::yield_now().await;
            tx.send(5).unwrap();
        });

        let res = rt.block_on(async move { rx.await.unwrap() });

        assert_eq!(res, 5);
    }

    #[test]
    fn test_spawn_local_on_runtime_object() {
        let rt = rt();

        let (tx, rx) = smp_rt::sync::oneshot::channel();

        rt.spawn_local(async {
            smp_rt::task::yield_now().await;
            tx.send(5).unwrap();
        });

        let res = rt.block_on(async move { rx.await.unwrap() });

        assert_eq!(res, 5);
    }

    #[test]
    fn test_spawn_local_from_guard() {
        let rt = rt();

        let (tx, rx) = smp_rt::sync::oneshot::channel();

        let _guard = rt.enter();

        spawn_local(async {
            smp_rt::task::yield_now().await;
            tx.send(5).unwrap();
        });

        let res = rt.block_on(async move { rx.await.unwrap() });

        assert_eq!(res, 5);
    }

    #[test]
    fn test_spawn_from_guard_other_thread() {
        let (tx, rx) = std::sync::mpsc::channel();

        std::thread::spawn(move || {
            let rt = rt();
            let handle = rt.handle().clone();

            tx.send(handle).unwrap();
        });

        let handle = rx.recv().unwrap();

        let _guard = handle.enter();

        smp_rt::spawn(async {});
    }

    #[test]
    #[should_panic = "Local tasks can only be spawned on a LocalRuntime from the thread the runtime was created on"]
    fn test_spawn_local_from_guard_other_thread() {
        let (tx, rx) = std::sync::mpsc::channel();

        std::thread::spawn(move || {
            let rt = rt();
            let handle = rt.handle().clone();

            tx.send(handle).unwrap();
        });

        let handle = rx.recv().unwrap();

        let _guard = handle.enter();

        spawn_local(async {});
    }

    #[test]
    #[should_panic = "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"]
    fn test_spawn_local_panic() {
        let rt = rt();
        let local = LocalSet::new();

        rt.block_on(local.run_until(async {
            let panic = std::thread::spawn(|| {
                let _jh = smp_rt::task::spawn_local(async {
                    println!("you will never see this line");
                });
            })
            .join()
            .unwrap_err();

            panic::resume_unwind(panic);
        }));
    }

    #[test]
    #[should_panic = "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"]
    fn test_spawn_local_in_current_thread_runtime() {
        let rt = smp_rt::runtime::Builder::new_current_thread()
            .build()
            .unwrap();

        rt.block_on(async move {
            spawn_local(async {});
        })
    }

    #[test]
    #[should_panic = "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"]
    fn test_spawn_local_in_multi_thread_runtime() {
        let rt = smp_rt::runtime::Builder::new_multi_thread()
            .build()
            .unwrap();

        rt.block_on(async move {
            spawn_local(async {});
        })
    }

    fn rt() -> smp_rt::runtime::LocalRuntime {
        smp_rt::runtime::Builder::new_current_thread()
            .enable_all()
            .build_local(LocalOptions::default())
            .unwrap()
    }
}

/// As tokio's: a `LocalRuntime` may cross `catch_unwind`.
#[test]
fn local_runtime_is_unwind_safe() {
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}
    unwind_safe::<runtime::LocalRuntime>();
    let rt = local_rt();
    let caught = std::panic::catch_unwind(|| rt.block_on(async { panic!("inside") }));
    assert!(caught.is_err());
    // The runtime goes on after a panic in block_on.
    assert_eq!(
        rt.block_on(async { task::spawn_local(async { 1 }).await.unwrap() }),
        1
    );
}

//! Behaviour of `sync::OnceCell` and `sync::SetOnce`, after tokio's
//! `sync_once_cell` and `sync_set_once` tests.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};

use futures::task::noop_waker;
use smp_rt::sync::{OnceCell, SetError, SetOnce, SetOnceError, oneshot};
use smp_rt::task;

mod common;
use common::preemptions_of;

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

#[smp_rt::test]
async fn get_or_init_runs_once() {
    static ONCE: OnceCell<u32> = OnceCell::const_new();
    let runs = AtomicUsize::new(0);
    for _ in 0..3 {
        let v = ONCE
            .get_or_init(|| async {
                runs.fetch_add(1, SeqCst);
                5
            })
            .await;
        assert_eq!(*v, 5);
    }
    assert_eq!(runs.load(SeqCst), 1);
    assert!(ONCE.initialized());
}

#[smp_rt::test]
async fn set_and_errors() {
    let cell = OnceCell::new();
    assert_eq!(cell.get(), None);
    cell.set(1).unwrap();
    let err = cell.set(2).unwrap_err();
    assert!(err.is_already_init_err());
    assert_eq!(err, SetError::AlreadyInitializedError(2));
    assert_eq!(err.to_string(), "AlreadyInitializedError");
    assert_eq!(cell.get(), Some(&1));
    assert_eq!(*cell.get_or_init(|| async { 9 }).await, 1);
}

#[smp_rt::test]
async fn set_while_initializing() {
    let cell = OnceCell::new();
    let (tx, rx) = oneshot::channel::<u32>();
    let mut init = pin!(cell.get_or_init(|| async { rx.await.unwrap() }));
    assert!(poll_once(&mut init).is_pending());
    let err = cell.set(3).unwrap_err();
    assert!(err.is_initializing_err());
    assert_eq!(err.to_string(), "InitializingError");
    tx.send(4).unwrap();
    assert_eq!(*init.await, 4);
}

#[smp_rt::test]
async fn a_cancelled_initializer_lets_the_next_one_run() {
    let cell = OnceCell::new();
    {
        let mut init = pin!(cell.get_or_init(std::future::pending::<u32>));
        assert!(poll_once(&mut init).is_pending());
        let mut waiting = pin!(cell.get_or_init(|| async { 1 }));
        assert!(poll_once(&mut waiting).is_pending());
    }
    assert!(!cell.initialized());
    assert_eq!(*cell.get_or_init(|| async { 2 }).await, 2);
}

#[smp_rt::test]
async fn a_waiter_takes_over_from_a_cancelled_initializer() {
    let cell = OnceCell::new();
    let mut first = Box::pin(cell.get_or_init(std::future::pending::<u32>));
    assert!(poll_once(&mut first).is_pending());
    let mut second = pin!(cell.get_or_init(|| async { 7 }));
    assert!(poll_once(&mut second).is_pending());
    drop(first);
    assert_eq!(*second.await, 7);
}

#[smp_rt::test]
async fn get_or_try_init_failure_leaves_the_cell_empty() {
    let cell = OnceCell::new();
    let r: Result<&u32, &str> = cell.get_or_try_init(|| async { Err("no") }).await;
    assert_eq!(r, Err("no"));
    assert!(!cell.initialized());
    let r: Result<&u32, &str> = cell.get_or_try_init(|| async { Ok(3) }).await;
    assert_eq!(r, Ok(&3));
    let r: Result<&u32, &str> = cell.get_or_try_init(|| async { Err("late") }).await;
    assert_eq!(r, Ok(&3));
}

#[smp_rt::test]
async fn take_into_inner_get_mut_and_constructors() {
    let mut cell = OnceCell::new_with(Some(String::from("a")));
    cell.get_mut().unwrap().push('b');
    assert_eq!(cell.take().as_deref(), Some("ab"));
    assert_eq!(cell.take(), None);
    assert_eq!(*cell.get_or_init(|| async { String::from("c") }).await, "c");
    assert_eq!(cell.clone().into_inner().as_deref(), Some("c"));
    assert_eq!(OnceCell::<u8>::new_with(None).into_inner(), None);
    static SET: OnceCell<u8> = OnceCell::const_new_with(8);
    assert_eq!(SET.get(), Some(&8));
    assert!(SET.set(1).unwrap_err().is_already_init_err());
    assert_eq!(OnceCell::from(1), OnceCell::new_with(Some(1)));
    assert_eq!(
        format!("{:?}", OnceCell::from(1)),
        "OnceCell { value: Some(1) }"
    );
}

#[derive(Debug)]
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn values_are_dropped_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let cell = OnceCell::new();
    cell.set(Counted(drops.clone())).unwrap();
    drop(cell);
    assert_eq!(drops.load(SeqCst), 1);
    let once = SetOnce::new();
    once.set(Counted(drops.clone())).unwrap();
    drop(once.set(Counted(drops.clone())));
    assert_eq!(drops.load(SeqCst), 2, "the rejected value");
    drop(once);
    assert_eq!(drops.load(SeqCst), 3);
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_one_initializer() {
    let cell = Arc::new(OnceCell::new());
    let runs = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let cell = cell.clone();
            let runs = runs.clone();
            smp_rt::spawn(async move {
                *cell
                    .get_or_init(|| async move {
                        runs.fetch_add(1, SeqCst);
                        task::yield_now().await;
                        i
                    })
                    .await
            })
        })
        .collect();
    let mut seen = Vec::new();
    for t in tasks {
        seen.push(t.await.unwrap());
    }
    assert_eq!(runs.load(SeqCst), 1);
    assert!(seen.iter().all(|&v| v == seen[0]));
}

#[smp_rt::test]
async fn set_once_set_get_wait() {
    let once = SetOnce::new();
    assert!(!once.initialized());
    assert_eq!(once.get(), None);
    {
        let mut wait = pin!(once.wait());
        assert!(poll_once(&mut wait).is_pending());
        once.set(5).unwrap();
        assert_eq!(poll_once(&mut wait), Poll::Ready(&5));
    }
    assert_eq!(once.set(6), Err(SetOnceError(6)));
    assert_eq!(SetOnceError(6).to_string(), "SetOnceError");
    assert_eq!(*once.wait().await, 5);
    assert_eq!(once.into_inner(), Some(5));
    assert_eq!(SetOnce::<u8>::new().into_inner(), None);
    static S: SetOnce<u8> = SetOnce::const_new_with(1);
    assert_eq!(S.get(), Some(&1));
}

#[smp_rt::test]
async fn a_dropped_wait_does_not_disturb_others() {
    let once = Arc::new(SetOnce::new());
    {
        let mut wait = pin!(once.wait());
        assert!(poll_once(&mut wait).is_pending());
    }
    let o = once.clone();
    let waiter = smp_rt::spawn(async move { *o.wait().await });
    task::yield_now().await;
    once.set(3).unwrap();
    assert_eq!(waiter.await.unwrap(), 3);
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_once_wakes_many_tasks() {
    let once = Arc::new(SetOnce::new());
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let once = once.clone();
            smp_rt::spawn(async move { *once.wait().await })
        })
        .collect();
    task::yield_now().await;
    let setter = std::thread::spawn({
        let once = once.clone();
        move || once.set(42).unwrap()
    });
    for t in tasks {
        assert_eq!(t.await.unwrap(), 42);
    }
    setter.join().unwrap();
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<OnceCell<Vec<u8>>>();
    send_sync::<SetOnce<Vec<u8>>>();
    send_sync::<SetError<u8>>();
    send_sync::<SetOnceError<u8>>();
    fn send<T: Send>(_: &T) {}
    let cell = OnceCell::<u8>::new();
    send(&cell.get_or_init(|| async { 1 }));
    let once = SetOnce::<u8>::new();
    send(&once.wait());
}

#[test]
fn waiting_futures_charge_a_reduction_per_poll() {
    let n = preemptions_of(|| async {
        let cell = OnceCell::new();
        for _ in 0..400 {
            assert_eq!(*cell.get_or_init(|| async { 1 }).await, 1);
        }
    });
    assert!(
        n >= 4,
        "400 get_or_init in the smallest slices: {n} preemptions"
    );
    let n = preemptions_of(|| async {
        let once = SetOnce::new();
        once.set(1).unwrap();
        for _ in 0..400 {
            assert_eq!(*once.wait().await, 1);
        }
    });
    assert!(n >= 4, "{n} preemptions");
}

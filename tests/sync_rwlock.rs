//! Behaviour of `sync::RwLock`, after tokio's `sync_rwlock` tests.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use smp_rt::runtime::Builder;
use smp_rt::sync::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
use smp_rt::task;

fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

#[test]
fn into_inner_and_get_mut() {
    let mut rwlock = RwLock::new(42);
    *rwlock.get_mut() += 1;
    assert_eq!(rwlock.into_inner(), 43);
}

#[smp_rt::test]
async fn read_shared() {
    let rwlock = RwLock::new(100);
    let _r1 = rwlock.read().await;
    let mut r2 = pin!(rwlock.read());
    assert!(poll_once(&mut r2).is_ready());
    assert!(rwlock.try_read().is_ok());
}

#[smp_rt::test]
async fn write_shared_pending() {
    let rwlock = RwLock::new(100);
    let _r1 = rwlock.read().await;
    let mut w = pin!(rwlock.write());
    assert!(poll_once(&mut w).is_pending());
    assert!(rwlock.try_write().is_err());
}

#[smp_rt::test]
async fn read_exclusive_pending() {
    let rwlock = RwLock::new(100);
    let _w = rwlock.write().await;
    let mut r = pin!(rwlock.read());
    assert!(poll_once(&mut r).is_pending());
    assert!(rwlock.try_read().is_err());
}

#[smp_rt::test]
async fn write_exclusive_pending() {
    let rwlock = RwLock::new(100);
    let _w1 = rwlock.write().await;
    let mut w2 = pin!(rwlock.write());
    assert!(poll_once(&mut w2).is_pending());
}

#[smp_rt::test]
async fn write_is_granted_once_the_readers_leave() {
    let rwlock = RwLock::new(100);
    let r = rwlock.read().await;
    let mut w = pin!(rwlock.write());
    assert!(poll_once(&mut w).is_pending());
    drop(r);
    match poll_once(&mut w) {
        Poll::Ready(mut g) => *g += 1,
        Poll::Pending => panic!("the writer was not granted the lock"),
    }
    assert_eq!(*rwlock.read().await, 101);
}

#[smp_rt::test]
async fn fair_a_waiting_writer_holds_back_later_readers() {
    let rwlock = RwLock::new(0);
    let r1 = rwlock.read().await;
    let mut w = pin!(rwlock.write());
    assert!(poll_once(&mut w).is_pending());
    // A reader arriving after the writer waits behind it.
    let mut r2 = pin!(rwlock.read());
    assert!(poll_once(&mut r2).is_pending());
    assert!(rwlock.try_read().is_err());
    drop(r1);
    let Poll::Ready(mut g) = poll_once(&mut w) else {
        panic!("writer first");
    };
    assert!(poll_once(&mut r2).is_pending());
    *g = 1;
    drop(g);
    match poll_once(&mut r2) {
        Poll::Ready(g) => assert_eq!(*g, 1),
        Poll::Pending => panic!("reader after the writer"),
    }
}

#[smp_rt::test]
async fn a_cancelled_writer_lets_the_readers_behind_it_in() {
    let rwlock = RwLock::new(0);
    let r1 = rwlock.read().await;
    let mut r2 = Box::pin(rwlock.read());
    {
        let mut w = pin!(rwlock.write());
        assert!(poll_once(&mut w).is_pending());
        assert!(poll_once(&mut r2).is_pending());
    }
    // The writer gave up its place (and the part of the permits it had).
    assert!(poll_once(&mut r2).is_ready());
    drop(r1);
    drop(r2);
    assert!(rwlock.try_write().is_ok());
}

#[smp_rt::test]
async fn a_cancelled_reader_does_not_hold_the_lock() {
    let rwlock = RwLock::new(0);
    let w = rwlock.write().await;
    {
        let mut r = pin!(rwlock.read());
        assert!(poll_once(&mut r).is_pending());
    }
    drop(w);
    assert!(rwlock.try_write().is_ok());
}

#[smp_rt::test]
async fn with_max_readers_limits_readers() {
    let rwlock = RwLock::with_max_readers(0, 2);
    let _r1 = rwlock.read().await;
    let r2 = rwlock.read().await;
    assert!(rwlock.try_read().is_err());
    let mut r3 = pin!(rwlock.read());
    assert!(poll_once(&mut r3).is_pending());
    drop(r2);
    assert!(poll_once(&mut r3).is_ready());
}

#[test]
#[should_panic(expected = "a RwLock may not be created with more than")]
fn too_many_max_readers_panics() {
    let _ = RwLock::with_max_readers((), u32::MAX);
}

#[smp_rt::test]
async fn map_and_try_map() {
    let rwlock = RwLock::new((1, String::from("a")));
    {
        let g = RwLockReadGuard::map(rwlock.read().await, |v| &v.1);
        assert_eq!(&*g, "a");
        let g = RwLockReadGuard::try_map(g, |s| s.get(5..)).unwrap_err();
        assert_eq!(&*g, "a");
    }
    {
        let mut g = RwLockWriteGuard::map(rwlock.write().await, |v| &mut v.0);
        *g = 2;
        assert!(
            rwlock.try_read().is_err(),
            "a mapped write guard still excludes"
        );
    }
    assert_eq!(rwlock.read().await.0, 2);
    let g = RwLockWriteGuard::try_map(rwlock.write().await, |_| None::<&mut u8>);
    assert!(g.is_err());
    drop(g);
    assert!(rwlock.try_write().is_ok());
}

#[smp_rt::test]
async fn downgrade_is_atomic_and_admits_readers() {
    let rwlock = Arc::new(RwLock::new(1));
    let mut w = rwlock.write().await;
    let mut writer = Box::pin(rwlock.write());
    assert!(poll_once(&mut writer).is_pending());
    *w = 2;
    let r = w.downgrade();
    assert_eq!(*r, 2);
    assert!(poll_once(&mut writer).is_pending());
    drop(r);
    let Poll::Ready(mut w2) = poll_once(&mut writer) else {
        panic!("the waiting writer gets the lock");
    };
    *w2 = 3;
    drop(w2);
    drop(writer);
    // Downgrade with no one waiting: other readers get in.
    let w = rwlock.write().await;
    let r = w.downgrade();
    assert!(rwlock.try_read().is_ok());
    assert!(rwlock.try_write().is_err());
    assert_eq!(*r, 3);
}

#[smp_rt::test]
async fn downgrade_map_variants() {
    let rwlock = Arc::new(RwLock::new((1, 2)));
    let r = RwLockWriteGuard::downgrade_map(rwlock.write().await, |t| &t.1);
    assert_eq!(*r, 2);
    assert!(rwlock.try_read().is_ok());
    assert!(rwlock.try_write().is_err());
    drop(r);
    let w = RwLockWriteGuard::try_downgrade_map(rwlock.write().await, |_| None::<&u8>).unwrap_err();
    assert!(rwlock.try_read().is_err(), "still writing");
    drop(w);
    let r = OwnedRwLockWriteGuard::downgrade_map(rwlock.clone().write_owned().await, |t| &t.0);
    assert_eq!(*r, 1);
    assert!(rwlock.try_read().is_ok());
    drop(r);
    let r = OwnedRwLockWriteGuard::try_downgrade_map(rwlock.clone().write_owned().await, |t| {
        Some(&t.1)
    })
    .unwrap();
    assert_eq!(*r, 2);
    drop(r);
    assert!(rwlock.try_write().is_ok());
}

#[smp_rt::test]
async fn owned_guards() {
    let rwlock = Arc::new(RwLock::new(vec![1, 2, 3]));
    let r1 = rwlock.clone().read_owned().await;
    let r2 = rwlock.clone().try_read_owned().unwrap();
    assert!(rwlock.clone().try_write_owned().is_err());
    let r2 = OwnedRwLockReadGuard::map(r2, |v| &v[1]);
    assert_eq!(*r2, 2);
    assert!(Arc::ptr_eq(OwnedRwLockReadGuard::rwlock(&r2), &rwlock));
    drop((r1, r2));
    let mut w = rwlock.clone().write_owned().await;
    w.push(4);
    let mut w = OwnedRwLockWriteGuard::map(w, |v| &mut v[0]);
    *w = 10;
    drop(w);
    let w = rwlock.clone().try_write_owned().unwrap();
    let r = w.downgrade();
    assert_eq!(*r, [10, 2, 3, 4]);
    // Owned guards move into spawned tasks.
    let task = smp_rt::spawn(async move { r.len() });
    assert_eq!(task.await.unwrap(), 4);
    assert!(rwlock.try_write().is_ok());
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn multithreaded_writers_and_readers() {
    let rwlock = Arc::new(RwLock::new(0u64));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let rwlock = rwlock.clone();
            smp_rt::spawn(async move {
                for _ in 0..200 {
                    if i % 2 == 0 {
                        let mut w = rwlock.write().await;
                        let v = *w;
                        task::yield_now().await;
                        *w = v + 1;
                    } else {
                        let r = rwlock.read().await;
                        let v = *r;
                        task::yield_now().await;
                        assert_eq!(*r, v, "no writer while reading");
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(*rwlock.read().await, 800);
}

#[test]
fn blocking_lock_on_a_plain_thread() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let rwlock = Arc::new(RwLock::new(0));
    let w = rt.block_on(rwlock.clone().write_owned());
    let t = std::thread::spawn({
        let rwlock = rwlock.clone();
        move || {
            *rwlock.blocking_write() += 1;
            *rwlock.blocking_read()
        }
    });
    drop(w);
    assert_eq!(t.join().unwrap(), 1);
}

#[test]
fn blocking_read_panics_in_a_task() {
    let rt = Builder::new_current_thread().build().unwrap();
    let rwlock = Arc::new(RwLock::new(0));
    let res = rt.block_on(rt.spawn(async move {
        let _g = rwlock.blocking_read();
    }));
    assert!(res.is_err(), "blocking_read inside a task must panic");
    let rwlock = Arc::new(RwLock::new(0));
    let res = rt.block_on(rt.spawn(async move {
        let _g = rwlock.blocking_write();
    }));
    assert!(res.is_err(), "blocking_write inside a task must panic");
}

#[test]
fn types_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RwLock<Vec<u8>>>();
    send_sync::<RwLockReadGuard<'static, Vec<u8>>>();
    send_sync::<RwLockWriteGuard<'static, Vec<u8>>>();
    send_sync::<OwnedRwLockReadGuard<Vec<u8>>>();
    send_sync::<OwnedRwLockWriteGuard<Vec<u8>>>();
    send_sync::<smp_rt::sync::RwLockMappedWriteGuard<'static, u8>>();
    send_sync::<smp_rt::sync::OwnedRwLockMappedWriteGuard<Vec<u8>, u8>>();
    fn send<T: Send>(_: &T) {}
    let rwlock = Arc::new(RwLock::new(0));
    send(&rwlock.read());
    send(&rwlock.write());
    send(&rwlock.clone().read_owned());
    send(&rwlock.clone().write_owned());
    assert_eq!(format!("{:?}", RwLock::new(1)), "RwLock { data: 1 }");
}

#[test]
fn waiting_futures_charge_a_reduction_per_poll() {
    let rt = Builder::new_current_thread()
        .reductions(smp_rt::runtime::MIN_REDUCTIONS)
        .build()
        .unwrap();
    let n = rt.block_on(async {
        smp_rt::spawn(async {
            let rwlock = RwLock::new(0);
            for _ in 0..200 {
                *rwlock.write().await += 1;
                assert!(*rwlock.read().await > 0);
            }
            task::stats().preemptions
        })
        .await
        .unwrap()
    });
    assert!(
        n >= 4,
        "400 lock acquisitions in the smallest slices: {n} preemptions"
    );
}

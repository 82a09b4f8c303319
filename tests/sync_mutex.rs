//! Behaviour of `sync::Mutex`.

use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};
use std::thread;

use futures::FutureExt;
use futures::executor::block_on;
use futures::task::ArcWake;

use smp_rt::sync::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};

/// Shrinks iteration counts under Miri, which runs code far slower.
const fn scale(n: usize) -> usize {
    if cfg!(miri) { 1 + n / 200 } else { n }
}

struct WakeCount(AtomicUsize);

impl ArcWake for WakeCount {
    fn wake_by_ref(this: &Arc<Self>) {
        this.0.fetch_add(1, SeqCst);
    }
}

fn counting_waker() -> (Arc<WakeCount>, Waker) {
    let count = Arc::new(WakeCount(AtomicUsize::new(0)));
    let waker = futures::task::waker(Arc::clone(&count));
    (count, waker)
}

fn wakes(count: &WakeCount) -> usize {
    count.0.load(SeqCst)
}

#[test]
fn lock_gives_exclusive_access() {
    let m = Mutex::new(1);
    block_on(async {
        let mut g = m.lock().await;
        *g += 1;
        assert!(m.try_lock().is_err());
        drop(g);
        assert_eq!(*m.lock().await, 2);
    });
}

#[test]
fn try_lock_fails_while_held() {
    let m = Mutex::new(());
    let g = m.try_lock().unwrap();
    let err: TryLockError = m.try_lock().unwrap_err();
    assert_eq!(err.to_string(), "operation would block");
    let _: Box<dyn std::error::Error> = Box::new(err);
    drop(g);
    assert!(m.try_lock().is_ok());
}

#[test]
fn contended_increments_from_threads_all_land() {
    const THREADS: usize = 4;
    const ITERS: usize = scale(2000);
    let m = Arc::new(Mutex::new(0usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|_| {
            let m = Arc::clone(&m);
            thread::spawn(move || {
                block_on(async {
                    for _ in 0..ITERS {
                        let mut g = m.lock().await;
                        let v = *g;
                        // Yield inside the critical section to invite races.
                        thread::yield_now();
                        *g = v + 1;
                    }
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(*block_on(m.lock()), THREADS * ITERS);
}

#[test]
fn contended_with_cancelled_attempts_keeps_lock_usable() {
    const THREADS: usize = 4;
    const ITERS: usize = scale(2000);
    let m = Arc::new(Mutex::new(0usize));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let m = Arc::clone(&m);
            thread::spawn(move || {
                block_on(async {
                    let mut done = 0;
                    for i in 0..ITERS {
                        // Every other attempt polls once and gives up.
                        if (i + t) % 2 == 0 {
                            if let Some(mut g) = m.lock().now_or_never() {
                                *g += 1;
                                done += 1;
                            }
                        } else {
                            *m.lock().await += 1;
                            done += 1;
                        }
                    }
                    done
                })
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    assert_eq!(*block_on(m.lock()), total);
    assert!(m.try_lock().is_ok());
}

#[test]
fn waiters_are_served_in_order() {
    let m = Mutex::new(Vec::new());
    let held = m.try_lock().unwrap();
    let (count_b, waker_b) = counting_waker();
    let (count_c, waker_c) = counting_waker();
    let mut b = pin!(m.lock());
    let mut c = pin!(m.lock());
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending()
    );
    assert!(
        c.as_mut()
            .poll(&mut Context::from_waker(&waker_c))
            .is_pending()
    );
    drop(held);
    assert_eq!((wakes(&count_b), wakes(&count_c)), (1, 0));
    // The lock was handed to `b`: nobody can cut in.
    assert!(m.try_lock().is_err());
    assert!(
        c.as_mut()
            .poll(&mut Context::from_waker(&waker_c))
            .is_pending()
    );
    let Poll::Ready(mut gb) = b.as_mut().poll(&mut Context::from_waker(&waker_b)) else {
        panic!("b should have the lock");
    };
    gb.push('b');
    drop(gb);
    assert_eq!(wakes(&count_c), 1);
    let Poll::Ready(mut gc) = c.as_mut().poll(&mut Context::from_waker(&waker_c)) else {
        panic!("c should have the lock");
    };
    gc.push('c');
    drop(gc);
    assert_eq!(*m.try_lock().unwrap(), ['b', 'c']);
}

#[test]
fn cancelled_waiting_lock_does_not_lose_wakeup() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    let (count_b, waker_b) = counting_waker();
    let (count_c, waker_c) = counting_waker();
    let mut b = Box::pin(m.lock());
    let mut c = pin!(m.lock());
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending()
    );
    assert!(
        c.as_mut()
            .poll(&mut Context::from_waker(&waker_c))
            .is_pending()
    );
    drop(b);
    drop(held);
    assert_eq!((wakes(&count_b), wakes(&count_c)), (0, 1));
    assert!(
        c.as_mut()
            .poll(&mut Context::from_waker(&waker_c))
            .is_ready()
    );
}

#[test]
fn lock_cancelled_after_handoff_passes_it_on() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    let (count_b, waker_b) = counting_waker();
    let (count_c, waker_c) = counting_waker();
    let mut b = Box::pin(m.lock());
    let mut c = pin!(m.lock());
    assert!(
        b.as_mut()
            .poll(&mut Context::from_waker(&waker_b))
            .is_pending()
    );
    assert!(
        c.as_mut()
            .poll(&mut Context::from_waker(&waker_c))
            .is_pending()
    );
    drop(held);
    assert_eq!((wakes(&count_b), wakes(&count_c)), (1, 0));
    // `b` was handed the lock but is dropped before taking it.
    drop(b);
    assert_eq!(wakes(&count_c), 1);
    let Poll::Ready(g) = c.as_mut().poll(&mut Context::from_waker(&waker_c)) else {
        panic!("c should have the lock");
    };
    drop(g);
    assert!(m.try_lock().is_ok());
}

#[test]
fn last_waiter_cancelled_leaves_lock_free() {
    let m = Mutex::new(0);
    let held = m.try_lock().unwrap();
    assert!(m.lock().now_or_never().is_none());
    drop(held);
    assert!(m.try_lock().is_ok());
    assert!(m.lock().now_or_never().is_some());
}

#[test]
fn owned_guards_move_across_threads() {
    let m = Arc::new(Mutex::new(String::new()));
    let g: OwnedMutexGuard<String> = block_on(Arc::clone(&m).lock_owned());
    let t = thread::spawn(move || {
        let mut g = g;
        g.push_str("from thread");
    });
    t.join().unwrap();
    let g = Arc::clone(&m).try_lock_owned().unwrap();
    assert_eq!(&*g, "from thread");
    assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&g), &m));
    assert!(Arc::clone(&m).try_lock_owned().is_err());
}

#[test]
fn owned_lock_waits_and_is_woken_from_thread() {
    let m = Arc::new(Mutex::new(0));
    let g = Arc::clone(&m).try_lock_owned().unwrap();
    let t = thread::spawn(move || drop(g));
    let mut g2 = block_on(Arc::clone(&m).lock_owned());
    *g2 += 1;
    t.join().unwrap();
    drop(g2);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn get_mut_into_inner_default_debug() {
    let mut m = Mutex::new(vec![1]);
    m.get_mut().push(2);
    assert_eq!(format!("{m:?}"), "Mutex { data: [1, 2] }");
    {
        let g = m.try_lock().unwrap();
        assert_eq!(format!("{m:?}"), "Mutex { data: <locked> }");
        assert_eq!(format!("{g:?}"), "[1, 2]");
        assert!(std::ptr::eq(MutexGuard::mutex(&g), &m));
    }
    assert_eq!(m.into_inner(), [1, 2]);
    let d: Mutex<u8> = Mutex::default();
    assert_eq!(d.into_inner(), 0);
    static GLOBAL: Mutex<u8> = Mutex::const_new(3);
    assert_eq!(*GLOBAL.try_lock().unwrap(), 3);
}

#[test]
fn unsized_contents() {
    let m: Arc<Mutex<[i32]>> = Arc::new(Mutex::new([1, 2, 3]));
    block_on(async {
        m.lock().await[1] = 5;
        assert_eq!(&*m.lock().await, &[1, 5, 3]);
    });
}

#[test]
fn send_and_sync_bounds() {
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    // `T: Send` suffices for the mutex, as for `std::sync::Mutex`.
    assert_send_sync::<Mutex<Cell<u8>>>();
    assert_send_sync::<MutexGuard<'static, Vec<u8>>>();
    assert_send_sync::<OwnedMutexGuard<Vec<u8>>>();
    let m = Arc::new(Mutex::new(Cell::new(0u8)));
    assert_send(&m.lock());
    assert_send(&Arc::clone(&m).lock_owned());
}

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

use smp_rt::sync::{
    MappedMutexGuard, Mutex, MutexGuard, OwnedMappedMutexGuard, OwnedMutexGuard, TryLockError,
};

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
    // Mapped guards: as tokio's, `Send` with `T: Send`, `Sync` with
    // `T: Sync` (owned: both of `T` and `U`).
    fn assert_send_only<T: Send>() {}
    assert_send_sync::<MappedMutexGuard<'static, Vec<u8>>>();
    assert_send_only::<MappedMutexGuard<'static, Cell<u8>>>();
    assert_send_sync::<OwnedMappedMutexGuard<Vec<u8>, [u8]>>();
    assert_send_only::<OwnedMappedMutexGuard<Cell<u8>>>();
}

// ---------------------------------------------------------------------------
// Mapped guards
// ---------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Pair {
    a: u32,
    b: Vec<u32>,
}

#[test]
fn map_narrows_the_guard_and_keeps_the_lock() {
    let m = Mutex::new(Pair::default());
    let mut a = MutexGuard::map(m.try_lock().unwrap(), |p| &mut p.a);
    *a = 7;
    assert!(m.try_lock().is_err(), "the mapped guard holds the lock");
    assert!(m.lock().now_or_never().is_none());
    drop(a);
    let g = m.try_lock().unwrap();
    assert_eq!(g.a, 7);
}

#[test]
fn try_map_none_hands_back_the_locked_guard() {
    let m = Mutex::new(Pair {
        a: 1,
        b: vec![10, 20],
    });
    let g = m.try_lock().unwrap();
    let g = match MutexGuard::try_map(g, |p| p.b.get_mut(5)) {
        Ok(_) => panic!("index 5 does not exist"),
        Err(g) => g,
    };
    assert!(m.try_lock().is_err(), "still locked after a failed try_map");
    assert_eq!(g.a, 1);
    let mut second = MutexGuard::try_map(g, |p| p.b.get_mut(1)).unwrap();
    *second += 1;
    assert!(m.try_lock().is_err());
    drop(second);
    assert_eq!(m.try_lock().unwrap().b, [10, 21]);
}

#[test]
fn mapped_guard_maps_again() {
    let m = Mutex::new(Pair {
        a: 0,
        b: vec![1, 2, 3],
    });
    let b = MutexGuard::map(m.try_lock().unwrap(), |p| &mut p.b);
    let b = match MappedMutexGuard::try_map(b, |b| b.get_mut(9)) {
        Ok(_) => panic!("index 9 does not exist"),
        Err(b) => b,
    };
    let mut last = MappedMutexGuard::try_map(b, |b| b.last_mut()).unwrap();
    *last = 30;
    let mut last = MappedMutexGuard::map(last, |n| n);
    *last += 3;
    assert!(m.try_lock().is_err());
    drop(last);
    assert_eq!(m.try_lock().unwrap().b, [1, 2, 33]);
}

#[test]
fn dropping_a_mapped_guard_wakes_the_next_waiter() {
    let m = Mutex::new(0u32);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mapped = MutexGuard::map(m.try_lock().unwrap(), |n| n);
    let mut waiting = pin!(m.lock());
    assert!(waiting.as_mut().poll(&mut cx).is_pending());
    drop(mapped);
    assert_eq!(wakes(&count), 1);
    match waiting.as_mut().poll(&mut cx) {
        Poll::Ready(mut g) => *g += 1,
        Poll::Pending => panic!("the lock was handed to the waiter"),
    }
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn a_panicking_map_closure_unlocks_the_mutex() {
    let m = Mutex::new(Pair::default());
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = MutexGuard::map(m.try_lock().unwrap(), |_p| -> &mut u32 {
            panic!("user code panics inside map")
        });
    }));
    assert!(caught.is_err());
    assert!(
        m.try_lock().is_ok(),
        "the guard was dropped while unwinding"
    );

    let m = Arc::new(Mutex::new(Pair::default()));
    let guard = Arc::clone(&m).try_lock_owned().unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _ = OwnedMutexGuard::try_map(guard, |_p| -> Option<&mut u32> {
            panic!("user code panics inside try_map")
        });
    }));
    assert!(caught.is_err());
    assert!(m.try_lock().is_ok());
}

#[test]
fn owned_map_and_try_map_keep_the_lock_and_the_arc() {
    let m = Arc::new(Mutex::new(Pair { a: 5, b: vec![1] }));
    let g = Arc::clone(&m).try_lock_owned().unwrap();
    let g = match OwnedMutexGuard::try_map(g, |p| p.b.get_mut(3)) {
        Ok(_) => panic!("index 3 does not exist"),
        Err(g) => g,
    };
    let b: OwnedMappedMutexGuard<Pair, Vec<u32>> = OwnedMutexGuard::map(g, |p| &mut p.b);
    assert_eq!(Arc::strong_count(&m), 2, "the mapped guard owns a clone");
    let b = match OwnedMappedMutexGuard::try_map(b, |b| b.get_mut(3)) {
        Ok(_) => panic!("index 3 does not exist"),
        Err(b) => b,
    };
    let mut first = OwnedMappedMutexGuard::try_map(b, |b| b.first_mut()).unwrap();
    *first = 100;
    let mut first = OwnedMappedMutexGuard::map(first, |n| n);
    *first += 1;
    assert!(m.try_lock().is_err());
    // Moves to another thread and unlocks there.
    thread::spawn(move || drop(first)).join().unwrap();
    assert_eq!(Arc::strong_count(&m), 1, "the clone went with the guard");
    let g = m.try_lock().unwrap();
    assert_eq!((g.a, g.b.clone()), (5, vec![101]));
}

#[test]
fn owned_mapped_guard_unlocks_a_task_waiting_in_the_runtime() {
    let rt = smp_rt::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        let m = Arc::new(Mutex::new(Pair::default()));
        let a = OwnedMutexGuard::map(Arc::clone(&m).lock_owned().await, |p| &mut p.a);
        let m2 = Arc::clone(&m);
        let waiter = smp_rt::spawn(async move { m2.lock().await.a });
        smp_rt::task::yield_now().await;
        assert!(!waiter.is_finished(), "the mapped guard holds the lock");
        let mut a = a;
        *a = 9;
        drop(a);
        assert_eq!(waiter.await.unwrap(), 9);
    });
}

#[test]
fn mapped_guards_format_their_part() {
    let m = Arc::new(Mutex::new(Pair { a: 3, b: vec![4] }));
    let a = MutexGuard::map(m.try_lock().unwrap(), |p| &mut p.a);
    assert_eq!(format!("{a} {a:?}"), "3 3");
    drop(a);
    let b = OwnedMutexGuard::map(Arc::clone(&m).try_lock_owned().unwrap(), |p| &mut p.b);
    assert_eq!(format!("{b:?}"), "[4]");
    let n = OwnedMappedMutexGuard::map(b, |b| &mut b[0]);
    assert_eq!(format!("{n} {n:?}"), "4 4");
}

#[test]
fn mapped_guard_of_an_unsized_part() {
    let m = Mutex::new([1, 2, 3, 4]);
    let mut tail: MappedMutexGuard<'_, [i32]> =
        MutexGuard::map(m.try_lock().unwrap(), |a| &mut a[2..]);
    tail[0] = 30;
    assert_eq!(tail.len(), 2);
    drop(tail);
    assert_eq!(*m.try_lock().unwrap(), [1, 2, 30, 4]);
}

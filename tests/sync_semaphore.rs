//! Behaviour of `sync::Semaphore`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Waker};
use std::thread;

use futures::FutureExt;
use futures::executor::block_on;
use futures::task::ArcWake;

use smp_rt::sync::{AcquireError, OwnedSemaphorePermit, Semaphore, TryAcquireError};

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
fn permits_are_taken_and_given_back() {
    let s = Semaphore::new(2);
    let a = s.try_acquire().unwrap();
    let b = block_on(s.acquire()).unwrap();
    assert_eq!(s.available_permits(), 0);
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    drop(a);
    assert_eq!(s.available_permits(), 1);
    drop(b);
    assert_eq!(s.available_permits(), 2);
}

#[test]
fn forget_keeps_permits_out() {
    let s = Semaphore::new(3);
    s.try_acquire().unwrap().forget();
    assert_eq!(s.available_permits(), 2);
    assert_eq!(s.forget_permits(5), 2);
    assert_eq!(s.available_permits(), 0);
    s.add_permits(4);
    assert_eq!(s.available_permits(), 4);
}

#[test]
fn acquire_many_and_permit_arithmetic() {
    let s = Semaphore::new(5);
    let mut p = block_on(s.acquire_many(3)).unwrap();
    assert_eq!(p.num_permits(), 3);
    assert_eq!(
        s.try_acquire_many(3).unwrap_err(),
        TryAcquireError::NoPermits
    );
    let q = s.try_acquire_many(2).unwrap();
    p.merge(q);
    assert_eq!(p.num_permits(), 5);
    let r = p.split(2).unwrap();
    assert!(p.split(4).is_none());
    drop(r);
    assert_eq!(s.available_permits(), 2);
    drop(p);
    assert_eq!(s.available_permits(), 5);
    assert_eq!(block_on(s.acquire_many(0)).unwrap().num_permits(), 0);
}

#[test]
fn add_permits_wakes_waiters() {
    let s = Semaphore::new(0);
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut acq = pin!(s.acquire_many(2));
    assert!(acq.as_mut().poll(&mut cx).is_pending());
    s.add_permits(1);
    assert_eq!(wakes(&count), 0);
    assert_eq!(s.available_permits(), 0);
    s.add_permits(2);
    assert_eq!(wakes(&count), 1);
    assert_eq!(s.available_permits(), 1);
    let std::task::Poll::Ready(Ok(p)) = acq.as_mut().poll(&mut cx) else {
        panic!("acquire should be granted");
    };
    assert_eq!(p.num_permits(), 2);
}

#[test]
fn large_request_at_the_head_holds_back_smaller_ones() {
    let s = Semaphore::new(1);
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut big = pin!(s.acquire_many(3));
    assert!(big.as_mut().poll(&mut cx).is_pending());
    // The one permit went to the head of the queue.
    assert_eq!(s.available_permits(), 0);
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::NoPermits);
    let mut small = pin!(s.acquire());
    assert!(small.as_mut().poll(&mut cx).is_pending());
    s.add_permits(2);
    assert!(small.as_mut().poll(&mut cx).is_pending());
    assert!(big.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn close_fails_waiters_and_later_acquires() {
    let s = Semaphore::new(1);
    let held = s.try_acquire().unwrap();
    let (count, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut acq = pin!(s.acquire());
    assert!(acq.as_mut().poll(&mut cx).is_pending());
    assert!(!s.is_closed());
    s.close();
    assert!(s.is_closed());
    assert_eq!(wakes(&count), 1);
    let std::task::Poll::Ready(Err(err)) = acq.as_mut().poll(&mut cx) else {
        panic!("acquire should fail");
    };
    assert_eq!(err.to_string(), "semaphore closed");
    let _: Box<dyn std::error::Error> = Box::new(err);
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::Closed);
    assert!(block_on(s.acquire()).is_err());
    // Permits held across the close stay valid and still come back.
    drop(held);
    assert_eq!(s.available_permits(), 1);
    assert_eq!(s.try_acquire().unwrap_err(), TryAcquireError::Closed);
}

#[test]
fn partial_grant_is_returned_when_waiter_fails_on_close() {
    let s = Semaphore::new(1);
    let (_, waker) = counting_waker();
    let mut cx = Context::from_waker(&waker);
    let mut acq = pin!(s.acquire_many(2));
    assert!(acq.as_mut().poll(&mut cx).is_pending());
    assert_eq!(s.available_permits(), 0);
    s.close();
    let res: std::task::Poll<Result<_, AcquireError>> = acq.as_mut().poll(&mut cx);
    assert!(matches!(res, std::task::Poll::Ready(Err(_))));
    assert_eq!(s.available_permits(), 1);
}

#[test]
fn cancelled_partial_acquire_returns_what_it_got() {
    let s = Semaphore::new(1);
    assert!(s.acquire_many(3).now_or_never().is_none());
    assert_eq!(s.available_permits(), 1);
    assert!(s.try_acquire().is_ok());
}

#[test]
fn cancelled_acquire_does_not_lose_wakeup() {
    let s = Semaphore::new(1);
    let held = s.try_acquire().unwrap();
    let (ca, wa) = counting_waker();
    let (cb, wb) = counting_waker();
    let mut a = Box::pin(s.acquire());
    let mut b = pin!(s.acquire());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    drop(a);
    drop(held);
    assert_eq!((wakes(&ca), wakes(&cb)), (0, 1));
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_ready());
}

#[test]
fn acquire_cancelled_after_grant_passes_permit_on() {
    let s = Semaphore::new(1);
    let held = s.try_acquire().unwrap();
    let (ca, wa) = counting_waker();
    let (cb, wb) = counting_waker();
    let mut a = Box::pin(s.acquire());
    let mut b = pin!(s.acquire());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    drop(held);
    assert_eq!((wakes(&ca), wakes(&cb)), (1, 0));
    drop(a);
    assert_eq!(wakes(&cb), 1);
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_ready());
}

#[test]
fn owned_permits_cross_threads() {
    let s = Arc::new(Semaphore::new(1));
    let p: OwnedSemaphorePermit = block_on(Arc::clone(&s).acquire_owned()).unwrap();
    assert!(Arc::ptr_eq(p.semaphore(), &s));
    let t = thread::spawn(move || drop(p));
    let p2 = block_on(Arc::clone(&s).acquire_many_owned(1)).unwrap();
    t.join().unwrap();
    assert!(Arc::clone(&s).try_acquire_owned().is_err());
    drop(p2);
    let mut p3 = Arc::clone(&s).try_acquire_many_owned(1).unwrap();
    assert!(p3.split(1).is_some());
    assert_eq!(p3.num_permits(), 0);
    assert_eq!(s.available_permits(), 1);
}

#[test]
fn no_permit_lost_under_contention_with_cancellations() {
    const PERMITS: usize = 3;
    const THREADS: usize = 4;
    const ITERS: usize = scale(2000);
    let s = Arc::new(Semaphore::new(PERMITS));
    let inside = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let s = Arc::clone(&s);
            let inside = Arc::clone(&inside);
            thread::spawn(move || {
                block_on(async {
                    for i in 0..ITERS {
                        let n = 1 + (i + t) % 2;
                        let permit = if i % 3 == 0 {
                            // Poll once, give up if not granted at once.
                            match s.acquire_many(n as u32).now_or_never() {
                                Some(p) => p.unwrap(),
                                None => continue,
                            }
                        } else {
                            s.acquire_many(n as u32).await.unwrap()
                        };
                        let now = inside.fetch_add(n, SeqCst) + n;
                        assert!(now <= PERMITS, "{now} permits in use");
                        thread::yield_now();
                        inside.fetch_sub(n, SeqCst);
                        drop(permit);
                    }
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(s.available_permits(), PERMITS);
    assert!(s.try_acquire_many(PERMITS as u32).is_ok());
}

#[test]
#[should_panic(expected = "MAX_PERMITS")]
fn too_many_permits_panics() {
    let _ = Semaphore::new(Semaphore::MAX_PERMITS + 1);
}

#[test]
#[should_panic(expected = "overflow MAX_PERMITS")]
fn add_permits_overflow_panics() {
    let s = Semaphore::new(Semaphore::MAX_PERMITS);
    s.add_permits(1);
}

#[test]
fn errors_display_and_bounds() {
    assert_eq!(TryAcquireError::Closed.to_string(), "semaphore closed");
    assert_eq!(
        TryAcquireError::NoPermits.to_string(),
        "no permits available"
    );
    let _: Box<dyn std::error::Error> = Box::new(TryAcquireError::NoPermits);
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_send<T: Send>(_: &T) {}
    assert_send_sync::<Semaphore>();
    assert_send_sync::<OwnedSemaphorePermit>();
    let s = Arc::new(Semaphore::const_new(1));
    assert_send(&s.acquire());
    assert_send(&Arc::clone(&s).acquire_owned());
    assert_eq!(
        format!("{:?}", Semaphore::new(2)),
        "Semaphore { permits: 2, closed: false }"
    );
}

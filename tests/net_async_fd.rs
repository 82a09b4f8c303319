//! `smp_rt::io::unix::AsyncFd`: readiness of a descriptor the caller owns
//! (an eventfd here), its guards, `try_io` and `async_io`, as tokio's.

mod common;

use std::future::{Future, poll_fn};
use std::io::ErrorKind;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use common::preemptions_of;
use rustix::event::{EventfdFlags, eventfd};
use smp_rt::io::unix::AsyncFd;
use smp_rt::io::{Interest, Ready};
use smp_rt::runtime::Builder;

/// Runs `body` on a fresh 2-worker runtime; fails instead of hanging if it
/// has not finished after 30 s.
fn run<F>(body: impl FnOnce() -> F + Send + 'static)
where
    F: Future<Output = ()>,
{
    let (done_tx, done_rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(body());
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => thread.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish within 30 s"),
    }
}

/// A non-blocking eventfd with a counter of 0: writable, not readable.
fn event_fd() -> OwnedFd {
    eventfd(0, EventfdFlags::NONBLOCK | EventfdFlags::CLOEXEC).unwrap()
}

/// Adds `n` to the eventfd's counter (readable from then on).
fn signal(fd: impl AsFd, n: u64) -> std::io::Result<()> {
    rustix::io::write(fd, &n.to_ne_bytes())?;
    Ok(())
}

/// Takes the eventfd's counter; `WouldBlock` at 0.
fn take(fd: impl AsFd) -> std::io::Result<u64> {
    let mut buf = [0; 8];
    rustix::io::read(fd, &mut buf)?;
    Ok(u64::from_ne_bytes(buf))
}

#[test]
fn a_new_descriptor_is_ready_only_for_what_the_reactor_reported() {
    run(|| async {
        let fd = AsyncFd::new(event_fd()).unwrap();
        let pending = futures::poll!(poll_fn(|cx| fd.poll_read_ready(cx).map_ok(|_| ())));
        assert!(pending.is_pending(), "{pending:?}");
        let guard = fd.writable().await.unwrap();
        assert_eq!(guard.ready(), Ready::WRITABLE);
        drop(guard);

        signal(fd.get_ref(), 3).unwrap();
        let mut guard = fd.readable().await.unwrap();
        assert!(guard.ready().is_readable());
        assert_eq!(guard.try_io(|fd| take(fd.get_ref())).unwrap().unwrap(), 3);
        // Taken: the next try would block, clears the readiness, and the
        // next wait waits.
        assert!(guard.try_io(|fd| take(fd.get_ref())).is_err());
        assert_eq!(guard.ready(), Ready::EMPTY);
        drop(guard);
        let pending = futures::poll!(poll_fn(|cx| fd.poll_read_ready(cx).map_ok(|_| ())));
        assert!(pending.is_pending(), "{pending:?}");
    });
}

#[test]
fn guards_clear_what_they_are_told_and_keep_the_rest() {
    run(|| async {
        let fd = AsyncFd::new(event_fd()).unwrap();
        signal(&fd, 1).unwrap();
        let mut both = loop {
            let guard = fd
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
                .unwrap();
            if guard.ready() == Ready::READABLE | Ready::WRITABLE {
                break guard;
            }
        };
        both.clear_ready_matching(Ready::READABLE);
        assert_eq!(both.ready(), Ready::WRITABLE);
        both.retain_ready();
        assert_eq!(both.ready(), Ready::EMPTY);
        drop(both);
        // Reading was cleared (no event came since), writing was kept.
        let pending = futures::poll!(poll_fn(|cx| fd.poll_read_ready(cx).map_ok(|_| ())));
        assert!(pending.is_pending(), "{pending:?}");
        let guard = poll_fn(|cx| fd.poll_write_ready(cx)).await.unwrap();
        assert_eq!(guard.get_inner().as_raw_fd(), fd.as_raw_fd());
        drop(guard);

        // A new event makes it readable again.
        signal(&fd, 1).unwrap();
        let mut guard = fd.readable().await.unwrap();
        assert_eq!(take(guard.get_ref()).unwrap(), 2);
        guard.clear_ready();
        assert_eq!(guard.ready(), Ready::EMPTY);
    });
}

#[test]
fn mutable_guards_give_mutable_access() {
    run(|| async {
        let mut fd = AsyncFd::new(event_fd()).unwrap();
        signal(fd.get_ref(), 5).unwrap();
        let mut guard = fd.readable_mut().await.unwrap();
        let value = guard.try_io(|fd| take(fd.get_mut())).unwrap().unwrap();
        assert_eq!(value, 5);
        let _: &mut OwnedFd = guard.get_inner_mut();
        assert!(guard.try_io(|fd| take(fd.get_ref())).is_err());
        drop(guard);

        let mut guard = fd.writable_mut().await.unwrap();
        assert!(guard.ready().is_writable());
        let _: &mut AsyncFd<OwnedFd> = guard.get_mut();
        drop(guard);
        let n = fd
            .async_io_mut(Interest::WRITABLE, |fd| signal(&*fd, 1).map(|()| 1))
            .await
            .unwrap();
        assert_eq!(n, 1);
        let fd = fd.into_inner();
        // Deregistered, still open.
        assert_eq!(take(&fd).unwrap(), 1);
    });
}

#[test]
fn async_io_waits_for_an_event_from_another_task() {
    run(|| async {
        let fd = Arc::new(AsyncFd::new(event_fd()).unwrap());
        let waiter = {
            let fd = fd.clone();
            smp_rt::spawn(async move { fd.async_io(Interest::READABLE, |fd| take(fd)).await })
        };
        smp_rt::task::yield_now().await;
        signal(fd.get_ref(), 7).unwrap();
        assert_eq!(waiter.await.unwrap().unwrap(), 7);

        // `try_io` without waiting: `WouldBlock` at 0 clears the readiness.
        let err = fd.try_io(Interest::READABLE, |fd| take(fd)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        let pending = futures::poll!(poll_fn(|cx| fd.poll_read_ready(cx).map_ok(|_| ())));
        assert!(pending.is_pending(), "{pending:?}");
    });
}

#[test]
fn a_descriptor_epoll_cannot_watch_is_an_error() {
    run(|| async {
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let err = AsyncFd::new(file).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        // `try_new` gives the object back with the error.
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let (file, err) = AsyncFd::try_new(file).unwrap_err().into_parts();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        assert!(file.metadata().unwrap().is_file());
        #[cfg(all(target_os = "linux", not(smp_rt_portable_poller)))]
        {
            let fd = AsyncFd::with_interest(event_fd(), Interest::PRIORITY).unwrap();
            assert_eq!(fd.interest(), Interest::PRIORITY);
        }
        #[cfg(smp_rt_portable_poller)]
        {
            let err = AsyncFd::with_interest(event_fd(), Interest::PRIORITY).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unsupported, "{err}");
        }
        let fd = AsyncFd::with_interest(event_fd(), Interest::READABLE).unwrap();
        assert_eq!(fd.interest(), Interest::READABLE);
    });
}

#[test]
fn waits_charge_a_reduction_per_poll() {
    let n = preemptions_of(|| async {
        let fd = AsyncFd::new(event_fd()).unwrap();
        for _ in 0..400 {
            let guard = fd.writable().await.unwrap();
            drop(guard);
        }
    });
    assert!(
        n >= 2,
        "400 readiness waits in the smallest slices: {n} preemptions"
    );
}

#[test]
fn register_waits_like_new_and_gives_the_object_back_on_failure() {
    use smp_rt::io::unix::AsyncFdRegisterError;

    run(|| async {
        // SAFETY: the `OwnedFd` keeps its descriptor open until dropped.
        let fd = unsafe { AsyncFd::register(event_fd()) }.unwrap();
        assert_eq!(fd.interest(), Interest::READABLE | Interest::WRITABLE);
        signal(&fd, 1).unwrap();
        let mut guard = fd.readable().await.unwrap();
        assert!(guard.ready().is_readable());
        guard.clear_ready();

        // SAFETY: as above.
        let fd =
            unsafe { AsyncFd::register_with_interest(event_fd(), Interest::READABLE) }.unwrap();
        assert_eq!(fd.interest(), Interest::READABLE);

        let file = std::fs::File::open("/proc/self/exe").unwrap();
        // SAFETY: the `File` keeps its descriptor open until dropped.
        let err: AsyncFdRegisterError<std::fs::File> =
            unsafe { AsyncFd::register(file) }.unwrap_err();
        let (file, err) = err.into_parts();
        assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
        assert!(file.metadata().unwrap().is_file());
    });
}

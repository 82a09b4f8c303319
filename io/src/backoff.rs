//! The accept back-off: after `accept` fails because the process or the
//! system ran out of descriptors (or buffer memory), the listener's next
//! `accept` waits [`ACCEPT_BACKOFF`] before it tries again.
//!
//! Without it, a typical server loop
//!
//! ```text
//! loop {
//!     match listener.accept().await {
//!         Ok((stream, _)) => { spawn(handle(stream)); }
//!         Err(err) => eprintln!("accept: {err}"),
//!     }
//! }
//! ```
//!
//! spins at full speed: the pending connection keeps the listener readable,
//! and every `accept` fails again at once until a descriptor is freed.
//!
//! The reactor has no timers, so the wake-up at the end of a back-off comes
//! from one process-wide helper thread ([`wake_at`]) that sleeps until the
//! earliest deadline it was given and wakes the wakers that are due. It is
//! started the first time a back-off happens and then idles on a condition
//! variable. Should it fail to start, the waker is woken at once: the loop
//! then spins like it would without back-off, but never hangs.

use smp_rt_executor::driver::wake_caught;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io;
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

/// How long a listener waits after running out of descriptors.
pub(crate) const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// `true` for the `accept` errors that mean "out of a resource that only
/// time frees": `EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`.
pub(crate) fn is_resource_exhaustion(err: &io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    const ENOMEM: i32 = 12;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    const ENOBUFS: i32 = 105;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    const ENOBUFS: i32 = 55;
    matches!(err.raw_os_error(), Some(EMFILE | ENFILE | ENOBUFS | ENOMEM))
}

/// A listener's back-off state.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    /// When the current back-off ends, if one is running.
    until: Mutex<Option<Instant>>,
}

impl AcceptBackoff {
    /// Records a failed `accept`: starts a back-off if `err` calls for one.
    pub(crate) fn on_error(&self, err: &io::Error) {
        if is_resource_exhaustion(err) {
            *self.lock() = Some(Instant::now() + ACCEPT_BACKOFF);
        }
    }

    /// `Ready` when no back-off runs; otherwise arranges a wake-up at its
    /// end and returns `Pending`.
    pub(crate) fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut until = self.lock();
        match *until {
            None => Poll::Ready(()),
            Some(deadline) if Instant::now() >= deadline => {
                *until = None;
                Poll::Ready(())
            }
            Some(deadline) => {
                drop(until);
                wake_at(deadline, cx.waker().clone());
                Poll::Pending
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.until.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A waker due at a deadline; ordered by deadline, then by arrival.
struct Due {
    deadline: Instant,
    seq: u64,
    waker: Waker,
}

impl PartialEq for Due {
    fn eq(&self, other: &Due) -> bool {
        (self.deadline, self.seq) == (other.deadline, other.seq)
    }
}

impl Eq for Due {}

impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Due) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Due {
    fn cmp(&self, other: &Due) -> std::cmp::Ordering {
        (self.deadline, self.seq).cmp(&(other.deadline, other.seq))
    }
}

/// The helper thread's queue.
#[derive(Default)]
struct Wakeups {
    heap: Mutex<(BinaryHeap<Reverse<Due>>, u64)>,
    changed: Condvar,
}

/// The helper thread's queue, starting the thread on first use; `None` if
/// the thread could not be started.
fn wakeups() -> Option<&'static Wakeups> {
    static WAKEUPS: OnceLock<Option<&'static Wakeups>> = OnceLock::new();
    *WAKEUPS.get_or_init(|| {
        let wakeups: &'static Wakeups = Box::leak(Box::default());
        let started = thread::Builder::new()
            .name("smp_rt-io-backoff".into())
            .spawn(move || wakeups.run());
        match started {
            Ok(_) => Some(wakeups),
            Err(err) => {
                tracing::warn!(%err, "failed to start the accept back-off thread");
                None
            }
        }
    })
}

/// Wakes `waker` at `deadline` (at once if the helper thread is unavailable).
pub(crate) fn wake_at(deadline: Instant, waker: Waker) {
    let Some(wakeups) = wakeups() else {
        wake_caught(waker);
        return;
    };
    let mut guard = wakeups.heap.lock().unwrap_or_else(|p| p.into_inner());
    let (heap, seq) = &mut *guard;
    let earliest = heap
        .peek()
        .is_none_or(|Reverse(due)| deadline < due.deadline);
    *seq += 1;
    heap.push(Reverse(Due {
        deadline,
        seq: *seq,
        waker,
    }));
    drop(guard);
    if earliest {
        wakeups.changed.notify_one();
    }
}

impl Wakeups {
    fn run(&self) {
        let mut due = Vec::new();
        let mut guard = self.heap.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let now = Instant::now();
            while guard
                .0
                .peek()
                .is_some_and(|Reverse(next)| next.deadline <= now)
            {
                if let Some(Reverse(next)) = guard.0.pop() {
                    due.push(next.waker);
                }
            }
            if !due.is_empty() {
                drop(guard);
                due.drain(..).for_each(wake_caught);
                guard = self.heap.lock().unwrap_or_else(|p| p.into_inner());
                continue;
            }
            guard = match guard.0.peek() {
                Some(Reverse(next)) => {
                    let timeout = next.deadline.saturating_duration_since(now);
                    self.changed
                        .wait_timeout(guard, timeout)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
                None => self.changed.wait(guard).unwrap_or_else(|p| p.into_inner()),
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::mpsc;
    use std::task::Wake;

    struct SendOnWake(Mutex<mpsc::Sender<Instant>>);

    impl Wake for SendOnWake {
        fn wake(self: Arc<Self>) {
            let _ = self.0.lock().unwrap().send(Instant::now());
        }
    }

    fn emfile() -> io::Error {
        io::Error::from_raw_os_error(24)
    }

    #[test]
    fn only_resource_exhaustion_backs_off() {
        assert!(is_resource_exhaustion(&emfile()));
        assert!(is_resource_exhaustion(&io::Error::from_raw_os_error(23)));
        assert!(!is_resource_exhaustion(&io::Error::from(
            io::ErrorKind::ConnectionAborted
        )));
        assert!(!is_resource_exhaustion(&io::Error::other("x")));

        let backoff = AcceptBackoff::default();
        backoff.on_error(&io::Error::from(io::ErrorKind::ConnectionAborted));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(backoff.poll(&mut cx).is_ready());
    }

    #[test]
    fn emfile_delays_the_next_accept_and_wakes_it_after_the_backoff() {
        let backoff = AcceptBackoff::default();
        let (tx, rx) = mpsc::channel();
        let waker = Waker::from(Arc::new(SendOnWake(Mutex::new(tx))));
        let mut cx = Context::from_waker(&waker);

        let failed_at = Instant::now();
        backoff.on_error(&emfile());
        assert!(backoff.poll(&mut cx).is_pending());

        let woken_at = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the back-off never woke the listener's task");
        assert!(woken_at >= failed_at + ACCEPT_BACKOFF);
        assert!(backoff.poll(&mut cx).is_ready());
        // The back-off is over: the next poll does not wait again.
        assert!(backoff.poll(&mut cx).is_ready());
    }

    #[test]
    fn wakeups_fire_in_deadline_order() {
        let (tx, rx) = mpsc::channel();
        let now = Instant::now();
        for (i, ms) in [(0, 30u64), (1, 10), (2, 20)] {
            let tx = tx.clone();
            struct Tagged(Mutex<mpsc::Sender<usize>>, usize);
            impl Wake for Tagged {
                fn wake(self: Arc<Self>) {
                    let _ = self.0.lock().unwrap().send(self.1);
                }
            }
            wake_at(
                now + Duration::from_millis(ms),
                Waker::from(Arc::new(Tagged(Mutex::new(tx), i))),
            );
        }
        let order: Vec<usize> = (0..3)
            .map(|_| rx.recv_timeout(Duration::from_secs(30)).unwrap())
            .collect();
        assert_eq!(order, [1, 2, 0]);
    }
}

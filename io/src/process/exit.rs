//! Learning that a child exited without blocking a worker.
//!
//! On Linux, a pidfd (`pidfd_open(2)`) registered with the reactor: it
//! turns readable when the child exits, and the waiting task then reaps
//! the child with a non-blocking `waitpid`. Where there are no pidfds (not
//! Linux, a kernel older than 5.3, or a sandbox that forbids the call), a
//! thread of its own blocks in `waitid(WEXITED | WNOWAIT)`, which sees the
//! exit without reaping, and wakes the task; the task reaps as above. That
//! thread is a plain thread rather than a blocking-pool task, so that a
//! runtime's shutdown, which waits for blocking tasks, never waits for a
//! child that runs on.
//!
//! Only the task reaps (`std::process::Child::try_wait`), so the child's
//! pid cannot be reused while the pidfd or the thread watches it.

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::process::ExitStatus;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};

use futures::task::AtomicWaker;
use smp_rt_executor::task::poll_charge;

#[cfg(target_os = "linux")]
use crate::poll_evented::PollEvented;
#[cfg(target_os = "linux")]
use crate::reactor::Direction;
use crate::reactor::Inner;

/// How a running child's exit is noticed.
#[derive(Debug)]
pub(super) enum ExitWatch {
    /// The child's pidfd, registered with the reactor.
    #[cfg(target_os = "linux")]
    Pidfd(PollEvented<OwnedFd>),
    /// No thread started yet: the first wait starts one.
    Unwatched,
    /// A thread waits for the exit.
    Thread(Arc<ThreadWatch>),
}

/// What a watching thread shares with the waiting task.
#[derive(Debug, Default)]
pub(super) struct ThreadWatch {
    exited: AtomicBool,
    waker: AtomicWaker,
}

impl ExitWatch {
    /// A watch for the child `pid`: its pidfd where there are pidfds.
    pub(super) fn new(pid: u32, reactor: &Arc<Inner>) -> ExitWatch {
        #[cfg(target_os = "linux")]
        {
            let pidfd = i32::try_from(pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
                .ok_or(io::ErrorKind::InvalidInput.into())
                .and_then(|pid| {
                    Ok(rustix::process::pidfd_open(
                        pid,
                        rustix::process::PidfdFlags::empty(),
                    )?)
                })
                .and_then(|fd| PollEvented::with_reactor(reactor, fd));
            match pidfd {
                Ok(pidfd) => return ExitWatch::Pidfd(pidfd),
                Err(err) => {
                    tracing::debug!(%err, "no pidfd for a child; a thread will wait for its exit")
                }
            }
        }
        let _ = (pid, reactor);
        ExitWatch::Unwatched
    }

    /// The pidfd, deregistered, for the reaper.
    pub(super) fn into_pidfd(self) -> Option<std::os::fd::OwnedFd> {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(pidfd) => Some(pidfd.into_inner()),
            _ => None,
        }
    }

    /// Polls for the child's exit; `try_wait` is the child's own
    /// non-blocking wait, which reaps it. Charges one reduction.
    pub(super) fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        pid: u32,
        mut try_wait: impl FnMut() -> io::Result<Option<ExitStatus>>,
    ) -> Poll<io::Result<ExitStatus>> {
        #[cfg(target_os = "linux")]
        if let ExitWatch::Pidfd(pidfd) = self {
            return pidfd.poll_io_charged(Direction::Read, cx, |_| {
                try_wait()?.ok_or_else(|| io::ErrorKind::WouldBlock.into())
            });
        }
        ready!(poll_charge(cx));
        if let Some(status) = try_wait()? {
            return Poll::Ready(Ok(status));
        }
        let watch = match self {
            ExitWatch::Thread(watch) => watch.clone(),
            _ => {
                let watch = Arc::new(ThreadWatch::default());
                spawn_watcher(pid, watch.clone())?;
                *self = ExitWatch::Thread(watch.clone());
                watch
            }
        };
        watch.waker.register(cx.waker());
        // Acquire: pairs with the watcher's Release store, made after its
        // `waitid` saw the exit; a store after the registration above wakes
        // this task instead.
        if watch.exited.load(Ordering::Acquire) {
            if let Some(status) = try_wait()? {
                return Poll::Ready(Ok(status));
            }
        }
        Poll::Pending
    }
}

/// Starts the thread that waits for `pid` to exit, without reaping it.
fn spawn_watcher(pid: u32, watch: Arc<ThreadWatch>) -> io::Result<()> {
    let pid = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw)
        .ok_or(io::ErrorKind::InvalidInput)?;
    std::thread::Builder::new()
        .name("smp_rt-child-wait".into())
        .spawn(move || {
            let options =
                rustix::process::WaitIdOptions::EXITED | rustix::process::WaitIdOptions::NOWAIT;
            // Returns once the child exited, or is no longer this
            // process's child to watch (reaped already): either way the
            // task looks.
            while let Err(rustix::io::Errno::INTR) =
                rustix::process::waitid(rustix::process::WaitId::Pid(pid), options)
            {}
            // Release: the task's Acquire load that sees it finds the child
            // waitable.
            watch.exited.store(true, Ordering::Release);
            watch.waker.wake();
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::process::{Command, Stdio};

    use super::ExitWatch;

    #[test]
    fn without_a_pidfd_a_thread_sees_the_exit() {
        crate::test_rt::runtime().block_on(async {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            let pid = child.id();
            let mut stdin = child.stdin.take();
            let mut watch = ExitWatch::Unwatched;
            let status = poll_fn(|cx| {
                let poll = watch.poll_exit(cx, pid, || child.try_wait());
                if poll.is_pending() && matches!(watch, ExitWatch::Thread(_)) {
                    // cat exits once its input ends; only the watching
                    // thread can wake this task then.
                    drop(stdin.take());
                }
                poll
            })
            .await
            .unwrap();
            assert!(stdin.is_none(), "cat cannot exit before its input ends");
            assert!(status.success());
        });
    }
}

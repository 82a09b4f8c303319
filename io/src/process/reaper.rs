//! Reaping children whose [`Child`](super::Child) was dropped before they
//! exited, so that none stays a zombie.
//!
//! One thread, started with the first orphan, owns the orphans. New ones
//! arrive through a queue and a byte on a wake pipe. The thread tries a
//! non-blocking wait on each orphan, keeps those still running, and then
//! sleeps in `poll(2)` on the wake pipe and the orphans' pidfds (Linux),
//! each of which turns readable when its child exits. An orphan without a
//! pidfd is looked at again after a pause instead: `FIRST_PAUSE`,
//! doubled while nothing arrives, up to `LONGEST_PAUSE`. It is a plain
//! thread rather than a
//! blocking-pool task, so that no runtime's shutdown waits for a child
//! that runs on.

use std::io;
use std::os::fd::OwnedFd;
use std::process::Child;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec};

/// The first pause before looking again at orphans without a pidfd.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest such pause.
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

/// A dropped child, with its pidfd if it has one.
type Orphan = (Child, Option<OwnedFd>);

struct Reaper {
    /// Orphans handed over and not yet taken by the thread.
    arrived: Mutex<Vec<Orphan>>,
    /// The wake pipe's ends (both non-blocking): a byte written after a
    /// push to `arrived` wakes the thread.
    wake_read: OwnedFd,
    wake_write: OwnedFd,
}

/// The reaper, started on first use; `None` if its pipe or thread could
/// not be created (orphans are then left unreaped, with an error logged).
static REAPER: OnceLock<Option<Reaper>> = OnceLock::new();

/// Hands `child`, which may still be running, to the reaper, with its
/// pidfd if it has one.
pub(super) fn reap(mut child: Child, pidfd: Option<OwnedFd>) {
    if !matches!(child.try_wait(), Ok(None)) {
        return; // reaped now (or not waitable: nothing to reap)
    }
    let Some(reaper) = REAPER.get_or_init(start) else {
        return;
    };
    reaper
        .arrived
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((child, pidfd));
    // A full pipe (`WouldBlock`) wakes the thread already.
    let _ = rustix::io::write(&reaper.wake_write, &[1]);
}

/// Creates the reaper and starts its thread, which waits for `REAPER` to
/// hold it.
fn start() -> Option<Reaper> {
    let started = (|| -> io::Result<Reaper> {
        let (wake_read, wake_write) = rustix::pipe::pipe()?;
        rustix::io::ioctl_fionbio(&wake_read, true)?;
        rustix::io::ioctl_fionbio(&wake_write, true)?;
        std::thread::Builder::new()
            .name("smp_rt-reaper".into())
            .spawn(|| {
                if let Some(reaper) = REAPER.wait() {
                    run(reaper);
                }
            })?;
        Ok(Reaper {
            arrived: Mutex::new(Vec::new()),
            wake_read,
            wake_write,
        })
    })();
    started
        .inspect_err(|err| {
            tracing::error!(%err, "cannot start the thread that reaps dropped children");
        })
        .ok()
}

fn run(reaper: &Reaper) {
    let mut orphans: Vec<Orphan> = Vec::new();
    let mut pause = FIRST_PAUSE;
    loop {
        // Drain the wake pipe before taking the queue: a byte written
        // after this read is for an orphan the next round takes.
        let mut bytes = [0; 64];
        while matches!(rustix::io::read(&reaper.wake_read, &mut bytes), Ok(n) if n > 0) {}
        let arrived = std::mem::take(
            &mut *reaper
                .arrived
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        if !arrived.is_empty() {
            pause = FIRST_PAUSE;
        }
        orphans.extend(arrived);
        orphans.retain_mut(|(child, _)| matches!(child.try_wait(), Ok(None)));

        let mut fds = vec![PollFd::new(&reaper.wake_read, PollFlags::IN)];
        fds.extend(
            orphans
                .iter()
                .filter_map(|(_, pidfd)| pidfd.as_ref())
                .map(|pidfd| PollFd::new(pidfd, PollFlags::IN)),
        );
        let timeout = orphans
            .iter()
            .any(|(_, pidfd)| pidfd.is_none())
            .then(|| Timespec::try_from(pause).expect("the pause fits a timespec"));
        // An error (`EINTR`) only makes the round start over.
        let _ = rustix::event::poll(&mut fds, timeout.as_ref());
        if timeout.is_some() {
            pause = (pause * 2).min(LONGEST_PAUSE);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::process::{Command, Stdio};
    use std::time::Duration;

    /// Whether process `pid` still exists (running, or a zombie).
    fn exists(pid: u32) -> bool {
        std::path::Path::new(&format!("/proc/{pid}")).exists()
    }

    /// Hands two running `cat`s to the reaper, one with its pidfd and one
    /// without, ends their input, and waits (a 30 s guard against a hang)
    /// until both are gone.
    #[test]
    fn orphans_with_and_without_a_pidfd_are_reaped() {
        let mut pids = Vec::new();
        let mut inputs = Vec::new();
        for with_pidfd in [true, false] {
            let mut child = Command::new("cat")
                .stdin(Stdio::piped())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            inputs.push(child.stdin.take().unwrap());
            let pid = child.id();
            let pidfd = with_pidfd.then(|| {
                let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
                rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).unwrap()
            });
            super::reap(child, pidfd);
            pids.push(pid);
        }
        assert!(pids.iter().all(|&pid| exists(pid)), "the cats run on");
        drop(inputs);
        for _ in 0..3000 {
            if !pids.iter().any(|&pid| exists(pid)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("children {pids:?} were not reaped");
    }
}

//! Reaping children whose [`Child`](super::Child) was dropped before they
//! exited, so that none stays a zombie.
//!
//! One thread, started with the first orphan, owns the orphans: it tries
//! a non-blocking wait on each, keeps those still running, and sleeps
//! between rounds, 10 ms after an orphan arrives and twice as long after
//! each round that found one still running, up to a second; with no
//! orphan it sleeps until one arrives. An orphan is so reaped at most a
//! second after it exits. It is a plain thread rather than a blocking-pool
//! task, so that no runtime's shutdown waits for a child that runs on.

use std::process::Child;
use std::sync::{Condvar, Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// The first pause after an orphan arrives.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// The longest pause between two rounds.
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

struct Orphans {
    children: Mutex<Vec<Child>>,
    /// Signalled when an orphan arrives.
    arrived: Condvar,
}

static ORPHANS: OnceLock<Orphans> = OnceLock::new();

/// Hands `child`, which may still be running, to the reaper.
pub(super) fn reap(mut child: Child) {
    if !matches!(child.try_wait(), Ok(None)) {
        return; // reaped now (or not waitable: nothing to reap)
    }
    let mut started = false;
    let orphans = ORPHANS.get_or_init(|| {
        started = true;
        Orphans {
            children: Mutex::new(Vec::new()),
            arrived: Condvar::new(),
        }
    });
    orphans
        .children
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(child);
    orphans.arrived.notify_one();
    if started {
        let spawned = std::thread::Builder::new()
            .name("smp_rt-reaper".into())
            .spawn(move || run(orphans));
        if let Err(err) = spawned {
            tracing::error!(%err, "cannot start the thread that reaps dropped children");
        }
    }
}

fn run(orphans: &'static Orphans) {
    let mut children = orphans
        .children
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let mut pause = FIRST_PAUSE;
    loop {
        children.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
        if children.is_empty() {
            children = orphans
                .arrived
                .wait(children)
                .unwrap_or_else(PoisonError::into_inner);
            pause = FIRST_PAUSE;
            continue;
        }
        let len = children.len();
        children = orphans
            .arrived
            .wait_timeout(children, pause)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
        pause = if children.len() > len {
            FIRST_PAUSE
        } else {
            (pause * 2).min(LONGEST_PAUSE)
        };
    }
}

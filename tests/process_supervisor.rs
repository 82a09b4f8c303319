//! Processes: supervisors, their restart strategies and intensity limit.
//!
//! Children fail deterministically: a child panics at start for its first
//! `n` starts, then runs until it is killed. The tests wait for a state
//! (with a bound that fails the test), never for a length of time, and the
//! intensity window is an hour so that speed does not matter.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use smp_rt::process::supervisor::{self, Child, ChildSpec, Restart, Strategy, Supervisor};
use smp_rt::process::{self, ExitReason, Mailbox, Pid};
use smp_rt::sync::oneshot;

const HOUR: Duration = Duration::from_secs(3600);

/// Awaits `fut`, failing the test (instead of hanging) if it takes more
/// than a minute.
async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match smp_rt::time::timeout(Duration::from_secs(60), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// Waits until `sup` reports children for which `done` holds.
async fn children_until(
    what: &str,
    sup: &Pid<supervisor::Command>,
    mut done: impl FnMut(&[Child]) -> bool,
) -> Vec<Child> {
    bounded(what, async {
        loop {
            let children = supervisor::which_children(sup)
                .await
                .expect("the supervisor is alive");
            if done(&children) {
                return children;
            }
            smp_rt::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
}

/// A child that panics at start for its first `crashes` starts, then waits
/// for a message and ends normally. Counts its starts.
fn child(id: &str, crashes: usize) -> (ChildSpec, Arc<AtomicUsize>) {
    let starts = Arc::new(AtomicUsize::new(0));
    let counter = starts.clone();
    let spec = ChildSpec::new(id, move || {
        let n = counter.fetch_add(1, SeqCst);
        process::spawn_link(move |mut mbox: Mailbox<()>| async move {
            if n < crashes {
                panic!("crash {n}");
            }
            mbox.recv().await;
        })
    });
    (spec, starts)
}

fn restarts(children: &[Child]) -> Vec<u64> {
    children.iter().map(|c| c.restarts).collect()
}

fn pids(children: &[Child]) -> Vec<process::ProcessId> {
    children
        .iter()
        .map(|c| c.pid.as_ref().unwrap().id())
        .collect()
}

fn starts(counters: &[&Arc<AtomicUsize>]) -> Vec<usize> {
    counters.iter().map(|c| c.load(SeqCst)).collect()
}

#[smp_rt::test(worker_threads = 2)]
async fn one_for_one_restarts_only_the_failed_child() {
    let (a, a_n) = child("a", 0);
    let (b, b_n) = child("b", 2);
    let (c, c_n) = child("c", 0);
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(10, HOUR)
        .child(a)
        .child(b)
        .child(c)
        .spawn();
    let first = children_until("the first starts", &sup, |c| {
        c.iter().all(|c| c.pid.is_some())
    })
    .await;
    let children = children_until("two restarts of b", &sup, |c| c[1].restarts == 2).await;
    assert_eq!(restarts(&children), [0, 2, 0]);
    assert_eq!(starts(&[&a_n, &b_n, &c_n]), [1, 3, 1]);
    // a and c are the same processes as before.
    assert_eq!(pids(&children)[0], first[0].pid.as_ref().unwrap().id());
    assert_eq!(pids(&children)[2], first[2].pid.as_ref().unwrap().id());
    assert!(children.iter().all(|c| c.pid.as_ref().unwrap().is_alive()));
    assert_eq!(
        bounded("stop", supervisor::stop(&sup)).await,
        ExitReason::Normal
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn one_for_all_restarts_every_child() {
    let (a, a_n) = child("a", 0);
    let (b, b_n) = child("b", 2);
    let (c, c_n) = child("c", 0);
    let sup = Supervisor::new(Strategy::OneForAll)
        .intensity(10, HOUR)
        .child(a)
        .child(b)
        .child(c)
        .spawn();
    let children = children_until("two restarts of b", &sup, |c| c[1].restarts == 2).await;
    assert_eq!(restarts(&children), [2, 2, 2]);
    assert_eq!(starts(&[&a_n, &b_n, &c_n]), [3, 3, 3]);
    assert!(children.iter().all(|c| c.pid.as_ref().unwrap().is_alive()));
    assert_eq!(
        bounded("stop", supervisor::stop(&sup)).await,
        ExitReason::Normal
    );
    assert!(children.iter().all(|c| !c.pid.as_ref().unwrap().is_alive()));
}

#[smp_rt::test(worker_threads = 2)]
async fn rest_for_one_restarts_the_later_children() {
    let (a, a_n) = child("a", 0);
    let (b, b_n) = child("b", 2);
    let (c, c_n) = child("c", 0);
    let sup = Supervisor::new(Strategy::RestForOne)
        .intensity(10, HOUR)
        .child(a)
        .child(b)
        .child(c)
        .spawn();
    let children = children_until("two restarts of b", &sup, |c| c[1].restarts == 2).await;
    assert_eq!(restarts(&children), [0, 2, 2]);
    assert_eq!(starts(&[&a_n, &b_n, &c_n]), [1, 3, 3]);
    assert_eq!(
        bounded("stop", supervisor::stop(&sup)).await,
        ExitReason::Normal
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn exceeding_the_intensity_makes_the_supervisor_fail() {
    let (healthy, healthy_n) = child("healthy", 0);
    let (doomed, doomed_n) = child("doomed", usize::MAX);
    let (tx, rx) = oneshot::channel();
    let mut tx = Some(tx);
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(3, HOUR)
        .child(healthy)
        // Reports its first incarnation, to watch it being stopped.
        .child(ChildSpec::new("watcher", move || {
            let pid = process::spawn_link(|mut mbox: Mailbox<()>| async move {
                mbox.recv().await;
            });
            if let Some(tx) = tx.take() {
                tx.send(process::monitor(&pid)).unwrap();
            }
            pid
        }))
        .child(doomed)
        .spawn();
    let watcher_down = bounded("the watcher", rx).await.unwrap();
    let down = bounded("the supervisor", process::monitor(&sup)).await;
    match &down.reason {
        ExitReason::Error(msg) => assert!(msg.contains("more than 3 restarts"), "{msg}"),
        other => panic!("unexpected exit reason {other:?}"),
    }
    // The first start and 3 restarts; the 4th failure was one too many.
    assert_eq!(doomed_n.load(SeqCst), 4);
    assert_eq!(healthy_n.load(SeqCst), 1);
    // The other children were stopped.
    assert_eq!(
        bounded("the watcher", watcher_down).await.reason,
        ExitReason::Killed
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn zero_intensity_means_no_restart() {
    let (doomed, doomed_n) = child("doomed", 1);
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(0, HOUR)
        .child(doomed)
        .spawn();
    let down = bounded("the supervisor", process::monitor(&sup)).await;
    assert!(
        matches!(down.reason, ExitReason::Error(_)),
        "{:?}",
        down.reason
    );
    assert_eq!(doomed_n.load(SeqCst), 1);
}

#[smp_rt::test(worker_threads = 2)]
async fn restart_policies() {
    // Each child ends normally when sent (), or panics for its first start.
    let (permanent, permanent_n) = child("permanent", 0);
    let (transient, transient_n) = child("transient", 0);
    let (transient_crash, transient_crash_n) = child("transient-crash", 1);
    let (temporary, temporary_n) = child("temporary", 1);
    let sup = Supervisor::new(Strategy::OneForOne)
        .intensity(10, HOUR)
        .child(permanent)
        .child(transient.restart(Restart::Transient))
        .child(transient_crash.restart(Restart::Transient))
        .child(temporary.restart(Restart::Temporary))
        .spawn();
    // The crashing transient child is restarted; the temporary one is not.
    let children = children_until("the first crashes", &sup, |c| {
        c[2].restarts == 1 && c[3].pid.as_ref().is_none_or(|p| !p.is_alive())
    })
    .await;
    let send_stop = |c: &Child| {
        c.pid
            .clone()
            .unwrap()
            .downcast::<()>()
            .unwrap()
            .send(())
            .unwrap()
    };
    // Normal exits: the permanent child comes back, the transient does not.
    send_stop(&children[0]);
    send_stop(&children[1]);
    let children = children_until("the normal exits", &sup, |c| {
        c[0].restarts == 1 && c[1].pid.is_none()
    })
    .await;
    assert_eq!(restarts(&children), [1, 0, 1, 0]);
    assert!(children[3].pid.is_none());
    assert_eq!(
        starts(&[&permanent_n, &transient_n, &transient_crash_n, &temporary_n]),
        [2, 1, 2, 1]
    );
    assert_eq!(
        bounded("stop", supervisor::stop(&sup)).await,
        ExitReason::Normal
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn killing_the_supervisor_kills_its_children() {
    let (a, _) = child("a", 0);
    let (b, _) = child("b", 0);
    let sup = Supervisor::new(Strategy::OneForOne)
        .child(a)
        .child(b)
        .spawn();
    let children = children_until("the starts", &sup, |c| c.iter().all(|c| c.pid.is_some())).await;
    let downs: Vec<_> = children
        .iter()
        .map(|c| process::monitor(c.pid.as_ref().unwrap()))
        .collect();
    sup.kill();
    for down in downs {
        assert_eq!(bounded("a child", down).await.reason, ExitReason::Killed);
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn a_supervisor_ends_with_its_parent() {
    let (a, _) = child("a", 0);
    let (tx, rx) = oneshot::channel();
    let parent = process::spawn(move |mut mbox: Mailbox<()>| async move {
        let sup = Supervisor::new(Strategy::OneForOne).child(a).spawn_link();
        tx.send(sup).unwrap();
        mbox.recv().await;
    });
    let sup = bounded("the supervisor", rx).await.unwrap();
    let children = children_until("the start", &sup, |c| c[0].pid.is_some()).await;
    let child_down = process::monitor(children[0].pid.as_ref().unwrap());
    let sup_down = process::monitor(&sup);
    // A normal exit of the parent stops the supervisor too.
    parent.send(()).unwrap();
    assert_eq!(
        bounded("the supervisor", sup_down).await.reason,
        ExitReason::Normal
    );
    assert_eq!(
        bounded("the child", child_down).await.reason,
        ExitReason::Killed
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn a_failing_supervisor_is_restarted_by_its_supervisor() {
    // The inner supervisor allows no restart and its child crashes once:
    // the inner supervisor fails, the outer one restarts it, and the
    // child's second start runs.
    let starts = Arc::new(AtomicUsize::new(0));
    let counter = starts.clone();
    let inner = ChildSpec::new("inner", move || {
        let counter = counter.clone();
        Supervisor::new(Strategy::OneForOne)
            .intensity(0, HOUR)
            .child(ChildSpec::new("worker", move || {
                let n = counter.fetch_add(1, SeqCst);
                process::spawn_link(move |mut mbox: Mailbox<()>| async move {
                    if n == 0 {
                        panic!("first start fails");
                    }
                    mbox.recv().await;
                })
            }))
            .spawn_link()
    });
    let outer = Supervisor::new(Strategy::OneForOne)
        .intensity(5, HOUR)
        .child(inner)
        .spawn();
    let children = children_until("the inner restart", &outer, |c| c[0].restarts == 1).await;
    let inner = children[0]
        .pid
        .clone()
        .unwrap()
        .downcast::<supervisor::Command>()
        .unwrap();
    let inner_children = children_until("the worker", &inner, |c| c[0].pid.is_some()).await;
    assert_eq!(inner_children[0].restarts, 0);
    assert_eq!(starts.load(SeqCst), 2);
    assert_eq!(
        bounded("stop", supervisor::stop(&outer)).await,
        ExitReason::Normal
    );
    assert!(!inner.is_alive());
}

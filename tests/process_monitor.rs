//! Processes: monitors, and a process that panics while others wait on it.

use std::future::Future;
use std::time::Duration;

use futures::FutureExt;
use smp_rt::process::{self, ExitReason, Mailbox, Signal};
use smp_rt::sync::oneshot;

/// Awaits `fut`, failing the test (instead of hanging) if it takes more
/// than a minute.
async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match smp_rt::time::timeout(Duration::from_secs(60), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn a_monitor_sees_a_normal_exit() {
    let (pid, down) = process::spawn_monitor(|mut mbox: Mailbox<()>| async move {
        mbox.recv().await;
    });
    assert!(down.pid_id() == pid.id());
    pid.send(()).unwrap();
    let down = bounded("the exit", down).await;
    assert_eq!(down.pid_id, pid.id());
    assert_eq!(down.reason, ExitReason::Normal);
}

#[smp_rt::test(worker_threads = 2)]
async fn a_monitor_sees_a_kill() {
    let pid = process::spawn(|mut mbox: Mailbox<()>| async move {
        mbox.recv().await;
    });
    let down = process::monitor(&pid);
    pid.kill();
    assert_eq!(bounded("the kill", down).await.reason, ExitReason::Killed);
}

#[smp_rt::test(worker_threads = 2)]
async fn a_process_panics_while_others_wait_on_it() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (victim, victim_down) = process::spawn_monitor(move |_: Mailbox<()>| async move {
        go_rx.await.unwrap();
        panic!("victim failed");
    });
    let reason = ExitReason::Panic("victim failed".into());

    // Many monitors, awaited by plain tasks and by a process.
    let mut watchers = Vec::new();
    for _ in 0..10 {
        watchers.push(smp_rt::spawn(process::monitor(&victim)));
    }
    let (watcher_tx, watcher_rx) = oneshot::channel();
    let monitor = process::monitor(&victim);
    process::spawn(move |_: Mailbox<()>| async move {
        watcher_tx.send(monitor.await).unwrap();
    });

    // A linked process that does not trap exits, and one that does.
    let (ready_tx, ready_rx) = oneshot::channel();
    let v = victim.clone();
    let (linked, linked_down) = process::spawn_monitor(move |mut mbox: Mailbox<()>| async move {
        process::link(&v);
        ready_tx.send(()).unwrap();
        mbox.recv().await;
    });
    bounded("the first link", ready_rx).await.unwrap();
    let (ready_tx, ready_rx) = oneshot::channel();
    let (trapped_tx, trapped_rx) = oneshot::channel();
    let v = victim.clone();
    let (trapper, trapper_down) = process::spawn_monitor(move |mut mbox: Mailbox<()>| async move {
        process::trap_exit(true);
        process::link(&v);
        ready_tx.send(()).unwrap();
        match mbox.recv_signal().await {
            Signal::Exit(exit) => trapped_tx.send(exit).unwrap(),
            Signal::Message(()) => panic!("expected an exit signal"),
        }
        mbox.recv().await;
    });
    bounded("the second link", ready_rx).await.unwrap();
    assert_eq!(victim.info().unwrap().links, 2);
    assert_eq!(victim.info().unwrap().monitors, 1 + 10 + 1);

    go_tx.send(()).unwrap();

    assert_eq!(bounded("the victim", victim_down).await.reason, reason);
    for w in watchers {
        let down = bounded("a task's monitor", w).await.unwrap();
        assert_eq!(down.reason, reason);
        assert_eq!(down.pid_id, victim.id());
    }
    assert_eq!(
        bounded("a process's monitor", watcher_rx)
            .await
            .unwrap()
            .reason,
        reason
    );
    assert_eq!(
        bounded("the linked process", linked_down).await.reason,
        reason
    );
    assert!(!linked.is_alive());
    let exit = bounded("the trapped exit", trapped_rx).await.unwrap();
    assert_eq!(exit.pid_id, victim.id());
    assert_eq!(exit.reason, reason);
    assert!(trapper.is_alive());
    trapper.send(()).unwrap();
    assert_eq!(
        bounded("the trapper", trapper_down).await.reason,
        ExitReason::Normal
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn monitoring_a_dead_process_resolves_at_once() {
    let (pid, down) = process::spawn_monitor(|_: Mailbox<()>| async { panic!("early") });
    bounded("the exit", down).await;
    let again = process::monitor(&pid);
    let down = again.now_or_never().expect("resolved at once");
    assert_eq!(down.reason, ExitReason::Panic("early".into()));
    assert_eq!(down.pid_id, pid.id());
}

#[smp_rt::test(worker_threads = 2)]
async fn dropping_a_monitor_removes_it() {
    let pid = process::spawn(|mut mbox: Mailbox<()>| async move {
        mbox.recv().await;
    });
    let monitors: Vec<_> = (0..100).map(|_| process::monitor(&pid)).collect();
    assert_eq!(pid.info().unwrap().monitors, 100);
    drop(monitors);
    assert_eq!(pid.info().unwrap().monitors, 0);
    pid.kill();
}

#[smp_rt::test(worker_threads = 2)]
async fn a_monitor_works_through_an_any_pid() {
    let pid = process::spawn(|mut mbox: Mailbox<u8>| async move {
        mbox.recv().await;
    });
    let any = pid.to_any();
    let down = process::monitor(&any);
    assert_eq!(down.pid().id(), pid.id());
    any.kill();
    assert_eq!(bounded("the kill", down).await.reason, ExitReason::Killed);
    assert_eq!(any.exit_reason(), Some(ExitReason::Killed));
}

#[test]
fn monitors_resolve_when_the_runtime_is_dropped() {
    let rt = smp_rt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let (_pid, down) = rt.block_on(async {
        process::spawn_monitor(|mut mbox: Mailbox<()>| async move {
            mbox.recv().await;
        })
    });
    drop(rt);
    let down = down
        .now_or_never()
        .expect("resolved when the runtime was dropped");
    assert_eq!(down.reason, ExitReason::Killed);
}

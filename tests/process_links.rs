//! Processes: links, exit propagation, trapping exits.

use std::future::Future;
use std::time::Duration;

use smp_rt::process::{self, Exit, ExitReason, Mailbox, Monitor, Pid, Signal};
use smp_rt::sync::oneshot;

/// Awaits `fut`, failing the test (instead of hanging) if it takes more
/// than a minute.
async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match smp_rt::time::timeout(Duration::from_secs(60), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// A process that waits for one message, then ends normally.
async fn idle(mut mbox: Mailbox<()>) {
    mbox.recv().await
}

/// Spawns a process that links to `to` (and tells when it has), then idles.
async fn linked_to<M: Send + 'static>(to: &Pid<M>) -> (Pid<()>, Monitor) {
    let to = to.clone();
    let (ready_tx, ready_rx) = oneshot::channel();
    let (pid, down) = process::spawn_monitor(move |mbox: Mailbox<()>| async move {
        process::link(&to);
        ready_tx.send(()).unwrap();
        idle(mbox).await
    });
    bounded("the link", ready_rx).await.unwrap();
    (pid, down)
}

#[smp_rt::test(worker_threads = 2)]
async fn a_panic_kills_linked_processes_along_a_chain() {
    // a - b - c, then c panics.
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (c, c_down) = process::spawn_monitor(move |_: Mailbox<()>| async move {
        go_rx.await.unwrap();
        panic!("c failed");
    });
    let (b, b_down) = linked_to(&c).await;
    let (a, a_down) = linked_to(&b).await;
    go_tx.send(()).unwrap();
    let reason = ExitReason::Panic("c failed".into());
    assert_eq!(bounded("c", c_down).await.reason, reason);
    // Linked processes end with the same reason, as on BEAM.
    assert_eq!(bounded("b", b_down).await.reason, reason);
    assert_eq!(bounded("a", a_down).await.reason, reason);
    assert!(!a.is_alive() && !b.is_alive() && !c.is_alive());
}

#[smp_rt::test(worker_threads = 2)]
async fn kill_propagates_to_linked_processes() {
    let (target, target_down) = process::spawn_monitor(idle);
    let (linked, linked_down) = linked_to(&target).await;
    target.kill();
    assert_eq!(
        bounded("target", target_down).await.reason,
        ExitReason::Killed
    );
    assert_eq!(
        bounded("linked", linked_down).await.reason,
        ExitReason::Killed
    );
    assert!(!linked.is_alive());
}

#[smp_rt::test(worker_threads = 2)]
async fn a_normal_exit_does_not_kill_linked_processes() {
    let (target, target_down) = process::spawn_monitor(idle);
    let (linked, _linked_down) = linked_to(&target).await;
    target.send(()).unwrap();
    assert_eq!(
        bounded("target", target_down).await.reason,
        ExitReason::Normal
    );
    // The link is gone with the target; the linked process lives on.
    assert!(linked.is_alive());
    assert_eq!(linked.info().unwrap().links, 0);
    linked.kill();
}

#[smp_rt::test(worker_threads = 2)]
async fn a_trapping_process_gets_the_exit_and_lives() {
    let (tx, rx) = oneshot::channel();
    let (parent, parent_down) = process::spawn_monitor(move |mut mbox: Mailbox<u32>| async move {
        assert!(!process::trap_exit(true));
        let crash = process::spawn_link(|_: Mailbox<()>| async { panic!("boom") });
        let normal = process::spawn_link(|_: Mailbox<()>| async {});
        let mut exits = vec![mbox.recv_exit().await, mbox.recv_exit().await];
        exits.sort_by_key(|e| e.pid_id);
        let mut expected = vec![
            Exit {
                pid_id: crash.id(),
                reason: ExitReason::Panic("boom".into()),
            },
            Exit {
                pid_id: normal.id(),
                reason: ExitReason::Normal,
            },
        ];
        expected.sort_by_key(|e| e.pid_id);
        // Still alive: it handles messages afterwards.
        let msg = mbox.recv().await;
        tx.send((exits == expected, msg)).unwrap();
    });
    parent.send(9).unwrap();
    assert_eq!(bounded("the exits", rx).await.unwrap(), (true, 9));
    assert_eq!(
        bounded("the parent", parent_down).await.reason,
        ExitReason::Normal
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn kill_is_not_trappable() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let (pid, down) = process::spawn_monitor(move |mbox: Mailbox<()>| async move {
        process::trap_exit(true);
        ready_tx.send(()).unwrap();
        idle(mbox).await
    });
    bounded("trap_exit", ready_rx).await.unwrap();
    pid.kill();
    assert_eq!(bounded("the kill", down).await.reason, ExitReason::Killed);
}

#[smp_rt::test(worker_threads = 2)]
async fn exit_signals_come_after_the_messages_sent_before_them() {
    let (tx, rx) = oneshot::channel();
    process::spawn(move |mut mbox: Mailbox<u32>| async move {
        process::trap_exit(true);
        let me = mbox.pid();
        let child = process::spawn_link(move |_: Mailbox<()>| async move {
            for i in 0..100 {
                me.send(i).unwrap();
                smp_rt::task::yield_now().await;
            }
            panic!("done sending");
        });
        let mut got = Vec::new();
        loop {
            match mbox.recv_signal().await {
                Signal::Message(i) => got.push(i),
                Signal::Exit(exit) => {
                    assert_eq!(exit.pid_id, child.id());
                    break;
                }
            }
        }
        tx.send(got).unwrap();
    });
    let got = bounded("the signals", rx).await.unwrap();
    assert_eq!(got, (0..100).collect::<Vec<_>>());
}

#[smp_rt::test(worker_threads = 2)]
async fn exit_order_holds_with_messages_set_aside() {
    let (tx, rx) = oneshot::channel();
    process::spawn(move |mut mbox: Mailbox<u32>| async move {
        process::trap_exit(true);
        let me = mbox.pid();
        let (sent_tx, sent_rx) = oneshot::channel::<()>();
        let child = process::spawn_link(move |_: Mailbox<()>| async move {
            for i in 0..10 {
                me.send(i).unwrap();
            }
            sent_tx.send(()).unwrap();
            panic!("bye");
        });
        sent_rx.await.unwrap();
        process::monitor(&child).await;
        // Take 5 out of order: the rest stay ahead of the exit signal.
        assert_eq!(mbox.recv_match(|m| *m == 5).await, 5);
        let mut got = Vec::new();
        while let Signal::Message(i) = mbox.recv_signal().await {
            got.push(i);
        }
        tx.send(got).unwrap();
    });
    let got = bounded("the signals", rx).await.unwrap();
    assert_eq!(got, [0, 1, 2, 3, 4, 6, 7, 8, 9]);
}

#[smp_rt::test(worker_threads = 2)]
async fn unlink_stops_propagation() {
    let (tx, rx) = oneshot::channel();
    let (pid, down) = process::spawn_monitor(move |mbox: Mailbox<()>| async move {
        let child = process::spawn_link(idle);
        assert_eq!(process::current().unwrap().info().unwrap().links, 1);
        process::unlink(&child);
        assert_eq!(process::current().unwrap().info().unwrap().links, 0);
        let child_down = process::monitor(&child);
        child.kill();
        child_down.await;
        tx.send(()).unwrap();
        idle(mbox).await
    });
    bounded("the child", rx).await.unwrap();
    assert!(pid.is_alive());
    pid.send(()).unwrap();
    assert_eq!(bounded("the exit", down).await.reason, ExitReason::Normal);
}

#[smp_rt::test(worker_threads = 2)]
async fn linking_to_a_dead_process_delivers_its_exit() {
    let (dead, dead_down) = process::spawn_monitor(|_: Mailbox<()>| async { panic!("gone") });
    bounded("the dead process", dead_down).await;

    // Trapping: the exit arrives as a signal.
    let (tx, rx) = oneshot::channel();
    let d = dead.clone();
    process::spawn(move |mut mbox: Mailbox<()>| async move {
        process::trap_exit(true);
        process::link(&d);
        tx.send(mbox.recv_exit().await).unwrap();
    });
    let exit = bounded("the exit", rx).await.unwrap();
    assert_eq!(exit.pid_id, dead.id());
    assert_eq!(exit.reason, ExitReason::Panic("gone".into()));

    // Not trapping: the caller dies.
    let d = dead.clone();
    let (_pid, down) = process::spawn_monitor(move |mbox: Mailbox<()>| async move {
        process::link(&d);
        idle(mbox).await
    });
    assert_eq!(
        bounded("the caller", down).await.reason,
        ExitReason::Panic("gone".into())
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn process_exit_with_a_reason() {
    let (target, target_down) = process::spawn_monitor(|mut mbox: Mailbox<()>| async move {
        mbox.recv().await;
        process::exit(ExitReason::Error("told to".into())).await;
        unreachable!("exit does not return");
    });
    let (_linked, linked_down) = linked_to(&target).await;
    target.send(()).unwrap();
    let reason = ExitReason::Error("told to".into());
    assert_eq!(bounded("the target", target_down).await.reason, reason);
    assert_eq!(bounded("the linked", linked_down).await.reason, reason);
}

#[smp_rt::test(worker_threads = 2)]
async fn a_long_chain_of_links_dies_without_deep_recursion() {
    const N: usize = 10_000;
    // Each process spawns the next linked to it; the last one reports its
    // pid and waits. Killing the first takes the whole chain down.
    fn link_next(
        left: usize,
        report: oneshot::Sender<Pid<()>>,
    ) -> impl FnOnce(Mailbox<()>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> {
        move |mbox: Mailbox<()>| {
            Box::pin(async move {
                if left == 0 {
                    report.send(mbox.pid()).unwrap();
                } else {
                    process::spawn_link(link_next(left - 1, report));
                }
                idle(mbox).await
            })
        }
    }
    let (tx, rx) = oneshot::channel();
    let first = process::spawn(link_next(N - 1, tx));
    let last = bounded("the chain", rx).await.unwrap();
    let last_down = process::monitor(&last);
    first.kill();
    assert_eq!(
        bounded("the end of the chain", last_down).await.reason,
        ExitReason::Killed
    );
}

#[test]
fn dropping_the_runtime_ends_a_long_linked_chain() {
    use futures::FutureExt;
    const N: usize = 10_000;
    let rt = smp_rt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let monitors = rt.block_on(async move {
        let mut monitors = Vec::new();
        let mut prev: Option<Pid<()>> = None;
        for _ in 0..N {
            let p = prev.take();
            let (ready_tx, ready_rx) = oneshot::channel();
            let (pid, down) = process::spawn_monitor(move |mbox: Mailbox<()>| async move {
                if let Some(p) = p {
                    process::link(&p);
                }
                ready_tx.send(()).unwrap();
                idle(mbox).await
            });
            ready_rx.await.unwrap();
            monitors.push(down);
            prev = Some(pid);
        }
        monitors
    });
    // Every process's future is dropped with the runtime, and each exit
    // path runs then (iteratively: the chain does not overflow the stack).
    drop(rt);
    for down in monitors {
        let down = down
            .now_or_never()
            .expect("resolved when the runtime was dropped");
        assert_eq!(down.reason, ExitReason::Killed);
    }
}

#[test]
fn link_outside_a_process_panics() {
    smp_rt::block_on(async {
        let pid = process::spawn(idle);
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| process::link(&pid)))
            .unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.contains("outside a process"), "{msg}");
        pid.kill();
    });
}

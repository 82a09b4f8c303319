//! Processes: `Pid::info`, the outside view of a process's counters.

use std::future::Future;
use std::time::Duration;

use smp_rt::process::{self, Mailbox};
use smp_rt::sync::oneshot;
use smp_rt::task::{self, Priority};

/// Awaits `fut`, failing the test (instead of hanging) if it takes more
/// than a minute.
async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match smp_rt::time::timeout(Duration::from_secs(60), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

enum Msg {
    Work,
    /// Replies with the process's own view of its counters.
    Stats(oneshot::Sender<task::TaskStats>),
    SetPriority(Priority, oneshot::Sender<()>),
    /// Ends the current poll (a `yield_now`), then replies from the next.
    Yield(oneshot::Sender<()>),
}

async fn worker(mut mbox: Mailbox<Msg>) {
    loop {
        match mbox.recv().await {
            Msg::Work => {}
            Msg::Stats(reply) => {
                let _ = reply.send(task::stats());
            }
            Msg::SetPriority(p, reply) => {
                task::set_priority(p);
                let _ = reply.send(());
            }
            Msg::Yield(reply) => {
                task::yield_now().await;
                let _ = reply.send(());
            }
        }
    }
}

/// Returns once the process has begun a poll after everything it did
/// before this call: the outside view (`Pid::info`) is then up to date.
async fn next_poll(pid: &process::Pid<Msg>) {
    let (tx, rx) = oneshot::channel();
    pid.send(Msg::Yield(tx)).unwrap();
    bounded("the next poll", rx).await.unwrap();
}

async fn stats(pid: &process::Pid<Msg>) -> task::TaskStats {
    let (tx, rx) = oneshot::channel();
    pid.send(Msg::Stats(tx)).unwrap();
    bounded("the stats", rx).await.unwrap()
}

#[smp_rt::test(worker_threads = 2)]
async fn info_reports_names_priority_links_and_monitors() {
    let (ready_tx, ready_rx) = oneshot::channel();
    let pid = process::Builder::new()
        .name("informant")
        .priority(Priority::High)
        .spawn(move |mut mbox: Mailbox<u32>| async move {
            process::trap_exit(true);
            let _child = process::spawn_link(|mut m: Mailbox<()>| async move { m.recv().await });
            ready_tx.send(()).unwrap();
            mbox.recv().await;
        });
    bounded("the setup", ready_rx).await.unwrap();
    process::register("info-informant", &pid).unwrap();
    let _monitor = process::monitor(&pid);
    let info = pid.info().unwrap();
    assert_eq!(info.id, pid.id());
    assert!(info.task_id.is_some());
    assert_eq!(info.name.as_deref(), Some("informant"));
    assert_eq!(info.registered_name.as_deref(), Some("info-informant"));
    assert_eq!(info.priority, Priority::High);
    assert_eq!(info.links, 1);
    assert_eq!(info.monitors, 1);
    assert!(info.trap_exit);
    assert_eq!(pid.name(), Some("informant"));
    pid.kill();
    assert!(pid.info().is_none());
}

#[smp_rt::test(worker_threads = 2)]
async fn info_counts_queued_and_received_messages() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        go_rx.await.unwrap();
        for _ in 0..3 {
            mbox.recv().await;
        }
        // 2 left; one passed over by a selective receive still counts.
        let _ = mbox.try_recv();
        done_tx.send(()).unwrap();
        mbox.recv_match(|m| *m == 1000).await;
    });
    for i in 0..6 {
        pid.send(i).unwrap();
    }
    let info = pid.info().unwrap();
    assert_eq!(info.messages_queued, 6);
    assert_eq!(info.messages_received, 0);
    go_tx.send(()).unwrap();
    bounded("the receives", done_rx).await.unwrap();
    let info = pid.info().unwrap();
    assert_eq!(info.messages_received, 4);
    assert_eq!(info.messages_queued, 2);
    pid.kill();
}

#[smp_rt::test(worker_threads = 2)]
async fn info_counters_follow_the_task_with_one_poll_of_lag() {
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mbox: Mailbox<Msg>| async move {
        go_rx.await.unwrap();
        worker(mbox).await
    });
    for _ in 0..10_000 {
        pid.send(Msg::Work).unwrap();
    }
    go_tx.send(()).unwrap();
    // The process's own view after the work (all but the current poll's
    // reductions, at most one slice of 2000)...
    let own = stats(&pid).await;
    assert!(own.reductions >= 8_000, "{own:?}");
    // ...is visible from outside once the process has been polled again.
    next_poll(&pid).await;
    let info = pid.info().unwrap();
    assert!(info.reductions >= own.reductions, "{info:?} vs {own:?}");
    assert!(info.polls >= own.polls);
    assert!(info.preemptions >= own.preemptions);
    assert!(info.preemptions > 0, "10,000 receives span several slices");
    assert_eq!(info.messages_received, 10_002);
    pid.kill();
}

#[smp_rt::test(worker_threads = 2)]
async fn info_sees_a_priority_change_after_the_next_poll() {
    let pid = process::spawn(worker);
    assert_eq!(pid.info().unwrap().priority, Priority::Normal);
    let (tx, rx) = oneshot::channel();
    pid.send(Msg::SetPriority(Priority::Low, tx)).unwrap();
    bounded("the change", rx).await.unwrap();
    next_poll(&pid).await;
    assert_eq!(pid.info().unwrap().priority, Priority::Low);
    pid.kill();
}

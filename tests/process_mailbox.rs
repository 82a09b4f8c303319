//! Processes: sending, receiving, selective receive, timeouts, a mailbox of
//! a million messages, sends to dead processes, kill.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use smp_rt::process::{self, ExitReason, Mailbox, SendError};
use smp_rt::sync::oneshot;
use smp_rt::task;

/// Awaits `fut`, failing the test (instead of hanging) if it takes more
/// than a minute.
async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match smp_rt::time::timeout(Duration::from_secs(60), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn messages_arrive_in_send_order() {
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        let mut got = Vec::new();
        for _ in 0..1000 {
            got.push(mbox.recv().await);
        }
        tx.send(got).unwrap();
    });
    for i in 0..1000 {
        pid.send(i).unwrap();
    }
    let got = bounded("the messages", rx).await.unwrap();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
}

#[smp_rt::test(worker_threads = 2)]
async fn order_is_kept_per_sender() {
    const SENDERS: usize = 4;
    const EACH: usize = 10_000;
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<(usize, usize)>| async move {
        let mut next = [0; SENDERS];
        for _ in 0..SENDERS * EACH {
            let (sender, seq) = mbox.recv().await;
            assert_eq!(seq, next[sender], "sender {sender} out of order");
            next[sender] += 1;
        }
        tx.send(next).unwrap();
    });
    let mut threads = Vec::new();
    for sender in 0..SENDERS {
        let pid = pid.clone();
        threads.push(std::thread::spawn(move || {
            for seq in 0..EACH {
                pid.send((sender, seq)).unwrap();
            }
        }));
    }
    // Some senders are tasks, some threads: both are fine.
    let next = bounded("all messages", rx).await.unwrap();
    assert_eq!(next, [EACH; SENDERS]);
    for t in threads {
        t.join().unwrap();
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn a_million_queued_messages() {
    const N: u64 = 1_000_000;
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<u64>| async move {
        go_rx.await.unwrap();
        let queued = mbox.len();
        let mut expected = 0;
        while expected < N {
            assert_eq!(mbox.recv().await, expected);
            expected += 1;
        }
        tx.send((queued, mbox.len(), task::stats().preemptions))
            .unwrap();
    });
    for i in 0..N {
        pid.send(i).unwrap();
    }
    assert_eq!(pid.info().unwrap().messages_queued, N);
    go_tx.send(()).unwrap();
    let (queued, left, preemptions) = bounded("a million messages", rx).await.unwrap();
    assert_eq!(queued, N as usize);
    assert_eq!(left, 0);
    // Receiving charges reductions, so draining the mailbox was preempted.
    assert!(preemptions > 0);
}

#[smp_rt::test(worker_threads = 2)]
async fn selective_receive_leaves_the_others_in_order() {
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        go_rx.await.unwrap();
        let five = mbox.recv_match(|m| *m == 5).await;
        let eight = mbox.recv_match(|m| *m == 8).await;
        assert_eq!(mbox.len(), 8);
        let mut rest = Vec::new();
        for _ in 0..8 {
            rest.push(mbox.recv().await);
        }
        tx.send((five, eight, rest)).unwrap();
    });
    for i in 1..=10 {
        pid.send(i).unwrap();
    }
    go_tx.send(()).unwrap();
    let (five, eight, rest) = bounded("the receives", rx).await.unwrap();
    assert_eq!((five, eight), (5, 8));
    assert_eq!(rest, [1, 2, 3, 4, 6, 7, 9, 10]);
}

#[smp_rt::test(worker_threads = 2)]
async fn selective_receive_waits_for_a_match() {
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<&'static str>| async move {
        let stop = mbox.recv_match(|m| m.starts_with("stop")).await;
        let mut rest = Vec::new();
        while let Some(m) = mbox.try_recv() {
            rest.push(m);
        }
        tx.send((stop, rest)).unwrap();
    });
    for m in ["a", "b", "c"] {
        pid.send(m).unwrap();
        task::yield_now().await;
    }
    pid.send("stop now").unwrap();
    let (stop, rest) = bounded("the match", rx).await.unwrap();
    assert_eq!(stop, "stop now");
    assert_eq!(rest, ["a", "b", "c"]);
}

#[smp_rt::test(worker_threads = 2)]
async fn selective_receive_over_a_long_queue() {
    const N: u32 = 200_000;
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        go_rx.await.unwrap();
        // The match is the last message: every other one is passed over.
        let last = mbox.recv_match(|m| *m == N - 1).await;
        let preempted = task::stats().preemptions;
        let mut expected = 0;
        while let Some(m) = mbox.try_recv() {
            assert_eq!(m, expected);
            expected += 1;
        }
        tx.send((last, expected, preempted)).unwrap();
    });
    for i in 0..N {
        pid.send(i).unwrap();
    }
    go_tx.send(()).unwrap();
    let (last, rest, preempted) = bounded("the scan", rx).await.unwrap();
    assert_eq!(last, N - 1);
    assert_eq!(rest, N - 1);
    // Passing over messages charges reductions: the scan was preempted.
    assert!(preempted > 0);
}

#[smp_rt::test(worker_threads = 2)]
async fn a_cancelled_selective_receive_loses_nothing() {
    let (tx, rx) = oneshot::channel();
    let (sent_tx, sent_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        // All three messages are queued before the receives start.
        sent_rx.await.unwrap();
        let first = mbox.recv().await;
        // Nothing matches: this times out, after passing over 2 and 3.
        let none = smp_rt::time::timeout(Duration::from_millis(20), mbox.recv_match(|m| *m > 100))
            .await
            .is_err();
        let mut rest = Vec::new();
        while let Some(m) = mbox.try_recv() {
            rest.push(m);
        }
        tx.send((first, none, rest)).unwrap();
    });
    for i in 1..=3 {
        pid.send(i).unwrap();
    }
    sent_tx.send(()).unwrap();
    let (first, timed_out, rest) = bounded("the receives", rx).await.unwrap();
    assert_eq!(first, 1);
    assert!(timed_out);
    assert_eq!(rest, [2, 3]);
}

#[smp_rt::test(worker_threads = 2)]
async fn recv_timeout_returns_none_or_the_message() {
    let (first_tx, first_rx) = oneshot::channel();
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        first_tx
            .send(mbox.recv_timeout(Duration::from_millis(10)).await)
            .unwrap();
        tx.send(mbox.recv_timeout(Duration::from_secs(60)).await)
            .unwrap();
    });
    let monitor = process::monitor(&pid);
    assert_eq!(bounded("the first receive", first_rx).await.unwrap(), None);
    pid.send(7).unwrap();
    assert_eq!(bounded("the second receive", rx).await.unwrap(), Some(7));
    assert_eq!(
        bounded("the exit", monitor).await.reason,
        ExitReason::Normal
    );
}

#[smp_rt::test(worker_threads = 2)]
async fn try_recv_and_len() {
    let (empty_tx, empty_rx) = oneshot::channel();
    let (tx, rx) = oneshot::channel();
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        empty_tx.send((mbox.is_empty(), mbox.try_recv())).unwrap();
        go_rx.await.unwrap();
        let len = mbox.len();
        let a = mbox.try_recv();
        let b = mbox.try_recv();
        let c = mbox.try_recv();
        tx.send((len, a, b, c, mbox.len())).unwrap();
    });
    assert_eq!(
        bounded("the first look", empty_rx).await.unwrap(),
        (true, None)
    );
    pid.send(1).unwrap();
    pid.send(2).unwrap();
    go_tx.send(()).unwrap();
    let got = bounded("try_recv", rx).await.unwrap();
    assert_eq!(got, (2, Some(1), Some(2), None, 0));
}

#[smp_rt::test(worker_threads = 2)]
async fn send_to_a_dead_process_returns_the_message() {
    let pid = process::spawn(|mut mbox: Mailbox<String>| async move {
        mbox.recv().await;
    });
    let down = process::monitor(&pid);
    pid.send("first".into()).unwrap();
    assert_eq!(bounded("the exit", down).await.reason, ExitReason::Normal);
    assert!(!pid.is_alive());
    let err = pid.send("second".into()).unwrap_err();
    assert_eq!(err, SendError("second".to_string()));
    assert_eq!(err.into_inner(), "second");
    assert!(pid.info().is_none());
}

#[smp_rt::test(worker_threads = 2)]
async fn kill_ends_a_waiting_process() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct OnDrop(Arc<AtomicUsize>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let guard = OnDrop(dropped.clone());
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        let _guard = guard;
        loop {
            mbox.recv().await;
        }
    });
    pid.send(1).unwrap();
    let down = process::monitor(&pid);
    pid.kill();
    // Effective at once for senders...
    assert!(!pid.is_alive());
    assert_eq!(pid.send(2), Err(SendError(2)));
    // ...and the process's future is dropped before monitors hear of it.
    let down = bounded("the kill", down).await;
    assert_eq!(down.reason, ExitReason::Killed);
    assert_eq!(down.pid_id, pid.id());
    assert_eq!(dropped.load(SeqCst), 1);
    assert_eq!(pid.exit_reason(), Some(ExitReason::Killed));
    // Killing again does nothing.
    pid.kill();
    assert_eq!(pid.exit_reason(), Some(ExitReason::Killed));
}

#[smp_rt::test(worker_threads = 2)]
async fn kill_ends_a_busy_process_at_its_next_await() {
    let (started_tx, started_rx) = oneshot::channel();
    let (pid, down) = process::spawn_monitor(move |_: Mailbox<()>| async move {
        started_tx.send(()).unwrap();
        loop {
            task::consume_budget().await;
        }
    });
    bounded("the start", started_rx).await.unwrap();
    pid.kill();
    assert_eq!(bounded("the kill", down).await.reason, ExitReason::Killed);
}

#[smp_rt::test(worker_threads = 2)]
async fn queued_messages_are_dropped_when_the_process_ends() {
    let dropped = Arc::new(AtomicUsize::new(0));
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let (go_tx, go_rx) = oneshot::channel::<()>();
    let (pid, down) = process::spawn_monitor(move |_: Mailbox<Counted>| async move {
        go_rx.await.unwrap();
    });
    for _ in 0..10 {
        pid.send(Counted(dropped.clone())).unwrap();
    }
    go_tx.send(()).unwrap();
    bounded("the exit", down).await;
    assert_eq!(dropped.load(SeqCst), 10);
    // A refused message is handed back, not dropped.
    let back = pid.send(Counted(dropped.clone())).unwrap_err().0;
    assert_eq!(dropped.load(SeqCst), 10);
    drop(back);
    assert_eq!(dropped.load(SeqCst), 11);
}

#[smp_rt::test(worker_threads = 2)]
async fn a_process_knows_its_pid() {
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        let me = mbox.pid();
        me.send(42).unwrap();
        let current = process::current().unwrap().id();
        tx.send((me.id(), current, mbox.recv().await)).unwrap();
    });
    let (me, current, got) = bounded("the reply", rx).await.unwrap();
    assert_eq!(me, pid.id());
    assert_eq!(current, pid.id());
    assert_eq!(got, 42);
    assert!(process::current().is_none());
}

#[smp_rt::test(worker_threads = 2)]
async fn processes_are_tasks_with_priorities() {
    let (tx, rx) = oneshot::channel();
    process::Builder::new()
        .name("low one")
        .priority(task::Priority::Low)
        .spawn(move |_: Mailbox<()>| async move {
            tx.send(task::current_priority()).unwrap();
        });
    assert_eq!(bounded("the reply", rx).await.unwrap(), task::Priority::Low);
}

#[smp_rt::test(flavor = "current_thread")]
async fn ping_pong_on_one_worker() {
    enum Msg {
        Ping(u32, process::Pid<Msg>),
        Pong(u32),
    }
    let ponger = process::spawn(|mut mbox: Mailbox<Msg>| async move {
        loop {
            if let Msg::Ping(n, from) = mbox.recv().await {
                let _ = from.send(Msg::Pong(n));
            }
        }
    });
    let (tx, rx) = oneshot::channel();
    let p = ponger.clone();
    process::spawn(move |mut mbox: Mailbox<Msg>| async move {
        let me = mbox.pid();
        for n in 0..10_000 {
            p.send(Msg::Ping(n, me.clone())).unwrap();
            match mbox.recv().await {
                Msg::Pong(m) => assert_eq!(m, n),
                Msg::Ping(..) => unreachable!(),
            }
        }
        tx.send(()).unwrap();
    });
    bounded("10,000 round trips", rx).await.unwrap();
    ponger.kill();
}

#[test]
fn pids_and_mailboxes_cross_threads() {
    fn shared<T: Clone + Send + Sync>() {}
    fn sent<T: Send>() {}
    shared::<process::Pid<String>>();
    shared::<process::AnyPid>();
    sent::<Mailbox<String>>();
    sent::<process::Monitor>();
}

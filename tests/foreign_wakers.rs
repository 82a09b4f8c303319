//! Wakes through wakers smp_rt does not know: a channel of another crate
//! stores the task's `Waker` and calls `wake`, a generic `yield_now` calls
//! `wake_by_ref` and returns `Pending`. They take the path of smp_rt's own
//! primitives (which are plain wakers too): a yield goes to the back of its
//! level, a ping-ponging pair stays on one worker and wakes no sibling.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use smp_rt::runtime::{Builder, Runtime, RuntimeMetrics};

fn multi_thread(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .unwrap()
}

/// futures-lite's `yield_now`: wakes the task by reference, returns
/// `Pending` once.
struct GenericYield(bool);

impl Future for GenericYield {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A one-value channel the way other crates write one: the receiver's
/// waker is cloned into a mutex, and the sender takes it out and wakes it
/// by value.
#[derive(Default)]
struct Slot {
    state: Mutex<(Option<u64>, Option<Waker>)>,
}

impl Slot {
    fn send(&self, value: u64) {
        let waker = {
            let mut state = self.state.lock().unwrap();
            assert!(state.0.is_none(), "one value at a time");
            state.0 = Some(value);
            state.1.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    async fn recv(&self) -> u64 {
        std::future::poll_fn(|cx| {
            let mut state = self.state.lock().unwrap();
            match state.0.take() {
                Some(value) => Poll::Ready(value),
                None => {
                    state.1 = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// Parks and steals of every worker so far.
fn parks_and_steals(m: &RuntimeMetrics) -> u64 {
    (0..m.num_workers())
        .map(|w| m.worker_park_count(w) + m.worker_steal_count(w))
        .sum()
}

/// Waits until every worker has parked once: the runtime is quiet.
fn wait_until_parked(m: &RuntimeMetrics) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while (0..m.num_workers()).any(|w| m.worker_park_count(w) == 0) {
        assert!(std::time::Instant::now() < deadline, "workers never parked");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn a_generic_yield_goes_to_the_back_of_its_level() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    // All three are queued on the one worker before any logs: the last to
    // reach the barrier wakes the other two from its poll.
    let start = Arc::new(smp_rt::sync::Barrier::new(3));
    rt.block_on(async {
        let handles: Vec<_> = ["a", "b", "c"]
            .into_iter()
            .map(|name| {
                let (log, start) = (log.clone(), start.clone());
                smp_rt::spawn(async move {
                    start.wait().await;
                    for round in 0..3 {
                        log.lock().unwrap().push((name, round));
                        GenericYield(false).await;
                    }
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap();
        }
    });
    let log = log.lock().unwrap();
    let rounds: Vec<&[(&str, i32)]> = log.chunks(3).collect();
    let first_order: Vec<&str> = rounds[0].iter().map(|&(name, _)| name).collect();
    let mut names = first_order.clone();
    names.sort_unstable();
    assert_eq!(names, ["a", "b", "c"], "{log:?}");
    for (round, entries) in rounds.iter().enumerate() {
        let order: Vec<&str> = entries.iter().map(|&(name, _)| name).collect();
        assert!(
            order == first_order && entries.iter().all(|&(_, r)| r == round as i32),
            "each yield let the other ready tasks of the level run first: {log:?}"
        );
    }
}

/// Two tasks exchanging values through [`Slot`]s: each wake is by a task,
/// of a task that runs next. After the streak cap of the LIFO slot, the
/// woken task goes to the back of the deque, still the only one queued: it
/// runs when the waker's poll ends, and no sibling is woken to steal it
/// (which would split the pair over two workers and park and wake them in
/// turn).
#[test]
fn a_ping_ponging_pair_on_a_foreign_waker_wakes_no_sibling() {
    const WARM_UP: u64 = 2_000;
    const ROUND_TRIPS: u64 = 20_000;
    let rt = multi_thread(2);
    let m = rt.metrics();
    wait_until_parked(&m);
    let ping = Arc::new(Slot::default());
    let pong = Arc::new(Slot::default());
    let (ping_rx, pong_tx) = (ping.clone(), pong.clone());
    let (measured_tx, measured_rx) = std::sync::mpsc::channel();
    let (m2, m3) = (m.clone(), m.clone());
    rt.block_on(async move {
        let pinger = smp_rt::spawn(async move {
            // The echo is spawned here: the pair starts on one worker.
            let echo = smp_rt::spawn(async move {
                for _ in 0..WARM_UP + ROUND_TRIPS {
                    let v = ping_rx.recv().await;
                    pong_tx.send(v + 1);
                }
            });
            let mut before = 0;
            for i in 0..WARM_UP + ROUND_TRIPS {
                if i == WARM_UP {
                    before = parks_and_steals(&m2);
                }
                ping.send(i);
                assert_eq!(pong.recv().await, i + 1);
            }
            measured_tx.send(parks_and_steals(&m3) - before).unwrap();
            echo.await.unwrap();
        });
        pinger.await.unwrap();
    });
    let during = measured_rx.recv().unwrap();
    // A sibling woken at every streak cap parks again (and often steals
    // one of the pair first): thousands over these round trips.
    assert!(
        during < 40,
        "{during} parks and steals over {ROUND_TRIPS} round trips of one pair"
    );
}

/// A task that wakes itself while running is not new work, and the only
/// task queued runs next on its worker: with the siblings asleep, its
/// yields wake none of them (a sibling woken for it would park again, or
/// take the task and move it for nothing).
#[test]
fn a_task_yielding_through_a_foreign_waker_wakes_no_sibling() {
    const YIELDS: u64 = 20_000;
    let rt = multi_thread(2);
    let m = rt.metrics();
    wait_until_parked(&m);
    let m2 = m.clone();
    let during = rt.block_on(async move {
        smp_rt::spawn(async move {
            GenericYield(false).await;
            let before = parks_and_steals(&m2);
            for _ in 0..YIELDS {
                GenericYield(false).await;
            }
            parks_and_steals(&m2) - before
        })
        .await
        .unwrap()
    });
    assert!(
        during < 40,
        "{during} parks and steals over {YIELDS} yields"
    );
}

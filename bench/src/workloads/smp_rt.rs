//! The workloads on smp_rt. [`tokio`](super::tokio) has the same functions
//! with tokio's paths.

use std::future::{self, Future};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::Poll;
use std::thread;
use std::time::{Duration, Instant};

use ::smp_rt::io::{AsyncReadExt, AsyncWriteExt};
use ::smp_rt::net::{TcpListener, TcpStream};
use ::smp_rt::runtime::Runtime;
use ::smp_rt::sync::oneshot;
use ::smp_rt::task::{self, JoinHandle, Priority};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

use super::{
    BACKGROUND_PER_WORKER, CHAIN_DEPTH, DEADLINE_PERIOD, DEADLINE_TASKS_PER_WORKER,
    DeadlineLateness, PING_PONGS, Parked, SPAWN_MANY, TCP_ECHO_CONNECTIONS, TCP_ECHO_MESSAGE,
    TCP_ECHO_ROUND_TRIPS, TIMERS, WakeProbe, YIELD_COUNT, YIELD_TASKS, hello, pause_before_sample,
    spin_work, wait,
};
use super::{
    CombinatorSizes, FOREIGN_ROUND_TRIPS, FutureSize, ParkedFuture, SpawnFrom, SpawnPattern,
    future_size, leaf, parked_polls, try_leaf, wait_for_polls,
};
use crate::sysinfo::resident_bytes;

/// A countdown whose last decrement sends on a `std` channel.
struct Countdown {
    remaining: AtomicUsize,
    done: mpsc::SyncSender<()>,
}

impl Countdown {
    fn new(n: usize) -> (Arc<Countdown>, mpsc::Receiver<()>) {
        let (done, rx) = mpsc::sync_channel(1);
        let remaining = AtomicUsize::new(n);
        (Arc::new(Countdown { remaining, done }), rx)
    }

    fn tick(&self) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.done.send(()).expect("the measuring thread waits");
        }
    }
}

fn join_all<T>(rt: &Runtime, handles: Vec<JoinHandle<T>>) {
    rt.block_on(async move {
        for handle in handles {
            handle.await.expect("workload task failed");
        }
    });
}

/// `spawn_many_local`: a task spawns [`SPAWN_MANY`] tasks; each decrements
/// a counter, and the last one signals the measuring thread.
pub fn spawn_many_local(rt: &Runtime) -> Duration {
    let (countdown, done) = Countdown::new(SPAWN_MANY);
    let start = Instant::now();
    rt.spawn(async move {
        for _ in 0..SPAWN_MANY {
            let countdown = countdown.clone();
            ::smp_rt::spawn(async move { countdown.tick() });
        }
    });
    wait(&done, "spawn_many_local");
    start.elapsed()
}

fn spawn_and_await_remote(rt: &Runtime) -> Duration {
    let mut handles = Vec::with_capacity(SPAWN_MANY);
    let start = Instant::now();
    for _ in 0..SPAWN_MANY {
        handles.push(rt.spawn(async {}));
    }
    join_all(rt, handles);
    start.elapsed()
}

/// `spawn_many_remote_idle`: the measuring thread, outside the runtime,
/// spawns [`SPAWN_MANY`] empty tasks and awaits every handle.
pub fn spawn_many_remote_idle(rt: &Runtime) -> Duration {
    spawn_and_await_remote(rt)
}

/// `spawn_many_remote_busy`: as [`spawn_many_remote_idle`], while
/// [`BACKGROUND_PER_WORKER`] × workers tasks loop on `yield_now`. They are
/// stopped after the measurement.
pub fn spawn_many_remote_busy(rt: &Runtime) -> Duration {
    let n = BACKGROUND_PER_WORKER * rt.metrics().num_workers();
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::new(AtomicUsize::new(0));
    let background: Vec<_> = (0..n)
        .map(|_| {
            let stop = stop.clone();
            let running = running.clone();
            rt.spawn(async move {
                running.fetch_add(1, Ordering::Relaxed);
                while !stop.load(Ordering::Relaxed) {
                    task::yield_now().await;
                }
            })
        })
        .collect();
    while running.load(Ordering::Relaxed) < n {
        thread::yield_now();
    }
    let elapsed = spawn_and_await_remote(rt);
    stop.store(true, Ordering::Relaxed);
    join_all(rt, background);
    elapsed
}

/// `yield_many`: [`YIELD_TASKS`] tasks each call `yield_now`
/// [`YIELD_COUNT`] times.
pub fn yield_many(rt: &Runtime) -> Duration {
    let mut handles = Vec::with_capacity(YIELD_TASKS);
    let start = Instant::now();
    for _ in 0..YIELD_TASKS {
        handles.push(rt.spawn(async {
            for _ in 0..YIELD_COUNT {
                task::yield_now().await;
            }
        }));
    }
    join_all(rt, handles);
    start.elapsed()
}

/// `generic_yield`: [`YIELD_TASKS`] tasks each await futures-lite's
/// `future::yield_now` [`YIELD_COUNT`] times; it wakes the task through
/// `cx.waker().wake_by_ref()` and returns `Pending` once.
pub fn generic_yield(rt: &Runtime) -> Duration {
    let mut handles = Vec::with_capacity(YIELD_TASKS);
    let start = Instant::now();
    for _ in 0..YIELD_TASKS {
        handles.push(rt.spawn(async {
            for _ in 0..YIELD_COUNT {
                futures_lite::future::yield_now().await;
            }
        }));
    }
    join_all(rt, handles);
    start.elapsed()
}

/// `ping_pong`: a task spawns [`PING_PONGS`] tasks; each makes two
/// oneshots, spawns a partner that awaits the first and answers on the
/// second, sends, and awaits the answer. The last to finish signals.
pub fn ping_pong(rt: &Runtime) -> Duration {
    let (countdown, done) = Countdown::new(PING_PONGS);
    let start = Instant::now();
    rt.spawn(async move {
        for _ in 0..PING_PONGS {
            let countdown = countdown.clone();
            ::smp_rt::spawn(async move {
                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                ::smp_rt::spawn(async move {
                    ping_rx.await.expect("ping");
                    pong_tx.send(()).expect("pong");
                });
                ping_tx.send(()).expect("ping");
                pong_rx.await.expect("pong");
                countdown.tick();
            });
        }
    });
    wait(&done, "ping_pong");
    start.elapsed()
}

/// `foreign_ping_pong`: two tasks ping-pong over a pair of
/// `async_channel::bounded(1)` channels, [`FOREIGN_ROUND_TRIPS`] round
/// trips: one sends a number and awaits its echo, the other echoes until
/// the first channel closes. Every wake comes from async-channel, through
/// the waker it stored.
pub fn foreign_ping_pong(rt: &Runtime) -> Duration {
    let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
    let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
    let start = Instant::now();
    let echo = rt.spawn(async move {
        while let Ok(n) = ping_rx.recv().await {
            pong_tx.send(n).await.expect("foreign_ping_pong: pong");
        }
    });
    let ping = rt.spawn(async move {
        for i in 0..FOREIGN_ROUND_TRIPS {
            ping_tx.send(i).await.expect("foreign_ping_pong: ping");
            let n = pong_rx.recv().await.expect("foreign_ping_pong: pong");
            assert_eq!(n, i, "foreign_ping_pong: wrong echo");
        }
    });
    join_all(rt, vec![ping, echo]);
    start.elapsed()
}

fn chain(done: mpsc::SyncSender<()>, remaining: usize) {
    if remaining == 0 {
        done.send(()).expect("the measuring thread waits");
    } else {
        ::smp_rt::spawn(async move { chain(done, remaining - 1) });
    }
}

/// `chained_spawn`: each task spawns the next, [`CHAIN_DEPTH`] deep; the
/// last signals.
pub fn chained_spawn(rt: &Runtime) -> Duration {
    let (done_tx, done) = mpsc::sync_channel(1);
    let start = Instant::now();
    rt.spawn(async move { chain(done_tx, CHAIN_DEPTH) });
    wait(&done, "chained_spawn");
    start.elapsed()
}

/// `timers`: inside a task, arms [`TIMERS`] sleeps of 60 to 61 s (each
/// boxed and polled once, outside the cooperative budget so that every
/// poll registers its timer), then drops them all, which cancels them.
pub fn timers(rt: &Runtime) -> Duration {
    rt.block_on(rt.spawn(task::unconstrained(async {
        let start = Instant::now();
        let mut sleeps = Vec::with_capacity(TIMERS);
        for i in 0..TIMERS {
            let spread = Duration::from_micros((i as u64).wrapping_mul(7_919) % 1_000_000);
            let mut timer = Box::pin(::smp_rt::time::sleep(Duration::from_secs(60) + spread));
            future::poll_fn(|cx| {
                assert!(
                    timer.as_mut().poll(cx).is_pending(),
                    "timers: a 60 s sleep elapsed"
                );
                Poll::Ready(())
            })
            .await;
            sleeps.push(timer);
        }
        drop(sleeps);
        start.elapsed()
    })))
    .expect("timers: the task failed")
}

/// `tcp_echo`: an echo server and [`TCP_ECHO_CONNECTIONS`] clients on this
/// runtime, over loopback with `TCP_NODELAY`; each client writes
/// [`TCP_ECHO_MESSAGE`] bytes and reads them back, [`TCP_ECHO_ROUND_TRIPS`]
/// times. Timed from the first connect to the last client's end.
pub fn tcp_echo(rt: &Runtime) -> Duration {
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("tcp_echo: bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("tcp_echo: local address");
        let server = ::smp_rt::spawn(async move {
            for _ in 0..TCP_ECHO_CONNECTIONS {
                let (mut stream, _) = listener.accept().await.expect("tcp_echo: accept");
                stream.set_nodelay(true).expect("tcp_echo: nodelay");
                ::smp_rt::spawn(async move {
                    let mut buf = [0u8; 4096];
                    loop {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if stream.write_all(&buf[..n]).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                });
            }
        });
        let start = Instant::now();
        let clients: Vec<_> = (0..TCP_ECHO_CONNECTIONS)
            .map(|i| {
                ::smp_rt::spawn(async move {
                    let mut stream = TcpStream::connect(addr).await.expect("tcp_echo: connect");
                    stream.set_nodelay(true).expect("tcp_echo: nodelay");
                    let message = [i as u8; TCP_ECHO_MESSAGE];
                    let mut echo = [0u8; TCP_ECHO_MESSAGE];
                    for _ in 0..TCP_ECHO_ROUND_TRIPS {
                        stream.write_all(&message).await.expect("tcp_echo: write");
                        stream.read_exact(&mut echo).await.expect("tcp_echo: read");
                        assert_eq!(echo, message, "tcp_echo: wrong echo");
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.expect("tcp_echo: a client failed");
        }
        let elapsed = start.elapsed();
        server.await.expect("tcp_echo: the server failed");
        elapsed
    })
}

/// `http_wrk`'s server: the hyper HTTP/1.1 server of
/// `examples/http_hello.rs` ([`hello`] through hyper-util's `TokioIo`,
/// `TCP_NODELAY` on every connection) on this runtime, bound to an
/// ephemeral port of 127.0.0.1.
///
/// While it serves, `load` runs on the calling thread with the server's
/// address; then the accept loop is stopped through a oneshot and awaited,
/// and `load`'s result returned. Connections still open are served until
/// their clients close them or `rt` is dropped.
///
/// # Errors
///
/// When the listener cannot be bound, or the accept loop failed.
pub fn http_server<R>(rt: &Runtime, load: impl FnOnce(SocketAddr) -> R) -> io::Result<R> {
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let (stop, mut stopped) = oneshot::channel::<()>();
    let server = rt.spawn(async move {
        loop {
            let accepted = ::smp_rt::select! {
                biased;
                _ = &mut stopped => break,
                accepted = listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            ::smp_rt::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(hello))
                    .await;
            });
        }
    });
    let result = load(addr);
    let _ = stop.send(());
    rt.block_on(server).map_err(io::Error::other)?;
    Ok(result)
}

/// `parked_tasks`: a task spawns `count` tasks that each wait forever on
/// [`std::future::pending`], after which the resident memory grown since
/// before the first spawn is read. The tasks stay parked until `rt` is
/// dropped; run it in a process of its own for a clean memory figure.
pub fn parked_tasks(rt: &Runtime, count: usize) -> Parked {
    rt.block_on(rt.spawn(async {})).expect("warm-up task");
    let before = resident_bytes();
    let started = Arc::new(AtomicUsize::new(0));
    let spawner = {
        let started = started.clone();
        rt.spawn(async move {
            let start = Instant::now();
            for _ in 0..count {
                let started = started.clone();
                ::smp_rt::spawn(async move {
                    started.fetch_add(1, Ordering::Relaxed);
                    future::pending::<()>().await;
                });
            }
            start.elapsed()
        })
    };
    let spawn = rt
        .block_on(spawner)
        .expect("parked_tasks: the spawner failed");
    while started.load(Ordering::Relaxed) < count {
        thread::sleep(Duration::from_millis(1));
    }
    let after = resident_bytes();
    Parked {
        count,
        spawn,
        resident_bytes: before.zip(after).map(|(b, a)| a as i64 - b as i64),
    }
}

/// `parked_patterns`, one pattern: `count` tasks, each a
/// [`ParkedFuture`] of `pattern.future`'s size that is polled once and
/// never woken, spawned from inside the runtime (a task calling
/// `smp_rt::spawn`) or from a plain thread outside it (`Handle::spawn` on
/// a clone of the runtime's handle), with their `JoinHandle`s dropped at
/// once or kept in a `Vec` made for them. Once every task has been polled,
/// the resident memory grown since before the first spawn is read (the
/// kept handles are still held). The tasks stay parked until `rt` is
/// dropped; run it in a process of its own for a clean memory figure.
pub fn parked_pattern(rt: &Runtime, count: usize, pattern: SpawnPattern) -> Parked {
    match pattern.future {
        FutureSize::Sixteen => park(rt, count, pattern, ParkedFuture::<16>::new),
        FutureSize::Zero => park(rt, count, pattern, ParkedFuture::<0>::new),
    }
}

/// Spawns `count` tasks of `make()` as `pattern` says and measures them.
fn park<F>(rt: &Runtime, count: usize, pattern: SpawnPattern, make: fn() -> F) -> Parked
where
    F: Future<Output = ()> + Send + 'static,
{
    rt.block_on(rt.spawn(async {})).expect("warm-up task");
    let polled_before = parked_polls();
    let before = resident_bytes();
    let keep = pattern.keep_handles;
    let (spawn, kept) = match pattern.from {
        SpawnFrom::Inside => rt
            .block_on(rt.spawn(async move { spawn_all(count, keep, make, ::smp_rt::spawn) }))
            .expect("parked_patterns: the spawning task failed"),
        SpawnFrom::Outside => {
            let handle = rt.handle().clone();
            thread::spawn(move || spawn_all(count, keep, make, |f| handle.spawn(f)))
                .join()
                .expect("parked_patterns: the spawning thread failed")
        }
    };
    wait_for_polls(polled_before + count, "parked_patterns");
    let after = resident_bytes();
    drop(kept);
    Parked {
        count,
        spawn,
        resident_bytes: before.zip(after).map(|(b, a)| a as i64 - b as i64),
    }
}

/// Spawns `count` futures made by `make` with `spawn`; the time it took,
/// and the handles if `keep`.
fn spawn_all<F>(
    count: usize,
    keep: bool,
    make: fn() -> F,
    spawn: impl Fn(F) -> JoinHandle<()>,
) -> (Duration, Vec<JoinHandle<()>>) {
    let start = Instant::now();
    let mut kept = Vec::with_capacity(if keep { count } else { 0 });
    for _ in 0..count {
        let handle = spawn(make());
        if keep {
            kept.push(handle);
        }
    }
    (start.elapsed(), kept)
}

/// `combinator_sizes`: the size of an `async` block holding only
/// `smp_rt::join!`, `try_join!` or `select!` over [`leaf`]s ([`try_leaf`]s
/// for `try_join!`), with 2 and 3 branches. The blocks are never polled.
pub fn combinator_sizes() -> CombinatorSizes {
    CombinatorSizes {
        join2: future_size(async { ::smp_rt::join!(leaf(1), leaf(2)) }),
        join3: future_size(async { ::smp_rt::join!(leaf(1), leaf(2), leaf(3)) }),
        try_join2: future_size(async { ::smp_rt::try_join!(try_leaf(1), try_leaf(2)) }),
        try_join3: future_size(async {
            ::smp_rt::try_join!(try_leaf(1), try_leaf(2), try_leaf(3))
        }),
        select2: future_size(async {
            ::smp_rt::select! {
                a = leaf(1) => a,
                b = leaf(2) => b,
            }
        }),
        select3: future_size(async {
            ::smp_rt::select! {
                a = leaf(1) => a,
                b = leaf(2) => b,
                c = leaf(3) => c,
            }
        }),
    }
}

/// `priority_latency`: [`BACKGROUND_PER_WORKER`] × workers `Normal` tasks
/// loop on `consume_budget` with a little work per iteration; then, `samples`
/// times (a full run uses [`LATENCY_SAMPLES`](super::LATENCY_SAMPLES)), a `High` task waits on a
/// oneshot, the measuring thread sends the current [`Instant`] on it, and
/// the task records the time until its next poll.
pub fn priority_latency(rt: &Runtime, samples: usize) -> Vec<Duration> {
    let n = BACKGROUND_PER_WORKER * rt.metrics().num_workers();
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::new(AtomicUsize::new(0));
    let hogs: Vec<_> = (0..n)
        .map(|i| {
            let stop = stop.clone();
            let running = running.clone();
            rt.spawn(async move {
                running.fetch_add(1, Ordering::Relaxed);
                let mut x = i as u64;
                while !stop.load(Ordering::Relaxed) {
                    x = spin_work(x);
                    task::consume_budget().await;
                }
                x
            })
        })
        .collect();
    while running.load(Ordering::Relaxed) < n {
        thread::yield_now();
    }

    let mut latencies = Vec::with_capacity(samples);
    {
        let _entered = rt.enter();
        for i in 0..samples {
            let (wake_tx, wake_rx) = oneshot::channel::<Instant>();
            let (parked_tx, parked_rx) = mpsc::sync_channel(1);
            let (result_tx, result_rx) = mpsc::sync_channel(1);
            task::spawn_with_priority(Priority::High, async move {
                let latency = WakeProbe::new(wake_rx, parked_tx).await;
                let _ = result_tx.send(latency);
            });
            wait(&parked_rx, "priority_latency");
            pause_before_sample(i);
            wake_tx
                .send(Instant::now())
                .expect("priority_latency: the probe is gone");
            let latency =
                wait(&result_rx, "priority_latency").expect("priority_latency: the probe failed");
            latencies.push(latency);
        }
    }

    stop.store(true, Ordering::Relaxed);
    join_all(rt, hogs);
    latencies
}

/// `deadline_lateness` (smp_rt only): [`BACKGROUND_PER_WORKER`] × workers
/// `Normal` tasks loop on `consume_budget` as in `priority_latency`; beside
/// them, [`DEADLINE_TASKS_PER_WORKER`] × workers periodic `Normal` tasks
/// each sleep to their next release, every [`DEADLINE_PERIOD`] (the tasks'
/// first releases staggered over one period), and record how long after
/// the release their poll started (a task that falls behind skips the
/// releases already past). With `deadlines`, each task sets the
/// release as its deadline before it sleeps (`task::set_deadline`), so
/// that its wake is queued ahead of the background tasks of its level;
/// without, it queues behind them in FIFO order. `samples` releases in
/// all, shared among the periodic tasks.
pub fn deadline_lateness(rt: &Runtime, samples: usize, deadlines: bool) -> DeadlineLateness {
    let workers = rt.metrics().num_workers();
    let misses_before: u64 = (0..workers)
        .map(|w| rt.metrics().worker_deadline_misses(w))
        .sum();
    let n = BACKGROUND_PER_WORKER * workers;
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::new(AtomicUsize::new(0));
    let hogs: Vec<_> = (0..n)
        .map(|i| {
            let stop = stop.clone();
            let running = running.clone();
            rt.spawn(async move {
                running.fetch_add(1, Ordering::Relaxed);
                let mut x = i as u64;
                while !stop.load(Ordering::Relaxed) {
                    x = spin_work(x);
                    task::consume_budget().await;
                }
                x
            })
        })
        .collect();
    while running.load(Ordering::Relaxed) < n {
        thread::yield_now();
    }

    let periodic = DEADLINE_TASKS_PER_WORKER * workers;
    let per_task = samples.div_ceil(periodic).max(1);
    let base = Instant::now();
    let first = DEADLINE_PERIOD;
    let offset = move |i: usize| DEADLINE_PERIOD * i as u32 / periodic as u32;
    // Each periodic task is released by a thread outside the runtime (a
    // wake through its worker's inbox), not by a timer: under saturation
    // the timers are read only every few dozen slices, which would hide
    // the queue order this workload is about. A release stores its time
    // (nanoseconds after `base`) and notifies; a task late for one
    // release finds the latest one (the notify keeps one permit).
    let releases: Arc<Vec<AtomicU64>> =
        Arc::new((0..periodic).map(|_| AtomicU64::new(0)).collect());
    let notifies: Arc<Vec<::smp_rt::sync::Notify>> = Arc::new(
        (0..periodic)
            .map(|_| ::smp_rt::sync::Notify::new())
            .collect(),
    );
    let done = Arc::new(AtomicBool::new(false));
    let tasks: Vec<JoinHandle<Vec<Duration>>> = (0..periodic)
        .map(|i| {
            let (releases, notifies, done) = (releases.clone(), notifies.clone(), done.clone());
            rt.spawn(async move {
                let mut lateness = Vec::with_capacity(per_task);
                let mut next = first + offset(i);
                loop {
                    if deadlines {
                        task::set_deadline(Some(base + next + DEADLINE_PERIOD / 2));
                    }
                    notifies[i].notified().await;
                    if done.load(Ordering::Acquire) {
                        break lateness;
                    }
                    let started = Instant::now();
                    let release = Duration::from_nanos(releases[i].load(Ordering::Acquire));
                    lateness.push(started.saturating_duration_since(base + release));
                    next = release + DEADLINE_PERIOD;
                }
            })
        })
        .collect();
    let ticker = thread::spawn({
        let (releases, notifies, done) = (releases.clone(), notifies.clone(), done.clone());
        move || {
            for k in 0..per_task {
                for i in 0..periodic {
                    let release = first + offset(i) + DEADLINE_PERIOD * k as u32;
                    if let Some(wait) = release.checked_sub(base.elapsed()) {
                        thread::sleep(wait);
                    }
                    releases[i].store(release.as_nanos() as u64, Ordering::Release);
                    notifies[i].notify_one();
                }
            }
            done.store(true, Ordering::Release);
            for notify in notifies.iter() {
                notify.notify_one();
            }
        }
    });
    let lateness = rt.block_on(async move {
        let mut all = Vec::with_capacity(per_task * periodic);
        for task in tasks {
            all.extend(
                task.await
                    .expect("deadline_lateness: a periodic task failed"),
            );
        }
        all
    });
    ticker
        .join()
        .expect("deadline_lateness: the ticker thread panicked");

    stop.store(true, Ordering::Relaxed);
    join_all(rt, hogs);
    let misses_after: u64 = (0..workers)
        .map(|w| rt.metrics().worker_deadline_misses(w))
        .sum();
    DeadlineLateness {
        lateness,
        misses: misses_after - misses_before,
    }
}

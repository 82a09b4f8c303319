//! The fault suite: user code that panics where the runtime runs it, IO
//! that never waits, knobs at their edges, a runtime used after it is gone.
//! Each class is something that once crashed or hung the process; each test
//! here checks that the runtime survives it, reports it, and that dropping
//! the runtime afterwards completes.
//!
//! The tests run one at a time (`serial`): some count the process's
//! threads and descriptors, and all count the panics the runtime reports.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, MutexGuard, Once, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use smp_rt::io::{self, AsyncReadExt, AsyncWriteExt};
use smp_rt::net::{TcpListener, TcpSocket, TcpStream, UnixListener, UnixStream};
use smp_rt::runtime::{Builder, Runtime};
use smp_rt::time::{sleep, timeout};

const WATCHDOG: Duration = Duration::from_secs(60);

/// Aborts the process, naming the test, if the test is still running after
/// [`WATCHDOG`]: a hang is a failure, not a stuck CI run.
struct Watchdog(#[allow(dead_code)] mpsc::Sender<()>);

fn serial(test: &'static str) -> (Watchdog, MutexGuard<'static, ()>) {
    static SERIAL: Mutex<()> = Mutex::new(());
    install_reporter();
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let (done, rx) = mpsc::channel::<()>();
    thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(WATCHDOG) {
            eprintln!("{test}: still running after {WATCHDOG:?}: a hang; aborting");
            std::process::abort();
        }
    });
    (Watchdog(done), guard)
}

fn runtime(workers: usize) -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(workers)
        .build()
        .expect("runtime")
}

/// Panics the runtime reported (tracing errors that say it caught one).
static REPORTED: AtomicUsize = AtomicUsize::new(0);

fn reported() -> usize {
    REPORTED.load(SeqCst)
}

/// A global subscriber that counts the runtime's "caught a panic" errors.
fn install_reporter() {
    struct Counter;
    impl tracing::Subscriber for Counter {
        fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
            *metadata.level() == tracing::Level::ERROR
        }
        fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
            tracing::span::Id::from_u64(1)
        }
        fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
        fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
        fn event(&self, event: &tracing::Event<'_>) {
            struct Message(bool);
            impl tracing::field::Visit for Message {
                fn record_debug(
                    &mut self,
                    field: &tracing::field::Field,
                    value: &dyn std::fmt::Debug,
                ) {
                    if field.name() == "message" && format!("{value:?}").contains("caught a panic")
                    {
                        self.0 = true;
                    }
                }
            }
            let mut message = Message(false);
            event.record(&mut message);
            if message.0 {
                REPORTED.fetch_add(1, SeqCst);
            }
        }
        fn enter(&self, _: &tracing::span::Id) {}
        fn exit(&self, _: &tracing::span::Id) {}
    }
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(Counter).expect("one global subscriber");
    });
}

/// Waits (at most 10 s) until a panic was reported since `before`: the
/// report comes after the panicking code ran, on the thread that ran it.
async fn wait_for_report(before: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while reported() == before && Instant::now() < deadline {
        sleep(Duration::from_millis(1)).await;
    }
}

/// Panics in its `Drop`.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("a destructor that panics");
    }
}

/// A waker whose `wake` panics, counting its calls.
struct PanickingWaker(AtomicUsize);

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
        panic!("a waker that panics");
    }
}

fn panicking_waker() -> (Arc<PanickingWaker>, Waker) {
    let inner = Arc::new(PanickingWaker(AtomicUsize::new(0)));
    (inner.clone(), Waker::from(inner))
}

/// Polls `future` once with `waker`, from inside the current task.
fn poll_with<F: Future + Unpin>(future: &mut F, waker: &Waker) -> Poll<F::Output> {
    std::pin::Pin::new(future).poll(&mut Context::from_waker(waker))
}

/// The message of a panic payload.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// The names of this process's threads.
fn thread_names() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    dir.filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .map(|comm| comm.trim_end().to_owned())
        .collect()
}

/// Threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|comm| comm.starts_with(prefix))
        .count()
}

/// The runtime still does its work: tasks, timers and IO.
fn assert_runtime_works(rt: &Runtime) {
    rt.block_on(async {
        let task = smp_rt::spawn(async { 7 });
        assert_eq!(task.await.unwrap(), 7);
        sleep(Duration::from_millis(5)).await;
        let (mut a, mut b) = UnixStream::pair().unwrap();
        a.write_all(b"ok").await.unwrap();
        let mut buf = [0; 2];
        b.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"ok");
    });
}

// ---- 1. Panics in user code that the runtime runs outside a poll.

#[test]
fn a_future_whose_drop_panics_is_dropped_at_shutdown_without_aborting() {
    let _serial = serial("a_future_whose_drop_panics_is_dropped_at_shutdown_without_aborting");
    let before = reported();
    let rt = runtime(2);
    rt.block_on(async {
        // One waiting, one never run (queued behind a blocked worker would
        // be racy: both wait, one of them from the start).
        smp_rt::spawn(async {
            let _bomb = PanicsOnDrop;
            std::future::pending::<()>().await;
        });
        smp_rt::spawn(async {
            let _bomb = PanicsOnDrop;
            sleep(Duration::from_secs(3600)).await;
        });
        sleep(Duration::from_millis(20)).await;
    });
    drop(rt);
    assert_eq!(reported() - before, 2, "each drop's panic is reported");
}

#[test]
fn a_detached_task_whose_output_panics_on_drop_is_reported() {
    let _serial = serial("a_detached_task_whose_output_panics_on_drop_is_reported");
    let before = reported();
    let rt = runtime(2);
    rt.block_on(async {
        drop(smp_rt::spawn(async { PanicsOnDrop }));
        // A handle dropped after the task finished drops the output too.
        let finished = smp_rt::spawn(async { PanicsOnDrop });
        while !finished.is_finished() {
            smp_rt::task::yield_now().await;
        }
        drop(finished);
        let wait = Instant::now();
        while reported() - before < 2 && wait.elapsed() < Duration::from_secs(10) {
            sleep(Duration::from_millis(1)).await;
        }
    });
    assert_eq!(reported() - before, 2);
    assert_runtime_works(&rt);
}

#[test]
fn a_join_handle_awaited_with_a_panicking_waker_does_not_abort() {
    let _serial = serial("a_join_handle_awaited_with_a_panicking_waker_does_not_abort");
    let before = reported();
    let rt = runtime(2);
    let (inner, waker) = panicking_waker();
    rt.block_on(async move {
        let (tx, rx) = smp_rt::sync::oneshot::channel::<()>();
        let mut handle = smp_rt::spawn(async move {
            rx.await.unwrap();
            5
        });
        assert!(poll_with(&mut handle, &waker).is_pending());
        // The task completes on a worker, which wakes the awaiter.
        tx.send(()).unwrap();
        wait_for_report(before).await;
        let value = poll_fn(|cx| std::pin::Pin::new(&mut handle).poll(cx)).await;
        assert_eq!(value.unwrap(), 5);
    });
    assert_eq!(inner.0.load(SeqCst), 1, "the completion woke the awaiter");
    assert_eq!(reported() - before, 1);
    assert_runtime_works(&rt);
}

#[test]
fn a_panic_in_the_drop_run_by_abort_is_the_tasks_panic() {
    let _serial = serial("a_panic_in_the_drop_run_by_abort_is_the_tasks_panic");
    let rt = runtime(2);
    rt.block_on(async {
        let (started_tx, started) = smp_rt::sync::oneshot::channel();
        let handle = smp_rt::spawn(async move {
            let _bomb = PanicsOnDrop;
            started_tx.send(()).unwrap();
            std::future::pending::<()>().await;
        });
        started.await.unwrap();
        handle.abort();
        let err = handle.await.unwrap_err();
        assert!(
            err.is_panic(),
            "a panicking Drop under abort is a panic: {err}"
        );
    });
}

// ---- 2. Spawning from a Drop while the runtime shuts down.

#[test]
fn a_spawn_from_a_drop_at_shutdown_gets_a_cancelled_handle() {
    let _serial = serial("a_spawn_from_a_drop_at_shutdown_gets_a_cancelled_handle");
    struct ReturnsToPool(mpsc::Sender<smp_rt::task::JoinHandle<()>>);
    impl Drop for ReturnsToPool {
        fn drop(&mut self) {
            // A connection returned to its pool spawns its cleanup.
            let _ = self.0.send(smp_rt::spawn(async {}));
        }
    }
    let (tx, rx) = mpsc::channel();
    let rt = runtime(2);
    rt.block_on(async move {
        for _ in 0..4 {
            let guard = ReturnsToPool(tx.clone());
            smp_rt::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
        }
        sleep(Duration::from_millis(10)).await;
    });
    drop(rt);
    let handles: Vec<_> = rx.try_iter().collect();
    assert_eq!(handles.len(), 4, "every Drop spawned");
    for handle in handles {
        let err = futures::executor::block_on(handle).unwrap_err();
        assert!(err.is_cancelled());
    }
}

// ---- 3. Connecting never blocks a thread.

#[test]
fn connects_that_never_complete_are_cancelled_by_timeouts_and_hold_no_thread() {
    let _serial =
        serial("connects_that_never_complete_are_cancelled_by_timeouts_and_hold_no_thread");
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("faults-conn")
        .build()
        .unwrap();
    let started = Instant::now();
    rt.block_on(async {
        // A listener that never accepts, with the smallest backlog: once
        // its queue is full, the kernel drops further SYNs, and a connect
        // waits for the peer (the "host that drops SYNs").
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(0).unwrap();
        let addr = listener.local_addr().unwrap();
        let mut filled = Vec::new();
        let mut timed_out = 0;
        for _ in 0..40 {
            match timeout(Duration::from_millis(20), TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => filled.push(stream),
                Ok(Err(err)) => panic!("connect failed: {err}"),
                Err(_) => timed_out += 1,
            }
        }
        assert!(timed_out > 0, "the accept queue never filled");
        // No connect ran on a thread of the blocking pool.
        assert_eq!(threads_named("faults-conn-blo"), 0);
        // The pool is free for other work.
        let ran = smp_rt::task::spawn_blocking(|| 1);
        assert_eq!(
            timeout(Duration::from_secs(5), ran).await.unwrap().unwrap(),
            1
        );
        drop(listener);
    });
    drop(rt);
    assert!(started.elapsed() < WATCHDOG);
    assert_eq!(threads_named("faults-conn"), 0);
}

#[test]
fn a_unix_connect_to_a_full_backlog_returns_instead_of_waiting() {
    let _serial = serial("a_unix_connect_to_a_full_backlog_returns_instead_of_waiting");
    let dir = std::env::temp_dir().join(format!("smp_rt-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("full.sock");
    let _ = std::fs::remove_file(&path);
    let rt = runtime(2);
    rt.block_on(async {
        let listener = UnixListener::bind(&path).unwrap();
        // The smallest accept queue: the next connects find it full.
        rustix::net::listen(&listener, 0).unwrap();
        let mut kept = Vec::new();
        let mut refused = 0;
        for _ in 0..512 {
            match timeout(Duration::from_millis(200), UnixStream::connect(&path)).await {
                Ok(Ok(stream)) => kept.push(stream),
                Ok(Err(_)) | Err(_) => refused += 1,
            }
            if refused > 4 {
                break;
            }
        }
        assert!(
            refused > 0,
            "the backlog never filled ({} connected)",
            kept.len()
        );
    });
    drop(rt);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_dropped_connect_future_closes_its_socket() {
    let _serial = serial("a_dropped_connect_future_closes_its_socket");
    let rt = runtime(1);
    rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let fds = || std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count());
        let before = fds();
        for _ in 0..50 {
            let mut connect = pin!(TcpStream::connect(addr));
            let _ = poll_fn(|cx| Poll::Ready(connect.as_mut().poll(cx))).await;
        }
        let mut accepted = 0;
        while let Ok(Ok(_)) = timeout(Duration::from_millis(50), listener.accept()).await {
            accepted += 1;
        }
        assert!(accepted <= 50);
        assert!(fds() <= before + 2, "sockets leaked: {before} -> {}", fds());
    });
}

// ---- 4. A panicking waker in the timer or IO driver.

#[test]
fn a_panicking_waker_in_the_timer_driver_leaves_the_runtime_working() {
    let _serial = serial("a_panicking_waker_in_the_timer_driver_leaves_the_runtime_working");
    let before = reported();
    let rt = runtime(2);
    let (inner, waker) = panicking_waker();
    rt.block_on(async {
        let mut timer = Box::pin(sleep(Duration::from_millis(5)));
        assert!(poll_with(&mut timer, &waker).is_pending());
        wait_for_report(before).await;
    });
    assert_eq!(inner.0.load(SeqCst), 1, "the driver woke it");
    assert_eq!(reported() - before, 1);
    assert_eq!(rt.metrics().num_workers(), 2);
    for _ in 0..3 {
        assert_runtime_works(&rt);
    }
}

#[test]
fn a_panicking_waker_in_the_io_driver_leaves_the_runtime_working() {
    let _serial = serial("a_panicking_waker_in_the_io_driver_leaves_the_runtime_working");
    let before = reported();
    let rt = runtime(2);
    let (inner, waker) = panicking_waker();
    rt.block_on(async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let mut buf = [0u8; 4];
        {
            let mut read = std::pin::pin!(b.read(&mut buf));
            assert!(poll_with(&mut read, &waker).is_pending());
        }
        a.write_all(b"wake").await.unwrap();
        wait_for_report(before).await;
        b.read_exact(&mut buf).await.unwrap();
    });
    assert_eq!(inner.0.load(SeqCst), 1, "the reactor woke it");
    assert_eq!(reported() - before, 1);
    for _ in 0..3 {
        assert_runtime_works(&rt);
    }
}

// ---- 5. Every Builder value works or is refused with a reason.

#[test]
fn builder_values_at_their_edges_work_or_are_refused_with_a_reason() {
    let _serial = serial("builder_values_at_their_edges_work_or_are_refused_with_a_reason");
    let min = smp_rt::runtime::MIN_REDUCTIONS;
    for reductions in [0, 1, min - 1] {
        let err = Builder::new_multi_thread()
            .reductions(reductions)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("reductions must be at least"),
            "{err}"
        );
    }
    let err = Builder::new_multi_thread()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("worker_threads"), "{err}");
    let err = Builder::new_multi_thread()
        .worker_threads(65_535)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("worker_threads"), "{err}");
    let err = Builder::new_multi_thread()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("max_blocking_threads"), "{err}");
    let err = Builder::new_multi_thread()
        .thread_name("bad\0name")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");

    // The smallest budget works: a receive of a queued message, in a loop,
    // in a select! of several branches, goes through.
    for flavor in [Builder::new_multi_thread(), Builder::new_current_thread()] {
        let mut flavor = flavor;
        let rt = flavor
            .reductions(min)
            .thread_keep_alive(Duration::ZERO)
            .max_blocking_threads(1)
            .build()
            .unwrap();
        rt.block_on(async {
            let (tx, mut rx) = smp_rt::sync::mpsc::unbounded_channel::<u32>();
            let (_other_tx, mut other) = smp_rt::sync::mpsc::unbounded_channel::<u32>();
            for i in 0..200 {
                tx.send(i).unwrap();
            }
            let mut got = 0;
            while got < 200 {
                smp_rt::select! {
                    biased;
                    _ = other.recv() => unreachable!(),
                    Some(_) = rx.recv() => got += 1,
                }
            }
            let blocking = smp_rt::task::spawn_blocking(|| 3);
            assert_eq!(blocking.await.unwrap(), 3);
            let again = smp_rt::task::spawn_blocking(|| 4);
            assert_eq!(again.await.unwrap(), 4);
        });
    }
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_keep_alive(Duration::MAX)
        .build()
        .unwrap();
    assert_runtime_works(&rt);
}

// ---- 6. A runtime used after it is gone.

#[test]
fn a_handle_used_after_its_runtime_is_dropped_fails_clearly() {
    let _serial = serial("a_handle_used_after_its_runtime_is_dropped_fails_clearly");
    let rt = runtime(1);
    let handle = rt.handle().clone();
    drop(rt);
    // A spawn is cancelled.
    let err = futures::executor::block_on(handle.spawn(async { 1 })).unwrap_err();
    assert!(err.is_cancelled());
    // block_on panics with an explanation rather than wait forever.
    let panic = catch_unwind(AssertUnwindSafe(|| {
        handle.block_on(async { sleep(Duration::from_millis(1)).await });
    }))
    .unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains("shut down"), "{message}");
    // IO registration fails.
    let _enter = handle.enter();
    assert!(
        std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| TcpListener::from_std(l).map(drop))
            .is_err()
    );
}

// ---- 7. A current-thread runtime driven from two threads.

#[test]
fn a_current_thread_runtime_blocked_on_from_two_threads_drives_both() {
    let _serial = serial("a_current_thread_runtime_blocked_on_from_two_threads_drives_both");
    let rt = Arc::new(Builder::new_current_thread().build().unwrap());
    for _ in 0..20 {
        let threads: Vec<_> = (0..2)
            .map(|i| {
                let rt = rt.clone();
                thread::spawn(move || {
                    rt.block_on(async move {
                        sleep(Duration::from_millis(1 + i * 3)).await;
                        smp_rt::spawn(async move { i }).await.unwrap()
                    })
                })
            })
            .collect();
        let results: Vec<u64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
        assert_eq!(results, [0, 1]);
    }
}

// ---- 8. IO helpers that never return Pending.

#[test]
fn io_helpers_on_always_ready_ends_yield_so_a_timeout_fires() {
    let _serial = serial("io_helpers_on_always_ready_ends_yield_so_a_timeout_fires");
    let rt = Builder::new_current_thread().build().unwrap();
    rt.block_on(async {
        let mut sink = io::sink();
        let mut ones = io::repeat(1);
        let copy = io::copy(&mut ones, &mut sink);
        assert!(timeout(Duration::from_millis(20), copy).await.is_err());
        let spin = async {
            let mut memory = [0; 8];
            let mut empty = io::empty();
            loop {
                let mut buf = io::ReadBuf::new(&mut memory);
                poll_fn(|cx| {
                    io::AsyncRead::poll_read(std::pin::Pin::new(&mut empty), cx, &mut buf)
                })
                .await
                .unwrap();
                assert!(buf.filled().is_empty());
            }
        };
        assert!(timeout(Duration::from_millis(20), spin).await.is_err());
    });
}

// ---- 9. Nesting, enter guards, threads at drop, names of dead processes.

#[test]
fn a_block_on_inside_a_block_on_panics_with_an_explanation() {
    let _serial = serial("a_block_on_inside_a_block_on_panics_with_an_explanation");
    let outer = runtime(1);
    let inner = runtime(1);
    let panic = catch_unwind(AssertUnwindSafe(|| {
        outer.block_on(async { inner.block_on(async {}) });
    }))
    .unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains("inside another block_on"), "{message}");
    // Both still work.
    outer.block_on(async {});
    inner.block_on(async {});
}

#[test]
fn enter_guards_dropped_out_of_order_panic_with_an_explanation() {
    let _serial = serial("enter_guards_dropped_out_of_order_panic_with_an_explanation");
    let a = runtime(1);
    let b = runtime(1);
    let panic = catch_unwind(AssertUnwindSafe(|| {
        let first = a.enter();
        let second = b.enter();
        drop(first);
        drop(second);
    }))
    .unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains("dropped out of order"), "{message}");
    // In order, nothing is left entered.
    {
        let _first = a.enter();
        let _second = b.enter();
    }
    assert!(smp_rt::runtime::Handle::try_current().is_err());
}

#[test]
fn dropping_a_runtime_returns_after_its_threads_exited() {
    let _serial = serial("dropping_a_runtime_returns_after_its_threads_exited");
    let name = "faults-drop";
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name(name)
        .build()
        .unwrap();
    rt.block_on(async {
        let jobs: Vec<_> = (0..4)
            .map(|_| smp_rt::task::spawn_blocking(|| thread::sleep(Duration::from_millis(5))))
            .collect();
        for job in jobs {
            job.await.unwrap();
        }
    });
    assert!(threads_named(name) >= 3, "two workers and blocking threads");
    drop(rt);
    // A thread that was joined may still be listed for a moment: the kernel
    // wakes the joiner as the thread exits, just before it reaps it. A
    // blocking thread left running would stay for its keep-alive (10 s).
    let listed_until = Instant::now() + Duration::from_secs(2);
    while threads_named(name) > 0 && Instant::now() < listed_until {
        thread::yield_now();
    }
    assert_eq!(
        threads_named(name),
        0,
        "the workers and the blocking pool are gone: {:?}",
        thread_names()
    );
}

#[test]
fn names_of_processes_that_died_with_their_runtime_are_released() {
    let _serial = serial("names_of_processes_that_died_with_their_runtime_are_released");
    let rt = runtime(1);
    rt.block_on(async {
        let pid = smp_rt::process::spawn(|mut mbox: smp_rt::process::Mailbox<u32>| async move {
            mbox.recv().await;
        });
        smp_rt::process::register("faults-dies-with-runtime", &pid).unwrap();
    });
    drop(rt);
    assert!(
        !smp_rt::process::registered().contains(&"faults-dies-with-runtime".to_string()),
        "{:?}",
        smp_rt::process::registered()
    );
    assert!(smp_rt::process::whereis::<u32>("faults-dies-with-runtime").is_none());
}

/// A thread hook is user code on every worker: a start hook that panics is
/// reported, and the worker runs its loop all the same.
#[test]
fn a_thread_hook_that_panics_is_reported_and_the_workers_run() {
    let _serial = serial("a_thread_hook_that_panics_is_reported_and_the_workers_run");
    let before = reported();
    let hook_ran = Arc::new(AtomicBool::new(false));
    let seen = hook_ran.clone();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .on_thread_start(move || {
            seen.store(true, SeqCst);
            panic!("a start hook that panics");
        })
        .build()
        .unwrap();
    assert_runtime_works(&rt);
    assert!(hook_ran.load(SeqCst));
    // Each worker reports its hook's panic once it has unwound: wait for
    // the slower one.
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(10);
        while reported() - before < 2 && Instant::now() < deadline {
            sleep(Duration::from_millis(1)).await;
        }
    });
    assert!(
        reported() - before >= 2,
        "each worker's hook panic was reported"
    );
}

#[test]
fn a_blocking_call_inside_block_on_panics_with_an_explanation() {
    let _serial = serial("a_blocking_call_inside_block_on_panics_with_an_explanation");
    let rt = runtime(1);
    let (tx, mut rx) = smp_rt::sync::mpsc::channel::<u32>(1);
    let panic = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async { rx.blocking_recv() });
    }))
    .unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains("inside block_on"), "{message}");
    // From a plain thread, the same call blocks until a value comes.
    let receiver = thread::spawn(move || rx.blocking_recv());
    rt.block_on(async move { tx.send(5).await.unwrap() });
    assert_eq!(receiver.join().unwrap(), Some(5));
}

//! The runtime: building it (and refusing bad settings), entering it,
//! blocking on it, its two flavors, handles, and `smp_rt::block_on`.

use std::io;
use std::sync::{Arc, Mutex};

use smp_rt::runtime::{Builder, Handle, Runtime};

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn zero_workers_is_an_error() {
    let err = Builder::new_multi_thread()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads"), "{err}");
}

#[test]
fn zero_reductions_is_an_error() {
    for mut builder in [Builder::new_multi_thread(), Builder::new_current_thread()] {
        let err = builder.reductions(0).build().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("reductions"), "{err}");
    }
}

#[test]
fn zero_blocking_threads_is_an_error() {
    let err = Builder::new_multi_thread()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("max_blocking_threads"), "{err}");
}

#[test]
fn worker_threads_and_thread_names() {
    let rt = Builder::new_multi_thread()
        .worker_threads(3)
        .thread_name("svc")
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(rt.metrics().num_workers(), 3);
    let name = rt.block_on(async {
        smp_rt::spawn(async { std::thread::current().name().map(String::from) })
            .await
            .unwrap()
    });
    let name = name.unwrap();
    assert!(
        ["svc-0", "svc-1", "svc-2"].contains(&name.as_str()),
        "task ran on {name}"
    );
}

#[test]
fn block_on_inside_a_task_panics_with_the_reason() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let handle = rt.handle().clone();
    let err = rt.block_on(async move {
        smp_rt::spawn(async move { handle.block_on(async {}) })
            .await
            .unwrap_err()
    });
    assert!(err.is_panic());
    let msg = panic_message(err.into_panic());
    assert!(msg.contains("worker thread"), "{msg}");
    assert!(msg.contains(".await"), "the message says what to do: {msg}");
}

#[test]
fn global_block_on_inside_a_task_panics_too() {
    let rt = Builder::new_current_thread().build().unwrap();
    let err = rt.block_on(async {
        smp_rt::spawn(async { smp_rt::block_on(async { 1 }) })
            .await
            .unwrap_err()
    });
    assert!(panic_message(err.into_panic()).contains("worker thread"));
}

#[test]
fn block_on_from_the_current_thread_runtime_future_panics() {
    let rt = Arc::new(Builder::new_current_thread().build().unwrap());
    let inner = rt.clone();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async move { inner.block_on(async {}) })
    }));
    assert!(panic_message(result.unwrap_err()).contains("worker thread"));
    // The runtime still works after the panic.
    assert_eq!(
        rt.block_on(async { smp_rt::spawn(async { 3 }).await.unwrap() }),
        3
    );
}

#[test]
fn handle_current_inside_and_outside() {
    let err = Handle::try_current().unwrap_err();
    assert!(err.to_string().contains("no smp_rt runtime"));
    let msg = panic_message(std::panic::catch_unwind(Handle::current).unwrap_err());
    assert!(msg.contains("no smp_rt runtime"), "{msg}");

    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let workers = rt.block_on(async {
        let outer = Handle::current().metrics().num_workers();
        let inner = smp_rt::spawn(async { Handle::current().metrics().num_workers() })
            .await
            .unwrap();
        (outer, inner)
    });
    assert_eq!(workers, (2, 2));

    let _guard = rt.enter();
    let h = smp_rt::spawn(async { "entered" });
    assert_eq!(rt.block_on(h).unwrap(), "entered");
}

#[test]
fn current_thread_runs_tasks_on_the_calling_thread() {
    let rt = Builder::new_current_thread().build().unwrap();
    assert_eq!(rt.metrics().num_workers(), 1);
    let me = std::thread::current().id();
    // Spawned before block_on: waits in the inbox until a thread drives it.
    let early = rt.spawn(async { std::thread::current().id() });
    assert_eq!(rt.metrics().worker_inbox_depth(0), 1);
    let ids = rt.block_on(async {
        let late = smp_rt::spawn(async { std::thread::current().id() });
        (early.await.unwrap(), late.await.unwrap())
    });
    assert_eq!(ids, (me, me));
    assert_eq!(rt.metrics().worker_inbox_depth(0), 0);
}

#[test]
fn current_thread_runtime_is_driven_by_block_on_from_any_thread() {
    let rt = Arc::new(Builder::new_current_thread().build().unwrap());
    let task = rt.spawn(async { 11 });
    let rt2 = rt.clone();
    let out = std::thread::spawn(move || rt2.block_on(task).unwrap())
        .join()
        .unwrap();
    assert_eq!(out, 11);
}

#[test]
fn a_future_woken_from_a_plain_thread_completes() {
    for rt in [
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap(),
        Builder::new_current_thread().build().unwrap(),
    ] {
        let (tx, rx) = futures::channel::oneshot::channel();
        let waiter = rt.spawn(async move { rx.await.unwrap() + 1 });
        let sender = std::thread::spawn(move || tx.send(41).unwrap());
        assert_eq!(rt.block_on(waiter).unwrap(), 42);
        sender.join().unwrap();
    }
}

#[test]
fn smp_rt_block_on_runs_a_fresh_runtime() {
    let v = smp_rt::block_on(async { smp_rt::spawn(async { 20 }).await.unwrap() + 1 });
    assert_eq!(v, 21);
}

#[test]
fn runtime_new_and_spawn_blocking_through_the_runtime() {
    let rt = Runtime::new().unwrap();
    let h = rt.spawn_blocking(|| 5);
    assert_eq!(rt.block_on(h).unwrap(), 5);
}

#[test]
fn shutdown_timeout_returns_and_cancels_tasks() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let handle = rt.spawn(std::future::pending::<()>());
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    let err = futures::executor::block_on(handle).unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn enter_guard_nests() {
    let a = Builder::new_current_thread().build().unwrap();
    let b = Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    {
        let _a = a.enter();
        seen.lock()
            .unwrap()
            .push(Handle::current().metrics().num_workers());
        {
            let _b = b.enter();
            seen.lock()
                .unwrap()
                .push(Handle::current().metrics().num_workers());
        }
        seen.lock()
            .unwrap()
            .push(Handle::current().metrics().num_workers());
    }
    let outside = Handle::try_current().unwrap_err();
    assert!(outside.is_missing_context() && !outside.is_thread_local_destroyed());
    assert_eq!(*seen.lock().unwrap(), vec![1, 2, 1]);
}

#[test]
fn builder_name_is_the_handle_name() {
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .name("named-runtime")
        .build()
        .unwrap();
    assert_eq!(rt.handle().name(), Some("named-runtime"));
    let inside = rt.block_on(async {
        smp_rt::spawn(async { Handle::current().name().map(str::to_owned) })
            .await
            .unwrap()
    });
    assert_eq!(inside.as_deref(), Some("named-runtime"));

    let unnamed = Builder::new_current_thread().build().unwrap();
    assert_eq!(unnamed.handle().name(), None);
}

#[test]
#[should_panic(expected = "runtime name shouldn't be empty")]
fn an_empty_runtime_name_panics() {
    Builder::new_current_thread().name("  ");
}

#[test]
fn handle_ids_are_unique_per_runtime_and_shared_by_its_handles() {
    let a = Builder::new_current_thread().build().unwrap();
    let b = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let a_id = a.handle().id();
    assert_ne!(a_id, b.handle().id());
    assert_eq!(a_id, a.handle().clone().id());
    assert_eq!(a.block_on(async { Handle::current().id() }), a_id);
    assert_eq!(a_id.to_string(), format!("{a_id}"));
    assert!(a_id.to_string().parse::<u64>().is_ok(), "{a_id}");
    drop(a);
    let c = Builder::new_current_thread().build().unwrap();
    assert_ne!(c.handle().id(), a_id, "ids are not reused");
}

#[test]
fn global_queue_and_event_intervals_are_accepted() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .global_queue_interval(31)
        .event_interval(61)
        .build()
        .unwrap();
    assert_eq!(
        rt.block_on(async { smp_rt::spawn(async { 2 }).await.unwrap() }),
        2
    );
}

#[test]
#[should_panic(expected = "global_queue_interval must be greater than 0")]
fn a_zero_global_queue_interval_panics() {
    Builder::new_multi_thread().global_queue_interval(0);
}

/// Run by `worker_threads_from_the_environment` in a child process, with
/// the environment it sets: prints what `build()` made of it.
#[test]
#[ignore = "run in a child process by worker_threads_from_the_environment"]
fn env_worker_threads_child() {
    match Builder::new_multi_thread().build() {
        Ok(rt) => println!("@@workers={}@@", rt.metrics().num_workers()),
        Err(err) => println!("@@error={err}@@"),
    }
    let explicit = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    println!("@@explicit={}@@", explicit.metrics().num_workers());
}

/// Runs this test binary again as a child process. Under an emulator
/// (`qemu-aarch64` as cargo's runner), `SMP_RT_TEST_CHILD_RUNNER` names the
/// command to start it under, as `.ci/run` sets it.
fn run_env_child(vars: &[(&str, &str)]) -> String {
    let exe = std::env::current_exe().unwrap();
    let runner = std::env::var("SMP_RT_TEST_CHILD_RUNNER").unwrap_or_default();
    let mut runner = runner.split_whitespace();
    let mut cmd = match runner.next() {
        Some(program) => {
            let mut cmd = std::process::Command::new(program);
            cmd.args(runner).arg(&exe);
            cmd
        }
        None => std::process::Command::new(&exe),
    };
    cmd.args([
        "--exact",
        "env_worker_threads_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    cmd.env_remove("SMP_RT_WORKER_THREADS")
        .env_remove("TOKIO_WORKER_THREADS");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn worker_threads_from_the_environment() {
    let out = run_env_child(&[("SMP_RT_WORKER_THREADS", "3")]);
    assert!(out.contains("@@workers=3@@"), "{out}");
    assert!(out.contains("@@explicit=1@@"), "worker_threads wins: {out}");

    let out = run_env_child(&[("TOKIO_WORKER_THREADS", "2")]);
    assert!(out.contains("@@workers=2@@"), "{out}");

    let out = run_env_child(&[
        ("SMP_RT_WORKER_THREADS", "3"),
        ("TOKIO_WORKER_THREADS", "2"),
    ]);
    assert!(out.contains("@@workers=3@@"), "SMP_RT_ first: {out}");

    let out = run_env_child(&[("SMP_RT_WORKER_THREADS", "zero")]);
    assert!(
        out.contains("@@error=SMP_RT_WORKER_THREADS must be a positive integer"),
        "{out}"
    );
    let out = run_env_child(&[("TOKIO_WORKER_THREADS", "0")]);
    assert!(
        out.contains("@@error=TOKIO_WORKER_THREADS must be a positive integer"),
        "{out}"
    );
}

/// The stack size of the calling thread, from its pthread attributes.
#[cfg(target_os = "linux")]
fn own_stack_size() -> usize {
    // SAFETY: `attr` is initialized by `pthread_getattr_np` before it is
    // read, and destroyed once.
    unsafe {
        let mut attr: libc::pthread_attr_t = std::mem::zeroed();
        assert_eq!(libc::pthread_getattr_np(libc::pthread_self(), &mut attr), 0);
        let mut size = 0;
        assert_eq!(libc::pthread_attr_getstacksize(&attr, &mut size), 0);
        libc::pthread_attr_destroy(&mut attr);
        size
    }
}

#[cfg(target_os = "linux")]
#[test]
fn thread_stack_size_applies_to_workers_and_blocking_threads() {
    const SIZE: usize = 7 << 20;
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_stack_size(SIZE)
        .build()
        .unwrap();
    let (worker, blocking) = rt.block_on(async {
        let worker = smp_rt::spawn(async { own_stack_size() }).await.unwrap();
        let blocking = smp_rt::spawn_blocking(own_stack_size).await.unwrap();
        (worker, blocking)
    });
    assert!(worker >= SIZE, "worker stack: {worker}");
    assert!(blocking >= SIZE, "blocking stack: {blocking}");
    // The default is std's, well below what was asked for above.
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let default = rt.block_on(async { smp_rt::spawn(async { own_stack_size() }).await.unwrap() });
    assert!(default < SIZE, "default worker stack: {default}");
}

/// Blocks on a oneshot sent by another thread once the park hook has
/// reported a park, so the runtime's only worker must park at least once.
/// Returns `(parks, unparks)` counted by the hooks; `park_panics` makes
/// the park hook panic after counting.
fn park_and_unpark_counts(park_panics: bool) -> (usize, usize) {
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::mpsc;
    use std::time::Duration;

    let parks = Arc::new(AtomicUsize::new(0));
    let unparks = Arc::new(AtomicUsize::new(0));
    let (parked_tx, parked_rx) = mpsc::channel::<()>();
    let parked_tx = Mutex::new(parked_tx);
    let rt = Builder::new_current_thread()
        .on_thread_park({
            let parks = parks.clone();
            move || {
                parks.fetch_add(1, SeqCst);
                let _ = parked_tx.lock().unwrap().send(());
                if park_panics {
                    panic!("a park hook that panics");
                }
            }
        })
        .on_thread_unpark({
            let unparks = unparks.clone();
            move || {
                unparks.fetch_add(1, SeqCst);
            }
        })
        .build()
        .unwrap();
    let (tx, rx) = smp_rt::sync::oneshot::channel::<u32>();
    let sender = std::thread::spawn(move || {
        // A guard against hanging, not a timed assertion: without the hook
        // the test fails here instead of blocking forever.
        parked_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the park hook never ran");
        tx.send(7).unwrap();
    });
    assert_eq!(rt.block_on(rx).unwrap(), 7);
    sender.join().unwrap();
    (parks.load(SeqCst), unparks.load(SeqCst))
}

#[test]
fn park_and_unpark_hooks_run_around_every_wait_for_work() {
    let (parks, unparks) = park_and_unpark_counts(false);
    assert!(parks >= 1);
    assert_eq!(parks, unparks);
}

#[test]
fn a_panicking_park_hook_leaves_the_worker_running() {
    let (parks, unparks) = park_and_unpark_counts(true);
    assert!(parks >= 1);
    assert_eq!(parks, unparks);
}

#[test]
fn a_park_hook_may_spawn_the_work_the_worker_waits_for() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

    let once = AtomicBool::new(true);
    let (tx, rx) = smp_rt::sync::oneshot::channel::<&str>();
    let tx = Mutex::new(Some(tx));
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .on_thread_park(move || {
            if once.swap(false, SeqCst) {
                let tx = tx.lock().unwrap().take().unwrap();
                smp_rt::spawn(async move { tx.send("spawned while parking").unwrap() });
            }
        })
        .build()
        .unwrap();
    assert_eq!(rt.block_on(rx).unwrap(), "spawned while parking");
}

#[test]
fn max_io_events_per_tick_of_zero_panics_and_one_still_serves_every_socket() {
    let payload = std::panic::catch_unwind(|| {
        Builder::new_current_thread().max_io_events_per_tick(0);
    })
    .unwrap_err();
    assert!(panic_message(payload).contains("max_io_events_per_tick"));

    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .max_io_events_per_tick(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let receivers = bind_udp_sockets(4).await;
        let sender = smp_rt::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for receiver in &receivers {
            let to = receiver.local_addr().unwrap();
            sender.send_to(b"x", to).await.unwrap();
        }
        let mut tasks = Vec::new();
        for receiver in receivers {
            tasks.push(smp_rt::spawn(async move {
                let mut buf = [0; 1];
                receiver.recv(&mut buf).await.unwrap()
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap(), 1);
        }
    });
}

async fn bind_udp_sockets(n: usize) -> Vec<smp_rt::net::UdpSocket> {
    let mut sockets = Vec::new();
    for _ in 0..n {
        sockets.push(smp_rt::net::UdpSocket::bind("127.0.0.1:0").await.unwrap());
    }
    sockets
}

#[test]
fn io_objects_of_a_dropped_runtime_fail_with_the_shutdown_error() {
    let first = Runtime::new().unwrap();
    let second = Runtime::new().unwrap();
    let listener =
        first.block_on(async { smp_rt::net::TcpListener::bind("127.0.0.1:0").await.unwrap() });
    drop(first);
    second.block_on(async {
        let err = listener.accept().await.unwrap_err();
        assert!(smp_rt::runtime::is_rt_shutdown_err(&err), "{err}");
    });
    assert!(!smp_rt::runtime::is_rt_shutdown_err(&io::Error::other(
        "the runtime has shut down"
    )));
    assert!(!smp_rt::runtime::is_rt_shutdown_err(
        &io::ErrorKind::ConnectionReset.into()
    ));
}

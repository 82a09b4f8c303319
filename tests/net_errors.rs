//! Errors, never hangs: refused connections, resets, end-of-file, IO
//! objects used without (or after) their runtime, and a listener whose
//! accepting task is cancelled.

use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use smp_rt::io::{AsyncReadExt, AsyncWriteExt};
use smp_rt::net::{TcpListener, TcpStream, UdpSocket, UnixStream};
use smp_rt::runtime::Builder;

/// Runs `body` on a fresh 2-worker runtime; fails instead of hanging if it
/// has not finished after 30 s.
fn run<F>(body: impl FnOnce() -> F + Send + 'static)
where
    F: Future<Output = ()>,
{
    bounded(move || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(body());
    });
}

/// Runs `f` on its own thread; fails if it has not returned after 30 s.
fn bounded(f: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        f();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => thread.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish within 30 s"),
    }
}

/// A loopback address nothing listens on (a port the OS just handed out
/// and got back).
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A connected pair: (client, server side).
async fn connected() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let client = smp_rt::spawn(async move { TcpStream::connect(addr).await.unwrap() });
    let (server, _) = listener.accept().await.unwrap();
    (client.await.unwrap(), server)
}

#[test]
fn connect_to_a_closed_port_is_refused() {
    run(|| async {
        let err = TcpStream::connect(closed_port()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn reading_after_the_peer_closed_is_eof() {
    run(|| async {
        let (mut client, mut server) = connected().await;
        server.write_all(b"last words").await.unwrap();
        drop(server);
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"last words");
        let mut buf = [0; 8];
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
        assert_eq!(client.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn a_reset_by_the_peer_is_an_error() {
    run(|| async {
        let (mut client, server) = connected().await;
        client.write_all(b"never read").await.unwrap();
        // Closing a socket with unread data sends a reset (RST), not a FIN.
        server.readable().await.unwrap();
        drop(server);

        let mut buf = [0; 8];
        let err = client.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionReset, "{err}");
        // Writing to the reset connection fails too (at the latest on the
        // second write: the first may be accepted by the local buffer).
        let mut write_err = None;
        for _ in 0..2 {
            if let Err(err) = client.write_all(b"more").await {
                write_err = Some(err);
                break;
            }
        }
        let err = write_err.expect("writing to a reset connection kept succeeding");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::BrokenPipe | ErrorKind::ConnectionReset
            ),
            "{err}"
        );
    });
}

/// The panic message of `f`, which must panic.
fn panic_of<R>(f: impl FnOnce() -> R) -> String {
    let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) else {
        panic!("expected a panic");
    };
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn outside_a_runtime_constructors_panic_saying_what_to_do() {
    let messages = [
        panic_of(|| futures::executor::block_on(TcpListener::bind("127.0.0.1:0"))),
        panic_of(|| futures::executor::block_on(TcpStream::connect(closed_port()))),
        panic_of(|| futures::executor::block_on(UdpSocket::bind("127.0.0.1:0"))),
        panic_of(UnixStream::pair),
        panic_of(|| TcpListener::from_std(std::net::TcpListener::bind("127.0.0.1:0").unwrap())),
        panic_of(|| {
            let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
            smp_rt::io::unix::AsyncFd::new(a)
        }),
        panic_of(|| {
            futures::executor::block_on(async {
                let socket = smp_rt::net::TcpSocket::new_v4().unwrap();
                socket.connect(closed_port()).await
            })
        }),
    ];
    for message in messages {
        assert!(
            message.contains("no smp_rt runtime") && message.contains("Runtime::enter"),
            "{message}"
        );
    }
}

#[test]
fn cancelling_an_accepting_task_releases_the_listener() {
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepting = smp_rt::spawn(async move {
            let _ = listener.accept().await;
            unreachable!("nobody connects");
        });
        smp_rt::task::yield_now().await;
        accepting.abort();
        assert!(accepting.await.unwrap_err().is_cancelled());

        // The task's future, and the listener with it, are gone: the port
        // is closed and can be bound again.
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
        let again = TcpListener::bind(addr).await.unwrap();
        assert_eq!(again.local_addr().unwrap(), addr);
    });
}

#[test]
fn io_objects_that_outlive_their_runtime_fail_instead_of_hanging() {
    bounded(|| {
        let first = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        let (listener, client, server) = first.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let (client, server) = connected().await;
            (listener, client, server)
        });
        drop(first);

        // Nothing drives the first runtime's reactor any more: waiting on
        // its sockets is an error, not a hang, even from another runtime.
        let second = Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        second.block_on(async {
            let err = listener.accept().await.unwrap_err();
            assert!(err.to_string().contains("shut down"), "{err}");
            let mut client = client;
            let mut buf = [0; 4];
            let err = client.read(&mut buf).await.unwrap_err();
            assert!(err.to_string().contains("shut down"), "{err}");
            // Operations that need no waiting still work.
            assert!(server.local_addr().is_ok());
        });
    });
}

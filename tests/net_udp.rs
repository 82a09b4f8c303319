//! UDP: `send_to`/`recv_from`, `connect` + `send`/`recv`, and several tasks
//! waiting on one socket at once.

use std::future::Future;
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use smp_rt::net::UdpSocket;
use smp_rt::runtime::Builder;

/// Runs `body` on a fresh 2-worker runtime; fails instead of hanging if it
/// has not finished after 30 s.
fn run<F>(body: impl FnOnce() -> F + Send + 'static)
where
    F: Future<Output = ()>,
{
    let (done_tx, done_rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(body());
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

#[test]
fn send_to_and_recv_from() {
    run(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind(("127.0.0.1", 0)).await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());

        // `b` waits before anything is sent: the datagram wakes it.
        let b = Arc::new(b);
        let receiver = {
            let b = b.clone();
            smp_rt::spawn(async move {
                let mut buf = [0; 64];
                let (n, from) = b.recv_from(&mut buf).await.unwrap();
                (buf[..n].to_vec(), from)
            })
        };
        a.send_to(b"first", b_addr).await.unwrap();
        let (got, from) = receiver.await.unwrap();
        assert_eq!((got.as_slice(), from), (&b"first"[..], a_addr));

        // And the other way, with a string address.
        b.send_to(b"second", a_addr.to_string()).await.unwrap();
        let mut buf = [0; 64];
        let (n, _) = a.peek_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"second");
        let (n, from) = a.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"second"[..], b_addr));
    });
}

#[test]
fn connect_then_send_and_recv() {
    run(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        a.connect(b.local_addr().unwrap()).await.unwrap();
        b.connect(a.local_addr().unwrap()).await.unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());

        for i in 0..100u32 {
            a.send(&i.to_be_bytes()).await.unwrap();
            let mut buf = [0; 4];
            assert_eq!(b.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(u32::from_be_bytes(buf), i);
            b.send(&buf).await.unwrap();
            assert_eq!(a.recv(&mut buf).await.unwrap(), 4);
            assert_eq!(u32::from_be_bytes(buf), i);
        }

        let mut buf = [0; 4];
        assert_eq!(
            a.try_recv(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
    });
}

#[test]
fn several_tasks_receive_on_one_socket() {
    const TASKS: usize = 8;
    run(|| async {
        let server = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = server.local_addr().unwrap();
        // Every receiver is waiting before the first datagram is sent; each
        // one must be woken and get exactly one datagram.
        let receivers: Vec<_> = (0..TASKS)
            .map(|_| {
                let server = server.clone();
                smp_rt::spawn(async move {
                    let mut buf = [0; 8];
                    let (n, _) = server.recv_from(&mut buf).await.unwrap();
                    assert_eq!(n, 1);
                    buf[0]
                })
            })
            .collect();
        for _ in 0..TASKS {
            smp_rt::task::yield_now().await;
        }
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        for i in 0..TASKS as u8 {
            client.send_to(&[i], addr).await.unwrap();
        }
        let mut got = Vec::new();
        for receiver in receivers {
            got.push(receiver.await.unwrap());
        }
        got.sort_unstable();
        assert_eq!(got, (0..TASKS as u8).collect::<Vec<_>>());
    });
}

//! UDP: `send_to`/`recv_from`, `connect` + `send`/`recv`, several tasks
//! waiting on one socket at once, the readiness API and the `poll_*`
//! methods, peeking, and socket options.

use std::future::{Future, poll_fn};
use std::io::ErrorKind;
use std::net::Ipv4Addr;
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use smp_rt::io::{Interest, ReadBuf};
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

#[test]
fn a_new_socket_is_not_readable_and_its_tries_would_block() {
    run(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let pending = futures::poll!(poll_fn(|cx| a.poll_recv_ready(cx)));
        assert!(pending.is_pending(), "{pending:?}");
        let mut buf = [0; 8];
        for err in [
            a.try_recv_from(&mut buf).map(|_| ()).unwrap_err(),
            a.try_peek_from(&mut buf).map(|_| ()).unwrap_err(),
            a.try_peek_sender().map(|_| ()).unwrap_err(),
        ] {
            assert_eq!(err.kind(), ErrorKind::WouldBlock);
        }
        poll_fn(|cx| a.poll_send_ready(cx)).await.unwrap();
        let ready = a
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");

        // A datagram is an event: readable, and the tries get it.
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        b.writable().await.unwrap();
        b.try_send_to(b"dgram", a.local_addr().unwrap()).unwrap();
        a.readable().await.unwrap();
        let (n, from) = a.try_peek_from(&mut buf).unwrap();
        assert_eq!((&buf[..n], from), (&b"dgram"[..], b.local_addr().unwrap()));
        assert_eq!(a.try_peek_sender().unwrap(), b.local_addr().unwrap());
        assert_eq!(a.try_recv_from(&mut buf).unwrap().0, 5);
        // Taken: `WouldBlock` clears the readiness; the next wait waits.
        assert_eq!(
            a.try_recv_from(&mut buf).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        let pending = futures::poll!(poll_fn(|cx| a.poll_recv_ready(cx)));
        assert!(pending.is_pending(), "{pending:?}");
    });
}

#[test]
fn poll_methods_and_buffer_receives() {
    run(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        a.connect(b_addr).await.unwrap();
        b.connect(a_addr).await.unwrap();

        assert_eq!(poll_fn(|cx| a.poll_send(cx, b"one")).await.unwrap(), 3);
        assert_eq!(b.peek_sender().await.unwrap(), a_addr);
        let mut storage = [0; 16];
        let mut buf = ReadBuf::new(&mut storage);
        poll_fn(|cx| b.poll_peek(cx, &mut buf)).await.unwrap();
        assert_eq!(buf.filled(), b"one");
        let mut buf = ReadBuf::new(&mut storage);
        let from = poll_fn(|cx| b.poll_peek_from(cx, &mut buf)).await.unwrap();
        assert_eq!((buf.filled(), from), (&b"one"[..], a_addr));
        let mut peeked = [0; 16];
        assert_eq!(b.peek(&mut peeked).await.unwrap(), 3);
        let mut buf = ReadBuf::new(&mut storage);
        poll_fn(|cx| b.poll_recv(cx, &mut buf)).await.unwrap();
        assert_eq!(buf.filled(), b"one");

        let sent = poll_fn(|cx| a.poll_send_to(cx, b"two", b_addr))
            .await
            .unwrap();
        assert_eq!(sent, 3);
        let mut buf = ReadBuf::new(&mut storage);
        let from = poll_fn(|cx| b.poll_recv_from(cx, &mut buf)).await.unwrap();
        assert_eq!((buf.filled(), from), (&b"two"[..], a_addr));

        a.send(b"three").await.unwrap();
        let mut got = Vec::with_capacity(16);
        assert_eq!(b.recv_buf(&mut got).await.unwrap(), 5);
        a.send(b"four").await.unwrap();
        let (n, from) = b.recv_buf_from(&mut got).await.unwrap();
        assert_eq!((n, from), (4, a_addr));
        assert_eq!(got, b"threefour");
        a.send(b"five").await.unwrap();
        loop {
            b.readable().await.unwrap();
            match b.try_recv_buf(&mut got) {
                Ok(n) => {
                    assert_eq!(n, 4);
                    break;
                }
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        }
        a.send(b"six").await.unwrap();
        let (n, from) = loop {
            b.readable().await.unwrap();
            match b.try_recv_buf_from(&mut got) {
                Ok(got) => break got,
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        };
        assert_eq!((n, from), (3, a_addr));
        assert_eq!(got, b"threefourfivesix");

        // `async_io` with an operation of the caller's: retried at each
        // readiness until it does not block.
        a.send(b"seven").await.unwrap();
        let mut buf = [0; 16];
        let n = b
            .async_io(Interest::READABLE, || {
                let (read, _) =
                    rustix::net::recv(&b, &mut buf[..], rustix::net::RecvFlags::empty())?;
                Ok(read)
            })
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"seven");
        // `try_io` runs the operation when the socket may be ready, and
        // passes its `WouldBlock` on.
        let err = b
            .try_io(Interest::READABLE, || {
                Err::<(), _>(ErrorKind::WouldBlock.into())
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
    });
}

#[test]
fn socket_options_round_trip() {
    run(|| async {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        socket.set_broadcast(true).unwrap();
        assert!(socket.broadcast().unwrap());
        socket.set_multicast_loop_v4(false).unwrap();
        assert!(!socket.multicast_loop_v4().unwrap());
        socket.set_multicast_ttl_v4(7).unwrap();
        assert_eq!(socket.multicast_ttl_v4().unwrap(), 7);
        socket.set_ttl(33).unwrap();
        assert_eq!(socket.ttl().unwrap(), 33);
        socket.set_tos(0x10).unwrap();
        assert_eq!(socket.tos().unwrap(), 0x10);
        let err = socket.set_tos(256).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("256"), "{err}");
        assert!(socket.take_error().unwrap().is_none());

        let group = Ipv4Addr::new(239, 255, 0, 1);
        let lo = Ipv4Addr::LOCALHOST;
        socket.join_multicast_v4(group, lo).unwrap();
        socket.leave_multicast_v4(group, lo).unwrap();
        // Leaving a group not joined is an error.
        assert!(socket.leave_multicast_v4(group, lo).is_err());
        // Joining something that is not a multicast group is one too.
        assert!(socket.join_multicast_v4(lo, lo).is_err());

        let v6 = UdpSocket::bind("[::1]:0").await.unwrap();
        v6.set_multicast_loop_v6(false).unwrap();
        assert!(!v6.multicast_loop_v6().unwrap());
    });
}

#[cfg(target_os = "linux")]
#[test]
fn udp_device_binding_and_ipv6_traffic_class() {
    run(|| async {
        let a = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        assert_eq!(a.device().unwrap(), None);
        let err = a.bind_device(Some(b"a-name-of-16-byte")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
        assert!(a.bind_device(Some(b"smp-rt-none0")).is_err());
        // Binding needs CAP_NET_RAW on older kernels: check what a bind that
        // was allowed did.
        match a.bind_device(Some(b"lo")) {
            Ok(()) => {
                assert_eq!(a.device().unwrap().as_deref(), Some(&b"lo"[..]));
                // Loopback traffic still flows through `lo`.
                b.send_to(b"via lo", a.local_addr().unwrap()).await.unwrap();
                let mut buf = [0; 8];
                let (n, _) = a.recv_from(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], b"via lo");
                a.bind_device(Some(b"")).unwrap();
                assert_eq!(a.device().unwrap(), None);
            }
            Err(err) => assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}"),
        }
        assert!(a.set_tclass_v6(0x28).is_err());

        let v6 = UdpSocket::bind("[::]:0").await.unwrap();
        v6.set_tclass_v6(0x28).unwrap();
        assert_eq!(v6.tclass_v6().unwrap(), 0x28);
        assert!(v6.set_tclass_v6(256).is_err());
    });
}

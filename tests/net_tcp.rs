//! TCP: a 1 MB echo round trip, 300 concurrent connections, half-close,
//! and the address forms `connect` accepts.

use std::future::Future;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use smp_rt::io::{self, AsyncReadExt, AsyncWriteExt};
use smp_rt::net::{TcpListener, TcpStream};
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

/// Accepts `n` connections and echoes each until its client shuts down.
fn spawn_echo_server(listener: TcpListener, n: usize) -> smp_rt::JoinHandle<()> {
    smp_rt::spawn(async move {
        let mut handlers = Vec::with_capacity(n);
        for _ in 0..n {
            let (mut stream, _) = listener.accept().await.expect("accept");
            handlers.push(smp_rt::spawn(async move {
                let (mut r, mut w) = stream.split();
                io::copy(&mut r, &mut w).await.expect("echo");
                w.shutdown().await.expect("shutdown");
            }));
        }
        for handler in handlers {
            handler.await.unwrap();
        }
    })
}

#[test]
fn one_megabyte_echo_round_trip() {
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener, 1);

        let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
        let stream = TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        assert!(stream.nodelay().unwrap());
        assert_eq!(stream.peer_addr().unwrap(), addr);
        let (mut reader, mut writer) = stream.into_split();

        // Write and read at once: 1 MB does not fit in the socket buffers.
        let sent = data.clone();
        let write = smp_rt::spawn(async move {
            writer.write_all(&sent).await.unwrap();
            writer.shutdown().await.unwrap();
        });
        let mut echoed = Vec::with_capacity(data.len());
        reader.read_to_end(&mut echoed).await.unwrap();
        write.await.unwrap();
        server.await.unwrap();
        assert_eq!(echoed.len(), data.len());
        assert!(echoed == data, "the echo differs from what was sent");
    });
}

#[test]
fn three_hundred_concurrent_connections() {
    const N: usize = 300;
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener, N);

        let clients: Vec<_> = (0..N)
            .map(|i| {
                smp_rt::spawn(async move {
                    let message = format!("message {i} from client {i}");
                    let mut stream = TcpStream::connect(addr).await.unwrap();
                    stream.write_all(message.as_bytes()).await.unwrap();
                    stream.shutdown().await.unwrap();
                    let mut echoed = String::new();
                    stream.read_to_string(&mut echoed).await.unwrap();
                    assert_eq!(echoed, message);
                })
            })
            .collect();
        for client in clients {
            client.await.unwrap();
        }
        server.await.unwrap();
    });
}

#[test]
fn half_close_server_reads_to_eof_then_replies() {
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = smp_rt::spawn(async move {
            let (mut stream, peer) = listener.accept().await.unwrap();
            let mut request = Vec::new();
            // Ends only because the client shut its writing down.
            stream.read_to_end(&mut request).await.unwrap();
            stream.write_all(b"reply to: ").await.unwrap();
            stream.write_all(&request).await.unwrap();
            peer
        });

        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(b"the request").await.unwrap();
        stream.shutdown().await.unwrap();
        let mut reply = Vec::new();
        stream.read_to_end(&mut reply).await.unwrap();
        assert_eq!(reply, b"reply to: the request");
        assert_eq!(server.await.unwrap(), stream.local_addr().unwrap());
    });
}

#[test]
fn owned_halves_work_from_different_tasks_and_reunite() {
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn_echo_server(listener, 1);
        let (mut reader, mut writer) = TcpStream::connect(addr).await.unwrap().into_split();

        let reading = smp_rt::spawn(async move {
            let mut buf = [0; 4];
            reader.read_exact(&mut buf).await.unwrap();
            (reader, buf)
        });
        writer.write_all(b"ping").await.unwrap();
        let (reader, buf) = reading.await.unwrap();
        assert_eq!(&buf, b"ping");

        let mut stream = reader.reunite(writer).unwrap();
        stream.write_all(b"pong").await.unwrap();
        stream.shutdown().await.unwrap();
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"pong");
        server.await.unwrap();
    });
}

#[test]
fn connect_accepts_every_address_form() {
    run(|| async {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let port = addr.port();
        let server = spawn_echo_server(listener, 5);

        let mut streams = vec![
            TcpStream::connect(addr).await.unwrap(),
            TcpStream::connect(format!("127.0.0.1:{port}"))
                .await
                .unwrap(),
            TcpStream::connect(&*format!("127.0.0.1:{port}"))
                .await
                .unwrap(),
            TcpStream::connect((std::net::Ipv4Addr::LOCALHOST, port))
                .await
                .unwrap(),
            // A host name: looked up on the blocking pool; `connect` tries
            // each address (for example ::1, then 127.0.0.1).
            TcpStream::connect(("localhost", port)).await.unwrap(),
        ];
        for stream in &mut streams {
            stream.write_all(b"x").await.unwrap();
            stream.shutdown().await.unwrap();
            let mut echoed = Vec::new();
            stream.read_to_end(&mut echoed).await.unwrap();
            assert_eq!(echoed, b"x");
        }
        server.await.unwrap();
    });
}

#[test]
fn try_read_and_try_write_do_not_wait() {
    run(|| async {
        let listener = TcpListener::bind("[::1]:0")
            .await
            .or(TcpListener::bind("127.0.0.1:0").await)
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let connect = smp_rt::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        let (server, _) = listener.accept().await.unwrap();
        let client = connect.await.unwrap();

        let mut buf = [0; 16];
        assert_eq!(
            server.try_read(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"now").unwrap(), 3);
        server.readable().await.unwrap();
        // Readable may be a false positive in general; here data was sent,
        // so loop until it is there.
        let n = loop {
            match server.try_read(&mut buf) {
                Ok(n) => break n,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {
                    server.readable().await.unwrap()
                }
                Err(err) => panic!("{err}"),
            }
        };
        assert_eq!(&buf[..n], b"now");
    });
}

#[test]
fn stream_options_conversions_and_lookup_host() {
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = TcpStream::connect(addr).await.unwrap();
        assert_eq!(client.linger().unwrap(), None);
        client.set_zero_linger().unwrap();
        assert_eq!(client.linger().unwrap(), Some(Duration::ZERO));
        client.set_ttl(42).unwrap();
        assert_eq!(client.ttl().unwrap(), 42);
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        assert!(client.take_error().unwrap().is_none());
        client.set_quickack(true).unwrap();
        assert!(client.quickack().unwrap());

        // Options of a socket not connected yet.
        let socket = smp_rt::net::TcpSocket::new_v4().unwrap();
        socket.set_tos_v4(0x10).unwrap();
        assert_eq!(socket.tos_v4().unwrap(), 0x10);
        assert_eq!(socket.tos().unwrap(), 0x10);
        let too_big = socket.set_tos(256).unwrap_err();
        assert_eq!(too_big.kind(), std::io::ErrorKind::InvalidInput);
        socket.set_zero_linger().unwrap();
        assert_eq!(socket.linger().unwrap(), Some(Duration::ZERO));

        // `std` types convert with `TryFrom`, registered with this runtime.
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let std_addr = std_listener.local_addr().unwrap();
        let listener2 = TcpListener::try_from(std_listener).unwrap();
        let std_stream = std::net::TcpStream::connect(std_addr).unwrap();
        let mut stream = TcpStream::try_from(std_stream).unwrap();
        let (mut accepted, _) = listener2.accept().await.unwrap();
        accepted.write_all(b"converted").await.unwrap();
        let mut buf = [0; 9];
        stream.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"converted");
        let udp =
            smp_rt::net::UdpSocket::try_from(std::net::UdpSocket::bind("127.0.0.1:0").unwrap());
        assert!(udp.is_ok());
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        assert!(smp_rt::net::UnixStream::try_from(a).is_ok());

        let local: Vec<_> = smp_rt::net::lookup_host("localhost:80")
            .await
            .unwrap()
            .collect();
        assert!(!local.is_empty());
        assert!(
            local.iter().all(|a| a.ip().is_loopback() && a.port() == 80),
            "{local:?}"
        );
        let literal: Vec<_> = smp_rt::net::lookup_host(addr).await.unwrap().collect();
        assert_eq!(literal, [addr]);
        let Err(err) = smp_rt::net::lookup_host("no port here").await else {
            panic!("a host without a port resolved");
        };
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    });
}

/// The socket's `SO_BINDTODEVICE`, or `None` where it cannot be read:
/// qemu-user (CI's AArch64 step runs this file there) answers `EINVAL` to
/// reading it, so the kernel's answers are checked on a real kernel only.
#[cfg(target_os = "linux")]
fn readable_device(socket: &smp_rt::net::TcpSocket) -> Option<Option<Vec<u8>>> {
    match socket.device() {
        Ok(device) => Some(device),
        Err(err) if err.raw_os_error() == Some(libc::EINVAL) => {
            eprintln!("SO_BINDTODEVICE cannot be read here ({err}); that check is skipped");
            None
        }
        Err(err) => panic!("reading SO_BINDTODEVICE failed: {err}"),
    }
}

#[cfg(target_os = "linux")]
#[test]
fn tcp_socket_device_binding_and_ipv6_traffic_class() {
    run(|| async {
        let socket = smp_rt::net::TcpSocket::new_v4().unwrap();
        let err = socket.bind_device(Some(b"a-name-of-16-byte")).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
        if let Some(device) = readable_device(&socket) {
            assert_eq!(device, None);
        }
        assert!(socket.bind_device(Some(b"smp-rt-none0")).is_err());
        // Binding needs CAP_NET_RAW on older kernels: check what a bind that
        // was allowed did.
        match socket.bind_device(Some(b"lo")) {
            Ok(()) => {
                if let Some(device) = readable_device(&socket) {
                    assert_eq!(device.as_deref(), Some(&b"lo"[..]));
                }
                socket.bind_device(None).unwrap();
                if let Some(device) = readable_device(&socket) {
                    assert_eq!(device, None);
                }
            }
            Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::PermissionDenied, "{err}"),
        }
        // IPV6_TCLASS is an IPv6 option.
        assert!(socket.set_tclass_v6(0x28).is_err());

        let v6 = smp_rt::net::TcpSocket::new_v6().unwrap();
        v6.set_tclass_v6(0x28).unwrap();
        assert_eq!(v6.tclass_v6().unwrap(), 0x28);
        assert!(v6.set_tclass_v6(256).is_err());
    });
}

//! Unix domain sockets: listener/stream echo, `pair`, split halves.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use bytes::BufMut;
use smp_rt::io::{AsyncReadExt, AsyncWriteExt};
use smp_rt::net::{UnixDatagram, UnixListener, UnixStream};
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

/// A socket path in the temp dir, unique to this process and call; removed
/// when dropped.
struct SocketPath(PathBuf);

impl SocketPath {
    fn new() -> SocketPath {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("smp_rt-net-unix-{}-{n}.sock", std::process::id()));
        let _ = std::fs::remove_file(&path);
        SocketPath(path)
    }
}

impl Drop for SocketPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn listener_and_stream_echo() {
    run(|| async {
        let path = SocketPath::new();
        let listener = UnixListener::bind(&path.0).unwrap();
        assert_eq!(
            listener.local_addr().unwrap().as_pathname(),
            Some(path.0.as_path())
        );
        let server = smp_rt::spawn(async move {
            for _ in 0..3 {
                let (mut stream, _) = listener.accept().await.unwrap();
                smp_rt::spawn(async move {
                    let (mut r, mut w) = UnixStream::split(&mut stream);
                    smp_rt::io::copy(&mut r, &mut w).await.unwrap();
                    w.shutdown().await.unwrap();
                });
            }
        });

        let data: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 253) as u8).collect();
        for _ in 0..3 {
            let stream = UnixStream::connect(&path.0).await.unwrap();
            let (mut reader, mut writer) = stream.into_split();
            let sent = data.clone();
            let write = smp_rt::spawn(async move {
                writer.write_all(&sent).await.unwrap();
                // Dropping the owned write half shuts writing down.
            });
            let mut echoed = Vec::new();
            reader.read_to_end(&mut echoed).await.unwrap();
            write.await.unwrap();
            assert!(echoed == data, "the echo differs from what was sent");
        }
        server.await.unwrap();
    });
}

#[test]
fn pair_talks_both_ways() {
    run(|| async {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let peer = smp_rt::spawn(async move {
            let mut buf = [0; 4];
            b.read_exact(&mut buf).await.unwrap();
            assert_eq!(&buf, b"ping");
            b.write_all(b"pong").await.unwrap();
            b
        });
        a.write_all(b"ping").await.unwrap();
        let mut buf = [0; 4];
        a.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"pong");

        let b = peer.await.unwrap();
        drop(b);
        // The peer is gone: end-of-file, every time.
        assert_eq!(a.read(&mut buf).await.unwrap(), 0);
        assert_eq!(a.read(&mut buf).await.unwrap(), 0);
    });
}

#[test]
fn connect_to_a_missing_path_fails() {
    run(|| async {
        let path = SocketPath::new();
        let err = UnixStream::connect(&path.0).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound, "{err}");
    });
}

#[test]
fn datagrams_between_a_pair_and_by_path() {
    run(|| async {
        let (a, b) = UnixDatagram::pair().unwrap();
        let pending = futures::poll!(std::future::poll_fn(|cx| b.poll_recv_ready(cx)));
        assert!(pending.is_pending(), "{pending:?}");
        assert_eq!(
            b.try_recv(&mut [0; 8]).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        a.send(b"one").await.unwrap();
        let mut buf = [0; 16];
        assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
        assert_eq!(&buf[..3], b"one");
        assert_eq!(
            std::future::poll_fn(|cx| b.poll_send(cx, b"two"))
                .await
                .unwrap(),
            3
        );
        let mut storage = [0; 16];
        let mut read_buf = smp_rt::io::ReadBuf::new(&mut storage);
        std::future::poll_fn(|cx| a.poll_recv(cx, &mut read_buf))
            .await
            .unwrap();
        assert_eq!(read_buf.filled(), b"two");

        // By path, from an unbound socket: the receiver sees no address.
        let path = std::env::temp_dir().join(format!("smp_rt-dgram-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let bound = UnixDatagram::bind(&path).unwrap();
        let unbound = UnixDatagram::unbound().unwrap();
        unbound.send_to(b"three", &path).await.unwrap();
        let (n, from) = bound.recv_from(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"three");
        assert!(from.is_unnamed());
        assert_eq!(
            bound.local_addr().unwrap().as_pathname(),
            Some(path.as_path())
        );
        unbound.connect(&path).unwrap();
        unbound.writable().await.unwrap();
        unbound.try_send(b"four").unwrap();
        bound.readable().await.unwrap();
        assert_eq!(bound.try_recv_from(&mut buf).unwrap().0, 4);
        assert!(bound.take_error().unwrap().is_none());
        std::fs::remove_file(&path).unwrap();
        let (stream, _peer) = UnixStream::pair().unwrap();
        assert!(stream.take_error().unwrap().is_none());
    });
}

#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
fn peer_cred_reports_this_process_in_tokios_id_types() {
    use smp_rt::net::unix::{UCred, gid_t, pid_t, uid_t};
    run(|| async {
        let (a, _b) = UnixStream::pair().unwrap();
        let cred: UCred = a.peer_cred().unwrap();
        // SAFETY: getuid and getgid cannot fail and touch no memory.
        let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
        let got: (uid_t, gid_t, Option<pid_t>) = (cred.uid(), cred.gid(), cred.pid());
        assert_eq!(got, (uid, gid, Some(std::process::id() as pid_t)));
    });
}

#[test]
fn datagram_buffer_receives_append_to_the_buffer() {
    run(|| async {
        let dir = SocketPath::new();
        let receiver = UnixDatagram::bind(&dir.0).unwrap();
        let sender = UnixDatagram::unbound().unwrap();
        let (a, b) = UnixDatagram::pair().unwrap();

        // Nothing queued: the `try_` forms say so and leave the buffer be.
        let mut buf = b"head:".to_vec();
        assert_eq!(
            b.try_recv_buf(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        assert_eq!(
            receiver.try_recv_buf_from(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
        assert_eq!(buf, b"head:");

        a.send(b"one").await.unwrap();
        assert_eq!(b.recv_buf(&mut buf).await.unwrap(), 3);
        assert_eq!(buf, b"head:one");

        sender.send_to(b"two", &dir.0).await.unwrap();
        let (n, from) = receiver.recv_buf_from(&mut buf).await.unwrap();
        assert_eq!(n, 3);
        assert!(from.is_unnamed());
        assert_eq!(buf, b"head:onetwo");

        a.send(b"three").await.unwrap();
        b.readable().await.unwrap();
        assert_eq!(b.try_recv_buf(&mut buf).unwrap(), 5);
        sender.send_to(b"four", &dir.0).await.unwrap();
        receiver.readable().await.unwrap();
        assert_eq!(receiver.try_recv_buf_from(&mut buf).unwrap().0, 4);
        assert_eq!(buf, b"head:onetwothreefour");

        // A datagram longer than the spare capacity is cut to it.
        let mut small = bytes::BytesMut::with_capacity(2).limit(2);
        a.send(b"long").await.unwrap();
        assert_eq!(b.recv_buf(&mut small).await.unwrap(), 2);
        assert_eq!(&small.into_inner()[..], b"lo");
    });
}

#[test]
fn unix_socket_builds_listeners_streams_and_datagram_sockets() {
    use smp_rt::net::UnixSocket;
    use std::os::fd::{FromRawFd, IntoRawFd};

    run(|| async {
        let path = SocketPath::new();
        let socket = UnixSocket::new_stream().unwrap();
        socket.bind(&path.0).unwrap();
        let listener = socket.listen(16).unwrap();
        let mut client = UnixSocket::new_stream()
            .unwrap()
            .connect(&path.0)
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"hello").await.unwrap();
        let mut buf = [0; 5];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello");

        // The path is taken now.
        let taken = UnixSocket::new_stream().unwrap().bind(&path.0).unwrap_err();
        assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse);

        let dgram_path = SocketPath::new();
        let receiver = UnixSocket::new_datagram().unwrap();
        receiver.bind(&dgram_path.0).unwrap();
        let receiver = receiver.datagram().unwrap();
        // Through a raw descriptor and back, as tokio allows.
        let raw = UnixSocket::new_datagram().unwrap().into_raw_fd();
        // SAFETY: `raw` was just released by its owner.
        let sender = unsafe { UnixSocket::from_raw_fd(raw) }.datagram().unwrap();
        sender.send_to(b"dgram", &dgram_path.0).await.unwrap();
        let mut buf = [0; 8];
        let n = receiver.recv(&mut buf).await.unwrap();
        assert_eq!(&buf[..n], b"dgram");
    });
}

#[test]
fn unix_socket_refuses_the_conversions_of_the_other_type() {
    use smp_rt::net::UnixSocket;

    run(|| async {
        let err = UnixSocket::new_datagram().unwrap().listen(1).unwrap_err();
        assert!(err.to_string().contains("datagram socket"), "{err}");
        let err = UnixSocket::new_datagram()
            .unwrap()
            .connect("/nonexistent")
            .await
            .unwrap_err();
        assert!(err.to_string().contains("datagram socket"), "{err}");
        let err = UnixSocket::new_stream().unwrap().datagram().unwrap_err();
        assert!(err.to_string().contains("stream socket"), "{err}");
    });
}

#[test]
fn bind_addr_and_connect_addr_take_std_socket_addresses() {
    use std::os::unix::net::SocketAddr;

    run(|| async {
        let path = SocketPath::new();
        let addr = SocketAddr::from_pathname(&path.0).unwrap();
        let listener = UnixListener::bind_addr(&addr).unwrap();
        let mut client = UnixStream::connect_addr(&addr).await.unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        client.write_all(b"by address").await.unwrap();
        let mut buf = [0; 10];
        server.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"by address");

        #[cfg(target_os = "linux")]
        {
            use std::os::linux::net::SocketAddrExt;
            let name = format!("smp_rt-abstract-{}", std::process::id());
            let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
            let listener = UnixListener::bind_addr(&addr).unwrap();
            let _client = UnixStream::connect_addr(&addr).await.unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let local = server.local_addr().unwrap();
            assert_eq!(local.as_abstract_name(), Some(name.as_bytes()));
        }

        let (unnamed, _) = UnixStream::pair().unwrap();
        let unnamed = unnamed.local_addr().unwrap();
        let err = UnixStream::connect_addr(&unnamed).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{err}");
    });
}

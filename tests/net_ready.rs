//! The readiness API of the stream types, their halves and the listeners,
//! as tokio has it: `ready`/`readable`/`writable`, `poll_*_ready`, the
//! `try_*` reads and writes, `try_io`, `async_io`, `peek`/`poll_peek`,
//! `poll_accept`.

mod common;

use std::future::{Future, poll_fn};
use std::io::{ErrorKind, IoSlice, IoSliceMut};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::preemptions_of;
use smp_rt::io::{AsyncReadExt, AsyncWriteExt, Interest, ReadBuf};
use smp_rt::net::{TcpListener, TcpStream, UnixListener, UnixStream};
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

/// A connected pair: (client, server).
async fn connected() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let (server, _) = listener.accept().await.unwrap();
    (client, server)
}

/// Reads with `try_read` until `WouldBlock`, waiting for readability
/// first; returns everything read.
async fn drain(stream: &TcpStream, want: usize) -> Vec<u8> {
    let mut got = Vec::new();
    while got.len() < want {
        stream.readable().await.unwrap();
        let mut buf = [0; 64];
        match stream.try_read(&mut buf) {
            Ok(0) => panic!("end of stream after {got:?}"),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(err) if err.kind() == ErrorKind::WouldBlock => {}
            Err(err) => panic!("{err}"),
        }
    }
    got
}

#[test]
fn a_new_stream_with_nothing_to_read_is_not_readable_and_try_read_would_block() {
    run(|| async {
        let (client, server) = connected().await;
        let pending = futures::poll!(poll_fn(|cx| server.poll_read_ready(cx)));
        assert!(pending.is_pending(), "{pending:?}");
        let mut buf = [0; 8];
        let err = server.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        assert!(futures::poll!(Box::pin(server.readable())).is_pending());

        // Data is an event: readable, and `try_read` gets it.
        client.writable().await.unwrap();
        assert_eq!(client.try_write(b"hello").unwrap(), 5);
        server.readable().await.unwrap();
        assert_eq!(drain(&server, 5).await, b"hello");
        // Drained: `WouldBlock` clears the readiness, the next wait waits.
        let err = server.try_read(&mut buf).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        let pending = futures::poll!(poll_fn(|cx| server.poll_read_ready(cx)));
        assert!(pending.is_pending(), "{pending:?}");
    });
}

#[test]
fn ready_reports_what_the_stream_is_ready_for() {
    run(|| async {
        let (mut client, server) = connected().await;
        let ready = server
            .ready(Interest::READABLE | Interest::WRITABLE)
            .await
            .unwrap();
        assert!(ready.is_writable(), "{ready:?}");
        assert!(!ready.is_readable(), "{ready:?}");
        let ready = server.ready(Interest::WRITABLE).await.unwrap();
        assert!(ready.is_writable() && !ready.is_readable(), "{ready:?}");

        client.write_all(b"x").await.unwrap();
        let ready = server.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable() && !ready.is_writable(), "{ready:?}");
        assert_eq!(drain(&server, 1).await, b"x");

        // The peer's end of the stream answers a readable interest, and
        // keeps answering it.
        client.shutdown().await.unwrap();
        for _ in 0..2 {
            let ready = server.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_readable() || ready.is_read_closed(), "{ready:?}");
            let mut buf = [0; 8];
            loop {
                match server.try_read(&mut buf) {
                    Ok(n) => {
                        assert_eq!(n, 0);
                        break;
                    }
                    Err(err) if err.kind() == ErrorKind::WouldBlock => {
                        server.readable().await.unwrap();
                    }
                    Err(err) => panic!("{err}"),
                }
            }
        }
    });
}

#[test]
fn try_read_buf_and_vectored_transfers() {
    run(|| async {
        let (client, server) = connected().await;
        client.writable().await.unwrap();
        let bufs = [IoSlice::new(b"vec"), IoSlice::new(b"tored")];
        assert_eq!(client.try_write_vectored(&bufs).unwrap(), 8);

        let mut got = Vec::with_capacity(3);
        while got.len() < 8 {
            server.readable().await.unwrap();
            match server.try_read_buf(&mut got) {
                Ok(n) => assert!(n > 0),
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(got, b"vectored");

        assert_eq!(client.try_write(b"abcdef").unwrap(), 6);
        let (mut a, mut b) = ([0; 2], [0; 8]);
        let n = loop {
            server.readable().await.unwrap();
            let mut bufs = [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)];
            match server.try_read_vectored(&mut bufs) {
                Ok(n) => break n,
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        };
        assert_eq!(n, 6);
        assert_eq!((&a, &b[..4]), (b"ab", &b"cdef"[..]));
    });
}

#[test]
fn try_io_clears_the_readiness_its_operation_found_gone() {
    run(|| async {
        let (client, server) = connected().await;
        server.writable().await.unwrap();
        // An operation of the caller's that would block: the write
        // readiness is cleared, so the next wait waits for an event.
        let err = server
            .try_io(Interest::WRITABLE, || {
                Err::<(), _>(ErrorKind::WouldBlock.into())
            })
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldBlock);
        assert!(futures::poll!(Box::pin(server.writable())).is_pending());
        // And with nothing ready, `try_io` does not even run the operation.
        let ran = server.try_io(Interest::WRITABLE, || Ok(true));
        assert_eq!(ran.unwrap_err().kind(), ErrorKind::WouldBlock);

        // `async_io` retries the operation at each readiness until it is
        // done.
        client.writable().await.unwrap();
        client.try_write(b"ping").unwrap();
        let mut buf = [0; 8];
        let mut tries = 0;
        let n = server
            .async_io(Interest::READABLE, || {
                tries += 1;
                std::io::Read::read(&mut &*std_view(&server), &mut buf)
            })
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"ping");
        assert!(tries >= 1);
    });
}

/// A `std` view of `stream`'s socket (borrowed: never closed here).
fn std_view(stream: &TcpStream) -> std::mem::ManuallyDrop<std::net::TcpStream> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: the descriptor is open while `stream` lives, and the
    // `ManuallyDrop` never closes it.
    std::mem::ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(stream.as_raw_fd()) })
}

#[test]
fn peek_leaves_the_data_for_the_next_read() {
    run(|| async {
        let (mut client, mut server) = connected().await;
        client.write_all(b"peekaboo").await.unwrap();
        let mut buf = [0; 8];
        let mut got = 0;
        while got < 8 {
            got = server.peek(&mut buf).await.unwrap();
        }
        assert_eq!(&buf, b"peekaboo");

        let mut storage = [0; 4];
        let mut read_buf = ReadBuf::new(&mut storage);
        let n = poll_fn(|cx| server.poll_peek(cx, &mut read_buf))
            .await
            .unwrap();
        assert_eq!((n, read_buf.filled()), (4, &b"peek"[..]));

        let (mut read, _write) = TcpStream::split(&mut server);
        let mut buf = [0; 3];
        assert_eq!(read.peek(&mut buf).await.unwrap(), 3);
        assert_eq!(&buf, b"pee");
        let mut all = [0; 8];
        read.read_exact(&mut all).await.unwrap();
        assert_eq!(&all, b"peekaboo");
    });
}

#[test]
fn halves_have_their_direction_of_the_readiness_api() {
    run(|| async {
        let (client, mut server) = connected().await;
        {
            let (read, write) = TcpStream::split(&mut server);
            write.writable().await.unwrap();
            assert_eq!(write.try_write(b"to client").unwrap(), 9);
            assert!(write.ready(Interest::WRITABLE).await.unwrap().is_writable());
            let err = read.try_read(&mut [0; 4]).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::WouldBlock);
        }
        assert_eq!(drain(&client, 9).await, b"to client");

        let (read, write) = client.into_split();
        write.writable().await.unwrap();
        write
            .try_write_vectored(&[IoSlice::new(b"to "), IoSlice::new(b"server")])
            .unwrap();
        assert_eq!(drain(&server, 9).await, b"to server");
        server.write_all(b"back").await.unwrap();
        let mut got = Vec::new();
        while got.len() < 4 {
            let ready = read.ready(Interest::READABLE).await.unwrap();
            assert!(ready.is_readable(), "{ready:?}");
            match read.try_read_buf(&mut got) {
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(got, b"back");
    });
}

#[test]
fn unix_streams_have_the_readiness_api() {
    run(|| async {
        let (a, b) = UnixStream::pair().unwrap();
        let pending = futures::poll!(poll_fn(|cx| b.poll_read_ready(cx)));
        assert!(pending.is_pending(), "{pending:?}");
        assert_eq!(
            b.try_read(&mut [0; 4]).unwrap_err().kind(),
            ErrorKind::WouldBlock
        );
        poll_fn(|cx| a.poll_write_ready(cx)).await.unwrap();
        assert_eq!(a.try_write(b"unix").unwrap(), 4);
        let mut got = Vec::new();
        while got.len() < 4 {
            b.readable().await.unwrap();
            match b.try_read_buf(&mut got) {
                Ok(_) => {}
                Err(err) if err.kind() == ErrorKind::WouldBlock => {}
                Err(err) => panic!("{err}"),
            }
        }
        assert_eq!(got, b"unix");
        let ready = b.ready(Interest::WRITABLE).await.unwrap();
        assert!(ready.is_writable());
    });
}

#[test]
fn listeners_accept_through_poll_accept() {
    run(|| async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let pending = futures::poll!(poll_fn(|cx| listener.poll_accept(cx)));
        assert!(pending.is_pending());
        let addr = listener.local_addr().unwrap();
        let client = smp_rt::spawn(async move { TcpStream::connect(addr).await.unwrap() });
        let (server, from) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
        let client = client.await.unwrap();
        assert_eq!(from, client.local_addr().unwrap());
        assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());

        let dir = std::env::temp_dir().join(format!("smp_rt-ready-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let listener = UnixListener::bind(&dir).unwrap();
        let path = dir.clone();
        let client = smp_rt::spawn(async move { UnixStream::connect(path).await.unwrap() });
        let (_server, _) = poll_fn(|cx| listener.poll_accept(cx)).await.unwrap();
        client.await.unwrap();
        std::fs::remove_file(&dir).unwrap();
    });
}

#[test]
fn readiness_waits_charge_a_reduction_per_poll() {
    let n = preemptions_of(|| async {
        let (a, _b) = UnixStream::pair().unwrap();
        // Always writable once seen so: no wait ever suspends the task,
        // so only the reductions charged can end its slices.
        for _ in 0..400 {
            a.writable().await.unwrap();
            a.ready(Interest::WRITABLE).await.unwrap();
        }
    });
    assert!(
        n >= 4,
        "800 readiness waits in the smallest slices: {n} preemptions"
    );
}

/// Sends one byte of TCP urgent (out-of-band) data, which the peer's
/// epoll reports as `EPOLLPRI`.
#[cfg(all(target_os = "linux", not(smp_rt_portable_poller)))]
fn send_urgent(stream: &TcpStream) {
    let sent = rustix::net::send(
        std::os::fd::AsFd::as_fd(stream),
        b"!",
        rustix::net::SendFlags::OOB,
    )
    .unwrap();
    assert_eq!(sent, 1);
}

#[cfg(all(target_os = "linux", not(smp_rt_portable_poller)))]
#[test]
fn priority_interest_waits_for_urgent_data_and_plain_data_does_not_answer_it() {
    use std::os::fd::AsFd;
    run(|| async {
        let (mut client, server) = connected().await;
        client.write_all(b"plain").await.unwrap();
        let ready = server.ready(Interest::READABLE).await.unwrap();
        assert!(ready.is_readable() && !ready.is_priority(), "{ready:?}");
        // Readable data alone does not answer a priority interest.
        let mut wait = std::pin::pin!(server.ready(Interest::PRIORITY));
        let first = poll_fn(|cx| std::task::Poll::Ready(wait.as_mut().poll(cx))).await;
        assert!(first.is_pending(), "{first:?}");
        send_urgent(&client);
        let ready = wait.await.unwrap();
        assert!(ready.is_priority(), "{ready:?}");
        // The urgent byte is there to read, apart from the stream.
        let mut urgent = [0u8; 1];
        let got = rustix::net::recv(server.as_fd(), &mut urgent, rustix::net::RecvFlags::OOB);
        assert_eq!((got.unwrap().0, &urgent), (1, b"!"));
    });
}

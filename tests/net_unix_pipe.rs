//! `net::unix::pipe`: anonymous pipes, FIFOs opened with `OpenOptions`,
//! and descriptors taken with the checks tokio makes.
#![cfg(target_os = "linux")]

use std::io::ErrorKind;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

use smp_rt::io::{AsyncReadExt, AsyncWriteExt};
use smp_rt::net::unix::pipe;

/// A FIFO in the temp dir, unique to this process and name; removed when
/// dropped.
struct Fifo(PathBuf);

impl Fifo {
    fn new(name: &str) -> Fifo {
        let path = std::env::temp_dir().join(format!("smp_rt-fifo-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let c_path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: `c_path` is a NUL-terminated path that outlives the call.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        Fifo(path)
    }
}

impl Drop for Fifo {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[smp_rt::test]
async fn an_anonymous_pipe_carries_bytes_and_ends_when_the_sender_drops() {
    let (mut tx, mut rx) = pipe::pipe().unwrap();
    // Empty: the `try_` read says so.
    let mut buf = [0; 16];
    assert_eq!(
        rx.try_read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );

    tx.write_all(b"hello ").await.unwrap();
    tx.writable().await.unwrap();
    assert_eq!(tx.try_write(b"pipe").unwrap(), 4);
    let bufs = [
        std::io::IoSlice::new(b", "),
        std::io::IoSlice::new(b"again"),
    ];
    assert_eq!(tx.try_write_vectored(&bufs).unwrap(), 7);
    drop(tx);

    let mut got = Vec::new();
    rx.read_to_end(&mut got).await.unwrap();
    assert_eq!(got, b"hello pipe, again");
}

#[smp_rt::test]
async fn try_read_buf_and_vectored_reads_fill_what_they_are_given() {
    let (tx, rx) = pipe::pipe().unwrap();
    tx.try_write(b"abcdef").unwrap();
    rx.readable().await.unwrap();
    let (mut first, mut second) = ([0; 2], [0; 2]);
    let mut bufs = [
        std::io::IoSliceMut::new(&mut first),
        std::io::IoSliceMut::new(&mut second),
    ];
    assert_eq!(rx.try_read_vectored(&mut bufs).unwrap(), 4);
    assert_eq!((&first, &second), (b"ab", b"cd"));
    let mut rest = Vec::with_capacity(8);
    assert_eq!(rx.try_read_buf(&mut rest).unwrap(), 2);
    assert_eq!(rest, b"ef");
}

#[smp_rt::test]
async fn a_fifo_opens_as_receiver_then_sender() {
    let fifo = Fifo::new("open");
    // No reader yet: opening the writing end fails with ENXIO...
    let err = pipe::OpenOptions::new().open_sender(&fifo.0).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::ENXIO), "{err}");
    // ...unless opened for reading too (Linux).
    let _both = pipe::OpenOptions::new()
        .read_write(true)
        .open_sender(&fifo.0)
        .unwrap();

    let mut rx = pipe::OpenOptions::new().open_receiver(&fifo.0).unwrap();
    let mut tx = pipe::OpenOptions::new().open_sender(&fifo.0).unwrap();
    tx.write_all(b"via fifo").await.unwrap();
    let mut buf = [0; 8];
    rx.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"via fifo");
}

#[smp_rt::test]
async fn descriptors_are_checked_for_kind_and_direction() {
    // A regular file is not a pipe, as an end or through `OpenOptions`.
    let exe = std::fs::File::open("/proc/self/exe").unwrap();
    let err = pipe::Receiver::from_file(exe).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = pipe::OpenOptions::new()
        .open_receiver("/proc/self/exe")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    // Each end of a blocking `std` pipe fits one side only.
    let (reader, writer) = std::io::pipe().unwrap();
    let reader = OwnedFd::from(reader);
    let writer = OwnedFd::from(writer);
    let err = pipe::Sender::from_owned_fd(reader.try_clone().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");
    let err = pipe::Receiver::from_owned_fd(writer.try_clone().unwrap()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput, "{err}");

    // The right ends are taken and made non-blocking: an empty read says
    // `WouldBlock` instead of blocking the worker.
    let rx = pipe::Receiver::from_owned_fd(reader).unwrap();
    let tx = pipe::Sender::from_owned_fd(writer).unwrap();
    let mut buf = [0; 4];
    assert_eq!(
        rx.try_read(&mut buf).unwrap_err().kind(),
        ErrorKind::WouldBlock
    );
    tx.try_write(b"ok").unwrap();
    rx.readable().await.unwrap();
    assert_eq!(rx.try_read(&mut buf).unwrap(), 2);
    // Back to blocking for a new owner.
    let fd = rx.into_blocking_fd().unwrap();
    // SAFETY: `F_GETFL` only reads the flags of the open descriptor.
    let flags = unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&fd), libc::F_GETFL) };
    assert_eq!(flags & libc::O_NONBLOCK, 0);
}

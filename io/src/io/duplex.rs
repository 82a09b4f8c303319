//! In-memory pipes: [`simplex`] (one direction) and [`duplex`] (two).
//!
//! A [`SimplexStream`] is a bounded byte buffer with one waker for its
//! reader and one for its writer. A write that finds the buffer full waits
//! until a read takes bytes out; a read that finds it empty waits until a
//! write puts some in. Once closed (the writer shut down, or either end
//! gone), reads drain what is left and then see end-of-file, and writes
//! fail with `BrokenPipe`.
//!
//! Both ends are always ready while there is data or room, so every poll
//! charges one reduction: a loop over a pipe ends its slice at the budget.
//!
//! Wakers are taken out under a [`DuplexStream`]'s lock and woken after
//! it is released: a waker may run code that uses the pipe.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker, ready};

use bytes::{Buf, BytesMut};
use smp_rt_executor::task::poll_charge;

use super::{AsyncRead, AsyncWrite, ReadBuf, ReadHalf, WriteHalf, split};

/// A one-way in-memory pipe: what is written to it is read from it.
/// Created by [`simplex`] (as two halves) or
/// [`SimplexStream::new_unsplit`].
#[derive(Debug)]
pub struct SimplexStream {
    // Invariant: `buffer.len() <= max_buf_size`.
    buffer: BytesMut,
    is_closed: bool,
    max_buf_size: usize,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

/// Creates a one-way in-memory pipe holding at most `max_buf_size` bytes,
/// as its read half and its write half.
///
/// A write waits while the pipe is full. Once the write half is shut down,
/// the read half reads what is left, then end-of-file, and writes fail
/// with `BrokenPipe`. (Dropping a half closes nothing, as in tokio: the
/// halves share the pipe, which lives until both are gone.)
///
/// # Panics
///
/// If `max_buf_size` is 0.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// let (mut rx, mut tx) = io::simplex(16);
/// tx.write_all(b"one way").await?;
/// tx.shutdown().await?;
/// let mut got = String::new();
/// rx.read_to_string(&mut got).await?;
/// assert_eq!(got, "one way");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn simplex(max_buf_size: usize) -> (ReadHalf<SimplexStream>, WriteHalf<SimplexStream>) {
    split(SimplexStream::new_unsplit(max_buf_size))
}

impl SimplexStream {
    /// Creates a one-way in-memory pipe holding at most `max_buf_size`
    /// bytes, whole: the same object reads and writes. [`simplex`] splits
    /// it.
    ///
    /// # Panics
    ///
    /// If `max_buf_size` is 0.
    #[track_caller]
    pub fn new_unsplit(max_buf_size: usize) -> SimplexStream {
        assert!(
            max_buf_size > 0,
            "an in-memory pipe of max_buf_size 0 could never pass a byte: give it at least 1"
        );
        SimplexStream {
            buffer: BytesMut::new(),
            is_closed: false,
            max_buf_size,
            read_waker: None,
            write_waker: None,
        }
    }

    /// The writer is gone or shut down: the reader drains, then sees
    /// end-of-file.
    fn close_write(&mut self) -> Option<Waker> {
        self.is_closed = true;
        self.read_waker.take()
    }

    /// The reader is gone: writes fail from now on.
    fn close_read(&mut self) -> Option<Waker> {
        self.is_closed = true;
        self.write_waker.take()
    }

    /// Reads what is buffered; the writer's waker to wake if that made
    /// room.
    fn poll_read_inner(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> (Poll<io::Result<()>>, Option<Waker>) {
        if poll_charge(cx).is_pending() {
            return (Poll::Pending, None);
        }
        if self.buffer.has_remaining() {
            let n = self.buffer.len().min(buf.remaining());
            buf.put_slice(&self.buffer[..n]);
            self.buffer.advance(n);
            let wake = if n > 0 { self.write_waker.take() } else { None };
            (Poll::Ready(Ok(())), wake)
        } else if self.is_closed {
            (Poll::Ready(Ok(())), None)
        } else {
            register(&mut self.read_waker, cx);
            (Poll::Pending, None)
        }
    }

    /// The room for a write, waiting for some if there is none.
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        if self.is_closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the other end of the in-memory pipe is gone or shut down",
            )));
        }
        let room = self.max_buf_size - self.buffer.len();
        if room == 0 {
            register(&mut self.write_waker, cx);
            return Poll::Pending;
        }
        Poll::Ready(Ok(room))
    }

    /// Writes what fits; the reader's waker to wake.
    fn poll_write_inner(
        &mut self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> (Poll<io::Result<usize>>, Option<Waker>) {
        self.poll_write_vectored_inner(cx, &[IoSlice::new(buf)])
    }

    /// Writes what fits of `bufs`, in order; the reader's waker to wake.
    fn poll_write_vectored_inner(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> (Poll<io::Result<usize>>, Option<Waker>) {
        let mut room = match self.poll_room(cx) {
            Poll::Ready(Ok(room)) => room,
            Poll::Ready(Err(err)) => return (Poll::Ready(Err(err)), None),
            Poll::Pending => return (Poll::Pending, None),
        };
        let mut n = 0;
        for b in bufs {
            if room == 0 {
                break;
            }
            let now = b.len().min(room);
            self.buffer.extend_from_slice(&b[..now]);
            room -= now;
            n += now;
        }
        let wake = if n > 0 { self.read_waker.take() } else { None };
        (Poll::Ready(Ok(n)), wake)
    }
}

/// Stores `cx`'s waker in `slot`, unless the stored one wakes the same
/// task.
fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

/// Wakes `waker`, if any, and returns `poll`: for after the lock is gone.
fn woken<T>((poll, waker): (Poll<T>, Option<Waker>)) -> Poll<T> {
    if let Some(waker) = waker {
        waker.wake();
    }
    poll
}

impl AsyncRead for SimplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        woken(self.get_mut().poll_read_inner(cx, buf))
    }
}

impl AsyncWrite for SimplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        woken(self.get_mut().poll_write_inner(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        woken(self.get_mut().poll_write_vectored_inner(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        woken((Poll::Ready(Ok(())), self.get_mut().close_write()))
    }
}

/// One end of a two-way in-memory pipe, created by [`duplex`]: what one
/// end writes, the other reads. Useful to test code written for sockets.
#[derive(Debug)]
pub struct DuplexStream {
    read: Arc<Mutex<SimplexStream>>,
    write: Arc<Mutex<SimplexStream>>,
}

/// Creates a two-way in-memory pipe: two [`DuplexStream`]s, each reading
/// what the other writes. Each direction holds at most `max_buf_size`
/// bytes; a write waits while its direction is full.
///
/// When one end is dropped, the other reads what is left, then
/// end-of-file, and its writes fail with `BrokenPipe`. Shutting an end
/// down makes the other read end-of-file after what is left.
///
/// # Panics
///
/// If `max_buf_size` is 0.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// let (mut client, mut server) = io::duplex(64);
/// client.write_all(b"ping").await?;
/// let mut buf = [0u8; 4];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// drop(server);
/// let mut rest = Vec::new();
/// assert_eq!(client.read_to_end(&mut rest).await?, 0, "end-of-file");
/// let err = client.write_all(b"anyone?").await.unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn duplex(max_buf_size: usize) -> (DuplexStream, DuplexStream) {
    let one = Arc::new(Mutex::new(SimplexStream::new_unsplit(max_buf_size)));
    let two = Arc::new(Mutex::new(SimplexStream::new_unsplit(max_buf_size)));
    (
        DuplexStream {
            read: one.clone(),
            write: two.clone(),
        },
        DuplexStream {
            read: two,
            write: one,
        },
    )
}

/// Locks one direction. Nothing under the lock calls user code, and it
/// leaves the pipe consistent at every step, so a poisoned lock (a panic
/// in an allocation, say) is safe to go on with.
fn lock(pipe: &Mutex<SimplexStream>) -> MutexGuard<'_, SimplexStream> {
    pipe.lock().unwrap_or_else(PoisonError::into_inner)
}

impl AsyncRead for DuplexStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let res = lock(&self.read).poll_read_inner(cx, buf);
        woken(res)
    }
}

impl AsyncWrite for DuplexStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let res = lock(&self.write).poll_write_inner(cx, buf);
        woken(res)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let res = lock(&self.write).poll_write_vectored_inner(cx, bufs);
        woken(res)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        let waker = lock(&self.write).close_write();
        woken((Poll::Ready(Ok(())), waker))
    }
}

impl Drop for DuplexStream {
    fn drop(&mut self) {
        // The other end reads end-of-file, and its writes fail.
        let reader = lock(&self.write).close_write();
        let writer = lock(&self.read).close_read();
        for waker in [reader, writer].into_iter().flatten() {
            waker.wake();
        }
    }
}

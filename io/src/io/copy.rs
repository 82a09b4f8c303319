//! Copying from a reader to a writer: [`copy`], [`copy_buf`], and both
//! ways at once, [`copy_bidirectional`].
//!
//! A copy between two ends that are always ready would never return
//! `Pending`, so each loop charges one reduction per chunk: the copy ends
//! its slice at the budget like any other smp_rt leaf future, and a
//! `timeout` around it fires.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use smp_rt_executor::task::poll_charge;

use super::{AsyncBufRead, AsyncRead, AsyncWrite, ReadBuf};

/// The size of the buffer of [`copy`] and of each direction of
/// [`copy_bidirectional`], as in tokio.
const DEFAULT_BUF_SIZE: usize = 8 * 1024;

/// One direction of a copy: a buffer filled from the reader and drained
/// into the writer.
///
/// Invariant: `pos <= cap <= buf.len()`; `buf[pos..cap]` is read but not
/// yet written. `need_flush` says bytes were written since the last flush.
#[derive(Debug)]
pub(crate) struct CopyBuffer {
    read_done: bool,
    need_flush: bool,
    pos: usize,
    cap: usize,
    amt: u64,
    buf: Box<[u8]>,
}

impl CopyBuffer {
    /// A copy through a buffer of `size` bytes.
    ///
    /// # Panics
    ///
    /// If `size` is 0: such a copy could never move a byte.
    #[track_caller]
    pub(crate) fn new(size: usize) -> CopyBuffer {
        assert!(
            size > 0,
            "a copy buffer of 0 bytes could never move a byte: give it at least 1"
        );
        CopyBuffer {
            read_done: false,
            need_flush: false,
            pos: 0,
            cap: 0,
            amt: 0,
            buf: vec![0; size].into_boxed_slice(),
        }
    }

    /// Reads into the free end of the buffer; a read that adds nothing is
    /// end-of-file.
    fn poll_fill<R>(&mut self, cx: &mut Context<'_>, reader: Pin<&mut R>) -> Poll<io::Result<()>>
    where
        R: AsyncRead + ?Sized,
    {
        let mut buf = ReadBuf::new(&mut self.buf);
        buf.set_filled(self.cap);
        ready!(reader.poll_read(cx, &mut buf))?;
        let filled = buf.filled().len();
        self.read_done = filled == self.cap;
        self.cap = filled;
        Poll::Ready(Ok(()))
    }

    /// Copies until the reader's end-of-file, then flushes the writer;
    /// returns the number of bytes copied.
    ///
    /// When the reader has nothing and everything read was written, the
    /// writer is flushed before waiting: a reader that waits for what a
    /// buffered writer holds back would otherwise wait forever.
    pub(crate) fn poll_copy<R, W>(
        &mut self,
        cx: &mut Context<'_>,
        mut reader: Pin<&mut R>,
        mut writer: Pin<&mut W>,
    ) -> Poll<io::Result<u64>>
    where
        R: AsyncRead + ?Sized,
        W: AsyncWrite + ?Sized,
    {
        loop {
            ready!(poll_charge(cx));
            if self.cap < self.buf.len() && !self.read_done {
                match self.poll_fill(cx, reader.as_mut()) {
                    Poll::Ready(Ok(())) => {}
                    Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
                    // With bytes in hand, write them while the reader waits.
                    Poll::Pending if self.pos < self.cap => {}
                    Poll::Pending => {
                        if self.need_flush {
                            ready!(writer.as_mut().poll_flush(cx))?;
                            self.need_flush = false;
                        }
                        return Poll::Pending;
                    }
                }
            }

            while self.pos < self.cap {
                let written = ready!(
                    writer
                        .as_mut()
                        .poll_write(cx, &self.buf[self.pos..self.cap])
                )?;
                if written == 0 {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the writer took no bytes of a copy: it can take no more",
                    )));
                }
                assert!(
                    written <= self.cap - self.pos,
                    "the writer's poll_write returned {written}, more than the {} bytes it was given",
                    self.cap - self.pos
                );
                self.pos += written;
                self.amt += written as u64;
                self.need_flush = true;
            }
            self.pos = 0;
            self.cap = 0;

            if self.read_done {
                ready!(writer.as_mut().poll_flush(cx))?;
                self.need_flush = false;
                return Poll::Ready(Ok(self.amt));
            }
        }
    }
}

/// Copies everything `reader` gives into `writer`, until end-of-file, and
/// flushes `writer`; returns the number of bytes copied.
///
/// The copy goes through a buffer of 8 KiB. While the reader has nothing
/// to give, `writer` is flushed, so a reader that waits for what a
/// buffered `writer` holds back does not wait forever. One reduction is
/// charged per chunk, so a copy between two ends that are always ready
/// still ends its slice at the budget.
///
/// # Errors
///
/// The first error of `reader` or `writer`, and
/// [`ErrorKind::WriteZero`](io::ErrorKind::WriteZero) if `writer` takes no
/// bytes. Some bytes may have been copied before an error.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io;
///
/// let mut reader: &[u8] = b"hello";
/// let mut writer: Vec<u8> = vec![];
/// io::copy(&mut reader, &mut writer).await?;
/// assert_eq!(&b"hello"[..], &writer[..]);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn copy<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = CopyBuffer::new(DEFAULT_BUF_SIZE);
    poll_fn(|cx| buf.poll_copy(cx, Pin::new(&mut *reader), Pin::new(&mut *writer))).await
}

/// [`copy`] from a buffered reader, through the reader's own buffer
/// instead of one of its own; flushes `writer` at end-of-file and returns
/// the number of bytes copied. One reduction is charged per chunk.
///
/// # Errors
///
/// As [`copy`]'s.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io;
///
/// let mut reader: &[u8] = b"abc";
/// let mut out = Vec::new();
/// let copied = io::copy_buf(&mut reader, &mut out).await?;
/// assert_eq!((copied, out.as_slice()), (3, &b"abc"[..]));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn copy_buf<'a, R, W>(reader: &'a mut R, writer: &'a mut W) -> io::Result<u64>
where
    R: AsyncBufRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut copied = 0u64;
    poll_fn(|cx| {
        loop {
            ready!(poll_charge(cx));
            let buf = ready!(Pin::new(&mut *reader).poll_fill_buf(cx))?;
            if buf.is_empty() {
                ready!(Pin::new(&mut *writer).poll_flush(cx))?;
                return Poll::Ready(Ok(copied));
            }
            let written = ready!(Pin::new(&mut *writer).poll_write(cx, buf))?;
            if written == 0 {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::WriteZero,
                    "the writer took no bytes of a copy: it can take no more",
                )));
            }
            Pin::new(&mut *reader).consume(written);
            copied += written as u64;
        }
    })
    .await
}

/// Where one direction of [`copy_bidirectional`] is.
enum Transfer {
    Running(CopyBuffer),
    ShuttingDown(u64),
    Done(u64),
}

/// Copies `reader` into `writer` until end-of-file, then shuts `writer`
/// down; the count once both are done.
fn poll_transfer<R, W>(
    cx: &mut Context<'_>,
    state: &mut Transfer,
    mut reader: Pin<&mut R>,
    mut writer: Pin<&mut W>,
) -> Poll<io::Result<u64>>
where
    R: AsyncRead + ?Sized,
    W: AsyncWrite + ?Sized,
{
    loop {
        match state {
            Transfer::Running(buf) => {
                let count = ready!(buf.poll_copy(cx, reader.as_mut(), writer.as_mut()))?;
                *state = Transfer::ShuttingDown(count);
            }
            Transfer::ShuttingDown(count) => {
                ready!(writer.as_mut().poll_shutdown(cx))?;
                *state = Transfer::Done(*count);
            }
            Transfer::Done(count) => return Poll::Ready(Ok(*count)),
        }
    }
}

/// Copies `a` into `b` and `b` into `a` at the same time, until both
/// reach end-of-file; returns `(bytes a to b, bytes b to a)`.
///
/// When one side reaches end-of-file, the other side's writer is flushed
/// and shut down (a socket's peer reads end-of-file), and the other
/// direction goes on until it ends too. Each direction copies through a
/// buffer of 8 KiB and charges reductions as [`copy`] does.
///
/// # Errors
///
/// The first error of either direction ends both; bytes may have been
/// copied before it.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io;
///
/// // A proxy between a client's connection and a server's.
/// let (mut client, mut proxy_in) = io::duplex(64);
/// let (mut proxy_out, mut server) = io::duplex(64);
/// let proxy = smp_rt::spawn(async move {
///     io::copy_bidirectional(&mut proxy_in, &mut proxy_out).await
/// });
/// drop((client, server)); // both ends hang up
/// assert_eq!(proxy.await.unwrap()?, (0, 0));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn copy_bidirectional<A, B>(a: &mut A, b: &mut B) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    copy_bidirectional_with_sizes(a, b, DEFAULT_BUF_SIZE, DEFAULT_BUF_SIZE).await
}

/// [`copy_bidirectional`] with a buffer of `a_to_b_buf_size` bytes for the
/// direction from `a` to `b` and one of `b_to_a_buf_size` for the other.
///
/// # Panics
///
/// At the first poll, if either size is 0.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io;
///
/// let (mut a, mut a_peer) = io::duplex(64);
/// let (mut b, mut b_peer) = io::duplex(64);
/// drop((a_peer, b_peer));
/// let counts = io::copy_bidirectional_with_sizes(&mut a, &mut b, 512, 128).await?;
/// assert_eq!(counts, (0, 0));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn copy_bidirectional_with_sizes<A, B>(
    a: &mut A,
    b: &mut B,
    a_to_b_buf_size: usize,
    b_to_a_buf_size: usize,
) -> io::Result<(u64, u64)>
where
    A: AsyncRead + AsyncWrite + Unpin + ?Sized,
    B: AsyncRead + AsyncWrite + Unpin + ?Sized,
{
    let mut a_to_b = Transfer::Running(CopyBuffer::new(a_to_b_buf_size));
    let mut b_to_a = Transfer::Running(CopyBuffer::new(b_to_a_buf_size));
    poll_fn(move |cx| {
        // Poll both every time: a direction that is done stays done.
        let there = poll_transfer(cx, &mut a_to_b, Pin::new(&mut *a), Pin::new(&mut *b))?;
        let back = poll_transfer(cx, &mut b_to_a, Pin::new(&mut *b), Pin::new(&mut *a))?;
        Poll::Ready(Ok((ready!(there), ready!(back))))
    })
    .await
}

//! The IO helpers that never wait on a descriptor (`empty`, `repeat`,
//! `sink`) and the ones that loop over a reader and a writer (`copy`,
//! `copy_buf`), charging reductions.
//!
//! A reader or writer that is always ready never returns `Pending`, so a
//! loop over it would hold its worker forever, and a `timeout` around it
//! would never fire: each of these charges one reduction per poll (and
//! `copy` one per chunk), so the loop ends its slice at the budget like any
//! other smp_rt leaf future.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures::io::{AsyncBufRead, AsyncRead, AsyncWrite, BufReader};
use smp_rt_executor::task::poll_charge;

/// A reader that is always at end-of-file. See [`empty`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Empty {
    _private: (),
}

/// A reader that is always at end-of-file, and a writer that takes every
/// byte and drops it (as [`sink`] does). Every poll charges one reduction.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncReadExt};
///
/// let mut buf = Vec::new();
/// assert_eq!(io::empty().read_to_end(&mut buf).await?, 0);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub fn empty() -> Empty {
    Empty { _private: () }
}

impl AsyncRead for Empty {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        _: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        Poll::Ready(Ok(0))
    }
}

impl AsyncBufRead for Empty {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        ready!(poll_charge(cx));
        Poll::Ready(Ok(&[]))
    }

    fn consume(self: Pin<&mut Self>, _: usize) {}
}

impl AsyncWrite for Empty {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut sink()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut sink()).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut sink()).poll_close(cx)
    }
}

/// A reader that yields one byte over and over. See [`repeat`].
#[derive(Debug, Clone, Copy)]
pub struct Repeat {
    byte: u8,
}

/// A reader that fills every buffer with `byte`, forever. Every poll
/// charges one reduction.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncReadExt};
///
/// let mut buf = [0; 3];
/// io::repeat(7).read_exact(&mut buf).await?;
/// assert_eq!(buf, [7, 7, 7]);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub fn repeat(byte: u8) -> Repeat {
    Repeat { byte }
}

impl AsyncRead for Repeat {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        buf.fill(self.byte);
        Poll::Ready(Ok(buf.len()))
    }
}

/// A writer that takes every byte and drops it. See [`sink`].
#[derive(Debug, Default, Clone, Copy)]
pub struct Sink {
    _private: (),
}

/// A writer that takes every byte and drops it. Every poll charges one
/// reduction.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncWriteExt};
///
/// let mut sink = io::sink();
/// assert_eq!(sink.write(b"gone").await?, 4);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub fn sink() -> Sink {
    Sink { _private: () }
}

impl AsyncWrite for Sink {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// Copies everything `reader` gives into `writer`, until end-of-file, then
/// flushes `writer`; returns the number of bytes copied. Charges one
/// reduction per chunk, so a copy between two always-ready ends still
/// ends its slice at the budget.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncReadExt};
///
/// let mut reader = io::repeat(1).take(10_000);
/// let copied = io::copy(&mut reader, &mut io::sink()).await?;
/// assert_eq!(copied, 10_000);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn copy<R, W>(reader: R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead,
    W: AsyncWrite + Unpin + ?Sized,
{
    copy_buf(BufReader::new(reader), writer).await
}

/// [`copy`] from a buffered reader, through its own buffer.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, Cursor};
///
/// let mut out = Vec::new();
/// let copied = io::copy_buf(Cursor::new(b"abc".to_vec()), &mut out).await?;
/// assert_eq!((copied, out.as_slice()), (3, &b"abc"[..]));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn copy_buf<R, W>(reader: R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncBufRead,
    W: AsyncWrite + Unpin + ?Sized,
{
    CopyBuf {
        reader,
        writer,
        copied: 0,
    }
    .await
}

pin_project_lite::pin_project! {
    /// The future of [`copy_buf`].
    struct CopyBuf<'a, R, W: ?Sized> {
        #[pin]
        reader: R,
        writer: &'a mut W,
        copied: u64,
    }
}

impl<R, W> Future for CopyBuf<'_, R, W>
where
    R: AsyncBufRead,
    W: AsyncWrite + Unpin + ?Sized,
{
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let mut this = self.project();
        loop {
            ready!(poll_charge(cx));
            let buf = ready!(this.reader.as_mut().poll_fill_buf(cx))?;
            if buf.is_empty() {
                ready!(Pin::new(&mut **this.writer).poll_flush(cx))?;
                return Poll::Ready(Ok(*this.copied));
            }
            let written = ready!(Pin::new(&mut **this.writer).poll_write(cx, buf))?;
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *this.copied += written as u64;
            this.reader.as_mut().consume(written);
        }
    }
}

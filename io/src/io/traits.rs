//! The four IO traits, in tokio's shape: [`AsyncRead`] reads into a
//! [`ReadBuf`], [`AsyncWrite`] shuts down rather than closes, and
//! [`AsyncBufRead`] and [`AsyncSeek`] are tokio's. With their impls for
//! pointers and for in-memory readers and writers of `std`.
//!
//! In-memory readers and writers (`&[u8]`, `Vec<u8>`, `io::Cursor`) are
//! always ready and charge no reductions, as in tokio; the helpers of this
//! module that loop (`copy`, the extension traits' futures) are driven by
//! readers that do, or charge themselves.

use std::io::{self, IoSlice, SeekFrom};
use std::ops::DerefMut;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::ReadBuf;

/// Reads bytes asynchronously (tokio's `AsyncRead`).
///
/// Use it through [`AsyncReadExt`](super::AsyncReadExt).
pub trait AsyncRead {
    /// Reads into the unfilled part of `buf`, advancing it by what was
    /// read. `Ready(Ok(()))` without advancing means end-of-file (or that
    /// `buf` had no room). `Pending` arranges for `cx`'s waker to be woken
    /// when the reader can make progress.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>>;
}

/// Writes bytes asynchronously (tokio's `AsyncWrite`).
///
/// Use it through [`AsyncWriteExt`](super::AsyncWriteExt).
pub trait AsyncWrite {
    /// Writes some of `buf`, returning how many bytes were written (0 only
    /// if `buf` is empty or the writer can take no more, ever).
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>;

    /// Writes everything buffered by this writer through to its target.
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Flushes and shuts the writer down: a socket's peer reads
    /// end-of-file. Writing after it is an error.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>>;

    /// Writes from several buffers, in order. By default it writes the
    /// first non-empty buffer.
    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let buf = bufs
            .iter()
            .find(|b| !b.is_empty())
            .map_or(&[][..], |b| &**b);
        self.poll_write(cx, buf)
    }

    /// Whether [`poll_write_vectored`](Self::poll_write_vectored) writes
    /// more than one buffer at a time (callers gather small writes only
    /// then).
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// A reader with an internal buffer (tokio's `AsyncBufRead`).
///
/// Use it through [`AsyncBufReadExt`](super::AsyncBufReadExt).
pub trait AsyncBufRead: AsyncRead {
    /// The buffered bytes, reading more if none are; an empty slice means
    /// end-of-file.
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>>;

    /// Marks `amt` buffered bytes as read (at most the length last
    /// returned by `poll_fill_buf`).
    fn consume(self: Pin<&mut Self>, amt: usize);
}

/// Seeks asynchronously (tokio's `AsyncSeek`): start a seek, then poll it
/// to completion.
///
/// Use it through [`AsyncSeekExt`](super::AsyncSeekExt).
pub trait AsyncSeek {
    /// Starts seeking to `position`. An error if a seek is already under
    /// way.
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()>;

    /// Waits for the seek started last and returns the new position from
    /// the start (with no seek started, the current position).
    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>>;
}

// Pointers: `Box`, `&mut` and `Pin` of a reader, writer, ... are one.

macro_rules! deref_async_read {
    () => {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_read(cx, buf)
        }
    };
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for Box<T> {
    deref_async_read!();
}

impl<T: ?Sized + AsyncRead + Unpin> AsyncRead for &mut T {
    deref_async_read!();
}

impl<P> AsyncRead for Pin<P>
where
    P: DerefMut,
    P::Target: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.as_deref_mut().poll_read(cx, buf)
    }
}

macro_rules! deref_async_write {
    () => {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_write(cx, buf)
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            Pin::new(&mut **self).poll_write_vectored(cx, bufs)
        }

        fn is_write_vectored(&self) -> bool {
            (**self).is_write_vectored()
        }

        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_flush(cx)
        }

        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut **self).poll_shutdown(cx)
        }
    };
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for Box<T> {
    deref_async_write!();
}

impl<T: ?Sized + AsyncWrite + Unpin> AsyncWrite for &mut T {
    deref_async_write!();
}

impl<P> AsyncWrite for Pin<P>
where
    P: DerefMut,
    P::Target: AsyncWrite,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.as_deref_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.as_deref_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        (**self).is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.as_deref_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.as_deref_mut().poll_shutdown(cx)
    }
}

macro_rules! deref_async_buf_read {
    () => {
        fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
            Pin::new(&mut **self.get_mut()).poll_fill_buf(cx)
        }

        fn consume(mut self: Pin<&mut Self>, amt: usize) {
            Pin::new(&mut **self).consume(amt)
        }
    };
}

impl<T: ?Sized + AsyncBufRead + Unpin> AsyncBufRead for Box<T> {
    deref_async_buf_read!();
}

impl<T: ?Sized + AsyncBufRead + Unpin> AsyncBufRead for &mut T {
    deref_async_buf_read!();
}

impl<P> AsyncBufRead for Pin<P>
where
    P: DerefMut,
    P::Target: AsyncBufRead,
{
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.as_deref_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.as_deref_mut().consume(amt)
    }
}

macro_rules! deref_async_seek {
    () => {
        fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
            Pin::new(&mut **self).start_seek(position)
        }

        fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
            Pin::new(&mut **self).poll_complete(cx)
        }
    };
}

impl<T: ?Sized + AsyncSeek + Unpin> AsyncSeek for Box<T> {
    deref_async_seek!();
}

impl<T: ?Sized + AsyncSeek + Unpin> AsyncSeek for &mut T {
    deref_async_seek!();
}

impl<P> AsyncSeek for Pin<P>
where
    P: DerefMut,
    P::Target: AsyncSeek,
{
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        self.as_deref_mut().start_seek(position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        self.as_deref_mut().poll_complete(cx)
    }
}

// In-memory readers and writers of `std`.

impl AsyncRead for &[u8] {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let n = self.len().min(buf.remaining());
        let (now, rest) = self.split_at(n);
        buf.put_slice(now);
        *self = rest;
        Poll::Ready(Ok(()))
    }
}

impl AsyncBufRead for &[u8] {
    fn poll_fill_buf(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(Ok(*self.get_mut()))
    }

    fn consume(mut self: Pin<&mut Self>, amt: usize) {
        *self = &self[amt..];
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncRead for io::Cursor<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let data = self.get_ref().as_ref();
        let start = usize::try_from(self.position()).map_or(data.len(), |p| p.min(data.len()));
        let n = (data.len() - start).min(buf.remaining());
        buf.put_slice(&data[start..start + n]);
        self.set_position((start + n) as u64);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncBufRead for io::Cursor<T> {
    fn poll_fill_buf(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        Poll::Ready(io::BufRead::fill_buf(self.get_mut()))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        io::BufRead::consume(self.get_mut(), amt)
    }
}

impl<T: AsRef<[u8]> + Unpin> AsyncSeek for io::Cursor<T> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        io::Seek::seek(self.get_mut(), position).map(drop)
    }

    fn poll_complete(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<u64>> {
        Poll::Ready(Ok(self.get_mut().position()))
    }
}

/// Writers of `std` that never block: each call is the `std::io::Write`
/// one.
macro_rules! std_memory_writer {
    ($($ty:ty),*) => {$(
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(io::Write::write(self.get_mut(), buf))
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(io::Write::write_vectored(self.get_mut(), bufs))
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
    )*};
}

std_memory_writer!(
    Vec<u8>,
    io::Cursor<&mut [u8]>,
    io::Cursor<&mut Vec<u8>>,
    io::Cursor<Vec<u8>>,
    io::Cursor<Box<[u8]>>
);

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::io::{Cursor, IoSlice, SeekFrom};
    use std::pin::{Pin, pin};
    use std::task::Poll;

    use futures::executor::block_on;

    use super::*;

    #[test]
    fn a_slice_reads_what_fits_then_end_of_file() {
        block_on(async {
            let mut reader: &[u8] = b"abcdef";
            let mut memory = [0; 4];
            let mut buf = ReadBuf::new(&mut memory);
            poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf))
                .await
                .unwrap();
            assert_eq!((buf.filled(), reader), (&b"abcd"[..], &b"ef"[..]));
            buf.clear();
            poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf))
                .await
                .unwrap();
            assert_eq!(buf.filled(), b"ef");
            buf.clear();
            poll_fn(|cx| Pin::new(&mut reader).poll_read(cx, &mut buf))
                .await
                .unwrap();
            assert!(buf.filled().is_empty(), "end-of-file reads nothing");
        });
    }

    #[test]
    fn a_cursor_reads_from_its_position_and_seeks() {
        block_on(async {
            let mut cursor = Cursor::new(b"0123456789".to_vec());
            Pin::new(&mut cursor).start_seek(SeekFrom::End(-3)).unwrap();
            let at = poll_fn(|cx| Pin::new(&mut cursor).poll_complete(cx))
                .await
                .unwrap();
            assert_eq!(at, 7);
            let mut memory = [0; 8];
            let mut buf = ReadBuf::new(&mut memory);
            poll_fn(|cx| Pin::new(&mut cursor).poll_read(cx, &mut buf))
                .await
                .unwrap();
            assert_eq!(buf.filled(), b"789");
            // Past the end: nothing, not a panic.
            cursor.set_position(100);
            buf.clear();
            poll_fn(|cx| Pin::new(&mut cursor).poll_read(cx, &mut buf))
                .await
                .unwrap();
            assert!(buf.filled().is_empty());
        });
    }

    #[test]
    fn a_vec_takes_every_buffer_of_a_vectored_write_through_pointers() {
        block_on(async {
            let mut out = Vec::new();
            {
                let mut writer: Box<&mut Vec<u8>> = Box::new(&mut out);
                let mut pinned = pin!(&mut writer);
                assert!(pinned.is_write_vectored());
                let bufs = [IoSlice::new(b"ab"), IoSlice::new(b""), IoSlice::new(b"cd")];
                let n = poll_fn(|cx| pinned.as_mut().poll_write_vectored(cx, &bufs))
                    .await
                    .unwrap();
                assert_eq!(n, 4);
                let shut = poll_fn(|cx| match pinned.as_mut().poll_shutdown(cx) {
                    Poll::Ready(r) => Poll::Ready(r),
                    Poll::Pending => unreachable!("a Vec is always ready"),
                });
                shut.await.unwrap();
            }
            assert_eq!(out, b"abcd");
        });
    }

    /// A writer with only `poll_write`, to check the default vectored write.
    struct OneAtATime(Vec<u8>);

    impl AsyncWrite for OneAtATime {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[test]
    fn the_default_vectored_write_writes_the_first_non_empty_buffer() {
        block_on(async {
            let mut writer = OneAtATime(Vec::new());
            assert!(!writer.is_write_vectored());
            let bufs = [IoSlice::new(b""), IoSlice::new(b"xy"), IoSlice::new(b"z")];
            let n = poll_fn(|cx| Pin::new(&mut writer).poll_write_vectored(cx, &bufs))
                .await
                .unwrap();
            assert_eq!((n, &writer.0[..]), (2, &b"xy"[..]));
        });
    }
}

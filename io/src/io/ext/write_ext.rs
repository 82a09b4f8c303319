//! [`AsyncWriteExt`] and the futures its methods return.

use std::future::Future;
use std::io::{self, IoSlice};
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut};
use pin_project_lite::pin_project;
use smp_rt_executor::task::poll_charge;

use crate::io::AsyncWrite;

/// Buffers of a [`Buf`] passed to one vectored write.
const MAX_VECTORED: usize = 64;

/// Generates the methods that write one number.
macro_rules! write_num_methods {
    ($($name:ident($ty:ty), $put:ident, $order:literal;)*) => {$(
        #[doc = concat!("Writes a `", stringify!($ty), "` in ", $order, " byte order.")]
        ///
        /// Equivalent to:
        ///
        /// ```ignore
        #[doc = concat!("async fn ", stringify!($name), "(&mut self, n: ", stringify!($ty), ") -> io::Result<()>;")]
        /// ```
        ///
        /// # Errors
        ///
        /// [`ErrorKind::WriteZero`](std::io::ErrorKind::WriteZero) if the
        /// writer takes no more bytes before all of the number's were
        /// written, and the writer's first error other than `Interrupted`.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe: if it is cancelled, part of the number may have
        /// been written.
        ///
        /// # Examples
        ///
        /// ```
        /// # smp_rt::block_on(async {
        /// use smp_rt::io::AsyncWriteExt;
        ///
        /// let mut out = Vec::new();
        #[doc = concat!("out.", stringify!($name), "(", stringify!($ty), "::MAX).await?;")]
        /// let mut expected = Vec::new();
        #[doc = concat!("bytes::BufMut::", stringify!($put), "(&mut expected, ", stringify!($ty), "::MAX);")]
        /// assert_eq!(out, expected);
        /// # std::io::Result::Ok(()) }).unwrap();
        /// ```
        fn $name(&mut self, n: $ty) -> WriteNum<'_, Self>
        where
            Self: Unpin,
        {
            let mut bytes = [0; 16];
            let len = {
                let mut dst = &mut bytes[..];
                dst.$put(n);
                16 - dst.len()
            };
            WriteNum {
                writer: self,
                bytes,
                len,
                written: 0,
                _pin: PhantomPinned,
            }
        }
    )*};
}

/// Writes to an [`AsyncWrite`]: the extension trait of tokio's
/// `AsyncWriteExt`, implemented for every writer.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt::io::{AsyncReadExt, AsyncWriteExt};
/// use smp_rt::net::UnixStream;
///
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_u32(5).await?;
/// a.write_all(b"hello").await?;
/// a.shutdown().await?; // `b` reads end-of-file after the message
/// let len = b.read_u32().await?;
/// let mut text = String::new();
/// b.read_to_string(&mut text).await?;
/// assert_eq!((len, text.as_str()), (5, "hello"));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait AsyncWriteExt: AsyncWrite {
    /// Writes some of `src`, returning how many bytes were written.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn write(&mut self, src: &[u8]) -> io::Result<usize>;
    /// ```
    ///
    /// Fewer bytes than `src` holds is not an error; `Ok(0)` means `src`
    /// is empty or the writer takes no more bytes, likely ever.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if it is cancelled, no bytes were written.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncWriteExt;
    ///
    /// let mut out = Vec::new();
    /// assert_eq!(out.write(b"some bytes").await?, 10);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn write<'a>(&'a mut self, src: &'a [u8]) -> Write<'a, Self>
    where
        Self: Unpin,
    {
        Write {
            writer: self,
            buf: src,
            _pin: PhantomPinned,
        }
    }

    /// Writes some of the bytes of `bufs`, in order, in one write,
    /// returning how many were written.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if it is cancelled, no bytes were written.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use std::io::IoSlice;
    /// use smp_rt::io::AsyncWriteExt;
    ///
    /// let mut out = Vec::new();
    /// let bufs = [IoSlice::new(b"head "), IoSlice::new(b"body")];
    /// assert_eq!(out.write_vectored(&bufs).await?, 9);
    /// assert_eq!(out, b"head body");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn write_vectored<'a, 'b>(&'a mut self, bufs: &'a [IoSlice<'b>]) -> WriteVectored<'a, 'b, Self>
    where
        Self: Unpin,
    {
        WriteVectored {
            writer: self,
            bufs,
            _pin: PhantomPinned,
        }
    }

    /// Writes some of the bytes of a [`Buf`] in one write, advancing it,
    /// and returns how many were written.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn write_buf<B: Buf>(&mut self, src: &mut B) -> io::Result<usize>;
    /// ```
    ///
    /// `Ok(0)` if `src` has nothing left, or the writer takes no more
    /// bytes. With a writer that [writes vectored
    /// ](crate::io::AsyncWrite::is_write_vectored), several of `src`'s
    /// chunks go in the one write.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if it is cancelled, no bytes were written and `src`
    /// did not move.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use std::io::Cursor;
    /// use smp_rt::io::AsyncWriteExt;
    ///
    /// let mut out = Vec::new();
    /// let mut src = Cursor::new(b"data".to_vec());
    /// assert_eq!(out.write_buf(&mut src).await?, 4);
    /// assert_eq!(src.position(), 4);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn write_buf<'a, B>(&'a mut self, src: &'a mut B) -> WriteBuf<'a, Self, B>
    where
        Self: Sized + Unpin,
        B: Buf,
    {
        WriteBuf {
            writer: self,
            buf: src,
            _pin: PhantomPinned,
        }
    }

    /// Writes all of a [`Buf`], advancing it as bytes are written.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn write_all_buf(&mut self, src: impl Buf) -> io::Result<()>;
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WriteZero`](std::io::ErrorKind::WriteZero) if the
    /// writer takes no more bytes before `src` is empty, and the writer's
    /// first error other than `Interrupted`. `src` has been advanced past
    /// what was written.
    ///
    /// # Cancel safety
    ///
    /// If it is cancelled, part of `src` may have been written, and `src`
    /// has been advanced by exactly that much: calling it again with the
    /// same `src` writes the rest.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use bytes::BytesMut;
    /// use smp_rt::io::AsyncWriteExt;
    ///
    /// let mut out = Vec::new();
    /// let mut src = BytesMut::from(&b"all of it"[..]);
    /// out.write_all_buf(&mut src).await?;
    /// assert_eq!((out.as_slice(), src.len()), (&b"all of it"[..], 0));
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn write_all_buf<'a, B>(&'a mut self, src: &'a mut B) -> WriteAllBuf<'a, Self, B>
    where
        Self: Sized + Unpin,
        B: Buf,
    {
        WriteAllBuf {
            writer: self,
            buf: src,
            _pin: PhantomPinned,
        }
    }

    /// Writes all of `src`.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn write_all(&mut self, src: &[u8]) -> io::Result<()>;
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::WriteZero`](std::io::ErrorKind::WriteZero) if the
    /// writer takes no more bytes before all of `src` was written, and the
    /// writer's first error other than `Interrupted`.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if it is cancelled, part of `src` may have been
    /// written, and a new call starts again from the beginning of `src`.
    /// [`write_all_buf`](Self::write_all_buf) keeps track instead.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncWriteExt;
    ///
    /// let mut out = Vec::new();
    /// out.write_all(b"every byte").await?;
    /// assert_eq!(out, b"every byte");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn write_all<'a>(&'a mut self, src: &'a [u8]) -> WriteAll<'a, Self>
    where
        Self: Unpin,
    {
        WriteAll {
            writer: self,
            buf: src,
            _pin: PhantomPinned,
        }
    }

    write_num_methods! {
        write_u8(u8), put_u8, "big-endian";
        write_i8(i8), put_i8, "big-endian";
        write_u16(u16), put_u16, "big-endian";
        write_i16(i16), put_i16, "big-endian";
        write_u32(u32), put_u32, "big-endian";
        write_i32(i32), put_i32, "big-endian";
        write_u64(u64), put_u64, "big-endian";
        write_i64(i64), put_i64, "big-endian";
        write_u128(u128), put_u128, "big-endian";
        write_i128(i128), put_i128, "big-endian";
        write_f32(f32), put_f32, "big-endian";
        write_f64(f64), put_f64, "big-endian";
        write_u16_le(u16), put_u16_le, "little-endian";
        write_i16_le(i16), put_i16_le, "little-endian";
        write_u32_le(u32), put_u32_le, "little-endian";
        write_i32_le(i32), put_i32_le, "little-endian";
        write_u64_le(u64), put_u64_le, "little-endian";
        write_i64_le(i64), put_i64_le, "little-endian";
        write_u128_le(u128), put_u128_le, "little-endian";
        write_i128_le(i128), put_i128_le, "little-endian";
        write_f32_le(f32), put_f32_le, "little-endian";
        write_f64_le(f64), put_f64_le, "little-endian";
    }

    /// Writes everything the writer buffers through to its target.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn flush(&mut self) -> io::Result<()>;
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the buffered bytes stay buffered, and a new `flush`
    /// goes on.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncWriteExt;
    ///
    /// let mut out = Vec::new();
    /// out.write_all(b"x").await?;
    /// out.flush().await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn flush(&mut self) -> Flush<'_, Self>
    where
        Self: Unpin,
    {
        Flush {
            writer: self,
            _pin: PhantomPinned,
        }
    }

    /// Flushes, then shuts the writer down: a socket's peer reads
    /// end-of-file after the bytes written before. Writing after it is an
    /// error.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn shutdown(&mut self) -> io::Result<()>;
    /// ```
    ///
    /// For a stream this shuts down the writing direction only: reading
    /// from it goes on.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::{AsyncReadExt, AsyncWriteExt};
    /// use smp_rt::net::UnixStream;
    ///
    /// let (mut a, mut b) = UnixStream::pair()?;
    /// a.write_all(b"bye").await?;
    /// a.shutdown().await?;
    /// let mut got = Vec::new();
    /// b.read_to_end(&mut got).await?; // ends: `a` shut down
    /// assert_eq!(got, b"bye");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn shutdown(&mut self) -> Shutdown<'_, Self>
    where
        Self: Unpin,
    {
        Shutdown {
            writer: self,
            _pin: PhantomPinned,
        }
    }
}

impl<W: AsyncWrite + ?Sized> AsyncWriteExt for W {}

pin_project! {
    /// The future of [`AsyncWriteExt::write`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Write<'a, W: ?Sized> {
        writer: &'a mut W,
        buf: &'a [u8],
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for Write<'_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        Pin::new(&mut **me.writer).poll_write(cx, me.buf)
    }
}

pin_project! {
    /// The future of [`AsyncWriteExt::write_vectored`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WriteVectored<'a, 'b, W: ?Sized> {
        writer: &'a mut W,
        bufs: &'a [IoSlice<'b>],
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for WriteVectored<'_, '_, W> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        Pin::new(&mut **me.writer).poll_write_vectored(cx, me.bufs)
    }
}

/// Writes once from `buf` (several of its chunks if the writer writes
/// vectored) and advances it past what was written.
fn poll_write_from<W: AsyncWrite + ?Sized, B: Buf>(
    writer: Pin<&mut W>,
    cx: &mut Context<'_>,
    buf: &mut B,
) -> Poll<io::Result<usize>> {
    let n = if writer.is_write_vectored() {
        let mut slices = [IoSlice::new(&[]); MAX_VECTORED];
        let count = buf.chunks_vectored(&mut slices);
        ready!(writer.poll_write_vectored(cx, &slices[..count]))?
    } else {
        ready!(writer.poll_write(cx, buf.chunk()))?
    };
    assert!(
        n <= buf.remaining(),
        "AsyncWrite::poll_write returned {n} for a buffer of {} bytes: a writer must not claim \
         more bytes than it was given",
        buf.remaining()
    );
    buf.advance(n);
    Poll::Ready(Ok(n))
}

pin_project! {
    /// The future of [`AsyncWriteExt::write_buf`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WriteBuf<'a, W, B> {
        writer: &'a mut W,
        buf: &'a mut B,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<W: AsyncWrite + Unpin, B: Buf> Future for WriteBuf<'_, W, B> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        if !me.buf.has_remaining() {
            return Poll::Ready(Ok(0));
        }
        poll_write_from(Pin::new(&mut **me.writer), cx, *me.buf)
    }
}

pin_project! {
    /// The future of [`AsyncWriteExt::write_all_buf`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WriteAllBuf<'a, W, B> {
        writer: &'a mut W,
        buf: &'a mut B,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<W: AsyncWrite + Unpin, B: Buf> Future for WriteAllBuf<'_, W, B> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        let me = self.project();
        while me.buf.has_remaining() {
            match ready!(poll_write_from(Pin::new(&mut **me.writer), cx, *me.buf)) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(_) => {}
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        Poll::Ready(Ok(()))
    }
}

/// Writes all of `*buf`, moving it past what was written.
fn poll_write_all<W: AsyncWrite + ?Sized>(
    mut writer: Pin<&mut W>,
    cx: &mut Context<'_>,
    buf: &mut &[u8],
) -> Poll<io::Result<()>> {
    while !buf.is_empty() {
        match ready!(writer.as_mut().poll_write(cx, buf)) {
            Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Ok(n) => {
                assert!(
                    n <= buf.len(),
                    "AsyncWrite::poll_write returned {n} for a buffer of {} bytes: a writer must \
                     not claim more bytes than it was given",
                    buf.len()
                );
                *buf = &buf[n..];
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Poll::Ready(Err(err)),
        }
    }
    Poll::Ready(Ok(()))
}

pin_project! {
    /// The future of [`AsyncWriteExt::write_all`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WriteAll<'a, W: ?Sized> {
        writer: &'a mut W,
        buf: &'a [u8],
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for WriteAll<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        let me = self.project();
        poll_write_all(Pin::new(&mut **me.writer), cx, me.buf)
    }
}

pin_project! {
    /// The future of [`AsyncWriteExt::write_u8`], `write_u16`, ... and
    /// their little-endian forms.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct WriteNum<'a, W: ?Sized> {
        writer: &'a mut W,
        bytes: [u8; 16],
        len: usize,
        written: usize,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for WriteNum<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        let me = self.project();
        let mut rest = &me.bytes[*me.written..*me.len];
        let result = poll_write_all(Pin::new(&mut **me.writer), cx, &mut rest);
        *me.written = *me.len - rest.len();
        result
    }
}

pin_project! {
    /// The future of [`AsyncWriteExt::flush`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Flush<'a, W: ?Sized> {
        writer: &'a mut W,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for Flush<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        Pin::new(&mut **self.project().writer).poll_flush(cx)
    }
}

pin_project! {
    /// The future of [`AsyncWriteExt::shutdown`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Shutdown<'a, W: ?Sized> {
        writer: &'a mut W,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<W: AsyncWrite + ?Sized + Unpin> Future for Shutdown<'_, W> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        Pin::new(&mut **self.project().writer).poll_shutdown(cx)
    }
}

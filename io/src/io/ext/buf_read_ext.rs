//! [`AsyncBufReadExt`] and the futures its methods return.

use std::future::Future;
use std::io;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use smp_rt_executor::task::poll_charge;

use super::{Lines, Split, invalid_utf8, poll_read_until};
use crate::io::AsyncBufRead;

/// Reads from an [`AsyncBufRead`]: the extension trait of tokio's
/// `AsyncBufReadExt`, implemented for every buffered reader.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt::io::AsyncBufReadExt;
///
/// let mut lines = (&b"first\r\nsecond\n"[..]).lines();
/// assert_eq!(lines.next_line().await?.as_deref(), Some("first"));
/// assert_eq!(lines.next_line().await?.as_deref(), Some("second"));
/// assert_eq!(lines.next_line().await?, None);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait AsyncBufReadExt: AsyncBufRead {
    /// Reads into `buf` up to and including the first `byte` (or to
    /// end-of-file), appending, and returns how many bytes it appended.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn read_until(&mut self, byte: u8, buf: &mut Vec<u8>) -> io::Result<usize>;
    /// ```
    ///
    /// `Ok(0)` means end-of-file.
    ///
    /// # Errors
    ///
    /// The reader's first error other than `Interrupted`; the bytes read
    /// before it stay in `buf`.
    ///
    /// # Cancel safety
    ///
    /// If it is cancelled, the bytes read so far stay in `buf`, and
    /// calling it again goes on reading up to `byte` (its count then
    /// starts over).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncBufReadExt;
    ///
    /// let mut reader: &[u8] = b"key=value";
    /// let mut buf = Vec::new();
    /// assert_eq!(reader.read_until(b'=', &mut buf).await?, 4);
    /// assert_eq!(buf, b"key=");
    /// assert_eq!(reader.read_until(b'=', &mut buf).await?, 5);
    /// assert_eq!(buf, b"key=value");
    /// assert_eq!(reader.read_until(b'=', &mut buf).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn read_until<'a>(&'a mut self, byte: u8, buf: &'a mut Vec<u8>) -> ReadUntil<'a, Self>
    where
        Self: Unpin,
    {
        ReadUntil {
            reader: self,
            delimiter: byte,
            buf,
            read: 0,
            _pin: PhantomPinned,
        }
    }

    /// Reads a line, up to and including its `\n` (or to end-of-file),
    /// appending it to `buf`, and returns how many bytes it appended.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn read_line(&mut self, buf: &mut String) -> io::Result<usize>;
    /// ```
    ///
    /// `Ok(0)` means end-of-file. The line ending (`\n` or `\r\n`) is kept;
    /// [`lines`](Self::lines) strips it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`](std::io::ErrorKind::InvalidData) if the
    /// line is not UTF-8: `buf` is left as it was, and the line's bytes
    /// are consumed from the reader. An error of the reader (other than
    /// `Interrupted`) is returned after appending what was read before it,
    /// if that is UTF-8.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the bytes read before a cancellation are lost
    /// (`buf` keeps what it had before the call). For a cancel-safe line
    /// reader use [`lines`](Self::lines), or
    /// [`read_until`](Self::read_until) with `b'\n'`, which keeps the
    /// partial line.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncBufReadExt;
    ///
    /// let mut reader: &[u8] = b"one\ntwo";
    /// let mut line = String::new();
    /// assert_eq!(reader.read_line(&mut line).await?, 4);
    /// assert_eq!(line, "one\n");
    /// assert_eq!(reader.read_line(&mut line).await?, 3);
    /// assert_eq!(line, "one\ntwo");
    /// assert_eq!(reader.read_line(&mut line).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn read_line<'a>(&'a mut self, buf: &'a mut String) -> ReadLine<'a, Self>
    where
        Self: Unpin,
    {
        ReadLine {
            reader: self,
            output: buf,
            bytes: Vec::new(),
            read: 0,
            _pin: PhantomPinned,
        }
    }

    /// The segments of this reader between `byte`s, as a [`Split`] (read
    /// them with [`Split::next_segment`]). The delimiter is not part of a
    /// segment.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncBufReadExt;
    ///
    /// let mut segments = std::io::Cursor::new(b"a,b,,c").split(b',');
    /// let mut all = Vec::new();
    /// while let Some(segment) = segments.next_segment().await? {
    ///     all.push(segment);
    /// }
    /// assert_eq!(all, [&b"a"[..], b"b", b"", b"c"]);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn split(self, byte: u8) -> Split<Self>
    where
        Self: Sized + Unpin,
    {
        Split::new(self, byte)
    }

    /// The buffered bytes, reading more first if there are none; an empty
    /// slice means end-of-file. The bytes stay buffered until
    /// [`consume`](Self::consume)d.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn fill_buf(&mut self) -> io::Result<&[u8]>;
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if it is cancelled, no bytes were consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncBufReadExt;
    ///
    /// let mut reader: &[u8] = b"peek";
    /// assert_eq!(reader.fill_buf().await?, b"peek");
    /// reader.consume(2);
    /// assert_eq!(reader.fill_buf().await?, b"ek");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn fill_buf(&mut self) -> FillBuf<'_, Self>
    where
        Self: Unpin,
    {
        FillBuf {
            reader: Some(self),
            _pin: PhantomPinned,
        }
    }

    /// Marks `amt` buffered bytes as read: the next read starts after
    /// them. `amt` must be at most the length [`fill_buf`](Self::fill_buf)
    /// returned last.
    fn consume(&mut self, amt: usize)
    where
        Self: Unpin,
    {
        Pin::new(self).consume(amt)
    }

    /// The lines of this reader, as a [`Lines`] (read them with
    /// [`Lines::next_line`]), without their `\n` or `\r\n`.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncBufReadExt;
    ///
    /// let mut lines = (&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..]).lines();
    /// let mut headers = Vec::new();
    /// while let Some(line) = lines.next_line().await? {
    ///     if line.is_empty() {
    ///         break;
    ///     }
    ///     headers.push(line);
    /// }
    /// assert_eq!(headers, ["GET / HTTP/1.1", "Host: x"]);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn lines(self) -> Lines<Self>
    where
        Self: Sized,
    {
        Lines::new(self)
    }
}

impl<R: AsyncBufRead + ?Sized> AsyncBufReadExt for R {}

pin_project! {
    /// The future of [`AsyncBufReadExt::read_until`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadUntil<'a, R: ?Sized> {
        reader: &'a mut R,
        delimiter: u8,
        buf: &'a mut Vec<u8>,
        read: usize,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<R: AsyncBufRead + ?Sized + Unpin> Future for ReadUntil<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        poll_read_until(
            Pin::new(&mut **me.reader),
            cx,
            *me.delimiter,
            me.buf,
            me.read,
        )
    }
}

pin_project! {
    /// The future of [`AsyncBufReadExt::read_line`].
    ///
    /// It reads the line into a `Vec` of its own and appends it to the
    /// `String` only once it is whole and checked to be UTF-8, so the
    /// `String` never holds a part of a character.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadLine<'a, R: ?Sized> {
        reader: &'a mut R,
        output: &'a mut String,
        bytes: Vec<u8>,
        read: usize,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<R: AsyncBufRead + ?Sized + Unpin> Future for ReadLine<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        let result = ready!(poll_read_until(
            Pin::new(&mut **me.reader),
            cx,
            b'\n',
            me.bytes,
            me.read
        ));
        let bytes = std::mem::take(me.bytes);
        let text = String::from_utf8(bytes);
        match (result, text) {
            (Ok(n), Ok(text)) => {
                me.output.push_str(&text);
                Poll::Ready(Ok(n))
            }
            (Ok(_), Err(err)) => Poll::Ready(Err(invalid_utf8(err.utf8_error()))),
            (Err(err), Ok(text)) => {
                me.output.push_str(&text);
                Poll::Ready(Err(err))
            }
            (Err(err), Err(_)) => Poll::Ready(Err(err)),
        }
    }
}

pin_project! {
    /// The future of [`AsyncBufReadExt::fill_buf`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct FillBuf<'a, R: ?Sized> {
        reader: Option<&'a mut R>,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: AsyncBufRead + ?Sized + Unpin> Future for FillBuf<'a, R> {
    type Output = io::Result<&'a [u8]>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&'a [u8]>> {
        ready!(poll_charge(cx));
        let me = self.project();
        let reader = me
            .reader
            .take()
            .expect("FillBuf polled after it completed: a future must not be polled again once it returned Ready");
        match Pin::new(&mut *reader).poll_fill_buf(cx) {
            Poll::Ready(Ok(available)) => {
                let len = available.len();
                let start = available.as_ptr();
                // SAFETY: `available` borrows `*reader`, which is borrowed
                // for `'a` and which this future gives up for good (the
                // `Option` stays `None`), so nothing else can reach the
                // reader for `'a`: the bytes stay valid and unchanged. (The
                // borrow checker cannot see that the reborrow may be
                // extended because it is only returned on this branch.)
                let available: &'a [u8] = unsafe { std::slice::from_raw_parts(start, len) };
                Poll::Ready(Ok(available))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => {
                *me.reader = Some(reader);
                Poll::Pending
            }
        }
    }
}

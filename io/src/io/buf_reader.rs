//! [`BufReader`]: a reader with a buffer, so that small reads and line
//! reads do not each reach the inner reader.

use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

/// The default capacity of [`BufReader`] and [`BufWriter`](super::BufWriter),
/// as in tokio.
pub(crate) const DEFAULT_BUF_SIZE: usize = 8 * 1024;

pin_project_lite::pin_project! {
    /// Adds a buffer to a reader (tokio's `BufReader`).
    ///
    /// Reading small amounts from a socket costs a system call each; a
    /// `BufReader` reads up to its capacity at once and serves the small
    /// reads from its buffer. It also makes any reader an
    /// [`AsyncBufRead`], for line reads. A read at least as large as the
    /// buffer, with the buffer empty, goes straight to the inner reader.
    ///
    /// Dropping a `BufReader` drops what it buffered. It passes writes
    /// through to the inner object untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt_io::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    /// use smp_rt_io::net::UnixStream;
    ///
    /// let (mut tx, rx) = UnixStream::pair()?;
    /// tx.write_all(b"one\ntwo\n").await?;
    /// tx.shutdown().await?;
    /// let mut reader = BufReader::new(rx);
    /// let mut line = String::new();
    /// reader.read_line(&mut line).await?;
    /// assert_eq!(line, "one\n");
    /// assert_eq!(reader.buffer(), b"two\n", "read with the first line");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub struct BufReader<R> {
        #[pin]
        inner: R,
        // Invariant: `pos <= cap <= buf.len()`; `buf[pos..cap]` is
        // buffered and unread.
        buf: Box<[u8]>,
        pos: usize,
        cap: usize,
        seek_state: SeekState,
    }
}

/// Where a seek through the buffer is: a relative seek must account for
/// the bytes buffered but not yet read.
#[derive(Debug, Clone, Copy)]
enum SeekState {
    /// No seek started: `poll_complete` reports the inner position.
    Init,
    /// `start_seek` was called with this target.
    Start(SeekFrom),
    /// The inner seek back over the buffered bytes is under way; then
    /// seek by this offset.
    PendingOverflowed(i64),
    /// The inner seek is under way.
    Pending,
}

impl<R: AsyncRead> BufReader<R> {
    /// Wraps `inner` with a buffer of 8 KiB.
    pub fn new(inner: R) -> BufReader<R> {
        BufReader::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes.
    ///
    /// With a capacity of 0, every read goes to `inner`, and
    /// [`poll_fill_buf`](AsyncBufRead::poll_fill_buf) returns an empty
    /// slice, which reads as end-of-file (as in tokio).
    pub fn with_capacity(capacity: usize, inner: R) -> BufReader<R> {
        BufReader {
            inner,
            buf: vec![0; capacity].into_boxed_slice(),
            pos: 0,
            cap: 0,
            seek_state: SeekState::Init,
        }
    }
}

impl<R> BufReader<R> {
    /// The inner reader. Reading from it directly skips what is buffered.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The inner reader, mutably. Reading from it directly skips what is
    /// buffered.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The inner reader, pinned. Reading from it directly skips what is
    /// buffered.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// Unwraps the inner reader; what was buffered is lost.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The bytes buffered and not yet read.
    pub fn buffer(&self) -> &[u8] {
        &self.buf[self.pos..self.cap]
    }

    /// The inner reader and the buffer with its unread range, for
    /// rebuilding layers without losing buffered bytes.
    pub(crate) fn into_parts(self) -> (R, Box<[u8]>, usize, usize) {
        (self.inner, self.buf, self.pos, self.cap)
    }

    /// The inverse of [`into_parts`](Self::into_parts).
    pub(crate) fn from_parts(inner: R, buf: Box<[u8]>, pos: usize, cap: usize) -> BufReader<R> {
        debug_assert!(pos <= cap && cap <= buf.len());
        BufReader {
            inner,
            buf,
            pos,
            cap,
            seek_state: SeekState::Init,
        }
    }

    fn discard_buffer(self: Pin<&mut Self>) {
        let this = self.project();
        *this.pos = 0;
        *this.cap = 0;
    }
}

impl<R: AsyncRead> AsyncRead for BufReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // A read as large as the buffer gains nothing from it.
        if self.pos == self.cap && buf.remaining() >= self.buf.len() {
            let res = ready!(self.as_mut().get_pin_mut().poll_read(cx, buf));
            self.discard_buffer();
            return Poll::Ready(res);
        }
        let rem = ready!(self.as_mut().poll_fill_buf(cx))?;
        let amt = rem.len().min(buf.remaining());
        buf.put_slice(&rem[..amt]);
        self.consume(amt);
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncRead> AsyncBufRead for BufReader<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.project();
        if *this.pos >= *this.cap {
            let mut buf = ReadBuf::new(this.buf);
            ready!(this.inner.poll_read(cx, &mut buf))?;
            *this.cap = buf.filled().len();
            *this.pos = 0;
        }
        Poll::Ready(Ok(&this.buf[*this.pos..*this.cap]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let this = self.project();
        *this.pos = (*this.pos + amt).min(*this.cap);
    }
}

/// Seeking discards the buffer. A seek relative to the current position
/// is relative to the position of the next byte this reader returns (the
/// inner reader is ahead of it by the buffered bytes). After an error the
/// inner reader may have moved by the buffered bytes.
impl<R: AsyncRead + AsyncSeek> AsyncSeek for BufReader<R> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        // The inner seek starts at `poll_complete`, which can also wait
        // for the second one an overflowing relative seek needs.
        *self.project().seek_state = SeekState::Start(position);
        Ok(())
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let state = std::mem::replace(self.as_mut().project().seek_state, SeekState::Init);
        let res = match state {
            SeekState::Init => return self.get_pin_mut().poll_complete(cx),
            SeekState::Start(SeekFrom::Current(n)) => {
                let buffered = (self.cap - self.pos) as i64;
                match n.checked_sub(buffered) {
                    Some(offset) => {
                        self.as_mut()
                            .get_pin_mut()
                            .start_seek(SeekFrom::Current(offset))?;
                        self.as_mut().get_pin_mut().poll_complete(cx)?
                    }
                    None => {
                        // `n - buffered` overflows: back over the buffered
                        // bytes first, then by `n`.
                        self.as_mut()
                            .get_pin_mut()
                            .start_seek(SeekFrom::Current(-buffered))?;
                        return self.poll_overflowed(cx, n);
                    }
                }
            }
            SeekState::Start(position) => {
                self.as_mut().get_pin_mut().start_seek(position)?;
                self.as_mut().get_pin_mut().poll_complete(cx)?
            }
            SeekState::PendingOverflowed(n) => return self.poll_overflowed(cx, n),
            SeekState::Pending => self.as_mut().get_pin_mut().poll_complete(cx)?,
        };
        match res {
            Poll::Ready(position) => {
                self.discard_buffer();
                Poll::Ready(Ok(position))
            }
            Poll::Pending => {
                *self.project().seek_state = SeekState::Pending;
                Poll::Pending
            }
        }
    }
}

impl<R: AsyncRead + AsyncSeek> BufReader<R> {
    /// Waits for the seek back over the buffered bytes, then seeks by `n`.
    fn poll_overflowed(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        n: i64,
    ) -> Poll<io::Result<u64>> {
        if self.as_mut().get_pin_mut().poll_complete(cx)?.is_pending() {
            *self.project().seek_state = SeekState::PendingOverflowed(n);
            return Poll::Pending;
        }
        self.as_mut().discard_buffer();
        self.as_mut()
            .get_pin_mut()
            .start_seek(SeekFrom::Current(n))?;
        *self.as_mut().project().seek_state = SeekState::Pending;
        self.poll_complete(cx)
    }
}

impl<R: AsyncRead + AsyncWrite> AsyncWrite for BufReader<R> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_pin_mut().poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.get_ref().is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_shutdown(cx)
    }
}

impl<R: fmt::Debug> fmt::Debug for BufReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufReader")
            .field("reader", &self.inner)
            .field(
                "buffer",
                &format_args!("{}/{}", self.cap - self.pos, self.buf.len()),
            )
            .finish()
    }
}

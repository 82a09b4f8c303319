//! [`BufWriter`]: a writer with a buffer, so that small writes are
//! gathered into large ones.

use std::fmt;
use std::io::{self, IoSlice, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use super::buf_reader::DEFAULT_BUF_SIZE;
use super::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

pin_project_lite::pin_project! {
    /// Adds a buffer to a writer (tokio's `BufWriter`).
    ///
    /// Writing small amounts to a socket costs a system call each; a
    /// `BufWriter` gathers them in its buffer and writes the buffer when it
    /// is full, on [`poll_flush`](AsyncWrite::poll_flush) and on
    /// [`poll_shutdown`](AsyncWrite::poll_shutdown). A write at least as
    /// large as the buffer goes straight to the inner writer (after the
    /// buffer).
    ///
    /// Dropping a `BufWriter` drops what it has not written yet: flush or
    /// shut it down first. It passes reads through to the inner object
    /// untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt_io::io::{AsyncWriteExt, BufWriter};
    ///
    /// let mut writer = BufWriter::new(Vec::new());
    /// writer.write_all(b"held").await?;
    /// assert!(writer.get_ref().is_empty(), "still in the buffer");
    /// writer.flush().await?;
    /// assert_eq!(writer.get_ref(), b"held");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub struct BufWriter<W> {
        #[pin]
        inner: W,
        // Invariant: `buf.len() <= capacity` (its `Vec` capacity may be
        // more); `buf[..written]` has already gone to `inner`.
        buf: Vec<u8>,
        capacity: usize,
        written: usize,
        seek_state: SeekState,
    }
}

/// Where a seek is: the buffer is written out before the inner seek.
#[derive(Debug, Clone, Copy)]
enum SeekState {
    /// No seek started: `poll_complete` reports the inner position.
    Init,
    /// `start_seek` was called with this target.
    Start(SeekFrom),
    /// The inner seek is under way.
    Pending,
}

impl<W: AsyncWrite> BufWriter<W> {
    /// Wraps `inner` with a buffer of 8 KiB.
    pub fn new(inner: W) -> BufWriter<W> {
        BufWriter::with_capacity(DEFAULT_BUF_SIZE, inner)
    }

    /// Wraps `inner` with a buffer of `capacity` bytes (0: every write
    /// goes straight through).
    pub fn with_capacity(capacity: usize, inner: W) -> BufWriter<W> {
        BufWriter {
            inner,
            buf: Vec::with_capacity(capacity),
            capacity,
            written: 0,
            seek_state: SeekState::Init,
        }
    }

    /// Writes the whole buffer to the inner writer (without flushing it).
    fn poll_flush_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut this = self.project();
        let mut res = Ok(());
        while *this.written < this.buf.len() {
            match this
                .inner
                .as_mut()
                .poll_write(cx, &this.buf[*this.written..])
            {
                Poll::Pending => break,
                Poll::Ready(Ok(0)) => {
                    res = Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "the inner writer took none of BufWriter's buffered bytes: it can take no more",
                    ));
                    break;
                }
                Poll::Ready(Ok(n)) => *this.written += n,
                Poll::Ready(Err(err)) => {
                    res = Err(err);
                    break;
                }
            }
        }
        // Drop what went through, whether or not all of it did.
        let done = *this.written == this.buf.len();
        this.buf.drain(..*this.written);
        *this.written = 0;
        if done || res.is_err() {
            Poll::Ready(res)
        } else {
            Poll::Pending
        }
    }

    /// Room left in the buffer.
    fn spare(&self) -> usize {
        self.capacity - self.buf.len()
    }
}

impl<W> BufWriter<W> {
    /// The inner writer. Writing to it directly goes ahead of what is
    /// buffered.
    pub fn get_ref(&self) -> &W {
        &self.inner
    }

    /// The inner writer, mutably. Writing to it directly goes ahead of
    /// what is buffered.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.inner
    }

    /// The inner writer, pinned. Writing to it directly goes ahead of what
    /// is buffered.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut W> {
        self.project().inner
    }

    /// Unwraps the inner writer; what was buffered and not written is
    /// lost.
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// The bytes buffered and not yet written.
    pub fn buffer(&self) -> &[u8] {
        &self.buf
    }

    /// The inner writer, the buffered bytes and the capacity, for
    /// rebuilding layers without losing buffered bytes.
    pub(crate) fn into_parts(self) -> (W, Vec<u8>, usize) {
        (self.inner, self.buf, self.capacity)
    }

    /// The inverse of [`into_parts`](Self::into_parts).
    pub(crate) fn from_parts(inner: W, buf: Vec<u8>, capacity: usize) -> BufWriter<W> {
        debug_assert!(buf.len() <= capacity);
        BufWriter {
            inner,
            buf,
            capacity,
            written: 0,
            seek_state: SeekState::Init,
        }
    }
}

impl<W: AsyncWrite> AsyncWrite for BufWriter<W> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.len() > self.spare() {
            ready!(self.as_mut().poll_flush_buf(cx))?;
        }
        if buf.len() >= self.capacity {
            self.get_pin_mut().poll_write(cx, buf)
        } else {
            self.project().buf.extend_from_slice(buf);
            Poll::Ready(Ok(buf.len()))
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if self.inner.is_write_vectored() {
            let total = bufs
                .iter()
                .fold(0usize, |sum, b| sum.saturating_add(b.len()));
            if total > self.spare() {
                ready!(self.as_mut().poll_flush_buf(cx))?;
            }
            if total >= self.capacity {
                return self.get_pin_mut().poll_write_vectored(cx, bufs);
            }
            let this = self.project();
            for b in bufs {
                this.buf.extend_from_slice(b);
            }
            return Poll::Ready(Ok(total));
        }

        // The inner writer takes one buffer at a time: gather whole
        // buffers while they fit, and send a large first one straight on.
        let mut bufs = bufs.iter().skip_while(|b| b.is_empty());
        let Some(first) = bufs.next() else {
            return Poll::Ready(Ok(0));
        };
        if first.len() > self.spare() {
            ready!(self.as_mut().poll_flush_buf(cx))?;
        }
        if first.len() >= self.capacity {
            return self.get_pin_mut().poll_write(cx, first);
        }
        let spare = self.spare();
        let this = self.project();
        this.buf.extend_from_slice(first);
        let mut total = first.len();
        for b in bufs {
            if total + b.len() > spare {
                break;
            }
            this.buf.extend_from_slice(b);
            total += b.len();
        }
        Poll::Ready(Ok(total))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush_buf(cx))?;
        self.get_pin_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.as_mut().poll_flush_buf(cx))?;
        self.get_pin_mut().poll_shutdown(cx)
    }
}

/// Seeking writes the buffer out first, then seeks the inner writer.
impl<W: AsyncWrite + AsyncSeek> AsyncSeek for BufWriter<W> {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        // The buffer may take several polls to write out: the inner seek
        // starts in `poll_complete`.
        *self.project().seek_state = SeekState::Start(position);
        Ok(())
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let state = std::mem::replace(self.as_mut().project().seek_state, SeekState::Init);
        if let SeekState::Start(position) = state {
            if self.as_mut().poll_flush_buf(cx)?.is_pending() {
                *self.project().seek_state = SeekState::Start(position);
                return Poll::Pending;
            }
            self.as_mut().get_pin_mut().start_seek(position)?;
        }
        let res = self.as_mut().get_pin_mut().poll_complete(cx);
        if res.is_pending() && !matches!(state, SeekState::Init) {
            *self.project().seek_state = SeekState::Pending;
        }
        res
    }
}

impl<W: AsyncWrite + AsyncRead> AsyncRead for BufWriter<W> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_pin_mut().poll_read(cx, buf)
    }
}

impl<W: AsyncWrite + AsyncBufRead> AsyncBufRead for BufWriter<W> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        self.get_pin_mut().poll_fill_buf(cx)
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_pin_mut().consume(amt)
    }
}

impl<W: fmt::Debug> fmt::Debug for BufWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BufWriter")
            .field("writer", &self.inner)
            .field(
                "buffer",
                &format_args!("{}/{}", self.buf.len(), self.capacity),
            )
            .field("written", &self.written)
            .finish()
    }
}

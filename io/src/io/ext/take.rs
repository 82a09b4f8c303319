//! [`Take`]: a reader limited to a number of bytes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::io::{AsyncBufRead, AsyncRead, ReadBuf};

pin_project! {
    /// A reader that reads at most a given number of bytes of another one,
    /// then reports end-of-file. Made by
    /// [`AsyncReadExt::take`](super::AsyncReadExt::take).
    ///
    /// It charges nothing itself: the reader it wraps, and the futures that
    /// read from it, do.
    #[derive(Debug)]
    #[must_use = "readers do nothing unless you read from them"]
    pub struct Take<R> {
        #[pin]
        inner: R,
        limit: u64,
    }
}

impl<R> Take<R> {
    pub(super) fn new(inner: R, limit: u64) -> Take<R> {
        Take { inner, limit }
    }

    /// How many bytes can still be read before this reports end-of-file.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncReadExt;
    ///
    /// let mut take = (&b"abcdef"[..]).take(4);
    /// let mut buf = [0; 3];
    /// take.read_exact(&mut buf).await?;
    /// assert_eq!(take.limit(), 1);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Sets how many bytes can still be read, as if this `Take` had just
    /// been made with `limit`.
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// The wrapped reader.
    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// The wrapped reader, mutably. Reading from it directly takes bytes
    /// from under this `Take` without counting them.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// The wrapped reader, pinned. Reading from it directly takes bytes
    /// from under this `Take` without counting them.
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut R> {
        self.project().inner
    }

    /// The wrapped reader, giving up the limit.
    pub fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: AsyncRead> AsyncRead for Take<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let me = self.project();
        if *me.limit == 0 {
            return Poll::Ready(Ok(()));
        }
        let max = usize::try_from(*me.limit).unwrap_or(usize::MAX);
        let n = {
            let mut window = buf.take(max);
            let start = window.filled().as_ptr();
            ready!(me.inner.poll_read(cx, &mut window))?;
            assert_eq!(
                window.filled().as_ptr(),
                start,
                "AsyncRead::poll_read replaced the ReadBuf it was given: a reader must fill the \
                 buffer it is passed, not swap in another one"
            );
            window.filled().len()
        };
        // SAFETY: the inner reader filled the first `n` unfilled bytes of
        // `buf` (the window is over them, and the check above says it was
        // not swapped for another buffer).
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        *me.limit -= n as u64;
        Poll::Ready(Ok(()))
    }
}

impl<R: AsyncBufRead> AsyncBufRead for Take<R> {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let me = self.project();
        if *me.limit == 0 {
            return Poll::Ready(Ok(&[]));
        }
        let available = ready!(me.inner.poll_fill_buf(cx))?;
        let n = usize::try_from(*me.limit).map_or(available.len(), |l| l.min(available.len()));
        Poll::Ready(Ok(&available[..n]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        let me = self.project();
        let amt = usize::try_from(*me.limit).map_or(amt, |l| l.min(amt));
        *me.limit -= amt as u64;
        me.inner.consume(amt);
    }
}

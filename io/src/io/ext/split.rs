//! [`Split`]: the segments of a buffered reader between delimiters.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use smp_rt_executor::task::poll_charge;

use super::poll_read_until;
use crate::io::AsyncBufRead;

pin_project! {
    /// The segments of a buffered reader between delimiter bytes, without
    /// the delimiters. Made by
    /// [`AsyncBufReadExt::split`](super::AsyncBufReadExt::split).
    ///
    /// A partly read segment is kept here between calls, so
    /// [`next_segment`](Split::next_segment) is cancel safe.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Split<R> {
        #[pin]
        reader: R,
        segment: Vec<u8>,
        delimiter: u8,
        read: usize,
    }
}

impl<R> Split<R> {
    pub(super) fn new(reader: R, delimiter: u8) -> Split<R> {
        Split {
            reader,
            segment: Vec::new(),
            delimiter,
            read: 0,
        }
    }
}

impl<R: AsyncBufRead + Unpin> Split<R> {
    /// The next segment, without its delimiter; `None` at end-of-file. The
    /// last segment is what follows the last delimiter, if anything does.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn next_segment(&mut self) -> io::Result<Option<Vec<u8>>>;
    /// ```
    ///
    /// # Errors
    ///
    /// The reader's errors other than `Interrupted` (the part of the
    /// segment read before one is kept for the next call).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a segment partly read when it is cancelled is
    /// completed by the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncBufReadExt;
    ///
    /// let mut records = std::io::Cursor::new(b"r1\0r2\0").split(0);
    /// assert_eq!(records.next_segment().await?, Some(b"r1".to_vec()));
    /// assert_eq!(records.next_segment().await?, Some(b"r2".to_vec()));
    /// assert_eq!(records.next_segment().await?, None);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn next_segment(&mut self) -> io::Result<Option<Vec<u8>>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_segment(cx)).await
    }
}

impl<R: AsyncBufRead> Split<R> {
    /// Polls for the next segment (see
    /// [`next_segment`](Split::next_segment)). Charges one reduction.
    pub fn poll_next_segment(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<Vec<u8>>>> {
        ready!(poll_charge(cx));
        let me = self.project();
        let n = ready!(poll_read_until(
            me.reader,
            cx,
            *me.delimiter,
            me.segment,
            me.read
        ))?;
        if n == 0 && me.segment.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut segment = std::mem::take(me.segment);
        if segment.last() == Some(me.delimiter) {
            segment.pop();
        }
        Poll::Ready(Ok(Some(segment)))
    }
}

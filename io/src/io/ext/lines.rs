//! [`Lines`]: the lines of a buffered reader, one by one.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use smp_rt_executor::task::poll_charge;

use super::{invalid_utf8, poll_read_until};
use crate::io::AsyncBufRead;

pin_project! {
    /// The lines of a buffered reader, without their `\n` or `\r\n`. Made
    /// by [`AsyncBufReadExt::lines`](super::AsyncBufReadExt::lines).
    ///
    /// A partly read line is kept here between calls, so
    /// [`next_line`](Lines::next_line) is cancel safe.
    #[derive(Debug)]
    #[must_use = "streams do nothing unless polled"]
    pub struct Lines<R> {
        #[pin]
        reader: R,
        line: Vec<u8>,
        read: usize,
    }
}

impl<R> Lines<R> {
    pub(super) fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            line: Vec::new(),
            read: 0,
        }
    }

    /// The reader, mutably. Reading from it directly takes bytes from
    /// under the line being read.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// The reader.
    pub fn get_ref(&self) -> &R {
        &self.reader
    }

    /// The reader; a partly read line is dropped.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

impl<R: AsyncBufRead + Unpin> Lines<R> {
    /// The next line, without its `\n` or `\r\n`; `None` at end-of-file.
    /// The last line may lack a line ending.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn next_line(&mut self) -> io::Result<Option<String>>;
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`](std::io::ErrorKind::InvalidData) if a
    /// line is not UTF-8 (that line is skipped: the next call reads the
    /// one after it), and the reader's errors other than `Interrupted`
    /// (the part of the line read before one is kept for the next call).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a line partly read when it is cancelled is completed
    /// by the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncBufReadExt;
    ///
    /// let mut lines = (&b"a\nb"[..]).lines();
    /// while let Some(line) = lines.next_line().await? {
    ///     println!("{line}");
    /// }
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn next_line(&mut self) -> io::Result<Option<String>> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next_line(cx)).await
    }
}

impl<R: AsyncBufRead> Lines<R> {
    /// Polls for the next line (see [`next_line`](Lines::next_line)).
    /// Charges one reduction.
    pub fn poll_next_line(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<Option<String>>> {
        ready!(poll_charge(cx));
        let me = self.project();
        let n = ready!(poll_read_until(me.reader, cx, b'\n', me.line, me.read))?;
        if n == 0 && me.line.is_empty() {
            return Poll::Ready(Ok(None));
        }
        let mut line = std::mem::take(me.line);
        if line.last() == Some(&b'\n') {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        }
        match String::from_utf8(line) {
            Ok(line) => Poll::Ready(Ok(Some(line))),
            Err(err) => Poll::Ready(Err(invalid_utf8(err.utf8_error()))),
        }
    }
}

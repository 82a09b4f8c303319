//! [`Blocking`]: an async reader or writer over a blocking `std` one, each
//! operation run on the runtime's blocking pool.
//!
//! The `std` object moves into the blocking job and comes back with its
//! result, so one operation is in flight at a time. A write copies the
//! caller's bytes (up to [`MAX_BUF`]) into the adapter's buffer, starts
//! the job and reports them written at once; its error, if any, is
//! returned by the next operation. A read fills the buffer on the pool and
//! serves the caller from it.

use std::future::Future;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use smp_rt_executor::task::{JoinError, JoinHandle, poll_charge, spawn_blocking};

use super::ReadBuf;

/// The most one blocking job reads or writes, as in tokio.
pub(crate) const MAX_BUF: usize = 2 * 1024 * 1024;

/// A blocking `std` object driven from the blocking pool.
#[derive(Debug)]
pub(crate) struct Blocking<T> {
    // `None` while a job holds it.
    inner: Option<T>,
    state: State<T>,
    // A write was started since the last flush.
    need_flush: bool,
}

#[derive(Debug)]
enum State<T> {
    /// No job in flight; the buffer holds read bytes not yet returned
    /// (never unwritten ones).
    Idle(Buf),
    /// A job holds the object and the buffer.
    Busy(JoinHandle<(Operation, Buf, T)>),
}

/// What a job did.
#[derive(Debug)]
enum Operation {
    Read(io::Result<()>),
    Write(io::Result<()>),
}

/// Bytes between the caller and a job. Invariant: `pos <= data.len()`;
/// `data[pos..]` is pending.
#[derive(Debug, Default)]
struct Buf {
    data: Vec<u8>,
    pos: usize,
}

impl Buf {
    fn is_empty(&self) -> bool {
        self.pos == self.data.len()
    }

    fn clear(&mut self) {
        self.data.clear();
        self.pos = 0;
    }

    fn copy_to(&mut self, dst: &mut ReadBuf<'_>) {
        let n = (self.data.len() - self.pos).min(dst.remaining());
        dst.put_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        if self.is_empty() {
            self.clear();
        }
    }

    fn copy_from(&mut self, src: &[u8]) -> usize {
        debug_assert!(self.is_empty());
        let n = src.len().min(MAX_BUF);
        self.clear();
        self.data.extend_from_slice(&src[..n]);
        n
    }

    /// Reads at most `max` bytes, retrying on `Interrupted`.
    fn read_from<T: Read>(&mut self, reader: &mut T, max: usize) -> io::Result<()> {
        self.clear();
        self.data.resize(max, 0);
        let res = loop {
            match reader.read(&mut self.data) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                res => break res,
            }
        };
        self.data.truncate(*res.as_ref().unwrap_or(&0));
        res.map(drop)
    }

    fn write_to<T: Write>(&mut self, writer: &mut T) -> io::Result<()> {
        let res = writer.write_all(&self.data[self.pos..]);
        self.clear();
        res
    }
}

/// A job that panicked or was cancelled by the runtime's shutdown.
fn join_error(err: JoinError) -> io::Error {
    io::Error::other(format!("a blocking standard IO job failed: {err}"))
}

impl<T> Blocking<T> {
    pub(crate) fn new(inner: T) -> Blocking<T> {
        Blocking {
            inner: Some(inner),
            state: State::Idle(Buf::default()),
            need_flush: false,
        }
    }

    /// Waits for the job in flight, puts the object back and returns what
    /// the job did.
    fn poll_job(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Operation>> {
        let State::Busy(job) = &mut self.state else {
            unreachable!("poll_job is called only while a job is in flight");
        };
        let (op, buf, inner) = ready!(Pin::new(job).poll(cx)).map_err(join_error)?;
        self.inner = Some(inner);
        self.state = State::Idle(buf);
        Poll::Ready(Ok(op))
    }

    /// Takes the object and the buffer for a job.
    fn take(&mut self) -> (T, Buf) {
        let State::Idle(buf) = &mut self.state else {
            unreachable!("a job starts only while none is in flight");
        };
        let buf = std::mem::take(buf);
        let inner = self
            .inner
            .take()
            .expect("the object is home while no job is in flight");
        (inner, buf)
    }
}

impl<T: Read + Send + 'static> Blocking<T> {
    pub(crate) fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        loop {
            match &mut self.state {
                State::Idle(buf) if !buf.is_empty() => {
                    buf.copy_to(dst);
                    return Poll::Ready(Ok(()));
                }
                State::Idle(_) => {
                    let max = dst.remaining().min(MAX_BUF);
                    let (mut inner, mut buf) = self.take();
                    self.state = State::Busy(spawn_blocking(move || {
                        let res = buf.read_from(&mut inner, max);
                        (Operation::Read(res), buf, inner)
                    }));
                }
                State::Busy(_) => match ready!(self.poll_job(cx))? {
                    Operation::Read(res) => {
                        let State::Idle(buf) = &mut self.state else {
                            unreachable!("poll_job leaves the adapter idle");
                        };
                        if let Err(err) = res {
                            buf.clear();
                            return Poll::Ready(Err(err));
                        }
                        buf.copy_to(dst);
                        return Poll::Ready(Ok(()));
                    }
                    // A write's error is the next operation's.
                    Operation::Write(res) => res?,
                },
            }
        }
    }
}

impl<T: Write + Send + 'static> Blocking<T> {
    pub(crate) fn poll_write(
        &mut self,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        loop {
            match &mut self.state {
                State::Idle(_) => {
                    let (mut inner, mut buf) = self.take();
                    let n = buf.copy_from(src);
                    self.state = State::Busy(spawn_blocking(move || {
                        let res = buf.write_to(&mut inner);
                        (Operation::Write(res), buf, inner)
                    }));
                    self.need_flush = true;
                    return Poll::Ready(Ok(n));
                }
                State::Busy(_) => {
                    if let Operation::Write(res) = ready!(self.poll_job(cx))? {
                        res?;
                    }
                }
            }
        }
    }

    /// Waits for the write in flight, then flushes the object on the pool.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        loop {
            match &mut self.state {
                State::Idle(_) if self.need_flush => {
                    let (mut inner, buf) = self.take();
                    self.state = State::Busy(spawn_blocking(move || {
                        let res = inner.flush();
                        (Operation::Write(res), buf, inner)
                    }));
                    self.need_flush = false;
                }
                State::Idle(_) => return Poll::Ready(Ok(())),
                State::Busy(_) => {
                    if let Operation::Write(res) = ready!(self.poll_job(cx))? {
                        res?;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;
    use std::io::{self, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::{Arc, Mutex};

    use super::{Blocking, ReadBuf};

    /// A reader of `0..len` that counts its calls.
    struct Counted {
        next: u8,
        len: u8,
        calls: Arc<AtomicUsize>,
    }

    impl Read for Counted {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls.fetch_add(1, Relaxed);
            let n = buf.len().min(usize::from(self.len - self.next));
            for byte in &mut buf[..n] {
                *byte = self.next;
                self.next += 1;
            }
            Ok(n)
        }
    }

    /// A writer into a shared vector, or one that fails every call.
    struct Shared(Option<Arc<Mutex<Vec<u8>>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            match &self.0 {
                Some(out) => out.lock().unwrap().write(buf),
                None => Err(io::Error::other("this writer always fails")),
            }
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    async fn read(blocking: &mut Blocking<Counted>, max: usize) -> Vec<u8> {
        let mut memory = vec![0; max];
        let mut buf = ReadBuf::new(&mut memory);
        poll_fn(|cx| blocking.poll_read(cx, &mut buf))
            .await
            .unwrap();
        buf.filled().to_vec()
    }

    #[test]
    fn each_read_runs_one_blocking_read_of_at_most_the_callers_room() {
        crate::test_rt::runtime().block_on(async {
            let calls = Arc::new(AtomicUsize::new(0));
            let mut blocking = Blocking::new(Counted {
                next: 0,
                len: 10,
                calls: calls.clone(),
            });
            assert_eq!(read(&mut blocking, 4).await, [0, 1, 2, 3]);
            assert_eq!(read(&mut blocking, 4).await, [4, 5, 6, 7]);
            assert_eq!(read(&mut blocking, 4).await, [8, 9]);
            assert!(read(&mut blocking, 4).await.is_empty(), "end-of-file");
            assert_eq!(calls.load(Relaxed), 4);
        });
    }

    #[test]
    fn writes_reach_the_writer_in_order_once_flushed() {
        crate::test_rt::runtime().block_on(async {
            let out = Arc::new(Mutex::new(Vec::new()));
            let mut blocking = Blocking::new(Shared(Some(out.clone())));
            for chunk in [&b"ab"[..], b"cd", b"ef"] {
                let n = poll_fn(|cx| blocking.poll_write(cx, chunk)).await.unwrap();
                assert_eq!(n, 2);
            }
            poll_fn(|cx| blocking.poll_flush(cx)).await.unwrap();
            assert_eq!(*out.lock().unwrap(), b"abcdef");
        });
    }

    #[test]
    fn a_failed_write_is_reported_by_the_next_call() {
        crate::test_rt::runtime().block_on(async {
            let mut blocking = Blocking::new(Shared(None));
            // Reported written at once: the bytes are in the adapter.
            let n = poll_fn(|cx| blocking.poll_write(cx, b"lost"))
                .await
                .unwrap();
            assert_eq!(n, 4);
            let err = poll_fn(|cx| blocking.poll_flush(cx)).await.unwrap_err();
            assert_eq!(err.to_string(), "this writer always fails");
            // The error is reported once; the flush it interrupted runs now.
            poll_fn(|cx| blocking.poll_flush(cx)).await.unwrap();
        });
    }
}

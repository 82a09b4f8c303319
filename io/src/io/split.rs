//! [`split`]: one reader-writer as a read half and a write half that can
//! move to different tasks.
//!
//! Both halves hold the object in one `Arc`, behind a mutex that each poll
//! takes for its duration; the object never moves while split, which is
//! what lets a half pin it.

use std::fmt;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use super::{AsyncRead, AsyncWrite, ReadBuf};

/// The read half of an object split by [`split`].
pub struct ReadHalf<T> {
    inner: Arc<Inner<T>>,
}

/// The write half of an object split by [`split`].
pub struct WriteHalf<T> {
    inner: Arc<Inner<T>>,
}

struct Inner<T> {
    stream: Mutex<T>,
    // Read once, at the split, so `is_write_vectored` takes no lock.
    is_write_vectored: bool,
}

impl<T> Inner<T> {
    /// Runs `f` on the object, pinned, under the lock.
    fn with_lock<R>(&self, f: impl FnOnce(Pin<&mut T>) -> R) -> R {
        // A half whose poll panicked left the object as the panic found
        // it, which is all a poll promises anyway: go on with it.
        let mut guard: MutexGuard<'_, T> =
            self.stream.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: the object lives in the `Arc`'s allocation and is never
        // moved out of it while a half exists: the only way out is
        // `unsplit`, which takes both halves and needs `T: Unpin`.
        let stream = unsafe { Pin::new_unchecked(&mut *guard) };
        f(stream)
    }
}

/// Splits a reader-writer into a read half and a write half that can be
/// used from different tasks at once (tokio's `io::split`).
///
/// The halves share the object through a lock, taken for each poll.
/// [`ReadHalf::unsplit`] puts them back together. For smp_rt's streams,
/// prefer their own `split`/`into_split`, which need no lock.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncReadExt, AsyncWriteExt};
///
/// let (a, mut b) = io::duplex(64);
/// let (mut reader, mut writer) = io::split(a);
/// let pinger = smp_rt::spawn(async move {
///     writer.write_all(b"ping").await?;
///     std::io::Result::Ok(writer)
/// });
/// let mut ping = [0; 4];
/// b.read_exact(&mut ping).await?;
/// b.write_all(b"pong").await?;
/// let mut pong = [0; 4];
/// reader.read_exact(&mut pong).await?;
/// let writer = pinger.await.unwrap()?;
/// let a = reader.unsplit(writer); // whole again
/// # drop(a);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub fn split<T>(stream: T) -> (ReadHalf<T>, WriteHalf<T>)
where
    T: AsyncRead + AsyncWrite,
{
    let is_write_vectored = stream.is_write_vectored();
    let inner = Arc::new(Inner {
        stream: Mutex::new(stream),
        is_write_vectored,
    });
    (
        ReadHalf {
            inner: inner.clone(),
        },
        WriteHalf { inner },
    )
}

impl<T> ReadHalf<T> {
    /// Whether `other` is the write half split from the same object.
    pub fn is_pair_of(&self, other: &WriteHalf<T>) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Puts the two halves back together into the object.
    ///
    /// # Panics
    ///
    /// If `writer` was not split from the same object as this half (check
    /// with [`is_pair_of`](Self::is_pair_of) first).
    #[track_caller]
    pub fn unsplit(self, writer: WriteHalf<T>) -> T
    where
        T: Unpin,
    {
        assert!(
            self.is_pair_of(&writer),
            "ReadHalf::unsplit was given the WriteHalf of another object: \
             pass the half split from the same object (see is_pair_of)"
        );
        drop(writer);
        let inner = Arc::into_inner(self.inner)
            .expect("the two halves are the only owners of their object");
        inner
            .stream
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T> WriteHalf<T> {
    /// Whether `other` is the read half split from the same object.
    pub fn is_pair_of(&self, other: &ReadHalf<T>) -> bool {
        other.is_pair_of(self)
    }
}

impl<T: AsyncRead> AsyncRead for ReadHalf<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_read(cx, buf))
    }
}

impl<T: AsyncWrite> AsyncWrite for WriteHalf<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.with_lock(|stream| stream.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner
            .with_lock(|stream| stream.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.inner.with_lock(|stream| stream.poll_shutdown(cx))
    }
}

impl<T: fmt::Debug> fmt::Debug for ReadHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("split::ReadHalf").finish_non_exhaustive()
    }
}

impl<T: fmt::Debug> fmt::Debug for WriteHalf<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("split::WriteHalf").finish_non_exhaustive()
    }
}

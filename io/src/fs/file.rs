//! [`File`]: an open file whose reads, writes and seeks run on the
//! blocking pool, one at a time, through a buffer the file owns.
//!
//! # The state machine
//!
//! A file is *idle*, holding its buffer, or *busy*: one blocking operation
//! (a read into the buffer, a write of the buffer, a seek) owns the buffer
//! and a clone of the `std` file on the blocking pool, and returns both.
//!
//! * A read, idle with buffered bytes, returns them; idle and empty, it
//!   starts a blocking read of at most `min(room, max_buf_size)` bytes and
//!   waits for it.
//! * A write copies at most `max_buf_size` bytes into the buffer, starts
//!   a blocking write of the whole buffer and returns at once: the write
//!   completes in the background. A write that finds the file busy first
//!   waits for the operation in flight.
//! * A failed background write is returned by the next write or flush;
//!   a read or seek that waits for it keeps its error for the write or
//!   flush after it. `flush` waits for the write in flight.
//! * Bytes read ahead and not yet returned are given back before a write
//!   or a seek: the operating system's cursor is moved back by their
//!   number, so the file's position is the one its user sees.
//! * `start_seek` on a busy file is an error: `poll_complete` first (as
//!   `AsyncSeekExt::seek` does) waits for the operation in flight.

use std::fmt;
use std::fs::{Metadata, Permissions};
use std::future::poll_fn;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use futures::lock::Mutex;
use smp_rt_executor::JoinHandle;
use smp_rt_executor::task::poll_charge;

use super::{OpenOptions, asyncify, join_error};
use crate::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

/// The default most bytes one blocking read or write moves (tokio's
/// default too).
const DEFAULT_MAX_BUF_SIZE: usize = 2 * 1024 * 1024;

/// An open file, as `tokio::fs::File`: `std::fs::File` whose operations
/// run on the blocking pool.
///
/// It implements [`AsyncRead`], [`AsyncWrite`] and [`AsyncSeek`], the
/// futures crate's three traits, and with the `tokio-io` feature tokio's.
/// A write
/// returns once its bytes are in the file's buffer and completes in the
/// background, so **flush before dropping the file** (or before reading
/// what was written through another handle): a write still in flight when
/// the `File` is dropped completes, but its error is lost. An error of a
/// background write is returned by the next write or flush.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt::fs::File;
/// use smp_rt::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt, SeekFrom};
///
/// let path = std::env::temp_dir().join(format!("smp_rt-file-doc-{}", std::process::id()));
/// let mut file = File::options().read(true).write(true).create(true).open(&path).await?;
/// file.write_all(b"hello").await?;
/// file.flush().await?; // the write completed: its bytes are in the file
/// assert_eq!(file.metadata().await?.len(), 5);
/// file.seek(SeekFrom::Start(1)).await?;
/// let mut rest = String::new();
/// file.read_to_string(&mut rest).await?;
/// assert_eq!(rest, "ello");
/// # smp_rt::fs::remove_file(&path).await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct File {
    std: Arc<std::fs::File>,
    /// Locked only by the `&self` methods that wait for the operation in
    /// flight, so that one waiter at a time polls its `JoinHandle`; the
    /// poll methods, which take `&mut self`, reach it without locking.
    inner: Mutex<Inner>,
    max_buf_size: usize,
    /// The seek that the futures crate's `poll_seek` started and has not
    /// seen complete.
    futures_seek: Option<SeekFrom>,
}

struct Inner {
    state: State,
    /// The error of a background write, for the next write or flush.
    last_write_err: Option<io::Error>,
    /// The position the last completed seek returned.
    pos: u64,
}

enum State {
    /// No operation in flight. `None` only within a method that took the
    /// buffer out to hand it to a new operation.
    Idle(Option<Buf>),
    /// An operation in flight on the blocking pool, which returns the
    /// buffer with its result.
    Busy(JoinHandle<(Operation, Buf)>),
}

/// A blocking operation's result.
enum Operation {
    Read(io::Result<usize>),
    /// A write, or a `set_len`.
    Write(io::Result<()>),
    Seek(io::Result<u64>),
}

/// The file's buffer: bytes read ahead (from `pos` on), or bytes to write.
#[derive(Default)]
struct Buf {
    bytes: Vec<u8>,
    /// How many of `bytes` were returned by reads already.
    pos: usize,
}

impl Buf {
    /// Bytes not yet returned (or not yet written).
    fn len(&self) -> usize {
        self.bytes.len() - self.pos
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves as many bytes as fit into `dst`.
    fn copy_to(&mut self, dst: &mut ReadBuf<'_>) -> usize {
        let n = self.len().min(dst.remaining());
        dst.put_slice(&self.bytes[self.pos..self.pos + n]);
        self.pos += n;
        if self.pos == self.bytes.len() {
            self.clear();
        }
        n
    }

    /// Takes at most `max` bytes of `src` to write (the buffer is empty).
    fn copy_from(&mut self, src: &[u8], max: usize) -> usize {
        debug_assert!(self.is_empty(), "the buffer is empty before a write");
        let n = src.len().min(max);
        self.clear();
        self.bytes.extend_from_slice(&src[..n]);
        n
    }

    /// Drops the bytes read ahead, returning the (zero or negative) offset
    /// that moves the file's cursor back to the reader's position.
    fn discard_read(&mut self) -> i64 {
        let unread = -(self.len() as i64);
        self.clear();
        unread
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.pos = 0;
    }

    /// Reads at most `max` bytes into the (empty) buffer. Blocks.
    fn read_from(&mut self, mut file: &std::fs::File, max: usize) -> io::Result<usize> {
        self.clear();
        self.bytes.resize(max, 0);
        let result = loop {
            match file.read(&mut self.bytes) {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                result => break result,
            }
        };
        self.bytes.truncate(*result.as_ref().unwrap_or(&0));
        result
    }

    /// Writes the whole buffer and empties it. Blocks.
    fn write_to(&mut self, mut file: &std::fs::File) -> io::Result<()> {
        let result = file.write_all(&self.bytes[self.pos..]);
        self.clear();
        result
    }
}

impl Inner {
    /// Waits for the operation in flight, if any, and returns its result
    /// as a flush does: the write's, or `Ok` for any other.
    fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match ready!(self.poll_op(cx)) {
            Some(Operation::Write(result)) => Poll::Ready(result),
            _ => Poll::Ready(Ok(())),
        }
    }

    /// Waits for the operation in flight and makes the file idle again:
    /// `None` if it was idle. A seek updates `pos`.
    fn poll_op(&mut self, cx: &mut Context<'_>) -> Poll<Option<Operation>> {
        let State::Busy(handle) = &mut self.state else {
            return Poll::Ready(None);
        };
        let (op, buf) = match ready!(Pin::new(handle).poll(cx)) {
            Ok(done) => done,
            // The blocking task did not return (a runtime shutting down):
            // its buffer is gone, and the file's cursor is where it left
            // it. Reported as the result of the operation.
            Err(err) => (Operation::Write(Err(join_error(err))), Buf::default()),
        };
        self.state = State::Idle(Some(buf));
        if let Operation::Seek(Ok(pos)) = op {
            self.pos = pos;
        }
        Poll::Ready(Some(op))
    }

    /// Keeps `err`, the error of a background write, for the next
    /// operation that reports such errors (the first one if several).
    fn keep_write_err(&mut self, err: io::Error) {
        self.last_write_err.get_or_insert(err);
    }

    /// Waits for the operation in flight; a write error is kept for later.
    async fn complete_inflight(&mut self) {
        if let Err(err) = poll_fn(|cx| self.poll_flush(cx)).await {
            self.keep_write_err(err);
        }
    }

    /// The idle file's buffer, taken out for a new operation.
    fn take_buf(&mut self) -> Buf {
        match &mut self.state {
            State::Idle(buf) => buf.take().unwrap_or_default(),
            State::Busy(_) => unreachable!("a new operation starts only on an idle file"),
        }
    }
}

impl File {
    /// Opens the file at `path` for reading (`std::fs::File::open` on the
    /// blocking pool).
    ///
    /// # Errors
    ///
    /// Those of `std::fs::File::open`: `NotFound`, `PermissionDenied`, ...
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let std = asyncify(move || std::fs::File::open(path)).await?;
        Ok(File::from_std(std))
    }

    /// Opens the file at `path` for writing, creating it or truncating it
    /// (`std::fs::File::create` on the blocking pool).
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref().to_owned();
        let std = asyncify(move || std::fs::File::create(path)).await?;
        Ok(File::from_std(std))
    }

    /// Creates a new file at `path` and opens it for reading and writing;
    /// an `AlreadyExists` error if there is one already.
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .await
    }

    /// New [`OpenOptions`], every option off.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
    }

    /// Wraps a `std` file.
    pub fn from_std(std: std::fs::File) -> File {
        File {
            std: Arc::new(std),
            inner: Mutex::new(Inner {
                state: State::Idle(Some(Buf::default())),
                last_write_err: None,
                pos: 0,
            }),
            max_buf_size: DEFAULT_MAX_BUF_SIZE,
            futures_seek: None,
        }
    }

    /// Waits for the operation in flight and flushes the file's data and
    /// metadata to the device (`std::fs::File::sync_all` on the blocking
    /// pool).
    pub async fn sync_all(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        let std = self.std.clone();
        asyncify(move || std.sync_all()).await
    }

    /// Waits for the operation in flight, then sets the timestamps in
    /// `times` (`std::fs::File::set_times` on the blocking pool), so that
    /// no write finishing later moves them.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use std::time::{Duration, SystemTime};
    /// use smp_rt::fs::{File, FileTimes};
    ///
    /// let path = std::env::temp_dir().join(format!("smp_rt-doc-set-times-{}", std::process::id()));
    /// let file = File::create(&path).await?;
    /// let then = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    /// file.set_times(FileTimes::new().set_modified(then)).await?;
    /// assert_eq!(file.metadata().await?.modified()?, then);
    /// smp_rt::fs::remove_file(&path).await?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn set_times(&self, times: super::FileTimes) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        let std = self.std.clone();
        let times = times.into_std();
        asyncify(move || std.set_times(times)).await
    }

    /// Sets the last modification time; see [`set_times`](File::set_times).
    pub async fn set_modified(&self, time: std::time::SystemTime) -> io::Result<()> {
        self.set_times(super::FileTimes::new().set_modified(time))
            .await
    }

    /// Like [`sync_all`](File::sync_all), but may leave metadata that
    /// reading the data does not need unsynced
    /// (`std::fs::File::sync_data`).
    pub async fn sync_data(&self) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        let std = self.std.clone();
        asyncify(move || std.sync_data()).await
    }

    /// Waits for the operation in flight, then truncates or extends the
    /// file to `size` bytes (extending with zeros). The file's position
    /// does not change.
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        let mut buf = inner.take_buf();
        let unread = buf.discard_read();
        let std = self.std.clone();
        // Busy while it runs: a cancelled `set_len` leaves the file
        // waiting for it like for any write.
        inner.state = State::Busy(smp_rt_executor::spawn_blocking(move || {
            let result = if unread != 0 {
                (&*std).seek(SeekFrom::Current(unread)).map(drop)
            } else {
                Ok(())
            };
            let result = result.and_then(|()| std.set_len(size));
            (Operation::Write(result), buf)
        }));
        poll_fn(|cx| inner.poll_flush(cx)).await
    }

    /// The file's metadata (`std::fs::File::metadata` on the blocking
    /// pool). It does not wait for a write in flight: flush first for a
    /// length that counts every write.
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// Waits for the operation in flight, then opens a second handle to
    /// the same file, which shares its cursor.
    pub async fn try_clone(&self) -> io::Result<File> {
        let mut inner = self.inner.lock().await;
        inner.complete_inflight().await;
        let std = self.std.clone();
        let clone = asyncify(move || std.try_clone()).await?;
        Ok(File::from_std(clone))
    }

    /// Waits for the operation in flight and returns the `std` file.
    ///
    /// Bytes read ahead are dropped, and the `std` file's cursor is past
    /// them.
    pub async fn into_std(mut self) -> std::fs::File {
        self.inner.get_mut().complete_inflight().await;
        Arc::try_unwrap(self.std)
            .expect("no blocking operation holds the file once the one in flight completed")
    }

    /// The `std` file, if no operation is in flight; else the file back.
    ///
    /// Bytes read ahead are dropped, as with
    /// [`into_std`](File::into_std).
    #[allow(clippy::result_large_err)] // tokio's signature: the file itself back
    pub fn try_into_std(mut self) -> Result<std::fs::File, File> {
        if matches!(self.inner.get_mut().state, State::Busy(_)) {
            return Err(self);
        }
        Arc::try_unwrap(self.std).map_err(|std| File {
            std,
            inner: self.inner,
            max_buf_size: self.max_buf_size,
            futures_seek: self.futures_seek,
        })
    }

    /// Sets the file's permissions (`std::fs::File::set_permissions` on
    /// the blocking pool).
    pub async fn set_permissions(&self, perm: Permissions) -> io::Result<()> {
        let std = self.std.clone();
        asyncify(move || std.set_permissions(perm)).await
    }

    /// Sets the most bytes one blocking read or write moves (2 MiB by
    /// default): a larger write is split, returning the number of bytes
    /// taken.
    ///
    /// # Panics
    ///
    /// If `max_buf_size` is 0: no byte could ever be read or written.
    #[track_caller]
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(
            max_buf_size > 0,
            "File::set_max_buf_size(0): the buffer must take at least one byte"
        );
        self.max_buf_size = max_buf_size;
    }

    /// The most bytes one blocking read or write moves.
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        loop {
            match &mut inner.state {
                State::Idle(buf) => {
                    let buf_ref = buf.get_or_insert_with(Buf::default);
                    if !buf_ref.is_empty() || dst.remaining() == 0 {
                        buf_ref.copy_to(dst);
                        return Poll::Ready(Ok(()));
                    }
                    let mut buf = inner.take_buf();
                    let max = dst.remaining().min(me.max_buf_size);
                    let std = me.std.clone();
                    inner.state = State::Busy(smp_rt_executor::spawn_blocking(move || {
                        let result = buf.read_from(&std, max);
                        (Operation::Read(result), buf)
                    }));
                }
                State::Busy(_) => match ready!(inner.poll_op(cx)) {
                    Some(Operation::Read(Ok(_))) => {
                        if let State::Idle(Some(buf)) = &mut inner.state {
                            buf.copy_to(dst);
                        }
                        return Poll::Ready(Ok(()));
                    }
                    Some(Operation::Read(Err(err))) => return Poll::Ready(Err(err)),
                    Some(Operation::Write(Err(err))) => inner.keep_write_err(err),
                    // A write or seek done: read from the new position.
                    _ => {}
                },
            }
        }
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        if let Some(err) = inner.last_write_err.take() {
            return Poll::Ready(Err(err));
        }
        loop {
            match &mut inner.state {
                State::Idle(_) => {
                    let mut buf = inner.take_buf();
                    let unread = buf.discard_read();
                    let n = buf.copy_from(src, me.max_buf_size);
                    let std = me.std.clone();
                    inner.state = State::Busy(smp_rt_executor::spawn_blocking(move || {
                        let result = if unread != 0 {
                            (&*std).seek(SeekFrom::Current(unread)).map(drop)
                        } else {
                            Ok(())
                        };
                        let result = result.and_then(|()| buf.write_to(&std));
                        (Operation::Write(result), buf)
                    }));
                    return Poll::Ready(Ok(n));
                }
                State::Busy(_) => {
                    if let Some(Operation::Write(Err(err))) = ready!(inner.poll_op(cx)) {
                        return Poll::Ready(Err(err));
                    }
                    // A read's bytes left in the buffer are given back by
                    // the write's seek.
                }
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        let inner = self.get_mut().inner.get_mut();
        if let Some(err) = inner.last_write_err.take() {
            return Poll::Ready(Err(err));
        }
        inner.poll_flush(cx)
    }

    /// Flushes; a file has nothing to shut down.
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, mut position: SeekFrom) -> io::Result<()> {
        let me = self.get_mut();
        let inner = me.inner.get_mut();
        if matches!(inner.state, State::Busy(_)) {
            return Err(io::Error::other(
                "File::start_seek: another operation is in flight; call poll_complete until it \
                 is ready before starting a seek (AsyncSeekExt::seek does)",
            ));
        }
        let mut buf = inner.take_buf();
        // Bytes read ahead were not seen by the reader: a relative seek is
        // from the reader's position.
        let unread = buf.discard_read();
        if let SeekFrom::Current(offset) = &mut position {
            *offset += unread;
        }
        let std = me.std.clone();
        inner.state = State::Busy(smp_rt_executor::spawn_blocking(move || {
            (Operation::Seek((&*std).seek(position)), buf)
        }));
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        ready!(poll_charge(cx));
        let inner = self.get_mut().inner.get_mut();
        loop {
            match ready!(inner.poll_op(cx)) {
                None => return Poll::Ready(Ok(inner.pos)),
                Some(Operation::Seek(result)) => return Poll::Ready(result),
                Some(Operation::Write(Err(err))) => inner.keep_write_err(err),
                Some(_) => {}
            }
        }
    }
}

/// The futures crate's traits, for its ecosystem: the same operations.
impl futures::io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut buf = ReadBuf::new(buf);
        ready!(AsyncRead::poll_read(self, cx, &mut buf))?;
        Poll::Ready(Ok(buf.filled().len()))
    }
}

impl futures::io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(self, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(self, cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_shutdown(self, cx)
    }
}

/// One call for the whole seek: it waits for the operation in flight,
/// starts the seek and waits for it. A seek to another position than the
/// one a dropped `poll_seek` started first lets that one complete.
impl futures::io::AsyncSeek for File {
    fn poll_seek(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        position: SeekFrom,
    ) -> Poll<io::Result<u64>> {
        let me = self.get_mut();
        if me.futures_seek != Some(position) {
            // Whatever is in flight (an earlier seek, a write whose error
            // is kept for later) completes first.
            let _ = ready!(AsyncSeek::poll_complete(Pin::new(&mut *me), cx));
            AsyncSeek::start_seek(Pin::new(&mut *me), position)?;
            me.futures_seek = Some(position);
        }
        let result = ready!(AsyncSeek::poll_complete(Pin::new(&mut *me), cx));
        me.futures_seek = None;
        Poll::Ready(result)
    }
}

#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // SAFETY: smp_rt's `ReadBuf` over the unfilled part only writes
        // to it (it never de-initializes a byte).
        let mut unfilled = ReadBuf::uninit(unsafe { buf.unfilled_mut() });
        ready!(AsyncRead::poll_read(self, cx, &mut unfilled))?;
        let n = unfilled.filled().len();
        // SAFETY: the read filled, so initialized, those `n` bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(self, cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(self, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_shutdown(self, cx)
    }
}

#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        AsyncSeek::start_seek(self, position)
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        AsyncSeek::poll_complete(self, cx)
    }
}

impl From<std::fs::File> for File {
    fn from(std: std::fs::File) -> File {
        File::from_std(std)
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("File").field("std", &self.std).finish()
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for File {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.std.as_raw_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::AsFd for File {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.std.as_fd()
    }
}

#[cfg(unix)]
impl std::os::fd::FromRawFd for File {
    /// # Safety
    ///
    /// `fd` must be an open file descriptor that the new `File` owns (as
    /// for `std::fs::File::from_raw_fd`).
    unsafe fn from_raw_fd(fd: std::os::fd::RawFd) -> File {
        // SAFETY: the caller's contract is `std`'s.
        File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
    }
}

//! Unix pipes and FIFOs (tokio's `net::unix::pipe`): [`pipe`] makes an
//! anonymous pipe, [`OpenOptions`] opens a FIFO file, and [`Sender`] and
//! [`Receiver`] are its two ends, registered with the reactor.
//!
//! Reads and writes try the pipe first and wait for the reactor only on
//! `WouldBlock`, charging one reduction per poll, as the sockets do. The
//! ends are non-blocking: a descriptor handed over with `from_owned_fd` or
//! `from_file` is switched to non-blocking mode (its open file description,
//! shared with any duplicate of it).

use std::fs::File;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::task::{Context, Poll};

use bytes::BufMut;

use crate::io::{Interest, Ready};
use crate::pipe_io::{IOV_MAX, impl_pipe_read, impl_pipe_write};
use crate::poll_evented::PollEvented;

/// An anonymous pipe: what is written to the [`Sender`] is read from the
/// [`Receiver`]. Both ends are close-on-exec.
///
/// # Errors
///
/// The OS error of `pipe2`, or of registering an end.
///
/// # Panics
///
/// Outside an smp_rt runtime with IO, as tokio's does.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{AsyncReadExt, AsyncWriteExt};
/// use smp_rt_io::net::unix::pipe;
///
/// let (mut tx, mut rx) = pipe::pipe()?;
/// tx.write_all(b"through the pipe").await?;
/// drop(tx);
/// let mut got = String::new();
/// rx.read_to_string(&mut got).await?;
/// assert_eq!(got, "through the pipe");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[track_caller]
pub fn pipe() -> io::Result<(Sender, Receiver)> {
    #[cfg(not(target_vendor = "apple"))]
    let (rx, tx) = rustix::pipe::pipe_with(
        rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK,
    )?;
    // No `pipe2` here: the flags are set right after.
    #[cfg(target_vendor = "apple")]
    let (rx, tx) = {
        let (rx, tx) = rustix::pipe::pipe()?;
        for end in [&rx, &tx] {
            rustix::io::fcntl_setfd(end, rustix::io::FdFlags::CLOEXEC)?;
            rustix::io::ioctl_fionbio(end, true)?;
        }
        (rx, tx)
    };
    Ok((
        Sender::from_owned_fd_unchecked(tx)?,
        Receiver::from_owned_fd_unchecked(rx)?,
    ))
}

/// How [`OpenOptions::open_receiver`] and
/// [`open_sender`](OpenOptions::open_sender) open a FIFO file (tokio's
/// `pipe::OpenOptions`).
#[derive(Clone, Debug, Default)]
pub struct OpenOptions {
    /// Open for reading and writing (Linux, Android).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    read_write: bool,
    /// Skip the check that the file is a FIFO.
    unchecked: bool,
}

impl OpenOptions {
    /// Options that open one end of a FIFO, checking that it is one.
    pub fn new() -> OpenOptions {
        OpenOptions::default()
    }

    /// Opens the FIFO for reading and writing (`O_RDWR`, default off). A
    /// sender opened so succeeds with no reader present, and a receiver
    /// never reads end-of-file, as it holds a writer itself.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn read_write(&mut self, value: bool) -> &mut OpenOptions {
        self.read_write = value;
        self
    }

    /// Skips the check that the opened file is a FIFO (default off): for
    /// character devices and the like that behave as pipes.
    pub fn unchecked(&mut self, value: bool) -> &mut OpenOptions {
        self.unchecked = value;
        self
    }

    /// Opens the reading end of the FIFO at `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `open`, or `InvalidInput` if the file is not a FIFO
    /// (unless [`unchecked`](Self::unchecked)).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn open_receiver<P: AsRef<Path>>(&self, path: P) -> io::Result<Receiver> {
        let file = self.open(path.as_ref(), false)?;
        Receiver::from_owned_fd_unchecked(file.into())
    }

    /// Opens the writing end of the FIFO at `path`.
    ///
    /// # Errors
    ///
    /// The OS error of `open` (`ENXIO` if no process has the FIFO open for
    /// reading, unless [`read_write`](Self::read_write)), or
    /// `InvalidInput` if the file is not a FIFO (unless
    /// [`unchecked`](Self::unchecked)).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn open_sender<P: AsRef<Path>>(&self, path: P) -> io::Result<Sender> {
        let file = self.open(path.as_ref(), true)?;
        Sender::from_owned_fd_unchecked(file.into())
    }

    /// Opens `path` non-blocking, for writing if `for_sender`, else for
    /// reading.
    fn open(&self, path: &Path, for_sender: bool) -> io::Result<File> {
        let mut options = std::fs::OpenOptions::new();
        options
            .read(!for_sender)
            .write(for_sender)
            .custom_flags(libc::O_NONBLOCK);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        if self.read_write {
            options.read(true).write(true);
        }
        let file = options.open(path)?;
        if !self.unchecked && !is_fifo(file.as_fd())? {
            return Err(not_a_pipe(path.display()));
        }
        Ok(file)
    }
}

/// The writing end of a pipe (tokio's `pipe::Sender`). It implements
/// smp_rt's [`AsyncWrite`](crate::io::AsyncWrite), the futures crate's, and tokio's with the
/// `tokio-io` feature. Dropping it closes the end: the reader reads
/// end-of-file once every writer is gone.
#[derive(Debug)]
pub struct Sender {
    io: PollEvented<OwnedFd>,
}

/// The reading end of a pipe (tokio's `pipe::Receiver`). It implements
/// smp_rt's [`AsyncRead`](crate::io::AsyncRead), the futures crate's, and tokio's with the
/// `tokio-io` feature.
#[derive(Debug)]
pub struct Receiver {
    io: PollEvented<OwnedFd>,
}

impl Sender {
    /// [`from_owned_fd`](Self::from_owned_fd) for a `File`.
    ///
    /// # Errors
    ///
    /// As `from_owned_fd`.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_file(file: File) -> io::Result<Sender> {
        Sender::from_owned_fd(file.into())
    }

    /// Takes the writing end of a pipe or FIFO, switching it to
    /// non-blocking mode.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `owned_fd` is not a pipe or not open for writing;
    /// the OS error of registering it.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_owned_fd(owned_fd: OwnedFd) -> io::Result<Sender> {
        check_end(owned_fd.as_fd(), true)?;
        Sender::from_owned_fd_unchecked(owned_fd)
    }

    /// [`from_owned_fd_unchecked`](Self::from_owned_fd_unchecked) for a
    /// `File`.
    ///
    /// # Errors
    ///
    /// The OS error of registering it.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_file_unchecked(file: File) -> io::Result<Sender> {
        Sender::from_owned_fd_unchecked(file.into())
    }

    /// Takes `owned_fd` as the writing end of a pipe without checking that
    /// it is one; it must already be in non-blocking mode, or writes block
    /// the worker.
    ///
    /// # Errors
    ///
    /// The OS error of registering it.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_owned_fd_unchecked(owned_fd: OwnedFd) -> io::Result<Sender> {
        Ok(Sender {
            io: PollEvented::new(owned_fd)?,
        })
    }

    /// Waits until the pipe is ready for `interest` (tokio's semantics:
    /// the readiness may be stale; try the operation).
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready_api(interest).await
    }

    /// Waits until the pipe may take a write.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready_api(Interest::WRITABLE).await.map(|_| ())
    }

    /// Polls for write readiness.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_api(Interest::WRITABLE, cx)
    }

    /// Writes without waiting; `WouldBlock` if the pipe is full (which
    /// clears the write readiness).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the write (`BrokenPipe` once every
    /// reader is gone).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.io
            .try_io_interest(Interest::WRITABLE, |fd| Ok(rustix::io::write(fd, buf)?))
    }

    /// [`try_write`](Self::try_write) of several buffers (one `writev`).
    ///
    /// # Errors
    ///
    /// As `try_write`.
    pub fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let bufs = &bufs[..bufs.len().min(IOV_MAX)];
        self.io
            .try_io_interest(Interest::WRITABLE, |fd| Ok(rustix::io::writev(fd, bufs)?))
    }

    /// Runs `f`, an operation of your own on the pipe, once, without
    /// waiting; a `WouldBlock` from it clears the write readiness.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `f`'s error.
    pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io_interest(Interest::WRITABLE, |_| f())
    }

    /// Deregisters the pipe and returns its descriptor in blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error of switching the mode.
    pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
        let fd = self.io.into_inner();
        rustix::io::ioctl_fionbio(&fd, false)?;
        Ok(fd)
    }

    /// Deregisters the pipe and returns its descriptor, still
    /// non-blocking.
    ///
    /// # Errors
    ///
    /// None here; `Result` as in tokio.
    pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
        Ok(self.io.into_inner())
    }
}

impl Receiver {
    /// [`from_owned_fd`](Self::from_owned_fd) for a `File`.
    ///
    /// # Errors
    ///
    /// As `from_owned_fd`.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_file(file: File) -> io::Result<Receiver> {
        Receiver::from_owned_fd(file.into())
    }

    /// Takes the reading end of a pipe or FIFO, switching it to
    /// non-blocking mode.
    ///
    /// # Errors
    ///
    /// `InvalidInput` if `owned_fd` is not a pipe or not open for reading;
    /// the OS error of registering it.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_owned_fd(owned_fd: OwnedFd) -> io::Result<Receiver> {
        check_end(owned_fd.as_fd(), false)?;
        Receiver::from_owned_fd_unchecked(owned_fd)
    }

    /// [`from_owned_fd_unchecked`](Self::from_owned_fd_unchecked) for a
    /// `File`.
    ///
    /// # Errors
    ///
    /// The OS error of registering it.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_file_unchecked(file: File) -> io::Result<Receiver> {
        Receiver::from_owned_fd_unchecked(file.into())
    }

    /// Takes `owned_fd` as the reading end of a pipe without checking that
    /// it is one; it must already be in non-blocking mode, or reads block
    /// the worker.
    ///
    /// # Errors
    ///
    /// The OS error of registering it.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_owned_fd_unchecked(owned_fd: OwnedFd) -> io::Result<Receiver> {
        Ok(Receiver {
            io: PollEvented::new(owned_fd)?,
        })
    }

    /// Waits until the pipe is ready for `interest` (tokio's semantics:
    /// the readiness may be stale; try the operation).
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready_api(interest).await
    }

    /// Waits until the pipe has data, or its writers are gone.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready_api(Interest::READABLE).await.map(|_| ())
    }

    /// Polls for read readiness.
    ///
    /// # Errors
    ///
    /// If the runtime has shut down.
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_api(Interest::READABLE, cx)
    }

    /// Reads without waiting; `WouldBlock` if the pipe is empty (which
    /// clears the read readiness), `Ok(0)` once every writer is gone.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the read.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io_interest(Interest::READABLE, |fd| {
            Ok(rustix::io::read(fd, &mut *buf)?)
        })
    }

    /// [`try_read`](Self::try_read) into several buffers (one `readv`).
    ///
    /// # Errors
    ///
    /// As `try_read`.
    pub fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        let len = bufs.len().min(IOV_MAX);
        let bufs = &mut bufs[..len];
        self.io
            .try_io_interest(Interest::READABLE, |fd| Ok(rustix::io::readv(fd, bufs)?))
    }

    /// [`try_read`](Self::try_read) into `buf`'s spare capacity, advancing
    /// it by the bytes read.
    ///
    /// # Errors
    ///
    /// As `try_read`.
    pub fn try_read_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.try_io_interest(Interest::READABLE, |fd| {
            let chunk = buf.chunk_mut();
            // SAFETY: `UninitSlice` is a `[MaybeUninit<u8>]` view of the
            // spare capacity; `read` only writes to it.
            let dst: &mut [MaybeUninit<u8>] = unsafe { chunk.as_uninit_slice_mut() };
            let (read, _) = rustix::io::read(fd, dst)?;
            let n = read.len();
            // SAFETY: the read initialized the first `n` bytes of the chunk.
            unsafe { buf.advance_mut(n) };
            Ok(n)
        })
    }

    /// Runs `f`, an operation of your own on the pipe, once, without
    /// waiting; a `WouldBlock` from it clears the read readiness.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `f`'s error.
    pub fn try_io<R>(&self, f: impl FnOnce() -> io::Result<R>) -> io::Result<R> {
        self.io.try_io_interest(Interest::READABLE, |_| f())
    }

    /// Deregisters the pipe and returns its descriptor in blocking mode.
    ///
    /// # Errors
    ///
    /// The OS error of switching the mode.
    pub fn into_blocking_fd(self) -> io::Result<OwnedFd> {
        let fd = self.io.into_inner();
        rustix::io::ioctl_fionbio(&fd, false)?;
        Ok(fd)
    }

    /// Deregisters the pipe and returns its descriptor, still
    /// non-blocking.
    ///
    /// # Errors
    ///
    /// None here; `Result` as in tokio.
    pub fn into_nonblocking_fd(self) -> io::Result<OwnedFd> {
        Ok(self.io.into_inner())
    }
}

impl_pipe_write!(Sender);
impl_pipe_read!(Receiver);

impl AsRawFd for Sender {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for Sender {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for Receiver {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for Receiver {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

/// The error for a descriptor that is not a pipe or FIFO.
fn not_a_pipe(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} is not a pipe or FIFO (OpenOptions::unchecked skips this check)"),
    )
}

/// `true` if `fd` is a pipe or FIFO.
fn is_fifo(fd: BorrowedFd<'_>) -> io::Result<bool> {
    let mut stat = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fstat` fills `stat` when it returns 0, and `fd` is open.
    let ret = unsafe { libc::fstat(fd.as_raw_fd(), stat.as_mut_ptr()) };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fstat` succeeded, so it initialized `stat`.
    let mode = unsafe { stat.assume_init() }.st_mode;
    Ok(mode & libc::S_IFMT == libc::S_IFIFO)
}

/// Checks that `fd` is a pipe open for writing (`for_sender`) or reading,
/// and switches it to non-blocking mode.
fn check_end(fd: BorrowedFd<'_>, for_sender: bool) -> io::Result<()> {
    if !is_fifo(fd)? {
        return Err(not_a_pipe(format_args!("descriptor {}", fd.as_raw_fd())));
    }
    // SAFETY: `F_GETFL` only reads the open file description's flags.
    let flags = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFL) };
    if flags < 0 {
        return Err(io::Error::last_os_error());
    }
    let mode = flags & libc::O_ACCMODE;
    let (allowed, end) = if for_sender {
        (mode == libc::O_WRONLY || mode == libc::O_RDWR, "writing")
    } else {
        (mode == libc::O_RDONLY || mode == libc::O_RDWR, "reading")
    };
    if !allowed {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "the pipe (descriptor {}) is not open for {end}: pass the other end",
                fd.as_raw_fd()
            ),
        ));
    }
    rustix::io::ioctl_fionbio(fd, true)?;
    Ok(())
}

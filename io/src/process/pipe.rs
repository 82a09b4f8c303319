//! [`ChildStdin`], [`ChildStdout`], [`ChildStderr`]: a child's standard
//! streams as non-blocking pipes registered with the reactor.
//!
//! A read or write tries the pipe first and waits for the reactor only on
//! `WouldBlock`, charging one reduction per poll, as the sockets do. The
//! non-blocking flag is set on the parent's end of each pipe only (its own
//! open file description): the child's end stays blocking.

use std::io;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll, ready};

use smp_rt_executor::task::poll_charge;

use crate::io::{AsyncRead, AsyncWrite, ReadBuf};
use crate::poll_evented::PollEvented;
use crate::reactor::Inner;

/// Buffers one `writev` takes at most (`IOV_MAX` on Linux and macOS).
const IOV_MAX: usize = 1024;

/// Puts the parent's end of a pipe in non-blocking mode and registers it.
#[track_caller]
fn register<T: AsFd>(
    pipe: T,
    reactor: Option<&std::sync::Arc<Inner>>,
) -> io::Result<PollEvented<T>> {
    rustix::io::ioctl_fionbio(&pipe, true)?;
    match reactor {
        Some(reactor) => PollEvented::with_reactor(reactor, pipe),
        None => PollEvented::new(pipe),
    }
}

/// Deregisters the pipe and puts it back in blocking mode, for a new
/// owner that expects a blocking descriptor (another child, `std`).
fn into_blocking_fd<T: AsFd + Into<OwnedFd>>(io: PollEvented<T>) -> io::Result<OwnedFd> {
    let fd: OwnedFd = io.into_inner().into();
    rustix::io::ioctl_fionbio(&fd, false)?;
    Ok(fd)
}

macro_rules! pipe_common {
    ($ty:ident, $std:ty, $what:literal) => {
        impl $ty {
            pub(super) fn new(pipe: $std, reactor: &std::sync::Arc<Inner>) -> io::Result<$ty> {
                Ok($ty {
                    io: register(pipe, Some(reactor))?,
                })
            }

            #[doc = concat!("Wraps `std`'s ", $what, " pipe, registering it with the current")]
            /// runtime's reactor (and making it non-blocking).
            ///
            /// # Errors
            ///
            /// If the descriptor cannot be made non-blocking or registered.
            ///
            /// # Panics
            ///
            /// Outside an smp_rt runtime with IO, as tokio's does.
            #[track_caller]
            pub fn from_std(inner: $std) -> io::Result<$ty> {
                Ok($ty {
                    io: register(inner, None)?,
                })
            }

            /// Deregisters the pipe and returns its descriptor, back in
            /// blocking mode.
            pub fn into_owned_fd(self) -> io::Result<OwnedFd> {
                into_blocking_fd(self.io)
            }
        }

        impl AsRawFd for $ty {
            fn as_raw_fd(&self) -> RawFd {
                self.io.get_ref().as_raw_fd()
            }
        }

        impl AsFd for $ty {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.io.get_ref().as_fd()
            }
        }

        /// The pipe as another child's standard stream (back in blocking
        /// mode), to connect two children.
        impl TryFrom<$ty> for Stdio {
            type Error = io::Error;

            fn try_from(pipe: $ty) -> io::Result<Stdio> {
                pipe.into_owned_fd().map(Stdio::from)
            }
        }
    };
}

/// The writing end of a child's standard input, from
/// [`Child::stdin`](super::Child::stdin).
///
/// Dropping it closes the pipe: the child reads end-of-file.
/// It implements smp_rt's [`AsyncWrite`] and the futures crate's.
#[derive(Debug)]
pub struct ChildStdin {
    io: PollEvented<std::process::ChildStdin>,
}

/// The reading end of a child's standard output, from
/// [`Child::stdout`](super::Child::stdout).
///
/// It implements smp_rt's [`AsyncRead`] and the futures crate's.
#[derive(Debug)]
pub struct ChildStdout {
    io: PollEvented<std::process::ChildStdout>,
}

/// The reading end of a child's standard error, from
/// [`Child::stderr`](super::Child::stderr).
///
/// It implements smp_rt's [`AsyncRead`] and the futures crate's.
#[derive(Debug)]
pub struct ChildStderr {
    io: PollEvented<std::process::ChildStderr>,
}

pipe_common!(ChildStdin, std::process::ChildStdin, "standard input");
pipe_common!(ChildStdout, std::process::ChildStdout, "standard output");
pipe_common!(ChildStderr, std::process::ChildStderr, "standard error");

/// One read of a registered pipe into memory that may be uninitialized.
fn poll_read_uninit<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: the read only writes to the unfilled part (it never
    // de-initializes a byte), and reports how many bytes at its start it
    // wrote.
    let unfilled: &mut [MaybeUninit<u8>] = unsafe { buf.unfilled_mut() };
    let n = ready!(io.poll_read_stream(cx, unfilled.len(), |pipe| {
        let (read, _) = rustix::io::read(pipe.as_fd(), &mut *unfilled)?;
        Ok(read.len())
    }))?;
    // SAFETY: those `n` bytes were just written by the read.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// One read of a registered pipe.
fn poll_read_init<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let len = buf.len();
    io.poll_read_stream(cx, len, |pipe| {
        Ok(rustix::io::read(pipe.as_fd(), &mut *buf)?)
    })
}

macro_rules! pipe_read {
    ($ty:ident) => {
        impl AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                poll_read_uninit(&self.io, cx, buf)
            }
        }

        impl futures::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                poll_read_init(&self.io, cx, buf)
            }
        }

        #[cfg(feature = "tokio-io")]
        impl tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> Poll<io::Result<()>> {
                // SAFETY: as in `poll_read_uninit`.
                let unfilled = unsafe { buf.unfilled_mut() };
                let n = ready!(self.io.poll_read_stream(cx, unfilled.len(), |pipe| {
                    let (read, _) = rustix::io::read(pipe.as_fd(), &mut *unfilled)?;
                    Ok(read.len())
                }))?;
                // SAFETY: those `n` bytes were just written by the read.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
        }
    };
}

pipe_read!(ChildStdout);
pipe_read!(ChildStderr);

impl ChildStdin {
    fn poll_write_pipe(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io.poll_write_stream(cx, buf.len(), |pipe| {
            Ok(rustix::io::write(pipe.as_fd(), buf)?)
        })
    }

    /// One `writev` of `bufs` (the first [`IOV_MAX`] of them: a shorter
    /// write, which callers of a vectored write handle).
    fn poll_write_vectored_pipe(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let bufs = &bufs[..bufs.len().min(IOV_MAX)];
        let len = bufs.iter().map(|buf| buf.len()).sum();
        self.io
            .poll_write_stream(cx, len, |pipe| Ok(rustix::io::writev(pipe.as_fd(), bufs)?))
    }

    /// Nothing is buffered here: ready at once (charging a reduction).
    fn poll_nothing(cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        Poll::Ready(Ok(()))
    }
}

/// Writes go straight to the pipe, so `flush` has nothing to do; as in
/// tokio, `shutdown` does not close the pipe either: drop the `ChildStdin`
/// for the child to read end-of-file.
impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_pipe(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_pipe(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ChildStdin::poll_nothing(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ChildStdin::poll_nothing(cx)
    }
}

impl futures::io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_pipe(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_pipe(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ChildStdin::poll_nothing(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ChildStdin::poll_nothing(cx)
    }
}

#[cfg(feature = "tokio-io")]
impl tokio::io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_pipe(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_pipe(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ChildStdin::poll_nothing(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ChildStdin::poll_nothing(cx)
    }
}

//! [`ChildStdin`], [`ChildStdout`], [`ChildStderr`]: a child's standard
//! streams as non-blocking pipes registered with the reactor.
//!
//! A read or write tries the pipe first and waits for the reactor only on
//! `WouldBlock`, charging one reduction per poll, as the sockets do. The
//! non-blocking flag is set on the parent's end of each pipe only (its own
//! open file description): the child's end stays blocking.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::process::Stdio;

use crate::pipe_io::{impl_pipe_read, impl_pipe_write};
use crate::poll_evented::PollEvented;
use crate::reactor::Inner;

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
/// It implements smp_rt's [`AsyncWrite`](crate::io::AsyncWrite), the
/// futures crate's, and tokio's with the `tokio-io` feature.
#[derive(Debug)]
pub struct ChildStdin {
    io: PollEvented<std::process::ChildStdin>,
}

/// The reading end of a child's standard output, from
/// [`Child::stdout`](super::Child::stdout).
///
/// It implements smp_rt's [`AsyncRead`](crate::io::AsyncRead), the
/// futures crate's, and tokio's with the `tokio-io` feature.
#[derive(Debug)]
pub struct ChildStdout {
    io: PollEvented<std::process::ChildStdout>,
}

/// The reading end of a child's standard error, from
/// [`Child::stderr`](super::Child::stderr).
///
/// It implements smp_rt's [`AsyncRead`](crate::io::AsyncRead), the
/// futures crate's, and tokio's with the `tokio-io` feature.
#[derive(Debug)]
pub struct ChildStderr {
    io: PollEvented<std::process::ChildStderr>,
}

pipe_common!(ChildStdin, std::process::ChildStdin, "standard input");
pipe_common!(ChildStdout, std::process::ChildStdout, "standard output");
pipe_common!(ChildStderr, std::process::ChildStderr, "standard error");

impl_pipe_read!(ChildStdout);
impl_pipe_read!(ChildStderr);

impl_pipe_write!(ChildStdin);

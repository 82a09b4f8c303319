//! The process's standard streams: [`stdin`], [`stdout`], [`stderr`].
//!
//! As in tokio, each operation runs `std`'s blocking call on the
//! runtime's blocking pool (the descriptors may be files, pipes or
//! terminals, and a terminal cannot be made non-blocking without changing
//! it for every process that shares it). A write is reported done once its
//! bytes are copied to the adapter's buffer; flush to wait until they have
//! reached the descriptor.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::blocking::Blocking;
use super::{AsyncRead, AsyncWrite, ReadBuf};

/// The process's standard input, read on the blocking pool. Created by
/// [`stdin`].
///
/// A read in flight cannot be cancelled: its blocking job waits for input
/// even if the read's future is dropped, and the runtime's shutdown waits
/// for it too (use `shutdown_timeout`, or read on a thread of your own, if
/// input may never come).
#[derive(Debug)]
pub struct Stdin {
    std: Blocking<io::Stdin>,
}

/// The standard input of the process (tokio's `io::stdin`).
///
/// Each call creates a handle of its own; reading from several at once
/// interleaves their input unpredictably.
///
/// # Examples
///
/// ```no_run
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncBufReadExt, BufReader};
///
/// let mut lines = BufReader::new(io::stdin()).lines();
/// while let Some(line) = lines.next_line().await? {
///     println!("got: {line}");
/// }
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub fn stdin() -> Stdin {
    Stdin {
        std: Blocking::new(io::stdin()),
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().std.poll_read(cx, buf)
    }
}

/// The process's standard output, written on the blocking pool. Created
/// by [`stdout`].
///
/// A write returns as soon as its bytes are in the handle's buffer; flush
/// (or shut down) to wait until they are written. Bytes of writes from
/// several handles at once may interleave.
#[derive(Debug)]
pub struct Stdout {
    std: Blocking<io::Stdout>,
}

/// The standard output of the process (tokio's `io::stdout`).
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncWriteExt};
///
/// let mut stdout = io::stdout();
/// stdout.write_all(b"hello\n").await?;
/// stdout.flush().await?; // written out now
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub fn stdout() -> Stdout {
    Stdout {
        std: Blocking::new(io::stdout()),
    }
}

/// The process's standard error, written on the blocking pool. Created by
/// [`stderr`]. Writes behave as [`Stdout`]'s.
#[derive(Debug)]
pub struct Stderr {
    std: Blocking<io::Stderr>,
}

/// The standard error of the process (tokio's `io::stderr`).
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{self, AsyncWriteExt};
///
/// let mut stderr = io::stderr();
/// stderr.write_all(b"warning\n").await?;
/// stderr.flush().await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub fn stderr() -> Stderr {
    Stderr {
        std: Blocking::new(io::stderr()),
    }
}

macro_rules! blocking_writer {
    ($($ty:ty),*) => {$(
        impl AsyncWrite for $ty {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.get_mut().std.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().std.poll_flush(cx)
            }

            /// Flushes: the standard streams stay open.
            fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.get_mut().std.poll_flush(cx)
            }
        }
    )*};
}

blocking_writer!(Stdout, Stderr);

#[cfg(unix)]
mod fd {
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

    use super::{Stderr, Stdin, Stdout};

    macro_rules! std_fd {
        ($($ty:ident => $std:path),*) => {$(
            impl AsRawFd for $ty {
                fn as_raw_fd(&self) -> RawFd {
                    $std().as_raw_fd()
                }
            }

            impl AsFd for $ty {
                fn as_fd(&self) -> BorrowedFd<'_> {
                    // SAFETY: the standard descriptors stay open for the
                    // life of the process, so they outlive `self`.
                    unsafe { BorrowedFd::borrow_raw(self.as_raw_fd()) }
                }
            }
        )*};
    }

    std_fd!(Stdin => std::io::stdin, Stdout => std::io::stdout, Stderr => std::io::stderr);
}

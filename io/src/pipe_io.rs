//! Reads and writes of a registered pipe end: the mechanism behind
//! `net::unix::pipe`'s `Sender` and `Receiver` and `process`'s child
//! pipes, and the macros that implement smp_rt's, the futures crate's and
//! (`tokio-io`) tokio's IO traits on a type whose field `io` is a
//! `PollEvented` pipe.
//!
//! A read or write tries the pipe first and waits for the reactor only on
//! `WouldBlock`, charging one reduction per poll, as the sockets do.
//! Writes go straight to the pipe, so flushing and shutting down have
//! nothing to do (dropping the end closes it).

use std::io::{self, IoSlice};
use std::mem::MaybeUninit;
use std::os::fd::AsFd;
use std::task::{Context, Poll, ready};

use smp_rt_executor::task::poll_charge;

use crate::poll_evented::PollEvented;

/// Buffers one `writev` takes at most (`IOV_MAX` on Linux and macOS).
pub(crate) const IOV_MAX: usize = 1024;

/// One read into `unfilled`, which may be uninitialized: the count of
/// bytes written at its start.
pub(crate) fn poll_read_uninit<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    unfilled: &mut [MaybeUninit<u8>],
) -> Poll<io::Result<usize>> {
    io.poll_read_stream(cx, unfilled.len(), |pipe| {
        let (read, _) = rustix::io::read(pipe.as_fd(), &mut *unfilled)?;
        Ok(read.len())
    })
}

/// One read into `buf`.
pub(crate) fn poll_read<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let len = buf.len();
    io.poll_read_stream(cx, len, |pipe| {
        Ok(rustix::io::read(pipe.as_fd(), &mut *buf)?)
    })
}

/// One `write` of `buf`.
pub(crate) fn poll_write<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    io.poll_write_stream(cx, buf.len(), |pipe| {
        Ok(rustix::io::write(pipe.as_fd(), buf)?)
    })
}

/// One `writev` of `bufs` (the first [`IOV_MAX`] of them: a shorter
/// write, which callers of a vectored write handle).
pub(crate) fn poll_write_vectored<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let bufs = &bufs[..bufs.len().min(IOV_MAX)];
    let len = bufs.iter().map(|buf| buf.len()).sum();
    io.poll_write_stream(cx, len, |pipe| Ok(rustix::io::writev(pipe.as_fd(), bufs)?))
}

/// A flush or shutdown of a pipe: nothing is buffered, so ready at once
/// (charging a reduction).
pub(crate) fn poll_nothing(cx: &mut Context<'_>) -> Poll<io::Result<()>> {
    ready!(poll_charge(cx));
    Poll::Ready(Ok(()))
}

/// Implements smp_rt's `AsyncRead`, the futures crate's and (`tokio-io`)
/// tokio's for `$ty`, whose `io` field is a `PollEvented` pipe.
macro_rules! impl_pipe_read {
    ($ty:ty) => {
        impl $crate::io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut $crate::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                // SAFETY: the read only writes to the unfilled part (it
                // never de-initializes a byte) and reports how many bytes
                // at its start it wrote.
                let unfilled = unsafe { buf.unfilled_mut() };
                let n =
                    ::std::task::ready!($crate::pipe_io::poll_read_uninit(&self.io, cx, unfilled))?;
                // SAFETY: those `n` bytes were just written by the read.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                ::std::task::Poll::Ready(Ok(()))
            }
        }

        impl ::futures::io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::pipe_io::poll_read(&self.io, cx, buf)
            }
        }

        #[cfg(feature = "tokio-io")]
        impl ::tokio::io::AsyncRead for $ty {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut ::tokio::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                // SAFETY: as in smp_rt's `AsyncRead` above.
                let unfilled = unsafe { buf.unfilled_mut() };
                let n =
                    ::std::task::ready!($crate::pipe_io::poll_read_uninit(&self.io, cx, unfilled))?;
                // SAFETY: those `n` bytes were just written by the read.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                ::std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

/// Implements smp_rt's `AsyncWrite`, the futures crate's and (`tokio-io`)
/// tokio's for `$ty`, whose `io` field is a `PollEvented` pipe.
macro_rules! impl_pipe_write {
    ($ty:ty) => {
        impl $crate::io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::pipe_io::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::pipe_io::poll_write_vectored(&self.io, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::pipe_io::poll_nothing(cx)
            }

            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::pipe_io::poll_nothing(cx)
            }
        }

        impl ::futures::io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::pipe_io::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::pipe_io::poll_write_vectored(&self.io, cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::pipe_io::poll_nothing(cx)
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::pipe_io::poll_nothing(cx)
            }
        }

        #[cfg(feature = "tokio-io")]
        impl ::tokio::io::AsyncWrite for $ty {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::pipe_io::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::pipe_io::poll_write_vectored(&self.io, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::pipe_io::poll_nothing(cx)
            }

            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::pipe_io::poll_nothing(cx)
            }
        }
    };
}

pub(crate) use {impl_pipe_read, impl_pipe_write};

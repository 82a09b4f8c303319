//! [`UnixSocket`]: a Unix socket configured before it becomes a stream, a
//! listener or a datagram socket.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::os::unix::net;
use std::path::Path;

use rustix::net::{AddressFamily, SocketFlags, SocketType};

use super::stream::unix_addr;
use super::{UnixDatagram, UnixListener, UnixStream};
use crate::net::connect::stream_socket;
use crate::poll_evented;

/// A Unix domain socket not yet made a [`UnixStream`], a [`UnixListener`]
/// or a [`UnixDatagram`] (tokio's `UnixSocket`): set options on it
/// (through [`AsFd`]) and bind it first. Dropping it closes it.
///
/// `UnixStream::connect(path)` is `UnixSocket::new_stream()?.connect(path)`,
/// `UnixListener::bind(path)` is `new_stream`, [`bind`](Self::bind) and
/// [`listen(1024)`](Self::listen), and `UnixDatagram::bind(path)` is
/// `new_datagram`, `bind` and [`datagram`](Self::datagram).
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::net::UnixSocket;
///
/// let path = std::env::temp_dir().join(format!("unix-socket-doc-{}", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let socket = UnixSocket::new_stream()?;
/// socket.bind(&path)?;
/// let listener = socket.listen(128)?;
///
/// let client = UnixSocket::new_stream()?.connect(&path).await?;
/// let (server, _) = listener.accept().await?;
/// assert_eq!(server.peer_addr()?.as_pathname(), None);
/// drop(client);
/// std::fs::remove_file(&path)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixSocket {
    fd: OwnedFd,
}

impl UnixSocket {
    /// A new Unix stream socket (`socket(2)` with `AF_UNIX` and
    /// `SOCK_STREAM`), non-blocking and close-on-exec.
    ///
    /// # Errors
    ///
    /// The OS error of `socket`.
    pub fn new_stream() -> io::Result<UnixSocket> {
        Ok(UnixSocket {
            fd: stream_socket(AddressFamily::UNIX)?,
        })
    }

    /// A new Unix datagram socket (`socket(2)` with `AF_UNIX` and
    /// `SOCK_DGRAM`), non-blocking and close-on-exec.
    ///
    /// # Errors
    ///
    /// The OS error of `socket`.
    pub fn new_datagram() -> io::Result<UnixSocket> {
        let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
        let fd = rustix::net::socket_with(AddressFamily::UNIX, SocketType::DGRAM, flags, None)?;
        Ok(UnixSocket { fd })
    }

    /// Binds the socket to the socket file `path`, which must not exist
    /// (on Linux, a path starting with a NUL byte names an abstract
    /// socket).
    ///
    /// # Errors
    ///
    /// The OS error of `bind` (`AddrInUse` if `path` exists).
    pub fn bind(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let addr = unix_addr(path.as_ref())?;
        Ok(rustix::net::bind(&self.fd, &addr)?)
    }

    /// Makes the stream socket a [`UnixListener`] with an accept queue of
    /// `backlog` connections (`listen(2)`; above `i32::MAX`, `i32::MAX`).
    ///
    /// # Errors
    ///
    /// An error on a socket from [`new_datagram`](Self::new_datagram), else
    /// the OS error of `listen` or of registering with the reactor.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn listen(self, backlog: u32) -> io::Result<UnixListener> {
        if self.socket_type()? == SocketType::DGRAM {
            return Err(io::Error::other(
                "listen cannot be called on a datagram socket (UnixSocket::new_datagram): \
                 make it with UnixSocket::new_stream",
            ));
        }
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        rustix::net::listen(&self.fd, backlog)?;
        UnixListener::from_std(net::UnixListener::from(self.fd))
    }

    /// Connects the stream socket to the socket at `path`, as
    /// [`UnixStream::connect`] does: waiting on the reactor, cancelled by
    /// dropping the future.
    ///
    /// # Errors
    ///
    /// An error on a socket from [`new_datagram`](Self::new_datagram), else
    /// the OS error (`NotFound`, `ConnectionRefused`, `WouldBlock`, ...).
    ///
    /// # Panics
    ///
    /// When polled outside an smp_rt runtime with IO, as tokio's does.
    pub async fn connect(self, path: impl AsRef<Path>) -> io::Result<UnixStream> {
        if self.socket_type()? == SocketType::DGRAM {
            return Err(io::Error::other(
                "connect cannot be called on a datagram socket (UnixSocket::new_datagram): \
                 make it with UnixSocket::new_stream, or call datagram() and then connect",
            ));
        }
        let (_, reactor) = poll_evented::current();
        let addr = unix_addr(path.as_ref())?;
        UnixStream::connect_socket(reactor.inner(), self.fd, &addr).await
    }

    /// Makes the datagram socket a [`UnixDatagram`].
    ///
    /// # Errors
    ///
    /// An error on a socket from [`new_stream`](Self::new_stream), else
    /// the error of registering with the reactor.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn datagram(self) -> io::Result<UnixDatagram> {
        if self.socket_type()? == SocketType::STREAM {
            return Err(io::Error::other(
                "datagram cannot be called on a stream socket (UnixSocket::new_stream): \
                 make it with UnixSocket::new_datagram",
            ));
        }
        UnixDatagram::from_std(net::UnixDatagram::from(self.fd))
    }

    /// The socket's type, asked of the OS: a socket made with
    /// [`FromRawFd`] may be of either.
    fn socket_type(&self) -> io::Result<SocketType> {
        Ok(rustix::net::sockopt::socket_type(&self.fd)?)
    }
}

impl AsRawFd for UnixSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for UnixSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl FromRawFd for UnixSocket {
    /// Takes ownership of `fd`, a Unix stream or datagram socket; it
    /// should be non-blocking (registered sockets are switched to it).
    ///
    /// # Safety
    ///
    /// As [`OwnedFd::from_raw_fd`]: `fd` is open and owned by nobody else.
    unsafe fn from_raw_fd(fd: RawFd) -> UnixSocket {
        UnixSocket {
            // SAFETY: the caller's guarantee, passed on.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        }
    }
}

impl IntoRawFd for UnixSocket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl fmt::Debug for UnixSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixSocket")
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}

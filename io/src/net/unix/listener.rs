use std::fmt;
use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{Context, Poll, ready};

use smp_rt_executor::task::poll_charge;

use crate::backoff::AcceptBackoff;
use crate::net::unix::UnixStream;
use crate::poll_evented::PollEvented;
use crate::reactor::Direction;

/// A Unix domain socket listening for connections.
///
/// Running out of descriptors in `accept` is handled as for
/// [`TcpListener`](crate::net::TcpListener): the error is returned and the
/// next `accept` waits a short back-off first.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{AsyncReadExt, AsyncWriteExt};
/// use smp_rt_io::net::{UnixListener, UnixStream};
///
/// let path = std::env::temp_dir().join(format!("smp_rt-doc-{}.sock", std::process::id()));
/// let _ = std::fs::remove_file(&path);
/// let listener = UnixListener::bind(&path)?;
/// let mut client = UnixStream::connect(&path).await?;
/// let (mut server, _) = listener.accept().await?;
/// client.write_all(b"hi").await?;
/// let mut buf = [0; 2];
/// server.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hi");
/// std::fs::remove_file(&path)?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixListener {
    /// The registered socket.
    io: PollEvented<net::UnixListener>,
    /// The back-off after running out of descriptors.
    backoff: AcceptBackoff,
}

impl UnixListener {
    /// Binds a listener to the socket file `path`, which must not exist.
    ///
    /// # Errors
    ///
    /// The OS error (`AddrInUse` if `path` exists).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::from_std(net::UnixListener::bind(path)?)
    }

    /// Binds a listener to `socket_addr`: a path or, on Linux and
    /// Android, an abstract name (`std`'s `UnixListener::bind_addr`).
    ///
    /// # Errors
    ///
    /// The OS error (`AddrInUse` if the path exists).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn bind_addr(socket_addr: &SocketAddr) -> io::Result<UnixListener> {
        UnixListener::from_std(net::UnixListener::bind_addr(socket_addr)?)
    }

    /// Wraps a listening `std` socket, registering it with the current
    /// runtime. The socket is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_std(listener: net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(listener)?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Deregisters the listener and returns it as a `std` listener, still
    /// in non-blocking mode.
    pub fn into_std(self) -> io::Result<net::UnixListener> {
        Ok(self.io.into_inner())
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`. The listener stays usable.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; charges one reduction.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        ready!(poll_charge(cx));
        ready!(self.backoff.poll(cx));
        let (stream, addr) = match ready!(self.io.poll_io(Direction::Read, cx, |l| l.accept())) {
            Ok(accepted) => accepted,
            Err(err) => {
                self.backoff.on_error(&err);
                return Poll::Ready(Err(err));
            }
        };
        stream.set_nonblocking(true)?;
        Poll::Ready(Ok((UnixStream::register(self.io.reactor(), stream)?, addr)))
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl TryFrom<net::UnixListener> for UnixListener {
    type Error = io::Error;

    /// [`UnixListener::from_std`].
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as `from_std` does.
    #[track_caller]
    fn try_from(socket: net::UnixListener) -> io::Result<UnixListener> {
        UnixListener::from_std(socket)
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.get_ref(), f)
    }
}

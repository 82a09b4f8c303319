use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use rustix::net::{AddressFamily, SocketAddrUnix};

use crate::net::connect::{connect, stream_socket};
use crate::net::stream::{impl_async_read, impl_async_write};
use crate::net::unix::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::poll_evented::{self, PollEvented};
use crate::reactor::Inner;

/// A connected Unix domain stream socket.
///
/// It implements smp_rt's `AsyncRead` and `AsyncWrite` (and the futures
/// crate's, and tokio's with the `tokio-io` feature); shutting it down as a
/// writer shuts its writing direction down. Reads and writes charge one reduction per poll.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{AsyncReadExt, AsyncWriteExt};
/// use smp_rt_io::net::UnixStream;
///
/// let (mut a, mut b) = UnixStream::pair()?;
/// a.write_all(b"ping").await?;
/// let mut buf = [0; 4];
/// b.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixStream {
    /// The registered socket.
    pub(crate) io: PollEvented<net::UnixStream>,
}

/// The address of the socket at `path`: a file, or (Linux) an abstract name
/// when the path starts with a NUL byte.
pub(crate) fn unix_addr(path: &Path) -> io::Result<SocketAddrUnix> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_os_str().as_bytes();
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if let Some(name) = bytes.strip_prefix(b"\0") {
        return Ok(SocketAddrUnix::new_abstract_name(name)?);
    }
    Ok(SocketAddrUnix::new(bytes)?)
}

/// `addr`, a `std` Unix socket address, as rustix's.
///
/// # Errors
///
/// `InvalidInput` for an unnamed address, which nothing can connect to.
pub(crate) fn unix_addr_of(addr: &SocketAddr) -> io::Result<SocketAddrUnix> {
    if let Some(path) = addr.as_pathname() {
        return unix_addr(path);
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        #[cfg(target_os = "android")]
        use std::os::android::net::SocketAddrExt;
        #[cfg(target_os = "linux")]
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = addr.as_abstract_name() {
            return Ok(SocketAddrUnix::new_abstract_name(name)?);
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "an unnamed Unix socket address names no socket to connect to: \
         use a path (SocketAddr::from_pathname) or an abstract name",
    ))
}

impl UnixStream {
    /// Connects to the socket file `path` (on Linux, a path starting with a
    /// NUL byte names an abstract socket).
    ///
    /// The connection waits on the runtime's reactor, never on a thread, and
    /// dropping the future cancels it. A listener whose accept queue is full
    /// refuses at once (`WouldBlock`, the OS's `EAGAIN`) rather than keep
    /// the caller waiting.
    ///
    /// # Errors
    ///
    /// The OS error (`NotFound`, `ConnectionRefused`, `WouldBlock`, ...).
    ///
    /// # Panics
    ///
    /// When polled outside an smp_rt runtime with IO, as tokio's does.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let (_, reactor) = poll_evented::current();
        let addr = unix_addr(path.as_ref())?;
        let socket = stream_socket(AddressFamily::UNIX)?;
        UnixStream::connect_socket(reactor.inner(), socket, &addr).await
    }

    /// Connects to the socket named by `socket_addr` (a path or, on Linux
    /// and Android, an abstract name), as [`connect`](Self::connect) does.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for an unnamed address, else as `connect`.
    ///
    /// # Panics
    ///
    /// When polled outside an smp_rt runtime with IO, as tokio's does.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt_io::net::{UnixListener, UnixStream};
    ///
    /// let path = std::env::temp_dir().join(format!("connect-addr-doc-{}", std::process::id()));
    /// let _ = std::fs::remove_file(&path);
    /// let listener = UnixListener::bind(&path)?;
    /// let addr = listener.local_addr()?;
    /// let _client = UnixStream::connect_addr(&addr).await?;
    /// let (_server, _) = listener.accept().await?;
    /// std::fs::remove_file(&path)?;
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn connect_addr(socket_addr: &SocketAddr) -> io::Result<UnixStream> {
        let (_, reactor) = poll_evented::current();
        let addr = unix_addr_of(socket_addr)?;
        let socket = stream_socket(AddressFamily::UNIX)?;
        UnixStream::connect_socket(reactor.inner(), socket, &addr).await
    }

    /// Connects `socket`, a non-blocking Unix stream socket, to `addr`,
    /// waiting on `reactor`.
    pub(crate) async fn connect_socket(
        reactor: &Arc<Inner>,
        socket: std::os::fd::OwnedFd,
        addr: &SocketAddrUnix,
    ) -> io::Result<UnixStream> {
        let io = connect(reactor, net::UnixStream::from(socket), addr).await?;
        Ok(UnixStream { io })
    }

    /// Two connected sockets.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream::from_std(a)?, UnixStream::from_std(b)?))
    }

    /// Registers a connected, non-blocking socket with `reactor`.
    pub(crate) fn register(
        reactor: &Arc<Inner>,
        stream: net::UnixStream,
    ) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::with_reactor(reactor, stream)?,
        })
    }

    /// Wraps a connected `std` socket, registering it with the current
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
    pub fn from_std(stream: net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        Ok(UnixStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Deregisters the socket and returns it as a `std` socket, still in
    /// non-blocking mode.
    pub fn into_std(self) -> io::Result<net::UnixStream> {
        Ok(self.io.into_inner())
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The credentials of the peer process (Linux and Android; an
    /// `Unsupported` error elsewhere).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt_io::net::UnixStream;
    ///
    /// let (a, _b) = UnixStream::pair()?;
    /// let cred = a.peer_cred()?;
    /// assert_eq!(cred.pid(), Some(std::process::id() as i32));
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub fn peer_cred(&self) -> io::Result<super::UCred> {
        super::ucred::peer_cred(std::os::fd::AsFd::as_fd(self.io.get_ref()))
    }

    crate::net::stream::stream_readiness!(
        "use smp_rt_io::net::UnixStream;\nlet (a, b) = UnixStream::pair()?;"
    );

    /// Splits the socket into a read half and a write half that borrow it.
    /// The write half's `shutdown` shuts down writing.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the socket into owned halves that can move to different
    /// tasks; [`OwnedReadHalf::reunite`] puts them back together. Dropping
    /// the write half shuts down writing.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

impl_async_read!(UnixStream; |this| this.io);
impl_async_write!(UnixStream; |this| this.io);

impl TryFrom<net::UnixStream> for UnixStream {
    type Error = io::Error;

    /// [`UnixStream::from_std`].
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as `from_std` does.
    #[track_caller]
    fn try_from(socket: net::UnixStream) -> io::Result<UnixStream> {
        UnixStream::from_std(socket)
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.get_ref(), f)
    }
}

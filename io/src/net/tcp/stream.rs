use std::fmt;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use crate::io::ReadBuf;
use crate::net::addr::{ToSocketAddrs, resolve};
use crate::net::stream::{impl_async_read, impl_async_write};
use crate::net::tcp::TcpSocket;
use crate::net::tcp::split::{self, OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::poll_evented::{self, PollEvented};
use crate::reactor::{Direction, Inner};

/// A TCP connection.
///
/// It implements smp_rt's `AsyncRead` and `AsyncWrite` (and the futures
/// crate's, and tokio's with the `tokio-io` feature). Shutting it down as a
/// writer (`AsyncWriteExt::shutdown`) shuts its writing direction down: the
/// peer reads end-of-file, and this side can still read. Dropping it closes
/// the socket.
///
/// Reads and writes charge one reduction per poll.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::io::{AsyncReadExt, AsyncWriteExt};
/// use smp_rt_io::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let server = smp_rt::spawn(async move {
///     let (mut stream, _) = listener.accept().await?;
///     let mut buf = [0; 5];
///     stream.read_exact(&mut buf).await?;
///     stream.write_all(&buf).await?;
///     std::io::Result::Ok(())
/// });
///
/// let mut stream = TcpStream::connect(addr).await?;
/// stream.write_all(b"hello").await?;
/// let mut buf = [0; 5];
/// stream.read_exact(&mut buf).await?;
/// assert_eq!(&buf, b"hello");
/// server.await.unwrap()?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpStream {
    /// The registered socket.
    pub(crate) io: PollEvented<net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each address it resolves to in
    /// turn until one accepts.
    ///
    /// The connection waits on the runtime's reactor, never on a thread
    /// (only a host name lookup runs on the blocking pool); dropping the
    /// future cancels the attempt and closes the socket. To set options
    /// before connecting, use [`TcpSocket`](super::TcpSocket).
    ///
    /// # Errors
    ///
    /// The error of the last address tried (for example `ConnectionRefused`),
    /// or a lookup error.
    ///
    /// # Panics
    ///
    /// When polled outside an smp_rt runtime with IO, as tokio's does.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        poll_evented::current();
        let mut last_err = None;
        for addr in resolve(addr).await? {
            match TcpSocket::new_for_addr(addr)?.connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "the address to connect to resolved to no address",
            )
        }))
    }

    /// Registers a connected, non-blocking socket with `reactor`.
    pub(crate) fn register(
        reactor: &std::sync::Arc<Inner>,
        stream: net::TcpStream,
    ) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollEvented::with_reactor(reactor, stream)?,
        })
    }

    /// Wraps a connected `std` stream, registering it with the current
    /// runtime. The stream is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        Ok(TcpStream {
            io: PollEvented::new(stream)?,
        })
    }

    /// Deregisters the stream and returns it as a `std` stream, still in
    /// non-blocking mode.
    pub fn into_std(self) -> io::Result<net::TcpStream> {
        Ok(self.io.into_inner())
    }

    /// The address of this end.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the peer.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm when `true`).
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// How long closing the socket waits for unsent data (`SO_LINGER`);
    /// `None` when it does not wait.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        Ok(rustix::net::sockopt::socket_linger(self)?)
    }

    /// Sets `SO_LINGER`. With a duration, closing the socket (dropping the
    /// stream) blocks the thread until the data is sent or the time is up:
    /// a worker thread, here. tokio deprecates it for that reason; prefer
    /// [`set_zero_linger`](Self::set_zero_linger) to reset on close.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    #[deprecated = "`SO_LINGER` causes the socket to block the thread on drop"]
    pub fn set_linger(&self, dur: Option<Duration>) -> io::Result<()> {
        Ok(rustix::net::sockopt::set_socket_linger(self, dur)?)
    }

    /// Sets a linger of zero: closing the socket discards unsent data and
    /// resets the connection (`RST`) instead of the orderly `FIN`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        Ok(rustix::net::sockopt::set_socket_linger(
            self,
            Some(Duration::ZERO),
        )?)
    }

    /// Whether `TCP_QUICKACK` is set: acknowledgements are sent at once
    /// rather than delayed (Linux).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn quickack(&self) -> io::Result<bool> {
        Ok(rustix::net::sockopt::tcp_quickack(self)?)
    }

    /// Sets `TCP_QUICKACK` (Linux). The kernel may clear it again on its
    /// own; set it after each read that should be acknowledged at once.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn set_quickack(&self, quickack: bool) -> io::Result<()> {
        Ok(rustix::net::sockopt::set_tcp_quickack(self, quickack)?)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Sets the IP time-to-live of outgoing packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    crate::net::stream::stream_readiness!(
        "use smp_rt_io::net::{TcpListener, TcpStream};\n\
         let listener = TcpListener::bind(\"127.0.0.1:0\").await?;\n\
         let a = TcpStream::connect(listener.local_addr()?).await?;\n\
         let (b, _) = listener.accept().await?;"
    );

    /// Reads into `buf` without removing the data from the socket's
    /// receive queue: the next read returns the same bytes. Waits until
    /// there is data (or the end of the stream, which peeks 0 bytes).
    /// Charges one reduction per poll.
    ///
    /// # Errors
    ///
    /// The OS error of the `recv`.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt_io::io::{AsyncReadExt, AsyncWriteExt};
    /// use smp_rt_io::net::{TcpListener, TcpStream};
    ///
    /// let listener = TcpListener::bind("127.0.0.1:0").await?;
    /// let mut a = TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut b, _) = listener.accept().await?;
    /// a.write_all(b"hello").await?;
    /// let mut buf = [0; 5];
    /// let n = b.peek(&mut buf).await?;
    /// assert_eq!(&buf[..n], &b"hello"[..n]);
    /// b.read_exact(&mut buf).await?; // still there
    /// assert_eq!(&buf, b"hello");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.peek(buf)).await
    }

    /// Polls to peek into the unfilled part of `buf` (see
    /// [`peek`](Self::peek)), filling it by the bytes peeked, which are
    /// returned. Charges one reduction.
    ///
    /// # Errors
    ///
    /// The OS error of the `recv`.
    pub fn poll_peek(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<usize>> {
        let n = ready!(self.io.poll_io_charged(Direction::Read, cx, |s| {
            // SAFETY: `recv` only writes to the unfilled memory, and
            // returns how many bytes at its start it wrote.
            let dst = unsafe { buf.unfilled_mut() };
            let ((read, _), _) = rustix::net::recv(s, dst, rustix::net::RecvFlags::PEEK)?;
            Ok(read.len())
        }))?;
        // SAFETY: the `recv` wrote those `n` bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(n))
    }

    /// Splits the stream into a read half and a write half that borrow it,
    /// for reading and writing from two places of one task (or with
    /// `join!`). The write half's `shutdown` shuts down writing.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into owned halves that can move to different
    /// tasks; [`OwnedReadHalf::reunite`] puts them back together. Dropping
    /// the write half shuts down writing.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

impl_async_read!(TcpStream; |this| this.io);
impl_async_write!(TcpStream; |this| this.io);

impl TryFrom<net::TcpStream> for TcpStream {
    type Error = io::Error;

    /// [`TcpStream::from_std`].
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as `from_std` does.
    #[track_caller]
    fn try_from(socket: net::TcpStream) -> io::Result<TcpStream> {
        TcpStream::from_std(socket)
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.get_ref(), f)
    }
}

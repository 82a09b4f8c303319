//! [`TcpSocket`]: a TCP socket not yet connected or listening, to set
//! options on first (tokio's `TcpSocket`).

use std::fmt;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, IntoRawFd, OwnedFd, RawFd};
use std::time::Duration;

use rustix::net::{AddressFamily, sockopt};

use super::{TcpListener, TcpStream};
use crate::net::connect::{connect, stream_socket};
use crate::poll_evented;

/// A TCP socket that is neither connected nor listening yet: set its
/// options, then [`connect`](TcpSocket::connect) or
/// [`listen`](TcpSocket::listen).
///
/// The socket is non-blocking from the start; `connect` waits on the
/// runtime's reactor, never on a thread, and dropping its future cancels
/// the attempt.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::net::TcpSocket;
///
/// let socket = TcpSocket::new_v4()?;
/// socket.set_reuseaddr(true)?;
/// socket.bind("127.0.0.1:0".parse().unwrap())?;
/// let listener = socket.listen(128)?;
/// let addr = listener.local_addr()?;
///
/// let client = TcpSocket::new_v4()?;
/// client.set_nodelay(true)?;
/// let stream = client.connect(addr).await?;
/// assert_eq!(stream.peer_addr()?, addr);
/// assert!(stream.nodelay()?);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpSocket {
    fd: OwnedFd,
}

impl TcpSocket {
    /// A new IPv4 socket.
    ///
    /// # Errors
    ///
    /// The OS error of `socket`.
    pub fn new_v4() -> io::Result<TcpSocket> {
        TcpSocket::new(AddressFamily::INET)
    }

    /// A new IPv6 socket.
    ///
    /// # Errors
    ///
    /// The OS error of `socket`.
    pub fn new_v6() -> io::Result<TcpSocket> {
        TcpSocket::new(AddressFamily::INET6)
    }

    /// A new socket of the family of `addr`.
    pub(crate) fn new_for_addr(addr: SocketAddr) -> io::Result<TcpSocket> {
        match addr {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
    }

    fn new(family: AddressFamily) -> io::Result<TcpSocket> {
        Ok(TcpSocket {
            fd: stream_socket(family)?,
        })
    }

    /// Sets `SO_KEEPALIVE`.
    pub fn set_keepalive(&self, keepalive: bool) -> io::Result<()> {
        Ok(sockopt::set_socket_keepalive(&self.fd, keepalive)?)
    }

    /// Whether `SO_KEEPALIVE` is set.
    pub fn keepalive(&self) -> io::Result<bool> {
        Ok(sockopt::socket_keepalive(&self.fd)?)
    }

    /// Sets `SO_REUSEADDR`: bind to an address still in `TIME_WAIT`.
    pub fn set_reuseaddr(&self, reuseaddr: bool) -> io::Result<()> {
        Ok(sockopt::set_socket_reuseaddr(&self.fd, reuseaddr)?)
    }

    /// Whether `SO_REUSEADDR` is set.
    pub fn reuseaddr(&self) -> io::Result<bool> {
        Ok(sockopt::socket_reuseaddr(&self.fd)?)
    }

    /// Sets `SO_REUSEPORT`: several sockets bound to one address.
    pub fn set_reuseport(&self, reuseport: bool) -> io::Result<()> {
        Ok(sockopt::set_socket_reuseport(&self.fd, reuseport)?)
    }

    /// Whether `SO_REUSEPORT` is set.
    pub fn reuseport(&self) -> io::Result<bool> {
        Ok(sockopt::socket_reuseport(&self.fd)?)
    }

    /// Sets the size of the send buffer (`SO_SNDBUF`; the kernel may
    /// double it, and clamps it to its limits).
    pub fn set_send_buffer_size(&self, size: u32) -> io::Result<()> {
        Ok(sockopt::set_socket_send_buffer_size(
            &self.fd,
            size as usize,
        )?)
    }

    /// The size of the send buffer.
    pub fn send_buffer_size(&self) -> io::Result<u32> {
        Ok(u32::try_from(sockopt::socket_send_buffer_size(&self.fd)?).unwrap_or(u32::MAX))
    }

    /// Sets the size of the receive buffer (`SO_RCVBUF`; as for the send
    /// buffer).
    pub fn set_recv_buffer_size(&self, size: u32) -> io::Result<()> {
        Ok(sockopt::set_socket_recv_buffer_size(
            &self.fd,
            size as usize,
        )?)
    }

    /// The size of the receive buffer.
    pub fn recv_buffer_size(&self) -> io::Result<u32> {
        Ok(u32::try_from(sockopt::socket_recv_buffer_size(&self.fd)?).unwrap_or(u32::MAX))
    }

    /// Sets `SO_LINGER`: how long closing waits for unsent data (`None`:
    /// not at all, in the background).
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        Ok(sockopt::set_socket_linger(&self.fd, linger)?)
    }

    /// The `SO_LINGER` setting.
    pub fn linger(&self) -> io::Result<Option<Duration>> {
        Ok(sockopt::socket_linger(&self.fd)?)
    }

    /// Sets `SO_LINGER` to zero: closing resets the connection at once
    /// instead of sending what is left.
    pub fn set_zero_linger(&self) -> io::Result<()> {
        Ok(sockopt::set_socket_linger(&self.fd, Some(Duration::ZERO))?)
    }

    /// The IPv4 type-of-service field of outgoing packets (`IP_TOS`).
    pub fn tos_v4(&self) -> io::Result<u32> {
        Ok(sockopt::ip_tos(&self.fd)?.into())
    }

    /// Sets `IP_TOS`; `InvalidInput` for a value above 255.
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        crate::net::set_ip_tos(std::os::fd::AsFd::as_fd(&self.fd), tos)
    }

    /// tokio's older name of [`tos_v4`](Self::tos_v4).
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// tokio's older name of [`set_tos_v4`](Self::set_tos_v4).
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    cfg_ipv6_tclass! {
        /// The traffic class of outgoing IPv6 packets (`IPV6_TCLASS`).
        ///
        /// # Errors
        ///
        /// The OS error of `getsockopt` (an IPv4 socket has no such option).
        pub fn tclass_v6(&self) -> io::Result<u32> {
            Ok(rustix::net::sockopt::ipv6_tclass(&self.fd)?)
        }

        /// Sets `IPV6_TCLASS`, the traffic class of outgoing IPv6 packets.
        ///
        /// # Errors
        ///
        /// The OS error of `setsockopt` (`InvalidInput` above 255; an IPv4
        /// socket has no such option).
        pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
            Ok(rustix::net::sockopt::set_ipv6_tclass(&self.fd, tclass)?)
        }
    }

    /// The name of the interface the socket is bound to with
    /// [`bind_device`](Self::bind_device) (`SO_BINDTODEVICE`), `None` if
    /// it is bound to none.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub fn device(&self) -> io::Result<Option<Vec<u8>>> {
        crate::net::device::device(std::os::fd::AsFd::as_fd(&self.fd))
    }

    /// Binds the socket to the network interface named `interface`
    /// (`SO_BINDTODEVICE`): it then sends and receives through that
    /// interface only. `None` or an empty name removes the binding. Only
    /// some sockets take it (IPv4 and IPv6 ones), and binding may need
    /// the `CAP_NET_RAW` capability.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a name longer than 15 bytes (the kernel would
    /// cut it), else the OS error of `setsockopt`: `ENODEV` for an unknown
    /// interface, `PermissionDenied` without the capability.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # smp_rt::block_on(async {
    /// use smp_rt_io::net::TcpSocket;
    ///
    /// let socket = TcpSocket::new_v4()?;
    /// assert_eq!(socket.device()?, None);
    /// if socket.bind_device(Some(b"lo")).is_ok() {
    ///     assert_eq!(socket.device()?.as_deref(), Some(&b"lo"[..]));
    /// }
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        crate::net::device::bind_device(std::os::fd::AsFd::as_fd(&self.fd), interface)
    }

    /// Sets `TCP_NODELAY` (no Nagle's algorithm) for the connection to come.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        Ok(sockopt::set_tcp_nodelay(&self.fd, nodelay)?)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        Ok(sockopt::tcp_nodelay(&self.fd)?)
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match rustix::net::getsockname(&self.fd)?.try_into() {
            Ok(addr) => Ok(addr),
            Err(_) => Err(io::Error::other("the socket has no IP address")),
        }
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        Ok(sockopt::socket_error(&self.fd)?.err().map(io::Error::from))
    }

    /// Binds the socket to `addr`.
    ///
    /// # Errors
    ///
    /// The OS error of `bind` (for example `AddrInUse`).
    #[track_caller]
    pub fn bind(&self, addr: SocketAddr) -> io::Result<()> {
        Ok(rustix::net::bind(&self.fd, &addr)?)
    }

    /// Connects to `addr`, waiting on the runtime's reactor.
    ///
    /// # Errors
    ///
    /// The OS error of the connection (`ConnectionRefused`, `TimedOut`,
    /// ...).
    ///
    /// # Panics
    ///
    /// When polled outside an smp_rt runtime with IO, as tokio's does.
    pub async fn connect(self, addr: SocketAddr) -> io::Result<TcpStream> {
        let (_, reactor) = poll_evented::current();
        let stream = net::TcpStream::from(self.fd);
        let io = connect(reactor.inner(), stream, &addr).await?;
        Ok(TcpStream { io })
    }

    /// Listens for connections, with an accept queue of `backlog`.
    ///
    /// # Errors
    ///
    /// The OS error of `listen`.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn listen(self, backlog: u32) -> io::Result<TcpListener> {
        let backlog = i32::try_from(backlog).unwrap_or(i32::MAX);
        rustix::net::listen(&self.fd, backlog)?;
        TcpListener::from_std(net::TcpListener::from(self.fd))
    }

    /// A socket from a `std` stream (its options can be changed, and a
    /// `std` stream not yet connected has none of its own).
    pub fn from_std_stream(stream: net::TcpStream) -> TcpSocket {
        TcpSocket {
            fd: OwnedFd::from(stream),
        }
    }
}

impl AsRawFd for TcpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for TcpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl FromRawFd for TcpSocket {
    /// # Safety
    ///
    /// `fd` is an open TCP socket that the new value owns.
    unsafe fn from_raw_fd(fd: RawFd) -> TcpSocket {
        TcpSocket {
            // SAFETY: the caller's contract.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        }
    }
}

impl IntoRawFd for TcpSocket {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl fmt::Debug for TcpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpSocket").field("fd", &self.fd).finish()
    }
}

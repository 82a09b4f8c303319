//! [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::{self, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll, ready};

use bytes::BufMut;
use rustix::net::RecvFlags;

use crate::io::{Interest, ReadBuf, Ready};
use crate::net::addr::{ToSocketAddrs, resolve, resolve_first};
use crate::poll_evented::PollEvented;
use crate::reactor::Direction;

/// A UDP socket.
///
/// Every method takes `&self`: share the socket (in an `Arc`) to send from
/// one task and receive in another. Each send or receive charges one
/// reduction per poll.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::net::UdpSocket;
///
/// let a = UdpSocket::bind("127.0.0.1:0").await?;
/// let b = UdpSocket::bind("127.0.0.1:0").await?;
/// a.send_to(b"ping", b.local_addr()?).await?;
/// let mut buf = [0; 16];
/// let (n, from) = b.recv_from(&mut buf).await?;
/// assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UdpSocket {
    /// The registered socket.
    io: PollEvented<net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr`, trying each address it resolves to in
    /// turn until one binds.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, or a lookup error.
    ///
    /// # Panics
    ///
    /// When polled outside an smp_rt runtime with IO, as tokio's does.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let addrs = resolve(addr).await?;
        let mut last_err = None;
        for addr in addrs {
            match net::UdpSocket::bind(addr) {
                Ok(socket) => return UdpSocket::from_std(socket),
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")
        }))
    }

    /// Wraps a `std` socket, registering it with the current runtime. The
    /// socket is switched to non-blocking mode.
    ///
    /// # Errors
    ///
    /// If the socket cannot be registered.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollEvented::new(socket)?,
        })
    }

    /// Deregisters the socket and returns it as a `std` socket, still in
    /// non-blocking mode.
    pub fn into_std(self) -> io::Result<net::UdpSocket> {
        Ok(self.io.into_inner())
    }

    /// Sets the default peer of [`send`](UdpSocket::send) and the only
    /// source [`recv`](UdpSocket::recv) accepts: the first address `addr`
    /// resolves to that connects.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, or a lookup error.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        let addrs = resolve(addr).await?;
        let mut last_err = None;
        for addr in addrs {
            match self.io.get_ref().connect(addr) {
                Ok(()) => return Ok(()),
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        }))
    }

    /// The address the socket is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address the socket is connected to.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Waits until the socket is ready for any part of `interest`, and
    /// returns what it is ready for; used with the `try_*` methods (see
    /// [`TcpStream::ready`](crate::net::TcpStream::ready): the same rules).
    /// A new socket with no datagram queued is not readable.
    ///
    /// Cancel safe. Charges one reduction per poll.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down, or `interest`
    /// is `Interest::PRIORITY` on a build with the portable poller (epoll,
    /// Linux's default, reports it).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt_io::io::Interest;
    /// use smp_rt_io::net::UdpSocket;
    ///
    /// let a = UdpSocket::bind("127.0.0.1:0").await?;
    /// let b = UdpSocket::bind("127.0.0.1:0").await?;
    /// a.connect(b.local_addr()?).await?;
    /// a.try_send(b"ping")?;
    /// let mut buf = [0; 16];
    /// let n = loop {
    ///     b.ready(Interest::READABLE).await?;
    ///     match b.try_recv(&mut buf) {
    ///         Ok(n) => break n,
    ///         Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///         Err(e) => return Err(e),
    ///     }
    /// };
    /// assert_eq!(&buf[..n], b"ping");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready_api(interest).await
    }

    /// Waits until a datagram is queued (see [`ready`](Self::ready)).
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready_api(Interest::READABLE).await.map(|_| ())
    }

    /// Waits until the socket can send (see [`ready`](Self::ready)).
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready_api(Interest::WRITABLE).await.map(|_| ())
    }

    /// Polls for a queued datagram; on `Pending`, `cx`'s waker is woken
    /// when that may have changed. Charges one reduction.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_api(Interest::READABLE, cx)
    }

    /// Polls for room to send; on `Pending`, `cx`'s waker is woken when
    /// that may have changed. Charges one reduction.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down.
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_api(Interest::WRITABLE, cx)
    }

    /// Sends `buf` to the connected peer; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// The OS error of the send (`NotConnected` without a peer).
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Direction::Write, |s| s.send(buf)).await
    }

    /// Polls to send `buf` to the connected peer. Charges one reduction.
    ///
    /// # Errors
    ///
    /// The OS error of the send.
    pub fn poll_send(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io_charged(Direction::Write, cx, |s| s.send(buf))
    }

    /// Sends to the connected peer without waiting; `WouldBlock` if the
    /// send buffer is full (which clears the write readiness).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the send.
    pub fn try_send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.try_io_interest(Interest::WRITABLE, |s| s.send(buf))
    }

    /// Receives one datagram from the connected peer into `buf`; returns
    /// its length (a datagram longer than `buf` is cut).
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Polls to receive one datagram from the connected peer into the
    /// unfilled part of `buf`, which it then fills. Charges one reduction.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.poll_recv_with(cx, buf, RecvFlags::empty())
    }

    /// Receives from the connected peer without waiting; `WouldBlock` if
    /// no datagram is queued (which clears the read readiness).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io_interest(Interest::READABLE, |s| s.recv(buf))
    }

    /// [`try_recv`](Self::try_recv) into `buf`'s spare capacity, advancing
    /// it by the datagram's length.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .try_io_interest(Interest::READABLE, |s| recv_into_buf(s, buf))
    }

    /// [`recv`](Self::recv) into `buf`'s spare capacity, advancing it by the
    /// datagram's length.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| recv_into_buf(s, buf)).await
    }

    /// [`try_recv_from`](Self::try_recv_from) into `buf`'s spare capacity,
    /// advancing it by the datagram's length.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io_interest(Interest::READABLE, |s| recv_from_into_buf(s, buf))
    }

    /// [`recv_from`](Self::recv_from) into `buf`'s spare capacity,
    /// advancing it by the datagram's length.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |s| recv_from_into_buf(s, buf))
            .await
    }

    /// Sends `buf` to the first address `target` resolves to.
    ///
    /// # Errors
    ///
    /// A lookup error, or the OS error of the send.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve_first(target).await?;
        self.io
            .io(Direction::Write, |s| s.send_to(buf, target))
            .await
    }

    /// Polls to send `buf` to `target`. Charges one reduction.
    ///
    /// # Errors
    ///
    /// The OS error of the send.
    pub fn poll_send_to(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
        target: SocketAddr,
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io_charged(Direction::Write, cx, |s| s.send_to(buf, target))
    }

    /// Sends to `target` without waiting; `WouldBlock` if the send buffer
    /// is full (which clears the write readiness).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the send.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.io
            .try_io_interest(Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length and sender.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// Polls to receive one datagram into the unfilled part of `buf`,
    /// which it then fills; returns the sender. Charges one reduction.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.poll_recv_from_with(cx, buf, |s, dst| s.recv_from(dst))
    }

    /// Receives without waiting; `WouldBlock` if no datagram is queued
    /// (which clears the read readiness).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io_interest(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// Runs `f`, an operation of your own on the socket, once, without
    /// waiting; see [`TcpStream::try_io`](crate::net::TcpStream::try_io).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `f`'s error.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_interest(interest, |_| f())
    }

    /// Runs `f` whenever the socket is ready for `interest`, until it
    /// returns something other than `WouldBlock`; see
    /// [`TcpStream::async_io`](crate::net::TcpStream::async_io).
    ///
    /// # Errors
    ///
    /// `f`'s error, or an error if the runtime has shut down.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io(interest, |_| f()).await
    }

    /// Like [`recv`](Self::recv), leaving the datagram queued.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.peek(buf)).await
    }

    /// Like [`poll_recv`](Self::poll_recv), leaving the datagram queued.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub fn poll_peek(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        self.poll_recv_with(cx, buf, RecvFlags::PEEK)
    }

    /// Like [`try_recv`](Self::try_recv), leaving the datagram queued.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io_interest(Interest::READABLE, |s| s.peek(buf))
    }

    /// Like [`recv_from`](Self::recv_from), leaving the datagram queued.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.peek_from(buf)).await
    }

    /// Like [`poll_recv_from`](Self::poll_recv_from), leaving the datagram
    /// queued.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub fn poll_peek_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        self.poll_recv_from_with(cx, buf, |s, dst| s.peek_from(dst))
    }

    /// Like [`try_recv_from`](Self::try_recv_from), leaving the datagram
    /// queued.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io_interest(Interest::READABLE, |s| s.peek_from(buf))
    }

    /// The sender of the next datagram, which stays queued; waits for one.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.io(Direction::Read, peek_sender).await
    }

    /// Polls for the sender of the next datagram, which stays queued.
    /// Charges one reduction.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub fn poll_peek_sender(&self, cx: &mut Context<'_>) -> Poll<io::Result<SocketAddr>> {
        self.io.poll_io_charged(Direction::Read, cx, peek_sender)
    }

    /// The sender of the next datagram, without waiting; `WouldBlock` if
    /// none is queued.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_peek_sender(&self) -> io::Result<SocketAddr> {
        self.io.try_io_interest(Interest::READABLE, peek_sender)
    }

    /// `poll_recv` and `poll_peek`: one `recv` with `flags` into `buf`'s
    /// unfilled part.
    fn poll_recv_with(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        flags: RecvFlags,
    ) -> Poll<io::Result<()>> {
        let n = ready!(self.io.poll_io_charged(Direction::Read, cx, |s| {
            // SAFETY: `recv` only writes to the unfilled memory and says
            // how many bytes at its start it wrote.
            let dst = unsafe { buf.unfilled_mut() };
            let ((read, _), _) = rustix::net::recv(s, dst, flags)?;
            Ok(read.len())
        }))?;
        // SAFETY: the `recv` initialized those `n` bytes.
        unsafe { buf.assume_init(n) };
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// `poll_recv_from` and `poll_peek_from`: `op` into `buf`'s unfilled
    /// part (initialized first: `std` takes a `&mut [u8]`).
    fn poll_recv_from_with(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
        mut op: impl FnMut(&net::UdpSocket, &mut [u8]) -> io::Result<(usize, SocketAddr)>,
    ) -> Poll<io::Result<SocketAddr>> {
        let (n, from) = ready!(
            self.io
                .poll_io_charged(Direction::Read, cx, |s| op(s, buf.initialize_unfilled()))
        )?;
        buf.advance(n);
        Poll::Ready(Ok(from))
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.io.get_ref().broadcast()
    }

    /// Whether multicast datagrams sent over IPv4 loop back to this host
    /// (`IP_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v4()
    }

    /// Sets `IP_MULTICAST_LOOP`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v4(on)
    }

    /// The time-to-live of IPv4 multicast datagrams (`IP_MULTICAST_TTL`).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.io.get_ref().multicast_ttl_v4()
    }

    /// Sets `IP_MULTICAST_TTL`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_multicast_ttl_v4(ttl)
    }

    /// Whether multicast datagrams sent over IPv6 loop back to this host
    /// (`IPV6_MULTICAST_LOOP`).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn multicast_loop_v6(&self) -> io::Result<bool> {
        self.io.get_ref().multicast_loop_v6()
    }

    /// Sets `IPV6_MULTICAST_LOOP`.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_multicast_loop_v6(&self, on: bool) -> io::Result<()> {
        self.io.get_ref().set_multicast_loop_v6(on)
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`0.0.0.0`: the system's choice).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt` (for example for an address that is
    /// not a multicast address).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().join_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with
    /// index `interface` (0: the system's choice).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv4 multicast group; see
    /// [`join_multicast_v4`](Self::join_multicast_v4).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt` (for example for a group not joined).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv6 multicast group; see
    /// [`join_multicast_v6`](Self::join_multicast_v6).
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.io.get_ref().leave_multicast_v6(multiaddr, interface)
    }

    /// Sets the IP time-to-live of outgoing packets.
    ///
    /// # Errors
    ///
    /// The OS error of `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of outgoing packets.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// The IPv4 type-of-service field of outgoing packets (`IP_TOS`).
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt` (on an IPv6 socket, for example).
    pub fn tos_v4(&self) -> io::Result<u32> {
        Ok(rustix::net::sockopt::ip_tos(self)?.into())
    }

    /// Sets `IP_TOS`.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a value above 255, or the OS error of
    /// `setsockopt`.
    pub fn set_tos_v4(&self, tos: u32) -> io::Result<()> {
        crate::net::set_ip_tos(std::os::fd::AsFd::as_fd(self), tos)
    }

    cfg_ipv6_tclass! {
        /// The traffic class of outgoing IPv6 packets (`IPV6_TCLASS`).
        ///
        /// # Errors
        ///
        /// The OS error of `getsockopt` (an IPv4 socket has no such option).
        pub fn tclass_v6(&self) -> io::Result<u32> {
            Ok(rustix::net::sockopt::ipv6_tclass(self)?)
        }

        /// Sets `IPV6_TCLASS`, the traffic class of outgoing IPv6 packets.
        ///
        /// # Errors
        ///
        /// The OS error of `setsockopt` (`InvalidInput` above 255; an IPv4
        /// socket has no such option).
        pub fn set_tclass_v6(&self, tclass: u32) -> io::Result<()> {
            Ok(rustix::net::sockopt::set_ipv6_tclass(self, tclass)?)
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
        crate::net::device::device(std::os::fd::AsFd::as_fd(self))
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
    /// use smp_rt_io::net::UdpSocket;
    ///
    /// let socket = UdpSocket::bind("127.0.0.1:0").await?;
    /// assert_eq!(socket.device()?, None);
    /// if socket.bind_device(Some(b"lo")).is_ok() {
    ///     assert_eq!(socket.device()?.as_deref(), Some(&b"lo"[..]));
    /// }
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
    pub fn bind_device(&self, interface: Option<&[u8]>) -> io::Result<()> {
        crate::net::device::bind_device(std::os::fd::AsFd::as_fd(self), interface)
    }

    /// tokio's older name of [`tos_v4`](Self::tos_v4).
    ///
    /// # Errors
    ///
    /// As `tos_v4`.
    pub fn tos(&self) -> io::Result<u32> {
        self.tos_v4()
    }

    /// tokio's older name of [`set_tos_v4`](Self::set_tos_v4).
    ///
    /// # Errors
    ///
    /// As `set_tos_v4`.
    pub fn set_tos(&self, tos: u32) -> io::Result<()> {
        self.set_tos_v4(tos)
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }
}

/// The sender of the next datagram, which stays queued (an empty peek:
/// the datagram itself is not cut).
fn peek_sender(socket: &net::UdpSocket) -> io::Result<SocketAddr> {
    socket.peek_from(&mut []).map(|(_, from)| from)
}

/// One `recv` into `buf`'s spare capacity, advancing it.
fn recv_into_buf<B: BufMut + ?Sized>(socket: &net::UdpSocket, buf: &mut B) -> io::Result<usize> {
    let chunk = buf.chunk_mut();
    // SAFETY: `UninitSlice` is a `[MaybeUninit<u8>]` view of the spare
    // capacity; `recv` only writes to it.
    let dst = unsafe { chunk.as_uninit_slice_mut() };
    let ((read, _), _) = rustix::net::recv(socket, dst, RecvFlags::empty())?;
    let n = read.len();
    // SAFETY: the `recv` initialized the first `n` bytes of the chunk.
    unsafe { buf.advance_mut(n) };
    Ok(n)
}

/// One `recv_from` into `buf`'s spare capacity, advancing it.
fn recv_from_into_buf<B: BufMut + ?Sized>(
    socket: &net::UdpSocket,
    buf: &mut B,
) -> io::Result<(usize, SocketAddr)> {
    let chunk = buf.chunk_mut();
    let len = chunk.len();
    // SAFETY: `UninitSlice::as_mut_ptr` points at `len` writable bytes;
    // zeroing them first makes them a valid `&mut [u8]` for `std`.
    let dst = unsafe {
        std::ptr::write_bytes(chunk.as_mut_ptr(), 0, len);
        std::slice::from_raw_parts_mut(chunk.as_mut_ptr(), len)
    };
    let (n, from) = socket.recv_from(dst)?;
    // SAFETY: all `len >= n` bytes were initialized above.
    unsafe { buf.advance_mut(n) };
    Ok((n, from))
}

impl TryFrom<net::UdpSocket> for UdpSocket {
    type Error = io::Error;

    /// [`UdpSocket::from_std`].
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as `from_std` does.
    #[track_caller]
    fn try_from(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        UdpSocket::from_std(socket)
    }
}

impl AsRawFd for UdpSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UdpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.get_ref(), f)
    }
}

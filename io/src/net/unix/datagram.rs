//! [`UnixDatagram`].

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;
use std::task::{Context, Poll, ready};

use bytes::BufMut;
use rustix::net::RecvFlags;

use crate::io::{Interest, ReadBuf, Ready};
use crate::poll_evented::PollEvented;
use crate::reactor::Direction;

/// A Unix domain datagram socket (tokio's `UnixDatagram`).
///
/// Every method takes `&self`: share the socket (in an `Arc`) to send from
/// one task and receive in another. Each send or receive charges one
/// reduction per poll.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::net::UnixDatagram;
///
/// let (a, b) = UnixDatagram::pair()?;
/// a.send(b"ping").await?;
/// let mut buf = [0; 16];
/// let n = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..n], b"ping");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct UnixDatagram {
    /// The registered socket.
    io: PollEvented<net::UnixDatagram>,
}

impl UnixDatagram {
    /// Binds a socket to the socket file `path`, which must not exist.
    ///
    /// # Errors
    ///
    /// The OS error (`AddrInUse` if `path` exists).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(net::UnixDatagram::bind(path)?)
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
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_std(a)?, UnixDatagram::from_std(b)?))
    }

    /// A socket bound to no address: it can send (to a path, or after
    /// [`connect`](Self::connect)) but not be sent to by address.
    ///
    /// # Errors
    ///
    /// The OS error.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(net::UnixDatagram::unbound()?)
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
    pub fn from_std(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: PollEvented::new(socket)?,
        })
    }

    /// Deregisters the socket and returns it as a `std` socket, still in
    /// non-blocking mode.
    ///
    /// # Errors
    ///
    /// None today; the `Result` is tokio's signature.
    pub fn into_std(self) -> io::Result<net::UnixDatagram> {
        Ok(self.io.into_inner())
    }

    /// Sets the only peer [`send`](Self::send) sends to and
    /// [`recv`](Self::recv) accepts.
    ///
    /// # Errors
    ///
    /// The OS error (`NotFound` if nothing is bound at `path`).
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// The address the socket is bound to.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The address of the connected peer.
    ///
    /// # Errors
    ///
    /// `NotConnected`, or the OS error of `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Takes the socket's pending error (`SO_ERROR`), if any.
    ///
    /// # Errors
    ///
    /// The OS error of `getsockopt`.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.io.get_ref().take_error()
    }

    /// Shuts down reading, writing or both.
    ///
    /// # Errors
    ///
    /// The OS error of `shutdown`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Waits until the socket is ready for any part of `interest`; see
    /// [`UdpSocket::ready`](crate::net::UdpSocket::ready) (the same rules).
    ///
    /// # Errors
    ///
    /// If the runtime has shut down, or for `Interest::PRIORITY` on a build
    /// with the portable poller (epoll, Linux's default, reports it).
    pub async fn ready(&self, interest: Interest) -> io::Result<Ready> {
        self.io.ready_api(interest).await
    }

    /// Waits until a datagram is queued.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down.
    pub async fn readable(&self) -> io::Result<()> {
        self.io.ready_api(Interest::READABLE).await.map(|_| ())
    }

    /// Waits until the socket can send.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down.
    pub async fn writable(&self) -> io::Result<()> {
        self.io.ready_api(Interest::WRITABLE).await.map(|_| ())
    }

    /// Polls for a queued datagram. Charges one reduction.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down.
    pub fn poll_recv_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_api(Interest::READABLE, cx)
    }

    /// Polls for room to send. Charges one reduction.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the socket has shut down.
    pub fn poll_send_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.io.poll_ready_api(Interest::WRITABLE, cx)
    }

    /// Sends `buf` to the connected peer.
    ///
    /// # Errors
    ///
    /// The OS error of the send.
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

    /// Sends `buf` to the socket bound at `target`.
    ///
    /// # Errors
    ///
    /// The OS error of the send.
    pub async fn send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let target = target.as_ref();
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
        target: impl AsRef<Path>,
    ) -> Poll<io::Result<usize>> {
        let target = target.as_ref();
        self.io
            .poll_io_charged(Direction::Write, cx, |s| s.send_to(buf, target))
    }

    /// Sends to `target` without waiting; `WouldBlock` if the send buffer
    /// is full.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the send.
    pub fn try_send_to(&self, buf: &[u8], target: impl AsRef<Path>) -> io::Result<usize> {
        let target = target.as_ref();
        self.io
            .try_io_interest(Interest::WRITABLE, |s| s.send_to(buf, target))
    }

    /// Receives one datagram into `buf`; returns its length (a longer
    /// datagram is cut).
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| s.recv(buf)).await
    }

    /// Polls to receive one datagram into the unfilled part of `buf`.
    /// Charges one reduction.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub fn poll_recv(&self, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let n = ready!(
            self.io
                .poll_io_charged(Direction::Read, cx, |s| s.recv(buf.initialize_unfilled()))
        )?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }

    /// Receives without waiting; `WouldBlock` if no datagram is queued
    /// (which clears the read readiness).
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.try_io_interest(Interest::READABLE, |s| s.recv(buf))
    }

    /// Receives one datagram into `buf`; returns its length and sender.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Direction::Read, |s| s.recv_from(buf)).await
    }

    /// Polls to receive one datagram into the unfilled part of `buf`;
    /// returns the sender. Charges one reduction.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub fn poll_recv_from(
        &self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<SocketAddr>> {
        let (n, from) = ready!(self.io.poll_io_charged(Direction::Read, cx, |s| {
            s.recv_from(buf.initialize_unfilled())
        }))?;
        buf.advance(n);
        Poll::Ready(Ok(from))
    }

    /// Receives without waiting; `WouldBlock` if no datagram is queued.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or the OS error of the receive.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io_interest(Interest::READABLE, |s| s.recv_from(buf))
    }

    /// [`recv`](Self::recv) into `buf`'s spare capacity, advancing it by
    /// the datagram's length (a datagram longer than the spare capacity is
    /// cut).
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt_io::net::UnixDatagram;
    ///
    /// let (a, b) = UnixDatagram::pair()?;
    /// a.send(b"ping").await?;
    /// let mut buf = Vec::with_capacity(16);
    /// assert_eq!(b.recv_buf(&mut buf).await?, 4);
    /// assert_eq!(buf, b"ping");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    pub async fn recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io.io(Direction::Read, |s| recv_into_buf(s, buf)).await
    }

    /// [`try_recv`](Self::try_recv) into `buf`'s spare capacity, advancing
    /// it by the datagram's length.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if no datagram is queued, or the OS error of the
    /// receive.
    pub fn try_recv_buf<B: BufMut>(&self, buf: &mut B) -> io::Result<usize> {
        self.io
            .try_io_interest(Interest::READABLE, |s| recv_into_buf(s, buf))
    }

    /// [`recv_from`](Self::recv_from) into `buf`'s spare capacity,
    /// advancing it by the datagram's length; returns the length and the
    /// sender.
    ///
    /// # Errors
    ///
    /// The OS error of the receive.
    pub async fn recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.io
            .io(Direction::Read, |s| recv_from_into_buf(s, buf))
            .await
    }

    /// [`try_recv_from`](Self::try_recv_from) into `buf`'s spare capacity,
    /// advancing it by the datagram's length.
    ///
    /// # Errors
    ///
    /// `WouldBlock` if no datagram is queued, or the OS error of the
    /// receive.
    pub fn try_recv_buf_from<B: BufMut>(&self, buf: &mut B) -> io::Result<(usize, SocketAddr)> {
        self.io
            .try_io_interest(Interest::READABLE, |s| recv_from_into_buf(s, buf))
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
    /// returns something other than `WouldBlock`.
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
}

/// One `recv` into `buf`'s spare capacity, advancing it.
fn recv_into_buf<B: BufMut + ?Sized>(socket: &net::UnixDatagram, buf: &mut B) -> io::Result<usize> {
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

/// One `recv_from` into `buf`'s spare capacity, advancing it. The spare
/// capacity is zeroed first: `std`'s `recv_from`, which returns `std`'s
/// `SocketAddr`, takes a `&mut [u8]`.
fn recv_from_into_buf<B: BufMut + ?Sized>(
    socket: &net::UnixDatagram,
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

impl TryFrom<net::UnixDatagram> for UnixDatagram {
    type Error = io::Error;

    /// [`UnixDatagram::from_std`].
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as `from_std` does.
    #[track_caller]
    fn try_from(socket: net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::from_std(socket)
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.get_ref(), f)
    }
}

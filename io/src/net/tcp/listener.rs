use std::ffi::c_int;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll, ready};

use smp_rt_executor::task::poll_charge;

use crate::backoff::AcceptBackoff;
use crate::net::addr::{ToSocketAddrs, resolve};
use crate::net::tcp::TcpStream;
use crate::poll_evented::PollEvented;
use crate::reactor::Direction;

/// A TCP socket listening for connections.
///
/// # Running out of descriptors
///
/// When `accept` fails because the process or the system has no descriptor
/// (or buffer memory) left (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`), the
/// error is returned, and the listener's next `accept` first waits a short
/// back-off (50 ms). A loop that logs accept errors and goes on therefore
/// retries twenty times a second instead of spinning on a worker.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt_io::net::{TcpListener, TcpStream};
///
/// let listener = TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let client = smp_rt::spawn(async move { TcpStream::connect(addr).await });
/// let (stream, peer) = listener.accept().await?;
/// assert_eq!(peer, client.await.unwrap()?.local_addr()?);
/// # drop(stream);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct TcpListener {
    /// The registered socket.
    io: PollEvented<net::TcpListener>,
    /// The back-off after running out of descriptors.
    backoff: AcceptBackoff,
}

impl TcpListener {
    /// Binds a listener to `addr`, trying each address it resolves to in
    /// turn until one binds. Port 0 asks the OS for a free port (see
    /// [`local_addr`](TcpListener::local_addr)).
    ///
    /// The queue of connections waiting for `accept` holds up to 1024 (as
    /// far as the OS allows: `net.core.somaxconn` on Linux), not the 128 of
    /// `std::net::TcpListener::bind`: a burst of connects larger than the
    /// queue makes the kernel drop handshakes, or reset connections that
    /// already sent data.
    ///
    /// # Errors
    ///
    /// The error of the last address tried, or a lookup error.
    ///
    /// # Panics
    ///
    /// When polled outside an smp_rt runtime with IO, as tokio's does.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let addrs = resolve(addr).await?;
        let mut last_err = None;
        for addr in addrs {
            match net::TcpListener::bind(addr) {
                Ok(listener) => {
                    raise_backlog(&listener);
                    return TcpListener::from_std(listener);
                }
                Err(err) => last_err = Some(err),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to bind to")
        }))
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
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollEvented::new(listener)?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Deregisters the listener and returns it as a `std` listener, still
    /// in non-blocking mode.
    pub fn into_std(self) -> io::Result<net::TcpListener> {
        Ok(self.io.into_inner())
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// The connection is registered with the same runtime as the listener.
    ///
    /// # Errors
    ///
    /// The OS error of `accept`; see the [type's docs](TcpListener) for what
    /// follows running out of descriptors. The listener stays usable.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        poll_fn(|cx| self.poll_accept(cx)).await
    }

    /// Polls for a connection; charges one reduction.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
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
        Poll::Ready(Ok((TcpStream::register(self.io.reactor(), stream)?, addr)))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections' packets.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live of accepted connections' packets.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

/// The accept queue length [`TcpListener::bind`] asks for.
const BACKLOG: c_int = 1024;

/// Sets the accept queue of a listening socket to [`BACKLOG`] (`listen`
/// may be called again on a listening socket to change it). On failure the
/// socket keeps the queue it has.
fn raise_backlog(listener: &net::TcpListener) {
    // SAFETY: this is POSIX `int listen(int socket, int backlog)`, from the
    // C library that std links on every Unix target.
    unsafe extern "C" {
        fn listen(socket: c_int, backlog: c_int) -> c_int;
    }
    // SAFETY: `listener` keeps the descriptor open during the call, and
    // `listen` only reads its two integer arguments.
    if unsafe { listen(listener.as_raw_fd(), BACKLOG) } != 0 {
        let err = io::Error::last_os_error();
        tracing::debug!(%err, "could not enlarge a TCP listener's accept queue");
    }
}

impl TryFrom<net::TcpListener> for TcpListener {
    type Error = io::Error;

    /// [`TcpListener::from_std`].
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as `from_std` does.
    #[track_caller]
    fn try_from(socket: net::TcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(socket)
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.io.get_ref(), f)
    }
}

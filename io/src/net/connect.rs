//! Connecting without blocking a thread: a non-blocking socket's `connect`
//! returns at once (`EINPROGRESS`), the socket is registered with the
//! reactor, and the connection is established when the socket turns
//! writable with no error pending.
//!
//! Every source starts out ready (see the reactor's docs), so a writable
//! socket is not proof: the socket is connected once its error is clear and
//! it has a peer (`getpeername`); a socket still connecting has none
//! (`ENOTCONN`), which counts as `WouldBlock` and clears the write
//! readiness until the kernel reports the connection's outcome. Dropping
//! the future closes the socket, which cancels the attempt.

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::task::ready;

use rustix::io::Errno;
use rustix::net::addr::SocketAddrArg;
use rustix::net::{AddressFamily, SocketFlags, SocketType};
use smp_rt_executor::task::poll_charge;

use crate::poll_evented::PollEvented;
use crate::reactor::{Direction, Inner};

/// A new non-blocking, close-on-exec stream socket of `family`.
pub(crate) fn stream_socket(family: AddressFamily) -> io::Result<OwnedFd> {
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    Ok(rustix::net::socket_with(
        family,
        SocketType::STREAM,
        flags,
        None,
    )?)
}

/// Starts connecting `socket` (non-blocking) to `addr`, registers it with
/// `reactor` and waits, on the reactor, until the connection is made or
/// fails.
pub(crate) async fn connect<T>(
    reactor: &Arc<Inner>,
    socket: T,
    addr: &impl SocketAddrArg,
) -> io::Result<PollEvented<T>>
where
    T: AsFd,
{
    match rustix::net::connect(socket.as_fd(), addr) {
        // In progress (or interrupted, which does not stop it): the
        // outcome comes as write readiness.
        Ok(()) | Err(Errno::INPROGRESS) | Err(Errno::INTR) => {}
        Err(err) => return Err(err.into()),
    }
    let io = PollEvented::with_reactor(reactor, socket)?;
    poll_fn(|cx| {
        ready!(poll_charge(cx));
        io.poll_io(Direction::Write, cx, |socket| connected(socket.as_fd()))
    })
    .await?;
    Ok(io)
}

/// `Ok` once `socket`'s connection is established, its error if it failed,
/// `WouldBlock` while it is still in progress.
fn connected(socket: BorrowedFd<'_>) -> io::Result<()> {
    if let Err(err) = rustix::net::sockopt::socket_error(socket)? {
        return Err(err.into());
    }
    match rustix::net::getpeername(socket) {
        Ok(_) => Ok(()),
        Err(Errno::NOTCONN) => Err(io::ErrorKind::WouldBlock.into()),
        Err(err) => Err(err.into()),
    }
}

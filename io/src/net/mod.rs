//! Networking: TCP, UDP and Unix domain sockets, with tokio's names.
//!
//! Every type registers its socket with the reactor of the runtime it is
//! created in (so create them inside a task, `block_on`, or after
//! `Runtime::enter`; elsewhere constructors panic, as tokio's do). Every wait
//! charges one reduction per poll, like every smp_rt leaf future.
//!
//! Addresses are anything [`ToSocketAddrs`]: IP literals resolve in place,
//! host names on the blocking pool. Connections are made on the reactor:
//! `connect` never blocks a thread, and dropping its future cancels it.

/// Keeps its items only on the systems whose sockets have `IPV6_TCLASS`
/// (`tclass_v6` and `set_tclass_v6` of `TcpSocket` and `UdpSocket`): the
/// list is held here once. Defined before the modules below, which see it
/// by textual scope.
macro_rules! cfg_ipv6_tclass {
    ($($item:item)*) => {
        $(
            #[cfg(any(
                target_os = "android",
                target_os = "dragonfly",
                target_os = "freebsd",
                target_os = "fuchsia",
                target_os = "linux",
                target_os = "macos",
                target_os = "netbsd",
                target_os = "openbsd",
                target_os = "cygwin",
            ))]
            $item
        )*
    };
}

mod addr;
mod connect;
#[cfg(any(target_os = "android", target_os = "fuchsia", target_os = "linux"))]
mod device;
mod split;
mod stream;
pub mod tcp;
mod udp;
pub mod unix;

/// Sets `IP_TOS` on `fd`, refusing a value that is not one byte.
pub(crate) fn set_ip_tos(fd: std::os::fd::BorrowedFd<'_>, tos: u32) -> std::io::Result<()> {
    let tos = u8::try_from(tos).map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("IP_TOS is one byte: {tos} is out of range (0 to 255)"),
        )
    })?;
    Ok(rustix::net::sockopt::set_ip_tos(fd, tos)?)
}

pub use addr::{ToSocketAddrs, lookup_host};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixSocket, UnixStream};

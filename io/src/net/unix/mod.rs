//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and the halves
//! of a split stream, [`UnixDatagram`], and [`UnixSocket`], which makes
//! any of them after options and a `bind`; the peer's credentials
//! ([`UCred`]); and [`pipe`], anonymous pipes and FIFOs.

mod datagram;
mod listener;
pub mod pipe;
mod socket;
mod stream;
mod ucred;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use socket::UnixSocket;
pub use stream::UnixStream;
pub use ucred::UCred;

/// The address of a Unix socket (`std`'s).
pub use std::os::unix::net::SocketAddr;

/// A user id, as [`UCred::uid`] returns it (tokio's `net::unix::uid_t`).
#[allow(non_camel_case_types)]
pub type uid_t = u32;

/// A group id, as [`UCred::gid`] returns it (tokio's `net::unix::gid_t`).
#[allow(non_camel_case_types)]
pub type gid_t = u32;

/// A process id, as [`UCred::pid`] returns it (tokio's `net::unix::pid_t`).
#[allow(non_camel_case_types)]
pub type pid_t = i32;

pub(crate) mod split {
    //! The halves of a [`UnixStream`](super::UnixStream).

    use super::UnixStream;

    crate::net::split::stream_halves!(
        UnixStream,
        std::os::unix::net::SocketAddr,
        "let (a, b) = smp_rt_io::net::UnixStream::pair().unwrap();"
    );
}

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};

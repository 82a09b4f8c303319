//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and the halves
//! of a split stream, and [`UnixDatagram`].

mod datagram;
mod listener;
mod stream;
mod ucred;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::UnixStream;
pub use ucred::UCred;

/// The address of a Unix socket (`std`'s).
pub use std::os::unix::net::SocketAddr;

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

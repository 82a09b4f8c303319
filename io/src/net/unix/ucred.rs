//! [`UCred`]: who is at the other end of a Unix stream.

use super::{gid_t, pid_t, uid_t};

/// The credentials of a Unix stream's peer process, as the kernel recorded
/// them when the connection was made (tokio's `UCred`). From
/// [`UnixStream::peer_cred`](super::UnixStream::peer_cred).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UCred {
    pid: Option<pid_t>,
    uid: uid_t,
    gid: gid_t,
}

impl UCred {
    /// The peer's user id.
    pub fn uid(&self) -> uid_t {
        self.uid
    }

    /// The peer's group id.
    pub fn gid(&self) -> gid_t {
        self.gid
    }

    /// The peer's process id, where the system reports it.
    pub fn pid(&self) -> Option<pid_t> {
        self.pid
    }
}

/// The peer credentials of the connected Unix socket `fd`.
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn peer_cred(fd: std::os::fd::BorrowedFd<'_>) -> std::io::Result<UCred> {
    let cred = rustix::net::sockopt::socket_peercred(fd)?;
    Ok(UCred {
        pid: Some(cred.pid.as_raw_nonzero().get()),
        uid: cred.uid.as_raw(),
        gid: cred.gid.as_raw(),
    })
}

/// The peer credentials of the connected Unix socket `fd`: not available
/// on this system.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn peer_cred(_: std::os::fd::BorrowedFd<'_>) -> std::io::Result<UCred> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "UnixStream::peer_cred is implemented on Linux and Android only",
    ))
}

//! `SO_BINDTODEVICE`: restricting a socket to one network interface
//! (`bind_device`/`device` of [`TcpSocket`](super::TcpSocket) and
//! [`UdpSocket`](super::UdpSocket)).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The longest interface name with its terminating NUL (`IFNAMSIZ`).
const NAME_CAPACITY: usize = libc::IFNAMSIZ;

/// Binds `fd` to the interface named `interface`; `None` or an empty name
/// removes the binding.
pub(crate) fn bind_device(fd: BorrowedFd<'_>, interface: Option<&[u8]>) -> io::Result<()> {
    let name = interface.unwrap_or(&[]);
    // The kernel would cut a longer name to its first 15 bytes, binding to
    // whatever interface that prefix names.
    if name.len() >= NAME_CAPACITY {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "bind_device: the interface name {:?} is {} bytes; interface names are at most {}",
                String::from_utf8_lossy(name),
                name.len(),
                NAME_CAPACITY - 1
            ),
        ));
    }
    // An empty name unbinds: a length of 0, with a pointer to a real byte
    // rather than null (the kernel ignores it; an emulator such as
    // qemu-user checks it and answers `EFAULT` for null).
    let unbind = [0u8; 1];
    let (ptr, len) = if name.is_empty() {
        (unbind.as_ptr(), 0)
    } else {
        (name.as_ptr(), name.len() as libc::socklen_t)
    };
    // SAFETY: `ptr` points at `len` readable bytes (of `name`, or none of
    // `unbind`), which outlive the call; the kernel only reads them.
    let ret = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            ptr.cast(),
            len,
        )
    };
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The name of the interface `fd` is bound to, without its NUL; `None` if
/// it is bound to none.
pub(crate) fn device(fd: BorrowedFd<'_>) -> io::Result<Option<Vec<u8>>> {
    let mut name = [0u8; NAME_CAPACITY];
    let mut len = NAME_CAPACITY as libc::socklen_t;
    // SAFETY: `name` has `len` writable bytes and `len` is a valid
    // `socklen_t` the kernel updates to the length it wrote.
    let ret = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            name.as_mut_ptr().cast(),
            &mut len,
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    // The kernel writes the name with its NUL, or nothing if unbound.
    let name = &name[..(len as usize).min(NAME_CAPACITY)];
    let name = name.split(|&b| b == 0).next().unwrap_or_default();
    Ok((!name.is_empty()).then(|| name.to_vec()))
}

//! smp_rt's IO: a reactor (epoll on Linux, [`polling`] elsewhere), and TCP,
//! UDP and Unix sockets; files ([`fs`], on the blocking pool) and child
//! processes ([`process`], their pipes and exits on the reactor).
//!
//! # The model
//!
//! Each runtime has one [`Reactor`]: an OS poller and the sockets
//! registered with it. On Linux the reactor drives epoll itself (through
//! `rustix`): it registers `EPOLLRDHUP`, which lets a short read of a
//! stream skip the read that would only return `WouldBlock`, and waits
//! with one system call; `polling`, the poller on other systems, offers
//! neither (see the `reactor` module). The runtime's workers drive it in
//! their idle time, one at a time: a worker that runs out of work parks
//! *in* the reactor ([`Reactor::wait`] with the next timer as timeout), and
//! busy workers poll it without blocking every so often, so a runtime whose
//! workers are all busy still serves IO.
//!
//! An IO object (a [`net::TcpStream`], say) owns a non-blocking socket
//! registered with the reactor of the runtime it was created in. An
//! operation first tries the socket; only when the socket answers
//! `WouldBlock` does the task wait, until the reactor sees the socket ready
//! in that direction and wakes it. Readiness that arrives while no task is
//! waiting is remembered, so it is never lost (see the `reactor` module's
//! comments for the protocol).
//!
//! Every readiness poll charges one reduction, as every smp_rt leaf future
//! does: a task that reads a fast socket in a loop is preempted at the end
//! of its slice like any other.
//!
//! # Examples
//!
//! ```
//! # smp_rt::block_on(async {
//! use smp_rt_io::io::{AsyncReadExt, AsyncWriteExt};
//! use smp_rt_io::net::{TcpListener, TcpStream};
//!
//! let listener = TcpListener::bind("127.0.0.1:0").await?;
//! let addr = listener.local_addr()?;
//! smp_rt::spawn(async move {
//!     while let Ok((mut stream, _)) = listener.accept().await {
//!         smp_rt::spawn(async move {
//!             let (mut r, mut w) = TcpStream::split(&mut stream);
//!             smp_rt_io::io::copy(&mut r, &mut w).await
//!         });
//!     }
//! });
//!
//! let mut stream = TcpStream::connect(addr).await?;
//! stream.write_all(b"echo").await?;
//! let mut buf = [0; 4];
//! stream.read_exact(&mut buf).await?;
//! assert_eq!(&buf, b"echo");
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

#![warn(missing_docs, rust_2018_idioms)]

mod backoff;
pub mod fs;
pub mod io;
pub mod net;
mod pipe_io;
mod poll_evented;
pub mod process;
mod reactor;
#[cfg(unix)]
pub mod signal;

pub use reactor::{DEFAULT_EVENTS_PER_WAIT, Reactor, is_shut_down_error};

#[cfg(test)]
mod test_rt {
    //! A runtime for this crate's unit tests: the executor with only the
    //! reactor as its driver.

    use std::sync::Arc;
    use std::time::Duration;

    use smp_rt_executor::driver::Driver;
    use smp_rt_executor::runtime::{Builder, Runtime};

    use crate::Reactor;

    struct ReactorDriver(Arc<Reactor>);

    impl Driver for ReactorDriver {
        fn park(&self, timeout: Option<Duration>) {
            self.0.wait(timeout).unwrap();
        }

        fn poll(&self) {
            self.0.wait(Some(Duration::ZERO)).unwrap();
        }

        fn unpark(&self) {
            self.0.notify().unwrap();
        }
    }

    /// A two-worker runtime driven by a reactor of its own.
    pub(crate) fn runtime() -> Runtime {
        let reactor = Arc::new(Reactor::new().unwrap());
        Builder::new_multi_thread()
            .worker_threads(2)
            .driver(ReactorDriver(reactor.clone()))
            .extension(reactor)
            .build()
            .unwrap()
    }
}

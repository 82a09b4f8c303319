//! Networking: TCP, UDP and Unix domain sockets, with tokio's names.
//!
//! Every type registers its socket with the reactor of the runtime it is
//! created in (so create them inside a task, `block_on`, or after
//! `Runtime::enter`; elsewhere constructors return an error). Every wait
//! charges one reduction per poll, like every smp_rt leaf future.
//!
//! Addresses are anything [`ToSocketAddrs`]: IP literals resolve in place,
//! host names on the blocking pool. `TcpStream::connect` and
//! `UnixStream::connect` make the connection itself on the blocking pool.

mod addr;
mod split;
mod stream;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::ToSocketAddrs;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixListener, UnixStream};

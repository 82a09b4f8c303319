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

mod addr;
mod connect;
mod split;
mod stream;
pub mod tcp;
mod udp;
pub mod unix;

pub use addr::{ToSocketAddrs, lookup_host};
pub use tcp::{TcpListener, TcpSocket, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};

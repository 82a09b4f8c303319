//! [`ToSocketAddrs`]: what `bind`, `connect` and `send_to` accept.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::pin::Pin;

use crate::poll_evented;

/// Types that can be resolved to one or more socket addresses, like
/// [`std::net::ToSocketAddrs`] but without blocking a worker: addresses
/// that are literal IPs are converted in place, host names are looked up on
/// the runtime's blocking pool.
///
/// Implemented for [`SocketAddr`], [`SocketAddrV4`], [`SocketAddrV6`],
/// `(IpAddr, u16)`, `(Ipv4Addr, u16)`, `(Ipv6Addr, u16)`, `&[SocketAddr]`,
/// `str`, `String`, `(&str, u16)`, `(String, u16)`, and references to any of
/// these. The trait is sealed: its method is internal.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use std::net::{Ipv4Addr, SocketAddr};
/// use smp_rt_io::net::TcpListener;
///
/// let a = TcpListener::bind("127.0.0.1:0").await?;
/// let b = TcpListener::bind(("127.0.0.1", 0)).await?;
/// let c = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
/// let d = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
/// let e = TcpListener::bind(String::from("localhost:0")).await?; // looked up
/// # drop((a, b, c, d, e));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait ToSocketAddrs: sealed::ToSocketAddrsPriv {}

/// The future of a host name lookup.
type Lookup = Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send>>;

pub(crate) mod sealed {
    use super::*;

    /// Where the addresses come from.
    pub enum Addrs {
        /// One address, known without any lookup.
        One(SocketAddr),
        /// Addresses known without any lookup.
        Many(Vec<SocketAddr>),
        /// A host name (with its port) to look up.
        Lookup(String, u16),
        /// A `"host:port"` string to look up.
        LookupStr(String),
    }

    /// The sealed part of [`ToSocketAddrs`](super::ToSocketAddrs).
    pub trait ToSocketAddrsPriv {
        /// The addresses, or what to look up to get them.
        fn to_addrs(&self) -> Addrs;
    }
}

use sealed::{Addrs, ToSocketAddrsPriv};

/// Looks up the addresses of `host` (tokio's `lookup_host`): IP literals
/// in place, host names with the system's resolver (`getaddrinfo`) on the
/// runtime's blocking pool, so that no worker blocks.
///
/// # Errors
///
/// The resolver's error (an unknown host, a string without a port, ...).
///
/// # Panics
///
/// When a host name is looked up outside an smp_rt runtime.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use std::net::SocketAddr;
/// use smp_rt_io::net::lookup_host;
///
/// let addrs: Vec<SocketAddr> = lookup_host("localhost:8080").await?.collect();
/// assert!(addrs.iter().all(|addr| addr.ip().is_loopback() && addr.port() == 8080));
/// let literal: Vec<SocketAddr> = lookup_host("10.0.0.1:53").await?.collect();
/// assert_eq!(literal, ["10.0.0.1:53".parse::<SocketAddr>().unwrap()]);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn lookup_host(host: impl ToSocketAddrs) -> io::Result<impl Iterator<Item = SocketAddr>> {
    Ok(addrs_of(host).await?.into_iter())
}

/// Every address `addr` stands for, looked up if need be.
async fn addrs_of(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    Ok(match addr.to_addrs() {
        Addrs::One(addr) => vec![addr],
        Addrs::Many(addrs) => addrs,
        Addrs::Lookup(host, port) => {
            lookup(move || std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port)))?
                .await?
        }
        Addrs::LookupStr(host) => {
            lookup(move || std::net::ToSocketAddrs::to_socket_addrs(host.as_str()))?.await?
        }
    })
}

/// Resolves `addr`: in place for IP literals, on the blocking pool of the
/// current runtime for host names.
pub(crate) async fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs = addrs_of(addr).await?;
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "could not resolve to any address",
        ));
    }
    Ok(addrs)
}

/// The first address `addr` resolves to; no allocation for an IP literal.
pub(crate) async fn resolve_first(addr: impl ToSocketAddrs) -> io::Result<SocketAddr> {
    match addr.to_addrs() {
        Addrs::One(addr) => Ok(addr),
        _ => Ok(resolve(addr).await?[0]),
    }
}

fn lookup<I>(f: impl FnOnce() -> io::Result<I> + Send + 'static) -> io::Result<Lookup>
where
    I: Iterator<Item = SocketAddr>,
{
    let (handle, _) = poll_evented::current();
    let job = handle.spawn_blocking(move || f().map(Iterator::collect));
    Ok(Box::pin(async move { job.await.map_err(join_error)? }))
}

/// A failed blocking job (it panicked, or the runtime shut down) as an IO error.
pub(crate) fn join_error(err: smp_rt_executor::task::JoinError) -> io::Error {
    io::Error::other(format!("a blocking network job failed: {err}"))
}

macro_rules! literal {
    ($($ty:ty),*) => {$(
        impl ToSocketAddrs for $ty {}
        impl ToSocketAddrsPriv for $ty {
            fn to_addrs(&self) -> Addrs {
                Addrs::One(SocketAddr::from(*self))
            }
        }
    )*};
}

literal!(
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6,
    (IpAddr, u16),
    (Ipv4Addr, u16),
    (Ipv6Addr, u16)
);

impl ToSocketAddrs for [SocketAddr] {}
impl ToSocketAddrsPriv for [SocketAddr] {
    fn to_addrs(&self) -> Addrs {
        Addrs::Many(self.to_vec())
    }
}

impl ToSocketAddrs for str {}
impl ToSocketAddrsPriv for str {
    fn to_addrs(&self) -> Addrs {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Addrs::One(addr),
            Err(_) => Addrs::LookupStr(self.to_owned()),
        }
    }
}

impl ToSocketAddrs for String {}
impl ToSocketAddrsPriv for String {
    fn to_addrs(&self) -> Addrs {
        self.as_str().to_addrs()
    }
}

impl ToSocketAddrs for (&str, u16) {}
impl ToSocketAddrsPriv for (&str, u16) {
    fn to_addrs(&self) -> Addrs {
        let (host, port) = *self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Addrs::One(SocketAddr::new(ip, port)),
            Err(_) => Addrs::Lookup(host.to_owned(), port),
        }
    }
}

impl ToSocketAddrs for (String, u16) {}
impl ToSocketAddrsPriv for (String, u16) {
    fn to_addrs(&self) -> Addrs {
        (self.0.as_str(), self.1).to_addrs()
    }
}

impl<T: ToSocketAddrs + ?Sized> ToSocketAddrs for &T {}
impl<T: ToSocketAddrsPriv + ?Sized> ToSocketAddrsPriv for &T {
    fn to_addrs(&self) -> Addrs {
        (**self).to_addrs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn literal(addr: impl ToSocketAddrs) -> Vec<SocketAddr> {
        match addr.to_addrs() {
            Addrs::One(addr) => vec![addr],
            Addrs::Many(addrs) => addrs,
            _ => panic!("a literal address needs no lookup"),
        }
    }

    #[test]
    fn literals_resolve_in_place() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert_eq!(literal("127.0.0.1:80"), [v4]);
        assert_eq!(literal("127.0.0.1:80".to_string()), [v4]);
        assert_eq!(literal(("127.0.0.1", 80)), [v4]);
        assert_eq!(literal(("::1", 80)), [v6]);
        assert_eq!(literal((String::from("::1"), 80)), [v6]);
        assert_eq!(literal((Ipv4Addr::LOCALHOST, 80)), [v4]);
        assert_eq!(literal((IpAddr::from(Ipv6Addr::LOCALHOST), 80)), [v6]);
        assert_eq!(literal(v4), [v4]);
        assert_eq!(literal(&[v4, v6][..]), [v4, v6]);
    }

    #[test]
    fn host_names_are_looked_up() {
        assert!(matches!("localhost:80".to_addrs(), Addrs::LookupStr(_)));
        assert!(matches!(("localhost", 80).to_addrs(), Addrs::Lookup(..)));
    }
}

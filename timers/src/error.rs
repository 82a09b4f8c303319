//! Timer errors: [`Elapsed`] from a timeout, and [`Error`], the timer's
//! own failures.

use std::error;
use std::fmt;
use std::io;

/// Returned by [`timeout`](crate::timeout) and
/// [`timeout_at`](crate::timeout_at) when the deadline passes before the
/// future completes.
///
/// # Examples
///
/// ```
/// use smp_rt_timers::error::Elapsed;
///
/// fn describe(err: Elapsed) -> std::io::Error {
///     err.into()
/// }
/// # let _ = describe;
/// ```
///
/// `Elapsed` converts into an [`io::Error`] of kind
/// [`TimedOut`](io::ErrorKind::TimedOut), so `?` works in functions that
/// return `io::Result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl Elapsed {
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl error::Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(err: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, err)
    }
}

/// A failure of the timer itself, as tokio's `time::error::Error`: the
/// timer is shut down, is full, or was given a duration beyond its range.
///
/// smp_rt's timer reports none of these through its own API (a sleep
/// outside a runtime panics with a message saying so, as tokio's does, and
/// the wheel has no fixed capacity); the type is here for code that
/// builds, matches or forwards it.
///
/// # Examples
///
/// ```
/// use smp_rt_timers::error::Error;
///
/// let err = Error::shutdown();
/// assert!(err.is_shutdown());
/// assert!(!err.is_at_capacity());
/// assert!(!err.is_invalid());
/// println!("{err}");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Error(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shutdown,
    AtCapacity,
    Invalid,
}

impl Error {
    /// The error for a timer that has shut down.
    pub fn shutdown() -> Error {
        Error(Kind::Shutdown)
    }

    /// Whether the timer had shut down.
    pub fn is_shutdown(&self) -> bool {
        self.0 == Kind::Shutdown
    }

    /// The error for a timer at capacity.
    pub fn at_capacity() -> Error {
        Error(Kind::AtCapacity)
    }

    /// Whether the timer was at capacity.
    pub fn is_at_capacity(&self) -> bool {
        self.0 == Kind::AtCapacity
    }

    /// The error for a duration longer than the timer can represent.
    pub fn invalid() -> Error {
        Error(Kind::Invalid)
    }

    /// Whether the duration was longer than the timer can represent.
    pub fn is_invalid(&self) -> bool {
        self.0 == Kind::Invalid
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Kind::Shutdown => {
                "the timer is shutdown, must be called from the context of an smp_rt runtime"
            }
            Kind::AtCapacity => "timer is at capacity and cannot create a new entry",
            Kind::Invalid => "timer duration exceeds maximum duration",
        })
    }
}

impl error::Error for Error {}

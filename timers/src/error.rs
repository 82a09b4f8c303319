//! Timer errors.

use std::error::Error;
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

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(err: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, err)
    }
}

//! The readiness vocabulary: [`Interest`] (what a task waits for) and
//! [`Ready`] (what the reactor saw), as tokio names them.

use std::fmt;
use std::ops;

/// What a task waits for on an IO object: reading, writing, or both
/// (tokio's `Interest`).
///
/// # Examples
///
/// ```
/// use smp_rt_io::io::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Interest(u8);

const READ: u8 = 0b0001;
const WRITE: u8 = 0b0010;
const PRIORITY: u8 = 0b0100;
const ERROR: u8 = 0b1000;

impl Interest {
    /// Readable: bytes to read, a connection to accept, or the end of the
    /// stream.
    pub const READABLE: Interest = Interest(READ);
    /// Writable: room to write.
    pub const WRITABLE: Interest = Interest(WRITE);
    /// Priority (out-of-band) data, Linux's `EPOLLPRI`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Interest = Interest(PRIORITY);
    /// An error condition on the object.
    pub const ERROR: Interest = Interest(ERROR);

    /// Whether reading is part of it.
    pub const fn is_readable(self) -> bool {
        self.0 & READ != 0
    }

    /// Whether writing is part of it.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITE != 0
    }

    /// Whether priority data is part of it.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// Whether errors are part of it.
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// Both interests (as `|`, usable in constants).
    #[must_use = "`add` returns the union and leaves `self` as it was"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// This interest without `other`'s parts; `None` if nothing is left.
    #[must_use = "`remove` returns what is left and leaves `self` as it was"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        let left = self.0 & !other.0;
        (left != 0).then_some(Interest(left))
    }

    /// The readiness that answers this interest: reading is answered by
    /// readable and read-closed, writing by writable and write-closed.
    #[allow(dead_code)] // The readiness API of the net types uses it.
    pub(crate) fn mask(self) -> Ready {
        let mut ready = Ready::EMPTY;
        if self.is_readable() {
            ready |= Ready::READABLE | Ready::READ_CLOSED;
        }
        if self.is_writable() {
            ready |= Ready::WRITABLE | Ready::WRITE_CLOSED;
        }
        if self.0 & PRIORITY != 0 {
            ready |= Ready(PRIORITY_READY) | Ready::READ_CLOSED;
        }
        if self.is_error() {
            ready |= Ready::ERROR;
        }
        ready
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (READ, "READABLE"),
            (WRITE, "WRITABLE"),
            (PRIORITY, "PRIORITY"),
            (ERROR, "ERROR"),
        ];
        write_flags(f, self.0, &names)
    }
}

const READABLE_READY: u8 = 0b00_0001;
const WRITABLE_READY: u8 = 0b00_0010;
const READ_CLOSED_READY: u8 = 0b00_0100;
const WRITE_CLOSED_READY: u8 = 0b00_1000;
const PRIORITY_READY: u8 = 0b01_0000;
const ERROR_READY: u8 = 0b10_0000;

/// What the reactor saw on an IO object (tokio's `Ready`): a set of
/// readable, writable, read-closed, write-closed, priority and error.
///
/// # Examples
///
/// ```
/// use smp_rt_io::io::Ready;
///
/// let seen = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(seen.is_readable() && seen.is_read_closed() && !seen.is_writable());
/// assert!((seen - Ready::READABLE).is_read_closed());
/// assert!(Ready::EMPTY.is_empty());
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ready(u8);

impl Ready {
    /// Nothing.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(READABLE_READY);
    /// Writable.
    pub const WRITABLE: Ready = Ready(WRITABLE_READY);
    /// The reading direction is closed (the peer shut down its writing).
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED_READY);
    /// The writing direction is closed.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED_READY);
    /// Priority data is available (Linux's `EPOLLPRI`).
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Ready = Ready(PRIORITY_READY);
    /// An error condition.
    pub const ERROR: Ready = Ready(ERROR_READY);
    /// Everything.
    pub const ALL: Ready = Ready(
        READABLE_READY
            | WRITABLE_READY
            | READ_CLOSED_READY
            | WRITE_CLOSED_READY
            | PRIORITY_READY
            | ERROR_READY,
    );

    /// Whether nothing is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether readable is set.
    pub fn is_readable(self) -> bool {
        self.0 & READABLE_READY != 0
    }

    /// Whether writable is set.
    pub fn is_writable(self) -> bool {
        self.0 & WRITABLE_READY != 0
    }

    /// Whether read-closed is set.
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED_READY != 0
    }

    /// Whether write-closed is set.
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED_READY != 0
    }

    /// Whether priority is set.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn is_priority(self) -> bool {
        self.0 & PRIORITY_READY != 0
    }

    /// Whether error is set.
    pub fn is_error(self) -> bool {
        self.0 & ERROR_READY != 0
    }

    /// The part of this readiness that answers `interest`.
    #[allow(dead_code)] // The readiness API of the net types uses it.
    pub(crate) fn intersection(self, interest: Interest) -> Ready {
        self & interest.mask()
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (READABLE_READY, "READABLE"),
            (WRITABLE_READY, "WRITABLE"),
            (READ_CLOSED_READY, "READ_CLOSED"),
            (WRITE_CLOSED_READY, "WRITE_CLOSED"),
            (PRIORITY_READY, "PRIORITY"),
            (ERROR_READY, "ERROR"),
        ];
        write_flags(f, self.0, &names)
    }
}

/// Writes `bits` as `A | B`, or `EMPTY`.
fn write_flags(f: &mut fmt::Formatter<'_>, bits: u8, names: &[(u8, &str)]) -> fmt::Result {
    let mut first = true;
    for &(bit, name) in names {
        if bits & bit != 0 {
            if !first {
                f.write_str(" | ")?;
            }
            f.write_str(name)?;
            first = false;
        }
    }
    if first {
        f.write_str("EMPTY")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Interest, Ready};

    #[test]
    fn an_interest_is_answered_by_its_direction_and_that_direction_closing() {
        let seen = Ready::READABLE | Ready::WRITE_CLOSED;
        assert_eq!(seen.intersection(Interest::READABLE), Ready::READABLE);
        assert_eq!(seen.intersection(Interest::WRITABLE), Ready::WRITE_CLOSED);
        assert_eq!(Ready::ERROR.intersection(Interest::READABLE), Ready::EMPTY);
        assert_eq!(Ready::ERROR.intersection(Interest::ERROR), Ready::ERROR);
    }

    #[test]
    fn removing_every_part_leaves_none() {
        let both = Interest::READABLE | Interest::WRITABLE;
        assert_eq!(both.remove(both), None);
        assert_eq!(format!("{both:?}"), "READABLE | WRITABLE");
        assert_eq!(format!("{:?}", Ready::EMPTY), "EMPTY");
    }
}

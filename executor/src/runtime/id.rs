//! `runtime::Id`: what tells runtimes apart.

use std::fmt;
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

/// An opaque id of a runtime, unique among the runtimes of the process
/// (tokio's `runtime::Id`). smp_rt never reuses one, unlike tokio, which
/// only promises uniqueness among the runtimes alive at once.
///
/// # Examples
///
/// ```
/// use smp_rt_executor::runtime::Runtime;
///
/// let a = Runtime::new().unwrap();
/// let b = Runtime::new().unwrap();
/// assert_ne!(a.handle().id(), b.handle().id());
/// assert_eq!(a.handle().id(), a.handle().clone().id());
/// println!("runtime {}", a.handle().id());
/// ```
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq)]
pub struct Id(NonZeroU64);

impl Id {
    /// A fresh id, never returned before in this process.
    pub(crate) fn next() -> Id {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        Id(NonZeroU64::new(id).expect("runtime ids ran out (2^64 runtimes)"))
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a runtime knows about itself: its id and its name, kept as an
/// extension of the runtime (see `Builder::build`).
#[derive(Debug)]
pub(crate) struct Identity {
    pub(crate) id: Id,
    pub(crate) name: Option<String>,
}

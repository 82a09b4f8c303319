//! The two runtimes under comparison, built the same way.

use std::io;
use std::num::NonZeroUsize;
use std::thread;

/// The name of a runtime, as it appears in tables, charts and CSV files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RuntimeKind {
    /// smp_rt's multi-thread runtime.
    SmpRt,
    /// tokio's multi-thread runtime.
    Tokio,
}

impl RuntimeKind {
    /// Both runtimes, smp_rt first.
    pub const ALL: [RuntimeKind; 2] = [RuntimeKind::SmpRt, RuntimeKind::Tokio];

    /// `"smp_rt"` or `"tokio"`.
    pub fn name(self) -> &'static str {
        match self {
            RuntimeKind::SmpRt => "smp_rt",
            RuntimeKind::Tokio => "tokio",
        }
    }

    /// The runtime called `name` (as returned by [`RuntimeKind::name`]).
    pub fn from_name(name: &str) -> Option<RuntimeKind> {
        RuntimeKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name)
    }
}

/// The default worker count: the number of CPUs this process may use.
pub fn default_workers() -> usize {
    thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// An smp_rt multi-thread runtime with `workers` worker threads and
/// everything else at its defaults.
///
/// # Errors
///
/// When `workers` is 0 or the threads cannot be started.
pub fn smp_rt(workers: usize) -> io::Result<smp_rt::runtime::Runtime> {
    smp_rt::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("smp-rt-bench")
        .enable_all()
        .build()
}

/// A tokio multi-thread runtime with `workers` worker threads and
/// everything else at its defaults.
///
/// # Errors
///
/// When `workers` is 0 or the threads cannot be started.
pub fn tokio(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    if workers == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "worker_threads must be at least 1",
        ));
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("tokio-bench")
        .enable_all()
        .build()
}

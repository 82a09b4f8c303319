//! tokio's public API on smp_rt's runtime.
//!
//! This crate is named `tokio` so that one line in a service's
//! `Cargo.toml` puts smp_rt under the service *and* under every crate in
//! its graph that calls tokio itself (hyper-util, axum, tonic, reqwest,
//! tokio-util, ...):
//!
//! ```toml
//! [patch.crates-io]
//! tokio = { path = "path/to/smp_rt/compat/tokio" }
//! ```
//!
//! It maps names and holds no runtime of its own: every item is smp_rt's
//! (`tokio::spawn` is `smp_rt::spawn`, `tokio::sync::mpsc` is
//! `smp_rt::sync::mpsc`, `#[tokio::main]` builds an smp_rt runtime). Code
//! under it reaches smp_rt's extras (priorities, reductions, BEAM
//! processes) through `smp_rt::`: the same runtime underneath.

#![warn(missing_docs, rust_2018_idioms)]

pub use smp_rt::{join, pin, select, spawn, task_local, try_join};
pub use smp_rt_macros::{tokio_main as main, tokio_test as test};

pub mod fs {
    //! tokio's `fs`: smp_rt's files and directories, on the blocking pool.
    pub use smp_rt::fs::*;
}

pub mod io {
    //! tokio's `io`: smp_rt's tokio-shaped IO traits and helpers.
    pub use smp_rt::io::*;
}

pub mod net {
    //! tokio's `net`: smp_rt's sockets.
    pub use smp_rt::net::*;
}

pub mod process {
    //! tokio's `process`: smp_rt's child processes (its BEAM-style
    //! processes stay in `smp_rt::process`).
    pub use smp_rt::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
}

pub mod runtime {
    //! tokio's `runtime`: smp_rt's runtime, builder and handle.
    pub use smp_rt::runtime::*;
}

#[cfg(unix)]
pub mod signal {
    //! tokio's `signal`: smp_rt's signal listeners.
    pub use smp_rt::signal::*;
}

pub mod stream {
    //! Empty, as tokio's: streams live in the `tokio-stream` crate.
}

pub mod sync {
    //! tokio's `sync`: smp_rt's channels and locks.
    pub use smp_rt::sync::*;
}

pub mod task {
    //! tokio's `task`: smp_rt's tasks.
    pub use smp_rt::task::*;
}

pub mod time {
    //! tokio's `time`: smp_rt's timers.
    pub use smp_rt::time::*;
}

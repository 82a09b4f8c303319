//! Asynchronous signal handling, with tokio's paths: [`ctrl_c`] and, on
//! Unix, [`unix::signal`].
//!
//! A signal is recorded by a process-wide handler, which writes a byte to
//! a socket that every listener watches through its runtime's reactor; a
//! listener that finds the socket readable drains it and wakes every
//! listener of the signals delivered (see `registry.rs` for the protocol).
//! Waiting charges one reduction per poll, as every smp_rt leaf future
//! does.
//!
//! # Examples
//!
//! ```no_run
//! #[smp_rt::main]
//! async fn main() -> std::io::Result<()> {
//!     smp_rt::signal::ctrl_c().await?;
//!     println!("Ctrl-C: shutting down");
//!     Ok(())
//! }
//! ```

use std::io;

mod registry;
pub mod unix;

/// Completes when the process receives Ctrl-C (`SIGINT` on Unix).
///
/// The first call installs a process-wide handler for `SIGINT`, which
/// stays installed: from then on Ctrl-C no longer terminates the process
/// by default (see [`unix::Signal`]'s caveats). The listener exists from
/// the first poll of the returned future: a Ctrl-C before that is not
/// seen. To wait for several, use `unix::signal(SignalKind::interrupt())`.
///
/// # Errors
///
/// An error if the handler could not be installed or the OS refuses a
/// descriptor.
///
/// # Panics
///
/// Panics when polled outside an smp_rt runtime, as tokio's does.
///
/// # Examples
///
/// ```no_run
/// #[smp_rt::main]
/// async fn main() {
///     let server = smp_rt::spawn(async { /* serve requests */ });
///     smp_rt::signal::ctrl_c().await.expect("failed to listen for Ctrl-C");
///     server.abort();
/// }
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = unix::signal(unix::SignalKind::interrupt())?;
    interrupts.recv().await;
    Ok(())
}

//! A small Redis-protocol (RESP) server: `GET`, `SET` (with `EX`/`PX`
//! expiry), `DEL`, `DBSIZE`, `PING` and pub/sub (`SUBSCRIBE`,
//! `UNSUBSCRIBE`, `PUBLISH`).
//!
//! Written as a tokio service is written: one task per connection, a
//! buffered reader and writer on the socket's halves, a `broadcast` channel
//! per pub/sub channel, a read timeout per connection, a task that drops
//! expired keys, and a graceful shutdown that lets every connection finish
//! the command it is reading.
//!
//! The same source builds on tokio (feature `on-tokio`, the default) and on
//! smp_rt (feature `on-smp_rt`): the only difference is the renaming line
//! below.

#[cfg(feature = "on-smp_rt")]
extern crate smp_rt as tokio;

#[cfg(not(any(feature = "on-tokio", feature = "on-smp_rt")))]
compile_error!(
    "redis_pubsub needs a runtime: enable the feature `on-tokio` (the default) or `on-smp_rt`"
);
#[cfg(all(feature = "on-tokio", feature = "on-smp_rt"))]
compile_error!(
    "redis_pubsub: `on-tokio` and `on-smp_rt` exclude each other; for smp_rt, build with `--no-default-features --features on-smp_rt`"
);

pub mod command;
mod connection;
pub mod db;
pub mod frame;
pub mod server;

pub use server::{Config, run};

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

pub mod command;
mod connection;
pub mod db;
pub mod frame;
pub mod server;

pub use server::{Config, run};

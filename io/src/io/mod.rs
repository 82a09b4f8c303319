//! The IO traits and helpers, in tokio's shape: [`AsyncRead`],
//! [`AsyncWrite`], [`AsyncBufRead`], [`AsyncSeek`] and their extension
//! traits ([`AsyncReadExt`], [`AsyncWriteExt`], [`AsyncBufReadExt`],
//! [`AsyncSeekExt`]), tokio's adapters and helpers ([`BufReader`],
//! [`copy`], [`duplex`], [`split`], ...).
//!
//! smp_rt's streams implement [`AsyncRead`] and [`AsyncWrite`] (and the
//! futures crate's traits, and with the `tokio-io` feature tokio's). Every
//! wait of an smp_rt stream charges a reduction, and so does every poll of
//! an extension trait's future and everything else that never waits;
//! `std`'s in-memory readers and writers (`&[u8]`, `Vec<u8>`, `Cursor`)
//! do not, as in tokio.
//!
//! # Examples
//!
//! ```
//! # smp_rt::block_on(async {
//! use smp_rt_io::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
//! use smp_rt_io::net::UnixStream;
//!
//! let (mut a, mut b) = UnixStream::pair()?;
//! a.write_u16(11).await?;
//! a.write_all(b"first line\nsecond").await?;
//! a.shutdown().await?; // shuts down writing: `b` reads end-of-file
//! let len = b.read_u16().await?;
//! let mut text = Vec::new();
//! b.read_to_end(&mut text).await?;
//! assert_eq!(&text[..usize::from(len)], b"first line\n");
//! let mut lines = text.as_slice().lines();
//! assert_eq!(lines.next_line().await?.as_deref(), Some("first line"));
//! assert_eq!(lines.next_line().await?.as_deref(), Some("second"));
//! assert_eq!(lines.next_line().await?, None);
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

mod blocking;
mod buf_reader;
mod buf_stream;
mod buf_writer;
mod copy;
mod duplex;
mod ext;
mod interest;
mod join;
mod read_buf;
mod split;
mod stdio;
mod traits;
#[cfg(unix)]
pub mod unix;
mod util;

pub use buf_reader::BufReader;
pub use buf_stream::BufStream;
pub use buf_writer::BufWriter;
pub use copy::{copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf};
pub use duplex::{DuplexStream, SimplexStream, duplex, simplex};
pub use ext::{
    AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, Chain, Lines, Split, Take,
};
pub use interest::{Interest, Ready};
pub use join::{Join, join};
pub use read_buf::ReadBuf;
pub use split::{ReadHalf, WriteHalf, split};
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};
pub use stdio::{Stderr, Stdin, Stdout, stderr, stdin, stdout};
pub use traits::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use util::{Empty, Repeat, Sink, empty, repeat, sink};

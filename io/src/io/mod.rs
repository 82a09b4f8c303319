//! The IO traits and helpers, in tokio's shape: the traits, the adapters
//! (`BufReader`, `BufWriter`, `BufStream`, `split`, `join`), in-memory
//! pipes (`duplex`, `simplex`), `copy` and its kin, `empty`, `repeat`,
//! `sink`, and the standard streams. What never waits charges reductions.
//!
//! smp_rt's streams implement [`AsyncRead`] and [`AsyncWrite`]; the
//! extension traits add `read_exact`, `write_all`, `close`, ... (With the
//! `tokio-io` feature they also implement tokio's traits.) Every wait of an
//! smp_rt stream charges a reduction; `std`'s in-memory readers and
//! writers (`&[u8]`, `Vec<u8>`, `Cursor`) do not, as in tokio.
//!
//! # Examples
//!
//! ```
//! # smp_rt::block_on(async {
//! use smp_rt_io::io::{AsyncReadExt, AsyncWriteExt};
//! use smp_rt_io::net::UnixStream;
//!
//! let (a, mut b) = UnixStream::pair()?;
//! let (mut reader, mut writer) = a.into_split();
//! writer.write_all(b"through a split").await?;
//! writer.close().await?; // shuts down writing: `b` reads end-of-file
//! let mut got = Vec::new();
//! b.read_to_end(&mut got).await?;
//! assert_eq!(got, b"through a split");
//! b.write_all(b"back").await?;
//! let mut back = [0; 4];
//! reader.read_exact(&mut back).await?;
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

mod blocking;
mod buf_reader;
mod buf_stream;
mod buf_writer;
mod copy;
mod duplex;
#[doc(hidden)]
pub mod ext;
mod interest;
mod join;
mod read_buf;
mod split;
mod stdio;
mod traits;
mod util;

pub use buf_reader::BufReader;
pub use buf_stream::BufStream;
pub use buf_writer::BufWriter;
pub use copy::{copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf};
pub use duplex::{DuplexStream, SimplexStream, duplex, simplex};
pub use futures::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
pub use interest::{Interest, Ready};
pub use join::{Join, join};
pub use read_buf::ReadBuf;
pub use split::{ReadHalf, WriteHalf, split};
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};
pub use stdio::{Stderr, Stdin, Stdout, stderr, stdin, stdout};
pub use traits::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use util::{Empty, Repeat, Sink, empty, repeat, sink};

//! The IO traits and helpers: the futures crate's traits and adapters,
//! re-exported, and smp_rt's own `copy`, `copy_buf`, `empty`, `repeat` and
//! `sink`, which charge reductions (see `util`).
//!
//! smp_rt's streams implement [`AsyncRead`] and [`AsyncWrite`]; the
//! extension traits add `read_exact`, `write_all`, `close`, ... (With the
//! `tokio-io` feature they also implement tokio's traits.) Every wait of an
//! smp_rt stream charges a reduction; the futures crate's in-memory
//! adapters (`Cursor`, `AllowStdIo`) do not.
//!
//! # Examples
//!
//! ```
//! # smp_rt::block_on(async {
//! use smp_rt_io::io::{self, AsyncReadExt, AsyncWriteExt};
//! use smp_rt_io::net::UnixStream;
//!
//! let (a, mut b) = UnixStream::pair()?;
//! let (mut reader, mut writer) = io::split(a);
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

mod interest;
mod read_buf;
mod traits;
#[cfg(unix)]
pub mod unix;
mod util;

pub use futures::io::{
    AllowStdIo, AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter,
    Cursor, LineWriter, ReadHalf, ReuniteError, Take, WriteHalf,
};
pub use interest::{Interest, Ready};
pub use read_buf::ReadBuf;
pub use std::io::{Error, ErrorKind, IoSlice, IoSliceMut, Result, SeekFrom};
pub use traits::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
pub use util::{Empty, Repeat, Sink, copy, copy_buf, empty, repeat, sink};

/// Splits a reader-writer into a read half and a write half that can be
/// used from different tasks (they share the object through a lock).
///
/// For smp_rt's streams, prefer their own `split`/`into_split`, which need
/// no lock and wait on each direction separately.
pub fn split<T: futures::io::AsyncRead + futures::io::AsyncWrite>(
    stream: T,
) -> (ReadHalf<T>, WriteHalf<T>) {
    futures::io::AsyncReadExt::split(stream)
}

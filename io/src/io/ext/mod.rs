//! tokio's four extension traits on smp_rt's IO traits:
//! [`AsyncReadExt`], [`AsyncWriteExt`], [`AsyncBufReadExt`] and
//! [`AsyncSeekExt`], with the futures they return and the adapters they
//! build ([`Take`], [`Chain`], [`Lines`], [`Split`]).
//!
//! Every future here charges one reduction per poll, before it touches
//! the reader or writer. A stream charges its own reductions as it waits,
//! but an in-memory reader (`&[u8]`, `Cursor`) never returns `Pending`:
//! without this charge a loop of `read_u8().await` over one would hold
//! its worker to the end, and a `timeout` around it would never fire. A
//! poll that finds the slice spent returns `Pending` before doing any IO,
//! so the charge changes no future's cancellation behaviour.
//!
//! The futures are `!Unpin`, as tokio's are: `.await` them, or use them
//! as `select!` branches; to poll one by hand, pin it first
//! (`std::pin::pin!`).

mod buf_read_ext;
mod chain;
mod lines;
mod read_ext;
mod seek_ext;
mod split;
mod take;
mod write_ext;

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use buf_read_ext::AsyncBufReadExt;
pub use chain::Chain;
pub use lines::Lines;
pub use read_ext::AsyncReadExt;
pub use seek_ext::AsyncSeekExt;
pub use split::Split;
pub use take::Take;
pub use write_ext::AsyncWriteExt;

use super::{AsyncBufRead, AsyncRead, ReadBuf};

/// Reads once from `reader` into `buf`, returning how many bytes it read.
fn poll_read_slice<R: AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    let mut read_buf = ReadBuf::new(buf);
    match reader.poll_read(cx, &mut read_buf) {
        Poll::Ready(Ok(())) => Poll::Ready(Ok(read_buf.filled().len())),
        Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
        Poll::Pending => Poll::Pending,
    }
}

/// Moves bytes from `reader` into `out` up to and including `delimiter`
/// (or to end-of-file), adding their count to `*read`. Bytes already
/// moved stay in `out` if this returns `Pending` or an error, so that a
/// later call goes on where this one stopped; on success it returns the
/// count and resets `*read` to 0.
fn poll_read_until<R: AsyncBufRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    delimiter: u8,
    out: &mut Vec<u8>,
    read: &mut usize,
) -> Poll<io::Result<usize>> {
    loop {
        let available = match reader.as_mut().poll_fill_buf(cx) {
            Poll::Ready(Ok(available)) => available,
            Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::Interrupted => continue,
            Poll::Ready(Err(err)) => return Poll::Ready(Err(err)),
            Poll::Pending => return Poll::Pending,
        };
        let (found, used) = match available.iter().position(|&b| b == delimiter) {
            Some(at) => (true, at + 1),
            None => (false, available.len()),
        };
        out.extend_from_slice(&available[..used]);
        reader.as_mut().consume(used);
        *read += used;
        if found || used == 0 {
            return Poll::Ready(Ok(std::mem::take(read)));
        }
    }
}

/// The error of a read that reached end-of-file before it had all the
/// bytes it needed.
fn early_eof() -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        "early end-of-file: the reader ended before the buffer was full",
    )
}

/// The error of a read whose bytes are not UTF-8.
fn invalid_utf8(err: std::str::Utf8Error) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, err)
}

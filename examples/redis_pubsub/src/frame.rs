//! RESP on the wire: reading the commands a client sends and writing the
//! replies.
//!
//! A command is an array of bulk strings (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`)
//! or an inline line of words (`GET k\r\n`, what `telnet` sends). Malformed
//! input is an [`io::ErrorKind::InvalidData`] error whose message says what
//! was wrong; the connection answers it with a protocol error and closes.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Longest line accepted: an array or bulk header, or an inline command.
pub const MAX_LINE: usize = 64 * 1024;

/// Largest bulk string accepted, in bytes.
pub const MAX_BULK: usize = 8 * 1024 * 1024;

/// Most arguments accepted in one command.
pub const MAX_ARGS: usize = 1024 * 1024;

/// A reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `+OK`
    Simple(&'static str),
    /// `-ERR ...`
    Error(String),
    /// `:1`
    Integer(i64),
    /// `$5\r\nhello`
    Bulk(Arc<[u8]>),
    /// `$-1`, the missing value.
    Null,
    /// `*N` followed by N frames, none of them an array.
    Array(Vec<Frame>),
}

/// Reads one command: its arguments, or `None` if the client closed the
/// connection between commands. A command without arguments (`*0`, an
/// empty line) is returned as an empty vector.
///
/// Not cancel-safe: dropped half-way, the rest of the command is left in
/// `reader` as if it were the next one. Wait for input with
/// [`AsyncBufReadExt::fill_buf`] (which is) before calling this.
pub async fn read_command<R>(reader: &mut R) -> io::Result<Option<Vec<Vec<u8>>>>
where
    R: AsyncBufRead + Unpin,
{
    let first = match reader.fill_buf().await?.first() {
        None => return Ok(None),
        Some(&byte) => byte,
    };
    if first != b'*' {
        let line = read_line(reader).await?;
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        let args = line
            .split(|b| b.is_ascii_whitespace())
            .filter(|word| !word.is_empty())
            .map(<[u8]>::to_vec)
            .collect();
        return Ok(Some(args));
    }
    reader.read_u8().await?;
    let count = read_length(reader, "array", MAX_ARGS).await?;
    let mut args = Vec::with_capacity(count.min(64));
    for _ in 0..count {
        let marker = reader.read_u8().await?;
        if marker != b'$' {
            return Err(protocol_error(format!(
                "expected '$', got '{}'",
                char::from(marker).escape_default()
            )));
        }
        let len = read_length(reader, "bulk", MAX_BULK).await?;
        let mut arg = vec![0; len];
        reader.read_exact(&mut arg).await?;
        let mut end = [0; 2];
        reader.read_exact(&mut end).await?;
        if &end != b"\r\n" {
            return Err(protocol_error("a bulk string does not end with CRLF"));
        }
        args.push(arg);
    }
    Ok(Some(args))
}

/// Writes `frame` to `writer` (which should be buffered: a frame is written
/// in several pieces). The caller flushes.
pub async fn write_frame<W>(writer: &mut W, frame: &Frame) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    if let Frame::Array(items) = frame {
        writer.write_u8(b'*').await?;
        write_decimal(writer, items.len() as i64).await?;
        for item in items {
            write_value(writer, item).await?;
        }
        Ok(())
    } else {
        write_value(writer, frame).await
    }
}

/// Writes a frame that is not an array.
async fn write_value<W>(writer: &mut W, frame: &Frame) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    match frame {
        Frame::Simple(text) => {
            writer.write_u8(b'+').await?;
            writer.write_all(text.as_bytes()).await?;
            writer.write_all(b"\r\n").await
        }
        Frame::Error(text) => {
            writer.write_u8(b'-').await?;
            writer.write_all(text.as_bytes()).await?;
            writer.write_all(b"\r\n").await
        }
        Frame::Integer(n) => {
            writer.write_u8(b':').await?;
            write_decimal(writer, *n).await
        }
        Frame::Bulk(data) => {
            writer.write_u8(b'$').await?;
            write_decimal(writer, data.len() as i64).await?;
            writer.write_all(data).await?;
            writer.write_all(b"\r\n").await
        }
        Frame::Null => writer.write_all(b"$-1\r\n").await,
        Frame::Array(_) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "RESP replies here are never nested arrays",
        )),
    }
}

/// Writes `n` and CRLF.
async fn write_decimal<W>(writer: &mut W, n: i64) -> io::Result<()>
where
    W: AsyncWrite + Unpin,
{
    writer.write_all(n.to_string().as_bytes()).await?;
    writer.write_all(b"\r\n").await
}

/// Reads a line ending in `\n` (kept), at most [`MAX_LINE`] bytes long.
async fn read_line<R>(reader: &mut R) -> io::Result<Vec<u8>>
where
    R: AsyncBufRead + Unpin,
{
    let mut line = Vec::new();
    (&mut *reader)
        .take(MAX_LINE as u64)
        .read_until(b'\n', &mut line)
        .await?;
    match line.pop() {
        Some(b'\n') => Ok(line),
        _ if line.len() + 1 >= MAX_LINE => Err(protocol_error(format!(
            "a line is longer than {MAX_LINE} bytes"
        ))),
        _ => Err(io::ErrorKind::UnexpectedEof.into()),
    }
}

/// Reads the length after `*` or `$` and its CRLF; `-1` (a null) reads as 0.
async fn read_length<R>(reader: &mut R, what: &str, max: usize) -> io::Result<usize>
where
    R: AsyncBufRead + Unpin,
{
    let line = read_line(reader).await?;
    let digits = line
        .strip_suffix(b"\r")
        .ok_or_else(|| protocol_error(format!("the {what} length does not end with CRLF")))?;
    let text = std::str::from_utf8(digits).unwrap_or("");
    match text.parse::<i64>() {
        Ok(-1) => Ok(0),
        Ok(len) if (0..=max as i64).contains(&len) => Ok(len as usize),
        Ok(len) => Err(protocol_error(format!(
            "invalid {what} length {len} (at most {max})"
        ))),
        Err(_) => Err(protocol_error(format!(
            "invalid {what} length '{}'",
            String::from_utf8_lossy(digits)
        ))),
    }
}

fn protocol_error(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn parse(input: &[u8]) -> io::Result<Option<Vec<Vec<u8>>>> {
        let mut reader = tokio::io::BufReader::new(input);
        read_command(&mut reader).await
    }

    #[tokio::test]
    async fn arrays_and_inline_commands() {
        let args = parse(b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n").await.unwrap();
        assert_eq!(args, Some(vec![b"GET".to_vec(), b"k".to_vec()]));
        let args = parse(b"SET  k v\r\n").await.unwrap();
        assert_eq!(
            args,
            Some(vec![b"SET".to_vec(), b"k".to_vec(), b"v".to_vec()])
        );
        assert_eq!(parse(b"").await.unwrap(), None);
    }

    #[tokio::test]
    async fn malformed_input_is_invalid_data() {
        for input in [
            &b"*1\r\n+GET\r\n"[..],
            b"*x\r\n",
            b"*1\r\n$99999999999\r\n",
            b"*1\r\n$1\r\nab\r\n",
        ] {
            let err = parse(input).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{input:?}: {err}");
        }
        let err = parse(b"*1\r\n$3\r\nGE").await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[tokio::test]
    async fn replies() {
        let mut out = Vec::new();
        let reply = Frame::Array(vec![
            Frame::Bulk(Arc::from(&b"message"[..])),
            Frame::Integer(-2),
            Frame::Null,
            Frame::Simple("OK"),
            Frame::Error("ERR no".into()),
        ]);
        write_frame(&mut out, &reply).await.unwrap();
        assert_eq!(
            out,
            b"*5\r\n$7\r\nmessage\r\n:-2\r\n$-1\r\n+OK\r\n-ERR no\r\n"
        );
        let nested = Frame::Array(vec![Frame::Array(vec![])]);
        assert!(write_frame(&mut out, &nested).await.is_err());
    }
}

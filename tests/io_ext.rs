//! The IO extension traits: `AsyncReadExt`, `AsyncWriteExt`,
//! `AsyncBufReadExt`, `AsyncSeekExt`, and the adapters they make (`Take`,
//! `Chain`, `Lines`, `Split`), over smp_rt's streams and in-memory readers.

use std::collections::VecDeque;
use std::future::{Future, poll_fn};
use std::io::{Cursor, ErrorKind, IoSlice, SeekFrom};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::BytesMut;
use smp_rt::io::{
    self, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeekExt, AsyncWrite,
    AsyncWriteExt, ReadBuf,
};
use smp_rt::net::UnixStream;

/// A buffered reader over fixed chunks that returns `Pending` (waking
/// itself) before each chunk, then end-of-file; or an error where a chunk
/// is `None`. It makes every read cross chunk boundaries and resume.
struct Chunks {
    chunks: VecDeque<Option<Vec<u8>>>,
    /// The current chunk and how much of it was consumed.
    current: Vec<u8>,
    at: usize,
    pending_next: bool,
}

impl Chunks {
    fn new(chunks: &[&[u8]]) -> Chunks {
        Chunks::with_errors(chunks.iter().map(|c| Some(c.to_vec())).collect())
    }

    fn with_errors(chunks: Vec<Option<Vec<u8>>>) -> Chunks {
        Chunks {
            chunks: chunks.into(),
            current: Vec::new(),
            at: 0,
            pending_next: true,
        }
    }
}

impl AsyncBufRead for Chunks {
    fn poll_fill_buf(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<&[u8]>> {
        let this = self.get_mut();
        if this.at == this.current.len() {
            if this.chunks.is_empty() {
                return Poll::Ready(Ok(&[]));
            }
            if this.pending_next {
                this.pending_next = false;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            this.pending_next = true;
            match this.chunks.pop_front().unwrap() {
                Some(chunk) => {
                    this.current = chunk;
                    this.at = 0;
                }
                None => return Poll::Ready(Err(io::Error::other("chunk error"))),
            }
        }
        Poll::Ready(Ok(&this.current[this.at..]))
    }

    fn consume(self: Pin<&mut Self>, amt: usize) {
        self.get_mut().at += amt;
    }
}

impl AsyncRead for Chunks {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let available = std::task::ready!(self.as_mut().poll_fill_buf(cx))?;
        let n = available.len().min(buf.remaining());
        buf.put_slice(&available[..n]);
        self.consume(n);
        Poll::Ready(Ok(()))
    }
}

/// A writer that takes at most `max` bytes per write and records each
/// write.
struct Trickle {
    max: usize,
    written: Vec<u8>,
    writes: usize,
}

impl AsyncWrite for Trickle {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let n = buf.len().min(self.max);
        self.written.extend_from_slice(&buf[..n]);
        self.writes += 1;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[smp_rt::test]
async fn numbers_are_written_and_read_in_both_byte_orders() {
    let mut out = Vec::new();
    out.write_u8(0x01).await.unwrap();
    out.write_i8(-2).await.unwrap();
    out.write_u16(0x0102).await.unwrap();
    out.write_u16_le(0x0102).await.unwrap();
    out.write_i16(-2).await.unwrap();
    out.write_i16_le(-2).await.unwrap();
    out.write_u32(0x0102_0304).await.unwrap();
    out.write_u32_le(0x0102_0304).await.unwrap();
    out.write_i32(-3).await.unwrap();
    out.write_i32_le(-3).await.unwrap();
    out.write_u64(0x0102_0304_0506_0708).await.unwrap();
    out.write_u64_le(0x0102_0304_0506_0708).await.unwrap();
    out.write_i64(i64::MIN).await.unwrap();
    out.write_i64_le(i64::MIN).await.unwrap();
    out.write_u128(1).await.unwrap();
    out.write_u128_le(1).await.unwrap();
    out.write_i128(-1).await.unwrap();
    out.write_i128_le(i128::MAX).await.unwrap();
    out.write_f32(1.5).await.unwrap();
    out.write_f32_le(1.5).await.unwrap();
    out.write_f64(-0.25).await.unwrap();
    out.write_f64_le(-0.25).await.unwrap();

    let mut expected: Vec<u8> = vec![0x01, 0xfe, 0x01, 0x02, 0x02, 0x01, 0xff, 0xfe, 0xfe, 0xff];
    expected.extend([1, 2, 3, 4, 4, 3, 2, 1]);
    expected.extend([0xff, 0xff, 0xff, 0xfd, 0xfd, 0xff, 0xff, 0xff]);
    expected.extend([1, 2, 3, 4, 5, 6, 7, 8, 8, 7, 6, 5, 4, 3, 2, 1]);
    expected.extend([0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]);
    expected.extend([0; 15]);
    expected.extend([1]);
    expected.extend([1]);
    expected.extend([0; 15]);
    expected.extend([0xff; 16]);
    expected.extend([0xff; 15]);
    expected.extend([0x7f]);
    expected.extend(1.5f32.to_be_bytes());
    expected.extend(1.5f32.to_le_bytes());
    expected.extend((-0.25f64).to_be_bytes());
    expected.extend((-0.25f64).to_le_bytes());
    assert_eq!(out, expected);

    // Read back through a socket, so that each number may arrive in parts.
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let writer = smp_rt::spawn(async move {
        for byte in out {
            a.write_all(&[byte]).await.unwrap();
        }
    });
    assert_eq!(b.read_u8().await.unwrap(), 0x01);
    assert_eq!(b.read_i8().await.unwrap(), -2);
    assert_eq!(b.read_u16().await.unwrap(), 0x0102);
    assert_eq!(b.read_u16_le().await.unwrap(), 0x0102);
    assert_eq!(b.read_i16().await.unwrap(), -2);
    assert_eq!(b.read_i16_le().await.unwrap(), -2);
    assert_eq!(b.read_u32().await.unwrap(), 0x0102_0304);
    assert_eq!(b.read_u32_le().await.unwrap(), 0x0102_0304);
    assert_eq!(b.read_i32().await.unwrap(), -3);
    assert_eq!(b.read_i32_le().await.unwrap(), -3);
    assert_eq!(b.read_u64().await.unwrap(), 0x0102_0304_0506_0708);
    assert_eq!(b.read_u64_le().await.unwrap(), 0x0102_0304_0506_0708);
    assert_eq!(b.read_i64().await.unwrap(), i64::MIN);
    assert_eq!(b.read_i64_le().await.unwrap(), i64::MIN);
    assert_eq!(b.read_u128().await.unwrap(), 1);
    assert_eq!(b.read_u128_le().await.unwrap(), 1);
    assert_eq!(b.read_i128().await.unwrap(), -1);
    assert_eq!(b.read_i128_le().await.unwrap(), i128::MAX);
    assert_eq!(b.read_f32().await.unwrap(), 1.5);
    assert_eq!(b.read_f32_le().await.unwrap(), 1.5);
    assert_eq!(b.read_f64().await.unwrap(), -0.25);
    assert_eq!(b.read_f64_le().await.unwrap(), -0.25);
    writer.await.unwrap();
    // The writer is gone: end-of-file.
    assert_eq!(b.read(&mut [0; 4]).await.unwrap(), 0);
}

#[smp_rt::test]
async fn read_exact_and_numbers_fail_with_unexpected_eof_when_the_stream_ends_early() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    a.write_all(b"abc").await.unwrap();
    a.shutdown().await.unwrap();
    let mut buf = [0; 5];
    let err = b.read_exact(&mut buf).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    assert_eq!(
        &buf[..3],
        b"abc",
        "the bytes that did arrive are in the buffer"
    );

    let mut short: &[u8] = &[1, 2];
    let err = short.read_u32().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    let err = (&[][..]).read_u8().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UnexpectedEof);

    // A full read of exactly what is there succeeds and returns the length.
    let mut reader: &[u8] = b"xyz";
    assert_eq!(reader.read_exact(&mut [0; 3]).await.unwrap(), 3);
    assert_eq!(reader.read_exact(&mut []).await.unwrap(), 0);
}

#[smp_rt::test]
async fn read_line_appends_whole_lines_across_chunk_boundaries() {
    // "é" is two bytes, split between chunks.
    let mut reader = Chunks::new(&[b"fir", b"st\nsecond \xc3", b"\xa9", b"\nlast"]);
    let mut line = String::from("> ");
    assert_eq!(reader.read_line(&mut line).await.unwrap(), 6);
    assert_eq!(line, "> first\n");
    line.clear();
    assert_eq!(reader.read_line(&mut line).await.unwrap(), 10);
    assert_eq!(line, "second é\n");
    line.clear();
    assert_eq!(reader.read_line(&mut line).await.unwrap(), 4);
    assert_eq!(line, "last");
    assert_eq!(reader.read_line(&mut line).await.unwrap(), 0);
    assert_eq!(line, "last");
}

#[smp_rt::test]
async fn read_line_of_invalid_utf8_is_invalid_data_and_leaves_the_string_unchanged() {
    let mut reader = Chunks::new(&[b"ok\nbad \xff", b" line\nnext\n"]);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    assert_eq!(line, "ok\n");
    let err = reader.read_line(&mut line).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(line, "ok\n", "the string keeps what it had");
    // The bad line was consumed; the next one reads normally.
    reader.read_line(&mut line).await.unwrap();
    assert_eq!(line, "ok\nnext\n");

    let mut text = String::from("kept");
    let err = (&b"caf\xc3"[..])
        .read_to_string(&mut text)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(text, "kept");
}

#[smp_rt::test]
async fn an_error_of_the_reader_keeps_the_bytes_read_except_in_read_to_string() {
    let mut reader = Chunks::with_errors(vec![Some(b"partial ".to_vec()), None]);
    let mut line = String::from("[");
    let err = reader.read_line(&mut line).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert_eq!(line, "[partial ");

    // read_to_string gives nothing on an error: the string is as it was.
    let mut reader = Chunks::with_errors(vec![Some(b"lost".to_vec()), None]);
    let mut text = String::from("kept");
    let err = reader.read_to_string(&mut text).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    assert_eq!(text, "kept");

    // read_until and read_to_end keep the bytes read before the error.
    let mut reader = Chunks::with_errors(vec![Some(b"ab".to_vec()), None]);
    let mut until = Vec::new();
    assert!(reader.read_until(b'\n', &mut until).await.is_err());
    assert_eq!(until, b"ab");
    let mut reader = Chunks::with_errors(vec![Some(b"cd".to_vec()), None]);
    let mut all = Vec::new();
    assert!(reader.read_to_end(&mut all).await.is_err());
    assert_eq!(all, b"cd");
}

#[smp_rt::test]
async fn lines_strip_line_endings_and_end_with_none() {
    let mut lines = Chunks::new(&[b"one\r", b"\ntwo\n\nthr", b"ee"]).lines();
    let mut got = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        got.push(line);
    }
    assert_eq!(got, ["one", "two", "", "three"]);
    assert_eq!(lines.next_line().await.unwrap(), None);

    let mut lines = (&b"good\n\xfe\nafter\n"[..]).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("good"));
    let err = lines.next_line().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidData);
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("after"));
    assert!(lines.get_ref().is_empty());
}

/// Polls `future` once, with a waker that does nothing, and drops it.
fn poll_once_and_drop<F: Future>(future: F) -> Poll<F::Output> {
    let mut future = pin!(future);
    let waker = std::task::Waker::noop();
    future.as_mut().poll(&mut Context::from_waker(waker))
}

#[smp_rt::test]
async fn next_line_and_next_segment_keep_a_partial_item_when_cancelled() {
    let mut lines = Chunks::new(&[b"hel", b"lo\n"]).lines();
    // The first poll waits before the first chunk, the second reads it
    // and waits before the next one: then the call is dropped.
    {
        let mut next = pin!(lines.next_line());
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(next.as_mut().poll(&mut cx).is_pending());
        assert!(next.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("hello"));

    let mut segments = Chunks::new(&[b"ab", b"c|d"]).split(b'|');
    assert!(poll_once_and_drop(segments.next_segment()).is_pending());
    assert_eq!(
        segments.next_segment().await.unwrap(),
        Some(b"abc".to_vec())
    );
    assert_eq!(segments.next_segment().await.unwrap(), Some(b"d".to_vec()));
    assert_eq!(segments.next_segment().await.unwrap(), None);
}

#[smp_rt::test]
async fn split_yields_the_segments_between_delimiters() {
    let mut segments = Chunks::new(&[b"a,,b", b"c,", b"d,"]).split(b',');
    let mut got = Vec::new();
    while let Some(segment) = segments.next_segment().await.unwrap() {
        got.push(String::from_utf8(segment).unwrap());
    }
    assert_eq!(got, ["a", "", "bc", "d"]);

    let mut until = Vec::new();
    let mut reader: &[u8] = b"k=v";
    assert_eq!(reader.read_until(b'=', &mut until).await.unwrap(), 2);
    assert_eq!(reader.read_until(b'=', &mut until).await.unwrap(), 1);
    assert_eq!(reader.read_until(b'=', &mut until).await.unwrap(), 0);
    assert_eq!(until, b"k=v");
}

#[smp_rt::test]
async fn take_limits_reads_and_can_be_reset() {
    let mut take = (&b"0123456789"[..]).take(4);
    let mut got = Vec::new();
    assert_eq!(take.read_to_end(&mut got).await.unwrap(), 4);
    assert_eq!(got, b"0123");
    assert_eq!(take.limit(), 0);
    assert_eq!(
        take.read(&mut [0; 8]).await.unwrap(),
        0,
        "end-of-file at the limit"
    );
    take.set_limit(3);
    let mut line = String::new();
    take.read_line(&mut line).await.unwrap();
    assert_eq!(line, "456", "the buffered view is limited too");
    assert_eq!(take.into_inner(), b"789");

    // Over a socket: the bytes past the limit stay in the socket.
    let (mut a, b) = UnixStream::pair().unwrap();
    a.write_all(b"headbody").await.unwrap();
    let mut head = b.take(4);
    let mut buf = [0; 4];
    head.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"head");
    assert_eq!(head.read(&mut [0; 4]).await.unwrap(), 0);
    let mut b = head.into_inner();
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"body");
}

#[smp_rt::test]
async fn chain_reads_the_first_reader_then_the_second() {
    let (mut a, b) = UnixStream::pair().unwrap();
    a.write_all(b" from the socket").await.unwrap();
    a.shutdown().await.unwrap();
    let mut chain = (&b"from memory,"[..]).chain(b);
    let mut text = String::new();
    chain.read_to_string(&mut text).await.unwrap();
    assert_eq!(text, "from memory, from the socket");
    let (first, _) = chain.get_ref();
    assert!(first.is_empty());

    // Lines that span the two readers.
    let mut lines = (&b"ab"[..]).chain(&b"c\nd"[..]).lines();
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("abc"));
    assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("d"));
    assert_eq!(lines.next_line().await.unwrap(), None);
}

#[smp_rt::test]
async fn write_all_buf_writes_a_bytes_mut_through_and_advances_it() {
    let mut src = BytesMut::from(&b"a buffer written in pieces"[..]);
    let mut trickle = Trickle {
        max: 5,
        written: Vec::new(),
        writes: 0,
    };
    trickle.write_all_buf(&mut src).await.unwrap();
    assert_eq!(trickle.written, b"a buffer written in pieces");
    assert_eq!(trickle.writes, 6);
    assert!(src.is_empty());

    // Over a socket, larger than its buffer: the reader drains it meanwhile.
    let data: Vec<u8> = (0..512 * 1024u32).map(|i| (i % 249) as u8).collect();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let mut src = BytesMut::from(&data[..]);
    let writer = smp_rt::spawn(async move {
        a.write_all_buf(&mut src).await.unwrap();
        a.shutdown().await.unwrap();
        src.len()
    });
    let mut got = Vec::new();
    b.read_to_end(&mut got).await.unwrap();
    assert_eq!(writer.await.unwrap(), 0);
    assert!(got == data, "the bytes read differ from the bytes written");

    // A writer that takes nothing: WriteZero, not a loop.
    let mut full = [0u8; 2];
    let mut cursor = Cursor::new(&mut full[..]);
    let err = cursor.write_all(b"abc").await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WriteZero);
    assert_eq!(&full, b"ab");
}

#[smp_rt::test]
async fn write_buf_and_write_vectored_write_once() {
    let mut trickle = Trickle {
        max: 3,
        written: Vec::new(),
        writes: 0,
    };
    let mut src = Cursor::new(b"abcdef".to_vec());
    assert_eq!(trickle.write_buf(&mut src).await.unwrap(), 3);
    assert_eq!(src.position(), 3);
    let bufs = [IoSlice::new(b""), IoSlice::new(b"xyzw")];
    assert_eq!(trickle.write_vectored(&bufs).await.unwrap(), 3);
    assert_eq!(trickle.write(b"").await.unwrap(), 0);
    assert_eq!(trickle.written, b"abcxyz");
    trickle.flush().await.unwrap();
    trickle.shutdown().await.unwrap();
}

#[smp_rt::test]
async fn read_buf_grows_a_bytes_mut() {
    let data: Vec<u8> = (0..300 * 1024u32).map(|i| (i % 247) as u8).collect();
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let sent = data.clone();
    let writer = smp_rt::spawn(async move {
        a.write_all(&sent).await.unwrap();
    });
    let mut buf = BytesMut::new();
    let mut reads = 0;
    loop {
        let n = b.read_buf(&mut buf).await.unwrap();
        if n == 0 {
            break;
        }
        reads += 1;
    }
    writer.await.unwrap();
    assert!(reads > 0);
    assert_eq!(buf.len(), data.len());
    assert!(
        buf[..] == data[..],
        "the bytes read differ from the bytes written"
    );

    // A buffer with no room left reads nothing (and does not wait).
    let mut full = [0u8; 0];
    let mut dst = &mut full[..];
    assert_eq!((&b"more"[..]).read_buf(&mut dst).await.unwrap(), 0);
}

#[smp_rt::test]
async fn read_to_end_and_read_to_string_append() {
    let mut reader = Chunks::new(&[b"12", b"34", b"5"]);
    let mut buf = b"0".to_vec();
    assert_eq!(reader.read_to_end(&mut buf).await.unwrap(), 5);
    assert_eq!(buf, b"012345");

    // Exactly full: nothing more is read, and nothing is lost.
    let mut exact = Vec::with_capacity(3);
    (&b"abc"[..]).read_to_end(&mut exact).await.unwrap();
    assert_eq!(exact, b"abc");

    let mut text = String::from("x");
    let mut reader = Chunks::new(&[b"y\xc3", b"\xa9z"]);
    assert_eq!(reader.read_to_string(&mut text).await.unwrap(), 4);
    assert_eq!(text, "xyéz");
}

#[smp_rt::test]
async fn seek_rewind_and_stream_position_on_a_cursor() {
    let mut cursor = Cursor::new(b"0123456789".to_vec());
    assert_eq!(cursor.seek(SeekFrom::Start(4)).await.unwrap(), 4);
    assert_eq!(cursor.read_u8().await.unwrap(), b'4');
    assert_eq!(cursor.stream_position().await.unwrap(), 5);
    assert_eq!(cursor.seek(SeekFrom::Current(-2)).await.unwrap(), 3);
    assert_eq!(cursor.seek(SeekFrom::End(-1)).await.unwrap(), 9);
    assert_eq!(cursor.rewind().await.unwrap(), 0);
    let err = cursor.seek(SeekFrom::Current(-1)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let mut rest = String::new();
    cursor.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "0123456789");
}

#[smp_rt::test]
async fn fill_buf_and_consume_peek_at_the_buffer() {
    let mut reader = Chunks::new(&[b"abc", b"def"]);
    assert_eq!(reader.fill_buf().await.unwrap(), b"abc");
    reader.consume(2);
    assert_eq!(reader.fill_buf().await.unwrap(), b"c");
    reader.consume(1);
    assert_eq!(reader.fill_buf().await.unwrap(), b"def");
}

#[smp_rt::test]
async fn a_read_that_loses_a_select_reads_nothing() {
    let (mut a, mut b) = UnixStream::pair().unwrap();
    let (tx, rx) = smp_rt::sync::oneshot::channel();
    tx.send(()).unwrap();
    let mut buf = [0; 4];
    smp_rt::select! {
        _ = b.read(&mut buf) => panic!("nothing was written yet"),
        _ = rx => {}
    }
    a.write_all(b"data").await.unwrap();
    smp_rt::select! {
        n = b.read_exact(&mut buf) => assert_eq!(n.unwrap(), 4),
        _ = std::future::pending::<()>() => unreachable!(),
    }
    assert_eq!(&buf, b"data");
}

/// A reader that is always ready and charges nothing: a loop over it
/// yields only because the extension futures charge.
struct Zeros;

impl AsyncRead for Zeros {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        buf.initialize_unfilled().fill(0);
        let n = buf.remaining();
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn a_loop_over_an_always_ready_reader_lets_other_tasks_run() {
    let other_ran = Arc::new(AtomicBool::new(false));
    let flag = other_ran.clone();
    smp_rt::spawn(async move { flag.store(true, Ordering::Relaxed) });
    let mut reader = Zeros;
    // Far more reads than one slice of reductions allows.
    for _ in 0..1_000_000 {
        assert_eq!(reader.read_u8().await.unwrap(), 0);
        if other_ran.load(Ordering::Relaxed) {
            return;
        }
    }
    panic!("a million reads never let the spawned task run");
}

#[smp_rt::test]
async fn the_futures_can_be_polled_by_hand_once_pinned() {
    let mut reader: &[u8] = b"\x00\x2a";
    let mut future = pin!(reader.read_u16());
    let n = poll_fn(|cx| future.as_mut().poll(cx)).await.unwrap();
    assert_eq!(n, 42);
}

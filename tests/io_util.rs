//! The IO adapters and utilities of `smp_rt::io`: `BufReader`,
//! `BufWriter`, `BufStream`, `copy`, `copy_bidirectional`, `duplex`,
//! `simplex`, `split`, `join`, `empty`/`repeat`/`sink` and the standard
//! streams.

mod common;

use std::any::Any;
use std::io::{Cursor, IoSlice, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use smp_rt::io::{
    self, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncSeek, AsyncSeekExt,
    AsyncWrite, AsyncWriteExt, BufReader, BufStream, BufWriter, ReadBuf,
};
use smp_rt::net::UnixStream;
use smp_rt::sync::mpsc;
use smp_rt::time::timeout;

// ---- Small helpers over the extension traits.

/// One read of at most `max` bytes.
async fn read_some<R: AsyncRead + Unpin + ?Sized>(reader: &mut R, max: usize) -> Vec<u8> {
    let mut buf = vec![0; max];
    let n = reader.read(&mut buf).await.unwrap();
    buf.truncate(n);
    buf
}

async fn read_to_end<R: AsyncRead + Unpin + ?Sized>(reader: &mut R) -> Vec<u8> {
    let mut all = Vec::new();
    reader.read_to_end(&mut all).await.unwrap();
    all
}

/// One line, with its `\n`; empty at end-of-file.
async fn read_line<R: AsyncBufRead + Unpin + ?Sized>(reader: &mut R) -> String {
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    line
}

/// The message of a panic's payload.
fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .expect("a panic with a message")
}

/// Polls `f` once, with a waker that does nothing.
fn poll_once<T>(f: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
    f(&mut Context::from_waker(std::task::Waker::noop()))
}

/// A reader and writer that counts the calls reaching it and keeps what
/// is written, and whether it was shut down.
#[derive(Default)]
struct Counting {
    reads: usize,
    writes: usize,
    written: Vec<u8>,
    shut_down: bool,
    input: Cursor<Vec<u8>>,
}

impl AsyncRead for Counting {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        self.reads += 1;
        Pin::new(&mut self.input).poll_read(cx, buf)
    }
}

impl AsyncSeek for Counting {
    fn start_seek(mut self: Pin<&mut Self>, position: SeekFrom) -> std::io::Result<()> {
        Pin::new(&mut self.input).start_seek(position)
    }

    fn poll_complete(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<u64>> {
        Pin::new(&mut self.input).poll_complete(cx)
    }
}

impl AsyncWrite for Counting {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.writes += 1;
        self.written.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.shut_down = true;
        Poll::Ready(Ok(()))
    }
}

// ---- BufReader.

#[smp_rt::test(worker_threads = 2)]
async fn a_buf_reader_reads_lines_over_a_unix_stream_across_chunks() {
    let (mut tx, rx) = UnixStream::pair().unwrap();
    let writer = smp_rt::spawn(async move {
        // Chunks that split lines and hold several.
        for chunk in [&b"fir"[..], b"st\nsec", b"ond\nthird\nla", b"st"] {
            tx.write_all(chunk).await.unwrap();
            smp_rt::task::yield_now().await;
        }
        tx.shutdown().await.unwrap();
    });
    let mut reader = BufReader::with_capacity(4, rx);
    let mut lines = Vec::new();
    loop {
        let line = read_line(&mut reader).await;
        if line.is_empty() {
            break;
        }
        lines.push(line);
    }
    assert_eq!(lines, ["first\n", "second\n", "third\n", "last"]);
    writer.await.unwrap();
}

#[smp_rt::test]
async fn a_buf_reader_serves_small_reads_from_its_buffer_and_large_ones_directly() {
    let inner = Counting {
        input: Cursor::new((0..64).collect()),
        ..Counting::default()
    };
    let mut reader = BufReader::with_capacity(16, inner);
    assert_eq!(read_some(&mut reader, 4).await, [0, 1, 2, 3]);
    assert_eq!(read_some(&mut reader, 4).await, [4, 5, 6, 7]);
    assert_eq!(
        reader.get_ref().reads,
        1,
        "the second read came from the buffer"
    );
    assert_eq!(reader.buffer(), &(8..16).collect::<Vec<u8>>()[..]);
    // What is buffered comes first, even for a large read.
    assert_eq!(
        read_some(&mut reader, 32).await,
        (8..16).collect::<Vec<u8>>()
    );
    // With the buffer empty, a read of at least its size bypasses it.
    assert_eq!(
        read_some(&mut reader, 20).await,
        (16..36).collect::<Vec<u8>>()
    );
    assert!(reader.buffer().is_empty());
    assert_eq!(reader.get_ref().reads, 2);
    assert_eq!(reader.into_inner().input.position(), 36);
}

#[smp_rt::test]
async fn seeking_a_buf_reader_discards_its_buffer_and_counts_from_what_was_read() {
    let inner = Counting {
        input: Cursor::new((0..64).collect()),
        ..Counting::default()
    };
    let mut reader = BufReader::with_capacity(16, inner);
    assert_eq!(read_some(&mut reader, 2).await, [0, 1]);
    assert_eq!(reader.buffer().len(), 14);
    // Relative to the next byte this reader returns, not to the inner one.
    let at = reader.seek(SeekFrom::Current(3)).await.unwrap();
    assert_eq!(at, 5);
    assert!(reader.buffer().is_empty());
    assert_eq!(read_some(&mut reader, 1).await, [5]);
    // An offset that overflows with the buffered bytes subtracted.
    let err = reader.seek(SeekFrom::Current(i64::MIN)).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    let at = reader.seek(SeekFrom::End(-1)).await.unwrap();
    assert_eq!(at, 63);
    assert_eq!(read_to_end(&mut reader).await, [63]);
}

// ---- BufWriter.

#[smp_rt::test]
async fn a_buf_writer_gathers_small_writes_into_few_inner_writes() {
    let mut writer = BufWriter::with_capacity(64, Counting::default());
    for i in 0..100u8 {
        writer.write_all(&[i; 10]).await.unwrap();
    }
    // 1000 bytes through a 64-byte buffer: 6 tens per inner write.
    assert_eq!(writer.get_ref().writes, 16);
    assert_eq!(writer.buffer().len(), 40);
    writer.flush().await.unwrap();
    assert_eq!(writer.get_ref().writes, 17);
    let expected: Vec<u8> = (0..100u8).flat_map(|i| [i; 10]).collect();
    assert_eq!(writer.get_ref().written, expected);
    // A write as large as the buffer goes straight through.
    writer.write_all(&[7; 64]).await.unwrap();
    assert_eq!(writer.get_ref().writes, 18);
    assert!(writer.buffer().is_empty());
}

#[smp_rt::test]
async fn a_buf_writer_writes_its_buffer_out_on_shutdown() {
    let mut writer = BufWriter::new(Counting::default());
    writer.write_all(b"held back").await.unwrap();
    assert_eq!(writer.get_ref().writes, 0);
    writer.shutdown().await.unwrap();
    let inner = writer.into_inner();
    assert_eq!(inner.written, b"held back");
    assert!(inner.shut_down);
}

#[smp_rt::test]
async fn a_buf_writer_gathers_a_vectored_write_for_a_one_buffer_writer() {
    let mut writer = BufWriter::with_capacity(8, Counting::default());
    assert!(writer.is_write_vectored());
    let bufs = [
        IoSlice::new(b""),
        IoSlice::new(b"abc"),
        IoSlice::new(b"de"),
        IoSlice::new(b"fghij"),
    ];
    let n = writer.write_vectored(&bufs).await.unwrap();
    // The whole buffers that fit: "abc" and "de", not the third.
    assert_eq!(n, 5);
    assert_eq!(writer.buffer(), b"abcde");
    assert_eq!(writer.get_ref().writes, 0);
}

#[smp_rt::test]
async fn seeking_a_buf_writer_writes_its_buffer_out_first() {
    let mut writer = BufWriter::new(Cursor::new(Vec::new()));
    writer.write_all(b"abc").await.unwrap();
    assert_eq!(writer.seek(SeekFrom::Start(1)).await.unwrap(), 1);
    assert_eq!(writer.get_ref().get_ref(), b"abc");
    writer.write_all(b"X").await.unwrap();
    writer.flush().await.unwrap();
    assert_eq!(writer.into_inner().into_inner(), b"aXc");
}

#[smp_rt::test]
async fn a_buf_stream_from_a_buf_writer_over_a_buf_reader_keeps_both_buffers() {
    let (mut theirs, ours) = io::duplex(64);
    theirs.write_all(b"line one\nline two\n").await.unwrap();
    theirs.shutdown().await.unwrap(); // a lost buffer reads as end-of-file
    let mut reader = BufReader::new(ours);
    assert_eq!(read_line(&mut reader).await, "line one\n");
    let mut writer = BufWriter::new(reader);
    writer.write_all(b"unsent").await.unwrap();
    let mut stream = BufStream::from(writer);
    // What the reader had buffered is still there, and so is the unsent write.
    assert_eq!(read_line(&mut stream).await, "line two\n");
    stream.flush().await.unwrap();
    assert_eq!(read_some(&mut theirs, 16).await, b"unsent");
}

#[smp_rt::test(worker_threads = 2)]
async fn a_buf_stream_buffers_both_ways_over_a_unix_stream() {
    let (a, mut b) = UnixStream::pair().unwrap();
    let mut stream = BufStream::new(a);
    stream.write_all(b"ping\n").await.unwrap();
    stream.flush().await.unwrap();
    assert_eq!(read_some(&mut b, 16).await, b"ping\n");
    b.write_all(b"pong\nmore\n").await.unwrap();
    assert_eq!(read_line(&mut stream).await, "pong\n");
    assert_eq!(read_line(&mut stream).await, "more\n");
}

// ---- copy.

#[smp_rt::test(worker_threads = 2)]
async fn copy_moves_a_stream_to_its_end_and_returns_the_count() {
    let (mut tx, mut rx) = UnixStream::pair().unwrap();
    let data: Vec<u8> = (0..100_000u32).map(|i| i as u8).collect();
    let sent = data.clone();
    let writer = smp_rt::spawn(async move {
        tx.write_all(&sent).await.unwrap();
        tx.shutdown().await.unwrap();
    });
    let mut out = Vec::new();
    let copied = io::copy(&mut rx, &mut out).await.unwrap();
    assert_eq!(copied, 100_000);
    assert_eq!(out, data);
    writer.await.unwrap();
}

/// A writer whose flush sends what it holds on a channel.
struct SendOnFlush {
    held: Vec<u8>,
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

impl AsyncWrite for SendOnFlush {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.held.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let held = std::mem::take(&mut self.held);
        if !held.is_empty() {
            let _ = self.tx.send(held);
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        self.poll_flush(cx)
    }
}

#[smp_rt::test(worker_threads = 2)]
async fn copy_flushes_the_writer_while_the_reader_waits() {
    let (mut tx, mut rx) = io::duplex(64);
    let (flushed_tx, mut flushed) = mpsc::unbounded_channel();
    let copy = smp_rt::spawn(async move {
        let mut writer = SendOnFlush {
            held: Vec::new(),
            tx: flushed_tx,
        };
        io::copy(&mut rx, &mut writer).await
    });
    tx.write_all(b"first").await.unwrap();
    // The reader has nothing more (and no end-of-file): the copy flushes.
    assert_eq!(flushed.recv().await.unwrap(), b"first");
    tx.write_all(b"second").await.unwrap();
    assert_eq!(flushed.recv().await.unwrap(), b"second");
    drop(tx);
    assert_eq!(copy.await.unwrap().unwrap(), 11);
}

/// A writer that takes nothing.
struct Full;

impl AsyncWrite for Full {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        _: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(0))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[smp_rt::test]
async fn copy_into_a_writer_that_takes_nothing_is_a_write_zero_error() {
    let err = io::copy(&mut &b"abc"[..], &mut Full).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WriteZero);
    let mut reader = BufReader::new(&b"abc"[..]);
    let err = io::copy_buf(&mut reader, &mut Full).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::WriteZero);
}

#[smp_rt::test]
async fn copy_buf_goes_through_the_readers_own_buffer() {
    let mut reader = BufReader::with_capacity(3, &b"abcdefgh"[..]);
    let mut writer = Counting::default();
    assert_eq!(io::copy_buf(&mut reader, &mut writer).await.unwrap(), 8);
    assert_eq!(writer.written, b"abcdefgh");
    assert_eq!(writer.writes, 3, "one write per buffer of 3");
}

#[smp_rt::test(worker_threads = 2)]
async fn copy_bidirectional_proxies_between_two_socket_pairs() {
    let (mut client, mut proxy_client_side) = UnixStream::pair().unwrap();
    let (mut proxy_server_side, mut server) = UnixStream::pair().unwrap();
    let proxy = smp_rt::spawn(async move {
        io::copy_bidirectional(&mut proxy_client_side, &mut proxy_server_side).await
    });
    let server = smp_rt::spawn(async move {
        // The request ends when the proxy shuts the server's side down.
        let request = read_to_end(&mut server).await;
        server.write_all(b"response to ").await.unwrap();
        server.write_all(&request).await.unwrap();
        server.shutdown().await.unwrap();
    });
    client.write_all(b"request").await.unwrap();
    client.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut client).await, b"response to request");
    server.await.unwrap();
    assert_eq!(proxy.await.unwrap().unwrap(), (7, 19));
}

#[smp_rt::test]
async fn copy_bidirectional_with_sizes_of_zero_panics_with_an_explanation() {
    let (mut a, _a) = io::duplex(8);
    let (mut b, _b) = io::duplex(8);
    let copy = smp_rt::spawn(async move {
        let _ = io::copy_bidirectional_with_sizes(&mut a, &mut b, 0, 8).await;
    });
    let err = copy.await.unwrap_err();
    assert!(err.is_panic());
    let panic = err.into_panic();
    let message = panic_message(&*panic);
    assert!(message.contains("at least 1"), "{message}");
}

// ---- duplex and simplex.

#[smp_rt::test]
async fn a_duplex_direction_holds_at_most_max_buf_size_bytes() {
    let (mut a, mut b) = io::duplex(4);
    let n = poll_once(|cx| Pin::new(&mut a).poll_write(cx, b"abcdefgh"));
    assert!(matches!(n, Poll::Ready(Ok(4))), "{n:?}");
    assert!(poll_once(|cx| Pin::new(&mut a).poll_write(cx, b"efgh")).is_pending());
    // The other direction is separate.
    b.write_all(b"back").await.unwrap();
    assert_eq!(read_some(&mut b, 2).await, b"ab");
    let n = poll_once(|cx| Pin::new(&mut a).poll_write(cx, b"efgh"));
    assert!(matches!(n, Poll::Ready(Ok(2))), "{n:?}");
    assert_eq!(read_some(&mut b, 16).await, b"cdef");
    assert_eq!(read_some(&mut a, 16).await, b"back");
}

#[smp_rt::test(worker_threads = 2)]
async fn a_full_duplex_wakes_its_writer_when_read() {
    let (mut a, mut b) = io::duplex(3);
    let writer = smp_rt::spawn(async move {
        a.write_all(b"more than three bytes").await.unwrap();
        a
    });
    assert_eq!(read_exactly(&mut b, 21).await, b"more than three bytes");
    drop(writer.await.unwrap());
}

/// Reads exactly `n` bytes.
async fn read_exactly<R: AsyncRead + Unpin>(reader: &mut R, n: usize) -> Vec<u8> {
    let mut all = vec![0; n];
    reader.read_exact(&mut all).await.unwrap();
    all
}

#[smp_rt::test]
async fn a_dropped_duplex_end_gives_end_of_file_after_the_rest_and_broken_pipe() {
    let (mut a, mut b) = io::duplex(64);
    a.write_all(b"last words").await.unwrap();
    drop(a);
    assert_eq!(read_to_end(&mut b).await, b"last words");
    let err = b.write_all(b"anyone?").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
}

#[smp_rt::test(worker_threads = 2)]
async fn dropping_a_duplex_end_wakes_a_reader_waiting_on_the_other() {
    let (a, mut b) = io::duplex(64);
    let reader = smp_rt::spawn(async move { read_to_end(&mut b).await });
    smp_rt::task::yield_now().await;
    drop(a);
    assert!(reader.await.unwrap().is_empty());
}

#[smp_rt::test]
async fn a_duplex_shut_down_gives_end_of_file_and_refuses_writes() {
    let (mut a, mut b) = io::duplex(64);
    a.write_all(b"done").await.unwrap();
    a.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut b).await, b"done");
    let err = a.write_all(b"x").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
    // The other direction is still open.
    b.write_all(b"reply").await.unwrap();
    assert_eq!(read_some(&mut a, 16).await, b"reply");
}

#[test]
fn a_duplex_or_simplex_of_zero_bytes_panics_with_an_explanation() {
    let makers: [fn(); 2] = [|| drop(io::duplex(0)), || drop(io::simplex(0))];
    for make in makers {
        let panic = catch_unwind(make).unwrap_err();
        let message = panic_message(&*panic);
        assert!(message.contains("max_buf_size 0"), "{message}");
    }
}

#[smp_rt::test]
async fn a_simplex_passes_bytes_one_way_until_shut_down() {
    let (mut rx, mut tx) = io::simplex(8);
    tx.write_all(b"one way").await.unwrap();
    tx.shutdown().await.unwrap();
    assert_eq!(read_to_end(&mut rx).await, b"one way");
    let whole = rx.unsplit(tx);
    drop(whole);
}

// ---- split and join.

#[smp_rt::test(worker_threads = 2)]
async fn split_halves_work_from_two_tasks_and_unsplit() {
    let (a, mut b) = io::duplex(64);
    let (mut reader, mut writer) = io::split(a);
    assert!(reader.is_pair_of(&writer) && writer.is_pair_of(&reader));
    let echo = smp_rt::spawn(async move {
        let got = read_exactly(&mut b, 4).await;
        b.write_all(&got).await.unwrap();
        b
    });
    let writing = smp_rt::spawn(async move {
        writer.write_all(b"echo").await.unwrap();
        writer
    });
    assert_eq!(read_exactly(&mut reader, 4).await, b"echo");
    let writer = writing.await.unwrap();
    let mut a = reader.unsplit(writer);
    let mut b = echo.await.unwrap();
    a.write_all(b"whole").await.unwrap();
    assert_eq!(read_some(&mut b, 16).await, b"whole");
}

#[test]
fn unsplitting_halves_of_different_objects_panics_with_an_explanation() {
    let (one, _) = io::duplex(8);
    let (two, _) = io::duplex(8);
    let (reader, _) = io::split(one);
    let (other_reader, writer) = io::split(two);
    assert!(!reader.is_pair_of(&writer));
    assert!(other_reader.is_pair_of(&writer));
    let panic = catch_unwind(AssertUnwindSafe(|| reader.unsplit(writer))).unwrap_err();
    let message = panic_message(&*panic);
    assert!(message.contains("another object"), "{message}");
}

#[smp_rt::test]
async fn join_reads_from_one_object_and_writes_to_another() {
    let (mut theirs_in, ours_in) = io::duplex(64);
    let (ours_out, mut theirs_out) = io::duplex(64);
    let mut both = io::join(ours_in, ours_out);
    theirs_in.write_all(b"in").await.unwrap();
    both.write_all(b"out").await.unwrap();
    assert_eq!(read_some(&mut both, 16).await, b"in");
    assert_eq!(read_some(&mut theirs_out, 16).await, b"out");
    both.shutdown().await.unwrap();
    assert!(read_to_end(&mut theirs_out).await.is_empty());
    let (reader, _writer) = both.into_inner();
    drop(reader);
    let err = theirs_in.write_all(b"x").await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
}

// ---- empty, repeat, sink: always ready, so they charge reductions.

#[test]
fn a_loop_over_repeat_inside_a_timeout_ends() {
    let rt = smp_rt::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let spin = async {
            let mut sevens = io::repeat(7);
            loop {
                assert_eq!(read_some(&mut sevens, 8).await, [7; 8]);
            }
        };
        assert!(timeout(Duration::from_millis(20), spin).await.is_err());
        let mut sink = io::sink();
        let mut ones = io::repeat(1);
        let copy = io::copy(&mut ones, &mut sink);
        assert!(timeout(Duration::from_millis(20), copy).await.is_err());
    });
}

#[test]
fn a_copy_between_in_memory_ends_charges_reductions() {
    let preempted = common::preemptions_of(|| async {
        let data = vec![1u8; 1 << 20];
        let mut out = Vec::new();
        let copied = io::copy(&mut &data[..], &mut out).await.unwrap();
        assert_eq!(copied, 1 << 20);
    });
    assert!(preempted > 0, "a copy of 128 chunks was never preempted");
}

#[smp_rt::test]
async fn empty_is_at_end_of_file_and_sink_takes_everything() {
    let mut empty = io::empty();
    assert!(read_some(&mut empty, 8).await.is_empty());
    empty.write_all(b"dropped").await.unwrap();
    let mut sink = io::sink();
    let bufs = [IoSlice::new(b"ab"), IoSlice::new(b"cde")];
    let n = sink.write_vectored(&bufs).await.unwrap();
    assert_eq!(n, 5);
    assert_eq!(io::copy(&mut io::empty(), &mut sink).await.unwrap(), 0);
}

// ---- The standard streams.

#[smp_rt::test]
async fn stdout_and_stderr_take_writes_and_flush() {
    let mut stdout = io::stdout();
    let n = stdout.write(b"io_util: stdout\n").await.unwrap();
    assert_eq!(n, 16);
    stdout.flush().await.unwrap();
    let mut stderr = io::stderr();
    stderr.write_all(b"io_util: stderr\n").await.unwrap();
    stderr.shutdown().await.unwrap();
}

/// Run by [`stdin_and_stdout_carry_a_childs_input_to_its_output`] as a
/// child process: copies its standard input to its standard output
/// between markers.
#[test]
#[ignore = "a child process of stdin_and_stdout_carry_a_childs_input_to_its_output"]
fn stdio_child() {
    let rt = smp_rt::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let mut stdout = io::stdout();
        stdout.write_all(b"@@").await.unwrap();
        let copied = io::copy(&mut io::stdin(), &mut stdout).await.unwrap();
        stdout
            .write_all(format!("@@copied={copied}@@").as_bytes())
            .await
            .unwrap();
        stdout.flush().await.unwrap();
    });
}

#[test]
fn stdin_and_stdout_carry_a_childs_input_to_its_output() {
    use std::io::Write as _;
    use std::process::{Command, Stdio};

    // Under an emulator, `SMP_RT_TEST_CHILD_RUNNER` is the command to start
    // the child under, as `.ci/run` sets it.
    let exe = std::env::current_exe().unwrap();
    let runner = std::env::var("SMP_RT_TEST_CHILD_RUNNER").unwrap_or_default();
    let mut runner = runner.split_whitespace();
    let mut cmd = match runner.next() {
        Some(program) => {
            let mut cmd = Command::new(program);
            cmd.args(runner).arg(&exe);
            cmd
        }
        None => Command::new(&exe),
    };
    cmd.args([
        "--exact",
        "stdio_child",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input: Vec<u8> = b"from the parent\n".repeat(10_000);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "{out:?}");
    let out = String::from_utf8(out.stdout).unwrap();
    let expected = format!("@@{}@@copied=160000@@", "from the parent\n".repeat(10_000));
    assert!(out.contains(&expected), "{out}");
}

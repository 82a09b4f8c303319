//! [`AsyncReadExt`] and the futures its methods return.

use std::future::Future;
use std::io;
use std::marker::PhantomPinned;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, BufMut};
use pin_project_lite::pin_project;
use smp_rt_executor::task::poll_charge;

use super::{Chain, Take, early_eof, invalid_utf8, poll_read_slice};
use crate::io::{AsyncRead, ReadBuf};

/// Generates the methods that read one number.
macro_rules! read_num_methods {
    ($($name:ident -> $ty:ty, $get:ident, $order:literal;)*) => {$(
        #[doc = concat!("Reads a `", stringify!($ty), "` in ", $order, " byte order.")]
        ///
        /// Equivalent to:
        ///
        /// ```ignore
        #[doc = concat!("async fn ", stringify!($name), "(&mut self) -> io::Result<", stringify!($ty), ">;")]
        /// ```
        ///
        /// # Errors
        ///
        /// [`ErrorKind::UnexpectedEof`](std::io::ErrorKind::UnexpectedEof)
        /// if the reader ends before all the number's bytes were read, and
        /// any error of the reader.
        ///
        /// # Cancel safety
        ///
        /// Not cancel safe (except for the one-byte reads, which are): if
        /// it is cancelled, the bytes of the number read so far are lost.
        ///
        /// # Examples
        ///
        /// ```
        /// # smp_rt::block_on(async {
        /// use smp_rt::io::AsyncReadExt;
        ///
        /// let mut reader: &[u8] = &[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
        ///                           0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef];
        #[doc = concat!("let n = reader.", stringify!($name), "().await?;")]
        #[doc = concat!("let expected = bytes::Buf::", stringify!($get), "(&mut &[0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef][..]);")]
        /// assert_eq!(n, expected);
        /// # std::io::Result::Ok(()) }).unwrap();
        /// ```
        fn $name(&mut self) -> ReadNum<'_, Self, $ty>
        where
            Self: Unpin,
        {
            ReadNum::new(self, std::mem::size_of::<$ty>(), |mut bytes: &[u8]| bytes.$get())
        }
    )*};
}

/// Reads from an [`AsyncRead`]: the extension trait of tokio's
/// `AsyncReadExt`, implemented for every reader.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt::io::AsyncReadExt;
///
/// let mut reader: &[u8] = b"\x00\x05hello, world";
/// let len = reader.read_u16().await?;
/// let mut word = vec![0; usize::from(len)];
/// reader.read_exact(&mut word).await?;
/// assert_eq!(word, b"hello");
/// let mut rest = String::new();
/// reader.read_to_string(&mut rest).await?;
/// assert_eq!(rest, ", world");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait AsyncReadExt: AsyncRead {
    /// A reader that reads all of `self`, then all of `next`.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncReadExt;
    ///
    /// let mut both = (&b"one "[..]).chain(&b"two"[..]);
    /// let mut text = String::new();
    /// both.read_to_string(&mut text).await?;
    /// assert_eq!(text, "one two");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn chain<R>(self, next: R) -> Chain<Self, R>
    where
        Self: Sized,
        R: AsyncRead,
    {
        Chain::new(self, next)
    }

    /// Reads some bytes into `buf`, returning how many.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// ```
    ///
    /// `Ok(0)` means end-of-file, or that `buf` is empty. Fewer bytes than
    /// `buf` holds is not an error: the reader had no more at that moment.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if it is cancelled (a `select!` branch that lost), no
    /// bytes were read.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncReadExt;
    ///
    /// let mut reader: &[u8] = b"abc";
    /// let mut buf = [0; 2];
    /// assert_eq!(reader.read(&mut buf).await?, 2);
    /// assert_eq!(reader.read(&mut buf).await?, 1);
    /// assert_eq!(reader.read(&mut buf).await?, 0);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn read<'a>(&'a mut self, buf: &'a mut [u8]) -> Read<'a, Self>
    where
        Self: Unpin,
    {
        Read {
            reader: self,
            buf,
            _pin: PhantomPinned,
        }
    }

    /// Reads some bytes into the free capacity of a [`BufMut`] (a
    /// `Vec<u8>` or `BytesMut` grows as needed), advancing it, and returns
    /// how many.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn read_buf<B: BufMut>(&mut self, buf: &mut B) -> io::Result<usize>;
    /// ```
    ///
    /// `Ok(0)` means end-of-file, or that `buf` has no room left
    /// (`buf.remaining_mut() == 0`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if it is cancelled, no bytes were read.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use bytes::BytesMut;
    /// use smp_rt::io::AsyncReadExt;
    ///
    /// let mut reader: &[u8] = b"some bytes";
    /// let mut buf = BytesMut::with_capacity(4);
    /// while reader.read_buf(&mut buf).await? != 0 {}
    /// assert_eq!(&buf[..], b"some bytes");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn read_buf<'a, B>(&'a mut self, buf: &'a mut B) -> ReadIntoBuf<'a, Self, B>
    where
        Self: Unpin,
        B: BufMut + ?Sized,
    {
        ReadIntoBuf {
            reader: self,
            buf,
            _pin: PhantomPinned,
        }
    }

    /// Reads exactly `buf.len()` bytes, filling `buf`, and returns that
    /// length.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn read_exact(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::UnexpectedEof`](std::io::ErrorKind::UnexpectedEof) if
    /// the reader ends first (what was read is in `buf` then, but how much
    /// is not said), and the reader's first error other than
    /// `Interrupted`.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if it is cancelled, some bytes may have been read
    /// into `buf` and are lost to the next read.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use std::io::ErrorKind;
    /// use smp_rt::io::AsyncReadExt;
    ///
    /// let mut reader: &[u8] = b"abcde";
    /// let mut buf = [0; 3];
    /// assert_eq!(reader.read_exact(&mut buf).await?, 3);
    /// assert_eq!(&buf, b"abc");
    /// let err = reader.read_exact(&mut buf).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::UnexpectedEof);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn read_exact<'a>(&'a mut self, buf: &'a mut [u8]) -> ReadExact<'a, Self>
    where
        Self: Unpin,
    {
        ReadExact {
            reader: self,
            buf,
            filled: 0,
            _pin: PhantomPinned,
        }
    }

    read_num_methods! {
        read_u8 -> u8, get_u8, "big-endian";
        read_i8 -> i8, get_i8, "big-endian";
        read_u16 -> u16, get_u16, "big-endian";
        read_i16 -> i16, get_i16, "big-endian";
        read_u32 -> u32, get_u32, "big-endian";
        read_i32 -> i32, get_i32, "big-endian";
        read_u64 -> u64, get_u64, "big-endian";
        read_i64 -> i64, get_i64, "big-endian";
        read_u128 -> u128, get_u128, "big-endian";
        read_i128 -> i128, get_i128, "big-endian";
        read_f32 -> f32, get_f32, "big-endian";
        read_f64 -> f64, get_f64, "big-endian";
        read_u16_le -> u16, get_u16_le, "little-endian";
        read_i16_le -> i16, get_i16_le, "little-endian";
        read_u32_le -> u32, get_u32_le, "little-endian";
        read_i32_le -> i32, get_i32_le, "little-endian";
        read_u64_le -> u64, get_u64_le, "little-endian";
        read_i64_le -> i64, get_i64_le, "little-endian";
        read_u128_le -> u128, get_u128_le, "little-endian";
        read_i128_le -> i128, get_i128_le, "little-endian";
        read_f32_le -> f32, get_f32_le, "little-endian";
        read_f64_le -> f64, get_f64_le, "little-endian";
    }

    /// Reads to end-of-file, appending to `buf`, and returns how many
    /// bytes were appended.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn read_to_end(&mut self, buf: &mut Vec<u8>) -> io::Result<usize>;
    /// ```
    ///
    /// # Errors
    ///
    /// The reader's first error other than `Interrupted`; the bytes read
    /// before it stay in `buf`.
    ///
    /// # Cancel safety
    ///
    /// Bytes read before a cancellation stay in `buf`: calling it again
    /// goes on reading (but its count starts over).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncReadExt;
    ///
    /// let mut reader: &[u8] = b"the rest";
    /// let mut buf = b"all of ".to_vec();
    /// assert_eq!(reader.read_to_end(&mut buf).await?, 8);
    /// assert_eq!(buf, b"all of the rest");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn read_to_end<'a>(&'a mut self, buf: &'a mut Vec<u8>) -> ReadToEnd<'a, Self>
    where
        Self: Unpin,
    {
        ReadToEnd {
            reader: self,
            buf,
            read: 0,
            _pin: PhantomPinned,
        }
    }

    /// Reads to end-of-file, appending to `buf` as UTF-8, and returns how
    /// many bytes were appended.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn read_to_string(&mut self, buf: &mut String) -> io::Result<usize>;
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidData`](std::io::ErrorKind::InvalidData) if the
    /// bytes read are not UTF-8, and the reader's first error other than
    /// `Interrupted`. On an error `buf` is left as it was: the bytes read
    /// are lost.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: the bytes read before a cancellation are lost
    /// (`buf` keeps what it had before the call).
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use std::io::ErrorKind;
    /// use smp_rt::io::AsyncReadExt;
    ///
    /// let mut text = String::from("text: ");
    /// (&b"caf\xc3\xa9"[..]).read_to_string(&mut text).await?;
    /// assert_eq!(text, "text: café");
    /// let err = (&b"\xff"[..]).read_to_string(&mut text).await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidData);
    /// assert_eq!(text, "text: café");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn read_to_string<'a>(&'a mut self, buf: &'a mut String) -> ReadToString<'a, Self>
    where
        Self: Unpin,
    {
        ReadToString {
            reader: self,
            output: buf,
            bytes: Vec::new(),
            read: 0,
            _pin: PhantomPinned,
        }
    }

    /// A reader that reads at most `limit` bytes of `self`, then reports
    /// end-of-file.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use smp_rt::io::AsyncReadExt;
    ///
    /// let mut head = (&b"header|body"[..]).take(6);
    /// let mut buf = Vec::new();
    /// head.read_to_end(&mut buf).await?;
    /// assert_eq!(buf, b"header");
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    fn take(self, limit: u64) -> Take<Self>
    where
        Self: Sized,
    {
        Take::new(self, limit)
    }
}

impl<R: AsyncRead + ?Sized> AsyncReadExt for R {}

pin_project! {
    /// The future of [`AsyncReadExt::read`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Read<'a, R: ?Sized> {
        reader: &'a mut R,
        buf: &'a mut [u8],
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<R: AsyncRead + ?Sized + Unpin> Future for Read<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        poll_read_slice(Pin::new(&mut **me.reader), cx, me.buf)
    }
}

pin_project! {
    /// The future of [`AsyncReadExt::read_buf`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadIntoBuf<'a, R: ?Sized, B: ?Sized> {
        reader: &'a mut R,
        buf: &'a mut B,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<R, B> Future for ReadIntoBuf<'_, R, B>
where
    R: AsyncRead + ?Sized + Unpin,
    B: BufMut + ?Sized,
{
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        if !me.buf.has_remaining_mut() {
            return Poll::Ready(Ok(0));
        }
        let chunk = me.buf.chunk_mut();
        // SAFETY: a `ReadBuf` never writes an uninitialized byte into its
        // memory, so no byte of the chunk is de-initialized.
        let memory = unsafe { chunk.as_uninit_slice_mut() };
        let n = ready!(poll_read_uninit(Pin::new(&mut **me.reader), cx, memory))?;
        // SAFETY: `poll_read_uninit` returns how many bytes at the start of
        // the chunk the read filled (it checked that the reader filled this
        // memory, not a buffer of its own).
        unsafe { me.buf.advance_mut(n) };
        Poll::Ready(Ok(n))
    }
}

/// Reads once into `memory`, which may be uninitialized, and returns how
/// many bytes at its start were filled.
///
/// # Panics
///
/// If the reader replaced the `ReadBuf` it was given by another one (it
/// could then claim bytes of `memory` that it never wrote).
pub(super) fn poll_read_uninit<R: AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    memory: &mut [MaybeUninit<u8>],
) -> Poll<io::Result<usize>> {
    let start = memory.as_ptr().cast::<u8>();
    let mut buf = ReadBuf::uninit(memory);
    ready!(reader.poll_read(cx, &mut buf))?;
    assert_eq!(
        buf.filled().as_ptr(),
        start,
        "AsyncRead::poll_read replaced the ReadBuf it was given: a reader must fill the buffer \
         it is passed, not swap in another one"
    );
    Poll::Ready(Ok(buf.filled().len()))
}

pin_project! {
    /// The future of [`AsyncReadExt::read_exact`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadExact<'a, R: ?Sized> {
        reader: &'a mut R,
        buf: &'a mut [u8],
        filled: usize,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<R: AsyncRead + ?Sized + Unpin> Future for ReadExact<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        while *me.filled < me.buf.len() {
            let rest = &mut me.buf[*me.filled..];
            match ready!(poll_read_slice(Pin::new(&mut **me.reader), cx, rest)) {
                Ok(0) => return Poll::Ready(Err(early_eof())),
                Ok(n) => *me.filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        Poll::Ready(Ok(me.buf.len()))
    }
}

pin_project! {
    /// The future of [`AsyncReadExt::read_u8`], `read_u16`, ... and
    /// their little-endian forms.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadNum<'a, R: ?Sized, T> {
        reader: &'a mut R,
        bytes: [u8; 16],
        len: usize,
        filled: usize,
        decode: fn(&[u8]) -> T,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<'a, R: ?Sized, T> ReadNum<'a, R, T> {
    fn new(reader: &'a mut R, len: usize, decode: fn(&[u8]) -> T) -> Self {
        ReadNum {
            reader,
            bytes: [0; 16],
            len,
            filled: 0,
            decode,
            _pin: PhantomPinned,
        }
    }
}

impl<R: AsyncRead + ?Sized + Unpin, T> Future for ReadNum<'_, R, T> {
    type Output = io::Result<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        ready!(poll_charge(cx));
        let me = self.project();
        while *me.filled < *me.len {
            let rest = &mut me.bytes[*me.filled..*me.len];
            match ready!(poll_read_slice(Pin::new(&mut **me.reader), cx, rest)) {
                Ok(0) => return Poll::Ready(Err(early_eof())),
                Ok(n) => *me.filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        Poll::Ready(Ok((me.decode)(&me.bytes[..*me.len])))
    }
}

/// A read of [`read_to_end`](AsyncReadExt::read_to_end) into a full `Vec`
/// goes to a small buffer on the stack first, so that a `Vec` sized
/// exactly for the data does not double its capacity only to learn that
/// the reader is at end-of-file. Appending what the probe read grows the
/// `Vec` (amortized doubling), and the next reads go to its free capacity.
const PROBE: usize = 32;

/// Reads once, appending to `buf`, and returns how many bytes it read.
fn poll_read_append<R: AsyncRead + ?Sized>(
    reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
) -> Poll<io::Result<usize>> {
    if buf.capacity() == buf.len() {
        let mut probe = [0; PROBE];
        let n = ready!(poll_read_slice(reader, cx, &mut probe))?;
        buf.extend_from_slice(&probe[..n]);
        return Poll::Ready(Ok(n));
    }
    let n = ready!(poll_read_uninit(reader, cx, buf.spare_capacity_mut()))?;
    // SAFETY: the read filled the first `n` bytes of the spare capacity
    // (`poll_read_uninit` checked that it filled that memory), so the
    // first `len + n` bytes are initialized, and `n` is at most the spare
    // capacity.
    unsafe { buf.set_len(buf.len() + n) };
    Poll::Ready(Ok(n))
}

/// Reads to end-of-file into `buf`, adding the count to `*read`; returns
/// the count and resets `*read` on success.
fn poll_read_to_end<R: AsyncRead + ?Sized>(
    mut reader: Pin<&mut R>,
    cx: &mut Context<'_>,
    buf: &mut Vec<u8>,
    read: &mut usize,
) -> Poll<io::Result<usize>> {
    loop {
        match ready!(poll_read_append(reader.as_mut(), cx, buf)) {
            Ok(0) => return Poll::Ready(Ok(std::mem::take(read))),
            Ok(n) => *read += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Poll::Ready(Err(err)),
        }
    }
}

pin_project! {
    /// The future of [`AsyncReadExt::read_to_end`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadToEnd<'a, R: ?Sized> {
        reader: &'a mut R,
        buf: &'a mut Vec<u8>,
        read: usize,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<R: AsyncRead + ?Sized + Unpin> Future for ReadToEnd<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        poll_read_to_end(Pin::new(&mut **me.reader), cx, me.buf, me.read)
    }
}

pin_project! {
    /// The future of [`AsyncReadExt::read_to_string`].
    ///
    /// It reads into a `Vec` of its own and appends to the `String` only
    /// once all of it was read and checked to be UTF-8, so the `String`
    /// never holds anything but what it held before and, at the end, the
    /// whole text.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct ReadToString<'a, R: ?Sized> {
        reader: &'a mut R,
        output: &'a mut String,
        bytes: Vec<u8>,
        read: usize,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<R: AsyncRead + ?Sized + Unpin> Future for ReadToString<'_, R> {
    type Output = io::Result<usize>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        let me = self.project();
        let result = ready!(poll_read_to_end(
            Pin::new(&mut **me.reader),
            cx,
            me.bytes,
            me.read
        ));
        let bytes = std::mem::take(me.bytes);
        let n = match result {
            Ok(n) => n,
            Err(err) => return Poll::Ready(Err(err)),
        };
        match String::from_utf8(bytes) {
            Ok(text) if me.output.is_empty() => **me.output = text,
            Ok(text) => me.output.push_str(&text),
            Err(err) => return Poll::Ready(Err(invalid_utf8(err.utf8_error()))),
        }
        Poll::Ready(Ok(n))
    }
}

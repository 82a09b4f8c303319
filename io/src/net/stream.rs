//! What TCP and Unix streams share: reads, writes and shutdown on a
//! registered socket, and the macros that implement the IO traits on the
//! stream types and their halves.

use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::Shutdown;
use std::os::fd::AsFd;
use std::task::{Context, Poll, ready};

use smp_rt_executor::task::poll_charge;

use bytes::BufMut;

use crate::io::Interest;
use crate::poll_evented::PollEvented;

/// A connected stream socket of `std`.
pub(crate) trait StreamSocket: AsFd {
    /// Reads once.
    fn read_once(&self, buf: &mut [u8]) -> io::Result<usize>;
    /// Reads once into several buffers.
    fn read_vectored_once(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize>;
    /// Writes once.
    fn write_once(&self, buf: &[u8]) -> io::Result<usize>;
    /// Writes once from several buffers.
    fn write_vectored_once(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize>;
    /// Shuts down the writing direction.
    fn shutdown_write(&self) -> io::Result<()>;
    /// Reads once into memory that may be uninitialized; the bytes read
    /// are the first `n` of `buf`.
    fn read_uninit(&self, buf: &mut [std::mem::MaybeUninit<u8>]) -> io::Result<usize> {
        let (read, _) = rustix::io::read(self.as_fd(), buf)?;
        Ok(read.len())
    }
}

macro_rules! std_stream {
    ($($ty:ty),*) => {$(
        impl StreamSocket for $ty {
            fn read_once(&self, buf: &mut [u8]) -> io::Result<usize> {
                Read::read(&mut &*self, buf)
            }
            fn read_vectored_once(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
                Read::read_vectored(&mut &*self, bufs)
            }
            fn write_once(&self, buf: &[u8]) -> io::Result<usize> {
                Write::write(&mut &*self, buf)
            }
            fn write_vectored_once(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
                Write::write_vectored(&mut &*self, bufs)
            }
            fn shutdown_write(&self) -> io::Result<()> {
                self.shutdown(Shutdown::Write)
            }
        }
    )*};
}

std_stream!(std::net::TcpStream, std::os::unix::net::UnixStream);

/// Buffers a vectored write takes at most (`IOV_MAX` on Linux and
/// the BSDs); the standard library passes only this many.
const IOV_MAX: usize = 1024;

/// The length one vectored read or write asks for, for
/// [`PollEvented::poll_read_stream`] and [`PollEvented::poll_write_stream`];
/// 0 ("do not judge by the length") for more
/// buffers than one call takes, where a short transfer says nothing about
/// the socket's buffer.
fn vectored_len(lens: impl ExactSizeIterator<Item = usize>) -> usize {
    if lens.len() > IOV_MAX { 0 } else { lens.sum() }
}

impl<T: StreamSocket> PollEvented<T> {
    /// `futures::io::AsyncRead::poll_read`.
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_stream(cx, buf.len(), |io| io.read_once(buf))
    }

    /// `io::AsyncRead::poll_read`: like [`poll_read`](Self::poll_read)
    /// into memory that may be uninitialized.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_stream(cx, buf.len(), |io| io.read_uninit(buf))
    }

    /// `AsyncRead::poll_read_vectored`.
    pub(crate) fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = vectored_len(bufs.iter().map(|buf| buf.len()));
        self.poll_read_stream(cx, len, |io| io.read_vectored_once(bufs))
    }

    /// `AsyncWrite::poll_write`.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_write_stream(cx, buf.len(), |io| io.write_once(buf))
    }

    /// `AsyncWrite::poll_write_vectored`.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = vectored_len(bufs.iter().map(|buf| buf.len()));
        self.poll_write_stream(cx, len, |io| io.write_vectored_once(bufs))
    }

    /// `AsyncWrite::poll_close`: shuts the writing direction down. The peer
    /// then reads end-of-file; reading from this side goes on. Shutting
    /// down a socket the peer already reset is not an error.
    pub(crate) fn poll_shutdown(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(poll_charge(cx));
        Poll::Ready(self.shutdown_write())
    }

    /// Shuts the writing direction down (see `poll_shutdown`).
    pub(crate) fn shutdown_write(&self) -> io::Result<()> {
        match self.get_ref().shutdown_write() {
            Err(err) if err.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }
}

impl<T: StreamSocket> PollEvented<T> {
    /// `try_read` of the stream types and their read halves.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.try_io_interest(Interest::READABLE, |io| io.read_once(buf))
    }

    /// `try_read_vectored` of the stream types and their read halves.
    pub(crate) fn try_read_vectored(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.try_io_interest(Interest::READABLE, |io| io.read_vectored_once(bufs))
    }

    /// `try_read_buf` of the stream types and their read halves: reads
    /// into `buf`'s spare capacity and advances it.
    pub(crate) fn try_read_buf<B: BufMut + ?Sized>(&self, buf: &mut B) -> io::Result<usize> {
        self.try_io_interest(Interest::READABLE, |io| {
            let chunk = buf.chunk_mut();
            // SAFETY: `UninitSlice` is a `[MaybeUninit<u8>]` view of the
            // spare capacity; the read only writes to it.
            let dst = unsafe { chunk.as_uninit_slice_mut() };
            let n = io.read_uninit(dst)?;
            // SAFETY: the read initialized the first `n` bytes of the chunk.
            unsafe { buf.advance_mut(n) };
            Ok(n)
        })
    }

    /// `try_write` of the stream types and their write halves.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.try_io_interest(Interest::WRITABLE, |io| io.write_once(buf))
    }

    /// `try_write_vectored` of the stream types and their write halves.
    pub(crate) fn try_write_vectored(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.try_io_interest(Interest::WRITABLE, |io| io.write_vectored_once(bufs))
    }
}

/// The readiness API of a stream type, as tokio has it on `TcpStream` and
/// `UnixStream`: `ready`, `readable`, `writable`, `poll_read_ready`,
/// `poll_write_ready`, the `try_*` reads and writes, `try_io` and
/// `async_io`. Expands inside the type's `impl` block; `$io` is the path
/// to its `PollEvented` from `self`.
macro_rules! stream_readiness {
    ($example:literal) => {
        /// Waits until the stream is ready for any part of `interest`, and
        /// returns what it is ready for.
        ///
        /// As in tokio, this is used with the `try_*` methods: the readiness
        /// may be spurious (the `try_*` call then returns `WouldBlock`,
        /// which clears it, and the next `ready` waits again). A stream is
        /// ready only once the runtime's reactor has seen it so: a new
        /// stream with nothing to read is not readable. Once the peer has
        /// shut down, a readable interest is answered at once by
        /// `Ready::READ_CLOSED`.
        ///
        /// Cancel safe. Charges one reduction per poll.
        ///
        /// # Errors
        ///
        /// If the runtime that drives the stream has shut down, or
        /// `interest` is `Interest::PRIORITY` on a build with the portable
        /// poller (epoll, Linux's default, reports it).
        ///
        /// # Examples
        ///
        /// ```
        /// # smp_rt::block_on(async {
        /// use smp_rt_io::io::Interest;
        #[doc = $example]
        /// b.try_write(b"ping")?;
        /// loop {
        ///     let ready = a.ready(Interest::READABLE | Interest::WRITABLE).await?;
        ///     if ready.is_readable() {
        ///         let mut buf = [0; 16];
        ///         match a.try_read(&mut buf) {
        ///             Ok(n) => {
        ///                 assert_eq!(&buf[..n], b"ping");
        ///                 break;
        ///             }
        ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
        ///             Err(e) => return Err(e),
        ///         }
        ///     }
        /// }
        /// # std::io::Result::Ok(()) }).unwrap();
        /// ```
        pub async fn ready(
            &self,
            interest: crate::io::Interest,
        ) -> std::io::Result<crate::io::Ready> {
            self.io.ready_api(interest).await
        }

        /// Waits until the stream is readable: data to read, or the end of
        /// the stream (see [`ready`](Self::ready)). Cancel safe; charges one
        /// reduction per poll.
        ///
        /// # Errors
        ///
        /// If the runtime that drives the stream has shut down.
        pub async fn readable(&self) -> std::io::Result<()> {
            self.io
                .ready_api(crate::io::Interest::READABLE)
                .await
                .map(|_| ())
        }

        /// Waits until the stream is writable (see [`ready`](Self::ready)).
        /// Cancel safe; charges one reduction per poll.
        ///
        /// # Errors
        ///
        /// If the runtime that drives the stream has shut down.
        pub async fn writable(&self) -> std::io::Result<()> {
            self.io
                .ready_api(crate::io::Interest::WRITABLE)
                .await
                .map(|_| ())
        }

        /// Polls for read readiness: `Ready(Ok(()))` once the reactor has
        /// seen the stream readable (or closed for reading). On `Pending`,
        /// `cx`'s waker is woken when that may have changed; only the
        /// waker of the last call is kept per task. Charges one reduction.
        ///
        /// # Errors
        ///
        /// If the runtime that drives the stream has shut down.
        pub fn poll_read_ready(
            &self,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            self.io.poll_ready_api(crate::io::Interest::READABLE, cx)
        }

        /// Polls for write readiness, as
        /// [`poll_read_ready`](Self::poll_read_ready) does for reading.
        ///
        /// # Errors
        ///
        /// If the runtime that drives the stream has shut down.
        pub fn poll_write_ready(
            &self,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            self.io.poll_ready_api(crate::io::Interest::WRITABLE, cx)
        }

        /// Reads once without waiting: the bytes read (0 at the end of the
        /// stream or for an empty `buf`), or `WouldBlock` if there is
        /// nothing to read, which clears the read readiness: the next
        /// [`readable`](Self::readable) waits for new data.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, or the OS error of the read.
        pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.io.try_read(buf)
        }

        /// [`try_read`](Self::try_read) into several buffers, in order.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, or the OS error of the read.
        pub fn try_read_vectored(
            &self,
            bufs: &mut [std::io::IoSliceMut<'_>],
        ) -> std::io::Result<usize> {
            self.io.try_read_vectored(bufs)
        }

        /// [`try_read`](Self::try_read) into `buf`'s spare capacity (a
        /// `Vec<u8>` or `BytesMut` grows if it has none), advancing it by
        /// the bytes read.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, or the OS error of the read.
        pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> std::io::Result<usize> {
            self.io.try_read_buf(buf)
        }

        /// Writes once without waiting: the bytes written, or `WouldBlock`
        /// if the send buffer is full, which clears the write readiness:
        /// the next [`writable`](Self::writable) waits for room.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, or the OS error of the write.
        pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
            self.io.try_write(buf)
        }

        /// [`try_write`](Self::try_write) from several buffers, in order.
        ///
        /// # Errors
        ///
        /// `WouldBlock`, or the OS error of the write.
        pub fn try_write_vectored(&self, bufs: &[std::io::IoSlice<'_>]) -> std::io::Result<usize> {
            self.io.try_write_vectored(bufs)
        }

        /// Runs `f`, an operation of your own on the socket (through
        /// `AsRawFd`/`AsFd`), once, without waiting, if the stream may be
        /// ready for `interest`; otherwise returns `WouldBlock` without
        /// running it. If `f` returns `WouldBlock`, the readiness for
        /// `interest` is cleared, so `f` must return it only when the
        /// socket did (the socket is non-blocking).
        ///
        /// # Errors
        ///
        /// `WouldBlock`, or `f`'s error.
        pub fn try_io<R>(
            &self,
            interest: crate::io::Interest,
            f: impl FnOnce() -> std::io::Result<R>,
        ) -> std::io::Result<R> {
            self.io.try_io_interest(interest, |_| f())
        }

        /// Runs `f` (as for [`try_io`](Self::try_io)) whenever the stream is
        /// ready for `interest`, until it returns something other than
        /// `WouldBlock`. Charges one reduction per poll.
        ///
        /// # Errors
        ///
        /// `f`'s error, or an error if the runtime has shut down.
        pub async fn async_io<R>(
            &self,
            interest: crate::io::Interest,
            mut f: impl FnMut() -> std::io::Result<R>,
        ) -> std::io::Result<R> {
            self.io.async_io(interest, |_| f()).await
        }
    };
}

/// Implements the read traits (smp_rt's, futures', and tokio's with
/// `tokio-io`) on a type, given how to reach its `PollEvented`.
macro_rules! impl_async_read {
    ($ty:ty $(, $lt:lifetime)?; |$this:ident| $io:expr) => {
        impl<$($lt)?> futures::io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $io.poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &mut [std::io::IoSliceMut<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $io.poll_read_vectored(cx, bufs)
            }
        }

        $crate::net::stream::impl_read_buf_trait!(
            crate::io::AsyncRead, crate::io::ReadBuf<'_>; $ty $(, $lt)?; |$this| $io
        );
        #[cfg(feature = "tokio-io")]
        $crate::net::stream::impl_read_buf_trait!(
            tokio::io::AsyncRead, tokio::io::ReadBuf<'_>; $ty $(, $lt)?; |$this| $io
        );
    };
}

/// Implements the write traits (smp_rt's, futures', and tokio's with
/// `tokio-io`) on a type, given how to reach its `PollEvented` and,
/// optionally, what to do after a shutdown (`|this| ...`, with
/// `this: &mut Self`).
macro_rules! impl_async_write {
    ($ty:ty $(, $lt:lifetime)?; |$this:ident| $io:expr $(; |$closed:ident| $after_close:expr)?) => {
        impl<$($lt)?> futures::io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $io.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $io.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Writes go straight to the socket: nothing is buffered here.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                std::task::ready!($io.poll_shutdown(cx))?;
                $(
                    let $closed: &mut Self = self.get_mut();
                    $after_close;
                )?
                std::task::Poll::Ready(Ok(()))
            }
        }

        $crate::net::stream::impl_shutdown_write_trait!(crate::io::AsyncWrite; $ty $(, $lt)?);
        #[cfg(feature = "tokio-io")]
        $crate::net::stream::impl_shutdown_write_trait!(tokio::io::AsyncWrite; $ty $(, $lt)?);
    };
}

/// Implements a `ReadBuf`-shaped read trait (smp_rt's, or tokio's with
/// `tokio-io`: the same shape) on a type, reading into the buffer's
/// unfilled part through its `PollEvented`.
macro_rules! impl_read_buf_trait {
    ($trait:path, $read_buf:ty; $ty:ty $(, $lt:lifetime)?; |$this:ident| $io:expr) => {
        impl<$($lt)?> $trait for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut $read_buf,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                // SAFETY: the read only writes to the unfilled part (it
                // never de-initializes a byte), and `read_uninit` returns
                // how many bytes at its start it wrote.
                let n = std::task::ready!($io.poll_read_uninit(cx, unsafe { buf.unfilled_mut() }))?;
                // SAFETY: those `n` bytes were just written by the read.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                std::task::Poll::Ready(Ok(()))
            }
        }
    };
}

/// Implements a `poll_shutdown`-shaped write trait (smp_rt's, or tokio's
/// with `tokio-io`) on a type by forwarding to its futures-crate
/// `AsyncWrite` impl (`poll_shutdown` is `poll_close`).
macro_rules! impl_shutdown_write_trait {
    ($trait:path; $ty:ty $(, $lt:lifetime)?) => {
        impl<$($lt)?> $trait for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                futures::io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                futures::io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                futures::io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                futures::io::AsyncWrite::poll_close(self, cx)
            }
        }
    };
}

pub(crate) use {
    impl_async_read, impl_async_write, impl_read_buf_trait, impl_shutdown_write_trait,
    stream_readiness,
};

#[cfg(test)]
mod short_transfer_tests {
    use std::future::poll_fn;
    use std::io::{self, IoSlice, IoSliceMut, Read, Write};
    use std::os::fd::{AsFd, BorrowedFd};
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::time::Duration;

    use futures::future::Either;

    use super::StreamSocket;
    use crate::poll_evented::PollEvented;
    use crate::reactor::SHORT_READS_DRAIN;

    /// A Unix stream socket that counts the reads and writes tried on it.
    struct Counted {
        socket: UnixStream,
        reads: AtomicUsize,
        writes: AtomicUsize,
    }

    impl AsFd for Counted {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.socket.as_fd()
        }
    }

    impl StreamSocket for Counted {
        fn read_once(&self, buf: &mut [u8]) -> io::Result<usize> {
            self.reads.fetch_add(1, Relaxed);
            self.socket.read_once(buf)
        }
        fn read_vectored_once(&self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
            self.reads.fetch_add(1, Relaxed);
            self.socket.read_vectored_once(bufs)
        }
        fn write_once(&self, buf: &[u8]) -> io::Result<usize> {
            self.writes.fetch_add(1, Relaxed);
            self.socket.write_once(buf)
        }
        fn write_vectored_once(&self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
            self.writes.fetch_add(1, Relaxed);
            self.socket.write_vectored_once(bufs)
        }
        fn shutdown_write(&self) -> io::Result<()> {
            self.socket.shutdown_write()
        }
    }

    /// A registered, counted end and its plain (blocking) peer.
    fn counted_pair() -> (PollEvented<Counted>, UnixStream) {
        let (ours, peer) = UnixStream::pair().unwrap();
        ours.set_nonblocking(true).unwrap();
        let ours = PollEvented::new(Counted {
            socket: ours,
            reads: AtomicUsize::new(0),
            writes: AtomicUsize::new(0),
        })
        .unwrap();
        (ours, peer)
    }

    /// `fut`'s output; panics if it has not finished after 10 seconds (a
    /// hang: the awaited event will never come).
    async fn or_hang<F: Future>(fut: F, what: &str) -> F::Output {
        let (alarm, rang) = futures::channel::oneshot::channel::<()>();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_secs(10));
            let _ = alarm.send(());
        });
        match futures::future::select(std::pin::pin!(fut), rang).await {
            Either::Left((output, _)) => output,
            Either::Right(_) => panic!("{what}: still waiting after 10 seconds"),
        }
    }

    #[test]
    fn a_short_read_does_not_hide_the_end_of_the_stream_queued_behind_it() {
        crate::test_rt::runtime().block_on(async {
            let (ours, mut peer) = counted_pair();
            let reads = || ours.get_ref().reads.load(Relaxed);
            peer.write_all(b"last words").unwrap();
            peer.shutdown(std::net::Shutdown::Write).unwrap();
            drop(peer);
            // Data and end of stream arrived before the first read: one
            // edge signalled both, and no other will come.
            let mut buf = [0; 64];
            let n = poll_fn(|cx| ours.poll_read(cx, &mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"last words");
            let end = or_hang(
                poll_fn(|cx| ours.poll_read(cx, &mut buf)),
                "after a short read, the end of the stream was never seen",
            )
            .await;
            assert_eq!(end.unwrap(), 0);
            assert_eq!(reads(), 2);
        });
    }

    #[test]
    fn a_short_read_makes_the_next_read_wait_without_trying_if_the_poller_reports_the_end() {
        crate::test_rt::runtime().block_on(async {
            let (ours, mut peer) = counted_pair();
            let reads = || ours.get_ref().reads.load(Relaxed);
            let mut buf = [0; 64];
            // Wait for the data: the registration's own event (delivered
            // meanwhile, it would move the tick and keep the readiness) is
            // delivered with the data's at the latest.
            let first = futures::poll!(poll_fn(|cx| ours.poll_read(cx, &mut buf)));
            assert!(first.is_pending(), "{first:?}");
            peer.write_all(b"request").unwrap();
            let n = poll_fn(|cx| ours.poll_read(cx, &mut buf)).await.unwrap();
            assert_eq!(&buf[..n], b"request");
            let before = reads();
            let next = futures::poll!(poll_fn(|cx| ours.poll_read(cx, &mut buf)));
            assert!(next.is_pending(), "{next:?}");
            // Epoll on Linux reports the end of a stream, so the emptied
            // receive buffer is not read again; `polling` does not, so the
            // read is tried (and returns `WouldBlock`).
            let expected = if SHORT_READS_DRAIN { 0 } else { 1 };
            assert_eq!(reads() - before, expected, "reads after a short read");
            // More data is an edge, and the read goes on.
            peer.write_all(b"next").unwrap();
            let n = or_hang(
                poll_fn(|cx| ours.poll_read(cx, &mut buf)),
                "data after a short read was never read",
            )
            .await
            .unwrap();
            assert_eq!(&buf[..n], b"next");
            // The end of the stream, after a short read, is an edge too.
            drop(peer);
            let end = or_hang(
                poll_fn(|cx| ours.poll_read(cx, &mut buf)),
                "the end of the stream was never seen",
            )
            .await;
            assert_eq!(end.unwrap(), 0);
        });
    }

    #[test]
    fn a_short_write_makes_the_next_write_wait_without_trying() {
        crate::test_rt::runtime().block_on(async {
            let (ours, mut peer) = counted_pair();
            let writes = || ours.get_ref().writes.load(Relaxed);
            // More than a Unix socket's send buffer: the write is short.
            let big = vec![1; 16 << 20];
            let n = poll_fn(|cx| ours.poll_write(cx, &big)).await.unwrap();
            assert!(0 < n && n < big.len(), "{n}");
            assert_eq!(writes(), 1);
            let next = futures::poll!(poll_fn(|cx| ours.poll_write(cx, &big)));
            assert!(next.is_pending(), "{next:?}");
            assert_eq!(writes(), 1, "a write was tried after a short write");
            // The peer reads: space is an event, and the write goes on.
            let reader = std::thread::spawn(move || {
                let mut sink = vec![0; 1 << 20];
                let mut total = 0;
                while total < n + 1 {
                    total += peer.read(&mut sink).unwrap();
                }
                total
            });
            let more = poll_fn(|cx| ours.poll_write(cx, &big[..1])).await.unwrap();
            assert_eq!(more, 1);
            assert_eq!(reader.join().unwrap(), n + 1);
        });
    }
}

#[cfg(all(test, feature = "tokio-io"))]
mod tokio_io_tests {
    use std::future::poll_fn;
    use std::pin::Pin;

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use crate::net::{TcpListener, TcpStream, UnixStream};

    async fn write_all<W: AsyncWrite + Unpin>(w: &mut W, mut buf: &[u8]) {
        while !buf.is_empty() {
            let n = poll_fn(|cx| Pin::new(&mut *w).poll_write(cx, buf))
                .await
                .unwrap();
            buf = &buf[n..];
        }
        poll_fn(|cx| Pin::new(&mut *w).poll_shutdown(cx))
            .await
            .unwrap();
    }

    async fn read_to_end<R: AsyncRead + Unpin>(r: &mut R) -> Vec<u8> {
        let mut out = Vec::new();
        let mut storage = [0u8; 7];
        loop {
            let mut buf = ReadBuf::new(&mut storage);
            poll_fn(|cx| Pin::new(&mut *r).poll_read(cx, &mut buf))
                .await
                .unwrap();
            if buf.filled().is_empty() {
                return out;
            }
            out.extend_from_slice(buf.filled());
        }
    }

    #[test]
    fn a_tokio_read_fills_uninitialized_memory_after_what_was_filled() {
        crate::test_rt::runtime().block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            write_all(&mut a, b"world").await;
            let mut memory = [std::mem::MaybeUninit::<u8>::uninit(); 64];
            let mut buf = ReadBuf::uninit(&mut memory);
            buf.put_slice(b"hello ");
            poll_fn(|cx| Pin::new(&mut b).poll_read(cx, &mut buf))
                .await
                .unwrap();
            assert_eq!(buf.filled(), b"hello world");
            assert_eq!(buf.initialized().len(), b"hello world".len());
            assert_eq!(buf.remaining(), 64 - b"hello world".len());
        });
    }

    #[test]
    fn streams_and_owned_halves_implement_tokio_io() {
        crate::test_rt::runtime().block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            write_all(&mut a, b"tokio traits on a unix stream").await;
            assert_eq!(read_to_end(&mut b).await, b"tokio traits on a unix stream");

            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let (mut read, _keep) = server.into_split();
            let (_, mut write) = client.into_split();
            write_all(&mut write, b"and on owned tcp halves").await;
            assert_eq!(read_to_end(&mut read).await, b"and on owned tcp halves");
        });
    }
}

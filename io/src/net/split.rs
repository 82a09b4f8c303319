//! The halves of a stream: borrowed (`split`) and owned (`into_split`).
//!
//! [`stream_halves!`] defines, in the module that calls it, `ReadHalf`,
//! `WriteHalf`, `OwnedReadHalf`, `OwnedWriteHalf` and `ReuniteError` for one
//! stream type. The read half waits only on readability and the write half
//! only on writability, so one task can read while another writes.

macro_rules! stream_halves {
    ($stream:ident, $addr:ty, $example:literal) => {
        use std::fmt;
        use std::io;
        use std::sync::Arc;

        use crate::net::stream::{impl_async_read, impl_async_write};

        /// The read side of the stream's readiness API, on a half.
        macro_rules! read_half_readiness {
            ($field:tt) => {
                /// Waits until the stream is ready for `interest`; see
                #[doc = concat!("[`", stringify!($stream), "::ready`].")]
                ///
                /// # Errors
                ///
                /// If the runtime that drives the stream has shut down.
                pub async fn ready(
                    &self,
                    interest: crate::io::Interest,
                ) -> io::Result<crate::io::Ready> {
                    self.$field.ready(interest).await
                }

                /// Waits until the stream is readable; see
                #[doc = concat!("[`", stringify!($stream), "::readable`].")]
                ///
                /// # Errors
                ///
                /// If the runtime that drives the stream has shut down.
                pub async fn readable(&self) -> io::Result<()> {
                    self.$field.readable().await
                }

                /// Reads once without waiting; see
                #[doc = concat!("[`", stringify!($stream), "::try_read`].")]
                ///
                /// # Errors
                ///
                /// `WouldBlock`, or the OS error of the read.
                pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
                    self.$field.try_read(buf)
                }

                /// Reads once into several buffers without waiting; see
                #[doc = concat!("[`", stringify!($stream), "::try_read_vectored`].")]
                ///
                /// # Errors
                ///
                /// `WouldBlock`, or the OS error of the read.
                pub fn try_read_vectored(
                    &self,
                    bufs: &mut [io::IoSliceMut<'_>],
                ) -> io::Result<usize> {
                    self.$field.try_read_vectored(bufs)
                }

                /// Reads once into `buf`'s spare capacity without waiting; see
                #[doc = concat!("[`", stringify!($stream), "::try_read_buf`].")]
                ///
                /// # Errors
                ///
                /// `WouldBlock`, or the OS error of the read.
                pub fn try_read_buf<B: bytes::BufMut>(&self, buf: &mut B) -> io::Result<usize> {
                    self.$field.try_read_buf(buf)
                }
            };
        }

        /// The write side of the stream's readiness API, on a half.
        macro_rules! write_half_readiness {
            ($field:tt) => {
                /// Waits until the stream is ready for `interest`; see
                #[doc = concat!("[`", stringify!($stream), "::ready`].")]
                ///
                /// # Errors
                ///
                /// If the runtime that drives the stream has shut down.
                pub async fn ready(
                    &self,
                    interest: crate::io::Interest,
                ) -> io::Result<crate::io::Ready> {
                    self.$field.ready(interest).await
                }

                /// Waits until the stream is writable; see
                #[doc = concat!("[`", stringify!($stream), "::writable`].")]
                ///
                /// # Errors
                ///
                /// If the runtime that drives the stream has shut down.
                pub async fn writable(&self) -> io::Result<()> {
                    self.$field.writable().await
                }

                /// Writes once without waiting; see
                #[doc = concat!("[`", stringify!($stream), "::try_write`].")]
                ///
                /// # Errors
                ///
                /// `WouldBlock`, or the OS error of the write.
                pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
                    self.$field.try_write(buf)
                }

                /// Writes once from several buffers without waiting; see
                #[doc = concat!("[`", stringify!($stream), "::try_write_vectored`].")]
                ///
                /// # Errors
                ///
                /// `WouldBlock`, or the OS error of the write.
                pub fn try_write_vectored(&self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
                    self.$field.try_write_vectored(bufs)
                }
            };
        }

        #[doc = concat!("The read half of a [`", stringify!($stream), "`] borrowed by [`",
            stringify!($stream), "::split`].")]
        ///
        /// It implements `AsyncRead`.
        #[derive(Debug)]
        pub struct ReadHalf<'a>(pub(crate) &'a $stream);

        #[doc = concat!("The write half of a [`", stringify!($stream), "`] borrowed by [`",
            stringify!($stream), "::split`].")]
        ///
        /// It implements `AsyncWrite`; closing it shuts the stream's writing
        /// direction down.
        #[derive(Debug)]
        pub struct WriteHalf<'a>(pub(crate) &'a $stream);

        #[doc = concat!("The read half of a [`", stringify!($stream), "`] returned by [`",
            stringify!($stream), "::into_split`].")]
        ///
        /// It implements `AsyncRead`, and can move to another task than its
        /// write half.
        #[derive(Debug)]
        pub struct OwnedReadHalf {
            /// The stream, shared with the write half.
            inner: Arc<$stream>,
        }

        #[doc = concat!("The write half of a [`", stringify!($stream), "`] returned by [`",
            stringify!($stream), "::into_split`].")]
        ///
        /// It implements `AsyncWrite`. Dropping it (or closing it) shuts the
        /// stream's writing direction down, so the peer reads end-of-file;
        /// [`forget`](OwnedWriteHalf::forget) drops it without doing so.
        #[derive(Debug)]
        pub struct OwnedWriteHalf {
            /// The stream, shared with the read half.
            inner: Arc<$stream>,
            /// Whether dropping this half shuts down writing.
            shutdown_on_drop: bool,
        }

        /// The two halves given to `reunite` came from different streams.
        /// Holds them, unchanged.
        #[derive(Debug)]
        pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

        impl fmt::Display for ReuniteError {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "tried to reunite halves that are not from the same {}",
                    stringify!($stream)
                )
            }
        }

        impl std::error::Error for ReuniteError {}

        pub(crate) fn split(stream: &mut $stream) -> (ReadHalf<'_>, WriteHalf<'_>) {
            (ReadHalf(&*stream), WriteHalf(&*stream))
        }

        pub(crate) fn into_split(stream: $stream) -> (OwnedReadHalf, OwnedWriteHalf) {
            let inner = Arc::new(stream);
            (
                OwnedReadHalf {
                    inner: inner.clone(),
                },
                OwnedWriteHalf {
                    inner,
                    shutdown_on_drop: true,
                },
            )
        }

        fn reunite(
            read: OwnedReadHalf,
            mut write: OwnedWriteHalf,
        ) -> Result<$stream, ReuniteError> {
            if !Arc::ptr_eq(&read.inner, &write.inner) {
                return Err(ReuniteError(read, write));
            }
            write.shutdown_on_drop = false;
            drop(write);
            Ok(Arc::into_inner(read.inner)
                .expect("the two halves hold the only references to their stream"))
        }

        impl ReadHalf<'_> {
            /// The address of the peer.
            pub fn peer_addr(&self) -> io::Result<$addr> {
                self.0.peer_addr()
            }

            /// The address of this end.
            pub fn local_addr(&self) -> io::Result<$addr> {
                self.0.local_addr()
            }

            read_half_readiness!(0);
        }

        impl WriteHalf<'_> {
            /// The address of the peer.
            pub fn peer_addr(&self) -> io::Result<$addr> {
                self.0.peer_addr()
            }

            /// The address of this end.
            pub fn local_addr(&self) -> io::Result<$addr> {
                self.0.local_addr()
            }

            write_half_readiness!(0);
        }

        impl OwnedReadHalf {
            /// Puts the stream back together.
            ///
            /// # Errors
            ///
            /// [`ReuniteError`], holding both halves, if they are not from
            /// the same stream.
            ///
            /// # Examples
            ///
            /// ```
            /// # smp_rt::block_on(async {
            #[doc = $example]
            /// let (read, write) = a.into_split();
            /// let a = read.reunite(write).unwrap();
            /// # drop((a, b));
            /// # });
            /// ```
            pub fn reunite(self, other: OwnedWriteHalf) -> Result<$stream, ReuniteError> {
                reunite(self, other)
            }

            /// The address of the peer.
            pub fn peer_addr(&self) -> io::Result<$addr> {
                self.inner.peer_addr()
            }

            /// The address of this end.
            pub fn local_addr(&self) -> io::Result<$addr> {
                self.inner.local_addr()
            }

            read_half_readiness!(inner);
        }

        impl OwnedWriteHalf {
            /// Puts the stream back together; see [`OwnedReadHalf::reunite`].
            ///
            /// # Errors
            ///
            /// [`ReuniteError`], holding both halves, if they are not from
            /// the same stream.
            pub fn reunite(self, other: OwnedReadHalf) -> Result<$stream, ReuniteError> {
                reunite(other, self)
            }

            /// Drops this half without shutting the writing direction down.
            pub fn forget(mut self) {
                self.shutdown_on_drop = false;
            }

            /// The address of the peer.
            pub fn peer_addr(&self) -> io::Result<$addr> {
                self.inner.peer_addr()
            }

            /// The address of this end.
            pub fn local_addr(&self) -> io::Result<$addr> {
                self.inner.local_addr()
            }

            write_half_readiness!(inner);
        }

        impl Drop for OwnedWriteHalf {
            fn drop(&mut self) {
                if self.shutdown_on_drop {
                    let _ = self.inner.io.shutdown_write();
                }
            }
        }

        impl AsRef<$stream> for ReadHalf<'_> {
            fn as_ref(&self) -> &$stream {
                self.0
            }
        }

        impl AsRef<$stream> for WriteHalf<'_> {
            fn as_ref(&self) -> &$stream {
                self.0
            }
        }

        impl AsRef<$stream> for OwnedReadHalf {
            fn as_ref(&self) -> &$stream {
                &self.inner
            }
        }

        impl AsRef<$stream> for OwnedWriteHalf {
            fn as_ref(&self) -> &$stream {
                &self.inner
            }
        }

        impl_async_read!(ReadHalf<'a>, 'a; |this| this.0.io);
        impl_async_read!(OwnedReadHalf; |this| this.inner.io);
        impl_async_write!(WriteHalf<'a>, 'a; |this| this.0.io);
        impl_async_write!(OwnedWriteHalf; |this| this.inner.io;
            |closed| closed.shutdown_on_drop = false);
    };
}

pub(crate) use stream_halves;

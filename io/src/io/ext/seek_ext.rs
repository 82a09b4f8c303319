//! [`AsyncSeekExt`] and the future its methods return.

use std::future::Future;
use std::io::{self, SeekFrom};
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;
use smp_rt_executor::task::poll_charge;

use crate::io::AsyncSeek;

/// Seeks in an [`AsyncSeek`]: the extension trait of tokio's
/// `AsyncSeekExt`, implemented for every seekable reader or writer.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use std::io::{Cursor, SeekFrom};
/// use smp_rt::io::{AsyncReadExt, AsyncSeekExt};
///
/// let mut cursor = Cursor::new(b"0123456789".to_vec());
/// assert_eq!(cursor.seek(SeekFrom::End(-3)).await?, 7);
/// let mut tail = String::new();
/// cursor.read_to_string(&mut tail).await?;
/// assert_eq!(tail, "789");
/// assert_eq!(cursor.rewind().await?, 0);
/// assert_eq!(cursor.read_u8().await?, b'0');
/// assert_eq!(cursor.stream_position().await?, 1);
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub trait AsyncSeekExt: AsyncSeek {
    /// Seeks to `position` and returns the new position from the start.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn seek(&mut self, position: SeekFrom) -> io::Result<u64>;
    /// ```
    ///
    /// A seek started before (by a cancelled `seek`) is waited for first.
    /// Seeking before the start is an error; seeking past the end is not.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if it is cancelled, the seek may or may not have
    /// been started.
    fn seek(&mut self, position: SeekFrom) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        Seek {
            seeker: self,
            position: Some(position),
            _pin: PhantomPinned,
        }
    }

    /// Seeks to the start; returns the new position, 0. The same as
    /// `seek(SeekFrom::Start(0))`.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn rewind(&mut self) -> io::Result<u64>;
    /// ```
    fn rewind(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Start(0))
    }

    /// The current position from the start. The same as
    /// `seek(SeekFrom::Current(0))`.
    ///
    /// Equivalent to:
    ///
    /// ```ignore
    /// async fn stream_position(&mut self) -> io::Result<u64>;
    /// ```
    fn stream_position(&mut self) -> Seek<'_, Self>
    where
        Self: Unpin,
    {
        self.seek(SeekFrom::Current(0))
    }
}

impl<S: AsyncSeek + ?Sized> AsyncSeekExt for S {}

pin_project! {
    /// The future of [`AsyncSeekExt::seek`], `rewind` and
    /// `stream_position`.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Seek<'a, S: ?Sized> {
        seeker: &'a mut S,
        // `Some` until the seek was started.
        position: Option<SeekFrom>,
        #[pin]
        _pin: PhantomPinned,
    }
}

impl<S: AsyncSeek + ?Sized + Unpin> Future for Seek<'_, S> {
    type Output = io::Result<u64>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        ready!(poll_charge(cx));
        let me = self.project();
        if let Some(position) = *me.position {
            // A seek started earlier and never waited for must end first:
            // `start_seek` may refuse to start another meanwhile. Its
            // outcome belonged to the cancelled call, so it is dropped.
            let _ = ready!(Pin::new(&mut **me.seeker).poll_complete(cx));
            Pin::new(&mut **me.seeker).start_seek(position)?;
            *me.position = None;
        }
        Pin::new(&mut **me.seeker).poll_complete(cx)
    }
}

//! Readiness of any file descriptor: [`AsyncFd`] and its guards (tokio's
//! `tokio::io::unix`).
//!
//! An [`AsyncFd`] registers a descriptor the caller owns (a pipe, an
//! eventfd, a device, a socket of another library) with the current
//! runtime's reactor. The caller does the IO itself, in non-blocking mode;
//! the `AsyncFd` says when to try. The protocol is tokio's: wait for
//! readiness ([`AsyncFd::readable`] and friends return a guard), try the
//! operation, and on `WouldBlock` clear the readiness through the guard
//! ([`AsyncFdReadyGuard::clear_ready`], or let
//! [`AsyncFdReadyGuard::try_io`] do it), so that the next wait waits for a
//! new event.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll, ready};

use crate::io::{Interest, Ready};
use crate::poll_evented::PollEvented;
use crate::reactor::ReadyEvent;

/// The object of an [`AsyncFd`], seen through its raw descriptor.
struct RawSource<T: AsRawFd>(T);

impl<T: AsRawFd> AsFd for RawSource<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: `AsyncFd`'s contract (see its docs): the object keeps its
        // descriptor open for as long as the `AsyncFd` holds it, and the
        // borrow does not outlive `self`.
        unsafe { BorrowedFd::borrow_raw(self.0.as_raw_fd()) }
    }
}

/// `Unsupported` for an interest the reactor's poller does not report
/// (priority, with the portable poller).
fn check_interest(interest: Interest) -> io::Result<()> {
    if !crate::reactor::REPORTS_PRIORITY && crate::reactor::is_priority(interest) {
        return Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "this build of smp_rt's reactor (the portable poller) does not watch priority \
             (out-of-band) data: register the AsyncFd with `Interest::READABLE` instead",
        ));
    }
    Ok(())
}

/// A file descriptor registered with the runtime's reactor, for waiting
/// until it is readable or writable (tokio's `AsyncFd`).
///
/// `T` owns the descriptor (an `OwnedFd`, a `std` or third-party type):
/// it must keep it open, and not swap it for another, for as long as the
/// `AsyncFd` holds it (until it is dropped or
/// [`into_inner`](AsyncFd::into_inner) returns). The descriptor should be
/// in non-blocking mode: the `AsyncFd` does not change it, and a blocking
/// call would block the worker thread.
///
/// Readiness is learnt from the reactor's events only: a new `AsyncFd` is
/// ready once the reactor has reported it so (a pipe with nothing to read
/// is not readable). It stays ready until a guard's
/// [`clear_ready`](AsyncFdReadyGuard::clear_ready) (after the operation
/// returned `WouldBlock`) or a `WouldBlock` in a guard's
/// [`try_io`](AsyncFdReadyGuard::try_io) clears it; an event that arrives
/// in between is not lost (the clear is then ignored).
///
/// Every wait charges one reduction per poll.
///
/// # Panics
///
/// [`new`](AsyncFd::new) and [`with_interest`](AsyncFd::with_interest)
/// panic outside an smp_rt runtime with IO, as tokio's do.
///
/// # Examples
///
/// A `std` socket, read without blocking:
///
/// ```
/// # smp_rt::block_on(async {
/// use std::io::{Read, Write};
/// use std::os::unix::net::UnixStream;
/// use smp_rt_io::io::unix::AsyncFd;
///
/// let (reader, mut writer) = UnixStream::pair()?;
/// reader.set_nonblocking(true)?;
/// let reader = AsyncFd::new(reader)?;
/// writer.write_all(b"hi")?;
/// let mut buf = [0; 8];
/// let n = loop {
///     let mut guard = reader.readable().await?;
///     match guard.try_io(|fd| (&*fd.get_ref()).read(&mut buf)) {
///         Ok(result) => break result?,
///         Err(_would_block) => continue,
///     }
/// };
/// assert_eq!(&buf[..n], b"hi");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct AsyncFd<T: AsRawFd> {
    /// The registration, holding the object.
    io: PollEvented<RawSource<T>>,
    /// The interest given at creation.
    interest: Interest,
}

impl<T: AsRawFd> AsyncFd<T> {
    /// Registers `inner`'s descriptor with the current runtime's reactor,
    /// for reading and writing.
    ///
    /// # Errors
    ///
    /// The OS error of the registration (`EPERM` for a regular file, which
    /// epoll does not watch).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO.
    #[track_caller]
    pub fn new(inner: T) -> io::Result<AsyncFd<T>> {
        AsyncFd::with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// Registers `inner`'s descriptor for `interest`. (The reactor watches
    /// both directions of every descriptor; `interest` is kept for
    /// [`interest`](Self::interest).)
    ///
    /// # Errors
    ///
    /// The OS error of the registration; `Unsupported` for
    /// `Interest::PRIORITY` on a build with the portable poller (epoll,
    /// Linux's default, reports it).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO.
    #[track_caller]
    pub fn with_interest(inner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
        check_interest(interest)?;
        Ok(AsyncFd {
            io: PollEvented::new(RawSource(inner))?,
            interest,
        })
    }

    /// [`new`](Self::new), giving `inner` back if the registration fails.
    ///
    /// # Errors
    ///
    /// [`AsyncFdRegisterError`], holding `inner` and the OS error.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO.
    #[track_caller]
    pub fn try_new(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        AsyncFd::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// [`with_interest`](Self::with_interest), giving `inner` back if the
    /// registration fails.
    ///
    /// # Errors
    ///
    /// [`AsyncFdRegisterError`], holding `inner` and the error.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO.
    #[track_caller]
    pub fn try_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        if let Err(cause) = check_interest(interest) {
            return Err(AsyncFdRegisterError { inner, cause });
        }
        match PollEvented::try_new(RawSource(inner)) {
            Ok(io) => Ok(AsyncFd { io, interest }),
            Err((RawSource(inner), cause)) => Err(AsyncFdRegisterError { inner, cause }),
        }
    }

    /// Registers `inner`'s descriptor with the current runtime's reactor,
    /// for reading and writing, giving `inner` back if that fails (tokio's
    /// `AsyncFd::register`). [`try_new`](Self::try_new) without the
    /// promise below; tokio deprecates `new` and `try_new` for that.
    ///
    /// # Safety
    ///
    /// `inner.as_raw_fd()` must be an open descriptor, and stay open and
    /// refer to the same open file description until the `AsyncFd` is
    /// dropped, [`into_inner`](Self::into_inner) is called or it is
    /// forgotten; every call of `inner.as_raw_fd()` meanwhile must return
    /// that same descriptor. (The reactor addresses the registration by
    /// descriptor: a descriptor closed and reused behind its back would
    /// deliver another file's events, or none.)
    ///
    /// # Errors
    ///
    /// [`AsyncFdRegisterError`], holding `inner` and the OS error of the
    /// registration (`EPERM` for a regular file, which epoll does not
    /// watch).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    ///
    /// # Examples
    ///
    /// ```
    /// # smp_rt::block_on(async {
    /// use std::os::unix::net::UnixStream;
    /// use smp_rt_io::io::unix::AsyncFd;
    ///
    /// let (a, b) = UnixStream::pair()?;
    /// a.set_nonblocking(true)?;
    /// // SAFETY: `a` owns its descriptor, which `AsyncFd` keeps open.
    /// let a = unsafe { AsyncFd::register(a) }?;
    /// let guard = a.writable().await?;
    /// drop(guard);
    /// drop(b);
    /// # std::io::Result::Ok(()) }).unwrap();
    /// ```
    #[track_caller]
    pub unsafe fn register(inner: T) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        AsyncFd::try_with_interest(inner, Interest::READABLE | Interest::WRITABLE)
    }

    /// [`register`](Self::register) for `interest` (tokio's
    /// `AsyncFd::register_with_interest`). The reactor watches both
    /// directions of every descriptor; `interest` is kept for
    /// [`interest`](Self::interest).
    ///
    /// # Safety
    ///
    /// As [`register`](Self::register).
    ///
    /// # Errors
    ///
    /// [`AsyncFdRegisterError`], holding `inner` and the OS error, or
    /// `Unsupported` for `Interest::PRIORITY` on a build with the portable
    /// poller (epoll, Linux's default, reports it).
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with IO, as tokio's does.
    #[track_caller]
    pub unsafe fn register_with_interest(
        inner: T,
        interest: Interest,
    ) -> Result<AsyncFd<T>, AsyncFdRegisterError<T>> {
        AsyncFd::try_with_interest(inner, interest)
    }

    /// The interest given at creation.
    pub fn interest(&self) -> Interest {
        self.interest
    }

    /// The object.
    pub fn get_ref(&self) -> &T {
        &self.io.get_ref().0
    }

    /// The object, mutably (it must keep its descriptor: see the type's
    /// docs).
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.io.get_mut().0
    }

    /// Deregisters the descriptor and returns the object.
    pub fn into_inner(self) -> T {
        self.io.into_inner().0
    }

    /// Polls for read readiness; see [`readable`](Self::readable). On
    /// `Pending`, `cx`'s waker is woken when it may have changed.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the descriptor has shut down.
    pub fn poll_read_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.io.poll_ready_interest(Interest::READABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// [`poll_read_ready`](Self::poll_read_ready), with a guard that gives
    /// `&mut` access.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the descriptor has shut down.
    pub fn poll_read_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.io.poll_ready_interest(Interest::READABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Polls for write readiness; see [`writable`](Self::writable).
    ///
    /// # Errors
    ///
    /// If the runtime that drives the descriptor has shut down.
    pub fn poll_write_ready<'a>(
        &'a self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyGuard<'a, T>>> {
        let event = ready!(self.io.poll_ready_interest(Interest::WRITABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// [`poll_write_ready`](Self::poll_write_ready), with a guard that
    /// gives `&mut` access.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the descriptor has shut down.
    pub fn poll_write_ready_mut<'a>(
        &'a mut self,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<AsyncFdReadyMutGuard<'a, T>>> {
        let event = ready!(self.io.poll_ready_interest(Interest::WRITABLE, cx))?;
        Poll::Ready(Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        }))
    }

    /// Waits until the descriptor is ready for any part of `interest`;
    /// the guard says for what ([`AsyncFdReadyGuard::ready`]). Cancel safe.
    ///
    /// # Errors
    ///
    /// If the runtime that drives the descriptor has shut down, or
    /// `interest` is `Interest::PRIORITY` on a build with the portable
    /// poller (epoll, Linux's default, reports it).
    pub async fn ready(&self, interest: Interest) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        let event = self.io.ready_interest(interest).await?;
        Ok(AsyncFdReadyGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// [`ready`](Self::ready), with a guard that gives `&mut` access.
    ///
    /// # Errors
    ///
    /// As `ready`.
    pub async fn ready_mut(
        &mut self,
        interest: Interest,
    ) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        let event = self.io.ready_interest(interest).await?;
        Ok(AsyncFdReadyMutGuard {
            async_fd: self,
            event: Some(event),
        })
    }

    /// Waits until the descriptor is readable (or closed for reading).
    ///
    /// # Errors
    ///
    /// If the runtime that drives the descriptor has shut down.
    pub async fn readable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::READABLE).await
    }

    /// [`readable`](Self::readable), with a guard that gives `&mut` access.
    ///
    /// # Errors
    ///
    /// As `readable`.
    pub async fn readable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::READABLE).await
    }

    /// Waits until the descriptor is writable (or closed for writing).
    ///
    /// # Errors
    ///
    /// If the runtime that drives the descriptor has shut down.
    pub async fn writable(&self) -> io::Result<AsyncFdReadyGuard<'_, T>> {
        self.ready(Interest::WRITABLE).await
    }

    /// [`writable`](Self::writable), with a guard that gives `&mut` access.
    ///
    /// # Errors
    ///
    /// As `writable`.
    pub async fn writable_mut(&mut self) -> io::Result<AsyncFdReadyMutGuard<'_, T>> {
        self.ready_mut(Interest::WRITABLE).await
    }

    /// Runs `f` whenever the descriptor is ready for `interest`, until it
    /// returns something other than `WouldBlock` (each `WouldBlock` clears
    /// the readiness seen). Charges one reduction per poll.
    ///
    /// # Errors
    ///
    /// `f`'s error, or an error if the runtime has shut down.
    pub async fn async_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.async_io(interest, |io| f(&io.0)).await
    }

    /// [`async_io`](Self::async_io) with `&mut` access to the object.
    ///
    /// # Errors
    ///
    /// As `async_io`.
    pub async fn async_io_mut<R>(
        &mut self,
        interest: Interest,
        mut f: impl FnMut(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            let mut guard = self.ready_mut(interest).await?;
            match guard.try_io(|fd| f(fd.get_mut())) {
                Ok(result) => return result,
                Err(_would_block) => continue,
            }
        }
    }

    /// Runs `f` once, without waiting, if the descriptor may be ready for
    /// `interest` (otherwise returns `WouldBlock` without running it); a
    /// `WouldBlock` from `f` clears that readiness.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `f`'s error.
    pub fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_interest(interest, |io| f(&io.0))
    }

    /// [`try_io`](Self::try_io) with `&mut` access to the object.
    ///
    /// # Errors
    ///
    /// `WouldBlock`, or `f`'s error.
    pub fn try_io_mut<R>(
        &mut self,
        interest: Interest,
        f: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        self.io.try_io_interest_mut(interest, |io| f(&mut io.0))
    }
}

impl<T: AsRawFd> AsRawFd for AsyncFd<T> {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl<T: AsRawFd> AsFd for AsyncFd<T> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFd<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFd")
            .field("inner", self.get_ref())
            .finish()
    }
}

/// The readiness one wait of an [`AsyncFd`] saw, for the operation tried
/// next. Dropping it keeps the readiness (as
/// [`retain_ready`](AsyncFdReadyGuard::retain_ready)).
#[must_use = "clear the readiness through the guard when the operation would block"]
pub struct AsyncFdReadyGuard<'a, T: AsRawFd> {
    async_fd: &'a AsyncFd<T>,
    /// The readiness seen; `None` once cleared or retained.
    event: Option<ReadyEvent>,
}

/// As [`AsyncFdReadyGuard`], with `&mut` access to the [`AsyncFd`].
#[must_use = "clear the readiness through the guard when the operation would block"]
pub struct AsyncFdReadyMutGuard<'a, T: AsRawFd> {
    async_fd: &'a mut AsyncFd<T>,
    /// The readiness seen; `None` once cleared or retained.
    event: Option<ReadyEvent>,
}

/// The operation in a guard's `try_io` would have blocked; the readiness
/// was cleared, so wait again.
#[derive(Debug)]
pub struct TryIoError(());

impl fmt::Display for TryIoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation would block: wait for readiness again")
    }
}

impl std::error::Error for TryIoError {}

/// The guard methods both kinds share: `$fd` is how to reach the
/// `AsyncFd` from `&self`.
macro_rules! guard_common {
    () => {
        /// Clears the readiness this guard saw, so that the next wait waits
        /// for a new event; call it when the operation returned
        /// `WouldBlock`. An event that arrived since the wait is kept
        /// (the clear is ignored). Closed readiness
        /// (`Ready::READ_CLOSED`/`WRITE_CLOSED`) is never cleared.
        pub fn clear_ready(&mut self) {
            if let Some(event) = self.event.take() {
                self.async_fd.io.clear_readiness(event);
            }
        }

        /// Clears the part of the readiness seen that is in `ready` only;
        /// the rest stays in the guard.
        pub fn clear_ready_matching(&mut self, ready: Ready) {
            if let Some(mut event) = self.event.take() {
                let cleared = ReadyEvent {
                    ready: event.ready & ready,
                    tick: event.tick,
                };
                self.async_fd.io.clear_readiness(cleared);
                event.ready = event.ready - ready;
                if !event.ready.is_empty() {
                    self.event = Some(event);
                }
            }
        }

        /// Keeps the readiness (what dropping the guard does too): the
        /// next wait returns at once.
        pub fn retain_ready(&mut self) {
            self.event = None;
        }

        /// The readiness this guard saw (empty once cleared).
        pub fn ready(&self) -> Ready {
            self.event.map_or(Ready::EMPTY, |event| event.ready)
        }
    };
}

impl<'a, T: AsRawFd> AsyncFdReadyGuard<'a, T> {
    guard_common!();

    /// Runs `f` on the `AsyncFd`; if it returns `WouldBlock`, clears the
    /// readiness and returns [`TryIoError`], otherwise `f`'s result.
    ///
    /// # Errors
    ///
    /// `Err(TryIoError)` when `f` would block.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&'a AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The `AsyncFd` this guard is for.
    pub fn get_ref(&self) -> &'a AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`'s object.
    pub fn get_inner(&self) -> &'a T {
        self.async_fd.get_ref()
    }
}

impl<T: AsRawFd> AsyncFdReadyMutGuard<'_, T> {
    guard_common!();

    /// Runs `f` on the `AsyncFd`; if it returns `WouldBlock`, clears the
    /// readiness and returns [`TryIoError`], otherwise `f`'s result.
    ///
    /// # Errors
    ///
    /// `Err(TryIoError)` when `f` would block.
    pub fn try_io<R>(
        &mut self,
        f: impl FnOnce(&mut AsyncFd<T>) -> io::Result<R>,
    ) -> Result<io::Result<R>, TryIoError> {
        match f(self.async_fd) {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.clear_ready();
                Err(TryIoError(()))
            }
            result => Ok(result),
        }
    }

    /// The `AsyncFd` this guard is for.
    pub fn get_ref(&self) -> &AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`, mutably.
    pub fn get_mut(&mut self) -> &mut AsyncFd<T> {
        self.async_fd
    }

    /// The `AsyncFd`'s object.
    pub fn get_inner(&self) -> &T {
        self.async_fd.get_ref()
    }

    /// The `AsyncFd`'s object, mutably.
    pub fn get_inner_mut(&mut self) -> &mut T {
        self.async_fd.get_mut()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyGuard")
            .field("async_fd", self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

impl<T: AsRawFd + fmt::Debug> fmt::Debug for AsyncFdReadyMutGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncFdReadyMutGuard")
            .field("async_fd", &*self.async_fd)
            .field("ready", &self.ready())
            .finish()
    }
}

/// The error of [`AsyncFd::register`] and its relatives
/// ([`register_with_interest`](AsyncFd::register_with_interest),
/// [`try_new`](AsyncFd::try_new),
/// [`try_with_interest`](AsyncFd::try_with_interest)): the object, given
/// back, and why it could not be registered (tokio's
/// `AsyncFdRegisterError`).
pub struct AsyncFdRegisterError<T> {
    inner: T,
    cause: io::Error,
}

/// tokio's older name of [`AsyncFdRegisterError`].
#[doc(hidden)]
pub type AsyncFdTryNewError<T> = AsyncFdRegisterError<T>;

impl<T> AsyncFdRegisterError<T> {
    /// The object and the error.
    pub fn into_parts(self) -> (T, io::Error) {
        (self.inner, self.cause)
    }
}

impl<T> fmt::Display for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.cause, f)
    }
}

impl<T> fmt::Debug for AsyncFdRegisterError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.cause, f)
    }
}

impl<T> std::error::Error for AsyncFdRegisterError<T> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.cause)
    }
}

impl<T> From<AsyncFdRegisterError<T>> for io::Error {
    fn from(err: AsyncFdRegisterError<T>) -> io::Error {
        err.cause
    }
}

//! [`PollEvented`]: a non-blocking descriptor registered with a reactor, and
//! the loop that turns its `WouldBlock` into waiting for readiness.

use std::future::poll_fn;
use std::io;
use std::os::fd::{AsFd, AsRawFd};
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use smp_rt_executor::runtime::Handle;
use smp_rt_executor::task::poll_charge;

use crate::io::{Interest, Ready};
use crate::reactor::{Direction, Inner, Reactor, ReadyEvent, SHORT_READS_DRAIN, Source};

/// The current runtime's handle and reactor, or an error that says what to
/// do.
pub(crate) fn try_current() -> io::Result<(Handle, Arc<Reactor>)> {
    let handle = Handle::try_current().map_err(|_| {
        io::Error::other(
            "there is no smp_rt runtime on this thread: create and use IO objects inside a \
             task, inside `Runtime::block_on`, or after `Runtime::enter`",
        )
    })?;
    let reactor = handle.extension::<Reactor>().ok_or_else(|| {
        io::Error::other(
            "the current smp_rt runtime has no IO reactor: build it with \
             `smp_rt::runtime::Builder` (the executor's own builder has no IO driver)",
        )
    })?;
    Ok((handle, reactor))
}

/// The current runtime's handle and reactor.
///
/// # Panics
///
/// Outside an smp_rt runtime, or in one without a reactor, as tokio's IO
/// types do, with [`try_current`]'s message, which says what to do.
#[track_caller]
pub(crate) fn current() -> (Handle, Arc<Reactor>) {
    match try_current() {
        Ok(current) => current,
        Err(err) => panic!("{err}"),
    }
}

/// Whether `interest` asks for priority data and the reactor's poller
/// cannot report it (`polling`, the portable poller; epoll reports
/// `EPOLLPRI`).
fn priority_unreported(interest: Interest) -> bool {
    !crate::reactor::REPORTS_PRIORITY && crate::reactor::is_priority(interest)
}

/// The error of waiting for `Interest::PRIORITY` on a poller that does not
/// report it.
fn priority_unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "this build of smp_rt's reactor (the portable poller) does not watch priority \
         (out-of-band) data: wait for `Interest::READABLE` instead",
    )
}

/// A non-blocking IO object registered with a reactor.
///
/// It deregisters its descriptor before the object is dropped (and so
/// before the descriptor is closed).
#[derive(Debug)]
pub(crate) struct PollEvented<T: AsFd> {
    /// The registration.
    source: Arc<Source>,
    /// The object; `None` only inside `into_inner`.
    io: Option<T>,
}

impl<T: AsFd> PollEvented<T> {
    /// Registers `io`, which must be in non-blocking mode, with the current
    /// runtime's reactor.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with a reactor (see [`current`]).
    #[track_caller]
    pub(crate) fn new(io: T) -> io::Result<PollEvented<T>> {
        let (_, reactor) = current();
        PollEvented::with_reactor(reactor.inner(), io)
    }

    /// Registers `io`, which must be in non-blocking mode, with `reactor`.
    pub(crate) fn with_reactor(reactor: &Arc<Inner>, io: T) -> io::Result<PollEvented<T>> {
        PollEvented::try_with_reactor(reactor, io).map_err(|(_, err)| err)
    }

    /// [`new`](Self::new), giving `io` back with the error.
    #[track_caller]
    pub(crate) fn try_new(io: T) -> Result<PollEvented<T>, (T, io::Error)> {
        let (_, reactor) = current();
        PollEvented::try_with_reactor(reactor.inner(), io)
    }

    /// [`with_reactor`](Self::with_reactor), giving `io` back with the
    /// error.
    fn try_with_reactor(reactor: &Arc<Inner>, io: T) -> Result<PollEvented<T>, (T, io::Error)> {
        let fd = io.as_fd().as_raw_fd();
        // SAFETY: `io` owns the descriptor and stays in this `PollEvented`
        // until `Drop` or `into_inner` has deregistered the source.
        match unsafe { reactor.register(fd) } {
            Ok(source) => Ok(PollEvented {
                source,
                io: Some(io),
            }),
            Err(err) => Err((io, err)),
        }
    }

    /// The object.
    pub(crate) fn get_ref(&self) -> &T {
        self.io
            .as_ref()
            .expect("a PollEvented holds its object until into_inner")
    }

    /// The object, mutably.
    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.io
            .as_mut()
            .expect("a PollEvented holds its object until into_inner")
    }

    /// The reactor this object is registered with.
    pub(crate) fn reactor(&self) -> &Arc<Inner> {
        self.source.reactor()
    }

    /// The readiness API's wait: polls until an event has confirmed some
    /// readiness that answers `interest` (see the reactor's "Optimism and
    /// the readiness API"). Charges one reduction.
    pub(crate) fn poll_ready_interest(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<ReadyEvent>> {
        if priority_unreported(interest) {
            return Poll::Ready(Err(priority_unsupported()));
        }
        ready!(poll_charge(cx));
        self.source.poll_ready_interest(interest, cx)
    }

    /// Waits as [`poll_ready_interest`](Self::poll_ready_interest) does.
    pub(crate) async fn ready_interest(&self, interest: Interest) -> io::Result<ReadyEvent> {
        poll_fn(|cx| self.poll_ready_interest(interest, cx)).await
    }

    /// `ready(interest)` of the net types: the readiness seen.
    pub(crate) async fn ready_api(&self, interest: Interest) -> io::Result<Ready> {
        Ok(self.ready_interest(interest).await?.ready)
    }

    /// `poll_read_ready`/`poll_write_ready` of the net types.
    pub(crate) fn poll_ready_api(
        &self,
        interest: Interest,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        self.poll_ready_interest(interest, cx).map_ok(|_| ())
    }

    /// Clears the readiness `event` saw, unless an event came since.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.source.clear_readiness(event);
    }

    /// tokio's `try_io`: runs `op` once if the readiness for `interest` is
    /// not known to be gone (otherwise returns `WouldBlock` without
    /// trying); a `WouldBlock` from `op` clears that readiness, so that
    /// the next wait waits for a new event.
    pub(crate) fn try_io_interest<R>(
        &self,
        interest: Interest,
        op: impl FnOnce(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.source.try_ready(interest);
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let result = op(self.get_ref());
        if let Err(err) = &result
            && err.kind() == io::ErrorKind::WouldBlock
        {
            self.source.clear_readiness(event);
        }
        result
    }

    /// [`try_io_interest`](Self::try_io_interest) with `&mut` access.
    pub(crate) fn try_io_interest_mut<R>(
        &mut self,
        interest: Interest,
        op: impl FnOnce(&mut T) -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.source.try_ready(interest);
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let result = op(self.get_mut());
        if let Err(err) = &result
            && err.kind() == io::ErrorKind::WouldBlock
        {
            self.source.clear_readiness(event);
        }
        result
    }

    /// tokio's `async_io`: waits for readiness that answers `interest` and
    /// runs `op`, until `op` does not return `WouldBlock` (which clears the
    /// readiness seen). Charges one reduction per poll.
    pub(crate) async fn async_io<R>(
        &self,
        interest: Interest,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| {
            ready!(poll_charge(cx));
            loop {
                let event = ready!(self.source.poll_ready_interest(interest, cx))?;
                match op(self.get_ref()) {
                    Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                        self.source.clear_readiness(event);
                    }
                    result => return Poll::Ready(result),
                }
            }
        })
        .await
    }

    /// Runs `op` until it does not return `WouldBlock`, waiting for `dir`'s
    /// readiness in between. Charges nothing: its callers charge once per
    /// poll.
    pub(crate) fn poll_io<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_draining(dir, cx, op, |_| false)
    }

    /// [`poll_io`](PollEvented::poll_io), where `drained(&value)` says that
    /// a successful `op` left the next try nothing to do: `dir`'s readiness
    /// is then cleared as for `WouldBlock`, under the same tick guard (an
    /// event that arrived meanwhile moved the tick, and the bit stays set),
    /// unless the direction has reached its end (see
    /// [`Source::clear_drained`]).
    fn poll_io_draining<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let tick = ready!(self.source.poll_ready(dir, cx))?;
            match op(self.get_ref()) {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.source.clear_ready(dir, tick);
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                result => {
                    if result.as_ref().is_ok_and(&drained) {
                        self.source.clear_drained(dir, tick);
                    }
                    return Poll::Ready(result);
                }
            }
        }
    }

    /// [`poll_io`](PollEvented::poll_io) for one write of `len` bytes on a
    /// stream socket, charging one reduction first.
    ///
    /// A write shorter than asked for, and not empty, also clears the write
    /// readiness: a stream write returns less than asked only when it filled
    /// the send buffer, so the next try would return `WouldBlock`; skipping
    /// it saves a system call each time the buffer fills.
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        self.poll_io_draining(Direction::Write, cx, op, |&n| n > 0 && n < len)
    }

    /// [`poll_io`](PollEvented::poll_io) for one read into `len` bytes on a
    /// stream socket, charging one reduction first.
    ///
    /// A read shorter than asked for, and not empty, emptied the receive
    /// buffer: it also clears the read readiness, so the next read waits
    /// for an event instead of trying and getting `WouldBlock` (one system
    /// call less per message). The end of the stream may be queued behind
    /// the data just read, signalled by the same edge; the reactor keeps
    /// the readiness once the poller reported that end (see
    /// [`Source::clear_drained`]), so only pollers that report it
    /// ([`SHORT_READS_DRAIN`]: epoll on Linux) take this shortcut.
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        len: usize,
        op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        ready!(poll_charge(cx));
        self.poll_io_draining(Direction::Read, cx, op, |&n| {
            SHORT_READS_DRAIN && n > 0 && n < len
        })
    }

    /// [`poll_io`](PollEvented::poll_io), charging one reduction first.
    pub(crate) fn poll_io_charged<R>(
        &self,
        dir: Direction,
        cx: &mut Context<'_>,
        op: impl FnMut(&T) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(poll_charge(cx));
        self.poll_io(dir, cx, op)
    }

    /// Runs `op` to completion, waiting for `dir`'s readiness whenever it
    /// would block. Charges one reduction per poll.
    pub(crate) async fn io<R>(
        &self,
        dir: Direction,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        poll_fn(|cx| self.poll_io_charged(dir, cx, &mut op)).await
    }

    /// Deregisters the object and returns it.
    pub(crate) fn into_inner(mut self) -> T {
        self.source.deregister();
        self.io
            .take()
            .expect("a PollEvented holds its object until into_inner")
    }
}

impl<T: AsFd> Drop for PollEvented<T> {
    fn drop(&mut self) {
        if self.io.is_some() {
            // Before the object (and its descriptor) is dropped, which
            // happens after this function returns.
            self.source.deregister();
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    use smp_rt_executor::task;

    use crate::net::UnixStream;

    #[test]
    fn reading_charges_reductions_and_a_fast_reader_is_preempted() {
        crate::test_rt::runtime().block_on(async {
            let (mut a, mut b) = UnixStream::pair().unwrap();
            const N: usize = 10_000;
            a.write_all(&[7; N]).await.unwrap();
            let reader = smp_rt_executor::spawn(async move {
                // The data is all there: no read ever waits, so only the
                // reductions charged by each poll can end the slice.
                let mut byte = [0; 1];
                for _ in 0..N {
                    b.read_exact(&mut byte).await.unwrap();
                }
                task::stats()
            });
            let stats = reader.await.unwrap();
            assert!(stats.reductions >= N as u64, "{stats:?}");
            assert!(stats.preemptions > 0, "{stats:?}");
        });
    }
}

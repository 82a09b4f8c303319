//! A channel for sending a single value between tasks.
//!
//! [`channel`] creates a [`Sender`] and a [`Receiver`]. The sender sends one
//! value with [`Sender::send`], which never waits. The receiver is a future
//! that resolves to the value, or to [`error::RecvError`] if the sender was
//! dropped without sending.
//!
//! The channel is lock-free: one atomic state word, a cell for the value and
//! one [`AtomicWaker`] per side. Either half may live on any thread, inside
//! or outside a task: a value sent from a plain thread wakes the task
//! awaiting the receiver.
//!
//! # Examples
//!
//! ```
//! use smp_rt::sync::oneshot;
//!
//! let (tx, rx) = oneshot::channel();
//! std::thread::spawn(move || {
//!     tx.send(3).unwrap();
//! });
//! assert_eq!(futures::executor::block_on(rx), Ok(3));
//!
//! let (tx, rx) = oneshot::channel::<u32>();
//! drop(tx);
//! assert!(futures::executor::block_on(rx).is_err());
//! ```

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::task::{Context, Poll};

use ::futures::task::AtomicWaker;

/// Errors of the [`oneshot`](super::oneshot) channel.
pub mod error {
    use std::fmt;

    /// The sender was dropped without sending a value (or the receiver was
    /// closed before one was sent). Returned by awaiting a
    /// [`Receiver`](super::Receiver).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    /// Error returned by [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value has been sent yet.
        Empty,
        /// The sender was dropped without sending, the receiver was closed
        /// before a value was sent, or the value was already received.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use self::error::{RecvError, TryRecvError};

/// A value is in the cell. Set once, by the sender; cleared by the receiver
/// when it takes the value.
const VALUE: usize = 0b001;
/// The sender is done: it sent, or it was dropped.
const TX_DONE: usize = 0b010;
/// The receiver was closed or dropped: no value can be sent from now on.
const RX_CLOSED: usize = 0b100;

struct Inner<T> {
    state: AtomicUsize,
    /// Written by the sender before it sets `VALUE`; read by the receiver
    /// only after it observes `VALUE`.
    value: UnsafeCell<MaybeUninit<T>>,
    /// The task awaiting the receiver.
    rx_waker: AtomicWaker,
    /// The task awaiting `Sender::closed`.
    tx_waker: AtomicWaker,
}

// SAFETY: the value cell is accessed by one side at a time, as ordered by
// the state word (see the comments at each access); moving a `T` from the
// sender's thread to the receiver's needs `T: Send`, and nothing ever hands
// out a `&T` shared by two threads.
unsafe impl<T: Send> Send for Inner<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Inner<T> {}

impl<T> Inner<T> {
    /// Takes the value out if the state says it is there.
    ///
    /// Must be called only by the receiver, with `state` loaded with at
    /// least `Acquire` ordering.
    fn take_value(&self, state: usize) -> Option<T> {
        if state & VALUE == 0 {
            return None;
        }
        // Relaxed: only the receiver touches `VALUE` once it is set, and the
        // sender never looks at the cell again.
        self.state.fetch_and(!VALUE, Relaxed);
        // SAFETY: `VALUE` was set with Release by the sender after writing
        // the cell, and observed here with Acquire, so the write is visible;
        // the sender never touches the cell after setting `VALUE`; clearing
        // `VALUE` above makes this the only read.
        Some(unsafe { (*self.value.get()).assume_init_read() })
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        if *self.state.get_mut() & VALUE != 0 {
            // SAFETY: `VALUE` set means the cell holds a value nobody took,
            // and `&mut self` means nobody else can reach it.
            unsafe { self.value.get_mut().assume_init_drop() };
        }
    }
}

/// Creates a one-value channel.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::oneshot;
///
/// futures::executor::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     tx.send("done").unwrap();
///     assert_eq!(rx.await, Ok("done"));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Arc::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(MaybeUninit::uninit()),
        rx_waker: AtomicWaker::new(),
        tx_waker: AtomicWaker::new(),
    });
    (
        Sender {
            inner: Some(Arc::clone(&inner)),
        },
        Receiver { inner: Some(inner) },
    )
}

/// Sends one value to the paired [`Receiver`].
///
/// Created by [`channel`]. Dropping it without sending makes the receiver
/// resolve to [`error::RecvError`].
///
/// # Examples
///
/// ```
/// use smp_rt::sync::oneshot;
///
/// let (tx, rx) = oneshot::channel();
/// drop(rx);
/// assert_eq!(tx.send(1), Err(1));
/// ```
pub struct Sender<T> {
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Sender<T> {
    /// Sends `value`, consuming the sender. Never waits; charges one
    /// reduction (without yielding: the task's next charging await point
    /// does, if the slice is spent).
    ///
    /// Returns the value back as `Err` if the receiver was dropped or
    /// closed. `Ok` does not mean the value will be received: the receiver
    /// may still be dropped before taking it.
    pub fn send(mut self, value: T) -> Result<(), T> {
        smp_rt_executor::task::reduce(1);
        let inner = self.inner.take().expect("sender used after send");
        if inner.state.load(Acquire) & RX_CLOSED != 0 {
            inner.state.fetch_or(TX_DONE, AcqRel);
            return Err(value);
        }
        // SAFETY: `VALUE` is not set, so the receiver does not read the cell,
        // and this sender (consumed here, never cloned) is its only writer.
        unsafe { (*inner.value.get()).write(value) };
        // Release: publishes the value written above to the receiver, which
        // loads the state with Acquire before reading the cell.
        let prev = inner
            .state
            .fetch_update(AcqRel, Acquire, |s| {
                if s & RX_CLOSED != 0 {
                    None
                } else {
                    Some(s | VALUE | TX_DONE)
                }
            })
            .unwrap_or_else(|s| s);
        if prev & RX_CLOSED != 0 {
            // The receiver closed in the meantime; `VALUE` was never set.
            inner.state.fetch_or(TX_DONE, AcqRel);
            // SAFETY: the value was written above and, with `VALUE` unset,
            // the receiver never reads it: it is still ours to take back.
            return Err(unsafe { (*inner.value.get()).assume_init_read() });
        }
        inner.rx_waker.wake();
        Ok(())
    }

    /// Whether the receiver was dropped or [closed](Receiver::close): a
    /// value sent now would be returned as an error.
    pub fn is_closed(&self) -> bool {
        let inner = self.inner.as_ref().expect("sender used after send");
        inner.state.load(Acquire) & RX_CLOSED != 0
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// Useful to abandon work whose result nobody will read.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::oneshot;
    ///
    /// futures::executor::block_on(async {
    ///     let (mut tx, rx) = oneshot::channel::<()>();
    ///     std::thread::spawn(move || drop(rx));
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver being dropped or closed, registering the
    /// current task to be woken when it is. Charges one reduction first.
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        let inner = self.inner.as_ref().expect("sender used after send");
        if inner.state.load(Acquire) & RX_CLOSED != 0 {
            return Poll::Ready(());
        }
        inner.tx_waker.register(cx.waker());
        // Checked again after registering: a close in between has either
        // been seen here or will find the registered waker.
        if inner.state.load(Acquire) & RX_CLOSED != 0 {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            // Release: orders this after anything the sender did, for the
            // receiver that observes `TX_DONE`.
            inner.state.fetch_or(TX_DONE, AcqRel);
            inner.rx_waker.wake();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

/// Receives the value sent by the paired [`Sender`]; a future.
///
/// Awaiting it gives `Ok(value)`, or `Err(RecvError)` if the sender was
/// dropped without sending. Each poll charges one reduction to the calling
/// task before looking for the value. Polling it again after it completed
/// panics.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::oneshot;
/// use smp_rt::sync::oneshot::error::TryRecvError;
///
/// let (tx, mut rx) = oneshot::channel();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// tx.send(5).unwrap();
/// assert_eq!(rx.try_recv(), Ok(5));
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
/// ```
pub struct Receiver<T> {
    inner: Option<Arc<Inner<T>>>,
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// Returns [`TryRecvError::Empty`] if nothing was sent yet and
    /// [`TryRecvError::Closed`] if nothing will be (sender dropped, receiver
    /// closed) or the value was already received.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(inner) = self.inner.as_ref() else {
            return Err(TryRecvError::Closed);
        };
        let state = inner.state.load(Acquire);
        if let Some(v) = inner.take_value(state) {
            self.inner = None;
            return Ok(v);
        }
        if state & (TX_DONE | RX_CLOSED) != 0 {
            self.inner = None;
            return Err(TryRecvError::Closed);
        }
        Err(TryRecvError::Empty)
    }

    /// Closes the channel without dropping the receiver: the sender's
    /// [`send`](Sender::send) fails from now on and
    /// [`closed`](Sender::closed) completes. A value sent before the call
    /// can still be received.
    pub fn close(&mut self) {
        if let Some(inner) = self.inner.as_ref() {
            let prev = inner.state.fetch_or(RX_CLOSED, AcqRel);
            if prev & RX_CLOSED == 0 {
                inner.tx_waker.wake();
            }
        }
    }

    /// Whether the receiver has completed: it resolved (as a future, or
    /// through [`try_recv`](Receiver::try_recv)) to a value or to an error,
    /// and must not be polled again.
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// `true` unless a value has been sent and not yet received.
    pub fn is_empty(&self) -> bool {
        match self.inner.as_ref() {
            None => true,
            Some(inner) => inner.state.load(Acquire) & VALUE == 0,
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        let this = &mut *self;
        let inner = this
            .inner
            .as_ref()
            .expect("oneshot::Receiver polled after completion");
        let mut state = inner.state.load(Acquire);
        if state & (VALUE | TX_DONE | RX_CLOSED) == 0 {
            inner.rx_waker.register(cx.waker());
            // Checked again after registering: a send in between has either
            // been seen here or will find the registered waker.
            state = inner.state.load(Acquire);
        }
        if let Some(v) = inner.take_value(state) {
            this.inner = None;
            return Poll::Ready(Ok(v));
        }
        if state & (TX_DONE | RX_CLOSED) != 0 {
            this.inner = None;
            return Poll::Ready(Err(RecvError(())));
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.take() {
            let prev = inner.state.fetch_or(RX_CLOSED, AcqRel);
            if prev & RX_CLOSED == 0 {
                inner.tx_waker.wake();
            }
            // A value still in the cell is dropped with `Inner`.
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

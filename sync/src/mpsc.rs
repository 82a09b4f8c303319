//! Multi-producer, single-consumer channels: bounded and unbounded.
//!
//! [`channel`] creates a bounded channel: at most `buffer` messages wait in
//! it, and [`Sender::send`] waits for room when it is full (backpressure).
//! [`unbounded_channel`] creates a channel whose
//! [`UnboundedSender::send`] never waits.
//!
//! Messages from one sender arrive in the order they were sent. Once every
//! sender is dropped, the receiver gets the messages still in the channel,
//! then `None`. Once the receiver is dropped or [closed](Receiver::close),
//! sends fail and hand the message back.
//!
//! # Design
//!
//! Messages sit in a lock-free queue: a preallocated
//! `crossbeam_queue::ArrayQueue` for bounded channels of up to
//! 1024 slots, otherwise a `SegQueue`, which grows in small blocks as
//! messages come (so a large bound costs no memory up front). The receiver's task is
//! kept in an [`AtomicWaker`], woken after every push.
//!
//! A bounded channel counts its free slots with a [`Semaphore`]: a send
//! takes a permit, then pushes; the receiver pops, then gives the permit
//! back. Senders waiting for room are thus served in order, and a cancelled
//! send never loses a wakeup. Closing the channel closes the semaphore. An
//! unbounded channel counts its messages in one atomic word that also holds
//! the closed flag. In both cases the receiver reports the end of the
//! stream only once the channel is closed *and* no message is queued or
//! between its permit and its push, so a send that succeeded is never
//! missed.
//!
//! # Examples
//!
//! ```
//! use smp_rt::sync::mpsc;
//!
//! futures::executor::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(8);
//!     for i in 0..3 {
//!         let tx = tx.clone();
//!         std::thread::spawn(move || {
//!             futures::executor::block_on(tx.send(i)).unwrap();
//!         });
//!     }
//!     drop(tx);
//!     let mut got = Vec::new();
//!     while let Some(i) = rx.recv().await {
//!         got.push(i);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};
use std::task::{Context, Poll};

use ::futures::task::AtomicWaker;
use crossbeam_queue::{ArrayQueue, SegQueue};
use event_listener::{Event, EventListener};

use crate::semaphore::{Semaphore, TryAcquireError, Waiter};

/// Errors of the [`mpsc`](super::mpsc) channels.
pub mod error {
    use std::fmt;

    /// The receiver was dropped or closed; holds the message that could not
    /// be sent.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    /// Error returned by [`Sender::try_send`](super::Sender::try_send);
    /// holds the message that could not be sent.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub enum TrySendError<T> {
        /// The channel is full.
        Full(T),
        /// The receiver was dropped or closed.
        Closed(T),
    }

    impl<T> TrySendError<T> {
        /// The message that could not be sent.
        pub fn into_inner(self) -> T {
            match self {
                TrySendError::Full(v) | TrySendError::Closed(v) => v,
            }
        }
    }

    impl<T> fmt::Debug for TrySendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TrySendError::Full(_) => f.write_str("Full(..)"),
                TrySendError::Closed(_) => f.write_str("Closed(..)"),
            }
        }
    }

    impl<T> fmt::Display for TrySendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TrySendError::Full(_) => f.write_str("no available capacity"),
                TrySendError::Closed(_) => f.write_str("channel closed"),
            }
        }
    }

    impl<T> std::error::Error for TrySendError<T> {}

    impl<T> From<SendError<T>> for TrySendError<T> {
        fn from(err: SendError<T>) -> Self {
            TrySendError::Closed(err.0)
        }
    }

    /// Error returned by [`Sender::send_timeout`](super::Sender::send_timeout);
    /// holds the message that could not be sent.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub enum SendTimeoutError<T> {
        /// The channel stayed full until the timeout elapsed.
        Timeout(T),
        /// The receiver was dropped or closed.
        Closed(T),
    }

    impl<T> SendTimeoutError<T> {
        /// The message that could not be sent.
        pub fn into_inner(self) -> T {
            match self {
                SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v) => v,
            }
        }
    }

    impl<T> fmt::Debug for SendTimeoutError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                SendTimeoutError::Timeout(_) => f.write_str("Timeout(..)"),
                SendTimeoutError::Closed(_) => f.write_str("Closed(..)"),
            }
        }
    }

    impl<T> fmt::Display for SendTimeoutError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                SendTimeoutError::Timeout(_) => f.write_str("timed out waiting on send operation"),
                SendTimeoutError::Closed(_) => f.write_str("channel closed"),
            }
        }
    }

    impl<T> std::error::Error for SendTimeoutError<T> {}

    /// Error returned by [`Receiver::try_recv`](super::Receiver::try_recv)
    /// and [`UnboundedReceiver::try_recv`](super::UnboundedReceiver::try_recv).
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum TryRecvError {
        /// No message is available right now, but more may come.
        Empty,
        /// The channel is closed (every sender dropped, or the receiver
        /// closed) and holds no more messages.
        Disconnected,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("receiving on an empty channel"),
                TryRecvError::Disconnected => f.write_str("receiving on a closed channel"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}

    /// A closed channel, as an error. Kept for code written against
    /// tokio's type of the same name: no method returns it, since
    /// [`Receiver::recv`](super::Receiver::recv) reports a closed channel
    /// by returning `None`.
    #[derive(Debug, Clone)]
    #[doc(hidden)]
    #[deprecated(note = "This type is unused because recv returns an Option.")]
    pub struct RecvError(());

    #[allow(deprecated)]
    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    #[allow(deprecated)]
    impl std::error::Error for RecvError {}

    #[cfg(test)]
    mod tests {
        #[test]
        #[allow(deprecated)]
        fn recv_error_says_the_channel_is_closed() {
            let err = super::RecvError(());
            assert_eq!(err.to_string(), "channel closed");
            let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(err.clone());
            assert_eq!(boxed.to_string(), "channel closed");
            assert_eq!(format!("{err:?}"), "RecvError(())");
        }
    }
}

use self::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};

// ---------------------------------------------------------------------------
// Shared channel state
// ---------------------------------------------------------------------------

/// What differs between the bounded and the unbounded channel.
trait Flavor {
    type Item;
    /// Pops the next message, freeing its slot.
    fn pop(&self) -> Option<Self::Item>;
    /// Closed, with no message queued or about to be pushed.
    fn is_finished(&self) -> bool;
    /// Makes every later send fail. Idempotent.
    fn close(&self);
    fn is_closed(&self) -> bool;
    fn len(&self) -> usize;
}

struct Chan<F> {
    flavor: F,
    /// The receiving task.
    rx_waker: AtomicWaker,
    /// Number of live senders.
    senders: AtomicUsize,
    /// Number of live weak senders.
    weak_senders: AtomicUsize,
    /// Notified when the channel closes, for `closed()`.
    closed_event: Event,
}

// The channel is unwind-safe whatever the message type, as tokio's is (so
// are all its handles, which only hold an `Arc` or a reference to it). Its
// cells (the queues', the waker's) only make it auto-`!RefUnwindSafe`.
// Every change to the shared state is an atomic step or a queue operation
// that runs no user code; user code (a message's destructor, a waker's
// `wake` or `drop`) runs only before or after such a step, on a message
// already out of the queue or a waker already taken out of its slot, so a
// panic in it leaves the channel as consistent as it found it. The
// semaphore's lock recovers from poisoning for the same reason. One
// exception, from futures' `AtomicWaker`: a waker whose `clone` panics
// while the receiver registers it leaves the waker slot claimed, and that
// receiver is not woken again (the panic goes to the receiver's poll;
// tokio's own `AtomicWaker` catches that case).
impl<F> std::panic::RefUnwindSafe for Chan<F> {}
impl<F> std::panic::UnwindSafe for Chan<F> {}

impl<F: Flavor> Chan<F> {
    fn new(flavor: F) -> Self {
        Chan {
            flavor,
            rx_waker: AtomicWaker::new(),
            senders: AtomicUsize::new(1),
            weak_senders: AtomicUsize::new(0),
            closed_event: Event::new(),
        }
    }

    /// Closes the channel and wakes the tasks waiting in `closed()`.
    fn close(&self) {
        self.flavor.close();
        self.closed_event.notify(usize::MAX);
    }
}

/// Bounded channels up to this size preallocate their buffer.
const PREALLOCATE_MAX: usize = 1024;

enum BoundedQueue<T> {
    Array(ArrayQueue<T>),
    Segmented(SegQueue<T>),
}

struct Bounded<T> {
    queue: BoundedQueue<T>,
    /// One permit per free slot.
    slots: Semaphore,
    capacity: usize,
}

impl<T> Bounded<T> {
    fn new(capacity: usize) -> Self {
        let queue = if capacity <= PREALLOCATE_MAX {
            BoundedQueue::Array(ArrayQueue::new(capacity))
        } else {
            BoundedQueue::Segmented(SegQueue::new())
        };
        Bounded {
            queue,
            slots: Semaphore::new(capacity),
            capacity,
        }
    }

    /// Pushes into a slot whose permit the caller holds, and forgets the
    /// permit: the receiver gives it back when it pops the message.
    fn push(&self, value: T) {
        match &self.queue {
            BoundedQueue::Array(q) => {
                if q.push(value).is_err() {
                    unreachable!("a permit guarantees a free slot");
                }
            }
            BoundedQueue::Segmented(q) => q.push(value),
        }
    }
}

impl<T> Flavor for Bounded<T> {
    type Item = T;

    fn pop(&self) -> Option<T> {
        let v = match &self.queue {
            BoundedQueue::Array(q) => q.pop(),
            BoundedQueue::Segmented(q) => q.pop(),
        }?;
        self.slots.release(1);
        Some(v)
    }

    fn is_finished(&self) -> bool {
        // Once closed no permit is taken any more, so when all are back no
        // message is queued or in flight, and none will be.
        self.slots.is_closed() && self.slots.available_permits() == self.capacity
    }

    fn close(&self) {
        if !self.slots.is_closed() {
            self.slots.close();
        }
    }

    fn is_closed(&self) -> bool {
        self.slots.is_closed()
    }

    fn len(&self) -> usize {
        match &self.queue {
            BoundedQueue::Array(q) => q.len(),
            BoundedQueue::Segmented(q) => q.len(),
        }
    }
}

/// The unbounded channel's word: messages queued or being pushed, times two,
/// plus the closed flag.
const CLOSED: usize = 1;
const ONE: usize = 2;

struct Unbounded<T> {
    queue: SegQueue<T>,
    state: AtomicUsize,
}

impl<T> Unbounded<T> {
    fn send(&self, value: T) -> Result<(), T> {
        // Count the message before checking the flag, in one step, so the
        // receiver cannot see "closed and empty" while it is being pushed.
        let prev = self.state.fetch_add(ONE, AcqRel);
        if prev & CLOSED != 0 {
            self.state.fetch_sub(ONE, AcqRel);
            return Err(value);
        }
        self.queue.push(value);
        Ok(())
    }
}

impl<T> Flavor for Unbounded<T> {
    type Item = T;

    fn pop(&self) -> Option<T> {
        let v = self.queue.pop()?;
        self.state.fetch_sub(ONE, Release);
        Some(v)
    }

    fn is_finished(&self) -> bool {
        self.state.load(Acquire) == CLOSED
    }

    fn close(&self) {
        // SeqCst: pairs with the SeqCst load in `closed()` after it
        // registers an event listener.
        self.state.fetch_or(CLOSED, SeqCst);
    }

    fn is_closed(&self) -> bool {
        self.state.load(SeqCst) & CLOSED != 0
    }

    fn len(&self) -> usize {
        self.state.load(Acquire) / ONE
    }
}

/// The sending side shared by both flavors.
struct Tx<F: Flavor> {
    chan: Arc<Chan<F>>,
}

impl<F: Flavor> Tx<F> {
    fn is_closed(&self) -> bool {
        self.chan.flavor.is_closed()
    }

    fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    fn closed(&self) -> impl Future<Output = ()> {
        let chan = &*self.chan;
        let mut listener: Option<EventListener> = None;
        std::future::poll_fn(move |cx| {
            std::task::ready!(smp_rt_executor::task::poll_charge(cx));
            loop {
                if chan.flavor.is_closed() {
                    return Poll::Ready(());
                }
                match listener.as_mut() {
                    // Listen first, then check the flag again (loop top).
                    None => listener = Some(chan.closed_event.listen()),
                    Some(l) => {
                        std::task::ready!(Pin::new(l).poll(cx));
                        listener = None;
                    }
                }
            }
        })
    }
}

impl<F: Flavor> Tx<F> {
    fn downgrade(&self) -> WeakTx<F> {
        self.chan.weak_senders.fetch_add(1, Relaxed);
        WeakTx {
            chan: Arc::clone(&self.chan),
        }
    }
}

/// A sender that does not count as one: it does not keep the channel open.
struct WeakTx<F: Flavor> {
    chan: Arc<Chan<F>>,
}

impl<F: Flavor> WeakTx<F> {
    fn upgrade(&self) -> Option<Tx<F>> {
        let mut cur = self.chan.senders.load(Relaxed);
        loop {
            if cur == 0 {
                // The last sender is gone and the channel closed for good.
                return None;
            }
            match self
                .chan
                .senders
                .compare_exchange_weak(cur, cur + 1, Acquire, Relaxed)
            {
                Ok(_) => {
                    return Some(Tx {
                        chan: Arc::clone(&self.chan),
                    });
                }
                Err(actual) => cur = actual,
            }
        }
    }
}

impl<F: Flavor> Clone for WeakTx<F> {
    fn clone(&self) -> Self {
        self.chan.weak_senders.fetch_add(1, Relaxed);
        WeakTx {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<F: Flavor> Drop for WeakTx<F> {
    fn drop(&mut self) {
        self.chan.weak_senders.fetch_sub(1, Relaxed);
    }
}

impl<F> Chan<F> {
    fn strong_count(&self) -> usize {
        self.senders.load(Acquire)
    }

    fn weak_count(&self) -> usize {
        self.weak_senders.load(Acquire)
    }
}

impl<F: Flavor> Clone for Tx<F> {
    fn clone(&self) -> Self {
        // Relaxed: a new sender comes from an existing one, which keeps the
        // count above zero meanwhile.
        self.chan.senders.fetch_add(1, Relaxed);
        Tx {
            chan: Arc::clone(&self.chan),
        }
    }
}

impl<F: Flavor> Drop for Tx<F> {
    fn drop(&mut self) {
        // AcqRel: the last sender's close comes after every other sender's
        // pushes.
        if self.chan.senders.fetch_sub(1, AcqRel) == 1 {
            self.chan.close();
            // The receiver may be waiting for a message: it gets `None` now.
            self.chan.rx_waker.wake();
        }
    }
}

/// The receiving side shared by both flavors.
struct Rx<F: Flavor> {
    chan: Arc<Chan<F>>,
}

impl<F: Flavor> Rx<F> {
    /// Polls for a message without charging a reduction.
    fn poll_recv_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Item>> {
        let chan = &*self.chan;
        if let Some(v) = chan.flavor.pop() {
            return Poll::Ready(Some(v));
        }
        if chan.flavor.is_finished() {
            return Poll::Ready(None);
        }
        chan.rx_waker.register(cx.waker());
        // Checked again after registering: a push in between has either
        // been seen here or will find the registered waker.
        if let Some(v) = chan.flavor.pop() {
            return Poll::Ready(Some(v));
        }
        if chan.flavor.is_finished() {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Item>> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        self.poll_recv_inner(cx)
    }

    fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<F::Item>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        match std::task::ready!(self.poll_recv_inner(cx)) {
            None => Poll::Ready(0),
            Some(first) => {
                buffer.push(first);
                let mut n = 1;
                while n < limit {
                    match self.chan.flavor.pop() {
                        Some(v) => {
                            buffer.push(v);
                            n += 1;
                        }
                        None => break,
                    }
                }
                Poll::Ready(n)
            }
        }
    }

    fn try_recv(&mut self) -> Result<F::Item, TryRecvError> {
        if let Some(v) = self.chan.flavor.pop() {
            return Ok(v);
        }
        if self.chan.flavor.is_finished() {
            return Err(TryRecvError::Disconnected);
        }
        Err(TryRecvError::Empty)
    }

    fn close(&mut self) {
        self.chan.close();
    }
}

impl<F: Flavor> Drop for Rx<F> {
    fn drop(&mut self) {
        self.chan.close();
        // Nothing polls this receiver any more: let its task's waker go now
        // rather than with the last sender, and before the drain below,
        // where a message's destructor may panic.
        drop(self.chan.rx_waker.take());
        // Drop the messages now rather than with the last sender. If one's
        // destructor panics, `Drain`'s drop, run by the unwinding, drops the
        // rest (a second panic there aborts the process, as in tokio), and
        // the first panic goes on to the receiver's owner.
        let mut drain = Drain(&self.chan.flavor);
        drain.drain();
    }
}

/// Pops and drops every message queued, again when dropped: see `Rx`'s
/// `Drop`.
struct Drain<'a, F: Flavor>(&'a F);

impl<F: Flavor> Drain<'_, F> {
    fn drain(&mut self) {
        while self.0.pop().is_some() {}
    }
}

impl<F: Flavor> Drop for Drain<'_, F> {
    fn drop(&mut self) {
        self.drain();
    }
}

// ---------------------------------------------------------------------------
// Bounded channel
// ---------------------------------------------------------------------------

/// Creates a bounded channel holding at most `buffer` messages.
///
/// # Panics
///
/// Panics if `buffer` is 0, or greater than [`Semaphore::MAX_PERMITS`].
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// futures::executor::block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     tx.send("hello").await.unwrap();
///     assert!(tx.try_send("full").is_err());
///     assert_eq!(rx.recv().await, Some("hello"));
/// });
/// ```
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(buffer > 0, "mpsc bounded channel requires buffer > 0");
    assert!(
        buffer <= Semaphore::MAX_PERMITS,
        "mpsc bounded channel requires buffer <= Semaphore::MAX_PERMITS"
    );
    let chan = Arc::new(Chan::new(Bounded::new(buffer)));
    (
        Sender {
            tx: Tx {
                chan: Arc::clone(&chan),
            },
        },
        Receiver { rx: Rx { chan } },
    )
}

/// Sends messages to a bounded channel; cloneable. Created by [`channel`].
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
/// use smp_rt::sync::mpsc::error::TrySendError;
///
/// futures::executor::block_on(async {
///     let (tx, rx) = mpsc::channel(1);
///     tx.try_send(1).unwrap();
///     assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
///     drop(rx);
///     assert_eq!(tx.send(3).await.unwrap_err().0, 3);
/// });
/// ```
pub struct Sender<T> {
    tx: Tx<Bounded<T>>,
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room if the channel is full.
    ///
    /// Fails, handing the value back, if the receiver is dropped or closed
    /// (also while waiting). Each poll charges one reduction first.
    /// Dropping the future before it completes sends nothing and gives up
    /// its place among the waiting senders without losing a wakeup.
    pub fn send(&self, value: T) -> impl Future<Output = Result<(), SendError<T>>> {
        Send {
            chan: &self.tx.chan,
            waiter: Waiter::new(1),
            value: Some(value),
        }
    }

    /// Sends `value`, waiting at most `timeout` for room.
    ///
    /// Fails with [`SendTimeoutError::Timeout`] if the channel is still
    /// full when `timeout` elapses, or [`SendTimeoutError::Closed`] if the
    /// receiver is dropped or closed; both hand the value back. The timeout
    /// runs on the runtime's timers, so the future must be polled inside an
    /// smp_rt runtime. Each poll charges one reduction first; dropping the
    /// future sends nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use smp_rt::sync::mpsc;
    /// use smp_rt::sync::mpsc::error::SendTimeoutError;
    ///
    /// smp_rt::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send_timeout(1, Duration::from_secs(10)).await.unwrap();
    ///     let full = tx.send_timeout(2, Duration::from_millis(1)).await;
    ///     assert_eq!(full, Err(SendTimeoutError::Timeout(2)));
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: std::time::Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        match smp_rt_timers::timeout(timeout, self.reserve()).await {
            Ok(Ok(permit)) => {
                permit.send(value);
                Ok(())
            }
            Ok(Err(_)) => Err(SendTimeoutError::Closed(value)),
            Err(_) => Err(SendTimeoutError::Timeout(value)),
        }
    }

    /// Sends `value` from synchronous code, blocking the thread until there
    /// is room. Fails, handing the value back, if the receiver is dropped or
    /// closed.
    ///
    /// # Panics
    ///
    /// Panics if called on an smp_rt worker thread (inside a task or a
    /// `block_on`): `.await` [`send`](Sender::send) there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     tx.blocking_send(1).unwrap();
    ///     tx.blocking_send(2).unwrap();
    /// });
    /// smp_rt::block_on(async {
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, Some(2));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// producer.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        smp_rt_executor::runtime::assert_may_block("mpsc::Sender::blocking_send");
        futures::executor::block_on(self.send(value))
    }

    /// Sends `value` if there is room right now.
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let chan = &*self.tx.chan;
        match chan.flavor.slots.try_take(1) {
            Ok(()) => {
                chan.flavor.push(value);
                chan.rx_waker.wake();
                Ok(())
            }
            Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(value)),
            Err(TryAcquireError::Closed) => Err(TrySendError::Closed(value)),
        }
    }

    /// Waits for a free slot and reserves it, returning a [`Permit`] that
    /// sends one message without waiting.
    ///
    /// The slot counts as taken (see [`capacity`](Sender::capacity)) until
    /// the permit sends or is dropped; dropping it gives the slot back.
    /// Fails if the receiver is dropped or closed (also while waiting).
    /// Each poll charges one reduction first. Dropping the future before it
    /// completes gives up its place among the waiting senders without losing
    /// a wakeup.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// smp_rt::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve().await.unwrap();
    ///     assert_eq!(tx.capacity(), 0);
    ///     assert!(tx.try_send(1).is_err());
    ///     permit.send(2);
    ///     assert_eq!(rx.recv().await, Some(2));
    /// });
    /// ```
    pub fn reserve(&self) -> impl Future<Output = Result<Permit<'_, T>, SendError<()>>> {
        let chan = &*self.tx.chan;
        let mut acquire = Reserve::new(chan, 1);
        std::future::poll_fn(move |cx| {
            std::task::ready!(Pin::new(&mut acquire).poll(cx))?;
            Poll::Ready(Ok(Permit { chan }))
        })
    }

    /// Waits for `n` free slots and reserves them all at once, returning an
    /// iterator of `n` [`Permit`]s.
    ///
    /// Fails if the receiver is dropped or closed, or if `n` is greater than
    /// [`max_capacity`](Sender::max_capacity). Permits not taken from the
    /// iterator give their slots back when it is dropped. Each poll charges
    /// one reduction first; cancel-safe like [`reserve`](Sender::reserve).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// smp_rt::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(4);
    ///     let mut permits = tx.reserve_many(3).await.unwrap();
    ///     assert_eq!(tx.capacity(), 1);
    ///     permits.next().unwrap().send(1);
    ///     drop(permits);
    ///     assert_eq!(tx.capacity(), 3);
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    pub fn reserve_many(
        &self,
        n: usize,
    ) -> impl Future<Output = Result<PermitIterator<'_, T>, SendError<()>>> {
        let chan = &*self.tx.chan;
        let too_many = n > chan.flavor.capacity;
        let mut acquire = Reserve::new(chan, n);
        std::future::poll_fn(move |cx| {
            if too_many {
                return Poll::Ready(Err(SendError(())));
            }
            std::task::ready!(Pin::new(&mut acquire).poll(cx))?;
            Poll::Ready(Ok(PermitIterator { chan, n }))
        })
    }

    /// Like [`reserve`](Sender::reserve), but the permit owns the sender,
    /// which it gives back once it sends: the permit is `'static` when `T`
    /// is.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// smp_rt::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     let handle = smp_rt::spawn(async move {
    ///         let tx = permit.send(7);
    ///         drop(tx);
    ///     });
    ///     assert_eq!(rx.recv().await, Some(7));
    ///     handle.await.unwrap();
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        Reserve::new(&self.tx.chan, 1).await?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// Reserves a free slot if there is one right now.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    /// use smp_rt::sync::mpsc::error::TrySendError;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve().unwrap();
    /// assert_eq!(tx.try_reserve().unwrap_err(), TrySendError::Full(()));
    /// permit.send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        let chan = &*self.tx.chan;
        try_take_slots(chan, 1)?;
        Ok(Permit { chan })
    }

    /// Reserves `n` free slots if they are all there right now. Fails with
    /// `Full` if `n` is greater than the free capacity (or than
    /// [`max_capacity`](Sender::max_capacity)).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(2);
    /// let permits = tx.try_reserve_many(2).unwrap();
    /// assert!(tx.try_reserve_many(1).is_err());
    /// for (i, permit) in permits.enumerate() {
    ///     permit.send(i);
    /// }
    /// assert_eq!(rx.try_recv(), Ok(0));
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        let chan = &*self.tx.chan;
        if n > chan.flavor.capacity {
            return Err(TrySendError::Full(()));
        }
        try_take_slots(chan, n)?;
        Ok(PermitIterator { chan, n })
    }

    /// Like [`try_reserve`](Sender::try_reserve), but the permit owns the
    /// sender. On failure the sender comes back inside the error.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.send(3);
    /// let tx = tx.try_reserve_owned().unwrap_err().into_inner();
    /// assert_eq!(rx.try_recv(), Ok(3));
    /// drop(tx);
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match try_take_slots(&self.tx.chan, 1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
    }

    /// Whether the receiver was dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Waits until the receiver is dropped or closed. Each poll charges one
    /// reduction first.
    pub fn closed(&self) -> impl Future<Output = ()> {
        self.tx.closed()
    }

    /// The number of messages that can be sent right now without waiting.
    pub fn capacity(&self) -> usize {
        self.tx.chan.flavor.slots.available_permits()
    }

    /// The channel's buffer size, as given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.tx.chan.flavor.capacity
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.tx.same_channel(&other.tx)
    }

    /// Creates a [`WeakSender`] for this channel, which does not keep the
    /// channel open: once every `Sender` is dropped, the channel closes
    /// and upgrading fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.strong_count(), 1);
    /// assert_eq!(tx.weak_count(), 1);
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            tx: self.tx.downgrade(),
        }
    }

    /// The number of live `Sender`s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.tx.chan.strong_count()
    }

    /// The number of live [`WeakSender`]s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// drop(weak);
    /// assert_eq!(tx.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.tx.chan.weak_count()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .field("max_capacity", &self.max_capacity())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// A [`Sender`] that does not keep the channel open, from
/// [`Sender::downgrade`]. [`upgrade`](WeakSender::upgrade) gives a
/// `Sender` back while at least one is still alive.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::channel::<u8>(1);
/// let weak = tx.downgrade();
/// drop(tx);
/// // The weak sender does not keep the channel open.
/// assert!(rx.try_recv().is_err());
/// assert!(rx.is_closed());
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakSender<T> {
    tx: WeakTx<Bounded<T>>,
}

impl<T> WeakSender<T> {
    /// Gives a `Sender` back if one is still alive, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// let tx2 = weak.upgrade().unwrap();
    /// assert_eq!(tx2.strong_count(), 2);
    /// drop(tx);
    /// drop(tx2);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        self.tx.upgrade().map(|tx| Sender { tx })
    }

    /// The number of live `Sender`s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.tx.chan.strong_count()
    }

    /// The number of live weak senders of this channel, this one included.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// let weak2 = weak.clone();
    /// assert_eq!(weak.weak_count(), 2);
    /// drop(weak2);
    /// assert_eq!(weak.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.tx.chan.weak_count()
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender").finish_non_exhaustive()
    }
}

/// The future of [`Sender::send`].
struct Send<'a, T> {
    chan: &'a Chan<Bounded<T>>,
    waiter: Waiter,
    value: Option<T>,
}

// The message is only ever moved, never pinned.
impl<T> Unpin for Send<'_, T> {}

impl<T> Future for Send<'_, T> {
    type Output = Result<(), SendError<T>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        let this = &mut *self;
        let chan = this.chan;
        let res = std::task::ready!(chan.flavor.slots.poll_acquire(&mut this.waiter, cx));
        let value = this
            .value
            .take()
            .expect("send future polled after completion");
        match res {
            Ok(()) => {
                chan.flavor.push(value);
                chan.rx_waker.wake();
                Poll::Ready(Ok(()))
            }
            Err(_) => Poll::Ready(Err(SendError(value))),
        }
    }
}

impl<T> Drop for Send<'_, T> {
    fn drop(&mut self) {
        if self.chan.flavor.slots.cancel(&mut self.waiter) && self.chan.flavor.is_closed() {
            // The permit given back may be the last one the receiver of a
            // closed channel waits for before it reports the end.
            self.chan.rx_waker.wake();
        }
    }
}

fn try_take_slots<T>(chan: &Chan<Bounded<T>>, n: usize) -> Result<(), TrySendError<()>> {
    match chan.flavor.slots.try_take(n) {
        Ok(()) => Ok(()),
        Err(TryAcquireError::NoPermits) => Err(TrySendError::Full(())),
        Err(TryAcquireError::Closed) => Err(TrySendError::Closed(())),
    }
}

/// Gives `n` reserved slots back unused.
fn release_slots<T>(chan: &Chan<Bounded<T>>, n: usize) {
    if n == 0 {
        return;
    }
    chan.flavor.slots.release(n);
    if chan.flavor.is_closed() {
        // These may be the last slots the receiver of a closed channel
        // waits for before it reports the end.
        chan.rx_waker.wake();
    }
}

/// Pushes into a reserved slot and wakes the receiver.
fn send_reserved<T>(chan: &Chan<Bounded<T>>, value: T) {
    chan.flavor.push(value);
    chan.rx_waker.wake();
}

/// Waits for `n` slots, for the `reserve` family.
struct Reserve<'a, T> {
    chan: &'a Chan<Bounded<T>>,
    waiter: Waiter,
}

impl<'a, T> Reserve<'a, T> {
    fn new(chan: &'a Chan<Bounded<T>>, n: usize) -> Self {
        Reserve {
            chan,
            waiter: Waiter::new(n),
        }
    }
}

impl<T> Unpin for Reserve<'_, T> {}

impl<T> Future for Reserve<'_, T> {
    type Output = Result<(), SendError<()>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        let this = &mut *self;
        let res = std::task::ready!(this.chan.flavor.slots.poll_acquire(&mut this.waiter, cx));
        Poll::Ready(res.map_err(|_| SendError(())))
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        if self.chan.flavor.slots.cancel(&mut self.waiter) && self.chan.flavor.is_closed() {
            self.chan.rx_waker.wake();
        }
    }
}

/// One reserved slot of a bounded channel, from [`Sender::reserve`] or
/// [`Sender::try_reserve`]: [`send`](Permit::send) fills it without waiting;
/// dropping the permit gives the slot back.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// let (tx, _rx) = mpsc::channel::<u8>(1);
/// let permit = tx.try_reserve().unwrap();
/// assert_eq!(tx.capacity(), 0);
/// drop(permit);
/// assert_eq!(tx.capacity(), 1);
/// ```
pub struct Permit<'a, T> {
    chan: &'a Chan<Bounded<T>>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot. Never waits and never fails:
    /// if the receiver was closed meanwhile, it can still receive the
    /// message; if it was dropped, the message is dropped with the channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// tx.try_reserve().unwrap().send("hi");
    /// assert_eq!(rx.try_recv(), Ok("hi"));
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        std::mem::forget(self);
        send_reserved(chan, value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        release_slots(self.chan, 1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// `n` reserved slots of a bounded channel, from [`Sender::reserve_many`]
/// or [`Sender::try_reserve_many`], handed out one [`Permit`] at a time.
/// Dropping the iterator gives back the slots of the permits not taken.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// let (tx, _rx) = mpsc::channel::<u8>(3);
/// let mut permits = tx.try_reserve_many(2).unwrap();
/// assert_eq!(permits.len(), 2);
/// let first = permits.next().unwrap();
/// drop(permits);
/// assert_eq!(tx.capacity(), 2);
/// drop(first);
/// assert_eq!(tx.capacity(), 3);
/// ```
pub struct PermitIterator<'a, T> {
    chan: &'a Chan<Bounded<T>>,
    n: usize,
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        if self.n == 0 {
            return None;
        }
        self.n -= 1;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        release_slots(self.chan, self.n);
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("remaining", &self.n)
            .finish_non_exhaustive()
    }
}

/// One reserved slot of a bounded channel that owns its [`Sender`], from
/// [`Sender::reserve_owned`] or [`Sender::try_reserve_owned`].
/// [`send`](OwnedPermit::send) fills the slot and gives the sender back;
/// [`release`](OwnedPermit::release) gives the slot and the sender back;
/// dropping the permit gives the slot back and drops the sender.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::channel::<u8>(1);
/// let permit = tx.try_reserve_owned().unwrap();
/// let tx = permit.release();
/// assert_eq!(tx.capacity(), 1);
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(mpsc::error::TryRecvError::Disconnected));
/// ```
pub struct OwnedPermit<T> {
    /// `None` only once sent or released.
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot without waiting, and returns the
    /// sender.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send(5);
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("permit already used");
        send_reserved(&sender.tx.chan, value);
        sender
    }

    /// Gives the slot back unused and returns the sender.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::channel::<u8>(1);
    /// let tx = tx.try_reserve_owned().unwrap().release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("permit already used");
        release_slots(&sender.tx.chan, 1);
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            // The slot goes back before the sender: dropping the last
            // sender may end the stream, which needs every slot back.
            release_slots(&sender.tx.chan, 1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

/// Receives messages from a bounded channel. Created by [`channel`].
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// futures::executor::block_on(async {
///     let (tx, mut rx) = mpsc::channel(4);
///     tx.send(1).await.unwrap();
///     tx.send(2).await.unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, Some(2));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct Receiver<T> {
    rx: Rx<Bounded<T>>,
}

impl<T> Receiver<T> {
    /// Receives the next message, waiting if there is none yet.
    ///
    /// Returns `None` once the channel is closed (every sender dropped, or
    /// [`close`](Receiver::close) called) and empty. Cancel-safe: dropping
    /// the future loses no message.
    pub fn recv(&mut self) -> impl Future<Output = Option<T>> {
        std::future::poll_fn(move |cx| self.poll_recv(cx))
    }

    /// Receives the next message from synchronous code, blocking the
    /// thread until one arrives. Returns `None` once the channel is closed
    /// and empty.
    ///
    /// # Panics
    ///
    /// Panics if called on an smp_rt worker thread (inside a task or a
    /// `block_on`): `.await` [`recv`](Receiver::recv) there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let consumer = std::thread::spawn(move || {
    ///     assert_eq!(rx.blocking_recv(), Some(10));
    ///     assert_eq!(rx.blocking_recv(), None);
    /// });
    /// smp_rt::block_on(async move {
    ///     let _ = tx.send(10).await;
    /// });
    /// consumer.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        smp_rt_executor::runtime::assert_may_block("mpsc::Receiver::blocking_recv");
        futures::executor::block_on(self.recv())
    }

    /// Receives up to `limit` messages into `buffer`, waiting for at least
    /// one. Returns how many were added; 0 means the channel is closed and
    /// empty (or `limit` is 0).
    pub fn recv_many<'a>(
        &'a mut self,
        buffer: &'a mut Vec<T>,
        limit: usize,
    ) -> impl Future<Output = usize> {
        std::future::poll_fn(move |cx| self.rx.poll_recv_many(cx, buffer, limit))
    }

    /// Polls for the next message, registering the current task to be
    /// woken when one arrives. Charges one reduction first.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Receives the next message if there is one right now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Closes the channel without dropping the receiver: sends fail from
    /// now on (also those waiting for room), while the messages already in
    /// the channel can still be received.
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// Whether the channel is closed: every sender dropped, or
    /// [`close`](Receiver::close) called.
    pub fn is_closed(&self) -> bool {
        self.rx.chan.flavor.is_closed()
    }

    /// The number of messages in the channel.
    pub fn len(&self) -> usize {
        self.rx.chan.flavor.len()
    }

    /// Whether the channel holds no message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of messages that can be sent right now without waiting.
    pub fn capacity(&self) -> usize {
        self.rx.chan.flavor.slots.available_permits()
    }

    /// The channel's buffer size, as given to [`channel`].
    pub fn max_capacity(&self) -> usize {
        self.rx.chan.flavor.capacity
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

// ---------------------------------------------------------------------------
// Unbounded channel
// ---------------------------------------------------------------------------

/// Creates a channel with no bound on the number of waiting messages.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// futures::executor::block_on(async {
///     let (tx, mut rx) = mpsc::unbounded_channel();
///     tx.send(1).unwrap();
///     drop(tx);
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(Chan::new(Unbounded {
        queue: SegQueue::new(),
        state: AtomicUsize::new(0),
    }));
    (
        UnboundedSender {
            tx: Tx {
                chan: Arc::clone(&chan),
            },
        },
        UnboundedReceiver { rx: Rx { chan } },
    )
}

/// Sends messages to an unbounded channel; cloneable. Created by
/// [`unbounded_channel`].
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// let (tx, rx) = mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// drop(rx);
/// assert_eq!(tx.send(2).unwrap_err().0, 2);
/// ```
pub struct UnboundedSender<T> {
    tx: Tx<Unbounded<T>>,
}

impl<T> UnboundedSender<T> {
    /// Sends `value` without waiting. Charges one reduction (without
    /// yielding: the task's next charging await point does, if the slice
    /// is spent).
    ///
    /// Fails, handing the value back, if the receiver was dropped or closed.
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        smp_rt_executor::task::reduce(1);
        let chan = &*self.tx.chan;
        match chan.flavor.send(value) {
            Ok(()) => {
                chan.rx_waker.wake();
                Ok(())
            }
            Err(value) => {
                // The message counted for a moment; a receiver of the
                // closed channel may be waiting for the count to drop.
                chan.rx_waker.wake();
                Err(SendError(value))
            }
        }
    }

    /// Whether the receiver was dropped or closed.
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Waits until the receiver is dropped or closed. Each poll charges one
    /// reduction first.
    pub fn closed(&self) -> impl Future<Output = ()> {
        self.tx.closed()
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        self.tx.same_channel(&other.tx)
    }

    /// Creates a [`WeakUnboundedSender`] for this channel, which does not keep the
    /// channel open: once every `UnboundedSender` is dropped, the channel closes
    /// and upgrading fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.strong_count(), 1);
    /// assert_eq!(tx.weak_count(), 1);
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        WeakUnboundedSender {
            tx: self.tx.downgrade(),
        }
    }

    /// The number of live `UnboundedSender`s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.tx.chan.strong_count()
    }

    /// The number of live [`WeakUnboundedSender`]s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// drop(weak);
    /// assert_eq!(tx.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.tx.chan.weak_count()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// A [`UnboundedSender`] that does not keep the channel open, from
/// [`UnboundedSender::downgrade`]. [`upgrade`](WeakUnboundedSender::upgrade) gives a
/// `UnboundedSender` back while at least one is still alive.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
///
/// let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
/// let weak = tx.downgrade();
/// drop(tx);
/// // The weak sender does not keep the channel open.
/// assert!(rx.try_recv().is_err());
/// assert!(rx.is_closed());
/// assert!(weak.upgrade().is_none());
/// ```
pub struct WeakUnboundedSender<T> {
    tx: WeakTx<Unbounded<T>>,
}

impl<T> WeakUnboundedSender<T> {
    /// Gives a `UnboundedSender` back if one is still alive, else `None`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// let tx2 = weak.upgrade().unwrap();
    /// assert_eq!(tx2.strong_count(), 2);
    /// drop(tx);
    /// drop(tx2);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        self.tx.upgrade().map(|tx| UnboundedSender { tx })
    }

    /// The number of live `UnboundedSender`s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.tx.chan.strong_count()
    }

    /// The number of live weak senders of this channel, this one included.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// let weak2 = weak.clone();
    /// assert_eq!(weak.weak_count(), 2);
    /// drop(weak2);
    /// assert_eq!(weak.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.tx.chan.weak_count()
    }
}

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        WeakUnboundedSender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .finish_non_exhaustive()
    }
}

/// Receives messages from an unbounded channel. Created by
/// [`unbounded_channel`].
///
/// # Examples
///
/// ```
/// use smp_rt::sync::mpsc;
/// use smp_rt::sync::mpsc::error::TryRecvError;
///
/// let (tx, mut rx) = mpsc::unbounded_channel::<i32>();
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
/// drop(tx);
/// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
/// ```
pub struct UnboundedReceiver<T> {
    rx: Rx<Unbounded<T>>,
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next message, waiting if there is none yet.
    ///
    /// Returns `None` once the channel is closed (every sender dropped, or
    /// [`close`](UnboundedReceiver::close) called) and empty. Cancel-safe:
    /// dropping the future loses no message.
    pub fn recv(&mut self) -> impl Future<Output = Option<T>> {
        std::future::poll_fn(move |cx| self.poll_recv(cx))
    }

    /// Receives the next message from synchronous code, blocking the
    /// thread until one arrives. Returns `None` once the channel is closed
    /// and empty.
    ///
    /// # Panics
    ///
    /// Panics if called on an smp_rt worker thread (inside a task or a
    /// `block_on`): `.await` [`recv`](UnboundedReceiver::recv) there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// let consumer = std::thread::spawn(move || {
    ///     assert_eq!(rx.blocking_recv(), Some(10));
    ///     assert_eq!(rx.blocking_recv(), None);
    /// });
    /// smp_rt::block_on(async move {
    ///     let _ = tx.send(10);
    /// });
    /// consumer.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        smp_rt_executor::runtime::assert_may_block("mpsc::UnboundedReceiver::blocking_recv");
        futures::executor::block_on(self.recv())
    }

    /// Receives up to `limit` messages into `buffer`, waiting for at least
    /// one. Returns how many were added; 0 means the channel is closed and
    /// empty (or `limit` is 0).
    pub fn recv_many<'a>(
        &'a mut self,
        buffer: &'a mut Vec<T>,
        limit: usize,
    ) -> impl Future<Output = usize> {
        std::future::poll_fn(move |cx| self.rx.poll_recv_many(cx, buffer, limit))
    }

    /// Polls for the next message, registering the current task to be
    /// woken when one arrives. Charges one reduction first.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Receives the next message if there is one right now.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.rx.try_recv()
    }

    /// Closes the channel without dropping the receiver: sends fail from
    /// now on, while the messages already in the channel can still be
    /// received.
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// Whether the channel is closed: every sender dropped, or
    /// [`close`](UnboundedReceiver::close) called.
    pub fn is_closed(&self) -> bool {
        self.rx.chan.flavor.is_closed()
    }

    /// The number of messages in the channel (including any being pushed
    /// right now).
    pub fn len(&self) -> usize {
        self.rx.chan.flavor.len()
    }

    /// Whether the channel holds no message.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

//! A multi-producer, multi-consumer broadcast queue: each sent value is
//! seen by every receiver.
//!
//! [`channel`] returns a [`Sender`] / [`Receiver`] pair. Every receiver
//! alive when a value is sent receives a clone of it. More receivers come
//! from [`Sender::subscribe`] (or [`Receiver::resubscribe`]); they start
//! with the values sent after they were created.
//!
//! # Lagging
//!
//! The channel holds at most `capacity` values (rounded up to a power of
//! two). Sending never waits: when the channel is full the oldest value is
//! dropped. A receiver that has not seen that value yet *lags*: its next
//! receive returns [`RecvError::Lagged`] with the number of values it
//! missed, and the receives after that continue from the oldest value the
//! channel still holds.
//!
//! # Closing
//!
//! Once every [`Sender`] has been dropped, receivers get the values left
//! in the channel, then [`RecvError::Closed`]. A value stays in the channel
//! until every receiver that was alive when it was sent has received it
//! (or it is pushed out by newer values).
//!
//! Every poll of [`Receiver::recv`] and [`Sender::closed`] charges one
//! reduction to the calling task; [`Sender::send`], which never waits,
//! charges one without yielding.
//!
//! # Examples
//!
//! ```
//! use smp_rt::sync::broadcast;
//!
//! # smp_rt::block_on(async {
//! let (tx, mut rx1) = broadcast::channel(16);
//! let mut rx2 = tx.subscribe();
//!
//! smp_rt::spawn(async move {
//!     assert_eq!(rx1.recv().await.unwrap(), 10);
//!     assert_eq!(rx1.recv().await.unwrap(), 20);
//! });
//!
//! smp_rt::spawn(async move {
//!     assert_eq!(rx2.recv().await.unwrap(), 10);
//!     assert_eq!(rx2.recv().await.unwrap(), 20);
//! });
//!
//! tx.send(10).unwrap();
//! tx.send(20).unwrap();
//! # });
//! ```
//!
//! Lagging:
//!
//! ```
//! use smp_rt::sync::broadcast;
//!
//! # smp_rt::block_on(async {
//! let (tx, mut rx) = broadcast::channel(2);
//!
//! tx.send(10).unwrap();
//! tx.send(20).unwrap();
//! tx.send(30).unwrap();
//!
//! // The receiver lagged behind
//! assert!(rx.recv().await.is_err());
//!
//! // At this point, we can abort or continue with lost messages
//!
//! assert_eq!(20, rx.recv().await.unwrap());
//! assert_eq!(30, rx.recv().await.unwrap());
//! # });
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker, ready};

use smp_rt_executor::task::poll_charge;

use crate::notify::Notify;
use crate::util::{charged, notified};
use crate::wait_list::{Key, WaitList, WakeList, update_waker};

/// Error types of the [`broadcast`](crate::broadcast) channel.
pub mod error {
    use std::fmt;

    /// Error returned by [`Sender::send`](super::Sender::send) when there
    /// is no receiver; it holds the value that was not sent.
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

    /// Error returned by [`Receiver::recv`](super::Receiver::recv).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum RecvError {
        /// Every sender has been dropped and no value is left for this
        /// receiver.
        Closed,
        /// The receiver lagged too far behind: this many values were
        /// dropped before it could receive them. The next receive returns
        /// the oldest value still held.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(amt) => write!(f, "channel lagged by {amt}"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    /// Error returned by [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, PartialEq, Eq, Clone)]
    pub enum TryRecvError {
        /// No value is waiting for this receiver.
        Empty,
        /// Every sender has been dropped and no value is left for this
        /// receiver.
        Closed,
        /// The receiver lagged too far behind (see
        /// [`RecvError::Lagged`]).
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(amt) => write!(f, "channel lagged by {amt}"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use self::error::{RecvError, SendError, TryRecvError};

struct Shared<T> {
    inner: Mutex<Inner<T>>,
    /// `buffer.len() - 1`; the length is a power of two.
    mask: usize,
    /// Senders waiting in `closed()`.
    notify_last_rx_drop: Notify,
}

struct Inner<T> {
    buffer: Box<[Slot<T>]>,
    /// The position the next value is written at.
    pos: u64,
    rx_cnt: usize,
    tx_cnt: usize,
    /// Live [`WeakSender`]s; they keep nothing open.
    weak_tx_cnt: usize,
    closed: bool,
    /// Receivers waiting in `recv`.
    waiters: WaitList<Option<Waker>>,
}

struct Slot<T> {
    /// The position of the value in the slot; a slot never written holds
    /// its index minus the buffer length, which no receiver asks for.
    pos: u64,
    /// Receivers that have yet to receive the value.
    rem: usize,
    val: Option<T>,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // No critical section leaves the state half-updated around user
        // code that may panic (`T::clone` runs before anything is changed).
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn capacity(&self) -> u64 {
        self.mask as u64 + 1
    }
}

/// Sends values to every [`Receiver`]. Cloneable; created by [`channel`].
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives values from the associated [`Sender`]s. Created by [`channel`],
/// [`Sender::subscribe`] and [`Receiver::resubscribe`].
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The position of the next value to receive.
    next: u64,
}

/// Creates a broadcast channel holding up to `capacity` values (rounded up
/// to the next power of two), and returns its sender and a first receiver.
///
/// # Panics
///
/// Panics if `capacity` is 0 or greater than `usize::MAX / 2`.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::broadcast;
///
/// # smp_rt::block_on(async {
/// let (tx, mut rx1) = broadcast::channel(16);
/// let mut rx2 = tx.subscribe();
///
/// smp_rt::spawn(async move {
///     assert_eq!(rx1.recv().await.unwrap(), 10);
///     assert_eq!(rx1.recv().await.unwrap(), 20);
/// });
///
/// smp_rt::spawn(async move {
///     assert_eq!(rx2.recv().await.unwrap(), 10);
///     assert_eq!(rx2.recv().await.unwrap(), 20);
/// });
///
/// tx.send(10).unwrap();
/// tx.send(20).unwrap();
/// # });
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

impl<T> Sender<T> {
    /// Creates a sender with no receiver; see [`channel`].
    ///
    /// # Panics
    ///
    /// Panics if `capacity` is 0 or greater than `usize::MAX / 2`.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast::Sender;
    ///
    /// # smp_rt::block_on(async {
    /// let tx = Sender::new(16);
    /// let mut rx = tx.subscribe();
    /// tx.send(10).unwrap();
    /// assert_eq!(rx.recv().await.unwrap(), 10);
    /// # });
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity exceeded `usize::MAX / 2`"
        );
        let len = capacity.next_power_of_two();
        let buffer = (0..len)
            .map(|i| Slot {
                pos: (i as u64).wrapping_sub(len as u64),
                rem: 0,
                val: None,
            })
            .collect();
        Sender {
            shared: Arc::new(Shared {
                inner: Mutex::new(Inner {
                    buffer,
                    pos: 0,
                    rx_cnt: 0,
                    tx_cnt: 1,
                    weak_tx_cnt: 0,
                    closed: false,
                    waiters: WaitList::new(),
                }),
                mask: len - 1,
                notify_last_rx_drop: Notify::new(),
            }),
        }
    }

    /// Sends `value` to every receiver, returning how many there are.
    ///
    /// Never waits: if the channel is full, the oldest value is dropped
    /// (receivers that had not received it will lag). Fails, handing the
    /// value back, if there is no receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel(16);
    /// assert_eq!(tx.send(1).unwrap(), 1);
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        // Never waits: charges without yielding, like the unbounded mpsc.
        smp_rt_executor::task::reduce(1);
        let mut inner = self.shared.lock();
        if inner.rx_cnt == 0 {
            return Err(SendError(value));
        }
        let pos = inner.pos;
        let rx_cnt = inner.rx_cnt;
        let slot = &mut inner.buffer[pos as usize & self.shared.mask];
        slot.pos = pos;
        slot.rem = rx_cnt;
        // The value pushed out, if any, is dropped after unlocking: its
        // `Drop` may touch this channel.
        let old = slot.val.replace(value);
        inner.pos = pos.wrapping_add(1);
        let mut wakers = WakeList::new();
        loop {
            while wakers.can_push() {
                let Some(key) = inner.waiters.pop_front() else {
                    break;
                };
                if let Some(w) = inner.waiters.get_mut(key).take() {
                    wakers.push(w);
                }
            }
            if inner.waiters.is_empty() {
                break;
            }
            drop(inner);
            wakers.wake_all();
            inner = self.shared.lock();
        }
        drop(inner);
        wakers.wake_all();
        drop(old);
        Ok(rx_cnt)
    }

    /// Creates a receiver that will receive the values sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, _rx) = broadcast::channel(16);
    ///
    /// // Will not be seen
    /// tx.send(10).unwrap();
    ///
    /// let mut rx = tx.subscribe();
    ///
    /// tx.send(20).unwrap();
    ///
    /// let value = rx.recv().await.unwrap();
    /// assert_eq!(20, value);
    /// # });
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        new_receiver(&self.shared)
    }

    /// The number of values in the channel that some receiver has yet to
    /// receive.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx1) = broadcast::channel(16);
    /// let mut rx2 = tx.subscribe();
    ///
    /// tx.send(10).unwrap();
    /// tx.send(20).unwrap();
    /// tx.send(30).unwrap();
    ///
    /// assert_eq!(tx.len(), 3);
    ///
    /// rx1.recv().await.unwrap();
    ///
    /// // The len is still 3 since rx2 hasn't seen the first value yet.
    /// assert_eq!(tx.len(), 3);
    ///
    /// rx2.recv().await.unwrap();
    ///
    /// assert_eq!(tx.len(), 2);
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        let inner = self.shared.lock();
        let cap = self.shared.capacity();
        // Receivers take values in order, so the values someone still
        // needs are the last ones written: count back while `rem > 0`.
        let mut n = 0;
        while n < cap && n < inner.pos {
            let pos = inner.pos - 1 - n;
            let slot = &inner.buffer[pos as usize & self.shared.mask];
            if slot.pos != pos || slot.rem == 0 {
                break;
            }
            n += 1;
        }
        n as usize
    }

    /// Whether no value in the channel is waiting for a receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx) = broadcast::channel(16);
    /// assert!(tx.is_empty());
    /// tx.send(10).unwrap();
    /// assert!(!tx.is_empty());
    /// rx.recv().await.unwrap();
    /// assert!(tx.is_empty());
    /// # });
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// let (tx, _rx1) = broadcast::channel::<u32>(16);
    /// assert_eq!(1, tx.receiver_count());
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(2, tx.receiver_count());
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.lock().rx_cnt
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakSender`] for this channel: it does not keep the channel
    /// open (receivers see it closed once every `Sender` is gone).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// let (tx, _rx) = broadcast::channel::<u32>(4);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.lock().weak_tx_cnt += 1;
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }

    /// How many [`Sender`]s the channel has.
    pub fn strong_count(&self) -> usize {
        self.shared.lock().tx_cnt
    }

    /// How many [`WeakSender`]s the channel has.
    pub fn weak_count(&self) -> usize {
        self.shared.lock().weak_tx_cnt
    }

    /// Completes when every receiver has been dropped.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx1) = broadcast::channel::<u32>(16);
    /// let mut rx2 = tx.subscribe();
    ///
    /// let _ = tx.send(10);
    ///
    /// assert_eq!(rx1.recv().await.unwrap(), 10);
    /// drop(rx1);
    /// assert!(futures::FutureExt::now_or_never(tx.closed()).is_none());
    ///
    /// assert_eq!(rx2.recv().await.unwrap(), 10);
    /// drop(rx2);
    /// assert!(futures::FutureExt::now_or_never(tx.closed()).is_some());
    /// # });
    /// ```
    pub async fn closed(&self) {
        let shared = &*self.shared;
        charged(async move {
            loop {
                // Created before the check: the last receiver's drop
                // notifies after it has counted itself out.
                let n = shared.notify_last_rx_drop.notified();
                if shared.lock().rx_cnt == 0 {
                    return;
                }
                notified(n).await;
            }
        })
        .await
    }
}

fn new_receiver<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut inner = shared.lock();
    inner.rx_cnt = inner
        .rx_cnt
        .checked_add(1)
        .expect("too many broadcast receivers");
    let next = inner.pos;
    drop(inner);
    Receiver {
        shared: Arc::clone(shared),
        next,
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().tx_cnt += 1;
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        inner.tx_cnt -= 1;
        if inner.tx_cnt > 0 {
            return;
        }
        inner.closed = true;
        let mut wakers = Vec::new();
        while let Some(key) = inner.waiters.pop_front() {
            if let Some(w) = inner.waiters.get_mut(key).take() {
                wakers.push(w);
            }
        }
        drop(inner);
        for w in wakers {
            w.wake();
        }
    }
}

/// A sender that does not keep the channel open; [`upgrade`] it to send.
/// Created by [`Sender::downgrade`].
///
/// [`upgrade`]: WeakSender::upgrade
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if one is still alive (the channel is then open).
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut inner = self.shared.lock();
        // Once the last sender is gone the channel is closed for good:
        // a weak sender cannot reopen it.
        if inner.tx_cnt == 0 {
            return None;
        }
        inner.tx_cnt += 1;
        drop(inner);
        Some(Sender {
            shared: Arc::clone(&self.shared),
        })
    }

    /// How many [`Sender`]s the channel has.
    pub fn strong_count(&self) -> usize {
        self.shared.lock().tx_cnt
    }

    /// How many [`WeakSender`]s the channel has.
    pub fn weak_count(&self) -> usize {
        self.shared.lock().weak_tx_cnt
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().weak_tx_cnt += 1;
        WeakSender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.lock().weak_tx_cnt -= 1;
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broadcast::WeakSender")
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broadcast::Sender")
    }
}

impl<T> Receiver<T> {
    /// The number of values sent that this receiver has yet to receive.
    /// If it is more than the channel's capacity (rounded up to a power of
    /// two), the receiver has lagged: its next receive returns
    /// [`RecvError::Lagged`].
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// let (tx, rx1) = broadcast::channel(16);
    /// tx.send(10).unwrap();
    /// tx.send(20).unwrap();
    /// assert_eq!(rx1.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        let pos = self.shared.lock().pos;
        pos.wrapping_sub(self.next) as usize
    }

    /// Whether no value is waiting for this receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// let (tx, rx1) = broadcast::channel(16);
    /// assert!(rx1.is_empty());
    /// tx.send(10).unwrap();
    /// assert!(!rx1.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every sender has been dropped (values may remain to
    /// receive).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// let (tx, rx) = broadcast::channel::<()>(10);
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.lock().closed
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A new receiver of the same channel, receiving the values sent from
    /// now on (not the ones this one has yet to receive).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx) = broadcast::channel(2);
    ///
    /// tx.send(1).unwrap();
    /// let mut rx2 = rx.resubscribe();
    /// tx.send(2).unwrap();
    ///
    /// assert_eq!(rx2.recv().await.unwrap(), 2);
    /// assert_eq!(rx.recv().await.unwrap(), 1);
    /// # });
    /// ```
    pub fn resubscribe(&self) -> Self {
        new_receiver(&self.shared)
    }
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    /// use smp_rt::sync::broadcast::error::TryRecvError;
    ///
    /// let (tx, mut rx) = broadcast::channel(16);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(10).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(10));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Receiver { shared, next } = self;
        recv_locked(shared, next, &mut shared.lock())
    }

    /// Receives the next value, waiting for one if needed.
    ///
    /// Returns [`RecvError::Lagged`] if values were dropped before this
    /// receiver got them (the next call returns the oldest value left),
    /// and [`RecvError::Closed`] once every sender is gone and no value is
    /// left.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a future dropped before completing has
    /// received nothing, and the value stays for the next call.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::broadcast;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx1) = broadcast::channel(16);
    /// let mut rx2 = tx.subscribe();
    ///
    /// smp_rt::spawn(async move {
    ///     assert_eq!(rx1.recv().await.unwrap(), 10);
    ///     assert_eq!(rx1.recv().await.unwrap(), 20);
    /// });
    ///
    /// smp_rt::spawn(async move {
    ///     assert_eq!(rx2.recv().await.unwrap(), 10);
    ///     assert_eq!(rx2.recv().await.unwrap(), 20);
    /// });
    ///
    /// tx.send(10).unwrap();
    /// tx.send(20).unwrap();
    /// # });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        Recv {
            receiver: self,
            key: None,
        }
        .await
    }

    /// Receives the next value from outside an async context, blocking
    /// the thread.
    ///
    /// # Panics
    ///
    /// Panics when called from a task or from inside a runtime's
    /// `block_on`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::thread;
    /// use smp_rt::sync::broadcast;
    ///
    /// let (tx, mut rx) = broadcast::channel(16);
    /// let sync_code = thread::spawn(move || {
    ///     assert_eq!(rx.blocking_recv(), Ok(10));
    /// });
    /// let _ = tx.send(10);
    /// sync_code.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        smp_rt_executor::runtime::assert_may_block("broadcast::Receiver::blocking_recv");
        futures::executor::block_on(self.recv())
    }
}

/// Takes the next value under the lock, or says why there is none.
fn recv_locked<T: Clone>(
    shared: &Shared<T>,
    next: &mut u64,
    inner: &mut Inner<T>,
) -> Result<T, TryRecvError> {
    let cap = shared.capacity();
    let slot = &mut inner.buffer[*next as usize & shared.mask];
    if slot.pos != *next {
        if slot.pos.wrapping_add(cap) == *next {
            // The slot holds the value before ours: nothing new.
            return Err(if inner.closed {
                TryRecvError::Closed
            } else {
                TryRecvError::Empty
            });
        }
        // Overwritten: jump to the oldest value still held.
        let oldest = inner.pos.wrapping_sub(cap);
        let missed = oldest.wrapping_sub(*next);
        *next = oldest;
        return Err(TryRecvError::Lagged(missed));
    }
    // Clone before changing anything, so that a panicking clone leaves
    // the channel as it was.
    let value = if slot.rem == 1 {
        slot.val.take()
    } else {
        slot.val.clone()
    }
    .expect("a slot waiting for receivers holds its value");
    slot.rem -= 1;
    *next = next.wrapping_add(1);
    Ok(value)
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut inner = self.shared.lock();
        // Give up our share of every value not received yet; drop the
        // values nobody else needs after unlocking.
        let cap = self.shared.capacity();
        let start = self.next.max(inner.pos.saturating_sub(cap));
        let mut dropped = Vec::new();
        for pos in start..inner.pos {
            let slot = &mut inner.buffer[pos as usize & self.shared.mask];
            if slot.pos == pos {
                slot.rem -= 1;
                if slot.rem == 0
                    && let Some(v) = slot.val.take()
                {
                    dropped.push(v);
                }
            }
        }
        inner.rx_cnt -= 1;
        let last = inner.rx_cnt == 0;
        drop(inner);
        // Before the values: a destructor among them may panic (the `Vec`
        // still drops the rest, and the panic goes on to the receiver's
        // owner), and the senders in `closed()` must hear of it anyway.
        if last {
            self.shared.notify_last_rx_drop.notify_waiters();
        }
        drop(dropped);
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "broadcast::Receiver")
    }
}

/// The future of [`Receiver::recv`].
struct Recv<'a, T> {
    receiver: &'a mut Receiver<T>,
    /// Our entry in the channel's wait list, while waiting.
    key: Option<Key>,
}

impl<T: Clone> Future for Recv<'_, T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        ready!(poll_charge(cx));
        let this = &mut *self;
        let Receiver { shared, next } = &mut *this.receiver;
        let mut inner = shared.lock();
        let result = match recv_locked(shared, next, &mut inner) {
            Ok(v) => Ok(v),
            Err(TryRecvError::Closed) => Err(RecvError::Closed),
            Err(TryRecvError::Lagged(n)) => Err(RecvError::Lagged(n)),
            Err(TryRecvError::Empty) => {
                let old = match this.key {
                    Some(key) if inner.waiters.is_linked(key) => {
                        update_waker(inner.waiters.get_mut(key), cx.waker())
                    }
                    Some(key) => {
                        // Woken by a send that we did not see the value of
                        // (it raced with this poll): queue again.
                        let old = inner.waiters.remove(key);
                        this.key = Some(inner.waiters.push_back(Some(cx.waker().clone())));
                        old
                    }
                    None => {
                        this.key = Some(inner.waiters.push_back(Some(cx.waker().clone())));
                        None
                    }
                };
                drop(inner);
                drop(old);
                return Poll::Pending;
            }
        };
        if let Some(key) = this.key.take() {
            let old = inner.waiters.remove(key);
            drop(inner);
            drop(old);
        }
        Poll::Ready(result)
    }
}

impl<T> Drop for Recv<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let mut inner = self.receiver.shared.lock();
            let old = inner.waiters.remove(key);
            drop(inner);
            drop(old);
        }
    }
}

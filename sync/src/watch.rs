//! A multi-producer, multi-consumer channel that only retains the *last*
//! sent value.
//!
//! [`channel`] returns a [`Sender`] / [`Receiver`] pair. Receivers see the
//! most recent value through [`Receiver::borrow`] and wait for a new one
//! with [`Receiver::changed`]; intermediate values may be skipped. A
//! receiver [clones](Receiver::clone) cheaply, and
//! [`Sender::subscribe`] makes new ones.
//!
//! Once every [`Sender`] has been dropped, [`Receiver::changed`] returns
//! an error as soon as the receiver has seen the last value; and once
//! every receiver has been dropped, [`Sender::send`] fails and
//! [`Sender::closed`] completes.
//!
//! Every poll of [`Receiver::changed`], [`Receiver::wait_for`] and
//! [`Sender::closed`] charges one reduction to the calling task; the sends
//! (which never wait) charge one each, without yielding.
//!
//! # Examples
//!
//! ```
//! use smp_rt::sync::watch;
//!
//! # smp_rt::block_on(async {
//! let (tx, mut rx) = watch::channel("hello");
//!
//! smp_rt::spawn(async move {
//!     // Use the equivalent of a "do-while" loop so the initial value is
//!     // processed before awaiting the `changed()` future.
//!     loop {
//!         println!("{}! ", *rx.borrow_and_update());
//!         if rx.changed().await.is_err() {
//!             break;
//!         }
//!     }
//! });
//!
//! tx.send("world").unwrap();
//! # });
//! ```

use std::fmt;
use std::ops::Deref;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use crate::notify::Notify;
use crate::util::{charged, notified};

/// Error types of the [`watch`](crate::watch) channel.
pub mod error {
    use std::fmt;

    /// Error returned by [`Sender::send`](super::Sender::send) when every
    /// receiver has been dropped; it holds the value that was not sent.
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

    /// Error returned by [`Receiver::changed`](super::Receiver::changed)
    /// and related methods once every sender has been dropped.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}
}

use self::error::{RecvError, SendError};

/// The low bit of the state word: set once every sender is gone.
const CLOSED: usize = 1;
/// The version is the rest of the word: each send adds `STEP`.
const STEP: usize = 2;

struct Shared<T> {
    value: RwLock<T>,
    /// `version | CLOSED`. The version is bumped with the value's write
    /// lock held, so a reader holding the read lock sees a version that
    /// matches the value it reads. All accesses are SeqCst: they pair with
    /// the `Notify` counters, which are SeqCst too.
    state: AtomicUsize,
    ref_count_rx: AtomicUsize,
    ref_count_tx: AtomicUsize,
    /// Receivers waiting in `changed`.
    notify_rx: Notify,
    /// Senders waiting in `closed`.
    notify_tx: Notify,
}

impl<T> Shared<T> {
    fn read(&self) -> RwLockReadGuard<'_, T> {
        // A panic in `send_modify`'s closure poisons the lock; the value is
        // still a valid `T`, as tokio's is, so poisoning is ignored.
        self.value.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn version(&self) -> usize {
        self.state.load(SeqCst) & !CLOSED
    }
}

impl<T: fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(SeqCst);
        f.debug_struct("Shared")
            .field("value", &*self.read())
            .field("version", &(state & !CLOSED))
            .field("closed", &(state & CLOSED != 0))
            .field("ref_count_rx", &self.ref_count_rx.load(SeqCst))
            .finish()
    }
}

/// Sends values to the associated [`Receiver`]s. Instances are created by
/// [`channel`] or [`Sender::new`], and can be cloned.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives values from the associated [`Sender`]. Instances are created
/// by [`channel`] and [`Sender::subscribe`], and can be cloned.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The last version this receiver has seen.
    version: usize,
}

/// A reference to the value in the channel, holding its read lock.
///
/// Returned by [`Receiver::borrow`], [`Receiver::borrow_and_update`],
/// [`Sender::borrow`] and [`Receiver::wait_for`]. Holding it blocks
/// senders (on the thread level): keep it short and never across `.await`.
#[derive(Debug)]
pub struct Ref<'a, T> {
    inner: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether the value was marked as changed (not seen) by the receiver
    /// that borrowed it, at the time it was borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx) = watch::channel("hello");
    ///
    /// tx.send("goodbye").unwrap();
    /// // The sender does never consider the value as changed.
    /// assert!(!tx.borrow().has_changed());
    ///
    /// // Drop the sender immediately, just for testing purposes.
    /// drop(tx);
    ///
    /// // Even if the sender has already been dropped...
    /// assert!(rx.has_changed().is_err());
    /// // ...the modified value is still readable and detected as changed.
    /// assert_eq!(*rx.borrow(), "goodbye");
    /// assert!(rx.borrow().has_changed());
    ///
    /// // Read the changed value and mark it as seen.
    /// {
    ///     let received = rx.borrow_and_update();
    ///     assert_eq!(*received, "goodbye");
    ///     assert!(received.has_changed());
    ///     // Release the read lock when leaving this scope.
    /// }
    ///
    /// // Now the value has already been marked as seen and could
    /// // never be modified again (after the sender has been dropped).
    /// assert!(!rx.borrow().has_changed());
    /// # });
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.inner
    }
}

/// Creates a new watch channel holding `init`, returning its sender and a
/// receiver. The initial value counts as seen by that receiver.
///
/// # Examples
///
/// ```
/// use smp_rt::sync::watch;
///
/// # smp_rt::block_on(async {
/// let (tx, mut rx) = watch::channel("hello");
///
/// smp_rt::spawn(async move {
///     while rx.changed().await.is_ok() {
///         println!("received = {:?}", *rx.borrow());
///     }
/// });
///
/// tx.send("world").unwrap();
/// # });
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicUsize::new(0),
        ref_count_rx: AtomicUsize::new(1),
        ref_count_tx: AtomicUsize::new(1),
        notify_rx: Notify::new(),
        notify_tx: Notify::new(),
    });
    let rx = Receiver {
        shared: Arc::clone(&shared),
        version: 0,
    };
    (Sender { shared }, rx)
}

impl<T> Receiver<T> {
    /// Returns a reference to the most recent value, without marking it as
    /// seen.
    ///
    /// The returned [`Ref`] holds a read lock on the value: senders wait
    /// (blocking their thread) until it is dropped. Keep it short-lived.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// let (_, rx) = watch::channel("hello");
    /// assert_eq!(*rx.borrow(), "hello");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let inner = self.shared.read();
        // The version only changes under the write lock, so it matches the
        // value read.
        let has_changed = self.shared.version() != self.version;
        Ref { inner, has_changed }
    }

    /// Returns a reference to the most recent value and marks it as seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx) = watch::channel("hello");
    /// tx.send("world").unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// assert_eq!(*rx.borrow_and_update(), "world");
    /// assert!(!rx.has_changed().unwrap());
    /// # });
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let inner = self.shared.read();
        let new_version = self.shared.version();
        let has_changed = new_version != self.version;
        self.version = new_version;
        Ref { inner, has_changed }
    }

    /// Whether the channel holds a value this receiver has not seen.
    ///
    /// Returns an error if every sender has been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx) = watch::channel("hello");
    ///
    /// tx.send("goodbye").unwrap();
    ///
    /// assert!(rx.has_changed().unwrap());
    /// assert_eq!(*rx.borrow_and_update(), "goodbye");
    ///
    /// // The value has been marked as seen
    /// assert!(!rx.has_changed().unwrap());
    ///
    /// drop(tx);
    /// // The `tx` handle has been dropped
    /// assert!(rx.has_changed().is_err());
    /// # });
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load(SeqCst);
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(state & !CLOSED != self.version)
    }

    /// Marks the current value as not seen: the next
    /// [`changed`](Self::changed) completes at once.
    pub fn mark_changed(&mut self) {
        self.version = self.version.wrapping_sub(STEP);
    }

    /// Marks the current value as seen.
    pub fn mark_unchanged(&mut self) {
        self.version = self.shared.version();
    }

    /// Waits for a value this receiver has not seen, and marks it as seen.
    ///
    /// Returns at once if the current value is unseen. Returns an error
    /// once every sender has been dropped and the last value has been seen.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropping the future loses nothing.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx) = watch::channel("hello");
    ///
    /// smp_rt::spawn(async move {
    ///     tx.send("goodbye").unwrap();
    /// });
    ///
    /// assert!(rx.changed().await.is_ok());
    /// assert_eq!(*rx.borrow_and_update(), "goodbye");
    ///
    /// // The `tx` handle has been dropped
    /// assert!(rx.changed().await.is_err());
    /// # });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        charged(changed_impl(&self.shared, &mut self.version)).await
    }

    /// Waits for a value that satisfies `f`, and returns it, marked as
    /// seen.
    ///
    /// `f` is first called on the current value (seen or not), then on each
    /// new value. If every sender has been dropped, `f` still gets the last
    /// value if it was not seen; if that does not satisfy it, an error is
    /// returned.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx) = watch::channel("hello");
    ///
    /// smp_rt::spawn(async move {
    ///     smp_rt::task::yield_now().await;
    ///     tx.send("goodbye").unwrap();
    /// });
    ///
    /// assert!(rx.wait_for(|val| *val == "goodbye").await.is_ok());
    /// assert_eq!(*rx.borrow(), "goodbye");
    /// # });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        let Receiver { shared, version } = self;
        charged(async move {
            let mut closed = false;
            loop {
                {
                    let inner = shared.read();
                    let new_version = shared.version();
                    let has_changed = *version != new_version;
                    *version = new_version;
                    if (!closed || has_changed) && f(&inner) {
                        return Ok(Ref { inner, has_changed });
                    }
                }
                if closed {
                    return Err(RecvError(()));
                }
                closed = changed_impl(shared, version).await.is_err();
            }
        })
        .await
    }

    /// Whether both receivers belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// The body of `changed`, uncharged.
async fn changed_impl<T>(shared: &Shared<T>, version: &mut usize) -> Result<(), RecvError> {
    loop {
        // Created before looking at the state: a send after this point
        // completes it (`notify_waiters` counts from creation).
        let n = shared.notify_rx.notified();
        let state = shared.state.load(SeqCst);
        let new_version = state & !CLOSED;
        if new_version != *version {
            *version = new_version;
            return Ok(());
        }
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        notified(n).await;
    }
}

impl<T> Clone for Receiver<T> {
    /// A receiver that has seen what this one has seen.
    fn clone(&self) -> Self {
        self.shared.ref_count_rx.fetch_add(1, SeqCst);
        Receiver {
            shared: Arc::clone(&self.shared),
            version: self.version,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if self.shared.ref_count_rx.fetch_sub(1, SeqCst) == 1 {
            // The last receiver: wake the senders in `closed()`.
            self.shared.notify_tx.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("shared", &self.shared)
            .field("version", &self.version)
            .finish()
    }
}

impl<T> Sender<T> {
    /// Creates a sender with no receiver; make receivers with
    /// [`subscribe`](Self::subscribe).
    ///
    /// # Examples
    ///
    /// ```
    /// let sender = smp_rt::sync::watch::Sender::new(0u8);
    /// assert!(sender.send(3).is_err());
    /// let _rec = sender.subscribe();
    /// assert!(sender.send(4).is_ok());
    /// ```
    pub fn new(init: T) -> Self {
        let (tx, _) = channel(init);
        tx
    }

    /// Sends a new value to the receivers and marks it as unseen by all.
    ///
    /// Fails, handing the value back, if there is no receiver. Use
    /// [`send_replace`](Self::send_replace) to store the value anyway.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// let (tx, rx) = watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// drop(rx);
    /// assert_eq!(tx.send(3).unwrap_err().0, 3);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        smp_rt_executor::task::reduce(1);
        if self.receiver_count() == 0 {
            return Err(SendError(value));
        }
        let mut value = value;
        self.modify_uncharged(|old| {
            std::mem::swap(old, &mut value);
            true
        });
        Ok(())
    }

    /// Modifies the value in place and notifies the receivers, even if
    /// there are none.
    ///
    /// The closure runs with the write lock held: it must not borrow the
    /// channel's value itself.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// struct State {
    ///     counter: usize,
    /// }
    /// let (state_tx, state_rx) = watch::channel(State { counter: 0 });
    /// state_tx.send_modify(|state| state.counter += 1);
    /// assert_eq!(state_rx.borrow().counter, 1);
    /// ```
    pub fn send_modify<F: FnOnce(&mut T)>(&self, modify: F) {
        self.send_if_modified(|value| {
            modify(value);
            true
        });
    }

    /// Modifies the value in place and, if `modify` returns `true`, marks
    /// it as unseen and notifies the receivers. Returns what `modify`
    /// returned.
    ///
    /// If `modify` returns `false` it must not have changed the value: the
    /// receivers are not told.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, mut rx) = watch::channel(0);
    /// assert!(!tx.send_if_modified(|v| {
    ///     if *v == 1 { *v = 2; true } else { false }
    /// }));
    /// assert!(!rx.has_changed().unwrap());
    /// assert!(tx.send_if_modified(|v| { *v += 1; true }));
    /// assert!(rx.has_changed().unwrap());
    /// # });
    /// ```
    pub fn send_if_modified<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        smp_rt_executor::task::reduce(1);
        self.modify_uncharged(modify)
    }

    /// `send_if_modified` without the reduction.
    fn modify_uncharged<F: FnOnce(&mut T) -> bool>(&self, modify: F) -> bool {
        {
            let mut lock = self
                .shared
                .value
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            if !modify(&mut lock) {
                return false;
            }
            // Bumped under the write lock (see `Shared::state`).
            self.shared.state.fetch_add(STEP, SeqCst);
        }
        self.shared.notify_rx.notify_waiters();
        true
    }

    /// Stores `value` and notifies the receivers, even if there are none;
    /// returns the previous value.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// let (tx, _rx) = watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// assert_eq!(tx.send_replace(3), 2);
    /// ```
    pub fn send_replace(&self, mut value: T) -> T {
        self.send_modify(|old| std::mem::swap(old, &mut value));
        value
    }

    /// Returns a reference to the value, holding its read lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// let (tx, _) = watch::channel("hello");
    /// assert_eq!(*tx.borrow(), "hello");
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            inner: self.shared.read(),
            has_changed: false,
        }
    }

    /// Whether every receiver has been dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = smp_rt::sync::watch::channel(());
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
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
    /// use smp_rt::sync::watch;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = watch::channel("hello");
    ///
    /// smp_rt::spawn(async move {
    ///     // use `rx`
    ///     drop(rx);
    /// });
    ///
    /// // Waits for `rx` to drop
    /// tx.closed().await;
    /// println!("the `rx` handles dropped")
    /// # });
    /// ```
    pub async fn closed(&self) {
        let shared = &*self.shared;
        charged(async move {
            loop {
                // Created before the check: see `changed_impl`.
                let n = shared.notify_tx.notified();
                if shared.ref_count_rx.load(SeqCst) == 0 {
                    return;
                }
                notified(n).await;
            }
        })
        .await
    }

    /// Creates a receiver for which the current value counts as seen.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, _rx) = watch::channel(0u64);
    ///
    /// tx.send(5).unwrap();
    ///
    /// let rx = tx.subscribe();
    /// assert_eq!(5, *rx.borrow());
    ///
    /// tx.send(10).unwrap();
    /// assert_eq!(10, *rx.borrow());
    /// # });
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.ref_count_rx.fetch_add(1, SeqCst);
        Receiver {
            shared: Arc::clone(&self.shared),
            version: self.shared.version(),
        }
    }

    /// The number of receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::sync::watch;
    ///
    /// let (tx, rx1) = watch::channel("hello");
    /// assert_eq!(1, tx.receiver_count());
    /// let mut _rx2 = rx1.clone();
    /// assert_eq!(2, tx.receiver_count());
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.ref_count_rx.load(SeqCst)
    }

    /// The number of senders.
    pub fn sender_count(&self) -> usize {
        self.shared.ref_count_tx.load(SeqCst)
    }

    /// Whether both senders belong to the same channel.
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.ref_count_tx.fetch_add(1, SeqCst);
        Sender {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T: Default> Default for Sender<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.ref_count_tx.fetch_sub(1, SeqCst) == 1 {
            self.shared.state.fetch_or(CLOSED, SeqCst);
            self.shared.notify_rx.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("shared", &self.shared)
            .finish()
    }
}

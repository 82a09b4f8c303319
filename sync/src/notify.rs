//! Task notification: [`Notify`] and its [`Notified`] and
//! [`OwnedNotified`] futures.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, MutexGuard as StdMutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use crate::wait_list::{Key, WaitList, update_waker};

// The state word: the low two bits say whether tasks wait or a permit is
// stored; the rest counts calls to `notify_waiters` (wrapping).
const EMPTY: usize = 0;
const WAITING: usize = 1;
const NOTIFIED: usize = 2;
const MASK: usize = 0b11;
const CALL: usize = 1 << 2;

/// Wakes a single task or all waiting tasks, without carrying data.
///
/// [`notified`](Notify::notified) returns a future that completes when the
/// `Notify` is notified. [`notify_one`](Notify::notify_one) wakes the task
/// that has waited longest; if none is waiting it stores a single permit,
/// and the next `notified().await` completes at once by consuming it (at
/// most one permit is stored, however often `notify_one` is called).
/// [`notify_waiters`](Notify::notify_waiters) wakes every waiting task and
/// stores no permit. A [`Notified`] future counts as waiting, for
/// `notify_waiters`, from the moment it is created.
///
/// Every poll of a [`Notified`] future charges one reduction to the calling
/// task first.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use smp_rt::sync::Notify;
///
/// let notify = Arc::new(Notify::new());
/// let notify2 = Arc::clone(&notify);
/// let waiter = std::thread::spawn(move || {
///     futures::executor::block_on(notify2.notified());
/// });
/// notify.notify_one();
/// waiter.join().unwrap();
/// ```
pub struct Notify {
    state: AtomicUsize,
    waiters: std::sync::Mutex<WaitList<Node>>,
}

struct Node {
    waker: Option<Waker>,
    notified: Option<Notification>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Notification {
    /// From `notify_one`: passed on to the first waiter if not consumed.
    One,
    /// From `notify_last`: passed on to the last waiter if not consumed.
    Last,
    All,
}

impl Notify {
    /// Creates a `Notify` with no stored permit.
    pub const fn new() -> Self {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: std::sync::Mutex::new(WaitList::new()),
        }
    }

    /// Creates a `Notify` in a `const` context. Same as [`Notify::new`].
    pub const fn const_new() -> Self {
        Self::new()
    }

    /// Returns a future that completes when this `Notify` is notified.
    ///
    /// The future completes on a call to [`notify_waiters`](Self::notify_waiters)
    /// made after it was created, or on a permit from
    /// [`notify_one`](Self::notify_one) (stored earlier or given while it
    /// waits). Dropping a future that was woken by `notify_one` but not
    /// polled to completion passes the notification on.
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            waiter: self.waiter(),
        }
    }

    /// Like [`notified`](Self::notified), for a `Notify` held in an `Arc`:
    /// the future owns a clone of the `Arc` and borrows nothing, so it can
    /// be moved into a spawned task.
    ///
    /// It counts as waiting, for [`notify_waiters`](Self::notify_waiters),
    /// from the moment it is created. Dropping it gives up its place in the
    /// queue, and passes on a [`notify_one`](Self::notify_one) it was given
    /// but had not consumed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use smp_rt::sync::Notify;
    ///
    /// # smp_rt::block_on(async {
    /// let notify = Arc::new(Notify::new());
    ///
    /// let mut tasks = Vec::new();
    /// for _ in 0..10 {
    ///     let notified = notify.clone().notified_owned();
    ///     tasks.push(smp_rt::spawn(async move {
    ///         notified.await;
    ///     }));
    /// }
    ///
    /// notify.notify_waiters();
    /// for task in tasks {
    ///     task.await.unwrap();
    /// }
    /// # });
    /// ```
    pub fn notified_owned(self: Arc<Self>) -> OwnedNotified {
        OwnedNotified {
            waiter: self.waiter(),
            notify: self,
        }
    }

    /// A waiter that has not registered yet; it completes on any
    /// `notify_waiters` call made from now on.
    fn waiter(&self) -> Waiter {
        Waiter {
            state: NotifiedState::Init,
            calls: self.state.load(SeqCst) & !MASK,
        }
    }

    /// Wakes the task that has waited longest, or stores a permit for the
    /// next [`notified`](Self::notified) future if none waits.
    pub fn notify_one(&self) {
        self.notify_single(Notification::One);
    }

    /// Wakes the task that started waiting most recently, or stores a
    /// permit for the next [`notified`](Self::notified) future if none
    /// waits. The same as [`notify_one`](Self::notify_one) except for the
    /// order in which waiting tasks are picked (last in, first out).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use smp_rt::sync::Notify;
    ///
    /// let notify = Notify::new();
    /// let mut first = pin!(notify.notified());
    /// let mut second = pin!(notify.notified());
    /// assert!(!first.as_mut().enable());
    /// assert!(!second.as_mut().enable());
    /// notify.notify_last();
    /// // `second` registered last, so it is the one notified.
    /// assert!(futures::FutureExt::now_or_never(second).is_some());
    /// assert!(futures::FutureExt::now_or_never(first).is_none());
    /// ```
    pub fn notify_last(&self) {
        self.notify_single(Notification::Last);
    }

    fn notify_single(&self, kind: Notification) {
        let mut cur = self.state.load(SeqCst);
        while cur & MASK != WAITING {
            let new = (cur & !MASK) | NOTIFIED;
            match self.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let mut list = self.lock();
        let waker = self.notify_one_locked(&mut list, kind);
        drop(list);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Wakes every task currently waiting on a [`Notified`] future (and
    /// completes every `Notified` created before this call). Stores no
    /// permit.
    pub fn notify_waiters(&self) {
        let mut list = self.lock();
        let cur = self.state.load(SeqCst);
        if cur & MASK != WAITING {
            // Only the counter changes; the low bits may be moved by
            // lock-free `notify_one` or permit consumption, so add.
            self.state.fetch_add(CALL, SeqCst);
            return;
        }
        // WAITING only changes under the lock, so a plain store is exact.
        self.state.store(cur.wrapping_add(CALL) & !MASK, SeqCst);
        let mut wakers = Vec::new();
        while let Some(key) = list.pop_front() {
            let node = list.get_mut(key);
            node.notified = Some(Notification::All);
            if let Some(w) = node.waker.take() {
                wakers.push(w);
            }
        }
        drop(list);
        for w in wakers {
            w.wake();
        }
    }

    fn lock(&self) -> StdMutexGuard<'_, WaitList<Node>> {
        // The critical sections never leave the list half-updated.
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Gives one notification, with the lock held: to the first waiter if
    /// any (returning its waker, to be woken after unlocking), else as a
    /// stored permit.
    fn notify_one_locked(&self, list: &mut WaitList<Node>, kind: Notification) -> Option<Waker> {
        let mut cur = self.state.load(SeqCst);
        loop {
            if cur & MASK == WAITING {
                let key = if kind == Notification::Last {
                    list.pop_back()
                } else {
                    list.pop_front()
                };
                let key = key.expect("WAITING with an empty wait list");
                let node = list.get_mut(key);
                node.notified = Some(kind);
                let waker = node.waker.take();
                if list.is_empty() {
                    self.state.store(cur & !MASK, SeqCst);
                }
                return waker;
            }
            let new = (cur & !MASK) | NOTIFIED;
            match self.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                Ok(_) => return None,
                Err(actual) => cur = actual,
            }
        }
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state.load(SeqCst);
        f.debug_struct("Notify")
            .field("waiting", &(state & MASK == WAITING))
            .field("permit", &(state & MASK == NOTIFIED))
            .finish()
    }
}

/// Future returned by [`Notify::notified`].
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    waiter: Waiter,
}

/// Future returned by [`Notify::notified_owned`]: the same as [`Notified`],
/// holding a clone of the `Notify`'s `Arc` instead of a borrow.
#[must_use = "futures do nothing unless polled"]
pub struct OwnedNotified {
    notify: Arc<Notify>,
    waiter: Waiter,
}

/// The state of one `Notified` or `OwnedNotified` future, which differ
/// only in how they hold the `Notify`.
struct Waiter {
    state: NotifiedState,
    /// The `notify_waiters` counter when the future was created.
    calls: usize,
}

#[derive(Clone, Copy, Debug)]
enum NotifiedState {
    Init,
    Waiting(Key),
    Done,
}

impl Notified<'_> {
    /// Registers the future as waiting without polling it, so that a
    /// [`notify_one`](Notify::notify_one) made from now on can be received
    /// by it. Returns `true` if it has already been notified (then awaiting
    /// it completes at once).
    pub fn enable(mut self: Pin<&mut Self>) -> bool {
        let notify = self.notify;
        self.waiter.poll(notify, None).is_ready()
    }

    /// Polls without charging a reduction: for primitives built on
    /// `Notify` whose own futures charge once per poll.
    pub(crate) fn poll_uncharged(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.waiter.poll(self.notify, Some(cx.waker()))
    }
}

impl OwnedNotified {
    /// Registers the future as waiting without polling it, so that a
    /// [`notify_one`](Notify::notify_one) made from now on can be received
    /// by it. Returns `true` if it has already been notified (then awaiting
    /// it completes at once).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use std::sync::Arc;
    /// use smp_rt::sync::Notify;
    ///
    /// let notify = Arc::new(Notify::new());
    /// let mut notified = pin!(notify.clone().notified_owned());
    /// assert!(!notified.as_mut().enable());
    /// notify.notify_one();
    /// assert!(notified.as_mut().enable());
    /// ```
    pub fn enable(mut self: Pin<&mut Self>) -> bool {
        let this = &mut *self;
        this.waiter.poll(&this.notify, None).is_ready()
    }
}

impl Waiter {
    /// Checks for a notification, registering in the wait list (with
    /// `waker`, if given) on the first call that finds none.
    fn poll(&mut self, notify: &Notify, waker: Option<&Waker>) -> Poll<()> {
        match self.state {
            NotifiedState::Done => Poll::Ready(()),
            NotifiedState::Init => {
                // Lock-free attempt: a `notify_waiters` since creation, or a
                // stored permit to consume.
                let mut cur = notify.state.load(SeqCst);
                loop {
                    if cur & !MASK != self.calls {
                        self.state = NotifiedState::Done;
                        return Poll::Ready(());
                    }
                    if cur & MASK != NOTIFIED {
                        break;
                    }
                    match notify
                        .state
                        .compare_exchange(cur, cur & !MASK, SeqCst, SeqCst)
                    {
                        Ok(_) => {
                            self.state = NotifiedState::Done;
                            return Poll::Ready(());
                        }
                        Err(actual) => cur = actual,
                    }
                }
                let mut list = notify.lock();
                let mut cur = notify.state.load(SeqCst);
                loop {
                    if cur & !MASK != self.calls {
                        self.state = NotifiedState::Done;
                        return Poll::Ready(());
                    }
                    let new = match cur & MASK {
                        NOTIFIED => cur & !MASK,
                        EMPTY => cur | WAITING,
                        _ => break,
                    };
                    match notify.state.compare_exchange(cur, new, SeqCst, SeqCst) {
                        Ok(_) if cur & MASK == NOTIFIED => {
                            self.state = NotifiedState::Done;
                            return Poll::Ready(());
                        }
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
                let key = list.push_back(Node {
                    waker: waker.cloned(),
                    notified: None,
                });
                self.state = NotifiedState::Waiting(key);
                Poll::Pending
            }
            NotifiedState::Waiting(key) => {
                let mut list = notify.lock();
                if list.get(key).notified.is_some() {
                    let node = list.remove(key);
                    drop(list);
                    drop(node);
                    self.state = NotifiedState::Done;
                    return Poll::Ready(());
                }
                let old = match waker {
                    Some(w) => update_waker(&mut list.get_mut(key).waker, w),
                    None => None,
                };
                drop(list);
                drop(old);
                Poll::Pending
            }
        }
    }

    /// Leaves the wait list, if registered; a `notify_one` (`notify_last`)
    /// given to this waiter and not consumed goes to the first (last)
    /// remaining waiter, or becomes the stored permit.
    fn release(&mut self, notify: &Notify) {
        let NotifiedState::Waiting(key) = self.state else {
            return;
        };
        self.state = NotifiedState::Done;
        let mut list = notify.lock();
        let node = list.remove(key);
        let cur = notify.state.load(SeqCst);
        if list.is_empty() && cur & MASK == WAITING {
            notify.state.store(cur & !MASK, SeqCst);
        }
        let forwarded = match node.notified {
            Some(kind @ (Notification::One | Notification::Last)) => {
                notify.notify_one_locked(&mut list, kind)
            }
            _ => None,
        };
        drop(list);
        drop(node);
        if let Some(w) = forwarded {
            w.wake();
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        let notify = self.notify;
        self.waiter.poll(notify, Some(cx.waker()))
    }
}

impl Future for OwnedNotified {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        std::task::ready!(smp_rt_executor::task::poll_charge(cx));
        let this = &mut *self;
        this.waiter.poll(&this.notify, Some(cx.waker()))
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        self.waiter.release(self.notify);
    }
}

impl Drop for OwnedNotified {
    fn drop(&mut self) {
        self.waiter.release(&self.notify);
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("state", &self.waiter.state)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for OwnedNotified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedNotified")
            .field("state", &self.waiter.state)
            .finish_non_exhaustive()
    }
}

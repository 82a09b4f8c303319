//! The receiving end of a process: [`Mailbox`].
//!
//! Messages wait in a lock-free queue shared with the senders. The mailbox
//! also keeps, privately, the messages a [selective
//! receive](Mailbox::recv_match) passed over (the *save queue*, BEAM's
//! term): every receive looks there first, so they come back in their
//! original order. Each message is numbered in arrival order as it leaves
//! the shared queue; trapped exit signals carry the number of messages that
//! had arrived before them, which is how
//! [`recv_signal`](Mailbox::recv_signal) puts messages and exits back in
//! one order. [`peek`](Mailbox::peek) and
//! [`peek_match`](Mailbox::peek_match) move the messages they look at into
//! the save queue too, so looking changes no order. A predicate (of
//! `recv_match`, `recv_match_timeout` or `peek_match`) only ever sees a
//! message already in the save queue, so one that panics loses none.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use smp_rt_executor::task::poll_charge;

use crate::exit::Exit;
use crate::pid::Pid;
use crate::state::Inner;

/// What [`Mailbox::recv_signal`] returns: a message, or the exit signal of
/// a linked process (only for a process that [traps exits](super::trap_exit)).
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, Signal};
///
/// # smp_rt::block_on(async {
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// let pid = process::spawn(move |mut mbox: process::Mailbox<&str>| async move {
///     let mut seen = Vec::new();
///     for _ in 0..2 {
///         match mbox.recv_signal().await {
///             Signal::Message(m) => seen.push(m.to_string()),
///             Signal::Exit(exit) => seen.push(exit.reason.to_string()),
///         }
///     }
///     tx.send(seen).unwrap();
/// });
/// pid.send("a").unwrap();
/// pid.send("b").unwrap();
/// assert_eq!(rx.await.unwrap(), ["a", "b"]);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal<M> {
    /// A message sent with [`Pid::send`].
    Message(M),
    /// A linked process ended.
    Exit(Exit),
}

/// The mailbox of a process: where its messages arrive.
///
/// Each process gets its mailbox as the argument of the closure it is
/// spawned with. Every receive charges one reduction (and a selective
/// receive one more per message it passes over), so a process draining a
/// long queue is preempted like any other task.
///
/// Besides receiving, a process can look at its messages without taking
/// them ([`peek`](Mailbox::peek), [`peek_match`](Mailbox::peek_match)) and
/// drop them all ([`flush`](Mailbox::flush)). A mailbox is unbounded unless
/// the process was spawned with a
/// [capacity](super::Builder::mailbox_capacity).
///
/// # Examples
///
/// ```
/// use smp_rt::process;
/// use std::time::Duration;
///
/// # smp_rt::block_on(async {
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// let pid = process::spawn(move |mut mbox: process::Mailbox<u32>| async move {
///     // Selective receive: take the first even number; 1 stays queued.
///     let even = mbox.recv_match(|m| m % 2 == 0).await;
///     let first = mbox.recv().await;
///     let none = mbox.recv_timeout(Duration::from_millis(1)).await;
///     tx.send((even, first, none)).unwrap();
/// });
/// pid.send(1).unwrap();
/// pid.send(2).unwrap();
/// assert_eq!(rx.await.unwrap(), (2, 1, None));
/// # });
/// ```
pub struct Mailbox<M> {
    inner: Arc<Inner<M>>,
    /// Messages passed over by selective receives, with their arrival
    /// numbers, oldest first.
    saved: VecDeque<(u64, M)>,
    /// Messages taken out of the shared queue (the next one's number).
    taken: u64,
    /// Messages that left the mailbox, received or flushed (published to
    /// `Core::delivered`).
    delivered: u64,
}

impl<M: Send + 'static> Mailbox<M> {
    pub(crate) fn new(inner: Arc<Inner<M>>) -> Mailbox<M> {
        Mailbox {
            inner,
            saved: VecDeque::new(),
            taken: 0,
            delivered: 0,
        }
    }

    /// The [`Pid`] of this mailbox's process (BEAM's `self()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let pid = process::spawn(move |mbox: process::Mailbox<()>| async move {
    ///     tx.send(mbox.pid().id()).unwrap();
    /// });
    /// assert_eq!(rx.await.unwrap(), pid.id());
    /// # });
    /// ```
    pub fn pid(&self) -> Pid<M> {
        Pid {
            inner: self.inner.clone(),
        }
    }

    /// Waits for the next message and returns it.
    ///
    /// Messages passed over by [`recv_match`](Mailbox::recv_match) come
    /// first, in their order; then the others in arrival order. Trapped
    /// exit signals are not returned here (see
    /// [`recv_signal`](Mailbox::recv_signal)). Cancel-safe: if the future
    /// is dropped before it completes, no message is lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let pid = process::spawn(move |mut mbox: process::Mailbox<String>| async move {
    ///     tx.send(mbox.recv().await).unwrap();
    /// });
    /// pid.send("hello".to_string()).unwrap();
    /// assert_eq!(rx.await.unwrap(), "hello");
    /// # });
    /// ```
    pub fn recv(&mut self) -> Recv<'_, M> {
        Recv { mailbox: self }
    }

    /// Waits at most `duration` for the next message (see
    /// [`recv`](Mailbox::recv)); `None` if none came in time.
    ///
    /// # Panics
    ///
    /// When awaited outside a runtime (the timer needs one).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    /// use std::time::Duration;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// process::spawn(move |mut mbox: process::Mailbox<u32>| async move {
    ///     tx.send(mbox.recv_timeout(Duration::from_millis(5)).await).unwrap();
    /// });
    /// assert_eq!(rx.await.unwrap(), None);
    /// # });
    /// ```
    pub async fn recv_timeout(&mut self, duration: Duration) -> Option<M> {
        smp_rt_timers::timeout(duration, self.recv()).await.ok()
    }

    /// Selective receive: waits for the first message for which `predicate`
    /// is `true` and returns it.
    ///
    /// Messages it passes over stay in the mailbox in their original order:
    /// a later receive returns them first. Each message it looks at charges
    /// a reduction, so scanning a long queue is preempted like any work; a
    /// message is looked at once per `recv_match` call (and again by later
    /// calls). Cancel-safe.
    ///
    /// # Panics
    ///
    /// A panic in `predicate` propagates to the caller. The message it was
    /// looking at stays queued in its place, as do all the others: no
    /// message is lost or reordered, and a bounded mailbox keeps its room.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let pid = process::spawn(move |mut mbox: process::Mailbox<(&str, u32)>| async move {
    ///     let urgent = mbox.recv_match(|(kind, _)| *kind == "urgent").await;
    ///     let next = mbox.recv().await;
    ///     tx.send((urgent, next)).unwrap();
    /// });
    /// pid.send(("normal", 1)).unwrap();
    /// pid.send(("urgent", 2)).unwrap();
    /// assert_eq!(rx.await.unwrap(), (("urgent", 2), ("normal", 1)));
    /// # });
    /// ```
    pub fn recv_match<P>(&mut self, predicate: P) -> RecvMatch<'_, M, P>
    where
        P: FnMut(&M) -> bool,
    {
        RecvMatch {
            mailbox: self,
            predicate,
            scanned: 0,
        }
    }

    /// Selective receive with a timeout: waits at most `duration` for the
    /// first message for which `predicate` is `true` (see
    /// [`recv_match`](Mailbox::recv_match)); `None` if none came in time.
    ///
    /// BEAM's `receive Pattern -> ... after Timeout -> ... end`. The
    /// messages it passed over stay queued in their original order,
    /// whether it returns a message or times out.
    ///
    /// # Panics
    ///
    /// When awaited outside a runtime (the timer needs one). A panic in
    /// `predicate` propagates and loses no message, as in
    /// [`recv_match`](Mailbox::recv_match).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    /// use std::time::Duration;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let (ready_tx, ready_rx) = smp_rt::sync::oneshot::channel::<()>();
    /// let pid = process::spawn(move |mut mbox: process::Mailbox<u32>| async move {
    ///     ready_rx.await.unwrap();
    ///     let big = mbox.recv_match_timeout(Duration::from_millis(5), |m| *m > 100).await;
    ///     let first = mbox.recv().await;
    ///     tx.send((big, first)).unwrap();
    /// });
    /// pid.send(1).unwrap();
    /// ready_tx.send(()).unwrap();
    /// assert_eq!(rx.await.unwrap(), (None, 1));
    /// # });
    /// ```
    pub async fn recv_match_timeout<P>(&mut self, duration: Duration, predicate: P) -> Option<M>
    where
        P: FnMut(&M) -> bool,
    {
        smp_rt_timers::timeout(duration, self.recv_match(predicate))
            .await
            .ok()
    }

    /// The next message [`recv`](Mailbox::recv) would return, left in the
    /// mailbox; `None` if there is none now. Never waits. Charges one
    /// reduction (without yielding).
    ///
    /// The message is lent, not copied: the borrow holds the mailbox, so
    /// no receive can take the message while it is looked at, and no
    /// `Clone` bound is needed (`.cloned()` gives a copy). A `peek`
    /// changes no order: later receives return the same messages in the
    /// same order as without it.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let (ready_tx, ready_rx) = smp_rt::sync::oneshot::channel::<()>();
    /// let pid = process::spawn(move |mut mbox: process::Mailbox<String>| async move {
    ///     ready_rx.await.unwrap();
    ///     let peeked = mbox.peek().cloned();
    ///     let received = mbox.recv().await;
    ///     tx.send((peeked, received)).unwrap();
    /// });
    /// pid.send("hello".to_string()).unwrap();
    /// ready_tx.send(()).unwrap();
    /// let (peeked, received) = rx.await.unwrap();
    /// assert_eq!(peeked.as_deref(), Some("hello"));
    /// assert_eq!(received, "hello");
    /// # });
    /// ```
    pub fn peek(&mut self) -> Option<&M> {
        smp_rt_executor::task::reduce(1);
        if self.saved.is_empty() {
            let entry = self.pop_shared()?;
            self.saved.push_back(entry);
        }
        self.saved.front().map(|(_, msg)| msg)
    }

    /// The first message for which `predicate` is `true`, left in the
    /// mailbox: the one [`recv_match`](Mailbox::recv_match) with the same
    /// predicate would return now. `None` if no queued message matches.
    /// Never waits.
    ///
    /// Looks at the queued messages in order and charges one reduction
    /// for each (without yielding). Like [`peek`](Mailbox::peek) it lends
    /// the message and changes no order.
    ///
    /// # Panics
    ///
    /// A panic in `predicate` propagates and loses no message, as in
    /// [`recv_match`](Mailbox::recv_match).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let (ready_tx, ready_rx) = smp_rt::sync::oneshot::channel::<()>();
    /// let pid = process::spawn(move |mut mbox: process::Mailbox<u32>| async move {
    ///     ready_rx.await.unwrap();
    ///     let even = mbox.peek_match(|m| m % 2 == 0).copied();
    ///     let odd = mbox.peek_match(|m| m % 2 == 1).copied();
    ///     let none = mbox.peek_match(|m| *m > 10).copied();
    ///     tx.send((even, odd, none, mbox.len())).unwrap();
    /// });
    /// pid.send(1).unwrap();
    /// pid.send(2).unwrap();
    /// ready_tx.send(()).unwrap();
    /// assert_eq!(rx.await.unwrap(), (Some(2), Some(1), None, 2));
    /// # });
    /// ```
    pub fn peek_match<P>(&mut self, mut predicate: P) -> Option<&M>
    where
        P: FnMut(&M) -> bool,
    {
        let (found, looked) = match self.scan(0, &mut predicate, || ControlFlow::Continue(())) {
            Scan::Found(index) => (Some(index), index + 1),
            Scan::NotFound => (None, self.saved.len()),
            Scan::Paused(_) => unreachable!("a scan whose step always continues never pauses"),
        };
        smp_rt_executor::task::reduce(u32::try_from(looked.max(1)).unwrap_or(u32::MAX));
        found.map(|index| &self.saved[index].1)
    }

    /// Drops every message queued now and returns how many there were
    /// (the shell's `flush()` on BEAM). Never waits; charges one reduction
    /// per message (without yielding). Trapped exit signals stay queued.
    ///
    /// Senders waiting for room in a [bounded
    /// mailbox](super::Builder::mailbox_capacity) are all woken. Messages
    /// sent during the flush may be dropped by it or stay queued.
    ///
    /// # Panics
    ///
    /// If a message's destructor panics, the flush still takes and drops
    /// every other message, so the mailbox is empty, its counts correct and
    /// it stays usable; then the first such panic is resumed, as dropping
    /// a `Vec` does (later ones are discarded). Unless it is caught, the
    /// process then ends with [`ExitReason::Panic`](super::ExitReason::Panic).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let (ready_tx, ready_rx) = smp_rt::sync::oneshot::channel::<()>();
    /// let pid = process::spawn(move |mut mbox: process::Mailbox<u32>| async move {
    ///     ready_rx.await.unwrap();
    ///     let flushed = mbox.flush();
    ///     tx.send((flushed, mbox.len())).unwrap();
    /// });
    /// for n in 0..3 {
    ///     pid.send(n).unwrap();
    /// }
    /// ready_tx.send(()).unwrap();
    /// assert_eq!(rx.await.unwrap(), (3, 0));
    /// # });
    /// ```
    pub fn flush(&mut self) -> usize {
        let mut count: usize = 0;
        let mut first_panic = None;
        let mut drop_one = |msg: M| {
            count += 1;
            if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(msg))) {
                first_panic.get_or_insert(payload);
            }
        };
        // The save queue is emptied one message at a time, so that a
        // destructor that panics leaves nothing half-removed.
        while let Some((_, msg)) = self.saved.pop_front() {
            drop_one(msg);
        }
        while let Some((_, msg)) = self.pop_shared() {
            drop_one(msg);
        }
        let removed = u64::try_from(count).unwrap_or(u64::MAX);
        let core = &self.inner.core;
        core.flushed.fetch_add(removed, Relaxed);
        self.delivered += removed;
        // Relaxed: see `count_delivered`.
        core.delivered.store(self.delivered, Relaxed);
        if let Some(bounded) = core.bounded.as_deref() {
            bounded.room.notify_waiters();
        }
        smp_rt_executor::task::reduce(u32::try_from(count).unwrap_or(u32::MAX));
        if let Some(payload) = first_panic {
            resume_unwind(payload);
        }
        count
    }

    /// Takes the next message if there is one, without waiting. Charges one
    /// reduction (without yielding).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let pid = process::spawn(move |mut mbox: process::Mailbox<u32>| async move {
    ///     let first = mbox.try_recv();
    ///     tx.send(first).unwrap();
    /// });
    /// assert_eq!(rx.await.unwrap(), None);
    /// # drop(pid);
    /// # });
    /// ```
    pub fn try_recv(&mut self) -> Option<M> {
        smp_rt_executor::task::reduce(1);
        self.next_message()
    }

    /// Number of messages waiting: those passed over by selective receives
    /// plus those sent and not received yet.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let (ready_tx, ready_rx) = smp_rt::sync::oneshot::channel::<()>();
    /// let pid = process::spawn(move |mbox: process::Mailbox<u32>| async move {
    ///     ready_rx.await.unwrap();
    ///     tx.send(mbox.len()).unwrap();
    /// });
    /// pid.send(1).unwrap();
    /// pid.send(2).unwrap();
    /// ready_tx.send(()).unwrap();
    /// assert_eq!(rx.await.unwrap(), 2);
    /// # });
    /// ```
    pub fn len(&self) -> usize {
        let shared = self.inner.core.pushed_count().saturating_sub(self.taken);
        self.saved.len() + usize::try_from(shared).unwrap_or(usize::MAX)
    }

    /// `true` when [`len`](Mailbox::len) is 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the next message or trapped exit signal, whichever came
    /// first.
    ///
    /// A process that [traps exits](super::trap_exit) receives the exit
    /// signals of its linked processes here, as [`Signal::Exit`], in order
    /// with its messages: every message a process sent before it ended
    /// comes before its exit signal. Messages passed over by
    /// [`recv_match`](Mailbox::recv_match) keep their place in that order.
    /// Cancel-safe.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process::{self, ExitReason, Signal};
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// process::spawn(move |mut mbox: process::Mailbox<&str>| async move {
    ///     process::trap_exit(true);
    ///     let me = mbox.pid();
    ///     process::spawn_link(move |_: process::Mailbox<()>| async move {
    ///         me.send("last words").unwrap();
    ///         panic!("boom");
    ///     });
    ///     let first = mbox.recv_signal().await;
    ///     let second = mbox.recv_signal().await;
    ///     tx.send((first, second)).unwrap();
    /// });
    /// let (first, second) = rx.await.unwrap();
    /// assert_eq!(first, Signal::Message("last words"));
    /// assert!(matches!(second, Signal::Exit(e) if e.reason == ExitReason::Panic("boom".into())));
    /// # });
    /// ```
    pub fn recv_signal(&mut self) -> RecvSignal<'_, M> {
        RecvSignal { mailbox: self }
    }

    /// Waits for the next trapped exit signal, leaving messages queued.
    ///
    /// Exit signals come out in the order they arrived, regardless of the
    /// messages around them.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process::{self, ExitReason};
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// process::spawn(move |mut mbox: process::Mailbox<()>| async move {
    ///     process::trap_exit(true);
    ///     let child = process::spawn_link(|mut m: process::Mailbox<()>| async move { m.recv().await });
    ///     child.kill();
    ///     tx.send(mbox.recv_exit().await).unwrap();
    /// });
    /// assert_eq!(rx.await.unwrap().reason, ExitReason::Killed);
    /// # });
    /// ```
    pub fn recv_exit(&mut self) -> RecvExit<'_, M> {
        RecvExit { mailbox: self }
    }

    /// Takes the next trapped exit signal if there is one.
    pub fn try_recv_exit(&mut self) -> Option<Exit> {
        smp_rt_executor::task::reduce(1);
        self.pop_exit()
    }

    /// The oldest message: one passed over before, or the next one in the
    /// shared queue.
    #[inline]
    fn next_message(&mut self) -> Option<M> {
        let msg = match self.saved.pop_front() {
            Some((_, msg)) => msg,
            None => self.pop_shared()?.1,
        };
        self.count_delivered();
        Some(msg)
    }

    #[inline]
    fn pop_shared(&mut self) -> Option<(u64, M)> {
        let msg = self.inner.queue.pop()?;
        let seq = self.taken;
        self.taken += 1;
        Some((seq, msg))
    }

    /// Looks for the first queued message, from index `from` of the save
    /// queue on, for which `predicate` is `true`; the scan of
    /// [`recv_match`](Mailbox::recv_match) and
    /// [`peek_match`](Mailbox::peek_match).
    ///
    /// Messages still in the shared queue are moved to the end of the save
    /// queue *before* the predicate looks at them, so every message the
    /// predicate sees sits in the save queue in arrival order: a predicate
    /// that panics loses no message and moves none (a lost message would
    /// also hold its room in a bounded mailbox forever). After each message
    /// that does not match, `step` may pause the scan.
    fn scan<P>(
        &mut self,
        from: usize,
        predicate: &mut P,
        mut step: impl FnMut() -> ControlFlow<()>,
    ) -> Scan
    where
        P: FnMut(&M) -> bool,
    {
        debug_assert!(from <= self.saved.len(), "scan starts past the save queue");
        let mut index = from;
        loop {
            if index == self.saved.len() {
                match self.pop_shared() {
                    Some(entry) => self.saved.push_back(entry),
                    None => return Scan::NotFound,
                }
            }
            if predicate(&self.saved[index].1) {
                return Scan::Found(index);
            }
            index += 1;
            if step().is_break() {
                return Scan::Paused(index);
            }
        }
    }

    /// Counts a message handed to the process and, in a bounded mailbox,
    /// gives its room to one waiting sender.
    #[inline]
    fn count_delivered(&mut self) {
        self.delivered += 1;
        // Relaxed: readers use it as a count (an old value only makes a
        // bounded mailbox look fuller); a sender waiting for room is
        // ordered after this store by `room`'s SeqCst state.
        self.inner.core.delivered.store(self.delivered, Relaxed);
        if let Some(bounded) = self.inner.core.bounded.as_deref() {
            bounded.room.notify_one();
        }
    }

    /// The arrival bound of the oldest trapped exit signal, if any.
    fn peek_exit(&self) -> Option<u64> {
        let core = &self.inner.core;
        if core.exits_len.load(Acquire) == 0 {
            return None;
        }
        core.lock().exits.front().map(|e| e.after)
    }

    fn pop_exit(&self) -> Option<Exit> {
        let core = &self.inner.core;
        if core.exits_len.load(Acquire) == 0 {
            return None;
        }
        let mut st = core.lock();
        let signal = st.exits.pop_front()?;
        core.exits_len.fetch_sub(1, Relaxed);
        Some(signal.exit)
    }

    fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<M> {
        ready!(poll_charge(cx));
        if let Some(msg) = self.next_message() {
            return Poll::Ready(msg);
        }
        self.inner.core.waker.register(cx.waker());
        // A message pushed before the registration did not see our waker.
        match self.next_message() {
            Some(msg) => Poll::Ready(msg),
            None => Poll::Pending,
        }
    }

    fn poll_signal(&mut self, cx: &mut Context<'_>) -> Poll<Signal<M>> {
        ready!(poll_charge(cx));
        let mut registered = false;
        loop {
            if self.saved.is_empty() {
                if let Some(entry) = self.pop_shared() {
                    self.saved.push_back(entry);
                }
            }
            let msg_seq = self.saved.front().map(|(seq, _)| *seq);
            let ready_exit = match (msg_seq, self.peek_exit()) {
                // The exit signal was sent before this message arrived.
                (Some(seq), Some(after)) => after <= seq,
                (Some(_), None) => false,
                // Every message counted before the signal has arrived (the
                // others are mid-push and will wake us).
                (None, Some(after)) => self.taken >= after,
                (None, None) => false,
            };
            if ready_exit {
                if let Some(exit) = self.pop_exit() {
                    return Poll::Ready(Signal::Exit(exit));
                }
            }
            if msg_seq.is_some() {
                let msg = self.next_message().expect("a message is waiting");
                return Poll::Ready(Signal::Message(msg));
            }
            if registered {
                return Poll::Pending;
            }
            self.inner.core.waker.register(cx.waker());
            registered = true;
        }
    }

    fn poll_exit(&mut self, cx: &mut Context<'_>) -> Poll<Exit> {
        ready!(poll_charge(cx));
        if let Some(exit) = self.pop_exit() {
            return Poll::Ready(exit);
        }
        self.inner.core.waker.register(cx.waker());
        match self.pop_exit() {
            Some(exit) => Poll::Ready(exit),
            None => Poll::Pending,
        }
    }
}

impl<M> fmt::Debug for Mailbox<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailbox")
            .field("pid_id", &self.inner.core.id)
            .field("saved", &self.saved.len())
            .finish_non_exhaustive()
    }
}

/// Where [`Mailbox::scan`] stopped.
enum Scan {
    /// The message at this index of the save queue matches.
    Found(usize),
    /// No queued message matches; all of them are in the save queue now.
    NotFound,
    /// `step` paused the scan; it resumes at this index of the save queue.
    Paused(usize),
}

/// Future of [`Mailbox::recv`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Recv<'a, M> {
    mailbox: &'a mut Mailbox<M>,
}

impl<M: Send + 'static> Future for Recv<'_, M> {
    type Output = M;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<M> {
        self.mailbox.poll_recv(cx)
    }
}

/// Future of [`Mailbox::recv_match`].
#[must_use = "futures do nothing unless awaited"]
pub struct RecvMatch<'a, M, P> {
    mailbox: &'a mut Mailbox<M>,
    predicate: P,
    /// Entries of the save queue already looked at by this receive.
    scanned: usize,
}

impl<M, P> Unpin for RecvMatch<'_, M, P> {}

impl<M: Send + 'static, P: FnMut(&M) -> bool> Future for RecvMatch<'_, M, P> {
    type Output = M;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<M> {
        let this = self.get_mut();
        ready!(poll_charge(cx));
        let mut registered = false;
        loop {
            // Each message passed over charges a reduction; a spent slice
            // pauses the scan, which the next poll resumes where it stopped.
            let charge = || match poll_charge(cx) {
                Poll::Ready(()) => ControlFlow::Continue(()),
                Poll::Pending => ControlFlow::Break(()),
            };
            match this.mailbox.scan(this.scanned, &mut this.predicate, charge) {
                Scan::Found(index) => {
                    let (_, msg) = this.mailbox.saved.remove(index).expect("index in bounds");
                    this.mailbox.count_delivered();
                    return Poll::Ready(msg);
                }
                Scan::Paused(next) => {
                    this.scanned = next;
                    return Poll::Pending;
                }
                Scan::NotFound => {
                    this.scanned = this.mailbox.saved.len();
                    if registered {
                        return Poll::Pending;
                    }
                    // A message pushed before the registration did not see
                    // our waker: scan once more after registering.
                    this.mailbox.inner.core.waker.register(cx.waker());
                    registered = true;
                }
            }
        }
    }
}

impl<M, P> fmt::Debug for RecvMatch<'_, M, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecvMatch")
            .field("scanned", &self.scanned)
            .finish_non_exhaustive()
    }
}

/// Future of [`Mailbox::recv_signal`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct RecvSignal<'a, M> {
    mailbox: &'a mut Mailbox<M>,
}

impl<M: Send + 'static> Future for RecvSignal<'_, M> {
    type Output = Signal<M>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Signal<M>> {
        self.mailbox.poll_signal(cx)
    }
}

/// Future of [`Mailbox::recv_exit`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct RecvExit<'a, M> {
    mailbox: &'a mut Mailbox<M>,
}

impl<M: Send + 'static> Future for RecvExit<'_, M> {
    type Output = Exit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Exit> {
        self.mailbox.poll_exit(cx)
    }
}

//! Process identifiers: [`Pid`] (typed, can send), [`AnyPid`] (any message
//! type), [`ProcessId`], and [`ProcessInfo`].

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::num::NonZeroU64;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll, ready};

use smp_rt_executor::task::{Id, Priority, poll_charge, unconstrained};
use smp_rt_sync::Notified;

use crate::exit::ExitReason;
use crate::state::{AnyProcess, Inner, kill};

/// A number that identifies a process, unique within the OS process.
///
/// # Examples
///
/// ```
/// use smp_rt::process;
///
/// # smp_rt::block_on(async {
/// let a = process::spawn(|_: process::Mailbox<()>| async {});
/// let b = process::spawn(|_: process::Mailbox<()>| async {});
/// assert_ne!(a.id(), b.id());
/// println!("spawned {} and {}", a.id(), b.id());
/// # });
/// ```
#[derive(Clone, Copy, Debug, Hash, Eq, PartialEq, Ord, PartialOrd)]
pub struct ProcessId(pub(crate) NonZeroU64);

impl ProcessId {
    /// The id as a number, for logs and metrics.
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for ProcessId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<{}>", self.0)
    }
}

/// The error of [`Pid::send`] and [`Pid::send_async`]: the message was not
/// accepted. Holds the message.
///
/// For [`Pid::send_async`], and for `Pid::send` to a process with the
/// default, unbounded mailbox, this means the process is gone. `Pid::send`
/// to a [bounded mailbox](super::Builder::mailbox_capacity) also fails
/// this way when the mailbox is full; [`Pid::try_send`] tells the two
/// apart.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, SendError};
///
/// # smp_rt::block_on(async {
/// let pid = process::spawn(|_: process::Mailbox<&str>| async {});
/// process::monitor(&pid).await;
/// assert_eq!(pid.send("late"), Err(SendError("late")));
/// # });
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct SendError<M>(pub M);

impl<M> SendError<M> {
    /// The message that could not be sent.
    pub fn into_inner(self) -> M {
        self.0
    }
}

impl<M> fmt::Debug for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendError").finish_non_exhaustive()
    }
}

impl<M> fmt::Display for SendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the message was not accepted: the process is not alive, or its bounded mailbox is full")
    }
}

impl<M> std::error::Error for SendError<M> {}

/// The error of [`Pid::try_send`], shaped like tokio's
/// `mpsc::error::TrySendError`: why the message was not accepted, with the
/// message.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, TrySendError};
///
/// # smp_rt::block_on(async {
/// let (go_tx, go_rx) = smp_rt::sync::oneshot::channel::<()>();
/// let pid = process::Builder::new()
///     .mailbox_capacity(1)
///     .spawn(|_: process::Mailbox<&str>| async move {
///         go_rx.await.unwrap();
///     });
/// pid.try_send("first").unwrap();
/// assert_eq!(pid.try_send("second"), Err(TrySendError::Full("second")));
/// go_tx.send(()).unwrap();
/// process::monitor(&pid).await;
/// assert_eq!(pid.try_send("late"), Err(TrySendError::Closed("late")));
/// # });
/// ```
#[derive(PartialEq, Eq, Clone, Copy)]
pub enum TrySendError<M> {
    /// The process's [bounded mailbox](super::Builder::mailbox_capacity)
    /// holds as many messages as it may.
    Full(M),
    /// The process has ended or been killed.
    Closed(M),
}

impl<M> TrySendError<M> {
    /// The message that could not be sent.
    pub fn into_inner(self) -> M {
        match self {
            TrySendError::Full(msg) | TrySendError::Closed(msg) => msg,
        }
    }

    /// `true` for [`TrySendError::Full`].
    pub fn is_full(&self) -> bool {
        matches!(self, TrySendError::Full(_))
    }

    /// `true` for [`TrySendError::Closed`].
    pub fn is_closed(&self) -> bool {
        matches!(self, TrySendError::Closed(_))
    }
}

impl<M> From<SendError<M>> for TrySendError<M> {
    fn from(err: SendError<M>) -> TrySendError<M> {
        TrySendError::Closed(err.0)
    }
}

impl<M> fmt::Debug for TrySendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("Full(..)"),
            TrySendError::Closed(_) => f.write_str("Closed(..)"),
        }
    }
}

impl<M> fmt::Display for TrySendError<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrySendError::Full(_) => f.write_str("the process's mailbox is full"),
            TrySendError::Closed(_) => f.write_str("the process is not alive"),
        }
    }
}

impl<M> std::error::Error for TrySendError<M> {}

/// What [`Pid::info`] reports about a live process, like BEAM's
/// `process_info`.
///
/// `messages_queued`, `links`, `monitors` and `trap_exit` are read live.
/// `reductions`, `polls`, `preemptions` and `priority` are the task's own
/// counters, copied by the process at the start of each of its polls: they
/// lag by at most one poll (the poll running now, and the reductions it has
/// charged so far, are not counted yet), and a process waiting for a
/// message reports the counters as of its last poll.
///
/// # Examples
///
/// ```
/// use smp_rt::process;
/// use smp_rt::task::Priority;
///
/// # smp_rt::block_on(async {
/// let pid = process::Builder::new()
///     .name("worker")
///     .priority(Priority::High)
///     .spawn(|mut mbox: process::Mailbox<u32>| async move {
///         loop {
///             mbox.recv().await;
///         }
///     });
/// pid.send(1).unwrap();
/// let info = pid.info().unwrap();
/// assert_eq!(info.name.as_deref(), Some("worker"));
/// assert_eq!(info.priority, Priority::High);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcessInfo {
    /// The process's id.
    pub id: ProcessId,
    /// The id of the task running the process (`None` until it is spawned).
    pub task_id: Option<Id>,
    /// The name given with [`Builder::name`](super::Builder::name).
    pub name: Option<String>,
    /// The name the process is [registered](super::register) under.
    pub registered_name: Option<String>,
    /// The task's priority as of its last poll.
    pub priority: Priority,
    /// Reductions charged over the process's life, as of its last poll.
    pub reductions: u64,
    /// Times the process's task was polled, as of its last poll.
    pub polls: u64,
    /// Slices ended because the reduction budget ran out, as of its last poll.
    pub preemptions: u64,
    /// Messages sent to the process and not received yet (including those
    /// set aside by a selective receive).
    pub messages_queued: u64,
    /// Messages the process has received (not counting those it
    /// [flushed](super::Mailbox::flush)).
    pub messages_received: u64,
    /// The capacity of its [bounded
    /// mailbox](super::Builder::mailbox_capacity); `None` when unbounded.
    pub mailbox_capacity: Option<u64>,
    /// Trapped exit signals waiting to be received.
    pub exits_queued: usize,
    /// Number of processes linked to it.
    pub links: usize,
    /// Number of monitors watching it.
    pub monitors: usize,
    /// Whether it traps exits.
    pub trap_exit: bool,
}

pub(crate) fn info(process: &dyn AnyProcess) -> Option<ProcessInfo> {
    let core = process.core();
    let st = core.lock();
    if st.exit.is_some() || st.pending.is_some() {
        return None;
    }
    Some(ProcessInfo {
        id: core.id,
        task_id: st.task_id,
        name: core.name.as_deref().map(String::from),
        registered_name: st.registered.as_deref().map(String::from),
        priority: core.stats.priority(),
        reductions: core.stats.reductions.load(Relaxed),
        polls: core.stats.polls.load(Relaxed),
        preemptions: core.stats.preemptions.load(Relaxed),
        messages_queued: core.queued(),
        messages_received: core.received(),
        mailbox_capacity: core.bounded.as_deref().map(|b| b.capacity),
        exits_queued: st.exits.len(),
        links: st.links.len(),
        monitors: st.monitors.len(),
        trap_exit: st.trap_exit,
    })
}

/// The address of a process whose messages are `M`: sends to it, kills it,
/// links and monitors it.
///
/// A `Pid` is cheap to clone (an `Arc`) and may be shared between threads.
/// It keeps a small record of the process after it has ended (its exit
/// reason), so that monitoring a dead process answers at once.
///
/// # Examples
///
/// ```
/// use smp_rt::process;
/// use smp_rt::sync::oneshot;
///
/// # smp_rt::block_on(async {
/// let adder = process::spawn(|mut mbox: process::Mailbox<(u32, u32, oneshot::Sender<u32>)>| async move {
///     loop {
///         let (a, b, reply) = mbox.recv().await;
///         let _ = reply.send(a + b);
///     }
/// });
/// let (tx, rx) = oneshot::channel();
/// adder.send((2, 3, tx)).unwrap();
/// assert_eq!(rx.await.unwrap(), 5);
/// adder.kill();
/// # });
/// ```
pub struct Pid<M> {
    pub(crate) inner: Arc<Inner<M>>,
}

impl<M: Send + 'static> Pid<M> {
    /// Sends `msg` to the process. Never waits: the message is queued in
    /// the process's mailbox (an O(1) lock-free push) and the process is
    /// woken.
    ///
    /// Messages from one sender arrive in the order they were sent.
    ///
    /// A [bounded mailbox](super::Builder::mailbox_capacity) that is full
    /// refuses the message: `send` hands it back rather than exceed the
    /// capacity (so the capacity is a real bound on the memory a mailbox
    /// holds) or wait (it is not `async`). Use [`try_send`](Pid::try_send)
    /// to tell a full mailbox from a dead process, or
    /// [`send_async`](Pid::send_async) to wait for room.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding the message once the process has ended or
    /// been killed, or while its bounded mailbox is full.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let pid = process::spawn(|mut mbox: process::Mailbox<u32>| async move {
    ///     assert_eq!(mbox.recv().await, 1);
    ///     assert_eq!(mbox.recv().await, 2);
    /// });
    /// pid.send(1).unwrap();
    /// pid.send(2).unwrap();
    /// # });
    /// ```
    #[inline]
    pub fn send(&self, msg: M) -> Result<(), SendError<M>> {
        self.inner
            .try_send(msg)
            .map_err(|err| SendError(err.into_inner()))
    }

    /// Sends `msg` if the mailbox takes it now, like [`send`](Pid::send),
    /// and says why not otherwise: [`TrySendError::Full`] when the
    /// process's [bounded mailbox](super::Builder::mailbox_capacity) is
    /// full, [`TrySendError::Closed`] when the process is gone. Both hand
    /// the message back. An unbounded mailbox is never full.
    ///
    /// # Errors
    ///
    /// See above.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process::{self, TrySendError};
    ///
    /// # smp_rt::block_on(async {
    /// let pid = process::Builder::new()
    ///     .mailbox_capacity(2)
    ///     .spawn(|mbox: process::Mailbox<u32>| async move {
    ///         let _mbox = mbox; // never receives
    ///         std::future::pending::<()>().await
    ///     });
    /// pid.try_send(1).unwrap();
    /// pid.try_send(2).unwrap();
    /// match pid.try_send(3) {
    ///     Err(TrySendError::Full(msg)) => assert_eq!(msg, 3), // shed it, or retry later
    ///     other => panic!("expected Full, got {other:?}"),
    /// }
    /// # pid.kill();
    /// # });
    /// ```
    #[inline]
    pub fn try_send(&self, msg: M) -> Result<(), TrySendError<M>> {
        self.inner.try_send(msg)
    }

    /// Sends `msg`, waiting for room while the process's [bounded
    /// mailbox](super::Builder::mailbox_capacity) is full: backpressure for
    /// a producer faster than the process. For an unbounded mailbox it is
    /// [`send`](Pid::send) and completes at once.
    ///
    /// A waiting send wakes when room appears: a receive (one waiting
    /// sender per message received), a [`flush`](super::Mailbox::flush)
    /// (all of them), or the process's end (all of them, failing). Waiting
    /// senders are served roughly in the order they started to wait; a
    /// [`try_send`](Pid::try_send) or `send` made while they wait can take
    /// the room first. Each poll charges one reduction, like every smp_rt
    /// await.
    ///
    /// A process awaiting room in its own full mailbox waits until a
    /// receive of its own makes room, which only a receive running
    /// concurrently in the same future (a `join!`) can do; use
    /// [`try_send`](Pid::try_send) for messages to oneself.
    ///
    /// Cancel-safe: dropping the future before it completes drops the
    /// message it holds (it was not sent) and leaves the wait list; a
    /// wakeup it was given and did not use passes to the next waiting
    /// sender.
    ///
    /// # Errors
    ///
    /// [`SendError`] holding the message once the process has ended or
    /// been killed, including while the send waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let (tx, rx) = smp_rt::sync::oneshot::channel();
    /// let consumer = process::Builder::new()
    ///     .mailbox_capacity(4)
    ///     .spawn(move |mut mbox: process::Mailbox<u32>| async move {
    ///         let mut sum = 0;
    ///         for _ in 0..100 {
    ///             sum += mbox.recv().await;
    ///         }
    ///         tx.send(sum).unwrap();
    ///     });
    /// for n in 0..100 {
    ///     consumer.send_async(n).await.unwrap(); // waits while 4 are queued
    /// }
    /// assert_eq!(rx.await.unwrap(), 4950);
    /// # });
    /// ```
    pub fn send_async(&self, msg: M) -> SendAsync<'_, M> {
        SendAsync {
            pid: self,
            msg: Some(msg),
            room: None,
        }
    }

    /// The process as an [`AnyPid`], which forgets the message type.
    pub fn to_any(&self) -> AnyPid {
        AnyPid::from_arc(self.inner.clone())
    }
}

impl<M> Pid<M> {
    /// The process's id.
    pub fn id(&self) -> ProcessId {
        self.inner.core.id
    }

    /// `true` until the process ends or is killed.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process;
    ///
    /// # smp_rt::block_on(async {
    /// let pid = process::spawn(|mut mbox: process::Mailbox<()>| async move { mbox.recv().await });
    /// assert!(pid.is_alive());
    /// pid.kill();
    /// assert!(!pid.is_alive());
    /// # });
    /// ```
    pub fn is_alive(&self) -> bool {
        !self.inner.core.is_closed()
    }

    /// The name given with [`Builder::name`](super::Builder::name).
    pub fn name(&self) -> Option<&str> {
        self.inner.core.name.as_deref()
    }
}

impl<M: Send + 'static> Pid<M> {
    /// Kills the process: it ends with [`ExitReason::Killed`], even if it
    /// traps exits.
    ///
    /// From this call on, the process accepts no messages and
    /// [`is_alive`](Pid::is_alive) is `false`. Its task is aborted: its
    /// future is dropped the next time a worker picks it up (at once if it
    /// waits), and then its links and monitors are signalled. A process
    /// that never reaches an await point cannot be killed, as a task cannot
    /// be aborted. No effect on a process that has already ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process::{self, ExitReason};
    ///
    /// # smp_rt::block_on(async {
    /// let (pid, monitor) = process::spawn_monitor(|mut mbox: process::Mailbox<()>| async move {
    ///     mbox.recv().await;
    /// });
    /// pid.kill();
    /// assert_eq!(monitor.await.reason, ExitReason::Killed);
    /// # });
    /// ```
    pub fn kill(&self) {
        kill(&*self.inner, ExitReason::Killed);
    }

    /// A snapshot of the process's counters and state, or `None` once it
    /// has ended or been killed. See [`ProcessInfo`] for how fresh each
    /// field is.
    pub fn info(&self) -> Option<ProcessInfo> {
        info(&*self.inner)
    }

    /// How the process ended, or `None` while it runs (and while a killed
    /// process is still being dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process::{self, ExitReason};
    ///
    /// # smp_rt::block_on(async {
    /// let pid = process::spawn(|_: process::Mailbox<()>| async {});
    /// process::monitor(&pid).await;
    /// assert_eq!(pid.exit_reason(), Some(ExitReason::Normal));
    /// # });
    /// ```
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.inner.core.lock().exit.clone()
    }
}

/// Future of [`Pid::send_async`].
#[must_use = "futures do nothing unless awaited; dropping this drops the message"]
pub struct SendAsync<'a, M> {
    pid: &'a Pid<M>,
    /// `None` once the future has completed.
    msg: Option<M>,
    /// Where this send waits for room, once it has found the mailbox full.
    room: Option<Notified<'a>>,
}

// `msg` is never pinned (it is moved out to be sent) and `Notified` is
// `Unpin`.
impl<M> Unpin for SendAsync<'_, M> {}

impl<M: Send + 'static> Future for SendAsync<'_, M> {
    type Output = Result<(), SendError<M>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready!(poll_charge(cx));
        loop {
            let msg = this
                .msg
                .take()
                .expect("`SendAsync` polled after it completed");
            match this.pid.inner.try_send(msg) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TrySendError::Closed(msg)) => return Poll::Ready(Err(SendError(msg))),
                Err(TrySendError::Full(msg)) => this.msg = Some(msg),
            }
            match this.room.as_mut() {
                None => {
                    let bounded = this.pid.inner.core.bounded.as_deref();
                    let bounded = bounded.expect("only a bounded mailbox is full");
                    // Counted from here on by `notify_waiters` (a flush, the
                    // exit path); the try that follows sees room made
                    // before.
                    this.room = Some(bounded.room.notified());
                }
                Some(room) => {
                    // This future charged its reduction above; the wait
                    // itself charges nothing more.
                    let mut wait = unconstrained(Pin::new(room));
                    match Pin::new(&mut wait).poll(cx) {
                        // Room appeared (or the process ended): try again,
                        // with a fresh registration if it is taken first.
                        Poll::Ready(()) => this.room = None,
                        Poll::Pending => return Poll::Pending,
                    }
                }
            }
        }
    }
}

impl<M> fmt::Debug for SendAsync<'_, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendAsync")
            .field("pid", self.pid)
            .field("waiting", &self.room.is_some())
            .finish_non_exhaustive()
    }
}

impl<M> Clone for Pid<M> {
    fn clone(&self) -> Self {
        Pid {
            inner: self.inner.clone(),
        }
    }
}

impl<M> PartialEq for Pid<M> {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl<M> Eq for Pid<M> {}

impl<M> Hash for Pid<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl<M> fmt::Debug for Pid<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pid{}", self.id())
    }
}

/// A process of any message type: what links, monitors, supervisors and
/// the registry work with. It cannot send; [`downcast`](AnyPid::downcast)
/// it to a [`Pid`] for that.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, AnyPid};
///
/// # smp_rt::block_on(async {
/// let pid = process::spawn(|mut mbox: process::Mailbox<u32>| async move { mbox.recv().await; });
/// let any: AnyPid = pid.to_any();
/// assert_eq!(any.id(), pid.id());
/// assert!(any.clone().downcast::<String>().is_err());
/// any.downcast::<u32>().unwrap().send(7).unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct AnyPid {
    pub(crate) process: Arc<dyn AnyProcess>,
}

impl AnyPid {
    pub(crate) fn from_arc(process: Arc<dyn AnyProcess>) -> AnyPid {
        AnyPid { process }
    }

    /// The process's id.
    pub fn id(&self) -> ProcessId {
        self.process.core().id
    }

    /// `true` until the process ends or is killed.
    pub fn is_alive(&self) -> bool {
        !self.process.core().is_closed()
    }

    /// The name given with [`Builder::name`](super::Builder::name).
    pub fn name(&self) -> Option<&str> {
        self.process.core().name.as_deref()
    }

    /// Kills the process; see [`Pid::kill`].
    pub fn kill(&self) {
        kill(&*self.process, ExitReason::Killed);
    }

    /// See [`Pid::info`].
    pub fn info(&self) -> Option<ProcessInfo> {
        info(&*self.process)
    }

    /// See [`Pid::exit_reason`].
    pub fn exit_reason(&self) -> Option<ExitReason> {
        self.process.core().lock().exit.clone()
    }

    /// The typed [`Pid`], if the process's messages are `M`; otherwise
    /// `self` back.
    pub fn downcast<M: Send + 'static>(self) -> Result<Pid<M>, AnyPid> {
        match self.process.clone().into_any().downcast::<Inner<M>>() {
            Ok(inner) => Ok(Pid { inner }),
            Err(_) => Err(self),
        }
    }
}

impl<M: Send + 'static> From<Pid<M>> for AnyPid {
    fn from(pid: Pid<M>) -> AnyPid {
        AnyPid::from_arc(pid.inner)
    }
}

impl<M: Send + 'static> From<&Pid<M>> for AnyPid {
    fn from(pid: &Pid<M>) -> AnyPid {
        pid.to_any()
    }
}

impl From<&AnyPid> for AnyPid {
    fn from(pid: &AnyPid) -> AnyPid {
        pid.clone()
    }
}

impl PartialEq for AnyPid {
    fn eq(&self, other: &Self) -> bool {
        self.id() == other.id()
    }
}

impl Eq for AnyPid {}

impl Hash for AnyPid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.id().hash(state);
    }
}

impl fmt::Debug for AnyPid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AnyPid{}", self.id())
    }
}

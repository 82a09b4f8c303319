//! Processes: BEAM-style actors on top of tasks.
//!
//! A *process* is an ordinary smp_rt task (scheduled by priority, in
//! slices of reductions, stolen by idle workers) that owns a [`Mailbox`]
//! and is known to the world by a [`Pid`]:
//!
//! * [`spawn`] runs a closure that gets the mailbox and returns the
//!   process's future; the [`Pid`] it returns sends messages
//!   ([`Pid::send`] never waits) and [kills](Pid::kill) the process.
//! * The mailbox receives in order ([`Mailbox::recv`]), with a timeout
//!   ([`Mailbox::recv_timeout`]), or selectively ([`Mailbox::recv_match`],
//!   [`Mailbox::recv_match_timeout`]: the messages it passes over stay
//!   queued in order). It lets a process look without taking
//!   ([`Mailbox::peek`], [`Mailbox::peek_match`]) and drop everything
//!   queued ([`Mailbox::flush`]).
//! * A mailbox is unbounded by default. Spawned with
//!   [`Builder::mailbox_capacity`], it holds at most that many messages:
//!   [`Pid::try_send`] then fails with [`TrySendError::Full`] (the message
//!   handed back), [`Pid::send`] fails rather than exceed the bound, and
//!   [`Pid::send_async`] waits for room. That is backpressure: a producer
//!   faster than the process is held to its pace, and the memory the
//!   mailbox holds stays bounded (see [Bounded mailboxes](#bounded-mailboxes)).
//! * **Links** ([`link`], [`spawn_link`]) tie the fates of two processes:
//!   when one ends abnormally (it panicked, was killed, or
//!   [exited](exit) with an error), the other is killed with the same
//!   reason, and so on along chains of links. A process that
//!   [traps exits](trap_exit) is not killed; it receives the
//!   [`Exit`] instead, through [`Mailbox::recv_signal`].
//! * **Monitors** ([`monitor`], [`spawn_monitor`]) are one-way: a
//!   [`Monitor`] is a future that resolves to a [`Down`] when the process
//!   ends, for whatever reason. The `Down` is sent after the process's
//!   links were signalled: by then every linked process has dropped its
//!   link, and has been marked for killing if the exit was abnormal.
//! * The **registry** ([`register`], [`whereis`]) names processes.
//! * [`Pid::info`] reports a process's counters, like `process_info`.
//! * [`supervisor`] restarts processes that fail.
//!
//! This crate is smp_rt's `process` module: `smp_rt::process` re-exports
//! it whole. It is built on the executor's tasks (`smp_rt_executor`), the
//! oneshot channels of `smp_rt_sync` (monitors, supervisors' replies) and
//! the timers of `smp_rt_timers` ([`Mailbox::recv_timeout`], which needs a
//! runtime with timers, such as `smp_rt`'s).
//!
//! # Exit signals in a typed mailbox
//!
//! On BEAM a trapped exit is just another message, `{'EXIT', Pid, Reason}`.
//! Here a mailbox is typed by its messages, and an exit is not one of them,
//! so trapped exits wait in a separate queue of the same mailbox:
//! [`Mailbox::recv`] and [`Mailbox::recv_match`] see only messages (a
//! process that does not trap exits pays nothing for exits), while
//! [`Mailbox::recv_signal`] returns a [`Signal`], a message or an exit,
//! whichever came first, and [`Mailbox::recv_exit`] returns only exits.
//! `recv_signal` keeps BEAM's ordering: everything a process sent before it
//! ended is received before its exit signal. This keeps `Msg` the user's
//! own type (no wrapper enum on every receive of every process) and still
//! lets a supervisor-like process handle both in one loop.
//!
//! # Bounded mailboxes
//!
//! BEAM's mailboxes are unbounded: a process that receives slower than it
//! is sent to grows its queue until memory runs out. A bounded mailbox
//! turns that into backpressure. The count is of messages sent and not
//! yet received or flushed (those a selective receive passed over
//! included), and the bound is exact: admission is a compare-and-swap on
//! the sent counter that checks it against the received one, so no number
//! of concurrent senders can push it past the capacity.
//!
//! A sender that cannot wait ([`Pid::send`], [`Pid::try_send`]) gets its
//! message back when the mailbox is full; `send` fails instead of
//! exceeding the bound, because a bound that some sends ignore bounds no
//! memory. [`Pid::send_async`] waits: each message received wakes one
//! waiting sender, a [flush](Mailbox::flush) wakes them all, and the
//! process's end wakes them all with [`SendError`]. Dropping a waiting
//! send loses no wakeup (one given to it passes to the next sender). The
//! unbounded default costs nothing for this: its send is one atomic add, a
//! push and a wakeup, as before.
//!
//! # Examples
//!
//! ```
//! use smp_rt::process::{self, ExitReason, Mailbox};
//! use smp_rt::sync::oneshot;
//!
//! enum Msg {
//!     Add(u64),
//!     Get(oneshot::Sender<u64>),
//! }
//!
//! # smp_rt::block_on(async {
//! let counter = process::spawn(|mut mbox: Mailbox<Msg>| async move {
//!     let mut total = 0;
//!     loop {
//!         match mbox.recv().await {
//!             Msg::Add(n) => total += n,
//!             Msg::Get(reply) => {
//!                 let _ = reply.send(total);
//!             }
//!         }
//!     }
//! });
//! for n in 1..=10 {
//!     counter.send(Msg::Add(n)).unwrap();
//! }
//! let (tx, rx) = oneshot::channel();
//! counter.send(Msg::Get(tx)).unwrap();
//! assert_eq!(rx.await.unwrap(), 55);
//!
//! let down = process::monitor(&counter);
//! counter.kill();
//! assert_eq!(down.await.reason, ExitReason::Killed);
//! assert!(counter.send(Msg::Add(1)).is_err());
//! # });
//! ```

#![warn(missing_docs, rust_2018_idioms)]

mod exit;
mod mailbox;
mod pid;
mod registry;
mod state;
pub mod supervisor;
mod task;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub use exit::{Down, Exit, ExitReason, Monitor};
pub use mailbox::{Mailbox, Recv, RecvExit, RecvMatch, RecvSignal, Signal};
pub use pid::{AnyPid, Pid, ProcessId, ProcessInfo, SendAsync, SendError, TrySendError};
pub use registry::{RegisterError, register, registered, unregister, whereis, whereis_any};

use smp_rt_executor::task::Priority;
use state::{AnyProcess, Inner};
use task::ProcessTask;

/// Spawns a process at `Normal` priority.
///
/// `f` is called at once with the new process's [`Mailbox`] and returns the
/// process's future, which runs as a task. The process ends when the future
/// completes ([`ExitReason::Normal`]), panics ([`ExitReason::Panic`]), or is
/// killed.
///
/// `f` itself runs in the caller, before the process exists: calls such as
/// [`trap_exit`] or [`link`] belong in the returned `async` block, which is
/// the process.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, Mailbox};
///
/// # smp_rt::block_on(async {
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// let echo = process::spawn(move |mut mbox: Mailbox<String>| async move {
///     let msg = mbox.recv().await;
///     tx.send(msg).unwrap();
/// });
/// echo.send("hi".into()).unwrap();
/// assert_eq!(rx.await.unwrap(), "hi");
/// # });
/// ```
#[track_caller]
pub fn spawn<M, F, Fut>(f: F) -> Pid<M>
where
    M: Send + 'static,
    F: FnOnce(Mailbox<M>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    Builder::new().spawn(f)
}

/// Spawns a process linked to the calling process (BEAM's `spawn_link`):
/// the link exists before the new process runs, so no exit can be missed.
///
/// # Panics
///
/// Outside a process, or outside a runtime.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Mailbox};
///
/// # smp_rt::block_on(async {
/// // A parent that does not trap exits dies with its linked child.
/// let (parent, down) = process::spawn_monitor(|mut mbox: Mailbox<()>| async move {
///     process::spawn_link(|_: Mailbox<()>| async { panic!("child failed") });
///     mbox.recv().await;
/// });
/// assert_eq!(down.await.reason, ExitReason::Panic("child failed".into()));
/// assert!(!parent.is_alive());
/// # });
/// ```
#[track_caller]
pub fn spawn_link<M, F, Fut>(f: F) -> Pid<M>
where
    M: Send + 'static,
    F: FnOnce(Mailbox<M>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    Builder::new().spawn_link(f)
}

/// Spawns a process and monitors it, before it runs.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Mailbox};
///
/// # smp_rt::block_on(async {
/// let (_pid, down) = process::spawn_monitor(|_: Mailbox<()>| async { panic!("oops") });
/// assert_eq!(down.await.reason, ExitReason::Panic("oops".into()));
/// # });
/// ```
#[track_caller]
pub fn spawn_monitor<M, F, Fut>(f: F) -> (Pid<M>, Monitor)
where
    M: Send + 'static,
    F: FnOnce(Mailbox<M>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    Builder::new().spawn_monitor(f)
}

/// Configures a process before spawning it: its task's name and priority.
///
/// The name shows in the task's tracing span and in [`ProcessInfo`]; it is
/// not a registered name (see [`register`]).
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, Mailbox};
/// use smp_rt::task::{self, Priority};
///
/// # smp_rt::block_on(async {
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// process::Builder::new()
///     .name("urgent")
///     .priority(Priority::High)
///     .spawn(move |_: Mailbox<()>| async move {
///         tx.send(task::current_priority()).unwrap();
///     });
/// assert_eq!(rx.await.unwrap(), Priority::High);
/// # });
/// ```
#[derive(Debug, Default, Clone)]
pub struct Builder<'a> {
    name: Option<&'a str>,
    priority: Priority,
    deadline: Option<std::time::Instant>,
    mailbox_capacity: Option<usize>,
}

impl<'a> Builder<'a> {
    /// A builder for an unnamed `Normal` process.
    pub fn new() -> Builder<'a> {
        Builder::default()
    }

    /// Names the process (and its task).
    pub fn name(mut self, name: &'a str) -> Builder<'a> {
        self.name = Some(name);
        self
    }

    /// Sets the process's priority (default `Normal`).
    pub fn priority(mut self, priority: Priority) -> Builder<'a> {
        self.priority = priority;
        self
    }

    /// Gives the process's task a deadline: among the ready tasks of its
    /// priority, the earliest deadline runs first (see
    /// [`task::Builder::deadline`](smp_rt_executor::task::Builder::deadline)).
    /// The process keeps it for every later wake until it sets another
    /// with [`task::set_deadline`](smp_rt_executor::task::set_deadline).
    pub fn deadline(mut self, deadline: std::time::Instant) -> Builder<'a> {
        self.deadline = Some(deadline);
        self
    }

    /// Gives the process's task a deadline `timeout` from now; see
    /// [`deadline`](Builder::deadline).
    ///
    /// # Panics
    ///
    /// Panics if the deadline does not fit an `Instant`.
    #[track_caller]
    pub fn deadline_in(self, timeout: std::time::Duration) -> Builder<'a> {
        let deadline = std::time::Instant::now()
            .checked_add(timeout)
            .unwrap_or_else(|| {
                panic!(
                    "process::Builder::deadline_in({timeout:?}): the deadline does not fit an \
                     Instant; give a shorter timeout"
                )
            });
        self.deadline(deadline)
    }

    /// Bounds the process's mailbox to `capacity` messages (by default it
    /// is unbounded).
    ///
    /// The count includes every message sent and not yet received or
    /// [flushed](Mailbox::flush), those a selective receive passed over
    /// too. While it is full, [`Pid::try_send`] fails with
    /// [`TrySendError::Full`], [`Pid::send`] fails with the message (it
    /// neither waits nor exceeds the bound), and [`Pid::send_async`] waits
    /// for room. This is backpressure: a producer faster than the process
    /// is slowed to its pace, and the mailbox's memory stays bounded.
    ///
    /// A process whose mailbox is full of messages that no selective
    /// receive of it takes holds its waiting senders until it receives
    /// or flushes them.
    ///
    /// # Panics
    ///
    /// If `capacity` is 0: a mailbox must hold at least one message (leave
    /// the capacity unset for an unbounded mailbox).
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt::process::{self, Mailbox, TrySendError};
    ///
    /// # smp_rt::block_on(async {
    /// let (go_tx, go_rx) = smp_rt::sync::oneshot::channel::<()>();
    /// let pid = process::Builder::new()
    ///     .mailbox_capacity(1)
    ///     .spawn(|mut mbox: Mailbox<u32>| async move {
    ///         go_rx.await.unwrap();
    ///         loop {
    ///             mbox.recv().await;
    ///         }
    ///     });
    /// pid.send(1).unwrap();
    /// assert!(matches!(pid.try_send(2), Err(TrySendError::Full(2))));
    /// go_tx.send(()).unwrap();
    /// pid.send_async(2).await.unwrap(); // sent once 1 is received
    /// # });
    /// ```
    #[track_caller]
    pub fn mailbox_capacity(mut self, capacity: usize) -> Builder<'a> {
        assert!(
            capacity > 0,
            "process::Builder::mailbox_capacity(0): a mailbox must hold at least one message; \
             leave the capacity unset for an unbounded mailbox"
        );
        self.mailbox_capacity = Some(capacity);
        self
    }

    /// Spawns the process; see [`spawn`].
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn<M, F, Fut>(self, f: F) -> Pid<M>
    where
        M: Send + 'static,
        F: FnOnce(Mailbox<M>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.spawn_inner(f, |_| {})
    }

    /// Spawns the process linked to the calling process; see
    /// [`spawn_link`].
    ///
    /// # Panics
    ///
    /// Outside a process, or outside a runtime.
    #[track_caller]
    pub fn spawn_link<M, F, Fut>(self, f: F) -> Pid<M>
    where
        M: Send + 'static,
        F: FnOnce(Mailbox<M>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let me = current_or_panic("spawn_link");
        self.spawn_inner(f, |child| state::link(&me, child))
    }

    /// Spawns the process and monitors it; see [`spawn_monitor`].
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn_monitor<M, F, Fut>(self, f: F) -> (Pid<M>, Monitor)
    where
        M: Send + 'static,
        F: FnOnce(Mailbox<M>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut monitor = None;
        let pid = self.spawn_inner(f, |child| monitor = Some(Monitor::new(child.clone())));
        (pid, monitor.expect("the monitor is made before the spawn"))
    }

    #[track_caller]
    fn spawn_inner<M, F, Fut>(self, f: F, before: impl FnOnce(&Arc<dyn AnyProcess>)) -> Pid<M>
    where
        M: Send + 'static,
        F: FnOnce(Mailbox<M>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let handle = match smp_rt_executor::runtime::Handle::try_current() {
            Ok(handle) => handle,
            Err(err) => panic!("process::spawn: {err}"),
        };
        let inner = Arc::new(Inner::<M>::new(
            self.name.map(Box::from),
            self.priority,
            self.mailbox_capacity,
        ));
        let process: Arc<dyn AnyProcess> = inner.clone();
        let future = f(Mailbox::new(inner.clone()));
        before(&process);
        let mut builder = smp_rt_executor::task::Builder::new().priority(self.priority);
        if let Some(name) = self.name {
            builder = builder.name(name);
        }
        if let Some(deadline) = self.deadline {
            builder = builder.deadline(deadline);
        }
        let join = builder.spawn_on(ProcessTask::new(process, future), &handle);
        let abort = join.abort_handle();
        let abort = {
            let mut st = inner.core.lock();
            st.task_id = Some(join.id());
            if st.exit.is_some() {
                // It already ended.
                Some(abort)
            } else if st.pending.is_some() {
                // Killed before its task existed: abort it now.
                drop(st);
                abort.abort();
                None
            } else {
                st.abort = Some(abort);
                None
            }
        };
        drop(abort);
        Pid { inner }
    }
}

#[track_caller]
fn current_or_panic(what: &str) -> Arc<dyn AnyProcess> {
    match task::current() {
        Some(process) => process,
        None => panic!(
            "process::{what}() was called outside a process: only a process can link or trap exits"
        ),
    }
}

/// The calling process, or `None` outside a process (BEAM's `self()`,
/// untyped; [`Mailbox::pid`] gives the typed [`Pid`]).
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, Mailbox};
///
/// # smp_rt::block_on(async {
/// assert!(process::current().is_none());
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// let pid = process::spawn(move |_: Mailbox<()>| async move {
///     tx.send(process::current().unwrap().id()).unwrap();
/// });
/// assert_eq!(rx.await.unwrap(), pid.id());
/// # });
/// ```
pub fn current() -> Option<AnyPid> {
    task::current().map(AnyPid::from_arc)
}

/// Links the calling process and `pid` both ways (BEAM's `link/1`).
///
/// When either ends abnormally, the other is killed with the same reason,
/// unless it [traps exits](trap_exit), in which case it receives an
/// [`Exit`] (it receives normal exits too). A normal exit does not kill a
/// linked process. Linking twice is the same as linking once. Linking to a
/// process that has already ended acts as if the link had existed when it
/// ended: its exit signal is delivered at once.
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Mailbox};
///
/// # smp_rt::block_on(async {
/// let a = process::spawn(|mut mbox: Mailbox<()>| async move { mbox.recv().await });
/// let a2 = a.clone();
/// let (b, b_down) = process::spawn_monitor(move |mut mbox: Mailbox<()>| async move {
///     process::link(&a2);
///     mbox.recv().await
/// });
/// # while b.info().map_or(true, |i| i.links == 0) { smp_rt::task::yield_now().await; }
/// a.kill();
/// assert_eq!(b_down.await.reason, ExitReason::Killed);
/// # });
/// ```
#[track_caller]
pub fn link<P: Into<AnyPid>>(pid: P) {
    let me = current_or_panic("link");
    let other = pid.into().process;
    state::link(&me, &other);
}

/// Removes the link between the calling process and `pid`, if any (BEAM's
/// `unlink/1`). No exit signal from `pid` reaches the caller afterwards
/// (one already queued for a trapping process stays queued).
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Mailbox};
///
/// # smp_rt::block_on(async {
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// process::spawn(move |mut mbox: Mailbox<()>| async move {
///     let child = process::spawn_link(|mut m: Mailbox<()>| async move { m.recv().await });
///     process::unlink(&child);
///     let down = process::monitor(&child);
///     child.kill();
///     down.await;
///     tx.send("still alive").unwrap();
/// });
/// assert_eq!(rx.await.unwrap(), "still alive");
/// # });
/// ```
#[track_caller]
pub fn unlink<P: Into<AnyPid>>(pid: P) {
    let me = current_or_panic("unlink");
    let other = pid.into().process;
    state::unlink(&*me, &*other);
}

/// Monitors `pid`: the returned [`Monitor`] resolves to a [`Down`] when
/// the process ends (at once, with its exit reason, if it has already
/// ended). Works from anywhere, not only from a process.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Mailbox};
///
/// # smp_rt::block_on(async {
/// let pid = process::spawn(|mut mbox: Mailbox<u32>| async move {
///     if mbox.recv().await == 0 {
///         panic!("zero");
///     }
/// });
/// let down = process::monitor(&pid);
/// pid.send(0).unwrap();
/// assert_eq!(down.await.reason, ExitReason::Panic("zero".into()));
/// // Monitoring it again answers at once.
/// assert_eq!(process::monitor(&pid).await.reason, ExitReason::Panic("zero".into()));
/// # });
/// ```
pub fn monitor<P: Into<AnyPid>>(pid: P) -> Monitor {
    Monitor::new(pid.into().process)
}

/// Sets whether the calling process traps exits (BEAM's
/// `process_flag(trap_exit, Flag)`) and returns the previous setting.
///
/// A process that traps exits is not killed when a linked process ends
/// abnormally: it receives an [`Exit`] through
/// [`Mailbox::recv_signal`] or [`Mailbox::recv_exit`], for normal exits too.
/// [`Pid::kill`] still kills it.
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Mailbox};
///
/// # smp_rt::block_on(async {
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// process::spawn(move |mut mbox: Mailbox<()>| async move {
///     assert!(!process::trap_exit(true));
///     process::spawn_link(|_: Mailbox<()>| async { panic!("crash") });
///     let exit = mbox.recv_exit().await;
///     tx.send(exit.reason).unwrap();
/// });
/// assert_eq!(rx.await.unwrap(), ExitReason::Panic("crash".into()));
/// # });
/// ```
#[track_caller]
pub fn trap_exit(trap: bool) -> bool {
    let me = current_or_panic("trap_exit");
    std::mem::replace(&mut me.core().lock().trap_exit, trap)
}

/// Ends the calling process with `reason` (BEAM's `exit/1`).
///
/// The reason is recorded and the process stops accepting messages at
/// once; awaiting the returned future yields for good, and the process's
/// future is dropped before it is polled again. With an abnormal reason,
/// linked processes are killed (or get the exit, if they trap exits).
///
/// # Panics
///
/// Outside a process.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Mailbox};
///
/// # smp_rt::block_on(async {
/// let (_pid, down) = process::spawn_monitor(|_: Mailbox<()>| async {
///     process::exit(ExitReason::Error("gave up".into())).await;
///     unreachable!();
/// });
/// assert_eq!(down.await.reason, ExitReason::Error("gave up".into()));
/// # });
/// ```
#[track_caller]
pub fn exit(reason: ExitReason) -> Exiting {
    let me = current_or_panic("exit");
    state::kill(&*me, reason);
    Exiting(())
}

/// Future of [`exit`]: never resolves (the process's future is dropped).
#[must_use = "the process ends at its next await point; await this"]
#[derive(Debug)]
pub struct Exiting(());

impl Future for Exiting {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        // The task was aborted and woken by `exit`: it is dropped before
        // it is polled again.
        Poll::Pending
    }
}

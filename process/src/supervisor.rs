//! Supervisors: processes that start child processes and restart them when
//! they fail, as OTP's `supervisor`.
//!
//! A supervisor is a process that [traps exits](super::trap_exit) and links
//! to each of its children. It starts the children in order, from
//! [`ChildSpec`]s (closures that spawn a process), then waits for their exit
//! signals. When a child ends, the supervisor decides from the child's
//! [`Restart`] policy whether to restart it, and then applies its
//! [`Strategy`]:
//!
//! * [`OneForOne`](Strategy::OneForOne): restart only that child;
//! * [`OneForAll`](Strategy::OneForAll): kill the other children (in
//!   reverse start order), then restart them all in order;
//! * [`RestForOne`](Strategy::RestForOne): kill the children started after
//!   it, then restart it and them.
//!
//! **Restart intensity.** If more than `max_restarts` restarts happen
//! within `period`, the supervisor gives up: it kills its children and
//! exits with [`ExitReason::Error`], which its own supervisor (if any) sees
//! as a failure. The default is OTP's: at most 1 restart in 5 seconds.
//!
//! A supervisor also ends, after killing its children, when it is asked to
//! ([`stop`]) or when its parent (the process that [spawned it
//! linked](Supervisor::spawn_link)) ends.
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use std::sync::atomic::{AtomicUsize, Ordering};
//! use smp_rt::process::{self, Mailbox};
//! use smp_rt::process::supervisor::{self, ChildSpec, Strategy, Supervisor};
//!
//! # smp_rt::block_on(async {
//! let starts = Arc::new(AtomicUsize::new(0));
//! let counted = starts.clone();
//! let sup = Supervisor::new(Strategy::OneForOne)
//!     .intensity(5, std::time::Duration::from_secs(3600))
//!     .child(ChildSpec::new("flaky", move || {
//!         // The first start crashes at once, the second runs.
//!         let n = counted.fetch_add(1, Ordering::SeqCst);
//!         process::spawn_link(move |mut mbox: Mailbox<()>| async move {
//!             if n == 0 {
//!                 panic!("first run fails");
//!             }
//!             mbox.recv().await;
//!         })
//!     }))
//!     .spawn();
//! # let started = std::time::Instant::now();
//! while starts.load(Ordering::SeqCst) < 2 {
//! #   assert!(started.elapsed().as_secs() < 60, "the child was not restarted");
//!     smp_rt::time::sleep(std::time::Duration::from_millis(1)).await;
//! }
//! let children = supervisor::which_children(&sup).await.unwrap();
//! assert_eq!(children[0].restarts, 1);
//! supervisor::stop(&sup).await;
//! # });
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use smp_rt_executor::task::Priority;
use smp_rt_sync::oneshot;

use crate::exit::{Exit, ExitReason};
use crate::mailbox::{Mailbox, Signal};
use crate::pid::{AnyPid, Pid, ProcessId};

/// Which children a supervisor restarts when one of them fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Restart only the child that ended.
    #[default]
    OneForOne,
    /// Kill all the other children, then restart all of them.
    OneForAll,
    /// Kill the children started after the one that ended, then restart it
    /// and them.
    RestForOne,
}

/// When a child is restarted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Restart {
    /// Always, even after a normal exit.
    #[default]
    Permanent,
    /// Only after an abnormal exit.
    Transient,
    /// Never.
    Temporary,
}

/// How to start one child: an id and a closure that spawns the child's
/// process and returns its pid.
///
/// The closure runs inside the supervisor process, so
/// [`process::spawn_link`](super::spawn_link) links the child to the
/// supervisor; the supervisor also links any pid the closure returns, so a
/// plain [`process::spawn`](super::spawn) works too. A closure that panics
/// makes the supervisor fail.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, Mailbox};
/// use smp_rt::process::supervisor::{ChildSpec, Restart};
///
/// let spec = ChildSpec::new("echo", || {
///     process::spawn_link(|mut mbox: Mailbox<String>| async move {
///         loop {
///             println!("{}", mbox.recv().await);
///         }
///     })
/// })
/// .restart(Restart::Transient);
/// assert_eq!(spec.id(), "echo");
/// ```
pub struct ChildSpec {
    id: String,
    start: Box<dyn FnMut() -> AnyPid + Send>,
    restart: Restart,
}

impl ChildSpec {
    /// A [`Permanent`](Restart::Permanent) child started by `start`.
    pub fn new<M, F>(id: impl Into<String>, mut start: F) -> ChildSpec
    where
        M: Send + 'static,
        F: FnMut() -> Pid<M> + Send + 'static,
    {
        ChildSpec {
            id: id.into(),
            start: Box::new(move || start().into()),
            restart: Restart::Permanent,
        }
    }

    /// Sets when the child is restarted (default
    /// [`Permanent`](Restart::Permanent)).
    pub fn restart(mut self, restart: Restart) -> ChildSpec {
        self.restart = restart;
        self
    }

    /// The child's id.
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl fmt::Debug for ChildSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChildSpec")
            .field("id", &self.id)
            .field("restart", &self.restart)
            .finish_non_exhaustive()
    }
}

/// A child as [`which_children`] reports it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Child {
    /// The id from its [`ChildSpec`].
    pub id: String,
    /// Its process, or `None` if it is not running (a temporary or
    /// transient child that ended).
    pub pid: Option<AnyPid>,
    /// Times it was restarted.
    pub restarts: u64,
}

/// The messages of a supervisor process. Opaque: use [`which_children`]
/// and [`stop`].
pub struct Command(Cmd);

enum Cmd {
    WhichChildren(oneshot::Sender<Vec<Child>>),
    Stop,
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Cmd::WhichChildren(_) => f.write_str("WhichChildren"),
            Cmd::Stop => f.write_str("Stop"),
        }
    }
}

/// The children of supervisor `sup`, in start order; `None` if the
/// supervisor is not alive.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, Mailbox};
/// use smp_rt::process::supervisor::{self, ChildSpec, Strategy, Supervisor};
///
/// # smp_rt::block_on(async {
/// let sup = Supervisor::new(Strategy::OneForOne)
///     .child(ChildSpec::new("a", || process::spawn(|mut m: Mailbox<()>| async move { m.recv().await })))
///     .spawn();
/// let children = supervisor::which_children(&sup).await.unwrap();
/// assert_eq!(children.len(), 1);
/// assert_eq!(children[0].id, "a");
/// supervisor::stop(&sup).await;
/// assert!(supervisor::which_children(&sup).await.is_none());
/// # });
/// ```
pub async fn which_children(sup: &Pid<Command>) -> Option<Vec<Child>> {
    let (tx, rx) = oneshot::channel();
    sup.send(Command(Cmd::WhichChildren(tx))).ok()?;
    rx.await.ok()
}

/// Stops supervisor `sup`: it kills its children, last started first, and
/// ends normally. Resolves to the supervisor's exit reason once it has
/// ended (at once if it had already ended).
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Mailbox};
/// use smp_rt::process::supervisor::{self, ChildSpec, Strategy, Supervisor};
///
/// # smp_rt::block_on(async {
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// let mut tx = Some(tx);
/// let sup = Supervisor::new(Strategy::OneForAll)
///     .child(ChildSpec::new("worker", move || {
///         let pid = process::spawn(|mut m: Mailbox<()>| async move { m.recv().await });
///         if let Some(tx) = tx.take() {
///             tx.send(process::monitor(&pid)).unwrap();
///         }
///         pid
///     }))
///     .spawn();
/// let worker_down = rx.await.unwrap();
/// assert_eq!(supervisor::stop(&sup).await, ExitReason::Normal);
/// assert_eq!(worker_down.await.reason, ExitReason::Killed);
/// # });
/// ```
pub async fn stop(sup: &Pid<Command>) -> ExitReason {
    let down = super::monitor(sup);
    let _ = sup.send(Command(Cmd::Stop));
    down.await.reason
}

/// Configures and spawns a supervisor.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use smp_rt::process::{self, Mailbox};
/// use smp_rt::process::supervisor::{self, ChildSpec, Strategy, Supervisor};
///
/// # smp_rt::block_on(async {
/// let worker = |name: &'static str| {
///     ChildSpec::new(name, move || {
///         process::Builder::new()
///             .name(name)
///             .spawn_link(|mut mbox: Mailbox<u32>| async move {
///                 loop {
///                     mbox.recv().await;
///                 }
///             })
///     })
/// };
/// let sup = Supervisor::new(Strategy::OneForAll)
///     .intensity(3, Duration::from_secs(10))
///     .name("pool")
///     .child(worker("w1"))
///     .child(worker("w2"))
///     .spawn();
/// assert_eq!(supervisor::which_children(&sup).await.unwrap().len(), 2);
/// supervisor::stop(&sup).await;
/// # });
/// ```
#[derive(Debug)]
pub struct Supervisor {
    strategy: Strategy,
    max_restarts: u32,
    period: Duration,
    children: Vec<ChildSpec>,
    name: Option<String>,
    priority: Priority,
}

impl Supervisor {
    /// A supervisor with `strategy`, no children, and OTP's default
    /// intensity (at most 1 restart in 5 seconds).
    pub fn new(strategy: Strategy) -> Supervisor {
        Supervisor {
            strategy,
            max_restarts: 1,
            period: Duration::from_secs(5),
            children: Vec::new(),
            name: None,
            priority: Priority::Normal,
        }
    }

    /// Allows at most `max_restarts` restarts within any `period`; one
    /// more and the supervisor gives up (kills its children and exits
    /// abnormally). `max_restarts` 0 means no restart at all.
    pub fn intensity(mut self, max_restarts: u32, period: Duration) -> Supervisor {
        self.max_restarts = max_restarts;
        self.period = period;
        self
    }

    /// Adds a child; children start in the order they are added.
    pub fn child(mut self, spec: ChildSpec) -> Supervisor {
        self.children.push(spec);
        self
    }

    /// Names the supervisor process.
    pub fn name(mut self, name: impl Into<String>) -> Supervisor {
        self.name = Some(name.into());
        self
    }

    /// Sets the supervisor process's priority (default `Normal`).
    pub fn priority(mut self, priority: Priority) -> Supervisor {
        self.priority = priority;
        self
    }

    /// Spawns the supervisor, which starts its children.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    #[track_caller]
    pub fn spawn(self) -> Pid<Command> {
        self.spawn_with(None)
    }

    /// Spawns the supervisor linked to the calling process (a supervisor
    /// under a supervisor, for example). The supervisor ends, after killing
    /// its children, when the calling process ends.
    ///
    /// # Panics
    ///
    /// Outside a process, or outside a runtime.
    #[track_caller]
    pub fn spawn_link(self) -> Pid<Command> {
        let parent = super::current()
            .expect("Supervisor::spawn_link() was called outside a process")
            .id();
        self.spawn_with(Some(parent))
    }

    #[track_caller]
    fn spawn_with(self, parent: Option<ProcessId>) -> Pid<Command> {
        let mut builder = super::Builder::new().priority(self.priority);
        if let Some(name) = &self.name {
            builder = builder.name(name);
        }
        let run = Run {
            strategy: self.strategy,
            max_restarts: self.max_restarts,
            period: self.period,
            parent,
            restarts: VecDeque::new(),
            children: self
                .children
                .into_iter()
                .map(|spec| Running {
                    spec,
                    pid: None,
                    restarts: 0,
                })
                .collect(),
        };
        let body = move |mbox: Mailbox<Command>| run.main(mbox);
        if parent.is_some() {
            builder.spawn_link(body)
        } else {
            builder.spawn(body)
        }
    }
}

struct Running {
    spec: ChildSpec,
    pid: Option<AnyPid>,
    restarts: u64,
}

/// A supervisor's state, owned by its process.
struct Run {
    strategy: Strategy,
    max_restarts: u32,
    period: Duration,
    parent: Option<ProcessId>,
    /// When the recent restarts happened, oldest first.
    restarts: VecDeque<Instant>,
    children: Vec<Running>,
}

impl Run {
    async fn main(mut self, mut mbox: Mailbox<Command>) {
        super::trap_exit(true);
        for i in 0..self.children.len() {
            self.start(i);
        }
        loop {
            match mbox.recv_signal().await {
                Signal::Message(Command(Cmd::WhichChildren(reply))) => {
                    let _ = reply.send(self.report());
                }
                Signal::Message(Command(Cmd::Stop)) => {
                    self.terminate_from(0).await;
                    return;
                }
                Signal::Exit(exit) => {
                    if Some(exit.pid_id) == self.parent {
                        self.terminate_from(0).await;
                        super::exit(exit.reason).await;
                        return;
                    }
                    if let Err(reason) = self.child_exited(exit).await {
                        self.terminate_from(0).await;
                        super::exit(reason).await;
                        return;
                    }
                }
            }
        }
    }

    fn report(&self) -> Vec<Child> {
        self.children
            .iter()
            .map(|c| Child {
                id: c.spec.id.clone(),
                pid: c.pid.clone(),
                restarts: c.restarts,
            })
            .collect()
    }

    /// Starts child `i`, linked to the supervisor.
    fn start(&mut self, i: usize) {
        let pid = (self.children[i].spec.start)();
        super::link(&pid);
        self.children[i].pid = Some(pid);
    }

    /// Kills the running children from `from` on, last started first, and
    /// waits for each to end. Returns the indices of those it killed, in
    /// start order.
    async fn terminate_from(&mut self, from: usize) -> Vec<usize> {
        let mut killed = Vec::new();
        for i in (from..self.children.len()).rev() {
            if let Some(pid) = self.children[i].pid.take() {
                super::unlink(&pid);
                let down = super::monitor(&pid);
                pid.kill();
                down.await;
                killed.push(i);
            }
        }
        killed.reverse();
        killed
    }

    /// Handles the exit of a process; `Err` with the supervisor's own exit
    /// reason when the restart intensity is exceeded.
    async fn child_exited(&mut self, exit: Exit) -> Result<(), ExitReason> {
        // An exit from a process that is no longer a child (one killed by
        // a restart, whose signal was already queued) is ignored.
        let Some(i) = self
            .children
            .iter()
            .position(|c| c.pid.as_ref().is_some_and(|p| p.id() == exit.pid_id))
        else {
            return Ok(());
        };
        self.children[i].pid = None;
        let restart = match self.children[i].spec.restart {
            Restart::Permanent => true,
            Restart::Transient => !exit.reason.is_normal(),
            Restart::Temporary => false,
        };
        if !restart {
            return Ok(());
        }

        let now = Instant::now();
        while self
            .restarts
            .front()
            .is_some_and(|&t| now.duration_since(t) > self.period)
        {
            self.restarts.pop_front();
        }
        self.restarts.push_back(now);
        if self.restarts.len() > self.max_restarts as usize {
            return Err(ExitReason::Error(format!(
                "supervisor gave up: more than {} restarts in {:?}; child {:?} ended: {}",
                self.max_restarts, self.period, self.children[i].spec.id, exit.reason
            )));
        }

        // Children that were not running (temporary or transient ones that
        // ended) stay stopped.
        let mut again = match self.strategy {
            Strategy::OneForOne => Vec::new(),
            Strategy::OneForAll => self.terminate_from(0).await,
            Strategy::RestForOne => self.terminate_from(i + 1).await,
        };
        again.push(i);
        again.sort_unstable();
        for j in again {
            self.children[j].restarts += 1;
            self.start(j);
        }
        Ok(())
    }
}

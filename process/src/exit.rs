//! Why processes end, and how others learn of it: [`ExitReason`], the
//! trapped [`Exit`] signal, and the [`Monitor`] future resolving to a
//! [`Down`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use smp_rt_sync::oneshot;

use crate::pid::{AnyPid, ProcessId};
use crate::state::AnyProcess;

/// Why a process ended.
///
/// A process ends *normally* when its future completes; any other reason is
/// *abnormal*, and is propagated along links (see
/// [`link`](super::link)).
///
/// # Examples
///
/// ```
/// use smp_rt::process::ExitReason;
///
/// assert!(ExitReason::Normal.is_normal());
/// assert!(!ExitReason::Panic("boom".into()).is_normal());
/// assert_eq!(ExitReason::Killed.to_string(), "killed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExitReason {
    /// The process's future completed.
    Normal,
    /// The process's future panicked; holds the panic message.
    Panic(String),
    /// The process was killed with [`Pid::kill`](super::Pid::kill), or its
    /// task was dropped before completing (by a runtime shutting down).
    Killed,
    /// The process ended itself with [`process::exit`](super::exit) and
    /// this description (a supervisor gives up this way, for example).
    Error(String),
}

impl ExitReason {
    /// `true` for [`ExitReason::Normal`].
    pub fn is_normal(&self) -> bool {
        matches!(self, ExitReason::Normal)
    }
}

impl fmt::Display for ExitReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitReason::Normal => f.write_str("normal"),
            ExitReason::Panic(msg) => write!(f, "panic: {msg}"),
            ExitReason::Killed => f.write_str("killed"),
            ExitReason::Error(msg) => write!(f, "error: {msg}"),
        }
    }
}

/// The exit signal of a linked process, received by a process that traps
/// exits (see [`trap_exit`](super::trap_exit) and
/// [`Mailbox::recv_signal`](super::Mailbox::recv_signal)).
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason, Signal};
///
/// # smp_rt::block_on(async {
/// let (tx, rx) = smp_rt::sync::oneshot::channel();
/// process::spawn(move |mut mbox: process::Mailbox<()>| async move {
///     process::trap_exit(true);
///     let child = process::spawn_link(|_: process::Mailbox<()>| async { panic!("boom") });
///     match mbox.recv_signal().await {
///         Signal::Exit(exit) => {
///             assert_eq!(exit.pid_id, child.id());
///             tx.send(exit.reason).unwrap();
///         }
///         Signal::Message(()) => unreachable!(),
///     }
/// });
/// assert_eq!(rx.await.unwrap(), ExitReason::Panic("boom".into()));
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// The process that ended.
    pub pid_id: ProcessId,
    /// Why it ended.
    pub reason: ExitReason,
}

/// The notice a [`Monitor`] resolves to: the monitored process has ended.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason};
///
/// # smp_rt::block_on(async {
/// let (pid, monitor) = process::spawn_monitor(|_: process::Mailbox<()>| async {});
/// let down = monitor.await;
/// assert_eq!(down.pid_id, pid.id());
/// assert_eq!(down.reason, ExitReason::Normal);
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Down {
    /// The process that ended.
    pub pid_id: ProcessId,
    /// Why it ended.
    pub reason: ExitReason,
}

/// A future resolving to a [`Down`] when the monitored process ends.
///
/// Made by [`monitor`](super::monitor) or
/// [`spawn_monitor`](super::spawn_monitor). Unlike a link, a monitor is
/// one-way, never affects either process, and can be awaited anywhere, in a
/// process, a plain task, or `block_on`. Monitoring a process that has
/// already ended resolves at once with the reason it ended with (a `Pid`
/// remembers it). Dropping the monitor removes it from the process (BEAM's
/// `demonitor`).
///
/// Polling it charges one reduction.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, ExitReason};
///
/// # smp_rt::block_on(async {
/// let pid = process::spawn(|mut mbox: process::Mailbox<u32>| async move {
///     mbox.recv().await;
/// });
/// let monitor = process::monitor(&pid);
/// pid.kill();
/// assert_eq!(monitor.await.reason, ExitReason::Killed);
/// # });
/// ```
#[must_use = "a monitor does nothing unless awaited"]
pub struct Monitor {
    target: Arc<dyn AnyProcess>,
    /// The monitor's key in the target's monitor set; `None` once resolved,
    /// or if the target had ended when the monitor was made.
    key: Option<u64>,
    rx: oneshot::Receiver<Down>,
}

impl Monitor {
    /// Monitors `target`.
    pub(crate) fn new(target: Arc<dyn AnyProcess>) -> Monitor {
        let (tx, rx) = oneshot::channel();
        let key = {
            let mut st = target.core().lock();
            match &st.exit {
                Some(reason) => {
                    let _ = tx.send(Down {
                        pid_id: target.core().id,
                        reason: reason.clone(),
                    });
                    None
                }
                None => {
                    let key = st.next_monitor;
                    st.next_monitor += 1;
                    st.monitors.insert(key, tx);
                    Some(key)
                }
            }
        };
        Monitor { target, key, rx }
    }

    /// The id of the monitored process.
    pub fn pid_id(&self) -> ProcessId {
        self.target.core().id
    }

    /// The monitored process.
    pub fn pid(&self) -> AnyPid {
        AnyPid::from_arc(self.target.clone())
    }
}

impl Future for Monitor {
    type Output = Down;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Down> {
        let result = ready!(Pin::new(&mut self.rx).poll(cx));
        self.key = None;
        Poll::Ready(result.unwrap_or_else(|_| Down {
            // The process's state went away without an exit path (its task
            // was leaked): the nearest description is that it was killed.
            pid_id: self.target.core().id,
            reason: ExitReason::Killed,
        }))
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let sender = self.target.core().lock().monitors.remove(&key);
            drop(sender);
        }
    }
}

impl fmt::Debug for Monitor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("pid_id", &self.pid_id())
            .finish_non_exhaustive()
    }
}

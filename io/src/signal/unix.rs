//! Unix signals: [`signal`] creates a [`Signal`] listener for one
//! [`SignalKind`].

use std::fmt;
use std::io;
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::task::{Context, Poll, ready};

use smp_rt_executor::runtime::Handle;
use smp_rt_executor::task::poll_charge;

use super::registry::{self, Globals, Slot};
use crate::Reactor;
use crate::poll_evented::PollEvented;
use crate::reactor::Direction;

/// A kind of signal, by its number: the constructors name the common ones,
/// [`from_raw`](SignalKind::from_raw) takes any.
///
/// # Examples
///
/// ```
/// use smp_rt::signal::unix::SignalKind;
///
/// let kind = SignalKind::hangup();
/// assert_eq!(SignalKind::from_raw(kind.as_raw_value()), kind);
/// ```
#[derive(Debug, Clone, Copy, Hash, PartialEq, Eq)]
pub struct SignalKind(c_int);

impl SignalKind {
    /// The signal numbered `signum`, for signals without a constructor of
    /// their own. [`signal`] refuses numbers that are not signals and the
    /// signals that cannot be handled.
    pub const fn from_raw(signum: c_int) -> Self {
        Self(signum)
    }

    /// The signal's number.
    ///
    /// ```
    /// use smp_rt::signal::unix::SignalKind;
    ///
    /// assert_eq!(SignalKind::interrupt().as_raw_value(), 2); // SIGINT
    /// ```
    pub const fn as_raw_value(&self) -> c_int {
        self.0
    }

    /// `SIGALRM`: a real-time timer expired. Terminates the process by
    /// default.
    pub const fn alarm() -> Self {
        Self(libc::SIGALRM)
    }

    /// `SIGCHLD`: a child process changed status. Ignored by default.
    pub const fn child() -> Self {
        Self(libc::SIGCHLD)
    }

    /// `SIGHUP`: the terminal was disconnected (daemons take it as "reload
    /// the configuration"). Terminates the process by default.
    pub const fn hangup() -> Self {
        Self(libc::SIGHUP)
    }

    /// `SIGINFO`: a status request from the keyboard. Ignored by default.
    #[cfg(any(
        target_os = "dragonfly",
        target_os = "freebsd",
        target_os = "macos",
        target_os = "netbsd",
        target_os = "openbsd",
        target_os = "illumos"
    ))]
    pub const fn info() -> Self {
        Self(libc::SIGINFO)
    }

    /// `SIGINT`: Ctrl-C at the terminal. Terminates the process by default.
    pub const fn interrupt() -> Self {
        Self(libc::SIGINT)
    }

    /// `SIGIO` (`SIGPOLL` on Haiku): IO is possible on a descriptor.
    /// Ignored by default.
    #[cfg(not(target_os = "haiku"))]
    pub const fn io() -> Self {
        Self(libc::SIGIO)
    }

    /// `SIGIO` (`SIGPOLL` on Haiku): IO is possible on a descriptor.
    /// Ignored by default.
    #[cfg(target_os = "haiku")]
    pub const fn io() -> Self {
        Self(libc::SIGPOLL)
    }

    /// `SIGPIPE`: a write to a pipe or socket whose reader is gone.
    /// Terminates the process by default (Rust programs ignore it).
    pub const fn pipe() -> Self {
        Self(libc::SIGPIPE)
    }

    /// `SIGQUIT`: a request to quit and dump core. Terminates the process
    /// by default.
    pub const fn quit() -> Self {
        Self(libc::SIGQUIT)
    }

    /// `SIGTERM`: a request to terminate. Terminates the process by default.
    pub const fn terminate() -> Self {
        Self(libc::SIGTERM)
    }

    /// `SIGUSR1`, for the application's own use. Terminates the process by
    /// default.
    pub const fn user_defined1() -> Self {
        Self(libc::SIGUSR1)
    }

    /// `SIGUSR2`, for the application's own use. Terminates the process by
    /// default.
    pub const fn user_defined2() -> Self {
        Self(libc::SIGUSR2)
    }

    /// `SIGWINCH`: the terminal window changed size. Ignored by default.
    pub const fn window_change() -> Self {
        Self(libc::SIGWINCH)
    }
}

impl From<c_int> for SignalKind {
    fn from(signum: c_int) -> Self {
        Self::from_raw(signum)
    }
}

impl From<SignalKind> for c_int {
    fn from(kind: SignalKind) -> Self {
        kind.as_raw_value()
    }
}

/// A listener for one kind of signal sent to the process.
///
/// Created by [`signal`]. Each [`recv`](Signal::recv) completes once per
/// batch of deliveries: deliveries that arrive between two calls coalesce
/// into one (the OS already coalesces a signal that arrives while the
/// same one is pending), but a delivery that arrives after the `Signal`
/// was created is never missed. Every `Signal` of a kind sees every
/// delivery of it, whichever runtime it belongs to.
///
/// # Caveats
///
/// The first `Signal` of a kind installs a process-wide handler for it,
/// which stays installed for the rest of the process, alongside handlers
/// other libraries installed through `signal-hook-registry`: from then on
/// the signal's default action (often terminating the process) no longer
/// happens, even once every `Signal` is dropped. This is tokio's
/// behaviour.
///
/// # Examples
///
/// Reload a configuration on every `SIGHUP`:
///
/// ```no_run
/// use smp_rt::signal::unix::{signal, SignalKind};
///
/// #[smp_rt::main]
/// async fn main() -> std::io::Result<()> {
///     let mut hangups = signal(SignalKind::hangup())?;
///     while hangups.recv().await.is_some() {
///         println!("reloading the configuration");
///     }
///     Ok(())
/// }
/// ```
#[must_use = "a Signal does nothing unless `recv` is awaited"]
pub struct Signal {
    kind: SignalKind,
    globals: &'static Globals,
    slot: &'static Slot,
    /// This listener's id in the slot's waiting list.
    id: u64,
    /// The slot's delivery version this listener reported last.
    seen: u64,
    /// A duplicate of the handlers' socket, registered with the runtime's
    /// reactor: whoever finds it readable drains it and dispatches.
    receiver: PollEvented<UnixStream>,
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// Creates a listener for the signal `kind`, installing the process-wide
/// handler for it if this is the first.
///
/// The listener sees every delivery from now on; see [`Signal`].
///
/// # Errors
///
/// An error if `kind` is not a signal number, or one that cannot be
/// handled (`SIGKILL`, `SIGSTOP`, `SIGILL`, `SIGFPE`, `SIGSEGV`); if
/// installing the handler failed, now or the first time it was tried; or
/// if the OS refuses a descriptor.
///
/// # Panics
///
/// Panics outside an smp_rt runtime (that is, outside a task,
/// `Runtime::block_on` or `Runtime::enter`), as tokio's does.
///
/// # Examples
///
/// ```
/// use smp_rt::signal::unix::{signal, SignalKind};
///
/// # #[smp_rt::main(flavor = "current_thread")]
/// # async fn main() {
/// assert!(signal(SignalKind::user_defined2()).is_ok());
/// assert!(signal(SignalKind::from_raw(9)).is_err()); // SIGKILL
/// # }
/// ```
#[track_caller]
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    let Some(reactor) = Handle::try_current()
        .ok()
        .and_then(|handle| handle.extension::<Reactor>())
    else {
        panic!(
            "signal({kind:?}) was called outside an smp_rt runtime: create signal listeners \
             (and call `ctrl_c`) inside a task, inside `Runtime::block_on`, or after \
             `Runtime::enter` of a runtime built by `smp_rt::runtime::Builder`"
        );
    };
    let globals = registry::globals()?;
    let slot = globals.enable(kind.0)?;
    let receiver = PollEvented::with_reactor(reactor.inner(), globals.receiver()?)?;
    let (id, seen) = slot.subscribe();
    Ok(Signal {
        kind,
        globals,
        slot,
        id,
        seen,
        receiver,
    })
}

impl Signal {
    /// Waits for the next delivery of the signal.
    ///
    /// Returns `Some(())` for one or more deliveries since the last call;
    /// it never returns `None` (the `Option` is tokio's signature). Charges
    /// one reduction per poll.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropped inside a `select!` branch that lost, it loses no
    /// delivery; the next call reports it.
    pub async fn recv(&mut self) -> Option<()> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next delivery of the signal, as [`recv`](Signal::recv)
    /// does: `Ready(Some(()))` for one or more deliveries since the last
    /// `Ready`, else `Pending`, with `cx`'s waker woken at the next one.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        ready!(poll_charge(cx));
        loop {
            if self.slot.check(&mut self.seen, self.id, cx.waker()) {
                return Poll::Ready(Some(()));
            }
            match self.receiver.poll_io(Direction::Read, cx, registry::drain) {
                Poll::Ready(Ok(())) => self.globals.dispatch(),
                // The runtime's reactor is gone: this listener now learns of
                // deliveries only from listeners of other runtimes, through
                // the waker registered above (tokio's listeners wait forever
                // in that case).
                Poll::Ready(Err(_)) | Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.slot.unsubscribe(self.id);
    }
}

//! Child processes, as `tokio::process`: [`Command`] spawns a [`Child`]
//! whose standard streams are non-blocking pipes registered with the
//! reactor and whose exit is awaited without blocking a worker.
//!
//! `smp_rt::process` holds these beside the BEAM-style processes (a
//! [`Child`] is an operating-system process; a `Pid` is an smp_rt task).
//!
//! * The pipes ([`ChildStdin`], [`ChildStdout`], [`ChildStderr`]) wait on
//!   the reactor like sockets and charge a reduction per poll.
//! * [`Child::wait`] waits on a pidfd registered with the reactor on
//!   Linux; elsewhere a thread waits for the exit (see the `exit` module).
//! * A [`Child`] dropped before its process exited is killed if
//!   [`Command::kill_on_drop`] was set; either way it is reaped in the
//!   background, never left a zombie.
//!
//! # Examples
//!
//! ```
//! # smp_rt::block_on(async {
//! use smp_rt::process::Command;
//!
//! let output = Command::new("echo").arg("hello").output().await?;
//! assert!(output.status.success());
//! assert_eq!(output.stdout, b"hello\n");
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

mod exit;
mod pipe;
mod reaper;

use std::ffi::OsStr;
use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::path::Path;
use std::pin::Pin;
use std::process::{ExitStatus, Output, Stdio};
use std::task::{Context, Poll, ready};

pub use pipe::{ChildStderr, ChildStdin, ChildStdout};

use crate::io::{AsyncRead, ReadBuf};
use crate::poll_evented::current;
use exit::ExitWatch;

/// A process builder, as `tokio::process::Command`: `std`'s `Command`
/// whose [`spawn`](Command::spawn) gives a [`Child`] with asynchronous
/// pipes and an asynchronous [`wait`](Child::wait).
///
/// By default the child inherits this process's standard streams
/// (`output` pipes standard output and error instead), its environment and
/// its working directory.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt::process::Command;
///
/// let status = Command::new("sh").args(["-c", "exit 3"]).status().await?;
/// assert_eq!(status.code(), Some(3));
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
}

impl Command {
    /// A command that runs `program`, found through `PATH` if it has no
    /// `/`.
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// The `std` command.
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The `std` command, to set what only `std` offers.
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// The `std` command (`kill_on_drop` is lost).
    pub fn into_std(self) -> std::process::Command {
        self.std
    }

    /// Adds an argument.
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets the environment variable `key` to `val` for the child.
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables for the child.
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes the environment variable `key` from the child's
    /// environment.
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds).
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// The child's working directory. A relative program path is looked up
    /// in a platform-specific way: give an absolute one to be sure.
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// The child's standard input: `Stdio::piped()` for
    /// [`Child::stdin`], `Stdio::null()`, `Stdio::inherit()` (the default
    /// for `spawn` and `status`), or a descriptor.
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self
    }

    /// The child's standard output (see [`stdin`](Command::stdin)).
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// The child's standard error (see [`stdin`](Command::stdin)).
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] before its process exited kills the
    /// process (`SIGKILL`); off by default: the process runs on, and is
    /// reaped in the background when it exits.
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// Whether [`kill_on_drop`](Command::kill_on_drop) is set.
    pub fn get_kill_on_drop(&self) -> bool {
        self.kill_on_drop
    }

    /// The child's user id (`setuid`).
    #[cfg(unix)]
    pub fn uid(&mut self, id: u32) -> &mut Command {
        std::os::unix::process::CommandExt::uid(&mut self.std, id);
        self
    }

    /// The child's group id (`setgid`).
    #[cfg(unix)]
    pub fn gid(&mut self, id: u32) -> &mut Command {
        std::os::unix::process::CommandExt::gid(&mut self.std, id);
        self
    }

    /// The child's `argv[0]`, instead of the program's path.
    #[cfg(unix)]
    pub fn arg0(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        std::os::unix::process::CommandExt::arg0(&mut self.std, arg);
        self
    }

    /// Puts the child in process group `pgroup`, or in a new group of its
    /// own with `0`.
    #[cfg(unix)]
    pub fn process_group(&mut self, pgroup: i32) -> &mut Command {
        std::os::unix::process::CommandExt::process_group(&mut self.std, pgroup);
        self
    }

    /// Runs `f` in the child after `fork` and before `exec`.
    ///
    /// # Safety
    ///
    /// As for `std::os::unix::process::CommandExt::pre_exec`: `f` runs in
    /// a copy of this process with one thread, and may only do what is
    /// async-signal-safe (no allocation, no locks).
    #[cfg(unix)]
    pub unsafe fn pre_exec<F>(&mut self, f: F) -> &mut Command
    where
        F: FnMut() -> io::Result<()> + Send + Sync + 'static,
    {
        // SAFETY: the caller upholds `pre_exec`'s contract (see above).
        unsafe { std::os::unix::process::CommandExt::pre_exec(&mut self.std, f) };
        self
    }

    /// Starts the child.
    ///
    /// Its piped streams are registered with the current runtime's
    /// reactor, which must outlive them.
    ///
    /// # Errors
    ///
    /// A program that cannot be found or run (`NotFound`,
    /// `PermissionDenied`); any error of `std::process::Command::spawn`.
    ///
    /// # Panics
    ///
    /// Outside an smp_rt runtime with an IO reactor, as tokio's does; the
    /// message says how to fix it.
    #[track_caller]
    pub fn spawn(&mut self) -> io::Result<Child> {
        let (_, reactor) = current();
        let reactor = reactor.inner();
        let mut std = self.std.spawn()?;
        let stdin = std.stdin.take();
        let stdout = std.stdout.take();
        let stderr = std.stderr.take();
        let exit = ExitWatch::new(std.id(), reactor);
        // Killed if what follows fails: nobody would know of it.
        let mut child = Child {
            running: Some(Running { std, exit }),
            status: None,
            kill_on_drop: true,
            stdin: None,
            stdout: None,
            stderr: None,
        };
        child.stdin = stdin.map(|p| ChildStdin::new(p, reactor)).transpose()?;
        child.stdout = stdout.map(|p| ChildStdout::new(p, reactor)).transpose()?;
        child.stderr = stderr.map(|p| ChildStderr::new(p, reactor)).transpose()?;
        child.kill_on_drop = self.kill_on_drop;
        Ok(child)
    }

    /// Starts the child, closes this side of any piped stream, and waits
    /// for it to exit. The child inherits the standard streams unless
    /// told otherwise.
    ///
    /// The child starts when `status` is called, not when the future is
    /// first polled. Dropping the future drops the [`Child`] (killing it
    /// only with [`kill_on_drop`](Command::kill_on_drop)).
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + use<> {
        let child = self.spawn();
        async move {
            let mut child = child?;
            drop(child.stdin.take());
            drop(child.stdout.take());
            drop(child.stderr.take());
            child.wait().await
        }
    }

    /// Starts the child with its standard output and error piped (this
    /// sets them on the command), and collects both and the exit status.
    /// Standard input is inherited unless set.
    ///
    /// The child starts when `output` is called (see
    /// [`status`](Command::status)).
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> + use<> {
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        async move { child?.wait_with_output().await }
    }
}

impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)?;
        if self.kill_on_drop {
            f.write_str(" (kill on drop)")?;
        }
        Ok(())
    }
}

/// A child process spawned by [`Command::spawn`], as
/// `tokio::process::Child`.
///
/// Dropping it does not wait for the process: it is killed first with
/// [`Command::kill_on_drop`], and reaped in the background either way.
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use std::process::Stdio;
/// use smp_rt::io::AsyncWriteExt;
/// use smp_rt::process::Command;
///
/// let mut child = Command::new("cat")
///     .stdin(Stdio::piped())
///     .stdout(Stdio::piped())
///     .spawn()?;
/// let mut stdin = child.stdin.take().unwrap();
/// stdin.write_all(b"meow").await?;
/// drop(stdin); // cat reads end-of-file
/// let output = child.wait_with_output().await?;
/// assert!(output.status.success());
/// assert_eq!(output.stdout, b"meow");
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug)]
pub struct Child {
    /// The process until it was reaped.
    running: Option<Running>,
    /// Its status once reaped.
    status: Option<ExitStatus>,
    kill_on_drop: bool,
    /// The writing end of the child's standard input, if it was piped
    /// (`Stdio::piped()`); `take` it to use it apart from the `Child`.
    pub stdin: Option<ChildStdin>,
    /// The reading end of the child's standard output, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The reading end of the child's standard error, if it was piped.
    pub stderr: Option<ChildStderr>,
}

#[derive(Debug)]
struct Running {
    std: std::process::Child,
    exit: ExitWatch,
}

impl Child {
    /// The process id while the child has not been reaped; `None` once a
    /// wait returned its status (the id may then belong to another
    /// process).
    pub fn id(&self) -> Option<u32> {
        self.running.as_ref().map(|running| running.std.id())
    }

    /// Sends `SIGKILL` to the child without waiting for it to exit; `Ok`
    /// if it was reaped already. Wait (or `try_wait`) for it afterwards,
    /// or drop the `Child`, which reaps it in the background.
    pub fn start_kill(&mut self) -> io::Result<()> {
        match &mut self.running {
            Some(running) => running.std.kill(),
            None => Ok(()),
        }
    }

    /// Kills the child (`SIGKILL`) and waits for it to exit.
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await?;
        Ok(())
    }

    /// Waits for the child to exit and returns its status; once it has,
    /// every call returns the same status at once.
    ///
    /// Closes [`stdin`](Child::stdin) first, so that a child reading its
    /// input until end-of-file can exit; `take` it beforehand to keep it.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: dropping the future loses nothing, and a later `wait`
    /// waits on.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let running = self
            .running
            .as_mut()
            .expect("a child without a status is running");
        let pid = running.std.id();
        let std = &mut running.std;
        let status = ready!(running.exit.poll_exit(cx, pid, || std.try_wait()))?;
        self.reaped(status);
        Poll::Ready(Ok(status))
    }

    /// Records the status of the reaped child.
    fn reaped(&mut self, status: ExitStatus) {
        self.status = Some(status);
        // Drops the pidfd's registration with it.
        self.running = None;
    }

    /// The child's status if it has exited (reaping it), `None` if it
    /// runs on. Never blocks, and does not close `stdin`.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let running = self
            .running
            .as_mut()
            .expect("a child without a status is running");
        let status = running.std.try_wait()?;
        if let Some(status) = status {
            self.reaped(status);
        }
        Ok(status)
    }

    /// Closes `stdin`, reads `stdout` and `stderr` (those that were piped)
    /// to their end while waiting for the child to exit, and returns the
    /// status and both outputs.
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        let mut stdout = self.stdout.take();
        let mut stderr = self.stderr.take();
        let (status, stdout_bytes, stderr_bytes) = futures::try_join!(
            self.wait(),
            read_to_end(stdout.as_mut()),
            read_to_end(stderr.as_mut())
        )?;
        drop((stdout, stderr));
        Ok(Output {
            status,
            stdout: stdout_bytes,
            stderr: stderr_bytes,
        })
    }
}

/// Reads `pipe`, if any, to its end.
async fn read_to_end<R: AsyncRead + Unpin>(pipe: Option<&mut R>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let Some(pipe) = pipe else {
        return Ok(bytes);
    };
    let mut chunk = [0; 8192];
    loop {
        let mut buf = ReadBuf::new(&mut chunk);
        poll_fn(|cx| Pin::new(&mut *pipe).poll_read(cx, &mut buf)).await?;
        if buf.filled().is_empty() {
            return Ok(bytes);
        }
        bytes.extend_from_slice(buf.filled());
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(Running { mut std, exit }) = self.running.take() {
            if self.kill_on_drop {
                let _ = std.kill();
            }
            reaper::reap(std, exit.into_pidfd());
        }
    }
}

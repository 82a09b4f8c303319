//! A server program the runner starts for one round and stops after it:
//! the process handling that the real-stack workloads ([`stacks`]) and
//! `redis_benchmark` ([`redis`]) share.
//!
//! A server prints one line when it is ready (its address, and whatever
//! else the caller parses); [`ServerProcess::start`] waits for that line
//! within [`START_LIMIT`], then keeps reading and dropping the rest so that
//! the server never blocks on a full pipe. A server is stopped the way it
//! expects ([`StopBy`]): its stdin closed, or SIGINT (its ctrl-c), and must
//! then exit successfully within [`STOP_LIMIT`]. A server still running
//! when its handle drops is killed.
//!
//! The servers are built by cargo first ([`cargo_build`], then
//! [`check_built`]).
//!
//! [`stacks`]: crate::stacks
//! [`redis`]: crate::redis

use std::env;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How long a server may take to print its first line.
pub const START_LIMIT: Duration = Duration::from_secs(30);
/// How long a server may take to exit once told to stop.
pub const STOP_LIMIT: Duration = Duration::from_secs(10);

/// Runs `cargo ARGS` (the cargo that built the runner, when it was started
/// by `cargo run`) in `dir` with `CARGO_TARGET_DIR=target`; its messages go
/// to stderr, its stdout is dropped.
///
/// # Errors
///
/// When cargo cannot be started or fails.
pub fn cargo_build(args: &[String], dir: &Path, target: &Path) -> Result<(), String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map_err(|err| {
            format!(
                "cannot start cargo ({}): {err}",
                Path::new(&cargo).display()
            )
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo {}` in {} failed ({status}); its messages are above",
            args.join(" "),
            dir.display()
        ))
    }
}

/// Checks that cargo left every one of `programs`.
///
/// # Errors
///
/// Names the programs that are not there.
pub fn check_built<'a>(programs: impl IntoIterator<Item = &'a PathBuf>) -> Result<(), String> {
    let missing: Vec<String> = programs
        .into_iter()
        .filter(|path| !path.is_file())
        .map(|path| path.display().to_string())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "cargo succeeded but did not leave {} (is a build target set in the cargo configuration?)",
            missing.join(", ")
        ))
    }
}

/// How a server is told to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopBy {
    /// Its stdin is closed (it is piped from the runner).
    ClosingStdin,
    /// It is sent SIGINT (its stdin is null).
    Interrupt,
}

impl StopBy {
    fn after(self) -> &'static str {
        match self {
            StopBy::ClosingStdin => "after its stdin closed",
            StopBy::Interrupt => "after SIGINT",
        }
    }
}

/// A running server process. See the module docs.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// Held open until the stop, with [`StopBy::ClosingStdin`].
    stdin: Option<ChildStdin>,
    stop_by: StopBy,
}

impl ServerProcess {
    /// Starts `program` with `args` and waits for its first line, which it
    /// returns with the process.
    ///
    /// # Errors
    ///
    /// When it cannot be started, cannot be read, exits before it prints a
    /// line, or prints none within [`START_LIMIT`]; it is killed then.
    pub fn start<I, S>(
        program: &Path,
        args: I,
        stop_by: StopBy,
    ) -> Result<(ServerProcess, String), String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let name = program.file_name().map_or_else(
            || program.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let stdin = match stop_by {
            StopBy::ClosingStdin => Stdio::piped(),
            StopBy::Interrupt => Stdio::null(),
        };
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        #[cfg(unix)]
        if let StopBy::Interrupt = stop_by {
            interruptible(&mut command);
        }
        let mut child = command
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", program.display()))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut server = ServerProcess {
            stdin: child.stdin.take(),
            child,
            stop_by,
        };
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Whatever else it prints is read and dropped, so that the
            // server never blocks on a full pipe.
            for _ in lines {}
        });
        match rx.recv_timeout(START_LIMIT) {
            Ok(Some(Ok(line))) => Ok((server, line)),
            Ok(Some(Err(err))) => Err(format!("cannot read the address {name} printed: {err}")),
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                // Its stdout closed: it is exiting, or closed it and goes on
                // (then it is killed).
                let status = server.exit_within(STOP_LIMIT);
                Err(format!(
                    "{name} exited before it printed its address ({})",
                    status.map_or_else(|| "still running; killed".to_owned(), |s| s.to_string())
                ))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(format!(
                "{name} printed no address within {} s; killed",
                START_LIMIT.as_secs()
            )),
        }
    }

    /// Waits up to `limit` for the process to exit; its status, or `None`
    /// when it is still running (it is then killed).
    fn exit_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(10)),
                Ok(None) | Err(_) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    return None;
                }
            }
        }
    }

    /// Tells the server to stop (see [`StopBy`]) and waits for it to exit.
    ///
    /// # Errors
    ///
    /// When it had already exited (it died during the round), cannot be
    /// signalled, exits with a failure, or is still running after
    /// [`STOP_LIMIT`] (it is then killed).
    pub fn stop(mut self) -> Result<(), String> {
        if let Ok(Some(status)) = self.child.try_wait() {
            return Err(format!("the server exited during the round ({status})"));
        }
        match self.stop_by {
            StopBy::ClosingStdin => drop(self.stdin.take()),
            StopBy::Interrupt => interrupt(&self.child)?,
        }
        match self.exit_within(STOP_LIMIT) {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(format!("the server failed on exit ({status})")),
            None => Err(format!(
                "the server was still running {} s {}; killed",
                STOP_LIMIT.as_secs(),
                self.stop_by.after()
            )),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Sends SIGINT to `child`, which has not been waited for.
#[cfg(target_os = "linux")]
fn interrupt(child: &Child) -> Result<(), String> {
    let pid = libc::pid_t::try_from(child.id())
        .map_err(|_| format!("process id {} out of range", child.id()))?;
    // SAFETY: `kill` takes plain integers and touches no memory of this
    // process. `pid` is a child that has not been reaped (`Child::wait`
    // has not returned for it), so the id still names it and no other
    // process.
    if unsafe { libc::kill(pid, libc::SIGINT) } == 0 {
        Ok(())
    } else {
        Err(format!(
            "cannot send SIGINT to the server: {}",
            std::io::Error::last_os_error()
        ))
    }
}

/// Sends SIGINT to `child` with the `kill` program.
#[cfg(all(unix, not(target_os = "linux")))]
fn interrupt(child: &Child) -> Result<(), String> {
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .map_err(|err| format!("cannot run `kill -INT`: {err}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`kill -INT {}` failed ({status})", child.id()))
    }
}

/// Without SIGINT, a stop is not graceful.
#[cfg(not(unix))]
fn interrupt(_: &Child) -> Result<(), String> {
    Err("stopping the server needs SIGINT, which this system does not have".to_owned())
}

/// Makes the child start with SIGINT's default action. A runner started in
/// the background of a shell (`cmd &`, `nohup`) inherits SIGINT ignored, and
/// a server that sets no handler of its own (a shell script: a signal
/// ignored on entry cannot be trapped) would then never see the SIGINT that
/// stops it.
#[cfg(unix)]
fn interruptible(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure only calls `signal`, which
    // is async-signal-safe, and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            if libc::signal(libc::SIGINT, libc::SIG_DFL) == libc::SIG_ERR {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

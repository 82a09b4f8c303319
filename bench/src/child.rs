//! The `parked_tasks` child process: one run of the workload on one runtime
//! in a process of its own, so that one runtime's memory does not show in
//! the other's figure. The runner and the criterion bench both start it;
//! it is the program itself, re-executed with [`PARKED_CHILD`], and it
//! answers with one line, `spawn_ns=N resident_bytes=N|none`.
//!
//! `parked_patterns` runs the same way, re-executed with
//! [`PARKED_PATTERN_CHILD`] and the [`SpawnPattern`]'s name, and answers
//! with the same line.

use std::env;
use std::io::Write as _;
use std::process::{self, ExitCode};
use std::time::Duration;

use crate::runtimes::{self, RuntimeKind};
use crate::workloads::{self, Parked, SpawnPattern};

/// The hidden subcommand the program re-executes itself with, followed by
/// `RUNTIME WORKERS COUNT`.
pub const PARKED_CHILD: &str = "__parked-tasks-child";

/// The hidden subcommand of a `parked_patterns` child, followed by
/// `RUNTIME WORKERS COUNT PATTERN` (a [`SpawnPattern`]'s name).
pub const PARKED_PATTERN_CHILD: &str = "__parked-pattern-child";

/// The environment variable naming a command to start the child processes
/// under (an emulator, when the program itself runs under one).
pub const CHILD_RUNNER_ENV: &str = "SMP_RT_BENCH_CHILD_RUNNER";

/// The program and leading arguments that start `exe` as a child process:
/// `exe` alone, or after the words of `runner` (the value of
/// [`CHILD_RUNNER_ENV`], split on whitespace), when one is set.
///
/// # Errors
///
/// When `runner` is set but holds no command.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::child::child_command;
///
/// assert_eq!(child_command("/bin/bench", None).unwrap(), ["/bin/bench"]);
/// assert_eq!(
///     child_command("/bin/bench", Some("qemu-aarch64 -L /usr/aarch64-linux-gnu")).unwrap(),
///     ["qemu-aarch64", "-L", "/usr/aarch64-linux-gnu", "/bin/bench"],
/// );
/// assert!(child_command("/bin/bench", Some("  ")).is_err());
/// ```
pub fn child_command(exe: &str, runner: Option<&str>) -> Result<Vec<String>, String> {
    let mut words: Vec<String> = match runner {
        None => Vec::new(),
        Some(runner) => {
            let words: Vec<String> = runner.split_whitespace().map(str::to_owned).collect();
            if words.is_empty() {
                return Err(format!(
                    "{CHILD_RUNNER_ENV} is set but empty: unset it, or give the command \
                     to start child processes under (for example `qemu-aarch64`)"
                ));
            }
            words
        }
    };
    words.push(exe.to_owned());
    Ok(words)
}

/// The command that starts this program as a child: [`child_command`] for
/// the running executable and the environment's [`CHILD_RUNNER_ENV`].
///
/// # Errors
///
/// When the executable cannot be found, or the variable is set but empty.
pub fn this_program() -> Result<Vec<String>, String> {
    let exe = env::current_exe().map_err(|err| format!("cannot find this program: {err}"))?;
    let runner = env::var(CHILD_RUNNER_ENV).ok();
    child_command(&exe.to_string_lossy(), runner.as_deref())
}

/// Runs `parked_tasks` once, `count` tasks on a `kind` runtime of
/// `workers` workers, in a child process started by `command` (the
/// program, then its leading arguments: see [`child_command`]).
///
/// # Errors
///
/// When the child cannot be started, fails, or prints something else than
/// its line; the message says which, with the child's last line of stderr.
pub fn run_parked(
    command: &[String],
    kind: RuntimeKind,
    workers: usize,
    count: usize,
) -> Result<Parked, String> {
    let args = [
        PARKED_CHILD.to_owned(),
        kind.name().to_owned(),
        workers.to_string(),
        count.to_string(),
    ];
    run_child(command, &args, count)
}

/// Runs `parked_patterns` once for `pattern`: `count` tasks on a
/// `kind` runtime of `workers` workers, in a child process started by
/// `command`, as [`run_parked`] does.
///
/// # Errors
///
/// As [`run_parked`].
pub fn run_parked_pattern(
    command: &[String],
    kind: RuntimeKind,
    workers: usize,
    count: usize,
    pattern: SpawnPattern,
) -> Result<Parked, String> {
    let args = [
        PARKED_PATTERN_CHILD.to_owned(),
        kind.name().to_owned(),
        workers.to_string(),
        count.to_string(),
        pattern.name().to_owned(),
    ];
    run_child(command, &args, count)
}

/// Runs `command` with `args` (the subcommand first) and parses its line,
/// for a run of `count` tasks.
fn run_child(command: &[String], args: &[String], count: usize) -> Result<Parked, String> {
    let shown = command.join(" ");
    let subcommand = args.first().map_or("", String::as_str);
    let (program, leading) = command
        .split_first()
        .ok_or("no command to start the child process with")?;
    let output = process::Command::new(program)
        .args(leading)
        .args(args)
        .output()
        .map_err(|err| format!("cannot start `{shown}`: {err}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr
            .lines()
            .rfind(|line| !line.trim().is_empty())
            .map_or_else(
                || {
                    format!(
                        "no message; can this program run itself as a child process? \
                         (under an emulator, set {CHILD_RUNNER_ENV}: see `smp_rt_bench --help`)"
                    )
                },
                str::to_owned,
            );
        return Err(format!(
            "the child process `{shown} {subcommand} ...` failed ({}): {message}",
            output.status,
        ));
    }
    parse_parked(&stdout, count)
        .ok_or_else(|| format!("unexpected output from the child process: {stdout:?}"))
}

/// Parses the child's line, `spawn_ns=N resident_bytes=N|none`, for a run
/// of `count` tasks.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::child::parse_parked;
///
/// let p = parse_parked("spawn_ns=250000000 resident_bytes=128000000\n", 1_000_000).unwrap();
/// assert_eq!(p.spawn_ns_per_task(), 250.0);
/// assert_eq!(p.bytes_per_task(), Some(128.0));
/// let p = parse_parked("spawn_ns=10 resident_bytes=none", 10).unwrap();
/// assert_eq!(p.bytes_per_task(), None);
/// assert!(parse_parked("garbage", 1).is_none());
/// assert!(parse_parked("", 1).is_none());
/// ```
pub fn parse_parked(line: &str, count: usize) -> Option<Parked> {
    let mut spawn = None;
    let mut resident_bytes = None;
    for field in line.split_whitespace() {
        match field.split_once('=')? {
            ("spawn_ns", v) => spawn = Some(Duration::from_nanos(v.parse().ok()?)),
            ("resident_bytes", "none") => {}
            ("resident_bytes", v) => resident_bytes = Some(v.parse().ok()?),
            _ => {}
        }
    }
    Some(Parked {
        count,
        spawn: spawn?,
        resident_bytes,
    })
}

/// The child's side: one `parked_tasks` run in this process, printed as
/// one line. The process exits without dropping the runtime and its parked
/// tasks (a million drops would only slow the next run down).
pub fn serve_parked(kind: RuntimeKind, workers: usize, count: usize) -> ExitCode {
    let parked = match kind {
        RuntimeKind::SmpRt => runtimes::smp_rt(workers).map(|rt| {
            let parked = workloads::smp_rt::parked_tasks(&rt, count);
            std::mem::forget(rt);
            parked
        }),
        RuntimeKind::Tokio => runtimes::tokio(workers).map(|rt| {
            let parked = workloads::tokio::parked_tasks(&rt, count);
            std::mem::forget(rt);
            parked
        }),
    };
    answer(kind, parked)
}

/// The child's side of `parked_patterns`: one run of `pattern` in
/// this process, printed as [`serve_parked`] prints its run.
pub fn serve_parked_pattern(
    kind: RuntimeKind,
    workers: usize,
    count: usize,
    pattern: SpawnPattern,
) -> ExitCode {
    let parked = match kind {
        RuntimeKind::SmpRt => runtimes::smp_rt(workers).map(|rt| {
            let parked = workloads::smp_rt::parked_pattern(&rt, count, pattern);
            std::mem::forget(rt);
            parked
        }),
        RuntimeKind::Tokio => runtimes::tokio(workers).map(|rt| {
            let parked = workloads::tokio::parked_pattern(&rt, count, pattern);
            std::mem::forget(rt);
            parked
        }),
    };
    answer(kind, parked)
}

/// Prints a child's line and exits, or says why the runtime did not start.
fn answer(kind: RuntimeKind, parked: std::io::Result<Parked>) -> ExitCode {
    match parked {
        Ok(parked) => {
            let bytes = parked
                .resident_bytes
                .map_or_else(|| "none".to_owned(), |b| b.to_string());
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "spawn_ns={} resident_bytes={bytes}",
                parked.spawn.as_nanos()
            );
            let _ = out.flush();
            process::exit(0)
        }
        Err(err) => {
            eprintln!("cannot start {}: {err}", kind.name());
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn a_child_that_fails_is_an_error_naming_the_command() {
        let err = run_parked(&command(&["false"]), RuntimeKind::SmpRt, 2, 10).unwrap_err();
        assert!(
            err.contains("`false __parked-tasks-child ...` failed"),
            "{err}"
        );
        assert!(err.contains(CHILD_RUNNER_ENV), "{err}");
    }

    #[test]
    fn a_pattern_child_that_fails_is_an_error_naming_its_subcommand() {
        let pattern = SpawnPattern::ALL[3];
        let err = run_parked_pattern(&command(&["false"]), RuntimeKind::Tokio, 2, 10, pattern)
            .unwrap_err();
        assert!(
            err.contains("`false __parked-pattern-child ...` failed"),
            "{err}"
        );
    }

    #[test]
    fn a_pattern_child_is_given_the_pattern_name() {
        // `echo` prints its arguments back: the command line the child gets.
        let pattern = SpawnPattern::ALL[5];
        let err = run_parked_pattern(&command(&["echo"]), RuntimeKind::SmpRt, 2, 10, pattern)
            .unwrap_err();
        assert!(
            err.contains("__parked-pattern-child smp_rt 2 10 outside-dropped-0b"),
            "{err}"
        );
    }

    #[test]
    fn a_child_that_prints_something_else_is_an_error() {
        // `echo` prints its arguments: exit 0, but not the child's line.
        let err = run_parked(&command(&["echo"]), RuntimeKind::Tokio, 2, 10).unwrap_err();
        assert!(err.contains("unexpected output"), "{err}");
    }

    #[test]
    fn a_program_that_cannot_start_is_an_error() {
        let err = run_parked(
            &command(&["/nonexistent/program"]),
            RuntimeKind::SmpRt,
            1,
            1,
        )
        .unwrap_err();
        assert!(
            err.starts_with("cannot start `/nonexistent/program`"),
            "{err}"
        );
        assert!(run_parked(&[], RuntimeKind::SmpRt, 1, 1).is_err());
    }
}

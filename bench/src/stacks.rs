//! The real-stack workloads' programs: `axum_hello` and `tonic_unary`, one
//! server source built twice, once against real tokio and once against the
//! tokio facade (smp_rt underneath), and the tonic load generator.
//!
//! A `[patch]` applies to a whole workspace, so one program cannot hold
//! both builds: the sources live in `compat/stacks/` and are built
//!
//! * in the compatibility workspace (`compat/`, tokio patched to the
//!   facade), as `stacks_axum_hello` and `stacks_tonic_unary`: the
//!   `smp_rt` side;
//! * in `compat/stacks-tokio/` (real tokio, the same dependencies), as
//!   `stacks_tokio_axum_hello`, `stacks_tokio_tonic_unary` and
//!   `stacks_tokio_tonic_load`: the `tokio` side and the load generator
//!   both servers face.
//!
//! [`build`] runs cargo for both (printing the commands), in the profile of
//! the runner itself (release for `cargo run --release`), into
//! [`target_dir`], which is the compatibility matrix's (`target/compat`)
//! unless `CARGO_TARGET_DIR` says otherwise, so that the two builds share
//! every crate that does not depend on tokio. A [`Server`] is one of the
//! server programs, started for one round: it prints its address, serves,
//! and exits when its stdin closes. [`run_tonic_load`] runs the load
//! generator and parses its line ([`parse_load`]).

use std::env;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::runtimes::RuntimeKind;
use crate::server::{ServerProcess, StopBy, cargo_build, check_built};
use crate::wrk::{self, Measured};

/// HTTP/2 connections of the tonic load generator in a full run.
pub const TONIC_CONNECTIONS: usize = 4;
/// Calls the tonic load generator keeps in flight in a full run.
pub const TONIC_IN_FLIGHT: usize = 64;

/// The repository's `compat/` directory, as it was when the runner was
/// built.
pub fn compat_dir() -> PathBuf {
    let bench = Path::new(env!("CARGO_MANIFEST_DIR"));
    bench.parent().unwrap_or(bench).join("compat")
}

/// Where the programs are built: `CARGO_TARGET_DIR` (made absolute) when it
/// is set, else the compatibility matrix's `target/compat`.
pub fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
        Some(dir) => std::path::absolute(&dir).unwrap_or_else(|_| PathBuf::from(dir)),
        None => compat_dir()
            .parent()
            .map_or_else(|| PathBuf::from("target"), |repo| repo.join("target"))
            .join("compat"),
    }
}

/// Which server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    /// `axum_hello`.
    Axum,
    /// `tonic_unary`.
    Tonic,
}

/// The built programs.
#[derive(Clone, Debug, PartialEq)]
pub struct Programs {
    /// `axum_hello` on the facade, then on tokio.
    pub axum: [PathBuf; 2],
    /// `tonic_unary` on the facade, then on tokio.
    pub tonic: [PathBuf; 2],
    /// The tonic load generator (on tokio).
    pub tonic_load: PathBuf,
}

impl Programs {
    /// The programs' paths in `target` for a `release` or debug build.
    pub fn in_target(target: &Path, release: bool) -> Programs {
        let dir = target.join(if release { "release" } else { "debug" });
        let exe = |name: &str| dir.join(format!("{name}{}", env::consts::EXE_SUFFIX));
        Programs {
            axum: [exe("stacks_axum_hello"), exe("stacks_tokio_axum_hello")],
            tonic: [exe("stacks_tonic_unary"), exe("stacks_tokio_tonic_unary")],
            tonic_load: exe("stacks_tokio_tonic_load"),
        }
    }

    /// The server program of `stack` on `kind` (`SmpRt`: the facade build).
    pub fn server(&self, stack: Stack, kind: RuntimeKind) -> &Path {
        let pair = match stack {
            Stack::Axum => &self.axum,
            Stack::Tonic => &self.tonic,
        };
        match kind {
            RuntimeKind::SmpRt => &pair[0],
            RuntimeKind::Tokio => &pair[1],
        }
    }
}

/// The two cargo commands [`build`] runs: the directory each runs in and
/// its arguments.
pub fn build_commands(release: bool) -> [(PathBuf, Vec<String>); 2] {
    let compat = compat_dir();
    let command = |package: &str, bins: &[&str]| {
        let mut args = vec!["build".to_owned()];
        if release {
            args.push("--release".to_owned());
        }
        args.extend(["-p".to_owned(), package.to_owned()]);
        for bin in bins {
            args.extend(["--bin".to_owned(), (*bin).to_owned()]);
        }
        args
    };
    [
        (
            compat.clone(),
            command("stacks", &["stacks_axum_hello", "stacks_tonic_unary"]),
        ),
        (
            compat.join("stacks-tokio"),
            command(
                "stacks_tokio",
                &[
                    "stacks_tokio_axum_hello",
                    "stacks_tokio_tonic_unary",
                    "stacks_tokio_tonic_load",
                ],
            ),
        ),
    ]
}

/// Builds the programs with cargo, in the runner's own profile, into
/// [`target_dir`]; cargo's progress goes to stderr.
///
/// # Errors
///
/// When `compat/` is not there (the runner was moved away from its
/// repository), or cargo cannot be started or fails.
pub fn build() -> Result<Programs, String> {
    let release = !cfg!(debug_assertions);
    let target = target_dir();
    let compat = compat_dir();
    if !compat.join("stacks").join("Cargo.toml").is_file() {
        return Err(format!(
            "{} is not there: the real-stack workloads are built from the repository \
             the runner was built in; run the runner from a checkout of smp_rt",
            compat.join("stacks").display()
        ));
    }
    for (dir, args) in build_commands(release) {
        eprintln!(
            "smp_rt_bench: building the real-stack servers: `cargo {}` in {} (CARGO_TARGET_DIR={})",
            args.join(" "),
            dir.display(),
            target.display()
        );
        cargo_build(&args, &dir, &target)?;
    }
    let programs = Programs::in_target(&target, release);
    let all = programs.axum.iter().chain(&programs.tonic);
    check_built(all.chain([&programs.tonic_load]))?;
    Ok(programs)
}

/// A server program started for one round.
#[derive(Debug)]
pub struct Server {
    process: ServerProcess,
    /// Where it listens.
    pub addr: SocketAddr,
}

impl Server {
    /// Starts `program` with `workers` worker threads and waits for the
    /// address it prints.
    ///
    /// # Errors
    ///
    /// When it cannot be started, exits, or prints no address within
    /// [`START_LIMIT`](crate::server::START_LIMIT); it is killed then.
    pub fn start(program: &Path, workers: usize) -> Result<Server, String> {
        let args = [workers.to_string()];
        let (process, line) = ServerProcess::start(program, args, StopBy::ClosingStdin)?;
        let addr = parse_listening(&line)
            .ok_or_else(|| format!("the server printed {line:?} instead of `listening on ADDR`"))?;
        Ok(Server { process, addr })
    }

    /// Closes the server's stdin and waits for it to exit.
    ///
    /// # Errors
    ///
    /// When it had already exited (it died during the round), exits with a
    /// failure, or is still running after
    /// [`STOP_LIMIT`](crate::server::STOP_LIMIT) (it is then
    /// killed).
    pub fn stop(self) -> Result<(), String> {
        self.process.stop()
    }
}

/// The address in a server's first line, `listening on ADDR`.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::stacks::parse_listening;
///
/// assert_eq!(
///     parse_listening("listening on 127.0.0.1:4000\n"),
///     Some("127.0.0.1:4000".parse().unwrap())
/// );
/// assert_eq!(parse_listening("hello"), None);
/// ```
pub fn parse_listening(line: &str) -> Option<SocketAddr> {
    line.trim().strip_prefix("listening on ")?.parse().ok()
}

/// How the tonic load generator loads the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TonicLoad {
    /// HTTP/2 connections.
    pub connections: usize,
    /// Calls kept in flight, spread over the connections.
    pub in_flight: usize,
    /// Length of the run, in whole seconds.
    pub duration: Duration,
}

impl TonicLoad {
    /// The load generator's arguments for a server at `addr`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use smp_rt_bench::stacks::TonicLoad;
    ///
    /// let load = TonicLoad { connections: 4, in_flight: 64, duration: Duration::from_secs(5) };
    /// assert_eq!(load.args("127.0.0.1:50051".parse().unwrap()), ["127.0.0.1:50051", "4", "64", "5"]);
    /// ```
    pub fn args(&self, addr: SocketAddr) -> Vec<String> {
        vec![
            addr.to_string(),
            self.connections.to_string(),
            self.in_flight.to_string(),
            self.duration.as_secs().max(1).to_string(),
        ]
    }
}

/// Runs the load generator `program` against the server at `addr` and
/// parses its line.
///
/// # Errors
///
/// When it cannot be started, fails, overruns its duration by more than
/// [`wrk::GRACE`] (it is then killed), or prints something unexpected.
pub fn run_tonic_load(
    program: &Path,
    load: &TonicLoad,
    addr: SocketAddr,
) -> Result<Measured, String> {
    let mut command = Command::new(program);
    command.args(load.args(addr));
    let stdout = wrk::output_within(
        &mut command,
        "the tonic load generator",
        load.duration + wrk::GRACE,
    )?;
    parse_load(&stdout)
}

/// Parses the load generator's line, `requests=N errors=N elapsed_ns=N
/// requests_per_sec=F p50_ns=N p75_ns=N p90_ns=N p99_ns=N`, into the
/// figures `http_wrk` reports.
///
/// # Errors
///
/// A message naming the missing or malformed field.
pub fn parse_load(output: &str) -> Result<Measured, String> {
    let line = output
        .lines()
        .rfind(|line| !line.trim().is_empty())
        .ok_or_else(|| "the tonic load generator printed nothing".to_owned())?;
    let field = |name: &str| -> Result<f64, String> {
        let text = line
            .split_whitespace()
            .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
            .ok_or_else(|| format!("no {name} in the tonic load generator's line {line:?}"))?;
        text.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| format!("bad {name} in the tonic load generator's line {line:?}"))
    };
    Ok(Measured {
        requests_per_sec: field("requests_per_sec")?,
        requests: field("requests")? as u64,
        p50: field("p50_ns")?,
        p75: field("p75_ns")?,
        p90: field("p90_ns")?,
        p99: field("p99_ns")?,
        errors: field("errors")? as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line as `stacks::Measured::line` (compat/stacks) prints it.
    const LINE: &str = "requests=437 errors=2 elapsed_ns=1039268173 requests_per_sec=420.488 \
                        p50_ns=16043077 p75_ns=20585724 p90_ns=28108108 p99_ns=60351089\n";

    #[test]
    fn parses_the_load_line() {
        let m = parse_load(LINE).unwrap();
        assert_eq!(m.requests, 437);
        assert_eq!(m.errors, 2);
        assert_eq!(m.requests_per_sec, 420.488);
        assert_eq!(
            [m.p50, m.p75, m.p90, m.p99],
            [16_043_077.0, 20_585_724.0, 28_108_108.0, 60_351_089.0]
        );
    }

    #[test]
    fn rejects_incomplete_load_lines() {
        assert!(parse_load("").is_err());
        let no_p99 = LINE.replace(" p99_ns=60351089", "");
        assert!(parse_load(&no_p99).unwrap_err().contains("p99_ns"));
        let bad = LINE.replace("requests_per_sec=420.488", "requests_per_sec=lots");
        assert!(parse_load(&bad).unwrap_err().contains("requests_per_sec"));
        assert!(parse_load(&LINE.replace("p50_ns=16043077", "p50_ns=-1")).is_err());
    }

    #[cfg(unix)]
    use crate::test_scripts::script;

    #[cfg(unix)]
    #[test]
    fn a_server_is_started_with_its_workers_and_stopped_by_closing_stdin() {
        // Serves (waits on stdin) only when given the worker count 3, and
        // exits 0 when its stdin closes.
        let serves = script(
            "serves",
            r#"[ "$1" = 3 ] || exit 9; echo "listening on 127.0.0.1:4321"; cat > /dev/null"#,
        );
        let server = Server::start(&serves, 3).unwrap();
        assert_eq!(server.addr, "127.0.0.1:4321".parse().unwrap());
        server.stop().unwrap();
        let err = Server::start(&serves, 2).unwrap_err();
        assert!(
            err.contains("exited before it printed its address"),
            "{err}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_server_that_misbehaves_is_an_error() {
        let garbled = script("garbled", "echo ready; cat > /dev/null");
        let err = Server::start(&garbled, 1).unwrap_err();
        assert!(err.contains("instead of `listening on ADDR`"), "{err}");
        // Exits with a failure right after printing its address: an error
        // whether it is seen as dying during the round or failing on exit.
        let dies = script("dies", r#"echo "listening on 127.0.0.1:1"; exit 3"#);
        let server = Server::start(&dies, 1).unwrap();
        assert!(server.stop().is_err());
        let err = Server::start(Path::new("/nonexistent/stacks_axum_hello"), 1).unwrap_err();
        assert!(err.contains("cannot start"), "{err}");
    }

    #[test]
    fn programs_are_named_per_side() {
        let p = Programs::in_target(Path::new("/t"), true);
        let name = |path: &Path| path.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(
            name(p.server(Stack::Axum, RuntimeKind::SmpRt)),
            format!("stacks_axum_hello{}", env::consts::EXE_SUFFIX)
        );
        assert_eq!(
            name(p.server(Stack::Tonic, RuntimeKind::Tokio)),
            format!("stacks_tokio_tonic_unary{}", env::consts::EXE_SUFFIX)
        );
        assert!(p.tonic_load.starts_with("/t/release"));
        assert!(
            Programs::in_target(Path::new("/t"), false)
                .tonic_load
                .starts_with("/t/debug")
        );
        // Every program `build` checks for is one that its commands build.
        let [facade, tokio] = build_commands(true);
        for path in p.axum.iter().chain(&p.tonic).chain([&p.tonic_load]) {
            let bin = name(path);
            let bin = bin.trim_end_matches(env::consts::EXE_SUFFIX);
            let side = if bin.starts_with("stacks_tokio_") {
                &tokio
            } else {
                &facade
            };
            assert!(
                side.1.iter().any(|a| a == bin),
                "{bin} is not built by {:?}",
                side.1
            );
        }
        assert!(tokio.0.ends_with("compat/stacks-tokio"));
        assert!(facade.1.contains(&"--release".to_owned()));
    }
}

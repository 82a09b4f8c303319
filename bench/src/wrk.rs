//! The `wrk` HTTP load generator, run as a child process, and its output.
//!
//! `http_wrk` runs `wrk -t1 -cC -dDs --latency http://127.0.0.1:PORT/`
//! against a server inside the runner and reads the requests per second
//! and the latency distribution from what wrk prints (wrk 4.x):
//!
//! ```text
//! Running 5s test @ http://127.0.0.1:46807/
//!   1 threads and 64 connections
//!   Thread Stats   Avg      Stdev     Max   +/- Stdev
//!     Latency     1.08ms    2.32ms  40.21ms   95.57%
//!     Req/Sec    70.03k    15.40k  115.91k    78.43%
//!   Latency Distribution
//!      50%  680.00us
//!      75%    0.95ms
//!      90%    1.58ms
//!      99%   10.52ms
//!   355482 requests in 5.10s, 30.17MB read
//! Requests/sec:  69650.03
//! Transfer/sec:      5.91MB
//! ```

use std::io;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// The program run, looked up on `PATH`.
pub const PROGRAM: &str = "wrk";

/// How long wrk may overrun its `--duration` before it is killed.
pub const GRACE: Duration = Duration::from_secs(30);

/// How to load the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Load {
    /// Open connections (`-c`).
    pub connections: usize,
    /// Length of the run (`-d`), in whole seconds.
    pub duration: Duration,
}

impl Load {
    /// wrk's arguments for a server at `addr`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use smp_rt_bench::wrk::Load;
    ///
    /// let load = Load { connections: 64, duration: Duration::from_secs(5) };
    /// assert_eq!(
    ///     load.args("127.0.0.1:8080".parse().unwrap()).join(" "),
    ///     "-t1 -c64 -d5s --latency http://127.0.0.1:8080/"
    /// );
    /// ```
    pub fn args(&self, addr: SocketAddr) -> Vec<String> {
        self.args_for_url(&format!("http://{addr}/"))
    }

    /// wrk's arguments for the server at `url`.
    pub fn args_for_url(&self, url: &str) -> Vec<String> {
        vec![
            "-t1".to_owned(),
            format!("-c{}", self.connections),
            format!("-d{}s", self.duration.as_secs().max(1)),
            "--latency".to_owned(),
            url.to_owned(),
        ]
    }
}

/// What one wrk run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// `Requests/sec`.
    pub requests_per_sec: f64,
    /// Requests completed in the run.
    pub requests: u64,
    /// Median latency (wrk's `Latency Distribution`), in nanoseconds.
    pub p50: f64,
    /// 75th percentile latency, in nanoseconds.
    pub p75: f64,
    /// 90th percentile latency, in nanoseconds.
    pub p90: f64,
    /// 99th percentile latency, in nanoseconds.
    pub p99: f64,
    /// Socket errors (connect, read, write, timeout) and responses other
    /// than 2xx or 3xx; 0 in a clean run.
    pub errors: u64,
}

/// The version line of the installed wrk (`wrk --version`), or `None` when
/// it cannot be started.
pub fn version() -> Option<String> {
    let output = Command::new(PROGRAM)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()?;
    // wrk prints its version and usage, then exits with status 1.
    let text = String::from_utf8_lossy(&output.stdout);
    let first = text.lines().next().unwrap_or("");
    let first = first.split(" Copyright").next().unwrap_or(first).trim();
    Some(if first.is_empty() {
        PROGRAM.to_owned()
    } else {
        first.to_owned()
    })
}

/// Runs wrk against the server at `addr` and parses its output.
///
/// # Errors
///
/// When wrk cannot be started, fails, overruns its duration by more than
/// [`GRACE`] (it is then killed), or prints something unexpected.
pub fn run(load: &Load, addr: SocketAddr) -> Result<Measured, String> {
    let mut command = Command::new(PROGRAM);
    command.args(load.args(addr));
    let stdout = output_within(&mut command, PROGRAM, load.duration + GRACE)?;
    parse(&stdout)
}

/// Runs `command` (called `name` in messages) with stdin closed and returns
/// what it printed on stdout.
///
/// # Errors
///
/// When it cannot be started, fails (the message ends with its last line of
/// output), or is still running after `limit` (it is then killed).
pub fn output_within(command: &mut Command, name: &str, limit: Duration) -> Result<String, String> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot start {name}: {err}"))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let readers = (
        thread::spawn(move || read_all(&mut stdout)),
        thread::spawn(move || read_all(&mut stderr)),
    );
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{name} did not finish within {} s; killed",
                    limit.as_secs()
                ));
            }
            Err(err) => return Err(format!("cannot wait for {name}: {err}")),
        }
    };
    let stdout = readers.0.join().unwrap_or_default();
    let stderr = readers.1.join().unwrap_or_default();
    if !status.success() {
        let message = stderr
            .lines()
            .chain(stdout.lines())
            .rfind(|line| !line.trim().is_empty())
            .unwrap_or("no message");
        return Err(format!("{name} failed ({status}): {}", message.trim()));
    }
    Ok(stdout)
}

fn read_all(from: &mut impl io::Read) -> String {
    let mut text = String::new();
    let _ = from.read_to_string(&mut text);
    text
}

/// Parses wrk's output (run with `--latency`).
///
/// # Errors
///
/// A message naming what is missing or malformed.
pub fn parse(output: &str) -> Result<Measured, String> {
    let mut requests_per_sec = None;
    let mut requests = None;
    let mut percentiles: [Option<f64>; 4] = [None; 4];
    let mut errors = 0;
    let mut in_distribution = false;
    for line in output.lines().map(str::trim) {
        if line == "Latency Distribution" {
            in_distribution = true;
            continue;
        }
        if in_distribution {
            if let Some((pct, value)) = line.split_once('%') {
                let slot = match pct.trim() {
                    "50" => 0,
                    "75" => 1,
                    "90" => 2,
                    "99" => 3,
                    other => return Err(format!("unexpected percentile {other}%")),
                };
                percentiles[slot] = Some(
                    latency_nanos(value.trim())
                        .ok_or_else(|| format!("bad latency in {line:?}"))?,
                );
                continue;
            }
            in_distribution = false;
        }
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            requests_per_sec = Some(
                v.trim()
                    .parse::<f64>()
                    .map_err(|_| format!("bad requests per second in {line:?}"))?,
            );
        } else if let Some((n, _)) = line.split_once(" requests in ") {
            requests = Some(
                n.trim()
                    .parse::<u64>()
                    .map_err(|_| format!("bad request count in {line:?}"))?,
            );
        } else if let Some(v) = line.strip_prefix("Socket errors:") {
            for field in v.split(',') {
                let count = field.split_whitespace().last().unwrap_or("");
                errors += count
                    .parse::<u64>()
                    .map_err(|_| format!("bad socket errors in {line:?}"))?;
            }
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            errors += v
                .trim()
                .parse::<u64>()
                .map_err(|_| format!("bad error count in {line:?}"))?;
        }
    }
    let missing = |what: &str| format!("no {what} in {PROGRAM}'s output: {output:?}");
    let [p50, p75, p90, p99] = percentiles;
    Ok(Measured {
        requests_per_sec: requests_per_sec.ok_or_else(|| missing("Requests/sec"))?,
        requests: requests.ok_or_else(|| missing("request count"))?,
        p50: p50.ok_or_else(|| missing("50% latency (was --latency given?)"))?,
        p75: p75.ok_or_else(|| missing("75% latency"))?,
        p90: p90.ok_or_else(|| missing("90% latency"))?,
        p99: p99.ok_or_else(|| missing("99% latency"))?,
        errors,
    })
}

/// A wrk time (`575.00us`, `1.17ms`, `2.00s`, `1.00m`, `1.00h`) in
/// nanoseconds.
fn latency_nanos(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    let value: f64 = number.trim().parse().ok()?;
    value.is_finite().then_some(value * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Output of `wrk -t1 -c64 -d5s --latency` (wrk debian/4.1.0-3+b2)
    /// against the `http_wrk` server on smp_rt, 2 workers.
    const SAMPLE: &str = "\
Running 5s test @ http://127.0.0.1:46807/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.08ms    2.32ms  40.21ms   95.57%
    Req/Sec    70.03k    15.40k  115.91k    78.43%
  Latency Distribution
     50%  680.00us
     75%    0.95ms
     90%    1.58ms
     99%   10.52ms
  355482 requests in 5.10s, 30.17MB read
Requests/sec:  69650.03
Transfer/sec:      5.91MB
";

    #[test]
    fn parses_wrk_output() {
        let m = parse(SAMPLE).unwrap();
        assert_eq!(m.requests_per_sec, 69_650.03);
        assert_eq!(m.requests, 355_482);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-6 * b;
        assert!(close(m.p50, 680_000.0), "{}", m.p50);
        assert!(close(m.p75, 950_000.0), "{}", m.p75);
        assert!(close(m.p90, 1_580_000.0), "{}", m.p90);
        assert!(close(m.p99, 10_520_000.0), "{}", m.p99);
        assert_eq!(m.errors, 0);
    }

    #[test]
    fn counts_errors() {
        let out = SAMPLE.replace(
            "Requests/sec:",
            "  Socket errors: connect 0, read 3, write 1, timeout 2\n  \
             Non-2xx or 3xx responses: 4\nRequests/sec:",
        );
        assert_eq!(parse(&out).unwrap().errors, 10);
    }

    #[test]
    fn rejects_incomplete_output() {
        assert!(parse("").is_err());
        let no_latency: String = SAMPLE
            .lines()
            .filter(|l| !l.contains('%') || l.contains("Stdev"))
            .map(|l| format!("{l}\n"))
            .collect();
        assert!(parse(&no_latency).unwrap_err().contains("--latency"));
        assert!(parse(&SAMPLE.replace("69650.03", "lots")).is_err());
        assert!(parse(&SAMPLE.replace("10.52ms", "10.52parsecs")).is_err());
    }

    #[test]
    fn wrk_times() {
        assert_eq!(latency_nanos("12.00us"), Some(12_000.0));
        assert_eq!(latency_nanos("2.00s"), Some(2e9));
        assert_eq!(latency_nanos("1.50m"), Some(90e9));
        assert_eq!(latency_nanos("3.00"), None);
        assert_eq!(latency_nanos("-nanus"), None);
    }
}

//! The programs of smp_rt_bench's real-stack workloads, built twice from
//! these sources: here, in the compatibility workspace, where tokio is the
//! facade (smp_rt underneath), and by `../stacks-tokio`, against real
//! tokio. Only tokio differs between the two builds.
//!
//! * `axum_hello`: an axum router answering `GET /` with `Hello, World!`;
//! * `tonic_unary`: a tonic server of the `Greeter` service's unary
//!   `SayHello`;
//! * `tonic_load`: the load generator of `tonic_unary`, used from the real
//!   tokio build only, so that both servers face the same client.
//!
//! A server takes its worker count as its only argument, binds an
//! ephemeral port on 127.0.0.1, prints the address as its first line on
//! stdout (`listening on 127.0.0.1:PORT`), and serves until its stdin
//! closes ([`exit_when_stdin_closes`]) or it is killed.

use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::time::Duration;

pub mod greeter {
    //! The `Greeter` service: its messages, and the server and client that
    //! `build.rs` generates.

    /// The request of `SayHello`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct HelloRequest {
        /// Who to greet.
        #[prost(string, tag = "1")]
        pub name: String,
    }

    /// The reply of `SayHello`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct HelloReply {
        /// `Hello, {name}!`.
        #[prost(string, tag = "1")]
        pub message: String,
    }

    /// The reply [`HelloReply::message`] to a request for `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(stacks::greeter::greeting("bench"), "Hello, bench!");
    /// ```
    pub fn greeting(name: &str) -> String {
        format!("Hello, {name}!")
    }

    #[allow(missing_docs)]
    mod generated {
        include!(concat!(env!("OUT_DIR"), "/stacks.Greeter.rs"));
    }

    pub use generated::greeter_client::GreeterClient;
    pub use generated::greeter_server::{Greeter, GreeterServer};
}

/// The line a server prints first on stdout, before the address.
pub const LISTENING: &str = "listening on ";

/// The worker count given as the program's only argument.
///
/// # Errors
///
/// A usage message when the argument is missing, not a positive number,
/// or followed by others.
pub fn workers_argument() -> Result<usize, String> {
    let program = std::env::args().next().unwrap_or_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [n] => n.parse::<usize>().ok().filter(|&n| n > 0).ok_or_else(|| {
            format!("{program}: the worker count must be a positive number, not {n:?}")
        }),
        _ => Err(format!(
            "usage: {program} WORKERS (serves on 127.0.0.1, prints the address, stops when stdin closes)"
        )),
    }
}

/// A multi-thread runtime of `workers` workers with I/O and time: tokio's,
/// or the facade's (smp_rt's) in the compatibility workspace.
///
/// # Errors
///
/// When the runtime cannot start.
pub fn runtime(workers: usize) -> io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
}

/// Prints `listening on ADDR` on stdout and flushes it: the runner waits
/// for this line before it starts the load.
pub fn announce(addr: SocketAddr) {
    let mut out = io::stdout().lock();
    let _ = writeln!(out, "{LISTENING}{addr}");
    let _ = out.flush();
}

/// Starts a thread that reads stdin to its end and then exits the process:
/// the runner stops a server by closing its stdin (and kills it if it is
/// still there after a grace period).
pub fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let _ = io::copy(&mut io::stdin().lock(), &mut io::sink());
        std::process::exit(0);
    });
}

/// What the load generator measured, printed as one line (see
/// [`Measured::line`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Measured {
    /// Calls completed with the expected reply.
    pub requests: u64,
    /// Calls that failed or got another reply.
    pub errors: u64,
    /// From the first call to the end of the last.
    pub elapsed: Duration,
    /// Latency percentiles of the completed calls, in nanoseconds: p50,
    /// p75, p90, p99.
    pub percentiles: [u64; 4],
}

impl Measured {
    /// Summarises `latencies` (nanoseconds per completed call) measured over
    /// `elapsed`; `None` when no call completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let latencies: Vec<u64> = (1..=100).collect();
    /// let m = stacks::Measured::of(latencies, 3, Duration::from_secs(2)).unwrap();
    /// assert_eq!(m.percentiles, [50, 75, 90, 99]);
    /// assert_eq!(
    ///     m.line(),
    ///     "requests=100 errors=3 elapsed_ns=2000000000 requests_per_sec=50.000 \
    ///      p50_ns=50 p75_ns=75 p90_ns=90 p99_ns=99"
    /// );
    /// assert!(stacks::Measured::of(Vec::new(), 0, Duration::from_secs(1)).is_none());
    /// ```
    pub fn of(mut latencies: Vec<u64>, errors: u64, elapsed: Duration) -> Option<Measured> {
        if latencies.is_empty() {
            return None;
        }
        latencies.sort_unstable();
        // Nearest rank: the smallest value with at least p % of the calls
        // at or below it.
        let rank = |p: u64| {
            let n = latencies.len() as u64;
            let k = (p * n).div_ceil(100).clamp(1, n);
            latencies[(k - 1) as usize]
        };
        Some(Measured {
            requests: latencies.len() as u64,
            errors,
            elapsed,
            percentiles: [rank(50), rank(75), rank(90), rank(99)],
        })
    }

    /// Completed calls per second.
    pub fn requests_per_sec(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The machine-readable line the runner parses:
    /// `requests=N errors=N elapsed_ns=N requests_per_sec=F p50_ns=N
    /// p75_ns=N p90_ns=N p99_ns=N`.
    pub fn line(&self) -> String {
        let [p50, p75, p90, p99] = self.percentiles;
        format!(
            "requests={} errors={} elapsed_ns={} requests_per_sec={:.3} \
             p50_ns={p50} p75_ns={p75} p90_ns={p90} p99_ns={p99}",
            self.requests,
            self.errors,
            self.elapsed.as_nanos(),
            self.requests_per_sec()
        )
    }
}

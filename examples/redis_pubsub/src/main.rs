//! `redis_pubsub [ADDRESS] [--workers N]`: serves on ADDRESS
//! (`127.0.0.1:6379` by default; port 0 picks a free one) on N worker
//! threads (by default the runtime's default, one per CPU) until ctrl-c
//! (SIGINT), then finishes the commands in flight and exits with status 0.
//!
//! Its first line on stdout is `listening on ADDR; N workers; ctrl-c stops`,
//! printed once the listener is bound and ctrl-c is being listened for, so
//! that a program that starts it (the head-to-head runner's
//! `redis_benchmark`) can read the address and stop it with SIGINT from
//! then on.
//!
//! ```sh
//! cargo run -p redis_pubsub -- 127.0.0.1:6380 --workers 2
//! # elsewhere: redis-cli -p 6380 subscribe news / redis-cli -p 6380 publish news hi
//! ```

#[cfg(feature = "on-smp_rt")]
extern crate smp_rt as tokio;

use std::process::ExitCode;

use redis_pubsub::Config;
use tokio::net::TcpListener;

const USAGE: &str = "usage: redis_pubsub [HOST:PORT] [--workers N]";

/// The command line.
#[derive(Debug, PartialEq, Eq)]
struct Args {
    /// Where to listen.
    address: String,
    /// Worker threads; `None`: the runtime's default.
    workers: Option<usize>,
}

impl Args {
    /// Parses the arguments (without the program name). The error says
    /// what was wrong.
    fn parse(args: impl IntoIterator<Item = String>) -> Result<Args, String> {
        let mut address = None;
        let mut workers = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
                _ => (arg.as_str(), None),
            };
            match flag {
                "--workers" => {
                    let value = inline
                        .or_else(|| args.next())
                        .ok_or("--workers needs a number of worker threads")?;
                    workers = match value.parse::<usize>() {
                        Ok(n) if n > 0 => Some(n),
                        _ => {
                            return Err(format!(
                                "--workers needs a whole number of threads, at least 1, not {value:?}"
                            ));
                        }
                    };
                }
                _ if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
                _ if address.is_none() => address = Some(arg),
                _ => return Err(format!("unexpected argument {arg:?}")),
            }
        }
        Ok(Args {
            address: address.unwrap_or_else(|| "127.0.0.1:6379".to_owned()),
            workers,
        })
    }
}

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("redis_pubsub: {err}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(workers) = args.workers {
        builder.worker_threads(workers);
    }
    let runtime = match builder.build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("redis_pubsub: cannot start the runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let workers = runtime.metrics().num_workers();
    runtime.block_on(serve(&args.address, workers))
}

async fn serve(address: &str, workers: usize) -> ExitCode {
    let listener = match TcpListener::bind(address).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("redis_pubsub: cannot listen on {address}: {err}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    // Listening for ctrl-c starts here, before the address is printed.
    #[cfg(unix)]
    let stop = {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupts = match signal(SignalKind::interrupt()) {
            Ok(interrupts) => interrupts,
            Err(err) => {
                eprintln!("redis_pubsub: cannot listen for ctrl-c: {err}");
                return ExitCode::FAILURE;
            }
        };
        async move {
            interrupts.recv().await;
        }
    };
    #[cfg(not(unix))]
    let stop = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            eprintln!("redis_pubsub: cannot wait for ctrl-c ({err}): shutting down");
        }
    };
    let local = listener
        .local_addr()
        .map_or_else(|_| address.to_owned(), |local| local.to_string());
    println!("listening on {local}; {workers} workers; ctrl-c stops");
    redis_pubsub::run(listener, Config::default(), stop).await;
    println!("shut down");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args, String> {
        Args::parse(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn address_and_workers() {
        assert_eq!(
            parse(&[]).unwrap(),
            Args {
                address: "127.0.0.1:6379".to_owned(),
                workers: None
            }
        );
        assert_eq!(
            parse(&["--workers", "3", "127.0.0.1:0"]).unwrap(),
            Args {
                address: "127.0.0.1:0".to_owned(),
                workers: Some(3)
            }
        );
        assert_eq!(
            parse(&["0.0.0.0:1", "--workers=2"]).unwrap().workers,
            Some(2)
        );
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        let err = |args: &[&str]| parse(args).unwrap_err();
        assert!(err(&["--workers"]).contains("needs a number"));
        assert!(err(&["--workers", "0"]).contains("at least 1"));
        assert!(err(&["--workers=two"]).contains("\"two\""));
        assert!(err(&["--threads", "2"]).contains("unknown option --threads"));
        assert!(err(&["a:1", "b:2"]).contains("unexpected argument \"b:2\""));
    }
}

//! Wake-path probe: one wake pattern on one runtime, a fixed number of
//! times, with nothing timed, for counting tools to measure per
//! operation (instructions, system calls, parks), not wall time.
//!
//! Patterns:
//!
//! * `foreign-pingpong` / `own-pingpong`: two tasks spawned from a task
//!   exchange N messages each way over two bounded(1) channels: async-channel's
//!   (woken through event-listener, a waker smp_rt knows nothing about) or
//!   the runtime's own mpsc;
//! * `foreign-yield` / `own-yield`: [`TASKS`] tasks each yield N / TASKS
//!   times through futures-lite's `yield_now` (wake by ref, return
//!   `Pending`) or the runtime's own `yield_now`.
//!
//! ```text
//! cargo build --release -p smp_rt_bench --bin wake_probe
//! B=$CARGO_TARGET_DIR/release/wake_probe
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null $B smp_rt foreign-pingpong 100000
//! strace -c -f $B smp_rt foreign-pingpong 100000
//! ```
//!
//! Ir per operation is callgrind's total (minus a run with N = 0: the
//! runtime's start and stop) over N. With `smp_rt`, the probe also prints
//! the runtime's park, steal and migration counts.

use std::env;
use std::process::ExitCode;

/// Worker threads of both runtimes.
const WORKERS: usize = 2;
/// Tasks of the yield patterns.
const TASKS: u64 = 4;

#[derive(Clone, Copy, PartialEq)]
enum Pattern {
    ForeignPingPong,
    OwnPingPong,
    ForeignYield,
    OwnYield,
    LoneYield,
}

impl Pattern {
    fn from_name(name: &str) -> Option<Pattern> {
        Some(match name {
            "foreign-pingpong" => Pattern::ForeignPingPong,
            "own-pingpong" => Pattern::OwnPingPong,
            "foreign-yield" => Pattern::ForeignYield,
            "own-yield" => Pattern::OwnYield,
            "lone-yield" => Pattern::LoneYield,
            _ => return None,
        })
    }
}

/// The pattern's tasks, on one runtime: `$spawn` spawns a future and
/// returns a handle that `.await` joins; `$yield_now` is the runtime's own
/// `yield_now`, `$channel` its own bounded mpsc.
macro_rules! pattern {
    ($pattern:expr, $n:expr, $spawn:path, $yield_now:path, $channel:path) => {
        async move {
            let n: u64 = $n;
            match $pattern {
                Pattern::ForeignPingPong => {
                    let (ping_tx, ping_rx) = async_channel::bounded::<u64>(1);
                    let (pong_tx, pong_rx) = async_channel::bounded::<u64>(1);
                    let echo = $spawn(async move {
                        while let Ok(v) = ping_rx.recv().await {
                            pong_tx.send(v).await.unwrap();
                        }
                    });
                    let pinger = $spawn(async move {
                        for i in 0..n {
                            ping_tx.send(i).await.unwrap();
                            assert_eq!(pong_rx.recv().await.unwrap(), i);
                        }
                    });
                    pinger.await.unwrap();
                    echo.await.unwrap();
                }
                Pattern::OwnPingPong => {
                    let (ping_tx, mut ping_rx) = $channel(1);
                    let (pong_tx, mut pong_rx) = $channel(1);
                    let echo = $spawn(async move {
                        while let Some(v) = ping_rx.recv().await {
                            pong_tx.send(v).await.unwrap();
                        }
                    });
                    let pinger = $spawn(async move {
                        for i in 0..n {
                            ping_tx.send(i).await.unwrap();
                            assert_eq!(pong_rx.recv().await.unwrap(), i);
                        }
                    });
                    pinger.await.unwrap();
                    echo.await.unwrap();
                }
                Pattern::ForeignYield | Pattern::OwnYield | Pattern::LoneYield => {
                    let own = $pattern == Pattern::OwnYield;
                    let tasks = if $pattern == Pattern::LoneYield {
                        1
                    } else {
                        TASKS
                    };
                    let tasks: Vec<_> = (0..tasks)
                        .map(|_| {
                            $spawn(async move {
                                for _ in 0..n / tasks {
                                    if own {
                                        $yield_now().await;
                                    } else {
                                        futures_lite::future::yield_now().await;
                                    }
                                }
                            })
                        })
                        .collect();
                    for task in tasks {
                        task.await.unwrap();
                    }
                }
            }
        }
    };
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let usage =
        "usage: wake_probe smp_rt|tokio foreign-pingpong|own-pingpong|foreign-yield|own-yield N";
    let [runtime, pattern, n] = args.as_slice() else {
        eprintln!("{usage}");
        return ExitCode::FAILURE;
    };
    let (Some(pattern), Ok(n)) = (Pattern::from_name(pattern), n.parse::<u64>()) else {
        eprintln!("{usage}");
        return ExitCode::FAILURE;
    };
    match runtime.as_str() {
        "smp_rt" => {
            let rt = smp_rt_bench::runtimes::smp_rt(WORKERS).expect("smp_rt runtime");
            rt.block_on(pattern!(
                pattern,
                n,
                smp_rt::spawn,
                smp_rt::task::yield_now,
                smp_rt::sync::mpsc::channel
            ));
            let m = rt.metrics();
            for w in 0..WORKERS {
                println!(
                    "worker {w}: polls {} parks {} steals {} migrated {}",
                    m.worker_poll_count(w),
                    m.worker_park_count(w),
                    m.worker_steal_count(w),
                    m.worker_migrated_count(w)
                );
            }
        }
        "tokio" => {
            let rt = smp_rt_bench::runtimes::tokio(WORKERS).expect("tokio runtime");
            rt.block_on(pattern!(
                pattern,
                n,
                tokio::spawn,
                tokio::task::yield_now,
                tokio::sync::mpsc::channel
            ));
        }
        _ => {
            eprintln!("{usage}");
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}

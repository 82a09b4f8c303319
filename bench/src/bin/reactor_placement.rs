//! Where should the IO reactor and the timers run? smp_rt drives them from
//! the workers: an idle worker blocks in the poller, busy workers poll it
//! now and then. The alternative is a dedicated reactor thread that wakes
//! the workers. This measures the wake-up latency of both, on the same
//! runtime code, with tokio (whose driver also runs on its workers) for
//! reference:
//!
//! * `udp round trip`: a plain thread sends a datagram to a task that
//!   echoes it and times the round trip, after a pause long enough for the
//!   runtime to go idle (every worker parked): the reactor's wake-up path
//!   from an idle runtime;
//! * `timer lateness`: a task sleeps until a deadline 1 ms ahead, again and
//!   again; how late it runs.
//!
//! The configurations alternate in rounds. Run with
//! `cargo run --release -p smp_rt_bench --bin reactor_placement [-- SAMPLES]`.

use std::net::UdpSocket as StdUdpSocket;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use smp_rt_bench::stats::{nanos, percentile, sorted};
use smp_rt_bench::sysinfo::SystemInfo;
use smp_rt_bench::workloads::latency_pause;

/// Worker threads of every runtime.
const WORKERS: usize = 2;
/// Rounds; each measures every configuration once.
const ROUNDS: usize = 3;

/// The runtimes compared.
#[derive(Clone, Copy)]
enum Config {
    /// smp_rt as shipped: the driver runs in the workers.
    InWorkers,
    /// smp_rt's executor with the same reactor and timers driven by a
    /// thread of their own.
    DedicatedThread,
    /// tokio, for reference.
    Tokio,
}

impl Config {
    const ALL: [Config; 3] = [Config::InWorkers, Config::DedicatedThread, Config::Tokio];

    fn name(self) -> &'static str {
        match self {
            Config::InWorkers => "smp_rt, driver in the workers",
            Config::DedicatedThread => "smp_rt, dedicated reactor thread",
            Config::Tokio => "tokio",
        }
    }
}

/// smp_rt's executor with its reactor and timers on a thread of their own.
struct DedicatedReactor {
    runtime: Option<smp_rt_executor::runtime::Runtime>,
    stop: Arc<AtomicBool>,
    reactor: Arc<smp_rt_io::Reactor>,
    thread: Option<thread::JoinHandle<()>>,
}

impl DedicatedReactor {
    fn new() -> DedicatedReactor {
        let reactor = Arc::new(smp_rt_io::Reactor::new().expect("reactor"));
        let timers = Arc::new(smp_rt_timers::Timers::new());
        let unpark = Arc::downgrade(&reactor);
        timers.set_unpark(Arc::new(move || {
            if let Some(reactor) = unpark.upgrade() {
                let _ = reactor.notify();
            }
        }));
        let runtime = smp_rt_executor::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .extension(reactor.clone())
            .extension(timers.clone())
            .build()
            .expect("runtime");
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (reactor, stop) = (reactor.clone(), stop.clone());
            thread::Builder::new()
                .name("reactor".into())
                .spawn(move || {
                    while !stop.load(Ordering::Acquire) {
                        let timeout = timers
                            .next_deadline()
                            .map(|d| d.saturating_duration_since(Instant::now()));
                        reactor.wait(timeout).expect("reactor wait");
                        timers.fire_expired(Instant::now());
                    }
                })
                .expect("reactor thread")
        };
        DedicatedReactor {
            runtime: Some(runtime),
            stop,
            reactor,
            thread: Some(thread),
        }
    }

    fn runtime(&self) -> &smp_rt_executor::runtime::Runtime {
        self.runtime.as_ref().expect("present until drop")
    }
}

impl Drop for DedicatedReactor {
    fn drop(&mut self) {
        drop(self.runtime.take());
        self.stop.store(true, Ordering::Release);
        let _ = self.reactor.notify();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Times `samples` round trips through an echo task reached at `server`.
fn udp_round_trips(server: std::net::SocketAddr, samples: usize) -> Vec<Duration> {
    let client = StdUdpSocket::bind("127.0.0.1:0").expect("client bind");
    client.connect(server).expect("client connect");
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("read timeout");
    let mut buf = [0u8; 64];
    (0..samples)
        .map(|i| {
            thread::sleep(latency_pause(i));
            let start = Instant::now();
            client.send(&[i as u8; 32]).expect("send");
            let n = client.recv(&mut buf).expect("the echo never came back");
            assert_eq!(n, 32, "a short echo");
            start.elapsed()
        })
        .collect()
}

/// How late `samples` sleeps of 1 ms ran, measured inside a task.
async fn lateness_smp_rt(samples: usize) -> Vec<Duration> {
    let mut late = Vec::with_capacity(samples);
    for _ in 0..samples {
        let deadline = Instant::now() + Duration::from_millis(1);
        smp_rt::time::sleep_until(deadline.into()).await;
        late.push(Instant::now().saturating_duration_since(deadline));
    }
    late
}

async fn echo_smp_rt(socket: smp_rt::net::UdpSocket) {
    let mut buf = [0u8; 64];
    while let Ok((n, from)) = socket.recv_from(&mut buf).await {
        if socket.send_to(&buf[..n], from).await.is_err() {
            break;
        }
    }
}

/// One round on an smp_rt runtime, whichever drives its reactor.
fn measure_smp_rt(
    rt: &smp_rt_executor::runtime::Handle,
    samples: usize,
) -> (Vec<Duration>, Vec<Duration>) {
    let socket = rt
        .block_on(smp_rt::net::UdpSocket::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr");
    rt.spawn(echo_smp_rt(socket));
    let trips = udp_round_trips(addr, samples);
    let late = rt
        .block_on(rt.spawn(lateness_smp_rt(samples)))
        .expect("task");
    (trips, late)
}

/// One round of one configuration: (round trips, lateness).
fn measure(config: Config, samples: usize) -> (Vec<Duration>, Vec<Duration>) {
    match config {
        Config::InWorkers => {
            let rt = smp_rt::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .enable_all()
                .build()
                .expect("runtime");
            measure_smp_rt(rt.handle(), samples)
        }
        Config::DedicatedThread => {
            let dedicated = DedicatedReactor::new();
            measure_smp_rt(dedicated.runtime().handle(), samples)
        }
        Config::Tokio => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(WORKERS)
                .enable_all()
                .build()
                .expect("runtime");
            let socket = rt
                .block_on(tokio::net::UdpSocket::bind("127.0.0.1:0"))
                .expect("bind");
            let addr = socket.local_addr().expect("addr");
            rt.spawn(async move {
                let mut buf = [0u8; 64];
                while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                    if socket.send_to(&buf[..n], from).await.is_err() {
                        break;
                    }
                }
            });
            let trips = udp_round_trips(addr, samples);
            let late = rt
                .block_on(rt.spawn(async move {
                    let mut late = Vec::with_capacity(samples);
                    for _ in 0..samples {
                        let deadline = Instant::now() + Duration::from_millis(1);
                        tokio::time::sleep_until(deadline.into()).await;
                        late.push(Instant::now().saturating_duration_since(deadline));
                    }
                    late
                }))
                .expect("task");
            (trips, late)
        }
    }
}

fn micros(sorted_ns: &[f64], p: f64) -> String {
    percentile(sorted_ns, p).map_or_else(|| "-".into(), |ns| format!("{:.1} µs", ns / 1e3))
}

fn main() {
    let samples: usize = match std::env::args().nth(1) {
        None => 1_000,
        Some(arg) => arg.parse().unwrap_or_else(|_| {
            eprintln!(
                "usage: reactor_placement [SAMPLES]   (SAMPLES: a positive number, default 1000)"
            );
            std::process::exit(2);
        }),
    };
    let per_round = samples.div_ceil(ROUNDS).max(1);
    for line in SystemInfo::collect().lines() {
        println!("{line}");
    }
    println!(
        "{WORKERS} workers; {per_round} samples per configuration and round, {ROUNDS} rounds\n"
    );
    let mut trips = vec![Vec::new(); Config::ALL.len()];
    let mut late = vec![Vec::new(); Config::ALL.len()];
    for round in 1..=ROUNDS {
        for (i, config) in Config::ALL.into_iter().enumerate() {
            eprintln!("round {round}/{ROUNDS}: {}", config.name());
            let (t, l) = measure(config, per_round);
            trips[i].extend(t);
            late[i].extend(l);
        }
    }
    println!(
        "{:<34} {:>22} {:>22}",
        "", "udp round trip p50/p99", "timer lateness p50/p99"
    );
    for (i, config) in Config::ALL.into_iter().enumerate() {
        let t = sorted(&nanos(&trips[i]));
        let l = sorted(&nanos(&late[i]));
        println!(
            "{:<34} {:>22} {:>22}",
            config.name(),
            format!("{} / {}", micros(&t, 50.0), micros(&t, 99.0)),
            format!("{} / {}", micros(&l, 50.0), micros(&l, 99.0)),
        );
    }
}

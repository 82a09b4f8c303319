//! `--soak SECS`: an echo server under churning clients, for as long as
//! asked, on one smp_rt runtime; then the totals, and a check that nothing
//! was lost or left behind.
//!
//! Clients connect, send a few messages and read each echo, each exchange
//! under a timeout. Some hang up in the middle (dropping the connection
//! with an echo unread), some are aborted from outside while they run, some
//! connections are abandoned without reading at all. The server reads with
//! a timeout and closes idle connections. Counted:
//!
//! * messages sent and echoed on connections that ran to their end: every
//!   one must come back (a message lost is a failure);
//! * the file descriptors and threads of the process before the runtime
//!   was built and after it was dropped: they must match.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use smp_rt::io::{AsyncReadExt, AsyncWriteExt};
use smp_rt::net::{TcpListener, TcpStream};
use smp_rt::runtime::Builder;
use smp_rt::time::{sleep, timeout};

/// Clients running at once.
const CLIENTS: usize = 64;
/// Bytes per message.
const MESSAGE: usize = 64;
/// How long one exchange (a send and its echo) may take.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long the server waits for a client's next message.
const IDLE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the soak counted.
#[derive(Default)]
struct Counts {
    connections: AtomicU64,
    sent: AtomicU64,
    echoed: AtomicU64,
    /// Messages sent on connections hung up before their echo on purpose.
    abandoned: AtomicU64,
    /// Client tasks aborted from outside.
    aborted: AtomicU64,
    /// Messages whose echo did not come back on a connection that ran to
    /// its end.
    lost: AtomicU64,
    errors: AtomicU64,
}

/// A small pseudo-random number generator (xorshift), seeded per client.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |dir| dir.count())
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").map_or(0, |dir| dir.count())
}

/// Runs the soak for `seconds` on `workers` workers, prints the totals, and
/// says what went wrong, if anything.
pub fn run(seconds: u64, workers: usize) -> Result<(), String> {
    let fds_before = descriptors();
    let threads_before = threads();
    let counts = Arc::new(Counts::default());
    let started = Instant::now();
    let rt = Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("soak-worker")
        .build()
        .map_err(|err| format!("the runtime: {err}"))?;
    let until = started + Duration::from_secs(seconds);
    let totals = counts.clone();
    rt.block_on(async move {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|err| format!("bind: {err}"))?;
        let addr = listener.local_addr().map_err(|err| err.to_string())?;
        let server = smp_rt::spawn(serve(listener));
        let mut clients = Vec::new();
        for id in 0..CLIENTS {
            let counts = totals.clone();
            clients.push(smp_rt::spawn(async move {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (id as u64 + 1));
                while Instant::now() < until {
                    client(addr, &mut rng, &counts).await;
                }
            }));
        }
        // Aborts from outside: a client task per round, replaced at once.
        let mut rng = Rng(42);
        while Instant::now() < until {
            sleep(Duration::from_millis(50)).await;
            let victim = (rng.next() % CLIENTS as u64) as usize;
            clients[victim].abort();
            totals.aborted.fetch_add(1, Relaxed);
            let counts = totals.clone();
            let mut rng = Rng(rng.next() | 1);
            clients[victim] = smp_rt::spawn(async move {
                while Instant::now() < until {
                    client(addr, &mut rng, &counts).await;
                }
            });
        }
        for client in clients {
            let _ = client.await;
        }
        server.abort();
        let _ = server.await;
        Ok::<(), String>(())
    })?;
    drop(rt);
    let elapsed = started.elapsed();
    let fds_after = descriptors();
    let threads_after = threads();
    let load = |n: &AtomicU64| n.load(Relaxed);
    println!(
        "soak: {:.1} s on {workers} workers: {} connections, {} messages sent, {} echoed, \
         {} abandoned by hang-ups, {} client tasks aborted, {} lost, {} errors; \
         fds {fds_before} -> {fds_after}, threads {threads_before} -> {threads_after}",
        elapsed.as_secs_f64(),
        load(&counts.connections),
        load(&counts.sent),
        load(&counts.echoed),
        load(&counts.abandoned),
        load(&counts.aborted),
        load(&counts.lost),
        load(&counts.errors),
    );
    let mut problems = Vec::new();
    if load(&counts.lost) > 0 {
        problems.push(format!("{} messages lost", load(&counts.lost)));
    }
    if load(&counts.echoed) == 0 {
        problems.push("no message was echoed".to_owned());
    }
    if fds_after > fds_before {
        problems.push(format!("descriptors leaked: {fds_before} -> {fds_after}"));
    }
    if threads_after > threads_before {
        problems.push(format!("threads left: {threads_before} -> {threads_after}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("soak failed: {}", problems.join("; ")))
    }
}

/// The echo server: a task per connection, closed when idle.
async fn serve(listener: TcpListener) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        smp_rt::spawn(async move {
            let mut buf = [0u8; 4096];
            while let Ok(Ok(n)) = timeout(IDLE_TIMEOUT, stream.read(&mut buf)).await {
                if n == 0 || stream.write_all(&buf[..n]).await.is_err() {
                    break;
                }
            }
        });
    }
}

/// One client connection: a few exchanges, or a hang-up in the middle.
async fn client(addr: std::net::SocketAddr, rng: &mut Rng, counts: &Counts) {
    let mut stream = match timeout(EXCHANGE_TIMEOUT, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => stream,
        _ => {
            counts.errors.fetch_add(1, Relaxed);
            return;
        }
    };
    counts.connections.fetch_add(1, Relaxed);
    let exchanges = 1 + rng.next() % 8;
    // One connection in eight hangs up after its last send, echo unread.
    let hang_up = rng.next() % 8 == 0;
    let mut message = [0u8; MESSAGE];
    let mut echo = [0u8; MESSAGE];
    for i in 0..exchanges {
        message.fill((rng.next() & 0xff) as u8);
        if stream.write_all(&message).await.is_err() {
            counts.errors.fetch_add(1, Relaxed);
            return;
        }
        counts.sent.fetch_add(1, Relaxed);
        if hang_up && i + 1 == exchanges {
            counts.abandoned.fetch_add(1, Relaxed);
            return;
        }
        match timeout(EXCHANGE_TIMEOUT, stream.read_exact(&mut echo)).await {
            Ok(Ok(_)) if echo == message => {
                counts.echoed.fetch_add(1, Relaxed);
            }
            _ => {
                counts.lost.fetch_add(1, Relaxed);
                return;
            }
        }
    }
}

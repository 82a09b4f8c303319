//! IO is served while every worker is busy: the busy workers poll the
//! driver every so often (every 61 scheduler ticks), so a task waiting on a
//! socket is woken even though no worker ever parks in the reactor.

use std::io::{Read, Write};
use std::net::Shutdown;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use smp_rt::io::{AsyncReadExt, AsyncWriteExt};
use smp_rt::net::TcpListener;
use smp_rt::runtime::Builder;
use smp_rt::task;

const WORKERS: usize = 2;

#[test]
fn echo_completes_while_every_worker_runs_a_cpu_bound_task() {
    let rt = Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .unwrap();
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();

    let server = rt.spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        stream.read_to_end(&mut request).await.unwrap();
        stream.write_all(&request).await.unwrap();
    });

    // One CPU-bound task per worker. They only charge reductions, so each
    // is preempted at the end of every slice but never waits for anything.
    let stop = Arc::new(AtomicBool::new(false));
    let running = Arc::new(AtomicUsize::new(0));
    let busy: Vec<_> = (0..WORKERS)
        .map(|_| {
            let stop = stop.clone();
            let running = running.clone();
            rt.spawn(async move {
                running.fetch_add(1, Ordering::SeqCst);
                while !stop.load(Ordering::Relaxed) {
                    task::consume_budget().await;
                }
                task::stats().preemptions
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    while running.load(Ordering::SeqCst) < WORKERS {
        assert!(Instant::now() < deadline, "the busy tasks never started");
        thread::sleep(Duration::from_millis(1));
    }

    // A plain thread is the client; its read times out instead of hanging.
    let mut client = std::net::TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    client.write_all(b"served while saturated").unwrap();
    client.shutdown(Shutdown::Write).unwrap();
    let mut echoed = Vec::new();
    let result = client.read_to_end(&mut echoed);
    stop.store(true, Ordering::SeqCst);
    result.expect("the echo never came back while the workers were busy");
    assert_eq!(echoed, b"served while saturated");

    rt.block_on(async {
        server.await.unwrap();
        for task in busy {
            // Each busy task really ran long enough to be preempted.
            assert!(task.await.unwrap() > 0);
        }
    });
}

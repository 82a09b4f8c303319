//! Running out of descriptors: `accept` returns the error, and a loop that
//! logs it and goes on does not spin: the next `accept` waits a back-off.
//!
//! This file holds a single test: it uses up the process's descriptors,
//! which would break any test running beside it.

use std::fs::File;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use smp_rt::net::TcpListener;
use smp_rt::runtime::Builder;

const EMFILE: i32 = 24;

/// Opens descriptors until the process has none left; `None` if the limit
/// is too high to reach quickly.
fn use_up_descriptors() -> Option<Vec<File>> {
    let mut hog = vec![File::open("/dev/null").unwrap()];
    loop {
        match hog[0].try_clone() {
            Ok(f) => hog.push(f),
            Err(err) if err.raw_os_error() == Some(EMFILE) => return Some(hog),
            Err(err) => panic!("unexpected error while using up descriptors: {err}"),
        }
        if hog.len() > 1 << 20 {
            return None;
        }
    }
}

#[test]
fn accept_backs_off_after_running_out_of_descriptors() {
    let (done_tx, done_rx) = mpsc::channel();
    let thread = thread::spawn(move || {
        let rt = Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            // A connection waits in the backlog; accepting it needs a new
            // descriptor.
            let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();

            let Some(hog) = use_up_descriptors() else {
                eprintln!("skipped: the descriptor limit is too high to reach");
                return;
            };
            const ERRORS: u32 = 5;
            let mut failures = Vec::new();
            while failures.len() < ERRORS as usize {
                // The usual server loop: log the error and accept again.
                match listener.accept().await {
                    Ok(_) => panic!("accepted a connection with no descriptor left"),
                    Err(err) => {
                        assert_eq!(err.raw_os_error(), Some(EMFILE), "{err}");
                        failures.push(Instant::now());
                    }
                }
            }
            drop(hog);

            // Each retry waited for the back-off (50 ms) instead of failing
            // again at once; the first gap may be shorter by the time
            // between the first failure and its timestamp.
            let spent = failures[failures.len() - 1] - failures[0];
            assert!(
                spent >= Duration::from_millis(50) * (ERRORS - 2),
                "{ERRORS} failed accepts took only {spent:?}: the accept loop spins"
            );

            // With descriptors free again, the waiting connection is accepted.
            let (_stream, peer) = listener.accept().await.unwrap();
            assert_eq!(peer, client.local_addr().unwrap());
        });
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(()) => thread.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(panic) = thread.join() {
                std::panic::resume_unwind(panic);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the test did not finish within 30 s"),
    }
}

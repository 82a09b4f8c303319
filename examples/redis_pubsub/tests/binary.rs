//! The `redis_pubsub` program as the head-to-head runner starts it: on a
//! free port with a worker count, stopped by SIGINT.
#![cfg(unix)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long the program may take to exit; a guard against a hang, not a
/// measurement.
const EXIT_LIMIT: Duration = Duration::from_secs(30);

fn start(args: &[&str]) -> (Child, BufReader<std::process::ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_redis_pubsub"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdout)
}

fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + EXIT_LIMIT;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("redis_pubsub still running {EXIT_LIMIT:?} after it was told to stop");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn serves_on_the_workers_asked_for_and_stops_on_sigint() {
    let (mut child, mut stdout) = start(&["127.0.0.1:0", "--workers", "1"]);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let rest = line
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("first line {line:?}"));
    let (addr, rest) = rest.split_once("; ").unwrap();
    assert_eq!(rest.trim_end(), "1 workers; ctrl-c stops");

    let mut client = TcpStream::connect(addr).unwrap();
    client.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut reply = [0; 7];
    client.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+PONG\r\n");

    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    // The idle client is closed and the program exits cleanly.
    let mut rest = Vec::new();
    let _ = client.read_to_end(&mut rest);
    assert!(rest.is_empty(), "sent {rest:?} before closing");
    let status = wait(&mut child);
    assert!(status.success(), "exited with {status}");
    let mut output = String::new();
    stdout.read_to_string(&mut output).unwrap();
    assert_eq!(output, "shut down\n");
}

#[test]
fn bad_arguments_exit_with_a_usage_message() {
    let (mut child, _stdout) = start(&["--workers", "0"]);
    let status = wait(&mut child);
    assert_eq!(status.code(), Some(2));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(stderr.contains("at least 1"), "{stderr}");
    assert!(stderr.contains("usage: redis_pubsub"), "{stderr}");
}

//! `smp_rt::process::Command` and `Child`: piped standard streams, exit
//! statuses, kill, kill_on_drop, reaping of dropped children, the
//! environment and working directory.

use std::future::poll_fn;
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::pin::Pin;
use std::process::Stdio;
use std::time::Duration;

use smp_rt::io::{AsyncRead, AsyncWrite, ReadBuf};
use smp_rt::process::Command;

mod common;

use common::preemptions_of;

async fn read_some<R: AsyncRead + Unpin>(reader: &mut R, max: usize) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; max];
    let mut buf = ReadBuf::new(&mut bytes);
    poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut buf)).await?;
    let n = buf.filled().len();
    bytes.truncate(n);
    Ok(bytes)
}

async fn read_to_end<R: AsyncRead + Unpin>(reader: &mut R) -> std::io::Result<Vec<u8>> {
    let mut all = Vec::new();
    loop {
        let chunk = read_some(reader, 4096).await?;
        if chunk.is_empty() {
            return Ok(all);
        }
        all.extend_from_slice(&chunk);
    }
}

async fn write_all<W: AsyncWrite + Unpin>(writer: &mut W, mut bytes: &[u8]) -> std::io::Result<()> {
    while !bytes.is_empty() {
        let n = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, bytes)).await?;
        bytes = &bytes[n..];
    }
    Ok(())
}

fn sh(script: &str) -> Command {
    let mut command = Command::new("sh");
    command.arg("-c").arg(script);
    command
}

#[smp_rt::test]
async fn output_collects_stdout_stderr_and_status() {
    let output = Command::new("echo").arg("hello").output().await.unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, b"hello\n");
    assert!(output.stderr.is_empty());

    let output = sh("echo out; echo err >&2; exit 3").output().await.unwrap();
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(output.stdout, b"out\n");
    assert_eq!(output.stderr, b"err\n");
}

#[smp_rt::test]
async fn status_returns_exit_codes_and_closes_pipes() {
    assert_eq!(sh("exit 0").status().await.unwrap().code(), Some(0));
    assert_eq!(sh("exit 7").status().await.unwrap().code(), Some(7));
    // `status` drops this side of a piped stdin: cat reads end-of-file.
    let status = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(status.success());
}

#[smp_rt::test]
async fn a_missing_program_is_not_found() {
    let err = Command::new("/nonexistent/smp_rt-no-such-program")
        .spawn()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = Command::new("smp_rt-no-such-program-on-path")
        .status()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
}

#[test]
#[should_panic(expected = "no smp_rt runtime")]
fn spawning_outside_a_runtime_says_what_to_do() {
    let _ = Command::new("true").spawn();
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn cat_echoes_a_large_input_through_the_pipes() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let mut stdin = child.stdin.take().unwrap();
    let input = data.clone();
    // More than a pipe holds: the write waits for cat to read, and cat
    // waits for this task to read its output.
    let writer = smp_rt::spawn(async move {
        write_all(&mut stdin, &input).await.unwrap();
        // Dropping stdin ends cat's input.
    });
    let mut stdout = child.stdout.take().unwrap();
    let echoed = read_to_end(&mut stdout).await.unwrap();
    writer.await.unwrap();
    assert_eq!(echoed.len(), data.len());
    assert!(echoed == data);
    assert!(child.wait().await.unwrap().success());
}

#[smp_rt::test]
async fn wait_closes_stdin_and_wait_with_output_reads_both_streams() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    write_all(child.stdin.as_mut().unwrap(), b"ignored")
        .await
        .unwrap();
    // cat would read forever if `wait` did not close its input.
    assert!(child.wait().await.unwrap().success());
    assert!(child.stdin.is_none());

    let mut child = sh("read line; echo \"got $line\"; echo done >&2")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    write_all(child.stdin.as_mut().unwrap(), b"this\n")
        .await
        .unwrap();
    let output = child.wait_with_output().await.unwrap();
    assert!(output.status.success());
    assert_eq!(output.stdout, b"got this\n");
    assert_eq!(output.stderr, b"done\n");
}

#[smp_rt::test]
async fn env_and_current_dir() {
    let output = sh("echo \"$SMP_RT_A,$SMP_RT_B,$HOME\"")
        .env("SMP_RT_A", "one")
        .envs([("SMP_RT_B", "two")])
        .env("HOME", "/home/someone")
        .env_remove("HOME")
        .output()
        .await
        .unwrap();
    assert_eq!(output.stdout, b"one,two,\n");

    let output = Command::new("/usr/bin/env")
        .env_clear()
        .env("ONLY", "this")
        .output()
        .await
        .unwrap();
    assert_eq!(output.stdout, b"ONLY=this\n");

    let dir = std::fs::canonicalize(std::env::temp_dir()).unwrap();
    let output = sh("pwd -P").current_dir(&dir).output().await.unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap().trim_end(),
        dir.to_str().unwrap()
    );
}

#[smp_rt::test]
async fn kill_try_wait_and_id() {
    let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    let pid = child.id().unwrap();
    assert!(pid > 0);
    assert!(child.try_wait().unwrap().is_none());
    child.kill().await.unwrap();
    let status = child.wait().await.unwrap();
    assert_eq!(status.signal(), Some(9));
    assert!(!status.success());
    // Reaped: no id any more, the same status every time.
    assert_eq!(child.id(), None);
    assert_eq!(child.try_wait().unwrap(), Some(status));
    child.start_kill().unwrap();
    assert_eq!(child.wait().await.unwrap(), status);
}

#[smp_rt::test]
async fn try_wait_reaps_an_exited_child() {
    let mut child = sh("exit 4").stdout(Stdio::piped()).spawn().unwrap();
    // The end of its output: the child has exited (or is exiting).
    let mut stdout = child.stdout.take().unwrap();
    assert!(read_to_end(&mut stdout).await.unwrap().is_empty());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        smp_rt::task::yield_now().await;
    };
    assert_eq!(status.code(), Some(4));
    assert_eq!(child.id(), None);
}

#[smp_rt::test]
async fn a_cancelled_wait_loses_nothing() {
    let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    // The child sleeps far longer than this: the wait is cancelled.
    let waited = smp_rt::time::timeout(Duration::from_millis(20), child.wait()).await;
    assert!(waited.is_err());
    assert!(child.id().is_some());
    child.start_kill().unwrap();
    assert_eq!(child.wait().await.unwrap().signal(), Some(9));
}

#[smp_rt::test]
async fn kill_on_drop_kills_the_child() {
    let mut child = Command::new("sleep")
        .arg("1000")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    drop(child);
    // Only the death of `sleep` closes the pipe's writing end.
    assert!(read_to_end(&mut stdout).await.unwrap().is_empty());
}

/// The state letter of process `pid` in /proc, `None` once it is gone.
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.trim_start().chars().next()
}

#[smp_rt::test]
async fn a_dropped_child_is_reaped_when_it_exits() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let stdin = child.stdin.take().unwrap();
    drop(child);
    // Still running: it was not killed.
    assert_ne!(proc_state(pid), None);
    assert_ne!(proc_state(pid), Some('Z'));
    // Now it exits; the reaper must collect it, not leave a zombie.
    drop(stdin);
    let mut waited = 0;
    while proc_state(pid).is_some() {
        assert!(waited < 3000, "child {pid} left as {:?}", proc_state(pid));
        smp_rt::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
}

#[smp_rt::test]
async fn one_childs_output_is_anothers_input() {
    let mut first = Command::new("echo")
        .arg("piped along")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout: Stdio = first.stdout.take().unwrap().try_into().unwrap();
    let output = Command::new("cat").stdin(stdout).output().await.unwrap();
    assert_eq!(output.stdout, b"piped along\n");
    assert!(first.wait().await.unwrap().success());
}

#[smp_rt::test]
async fn futures_io_traits_on_the_pipes() {
    use futures::io::{AsyncReadExt, AsyncWriteExt};
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"via futures").await.unwrap();
    drop(stdin);
    let mut out = String::new();
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    assert_eq!(out, "via futures");
    assert!(child.wait().await.unwrap().success());
}

#[test]
fn pipe_reads_charge_reductions() {
    let preemptions = preemptions_of(|| async {
        let mut child = sh("head -c 3000 /dev/zero")
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        // All 3000 bytes are then in the pipe: no read waits, so only the
        // reductions each poll charges can end the slice.
        assert!(child.wait().await.unwrap().success());
        let mut total = 0;
        loop {
            let chunk = read_some(&mut stdout, 1).await.unwrap();
            if chunk.is_empty() {
                break;
            }
            total += chunk.len();
        }
        assert_eq!(total, 3000);
    });
    assert!(preemptions > 0);
}

/// tokio's traits, with the `tokio-io` feature (on for this crate's tests).
#[smp_rt::test]
async fn tokios_traits_on_the_pipes() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"via tokio").await.unwrap();
    drop(stdin);
    let mut out = Vec::new();
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_to_end(&mut out)
        .await
        .unwrap();
    assert_eq!(out, b"via tokio");
    assert!(child.wait().await.unwrap().success());
}

#[smp_rt::test]
async fn child_stdin_writes_vectored() {
    let mut child = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    assert!(stdin.is_write_vectored());
    let bufs = [
        std::io::IoSlice::new(b"one "),
        std::io::IoSlice::new(b""),
        std::io::IoSlice::new(b"two"),
    ];
    // One `writev` into an empty pipe takes all 7 bytes at once.
    let n = poll_fn(|cx| Pin::new(&mut stdin).poll_write_vectored(cx, &bufs))
        .await
        .unwrap();
    assert_eq!(n, 7);
    drop(stdin);
    let mut stdout = child.stdout.take().unwrap();
    assert_eq!(read_to_end(&mut stdout).await.unwrap(), b"one two");
    assert!(child.wait().await.unwrap().success());
}

#[test]
#[should_panic(expected = "runtime")]
fn child_pipes_from_std_outside_a_runtime_panic_as_tokios() {
    let mut child = std::process::Command::new("cat")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let stdin = child.stdin.take().unwrap();
    // Reaped whatever happens below: the panic unwinds through this guard.
    struct Reap(std::process::Child);
    impl Drop for Reap {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let _reap = Reap(child);
    let _ = smp_rt::process::ChildStdin::from_std(stdin);
}

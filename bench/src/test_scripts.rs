//! Shell scripts that stand in for the servers the runner starts, in the
//! unit tests of `stacks` and `redis`.

use std::path::PathBuf;
use std::process::Command;

/// An executable shell script `name` (in a directory of this test process)
/// running `body`.
///
/// A child shell writes it, not this process: a file this multi-threaded
/// process had open for writing could still be open in a child that
/// another test forked at that moment, and executing it would then fail
/// with `ETXTBSY` ("Text file busy").
pub(crate) fn script(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("smp_rt_bench-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let status = Command::new("/bin/sh")
        .arg("-c")
        .arg(r#"printf '#!/bin/sh\n%s\n' "$1" > "$2" && chmod 755 "$2""#)
        .arg("sh")
        .arg(body)
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "writing the test script {path:?} failed");
    path
}

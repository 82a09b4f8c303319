//! A TCP echo server.
//!
//! ```sh
//! cargo run --release --example echo -- 127.0.0.1:7000
//! # elsewhere: nc 127.0.0.1 7000
//! ```
//!
//! Each connection is a task; a slow or busy client cannot hold a worker,
//! because every read and write charges a reduction.

use smp_rt::io::{AsyncReadExt, AsyncWriteExt};
use smp_rt::net::TcpListener;

#[smp_rt::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7000".to_string());
    let listener = TcpListener::bind(&addr).await?;
    println!("echo server listening on {}", listener.local_addr()?);
    loop {
        let (mut stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                // E.g. out of file descriptors: the listener backs off, so
                // this loop does not spin.
                eprintln!("accept failed: {err}");
                continue;
            }
        };
        smp_rt::spawn(async move {
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match stream.read(&mut buf).await {
                    Ok(0) => break,
                    Ok(n) => {
                        if let Err(err) = stream.write_all(&buf[..n]).await {
                            eprintln!("{peer}: write failed: {err}");
                            break;
                        }
                    }
                    Err(err) => {
                        eprintln!("{peer}: read failed: {err}");
                        break;
                    }
                }
            }
        });
    }
}

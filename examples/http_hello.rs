//! A hyper 1.x HTTP/1.1 server answering `Hello, World!`.
//!
//! ```sh
//! cargo run --release --example http_hello -- 127.0.0.1:8080
//! wrk -t1 -c64 -d5s http://127.0.0.1:8080/
//! ```
//!
//! hyper runs on smp_rt unchanged: the connection is an `smp_rt::net`
//! stream wrapped in hyper-util's `TokioIo` (cargo feature `tokio-io`), and
//! hyper's `Executor` is not needed for HTTP/1.

use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use smp_rt::net::TcpListener;

async fn hello(_: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(
        b"Hello, World!",
    ))))
}

#[smp_rt::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_string());
    let listener = TcpListener::bind(&addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(err) => {
                eprintln!("accept failed: {err}");
                continue;
            }
        };
        stream.set_nodelay(true)?;
        smp_rt::spawn(async move {
            let served = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service_fn(hello))
                .await;
            if let Err(err) = served {
                eprintln!("connection error: {err}");
            }
        });
    }
}

//! hyper + hyper-util on the tokio facade: a server (hyper-util's `auto`
//! connection builder with `TokioExecutor`, `TokioIo` and `TokioTimer`)
//! and hyper-util's legacy client (its `HttpConnector`), talking to each
//! other. Checks that the server ran on smp_rt's workers.

use std::convert::Infallible;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;

async fn hello(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let body = request.into_body().collect().await.unwrap().to_bytes();
    // The handler runs on an smp_rt task: smp_rt's own API sees it.
    let priority = smp_rt::task::current_priority();
    let reply = format!("hello {} at {priority:?}", String::from_utf8_lossy(&body));
    Ok(Response::new(Full::new(Bytes::from(reply))))
}

#[tokio::main]
async fn main() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut builder = auto::Builder::new(TokioExecutor::new());
                builder.http1().timer(TokioTimer::new());
                builder
                    .serve_connection(TokioIo::new(stream), hyper::service::service_fn(hello))
                    .await
                    .unwrap();
            });
        }
    });

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new())
        .timer(TokioTimer::new())
        .build_http();
    for n in 0..3 {
        let request = Request::post(format!("http://{addr}/"))
            .body(Full::new(Bytes::from(format!("client {n}"))))
            .unwrap();
        let response = client.request(request).await.unwrap();
        assert!(response.status().is_success());
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        assert_eq!(text, format!("hello client {n} at Normal"));
        println!("hyper: {text}");
    }
    println!("hyper: ok");
}

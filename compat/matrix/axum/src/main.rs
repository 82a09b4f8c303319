//! axum on the tokio facade: `axum::serve` with graceful shutdown, a
//! router with shared state, tower-http's `TimeoutLayer`, and a handler
//! that hands its background work to smp_rt at `Priority::Low` while the
//! request itself is served at `Normal` (smp_rt's API, same runtime).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use smp_rt::task::Priority;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tower_http::timeout::TimeoutLayer;

#[derive(Clone)]
struct AppState {
    hits: Arc<AtomicUsize>,
    background: mpsc::UnboundedSender<(Priority, Priority)>,
}

async fn hit(State(state): State<AppState>) -> String {
    let n = state.hits.fetch_add(1, Ordering::Relaxed) + 1;
    let served_at = smp_rt::task::current_priority();
    let report = state.background.clone();
    // Bookkeeping that must not delay requests: at `Low`.
    smp_rt::task::spawn_with_priority(Priority::Low, async move {
        let _ = report.send((served_at, smp_rt::task::current_priority()));
    });
    format!("hit {n}")
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "too late"
}

/// Sends one HTTP/1.1 request and returns the status line and the body.
async fn get_once(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: matrix\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    (status, body)
}

#[tokio::main]
async fn main() {
    let (background, mut reports) = mpsc::unbounded_channel();
    let state = AppState {
        hits: Arc::new(AtomicUsize::new(0)),
        background,
    };
    let app = Router::new()
        .route("/hit", get(hit))
        .route("/slow", get(slow))
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_millis(50),
        ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopped.await;
            })
            .await
    });

    for n in 1..=3 {
        let (status, body) = get_once(addr, "/hit").await;
        assert!(status.contains("200"), "{status}");
        assert_eq!(body, format!("hit {n}"));
        let (served_at, background_at) = reports.recv().await.unwrap();
        assert_eq!(
            (served_at, background_at),
            (Priority::Normal, Priority::Low)
        );
        println!("axum: {body}, served at {served_at:?}, background at {background_at:?}");
    }
    let (status, _) = get_once(addr, "/slow").await;
    assert!(status.contains("408"), "{status}");
    println!("axum: tower-http's timeout answered {status}");

    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    println!("axum: graceful shutdown done");
    println!("axum: ok");
}

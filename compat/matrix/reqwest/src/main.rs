//! reqwest on the tokio facade: a GET and a JSON POST against a local
//! axum server, with a client timeout that fires.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::routing::{get, post};
use serde_json::{Value, json};

async fn echo(Json(body): Json<Value>) -> Json<Value> {
    Json(json!({ "echo": body }))
}

#[tokio::main]
async fn main() {
    let app = Router::new()
        .route("/hello", get(|| async { "hello from the facade" }))
        .route("/echo", post(echo))
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let client = reqwest::Client::new();
    let text = client
        .get(format!("http://{addr}/hello"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "hello from the facade");
    println!("reqwest GET: {text}");

    let reply: Value = client
        .post(format!("http://{addr}/echo"))
        .json(&json!({ "n": 7 }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(reply, json!({ "echo": { "n": 7 } }));
    println!("reqwest POST: {reply}");

    let late = client
        .get(format!("http://{addr}/slow"))
        .timeout(Duration::from_millis(50))
        .send()
        .await;
    assert!(late.unwrap_err().is_timeout());
    println!("reqwest timeout: fired");
    println!("reqwest: ok");
}

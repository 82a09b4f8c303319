//! tokio-stream on the tokio facade: `TcpListenerStream`,
//! `ReceiverStream`, `BroadcastStream`, `IntervalStream` and `timeout`.

use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::StreamExt;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream, ReceiverStream, TcpListenerStream};

#[tokio::main]
async fn main() {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        for n in 0..5 {
            tx.send(n).await.unwrap();
        }
    });
    let doubled: Vec<i32> = ReceiverStream::new(rx).map(|n| n * 2).collect().await;
    assert_eq!(doubled, [0, 2, 4, 6, 8]);
    println!("tokio-stream ReceiverStream: {doubled:?}");

    let (tx, rx) = broadcast::channel(8);
    let mut stream = BroadcastStream::new(rx);
    tx.send("a").unwrap();
    tx.send("b").unwrap();
    drop(tx);
    let mut got = Vec::new();
    while let Some(item) = stream.next().await {
        got.push(item.unwrap());
    }
    assert_eq!(got, ["a", "b"]);
    println!("tokio-stream BroadcastStream: {got:?}");

    let ticks = IntervalStream::new(tokio::time::interval(Duration::from_millis(5)))
        .take(3)
        .collect::<Vec<_>>()
        .await;
    assert_eq!(ticks.len(), 3);
    assert!(ticks[0] < ticks[2]);
    println!("tokio-stream IntervalStream: 3 ticks");

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut incoming = TcpListenerStream::new(listener);
    let client = tokio::spawn(async move {
        for _ in 0..2 {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(b"hi").await.unwrap();
        }
    });
    let mut accepted = 0;
    while accepted < 2 {
        incoming.next().await.unwrap().unwrap();
        accepted += 1;
    }
    client.await.unwrap();
    println!("tokio-stream TcpListenerStream: {accepted} connections");

    let pending = tokio_stream::pending::<()>().timeout(Duration::from_millis(5));
    tokio::pin!(pending);
    assert!(pending.next().await.unwrap().is_err());
    println!("tokio-stream timeout: elapsed");
    println!("tokio-stream: ok");
}

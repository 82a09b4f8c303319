//! tokio-util on the tokio facade: a line protocol through `Framed` with
//! `LinesCodec` over TCP, a `CancellationToken` stopping a server, and a
//! `PollSemaphore` limiting work.

use std::future::poll_fn;
use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::codec::{Framed, LinesCodec};
use tokio_util::sync::{CancellationToken, PollSemaphore};

#[tokio::main]
async fn main() {
    let token = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_token = token.clone();
    let server = tokio::spawn(async move {
        let mut served = 0;
        loop {
            tokio::select! {
                _ = server_token.cancelled() => return served,
                accepted = listener.accept() => {
                    let (stream, _) = accepted.unwrap();
                    let mut lines = Framed::new(stream, LinesCodec::new());
                    while let Some(line) = lines.next().await {
                        let line = line.unwrap();
                        lines.send(line.to_uppercase()).await.unwrap();
                    }
                    served += 1;
                }
            }
        }
    });

    let mut client = Framed::new(TcpStream::connect(addr).await.unwrap(), LinesCodec::new());
    for word in ["codec", "over", "tcp"] {
        client.send(word).await.unwrap();
        let echoed = client.next().await.unwrap().unwrap();
        assert_eq!(echoed, word.to_uppercase());
        println!("tokio-util codec: {word} -> {echoed}");
    }
    drop(client);
    // Let the server see the end of the connection, then cancel it.
    tokio::task::yield_now().await;
    token.cancel();
    let served = server.await.unwrap();
    println!("tokio-util CancellationToken: the server stopped after {served} connection(s)");

    let mut semaphore = PollSemaphore::new(Arc::new(Semaphore::new(2)));
    let first = poll_fn(|cx| semaphore.poll_acquire(cx)).await.unwrap();
    let second = poll_fn(|cx| semaphore.poll_acquire(cx)).await.unwrap();
    assert_eq!(semaphore.available_permits(), 0);
    drop(first);
    let third = poll_fn(|cx| semaphore.poll_acquire(cx)).await.unwrap();
    drop((second, third));
    assert_eq!(semaphore.available_permits(), 2);
    println!("tokio-util PollSemaphore: permits acquired by polling and returned");
    println!("tokio-util: ok");
}

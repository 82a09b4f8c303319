//! Graceful shutdown through `run`'s shutdown future, the one `main`
//! passes ctrl-c as.

#[cfg(feature = "on-smp_rt")]
extern crate smp_rt as tokio;

mod common;

use common::Client;
use redis_pubsub::Config;
use tokio::net::TcpStream;

#[tokio::test]
async fn shutdown_finishes_the_command_in_flight_and_closes_the_rest() {
    let mut server = common::start(Config::default()).await;
    let mut idle = Client::connect(server.addr).await;
    idle.call(&["PING"], "+PONG\r\n").await;
    let mut subscriber = Client::connect(server.addr).await;
    subscriber
        .call(
            &["SUBSCRIBE", "c"],
            "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n",
        )
        .await;
    // One write: once PONG is back, the server is reading the SET.
    let mut busy = Client::connect(server.addr).await;
    busy.send_raw(b"PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n")
        .await;
    busy.expect("+PONG\r\n").await;

    server.shutdown();
    idle.expect_closed().await;
    subscriber.expect_closed().await;
    assert!(
        !server.task.is_finished(),
        "run returned while a command was in flight"
    );

    busy.send_raw(b"$1\r\nv\r\n").await;
    busy.expect("+OK\r\n").await;
    busy.expect_closed().await;
    server.task.await.unwrap();
    TcpStream::connect(server.addr)
        .await
        .expect_err("the listener is closed once run returned");
}

#[tokio::test]
async fn shutdown_with_no_clients_returns_at_once() {
    let mut server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .call(&["SET", "k", "v", "EX", "100"], "+OK\r\n")
        .await;
    drop(client);
    server.shutdown();
    // The expiry task, asleep until the key's deadline, stops too.
    server.task.await.unwrap();
}

//! SUBSCRIBE, UNSUBSCRIBE and PUBLISH between clients.

#[cfg(feature = "on-smp_rt")]
extern crate smp_rt as tokio;

mod common;

use common::Client;
use redis_pubsub::Config;

#[tokio::test]
async fn published_messages_reach_every_subscriber() {
    let server = common::start(Config::default()).await;
    let mut alice = Client::connect(server.addr).await;
    let mut bob = Client::connect(server.addr).await;
    let mut publisher = Client::connect(server.addr).await;

    publisher
        .call(&["PUBLISH", "news", "nobody"], ":0\r\n")
        .await;
    alice
        .call(
            &["SUBSCRIBE", "news", "weather"],
            "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$7\r\nweather\r\n:2\r\n",
        )
        .await;
    bob.call(
        &["SUBSCRIBE", "news"],
        "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n",
    )
    .await;

    publisher
        .call(&["PUBLISH", "news", "hello"], ":2\r\n")
        .await;
    publisher
        .call(&["PUBLISH", "weather", "rain"], ":1\r\n")
        .await;
    alice
        .expect("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")
        .await;
    alice
        .expect("*3\r\n$7\r\nmessage\r\n$7\r\nweather\r\n$4\r\nrain\r\n")
        .await;
    bob.expect("*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")
        .await;
}

#[tokio::test]
async fn unsubscribing_stops_messages_and_restores_commands() {
    let server = common::start(Config::default()).await;
    let mut subscriber = Client::connect(server.addr).await;
    let mut publisher = Client::connect(server.addr).await;
    subscriber
        .call(
            &["SUBSCRIBE", "a", "b"],
            "*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n",
        )
        .await;
    // Subscribed: commands but (UN)SUBSCRIBE and PING are refused.
    subscriber
        .call(
            &["GET", "k"],
            "-ERR only SUBSCRIBE / UNSUBSCRIBE / PING are allowed in this context\r\n",
        )
        .await;
    subscriber
        .call(&["PING"], "*2\r\n$4\r\npong\r\n$0\r\n\r\n")
        .await;

    subscriber
        .call(
            &["UNSUBSCRIBE", "a"],
            "*3\r\n$11\r\nunsubscribe\r\n$1\r\na\r\n:1\r\n",
        )
        .await;
    publisher.call(&["PUBLISH", "a", "lost"], ":0\r\n").await;
    publisher.call(&["PUBLISH", "b", "kept"], ":1\r\n").await;
    subscriber
        .expect("*3\r\n$7\r\nmessage\r\n$1\r\nb\r\n$4\r\nkept\r\n")
        .await;

    subscriber
        .call(
            &["UNSUBSCRIBE"],
            "*3\r\n$11\r\nunsubscribe\r\n$1\r\nb\r\n:0\r\n",
        )
        .await;
    publisher.call(&["PUBLISH", "b", "lost"], ":0\r\n").await;
    subscriber.call(&["PING"], "+PONG\r\n").await;
    subscriber.call(&["SET", "k", "v"], "+OK\r\n").await;
    subscriber
        .call(
            &["UNSUBSCRIBE"],
            "*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n",
        )
        .await;
}

#[tokio::test]
async fn a_subscriber_that_leaves_is_no_longer_counted() {
    let server = common::start(Config::default()).await;
    let mut publisher = Client::connect(server.addr).await;
    let mut subscriber = Client::connect(server.addr).await;
    subscriber
        .call(
            &["SUBSCRIBE", "c"],
            "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n",
        )
        .await;
    publisher.call(&["PUBLISH", "c", "1"], ":1\r\n").await;
    subscriber
        .expect("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\n1\r\n")
        .await;
    drop(subscriber);
    // The server notices the hang-up in its own time; until then the
    // message goes to the departed subscriber.
    loop {
        publisher.send(&["PUBLISH", "c", "2"]).await;
        match publisher.read_line().await.as_str() {
            ":0\r\n" => break,
            ":1\r\n" => tokio::task::yield_now().await,
            other => panic!("unexpected reply {other:?}"),
        }
    }
}

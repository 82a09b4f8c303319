//! SET's EX and PX on the paused clock: keys vanish at their deadline,
//! and the expiry task drops them without anyone asking for them.
//!
//! A round trip to the server does not move the paused clock: the runtime
//! moves it only when every task waits and no IO is ready, and a reply is
//! ready as soon as the server has written it. So only `time::advance`
//! moves it here.

#[cfg(feature = "on-smp_rt")]
extern crate smp_rt as tokio;

mod common;

use std::time::Duration;

use common::Client;
use redis_pubsub::Config;
use tokio::time;

#[tokio::test(start_paused = true)]
async fn keys_expire_at_their_deadline() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .call(&["SET", "session", "abc", "EX", "10"], "+OK\r\n")
        .await;
    client
        .call(&["SET", "short", "y", "PX", "1500"], "+OK\r\n")
        .await;
    client.call(&["SET", "kept", "x"], "+OK\r\n").await;

    time::advance(Duration::from_millis(1499)).await;
    client.call(&["GET", "short"], "$1\r\ny\r\n").await;
    time::advance(Duration::from_millis(1)).await;
    // Dropped by the expiry task: nobody asked for it since.
    client.call(&["DBSIZE"], ":2\r\n").await;
    client.call(&["GET", "short"], "$-1\r\n").await;

    time::advance(Duration::from_millis(8499)).await;
    client.call(&["GET", "session"], "$3\r\nabc\r\n").await;
    time::advance(Duration::from_millis(1)).await;
    client.call(&["GET", "session"], "$-1\r\n").await;
    client.call(&["DBSIZE"], ":1\r\n").await;
    client.call(&["GET", "kept"], "$1\r\nx\r\n").await;
}

#[tokio::test(start_paused = true)]
async fn setting_a_key_again_replaces_its_deadline() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .call(&["SET", "later", "1", "EX", "5"], "+OK\r\n")
        .await;
    client
        .call(&["SET", "later", "2", "EX", "20"], "+OK\r\n")
        .await;
    client
        .call(&["SET", "never", "1", "EX", "5"], "+OK\r\n")
        .await;
    client.call(&["SET", "never", "2"], "+OK\r\n").await;
    // A deadline earlier than the one the expiry task sleeps towards.
    client
        .call(&["SET", "sooner", "1", "EX", "2"], "+OK\r\n")
        .await;

    time::advance(Duration::from_secs(2)).await;
    client.call(&["DBSIZE"], ":2\r\n").await;
    time::advance(Duration::from_secs(4)).await;
    client.call(&["GET", "later"], "$1\r\n2\r\n").await;
    client.call(&["GET", "never"], "$1\r\n2\r\n").await;
    time::advance(Duration::from_secs(14)).await;
    client.call(&["GET", "later"], "$-1\r\n").await;
    client.call(&["DBSIZE"], ":1\r\n").await;
    time::advance(Duration::from_secs(200)).await;
    client.call(&["GET", "never"], "$1\r\n2\r\n").await;
}

#[tokio::test(start_paused = true)]
async fn deleting_a_key_with_a_deadline() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client.call(&["SET", "k", "v", "EX", "5"], "+OK\r\n").await;
    client.call(&["DEL", "k"], ":1\r\n").await;
    client.call(&["SET", "k", "w"], "+OK\r\n").await;
    time::advance(Duration::from_secs(6)).await;
    client.call(&["GET", "k"], "$1\r\nw\r\n").await;
    // Expired but not dropped yet, or dropped: either way not counted.
    client
        .call(&["SET", "gone", "v", "PX", "10"], "+OK\r\n")
        .await;
    time::advance(Duration::from_millis(10)).await;
    client.call(&["DEL", "gone"], ":0\r\n").await;
}

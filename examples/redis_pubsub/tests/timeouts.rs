//! The read timeout, on the paused clock.

#[cfg(feature = "on-smp_rt")]
extern crate smp_rt as tokio;

mod common;

use std::time::Duration;

use common::Client;
use redis_pubsub::Config;
use tokio::time::{self, Instant};

const READ_TIMEOUT: Duration = Duration::from_secs(30);

fn config() -> Config {
    Config {
        read_timeout: Some(READ_TIMEOUT),
    }
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_disconnected_after_the_read_timeout() {
    let server = common::start(config()).await;
    let mut client = Client::connect(server.addr).await;
    client.call(&["PING"], "+PONG\r\n").await;
    time::advance(READ_TIMEOUT - Duration::from_millis(1)).await;
    // Silent for just under the timeout: still served, and the silence
    // counts from this command on.
    client.call(&["PING"], "+PONG\r\n").await;
    let silent_since = Instant::now();
    // With every task waiting and no IO ready, the paused clock moves to
    // the next timer: the server's read deadline.
    client.expect_closed().await;
    let silence = silent_since.elapsed();
    assert!(
        silence >= READ_TIMEOUT && silence < READ_TIMEOUT + Duration::from_secs(1),
        "disconnected after {silence:?} of silence, the timeout is {READ_TIMEOUT:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_client_stalled_in_the_middle_of_a_command_is_disconnected() {
    let server = common::start(config()).await;
    let mut client = Client::connect(server.addr).await;
    let started = Instant::now();
    client.send_raw(b"*2\r\n$3\r\nGET\r\n").await;
    client.expect_closed().await;
    assert!(started.elapsed() >= READ_TIMEOUT);
    // Other clients are not affected.
    let mut other = Client::connect(server.addr).await;
    other.call(&["PING"], "+PONG\r\n").await;
}

#[tokio::test(start_paused = true)]
async fn subscribers_are_never_timed_out() {
    let server = common::start(config()).await;
    let mut subscriber = Client::connect(server.addr).await;
    let mut idle = Client::connect(server.addr).await;
    idle.call(&["PING"], "+PONG\r\n").await;
    subscriber
        .call(
            &["SUBSCRIBE", "c"],
            "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n",
        )
        .await;
    time::advance(READ_TIMEOUT * 10).await;
    idle.expect_closed().await;
    let mut publisher = Client::connect(server.addr).await;
    publisher
        .call(&["PUBLISH", "c", "still here"], ":1\r\n")
        .await;
    subscriber
        .expect("*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$10\r\nstill here\r\n")
        .await;
}

//! GET, SET, DEL, DBSIZE and PING over TCP, and what bad input gets.

#[cfg(feature = "on-smp_rt")]
extern crate smp_rt as tokio;

mod common;

use common::Client;
use redis_pubsub::Config;

#[tokio::test]
async fn set_get_del() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client.call(&["PING"], "+PONG\r\n").await;
    client.call(&["ping", "hi"], "$2\r\nhi\r\n").await;
    client.call(&["GET", "greeting"], "$-1\r\n").await;
    client
        .call(&["SET", "greeting", "hello world"], "+OK\r\n")
        .await;
    client
        .call(&["GET", "greeting"], "$11\r\nhello world\r\n")
        .await;
    client.call(&["SET", "greeting", ""], "+OK\r\n").await;
    client.call(&["GET", "greeting"], "$0\r\n\r\n").await;
    client.call(&["SET", "other", "x"], "+OK\r\n").await;
    client.call(&["DBSIZE"], ":2\r\n").await;
    client
        .call(&["DEL", "greeting", "missing", "other"], ":2\r\n")
        .await;
    client.call(&["GET", "greeting"], "$-1\r\n").await;
    client.call(&["DBSIZE"], ":0\r\n").await;
}

#[tokio::test]
async fn clients_share_the_key_space() {
    let server = common::start(Config::default()).await;
    let mut first = Client::connect(server.addr).await;
    let mut second = Client::connect(server.addr).await;
    first.call(&["SET", "k", "from first"], "+OK\r\n").await;
    second.call(&["GET", "k"], "$10\r\nfrom first\r\n").await;
}

#[tokio::test]
async fn binary_values_and_pipelined_commands() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    // Two commands in one write; the value holds CRLF and a zero byte.
    client
        .send_raw(b"*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$4\r\n\r\n\0x\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n")
        .await;
    client.expect("+OK\r\n$4\r\n\r\n\0x\r\n").await;
}

#[tokio::test]
async fn inline_commands() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .send_raw(b"SET  city   Paris\r\nget city\n\r\nPING\r\n")
        .await;
    // The empty line is no command and gets no reply.
    client.expect("+OK\r\n$5\r\nParis\r\n+PONG\r\n").await;
}

#[tokio::test]
async fn command_errors_keep_the_connection() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client
        .call(&["FLUSHALL"], "-ERR unknown command 'flushall'\r\n")
        .await;
    client
        .call(
            &["GET"],
            "-ERR wrong number of arguments for 'get' command\r\n",
        )
        .await;
    client
        .call(
            &["SET", "k", "v", "EX", "-5"],
            "-ERR invalid expire time in 'set' command\r\n",
        )
        .await;
    client
        .call(
            &["SET", "k", "v", "EX", "9223372036854775807"],
            "-ERR invalid expire time in 'set' command\r\n",
        )
        .await;
    client
        .call(&["SET", "k", "v", "KEEPTTL"], "-ERR syntax error\r\n")
        .await;
    client.call(&["GET", "k"], "$-1\r\n").await;
}

#[tokio::test]
async fn a_protocol_error_is_answered_then_the_connection_closes() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client.send_raw(b"*1\r\n+GET\r\n").await;
    client
        .expect("-ERR Protocol error: expected '$', got '+'\r\n")
        .await;
    client.expect_closed().await;
    // The server goes on.
    let mut other = Client::connect(server.addr).await;
    other.call(&["PING"], "+PONG\r\n").await;
}

#[tokio::test]
async fn an_oversized_bulk_is_refused_before_it_is_read() {
    let server = common::start(Config::default()).await;
    let mut client = Client::connect(server.addr).await;
    client.send_raw(b"*2\r\n$3\r\nGET\r\n$1000000000\r\n").await;
    client
        .expect("-ERR Protocol error: invalid bulk length 1000000000 (at most 8388608)\r\n")
        .await;
    client.expect_closed().await;
}

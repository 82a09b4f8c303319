//! `tonic_load`: the load generator of `tonic_unary`, used from its real
//! tokio build (so that both servers face the same client).
//!
//! ```text
//! stacks_tokio_tonic_load ADDR CONNECTIONS IN_FLIGHT SECONDS
//! ```
//!
//! Opens CONNECTIONS HTTP/2 connections to the server at ADDR, then keeps
//! IN_FLIGHT `SayHello` calls outstanding (spread over the connections,
//! each call started when the previous one of its slot ends) for SECONDS
//! seconds, on one thread (like `wrk -t1`). Every completed call's latency
//! is recorded; a call that fails or gets another reply counts as an
//! error. It prints one line (`stacks::Measured::line`) and fails when no
//! call completed.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use stacks::Measured;
use stacks::greeter::{GreeterClient, HelloRequest, greeting};
use tonic::transport::{Channel, Endpoint};

const USAGE: &str = "usage: tonic_load ADDR CONNECTIONS IN_FLIGHT SECONDS";

struct Load {
    addr: SocketAddr,
    connections: usize,
    in_flight: usize,
    duration: Duration,
}

fn parse(args: &[String]) -> Result<Load, String> {
    let [addr, connections, in_flight, seconds] = args else {
        return Err(USAGE.to_owned());
    };
    let positive = |what: &str, v: &str| {
        v.parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("{what} must be a positive number, not {v:?}; {USAGE}"))
    };
    Ok(Load {
        addr: addr
            .parse()
            .map_err(|_| format!("ADDR must be IP:PORT, not {addr:?}; {USAGE}"))?,
        connections: positive("CONNECTIONS", connections)?,
        in_flight: positive("IN_FLIGHT", in_flight)?,
        duration: Duration::from_secs(positive("SECONDS", seconds)? as u64),
    })
}

/// One slot: calls back to back on `client` until `deadline`; the
/// latencies of the calls that completed, and the count of the others.
async fn calls(mut client: GreeterClient<Channel>, deadline: Instant) -> (Vec<u64>, u64) {
    let expected = greeting("bench");
    let mut latencies = Vec::new();
    let mut errors = 0;
    while Instant::now() < deadline {
        let started = Instant::now();
        let reply = client
            .say_hello(HelloRequest {
                name: "bench".to_owned(),
            })
            .await;
        match reply {
            Ok(reply) if reply.get_ref().message == expected => {
                latencies.push(started.elapsed().as_nanos() as u64);
            }
            _ => errors += 1,
        }
    }
    (latencies, errors)
}

async fn run(load: Load) -> Result<Measured, String> {
    let endpoint = Endpoint::from_shared(format!("http://{}", load.addr))
        .map_err(|err| format!("bad address {}: {err}", load.addr))?;
    let mut channels = Vec::with_capacity(load.connections);
    for _ in 0..load.connections {
        // Each `connect` opens a connection of its own.
        let channel = endpoint
            .connect()
            .await
            .map_err(|err| format!("cannot connect to {}: {err}", load.addr))?;
        channels.push(channel);
    }
    let started = Instant::now();
    let deadline = started + load.duration;
    let slots: Vec<_> = (0..load.in_flight)
        .map(|i| {
            let client = GreeterClient::new(channels[i % channels.len()].clone());
            tokio::spawn(calls(client, deadline))
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for slot in slots {
        let (mut done, failed) = slot
            .await
            .map_err(|err| format!("a call slot failed: {err}"))?;
        latencies.append(&mut done);
        errors += failed;
    }
    let elapsed = started.elapsed();
    Measured::of(latencies, errors, elapsed)
        .ok_or_else(|| format!("no call completed ({errors} failed)"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let load = match parse(&args) {
        Ok(load) => load,
        Err(message) => {
            eprintln!("tonic_load: {message}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("tonic_load: cannot start a runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(load)) {
        Ok(measured) => {
            println!("{}", measured.line());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("tonic_load: {message}");
            ExitCode::FAILURE
        }
    }
}

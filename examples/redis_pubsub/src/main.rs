//! `redis_pubsub [ADDRESS]`: serves on ADDRESS (`127.0.0.1:6379` by
//! default) until ctrl-c, then finishes the commands in flight and exits.
//!
//! ```sh
//! cargo run -p redis_pubsub -- 127.0.0.1:6380
//! # elsewhere: redis-cli -p 6380 subscribe news / redis-cli -p 6380 publish news hi
//! ```

#[cfg(feature = "on-smp_rt")]
extern crate smp_rt as tokio;

use std::process::ExitCode;

use redis_pubsub::Config;
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> ExitCode {
    let address = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:6379".to_string());
    let listener = match TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {address}: {err} (usage: redis_pubsub [HOST:PORT])");
            return ExitCode::FAILURE;
        }
    };
    match listener.local_addr() {
        Ok(local) => println!("listening on {local}; ctrl-c stops"),
        Err(_) => println!("listening on {address}; ctrl-c stops"),
    }
    redis_pubsub::run(listener, Config::default(), async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            eprintln!("cannot wait for ctrl-c ({err}): shutting down");
        }
    })
    .await;
    println!("shut down");
    ExitCode::SUCCESS
}

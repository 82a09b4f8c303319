//! The accept loop and the graceful shutdown.
//!
//! [`run`] serves until its `shutdown` future completes. Then it stops
//! accepting, tells every connection to stop (a connection between commands
//! closes at once; one in the middle of a command reads it to the end,
//! answers it and closes) and returns when all of them are done.

use std::future::Future;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinError, JoinSet};

use crate::connection;
use crate::db::Db;

/// How a server treats its clients.
#[derive(Debug, Clone)]
pub struct Config {
    /// How long a client may stay silent, between commands or in the middle
    /// of one, before it is disconnected; `None`: forever. Clients
    /// subscribed to channels wait for messages: they may stay silent
    /// between commands as long as they like.
    pub read_timeout: Option<Duration>,
}

impl Default for Config {
    /// A five-minute read timeout.
    fn default() -> Config {
        Config {
            read_timeout: Some(Duration::from_secs(300)),
        }
    }
}

/// Pause after a failed `accept` (out of file descriptors, say), so that
/// the loop does not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves clients of `listener` until `shutdown` completes, then shuts down
/// gracefully (module docs).
///
/// ```no_run
/// # #[cfg(feature = "on-smp_rt")] extern crate smp_rt as tokio;
/// # async fn example() -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:6379").await?;
/// redis_pubsub::run(listener, redis_pubsub::Config::default(), tokio::signal::ctrl_c()).await;
/// # Ok(())
/// # }
/// ```
pub async fn run(listener: TcpListener, config: Config, shutdown: impl Future) {
    let db = Db::new();
    let (stop, stopping) = watch::channel(false);
    let expiry = tokio::spawn(db.clone().expire_keys(stopping.clone()));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let served = connection::serve(stream, db.clone(), config.clone(), stopping.clone());
                    connections.spawn(async move {
                        if let Err(err) = served.await {
                            eprintln!("{peer}: {err}");
                        }
                    });
                }
                Err(err) => {
                    eprintln!("accept failed: {err}");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                }
            },
            Some(done) = connections.join_next() => report(done),
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    // Fails only if no connection and no expiry task is left to tell.
    let _ = stop.send(true);
    while let Some(done) = connections.join_next().await {
        report(done);
    }
    report(expiry.await);
}

fn report(done: Result<(), JoinError>) {
    if let Err(err) = done {
        eprintln!("a connection task failed: {err}");
    }
}

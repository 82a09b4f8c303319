//! A server on an ephemeral port and a RESP client that checks replies
//! byte for byte. Each test file uses part of it.
#![allow(dead_code)]

use std::net::SocketAddr;

use redis_pubsub::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running [`redis_pubsub::run`].
pub struct Server {
    pub addr: SocketAddr,
    /// `run` itself: it completes when the server has shut down.
    pub task: JoinHandle<()>,
    stop: Option<oneshot::Sender<()>>,
}

/// Starts a server on 127.0.0.1, stopped by [`Server::shutdown`] (its
/// shutdown future is the one `main` passes ctrl-c as).
pub async fn start(config: Config) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(redis_pubsub::run(listener, config, async {
        let _ = stopped.await;
    }));
    Server {
        addr,
        task,
        stop: Some(stop),
    }
}

impl Server {
    /// Completes the server's shutdown future.
    pub fn shutdown(&mut self) {
        let stop = self.stop.take().expect("shutdown() called twice");
        stop.send(())
            .expect("the server stopped before it was told to");
    }
}

/// A client connection.
pub struct Client {
    stream: TcpStream,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).await.unwrap();
        Client { stream }
    }

    /// Sends a command as an array of bulk strings.
    pub async fn send(&mut self, args: &[&str]) {
        let mut frame = format!("*{}\r\n", args.len());
        for arg in args {
            frame += &format!("${}\r\n{arg}\r\n", arg.len());
        }
        self.send_raw(frame.as_bytes()).await;
    }

    /// Sends `bytes` as they are.
    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
    }

    /// Reads exactly `reply`'s length and checks it is `reply`.
    pub async fn expect(&mut self, reply: &str) {
        let mut got = vec![0; reply.len()];
        self.stream.read_exact(&mut got).await.unwrap();
        assert_eq!(String::from_utf8_lossy(&got), reply);
    }

    /// Reads up to and including the next `\n`.
    pub async fn read_line(&mut self) -> String {
        let mut line = Vec::new();
        while line.last() != Some(&b'\n') {
            line.push(self.stream.read_u8().await.unwrap());
        }
        String::from_utf8_lossy(&line).into_owned()
    }

    /// Sends `args` and checks the reply.
    pub async fn call(&mut self, args: &[&str], reply: &str) {
        self.send(args).await;
        self.expect(reply).await;
    }

    /// Checks that the server closed the connection, having sent nothing
    /// more.
    pub async fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        match self.stream.read_to_end(&mut rest).await {
            Ok(_) => assert_eq!(String::from_utf8_lossy(&rest), "", "sent before closing"),
            // Closed with unread input in the server's socket: a reset.
            Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset),
        }
    }
}

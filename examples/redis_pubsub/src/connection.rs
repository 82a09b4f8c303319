//! One client: read a command, run it, write the reply, until the client
//! leaves, stays silent too long, or the server shuts down.
//!
//! A subscribed client also gets the messages of its channels: a task per
//! subscription forwards them from the channel's `broadcast` receiver into
//! the connection's `mpsc` queue, which the connection waits on beside the
//! socket.

use std::collections::HashMap;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{mpsc, watch};
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::{Instant, timeout};

use crate::command::Command;
use crate::db::Db;
use crate::frame::{self, Frame};
use crate::server::Config;

/// Messages forwarded but not yet written to the client.
const QUEUED_MESSAGES: usize = 64;

/// What the connection waits for between commands.
enum Event {
    /// The client sent (the start of) a command.
    Input,
    /// The client closed the connection.
    Closed,
    /// The client stayed silent for the read timeout.
    Idle,
    /// A message on a subscribed channel.
    Message(Arc<[u8]>, Arc<[u8]>),
    /// The server is shutting down.
    Shutdown,
}

/// A channel's name and a message published to it.
type Message = (Arc<[u8]>, Arc<[u8]>);

struct Connection {
    reader: BufReader<OwnedReadHalf>,
    writer: BufWriter<OwnedWriteHalf>,
    db: Db,
    read_timeout: Option<Duration>,
    /// Subscribed channels, and the forwarding task of each.
    subscriptions: HashMap<Arc<[u8]>, AbortHandle>,
    /// The forwarding tasks; dropping the set aborts them.
    forwarders: JoinSet<()>,
    messages_tx: mpsc::Sender<Message>,
    messages: mpsc::Receiver<Message>,
}

/// Serves the client on `stream` until it leaves, times out, or `stopping`
/// turns true.
pub(crate) async fn serve(
    stream: TcpStream,
    db: Db,
    config: Config,
    mut stopping: watch::Receiver<bool>,
) -> io::Result<()> {
    let (reader, writer) = stream.into_split();
    let (messages_tx, messages) = mpsc::channel(QUEUED_MESSAGES);
    let mut connection = Connection {
        reader: BufReader::new(reader),
        writer: BufWriter::new(writer),
        db,
        read_timeout: config.read_timeout,
        subscriptions: HashMap::new(),
        forwarders: JoinSet::new(),
        messages_tx,
        messages,
    };
    let result = connection.run(&mut stopping).await;
    // The client gets what was answered, even when the connection ends on
    // an error reading.
    let flushed = connection.writer.flush().await;
    result.and(flushed)
}

impl Connection {
    async fn run(&mut self, stopping: &mut watch::Receiver<bool>) -> io::Result<()> {
        loop {
            // Subscribers wait for messages, not for commands: no timeout.
            let limit = self.read_timeout.filter(|_| self.subscriptions.is_empty());
            let subscribed = !self.subscriptions.is_empty();
            let reader = &mut self.reader;
            let event = tokio::select! {
                // Biased: a command whose first bytes arrived before the
                // shutdown is noticed is still served.
                biased;
                input = wait_for_input(reader, limit) => input?,
                Some((channel, message)) = self.messages.recv(), if subscribed => {
                    Event::Message(channel, message)
                }
                _ = stopping.wait_for(|stop| *stop) => Event::Shutdown,
            };
            match event {
                Event::Closed | Event::Idle | Event::Shutdown => return Ok(()),
                Event::Message(channel, message) => {
                    // Forwarded before an UNSUBSCRIBE: not for the client
                    // any more.
                    if self.subscriptions.contains_key(&channel) {
                        let reply = Frame::Array(vec![
                            Frame::Bulk(Arc::from(&b"message"[..])),
                            Frame::Bulk(channel),
                            Frame::Bulk(message),
                        ]);
                        frame::write_frame(&mut self.writer, &reply).await?;
                        self.writer.flush().await?;
                    }
                }
                Event::Input => {
                    let read = frame::read_command(&mut self.reader);
                    let args = match self.read_timeout {
                        Some(limit) => match timeout(limit, read).await {
                            Ok(args) => args,
                            // Silent in the middle of a command.
                            Err(_elapsed) => return Ok(()),
                        },
                        None => read.await,
                    };
                    let args = match args {
                        Ok(Some(args)) => args,
                        Ok(None) => return Ok(()),
                        Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                            let reply = Frame::Error(format!("ERR Protocol error: {err}"));
                            frame::write_frame(&mut self.writer, &reply).await?;
                            return Ok(());
                        }
                        Err(err) => return Err(err),
                    };
                    if args.is_empty() {
                        continue;
                    }
                    let replies = match Command::parse(args) {
                        Ok(command) => self.execute(command),
                        Err(message) => vec![Frame::Error(message)],
                    };
                    for reply in &replies {
                        frame::write_frame(&mut self.writer, reply).await?;
                    }
                    self.writer.flush().await?;
                    // Shutting down: the command in flight was the last.
                    if *stopping.borrow() {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Runs `command`; returns its replies (one per channel for SUBSCRIBE
    /// and UNSUBSCRIBE, one otherwise).
    fn execute(&mut self, command: Command) -> Vec<Frame> {
        let subscribed = !self.subscriptions.is_empty();
        if subscribed && !command.allowed_while_subscribed() {
            return vec![Frame::Error(
                "ERR only SUBSCRIBE / UNSUBSCRIBE / PING are allowed in this context".to_string(),
            )];
        }
        let reply = match command {
            Command::Ping(None) if subscribed => Frame::Array(vec![
                Frame::Bulk(Arc::from(&b"pong"[..])),
                Frame::Bulk(Arc::from(&b""[..])),
            ]),
            Command::Ping(None) => Frame::Simple("PONG"),
            Command::Ping(Some(message)) => Frame::Bulk(message.into()),
            Command::Get(key) => match self.db.get(&key) {
                Some(value) => Frame::Bulk(value),
                None => Frame::Null,
            },
            Command::Set { key, value, expire } => {
                match expire.map(|expire| Instant::now().checked_add(expire)) {
                    Some(None) => {
                        Frame::Error("ERR invalid expire time in 'set' command".to_string())
                    }
                    Some(deadline) => {
                        self.db.set(key, value, deadline);
                        Frame::Simple("OK")
                    }
                    None => {
                        self.db.set(key, value, None);
                        Frame::Simple("OK")
                    }
                }
            }
            Command::Del(keys) => Frame::Integer(self.db.del(&keys) as i64),
            Command::DbSize => Frame::Integer(self.db.len() as i64),
            Command::Publish { channel, message } => {
                Frame::Integer(self.db.publish(&channel, message) as i64)
            }
            Command::Subscribe(channels) => {
                return channels
                    .into_iter()
                    .map(|channel| self.subscribe(channel.into()))
                    .collect();
            }
            Command::Unsubscribe(channels) => {
                let channels: Vec<Arc<[u8]>> = if channels.is_empty() {
                    self.subscriptions.keys().cloned().collect()
                } else {
                    channels.into_iter().map(Arc::from).collect()
                };
                if channels.is_empty() {
                    // Redis answers an UNSUBSCRIBE of nothing with a null
                    // channel and the count.
                    return vec![subscription_reply("unsubscribe", None, 0)];
                }
                return channels
                    .into_iter()
                    .map(|channel| self.unsubscribe(channel))
                    .collect();
            }
        };
        vec![reply]
    }

    fn subscribe(&mut self, channel: Arc<[u8]>) -> Frame {
        if !self.subscriptions.contains_key(&channel) {
            let mut receiver = self.db.subscribe(&channel);
            let queue = self.messages_tx.clone();
            let name = channel.clone();
            let forwarder = self.forwarders.spawn(async move {
                loop {
                    match receiver.recv().await {
                        Ok(message) => {
                            if queue.send((name.clone(), message)).await.is_err() {
                                return;
                            }
                        }
                        // The client fell behind by more than the
                        // channel holds: it misses those messages.
                        Err(RecvError::Lagged(_)) => continue,
                        Err(RecvError::Closed) => return,
                    }
                }
            });
            self.subscriptions.insert(channel.clone(), forwarder);
        }
        subscription_reply("subscribe", Some(channel), self.subscriptions.len())
    }

    fn unsubscribe(&mut self, channel: Arc<[u8]>) -> Frame {
        if let Some(forwarder) = self.subscriptions.remove(&channel) {
            forwarder.abort();
        }
        if self.subscriptions.is_empty() {
            // Back to commands: what was forwarded meanwhile is stale.
            while self.messages.try_recv().is_ok() {}
        }
        subscription_reply("unsubscribe", Some(channel), self.subscriptions.len())
    }
}

/// Waits until the client sent something, closed the connection, or
/// stayed silent for `limit`. Cancel-safe: what arrives stays buffered in
/// `reader`.
async fn wait_for_input(
    reader: &mut BufReader<OwnedReadHalf>,
    limit: Option<Duration>,
) -> io::Result<Event> {
    let input = async {
        let buffered = reader.fill_buf().await?;
        Ok(if buffered.is_empty() {
            Event::Closed
        } else {
            Event::Input
        })
    };
    match limit {
        Some(limit) => timeout(limit, input).await.unwrap_or(Ok(Event::Idle)),
        None => input.await,
    }
}

/// `*3 kind channel count`, the answer to (UN)SUBSCRIBE per channel.
fn subscription_reply(kind: &'static str, channel: Option<Arc<[u8]>>, count: usize) -> Frame {
    Frame::Array(vec![
        Frame::Bulk(Arc::from(kind.as_bytes())),
        channel.map_or(Frame::Null, Frame::Bulk),
        Frame::Integer(count as i64),
    ])
}

//! tonic on the tokio facade: a server (tonic's transport, which spawns
//! its connections with `tokio::spawn`) and a client over a real TCP
//! connection, with a unary RPC and a server-streaming one.

use std::pin::Pin;
use std::time::Duration;

use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

/// The request of both RPCs.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(uint32, tag = "2")]
    pub count: u32,
}

/// The reply of both RPCs.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    #[prost(string, tag = "1")]
    pub message: String,
}

mod matrix {
    include!(concat!(env!("OUT_DIR"), "/matrix.Greeter.rs"));
}

use matrix::greeter_client::GreeterClient;
use matrix::greeter_server::{Greeter, GreeterServer};

struct Service;

type ReplyStream = Pin<Box<dyn Stream<Item = Result<HelloReply, Status>> + Send>>;

#[tonic::async_trait]
impl Greeter for Service {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let name = request.into_inner().name;
        Ok(Response::new(HelloReply {
            message: format!("hello {name}"),
        }))
    }

    type CountToStream = ReplyStream;

    async fn count_to(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<ReplyStream>, Status> {
        let count = request.into_inner().count;
        let (tx, rx) = tokio::sync::mpsc::channel(2);
        tokio::spawn(async move {
            for n in 1..=count {
                tokio::time::sleep(Duration::from_millis(1)).await;
                if tx
                    .send(Ok(HelloReply {
                        message: n.to_string(),
                    }))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            tokio_stream::wrappers::ReceiverStream::new(rx),
        )))
    }
}

#[tokio::main]
async fn main() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(GreeterServer::new(Service))
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
                let _ = stopped.await;
            }),
    );

    let mut client = GreeterClient::connect(format!("http://{addr}"))
        .await
        .unwrap();
    let reply = client
        .say_hello(HelloRequest {
            name: "facade".into(),
            count: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.message, "hello facade");
    println!("tonic unary: {}", reply.message);

    let mut stream = client
        .count_to(HelloRequest {
            name: String::new(),
            count: 4,
        })
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    while let Some(reply) = stream.next().await {
        got.push(reply.unwrap().message);
    }
    assert_eq!(got, ["1", "2", "3", "4"]);
    println!("tonic server streaming: {got:?}");

    drop(client);
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
    println!("tonic: ok");
}

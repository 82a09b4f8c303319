//! `tonic_unary`: a tonic server of the `Greeter` service, whose unary
//! `SayHello` answers `Hello, {name}!`, on WORKERS worker threads (the
//! program's argument). See the crate documentation for how the runner
//! starts and stops it.

use std::process::ExitCode;

use stacks::greeter::{Greeter, GreeterServer, HelloReply, HelloRequest, greeting};
use tokio_stream::wrappers::TcpListenerStream;
use tonic::{Request, Response, Status};

struct Service;

#[tonic::async_trait]
impl Greeter for Service {
    async fn say_hello(
        &self,
        request: Request<HelloRequest>,
    ) -> Result<Response<HelloReply>, Status> {
        let message = greeting(&request.into_inner().name);
        Ok(Response::new(HelloReply { message }))
    }
}

fn main() -> ExitCode {
    let workers = match stacks::workers_argument() {
        Ok(n) => n,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    stacks::exit_when_stdin_closes();
    let served = stacks::runtime(workers)
        .map_err(|err| err.to_string())
        .and_then(|rt| {
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .map_err(|err| format!("cannot bind: {err}"))?;
                stacks::announce(listener.local_addr().map_err(|err| err.to_string())?);
                tonic::transport::Server::builder()
                    .add_service(GreeterServer::new(Service))
                    .serve_with_incoming(TcpListenerStream::new(listener))
                    .await
                    .map_err(|err| err.to_string())
            })
        });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("tonic_unary: {err}");
            ExitCode::FAILURE
        }
    }
}

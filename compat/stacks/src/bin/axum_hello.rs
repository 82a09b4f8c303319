//! `axum_hello`: an axum router answering `GET /` with `Hello, World!`, on
//! WORKERS worker threads (the program's argument). See the crate
//! documentation for how the runner starts and stops it.

use std::process::ExitCode;

use axum::Router;
use axum::routing::get;

fn main() -> ExitCode {
    let workers = match stacks::workers_argument() {
        Ok(n) => n,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    stacks::exit_when_stdin_closes();
    let served = stacks::runtime(workers).and_then(|rt| {
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            stacks::announce(listener.local_addr()?);
            let app = Router::new().route("/", get(|| async { "Hello, World!" }));
            axum::serve(listener, app).await
        })
    });
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("axum_hello: {err}");
            ExitCode::FAILURE
        }
    }
}

//! tracing on the tokio facade: spans entered across awaits with
//! `Instrument`, events from spawned tasks, recorded by a subscriber layer
//! that counts them per span.

use std::sync::{Arc, Mutex};

use tracing::Instrument;
use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// Records `(span name, event message)` for events inside a span.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(String, String)>>>);

struct Message(String);

impl tracing::field::Visit for Message {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, _: &Attributes<'_>, _: &Id, _: Context<'_, S>) {}

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut message = Message(String::new());
        event.record(&mut message);
        self.0
            .lock()
            .unwrap()
            .push((span.name().to_owned(), message.0));
    }
}

#[tokio::main]
async fn main() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(recorder.clone()))
        .unwrap();

    let mut tasks = Vec::new();
    for n in 0..3 {
        tasks.push(tokio::spawn(
            async move {
                tracing::info!("start {n}");
                tokio::task::yield_now().await;
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                tracing::info!("end {n}");
            }
            .instrument(tracing::info_span!("request")),
        ));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut seen = recorder.0.lock().unwrap().clone();
    // smp_rt's own `task` spans may carry the runtime's events; keep the
    // program's.
    seen.retain(|(span, _)| span == "request");
    seen.sort();
    let expected: Vec<_> = (0..3)
        .flat_map(|n| [format!("end {n}"), format!("start {n}")])
        .map(|m| ("request".to_owned(), m))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(seen, expected);
    println!(
        "tracing: {} events recorded inside their spans across awaits",
        seen.len()
    );
    println!("tracing: ok");
}

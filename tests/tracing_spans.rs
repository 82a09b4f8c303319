//! Tracing: every task poll runs inside a `task` span carrying the task's id, name and priority; preemptions and parks emit trace events.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::{Mutex, OnceLock};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use smp_rt::runtime::{Builder, Runtime};
use smp_rt::task::{self, Priority};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};

/// Generous bound for conditions that should hold almost at once.
const DEADLINE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    U64(u64),
    I64(i64),
    Bool(bool),
    Str(String),
    Debug(String),
}

type Fields = BTreeMap<String, Value>;

struct FieldVisitor<'a>(&'a mut Fields);

impl Visit for FieldVisitor<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), Value::U64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), Value::I64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), Value::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0
            .insert(field.name().to_owned(), Value::Str(value.to_owned()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), Value::Debug(format!("{value:?}")));
    }
}

#[derive(Debug, Clone)]
struct SpanData {
    name: &'static str,
    fields: Fields,
}

struct SpanEntry {
    data: SpanData,
    refs: usize,
}

/// An event as seen by the subscriber, with the spans entered on its thread
/// at that moment (outermost first).
#[derive(Debug, Clone)]
struct EventData {
    thread: Option<String>,
    thread_id: ThreadId,
    message: String,
    fields: Fields,
    spans: Vec<SpanData>,
}

impl EventData {
    /// The `task` spans the event was emitted in.
    fn task_spans(&self) -> Vec<&SpanData> {
        self.spans.iter().filter(|s| s.name == "task").collect()
    }

    /// The single `task` span the event was emitted in.
    fn task_span(&self) -> &SpanData {
        let spans = self.task_spans();
        assert_eq!(
            spans.len(),
            1,
            "expected the event {:?} inside exactly one task span, got {:?}",
            self.message,
            self.spans
        );
        spans[0]
    }
}

/// Records spans and events; see [`Global`].
struct Recorder {
    next_id: AtomicU64,
    spans: Mutex<BTreeMap<u64, SpanEntry>>,
    events: Mutex<Vec<EventData>>,
}

static RECORDER: Recorder = Recorder {
    next_id: AtomicU64::new(1),
    spans: Mutex::new(BTreeMap::new()),
    events: Mutex::new(Vec::new()),
};

thread_local! {
    /// Spans entered on this thread, outermost first.
    static ENTERED: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

/// The process-wide subscriber, backed by [`RECORDER`].
struct Global;

impl Subscriber for Global {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = RECORDER.next_id.fetch_add(1, SeqCst);
        let mut fields = Fields::new();
        attrs.record(&mut FieldVisitor(&mut fields));
        let data = SpanData {
            name: attrs.metadata().name(),
            fields,
        };
        RECORDER
            .spans
            .lock()
            .unwrap()
            .insert(id, SpanEntry { data, refs: 1 });
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(entry) = RECORDER.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut FieldVisitor(&mut entry.data.fields));
        }
    }

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = Fields::new();
        event.record(&mut FieldVisitor(&mut fields));
        let message = match fields.remove("message") {
            Some(Value::Debug(s) | Value::Str(s)) => s,
            _ => String::new(),
        };
        let entered = ENTERED.with(|e| e.borrow().clone());
        let spans = {
            let all = RECORDER.spans.lock().unwrap();
            entered
                .iter()
                .filter_map(|id| all.get(id).map(|e| e.data.clone()))
                .collect()
        };
        RECORDER.events.lock().unwrap().push(EventData {
            thread: thread::current().name().map(str::to_owned),
            thread_id: thread::current().id(),
            message,
            fields,
            spans,
        });
    }

    fn enter(&self, span: &Id) {
        ENTERED.with(|e| e.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        let id = span.into_u64();
        ENTERED.with(|e| {
            let mut entered = e.borrow_mut();
            if let Some(pos) = entered.iter().rposition(|&x| x == id) {
                entered.remove(pos);
            }
        });
    }

    fn clone_span(&self, span: &Id) -> Id {
        if let Some(entry) = RECORDER.spans.lock().unwrap().get_mut(&span.into_u64()) {
            entry.refs += 1;
        }
        span.clone()
    }

    fn try_close(&self, span: Id) -> bool {
        let mut spans = RECORDER.spans.lock().unwrap();
        let id = span.into_u64();
        match spans.get_mut(&id) {
            Some(entry) if entry.refs > 1 => {
                entry.refs -= 1;
                false
            }
            Some(_) => {
                spans.remove(&id);
                true
            }
            None => false,
        }
    }
}

/// Installs the subscriber once for the whole test binary.
fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        tracing::subscriber::set_global_default(Global)
            .expect("no other global subscriber in this test binary");
    });
}

/// Events recorded so far that satisfy `filter`.
fn events_where(filter: impl Fn(&EventData) -> bool) -> Vec<EventData> {
    RECORDER
        .events
        .lock()
        .unwrap()
        .iter()
        .filter(|e| filter(e))
        .cloned()
        .collect()
}

/// Events carrying `marker = <marker>`.
fn marked(marker: &str) -> Vec<EventData> {
    events_where(|e| e.fields.get("marker") == Some(&Value::Str(marker.to_owned())))
}

fn str_field(span: &SpanData, name: &str) -> Option<String> {
    match span.fields.get(name) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Asserts that `span` is the `task` span of task `id` named `name` at `priority`.
fn assert_task_span(span: &SpanData, id: u64, name: &str, priority: &str) {
    assert_eq!(span.name, "task");
    assert_eq!(
        span.fields.get("task.id"),
        Some(&Value::U64(id)),
        "task.id of {span:?}"
    );
    assert_eq!(
        str_field(span, "task.name").as_deref(),
        Some(name),
        "task.name of {span:?}"
    );
    assert_eq!(
        str_field(span, "task.priority").as_deref(),
        Some(priority),
        "task.priority of {span:?}"
    );
}

fn current_thread() -> Runtime {
    Builder::new_current_thread().build().expect("runtime")
}

#[test]
fn an_event_in_a_task_is_inside_its_task_span() {
    install();
    let rt = current_thread();
    let id = rt.block_on(async {
        task::Builder::new()
            .name("conn")
            .priority(Priority::High)
            .spawn(async {
                tracing::info!(marker = "conn-inside", "inside");
                task::id().as_u64()
            })
            .expect("spawn")
            .await
            .expect("task")
    });
    let events = marked("conn-inside");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].message, "inside");
    assert_task_span(events[0].task_span(), id, "conn", "high");
}

#[test]
fn the_span_shows_every_priority_and_an_empty_name_for_unnamed_tasks() {
    install();
    let rt = current_thread();
    async fn report(marker: &'static str) -> u64 {
        tracing::info!(marker, "report");
        task::id().as_u64()
    }
    let ids = rt.block_on(async {
        let unnamed = smp_rt::spawn(report("prio-unnamed"));
        let max = task::spawn_with_priority(Priority::Max, report("prio-max"));
        let low = task::spawn_with_priority(Priority::Low, report("prio-low"));
        let named = task::Builder::new()
            .name("worker-7")
            .priority(Priority::Normal)
            .spawn(report("prio-named"))
            .expect("spawn");
        [
            unnamed.await.unwrap(),
            max.await.unwrap(),
            low.await.unwrap(),
            named.await.unwrap(),
        ]
    });
    let expected = [
        ("prio-unnamed", "", "normal"),
        ("prio-max", "", "max"),
        ("prio-low", "", "low"),
        ("prio-named", "worker-7", "normal"),
    ];
    for (id, (marker, name, priority)) in ids.into_iter().zip(expected) {
        let events = marked(marker);
        assert_eq!(events.len(), 1, "{marker}: {events:?}");
        assert_task_span(events[0].task_span(), id, name, priority);
    }
}

#[test]
fn tasks_on_worker_threads_run_in_their_own_spans() {
    install();
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("span-worker")
        .build()
        .expect("runtime");
    let ids: Vec<u64> = rt.block_on(async {
        let handles: Vec<_> = (0..20u64)
            .map(|i| {
                task::Builder::new()
                    .name("multi")
                    .priority(if i % 2 == 0 {
                        Priority::High
                    } else {
                        Priority::Low
                    })
                    .spawn(async move {
                        for round in 0..3 {
                            tracing::info!(marker = "multi", i, round, "round");
                            task::yield_now().await;
                        }
                        task::id().as_u64()
                    })
                    .expect("spawn")
            })
            .collect();
        let mut ids = Vec::new();
        for h in handles {
            ids.push(h.await.expect("task"));
        }
        ids
    });
    let events = marked("multi");
    assert_eq!(events.len(), 60);
    for event in &events {
        let i = match event.fields.get("i") {
            Some(&Value::U64(i)) => i as usize,
            _ => panic!("event without a u64 i: {event:?}"),
        };
        let priority = if i % 2 == 0 { "high" } else { "low" };
        assert_task_span(event.task_span(), ids[i], "multi", priority);
        assert!(
            event
                .thread
                .as_deref()
                .is_some_and(|t| t.starts_with("span-worker")),
            "a task ran on {:?}, not on a worker",
            event.thread
        );
    }
}

#[test]
fn code_outside_tasks_is_outside_task_spans() {
    install();
    let rt = current_thread();
    let (parent_id, child_id) = rt.block_on(async {
        tracing::info!(marker = "outside-before", "before");
        let parent = smp_rt::spawn(async {
            tracing::info!(marker = "parent-before", "parent");
            let child = task::Builder::new()
                .name("child")
                .spawn(async {
                    tracing::info!(marker = "child", "child");
                    task::id().as_u64()
                })
                .expect("spawn");
            let child_id = child.await.expect("child");
            tracing::info!(marker = "parent-after", "parent");
            (task::id().as_u64(), child_id)
        });
        let ids = parent.await.expect("parent");
        tracing::info!(marker = "outside-after", "after");
        ids
    });
    for marker in ["outside-before", "outside-after"] {
        let events = marked(marker);
        assert_eq!(events.len(), 1);
        assert!(
            events[0].task_spans().is_empty(),
            "{marker}: block_on's own future is not a task, but the event was in {:?}",
            events[0].spans
        );
    }
    for marker in ["parent-before", "parent-after"] {
        let events = marked(marker);
        assert_eq!(events.len(), 1);
        assert_task_span(events[0].task_span(), parent_id, "", "normal");
    }
    let events = marked("child");
    assert_eq!(events.len(), 1);
    assert_task_span(events[0].task_span(), child_id, "child", "normal");
}

#[test]
fn a_priority_change_shows_in_the_next_slices_span() {
    install();
    let rt = current_thread();
    let id = rt.block_on(async {
        smp_rt::spawn(async {
            tracing::info!(marker = "reprio-before", "before");
            task::set_priority(Priority::Max);
            task::yield_now().await;
            tracing::info!(marker = "reprio-after", "after");
            task::id().as_u64()
        })
        .await
        .expect("task")
    });
    assert_task_span(marked("reprio-before")[0].task_span(), id, "", "normal");
    assert_task_span(marked("reprio-after")[0].task_span(), id, "", "max");
}

#[test]
fn a_preemption_emits_a_trace_event_in_the_task_span() {
    install();
    let rt = Builder::new_current_thread()
        .reductions(smp_rt::runtime::MIN_REDUCTIONS)
        .build()
        .expect("runtime");
    let (id, preemptions) = rt.block_on(async {
        task::Builder::new()
            .name("hog")
            .spawn(async {
                for _ in 0..2_000 {
                    task::consume_budget().await;
                }
                (task::id().as_u64(), task::stats().preemptions)
            })
            .expect("spawn")
            .await
            .expect("task")
    });
    assert!(
        preemptions > 0,
        "2000 reductions with a slice of 50 were never preempted"
    );
    let events = events_where(|e| {
        e.message.contains("preempted")
            && e.task_spans()
                .iter()
                .any(|s| s.fields.get("task.id") == Some(&Value::U64(id)))
    });
    assert_eq!(
        events.len() as u64,
        preemptions,
        "one \"preempted\" event per preemption of the task"
    );
    for event in &events {
        assert_task_span(event.task_span(), id, "hog", "normal");
    }
    assert!(rt.metrics().worker_preempt_count(0) >= preemptions);
}

#[test]
fn a_parking_worker_emits_a_park_event() {
    install();
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("park-probe")
        .build()
        .expect("runtime");
    // Work first, so the worker has something to park after.
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).expect("task"), 1);
    let metrics = rt.metrics();
    let deadline = Instant::now() + DEADLINE;
    let parks = loop {
        let parks = events_where(|e| {
            e.message == "park"
                && e.thread
                    .as_deref()
                    .is_some_and(|t| t.starts_with("park-probe"))
        });
        if !parks.is_empty() && metrics.worker_park_count(0) > 0 {
            break parks;
        }
        assert!(
            Instant::now() < deadline,
            "no \"park\" event from the idle worker within {DEADLINE:?} (park count {})",
            metrics.worker_park_count(0)
        );
        thread::sleep(Duration::from_millis(1));
    };
    for event in &parks {
        assert!(
            event.task_spans().is_empty(),
            "a worker parks outside any task, but the event was in {:?}",
            event.spans
        );
    }
}

#[test]
fn a_current_thread_runtime_parks_the_calling_thread_with_a_park_event() {
    install();
    let rt = current_thread();
    let metrics = rt.metrics();
    let (tx, rx) = oneshot::channel::<u32>();
    // Completes the oneshot once the caller has parked (or after the deadline).
    let sender = thread::spawn(move || {
        let deadline = Instant::now() + DEADLINE;
        while metrics.worker_park_count(0) == 0 && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        let _ = tx.send(5);
    });
    assert_eq!(rt.block_on(rx).expect("sender"), 5);
    sender.join().unwrap();
    let me = thread::current().id();
    assert!(
        rt.metrics().worker_park_count(0) > 0,
        "the caller never parked"
    );
    let parks = events_where(|e| e.message == "park" && e.thread_id == me);
    assert!(
        !parks.is_empty(),
        "the calling thread parked without a \"park\" event"
    );
}

#[test]
fn a_blocking_closure_runs_inside_a_task_span() {
    install();
    let rt = current_thread();
    let (id, handle_id) = rt.block_on(async {
        let handle = task::spawn_blocking(|| {
            tracing::info!(marker = "blocking", "in a blocking closure");
            task::id().as_u64()
        });
        let handle_id = handle.id().as_u64();
        (handle.await.expect("closure"), handle_id)
    });
    assert_eq!(id, handle_id);
    let events = marked("blocking");
    assert_eq!(events.len(), 1);
    assert_task_span(events[0].task_span(), id, "", "normal");
}

//! The long-poll watchdog (`Builder::long_poll_threshold`): a poll that
//! holds its worker is reported once (a `tracing` warning, the worker's
//! `long_polls` count), and the work queued behind it runs on a sibling
//! while it is stuck; `RuntimeMetrics::worker_current_task` says which
//! task each worker polls.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use smp_rt::runtime::{Builder, RuntimeMetrics};
use smp_rt::task::{self, Priority};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Bound on a wait that the watchdog should end almost at once; reaching
/// it fails the test.
const DEADLINE: Duration = Duration::from_secs(20);

/// The fields of each warning emitted in the process.
static WARNINGS: Mutex<Vec<BTreeMap<String, String>>> = Mutex::new(Vec::new());

struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.to_string());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

/// Records warnings (and errors) from every thread: the watchdog's come
/// from its own thread.
struct Warnings;

impl Subscriber for Warnings {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        *metadata.level() <= Level::WARN
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        WARNINGS.lock().unwrap().push(fields);
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

fn capture_warnings() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        tracing::subscriber::set_global_default(Warnings).expect("one global subscriber");
    });
}

/// The warnings that name task `name`.
fn warnings_naming(name: &str) -> Vec<BTreeMap<String, String>> {
    let warnings = WARNINGS.lock().unwrap();
    let named = |w: &&BTreeMap<String, String>| w.get("task.name").is_some_and(|n| n == name);
    warnings.iter().filter(named).cloned().collect()
}

/// The worker polling the calling task, found through
/// `worker_current_task`.
fn my_worker(metrics: &RuntimeMetrics) -> usize {
    let me = task::id();
    (0..metrics.num_workers())
        .find(|&w| metrics.worker_current_task(w).is_some_and(|t| t.id == me))
        .expect("worker_current_task shows the running task on its worker")
}

/// Blocks the calling thread until `done()` or the deadline.
fn block_until(done: impl Fn() -> bool) {
    let deadline = Instant::now() + DEADLINE;
    while !done() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Tasks spawned by the task that then blocks: the first lands in its
/// worker's LIFO slot, the next 256 in its Normal ring, the rest in the
/// overflow behind the ring.
const QUEUED_BEHIND: usize = 300;

/// A task spawns work onto its own worker (LIFO slot, ring, overflow) and
/// then blocks its thread. Every one of those tasks runs on the other
/// worker while the poll is still blocked: the blocked task counts them
/// itself before its poll returns. Without the watchdog, the tasks in the
/// overflow would wait for the poll to end (siblings never take it).
#[test]
fn work_queued_behind_a_blocking_poll_runs_on_a_sibling_while_it_blocks() {
    capture_warnings();
    let threshold = Duration::from_millis(20);
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .long_poll_threshold(threshold)
        .build()
        .unwrap();
    let metrics = rt.metrics();
    let (stuck_worker, completed_while_stuck, long_polls_while_stuck, depth_while_stuck) = rt
        .block_on({
            let metrics = metrics.clone();
            async move {
                task::Builder::new()
                    .name("blocks-its-worker")
                    .spawn(async move {
                        let worker = my_worker(&metrics);
                        let current = metrics.worker_current_task(worker).unwrap();
                        assert_eq!(current.name.as_deref(), Some("blocks-its-worker"));
                        assert_eq!(current.priority, Priority::Normal);
                        // Counted from here: an earlier poll on a loaded
                        // machine may have been descheduled past the threshold.
                        let long_polls_before = metrics.worker_long_poll_count(worker);
                        let completed = Arc::new(AtomicUsize::new(0));
                        for _ in 0..QUEUED_BEHIND {
                            let completed = completed.clone();
                            smp_rt::spawn(async move {
                                completed.fetch_add(1, SeqCst);
                            });
                        }
                        // Blocking code in a poll: the worker is stuck here
                        // until the others are done (or the deadline).
                        block_until(|| {
                            completed.load(SeqCst) == QUEUED_BEHIND
                                && metrics.worker_long_poll_count(worker) > long_polls_before
                        });
                        // Still stuck for several more sampling intervals: the
                        // poll is reported once, not at every sample.
                        std::thread::sleep(threshold * 3);
                        (
                            worker,
                            completed.load(SeqCst),
                            metrics.worker_long_poll_count(worker) - long_polls_before,
                            metrics.worker_queue_depth(worker, Priority::Normal),
                        )
                    })
                    .unwrap()
                    .await
                    .unwrap()
            }
        });
    assert_eq!(
        completed_while_stuck, QUEUED_BEHIND,
        "every task queued behind the blocking poll ran while it blocked"
    );
    assert_eq!(long_polls_while_stuck, 1, "one long poll, counted once");
    assert_eq!(
        depth_while_stuck, 0,
        "the stuck worker's queue depth counts none of the tasks moved away"
    );
    let warnings = warnings_naming("blocks-its-worker");
    assert_eq!(
        warnings.len(),
        1,
        "one warning for the one long poll: {warnings:?}"
    );
    let warning = &warnings[0];
    assert_eq!(warning["priority"], "normal", "{warning:?}");
    assert_eq!(warning["worker"], stuck_worker.to_string(), "{warning:?}");
    assert!(warning.contains_key("task.id"), "{warning:?}");
    let ms: u64 = warning["running_for_ms"].parse().unwrap();
    assert!(ms >= threshold.as_millis() as u64, "{warning:?}");
}

/// Deadline tasks queued behind a blocking poll.
const DEADLINE_TASKS_BEHIND: usize = 20;

/// A task spawns deadline tasks onto its own worker, where they wait in the
/// worker's deadline heap (which no thief looks at), then blocks its
/// thread. The watchdog moves them to the other worker, where every one of
/// them runs while the poll is still blocked: the blocked task counts them
/// itself before its poll returns. Without the rescue of the heaps they
/// would wait for the poll to end, and the count would stay at 0.
#[test]
fn deadline_tasks_queued_behind_a_blocking_poll_run_on_a_sibling_while_it_blocks() {
    let rt = Builder::new_multi_thread()
        .worker_threads(2)
        .long_poll_threshold(Duration::from_millis(20))
        .build()
        .unwrap();
    let metrics = rt.metrics();
    let (queued_in_heap, completed_while_stuck, depth_while_stuck) = rt.block_on({
        let metrics = metrics.clone();
        async move {
            smp_rt::spawn(async move {
                let worker = my_worker(&metrics);
                let completed = Arc::new(AtomicUsize::new(0));
                for _ in 0..DEADLINE_TASKS_BEHIND {
                    let completed = completed.clone();
                    task::Builder::new()
                        .deadline_in(Duration::from_secs(60))
                        .spawn(async move {
                            completed.fetch_add(1, SeqCst);
                        })
                        .unwrap();
                }
                let queued_in_heap = metrics.worker_queue_depth(worker, Priority::Normal);
                block_until(|| completed.load(SeqCst) == DEADLINE_TASKS_BEHIND);
                (
                    queued_in_heap,
                    completed.load(SeqCst),
                    metrics.worker_queue_depth(worker, Priority::Normal),
                )
            })
            .await
            .unwrap()
        }
    });
    assert_eq!(
        queued_in_heap, DEADLINE_TASKS_BEHIND,
        "the deadline tasks waited on the spawning worker"
    );
    assert_eq!(
        completed_while_stuck, DEADLINE_TASKS_BEHIND,
        "every deadline task queued behind the blocking poll ran while it blocked"
    );
    assert_eq!(
        depth_while_stuck, 0,
        "the stuck worker's queue depth counts none of the tasks moved away"
    );
}

/// Without a threshold nothing is reported or counted, and
/// `worker_current_task` still names the running task.
#[test]
fn without_a_threshold_no_long_poll_is_counted() {
    capture_warnings();
    let rt = Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let metrics = rt.metrics();
    rt.block_on({
        let metrics = metrics.clone();
        async move {
            task::Builder::new()
                .name("blocks-unwatched")
                .spawn(async move {
                    assert_eq!(my_worker(&metrics), 0);
                    std::thread::sleep(Duration::from_millis(30));
                })
                .unwrap()
                .await
                .unwrap();
        }
    });
    assert_eq!(metrics.worker_long_poll_count(0), 0);
    assert!(warnings_naming("blocks-unwatched").is_empty());
    // Between polls (block_on is done): no task is being polled.
    block_until(|| metrics.worker_current_task(0).is_none());
    assert!(metrics.worker_current_task(0).is_none());
}

/// The names of this process's threads.
#[cfg(target_os = "linux")]
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|entry| std::fs::read_to_string(entry.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

/// The monitor thread runs only when a threshold is set.
#[cfg(target_os = "linux")]
#[test]
fn the_monitor_thread_runs_only_with_a_threshold() {
    let watched = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("wdon")
        .long_poll_threshold(Duration::from_secs(1))
        .build()
        .unwrap();
    let unwatched = Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("wdoff")
        .build()
        .unwrap();
    // A thread names itself as it starts: wait for the ones expected.
    let started = |names: &[String]| {
        names.iter().any(|n| n == "wdon-watchdog") && names.iter().any(|n| n == "wdoff-0")
    };
    block_until(|| started(&thread_names()));
    let names = thread_names();
    assert!(names.iter().any(|n| n == "wdon-watchdog"), "{names:?}");
    assert!(names.iter().any(|n| n == "wdoff-0"), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("wdoff-watch")),
        "{names:?}"
    );
    drop((watched, unwatched));
}

#[test]
#[should_panic(expected = "long_poll_threshold must be above zero")]
fn a_zero_threshold_is_refused() {
    Builder::new_multi_thread().long_poll_threshold(Duration::ZERO);
}

/// A current-thread runtime has no sibling to move work to, but its long
/// polls are reported and counted all the same.
#[test]
fn a_long_poll_on_a_current_thread_runtime_is_reported() {
    capture_warnings();
    let rt = Builder::new_current_thread()
        .long_poll_threshold(Duration::from_millis(10))
        .build()
        .unwrap();
    let metrics = rt.metrics();
    let counted_while_stuck = rt.block_on({
        let metrics = metrics.clone();
        async move {
            task::Builder::new()
                .name("blocks-the-only-worker")
                .spawn(async move {
                    let before = metrics.worker_long_poll_count(0);
                    block_until(|| metrics.worker_long_poll_count(0) > before);
                    metrics.worker_long_poll_count(0) - before
                })
                .unwrap()
                .await
                .unwrap()
        }
    });
    assert_eq!(counted_while_stuck, 1);
    let warnings = warnings_naming("blocks-the-only-worker");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["worker"], "0");
}

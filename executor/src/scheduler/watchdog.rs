//! The watchdog: polls that run longer than `long_poll_threshold`, and
//! which task each worker is polling now.
//!
//! Cooperative preemption ends a slice only at a charging await point: a
//! poll that computes for long, or blocks its thread, holds its worker for
//! as long. The worker cannot report that itself (it is the one stuck), and
//! the poll loop reads no clock. Instead each worker publishes which task
//! it polls (its [`Progress`](super::Progress): the count of completed
//! polls and the word of the poll in progress, [`poll_word`]), and a
//! monitor thread, started only when a threshold is set, samples every
//! worker each `threshold / 4`, kept between [`MIN_INTERVAL`] and
//! [`MAX_INTERVAL`]:
//!
//! * the same poll seen across more than the threshold is a long poll: it
//!   is reported once (a `tracing` warning with the task's id, name and
//!   priority, the worker and how long so far) and counted in the worker's
//!   `long_polls`;
//! * while a worker is in a long poll, the work queued on it is moved to a
//!   sibling that is not: its LIFO slot, its urgent slot and inbox, half of
//!   each of its rings, its overflow and its deadline heaps at each sample,
//!   pushed to the sibling's inbox, which wakes it (`Shared::push_remote`).
//!   Every take is one the owner races safely (the slot's swap, the rings'
//!   steal CAS, the inbox's drain, the overflow's and the heaps' locks), so
//!   the owner, back from its poll, finds the tasks gone.
//!
//! A poll's duration is measured from when a sampler first saw it (the
//! monitor, or a metrics read): at most one sampling interval short of the
//! real figure, never more than it, so a poll is reported only once it
//! really ran for the threshold.
//!
//! # Naming the task
//!
//! The sampler never touches the task: a worker's word holds the task's id
//! and priority, and the name is looked up by id in the registry, under
//! its lock, so no sample can reach freed memory. The name is kept only if
//! the worker's count still reads the same after the lookup: the task was
//! then in its poll (see the protocol at `Progress`), alive, and ids are
//! unique among live tasks. One window is left: the worker drops its
//! reference at the end of the poll a moment before its count moves on; a
//! task freed there whose address (its id) is reused at once by a new
//! named task would lend that task's name to the report. It costs a name
//! in a log line, never memory safety, and closing it would cost every
//! poll a reference count.

use std::num::NonZeroU64;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use super::Shared;
use crate::queue::{Local, Steal, ring};
use crate::task::header::Task;
use crate::task::{Id, Priority};

/// The shortest sampling interval: a threshold below four of these is
/// sampled this often.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// The longest sampling interval: also how long the monitor thread may
/// outlive its runtime (it is not joined; it sees the shutdown at its next
/// sample and exits).
pub(crate) const MAX_INTERVAL: Duration = Duration::from_millis(100);

/// Bits of a poll word above the task id: the priority's index.
const PRIORITY_SHIFT: u32 = 62;

/// The word a worker publishes for a poll of task `id` at `priority`:
/// never 0 (ids are not), the priority in the two top bits.
#[inline]
pub(crate) fn poll_word(id: Id, priority: Priority) -> NonZeroU64 {
    // An id is an address shifted right by 3: below 2^61.
    let word = id.as_u64() | ((priority.index() as u64) << PRIORITY_SHIFT);
    NonZeroU64::new(word).unwrap_or(NonZeroU64::MIN)
}

/// The task and priority a poll word names.
fn decode(word: NonZeroU64) -> (Id, Priority) {
    let priority = Priority::from_index((word.get() >> PRIORITY_SHIFT) as usize);
    let id = word.get() & ((1 << PRIORITY_SHIFT) - 1);
    let id = NonZeroU64::new(id).unwrap_or(NonZeroU64::MIN);
    (Id(id), priority)
}

/// The poll a sampler last saw on a worker, and since when.
#[derive(Clone, Copy)]
struct Seen {
    completed: u64,
    word: NonZeroU64,
    since: Instant,
    reported: bool,
}

/// The watchdog's state in [`Shared`]: the threshold, the per-worker
/// `long_polls` counters and the polls the samplers saw.
pub(crate) struct Watchdog {
    threshold: Option<Duration>,
    /// Per worker; written by the monitor thread only.
    long_polls: Box<[AtomicU64]>,
    /// Per worker, the poll last seen in progress. Cold: locked by the
    /// monitor once per sample and by metrics reads.
    seen: Mutex<Vec<Option<Seen>>>,
}

/// A worker's poll in progress, as a sampler saw it.
pub(crate) struct PollSample {
    pub(crate) id: Id,
    pub(crate) priority: Priority,
    pub(crate) name: Option<String>,
    pub(crate) running_for: Duration,
}

impl Watchdog {
    pub(crate) fn new(workers: usize, threshold: Option<Duration>) -> Watchdog {
        Watchdog {
            threshold,
            long_polls: (0..workers).map(|_| AtomicU64::new(0)).collect(),
            seen: Mutex::new(vec![None; workers]),
        }
    }

    /// Long polls reported on `worker`.
    pub(crate) fn long_polls(&self, worker: usize) -> u64 {
        self.long_polls[worker].load(Relaxed)
    }

    /// Notes that `worker` is in the poll `(completed, word)` at `now`,
    /// and returns how long it has been seen in it and whether it just
    /// crossed the threshold (`true` once per poll).
    fn observe(
        &self,
        worker: usize,
        completed: u64,
        word: NonZeroU64,
        now: Instant,
    ) -> (Duration, bool) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let entry = &mut seen[worker];
        if entry.is_some_and(|s| completed < s.completed) {
            // A sample older than the one recorded (another sampler's
            // came in first): it must not restart the newer poll's clock.
            return (Duration::ZERO, false);
        }
        let current = match entry {
            Some(s) if s.completed == completed && s.word == word => s,
            _ => entry.insert(Seen {
                completed,
                word,
                since: now,
                reported: false,
            }),
        };
        let running_for = now.saturating_duration_since(current.since);
        let crossed = !current.reported && self.threshold.is_some_and(|t| running_for >= t);
        if crossed {
            current.reported = true;
        }
        (running_for, crossed)
    }
}

impl Shared {
    /// The poll worker `worker` is in now, if any: the task's id, priority
    /// and name, and how long it has been seen running.
    pub(crate) fn current_poll(&self, worker: usize) -> Option<PollSample> {
        let progress = &self.workers[worker].progress;
        let (completed, word) = progress.sample()?;
        let (running_for, _) = self
            .watchdog
            .observe(worker, completed, word, Instant::now());
        Some(self.describe(worker, completed, word, running_for))
    }

    /// The sample of poll `(completed, word)` on `worker`, named if the
    /// poll was still in progress after the lookup (see the module docs).
    fn describe(
        &self,
        worker: usize,
        completed: u64,
        word: NonZeroU64,
        running_for: Duration,
    ) -> PollSample {
        let (id, priority) = decode(word);
        let name = self
            .registry
            .name_of(id)
            .filter(|_| self.workers[worker].progress.get() == completed);
        PollSample {
            id,
            priority,
            name,
            running_for,
        }
    }
}

/// Starts the monitor thread if `shared` has a long-poll threshold.
pub(crate) fn start(shared: &Arc<Shared>) -> std::io::Result<()> {
    let Some(threshold) = shared.watchdog.threshold else {
        return Ok(());
    };
    let interval = (threshold / 4).clamp(MIN_INTERVAL, MAX_INTERVAL);
    let weak = Arc::downgrade(shared);
    shared
        .config
        .thread_builder(format_args!("-watchdog"))
        .spawn(move || monitor(&weak, interval))?;
    Ok(())
}

/// The monitor thread: samples every worker each `interval` until the
/// runtime shuts down (or is gone). It holds the runtime only while it
/// samples, so it never keeps a dropped runtime alive.
fn monitor(shared: &Weak<Shared>, interval: Duration) {
    let mut scratch = ring();
    let mut stuck = Vec::new();
    loop {
        std::thread::sleep(interval);
        let Some(shared) = shared.upgrade() else {
            return;
        };
        if shared.is_shutdown() {
            return;
        }
        shared.sample_workers(&mut stuck, &mut scratch);
    }
}

impl Shared {
    /// One round of the monitor: finds, reports and counts long polls, and
    /// moves the work of every worker in one to a sibling that is not.
    fn sample_workers(&self, stuck: &mut Vec<bool>, scratch: &mut (Local<Task>, Steal<Task>)) {
        let threshold = self.watchdog.threshold.unwrap_or(Duration::MAX);
        let now = Instant::now();
        stuck.clear();
        for (worker, remote) in self.workers.iter().enumerate() {
            let Some((completed, word)) = remote.progress.sample() else {
                stuck.push(false);
                continue;
            };
            let (running_for, crossed) = self.watchdog.observe(worker, completed, word, now);
            stuck.push(running_for >= threshold);
            if crossed {
                let poll = self.describe(worker, completed, word, running_for);
                metrics_add(&self.watchdog.long_polls[worker]);
                tracing::warn!(
                    worker,
                    task.id = poll.id.as_u64(),
                    task.name = poll.name.as_deref().unwrap_or(""),
                    priority = poll.priority.as_str(),
                    running_for_ms = poll.running_for.as_millis() as u64,
                    "long poll: a task's poll has held its worker past long_poll_threshold \
                     without yielding (use spawn_blocking or block_in_place for blocking code)"
                );
            }
        }
        for worker in 0..self.workers.len() {
            if stuck[worker] {
                self.rescue_from_long_poll(worker, stuck, scratch);
            }
        }
    }

    /// Moves the work queued on `worker`, in a long poll, to the inbox of
    /// the next sibling not in one (which the push wakes).
    fn rescue_from_long_poll(
        &self,
        worker: usize,
        stuck: &[bool],
        scratch: &mut (Local<Task>, Steal<Task>),
    ) {
        let n = self.workers.len();
        let Some(target) = (1..n).map(|i| (worker + i) % n).find(|&w| !stuck[w]) else {
            return;
        };
        let from = &self.workers[worker];
        let mut moved = 0usize;
        let mut push = |task: Task| {
            self.push_remote(target, task);
            moved += 1;
        };
        if let Some(task) = from.lifo.take() {
            push(task);
        }
        for task in from.take_incoming() {
            push(task);
        }
        let (local, _) = scratch;
        for ring in &from.rings {
            if let Some(task) = ring.steal_into(local) {
                push(task);
                while let Some(task) = local.pop() {
                    push(task);
                }
            }
        }
        for task in from.overflow.take_all() {
            push(task);
        }
        // The sibling's drain of its inbox puts these in its own heaps.
        for task in from.deadline_heaps.take_all(&from.metrics.private) {
            push(task);
        }
        if moved > 0 {
            tracing::debug!(
                worker,
                sibling = target,
                tasks = moved,
                "moved the work queued on a worker in a long poll to a sibling"
            );
        }
    }
}

/// Adds one to a counter only the monitor thread writes.
fn metrics_add(counter: &AtomicU64) {
    crate::metrics::add(counter, 1);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_poll_word_gives_back_its_id_and_priority() {
        for priority in Priority::ALL {
            for id in [1u64, 0x1234_5678_9abc, (1 << 61) - 1] {
                let id = Id(NonZeroU64::new(id).unwrap());
                assert_eq!(decode(poll_word(id, priority)), (id, priority));
            }
        }
    }

    #[test]
    fn a_zero_threshold_is_an_error() {
        let mut settings = crate::runtime::Settings::multi_thread();
        settings.long_poll_threshold = Some(Duration::ZERO);
        let err = crate::runtime::Builder::with_settings(settings)
            .build()
            .expect_err("a zero threshold is refused");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("long_poll_threshold"), "{err}");
    }

    #[test]
    fn a_poll_crosses_the_threshold_once() {
        let watchdog = Watchdog::new(1, Some(Duration::from_millis(10)));
        let word = NonZeroU64::new(5).unwrap();
        let start = Instant::now();
        assert!(!watchdog.observe(0, 7, word, start).1);
        let later = start + Duration::from_millis(10);
        assert_eq!(
            watchdog.observe(0, 7, word, later),
            (Duration::from_millis(10), true)
        );
        assert!(
            !watchdog
                .observe(0, 7, word, later + Duration::from_millis(10))
                .1
        );
        // The next poll (the count moved) starts over; a late sample of
        // the one before changes nothing.
        assert_eq!(watchdog.observe(0, 8, word, later).0, Duration::ZERO);
        let much_later = later + Duration::from_millis(30);
        assert!(!watchdog.observe(0, 7, word, much_later).1);
        assert_eq!(
            watchdog.observe(0, 8, word, much_later),
            (Duration::from_millis(30), true)
        );
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use crate::scheduler::remote::Progress;
    use loom::sync::Arc;
    use std::num::NonZeroU64;

    /// A reader sampling a worker that ends one poll and begins the next:
    /// a sample is either no poll, or a count with the word of the poll
    /// that count belongs to (never the next poll's word with the old
    /// count, nor the old poll's word with the new count).
    #[test]
    fn a_sample_pairs_each_count_with_its_own_poll() {
        loom::model(|| {
            let progress = Arc::new(Progress::default());
            let word = |k: u64| NonZeroU64::new(100 + k).unwrap();
            progress.begin_poll(word(0));
            let worker = {
                let progress = progress.clone();
                loom::thread::spawn(move || {
                    progress.advance();
                    progress.begin_poll(word(1));
                    progress.advance();
                })
            };
            for _ in 0..2 {
                if let Some((completed, w)) = progress.sample() {
                    assert_eq!(w, word(completed), "count {completed} with word {w}");
                }
            }
            worker.join().unwrap();
            assert_eq!(progress.sample(), None);
        });
    }
}

//! What a pending task costs in memory, whichever way it was spawned:
//! inside the runtime or from outside it, its `JoinHandle` kept or
//! dropped, its future of 16 bytes or none. Counted by a counting global
//! allocator, so the figures are exact whatever the machine's load. (The
//! `task_memory` program of `smp_rt_bench` prints them, with the resident
//! set and tokio's.)

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::Duration;

use smp_rt::JoinHandle;
use smp_rt::runtime::{Builder, Runtime};

/// The system allocator, counting the bytes live in the process and the
/// allocations made by threads that asked to be counted.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

thread_local! {
    /// Allocations made by this thread while it counts (`None`: it does
    /// not count).
    static ALLOCATIONS: Cell<Option<usize>> = const { Cell::new(None) };
}

// SAFETY: forwards every call to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, SeqCst);
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get().map(|n| n + 1)));
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, SeqCst);
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, SeqCst);
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get().map(|n| n + 1)));
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The live-bytes test reads a process-wide count: the tests of this file
/// run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Futures polled at least once.
static POLLED: AtomicUsize = AtomicUsize::new(0);

/// A future of 16 bytes that never completes.
struct Pending16 {
    _payload: u64,
    polled: bool,
}

impl Future for Pending16 {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if !self.polled {
            self.polled = true;
            POLLED.fetch_add(1, SeqCst);
        }
        Poll::Pending
    }
}

/// A future of 0 bytes that never completes (nothing wakes it: it is
/// polled once).
struct Pending0;

impl Future for Pending0 {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        POLLED.fetch_add(1, SeqCst);
        Poll::Pending
    }
}

fn two_workers() -> Runtime {
    Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a two-worker runtime")
}

/// Spawns `n` pending tasks with `spawn16` or `spawn0` (a 16-byte future
/// if `sixteen`),
/// keeping their handles in `handles` if `keep`; returns the allocations
/// this thread made meanwhile.
fn spawn_counted(
    n: usize,
    sixteen: bool,
    keep: bool,
    handles: &mut Vec<JoinHandle<()>>,
    spawn16: &dyn Fn(Pending16) -> JoinHandle<()>,
    spawn0: &dyn Fn(Pending0) -> JoinHandle<()>,
) -> usize {
    ALLOCATIONS.with(|count| count.set(Some(0)));
    for _ in 0..n {
        let handle = if sixteen {
            spawn16(Pending16 {
                _payload: 0,
                polled: false,
            })
        } else {
            spawn0(Pending0)
        };
        if keep {
            handles.push(handle);
        }
    }
    ALLOCATIONS.with(|count| count.replace(None).expect("counting"))
}

/// Spawns `n` pending tasks in one pattern, inside the runtime (from a
/// task) or outside it (from a plain thread); returns the allocations the
/// spawning thread made and the handles if kept (in a `Vec` reserved
/// beforehand).
fn spawn_pattern(
    rt: &Runtime,
    n: usize,
    inside: bool,
    keep: bool,
    sixteen: bool,
) -> (usize, Vec<JoinHandle<()>>) {
    let mut handles = Vec::with_capacity(if keep { n } else { 0 });
    if inside {
        rt.block_on(rt.spawn(async move {
            let allocations = spawn_counted(
                n,
                sixteen,
                keep,
                &mut handles,
                &|f| smp_rt::spawn(f),
                &|f| smp_rt::spawn(f),
            );
            (allocations, handles)
        }))
        .expect("the spawning task")
    } else {
        let handle = rt.handle().clone();
        std::thread::spawn(move || {
            let allocations =
                spawn_counted(n, sixteen, keep, &mut handles, &|f| handle.spawn(f), &|f| {
                    handle.spawn(f)
                });
            (allocations, handles)
        })
        .join()
        .expect("the spawning thread")
    }
}

/// Every pattern: (inside, keep, sixteen).
fn patterns() -> Vec<(bool, bool, bool)> {
    let mut all = Vec::new();
    for inside in [true, false] {
        for keep in [true, false] {
            for sixteen in [true, false] {
                all.push((inside, keep, sixteen));
            }
        }
    }
    all
}

#[test]
fn spawning_allocates_once_per_task_in_every_pattern() {
    // The task's allocation holds everything a task needs to be queued
    // anywhere, from a worker or from outside: the inbox link is in its
    // header, and the handle holds no waker of its own.
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let rt = two_workers();
    for (inside, keep, sixteen) in patterns() {
        let (allocations, handles) = spawn_pattern(&rt, 1000, inside, keep, sixteen);
        // Inside, a burst that outgrows the spawning worker's ring queues
        // the rest in its overflow, a buffer that grows by doubling (a
        // handful of allocations for the burst, not one per task).
        let queue_growth = if inside { 16 } else { 0 };
        assert!(
            (1000..=1000 + queue_growth).contains(&allocations),
            "{allocations} allocations for 1000 spawns, inside {inside}, kept {keep}, \
             16 bytes {sixteen}"
        );
        drop(handles);
    }
}

#[test]
fn a_pending_task_holds_at_most_110_bytes_of_heap_in_every_pattern() {
    // The task's allocation (async-task's header, smp_rt's 40-byte header,
    // the future or output) and its 10-byte registry entry, once it waits:
    // no table that grows by doubling, no node per remote push. Kept
    // handles live in a `Vec` reserved before the first reading.
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const TASKS: usize = 4096;
    for (inside, keep, sixteen) in patterns() {
        let rt = two_workers();
        rt.block_on(async {});
        POLLED.store(0, SeqCst);
        let before = LIVE_BYTES.load(SeqCst);
        let (_, handles) = spawn_pattern(&rt, TASKS, inside, keep, sixteen);
        while POLLED.load(SeqCst) < TASKS {
            std::thread::sleep(Duration::from_millis(1));
        }
        let reserved = (handles.capacity() * size_of::<JoinHandle<()>>()) as isize;
        let per_task = (LIVE_BYTES.load(SeqCst) - before - reserved) / TASKS as isize;
        assert!(
            per_task <= 110,
            "{per_task} bytes per pending task, inside {inside}, kept {keep}, 16 bytes {sixteen}"
        );
        drop(handles);
        drop(rt);
    }
}

#[test]
fn a_pending_task_with_its_kept_handle_holds_at_most_120_bytes_of_heap() {
    // What a caller that keeps every handle pays per task: the task's
    // allocation (88 bytes requested, a 96-byte glibc chunk), its 10-byte
    // registry entry once it waits, a few bytes a task of the runtime's
    // and the spawning thread's own structures, and the handle's two words
    // in the caller's `Vec`, counted this time (with a handle of four
    // words, this is over 130).
    let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    const TASKS: usize = 4096;
    assert_eq!(size_of::<JoinHandle<()>>(), 16, "a handle is two words");
    for inside in [true, false] {
        for sixteen in [true, false] {
            let rt = two_workers();
            rt.block_on(async {});
            POLLED.store(0, SeqCst);
            let before = LIVE_BYTES.load(SeqCst);
            let (_, handles) = spawn_pattern(&rt, TASKS, inside, true, sixteen);
            while POLLED.load(SeqCst) < TASKS {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert_eq!(handles.len(), TASKS);
            let per_task = (LIVE_BYTES.load(SeqCst) - before) / TASKS as isize;
            assert!(
                per_task <= 120,
                "{per_task} bytes per pending task with its handle, inside {inside}, \
                 16 bytes {sixteen}"
            );
            drop(handles);
            drop(rt);
        }
    }
}

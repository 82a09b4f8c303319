//! Memory per pending task, by the way it was spawned: for smp_rt and
//! tokio, `N` tasks whose futures never complete are spawned
//!
//! * inside the runtime (from a task) or outside it (from a plain thread,
//!   through the runtime's handle),
//! * with their `JoinHandle`s kept (in a `Vec` reserved before the first
//!   reading, so its own 8 bytes a handle are not counted) or dropped,
//! * with a future of 16 bytes or of 0 bytes,
//!
//! and every task is polled once (so it waits, as a parked task does).
//! Each pattern runs in a child process of its own, and reports
//!
//! * `heap` (the runtime's column): bytes live in the global allocator after the tasks
//!   were polled, minus before, over `N` (requested sizes, counted by a
//!   counting allocator: deterministic, whatever the machine's load);
//! * `allocs`: allocations live after minus before, over `N`;
//! * `RSS`: the resident set's growth (`/proc/self/statm`) over
//!   `N`, which adds the allocator's own rounding and headers;
//! * `handle`: the size of a kept `JoinHandle`, what the `Vec` holding it
//!   pays per task on top (0 when handles are dropped).
//!
//! Run with `cargo run -p smp_rt_bench --bin task_memory [-- TASKS]`
//! (`TASKS` defaults to 200000); a debug build measures the same sizes.

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::pin::Pin;
use std::process::Command;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering::Relaxed};
use std::task::{Context, Poll};
use std::time::Duration;

/// The system allocator, counting the bytes and allocations live.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_ALLOCS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to `System`, only counting.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Relaxed);
            LIVE_ALLOCS.fetch_add(1, Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as isize, Relaxed);
        LIVE_ALLOCS.fetch_sub(1, Relaxed);
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            LIVE_BYTES.fetch_add(new_size as isize - layout.size() as isize, Relaxed);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Futures polled so far (each counts its first poll).
static POLLED: AtomicUsize = AtomicUsize::new(0);

/// A future of `N * 8` bytes that never completes.
struct Pending<const N: usize> {
    _payload: [u64; N],
    polled: bool,
}

/// Zero bytes: `Pending<0>` would still hold its `polled` flag.
struct Pending0;

impl<const N: usize> Pending<N> {
    fn new() -> Self {
        Pending {
            _payload: [0; N],
            polled: false,
        }
    }
}

impl<const N: usize> Future for Pending<N> {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        if !self.polled {
            self.polled = true;
            POLLED.fetch_add(1, Relaxed);
        }
        Poll::Pending
    }
}

impl Future for Pending0 {
    type Output = ();
    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        // Polled once only: nothing wakes it.
        POLLED.fetch_add(1, Relaxed);
        Poll::Pending
    }
}

/// The 16-byte future: 8 bytes of payload and the flag, padded.
type Pending16 = Pending<1>;

/// Resident set, in bytes.
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// A `Vec` for `n` handles, its pages touched so that the resident set
/// already holds it: neither reading counts the handles' own bytes (see
/// the `handle B` column).
fn reserved<H>(n: usize) -> Vec<H> {
    let mut handles = Vec::with_capacity(n);
    for slot in handles.spare_capacity_mut() {
        // SAFETY: writing zeroes into uninitialised spare capacity, which
        // stays uninitialised for the `Vec` (its length is unchanged).
        unsafe { std::ptr::write_bytes(slot.as_mut_ptr(), 0, 1) };
    }
    std::hint::black_box(&mut handles);
    handles
}

/// A reading of the process's memory.
#[derive(Clone, Copy)]
struct Reading {
    bytes: isize,
    allocs: isize,
    rss: usize,
}

fn read() -> Reading {
    Reading {
        bytes: LIVE_BYTES.load(Relaxed),
        allocs: LIVE_ALLOCS.load(Relaxed),
        rss: rss(),
    }
}

/// Waits until `n` futures were polled.
fn wait_polled(n: usize) {
    while POLLED.load(Relaxed) < n {
        std::thread::sleep(Duration::from_millis(5));
    }
    // The workers go back to their queues after the last poll.
    std::thread::sleep(Duration::from_millis(50));
}

/// One pattern.
#[derive(Clone, Copy)]
struct Pattern {
    inside: bool,
    keep: bool,
    sixteen: bool,
}

impl Pattern {
    fn all() -> Vec<Pattern> {
        let mut all = Vec::new();
        for inside in [true, false] {
            for keep in [true, false] {
                for sixteen in [true, false] {
                    all.push(Pattern {
                        inside,
                        keep,
                        sixteen,
                    });
                }
            }
        }
        all
    }

    fn name(self) -> String {
        format!(
            "{}-{}-{}",
            if self.inside { "inside" } else { "outside" },
            if self.keep { "kept" } else { "dropped" },
            if self.sixteen { 16 } else { 0 },
        )
    }

    fn parse(name: &str) -> Pattern {
        Pattern::all()
            .into_iter()
            .find(|p| p.name() == name)
            .unwrap_or_else(|| panic!("unknown pattern {name:?}"))
    }
}

/// Spawns `n` tasks of `pattern` with `spawn`, keeping their handles in
/// `handles` if the pattern keeps them.
fn spawn_all<H>(
    pattern: Pattern,
    n: usize,
    handles: &mut Vec<H>,
    spawn16: impl Fn(Pending16) -> H,
    spawn0: impl Fn(Pending0) -> H,
) {
    for _ in 0..n {
        let handle = if pattern.sixteen {
            spawn16(Pending16::new())
        } else {
            spawn0(Pending0)
        };
        if pattern.keep {
            handles.push(handle);
        }
    }
}

/// Runs `pattern` on smp_rt; the reading before and after.
fn run_smp_rt(pattern: Pattern, n: usize) -> (Reading, Reading) {
    let rt = smp_rt::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("an smp_rt runtime");
    // The runtime's threads settle before the first reading.
    rt.block_on(async {});
    std::thread::sleep(Duration::from_millis(50));
    let mut handles = reserved(n);
    let before = read();
    let handles = if pattern.inside {
        rt.block_on(rt.spawn(async move {
            spawn_all(pattern, n, &mut handles, smp_rt::spawn, smp_rt::spawn);
            handles
        }))
        .expect("the spawning task")
    } else {
        let handle = rt.handle().clone();
        std::thread::spawn(move || {
            spawn_all(
                pattern,
                n,
                &mut handles,
                |f| handle.spawn(f),
                |f| handle.spawn(f),
            );
            handles
        })
        .join()
        .expect("the spawning thread")
    };
    wait_polled(n);
    let after = read();
    drop(handles);
    std::mem::forget(rt);
    (before, after)
}

/// Runs `pattern` on tokio; the reading before and after.
fn run_tokio(pattern: Pattern, n: usize) -> (Reading, Reading) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {});
    std::thread::sleep(Duration::from_millis(50));
    let mut handles = reserved(n);
    let before = read();
    let handles = if pattern.inside {
        rt.block_on(rt.spawn(async move {
            spawn_all(pattern, n, &mut handles, tokio::spawn, tokio::spawn);
            handles
        }))
        .expect("the spawning task")
    } else {
        let handle = rt.handle().clone();
        std::thread::spawn(move || {
            spawn_all(
                pattern,
                n,
                &mut handles,
                |f| handle.spawn(f),
                |f| handle.spawn(f),
            );
            handles
        })
        .join()
        .expect("the spawning thread")
    };
    wait_polled(n);
    let after = read();
    drop(handles);
    std::mem::forget(rt);
    (before, after)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        // --child RUNTIME PATTERN TASKS
        let pattern = Pattern::parse(&args[3]);
        let n: usize = args[4].parse().expect("a task count");
        let (before, after) = match args[2].as_str() {
            "smp_rt" => run_smp_rt(pattern, n),
            "tokio" => run_tokio(pattern, n),
            other => panic!("unknown runtime {other:?}: smp_rt or tokio"),
        };
        let handle_size = match args[2].as_str() {
            "smp_rt" => size_of::<smp_rt::task::JoinHandle<()>>(),
            _ => size_of::<tokio::task::JoinHandle<()>>(),
        };
        let per = |d: f64| d / n as f64;
        println!(
            "{:.1} {:.2} {:.1} {}",
            per((after.bytes - before.bytes) as f64),
            per((after.allocs - before.allocs) as f64),
            per(after.rss as f64 - before.rss as f64),
            if pattern.keep { handle_size } else { 0 },
        );
        // Skips the runtimes' teardown: the numbers are out.
        std::process::exit(0);
    }
    let n: usize = match args.get(1) {
        Some(arg) => arg
            .parse()
            .unwrap_or_else(|_| panic!("TASKS must be a count of tasks, not {arg:?}")),
        None => 200_000,
    };
    let exe = std::env::current_exe().expect("this program's path");
    println!(
        "{n} pending tasks per pattern, bytes per task; kept handles are in a Vec \
         reserved and touched beforehand, so heap and RSS exclude them: \
         `handle` is each kept handle's own size"
    );
    println!(
        "{:<20} {:>8} {:>7} {:>7} {:>7}   {:>8} {:>7} {:>7} {:>7}",
        "pattern", "smp_rt", "allocs", "RSS", "handle", "tokio", "allocs", "RSS", "handle"
    );
    for pattern in Pattern::all() {
        let mut row = format!("{:<20}", pattern.name());
        for runtime in ["smp_rt", "tokio"] {
            let out = Command::new(&exe)
                .args(["--child", runtime, &pattern.name(), &n.to_string()])
                .output()
                .expect("a child process");
            let text = String::from_utf8_lossy(&out.stdout);
            let fields: Vec<&str> = text.split_whitespace().collect();
            if !out.status.success() || fields.len() != 4 {
                row += &format!(
                    " failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("")
                );
                continue;
            }
            row += &format!(
                " {:>8} {:>7} {:>7} {:>7}  ",
                fields[0], fields[1], fields[2], fields[3]
            );
        }
        println!("{row}");
    }
}

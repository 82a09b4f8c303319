//! Where the worker threads run: `worker_threads_between` (a worker count
//! clamped to the cores available) and `pin_workers` (each worker thread
//! pinned to one allowed CPU).

use smp_rt::runtime::{Builder, Runtime};

fn cores() -> usize {
    std::thread::available_parallelism().unwrap().get()
}

fn workers_between(min: usize, max: usize) -> usize {
    let rt = Builder::new_multi_thread()
        .worker_threads_between(min, max)
        .build()
        .unwrap();
    rt.metrics().num_workers()
}

#[test]
fn the_worker_count_is_the_cores_clamped_into_the_range() {
    let n = cores();
    // A minimum above the cores raises the count to it.
    assert_eq!(workers_between(n + 1, n + 3), n + 1);
    // A range that holds the core count gives one worker per core.
    assert_eq!(workers_between(1, n + 1), n);
    assert_eq!(workers_between(n, n), n);
    // A maximum below the cores lowers the count to it.
    if n > 1 {
        assert_eq!(workers_between(1, n - 1), n - 1);
    }
}

#[test]
fn the_last_of_worker_threads_and_worker_threads_between_wins() {
    let n = cores();
    let rt = Builder::new_multi_thread()
        .worker_threads(n + 2)
        .worker_threads_between(n + 1, n + 1)
        .build()
        .unwrap();
    assert_eq!(rt.metrics().num_workers(), n + 1);
    let rt = Builder::new_multi_thread()
        .worker_threads_between(n + 1, n + 1)
        .worker_threads(n + 2)
        .build()
        .unwrap();
    assert_eq!(rt.metrics().num_workers(), n + 2);
}

#[test]
#[should_panic(expected = "worker_threads_between(0, 4): the minimum must be at least 1")]
fn a_zero_minimum_panics_with_the_reason() {
    Builder::new_multi_thread().worker_threads_between(0, 4);
}

#[test]
#[should_panic(expected = "worker_threads_between(5, 4): the minimum is above the maximum")]
fn a_minimum_above_the_maximum_panics_with_the_reason() {
    Builder::new_multi_thread().worker_threads_between(5, 4);
}

#[cfg(target_os = "linux")]
mod pinned {
    use std::collections::BTreeMap;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// The CPUs the calling thread may run on, ascending.
    fn cpus_of_this_thread() -> Vec<usize> {
        // SAFETY: all zeroes is the empty `cpu_set_t`.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: `set` is a writable `cpu_set_t` of the size passed.
        let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        (0..libc::CPU_SETSIZE as usize)
            // SAFETY: `cpu` is below `CPU_SETSIZE`.
            .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
            .collect()
    }

    /// The index of the worker the calling thread runs, from its name.
    fn worker_index() -> Option<usize> {
        std::thread::current()
            .name()?
            .strip_prefix("pinned-")?
            .parse()
            .ok()
    }

    type Seen = Arc<Mutex<BTreeMap<usize, Vec<usize>>>>;

    fn record(seen: &Seen) {
        if let Some(index) = worker_index() {
            seen.lock().unwrap().insert(index, cpus_of_this_thread());
        }
    }

    /// Builds a pinned runtime of `workers`, and returns the CPUs each
    /// worker thread may run on: as its start hook saw them, and as the
    /// tasks polled on it saw them.
    fn pinned_cpus(workers: usize) -> (Seen, Seen) {
        let at_start: Seen = Seen::default();
        let in_tasks: Seen = Seen::default();
        let rt: Runtime = {
            let at_start = at_start.clone();
            Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("pinned")
                .on_thread_start(move || record(&at_start))
                .pin_workers(true)
                .build()
                .unwrap()
        };
        rt.block_on(async {
            let tasks: Vec<_> = (0..64)
                .map(|_| {
                    let in_tasks = in_tasks.clone();
                    smp_rt::spawn(async move {
                        for _ in 0..8 {
                            record(&in_tasks);
                            smp_rt::task::yield_now().await;
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        });
        (at_start, in_tasks)
    }

    fn assert_pinned(workers: usize) {
        let allowed = cpus_of_this_thread();
        let (at_start, in_tasks) = pinned_cpus(workers);
        let at_start = at_start.lock().unwrap();
        let expected: BTreeMap<usize, Vec<usize>> = (0..workers)
            .map(|i| (i, vec![allowed[i % allowed.len()]]))
            .collect();
        assert_eq!(*at_start, expected, "allowed CPUs {allowed:?}");
        let in_tasks = in_tasks.lock().unwrap();
        assert!(!in_tasks.is_empty(), "no task ran on a worker thread");
        for (index, cpus) in in_tasks.iter() {
            assert_eq!(
                cpus, &expected[index],
                "worker {index}, allowed {allowed:?}"
            );
        }
    }

    #[test]
    fn each_worker_runs_on_one_allowed_cpu_in_order() {
        assert_pinned(cpus_of_this_thread().len());
    }

    #[test]
    fn workers_beyond_the_allowed_cpus_wrap_around() {
        assert_pinned(cpus_of_this_thread().len() + 1);
    }

    #[test]
    fn a_current_thread_runtime_leaves_the_caller_unpinned() {
        let before = cpus_of_this_thread();
        let rt = Builder::new_current_thread()
            .pin_workers(true)
            .build()
            .unwrap();
        assert_eq!(rt.block_on(async { cpus_of_this_thread() }), before);
        assert_eq!(cpus_of_this_thread(), before);
    }
}

#[cfg(not(target_os = "linux"))]
#[test]
fn pinning_is_unsupported_off_linux() {
    let err = Builder::new_multi_thread()
        .pin_workers(true)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
}

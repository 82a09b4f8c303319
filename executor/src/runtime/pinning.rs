//! Where the worker threads run: a worker count given as a range of the
//! cores available (`worker_threads_between`), and each worker thread
//! pinned to one core (`pin_workers`).
//!
//! Pinning uses the CPUs the thread calling `build` may run on (its
//! affinity mask: in a container or under `taskset` these need not be
//! `0..n`), in ascending order: worker `i` runs on the `i`-th of them,
//! wrapping around when there are more workers than CPUs (worker `i` and
//! worker `i + cpus` then share a CPU). Each worker thread pins itself
//! before its start hook runs and reports the result to `build`, which
//! fails with the first error: a runtime asked to be pinned is never
//! handed out unpinned.

use std::io;

/// The worker count of `worker_threads_between(min, max)` with `available`
/// cores: `available`, raised to `min` or lowered to `max`.
pub(crate) fn clamp_workers(available: usize, min: usize, max: usize) -> usize {
    available.clamp(min, max)
}

/// The CPU worker `index` is pinned to, among the allowed `cpus` (not
/// empty): the `index`-th, wrapping around.
pub(crate) fn cpu_for_worker(cpus: &[usize], index: usize) -> usize {
    cpus[index % cpus.len()]
}

/// The CPUs the calling thread may run on, ascending.
///
/// # Errors
///
/// The OS error of `sched_getaffinity`; `Unsupported` on systems other
/// than Linux.
#[cfg(target_os = "linux")]
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    // SAFETY: `cpu_set_t` is a plain bit array; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable `cpu_set_t` of the size passed;
    // pid 0 is the calling thread.
    let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if rc != 0 {
        return Err(io::Error::other(format!(
            "pin_workers: reading the CPUs this thread may run on (sched_getaffinity) failed: {}",
            io::Error::last_os_error()
        )));
    }
    let cpus: Vec<usize> = (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `cpu` is below `CPU_SETSIZE`, within `set`.
        .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
        .collect();
    if cpus.is_empty() {
        return Err(io::Error::other(
            "pin_workers: this thread's affinity mask lists no CPU",
        ));
    }
    Ok(cpus)
}

/// The CPUs the calling thread may run on: not known here.
#[cfg(not(target_os = "linux"))]
pub(crate) fn allowed_cpus() -> io::Result<Vec<usize>> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "pin_workers(true) is supported on Linux only (sched_setaffinity); leave it off on this \
         system",
    ))
}

/// Pins the calling thread, which runs worker `index`, to `cpu` alone.
#[cfg(target_os = "linux")]
pub(crate) fn pin_current_thread(index: usize, cpu: usize) -> io::Result<()> {
    // SAFETY: as in `allowed_cpus`.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `cpu` came from `allowed_cpus`, below `CPU_SETSIZE`.
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: `set` is a valid `cpu_set_t` of the size passed; pid 0 is the
    // calling thread.
    let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        return Err(io::Error::new(
            err.kind(),
            format!(
                "pin_workers: pinning worker {index} to CPU {cpu} (sched_setaffinity) failed: {err}"
            ),
        ));
    }
    Ok(())
}

/// Never called: `allowed_cpus` fails first on these systems.
#[cfg(not(target_os = "linux"))]
pub(crate) fn pin_current_thread(_index: usize, _cpu: usize) -> io::Result<()> {
    allowed_cpus().map(drop)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_the_cores_clamped_into_the_range() {
        assert_eq!(clamp_workers(8, 2, 4), 4);
        assert_eq!(clamp_workers(1, 2, 4), 2);
        assert_eq!(clamp_workers(3, 2, 4), 3);
        assert_eq!(clamp_workers(3, 3, 3), 3);
    }

    #[test]
    fn workers_take_the_allowed_cpus_in_order_and_wrap() {
        let cpus = [2, 5, 7];
        let placed: Vec<usize> = (0..5).map(|i| cpu_for_worker(&cpus, i)).collect();
        assert_eq!(placed, [2, 5, 7, 2, 5]);
    }

    #[test]
    fn settings_with_an_unusable_worker_range_fail_to_build() {
        for range in [(0, 2), (3, 2)] {
            let mut settings = crate::runtime::Settings::multi_thread();
            settings.worker_threads_between = Some(range);
            let err = crate::runtime::Builder::with_settings(settings)
                .build()
                .expect_err("an unusable range");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
            assert!(err.to_string().contains("worker_threads_between"), "{err}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_allowed_cpus_are_ascending_and_not_empty() {
        let cpus = allowed_cpus().unwrap();
        assert!(!cpus.is_empty());
        assert!(cpus.windows(2).all(|w| w[0] < w[1]), "{cpus:?}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_failed_pinning_names_the_worker_and_the_cpu() {
        // No CPU this process may use: the kernel refuses the mask.
        let cpu = libc::CPU_SETSIZE as usize - 1;
        if allowed_cpus().unwrap().contains(&cpu) {
            return;
        }
        let err = std::thread::spawn(move || pin_current_thread(7, cpu))
            .join()
            .unwrap()
            .unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&format!("worker 7 to CPU {cpu}")), "{msg}");
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{msg}");
    }
}

//! Helpers shared by the integration tests (a module, not a test target).

use std::future::Future;

use smp_rt::runtime::Builder;
use smp_rt::task;

/// Runs `body` in a task on a one-worker runtime with slices of the
/// smallest size and returns how often that task was preempted: the test
/// that a primitive's waits charge reductions.
pub fn preemptions_of<F>(body: impl FnOnce() -> F + Send + 'static) -> u64
where
    F: Future<Output = ()> + Send + 'static,
{
    let rt = Builder::new_current_thread()
        .reductions(smp_rt::runtime::MIN_REDUCTIONS)
        .build()
        .unwrap();
    rt.block_on(async move {
        smp_rt::spawn(async move {
            body().await;
            task::stats().preemptions
        })
        .await
        .unwrap()
    })
}

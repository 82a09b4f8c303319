//! Run-time behaviour of the code that `#[smp_rt::main]` and `#[smp_rt::test]`
//! expand to: each argument reaches the runtime, the body runs to completion
//! and its output is returned.

use std::error::Error;
use std::fmt;
use std::num::NonZero;
use std::thread;

use smp_rt::runtime::{Handle, RuntimeFlavor};

fn num_workers() -> usize {
    Handle::current().metrics().num_workers()
}

/// Spawns a task that charges `charges` reductions, one await point at a
/// time, and returns how many times that task was preempted.
async fn preemptions_while_charging(charges: u32) -> u64 {
    smp_rt::spawn(async move {
        for _ in 0..charges {
            smp_rt::task::consume_budget().await;
        }
        smp_rt::task::stats().preemptions
    })
    .await
    .expect("the charging task failed")
}

#[smp_rt::test]
async fn test_without_arguments_runs_on_the_test_thread() {
    // As `#[tokio::test]`: the current-thread flavor, whose one worker is
    // the test's own thread.
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
    assert_eq!(num_workers(), 1);
    let caller = thread::current().id();
    let ran_on = smp_rt::spawn(async { thread::current().id() })
        .await
        .expect("the spawned task failed");
    assert_eq!(ran_on, caller);
}

#[smp_rt::main]
async fn default_main() -> (RuntimeFlavor, usize) {
    (Handle::current().runtime_flavor(), num_workers())
}

#[test]
fn main_without_arguments_runs_one_worker_per_core() {
    let cores = thread::available_parallelism().map_or(1, NonZero::get);
    assert_eq!(default_main(), (RuntimeFlavor::MultiThread, cores));
}

#[smp_rt::test(flavor = "multi_thread")]
async fn test_with_multi_thread_flavor_runs_one_worker_per_core() {
    let cores = thread::available_parallelism().map_or(1, NonZero::get);
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::MultiThread
    );
    assert_eq!(num_workers(), cores);
}

#[smp_rt::test(worker_threads = 3)]
async fn worker_threads_sets_the_number_of_workers() {
    // `worker_threads` without a flavor selects the multi-thread one.
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::MultiThread
    );
    assert_eq!(num_workers(), 3);
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 1)]
async fn explicit_multi_thread_flavor_is_accepted() {
    assert_eq!(num_workers(), 1);
}

#[smp_rt::test(flavor = "current_thread")]
async fn current_thread_flavor_has_one_worker() {
    assert_eq!(num_workers(), 1);
}

#[smp_rt::test(flavor = "current_thread")]
async fn current_thread_flavor_runs_tasks_on_the_calling_thread() {
    let caller = thread::current().id();
    let ran_on = smp_rt::spawn(async { thread::current().id() })
        .await
        .expect("the spawned task failed");
    assert_eq!(ran_on, caller);
}

#[smp_rt::test(reductions = 66)]
async fn reductions_sets_the_slice_size() {
    let preemptions = preemptions_while_charging(1_000).await;
    assert!(
        preemptions >= 1,
        "1000 reductions with a slice of 66 should preempt, got {preemptions} preemptions"
    );
}

#[smp_rt::test(reductions = 1_000_000)]
async fn a_large_slice_is_not_preempted() {
    assert_eq!(preemptions_while_charging(1_000).await, 0);
}

#[smp_rt::test(flavor = "current_thread", reductions = 66)]
async fn reductions_applies_to_current_thread_flavor() {
    assert!(preemptions_while_charging(1_000).await >= 1);
}

#[smp_rt::test]
async fn ok_result_passes() -> Result<(), String> {
    let n: u32 = "7".parse().map_err(|e| format!("bad number: {e}"))?;
    if n == 7 {
        Ok(())
    } else {
        Err(format!("expected 7, got {n}"))
    }
}

#[derive(Debug)]
struct Odd(u32);

impl fmt::Display for Odd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is odd", self.0)
    }
}

impl Error for Odd {}

#[smp_rt::test]
async fn question_mark_converts_into_a_boxed_error() -> Result<(), Box<dyn Error>> {
    let n: u32 = "8".parse()?;
    if n % 2 == 1 {
        return Err(Box::new(Odd(n)));
    }
    let text = String::from_utf8(b"even".to_vec())?;
    assert_eq!(text, "even");
    Ok(())
}

#[smp_rt::test]
#[should_panic(expected = "the body ran")]
async fn other_attributes_are_kept() {
    panic!("the body ran");
}

#[smp_rt::test(worker_threads = 2)]
async fn spawned_tasks_run_on_the_test_runtime() {
    let here = Handle::current();
    let from_task = smp_rt::spawn(async { Handle::current().metrics().num_workers() })
        .await
        .expect("the spawned task failed");
    assert_eq!(from_task, 2);
    assert_eq!(here.metrics().num_workers(), 2);
}

#[smp_rt::main(worker_threads = 2, reductions = 2000)]
async fn workers_seen_by_main() -> usize {
    let from_task = smp_rt::spawn(async { num_workers() })
        .await
        .expect("the spawned task failed");
    assert_eq!(from_task, num_workers());
    from_task
}

#[smp_rt::main(flavor = "current_thread")]
async fn main_that_fails() -> Result<(), Box<dyn Error>> {
    let n: u32 = "9".parse()?;
    if n % 2 == 1 {
        return Err(Box::new(Odd(n)));
    }
    Ok(())
}

#[test]
fn main_attribute_runs_the_body_and_returns_its_output() {
    assert_eq!(workers_seen_by_main(), 2);
    // Each call builds a new runtime and shuts it down when the body ends.
    assert_eq!(workers_seen_by_main(), 2);
}

#[test]
fn main_attribute_returns_errors_from_the_body() {
    let error = main_that_fails().expect_err("9 is odd");
    assert_eq!(error.to_string(), "9 is odd");
}

#[smp_rt::test(name = "macro-runtime")]
async fn name_names_the_runtime() {
    assert_eq!(Handle::current().name(), Some("macro-runtime"));
}

#[smp_rt::test(flavor = "current_thread")]
async fn without_name_the_runtime_has_none() {
    assert_eq!(Handle::current().name(), None);
}

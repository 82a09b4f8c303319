//! Panics in user code that the runtime runs outside a poll.
//!
//! A poll's panic is caught by the harness and becomes the task's
//! `JoinError`. But the runtime also runs user code elsewhere: a future's
//! destructor when a task is dropped unrun or while it waits (shutdown), an
//! output's destructor when nobody awaits it, a waker of whoever awaits a
//! `JoinHandle` or a timer or an IO readiness. async-task runs the first
//! three under an abort-on-panic guard, and a panic in the driver would
//! unwind through a worker. Each of those places goes through here: the
//! panic is caught and reported as a `tracing` error, and the runtime goes
//! on.

use std::any::Any;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::Waker;

/// The message of a panic payload, for a report.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(message) = payload.downcast_ref::<&'static str>() {
        message
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message
    } else {
        "(a panic payload that is not a string)"
    }
}

/// Reports a panic caught in user code the runtime ran while doing `what`,
/// and drops its payload (whose own destructor may panic too: then that
/// payload is leaked, as the standard library's runtime does).
pub(crate) fn report(what: &str, payload: Box<dyn Any + Send>) {
    tracing::error!(
        panic = panic_message(&*payload),
        "smp_rt caught a panic in user code while {what}; the runtime goes on"
    );
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}

/// Drops `value`, reporting a panic in its destructor instead of unwinding.
pub(crate) fn drop_caught<T>(value: T, what: &str) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        report(what, payload);
    }
}

/// Wakes `waker`, reporting a panic in its `wake` instead of unwinding into
/// the caller (a driver, or a task's completion).
pub fn wake_caught(waker: Waker) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || waker.wake())) {
        report_wake(payload);
    }
}

/// [`wake_caught`] by reference.
pub(crate) fn wake_by_ref_caught(waker: &Waker) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| waker.wake_by_ref())) {
        report_wake(payload);
    }
}

fn report_wake(payload: Box<dyn Any + Send>) {
    report("waking a task (a waker's wake panicked)", payload);
}

/// A task's output as async-task holds it: dropping it (a detached task's
/// output, which async-task drops under an abort-on-panic guard) reports a
/// panic in its destructor instead.
pub(crate) struct TaskOutput<T>(ManuallyDrop<T>);

impl<T> TaskOutput<T> {
    pub(crate) fn new(value: T) -> TaskOutput<T> {
        TaskOutput(ManuallyDrop::new(value))
    }

    /// The output, for its `JoinHandle`.
    pub(crate) fn into_inner(self) -> T {
        let mut this = ManuallyDrop::new(self);
        // SAFETY: `this` is never dropped, so the value is taken once.
        unsafe { ManuallyDrop::take(&mut this.0) }
    }
}

impl<T> Drop for TaskOutput<T> {
    fn drop(&mut self) {
        // SAFETY: `drop` runs once, and `into_inner` (the only other taker)
        // skips it.
        let value = unsafe { ManuallyDrop::take(&mut self.0) };
        drop_caught(value, "dropping the output of a task nobody awaited");
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::task::Wake;

    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("drop");
        }
    }

    struct PanickingWake(AtomicUsize);
    impl Wake for PanickingWake {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
            panic!("wake");
        }
    }

    #[test]
    fn a_panicking_destructor_is_caught() {
        drop_caught(PanicsOnDrop, "testing");
        drop(TaskOutput::new(PanicsOnDrop));
        // The value a JoinHandle takes is not dropped here.
        std::mem::forget(TaskOutput::new(PanicsOnDrop).into_inner());
    }

    #[test]
    fn a_panicking_wake_is_caught() {
        let inner = Arc::new(PanickingWake(AtomicUsize::new(0)));
        let waker = Waker::from(inner.clone());
        wake_caught(waker.clone());
        wake_by_ref_caught(&waker);
        assert_eq!(
            inner.0.load(SeqCst),
            2,
            "every wake reached the inner waker"
        );
    }

    #[test]
    fn a_panic_message_is_read_from_str_and_string_payloads() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert!(panic_message(&7u8).contains("not a string"));
    }
}

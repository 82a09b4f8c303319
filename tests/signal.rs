//! Behaviour of `signal`: signals raised at the test process reach the
//! listeners created before them, once per batch of deliveries.
//!
//! Every test uses a signal of its own: the tests of this file share one
//! process, and a delivery reaches every listener of its kind in it.

use std::pin::pin;
use std::thread;

use futures::FutureExt;
use smp_rt::runtime::Builder;
use smp_rt::signal::unix::{SignalKind, signal};
use smp_rt::sync::oneshot;

mod common;
use common::preemptions_of;

/// Sends `signum` to this thread; the handler has run when it returns.
fn raise(signum: libc::c_int) {
    // SAFETY: `raise` has no memory-safety requirements. Every caller
    // created a listener for `signum` first, so the process's handler
    // catches it instead of the default action.
    let result = unsafe { libc::raise(signum) };
    assert_eq!(result, 0, "raise({signum}) failed");
}

#[smp_rt::test]
async fn recv_sees_a_raised_signal() {
    let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
    assert_eq!(
        usr1.recv().now_or_never(),
        None,
        "nothing was delivered yet"
    );
    raise(libc::SIGUSR1);
    assert_eq!(usr1.recv().await, Some(()));
    assert_eq!(
        usr1.recv().now_or_never(),
        None,
        "the delivery was reported"
    );
}

#[smp_rt::test]
async fn every_listener_sees_a_delivery_in_every_runtime() {
    let mut first = signal(SignalKind::hangup()).unwrap();
    let mut second = signal(SignalKind::hangup()).unwrap();
    // A third listener, in a runtime of its own on another thread.
    let (listening_tx, listening_rx) = oneshot::channel();
    let other_runtime = thread::spawn(move || {
        let rt = Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let mut third = signal(SignalKind::hangup()).unwrap();
            listening_tx.send(()).unwrap();
            third.recv().await
        })
    });
    listening_rx.await.unwrap();

    raise(libc::SIGHUP);
    assert_eq!(first.recv().await, Some(()));
    assert_eq!(second.recv().await, Some(()));
    assert_eq!(other_runtime.join().unwrap(), Some(()));
}

#[smp_rt::test]
async fn deliveries_between_two_recvs_coalesce() {
    let mut winch = signal(SignalKind::window_change()).unwrap();
    raise(libc::SIGWINCH);
    raise(libc::SIGWINCH);
    raise(libc::SIGWINCH);
    assert_eq!(winch.recv().await, Some(()));
    assert_eq!(
        winch.recv().now_or_never(),
        None,
        "three deliveries, one report"
    );
    // A delivery after the report is reported again.
    raise(libc::SIGWINCH);
    assert_eq!(winch.recv().await, Some(()));
}

#[smp_rt::test]
async fn a_listener_sees_only_deliveries_after_its_creation() {
    let mut early = signal(SignalKind::user_defined2()).unwrap();
    raise(libc::SIGUSR2);
    assert_eq!(early.recv().await, Some(()));
    let mut late = signal(SignalKind::user_defined2()).unwrap();
    assert_eq!(
        late.recv().now_or_never(),
        None,
        "created after the delivery"
    );
    raise(libc::SIGUSR2);
    assert_eq!(late.recv().await, Some(()));
    assert_eq!(early.recv().await, Some(()));
}

#[smp_rt::test]
async fn a_recv_cancelled_in_select_loses_no_delivery() {
    let mut quit = signal(SignalKind::quit()).unwrap();
    let lost = smp_rt::select! {
        biased;
        _ = quit.recv() => false,
        () = std::future::ready(()) => true,
    };
    assert!(lost, "nothing was delivered yet");
    raise(libc::SIGQUIT);
    assert_eq!(quit.recv().await, Some(()));
}

#[smp_rt::test]
async fn ctrl_c_completes_on_sigint() {
    let mut ctrl_c = pin!(smp_rt::signal::ctrl_c());
    // The first poll installs the handler and creates the listener, so the
    // signal raised after it neither kills the process nor goes unseen.
    assert!(futures::poll!(ctrl_c.as_mut()).is_pending());
    raise(libc::SIGINT);
    ctrl_c.await.unwrap();
}

#[smp_rt::test]
async fn signals_that_cannot_be_handled_are_refused() {
    for signum in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -1, 1000] {
        let error = signal(SignalKind::from_raw(signum)).expect_err("not a handled signal");
        assert!(
            error
                .to_string()
                .contains(&format!("refusing to register signal {signum}")),
            "{error}"
        );
    }
}

#[test]
#[should_panic(expected = "outside an smp_rt runtime")]
fn a_listener_outside_a_runtime_panics() {
    let _ = signal(SignalKind::terminate());
}

#[test]
fn signal_kinds_convert_to_and_from_numbers() {
    assert_eq!(SignalKind::interrupt().as_raw_value(), libc::SIGINT);
    assert_eq!(SignalKind::terminate().as_raw_value(), libc::SIGTERM);
    assert_eq!(SignalKind::from(libc::SIGHUP), SignalKind::hangup());
    assert_eq!(
        libc::c_int::from(SignalKind::user_defined1()),
        libc::SIGUSR1
    );
    assert_eq!(SignalKind::from_raw(libc::SIGCHLD), SignalKind::child());
}

#[test]
fn waiting_charges_a_reduction_per_poll() {
    let n = preemptions_of(|| async {
        let mut alarm = signal(SignalKind::alarm()).unwrap();
        for _ in 0..400 {
            raise(libc::SIGALRM);
            assert_eq!(alarm.recv().await, Some(()));
        }
    });
    assert!(
        n >= 4,
        "400 receives in the smallest slices: {n} preemptions"
    );
}

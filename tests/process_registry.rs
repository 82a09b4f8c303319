//! Processes: the name registry.
//!
//! Names are global to the OS process and tests run in parallel, so each
//! test uses its own names.

use std::future::Future;
use std::time::Duration;

use smp_rt::process::{self, Mailbox, Pid, RegisterError};
use smp_rt::sync::oneshot;

/// Awaits `fut`, failing the test (instead of hanging) if it takes more
/// than a minute.
async fn bounded<F: Future>(what: &str, fut: F) -> F::Output {
    match smp_rt::time::timeout(Duration::from_secs(60), fut).await {
        Ok(v) => v,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

fn waiter<M: Send + 'static>() -> Pid<M> {
    process::spawn(|mut mbox: Mailbox<M>| async move {
        mbox.recv().await;
    })
}

#[smp_rt::test(worker_threads = 2)]
async fn register_and_whereis() {
    let pid = waiter::<u32>();
    process::register("reg-basic", &pid).unwrap();
    assert_eq!(process::whereis::<u32>("reg-basic"), Some(pid.clone()));
    // Another message type, or an unknown name: nothing.
    assert!(process::whereis::<String>("reg-basic").is_none());
    assert!(process::whereis::<u32>("reg-basic-nobody").is_none());
    assert_eq!(process::whereis_any("reg-basic").unwrap().id(), pid.id());
    assert!(process::registered().contains(&"reg-basic".to_string()));
    assert_eq!(
        pid.info().unwrap().registered_name.as_deref(),
        Some("reg-basic")
    );
    // The pid found by name sends to the process.
    let down = process::monitor(&pid);
    process::whereis::<u32>("reg-basic")
        .unwrap()
        .send(1)
        .unwrap();
    bounded("the exit", down).await;
}

#[smp_rt::test(worker_threads = 2)]
async fn register_errors() {
    let a = waiter::<()>();
    let b = waiter::<()>();
    process::register("reg-errors", &a).unwrap();
    assert_eq!(
        process::register("reg-errors", &b),
        Err(RegisterError::NameTaken)
    );
    assert_eq!(
        process::register("reg-errors", &a),
        Err(RegisterError::NameTaken)
    );
    assert_eq!(
        process::register("reg-errors-2", &a),
        Err(RegisterError::AlreadyRegistered("reg-errors".into()))
    );
    let down = process::monitor(&b);
    b.kill();
    bounded("the kill", down).await;
    assert_eq!(
        process::register("reg-errors-3", &b),
        Err(RegisterError::NotAlive)
    );
    assert!(process::whereis::<()>("reg-errors-3").is_none());
    a.kill();
}

#[smp_rt::test(worker_threads = 2)]
async fn a_name_is_released_when_its_process_ends() {
    for end in ["normal", "kill", "panic"] {
        let pid = process::spawn(|mut mbox: Mailbox<&'static str>| async move {
            if mbox.recv().await == "panic" {
                panic!("asked to");
            }
        });
        process::register("reg-release", &pid).unwrap();
        let down = process::monitor(&pid);
        if end == "kill" {
            pid.kill();
            // Gone at once for lookups, even before the task is dropped.
            assert!(process::whereis::<&str>("reg-release").is_none());
        } else {
            pid.send(end).unwrap();
        }
        bounded("the exit", down).await;
        assert!(
            process::whereis::<&str>("reg-release").is_none(),
            "{end}: still registered"
        );
        assert!(!process::registered().contains(&"reg-release".to_string()));
    }
    // And the name can be taken again.
    let pid = waiter::<()>();
    process::register("reg-release", &pid).unwrap();
    pid.kill();
}

#[smp_rt::test(worker_threads = 2)]
async fn a_killed_holder_can_be_replaced_at_once() {
    let old = waiter::<()>();
    process::register("reg-replace", &old).unwrap();
    old.kill();
    let new = waiter::<()>();
    process::register("reg-replace", &new).unwrap();
    bounded("the old one", process::monitor(&old)).await;
    // The old process's exit did not release the new holder's name.
    assert_eq!(process::whereis::<()>("reg-replace"), Some(new.clone()));
    new.kill();
}

#[smp_rt::test(worker_threads = 2)]
async fn unregister_releases_a_name() {
    let pid = waiter::<()>();
    process::register("reg-unregister", &pid).unwrap();
    assert!(process::unregister("reg-unregister"));
    assert!(!process::unregister("reg-unregister"));
    assert!(process::whereis::<()>("reg-unregister").is_none());
    assert_eq!(pid.info().unwrap().registered_name, None);
    // It may register again, under any name.
    process::register("reg-unregister-2", &pid).unwrap();
    pid.kill();
}

#[smp_rt::test(worker_threads = 2)]
async fn a_process_can_register_itself() {
    let (tx, rx) = oneshot::channel();
    let pid = process::spawn(move |mut mbox: Mailbox<u32>| async move {
        process::register("reg-self", mbox.pid()).unwrap();
        tx.send(()).unwrap();
        mbox.recv().await;
    });
    bounded("the registration", rx).await.unwrap();
    assert_eq!(process::whereis::<u32>("reg-self"), Some(pid.clone()));
    pid.kill();
}

#[test]
fn only_one_of_many_racing_registrations_wins() {
    smp_rt::block_on(async {
        let pids: Vec<Pid<()>> = (0..8).map(|_| waiter()).collect();
        let threads: Vec<_> = pids
            .iter()
            .cloned()
            .map(|pid| std::thread::spawn(move || process::register("reg-race", &pid).is_ok()))
            .collect();
        let wins = threads
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|&won| won)
            .count();
        assert_eq!(wins, 1);
        let holder = process::whereis::<()>("reg-race").unwrap();
        assert!(pids.contains(&holder));
        for pid in pids {
            pid.kill();
        }
    });
}

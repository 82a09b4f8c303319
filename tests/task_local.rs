//! `task_local!` and `task::LocalKey`, written like tokio's `task_local` tests.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::channel::oneshot;
use smp_rt::task::{self, JoinSet};

smp_rt::task_local! {
    static REQ_ID: u32;
    /// A public key, to check that visibility and attributes pass through.
    pub static FOO: bool;
}

smp_rt::task_local! {
    static NAME: String;
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn local() {
    let j1 = smp_rt::spawn(REQ_ID.scope(1, async move {
        assert_eq!(REQ_ID.get(), 1);
        assert_eq!(REQ_ID.get(), 1);
    }));
    let j2 = smp_rt::spawn(REQ_ID.scope(2, async move {
        REQ_ID.with(|v| {
            assert_eq!(REQ_ID.get(), 2);
            assert_eq!(*v, 2);
        });
        task::yield_now().await;
        assert_eq!(REQ_ID.get(), 2);
    }));
    let j3 = smp_rt::spawn(FOO.scope(true, async move {
        assert!(FOO.get());
    }));
    j1.await.unwrap();
    j2.await.unwrap();
    j3.await.unwrap();
}

#[smp_rt::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_value_follows_the_future_across_awaits_and_workers() {
    let mut set = JoinSet::new();
    for i in 0..64u32 {
        set.spawn(REQ_ID.scope(i, async move {
            for _ in 0..20 {
                task::yield_now().await;
                assert_eq!(REQ_ID.get(), i);
            }
            i
        }));
    }
    let mut sum = 0;
    while let Some(out) = set.join_next().await {
        sum += out.unwrap();
    }
    assert_eq!(sum, (0..64).sum());
}

#[smp_rt::test]
async fn not_set_outside_the_scope() {
    assert!(REQ_ID.try_with(|_| ()).is_err());
    REQ_ID.scope(5, async { assert_eq!(REQ_ID.get(), 5) }).await;
    assert!(REQ_ID.try_with(|_| ()).is_err());
    let err = REQ_ID.try_with(|_| ()).unwrap_err();
    assert_eq!(err.to_string(), "task-local value not set");
}

#[smp_rt::test]
async fn nested_scopes_shadow_and_restore() {
    NAME.scope("outer".to_owned(), async {
        assert_eq!(NAME.get(), "outer");
        NAME.scope("inner".to_owned(), async {
            assert_eq!(NAME.get(), "inner");
            task::yield_now().await;
            assert_eq!(NAME.get(), "inner");
        })
        .await;
        assert_eq!(NAME.get(), "outer");
        let len = NAME.sync_scope("sync".to_owned(), || NAME.with(String::len));
        assert_eq!(len, 4);
        assert_eq!(NAME.get(), "outer");
    })
    .await;
}

#[test]
fn sync_scope_works_without_a_runtime() {
    assert_eq!(REQ_ID.sync_scope(3, || REQ_ID.get() * 2), 6);
    assert!(REQ_ID.try_with(|_| ()).is_err());
}

#[test]
#[should_panic(expected = "cannot access a task-local storage value")]
fn with_outside_a_scope_panics() {
    REQ_ID.with(|_| ());
}

#[test]
fn a_panic_inside_sync_scope_unsets_the_value() {
    let caught = std::panic::catch_unwind(|| REQ_ID.sync_scope(1, || panic!("boom")));
    assert!(caught.is_err());
    assert!(REQ_ID.try_with(|_| ()).is_err());
}

/// Asserts that the key is set to `expected` when it is dropped.
struct CheckOnDrop {
    expected: u32,
    checked: Arc<AtomicBool>,
}

impl Drop for CheckOnDrop {
    fn drop(&mut self) {
        assert_eq!(REQ_ID.try_with(|v| *v), Ok(self.expected));
        self.checked.store(true, Ordering::SeqCst);
    }
}

#[smp_rt::test]
async fn the_future_is_dropped_inside_the_scope() {
    let checked = Arc::new(AtomicBool::new(false));
    let guard = CheckOnDrop {
        expected: 42,
        checked: checked.clone(),
    };
    let (_tx, rx) = oneshot::channel::<()>();
    let handle = smp_rt::spawn(REQ_ID.scope(42, async move {
        let _guard = guard;
        let _ = rx.await;
    }));
    task::yield_now().await;
    handle.abort();
    assert!(handle.await.unwrap_err().is_cancelled());
    assert!(checked.load(Ordering::SeqCst));
}

#[test]
fn the_value_is_swapped_out_between_polls() {
    struct Probe;
    impl Future for Probe {
        type Output = ();
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            assert_eq!(REQ_ID.get(), 8);
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
    let mut fut = Box::pin(REQ_ID.scope(8, Probe));
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert!(REQ_ID.try_with(|_| ()).is_err(), "not set between polls");
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    assert_eq!(fut.as_mut().take_value(), Some(8));
}

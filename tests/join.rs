//! Behaviour of `smp_rt::join!` and `smp_rt::try_join!`.

use std::cell::RefCell;
use std::convert::Infallible;
use std::future::{Future, IntoFuture, pending, ready};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{Context, Poll};

use futures::channel::oneshot;

/// Returns `Pending` (waking itself) `pending` times, then `value`.
struct ReadyAfter<T> {
    pending: u32,
    value: Option<T>,
}

impl<T> ReadyAfter<T> {
    fn new(pending: u32, value: T) -> Self {
        ReadyAfter {
            pending,
            value: Some(value),
        }
    }
}

impl<T: Unpin> Future for ReadyAfter<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        if self.pending == 0 {
            return Poll::Ready(self.value.take().expect("polled after completion"));
        }
        self.pending -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Records `id` in `log` each time it is polled; ready after `polls` polls.
struct Logged<'a> {
    id: usize,
    polls: u32,
    log: &'a RefCell<Vec<usize>>,
}

impl Future for Logged<'_> {
    type Output = usize;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<usize> {
        self.log.borrow_mut().push(self.id);
        self.polls -= 1;
        if self.polls == 0 {
            Poll::Ready(self.id)
        } else {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn join_returns_every_output_in_order() {
    let (a, b, c) = smp_rt::join!(ReadyAfter::new(3, 1), ready("two"), async { 3.0 });
    assert_eq!(a, 1);
    assert_eq!(b, "two");
    assert_eq!(c, 3.0);
}

#[smp_rt::test(flavor = "current_thread")]
async fn join_runs_its_futures_concurrently() {
    let (tx, rx) = oneshot::channel::<u32>();
    let (received, sent, other) = smp_rt::join!(
        async { rx.await.expect("the sender was dropped") },
        async {
            smp_rt::task::yield_now().await;
            tx.send(5).expect("the receiver was dropped");
            "sent"
        },
        ReadyAfter::new(2, 'c'),
    );
    assert_eq!((received, sent, other), (5, "sent", 'c'));
}

#[smp_rt::test]
async fn join_works_with_spawned_tasks() {
    let (a, b) = smp_rt::join!(smp_rt::spawn(async { 1 }), smp_rt::spawn(async { 2 }),);
    assert_eq!((a.unwrap(), b.unwrap()), (1, 2));
}

#[smp_rt::test]
async fn join_and_try_join_can_run_in_a_spawned_task() {
    let task = smp_rt::spawn(async {
        let (a, b) = smp_rt::join!(ReadyAfter::new(1, 1), smp_rt::task::yield_now());
        let c = smp_rt::try_join!(ready(Ok::<u32, String>(2)), ReadyAfter::new(2, Ok(3)));
        (a, b, c)
    });
    assert_eq!(task.await.unwrap(), (1, (), Ok((2, 3))));
}

#[smp_rt::test(flavor = "current_thread")]
async fn join_of_zero_and_one_future() {
    let () = smp_rt::join!();
    let () = smp_rt::join!(biased;);
    let (only,) = smp_rt::join!(ready(1));
    assert_eq!(only, 1);
    let (only,) = smp_rt::join!(ReadyAfter::new(2, 'x'),);
    assert_eq!(only, 'x');
}

#[smp_rt::test(flavor = "current_thread")]
async fn join_accepts_borrowed_and_into_future_expressions() {
    struct Answer;
    impl IntoFuture for Answer {
        type Output = u32;
        type IntoFuture = std::future::Ready<u32>;
        fn into_future(self) -> Self::IntoFuture {
            ready(42)
        }
    }

    let mut fut = pin!(ReadyAfter::new(2, "borrowed"));
    let (a, b, c) = smp_rt::join!(&mut fut, Answer, &mut ReadyAfter::new(1, 7));
    assert_eq!((a, b, c), ("borrowed", 42, 7));
}

#[smp_rt::test(flavor = "current_thread")]
async fn biased_join_polls_in_source_order() {
    let log = RefCell::new(Vec::new());
    let out = smp_rt::join!(
        biased;
        Logged { id: 0, polls: 2, log: &log },
        Logged { id: 1, polls: 2, log: &log },
        Logged { id: 2, polls: 2, log: &log },
    );
    assert_eq!(out, (0, 1, 2));
    assert_eq!(*log.borrow(), [0, 1, 2, 0, 1, 2]);
}

#[smp_rt::test(flavor = "current_thread")]
async fn join_rotates_the_first_future_polled() {
    let log = RefCell::new(Vec::new());
    let out = smp_rt::join!(
        Logged {
            id: 0,
            polls: 3,
            log: &log
        },
        Logged {
            id: 1,
            polls: 3,
            log: &log
        },
        Logged {
            id: 2,
            polls: 3,
            log: &log
        },
    );
    assert_eq!(out, (0, 1, 2));
    let log = log.borrow();
    let firsts: Vec<usize> = log.chunks(3).map(|round| round[0]).collect();
    assert_eq!(log.len(), 9);
    assert!(
        firsts.windows(2).all(|pair| pair[0] != pair[1]),
        "the same future was polled first twice in a row: {log:?}"
    );
}

#[smp_rt::test(flavor = "current_thread")]
async fn join_waits_for_every_future_even_after_an_error() {
    let (a, b) = smp_rt::join!(
        ready(Err::<u32, &str>("early")),
        ReadyAfter::new(3, Ok::<u32, &str>(2))
    );
    assert_eq!(a, Err("early"));
    assert_eq!(b, Ok(2));
}

#[smp_rt::test(flavor = "current_thread")]
async fn try_join_returns_every_ok_value() {
    let result = smp_rt::try_join!(
        ready(Ok::<u32, String>(1)),
        ReadyAfter::new(2, Ok("two")),
        async { Ok(3.0) },
    );
    assert_eq!(result, Ok((1, "two", 3.0)));
}

#[smp_rt::test(flavor = "current_thread")]
async fn try_join_short_circuits_on_the_first_error_and_drops_the_rest() {
    let dropped = Arc::new(AtomicBool::new(false));
    let completed = AtomicU32::new(0);
    let guard = DropFlag(dropped.clone());
    let slow = async {
        let _guard = guard;
        let value = ReadyAfter::new(1_000, 1).await;
        completed.fetch_add(1, Ordering::SeqCst);
        Ok(value)
    };
    let result = smp_rt::try_join!(slow, ReadyAfter::new(3, Err::<u32, _>("boom")));
    assert_eq!(result, Err("boom"));
    assert!(dropped.load(Ordering::SeqCst));
    assert_eq!(completed.load(Ordering::SeqCst), 0);
}

#[smp_rt::test(flavor = "current_thread")]
async fn try_join_returns_the_error_that_comes_first() {
    for _ in 0..20 {
        let result = smp_rt::try_join!(
            ReadyAfter::new(5, Err::<(), u32>(1)),
            ReadyAfter::new(1, Err::<(), u32>(2)),
            ReadyAfter::new(3, Ok(())),
        );
        assert_eq!(result, Err(2));
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn try_join_with_an_error_among_pending_futures_does_not_wait() {
    let result = smp_rt::try_join!(
        biased;
        pending::<Result<(), &str>>(),
        ready(Err::<(), _>("now")),
    );
    assert_eq!(result, Err("now"));
}

#[smp_rt::test(flavor = "current_thread")]
async fn try_join_of_zero_and_one_future() {
    let none: Result<(), Infallible> = smp_rt::try_join!();
    assert_eq!(none, Ok(()));
    let none: Result<(), Infallible> = smp_rt::try_join!(biased;);
    assert_eq!(none, Ok(()));
    let one = smp_rt::try_join!(ready(Ok::<_, Infallible>(1)));
    assert_eq!(one, Ok((1,)));
    let one = smp_rt::try_join!(ready(Err::<u8, _>("no")),);
    assert_eq!(one, Err("no"));
}

#[smp_rt::test(flavor = "current_thread")]
async fn try_join_works_with_uninhabited_types() {
    let result = smp_rt::try_join!(ready(Ok::<u8, Infallible>(1)), ready(Ok(2)));
    assert_eq!(result, Ok((1, 2)));

    let result: Result<(Infallible, u8), &str> =
        smp_rt::try_join!(ready(Err("never ok")), ready(Ok(2)));
    assert!(result.is_err());
}

async fn sum_parsed(a: &str, b: &str) -> Result<u32, std::num::ParseIntError> {
    let (a, b) = smp_rt::try_join!(async { a.parse::<u32>() }, async { b.parse::<u32>() })?;
    Ok(a + b)
}

#[smp_rt::test(flavor = "current_thread")]
async fn try_join_composes_with_question_mark() {
    assert_eq!(sum_parsed("1", "2").await, Ok(3));
    assert!(sum_parsed("1", "x").await.is_err());
}

#[test]
fn join_works_outside_the_runtime() {
    let out = futures::executor::block_on(async {
        smp_rt::join!(ReadyAfter::new(2, 1), ReadyAfter::new(1, 2))
    });
    assert_eq!(out, (1, 2));
}

/// A future that holds 32 bytes across an await.
async fn holds_32_bytes(n: u8) -> u8 {
    let bytes = [n; 32];
    smp_rt::task::yield_now().await;
    bytes[31]
}

/// The same, returning a `Result`.
async fn holds_32_bytes_ok(n: u8) -> Result<u8, u32> {
    Ok(holds_32_bytes(n).await)
}

/// Asserts that the first future is no larger than the second (tokio's,
/// joining the same futures).
fn assert_no_larger<A, B>(shape: &str, ours: &A, tokios: &B) {
    let (ours, tokios) = (size_of_val(ours), size_of_val(tokios));
    assert!(
        ours <= tokios,
        "{shape}: smp_rt's future is {ours} bytes, tokio's {tokios}"
    );
}

#[test]
fn join_futures_are_no_larger_than_tokios() {
    assert_no_larger(
        "join of one",
        &async { smp_rt::join!(holds_32_bytes(1)) },
        &async { tokio::join!(holds_32_bytes(1)) },
    );
    assert_no_larger(
        "join of three",
        &async { smp_rt::join!(holds_32_bytes(1), holds_32_bytes(2), ready(3u64)) },
        &async { tokio::join!(holds_32_bytes(1), holds_32_bytes(2), ready(3u64)) },
    );
    assert_no_larger(
        "biased join",
        &async { smp_rt::join!(biased; holds_32_bytes(1), holds_32_bytes(2)) },
        &async { tokio::join!(biased; holds_32_bytes(1), holds_32_bytes(2)) },
    );
    assert_no_larger(
        "try_join of three",
        &async {
            smp_rt::try_join!(
                holds_32_bytes_ok(1),
                holds_32_bytes_ok(2),
                ready(Ok::<u64, u32>(3))
            )
        },
        &async {
            tokio::try_join!(
                holds_32_bytes_ok(1),
                holds_32_bytes_ok(2),
                ready(Ok::<u64, u32>(3))
            )
        },
    );
    assert_no_larger(
        "biased try_join",
        &async { smp_rt::try_join!(biased; holds_32_bytes_ok(1), holds_32_bytes_ok(2)) },
        &async { tokio::try_join!(biased; holds_32_bytes_ok(1), holds_32_bytes_ok(2)) },
    );
}

//! Behaviour of `smp_rt::select!`: which branch wins, preconditions,
//! patterns, `biased;`, `else`, control flow in handlers and cancellation.

use std::cell::{Cell, RefCell};
use std::future::{Future, IntoFuture, pending, ready};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures::StreamExt;
use futures::channel::{mpsc, oneshot};

/// A future that fails the test if it is ever polled.
struct PanicIfPolled;

impl Future for PanicIfPolled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        panic!("a disabled branch was polled");
    }
}

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

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn the_completed_branch_runs_and_its_value_is_returned() {
    let value = smp_rt::select! {
        () = pending::<()>() => 0,
        v = ready(20) => v + 1,
    };
    assert_eq!(value, 21);

    let value = smp_rt::select! {
        v = ReadyAfter::new(3, "late") => v,
        () = pending() => "never",
    };
    assert_eq!(value, "late");
}

#[smp_rt::test(flavor = "current_thread")]
async fn a_single_branch_works() {
    let value = smp_rt::select! {
        v = ready(5) => v * 2
    };
    assert_eq!(value, 10);
}

#[smp_rt::test(flavor = "current_thread")]
async fn handlers_may_be_blocks_without_commas() {
    let value = smp_rt::select! {
        () = pending::<()>() => {
            0
        }
        v = ready(3) => {
            v + 1
        }
    };
    assert_eq!(value, 4);
}

#[smp_rt::test(flavor = "current_thread")]
async fn a_mismatched_pattern_disables_its_branch() {
    for _ in 0..100 {
        let value = smp_rt::select! {
            Some(v) = ready(None::<i32>) => v,
            v = ReadyAfter::new(1, 7) => v,
        };
        assert_eq!(value, 7);
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn constant_patterns_are_matched_not_bound() {
    const LIMIT: i32 = 3;
    for _ in 0..50 {
        let value = smp_rt::select! {
            None = ready(Some(1)) => -1,
            LIMIT = ready(4) => -2,
            v = ReadyAfter::new(1, 9) => v,
        };
        assert_eq!(value, 9);
    }
    let value = smp_rt::select! {
        LIMIT = ready(3) => "limit",
        () = pending() => "never",
    };
    assert_eq!(value, "limit");
}

#[smp_rt::test(flavor = "current_thread")]
async fn a_false_precondition_disables_a_branch_but_evaluates_its_expression() {
    let evaluated = Cell::new(false);
    let make = || {
        evaluated.set(true);
        PanicIfPolled
    };
    for _ in 0..100 {
        let value = smp_rt::select! {
            () = make(), if false => 0,
            v = ReadyAfter::new(1, 1), if true => v,
        };
        assert_eq!(value, 1);
    }
    assert!(evaluated.get());
}

#[smp_rt::test(flavor = "current_thread")]
async fn preconditions_are_evaluated_before_the_async_expressions() {
    let order = RefCell::new(Vec::new());
    let log = |event: &'static str, value: bool| {
        order.borrow_mut().push(event);
        value
    };
    let value = smp_rt::select! {
        v = async { log("future 1", true); 1 }, if log("condition 1", true) => v,
        v = { log("future 2", true); ready(2) }, if log("condition 2", false) => v,
    };
    assert_eq!(value, 1);
    assert_eq!(
        order.borrow()[..3],
        ["condition 1", "condition 2", "future 2"],
    );
}

#[smp_rt::test(flavor = "current_thread")]
async fn biased_polls_in_source_order() {
    for _ in 0..1_000 {
        let value = smp_rt::select! {
            biased;
            v = ready(1) => v,
            v = ready(2) => v,
            v = ready(3) => v,
        };
        assert_eq!(value, 1);
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn biased_skips_disabled_branches_in_order() {
    for _ in 0..100 {
        let value = smp_rt::select! {
            biased;
            Some(v) = ready(None) => v,
            v = ready(2), if false => v,
            v = ready(3) => v,
            v = ready(4) => v,
        };
        assert_eq!(value, 3);
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn without_biased_every_branch_gets_to_win() {
    let mut wins = [0u32; 2];
    for _ in 0..1_000 {
        let winner = smp_rt::select! {
            () = ready(()) => 0,
            () = ready(()) => 1,
        };
        wins[winner] += 1;
    }
    assert!(wins[0] > 0 && wins[1] > 0, "wins: {wins:?}");
}

#[smp_rt::test(flavor = "current_thread")]
async fn else_runs_when_every_branch_is_disabled() {
    let value = smp_rt::select! {
        v = ready(1), if false => v,
        () = PanicIfPolled, if false => 2,
        else => 3,
    };
    assert_eq!(value, 3);

    let value = smp_rt::select! {
        Some(v) = ready(None::<i32>) => v,
        Ok(v) = ready(Err::<i32, ()>(())) => v,
        else => 4
    };
    assert_eq!(value, 4);
}

#[smp_rt::test(flavor = "current_thread")]
async fn else_alone_is_evaluated() {
    let value = smp_rt::select! {
        else => 5,
    };
    assert_eq!(value, 5);
    let value = smp_rt::select! { biased; else => 6 };
    assert_eq!(value, 6);
}

#[test]
#[should_panic(expected = "all branches are disabled and there is no else branch")]
fn no_else_panics_when_every_branch_is_disabled() {
    futures::executor::block_on(async {
        smp_rt::select! {
            Some(v) = ready(None::<i32>) => v,
            v = ready(1), if false => v,
        }
    });
}

#[smp_rt::test(flavor = "current_thread")]
async fn break_and_continue_reach_the_enclosing_loop() {
    let mut seen = Vec::new();
    let mut i = 0;
    let last = loop {
        i += 1;
        smp_rt::select! {
            v = ready(i) => {
                if v % 2 == 0 {
                    continue;
                }
                if v > 7 {
                    break v;
                }
                seen.push(v);
            }
        }
    };
    assert_eq!(seen, [1, 3, 5, 7]);
    assert_eq!(last, 9);

    let mut count = 0;
    'outer: for _ in 0..3 {
        for _ in 0..3 {
            smp_rt::select! {
                biased;
                () = ready(()) => { count += 1; continue 'outer },
                () = pending() => {}
            }
        }
    }
    assert_eq!(count, 3);
}

async fn first_even(values: Vec<Result<u32, String>>) -> Result<u32, String> {
    for value in values {
        smp_rt::select! {
            v = ready(value) => {
                let v = v?;
                if v % 2 == 0 {
                    return Ok(v);
                }
            }
        }
    }
    Err("none".to_owned())
}

#[smp_rt::test(flavor = "current_thread")]
async fn question_mark_and_return_leave_the_enclosing_function() {
    assert_eq!(first_even(vec![Ok(1), Ok(4), Err("x".into())]).await, Ok(4));
    assert_eq!(
        first_even(vec![Ok(1), Err("bad".into()), Ok(2)]).await,
        Err("bad".to_owned())
    );
    assert_eq!(first_even(vec![Ok(1)]).await, Err("none".to_owned()));
}

#[smp_rt::test(flavor = "current_thread")]
async fn handlers_can_await() {
    let value = smp_rt::select! {
        v = ready(1) => v + ReadyAfter::new(2, 10).await,
        () = pending() => 0,
    };
    assert_eq!(value, 11);
}

#[smp_rt::test]
async fn a_receiver_loop_and_a_oneshot() {
    let (tx, mut rx) = mpsc::unbounded::<u32>();
    let (stop_tx, mut stop_rx) = oneshot::channel::<&'static str>();
    let producer = smp_rt::spawn(async move {
        for i in 1..=10 {
            tx.unbounded_send(i).unwrap();
            smp_rt::task::yield_now().await;
        }
        drop(tx);
        stop_tx.send("stop").unwrap();
    });

    let mut sum = 0;
    let stop = loop {
        smp_rt::select! {
            Some(v) = rx.next() => sum += v,
            reason = &mut stop_rx => break reason.unwrap(),
        }
    };
    while let Some(v) = rx.next().await {
        sum += v;
    }
    producer.await.unwrap();
    assert_eq!(stop, "stop");
    assert_eq!(sum, 55);
}

#[smp_rt::test(flavor = "current_thread")]
async fn handlers_may_use_what_the_futures_borrowed() {
    let (tx, mut rx) = mpsc::unbounded::<u32>();
    tx.unbounded_send(1).unwrap();
    let value = smp_rt::select! {
        Some(v) = rx.next() => {
            rx.close();
            v
        }
    };
    assert_eq!(value, 1);
    assert!(tx.unbounded_send(2).is_err());
}

#[smp_rt::test]
async fn select_can_run_in_a_spawned_task() {
    let (tx, mut rx) = mpsc::unbounded::<u32>();
    let task = smp_rt::spawn(async move {
        let mut sum = 0;
        loop {
            smp_rt::select! {
                Some(v) = rx.next() => sum += v,
                else => break sum,
            }
        }
    });
    for i in 1..=4 {
        tx.unbounded_send(i).unwrap();
    }
    drop(tx);
    assert_eq!(task.await.unwrap(), 10);
}

#[smp_rt::test]
async fn a_receiver_loop_ends_through_else() {
    let (mut tx, mut rx) = mpsc::channel::<u32>(2);
    let producer = smp_rt::spawn(async move {
        for i in 1..=20 {
            futures::SinkExt::send(&mut tx, i).await.unwrap();
        }
    });
    let mut received = Vec::new();
    loop {
        smp_rt::select! {
            Some(v) = rx.next() => received.push(v),
            else => break,
        }
    }
    producer.await.unwrap();
    assert_eq!(received, (1..=20).collect::<Vec<_>>());
}

#[smp_rt::test(flavor = "current_thread")]
async fn losing_futures_are_dropped_before_the_handler_runs() {
    for _ in 0..50 {
        let dropped = Arc::new(AtomicBool::new(false));
        let guard = DropFlag(dropped.clone());
        let loser = async move {
            let _guard = guard;
            pending::<()>().await;
        };
        let value = smp_rt::select! {
            () = loser => unreachable!(),
            v = ReadyAfter::new(1, 8) => {
                assert!(dropped.load(Ordering::SeqCst));
                v
            }
        };
        assert_eq!(value, 8);
        assert!(dropped.load(Ordering::SeqCst));
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn a_borrowed_future_survives_across_iterations() {
    let mut slow = pin!(ReadyAfter::new(20, "done"));
    let mut ticks = 0;
    let value = loop {
        smp_rt::select! {
            biased;
            v = &mut slow => break v,
            () = smp_rt::task::yield_now() => ticks += 1,
        }
    };
    assert_eq!(value, "done");
    assert!(ticks > 0);
}

#[derive(Debug, Clone, PartialEq)]
struct Point {
    x: i32,
    y: i32,
}

#[smp_rt::test(flavor = "current_thread")]
async fn patterns_bind_like_match_arms() {
    let len = smp_rt::select! { ref s = ready(String::from("abc")) => s.len() };
    assert_eq!(len, 3);

    let sum = smp_rt::select! { (a, b) = ready((1, 2)) => a + b };
    assert_eq!(sum, 3);

    let value = smp_rt::select! { mut x = ready(1) => { x += 1; x } };
    assert_eq!(value, 2);

    let value = smp_rt::select! {
        ref mut v = ready(vec![1]) => {
            v.push(2);
            v.clone()
        }
    };
    assert_eq!(value, [1, 2]);

    let value = smp_rt::select! { _ = ready(1) => "wild" };
    assert_eq!(value, "wild");

    let value = smp_rt::select! { Point { x, .. } = ready(Point { x: 4, y: 5 }) => x };
    assert_eq!(value, 4);

    let value =
        smp_rt::select! { Point { y: ref height, x: 1 } = ready(Point { x: 1, y: 6 }) => *height };
    assert_eq!(value, 6);

    let value = smp_rt::select! { &v = ready(&7) => v };
    assert_eq!(value, 7);

    let value = smp_rt::select! { Some(&v) = ready(Some(&8)) => v };
    assert_eq!(value, 8);

    let value = smp_rt::select! { Ok(v) | Err(v) = ready(Err::<i32, i32>(9)) => v };
    assert_eq!(value, 9);

    let value = smp_rt::select! {
        n @ 1..=5 = ready(10) => n,
        n @ 6.. = ready(11) => n,
        else => 0,
    };
    assert_eq!(value, 11);

    let value = smp_rt::select! {
        [first, .., last] = ready([1, 2, 3]) => first + last,
    };
    assert_eq!(value, 4);

    let value = smp_rt::select! {
        Some(Point { x: 0, y }) = ready(Some(Point { x: 1, y: 2 })) => y,
        Some(p @ Point { x: 1, .. }) = ready(Some(Point { x: 1, y: 3 })) => p.y,
        else => 0,
    };
    assert_eq!(value, 3);
}

#[smp_rt::test(flavor = "current_thread")]
async fn the_expansion_does_not_capture_the_callers_names() {
    let __disabled = true;
    let __output = 2;
    let __init = 3;
    let __cx = 4;
    let value = smp_rt::select! {
        v = ready(1), if __disabled => v + __output + __init + __cx,
        else => 0,
    };
    assert_eq!(value, 10);
}

#[smp_rt::test(flavor = "current_thread")]
async fn selects_nest() {
    let value = smp_rt::select! {
        v = async {
            smp_rt::select! {
                Some(v) = ready(None) => v,
                v = ready(2) => v,
            }
        } => {
            smp_rt::select! {
                w = ready(v * 10) => w,
                () = pending() => 0,
            }
        }
        () = pending() => 0,
    };
    assert_eq!(value, 20);
}

struct Answer;

impl IntoFuture for Answer {
    type Output = u32;
    type IntoFuture = std::future::Ready<u32>;

    fn into_future(self) -> Self::IntoFuture {
        ready(42)
    }
}

#[smp_rt::test(flavor = "current_thread")]
async fn async_expressions_may_be_into_future() {
    let value = smp_rt::select! { v = Answer => v };
    assert_eq!(value, 42);
}

#[smp_rt::test(flavor = "current_thread")]
async fn temporaries_in_async_expressions_live_long_enough() {
    let value = smp_rt::select! {
        v = &mut ReadyAfter::new(2, 3) => v,
        () = pending() => 0,
    };
    assert_eq!(value, 3);
}

macro_rules! select_64 {
    ($winner:expr; $($i:literal)*) => {
        smp_rt::select! {
            $(
                v = ReadyAfter::new(1, $i), if $i == $winner => v,
            )*
            else => usize::MAX,
        }
    };
}

#[smp_rt::test(flavor = "current_thread")]
async fn sixty_four_branches_are_supported() {
    for winner in [0, 31, 32, 63] {
        let value = select_64!(winner;
            0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
            16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
            32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
            48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
        );
        assert_eq!(value, winner);
    }
    let value = select_64!(64;
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
        16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
        32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
        48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
    );
    assert_eq!(value, usize::MAX);
}

#[test]
fn works_outside_the_runtime() {
    let value = futures::executor::block_on(async {
        smp_rt::select! {
            v = ReadyAfter::new(3, 1) => v,
            () = pending() => 0,
        }
    });
    assert_eq!(value, 1);
}

#[smp_rt::test(flavor = "current_thread", reductions = 66)]
async fn a_busy_select_loop_is_preempted() {
    let preemptions = smp_rt::spawn(async {
        for _ in 0..1_000 {
            smp_rt::select! {
                () = ready(()) => {}
            }
        }
        smp_rt::task::stats().preemptions
    })
    .await
    .unwrap();
    assert!(preemptions >= 1, "{preemptions} preemptions");
}

/// A future that holds 32 bytes across an await.
async fn holds_32_bytes(n: u8) -> u8 {
    let bytes = [n; 32];
    smp_rt::task::yield_now().await;
    bytes[31]
}

/// Asserts that the first future is no larger than the second (tokio's,
/// with the same branches).
fn assert_no_larger<A, B>(shape: &str, ours: &A, tokios: &B) {
    let (ours, tokios) = (size_of_val(ours), size_of_val(tokios));
    assert!(
        ours <= tokios,
        "{shape}: smp_rt's future is {ours} bytes, tokio's {tokios}"
    );
}

#[test]
fn select_futures_are_no_larger_than_tokios() {
    assert_no_larger(
        "one branch",
        &async {
            smp_rt::select! { n = ready(1u64) => n }
        },
        &async {
            tokio::select! { n = ready(1u64) => n }
        },
    );
    assert_no_larger(
        "three branches",
        &async {
            smp_rt::select! {
                n = ready(1u8) => n,
                n = holds_32_bytes(2) => n,
                () = pending::<()>() => 0,
            }
        },
        &async {
            tokio::select! {
                n = ready(1u8) => n,
                n = holds_32_bytes(2) => n,
                () = pending::<()>() => 0,
            }
        },
    );
    assert_no_larger(
        "biased",
        &async {
            smp_rt::select! {
                biased;
                n = holds_32_bytes(1) => n,
                n = holds_32_bytes(2) => n,
            }
        },
        &async {
            tokio::select! {
                biased;
                n = holds_32_bytes(1) => n,
                n = holds_32_bytes(2) => n,
            }
        },
    );
    let allow = true;
    assert_no_larger(
        "preconditions, patterns and else",
        &async {
            smp_rt::select! {
                Some(n) = ready(Some(1u8)), if allow => n,
                n = holds_32_bytes(2), if !allow => n,
                Ok(n) = ready(Ok::<u8, ()>(3)) => n,
                else => 0,
            }
        },
        &async {
            tokio::select! {
                Some(n) = ready(Some(1u8)), if allow => n,
                n = holds_32_bytes(2), if !allow => n,
                Ok(n) = ready(Ok::<u8, ()>(3)) => n,
                else => 0,
            }
        },
    );
    assert_no_larger(
        "ten branches",
        &async {
            smp_rt::select! {
                n = holds_32_bytes(0) => n, n = holds_32_bytes(1) => n,
                n = holds_32_bytes(2) => n, n = holds_32_bytes(3) => n,
                n = holds_32_bytes(4) => n, n = holds_32_bytes(5) => n,
                n = holds_32_bytes(6) => n, n = holds_32_bytes(7) => n,
                n = holds_32_bytes(8) => n, n = holds_32_bytes(9) => n,
            }
        },
        &async {
            tokio::select! {
                n = holds_32_bytes(0) => n, n = holds_32_bytes(1) => n,
                n = holds_32_bytes(2) => n, n = holds_32_bytes(3) => n,
                n = holds_32_bytes(4) => n, n = holds_32_bytes(5) => n,
                n = holds_32_bytes(6) => n, n = holds_32_bytes(7) => n,
                n = holds_32_bytes(8) => n, n = holds_32_bytes(9) => n,
            }
        },
    );
    assert_no_larger(
        "a pinned future selected in a loop",
        &async {
            let mut slow = pin!(holds_32_bytes(1));
            loop {
                smp_rt::select! {
                    n = &mut slow => break n,
                    () = smp_rt::task::yield_now() => {}
                }
            }
        },
        &async {
            let mut slow = pin!(holds_32_bytes(1));
            loop {
                tokio::select! {
                    n = &mut slow => break n,
                    () = smp_rt::task::yield_now() => {}
                }
            }
        },
    );
}

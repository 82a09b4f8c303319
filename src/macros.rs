//! `select!`, `join!` and `try_join!`, with tokio's syntax and semantics.
//!
//! The parsing and expansion live in `smp_rt_macros`; the wrappers here pass
//! `$crate` along so that the expansion reaches its support items through
//! [`__private`] whatever name `smp_rt` has in the calling crate.

/// Waits on several async expressions at once and runs the handler of the
/// first one to complete, dropping the others.
///
/// ```text
/// select! {
///     [biased;]
///     <pattern> = <async expression> [, if <precondition>] => <handler>,
///     ...
///     [else => <expression>]
/// }
/// ```
///
/// The syntax and behaviour are tokio's, so `tokio::select!` code works
/// unchanged as `smp_rt::select!`. It must be used in an async context.
///
/// 1. Every precondition is evaluated, in order. A branch whose precondition
///    is `false` is *disabled*.
/// 2. Every async expression is evaluated, in order, disabled branches
///    included, and turned into a future with
///    [`IntoFuture`](std::future::IntoFuture). The futures are pinned on the
///    stack: `select!` allocates nothing.
/// 3. The enabled futures are polled concurrently on the current task. On
///    each wake-up polling starts at a random branch, so no branch can starve
///    the others; with `biased;` they are polled in the order they are
///    written.
/// 4. When a future completes, its output is matched against the branch's
///    pattern. If it matches, the other futures are dropped, the pattern's
///    bindings are in scope in the handler, and the handler's value is the
///    value of the `select!`. If it does not match, the branch is disabled
///    and `select!` goes on waiting on the others.
/// 5. Once every branch is disabled, the `else` expression is evaluated and
///    is the value of the `select!`. Without an `else` branch, `select!`
///    panics with "all branches are disabled and there is no else branch".
///
/// Handlers run in the enclosing function, outside any closure: `return`,
/// `?`, `.await`, and `break` and `continue` of an enclosing loop all work
/// there. A handler is an expression; as in a `match` arm, the comma after
/// it may be left out when it is a block. Up to 64 branches are supported.
///
/// # Cancellation
///
/// The futures of the branches that did not win are dropped before the
/// winning handler runs. To keep a future across iterations of a loop,
/// create it outside the loop, pin it and select on `&mut fut`.
///
/// # Budget
///
/// Each time the `select!` future is polled it charges one reduction to the
/// current task, like the runtime's leaf futures; when the task's slice is
/// spent it yields instead of polling its branches, so a loop over a
/// `select!` whose branches are always ready cannot hold a worker.
///
/// # Examples
///
/// The first branch to complete wins:
///
/// ```
/// use std::future::{pending, ready};
///
/// # #[smp_rt::main(flavor = "current_thread")]
/// # async fn main() {
/// let winner = smp_rt::select! {
///     () = pending::<()>() => "pending",
///     n = ready(7) => if n == 7 { "ready" } else { "wrong" },
/// };
/// assert_eq!(winner, "ready");
/// # }
/// ```
///
/// A pattern that does not match disables its branch; preconditions and
/// `else` handle the case where nothing is left to wait on:
///
/// ```
/// use std::future::ready;
///
/// # #[smp_rt::main(flavor = "current_thread")]
/// # async fn main() {
/// let allow_first = false;
/// let value = smp_rt::select! {
///     v = ready(1), if allow_first => v,
///     Some(v) = ready(None::<i32>) => v,
///     else => -1,
/// };
/// assert_eq!(value, -1);
/// # }
/// ```
///
/// Handlers can leave the enclosing loop, and `biased;` polls in order:
///
/// ```
/// # #[smp_rt::main(flavor = "current_thread")]
/// # async fn main() {
/// let mut jobs = vec![smp_rt::spawn(async { 1 }), smp_rt::spawn(async { 2 })];
/// let mut total = 0;
/// loop {
///     smp_rt::select! {
///         biased;
///         Some(result) = async { jobs.pop()?.await.ok() } => total += result,
///         else => break,
///     }
/// }
/// assert_eq!(total, 3);
/// # }
/// ```
#[macro_export]
macro_rules! select {
    ($($input:tt)*) => {
        $crate::__private::select_internal! { $crate; $($input)* }
    };
}

/// Waits on several async expressions concurrently and returns all their
/// outputs, as a tuple in the order the expressions are written.
///
/// ```text
/// join!([biased;] <async expression>, ...)
/// ```
///
/// The syntax and behaviour are tokio's. It must be used in an async
/// context. Each expression is turned into a future with
/// [`IntoFuture`](std::future::IntoFuture); the futures are stored on the
/// stack and run concurrently, not in parallel, on the current task: to use
/// several workers, [`spawn`](crate::spawn) them and join the handles.
///
/// By default the future polled first rotates from one wake-up to the next,
/// so every future makes progress; with `biased;` they are always polled in
/// the order they are written. `join!()` evaluates to `()`, and `join!(a)`
/// to a one-element tuple.
///
/// `join!` waits for every future even when some of them return an `Err`;
/// [`try_join!`](crate::try_join) stops at the first one.
///
/// # Examples
///
/// ```
/// async fn double(n: u32) -> u32 {
///     smp_rt::task::yield_now().await;
///     n * 2
/// }
///
/// # #[smp_rt::main(flavor = "current_thread")]
/// # async fn main() {
/// let (a, b, c) = smp_rt::join!(double(1), double(2), async { "three" });
/// assert_eq!((a, b, c), (2, 4, "three"));
///
/// let (first, second) = smp_rt::join!(biased; double(5), smp_rt::spawn(async { 6 }));
/// assert_eq!((first, second.unwrap()), (10, 6));
/// # }
/// ```
#[macro_export]
macro_rules! join {
    ($($input:tt)*) => {
        $crate::__private::join_internal! { $crate; $($input)* }
    };
}

/// Waits on several async expressions that return a `Result`, concurrently,
/// until all of them return `Ok` or one of them returns `Err`.
///
/// ```text
/// try_join!([biased;] <async expression>, ...)
/// ```
///
/// The syntax and behaviour are tokio's. It must be used in an async
/// context. Every expression must produce a `Result<_, E>` with the same
/// error type `E`. The value is `Ok` of a tuple of the `Ok` values, in the
/// order the expressions are written, or the first `Err` to be returned, in
/// which case the other futures are dropped without being polled again.
///
/// Polling order and storage are as for [`join!`](crate::join), including
/// `biased;`. `try_join!()` evaluates to `Ok(())`.
///
/// # Examples
///
/// ```
/// async fn parse(text: &str) -> Result<u32, std::num::ParseIntError> {
///     text.parse()
/// }
///
/// # #[smp_rt::main(flavor = "current_thread")]
/// # async fn main() {
/// let sum = smp_rt::try_join!(parse("1"), parse("2")).map(|(a, b)| a + b);
/// assert_eq!(sum, Ok(3));
///
/// let failed = smp_rt::try_join!(parse("1"), parse("two"), std::future::pending::<Result<(), _>>());
/// assert!(failed.is_err());
/// # }
/// ```
#[macro_export]
macro_rules! try_join {
    ($($input:tt)*) => {
        $crate::__private::try_join_internal! { $crate; $($input)* }
    };
}

/// Pins values on the stack, shadowing each name with a `Pin<&mut T>`
/// (tokio's `pin!`): a future that is not `Unpin` can then be polled by
/// reference, e.g. in a loop of [`select!`].
///
/// ```text
/// pin!(name, ...);
/// pin! { let name = <expression>; ... }
/// ```
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// # #[smp_rt::main(flavor = "current_thread")]
/// # async fn main() {
/// let ticks = async { 7 };
/// smp_rt::pin!(ticks);
/// smp_rt::pin! {
///     let later = smp_rt::time::sleep(Duration::from_millis(1));
/// }
/// later.as_mut().await;
/// assert_eq!((&mut ticks).await, 7);
/// # }
/// ```
#[macro_export]
macro_rules! pin {
    ($($name:ident),* $(,)?) => { $(
        #[allow(unused_mut)]
        let mut $name = ::core::pin::pin!($name);
    )* };
    ($(let $name:ident = $init:expr;)*) => { $(
        #[allow(unused_mut)]
        let mut $name = ::core::pin::pin!($init);
    )* };
}

/// Support for the expansion of [`select!`], [`join!`] and [`try_join!`].
/// Not public API.
#[doc(hidden)]
pub mod __private {
    use std::cell::Cell;
    use std::hash::{BuildHasher, RandomState};
    use std::task::Context;

    pub use futures::future::MaybeDone;
    pub use smp_rt_executor::task::poll_charge;
    pub use smp_rt_macros::{join_internal, select_internal, try_join_internal};
    pub use std::future::{Future, IntoFuture, poll_fn};
    pub use std::pin::Pin;
    pub use std::task::Poll;

    thread_local! {
        static RNG: Cell<u64> = const { Cell::new(0) };
    }

    /// A pseudo-random number in `0..n`, from a per-thread xorshift
    /// generator. `n` must not be 0.
    #[inline]
    pub fn thread_rng_n(n: u32) -> u32 {
        RNG.with(|rng| {
            let mut x = rng.get();
            if x == 0 {
                x = RandomState::new().hash_one(std::thread::current().id()) | 1;
            }
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            rng.set(x);
            (((x >> 32) * u64::from(n)) >> 32) as u32
        })
    }

    /// Wraps a joined expression's future so that its output can be kept
    /// until the others are done.
    #[inline]
    pub fn maybe_done<F: IntoFuture>(future: F) -> MaybeDone<F::IntoFuture> {
        futures::future::maybe_done(future.into_future())
    }

    /// Takes the output of a future that `join!` has polled to completion.
    #[inline]
    pub fn take_output<F: Future>(future: Pin<&mut MaybeDone<F>>) -> F::Output {
        match future.take_output() {
            Some(output) => output,
            None => unreachable!("join! took an output twice"),
        }
    }

    /// Polls one of the futures of a `try_join!`. Returns the result of the
    /// whole `try_join!` when this future completed with an error, and sets
    /// `pending` when it is not done.
    #[inline]
    pub fn poll_try_join<F, T, E, R>(
        mut future: Pin<&mut MaybeDone<F>>,
        cx: &mut Context<'_>,
        pending: &mut bool,
    ) -> Option<Result<R, E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        if future.as_mut().poll(cx).is_pending() {
            *pending = true;
            return None;
        }
        if future
            .as_mut()
            .output_mut()
            .is_some_and(|output| output.is_err())
        {
            return future.take_output().and_then(Result::err).map(Err);
        }
        None
    }

    /// Takes the `Ok` value of a future that `try_join!` has polled to
    /// completion.
    #[inline]
    pub fn take_ok<F, T, E>(future: Pin<&mut MaybeDone<F>>) -> T
    where
        F: Future<Output = Result<T, E>>,
    {
        match future.take_output() {
            Some(Ok(value)) => value,
            _ => unreachable!("try_join! took an output that is not there"),
        }
    }
}

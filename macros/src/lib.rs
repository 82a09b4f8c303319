//! The `#[smp_rt::main]` and `#[smp_rt::test]` attributes, and the
//! implementation of `smp_rt::select!`, `smp_rt::join!` and
//! `smp_rt::try_join!`.
//!
//! Both attributes turn an `async fn` into an ordinary function that builds
//! an [`smp_rt`] runtime and blocks on the function's body. Use them through
//! the `smp_rt` crate, which re-exports them; the expansion refers to
//! `::smp_rt::runtime::Builder`, so `smp_rt` must be a dependency of the crate
//! that uses them.
//!
//! The function-like macros here are called by the `select!`, `join!` and
//! `try_join!` wrappers in `smp_rt`, which pass their own crate path first;
//! they are not meant to be called directly.
//!
//! [`smp_rt`]: https://docs.rs/smp_rt

#![warn(missing_docs)]

mod args;
mod expand;
mod select;

use proc_macro::TokenStream;

use expand::Kind;

/// Runs an `async fn` on a new `smp_rt` runtime.
///
/// The function keeps its name, visibility, attributes and return type but
/// loses its `async`: calling it builds a runtime, runs the body to
/// completion on it and returns the body's output. It is meant for `main`,
/// but any function without parameters works.
///
/// ```
/// #[smp_rt::main]
/// async fn main() {
///     let handle = smp_rt::spawn(async { 1 + 1 });
///     assert_eq!(handle.await.unwrap(), 2);
/// }
/// ```
///
/// A `Result` return type works as it does for a plain `main`, and `?` can be
/// used in the body (`no_run`: it reads a `config.toml` the example does not
/// create):
///
/// ```no_run
/// #[smp_rt::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let text = std::fs::read_to_string("config.toml")?;
///     println!("{text}");
///     Ok(())
/// }
/// ```
///
/// # Arguments
///
/// All arguments are optional and are written as `name = value`, separated
/// by commas:
///
/// | Argument | Value | Default |
/// |---|---|---|
/// | `flavor` | `"multi_thread"`: a pool of worker threads; `"current_thread"`: one worker, on the calling thread | `"multi_thread"` |
/// | `worker_threads` | the number of workers, an integer `>= 1`; only with `"multi_thread"`, which it selects when `flavor` is not given | one per core |
/// | `reductions` | how many reductions a task may use before it is preempted, an integer `>= 1` | the runtime's default |
/// | `start_paused` | `true`: the runtime's clock starts paused (`Builder::start_paused`, see `smp_rt::time::pause`); needs the current-thread flavor, which it selects when `flavor` is not given | `false` |
/// | `name` | the runtime's name, a non-empty string (`Builder::name`, read back with `Handle::name`) | none |
///
/// ```
/// #[smp_rt::main(worker_threads = 4, reductions = 2000)]
/// async fn main() {
///     // Runs on four workers; tasks yield after 2000 reductions.
/// }
/// ```
///
/// ```
/// #[smp_rt::main(flavor = "current_thread")]
/// async fn main() {
///     // Everything runs on the thread that called `main`.
/// }
/// ```
///
/// # Expansion
///
/// ```
/// # async fn serve() -> std::io::Result<()> { Ok(()) }
/// #[smp_rt::main(worker_threads = 4)]
/// async fn main() -> std::io::Result<()> {
///     serve().await
/// }
/// ```
///
/// becomes, in substance,
///
/// ```
/// # async fn serve() -> std::io::Result<()> { Ok(()) }
/// fn main() -> std::io::Result<()> {
///     async fn body() -> std::io::Result<()> {
///         serve().await
///     }
///     let runtime = ::smp_rt::runtime::Builder::new_multi_thread()
///         .worker_threads(4)
///         .enable_all()
///         .build()
///         .expect("failed to build the smp_rt runtime");
///     runtime.block_on(body())
/// }
/// ```
///
/// The body keeps the declared return type, so `return`, `?` and coercions
/// such as `Box<MyError>` to `Box<dyn Error>` work as in any function. When
/// the function is generic or its body refers to `Self` (a nested function
/// could not see either), the body runs as an `async move` block instead,
/// whose output type is inferred from the return type.
///
/// # Errors
///
/// It is a compile error to put the attribute on a function that is not
/// `async` or that has parameters, to pass an unknown argument or an invalid
/// value, to combine `worker_threads` with `flavor = "current_thread"`, or
/// `start_paused = true` with `flavor = "multi_thread"` or `worker_threads`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async` test on a new `smp_rt` runtime.
///
/// Each test gets a runtime of its own, built when the test starts and shut
/// down when it ends. The function is marked `#[test]`, so do not add
/// `#[test]` yourself; other attributes such as `#[ignore]` and
/// `#[should_panic]` are kept. A test may return a `Result`, like any Rust
/// test.
///
/// ```
/// use smp_rt::runtime::{Handle, RuntimeFlavor};
///
/// #[smp_rt::test]
/// async fn adds() {
///     let handle = smp_rt::spawn(async { 1 + 1 });
///     assert_eq!(handle.await.unwrap(), 2);
///     assert_eq!(Handle::current().runtime_flavor(), RuntimeFlavor::CurrentThread);
/// }
///
/// #[smp_rt::test(flavor = "current_thread")]
/// async fn reads_a_file() -> std::io::Result<()> {
///     let text = std::fs::read_to_string("Cargo.toml")?;
///     assert!(text.contains("[package]"));
///     Ok(())
/// }
///
/// #[smp_rt::test(worker_threads = 2, reductions = 100)]
/// #[should_panic(expected = "boom")]
/// async fn panics() {
///     panic!("boom");
/// }
/// ```
///
/// # Arguments
///
/// The same as [`macro@main`]: `flavor = "multi_thread" | "current_thread"`,
/// `worker_threads = <integer >= 1>` (only with `"multi_thread"`, default
/// one per core), `reductions = <integer >= 1>`, `start_paused = true |
/// false` and `name = "<runtime name>"`.
///
/// Unlike `main`, and as with `#[tokio::test]`, the default flavor is
/// `"current_thread"`: without arguments the test and every task it spawns
/// run on the test's own thread. Write `flavor = "multi_thread"` (or give
/// `worker_threads`, which selects it) for a test that needs several
/// workers.
///
/// `start_paused = true` starts the test with its runtime's clock paused,
/// as tokio's does: sleeps, timeouts and intervals then run in virtual time,
/// which jumps to the next timer whenever the runtime is idle (see
/// `smp_rt::time::pause`). It needs a current-thread runtime: without a
/// `flavor` it selects `"current_thread"`, and it is a compile error with
/// `flavor = "multi_thread"` or `worker_threads`.
///
/// ```
/// use smp_rt::time::{sleep, Duration, Instant};
///
/// #[smp_rt::test(start_paused = true)]
/// async fn a_day_in_no_time() {
///     let start = Instant::now();
///     sleep(Duration::from_secs(86_400)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(86_400));
/// }
/// ```
///
/// # Errors
///
/// The same misuse as for [`macro@main`] is a compile error, and so is a
/// second test attribute such as `#[test]` on the same function.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(Kind::Test, args.into(), item.into()).into()
}

/// The implementation of `smp_rt::select!`; use that macro instead.
///
/// The input is the `smp_rt` crate path, `;`, then the `select!` input.
#[doc(hidden)]
#[proc_macro]
pub fn select_internal(input: TokenStream) -> TokenStream {
    select::select(input.into()).into()
}

/// The implementation of `smp_rt::join!`; use that macro instead.
///
/// The input is the `smp_rt` crate path, `;`, then the `join!` input.
#[doc(hidden)]
#[proc_macro]
pub fn join_internal(input: TokenStream) -> TokenStream {
    select::join(select::JoinKind::Join, input.into()).into()
}

/// The implementation of `smp_rt::try_join!`; use that macro instead.
///
/// The input is the `smp_rt` crate path, `;`, then the `try_join!` input.
#[doc(hidden)]
#[proc_macro]
pub fn try_join_internal(input: TokenStream) -> TokenStream {
    select::join(select::JoinKind::TryJoin, input.into()).into()
}

//! Reductions: the budget that makes scheduling preemptive at await points.
//!
//! BEAM counts *reductions* (roughly, function calls) and switches processes
//! when a process has spent its slice. smp_rt does the same for futures:
//!
//! * a **slice** of `reductions` (default 2000) starts every time a worker
//!   polls a task, and the poll itself charges 1;
//! * every smp_rt leaf future (channels, mutex, `JoinHandle`, IO readiness,
//!   timers) charges 1 more each time it is polled, through [`poll_charge`];
//!   user code charges with [`reduce`] or [`consume_budget`];
//! * once the slice is spent, the next charging leaf wakes its own task and
//!   returns `Pending`. The worker sees a task that woke itself while running
//!   and puts it at the back of its priority queue: a preemption.
//!
//! The slice lives in a thread-local owned by whoever polls the task. Code
//! that runs outside a slice (a plain thread, [`unconstrained`]) is never
//! charged and never preempted.
//!
//! A slice also ends early when `Max` or `High` work, of a higher priority
//! than the running task, arrives on its worker: the worker's *urgent*
//! flag, which the next charging leaf reads. So `Max` and `High` tasks wait
//! for the running task's next await point, not for the rest of its slice.
//! Work of that kind woken from outside the runtime also raises the flag of
//! one sibling running lower-priority work, which takes it if it gets there
//! first.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr;
use std::sync::atomic::Ordering::Relaxed;
use std::task::{Context, Poll};

use crate::context;
use crate::loom::AtomicU8;

/// What ends a slice early: a byte of requests, of which those in `mask`
/// outrank the task being polled. The runner sets a bit when work that
/// should run before the rest of the slice arrives; the slice ends at the
/// task's next charging await point.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Preempt<'a> {
    requests: &'a AtomicU8,
    mask: u8,
}

impl<'a> Preempt<'a> {
    pub(crate) fn new(requests: &'a AtomicU8, mask: u8) -> Preempt<'a> {
        Preempt { requests, mask }
    }
}

/// The state of the slice being run on this thread.
///
/// Lives in the thread's context, so it holds its [`Preempt`] as a raw
/// pointer; [`run_slice`] installs it for the length of a call that
/// borrows the requests, and takes it out again before returning (or
/// unwinding).
///
/// Its fields fill three words with no padding byte (`_pad` fills the
/// rest): a slice is copied in and out of the context around every poll and
/// at every charge, and a struct with padding is copied field by field,
/// through the stack, where one without is moved in whole words.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slice {
    /// Reductions the slice started with.
    pub(crate) size: u32,
    /// Reductions left before the next charging leaf yields.
    pub(crate) left: u32,
    /// `false` outside a task poll and inside [`unconstrained`].
    pub(crate) limited: bool,
    /// Set when a charging leaf yielded because `left` reached 0 (or
    /// higher-priority work arrived).
    pub(crate) preempted: bool,
    /// The runner's requests (null if none): when one of `preempt_mask` is
    /// set, the slice ends at the next charge.
    preempt: *const AtomicU8,
    /// The requests that outrank the task being polled.
    preempt_mask: u8,
    /// Fills the struct to a whole number of words (see the type's docs).
    _pad: [u8; 5],
}

impl Slice {
    /// `true` when the slice must end at the next charging await point.
    #[inline]
    fn is_spent(&self) -> bool {
        // SAFETY: `preempt` is null or was installed by `run_slice` from a
        // reference that outlives the slice's installation (see there).
        self.left == 0
            || unsafe { self.preempt.as_ref() }
                .is_some_and(|requests| requests.load(Relaxed) & self.preempt_mask != 0)
    }

    /// No budget: code outside a worker's poll, or inside `unconstrained`.
    pub(crate) const UNLIMITED: Slice = Slice {
        size: 0,
        left: 0,
        limited: false,
        preempted: false,
        preempt: ptr::null(),
        preempt_mask: 0,
        _pad: [0; 5],
    };

    /// Reductions charged so far in this slice.
    pub(crate) fn charged(&self) -> u32 {
        if self.limited {
            self.size - self.left
        } else {
            0
        }
    }

    /// A fresh slice of `reductions`, of which the poll itself charges one.
    fn begin(reductions: u32, preempt: Option<Preempt<'_>>) -> Slice {
        Slice {
            size: reductions,
            left: reductions.saturating_sub(1),
            limited: true,
            preempted: false,
            preempt: preempt.map_or(ptr::null(), |p| ptr::from_ref(p.requests)),
            preempt_mask: preempt.map_or(0, |p| p.mask),
            _pad: [0; 5],
        }
    }
}

/// Runs `poll` (one poll of a task) as a fresh slice of `reductions`,
/// ended early by `preempt`, on this thread; returns what `poll` returned
/// and how the slice ended. The slice that was running before (if any) is
/// back when this returns.
#[inline]
pub(crate) fn run_slice<R>(
    reductions: u32,
    preempt: Option<Preempt<'_>>,
    poll: impl FnOnce() -> R,
) -> (R, Slice) {
    /// Puts the previous slice back, also on unwinding, so the context
    /// never keeps a pointer to requests this call no longer borrows.
    struct Installed<'a> {
        prev: Slice,
        _preempt: PhantomData<&'a AtomicU8>,
    }
    impl Drop for Installed<'_> {
        fn drop(&mut self) {
            context::set_slice(self.prev);
        }
    }
    let installed = Installed {
        prev: context::replace_slice(Slice::begin(reductions, preempt)),
        _preempt: PhantomData,
    };
    let out = poll();
    let slice = context::replace_slice(installed.prev);
    std::mem::forget(installed);
    (out, slice)
}

/// [`run_slice`] for a caller outside any slice (a worker's loop, which
/// polls its tasks from no task: `Slice::UNLIMITED` is what the thread
/// holds, as outside a slice it holds nothing else): the slice is
/// installed, and `Slice::UNLIMITED` put back after `poll` (also on
/// unwinding), with no previous slice saved and restored around the call.
#[inline]
pub(crate) fn run_top_slice<R>(
    reductions: u32,
    preempt: Option<Preempt<'_>>,
    poll: impl FnOnce() -> R,
) -> (R, Slice) {
    /// Leaves the thread outside any slice, also on unwinding, so the
    /// context never keeps a pointer to requests this call no longer
    /// borrows.
    struct Installed<'a>(PhantomData<&'a AtomicU8>);
    impl Drop for Installed<'_> {
        fn drop(&mut self) {
            context::set_slice(Slice::UNLIMITED);
        }
    }
    debug_assert!(
        !context::slice().limited,
        "run_top_slice called inside a slice"
    );
    context::set_slice(Slice::begin(reductions, preempt));
    let installed = Installed(PhantomData);
    let out = poll();
    let slice = context::replace_slice(Slice::UNLIMITED);
    std::mem::forget(installed);
    (out, slice)
}

/// Runs `poll` (one poll of a task run inside the poll of another, as a
/// `LocalSet` runs its tasks) as a slice carved from the current one: what
/// is left of it, ended early by the same requests. What the inner poll
/// charged is charged to the outer slice when it returns. Outside a slice
/// (a plain thread, [`unconstrained`]) the inner poll gets a fresh slice of
/// `reductions` instead. Returns what `poll` returned and whether the outer
/// slice is spent now (its next charging await point would yield).
pub(crate) fn run_nested_slice<R>(reductions: u32, poll: impl FnOnce() -> R) -> (R, bool) {
    let outer = context::slice();
    if !outer.limited {
        let (out, _) = run_slice(reductions, None, poll);
        return (out, false);
    }
    let inner = Slice {
        size: outer.left.max(1),
        left: outer.left.saturating_sub(1),
        limited: true,
        preempted: false,
        preempt: outer.preempt,
        preempt_mask: outer.preempt_mask,
        _pad: [0; 5],
    };
    /// Puts the outer slice back, charged, also on unwinding.
    struct Restore(Slice);
    impl Drop for Restore {
        fn drop(&mut self) {
            let inner = context::replace_slice(self.0);
            let mut outer = self.0;
            outer.left = outer.left.saturating_sub(inner.size - inner.left);
            context::set_slice(outer);
        }
    }
    let restore = Restore(context::replace_slice(inner));
    let out = poll();
    drop(restore);
    (out, context::slice().is_spent())
}

/// Marks the current slice as ended by its budget (a runner nested in a
/// task, as a `LocalSet`, yielded because the slice was spent): the worker
/// counts the poll as a preemption.
pub(crate) fn mark_preempted() {
    let mut slice = context::slice();
    if slice.limited {
        slice.preempted = true;
        context::set_slice(slice);
    }
}

/// Charges one reduction for a leaf future being polled.
///
/// Returns `Poll::Ready(())` when the caller may go on. When the current
/// slice is already spent it wakes the calling task and returns
/// `Poll::Pending`: the caller must return `Pending` at once, without doing
/// its operation, and will be polled again at the start of its next slice.
///
/// Leaf futures outside smp_rt can call this to take part in the budget.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Poll};
///
/// struct Tick;
///
/// impl Future for Tick {
///     type Output = ();
///     fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
///         std::task::ready!(smp_rt_executor::task::poll_charge(cx));
///         Poll::Ready(())
///     }
/// }
/// ```
#[inline]
pub fn poll_charge(cx: &mut Context<'_>) -> Poll<()> {
    let mut slice = context::slice();
    if !slice.limited {
        return Poll::Ready(());
    }
    if slice.is_spent() {
        slice.preempted = true;
        context::set_slice(slice);
        cx.waker().wake_by_ref();
        return Poll::Pending;
    }
    slice.left -= 1;
    context::set_slice(slice);
    Poll::Ready(())
}

/// Charges `n` reductions to the calling task's slice.
///
/// Returns `true` when the slice is spent (or higher-priority work is
/// waiting for the worker): the next charging await point (for example
/// [`consume_budget`]) will end the slice. Outside a task, or inside
/// [`unconstrained`], nothing is charged and this returns `false`.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task;
///
/// for chunk in 0..100 {
///     // ... a piece of CPU-bound work ...
///     if task::reduce(50) {
///         task::consume_budget().await; // let other tasks run
///     }
/// }
/// # });
/// ```
#[inline]
pub fn reduce(n: u32) -> bool {
    let mut slice = context::slice();
    if !slice.limited {
        return false;
    }
    slice.left = slice.left.saturating_sub(n);
    context::set_slice(slice);
    slice.is_spent()
}

/// `true` when the calling task's slice has reductions left, so the next
/// charging await point will not yield; also `true` outside a slice (a
/// plain thread, `block_on`'s own future on a multi-thread runtime, or
/// inside [`unconstrained`]), where nothing is charged. tokio's
/// `task::coop::has_budget_remaining`.
///
/// `false` also when the slice ends early because higher-priority work is
/// waiting for the worker.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task::{self, coop};
///
/// smp_rt_executor::spawn(async {
///     assert!(coop::has_budget_remaining());
///     task::reduce(u32::MAX); // spend the slice
///     assert!(!coop::has_budget_remaining());
///     coop::consume_budget().await; // yields: a new slice
///     assert!(coop::has_budget_remaining());
/// })
/// .await
/// .unwrap();
/// # });
/// ```
#[inline]
pub fn has_budget_remaining() -> bool {
    let slice = context::slice();
    !slice.limited || !slice.is_spent()
}

/// Makes `future` take part in the budget: each poll of the returned
/// future charges one reduction first, and yields instead of polling
/// `future` when the slice is spent. tokio's `task::coop::cooperative`.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task::coop;
///
/// // A future from outside smp_rt that never charges reductions itself.
/// let mut n = 0;
/// let ticks = std::future::poll_fn(|cx| {
///     n += 1;
///     if n == 100 {
///         std::task::Poll::Ready(n)
///     } else {
///         cx.waker().wake_by_ref();
///         std::task::Poll::Pending
///     }
/// });
/// assert_eq!(coop::cooperative(ticks).await, 100);
/// # });
/// ```
pub fn cooperative<F: Future>(future: F) -> Coop<F> {
    Coop { future }
}

pin_project_lite::pin_project! {
    /// Future returned by [`cooperative`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Coop<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for Coop<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        std::task::ready!(poll_charge(cx));
        self.project().future.poll(cx)
    }
}

/// Charges one reduction; yields to the back of the queue if the slice is spent.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// let mut sum = 0u64;
/// for i in 0..10_000u64 {
///     sum += i;
///     smp_rt_executor::task::consume_budget().await;
/// }
/// assert_eq!(sum, 49_995_000);
/// # });
/// ```
pub fn consume_budget() -> ConsumeBudget {
    ConsumeBudget { _priv: () }
}

/// Future returned by [`consume_budget`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct ConsumeBudget {
    _priv: (),
}

impl Future for ConsumeBudget {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        poll_charge(cx)
    }
}

/// Ends the calling task's slice: it goes to the back of its priority queue.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// smp_rt_executor::task::yield_now().await;
/// # });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Runs `future` without charging reductions, so it is never preempted.
///
/// The name is tokio's. Use it for short critical sections that must not be
/// cut, never for long CPU-bound work: an unconstrained task can hold its
/// worker for as long as it likes.
///
/// # Examples
///
/// ```
/// # smp_rt_executor::block_on(async {
/// use smp_rt_executor::task;
///
/// let sum = task::unconstrained(async {
///     let mut sum = 0;
///     for i in 0..10_000 {
///         task::consume_budget().await; // never yields here
///         sum += i;
///     }
///     sum
/// })
/// .await;
/// assert_eq!(sum, 49_995_000);
/// # });
/// ```
pub fn unconstrained<F: Future>(future: F) -> Unconstrained<F> {
    Unconstrained { future }
}

pin_project_lite::pin_project! {
    /// Future returned by [`unconstrained`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Unconstrained<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let saved = context::replace_slice(Slice::UNLIMITED);
        // Restore the caller's slice even if the inner future panics.
        struct Restore(Slice);
        impl Drop for Restore {
            fn drop(&mut self) {
                context::set_slice(self.0);
            }
        }
        let _restore = Restore(saved);
        self.project().future.poll(cx)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use super::*;

    #[test]
    fn a_top_slice_is_spent_by_its_poll_and_leaves_the_thread_outside_any_slice() {
        assert!(!context::slice().limited, "a test thread runs no slice");
        let (inside, slice) = run_top_slice(10, None, || {
            let inside = context::slice();
            reduce(4);
            inside
        });
        assert!(inside.limited);
        assert_eq!(inside.left, 9, "the poll itself charges one");
        assert_eq!(slice.charged(), 5);
        assert!(!slice.preempted);
        let after = context::slice();
        assert!(!after.limited && after.charged() == 0, "{after:?}");
        assert!(
            after.preempt.is_null(),
            "no pointer to the requests is kept"
        );
    }

    #[test]
    fn a_top_slice_that_unwinds_leaves_the_thread_outside_any_slice() {
        let requests = AtomicU8::new(0);
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            run_top_slice(10, Some(Preempt::new(&requests, 1)), || {
                assert!(context::slice().limited);
                panic!("the poll panics")
            })
        }));
        assert!(unwound.is_err());
        let after = context::slice();
        assert!(!after.limited, "{after:?}");
        assert!(
            after.preempt.is_null(),
            "no pointer to the requests is kept"
        );
    }
}

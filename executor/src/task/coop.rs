//! Cooperative scheduling, under tokio's names (`tokio::task::coop`, tokio
//! 1.44 and later).
//!
//! tokio's budget is smp_rt's slice of reductions (see [`reduce`] and
//! [`poll_charge`] for the rest of that API): a task may run until its
//! slice is spent, and the next charging await point then yields.
//!
//! # Examples
//!
//! ```
//! # smp_rt_executor::block_on(async {
//! use smp_rt_executor::task::coop;
//!
//! let mut sum = 0u64;
//! for i in 0..10_000u64 {
//!     sum += i;
//!     if !coop::has_budget_remaining() {
//!         coop::consume_budget().await; // let other tasks run
//!     }
//! }
//! assert_eq!(sum, 49_995_000);
//! # });
//! ```
//!
//! [`reduce`]: super::reduce
//! [`poll_charge`]: super::poll_charge

use std::task::{Context, Poll, ready};

use crate::context;

pub use super::budget::{
    ConsumeBudget, Coop, Unconstrained, consume_budget, cooperative, has_budget_remaining,
    unconstrained,
};

/// Charges one reduction for an operation about to be tried, as a leaf
/// future does (tokio's `coop::poll_proceed`): `Pending` (with the task
/// woken) when the slice is spent, else a guard that gives the reduction
/// back when dropped, unless the operation [made
/// progress](RestoreOnPending::made_progress).
///
/// A future that polls something smp_rt does not charge (a foreign
/// resource) calls it first, so that a task waiting on that resource in a
/// loop still yields at the end of its slice, and only progress is paid
/// for.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::pin::Pin;
/// use std::task::{Context, Poll, ready};
/// use smp_rt_executor::task::coop;
///
/// /// Counts down; each step is one reduction.
/// struct Countdown(u32);
///
/// impl Future for Countdown {
///     type Output = ();
///     fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
///         loop {
///             let restore = ready!(coop::poll_proceed(cx));
///             if self.0 == 0 {
///                 return Poll::Ready(());
///             }
///             self.0 -= 1;
///             restore.made_progress();
///         }
///     }
/// }
///
/// # smp_rt_executor::block_on(async {
/// Countdown(10_000).await; // yields whenever its slice is spent
/// # });
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    let charged = context::slice().limited;
    ready!(super::poll_charge(cx));
    Poll::Ready(RestoreOnPending {
        charged: std::cell::Cell::new(charged),
    })
}

/// The reduction charged by [`poll_proceed`], given back on drop unless
/// [`made_progress`](Self::made_progress) was called.
#[must_use = "dropping it at once gives the reduction back"]
#[derive(Debug)]
pub struct RestoreOnPending {
    /// Whether a reduction was charged and is still to be given back.
    charged: std::cell::Cell<bool>,
}

impl RestoreOnPending {
    /// Keeps the reduction charged: the operation made progress.
    pub fn made_progress(&self) {
        self.charged.set(false);
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if !self.charged.get() {
            return;
        }
        let mut slice = context::slice();
        // Only within the poll that charged it (the guard is `!Send` and
        // normally lives inside one poll): a slice that ended meanwhile
        // is not refunded.
        if slice.limited && slice.left < slice.size {
            slice.left += 1;
            context::set_slice(slice);
        }
    }
}

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

pub use super::budget::{
    ConsumeBudget, Coop, Unconstrained, consume_budget, cooperative, has_budget_remaining,
    unconstrained,
};

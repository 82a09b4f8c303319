//! `UnwindSafe` and `RefUnwindSafe`: every type whose tokio counterpart is
//! unwind-safe is too, for the same type parameters, so code that moves
//! such a value into `catch_unwind` (or holds one across it) compiles with
//! smp_rt as it did with tokio. The checks are at compile time: this file
//! does not build if one fails.
//!
//! The parameters probe how each depends on its type parameter: `u8` is
//! both, `Cell<u8>` is `UnwindSafe` only, `&mut u8` is `RefUnwindSafe`
//! only. tokio's channels, `JoinHandle`, `Runtime` and `Handle` are
//! unwind-safe whatever the parameter, its error types as their payload is.
//!
//! Some smp_rt types are unwind-safe where tokio's are not (its `Mutex`,
//! `RwLock`, `Semaphore`, `broadcast` and `watch` handles, `Barrier`,
//! `JoinError`, ...): that breaks no code written for tokio.

use std::cell::Cell;
use std::panic::{RefUnwindSafe, UnwindSafe};

use smp_rt::sync::{self, broadcast, mpsc, oneshot, watch};
use smp_rt::{runtime, task, time};

fn unwind_safe<T: UnwindSafe + RefUnwindSafe>() {}
fn only_unwind_safe<T: UnwindSafe>() {}
fn only_ref_unwind_safe<T: RefUnwindSafe>() {}

/// `T` unwind-safe for every parameter.
macro_rules! unwind_safe_for_any {
    ($($t:ident)::+) => {
        unwind_safe::<$($t)::+<u8>>();
        unwind_safe::<$($t)::+<Cell<u8>>>();
        unwind_safe::<$($t)::+<&'static mut u8>>();
    };
}

/// `T<P>` exactly as unwind-safe as `P`.
macro_rules! unwind_safe_as_its_parameter {
    ($($t:ident)::+) => {
        unwind_safe::<$($t)::+<u8>>();
        only_unwind_safe::<$($t)::+<Cell<u8>>>();
        only_ref_unwind_safe::<$($t)::+<&'static mut u8>>();
    };
}

#[test]
fn mpsc_handles_are_unwind_safe_whatever_the_message() {
    unwind_safe_for_any!(mpsc::Sender);
    unwind_safe_for_any!(mpsc::Receiver);
    unwind_safe_for_any!(mpsc::UnboundedSender);
    unwind_safe_for_any!(mpsc::UnboundedReceiver);
    unwind_safe_for_any!(mpsc::WeakSender);
    unwind_safe_for_any!(mpsc::WeakUnboundedSender);
    unwind_safe_for_any!(mpsc::OwnedPermit);
    unwind_safe::<mpsc::Permit<'static, Cell<u8>>>();
    unwind_safe::<mpsc::Permit<'static, &'static mut u8>>();
    unwind_safe::<mpsc::PermitIterator<'static, Cell<u8>>>();
    unwind_safe::<mpsc::PermitIterator<'static, &'static mut u8>>();
}

#[test]
fn error_types_are_as_unwind_safe_as_their_payload() {
    unwind_safe_as_its_parameter!(mpsc::error::SendError);
    unwind_safe_as_its_parameter!(mpsc::error::TrySendError);
    unwind_safe_as_its_parameter!(mpsc::error::SendTimeoutError);
    unwind_safe_as_its_parameter!(broadcast::error::SendError);
    unwind_safe_as_its_parameter!(watch::error::SendError);
    unwind_safe_as_its_parameter!(sync::SetError);
    unwind_safe_as_its_parameter!(sync::SetOnceError);
    unwind_safe::<mpsc::error::TryRecvError>();
    unwind_safe::<oneshot::error::RecvError>();
    unwind_safe::<oneshot::error::TryRecvError>();
    unwind_safe::<broadcast::error::RecvError>();
    unwind_safe::<broadcast::error::TryRecvError>();
    unwind_safe::<watch::error::RecvError>();
    unwind_safe::<sync::TryLockError>();
    unwind_safe::<sync::AcquireError>();
    unwind_safe::<sync::TryAcquireError>();
}

#[test]
fn sync_types_are_unwind_safe_where_tokios_are() {
    unwind_safe::<sync::Notify>();
    unwind_safe::<sync::BarrierWaitResult>();
    // tokio's `SetOnce<T>` is `UnwindSafe` for an unwind-safe `T`.
    only_unwind_safe::<sync::SetOnce<u8>>();
    only_unwind_safe::<sync::SetOnce<Cell<u8>>>();
}

#[test]
fn task_time_and_runtime_types_are_unwind_safe_where_tokios_are() {
    unwind_safe_for_any!(task::JoinHandle);
    unwind_safe::<task::AbortHandle>();
    unwind_safe::<task::Id>();
    unwind_safe::<time::Instant>();
    unwind_safe::<time::error::Elapsed>();
    unwind_safe::<runtime::Runtime>();
    unwind_safe::<runtime::Handle>();
}

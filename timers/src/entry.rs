//! A timer's registration: the intrusive node a timer future carries, and
//! the handle that arms, re-arms and cancels it.
//!
//! # Ownership
//!
//! A [`TimerEntry`] lives inside a timer future ([`Sleep`](crate::Sleep)).
//! Its [`Node`] is linked into a shard's wheel while the timer is armed; the
//! wheel keeps a raw pointer to it. This is sound because:
//!
//! * a node is only linked through `Pin<&Node>`, so it does not move while
//!   linked;
//! * the entry's drop unlinks the node (under the shard's mutex) before its
//!   memory goes, and `Pin`'s drop guarantee says that drop runs;
//! * the node's [`Links`] (list pointers, tick, waker) are only read or
//!   written with the shard's mutex held.
//!
//! # States
//!
//! `state` is the one field read without the mutex:
//!
//! ```text
//!   UNREGISTERED --arm--> ARMED --driver fires--> FIRED
//!        ^                  |                        |
//!        +-----cancel-------+                        |
//!        +-----------------reset---------------------+
//! ```
//!
//! Every transition out of `ARMED` happens under the mutex. The driver
//! stores `FIRED` (Release) *after* it has unlinked the node and taken its
//! waker, as the last access it makes to the node: an owner that loads
//! `FIRED` (Acquire) may then drop or re-arm the node without the mutex.

use std::cell::UnsafeCell;
use std::marker::PhantomPinned;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::AtomicU8;
use std::sync::atomic::Ordering::{Acquire, Relaxed};
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;

use crate::Timers;

/// Not in any wheel; the deadline was never checked, or was changed.
pub(crate) const UNREGISTERED: u8 = 0;
/// Linked into a shard's wheel.
pub(crate) const ARMED: u8 = 1;
/// The deadline passed (fired by the driver, or seen passed when armed).
pub(crate) const FIRED: u8 = 2;

/// Bits of `Links::place` holding the tick; the slot index is above them.
const TICK_BITS: u32 = 48;

/// The part of a timer the wheel points to.
pub(crate) struct Node {
    /// `UNREGISTERED`, `ARMED` or `FIRED`; see the module docs.
    pub(crate) state: AtomicU8,
    /// List membership and waker; only accessed under the shard's mutex.
    pub(crate) links: UnsafeCell<Links>,
    /// The wheel holds pointers to the node.
    _pin: PhantomPinned,
}

// SAFETY: `state` is atomic and `links` is only accessed with the mutex of the
// shard the node is armed in held, so sharing a node or sending it to another
// thread cannot race. The raw pointers in `links` are only followed by the
// wheel, under that same mutex.
unsafe impl Send for Node {}
// SAFETY: as above.
unsafe impl Sync for Node {}

/// A node's list pointers, place and waker.
pub(crate) struct Links {
    /// Previous node in the slot's list.
    pub(crate) prev: Option<NonNull<Node>>,
    /// Next node in the slot's list.
    pub(crate) next: Option<NonNull<Node>>,
    /// The task to wake when the timer fires.
    pub(crate) waker: Option<Waker>,
    /// The tick (low 48 bits) and the slot index (high 16 bits).
    place: u64,
}

impl Links {
    /// The tick the node is armed for.
    #[inline]
    pub(crate) fn tick(&self) -> u64 {
        self.place & ((1 << TICK_BITS) - 1)
    }

    /// The index of the slot the node is in.
    #[inline]
    pub(crate) fn slot(&self) -> usize {
        (self.place >> TICK_BITS) as usize
    }

    /// Records where the node is linked.
    #[inline]
    pub(crate) fn set_place(&mut self, tick: u64, slot: usize) {
        debug_assert!(tick < 1 << TICK_BITS && slot <= u16::MAX as usize);
        self.place = tick | ((slot as u64) << TICK_BITS);
    }
}

impl Node {
    fn new() -> Node {
        Node {
            state: AtomicU8::new(UNREGISTERED),
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                waker: None,
                place: 0,
            }),
            _pin: PhantomPinned,
        }
    }
}

/// The timers of the runtime this thread is in, for `what` (the function
/// that needs them, named in the panic).
///
/// # Panics
///
/// Outside a runtime, or in a runtime without timers.
#[track_caller]
pub(crate) fn current_timers(what: &str) -> Arc<Timers> {
    match smp_rt_executor::runtime::Handle::current_extension::<Timers>() {
        Ok(Some(timers)) => timers,
        Ok(None) => panic!(
            "{what} needs timers, and this smp_rt runtime has no timers: it is an executor-only \
             runtime (smp_rt_executor::runtime::Builder without a timers extension); \
             build it with smp_rt::runtime::Builder to use sleep, timeout and interval"
        ),
        Err(_) => panic!(
            "{what} needs a runtime, and there is no smp_rt runtime on this thread: \
             call it from inside a runtime \
             (#[smp_rt::main], Runtime::block_on or Runtime::enter)"
        ),
    }
}

pin_project! {
    /// A timer's registration with its runtime's [`Timers`]: a pinned node
    /// plus where it is armed. Dropping it cancels the timer.
    pub(crate) struct TimerEntry {
        // The timers of the runtime the timer was made in.
        timers: Arc<Timers>,
        // The shard the node is armed in (meaningful while `ARMED`).
        shard: u32,
        // The deadline was after the clock when it was set (`sleep`): the
        // first poll arms the timer without reading the clock again.
        ahead: bool,
        #[pin]
        node: Node,
    }

    impl PinnedDrop for TimerEntry {
        fn drop(this: Pin<&mut Self>) {
            this.cancel();
        }
    }
}

impl TimerEntry {
    /// A timer on `timers`, not armed yet. With `ahead`, the caller saw the
    /// deadline after the clock: the first poll arms the timer without
    /// reading the clock to check the deadline (if it has passed since, the
    /// timers fire it at their next turn; if they have passed it already,
    /// at once).
    pub(crate) fn new(timers: Arc<Timers>, ahead: bool) -> TimerEntry {
        TimerEntry {
            timers,
            shard: 0,
            ahead,
            node: Node::new(),
        }
    }

    /// `true` once the deadline has been seen to pass.
    pub(crate) fn is_fired(&self) -> bool {
        self.node.state.load(Acquire) == FIRED
    }

    /// Ready once `deadline` has passed; otherwise arms the timer (first
    /// call) or updates its waker, and returns `Pending`.
    pub(crate) fn poll_deadline(
        self: Pin<&mut Self>,
        deadline: std::time::Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let this = self.project();
        let node = this.node.into_ref();
        match node.state.load(Acquire) {
            FIRED => Poll::Ready(()),
            ARMED => {
                let timers = &*this.timers;
                timers.assert_running();
                // SAFETY: `ARMED` means the node was armed in `shard` of
                // these timers; only its owner (us) changes that.
                unsafe { timers.poll_armed(*this.shard, node.get_ref(), cx.waker()) }
            }
            _ => {
                let timers = &*this.timers;
                timers.assert_running();
                if !*this.ahead && deadline <= timers.now() {
                    node.state.store(FIRED, Relaxed);
                    return Poll::Ready(());
                }
                // SAFETY: `node` is pinned, and this entry's drop cancels it
                // (under the shard's mutex) before its memory is released.
                match unsafe { timers.arm(node, deadline, cx.waker().clone()) } {
                    Some(shard) => {
                        *this.shard = shard;
                        Poll::Pending
                    }
                    None => Poll::Ready(()),
                }
            }
        }
    }

    /// Moves the deadline to `deadline`.
    ///
    /// An armed timer is moved in the wheel at once and keeps its waker (if
    /// the new deadline has already been passed by the wheel, the waker is
    /// woken). A fired or unarmed timer is left unarmed: the next poll
    /// checks the new deadline.
    pub(crate) fn reset(self: Pin<&mut Self>, deadline: std::time::Instant) {
        let this = self.project();
        let node = this.node.into_ref();
        if node.state.load(Acquire) == ARMED {
            let timers = &*this.timers;
            // SAFETY: `ARMED` means the node was armed in `shard` of these
            // timers; it is pinned, and this entry's drop cancels it.
            unsafe { timers.rearm(*this.shard, node, deadline) };
        } else {
            node.state.store(UNREGISTERED, Relaxed);
            // The next poll checks the new deadline against the clock.
            *this.ahead = false;
        }
    }

    /// Unlinks the timer if it is armed.
    fn cancel(self: Pin<&mut Self>) {
        let this = self.project();
        let node = this.node.into_ref();
        if node.state.load(Acquire) == ARMED {
            let timers = &*this.timers;
            // SAFETY: `ARMED` means the node was armed in `shard` of these
            // timers.
            unsafe { timers.cancel(*this.shard, node.get_ref()) };
        }
    }
}

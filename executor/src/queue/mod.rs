//! The lock-free queues a worker owns.
//!
//! * [`ring`]: one per priority level per worker. The owner ([`Local`])
//!   pushes at the back and pops at the front without a full barrier; idle
//!   siblings ([`Steal`]) steal half of it at once.
//! * [`Inbox`]: one per worker, where work arriving from other threads lands
//!   (remote wakes and spawns). Any thread pushes; only the owner drains.
//! * [`lifo_slot`]: one per worker, the task that runs next; the owner
//!   ([`LifoSlot`]) fills and empties it, a sibling ([`LifoSteal`]) may take
//!   it to rescue a stuck worker's work.
//! * [`UrgentSlot`]: one per worker, a `Max` or `High` task pushed from
//!   another thread; any thread fills it if empty.

mod inbox;
mod ring;
mod slot;
#[cfg(test)]
pub(crate) mod test_node;

pub(crate) use inbox::{Inbox, Node};
pub(crate) use ring::{Local, Steal, ring};
pub(crate) use slot::{LifoSlot, LifoSteal, UrgentSlot, lifo_slot};

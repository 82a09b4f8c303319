//! The lock-free queues a worker owns.
//!
//! * [`Ring`]: one per priority level per worker. The owner pushes at the
//!   back and pops at the front without a full barrier; idle siblings steal
//!   half of it at once.
//! * [`Inbox`]: one per worker, where work arriving from other threads lands
//!   (remote wakes and spawns). Any thread pushes; only the owner drains.
//! * [`Slot`]: one per worker, the task that runs next; the owner fills and
//!   empties it, a sibling may take it to rescue a stuck worker's work.

mod inbox;
mod ring;
mod slot;
#[cfg(test)]
pub(crate) mod test_node;

pub(crate) use inbox::{Inbox, Node};
pub(crate) use ring::Ring;
pub(crate) use slot::Slot;

//! The lock-free queues a worker owns.
//!
//! * [`Ring`]: one per priority level per worker. The owner pushes at the
//!   back and pops at the front without a full barrier; idle siblings steal
//!   half of it at once.
//! * [`Inbox`]: one per worker, where work arriving from other threads lands
//!   (remote wakes and spawns). Any thread pushes; only the owner drains.

mod inbox;
mod ring;

pub(crate) use inbox::{Inbox, Node};
pub(crate) use ring::Ring;

//! The registry of live tasks: what lets a runtime drop every task.
//!
//! A task that waits on something holds no place in any queue; only the
//! wakers it handed out know it. To cancel such tasks when the runtime is
//! dropped, and to wake a task for `abort`, the registry keeps one waker per
//! live task, in shards picked by task id so spawns on different workers
//! rarely share a lock.
//!
//! A task enters at spawn and leaves when its future is dropped (it
//! completed or was cancelled), see `task::harness`. Once closed, the
//! registry refuses new tasks: a spawn on a runtime being dropped is
//! cancelled at once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Waker;

use crate::loom::CachePadded;
use crate::task::Id;
use crate::task::header::NO_SLOT;

/// Live tasks, sharded. See the module docs.
pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    closed: AtomicBool,
}

#[derive(Default)]
struct Shard {
    slots: Vec<Slot>,
    /// Head of the free list through `Slot::Vacant`, or `NO_SLOT`.
    free: u32,
    live: usize,
    spawned: u64,
}

enum Slot {
    Occupied { id: Id, waker: Waker },
    Vacant { next: u32 },
}

impl Registry {
    /// A registry with at least `min_shards` shards.
    pub(crate) fn new(min_shards: usize) -> Registry {
        let n = min_shards.max(1).next_power_of_two();
        Registry {
            shards: (0..n)
                .map(|_| {
                    CachePadded(Mutex::new(Shard {
                        free: NO_SLOT,
                        ..Shard::default()
                    }))
                })
                .collect(),
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, id: Id) -> std::sync::MutexGuard<'_, Shard> {
        let index = (id.as_u64() as usize) & (self.shards.len() - 1);
        // A panic never happens while a shard is locked (no user code runs
        // under it), so poisoning can be ignored.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Adds a live task; `None` once the registry is closed. `counted`
    /// tasks show in `live` and `spawned` (blocking tasks do not).
    pub(crate) fn insert(&self, id: Id, waker: Waker, counted: bool) -> Option<u32> {
        let mut shard = self.shard(id);
        // Checked under the shard lock: `close` sets the flag before it
        // locks each shard, so a task either sees the flag or is drained.
        if self.closed.load(Ordering::Acquire) {
            return None;
        }
        if counted {
            shard.live += 1;
            shard.spawned += 1;
        }
        let entry = Slot::Occupied { id, waker };
        if shard.free != NO_SLOT {
            let index = shard.free;
            let old = std::mem::replace(&mut shard.slots[index as usize], entry);
            let Slot::Vacant { next } = old else {
                unreachable!("the free list only links vacant slots")
            };
            shard.free = next;
            Some(index)
        } else {
            let index = u32::try_from(shard.slots.len())
                .ok()
                .filter(|&i| i != NO_SLOT)
                .expect("more than 4 billion live tasks in one registry shard");
            shard.slots.push(entry);
            Some(index)
        }
    }

    /// Removes task `id` from `slot` (`counted` as at `insert`). Its waker
    /// is dropped after the lock is released.
    pub(crate) fn remove(&self, id: Id, slot: u32, counted: bool) {
        let removed = {
            let mut shard = self.shard(id);
            let free = shard.free;
            match shard.slots.get_mut(slot as usize) {
                Some(entry @ Slot::Occupied { .. }) if entry.id() == Some(id) => {
                    let old = std::mem::replace(entry, Slot::Vacant { next: free });
                    shard.free = slot;
                    shard.live -= usize::from(counted);
                    Some(old)
                }
                // Already drained by `close`.
                _ => None,
            }
        };
        drop(removed);
    }

    /// A clone of task `id`'s waker, if it is still live.
    pub(crate) fn waker(&self, id: Id, slot: u32) -> Option<Waker> {
        let shard = self.shard(id);
        match shard.slots.get(slot as usize) {
            Some(Slot::Occupied { id: found, waker }) if *found == id => Some(waker.clone()),
            _ => None,
        }
    }

    /// Closes the registry and takes every live task's waker.
    pub(crate) fn close(&self) -> Vec<Waker> {
        self.closed.store(true, Ordering::Release);
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            shard.free = NO_SLOT;
            shard.live = 0;
            wakers.extend(shard.slots.drain(..).filter_map(|slot| match slot {
                Slot::Occupied { waker, .. } => Some(waker),
                Slot::Vacant { .. } => None,
            }));
        }
        wakers
    }

    /// `true` once [`close`](Self::close) has started.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Tasks alive now.
    pub(crate) fn live(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).live)
            .sum()
    }

    /// Tasks spawned since the runtime started.
    pub(crate) fn spawned(&self) -> u64 {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).spawned)
            .sum()
    }
}

impl Slot {
    fn id(&self) -> Option<Id> {
        match self {
            Slot::Occupied { id, .. } => Some(*id),
            Slot::Vacant { .. } => None,
        }
    }
}

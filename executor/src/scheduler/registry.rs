//! The registry of live tasks: what lets a runtime drop every task.
//!
//! A task that waits on something holds no place in any queue; only the
//! wakers it handed out know it. To cancel such tasks when the runtime is
//! dropped, and to wake a task for `abort`, the registry keeps one waker per
//! live task, in shards: one per worker, which holds the tasks spawned on
//! that worker (its lock and entries stay in that core's cache; a task
//! usually ends where it was spawned), and a few for spawns from outside
//! the workers, picked by task id.
//!
//! A task enters at spawn and leaves when its future is dropped (it
//! completed or was cancelled), see `task::harness`. Once closed, the
//! registry refuses new tasks: a spawn on a runtime being dropped is
//! cancelled at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::Waker;

use crate::loom::CachePadded;
use crate::task::Id;
use crate::task::header::{Header, NO_SLOT};

/// Live tasks, sharded. See the module docs.
pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    closed: AtomicBool,
}

/// One shard: a slab of wakers and the names of its named tasks.
///
/// An entry is only a waker (16 bytes, the slot's tag hides in the waker's
/// vtable pointer): every parked task pays for one. Which task owns a slot
/// is not stored; the task's header holds its slot, and a task leaves
/// exactly once (when its future is dropped) after setting its `FINISHED`
/// flag, so a slot whose task is not finished is that task's.
#[derive(Default)]
struct Shard {
    slots: Slots,
    /// Head of the free list through `Slot::Vacant`, or `NO_SLOT`.
    free: u32,
    live: usize,
    spawned: u64,
    /// Names given with `task::Builder::name`, by task: rare, so kept out
    /// of every task's header.
    names: HashMap<Id, Box<str>>,
}

enum Slot {
    Occupied(Waker),
    Vacant { next: u32 },
}

/// Entries in pages of [`PAGE`] that never move: a growing shard neither
/// copies its entries under the lock nor leaves the old copies behind in
/// the allocator (a doubling `Vec` of a million entries did both).
#[derive(Default)]
struct Slots {
    pages: Vec<Vec<Slot>>,
    len: u32,
}

/// Shards for tasks spawned outside the workers.
const OUTSIDE_SHARDS: usize = 4;

/// Entries per page (8 KiB).
const PAGE: usize = 512;

impl Slots {
    fn get(&self, index: u32) -> Option<&Slot> {
        let index = index as usize;
        self.pages.get(index / PAGE)?.get(index % PAGE)
    }

    fn get_mut(&mut self, index: u32) -> Option<&mut Slot> {
        let index = index as usize;
        self.pages.get_mut(index / PAGE)?.get_mut(index % PAGE)
    }

    /// Appends `slot` and returns its index.
    fn push(&mut self, slot: Slot) -> u32 {
        let index = self.len;
        assert!(
            index != NO_SLOT,
            "more than 4 billion live tasks in one registry shard"
        );
        if index as usize % PAGE == 0 {
            self.pages.push(Vec::with_capacity(PAGE));
        }
        let page = self.pages.last_mut().expect("a page was just added");
        page.push(slot);
        self.len += 1;
        index
    }

    /// Takes every slot out.
    fn drain(&mut self) -> impl Iterator<Item = Slot> {
        self.len = 0;
        std::mem::take(&mut self.pages).into_iter().flatten()
    }
}

impl Registry {
    /// A registry for a runtime of `workers` workers.
    pub(crate) fn new(workers: usize) -> Registry {
        let n = workers + OUTSIDE_SHARDS;
        assert!(
            n <= usize::from(u16::MAX),
            "a registry shard index fits the task header's u16"
        );
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

    fn shard(&self, index: usize) -> std::sync::MutexGuard<'_, Shard> {
        // A panic never happens while a shard is locked (no user code runs
        // under it), so poisoning can be ignored.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Adds the live task of `header` (before it is first scheduled), with
    /// its `name` if it has one, to the shard of the spawning `worker` (or
    /// an outside shard), and records its entry in the header; `false` once
    /// the registry is closed. Blocking tasks do not count in `live` and
    /// `spawned`.
    pub(crate) fn insert(
        &self,
        header: &Header,
        waker: Waker,
        name: Option<Box<str>>,
        worker: Option<usize>,
    ) -> bool {
        let workers = self.shards.len() - OUTSIDE_SHARDS;
        let index = match worker {
            Some(worker) if worker < workers => worker,
            _ => workers + (header.id.as_u64() as usize) % OUTSIDE_SHARDS,
        };
        let mut shard = self.shard(index);
        // Checked under the shard lock: `close` sets the flag before it
        // locks each shard, so a task either sees the flag or is drained.
        if self.closed.load(Ordering::Acquire) {
            return false;
        }
        if !header.is_blocking() {
            shard.live += 1;
            shard.spawned += 1;
        }
        if let Some(name) = name {
            shard.names.insert(header.id, name);
        }
        let entry = Slot::Occupied(waker);
        let slot = if shard.free != NO_SLOT {
            let free = shard.free;
            let vacant = shard
                .slots
                .get_mut(free)
                .expect("the free list links slots that exist");
            let Slot::Vacant { next } = std::mem::replace(vacant, entry) else {
                unreachable!("the free list only links vacant slots")
            };
            shard.free = next;
            free
        } else {
            shard.slots.push(entry)
        };
        // `index` fits: checked in `new`.
        header.set_registry_entry(index as u16, slot);
        true
    }

    /// Removes the task of `header`, whose future was dropped (its
    /// `FINISHED` flag is set). Its waker is dropped after the lock is
    /// released.
    pub(crate) fn remove(&self, header: &Header) {
        let slot = header.registry_slot();
        if slot == NO_SLOT {
            return;
        }
        let (removed, name) = {
            let mut shard = self.shard(header.registry_shard());
            let name = if header.is_named() {
                shard.names.remove(&header.id)
            } else {
                None
            };
            let free = shard.free;
            // After `close` the slots are gone (and none is handed out
            // again); before it, `slot` is this task's (see `Shard`).
            let removed = match shard.slots.get_mut(slot) {
                Some(entry @ Slot::Occupied(_)) => {
                    let old = std::mem::replace(entry, Slot::Vacant { next: free });
                    shard.free = slot;
                    shard.live -= usize::from(!header.is_blocking());
                    Some(old)
                }
                _ => None,
            };
            (removed, name)
        };
        drop((removed, name));
    }

    /// A clone of the waker of `header`'s task, if the task is still live.
    pub(crate) fn waker(&self, header: &Header) -> Option<Waker> {
        let shard = self.shard(header.registry_shard());
        // Under the lock: a task sets `FINISHED` before it frees its slot,
        // and the slot is reused only after that, so an unfinished task's
        // slot is its own.
        if header.is_finished() {
            return None;
        }
        match shard.slots.get(header.registry_slot()) {
            Some(Slot::Occupied(waker)) => Some(waker.clone()),
            _ => None,
        }
    }

    /// A copy of the name of `header`'s task, if it has one and is live.
    pub(crate) fn name(&self, header: &Header) -> Option<String> {
        let shard = self.shard(header.registry_shard());
        shard
            .names
            .get(&header.id)
            .map(|name| String::from(&**name))
    }

    /// Closes the registry and takes every live task's waker.
    pub(crate) fn close(&self) -> Vec<Waker> {
        self.closed.store(true, Ordering::Release);
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            shard.free = NO_SLOT;
            shard.live = 0;
            shard.names.clear();
            wakers.extend(shard.slots.drain().filter_map(|slot| match slot {
                Slot::Occupied(waker) => Some(waker),
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

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    #[test]
    fn an_entry_is_one_waker() {
        // Every parked task pays for one entry.
        assert_eq!(std::mem::size_of::<super::Slot>(), 16);
    }
}

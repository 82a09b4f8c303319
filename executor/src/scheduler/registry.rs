//! The registry of live tasks: what lets a runtime drop every task, and
//! where a task's id comes from.
//!
//! A task that waits on something holds no place in any queue; only the
//! wakers it handed out know it. To cancel such tasks when the runtime is
//! dropped, and to wake a task for `abort`, the registry keeps one waker per
//! live task, in shards: one per worker (up to [`MAX_WORKER_SHARDS`]), which
//! holds the tasks spawned on that worker (its lock and entries stay in
//! that core's cache; a task usually ends where it was spawned), and a few
//! for spawns from outside the workers, one per spawning thread.
//!
//! # A task's slot
//!
//! A slot goes through three states:
//!
//! * **occupied** from the spawn until the task's future is dropped (it
//!   completed, was aborted or panicked: `Registry::remove`), holding the
//!   task's waker, which keeps the task's allocation alive;
//! * **retired** from then until the task's allocation is freed (the last
//!   `JoinHandle`, `AbortHandle` or waker is gone: `Registry::release`,
//!   from the header's destructor);
//! * **vacant** after that, on the shard's free list.
//!
//! A task's [`Id`] is its runtime's number, its shard and its slot, so a
//! slot is reused only once the task has exited *and* no handle to it is
//! left: the rule tokio gives for its ids. Nothing in the task's header
//! stores the id.
//!
//! # An entry
//!
//! Every parked task pays for one, so an entry is 10 bytes, not a 16-byte
//! `Waker`: the waker's data pointer, in a word that also encodes the
//! slot's state, and, beside it, the index of the waker's vtable in the
//! shard's table of vtables (one per type of spawned future, a few dozen
//! in a program). The waker is rebuilt from the two when it is needed.
//!
//! # Locking
//!
//! No task reference is dropped while a shard is locked: the header's
//! destructor, which runs when a task's last reference goes, locks its
//! shard to release the slot. A waker taken out of an entry is dropped
//! after the lock is released, and nothing else under a lock drops one.
//!
//! Once closed, the registry refuses new tasks: a spawn on a runtime being
//! dropped is cancelled at once.

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::num::NonZeroU64;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::task::{RawWakerVTable, Waker};

use crate::loom::CachePadded;
use crate::task::Id;
use crate::task::header::{Header, NO_SLOT};

/// Live tasks, sharded. See the module docs.
pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// Shards for tasks spawned on workers; the rest are outside shards.
    worker_shards: usize,
    /// This runtime's number: the top bits of its tasks' ids.
    number: u64,
    closed: AtomicBool,
}

/// Shards for tasks spawned on workers, at most: a shard index fits the
/// task header's `u8` (workers beyond share shards, by index).
pub(crate) const MAX_WORKER_SHARDS: usize = 252;

/// Shards for tasks spawned outside the workers.
const OUTSIDE_SHARDS: usize = 4;

/// Entries per page (5 KiB).
const PAGE: usize = 512;

/// An id's bits: runtime number (24), shard (8), slot (32).
const SLOT_BITS: u32 = 32;
const SHARD_BITS: u32 = 8;
const NUMBER_LIMIT: u64 = 1 << (64 - SLOT_BITS - SHARD_BITS);

/// A slot whose task exited while something still refers to it.
const RETIRED: usize = 0;

/// A vacant slot: the next free slot (or `NO_SLOT`) shifted left, with the
/// low bit set. An occupied slot holds the waker's data pointer, which
/// async-task aligns to at least 8 bytes: never 0, low bit clear.
const fn vacant(next: u32) -> usize {
    ((next as usize) << 1) | 1
}

/// One shard: its slots, its vtables, the names of its named tasks.
struct Shard {
    pages: Vec<Box<Page>>,
    len: u32,
    /// Head of the free list through vacant slots, or `NO_SLOT`.
    free: u32,
    /// The vtables of the wakers in this shard's slots.
    vtables: Vec<&'static RawWakerVTable>,
    /// Index in `vtables` by address, for vtables not the last one used.
    vtable_index: HashMap<usize, u16>,
    /// The index of the last insert's vtable (spawn loops spawn one type of
    /// future over and over).
    last_vtable: Option<u16>,
    live: usize,
    spawned: u64,
    /// Names given with `task::Builder::name`, by slot: rare, so kept out
    /// of every task's header.
    names: HashMap<u32, Box<str>>,
}

/// Slots in a page that never moves: a growing shard neither copies its
/// entries under the lock nor leaves old copies behind in the allocator.
struct Page {
    /// Per slot: the waker's data pointer, `RETIRED`, or `vacant(next)`.
    words: [usize; PAGE],
    /// Per occupied slot: the index of its waker's vtable in `vtables`.
    vtables: [u16; PAGE],
}

impl Shard {
    fn new() -> Shard {
        Shard {
            pages: Vec::new(),
            len: 0,
            free: NO_SLOT,
            vtables: Vec::new(),
            vtable_index: HashMap::new(),
            last_vtable: None,
            live: 0,
            spawned: 0,
            names: HashMap::new(),
        }
    }

    fn word(&mut self, slot: u32) -> Option<&mut usize> {
        let slot = slot as usize;
        Some(&mut self.pages.get_mut(slot / PAGE)?.words[slot % PAGE])
    }

    /// The index of `vtable` in this shard's table, added if new.
    fn vtable_index(&mut self, vtable: &'static RawWakerVTable) -> u16 {
        if let Some(last) = self.last_vtable
            && std::ptr::eq(self.vtables[usize::from(last)], vtable)
        {
            return last;
        }
        let vtables = &mut self.vtables;
        let index = *self
            .vtable_index
            .entry(vtable as *const RawWakerVTable as usize)
            .or_insert_with(|| {
                let index = u16::try_from(vtables.len())
                    .expect("more than 65,536 types of spawned futures in one registry shard");
                vtables.push(vtable);
                index
            });
        self.last_vtable = Some(index);
        index
    }

    /// Stores `waker` in a free slot and returns the slot.
    fn occupy(&mut self, waker: Waker) -> u32 {
        let vtable = self.vtable_index(waker.vtable());
        // The entry owns the waker's reference from now on.
        let data = ManuallyDrop::new(waker).data() as usize;
        debug_assert!(
            data != RETIRED && data & 1 == 0,
            "a task pointer is aligned"
        );
        let slot = if self.free != NO_SLOT {
            let slot = self.free;
            let word = *self
                .word(slot)
                .expect("the free list links slots that exist");
            debug_assert!(word & 1 == 1, "the free list links vacant slots");
            self.free = (word >> 1) as u32;
            slot
        } else {
            let slot = self.len;
            assert!(
                slot != NO_SLOT,
                "more than 4 billion live tasks in one registry shard"
            );
            if slot as usize % PAGE == 0 {
                self.pages.push(Box::new(Page {
                    words: [RETIRED; PAGE],
                    vtables: [0; PAGE],
                }));
            }
            self.len += 1;
            slot
        };
        let (page, index) = (slot as usize / PAGE, slot as usize % PAGE);
        let page = &mut self.pages[page];
        page.words[index] = data;
        page.vtables[index] = vtable;
        slot
    }

    /// The waker in `slot`, still owned by the entry, if it is occupied.
    fn borrow_waker(&self, slot: u32) -> Option<ManuallyDrop<Waker>> {
        let index = slot as usize;
        let page = self.pages.get(index / PAGE)?;
        let word = page.words[index % PAGE];
        if word == RETIRED || word & 1 == 1 {
            return None;
        }
        let vtable = self.vtables[usize::from(page.vtables[index % PAGE])];
        // SAFETY: an occupied word is the data pointer of a waker whose
        // vtable is this one (`occupy`), and the entry owns its reference;
        // the `ManuallyDrop` leaves that ownership with the entry.
        Some(ManuallyDrop::new(unsafe {
            Waker::new(word as *const (), vtable)
        }))
    }
}

/// Runtime numbers, for task ids.
static NEXT_NUMBER: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// The outside shard of the calling thread (`u8::MAX`: not picked yet).
    static OUTSIDE_SHARD: std::cell::Cell<u8> = const { std::cell::Cell::new(u8::MAX) };
}

/// The outside shard of the calling thread: threads are dealt out round
/// robin, once each.
fn outside_shard() -> usize {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    OUTSIDE_SHARD
        .try_with(|shard| {
            if shard.get() == u8::MAX {
                // Relaxed: any spread will do.
                let next = NEXT.fetch_add(1, Ordering::Relaxed) as usize % OUTSIDE_SHARDS;
                shard.set(next as u8);
            }
            usize::from(shard.get())
        })
        .unwrap_or(0)
}

impl Registry {
    /// A registry for a runtime of `workers` workers.
    pub(crate) fn new(workers: usize) -> Registry {
        let worker_shards = workers.clamp(1, MAX_WORKER_SHARDS);
        // Relaxed: only distinctness matters. Numbers start at 1, so no id
        // is 0, and wrap after 16 million runtimes.
        let number =
            u64::from(NEXT_NUMBER.fetch_add(1, Ordering::Relaxed)) % (NUMBER_LIMIT - 1) + 1;
        Registry {
            shards: (0..worker_shards + OUTSIDE_SHARDS)
                .map(|_| CachePadded(Mutex::new(Shard::new())))
                .collect(),
            worker_shards,
            number,
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

    /// The id of the task in `slot` of `shard`. See the module docs.
    pub(crate) fn id(&self, shard: usize, slot: u32) -> Id {
        let id =
            self.number << (SLOT_BITS + SHARD_BITS) | (shard as u64) << SLOT_BITS | u64::from(slot);
        Id(NonZeroU64::new(id).expect("runtime numbers start at 1"))
    }

    /// Adds the live task of `header` (before it is first scheduled), with
    /// its `name` if it has one, to the shard of the spawning `worker` (or
    /// the calling thread's outside shard), and records its slot in the
    /// header; `false` once the registry is closed. Blocking tasks do not
    /// count in `live` and `spawned`.
    pub(crate) fn insert(
        &self,
        header: &Header,
        waker: Waker,
        name: Option<Box<str>>,
        worker: Option<usize>,
    ) -> bool {
        let index = match worker {
            Some(worker) => worker % self.worker_shards,
            None => self.worker_shards + outside_shard(),
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
        let slot = shard.occupy(waker);
        if let Some(name) = name {
            shard.names.insert(slot, name);
        }
        // `index` fits: at most MAX_WORKER_SHARDS + OUTSIDE_SHARDS.
        header.set_registry_entry(index as u8, slot);
        true
    }

    /// Retires the slot of `header`'s task, whose future was dropped (its
    /// `FINISHED` flag is set): its waker is dropped, after the lock is
    /// released; the slot stays reserved until [`release`](Self::release).
    pub(crate) fn remove(&self, header: &Header) {
        let slot = header.registry_slot();
        if slot == NO_SLOT {
            return;
        }
        let (waker, name) = {
            let mut shard = self.shard(header.registry_shard());
            let name = if header.is_named() {
                shard.names.remove(&slot)
            } else {
                None
            };
            // After `close` the slots are gone (and none is handed out
            // again).
            let waker = shard.borrow_waker(slot).map(ManuallyDrop::into_inner);
            if waker.is_some() {
                *shard.word(slot).expect("an occupied slot exists") = RETIRED;
                shard.live -= usize::from(!header.is_blocking());
            }
            (waker, name)
        };
        drop((waker, name));
    }

    /// Frees the slot of `header`'s task, whose allocation is being freed:
    /// nothing refers to the task any more, so its id may be reused.
    pub(crate) fn release(&self, header: &Header) {
        let slot = header.registry_slot();
        if slot == NO_SLOT {
            return;
        }
        let mut shard = self.shard(header.registry_shard());
        let free = shard.free;
        // After `close` the slots are gone. Before it, the slot is retired:
        // while occupied, the entry's waker keeps the allocation alive.
        if let Some(word) = shard.word(slot) {
            debug_assert_eq!(*word, RETIRED, "a freed task's slot is retired");
            *word = vacant(free);
            shard.free = slot;
        }
    }

    /// A clone of the waker of `header`'s task, if the task is still live.
    pub(crate) fn waker(&self, header: &Header) -> Option<Waker> {
        let shard = self.shard(header.registry_shard());
        // Under the lock: a task sets `FINISHED` before it retires its
        // slot, and the slot is reused only after the task is freed.
        if header.is_finished() {
            return None;
        }
        shard
            .borrow_waker(header.registry_slot())
            .map(|waker| (*waker).clone())
    }

    /// A copy of the name of `header`'s task, if it has one and is live.
    pub(crate) fn name(&self, header: &Header) -> Option<String> {
        let shard = self.shard(header.registry_shard());
        shard
            .names
            .get(&header.registry_slot())
            .map(|name| String::from(&**name))
    }

    /// The id and name of every live named task, by id.
    pub(crate) fn names(&self) -> Vec<(Id, String)> {
        let mut names = Vec::new();
        for (index, shard) in self.shards.iter().enumerate() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            names.extend(
                shard
                    .names
                    .iter()
                    .map(|(&slot, name)| (self.id(index, slot), String::from(&**name))),
            );
        }
        names.sort_unstable_by_key(|&(id, _)| id);
        names
    }

    /// Closes the registry and takes every live task's waker.
    pub(crate) fn close(&self) -> Vec<Waker> {
        self.closed.store(true, Ordering::Release);
        let mut wakers = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            for slot in 0..shard.len {
                if let Some(waker) = shard.borrow_waker(slot) {
                    wakers.push(ManuallyDrop::into_inner(waker));
                }
            }
            shard.pages = Vec::new();
            shard.len = 0;
            shard.free = NO_SLOT;
            shard.live = 0;
            shard.names.clear();
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
    use super::*;

    use std::sync::Arc;
    use std::thread;

    use crate::runtime::{Builder, Runtime};
    use crate::task::JoinHandle;

    #[test]
    fn an_entry_is_ten_bytes() {
        // Every parked task pays for one: a word and a vtable index.
        assert_eq!(std::mem::size_of::<Page>(), PAGE * 10);
    }

    #[test]
    fn ids_hold_the_runtime_number_the_shard_and_the_slot() {
        let a = Registry::new(2);
        let b = Registry::new(2);
        assert_ne!(a.id(0, 0), b.id(0, 0), "two runtimes, two ids");
        assert_ne!(a.id(0, 1), a.id(1, 0));
        assert_ne!(a.id(0, 7), a.id(0, 8));
        assert_eq!(a.id(3, 9), a.id(3, 9));
    }

    #[test]
    fn a_shard_index_fits_the_header() {
        let registry = Registry::new(10_000);
        assert_eq!(registry.worker_shards, MAX_WORKER_SHARDS);
        assert!(registry.shards.len() <= usize::from(u8::MAX) + 1);
    }

    fn two_workers() -> Runtime {
        Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .expect("a two-worker runtime")
    }

    #[test]
    fn tasks_spawned_from_outside_leave_the_live_count_when_awaited() {
        // Their slots are in outside shards, retired on the workers: the
        // count must not see them once their handles complete.
        let rt = two_workers();
        for round in 1..=60 {
            let handles: Vec<_> = (0..round).map(|_| rt.spawn(async {})).collect();
            await_all(&rt, handles);
            assert_eq!(rt.metrics().num_alive_tasks(), 0, "round {round}");
        }
        assert_eq!(rt.metrics().spawned_tasks_count(), (1..=60).sum::<u64>());
    }

    /// Awaits every handle, from `block_on`.
    fn await_all(rt: &Runtime, handles: Vec<JoinHandle<()>>) {
        rt.block_on(async {
            for handle in handles {
                handle.await.expect("an empty task completes");
            }
        });
    }

    fn current_thread() -> Runtime {
        Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    }

    /// Spawns `n` empty tasks on `rt` from a thread of their own (outside
    /// the runtime), and returns their handles.
    fn spawn_from_outside(rt: &Runtime, n: u32) -> Vec<JoinHandle<()>> {
        let handle = rt.handle().clone();
        thread::spawn(move || (0..n).map(|_| handle.spawn(async {})).collect())
            .join()
            .expect("the spawning thread")
    }

    #[test]
    fn tasks_spawned_from_outside_are_freed_once_they_exit() {
        // Every task allocation holds the runtime's shared state: once the
        // tasks exited and their handles are gone, its count is back where
        // it was. A current-thread runtime has no threads of its own
        // holding it, and its only worker runs here, in `block_on`.
        let rt = current_thread();
        let shared = Arc::clone(&rt.handle().shared);
        let before = Arc::strong_count(&shared);
        let handles = spawn_from_outside(&rt, 16);
        await_all(&rt, handles);
        assert_eq!(Arc::strong_count(&shared), before, "exited tasks were kept");
    }

    #[test]
    fn dropping_the_runtime_frees_tasks_that_exited() {
        // Tasks spawned from outside that exited keep nothing of the runtime
        // once it is dropped (a current-thread runtime: no thread of its own
        // outlives the drop).
        let rt = current_thread();
        let shared = Arc::downgrade(&rt.handle().shared);
        let handles = spawn_from_outside(&rt, 16);
        await_all(&rt, handles);
        drop(rt);
        assert_eq!(shared.strong_count(), 0, "the runtime's state was kept");
    }
}

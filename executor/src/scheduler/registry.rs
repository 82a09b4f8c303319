//! The registry of waiting tasks: what lets a runtime drop every task
//! when it is dropped.
//!
//! A task that waits on something holds no place in any queue; only the
//! wakers it handed out know it. To cancel such tasks when the runtime is
//! dropped, the registry keeps one waker per waiting task, in shards: one
//! per worker (up to [`MAX_WORKER_SHARDS`]), which holds the tasks that
//! first waited on that worker (its lock and entries stay in that core's
//! cache; a task usually ends where it ran), and one for tasks that enter
//! from outside the workers (named tasks spawned there: a task's first
//! wait is on a worker).
//!
//! # Who is in it
//!
//! A task enters the first time a poll of it returns `Pending`
//! (`Harness::poll`), or at its spawn if it has a name (the registry keeps
//! the rare name, out of every task's header), and leaves when its future
//! is dropped (`Registry::remove`). Until its first `Pending` a task is
//! always queued or being polled, so a runtime shutting down finds it
//! without the registry: it drops every queue, and a poll that returns
//! `Pending` during the shutdown finds the registry closed and wakes its
//! task, which the scheduler then drops. So a task that completes in its
//! first poll, most spawned tasks, never locks a shard: spawning and
//! ending it cost no lock at all.
//!
//! Nothing else needs the registry: a task's [`Id`] is its header's
//! address, and `JoinHandle` and `AbortHandle` hold a waker of their own
//! to wake a task they abort.
//!
//! # An entry
//!
//! Every parked task pays for one, so an entry is 10 bytes, not a 16-byte
//! `Waker`: the waker's data pointer, in a word that also tells a vacant
//! slot from an occupied one, and, beside it, the index of the waker's
//! vtable in the shard's table of vtables (one per type of spawned future,
//! a few dozen in a program). The waker is rebuilt from the two when it is
//! needed. A slot is vacant again as soon as its task leaves.
//!
//! # Locking
//!
//! No task reference is dropped while a shard is locked: dropping one may
//! free the task and, with it, the last reference to the runtime's state,
//! this registry included. A waker taken out of an entry, or refused by a
//! closed registry, is dropped after the lock is released.
//!
//! Once closed, the registry refuses new entries.

use std::collections::HashMap;
use std::mem::ManuallyDrop;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{RawWakerVTable, Waker};

use crate::loom::CachePadded;
use crate::task::Id;
use crate::task::header::{Header, NO_SLOT};

/// Waiting tasks, sharded. See the module docs.
pub(crate) struct Registry {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    /// Shards for tasks registered on workers; the last one is the outside
    /// shard.
    worker_shards: usize,
    closed: AtomicBool,
}

/// Shards for tasks registered on workers, at most: a shard index fits the
/// task header's `u8` (workers beyond share shards, by index).
pub(crate) const MAX_WORKER_SHARDS: usize = 252;

/// Entries per page (5 KiB).
const PAGE: usize = 512;

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
    /// Ids and names given with `task::Builder::name`, by slot: rare, so
    /// kept out of every task's header.
    names: HashMap<u32, (Id, Box<str>)>,
}

/// Slots in a page that never moves: a growing shard neither copies its
/// entries under the lock nor leaves old copies behind in the allocator.
struct Page {
    /// Per slot: the waker's data pointer, or `vacant(next)`.
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
        debug_assert!(data != 0 && data & 1 == 0, "a task pointer is aligned");
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
                "more than 4 billion waiting tasks in one registry shard"
            );
            if slot as usize % PAGE == 0 {
                self.pages.push(Box::new(Page {
                    words: [vacant(NO_SLOT); PAGE],
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

    /// Takes the waker out of `slot`, which becomes vacant; `None` if the
    /// slot is not occupied (the shard was emptied by `close`).
    fn vacate(&mut self, slot: u32) -> Option<Waker> {
        let waker = self.borrow_waker(slot).map(ManuallyDrop::into_inner)?;
        let free = self.free;
        *self.word(slot).expect("an occupied slot exists") = vacant(free);
        self.free = slot;
        Some(waker)
    }

    /// The waker in `slot`, still owned by the entry, if it is occupied.
    fn borrow_waker(&self, slot: u32) -> Option<ManuallyDrop<Waker>> {
        let index = slot as usize;
        let page = self.pages.get(index / PAGE)?;
        let word = page.words[index % PAGE];
        if word & 1 == 1 {
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

impl Registry {
    /// A registry for a runtime of `workers` workers.
    pub(crate) fn new(workers: usize) -> Registry {
        let worker_shards = workers.clamp(1, MAX_WORKER_SHARDS);
        Registry {
            shards: (0..=worker_shards)
                .map(|_| CachePadded(Mutex::new(Shard::new())))
                .collect(),
            worker_shards,
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

    /// Adds the task of `header`, not in the registry yet, with `waker`
    /// (one of its own) and its `name` if it has one, to the shard of
    /// `worker` (or the outside shard), and records its slot in the header.
    /// Called by the task's spawn (for a named task, before the task is
    /// shared) or by its own poll (`Harness::poll`), so no other thread
    /// writes the header's entry meanwhile. `false`, with `waker` dropped,
    /// once the registry is closed.
    pub(crate) fn insert(
        &self,
        header: &Header,
        waker: Waker,
        name: Option<Box<str>>,
        worker: Option<usize>,
    ) -> bool {
        debug_assert_eq!(header.registry_slot(), NO_SLOT, "a task registers once");
        let index = match worker {
            Some(worker) => worker % self.worker_shards,
            None => self.worker_shards,
        };
        let mut shard = self.shard(index);
        // Checked under the shard lock: `close` sets the flag before it
        // locks each shard, so a task either sees the flag or is drained.
        if self.closed.load(Ordering::Acquire) {
            drop(shard);
            drop((waker, name));
            return false;
        }
        let slot = shard.occupy(waker);
        if let Some(name) = name {
            shard.names.insert(slot, (header.id(), name));
        }
        // `index` fits: at most MAX_WORKER_SHARDS.
        header.set_registry_entry(index as u8, slot);
        true
    }

    /// Takes `header`'s task out of the registry, if it is in it: its
    /// future was dropped (its `FINISHED` flag is set). Its waker is
    /// dropped after the lock is released. Called by the task's last poll
    /// only, so no other thread writes the header's entry meanwhile.
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
            header.clear_registry_entry();
            // After `close` the slots are gone (and none is handed out
            // again).
            (shard.vacate(slot), name)
        };
        drop((waker, name));
    }

    /// A copy of the name of `header`'s task, if it has one and is live.
    pub(crate) fn name(&self, header: &Header) -> Option<String> {
        let shard = self.shard(header.registry_shard());
        // Under the lock: `remove` clears the slot under it, so a slot
        // read here is this task's.
        shard
            .names
            .get(&header.registry_slot())
            .map(|(_, name)| String::from(&**name))
    }

    /// The name of the live task `id`, if it has one. Cold: looks through
    /// every shard (the watchdog naming a task in a long poll).
    pub(crate) fn name_of(&self, id: Id) -> Option<String> {
        self.shards.iter().find_map(|shard| {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            shard
                .names
                .values()
                .find(|(named, _)| *named == id)
                .map(|(_, name)| String::from(&**name))
        })
    }

    /// The id and name of every live named task, by id.
    pub(crate) fn names(&self) -> Vec<(Id, String)> {
        let mut names = Vec::new();
        for shard in self.shards.iter() {
            let shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            names.extend(
                shard
                    .names
                    .values()
                    .map(|(id, name)| (*id, String::from(&**name))),
            );
        }
        names.sort_unstable_by_key(|&(id, _)| id);
        names
    }

    /// Closes the registry and takes every registered task's waker.
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
            shard.names.clear();
        }
        wakers
    }

    /// `true` once [`close`](Self::close) has started.
    #[inline]
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Tasks in the registry now (for tests).
    #[cfg(test)]
    fn registered(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let shard = s.lock().unwrap_or_else(|p| p.into_inner());
                (0..shard.len)
                    .filter(|&slot| shard.borrow_waker(slot).is_some())
                    .count()
            })
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
        // They are counted on the outside line and their exits on the
        // workers': the count must not see them once their handles
        // complete.
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

    #[test]
    fn a_task_enters_the_registry_when_it_first_waits_and_leaves_when_it_ends() {
        let rt = current_thread();
        let shared = Arc::clone(&rt.handle().shared);
        let (tx, rx) = futures::channel::oneshot::channel::<()>();
        let seen = Arc::clone(&shared);
        let waiter = rt.spawn(async move {
            // Running its first poll: queued tasks and running ones are
            // found by the shutdown without the registry.
            let before = seen.registry.registered();
            rx.await.expect("the sender is kept until the end");
            before
        });
        let (before_wait, while_waiting) = rt.block_on(async {
            crate::task::yield_now().await;
            // The waiter ran and waits on `rx`, known only to its waker.
            let while_waiting = shared.registry.registered();
            tx.send(()).expect("the waiter waits");
            (waiter.await.expect("the waiter completes"), while_waiting)
        });
        assert_eq!((before_wait, while_waiting), (0, 1));
        assert_eq!(shared.registry.registered(), 0, "an ended task leaves");
    }

    #[test]
    fn a_task_that_completes_in_its_first_poll_never_enters_the_registry() {
        let rt = two_workers();
        let shared = Arc::clone(&rt.handle().shared);
        let handles: Vec<_> = (0..64)
            .map(|_| {
                let shared = Arc::clone(&shared);
                rt.spawn(async move {
                    assert_eq!(shared.registry.registered(), 0);
                })
            })
            .collect();
        await_all(&rt, handles);
    }

    #[test]
    fn a_named_task_is_registered_from_its_spawn() {
        let rt = current_thread();
        let shared = Arc::clone(&rt.handle().shared);
        let handle = crate::task::Builder::new()
            .name("queued")
            .spawn_on(async {}, rt.handle());
        // Not polled yet (nothing runs the runtime's worker): listed already.
        assert_eq!(shared.registry.registered(), 1);
        assert_eq!(
            rt.metrics().named_tasks(),
            [(handle.id(), "queued".to_string())]
        );
        rt.block_on(handle).expect("the named task completes");
        assert_eq!(shared.registry.registered(), 0);
        assert_eq!(rt.metrics().named_tasks(), []);
    }

    #[test]
    fn a_slot_is_reused_as_soon_as_its_task_ends() {
        // No slot is held for a handle that outlives its task: a thousand
        // waiting tasks in turn, their handles all kept, fit in one page.
        let rt = current_thread();
        let shared = Arc::clone(&rt.handle().shared);
        let mut handles = Vec::new();
        rt.block_on(async {
            for _ in 0..1000 {
                let (tx, rx) = futures::channel::oneshot::channel::<()>();
                let handle = crate::spawn(async move { rx.await.ok() });
                crate::task::yield_now().await;
                tx.send(()).expect("the task waits");
                handles.push(handle);
                crate::task::yield_now().await;
            }
        });
        assert_eq!(shared.registry.registered(), 0);
        let slots: u32 = shared
            .registry
            .shards
            .iter()
            .map(|s| s.lock().unwrap().len)
            .sum();
        assert_eq!(slots, 1, "one slot, reused by each task in turn");
        await_all_options(&rt, handles);
    }

    fn await_all_options(rt: &Runtime, handles: Vec<JoinHandle<Option<()>>>) {
        rt.block_on(async {
            for handle in handles {
                assert_eq!(handle.await.expect("the task completes"), Some(()));
            }
        });
    }
}

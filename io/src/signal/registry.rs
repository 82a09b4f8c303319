//! The process-wide half of signal handling: one handler per signal
//! number, a socket pair that the handlers write to, and per signal the
//! version counter and wakers of its listeners.
//!
//! # Delivery
//!
//! The handler installed for a signal (through `signal-hook-registry`,
//! which chains it with handlers other libraries installed) does two
//! async-signal-safe things: it sets the signal's `pending` flag, then
//! sends one byte on the socket pair's write end, without blocking (a full
//! buffer drops the byte: the bytes already queued keep the read end
//! readable).
//!
//! Every [`Signal`](super::unix::Signal) owns a duplicate of the read end,
//! registered with its runtime's reactor. The duplicates share one open
//! file, so a byte makes every one of them readable; the first listener
//! polled afterwards [`drain`]s the socket and [`Globals::dispatch`]es:
//! for each signal whose `pending` flag it takes, it bumps the version and
//! wakes the registered listeners. A listener reports one delivery each
//! time it finds the version moved past the one it saw last, so
//! deliveries between two of its polls coalesce into one, as in tokio.
//!
//! # Why nothing is lost
//!
//! * Handler against drainer: the handler sets `pending` *before* it sends
//!   its byte; a drainer takes the flags *after* its reads. Either the
//!   drainer's reads took that byte, and then its swap sees the flag, or
//!   the byte is still queued and the read end stays readable, so a later
//!   drain takes the flag.
//! * Dispatch against a listener going to sleep: a listener registers its
//!   waker and compares versions under the slot's lock, and dispatch bumps
//!   the version and takes the wakers under the same lock; a listener that
//!   registered before the bump is woken, one that looks after it sees the
//!   new version.

use std::io::{self, Read};
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::task::Waker;

use smp_rt_executor::driver::wake_caught;

/// One more than the largest signal number a listener can be created for
/// (Linux on MIPS has 127 signals; other systems fewer).
const SLOTS: usize = 128;

/// The process's signal state, created by the first `signal()`.
pub(crate) struct Globals {
    /// The handlers' end of the socket pair (non-blocking).
    sender: UnixStream,
    /// The read end; each listener holds a duplicate of it.
    receiver: UnixStream,
    /// Per signal number.
    slots: Box<[Slot]>,
}

/// The state of one signal number.
pub(crate) struct Slot {
    /// Set by the handler, taken by `dispatch`.
    pending: AtomicBool,
    /// The outcome of installing the handler, once tried: `Err` holds the
    /// OS error code, if there was one.
    installed: OnceLock<Result<(), Option<i32>>>,
    /// The delivery count and the wakers of the listeners waiting for it.
    listeners: Mutex<Listeners>,
}

#[derive(Default)]
struct Listeners {
    /// How many times deliveries were dispatched.
    version: u64,
    /// The listeners waiting for the next dispatch, by listener id.
    waiting: Vec<(u64, Waker)>,
}

static GLOBALS: OnceLock<Globals> = OnceLock::new();
static INIT: Mutex<()> = Mutex::new(());
/// The source of listener ids.
static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The process's signal state, created on first use.
pub(crate) fn globals() -> io::Result<&'static Globals> {
    if let Some(globals) = GLOBALS.get() {
        return Ok(globals);
    }
    let _init = INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(globals) = GLOBALS.get() {
        return Ok(globals);
    }
    let (sender, receiver) = UnixStream::pair()?;
    sender.set_nonblocking(true)?;
    receiver.set_nonblocking(true)?;
    let globals = Globals {
        sender,
        receiver,
        slots: (0..SLOTS)
            .map(|_| Slot {
                pending: AtomicBool::new(false),
                installed: OnceLock::new(),
                listeners: Mutex::new(Listeners::default()),
            })
            .collect(),
    };
    Ok(GLOBALS.get_or_init(|| globals))
}

impl Globals {
    /// The slot of `signum`, with its handler installed: an error if the
    /// number is not a signal that can be handled, or if installing the
    /// handler failed (now or the first time it was tried).
    pub(crate) fn enable(&'static self, signum: c_int) -> io::Result<&'static Slot> {
        let slot = usize::try_from(signum)
            .ok()
            .filter(|&n| n > 0)
            .and_then(|n| self.slots.get(n))
            .filter(|_| !signal_hook_registry::FORBIDDEN.contains(&signum))
            .ok_or_else(|| {
                // `Other`, as tokio's error for the same input.
                io::Error::other(format!(
                    "refusing to register signal {signum}: it is not a signal number, or one \
                     that cannot be handled (SIGKILL, SIGSTOP, SIGILL, SIGFPE, SIGSEGV)"
                ))
            })?;
        let outcome = slot.installed.get_or_init(|| {
            let action = move || {
                // SeqCst: the flag is set before the byte is sent (see the
                // module docs: a drainer that took the byte sees the flag).
                slot.pending.store(true, Ordering::SeqCst);
                // A raw system call, safe in a signal handler; a full buffer
                // drops the byte, whose predecessors still wake the readers.
                let _ = rustix::net::send(&self.sender, &[1], rustix::net::SendFlags::DONTWAIT);
            };
            // SAFETY: `action` only stores to an atomic and makes one
            // `send` system call, both async-signal-safe; it allocates,
            // locks and panics nowhere. `signum` is not in `FORBIDDEN`
            // (checked above), so `register` does not panic.
            unsafe { signal_hook_registry::register(signum, action) }
                .map(|_| ())
                .map_err(|err| err.raw_os_error())
        });
        match outcome {
            Ok(()) => Ok(slot),
            Err(Some(code)) => Err(io::Error::from_raw_os_error(*code)),
            Err(None) => Err(io::Error::other(format!(
                "installing the handler of signal {signum} failed"
            ))),
        }
    }

    /// A new descriptor for the read end, for one listener to register.
    pub(crate) fn receiver(&self) -> io::Result<UnixStream> {
        self.receiver.try_clone()
    }

    /// Wakes the listeners of every signal delivered since the last
    /// dispatch. Called after a drain of the read end.
    pub(crate) fn dispatch(&self) {
        // Every slot, not only those whose `installed` is set: a handler
        // can run between its registration and that store.
        for slot in self.slots.iter() {
            // SeqCst: pairs with the handler's store (see the module docs).
            if slot.pending.swap(false, Ordering::SeqCst) {
                let waiting = {
                    let mut listeners = slot.lock();
                    listeners.version += 1;
                    std::mem::take(&mut listeners.waiting)
                };
                for (_, waker) in waiting {
                    wake_caught(waker);
                }
            }
        }
    }
}

impl Slot {
    fn lock(&self) -> MutexGuard<'_, Listeners> {
        // The lock guards plain data that no panic leaves inconsistent.
        self.listeners
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A new listener: its id and the version it has seen.
    pub(crate) fn subscribe(&self) -> (u64, u64) {
        // Relaxed: ids only need to be distinct.
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        (id, self.lock().version)
    }

    /// Whether a dispatch happened since the version in `seen`, which is
    /// then brought up to date; if not, `waker` is registered for the next
    /// one under the listener's `id`.
    pub(crate) fn check(&self, seen: &mut u64, id: u64, waker: &Waker) -> bool {
        let mut listeners = self.lock();
        if listeners.version != *seen {
            *seen = listeners.version;
            return true;
        }
        match listeners.waiting.iter_mut().find(|(other, _)| *other == id) {
            Some((_, registered)) if registered.will_wake(waker) => {}
            Some((_, registered)) => *registered = waker.clone(),
            None => listeners.waiting.push((id, waker.clone())),
        }
        false
    }

    /// Forgets the listener `id`.
    pub(crate) fn unsubscribe(&self, id: u64) {
        let removed = {
            let mut listeners = self.lock();
            let index = listeners.waiting.iter().position(|(other, _)| *other == id);
            index.map(|index| listeners.waiting.swap_remove(index))
        };
        // The waker is dropped outside the lock.
        drop(removed);
    }
}

/// Reads everything queued on a listener's descriptor: `Ok` if there was
/// something, `WouldBlock` if there was nothing.
pub(crate) fn drain(mut receiver: &UnixStream) -> io::Result<()> {
    let mut buf = [0u8; 64];
    let mut read_any = false;
    loop {
        match receiver.read(&mut buf) {
            // The write end lives as long as the process: not reached.
            Ok(0) => return Ok(()),
            Ok(_) => read_any = true,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock && read_any => return Ok(()),
            Err(err) => return Err(err),
        }
    }
}

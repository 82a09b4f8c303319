//! The key space and the pub/sub channels, shared by every connection,
//! and the task that drops keys when they expire.
//!
//! A key with an expiry is also listed in `expirations`, ordered by
//! deadline. `GET` never returns an expired key, whether or not the expiry
//! task has dropped it yet; the task sleeps until the earliest deadline,
//! drops what expired, and is woken early when a key gets an earlier one.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Notify, broadcast, watch};
use tokio::time::{self, Instant};

/// Messages a subscriber may fall behind by before it misses some.
const CHANNEL_CAPACITY: usize = 1024;

/// A handle to the shared state; clones share it.
#[derive(Debug, Clone, Default)]
pub struct Db {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    // A std mutex: it is never held across an await.
    state: Mutex<State>,
    /// Wakes the expiry task when a key gets a deadline earlier than the
    /// one it sleeps towards.
    earlier_deadline: Notify,
}

#[derive(Debug, Default)]
struct State {
    entries: HashMap<Vec<u8>, Entry>,
    /// `(deadline, key)` for every entry with a deadline.
    expirations: BTreeSet<(Instant, Vec<u8>)>,
    channels: HashMap<Vec<u8>, broadcast::Sender<Arc<[u8]>>>,
}

#[derive(Debug)]
struct Entry {
    value: Arc<[u8]>,
    expires_at: Option<Instant>,
}

impl Db {
    /// An empty key space with no channels.
    pub fn new() -> Db {
        Db::default()
    }

    /// The value of `key`, unless it is missing or expired.
    pub fn get(&self, key: &[u8]) -> Option<Arc<[u8]>> {
        let state = self.lock();
        let entry = state.entries.get(key)?;
        match entry.expires_at {
            Some(deadline) if deadline <= Instant::now() => None,
            _ => Some(entry.value.clone()),
        }
    }

    /// Sets `key` to `value`, to be dropped at `expires_at` if given (and
    /// kept otherwise, even if it had a deadline before).
    pub fn set(&self, key: Vec<u8>, value: Vec<u8>, expires_at: Option<Instant>) {
        let mut guard = self.lock();
        let state = &mut *guard;
        let earliest = state.expirations.first().map(|(deadline, _)| *deadline);
        if let Some(old) = state.entries.get(&key).and_then(|entry| entry.expires_at) {
            state.expirations.remove(&(old, key.clone()));
        }
        if let Some(deadline) = expires_at {
            state.expirations.insert((deadline, key.clone()));
        }
        let entry = Entry {
            value: value.into(),
            expires_at,
        };
        state.entries.insert(key, entry);
        drop(guard);
        let earlier = match (expires_at, earliest) {
            (Some(deadline), Some(earliest)) => deadline < earliest,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if earlier {
            // A permit is kept if the task is not waiting right now.
            self.shared.earlier_deadline.notify_one();
        }
    }

    /// Deletes `keys`; returns how many existed (and had not expired).
    pub fn del(&self, keys: &[Vec<u8>]) -> usize {
        let now = Instant::now();
        let mut state = self.lock();
        let mut deleted = 0;
        for key in keys {
            if let Some(entry) = state.entries.remove(key) {
                if let Some(deadline) = entry.expires_at {
                    state.expirations.remove(&(deadline, key.clone()));
                    if deadline <= now {
                        continue;
                    }
                }
                deleted += 1;
            }
        }
        deleted
    }

    /// How many keys are held, expired ones not dropped yet included.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A receiver of the messages published to `channel` from now on.
    pub fn subscribe(&self, channel: &[u8]) -> broadcast::Receiver<Arc<[u8]>> {
        let mut state = self.lock();
        match state.channels.get(channel) {
            Some(sender) => sender.subscribe(),
            None => {
                let (sender, receiver) = broadcast::channel(CHANNEL_CAPACITY);
                state.channels.insert(channel.to_vec(), sender);
                receiver
            }
        }
    }

    /// Sends `message` to the subscribers of `channel`; returns how many
    /// there were.
    pub fn publish(&self, channel: &[u8], message: Vec<u8>) -> usize {
        let mut state = self.lock();
        let Some(sender) = state.channels.get(channel) else {
            return 0;
        };
        match sender.send(message.into()) {
            Ok(receivers) => receivers,
            Err(_) => {
                // Nobody listens any more: forget the channel.
                state.channels.remove(channel);
                0
            }
        }
    }

    /// Drops keys as they expire, until `shutdown` turns true. The server
    /// spawns this once.
    pub async fn expire_keys(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let next = self.drop_expired(Instant::now());
            let sleep = async {
                match next {
                    Some(deadline) => time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sleep => {}
                _ = self.shared.earlier_deadline.notified() => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }

    /// Drops the keys whose deadline is `now` or earlier; returns the next
    /// deadline.
    fn drop_expired(&self, now: Instant) -> Option<Instant> {
        let mut state = self.lock();
        while let Some((deadline, _)) = state.expirations.first() {
            if *deadline > now {
                return Some(*deadline);
            }
            if let Some((_, key)) = state.expirations.pop_first() {
                state.entries.remove(&key);
            }
        }
        None
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The maps stay usable whatever panicked while the lock was held.
        self.shared
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

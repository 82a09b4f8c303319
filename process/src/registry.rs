//! The name registry: [`register`], [`whereis`], [`unregister`].
//!
//! Names are global to the OS process, like the names of a BEAM node: a
//! process registered by one runtime can be looked up from another. A
//! process has at most one name, and its name is released when it ends.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock, RwLock};

use crate::pid::{AnyPid, Pid, ProcessId};
use crate::state::AnyProcess;

/// Registered names and their processes.
type Names = HashMap<Box<str>, Arc<dyn AnyProcess>>;

static NAMES: LazyLock<RwLock<Names>> = LazyLock::new(|| RwLock::new(HashMap::new()));

fn read() -> std::sync::RwLockReadGuard<'static, Names> {
    // No user code runs under this lock: a poisoned lock is still consistent.
    NAMES.read().unwrap_or_else(|p| p.into_inner())
}

fn write() -> std::sync::RwLockWriteGuard<'static, Names> {
    NAMES.write().unwrap_or_else(|p| p.into_inner())
}

/// Why [`register`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegisterError {
    /// Another live process has this name.
    NameTaken,
    /// The process has ended (or was killed).
    NotAlive,
    /// The process is already registered under another name (held here).
    AlreadyRegistered(String),
}

impl fmt::Display for RegisterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegisterError::NameTaken => f.write_str("the name is taken"),
            RegisterError::NotAlive => f.write_str("the process is not alive"),
            RegisterError::AlreadyRegistered(name) => {
                write!(f, "the process is already registered as {name:?}")
            }
        }
    }
}

impl std::error::Error for RegisterError {}

/// Registers `pid` under `name`, so that [`whereis`] finds it (BEAM's
/// `register/2`). The name is released when the process ends, or with
/// [`unregister`].
///
/// # Errors
///
/// If the name is taken, the process is not alive, or it already has a
/// name.
///
/// # Examples
///
/// ```
/// use smp_rt::process::{self, RegisterError};
///
/// # smp_rt::block_on(async {
/// let pid = process::spawn(|mut mbox: process::Mailbox<u32>| async move { mbox.recv().await; });
/// process::register("doc-register", &pid).unwrap();
/// let other = process::spawn(|mut mbox: process::Mailbox<u32>| async move { mbox.recv().await; });
/// assert_eq!(process::register("doc-register", &other), Err(RegisterError::NameTaken));
///
/// let monitor = process::monitor(&pid);
/// pid.send(1).unwrap(); // it ends, and its name is released
/// monitor.await;
/// process::register("doc-register", &other).unwrap();
/// # other.kill();
/// # });
/// ```
pub fn register<P: Into<AnyPid>>(name: &str, pid: P) -> Result<(), RegisterError> {
    let pid: AnyPid = pid.into();
    let process = pid.process;
    let mut names = write();
    if let Some(holder) = names.get(name) {
        if !holder.core().is_closed() || holder.core().id == process.core().id {
            return Err(RegisterError::NameTaken);
        }
    }
    {
        let mut st = process.core().lock();
        if st.exit.is_some() || st.pending.is_some() {
            return Err(RegisterError::NotAlive);
        }
        if let Some(current) = &st.registered {
            return Err(RegisterError::AlreadyRegistered(current.to_string()));
        }
        st.registered = Some(name.into());
    }
    // A killed process that still held the name is replaced here; its
    // exit path will find the name no longer its own.
    let replaced = names.insert(name.into(), process);
    drop(names);
    if let Some(old) = replaced {
        old.core().lock().registered = None;
    }
    Ok(())
}

/// The process registered under `name`, if it is alive and its messages
/// are `M` (BEAM's `whereis/1`, typed).
///
/// # Examples
///
/// ```
/// use smp_rt::process;
///
/// # smp_rt::block_on(async {
/// let pid = process::spawn(|mut mbox: process::Mailbox<u32>| async move { mbox.recv().await; });
/// process::register("doc-whereis", &pid).unwrap();
/// assert_eq!(process::whereis::<u32>("doc-whereis"), Some(pid.clone()));
/// assert!(process::whereis::<String>("doc-whereis").is_none()); // another message type
/// assert!(process::whereis::<u32>("doc-nobody").is_none());
/// process::whereis::<u32>("doc-whereis").unwrap().send(1).unwrap();
/// # });
/// ```
pub fn whereis<M: Send + 'static>(name: &str) -> Option<Pid<M>> {
    whereis_any(name)?.downcast::<M>().ok()
}

/// The process registered under `name`, of any message type.
pub fn whereis_any(name: &str) -> Option<AnyPid> {
    let process = read().get(name)?.clone();
    let pid = AnyPid::from_arc(process);
    pid.is_alive().then_some(pid)
}

/// Releases `name`. Returns `true` if it was registered.
///
/// # Examples
///
/// ```
/// use smp_rt::process;
///
/// # smp_rt::block_on(async {
/// let pid = process::spawn(|mut mbox: process::Mailbox<u32>| async move { mbox.recv().await; });
/// process::register("doc-unregister", &pid).unwrap();
/// assert!(process::unregister("doc-unregister"));
/// assert!(!process::unregister("doc-unregister"));
/// assert!(process::whereis::<u32>("doc-unregister").is_none());
/// # pid.kill();
/// # });
/// ```
pub fn unregister(name: &str) -> bool {
    let removed = write().remove(name);
    match removed {
        Some(process) => {
            let mut st = process.core().lock();
            if st.registered.as_deref() == Some(name) {
                st.registered = None;
            }
            true
        }
        None => false,
    }
}

/// The names registered now, in no particular order.
///
/// # Examples
///
/// ```
/// use smp_rt::process;
///
/// # smp_rt::block_on(async {
/// let pid = process::spawn(|mut mbox: process::Mailbox<u32>| async move { mbox.recv().await; });
/// process::register("doc-registered", &pid).unwrap();
/// assert!(process::registered().contains(&"doc-registered".to_string()));
/// # pid.kill();
/// # });
/// ```
pub fn registered() -> Vec<String> {
    read()
        .iter()
        .filter(|(_, p)| !p.core().is_closed())
        .map(|(name, _)| name.to_string())
        .collect()
}

/// Releases `name` if `id` holds it; called by the exit path.
pub(crate) fn release(name: &str, id: ProcessId) {
    let removed = {
        let mut names = write();
        match names.get(name) {
            Some(holder) if holder.core().id == id => names.remove(name),
            _ => None,
        }
    };
    drop(removed);
}

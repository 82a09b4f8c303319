//! [`read_dir`]: a directory's entries, read in batches on the blocking
//! pool.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::{FileType, Metadata};
use std::future::poll_fn;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use smp_rt_executor::JoinHandle;
use smp_rt_executor::task::poll_charge;

use super::{asyncify, join_error};

/// Entries one blocking call reads.
const BATCH: usize = 32;

/// Returns the entries of the directory `path` (`std::fs::read_dir`, the
/// opening and every batch of entries on the blocking pool).
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// let mut entries = smp_rt::fs::read_dir(std::env::temp_dir()).await?;
/// while let Some(entry) = entries.next_entry().await? {
///     let _ = entry.file_name();
/// }
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<ReadDir> {
    let path = path.as_ref().to_owned();
    let std = asyncify(move || std::fs::read_dir(path)).await?;
    Ok(ReadDir(State::Idle(Some(Batch {
        entries: VecDeque::new(),
        std,
        done: false,
    }))))
}

/// The entries of a directory, from [`read_dir`]: call
/// [`next_entry`](ReadDir::next_entry) until it returns `None`. The order
/// is the file system's; `.` and `..` are left out.
#[derive(Debug)]
pub struct ReadDir(State);

#[derive(Debug)]
enum State {
    /// The entries read and not yet returned, and the `std` iterator;
    /// `None` only while a batch is taken out to be filled.
    Idle(Option<Batch>),
    /// A batch being read on the blocking pool.
    Pending(JoinHandle<Batch>),
}

#[derive(Debug)]
struct Batch {
    entries: VecDeque<io::Result<DirEntry>>,
    std: std::fs::ReadDir,
    /// The iterator returned `None`.
    done: bool,
}

impl Batch {
    /// Reads up to [`BATCH`] more entries (blocking).
    fn fill(mut self) -> Batch {
        for _ in 0..BATCH {
            match self.std.next() {
                Some(entry) => self.entries.push_back(entry.map(|std| {
                    // The type comes with the entry on most file systems:
                    // fetch it here so that `file_type` usually needs no
                    // blocking call.
                    let file_type = std.file_type().ok();
                    DirEntry {
                        std: Arc::new(std),
                        file_type,
                    }
                })),
                None => {
                    self.done = true;
                    break;
                }
            }
        }
        self
    }
}

impl ReadDir {
    /// The next entry, `None` at the end of the directory. Cancel-safe:
    /// dropping the future loses no entry.
    pub async fn next_entry(&mut self) -> io::Result<Option<DirEntry>> {
        poll_fn(|cx| self.poll_next_entry(cx)).await
    }

    /// Polls for the next entry: `Ready(Ok(None))` at the end of the
    /// directory. `Pending` arranges for `cx`'s waker to be woken when the
    /// next batch of entries has been read.
    pub fn poll_next_entry(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> {
        loop {
            match &mut self.0 {
                State::Idle(batch) => {
                    let batch_ref = batch
                        .as_mut()
                        .expect("a ReadDir's batch is back before its next poll");
                    if !batch_ref.entries.is_empty() {
                        // Charged before the entry is taken: a poll that
                        // ends the slice must leave it for the next one.
                        ready!(poll_charge(cx));
                        let entry = batch_ref.entries.pop_front();
                        return Poll::Ready(entry.transpose());
                    }
                    if batch_ref.done {
                        return Poll::Ready(Ok(None));
                    }
                    let batch = batch
                        .take()
                        .expect("a ReadDir's batch is back before its next poll");
                    self.0 = State::Pending(smp_rt_executor::spawn_blocking(move || batch.fill()));
                }
                State::Pending(handle) => match ready!(Pin::new(handle).poll(cx)) {
                    Ok(batch) => self.0 = State::Idle(Some(batch)),
                    Err(err) => {
                        // The batch (and the directory handle) is lost:
                        // the directory reads as ended from now on.
                        self.0 = State::Idle(None);
                        return Poll::Ready(Err(join_error(err)));
                    }
                },
            }
        }
    }
}

/// One entry of a directory, from [`ReadDir::next_entry`].
#[derive(Debug)]
pub struct DirEntry {
    std: Arc<std::fs::DirEntry>,
    /// The type, when the directory listing gave it.
    file_type: Option<FileType>,
}

impl DirEntry {
    /// The full path: the directory given to [`read_dir`] joined with
    /// [`file_name`](DirEntry::file_name).
    pub fn path(&self) -> PathBuf {
        self.std.path()
    }

    /// The entry's name in its directory.
    pub fn file_name(&self) -> OsString {
        self.std.file_name()
    }

    /// The entry's inode number.
    #[cfg(unix)]
    pub fn ino(&self) -> u64 {
        std::os::unix::fs::DirEntryExt::ino(&*self.std)
    }

    /// The entry's metadata, not following a symbolic link (on the
    /// blocking pool).
    pub async fn metadata(&self) -> io::Result<Metadata> {
        let std = self.std.clone();
        asyncify(move || std.metadata()).await
    }

    /// The entry's type, not following a symbolic link: from the
    /// directory listing when it gave one, else from the blocking pool.
    pub async fn file_type(&self) -> io::Result<FileType> {
        if let Some(file_type) = self.file_type {
            return Ok(file_type);
        }
        let std = self.std.clone();
        asyncify(move || std.file_type()).await
    }
}

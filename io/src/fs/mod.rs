//! Asynchronous filesystem operations, as `tokio::fs`.
//!
//! Operating systems offer no readiness for regular files, so every
//! operation here runs the blocking `std::fs` call on the runtime's
//! blocking pool ([`spawn_blocking`](smp_rt_executor::spawn_blocking)) and
//! waits for it. Waiting charges a reduction per poll, as every smp_rt wait
//! does. Each free function is one blocking call; many small operations are
//! cheaper done together in one `spawn_blocking` of your own.
//!
//! [`File`] keeps one operation in flight: a write returns as soon as its
//! bytes are copied into the file's buffer, and completes in the
//! background; `flush` waits for it, and an error of a background write is
//! returned by the next write or flush.
//!
//! # Panics
//!
//! Every function here panics outside an smp_rt runtime, as
//! `spawn_blocking` does.
//!
//! # Examples
//!
//! ```
//! # smp_rt::block_on(async {
//! let dir = std::env::temp_dir().join(format!("smp_rt-fs-doc-{}", std::process::id()));
//! smp_rt::fs::create_dir_all(&dir).await?;
//! let path = dir.join("hello.txt");
//! smp_rt::fs::write(&path, "hello").await?;
//! assert_eq!(smp_rt::fs::read_to_string(&path).await?, "hello");
//! smp_rt::fs::remove_dir_all(&dir).await?;
//! # std::io::Result::Ok(()) }).unwrap();
//! ```

mod dir_builder;
mod file;
mod file_times;
mod open_options;
mod read_dir;

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

pub use dir_builder::DirBuilder;
pub use file::File;
pub use file_times::FileTimes;
pub use open_options::OpenOptions;
pub use read_dir::{DirEntry, ReadDir, read_dir};

/// Runs `f` on the blocking pool and waits for its result.
///
/// A panic in `f`, or a runtime that shut down before running it, is an
/// `io::Error` of kind `Other`.
pub(crate) async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match smp_rt_executor::spawn_blocking(f).await {
        Ok(result) => result,
        Err(err) => Err(join_error(err)),
    }
}

/// The `io::Error` for a blocking filesystem task that did not return.
pub(crate) fn join_error(err: smp_rt_executor::task::JoinError) -> io::Error {
    io::Error::other(format!("the blocking filesystem task failed: {err}"))
}

/// Reads the whole file at `path` (`std::fs::read` on the blocking pool).
///
/// # Examples
///
/// ```no_run
/// # smp_rt::block_on(async {
/// let contents = smp_rt::fs::read("address.txt").await?;
/// # std::io::Result::Ok(()) });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read(path)).await
}

/// Reads the whole file at `path` as UTF-8 (`std::fs::read_to_string` on
/// the blocking pool); invalid UTF-8 is an `InvalidData` error.
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_to_string(path)).await
}

/// Writes `contents` as the whole file at `path`, creating it or
/// truncating it (`std::fs::write` on the blocking pool).
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    asyncify(move || std::fs::write(path, contents)).await
}

/// Copies the file `from` to `to`, with its permissions, and returns the
/// number of bytes copied (`std::fs::copy` on the blocking pool).
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::copy(from, to)).await
}

/// Creates the directory `path`; its parent must exist
/// (`std::fs::create_dir` on the blocking pool).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir(path)).await
}

/// Creates the directory `path` and any missing parent; an existing
/// directory is not an error (`std::fs::create_dir_all` on the blocking
/// pool).
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::create_dir_all(path)).await
}

/// Removes the empty directory `path` (`std::fs::remove_dir` on the
/// blocking pool).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir(path)).await
}

/// Removes the directory `path` and everything in it
/// (`std::fs::remove_dir_all` on the blocking pool).
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Removes the file `path` (`std::fs::remove_file` on the blocking pool).
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_file(path)).await
}

/// Renames `from` to `to`, replacing `to` if it exists
/// (`std::fs::rename` on the blocking pool).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    asyncify(move || std::fs::rename(from, to)).await
}

/// The metadata of `path`, following symbolic links
/// (`std::fs::metadata` on the blocking pool).
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// The metadata of `path` itself, not following a symbolic link
/// (`std::fs::symlink_metadata` on the blocking pool).
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}

/// The absolute path of `path`, with every symbolic link and `..`
/// resolved (`std::fs::canonicalize` on the blocking pool).
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}

/// Makes `dst` a new name (a hard link) of the file `src`
/// (`std::fs::hard_link` on the blocking pool).
pub async fn hard_link(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    asyncify(move || std::fs::hard_link(src, dst)).await
}

/// Where the symbolic link `path` points (`std::fs::read_link` on the
/// blocking pool).
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}

/// Sets the permissions of `path` (`std::fs::set_permissions` on the
/// blocking pool).
pub async fn set_permissions(path: impl AsRef<Path>, perm: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}

/// Whether `path` exists: `Ok(false)` for a path that does not (or a
/// broken symbolic link), an error when that cannot be told, for example
/// for want of permission (`std::fs::exists` on the blocking pool).
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::exists(path)).await
}

/// Creates the symbolic link `dst` pointing to `src`
/// (`std::os::unix::fs::symlink` on the blocking pool).
#[cfg(unix)]
pub async fn symlink(src: impl AsRef<Path>, dst: impl AsRef<Path>) -> io::Result<()> {
    let (src, dst) = (src.as_ref().to_owned(), dst.as_ref().to_owned());
    asyncify(move || std::os::unix::fs::symlink(src, dst)).await
}

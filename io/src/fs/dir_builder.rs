//! [`DirBuilder`]: creating directories with options, as
//! `std::fs::DirBuilder`.

use std::io;
use std::path::Path;

use super::asyncify;

/// Creates directories, recursively or not, with a mode on Unix:
/// `std::fs::DirBuilder` with an asynchronous
/// [`create`](DirBuilder::create).
///
/// # Examples
///
/// ```
/// # smp_rt::block_on(async {
/// use smp_rt::fs::DirBuilder;
///
/// let dir = std::env::temp_dir().join(format!("smp_rt-dirb-doc-{}", std::process::id()));
/// DirBuilder::new().recursive(true).create(dir.join("a/b")).await?;
/// assert!(smp_rt::fs::metadata(dir.join("a/b")).await?.is_dir());
/// # smp_rt::fs::remove_dir_all(&dir).await?;
/// # std::io::Result::Ok(()) }).unwrap();
/// ```
#[derive(Debug, Default, Clone)]
pub struct DirBuilder {
    recursive: bool,
    #[cfg(unix)]
    mode: Option<u32>,
}

impl DirBuilder {
    /// A builder that creates one directory whose parent must exist.
    pub fn new() -> DirBuilder {
        DirBuilder::default()
    }

    /// Also creates every missing parent; an existing directory is then
    /// not an error.
    pub fn recursive(&mut self, recursive: bool) -> &mut DirBuilder {
        self.recursive = recursive;
        self
    }

    /// The permission bits of the directories created (before the umask),
    /// `0o777` by default.
    #[cfg(unix)]
    pub fn mode(&mut self, mode: u32) -> &mut DirBuilder {
        self.mode = Some(mode);
        self
    }

    /// Creates `path` (`std::fs::DirBuilder::create` on the blocking pool).
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref().to_owned();
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(self.recursive);
        #[cfg(unix)]
        if let Some(mode) = self.mode {
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
        }
        asyncify(move || builder.create(path)).await
    }
}

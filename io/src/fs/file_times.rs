//! [`FileTimes`]: the timestamps [`File::set_times`](super::File::set_times)
//! sets.

use std::time::SystemTime;

/// Which of a file's timestamps to set, and to what (tokio's `FileTimes`):
/// those left unset keep their value.
#[derive(Debug, Clone, Default)]
#[must_use = "`FileTimes` does nothing until passed to `File::set_times`"]
pub struct FileTimes {
    accessed: Option<SystemTime>,
    modified: Option<SystemTime>,
}

impl FileTimes {
    /// No timestamp set.
    pub fn new() -> FileTimes {
        FileTimes::default()
    }

    /// Sets the last access time.
    pub fn set_accessed(mut self, time: SystemTime) -> FileTimes {
        self.accessed = Some(time);
        self
    }

    /// Sets the last modification time.
    pub fn set_modified(mut self, time: SystemTime) -> FileTimes {
        self.modified = Some(time);
        self
    }

    /// The same, as `std`'s.
    pub(crate) fn into_std(self) -> std::fs::FileTimes {
        let mut times = std::fs::FileTimes::new();
        if let Some(accessed) = self.accessed {
            times = times.set_accessed(accessed);
        }
        if let Some(modified) = self.modified {
            times = times.set_modified(modified);
        }
        times
    }
}

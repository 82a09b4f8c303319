//! The four BEAM priority levels.

use std::fmt;

/// A task's scheduling priority, BEAM's four levels.
///
/// * `Max` and `High` are strict: a worker runs every ready task of a higher
///   level queued on it before any of a lower one.
/// * `Normal` and `Low` share the worker BEAM-style: a ready `Low` task is
///   passed over at most 8 times while `Normal` work exists, so `Low` is slowed
///   down by `Normal` work but never starved by it.
///
/// The rule holds on each worker, and it shares picks between levels, not
/// tasks. On a worker where `l` `Low` and `n` `Normal` tasks stay ready,
/// `Low` gets 1 pick in 9, so a `Low` task gets `n/(8l)` times the polls of
/// a `Normal` one: 1000 `Low` beside 10,000 `Normal` give each `Low` task
/// 1.25 times a `Normal` task's polls. Runtime-wide the shares add up
/// worker by worker: a worker holding only `Low` tasks runs them on every
/// pick, and a worker with no `High` task queued runs `Normal` work while a
/// sibling runs `High` work (an idle worker steals the highest level
/// first; a busy one does not look for a sibling's queued `High` work).
///
/// Ordered `Max > High > Normal > Low`; the default is `Normal`.
///
/// # Examples
///
/// ```
/// use smp_rt_executor::task::Priority;
///
/// assert!(Priority::Max > Priority::High);
/// assert!(Priority::Normal > Priority::Low);
/// assert_eq!(Priority::default(), Priority::Normal);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum Priority {
    /// Strictly above everything else: for short, latency-critical work.
    Max = 0,
    /// Strictly above `Normal` and `Low`.
    High = 1,
    /// The default.
    #[default]
    Normal = 2,
    /// Background work: interleaved with `Normal`, never starved by it.
    Low = 3,
}

impl Priority {
    /// Every level, highest first: the order in which a worker looks for work.
    pub const ALL: [Priority; 4] = [
        Priority::Max,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    /// The queue index of this level: 0 for `Max` up to 3 for `Low`.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The level stored at queue index `index`.
    ///
    /// # Panics
    ///
    /// Panics if `index` is not in `0..4`.
    #[inline]
    pub const fn from_index(index: usize) -> Priority {
        match index {
            0 => Priority::Max,
            1 => Priority::High,
            2 => Priority::Normal,
            3 => Priority::Low,
            _ => panic!("a priority index is in 0..4"),
        }
    }

    /// The lower-case name, as shown in tracing spans.
    pub const fn as_str(self) -> &'static str {
        match self {
            Priority::Max => "max",
            Priority::High => "high",
            Priority::Normal => "normal",
            Priority::Low => "low",
        }
    }
}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // A lower index is a higher priority.
        (other.index()).cmp(&self.index())
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

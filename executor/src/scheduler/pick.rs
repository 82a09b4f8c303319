//! The priority rule: which level the next task comes from.
//!
//! `Max`, then `High`, strictly. Then `Normal`, except that a ready `Low`
//! task is passed over at most [`LOW_SKIPS`] times: the next pick after that
//! is `Low`. So under a steady `Normal` load a `Low` task gets one pick in
//! `LOW_SKIPS + 1`, shared among all the ready `Low` tasks, and is never
//! starved; `Max` and `High` can starve the levels below them on one worker
//! by design (other workers still run those, and steal them).
//!
//! # What the rule promises, and what it does not
//!
//! The rule is per worker, and it shares picks between levels, not
//! between tasks. On a worker where `l` `Low` and `n` `Normal` tasks stay
//! ready, the `Low` level gets 1 pick in 9 and `Normal` 8 in 9, so each
//! `Low` task gets `1/(9l)` of the worker's picks and each `Normal` task
//! `8/(9n)`: a `Low` task gets `n/(8l)` times the polls of a `Normal` one
//! (1000 `Low` beside 10,000 `Normal`: 1.25 times; 10 beside 1000: 12.5
//! times; 100 beside 100: one eighth).
//!
//! Runtime-wide, the shares add up worker by worker, and where a task runs
//! depends on placement (where it was spawned or woken) and migration (an
//! idle worker steals from the highest level first; a busy worker takes
//! the queue of a stalled sibling), not on its level. A worker holding
//! only `Low` tasks runs them on every pick; one holding only `Normal`
//! tasks never runs `Low`. So runtime-wide a `Low` task can get more than
//! `n/(8l)` times a `Normal` task's polls (with `Low` tasks gathered on
//! some workers) or less. Likewise `High` is strict on each worker: a
//! worker with no `Max` or `High` task queued runs `Normal` and `Low` work
//! while a sibling runs `High` work, and a busy worker does not go looking
//! for a sibling's queued `High` tasks (it takes them only when they arrive
//! from outside for a sibling busy with lower-priority work, or when that
//! sibling is stalled). Balancing levels across workers would cost every
//! `Normal` pick a look at every sibling's queues.
//!
//! Pure logic over a set of ready levels: the worker's queues say which
//! levels are ready ([`Levels`]); [`LevelPicker`] keeps the rule's one piece
//! of state, the `Low` skips.

use crate::task::Priority;

/// A ready `Low` task is passed over at most this many times by `Normal` work.
pub(crate) const LOW_SKIPS: u8 = 8;

/// A set of priority levels, one bit each (`1 << Priority::index`).
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(crate) struct Levels(u8);

impl Levels {
    /// No level.
    pub(crate) const EMPTY: Levels = Levels(0);

    #[inline]
    fn bit(priority: Priority) -> u8 {
        1 << priority.index()
    }

    #[inline]
    pub(crate) fn contains(self, priority: Priority) -> bool {
        self.0 & Levels::bit(priority) != 0
    }

    #[inline]
    pub(crate) fn insert(&mut self, priority: Priority) {
        self.0 |= Levels::bit(priority);
    }

    #[inline]
    pub(crate) fn remove(&mut self, priority: Priority) {
        self.0 &= !Levels::bit(priority);
    }

    /// This set with `priority` added.
    #[inline]
    pub(crate) fn with(mut self, priority: Option<Priority>) -> Levels {
        if let Some(priority) = priority {
            self.insert(priority);
        }
        self
    }

    #[inline]
    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// `true` if the set holds exactly one level.
    #[inline]
    pub(crate) fn is_single(self) -> bool {
        self.0.is_power_of_two()
    }
}

/// The state of the priority rule: how often a ready `Low` task has been
/// passed over for `Normal` work since `Low` last ran.
#[derive(Default, Debug)]
pub(crate) struct LevelPicker {
    low_skips: u8,
}

impl LevelPicker {
    /// The level the next task comes from, among the `ready` ones (`None`
    /// when none is), by the rule in the module docs.
    #[inline]
    pub(crate) fn pick(&mut self, ready: Levels) -> Option<Priority> {
        // The common set first, in one compare: `Normal` alone (the rule
        // below gives `Normal`, and counts no `Low` skip).
        if ready == Levels(Levels::bit(Priority::Normal)) {
            return Some(Priority::Normal);
        }
        if ready.contains(Priority::Max) {
            return Some(Priority::Max);
        }
        if ready.contains(Priority::High) {
            return Some(Priority::High);
        }
        let low = ready.contains(Priority::Low);
        if !ready.contains(Priority::Normal) {
            return low.then(|| {
                self.low_skips = 0;
                Priority::Low
            });
        }
        if low && self.low_skips >= LOW_SKIPS {
            self.low_skips = 0;
            return Some(Priority::Low);
        }
        if low {
            self.low_skips += 1;
        }
        Some(Priority::Normal)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    fn levels(priorities: &[Priority]) -> Levels {
        let mut set = Levels::EMPTY;
        for &p in priorities {
            set.insert(p);
        }
        set
    }

    #[test]
    fn nothing_ready_picks_nothing() {
        assert_eq!(LevelPicker::default().pick(Levels::EMPTY), None);
    }

    #[test]
    fn max_and_high_are_strict() {
        let mut picker = LevelPicker::default();
        let all = levels(&Priority::ALL);
        for _ in 0..100 {
            assert_eq!(picker.pick(all), Some(Priority::Max));
        }
        let below_max = levels(&[Priority::High, Priority::Normal, Priority::Low]);
        for _ in 0..100 {
            assert_eq!(picker.pick(below_max), Some(Priority::High));
        }
    }

    #[test]
    fn low_gets_one_pick_in_low_skips_plus_one_beside_normal() {
        let mut picker = LevelPicker::default();
        let both = levels(&[Priority::Normal, Priority::Low]);
        let picks: Vec<Priority> = (0..3 * (usize::from(LOW_SKIPS) + 1))
            .map(|_| picker.pick(both).unwrap())
            .collect();
        for round in picks.chunks(usize::from(LOW_SKIPS) + 1) {
            let lows = round.iter().filter(|&&p| p == Priority::Low).count();
            assert_eq!(lows, 1, "one Low pick per round: {round:?}");
            assert_eq!(round.last(), Some(&Priority::Low), "{round:?}");
        }
    }

    #[test]
    fn low_alone_runs_and_restarts_the_count() {
        let mut picker = LevelPicker::default();
        let both = levels(&[Priority::Normal, Priority::Low]);
        for _ in 0..LOW_SKIPS - 1 {
            assert_eq!(picker.pick(both), Some(Priority::Normal));
        }
        assert_eq!(picker.pick(levels(&[Priority::Low])), Some(Priority::Low));
        // The count restarted: Low waits a whole LOW_SKIPS again.
        for _ in 0..LOW_SKIPS {
            assert_eq!(picker.pick(both), Some(Priority::Normal));
        }
        assert_eq!(picker.pick(both), Some(Priority::Low));
    }

    #[test]
    fn normal_alone_does_not_count_skips() {
        let mut picker = LevelPicker::default();
        for _ in 0..100 {
            assert_eq!(
                picker.pick(levels(&[Priority::Normal])),
                Some(Priority::Normal)
            );
        }
        // No Low was passed over: the first Low waits a whole LOW_SKIPS.
        let both = levels(&[Priority::Normal, Priority::Low]);
        for _ in 0..LOW_SKIPS {
            assert_eq!(picker.pick(both), Some(Priority::Normal));
        }
        assert_eq!(picker.pick(both), Some(Priority::Low));
    }

    #[test]
    fn levels_set_operations() {
        let mut set = Levels::EMPTY;
        assert!(set.is_empty());
        set.insert(Priority::Low);
        assert!(set.is_single() && set.contains(Priority::Low));
        let two = set.with(Some(Priority::High));
        assert!(!two.is_single() && two.contains(Priority::High));
        set.remove(Priority::Low);
        assert!(set.is_empty());
        assert_eq!(set.with(None), Levels::EMPTY);
    }
}

//! Medians and percentiles.

use std::time::Duration;

/// The median of `values`, or `None` when there are none.
///
/// With an even count it is the mean of the two middle values.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::stats::median;
///
/// assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
/// assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
/// assert_eq!(median(&[]), None);
/// ```
pub fn median(values: &[f64]) -> Option<f64> {
    let sorted = sorted(values);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

/// The `p`-th percentile (`0.0..=100.0`) of already sorted values, by the
/// nearest-rank method: the smallest value with at least `p`% of the values
/// at or below it. `None` when there are no values.
///
/// # Examples
///
/// ```
/// use smp_rt_bench::stats::percentile;
///
/// let v: Vec<f64> = (1..=100).map(f64::from).collect();
/// assert_eq!(percentile(&v, 50.0), Some(50.0));
/// assert_eq!(percentile(&v, 99.0), Some(99.0));
/// assert_eq!(percentile(&v, 100.0), Some(100.0));
/// assert_eq!(percentile(&v, 0.0), Some(1.0));
/// ```
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let p = p.clamp(0.0, 100.0);
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// `values` sorted ascending (NaNs last).
pub fn sorted(values: &[f64]) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Durations as nanoseconds.
pub fn nanos(durations: &[Duration]) -> Vec<f64> {
    durations.iter().map(|d| d.as_nanos() as f64).collect()
}

/// The usual summary of a latency distribution, in the unit of the input.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// Number of samples.
    pub count: usize,
    /// Smallest sample.
    pub min: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Largest sample.
    pub max: f64,
}

impl Summary {
    /// Summarises `values`, or `None` when there are none.
    ///
    /// # Examples
    ///
    /// ```
    /// use smp_rt_bench::stats::Summary;
    ///
    /// let s = Summary::of(&[5.0, 1.0, 3.0]).unwrap();
    /// assert_eq!((s.min, s.p50, s.max), (1.0, 3.0, 5.0));
    /// ```
    pub fn of(values: &[f64]) -> Option<Summary> {
        let sorted = sorted(values);
        Some(Summary {
            count: sorted.len(),
            min: *sorted.first()?,
            p50: percentile(&sorted, 50.0)?,
            p90: percentile(&sorted, 90.0)?,
            p99: percentile(&sorted, 99.0)?,
            max: *sorted.last()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_even_and_unsorted() {
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[9.0, 1.0, 5.0, 3.0, 7.0]), Some(5.0));
        assert_eq!(median(&[10.0, 0.0]), Some(5.0));
    }

    #[test]
    fn percentiles_nearest_rank() {
        let v = sorted(&[15.0, 20.0, 35.0, 40.0, 50.0]);
        assert_eq!(percentile(&v, 5.0), Some(15.0));
        assert_eq!(percentile(&v, 30.0), Some(20.0));
        assert_eq!(percentile(&v, 40.0), Some(20.0));
        assert_eq!(percentile(&v, 50.0), Some(35.0));
        assert_eq!(percentile(&v, 100.0), Some(50.0));
        assert_eq!(percentile(&v, 150.0), Some(50.0));
        assert_eq!(percentile(&[], 50.0), None);

        let many: Vec<f64> = (1..=200).map(f64::from).collect();
        assert_eq!(percentile(&many, 99.0), Some(198.0));
    }

    #[test]
    fn summary_of_durations() {
        let d = [
            Duration::from_micros(3),
            Duration::from_micros(1),
            Duration::from_micros(2),
        ];
        let s = Summary::of(&nanos(&d)).unwrap();
        assert_eq!(s.count, 3);
        assert_eq!(s.p50, 2_000.0);
        assert_eq!(s.max, 3_000.0);
        assert!(Summary::of(&[]).is_none());
    }
}

//! Latency histograms with fixed, log-spaced buckets: the same buckets in every minute, so
//! minutes merge by adding counts and percentiles over an hour or a week come from the merged
//! counts (a percentile of percentiles would be wrong). Bucket `i` holds latencies up to
//! `0.25 ms × √2^i`; the last one everything above two minutes. The error of a percentile is
//! at most one bucket's width (±19 % around its middle), linear interpolation inside it.
use serde::{Deserialize, Serialize};

/// Buckets, the last one unbounded.
pub const BUCKETS: usize = 40;
/// The first bucket's upper bound, in milliseconds.
const FIRST_BOUND_MS: f64 = 0.25;

/// The upper bound of bucket `i` in milliseconds (`f64::INFINITY` for the last).
pub fn upper_bound_ms(i: usize) -> f64 {
    if i + 1 >= BUCKETS { f64::INFINITY } else { FIRST_BOUND_MS * std::f64::consts::SQRT_2.powi(i as i32) }
}

fn lower_bound_ms(i: usize) -> f64 {
    if i == 0 { 0.0 } else { upper_bound_ms(i - 1) }
}

/// The bucket a latency falls in.
pub fn bucket_of(ms: f64) -> usize {
    if ms.is_nan() || ms <= FIRST_BOUND_MS {
        return 0;
    }
    // Bound i is FIRST × 2^(i/2): i = ceil(2 · log2(ms / FIRST)); then fix rounding at edges.
    let mut i = (2.0 * (ms / FIRST_BOUND_MS).log2()).ceil().max(0.0) as usize;
    i = i.min(BUCKETS - 1);
    while i > 0 && ms <= upper_bound_ms(i - 1) {
        i -= 1;
    }
    while ms > upper_bound_ms(i) {
        i += 1;
    }
    i
}

/// Counts per bucket. Stored as a JSON array without its trailing zeros.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, sea_orm::FromJsonQueryResult)]
#[serde(transparent)]
pub struct Histogram(Vec<u64>);

impl Histogram {
    pub fn record_ms(&mut self, ms: f64) {
        let i = bucket_of(ms);
        if self.0.len() <= i {
            self.0.resize(i + 1, 0);
        }
        self.0[i] += 1;
    }

    /// Adds another histogram's counts.
    pub fn merge(&mut self, other: &Histogram) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (mine, theirs) in self.0.iter_mut().zip(&other.0) {
            *mine += theirs;
        }
    }

    pub fn count(&self) -> u64 {
        self.0.iter().sum()
    }

    /// The `q` quantile (0–1) in milliseconds; `None` when empty.
    pub fn percentile_ms(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = (q.clamp(0.0, 1.0) * total as f64).max(1.0);
        let mut below = 0u64;
        for (i, &n) in self.0.iter().enumerate() {
            if n == 0 {
                continue;
            }
            if (below + n) as f64 >= rank {
                let (low, high) = (lower_bound_ms(i), upper_bound_ms(i));
                if high.is_infinite() {
                    return Some(low);
                }
                let within = (rank - below as f64) / n as f64;
                return Some(low + (high - low) * within);
            }
            below += n;
        }
        None
    }

    /// The counts, trailing zeros trimmed.
    pub fn counts(&self) -> &[u64] {
        let end = self.0.iter().rposition(|n| *n > 0).map_or(0, |i| i + 1);
        &self.0[..end]
    }

    /// From stored counts (at most [`BUCKETS`] are kept; more would be a foreign format).
    pub fn from_counts(mut counts: Vec<u64>) -> Self {
        if counts.len() > BUCKETS {
            let extra: u64 = counts[BUCKETS..].iter().sum();
            counts.truncate(BUCKETS);
            counts[BUCKETS - 1] += extra;
        }
        Self(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_latency_falls_in_the_bucket_whose_bounds_hold_it() {
        for ms in [0.0, 0.1, 0.25, 0.26, 1.0, 3.0, 10.0, 99.9, 100.0, 1234.5, 60_000.0, 1e9] {
            let i = bucket_of(ms);
            assert!(ms <= upper_bound_ms(i), "{ms} above bucket {i}");
            assert!(i == 0 || ms > upper_bound_ms(i - 1), "{ms} belongs below bucket {i}");
        }
        assert_eq!(bucket_of(1e12), BUCKETS - 1);
    }

    #[test]
    fn percentiles_are_within_a_bucket_of_the_truth() {
        let mut h = Histogram::default();
        for ms in 1..=1000 {
            h.record_ms(ms as f64);
        }
        for (q, truth) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let p = h.percentile_ms(q).unwrap();
            assert!((p - truth).abs() / truth < 0.2, "p{q} = {p}, truth {truth}");
        }
        assert_eq!(Histogram::default().percentile_ms(0.5), None);
    }

    #[test]
    fn merged_minutes_give_the_percentiles_of_all_their_calls() {
        // One fast minute and one slow one: the merged p50 sits between, the p99 in the slow.
        let (mut fast, mut slow) = (Histogram::default(), Histogram::default());
        for _ in 0..90 {
            fast.record_ms(2.0);
        }
        for _ in 0..10 {
            slow.record_ms(800.0);
        }
        let mut all = fast.clone();
        all.merge(&slow);
        assert_eq!(all.count(), 100);
        let p50 = all.percentile_ms(0.5).unwrap();
        assert!((1.4..=2.9).contains(&p50), "{p50}");
        let p99 = all.percentile_ms(0.99).unwrap();
        assert!((560.0..=1140.0).contains(&p99), "{p99}");
    }

    #[test]
    fn stored_counts_round_trip_without_trailing_zeros() {
        let mut h = Histogram::default();
        h.record_ms(1.0);
        let json = serde_json::to_string(&Histogram::from_counts(h.counts().to_vec())).unwrap();
        let back: Histogram = serde_json::from_str(&json).unwrap();
        assert_eq!(back.count(), 1);
        assert_eq!(back.counts(), h.counts());
        assert_eq!(Histogram::from_counts(vec![1; BUCKETS + 3]).count(), (BUCKETS + 3) as u64);
    }
}

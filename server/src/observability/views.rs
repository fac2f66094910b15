//! Rollup rows into chart views: a window's steps (the current one included, empty ones
//! too), counts added up per step, percentiles from the step's merged histogram.
use crate::histogram::Histogram;
use app::types::observability::{DropSeries, NodePoint, RequestTotals, SeriesPoint, Window};
use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeMap;

/// The steps of a window ending with the step `now` is in.
#[derive(Clone, Copy, Debug)]
pub struct Steps {
    /// The first step's start, unix seconds.
    pub start: i64,
    pub step: i64,
    pub count: usize,
}

impl Steps {
    pub fn of(window: Window, now: DateTime<Utc>) -> Self {
        let step = i64::from(window.step_secs());
        let count = (window.span_secs() / window.step_secs()) as usize;
        let end = (now.timestamp().div_euclid(step) + 1) * step;
        Self { start: end - step * count as i64, step, count }
    }

    pub fn since(&self) -> DateTime<Utc> {
        at(self.start)
    }

    /// The step `at` falls in, if in the window.
    pub fn index(&self, at: DateTime<Utc>) -> Option<usize> {
        let offset = at.timestamp() - self.start;
        let i = usize::try_from(offset.div_euclid(self.step)).ok()?;
        (offset >= 0 && i < self.count).then_some(i)
    }

    pub fn starts(&self) -> Vec<DateTime<Utc>> {
        (0..self.count).map(|i| at(self.start + self.step * i as i64)).collect()
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// Requests in one step (or a whole window).
#[derive(Clone, Debug, Default)]
pub struct Tally {
    pub requests: u64,
    pub errors: u64,
    pub latency: Histogram,
    pub forwarded: u64,
    pub drops: u64,
}

impl Tally {
    pub fn add(&mut self, requests: i64, errors: i64, latency: &Histogram) {
        self.requests += u64::try_from(requests).unwrap_or(0);
        self.errors += u64::try_from(errors).unwrap_or(0);
        self.latency.merge(latency);
    }

    fn percentiles(&self) -> [Option<f64>; 3] {
        [0.5, 0.95, 0.99].map(|q| self.latency.percentile_ms(q).map(round))
    }

    pub fn point(&self, at: DateTime<Utc>) -> SeriesPoint {
        let [p50_ms, p95_ms, p99_ms] = self.percentiles();
        SeriesPoint { at, requests: self.requests, errors: self.errors, p50_ms, p95_ms, p99_ms }
    }

    pub fn node_point(&self, at: DateTime<Utc>) -> NodePoint {
        let [p50_ms, p95_ms, p99_ms] = self.percentiles();
        NodePoint {
            at,
            requests: self.requests,
            errors: self.errors,
            forwarded: self.forwarded,
            drops: self.drops,
            p50_ms,
            p95_ms,
            p99_ms,
        }
    }

    pub fn totals(&self) -> RequestTotals {
        let [p50_ms, p95_ms, p99_ms] = self.percentiles();
        let error_rate = if self.requests == 0 { 0.0 } else { self.errors as f64 / self.requests as f64 };
        RequestTotals { requests: self.requests, errors: self.errors, error_rate, p50_ms, p95_ms, p99_ms }
    }
}

/// Milliseconds to three decimals (a bucket's precision is far coarser).
fn round(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

/// Drop counts per reason and step, most drops first.
#[derive(Default)]
pub struct DropTable(BTreeMap<String, Vec<u64>>);

impl DropTable {
    pub fn add(&mut self, steps: &Steps, step: usize, reason: &str, count: u64) {
        let counts = self.0.entry(reason.to_owned()).or_insert_with(|| vec![0; steps.count]);
        counts[step] += count;
    }

    pub fn series(self) -> Vec<DropSeries> {
        let mut series: Vec<DropSeries> = self
            .0
            .into_iter()
            .map(|(reason, counts)| DropSeries { reason, total: counts.iter().sum(), counts })
            .collect();
        series.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.reason.cmp(&b.reason)));
        series
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_ends_with_the_current_step_and_has_them_all() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 13, 45, 30).unwrap();
        let steps = Steps::of(Window::Hour, now);
        assert_eq!(steps.count, 60);
        assert_eq!(
            steps.starts().last().copied(),
            Some(Utc.with_ymd_and_hms(2026, 11, 27, 13, 45, 0).unwrap())
        );
        assert_eq!(steps.index(now), Some(59));
        assert_eq!(steps.index(now - chrono::Duration::hours(2)), None);
        let week = Steps::of(Window::Week, now);
        assert_eq!((week.count, week.step), (168, 3600));
    }

    #[test]
    fn drops_come_most_first_with_their_steps() {
        let steps = Steps { start: 0, step: 60, count: 3 };
        let mut table = DropTable::default();
        table.add(&steps, 0, "no_route", 1);
        table.add(&steps, 2, "backpressure", 5);
        let series = table.series();
        assert_eq!(series[0].reason, "backpressure");
        assert_eq!(series[0].counts, [0, 0, 5]);
        assert_eq!(series[1].total, 1);
    }
}
